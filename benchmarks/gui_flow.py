"""Drive vaultgui's real windows in this process and print what was measured.

bench_flow.py starts one fresh process per measurement:

    python benchmarks/gui_flow.py flow --vault URL [--ca-file PEM] --history FILE
    python benchmarks/gui_flow.py lookup --vault URL --history FILE --rounds 20

``flow`` signs in, looks up a submission, cancels its import, reads its status
again and opens the History tab, timing the event loop with a 5 ms timer the
whole time. ``lookup`` alternates a raw requests GET of a record with a
lookup of the same record in the main window. Both set the process up like
vaultgui.app.main does (qasync loop, collector on the main thread) and end
with one line: RESULT_PREFIX and a JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import qasync  # type: ignore[import-untyped]
import requests
from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication, QLabel

from vaultgui.demo import DEMO_PASSWORD, DEMO_USERNAME
from vaultgui.services.address import parse_vault_address
from vaultgui.services.client import DEFAULT_API_VERSION, VaultClient
from vaultgui.services.history import Action, HistoryStore, Outcome
from vaultgui.ui.collector import MainThreadCollector
from vaultgui.ui.confirm_dialog import ConfirmCancelDialog
from vaultgui.ui.login_dialog import LoginDialog
from vaultgui.ui.main_window import MainWindow
from vaultgui.ui.tasks import run_in_thread, spawn

RESULT_PREFIX = "gui_flow result: "
TICK_MS = 5
# An import in progress: cancellable, and its status settles at once.
CANCEL_SUBMISSION_ID = "00S000000000101"
# Two records with different statuses, so every lookup changes the label.
LOOKUP_RECORDS = (
    ("00S000000000101", "IMPORT_IN_PROGRESS"),
    ("00S000000000105", "IMPORT_SUCCEEDED"),
)
# Times the History tab is scrolled to its end, each loading one more page.
HISTORY_SCROLLS = 5
WAIT_SECONDS = 60.0


class GapMeter(QObject):
    """Record the largest interval between ticks of a 5 ms timer, per phase.

    A PreciseTimer is used, because Qt's default coarse timer may fire up to
    5 % off its interval by design. A long interval means the event loop was
    busy and the window could not repaint or react for that long. An interval
    is counted in the phase during which it ends.
    """

    def __init__(self) -> None:
        super().__init__()
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self.last_tick = 0.0
        self.phase = ""
        self.largest_ms: dict[str, float] = {}
        self.ticks = 0

    def start(self, phase: str) -> None:
        """Start ticking, counting intervals in ``phase``."""
        self.phase = phase
        self.last_tick = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        """Stop ticking."""
        self._timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        interval = (now - self.last_tick) * 1000
        self.last_tick = now
        self.ticks += 1
        self.largest_ms[self.phase] = max(self.largest_ms.get(self.phase, 0), interval)


class StallSampler:
    """Sample the main thread's Python stack whenever the event loop stalls.

    A daemon thread checks every millisecond how long ago the GapMeter last
    ticked. Past ``threshold_ms`` it records where the main thread is, once
    per stall: the chain of vaultgui frames plus the innermost frame. The
    sampler needs the GIL, so it catches a stall inside one long C++ call only
    when that call runs Python code, such as a model's data method.
    """

    def __init__(self, meter: GapMeter, threshold_ms: float = 25.0) -> None:
        self._meter = meter
        self._threshold = threshold_ms / 1000
        self._main = threading.main_thread().ident
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.samples: dict[str, dict[str, int]] = {}

    def start(self) -> None:
        """Start watching."""
        self._thread.start()

    def stop(self) -> None:
        """Stop watching."""
        self._stop.set()
        self._thread.join(timeout=1.0)

    def _run(self) -> None:
        sampled_tick = -1
        while not self._stop.wait(0.001):
            ticks = self._meter.ticks
            stalled = time.perf_counter() - self._meter.last_tick
            if stalled < self._threshold or ticks == sampled_tick:
                continue
            sampled_tick = ticks
            frame = sys._current_frames().get(self._main or 0)
            if frame is not None:
                where = _describe_stack(frame)
                phase = self.samples.setdefault(self._meter.phase, {})
                phase[where] = phase.get(where, 0) + 1


def _describe_stack(frame: FrameType) -> str:
    """Return the vaultgui frames of a stack, outermost first, and the innermost."""
    names = []
    current: FrameType | None = frame
    while current is not None:
        if "/vaultgui/" in current.f_code.co_filename:
            names.append(
                f"{Path(current.f_code.co_filename).stem}.{current.f_code.co_name}"
            )
        current = current.f_back
    names.reverse()
    if "/vaultgui/" not in frame.f_code.co_filename:
        names.append(f"{frame.f_code.co_name} ({Path(frame.f_code.co_filename).name})")
    return " → ".join(names)


class PaintWatcher(QObject):
    """Resolve a future when a label is painted showing an expected text."""

    def __init__(self, label: QLabel) -> None:
        super().__init__(label)
        self._label = label
        self._expected = ""
        self._future: asyncio.Future[float] | None = None
        label.installEventFilter(self)

    def expect(self, text: str) -> asyncio.Future[float]:
        """Return a future for the time of the first paint whose text has ``text``."""
        self._expected = text
        self._future = asyncio.get_running_loop().create_future()
        return self._future

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        future = self._future
        if (
            event.type() == QEvent.Type.Paint
            and future is not None
            and not future.done()
            and self._expected in self._label.text()
        ):
            future.set_result(time.perf_counter())
        return False


class CallTimer:
    """Time every call of one method of one object, by replacing the attribute.

    Keeps the start and end of the latest call and the longest call, in
    perf_counter seconds. Only calls made from Python through the attribute
    are seen, not calls Qt makes from C++.
    """

    def __init__(self, owner: object, name: str) -> None:
        self.calls = 0
        self.started = 0.0
        self.ended = 0.0
        self.longest = 0.0
        wrapped = getattr(owner, name)

        @functools.wraps(wrapped)
        def timed(*args: object, **kwargs: object) -> object:
            started = time.perf_counter()
            try:
                return wrapped(*args, **kwargs)
            finally:
                ended = time.perf_counter()
                self.calls += 1
                self.started, self.ended = started, ended
                self.longest = max(self.longest, ended - started)

        setattr(owner, name, timed)


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait, letting Qt run, until ``condition()`` is true."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def show_sign_in(vault: str, ca_file: str) -> LoginDialog:
    """Show the real sign-in dialog, filled in, and let it paint."""
    factory = functools.partial(VaultClient, extra_ca_file=ca_file or None)
    dialog = LoginDialog(
        vault=vault,
        username=DEMO_USERNAME,
        password=DEMO_PASSWORD,
        client_factory=factory,
    )
    dialog.show()
    await asyncio.sleep(0.1)
    return dialog


async def sign_in(dialog: LoginDialog, history: HistoryStore) -> MainWindow:
    """Press Sign in and open the main window the way AppController does."""
    signed_in: asyncio.Future[tuple[VaultClient, Any]] = (
        asyncio.get_running_loop().create_future()
    )
    dialog.signed_in.connect(
        lambda client, session: signed_in.set_result((client, session))
    )
    dialog.sign_in_button.click()
    client, session = await asyncio.wait_for(signed_in, WAIT_SECONDS)
    window = MainWindow(client, session, history)
    window.show()

    async def record_sign_in() -> None:
        await window.recorder.add(
            Action.SIGN_IN, outcome=Outcome.SUCCEEDED, execution_id=session.execution_id
        )

    spawn(record_sign_in(), name="history-sign-in")
    await until(lambda: window.history_view.model.rowCount() > 0, "the history")
    return window


async def look_up_and_cancel(window: MainWindow) -> None:
    """Look the submission up, cancel its import and check Vault accepted it."""
    window.submission_edit.setText(CANCEL_SUBMISSION_ID)
    window.lookup_button.click()
    await until(lambda: not window.busy_with_call, "the lookup")
    if not window.panel.cancel_button.isEnabled():
        raise RuntimeError(f"{CANCEL_SUBMISSION_ID} cannot be cancelled")


async def confirm_cancel(window: MainWindow) -> None:
    """Press Cancel, confirm, wait for the outcome and check it."""
    window.panel.cancel_button.click()
    dialogs: list[ConfirmCancelDialog] = []

    def confirmation_shown() -> bool:
        dialogs[:] = [
            widget
            for widget in QApplication.topLevelWidgets()
            if isinstance(widget, ConfirmCancelDialog) and widget.isVisible()
        ]
        return bool(dialogs)

    await until(confirmation_shown, "the confirmation")
    dialogs[0].confirm_button.click()
    await until(lambda: not window.busy_with_call, "the cancel")
    outcome = window.outcome.label.text()
    if not outcome.startswith("Vault accepted the cancel."):
        raise RuntimeError(f"unexpected cancel outcome: {outcome!r}")


async def reread_status(window: MainWindow) -> None:
    """Press Refresh status and wait for the reply."""
    window.panel.refresh_button.click()
    await until(lambda: not window.busy_with_call, "the status read")


async def scroll_history(window: MainWindow) -> int:
    """Open the History tab, scroll to its end a few times; return the rows shown."""
    window.tabs.setCurrentIndex(1)
    await asyncio.sleep(0.2)
    table = window.history_view.table
    for _ in range(HISTORY_SCROLLS):
        table.scrollToBottom()
        await asyncio.sleep(0.1)
    rows: int = window.history_view.model.rowCount()
    return rows


class PhaseClock:
    """Wall-clock seconds of each phase, and the meter's phase kept in step."""

    def __init__(self, meter: GapMeter) -> None:
        self._meter = meter
        self._started = time.perf_counter()
        self.seconds: dict[str, float] = {}

    def next(self, phase: str) -> None:
        """End the current phase and start ``phase``."""
        now = time.perf_counter()
        self.seconds[self._meter.phase] = now - self._started
        self._started = now
        self._meter.phase = phase


async def run_flow(options: argparse.Namespace) -> dict[str, object]:
    """Run sign-in, lookup, cancel, re-read and the History tab under the meter.

    The history is opened and the dialog shown first, as at start-up; those
    phases are reported apart from the signed-in ones.
    """
    meter = GapMeter()
    meter.start("open history")
    sampler = StallSampler(meter)
    sampler.start()
    clock = PhaseClock(meter)
    # AppController opens the history on the UI thread, so this does too.
    history = HistoryStore(Path(options.history))
    await asyncio.sleep(0.05)
    clock.next("show sign-in dialog")
    dialog = await show_sign_in(options.vault, options.ca_file)
    clock.next("sign-in")
    window = await sign_in(dialog, history)
    await asyncio.sleep(0.2)
    steps: list[tuple[str, Callable[[MainWindow], Coroutine[Any, Any, object]]]] = [
        ("lookup", look_up_and_cancel),
        ("cancel", confirm_cancel),
        ("re-read", reread_status),
        ("history tab", scroll_history),
    ]
    rows_shown = 0
    for name, step in steps:
        clock.next(name)
        result = await step(window)
        # Let the history writes and reloads that follow each action finish.
        await asyncio.sleep(0.2)
        if isinstance(result, int):
            rows_shown = result
    clock.next("done")
    sampler.stop()
    meter.stop()
    window.close()
    dialog.deleteLater()
    window.client.close()
    history.close()
    return {
        "largest_interval_ms": meter.largest_ms,
        "ticks": meter.ticks,
        "phase_seconds": clock.seconds,
        "history_rows_shown": rows_shown,
        "stall_samples": sampler.samples,
    }


def raw_session(vault: str) -> tuple[requests.Session, str]:
    """Sign in with plain requests and return the session and the API base URL."""
    session = requests.Session()
    session.trust_env = False
    base = f"{vault}/api/{DEFAULT_API_VERSION}"
    reply = session.post(
        f"{base}/auth",
        data={"username": DEMO_USERNAME, "password": DEMO_PASSWORD},
        timeout=10,
    )
    session.headers["Authorization"] = reply.json()["sessionId"]
    return session, base


def raw_get(session: requests.Session, base: str, record_id: str) -> float:
    """GET one record with plain requests and return the seconds it took."""
    started = time.perf_counter()
    reply = session.get(f"{base}/vobjects/submission__v/{record_id}", timeout=10)
    body = reply.json()
    elapsed = time.perf_counter() - started
    if body.get("responseStatus") != "SUCCESS":
        raise RuntimeError(f"raw GET of {record_id} failed: {body}")
    return elapsed


@dataclass
class LookupProbe:
    """Timers on the steps between a click on Look up and the painted status."""

    watcher: PaintWatcher
    request: CallTimer
    show: CallTimer
    segments: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, seconds: float) -> None:
        """Record one segment of one lookup, in ms."""
        self.segments.setdefault(name, []).append(seconds * 1000)


async def window_lookup(
    window: MainWindow, probe: LookupProbe, record_id: str, status: str
) -> float:
    """Click Look up and return the seconds until the status label shows ``status``."""
    window.submission_edit.setText(record_id)
    shown = probe.watcher.expect(status)
    started = time.perf_counter()
    window.lookup_button.click()
    painted = await asyncio.wait_for(shown, WAIT_SECONDS)
    probe.add("click to request start", probe.request.started - started)
    probe.add("requests (client.lookup)", probe.request.ended - probe.request.started)
    probe.add("reply to label set", probe.show.started - probe.request.ended)
    probe.add("label set to painted", painted - probe.show.started)
    await until(lambda: not window.busy_with_call, "the lookup")
    # Let the history write of the lookup and the reload after it finish.
    await asyncio.sleep(0.1)
    return painted - started


async def run_lookups(options: argparse.Namespace) -> dict[str, object]:
    """Alternate raw GETs and window lookups of the same records."""
    history = HistoryStore(Path(options.history))
    client = VaultClient(parse_vault_address(options.vault))
    signed_in = await run_in_thread(
        lambda: client.sign_in(DEMO_USERNAME, DEMO_PASSWORD), name="sign-in"
    )
    window = MainWindow(client, signed_in, history)
    window.show()

    status_label = window.panel.findChild(QLabel, "archiveStatusLabel")
    assert status_label is not None, "no archiveStatusLabel in the main window"
    probe = LookupProbe(
        PaintWatcher(status_label),
        CallTimer(client, "lookup"),
        CallTimer(window.panel, "show_submission"),
    )

    session, base = raw_session(options.vault)
    # One of each first, so neither pays for first-use costs in the figures.
    raw_get(session, base, LOOKUP_RECORDS[1][0])
    await window_lookup(window, probe, *LOOKUP_RECORDS[1])
    probe.segments.clear()

    raw_seconds: list[float] = []
    window_seconds: list[float] = []
    for round_number in range(options.rounds):
        record_id, status = LOOKUP_RECORDS[round_number % 2]
        if round_number % 2 == 0:
            raw_seconds.append(raw_get(session, base, record_id))
            window_seconds.append(await window_lookup(window, probe, record_id, status))
        else:
            window_seconds.append(await window_lookup(window, probe, record_id, status))
            raw_seconds.append(raw_get(session, base, record_id))

    window.close()
    client.close()
    session.close()
    history.close()
    return {
        "raw_get_seconds": raw_seconds,
        "window_lookup_seconds": window_seconds,
        "window_lookup_segments_ms": probe.segments,
    }


def parse_options(argv: list[str]) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("flow", "lookup"))
    parser.add_argument("--vault", required=True, help="address of the demo Vault")
    parser.add_argument("--ca-file", default="", help="CA file for an https Vault")
    parser.add_argument("--history", required=True, help="history file to use")
    parser.add_argument("--rounds", type=int, default=20, help="lookup rounds")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the requested measurement and print its result line."""
    options = parse_options(sys.argv[1:] if argv is None else argv)
    app = QApplication(["vaultgui-benchmark"])
    app.setQuitOnLastWindowClosed(False)
    collector = MainThreadCollector()
    collector.start()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    measure = run_flow if options.mode == "flow" else run_lookups
    try:
        result = loop.run_until_complete(measure(options))
    finally:
        collector.stop()
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    # Tear-down is not measured, so the process ends here without it. It also
    # keeps a PySide6 6.12.0 install, whose final garbage collection aborted
    # with "bool_dealloc", from failing a run after its result is printed.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
