"""Small file-system helpers shared by the settings and history stores."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path


def sibling_path(path: Path, label: str) -> Path:
    """Return an unused path ``<stem>.<label>-<UTC time><suffix>`` beside ``path``."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    candidate = path.with_name(f"{path.stem}.{label}-{stamp}{path.suffix}")
    number = 2
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}.{label}-{stamp}-{number}{path.suffix}")
        number += 1
    return candidate
