"""Per-user and site-wide folders of vaultgui, as platformdirs places them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import platformdirs

logger = logging.getLogger(__name__)

APP_NAME = "vaultgui"


@dataclass(frozen=True)
class AppPaths:
    """Folders of one user's vaultgui files.

    ``config_dir`` roams with a Windows roaming profile. ``data_dir`` is local to
    the machine, so the history database never roams. ``site_config_dir`` contains
    defaults that IT manages, and the app only reads it.
    """

    config_dir: Path
    data_dir: Path
    log_dir: Path
    cache_dir: Path
    site_config_dir: Path

    @property
    def history_db(self) -> Path:
        """SQLite file of the per-user history."""
        return self.data_dir / "history.sqlite3"

    @property
    def settings_file(self) -> Path:
        """TOML file of the per-user settings."""
        return self.config_dir / "settings.toml"

    @property
    def log_file(self) -> Path:
        """Log file of the app."""
        return self.log_dir / "vaultgui.log"


def app_paths() -> AppPaths:
    """Resolve the folders from the current environment and create none of them.

    Each call reads the environment again, so on Linux a caller that sets
    ``XDG_CONFIG_HOME``, ``XDG_DATA_HOME``, ``XDG_STATE_HOME`` or
    ``XDG_CACHE_HOME`` first gets folders under those.
    """
    paths = AppPaths(
        config_dir=platformdirs.user_config_path(
            APP_NAME, appauthor=False, roaming=True
        ),
        data_dir=platformdirs.user_data_path(APP_NAME, appauthor=False, roaming=False),
        log_dir=platformdirs.user_log_path(APP_NAME, appauthor=False),
        cache_dir=platformdirs.user_cache_path(APP_NAME, appauthor=False),
        site_config_dir=platformdirs.site_config_path(APP_NAME, appauthor=False),
    )
    logger.debug("Resolved app folders: %s", paths)
    return paths


def ensure_dir(path: Path) -> Path:
    """Create ``path`` and its missing parents, and return ``path``.

    Raises ``OSError`` when the folder cannot be created, for example because a
    file of that name exists or the parent folder is read-only.
    """
    path.mkdir(parents=True, exist_ok=True)
    return path
