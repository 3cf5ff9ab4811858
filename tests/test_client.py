"""Tests for the Vault REST client over real HTTP to local Vault servers.

Most tests use the demo Vault. A small canned server is used where a test
needs a reply the demo never sends (malformed envelopes, redirects, TLS) or
needs to see the ``Authorization`` header, which the demo does not record.
"""

from __future__ import annotations

import json
import logging
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
import trustme
import urllib3.exceptions

from vaultgui.demo import DEMO_PASSWORD, DEMO_USERNAME, DemoVault, RecordedRequest
from vaultgui.services.address import parse_vault_address
from vaultgui.services.client import (
    DEFAULT_API_VERSION,
    DEFAULT_CLIENT_ID,
    Timeouts,
    VaultClient,
    _url_matches_address,
    is_record_id,
)
from vaultgui.services.errors import (
    AuthenticationError,
    NotFoundError,
    SessionExpiredError,
    TransportError,
    VaultApiError,
    WrongVaultError,
)
from vaultgui.services.transport import map_request_exception

API = f"/api/{DEFAULT_API_VERSION}"
FAST = Timeouts(connect=2.0, read=5.0)
SANDBOX_USERNAME = "sandbox.only@demo-pharma.com"
SANDBOX_URL = "https://sandbox-demo-pharma.veevavault.com/api"
NAME_0008 = "0008 - Sponsor's 100% Q3\\2025 Response"
CANNED_SESSION_ID = "canned-session-6f1d2c3b4a5e6f708192a3b4c5d6e7f8"
TLS_ENV_VARIABLES = ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE")


def header(request: RecordedRequest, name: str) -> str | None:
    """Return a recorded request header, matching the name without case."""
    for key, value in request.headers.items():
        if key.lower() == name.lower():
            return value
    return None


def free_port() -> int:
    """Return a loopback port that nothing listens on (at the time of the call)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def auth_body(vault_url: str, vault_id: int = 7) -> dict[str, object]:
    return {
        "responseStatus": "SUCCESS",
        "sessionId": CANNED_SESSION_ID,
        "userId": 42,
        "vaultIds": [{"id": vault_id, "name": "Canned Vault", "url": vault_url}],
        "vaultId": vault_id,
    }


class CannedVault:
    """A loopback HTTP or HTTPS server that sends fixed replies and records requests.

    A request with no reply set gets a Vault ``MALFORMED_URL`` failure.
    """

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self.replies: dict[tuple[str, str], tuple[int, bytes]] = {}
        self.received: list[tuple[str, str, dict[str, str]]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        if ssl_context is not None:
            self._server.socket = ssl_context.wrap_socket(
                self._server.socket, server_side=True
            )
        scheme = "https" if ssl_context is not None else "http"
        self.address = f"{scheme}://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_port)

    def reply_json(
        self, method: str, path: str, body: object, status: int = 200
    ) -> None:
        self.replies[(method, path)] = (status, json.dumps(body).encode())

    def reply_auth(self, vault_url: str) -> None:
        self.reply_json("POST", f"{API}/auth", auth_body(vault_url))

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=2)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        canned = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._reply()

            def do_POST(self) -> None:
                self._reply()

            def do_DELETE(self) -> None:
                self._reply()

            def do_CONNECT(self) -> None:
                self._reply()

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _reply(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                path = self.path.split("?", 1)[0]
                headers = dict(self.headers.items())
                canned.received.append((self.command, path, headers))
                failure = {
                    "responseStatus": "FAILURE",
                    "errors": [{"type": "MALFORMED_URL", "message": "Unknown."}],
                }
                status, body = canned.replies.get(
                    (self.command, path), (200, json.dumps(failure).encode())
                )
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("X-VaultAPI-ExecutionId", "canned-execution-1")
                if 300 <= status < 400:
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.end_headers()
                self.wfile.write(body)

        return Handler


@pytest.fixture
def client(demo_vault: DemoVault) -> Iterator[VaultClient]:
    vault_client = VaultClient(parse_vault_address(demo_vault.address), timeouts=FAST)
    yield vault_client
    vault_client.close()


@pytest.fixture
def signed_in(client: VaultClient) -> VaultClient:
    client.sign_in(DEMO_USERNAME, DEMO_PASSWORD)
    return client


@pytest.fixture
def canned() -> Iterator[CannedVault]:
    server = CannedVault()
    yield server
    server.stop()


@pytest.fixture
def canned_client(canned: CannedVault) -> Iterator[VaultClient]:
    vault_client = VaultClient(parse_vault_address(canned.address), timeouts=FAST)
    yield vault_client
    vault_client.close()


@pytest.fixture
def canned_signed_in(canned: CannedVault, canned_client: VaultClient) -> VaultClient:
    canned.reply_auth(f"http://127.0.0.1:{canned.port}/api")
    canned_client.sign_in("user@example.com", "secret-password")
    return canned_client


# Constructor and record IDs


@pytest.mark.parametrize(
    "text", ["00S000000000101", " 00S000000000101\n", "V0A000000001001"]
)
def test_is_record_id_accepts(text: str) -> None:
    assert is_record_id(text)


@pytest.mark.parametrize(
    "text",
    ["", "00s000000000101", "00S00000000010", "00S0000000001011", "0001 - Amendment"],
)
def test_is_record_id_rejects(text: str) -> None:
    assert not is_record_id(text)


def test_client_rejects_bad_api_version() -> None:
    with pytest.raises(ValueError, match="API version"):
        VaultClient(parse_vault_address("myvault.veevavault.com"), api_version="25.2")


def test_client_rejects_bad_client_id() -> None:
    with pytest.raises(ValueError, match="client id"):
        VaultClient(parse_vault_address("myvault.veevavault.com"), client_id="a b")


def test_timeouts_reject_zero() -> None:
    with pytest.raises(ValueError, match="positive"):
        Timeouts(connect=0.0)


# Sign-in


def test_sign_in_success(client: VaultClient) -> None:
    result = client.sign_in(DEMO_USERNAME, DEMO_PASSWORD)
    assert result.vault_id == "1001"
    assert result.user_id == "61603"
    assert result.username == DEMO_USERNAME
    assert result.vault_url.startswith(client.address.base_url)
    assert result.vault_name
    assert result.execution_id
    assert client.signed_in
    assert client.username == DEMO_USERNAME


def test_sign_in_posts_form(client: VaultClient, demo_vault: DemoVault) -> None:
    client.sign_in(DEMO_USERNAME, DEMO_PASSWORD)
    request = demo_vault.requests[-1]
    assert (request.method, request.path) == ("POST", f"{API}/auth")
    assert request.form["username"] == DEMO_USERNAME


def test_username_empty_before_sign_in(client: VaultClient) -> None:
    assert client.username == ""
    assert not client.signed_in


@pytest.mark.parametrize(
    ("username", "password", "error_type"),
    [
        (DEMO_USERNAME, "wrong-password", "USERNAME_OR_PASSWORD_INCORRECT"),
        (DEMO_USERNAME, "", "NO_PASSWORD_PROVIDED"),
        ("locked.user@demo-pharma.com", DEMO_PASSWORD, "USER_LOCKED_OUT"),
        ("inactive.user@demo-pharma.com", DEMO_PASSWORD, "INACTIVE_USER"),
        ("expired.password@demo-pharma.com", DEMO_PASSWORD, "PASSWORD_CHANGE_REQUIRED"),
    ],
)
def test_sign_in_rejected(
    client: VaultClient, username: str, password: str, error_type: str
) -> None:
    with pytest.raises(AuthenticationError) as caught:
        client.sign_in(username, password)
    assert caught.value.error_type == error_type
    assert caught.value.response_status == "FAILURE"
    assert caught.value.vault_message
    assert caught.value.execution_id
    assert not client.signed_in
    assert client.username == ""


def test_sign_in_wrong_vault(client: VaultClient) -> None:
    with pytest.raises(WrongVaultError) as caught:
        client.sign_in(SANDBOX_USERNAME, DEMO_PASSWORD)
    assert caught.value.requested_host == "127.0.0.1"
    assert caught.value.session_url == SANDBOX_URL
    assert "sandbox-demo-pharma.veevavault.com" in caught.value.detail
    assert "127.0.0.1" in caught.value.detail
    assert not client.signed_in
    assert client.username == ""


def test_wrong_vault_session_not_sent(client: VaultClient) -> None:
    with pytest.raises(WrongVaultError):
        client.sign_in(SANDBOX_USERNAME, DEMO_PASSWORD)
    # The demo rejects a record read without a session, so this proves that
    # the sandbox session id was not kept.
    with pytest.raises(SessionExpiredError):
        client.get_submission("00S000000000101")


def test_sign_in_other_host_name(demo_vault: DemoVault) -> None:
    # The demo reports http://127.0.0.1:PORT/api, which is not "localhost".
    address = parse_vault_address(f"http://localhost:{demo_vault.port}")
    vault_client = VaultClient(address, timeouts=FAST)
    with pytest.raises(WrongVaultError):
        vault_client.sign_in(DEMO_USERNAME, DEMO_PASSWORD)
    vault_client.close()


def test_sign_in_other_port(canned: CannedVault, canned_client: VaultClient) -> None:
    canned.reply_auth(f"http://127.0.0.1:{canned.port + 1}/api")
    with pytest.raises(WrongVaultError):
        canned_client.sign_in("user@example.com", "secret-password")
    assert not canned_client.signed_in


def test_sign_in_url_without_port(canned: CannedVault) -> None:
    # A url without a port means the scheme's default port (80 here), which is
    # not the port of the address.
    canned.reply_auth("http://127.0.0.1/api")
    vault_client = VaultClient(parse_vault_address(canned.address), timeouts=FAST)
    with pytest.raises(WrongVaultError):
        vault_client.sign_in("user@example.com", "secret-password")
    vault_client.close()


@pytest.mark.parametrize(
    ("address", "url", "matches"),
    [
        ("myvault.veevavault.com", "https://myvault.veevavault.com/api", True),
        ("myvault.veevavault.com", "https://MyVault.VeevaVault.com/api", True),
        ("myvault.veevavault.com", "https://myvault.veevavault.com:8443/api", True),
        ("myvault.veevavault.com:443", "https://myvault.veevavault.com/api", True),
        ("myvault.veevavault.com:8443", "https://myvault.veevavault.com/api", False),
        ("myvault.veevavault.com", "https://other.veevavault.com/api", False),
        (
            "myvault.veevavault.com",
            "https://myvault.veevavault.com.evil.com/api",
            False,
        ),
        ("myvault.veevavault.com", "not a url", False),
        ("myvault.veevavault.com", "https://[::1/api", False),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/api", True),
        ("https://127.0.0.1:8080", "http://127.0.0.1:8080/api", True),
    ],
)
def test_url_matches_address(address: str, url: str, matches: bool) -> None:
    assert _url_matches_address(url, parse_vault_address(address)) is matches


def test_sign_in_no_matching_entry(
    canned: CannedVault, canned_client: VaultClient
) -> None:
    body = auth_body(f"http://127.0.0.1:{canned.port}/api")
    body["vaultId"] = 99
    canned.reply_json("POST", f"{API}/auth", body)
    with pytest.raises(WrongVaultError) as caught:
        canned_client.sign_in("user@example.com", "secret-password")
    assert caught.value.session_url == ""


def test_sign_in_vault_id_as_text(
    canned: CannedVault, canned_client: VaultClient
) -> None:
    body = auth_body(f"http://127.0.0.1:{canned.port}/api")
    body["vaultId"] = "7"
    canned.reply_json("POST", f"{API}/auth", body)
    assert canned_client.sign_in("user@example.com", "secret-password").vault_id == "7"


def test_sign_in_host_case_ignored(
    canned: CannedVault, canned_client: VaultClient
) -> None:
    # Host names compare without case; 127.0.0.1 has none, so use the scheme
    # and a trailing dot, which are ignored too.
    canned.reply_auth(f"HTTPS://127.0.0.1.:{canned.port}/api")
    assert canned_client.sign_in("user@example.com", "secret-password").vault_id == "7"


def test_sign_in_missing_session_id(
    canned: CannedVault, canned_client: VaultClient
) -> None:
    body = auth_body(f"http://127.0.0.1:{canned.port}/api")
    del body["sessionId"]
    canned.reply_json("POST", f"{API}/auth", body)
    with pytest.raises(TransportError) as caught:
        canned_client.sign_in("user@example.com", "secret-password")
    assert caught.value.error_type == "BAD_RESPONSE"


def test_sign_in_twice_ends_first_session(
    signed_in: VaultClient, demo_vault: DemoVault
) -> None:
    demo_vault.clear_requests()
    signed_in.sign_in(DEMO_USERNAME, DEMO_PASSWORD)
    methods = [(request.method, request.path) for request in demo_vault.requests]
    assert methods == [("DELETE", f"{API}/session"), ("POST", f"{API}/auth")]
    assert signed_in.signed_in


# Headers


def test_headers_on_every_call(signed_in: VaultClient, demo_vault: DemoVault) -> None:
    signed_in.get_submission("00S000000000101")
    signed_in.find_submissions("0010 - Amendment")
    signed_in.cancel_import("00S000000000102")
    signed_in.sign_out()
    recorded = demo_vault.requests
    assert len(recorded) >= 6
    for request in recorded:
        assert header(request, "X-VaultAPI-ClientID") == DEFAULT_CLIENT_ID
        assert header(request, "Accept") == "application/json"


def test_authorization_absent_before_sign_in(
    canned: CannedVault, canned_signed_in: VaultClient
) -> None:
    auth_headers = {key.lower(): value for key, value in canned.received[0][2].items()}
    assert "authorization" not in auth_headers


def test_authorization_raw_session_id(
    canned: CannedVault, canned_signed_in: VaultClient
) -> None:
    canned.reply_json(
        "GET",
        f"{API}/vobjects/submission__v/00S000000000101",
        {
            "responseStatus": "SUCCESS",
            "data": {"id": "00S000000000101", "name__v": "A"},
        },
    )
    canned_signed_in.get_submission("00S000000000101")
    _, path, headers = canned.received[-1]
    assert path == f"{API}/vobjects/submission__v/00S000000000101"
    assert headers["Authorization"] == CANNED_SESSION_ID


def test_custom_client_id_sent(demo_vault: DemoVault) -> None:
    vault_client = VaultClient(
        parse_vault_address(demo_vault.address), client_id="acme-vault-rim-client-x"
    )
    vault_client.sign_in(DEMO_USERNAME, DEMO_PASSWORD)
    vault_client.close()
    assert header(demo_vault.requests[-1], "X-VaultAPI-ClientID") == (
        "acme-vault-rim-client-x"
    )


# get_submission


def test_get_submission_fields(signed_in: VaultClient) -> None:
    submission = signed_in.get_submission("00S000000000101")
    assert submission.id == "00S000000000101"
    assert submission.name == "0001 - Initial Marketing Application"
    assert submission.archive_status == "IMPORT_IN_PROGRESS"
    assert submission.application_id == "00A000000000201"
    assert submission.application_name == "DP-101 Marketing Authorisation (EU)"


def test_get_submission_null_status(signed_in: VaultClient) -> None:
    assert signed_in.get_submission("00S000000000106").archive_status == ""


def test_get_submission_unknown_status(signed_in: VaultClient) -> None:
    assert signed_in.get_submission("00S000000000109").archive_status == "IMPORT_PAUSED"


def test_get_submission_strips_id(signed_in: VaultClient) -> None:
    assert signed_in.get_submission(" 00S000000000105 ").id == "00S000000000105"


def test_get_submission_unknown_id(signed_in: VaultClient) -> None:
    with pytest.raises(NotFoundError) as caught:
        signed_in.get_submission("00S000000000999")
    assert caught.value.error_type == "INVALID_DATA"
    assert caught.value.execution_id


@pytest.mark.parametrize(
    "submission_id", ["", "   ", "00S0001", "00S000000000101/../x"]
)
def test_get_submission_bad_id(
    signed_in: VaultClient, demo_vault: DemoVault, submission_id: str
) -> None:
    before = len(demo_vault.requests)
    with pytest.raises(ValueError, match="record ID"):
        signed_in.get_submission(submission_id)
    assert len(demo_vault.requests) == before


def test_application_name_failure_ignored(
    signed_in: VaultClient, demo_vault: DemoVault
) -> None:
    demo_vault.inject_fault("query", "failure", error_type="INSUFFICIENT_ACCESS")
    submission = signed_in.get_submission("00S000000000101")
    assert submission.application_name == ""
    assert submission.archive_status == "IMPORT_IN_PROGRESS"


def test_record_data_not_object(
    canned: CannedVault, canned_signed_in: VaultClient
) -> None:
    canned.reply_json(
        "GET",
        f"{API}/vobjects/submission__v/00S000000000101",
        {"responseStatus": "SUCCESS", "data": [{"id": "00S000000000101"}]},
    )
    with pytest.raises(TransportError) as caught:
        canned_signed_in.get_submission("00S000000000101")
    assert caught.value.error_type == "BAD_RESPONSE"


def test_record_field_wrong_type(
    canned: CannedVault, canned_signed_in: VaultClient
) -> None:
    data = {"id": "00S000000000101", "name__v": "A", "archive_status__v": ["ERROR"]}
    canned.reply_json(
        "GET",
        f"{API}/vobjects/submission__v/00S000000000101",
        {"responseStatus": "SUCCESS", "data": data},
    )
    with pytest.raises(TransportError) as caught:
        canned_signed_in.get_submission("00S000000000101")
    assert caught.value.error_type == "BAD_RESPONSE"


# find_submissions and lookup


def test_find_submissions_sends_escaped_vql(
    signed_in: VaultClient, demo_vault: DemoVault
) -> None:
    signed_in.find_submissions(NAME_0008)
    request = demo_vault.requests[-1]
    assert (request.method, request.path) == ("POST", f"{API}/query")
    assert request.form["q"] == (
        "SELECT id, name__v, archive_status__v, application__v, "
        "application__vr.name__v FROM submission__v "
        "WHERE name__v = '0008 - Sponsor\\'s 100\\% Q3\\\\2025 Response'"
    )


def test_find_submissions_none(signed_in: VaultClient) -> None:
    assert signed_in.find_submissions("No such submission") == []


def test_find_submissions_empty_name(signed_in: VaultClient) -> None:
    with pytest.raises(ValueError, match="empty"):
        signed_in.find_submissions("  ")


def test_query_data_not_list(
    canned: CannedVault, canned_signed_in: VaultClient
) -> None:
    canned.reply_json("POST", f"{API}/query", {"responseStatus": "SUCCESS", "data": {}})
    with pytest.raises(TransportError) as caught:
        canned_signed_in.find_submissions("0001")
    assert caught.value.error_type == "BAD_RESPONSE"


def test_lookup_by_id(signed_in: VaultClient) -> None:
    found = signed_in.lookup("00S000000000101")
    assert [submission.id for submission in found] == ["00S000000000101"]


def test_lookup_by_name(signed_in: VaultClient) -> None:
    found = signed_in.lookup("0002 - Response to Information Request")
    assert [submission.id for submission in found] == ["00S000000000102"]
    assert found[0].archive_status == "IMPORT_IN_QUEUE"
    assert found[0].application_name == "DP-101 Marketing Authorisation (EU)"


def test_lookup_strips_text(signed_in: VaultClient) -> None:
    found = signed_in.lookup("  0005 - Safety Update \n")
    assert [submission.id for submission in found] == ["00S000000000105"]


def test_lookup_name_with_special_characters(signed_in: VaultClient) -> None:
    found = signed_in.lookup(NAME_0008)
    assert [submission.id for submission in found] == ["00S000000000108"]
    assert found[0].name == NAME_0008


def test_lookup_duplicate_name(signed_in: VaultClient) -> None:
    found = signed_in.lookup("0010 - Amendment")
    assert [submission.id for submission in found] == [
        "00S000000000110",
        "00S000000000111",
    ]
    assert [submission.archive_status for submission in found] == [
        "IMPORT_IN_QUEUE",
        "IMPORT_SUCCEEDED",
    ]


def test_lookup_nothing_found(signed_in: VaultClient) -> None:
    with pytest.raises(NotFoundError):
        signed_in.lookup("0099 - Never Imported")


def test_lookup_unknown_id(signed_in: VaultClient) -> None:
    with pytest.raises(NotFoundError):
        signed_in.lookup("00S000000000999")


def test_lookup_id_shaped_name(signed_in: VaultClient, demo_vault: DemoVault) -> None:
    demo_vault.add_submission("00S000000000150", "00S000000000999", "IMPORT_IN_QUEUE")
    found = signed_in.lookup("00S000000000999")
    assert [submission.id for submission in found] == ["00S000000000150"]


@pytest.mark.parametrize("text", ["", "  \t"])
def test_lookup_empty_text(signed_in: VaultClient, text: str) -> None:
    with pytest.raises(ValueError, match="Enter"):
        signed_in.lookup(text)


# cancel_import


@pytest.mark.parametrize(
    ("submission_id", "status_before", "status_after"),
    [
        ("00S000000000101", "IMPORT_IN_PROGRESS", "ERROR"),
        ("00S000000000102", "IMPORT_IN_QUEUE", ""),
        ("00S000000000103", "REMOVAL_IN_PROGRESS", "ERROR"),
        ("00S000000000104", "REMOVAL_IN_QUEUE", "ERROR"),
    ],
)
def test_cancel_success(
    signed_in: VaultClient,
    demo_vault: DemoVault,
    submission_id: str,
    status_before: str,
    status_after: str,
) -> None:
    assert demo_vault.get_status(submission_id) == status_before
    reply = signed_in.cancel_import(submission_id)
    assert reply.execution_id
    assert reply.execution_id == signed_in.last_execution_id
    assert demo_vault.get_status(submission_id) == status_after
    assert demo_vault.cancel_count(submission_id) == 1


def test_cancel_request_shape(signed_in: VaultClient, demo_vault: DemoVault) -> None:
    signed_in.cancel_import("00S000000000101")
    request = demo_vault.requests[-1]
    assert request.method == "POST"
    assert (
        request.path == f"{API}/vobjects/submission__v/00S000000000101/actions/import"
    )
    assert request.query == {"cancel": "true"}
    assert header(request, "X-VaultAPI-ReferenceID") is None


def test_cancel_reference_id_sent(
    signed_in: VaultClient, demo_vault: DemoVault
) -> None:
    signed_in.cancel_import("00S000000000101", reference_id="vaultgui-7f3a")
    assert header(demo_vault.requests[-1], "X-VaultAPI-ReferenceID") == "vaultgui-7f3a"


@pytest.mark.parametrize("reference_id", ["line\nbreak", " padded", "caf\u00e9"])
def test_cancel_bad_reference_id(
    signed_in: VaultClient, demo_vault: DemoVault, reference_id: str
) -> None:
    with pytest.raises(ValueError, match="reference id"):
        signed_in.cancel_import("00S000000000101", reference_id=reference_id)
    assert demo_vault.cancel_count() == 0


@pytest.mark.parametrize("submission_id", ["", "not an id", "00S000000000101?x=1"])
def test_cancel_bad_id(
    signed_in: VaultClient, demo_vault: DemoVault, submission_id: str
) -> None:
    with pytest.raises(ValueError, match="record ID"):
        signed_in.cancel_import(submission_id)
    assert demo_vault.cancel_count() == 0


def test_cancel_rejected(signed_in: VaultClient, demo_vault: DemoVault) -> None:
    with pytest.raises(VaultApiError) as caught:
        signed_in.cancel_import("00S000000000105")
    assert type(caught.value) is VaultApiError
    assert caught.value.error_type == "OPERATION_NOT_ALLOWED"
    assert caught.value.response_status == "FAILURE"
    assert caught.value.vault_message
    assert caught.value.execution_id
    assert caught.value.errors[0][0] == "OPERATION_NOT_ALLOWED"
    assert demo_vault.get_status("00S000000000105") == "IMPORT_SUCCEEDED"


# Faults


@pytest.mark.parametrize(
    ("kind", "params", "error_type"),
    [
        ("html", {}, "BAD_RESPONSE"),
        ("http_status", {"status": 502}, "HTTP_502"),
        ("http_status", {"status": 503}, "HTTP_503"),
        ("invalid_json", {}, "BAD_RESPONSE"),
        ("truncated_json", {}, "BAD_RESPONSE"),
    ],
)
def test_read_fault_transport_error(
    signed_in: VaultClient,
    demo_vault: DemoVault,
    kind: str,
    params: dict[str, object],
    error_type: str,
) -> None:
    demo_vault.inject_fault("record", kind, **params)
    with pytest.raises(TransportError) as caught:
        signed_in.get_submission("00S000000000101")
    assert caught.value.error_type == error_type
    assert caught.value.may_have_reached_vault
    assert signed_in.signed_in


def test_http_status_recorded(signed_in: VaultClient, demo_vault: DemoVault) -> None:
    demo_vault.inject_fault("record", "http_status", status=502)
    with pytest.raises(TransportError) as caught:
        signed_in.get_submission("00S000000000101")
    assert caught.value.http_status == 502


def test_exception_reply(signed_in: VaultClient, demo_vault: DemoVault) -> None:
    demo_vault.inject_fault("record", "exception")
    with pytest.raises(VaultApiError) as caught:
        signed_in.get_submission("00S000000000101")
    assert caught.value.response_status == "EXCEPTION"
    assert caught.value.error_type == "UNEXPECTED_ERROR"
    assert caught.value.execution_id


def test_session_expired(signed_in: VaultClient, demo_vault: DemoVault) -> None:
    demo_vault.inject_fault("record", "session_expired")
    with pytest.raises(SessionExpiredError) as caught:
        signed_in.get_submission("00S000000000101")
    assert caught.value.error_type == "INVALID_SESSION_ID"
    assert not signed_in.signed_in
    assert signed_in.username == DEMO_USERNAME


def test_session_expired_on_cancel(
    signed_in: VaultClient, demo_vault: DemoVault
) -> None:
    demo_vault.inject_fault("cancel", "session_expired")
    with pytest.raises(SessionExpiredError):
        signed_in.cancel_import("00S000000000101")
    assert demo_vault.cancel_count() == 1
    assert demo_vault.get_status("00S000000000101") == "IMPORT_IN_PROGRESS"


def test_read_timeout(demo_vault: DemoVault) -> None:
    vault_client = VaultClient(
        parse_vault_address(demo_vault.address), timeouts=Timeouts(2.0, 0.5)
    )
    vault_client.sign_in(DEMO_USERNAME, DEMO_PASSWORD)
    demo_vault.inject_fault("record", "stall", seconds=5.0)
    with pytest.raises(TransportError) as caught:
        vault_client.get_submission("00S000000000101")
    vault_client.close()
    assert caught.value.error_type == "READ_TIMEOUT"
    assert caught.value.may_have_reached_vault


def test_cancel_read_timeout_after_apply(demo_vault: DemoVault) -> None:
    vault_client = VaultClient(
        parse_vault_address(demo_vault.address), timeouts=Timeouts(2.0, 0.5)
    )
    vault_client.sign_in(DEMO_USERNAME, DEMO_PASSWORD)
    demo_vault.inject_fault("cancel", "apply_then_stall", seconds=5.0)
    with pytest.raises(TransportError) as caught:
        vault_client.cancel_import("00S000000000101")
    vault_client.close()
    assert caught.value.error_type == "READ_TIMEOUT"
    assert caught.value.may_have_reached_vault
    assert demo_vault.cancel_count() == 1
    assert demo_vault.get_status("00S000000000101") == "ERROR"


def test_read_reset_retried_once(signed_in: VaultClient, demo_vault: DemoVault) -> None:
    demo_vault.inject_fault("record", "reset", count=1)
    demo_vault.clear_requests()
    submission = signed_in.get_submission("00S000000000101")
    record_reads = [
        request for request in demo_vault.requests if request.method == "GET"
    ]
    assert submission.archive_status == "IMPORT_IN_PROGRESS"
    assert len(record_reads) == 2


def test_query_reset_retried_once(
    signed_in: VaultClient, demo_vault: DemoVault
) -> None:
    demo_vault.inject_fault("query", "reset", count=1)
    found = signed_in.find_submissions("0010 - Amendment")
    assert len(found) == 2


def test_read_reset_twice_fails(signed_in: VaultClient, demo_vault: DemoVault) -> None:
    demo_vault.inject_fault("record", "reset", count=2)
    demo_vault.clear_requests()
    with pytest.raises(TransportError) as caught:
        signed_in.get_submission("00S000000000101")
    assert caught.value.error_type == "CONNECTION_RESET"
    assert caught.value.may_have_reached_vault
    assert len(demo_vault.requests) == 2


@pytest.mark.parametrize("apply", [True, False])
def test_cancel_reset_not_retried(
    signed_in: VaultClient, demo_vault: DemoVault, apply: bool
) -> None:
    demo_vault.inject_fault("cancel", "reset", apply=apply)
    with pytest.raises(TransportError) as caught:
        signed_in.cancel_import("00S000000000101")
    assert caught.value.error_type == "CONNECTION_RESET"
    assert caught.value.may_have_reached_vault
    assert demo_vault.cancel_count() == 1
    expected_status = "ERROR" if apply else "IMPORT_IN_PROGRESS"
    assert demo_vault.get_status("00S000000000101") == expected_status


@pytest.mark.parametrize(
    ("kind", "params"),
    [("http_status", {"status": 502}), ("html", {}), ("invalid_json", {})],
)
def test_cancel_fault_not_retried(
    signed_in: VaultClient,
    demo_vault: DemoVault,
    kind: str,
    params: dict[str, object],
) -> None:
    demo_vault.inject_fault("cancel", kind, **params)
    with pytest.raises(TransportError):
        signed_in.cancel_import("00S000000000101")
    assert demo_vault.cancel_count() == 1


def test_throttled_reply_succeeds(
    signed_in: VaultClient, demo_vault: DemoVault
) -> None:
    demo_vault.inject_fault("record", "throttle", delay_ms=200)
    assert signed_in.get_submission("00S000000000101").id == "00S000000000101"


def test_connection_refused() -> None:
    address = parse_vault_address(f"http://127.0.0.1:{free_port()}")
    vault_client = VaultClient(address, timeouts=FAST)
    with pytest.raises(TransportError) as caught:
        vault_client.sign_in(DEMO_USERNAME, DEMO_PASSWORD)
    vault_client.close()
    assert caught.value.error_type == "CONNECTION_REFUSED"
    assert not caught.value.may_have_reached_vault


def test_last_execution_id_cleared_without_reply(
    signed_in: VaultClient, demo_vault: DemoVault
) -> None:
    assert signed_in.last_execution_id
    demo_vault.inject_fault("record", "reset", count=2)
    with pytest.raises(TransportError):
        signed_in.get_submission("00S000000000101")
    assert signed_in.last_execution_id == ""


# Malformed envelopes, redirects and proxies (canned server)


@pytest.mark.parametrize(
    "body",
    [
        {"responseStatus": "FAILURE", "errors": []},
        {"responseStatus": "FAILURE"},
        {"responseStatus": "FAILURE", "errors": [{"message": "No type."}]},
        {"responseStatus": "FAILURE", "errors": [{"type": "INVALID_DATA"}]},
        {"responseStatus": "FAILURE", "errors": ["INVALID_DATA"]},
        {"responseStatus": "EXCEPTION", "errors": {"type": "UNEXPECTED_ERROR"}},
        {"responseStatus": "PENDING"},
        {"errors": []},
        ["SUCCESS"],
    ],
)
def test_malformed_envelope(
    canned: CannedVault, canned_signed_in: VaultClient, body: object
) -> None:
    canned.reply_json("GET", f"{API}/vobjects/submission__v/00S000000000101", body)
    with pytest.raises(TransportError) as caught:
        canned_signed_in.get_submission("00S000000000101")
    assert caught.value.error_type == "BAD_RESPONSE"
    assert caught.value.may_have_reached_vault
    assert caught.value.execution_id == "canned-execution-1"


def test_warning_reply_accepted(
    canned: CannedVault, canned_signed_in: VaultClient
) -> None:
    canned.reply_json(
        "POST",
        f"{API}/vobjects/submission__v/00S000000000101/actions/import",
        {"responseStatus": "WARNING", "warnings": [{"type": "X", "message": "Y"}]},
    )
    reply = canned_signed_in.cancel_import("00S000000000101")
    assert reply.execution_id == "canned-execution-1"


def test_redirect_not_followed(
    canned: CannedVault, canned_signed_in: VaultClient
) -> None:
    canned.reply_json(
        "POST",
        f"{API}/vobjects/submission__v/00S000000000101/actions/import",
        {"responseStatus": "SUCCESS"},
        status=307,
    )
    with pytest.raises(TransportError) as caught:
        canned_signed_in.cancel_import("00S000000000101")
    assert caught.value.error_type == "HTTP_307"
    assert len(canned.received) == 2


def test_http_407_not_reached(
    canned: CannedVault, canned_signed_in: VaultClient
) -> None:
    canned.reply_json("POST", f"{API}/query", {}, status=407)
    with pytest.raises(TransportError) as caught:
        canned_signed_in.find_submissions("0001")
    assert caught.value.error_type == "HTTP_407"
    assert not caught.value.may_have_reached_vault


def test_proxy_rejects_tunnel(
    canned: CannedVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A network Vault is reached through HTTPS_PROXY; the canned server plays a
    # proxy that rejects CONNECT with 407, so no traffic leaves this machine.
    canned.reply_json("CONNECT", "myvault.veevavault.com:443", {}, status=407)
    monkeypatch.setenv("HTTPS_PROXY", canned.address)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    vault_client = VaultClient(
        parse_vault_address("myvault.veevavault.com"), timeouts=FAST
    )
    with pytest.raises(TransportError) as caught:
        vault_client.sign_in("user@example.com", "secret-password")
    vault_client.close()
    assert caught.value.error_type == "PROXY_ERROR"
    assert not caught.value.may_have_reached_vault
    assert canned.received[0][0] == "CONNECT"


def test_loopback_ignores_proxy_variables(
    demo_vault: DemoVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    vault_client = VaultClient(parse_vault_address(demo_vault.address), timeouts=FAST)
    assert vault_client.sign_in(DEMO_USERNAME, DEMO_PASSWORD).vault_id == "1001"
    vault_client.close()


# Exception mapping for failures that cannot be caused over loopback


def test_map_connect_timeout() -> None:
    error = requests.exceptions.ConnectTimeout(
        urllib3.exceptions.MaxRetryError(
            None, "/api", urllib3.exceptions.ConnectTimeoutError("timed out")
        )
    )
    mapped = map_request_exception(error, "POST /api/v25.2/auth")
    assert mapped.error_type == "CONNECT_TIMEOUT"
    assert not mapped.may_have_reached_vault


def test_map_name_not_resolved() -> None:
    reason = urllib3.exceptions.NameResolutionError(
        "myvault.veevavault.com", None, socket.gaierror(-2, "Name or service not known")
    )
    error = requests.exceptions.ConnectionError(
        urllib3.exceptions.MaxRetryError(None, "/api", reason)
    )
    mapped = map_request_exception(error, "POST /api/v25.2/auth")
    assert mapped.error_type == "NAME_NOT_RESOLVED"
    assert not mapped.may_have_reached_vault


def test_map_body_read_timeout() -> None:
    error = requests.exceptions.ConnectionError(
        urllib3.exceptions.ReadTimeoutError(None, "/api", "Read timed out.")
    )
    mapped = map_request_exception(error, "GET /api/v25.2/vobjects/x")
    assert mapped.error_type == "READ_TIMEOUT"
    assert mapped.may_have_reached_vault


# Sign-out


def test_sign_out_sends_delete(signed_in: VaultClient, demo_vault: DemoVault) -> None:
    signed_in.sign_out()
    request = demo_vault.requests[-1]
    assert (request.method, request.path) == ("DELETE", f"{API}/session")
    assert not signed_in.signed_in
    assert signed_in.username == ""


def test_sign_out_forgets_session(signed_in: VaultClient) -> None:
    signed_in.sign_out()
    with pytest.raises(SessionExpiredError):
        signed_in.get_submission("00S000000000101")


def test_sign_out_when_signed_out(client: VaultClient, demo_vault: DemoVault) -> None:
    client.sign_out()
    assert demo_vault.requests == []


@pytest.mark.parametrize(
    ("kind", "params"),
    [("http_status", {"status": 502}), ("reset", {}), ("exception", {})],
)
def test_sign_out_failure_ignored(
    signed_in: VaultClient,
    demo_vault: DemoVault,
    kind: str,
    params: dict[str, object],
) -> None:
    demo_vault.inject_fault("session", kind, **params)
    signed_in.sign_out()
    assert not signed_in.signed_in


# Logging


def test_no_secrets_logged(
    canned: CannedVault,
    canned_client: VaultClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    canned.reply_auth(f"http://127.0.0.1:{canned.port}/api")
    canned_client.sign_in("user@example.com", "secret-password")
    canned.reply_json("POST", f"{API}/query", {"responseStatus": "SUCCESS", "data": []})
    canned.reply_json("DELETE", f"{API}/session", {"responseStatus": "SUCCESS"})
    canned_client.find_submissions("0001")
    canned_client.sign_out()
    assert "secret-password" not in caplog.text
    assert CANNED_SESSION_ID not in caplog.text
    assert CANNED_SESSION_ID[:12] not in caplog.text


def test_calls_logged(
    signed_in: VaultClient, demo_vault: DemoVault, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="vaultgui.services")
    signed_in.cancel_import("00S000000000101")
    messages = [record.getMessage() for record in caplog.records]
    cancel_lines = [line for line in messages if "actions/import?cancel=true" in line]
    assert len(cancel_lines) == 1
    assert "SUCCESS" in cancel_lines[0]
    assert signed_in.last_execution_id in cancel_lines[0]


# TLS through the operating system trust store


@pytest.fixture
def clean_tls_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in TLS_ENV_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    for variable in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(variable, raising=False)
        monkeypatch.delenv(variable.lower(), raising=False)


@pytest.fixture
def certificate_authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_vault(certificate_authority: trustme.CA) -> Iterator[CannedVault]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate_authority.issue_cert("127.0.0.1").configure_cert(context)
    server = CannedVault(context)
    # The scheme is not compared, so an http:// url in vaultIds still matches.
    server.reply_auth(f"http://127.0.0.1:{server.port}/api")
    yield server
    server.stop()


@pytest.mark.usefixtures("clean_tls_environment")
def test_tls_unknown_ca_rejected(tls_vault: CannedVault) -> None:
    vault_client = VaultClient(parse_vault_address(tls_vault.address), timeouts=FAST)
    with pytest.raises(TransportError) as caught:
        vault_client.sign_in("user@example.com", "secret-password")
    vault_client.close()
    assert caught.value.error_type == "TLS_ERROR"
    assert not caught.value.may_have_reached_vault
    assert "CERTIFICATE_VERIFY_FAILED" in caught.value.detail
    assert tls_vault.received == []


@pytest.mark.usefixtures("clean_tls_environment")
def test_tls_extra_ca_file_trusted(
    tls_vault: CannedVault, certificate_authority: trustme.CA, tmp_path: Path
) -> None:
    ca_file = tmp_path / "extra-ca.pem"
    certificate_authority.cert_pem.write_to_path(str(ca_file))
    vault_client = VaultClient(
        parse_vault_address(tls_vault.address),
        timeouts=FAST,
        extra_ca_file=str(ca_file),
    )
    result = vault_client.sign_in("user@example.com", "secret-password")
    vault_client.close()
    assert result.vault_id == "7"


@pytest.mark.usefixtures("clean_tls_environment")
def test_tls_wrong_host_rejected(
    certificate_authority: trustme.CA, tmp_path: Path
) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate_authority.issue_cert("vault.example.com").configure_cert(context)
    server = CannedVault(context)
    ca_file = tmp_path / "extra-ca.pem"
    certificate_authority.cert_pem.write_to_path(str(ca_file))
    vault_client = VaultClient(
        parse_vault_address(server.address), timeouts=FAST, extra_ca_file=str(ca_file)
    )
    with pytest.raises(TransportError) as caught:
        vault_client.sign_in("user@example.com", "secret-password")
    vault_client.close()
    server.stop()
    assert caught.value.error_type == "TLS_ERROR"


def test_status_reread_skips_application_query(
    signed_in: VaultClient, demo_vault: DemoVault
) -> None:
    demo_vault.clear_requests()

    submission = signed_in.get_submission(
        "00S000000000101", with_application_name=False
    )

    assert submission.application_name == ""
    assert [r.path for r in demo_vault.requests if r.path.endswith("/query")] == []
