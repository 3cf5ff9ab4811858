"""A writer killed with SIGKILL mid-save leaves the old or the new settings file."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from vaultgui.services.paths import AppPaths
from vaultgui.services.settings import SettingsStore

pytestmark = pytest.mark.skipif(
    not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)"
)

ITERATIONS = 100
REPOSITORY = Path(__file__).resolve().parent.parent

# The writer saves two settings in turn for ever and prints "ready" once the
# first save is on disk. They differ from the defaults and from each other in
# every key they set, so the file always contains one of two documents. With
# "expected" as the second argument it saves each once, keeps a copy of the
# file after each save and stops.
WRITER = """
import shutil
import sys
from pathlib import Path
from vaultgui.services.paths import AppPaths
from vaultgui.services.settings import Settings, SettingsStore

root = Path(sys.argv[1])
store = SettingsStore(AppPaths(root, root, root, root, root / "site"))
store.load()
first = (
    Settings()
    .with_value("network.connect_timeout", 11)
    .with_value("network.read_timeout", 111)
    .with_value("appearance", "dark")
    .with_value("recent_vaults", [{"address": "a.veevavault.com", "username": "a"}])
)
second = (
    first.with_value("network.connect_timeout", 22)
    .with_value("network.read_timeout", 222)
    .with_value("appearance", "light")
    .with_value("recent_vaults", [
        {"address": "b.veevavault.com", "username": "b" * 200},
        {"address": "c.veevavault.com", "username": "c" * 200},
    ])
)
if sys.argv[2] == "expected":
    for number, settings in enumerate((first, second)):
        store.save(settings)
        shutil.copy(store.settings_file, root / f"expected-{number}.toml")
    sys.exit(0)
store.save(first)
print("ready", flush=True)
while True:
    store.save(second)
    store.save(first)
"""


def start_writer(root: Path, mode: str = "loop") -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
    command = [sys.executable, "-c", WRITER, str(root), mode]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)


def expected_documents(root: Path) -> list[dict[str, object]]:
    """Return the two documents the writer saves in turn."""
    writer = start_writer(root, "expected")
    writer.communicate(timeout=30)
    assert writer.returncode == 0
    return [
        tomllib.loads((root / f"expected-{number}.toml").read_text("utf-8"))
        for number in (0, 1)
    ]


def kill_while_saving(root: Path, delay: float) -> None:
    """Start the writer, let it save for ``delay`` seconds, then SIGKILL it."""
    writer = start_writer(root)
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "ready"
        time.sleep(delay)
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=10)
        if writer.stdout is not None:
            writer.stdout.close()


def test_killed_writer_leaves_whole_file(tmp_path: Path) -> None:
    expected = expected_documents(tmp_path / "expected")
    root = tmp_path / "config"
    rng = random.Random(20241)
    started = time.monotonic()
    for iteration in range(ITERATIONS):
        kill_while_saving(root, rng.uniform(0, 0.03))
        document = tomllib.loads((root / "settings.toml").read_text("utf-8"))
        assert document in expected, f"iteration {iteration}: {document}"
    assert time.monotonic() - started < 30


def test_killed_writer_file_loads(tmp_path: Path) -> None:
    expected = expected_documents(tmp_path / "expected")
    root = tmp_path / "config"
    kill_while_saving(root, 0.01)
    store = SettingsStore(AppPaths(root, root, root, root, root / "site"))
    _settings, report = store.load()
    assert report.recovered_from is None
    assert report.warnings == []
    assert tomllib.loads(store.settings_file.read_text("utf-8")) in expected
