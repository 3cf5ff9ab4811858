"""Plain meanings of Submissions Archive statuses and the effect of a cancel.

The cancel rules come from Vault's "Cancel Submission" API page (identical from
v21.1 to v26.2): four statuses can be cancelled, and three of them leave the
submission in an error state that must be removed before it can be imported
again.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

IMPORT_IN_QUEUE = "IMPORT_IN_QUEUE"
IMPORT_IN_PROGRESS = "IMPORT_IN_PROGRESS"
IMPORT_SUCCEEDED = "IMPORT_SUCCEEDED"
REMOVAL_IN_QUEUE = "REMOVAL_IN_QUEUE"
REMOVAL_IN_PROGRESS = "REMOVAL_IN_PROGRESS"
# NOTE: Vault's documentation names this state "Error" without giving the
# value sent on the wire; ERROR is an assumption that the demo Vault shares.
ERROR = "ERROR"
NO_STATUS = ""


class Expected(Enum):
    """The status that Vault's documentation says a cancel leads to."""

    NO_STATUS = "no status"
    ERROR_STATE = "error state"


@dataclass(frozen=True)
class StatusInfo:
    """Plain-language facts about one ``archive_status__v`` value.

    ``cancel_effect`` and ``after_cancel`` are empty when the status cannot be
    cancelled; ``cancel_blocked_reason`` is empty when it can.
    """

    value: str
    label: str
    cancellable: bool
    known: bool
    cancel_effect: str = ""
    after_cancel: Expected | None = None
    cancel_blocked_reason: str = ""
    next_step: str = ""

    @property
    def display(self) -> str:
        """Return the label and raw value: "Import in progress (IMPORT_IN_PROGRESS)"."""
        if not self.value:
            return self.label
        return f"{self.label} ({self.value})"


_REMOVE_FIRST = (
    " The submission must then be removed from the archive before it can be "
    "imported again."
)

_TABLE: dict[str, StatusInfo] = {
    info.value: info
    for info in (
        StatusInfo(
            IMPORT_IN_QUEUE,
            "Import waiting in the queue",
            cancellable=True,
            known=True,
            cancel_effect=(
                "Cancelling takes the import out of the job queue. The submission "
                "is left with no archive status, as if the import had never "
                "been started."
            ),
            after_cancel=Expected.NO_STATUS,
            next_step="You can start the import again whenever you are ready.",
        ),
        StatusInfo(
            IMPORT_IN_PROGRESS,
            "Import in progress",
            cancellable=True,
            known=True,
            cancel_effect=(
                "Cancelling stops the running import and puts the submission in "
                "an error state." + _REMOVE_FIRST
            ),
            after_cancel=Expected.ERROR_STATE,
            next_step="Remove the submission from the archive, then import it again.",
        ),
        StatusInfo(
            REMOVAL_IN_QUEUE,
            "Removal waiting in the queue",
            cancellable=True,
            known=True,
            cancel_effect=(
                "Cancelling takes the removal out of the job queue and puts the "
                "submission in an error state." + _REMOVE_FIRST
            ),
            after_cancel=Expected.ERROR_STATE,
            next_step="Remove the submission from the archive, then import it again.",
        ),
        StatusInfo(
            REMOVAL_IN_PROGRESS,
            "Removal in progress",
            cancellable=True,
            known=True,
            cancel_effect=(
                "Cancelling stops the running removal and puts the submission in "
                "an error state." + _REMOVE_FIRST
            ),
            after_cancel=Expected.ERROR_STATE,
            next_step="Remove the submission from the archive, then import it again.",
        ),
        StatusInfo(
            IMPORT_SUCCEEDED,
            "Imported",
            cancellable=False,
            known=True,
            cancel_blocked_reason=(
                "The import has already finished, so there is nothing to cancel."
            ),
            next_step="To take it out of the archive, remove the submission in Vault.",
        ),
        StatusInfo(
            ERROR,
            "Error",
            cancellable=False,
            known=True,
            cancel_blocked_reason=(
                "No import or removal is running, so there is nothing to cancel."
            ),
            next_step="Remove the submission from the archive, then import it again.",
        ),
        StatusInfo(
            NO_STATUS,
            "No archive status",
            cancellable=False,
            known=True,
            cancel_blocked_reason=(
                "The submission has not been imported and nothing is queued, so "
                "there is nothing to cancel."
            ),
            next_step="You can import the submission whenever you are ready.",
        ),
    )
}


def status_info(value: str | None) -> StatusInfo:
    """Return what is known about an ``archive_status__v`` value.

    ``None`` (Vault's null) counts as no status. A value this table does not
    know is returned as it is, labelled unknown and not cancellable, because
    the effect of a cancel in an undocumented state is unknown.
    """
    value = (value or "").strip()
    info = _TABLE.get(value)
    if info is not None:
        return info
    return StatusInfo(
        value,
        "Unknown status",
        cancellable=False,
        known=False,
        cancel_blocked_reason=(
            "vaultgui does not know this status, so it will not cancel in it. "
            "Check the submission in Vault or ask your Vault administrator."
        ),
        next_step="Check the submission in Vault.",
    )


def matches_expected(expected: Expected, value: str | None) -> bool:
    """Return whether a status read after a cancel is the documented result."""
    value = (value or "").strip()
    if expected is Expected.NO_STATUS:
        return value == NO_STATUS
    return value == ERROR


def is_settled(value: str | None) -> bool:
    """Return whether a status is no longer one that a running job would change."""
    return not status_info(value).cancellable
