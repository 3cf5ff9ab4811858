"""PyInstaller hook for PySide6.QtGui that collects only the Qt plugins vaultgui uses.

A hook in the spec's ``hookspath`` replaces PyInstaller's hook of the same name.
This one takes what PyInstaller's Qt helper collects for QtGui and drops the
unused plugins before PyInstaller follows their library dependencies, so a
dropped plugin (GTK theme, Wayland, EGLFS, PDF images) brings in nothing.
"""

from pathlib import PurePath

from PyInstaller.utils.hooks.qt import add_qt6_dependencies

# Plugins kept, by plugin folder, named by file name without "lib" and suffix.
# offscreen and minimal serve the self-test and headless runs. Drawing uses
# Qt's raster engine, so no OpenGL integration plugin is needed.
KEPT_PLUGINS = {
    "platforms": {"qxcb", "qoffscreen", "qminimal", "qwindows", "qcocoa"},
    "imageformats": {"qsvg", "qico", "qicns"},
    "iconengines": {"qsvgicon"},
    # Compose keys and IBus input methods, for names typed with accents or in CJK.
    "platforminputcontexts": {
        "composeplatforminputcontextplugin",
        "ibusplatforminputcontextplugin",
    },
}


def is_kept_plugin(source: str, dest_dir: str) -> bool:
    """Return whether a collected file is a kept plugin or not a plugin at all."""
    parts = PurePath(dest_dir).parts
    if "plugins" not in parts:
        return True
    folder = "/".join(parts[parts.index("plugins") + 1 :])
    name = PurePath(source).name.split(".")[0].removeprefix("lib")
    return name in KEPT_PLUGINS.get(folder, set())


hiddenimports, binaries, datas = add_qt6_dependencies(__file__)
binaries = [(source, dest) for source, dest in binaries if is_kept_plugin(source, dest)]
