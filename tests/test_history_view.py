"""Tests of the history tab on real SQLite files: filters, sorting, export."""

from __future__ import annotations

import csv
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, QItemSelectionModel, QPoint, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from vaultgui.services import history_schema
from vaultgui.services.history import (
    CSV_HEADER,
    Action,
    HistoryEntry,
    HistoryQuery,
    HistoryStore,
    Outcome,
    receipt_text,
)
from vaultgui.ui import history_view
from vaultgui.ui.history_view import HistoryView

WAIT_MS = 10_000
T0 = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
SUBMISSION_ID_COLUMN = 2

pytestmark = pytest.mark.usefixtures("qloop")


def make_entry(number: int, **changes: object) -> HistoryEntry:
    """Return entry ``number``, one hour after entry ``number - 1``."""
    values: dict[str, object] = {
        "id": None,
        "time_utc": T0 + timedelta(hours=number),
        "os_user": "zoe",
        "vault_dns": "rim.veevavault.com",
        "vault_username": "zoe@example.com",
        "action": Action.LOOKUP,
        "submission_id": f"SUB{number:05d}",
        "submission_name": f"Dossier {number}",
        "status_before": "IMPORT_IN_PROGRESS",
    }
    values.update(changes)
    return HistoryEntry(**values)  # type: ignore[arg-type]


def insert(path: Path, entries: list[HistoryEntry]) -> None:
    """Insert ``entries`` in one transaction, through a second connection."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            history_schema.INSERT_SQL,
            [history_schema.entry_values(entry) for entry in entries],
        )
        conn.execute("COMMIT")
    finally:
        conn.close()


def insert_numbered(path: Path, count: int) -> None:
    insert(path, [make_entry(number) for number in range(count)])


class GatedStore(HistoryStore):
    """A real store whose page reads wait for ``release`` while ``gated`` holds."""

    def __init__(self, path: Path, gated: Callable[[HistoryQuery, int], bool]) -> None:
        super().__init__(path)
        self.gated = gated
        self.release = threading.Event()

    def query_page(
        self, query: HistoryQuery, offset: int, limit: int
    ) -> list[HistoryEntry]:
        if self.gated(query, offset):
            self.release.wait(WAIT_MS / 1000)
        return super().query_page(query, offset, limit)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "history.sqlite3"
    HistoryStore(path).close()
    return path


@pytest.fixture
def store(db_path: Path) -> Iterator[HistoryStore]:
    opened = HistoryStore(db_path)
    yield opened
    opened.close()


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read pages of 5 rows, so that a few rows already need several pages."""
    monkeypatch.setattr(history_view, "PAGE_SIZE", 5)


def open_view(qtbot: QtBot, store: HistoryStore | None) -> HistoryView:
    """Show a view of ``store`` and wait until its first page is in the table.

    The first page arrives through the event loop, so it cannot arrive before
    the wait starts.
    """
    view = HistoryView(store)
    qtbot.addWidget(view)
    view.resize(1400, 600)
    if store is None:
        view.show()
        return view
    with qtbot.waitSignal(view.model.loaded, timeout=WAIT_MS):
        view.show()
    return view


def shown_ids(view: HistoryView) -> list[str]:
    model = view.table.model()
    return [
        model.index(row, SUBMISSION_ID_COLUMN).data() for row in range(model.rowCount())
    ]


def wait_loaded(qtbot: QtBot, view: HistoryView, change: Callable[[], object]) -> None:
    """Make ``change`` and wait until the table shows its first page."""
    with qtbot.waitSignal(view.model.loaded, timeout=WAIT_MS):
        change()


def click_header(qtbot: QtBot, view: HistoryView, column: int) -> None:
    header = view.table.horizontalHeader()
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    point = QPoint(x, header.height() // 2)
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=point)


def select_rows(view: HistoryView, rows: list[int]) -> None:
    selection = view.table.selectionModel()
    selection.clearSelection()
    flags = (
        QItemSelectionModel.SelectionFlag.Select
        | QItemSelectionModel.SelectionFlag.Rows
    )
    for row in rows:
        selection.select(view.model.index(row, 0), flags)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        return list(csv.DictReader(file))


def export_through_dialog(qtbot: QtBot, view: HistoryView, path: Path) -> None:
    """Press "Export CSV…", choose ``path`` and wait for the result message."""
    qtbot.mouseClick(view.export_button, Qt.MouseButton.LeftButton)
    dialog = view.findChild(QFileDialog, "exportCsvDialog")
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible, timeout=WAIT_MS)
    dialog.selectFile(str(path))
    dialog.accept()
    qtbot.waitUntil(lambda: export_finished(view), timeout=WAIT_MS)


def export_finished(view: HistoryView) -> bool:
    text = view.message.label.text()
    return text.startswith(("Exported ", "Could not save"))


# Opening and the whole history


def test_view_newest_first(qtbot: QtBot, db_path: Path, store: HistoryStore) -> None:
    insert_numbered(db_path, 3)

    view = open_view(qtbot, store)

    assert shown_ids(view) == ["SUB00002", "SUB00001", "SUB00000"]


def test_view_count_label(qtbot: QtBot, db_path: Path, store: HistoryStore) -> None:
    insert_numbered(db_path, 3)

    view = open_view(qtbot, store)

    assert view.count_label.text() == "3 of 3 actions"


def test_view_count_label_single(
    qtbot: QtBot, db_path: Path, store: HistoryStore
) -> None:
    insert_numbered(db_path, 1)

    view = open_view(qtbot, store)

    assert view.count_label.text() == "1 of 1 action"


def test_view_without_store(qtbot: QtBot) -> None:
    view = open_view(qtbot, None)

    assert "could not be opened" in view.note.text()
    assert not view.export_button.isEnabled()


def test_view_opens_10000_rows(
    qtbot: QtBot, db_path: Path, store: HistoryStore
) -> None:
    insert_numbered(db_path, 10_000)

    view = open_view(qtbot, store)

    assert view.model.rowCount() == history_view.PAGE_SIZE
    assert view.model.matching_count == 10_000
    assert shown_ids(view)[0] == "SUB09999"


def test_view_scroll_fetches_next_page(
    qtbot: QtBot, db_path: Path, store: HistoryStore
) -> None:
    insert_numbered(db_path, 10_000)
    view = open_view(qtbot, store)

    view.table.scrollToBottom()

    page = history_view.PAGE_SIZE
    qtbot.waitUntil(lambda: view.model.rowCount() == 2 * page, timeout=WAIT_MS)
    assert shown_ids(view)[page] == f"SUB{9999 - page:05d}"


def test_view_reload_shows_new_row(
    qtbot: QtBot, db_path: Path, store: HistoryStore
) -> None:
    insert_numbered(db_path, 2)
    view = open_view(qtbot, store)
    store.add(make_entry(5, submission_id="NEW"))

    wait_loaded(qtbot, view, view.reload)

    assert shown_ids(view)[0] == "NEW"
    assert view.count_label.text() == "3 of 3 actions"


def test_view_read_failure_message(
    qtbot: QtBot, db_path: Path, store: HistoryStore
) -> None:
    insert_numbered(db_path, 2)
    view = open_view(qtbot, store)
    store.close()

    view.reload()

    message = view.message.label
    qtbot.waitUntil(lambda: "could not be read" in message.text(), timeout=WAIT_MS)


# Sorting


def test_header_click_sorts_all_rows(
    qtbot: QtBot, db_path: Path, store: HistoryStore, small_pages: None
) -> None:
    entries = [make_entry(number) for number in range(12)]
    # The oldest entry has the lowest submission ID, so it is not in the first
    # page of the newest-first order that the view opens with.
    entries[0] = make_entry(0, submission_id="AAA")
    insert(db_path, entries)
    view = open_view(qtbot, store)
    header = view.table.horizontalHeader()

    wait_loaded(qtbot, view, lambda: click_header(qtbot, view, SUBMISSION_ID_COLUMN))

    assert header.sortIndicatorSection() == SUBMISSION_ID_COLUMN
    assert header.sortIndicatorOrder() == Qt.SortOrder.AscendingOrder
    assert shown_ids(view)[:3] == ["AAA", "SUB00001", "SUB00002"]


def test_header_second_click_reverses(
    qtbot: QtBot, db_path: Path, store: HistoryStore
) -> None:
    insert(db_path, [make_entry(n, submission_id=i) for n, i in enumerate("BCA")])
    view = open_view(qtbot, store)
    wait_loaded(qtbot, view, lambda: click_header(qtbot, view, SUBMISSION_ID_COLUMN))

    wait_loaded(qtbot, view, lambda: click_header(qtbot, view, SUBMISSION_ID_COLUMN))

    assert shown_ids(view) == ["C", "B", "A"]


def test_sort_keeps_filter(qtbot: QtBot, db_path: Path, store: HistoryStore) -> None:
    insert(
        db_path,
        [
            make_entry(0, submission_id="B", detail="keep"),
            make_entry(1, submission_id="A", detail="keep"),
            make_entry(2, submission_id="0", detail="drop"),
        ],
    )
    view = open_view(qtbot, store)
    view.filter_edit.setText("keep")
    wait_loaded(qtbot, view, view.apply_filters)

    wait_loaded(qtbot, view, lambda: click_header(qtbot, view, SUBMISSION_ID_COLUMN))

    assert shown_ids(view) == ["A", "B"]


def test_sort_on_time_column(qtbot: QtBot, db_path: Path, store: HistoryStore) -> None:
    insert_numbered(db_path, 3)
    view = open_view(qtbot, store)

    wait_loaded(
        qtbot, view, lambda: view.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    )

    assert shown_ids(view) == ["SUB00000", "SUB00001", "SUB00002"]


# Filters


def test_text_filter_waits_for_pause(
    qtbot: QtBot, db_path: Path, store: HistoryStore
) -> None:
    insert_numbered(db_path, 3)
    view = open_view(qtbot, store)

    qtbot.keyClicks(view.filter_edit, "sub00001")

    assert view.model.query.text == ""
    with qtbot.waitSignal(view.model.loaded, timeout=WAIT_MS):
        pass
    assert view.model.query.text == "sub00001"


def test_text_filter_rows(qtbot: QtBot, db_path: Path, store: HistoryStore) -> None:
    insert_numbered(db_path, 3)
    view = open_view(qtbot, store)

    wait_loaded(qtbot, view, lambda: qtbot.keyClicks(view.filter_edit, "dossier 1"))

    assert shown_ids(view) == ["SUB00001"]


def test_text_filter_count_label(
    qtbot: QtBot, db_path: Path, store: HistoryStore
) -> None:
    insert_numbered(db_path, 3)
    view = open_view(qtbot, store)

    wait_loaded(qtbot, view, lambda: qtbot.keyClicks(view.filter_edit, "dossier 1"))

    assert view.count_label.text() == "1 of 3 actions"


def test_text_filter_counts_all_pages(
    qtbot: QtBot, db_path: Path, store: HistoryStore, small_pages: None
) -> None:
    insert(db_path, [make_entry(n, detail="tag" if n % 2 else "") for n in range(20)])
    view = open_view(qtbot, store)

    wait_loaded(qtbot, view, lambda: qtbot.keyClicks(view.filter_edit, "tag"))

    assert view.model.rowCount() == 5
    assert view.count_label.text() == "10 of 20 actions"


def test_from_date_filter(qtbot: QtBot, db_path: Path, store: HistoryStore) -> None:
    insert(db_path, [make_entry(24 * day) for day in range(3)])
    view = open_view(qtbot, store)

    wait_loaded(qtbot, view, lambda: view.from_date.set_day(date(2025, 3, 5)))

    assert shown_ids(view) == ["SUB00048", "SUB00024"]


def test_to_date_filter(qtbot: QtBot, db_path: Path, store: HistoryStore) -> None:
    insert(db_path, [make_entry(24 * day) for day in range(3)])
    view = open_view(qtbot, store)

    wait_loaded(qtbot, view, lambda: view.to_date.set_day(date(2025, 3, 5)))

    assert shown_ids(view) == ["SUB00024", "SUB00000"]


def test_date_fields_start_as_any(qtbot: QtBot, store: HistoryStore) -> None:
    view = open_view(qtbot, store)

    assert view.from_date.text() == "Any"
    assert view.to_date.day() is None


@pytest.mark.qt_log_ignore("does not support grabbing the keyboard")
def test_date_popup_opens_this_month(qtbot: QtBot, store: HistoryStore) -> None:
    view = open_view(qtbot, store)
    edit = view.from_date
    arrow = QPoint(edit.width() - 8, edit.height() // 2)

    qtbot.mouseClick(edit, Qt.MouseButton.LeftButton, pos=arrow)

    calendar = edit.calendarWidget()
    qtbot.waitUntil(calendar.isVisible, timeout=WAIT_MS)
    today = QDate.currentDate()
    assert calendar.yearShown() == today.year()
    assert calendar.monthShown() == today.month()
    assert edit.day() is None
    calendar.window().hide()


def test_outcome_filter(qtbot: QtBot, db_path: Path, store: HistoryStore) -> None:
    insert(
        db_path,
        [
            make_entry(0, outcome=Outcome.FAILED),
            make_entry(1, outcome=Outcome.SUCCEEDED),
            make_entry(2, outcome=Outcome.REJECTED),
        ],
    )
    view = open_view(qtbot, store)
    combo = view.outcome_combo

    wait_loaded(qtbot, view, lambda: combo.setCurrentIndex(combo.findText("failed")))

    assert shown_ids(view) == ["SUB00000"]


def test_outcome_did_not_succeed(
    qtbot: QtBot, db_path: Path, store: HistoryStore
) -> None:
    insert(
        db_path,
        [
            make_entry(0, outcome=Outcome.FAILED),
            make_entry(1, outcome=Outcome.SUCCEEDED),
            make_entry(2, outcome=Outcome.REJECTED),
        ],
    )
    view = open_view(qtbot, store)
    combo = view.outcome_combo
    index = combo.findText("Did not succeed")

    wait_loaded(qtbot, view, lambda: combo.setCurrentIndex(index))

    assert shown_ids(view) == ["SUB00002", "SUB00000"]


def test_vault_combo_lists_vaults(
    qtbot: QtBot, db_path: Path, store: HistoryStore
) -> None:
    insert(
        db_path,
        [
            make_entry(n, vault_dns=f"{name}.veevavault.com")
            for n, name in enumerate("ba")
        ],
    )
    view = open_view(qtbot, store)
    combo = view.vault_combo

    qtbot.waitUntil(lambda: combo.count() == 3, timeout=WAIT_MS)

    items = [combo.itemText(index) for index in range(combo.count())]
    assert items == ["All Vaults", "a.veevavault.com", "b.veevavault.com"]


def test_vault_filter(qtbot: QtBot, db_path: Path, store: HistoryStore) -> None:
    insert(
        db_path,
        [
            make_entry(n, vault_dns=f"{name}.veevavault.com")
            for n, name in enumerate("ab")
        ],
    )
    view = open_view(qtbot, store)
    combo = view.vault_combo
    qtbot.waitUntil(lambda: combo.count() == 3, timeout=WAIT_MS)

    index = combo.findText("a.veevavault.com")
    wait_loaded(qtbot, view, lambda: combo.setCurrentIndex(index))

    assert shown_ids(view) == ["SUB00000"]


def test_vault_choice_survives_reload(
    qtbot: QtBot, db_path: Path, store: HistoryStore
) -> None:
    insert(
        db_path,
        [
            make_entry(n, vault_dns=f"{name}.veevavault.com")
            for n, name in enumerate("ab")
        ],
    )
    view = open_view(qtbot, store)
    combo = view.vault_combo
    qtbot.waitUntil(lambda: combo.count() == 3, timeout=WAIT_MS)
    wait_loaded(qtbot, view, lambda: combo.setCurrentIndex(2))
    store.add(make_entry(9, vault_dns="c.veevavault.com"))

    wait_loaded(qtbot, view, view.reload)
    qtbot.waitUntil(lambda: combo.count() == 4, timeout=WAIT_MS)

    assert combo.currentText() == "b.veevavault.com"
    assert shown_ids(view) == ["SUB00001"]


def test_clear_filters(qtbot: QtBot, db_path: Path, store: HistoryStore) -> None:
    insert_numbered(db_path, 3)
    view = open_view(qtbot, store)
    view.filter_edit.setText("dossier 1")
    wait_loaded(qtbot, view, view.apply_filters)

    wait_loaded(qtbot, view, view.clear_filters)

    assert len(shown_ids(view)) == 3
    assert view.filter_edit.text() == ""


# Results that arrive late


def test_late_first_page_dropped(
    qtbot: QtBot, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="vaultgui.ui.history_view")
    insert(db_path, [make_entry(0, detail="old"), make_entry(1, detail="new")])
    store = GatedStore(db_path, lambda query, _offset: query.text == "old")
    try:
        view = open_view(qtbot, store)
        view.filter_edit.setText("old")
        view.apply_filters()
        view.filter_edit.setText("new")
        wait_loaded(qtbot, view, view.apply_filters)

        store.release.set()
        qtbot.waitUntil(
            lambda: "Dropped the first page" in caplog.text, timeout=WAIT_MS
        )

        assert shown_ids(view) == ["SUB00001"]
    finally:
        store.release.set()
        store.close()


def test_late_next_page_dropped(
    qtbot: QtBot, db_path: Path, caplog: pytest.LogCaptureFixture, small_pages: None
) -> None:
    caplog.set_level(logging.DEBUG, logger="vaultgui.ui.history_view")
    insert_numbered(db_path, 12)
    store = GatedStore(db_path, lambda query, offset: offset > 0 and not query.text)
    try:
        view = open_view(qtbot, store)
        view.model.fetchMore()
        view.filter_edit.setText("dossier 1")
        wait_loaded(qtbot, view, view.apply_filters)

        store.release.set()
        qtbot.waitUntil(lambda: "Dropped a page" in caplog.text, timeout=WAIT_MS)

        assert shown_ids(view) == ["SUB00011", "SUB00010", "SUB00001"]
    finally:
        store.release.set()
        store.close()


# CSV export


def test_export_selected_rows(
    qtbot: QtBot, db_path: Path, store: HistoryStore, tmp_path: Path
) -> None:
    insert_numbered(db_path, 4)
    view = open_view(qtbot, store)
    select_rows(view, [0, 2])
    path = tmp_path / "selected.csv"

    export_through_dialog(qtbot, view, path)

    rows = read_csv(path)
    assert [row["submission_id"] for row in rows] == ["SUB00003", "SUB00001"]


def test_export_header_row(
    qtbot: QtBot, db_path: Path, store: HistoryStore, tmp_path: Path
) -> None:
    insert_numbered(db_path, 1)
    view = open_view(qtbot, store)
    path = tmp_path / "all.csv"

    export_through_dialog(qtbot, view, path)

    with path.open(encoding="utf-8-sig", newline="") as file:
        assert next(csv.reader(file)) == list(CSV_HEADER)


def test_export_filter_result(
    qtbot: QtBot, db_path: Path, store: HistoryStore, tmp_path: Path, small_pages: None
) -> None:
    insert(db_path, [make_entry(n, detail="tag" if n % 2 else "") for n in range(20)])
    view = open_view(qtbot, store)
    view.filter_edit.setText("tag")
    wait_loaded(qtbot, view, view.apply_filters)
    path = tmp_path / "filtered.csv"

    export_through_dialog(qtbot, view, path)

    ids = [row["submission_id"] for row in read_csv(path)]
    assert ids == [f"SUB{number:05d}" for number in range(19, 0, -2)]


def test_export_success_message(
    qtbot: QtBot, db_path: Path, store: HistoryStore, tmp_path: Path
) -> None:
    insert_numbered(db_path, 2)
    view = open_view(qtbot, store)
    path = tmp_path / "all.csv"

    export_through_dialog(qtbot, view, path)

    assert view.message.label.text() == f"Exported 2 actions to {path}."


def test_export_failure_message(
    qtbot: QtBot, db_path: Path, store: HistoryStore, tmp_path: Path
) -> None:
    insert_numbered(db_path, 2)
    view = open_view(qtbot, store)
    folder = tmp_path / "exports"
    folder.mkdir()
    # Replacing a folder with a file fails after the rows are written.
    target = folder / "taken.csv"
    target.mkdir()

    view.export_to(target, None, view.current_query())

    qtbot.waitUntil(lambda: export_finished(view), timeout=WAIT_MS)
    assert view.message.label.text().startswith("Could not save")
    assert view.export_button.isEnabled()
    assert [path.name for path in folder.iterdir()] == ["taken.csv"]


# Receipts


def test_receipt_button_needs_one_row(
    qtbot: QtBot, db_path: Path, store: HistoryStore
) -> None:
    insert_numbered(db_path, 3)
    view = open_view(qtbot, store)

    select_rows(view, [0, 1])

    assert not view.receipt_button.isEnabled()


def test_receipt_button_enabled(
    qtbot: QtBot, db_path: Path, store: HistoryStore
) -> None:
    insert_numbered(db_path, 3)
    view = open_view(qtbot, store)

    select_rows(view, [1])

    assert view.receipt_button.isEnabled()


def test_receipt_copied(qtbot: QtBot, db_path: Path, store: HistoryStore) -> None:
    insert(
        db_path,
        [
            make_entry(
                0,
                action=Action.CANCEL,
                outcome=Outcome.UNKNOWN,
                execution_id="exec-42",
                reference_id="vaultgui-7f3a",
                detail="TIMEOUT: no reply within 60 s",
            ),
            make_entry(1),
        ],
    )
    view = open_view(qtbot, store)
    select_rows(view, [1])

    qtbot.mouseClick(view.receipt_button, Qt.MouseButton.LeftButton)

    text = QGuiApplication.clipboard().text()
    assert text == receipt_text(view.model.entry(1))
    assert "exec-42" in text
    assert "vaultgui-7f3a" in text


def test_receipt_message(qtbot: QtBot, db_path: Path, store: HistoryStore) -> None:
    insert_numbered(db_path, 1)
    view = open_view(qtbot, store)
    select_rows(view, [0])

    qtbot.mouseClick(view.receipt_button, Qt.MouseButton.LeftButton)

    assert view.message.label.text().startswith("Receipt copied")


def test_selection_cleared_by_new_query(
    qtbot: QtBot, db_path: Path, store: HistoryStore
) -> None:
    insert_numbered(db_path, 3)
    view = open_view(qtbot, store)
    select_rows(view, [0])

    wait_loaded(qtbot, view, view.reload)

    assert not view.receipt_button.isEnabled()
