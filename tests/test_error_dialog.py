"""The uncaught-exception hook: log entry, message box and the thread hand-over."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections.abc import Iterator
from types import TracebackType

import pytest
from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from vaultgui.services.logsetup import configure_logging, remove_log_handlers
from vaultgui.services.paths import AppPaths
from vaultgui.ui.error_dialog import ExceptionReporter, install_exception_hook

SESSION_ID = "C4" * 64

ExceptionInfo = tuple[type[BaseException], BaseException, TracebackType | None]


class UrlRecorder(QObject):
    """Receives the URLs QDesktopServices would open."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def record(self, url: QUrl) -> None:
        self.urls.append(url)


@pytest.fixture
def reporter(qapp: QApplication, paths: AppPaths) -> Iterator[ExceptionReporter]:
    """Install the hook with a real log file and remove both afterwards.

    pytest and pytest-qt set their own hooks around each test call, so tests
    call the reporter's handlers directly or install it inside the test body.
    """
    configure_logging(paths)
    installed = install_exception_hook(qapp, paths.log_dir)
    installed.uninstall()
    try:
        yield installed
    finally:
        if installed.box is not None:
            installed.box.close()
        remove_log_handlers()


def raised(error: BaseException) -> ExceptionInfo:
    try:
        raise error
    except BaseException as caught:
        return type(caught), caught, caught.__traceback__


def wait_for_box(qtbot: QtBot, reporter: ExceptionReporter) -> QMessageBox:
    qtbot.waitUntil(
        lambda: reporter.box is not None and reporter.box.isVisible(), timeout=5_000
    )
    assert reporter.box is not None
    return reporter.box


def log_text(paths: AppPaths) -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return paths.log_file.read_text(encoding="utf-8")


def test_hook_shows_log_path(
    qtbot: QtBot, reporter: ExceptionReporter, paths: AppPaths
) -> None:
    reporter.handle_exception(*raised(ValueError("bad value 3e1f")))

    box = wait_for_box(qtbot, reporter)

    assert box.text().startswith("Something went wrong in vaultgui.")
    assert f"The details are in the log file at {paths.log_file}." in box.text()


def test_hook_logs_traceback(
    qtbot: QtBot, reporter: ExceptionReporter, paths: AppPaths
) -> None:
    reporter.handle_exception(*raised(ValueError("bad value 3e1f")))
    wait_for_box(qtbot, reporter)

    text = log_text(paths)

    assert "Uncaught exception in thread MainThread" in text
    assert "ValueError: bad value 3e1f" in text


def test_box_is_not_modal_to_windows(qtbot: QtBot, reporter: ExceptionReporter) -> None:
    reporter.handle_exception(*raised(ValueError("bad value")))

    box = wait_for_box(qtbot, reporter)

    assert box.parent() is None
    assert box.windowModality() != Qt.WindowModality.ApplicationModal


def test_installed_hook_shows_box(qtbot: QtBot, reporter: ExceptionReporter) -> None:
    reporter.install()
    try:
        sys.excepthook(*raised(RuntimeError("through sys.excepthook")))
    finally:
        reporter.uninstall()

    box = wait_for_box(qtbot, reporter)

    assert "through sys.excepthook" in box.detailedText()


def test_cancelled_error_shows_no_box(
    qtbot: QtBot, reporter: ExceptionReporter, paths: AppPaths
) -> None:
    reporter.handle_exception(*raised(asyncio.CancelledError()))
    qtbot.wait(200)

    assert reporter.box is None
    assert "Uncaught exception" not in log_text(paths)


def test_keyboard_interrupt_shows_no_box(
    qtbot: QtBot, reporter: ExceptionReporter
) -> None:
    reporter.handle_exception(*raised(KeyboardInterrupt()))
    qtbot.wait(200)

    assert reporter.box is None


def test_thread_exception_reaches_main_thread(
    qtbot: QtBot, reporter: ExceptionReporter
) -> None:
    def fail() -> None:
        raise RuntimeError("worker failed 81d0")

    reporter.install()
    try:
        worker = threading.Thread(target=fail, name="test-worker")
        worker.start()
        worker.join(timeout=5)
    finally:
        reporter.uninstall()
    # The worker only posted the error; the box appears once the main thread
    # processes its events.
    assert reporter.box is None

    box = wait_for_box(qtbot, reporter)

    assert "worker failed 81d0" in box.detailedText()
    assert "Thread: test-worker" in box.detailedText()


def test_second_error_reuses_box(qtbot: QtBot, reporter: ExceptionReporter) -> None:
    reporter.handle_exception(*raised(ValueError("first")))
    first_box = wait_for_box(qtbot, reporter)

    reporter.handle_exception(*raised(ValueError("second")))
    qtbot.waitUntil(lambda: "1 more" in first_box.informativeText(), timeout=5_000)

    assert reporter.box is first_box
    visible_boxes = [
        widget
        for widget in QApplication.topLevelWidgets()
        if isinstance(widget, QMessageBox) and widget.isVisible()
    ]
    assert len(visible_boxes) == 1


def test_new_box_after_close(qtbot: QtBot, reporter: ExceptionReporter) -> None:
    reporter.handle_exception(*raised(ValueError("first")))
    wait_for_box(qtbot, reporter).reject()
    qtbot.waitUntil(lambda: reporter.box is None, timeout=5_000)

    reporter.handle_exception(*raised(ValueError("second")))

    assert "second" in wait_for_box(qtbot, reporter).detailedText()


def test_copy_details_keeps_box_open(qtbot: QtBot, reporter: ExceptionReporter) -> None:
    reporter.handle_exception(*raised(ValueError("copy me 0a9e")))
    box = wait_for_box(qtbot, reporter)

    qtbot.mouseClick(
        box.findChild(QPushButton, "copyDetailsButton"), Qt.MouseButton.LeftButton
    )

    assert "ValueError: copy me 0a9e" in QGuiApplication.clipboard().text()
    assert box.isVisible()


def test_details_mask_session_id(qtbot: QtBot, reporter: ExceptionReporter) -> None:
    reporter.handle_exception(*raised(RuntimeError(f"session {SESSION_ID} expired")))

    box = wait_for_box(qtbot, reporter)

    assert SESSION_ID not in box.detailedText()
    assert "session *** expired" in box.detailedText()


def test_open_log_folder(
    qtbot: QtBot, reporter: ExceptionReporter, paths: AppPaths
) -> None:
    recorder = UrlRecorder()
    QDesktopServices.setUrlHandler("file", recorder, "record")
    try:
        reporter.handle_exception(*raised(ValueError("folder")))
        box = wait_for_box(qtbot, reporter)
        qtbot.mouseClick(
            box.findChild(QPushButton, "openLogFolderButton"),
            Qt.MouseButton.LeftButton,
        )
    finally:
        QDesktopServices.unsetUrlHandler("file")

    assert [url.toLocalFile() for url in recorder.urls] == [str(paths.log_dir)]
    assert box.isVisible()


def test_missing_log_file_says_so(
    qtbot: QtBot, qapp: QApplication, paths: AppPaths
) -> None:
    reporter = install_exception_hook(qapp, paths.log_dir)
    reporter.uninstall()
    reporter.handle_exception(*raised(ValueError("no log")))

    box = wait_for_box(qtbot, reporter)
    try:
        assert "could not write its log file" in box.text()
    finally:
        box.close()
