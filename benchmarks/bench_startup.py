"""Start-up figures: vaultgui against a bare PySide6 dialog, and the frozen app."""

from __future__ import annotations

import pstats
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from measure import ROOT, Series, run_child
from report import Figure, spread, verdict
from startup_frozen import SHOWN_MARKER, Variant, default_frozen_app, measure

STARTUP_RATIO_TARGET = 1.3
FROZEN_RATIO_TARGET = 1.1
VAULTGUI_COMMAND = [sys.executable, "-m", "vaultgui"]
BASELINE_COMMAND = [sys.executable, str(ROOT / "benchmarks" / "baseline_dialog.py")]
# Lines of "python -X importtime" output: self and cumulative microseconds,
# then the module name indented two spaces per nesting level.
# Modules that painting the sign-in dialog does not need.
NOT_NEEDED_FOR_DIALOG = (
    "requests",
    "keyring",
    "vaultgui.services.client",
    "vaultgui.ui.main_window",
    "vaultgui.ui.settings_dialog",
)
_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


@dataclass
class StartupSamples:
    """Start-up times and peak memory of vaultgui and of the bare baseline."""

    vaultgui: Series
    baseline: Series
    vaultgui_rss: Series
    baseline_rss: Series


def measure_startup(env: dict[str, str], runs: int) -> StartupSamples:
    """Run one warm-up of each, then ``runs`` alternating rounds of both."""
    samples = StartupSamples(
        Series("python -m vaultgui", "ms"),
        Series("bare PySide6 dialog", "ms"),
        Series("python -m vaultgui", "MiB"),
        Series("bare PySide6 dialog", "MiB"),
    )
    pairs = [
        (VAULTGUI_COMMAND, samples.vaultgui, samples.vaultgui_rss),
        (BASELINE_COMMAND, samples.baseline, samples.baseline_rss),
    ]
    for command, _, _ in pairs:
        run_child(command, env, SHOWN_MARKER)
    for round_number in range(runs):
        ordered = pairs if round_number % 2 == 0 else list(reversed(pairs))
        for command, times, rss in ordered:
            run = run_child(command, env, SHOWN_MARKER)
            assert run.marker_seconds is not None
            times.values.append(run.marker_seconds * 1000)
            rss.values.append(run.peak_rss_kib / 1024)
    return samples


def startup_figure(samples: StartupSamples, env: dict[str, str]) -> Figure:
    """Compare start-up times; on a miss, profile one start-up to find the cause."""
    ratio = samples.vaultgui.median / samples.baseline.median
    passed = ratio <= STARTUP_RATIO_TARGET
    figure = Figure(
        "Start-up: process start to sign-in dialog shown",
        f"Time from just before the process starts until it prints the line "
        f"`{SHOWN_MARKER} …` at the first paint of the dialog (the "
        "VAULTGUI_EXIT_WHEN_SHOWN=1 hook; benchmarks/baseline_dialog.py prints "
        "the same line). Baseline: a bare PySide6 process showing a QDialog "
        "with a label, 3 QLineEdits, 3 buttons and a progress bar. "
        f"{len(samples.vaultgui.values)} runs each after one warm-up run each.",
    )
    figure.rows.append(
        (
            "start-up time",
            spread(samples.vaultgui),
            spread(samples.baseline),
            f"{ratio:.2f} ×",
            f"≤ {STARTUP_RATIO_TARGET} × baseline",
            verdict(passed),
        )
    )
    figure.rows.append(
        (
            "peak resident memory at that point (information)",
            spread(samples.vaultgui_rss),
            spread(samples.baseline_rss),
            f"{samples.vaultgui_rss.median / samples.baseline_rss.median:.2f} ×",
            "—",
            "—",
        )
    )
    if not passed:
        allowed = STARTUP_RATIO_TARGET * samples.baseline.median
        figure.notes.append(
            f"MISS by {samples.vaultgui.median - allowed:.0f} ms: the target "
            f"allows {allowed:.0f} ms, the median is "
            f"{samples.vaultgui.median:.0f} ms."
        )
        figure.notes += profile_notes(env)
    return figure


def profile_notes(env: dict[str, str]) -> list[str]:
    """Profile one start-up with -X importtime and cProfile; describe the result."""
    imports = run_child(
        [sys.executable, "-X", "importtime", "-m", "vaultgui"], env, SHOWN_MARKER
    )
    notes = import_notes(imports.stderr)
    with tempfile.TemporaryDirectory(prefix="vaultgui-profile-") as folder:
        output = Path(folder) / "startup.prof"
        command = [sys.executable, "-m", "cProfile", "-o", str(output)]
        # The profile is written at exit; a crash after the dialog showed only
        # loses this note, not the figure.
        run_child([*command, "-m", "vaultgui"], env, SHOWN_MARKER, check=False)
        if output.exists():
            notes += cprofile_notes(output)
        else:
            notes.append("The cProfile run wrote no profile.")
    return notes


@dataclass
class ImportNode:
    """One module in ``-X importtime`` output, with the module that imported it."""

    name: str
    self_us: int
    cumulative_us: int
    level: int
    parent: ImportNode | None = None


def parse_importtime(text: str) -> list[ImportNode]:
    """Parse ``-X importtime`` output into nodes linked to their importers.

    Python prints a module after the modules it imports, one level deeper,
    so each node adopts the deeper nodes printed just before it.
    """
    nodes: list[ImportNode] = []
    waiting: dict[int, list[ImportNode]] = {}
    for line in text.splitlines():
        match = _IMPORT_LINE.match(line)
        if match is None:
            continue
        self_us, cumulative_us, indent, name = match.groups()
        node = ImportNode(name, int(self_us), int(cumulative_us), len(indent) // 2)
        for child in waiting.pop(node.level + 1, []):
            child.parent = node
        waiting.setdefault(node.level, []).append(node)
        nodes.append(node)
    return nodes


def import_notes(importtime_output: str, top: int = 6) -> list[str]:
    """Describe where start-up import time goes and what the dialog does not need."""
    nodes = parse_importtime(importtime_output)
    total_ms = sum(node.self_us for node in nodes) / 1000
    by_package: dict[str, int] = {}
    for node in nodes:
        package = node.name.split(".")[0]
        by_package[package] = by_package.get(package, 0) + node.self_us
    largest = sorted(by_package.items(), key=lambda item: -item[1])[:top]
    packages = "; ".join(f"{name} {us / 1000:.0f} ms" for name, us in largest)
    notes = [
        f"`python -X importtime -m vaultgui` (which inflates times): {total_ms:.0f} "
        "ms of imports before the dialog shows. Own time of all modules of the "
        f"largest packages: {packages}."
    ]
    unneeded = []
    for name in NOT_NEEDED_FOR_DIALOG:
        found = next((node for node in nodes if node.name == name), None)
        if found is not None:
            unneeded.append(
                f"{name} {found.cumulative_us / 1000:.0f} ms (imported by "
                f"{_import_chain(found)})"
            )
    if unneeded:
        notes.append(
            "Imported before the dialog shows although only signing in or the "
            "main window uses them (cumulative times): " + "; ".join(unneeded) + "."
        )
    return notes


def _import_chain(node: ImportNode) -> str:
    names = []
    current = node.parent
    while current is not None:
        names.append(current.name)
        current = current.parent
    return " ← ".join(names) if names else "vaultgui.app.main directly"


def cprofile_notes(profile: Path, top: int = 8) -> list[str]:
    """List the functions with the most own time in one profiled start-up."""
    stats = pstats.Stats(str(profile))
    entries = []
    for (filename, line, function), row in stats.stats.items():  # type: ignore[attr-defined]
        own_seconds = row[2]
        where = "" if filename == "~" else f" ({Path(filename).name}:{line})"
        entries.append((own_seconds, f"{function}{where}"))
    entries.sort(reverse=True)
    shown = [f"{name} {seconds * 1000:.0f} ms" for seconds, name in entries[:top]]
    return [
        "cProfile of one start-up (`python -m cProfile -m vaultgui`), most own "
        "time: " + "; ".join(shown) + "."
    ]


def frozen_figure(env: dict[str, str], runs: int) -> Figure:
    """Time the frozen app against ``python -m vaultgui``, if it has been built."""
    frozen = default_frozen_app()
    figure = Figure(
        "Frozen app start-up",
        "benchmarks/startup_frozen.py's measurement: the frozen app from "
        "`make package` and `python -m vaultgui` alternately, timed like the "
        "start-up figure.",
    )
    if not frozen.exists():
        figure.rows.append(
            (
                "start-up time",
                f"not built in this run ({frozen.relative_to(ROOT)} is missing)",
                "—",
                "—",
                f"≤ {FROZEN_RATIO_TARGET} × python -m vaultgui",
                "not built in this run",
            )
        )
        return figure
    variants = [
        Variant("frozen app", [str(frozen)]),
        Variant("python -m vaultgui", VAULTGUI_COMMAND),
    ]
    measure(variants, runs, env)
    subject = Series("frozen app", "ms", [t * 1000 for t in variants[0].seconds])
    baseline = Series(
        "python -m vaultgui", "ms", [t * 1000 for t in variants[1].seconds]
    )
    ratio = subject.median / baseline.median
    figure.rows.append(
        (
            "start-up time",
            spread(subject),
            spread(baseline),
            f"{ratio:.2f} ×",
            f"≤ {FROZEN_RATIO_TARGET} × python -m vaultgui",
            verdict(ratio <= FROZEN_RATIO_TARGET),
        )
    )
    return figure
