"""Log uncaught exceptions and tell the user in a message box that does not block."""

from __future__ import annotations

import asyncio
import logging
import platform
import sys
import threading
import traceback
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QCoreApplication, QObject, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QMessageBox, QPushButton

from vaultgui import __version__
from vaultgui.services.logsetup import LOG_FILE_NAME, redact

log = logging.getLogger(__name__)

ERROR_BOX_NAME = "unexpectedErrorBox"
# Exceptions that end a wait or the program on purpose, so they are not errors.
_NOT_ERRORS = (asyncio.CancelledError, KeyboardInterrupt)

ExceptionInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def tr(text: str) -> str:
    """Translate a user-facing string in the ``ErrorDialog`` context."""
    return QCoreApplication.translate("ErrorDialog", text)


class ExceptionReporter(QObject):
    """Logs uncaught exceptions and shows at most one message box about them.

    :meth:`handle_exception` is the ``sys.excepthook`` and
    :meth:`handle_thread_exception` the ``threading.excepthook``. Both log
    on the thread where the exception happened and post the box to the main
    thread through a queued signal, so Qt is touched only on the main thread.
    Exceptions that arrive while the box is open are logged and counted in it.
    """

    _exception_posted = Signal(object, object)

    def __init__(self, log_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.log_file = log_dir / LOG_FILE_NAME
        self.box: QMessageBox | None = None
        self._more_errors = 0
        self._previous_hooks = (sys.excepthook, threading.excepthook)
        self._exception_posted.connect(
            self._show_box, Qt.ConnectionType.QueuedConnection
        )

    def install(self) -> None:
        """Make this object the handler of uncaught exceptions in every thread."""
        sys.excepthook = self.handle_exception
        threading.excepthook = self.handle_thread_exception

    def uninstall(self) -> None:
        """Put back the hooks that were in place before :meth:`install`."""
        sys.excepthook, threading.excepthook = self._previous_hooks

    def handle_exception(
        self,
        exc_type: type[BaseException],
        exc_value: BaseException,
        exc_traceback: TracebackType | None,
    ) -> None:
        """Log an uncaught exception and post the message box about it."""
        self._report((exc_type, exc_value, exc_traceback), threading.current_thread())

    def handle_thread_exception(self, args: threading.ExceptHookArgs) -> None:
        """Log an exception that ended a thread and post the message box about it."""
        if args.exc_type is SystemExit:
            return
        error = args.exc_value
        if error is None:
            error = RuntimeError(f"{args.exc_type.__name__} was raised without a value")
        thread = args.thread or threading.current_thread()
        self._report((args.exc_type, error, args.exc_traceback), thread)

    def _report(self, info: ExceptionInfo, thread: threading.Thread) -> None:
        try:
            if issubclass(info[0], _NOT_ERRORS):
                log.info(
                    "%s reached the top of thread %s", info[0].__name__, thread.name
                )
                return
            log.error("Uncaught exception in thread %s", thread.name, exc_info=info)
            # Emitted from any thread; the queued connection runs the slot on the
            # thread of this object, which is the main thread.
            self._exception_posted.emit(info, thread.name)
        except Exception:
            # Raising here would hide the original exception, so it goes to
            # stderr instead, masked like the log.
            if sys.stderr is not None:
                print(
                    redact("".join(traceback.format_exception(*info))), file=sys.stderr
                )

    @Slot(object, object)
    def _show_box(self, info: ExceptionInfo, thread_name: str) -> None:
        if self.box is not None:
            self._more_errors += 1
            self.box.setInformativeText(
                tr(
                    "{count} more problem(s) happened since this message appeared."
                ).format(count=self._more_errors)
            )
            return
        self.box = self._build_box(_details_text(info, thread_name))
        self.box.finished.connect(self._forget_box)
        # Without a parent, open() blocks no other window of the app.
        self.box.open()

    def _build_box(self, details: str) -> QMessageBox:
        box = QMessageBox()
        box.setObjectName(ERROR_BOX_NAME)
        box.setAccessibleName(ERROR_BOX_NAME)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("vaultgui")
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setText(self._message_text())
        box.setDetailedText(details)

        copy_button = _keep_open_button(box, tr("Copy details"), "copyDetailsButton")
        copy_button.clicked.connect(lambda: _copy_to_clipboard(details))
        folder_button = _keep_open_button(
            box, tr("Open log folder"), "openLogFolderButton"
        )
        folder_button.clicked.connect(self._open_log_folder)
        box.addButton(QMessageBox.StandardButton.Close)
        return box

    def _message_text(self) -> str:
        text = tr(
            "Something went wrong in vaultgui. What you were doing may not have "
            "finished, so check the window before you go on. If it happens "
            "again, send the details to your help desk."
        )
        if self.log_file.exists():
            where = tr("The details are in the log file at {path}.")
        else:
            where = tr(
                "vaultgui could not write its log file at {path}, so use Copy "
                "details to keep them."
            )
        return f"{text}\n\n{where.format(path=self.log_file)}"

    @Slot()
    def _open_log_folder(self) -> None:
        folder = self.log_file.parent
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
            log.warning("Could not open the log folder %s", folder)

    @Slot()
    def _forget_box(self) -> None:
        self.box = None
        self._more_errors = 0


def _keep_open_button(box: QMessageBox, text: str, name: str) -> QPushButton:
    """Add a button to ``box`` that does not close it when pressed."""
    button = box.addButton(text, QMessageBox.ButtonRole.ActionRole)
    button.setObjectName(name)
    # QMessageBox closes when any of its buttons is clicked. Removing the
    # button's existing connections keeps only those made after this call.
    button.clicked.disconnect()
    return button


def _copy_to_clipboard(text: str) -> None:
    QGuiApplication.clipboard().setText(text)


def _details_text(info: ExceptionInfo, thread_name: str) -> str:
    lines = [
        f"vaultgui {__version__}, Python {platform.python_version()}, "
        f"{platform.platform()}",
        f"Thread: {thread_name}",
        "",
        *traceback.format_exception(*info),
    ]
    return redact("\n".join(line.rstrip("\n") for line in lines))


_reporter: ExceptionReporter | None = None


def install_exception_hook(app: QCoreApplication, log_dir: Path) -> ExceptionReporter:
    """Route uncaught exceptions of all threads to the log and a message box.

    The box names ``log_dir``/vaultgui.log as the log file. A second call
    replaces the first reporter. Returns the reporter, which must live as long
    as the hooks are installed (this module keeps a reference too).
    """
    global _reporter
    if _reporter is not None:
        _reporter.uninstall()
    _reporter = ExceptionReporter(log_dir, parent=app)
    _reporter.install()
    return _reporter
