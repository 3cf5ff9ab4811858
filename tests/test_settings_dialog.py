"""GUI tests for the settings dialog, driven through its widgets with pytest-qt."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QWidget,
)
from pytestqt.qtbot import QtBot

from tests.memory_keyring import MemoryKeyring
from vaultgui.services.credentials import load_password, store_password
from vaultgui.services.paths import AppPaths
from vaultgui.services.settings import SettingsStore
from vaultgui.ui.settings_dialog import LOCKED_TEXT, SettingsDialog

SITE_FILE = """
locked = ["network.connect_timeout", "network.proxy_mode"]
[network]
connect_timeout = 15
[[profiles]]
name = "Production"
address = "acme-rim.veevavault.com"
production = true
"""


class UrlRecorder(QObject):
    """Receives the URLs QDesktopServices would open."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def record(self, url: QUrl) -> None:
        self.urls.append(url)


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def site_paths(paths: AppPaths) -> AppPaths:
    paths.site_config_dir.mkdir(parents=True)
    (paths.site_config_dir / "settings.toml").write_text(SITE_FILE, encoding="utf-8")
    return paths


def open_dialog(qtbot: QtBot, paths: AppPaths) -> SettingsDialog:
    store = SettingsStore(paths)
    settings, _report = store.load()
    dialog = SettingsDialog(store, settings)
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.waitExposed(dialog)
    return dialog


def child(dialog: QWidget, cls: type, name: str):  # type: ignore[no-untyped-def]
    widget = dialog.findChild(cls, name)
    assert widget is not None, f"no {cls.__name__} named {name}"
    return widget


def show_tab(dialog: SettingsDialog, widget: QWidget) -> None:
    for index in range(dialog.tabs.count()):
        if dialog.tabs.widget(index).isAncestorOf(widget):
            dialog.tabs.setCurrentIndex(index)


def type_into(qtbot: QtBot, dialog: SettingsDialog, name: str, text: str) -> None:
    edit = child(dialog, QLineEdit, name)
    show_tab(dialog, edit)
    edit.selectAll()
    qtbot.keyClicks(edit, text) if text else edit.clear()


def click(qtbot: QtBot, dialog: SettingsDialog, name: str) -> None:
    button = child(dialog, QPushButton, name)
    show_tab(dialog, button)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def saved_document(paths: AppPaths) -> dict[str, object]:
    return tomllib.loads(paths.settings_file.read_text(encoding="utf-8"))


# Names


def test_inputs_have_names(qtbot: QtBot, paths: AppPaths) -> None:
    dialog = open_dialog(qtbot, paths)
    inputs = [
        widget
        for cls in (QLineEdit, QComboBox, QCheckBox, QPushButton, QListWidget)
        for widget in dialog.findChildren(cls)
    ]
    assert len(inputs) > 20
    for widget in inputs:
        assert widget.objectName(), f"unnamed {type(widget).__name__}"
        assert widget.accessibleName() == widget.objectName()


@pytest.mark.parametrize(
    "name",
    [
        "connectTimeoutEdit",
        "readTimeoutEdit",
        "proxyUrlEdit",
        "extraCaFileEdit",
        "apiVersionEdit",
        "clientIdEdit",
        "profileNameEdit",
        "profileAddressEdit",
        "profileUsernameEdit",
    ],
)
def test_named_line_edit(qtbot: QtBot, paths: AppPaths, name: str) -> None:
    dialog = open_dialog(qtbot, paths)
    assert child(dialog, QLineEdit, name).accessibleName() == name


# Locked keys


def test_locked_timeout_read_only(qtbot: QtBot, site_paths: AppPaths) -> None:
    dialog = open_dialog(qtbot, site_paths)
    edit = child(dialog, QLineEdit, "connectTimeoutEdit")
    assert edit.isReadOnly()
    assert edit.text() == "15"


def test_locked_timeout_labelled(qtbot: QtBot, site_paths: AppPaths) -> None:
    dialog = open_dialog(qtbot, site_paths)
    label = child(dialog, QLabel, "connectTimeoutLockedLabel")
    show_tab(dialog, label)
    assert label.text() == LOCKED_TEXT
    assert label.isVisible()


def test_locked_proxy_mode_disabled(qtbot: QtBot, site_paths: AppPaths) -> None:
    dialog = open_dialog(qtbot, site_paths)
    assert not child(dialog, QComboBox, "proxyModeCombo").isEnabled()


def test_unlocked_timeout_editable(qtbot: QtBot, site_paths: AppPaths) -> None:
    dialog = open_dialog(qtbot, site_paths)
    assert not child(dialog, QLineEdit, "readTimeoutEdit").isReadOnly()
    assert child(dialog, QLabel, "readTimeoutLockedLabel").isHidden()


def test_site_profile_not_removable(qtbot: QtBot, site_paths: AppPaths) -> None:
    dialog = open_dialog(qtbot, site_paths)
    assert child(dialog, QListWidget, "profileList").currentItem().text() == (
        "Production (production)"
    )
    assert not child(dialog, QPushButton, "removeProfileButton").isEnabled()


def test_save_with_locks_keeps_site_values(qtbot: QtBot, site_paths: AppPaths) -> None:
    dialog = open_dialog(qtbot, site_paths)
    type_into(qtbot, dialog, "readTimeoutEdit", "45")
    click(qtbot, dialog, "saveSettingsButton")
    assert dialog.result() == SettingsDialog.DialogCode.Accepted
    assert saved_document(site_paths)["network"] == {"read_timeout": 45.0}


# Validation


def test_invalid_timeout_message(qtbot: QtBot, paths: AppPaths) -> None:
    dialog = open_dialog(qtbot, paths)
    type_into(qtbot, dialog, "connectTimeoutEdit", "500")
    click(qtbot, dialog, "saveSettingsButton")
    message = child(dialog, QLabel, "connectTimeoutMessage")
    assert "from 1 to 120" in message.text()
    assert message.isVisible()
    assert dialog.isVisible()
    assert not paths.settings_file.exists()


def test_timeout_not_a_number(qtbot: QtBot, paths: AppPaths) -> None:
    dialog = open_dialog(qtbot, paths)
    type_into(qtbot, dialog, "readTimeoutEdit", "slow")
    click(qtbot, dialog, "saveSettingsButton")
    message = child(dialog, QLabel, "readTimeoutMessage")
    assert "Enter a number of seconds" in message.text()
    assert dialog.isVisible()


def test_error_shows_its_tab(qtbot: QtBot, paths: AppPaths) -> None:
    dialog = open_dialog(qtbot, paths)
    type_into(qtbot, dialog, "connectTimeoutEdit", "0")
    dialog.tabs.setCurrentIndex(0)
    click(qtbot, dialog, "saveSettingsButton")
    assert dialog.tabs.currentWidget().isAncestorOf(
        child(dialog, QLineEdit, "connectTimeoutEdit")
    )


def test_message_cleared_after_fix(qtbot: QtBot, paths: AppPaths) -> None:
    dialog = open_dialog(qtbot, paths)
    type_into(qtbot, dialog, "connectTimeoutEdit", "500")
    click(qtbot, dialog, "saveSettingsButton")
    type_into(qtbot, dialog, "connectTimeoutEdit", "20")
    click(qtbot, dialog, "saveSettingsButton")
    assert child(dialog, QLabel, "connectTimeoutMessage").isHidden()
    assert saved_document(paths)["network"] == {"connect_timeout": 20.0}


def test_manual_proxy_needs_address(qtbot: QtBot, paths: AppPaths) -> None:
    dialog = open_dialog(qtbot, paths)
    combo = child(dialog, QComboBox, "proxyModeCombo")
    combo.setCurrentIndex(combo.findData("manual"))
    click(qtbot, dialog, "saveSettingsButton")
    assert "proxy" in child(dialog, QLabel, "proxyUrlMessage").text()
    assert dialog.isVisible()


def test_proxy_address_only_when_manual(qtbot: QtBot, paths: AppPaths) -> None:
    dialog = open_dialog(qtbot, paths)
    combo = child(dialog, QComboBox, "proxyModeCombo")
    edit = child(dialog, QLineEdit, "proxyUrlEdit")
    assert not edit.isEnabled()
    combo.setCurrentIndex(combo.findData("manual"))
    assert edit.isEnabled()


def test_missing_ca_file_message(qtbot: QtBot, paths: AppPaths, tmp_path: Path) -> None:
    dialog = open_dialog(qtbot, paths)
    type_into(qtbot, dialog, "extraCaFileEdit", str(tmp_path / "missing.pem"))
    click(qtbot, dialog, "saveSettingsButton")
    assert "No file was found" in child(dialog, QLabel, "extraCaFileMessage").text()


def test_invalid_profile_address_message(qtbot: QtBot, paths: AppPaths) -> None:
    dialog = open_dialog(qtbot, paths)
    click(qtbot, dialog, "addProfileButton")
    type_into(qtbot, dialog, "profileAddressEdit", "http://acme.veevavault.com")
    click(qtbot, dialog, "saveSettingsButton")
    message = child(dialog, QLabel, "profileAddressMessage")
    assert "https://" in message.text()
    assert message.isVisible()
    assert not paths.settings_file.exists()


# Saving


def test_save_writes_file(qtbot: QtBot, paths: AppPaths) -> None:
    dialog = open_dialog(qtbot, paths)
    type_into(qtbot, dialog, "readTimeoutEdit", "45")
    combo = child(dialog, QComboBox, "appearanceCombo")
    combo.setCurrentIndex(combo.findData("dark"))
    with qtbot.waitSignal(dialog.settings_saved) as saved:
        click(qtbot, dialog, "saveSettingsButton")
    document = saved_document(paths)
    assert document["network"] == {"read_timeout": 45.0}
    assert document["appearance"] == "dark"
    assert saved.args[0].network.read_timeout == 45.0
    assert not dialog.isVisible()


def test_new_profile_saved(qtbot: QtBot, paths: AppPaths) -> None:
    dialog = open_dialog(qtbot, paths)
    click(qtbot, dialog, "addProfileButton")
    type_into(qtbot, dialog, "profileNameEdit", "Sandbox")
    type_into(qtbot, dialog, "profileAddressEdit", "acme-sbx.veevavault.com")
    type_into(qtbot, dialog, "profileUsernameEdit", "ann@acme.com")
    child(dialog, QComboBox, "defaultProfileCombo").setCurrentIndex(1)
    click(qtbot, dialog, "saveSettingsButton")
    settings, _report = SettingsStore(paths).load()
    assert [(p.name, p.address, p.username) for p in settings.profiles] == [
        ("Sandbox", "https://acme-sbx.veevavault.com", "ann@acme.com")
    ]
    assert settings.default_profile == "Sandbox"


def test_save_failure_keeps_input(qtbot: QtBot, paths: AppPaths) -> None:
    dialog = open_dialog(qtbot, paths)
    # A file where the settings folder belongs makes the save fail, even for root.
    paths.config_dir.parent.mkdir(parents=True, exist_ok=True)
    paths.config_dir.write_text("not a folder", encoding="utf-8")
    type_into(qtbot, dialog, "readTimeoutEdit", "45")
    click(qtbot, dialog, "saveSettingsButton")
    assert (
        "Could not save the settings"
        in child(dialog, QLabel, "settingsMessageLabel").text()
    )
    assert dialog.isVisible()
    assert child(dialog, QLineEdit, "readTimeoutEdit").text() == "45"


def test_cancel_writes_nothing(qtbot: QtBot, paths: AppPaths) -> None:
    dialog = open_dialog(qtbot, paths)
    type_into(qtbot, dialog, "readTimeoutEdit", "45")
    click(qtbot, dialog, "cancelSettingsButton")
    assert not dialog.isVisible()
    assert not paths.settings_file.exists()


def test_remember_off_deletes_password(
    qtbot: QtBot, paths: AppPaths, memory_keyring: MemoryKeyring
) -> None:
    store = SettingsStore(paths)
    store.load()
    store.set_value(
        "profiles",
        [
            {
                "name": "P",
                "address": "acme.veevavault.com",
                "username": "ann",
                "remember_password": True,
            }
        ],
    )
    store_password("acme.veevavault.com", "ann", "s3cret")
    dialog = open_dialog(qtbot, paths)
    check = child(dialog, QCheckBox, "profileRememberPasswordCheck")
    assert check.isEnabled()
    check.setChecked(False)
    click(qtbot, dialog, "saveSettingsButton")
    assert load_password("acme.veevavault.com", "ann") is None


# Files tab


def test_open_config_folder(qtbot: QtBot, paths: AppPaths) -> None:
    recorder = UrlRecorder()
    QDesktopServices.setUrlHandler("file", recorder, "record")
    try:
        dialog = open_dialog(qtbot, paths)
        click(qtbot, dialog, "openConfigFolderButton")
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert [url.toLocalFile() for url in recorder.urls] == [str(paths.config_dir)]
    assert paths.config_dir.is_dir()


def test_folders_shown(qtbot: QtBot, paths: AppPaths) -> None:
    dialog = open_dialog(qtbot, paths)
    assert child(dialog, QLineEdit, "logFolderEdit").text() == str(paths.log_dir)
    assert child(dialog, QLineEdit, "dataFolderEdit").text() == str(paths.data_dir)


def test_ca_file_picker_fills_field(
    qtbot: QtBot, paths: AppPaths, tmp_path: Path
) -> None:
    ca_file = tmp_path / "company-ca.pem"
    ca_file.write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    dialog = open_dialog(qtbot, paths)
    click(qtbot, dialog, "extraCaFileBrowseButton")
    picker = child(dialog, QFileDialog, "extraCaFileDialog")
    assert picker.isVisible()
    picker.selectFile(str(ca_file))
    picker.accept()
    assert child(dialog, QLineEdit, "extraCaFileEdit").text() == str(ca_file)
    click(qtbot, dialog, "saveSettingsButton")
    assert saved_document(paths)["network"] == {"extra_ca_file": str(ca_file)}
