"""Run every vaultgui benchmark against its baseline and write docs/benchmarks.md.

    QT_QPA_PLATFORM=offscreen python benchmarks/run.py

`make bench` runs this. Takes about two minutes on two cores; every GUI
measurement runs in a fresh process, see benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench_flow import (
    connection_figure,
    gap_figure,
    lookup_figure,
    make_tls_files,
    measure_flows,
    measure_gaps,
    measure_lookup,
    memory_figure,
)
from bench_startup import frozen_figure, measure_startup, startup_figure
from measure import ROOT, child_environment, machine_summary, run_child
from report import MISS, Figure, render_page

log = logging.getLogger(__name__)


def parse_options(argv: list[str]) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--startup-runs",
        type=int,
        default=10,
        help="measured start-ups of vaultgui and of the baseline each (default 10)",
    )
    parser.add_argument(
        "--stalled-runs",
        type=int,
        default=3,
        help="flows with a 2 s Vault delay for the loop-gap figure (default 3)",
    )
    parser.add_argument(
        "--flow-runs",
        type=int,
        default=5,
        help="unstalled flows, alternating with the bare PySide6 process, for "
        "the connection and memory figures (default 5)",
    )
    parser.add_argument(
        "--lookup-rounds",
        type=int,
        default=20,
        help="lookups and raw GETs each for the latency figure (default 20)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=ROOT / "docs" / "benchmarks.md",
        help="Markdown file to write (default docs/benchmarks.md)",
    )
    options = parser.parse_args(argv)
    for name in ("startup_runs", "stalled_runs", "flow_runs", "lookup_rounds"):
        if getattr(options, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return options


def history_view_section(env: dict[str, str]) -> str:
    """Run benchmarks/bench_history.py in a fresh process; return its section.

    It times the History view on 100,000 rows in its own process and returns
    a Markdown section of its own, which goes at the end of the page.
    """
    code = "import bench_history; print(bench_history.run(), flush=True)"
    paths = os.pathsep.join((str(ROOT), str(ROOT / "benchmarks")))
    run = run_child(
        [sys.executable, "-c", code], env | {"PYTHONPATH": paths}, check=False
    )
    text = "\n".join(run.lines)
    start = text.find("## ")
    if start < 0:
        return (
            "## History view\n\nbenchmarks/bench_history.py failed with exit code "
            f"{run.returncode}:\n\n```\n{run.stderr[-1500:]}\n```"
        )
    return text[start:]


def measure_all(
    options: argparse.Namespace, folder: Path
) -> tuple[list[Figure], list[str]]:
    """Run every measurement; return the figures and the extra page sections."""
    env = child_environment(folder)
    tls = make_tls_files(folder)

    log.info("start-up: %d rounds", options.startup_runs)
    startup = measure_startup(env, options.startup_runs)
    log.info("lookup latency: %d rounds", options.lookup_rounds)
    lookup = measure_lookup(env, folder, options.lookup_rounds)
    log.info("flows against the bare process: %d rounds", options.flow_runs)
    flows = measure_flows(env, tls, folder, options.flow_runs)
    log.info("stalled flows: %d runs", options.stalled_runs)
    stalled = measure_gaps(env, tls, folder, options.stalled_runs)
    log.info("frozen app")
    frozen = frozen_figure(env, options.startup_runs)
    log.info("history view")
    sections = [history_view_section(env)]
    log.info("profiling start-up where needed")
    figures = [
        startup_figure(startup, env),
        lookup_figure(lookup),
        gap_figure(stalled, flows.gaps()),
        connection_figure(flows),
        memory_figure(flows),
        frozen,
    ]
    return figures, sections


def main(argv: list[str] | None = None) -> int:
    """Measure, write the page and print a summary; return 0 even on a MISS."""
    # The demo Vault logs every request at INFO; only this module's progress
    # lines are wanted.
    logging.basicConfig(level=logging.WARNING, format="bench: %(message)s")
    log.setLevel(logging.INFO)
    options = parse_options(sys.argv[1:] if argv is None else argv)
    started = time.monotonic()
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    with tempfile.TemporaryDirectory(prefix="vaultgui-bench-") as folder:
        figures, sections = measure_all(options, Path(folder))
    arguments = " ".join(shlex.quote(arg) for arg in sys.argv[1:])
    command = f"QT_QPA_PLATFORM=offscreen python benchmarks/run.py {arguments}"
    page = render_page(
        machine_summary(),
        date,
        command.strip(),
        time.monotonic() - started,
        figures,
        sections,
    )
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(page, encoding="utf-8")
    for figure in figures:
        print(f"{figure.verdict:<22} {figure.title}")
    misses = sum(figure.verdicts.count(MISS) for figure in figures)
    print(f"{misses} MISS; details in {options.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
