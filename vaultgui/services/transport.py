"""HTTP transport to Vault: session, TLS, timeouts, reply checks and error mapping."""

from __future__ import annotations

import json
import logging
import ssl
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import requests
import truststore
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase

from vaultgui.services.errors import (
    SessionExpiredError,
    TransportError,
    VaultApiError,
    VaultError,
)
from vaultgui.services.logsetup import register_secret
from vaultgui.services.models import ApiLimits

if TYPE_CHECKING:
    from requests.adapters import _HostParams, _PoolKwargs

logger = logging.getLogger(__name__)

JsonObject = dict[str, Any]

EXECUTION_ID_HEADER = "X-VaultAPI-ExecutionId"
RESPONSE_DELAY_HEADER = "X-VaultAPI-ResponseDelay"
INVALID_SESSION_ID = "INVALID_SESSION_ID"
BAD_RESPONSE = "BAD_RESPONSE"
CONNECTION_RESET = "CONNECTION_RESET"

_SUCCESS_STATUSES = frozenset({"SUCCESS", "WARNING"})
_FAILURE_STATUSES = frozenset({"FAILURE", "EXCEPTION"})
_PROXY_AUTHENTICATION_REQUIRED = 407


@dataclass(frozen=True)
class Timeouts:
    """Connect and read timeouts, in seconds, for every call to Vault."""

    connect: float = 10.0
    # Long because Vault delays throttled replies instead of rejecting them.
    read: float = 90.0

    def __post_init__(self) -> None:
        if self.connect <= 0 or self.read <= 0:
            raise ValueError(
                f"Timeouts must be positive numbers of seconds, "
                f"got connect={self.connect} and read={self.read}."
            )


class TruststoreAdapter(HTTPAdapter):
    """HTTPS adapter that verifies servers against the operating system trust store.

    The ``verify`` value that requests passes in (including a path taken from
    ``REQUESTS_CA_BUNDLE`` or ``CURL_CA_BUNDLE``) is ignored, so certificate
    checks can be neither turned off nor redirected to certifi's bundle. The only
    CAs trusted besides the system's are those in ``extra_ca_file``.
    """

    def __init__(self, extra_ca_file: str | None = None) -> None:
        self._ssl_context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if extra_ca_file:
            self._ssl_context.load_verify_locations(cafile=extra_ca_file)
        super().__init__()

    def init_poolmanager(
        self,
        connections: int,
        maxsize: int,
        block: bool = False,
        **pool_kwargs: Any,
    ) -> None:
        pool_kwargs["ssl_context"] = self._ssl_context
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)

    def build_connection_pool_key_attributes(
        self,
        request: requests.PreparedRequest,
        verify: bool | str,
        cert: str | tuple[str, str] | None = None,
    ) -> tuple[_HostParams, _PoolKwargs]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, True, cert
        )
        pool_kwargs.pop("ca_certs", None)
        pool_kwargs.pop("ca_cert_dir", None)
        pool_kwargs["cert_reqs"] = "CERT_REQUIRED"
        pool_kwargs["ssl_context"] = self._ssl_context
        return host_params, pool_kwargs

    def cert_verify(
        self,
        conn: Any,
        url: str,
        verify: bool | str | None,
        cert: str | tuple[str, str] | None,
    ) -> None:
        conn.cert_reqs = "CERT_REQUIRED"
        conn.ca_certs = None
        conn.ca_cert_dir = None


# Rows are checked in order against the raised exception and every exception
# it wraps, and the first row that matches any of them wins.
# ``may_have_reached_vault`` is false only where the request cannot have been sent.
_EXCEPTION_TABLE: tuple[tuple[type[BaseException], str, bool], ...] = (
    (requests.exceptions.ConnectTimeout, "CONNECT_TIMEOUT", False),
    (requests.exceptions.ReadTimeout, "READ_TIMEOUT", True),
    # A read timeout while the body arrives surfaces as requests' ConnectionError.
    (urllib3.exceptions.ReadTimeoutError, "READ_TIMEOUT", True),
    (requests.exceptions.ProxyError, "PROXY_ERROR", False),
    (requests.exceptions.SSLError, "TLS_ERROR", False),
    (ConnectionRefusedError, "CONNECTION_REFUSED", False),
    (urllib3.exceptions.NameResolutionError, "NAME_NOT_RESOLVED", False),
    # Any other failure to open the connection, such as "network unreachable".
    (urllib3.exceptions.NewConnectionError, "CONNECTION_FAILED", False),
    (requests.exceptions.ConnectionError, CONNECTION_RESET, True),
    (requests.exceptions.ChunkedEncodingError, CONNECTION_RESET, True),
    (requests.exceptions.ContentDecodingError, BAD_RESPONSE, True),
    (requests.exceptions.RequestException, "REQUEST_FAILED", True),
)


def _wrapped_exceptions(error: BaseException) -> Iterator[BaseException]:
    """Yield ``error`` and the exceptions it wraps, depth first, each once."""
    pending: list[object] = [error]
    seen: set[int] = set()
    while pending and len(seen) < 20:
        candidate = pending.pop()
        if not isinstance(candidate, BaseException) or id(candidate) in seen:
            continue
        seen.add(id(candidate))
        yield candidate
        # urllib3's MaxRetryError keeps the real cause in ``reason``.
        pending.extend([candidate.__context__, candidate.__cause__])
        pending.append(getattr(candidate, "reason", None))
        pending.extend(reversed(candidate.args))


def map_request_exception(
    error: requests.RequestException, target: str
) -> TransportError:
    """Translate a requests exception into a :class:`TransportError`.

    ``target`` (method and path) is only used in the detail text. The detail
    keeps the underlying message because, for TLS errors, it names the
    certificate problem.
    """
    chain = list(_wrapped_exceptions(error))
    for exception_type, error_type, may_have_reached_vault in _EXCEPTION_TABLE:
        if any(isinstance(exception, exception_type) for exception in chain):
            return TransportError(
                f"{target} failed ({error_type}): {error}",
                error_type=error_type,
                may_have_reached_vault=may_have_reached_vault,
            )
    raise AssertionError("RequestException row missing from _EXCEPTION_TABLE")


def check_reply(response: requests.Response) -> JsonObject:
    """Return the JSON body of a Vault reply, or raise the matching error.

    Vault returns HTTP 200 for every request it processes, errors included, so
    any other HTTP status means something between us and Vault failed. The
    decision uses only the HTTP status, ``responseStatus`` and ``errors[].type``,
    never message text. Raises :class:`TransportError` for a non-200 status or
    a body that is not a Vault JSON envelope, :class:`SessionExpiredError` when
    an error type is ``INVALID_SESSION_ID``, and :class:`VaultApiError` for
    other ``FAILURE`` and ``EXCEPTION`` replies.
    """
    execution_id = response.headers.get(EXECUTION_ID_HEADER, "")
    target = f"{response.request.method} {response.request.path_url}"
    code = response.status_code
    if code != 200:
        raise TransportError(
            f"{target} returned HTTP {code} instead of 200.",
            error_type=f"HTTP_{code}",
            may_have_reached_vault=code != _PROXY_AUTHENTICATION_REQUIRED,
            execution_id=execution_id,
            http_status=code,
        )

    body = _parse_envelope(response.content, target, execution_id)
    status = body["responseStatus"]
    if status in _SUCCESS_STATUSES:
        return body
    if status not in _FAILURE_STATUSES:
        raise bad_response(
            f"{target} returned responseStatus {status!r}.", execution_id
        )

    errors = _parse_errors(body.get("errors"), target, execution_id)
    error_class = VaultApiError
    if any(error_type == INVALID_SESSION_ID for error_type, _ in errors):
        error_class = SessionExpiredError
    first_type, first_message = errors[0]
    raise error_class(
        f"{target} returned {status} {first_type}: {first_message}",
        response_status=status,
        errors=errors,
        execution_id=execution_id,
        http_status=code,
    )


def bad_response(detail: str, execution_id: str = "") -> TransportError:
    """Build the error for a reply whose body is not what Vault documents."""
    return TransportError(
        detail,
        error_type=BAD_RESPONSE,
        may_have_reached_vault=True,
        execution_id=execution_id,
    )


def _parse_envelope(content: bytes, target: str, execution_id: str) -> JsonObject:
    try:
        body = json.loads(content)
    except ValueError as error:
        start = content[:60].decode("utf-8", errors="replace")
        raise bad_response(
            f"{target} returned a body that is not JSON ({error}), starting {start!r}.",
            execution_id,
        ) from None
    if not isinstance(body, dict):
        raise bad_response(
            f"{target} returned JSON that is not an object.", execution_id
        )
    if not isinstance(body.get("responseStatus"), str):
        raise bad_response(
            f"{target} returned JSON without responseStatus.", execution_id
        )
    return body


def _parse_errors(
    errors: object, target: str, execution_id: str
) -> list[tuple[str, str]]:
    if not isinstance(errors, list) or not errors:
        raise bad_response(
            f"{target} returned a failure with no errors list.", execution_id
        )
    parsed: list[tuple[str, str]] = []
    for entry in errors:
        error_type = entry.get("type") if isinstance(entry, dict) else None
        message = entry.get("message") if isinstance(entry, dict) else None
        if not isinstance(error_type, str) or not error_type:
            raise bad_response(
                f"{target} returned an error without a type.", execution_id
            )
        if not isinstance(message, str):
            raise bad_response(
                f"{target} returned error {error_type} without a message.", execution_id
            )
        parsed.append((error_type, message))
    return parsed


class _SessionIdAuth(AuthBase):
    """Auth hook that sets ``Authorization`` to the raw Vault session id, if any.

    Being the session's auth object also stops requests from adding
    credentials found in ``~/.netrc``.
    """

    def __init__(self) -> None:
        self.session_id = ""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if self.session_id:
            request.headers["Authorization"] = self.session_id
        return request


class VaultTransport:
    """One ``requests.Session`` to one Vault, with the headers every call needs.

    ``trust_env`` controls whether proxy settings are taken from the environment.
    VaultClient turns it off for loopback addresses, so the demo Vault is always
    reached directly, and for the "none" and "manual" proxy choices, which pass
    ``proxies`` instead.
    """

    def __init__(
        self,
        base_url: str,
        *,
        client_id: str,
        timeouts: Timeouts,
        extra_ca_file: str | None,
        trust_env: bool,
        proxies: dict[str, str] | None = None,
    ) -> None:
        self._base_url = base_url
        self._timeouts = timeouts
        self._auth = _SessionIdAuth()
        self._session = requests.Session()
        self._session.trust_env = trust_env
        if proxies is not None:
            self._session.proxies = dict(proxies)
        self._session.auth = self._auth
        self._session.headers.update(
            {"Accept": "application/json", "X-VaultAPI-ClientID": client_id}
        )
        self._session.mount("https://", TruststoreAdapter(extra_ca_file))
        self.last_execution_id = ""
        self.last_limits = ApiLimits()
        self.notable_limits: ApiLimits | None = None

    @property
    def session_id(self) -> str:
        """Raw Vault session id sent as ``Authorization``, or empty when signed out."""
        return self._auth.session_id

    @session_id.setter
    def session_id(self, value: str) -> None:
        if value:
            register_secret(value)
        self._auth.session_id = value

    def request(
        self,
        method: str,
        path: str,
        *,
        data: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool = False,
        timeouts: Timeouts | None = None,
    ) -> JsonObject:
        """Send one call and return the checked JSON body (see :func:`check_reply`).

        An ``idempotent`` call is sent a second time, on a new connection, when
        the first attempt ends in ``CONNECTION_RESET``. Any other call is sent
        exactly once, whatever happens.
        """
        try:
            return self._send(method, path, data, params, headers, timeouts, idempotent)
        except TransportError as error:
            if not idempotent or error.error_type != CONNECTION_RESET:
                raise
        logger.warning("Retrying %s %s once on a new connection", method, path)
        self._session.get_adapter(self._base_url).close()
        return self._send(method, path, data, params, headers, timeouts, idempotent)

    def close(self) -> None:
        """Close the pooled connections. Later calls open new ones."""
        self._session.close()

    def _send(
        self,
        method: str,
        path: str,
        data: Mapping[str, str] | None,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
        timeouts: Timeouts | None,
        idempotent: bool,
    ) -> JsonObject:
        timeouts = timeouts or self._timeouts
        target = f"{method} {path}" + (f"?{urlencode(params)}" if params else "")
        session_id = self.session_id
        self.last_execution_id = ""
        started = time.monotonic()
        try:
            response = self._session.request(
                method,
                self._base_url + path,
                data=data,
                params=params,
                headers=headers,
                timeout=(timeouts.connect, timeouts.read),
                # A redirect would resend the form (a password) somewhere else.
                allow_redirects=False,
            )
        except requests.RequestException as error:
            failure = map_request_exception(error, target)
            _log_failure(target, failure, started)
            raise failure from error

        self.last_execution_id = response.headers.get(EXECUTION_ID_HEADER, "")
        self.last_limits = ApiLimits.from_headers(response.headers)
        if self.last_limits.is_notable:
            self.notable_limits = self.last_limits
        try:
            body = check_reply(response)
        except VaultError as error:
            _log_failure(target, error, started)
            if isinstance(error, SessionExpiredError) and self.session_id == session_id:
                self.session_id = ""
            raise
        level = logging.DEBUG if idempotent else logging.INFO
        _log_success(level, target, body, response, started)
        return body


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _log_success(
    level: int,
    target: str,
    body: JsonObject,
    response: requests.Response,
    started: float,
) -> None:
    logger.log(
        level,
        "%s -> %s, execution id %s, %d ms",
        target,
        body["responseStatus"],
        response.headers.get(EXECUTION_ID_HEADER, ""),
        _elapsed_ms(started),
    )
    delay = response.headers.get(RESPONSE_DELAY_HEADER)
    if delay:
        logger.info("Vault is throttling calls: %s was delayed by %s ms", target, delay)


def _log_failure(target: str, error: VaultError, started: float) -> None:
    if isinstance(error, VaultApiError):
        outcome = f"{error.response_status} {error.error_type}"
    else:
        outcome = error.error_type
    logger.warning(
        "%s -> %s, execution id %s, %d ms: %s",
        target,
        outcome,
        error.execution_id or "none",
        _elapsed_ms(started),
        error.detail,
    )
