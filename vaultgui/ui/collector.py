"""Run Python's cyclic garbage collector on the Qt main thread only.

A widget caught in a reference cycle is freed by whichever thread happens to
trigger a collection. When that is one of the worker threads that wait for
Vault, Qt destroys the widget off the main thread and the process crashes.
Automatic collection is therefore turned off and a timer on the main thread
collects instead, with the same generation thresholds.
"""

from __future__ import annotations

import gc
import logging

from PySide6.QtCore import QObject, QTimer

log = logging.getLogger(__name__)


class MainThreadCollector(QObject):
    """Collect garbage from a main-thread timer while it is started."""

    def __init__(self, interval_ms: int = 500, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.collect_if_due)
        self._was_enabled = gc.isenabled()

    def start(self) -> None:
        """Turn automatic collection off and start the timer."""
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer.start()

    def stop(self) -> None:
        """Collect once more, stop the timer and restore automatic collection."""
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()

    def collect_if_due(self) -> None:
        """Collect the oldest generation whose threshold has been passed."""
        counts = gc.get_count()
        thresholds = gc.get_threshold()
        for generation in (2, 1, 0):
            if counts[generation] > thresholds[generation]:
                gc.collect(generation)
                return
