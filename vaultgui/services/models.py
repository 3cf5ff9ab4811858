"""Plain records exchanged between the Vault client and its callers."""

from __future__ import annotations

from collections.abc import Mapping
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
class ApiLimits:
    """Vault's throttling and downtime headers from the latest reply.

    ``None`` means the header was absent. ``response_delay_ms`` is how long
    Vault held the reply back because the burst limit was reached.
    """

    burst_limit: int | None = None
    burst_remaining: int | None = None
    response_delay_ms: int | None = None
    downtime_minutes: int | None = None

    @property
    def is_notable(self) -> bool:
        """Return whether Vault delayed the reply or announced downtime."""
        return bool(self.response_delay_ms or self.downtime_minutes)

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> ApiLimits:
        """Read the ``X-VaultAPI-*`` limit headers; a malformed number is absent."""
        return cls(
            burst_limit=_header_int(headers, "X-VaultAPI-BurstLimit"),
            burst_remaining=_header_int(headers, "X-VaultAPI-BurstLimitRemaining"),
            response_delay_ms=_header_int(headers, "X-VaultAPI-ResponseDelay"),
            downtime_minutes=_header_int(
                headers, "X-VaultAPI-DowntimeExpectedDurationMinutes"
            ),
        )


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


@dataclass(frozen=True)
class CancelReply:
    """Vault's reply to a cancel request that it accepted (``SUCCESS``)."""

    execution_id: str
