"""Write history rows off the UI thread and report failures without blocking."""

from __future__ import annotations

import getpass
import logging
from datetime import UTC, datetime

from PySide6.QtCore import QObject, Signal

from vaultgui.services.history import (
    Action,
    HistoryEntry,
    HistoryError,
    HistoryStore,
    Outcome,
)
from vaultgui.ui.tasks import run_in_thread

log = logging.getLogger(__name__)


def os_user() -> str:
    """Return the operating-system user name, or "" when it cannot be found."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return ""


class HistoryRecorder(QObject):
    """Add rows for one signed-in user and Vault.

    A failed write never stops the action it records: it is logged and
    reported through :attr:`failed` so the window can show it.
    """

    failed = Signal(str)
    written = Signal()

    def __init__(
        self,
        store: HistoryStore | None,
        *,
        vault_dns: str,
        vault_username: str,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._vault_dns = vault_dns
        self._vault_username = vault_username
        self._os_user = os_user()

    def _entry(self, action: Action, **fields: str | Outcome) -> HistoryEntry:
        return HistoryEntry(
            id=None,
            time_utc=datetime.now(UTC),
            os_user=self._os_user,
            vault_dns=self._vault_dns,
            vault_username=self._vault_username,
            action=action,
            **fields,  # type: ignore[arg-type]
        )

    async def add(self, action: Action, **fields: str | Outcome) -> int | None:
        """Add a finished action; return its row id, or ``None`` if not written."""
        store = self._store
        if store is None:
            return None
        entry = self._entry(action, **fields)
        return await self._run(lambda: store.add(entry))

    async def begin_cancel(self, **fields: str | Outcome) -> int | None:
        """Write the intent row of a cancel before the cancel is sent."""
        store = self._store
        if store is None:
            return None
        entry = self._entry(Action.CANCEL, outcome=Outcome.PENDING, **fields)
        return await self._run(lambda: store.begin_cancel(entry))

    async def complete(self, row_id: int | None, **fields: str | Outcome) -> None:
        """Record how a cancel ended on the row written by :meth:`begin_cancel`."""
        store = self._store
        if store is None or row_id is None:
            return
        await self._run(lambda: store.complete(row_id, **fields))  # type: ignore[arg-type]

    async def _run(self, write: object) -> int | None:
        try:
            result = await run_in_thread(write, name="history-write")  # type: ignore[arg-type]
        except (HistoryError, OSError, ValueError) as error:
            log.error("Could not write to the history: %s", error)
            self.failed.emit(
                self.tr(
                    "The action went ahead, but it could not be written to your "
                    "history: {error}"
                ).format(error=error)
            )
            return None
        self.written.emit()
        return result if isinstance(result, int) else None
