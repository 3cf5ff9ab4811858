"""The panel that shows one submission, its archive status and the cancel button."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QWidget,
)

from vaultgui.services.archive_status import StatusInfo, status_info
from vaultgui.services.models import Submission
from vaultgui.ui.widgets import set_names


class SubmissionPanel(QGroupBox):
    """Show a submission beside what cancelling would do in its status.

    The cancel button is enabled only for the four cancellable statuses and only
    while no other call is in flight (see :meth:`set_actions_enabled`).
    """

    cancel_requested = Signal()
    refresh_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Submission"), parent)
        self._submission: Submission | None = None
        self._status = status_info("")
        self._actions_enabled = True

        self.name_label = self._value_label("submissionNameLabel")
        self.id_label = self._value_label("submissionIdLabel")
        self.application_label = self._value_label("applicationLabel")
        self.status_label = self._value_label("archiveStatusLabel")
        self.status_label.setStyleSheet("font-weight: bold;")
        self.consequence_label = self._value_label("consequenceLabel")

        self.refresh_button = QPushButton(self.tr("Refresh status"), self)
        set_names(self.refresh_button, "refreshStatusButton")
        self.refresh_button.clicked.connect(self.refresh_requested)
        self.cancel_button = QPushButton(self.tr("Cancel import…"), self)
        set_names(self.cancel_button, "cancelImportButton")
        self.cancel_button.clicked.connect(self.cancel_requested)

        status_row = QHBoxLayout()
        status_row.addWidget(self.status_label, 1)
        status_row.addWidget(self.refresh_button)
        cancel_row = QHBoxLayout()
        cancel_row.addStretch(1)
        cancel_row.addWidget(self.cancel_button)

        form = QFormLayout(self)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.addRow(self.tr("Name:"), self.name_label)
        form.addRow(self.tr("Record ID:"), self.id_label)
        form.addRow(self.tr("Application:"), self.application_label)
        form.addRow(self.tr("Archive status:"), status_row)
        form.addRow(self.tr("If you cancel:"), self.consequence_label)
        form.addRow(cancel_row)
        self.show_submission(None)

    def _value_label(self, object_name: str) -> QLabel:
        label = QLabel(self)
        set_names(label, object_name)
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    @property
    def submission(self) -> Submission | None:
        """The submission on display, or ``None``."""
        return self._submission

    @property
    def status(self) -> StatusInfo:
        """What is known about the status on display."""
        return self._status

    def show_submission(self, submission: Submission | None) -> None:
        """Display ``submission`` (``None`` clears the panel)."""
        self._submission = submission
        if submission is None:
            self._status = status_info("")
            for label in (
                self.name_label,
                self.id_label,
                self.application_label,
                self.status_label,
                self.consequence_label,
            ):
                label.setText("—")
            self._update_buttons()
            return
        self._status = status_info(submission.archive_status)
        self.name_label.setText(submission.name)
        self.id_label.setText(submission.id)
        self.application_label.setText(_application_text(submission))
        self.status_label.setText(self._status.display)
        self.consequence_label.setText(self._consequence_text(self._status))
        self._update_buttons()

    def show_application_name(self, name: str) -> None:
        """Fill in the application name of the submission on display."""
        if self._submission is None:
            return
        self._submission = dataclasses.replace(self._submission, application_name=name)
        self.application_label.setText(_application_text(self._submission))

    def _consequence_text(self, status: StatusInfo) -> str:
        if status.cancellable:
            return status.cancel_effect
        if status.known:
            return self.tr("Cancelling is not possible. {reason}").format(
                reason=status.cancel_blocked_reason
            )
        return self.tr(
            "Cancelling is not possible. The status {value} is not one vaultgui "
            "knows. {reason}"
        ).format(value=status.value, reason=status.cancel_blocked_reason)

    def set_actions_enabled(self, enabled: bool) -> None:
        """Enable or disable the buttons while a call is in flight."""
        self._actions_enabled = enabled
        self._update_buttons()

    def _update_buttons(self) -> None:
        has_submission = self._submission is not None
        self.refresh_button.setEnabled(self._actions_enabled and has_submission)
        removal = "REMOVAL" in self._status.value
        self.cancel_button.setText(
            self.tr("Cancel removal…") if removal else self.tr("Cancel import…")
        )
        self.cancel_button.setEnabled(
            self._actions_enabled and has_submission and self._status.cancellable
        )


def _application_text(submission: Submission) -> str:
    if submission.application_name and submission.application_id:
        return f"{submission.application_name} ({submission.application_id})"
    return submission.application_name or submission.application_id or "—"
