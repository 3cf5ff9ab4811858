"""Parse and validate the Vault address a user types into the sign-in dialog."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

# One DNS label: letters, digits and inner hyphens, at most 63 characters.
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class AddressError(ValueError):
    """The typed Vault address is invalid; the message states why and what to type."""


@dataclass(frozen=True)
class VaultAddress:
    """A validated Vault address: scheme, lower-case host and optional port."""

    scheme: str
    host: str
    port: int | None = None

    @property
    def netloc(self) -> str:
        """Return the host (bracketed when IPv6) with ``:port`` when one was given."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port is None else f"{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """Return ``scheme://netloc`` with no trailing slash."""
        return f"{self.scheme}://{self.netloc}"

    @property
    def is_loopback(self) -> bool:
        """Return whether the address names this computer."""
        return self.host in LOOPBACK_HOSTS

    def __str__(self) -> str:
        return self.base_url


def parse_vault_address(text: str) -> VaultAddress:
    """Parse a Vault address as typed by a user.

    A bare DNS name means HTTPS. ``https://host[:port]`` is accepted; plain
    ``http://`` only for a loopback host with a port. Paths, user-info, queries
    and fragments are rejected. Raises :class:`AddressError` with a message
    meant for the user.
    """
    text = text.strip()
    if not text:
        raise AddressError(
            "Enter your Vault address, for example myvault.veevavault.com."
        )
    if any(ch.isspace() for ch in text):
        raise AddressError("The Vault address cannot contain spaces.")

    try:
        parts = urlsplit(text if "://" in text else f"https://{text}")
    except ValueError:  # unbalanced or invalid [IPv6] brackets
        raise AddressError(
            f"{text} is not a valid Vault address; check it for typing errors."
        ) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise AddressError(
            f"The address must start with https:// (found {parts.scheme}://)."
        )
    _reject_extras(text, parts)

    host = _validated_host(parts.hostname or "")
    port = _validated_port(parts)
    if scheme == "http":
        _check_plain_http(host, port)
    return VaultAddress(scheme=scheme, host=host, port=port)


def _reject_extras(text: str, parts: SplitResult) -> None:
    if "@" in parts.netloc:
        raise AddressError(
            "Remove the user name from the address; enter it in the User name field."
        )
    if parts.path not in ("", "/"):
        raise AddressError(
            f"Enter only the Vault's host name, without a path such as {parts.path}."
        )
    if parts.query or "?" in text:
        raise AddressError("Remove the part after ? from the Vault address.")
    if parts.fragment or "#" in text:
        raise AddressError("Remove the part after # from the Vault address.")


def _validated_host(host: str) -> str:
    host = host.lower().rstrip(".")
    if not host:
        raise AddressError("The Vault address has no host name.")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return host
    if not all(_LABEL.match(label) for label in host.split(".")):
        raise AddressError(
            f"{host} is not a valid host name; check it for typing errors."
        )
    return host


def _validated_port(parts: SplitResult) -> int | None:
    message = "The port after : must be a number from 1 to 65535."
    try:
        port = parts.port
    except ValueError:
        raise AddressError(message) from None
    if port == 0 or parts.netloc.endswith(":"):
        raise AddressError(message)
    return port


def _check_plain_http(host: str, port: int | None) -> None:
    if host not in LOOPBACK_HOSTS:
        raise AddressError(
            "Plain http:// is not allowed for a Vault on the network; use https://."
        )
    if port is None:
        raise AddressError(
            "A local Vault at http:// needs a port, for example http://127.0.0.1:8080."
        )
