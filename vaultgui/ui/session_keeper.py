"""Keep a Vault session alive while the app is in use, and sign in again once.

Vault ends idle sessions (20 minutes by default for some Vaults) and caps a
session at 48 hours. Reads that fail with ``INVALID_SESSION_ID`` are repeated
once after a new sign-in. A cancel is never repeated, because it is not
idempotent, so its caller reads the status instead.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from vaultgui.services.client import VaultClient
from vaultgui.services.credentials import CredentialsError, load_password
from vaultgui.services.errors import AuthenticationError, SessionExpiredError
from vaultgui.ui.tasks import run_in_thread, spawn
from vaultgui.ui.widgets import set_names

log = logging.getLogger(__name__)

T = TypeVar("T")

# A keep-alive every 10 minutes stays well inside Vault's shortest idle timeout.
KEEP_ALIVE_INTERVAL_MS = 10 * 60 * 1000
# Without user activity for this long, the session is allowed to lapse.
IDLE_LIMIT_SECONDS = 30 * 60
# Vault does not extend a session past 48 hours, so keep-alives stop then.
SESSION_LIMIT_SECONDS = 48 * 60 * 60


class SessionKeeper(QObject):
    """Run calls for one signed-in client and keep its session usable.

    :attr:`limits_changed` carries the client's latest
    :class:`~vaultgui.services.models.ApiLimits` after every call.
    """

    limits_changed = Signal(object)

    def __init__(self, client: VaultClient, parent: QWidget) -> None:
        super().__init__(parent)
        self._client = client
        self._parent = parent
        self._username = client.username
        self._signed_in_at = time.monotonic()
        self._last_activity = self._signed_in_at
        self._sign_in_task: asyncio.Task[None] | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(KEEP_ALIVE_INTERVAL_MS)
        self._timer.timeout.connect(self.keep_alive_if_active)
        self._timer.start()

    def touch(self) -> None:
        """Note user activity, which keeps the session alive."""
        self._last_activity = time.monotonic()

    def stop(self) -> None:
        """Stop sending keep-alives."""
        self._timer.stop()

    async def read(self, call: Callable[[], T], *, name: str = "vault-read") -> T:
        """Run a read; after an expired session, sign in again and repeat it once."""
        self.touch()
        try:
            return await self._run(call, name)
        except SessionExpiredError:
            log.info("Session expired during %s; signing in again", name)
            await self.sign_in_again()
            return await self._run(call, name)

    async def send_once(self, call: Callable[[], T], *, name: str) -> T:
        """Run a call that must not be repeated, such as a cancel.

        After an expired session the user is signed in again, but the call is
        not sent a second time: the :class:`SessionExpiredError` is re-raised
        so the caller can read the status instead.
        """
        self.touch()
        try:
            return await self._run(call, name)
        except SessionExpiredError:
            log.info("Session expired during %s; signing in again, not resending", name)
            await self.sign_in_again()
            raise

    async def _run(self, call: Callable[[], T], name: str) -> T:
        try:
            return await run_in_thread(call, name=name)
        finally:
            self.limits_changed.emit(self._client.take_notable_limits())

    def keep_alive_if_active(self) -> None:
        """Send a keep-alive when the user was active recently."""
        now = time.monotonic()
        if now - self._last_activity > IDLE_LIMIT_SECONDS:
            log.info(
                "No activity for %d minutes; no keep-alive sent",
                IDLE_LIMIT_SECONDS // 60,
            )
            return
        if now - self._signed_in_at > SESSION_LIMIT_SECONDS:
            log.info("Session is older than Vault's 48-hour limit; no keep-alive sent")
            return
        spawn(self._keep_alive(), name="keep-alive")

    async def _keep_alive(self) -> None:
        try:
            await self._run(self._client.keep_alive, "keep-alive")
        except SessionExpiredError:
            log.info(
                "Keep-alive found the session expired; the next call signs in again"
            )
        except Exception as error:  # logged, and the next call reports it
            log.warning("Keep-alive failed: %r", error)

    async def sign_in_again(self) -> None:
        """Sign in again once; concurrent callers share the same attempt.

        Uses the password saved in the keychain when there is one, and
        otherwise opens a dialog for it. Raises :class:`SessionExpiredError`
        when the user declines and :class:`AuthenticationError` when Vault
        rejects the password.
        """
        if self._sign_in_task is None or self._sign_in_task.done():
            self._sign_in_task = asyncio.ensure_future(self._sign_in_again())
        await asyncio.shield(self._sign_in_task)

    async def _sign_in_again(self) -> None:
        address = str(self._client.address)
        try:
            saved = await run_in_thread(
                lambda: load_password(address, self._username), name="load-password"
            )
        except CredentialsError as error:
            log.warning("Could not read the saved password: %s", error)
            saved = None
        if saved:
            try:
                await self._sign_in(saved)
                return
            except AuthenticationError as error:
                log.warning(
                    "Saved password rejected (%s); asking the user", error.error_type
                )
        password = await self._ask_password()
        if password is None:
            raise SessionExpiredError(
                "The user did not sign in again.",
                response_status="FAILURE",
                errors=[("INVALID_SESSION_ID", "Session expired")],
            )
        await self._sign_in(password)

    async def _sign_in(self, password: str) -> None:
        await run_in_thread(
            lambda: self._client.sign_in(self._username, password), name="sign-in-again"
        )
        self._signed_in_at = time.monotonic()
        log.info("Signed in again to %s", self._client.address.netloc)

    async def _ask_password(self) -> str | None:
        dialog = ReauthDialog(self._client.address.netloc, self._username, self._parent)
        result: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()

        def finished(code: int) -> None:
            if not result.done():
                accepted = code == QDialog.DialogCode.Accepted
                result.set_result(dialog.password() if accepted else None)
            dialog.deleteLater()

        dialog.finished.connect(finished)
        dialog.open()
        return await result


class ReauthDialog(QDialog):
    """Ask for the password again after Vault ended the session."""

    def __init__(
        self, vault: str, username: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        set_names(self, "reauthDialog")
        self.setWindowTitle(self.tr("Sign in again"))
        self.setModal(True)
        text = QLabel(
            self.tr(
                "Your Vault session on {vault} has ended. Enter the password of "
                "{user} to continue where you left off."
            ).format(vault=vault, user=username),
            self,
        )
        text.setWordWrap(True)
        self._password = QLineEdit(self)
        set_names(self._password, "reauthPasswordEdit")
        self._password.setEchoMode(QLineEdit.EchoMode.Password)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
            self,
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(self._password)
        layout.addWidget(buttons)

    def password(self) -> str:
        """Return the typed password."""
        return self._password.text()
