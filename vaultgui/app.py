"""Command-line entry point: parse options, start Qt and the qasync loop."""

from __future__ import annotations

import argparse
import asyncio
import logging
import logging.handlers
import os
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from vaultgui import __version__

if TYPE_CHECKING:
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from vaultgui.demo import DemoVault
    from vaultgui.ui.controller import Prefill

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    """Return the parser for vaultgui's command-line options."""
    parser = argparse.ArgumentParser(
        prog="vaultgui",
        description=(
            "Cancel a stuck Submissions Archive import or removal in Veeva Vault RIM."
        ),
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help=(
            "start the built-in demo Vault on 127.0.0.1 and fill in the sign-in "
            "dialog with its address and the demo user"
        ),
    )
    parser.add_argument(
        "--vault",
        metavar="ADDRESS",
        default="",
        help="Vault address to put in the sign-in dialog, e.g. myvault.veevavault.com",
    )
    parser.add_argument(
        "--username",
        metavar="NAME",
        default="",
        help="Vault user name to put in the sign-in dialog",
    )
    parser.add_argument(
        "--self-test",
        action="store_true",
        help=(
            "check this installation (Qt plugins, folders, TLS, a demo Vault, "
            "history and settings) in a temporary home, print one line per check "
            "and exit with 0 when all pass"
        ),
    )
    parser.add_argument(
        "--version", action="version", version=f"vaultgui {__version__}"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run vaultgui and return its exit code.

    Reuses the running ``QApplication`` when there is one, so tests can drive
    the real windows in-process.
    """
    try:
        options = build_parser().parse_args(list(argv) if argv is not None else None)
    except SystemExit as stop:
        # --version, --help and invalid options end here; argparse has printed.
        return stop.code if isinstance(stop.code, int) else 2
    if options.self_test:
        from vaultgui.selftest import run_self_test

        # A windowed Windows build has no stdout unless the caller redirects it.
        if sys.stdout is None:
            with open(os.devnull, "w", encoding="utf-8") as sink:
                return run_self_test(sink)
        return run_self_test(sys.stdout)

    from vaultgui.services.logsetup import configure_logging, remove_log_handlers
    from vaultgui.services.paths import app_paths

    paths = app_paths()
    configure_logging(paths)
    log.info("vaultgui %s starting", __version__)

    import qasync
    from PySide6.QtWidgets import QApplication

    from vaultgui.ui.controller import AppController

    app = QApplication.instance() or QApplication(
        [sys.argv[0] if sys.argv else "vaultgui"]
    )
    assert isinstance(app, QApplication)
    app.setApplicationName("vaultgui")
    app.setWindowIcon(_app_icon())
    app.setApplicationVersion(__version__)
    if os.environ.get("VAULTGUI_EXIT_WHEN_SHOWN") == "1":
        _quit_when_login_shown(app)
    quit_on_close = app.quitOnLastWindowClosed()
    app.setQuitOnLastWindowClosed(False)

    from vaultgui.ui.collector import MainThreadCollector
    from vaultgui.ui.error_dialog import install_exception_hook

    collector = MainThreadCollector()
    collector.start()
    reporter = install_exception_hook(app, paths.log_dir)
    demo = _start_demo() if options.demo else None
    prefill = _prefill(options, demo)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)

    async def run() -> int:
        controller = AppController(prefill, paths)
        return await controller.run()

    try:
        return loop.run_until_complete(run())
    finally:
        from vaultgui.ui.tasks import close_loop

        close_loop(loop)
        if demo is not None:
            demo.stop()
        app.setQuitOnLastWindowClosed(quit_on_close)
        collector.stop()
        reporter.uninstall()
        log.info("vaultgui stopped")
        remove_log_handlers()


def _quit_when_login_shown(app: QApplication) -> None:
    """Print a line and close the sign-in dialog once it is first painted.

    Turned on by VAULTGUI_EXIT_WHEN_SHOWN=1 for benchmarks/startup_frozen.py,
    which times a process from its start until this line arrives.
    """
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QDialog

    class LoginPaintFilter(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
            if (
                event.type() == QEvent.Type.Paint
                and watched.objectName() == "loginDialog"
                and isinstance(watched, QDialog)
            ):
                app.removeEventFilter(self)
                print(f"vaultgui: sign-in dialog shown {time.time():.6f}", flush=True)
                QTimer.singleShot(0, watched.reject)
            return False

    app.installEventFilter(LoginPaintFilter(app))


def _app_icon() -> QIcon:
    from importlib.resources import files

    from PySide6.QtGui import QIcon

    return QIcon(str(files("vaultgui.resources") / "vaultgui.svg"))


def _start_demo() -> DemoVault:
    from vaultgui.demo import DemoVault

    demo = DemoVault(advance_seconds=45.0).start()
    log.info("Demo Vault listening on %s", demo.address)
    return demo


def _prefill(options: argparse.Namespace, demo: DemoVault | None) -> Prefill:
    from vaultgui.ui.controller import Prefill

    if demo is not None:
        from vaultgui.demo import DEMO_PASSWORD, DEMO_USERNAME

        own_vault = not options.vault
        own_user = not options.username
        return Prefill(
            vault=options.vault or demo.address,
            username=options.username or DEMO_USERNAME,
            # The demo password goes only with the demo user on the demo Vault.
            password=DEMO_PASSWORD if own_vault and own_user else "",
        )
    return Prefill(vault=options.vault, username=options.username)
