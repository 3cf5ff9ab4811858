"""Time vaultgui's start-up, frozen and from source: process start to sign-in dialog.

Runs the frozen app (dist/ from ``make package``) and ``python -m vaultgui``
alternately, N times each after one warm-up run of each, and prints the
median, minimum and maximum with a description of the machine. Both runs use
the VAULTGUI_EXIT_WHEN_SHOWN=1 hook of vaultgui.app: the app prints a line when
the sign-in dialog is first painted and then quits. The time is taken from
just before the process is started until that line arrives on the pipe.

    python benchmarks/startup_frozen.py --runs 10
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHOWN_MARKER = "vaultgui: sign-in dialog shown"
# Maximum wait for one start-up, in seconds.
RUN_TIMEOUT = 60.0


@dataclass
class Variant:
    """One way of starting vaultgui, with the start-up times measured so far."""

    name: str
    command: list[str]
    seconds: list[float] = field(default_factory=list)


def default_frozen_app() -> Path:
    """Return where ``make package`` puts the frozen executable on this system."""
    if sys.platform == "darwin":
        return ROOT / "dist" / "vaultgui.app" / "Contents" / "MacOS" / "vaultgui"
    name = "vaultgui.exe" if sys.platform == "win32" else "vaultgui"
    return ROOT / "dist" / "vaultgui" / name


def run_environment(home: Path, qt_platform: str) -> dict[str, str]:
    """Return the environment of every run: the hook on, one temporary home."""
    env = dict(os.environ)
    env["VAULTGUI_EXIT_WHEN_SHOWN"] = "1"
    env["PYTHONPATH"] = str(ROOT)
    if qt_platform:
        env["QT_QPA_PLATFORM"] = qt_platform
    for variable, folder in (
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_CACHE_HOME", "cache"),
    ):
        env[variable] = str(home / folder)
    return env


def time_start_up(command: list[str], env: dict[str, str]) -> float:
    """Start ``command`` and return the seconds until it prints the marker line.

    Raises RuntimeError when the process exits or times out without it.
    """
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        encoding="utf-8",
    )
    assert process.stdout is not None
    elapsed = None
    for line in process.stdout:
        if line.startswith(SHOWN_MARKER):
            elapsed = time.perf_counter() - started
            break
    try:
        process.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise RuntimeError(
            f"{command[0]} did not exit within {RUN_TIMEOUT} s"
        ) from None
    if elapsed is None:
        raise RuntimeError(
            f"{' '.join(command)} exited with {process.returncode} without printing "
            f"{SHOWN_MARKER!r}; does vaultgui.app support VAULTGUI_EXIT_WHEN_SHOWN?"
        )
    return elapsed


def measure(variants: list[Variant], runs: int, env: dict[str, str]) -> None:
    """Warm each variant up once, then run them alternately ``runs`` times.

    The order flips every round, so neither variant always runs right after
    the other one.
    """
    for variant in variants:
        time_start_up(variant.command, env)
    for round_number in range(runs):
        ordered = variants if round_number % 2 == 0 else list(reversed(variants))
        for variant in ordered:
            variant.seconds.append(time_start_up(variant.command, env))


def machine_description() -> str:
    """Return the OS, CPU, core count and memory of this machine, as far as known."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text(encoding="utf-8").split()[1])
        memory = f", {kib / 1024**2:.0f} GiB RAM"
    return (
        f"{platform.platform()}, {cpu}, {os.cpu_count()} logical CPUs{memory}, "
        f"Python {platform.python_version()}"
    )


def report(variants: list[Variant], runs: int, qt_platform: str) -> str:
    """Return the results as a Markdown table with the machine and settings."""
    display = os.environ.get("DISPLAY", "")
    platform_text = qt_platform or f"Qt's default (DISPLAY={display or 'unset'})"
    lines = [
        f"Machine: {machine_description()}",
        f"Qt platform: {platform_text}; {runs} runs each after one warm-up run, "
        "alternating.",
        "",
        "| start-up to sign-in dialog | median | min | max |",
        "|---|---|---|---|",
    ]
    for variant in variants:
        values = variant.seconds
        lines.append(
            f"| {variant.name} | {statistics.median(values):.2f} s "
            f"| {min(values):.2f} s | {max(values):.2f} s |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse the options, measure both variants and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs", type=int, default=10, help="measured runs of each variant"
    )
    parser.add_argument(
        "--frozen",
        type=Path,
        default=default_frozen_app(),
        help="frozen executable (default: the one make package builds)",
    )
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="Python that runs 'python -m vaultgui' (default: this one)",
    )
    parser.add_argument(
        "--qt-platform",
        default="" if os.environ.get("DISPLAY") else "offscreen",
        help="QT_QPA_PLATFORM of every run (default: offscreen without DISPLAY)",
    )
    options = parser.parse_args(argv)

    if options.runs < 1:
        parser.error("--runs must be at least 1")
    if not options.frozen.exists():
        parser.error(f"{options.frozen} not found; run 'make package' first")

    variants = [
        Variant("frozen app", [str(options.frozen)]),
        Variant("python -m vaultgui", [options.python, "-m", "vaultgui"]),
    ]
    with tempfile.TemporaryDirectory(prefix="vaultgui-startup-") as home:
        env = run_environment(Path(home), options.qt_platform)
        measure(variants, options.runs, env)
    print(report(variants, options.runs, options.qt_platform))
    return 0


if __name__ == "__main__":
    sys.exit(main())
