"""The confirmation shown before a cancel is sent to Vault."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from vaultgui.services.archive_status import StatusInfo
from vaultgui.services.models import Submission
from vaultgui.ui.widgets import set_names


class ConfirmCancelDialog(QDialog):
    """Repeat what cancelling will do, for which submission, in which Vault.

    "Keep it running" is the default button, so pressing Enter backs out.
    Open it with :meth:`open` and act on ``accepted``; never ``exec()`` it from a
    coroutine.
    """

    def __init__(
        self,
        submission: Submission,
        status: StatusInfo,
        vault_label: str,
        parent: QWidget | None = None,
        *,
        earlier_cancel: str = "",
    ) -> None:
        super().__init__(parent)
        set_names(self, "confirmCancelDialog")
        self.setWindowTitle(self.tr("Cancel this job?"))
        self.setModal(True)
        self.setMinimumWidth(480)

        job = self.tr("removal") if "REMOVAL" in status.value else self.tr("import")
        heading = QLabel(
            self.tr("Cancel the {job} of this submission?").format(job=job), self
        )
        heading.setStyleSheet("font-weight: bold; font-size: 14px;")

        self.consequence_label = QLabel(self)
        set_names(self.consequence_label, "confirmConsequenceLabel")
        self.consequence_label.setWordWrap(True)
        self.consequence_label.setTextFormat(Qt.TextFormat.PlainText)
        self.consequence_label.setText(
            self.tr(
                "Submission: {name}\n"
                "Record ID: {id}\n"
                "Vault: {vault}\n"
                "Current status: {status}\n\n"
                "{effect}\n\n"
                "Vault may finish the job before the cancel reaches it; vaultgui "
                "reads the status again afterwards and shows what Vault reports."
            ).format(
                name=submission.name,
                id=submission.id,
                vault=vault_label,
                status=status.display,
                effect=status.cancel_effect,
            )
        )

        self.warning_label = QLabel(self)
        set_names(self.warning_label, "earlierCancelWarningLabel")
        self.warning_label.setWordWrap(True)
        self.warning_label.setStyleSheet("color: #b3261e; font-weight: bold;")
        self.warning_label.setVisible(bool(earlier_cancel))
        if earlier_cancel:
            self.warning_label.setText(
                self.tr(
                    "A cancel for this submission was already sent at {time}, and "
                    "its result is not known. Vault may still be carrying it out. "
                    "Send another only if you are sure the first one did not "
                    "arrive."
                ).format(time=earlier_cancel)
            )
        confirm_text = (
            self.tr("Send another cancel")
            if earlier_cancel
            else self.tr("Cancel the {job}").format(job=job)
        )
        self.confirm_button = QPushButton(confirm_text, self)
        set_names(self.confirm_button, "confirmCancelButton")
        self.confirm_button.setAutoDefault(False)
        self.confirm_button.clicked.connect(self.accept)
        self.keep_button = QPushButton(self.tr("Keep it running"), self)
        set_names(self.keep_button, "keepRunningButton")
        self.keep_button.setDefault(True)
        self.keep_button.clicked.connect(self.reject)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.keep_button)
        buttons.addWidget(self.confirm_button)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.consequence_label)
        layout.addWidget(self.warning_label)
        layout.addLayout(buttons)
        self.keep_button.setFocus()
