"""The app controller: settings at sign-in, recent Vaults, unfinished cancels."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from tests.gui_helpers import WAIT_MS
from vaultgui.demo import DEMO_PASSWORD, DEMO_USERNAME, DemoVault
from vaultgui.services.address import parse_vault_address
from vaultgui.services.history import Action, HistoryEntry, Outcome
from vaultgui.services.paths import app_paths
from vaultgui.ui.controller import AppController, Prefill


@pytest.fixture
def controller(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop
) -> Iterator[AppController]:
    app_controller = AppController(Prefill(), app_paths())
    qtbot.waitUntil(lambda: app_controller.history is not None, timeout=WAIT_MS)
    yield app_controller
    for widget in QApplication.topLevelWidgets():
        widget.close()
    if app_controller.history is not None:
        app_controller.history.close()


def write_user_settings(text: str) -> None:
    path = app_paths().settings_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def sign_in(qtbot: QtBot, controller: AppController, vault: DemoVault) -> None:
    controller.show_login(Prefill(vault.address, DEMO_USERNAME, DEMO_PASSWORD))
    dialog = controller.login_dialog
    assert dialog is not None
    dialog.sign_in_button.click()
    qtbot.waitUntil(lambda: controller.main_window is not None, timeout=WAIT_MS)


def test_default_profile_prefills_sign_in(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop
) -> None:
    write_user_settings(
        'default_profile = "Prod"\n'
        "[[profiles]]\n"
        'name = "Prod"\n'
        'address = "acme-rim.veevavault.com"\n'
        'username = "pat@acme.example"\n'
    )
    controller = AppController(Prefill(), app_paths())
    qtbot.waitUntil(lambda: controller.history is not None, timeout=WAIT_MS)
    controller.start()
    dialog = controller.login_dialog
    assert dialog is not None

    assert dialog.vault_edit.text() == "https://acme-rim.veevavault.com"
    assert dialog.username_edit.text() == "pat@acme.example"
    dialog.close()
    if controller.history is not None:
        controller.history.close()


def test_settings_reach_client(controller: AppController) -> None:
    controller.settings = controller.settings.with_value("network.read_timeout", 42.0)
    controller.settings = controller.settings.with_value("api_version", "v24.3")

    client = controller.make_client(parse_vault_address("acme.veevavault.com"))

    assert client.api_version == "v24.3"


def test_sign_in_remembers_vault(
    qtbot: QtBot, controller: AppController, demo_vault: DemoVault
) -> None:
    sign_in(qtbot, controller, demo_vault)

    qtbot.waitUntil(lambda: bool(controller.settings.recent_vaults), timeout=WAIT_MS)
    recent = controller.settings.recent_vaults[0]
    assert recent.address == demo_vault.address
    assert recent.username == DEMO_USERNAME
    assert DEMO_PASSWORD not in app_paths().settings_file.read_text(encoding="utf-8")


def test_pending_cancel_checked_after_sign_in(
    qtbot: QtBot, controller: AppController, demo_vault: DemoVault
) -> None:
    history = controller.history
    assert history is not None
    netloc = parse_vault_address(demo_vault.address).netloc
    row_id = history.begin_cancel(
        HistoryEntry(
            id=None,
            time_utc=datetime.now(UTC),
            os_user="tester",
            vault_dns=netloc,
            vault_username=DEMO_USERNAME,
            action=Action.CANCEL,
            submission_id="00S000000000107",
            submission_name="0007 - CMC Variation",
            status_before="IMPORT_IN_PROGRESS",
        )
    )

    sign_in(qtbot, controller, demo_vault)
    qtbot.waitUntil(lambda: pending_box() is not None, timeout=WAIT_MS)
    box = pending_box()
    assert box is not None
    check = next(b for b in box.findChildren(QPushButton) if b.text() == "Check now")
    check.click()
    qtbot.waitUntil(lambda: not history.pending(), timeout=WAIT_MS)

    row = next(entry for entry in history.recent() if entry.id == row_id)
    assert row.outcome is Outcome.UNKNOWN
    assert row.status_after == "ERROR"
    assert demo_vault.cancel_count() == 0


def pending_box() -> QMessageBox | None:
    for widget in QApplication.topLevelWidgets():
        if widget.objectName() == "pendingCancelsDialog" and widget.isVisible():
            assert isinstance(widget, QMessageBox)
            return widget
    return None


def test_damaged_settings_reported_once(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop
) -> None:
    write_user_settings("profiles = [ this is not TOML")
    controller = AppController(Prefill(), app_paths())
    qtbot.waitUntil(lambda: controller.history is not None, timeout=WAIT_MS)
    controller.start()

    notice = next(
        w
        for w in QApplication.topLevelWidgets()
        if w.objectName() == "startupNoticeDialog"
    )
    assert isinstance(notice, QMessageBox)
    assert "settings file could not be read" in notice.text()
    for widget in QApplication.topLevelWidgets():
        widget.close()
    if controller.history is not None:
        controller.history.close()


def test_diagnostic_summary_copied(
    qtbot: QtBot, controller: AppController, demo_vault: DemoVault
) -> None:
    from PySide6.QtGui import QAction, QGuiApplication

    sign_in(qtbot, controller, demo_vault)
    window = controller.main_window
    assert window is not None
    action = window.findChild(QAction, "copyDiagnosticsAction")
    assert action is not None

    action.trigger()

    text = QGuiApplication.clipboard().text()
    assert "vaultgui" in text
    assert DEMO_PASSWORD not in text


def test_check_connection_from_sign_in(
    qtbot: QtBot, controller: AppController, demo_vault: DemoVault
) -> None:
    controller.show_login(Prefill(demo_vault.address, DEMO_USERNAME, ""))
    dialog = controller.login_dialog
    assert dialog is not None

    dialog.check_button.click()

    def report() -> str:
        for widget in QApplication.topLevelWidgets():
            check = widget.findChild(QWidget, "connectionReportText")
            if widget.objectName() == "connectionCheckDialog" and check is not None:
                return check.toPlainText()  # type: ignore[attr-defined]
        return ""

    qtbot.waitUntil(lambda: "GET /api/" in report(), timeout=WAIT_MS)
    assert "127.0.0.1" in report()


def test_dark_appearance_applied(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop
) -> None:
    from PySide6.QtGui import QPalette

    write_user_settings('appearance = "dark"\n')
    controller = AppController(Prefill(), app_paths())
    qtbot.waitUntil(lambda: controller.history is not None, timeout=WAIT_MS)
    window_color = QApplication.palette().color(QPalette.ColorRole.Window)

    assert window_color.lightness() < 100
    assert controller.appearance is not None
    controller.appearance.apply("system")
    restored = QApplication.palette().color(QPalette.ColorRole.Window)
    assert restored.lightness() > 100
    if controller.history is not None:
        controller.history.close()


def test_settings_dialog_opens_again(
    qtbot: QtBot, controller: AppController, demo_vault: DemoVault
) -> None:
    controller.show_login(Prefill(demo_vault.address, DEMO_USERNAME, ""))
    dialog = controller.login_dialog
    assert dialog is not None

    controller.open_settings(dialog)
    first = controller.settings_dialog
    assert first is not None
    first.reject()
    qtbot.waitUntil(lambda: controller.settings_dialog is None, timeout=WAIT_MS)
    controller.open_settings(dialog)

    second = controller.settings_dialog
    assert second is not None
    assert second.isVisible()
    second.reject()


def test_pending_cancel_warns_before_another(
    qtbot: QtBot, controller: AppController, demo_vault: DemoVault
) -> None:
    from tests.gui_helpers import label_text, look_up, open_confirmation

    history = controller.history
    assert history is not None
    history.begin_cancel(
        HistoryEntry(
            id=None,
            time_utc=datetime.now(UTC),
            os_user="tester",
            vault_dns=parse_vault_address(demo_vault.address).netloc,
            vault_username=DEMO_USERNAME,
            action=Action.CANCEL,
            submission_id="00S000000000102",
            status_before="IMPORT_IN_QUEUE",
        )
    )
    sign_in(qtbot, controller, demo_vault)
    qtbot.waitUntil(lambda: pending_box() is not None, timeout=WAIT_MS)
    box = pending_box()
    assert box is not None
    next(b for b in box.findChildren(QPushButton) if b.text() == "Check now").click()
    qtbot.waitUntil(lambda: not history.pending(), timeout=WAIT_MS)
    window = controller.main_window
    assert window is not None

    look_up(qtbot, window, "00S000000000102")
    confirmation = open_confirmation(qtbot, window)

    assert "already sent" in label_text(confirmation, "earlierCancelWarningLabel")
    confirmation.reject()


def test_damaged_history_reported(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop
) -> None:
    database = app_paths().history_db
    database.parent.mkdir(parents=True, exist_ok=True)
    database.write_bytes(b"not a database" * 100)
    controller = AppController(Prefill(), app_paths())
    controller.start()

    def notice_text() -> str:
        for widget in QApplication.topLevelWidgets():
            if widget.objectName() == "startupNoticeDialog" and widget.isVisible():
                assert isinstance(widget, QMessageBox)
                return widget.text()
        return ""

    qtbot.waitUntil(
        lambda: "history file was damaged" in notice_text(), timeout=WAIT_MS
    )
    assert controller.history is not None
    assert controller.history.count() == 0
    for widget in QApplication.topLevelWidgets():
        widget.close()
    controller.history.close()
