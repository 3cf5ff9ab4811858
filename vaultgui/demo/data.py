"""Sample records, users and sessions of the demo Vault, with Vault's status rules."""

from __future__ import annotations

import dataclasses
import enum
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

logger = logging.getLogger(__name__)

DEMO_USERNAME = "alex.morgan@demo-pharma.com"
DEMO_PASSWORD = "Demo-Vault-1"
SANDBOX_USERNAME = "sandbox.only@demo-pharma.com"

VAULT_ID = 1001
VAULT_NAME = "Demo Pharma RIM (demo)"
SANDBOX_VAULT_ID = 1002
SANDBOX_VAULT_NAME = "Demo Pharma RIM Sandbox"
SANDBOX_VAULT_URL = "https://sandbox-demo-pharma.veevavault.com/api"

IMPORT_IN_QUEUE = "IMPORT_IN_QUEUE"
IMPORT_IN_PROGRESS = "IMPORT_IN_PROGRESS"
IMPORT_SUCCEEDED = "IMPORT_SUCCEEDED"
REMOVAL_IN_QUEUE = "REMOVAL_IN_QUEUE"
REMOVAL_IN_PROGRESS = "REMOVAL_IN_PROGRESS"
# NOTE: Vault's Cancel Submission page (API v23.1 to v26.2) names this state
# "Error" in quotes and never shows the wire value, so "ERROR" is an assumption.
ERROR_STATUS = "ERROR"

# Status after an accepted cancel, keyed by the status before it. "" is null.
CANCEL_TRANSITIONS: dict[str, str] = {
    IMPORT_IN_QUEUE: "",
    IMPORT_IN_PROGRESS: ERROR_STATUS,
    REMOVAL_IN_QUEUE: ERROR_STATUS,
    REMOVAL_IN_PROGRESS: ERROR_STATUS,
}

# Next status of a submission that moves on the timer. "" means removed (null).
TIMER_STEPS: dict[str, str] = {
    IMPORT_IN_QUEUE: IMPORT_IN_PROGRESS,
    IMPORT_IN_PROGRESS: IMPORT_SUCCEEDED,
    REMOVAL_IN_QUEUE: REMOVAL_IN_PROGRESS,
    REMOVAL_IN_PROGRESS: "",
}

SESSION_MAX_SECONDS = 48 * 3600.0

# Fields each object accepts in a VQL query, in the order Vault lists them.
QUERY_FIELDS: dict[str, tuple[str, ...]] = {
    "submission__v": (
        "id",
        "name__v",
        "archive_status__v",
        "application__v",
        "dossier_status__v",
        "application__vr.name__v",
    ),
    "application__v": ("id", "name__v"),
}

APPLICATIONS: dict[str, str] = {
    "00A000000000201": "DP-101 Marketing Authorisation (EU)",
    "00A000000000202": "DP-204 Investigational New Drug (US)",
}


class SignInError(Exception):
    """A rejected sign-in, with the Vault error type to send in ``error_type``."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


@dataclass(frozen=True)
class DemoUser:
    """A user who can sign in. ``vault_id`` is the Vault that /auth signs them into."""

    user_id: int
    username: str
    first_name: str
    last_name: str
    vault_id: int


USERS: dict[str, DemoUser] = {
    user.username: user
    for user in (
        DemoUser(61603, DEMO_USERNAME, "Alex", "Morgan", VAULT_ID),
        DemoUser(61604, SANDBOX_USERNAME, "Sam", "Rivera", SANDBOX_VAULT_ID),
    )
}

# Accounts that fail to sign in with this error type, whatever the password.
BLOCKED_ACCOUNTS: dict[str, tuple[str, str]] = {
    "locked.user@demo-pharma.com": (
        "USER_LOCKED_OUT",
        "User account is locked after too many failed sign-in attempts.",
    ),
    "inactive.user@demo-pharma.com": ("INACTIVE_USER", "User account is inactive."),
    "expired.password@demo-pharma.com": (
        "PASSWORD_CHANGE_REQUIRED",
        "Password has expired and must be changed in the Vault web UI.",
    ),
}


def check_credentials(username: str, password: str) -> DemoUser:
    """Return the user these credentials sign in, or raise SignInError.

    An empty password is checked first, then the blocked accounts, then the
    password itself. User names are compared without regard to case.
    """
    key = username.strip().lower()
    if not password:
        raise SignInError("NO_PASSWORD_PROVIDED", "No password was provided.")
    if key in BLOCKED_ACCOUNTS:
        raise SignInError(*BLOCKED_ACCOUNTS[key])
    user = USERS.get(key)
    if user is None or password != DEMO_PASSWORD:
        raise SignInError(
            "USERNAME_OR_PASSWORD_INCORRECT",
            f"Authentication failed for user: {username}.",
        )
    return user


def utc_timestamp(seconds_ago: float = 0.0) -> str:
    """Return a UTC time as Vault writes it: 2025-01-31T09:00:00.000Z."""
    moment = datetime.now(UTC) - timedelta(seconds=seconds_ago)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class Submission:
    """One submission__v record, plus the demo's timer and cancel bookkeeping.

    ``archive_status`` "" is a null status. Monotonic times are in seconds.
    """

    submission_id: str
    name: str
    archive_status: str
    application_id: str
    dossier_status: str = "publishing_active__v"
    created_date: str = "2025-06-02T08:30:00.000Z"
    modified_date: str = "2025-06-02T08:30:00.000Z"
    on_timer: bool = False
    cancelled: bool = False
    next_step_at: float | None = None
    settle_at: float | None = None
    settle_status: str = ""

    def record_fields(self) -> dict[str, object]:
        """Return the fields of Retrieve Object Record's ``data``."""
        return {
            "id": self.submission_id,
            "name__v": self.name,
            "archive_status__v": self.archive_status or None,
            "application__v": self.application_id,
            "dossier_status__v": self.dossier_status,
            "status__v": ["active__v"],
            "created_date__v": self.created_date,
            "modified_date__v": self.modified_date,
        }

    def query_fields(self) -> dict[str, str | None]:
        """Return every field a VQL query may select, flat keys for relationships."""
        return {
            "id": self.submission_id,
            "name__v": self.name,
            "archive_status__v": self.archive_status or None,
            "application__v": self.application_id,
            "dossier_status__v": self.dossier_status,
            "application__vr.name__v": APPLICATIONS.get(self.application_id),
        }


def sample_submissions() -> dict[str, Submission]:
    """Return a fresh copy of the demo submissions, keyed by record ID."""
    rows = (
        ("101", "0001 - Initial Marketing Application", IMPORT_IN_PROGRESS, "201"),
        ("102", "0002 - Response to Information Request", IMPORT_IN_QUEUE, "201"),
        ("103", "0003 - Annual Report 2025", REMOVAL_IN_PROGRESS, "202"),
        ("104", "0004 - Labeling Supplement", REMOVAL_IN_QUEUE, "202"),
        ("105", "0005 - Safety Update", IMPORT_SUCCEEDED, "201"),
        ("106", "0006 - Quality Amendment", "", "201"),
        ("107", "0007 - CMC Variation", ERROR_STATUS, "202"),
        ("108", "0008 - Sponsor's 100% Q3\\2025 Response", IMPORT_IN_PROGRESS, "202"),
        # A status the app does not know, to show how it treats one.
        ("109", "0009 - Periodic Safety Report", "IMPORT_PAUSED", "201"),
        ("110", "0010 - Amendment", IMPORT_IN_QUEUE, "201"),
        ("111", "0010 - Amendment", IMPORT_SUCCEEDED, "202"),
        ("112", "0012 - Clinical Study Report", IMPORT_IN_QUEUE, "202"),
        ("113", "0013 - Orphan Designation Request", REMOVAL_IN_QUEUE, "201"),
    )
    submissions: dict[str, Submission] = {}
    for index, (suffix, name, archive_status, application) in enumerate(rows):
        created = f"2025-{6 + index // 5:02d}-{1 + index * 2:02d}T09:15:00.000Z"
        submission = Submission(
            submission_id=f"00S000000000{suffix}",
            name=name,
            archive_status=archive_status,
            application_id=f"00A000000000{application}",
            created_date=created,
            modified_date=created,
            on_timer=suffix in ("112", "113"),
        )
        submissions[submission.submission_id] = submission
    return submissions


class CancelOutcome(enum.Enum):
    """Result of a Cancel Submission request."""

    ACCEPTED = "accepted"
    NOT_FOUND = "not_found"
    NOT_ALLOWED = "not_allowed"


class ArchiveStore:
    """Thread-safe submissions with their archive status, timer and cancel rules.

    Timer steps and delayed cancels are applied lazily from elapsed monotonic
    time whenever the store is read, so no thread is needed. The timer runs only
    between start_clock() and stop_clock(), and only when ``advance_seconds`` is
    not None.
    """

    def __init__(
        self, *, advance_seconds: float | None, cancel_settle_seconds: float
    ) -> None:
        self._lock = threading.Lock()
        self._submissions = sample_submissions()
        self._advance_seconds = advance_seconds
        self._settle_seconds = cancel_settle_seconds
        self._clock_running = False
        self._stopped_at: float | None = None

    def start_clock(self) -> None:
        """Start the status timer from now."""
        with self._lock:
            self._clock_running = True
            now = time.monotonic()
            for submission in self._submissions.values():
                self._restart_timer(submission, now)

    def stop_clock(self) -> None:
        """Freeze time: no timer step or delayed cancel happens after this."""
        with self._lock:
            self._catch_up()
            self._stopped_at = time.monotonic()

    def get(self, submission_id: str) -> Submission | None:
        """Return a copy of the submission, or None when the ID is unknown."""
        with self._lock:
            self._catch_up()
            submission = self._submissions.get(submission_id)
            return None if submission is None else dataclasses.replace(submission)

    def query_rows(self, object_name: str) -> list[dict[str, str | None]]:
        """Return the queryable fields of every record of a VQL object."""
        if object_name == "application__v":
            return [{"id": key, "name__v": name} for key, name in APPLICATIONS.items()]
        with self._lock:
            self._catch_up()
            return [item.query_fields() for item in self._submissions.values()]

    def set_status(self, submission_id: str, archive_status: str) -> None:
        """Overwrite the status ("" is null), dropping any pending cancel.

        The submission counts as not cancelled again, and one that moves on the
        timer takes its next step ``advance_seconds`` from now. Raises KeyError
        for an unknown ID.
        """
        with self._lock:
            self._catch_up()
            submission = self._submissions[submission_id]
            submission.cancelled = False
            submission.settle_at = None
            self._change_status(submission, archive_status)
            self._restart_timer(submission, time.monotonic())

    def add(self, submission: Submission) -> None:
        """Add or replace a submission, which does not move on the timer."""
        with self._lock:
            self._submissions[submission.submission_id] = submission

    def cancel(self, submission_id: str) -> tuple[CancelOutcome, str]:
        """Apply Vault's cancel rules and return the outcome and the prior status.

        An accepted cancel stops the timer for that submission for good. With
        ``cancel_settle_seconds`` > 0 the new status is stored only after that
        delay, as Vault tears the job down asynchronously.
        """
        with self._lock:
            self._catch_up()
            submission = self._submissions.get(submission_id)
            if submission is None:
                return CancelOutcome.NOT_FOUND, ""
            prior = submission.archive_status
            if prior not in CANCEL_TRANSITIONS:
                return CancelOutcome.NOT_ALLOWED, prior
            submission.cancelled = True
            # NOTE: a repeated cancel while one is still settling is accepted and
            # keeps the first settle time. What real Vault does then is unknown.
            if submission.settle_at is not None:
                return CancelOutcome.ACCEPTED, prior
            if self._settle_seconds > 0:
                submission.settle_at = time.monotonic() + self._settle_seconds
                submission.settle_status = CANCEL_TRANSITIONS[prior]
            else:
                self._change_status(submission, CANCEL_TRANSITIONS[prior])
            return CancelOutcome.ACCEPTED, prior

    def _restart_timer(self, submission: Submission, now: float) -> None:
        moves = self._advance_seconds is not None and submission.on_timer
        if moves and self._advance_seconds is not None:
            submission.next_step_at = now + self._advance_seconds
        else:
            submission.next_step_at = None

    def _catch_up(self) -> None:
        """Apply every timer step and delayed cancel that is due by now."""
        now = self._stopped_at if self._stopped_at is not None else time.monotonic()
        for submission in self._submissions.values():
            if submission.settle_at is not None and submission.settle_at <= now:
                due_at, submission.settle_at = submission.settle_at, None
                self._change_status(submission, submission.settle_status, due_at)
            if self._clock_running:
                self._step_timer(submission, now)

    def _step_timer(self, submission: Submission, now: float) -> None:
        interval = self._advance_seconds
        if interval is None or submission.cancelled:
            return
        while (
            submission.next_step_at is not None
            and submission.next_step_at <= now
            and submission.archive_status in TIMER_STEPS
        ):
            next_status = TIMER_STEPS[submission.archive_status]
            self._change_status(submission, next_status, submission.next_step_at)
            submission.next_step_at += interval

    @staticmethod
    def _change_status(
        submission: Submission, archive_status: str, due_at: float | None = None
    ) -> None:
        """Store a new status, dated ``due_at`` (monotonic) when it fell due."""
        lag = 0.0 if due_at is None else max(time.monotonic() - due_at, 0.0)
        logger.info(
            "Submission %s archive status %s -> %s",
            submission.submission_id,
            submission.archive_status or "null",
            archive_status or "null",
        )
        submission.archive_status = archive_status
        submission.modified_date = utc_timestamp(lag)


@dataclass
class _Session:
    user: DemoUser
    created_at: float
    last_used_at: float


class SessionStore:
    """Thread-safe session IDs, each expiring after ``idle_seconds`` without use."""

    def __init__(self, idle_seconds: float) -> None:
        self._lock = threading.Lock()
        self._idle_seconds = idle_seconds
        self._sessions: dict[str, _Session] = {}

    def open(self, user: DemoUser) -> str:
        """Create a session for the user and return its ID (128 hex digits)."""
        session_id = secrets.token_hex(64)
        now = time.monotonic()
        with self._lock:
            self._sessions[session_id] = _Session(user, now, now)
        return session_id

    def resolve(self, session_id: str) -> DemoUser | None:
        """Return the session's user and mark it used, or None when invalid."""
        now = time.monotonic()
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None
            idle = now - session.last_used_at > self._idle_seconds
            if idle or now - session.created_at > SESSION_MAX_SECONDS:
                del self._sessions[session_id]
                return None
            session.last_used_at = now
            return session.user

    def end(self, session_id: str) -> None:
        """Invalidate one session, ignoring an unknown ID."""
        with self._lock:
            self._sessions.pop(session_id, None)

    def end_all(self) -> None:
        """Invalidate every session."""
        with self._lock:
            self._sessions.clear()
