"""HTTP plumbing of the demo Vault: request parsing, replies, recording and faults."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import struct
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from vaultgui.demo.data import VAULT_ID

logger = logging.getLogger(__name__)

Envelope = dict[str, object]

JSON_CONTENT_TYPE = "application/json;charset=UTF-8"
HTML_CONTENT_TYPE = "text/html; charset=utf-8"
BURST_LIMIT = 2000
BURST_WINDOW_SECONDS = 300.0
# Characters of the session ID echoed in X-VaultAPI-TruncatedSessionId.
TRUNCATED_SESSION_LENGTH = 12

FAULT_ROUTES = ("auth", "record", "query", "cancel", "session", "any")
FAULT_PARAMS: dict[str, frozenset[str]] = {
    "failure": frozenset({"error_type", "message"}),
    "exception": frozenset({"message"}),
    "session_expired": frozenset(),
    "html": frozenset({"apply"}),
    "http_status": frozenset({"status", "apply"}),
    "invalid_json": frozenset(),
    "truncated_json": frozenset(),
    "stall": frozenset({"seconds", "apply"}),
    "apply_then_stall": frozenset({"seconds"}),
    "reset": frozenset({"apply"}),
    "throttle": frozenset({"delay_ms", "burst_remaining"}),
}


@dataclass(frozen=True)
class RecordedRequest:
    """A request as received, without its ``Authorization`` header or password.

    ``headers`` keeps header names as the client spelled them, and ``query``
    and ``form`` keep the last value of each parameter.
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    form: dict[str, str]


@dataclass
class Call:
    """One parsed request, whose ``headers`` lack the ``Authorization`` header."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    form: dict[str, str]
    session_id: str
    burst_remaining: int = BURST_LIMIT

    def to_record(self) -> RecordedRequest:
        """Return the call as recorded, with any ``password`` field removed."""
        return RecordedRequest(
            method=self.method,
            path=self.path,
            query={k: v for k, v in self.query.items() if k != "password"},
            headers=dict(self.headers),
            form={k: v for k, v in self.form.items() if k != "password"},
        )


@dataclass
class Reply:
    """An HTTP reply. ``headers`` excludes Content-Type and Content-Length."""

    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Fault:
    """An injected fault with its params, used ``remaining`` more times."""

    route: str
    kind: str
    remaining: int
    error_type: str = "OPERATION_NOT_ALLOWED"
    message: str = ""
    status: int = 502
    seconds: float = 10.0
    apply: bool = False
    delay_ms: int = 500
    burst_remaining: int = 0


def make_fault(route: str, kind: str, count: int, params: dict[str, object]) -> Fault:
    """Build a Fault, raising ValueError for a param the kind does not take."""
    if count < 1:
        raise ValueError(f"Fault count must be at least 1, got {count}.")
    fault = Fault(route, kind, count)
    for name, value in params.items():
        if name not in FAULT_PARAMS[kind]:
            allowed = sorted(FAULT_PARAMS[kind])
            raise ValueError(f"Fault {kind!r} takes no param {name!r}: use {allowed}.")
        expected = type(getattr(fault, name))
        if expected is float and type(value) is int:
            value = float(value)
        if type(value) is not expected:
            raise ValueError(
                f"Fault param {name!r} must be {expected.__name__}, got {value!r}."
            )
        setattr(fault, name, value)
    return fault


def failure(error_type: str, message: str) -> Envelope:
    """Return a FAILURE envelope with one error."""
    return {
        "responseStatus": "FAILURE",
        "errors": [{"type": error_type, "message": message}],
    }


def json_reply(envelope: Envelope, call: Call, user_id: int | None) -> Reply:
    """Serialise an envelope with the X-VaultAPI headers Vault sends.

    ``user_id`` is the user of a valid session sent with the request, or None.
    The user and truncated session headers are present only with a user.
    """
    headers = {
        "X-VaultAPI-ExecutionId": str(uuid.uuid4()),
        "X-VaultAPI-BurstLimit": str(BURST_LIMIT),
        "X-VaultAPI-BurstLimitRemaining": str(call.burst_remaining),
        "X-VaultAPI-Status": str(envelope["responseStatus"]),
        "X-VaultAPI-VaultId": str(VAULT_ID),
    }
    if user_id is not None:
        headers["X-VaultAPI-UserId"] = str(user_id)
        truncated = call.session_id[:TRUNCATED_SESSION_LENGTH]
        headers["X-VaultAPI-TruncatedSessionId"] = truncated
    body = json.dumps(envelope).encode("utf-8")
    return Reply(HTTPStatus.OK, JSON_CONTENT_TYPE, body, headers)


def html_reply(status: int) -> Reply:
    """Return a small HTML error page like one a proxy or gateway sends."""
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Error"
    page = (
        f"<!DOCTYPE html>\n<html><head><title>{status} {reason}</title></head>"
        f"<body><h1>{status} {reason}</h1>"
        "<p>The gateway could not get a reply from the server behind it.</p>"
        "<hr><address>demo-gateway</address></body></html>\n"
    )
    return Reply(status, HTML_CONTENT_TYPE, page.encode("utf-8"))


class BurstCounter:
    """Counter of the calls left in a fixed 5-minute burst window.

    The caller must hold a lock around take().

    NOTE: past the limit real Vault delays each reply by 500 ms, but this
    counter only reports 0.
    """

    def __init__(self) -> None:
        self._window_start: float | None = None
        self._used = 0

    def take(self) -> int:
        """Count one call and return the calls left in the window."""
        now = time.monotonic()
        start = self._window_start
        if start is None or now - start >= BURST_WINDOW_SECONDS:
            self._window_start = now
            self._used = 0
        self._used += 1
        return max(BURST_LIMIT - self._used, 0)


class Backend(Protocol):
    """Interface of the Vault behind the request handler."""

    def admit(self, call: Call) -> Fault | None:
        """Record the call, count it, and return the fault to apply, if any."""

    def pause(self, seconds: float) -> bool:
        """Wait, returning True early when the server is stopping."""

    def process(self, call: Call) -> Reply:
        """Run the call and build its reply."""

    def fault_reply(self, call: Call, fault: Fault) -> Reply:
        """Build the reply of an error-envelope fault without running the call."""


class HttpServer(ThreadingHTTPServer):
    """Threaded HTTP server that can close a connection with a TCP reset."""

    daemon_threads = True
    backend: Backend

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]
    ) -> None:
        super().__init__(address, handler)
        self._reset_sockets: set[socket.socket] = set()
        self._open_sockets: set[socket.socket] = set()
        self._sockets_lock = threading.Lock()

    def process_request(
        self,
        request: socket.socket | tuple[bytes, socket.socket],
        client_address: Any,
    ) -> None:
        """Remember the connection, so that :meth:`close_connections` can end it."""
        if isinstance(request, socket.socket):
            with self._sockets_lock:
                self._open_sockets.add(request)
        super().process_request(request, client_address)

    def close_connections(self) -> None:
        """End every open keep-alive connection, as a stopped Vault would."""
        with self._sockets_lock:
            sockets = list(self._open_sockets)
        for connection in sockets:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def mark_reset(self, connection: socket.socket) -> None:
        """Close this connection with a TCP RST instead of a normal FIN."""
        linger_off = struct.pack("ii", 1, 0)
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger_off)
        self._reset_sockets.add(connection)

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        """Close the connection, skipping the FIN of a reset one."""
        with self._sockets_lock:
            self._open_sockets.discard(request)
        if request in self._reset_sockets:
            self._reset_sockets.discard(request)
            self.close_request(request)
            return
        super().shutdown_request(request)


class RequestHandler(BaseHTTPRequestHandler):
    """Turns each HTTP request into a Call for the backend, applying faults."""

    server: HttpServer
    # HTTP/1.1 keeps connections open between requests, as Vault does, so a
    # client that reuses its connection can be seen doing so.
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes. Without TCP_NODELAY the body
    # waits for the client's delayed ACK, about 40 ms on Linux, on every reply.
    disable_nagle_algorithm = True
    server_version = "DemoVault/1.0"
    sys_version = ""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # The query string is left out: it can carry VQL with record names.
        logger.debug("%s %s -> %s", self.command, urlsplit(self.path).path, code)

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("HTTP server: " + format, *args)

    def _serve(self) -> None:
        backend = self.server.backend
        call = self._read_call()
        try:
            fault = backend.admit(call)
            if fault is None:
                self._send(backend.process(call))
            else:
                _FAULT_ACTIONS[fault.kind](self, backend, call, fault)
        except Exception:
            logger.exception("Demo Vault failed on %s %s", call.method, call.path)
            envelope: Envelope = {
                "responseStatus": "EXCEPTION",
                "errors": [{"type": "UNEXPECTED_ERROR", "message": "Internal error."}],
            }
            self._send(json_reply(envelope, call, None))

    def _read_call(self) -> Call:
        parts = urlsplit(self.path)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        body = self.rfile.read(length) if length > 0 else b""
        form: dict[str, str] = {}
        content_type = self.headers.get("Content-Type", "")
        if "application/x-www-form-urlencoded" in content_type:
            form = _last_values(body.decode("utf-8", errors="replace"))

        headers = {
            name: value
            for name, value in self.headers.items()
            if name.lower() != "authorization"
        }
        return Call(
            method=self.command,
            path=parts.path,
            query=_last_values(parts.query),
            headers=headers,
            form=form,
            session_id=_session_id(self.headers.get("Authorization", "")),
        )

    def _send(self, reply: Reply) -> None:
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)
        except OSError as error:
            logger.debug("Client left before the reply was sent: %s", error)

    def _reset(self) -> None:
        self.close_connection = True
        self.server.mark_reset(self.connection)

    # Fault actions, one per kind (see DemoVault.inject_fault).

    def _fault_envelope(self, backend: Backend, call: Call, fault: Fault) -> None:
        self._send(backend.fault_reply(call, fault))

    def _fault_html(self, backend: Backend, call: Call, fault: Fault) -> None:
        if fault.apply:
            backend.process(call)
        self._send(html_reply(fault.status if fault.kind == "http_status" else 200))

    def _fault_invalid_json(self, backend: Backend, call: Call, fault: Fault) -> None:
        reply = backend.process(call)
        reply.body = b"responseStatus=SUCCESS <this body is not JSON>"
        self._send(reply)

    def _fault_truncated_json(self, backend: Backend, call: Call, fault: Fault) -> None:
        reply = backend.process(call)
        reply.body = reply.body[: len(reply.body) // 2]
        self._send(reply)

    def _fault_stall(self, backend: Backend, call: Call, fault: Fault) -> None:
        if not backend.pause(fault.seconds):
            self._send(backend.process(call))
            return
        if fault.apply:
            backend.process(call)
        self._reset()

    def _fault_apply_then_stall(
        self, backend: Backend, call: Call, fault: Fault
    ) -> None:
        reply = backend.process(call)
        if backend.pause(fault.seconds):
            self._reset()
        else:
            self._send(reply)

    def _fault_reset(self, backend: Backend, call: Call, fault: Fault) -> None:
        if fault.apply:
            backend.process(call)
        self._reset()

    def _fault_throttle(self, backend: Backend, call: Call, fault: Fault) -> None:
        backend.pause(fault.delay_ms / 1000)
        reply = backend.process(call)
        reply.headers["X-VaultAPI-ResponseDelay"] = str(fault.delay_ms)
        reply.headers["X-VaultAPI-BurstLimitRemaining"] = str(fault.burst_remaining)
        self._send(reply)


_FaultAction = Callable[[RequestHandler, Backend, Call, Fault], None]
_FAULT_ACTIONS: dict[str, _FaultAction] = {
    "failure": RequestHandler._fault_envelope,
    "exception": RequestHandler._fault_envelope,
    "session_expired": RequestHandler._fault_envelope,
    "html": RequestHandler._fault_html,
    "http_status": RequestHandler._fault_html,
    "invalid_json": RequestHandler._fault_invalid_json,
    "truncated_json": RequestHandler._fault_truncated_json,
    "stall": RequestHandler._fault_stall,
    "apply_then_stall": RequestHandler._fault_apply_then_stall,
    "reset": RequestHandler._fault_reset,
    "throttle": RequestHandler._fault_throttle,
}


def _last_values(query: str) -> dict[str, str]:
    parsed = parse_qs(query, keep_blank_values=True)
    return {name: values[-1] for name, values in parsed.items()}


def _session_id(authorization: str) -> str:
    value = authorization.strip()
    if value[:7].lower() == "bearer ":
        value = value[7:].strip()
    return value
