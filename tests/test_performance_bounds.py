"""Generous performance bounds that catch regressions; benchmarks/ has the figures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from benchmarks.forwarder import CountingForwarder, ForwardedDemoVault
from tests.gui_helpers import look_up
from tests.responsiveness import LoopGapMeter
from vaultgui.demo import DEMO_PASSWORD, DEMO_USERNAME, DemoVault
from vaultgui.services.address import parse_vault_address
from vaultgui.services.client import VaultClient
from vaultgui.ui.main_window import MainWindow

SUBMISSION_ID = "00S000000000101"
# Largest event-loop gap allowed while a call waits on Vault, in ms. The
# benchmark target is 30 ms; this bound leaves room for slow CI machines.
MAX_GAP_MS = 250
# A server that keeps connections open needs one for the whole flow; two
# allow one reconnect. A new requests.Session per call would open six.
MAX_CONNECTIONS = 2


@pytest.fixture
def forwarded_vault() -> Iterator[tuple[ForwardedDemoVault, CountingForwarder]]:
    vault = ForwardedDemoVault()
    vault.start()
    forwarder = CountingForwarder(("127.0.0.1", vault.port)).start()
    vault.public_address = forwarder.address
    try:
        yield vault, forwarder
    finally:
        forwarder.stop()
        vault.stop()


def test_stalled_lookup_keeps_loop_responsive(
    qtbot: QtBot, window: MainWindow, demo_vault: DemoVault
) -> None:
    demo_vault.inject_fault("record", "stall", seconds=1.0)

    with LoopGapMeter() as meter:
        look_up(qtbot, window, SUBMISSION_ID)

    assert meter.largest_gap_ms < MAX_GAP_MS


def test_flow_reuses_connection(
    forwarded_vault: tuple[ForwardedDemoVault, CountingForwarder],
) -> None:
    vault, forwarder = forwarded_vault
    client = VaultClient(parse_vault_address(forwarder.address))

    client.sign_in(DEMO_USERNAME, DEMO_PASSWORD)
    client.lookup(SUBMISSION_ID)
    client.cancel_import(SUBMISSION_ID)
    client.get_submission(SUBMISSION_ID)
    client.close()

    assert vault.get_status(SUBMISSION_ID) == "ERROR"
    assert forwarder.connections <= MAX_CONNECTIONS
