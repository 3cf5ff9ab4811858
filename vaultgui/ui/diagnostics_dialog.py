"""Dialog that runs the connection check to a Vault and shows each step as it ends."""

from __future__ import annotations

import asyncio
import logging

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from vaultgui.services.address import VaultAddress
from vaultgui.services.diagnostics import (
    DEFAULT_CLIENT_ID,
    CheckStep,
    ConnectionReport,
    check_connection,
    format_step,
)
from vaultgui.services.logsetup import redact
from vaultgui.services.settings_schema import NetworkSettings
from vaultgui.services.transport import Timeouts
from vaultgui.ui.tasks import Generation, run_in_thread, spawn
from vaultgui.ui.widgets import set_names

log = logging.getLogger(__name__)


class ConnectionCheckDialog(QDialog):
    """Check the network path to one Vault and show a report to copy for IT.

    :meth:`open` shows the dialog and starts the check on a worker thread, so
    a qasync loop must be running. Steps appear as they end. Closing the
    dialog stops the wait but not the check itself, which ends on its own
    within the timeouts and whose result is then dropped.
    """

    # Emitted on the worker thread; Qt queues it to the dialog's thread.
    _step_finished = Signal(int, object)

    def __init__(
        self,
        address: VaultAddress,
        network: NetworkSettings,
        parent: QWidget | None = None,
        *,
        client_id: str = DEFAULT_CLIENT_ID,
    ) -> None:
        super().__init__(parent)
        set_names(self, "connectionCheckDialog")
        self.setWindowTitle(self.tr("Check connection"))
        self.setMinimumSize(720, 420)
        self.address = address
        self.network = network
        self.client_id = client_id
        self.report: ConnectionReport | None = None
        self._task: asyncio.Task[None] | None = None
        self._generation = Generation()

        self.status_label = QLabel(self)
        set_names(self.status_label, "connectionCheckStatusLabel")
        self.status_label.setWordWrap(True)

        self.report_text = QPlainTextEdit(self)
        set_names(self.report_text, "connectionReportText")
        self.report_text.setReadOnly(True)
        self.report_text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.report_text.setFont(
            QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        )

        self.copy_button = QPushButton(self.tr("Copy to clipboard"), self)
        set_names(self.copy_button, "copyReportButton")
        self.copy_button.clicked.connect(self.copy_report)
        self.again_button = QPushButton(self.tr("Check again"), self)
        set_names(self.again_button, "checkAgainButton")
        self.again_button.clicked.connect(self.start)
        close_button = QPushButton(self.tr("Close"), self)
        set_names(close_button, "closeCheckButton")
        close_button.setDefault(True)
        close_button.clicked.connect(self.reject)

        buttons = QHBoxLayout()
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.again_button)
        buttons.addStretch(1)
        buttons.addWidget(close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status_label)
        layout.addWidget(self.report_text, 1)
        layout.addLayout(buttons)

        self._step_finished.connect(self._show_step, Qt.ConnectionType.QueuedConnection)
        self.finished.connect(self._stop)

    @property
    def running(self) -> bool:
        """Whether a check is in progress."""
        return self._task is not None and not self._task.done()

    def open(self) -> None:
        """Show the dialog without blocking and start the first check."""
        super().open()
        if self._task is None:
            self.start()

    @Slot()
    def start(self) -> None:
        """Start a new check, dropping the result of any check still running."""
        self._stop()
        generation = self._generation.next()
        self.report = None
        self.report_text.setPlainText(
            self.tr("Connection check of {address}").format(address=self.address)
            + "\n\n"
        )
        self.status_label.setText(self.tr("Checking the connection…"))
        self.again_button.setEnabled(False)
        self._task = spawn(self._run(generation), name="connection-check")

    @Slot()
    def copy_report(self) -> None:
        """Put the report text on the clipboard."""
        QGuiApplication.clipboard().setText(self.report_text.toPlainText())
        self.status_label.setText(self.tr("The report is on the clipboard."))

    async def _run(self, generation: int) -> None:
        try:
            report = await run_in_thread(
                lambda: self._check(generation), name="connection-check"
            )
        except Exception as error:
            log.exception("The connection check of %s did not finish", self.address)
            if self._generation.is_current(generation):
                self._show_failure(error)
            return
        finally:
            if self._generation.is_current(generation):
                self.again_button.setEnabled(True)
        if self._generation.is_current(generation):
            self._show_report(report)

    def _check(self, generation: int) -> ConnectionReport:
        """Run the check; called on the worker thread."""
        return check_connection(
            self.address,
            proxy_mode=self.network.proxy_mode,
            proxy_url=self.network.proxy_url,
            extra_ca_file=self.network.extra_ca_file or None,
            timeouts=Timeouts(
                connect=self.network.connect_timeout, read=self.network.read_timeout
            ),
            client_id=self.client_id,
            on_step=lambda step: self._step_finished.emit(generation, step),
        )

    @Slot(int, object)
    def _show_step(self, generation: int, step: CheckStep) -> None:
        if self._generation.is_current(generation) and self.report is None:
            self.report_text.appendPlainText(format_step(step))

    def _show_report(self, report: ConnectionReport) -> None:
        self.report = report
        self.report_text.setPlainText(report.as_text())
        failed = report.failed_step
        if failed is None:
            self.status_label.setText(
                self.tr("Vault answered. Every step of the connection worked.")
            )
        else:
            self.status_label.setText(
                self.tr(
                    "The connection failed at the step “{step}”. Copy the report "
                    "and send it to your IT department."
                ).format(step=failed.name)
            )

    def _show_failure(self, error: Exception) -> None:
        self.report_text.appendPlainText(
            self.tr("The check stopped: {error}").format(error=redact(str(error)))
        )
        self.status_label.setText(
            self.tr(
                "The check could not finish. Copy the text below and send it to "
                "your help desk."
            )
        )

    @Slot()
    def _stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
