"""Build the frozen vaultgui app with PyInstaller, check its size and, on Linux, a .deb.

Run by ``make package``. Writes dist/vaultgui/ (dist/vaultgui.app on macOS)
and, on Linux, dist/vaultgui_<version>_<arch>.deb.
"""

from __future__ import annotations

import argparse
import ast
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import make_icons

logger = logging.getLogger("vaultgui.packaging.build")

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"
BUILD = ROOT / "build"
SPEC = ROOT / "packaging" / "vaultgui.spec"
ICONS = BUILD / "icons"
DEB_STAGING = BUILD / "deb"

# Size budgets of the one-folder app, in MB (10**6 bytes), by sys.platform:
# about 15% above the measured size, so that an accidental new dependency fails
# the build. Linux measured 112.1 MB with PyInstaller 6.22.3, PySide6-Essentials
# 6.12.0 and Python 3.11.7 on Debian 12 x86_64. Windows and macOS have no
# measurement yet, so their builds only report the size.
SIZE_BUDGETS_MB = {
    "linux": 129,
}
BUDGET_VARIABLE = "VAULTGUI_SIZE_BUDGET_MB"

DEB_PACKAGE = "vaultgui"
DEB_INSTALL_DIR = Path("opt") / "vaultgui"
# Packages the bundle needs that no library link reveals: the CA certificates
# that truststore reads on Linux.
DEB_EXTRA_DEPENDS = ("ca-certificates",)
DEB_DESCRIPTION = """\
Cancel stuck Submissions Archive jobs in Veeva Vault RIM
 vaultgui lets regulatory staff cancel a stuck Submissions Archive import or
 removal in their Vault. It shows the archive status next to what cancelling
 would do, and keeps a per-user history of what was done.
"""
# NOTE: set VAULTGUI_DEB_MAINTAINER to the team responsible for the package.
DEFAULT_MAINTAINER = "vaultgui maintainers <vaultgui@example.com>"
HICOLOR_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
_ELF_MAGIC = b"\x7fELF"


class BuildError(Exception):
    """A build step failed; the message names the step and what to do."""


def main(argv: list[str] | None = None) -> int:
    """Build the app and the Linux package; return the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--no-deb",
        action="store_true",
        help="build only the frozen app, not the Linux .deb",
    )
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="build: %(message)s")
    started = time.monotonic()
    try:
        app = freeze()
        size = tree_size(app)
        check_size_budget(app, size)
        if sys.platform.startswith("linux") and not options.no_deb:
            package = build_deb(app)
            logger.info(
                "%s: %.1f MB", package.relative_to(ROOT), package.stat().st_size / 1e6
            )
    except BuildError as error:
        logger.error("%s", error)
        return 1
    logger.info("Finished in %.0f s", time.monotonic() - started)
    return 0


# -- frozen app ------------------------------------------------------------------


def freeze() -> Path:
    """Render the icons, run PyInstaller on the spec and return the app's path."""
    icons = make_icons.write_icons(ICONS)
    logger.info("Rendered %d icons into %s", len(icons), ICONS.relative_to(ROOT))
    command = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--log-level=WARN",
        "--distpath",
        str(DIST),
        "--workpath",
        str(BUILD / "pyinstaller"),
        str(SPEC),
    ]
    run(command, "PyInstaller")
    app = DIST / ("vaultgui.app" if sys.platform == "darwin" else "vaultgui")
    if not app.is_dir():
        raise BuildError(f"PyInstaller finished but {app} is missing.")
    return app


def tree_size(folder: Path) -> int:
    """Return the bytes of the regular files under ``folder``; links count as 0."""
    total = 0
    for directory, _folders, files in os.walk(folder):
        for name in files:
            path = Path(directory, name)
            if not path.is_symlink():
                total += path.stat().st_size
    return total


def check_size_budget(app: Path, size: int) -> None:
    """Raise BuildError when ``app`` is larger than this platform's budget.

    ``VAULTGUI_SIZE_BUDGET_MB`` overrides the budget. A platform without a
    measured budget only reports its size.
    """
    override = os.environ.get(BUDGET_VARIABLE, "")
    budget = float(override) if override else SIZE_BUDGETS_MB.get(_platform_key())
    megabytes = size / 1e6
    if budget is None:
        logger.warning(
            "%s: %.1f MB. No size budget is set for %s; add about %.0f MB to "
            "SIZE_BUDGETS_MB in packaging/build.py.",
            app.relative_to(ROOT),
            megabytes,
            _platform_key(),
            megabytes * 1.15,
        )
        return
    logger.info(
        "%s: %.1f MB (budget %.0f MB)", app.relative_to(ROOT), megabytes, budget
    )
    if megabytes > budget:
        raise BuildError(
            f"{app} is {megabytes:.1f} MB, over the budget of {budget:.0f} MB. "
            "Find what grew with 'du -ah dist | sort -h | tail -40'; if the growth "
            "is wanted, raise SIZE_BUDGETS_MB in packaging/build.py."
        )


def _platform_key() -> str:
    return "linux" if sys.platform.startswith("linux") else sys.platform


# -- Debian package ----------------------------------------------------------------


def build_deb(app: Path) -> Path:
    """Stage the app under /opt/vaultgui with a launcher, menu entry and icons,
    and build dist/vaultgui_<version>_<arch>.deb with dpkg-deb."""
    for tool in ("dpkg-deb", "dpkg-shlibdeps"):
        if shutil.which(tool) is None:
            raise BuildError(
                f"{tool} not found; install it with: apt-get install dpkg-dev"
            )
    version = _app_version()
    arch = _capture(["dpkg", "--print-architecture"]).strip()

    staging = DEB_STAGING / f"{DEB_PACKAGE}_{version}_{arch}"
    if staging.exists():
        shutil.rmtree(staging)
    _stage_files(app, staging)
    _normalise_modes(staging)
    depends = [*DEB_EXTRA_DEPENDS, *library_depends(staging / DEB_INSTALL_DIR)]
    _write_control(staging, version, arch, depends)

    # Leaves one .deb, so `apt-get install ./dist/vaultgui_*.deb` is unambiguous.
    for old in DIST.glob(f"{DEB_PACKAGE}_*.deb"):
        old.unlink()
    package = DIST / f"{DEB_PACKAGE}_{version}_{arch}.deb"
    command = ["dpkg-deb", "--build", "--root-owner-group", "-Zxz"]
    run([*command, str(staging), str(package)], "dpkg-deb")
    logger.info("Depends: %s", ", ".join(depends))
    return package


def _stage_files(app: Path, staging: Path) -> None:
    install_dir = staging / DEB_INSTALL_DIR
    install_dir.parent.mkdir(parents=True)
    # The bundle links its top-level libraries to the copies under PySide6/.
    shutil.copytree(app, install_dir, symlinks=True)

    launcher = staging / "usr" / "bin" / "vaultgui"
    launcher.parent.mkdir(parents=True)
    launcher.symlink_to(Path("/") / DEB_INSTALL_DIR / "vaultgui")

    applications = staging / "usr" / "share" / "applications"
    applications.mkdir(parents=True)
    shutil.copy2(ROOT / "resources" / "vaultgui.desktop", applications)

    hicolor = staging / "usr" / "share" / "icons" / "hicolor"
    scalable = hicolor / "scalable" / "apps"
    scalable.mkdir(parents=True)
    shutil.copy2(make_icons.SVG_FILE, scalable / "vaultgui.svg")
    for size in HICOLOR_SIZES:
        folder = hicolor / f"{size}x{size}" / "apps"
        folder.mkdir(parents=True)
        shutil.copy2(ICONS / f"vaultgui-{size}.png", folder / "vaultgui.png")


def _normalise_modes(staging: Path) -> None:
    """Give folders and executables 0755 and other files 0644, as Debian expects."""
    for directory, folders, files in os.walk(staging):
        for name in folders:
            path = Path(directory, name)
            if not path.is_symlink():
                path.chmod(0o755)
        for name in files:
            path = Path(directory, name)
            if path.is_symlink():
                continue
            # Shared libraries (libQt6Core.so.6, QtCore.abi3.so) need no x bit.
            executable = path.stat().st_mode & 0o111 and ".so" not in name
            path.chmod(0o755 if executable else 0o644)


def library_depends(install_dir: Path) -> list[str]:
    """Return the Debian packages, with minimum versions, of the system libraries
    that the bundled programs and libraries link to.

    dpkg-shlibdeps maps each needed library to its package (as ``ldd`` and
    ``dpkg -S`` would) and adds the version the build machine's symbols need.
    Libraries inside the bundle are found through ``-l`` and need no package.
    It fails when a needed library is on neither side.
    """
    elf_files = sorted(path for path in install_dir.rglob("*") if _is_elf(path))
    bundled_dirs = sorted({str(path.parent) for path in elf_files})
    with tempfile.TemporaryDirectory(prefix="vaultgui-shlibdeps-") as work:
        control = Path(work) / "debian" / "control"
        control.parent.mkdir()
        control.write_text(
            f"Source: {DEB_PACKAGE}\n\nPackage: {DEB_PACKAGE}\nArchitecture: any\n",
            encoding="utf-8",
        )
        output = _capture(
            [
                "dpkg-shlibdeps",
                "-O",
                "--ignore-missing-info",
                "--warnings=0",
                *(f"-l{folder}" for folder in bundled_dirs),
                *(str(path) for path in elf_files),
            ],
            cwd=Path(work),
        )
    line = next((x for x in output.splitlines() if x.startswith("shlibs:Depends=")), "")
    if not line:
        raise BuildError(f"dpkg-shlibdeps printed no Depends line: {output!r}")
    return [entry.strip() for entry in line.split("=", 1)[1].split(",") if entry]


def _is_elf(path: Path) -> bool:
    if path.is_symlink() or not path.is_file():
        return False
    with path.open("rb") as stream:
        return stream.read(4) == _ELF_MAGIC


def _write_control(staging: Path, version: str, arch: str, depends: list[str]) -> None:
    installed_kib = (tree_size(staging) + 1023) // 1024
    maintainer = os.environ.get("VAULTGUI_DEB_MAINTAINER", DEFAULT_MAINTAINER)
    control = (
        f"Package: {DEB_PACKAGE}\n"
        f"Version: {version}\n"
        f"Architecture: {arch}\n"
        f"Maintainer: {maintainer}\n"
        f"Installed-Size: {installed_kib}\n"
        f"Depends: {', '.join(depends)}\n"
        "Section: utils\n"
        "Priority: optional\n"
        f"Description: {DEB_DESCRIPTION}"
    )
    debian = staging / "DEBIAN"
    debian.mkdir()
    (debian / "control").write_text(control, encoding="utf-8")


def _app_version() -> str:
    """Return ``__version__`` from vaultgui/__init__.py without importing vaultgui."""
    source = (ROOT / "vaultgui" / "__init__.py").read_text(encoding="utf-8")
    for node in ast.parse(source).body:
        if (
            isinstance(node, ast.Assign)
            and any(
                isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets
            )
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            return node.value.value
    raise BuildError("vaultgui/__init__.py does not set __version__ to a string.")


# -- processes ----------------------------------------------------------------------


def run(command: list[str], name: str) -> None:
    """Run ``command`` with its output shown; raise BuildError when it fails."""
    started = time.monotonic()
    result = subprocess.run(command, cwd=ROOT, check=False)
    if result.returncode != 0:
        raise BuildError(f"{name} failed with exit code {result.returncode}.")
    logger.info("%s took %.0f s", name, time.monotonic() - started)


def _capture(command: list[str], cwd: Path = ROOT) -> str:
    result = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BuildError(
            f"{command[0]} failed with exit code {result.returncode}: "
            f"{result.stderr.strip()}"
        )
    return result.stdout


if __name__ == "__main__":
    sys.exit(main())
