"""The client's proxy choices: system, none and manual."""

from __future__ import annotations

import logging
import socketserver
import threading
from collections.abc import Iterator

import pytest

from vaultgui.services.address import parse_vault_address
from vaultgui.services.client import Timeouts, VaultClient
from vaultgui.services.errors import TransportError


class RecordingProxy(socketserver.ThreadingTCPServer):
    """An HTTP proxy on 127.0.0.1 that records request lines and refuses them."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.request_lines: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _ProxyHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        line = self.rfile.readline().decode("latin-1").strip()
        assert isinstance(self.server, RecordingProxy)
        self.server.request_lines.append(line)
        while self.rfile.readline() not in (b"\r\n", b""):
            pass
        self.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")


@pytest.fixture
def proxy() -> Iterator[RecordingProxy]:
    server = RecordingProxy()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def make_client(mode: str, proxy_url: str = "") -> VaultClient:
    return VaultClient(
        parse_vault_address("vault.invalid"),
        timeouts=Timeouts(connect=2.0, read=2.0),
        proxy_mode=mode,
        proxy_url=proxy_url,
    )


def test_manual_proxy_receives_connect(proxy: RecordingProxy) -> None:
    client = make_client("manual", proxy.url)

    with pytest.raises(TransportError):
        client.sign_in("user@example.com", "secret")

    assert [line.split()[:2] for line in proxy.request_lines] == [
        ["CONNECT", "vault.invalid:443"]
    ]


def test_none_ignores_environment_proxy(
    proxy: RecordingProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    client = make_client("none")

    with pytest.raises(TransportError):
        client.sign_in("user@example.com", "secret")

    assert proxy.request_lines == []


def test_system_uses_environment_proxy(
    proxy: RecordingProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    client = make_client("system")

    with pytest.raises(TransportError):
        client.sign_in("user@example.com", "secret")

    assert [line.split()[:2] for line in proxy.request_lines] == [
        ["CONNECT", "vault.invalid:443"]
    ]


def test_manual_without_address_rejected() -> None:
    with pytest.raises(ValueError, match="needs a proxy address"):
        make_client("manual")


def test_proxy_credentials_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        make_client("manual", "http://alice:hunter2@proxy.invalid:8080")

    assert "hunter2" not in caplog.text
    assert "proxy.invalid:8080" in caplog.text
