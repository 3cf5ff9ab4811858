"""Step-by-step check of the network path to a Vault, and a help-desk summary."""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import logging
import os
import platform
import socket
import ssl
import sys
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, TypeVar
from urllib.parse import unquote, urlsplit

import requests
import requests.utils
import truststore

from vaultgui import __version__
from vaultgui.services.address import VaultAddress
from vaultgui.services.logsetup import recent_errors, redact, register_secret
from vaultgui.services.paths import AppPaths
from vaultgui.services.settings_schema import ProxyMode, Settings
from vaultgui.services.transport import (
    EXECUTION_ID_HEADER,
    Timeouts,
    TruststoreAdapter,
    map_request_exception,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")
StepStatus = Literal["passed", "failed", "skipped"]

STEP_PROXY = "Proxy"
STEP_CA_FILE = "Extra CA file"
STEP_RESOLVE = "Resolve name"
STEP_CONNECT = "TCP connect"
STEP_TUNNEL = "Proxy tunnel"
STEP_TLS = "TLS handshake"
STEP_HTTP = "HTTP GET /api/"

DEFAULT_CLIENT_ID = Settings().client_id
_DEFAULT_PORTS = {"http": 80, "https": 443}
# SOCKS proxies, which requests supports with PySocks installed, use this port.
_DEFAULT_SOCKS_PORT = 1080
_MAX_PROXY_REPLY_BYTES = 65_536

# One entry of socket.getaddrinfo(): family, type, protocol, name, address.
_AddressInfo = tuple[
    socket.AddressFamily,
    socket.SocketKind,
    int,
    str,
    tuple[str, int] | tuple[str, int, int, int] | tuple[int, bytes],
]


@dataclass(frozen=True)
class CheckStep:
    """One step of a connection check, how long it took and what it found."""

    name: str
    status: StepStatus
    elapsed_ms: int
    detail: str


@dataclass(frozen=True)
class CertificateInfo:
    """The server certificate as the TLS handshake received it.

    ``verified`` False means the chain did not verify, and the certificate
    was then read from a second connection that skipped verification, only
    so that it could be shown. ``verify_error`` is the reason it failed.
    """

    subject: str
    issuer: str
    not_before: datetime | None
    not_after: datetime | None
    sha256_fingerprint: str
    verified: bool
    verify_error: str = ""


@dataclass(frozen=True)
class ConnectionReport:
    """Outcome of :func:`check_connection`, with no password, token or session id."""

    address: str
    checked_at: datetime
    proxy_mode: ProxyMode
    proxy: str
    extra_ca_file: str
    steps: tuple[CheckStep, ...]
    certificate: CertificateInfo | None = None

    @property
    def ok(self) -> bool:
        """True when no step failed."""
        return self.failed_step is None

    @property
    def failed_step(self) -> CheckStep | None:
        """The first step that failed, or None."""
        return next((step for step in self.steps if step.status == "failed"), None)

    def as_text(self) -> str:
        """Return the report as plain text to paste into a help-desk ticket."""
        failed = self.failed_step
        result = "OK" if failed is None else f"FAILED at {failed.name}"
        lines = [
            "vaultgui connection check",
            f"Checked at: {_format_time(self.checked_at)}",
            f"vaultgui version: {__version__}",
            f"Vault address: {self.address}",
            f"Proxy mode: {self.proxy_mode}",
            f"Proxy used: {self.proxy}",
            f"Extra CA file: {self.extra_ca_file or 'none'}",
            f"Result: {result}",
            "",
            "Steps:",
        ]
        lines.extend(format_step(step) for step in self.steps)
        if self.certificate is not None:
            lines.extend(["", *_certificate_lines(self.certificate)])
        return "\n".join(lines) + "\n"


def format_step(step: CheckStep) -> str:
    """Return one report line for ``step``: its outcome, name, time and detail."""
    marker = {"passed": "[ OK ]", "failed": "[FAIL]", "skipped": "[SKIP]"}[step.status]
    return f"  {marker} {step.name:<16} {step.elapsed_ms:>6} ms  {step.detail}"


def _certificate_lines(certificate: CertificateInfo) -> list[str]:
    if certificate.verified:
        verified = "yes"
    else:
        verified = (
            f"no ({certificate.verify_error}); the certificate was read without "
            "verification, only to show it here"
        )
    return [
        "Server certificate:",
        f"  Subject: {certificate.subject or '(empty)'}",
        f"  Issuer: {certificate.issuer or '(empty)'}",
        f"  Valid from: {_format_time(certificate.not_before)}",
        f"  Valid until: {_format_time(certificate.not_after)}"
        + _expiry_note(certificate.not_after),
        f"  SHA-256 fingerprint: {certificate.sha256_fingerprint}",
        f"  Chain verified: {verified}",
    ]


def _expiry_note(not_after: datetime | None) -> str:
    if not_after is not None and not_after < datetime.now(UTC):
        return " (EXPIRED)"
    return ""


def _format_time(moment: datetime | None) -> str:
    if moment is None:
        return "unknown"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


# Proxy choice


@dataclass(frozen=True)
class _Proxy:
    """The proxy a check goes through; an empty ``url`` means a direct connection."""

    url: str = ""
    description: str = ""

    @property
    def scheme(self) -> str:
        """Scheme of the proxy address in lower case, such as ``http``."""
        return urlsplit(self.url).scheme.lower()

    @property
    def parts(self) -> tuple[str, str, int]:
        """Scheme, host and port of the proxy; raises ValueError for a bad port."""
        split = urlsplit(self.url)
        default_port = _DEFAULT_PORTS.get(self.scheme, _DEFAULT_SOCKS_PORT)
        return self.scheme, split.hostname or "", split.port or default_port

    @property
    def credentials(self) -> tuple[str, str] | None:
        """User name and password from the proxy address, if it has them."""
        split = urlsplit(self.url)
        if split.username is None:
            return None
        return unquote(split.username), unquote(split.password or "")


def choose_proxy(address: VaultAddress, proxy_mode: ProxyMode, proxy_url: str) -> str:
    """Return the proxy address that a call to ``address`` goes through, or "".

    ``manual`` always uses ``proxy_url``, even for this computer. ``system``
    reads the proxy settings the way requests does: ``urllib.request.getproxies``
    (environment variables, plus the registry on Windows and the system
    settings on macOS) and the ``NO_PROXY`` bypass list. Loopback addresses are
    always reached directly in ``system`` mode, as the Vault client does.
    """
    return _choose_proxy(address, proxy_mode, proxy_url).url


def _choose_proxy(
    address: VaultAddress, proxy_mode: ProxyMode, proxy_url: str
) -> _Proxy:
    proxy = _find_proxy(address, proxy_mode, proxy_url)
    credentials = proxy.credentials if proxy.url else None
    if credentials is not None:
        # Keeps the proxy password out of the log and of the report's details.
        register_secret(credentials[1])
    return proxy


def _find_proxy(address: VaultAddress, proxy_mode: ProxyMode, proxy_url: str) -> _Proxy:
    if proxy_mode == "manual" and proxy_url:
        return _Proxy(_with_scheme(proxy_url), "set in the vaultgui settings")
    if proxy_mode == "none":
        return _Proxy("", "none (proxy mode is none)")
    note = " (manual mode has no proxy address)" if proxy_mode == "manual" else ""
    if address.is_loopback:
        return _Proxy("", f"none (this computer is reached directly){note}")
    target = f"{address.base_url}/api/"
    if requests.utils.should_bypass_proxies(target, no_proxy=None):
        return _Proxy("", f"none (the host is in the proxy bypass list){note}")
    url = requests.utils.select_proxy(target, urllib.request.getproxies())
    if not url:
        return _Proxy("", f"none (no system proxy is set){note}")
    return _Proxy(_with_scheme(url), f"from the system proxy settings{note}")


def _with_scheme(url: str) -> str:
    # requests reads a proxy address without a scheme as http://.
    return url if "://" in url else f"http://{url}"


def _proxy_for_display(proxy: _Proxy) -> str:
    if not proxy.url:
        return proxy.description
    try:
        scheme, host, port = proxy.parts
    except ValueError:
        return f"an invalid proxy address ({proxy.description})"
    shown_host = f"[{host}]" if ":" in host else host
    sign_in = ", with a user name" if proxy.credentials else ""
    return f"{scheme}://{shown_host}:{port} ({proxy.description}{sign_in})"


# The check


def check_connection(
    address: VaultAddress,
    *,
    proxy_mode: ProxyMode,
    proxy_url: str,
    extra_ca_file: str | None,
    timeouts: Timeouts,
    client_id: str = DEFAULT_CLIENT_ID,
    on_step: Callable[[CheckStep], None] | None = None,
) -> ConnectionReport:
    """Check each step of the path from this computer to ``address`` and report it.

    The steps run in this order. The proxy is chosen as :func:`choose_proxy`
    does. The name of the proxy, or of Vault when there is none, is resolved
    and a TCP connection is opened to it. Through a proxy, a CONNECT tunnel to
    Vault is opened. For ``https://`` the extra CA file is loaded and the TLS
    handshake is checked against the system trust store plus that file, and
    plain ``http://`` skips both. Last, ``GET /api/`` goes through requests
    with the Vault client's TLS adapter. After a failed step the later steps
    are skipped.

    The connect timeout also limits the tunnel and the handshake. Name
    resolution has only the system's own timeout. ``on_step`` runs on the
    calling thread after each step. The call blocks, so run it on a worker
    thread. It sends no credentials except those of a proxy.
    """
    check = _ConnectionCheck(
        address,
        _choose_proxy(address, proxy_mode, proxy_url),
        extra_ca_file or "",
        timeouts,
        client_id,
        on_step,
    )
    logger.info("Checking the connection to %s", address.base_url)
    check.run()
    report = ConnectionReport(
        address=address.base_url,
        checked_at=check.started_at,
        proxy_mode=proxy_mode,
        proxy=_proxy_for_display(check.proxy),
        extra_ca_file=extra_ca_file or "",
        steps=tuple(check.steps),
        certificate=check.certificate,
    )
    failed = report.failed_step
    if failed is None:
        logger.info("Connection check of %s passed", address.base_url)
    else:
        logger.warning(
            "Connection check of %s failed at %s: %s",
            address.base_url,
            failed.name,
            failed.detail,
        )
    return report


class _StepFailedError(Exception):
    """Raised to end a step as failed, with the step's detail as its message."""


@dataclass
class _ConnectionCheck:
    address: VaultAddress
    proxy: _Proxy
    extra_ca_file: str
    timeouts: Timeouts
    client_id: str
    on_step: Callable[[CheckStep], None] | None
    steps: list[CheckStep] = field(default_factory=list)
    certificate: CertificateInfo | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    _stopped_by: str = ""

    @property
    def uses_tls(self) -> bool:
        return self.address.scheme == "https"

    @property
    def port(self) -> int:
        return self.address.port or _DEFAULT_PORTS[self.address.scheme]

    @property
    def tunnels(self) -> bool:
        """Whether TLS to Vault runs inside an HTTP proxy's CONNECT tunnel."""
        return self.uses_tls and self.proxy.scheme == "http"

    def run(self) -> None:
        self._add(STEP_PROXY, "passed", 0, _proxy_for_display(self.proxy))
        addresses = self._step(STEP_RESOLVE, self._resolve)
        connection = self._step(STEP_CONNECT, lambda: self._connect(addresses or []))
        try:
            self._check_tls(connection, addresses)
        finally:
            if connection is not None:
                connection.close()
        self._step(STEP_HTTP, self._get_api_versions)

    def _check_tls(
        self, connection: socket.socket | None, addresses: Sequence[_AddressInfo] | None
    ) -> None:
        if not self.uses_tls:
            self._add(STEP_TLS, "skipped", 0, "plain http:// has no TLS")
            return
        if self.proxy.url and not self.tunnels:
            # NOTE: TLS inside a TLS or SOCKS connection to the proxy is not
            # checked on its own, only as part of the HTTP step.
            self._add(
                STEP_TLS,
                "skipped",
                0,
                f"checked only in the HTTP step through a {self.proxy.scheme}:// proxy",
            )
            return
        if self.tunnels:
            self._step(STEP_TUNNEL, lambda: self._open_tunnel(connection))
        if self.extra_ca_file:
            self._step(STEP_CA_FILE, self._load_ca_file)
        self._step(STEP_TLS, lambda: self._handshake(connection, addresses))

    def _step(self, name: str, action: Callable[[], tuple[T, str]]) -> T | None:
        """Run ``action`` as step ``name`` unless an earlier step failed."""
        if self._stopped_by:
            self._add(name, "skipped", 0, f"not run because {self._stopped_by} failed")
            return None
        started = time.monotonic()
        try:
            result, detail = action()
        except _StepFailedError as failure:
            self._stopped_by = name
            self._add(name, "failed", _elapsed_ms(started), redact(str(failure)))
            return None
        self._add(name, "passed", _elapsed_ms(started), redact(detail))
        return result

    def _add(self, name: str, status: StepStatus, elapsed_ms: int, detail: str) -> None:
        step = CheckStep(name, status, elapsed_ms, detail)
        self.steps.append(step)
        logger.info(
            "Connection check: %s %s in %d ms: %s", name, status, elapsed_ms, detail
        )
        if self.on_step is not None:
            try:
                self.on_step(step)
            except Exception:
                logger.warning(
                    "Progress callback of the connection check failed", exc_info=True
                )

    # Steps

    def _load_ca_file(self) -> tuple[None, str]:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        try:
            context.load_verify_locations(cafile=self.extra_ca_file)
        except (OSError, ssl.SSLError) as error:
            raise _StepFailedError(
                f"{self.extra_ca_file} could not be loaded: {_describe(error)}"
            ) from None
        count = context.cert_store_stats()["x509_ca"]
        if count == 0:
            raise _StepFailedError(f"{self.extra_ca_file} contains no CA certificate")
        return None, f"{self.extra_ca_file}: {count} CA certificate(s) loaded"

    def _endpoint(self) -> tuple[str, int]:
        if not self.proxy.url:
            return self.address.host, self.port
        try:
            _scheme, host, port = self.proxy.parts
        except ValueError:
            raise _StepFailedError(
                "the proxy address has an invalid port number"
            ) from None
        return host, port

    def _resolve(self) -> tuple[Sequence[_AddressInfo], str]:
        host, port = self._endpoint()
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as error:
            raise _StepFailedError(
                f"{host} could not be resolved: {_describe(error)}"
            ) from None
        found = list(dict.fromkeys(str(info[4][0]) for info in infos))
        prefix = "proxy " if self.proxy.url else ""
        return infos, f"{prefix}{host} resolved to {', '.join(found)}"

    def _connect(self, addresses: Sequence[_AddressInfo]) -> tuple[socket.socket, str]:
        failures: list[str] = []
        for family, kind, proto, _name, sockaddr in addresses:
            sock = socket.socket(family, kind, proto)
            sock.settimeout(self.timeouts.connect)
            try:
                sock.connect(sockaddr)
            except OSError as error:
                sock.close()
                failures.append(f"{_socket_address(sockaddr)}: {_describe(error)}")
                continue
            return sock, f"connected to {_socket_address(sockaddr)}"
        raise _StepFailedError("; ".join(failures) or "no address to connect to")

    def _open_tunnel(self, connection: socket.socket | None) -> tuple[None, str]:
        assert connection is not None
        target = _authority(self.address.host, self.port)
        lines = [f"CONNECT {target} HTTP/1.1", f"Host: {target}"]
        credentials = self.proxy.credentials
        if credentials is not None:
            token = base64.b64encode(":".join(credentials).encode()).decode("ascii")
            lines.append(f"Proxy-Authorization: Basic {token}")
        try:
            connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("ascii"))
            status_line = _read_status_line(connection)
        except OSError as error:
            raise _StepFailedError(
                f"the proxy did not respond to CONNECT: {_describe(error)}"
            ) from None
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or parts[1] != "200":
            hint = " (the proxy asks for a sign-in)" if parts[1:2] == ["407"] else ""
            raise _StepFailedError(
                f"the proxy responded to CONNECT {target} with {status_line!r}{hint}"
            )
        return None, f"the proxy opened a tunnel to {target}: {status_line}"

    def _handshake(
        self, connection: socket.socket | None, addresses: Sequence[_AddressInfo] | None
    ) -> tuple[None, str]:
        assert connection is not None and addresses is not None
        context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if self.extra_ca_file:
            context.load_verify_locations(cafile=self.extra_ca_file)
        connection.settimeout(self.timeouts.connect)
        try:
            tls = context.wrap_socket(connection, server_hostname=self.address.host)
        except ssl.SSLCertVerificationError as error:
            self.certificate = self._read_unverified_certificate(addresses, str(error))
            raise _StepFailedError(
                f"the certificate was not verified: {error}"
            ) from None
        except OSError as error:
            raise _StepFailedError(
                f"the TLS handshake failed: {_describe(error)}"
            ) from None
        with tls:
            der = tls.getpeercert(binary_form=True)
            version = tls.version() or "unknown TLS version"
            cipher = tls.cipher()
        if der is not None:
            self.certificate = _certificate_info(der, verified=True)
        cipher_name = cipher[0] if cipher else "unknown cipher"
        return None, f"{version}, {cipher_name}, certificate verified"

    def _read_unverified_certificate(
        self, addresses: Sequence[_AddressInfo], verify_error: str
    ) -> CertificateInfo | None:
        """Read the server certificate without verifying it, only to show it.

        The connection is closed right after the handshake and nothing is sent
        over it, so an unverified server never receives a request.
        """
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        try:
            connection, _detail = self._connect(addresses)
            with connection:
                if self.tunnels:
                    self._open_tunnel(connection)
                with context.wrap_socket(
                    connection, server_hostname=self.address.host
                ) as tls:
                    der = tls.getpeercert(binary_form=True)
        except (OSError, _StepFailedError) as error:
            logger.info(
                "Could not read the unverified certificate to show it: %s", error
            )
            return None
        if der is None:
            return None
        return _certificate_info(der, verified=False, verify_error=verify_error)

    def _get_api_versions(self) -> tuple[None, str]:
        session = requests.Session()
        # Proxies come only from the choice above, never again from the environment.
        session.trust_env = False
        if self.proxy.url:
            session.proxies = {"http": self.proxy.url, "https": self.proxy.url}
        if self.uses_tls:
            session.mount("https://", TruststoreAdapter(self.extra_ca_file or None))
        headers = {"Accept": "application/json", "X-VaultAPI-ClientID": self.client_id}
        with session:
            try:
                response = session.get(
                    f"{self.address.base_url}/api/",
                    headers=headers,
                    timeout=(self.timeouts.connect, self.timeouts.read),
                    allow_redirects=False,
                )
            except requests.RequestException as error:
                failure = map_request_exception(error, "GET /api/")
                raise _StepFailedError(f"{failure.error_type}: {error}") from None
            return None, _describe_reply(response)


def _describe_reply(response: requests.Response) -> str:
    """Describe a ``GET /api/`` reply, or raise _StepFailedError if not from Vault."""
    execution_id = response.headers.get(EXECUTION_ID_HEADER, "") or "none"
    content_type = response.headers.get("Content-Type", "no Content-Type")
    if response.status_code != 200:
        where = response.headers.get("Location")
        moved = f", redirected to {where}" if where else ""
        raise _StepFailedError(
            f"HTTP {response.status_code} instead of 200{moved} ({content_type}); "
            "a proxy or another server may have answered"
        )
    try:
        body = response.json()
    except ValueError:
        raise _StepFailedError(
            f"HTTP 200 but the reply is not JSON ({content_type}); a proxy or "
            "sign-in page may have answered instead of Vault"
        ) from None
    status = body.get("responseStatus") if isinstance(body, dict) else None
    if not isinstance(status, str):
        raise _StepFailedError("HTTP 200 but the JSON reply has no responseStatus")
    versions = body.get("values")
    count = f", {len(versions)} API versions" if isinstance(versions, dict) else ""
    return f"HTTP 200, responseStatus {status}{count}, execution id {execution_id}"


def _read_status_line(connection: socket.socket) -> str:
    """Read a proxy's reply header and return its status line."""
    received = b""
    while b"\r\n\r\n" not in received and len(received) < _MAX_PROXY_REPLY_BYTES:
        chunk = connection.recv(4096)
        if not chunk:
            break
        received += chunk
    if not received:
        raise ConnectionError("the proxy closed the connection without a reply")
    return received.split(b"\r\n", 1)[0].decode("latin-1").strip()


def _socket_address(sockaddr: tuple[object, ...]) -> str:
    return f"{sockaddr[0]} port {sockaddr[1]}"


def _authority(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _describe(error: BaseException) -> str:
    text = str(error) or "no details"
    return f"{text} ({type(error).__name__})"


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


# Certificates, decoded from DER with the standard library only

_NAME_ATTRIBUTES = {
    "2.5.4.3": "CN",
    "2.5.4.5": "serialNumber",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "1.2.840.113549.1.9.1": "emailAddress",
    "0.9.2342.19200300.100.1.25": "DC",
}
_STRING_CODECS = {
    0x0C: "utf-8",  # UTF8String
    0x13: "ascii",  # PrintableString
    0x14: "latin-1",  # TeletexString, read as Latin-1
    0x16: "ascii",  # IA5String
    0x1C: "utf-32-be",  # UniversalString
    0x1E: "utf-16-be",  # BMPString
}
_SEQUENCE = 0x30
_SET = 0x31
_OID = 0x06
_UTC_TIME = 0x17
_GENERALIZED_TIME = 0x18
_EXPLICIT_VERSION = 0xA0


def _certificate_info(
    der: bytes, *, verified: bool, verify_error: str = ""
) -> CertificateInfo:
    digest = hashlib.sha256(der).hexdigest().upper()
    fingerprint = ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))
    try:
        subject, issuer, not_before, not_after = _parse_certificate(der)
    except (ValueError, IndexError) as error:
        logger.info("Could not decode the server certificate: %s", error)
        subject = issuer = "(could not be decoded)"
        not_before = not_after = None
    return CertificateInfo(
        subject=subject,
        issuer=issuer,
        not_before=not_before,
        not_after=not_after,
        sha256_fingerprint=fingerprint,
        verified=verified,
        verify_error=verify_error,
    )


def _parse_certificate(der: bytes) -> tuple[str, str, datetime | None, datetime | None]:
    """Return subject, issuer and validity of an X.509 certificate (RFC 5280, 4.1)."""
    tag, start, end = _read_element(der, 0)
    _expect(tag, _SEQUENCE, "certificate")
    tbs_tag, tbs_start, tbs_end = _children(der, start, end)[0]
    _expect(tbs_tag, _SEQUENCE, "tbsCertificate")
    fields = _children(der, tbs_start, tbs_end)
    if fields[0][0] == _EXPLICIT_VERSION:
        fields = fields[1:]
    # serialNumber, signature, issuer, validity, subject, in this order.
    _serial, _signature, issuer, validity, subject = fields[:5]
    validity_times = _children(der, validity[1], validity[2])
    return (
        _decode_name(der, subject),
        _decode_name(der, issuer),
        _decode_time(der, validity_times[0]),
        _decode_time(der, validity_times[1]),
    )


def _read_element(data: bytes, offset: int) -> tuple[int, int, int]:
    """Return the tag, value start and value end of the DER element at ``offset``."""
    tag = data[offset]
    length = data[offset + 1]
    start = offset + 2
    if length & 0x80:
        size = length & 0x7F
        if not 1 <= size <= 4:
            raise ValueError(f"unsupported DER length of {size} bytes")
        length = int.from_bytes(data[start : start + size], "big")
        start += size
    end = start + length
    if end > len(data):
        raise ValueError("DER element runs past the end of the certificate")
    return tag, start, end


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    elements = []
    offset = start
    while offset < end:
        element = _read_element(data, offset)
        elements.append(element)
        offset = element[2]
    return elements


def _expect(tag: int, expected: int, element_name: str) -> None:
    if tag != expected:
        raise ValueError(
            f"{element_name} has DER tag {tag:#04x} instead of {expected:#04x}"
        )


def _decode_name(data: bytes, name: tuple[int, int, int]) -> str:
    """Return a Name as ``O=..., OU=..., CN=...`` in certificate order."""
    _expect(name[0], _SEQUENCE, "name")
    parts = []
    for rdn_tag, rdn_start, rdn_end in _children(data, name[1], name[2]):
        _expect(rdn_tag, _SET, "relative distinguished name")
        for _tag, start, end in _children(data, rdn_start, rdn_end):
            oid, value = _children(data, start, end)[:2]
            _expect(oid[0], _OID, "attribute type")
            key = _decode_oid(data[oid[1] : oid[2]])
            parts.append(
                f"{_NAME_ATTRIBUTES.get(key, key)}={_decode_string(data, value)}"
            )
    return ", ".join(parts)


def _decode_oid(raw: bytes) -> str:
    numbers: list[int] = []
    value = 0
    for byte in raw:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            numbers.append(value)
            value = 0
    first = numbers[0]
    # The first number packs the first two arcs as 40 * arc1 + arc2.
    arcs = [min(first // 40, 2), first - 40 * min(first // 40, 2), *numbers[1:]]
    return ".".join(str(arc) for arc in arcs)


def _decode_string(data: bytes, element: tuple[int, int, int]) -> str:
    tag, start, end = element
    codec = _STRING_CODECS.get(tag)
    if codec is None:
        return "#" + data[start:end].hex()
    return data[start:end].decode(codec, errors="replace")


def _decode_time(data: bytes, element: tuple[int, int, int]) -> datetime | None:
    tag, start, end = element
    text = data[start:end].decode("ascii")
    if tag == _UTC_TIME:
        # Two-digit years from 50 on are 19xx (RFC 5280, 4.1.2.5.1).
        year = int(text[:2])
        text = f"{1900 + year if year >= 50 else 2000 + year}{text[2:]}"
    elif tag != _GENERALIZED_TIME:
        return None
    return datetime.strptime(text, "%Y%m%d%H%M%SZ").replace(tzinfo=UTC)


# The help-desk summary


def diagnostic_summary(paths: AppPaths, settings_text: str) -> str:
    """Return a plain-text summary for a help-desk ticket.

    It lists the vaultgui, Python, Qt and operating system versions, the
    per-user folders, ``settings_text`` and the recent warnings and errors,
    with secrets masked. The Qt version is read without importing Qt, so
    that this module stays free of Qt: it is the loaded Qt when the app has
    started Qt, else the installed PySide6 package version.
    """
    lines = [
        "vaultgui diagnostic summary",
        f"Created at: {_format_time(datetime.now(UTC))}",
        f"vaultgui version: {__version__}",
        f"Python: {platform.python_version()} ({platform.python_implementation()}, "
        f"{'frozen' if getattr(sys, 'frozen', False) else 'not frozen'})",
        f"Qt: {_qt_version()}",
        f"Operating system: {platform.platform()}",
        f"Language: {os.environ.get('LANG', 'not set')}",
        "",
        "Folders:",
        f"  Settings: {paths.config_dir}",
        f"  Data (history): {paths.data_dir}",
        f"  Log: {paths.log_dir}",
        f"  Cache: {paths.cache_dir}",
        f"  Site settings: {paths.site_config_dir}",
        "",
        "Settings:",
        *_indented(settings_text.strip() or "(none)"),
        "",
        "Recent warnings and errors:",
        *_indented("\n".join(recent_errors()) or "(none)"),
    ]
    return redact("\n".join(lines) + "\n")


def _indented(text: str) -> list[str]:
    return [f"  {line}" for line in text.splitlines()]


def _qt_version() -> str:
    qt_core = sys.modules.get("PySide6.QtCore")
    pyside = sys.modules.get("PySide6")
    if qt_core is not None and pyside is not None:
        runtime = getattr(qt_core, "qVersion", lambda: "unknown")()
        return f"{runtime} (PySide6 {getattr(pyside, '__version__', 'unknown')})"
    for package in ("PySide6-Essentials", "PySide6"):
        try:
            return f"PySide6 {importlib.metadata.version(package)}, not loaded"
        except importlib.metadata.PackageNotFoundError:
            continue
    return "not installed"
