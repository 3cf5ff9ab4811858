"""Routing and endpoints of the demo Vault: what each Vault API call returns."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from vaultgui.demo import vql
from vaultgui.demo.data import (
    QUERY_FIELDS,
    SANDBOX_VAULT_ID,
    SANDBOX_VAULT_NAME,
    SANDBOX_VAULT_URL,
    VAULT_ID,
    VAULT_NAME,
    ArchiveStore,
    CancelOutcome,
    DemoUser,
    SessionStore,
    SignInError,
    check_credentials,
)
from vaultgui.demo.wire import Call, Envelope, Fault, Reply, failure, json_reply

logger = logging.getLogger(__name__)

API_VERSIONS = ("v23.1", "v23.2", "v23.3", "v24.1", "v24.2", "v24.3", "v25.1", "v25.2")
_VERSION = r"(?P<version>v\d+\.\d+)"
_RECORD = r"vobjects/submission__v/(?P<submission_id>[^/]+)"
CANCEL_PATH = re.compile(rf"/api/{_VERSION}/{_RECORD}/actions/import/?")

_Endpoint = Callable[["VaultApi", Call, "re.Match[str]", DemoUser | None], Envelope]


@dataclass(frozen=True)
class _Route:
    pattern: re.Pattern[str]
    method: str
    fault_route: str | None
    needs_session: bool
    endpoint: _Endpoint


class VaultApi:
    """The Vault API endpoints over one archive and session store.

    ``address`` returns the server's base address, known only once it is bound.
    """

    def __init__(
        self,
        archive: ArchiveStore,
        sessions: SessionStore,
        address: Callable[[], str],
    ) -> None:
        self._archive = archive
        self._sessions = sessions
        self._address = address

    def fault_route(self, call: Call) -> str | None:
        """Return the inject_fault route name of the call, or None for other paths."""
        route, _, _ = _find_route(call)
        return route.fault_route if route is not None else None

    def process(self, call: Call) -> Reply:
        """Run the request against the Vault's state and build the JSON reply."""
        user = self._user_of(call)
        route, match, routing_error = _find_route(call)
        if route is None or match is None:
            envelope = routing_error
        elif route.needs_session and user is None:
            envelope = _invalid_session()
        else:
            envelope = route.endpoint(self, call, match, user)
        return json_reply(envelope, call, user.user_id if user else None)

    def fault_reply(self, call: Call, fault: Fault) -> Reply:
        """Build the reply of a "failure", "exception" or "session_expired" fault."""
        if fault.kind == "session_expired":
            self._sessions.end(call.session_id)
            return json_reply(_invalid_session(), call, None)

        if fault.kind == "exception":
            message = fault.message or "An unexpected error occurred in Vault."
            envelope: Envelope = {
                "responseStatus": "EXCEPTION",
                "errors": [{"type": "UNEXPECTED_ERROR", "message": message}],
            }
        else:
            message = fault.message or "The operation is not allowed right now."
            envelope = failure(fault.error_type, message)
        user = self._user_of(call)
        return json_reply(envelope, call, user.user_id if user else None)

    def _user_of(self, call: Call) -> DemoUser | None:
        if not call.session_id:
            return None
        return self._sessions.resolve(call.session_id)

    def _api_versions(
        self, call: Call, match: re.Match[str], user: DemoUser | None
    ) -> Envelope:
        values = {
            version: f"{self._address()}/api/{version}" for version in API_VERSIONS
        }
        return {"responseStatus": "SUCCESS", "values": values}

    def _api_auth(
        self, call: Call, match: re.Match[str], user: DemoUser | None
    ) -> Envelope:
        username = call.form.get("username", "")
        try:
            signed_in = check_credentials(username, call.form.get("password", ""))
        except SignInError as error:
            logger.info("Sign-in of %r rejected: %s", username, error.error_type)
            envelope = failure(error.error_type, str(error))
            envelope["errorType"] = "AUTHENTICATION_FAILED"
            return envelope

        logger.info("User %s signed in", signed_in.username)
        return {
            "responseStatus": "SUCCESS",
            "sessionId": self._sessions.open(signed_in),
            "userId": signed_in.user_id,
            "vaultIds": [
                {"id": VAULT_ID, "name": VAULT_NAME, "url": f"{self._address()}/api"},
                {
                    "id": SANDBOX_VAULT_ID,
                    "name": SANDBOX_VAULT_NAME,
                    "url": SANDBOX_VAULT_URL,
                },
            ],
            "vaultId": signed_in.vault_id,
        }

    def _api_end_session(
        self, call: Call, match: re.Match[str], user: DemoUser | None
    ) -> Envelope:
        self._sessions.end(call.session_id)
        return {"responseStatus": "SUCCESS"}

    def _api_keep_alive(
        self, call: Call, match: re.Match[str], user: DemoUser | None
    ) -> Envelope:
        return {"responseStatus": "SUCCESS"}

    def _api_me(
        self, call: Call, match: re.Match[str], user: DemoUser | None
    ) -> Envelope:
        assert user is not None  # the route requires a session
        fields = {
            "id": user.user_id,
            "user_name__v": user.username,
            "user_first_name__v": user.first_name,
            "user_last_name__v": user.last_name,
            "user_email__v": user.username,
        }
        return {"responseStatus": "SUCCESS", "users": [{"user": fields}]}

    def _api_record(
        self, call: Call, match: re.Match[str], user: DemoUser | None
    ) -> Envelope:
        submission_id = match["submission_id"]
        submission = self._archive.get(submission_id)
        if submission is None:
            logger.info("Record %s not found", submission_id)
            return _unknown_record(submission_id)
        details = {
            "url": call.path,
            "object": {
                "name": "submission__v",
                "label": "Submission",
                "label_plural": "Submissions",
                "url": f"/api/{match['version']}/metadata/vobjects/submission__v",
            },
        }
        data = submission.record_fields()
        return {"responseStatus": "SUCCESS", "responseDetails": details, "data": data}

    def _api_query(
        self, call: Call, match: re.Match[str], user: DemoUser | None
    ) -> Envelope:
        text = call.form.get("q") or call.query.get("q", "")
        if not text:
            return failure("PARAMETER_REQUIRED", "Missing required parameter [q].")
        try:
            query = vql.parse_query(text)
            vql.validate_query(query, QUERY_FIELDS)
        except vql.VqlError as error:
            logger.info("Query rejected with %s: %s", error.error_type, error)
            return failure(error.error_type, str(error))

        rows = vql.select_rows(query, self._archive.query_rows(query.object_name))
        size = len(rows)
        details = {"pagesize": 1000, "pageoffset": 0, "size": size, "total": size}
        return {"responseStatus": "SUCCESS", "responseDetails": details, "data": rows}

    def _api_cancel(
        self, call: Call, match: re.Match[str], user: DemoUser | None
    ) -> Envelope:
        submission_id = match["submission_id"]
        if call.query.get("cancel", "").lower() != "true":
            return failure(
                "PARAMETER_REQUIRED",
                "Missing required parameter [cancel]: the demo Vault supports only "
                "cancel=true on this endpoint.",
            )
        outcome, prior = self._archive.cancel(submission_id)
        if outcome is CancelOutcome.NOT_FOUND:
            logger.info("Cancel of unknown submission %s rejected", submission_id)
            return _unknown_record(submission_id)
        if outcome is CancelOutcome.NOT_ALLOWED:
            logger.info("Cancel of %s rejected in %s", submission_id, prior or "null")
            return failure(
                "OPERATION_NOT_ALLOWED",
                f"Cannot cancel submission [{submission_id}] while its "
                f"archive_status__v is [{prior or 'null'}].",
            )
        logger.info("Cancel of %s accepted in %s", submission_id, prior)
        return {"responseStatus": "SUCCESS"}


def _find_route(call: Call) -> tuple[_Route | None, re.Match[str] | None, Envelope]:
    """Return the route, its path match and {}, or two Nones and the routing error."""
    path_found = False
    for route in _ROUTES:
        match = route.pattern.fullmatch(call.path)
        if match is None:
            continue
        if route.method == call.method:
            return route, match, {}
        path_found = True
    if path_found:
        message = f"Method [{call.method}] is not supported for [{call.path}]."
        return None, None, failure("METHOD_NOT_SUPPORTED", message)
    message = f"The resource [{call.path}] does not exist."
    return None, None, failure("MALFORMED_URL", message)


def _invalid_session() -> Envelope:
    return failure("INVALID_SESSION_ID", "Invalid or expired session ID.")


def _unknown_record(submission_id: str) -> Envelope:
    return failure(
        "INVALID_DATA",
        f"Invalid value [{submission_id}] specified for parameter [object_record_id].",
    )


def _route(
    suffix: str,
    method: str,
    fault_route: str | None,
    endpoint: _Endpoint,
    *,
    needs_session: bool = True,
) -> _Route:
    pattern = re.compile(rf"/api/{_VERSION}/{suffix}/?")
    return _Route(pattern, method, fault_route, needs_session, endpoint)


_ROUTES = (
    _Route(re.compile(r"/api/?"), "GET", None, False, VaultApi._api_versions),
    _route("auth", "POST", "auth", VaultApi._api_auth, needs_session=False),
    _route("session", "DELETE", "session", VaultApi._api_end_session),
    _route("keep-alive", "POST", None, VaultApi._api_keep_alive),
    _route("objects/users/me", "GET", None, VaultApi._api_me),
    _route(_RECORD, "GET", "record", VaultApi._api_record),
    _route("query", "POST", "query", VaultApi._api_query),
    _route(f"{_RECORD}/actions/import", "POST", "cancel", VaultApi._api_cancel),
)
