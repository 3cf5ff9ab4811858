"""Plain records exchanged between the Vault client and its callers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Submission:
    """One ``submission__v`` record, as far as this app needs it.

    ``archive_status`` is the raw ``archive_status__v`` value; Vault's null is
    stored as the empty string.
    """

    id: str
    name: str
    archive_status: str
    application_id: str = ""
    application_name: str = ""


@dataclass(frozen=True)
class SignInResult:
    """The session facts from a successful ``/auth`` call, minus the session id."""

    user_id: str
    username: str
    vault_id: str
    vault_name: str
    vault_url: str
    execution_id: str = ""


@dataclass(frozen=True)
class CancelReply:
    """Vault's reply to a cancel request that it accepted (``SUCCESS``)."""

    execution_id: str
