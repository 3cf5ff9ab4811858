"""Expired sessions and Vault throttling, through the real main window."""

from __future__ import annotations

from collections.abc import Iterator

import keyring
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QLineEdit, QPushButton
from pytestqt.qtbot import QtBot

from tests.gui_helpers import (
    WAIT_MS,
    child,
    label_text,
    look_up,
    open_confirmation,
    wait_idle,
)
from tests.memory_keyring import MemoryKeyring
from vaultgui.demo import DEMO_PASSWORD, DEMO_USERNAME, DemoVault
from vaultgui.services.credentials import store_password
from vaultgui.ui.main_window import MainWindow


@pytest.fixture
def saved_password(demo_vault: DemoVault) -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    store_password(demo_vault.address, DEMO_USERNAME, DEMO_PASSWORD)
    yield backend
    keyring.set_keyring(previous)


def reauth_dialog() -> QDialog | None:
    for widget in QApplication.topLevelWidgets():
        if widget.objectName() == "reauthDialog" and widget.isVisible():
            assert isinstance(widget, QDialog)
            return widget
    return None


def answer_reauth(qtbot: QtBot, password: str | None) -> None:
    qtbot.waitUntil(lambda: reauth_dialog() is not None, timeout=WAIT_MS)
    dialog = reauth_dialog()
    assert dialog is not None
    if password is None:
        dialog.reject()
        return
    edit = dialog.findChild(QLineEdit, "reauthPasswordEdit")
    assert edit is not None
    edit.setText(password)
    dialog.accept()


def test_expired_session_before_cancel(
    qtbot: QtBot, window: MainWindow, demo_vault: DemoVault
) -> None:
    look_up(qtbot, window, "00S000000000101")
    demo_vault.expire_sessions()
    dialog = open_confirmation(qtbot, window)
    qtbot.mouseClick(
        child(dialog, QPushButton, "confirmCancelButton"), Qt.MouseButton.LeftButton
    )

    answer_reauth(qtbot, DEMO_PASSWORD)
    qtbot.waitUntil(
        lambda: label_text(window, "outcomeLabel").startswith("Vault accepted"),
        timeout=WAIT_MS,
    )

    assert demo_vault.cancel_count() == 1
    assert label_text(window, "archiveStatusLabel") == "Error (ERROR)"


def test_expired_session_on_cancel_not_resent(
    qtbot: QtBot, window: MainWindow, demo_vault: DemoVault
) -> None:
    look_up(qtbot, window, "00S000000000101")
    demo_vault.inject_fault("cancel", "session_expired")
    dialog = open_confirmation(qtbot, window)
    qtbot.mouseClick(
        child(dialog, QPushButton, "confirmCancelButton"), Qt.MouseButton.LeftButton
    )

    answer_reauth(qtbot, DEMO_PASSWORD)
    qtbot.waitUntil(
        lambda: "session had ended" in label_text(window, "outcomeLabel"),
        timeout=WAIT_MS,
    )
    wait_idle(qtbot, window)

    assert demo_vault.cancel_count() == 1
    assert label_text(window, "archiveStatusLabel") == (
        "Import in progress (IMPORT_IN_PROGRESS)"
    )
    assert "Vault still reports" in label_text(window, "outcomeLabel")


def test_expired_session_lookup_declined(
    qtbot: QtBot, window: MainWindow, demo_vault: DemoVault
) -> None:
    demo_vault.expire_sessions()
    edit = window.submission_edit
    edit.setText("00S000000000105")
    window.lookup_button.click()

    answer_reauth(qtbot, None)
    wait_idle(qtbot, window)

    assert label_text(window, "lookupMessageLabel").startswith(
        "Your Vault session has ended."
    )


def test_saved_password_signs_in_silently(
    qtbot: QtBot,
    window: MainWindow,
    demo_vault: DemoVault,
    saved_password: MemoryKeyring,
) -> None:
    demo_vault.expire_sessions()

    look_up(qtbot, window, "00S000000000105")

    assert reauth_dialog() is None
    assert label_text(window, "submissionIdLabel") == "00S000000000105"
    auth_calls = [r for r in demo_vault.requests if r.path.endswith("/auth")]
    assert len(auth_calls) == 2


def test_throttling_shown_in_status_bar(
    qtbot: QtBot, window: MainWindow, demo_vault: DemoVault
) -> None:
    demo_vault.inject_fault("record", "throttle", delay_ms=300)

    look_up(qtbot, window, "00S000000000105")

    assert "slowing this app down (300 ms per call)" in label_text(
        window, "vaultLimitsLabel"
    )
