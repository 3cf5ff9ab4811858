"""Guard against a PySide6 release whose signals corrupt reference counts.

PySide6 6.12.0 drops one reference to ``True`` on every emit of a signal that
carries Python objects. qasync hands every worker-thread result to the event
loop through such a signal, so a long session aborted with "bool_dealloc".
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QCoreApplication, QObject, Signal


class _Emitter(QObject):
    carried = Signal(object, tuple)


def test_object_signal_keeps_refcounts(qapp: QCoreApplication) -> None:
    emitter = _Emitter()
    emitter.carried.connect(lambda _callback, _args: None)
    before = sys.getrefcount(True)

    for _ in range(500):
        emitter.carried.emit(print, (1,))
    QCoreApplication.processEvents()

    assert sys.getrefcount(True) - before > -10
