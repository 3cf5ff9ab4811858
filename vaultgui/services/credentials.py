"""Remembered Vault passwords, kept only in the system keychain through keyring."""

from __future__ import annotations

import logging

import keyring
from keyring.backend import KeyringBackend
from keyring.backends import fail, null
from keyring.errors import KeyringError, PasswordDeleteError

from vaultgui.services.address import parse_vault_address

logger = logging.getLogger(__name__)

#: Service name of every keychain entry vaultgui writes.
SERVICE_NAME = "vaultgui"

_NO_STORAGE = (
    "This computer has no password storage that vaultgui can use (such as Windows "
    "Credential Manager, the macOS Keychain or a Secret Service keyring on Linux), "
    "so passwords cannot be remembered."
)
_PLAINTEXT_STORAGE = (
    "The only password storage on this computer keeps passwords in a plain text "
    "file, so vaultgui does not remember passwords."
)
# Backend errors a keychain may raise besides KeyringError: D-Bus and the
# Windows API surface as RuntimeError or OSError subclasses.
_BACKEND_ERRORS = (KeyringError, RuntimeError, OSError)


class CredentialsError(Exception):
    """The system keychain failed, and the message explains what to do next."""


def password_storage_available() -> tuple[bool, str]:
    """Return whether passwords can be remembered, and the reason when they cannot.

    False for keyring's fail and null backends, for a backend that keeps
    plain text, and when choosing or querying the backend raises.
    """
    try:
        reason = _unusable_reason(keyring.get_keyring())
    except _BACKEND_ERRORS as error:
        logger.warning("Password storage is not available: %r", error)
        return False, f"{_NO_STORAGE} ({error})"
    return reason == "", reason


def store_password(address: str, username: str, password: str) -> None:
    """Save the password of ``username`` on the Vault at ``address``.

    Raises :class:`CredentialsError` when no safe storage exists or the
    keychain rejects the entry, and ``AddressError`` for an invalid address.
    There is no plain-text fallback.
    """
    if not password:
        raise ValueError("store_password needs a non-empty password")
    available, reason = password_storage_available()
    if not available:
        raise CredentialsError(reason)
    account = _account(address, username)
    try:
        keyring.set_password(SERVICE_NAME, account, password)
    except _BACKEND_ERRORS as error:
        logger.warning("Saving the password of %s failed: %r", account, error)
        raise CredentialsError(
            f"Could not save the password in the system keychain ({error}). "
            "Type the password at each sign-in, or ask IT to check the keychain."
        ) from error
    logger.info("Saved the password of %s in the system keychain", account)


def load_password(address: str, username: str) -> str | None:
    """Return the saved password, or None when none is saved or storage is missing.

    Raises :class:`CredentialsError` when the keychain exists but fails, for
    example because the user declined to unlock it.
    """
    available, _reason = password_storage_available()
    if not available:
        return None
    account = _account(address, username)
    try:
        return keyring.get_password(SERVICE_NAME, account)
    except _BACKEND_ERRORS as error:
        logger.warning("Reading the password of %s failed: %r", account, error)
        raise CredentialsError(
            f"Could not read the saved password from the system keychain ({error}). "
            "Type the password to sign in."
        ) from error


def delete_password(address: str, username: str) -> None:
    """Delete the saved password, if one is saved."""
    available, _reason = password_storage_available()
    if not available:
        return
    account = _account(address, username)
    try:
        keyring.delete_password(SERVICE_NAME, account)
    except PasswordDeleteError:
        logger.debug("No saved password for %s to delete", account)
        return
    except _BACKEND_ERRORS as error:
        logger.warning("Deleting the password of %s failed: %r", account, error)
        raise CredentialsError(
            f"Could not delete the saved password from the system keychain "
            f"({error}). Remove the vaultgui entry in your keychain by hand."
        ) from error
    logger.info("Deleted the saved password of %s", account)


def _account(address: str, username: str) -> str:
    # The canonical address, so "acme.veevavault.com" and
    # "https://acme.veevavault.com" share one entry. User names compare
    # case-insensitively.
    base_url = parse_vault_address(address).base_url
    return f"{base_url} {username.strip().casefold()}"


def _unusable_reason(backend: KeyringBackend) -> str:
    """Return why ``backend`` must not hold passwords, or "" when it may."""
    members = getattr(backend, "backends", None) or [backend]
    if all(isinstance(member, fail.Keyring | null.Keyring) for member in members):
        return _NO_STORAGE
    if any("plaintext" in type(member).__name__.casefold() for member in members):
        return _PLAINTEXT_STORAGE
    # Reading the priority runs the backend's own availability check.
    _ = backend.priority
    return ""
