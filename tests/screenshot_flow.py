"""Run the real windows on an X display and save screenshots of the flow.

Usage: python -m tests.screenshot_flow OUTPUT_DIR

Starts the demo Vault, shows the sign-in dialog, signs in, looks up an import
in progress, cancels it and saves PNG files of the sign-in dialog, the
confirmation and the main window after the cancel. Exits 0 when every
screenshot was saved.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import qasync
from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QWidget

from vaultgui.demo import DEMO_PASSWORD, DEMO_USERNAME, DemoVault
from vaultgui.services.history import HistoryStore
from vaultgui.ui.confirm_dialog import ConfirmCancelDialog
from vaultgui.ui.login_dialog import LoginDialog
from vaultgui.ui.main_window import MainWindow

SUBMISSION_ID = "00S000000000101"


async def until(condition: object, timeout: float = 20.0) -> None:
    """Wait, letting Qt paint, until ``condition()`` is true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():  # type: ignore[operator]
        if loop.time() > deadline:
            raise TimeoutError("the window did not reach the expected state")
        await asyncio.sleep(0.05)


async def settle() -> None:
    """Give the window time to lay out and paint."""
    for _ in range(10):
        QCoreApplication.processEvents()
        await asyncio.sleep(0.05)


def grab(widget: QWidget, path: Path) -> None:
    """Save what the X server shows in the window's area."""
    screen = QGuiApplication.primaryScreen()
    frame = widget.frameGeometry()
    pixmap = screen.grabWindow(0, frame.x(), frame.y(), frame.width(), frame.height())
    if not pixmap.save(str(path)):
        raise OSError(f"could not save {path}")
    print(f"saved {path}")


async def run(output: Path, vault: DemoVault, history: HistoryStore) -> None:
    dialog = LoginDialog(
        vault=vault.address, username=DEMO_USERNAME, password=DEMO_PASSWORD
    )
    signed_in: list[object] = []
    dialog.signed_in.connect(
        lambda client, session: signed_in.append((client, session))
    )
    dialog.move(40, 40)
    dialog.show()
    await settle()
    grab(dialog, output / "sign-in.png")

    dialog.sign_in_button.click()
    await until(lambda: bool(signed_in))
    client, session = signed_in[0]  # type: ignore[misc]
    window = MainWindow(client, session, history)
    window.recheck_pauses = (0.3, 0.6, 1.2)
    window.move(0, 0)
    window.resize(900, 720)
    window.show()
    window.submission_edit.setText(SUBMISSION_ID)
    window.lookup_button.click()
    await until(lambda: window.panel.cancel_button.isEnabled())
    await settle()
    grab(window, output / "main-window-before-cancel.png")

    window.panel.cancel_button.click()
    confirm = await find_confirmation()
    await settle()
    grab(confirm, output / "confirm-cancel.png")
    confirm.confirm_button.click()
    await until(lambda: window.busy_with_call)
    await until(lambda: not window.busy_with_call)
    window.outcome.details_button.setChecked(True)
    await settle()
    grab(window, output / "main-window-after-cancel.png")
    window.tabs.setCurrentIndex(1)
    await settle()
    grab(window, output / "history.png")
    window.close()
    client.close()  # type: ignore[attr-defined]


async def find_confirmation() -> ConfirmCancelDialog:
    found: list[ConfirmCancelDialog] = []

    def visible() -> bool:
        found[:] = [
            w
            for w in QApplication.topLevelWidgets()
            if isinstance(w, ConfirmCancelDialog) and w.isVisible()
        ]
        return bool(found)

    await until(visible)
    return found[0]


def main() -> int:
    output = Path(sys.argv[1])
    output.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(["vaultgui-screenshots"])
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    vault = DemoVault().start()
    history = HistoryStore(output / ".screenshot-history.sqlite3")
    try:
        loop.run_until_complete(run(output, vault, history))
    finally:
        history.close()
        (output / ".screenshot-history.sqlite3").unlink(missing_ok=True)
        vault.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
