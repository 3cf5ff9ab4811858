"""The history tab: this user's recorded actions, newest first."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from vaultgui.services.archive_status import status_info
from vaultgui.services.history import HistoryEntry, HistoryError, HistoryStore
from vaultgui.ui.tasks import run_in_thread, spawn
from vaultgui.ui.widgets import set_names

log = logging.getLogger(__name__)

PAGE_SIZE = 500

_Index = QModelIndex | QPersistentModelIndex


class HistoryModel(QAbstractTableModel):
    """Rows of :class:`HistoryEntry`, loaded one page at a time on demand."""

    COLUMNS = (
        "Time",
        "Vault",
        "Submission ID",
        "Submission",
        "Action",
        "Status before",
        "Outcome",
        "Status after",
        "Vault execution id",
    )

    def __init__(
        self, store: HistoryStore | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._rows: list[HistoryEntry] = []
        self._total = 0

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

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
            return self.tr(self.COLUMNS[section])
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.ToolTipRole,
        ):
            return None
        entry = self._rows[index.row()]
        return self._cell(entry, index.column())

    def _cell(self, entry: HistoryEntry, column: int) -> str:
        local_time = entry.time_utc.astimezone()
        values = (
            local_time.strftime("%Y-%m-%d %H:%M:%S"),
            entry.vault_dns,
            entry.submission_id,
            entry.submission_name,
            str(entry.action),
            _status_cell(entry.status_before, entry),
            str(entry.outcome),
            _status_cell(entry.status_after, entry),
            entry.execution_id,
        )
        return values[column]

    def entry(self, row: int) -> HistoryEntry:
        """Return the entry shown in ``row``."""
        return self._rows[row]

    def set_rows(self, rows: list[HistoryEntry], total: int) -> None:
        """Replace every row (newest first) and remember how many exist."""
        self.beginResetModel()
        self._rows = rows
        self._total = total
        self.endResetModel()

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and len(self._rows) < self._total

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: B008
        if self._store is None or parent.isValid():
            return
        try:
            more = self._store.page(len(self._rows), PAGE_SIZE)
        except HistoryError as error:
            log.error("Could not read more history rows: %s", error)
            return
        if not more:
            self._total = len(self._rows)
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(more) - 1)
        self._rows.extend(more)
        self.endInsertRows()


def _status_cell(value: str, entry: HistoryEntry) -> str:
    if not value and entry.action.value in ("sign_in", "sign_out"):
        return ""
    return status_info(value).display


class HistoryView(QWidget):
    """A sortable table of the history, reloaded after every write."""

    def __init__(
        self, store: HistoryStore | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._store = store
        self.model = HistoryModel(store, self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView(self)
        set_names(self.table, "historyTable")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.Interactive
        )
        self.table.horizontalHeader().setStretchLastSection(True)
        self.note = QLabel(self)
        set_names(self.note, "historyNoteLabel")
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addWidget(self.table, 1)
        if store is None:
            self.note.setText(
                self.tr("The history could not be opened, so nothing is recorded.")
            )
        else:
            self.note.setText(self.tr("History file: {path}").format(path=store.path))
            self.reload()

    def reload(self) -> None:
        """Read the newest page again, off the UI thread."""
        if self._store is not None:
            spawn(self._load(self._store), name="history-load")

    async def _load(self, store: HistoryStore) -> None:
        try:
            rows, total = await run_in_thread(
                lambda: (store.page(0, PAGE_SIZE), store.count()), name="history-read"
            )
        except HistoryError as error:
            log.error("Could not read the history: %s", error)
            self.note.setText(
                self.tr("The history could not be read: {error}").format(error=error)
            )
            return
        self.model.set_rows(rows, total)
        self.table.resizeColumnsToContents()
