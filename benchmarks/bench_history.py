"""Build large history files, and time the history view on one of 100,000 rows.

    PYTHONPATH=. QT_QPA_PLATFORM=offscreen python benchmarks/bench_history.py

writes docs/history-benchmark.md. ``run()`` returns the same Markdown section
for benchmarks/run.py. Each figure is the median, minimum and maximum of
``--runs`` runs after one warm-up run. The view's runs alternate with runs of
the same SQLite reads made directly on the store, so both see the same machine
load. All runs share one open store, so the file is in the page cache, as it
is in the app after the first read.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from vaultgui.services import history_schema as schema
from vaultgui.services.history import (
    Action,
    HistoryEntry,
    HistoryQuery,
    HistoryStore,
    Outcome,
)
from vaultgui.ui.history_view import PAGE_SIZE, HistoryView

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "docs" / "history-benchmark.md"
HISTORY_ROWS = 100_000
RUNS = 9
# The view's target for opening and for a text filter, in milliseconds.
TARGET_MS = 200.0
# Maximum wait for one measured step, in seconds.
STEP_TIMEOUT_S = 60.0

# Statuses that lookups and cancels in the generated rows report.
_STATUSES = (
    "IMPORT_IN_QUEUE",
    "IMPORT_IN_PROGRESS",
    "IMPORT_SUCCEEDED",
    "REMOVAL_IN_PROGRESS",
    "ERROR",
    "",
)
_SPAN = timedelta(days=3 * 365)


def build_history(path: Path, rows: int, seed: int = 1) -> None:
    """Create ``path`` as a history file of ``rows`` entries over three years.

    The schema comes from HistoryStore itself. The rows go in through one
    transaction with the store's own INSERT statement, because one
    HistoryStore.add per row syncs to disk each time and would take minutes.
    """
    HistoryStore(path).close()
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA synchronous = OFF")
        connection.execute("BEGIN")
        connection.executemany(
            schema.INSERT_SQL,
            (schema.entry_values(entry) for entry in _entries(rows, seed)),
        )
        connection.execute("COMMIT")
    finally:
        connection.close()


def _entries(rows: int, seed: int) -> Iterator[HistoryEntry]:
    generator = random.Random(seed)
    start = datetime(2023, 1, 2, 8, 0, tzinfo=UTC)
    step = _SPAN / max(rows, 1)
    actions = (Action.SIGN_IN, Action.LOOKUP, Action.LOOKUP, Action.CANCEL)
    for number in range(rows):
        action = generator.choice(actions)
        submission = f"00S{number % 100_000:012d}"
        status = generator.choice(_STATUSES)
        moment = start + step * number
        cancel = action is Action.CANCEL
        yield HistoryEntry(
            id=None,
            time_utc=moment,
            os_user="alex",
            vault_dns="demo-pharma.veevavault.com",
            vault_username="alex.morgan@demo-pharma.com",
            action=action,
            submission_id="" if action is Action.SIGN_IN else submission,
            submission_name=f"{number % 9000:04d} - Amendment",
            status_before="" if action is Action.SIGN_IN else status,
            outcome=Outcome.SUCCEEDED,
            status_after="ERROR" if cancel else "",
            execution_id=f"{generator.getrandbits(128):032x}",
            completed_utc=moment + timedelta(seconds=4) if cancel else None,
        )


# Measuring


@dataclass
class Samples:
    """Times of one measured step, in milliseconds."""

    values: list[float] = field(default_factory=list)

    def text(self) -> str:
        """Return "median (min–max) ms", or a dash without samples."""
        if not self.values:
            return "—"
        median = statistics.median(self.values)
        return f"{median:.1f} ({min(self.values):.1f}–{max(self.values):.1f}) ms"


@dataclass
class Figure:
    """One table row: the view's times, the store's times and the target."""

    measure: str
    view: Samples = field(default_factory=Samples)
    store: Samples = field(default_factory=Samples)
    target_ms: float | None = None

    def result(self) -> str:
        """Return PASS or MISS for the view's median against the target, else a dash."""
        if self.target_ms is None or not self.view.values:
            return "—"
        return (
            "PASS" if statistics.median(self.view.values) < self.target_ms else "MISS"
        )


async def _timed(step: Callable[[], Awaitable[None]]) -> float:
    started = time.perf_counter()
    await step()
    return (time.perf_counter() - started) * 1000


class SignalWaiter:
    """A waiter for the next emission of one signal.

    It stays connected for the life of the sender instead of disconnecting
    after each wait, because in PySide6 6.12.0 every ``disconnect()`` and every
    Python-side ``emit()`` drops a reference to ``True`` that it never took.
    Enough of them make Python abort with "bool_dealloc".
    """

    def __init__(self, signal: Any) -> None:
        self._future: asyncio.Future[None] | None = None
        signal.connect(self._emitted)

    async def wait_after(self, trigger: Callable[[], object]) -> None:
        """Call ``trigger`` and wait until the signal is emitted."""
        future = asyncio.get_running_loop().create_future()
        self._future = future
        trigger()
        await asyncio.wait_for(future, STEP_TIMEOUT_S)

    def _emitted(self, *_args: object) -> None:
        if self._future is not None and not self._future.done():
            self._future.set_result(None)


def _first_page(store: HistoryStore, query: HistoryQuery) -> None:
    """Make the reads that the view makes for the first page of ``query``."""
    page = store.query_page(query, 0, PAGE_SIZE)
    if len(page) == PAGE_SIZE:
        store.query_count(query)


class Bench:
    """The measured steps, on one open store and one Qt application."""

    def __init__(self, store: HistoryStore) -> None:
        self.store = store
        self.view: Any = None
        self.last_ms = 0.0

    async def open_view(self) -> None:
        """Create a history view and wait until its first page is painted."""
        started = time.perf_counter()
        self.view = HistoryView(self.store)
        self.view.resize(1200, 700)
        self.view.show()
        # The model starts reading in the constructor but reports through the
        # event loop, so a waiter connected after the constructor misses nothing.
        self.loaded = SignalWaiter(self.view.model.loaded)
        self.rows_inserted = SignalWaiter(self.view.model.rowsInserted)
        await self.loaded.wait_after(lambda: None)
        self.view.table.viewport().repaint()
        self.last_ms = (time.perf_counter() - started) * 1000

    async def close_view(self) -> None:
        """Delete the view and let Qt free it."""
        self.view.close()
        self.view.deleteLater()
        self.view = None
        await asyncio.sleep(0.05)
        gc.collect()

    async def query(self, query: HistoryQuery) -> None:
        """Show ``query`` in the open view and wait until it is painted."""
        await self.loaded.wait_after(lambda: self.view.model.set_query(query))
        self.view.table.viewport().repaint()

    async def reload(self) -> None:
        """Read the first page again, as after a new history entry."""
        await self.loaded.wait_after(self.view.model.reload)

    async def next_page(self) -> None:
        """Load the page after the first and wait until its rows are in."""
        await self.rows_inserted.wait_after(self.view.model.fetchMore)


async def _measure_open(bench: Bench, figure: Figure, runs: int) -> None:
    for number in range(runs + 1):
        for order in _alternating(number):
            if order == "view":
                await bench.open_view()
                view_ms = bench.last_ms
                await bench.close_view()
            else:
                store_ms = _time_call(lambda: _first_page(bench.store, HistoryQuery()))
        if number > 0:  # the first round warms up
            figure.view.values.append(view_ms)
            figure.store.values.append(store_ms)


async def _measure_query(
    bench: Bench, figure: Figure, query: HistoryQuery, runs: int
) -> None:
    """Time showing ``query`` in an open view, starting from the whole history."""
    plain = HistoryQuery()
    for number in range(runs + 1):
        for order in _alternating(number):
            if order == "view":
                view_ms = await _timed(lambda: bench.query(query))
                await bench.query(plain)
            else:
                store_ms = _time_call(lambda: _first_page(bench.store, query))
        if number > 0:
            figure.view.values.append(view_ms)
            figure.store.values.append(store_ms)


async def _measure_next_page(bench: Bench, figure: Figure, runs: int) -> None:
    plain = HistoryQuery()
    for number in range(runs + 1):
        for order in _alternating(number):
            if order == "view":
                await bench.reload()
                view_ms = await _timed(bench.next_page)
            else:
                store_ms = _time_call(
                    lambda: bench.store.query_page(plain, PAGE_SIZE, PAGE_SIZE)
                )
        if number > 0:
            figure.view.values.append(view_ms)
            figure.store.values.append(store_ms)


def _measure_store_only(figure: Figure, call: Callable[[], object], runs: int) -> None:
    call()
    figure.store.values += [_time_call(call) for _ in range(runs)]


def _alternating(number: int) -> tuple[str, str]:
    return ("view", "store") if number % 2 == 0 else ("store", "view")


def _time_call(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


# Text that matches about one row of build_history's data, text that every row
# contains, and text with a letter outside ASCII, which SQLite's LIKE cannot
# fold.
RARE_TEXT = "00S000000054321"
COMMON_TEXT = "amendment"
ACCENTED_TEXT = "änderung"
# Row at which the deep pages start.
DEEP_ROW = 50_000


def _text_figure(store: HistoryStore, text: str, target_ms: float | None) -> Figure:
    matches = store.query_count(HistoryQuery(text=text))
    noun = "match" if matches == 1 else "matches"
    return Figure(f"Text filter `{text}` ({matches:,} {noun})", target_ms=target_ms)


async def _measure_view(store: HistoryStore, runs: int) -> list[Figure]:
    opened = Figure(
        "Open the view until the first page is painted", target_ms=TARGET_MS
    )
    await _measure_open(Bench(store), opened, runs)
    bench = Bench(store)
    await bench.open_view()
    figures = [opened]
    for text, target_ms in (
        (RARE_TEXT, TARGET_MS),
        (COMMON_TEXT, TARGET_MS),
        (ACCENTED_TEXT, None),
    ):
        figure = _text_figure(store, text, target_ms)
        await _measure_query(bench, figure, HistoryQuery(text=text), runs)
        figures.append(figure)
    sort = Figure("Sort on the Submission column (no index)")
    await _measure_query(bench, sort, BY_NAME, runs)
    next_page = Figure(f"Next page of {PAGE_SIZE} rows at row {PAGE_SIZE:,}")
    await _measure_next_page(bench, next_page, runs)
    await bench.close_view()
    return [*figures, sort, next_page]


BY_NAME = HistoryQuery(order_by="submission_name", descending=False)


def _measure_store(store: HistoryStore, path: Path, runs: int) -> list[Figure]:
    deep = Figure(f"Page of {PAGE_SIZE} rows at row {DEEP_ROW:,}, newest first")
    newest = HistoryQuery()
    _measure_store_only(
        deep, lambda: store.query_page(newest, DEEP_ROW, PAGE_SIZE), runs
    )
    deep_sorted = Figure(f"Page of {PAGE_SIZE} rows at row {DEEP_ROW:,}, by Submission")
    _measure_store_only(
        deep_sorted, lambda: store.query_page(BY_NAME, DEEP_ROW, PAGE_SIZE), runs
    )
    open_file = Figure("Open the history file (HistoryStore, integrity check)")
    _measure_store_only(open_file, lambda: HistoryStore(path).close(), runs)
    return [deep, deep_sorted, open_file]


def measure(rows: int = HISTORY_ROWS, runs: int = RUNS) -> list[Figure]:
    """Build a history of ``rows`` entries and time every figure ``runs`` times."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    # Each run closes its view, which must not end the event loop.
    app.setQuitOnLastWindowClosed(False)
    with tempfile.TemporaryDirectory(prefix="vaultgui-bench-history-") as folder:
        path = Path(folder) / "history.sqlite3"
        build_history(path, rows)
        store = HistoryStore(path)
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        try:
            figures = loop.run_until_complete(_measure_view(store, runs))
            return figures + _measure_store(store, path, runs)
        finally:
            store.close()
            loop.close()
            asyncio.set_event_loop(None)


# Report


def render(figures: list[Figure], rows: int, runs: int, load: str) -> str:
    """Return the Markdown section with the table, the method and the machine.

    ``load`` describes how busy the machine was before the runs.
    """
    from startup_frozen import machine_description

    lines = [
        f"## History view on {rows:,} rows",
        "",
        f"Machine: {machine_description()}, SQLite {sqlite3.sqlite_version}.",
        f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Qt platform: "
        f"{os.environ.get('QT_QPA_PLATFORM', 'default')}. {runs} runs after one "
        f"warm-up run, view and store alternating. {load}",
        "",
        "| measure | view: median (min–max) | SQLite alone: median (min–max) "
        "| target | result |",
        "|---|---|---|---|---|",
    ]
    for figure in figures:
        target = "—" if figure.target_ms is None else f"< {figure.target_ms:.0f} ms"
        lines.append(
            f"| {figure.measure} | {figure.view.text()} | {figure.store.text()} "
            f"| {target} | {figure.result()} |"
        )
    lines += ["", *METHOD]
    return "\n".join(lines) + "\n"


METHOD = [
    "How each figure is taken:",
    "",
    "- *view*: from the call (creating `HistoryView`, `HistoryModel.set_query`, "
    "`fetchMore`) until the model has the rows and the table's viewport has "
    "been repainted, in one process with a qasync event loop. The reads run on "
    "a worker thread, so this includes the thread hand-over and building the "
    "cell text. A text typed by the user waits for a 250 ms pause in typing "
    "before it is applied; that pause is not part of the figure.",
    "- *SQLite alone*: the same store calls on the UI thread: the first page "
    "(`query_page`), and `query_count` when the page is full, as the view makes "
    "them. Only when it opens or reloads does the view also count the whole "
    "history for a filtered query; here no query is filtered then.",
    "- The history is made by `build_history` in this file: one Vault, one "
    "user, three years of sign-ins, lookups and cancels.",
    "- A text filter with no index behind it reads every row: a rare text reads "
    "them all for the page, a common one fills the page early and reads them "
    "all to count. Text with a letter outside ASCII is compared by a Python "
    "function, because SQLite's `LIKE` folds the case of ASCII letters only, so "
    "it is slower.",
    "- Pages after the first come from `LIMIT ... OFFSET`, so a page deep in "
    "an order without an index costs a sort of the rows before it. The view "
    "reads every page on a worker thread, because the next page alone is near "
    "or above 5 ms of SQLite time and deep pages are far above it.",
]


def load_average() -> str:
    """Return the 1-minute load average as a sentence, or "" where unknown."""
    try:
        one_minute = os.getloadavg()[0]
    except (AttributeError, OSError):
        return ""
    return f"Load average before the runs: {one_minute:.2f}."


def run() -> str:
    """Measure with the default settings and return the Markdown section."""
    load = load_average()
    return render(measure(), HISTORY_ROWS, RUNS, load)


def main(argv: list[str] | None = None) -> int:
    """Measure, write the page and print it.

    NOTE: with PySide6 6.12.0 the process can abort with "bool_dealloc" at
    exit, after the page is written, for the reason given in SignalWaiter.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=HISTORY_ROWS, help="history rows")
    parser.add_argument(
        "--runs", type=int, default=RUNS, help=f"measured runs (default {RUNS})"
    )
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, help="Markdown file to write"
    )
    options = parser.parse_args(argv)
    if options.rows < DEEP_ROW + PAGE_SIZE or options.runs < 1:
        parser.error(
            f"--rows must be at least {DEEP_ROW + PAGE_SIZE} and --runs at least 1"
        )
    load = load_average()
    figures = measure(options.rows, options.runs)
    section = render(figures, options.rows, options.runs, load)
    page = (
        "# History benchmark\n\nMade by `PYTHONPATH=. QT_QPA_PLATFORM=offscreen "
        "python benchmarks/bench_history.py`.\n\n" + section
    )
    options.output.write_text(page, encoding="utf-8")
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
