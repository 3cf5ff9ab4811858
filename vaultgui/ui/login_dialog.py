"""The sign-in dialog: Vault address, user name and password."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from vaultgui.services.address import AddressError, VaultAddress, parse_vault_address
from vaultgui.services.errors import TransportError
from vaultgui.services.models import SignInResult
from vaultgui.services.settings_schema import NetworkSettings
from vaultgui.ui.messages import UserMessage, describe_error
from vaultgui.ui.tasks import run_in_thread, spawn
from vaultgui.ui.widgets import MessageArea, busy_bar, set_names

if TYPE_CHECKING:
    from vaultgui.services.client import VaultClient

# The HTTP stack, the keychain and the connection check are imported when
# first used, so that the sign-in dialog appears without waiting for them.

log = logging.getLogger(__name__)

ClientFactory = Callable[[VaultAddress], "VaultClient"]


@dataclass(frozen=True)
class SavedVault:
    """A Vault the user can pick instead of typing: a profile or a recent one."""

    label: str
    address: str
    username: str = ""


class LoginDialog(QDialog):
    """Collect the sign-in details, sign in off the UI thread, report in place.

    Emits :attr:`signed_in` with the signed-in client and the session facts,
    then closes. Input errors are shown before any request is sent.
    """

    signed_in = Signal(object, object)
    settings_requested = Signal()
    check_connection_requested = Signal(object)

    def __init__(
        self,
        *,
        vault: str = "",
        username: str = "",
        password: str = "",
        client_factory: ClientFactory | None = None,
        saved_vaults: Sequence[SavedVault] = (),
        network: NetworkSettings | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        set_names(self, "loginDialog")
        self.setWindowTitle(self.tr("Sign in to Vault — vaultgui"))
        self.setMinimumWidth(460)
        self._client_factory = client_factory
        self._task: asyncio.Task[None] | None = None
        self._saved_vaults = list(saved_vaults)
        self._network_settings = network or NetworkSettings()
        self._build(vault, username, password)
        self._build_saved_vaults()
        self._build_remember_password()

    def _build(self, vault: str, username: str, password: str) -> None:
        intro = QLabel(
            self.tr(
                "Sign in with the address of your Vault and your Vault user name "
                "and password."
            ),
            self,
        )
        intro.setWordWrap(True)

        self.vault_edit = QLineEdit(vault, self)
        set_names(self.vault_edit, "vaultEdit")
        self.vault_edit.setPlaceholderText("myvault.veevavault.com")
        self.username_edit = QLineEdit(username, self)
        set_names(self.username_edit, "usernameEdit")
        self.username_edit.setPlaceholderText("name@company.com")
        self.password_edit = QLineEdit(password, self)
        set_names(self.password_edit, "passwordEdit")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)

        self.saved_combo = QComboBox(self)
        set_names(self.saved_combo, "profileCombo")
        self.remember_check = QCheckBox(self.tr("&Remember my password"), self)
        set_names(self.remember_check, "rememberPasswordCheck")

        form = QFormLayout()
        self.form = form
        form.addRow(self.tr("Saved &Vaults:"), self.saved_combo)
        form.addRow(self.tr("&Vault address:"), self.vault_edit)
        form.addRow(self.tr("&User name:"), self.username_edit)
        form.addRow(self.tr("&Password:"), self.password_edit)
        form.addRow("", self.remember_check)

        self.message = MessageArea("loginMessageLabel", self)
        self.busy = busy_bar(self)

        self.sign_in_button = QPushButton(self.tr("Sign in"), self)
        set_names(self.sign_in_button, "signInButton")
        self.sign_in_button.setDefault(True)
        self.sign_in_button.clicked.connect(self.start_sign_in)
        self.stop_button = QPushButton(self.tr("Stop"), self)
        set_names(self.stop_button, "stopSignInButton")
        self.stop_button.setVisible(False)
        self.stop_button.clicked.connect(self.stop_sign_in)
        self.quit_button = QPushButton(self.tr("Quit"), self)
        set_names(self.quit_button, "quitButton")
        self.quit_button.clicked.connect(self.reject)
        self.settings_button = QPushButton(self.tr("Settings…"), self)
        set_names(self.settings_button, "loginSettingsButton")
        self.settings_button.clicked.connect(self.settings_requested)

        self.check_button = QPushButton(self.tr("Check connection…"), self)
        set_names(self.check_button, "checkConnectionButton")
        self.check_button.clicked.connect(self._request_connection_check)

        buttons = QHBoxLayout()
        buttons.addWidget(self.settings_button)
        buttons.addWidget(self.check_button)
        buttons.addStretch(1)
        buttons.addWidget(self.quit_button)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.sign_in_button)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.busy)
        layout.addWidget(self.message)
        layout.addStretch(1)
        layout.addLayout(buttons)

        for edit in (self.vault_edit, self.username_edit, self.password_edit):
            edit.returnPressed.connect(self.start_sign_in)
        first_empty = next(
            (
                e
                for e in (self.vault_edit, self.username_edit, self.password_edit)
                if not e.text()
            ),
            self.sign_in_button,
        )
        first_empty.setFocus()

    def _build_saved_vaults(self) -> None:
        if not self._saved_vaults:
            self.form.setRowVisible(self.saved_combo, False)
            return
        self.saved_combo.addItem(self.tr("Choose a saved Vault…"))
        for saved in self._saved_vaults:
            self.saved_combo.addItem(saved.label)
        self.saved_combo.currentIndexChanged.connect(self._pick_saved_vault)

    def _pick_saved_vault(self, index: int) -> None:
        if index <= 0 or self.busy_signing_in:
            return
        saved = self._saved_vaults[index - 1]
        self.vault_edit.setText(saved.address)
        self.username_edit.setText(saved.username)
        self.password_edit.clear()
        self.message.clear()
        if self.remember_check.isEnabled() and saved.username:
            spawn(self._fill_saved_password(saved), name="load-password")
        self.password_edit.setFocus()

    async def _fill_saved_password(self, saved: SavedVault) -> None:
        from vaultgui.services.credentials import CredentialsError, load_password

        try:
            password = await run_in_thread(
                lambda: load_password(saved.address, saved.username),
                name="load-password",
            )
        except (CredentialsError, AddressError) as error:
            log.warning("Could not read the saved password: %s", error)
            return
        same_vault = self.vault_edit.text() == saved.address
        if password and same_vault and not self.password_edit.text():
            self.password_edit.setText(password)
            self.remember_check.setChecked(True)

    def _build_remember_password(self) -> None:
        # Finding the keychain can mean a D-Bus round trip, so it runs off the
        # UI thread and the option stays disabled until the result arrives.
        self.remember_check.setEnabled(False)
        spawn(self._check_password_storage(), name="check-password-storage")

    async def _check_password_storage(self) -> None:
        available, reason = await run_in_thread(
            _password_storage_available, name="check-password-storage"
        )
        self.remember_check.setEnabled(available)
        vault, username = self.vault_edit.text(), self.username_edit.text()
        if available and vault and username and not self.password_edit.text():
            await self._fill_saved_password(SavedVault(vault, vault, username))
        if not available:
            self.remember_check.setToolTip(reason)
            self.remember_check.setText(
                self.tr("Remember my password (not available here)")
            )

    def _request_connection_check(self) -> None:
        address = self._validated_address()
        if address is not None:
            self.check_connection_requested.emit(address)

    @property
    def busy_signing_in(self) -> bool:
        """Return whether a sign-in call is in flight."""
        return self._task is not None and not self._task.done()

    def start_sign_in(self) -> None:
        """Validate the input and, when it is complete, start signing in."""
        if self.busy_signing_in:
            return
        address = self._validated_address()
        if address is None:
            return
        username = self.username_edit.text().strip()
        password = self.password_edit.text()
        if not username:
            self._field_error(
                self.username_edit, self.tr("Enter your Vault user name.")
            )
            return
        if not password:
            self._field_error(self.password_edit, self.tr("Enter your password."))
            return
        self._task = spawn(self._sign_in(address, username, password), name="sign-in")

    def _validated_address(self) -> VaultAddress | None:
        try:
            address = parse_vault_address(self.vault_edit.text())
        except AddressError as error:
            self._field_error(self.vault_edit, self.tr(str(error)))
            return None
        return address

    def _field_error(self, edit: QLineEdit, text: str) -> None:
        self.message.show_message(text, "error")
        edit.setFocus()
        edit.selectAll()

    async def _sign_in(
        self, address: VaultAddress, username: str, password: str
    ) -> None:
        try:
            client = (self._client_factory or _default_client)(address)
        except ValueError as error:
            log.warning("Invalid connection settings: %s", error)
            self.message.show_message(
                self.tr(
                    "The connection settings are invalid: {error} Correct them "
                    "under Settings, then sign in again."
                ).format(error=error),
                "error",
            )
            return

        self._set_busy(True)
        self.message.show_message(
            self.tr("Signing in to {host}…").format(host=address.netloc), "progress"
        )
        log.info("Signing in to %s as %s", address.netloc, username)
        future = run_in_thread(
            lambda: client.sign_in(username, password), name="sign-in"
        )
        try:
            result = await asyncio.shield(future)
        except asyncio.CancelledError:
            future.add_done_callback(lambda done: _discard_client(client, done))
            self.message.show_message(self.tr("Sign-in stopped."))
            raise
        except Exception as error:
            log.warning("Sign-in to %s failed: %r", address.netloc, error)
            client.close()
            message = describe_error(error, host=address.host)
            self.message.show_message(message, "error")
            self.password_edit.setFocus()
            self.password_edit.selectAll()
            if isinstance(error, TransportError) and error.error_type == "TLS_ERROR":
                spawn(self._name_issuer(address, message), name="certificate-issuer")
            return
        finally:
            self._set_busy(False)

        log.info("Signed in to %s (Vault id %s)", address.netloc, result.vault_id)
        self.message.show_message(self.tr("Signed in."), "ok")
        if self.remember_check.isEnabled():
            remember = self.remember_check.isChecked()
            spawn(
                _update_saved_password(str(address), username, password, remember),
                name="save-password",
            )
        self.password_edit.clear()
        self.signed_in.emit(client, result)
        self.accept()

    async def _name_issuer(self, address: VaultAddress, message: UserMessage) -> None:
        """Add the certificate's issuer to a TLS failure, for the IT department."""
        from vaultgui.services.client import Timeouts
        from vaultgui.services.diagnostics import check_connection

        network = self._network_settings
        try:
            report = await run_in_thread(
                lambda: check_connection(
                    address,
                    proxy_mode=network.proxy_mode,
                    proxy_url=network.proxy_url,
                    extra_ca_file=network.extra_ca_file,
                    timeouts=Timeouts(network.connect_timeout, network.read_timeout),
                ),
                name="certificate-issuer",
            )
        except Exception as error:  # only adds detail to a message already shown
            log.warning(
                "Could not read the certificate of %s: %r", address.netloc, error
            )
            return
        certificate = report.certificate
        if certificate is None or certificate.verified or self.busy_signing_in:
            return
        self.message.show_message(
            UserMessage(
                self.tr(
                    "The secure connection to {host} could not be verified: its "
                    "certificate was issued by “{issuer}”, which this computer does "
                    "not trust. vaultgui stopped and sent nothing. Contact your IT "
                    "department and give them the details below."
                ).format(host=address.host, issuer=certificate.issuer),
                message.details,
            ),
            "error",
        )

    def stop_sign_in(self) -> None:
        """Stop waiting for the sign-in; a session it opens later is ended."""
        if self._task is not None and not self._task.done():
            self._task.cancel()

    def _set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        self.stop_button.setVisible(busy)
        self.sign_in_button.setEnabled(not busy)
        for edit in (self.vault_edit, self.username_edit, self.password_edit):
            edit.setReadOnly(busy)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.stop_sign_in()
        super().closeEvent(event)

    def reject(self) -> None:
        self.stop_sign_in()
        super().reject()


def _discard_client(client: VaultClient, done: asyncio.Future[SignInResult]) -> None:
    """End a session that arrived after the user stopped waiting for it."""
    if done.cancelled() or done.exception() is not None:
        client.close()
        return
    log.info("Ending a session that arrived after sign-in was stopped")
    spawn(_sign_out_quietly(client), name="discard-session")


async def _sign_out_quietly(client: VaultClient) -> None:
    await run_in_thread(client.sign_out, name="sign-out")
    client.close()


async def _update_saved_password(
    address: str, username: str, password: str, remember: bool
) -> None:
    """Save the password in the keychain, or delete a saved one when unticked."""
    from vaultgui.services.credentials import (
        CredentialsError,
        delete_password,
        store_password,
    )

    def update() -> None:
        if remember:
            store_password(address, username, password)
        else:
            delete_password(address, username)

    try:
        await run_in_thread(update, name="save-password")
    except (CredentialsError, AddressError) as error:
        log.warning("Could not update the saved password: %s", error)


def _default_client(address: VaultAddress) -> VaultClient:
    from vaultgui.services.client import VaultClient

    return VaultClient(address)


def _password_storage_available() -> tuple[bool, str]:
    # Imported here, on the worker thread, because keyring takes tens of
    # milliseconds to import and the dialog should not wait for it.
    from vaultgui.services.credentials import password_storage_available

    return password_storage_available()
