"""Figures, their verdicts and the Markdown page that lists them."""

from __future__ import annotations

from dataclasses import dataclass, field

from measure import Series

PASS = "PASS"
MISS = "MISS"
HEADER = (
    "measure",
    "subject: median (min–max)",
    "baseline: median (min–max)",
    "ratio or difference",
    "target",
    "result",
)


@dataclass
class Figure:
    """One benchmark figure: how it was measured, its table rows and findings.

    Each row follows HEADER. ``notes`` give the cause of a missed target and
    the change that would meet it, or add what the numbers alone do not show.
    """

    title: str
    method: str
    rows: list[tuple[str, str, str, str, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def verdicts(self) -> list[str]:
        """The result column of every row."""
        return [row[5] for row in self.rows]

    @property
    def verdict(self) -> str:
        """MISS if any row missed, else PASS if any row passed, else the result."""
        judged = [result for result in self.verdicts if result in (PASS, MISS)]
        if judged:
            return MISS if MISS in judged else PASS
        return self.verdicts[0] if self.verdicts else "—"


def spread(series: Series, digits: int = 0) -> str:
    """Format a series as "median (min–max) unit"."""
    text = (
        f"{series.median:.{digits}f} ({series.low:.{digits}f}–{series.high:.{digits}f})"
    )
    return f"{text} {series.unit}" if series.unit else text


def verdict(passed: bool) -> str:
    """Return PASS or MISS."""
    return PASS if passed else MISS


def render_page(
    machine: list[tuple[str, str]],
    date: str,
    command: str,
    duration_seconds: float,
    figures: list[Figure],
    sections: list[str],
) -> str:
    """Return the Markdown page: the machine, a summary, every figure, ``sections``.

    ``sections`` are finished Markdown sections from other benchmark scripts.
    """
    lines = [
        "# Benchmarks",
        "",
        "Written by `benchmarks/run.py` (`make bench`); see benchmarks/README.md "
        "for what each figure measures. Every GUI figure runs in fresh processes "
        "on the offscreen Qt platform, with the baseline measured in the same run, "
        "alternating with the subject.",
        "",
        "| | |",
        "|---|---|",
    ]
    lines += [f"| {name} | {value} |" for name, value in machine]
    lines += [
        f"| date | {date} |",
        f"| command | `{command}` |",
        f"| duration | {duration_seconds:.0f} s |",
        "",
        "## Summary",
        "",
        "| figure | result |",
        "|---|---|",
    ]
    for figure in figures:
        lines.append(f"| {figure.title} | {figure.verdict} |")
    for figure in figures:
        lines += ["", f"## {figure.title}", "", figure.method, ""]
        lines.append("| " + " | ".join(HEADER) + " |")
        lines.append("|" + "---|" * len(HEADER))
        lines += ["| " + " | ".join(row) + " |" for row in figure.rows]
        if figure.notes:
            lines.append("")
            lines += [f"- {note}" for note in figure.notes]
    for section in sections:
        lines += ["", section.strip()]
    return "\n".join(lines) + "\n"
