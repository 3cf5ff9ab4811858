"""Apply the appearance setting: follow the system, or a light or dark palette."""

from __future__ import annotations

import logging

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

log = logging.getLogger(__name__)

_DARK = {
    QPalette.ColorRole.Window: "#2b2b2b",
    QPalette.ColorRole.WindowText: "#e6e6e6",
    QPalette.ColorRole.Base: "#1e1e1e",
    QPalette.ColorRole.AlternateBase: "#2f2f2f",
    QPalette.ColorRole.Text: "#e6e6e6",
    QPalette.ColorRole.Button: "#353535",
    QPalette.ColorRole.ButtonText: "#e6e6e6",
    QPalette.ColorRole.Highlight: "#3d6fa5",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.ToolTipBase: "#353535",
    QPalette.ColorRole.ToolTipText: "#e6e6e6",
    QPalette.ColorRole.PlaceholderText: "#9a9a9a",
    QPalette.ColorRole.Link: "#7fb2ea",
}


class AppearanceApplier:
    """Switch the application palette; remembers the system look to go back to."""

    def __init__(self, app: QApplication) -> None:
        self._app = app
        self._system_palette = QPalette(app.palette())
        self._system_style = app.style().name()
        self.current = "system"

    def apply(self, appearance: str) -> None:
        """Apply "system", "light" or "dark"; an unknown value means "system"."""
        if appearance == self.current:
            return
        if appearance in ("light", "dark"):
            self._app.setStyle(QStyleFactory.create("Fusion"))
            palette = self._app.style().standardPalette()
            if appearance == "dark":
                for role, color in _DARK.items():
                    palette.setColor(role, QColor(color))
            self._app.setPalette(palette)
        else:
            appearance = "system"
            self._app.setStyle(QStyleFactory.create(self._system_style))
            self._app.setPalette(self._system_palette)
        log.info("Appearance set to %s", appearance)
        self.current = appearance
