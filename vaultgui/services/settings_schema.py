"""Keys, types, defaults, validators and migrations of the vaultgui settings file."""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, cast
from urllib.parse import urlsplit

from vaultgui.services.address import AddressError, parse_vault_address

CURRENT_SCHEMA_VERSION = 1
MAX_RECENT_VAULTS = 10

#: A parsed TOML document, as ``tomllib`` returns it and ``tomli_w`` writes it.
Document = dict[str, Any]

ProxyMode = Literal["system", "none", "manual"]
Appearance = Literal["system", "light", "dark"]

_API_VERSION = re.compile(r"v\d{1,3}\.\d{1,2}")
_CLIENT_ID = re.compile(r"[A-Za-z0-9._-]{1,100}")
_MAX_NAME_LENGTH = 100
_MAX_TEXT_LENGTH = 4096
# Key names that would hold a secret. Settings never store one, so a file that
# contains one (typed in by hand) loses it on the next save.
_SECRET_KEYS = frozenset(
    {"password", "session_id", "sessionid", "token", "access_token", "api_token"}
)


class SettingsError(Exception):
    """Settings could not be read, changed or saved, and the message explains why."""


class SettingsValueError(SettingsError, ValueError):
    """A setting has an invalid value.

    ``key`` is the dotted key of the value (``network.connect_timeout``,
    ``profiles.address`` for a field of a profile), so a form can show the
    message next to the matching field.
    """

    def __init__(self, message: str, *, key: str) -> None:
        super().__init__(message)
        self.key = key


class SettingLockedError(SettingsError):
    """The site settings file locks the key, so the user cannot change it."""


class SettingsNewerVersionError(SettingsError):
    """A newer vaultgui wrote the settings file, so this version never changes it."""


class SettingsStructureError(SettingsError):
    """The document parses as TOML but its tables or lists have the wrong type."""


@dataclass(frozen=True)
class Profile:
    """A saved Vault sign-in: where to sign in and as whom, never a password.

    ``api_version`` None means the global ``api_version`` setting applies.
    ``remember_password`` only records the choice, because the password lives in
    the system keychain (see ``vaultgui.services.credentials``).
    """

    name: str
    address: str
    username: str = ""
    api_version: str | None = None
    production: bool = False
    remember_password: bool = False


@dataclass(frozen=True)
class RecentVault:
    """A Vault address and user name that signed in successfully."""

    address: str
    username: str


@dataclass(frozen=True)
class NetworkSettings:
    """Timeouts in seconds, proxy choice and an extra CA bundle for HTTPS."""

    connect_timeout: float = 10.0
    read_timeout: float = 90.0
    proxy_mode: ProxyMode = "system"
    proxy_url: str = ""
    extra_ca_file: str = ""


@dataclass(frozen=True)
class Settings:
    """The effective settings after defaults, site file and user file are layered.

    ``locked`` contains the dotted keys the site file locks. Use
    :meth:`with_value` to change a key, because it validates the value.
    """

    api_version: str = "v25.2"
    client_id: str = "vaultgui-rim-client-archivecancel"
    network: NetworkSettings = field(default_factory=NetworkSettings)
    appearance: Appearance = "system"
    profiles: tuple[Profile, ...] = ()
    default_profile: str = ""
    recent_vaults: tuple[RecentVault, ...] = ()
    locked: frozenset[str] = frozenset()

    def value(self, key: str) -> object:
        """Return the value of a dotted key such as ``network.read_timeout``."""
        if key in LIST_KEYS:
            return getattr(self, key)
        _spec(key)
        section, _, name = key.rpartition(".")
        holder: object = self.network if section == "network" else self
        return getattr(holder, name)

    def with_value(self, key: str, value: object) -> Settings:
        """Return a copy with ``key`` set to ``value`` after validating it.

        Raises :class:`SettingsValueError` for an invalid value. Locks are
        checked when the settings are saved, not here.
        """
        if key == "profiles":
            return replace(self, profiles=parse_profiles(value))
        if key == "recent_vaults":
            return replace(self, recent_vaults=parse_recent_vaults(value))
        section, _, name = key.rpartition(".")
        # Any: each key's parser returns the type of its field.
        change: dict[str, Any] = {name: _spec(key).parse(value)}
        if section == "network":
            return replace(self, network=replace(self.network, **change))
        return replace(self, **change)

    def profile(self, name: str) -> Profile | None:
        """Return the profile called ``name``, or None."""
        return next((p for p in self.profiles if p.name == name), None)


@dataclass(frozen=True)
class _KeySpec:
    key: str
    parse: Callable[[object], object]


def _text(value: object, key: str, label: str) -> str:
    if not isinstance(value, str):
        raise SettingsValueError(f"The {label} must be text.", key=key)
    if len(value) > _MAX_TEXT_LENGTH or "\x00" in value:
        raise SettingsValueError(f"The {label} is not valid text.", key=key)
    return value


def parse_api_version(value: object, key: str = "api_version") -> str:
    """Validate a Vault API version such as ``v25.2``."""
    text = _text(value, key, "Vault API version").strip()
    if not _API_VERSION.fullmatch(text):
        raise SettingsValueError(
            "The Vault API version must look like v25.2 (a v, the major and the "
            "minor number).",
            key=key,
        )
    return text


def _parse_client_id(value: object) -> str:
    text = _text(value, "client_id", "client ID").strip()
    if not _CLIENT_ID.fullmatch(text):
        raise SettingsValueError(
            "The client ID may contain only letters, digits, dots, underscores and "
            "hyphens, from 1 to 100 characters.",
            key="client_id",
        )
    return text


def _seconds_parser(
    key: str, label: str, low: float, high: float
) -> Callable[[object], object]:
    def parse(value: object) -> float:
        valid = isinstance(value, int | float) and not isinstance(value, bool)
        if not valid or not math.isfinite(cast(float, value)):
            raise SettingsValueError(
                f"The {label} must be a number of seconds from {low:g} to {high:g}.",
                key=key,
            )
        seconds = float(cast(float, value))
        if not low <= seconds <= high:
            raise SettingsValueError(
                f"The {label} must be from {low:g} to {high:g} seconds.", key=key
            )
        return seconds

    return parse


def _choice_parser(
    key: str, label: str, choices: tuple[str, ...]
) -> Callable[[object], object]:
    def parse(value: object) -> str:
        if value not in choices:
            listed = ", ".join(f'"{choice}"' for choice in choices)
            raise SettingsValueError(f"The {label} must be one of {listed}.", key=key)
        return value

    return parse


def _parse_proxy_url(value: object) -> str:
    key = "network.proxy_url"
    text = _text(value, key, "proxy address").strip()
    if not text:
        return ""
    message = (
        "The proxy address must look like http://proxy.example.com:8080 "
        "(http or https, a host and a port, nothing else)."
    )
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise SettingsValueError(message, key=key) from None
    if "@" in parts.netloc:
        raise SettingsValueError(
            "The proxy address cannot contain a user name or password.", key=key
        )
    well_formed = (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and port is not None
        and parts.path in ("", "/")
        and not parts.query
        and not parts.fragment
    )
    if not well_formed:
        raise SettingsValueError(message, key=key)
    return text.rstrip("/")


def _parse_extra_ca_file(value: object) -> str:
    key = "network.extra_ca_file"
    text = _text(value, key, "CA certificate file").strip()
    if text and not Path(text).expanduser().is_absolute():
        raise SettingsValueError(
            "The CA certificate file must be a full path, for example "
            "/etc/ssl/company-ca.pem or C:\\certs\\company-ca.pem.",
            key=key,
        )
    return text


def _parse_default_profile(value: object) -> str:
    text = _text(value, "default_profile", "default profile").strip()
    if len(text) > _MAX_NAME_LENGTH:
        raise SettingsValueError(
            "The default profile name is too long.", key="default_profile"
        )
    return text


_SPECS = {
    spec.key: spec
    for spec in (
        _KeySpec("api_version", parse_api_version),
        _KeySpec("client_id", _parse_client_id),
        _KeySpec(
            "network.connect_timeout",
            _seconds_parser("network.connect_timeout", "connect timeout", 1, 120),
        ),
        _KeySpec(
            "network.read_timeout",
            _seconds_parser("network.read_timeout", "read timeout", 5, 600),
        ),
        _KeySpec(
            "network.proxy_mode",
            _choice_parser(
                "network.proxy_mode", "proxy mode", ("system", "none", "manual")
            ),
        ),
        _KeySpec("network.proxy_url", _parse_proxy_url),
        _KeySpec("network.extra_ca_file", _parse_extra_ca_file),
        _KeySpec(
            "appearance",
            _choice_parser("appearance", "appearance", ("system", "light", "dark")),
        ),
        _KeySpec("default_profile", _parse_default_profile),
    )
}

#: Dotted keys with a single value, in file order.
SCALAR_KEYS: tuple[str, ...] = tuple(_SPECS)
#: Keys whose value is a list of tables.
LIST_KEYS: tuple[str, ...] = ("profiles", "recent_vaults")
#: Keys a site file may list under ``locked``.
LOCKABLE_KEYS = frozenset(SCALAR_KEYS) | frozenset(LIST_KEYS)


def _spec(key: str) -> _KeySpec:
    try:
        return _SPECS[key]
    except KeyError:
        raise KeyError(f"{key} is not a vaultgui setting") from None


def parse_value(key: str, value: object) -> object:
    """Validate ``value`` for a scalar ``key`` and return it in its stored type.

    Raises :class:`SettingsValueError` with a sentence for the user, and
    ``KeyError`` for an unknown key.
    """
    return _spec(key).parse(value)


def parse_address(value: object, key: str) -> str:
    """Validate a Vault address and return its canonical ``scheme://host[:port]``."""
    text = _text(value, key, "Vault address")
    try:
        return parse_vault_address(text).base_url
    except AddressError as error:
        raise SettingsValueError(str(error), key=key) from None


def _parse_bool(table: Mapping[str, object], name: str, label: str) -> bool:
    value = table.get(name, False)
    if not isinstance(value, bool):
        raise SettingsValueError(
            f"The {label} flag must be true or false.", key=f"profiles.{name}"
        )
    return value


def parse_profile(table: object) -> Profile:
    """Validate one ``[[profiles]]`` table and return it as a :class:`Profile`."""
    if not isinstance(table, Mapping):
        raise SettingsValueError("A profile must be a table.", key="profiles")
    name = _text(table.get("name", ""), "profiles.name", "profile name").strip()
    if not name or len(name) > _MAX_NAME_LENGTH or not name.isprintable():
        raise SettingsValueError(
            "Enter a profile name of 1 to 100 characters.", key="profiles.name"
        )
    address = parse_address(table.get("address", ""), "profiles.address")
    username = _text(table.get("username", ""), "profiles.username", "user name")
    api_version = table.get("api_version")
    if api_version is not None and not str(api_version).strip():
        api_version = None
    return Profile(
        name=name,
        address=address,
        username=username.strip(),
        api_version=(
            None
            if api_version is None
            else parse_api_version(api_version, "profiles.api_version")
        ),
        production=_parse_bool(table, "production", "production"),
        remember_password=_parse_bool(table, "remember_password", "remember password"),
    )


def make_profile(
    name: str,
    address: str,
    username: str = "",
    *,
    api_version: str | None = None,
    production: bool = False,
    remember_password: bool = False,
) -> Profile:
    """Build a validated :class:`Profile` or raise :class:`SettingsValueError`."""
    return parse_profile(
        {
            "name": name,
            "address": address,
            "username": username,
            "api_version": api_version,
            "production": production,
            "remember_password": remember_password,
        }
    )


def profile_table(profile: Profile) -> dict[str, object]:
    """Return the ``[[profiles]]`` table of a profile, leaving out None values."""
    table: dict[str, object] = {
        "name": profile.name,
        "address": profile.address,
        "username": profile.username,
    }
    if profile.api_version is not None:
        table["api_version"] = profile.api_version
    table["production"] = profile.production
    table["remember_password"] = profile.remember_password
    return table


def parse_recent_vault(table: object) -> RecentVault:
    """Validate one ``[[recent_vaults]]`` table."""
    if not isinstance(table, Mapping):
        raise SettingsValueError("A recent Vault must be a table.", key="recent_vaults")
    address = parse_address(table.get("address", ""), "recent_vaults.address")
    username = _text(table.get("username", ""), "recent_vaults.username", "user name")
    return RecentVault(address=address, username=username.strip())


def parse_profiles(value: object) -> tuple[Profile, ...]:
    """Validate a whole profile list, whose names must be unique."""
    if not isinstance(value, list | tuple):
        raise SettingsValueError("The profiles must be a list.", key="profiles")
    profiles = tuple(
        parse_profile(profile_table(item) if isinstance(item, Profile) else item)
        for item in value
    )
    names = [profile.name for profile in profiles]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise SettingsValueError(
            f"Two profiles are called {duplicates[0]}. Give each a different name.",
            key="profiles.name",
        )
    return profiles


def parse_recent_vaults(value: object) -> tuple[RecentVault, ...]:
    """Validate a recent-Vault list, newest first, and drop repeats and extras."""
    if not isinstance(value, list | tuple):
        raise SettingsValueError(
            "The recent Vaults must be a list.", key="recent_vaults"
        )
    parsed = [
        parse_recent_vault(
            {"address": item.address, "username": item.username}
            if isinstance(item, RecentVault)
            else item
        )
        for item in value
    ]
    return dedupe_recent_vaults(parsed)


def recent_vault_identity(entry: RecentVault) -> tuple[str, str]:
    """Return the identity of a recent Vault, with the user name case-folded."""
    return entry.address, entry.username.casefold()


def dedupe_recent_vaults(entries: list[RecentVault]) -> tuple[RecentVault, ...]:
    """Keep the first of each address and user name, at most ``MAX_RECENT_VAULTS``."""
    seen: set[tuple[str, str]] = set()
    kept: list[RecentVault] = []
    for entry in entries:
        identity = recent_vault_identity(entry)
        if identity not in seen:
            seen.add(identity)
            kept.append(entry)
    return tuple(kept[:MAX_RECENT_VAULTS])


def check_structure(document: Document) -> None:
    """Raise :class:`SettingsStructureError` when tables or lists have the wrong type.

    A wrong scalar (``network.read_timeout = "slow"``) is not a structure error:
    that one value falls back on its own.
    """
    version = document.get("schema_version", 0)
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise SettingsStructureError("schema_version must be a whole number.")
    if not isinstance(document.get("network", {}), dict):
        raise SettingsStructureError("network must be a table.")
    for key in (*LIST_KEYS, "locked"):
        if not isinstance(document.get(key, []), list):
            raise SettingsStructureError(f"{key} must be a list.")


def document_version(document: Document) -> int:
    """Return the schema version of a checked document.

    A document without ``schema_version`` is version 0, except an empty one,
    which is the current version because it sets nothing.
    """
    if "schema_version" in document:
        return cast(int, document["schema_version"])
    return 0 if document else CURRENT_SCHEMA_VERSION


def _migrate_0_to_1(document: Document) -> Document:
    # Version 0 files may keep the network keys at the top level, and version 1
    # keeps them in [network]. A key already in [network] wins.
    network = dict(document.get("network", {}))
    for name in (
        "connect_timeout",
        "read_timeout",
        "proxy_mode",
        "proxy_url",
        "extra_ca_file",
    ):
        if name in document:
            value = document.pop(name)
            network.setdefault(name, value)
    if network:
        document["network"] = network
    return document


#: Migration from each old version to the next one.
MIGRATIONS: dict[int, Callable[[Document], Document]] = {0: _migrate_0_to_1}


def migrate(document: Document) -> Document:
    """Return a copy of an older document upgraded to the current version."""
    version = document_version(document)
    migrated = copy.deepcopy(document)
    while version < CURRENT_SCHEMA_VERSION:
        migrated = MIGRATIONS[version](migrated)
        version += 1
        migrated["schema_version"] = version
    return migrated


def strip_secrets(document: Document) -> list[str]:
    """Remove keys that would hold a secret and return where they were."""
    found: list[str] = []
    tables: list[tuple[str, object]] = [("", document)]
    tables.append(("network.", document.get("network")))
    for key in LIST_KEYS:
        entries = document.get(key)
        if isinstance(entries, list):
            tables += [(f"{key}[{i}].", entry) for i, entry in enumerate(entries)]
    for prefix, table in tables:
        if not isinstance(table, dict):
            continue
        for name in [name for name in table if name.casefold() in _SECRET_KEYS]:
            del table[name]
            found.append(prefix + name)
    return found
