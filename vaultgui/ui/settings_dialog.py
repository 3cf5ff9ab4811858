"""The settings dialog: profiles, network, appearance and the app's folders."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from vaultgui.services.credentials import (
    CredentialsError,
    delete_password,
    password_storage_available,
)
from vaultgui.services.paths import ensure_dir
from vaultgui.services.settings import (
    Profile,
    Settings,
    SettingsError,
    SettingsStore,
    SettingsValueError,
    make_profile,
)
from vaultgui.ui.widgets import MessageArea, set_names

log = logging.getLogger(__name__)

LOCKED_TEXT = "Set by your administrator"
_ERROR_STYLE = "color: #b3261e;"


class FieldRow(QWidget):
    """An input with its "set by your administrator" note and its error message.

    The message label is named after the input (``connectTimeoutEdit`` gets
    ``connectTimeoutMessage``), so tests and screen readers find it.
    """

    def __init__(
        self,
        editor: QWidget,
        parent: QWidget | None = None,
        extra: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.editor = editor
        self.extra = extra
        name = editor.objectName()
        base = name.removesuffix("Edit").removesuffix("Combo").removesuffix("Check")
        self.locked_label = QLabel(self.tr(LOCKED_TEXT), self)
        set_names(self.locked_label, f"{base}LockedLabel")
        self.locked_label.setStyleSheet("color: palette(mid);")
        self.locked_label.setVisible(False)
        self.message = QLabel(self)
        set_names(self.message, f"{base}Message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(_ERROR_STYLE)
        self.message.setVisible(False)

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(editor, 1)
        if extra is not None:
            row.addWidget(extra)
        row.addWidget(self.locked_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.message)

    def set_locked(self, locked: bool) -> None:
        """Make the input read-only and show the administrator note."""
        self.locked_label.setVisible(locked)
        if isinstance(self.editor, QLineEdit):
            self.editor.setReadOnly(locked)
        else:
            self.editor.setEnabled(not locked)
        if self.extra is not None:
            self.extra.setEnabled(not locked)
        if locked:
            self.editor.setToolTip(self.tr(LOCKED_TEXT))

    def show_error(self, text: str) -> None:
        """Show ``text`` under the input and move the keyboard focus to it."""
        self.message.setText(text)
        self.message.setVisible(bool(text))
        if text:
            self.editor.setFocus()

    def clear_error(self) -> None:
        """Hide the message."""
        self.show_error("")


def _line_edit(name: str, parent: QWidget, text: str = "") -> QLineEdit:
    edit = QLineEdit(text, parent)
    set_names(edit, name)
    return edit


def _combo(name: str, parent: QWidget, choices: list[tuple[str, str]]) -> QComboBox:
    combo = QComboBox(parent)
    set_names(combo, name)
    for value, label in choices:
        combo.addItem(label, value)
    return combo


def _select_data(combo: QComboBox, value: str) -> None:
    index = combo.findData(value)
    combo.setCurrentIndex(max(index, 0))


@dataclass
class _ProfileDraft:
    """The text of one profile as the user edits it, validated on save."""

    name: str
    address: str
    username: str = ""
    api_version: str = ""
    production: bool = False
    remember_password: bool = False
    from_site: bool = False

    @classmethod
    def of(cls, profile: Profile, from_site: bool) -> _ProfileDraft:
        return cls(
            name=profile.name,
            address=profile.address,
            username=profile.username,
            api_version=profile.api_version or "",
            production=profile.production,
            remember_password=profile.remember_password,
            from_site=from_site,
        )

    def validated(self) -> Profile:
        return make_profile(
            self.name,
            self.address,
            self.username,
            api_version=self.api_version.strip() or None,
            production=self.production,
            remember_password=self.remember_password,
        )


class ProfilesTab(QWidget):
    """The list of saved Vault sign-ins, an editor for one, and the default."""

    def __init__(
        self,
        settings: Settings,
        site_names: frozenset[str],
        storage: tuple[bool, str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.drafts = [
            _ProfileDraft.of(profile, profile.name in site_names)
            for profile in settings.profiles
        ]
        self._default: _ProfileDraft | None = next(
            (d for d in self.drafts if d.name == settings.default_profile), None
        )
        self._locked = "profiles" in settings.locked
        self._build(storage)
        self.default_row.set_locked("default_profile" in settings.locked)
        self._refresh_list(0 if self.drafts else -1)

    def _build(self, storage: tuple[bool, str]) -> None:
        self.profile_list = QListWidget(self)
        set_names(self.profile_list, "profileList")
        self.profile_list.currentRowChanged.connect(self._show_draft)
        self.add_button = QPushButton(self.tr("&Add"), self)
        set_names(self.add_button, "addProfileButton")
        self.add_button.clicked.connect(self.add_profile)
        self.remove_button = QPushButton(self.tr("&Remove"), self)
        set_names(self.remove_button, "removeProfileButton")
        self.remove_button.clicked.connect(self.remove_profile)
        self.locked_label = QLabel(self.tr(LOCKED_TEXT), self)
        set_names(self.locked_label, "profilesLockedLabel")
        self.locked_label.setVisible(self._locked)

        self.edits = {
            "name": _line_edit("profileNameEdit", self),
            "address": _line_edit("profileAddressEdit", self),
            "username": _line_edit("profileUsernameEdit", self),
            "api_version": _line_edit("profileApiVersionEdit", self),
        }
        self.edits["address"].setPlaceholderText("myvault.veevavault.com")
        self.edits["api_version"].setPlaceholderText(
            self.tr("Empty: the version on the Network tab")
        )
        self.rows = {key: FieldRow(edit, self) for key, edit in self.edits.items()}
        for key, edit in self.edits.items():
            edit.textEdited.connect(lambda text, key=key: self._edit_draft(key, text))
        self.production_check = QCheckBox(self.tr("Pro&duction Vault"), self)
        set_names(self.production_check, "profileProductionCheck")
        self.production_check.toggled.connect(
            lambda checked: self._edit_draft("production", checked)
        )
        self.remember_check = QCheckBox(self.tr("Remem&ber the password"), self)
        set_names(self.remember_check, "profileRememberPasswordCheck")
        self.remember_check.toggled.connect(
            lambda checked: self._edit_draft("remember_password", checked)
        )
        self._storage_available, reason = storage
        if not self._storage_available:
            self.remember_check.setToolTip(reason)
        self.default_combo = QComboBox(self)
        set_names(self.default_combo, "defaultProfileCombo")
        self.default_combo.currentIndexChanged.connect(self._choose_default)
        self.default_row = FieldRow(self.default_combo, self)
        self._lay_out()

    def _lay_out(self) -> None:
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        buttons.addWidget(self.locked_label)
        form = QFormLayout()
        form.addRow(self.tr("Na&me:"), self.rows["name"])
        form.addRow(self.tr("&Vault address:"), self.rows["address"])
        form.addRow(self.tr("&User name:"), self.rows["username"])
        form.addRow(self.tr("AP&I version:"), self.rows["api_version"])
        form.addRow("", self.production_check)
        form.addRow("", self.remember_check)
        default_form = QFormLayout()
        default_form.addRow(self.tr("Defaul&t profile:"), self.default_row)
        layout = QVBoxLayout(self)
        layout.addWidget(self.profile_list)
        layout.addLayout(buttons)
        layout.addLayout(form)
        layout.addLayout(default_form)

    def current_draft(self) -> _ProfileDraft | None:
        """Return the draft shown in the editor, or None when the list is empty."""
        row = self.profile_list.currentRow()
        return self.drafts[row] if 0 <= row < len(self.drafts) else None

    def select(self, draft: _ProfileDraft) -> None:
        """Show ``draft`` in the editor."""
        self.profile_list.setCurrentRow(self.drafts.index(draft))

    def add_profile(self) -> None:
        """Append a new profile with a unique placeholder name and edit it."""
        names = {draft.name for draft in self.drafts}
        name = self.tr("New profile")
        number = 2
        while name in names:
            name = self.tr("New profile {number}").format(number=number)
            number += 1
        self.drafts.append(_ProfileDraft(name=name, address=""))
        self._refresh_list(len(self.drafts) - 1)
        self.edits["name"].setFocus()
        self.edits["name"].selectAll()

    def remove_profile(self) -> None:
        """Remove the selected profile unless the site file defines it."""
        draft = self.current_draft()
        if draft is None or draft.from_site:
            return
        row = self.drafts.index(draft)
        self.drafts.remove(draft)
        if self._default is draft:
            self._default = None
        self._refresh_list(min(row, len(self.drafts) - 1))

    def default_name(self) -> str:
        """Return the name of the default profile, or "" for none."""
        return self._default.name if self._default is not None else ""

    def clear_errors(self) -> None:
        """Hide every message of the tab."""
        for row in (*self.rows.values(), self.default_row):
            row.clear_error()

    def _refresh_list(self, current: int) -> None:
        self.profile_list.blockSignals(True)
        self.profile_list.clear()
        self.profile_list.addItems([self._label(draft) for draft in self.drafts])
        self.profile_list.blockSignals(False)
        self.profile_list.setCurrentRow(current)
        self._show_draft(current)
        self._refresh_default_combo()

    def _label(self, draft: _ProfileDraft) -> str:
        suffix = self.tr(" (production)") if draft.production else ""
        return draft.name + suffix

    def _refresh_default_combo(self) -> None:
        self.default_combo.blockSignals(True)
        self.default_combo.clear()
        self.default_combo.addItem(self.tr("None"))
        for draft in self.drafts:
            self.default_combo.addItem(draft.name)
        chosen = self.drafts.index(self._default) + 1 if self._default else 0
        self.default_combo.setCurrentIndex(chosen)
        self.default_combo.blockSignals(False)

    def _choose_default(self, index: int) -> None:
        self._default = self.drafts[index - 1] if index > 0 else None

    def _show_draft(self, row: int) -> None:
        draft = self.drafts[row] if 0 <= row < len(self.drafts) else None
        for key, edit in self.edits.items():
            edit.setText(getattr(draft, key) if draft else "")
            edit.setReadOnly(self._locked or draft is None)
        for check, value in (
            (self.production_check, draft.production if draft else False),
            (self.remember_check, draft.remember_password if draft else False),
        ):
            check.blockSignals(True)
            check.setChecked(value)
            check.blockSignals(False)
        editable = draft is not None and not self._locked
        self.production_check.setEnabled(editable)
        self.remember_check.setEnabled(editable and self._storage_available)
        self.add_button.setEnabled(not self._locked)
        from_site = draft is not None and draft.from_site
        self.remove_button.setEnabled(editable and not from_site)
        self.remove_button.setToolTip(self.tr(LOCKED_TEXT) if from_site else "")

    def _edit_draft(self, key: str, value: str | bool) -> None:
        draft = self.current_draft()
        if draft is None:
            return
        setattr(draft, key, value)
        if key in ("name", "production"):
            item = self.profile_list.item(self.drafts.index(draft))
            item.setText(self._label(draft))
            self.default_combo.setItemText(self.drafts.index(draft) + 1, draft.name)


class SettingsDialog(QDialog):
    """Edit the user's settings and save them through a :class:`SettingsStore`.

    Values are validated when the user presses Save: an invalid value or a
    failed save shows a message and keeps the dialog open with the input
    intact. Keys the site file locks are read-only. Emits
    :attr:`settings_saved` with the new :class:`Settings`. Open it with
    :meth:`open`, never ``exec()`` from a coroutine.
    """

    settings_saved = Signal(object)

    def __init__(
        self, store: SettingsStore, settings: Settings, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        set_names(self, "settingsDialog")
        self.setWindowTitle(self.tr("Settings — vaultgui"))
        self.setMinimumWidth(560)
        self._store = store
        self._settings = settings
        self._storage = password_storage_available()
        self._first_error_shown = False
        self.fields: dict[str, FieldRow] = {}
        self.tabs = QTabWidget(self)
        set_names(self.tabs, "settingsTabs")
        site_names = frozenset(p.name for p in store.site_profiles)
        self.profiles_tab = ProfilesTab(settings, site_names, self._storage, self)
        self.tabs.addTab(self.profiles_tab, self.tr("&Profiles"))
        self.tabs.addTab(self._network_tab(), self.tr("&Network"))
        self.tabs.addTab(self._appearance_tab(), self.tr("App&earance"))
        self.tabs.addTab(self._files_tab(), self.tr("&Files"))
        for key, row in self.fields.items():
            row.set_locked(key in settings.locked)
        self._update_proxy_url()
        self._build_buttons()

    def _build_buttons(self) -> None:
        self.message = MessageArea("settingsMessageLabel", self)
        self.save_button = QPushButton(self.tr("&Save"), self)
        set_names(self.save_button, "saveSettingsButton")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        self.cancel_button = QPushButton(self.tr("Cancel"), self)
        set_names(self.cancel_button, "cancelSettingsButton")
        self.cancel_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.message)
        layout.addLayout(buttons)

    def _add_field(
        self,
        form: QFormLayout,
        key: str,
        label: str,
        editor: QWidget,
        extra: QWidget | None = None,
    ) -> FieldRow:
        row = FieldRow(editor, form.parentWidget(), extra)
        form.addRow(label, row)
        self.fields[key] = row
        return row

    def _network_tab(self) -> QWidget:
        tab = QWidget(self)
        network = self._settings.network
        form = QFormLayout(tab)
        timeouts = (
            ("network.connect_timeout", "connectTimeoutEdit", network.connect_timeout),
            ("network.read_timeout", "readTimeoutEdit", network.read_timeout),
        )
        labels = (self.tr("&Connect timeout (s):"), self.tr("&Read timeout (s):"))
        for (key, name, seconds), label in zip(timeouts, labels, strict=True):
            self._add_field(form, key, label, _line_edit(name, tab, f"{seconds:g}"))

        self._add_proxy_fields(form, tab)
        self._add_field(
            form,
            "network.extra_ca_file",
            self.tr("Ex&tra CA file:"),
            self._ca_file_edit(tab),
            self.ca_browse_button,
        )

        self._add_field(
            form,
            "api_version",
            self.tr("Vault API &version:"),
            _line_edit("apiVersionEdit", tab, self._settings.api_version),
        )
        self._add_field(
            form,
            "client_id",
            self.tr("Client &ID:"),
            _line_edit("clientIdEdit", tab, self._settings.client_id),
        )
        return tab

    def _add_proxy_fields(self, form: QFormLayout, tab: QWidget) -> None:
        network = self._settings.network
        self.proxy_mode_combo = _combo(
            "proxyModeCombo",
            tab,
            [
                ("system", self.tr("Use the system proxy settings")),
                ("none", self.tr("No proxy")),
                ("manual", self.tr("Use this proxy:")),
            ],
        )
        _select_data(self.proxy_mode_combo, network.proxy_mode)
        self.proxy_mode_combo.currentIndexChanged.connect(self._update_proxy_url)
        self._add_field(
            form, "network.proxy_mode", self.tr("Pro&xy:"), self.proxy_mode_combo
        )

        self.proxy_url_edit = _line_edit("proxyUrlEdit", tab, network.proxy_url)
        self.proxy_url_edit.setPlaceholderText("http://proxy.example.com:8080")
        self._add_field(
            form, "network.proxy_url", self.tr("Proxy a&ddress:"), self.proxy_url_edit
        )

    def _ca_file_edit(self, parent: QWidget) -> QLineEdit:
        self.ca_file_edit = _line_edit(
            "extraCaFileEdit", parent, self._settings.network.extra_ca_file
        )
        self.ca_file_edit.setPlaceholderText(
            self.tr("PEM file with your company's root certificate (optional)")
        )
        self.ca_browse_button = QPushButton(self.tr("&Browse…"), parent)
        set_names(self.ca_browse_button, "extraCaFileBrowseButton")
        self.ca_browse_button.clicked.connect(self.browse_ca_file)
        return self.ca_file_edit

    def _appearance_tab(self) -> QWidget:
        tab = QWidget(self)
        form = QFormLayout(tab)
        self.appearance_combo = _combo(
            "appearanceCombo",
            tab,
            [
                ("system", self.tr("Same as the system")),
                ("light", self.tr("Light")),
                ("dark", self.tr("Dark")),
            ],
        )
        _select_data(self.appearance_combo, self._settings.appearance)
        self._add_field(
            form, "appearance", self.tr("&Appearance:"), self.appearance_combo
        )
        return tab

    def _files_tab(self) -> QWidget:
        tab = QWidget(self)
        form = QFormLayout(tab)
        paths = self._store.paths
        folders = (
            ("config", self.tr("Settings:"), paths.config_dir),
            ("data", self.tr("History:"), paths.data_dir),
            ("log", self.tr("Logs:"), paths.log_dir),
        )
        for name, label, folder in folders:
            shown = _line_edit(f"{name}FolderEdit", tab, str(folder))
            shown.setReadOnly(True)
            button = QPushButton(self.tr("Open folder"), tab)
            set_names(button, f"open{name.capitalize()}FolderButton")
            button.clicked.connect(
                lambda _=False, folder=folder: self.open_folder(folder)
            )
            row = QHBoxLayout()
            row.addWidget(shown, 1)
            row.addWidget(button)
            form.addRow(label, row)
        return tab

    def browse_ca_file(self) -> None:
        """Open a file picker (with open(), not exec()) for the CA file."""
        dialog = QFileDialog(self, self.tr("Choose the CA certificate file"))
        set_names(dialog, "extraCaFileDialog")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setNameFilters(
            [self.tr("Certificates (*.pem *.crt *.cer)"), self.tr("All files (*)")]
        )
        current = self.ca_file_edit.text().strip()
        if current:
            dialog.setDirectory(str(Path(current).expanduser().parent))
        dialog.fileSelected.connect(self.ca_file_edit.setText)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def open_folder(self, folder: Path) -> None:
        """Create ``folder`` if needed and show it in the system file manager."""
        try:
            ensure_dir(folder)
        except OSError as error:
            log.warning("Could not create %s: %s", folder, error)
            self.message.show_message(
                self.tr("Could not create the folder {folder}: {error}").format(
                    folder=folder, error=error.strerror or error
                ),
                "error",
            )
            return
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
            log.warning("The desktop could not open %s", folder)
            self.message.show_message(
                self.tr(
                    "Could not open the folder {folder}. Open it in your file manager."
                ).format(folder=folder),
                "error",
            )

    def save(self) -> None:
        """Validate and save the input, or show the problem and stay open."""
        self.message.clear()
        self._clear_errors()
        updated = self._collected_settings()
        if updated is None:
            return
        # NOTE: The save runs on the UI thread. A local write takes milliseconds,
        # but a file that another program keeps open costs up to about 1 s of retries.
        try:
            self._store.save(updated)
        except SettingsValueError as error:
            self._show_value_error(error)
            return
        except SettingsError as error:
            # Also SettingLockedError and SettingsNewerVersionError.
            log.warning("Saving settings failed: %s", error)
            self.message.show_message(str(error), "error")
            return
        self._forget_passwords(updated)
        self._settings = updated
        self.settings_saved.emit(updated)
        self.accept()

    def _clear_errors(self) -> None:
        self._first_error_shown = False
        for row in self.fields.values():
            row.clear_error()
        self.profiles_tab.clear_errors()

    def _report_error(self, row: FieldRow, text: str) -> None:
        row.show_error(text)
        if self._first_error_shown:
            return
        self._first_error_shown = True
        for index in range(self.tabs.count()):
            tab = self.tabs.widget(index)
            if tab is not None and tab.isAncestorOf(row):
                self.tabs.setCurrentIndex(index)
        row.editor.setFocus()

    def _collected_settings(self) -> Settings | None:
        settings = self._settings
        valid = True
        for key, row in self.fields.items():
            if key in settings.locked:
                continue
            try:
                settings = settings.with_value(key, self._field_value(key, row))
            except SettingsValueError as error:
                self._report_error(row, str(error))
                valid = False
        profiles = self._collected_profiles()
        if not valid or profiles is None:
            return None
        if "profiles" not in settings.locked:
            settings = replace(settings, profiles=profiles)
        if "default_profile" not in settings.locked:
            default = self.profiles_tab.default_name()
            settings = replace(settings, default_profile=default)
        return settings

    def _field_value(self, key: str, row: FieldRow) -> object:
        editor = row.editor
        if isinstance(editor, QComboBox):
            return editor.currentData()
        assert isinstance(editor, QLineEdit)
        text = editor.text().strip()
        if key.endswith("_timeout"):
            try:
                return float(text.replace(",", "."))
            except ValueError:
                raise SettingsValueError(
                    self.tr("Enter a number of seconds, for example 30."), key=key
                ) from None
        ca_file = key == "network.extra_ca_file"
        if ca_file and text and not Path(text).expanduser().is_file():
            raise SettingsValueError(
                self.tr("No file was found at {path}.").format(path=text), key=key
            )
        return text

    def _collected_profiles(self) -> tuple[Profile, ...] | None:
        tab = self.profiles_tab
        profiles: list[Profile] = []
        for draft in tab.drafts:
            try:
                profile = draft.validated()
            except SettingsValueError as error:
                tab.select(draft)
                self._report_error(self._profile_row(error.key), str(error))
                return None
            if any(other.name == profile.name for other in profiles):
                tab.select(draft)
                self._report_error(
                    tab.rows["name"],
                    self.tr("Another profile is called {name}.").format(
                        name=profile.name
                    ),
                )
                return None
            profiles.append(profile)
        return tuple(profiles)

    def _profile_row(self, key: str) -> FieldRow:
        field_name = key.removeprefix("profiles.")
        return self.profiles_tab.rows.get(field_name, self.profiles_tab.rows["name"])

    def _show_value_error(self, error: SettingsValueError) -> None:
        if error.key in self.fields:
            self._report_error(self.fields[error.key], str(error))
        elif error.key == "default_profile":
            self._report_error(self.profiles_tab.default_row, str(error))
        elif error.key.startswith("profiles"):
            self._report_error(self._profile_row(error.key), str(error))
        else:
            self.message.show_message(str(error), "error")

    def _update_proxy_url(self) -> None:
        manual = self.proxy_mode_combo.currentData() == "manual"
        self.proxy_url_edit.setEnabled(manual)

    def _forget_passwords(self, updated: Settings) -> None:
        """Delete saved passwords that no profile remembers any more."""
        if not self._storage[0]:
            return
        kept = {
            (p.address, p.username.casefold())
            for p in updated.profiles
            if p.remember_password
        }
        for profile in self._settings.profiles:
            identity = (profile.address, profile.username.casefold())
            if not profile.remember_password or not profile.username:
                continue
            if identity in kept:
                continue
            try:
                delete_password(profile.address, profile.username)
            except CredentialsError as error:
                log.warning("Could not forget a saved password: %s", error)
