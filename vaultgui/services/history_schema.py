"""History records and how they are stored: schema versions, migrations, SQL."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from pathlib import Path

from vaultgui.services.files import sibling_path

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_S = 10.0
# Maximum memory of one connection's page cache, in KiB.
CACHE_SIZE_KIB = 65536

# Statements that bring the schema from version N - 1 to version N, keyed by N.
# ``PRAGMA user_version`` stores N; a new file has version 0. Append new steps and
# never edit a released one, because files in the field already passed through it.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """
        CREATE TABLE history (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            time_utc TEXT NOT NULL,
            os_user TEXT NOT NULL,
            vault_dns TEXT NOT NULL,
            vault_username TEXT NOT NULL,
            action TEXT NOT NULL,
            submission_id TEXT NOT NULL DEFAULT '',
            submission_name TEXT NOT NULL DEFAULT '',
            status_before TEXT NOT NULL DEFAULT '',
            outcome TEXT NOT NULL,
            status_after TEXT NOT NULL DEFAULT '',
            execution_id TEXT NOT NULL DEFAULT '',
            reference_id TEXT NOT NULL DEFAULT '',
            detail TEXT NOT NULL DEFAULT '',
            completed_utc TEXT
        )
        """,
        "CREATE INDEX history_by_time ON history (time_utc, id)",
        "CREATE INDEX history_pending ON history (id) WHERE outcome = 'pending'",
    ),
    # Indexes for filtering and sorting the history. Each ends in (time_utc, id),
    # the order that ``query_order`` uses to break ties, so that SQLite can read
    # rows in the requested order without sorting them.
    2: (
        "CREATE INDEX history_by_submission ON history (submission_id, time_utc, id)",
        "CREATE INDEX history_by_outcome ON history (outcome, time_utc, id)",
        "CREATE INDEX history_by_vault ON history (vault_dns, time_utc, id)",
    ),
}


class Action(StrEnum):
    """What the user did."""

    SIGN_IN = "sign_in"
    LOOKUP = "lookup"
    CANCEL = "cancel"
    RECHECK = "recheck"
    SIGN_OUT = "sign_out"


class Outcome(StrEnum):
    """How an action ended."""

    PENDING = "pending"  # intent written, the cancel is being sent
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REJECTED = "rejected"  # Vault returned responseStatus FAILURE
    UNKNOWN = "unknown"  # no clear reply, so a status read afterwards shows the result
    ABANDONED = "abandoned"  # the user stopped waiting
    NOT_SENT = "not_sent"  # the status changed before sending, so nothing was sent


@dataclass(frozen=True)
class HistoryEntry:
    """One row of the history.

    Times must be timezone-aware and are converted to UTC. ``reference_id`` is the
    ``X-VaultAPI-ReferenceID`` sent with a cancel. ``detail`` is an error type and
    a short plain text. No field may contain a password, session id or token.
    """

    id: int | None
    time_utc: datetime
    os_user: str
    vault_dns: str
    vault_username: str
    action: Action
    submission_id: str = ""
    submission_name: str = ""
    status_before: str = ""
    outcome: Outcome = Outcome.SUCCEEDED
    status_after: str = ""
    execution_id: str = ""
    reference_id: str = ""
    detail: str = ""
    completed_utc: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "time_utc", _as_utc(self.time_utc, "time_utc"))
        if self.completed_utc is not None:
            completed = _as_utc(self.completed_utc, "completed_utc")
            object.__setattr__(self, "completed_utc", completed)
        object.__setattr__(self, "action", Action(self.action))
        object.__setattr__(self, "outcome", Outcome(self.outcome))


def _as_utc(moment: datetime, field: str) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"{field} {moment.isoformat()} has no time zone: pass UTC.")
    return moment.astimezone(UTC)


# Columns that a query may sort on, in the order the history view shows them.
SORT_KEYS = (
    "time_utc",
    "vault_dns",
    "submission_id",
    "submission_name",
    "action",
    "status_before",
    "outcome",
    "status_after",
    "execution_id",
    "vault_username",
    "reference_id",
)
# Columns that the free text of a query is searched in.
SEARCHED_FIELDS = (
    "submission_id",
    "submission_name",
    "vault_dns",
    "vault_username",
    "execution_id",
    "reference_id",
    "detail",
)


@dataclass(frozen=True)
class HistoryQuery:
    """A filter and a sort order for listing history entries.

    ``text`` is searched case-insensitively as a substring of every column in
    ``SEARCHED_FIELDS``, and an entry matches when any of them contains it.
    ``date_from`` and ``date_to`` are calendar days in ``time_zone`` (the
    computer's local zone when None), both included. The store converts them to
    UTC bounds itself, so callers pass the days the user picked. An empty
    ``outcomes`` set and an empty ``vault_dns`` match every entry. ``order_by``
    is one of ``SORT_KEYS``, and entries that sort equal on it are ordered by
    time and row id in the same direction.
    """

    text: str = ""
    date_from: date | None = None
    date_to: date | None = None
    outcomes: frozenset[Outcome] = field(default_factory=frozenset)
    vault_dns: str = ""
    order_by: str = "time_utc"
    descending: bool = True
    time_zone: tzinfo | None = None

    def __post_init__(self) -> None:
        if self.order_by not in SORT_KEYS:
            raise ValueError(
                f"Cannot sort the history on {self.order_by!r}: use one of "
                f"{', '.join(SORT_KEYS)}."
            )
        outcomes = frozenset(Outcome(value) for value in self.outcomes)
        object.__setattr__(self, "outcomes", outcomes)

    @property
    def is_filtered(self) -> bool:
        """Whether any filter is set, so that some entries may be left out."""
        return bool(
            self.text.strip()
            or self.date_from is not None
            or self.date_to is not None
            or self.outcomes
            or self.vault_dns
        )

    def utc_bounds(self) -> tuple[datetime | None, datetime | None]:
        """Return the UTC start (included) and end (excluded) of the date range.

        Each bound is local midnight in ``time_zone``: the start of
        ``date_from`` and the start of the day after ``date_to``.
        """
        start = None if self.date_from is None else self._midnight(self.date_from)
        end = None
        if self.date_to is not None:
            end = self._midnight(self.date_to + timedelta(days=1))
        return start, end

    def _midnight(self, day: date) -> datetime:
        midnight = datetime.combine(day, time())
        if self.time_zone is None:
            # A naive datetime's astimezone() reads it as local time, daylight
            # saving included.
            return midnight.astimezone(UTC)
        return midnight.replace(tzinfo=self.time_zone).astimezone(UTC)


def _sql_text_list(values: type[StrEnum]) -> str:
    # The values are constants of this module, so no quote needs escaping.
    return ", ".join(f"'{value}'" for value in values)


FIELDS = (
    "time_utc",
    "os_user",
    "vault_dns",
    "vault_username",
    "action",
    "submission_id",
    "submission_name",
    "status_before",
    "outcome",
    "status_after",
    "execution_id",
    "reference_id",
    "detail",
    "completed_utc",
)
INSERT_SQL = (
    f"INSERT INTO history ({', '.join(FIELDS)}) "
    f"VALUES ({', '.join('?' for _ in FIELDS)})"
)
SELECT_SQL = f"SELECT id, {', '.join(FIELDS)} FROM history"
# NOTE: only a newer vaultgui writes an action or outcome that this version does
# not know. Reads leave such rows out, because HistoryEntry cannot carry them.
# Reads of a newer file also assume that newer schemas only add columns.
# The unary + keeps SQLite from picking the outcome index for this condition,
# which holds for nearly every row: it would then sort the whole table instead
# of reading the time index in order.
_KNOWN_ACTIONS = _sql_text_list(Action)
_KNOWN_OUTCOMES = _sql_text_list(Outcome)
KNOWN_ROWS_SQL = f"+action IN ({_KNOWN_ACTIONS}) AND +outcome IN ({_KNOWN_OUTCOMES})"
# Each step looks up the next Vault in the Vault index, so a history with few
# Vaults is listed without reading every row.
DISTINCT_VAULTS_SQL = """
    WITH RECURSIVE vault(dns) AS (
        SELECT min(vault_dns) FROM history
        UNION ALL
        SELECT (SELECT min(vault_dns) FROM history WHERE vault_dns > vault.dns)
        FROM vault WHERE vault.dns IS NOT NULL
    )
    SELECT dns FROM vault WHERE dns IS NOT NULL
"""
# Name of the SQL function that ``connect_functions`` registers.
CONTAINS_FUNCTION = "vaultgui_contains"
# Sorting on these columns ignores ASCII case, because people typed their values.
_CASELESS_SORT_KEYS = frozenset({"submission_name", "vault_username"})


def query_where(query: HistoryQuery) -> tuple[str, list[str]]:
    """Return the WHERE condition of ``query`` and its parameters."""
    conditions = [KNOWN_ROWS_SQL]
    params: list[str] = []
    text = query.text.strip()
    if text:
        condition, text_params = _text_condition(text)
        conditions.append(condition)
        params += text_params
    start, end = query.utc_bounds()
    if start is not None:
        conditions.append("time_utc >= ?")
        params.append(format_utc(start))
    if end is not None:
        conditions.append("time_utc < ?")
        params.append(format_utc(end))
    if query.outcomes:
        marks = ", ".join("?" for _ in query.outcomes)
        conditions.append(f"outcome IN ({marks})")
        params += sorted(query.outcomes)
    if query.vault_dns:
        conditions.append("vault_dns = ?")
        params.append(query.vault_dns)
    return " AND ".join(conditions), params


def _text_condition(text: str) -> tuple[str, list[str]]:
    # SQLite's LIKE ignores case for ASCII letters only. Other text goes through
    # a Python function, which is slower but folds the case of every letter.
    if text.isascii():
        pattern = f"%{escape_like(text)}%"
        tests = [f"{column} LIKE ? ESCAPE '\\'" for column in SEARCHED_FIELDS]
        return f"({' OR '.join(tests)})", [pattern] * len(tests)
    # char(31), the unit separator, keeps a match from spanning two columns.
    joined = " || char(31) || ".join(SEARCHED_FIELDS)
    return f"{CONTAINS_FUNCTION}({joined}, ?)", [text.casefold()]


def escape_like(text: str) -> str:
    """Escape the LIKE wildcards in ``text`` for ``ESCAPE '\\'``."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def query_order(query: HistoryQuery) -> str:
    """Return the ORDER BY list of ``query``.

    Entries that sort equal are ordered by time and then by row id, in the same
    direction.
    """
    direction = "DESC" if query.descending else "ASC"
    tie_breaks = f"time_utc {direction}, id {direction}"
    if query.order_by == "time_utc":
        return tie_breaks
    collation = " COLLATE NOCASE" if query.order_by in _CASELESS_SORT_KEYS else ""
    return f"{query.order_by}{collation} {direction}, {tie_breaks}"


def connect_functions(conn: sqlite3.Connection) -> None:
    """Register the SQL functions that ``query_where`` may use on ``conn``."""
    conn.create_function(CONTAINS_FUNCTION, 2, _contains, deterministic=True)


def _contains(haystack: str | None, needle: str) -> bool:
    # The needle arrives case-folded. The searched columns are NOT NULL, but a
    # newer schema might relax that, and NULL || text is NULL.
    return haystack is not None and needle in haystack.casefold()


COMPLETE_SQL = (
    "UPDATE history SET outcome = ?, completed_utc = ?, "
    "status_after = COALESCE(NULLIF(?, ''), status_after), "
    "execution_id = COALESCE(NULLIF(?, ''), execution_id), "
    "detail = COALESCE(NULLIF(?, ''), detail) "
    "WHERE id = ?"
)


def latest_version() -> int:
    """Return the newest schema version that this code can read and write."""
    return max(MIGRATIONS)


def read_user_version(conn: sqlite3.Connection) -> int:
    """Return the schema version stored in the file (0 for a new file)."""
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def migrate(conn: sqlite3.Connection, path: Path) -> int:
    """Apply the missing migration steps, one transaction each, and return the
    version the file has afterwards.

    Each step re-reads the version under ``BEGIN IMMEDIATE``, so when two
    processes open an old file at once, the second skips the steps that the first
    applied. Before the first step on a file that already has a schema, a copy of
    the file is written next to it.
    A returned version above ``latest_version()`` means that a newer app upgraded
    the file in the meantime.
    """
    first_step = True
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = read_user_version(conn)
            if version >= latest_version():
                conn.execute("ROLLBACK")
                return version
            if first_step and version > 0:
                backup_copy(path, version)
            first_step = False
            target = version + 1
            for statement in MIGRATIONS[target]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {target}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        logger.info("Migrated history %s from version %d to %d", path, version, target)


def backup_copy(path: Path, version: int) -> Path:
    """Copy the database at ``path`` to ``<stem>.backup-v<version>-<UTC time>``
    with the SQLite backup API, and return the copy's path.

    A second connection reads the source, because a backup from a connection with
    an open transaction never finishes. The caller may hold ``BEGIN IMMEDIATE``
    on its own connection, which keeps writers out while the copy is made.
    """
    target = sibling_path(path, f"backup-v{version}")
    source = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S)
    try:
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    logger.info("Backed up history %s to %s before migrating it", path, target)
    return target


def format_utc(moment: datetime) -> str:
    """Format an aware datetime as ISO 8601 UTC text with microseconds and a "Z".

    The fixed width makes text order equal to time order, so SQL can sort on it.
    """
    if moment.tzinfo is None:
        raise ValueError(f"Time {moment.isoformat()} has no time zone: pass UTC.")
    utc = moment.astimezone(UTC).replace(tzinfo=None)
    return utc.isoformat(timespec="microseconds") + "Z"


def parse_utc(text: str) -> datetime:
    """Parse text written by ``format_utc`` into an aware UTC datetime."""
    return datetime.fromisoformat(text).astimezone(UTC)


def entry_values(entry: HistoryEntry) -> tuple[str | None, ...]:
    """Return the column values of ``entry`` in ``FIELDS`` order."""
    values: dict[str, str | None] = {
        field: str(getattr(entry, field)) for field in FIELDS
    }
    values["time_utc"] = format_utc(entry.time_utc)
    completed = entry.completed_utc
    values["completed_utc"] = None if completed is None else format_utc(completed)
    return tuple(values[field] for field in FIELDS)


def row_entry(row: sqlite3.Row) -> HistoryEntry:
    """Build an entry from a row that ``SELECT_SQL`` returned."""
    completed = row["completed_utc"]
    return HistoryEntry(
        id=row["id"],
        time_utc=parse_utc(row["time_utc"]),
        os_user=row["os_user"],
        vault_dns=row["vault_dns"],
        vault_username=row["vault_username"],
        action=Action(row["action"]),
        submission_id=row["submission_id"],
        submission_name=row["submission_name"],
        status_before=row["status_before"],
        outcome=Outcome(row["outcome"]),
        status_after=row["status_after"],
        execution_id=row["execution_id"],
        reference_id=row["reference_id"],
        detail=row["detail"],
        completed_utc=None if completed is None else parse_utc(completed),
    )
