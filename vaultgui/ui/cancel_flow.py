"""The cancel procedure: re-read, send once, read again until the status settles.

Cancel is not idempotent in Vault, so the request is sent at most once per
confirmation and never retried. After an unclear ending the status is read
and what Vault reports is shown.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QCoreApplication

from vaultgui.services.archive_status import (
    Expected,
    StatusInfo,
    is_settled,
    matches_expected,
    status_info,
)
from vaultgui.services.client import VaultClient
from vaultgui.services.errors import SessionExpiredError, TransportError, VaultError
from vaultgui.services.history import Action, Outcome
from vaultgui.services.models import Submission
from vaultgui.ui.messages import UserMessage, describe_error, details_for
from vaultgui.ui.recorder import HistoryRecorder
from vaultgui.ui.session_keeper import SessionKeeper

log = logging.getLogger(__name__)

# Pauses before each status read after a cancel, in seconds. They grow so that
# a slow job teardown is followed for about 8 s with only a handful of calls.
RECHECK_PAUSES: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0)
# Below this many calls left in Vault's burst window, status reads stop early
# so that the user's next actions are not the ones Vault slows down.
LOW_BURST_REMAINING = 20


def tr(text: str) -> str:
    """Translate a user-facing string in the ``cancel`` context."""
    return QCoreApplication.translate("cancel", text)


@dataclass(frozen=True)
class CancelResult:
    """The end state of one cancel, for the outcome area and the history."""

    outcome: Outcome
    message: UserMessage
    tone: str
    submission: Submission | None


class CancelFlow:
    """Run one confirmed cancel for one submission.

    ``progress`` receives short texts for the busy indicator. After
    :meth:`run` is cancelled (the user pressed Stop), :attr:`request_started`
    is true when the cancel may have reached Vault.
    """

    def __init__(
        self,
        client: VaultClient,
        keeper: SessionKeeper,
        recorder: HistoryRecorder,
        submission: Submission,
        confirmed: StatusInfo,
        progress: Callable[[str], None],
        pauses: Sequence[float] = RECHECK_PAUSES,
    ) -> None:
        self._client = client
        self._keeper = keeper
        self._recorder = recorder
        self._submission = submission
        self._confirmed = confirmed
        self._progress = progress
        self._pauses = pauses
        self.reference_id = str(uuid.uuid4())
        self.request_started = False
        self.sent_at: datetime | None = None
        self.row_id: int | None = None
        self._reply_outcome: Outcome | None = None
        self._execution_id = ""

    @property
    def submission_id(self) -> str:
        """The record ID of the submission this cancel is for."""
        return self._submission.id

    async def run(self) -> CancelResult:
        """Run the procedure and return its result; errors end up in the result."""
        self._progress(tr("Checking the status again before cancelling…"))
        try:
            current = await self._read()
        except VaultError as error:
            return await self._not_checked(error)
        if current.archive_status != self._confirmed.value:
            return await self._status_changed(current)

        self.row_id = await self._recorder.begin_cancel(**self._row_fields())
        try:
            return await self._send_and_follow()
        except asyncio.CancelledError:
            await self._recorder.complete(
                self.row_id,
                outcome=self._reply_outcome or Outcome.ABANDONED,
                execution_id=self._execution_id,
                detail="The user stopped waiting before the status settled.",
            )
            raise

    async def _send_and_follow(self) -> CancelResult:
        self._progress(tr("Sending the cancel to Vault…"))
        self.request_started = True
        self.sent_at = datetime.now()
        log.info(
            "Sending cancel for submission %s in status %s (reference %s)",
            self._submission.id,
            self._confirmed.value,
            self.reference_id,
        )
        try:
            reply = await self._keeper.send_once(
                lambda: self._client.cancel_import(
                    self._submission.id, reference_id=self.reference_id
                ),
                name="cancel",
            )
        except VaultError as error:
            return await self._after_error(error)
        return await self._after_success(reply.execution_id)

    async def _read(self) -> Submission:
        latest = await self._keeper.read(
            lambda: self._client.get_submission(
                self._submission.id, with_application_name=False
            ),
            name="read-status",
        )
        return dataclasses.replace(
            latest, application_name=self._submission.application_name
        )

    async def _settled_status(self) -> tuple[Submission | None, VaultError | None]:
        """Read the status, again after growing pauses while a job still runs."""
        latest: Submission | None = None
        for pause in self._pauses:
            self._progress(tr("Reading the status Vault reports now…"))
            await asyncio.sleep(pause)
            try:
                latest = await self._read()
            except VaultError as error:
                log.warning("Status read after cancel failed: %r", error)
                return latest, error
            if is_settled(latest.archive_status):
                break
            remaining = self._client.last_limits.burst_remaining
            if remaining is not None and remaining < LOW_BURST_REMAINING:
                log.info("Only %d Vault calls left; status reads paused", remaining)
                break
        return latest, None

    def _row_fields(self) -> dict[str, str]:
        return {
            "submission_id": self._submission.id,
            "submission_name": self._submission.name,
            "status_before": self._confirmed.value,
            "reference_id": self.reference_id,
        }

    async def _not_checked(self, error: VaultError) -> CancelResult:
        message = describe_error(error, host=self._client.address.host)
        await self._recorder.add(
            Action.CANCEL,
            outcome=Outcome.NOT_SENT,
            execution_id=error.execution_id,
            detail=details_for(error),
            **self._row_fields(),
        )
        return CancelResult(
            Outcome.NOT_SENT,
            UserMessage(
                tr(
                    "Nothing was sent: the status could not be checked first. {text}"
                ).format(text=message.text),
                message.details,
            ),
            "error",
            None,
        )

    async def _status_changed(self, current: Submission) -> CancelResult:
        now = status_info(current.archive_status)
        log.info(
            "Cancel for %s not sent: status changed from %s to %s",
            current.id,
            self._confirmed.value,
            now.value,
        )
        await self._recorder.add(
            Action.CANCEL,
            outcome=Outcome.NOT_SENT,
            status_after=now.value,
            detail="The status changed before the cancel was sent.",
            **self._row_fields(),
        )
        text = tr(
            "Nothing was sent. While you were deciding, the status changed from "
            "{before} to {now}. Review the new status before doing anything else."
        ).format(before=self._confirmed.display, now=now.display)
        return CancelResult(Outcome.NOT_SENT, UserMessage(text), "error", current)

    async def _after_success(self, execution_id: str) -> CancelResult:
        self._reply_outcome = Outcome.SUCCEEDED
        self._execution_id = execution_id
        latest, read_error = await self._settled_status()
        status_after = latest.archive_status if latest else ""
        await self._recorder.complete(
            self.row_id,
            outcome=Outcome.SUCCEEDED,
            status_after=status_after,
            execution_id=execution_id,
        )
        text = tr("Vault accepted the cancel.") + " " + self._report(latest, read_error)
        details = tr("Vault execution id: {value}").format(value=execution_id)
        return CancelResult(Outcome.SUCCEEDED, UserMessage(text, details), "ok", latest)

    async def _after_error(self, error: VaultError) -> CancelResult:
        if isinstance(error, SessionExpiredError):
            return await self._after_expired_session(error)
        unclear = isinstance(error, TransportError) and error.may_have_reached_vault
        not_sent = isinstance(error, TransportError) and not unclear
        outcome = (
            Outcome.UNKNOWN
            if unclear
            else (Outcome.FAILED if not_sent else Outcome.REJECTED)
        )
        log.warning("Cancel for %s ended with %r", self._submission.id, error)
        self._reply_outcome = outcome
        self._execution_id = error.execution_id

        message = describe_error(error, host=self._client.address.host)
        latest, read_error = await self._settled_status()
        await self._recorder.complete(
            self.row_id,
            outcome=outcome,
            status_after=latest.archive_status if latest else "",
            execution_id=error.execution_id,
            detail=details_for(error),
        )

        if unclear:
            lead = tr(
                "It is not clear whether the cancel reached Vault. {text} "
                "vaultgui did not send it again."
            ).format(text=message.text)
        elif not_sent:
            lead = tr("The cancel could not be sent. {text}").format(text=message.text)
        else:
            lead = tr("Vault did not cancel. {text}").format(text=message.text)
        text = lead + " " + self._report(latest, read_error)
        return CancelResult(
            outcome, UserMessage(text, message.details), "error", latest
        )

    async def _after_expired_session(self, error: SessionExpiredError) -> CancelResult:
        """Report a cancel that Vault rejected because the session had ended."""
        self._reply_outcome = Outcome.FAILED
        latest, read_error = await self._settled_status()
        await self._recorder.complete(
            self.row_id,
            outcome=Outcome.FAILED,
            status_after=latest.archive_status if latest else "",
            execution_id=error.execution_id,
            detail=details_for(error),
        )
        lead = tr(
            "Your Vault session had ended, so Vault did not carry out the cancel. "
            "You are signed in again, and nothing was sent a second time."
        )
        text = lead + " " + self._report(latest, read_error)
        return CancelResult(
            Outcome.FAILED, UserMessage(text, details_for(error)), "error", latest
        )

    def _report(self, latest: Submission | None, read_error: VaultError | None) -> str:
        """Describe the status read after the cancel against the documented one."""
        if latest is None:
            reason = describe_error(read_error).text if read_error else ""
            return tr(
                "The status could not be read afterwards. {reason} Use Refresh "
                "status to see what Vault reports."
            ).format(reason=reason)
        now = status_info(latest.archive_status)
        expected = self._confirmed.after_cancel
        if expected is not None and matches_expected(expected, now.value):
            return tr(
                "Vault now reports: {now}. That is what Vault's documentation says "
                "a cancel leads to.\nNext: {step}"
            ).format(now=now.display, step=self._confirmed.next_step)
        if not is_settled(now.value):
            return tr(
                "Vault still reports: {now}. The job may need a little longer to "
                "stop; use Refresh status in a minute."
            ).format(now=now.display)
        return tr(
            "Vault now reports: {now}, but Vault's documentation says a cancel "
            "in this status leads to {expected}. The job may have finished before "
            "the cancel reached it. Check the submission in Vault."
        ).format(now=now.display, expected=_expected_text(self._confirmed))


def _expected_text(confirmed: StatusInfo) -> str:
    if confirmed.after_cancel is None:
        return tr("a different status")
    if confirmed.after_cancel is Expected.NO_STATUS:
        return tr("no archive status")
    return tr("an error state")
