"""The look-up and cancel flow, driven through the real main window."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QListWidget,
    QMessageBox,
    QPushButton,
)
from pytestqt.qtbot import QtBot

from tests.gui_helpers import (
    WAIT_MS,
    child,
    confirm_cancel,
    label_text,
    look_up,
    open_confirmation,
    wait_idle,
)
from vaultgui.demo import DemoVault
from vaultgui.services.history import Action, HistoryStore, Outcome
from vaultgui.ui.main_window import MainWindow


def cancel_button(window: MainWindow) -> QPushButton:
    return child(window, QPushButton, "cancelImportButton")


@pytest.mark.parametrize(
    ("submission_id", "status_after"),
    [
        ("00S000000000101", "Error (ERROR)"),
        ("00S000000000102", "No archive status"),
        ("00S000000000103", "Error (ERROR)"),
        ("00S000000000104", "Error (ERROR)"),
    ],
)
def test_cancel_each_cancellable_status(
    qtbot: QtBot,
    window: MainWindow,
    demo_vault: DemoVault,
    history: HistoryStore,
    submission_id: str,
    status_after: str,
) -> None:
    look_up(qtbot, window, submission_id)
    assert cancel_button(window).isEnabled()

    confirm_cancel(qtbot, window)

    assert demo_vault.cancel_count(submission_id) == 1
    assert label_text(window, "archiveStatusLabel") == status_after
    outcome = label_text(window, "outcomeLabel")
    assert outcome.startswith("Vault accepted the cancel.")
    assert "That is what Vault's documentation says" in outcome
    assert not cancel_button(window).isEnabled()
    cancel_rows = [e for e in history.recent() if e.action is Action.CANCEL]
    assert len(cancel_rows) == 1
    assert cancel_rows[0].outcome is Outcome.SUCCEEDED
    assert cancel_rows[0].status_after == demo_vault.get_status(submission_id)


def test_cancel_in_progress_advises_removal(qtbot: QtBot, window: MainWindow) -> None:
    look_up(qtbot, window, "00S000000000101")
    confirm_cancel(qtbot, window)

    assert "Remove the submission from the archive" in label_text(
        window, "outcomeLabel"
    )


@pytest.mark.parametrize(
    ("submission_id", "status_text"),
    [
        ("00S000000000105", "Imported (IMPORT_SUCCEEDED)"),
        ("00S000000000106", "No archive status"),
        ("00S000000000107", "Error (ERROR)"),
        ("00S000000000109", "Unknown status (IMPORT_PAUSED)"),
    ],
)
def test_not_cancellable_status_disables_cancel(
    qtbot: QtBot,
    window: MainWindow,
    demo_vault: DemoVault,
    submission_id: str,
    status_text: str,
) -> None:
    look_up(qtbot, window, submission_id)

    assert label_text(window, "archiveStatusLabel") == status_text
    assert not cancel_button(window).isEnabled()
    assert label_text(window, "consequenceLabel").startswith(
        "Cancelling is not possible."
    )
    qtbot.mouseClick(cancel_button(window), Qt.MouseButton.LeftButton)
    assert demo_vault.cancel_count() == 0


def test_status_change_before_sending_stops(
    qtbot: QtBot, window: MainWindow, demo_vault: DemoVault, history: HistoryStore
) -> None:
    look_up(qtbot, window, "00S000000000101")
    dialog = open_confirmation(qtbot, window)
    demo_vault.set_status("00S000000000101", "IMPORT_SUCCEEDED")

    qtbot.mouseClick(
        child(dialog, QPushButton, "confirmCancelButton"), Qt.MouseButton.LeftButton
    )
    qtbot.waitUntil(
        lambda: "Nothing was sent" in label_text(window, "outcomeLabel"),
        timeout=WAIT_MS,
    )
    wait_idle(qtbot, window)

    assert demo_vault.cancel_count() == 0
    assert label_text(window, "archiveStatusLabel") == "Imported (IMPORT_SUCCEEDED)"
    assert not cancel_button(window).isEnabled()
    assert history.recent()[0].outcome is Outcome.NOT_SENT


def test_keep_running_sends_nothing(
    qtbot: QtBot, window: MainWindow, demo_vault: DemoVault
) -> None:
    look_up(qtbot, window, "00S000000000101")
    dialog = open_confirmation(qtbot, window)

    qtbot.mouseClick(
        child(dialog, QPushButton, "keepRunningButton"), Qt.MouseButton.LeftButton
    )
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT_MS)

    assert demo_vault.cancel_count() == 0
    assert label_text(window, "archiveStatusLabel") == (
        "Import in progress (IMPORT_IN_PROGRESS)"
    )


def test_confirmation_repeats_consequence(
    qtbot: QtBot, window: MainWindow, demo_vault: DemoVault
) -> None:
    look_up(qtbot, window, "00S000000000103")
    dialog = open_confirmation(qtbot, window)
    text = label_text(dialog, "confirmConsequenceLabel")

    assert "0003 - Annual Report 2025" in text
    assert "00S000000000103" in text
    assert demo_vault.address.removeprefix("http://") in text
    assert "error state" in text
    dialog.reject()


def test_cancel_failure_reply_is_reported(
    qtbot: QtBot, window: MainWindow, demo_vault: DemoVault, history: HistoryStore
) -> None:
    look_up(qtbot, window, "00S000000000101")
    demo_vault.inject_fault(
        "cancel",
        "failure",
        error_type="OPERATION_NOT_ALLOWED",
        message="Submission cannot be cancelled now",
    )

    confirm_cancel(qtbot, window)

    assert demo_vault.cancel_count() == 1
    assert label_text(window, "outcomeLabel").startswith("Vault did not cancel.")
    details = label_text(window, "outcomeLabelDetails")
    assert "OPERATION_NOT_ALLOWED" in details
    assert "Vault execution id:" in details
    assert label_text(window, "archiveStatusLabel") == (
        "Import in progress (IMPORT_IN_PROGRESS)"
    )
    assert history.recent()[0].outcome is Outcome.REJECTED


def test_second_click_sends_one_cancel(
    qtbot: QtBot, window: MainWindow, demo_vault: DemoVault
) -> None:
    look_up(qtbot, window, "00S000000000101")
    demo_vault.inject_fault("cancel", "apply_then_stall", seconds=1.0)
    dialog = open_confirmation(qtbot, window)
    confirm = child(dialog, QPushButton, "confirmCancelButton")
    qtbot.mouseClick(confirm, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: demo_vault.cancel_count() == 1, timeout=WAIT_MS)

    assert not cancel_button(window).isEnabled()
    qtbot.mouseClick(cancel_button(window), Qt.MouseButton.LeftButton)
    window.ask_to_cancel()
    wait_idle(qtbot, window)
    assert demo_vault.cancel_count() == 1


def test_stop_during_cancel_reads_status(
    qtbot: QtBot, window: MainWindow, demo_vault: DemoVault, history: HistoryStore
) -> None:
    look_up(qtbot, window, "00S000000000101")
    demo_vault.inject_fault("cancel", "apply_then_stall", seconds=3.0)
    dialog = open_confirmation(qtbot, window)
    qtbot.mouseClick(
        child(dialog, QPushButton, "confirmCancelButton"), Qt.MouseButton.LeftButton
    )
    qtbot.waitUntil(lambda: demo_vault.cancel_count() == 1, timeout=WAIT_MS)
    stop = child(window, QPushButton, "stopButton")
    qtbot.waitUntil(stop.isVisible, timeout=WAIT_MS)

    qtbot.mouseClick(stop, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: "Vault now reports" in label_text(window, "outcomeLabel"),
        timeout=WAIT_MS,
    )

    assert label_text(window, "archiveStatusLabel") == "Error (ERROR)"
    assert demo_vault.cancel_count() == 1
    cancel_rows = [e for e in history.recent() if e.action is Action.CANCEL]
    assert cancel_rows[0].outcome is Outcome.ABANDONED


def test_unclear_cancel_reads_status(
    qtbot: QtBot, window: MainWindow, demo_vault: DemoVault, history: HistoryStore
) -> None:
    look_up(qtbot, window, "00S000000000102")
    demo_vault.inject_fault("cancel", "reset", apply=True)

    confirm_cancel(qtbot, window)

    outcome = label_text(window, "outcomeLabel")
    assert outcome.startswith("It is not clear whether the cancel reached Vault.")
    assert "Vault now reports: No archive status" in outcome
    assert demo_vault.cancel_count() == 1
    assert history.recent()[0].outcome is Outcome.UNKNOWN


def test_lookup_by_name_with_special_characters(
    qtbot: QtBot, window: MainWindow
) -> None:
    look_up(qtbot, window, "0008 - Sponsor's 100% Q3\\2025 Response")

    assert label_text(window, "submissionIdLabel") == "00S000000000108"
    assert label_text(window, "submissionNameLabel") == (
        "0008 - Sponsor's 100% Q3\\2025 Response"
    )


def test_lookup_shows_application(qtbot: QtBot, window: MainWindow) -> None:
    look_up(qtbot, window, "00S000000000101")

    qtbot.waitUntil(
        lambda: (
            "DP-101 Marketing Authorisation (EU)"
            in label_text(window, "applicationLabel")
        ),
        timeout=WAIT_MS,
    )


def test_duplicate_name_offers_choice(qtbot: QtBot, window: MainWindow) -> None:
    look_up(qtbot, window, "0010 - Amendment")
    matches = child(window, QListWidget, "matchList")

    assert matches.isVisible()
    assert matches.count() == 2
    qtbot.mouseClick(
        matches.viewport(),
        Qt.MouseButton.LeftButton,
        pos=matches.visualItemRect(matches.item(1)).center(),
    )
    assert label_text(window, "submissionIdLabel") == "00S000000000111"


def test_lookup_not_found_message(qtbot: QtBot, window: MainWindow) -> None:
    look_up(qtbot, window, "No such submission")

    assert label_text(window, "lookupMessageLabel").startswith(
        "No submission with the record ID or name"
    )
    assert not cancel_button(window).isEnabled()


def test_unknown_record_id_not_found(qtbot: QtBot, window: MainWindow) -> None:
    look_up(qtbot, window, "00S000000009999")

    assert label_text(window, "lookupMessageLabel").startswith("No submission")


def test_empty_lookup_sends_nothing(
    qtbot: QtBot, window: MainWindow, demo_vault: DemoVault
) -> None:
    demo_vault.clear_requests()
    qtbot.mouseClick(
        child(window, QPushButton, "lookupButton"), Qt.MouseButton.LeftButton
    )

    assert label_text(window, "lookupMessageLabel") == (
        "Enter a submission record ID or its exact name."
    )
    assert demo_vault.requests == []


@pytest.mark.parametrize(
    ("kind", "params", "expected"),
    [
        ("html", {}, "The reply did not come from Vault"),
        ("http_status", {"status": 502}, "reported a server error (HTTP 502)"),
        ("invalid_json", {}, "The reply did not come from Vault"),
        ("exception", {}, "Vault had an internal problem"),
    ],
)
def test_lookup_fault_then_next_action_works(
    qtbot: QtBot,
    window: MainWindow,
    demo_vault: DemoVault,
    kind: str,
    params: dict[str, object],
    expected: str,
) -> None:
    demo_vault.inject_fault("record", kind, **params)
    look_up(qtbot, window, "00S000000000101")
    assert expected in label_text(window, "lookupMessageLabel")

    look_up(qtbot, window, "00S000000000101")
    assert label_text(window, "submissionIdLabel") == "00S000000000101"


def test_history_table_shows_cancel(
    qtbot: QtBot, window: MainWindow, demo_vault: DemoVault
) -> None:
    look_up(qtbot, window, "00S000000000101")
    confirm_cancel(qtbot, window)
    table = child(window, QAbstractItemView, "historyTable")
    model = table.model()

    qtbot.waitUntil(lambda: model.rowCount() >= 2, timeout=WAIT_MS)
    ids = {model.index(row, 2).data() for row in range(model.rowCount())}
    assert "00S000000000101" in ids


def test_window_responds_during_slow_lookup(
    qtbot: QtBot, window: MainWindow, demo_vault: DemoVault
) -> None:
    from tests.responsiveness import LoopGapMeter

    demo_vault.inject_fault("record", "stall", seconds=1.0)
    with LoopGapMeter() as meter:
        look_up(qtbot, window, "00S000000000101")

    assert meter.largest_gap_ms < 250


def close_during_cancel(
    qtbot: QtBot, window: MainWindow, demo_vault: DemoVault
) -> QMessageBox:
    """Start a cancel whose reply stalls, close the window, return the question."""
    look_up(qtbot, window, "00S000000000101")
    demo_vault.inject_fault("cancel", "apply_then_stall", seconds=2.0)
    dialog = open_confirmation(qtbot, window)
    qtbot.mouseClick(
        child(dialog, QPushButton, "confirmCancelButton"), Qt.MouseButton.LeftButton
    )
    qtbot.waitUntil(lambda: demo_vault.cancel_count() == 1, timeout=WAIT_MS)

    window.close()

    def question() -> QMessageBox | None:
        for widget in QApplication.topLevelWidgets():
            visible = widget.isVisible() and isinstance(widget, QMessageBox)
            if widget.objectName() == "closeWhileCancellingDialog" and visible:
                return widget  # type: ignore[return-value]
        return None

    qtbot.waitUntil(lambda: question() is not None, timeout=WAIT_MS)
    box = question()
    assert box is not None
    return box


def test_close_during_cancel_asks_first(
    qtbot: QtBot, window: MainWindow, demo_vault: DemoVault
) -> None:
    box = close_during_cancel(qtbot, window, demo_vault)
    assert window.isVisible()

    keep = next(b for b in box.buttons() if b.text() == "Keep waiting")
    keep.click()
    wait_idle(qtbot, window)

    assert window.isVisible()
    assert label_text(window, "outcomeLabel").startswith("Vault accepted the cancel.")


def test_second_confirmation_opens(
    qtbot: QtBot, window: MainWindow, demo_vault: DemoVault
) -> None:
    look_up(qtbot, window, "00S000000000101")
    first = open_confirmation(qtbot, window)
    qtbot.mouseClick(
        child(first, QPushButton, "keepRunningButton"), Qt.MouseButton.LeftButton
    )
    qtbot.waitUntil(lambda: not first.isVisible(), timeout=WAIT_MS)

    second = open_confirmation(qtbot, window)

    assert second.isVisible()
    second.reject()


def test_stop_before_sending_says_nothing_sent(
    qtbot: QtBot, window: MainWindow, demo_vault: DemoVault
) -> None:
    look_up(qtbot, window, "00S000000000101")
    demo_vault.inject_fault("record", "stall", seconds=3.0)
    dialog = open_confirmation(qtbot, window)
    qtbot.mouseClick(
        child(dialog, QPushButton, "confirmCancelButton"), Qt.MouseButton.LeftButton
    )
    stop = child(window, QPushButton, "stopButton")
    qtbot.waitUntil(stop.isVisible, timeout=WAIT_MS)

    qtbot.mouseClick(stop, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, window)

    assert "Nothing was sent to Vault" in label_text(window, "outcomeLabel")
    assert demo_vault.cancel_count() == 0


def test_unclear_cancel_warns_before_another(
    qtbot: QtBot, window: MainWindow, demo_vault: DemoVault
) -> None:
    look_up(qtbot, window, "00S000000000102")
    demo_vault.inject_fault("cancel", "reset", apply=False)
    confirm_cancel(qtbot, window)
    assert cancel_button(window).isEnabled()

    dialog = open_confirmation(qtbot, window)

    warning = label_text(dialog, "earlierCancelWarningLabel")
    assert "already sent" in warning
    assert child(dialog, QPushButton, "confirmCancelButton").text() == (
        "Send another cancel"
    )
    dialog.reject()


def test_lower_case_record_id_found(qtbot: QtBot, window: MainWindow) -> None:
    look_up(qtbot, window, "00s000000000105")

    assert label_text(window, "submissionIdLabel") == "00S000000000105"


def test_failed_lookup_clears_panel(
    qtbot: QtBot, window: MainWindow, demo_vault: DemoVault, history: HistoryStore
) -> None:
    look_up(qtbot, window, "00S000000000101")
    demo_vault.inject_fault("record", "http_status", status=503)

    look_up(qtbot, window, "00S000000000102")

    assert label_text(window, "submissionIdLabel") == "—"
    assert not cancel_button(window).isEnabled()
    assert history.recent()[0].outcome is Outcome.FAILED


def test_close_question_defaults_to_waiting(
    qtbot: QtBot, window: MainWindow, demo_vault: DemoVault
) -> None:
    box = close_during_cancel(qtbot, window, demo_vault)

    assert box.defaultButton().text() == "Keep waiting"
    assert box.escapeButton() is box.defaultButton()
    box.defaultButton().click()
    wait_idle(qtbot, window)
    assert window.isVisible()


def test_huge_input_keeps_window_width(qtbot: QtBot, window: MainWindow) -> None:
    width = window.width()

    look_up(qtbot, window, "x" * 5000)

    assert label_text(window, "lookupMessageLabel").startswith("No submission")
    assert window.width() == width
