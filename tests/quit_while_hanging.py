"""Quit vaultgui while a Vault call hangs, and print how long quitting took.

Usage: python -m tests.quit_while_hanging

Starts its own demo Vault with a reply that stalls for a minute, signs in
through the real sign-in dialog, starts a look-up, closes the main window
while the look-up waits, and prints ``closed-after <seconds>`` just before
the process exits. A parent test measures the time from that line to the
process exit.
"""

from __future__ import annotations

import sys
import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from vaultgui.app import main
from vaultgui.demo import DEMO_PASSWORD, DEMO_USERNAME, DemoVault
from vaultgui.ui.login_dialog import LoginDialog
from vaultgui.ui.main_window import MainWindow


class Driver:
    """Drive the windows one step per timer tick."""

    def __init__(self, vault: DemoVault) -> None:
        self.vault = vault
        self.step = "sign-in"
        self.closed_at = 0.0
        self.timer = QTimer()
        self.timer.timeout.connect(self.tick)
        self.timer.start(50)

    def tick(self) -> None:
        for widget in QApplication.topLevelWidgets():
            if not widget.isVisible():
                continue
            if self.step == "sign-in" and isinstance(widget, LoginDialog):
                widget.password_edit.setText(DEMO_PASSWORD)
                widget.sign_in_button.click()
                self.step = "look-up"
            elif self.step == "look-up" and isinstance(widget, MainWindow):
                self.vault.inject_fault("record", "stall", seconds=60.0)
                widget.submission_edit.setText("00S000000000101")
                widget.lookup_button.click()
                self.step = "close"
            elif (
                self.step == "close"
                and isinstance(widget, MainWindow)
                and widget.busy_with_call
            ):
                self.closed_at = time.monotonic()
                widget.close()
                self.step = "done"


def run() -> int:
    vault = DemoVault().start()
    app = QApplication.instance() or QApplication(["quit-test"])
    driver = Driver(vault)
    code = main(["--vault", vault.address, "--username", DEMO_USERNAME])
    print(f"closed-after {time.monotonic() - driver.closed_at:.3f}", flush=True)
    print(f"step {driver.step}", flush=True)
    del app
    vault.stop()
    return code


if __name__ == "__main__":
    sys.exit(run())
