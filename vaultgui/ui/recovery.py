"""Point out cancels that an earlier run sent without recording the outcome.

A cancel's history row is written before the request goes out. If vaultgui
stopped before the reply arrived (a crash, a power cut, a forced quit), the
row stays "pending". After the next sign-in to the same Vault the user is
offered a status read for each such submission, and the row is completed
with what Vault reports.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMessageBox

from vaultgui.services.archive_status import status_info
from vaultgui.services.errors import VaultError
from vaultgui.services.history import HistoryEntry, HistoryError, HistoryStore, Outcome
from vaultgui.ui.main_window import MainWindow
from vaultgui.ui.messages import UserMessage
from vaultgui.ui.tasks import run_in_thread, spawn
from vaultgui.ui.widgets import message_box

log = logging.getLogger(__name__)


class PendingCancelCheck(QObject):
    """Offer, once per sign-in, to read the status behind unfinished cancels."""

    def __init__(self, window: MainWindow, history: HistoryStore) -> None:
        super().__init__(window)
        self._window = window
        self._history = history
        self._pending: list[HistoryEntry] = []

    def start(self) -> None:
        """Look for pending rows off the UI thread and ask if there are any."""
        spawn(self._find(), name="pending-cancels")

    async def _find(self) -> None:
        vault_dns = self._window.client.address.netloc
        try:
            rows = await run_in_thread(self._history.pending, name="pending-cancels")
        except HistoryError as error:
            log.error("Could not read unfinished cancels: %s", error)
            return
        # NOTE: a cancel that another running copy of vaultgui is sending right
        # now is pending too. Reading its status is harmless, but that copy then
        # reports a failure to write history when its own reply arrives.
        self._pending = [row for row in rows if row.vault_dns == vault_dns]
        if self._pending:
            log.info("%d cancels on %s have no outcome", len(self._pending), vault_dns)
            self._ask()

    def _ask(self) -> None:
        names = "\n".join(
            f"• {row.submission_name or row.submission_id} ({row.submission_id}), "
            f"{row.time_utc.astimezone():%Y-%m-%d %H:%M}"
            for row in self._pending
        )
        box = message_box(
            self._window,
            "pendingCancelsDialog",
            QMessageBox.Icon.Question,
            self.tr("Cancels without a recorded outcome"),
            self.tr(
                "vaultgui stopped while these cancels were being sent, so what "
                "Vault did was not recorded:\n\n{names}\n\nRead their status in "
                "Vault now? Nothing is sent again."
            ).format(names=names),
        )
        check = box.addButton(self.tr("Check now"), QMessageBox.ButtonRole.AcceptRole)
        box.addButton(self.tr("Later"), QMessageBox.ButtonRole.RejectRole)

        def answered() -> None:
            if box.clickedButton() is check:
                spawn(self._check_all(), name="check-pending-cancels")

        box.finished.connect(answered)
        box.open()

    async def _check_all(self) -> None:
        lines = []
        for row in self._pending:
            lines.append(await self._check(row))
        self._window.outcome.show_message(
            UserMessage(
                self.tr(
                    "Status read for cancels from an earlier session:\n{lines}"
                ).format(lines="\n".join(lines))
            )
        )
        self._window.history_view.reload()

    async def _check(self, row: HistoryEntry) -> str:
        client = self._window.client
        try:
            submission = await run_in_thread(
                lambda: client.get_submission(row.submission_id), name="recheck"
            )
        except VaultError as error:
            log.warning("Status read for pending cancel %s failed: %r", row.id, error)
            return self.tr("{id}: the status could not be read ({error}).").format(
                id=row.submission_id, error=error.error_type or error.detail
            )
        status = status_info(submission.archive_status)
        self._window.note_unclear_cancel(row.submission_id, row.time_utc)
        try:
            await run_in_thread(
                lambda: self._complete(row, submission.archive_status), name="history"
            )
        except HistoryError as error:
            log.error("Could not complete history row %s: %s", row.id, error)
        return self.tr("{id}: Vault now reports {status}.").format(
            id=row.submission_id, status=status.display
        )

    def _complete(self, row: HistoryEntry, status_after: str) -> None:
        if row.id is None:
            return
        self._history.complete(
            row.id,
            outcome=Outcome.UNKNOWN,
            status_after=status_after,
            detail="vaultgui stopped before the reply; status read at a later sign-in.",
        )
