"""Tests of the per-user folders in vaultgui.services.paths."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from vaultgui.services.paths import APP_NAME, AppPaths, app_paths, ensure_dir

linux_only = pytest.mark.skipif(
    sys.platform != "linux", reason="XDG variables apply only on Linux"
)


@pytest.fixture
def xdg_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every XDG variable into a temporary home with a non-ASCII name."""
    home = tmp_path / "Zoë Ångström"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(home / "site"))
    return home


@linux_only
def test_config_dir_follows_xdg(xdg_home: Path) -> None:
    assert app_paths().config_dir == xdg_home / "config" / APP_NAME


@linux_only
def test_data_dir_follows_xdg(xdg_home: Path) -> None:
    assert app_paths().data_dir == xdg_home / "data" / APP_NAME


@linux_only
def test_log_dir_follows_xdg_state(xdg_home: Path) -> None:
    assert app_paths().log_dir == xdg_home / "state" / APP_NAME / "log"


@linux_only
def test_cache_dir_follows_xdg(xdg_home: Path) -> None:
    assert app_paths().cache_dir == xdg_home / "cache" / APP_NAME


@linux_only
def test_site_config_dir_follows_xdg(xdg_home: Path) -> None:
    assert app_paths().site_config_dir == xdg_home / "site" / APP_NAME


@linux_only
def test_file_paths_sit_in_their_folders(xdg_home: Path) -> None:
    paths = app_paths()

    assert paths.history_db == xdg_home / "data" / APP_NAME / "history.sqlite3"
    assert paths.settings_file == xdg_home / "config" / APP_NAME / "settings.toml"
    assert paths.log_file == xdg_home / "state" / APP_NAME / "log" / "vaultgui.log"


@linux_only
def test_app_paths_reads_environment_each_call(
    xdg_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = app_paths()
    monkeypatch.setenv("XDG_DATA_HOME", str(xdg_home / "other"))

    second = app_paths()

    assert first.data_dir == xdg_home / "data" / APP_NAME
    assert second.data_dir == xdg_home / "other" / APP_NAME


@linux_only
def test_app_paths_creates_nothing(xdg_home: Path) -> None:
    app_paths()

    assert not xdg_home.exists()


def test_app_paths_values_are_absolute() -> None:
    paths = app_paths()

    for folder in (paths.config_dir, paths.data_dir, paths.log_dir, paths.cache_dir):
        assert folder.is_absolute(), folder


def test_app_paths_is_frozen(tmp_path: Path) -> None:
    paths = AppPaths(tmp_path, tmp_path, tmp_path, tmp_path, tmp_path)

    with pytest.raises(AttributeError):
        paths.data_dir = tmp_path / "other"  # type: ignore[misc]


def test_ensure_dir_creates_parents(tmp_path: Path) -> None:
    target = tmp_path / "Zoë Ångström" / "a" / "b"

    returned = ensure_dir(target)

    assert returned == target
    assert target.is_dir()


def test_ensure_dir_accepts_existing(tmp_path: Path) -> None:
    ensure_dir(tmp_path / "x")

    assert ensure_dir(tmp_path / "x").is_dir()


def test_ensure_dir_file_in_the_way(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder", encoding="utf-8")

    with pytest.raises(OSError):
        ensure_dir(blocker / "child")
