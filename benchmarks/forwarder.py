"""A loopback TCP or TLS forwarder that counts the connections clients open."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import threading
from types import TracebackType

from vaultgui.demo import DemoVault

log = logging.getLogger(__name__)

_CHUNK = 65536
# Seconds to wait for a TLS handshake or an upstream connection.
_SETUP_TIMEOUT = 10.0


class CountingForwarder:
    """Forward every connection on 127.0.0.1 to one upstream server.

    With ``ssl_context`` it terminates TLS first, so a client speaks HTTPS to
    the forwarder and the upstream receives plain HTTP. :attr:`connections` counts
    accepted TCP connections and :attr:`handshakes` completed TLS handshakes.
    When the upstream closes its side, the client's connection is closed too,
    so a server that closes after each reply looks the same to the client as
    it would without the forwarder.
    """

    def __init__(
        self, upstream: tuple[str, int], ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.upstream = upstream
        self.ssl_context = ssl_context
        self.connections = 0
        self.handshakes = 0
        self.port = 0
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="counting-forwarder", daemon=True
        )
        self._server: asyncio.Server | None = None

    @property
    def address(self) -> str:
        """Base address for a client, ``https://`` when TLS is on."""
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def start(self) -> CountingForwarder:
        """Listen on a free loopback port and return self."""
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        self.port = future.result(timeout=_SETUP_TIMEOUT)
        return self

    def stop(self) -> None:
        """Stop listening, drop open connections and end the thread."""
        if not self._thread.is_alive():
            return
        future = asyncio.run_coroutine_threadsafe(self._close(), self._loop)
        future.result(timeout=_SETUP_TIMEOUT)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=_SETUP_TIMEOUT)
        self._loop.close()

    def reset_counts(self) -> None:
        """Set both counters back to zero."""
        with self._lock:
            self.connections = 0
            self.handshakes = 0

    def __enter__(self) -> CountingForwarder:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    async def _listen(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
            # Handlers still running are cancelled when the loop stops.
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 1.0)
        for task in asyncio.all_tasks(self._loop):
            if task is not asyncio.current_task():
                task.cancel()

    async def _serve(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        with self._lock:
            self.connections += 1
        try:
            if self.ssl_context is not None:
                await asyncio.wait_for(
                    client_writer.start_tls(self.ssl_context), _SETUP_TIMEOUT
                )
                with self._lock:
                    self.handshakes += 1
            upstream_reader, upstream_writer = await asyncio.wait_for(
                asyncio.open_connection(*self.upstream), _SETUP_TIMEOUT
            )
        except (TimeoutError, OSError, ssl.SSLError) as error:
            log.warning("Forwarder could not set up a connection: %r", error)
            client_writer.close()
            return
        to_upstream = asyncio.ensure_future(
            _copy(client_reader, upstream_writer, half_close=True)
        )
        await _copy(upstream_reader, client_writer, half_close=False)
        to_upstream.cancel()
        upstream_writer.close()


async def _copy(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, half_close: bool
) -> None:
    """Copy bytes until end of stream, then half-close or close ``writer``."""
    try:
        while data := await reader.read(_CHUNK):
            writer.write(data)
            await writer.drain()
        if half_close and writer.can_write_eof():
            writer.write_eof()
        else:
            writer.close()
    except (OSError, ssl.SSLError) as error:
        log.debug("Forwarded connection ended: %r", error)
        writer.close()


class ForwardedDemoVault(DemoVault):
    """A DemoVault whose ``/auth`` reply names the forwarder's address.

    VaultClient rejects a session opened in a Vault whose URL has another host
    or port than the address it signed in to, so behind a forwarder the demo
    must report the forwarder's address instead of its own.
    """

    public_address = ""

    @property
    def address(self) -> str:
        """The forwarder's address once set, else the demo's own address."""
        return self.public_address or f"http://127.0.0.1:{self.port}"
