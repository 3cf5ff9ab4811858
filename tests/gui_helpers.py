"""Helpers that drive the real widgets the way a user would."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from vaultgui.ui.confirm_dialog import ConfirmCancelDialog
from vaultgui.ui.main_window import MainWindow

WAIT_MS = 10_000


def child(parent: QWidget, cls: type, name: str):  # type: ignore[no-untyped-def]
    """Return the child widget with ``name``; fail the test when it is missing."""
    widget = parent.findChild(cls, name)
    assert widget is not None, f"no {cls.__name__} named {name}"
    return widget


def label_text(parent: QWidget, name: str) -> str:
    """Return the text of the label ``name``."""
    return child(parent, QLabel, name).text()


def wait_idle(qtbot: QtBot, window: MainWindow) -> None:
    """Wait until no call is in flight in ``window``."""
    qtbot.waitUntil(lambda: not window.busy_with_call, timeout=WAIT_MS)


def look_up(qtbot: QtBot, window: MainWindow, text: str) -> None:
    """Type ``text`` in the lookup field, press Look up and wait for the result."""
    edit = window.findChild(QWidget, "submissionEdit")
    edit.clear()  # type: ignore[attr-defined]
    qtbot.keyClicks(edit, text)
    qtbot.mouseClick(
        child(window, QPushButton, "lookupButton"), Qt.MouseButton.LeftButton
    )
    wait_idle(qtbot, window)


def open_confirmation(qtbot: QtBot, window: MainWindow) -> ConfirmCancelDialog:
    """Press the cancel button and return the confirmation once it shows."""
    qtbot.mouseClick(
        child(window, QPushButton, "cancelImportButton"), Qt.MouseButton.LeftButton
    )
    qtbot.waitUntil(lambda: visible_confirmation() is not None, timeout=WAIT_MS)
    dialog = visible_confirmation()
    assert dialog is not None
    return dialog


def visible_confirmation() -> ConfirmCancelDialog | None:
    """Return the confirmation dialog on screen, if any."""
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, ConfirmCancelDialog) and widget.isVisible():
            return widget
    return None


def confirm_cancel(qtbot: QtBot, window: MainWindow) -> None:
    """Press cancel, confirm, and wait until the cancel has finished."""
    dialog = open_confirmation(qtbot, window)
    qtbot.mouseClick(
        child(dialog, QPushButton, "confirmCancelButton"), Qt.MouseButton.LeftButton
    )
    qtbot.waitUntil(lambda: window.busy_with_call, timeout=WAIT_MS)
    wait_idle(qtbot, window)
