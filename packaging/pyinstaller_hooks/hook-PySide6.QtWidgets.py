"""PyInstaller hook for PySide6.QtWidgets that keeps only the native style plugins.

It replaces PyInstaller's hook of the same name, as hook-PySide6.QtGui.py does.
"""

from pathlib import PurePath

from PyInstaller.utils.hooks.qt import add_qt6_dependencies

# The Windows 11 and Windows 10 styles, and the macOS style. Linux uses the
# Fusion style built into QtWidgets, so it needs no style plugin.
KEPT_STYLES = {"qmodernwindowsstyle", "qwindowsvistastyle", "qmacstyle"}


def is_kept_style(source: str, dest_dir: str) -> bool:
    """Return whether a collected file is a kept style or not a style plugin."""
    if PurePath(dest_dir).name != "styles":
        return True
    return PurePath(source).name.split(".")[0].removeprefix("lib") in KEPT_STYLES


hiddenimports, binaries, datas = add_qt6_dependencies(__file__)
binaries = [(source, dest) for source, dest in binaries if is_kept_style(source, dest)]
