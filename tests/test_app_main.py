"""``vaultgui.app.main`` end to end: the real entry point on the demo Vault."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget

from vaultgui import __version__
from vaultgui.app import main
from vaultgui.ui.confirm_dialog import ConfirmCancelDialog
from vaultgui.ui.login_dialog import LoginDialog
from vaultgui.ui.main_window import MainWindow


def visible(cls: type, name: str) -> QWidget | None:
    for widget in QApplication.topLevelWidgets():
        if (
            isinstance(widget, cls)
            and widget.objectName() == name
            and widget.isVisible()
        ):
            return widget
    return None


class UserScript:
    """Play a user through sign-in, look-up and cancel, one step per tick."""

    def __init__(self, submission_id: str) -> None:
        self.submission_id = submission_id
        self.step = "sign-in"
        self.outcome = ""
        self.deadline = time.monotonic() + 40
        self.timer = QTimer()
        self.timer.timeout.connect(self.tick)
        self.timer.start(50)

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            self.step = f"timed out in step {self.step}"
            self.close_all()
            return
        getattr(self, "do_" + self.step.replace("-", "_"), lambda: None)()

    def close_all(self) -> None:
        self.timer.stop()
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, MainWindow):
                widget._closing_confirmed = True
            widget.close()

    def do_sign_in(self) -> None:
        dialog = visible(LoginDialog, "loginDialog")
        if isinstance(dialog, LoginDialog):
            dialog.sign_in_button.click()
            self.step = "look-up"

    def do_look_up(self) -> None:
        window = visible(MainWindow, "mainWindow")
        if isinstance(window, MainWindow):
            window.submission_edit.setText(self.submission_id)
            window.lookup_button.click()
            self.step = "press-cancel"

    def do_press_cancel(self) -> None:
        window = visible(MainWindow, "mainWindow")
        if isinstance(window, MainWindow) and window.panel.cancel_button.isEnabled():
            window.panel.cancel_button.click()
            self.step = "confirm"

    def do_confirm(self) -> None:
        dialog = visible(ConfirmCancelDialog, "confirmCancelDialog")
        if isinstance(dialog, ConfirmCancelDialog):
            dialog.confirm_button.click()
            self.step = "read-outcome"

    def do_read_outcome(self) -> None:
        window = visible(MainWindow, "mainWindow")
        if isinstance(window, MainWindow) and not window.busy_with_call:
            text = window.outcome.label.text()
            if text.startswith("Vault"):
                self.outcome = text
                self.step = "done"
                self.close_all()


def test_main_runs_whole_flow_on_demo(qapp: QApplication, isolated_home: Path) -> None:
    script = UserScript("00S000000000101")

    exit_code = main(["--demo"])

    assert exit_code == 0
    assert script.step == "done"
    assert script.outcome.startswith("Vault accepted the cancel.")
    assert "Error (ERROR)" in script.outcome


def test_main_writes_history_row(qapp: QApplication, isolated_home: Path) -> None:
    script = UserScript("00S000000000102")
    main(["--demo"])
    assert script.step == "done"

    database = next(isolated_home.rglob("history.sqlite3"))
    with sqlite3.connect(database) as connection:
        actions = [row[0] for row in connection.execute("SELECT action FROM history")]
    assert "cancel" in actions


def test_version_option_prints_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "vaultgui", "--version"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert result.returncode == 0
    assert result.stdout.strip() == f"vaultgui {__version__}"


def test_console_script_calls_main() -> None:
    from importlib.metadata import entry_points

    scripts = entry_points(group="console_scripts", name="vaultgui")

    assert [entry.value for entry in scripts] == ["vaultgui.app:main"]


def test_quit_during_hanging_call_is_fast(isolated_home: Path) -> None:
    import os

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.quit_while_hanging"],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    output, _ = process.communicate(timeout=40)
    elapsed = time.monotonic() - started

    assert process.returncode == 0
    assert "step done" in output
    closed_after = float(output.split("closed-after ")[1].split()[0])
    assert closed_after < 5.0
    assert elapsed < 30.0


def test_full_run_writes_no_secrets(qapp: QApplication, isolated_home: Path) -> None:
    import re

    from vaultgui.demo import DEMO_PASSWORD

    script = UserScript("00S000000000103")
    main(["--demo"])
    assert script.step == "done"

    written = [path for path in isolated_home.rglob("*") if path.is_file()]
    assert any(path.name == "vaultgui.log" for path in written)
    long_hex = re.compile(rb"[0-9a-f]{64,}")
    for path in written:
        content = path.read_bytes()
        assert DEMO_PASSWORD.encode() not in content, path
        assert long_hex.search(content) is None, path


def test_version_option_returns_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"vaultgui {__version__}"


def test_unknown_option_returns_two(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--no-such-option"]) == 2
    assert "unrecognized arguments" in capsys.readouterr().err
