"""Tests for the settings store: layering, locks, damaged files and safe saves."""

from __future__ import annotations

import errno
import os
import time
import tomllib
from pathlib import Path

import pytest

from vaultgui.services import settings as settings_module
from vaultgui.services.paths import AppPaths
from vaultgui.services.settings import (
    LoadReport,
    Profile,
    RecentVault,
    SettingLockedError,
    Settings,
    SettingsError,
    SettingsNewerVersionError,
    SettingsStore,
    SettingsValueError,
    make_profile,
)
from vaultgui.services.settings_schema import MAX_RECENT_VAULTS, parse_value


def write_user(paths: AppPaths, text: str | bytes) -> Path:
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8") if isinstance(text, str) else text
    paths.settings_file.write_bytes(data)
    return paths.settings_file


def write_site(paths: AppPaths, text: str) -> Path:
    paths.site_config_dir.mkdir(parents=True, exist_ok=True)
    path = paths.site_config_dir / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load(paths: AppPaths) -> tuple[Settings, LoadReport]:
    return SettingsStore(paths).load()


def user_document(paths: AppPaths) -> dict[str, object]:
    return tomllib.loads(paths.settings_file.read_text(encoding="utf-8"))


def leftover_files(paths: AppPaths) -> list[str]:
    return sorted(p.name for p in paths.config_dir.iterdir() if p.name.endswith(".tmp"))


SITE_WITH_LOCK = """
locked = ["network.proxy_mode", "api_version"]
appearance = "dark"
[network]
proxy_mode = "none"
read_timeout = 120
"""

# Defaults and layering


def test_defaults_without_files(paths: AppPaths) -> None:
    settings, _report = load(paths)
    assert settings == Settings()


def test_defaults_report_nothing(paths: AppPaths) -> None:
    _settings, report = load(paths)
    assert report == LoadReport()


def test_load_writes_no_file(paths: AppPaths) -> None:
    load(paths)
    assert not paths.settings_file.exists()


def test_default_values() -> None:
    settings = Settings()
    assert settings.api_version == "v25.2"
    assert settings.client_id == "vaultgui-rim-client-archivecancel"
    assert settings.network.connect_timeout == 10.0
    assert settings.network.read_timeout == 90.0
    assert settings.network.proxy_mode == "system"
    assert settings.appearance == "system"


def test_site_value_over_default(paths: AppPaths) -> None:
    write_site(paths, SITE_WITH_LOCK)
    settings, _report = load(paths)
    assert settings.network.read_timeout == 120.0


def test_user_value_over_site(paths: AppPaths) -> None:
    write_site(paths, SITE_WITH_LOCK)
    write_user(paths, "schema_version = 1\n[network]\nread_timeout = 300\n")
    settings, _report = load(paths)
    assert settings.network.read_timeout == 300.0


def test_locked_key_takes_site_value(paths: AppPaths) -> None:
    write_site(paths, SITE_WITH_LOCK)
    write_user(paths, 'schema_version = 1\n[network]\nproxy_mode = "system"\n')
    settings, _report = load(paths)
    assert settings.network.proxy_mode == "none"


def test_locked_keys_listed(paths: AppPaths) -> None:
    write_site(paths, SITE_WITH_LOCK)
    settings, _report = load(paths)
    assert settings.locked == frozenset({"network.proxy_mode", "api_version"})


def test_locked_without_site_value_keeps_default(paths: AppPaths) -> None:
    write_site(paths, SITE_WITH_LOCK)
    write_user(paths, 'schema_version = 1\napi_version = "v24.1"\n')
    settings, _report = load(paths)
    assert settings.api_version == "v25.2"


def test_set_locked_key_raises(paths: AppPaths) -> None:
    write_site(paths, SITE_WITH_LOCK)
    store = SettingsStore(paths)
    store.load()
    with pytest.raises(SettingLockedError, match="set by your administrator"):
        store.set_value("network.proxy_mode", "system")


def test_save_with_locked_change_raises(paths: AppPaths) -> None:
    write_site(paths, SITE_WITH_LOCK)
    store = SettingsStore(paths)
    settings, _report = store.load()
    changed = settings.with_value("api_version", "v24.1")
    with pytest.raises(SettingLockedError, match="set by your administrator"):
        store.save(changed)


def test_locked_save_writes_nothing(paths: AppPaths) -> None:
    write_site(paths, SITE_WITH_LOCK)
    store = SettingsStore(paths)
    settings, _report = store.load()
    with pytest.raises(SettingLockedError):
        store.save(settings.with_value("api_version", "v24.1"))
    assert not paths.settings_file.exists()


def test_locked_user_value_kept_in_file(paths: AppPaths) -> None:
    write_site(paths, SITE_WITH_LOCK)
    write_user(paths, 'schema_version = 1\n[network]\nproxy_mode = "manual"\n')
    SettingsStore(paths).set_value("appearance", "light")
    network = user_document(paths)["network"]
    assert network == {"proxy_mode": "manual"}


def test_unknown_lock_name_warns(paths: AppPaths) -> None:
    write_site(paths, 'locked = ["vault.address"]\n')
    _settings, report = load(paths)
    assert any("vault.address" in warning for warning in report.warnings)


def test_damaged_site_file_ignored(paths: AppPaths) -> None:
    site_file = write_site(paths, 'appearance = "dark\n')
    settings, report = load(paths)
    assert settings.appearance == "system"
    assert site_file.exists()
    assert any(str(site_file) in warning for warning in report.warnings)


# Profiles from the site and the user file

SITE_PROFILE = """
[[profiles]]
name = "Production"
address = "acme-rim.veevavault.com"
production = true
"""


def test_site_profile_listed(paths: AppPaths) -> None:
    write_site(paths, SITE_PROFILE)
    settings, _report = load(paths)
    assert settings.profiles == (
        Profile("Production", "https://acme-rim.veevavault.com", production=True),
    )


def test_user_profile_overrides_site(paths: AppPaths) -> None:
    write_site(paths, SITE_PROFILE)
    write_user(
        paths,
        'schema_version = 1\n[[profiles]]\nname = "Production"\n'
        'address = "acme-rim.veevavault.com"\nusername = "ann@acme.com"\n',
    )
    settings, _report = load(paths)
    assert settings.profiles[0].username == "ann@acme.com"


def test_user_profile_follows_site(paths: AppPaths) -> None:
    write_site(paths, SITE_PROFILE)
    store = SettingsStore(paths)
    store.load()
    settings = store.upsert_profile(make_profile("Sandbox", "acme-sbx.veevavault.com"))
    assert [p.name for p in settings.profiles] == ["Production", "Sandbox"]


def test_site_profile_not_copied_to_user_file(paths: AppPaths) -> None:
    write_site(paths, SITE_PROFILE)
    SettingsStore(paths).upsert_profile(make_profile("Sandbox", "sbx.veevavault.com"))
    names = [table["name"] for table in user_document(paths)["profiles"]]  # type: ignore[attr-defined]
    assert names == ["Sandbox"]


def test_remove_site_profile_raises(paths: AppPaths) -> None:
    write_site(paths, SITE_PROFILE)
    store = SettingsStore(paths)
    with pytest.raises(SettingLockedError, match="set by your administrator"):
        store.remove_profile("Production")


def test_locked_profiles_ignore_user_file(paths: AppPaths) -> None:
    write_site(paths, 'locked = ["profiles"]\n' + SITE_PROFILE)
    write_user(
        paths,
        'schema_version = 1\n[[profiles]]\nname = "Mine"\n'
        'address = "mine.veevavault.com"\n',
    )
    settings, _report = load(paths)
    assert [p.name for p in settings.profiles] == ["Production"]


def test_locked_profiles_upsert_raises(paths: AppPaths) -> None:
    write_site(paths, 'locked = ["profiles"]\n' + SITE_PROFILE)
    store = SettingsStore(paths)
    with pytest.raises(SettingLockedError, match="set by your administrator"):
        store.upsert_profile(make_profile("Mine", "mine.veevavault.com"))


def test_upsert_profile_adds(paths: AppPaths) -> None:
    store = SettingsStore(paths)
    store.upsert_profile(make_profile("Prod", "acme.veevavault.com", "ann@acme.com"))
    settings, _report = load(paths)
    assert settings.profiles == (
        Profile("Prod", "https://acme.veevavault.com", "ann@acme.com"),
    )


def test_upsert_profile_replaces_in_place(paths: AppPaths) -> None:
    store = SettingsStore(paths)
    store.upsert_profile(make_profile("A", "a.veevavault.com"))
    store.upsert_profile(make_profile("B", "b.veevavault.com"))
    store.upsert_profile(make_profile("A", "a2.veevavault.com", production=True))
    settings, _report = load(paths)
    assert [(p.name, p.address) for p in settings.profiles] == [
        ("A", "https://a2.veevavault.com"),
        ("B", "https://b.veevavault.com"),
    ]


def test_upsert_invalid_address_raises(paths: AppPaths) -> None:
    store = SettingsStore(paths)
    bad = Profile("Prod", "http://acme.veevavault.com")
    with pytest.raises(SettingsValueError) as caught:
        store.upsert_profile(bad)
    assert caught.value.key == "profiles.address"


def test_make_profile_empty_name_raises() -> None:
    with pytest.raises(SettingsValueError) as caught:
        make_profile(" ", "acme.veevavault.com")
    assert caught.value.key == "profiles.name"


def test_profile_api_version_kept(paths: AppPaths) -> None:
    store = SettingsStore(paths)
    store.upsert_profile(make_profile("A", "a.veevavault.com", api_version="v24.3"))
    settings, _report = load(paths)
    assert settings.profiles[0].api_version == "v24.3"


def test_remove_profile_clears_default(paths: AppPaths) -> None:
    store = SettingsStore(paths)
    store.upsert_profile(make_profile("A", "a.veevavault.com"))
    store.set_value("default_profile", "A")
    store.remove_profile("A")
    settings, _report = load(paths)
    assert settings.profiles == ()
    assert settings.default_profile == ""


def test_default_profile_must_exist(paths: AppPaths) -> None:
    store = SettingsStore(paths)
    with pytest.raises(SettingsValueError, match="does not exist"):
        store.set_value("default_profile", "Nowhere")


def test_missing_default_profile_warns(paths: AppPaths) -> None:
    write_user(paths, 'schema_version = 1\ndefault_profile = "Gone"\n')
    settings, report = load(paths)
    assert settings.default_profile == ""
    assert any("Gone" in warning for warning in report.warnings)


def test_duplicate_profile_name_warns(paths: AppPaths) -> None:
    write_user(
        paths,
        "schema_version = 1\n"
        '[[profiles]]\nname = "A"\naddress = "a.veevavault.com"\n'
        '[[profiles]]\nname = "A"\naddress = "b.veevavault.com"\n',
    )
    settings, report = load(paths)
    assert [p.address for p in settings.profiles] == ["https://a.veevavault.com"]
    assert len(report.warnings) == 1


def test_invalid_profile_dropped_alone(paths: AppPaths) -> None:
    write_user(
        paths,
        "schema_version = 1\n"
        '[[profiles]]\nname = "Bad"\naddress = "http://a.veevavault.com"\n'
        '[[profiles]]\nname = "Good"\naddress = "b.veevavault.com"\n',
    )
    settings, report = load(paths)
    assert [p.name for p in settings.profiles] == ["Good"]
    assert len(report.warnings) == 1


def test_invalid_profile_survives_save(paths: AppPaths) -> None:
    write_user(
        paths,
        "schema_version = 1\n"
        '[[profiles]]\nname = "Bad"\naddress = "http://a.veevavault.com"\n',
    )
    SettingsStore(paths).upsert_profile(make_profile("Good", "b.veevavault.com"))
    names = [table["name"] for table in user_document(paths)["profiles"]]  # type: ignore[attr-defined]
    assert names == ["Bad", "Good"]


# Damaged user files


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b'api_version = "v2', id="truncated"),
        pytest.param(b"[network\nread_timeout = 5", id="truncated-table"),
        pytest.param(b"\x00\xff\xfe\x89PNG\r\n\x1a\n\x00\x00", id="binary"),
        pytest.param(b"= 3\n", id="invalid"),
        pytest.param(b"profiles = 3\n", id="profiles-number"),
        pytest.param(b'network = "fast"\n', id="network-text"),
        pytest.param(b'recent_vaults = "x"\n', id="recent-text"),
        pytest.param(b'schema_version = "one"\n', id="version-text"),
        pytest.param(b"schema_version = -1\n", id="version-negative"),
    ],
)
def test_damaged_file_recovered(paths: AppPaths, content: bytes) -> None:
    write_user(paths, content)
    settings, report = load(paths)
    assert settings == Settings()
    assert report.recovered_from is not None
    assert report.recovered_from.read_bytes() == content
    assert report.recovered_from.name.startswith("settings.corrupt-")
    assert not paths.settings_file.exists()
    assert len(report.warnings) == 1


def test_damaged_file_reported_once(paths: AppPaths) -> None:
    write_user(paths, b"profiles = 3\n")
    store = SettingsStore(paths)
    store.load()
    _settings, report = store.load()
    assert report.recovered_from is None


def test_damaged_file_then_save(paths: AppPaths) -> None:
    write_user(paths, b"\x00\x01")
    SettingsStore(paths).set_value("appearance", "dark")
    settings, report = load(paths)
    assert settings.appearance == "dark"
    assert report.recovered_from is None


def test_two_damaged_files_both_kept(paths: AppPaths) -> None:
    write_user(paths, b"= 1")
    load(paths)
    write_user(paths, b"= 2")
    load(paths)
    kept = sorted(p.read_bytes() for p in paths.config_dir.glob("settings.corrupt-*"))
    assert kept == [b"= 1", b"= 2"]


@pytest.mark.parametrize(
    "content",
    [b"", b"\n\n", b"# nothing set yet\n"],
    ids=["empty", "blank", "comment"],
)
def test_empty_file_means_defaults(paths: AppPaths, content: bytes) -> None:
    write_user(paths, content)
    settings, report = load(paths)
    assert settings == Settings()
    assert report == LoadReport()
    assert paths.settings_file.read_bytes() == content


def test_byte_order_mark_accepted(paths: AppPaths) -> None:
    write_user(paths, b'\xef\xbb\xbfschema_version = 1\nappearance = "dark"\n')
    settings, report = load(paths)
    assert settings.appearance == "dark"
    assert report.recovered_from is None


WRONG_VALUES = [
    ("api_version = 25.2", "api_version"),
    ('api_version = "25.2"', "api_version"),
    ('client_id = "has spaces"', "client_id"),
    ('client_id = "' + "x" * 101 + '"', "client_id"),
    ('appearance = "blue"', "appearance"),
    ("appearance = true", "appearance"),
    ("default_profile = 3", "default_profile"),
    ('[network]\nconnect_timeout = "10"', "network.connect_timeout"),
    ("[network]\nconnect_timeout = 0.5", "network.connect_timeout"),
    ("[network]\nconnect_timeout = true", "network.connect_timeout"),
    ("[network]\nconnect_timeout = nan", "network.connect_timeout"),
    ("[network]\nread_timeout = 601", "network.read_timeout"),
    ("[network]\nread_timeout = [90]", "network.read_timeout"),
    ('[network]\nproxy_mode = "auto"', "network.proxy_mode"),
    ('[network]\nproxy_url = "ftp://proxy:21"', "network.proxy_url"),
    ('[network]\nproxy_url = "http://proxy"', "network.proxy_url"),
    ('[network]\nextra_ca_file = "relative/ca.pem"', "network.extra_ca_file"),
    ("[network]\nextra_ca_file = 1", "network.extra_ca_file"),
]


@pytest.mark.parametrize(("line", "key"), WRONG_VALUES)
def test_wrong_value_falls_back_alone(paths: AppPaths, line: str, key: str) -> None:
    # The file also sets appearance, to check that the rest of the file is kept.
    other = 'appearance = "dark"\n' if not line.startswith("appearance") else ""
    write_user(paths, f"schema_version = 1\n{other}{line}\n")
    settings, report = load(paths)
    assert settings.value(key) == Settings().value(key)
    assert report.recovered_from is None
    assert len(report.warnings) == 1
    assert key in report.warnings[0]
    if other:
        assert settings.appearance == "dark"


def test_wrong_value_survives_save(paths: AppPaths) -> None:
    write_user(paths, 'schema_version = 1\n[network]\nread_timeout = "slow"\n')
    SettingsStore(paths).set_value("network.connect_timeout", 20)
    network = user_document(paths)["network"]
    assert network == {"read_timeout": "slow", "connect_timeout": 20.0}


def test_proxy_password_not_echoed(paths: AppPaths) -> None:
    write_user(
        paths, 'schema_version = 1\n[network]\nproxy_url = "http://u:hunter2@p:8080"\n'
    )
    _settings, report = load(paths)
    assert len(report.warnings) == 1
    assert "hunter2" not in report.warnings[0]


def test_manual_proxy_without_address(paths: AppPaths) -> None:
    write_user(paths, 'schema_version = 1\n[network]\nproxy_mode = "manual"\n')
    settings, report = load(paths)
    assert settings.network.proxy_mode == "system"
    assert len(report.warnings) == 1


def test_save_manual_proxy_needs_address(paths: AppPaths) -> None:
    store = SettingsStore(paths)
    settings = store.settings.with_value("network.proxy_mode", "manual")
    with pytest.raises(SettingsValueError) as caught:
        store.save(settings)
    assert caught.value.key == "network.proxy_url"


# Newer schema


NEWER = 'schema_version = 7\nappearance = "dark"\nfuture_key = "kept"\n'


def test_newer_file_read(paths: AppPaths) -> None:
    write_user(paths, NEWER)
    settings, report = load(paths)
    assert settings.appearance == "dark"
    assert any("newer version" in warning for warning in report.warnings)


def test_newer_file_save_raises(paths: AppPaths) -> None:
    write_user(paths, NEWER)
    store = SettingsStore(paths)
    with pytest.raises(SettingsNewerVersionError, match="Update vaultgui"):
        store.set_value("appearance", "light")


def test_newer_file_never_overwritten(paths: AppPaths) -> None:
    write_user(paths, NEWER)
    store = SettingsStore(paths)
    with pytest.raises(SettingsNewerVersionError):
        store.remember_vault("acme.veevavault.com", "ann")
    assert paths.settings_file.read_text(encoding="utf-8") == NEWER


def test_newer_file_written_meanwhile(paths: AppPaths) -> None:
    store = SettingsStore(paths)
    store.load()
    write_user(paths, NEWER)
    with pytest.raises(SettingsNewerVersionError):
        store.set_value("appearance", "light")
    assert paths.settings_file.read_text(encoding="utf-8") == NEWER


# Migration

VERSION_0 = 'connect_timeout = 30\nappearance = "dark"\nlegacy_note = "kept"\n'


def test_migration_reads_old_layout(paths: AppPaths) -> None:
    write_user(paths, VERSION_0)
    settings, _report = load(paths)
    assert settings.network.connect_timeout == 30.0
    assert settings.appearance == "dark"


def test_migration_backup_has_old_bytes(paths: AppPaths) -> None:
    write_user(paths, VERSION_0)
    _settings, report = load(paths)
    assert report.migration_backup is not None
    assert report.migration_backup.name.startswith("settings.backup-v0-")
    assert report.migration_backup.read_text(encoding="utf-8") == VERSION_0


def test_migration_rewrites_file(paths: AppPaths) -> None:
    write_user(paths, VERSION_0)
    load(paths)
    assert user_document(paths) == {
        "schema_version": 1,
        "appearance": "dark",
        "legacy_note": "kept",
        "network": {"connect_timeout": 30},
    }


def test_migration_runs_once(paths: AppPaths) -> None:
    write_user(paths, VERSION_0)
    load(paths)
    _settings, report = load(paths)
    assert report.migration_backup is None
    assert len(list(paths.config_dir.glob("settings.backup-*"))) == 1


def test_migration_write_failure_keeps_file(
    paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_user(paths, VERSION_0)
    monkeypatch.setattr(os, "fsync", _raise_disk_full)
    settings, report = load(paths)
    assert settings.network.connect_timeout == 30.0
    assert paths.settings_file.read_text(encoding="utf-8") == VERSION_0
    assert any("disk is full" in warning for warning in report.warnings)


# Unknown keys and values this version ignores

WITH_UNKNOWN = """schema_version = 1
top_unknown = "a"
appearance = "dark"

[network]
read_timeout = 30
network_unknown = [1, 2]

[[profiles]]
name = "A"
address = "a.veevavault.com"
profile_unknown = { nested = true }

[plugin]
option = 1
"""


def test_unknown_keys_survive_save(paths: AppPaths) -> None:
    write_user(paths, WITH_UNKNOWN)
    before = user_document(paths)
    store = SettingsStore(paths)
    store.set_value("network.connect_timeout", 25)
    store.upsert_profile(make_profile("A", "a2.veevavault.com"))
    after = user_document(paths)
    assert after["top_unknown"] == before["top_unknown"]
    assert after["plugin"] == before["plugin"]
    assert after["network"]["network_unknown"] == [1, 2]  # type: ignore[index]
    assert after["profiles"][0]["profile_unknown"] == {"nested": True}  # type: ignore[index]


def test_unchanged_save_keeps_document(paths: AppPaths) -> None:
    write_user(paths, WITH_UNKNOWN)
    before = user_document(paths)
    store = SettingsStore(paths)
    settings, _report = store.load()
    store.save(settings)
    assert user_document(paths) == before


def test_saves_from_two_stores_merge(paths: AppPaths) -> None:
    first = SettingsStore(paths)
    second = SettingsStore(paths)
    first.load()
    second.load()
    first.set_value("network.connect_timeout", 25)
    second.set_value("appearance", "light")
    settings, _report = load(paths)
    assert settings.network.connect_timeout == 25.0
    assert settings.appearance == "light"


def test_profiles_from_two_stores_merge(paths: AppPaths) -> None:
    first = SettingsStore(paths)
    second = SettingsStore(paths)
    first.load()
    second.load()
    first.upsert_profile(make_profile("A", "a.veevavault.com"))
    second.upsert_profile(make_profile("B", "b.veevavault.com"))
    settings, _report = load(paths)
    assert [p.name for p in settings.profiles] == ["A", "B"]


def test_password_key_removed(paths: AppPaths) -> None:
    write_user(
        paths,
        'schema_version = 1\n[[profiles]]\nname = "A"\naddress = "a.veevavault.com"\n'
        'password = "hunter2"\n',
    )
    store = SettingsStore(paths)
    _settings, report = store.load()
    store.set_value("appearance", "dark")
    assert "hunter2" not in paths.settings_file.read_text(encoding="utf-8")
    assert any("profiles[0].password" in warning for warning in report.warnings)


def test_profile_has_no_password_field() -> None:
    assert not any(name == "password" for name in Profile.__dataclass_fields__)


# Recent Vaults


def test_remember_vault_newest_first(paths: AppPaths) -> None:
    store = SettingsStore(paths)
    store.remember_vault("a.veevavault.com", "ann")
    store.remember_vault("b.veevavault.com", "bob")
    settings, _report = load(paths)
    assert settings.recent_vaults == (
        RecentVault("https://b.veevavault.com", "bob"),
        RecentVault("https://a.veevavault.com", "ann"),
    )


def test_remember_vault_dedupes(paths: AppPaths) -> None:
    store = SettingsStore(paths)
    store.remember_vault("a.veevavault.com", "Ann")
    store.remember_vault("b.veevavault.com", "bob")
    store.remember_vault("https://A.veevavault.com/", "ann")
    settings, _report = load(paths)
    assert settings.recent_vaults == (
        RecentVault("https://a.veevavault.com", "ann"),
        RecentVault("https://b.veevavault.com", "bob"),
    )


def test_remember_vault_caps_list(paths: AppPaths) -> None:
    store = SettingsStore(paths)
    for number in range(MAX_RECENT_VAULTS + 3):
        store.remember_vault(f"v{number}.veevavault.com", "ann")
    settings, _report = load(paths)
    assert len(settings.recent_vaults) == MAX_RECENT_VAULTS
    assert settings.recent_vaults[0].address == "https://v12.veevavault.com"


def test_recent_vaults_deduped_on_load(paths: AppPaths) -> None:
    entries = "".join(
        f'[[recent_vaults]]\naddress = "{address}"\nusername = "ann"\n'
        for address in (
            "a.veevavault.com",
            "https://a.veevavault.com",
            "b.veevavault.com",
        )
    )
    write_user(paths, "schema_version = 1\n" + entries)
    settings, _report = load(paths)
    assert [r.address for r in settings.recent_vaults] == [
        "https://a.veevavault.com",
        "https://b.veevavault.com",
    ]


def test_remember_invalid_vault_raises(paths: AppPaths) -> None:
    with pytest.raises(SettingsValueError):
        SettingsStore(paths).remember_vault("http://a.veevavault.com", "ann")


# Validators


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("network.connect_timeout", 1, 1.0),
        ("network.connect_timeout", 120, 120.0),
        ("network.read_timeout", 5, 5.0),
        ("network.read_timeout", 600.0, 600.0),
        (
            "network.proxy_url",
            "https://proxy.acme.com:3128/",
            "https://proxy.acme.com:3128",
        ),
        ("network.proxy_url", "", ""),
        ("api_version", " v26.2 ", "v26.2"),
        ("client_id", "acme-vault-rim-client_1.0", "acme-vault-rim-client_1.0"),
    ],
)
def test_parse_value_valid(key: str, value: object, expected: object) -> None:
    assert parse_value(key, value) == expected


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("network.connect_timeout", 0.99),
        ("network.connect_timeout", 121),
        ("network.read_timeout", 4.9),
        ("network.read_timeout", float("inf")),
        ("network.proxy_url", "http://user:secret@proxy:8080"),
        ("network.proxy_url", "http://proxy:8080/path"),
        ("network.proxy_url", "http://proxy:99999"),
        ("api_version", "v25"),
        ("client_id", ""),
    ],
)
def test_parse_value_invalid(key: str, value: object) -> None:
    with pytest.raises(SettingsValueError) as caught:
        parse_value(key, value)
    assert caught.value.key == key


def test_unknown_key_raises() -> None:
    with pytest.raises(KeyError):
        parse_value("network.colour", 1)


# Saving: atomic replace, faults and retries


def _raise_disk_full(_handle: int) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_save_round_trip(paths: AppPaths) -> None:
    store = SettingsStore(paths)
    store.set_value("network.extra_ca_file", "/etc/ssl/acme-ca.pem")
    settings, _report = load(paths)
    assert settings.network.extra_ca_file == "/etc/ssl/acme-ca.pem"


def test_save_leaves_no_temp_file(paths: AppPaths) -> None:
    SettingsStore(paths).set_value("appearance", "dark")
    assert leftover_files(paths) == []


def test_disk_full_keeps_old_file(
    paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SettingsStore(paths)
    store.set_value("appearance", "dark")
    before = paths.settings_file.read_bytes()
    monkeypatch.setattr(os, "fsync", _raise_disk_full)
    with pytest.raises(SettingsError, match="disk is full"):
        store.set_value("appearance", "light")
    assert paths.settings_file.read_bytes() == before
    assert leftover_files(paths) == []


def test_failed_save_keeps_store_state(
    paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SettingsStore(paths)
    store.set_value("appearance", "dark")
    monkeypatch.setattr(os, "fsync", _raise_disk_full)
    with pytest.raises(SettingsError):
        store.set_value("appearance", "light")
    assert store.settings.appearance == "dark"


def test_replace_retried_when_in_use(
    paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_replace = os.replace
    failures = []

    def replace_in_use(source: str | Path, target: str | Path) -> None:
        if len(failures) < 3:
            failures.append(target)
            raise PermissionError(errno.EACCES, "The file is in use")
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace_in_use)
    SettingsStore(paths).set_value("appearance", "dark")
    monkeypatch.setattr(os, "replace", real_replace)
    settings, _report = load(paths)
    assert len(failures) == 3
    assert settings.appearance == "dark"
    assert leftover_files(paths) == []


def test_replace_always_in_use(
    paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SettingsStore(paths)
    store.set_value("appearance", "dark")
    before = paths.settings_file.read_bytes()

    def replace_in_use(source: str | Path, target: str | Path) -> None:
        raise PermissionError(errno.EACCES, "The file is in use")

    monkeypatch.setattr(os, "replace", replace_in_use)
    monkeypatch.setattr(settings_module, "REPLACE_RETRY_DELAYS", (0.01,) * 4)
    with pytest.raises(SettingsError, match="another program has the file open"):
        store.set_value("appearance", "light")
    assert paths.settings_file.read_bytes() == before
    assert leftover_files(paths) == []


def test_read_only_folder(paths: AppPaths) -> None:
    store = SettingsStore(paths)
    store.set_value("appearance", "dark")
    before = paths.settings_file.read_bytes()
    paths.config_dir.chmod(0o500)
    try:
        if os.access(paths.config_dir, os.W_OK):
            pytest.skip("chmod does not stop this user from writing (running as root)")
        with pytest.raises(SettingsError, match="not allowed to write"):
            store.set_value("appearance", "light")
    finally:
        paths.config_dir.chmod(0o700)
    assert paths.settings_file.read_bytes() == before


def test_config_folder_is_a_file(paths: AppPaths) -> None:
    # A file where the folder should be makes every save fail, even for root.
    paths.config_dir.parent.mkdir(parents=True)
    paths.config_dir.write_text("not a folder", encoding="utf-8")
    with pytest.raises(SettingsError, match="Could not save the settings"):
        SettingsStore(paths).set_value("appearance", "dark")


def test_unreadable_file_not_overwritten(paths: AppPaths) -> None:
    # A folder in place of the file cannot be read, so nothing is written.
    paths.settings_file.mkdir(parents=True)
    store = SettingsStore(paths)
    _settings, report = store.load()
    assert len(report.warnings) == 1
    with pytest.raises(SettingsError, match="Could not read"):
        store.set_value("appearance", "dark")


def test_stale_temp_file_removed(paths: AppPaths) -> None:
    paths.config_dir.mkdir(parents=True)
    stale = paths.config_dir / ".settings-old.tmp"
    fresh = paths.config_dir / ".settings-new.tmp"
    stale.write_text("partial", encoding="utf-8")
    fresh.write_text("partial", encoding="utf-8")
    hour_ago = time.time() - 3600
    os.utime(stale, (hour_ago, hour_ago))
    load(paths)
    assert not stale.exists()
    assert fresh.exists()
