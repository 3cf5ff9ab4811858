"""Each Vault or network fault during a cancel, seen through the real window.

For every fault the test checks what the user reads, that the window kept
responding while it waited, that Vault received at most one cancel, and the
history row the cancel left.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from pytestqt.qtbot import QtBot

from tests.gui_helpers import confirm_cancel, label_text, look_up
from tests.responsiveness import LoopGapMeter
from vaultgui.demo import DemoVault
from vaultgui.services.history import Action, HistoryStore, Outcome
from vaultgui.ui.main_window import MainWindow

# Largest event-loop gap accepted while a fault is being waited out, in ms.
MAX_GAP_MS = 100
SUBMISSION_ID = "00S000000000101"


@dataclass(frozen=True)
class Fault:
    """One fault on the cancel request and what the window must show for it."""

    kind: str
    params: dict[str, object] = field(default_factory=dict)
    message: str = ""
    outcome: Outcome = Outcome.UNKNOWN
    cancels: int = 1
    status: str = "Error (ERROR)"


FAULTS = {
    "read timeout": Fault(
        "stall",
        {"seconds": 3.0},
        "It is not clear whether the cancel reached Vault.",
        status="Import in progress (IMPORT_IN_PROGRESS)",
    ),
    "applied then stalled": Fault(
        "apply_then_stall",
        {"seconds": 3.0},
        "It is not clear whether the cancel reached Vault.",
    ),
    "reset after applying": Fault(
        "reset",
        {"apply": True},
        "It is not clear whether the cancel reached Vault.",
    ),
    "reset before applying": Fault(
        "reset",
        {"apply": False},
        "It is not clear whether the cancel reached Vault.",
        status="Import in progress (IMPORT_IN_PROGRESS)",
    ),
    "HTML page with 200": Fault(
        "html",
        {},
        "The reply did not come from Vault",
        status="Import in progress (IMPORT_IN_PROGRESS)",
    ),
    "HTTP 500": Fault(
        "http_status",
        {"status": 500},
        "reported a server error (HTTP 500)",
        status="Import in progress (IMPORT_IN_PROGRESS)",
    ),
    "HTTP 502": Fault(
        "http_status",
        {"status": 502},
        "reported a server error (HTTP 502)",
        status="Import in progress (IMPORT_IN_PROGRESS)",
    ),
    "HTTP 503": Fault(
        "http_status",
        {"status": 503},
        "reported a server error (HTTP 503)",
        status="Import in progress (IMPORT_IN_PROGRESS)",
    ),
    "invalid JSON": Fault("invalid_json", {}, "The reply did not come from Vault"),
    "truncated JSON": Fault("truncated_json", {}, "The reply did not come from Vault"),
    "EXCEPTION reply": Fault(
        "exception",
        {},
        "Vault had an internal problem",
        outcome=Outcome.REJECTED,
        status="Import in progress (IMPORT_IN_PROGRESS)",
    ),
    "FAILURE reply": Fault(
        "failure",
        {"error_type": "OPERATION_NOT_ALLOWED"},
        "Vault did not cancel.",
        outcome=Outcome.REJECTED,
        status="Import in progress (IMPORT_IN_PROGRESS)",
    ),
    "throttled": Fault(
        "throttle",
        {"delay_ms": 500},
        "Vault accepted the cancel.",
        outcome=Outcome.SUCCEEDED,
    ),
}


@pytest.fixture
def read_timeout() -> float:
    # Short, so a stalled reply ends in a read timeout within the test.
    return 1.5


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
def test_cancel_fault(
    qtbot: QtBot,
    window: MainWindow,
    demo_vault: DemoVault,
    history: HistoryStore,
    fault: Fault,
) -> None:
    look_up(qtbot, window, SUBMISSION_ID)
    demo_vault.inject_fault("cancel", fault.kind, **fault.params)

    with LoopGapMeter() as meter:
        confirm_cancel(qtbot, window)

    assert fault.message in label_text(window, "outcomeLabel")
    assert meter.largest_gap_ms < MAX_GAP_MS
    assert demo_vault.cancel_count() == fault.cancels
    rows = [row for row in history.recent() if row.action is Action.CANCEL]
    assert len(rows) == 1
    assert rows[0].outcome is fault.outcome
    assert label_text(window, "archiveStatusLabel") == fault.status
