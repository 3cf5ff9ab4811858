"""Measure how late a fast Qt timer fires, as a proxy for a frozen window."""

from __future__ import annotations

import time
from types import TracebackType

from PySide6.QtCore import QTimer


class LoopGapMeter:
    """Record the largest interval between ticks of a 5 ms timer, in ms."""

    def __init__(self, interval_ms: int = 5) -> None:
        self._timer = QTimer()
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._last = 0.0
        self.largest_gap_ms = 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        self.largest_gap_ms = max(self.largest_gap_ms, (now - self._last) * 1000)
        self._last = now

    def __enter__(self) -> LoopGapMeter:
        self._last = time.perf_counter()
        self._timer.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._timer.stop()
