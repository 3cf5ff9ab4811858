"""Sign-in over TLS with a certificate from a test certificate authority."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from pytestqt.qtbot import QtBot

from tests.gui_helpers import WAIT_MS, label_text
from tests.test_client import CannedVault
from vaultgui.services.address import VaultAddress
from vaultgui.services.client import VaultClient
from vaultgui.services.settings import NetworkSettings
from vaultgui.ui.login_dialog import LoginDialog

TLS_VARIABLES = (
    "REQUESTS_CA_BUNDLE",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "CURL_CA_BUNDLE",
)


@pytest.fixture(autouse=True)
def clean_tls_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in TLS_VARIABLES:
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def authority() -> trustme.CA:
    return trustme.CA(organization_name="Acme Inspection Proxy CA")


@pytest.fixture
def tls_vault(authority: trustme.CA) -> Iterator[CannedVault]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    server = CannedVault(context)
    server.reply_auth(f"http://127.0.0.1:{server.port}/api")
    yield server
    server.stop()


def make_dialog(qtbot: QtBot, address: str, network: NetworkSettings) -> LoginDialog:
    def factory(vault: VaultAddress) -> VaultClient:
        return VaultClient(vault, extra_ca_file=network.extra_ca_file or None)

    dialog = LoginDialog(
        vault=address,
        username="user@example.com",
        password="secret-password",
        client_factory=factory,
        network=network,
    )
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_unknown_ca_names_issuer(
    qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tls_vault: CannedVault
) -> None:
    dialog = make_dialog(qtbot, tls_vault.address, NetworkSettings())

    dialog.sign_in_button.click()
    qtbot.waitUntil(
        lambda: "Acme Inspection Proxy CA" in label_text(dialog, "loginMessageLabel"),
        timeout=WAIT_MS,
    )

    message = label_text(dialog, "loginMessageLabel")
    assert "Contact your IT department" in message
    assert tls_vault.received == []


def test_extra_ca_file_allows_sign_in(
    qtbot: QtBot,
    qloop: asyncio.AbstractEventLoop,
    tls_vault: CannedVault,
    authority: trustme.CA,
    tmp_path: Path,
) -> None:
    ca_file = tmp_path / "company-ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    dialog = make_dialog(
        qtbot, tls_vault.address, NetworkSettings(extra_ca_file=str(ca_file))
    )

    with qtbot.waitSignal(dialog.signed_in, timeout=WAIT_MS) as signal:
        dialog.sign_in_button.click()

    client, _session = signal.args
    assert client.signed_in
    client.close()


def test_no_code_disables_verification() -> None:
    package = Path(__file__).resolve().parent.parent / "vaultgui"
    sources = {
        path.name: path.read_text(encoding="utf-8") for path in package.rglob("*.py")
    }

    assert not any("verify=False" in source for source in sources.values())
    # The connection check alone reads an untrusted certificate to show its
    # issuer, on a connection that sends nothing.
    unverified = sorted(
        name for name, source in sources.items() if "CERT_NONE" in source
    )
    assert unverified == ["diagnostics.py"]
