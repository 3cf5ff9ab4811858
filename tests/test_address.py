"""Tests for parsing the Vault address typed into the sign-in dialog."""

from __future__ import annotations

import pytest

from vaultgui.services.address import AddressError, VaultAddress, parse_vault_address

# A bare DNS name means HTTPS.


def test_bare_name_means_https() -> None:
    address = parse_vault_address("myvault.veevavault.com")
    assert address == VaultAddress("https", "myvault.veevavault.com", None)


def test_bare_name_base_url() -> None:
    address = parse_vault_address("myvault.veevavault.com")
    assert address.base_url == "https://myvault.veevavault.com"


def test_bare_name_with_port() -> None:
    address = parse_vault_address("myvault.veevavault.com:8443")
    assert address == VaultAddress("https", "myvault.veevavault.com", 8443)


def test_bare_name_is_not_loopback() -> None:
    assert not parse_vault_address("myvault.veevavault.com").is_loopback


def test_host_lower_cased() -> None:
    assert (
        parse_vault_address("MyVault.VeevaVault.COM").host == "myvault.veevavault.com"
    )


def test_surrounding_spaces_stripped() -> None:
    assert parse_vault_address("  myvault.veevavault.com \t").host == (
        "myvault.veevavault.com"
    )


def test_trailing_dot_dropped() -> None:
    assert parse_vault_address("myvault.veevavault.com.").host == (
        "myvault.veevavault.com"
    )


# https://host and https://host:port are accepted.


def test_https_without_port() -> None:
    address = parse_vault_address("https://myvault.veevavault.com")
    assert address == VaultAddress("https", "myvault.veevavault.com", None)


def test_https_with_port() -> None:
    address = parse_vault_address("https://myvault.veevavault.com:8443")
    assert address == VaultAddress("https", "myvault.veevavault.com", 8443)


def test_https_with_port_netloc() -> None:
    address = parse_vault_address("https://myvault.veevavault.com:8443")
    assert address.netloc == "myvault.veevavault.com:8443"


def test_https_trailing_slash_accepted() -> None:
    address = parse_vault_address("https://myvault.veevavault.com/")
    assert address.base_url == "https://myvault.veevavault.com"


def test_https_scheme_case_ignored() -> None:
    assert parse_vault_address("HTTPS://myvault.veevavault.com").scheme == "https"


def test_https_ip_address_accepted() -> None:
    assert parse_vault_address("https://192.0.2.10").host == "192.0.2.10"


def test_https_ipv6_netloc_bracketed() -> None:
    address = parse_vault_address("https://[2001:db8::1]:8443")
    assert address.netloc == "[2001:db8::1]:8443"


# Plain http:// only for loopback hosts, with a port.


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("http://127.0.0.1:8080", "127.0.0.1", 8080),
        ("http://localhost:8080", "localhost", 8080),
        ("HTTP://LOCALHOST:9000", "localhost", 9000),
        ("http://[::1]:8080", "::1", 8080),
    ],
)
def test_http_loopback_with_port_accepted(text: str, host: str, port: int) -> None:
    assert parse_vault_address(text) == VaultAddress("http", host, port)


@pytest.mark.parametrize(
    "text", ["http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080"]
)
def test_http_loopback_is_loopback(text: str) -> None:
    assert parse_vault_address(text).is_loopback


def test_http_ipv6_loopback_base_url() -> None:
    assert parse_vault_address("http://[::1]:8080").base_url == "http://[::1]:8080"


@pytest.mark.parametrize(
    "text", ["http://127.0.0.1", "http://localhost", "http://[::1]"]
)
def test_http_loopback_without_port_rejected(text: str) -> None:
    with pytest.raises(AddressError, match="needs a port"):
        parse_vault_address(text)


@pytest.mark.parametrize(
    "text",
    [
        "http://myvault.veevavault.com",
        "http://myvault.veevavault.com:8080",
        "http://192.0.2.10:8080",
        "http://127.0.0.2:8080",
    ],
)
def test_http_to_network_host_rejected(text: str) -> None:
    with pytest.raises(AddressError, match="use https://"):
        parse_vault_address(text)


def test_other_scheme_rejected() -> None:
    with pytest.raises(AddressError, match=r"found ftp://"):
        parse_vault_address("ftp://myvault.veevavault.com")


# Paths, user-info, queries and fragments are rejected.


@pytest.mark.parametrize(
    "text",
    [
        "https://myvault.veevavault.com/ui/",
        "https://myvault.veevavault.com/api/v25.2",
        "myvault.veevavault.com/api",
        "http://127.0.0.1:8080/api",
    ],
)
def test_path_rejected(text: str) -> None:
    with pytest.raises(AddressError, match="without a path"):
        parse_vault_address(text)


@pytest.mark.parametrize(
    "text",
    [
        "https://alex@myvault.veevavault.com",
        "https://alex:secret@myvault.veevavault.com",
        "alex@myvault.veevavault.com",
    ],
)
def test_user_info_rejected(text: str) -> None:
    with pytest.raises(AddressError, match="User name field"):
        parse_vault_address(text)


@pytest.mark.parametrize(
    "text",
    [
        "https://myvault.veevavault.com?vaultDNS=other",
        "https://myvault.veevavault.com/?",
        "myvault.veevavault.com?",
    ],
)
def test_query_rejected(text: str) -> None:
    with pytest.raises(AddressError, match=r"after \?"):
        parse_vault_address(text)


@pytest.mark.parametrize(
    "text", ["https://myvault.veevavault.com#top", "myvault.veevavault.com#"]
)
def test_fragment_rejected(text: str) -> None:
    with pytest.raises(AddressError, match="after #"):
        parse_vault_address(text)


# Other typing errors.


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_rejected(text: str) -> None:
    with pytest.raises(AddressError, match="Enter your Vault address"):
        parse_vault_address(text)


def test_inner_space_rejected() -> None:
    with pytest.raises(AddressError, match="cannot contain spaces"):
        parse_vault_address("my vault.veevavault.com")


@pytest.mark.parametrize(
    "text",
    [
        "https://myvault.veevavault.com:0",
        "https://myvault.veevavault.com:65536",
        "https://myvault.veevavault.com:",
        "https://myvault.veevavault.com:https",
        "https://myvault.veevavault.com:+443",
    ],
)
def test_bad_port_rejected(text: str) -> None:
    with pytest.raises(AddressError, match="port"):
        parse_vault_address(text)


@pytest.mark.parametrize(
    "text", ["https://my_vault.veevavault.com", "https://-vault.veevavault.com"]
)
def test_bad_host_name_rejected(text: str) -> None:
    with pytest.raises(AddressError, match="not a valid host name"):
        parse_vault_address(text)


@pytest.mark.parametrize("text", ["https://[::1", "https://[zz]:8443"])
def test_bad_brackets_rejected(text: str) -> None:
    with pytest.raises(AddressError, match="not a valid Vault address"):
        parse_vault_address(text)


def test_address_error_is_value_error() -> None:
    assert issubclass(AddressError, ValueError)
