"""Self-test of an installed vaultgui: Qt plugins, folders, TLS, demo Vault, history."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib
import logging
import os
import platform
import ssl
import sys
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, TypeVar

from vaultgui import __version__
from vaultgui.services.paths import AppPaths, app_paths, ensure_dir

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication, QWidget

    from vaultgui.demo import DemoVault
    from vaultgui.services.client import VaultClient
    from vaultgui.services.history import HistoryStore
    from vaultgui.services.models import SignInResult, Submission

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

# An import in progress in the demo Vault: cancellable, and it moves to an
# error state when cancelled.
SUBMISSION_ID = "00S000000000101"
REFERENCE_ID = "vaultgui-self-test"

_XDG_FOLDERS = {
    "XDG_CONFIG_HOME": "config",
    "XDG_DATA_HOME": "data",
    "XDG_STATE_HOME": "state",
    "XDG_CACHE_HOME": "cache",
}
# Default Qt platform plugin per sys.platform, when QT_QPA_PLATFORM is unset.
_DEFAULT_PLATFORMS = {"win32": "windows", "darwin": "cocoa"}
# How long each window stays shown so that the platform plugin paints it, in seconds.
_SHOW_SECONDS = 0.2
# Name of the keyring backend entry point that each system needs.
_KEYRING_BACKENDS = {"win32": "Windows", "darwin": "macOS"}
# A site-wide settings file as IT would deploy it, with one locked key.
_SITE_READ_TIMEOUT = 120.0
_SITE_SETTINGS = f"""\
schema_version = 1
locked = ["network.read_timeout"]

[network]
read_timeout = {_SITE_READ_TIMEOUT}
"""
_RECENT_USERNAME = "self-test@example.com"
_MACOS_SYSTEM_ROOTS = Path("/System/Library/Keychains/SystemRootCertificates.keychain")


class CheckError(Exception):
    """A check found something wrong; the message is the reason printed."""


class PrerequisiteError(Exception):
    """A check cannot run because an earlier check it depends on failed."""


def run_self_test(out: TextIO) -> int:
    """Run every check in a temporary home and print one line per check to ``out``.

    Each line reads ``ok   <check>: <detail>`` or ``FAIL <check>: <reason>``.
    Returns 0 when every check passed and 1 otherwise. Network traffic goes
    only to a demo Vault on 127.0.0.1. The Qt platform is offscreen unless the
    caller chose one with ``QT_QPA_PLATFORM`` or, on Linux, with ``DISPLAY`` or
    ``WAYLAND_DISPLAY``. The environment is restored before returning.
    """
    # The temporary home is made in the temporary folder (TMPDIR, TEMP or TMP),
    # so a caller can test a home whose path has non-ASCII characters or spaces.
    with (
        tempfile.TemporaryDirectory(
            prefix="vaultgui-self-test-", ignore_cleanup_errors=True
        ) as home_name,
        _patched_environment(Path(home_name)),
    ):
        return SelfTest(Path(home_name), out).run()


class SelfTest:
    """The checks of one self-test run, in order, sharing what earlier ones built.

    A check that needs the result of a failed one is reported as failed with
    the name of the check it waited for.
    """

    def __init__(self, home: Path, out: TextIO) -> None:
        self.home = home
        self.out = out
        self.failures: list[str] = []
        self.paths: AppPaths | None = None
        self.app: QApplication | None = None
        self.demo: DemoVault | None = None
        self.client: VaultClient | None = None
        self.session: SignInResult | None = None
        self.submission: Submission | None = None
        self.history: HistoryStore | None = None
        self.history_row: int | None = None
        self.status_after = ""
        self.execution_id = ""

    def run(self) -> int:
        """Run the checks in order and return 0 if all passed, else 1."""
        checks: list[tuple[str, Callable[[], str]]] = [
            ("version", self.check_version),
            ("user-folders", self.check_user_folders),
            ("tls-context", self.check_tls_context),
            ("os-trust-store", self.check_os_trust_store),
            ("qt-platform", self.check_qt_platform),
            ("qt-fonts", self.check_qt_fonts),
            ("app-icon", self.check_app_icon),
            ("demo-vault", self.check_demo_vault),
            ("sign-in", self.check_sign_in),
            ("lookup", self.check_lookup),
            ("history-open", self.check_history_open),
            ("windows", self.check_windows),
            ("cancel", self.check_cancel),
            ("re-read", self.check_re_read),
            ("history", self.check_history),
            ("settings", self.check_settings),
            ("password-storage", self.check_password_storage),
            ("sign-out", self.check_sign_out),
        ]
        try:
            for name, check in checks:
                self._run_check(name, check)
        finally:
            self._clean_up()
        return 1 if self.failures else 0

    def _run_check(self, name: str, check: Callable[[], str]) -> None:
        try:
            detail = check()
        except PrerequisiteError as skipped:
            self._fail(name, f"not run, because {skipped} failed")
        except CheckError as failure:
            self._fail(name, str(failure))
        except Exception as error:  # any failure of the app code is a result here
            logger.debug("Self-test check %s raised", name, exc_info=True)
            self._fail(name, f"{type(error).__name__}: {error}")
        else:
            self._print(f"ok   {name}: {detail}" if detail else f"ok   {name}")

    def _fail(self, name: str, reason: str) -> None:
        self.failures.append(name)
        self._print(f"FAIL {name}: {reason}")

    def _print(self, line: str) -> None:
        try:
            print(line, file=self.out, flush=True)
        except UnicodeEncodeError:
            # A console code page that lacks a character of a path, on Windows.
            safe = line.encode("ascii", "backslashreplace").decode("ascii")
            print(safe, file=self.out, flush=True)

    def _clean_up(self) -> None:
        if self.client is not None:
            self.client.close()
        if self.history is not None:
            self.history.close()
        if self.demo is not None:
            self.demo.stop()

    # -- environment -----------------------------------------------------------

    def check_version(self) -> str:
        frozen = "frozen" if getattr(sys, "frozen", False) else "not frozen"
        return (
            f"vaultgui {__version__}, Python {platform.python_version()}, "
            f"{platform.system()} {platform.machine()}, {frozen}"
        )

    def check_user_folders(self) -> str:
        """Resolve the real folders, then use folders in the temporary home.

        On Linux the XDG variables already point into the temporary home, so
        platformdirs itself must resolve there. Elsewhere platformdirs cannot be
        redirected, so the folders are built from the temporary home directly.
        """
        resolved = app_paths()
        folders = _folders(resolved)
        relative = [str(path) for path in folders if not path.is_absolute()]
        if relative:
            raise CheckError(f"relative folders resolved: {', '.join(relative)}")
        if _uses_xdg():
            outside = [str(p) for p in folders[:4] if not p.is_relative_to(self.home)]
            if outside:
                raise CheckError(
                    f"folders outside the temporary home {self.home}: "
                    f"{', '.join(outside)}; XDG_* variables were not honoured"
                )
            paths = resolved
        else:
            paths = _explicit_paths(self.home, resolved.site_config_dir)
        for folder in _folders(paths)[:4]:
            ensure_dir(folder)
        probe = paths.data_dir / "self-test ✓ Zoë.txt"
        probe.write_text("ok\n", encoding="utf-8")
        if probe.read_text(encoding="utf-8") != "ok\n":
            raise CheckError(f"{probe} did not read back what was written")
        probe.unlink()
        self.paths = paths
        return f"data in {paths.data_dir}"

    def check_tls_context(self) -> str:
        import truststore

        from vaultgui.services.address import parse_vault_address
        from vaultgui.services.client import VaultClient

        context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if context.verify_mode != ssl.CERT_REQUIRED or not context.check_hostname:
            raise CheckError("the truststore context does not verify certificates")
        # Builds the HTTPS adapter of a real client; nothing is sent.
        VaultClient(parse_vault_address("myvault.veevavault.com")).close()
        return f"truststore {truststore.__version__}, {ssl.OPENSSL_VERSION}"

    def check_os_trust_store(self) -> str:
        context = ssl.create_default_context()
        count = context.cert_store_stats()["x509_ca"]
        if count > 0:
            return f"{count} CA certificates loaded"
        if sys.platform == "darwin":
            # macOS verifies through the Security framework, not OpenSSL's files.
            if _MACOS_SYSTEM_ROOTS.exists():
                return f"system roots in {_MACOS_SYSTEM_ROOTS}"
            raise CheckError(f"{_MACOS_SYSTEM_ROOTS} is missing")
        if sys.platform != "win32":
            # OpenSSL reads a hashed folder lazily, so count its files instead.
            folder = Path(ssl.get_default_verify_paths().capath or "/etc/ssl/certs")
            hashed = [p for p in _list_dir(folder) if p.suffix[1:].isdigit()]
            if hashed:
                return f"{len(hashed)} hashed certificates in {folder}"
        raise CheckError(
            "no CA certificates found in the system trust store; on Linux install "
            "the ca-certificates package"
        )

    # -- Qt ----------------------------------------------------------------------

    def check_qt_platform(self) -> str:
        from PySide6 import __version__ as pyside_version
        from PySide6.QtWidgets import QApplication

        existing = QApplication.instance()
        if existing is None:
            _check_platform_plugin_loads()
            existing = QApplication([sys.argv[0] if sys.argv else "vaultgui"])
        if not isinstance(existing, QApplication):
            raise CheckError(f"a {type(existing).__name__} runs, not a QApplication")
        self.app = existing
        return f"{existing.platformName()}, PySide6 {pyside_version}"

    def check_qt_fonts(self) -> str:
        self._require(self.app, "qt-platform")
        from PySide6.QtGui import QFontDatabase

        families = QFontDatabase.families()
        if not families:
            raise CheckError("Qt found no fonts; on Linux install fontconfig fonts")
        return f"{len(families)} font families"

    def check_app_icon(self) -> str:
        self._require(self.app, "qt-platform")
        from importlib.resources import files

        from PySide6.QtGui import QIcon, QImageReader

        formats = {
            bytes(f.data()).decode() for f in QImageReader.supportedImageFormats()
        }
        if "svg" not in formats:
            raise CheckError(
                f"the Qt SVG image plugin is missing; formats: {sorted(formats)}"
            )
        icon_file = files("vaultgui.resources") / "vaultgui.svg"
        pixmap = QIcon(str(icon_file)).pixmap(64, 64)
        if pixmap.isNull():
            raise CheckError(f"{icon_file} renders as an empty image")
        if pixmap.toImage().pixelColor(32, 32).alpha() == 0:
            raise CheckError(f"{icon_file} renders as a transparent image")
        return f"{icon_file} renders at 64x64"

    # -- demo Vault through the service client -------------------------------------

    def check_demo_vault(self) -> str:
        from vaultgui.demo import DemoVault

        self.demo = DemoVault().start()
        return f"listening on {self.demo.address}"

    def check_sign_in(self) -> str:
        demo = self._require(self.demo, "demo-vault")
        from vaultgui.demo import DEMO_PASSWORD, DEMO_USERNAME
        from vaultgui.services.address import parse_vault_address
        from vaultgui.services.client import VaultClient

        self.client = VaultClient(parse_vault_address(demo.address))
        self.session = self.client.sign_in(DEMO_USERNAME, DEMO_PASSWORD)
        return f"Vault {self.session.vault_name} as {self.session.username}"

    def check_lookup(self) -> str:
        client = self._require(self.client, "sign-in")
        self._require(self.session, "sign-in")
        from vaultgui.services.archive_status import status_info

        found = client.lookup(SUBMISSION_ID)
        if len(found) != 1 or found[0].id != SUBMISSION_ID:
            raise CheckError(f"expected {SUBMISSION_ID}, found {found}")
        submission = found[0]
        if not status_info(submission.archive_status).cancellable:
            raise CheckError(
                f"{SUBMISSION_ID} has status {submission.archive_status!r}, "
                "which cannot be cancelled"
            )
        self.submission = submission
        return f"{SUBMISSION_ID} is {submission.archive_status}"

    def check_history_open(self) -> str:
        paths = self._require(self.paths, "user-folders")
        from vaultgui.services.history import HistoryStore

        self.history = HistoryStore(paths.history_db)
        if self.history.read_only:
            raise CheckError(f"{paths.history_db} was opened read-only")
        return str(paths.history_db)

    def check_windows(self) -> str:
        app = self._require(self.app, "qt-platform")
        import qasync  # type: ignore[import-untyped]

        from vaultgui.ui.tasks import close_loop

        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        try:
            shown = loop.run_until_complete(self._show_windows())
        finally:
            close_loop(loop)
        return ", ".join(shown)

    async def _show_windows(self) -> list[str]:
        from vaultgui.services.archive_status import status_info
        from vaultgui.ui.confirm_dialog import ConfirmCancelDialog
        from vaultgui.ui.login_dialog import LoginDialog
        from vaultgui.ui.main_window import MainWindow

        demo = self._require(self.demo, "demo-vault")
        client = self._require(self.client, "sign-in")
        session = self._require(self.session, "sign-in")
        submission = self._require(self.submission, "lookup")

        login = LoginDialog(vault=demo.address, username=session.username)
        window = MainWindow(client, session, self.history)
        confirm = ConfirmCancelDialog(
            submission,
            status_info(submission.archive_status),
            window.vault_label,
            window,
        )
        shown: list[str] = []
        try:
            for widget in (login, window, confirm):
                widget.show()
                await asyncio.sleep(_SHOW_SECONDS)
                shown.append(_visible_name(widget))
        finally:
            confirm.close()
            # Skips the question asked when a cancel is in flight; none is.
            window._closing_confirmed = True
            window.close()
            login.close()
            await asyncio.sleep(0)
        return shown

    def check_cancel(self) -> str:
        client = self._require(self.client, "sign-in")
        submission = self._require(self.submission, "lookup")
        from vaultgui.services.history import Action, HistoryEntry

        if self.history is not None:
            entry = HistoryEntry(
                id=None,
                time_utc=datetime.now(UTC),
                os_user="self-test",
                vault_dns=client.address.netloc,
                vault_username=client.username,
                action=Action.CANCEL,
                submission_id=submission.id,
                submission_name=submission.name,
                status_before=submission.archive_status,
                reference_id=REFERENCE_ID,
            )
            self.history_row = self.history.begin_cancel(entry)
        reply = client.cancel_import(submission.id, reference_id=REFERENCE_ID)
        self.execution_id = reply.execution_id
        return f"accepted, execution id {reply.execution_id or 'none'}"

    def check_re_read(self) -> str:
        client = self._require(self.client, "sign-in")
        submission = self._require(self.submission, "lookup")
        from vaultgui.services.archive_status import matches_expected, status_info

        expected = status_info(submission.archive_status).after_cancel
        after = client.get_submission(submission.id).archive_status
        if expected is None or not matches_expected(expected, after):
            raise CheckError(
                f"status after the cancel is {after!r}, expected {expected}"
            )
        self.status_after = after
        return f"{submission.archive_status} -> {after or 'no status'}"

    def check_history(self) -> str:
        history = self._require(self.history, "history-open")
        row_id = self._require(self.history_row, "cancel")
        from vaultgui.services.history import HistoryStore, Outcome

        history.complete(
            row_id,
            outcome=Outcome.SUCCEEDED,
            status_after=self.status_after,
            execution_id=self.execution_id,
        )
        history.close()
        # Reopen, so the row must have reached the file.
        with HistoryStore(history.path) as reopened:
            rows = [row for row in reopened.recent() if row.id == row_id]
        if not rows:
            raise CheckError(f"row {row_id} not found in {history.path}")
        row = rows[0]
        if row.outcome is not Outcome.SUCCEEDED:
            raise CheckError(f"row {row_id} has outcome {row.outcome}")
        if row.status_after != self.status_after:
            raise CheckError(
                f"row {row_id} has status_after {row.status_after!r}, "
                f"expected {self.status_after!r}"
            )
        return f"row {row_id} written and read back"

    def check_settings(self) -> str:
        """Layer a locked site file under a user file, save, and read both back."""
        paths = self._require(self.paths, "user-folders")
        demo = self._require(self.demo, "demo-vault")
        from vaultgui.services.settings import SettingLockedError, SettingsStore

        site_dir = ensure_dir(self.home / "site-config" / "vaultgui")
        paths = dataclasses.replace(paths, site_config_dir=site_dir)
        (site_dir / "settings.toml").write_text(_SITE_SETTINGS, encoding="utf-8")
        settings, report = SettingsStore(paths).load()
        if report.warnings:
            raise CheckError(f"settings warnings: {'; '.join(report.warnings)}")
        if settings.network.read_timeout != _SITE_READ_TIMEOUT:
            raise CheckError("the site settings file was not applied")
        SettingsStore(paths).remember_vault(demo.address, _RECENT_USERNAME)
        reread = SettingsStore(paths).settings
        if not reread.recent_vaults or reread.recent_vaults[0].address != demo.address:
            raise CheckError(f"{paths.settings_file} did not keep the recent Vault")
        try:
            SettingsStore(paths).set_value("network.read_timeout", 60)
        except SettingLockedError:
            return f"{paths.settings_file} written and read back, site lock honoured"
        raise CheckError("a setting locked by the site file could be changed")

    def check_password_storage(self) -> str:
        """Check that keyring finds this system's backend; a missing keychain is ok.

        A frozen app without keyring's entry-point metadata finds no backend at
        all, which looks the same to the user as a machine without a keychain.
        Nothing is read from or written to the keychain.
        """
        from importlib.metadata import entry_points

        from vaultgui.services.credentials import password_storage_available

        names = sorted(entry.name for entry in entry_points(group="keyring.backends"))
        expected = _KEYRING_BACKENDS.get(sys.platform, "SecretService")
        if expected not in names:
            raise CheckError(
                f"keyring backend {expected} not found; backends found: {names}"
            )
        importlib.import_module(f"keyring.backends.{expected}")
        available, reason = password_storage_available()
        state = "available" if available else f"not available here ({reason})"
        return f"backend {expected} present, storage {state}"

    def check_sign_out(self) -> str:
        client = self._require(self.client, "sign-in")
        demo = self._require(self.demo, "demo-vault")
        client.sign_out()
        if client.signed_in:
            raise CheckError("the client still has a session after sign-out")
        demo.stop()
        return "session ended, demo Vault stopped"

    @staticmethod
    def _require(value: _T | None, check: str) -> _T:
        if value is None:
            raise PrerequisiteError(check)
        return value


def _check_platform_plugin_loads() -> None:
    """Load the Qt platform plugin that QApplication will use, or raise CheckError.

    QApplication aborts the process when its platform plugin cannot load, so a
    missing plugin or system library is reported here with the loader's reason.
    """
    from PySide6.QtCore import QCoreApplication, QPluginLoader

    name = _chosen_platform()
    folders = [Path(p) / "platforms" for p in QCoreApplication.libraryPaths()]
    candidates = [
        path
        for folder in folders
        for path in _list_dir(folder)
        if path.stem.removeprefix("lib") == f"q{name}"
    ]
    if not candidates:
        searched = ", ".join(str(f) for f in folders) or "no plugin folders"
        raise CheckError(f"Qt platform plugin {name!r} not found in {searched}")
    loader = QPluginLoader(str(candidates[0]))
    if not loader.load():
        raise CheckError(f"cannot load {candidates[0]}: {loader.errorString()}")


def _chosen_platform() -> str:
    """Return the name of the platform plugin Qt will try first."""
    chosen = os.environ.get("QT_QPA_PLATFORM", "")
    if chosen:
        return chosen.split(";")[0].split(":")[0]
    if sys.platform in _DEFAULT_PLATFORMS:
        return _DEFAULT_PLATFORMS[sys.platform]
    # NOTE: in a Wayland session Qt may try wayland first and fall back to xcb,
    # but only the plugin chosen here is checked.
    if os.environ.get("WAYLAND_DISPLAY") and not os.environ.get("DISPLAY"):
        return "wayland"
    return "xcb"


@contextlib.contextmanager
def _patched_environment(home: Path) -> Iterator[None]:
    """Point the XDG folders into ``home``, and choose offscreen Qt unless the
    caller chose a platform.

    Every variable is restored on exit.
    """
    changes: dict[str, str] = {}
    if _uses_xdg():
        changes.update({name: str(home / sub) for name, sub in _XDG_FOLDERS.items()})
    if not _platform_chosen():
        changes["QT_QPA_PLATFORM"] = "offscreen"
    saved = {name: os.environ.get(name) for name in changes}
    os.environ.update(changes)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _platform_chosen() -> bool:
    if os.environ.get("QT_QPA_PLATFORM"):
        return True
    if sys.platform in _DEFAULT_PLATFORMS:
        return False
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _uses_xdg() -> bool:
    """Return whether platformdirs honours the XDG variables on this system."""
    return sys.platform not in ("win32", "darwin")


def _folders(paths: AppPaths) -> list[Path]:
    """Return the per-user folders first, then the site-wide one."""
    return [
        paths.config_dir,
        paths.data_dir,
        paths.log_dir,
        paths.cache_dir,
        paths.site_config_dir,
    ]


def _explicit_paths(home: Path, site_config_dir: Path) -> AppPaths:
    return AppPaths(
        config_dir=home / "config" / "vaultgui",
        data_dir=home / "data" / "vaultgui",
        log_dir=home / "state" / "vaultgui" / "log",
        cache_dir=home / "cache" / "vaultgui",
        site_config_dir=site_config_dir,
    )


def _list_dir(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except OSError:
        return []


def _visible_name(widget: QWidget) -> str:
    if not widget.isVisible():
        raise CheckError(f"{widget.objectName()} did not become visible")
    if widget.width() <= 0 or widget.height() <= 0:
        raise CheckError(f"{widget.objectName()} has no size")
    return widget.objectName()
