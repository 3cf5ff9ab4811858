"""The object names and accessible names that outside tests rely on."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QAbstractItemView, QWidget
from pytestqt.qtbot import QtBot

from tests.gui_helpers import look_up, open_confirmation
from vaultgui.demo import DEMO_PASSWORD, DEMO_USERNAME, DemoVault
from vaultgui.services.address import parse_vault_address
from vaultgui.services.client import VaultClient
from vaultgui.ui.login_dialog import LoginDialog
from vaultgui.ui.main_window import MainWindow

LOGIN_NAMES = [
    "vaultEdit",
    "usernameEdit",
    "passwordEdit",
    "signInButton",
    "loginMessageLabel",
]
MAIN_NAMES = [
    "submissionEdit",
    "lookupButton",
    "submissionNameLabel",
    "submissionIdLabel",
    "archiveStatusLabel",
    "consequenceLabel",
    "cancelImportButton",
    "lookupMessageLabel",
    "stopButton",
    "outcomeLabel",
    "historyTable",
]
CONFIRM_NAMES = ["confirmConsequenceLabel", "confirmCancelButton", "keepRunningButton"]


@pytest.fixture
def main_window(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, demo_vault: DemoVault
) -> Iterator[MainWindow]:
    client = VaultClient(parse_vault_address(demo_vault.address))
    window = MainWindow(client, client.sign_in(DEMO_USERNAME, DEMO_PASSWORD), None)
    qtbot.addWidget(window)
    window.show()
    yield window
    client.close()


def named_child(parent: QWidget, name: str) -> QWidget:
    widget = parent.findChild(QWidget, name)
    assert widget is not None, f"no widget named {name}"
    return widget


def test_login_dialog_names(qtbot: QtBot, qloop: asyncio.AbstractEventLoop) -> None:
    dialog = LoginDialog()
    qtbot.addWidget(dialog)

    assert dialog.objectName() == "loginDialog"
    assert dialog.accessibleName() == "loginDialog"
    for name in LOGIN_NAMES:
        assert named_child(dialog, name).accessibleName() == name


def test_main_window_names(main_window: MainWindow) -> None:
    assert main_window.objectName() == "mainWindow"
    assert main_window.accessibleName() == "mainWindow"
    for name in MAIN_NAMES:
        assert named_child(main_window, name).accessibleName() == name


def test_history_table_is_item_view(main_window: MainWindow) -> None:
    assert isinstance(named_child(main_window, "historyTable"), QAbstractItemView)


def test_confirmation_names(qtbot: QtBot, main_window: MainWindow) -> None:
    look_up(qtbot, main_window, "00S000000000101")
    dialog = open_confirmation(qtbot, main_window)

    assert dialog.objectName() == "confirmCancelDialog"
    for name in CONFIRM_NAMES:
        assert named_child(dialog, name).accessibleName() == name
    dialog.reject()


def test_about_shows_package_version(main_window: MainWindow) -> None:
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QMessageBox

    from vaultgui import __version__

    action = main_window.findChild(QAction, "aboutAction")
    assert action is not None
    action.trigger()

    box = main_window.findChild(QMessageBox, "aboutDialog")
    assert box is not None
    assert f"vaultgui {__version__}" in box.text()
    box.close()
