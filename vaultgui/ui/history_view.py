"""The history tab: this user's recorded actions, filtered and sorted in SQLite."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QDate,
    QEvent,
    QLocale,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QStandardPaths,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from vaultgui.services.history import (
    Action,
    HistoryEntry,
    HistoryError,
    HistoryQuery,
    HistoryStore,
    Outcome,
    receipt_text,
    status_after_display,
    status_display,
    write_csv,
)
from vaultgui.ui.messages import UserMessage
from vaultgui.ui.tasks import Generation, run_in_thread, spawn
from vaultgui.ui.widgets import MessageArea, set_names

log = logging.getLogger(__name__)

PAGE_SIZE = 500
# Pause in typing, in milliseconds, after which the text filter is applied.
FILTER_DELAY_MS = 250

_Index = QModelIndex | QPersistentModelIndex


def _deleted(qt_object: QObject) -> bool:
    # A read on a worker thread can outlive the widget that started it, for
    # example when the window closes while the read runs.
    return not isValid(qt_object)


# The model


@dataclass(frozen=True)
class _Page:
    """Entries read from the store, with the text of their cells."""

    entries: list[HistoryEntry]
    cells: list[tuple[str, ...]]


@dataclass(frozen=True)
class _FirstPage:
    """The first page of a query and its counts.

    ``total`` is None when the number of all entries was not counted again.
    """

    page: _Page
    matching: int
    total: int | None


ACTION_LABELS = {
    Action.SIGN_IN: "Sign-in",
    Action.LOOKUP: "Look-up",
    Action.CANCEL: "Cancel",
    Action.RECHECK: "Status re-read",
    Action.SIGN_OUT: "Sign-out",
}
OUTCOME_LABELS = {
    Outcome.PENDING: "Pending: no reply recorded",
    Outcome.SUCCEEDED: "Succeeded",
    Outcome.FAILED: "Failed",
    Outcome.REJECTED: "Rejected by Vault",
    Outcome.UNKNOWN: "Unclear: status read afterwards",
    Outcome.ABANDONED: "Stopped waiting",
    Outcome.NOT_SENT: "Not sent",
}


def _cells(entry: HistoryEntry) -> tuple[str, ...]:
    local_time = entry.time_utc.astimezone()
    return (
        local_time.strftime("%Y-%m-%d %H:%M:%S"),
        entry.vault_dns,
        entry.submission_id,
        entry.submission_name,
        ACTION_LABELS.get(entry.action, str(entry.action)),
        status_display(entry.status_before, entry.action),
        OUTCOME_LABELS.get(entry.outcome, str(entry.outcome)),
        status_after_display(entry),
        entry.execution_id,
    )


def _read_page(store: HistoryStore, query: HistoryQuery, offset: int) -> _Page:
    # Runs on a worker thread, so the cell text is made there too.
    entries = store.query_page(query, offset, PAGE_SIZE)
    return _Page(entries, [_cells(entry) for entry in entries])


def _read_first_page(
    store: HistoryStore, query: HistoryQuery, count_all: bool
) -> _FirstPage:
    page = _read_page(store, query, 0)
    if len(page.entries) < PAGE_SIZE:
        # A short first page is every match, so counting would read it again.
        matching = len(page.entries)
    else:
        matching = store.query_count(query)
    total = None
    if count_all:
        total = store.count() if query.is_filtered else matching
    return _FirstPage(page, matching, total)


class HistoryModel(QAbstractTableModel):
    """The entries that match one :class:`HistoryQuery`, a page at a time.

    SQLite filters and sorts, so clicking a header reads the first page again
    in the new order. Every read runs on a worker thread, and the result of a
    query that has been replaced since is dropped.
    """

    # Header text and the sort key of each column. Column 2 stays the
    # submission ID, because acceptance tests read it from historyTable. The
    # status columns sort on the raw archive_status__v value that their cells
    # show in brackets.
    COLUMNS = (
        ("Time", "time_utc"),
        ("Vault", "vault_dns"),
        ("Submission ID", "submission_id"),
        ("Submission", "submission_name"),
        ("Action", "action"),
        ("Status before", "status_before"),
        ("Outcome", "outcome"),
        ("Status after", "status_after"),
        ("Vault execution id", "execution_id"),
    )

    loaded = Signal()
    """The first page of the current query is in the model."""
    failed = Signal(str)
    """A read failed; the argument is the store's message."""

    def __init__(
        self, store: HistoryStore | None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._query = HistoryQuery()
        self._entries: list[HistoryEntry] = []
        self._cells: list[tuple[str, ...]] = []
        self._matching = 0
        self._total = 0
        self._total_is_current = False
        self._generation = Generation()
        self._current = self._generation.next()
        self._fetching = False

    @property
    def query(self) -> HistoryQuery:
        """The query whose entries the model shows or is loading."""
        return self._query

    @property
    def matching_count(self) -> int:
        """Number of entries that match the query of the last loaded page."""
        return self._matching

    @property
    def total_count(self) -> int:
        """Number of entries in the whole history, as last counted."""
        return self._total

    def set_query(self, query: HistoryQuery) -> None:
        """Show the entries of ``query``. An unchanged query reads nothing."""
        if query != self._query:
            self._query = query
            self._start_load()

    def reload(self) -> None:
        """Read the first page of the current query and every count again."""
        self._total_is_current = False
        self._start_load()

    def entry(self, row: int) -> HistoryEntry:
        """Return the entry shown in ``row``."""
        return self._entries[row]

    # Qt's model interface

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._entries)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
        ):
            return self.tr(self.COLUMNS[section][0])
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.ToolTipRole,
        ):
            return None
        return self._cells[index.row()][index.column()]

    def sort(
        self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder
    ) -> None:
        if not 0 <= column < len(self.COLUMNS):
            return
        descending = order == Qt.SortOrder.DescendingOrder
        order_by = self.COLUMNS[column][1]
        self.set_query(replace(self._query, order_by=order_by, descending=descending))

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        if parent.isValid() or self._fetching:
            return False
        return len(self._entries) < self._matching

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self._store is None or self._fetching:
            return
        self._fetching = True
        offset = len(self._entries)
        load = self._load_more(self._store, self._query, offset, self._current)
        spawn(load, name="history-load-more")

    # Loading

    def _start_load(self) -> None:
        if self._store is None:
            return
        self._current = self._generation.next()
        self._fetching = False
        count_all = not self._total_is_current
        load = self._load_first(self._store, self._query, self._current, count_all)
        spawn(load, name="history-load")

    async def _load_first(
        self,
        store: HistoryStore,
        query: HistoryQuery,
        generation: int,
        count_all: bool,
    ) -> None:
        read = partial(_read_first_page, store, query, count_all)
        try:
            first = await run_in_thread(read, name="history-read")
        except HistoryError as error:
            log.error("Could not read the history: %s", error)
            if not _deleted(self) and self._generation.is_current(generation):
                self.failed.emit(str(error))
            return
        if _deleted(self):
            return
        if not self._generation.is_current(generation):
            log.debug("Dropped the first page of a replaced history query")
            return
        self.beginResetModel()
        self._entries = first.page.entries
        self._cells = first.page.cells
        self._matching = first.matching
        if first.total is not None:
            self._total = first.total
            self._total_is_current = True
        self.endResetModel()
        self.loaded.emit()

    async def _load_more(
        self, store: HistoryStore, query: HistoryQuery, offset: int, generation: int
    ) -> None:
        read = partial(_read_page, store, query, offset)
        try:
            page = await run_in_thread(read, name="history-read-more")
        except HistoryError as error:
            log.error("Could not read more history rows: %s", error)
            if not _deleted(self) and self._generation.is_current(generation):
                # Stop asking for more until the next query or reload.
                self._matching = len(self._entries)
                self._fetching = False
                self.failed.emit(str(error))
            return
        if _deleted(self):
            return
        if not self._generation.is_current(generation):
            log.debug("Dropped a page of a replaced history query")
            return
        self._fetching = False
        self._append(page)

    def _append(self, page: _Page) -> None:
        if not page.entries:
            self._matching = len(self._entries)
            return
        first = len(self._entries)
        self.beginInsertRows(QModelIndex(), first, first + len(page.entries) - 1)
        self._entries.extend(page.entries)
        self._cells.extend(page.cells)
        self.endInsertRows()


# The filter bar

# The lowest date of a date field, shown as "Any" and meaning no limit.
_NO_DATE = QDate(2000, 1, 1)


class OptionalDateEdit(QDateEdit):
    """A date field that can also be empty: its lowest date shows as "Any"."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setCalendarPopup(True)
        self.setDisplayFormat("yyyy-MM-dd")
        self.setMinimumDate(_NO_DATE)
        self.setSpecialValueText(self.tr("Any"))
        self.setDate(_NO_DATE)
        self.calendarWidget().installEventFilter(self)

    def day(self) -> date | None:
        """Return the chosen day, or None while the field shows "Any"."""
        chosen = self.date()
        if chosen == _NO_DATE:
            return None
        return date(chosen.year(), chosen.month(), chosen.day())

    def set_day(self, day: date | None) -> None:
        """Show ``day``, or "Any" for None."""
        self.setDate(_NO_DATE if day is None else QDate(day.year, day.month, day.day))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # The calendar opens on the field's date, which is January 2000 while the
        # field shows "Any", so it is moved to the current month instead.
        if (
            watched is self.calendarWidget()
            and event.type() == QEvent.Type.Show
            and self.day() is None
        ):
            today = QDate.currentDate()
            self.calendarWidget().setCurrentPage(today.year(), today.month())
        return super().eventFilter(watched, event)


_DID_NOT_SUCCEED = frozenset(set(Outcome) - {Outcome.SUCCEEDED})


def _outcome_choices() -> list[tuple[str, frozenset[Outcome]]]:
    # Each choice is a label and the outcomes that it selects.
    choices = [("All outcomes", frozenset[Outcome]())]
    choices.append(("Did not succeed", _DID_NOT_SUCCEED))
    choices += [(str(outcome), frozenset({outcome})) for outcome in Outcome]
    return choices


class HistoryView(QWidget):
    """The history table with its filter bar, CSV export and receipts."""

    def __init__(
        self, store: HistoryStore | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._has_resized_columns = False
        self.model = HistoryModel(store, self)
        self.filter_timer = QTimer(self)
        self.filter_timer.setSingleShot(True)
        self.filter_timer.setInterval(FILTER_DELAY_MS)
        self.filter_timer.timeout.connect(self.apply_filters)
        self._build()
        self._connect()
        if store is None:
            self.note.setText(
                self.tr("The history could not be opened, so nothing is recorded.")
            )
            self.export_button.setEnabled(False)
        else:
            self.note.setText(self.tr("History file: {path}").format(path=store.path))
            self.reload()

    def reload(self) -> None:
        """Read the current query and the list of Vaults again, off the UI thread."""
        if self._store is not None:
            self.model.reload()
            spawn(self._load_vaults(self._store), name="history-vaults")

    def current_query(self) -> HistoryQuery:
        """Return the query that the filter bar describes, in the table's order."""
        return replace(
            self.model.query,
            text=self.filter_edit.text(),
            date_from=self.from_date.day(),
            date_to=self.to_date.day(),
            outcomes=self.outcome_combo.currentData() or frozenset(),
            vault_dns=self.vault_combo.currentData() or "",
        )

    def apply_filters(self) -> None:
        """Show the entries that the filter bar selects, at once."""
        self.filter_timer.stop()
        self.model.set_query(self.current_query())

    def clear_filters(self) -> None:
        """Reset every filter, so the table shows the whole history."""
        for widget in self._filter_widgets():
            widget.blockSignals(True)
        self.filter_edit.clear()
        self.from_date.set_day(None)
        self.to_date.set_day(None)
        self.outcome_combo.setCurrentIndex(0)
        self.vault_combo.setCurrentIndex(0)
        for widget in self._filter_widgets():
            widget.blockSignals(False)
        self.apply_filters()

    def selected_entries(self) -> list[HistoryEntry]:
        """Return the selected entries, top row first."""
        rows = sorted(
            index.row() for index in self.table.selectionModel().selectedRows()
        )
        return [self.model.entry(row) for row in rows]

    # Layout

    def _build(self) -> None:
        self.note = QLabel(self)
        set_names(self.note, "historyNoteLabel")
        self.note.setWordWrap(True)
        self.message = MessageArea("historyMessageLabel", self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addLayout(self._build_filter_bar())
        layout.addLayout(self._build_action_bar())
        layout.addWidget(self.message)
        layout.addWidget(self._build_table(), 1)

    def _build_filter_bar(self) -> QHBoxLayout:
        self.filter_edit = QLineEdit(self)
        set_names(self.filter_edit, "historyFilterEdit")
        self.filter_edit.setPlaceholderText(
            self.tr("Search submission, Vault, user, ids or detail")
        )
        self.filter_edit.setClearButtonEnabled(True)
        self.from_date = OptionalDateEdit(self)
        set_names(self.from_date, "historyFromDate")
        self.from_date.setToolTip(self.tr("First day to show"))
        self.to_date = OptionalDateEdit(self)
        set_names(self.to_date, "historyToDate")
        self.to_date.setToolTip(self.tr("Last day to show"))
        self.outcome_combo = QComboBox(self)
        set_names(self.outcome_combo, "historyOutcomeCombo")
        for label, outcomes in _outcome_choices():
            self.outcome_combo.addItem(self.tr(label), outcomes)
        self.vault_combo = QComboBox(self)
        set_names(self.vault_combo, "historyVaultCombo")
        self.vault_combo.addItem(self.tr("All Vaults"), "")
        self.clear_button = QPushButton(self.tr("Clear filters"), self)
        set_names(self.clear_button, "historyClearFiltersButton")

        bar = QHBoxLayout()
        bar.addWidget(self.filter_edit, 1)
        bar.addWidget(QLabel(self.tr("From"), self))
        bar.addWidget(self.from_date)
        bar.addWidget(QLabel(self.tr("To"), self))
        bar.addWidget(self.to_date)
        bar.addWidget(self.outcome_combo)
        bar.addWidget(self.vault_combo)
        bar.addWidget(self.clear_button)
        return bar

    def _build_action_bar(self) -> QHBoxLayout:
        self.count_label = QLabel(self)
        set_names(self.count_label, "historyCountLabel")
        self.receipt_button = QPushButton(self.tr("Copy receipt"), self)
        set_names(self.receipt_button, "copyReceiptButton")
        self.receipt_button.setToolTip(
            self.tr("Copy the selected action as text for a help-desk ticket.")
        )
        self.receipt_button.setEnabled(False)
        self.export_button = QPushButton(self.tr("Export CSV…"), self)
        set_names(self.export_button, "exportCsvButton")
        self.export_button.setToolTip(
            self.tr(
                "Save the selected actions, or every action that the filters "
                "show, as a CSV file."
            )
        )
        bar = QHBoxLayout()
        bar.addWidget(self.count_label, 1)
        bar.addWidget(self.receipt_button)
        bar.addWidget(self.export_button)
        return bar

    def _build_table(self) -> QTableView:
        self.table = QTableView(self)
        set_names(self.table, "historyTable")
        # Record IDs differ in their last digits, so long cells are cut in the
        # middle rather than at the end.
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        # Fit the columns to the rows on screen only. Measuring all 500 rows of a
        # page took 75-110 ms of the UI thread in benchmarks/bench_history.py.
        header.setResizeContentsPrecision(0)
        # The indicator is set before sorting is enabled, because enabling it
        # sorts by the indicator at once. The model already has this order.
        header.setSortIndicator(0, Qt.SortOrder.DescendingOrder)
        self.table.setSortingEnabled(True)
        return self.table

    def _filter_widgets(self) -> list[QWidget]:
        return [
            self.filter_edit,
            self.from_date,
            self.to_date,
            self.outcome_combo,
            self.vault_combo,
        ]

    def _connect(self) -> None:
        self.filter_edit.textChanged.connect(self.filter_timer.start)
        self.filter_edit.returnPressed.connect(self.apply_filters)
        self.from_date.dateChanged.connect(self.filter_timer.start)
        self.to_date.dateChanged.connect(self.filter_timer.start)
        self.outcome_combo.currentIndexChanged.connect(self.apply_filters)
        self.vault_combo.currentIndexChanged.connect(self.apply_filters)
        self.clear_button.clicked.connect(self.clear_filters)
        self.receipt_button.clicked.connect(self.copy_receipt)
        self.export_button.clicked.connect(self.ask_export_path)
        self.model.loaded.connect(self._show_loaded)
        self.model.failed.connect(self._show_read_failure)
        self.model.modelReset.connect(self._update_buttons)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)

    # Results

    def _show_loaded(self) -> None:
        locale = QLocale()
        total = self.model.total_count
        text = self.tr("{matching} of {total} actions")
        if total == 1:
            text = self.tr("{matching} of {total} action")
        self.count_label.setText(
            text.format(
                matching=locale.toString(self.model.matching_count),
                total=locale.toString(total),
            )
        )
        if not self._has_resized_columns and self.model.rowCount() > 0:
            self._has_resized_columns = True
            # Size the columns from the first rows only: measuring all loaded
            # rows stalled the event loop by about 80 ms on a large history.
            self.table.horizontalHeader().setResizeContentsPrecision(40)
            self.table.resizeColumnsToContents()

    def _show_read_failure(self, error: str) -> None:
        self.message.show_message(
            UserMessage(
                self.tr(
                    "The history could not be read. Try again later; if it keeps "
                    "failing, tell the help desk."
                ),
                error,
            ),
            "error",
        )

    async def _load_vaults(self, store: HistoryStore) -> None:
        try:
            vaults = await run_in_thread(store.distinct_vaults, name="history-vaults")
        except HistoryError as error:
            log.error("Could not list the Vaults in the history: %s", error)
            return
        if _deleted(self):
            return
        chosen = self.vault_combo.currentData() or ""
        self.vault_combo.blockSignals(True)
        while self.vault_combo.count() > 1:
            self.vault_combo.removeItem(1)
        for vault_dns in vaults:
            self.vault_combo.addItem(vault_dns, vault_dns)
        if chosen and chosen not in vaults:
            self.vault_combo.addItem(chosen, chosen)
        self.vault_combo.setCurrentIndex(max(0, self.vault_combo.findData(chosen)))
        self.vault_combo.blockSignals(False)

    def _update_buttons(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        self.receipt_button.setEnabled(len(rows) == 1)

    # Receipt and export

    def copy_receipt(self) -> None:
        """Copy the selected entry as plain text to the clipboard."""
        entries = self.selected_entries()
        if len(entries) != 1:
            return
        QGuiApplication.clipboard().setText(receipt_text(entries[0]))
        self.message.show_message(
            self.tr("Receipt copied. Paste it into your help-desk ticket."), "ok"
        )

    def ask_export_path(self) -> None:
        """Ask where to save the CSV file, without blocking the event loop."""
        entries = self.selected_entries()
        query = self.current_query()
        folder = QStandardPaths.writableLocation(
            QStandardPaths.StandardLocation.DocumentsLocation
        )
        name = f"vaultgui-history-{date.today():%Y%m%d}.csv"
        dialog = QFileDialog(
            self,
            self.tr("Export the history as CSV"),
            str(Path(folder) / name),
            self.tr("CSV files (*.csv)"),
        )
        set_names(dialog, "exportCsvDialog")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("csv")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(
            lambda path: self.export_to(Path(path), entries or None, query)
        )
        dialog.open()

    def export_to(
        self, path: Path, entries: list[HistoryEntry] | None, query: HistoryQuery
    ) -> None:
        """Write ``entries`` to ``path``, or every entry of ``query`` when None."""
        if self._store is not None:
            spawn(
                self._export(self._store, path, entries, query), name="history-export"
            )

    async def _export(
        self,
        store: HistoryStore,
        path: Path,
        entries: list[HistoryEntry] | None,
        query: HistoryQuery,
    ) -> None:
        def write() -> int:
            rows = store.query_all(query) if entries is None else entries
            return write_csv(rows, path)

        self.export_button.setEnabled(False)
        self.message.show_message(self.tr("Exporting…"), "progress")
        try:
            count = await run_in_thread(write, name="history-export")
        except (OSError, HistoryError) as error:
            log.error("Could not export the history to %s: %s", path, error)
            if not _deleted(self):
                self.export_button.setEnabled(True)
                self._show_export_failure(path, error)
            return
        if _deleted(self):
            return
        self.export_button.setEnabled(True)
        text = self.tr("Exported {count} actions to {path}.")
        if count == 1:
            text = self.tr("Exported {count} action to {path}.")
        self.message.show_message(text.format(count=count, path=path), "ok")

    def _show_export_failure(self, path: Path, error: Exception) -> None:
        reason = getattr(error, "strerror", None) or str(error)
        text = self.tr(
            "Could not save {path}: {reason}. Check that the folder exists, that "
            "you may write to it and that the disk is not full, then try again."
        )
        self.message.show_message(
            UserMessage(text.format(path=path, reason=reason), str(error)), "error"
        )
