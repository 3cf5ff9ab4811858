"""Shared pieces of the benchmarks: child processes, series of samples, the machine."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from startup_frozen import ROOT, machine_description, run_environment

__all__ = [
    "ROOT",
    "ChildRun",
    "Series",
    "child_environment",
    "machine_summary",
    "run_child",
]

# Maximum time one child process may take, in seconds.
CHILD_TIMEOUT = 120.0
_PROXY_VARIABLES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


@dataclass
class Series:
    """Samples of one measured quantity, in the unit given."""

    name: str
    unit: str
    values: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        """Median of the samples."""
        return statistics.median(self.values)

    @property
    def low(self) -> float:
        """Smallest sample."""
        return min(self.values)

    @property
    def high(self) -> float:
        """Largest sample."""
        return max(self.values)


@dataclass(frozen=True)
class ChildRun:
    """Output, timing and peak memory of one finished child process.

    ``lines`` is its standard output without line ends, ``stderr`` its whole
    standard error.

    ``marker_seconds`` is the time from just before the process started until
    it printed a line starting with the marker, or None without a marker.
    ``peak_rss_kib`` is the kernel's maximum resident set size of the process
    (``ru_maxrss`` from ``wait4``), in KiB.
    """

    lines: list[str]
    stderr: str
    marker_seconds: float | None
    peak_rss_kib: int
    returncode: int


def child_environment(folder: Path) -> dict[str, str]:
    """Return the environment of every child: a temporary home, offscreen Qt.

    Builds on startup_frozen.run_environment, so VAULTGUI_EXIT_WHEN_SHOWN=1 is
    set too. It only matters to ``python -m vaultgui``; the other children
    ignore it. Bytecode is written to a cache under ``folder`` even where
    PYTHONDONTWRITEBYTECODE is set, so after the first run modules load from
    bytecode as they do in an installed app. Proxy variables are removed so
    loopback calls go direct.
    """
    env = run_environment(folder / "home", "offscreen")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
    for variable in _PROXY_VARIABLES:
        env.pop(variable, None)
    env["NO_PROXY"] = "127.0.0.1,localhost,::1"
    env["LANG"] = "C.UTF-8"
    return env


def run_child(
    command: list[str],
    env: dict[str, str],
    marker: str | None = None,
    *,
    check: bool = True,
) -> ChildRun:
    """Run ``command`` to its end and return its output, timing and peak memory.

    The time to the marker is taken the way benchmarks/startup_frozen.py takes
    it: from just before the process starts until the line arrives on the
    pipe. With ``check``, raises RuntimeError when the process fails, is
    killed after CHILD_TIMEOUT, or never prints an expected marker.
    """
    # stderr goes to a file, because a full pipe that is never read would stall
    # the child.
    with tempfile.TemporaryFile("w+", encoding="utf-8") as stderr_file:
        started = time.perf_counter()
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr_file,
            text=True,
            encoding="utf-8",
        )
        lines, marker_seconds, returncode, peak_rss_kib = _collect(
            process, marker, started
        )
        stderr_file.seek(0)
        stderr = stderr_file.read()
    failed = returncode != 0 or (marker is not None and marker_seconds is None)
    if check and failed:
        raise RuntimeError(
            f"{' '.join(command)} exited with {returncode} "
            f"(marker {'seen' if marker_seconds else 'not seen'}); "
            f"last output: {lines[-3:]}; stderr ends: {stderr[-1500:]}"
        )
    return ChildRun(lines, stderr, marker_seconds, peak_rss_kib, returncode)


def _collect(
    process: subprocess.Popen[str], marker: str | None, started: float
) -> tuple[list[str], float | None, int, int]:
    assert process.stdout is not None
    # A hung child is killed, which also ends the read loop below.
    watchdog = threading.Timer(CHILD_TIMEOUT, process.kill)
    watchdog.start()
    lines: list[str] = []
    marker_seconds = None
    try:
        for line in process.stdout:
            if marker and marker_seconds is None and line.startswith(marker):
                marker_seconds = time.perf_counter() - started
            lines.append(line.rstrip("\n"))
        returncode, peak_rss_kib = _reap(process)
    finally:
        watchdog.cancel()
        process.stdout.close()
    return lines, marker_seconds, returncode, peak_rss_kib


def _reap(process: subprocess.Popen[str]) -> tuple[int, int]:
    """Wait for ``process`` with wait4, which also returns its own peak memory."""
    _pid, status, usage = os.wait4(process.pid, 0)
    returncode = os.waitstatus_to_exitcode(status)
    process.returncode = returncode
    # ru_maxrss is in KiB on Linux and in bytes on macOS.
    peak = usage.ru_maxrss // 1024 if sys.platform == "darwin" else usage.ru_maxrss
    return returncode, peak


def machine_summary() -> list[tuple[str, str]]:
    """Return (what, value) rows about this machine and the Qt in use."""
    import PySide6
    from PySide6.QtCore import qVersion

    return [
        ("machine", machine_description()),
        ("PySide6 / Qt", f"{PySide6.__version__} / {qVersion()}"),
    ]
