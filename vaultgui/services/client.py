"""Vault REST client: sign-in, submission lookup and Submissions Archive cancel."""

from __future__ import annotations

import dataclasses
import logging
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from vaultgui.services.address import VaultAddress
from vaultgui.services.errors import (
    AuthenticationError,
    NotFoundError,
    SessionExpiredError,
    VaultApiError,
    VaultError,
    WrongVaultError,
)
from vaultgui.services.logsetup import register_secret
from vaultgui.services.models import ApiLimits, CancelReply, SignInResult, Submission
from vaultgui.services.transport import (
    JsonObject,
    Timeouts,
    VaultTransport,
    bad_response,
)
from vaultgui.services.vql import quote_vql_string

__all__ = [
    "DEFAULT_API_VERSION",
    "DEFAULT_CLIENT_ID",
    "Timeouts",
    "VaultClient",
    "is_record_id",
]

logger = logging.getLogger(__name__)

DEFAULT_API_VERSION = "v25.2"
DEFAULT_CLIENT_ID = "vaultgui-rim-client-archivecancel"

REFERENCE_ID_HEADER = "X-VaultAPI-ReferenceID"

# A three-character object prefix followed by twelve characters, all upper-case
# letters or digits, such as 00S000000000101.
_RECORD_ID = re.compile(r"[0-9A-Z]{3}[0-9A-Z]{12}")
_API_VERSION = re.compile(r"v\d+\.\d+")
# Vault accepts client ids of letters, digits, ".", "_" and "-", at most 100 long.
_CLIENT_ID = re.compile(r"[A-Za-z0-9._-]{1,100}")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_SUBMISSION_FIELDS = (
    "id, name__v, archive_status__v, application__v, application__vr.name__v"
)
# Upper limits, in seconds, for sign-out, which runs on the way out of the app
# and so must not wait as long as other calls.
_SIGN_OUT_MAX_CONNECT = 5.0
_SIGN_OUT_MAX_READ = 10.0


def _proxy_choice(
    address: VaultAddress, proxy_mode: str, proxy_url: str
) -> tuple[bool, dict[str, str] | None]:
    """Return ``(trust_env, proxies)`` for the transport.

    "system" takes the proxy from the environment, "none" connects directly and
    "manual" sends every call through ``proxy_url``. A loopback Vault is always
    reached directly.
    """
    if proxy_mode not in ("system", "none", "manual"):
        raise ValueError(
            f"Invalid proxy mode {proxy_mode!r}. Use system, none or manual."
        )
    if proxy_mode == "manual" and not proxy_url:
        raise ValueError("The manual proxy choice needs a proxy address.")
    if address.is_loopback or proxy_mode == "none":
        logger.info("Connecting to %s without a proxy", address.netloc)
        return False, {}
    if proxy_mode == "manual":
        logger.info(
            "Connecting to %s through the proxy %s",
            address.netloc,
            urlsplit(proxy_url).netloc.rpartition("@")[2],
        )
        return False, {"http": proxy_url, "https": proxy_url}
    logger.info("Connecting to %s with the system proxy settings", address.netloc)
    return True, None


def is_record_id(text: str) -> bool:
    """Return whether ``text``, once stripped, has the shape of a Vault record ID."""
    return _RECORD_ID.fullmatch(text.strip()) is not None


@dataclass(frozen=True)
class _VaultEntry:
    """One entry of the ``vaultIds`` list in an ``/auth`` reply."""

    vault_id: str
    name: str
    url: str


class VaultClient:
    """Client for one Vault, with at most one session at a time.

    Calls block, so a GUI runs them in a worker thread. Every failed call raises
    a :class:`~vaultgui.services.errors.VaultError` subclass. Arguments that
    cannot be valid raise ``ValueError`` before any request is sent.
    """

    def __init__(
        self,
        address: VaultAddress,
        *,
        api_version: str = DEFAULT_API_VERSION,
        client_id: str = DEFAULT_CLIENT_ID,
        timeouts: Timeouts = Timeouts(),  # noqa: B008 - frozen, so shared safely
        extra_ca_file: str | None = None,
        proxy_mode: str = "system",
        proxy_url: str = "",
    ) -> None:
        if not _API_VERSION.fullmatch(api_version):
            raise ValueError(
                f"Invalid API version {api_version!r}. Use a value like v25.2."
            )
        if not _CLIENT_ID.fullmatch(client_id):
            raise ValueError(
                f"Invalid client id {client_id!r}. Use at most 100 letters, digits, "
                "'.', '_' or '-'."
            )
        self.address = address
        self.api_version = api_version
        self._username = ""
        self._sign_out_timeouts = Timeouts(
            connect=min(timeouts.connect, _SIGN_OUT_MAX_CONNECT),
            read=min(timeouts.read, _SIGN_OUT_MAX_READ),
        )
        trust_env, proxies = _proxy_choice(address, proxy_mode, proxy_url)
        self._transport = VaultTransport(
            address.base_url,
            client_id=client_id,
            timeouts=timeouts,
            extra_ca_file=extra_ca_file,
            trust_env=trust_env,
            proxies=proxies,
        )

    @property
    def signed_in(self) -> bool:
        """Whether the client has a session id that Vault has not rejected."""
        return bool(self._transport.session_id)

    @property
    def username(self) -> str:
        """User name of the latest sign-in, or empty before sign-in and after sign-out.

        It is kept when Vault rejects the session, so the same user can sign in again.
        """
        return self._username

    @property
    def last_execution_id(self) -> str:
        """``X-VaultAPI-ExecutionId`` of the latest call's reply, or empty."""
        return self._transport.last_execution_id

    @property
    def last_limits(self) -> ApiLimits:
        """Throttling and downtime headers of the latest reply."""
        return self._transport.last_limits

    def take_notable_limits(self) -> ApiLimits:
        """Return the latest delayed or downtime reply since the last call of this.

        A method such as :meth:`lookup` makes several calls, and only the last
        one's headers are in :attr:`last_limits`. Returns :attr:`last_limits`
        when no reply was notable.
        """
        notable = self._transport.notable_limits
        self._transport.notable_limits = None
        return notable or self.last_limits

    def keep_alive(self) -> None:
        """Extend the session with ``POST /keep-alive``.

        Raises :class:`SessionExpiredError` when Vault no longer accepts the
        session, and does nothing when not signed in.
        """
        if not self.signed_in:
            return
        self._transport.request("POST", self._api_path("keep-alive"), idempotent=True)

    def sign_in(self, username: str, password: str) -> SignInResult:
        """Start a session with a user name and password.

        Ends the current session first, if any. Raises
        :class:`AuthenticationError` when Vault rejects the credentials and
        :class:`WrongVaultError` when Vault opened the session in a Vault other
        than ``address`` (the session id is then dropped, never used).
        """
        if self.signed_in:
            self.sign_out()
        if password:
            register_secret(password)
        try:
            body = self._transport.request(
                "POST",
                self._api_path("auth"),
                data={"username": username, "password": password},
            )
        except VaultApiError as error:
            if error.response_status != "FAILURE":
                raise
            raise AuthenticationError(
                error.detail,
                response_status=error.response_status,
                errors=error.errors,
                execution_id=error.execution_id,
                http_status=error.http_status,
            ) from error

        session_id, user_id, session_entry = self._parse_auth_reply(body)
        entry = self._require_requested_vault(session_entry)
        self._transport.session_id = session_id
        self._username = username
        logger.info("Signed in as user id %s to Vault %s", user_id, entry.vault_id)
        return SignInResult(
            user_id=user_id,
            username=username,
            vault_id=entry.vault_id,
            vault_name=entry.name,
            vault_url=entry.url,
            execution_id=self.last_execution_id,
        )

    def sign_out(self) -> None:
        """End the session with ``DELETE /session`` and forget it.

        Best effort: a failed call is logged and the session id is forgotten
        anyway. Sends nothing when not signed in. Waits at most 5 seconds to
        connect and 10 seconds for the reply.
        """
        if not self.signed_in:
            self._username = ""
            return
        try:
            self._transport.request(
                "DELETE", self._api_path("session"), timeouts=self._sign_out_timeouts
            )
        except VaultError as error:
            logger.warning("Sign-out failed, session forgotten anyway: %s", error)
        finally:
            self._transport.session_id = ""
            self._username = ""

    def get_submission(
        self, submission_id: str, *, with_application_name: bool = True
    ) -> Submission:
        """Read one ``submission__v`` record by its record ID.

        Raises :class:`NotFoundError` when Vault rejects the id as
        ``INVALID_DATA``. The application name comes from a second, best-effort
        query and is left empty if that query fails. A status re-read passes
        ``with_application_name=False`` to skip that call.
        """
        record_id = _validated_record_id(submission_id)
        path = self._api_path(f"vobjects/submission__v/{record_id}")
        try:
            body = self._transport.request("GET", path, idempotent=True)
        except VaultApiError as error:
            if isinstance(error, SessionExpiredError) or not any(
                error_type == "INVALID_DATA" for error_type, _ in error.errors
            ):
                raise
            raise NotFoundError(
                f"No submission has the record ID {record_id}.",
                error_type=error.error_type,
                vault_message=error.vault_message,
                execution_id=error.execution_id,
            ) from error

        data = body.get("data")
        if not isinstance(data, dict):
            raise bad_response(
                f"GET {path} returned no data object.", self.last_execution_id
            )
        submission = self._submission_from_fields(data, "application__v")
        if not with_application_name:
            return submission
        application_name = self._application_name(submission.application_id)
        return dataclasses.replace(submission, application_name=application_name)

    def find_submissions(self, name: str) -> list[Submission]:
        """Return the submissions whose ``name__v`` equals ``name`` exactly.

        Names repeat across applications, so several may match. The list is
        sorted by application name, application id, then record ID, and is
        empty when nothing matches.
        """
        if not name.strip():
            raise ValueError("The submission name to look up is empty.")
        rows = self._query(
            f"SELECT {_SUBMISSION_FIELDS} FROM submission__v "
            f"WHERE name__v = {quote_vql_string(name)}"
        )
        submissions = [
            self._submission_from_fields(row, "application__v") for row in rows
        ]
        return sorted(
            submissions,
            key=lambda item: (item.application_name, item.application_id, item.id),
        )

    def lookup(
        self, text: str, *, with_application_name: bool = True
    ) -> list[Submission]:
        """Find submissions by record ID or, failing that, by exact name.

        Text shaped like a record ID is read as one. If Vault does not know that
        ID, it is tried as a name. Raises :class:`NotFoundError` when nothing
        matches and ``ValueError`` for blank text. A caller that shows the
        status first passes ``with_application_name=False`` and fills the name
        in later with :meth:`application_name`.
        """
        text = text.strip()
        if not text:
            raise ValueError("Enter a submission record ID or name to look up.")
        # Vault record IDs are upper case; one typed in lower case is read too.
        if is_record_id(text.upper()):
            try:
                return [
                    self.get_submission(
                        text.upper(), with_application_name=with_application_name
                    )
                ]
            except NotFoundError:
                logger.info("No record has ID %s, so it is looked up as a name", text)
        submissions = self.find_submissions(text)
        if not submissions:
            raise NotFoundError(
                f"No submission has the record ID or name {text!r}.",
                error_type="NOT_FOUND",
                execution_id=self.last_execution_id,
            )
        return submissions

    def cancel_import(
        self, submission_id: str, *, reference_id: str = ""
    ) -> CancelReply:
        """Ask Vault to cancel the Submissions Archive import or removal job.

        The request is sent exactly once and never retried, because a second
        cancel is not harmless. After a :class:`TransportError` whose
        ``may_have_reached_vault`` is true, read the status to learn the outcome.
        ``reference_id`` is sent as ``X-VaultAPI-ReferenceID`` when not empty.
        """
        record_id = _validated_record_id(submission_id)
        headers = {REFERENCE_ID_HEADER: _validated_reference_id(reference_id)}
        logger.info("Requesting cancel of the archive job of submission %s", record_id)
        self._transport.request(
            "POST",
            self._api_path(f"vobjects/submission__v/{record_id}/actions/import"),
            params={"cancel": "true"},
            headers=headers if reference_id else None,
        )
        return CancelReply(execution_id=self.last_execution_id)

    def close(self) -> None:
        """Close the HTTP connections; the session itself stays open in Vault."""
        self._transport.close()

    def _api_path(self, suffix: str) -> str:
        return f"/api/{self.api_version}/{suffix}"

    def _query(self, vql: str) -> list[JsonObject]:
        path = self._api_path("query")
        body = self._transport.request("POST", path, data={"q": vql}, idempotent=True)
        rows = body.get("data")
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise bad_response(
                f"POST {path} returned no list of rows.", self.last_execution_id
            )
        # NOTE: only the first page of up to 1000 rows is read, because exact-name
        # matches are expected to be far fewer.
        return rows

    def application_name(self, application_id: str) -> str:
        """Return the name of an ``application__v`` record, or "" when unknown.

        Best effort: a failed query is logged and returns "".
        """
        return self._application_name(application_id)

    def _application_name(self, application_id: str) -> str:
        if not application_id:
            return ""
        try:
            rows = self._query(
                "SELECT name__v FROM application__v "
                f"WHERE id = {quote_vql_string(application_id)}"
            )
        except VaultError as error:
            logger.warning(
                "Could not read the name of application %s: %s", application_id, error
            )
            return ""
        name = rows[0].get("name__v") if rows else None
        return name if isinstance(name, str) else ""

    def _submission_from_fields(
        self, fields: JsonObject, application_id_field: str
    ) -> Submission:
        record_id = fields.get("id")
        name = fields.get("name__v")
        archive_status = fields.get("archive_status__v")
        application_id = fields.get(application_id_field)
        application_name = fields.get("application__vr.name__v")
        optional = (archive_status, application_id, application_name)
        if (
            not isinstance(record_id, str)
            or not isinstance(name, str)
            or not all(value is None or isinstance(value, str) for value in optional)
        ):
            raise bad_response(
                f"Vault returned a submission record with missing or non-text "
                f"fields: id={record_id!r}.",
                self.last_execution_id,
            )
        return Submission(
            id=record_id,
            name=name,
            archive_status=archive_status or "",
            application_id=application_id or "",
            application_name=application_name or "",
        )

    def _parse_auth_reply(
        self, body: JsonObject
    ) -> tuple[str, str, _VaultEntry | None]:
        """Return the session id, user id and the ``vaultIds`` entry of the session."""
        session_id = body.get("sessionId")
        user_id = _text_id(body.get("userId"))
        vault_id = _text_id(body.get("vaultId"))
        entries = body.get("vaultIds")
        if (
            not isinstance(session_id, str)
            or not session_id
            or user_id is None
            or vault_id is None
            or not isinstance(entries, list)
        ):
            raise bad_response(
                "The sign-in reply lacks sessionId, userId, vaultId or vaultIds.",
                self.last_execution_id,
            )
        for entry in entries:
            parsed = self._parse_vault_entry(entry)
            if parsed.vault_id == vault_id:
                return session_id, user_id, parsed
        return session_id, user_id, None

    def _parse_vault_entry(self, entry: object) -> _VaultEntry:
        if isinstance(entry, dict):
            vault_id = _text_id(entry.get("id"))
            name = entry.get("name")
            url = entry.get("url")
            if vault_id is not None and isinstance(name, str) and isinstance(url, str):
                return _VaultEntry(vault_id=vault_id, name=name, url=url)
        raise bad_response(
            "The sign-in reply has a vaultIds entry without id, name or url.",
            self.last_execution_id,
        )

    def _require_requested_vault(self, entry: _VaultEntry | None) -> _VaultEntry:
        """Return ``entry`` if it is the requested Vault, else raise WrongVaultError.

        Vault may silently open the session in another Vault the user belongs
        to. The scheme is not compared because a loopback demo Vault reports
        ``http://`` URLs.
        """
        if entry is not None and _url_matches_address(entry.url, self.address):
            return entry
        session_url = entry.url if entry is not None else ""
        session_host = _url_host(session_url) or "an unlisted Vault"
        logger.warning(
            "Vault opened the session in %s instead of %s, so it was dropped",
            session_host,
            self.address.netloc,
        )
        raise WrongVaultError(
            f"Vault signed you in to {session_host} instead of "
            f"{self.address.netloc}. Check the Vault address.",
            requested_host=self.address.host,
            session_url=session_url,
        )


def _validated_record_id(submission_id: str) -> str:
    record_id = submission_id.strip()
    if not record_id:
        raise ValueError("The submission record ID is empty.")
    if not _RECORD_ID.fullmatch(record_id):
        raise ValueError(
            f"Invalid submission record ID {submission_id!r}. Expected 15 upper-case "
            "letters and digits, such as 00S000000000101."
        )
    return record_id


def _validated_reference_id(reference_id: str) -> str:
    if reference_id and not (
        reference_id.isascii()
        and reference_id.isprintable()
        and reference_id == reference_id.strip()
    ):
        raise ValueError(
            f"Invalid reference id {reference_id!r}. Use printable ASCII characters "
            "with no leading or trailing spaces."
        )
    return reference_id


def _text_id(value: object) -> str | None:
    """Return a Vault id given as a JSON number or string as text, else None."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _url_host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").rstrip(".").lower()
    except ValueError:
        return ""


def _url_matches_address(url: str, address: VaultAddress) -> bool:
    """Compare the host, and the port when ``address`` has one, of ``url``."""
    if _url_host(url) != address.host:
        return False
    if address.port is None:
        return True
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        return False
    return port == address.port
