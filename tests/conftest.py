"""Shared fixtures: an isolated home, the demo Vault, a qasync loop, a window."""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from pytestqt.qtbot import QtBot

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("LANG", "C.UTF-8")

from vaultgui.demo import DemoVault
from vaultgui.services.history import HistoryStore
from vaultgui.services.paths import AppPaths

if TYPE_CHECKING:
    from vaultgui.ui.main_window import MainWindow


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every per-user folder at a temporary home for the test."""
    home = tmp_path / "home"
    for variable, folder in (
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_CACHE_HOME", "cache"),
    ):
        path = home / folder
        path.mkdir(parents=True)
        monkeypatch.setenv(variable, str(path))
    monkeypatch.setenv("HOME", str(home))
    for variable in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost,::1")
    return home


@pytest.fixture(autouse=True, scope="session")
def collect_on_main_thread() -> Iterator[None]:
    """Keep Python's collector from freeing widgets on a worker thread.

    The app does the same with a main-thread timer; here each test ends with
    a collection on the main thread instead.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    yield
    gc.collect()
    if was_enabled:
        gc.enable()


@pytest.fixture(autouse=True)
def collect_after_test() -> Iterator[None]:
    """Free the test's widgets on the main thread once it ends."""
    yield
    gc.collect()


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    """Per-user folders under the test's temporary folder, none created yet."""
    root = tmp_path / "vaultgui"
    return AppPaths(
        config_dir=root / "config",
        data_dir=root / "data",
        log_dir=root / "log",
        cache_dir=root / "cache",
        site_config_dir=root / "site",
    )


@pytest.fixture
def demo_vault() -> Iterator[DemoVault]:
    """Start a fresh demo Vault on 127.0.0.1 with statuses that stay put."""
    vault = DemoVault().start()
    try:
        yield vault
    finally:
        vault.stop()


@pytest.fixture
def qloop(qapp: object) -> Iterator[asyncio.AbstractEventLoop]:
    """A qasync loop marked as running, driven by pytest-qt's event processing.

    It never calls ``app.exec()``, ``loop.stop()`` or ``app.exit()``: those make
    every later pytest-qt wait return at once.
    """
    import qasync

    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    errors: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    try:
        yield loop
    finally:
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in pending:
            task.cancel()
        # Let the cancelled tasks run their cleanup on the Qt event loop.
        from PySide6.QtCore import QCoreApplication

        for _ in range(20):
            QCoreApplication.processEvents()
            if all(task.done() for task in pending):
                break
        loop._QEventLoop__is_running = False  # type: ignore[attr-defined]
        asyncio.events._set_running_loop(None)
        loop.close()
        asyncio.set_event_loop(None)
    assert not errors, f"event loop errors: {errors}"


@pytest.fixture
def history(tmp_path: Path) -> Iterator[HistoryStore]:
    """An empty history in the test's temporary folder."""
    store = HistoryStore(tmp_path / "history.sqlite3")
    yield store
    store.close()


@pytest.fixture
def read_timeout() -> float:
    """Read timeout of the ``window`` fixture's client, in seconds."""
    return 90.0


@pytest.fixture
def window(
    qtbot: QtBot,
    qloop: asyncio.AbstractEventLoop,
    demo_vault: DemoVault,
    history: HistoryStore,
    read_timeout: float,
) -> Iterator[MainWindow]:
    """A main window signed in to the demo Vault, with short status-read pauses."""
    from vaultgui.demo import DEMO_PASSWORD, DEMO_USERNAME
    from vaultgui.services.address import parse_vault_address
    from vaultgui.services.client import Timeouts, VaultClient
    from vaultgui.ui.main_window import MainWindow

    client = VaultClient(
        parse_vault_address(demo_vault.address),
        timeouts=Timeouts(connect=2.0, read=read_timeout),
    )
    session = client.sign_in(DEMO_USERNAME, DEMO_PASSWORD)
    main_window = MainWindow(client, session, history)
    main_window.recheck_pauses = (0.05, 0.1, 0.2, 0.4)
    qtbot.addWidget(main_window)
    main_window.show()
    yield main_window
    main_window.close()
    client.close()
