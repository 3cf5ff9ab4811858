"""Small widgets shared by the dialogs and the main window."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from vaultgui.ui.messages import UserMessage

_TONE_COLORS = {"error": "#b3261e", "progress": "#1f4e79", "ok": "#1e6b34", "": ""}


class MessageArea(QWidget):
    """A message line with its help-desk details one click away.

    The message label carries the object name given by the caller, so tests and
    screen readers find it. The details stay hidden until "Details" is pressed.
    """

    def __init__(self, object_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel(self)
        self.label.setObjectName(object_name)
        self.label.setAccessibleName(object_name)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.details_button = QToolButton(self)
        self.details_button.setObjectName(f"{object_name}DetailsButton")
        self.details_button.setText(self.tr("Details"))
        self.details_button.setCheckable(True)
        self.details_button.setVisible(False)
        self.details_button.toggled.connect(self._show_details)

        self.details = QLabel(self)
        self.details.setObjectName(f"{object_name}Details")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
        )
        self.details.setStyleSheet("color: #4a4a4a; font-size: small;")
        self.details.setVisible(False)

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label, 1)
        row.addWidget(self.details_button, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.details)

    def show_message(self, message: UserMessage | str, tone: str = "") -> None:
        """Show a message; ``tone`` is "error", "progress", "ok" or ""."""
        if isinstance(message, str):
            message = UserMessage(message)
        self.label.setText(message.text)
        color = _TONE_COLORS.get(tone, "")
        self.label.setStyleSheet(f"color: {color};" if color else "")
        self.details.setText(message.details)
        self.details_button.setVisible(bool(message.details))
        if not message.details:
            self.details_button.setChecked(False)
        self.details.setVisible(
            self.details_button.isChecked() and bool(message.details)
        )

    def clear(self) -> None:
        """Remove the message and its details."""
        self.show_message("")

    def _show_details(self, checked: bool) -> None:
        self.details.setVisible(checked and bool(self.details.text()))


def busy_bar(parent: QWidget) -> QProgressBar:
    """Return a hidden, indeterminate progress bar for calls in flight."""
    bar = QProgressBar(parent)
    bar.setRange(0, 0)
    bar.setTextVisible(False)
    bar.setMaximumHeight(6)
    bar.setVisible(False)
    return bar


def set_names(widget: QWidget, object_name: str) -> None:
    """Give ``widget`` the object name and the same accessible name."""
    widget.setObjectName(object_name)
    widget.setAccessibleName(object_name)


def message_box(
    parent: QWidget | None,
    object_name: str,
    icon: QMessageBox.Icon,
    title: str,
    text: str,
) -> QMessageBox:
    """Return a named message box; show it with ``open()``, never ``exec()``.

    A box with no buttons added gets an OK button when it opens.
    """
    box = QMessageBox(icon, title, text, QMessageBox.StandardButton.NoButton, parent)
    box.setObjectName(object_name)
    return box
