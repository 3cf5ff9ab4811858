"""Tests for remembered passwords, with small keyring backends kept in memory."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Protocol, TypeVar

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail, null
from keyring.compat import properties
from keyring.errors import KeyringLocked

from tests.memory_keyring import MemoryKeyring
from vaultgui.services.address import AddressError
from vaultgui.services.credentials import (
    SERVICE_NAME,
    CredentialsError,
    delete_password,
    load_password,
    password_storage_available,
    store_password,
)

VAULT = "acme.veevavault.com"
PASSWORD = "s3cret-Passw0rd"

# Every backend class below has a negative priority, so keyring's automatic
# choice never picks one of them for a later test.


class PlaintextFileKeyring(MemoryKeyring):
    """Stands for a backend that writes passwords to a plain file."""


class LockedKeyring(MemoryKeyring):
    """A keyring the user declined to unlock."""

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("the keyring is locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("the keyring is locked")

    def delete_password(self, service: str, username: str) -> None:
        raise KeyringLocked("the keyring is locked")


class NoDbusKeyring(MemoryKeyring):
    """A backend whose availability check raises, like Secret Service without D-Bus."""

    @properties.classproperty
    def priority(self) -> float:  # type: ignore[override]
        raise RuntimeError("D-Bus is not running")


BackendT = TypeVar("BackendT", bound=KeyringBackend)


class InstallBackend(Protocol):
    def __call__(self, backend: BackendT) -> BackendT: ...


@pytest.fixture
def use_backend() -> Iterator[InstallBackend]:
    """Install a keyring backend for one test and restore the previous one."""
    previous = keyring.get_keyring()

    def install(backend: BackendT) -> BackendT:
        keyring.set_keyring(backend)
        return backend

    yield install
    keyring.set_keyring(previous)


@pytest.fixture
def memory(use_backend: InstallBackend) -> MemoryKeyring:
    return use_backend(MemoryKeyring())


# Availability


def test_memory_backend_available(memory: MemoryKeyring) -> None:
    assert password_storage_available() == (True, "")


@pytest.mark.parametrize("backend", [fail.Keyring, null.Keyring], ids=["fail", "null"])
def test_missing_backend_unavailable(
    use_backend: InstallBackend, backend: type
) -> None:
    use_backend(backend())
    available, reason = password_storage_available()
    assert available is False
    assert "no password storage" in reason


def test_plaintext_backend_unavailable(use_backend: InstallBackend) -> None:
    use_backend(PlaintextFileKeyring())
    available, reason = password_storage_available()
    assert available is False
    assert "plain text" in reason


def test_raising_backend_unavailable(use_backend: InstallBackend) -> None:
    use_backend(NoDbusKeyring())
    available, reason = password_storage_available()
    assert available is False
    assert "D-Bus is not running" in reason


# Store, load, delete


def test_store_then_load(memory: MemoryKeyring) -> None:
    store_password(VAULT, "ann@acme.com", PASSWORD)
    assert load_password(VAULT, "ann@acme.com") == PASSWORD


def test_entry_uses_service_name(memory: MemoryKeyring) -> None:
    store_password(VAULT, "ann@acme.com", PASSWORD)
    assert [service for service, _account in memory.entries] == [SERVICE_NAME]


def test_address_forms_share_entry(memory: MemoryKeyring) -> None:
    store_password(VAULT, "ann@acme.com", PASSWORD)
    assert load_password("https://ACME.veevavault.com/", "ann@acme.com") == PASSWORD


def test_username_case_ignored(memory: MemoryKeyring) -> None:
    store_password(VAULT, "Ann@Acme.com", PASSWORD)
    assert load_password(VAULT, " ann@acme.com") == PASSWORD


def test_other_user_not_found(memory: MemoryKeyring) -> None:
    store_password(VAULT, "ann@acme.com", PASSWORD)
    assert load_password(VAULT, "bob@acme.com") is None


def test_other_vault_not_found(memory: MemoryKeyring) -> None:
    store_password(VAULT, "ann@acme.com", PASSWORD)
    assert load_password("acme-sbx.veevavault.com", "ann@acme.com") is None


def test_delete_password(memory: MemoryKeyring) -> None:
    store_password(VAULT, "ann@acme.com", PASSWORD)
    delete_password(VAULT, "ann@acme.com")
    assert load_password(VAULT, "ann@acme.com") is None


def test_delete_missing_password(memory: MemoryKeyring) -> None:
    delete_password(VAULT, "ann@acme.com")
    assert memory.entries == {}


def test_empty_password_rejected(memory: MemoryKeyring) -> None:
    with pytest.raises(ValueError):
        store_password(VAULT, "ann@acme.com", "")


def test_invalid_address_rejected(memory: MemoryKeyring) -> None:
    with pytest.raises(AddressError):
        store_password("http://acme.veevavault.com", "ann@acme.com", PASSWORD)


def test_password_not_logged(
    memory: MemoryKeyring, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="vaultgui")
    store_password(VAULT, "ann@acme.com", PASSWORD)
    load_password(VAULT, "ann@acme.com")
    delete_password(VAULT, "ann@acme.com")
    assert caplog.records
    assert PASSWORD not in caplog.text


# No safe storage: no fallback


def test_store_without_backend_raises(use_backend: InstallBackend) -> None:
    use_backend(fail.Keyring())
    with pytest.raises(CredentialsError, match="no password storage"):
        store_password(VAULT, "ann@acme.com", PASSWORD)


def test_store_never_uses_plaintext(use_backend: InstallBackend) -> None:
    backend = use_backend(PlaintextFileKeyring())
    with pytest.raises(CredentialsError, match="plain text"):
        store_password(VAULT, "ann@acme.com", PASSWORD)
    assert backend.entries == {}


def test_load_without_backend_none(use_backend: InstallBackend) -> None:
    use_backend(fail.Keyring())
    assert load_password(VAULT, "ann@acme.com") is None


def test_delete_without_backend_quiet(use_backend: InstallBackend) -> None:
    use_backend(null.Keyring())
    delete_password(VAULT, "ann@acme.com")


# A keychain that fails


def test_locked_store_raises(use_backend: InstallBackend) -> None:
    use_backend(LockedKeyring())
    with pytest.raises(CredentialsError, match="Could not save the password"):
        store_password(VAULT, "ann@acme.com", PASSWORD)


def test_locked_load_raises(use_backend: InstallBackend) -> None:
    use_backend(LockedKeyring())
    with pytest.raises(CredentialsError, match="Could not read the saved password"):
        load_password(VAULT, "ann@acme.com")


def test_locked_delete_raises(use_backend: InstallBackend) -> None:
    use_backend(LockedKeyring())
    with pytest.raises(CredentialsError, match="Could not delete"):
        delete_password(VAULT, "ann@acme.com")
