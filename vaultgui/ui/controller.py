"""Owns the windows of one app run: sign-in, main window, sign-out, shutdown."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import pprint
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from vaultgui.services.address import VaultAddress
from vaultgui.services.history import Action, HistoryError, HistoryStore, Outcome
from vaultgui.services.models import SignInResult
from vaultgui.services.paths import AppPaths
from vaultgui.services.settings import Settings, SettingsError, SettingsStore
from vaultgui.ui.appearance import AppearanceApplier
from vaultgui.ui.login_dialog import LoginDialog, SavedVault
from vaultgui.ui.tasks import run_in_thread, spawn
from vaultgui.ui.widgets import message_box

if TYPE_CHECKING:
    from vaultgui.services.client import VaultClient
    from vaultgui.ui.main_window import MainWindow
    from vaultgui.ui.settings_dialog import SettingsDialog

# The main window, the HTTP stack and the dialogs behind menus are imported
# when first used, so that the sign-in dialog appears without waiting for them.

log = logging.getLogger(__name__)

# Maximum wait for ending the Vault session when the app quits, in seconds.
SIGN_OUT_WAIT = 3.0


@dataclass(frozen=True)
class Prefill:
    """Values put into the sign-in dialog when it opens."""

    vault: str = ""
    username: str = ""
    password: str = ""


class AppController(QObject):
    """Show the sign-in dialog, then the main window, until the user quits.

    :attr:`finished` resolves with the exit code once the last window closes.
    """

    def __init__(self, prefill: Prefill, paths: AppPaths) -> None:
        super().__init__()
        self._prefill = prefill
        self._paths = paths
        self.settings_store = SettingsStore(paths)
        self.settings, report = self.settings_store.load()
        self._startup_notes = list(report.warnings)
        app = QApplication.instance()
        self.appearance = (
            AppearanceApplier(app) if isinstance(app, QApplication) else None
        )
        self._apply_appearance()
        # The history is opened off the UI thread, because its integrity check
        # reads the whole file and the sign-in dialog need not wait for it.
        self.history: HistoryStore | None = None
        self._history_opened = spawn(self._open_history(), name="open-history")
        self.login_dialog: LoginDialog | None = None
        self.main_window: MainWindow | None = None
        self.settings_dialog: SettingsDialog | None = None
        self._client: VaultClient | None = None
        self.finished: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def _open_history(self) -> None:
        path = self._paths.history_db
        try:
            store = await run_in_thread(lambda: HistoryStore(path), name="open-history")
        except (HistoryError, OSError) as error:
            log.error("Could not open the history at %s: %s", path, error)
            self._startup_notes.append(
                self.tr(
                    "Your history could not be opened, so this session's actions "
                    "will not be recorded: {error}"
                ).format(error=error)
            )
        else:
            self.history = store
            self._startup_notes.extend(self._history_notes(store))
        shown = self.main_window or self.login_dialog
        if shown is not None and shown.isVisible():
            self._show_startup_notes(shown)

    def _history_notes(self, store: HistoryStore) -> list[str]:
        notes = []
        if store.recovered_from is not None:
            notes.append(
                self.tr(
                    "Your history file was damaged. It was kept as {path} and a new "
                    "history was started."
                ).format(path=store.recovered_from)
            )
        if store.read_only:
            notes.append(
                self.tr(
                    "Your history was written by a newer version of vaultgui, so "
                    "this version can only read it and will not record new "
                    "actions. Update vaultgui."
                )
            )
        return notes

    # -- sign-in ------------------------------------------------------------------

    def start(self) -> None:
        """Show the sign-in dialog."""
        self.show_login(self._prefill)

    def show_login(self, prefill: Prefill) -> None:
        """Open a fresh sign-in dialog with ``prefill``."""
        vault = prefill.vault or self._default_address()
        username = prefill.username or self._default_username(vault)
        dialog = LoginDialog(
            vault=vault,
            username=username,
            password=prefill.password,
            client_factory=self.make_client,
            saved_vaults=self._saved_vaults(),
            network=self.settings.network,
        )
        dialog.signed_in.connect(self._on_signed_in)
        dialog.rejected.connect(self._on_login_closed)
        dialog.settings_requested.connect(lambda: self.open_settings(dialog))
        dialog.check_connection_requested.connect(
            lambda address: self.check_connection(address, dialog)
        )
        self.login_dialog = dialog
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        self._show_startup_notes(dialog)

    def _default_address(self) -> str:
        profile = self.settings.profile(self.settings.default_profile)
        if profile is not None:
            return profile.address
        recent = self.settings.recent_vaults
        return recent[0].address if recent else ""

    def _default_username(self, address: str) -> str:
        for profile in self.settings.profiles:
            if profile.address == address and profile.username:
                return profile.username
        for recent in self.settings.recent_vaults:
            if recent.address == address:
                return recent.username
        return ""

    def _saved_vaults(self) -> list[SavedVault]:
        saved = [
            SavedVault(
                self.tr("{name} — {address}{production}").format(
                    name=profile.name,
                    address=profile.address,
                    production=self.tr(" (production)") if profile.production else "",
                ),
                profile.address,
                profile.username,
            )
            for profile in self.settings.profiles
        ]
        known = {(s.address, s.username) for s in saved}
        for recent in self.settings.recent_vaults:
            if (recent.address, recent.username) not in known:
                saved.append(
                    SavedVault(
                        self.tr("Recent: {address} — {user}").format(
                            address=recent.address, user=recent.username
                        ),
                        recent.address,
                        recent.username,
                    )
                )
        return saved

    def make_client(self, address: VaultAddress) -> VaultClient:
        """Build a client for ``address`` with the current settings."""
        from vaultgui.services.client import Timeouts, VaultClient

        network = self.settings.network
        api_version = self.settings.api_version
        for profile in self.settings.profiles:
            if profile.address == str(address) and profile.api_version:
                api_version = profile.api_version
        return VaultClient(
            address,
            api_version=api_version,
            client_id=self.settings.client_id,
            timeouts=Timeouts(network.connect_timeout, network.read_timeout),
            extra_ca_file=network.extra_ca_file or None,
            proxy_mode=network.proxy_mode,
            proxy_url=network.proxy_url,
        )

    def _on_login_closed(self) -> None:
        if self.main_window is None:
            self.quit()

    def _on_signed_in(self, client: VaultClient, session: SignInResult) -> None:
        self._client = client
        spawn(self._open_main_window(client, session), name="open-main-window")

    async def _open_main_window(
        self, client: VaultClient, session: SignInResult
    ) -> None:
        from vaultgui.ui.main_window import MainWindow
        from vaultgui.ui.recovery import PendingCancelCheck

        await asyncio.shield(self._history_opened)
        window = MainWindow(client, session, self.history)
        window.sign_out_requested.connect(self._sign_out)
        window.settings_requested.connect(lambda: self.open_settings(window))
        window.closed.connect(self._on_main_window_closed)
        self._add_help_actions(window, lambda: client.address)
        self.main_window = window
        window.show()
        spawn(
            window.recorder.add(
                Action.SIGN_IN,
                outcome=Outcome.SUCCEEDED,
                execution_id=session.execution_id,
            ),
            name="history-sign-in",
        )
        spawn(
            self._remember_vault(str(client.address), session.username), name="recent"
        )
        if self.history is not None:
            PendingCancelCheck(window, self.history).start()

    async def _remember_vault(self, address: str, username: str) -> None:
        try:
            self.settings = await run_in_thread(
                lambda: self.settings_store.remember_vault(address, username),
                name="remember-vault",
            )
        except (SettingsError, OSError) as error:
            log.warning("Could not remember the Vault %s: %s", address, error)

    def _show_startup_notes(self, parent: QWidget) -> None:
        if not self._startup_notes:
            return
        text = "\n\n".join(self._startup_notes)
        self._startup_notes = []
        message_box(
            parent, "startupNoticeDialog", QMessageBox.Icon.Warning, "vaultgui", text
        ).open()

    # -- help ------------------------------------------------------------------------

    def _add_help_actions(
        self, window: MainWindow, address: Callable[[], VaultAddress]
    ) -> None:
        check = QAction(self.tr("&Check connection…"), window)
        check.setObjectName("checkConnectionAction")
        check.triggered.connect(lambda: self.check_connection(address(), window))
        open_logs = QAction(self.tr("Open &log folder"), window)
        open_logs.setObjectName("openLogFolderAction")
        open_logs.triggered.connect(self.open_log_folder)
        summary = QAction(self.tr("Copy &diagnostic summary"), window)
        summary.setObjectName("copyDiagnosticsAction")
        summary.triggered.connect(self.copy_diagnostic_summary)
        first = window.help_menu.actions()[0] if window.help_menu.actions() else None
        window.help_menu.insertActions(first, [check, open_logs, summary])
        window.help_menu.insertSeparator(first)

    def check_connection(self, address: VaultAddress, parent: QWidget) -> None:
        """Open the connection check for ``address`` with the current settings."""
        from vaultgui.ui.diagnostics_dialog import ConnectionCheckDialog

        dialog = ConnectionCheckDialog(
            address, self.settings.network, parent, client_id=self.settings.client_id
        )
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def open_log_folder(self) -> None:
        """Show the log folder in the system's file manager."""
        self._paths.log_dir.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._paths.log_dir)))

    def copy_diagnostic_summary(self) -> None:
        """Copy versions, folders, settings and recent errors for a help-desk ticket."""
        from vaultgui.services.diagnostics import diagnostic_summary

        values = dataclasses.asdict(self.settings)
        proxy_url = self.settings.network.proxy_url
        if "@" in proxy_url:
            # A manual proxy address may carry a user name and password.
            scheme, _, rest = proxy_url.partition("://")
            values["network"]["proxy_url"] = f"{scheme}://***@{rest.rpartition('@')[2]}"
        settings_text = pprint.pformat(values, width=88)
        summary = diagnostic_summary(self._paths, settings_text)
        QGuiApplication.clipboard().setText(summary)
        if self.main_window is not None:
            self.main_window.statusBar().showMessage(
                self.tr("The diagnostic summary is on the clipboard.")
            )

    # -- settings -------------------------------------------------------------------

    def open_settings(self, parent: QWidget) -> None:
        """Open the settings dialog over ``parent`` (one at a time)."""
        from vaultgui.ui.settings_dialog import SettingsDialog

        if self.settings_dialog is not None:
            self.settings_dialog.raise_()
            return
        dialog = SettingsDialog(self.settings_store, self.settings, parent)
        dialog.settings_saved.connect(self._on_settings_saved)
        dialog.finished.connect(self._settings_closed)
        self.settings_dialog = dialog
        dialog.open()

    def _settings_closed(self) -> None:
        # Forget the dialog before Qt deletes it, so the next open makes a new one.
        dialog, self.settings_dialog = self.settings_dialog, None
        if dialog is not None:
            dialog.deleteLater()

    def _apply_appearance(self) -> None:
        if self.appearance is not None:
            self.appearance.apply(self.settings.appearance)

    def _on_settings_saved(self, settings: Settings) -> None:
        self.settings = settings
        self._apply_appearance()
        log.info("Settings saved; they apply from the next sign-in")

    # -- sign-out and quitting --------------------------------------------------------

    def _sign_out(self) -> None:
        window = self.main_window
        client = self._client
        if window is None or client is None:
            return
        self.main_window = None
        self._client = None
        prefill = Prefill(vault=str(client.address), username=client.username)
        window.closed.disconnect(self._on_main_window_closed)
        spawn(self._end_session(client, window), name="sign-out")
        window.close()
        self.show_login(prefill)

    async def _end_session(self, client: VaultClient, window: MainWindow) -> None:
        await window.recorder.add(Action.SIGN_OUT, outcome=Outcome.SUCCEEDED)
        await _sign_out_bounded(client)

    def _on_main_window_closed(self) -> None:
        self.quit()

    def quit(self) -> None:
        """Resolve :attr:`finished`; the caller then runs :meth:`shutdown`."""
        if not self.finished.done():
            self.finished.set_result(0)

    async def shutdown(self) -> None:
        """End the Vault session (bounded), close the history, restore the look."""
        if self.appearance is not None:
            # main() may run again in the same process, as tests do.
            self.appearance.apply("system")
        client, self._client = self._client, None
        if client is not None and self.main_window is not None:
            await self.main_window.recorder.add(
                Action.SIGN_OUT, outcome=Outcome.SUCCEEDED, detail="vaultgui closed"
            )
        if client is not None:
            await _sign_out_bounded(client)
        await asyncio.shield(self._history_opened)
        if self.history is not None:
            self.history.close()

    async def run(self) -> int:
        """Start, wait for the last window to close, shut down; return the exit code."""
        self.start()
        code = await self.finished
        await self.shutdown()
        return code


async def _sign_out_bounded(client: VaultClient) -> None:
    try:
        await asyncio.wait_for(
            asyncio.shield(run_in_thread(client.sign_out, name="sign-out")),
            SIGN_OUT_WAIT,
        )
    except TimeoutError:
        log.warning("Vault did not confirm the sign-out within %s s", SIGN_OUT_WAIT)
    client.close()
