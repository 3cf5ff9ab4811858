"""The installation self-test, run once in a child process as an installer runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# A child process, because the self-test runs and stops its own qasync loop,
# which would end pytest-qt's waits in this process.
COMMAND = [sys.executable, "-m", "vaultgui", "--self-test"]
CHECKS = (
    "user-folders",
    "tls-context",
    "os-trust-store",
    "qt-platform",
    "app-icon",
    "sign-in",
    "lookup",
    "windows",
    "cancel",
    "re-read",
    "history",
    "settings",
    "password-storage",
)


@pytest.fixture(scope="module")
def self_test(
    tmp_path_factory: pytest.TempPathFactory,
) -> subprocess.CompletedProcess[str]:
    """Run the self-test once, offscreen, with its temporary home under tmp_path."""
    env = dict(os.environ)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        TMPDIR=str(tmp_path_factory.mktemp("self-test")),
        PYTHONPATH=str(ROOT),
        PYTHONIOENCODING="utf-8",
    )
    return subprocess.run(
        COMMAND,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=50,
        check=False,
    )


def test_self_test_exit_code(self_test: subprocess.CompletedProcess[str]) -> None:
    assert self_test.returncode == 0, self_test.stdout + self_test.stderr


def test_self_test_lines_ok(self_test: subprocess.CompletedProcess[str]) -> None:
    failed = [
        line for line in self_test.stdout.splitlines() if not line.startswith("ok")
    ]
    assert not failed, "\n".join(failed)


def test_self_test_prints_lines(self_test: subprocess.CompletedProcess[str]) -> None:
    assert self_test.stdout.strip(), self_test.stderr


@pytest.mark.parametrize("check", CHECKS)
def test_self_test_runs_check(
    self_test: subprocess.CompletedProcess[str], check: str
) -> None:
    names = [line[5:].split(":")[0] for line in self_test.stdout.splitlines()]
    assert check in names
