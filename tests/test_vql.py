"""Tests for escaping text into VQL string literals."""

from __future__ import annotations

import pytest

from vaultgui.demo import vql as demo_vql
from vaultgui.services.vql import escape_vql_string, quote_vql_string

# Escape sequences of VQL string literals, mapped to the character each decodes to.
_DECODED = {"'": "'", "\\": "\\", '"': '"', "%": "%", "*": "*"}
_DECODED.update({"n": "\n", "t": "\t", "r": "\r"})

ROUND_TRIP_VALUES = [
    "0001 - Initial Marketing Application",
    "Sponsor's response",
    'The "final" dossier',
    "100% complete",
    "draft*",
    "Q3\\2025",
    "ends in a backslash\\",
    "\\",
    "\\'",
    "''",
    "%*%*",
    "0008 - Sponsor's 100% Q3\\2025 Response",
    "line one\nline two\ttabbed\rreturn",
    "",
]


def decode_vql_literal(literal: str) -> str:
    """Decode one complete single-quoted VQL literal; fail on anything left over."""
    assert literal.startswith("'")
    characters: list[str] = []
    position = 1
    while position < len(literal):
        character = literal[position]
        if character == "\\":
            characters.append(_DECODED[literal[position + 1]])
            position += 2
        elif character == "'":
            assert position == len(literal) - 1, f"literal ends early: {literal!r}"
            return "".join(characters)
        else:
            characters.append(character)
            position += 1
    raise AssertionError(f"literal is not closed: {literal!r}")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain name", "plain name"),
        ("it's", "it\\'s"),
        ('say "hi"', 'say \\"hi\\"'),
        ("100%", "100\\%"),
        ("a*b", "a\\*b"),
        ("a\\b", "a\\\\b"),
        ("a\nb", "a\\nb"),
        ("a\tb", "a\\tb"),
        ("a\rb", "a\\rb"),
    ],
)
def test_escape_single_character(value: str, expected: str) -> None:
    assert escape_vql_string(value) == expected


def test_escape_backslash_before_quote() -> None:
    assert escape_vql_string("\\'") == "\\\\\\'"


def test_escape_trailing_backslash() -> None:
    assert escape_vql_string("name\\") == "name\\\\"


def test_quote_adds_quotes() -> None:
    assert quote_vql_string("it's") == "'it\\'s'"


def test_quote_trailing_backslash_keeps_closing_quote() -> None:
    assert quote_vql_string("name\\") == "'name\\\\'"


def test_quote_empty() -> None:
    assert quote_vql_string("") == "''"


@pytest.mark.parametrize("value", ROUND_TRIP_VALUES)
def test_round_trip_reference_decoder(value: str) -> None:
    assert decode_vql_literal(quote_vql_string(value)) == value


@pytest.mark.parametrize("value", ROUND_TRIP_VALUES)
def test_round_trip_demo_parser(value: str) -> None:
    query = demo_vql.parse_query(
        f"SELECT id FROM submission__v WHERE name__v = {quote_vql_string(value)}"
    )
    assert query.conditions[0].value == value
