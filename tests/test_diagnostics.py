"""The connection check against real servers on 127.0.0.1, and its dialog."""

from __future__ import annotations

import asyncio
import http.server
import json
import logging
import select
import socket
import socketserver
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QPlainTextEdit, QPushButton
from pytestqt.qtbot import QtBot

from vaultgui.demo import DemoVault
from vaultgui.services.address import VaultAddress, parse_vault_address
from vaultgui.services.diagnostics import (
    STEP_CA_FILE,
    STEP_CONNECT,
    STEP_HTTP,
    STEP_PROXY,
    STEP_RESOLVE,
    STEP_TLS,
    STEP_TUNNEL,
    CheckStep,
    ConnectionReport,
    check_connection,
    choose_proxy,
    diagnostic_summary,
)
from vaultgui.services.logsetup import configure_logging, remove_log_handlers
from vaultgui.services.paths import AppPaths
from vaultgui.services.settings_schema import NetworkSettings, ProxyMode
from vaultgui.services.transport import Timeouts
from vaultgui.ui.diagnostics_dialog import ConnectionCheckDialog

TIMEOUTS = Timeouts(connect=3.0, read=5.0)
# First byte of a TLS ClientHello, which this plain HTTP proxy closes on.
TLS_HANDSHAKE_RECORD = b"\x16"
API_VERSIONS = {"responseStatus": "SUCCESS", "values": {"v25.2": "/api/v25.2"}}


@pytest.fixture(autouse=True)
def clean_network_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Clear the variables that redirect certificate checks or add a proxy."""
    for variable in (
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "no_proxy",
    ):
        monkeypatch.delenv(variable, raising=False)


# A small HTTPS server whose certificate comes from a trustme CA


class ApiVersionsHandler(http.server.BaseHTTPRequestHandler):
    """Replies to ``GET /api/`` with a Vault JSON envelope and records each request."""

    server: RecordingHttpsServer

    def do_GET(self) -> None:
        self.server.request_lines.append(self.requestline)
        body = json.dumps(API_VERSIONS).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class RecordingHttpsServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), ApiVersionsHandler)
        self.socket = context.wrap_socket(self.socket, server_side=True)
        self.request_lines: list[str] = []

    @property
    def address(self) -> VaultAddress:
        return parse_vault_address(f"https://127.0.0.1:{self.server_address[1]}")


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "company-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def https_server(ca: trustme.CA) -> Iterator[RecordingHttpsServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    server = RecordingHttpsServer(context)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# A recording HTTP proxy that supports CONNECT to 127.0.0.1 only


class ConnectProxyHandler(socketserver.BaseRequestHandler):
    server: RecordingProxy

    def handle(self) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.request.recv(4096)
            if not chunk or chunk.startswith(TLS_HANDSHAKE_RECORD):
                return
            head += chunk
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        self.server.request_lines.append(request_line)
        method, target, _version = request_line.split(" ", 2)
        host, _, port = target.rpartition(":")
        if method != "CONNECT" or host != "127.0.0.1":
            self.request.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        if self.server.require_sign_in:
            self.request.sendall(
                b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                b'Proxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n'
            )
            return
        with socket.create_connection((host, int(port)), timeout=5) as upstream:
            self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            relay(self.request, upstream)


def relay(client: socket.socket, upstream: socket.socket) -> None:
    """Copy bytes both ways until either side closes."""
    sockets = [client, upstream]
    while True:
        readable, _, _ = select.select(sockets, [], [], 5)
        if not readable:
            return
        for source in readable:
            try:
                data = source.recv(65536)
                if not data:
                    return
                (upstream if source is client else client).sendall(data)
            except ConnectionError:
                # A client that rejects the certificate resets the tunnel.
                return


class RecordingProxy(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, *, require_sign_in: bool = False) -> None:
        super().__init__(("127.0.0.1", 0), ConnectProxyHandler)
        self.require_sign_in = require_sign_in
        self.request_lines: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


def start_proxy(
    require_sign_in: bool = False,
) -> tuple[RecordingProxy, threading.Thread]:
    proxy = RecordingProxy(require_sign_in=require_sign_in)
    thread = threading.Thread(target=proxy.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    return proxy, thread


@pytest.fixture
def proxy() -> Iterator[RecordingProxy]:
    server, thread = start_proxy()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def sign_in_proxy() -> Iterator[RecordingProxy]:
    server, thread = start_proxy(require_sign_in=True)
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def run_check(
    address: VaultAddress,
    *,
    proxy_mode: ProxyMode = "system",
    proxy_url: str = "",
    extra_ca_file: str | None = None,
) -> ConnectionReport:
    return check_connection(
        address,
        proxy_mode=proxy_mode,
        proxy_url=proxy_url,
        extra_ca_file=extra_ca_file,
        timeouts=TIMEOUTS,
    )


def step(report: ConnectionReport, name: str) -> CheckStep:
    found = [item for item in report.steps if item.name == name]
    assert found, f"no step {name} in {[item.name for item in report.steps]}"
    return found[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# Demo Vault over plain HTTP


def test_demo_vault_passes(demo_vault: DemoVault) -> None:
    report = run_check(parse_vault_address(demo_vault.address))

    assert report.ok
    assert [item.name for item in report.steps] == [
        STEP_PROXY,
        STEP_RESOLVE,
        STEP_CONNECT,
        STEP_TLS,
        STEP_HTTP,
    ]
    assert step(report, STEP_TLS).status == "skipped"
    assert "responseStatus SUCCESS" in step(report, STEP_HTTP).detail
    assert report.certificate is None


def test_demo_vault_direct_despite_proxy_variable(
    demo_vault: DemoVault, proxy: RecordingProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)

    report = run_check(parse_vault_address(demo_vault.address))

    assert report.ok
    assert report.proxy.startswith("none")
    assert proxy.request_lines == []


def test_steps_reported_in_order(demo_vault: DemoVault) -> None:
    seen: list[str] = []

    report = check_connection(
        parse_vault_address(demo_vault.address),
        proxy_mode="none",
        proxy_url="",
        extra_ca_file=None,
        timeouts=TIMEOUTS,
        on_step=lambda item: seen.append(item.name),
    )

    assert seen == [item.name for item in report.steps]


def test_report_text_lists_steps(demo_vault: DemoVault) -> None:
    report = run_check(parse_vault_address(demo_vault.address))

    text = report.as_text()

    assert f"Vault address: {demo_vault.address}" in text
    assert "Result: OK" in text
    for item in report.steps:
        assert f"{item.name}" in text
    assert text.count(" ms  ") == len(report.steps)


def test_refused_port_fails_at_connect() -> None:
    address = parse_vault_address(f"http://127.0.0.1:{free_port()}")

    report = run_check(address)

    assert not report.ok
    assert report.failed_step == step(report, STEP_CONNECT)
    assert "refused" in step(report, STEP_CONNECT).detail.lower()
    assert step(report, STEP_HTTP).status == "skipped"
    assert "Result: FAILED at TCP connect" in report.as_text()


# HTTPS with a private CA


def test_unknown_ca_fails_verification(https_server: RecordingHttpsServer) -> None:
    report = run_check(https_server.address)

    assert report.failed_step == step(report, STEP_TLS)
    assert "not verified" in step(report, STEP_TLS).detail
    assert report.certificate is not None
    assert report.certificate.verified is False
    assert "trustme" in report.certificate.issuer


def test_unknown_ca_sends_no_request(https_server: RecordingHttpsServer) -> None:
    report = run_check(https_server.address)

    assert step(report, STEP_HTTP).status == "skipped"
    assert https_server.request_lines == []


def test_unknown_ca_text_names_issuer(https_server: RecordingHttpsServer) -> None:
    text = run_check(https_server.address).as_text()

    assert "Chain verified: no" in text
    assert "Issuer: O=trustme" in text


def test_extra_ca_file_verifies(
    https_server: RecordingHttpsServer, ca_file: str
) -> None:
    report = run_check(https_server.address, extra_ca_file=ca_file)

    assert report.ok
    assert report.certificate is not None
    assert report.certificate.verified is True
    assert "trustme" in report.certificate.issuer
    assert "1 CA certificate" in step(report, STEP_CA_FILE).detail
    assert https_server.request_lines == ["GET /api/ HTTP/1.1"]


def test_certificate_validity_read(
    https_server: RecordingHttpsServer, ca_file: str
) -> None:
    certificate = run_check(https_server.address, extra_ca_file=ca_file).certificate

    assert certificate is not None
    assert certificate.not_before is not None
    assert certificate.not_after is not None
    assert certificate.not_before < certificate.not_after
    assert certificate.sha256_fingerprint.count(":") == 31


def test_missing_ca_file_fails(
    https_server: RecordingHttpsServer, tmp_path: Path
) -> None:
    missing = str(tmp_path / "missing.pem")

    report = run_check(https_server.address, extra_ca_file=missing)

    assert report.failed_step == step(report, STEP_CA_FILE)
    assert step(report, STEP_TLS).status == "skipped"


# Proxies


def test_manual_proxy_sees_connect(
    https_server: RecordingHttpsServer, proxy: RecordingProxy, ca_file: str
) -> None:
    port = https_server.server_address[1]

    report = run_check(
        https_server.address,
        proxy_mode="manual",
        proxy_url=proxy.url,
        extra_ca_file=ca_file,
    )

    assert report.ok
    assert f"CONNECT 127.0.0.1:{port} HTTP/1.1" in proxy.request_lines
    assert step(report, STEP_TUNNEL).status == "passed"
    assert proxy.url in report.proxy
    assert https_server.request_lines == ["GET /api/ HTTP/1.1"]


def test_manual_proxy_both_steps_tunnel(
    https_server: RecordingHttpsServer, proxy: RecordingProxy, ca_file: str
) -> None:
    run_check(
        https_server.address,
        proxy_mode="manual",
        proxy_url=proxy.url,
        extra_ca_file=ca_file,
    )

    # One tunnel for the TLS handshake step, one for GET /api/ through requests.
    assert len(proxy.request_lines) == 2
    assert all(line.startswith("CONNECT ") for line in proxy.request_lines)


def test_proxy_sign_in_reported(
    https_server: RecordingHttpsServer, sign_in_proxy: RecordingProxy
) -> None:
    report = run_check(
        https_server.address, proxy_mode="manual", proxy_url=sign_in_proxy.url
    )

    assert report.failed_step == step(report, STEP_TUNNEL)
    assert "407" in step(report, STEP_TUNNEL).detail
    assert "sign-in" in step(report, STEP_TUNNEL).detail


def test_proxy_mode_none_ignores_manual_url(
    demo_vault: DemoVault, proxy: RecordingProxy
) -> None:
    report = run_check(
        parse_vault_address(demo_vault.address), proxy_mode="none", proxy_url=proxy.url
    )

    assert report.ok
    assert proxy.request_lines == []


def test_system_proxy_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    address = parse_vault_address("myvault.veevavault.com")

    assert choose_proxy(address, "system", "") == "http://127.0.0.1:3128"


def test_system_proxy_bypassed_by_no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    monkeypatch.setenv("NO_PROXY", ".veevavault.com")
    address = parse_vault_address("myvault.veevavault.com")

    assert choose_proxy(address, "system", "") == ""


def test_manual_without_url_uses_system(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    address = parse_vault_address("myvault.veevavault.com")

    assert choose_proxy(address, "manual", "") == "http://127.0.0.1:3128"


def test_report_hides_proxy_password(monkeypatch: pytest.MonkeyPatch) -> None:
    # The proxy port is closed, so the check stops at TCP connect on 127.0.0.1
    # and never looks the Vault name up.
    monkeypatch.setenv(
        "HTTPS_PROXY", f"http://ops:Hidden-Pass-77@127.0.0.1:{free_port()}"
    )
    address = parse_vault_address("myvault.veevavault.com")

    report = run_check(address)

    assert "Hidden-Pass-77" not in report.as_text()
    assert "with a user name" in report.proxy
    assert report.failed_step == step(report, STEP_CONNECT)


def test_https_proxy_skips_separate_tls(
    https_server: RecordingHttpsServer, proxy: RecordingProxy
) -> None:
    https_proxy = proxy.url.replace("http://", "https://")

    report = run_check(https_server.address, proxy_mode="manual", proxy_url=https_proxy)

    assert step(report, STEP_TLS).status == "skipped"
    assert "https:// proxy" in step(report, STEP_TLS).detail
    assert report.failed_step == step(report, STEP_HTTP)


def test_invalid_proxy_port_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:port")
    address = parse_vault_address("myvault.veevavault.com")

    report = run_check(address)

    assert report.failed_step == step(report, STEP_RESOLVE)
    assert "invalid port" in step(report, STEP_RESOLVE).detail
    assert report.proxy.startswith("an invalid proxy address")


# Help-desk summary


def test_summary_lists_folders_and_settings(paths: AppPaths) -> None:
    summary = diagnostic_summary(paths, '[network]\nproxy_mode = "system"\n')

    assert str(paths.log_dir) in summary
    assert str(paths.config_dir) in summary
    assert 'proxy_mode = "system"' in summary
    assert "Python: 3." in summary
    assert "Qt: " in summary


def test_summary_includes_recent_errors(paths: AppPaths) -> None:
    configure_logging(paths)
    try:
        logging.getLogger("tests.diagnostics").error("summary error 5b7c")
        summary = diagnostic_summary(paths, "")
    finally:
        remove_log_handlers()

    assert "summary error 5b7c" in summary


def test_summary_masks_settings_secrets(paths: AppPaths) -> None:
    summary = diagnostic_summary(paths, 'password = "Settings-Secret-9"\n')

    assert "Settings-Secret-9" not in summary


# The dialog


def test_dialog_shows_report(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, demo_vault: DemoVault
) -> None:
    dialog = ConnectionCheckDialog(
        parse_vault_address(demo_vault.address), NetworkSettings()
    )
    qtbot.addWidget(dialog)

    dialog.open()
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=10_000)

    text = dialog.findChild(QPlainTextEdit, "connectionReportText").toPlainText()
    assert "Result: OK" in text
    assert STEP_HTTP in text


def test_dialog_copies_report(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, demo_vault: DemoVault
) -> None:
    dialog = ConnectionCheckDialog(
        parse_vault_address(demo_vault.address), NetworkSettings()
    )
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=10_000)

    qtbot.mouseClick(
        dialog.findChild(QPushButton, "copyReportButton"), Qt.MouseButton.LeftButton
    )

    assert dialog.report is not None
    assert QGuiApplication.clipboard().text() == dialog.report.as_text()


def test_dialog_names_failed_step(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop
) -> None:
    address = parse_vault_address(f"http://127.0.0.1:{free_port()}")
    dialog = ConnectionCheckDialog(address, NetworkSettings())
    qtbot.addWidget(dialog)

    dialog.open()
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=10_000)

    assert dialog.objectName() == "connectionCheckDialog"
    assert STEP_CONNECT in dialog.status_label.text()
