"""Owns the windows of one app run: sign-in, main window, sign-out, shutdown."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMessageBox, QWidget

from vaultgui.services.client import VaultClient
from vaultgui.services.history import Action, HistoryError, HistoryStore, Outcome
from vaultgui.services.models import SignInResult
from vaultgui.services.paths import AppPaths
from vaultgui.ui.login_dialog import LoginDialog
from vaultgui.ui.main_window import MainWindow
from vaultgui.ui.tasks import run_in_thread, spawn

log = logging.getLogger(__name__)

# Longest wait for ending the Vault session when the app quits, in seconds.
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
        self.history = self._open_history()
        self.login_dialog: LoginDialog | None = None
        self.main_window: MainWindow | None = None
        self._client: VaultClient | None = None
        self.finished: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def _open_history(self) -> HistoryStore | None:
        try:
            return HistoryStore(self._paths.history_db)
        except (HistoryError, OSError) as error:
            log.error(
                "Could not open the history at %s: %s", self._paths.history_db, error
            )
            return None

    def start(self) -> None:
        """Show the sign-in dialog."""
        self.show_login(self._prefill)

    def show_login(self, prefill: Prefill) -> None:
        """Open a fresh sign-in dialog with ``prefill``."""
        dialog = LoginDialog(
            vault=prefill.vault, username=prefill.username, password=prefill.password
        )
        dialog.signed_in.connect(self._on_signed_in)
        dialog.rejected.connect(self._on_login_closed)
        self.login_dialog = dialog
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()

    def _on_login_closed(self) -> None:
        if self.main_window is None:
            self.quit()

    def _on_signed_in(self, client: VaultClient, session: SignInResult) -> None:
        self._client = client
        window = MainWindow(client, session, self.history)
        window.sign_out_requested.connect(self._sign_out)
        window.closed.connect(self._on_main_window_closed)
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
        self._report_history_problems(window)

    def _report_history_problems(self, parent: QWidget) -> None:
        if self.history is None:
            text = self.tr(
                "Your history could not be opened, so this session's actions will "
                "not be recorded. See the log in {folder}."
            ).format(folder=self._paths.log_dir)
        elif self.history.recovered_from is not None:
            text = self.tr(
                "Your history file was damaged. It was kept as {path} and a new "
                "history was started."
            ).format(path=self.history.recovered_from)
        else:
            return
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            self.tr("History"),
            text,
            QMessageBox.StandardButton.Ok,
            parent,
        )
        box.setObjectName("historyProblemDialog")
        box.open()

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
        """End the Vault session (bounded) and close the history."""
        client, self._client = self._client, None
        if client is not None:
            await _sign_out_bounded(client)
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
