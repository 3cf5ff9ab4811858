"""Local simulator of the Veeva Vault REST API, for the demo mode and the tests."""

from vaultgui.demo.data import DEMO_PASSWORD, DEMO_USERNAME
from vaultgui.demo.server import DemoVault
from vaultgui.demo.wire import FAULT_PARAMS, FAULT_ROUTES, RecordedRequest

__all__ = [
    "DEMO_PASSWORD",
    "DEMO_USERNAME",
    "FAULT_PARAMS",
    "FAULT_ROUTES",
    "DemoVault",
    "RecordedRequest",
]
