"""Escape user text for use inside VQL single-quoted string literals."""

from __future__ import annotations

# Backslash comes first so the backslashes added for the other characters are
# not doubled. Escapes follow the VQL string literal rules standardised in
# Vault API v21.3: \\ \' \" \% \* \n \t \r.
_ESCAPES = (
    ("\\", "\\\\"),
    ("'", "\\'"),
    ('"', '\\"'),
    ("%", "\\%"),
    ("*", "\\*"),
    ("\n", "\\n"),
    ("\t", "\\t"),
    ("\r", "\\r"),
)


def escape_vql_string(value: str) -> str:
    """Escape ``value`` so it can be the body of a single-quoted VQL literal.

    ``%`` and ``*`` are escaped too, so they match literally instead of acting as
    LIKE and FIND wildcards. The result has no surrounding quotes.
    """
    for character, replacement in _ESCAPES:
        value = value.replace(character, replacement)
    return value


def quote_vql_string(value: str) -> str:
    """Return ``value`` as a complete single-quoted VQL string literal."""
    return f"'{escape_vql_string(value)}'"
