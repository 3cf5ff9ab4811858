"""Load, layer, validate and atomically save the per-user settings file."""

from __future__ import annotations

import copy
import errno
import logging
import os
import shutil
import tempfile
import time
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import tomli_w

from vaultgui.services.files import sibling_path
from vaultgui.services.paths import AppPaths, ensure_dir
from vaultgui.services.settings_schema import (
    CURRENT_SCHEMA_VERSION,
    LIST_KEYS,
    LOCKABLE_KEYS,
    SCALAR_KEYS,
    Document,
    NetworkSettings,
    Profile,
    RecentVault,
    SettingLockedError,
    Settings,
    SettingsError,
    SettingsNewerVersionError,
    SettingsStructureError,
    SettingsValueError,
    check_structure,
    dedupe_recent_vaults,
    document_version,
    make_profile,
    migrate,
    parse_profile,
    parse_recent_vault,
    parse_value,
    profile_table,
    recent_vault_identity,
    strip_secrets,
)

__all__ = [
    "LoadReport",
    "NetworkSettings",
    "Profile",
    "RecentVault",
    "SettingLockedError",
    "Settings",
    "SettingsError",
    "SettingsNewerVersionError",
    "SettingsStore",
    "SettingsValueError",
    "make_profile",
]

logger = logging.getLogger(__name__)

# Pauses between the tries of os.replace while the target is in use, in seconds:
# Windows raises PermissionError while another program (a virus scanner, a
# backup or sync client) has the file open.
REPLACE_RETRY_DELAYS = (0.1, 0.2, 0.3, 0.4)
# Temporary files older than this are left over from a killed save.
_STALE_TEMP_SECONDS = 600

_USER_SOURCE = "Your settings file"
_SITE_SOURCE = "The settings file of your administrator"


@dataclass
class LoadReport:
    """Repairs made by :meth:`SettingsStore.load`, for the UI to show the user once.

    ``recovered_from`` is where an unreadable user file was moved before the
    defaults were used. ``migration_backup`` is the copy taken before an older
    file was upgraded. ``warnings`` contains one sentence per ignored value.
    """

    recovered_from: Path | None = None
    migration_backup: Path | None = None
    warnings: list[str] = field(default_factory=list)


class _DamagedFileError(Exception):
    """A settings file is not valid TOML or its tables have the wrong type."""


@dataclass
class _Layer:
    values: dict[str, object] = field(default_factory=dict)
    locked: frozenset[str] = frozenset()
    warnings: list[str] = field(default_factory=list)


class SettingsStore:
    """The settings of one user: defaults < site file < user file.

    Keys the site file lists under ``locked`` always take the site value, and
    every method that would change one raises :class:`SettingLockedError`.
    A save applies only the keys that changed since :meth:`load` to the file as
    it is on disk, so unknown keys, values this version ignores and changes
    saved meanwhile by another vaultgui window survive.
    """

    def __init__(self, paths: AppPaths) -> None:
        self._paths = paths
        self._baseline: Settings | None = None
        self._site_profiles: tuple[Profile, ...] = ()
        self._last_document: Document = {}

    @property
    def settings_file(self) -> Path:
        """The user's settings file."""
        return self._paths.settings_file

    @property
    def site_settings_file(self) -> Path:
        """The settings file that IT manages. vaultgui only reads it."""
        return self._paths.site_config_dir / "settings.toml"

    @property
    def paths(self) -> AppPaths:
        """The folders this store was created with."""
        return self._paths

    @property
    def site_profiles(self) -> tuple[Profile, ...]:
        """Profiles of the site file as last loaded. A save that drops one raises."""
        return self._site_profiles

    @property
    def settings(self) -> Settings:
        """The settings as last loaded or saved, loaded on first use."""
        if self._baseline is None:
            self.load()
        assert self._baseline is not None
        return self._baseline

    def load(self) -> tuple[Settings, LoadReport]:
        """Read both files and return the effective settings.

        Never raises for a bad file. An unreadable user file is moved aside,
        an invalid value is ignored, and the report lists each repair.
        """
        report = LoadReport()
        _remove_stale_temp_files(self.settings_file)
        site = self._load_site_layer()
        user = self._load_user_layer(report)
        settings, merge_warnings = _merge(site, user)
        report.warnings += site.warnings + user.warnings + merge_warnings
        for warning in report.warnings:
            logger.warning("Settings: %s", warning)
        self._site_profiles = _profiles_of(site)
        self._baseline = settings
        return settings, report

    def save(self, settings: Settings) -> None:
        """Write the keys that differ from the last load or save.

        Raises :class:`SettingLockedError` when a locked key differs,
        :class:`SettingsValueError` for an invalid value,
        :class:`SettingsNewerVersionError` when a newer vaultgui wrote the file,
        and :class:`SettingsError` when writing fails. After any of these the
        file on disk is unchanged.
        """
        baseline = self.settings
        settings = replace(settings, locked=baseline.locked)
        _check_locks(baseline, settings)
        _check_site_profiles_kept(settings, self._site_profiles)
        _validate(settings)
        document, disk_version = self._document_for_save()
        updated = _updated_document(document, baseline, settings, self._site_profiles)
        _write_document(self.settings_file, updated, disk_version)
        logger.info("Saved settings to %s", self.settings_file)
        self._last_document = updated
        self._baseline = settings

    def set_value(self, key: str, value: object) -> Settings:
        """Validate, set and save one dotted key, and return the new settings."""
        current = self.settings
        _check_key_unlocked(current, key)
        updated = current.with_value(key, value)
        self.save(updated)
        return updated

    def remember_vault(self, address: str, username: str) -> Settings:
        """Put a successful sign-in first in ``recent_vaults`` and save."""
        current = self.settings
        _check_key_unlocked(current, "recent_vaults")
        entry = parse_recent_vault({"address": address, "username": username})
        entries = dedupe_recent_vaults([entry, *current.recent_vaults])
        updated = replace(current, recent_vaults=entries)
        self.save(updated)
        return updated

    def upsert_profile(self, profile: Profile) -> Settings:
        """Replace the profile of the same name, or append it, and save."""
        current = self.settings
        _check_key_unlocked(current, "profiles")
        checked = parse_profile(profile_table(profile))
        profiles = [p for p in current.profiles if p.name != checked.name]
        index = next(
            (i for i, p in enumerate(current.profiles) if p.name == checked.name),
            len(profiles),
        )
        profiles.insert(index, checked)
        updated = replace(current, profiles=tuple(profiles))
        self.save(updated)
        return updated

    def remove_profile(self, name: str) -> Settings:
        """Remove the profile called ``name`` and save.

        Raises :class:`SettingLockedError` for a profile that the site file
        defines, because it would come back on the next load.
        """
        current = self.settings
        _check_key_unlocked(current, "profiles")
        updated = replace(
            current, profiles=tuple(p for p in current.profiles if p.name != name)
        )
        if updated.default_profile == name:
            _check_key_unlocked(current, "default_profile")
            updated = replace(updated, default_profile="")
        self.save(updated)
        return updated

    def _load_site_layer(self) -> _Layer:
        path = self.site_settings_file
        try:
            document = _read_document(path)
        except (SettingsError, _DamagedFileError) as error:
            return _Layer(warnings=[f"{_SITE_SOURCE} {path} is ignored: {error}"])
        if document is None:
            return _Layer()
        if document_version(document) < CURRENT_SCHEMA_VERSION:
            document = migrate(document)
        layer = _parse_layer(document, _SITE_SOURCE)
        layer.locked = _parse_locked(document.get("locked", []), layer.warnings)
        return layer

    def _load_user_layer(self, report: LoadReport) -> _Layer:
        path = self.settings_file
        try:
            document = _read_document(path)
        except SettingsError as error:
            return _Layer(warnings=[str(error)])
        except _DamagedFileError as error:
            document = None
            try:
                report.recovered_from = _move_corrupt_file(path, error, report.warnings)
            except SettingsError as move_error:
                return _Layer(warnings=[str(move_error)])
        if document is None:
            self._last_document = {}
            return _Layer()
        secret_warnings = _secret_warnings(strip_secrets(document))
        version = document_version(document)
        if version > CURRENT_SCHEMA_VERSION:
            report.warnings.append(_newer_version_message(path, version))
        elif version < CURRENT_SCHEMA_VERSION:
            document = self._upgrade_file(document, version, report)
        layer = _parse_layer(document, _USER_SOURCE)
        layer.warnings += secret_warnings
        self._last_document = document
        return layer

    def _upgrade_file(
        self, document: Document, version: int, report: LoadReport
    ) -> Document:
        migrated = migrate(document)
        try:
            report.migration_backup = _write_document(
                self.settings_file, migrated, version
            )
        except SettingsError as error:
            report.warnings.append(
                f"The settings file could not be upgraded, so vaultgui upgrades it "
                f"again next time: {error}"
            )
        return migrated

    def _document_for_save(self) -> tuple[Document, int]:
        """Return the user file as it is now on disk, upgraded, and its version."""
        path = self.settings_file
        try:
            document = _read_document(path)
        except _DamagedFileError as error:
            # Damaged since it was loaded: keep the damaged file, write the last
            # good contents plus this save's changes.
            document = copy.deepcopy(self._last_document)
            if document_version(document) > CURRENT_SCHEMA_VERSION:
                raise SettingsNewerVersionError(
                    _newer_version_message(path, document_version(document))
                ) from None
            _move_corrupt_file(path, error, None)
            return document, CURRENT_SCHEMA_VERSION
        if document is None:
            return {}, CURRENT_SCHEMA_VERSION
        version = document_version(document)
        if version > CURRENT_SCHEMA_VERSION:
            raise SettingsNewerVersionError(_newer_version_message(path, version))
        strip_secrets(document)
        return migrate(document), version


def _read_document(path: Path) -> Document | None:
    """Return the parsed file, or None when it does not exist.

    Raises :class:`_DamagedFileError` for a file that is not valid TOML or
    has the wrong structure, and :class:`SettingsError` when the file exists
    but cannot be read.
    """
    try:
        data = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as error:
        raise SettingsError(
            f"Could not read {path}: {error.strerror or error}. Check that you are "
            "allowed to open the file."
        ) from error
    try:
        # utf-8-sig also accepts the byte-order mark that some Windows editors add.
        document = tomllib.loads(data.decode("utf-8-sig"))
        check_structure(document)
    except UnicodeDecodeError:
        raise _DamagedFileError("it is not UTF-8 text") from None
    except (tomllib.TOMLDecodeError, SettingsStructureError) as error:
        raise _DamagedFileError(str(error)) from None
    return document


def _move_corrupt_file(
    path: Path, error: Exception, warnings: list[str] | None
) -> Path:
    target = sibling_path(path, "corrupt")
    try:
        path.rename(target)
    except OSError as rename_error:
        raise SettingsError(
            f"The settings file {path} is damaged and could not be moved aside "
            f"({rename_error.strerror or rename_error}). Move or delete it, then "
            "try again."
        ) from rename_error
    logger.warning("Moved damaged settings file %s to %s: %s", path, target, error)
    if warnings is not None:
        warnings.append(
            f"Your settings file could not be read ({error}), so vaultgui uses the "
            f"default settings. The damaged file was kept as {target}."
        )
    return target


def _newer_version_message(path: Path, version: int) -> str:
    return (
        f"The settings file {path} was written by a newer version of vaultgui "
        f"(settings version {version}, while this version reads up to "
        f"{CURRENT_SCHEMA_VERSION}). "
        "vaultgui reads what it can but does not change the file. Update vaultgui "
        "to change your settings."
    )


def _secret_warnings(places: list[str]) -> list[str]:
    return [
        f"Your settings file contains {place}. Settings never keep passwords or "
        "sessions, so vaultgui ignores it and removes it on the next save."
        for place in places
    ]


def _lookup(document: Document, key: str) -> tuple[bool, object]:
    section, _, name = key.rpartition(".")
    table: Any = document.get(section, {}) if section else document
    if not isinstance(table, dict) or name not in table:
        return False, None
    return True, table[name]


def _shown(key: str, value: object) -> str:
    # A proxy address could carry a password, so its value is never repeated.
    if key == "network.proxy_url":
        return "an invalid value"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _parse_layer(document: Document, source: str) -> _Layer:
    layer = _Layer()
    for key in SCALAR_KEYS:
        present, raw = _lookup(document, key)
        if not present:
            continue
        try:
            layer.values[key] = parse_value(key, raw)
        except SettingsValueError as error:
            layer.warnings.append(
                f"{source} sets {key} to {_shown(key, raw)}, which is ignored: {error}"
            )
    if "profiles" in document:
        layer.values["profiles"] = _parse_profile_list(
            document["profiles"], source, layer
        )
    if "recent_vaults" in document:
        layer.values["recent_vaults"] = _parse_recent_list(
            document["recent_vaults"], source, layer
        )
    return layer


def _parse_profile_list(
    entries: list[object], source: str, layer: _Layer
) -> tuple[Profile, ...]:
    profiles: dict[str, Profile] = {}
    for index, entry in enumerate(entries):
        try:
            profile = parse_profile(entry)
        except SettingsValueError as error:
            layer.warnings.append(f"{source}: profile {index + 1} is ignored: {error}")
            continue
        if profile.name in profiles:
            layer.warnings.append(
                f"{source}: a second profile called {profile.name} is ignored."
            )
            continue
        profiles[profile.name] = profile
    return tuple(profiles.values())


def _parse_recent_list(
    entries: list[object], source: str, layer: _Layer
) -> tuple[RecentVault, ...]:
    parsed: list[RecentVault] = []
    for index, entry in enumerate(entries):
        try:
            parsed.append(parse_recent_vault(entry))
        except SettingsValueError as error:
            layer.warnings.append(
                f"{source}: recent Vault {index + 1} is ignored: {error}"
            )
    return dedupe_recent_vaults(parsed)


def _parse_locked(value: object, warnings: list[str]) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        warnings.append(f"{_SITE_SOURCE}: locked must be a list of setting names.")
        return frozenset()
    unknown = sorted(set(value) - LOCKABLE_KEYS)
    if unknown:
        warnings.append(
            f"{_SITE_SOURCE} locks unknown settings, which is ignored: "
            f"{', '.join(unknown)}. Known settings: {', '.join(sorted(LOCKABLE_KEYS))}."
        )
    return frozenset(value) & LOCKABLE_KEYS


def _profiles_of(layer: _Layer) -> tuple[Profile, ...]:
    profiles = layer.values.get("profiles", ())
    assert isinstance(profiles, tuple)
    return profiles


def _merge(site: _Layer, user: _Layer) -> tuple[Settings, list[str]]:
    settings = Settings(locked=site.locked)
    for key in (*SCALAR_KEYS, "recent_vaults"):
        if key in user.values and key not in site.locked:
            settings = settings.with_value(key, user.values[key])
        elif key in site.values:
            settings = settings.with_value(key, site.values[key])
    settings = replace(settings, profiles=_merge_profiles(site, user))
    return _fix_cross_field(settings)


def _merge_profiles(site: _Layer, user: _Layer) -> tuple[Profile, ...]:
    site_profiles = _profiles_of(site)
    if "profiles" in site.locked:
        return site_profiles
    overrides = {profile.name: profile for profile in _profiles_of(user)}
    merged = [overrides.pop(profile.name, profile) for profile in site_profiles]
    return (*merged, *overrides.values())


def _fix_cross_field(settings: Settings) -> tuple[Settings, list[str]]:
    warnings: list[str] = []
    if settings.default_profile and settings.profile(settings.default_profile) is None:
        warnings.append(
            f"The default profile {settings.default_profile} does not exist, so no "
            "profile is the default."
        )
        settings = replace(settings, default_profile="")
    network = settings.network
    if network.proxy_mode == "manual" and not network.proxy_url:
        warnings.append(
            "The proxy mode is manual but no proxy address is set, so vaultgui uses "
            "the system proxy settings."
        )
        settings = replace(settings, network=replace(network, proxy_mode="system"))
    return settings, warnings


def _check_key_unlocked(settings: Settings, key: str) -> None:
    if key in settings.locked:
        raise SettingLockedError(
            f"The setting {key} is set by your administrator and cannot be changed."
        )


def _check_locks(baseline: Settings, settings: Settings) -> None:
    for key in baseline.locked:
        if settings.value(key) != baseline.value(key):
            _check_key_unlocked(baseline, key)


def _check_site_profiles_kept(
    settings: Settings, site_profiles: tuple[Profile, ...]
) -> None:
    names = {profile.name for profile in settings.profiles}
    for profile in site_profiles:
        if profile.name not in names:
            raise SettingLockedError(
                f"The profile {profile.name} is set by your administrator and "
                "cannot be removed."
            )


def _validate(settings: Settings) -> None:
    for key in (*SCALAR_KEYS, *LIST_KEYS):
        settings.with_value(key, settings.value(key))
    network = settings.network
    if network.proxy_mode == "manual" and not network.proxy_url:
        raise SettingsValueError(
            "Enter the address of the proxy, for example http://proxy.example.com:8080.",
            key="network.proxy_url",
        )
    if settings.default_profile and settings.profile(settings.default_profile) is None:
        raise SettingsValueError(
            f"The default profile {settings.default_profile} does not exist.",
            key="default_profile",
        )


def _updated_document(
    document: Document,
    baseline: Settings,
    settings: Settings,
    site_profiles: tuple[Profile, ...],
) -> Document:
    """Apply the changes from ``baseline`` to ``settings`` onto ``document``."""
    updated = copy.deepcopy(document)
    for key in SCALAR_KEYS:
        value = settings.value(key)
        if value != baseline.value(key):
            section, _, name = key.rpartition(".")
            table = updated.setdefault(section, {}) if section else updated
            table[name] = value
    if settings.profiles != baseline.profiles:
        _apply_profile_changes(updated, baseline, settings, site_profiles)
    if settings.recent_vaults != baseline.recent_vaults:
        updated["recent_vaults"] = _recent_tables(updated, settings.recent_vaults)
    return updated


def _apply_profile_changes(
    document: Document,
    baseline: Settings,
    settings: Settings,
    site_profiles: tuple[Profile, ...],
) -> None:
    """Rewrite only the profiles that changed, so others saved meanwhile stay.

    A profile equal to the site profile of the same name is left out of the
    user file, so later changes to the site file reach it.
    """
    before = {profile.name: profile for profile in baseline.profiles}
    after = {profile.name: profile for profile in settings.profiles}
    from_site = {profile.name: profile for profile in site_profiles}
    changed = {
        name
        for name in before.keys() | after.keys()
        if before.get(name) != after.get(name)
    }
    wanted = {
        name: after[name]
        for name in changed
        if name in after and from_site.get(name) != after[name]
    }
    tables: list[object] = []
    for table in document.get("profiles", []):
        name = _table_name(table)
        if name not in changed:
            tables.append(table)
        elif name in wanted:
            tables.append(_merged_table(table, wanted.pop(name)))
    tables += [_merged_table({}, profile) for profile in wanted.values()]
    if tables:
        document["profiles"] = tables
    else:
        document.pop("profiles", None)


def _table_name(table: object) -> str | None:
    name = table.get("name") if isinstance(table, dict) else None
    return name.strip() if isinstance(name, str) else None


def _merged_table(old: dict[str, object], profile: Profile) -> dict[str, object]:
    # Unknown keys of the saved table stay, and the known ones take the new values.
    merged = {**old, **profile_table(profile)}
    if profile.api_version is None:
        merged.pop("api_version", None)
    return merged


def _recent_tables(
    document: Document, entries: tuple[RecentVault, ...]
) -> list[dict[str, object]]:
    old: dict[tuple[str, str], dict[str, object]] = {}
    for table in document.get("recent_vaults", []):
        try:
            identity = recent_vault_identity(parse_recent_vault(table))
        except SettingsValueError:
            continue
        old.setdefault(identity, table)
    return [
        {
            **old.get(recent_vault_identity(entry), {}),
            "address": entry.address,
            "username": entry.username,
        }
        for entry in entries
    ]


def _write_document(path: Path, document: Document, disk_version: int) -> Path | None:
    """Write ``document`` atomically, after copying a file of an older version aside.

    Returns the backup path when a copy was taken.
    """
    # NOTE: tomli_w writes the parsed document, so comments and the layout of a
    # hand-edited file are lost on save. Keys and values are kept.
    rest = {key: value for key, value in document.items() if key != "schema_version"}
    ordered = {"schema_version": CURRENT_SCHEMA_VERSION, **rest}
    data = tomli_w.dumps(ordered).encode("utf-8")
    backup = None
    if disk_version < CURRENT_SCHEMA_VERSION and path.exists():
        backup = sibling_path(path, f"backup-v{disk_version}")
        try:
            shutil.copy2(path, backup)
        except OSError as error:
            raise _save_error(path, error) from error
        logger.info("Copied settings version %s to %s", disk_version, backup)
    write_atomically(path, data)
    return backup


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that readers see the old or the new bytes.

    The data goes to a temporary file in the same folder, is flushed and
    fsynced, and then renamed over ``path``. Raises :class:`SettingsError` with
    advice for the user, and ``path`` is then unchanged.
    """
    try:
        ensure_dir(path.parent)
        handle, temp_name = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp"
        )
    except OSError as error:
        raise _save_error(path, error) from error
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        _replace_with_retry(temp, path)
    except BaseException as error:
        temp.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise _save_error(path, error) from error
        raise
    _fsync_directory(path.parent)


def _replace_with_retry(source: Path, target: Path) -> None:
    for delay in (*REPLACE_RETRY_DELAYS, None):
        try:
            os.replace(source, target)
            return
        except PermissionError as error:
            if delay is None:
                raise
            logger.info("%s is in use (%s), trying again in %s s", target, error, delay)
            time.sleep(delay)


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable. Windows cannot open a folder for fsync.
    if os.name == "nt":
        return
    try:
        handle = os.open(directory, os.O_RDONLY)
    except OSError as error:
        logger.debug("Could not open %s to fsync it: %s", directory, error)
        return
    try:
        os.fsync(handle)
    except OSError as error:
        logger.debug("Could not fsync %s: %s", directory, error)
    finally:
        os.close(handle)


def _save_error(path: Path, error: OSError) -> SettingsError:
    folder = path.parent
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        advice = "the disk is full. Free some disk space, then save again."
    elif error.errno == errno.EROFS:
        advice = f"the folder {folder} is on a read-only drive. Ask IT for help."
    elif isinstance(error, PermissionError):
        advice = (
            f"you are not allowed to write in {folder}, or another program has the "
            "file open. Close programs that may use the file and save again. If it "
            "keeps failing, ask IT for write access to the folder."
        )
    else:
        advice = (
            f"{error.strerror or error}. Check that the folder {folder} exists and "
            "is writable, then save again."
        )
    logger.error("Saving settings to %s failed: %s", path, error)
    return SettingsError(f"Could not save the settings to {path}: {advice}")


def _remove_stale_temp_files(path: Path) -> None:
    cutoff = time.time() - _STALE_TEMP_SECONDS
    try:
        candidates = list(path.parent.glob(f".{path.stem}-*.tmp"))
    except OSError:
        return
    for candidate in candidates:
        try:
            if candidate.stat().st_mtime < cutoff:
                candidate.unlink()
                logger.info("Removed %s, left over from an interrupted save", candidate)
        except OSError as error:
            logger.debug("Could not remove %s: %s", candidate, error)
