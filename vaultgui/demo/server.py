"""The demo Vault: a Veeva Vault REST API simulator served over loopback HTTP."""

from __future__ import annotations

import logging
import threading
from types import TracebackType

from vaultgui.demo.api import CANCEL_PATH, VaultApi
from vaultgui.demo.data import (
    VAULT_ID,
    VAULT_NAME,
    ArchiveStore,
    SessionStore,
    Submission,
    utc_timestamp,
)
from vaultgui.demo.wire import (
    FAULT_PARAMS,
    FAULT_ROUTES,
    BurstCounter,
    Call,
    Fault,
    HttpServer,
    RecordedRequest,
    Reply,
    RequestHandler,
    make_fault,
)

logger = logging.getLogger(__name__)


class DemoVault:
    """A Vault REST API simulator on a loopback port, for the demo and the tests.

    Each instance has its own copy of the sample submissions. Replies follow
    Vault: HTTP 200 with a JSON envelope, errors included, unless an injected
    fault changes the reply. ``advance_seconds`` None keeps statuses still, and a
    number moves submissions 00S000000000112 and 00S000000000113 one step per
    interval. ``cancel_settle_seconds`` > 0 delays the status change of an
    accepted cancel. Sessions expire after ``session_idle_seconds`` unused.
    """

    vault_id: int = VAULT_ID
    vault_name: str = VAULT_NAME

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        advance_seconds: float | None = None,
        cancel_settle_seconds: float = 0.0,
        session_idle_seconds: float = 1200.0,
    ) -> None:
        self._host = host
        self._port = port
        self._archive = ArchiveStore(
            advance_seconds=advance_seconds,
            cancel_settle_seconds=cancel_settle_seconds,
        )
        self._sessions = SessionStore(session_idle_seconds)
        self._api = VaultApi(self._archive, self._sessions, lambda: self.address)
        self._lock = threading.Lock()
        self._recorded: list[RecordedRequest] = []
        self._faults: list[Fault] = []
        self._burst = BurstCounter()
        self._stopping = threading.Event()
        self._server: HttpServer | None = None
        self._thread: threading.Thread | None = None

    # Lifecycle

    def start(self) -> DemoVault:
        """Bind the port, serve requests on a daemon thread and return self."""
        if self._server is not None:
            raise RuntimeError("This DemoVault was already started.")
        server = HttpServer((self._host, self._port), RequestHandler)
        server.backend = self
        self._server = server
        self._port = server.server_port
        self._archive.start_clock()
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"demo-vault-{self._port}",
            daemon=True,
        )
        self._thread.start()
        logger.info("Demo Vault started at %s", self.address)
        return self

    def stop(self) -> None:
        """Stop serving and wake every stalled request. Safe to call twice.

        A request stalled by a fault ends without a reply, so this returns
        within about a second whatever the faults are.
        """
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._archive.stop_clock()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
        logger.info("Demo Vault at %s stopped", self.address)

    def __enter__(self) -> DemoVault:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """TCP port, the bound one once started."""
        return self._port

    @property
    def address(self) -> str:
        """Base address, e.g. ``http://127.0.0.1:8123``, without a trailing slash."""
        return f"http://{self._host}:{self._port}"

    # Test controls

    def set_status(self, submission_id: str, archive_status: str) -> None:
        """Overwrite a submission's archive status, where "" means null.

        A pending delayed cancel is dropped and the submission may move on the
        timer again. Raises KeyError for an unknown ID.
        """
        self._archive.set_status(submission_id, archive_status)

    def get_status(self, submission_id: str) -> str:
        """Return the stored archive status, "" for null. Raises KeyError."""
        submission = self._archive.get(submission_id)
        if submission is None:
            raise KeyError(submission_id)
        return submission.archive_status

    def add_submission(
        self,
        submission_id: str,
        name: str,
        archive_status: str,
        application_id: str = "00A000000000201",
    ) -> None:
        """Add (or replace) a submission, which never moves on the timer."""
        created = utc_timestamp()
        self._archive.add(
            Submission(
                submission_id=submission_id,
                name=name,
                archive_status=archive_status,
                application_id=application_id,
                created_date=created,
                modified_date=created,
            )
        )

    def expire_sessions(self) -> None:
        """Make every current session ID invalid."""
        self._sessions.end_all()

    @property
    def requests(self) -> list[RecordedRequest]:
        """Snapshot of every request received so far, oldest first."""
        with self._lock:
            return list(self._recorded)

    def cancel_count(self, submission_id: str | None = None) -> int:
        """Count the POST …/actions/import?cancel=true requests received.

        Every one counts, whether accepted, rejected or hit by a fault, for one
        submission or, with None, for all. clear_requests() resets the count.
        """
        count = 0
        for request in self.requests:
            match = CANCEL_PATH.fullmatch(request.path)
            if request.method != "POST" or match is None:
                continue
            if request.query.get("cancel", "").lower() != "true":
                continue
            if submission_id is None or match["submission_id"] == submission_id:
                count += 1
        return count

    def clear_requests(self) -> None:
        """Forget the recorded requests."""
        with self._lock:
            self._recorded.clear()

    def inject_fault(
        self, route: str, kind: str, *, count: int = 1, **params: object
    ) -> None:
        """Make the next ``count`` requests on ``route`` misbehave in one way.

        ``route`` is "auth" (POST /auth), "record" (GET a submission), "query",
        "cancel" (POST …/actions/import), "session" (DELETE /session) or "any".
        Faults are used in the order injected. Each request is recorded first.
        Kinds, with their params (defaults in brackets):

        - "failure": FAILURE with ``error_type`` [OPERATION_NOT_ALLOWED] and
          ``message``; the request is not processed, so a cancel is not applied.
        - "exception": EXCEPTION with UNEXPECTED_ERROR; not processed.
        - "session_expired": FAILURE INVALID_SESSION_ID; not processed, and the
          session sent with the request becomes invalid.
        - "html": HTTP 200 text/html page, as from a proxy.
        - "http_status": HTTP ``status`` [502] with an HTML page.
          For both, ``apply`` [False] processes the request before replying.
        - "invalid_json": the request is processed, then the JSON reply body
          is replaced with text that is not JSON.
        - "truncated_json": the request is processed and the reply cut in half.
        - "stall": wait ``seconds`` [10.0], then process and reply normally,
          even if the client gave up. When stop() cuts the wait short the
          connection closes without a reply, after processing if ``apply``
          [False] is true.
        - "apply_then_stall": process, then delay the reply ``seconds`` [10.0].
        - "reset": process only if ``apply`` [False], then reset the connection
          without a reply.
        - "throttle": sleep ``delay_ms`` [500], then reply normally with
          ``X-VaultAPI-ResponseDelay`` and ``X-VaultAPI-BurstLimitRemaining``
          set to ``burst_remaining`` [0].

        Raises ValueError for an unknown route, kind or param.
        """
        if route not in FAULT_ROUTES:
            raise ValueError(f"Unknown fault route {route!r}: use {FAULT_ROUTES}.")
        if kind not in FAULT_PARAMS:
            raise ValueError(f"Unknown fault kind {kind!r}: use {set(FAULT_PARAMS)}.")
        fault = make_fault(route, kind, count, params)
        with self._lock:
            self._faults.append(fault)
        logger.info("Fault %s injected on route %s (%d times)", kind, route, count)

    def clear_faults(self) -> None:
        """Drop every fault not yet used."""
        with self._lock:
            self._faults.clear()

    # Backend hooks used by wire.RequestHandler

    def admit(self, call: Call) -> Fault | None:
        """Record the call, count it against the burst limit, take a fault."""
        fault_route = self._api.fault_route(call)
        with self._lock:
            self._recorded.append(call.to_record())
            call.burst_remaining = self._burst.take()
            for fault in self._faults:
                if fault.route in ("any", fault_route):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    logger.info("Fault %s applied to %s", fault.kind, call.path)
                    return fault
        return None

    def pause(self, seconds: float) -> bool:
        """Wait up to ``seconds`` and return True when stop() cut the wait short."""
        return self._stopping.wait(max(seconds, 0.0))

    def process(self, call: Call) -> Reply:
        """Run the request against the Vault's state and build the JSON reply."""
        return self._api.process(call)

    def fault_reply(self, call: Call, fault: Fault) -> Reply:
        """Build the reply of a "failure", "exception" or "session_expired" fault."""
        return self._api.fault_reply(call, fault)
