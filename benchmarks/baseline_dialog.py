"""Bare PySide6 baseline: show a dialog like vaultgui's sign-in dialog, then quit.

It has the same kinds of widgets as the sign-in dialog: a wrapped label,
three line edits in a form, a message label, a hidden busy bar and three
buttons. It has nothing else, so no vaultgui import, no qasync and no logging
set-up. When the
dialog is first painted it prints the same line as vaultgui's
VAULTGUI_EXIT_WHEN_SHOWN hook, so one timing function serves both.

    python benchmarks/baseline_dialog.py
"""

from __future__ import annotations

import sys
import time

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

SHOWN_MARKER = "vaultgui: sign-in dialog shown"


def build_dialog() -> QDialog:
    """Return the baseline dialog, not yet shown."""
    dialog = QDialog()
    dialog.setObjectName("baselineDialog")
    dialog.setWindowTitle("Sign in")
    dialog.setMinimumWidth(460)
    intro = QLabel("Sign in with the address and your user name and password.")
    intro.setWordWrap(True)
    form = QFormLayout()
    for caption in ("Address:", "User name:", "Password:"):
        form.addRow(caption, QLineEdit(dialog))
    message = QLabel(dialog)
    busy = QProgressBar(dialog)
    busy.setRange(0, 0)
    busy.setVisible(False)
    buttons = QHBoxLayout()
    buttons.addStretch(1)
    for caption in ("Quit", "Stop", "Sign in"):
        buttons.addWidget(QPushButton(caption, dialog))
    layout = QVBoxLayout(dialog)
    layout.addWidget(intro)
    layout.addLayout(form)
    layout.addWidget(busy)
    layout.addWidget(message)
    layout.addStretch(1)
    layout.addLayout(buttons)
    return dialog


class FirstPaintFilter(QObject):
    """Print the marker line and close the dialog at its first paint."""

    def __init__(self, dialog: QDialog) -> None:
        super().__init__(dialog)
        self._dialog = dialog

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self._dialog and event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            print(f"{SHOWN_MARKER} {time.time():.6f}", flush=True)
            QTimer.singleShot(0, self._dialog.reject)
        return False


def main() -> int:
    """Show the dialog, wait for its first paint, and return 0."""
    app = QApplication(sys.argv[:1])
    dialog = build_dialog()
    dialog.installEventFilter(FirstPaintFilter(dialog))
    dialog.finished.connect(app.quit)
    dialog.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
