"""Per-user history of sign-ins, lookups and cancels, stored in SQLite."""

from __future__ import annotations

import csv
import logging
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from vaultgui.services import history_schema as schema
from vaultgui.services.archive_status import status_info
from vaultgui.services.files import sibling_path
from vaultgui.services.history_schema import (
    Action,
    HistoryEntry,
    HistoryQuery,
    Outcome,
)

__all__ = [
    "CSV_HEADER",
    "Action",
    "HistoryEntry",
    "HistoryError",
    "HistoryQuery",
    "HistoryStore",
    "HistoryVersionError",
    "Outcome",
    "receipt_text",
    "status_after_display",
    "status_display",
    "write_csv",
]

logger = logging.getLogger(__name__)


class HistoryError(Exception):
    """The history file could not be opened, read or written.

    The message names the file, what failed and what the user can do.
    """


class HistoryVersionError(HistoryError):
    """Write rejected because a newer vaultgui wrote the file, so this version
    opened it read-only."""


_CORRUPTION_CODES = (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


class _CorruptDatabaseError(Exception):
    def __init__(self, reason: str, identity: tuple[int, ...] | None) -> None:
        super().__init__(reason)
        self.identity = identity


class HistoryStore:
    """The history database of one user, opened with one SQLite connection.

    Every method may be called from any thread, because a lock serialises them.
    Writes are short ``BEGIN IMMEDIATE`` transactions. With ``synchronous=FULL``
    SQLite syncs every commit to disk, so a committed row survives a killed process
    and, where the disk honours the sync, a power cut. Other processes wait up to
    ``BUSY_TIMEOUT_S`` for the file lock instead of failing. The journal is a
    rollback journal, not WAL, because WAL needs memory shared between processes
    on one host and so does not work for files on a network drive. Every failure
    of SQLite or of the file system is raised as ``HistoryError``.
    """

    def __init__(self, path: Path) -> None:
        """Open the database at ``path``, creating it and its folder if needed.

        A damaged file is moved aside and replaced by an empty one, and
        ``recovered_from`` names where it went. A file from a newer schema
        version is opened read-only, with ``read_only`` set.
        """
        self.path = path
        self.recovered_from: Path | None = None
        self.read_only = False
        self._file_version = 0
        self._lock = threading.Lock()
        try:
            self._conn: sqlite3.Connection | None = self._open()
        except (sqlite3.Error, OSError) as exc:
            raise self._failure("open", exc) from exc

    def add(self, entry: HistoryEntry) -> int:
        """Insert a finished entry and return its row id once it is committed."""
        if entry.id is not None:
            raise ValueError(f"Entry is already stored as row {entry.id}.")
        with self._write("save an entry to") as conn:
            cursor = conn.execute(schema.INSERT_SQL, schema.entry_values(entry))
        row_id = cursor.lastrowid
        assert row_id is not None  # an INSERT always sets it
        return row_id

    def begin_cancel(self, entry: HistoryEntry) -> int:
        """Insert the intent to cancel with outcome PENDING, and return its row id.

        Call it before sending the cancel: when it returns, the row is committed
        to disk, so a crash while the cancel is in flight leaves a PENDING row that
        ``pending()`` reports. Finish the row with ``complete()``.
        """
        if entry.action is not Action.CANCEL:
            raise ValueError(f"begin_cancel needs a cancel entry, not {entry.action}.")
        return self.add(replace(entry, outcome=Outcome.PENDING, completed_utc=None))

    def complete(
        self,
        row_id: int,
        *,
        outcome: Outcome,
        status_after: str = "",
        execution_id: str = "",
        detail: str = "",
    ) -> None:
        """Record how a PENDING row ended and set its ``completed_utc`` to now.

        Empty arguments keep the stored values. A row that is already completed
        is never changed, so a late reply must be recorded as a new entry.
        """
        if outcome is Outcome.PENDING:
            raise ValueError("complete() needs a final outcome, not pending.")
        now = schema.format_utc(datetime.now(UTC))
        with self._write(f"update row {row_id} of") as conn:
            row = conn.execute(
                "SELECT outcome FROM history WHERE id = ?", (row_id,)
            ).fetchone()
            if row is None:
                raise HistoryError(f"History row {row_id} not found in {self.path}.")
            if row[0] != Outcome.PENDING:
                raise HistoryError(
                    f"History row {row_id} is already completed with outcome "
                    f"{row[0]}. Record later results as a new entry."
                )
            values = (str(outcome), now, status_after, execution_id, detail, row_id)
            conn.execute(schema.COMPLETE_SQL, values)

    def pending(self) -> list[HistoryEntry]:
        """Return the PENDING rows, oldest first.

        At start-up these are cancels whose result a crash lost. While another
        copy of vaultgui runs, they can also be its cancels still in flight.
        """
        query = (
            f"{schema.SELECT_SQL} WHERE outcome = 'pending' "
            f"AND {schema.KNOWN_ROWS_SQL} ORDER BY id"
        )
        return self._read_entries(query, ())

    def recent(self, limit: int = 500) -> list[HistoryEntry]:
        """Return up to ``limit`` entries, newest first."""
        return self.page(0, limit)

    def count(self) -> int:
        """Return the number of entries that ``page()`` can return."""
        with self._read() as conn:
            row = conn.execute(
                f"SELECT count(*) FROM history WHERE {schema.KNOWN_ROWS_SQL}"
            )
            return int(row.fetchone()[0])

    def page(self, offset: int, limit: int) -> list[HistoryEntry]:
        """Return up to ``limit`` entries after skipping ``offset``, newest first.

        Entries are ordered by ``time_utc`` and then by row id.
        """
        if offset < 0 or limit < 0:
            raise ValueError(f"offset {offset} and limit {limit} must be >= 0.")
        query = (
            f"{schema.SELECT_SQL} WHERE {schema.KNOWN_ROWS_SQL} "
            "ORDER BY time_utc DESC, id DESC LIMIT ? OFFSET ?"
        )
        return self._read_entries(query, (limit, offset))

    def query_page(
        self, query: HistoryQuery, offset: int, limit: int
    ) -> list[HistoryEntry]:
        """Return up to ``limit`` entries that match ``query``, in its order,
        after skipping ``offset`` of them.

        A text filter, or a sort on a column without an index, makes SQLite
        read every row, and a later page also reads the rows before ``offset``.
        docs/history-benchmark.md gives the times on a 100,000-row file.
        """
        if offset < 0 or limit < 0:
            raise ValueError(f"offset {offset} and limit {limit} must be >= 0.")
        where, params = schema.query_where(query)
        sql = (
            f"{schema.SELECT_SQL} WHERE {where} "
            f"ORDER BY {schema.query_order(query)} LIMIT ? OFFSET ?"
        )
        return self._read_entries(sql, (*params, limit, offset))

    def query_all(self, query: HistoryQuery) -> list[HistoryEntry]:
        """Return every entry that matches ``query``, in its order.

        One statement reads them all, so rows added meanwhile cannot shift the
        result the way they could between two ``query_page`` calls.
        """
        where, params = schema.query_where(query)
        sql = f"{schema.SELECT_SQL} WHERE {where} ORDER BY {schema.query_order(query)}"
        return self._read_entries(sql, params)

    def query_count(self, query: HistoryQuery) -> int:
        """Return how many entries match ``query``."""
        where, params = schema.query_where(query)
        with self._read() as conn:
            row = conn.execute(f"SELECT count(*) FROM history WHERE {where}", params)
            return int(row.fetchone()[0])

    def distinct_vaults(self) -> list[str]:
        """Return each ``vault_dns`` in the history once, in text order.

        It reads the Vault index alone, so it also lists a Vault whose only rows
        have an action or outcome that this version leaves out of queries.
        """
        with self._read() as conn:
            rows = conn.execute(schema.DISTINCT_VAULTS_SQL).fetchall()
        return [str(row[0]) for row in rows]

    def close(self) -> None:
        """Close the connection. Calling it again does nothing."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
                logger.info("Closed history %s", self.path)

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # Opening

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = self._connect_checked()
        except _CorruptDatabaseError as corrupt:
            self.recovered_from = self._move_aside(corrupt)
            try:
                conn = self._connect_checked()
            except _CorruptDatabaseError as again:
                raise sqlite3.DatabaseError(
                    f"the file is still damaged after recovery: {again}"
                ) from again
        try:
            version = self._prepare(conn)
        except BaseException:
            conn.close()
            raise
        self._file_version = version
        if version > schema.latest_version():
            conn.close()
            conn = self._connect_read_only()
        # The cache size only sets this connection's memory, so it is safe on a
        # read-only file. A 100,000-row history file is about 45 MB, so it fits
        # and a text search that reads every row does not read the file again.
        conn.execute(f"PRAGMA cache_size = -{schema.CACHE_SIZE_KIB}")
        logger.info(
            "Opened history %s (schema version %d%s)",
            self.path,
            version,
            ", read-only" if self.read_only else "",
        )
        return conn

    def _prepare(self, conn: sqlite3.Connection) -> int:
        # Returns the schema version. A file from a newer version is left as it
        # is, because even the journal mode pragma may write to it.
        version = schema.read_user_version(conn)
        if version > schema.latest_version():
            return version
        mode = conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
        if mode != "delete":
            logger.warning("History %s kept journal mode %s", self.path, mode)
        conn.execute("PRAGMA synchronous = FULL")
        if version < schema.latest_version():
            version = schema.migrate(conn, self.path)
        return version

    def _connect_checked(self) -> sqlite3.Connection:
        # The identity taken before the check lets _move_aside see whether another
        # process replaced the file in the meantime.
        identity = _file_identity(self.path)
        conn = _connect(self.path)
        try:
            schema.read_user_version(conn)
            problems = [row[0] for row in conn.execute("PRAGMA quick_check")]
        except sqlite3.DatabaseError as exc:
            conn.close()
            if getattr(exc, "sqlite_errorcode", 0) & 0xFF in _CORRUPTION_CODES:
                raise _CorruptDatabaseError(str(exc), identity) from exc
            raise
        if problems != ["ok"]:
            conn.close()
            raise _CorruptDatabaseError("; ".join(problems[:3]), identity)
        return conn

    def _connect_read_only(self) -> sqlite3.Connection:
        self.read_only = True
        logger.warning(
            "History %s has schema version %d, newer than %d, so it is read-only",
            self.path,
            self._file_version,
            schema.latest_version(),
        )
        uri = f"{self.path.resolve().as_uri()}?mode=ro"
        return _connect(uri, uri=True)

    def _move_aside(self, corrupt: _CorruptDatabaseError) -> Path | None:
        if _file_identity(self.path) != corrupt.identity:
            logger.warning(
                "History %s was damaged (%s) but another process replaced it, "
                "so opening the new file",
                self.path,
                corrupt,
            )
            return None
        target = sibling_path(self.path, "corrupt")
        # A leftover journal needs no moving: SQLite already rolled back a valid
        # one, or deleted an invalid one, when the check above read the file.
        os.replace(self.path, target)
        logger.warning(
            "History %s is damaged (%s), so moved it to %s and started a new file",
            self.path,
            corrupt,
            target,
        )
        return target

    # Transactions

    @contextmanager
    def _write(self, doing: str) -> Iterator[sqlite3.Connection]:
        if self.read_only:
            raise HistoryVersionError(
                f"The history file {self.path} was written by a newer version of "
                f"vaultgui (schema version {self._file_version}), so this version "
                "can only read it. Update vaultgui to record new entries."
            )
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                    conn.execute("COMMIT")
                finally:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
            except sqlite3.Error as exc:
                raise self._failure(doing, exc) from exc

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._connection()
            except sqlite3.Error as exc:
                raise self._failure("read", exc) from exc

    def _read_entries(
        self, query: str, params: Sequence[str | int]
    ) -> list[HistoryEntry]:
        with self._read() as conn:
            rows = conn.execute(query, params).fetchall()
        return [schema.row_entry(row) for row in rows]

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise HistoryError(f"The history file {self.path} is already closed.")
        return self._conn

    def _failure(self, doing: str, exc: sqlite3.Error | OSError) -> HistoryError:
        name = getattr(exc, "sqlite_errorname", type(exc).__name__)
        logger.error("Could not %s history %s: %s (%s)", doing, self.path, exc, name)
        if name.startswith("SQLITE_BUSY") or name.startswith("SQLITE_LOCKED"):
            hint = (
                "Another program kept the file locked for more than "
                f"{schema.BUSY_TIMEOUT_S:.0f} seconds. Close other copies of "
                "vaultgui and try again."
            )
        else:
            hint = (
                "Check that the folder exists, that you may write to it and that "
                "the disk is not full, then try again. If it keeps failing, tell "
                "the help desk."
            )
        return HistoryError(
            f"Could not {doing} the history file {self.path}: {exc}. {hint}"
        )


def _connect(target: Path | str, *, uri: bool = False) -> sqlite3.Connection:
    # isolation_level=None stops the sqlite3 module from opening transactions on
    # its own, so every transaction is an explicit BEGIN IMMEDIATE ... COMMIT.
    conn = sqlite3.connect(
        target,
        timeout=schema.BUSY_TIMEOUT_S,
        isolation_level=None,
        check_same_thread=False,
        uri=uri,
    )
    conn.row_factory = sqlite3.Row
    schema.connect_functions(conn)
    return conn


def _file_identity(path: Path) -> tuple[int, ...] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)


# Export

# Column names of an exported CSV file, in order.
CSV_HEADER = ("id", *schema.FIELDS)
# Spreadsheet programs run a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def write_csv(entries: Iterable[HistoryEntry], path: Path) -> int:
    """Write ``entries`` to ``path`` as CSV and return how many rows it wrote.

    The file is UTF-8 with a byte order mark, so that Excel reads names with
    accents right, and has a header row of ``CSV_HEADER``. Times are ISO 8601
    UTC text as stored. A text cell that starts with ``=``, ``+``, ``-``, ``@``,
    a tab or a carriage return gets a leading apostrophe, so that a spreadsheet
    shows it as text instead of running it as a formula. The rows go to a
    temporary file beside ``path`` that then replaces it, so a failed export
    leaves no partial file. Raises ``OSError`` when the file cannot be written.
    """
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        with temporary.open("x", encoding="utf-8-sig", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(CSV_HEADER)
            count = 0
            for entry in entries:
                writer.writerow(_csv_row(entry))
                count += 1
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    logger.info("Exported %d history entries to %s", count, path)
    return count


def _csv_row(entry: HistoryEntry) -> list[str]:
    values = schema.entry_values(entry)
    cells = [str(entry.id or "")]
    cells += [_inert_cell(value or "") for value in values]
    return cells


def _inert_cell(text: str) -> str:
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def status_display(value: str, action: Action) -> str:
    """Return an ``archive_status__v`` value as the history shows it.

    A sign-in or sign-out reads no submission, so its empty status is shown as
    empty text rather than as "no archive status".
    """
    if not value and action in (Action.SIGN_IN, Action.SIGN_OUT):
        return ""
    return status_info(value).display


_READ_AFTER = frozenset(
    {Outcome.SUCCEEDED, Outcome.REJECTED, Outcome.UNKNOWN, Outcome.NOT_SENT}
)


def status_after_display(entry: HistoryEntry) -> str:
    """Return the status read after the action, or "" when none was read.

    Only cancels and re-reads read a status afterwards. A look-up, a stopped
    cancel or a pending one has none, and showing its empty value as "no
    archive status" would misstate what Vault reported.
    """
    # NOTE: an empty status_after also stands for a read that failed after a
    # cancel Vault accepted; such a row still shows "No archive status".
    if entry.action not in (Action.CANCEL, Action.RECHECK):
        return ""
    if entry.outcome not in _READ_AFTER:
        return ""
    return status_info(entry.status_after).display


def receipt_text(entry: HistoryEntry) -> str:
    """Return ``entry`` as plain text to paste into a help-desk ticket.

    Times are given in UTC and in the computer's local time zone. The labels
    stay in English whatever the interface language, so the help desk can read
    every receipt.
    """
    local = entry.time_utc.astimezone()
    completed = entry.completed_utc
    lines = [
        ("Time (UTC)", _utc_text(entry.time_utc)),
        ("Time (local)", local.strftime("%Y-%m-%d %H:%M:%S %Z (UTC%z)")),
        ("Vault", entry.vault_dns),
        ("Vault user", entry.vault_username),
        ("Computer user", entry.os_user),
        ("Submission ID", entry.submission_id),
        ("Submission", entry.submission_name),
        ("Action", str(entry.action)),
        ("Status before", status_display(entry.status_before, entry.action)),
        ("Status after", status_after_display(entry)),
        ("Outcome", str(entry.outcome)),
        ("Completed (UTC)", "" if completed is None else _utc_text(completed)),
        ("Vault execution id", entry.execution_id),
        ("Reference id", entry.reference_id),
        ("Detail", entry.detail),
        ("History row", "" if entry.id is None else str(entry.id)),
    ]
    width = max(len(label) for label, _ in lines) + 2
    body = [f"{label + ':':<{width}}{value or '-'}" for label, value in lines]
    return "\n".join(["vaultgui history receipt", *body]) + "\n"


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
