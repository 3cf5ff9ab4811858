"""The sign-in dialog, driven through its real widgets."""

from __future__ import annotations

import asyncio

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from tests.gui_helpers import WAIT_MS, child, label_text
from vaultgui.demo import DEMO_PASSWORD, DEMO_USERNAME, DemoVault
from vaultgui.ui.login_dialog import LoginDialog


def make_dialog(qtbot: QtBot, vault: str, username: str, password: str) -> LoginDialog:
    dialog = LoginDialog(vault=vault, username=username, password=password)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def press_sign_in(qtbot: QtBot, dialog: LoginDialog) -> None:
    qtbot.mouseClick(
        child(dialog, QPushButton, "signInButton"), Qt.MouseButton.LeftButton
    )
    qtbot.waitUntil(lambda: not dialog.busy_signing_in, timeout=WAIT_MS)


def test_sign_in_succeeds(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, demo_vault: DemoVault
) -> None:
    dialog = make_dialog(qtbot, demo_vault.address, DEMO_USERNAME, DEMO_PASSWORD)

    with qtbot.waitSignal(dialog.signed_in, timeout=WAIT_MS) as signal:
        qtbot.mouseClick(
            child(dialog, QPushButton, "signInButton"), Qt.MouseButton.LeftButton
        )
    client, session = signal.args
    assert session.vault_id == str(demo_vault.vault_id)
    assert client.signed_in
    client.sign_out()
    client.close()


@pytest.mark.parametrize(
    ("username", "password", "expected"),
    [
        (DEMO_USERNAME, "wrong", "The user name or password is not correct."),
        ("locked.user@demo-pharma.com", "x", "Your Vault account is locked."),
        ("inactive.user@demo-pharma.com", "x", "Your Vault account is inactive."),
        ("expired.password@demo-pharma.com", "x", "Vault requires a new password"),
    ],
)
def test_sign_in_rejected_message(
    qtbot: QtBot,
    qloop: asyncio.AbstractEventLoop,
    demo_vault: DemoVault,
    username: str,
    password: str,
    expected: str,
) -> None:
    dialog = make_dialog(qtbot, demo_vault.address, username, password)

    press_sign_in(qtbot, dialog)

    assert label_text(dialog, "loginMessageLabel").startswith(expected)
    assert dialog.isVisible()


def test_sign_in_to_other_vault_stops(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, demo_vault: DemoVault
) -> None:
    dialog = make_dialog(
        qtbot, demo_vault.address, "sandbox.only@demo-pharma.com", DEMO_PASSWORD
    )

    press_sign_in(qtbot, dialog)

    message = label_text(dialog, "loginMessageLabel")
    assert "different Vault (sandbox-demo-pharma.veevavault.com)" in message
    assert dialog.isVisible()


@pytest.mark.parametrize(
    ("vault", "username", "password", "expected"),
    [
        ("", DEMO_USERNAME, "x", "Enter your Vault address"),
        ("http://vault.example.com:8080", DEMO_USERNAME, "x", "Plain http://"),
        ("https://vault.example.com/ui/", DEMO_USERNAME, "x", "without a path"),
        ("vault.example.com?x=1", DEMO_USERNAME, "x", "Remove the part after ?"),
        ("https://me@vault.example.com", DEMO_USERNAME, "x", "Remove the user name"),
        ("PLACEHOLDER", "", "x", "Enter your Vault user name."),
        ("PLACEHOLDER", DEMO_USERNAME, "", "Enter your password."),
    ],
)
def test_invalid_input_sends_nothing(
    qtbot: QtBot,
    qloop: asyncio.AbstractEventLoop,
    demo_vault: DemoVault,
    vault: str,
    username: str,
    password: str,
    expected: str,
) -> None:
    vault = demo_vault.address if vault == "PLACEHOLDER" else vault
    dialog = make_dialog(qtbot, vault, username, password)

    press_sign_in(qtbot, dialog)

    assert expected in label_text(dialog, "loginMessageLabel")
    assert demo_vault.requests == []


def test_refused_connection_message(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, demo_vault: DemoVault
) -> None:
    address = demo_vault.address
    demo_vault.stop()
    dialog = make_dialog(qtbot, address, DEMO_USERNAME, DEMO_PASSWORD)

    press_sign_in(qtbot, dialog)

    assert label_text(dialog, "loginMessageLabel").startswith("Could not connect to")
    assert child(dialog, QPushButton, "signInButton").isEnabled()


def test_failed_sign_in_selects_password(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, demo_vault: DemoVault
) -> None:
    dialog = make_dialog(qtbot, demo_vault.address, DEMO_USERNAME, "wrong")

    press_sign_in(qtbot, dialog)

    assert dialog.password_edit.hasSelectedText()


def test_saved_password_filled_on_open(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, demo_vault: DemoVault
) -> None:
    import keyring

    from tests.memory_keyring import MemoryKeyring
    from vaultgui.services.credentials import store_password

    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    try:
        store_password(demo_vault.address, DEMO_USERNAME, DEMO_PASSWORD)
        dialog = make_dialog(qtbot, demo_vault.address, DEMO_USERNAME, "")

        qtbot.waitUntil(lambda: dialog.password_edit.text() != "", timeout=WAIT_MS)

        assert dialog.password_edit.text() == DEMO_PASSWORD
        assert dialog.remember_check.isChecked()
    finally:
        keyring.set_keyring(previous)
