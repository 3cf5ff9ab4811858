"""Typed exceptions raised by the Vault client.

Each exception keeps what the help desk needs: the Vault error type, Vault's own
message and the ``X-VaultAPI-ExecutionId`` of the reply. The UI layer turns them
into plain sentences; nothing here is meant to be shown to a user verbatim.
"""

from __future__ import annotations


class VaultError(Exception):
    """Base class for every failure of a call to Vault.

    ``error_type`` is Vault's ``errors[0].type`` where Vault sent one, otherwise a
    short name for the local failure (``CONNECTION_REFUSED``, ``TIMEOUT`` ...).
    """

    def __init__(
        self,
        detail: str,
        *,
        error_type: str = "",
        vault_message: str = "",
        execution_id: str = "",
        http_status: int | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.error_type = error_type
        self.vault_message = vault_message
        self.execution_id = execution_id
        self.http_status = http_status


class VaultApiError(VaultError):
    """Vault processed the call and returned FAILURE or EXCEPTION.

    ``response_status`` is ``FAILURE`` (the request was wrong or not allowed) or
    ``EXCEPTION`` (Vault failed internally); ``errors`` keeps every
    ``(type, message)`` pair from the reply.
    """

    def __init__(
        self,
        detail: str,
        *,
        response_status: str,
        errors: list[tuple[str, str]],
        execution_id: str = "",
        http_status: int | None = None,
    ) -> None:
        first_type, first_message = errors[0] if errors else ("", "")
        super().__init__(
            detail,
            error_type=first_type,
            vault_message=first_message,
            execution_id=execution_id,
            http_status=http_status,
        )
        self.response_status = response_status
        self.errors = errors


class AuthenticationError(VaultApiError):
    """Sign-in was rejected: wrong password, locked or inactive user, and so on."""


class SessionExpiredError(VaultApiError):
    """Vault no longer accepts the session id (``INVALID_SESSION_ID``)."""


class NotFoundError(VaultError):
    """No submission matches the record ID or name that was looked up."""


class WrongVaultError(VaultError):
    """Vault signed the user in to a different Vault than the address requested.

    ``requested_host`` is the host the user typed; ``session_url`` is the ``url``
    of the ``vaultIds`` entry the session belongs to (empty when Vault sent none).
    """

    def __init__(self, detail: str, *, requested_host: str, session_url: str) -> None:
        super().__init__(detail, error_type="WRONG_VAULT")
        self.requested_host = requested_host
        self.session_url = session_url


class TransportError(VaultError):
    """The call did not get a usable reply: no connection, a timeout, or a reply
    that is not a Vault JSON envelope (an HTML proxy page, an HTTP 502 ...).

    ``may_have_reached_vault`` is true when the request may have been processed
    (a read timeout or a reset after sending). A cancel that ends this way must be
    followed by a status read, never by a resend.
    """

    def __init__(
        self,
        detail: str,
        *,
        error_type: str,
        may_have_reached_vault: bool,
        execution_id: str = "",
        http_status: int | None = None,
    ) -> None:
        super().__init__(
            detail,
            error_type=error_type,
            execution_id=execution_id,
            http_status=http_status,
        )
        self.may_have_reached_vault = may_have_reached_vault
