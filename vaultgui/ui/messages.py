"""Turn service-layer exceptions into a plain sentence plus help-desk details.

This is the one place that decides what a user reads for each failure. The
details line keeps the technical facts (error type, Vault execution id) for a
support ticket.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from PySide6.QtCore import QCoreApplication

from vaultgui.services.errors import (
    AuthenticationError,
    NotFoundError,
    SessionExpiredError,
    TransportError,
    VaultApiError,
    VaultError,
    WrongVaultError,
)
from vaultgui.services.models import ApiLimits


def tr(text: str) -> str:
    """Translate a user-facing string in the ``messages`` context."""
    return QCoreApplication.translate("messages", text)


@dataclass(frozen=True)
class UserMessage:
    """A message for the user (``text``) and the help-desk facts (``details``)."""

    text: str
    details: str = ""


_SIGN_IN_TEXT = {
    "USERNAME_OR_PASSWORD_INCORRECT": (
        "The user name or password is not correct. Check both and try again; "
        "Vault locks an account after several failed attempts."
    ),
    "NO_PASSWORD_PROVIDED": "Enter your password.",
    "USER_LOCKED_OUT": (
        "Your Vault account is locked. Ask your Vault administrator to unlock it, "
        "then sign in again."
    ),
    "INACTIVE_USER": (
        "Your Vault account is inactive. Ask your Vault administrator to activate it."
    ),
    "PASSWORD_CHANGE_REQUIRED": (
        "Vault requires a new password for your account. Sign in to Vault in your "
        "web browser, choose a new password there, then sign in here with it."
    ),
}

_VAULT_TEXT = {
    "INSUFFICIENT_ACCESS": (
        "Your Vault account is not allowed to do this. Ask your Vault "
        "administrator for API access and for access to this submission."
    ),
    "API_LIMIT_EXCEEDED": (
        "Vault is limiting how often it can be called right now. Wait a minute "
        "and try again."
    ),
    "OPERATION_NOT_ALLOWED": (
        "Vault did not allow this in the submission's current state."
    ),
    "OPERATION_IN_PROGRESS": (
        "Vault is busy with another operation on this record. Wait a minute and "
        "try again."
    ),
    "CONFIGURATION_MODE_ENABLED": (
        "Vault is in configuration mode, which blocks changes. Try again when your "
        "administrator has finished."
    ),
}

_TRANSPORT_TEXT = {
    "CONNECTION_REFUSED": (
        "Could not connect to {host}: nothing answered there. Check the address "
        "and that you are connected to the company network."
    ),
    "NAME_NOT_RESOLVED": (
        "The Vault address {host} could not be found. Check it for typing errors "
        "and check your network connection."
    ),
    "CONNECTION_FAILED": (
        "Could not open a connection to {host}. Check your network connection "
        "and try again."
    ),
    "REQUEST_FAILED": (
        "The call to Vault failed before a reply arrived. The request may still "
        "have been carried out."
    ),
    "CONNECT_TIMEOUT": (
        "{host} did not answer in time. Check your network connection and try again."
    ),
    "READ_TIMEOUT": (
        "Vault took too long to reply. The request may still have been carried out."
    ),
    "CONNECTION_RESET": (
        "The connection to Vault was interrupted before a reply arrived. The "
        "request may still have been carried out."
    ),
    "TLS_ERROR": (
        "The secure connection to {host} could not be verified, so vaultgui "
        "stopped. Contact your IT department and give them the details below."
    ),
    "PROXY_ERROR": (
        "The company proxy server refused or failed the connection to {host}. "
        "Contact your IT department and give them the details below."
    ),
    "BAD_RESPONSE": (
        "The reply did not come from Vault; a proxy or sign-in page may have "
        "answered instead. Try again; if it keeps happening, contact your IT "
        "department with the details below."
    ),
}


def describe_error(error: BaseException, *, host: str = "") -> UserMessage:
    """Return the message for ``error``; ``host`` is the Vault's host name."""
    if isinstance(error, VaultError):
        return UserMessage(_text_for(error, host), details_for(error))
    return UserMessage(
        tr(
            "Something went wrong inside vaultgui. Try again; if it keeps happening, "
            "contact your help desk with the details below."
        ),
        tr("Error type: {name}. {text}").format(
            name=type(error).__name__, text=str(error)
        ),
    )


def _text_for(error: VaultError, host: str) -> str:
    if isinstance(error, WrongVaultError):
        return tr(
            "Vault signed you in to a different Vault ({actual}) than the one you "
            "asked for ({requested}). Nothing was changed. Check the address, or "
            "ask your Vault administrator for access to {requested}."
        ).format(
            actual=_host_of(error.session_url) or tr("unknown"),
            requested=error.requested_host,
        )
    if isinstance(error, AuthenticationError):
        text = _SIGN_IN_TEXT.get(error.error_type)
        return (
            tr(text)
            if text
            else tr(
                "Vault did not accept the sign-in. Check your user name and password."
            )
        )
    if isinstance(error, SessionExpiredError):
        return tr("Your Vault session has ended. Sign out, then sign in again.")
    if isinstance(error, NotFoundError):
        return tr("No submission was found.")
    if isinstance(error, TransportError):
        return _transport_text(error, host)
    if isinstance(error, VaultApiError):
        return _api_text(error)
    return tr("The call to Vault failed.")


def _transport_text(error: TransportError, host: str) -> str:
    text = _TRANSPORT_TEXT.get(error.error_type)
    if text is not None:
        return tr(text).format(host=host or tr("the Vault"))
    if error.http_status is not None and error.http_status >= 500:
        return tr(
            "Vault or a network device between you and Vault reported a server "
            "error (HTTP {code}). Try again in a few minutes."
        ).format(code=error.http_status)
    return tr(
        "The connection to Vault failed (HTTP {code}). Try again; if it keeps "
        "happening, contact your IT department with the details below."
    ).format(code=error.http_status if error.http_status is not None else "?")


def _api_text(error: VaultApiError) -> str:
    text = _VAULT_TEXT.get(error.error_type)
    if text is not None:
        return tr(text)
    if error.response_status == "EXCEPTION":
        return tr(
            "Vault had an internal problem and did not finish the request. Try "
            "again in a few minutes; if it keeps happening, contact your help "
            "desk with the details below."
        )
    return tr("Vault did not accept the request.")


def details_for(error: VaultError) -> str:
    """Return one line with the error type, Vault's message, HTTP code and ids."""
    parts = []
    if error.error_type:
        parts.append(tr("Error type: {value}").format(value=error.error_type))
    if error.vault_message:
        parts.append(tr("Vault says: {value}").format(value=error.vault_message))
    if error.http_status is not None and error.http_status != 200:
        parts.append(tr("HTTP status: {value}").format(value=error.http_status))
    if error.execution_id:
        parts.append(tr("Vault execution id: {value}").format(value=error.execution_id))
    if not parts or isinstance(error, TransportError):
        parts.append(error.detail)
    return " · ".join(parts)


def _host_of(url: str) -> str:
    return urlsplit(url).hostname or url


def limits_text(limits: ApiLimits) -> str:
    """Describe Vault's throttling or upcoming downtime, or return ""."""
    if limits.downtime_minutes:
        return tr(
            "Vault is about to be unavailable for an upgrade, for about {minutes} "
            "minutes. Finish or postpone your work."
        ).format(minutes=limits.downtime_minutes)
    if limits.response_delay_ms:
        return tr(
            "Vault is slowing this app down ({ms} ms per call) because many calls "
            "were made recently. Everything still works, only slower."
        ).format(ms=limits.response_delay_ms)
    limit, remaining = limits.burst_limit, limits.burst_remaining
    if limit and remaining is not None and remaining < limit // 10:
        return tr(
            "Vault's call limit is nearly used up ({remaining} of {limit} calls "
            "left in this 5-minute window); Vault will slow down further calls."
        ).format(remaining=remaining, limit=limit)
    return ""
