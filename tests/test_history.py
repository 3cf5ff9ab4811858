"""Tests of the SQLite history store, on real files and real processes."""

from __future__ import annotations

import csv
import logging
import os
import random
import re
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from vaultgui.services import history_schema
from vaultgui.services.history import (
    CSV_HEADER,
    Action,
    HistoryEntry,
    HistoryError,
    HistoryQuery,
    HistoryStore,
    HistoryVersionError,
    Outcome,
    receipt_text,
    write_csv,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2025, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)
CORRUPT_NAME = re.compile(r"history\.corrupt-\d{8}T\d{6}Z(-\d+)?\.sqlite3")
BACKUP_NAME = re.compile(r"history\.backup-v1-\d{8}T\d{6}Z(-\d+)?\.sqlite3")

# Child processes import the store from this checkout and write entries to the
# database named in argv[1].
CHILD_PRELUDE = """
import sys
from datetime import UTC, datetime
from pathlib import Path
from vaultgui.services.history import Action, HistoryEntry, HistoryStore

def make_entry(number):
    return HistoryEntry(
        id=None,
        time_utc=datetime.now(UTC),
        os_user=sys.argv[2],
        vault_dns="vault.example.com",
        vault_username="qa@example.com",
        action=Action.LOOKUP,
        submission_id=f"SUB{number:06d}",
    )

store = HistoryStore(Path(sys.argv[1]))
print("ready", flush=True)
"""
# Waits for a line on stdin, adds argv[3] rows, then prints "done".
BATCH_WRITER = (
    CHILD_PRELUDE
    + """
sys.stdin.readline()
for number in range(int(sys.argv[3])):
    store.add(make_entry(number))
print("done", flush=True)
"""
)
# Adds rows until killed, printing each id once add() has returned it.
ENDLESS_WRITER = (
    CHILD_PRELUDE
    + """
number = 0
while True:
    row_id = store.add(make_entry(number))
    print(row_id, flush=True)
    number += 1
"""
)


def make_entry(**changes: object) -> HistoryEntry:
    values: dict[str, object] = {
        "id": None,
        "time_utc": T0,
        "os_user": "zoe",
        "vault_dns": "myvault.veevavault.com",
        "vault_username": "zoe@example.com",
        "action": Action.LOOKUP,
        "submission_id": "0SU000000000101",
        "submission_name": "Dossier Ångström 001",
        "status_before": "IMPORT_IN_PROGRESS",
    }
    values.update(changes)
    return HistoryEntry(**values)  # type: ignore[arg-type]


def make_cancel(**changes: object) -> HistoryEntry:
    values: dict[str, object] = {
        "action": Action.CANCEL,
        "reference_id": "vaultgui-7f3a",
    }
    values.update(changes)
    return make_entry(**values)


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        part for part in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if part
    )
    return env


def start_child(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
    )


def raw_connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def write_v1_file(path: Path, rows: int) -> None:
    """Write a file with schema version 1, as the first release left it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    entries = [make_entry(submission_id=f"SUB{number}") for number in range(rows)]
    with raw_connect(path) as conn:
        for statement in history_schema.MIGRATIONS[1]:
            conn.execute(statement)
        conn.execute("PRAGMA user_version = 1")
        for entry in entries:
            conn.execute(history_schema.INSERT_SQL, history_schema.entry_values(entry))
    conn.close()


def write_current_file(path: Path, rows: int) -> None:
    with HistoryStore(path) as store:
        for number in range(rows):
            store.add(make_entry(submission_id=f"SUB{number}"))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "Zoë Ångström" / "history.sqlite3"


@pytest.fixture
def store(db_path: Path) -> Iterator[HistoryStore]:
    opened = HistoryStore(db_path)
    yield opened
    opened.close()


# Entries and round trips


def test_add_returns_increasing_ids(store: HistoryStore) -> None:
    first = store.add(make_entry())
    second = store.add(make_entry())

    assert second > first


def test_add_round_trips_every_field(store: HistoryStore) -> None:
    entry = make_cancel(
        outcome=Outcome.UNKNOWN,
        status_after="IMPORT_ERROR",
        execution_id="exec-42",
        detail="TIMEOUT: no reply within 60 s",
        completed_utc=T0 + timedelta(seconds=3),
    )

    row_id = store.add(entry)

    assert store.recent() == [HistoryEntry(**{**entry.__dict__, "id": row_id})]


def test_add_rejects_stored_entry(store: HistoryStore) -> None:
    with pytest.raises(ValueError, match="row 7"):
        store.add(make_entry(id=7))


def test_entry_rejects_naive_time() -> None:
    with pytest.raises(ValueError, match="time zone"):
        make_entry(time_utc=datetime(2025, 1, 1, 12, 0))


def test_entry_converts_time_to_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    entry = make_entry(time_utc=datetime(2025, 1, 1, 14, 0, tzinfo=plus_two))

    assert entry.time_utc == datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    assert entry.time_utc.tzinfo is UTC


def test_entry_rejects_unknown_action() -> None:
    with pytest.raises(ValueError):
        make_entry(action="delete_everything")


def test_times_stored_as_utc_text(store: HistoryStore, db_path: Path) -> None:
    row_id = store.begin_cancel(make_cancel())
    store.complete(row_id, outcome=Outcome.SUCCEEDED)

    with raw_connect(db_path) as conn:
        time_utc, completed_utc = conn.execute(
            "SELECT time_utc, completed_utc FROM history"
        ).fetchone()

    assert time_utc == "2025-03-04T05:06:07.123456Z"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", completed_utc)


def test_times_read_back_as_utc(store: HistoryStore) -> None:
    store.add(make_entry())

    assert store.recent()[0].time_utc.tzinfo is UTC


# Listing


def test_recent_newest_first(store: HistoryStore) -> None:
    store.add(make_entry(time_utc=T0, submission_id="middle"))
    store.add(make_entry(time_utc=T0 + timedelta(hours=1), submission_id="newest"))
    store.add(make_entry(time_utc=T0 - timedelta(hours=1), submission_id="oldest"))

    ids = [entry.submission_id for entry in store.recent()]

    assert ids == ["newest", "middle", "oldest"]


def test_recent_same_time_by_row_id(store: HistoryStore) -> None:
    first = store.add(make_entry())
    second = store.add(make_entry())

    assert [entry.id for entry in store.recent()] == [second, first]


def test_recent_respects_limit(store: HistoryStore) -> None:
    for _ in range(5):
        store.add(make_entry())

    assert len(store.recent(limit=3)) == 3


def test_count_empty_store(store: HistoryStore) -> None:
    assert store.count() == 0


def test_count_after_adds(store: HistoryStore) -> None:
    for _ in range(4):
        store.add(make_entry())

    assert store.count() == 4


def test_page_slices_newest_first(store: HistoryStore) -> None:
    for minute in range(10):
        store.add(make_entry(time_utc=T0 + timedelta(minutes=minute)))

    page = store.page(offset=3, limit=4)

    minutes = [(entry.time_utc - T0) // timedelta(minutes=1) for entry in page]
    assert minutes == [6, 5, 4, 3]


def test_page_past_end_is_empty(store: HistoryStore) -> None:
    store.add(make_entry())

    assert store.page(offset=5, limit=10) == []


def test_page_rejects_negative_offset(store: HistoryStore) -> None:
    with pytest.raises(ValueError, match="offset -1"):
        store.page(offset=-1, limit=10)


# Cancel intent and completion


def test_begin_cancel_writes_pending(store: HistoryStore) -> None:
    row_id = store.begin_cancel(make_cancel())

    [entry] = store.pending()

    assert entry.id == row_id
    assert entry.outcome is Outcome.PENDING
    assert entry.completed_utc is None


def test_begin_cancel_committed_on_return(store: HistoryStore, db_path: Path) -> None:
    row_id = store.begin_cancel(make_cancel())

    with raw_connect(db_path) as conn:
        row = conn.execute(
            "SELECT outcome, reference_id FROM history WHERE id = ?", (row_id,)
        ).fetchone()

    assert row == ("pending", "vaultgui-7f3a")


def test_begin_cancel_rejects_lookup(store: HistoryStore) -> None:
    with pytest.raises(ValueError, match="cancel"):
        store.begin_cancel(make_entry(action=Action.LOOKUP))


def test_complete_records_result(store: HistoryStore) -> None:
    row_id = store.begin_cancel(make_cancel())
    before = datetime.now(UTC)

    store.complete(
        row_id,
        outcome=Outcome.SUCCEEDED,
        status_after="",
        execution_id="exec-9",
        detail="",
    )

    [entry] = store.recent()
    assert entry.outcome is Outcome.SUCCEEDED
    assert entry.execution_id == "exec-9"
    assert entry.reference_id == "vaultgui-7f3a"
    assert entry.completed_utc is not None
    assert entry.completed_utc >= before - timedelta(seconds=1)


def test_complete_empty_keeps_stored(store: HistoryStore) -> None:
    row_id = store.begin_cancel(make_cancel(detail="sent", execution_id="exec-1"))

    store.complete(row_id, outcome=Outcome.UNKNOWN, status_after="IMPORT_ERROR")

    [entry] = store.recent()
    assert entry.detail == "sent"
    assert entry.execution_id == "exec-1"
    assert entry.status_after == "IMPORT_ERROR"


def test_complete_clears_pending(store: HistoryStore) -> None:
    row_id = store.begin_cancel(make_cancel())

    store.complete(row_id, outcome=Outcome.REJECTED, detail="INVALID_DATA: no")

    assert store.pending() == []


def test_complete_unknown_row(store: HistoryStore) -> None:
    with pytest.raises(HistoryError, match="row 99 not found"):
        store.complete(99, outcome=Outcome.SUCCEEDED)


def test_complete_twice_rejected(store: HistoryStore) -> None:
    row_id = store.begin_cancel(make_cancel())
    store.complete(row_id, outcome=Outcome.ABANDONED)

    with pytest.raises(HistoryError, match="already completed with outcome abandoned"):
        store.complete(row_id, outcome=Outcome.SUCCEEDED)

    assert store.recent()[0].outcome is Outcome.ABANDONED


def test_complete_rejects_pending_outcome(store: HistoryStore) -> None:
    row_id = store.begin_cancel(make_cancel())

    with pytest.raises(ValueError, match="final outcome"):
        store.complete(row_id, outcome=Outcome.PENDING)


def test_pending_survives_reopen(db_path: Path) -> None:
    with HistoryStore(db_path) as first:
        row_id = first.begin_cancel(make_cancel())
        first.add(make_entry())

    with HistoryStore(db_path) as second:
        assert [entry.id for entry in second.pending()] == [row_id]


# Connection settings and schema


def test_connection_pragmas(store: HistoryStore) -> None:
    conn = store._conn
    assert conn is not None

    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 10_000


def test_file_not_in_wal_mode(store: HistoryStore, db_path: Path) -> None:
    store.add(make_entry())

    header = db_path.read_bytes()[:20]

    # SQLite file format: header bytes 18 and 19 are 1 for a rollback journal
    # and 2 for WAL.
    assert header[18:20] == b"\x01\x01"
    assert not db_path.with_name("history.sqlite3-wal").exists()


def test_schema_version_is_latest(store: HistoryStore, db_path: Path) -> None:
    with raw_connect(db_path) as conn:
        version = conn.execute("PRAGMA user_version").fetchone()[0]

    assert version == history_schema.latest_version()


def test_schema_has_no_secret_columns(store: HistoryStore, db_path: Path) -> None:
    with raw_connect(db_path) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(history)")]

    assert "reference_id" in columns
    for column in columns:
        assert not re.search(r"pass|session|token|secret", column), column


def test_open_creates_parent_folders(tmp_path: Path) -> None:
    path = tmp_path / "a" / "Zoë" / "history.sqlite3"

    with HistoryStore(path):
        pass

    assert path.is_file()


def test_open_parent_is_file(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder", encoding="utf-8")

    with pytest.raises(HistoryError, match="Could not open the history file"):
        HistoryStore(blocker / "history.sqlite3")


def test_closed_store_raises(store: HistoryStore) -> None:
    store.close()

    with pytest.raises(HistoryError, match="already closed"):
        store.add(make_entry())


def test_close_twice_is_harmless(store: HistoryStore) -> None:
    store.close()
    store.close()

    with pytest.raises(HistoryError):
        store.count()


# Concurrency


def test_threads_share_one_store(store: HistoryStore) -> None:
    ids: list[int] = []

    def add_many() -> None:
        for _ in range(50):
            ids.append(store.add(make_entry()))

    threads = [threading.Thread(target=add_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert store.count() == 200
    assert len(set(ids)) == 200


def test_two_processes_lose_nothing(db_path: Path) -> None:
    writers = [
        start_child(BATCH_WRITER, str(db_path), user, "200") for user in ("a", "b")
    ]
    for writer in writers:
        assert writer.stdout is not None
        assert writer.stdout.readline() == "ready\n"
    for writer in writers:
        assert writer.stdin is not None
        writer.stdin.write("go\n")
        writer.stdin.flush()

    results = [writer.communicate(timeout=30) for writer in writers]

    for (stdout, stderr), writer in zip(results, writers, strict=True):
        assert writer.returncode == 0, stderr
        assert "locked" not in stderr
        assert stdout == "done\n"
    with HistoryStore(db_path) as store:
        assert store.count() == 400
        users = [entry.os_user for entry in store.recent(limit=1000)]
    assert users.count("a") == 200
    assert users.count("b") == 200


def test_locked_file_raises_after_timeout(
    store: HistoryStore, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history_schema, "BUSY_TIMEOUT_S", 0.2)
    short_wait = HistoryStore(db_path)
    holder = raw_connect(db_path)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(HistoryError, match="Close other copies of vaultgui"):
            short_wait.add(make_entry())
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        short_wait.close()


def test_locked_file_error_logged(
    store: HistoryStore,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(history_schema, "BUSY_TIMEOUT_S", 0.2)
    short_wait = HistoryStore(db_path)
    holder = raw_connect(db_path)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(HistoryError):
            short_wait.add(make_entry())
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        short_wait.close()

    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "SQLITE_BUSY" in errors[0].getMessage()


def test_store_usable_after_lock_error(
    store: HistoryStore, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history_schema, "BUSY_TIMEOUT_S", 0.2)
    short_wait = HistoryStore(db_path)
    holder = raw_connect(db_path)
    holder.execute("BEGIN EXCLUSIVE")
    with pytest.raises(HistoryError):
        short_wait.add(make_entry())
    holder.execute("ROLLBACK")
    holder.close()

    short_wait.add(make_entry())

    assert short_wait.count() == 1
    short_wait.close()


# Crashes


# Enough SIGKILLs that many land inside a transaction, within about ten seconds.
KILL_ITERATIONS = 100


@pytest.mark.timeout(120)
def test_kill_keeps_returned_rows(db_path: Path) -> None:
    # kill() sends SIGKILL on POSIX. It lands at a random moment of the add() loop,
    # so it often stops a transaction half way and leaves a hot journal.
    rng = random.Random()
    returned: set[int] = set()
    for iteration in range(KILL_ITERATIONS):
        writer = start_child(ENDLESS_WRITER, str(db_path), f"run{iteration}")
        assert writer.stdout is not None
        assert writer.stdout.readline() == "ready\n"
        time.sleep(rng.uniform(0.0, 0.04))
        writer.kill()
        stdout, _ = writer.communicate(timeout=10)
        complete_lines = stdout.split("\n")[:-1]
        returned.update(int(line) for line in complete_lines)

        with HistoryStore(db_path) as store:
            assert store.recovered_from is None, f"iteration {iteration}"
            stored = {entry.id for entry in store.recent(limit=1_000_000)}

        missing = returned - stored
        assert not missing, f"iteration {iteration} lost rows {sorted(missing)}"
    assert returned, "no writer returned any row before it was killed"


# Damaged files


def test_garbage_file_moved_aside(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    garbage = bytes(random.Random(1).randrange(256) for _ in range(6000))
    db_path.write_bytes(garbage)

    with HistoryStore(db_path) as store:
        moved = store.recovered_from
        assert store.count() == 0

    assert moved is not None
    assert CORRUPT_NAME.fullmatch(moved.name)
    assert moved.parent == db_path.parent
    assert moved.read_bytes() == garbage


def test_text_file_moved_aside(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_text("this is not a database\n" * 20, encoding="utf-8")

    with HistoryStore(db_path) as store:
        assert store.recovered_from is not None


@pytest.mark.parametrize("keep_fraction", [0.02, 0.5, 0.9])
def test_truncated_file_moved_aside(db_path: Path, keep_fraction: float) -> None:
    write_v1_file(db_path, rows=400)
    data = db_path.read_bytes()
    truncated = data[: int(len(data) * keep_fraction)]
    db_path.write_bytes(truncated)

    with HistoryStore(db_path) as store:
        moved = store.recovered_from
        assert store.count() == 0

    assert moved is not None
    assert moved.read_bytes() == truncated


def test_recovered_store_accepts_writes(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"\x00garbage" * 1000)

    with HistoryStore(db_path) as store:
        store.add(make_entry())

    with HistoryStore(db_path) as reopened:
        assert reopened.recovered_from is None
        assert reopened.count() == 1


def test_stale_journal_not_kept(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"garbage" * 1000)
    journal = db_path.with_name("history.sqlite3-journal")
    journal.write_bytes(b"stale journal" * 100)

    with HistoryStore(db_path) as store:
        store.add(make_entry())

    assert not journal.exists()
    with HistoryStore(db_path) as reopened:
        assert reopened.count() == 1


def test_empty_file_is_new_database(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"")

    with HistoryStore(db_path) as store:
        assert store.recovered_from is None
        assert store.count() == 0
    assert list(db_path.parent.iterdir()) == [db_path]


def test_recovery_logged(db_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"garbage" * 1000)

    with HistoryStore(db_path):
        pass

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("moved it to" in r.getMessage() for r in warnings)


# Files from a newer version


def make_newer_file(path: Path) -> None:
    write_v1_file(path, rows=3)
    with raw_connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")


def test_newer_file_opens_read_only(db_path: Path) -> None:
    make_newer_file(db_path)

    with HistoryStore(db_path) as store:
        assert store.read_only
        assert store.count() == 3
        assert len(store.recent()) == 3


def test_newer_file_add_raises(db_path: Path) -> None:
    make_newer_file(db_path)

    with (
        HistoryStore(db_path) as store,
        pytest.raises(HistoryVersionError, match="Update vaultgui"),
    ):
        store.add(make_entry())


def test_newer_file_begin_cancel_raises(db_path: Path) -> None:
    make_newer_file(db_path)

    with HistoryStore(db_path) as store, pytest.raises(HistoryVersionError):
        store.begin_cancel(make_cancel())


def test_newer_file_complete_raises(db_path: Path) -> None:
    make_newer_file(db_path)

    with HistoryStore(db_path) as store, pytest.raises(HistoryVersionError):
        store.complete(1, outcome=Outcome.SUCCEEDED)


def test_newer_file_left_unchanged(db_path: Path) -> None:
    make_newer_file(db_path)
    before = db_path.read_bytes()

    with HistoryStore(db_path) as store:
        store.recent()
        with pytest.raises(HistoryVersionError):
            store.add(make_entry())

    assert db_path.read_bytes() == before


def test_newer_file_unknown_rows_skipped(db_path: Path) -> None:
    make_newer_file(db_path)
    with raw_connect(db_path) as conn:
        conn.execute(
            "INSERT INTO history (time_utc, os_user, vault_dns, vault_username, "
            "action, outcome) VALUES ('2030-01-01T00:00:00.000000Z', 'z', 'v', "
            "'u', 'future_action', 'succeeded')"
        )

    with HistoryStore(db_path) as store:
        assert store.count() == 3
        assert len(store.recent()) == 3


def test_version_error_is_history_error() -> None:
    assert issubclass(HistoryVersionError, HistoryError)


# Migrations


def add_version_two(monkeypatch: pytest.MonkeyPatch, *statements: str) -> None:
    """Make the code know a schema version 2 made of ``statements``."""
    steps = dict(history_schema.MIGRATIONS)
    steps[2] = statements or (ADD_NOTE_COLUMN,)
    monkeypatch.setattr(history_schema, "MIGRATIONS", steps)


ADD_NOTE_COLUMN = "ALTER TABLE history ADD COLUMN note TEXT NOT NULL DEFAULT ''"


def backups_in(folder: Path) -> list[Path]:
    return sorted(folder.glob("history.backup-*"))


def user_version(path: Path) -> int:
    with raw_connect(path) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


def test_migration_upgrades_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "history.sqlite3"
    write_v1_file(path, rows=5)
    add_version_two(monkeypatch)

    with HistoryStore(path) as store:
        assert store.count() == 5

    assert user_version(path) == 2


def test_migration_writes_backup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "history.sqlite3"
    write_v1_file(path, rows=5)
    add_version_two(monkeypatch)

    with HistoryStore(path):
        pass

    [backup] = backups_in(tmp_path)
    assert BACKUP_NAME.fullmatch(backup.name)
    assert user_version(backup) == 1
    with raw_connect(backup) as conn:
        assert conn.execute("SELECT count(*) FROM history").fetchone()[0] == 5


def test_new_file_gets_no_backup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_version_two(monkeypatch)

    with HistoryStore(tmp_path / "history.sqlite3"):
        pass

    assert backups_in(tmp_path) == []


def test_current_file_gets_no_backup(tmp_path: Path) -> None:
    write_current_file(tmp_path / "history.sqlite3", rows=1)

    with HistoryStore(tmp_path / "history.sqlite3"):
        pass

    assert backups_in(tmp_path) == []


def test_failed_migration_rolls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "history.sqlite3"
    write_v1_file(path, rows=2)
    add_version_two(monkeypatch, ADD_NOTE_COLUMN, "THIS IS NOT SQL")

    with pytest.raises(HistoryError, match="Could not open"):
        HistoryStore(path)

    assert user_version(path) == 1
    with raw_connect(path) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(history)")]
    assert "note" not in columns


def test_failed_migration_keeps_backup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "history.sqlite3"
    write_v1_file(path, rows=2)
    add_version_two(monkeypatch, "THIS IS NOT SQL")

    with pytest.raises(HistoryError):
        HistoryStore(path)

    assert len(backups_in(tmp_path)) == 1


def test_migrated_file_reopens_without_backup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "history.sqlite3"
    write_v1_file(path, rows=2)
    add_version_two(monkeypatch)
    with HistoryStore(path):
        pass

    with HistoryStore(path) as store:
        assert store.count() == 2

    assert len(backups_in(tmp_path)) == 1


def test_migration_logged(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    add_version_two(monkeypatch)
    caplog.set_level(logging.INFO, logger="vaultgui.services")

    with HistoryStore(tmp_path / "history.sqlite3"):
        pass

    messages = [r.getMessage() for r in caplog.records]
    assert any("from version 0 to 1" in m for m in messages)
    assert any("from version 1 to 2" in m for m in messages)
    assert any(m.startswith("Opened history") for m in messages)


# Schema version 2: indexes for queries


def index_names(path: Path) -> set[str]:
    with raw_connect(path) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        return {row[0] for row in rows}


def query_plan(store: HistoryStore, query: HistoryQuery) -> str:
    where, params = history_schema.query_where(query)
    order = history_schema.query_order(query)
    sql = f"{history_schema.SELECT_SQL} WHERE {where} ORDER BY {order} LIMIT 500"
    conn = store._conn
    assert conn is not None
    rows = conn.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
    return " | ".join(row[3] for row in rows)


def test_v1_file_migrates_to_v2(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    write_v1_file(path, rows=3)

    with HistoryStore(path):
        pass

    assert user_version(path) == 2


def test_v1_file_keeps_rows_in_v2(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    write_v1_file(path, rows=3)

    with HistoryStore(path) as store:
        ids = [entry.submission_id for entry in store.query_page(HistoryQuery(), 0, 9)]

    assert sorted(ids) == ["SUB0", "SUB1", "SUB2"]


def test_v2_migration_backs_up_v1(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    write_v1_file(path, rows=3)

    with HistoryStore(path):
        pass

    [backup] = backups_in(tmp_path)
    assert BACKUP_NAME.fullmatch(backup.name)
    assert user_version(backup) == 1


def test_v2_migration_adds_indexes(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    write_v1_file(path, rows=3)

    with HistoryStore(path):
        pass

    assert {
        "history_by_time",
        "history_by_submission",
        "history_by_outcome",
        "history_by_vault",
    } <= index_names(path)


def test_plain_query_reads_time_index(store: HistoryStore) -> None:
    plan = query_plan(store, HistoryQuery())

    assert "history_by_time" in plan
    assert "TEMP B-TREE" not in plan


def test_vault_query_reads_vault_index(store: HistoryStore) -> None:
    plan = query_plan(store, HistoryQuery(vault_dns="a.veevavault.com"))

    assert "history_by_vault" in plan
    assert "TEMP B-TREE" not in plan


def test_outcome_query_reads_outcome_index(store: HistoryStore) -> None:
    plan = query_plan(store, HistoryQuery(outcomes=frozenset({Outcome.FAILED})))

    assert "history_by_outcome" in plan
    assert "TEMP B-TREE" not in plan


def test_submission_sort_reads_index(store: HistoryStore) -> None:
    plan = query_plan(store, HistoryQuery(order_by="submission_id"))

    assert "history_by_submission" in plan
    assert "TEMP B-TREE" not in plan


# Queries: filters, order and counts


def submission_ids(store: HistoryStore, query: HistoryQuery) -> list[str]:
    return [entry.submission_id for entry in store.query_page(query, 0, 100)]


def test_query_default_newest_first(store: HistoryStore) -> None:
    store.add(make_entry(time_utc=T0, submission_id="middle"))
    store.add(make_entry(time_utc=T0 + timedelta(hours=1), submission_id="newest"))
    store.add(make_entry(time_utc=T0 - timedelta(hours=1), submission_id="oldest"))

    assert submission_ids(store, HistoryQuery()) == ["newest", "middle", "oldest"]


def test_query_text_ignores_case(store: HistoryStore) -> None:
    store.add(make_entry(submission_id="hit", submission_name="Dossier ABC-12"))
    store.add(make_entry(submission_id="miss", submission_name="Dossier XYZ"))

    assert submission_ids(store, HistoryQuery(text="abc-12")) == ["hit"]


@pytest.mark.parametrize(
    "field",
    [
        "submission_id",
        "submission_name",
        "vault_dns",
        "vault_username",
        "execution_id",
        "reference_id",
        "detail",
    ],
)
def test_query_text_searches_field(store: HistoryStore, field: str) -> None:
    store.add(make_entry(**{field: "prefix NEEDLE suffix"}))
    store.add(make_entry())

    assert store.query_count(HistoryQuery(text="needle")) == 1


def test_query_text_skips_status(store: HistoryStore) -> None:
    store.add(make_entry(status_before="IMPORT_IN_PROGRESS"))

    assert store.query_count(HistoryQuery(text="import_in")) == 0


def test_query_text_percent_literal(store: HistoryStore) -> None:
    store.add(make_entry(submission_id="percent", submission_name="Batch 10% done"))
    store.add(make_entry(submission_id="digits", submission_name="Batch 100 done"))

    assert submission_ids(store, HistoryQuery(text="10%")) == ["percent"]


def test_query_text_underscore_literal(store: HistoryStore) -> None:
    store.add(make_entry(submission_id="underscore", submission_name="seq_0001"))
    store.add(make_entry(submission_id="letter", submission_name="seqX0001"))

    assert submission_ids(store, HistoryQuery(text="q_0")) == ["underscore"]


def test_query_text_backslash_literal(store: HistoryStore) -> None:
    store.add(make_entry(submission_id="slash", submission_name=r"share\\dossier"))
    store.add(make_entry(submission_id="plain", submission_name="share dossier"))

    assert submission_ids(store, HistoryQuery(text="\\d")) == ["slash"]


def test_query_text_folds_accented_case(store: HistoryStore) -> None:
    store.add(make_entry(submission_id="hit", submission_name="Dossier ÅNGSTRÖM"))
    store.add(make_entry(submission_id="miss", submission_name="Dossier Angstrom"))

    assert submission_ids(store, HistoryQuery(text="ångström")) == ["hit"]


def test_query_text_trims_spaces(store: HistoryStore) -> None:
    store.add(make_entry(submission_name="Dossier 7"))

    assert store.query_count(HistoryQuery(text="  dossier 7  ")) == 1


def test_query_text_not_across_columns(store: HistoryStore) -> None:
    store.add(make_entry(submission_id="ABC", submission_name="DEF"))

    assert store.query_count(HistoryQuery(text="CD")) == 0


def test_query_date_from_inclusive(store: HistoryStore) -> None:
    plus_two = timezone(timedelta(hours=2))
    day_start = datetime(2025, 3, 4, tzinfo=plus_two)
    store.add(make_entry(time_utc=day_start - timedelta(microseconds=1)))
    store.add(make_entry(time_utc=day_start, submission_id="first"))

    query = HistoryQuery(date_from=date(2025, 3, 4), time_zone=plus_two)

    assert submission_ids(store, query) == ["first"]


def test_query_date_to_inclusive(store: HistoryStore) -> None:
    plus_two = timezone(timedelta(hours=2))
    next_day = datetime(2025, 3, 5, tzinfo=plus_two)
    store.add(make_entry(time_utc=next_day - timedelta(microseconds=1)))
    store.add(make_entry(time_utc=next_day, submission_id="next day"))

    query = HistoryQuery(date_to=date(2025, 3, 4), time_zone=plus_two)

    assert submission_ids(store, query) == ["0SU000000000101"]


def test_query_one_day_range(store: HistoryStore) -> None:
    for day in (3, 4, 5):
        store.add(
            make_entry(
                time_utc=datetime(2025, 3, day, 12, tzinfo=UTC), submission_id=str(day)
            )
        )

    query = HistoryQuery(date_from=date(2025, 3, 4), date_to=date(2025, 3, 4))

    assert submission_ids(store, query) == ["4"]


@pytest.fixture
def central_european_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Make the process's local time zone Central European Time."""
    # A POSIX rule rather than a zone name, so no tz database is needed.
    monkeypatch.setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("central_european_time")
def test_query_dates_in_local_zone(store: HistoryStore) -> None:
    # 23:30 UTC on 3 March is 00:30 on 4 March in Central European Time.
    store.add(make_entry(time_utc=datetime(2025, 3, 3, 23, 30, tzinfo=UTC)))

    query = HistoryQuery(date_from=date(2025, 3, 4), date_to=date(2025, 3, 4))

    assert store.query_count(query) == 1


def test_query_date_bounds_in_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    query = HistoryQuery(
        date_from=date(2025, 3, 4), date_to=date(2025, 3, 4), time_zone=plus_two
    )

    assert query.utc_bounds() == (
        datetime(2025, 3, 3, 22, tzinfo=UTC),
        datetime(2025, 3, 4, 22, tzinfo=UTC),
    )


def test_query_one_outcome(store: HistoryStore) -> None:
    store.add(make_entry(outcome=Outcome.FAILED, submission_id="failed"))
    store.add(make_entry(outcome=Outcome.SUCCEEDED))

    query = HistoryQuery(outcomes=frozenset({Outcome.FAILED}))

    assert submission_ids(store, query) == ["failed"]


def test_query_two_outcomes(store: HistoryStore) -> None:
    for outcome in (Outcome.FAILED, Outcome.REJECTED, Outcome.SUCCEEDED):
        store.add(make_entry(outcome=outcome))

    query = HistoryQuery(outcomes=frozenset({Outcome.FAILED, Outcome.REJECTED}))

    assert store.query_count(query) == 2


def test_query_outcomes_from_text() -> None:
    query = HistoryQuery(outcomes=frozenset({"failed"}))  # type: ignore[arg-type]

    assert query.outcomes == frozenset({Outcome.FAILED})


def test_query_no_outcomes_means_all(store: HistoryStore) -> None:
    for outcome in Outcome:
        store.add(make_entry(outcome=outcome))

    assert store.query_count(HistoryQuery()) == len(Outcome)


def test_query_vault_exact(store: HistoryStore) -> None:
    store.add(make_entry(vault_dns="rim.veevavault.com", submission_id="exact"))
    store.add(make_entry(vault_dns="rim.veevavault.com.example", submission_id="x"))

    query = HistoryQuery(vault_dns="rim.veevavault.com")

    assert submission_ids(store, query) == ["exact"]


def test_query_filters_combine(store: HistoryStore) -> None:
    failed = Outcome.FAILED
    store.add(make_entry(vault_dns="a.com", outcome=failed, detail="tag1"))
    store.add(make_entry(vault_dns="a.com", outcome=failed, detail="other"))
    store.add(make_entry(vault_dns="b.com", outcome=failed, detail="tag2"))
    store.add(make_entry(vault_dns="a.com", outcome=Outcome.SUCCEEDED, detail="tag3"))

    query = HistoryQuery(text="tag", vault_dns="a.com", outcomes=frozenset({failed}))

    assert [entry.detail for entry in store.query_page(query, 0, 9)] == ["tag1"]


def test_query_sort_ascending(store: HistoryStore) -> None:
    for submission_id in ("B", "C", "A"):
        store.add(make_entry(submission_id=submission_id))

    query = HistoryQuery(order_by="submission_id", descending=False)

    assert submission_ids(store, query) == ["A", "B", "C"]


def test_query_sort_descending(store: HistoryStore) -> None:
    for submission_id in ("B", "C", "A"):
        store.add(make_entry(submission_id=submission_id))

    query = HistoryQuery(order_by="submission_id", descending=True)

    assert submission_ids(store, query) == ["C", "B", "A"]


def test_query_sort_name_ignores_case(store: HistoryStore) -> None:
    for name in ("beta", "Alpha", "Gamma"):
        store.add(make_entry(submission_name=name))

    query = HistoryQuery(order_by="submission_name", descending=False)
    names = [entry.submission_name for entry in store.query_page(query, 0, 9)]

    assert names == ["Alpha", "beta", "Gamma"]


def test_query_sort_ties_by_time(store: HistoryStore) -> None:
    store.add(make_entry(time_utc=T0, submission_id="older"))
    store.add(make_entry(time_utc=T0 + timedelta(hours=1), submission_id="newer"))

    query = HistoryQuery(order_by="vault_dns", descending=True)

    assert submission_ids(store, query) == ["newer", "older"]


def test_query_rejects_unknown_sort_key() -> None:
    with pytest.raises(ValueError, match="password"):
        HistoryQuery(order_by="password")


def test_query_page_offset_limit(store: HistoryStore) -> None:
    for minute in range(10):
        store.add(make_entry(time_utc=T0 + timedelta(minutes=minute)))

    page = store.query_page(HistoryQuery(descending=False), offset=3, limit=4)

    minutes = [(entry.time_utc - T0) // timedelta(minutes=1) for entry in page]
    assert minutes == [3, 4, 5, 6]


def test_query_page_rejects_negative_limit(store: HistoryStore) -> None:
    with pytest.raises(ValueError, match="limit -1"):
        store.query_page(HistoryQuery(), offset=0, limit=-1)


def test_query_all_in_order(store: HistoryStore) -> None:
    for submission_id in ("B", "C", "A"):
        store.add(make_entry(submission_id=submission_id))

    entries = store.query_all(HistoryQuery(order_by="submission_id"))

    assert [entry.submission_id for entry in entries] == ["C", "B", "A"]


def test_query_count_with_filter(store: HistoryStore) -> None:
    store.add(make_entry(outcome=Outcome.FAILED))
    store.add(make_entry(outcome=Outcome.FAILED))
    store.add(make_entry(outcome=Outcome.SUCCEEDED))

    count = store.query_count(HistoryQuery(outcomes=frozenset({Outcome.FAILED})))

    assert count == 2


def test_query_skips_unknown_rows(db_path: Path) -> None:
    make_newer_file(db_path)
    with raw_connect(db_path) as conn:
        conn.execute(
            "INSERT INTO history (time_utc, os_user, vault_dns, vault_username, "
            "action, outcome) VALUES ('2030-01-01T00:00:00.000000Z', 'z', 'v', "
            "'u', 'future_action', 'succeeded')"
        )

    with HistoryStore(db_path) as store:
        assert store.query_count(HistoryQuery()) == 3
        assert len(store.query_page(HistoryQuery(), 0, 9)) == 3


def test_query_is_filtered_default() -> None:
    assert not HistoryQuery(order_by="outcome").is_filtered


def test_query_is_filtered_text() -> None:
    assert HistoryQuery(text="x").is_filtered


def test_query_blank_text_not_filtered() -> None:
    assert not HistoryQuery(text="   ").is_filtered


def test_distinct_vaults_sorted(store: HistoryStore) -> None:
    for vault_dns in ("b.veevavault.com", "a.veevavault.com", "b.veevavault.com"):
        store.add(make_entry(vault_dns=vault_dns))

    assert store.distinct_vaults() == ["a.veevavault.com", "b.veevavault.com"]


def test_distinct_vaults_empty(store: HistoryStore) -> None:
    assert store.distinct_vaults() == []


# CSV export and receipts


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        return list(csv.reader(file))


def stored_entries(store: HistoryStore) -> list[HistoryEntry]:
    return store.query_all(HistoryQuery(descending=False))


def test_csv_header_row(store: HistoryStore, tmp_path: Path) -> None:
    store.add(make_entry())
    path = tmp_path / "export.csv"

    write_csv(stored_entries(store), path)

    assert read_csv(path)[0] == list(CSV_HEADER)


def test_csv_row_values(store: HistoryStore, tmp_path: Path) -> None:
    row_id = store.add(make_cancel(execution_id="exec-7", detail="TIMEOUT: late"))
    path = tmp_path / "export.csv"

    write_csv(stored_entries(store), path)

    row = dict(zip(CSV_HEADER, read_csv(path)[1], strict=True))
    assert row["id"] == str(row_id)
    assert row["time_utc"] == "2025-03-04T05:06:07.123456Z"
    assert row["submission_name"] == "Dossier Ångström 001"
    assert row["action"] == "cancel"
    assert row["execution_id"] == "exec-7"
    assert row["reference_id"] == "vaultgui-7f3a"
    assert row["detail"] == "TIMEOUT: late"
    assert row["completed_utc"] == ""


def test_csv_returns_row_count(store: HistoryStore, tmp_path: Path) -> None:
    for _ in range(3):
        store.add(make_entry())

    count = write_csv(stored_entries(store), tmp_path / "export.csv")

    assert count == 3


def test_csv_is_utf8_with_bom(store: HistoryStore, tmp_path: Path) -> None:
    store.add(make_entry())
    path = tmp_path / "export.csv"

    write_csv(stored_entries(store), path)

    assert path.read_bytes().startswith("\ufeffid,".encode())
    assert "Ångström".encode() in path.read_bytes()


def test_csv_formula_made_inert(store: HistoryStore, tmp_path: Path) -> None:
    store.add(make_entry(submission_name='=HYPERLINK("http://x")'))
    path = tmp_path / "export.csv"

    write_csv(stored_entries(store), path)

    row = dict(zip(CSV_HEADER, read_csv(path)[1], strict=True))
    assert row["submission_name"] == '\'=HYPERLINK("http://x")'


def failing_entries(store: HistoryStore) -> Iterator[HistoryEntry]:
    yield from stored_entries(store)
    raise OSError("disk full")


def test_csv_failure_keeps_old_file(store: HistoryStore, tmp_path: Path) -> None:
    store.add(make_entry())
    path = tmp_path / "export.csv"
    path.write_text("old export\n", encoding="utf-8")

    with pytest.raises(OSError, match="disk full"):
        write_csv(failing_entries(store), path)

    assert path.read_text(encoding="utf-8") == "old export\n"


def test_csv_failure_leaves_no_file(store: HistoryStore, tmp_path: Path) -> None:
    store.add(make_entry())
    folder = tmp_path / "exports"
    folder.mkdir()

    with pytest.raises(OSError):
        write_csv(failing_entries(store), folder / "export.csv")

    assert list(folder.iterdir()) == []


def test_csv_missing_folder_raises(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        write_csv([], tmp_path / "missing" / "export.csv")


def receipt_lines(entry: HistoryEntry) -> dict[str, str]:
    lines = receipt_text(entry).splitlines()[1:]
    pairs = (line.split(":", 1) for line in lines)
    return {label: value.strip() for label, value in pairs}


def full_cancel() -> HistoryEntry:
    return make_cancel(
        id=12,
        outcome=Outcome.SUCCEEDED,
        status_after="ERROR",
        execution_id="exec-42",
        detail="",
        completed_utc=T0 + timedelta(seconds=3),
    )


def test_receipt_title_line() -> None:
    assert receipt_text(full_cancel()).splitlines()[0] == "vaultgui history receipt"


def test_receipt_time_utc() -> None:
    assert receipt_lines(full_cancel())["Time (UTC)"] == "2025-03-04 05:06:07 UTC"


@pytest.mark.usefixtures("central_european_time")
def test_receipt_time_local() -> None:
    local = receipt_lines(full_cancel())["Time (local)"]

    assert local == "2025-03-04 06:06:07 CET (UTC+0100)"


@pytest.mark.parametrize(
    ("label", "value"),
    [
        ("Vault", "myvault.veevavault.com"),
        ("Vault user", "zoe@example.com"),
        ("Computer user", "zoe"),
        ("Submission ID", "0SU000000000101"),
        ("Submission", "Dossier Ångström 001"),
        ("Action", "cancel"),
        ("Status before", "Import in progress (IMPORT_IN_PROGRESS)"),
        ("Status after", "Error (ERROR)"),
        ("Outcome", "succeeded"),
        ("Completed (UTC)", "2025-03-04 05:06:10 UTC"),
        ("Vault execution id", "exec-42"),
        ("Reference id", "vaultgui-7f3a"),
        ("History row", "12"),
    ],
)
def test_receipt_field(label: str, value: str) -> None:
    assert receipt_lines(full_cancel())[label] == value


def test_receipt_empty_detail_dash() -> None:
    assert receipt_lines(full_cancel())["Detail"] == "-"


def test_receipt_sign_in_status_dash() -> None:
    entry = make_entry(action=Action.SIGN_IN, status_before="")

    assert receipt_lines(entry)["Status before"] == "-"


def _status_row(action: Action, outcome: Outcome, status_after: str) -> HistoryEntry:
    return HistoryEntry(
        id=None,
        time_utc=datetime.now(UTC),
        os_user="tester",
        vault_dns="vault.example.com",
        vault_username="user@example.com",
        action=action,
        submission_id="00S000000000101",
        status_before="IMPORT_IN_QUEUE",
        outcome=outcome,
        status_after=status_after,
    )


def test_lookup_shows_no_status_after() -> None:
    from vaultgui.services.history import status_after_display

    row = _status_row(Action.LOOKUP, Outcome.SUCCEEDED, "")

    assert status_after_display(row) == ""


def test_stopped_cancel_shows_no_status_after() -> None:
    from vaultgui.services.history import status_after_display

    row = _status_row(Action.CANCEL, Outcome.ABANDONED, "")

    assert status_after_display(row) == ""


def test_cancel_to_empty_status_shown() -> None:
    from vaultgui.services.history import status_after_display

    row = _status_row(Action.CANCEL, Outcome.SUCCEEDED, "")

    assert status_after_display(row) == "No archive status"
