"""A small parser and evaluator for the subset of VQL the demo Vault accepts.

Grammar (keywords in any case, names in lower case)::

    SELECT field [, field ...] FROM object
        [WHERE condition [AND condition ...]]
        [ORDER BY field [ASC | DESC]] [LIMIT number]

    condition := field = 'literal' | CASEINSENSITIVE(field) = 'literal'

String literals take the escapes Vault has accepted since VQL v21.3: ``\\'`` and
``''`` for a quote, ``\\\\``, ``\\"``, ``\\%``, ``\\*``, ``\\n``, ``\\t`` and ``\\r``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

KEYWORDS = frozenset(
    {
        "SELECT",
        "FROM",
        "WHERE",
        "AND",
        "CASEINSENSITIVE",
        "ORDER",
        "BY",
        "ASC",
        "DESC",
        "LIMIT",
    }
)

_ESCAPES = {
    "'": "'",
    "\\": "\\",
    '"': '"',
    "%": "%",
    "*": "*",
    "n": "\n",
    "t": "\t",
    "r": "\r",
}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?")
_NUMBER = re.compile(r"[0-9]+")
_SYMBOLS = ",()="

Row = Mapping[str, str | None]


class VqlError(Exception):
    """A query Vault would reject, with the Vault error type in ``error_type``."""

    error_type = "INCORRECT_QUERY_SYNTAX_ERROR"


class VqlSyntaxError(VqlError):
    """Query text that does not follow the grammar."""


class VqlInvalidFieldError(VqlError):
    """A query naming an object or field that does not exist."""

    error_type = "INVALID_DATA"


@dataclass(frozen=True)
class Condition:
    """``field = 'value'``, compared ignoring case when ``case_insensitive``."""

    field: str
    value: str
    case_insensitive: bool = False

    def matches(self, row: Row) -> bool:
        """Return whether the row's field equals the value. Null equals nothing."""
        actual = row.get(self.field)
        if actual is None:
            return False
        if self.case_insensitive:
            return actual.casefold() == self.value.casefold()
        return actual == self.value


@dataclass(frozen=True)
class Query:
    """A parsed SELECT statement."""

    fields: tuple[str, ...]
    object_name: str
    conditions: tuple[Condition, ...] = ()
    order_by: str | None = None
    descending: bool = False
    limit: int | None = None


@dataclass(frozen=True)
class _Token:
    kind: str  # "name", "string", "number", "symbol" or "end"
    text: str
    position: int

    @property
    def keyword(self) -> str:
        """Return the upper-case keyword this token spells, or ""."""
        upper = self.text.upper()
        return upper if self.kind == "name" and upper in KEYWORDS else ""


def parse_query(text: str) -> Query:
    """Parse VQL text, raising VqlSyntaxError when it breaks the grammar."""
    return _Parser(_tokenize(text)).parse_select()


def validate_query(query: Query, schema: Mapping[str, Sequence[str]]) -> None:
    """Raise VqlInvalidFieldError unless the object and all fields are in schema."""
    known_fields = schema.get(query.object_name)
    if known_fields is None:
        raise VqlInvalidFieldError(f"Object [{query.object_name}] is not queryable.")
    used = list(query.fields) + [condition.field for condition in query.conditions]
    if query.order_by is not None:
        used.append(query.order_by)
    for field in used:
        if field not in known_fields:
            raise VqlInvalidFieldError(
                f"Field [{field}] does not exist on object [{query.object_name}]."
            )


def select_rows(query: Query, rows: Iterable[Row]) -> list[dict[str, str | None]]:
    """Return the selected fields of the rows that meet every condition."""
    matches = [
        row for row in rows if all(cond.matches(row) for cond in query.conditions)
    ]
    order_by = query.order_by
    if order_by is not None:
        matches.sort(
            key=lambda row: (row.get(order_by) is None, row.get(order_by) or ""),
            reverse=query.descending,
        )
    if query.limit is not None:
        matches = matches[: query.limit]
    return [{field: row.get(field) for field in query.fields} for row in matches]


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char.isspace():
            position += 1
        elif char == "'":
            value, end = _read_string(text, position)
            tokens.append(_Token("string", value, position))
            position = end
        elif char in _SYMBOLS:
            tokens.append(_Token("symbol", char, position))
            position += 1
        else:
            tokens.append(_read_word(text, position))
            position += len(tokens[-1].text)
    tokens.append(_Token("end", "", len(text)))
    return tokens


def _read_word(text: str, position: int) -> _Token:
    for kind, pattern in (("name", _NAME), ("number", _NUMBER)):
        match = pattern.match(text, position)
        if match:
            return _Token(kind, match.group(), position)
    raise VqlSyntaxError(
        f"Unexpected character [{text[position]}] at position {position}."
    )


def _read_string(text: str, start: int) -> tuple[str, int]:
    """Decode the literal opening at ``start``, returning it and the index past it."""
    chars: list[str] = []
    position = start + 1
    while position < len(text):
        char = text[position]
        following = text[position + 1 : position + 2]
        if char == "\\":
            if following not in _ESCAPES:
                raise VqlSyntaxError(
                    f"Invalid escape [\\{following}] at position {position}."
                )
            chars.append(_ESCAPES[following])
            position += 2
        elif char == "'" and following == "'":
            chars.append("'")
            position += 2
        elif char == "'":
            return "".join(chars), position + 1
        else:
            chars.append(char)
            position += 1
    raise VqlSyntaxError(f"String literal at position {start} is not closed.")


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self._tokens = tokens
        self._index = 0

    def parse_select(self) -> Query:
        self._expect_keyword("SELECT")
        fields = [self._field_name()]
        while self._accept_symbol(","):
            fields.append(self._field_name())
        self._expect_keyword("FROM")
        object_name = self._field_name()
        conditions: list[Condition] = []
        if self._accept_keyword("WHERE"):
            conditions.append(self._condition())
            while self._accept_keyword("AND"):
                conditions.append(self._condition())
        order_by, descending = self._order_by()
        limit = self._limit()
        self._expect("end", "end of query")
        unique_fields = tuple(dict.fromkeys(fields))
        return Query(
            unique_fields, object_name, tuple(conditions), order_by, descending, limit
        )

    def _condition(self) -> Condition:
        case_insensitive = self._accept_keyword("CASEINSENSITIVE")
        if case_insensitive:
            self._expect_symbol("(")
        field = self._field_name()
        if case_insensitive:
            self._expect_symbol(")")
        self._expect_symbol("=")
        value = self._expect("string", "a quoted string").text
        return Condition(field, value, case_insensitive)

    def _order_by(self) -> tuple[str | None, bool]:
        if not self._accept_keyword("ORDER"):
            return None, False
        self._expect_keyword("BY")
        field = self._field_name()
        if self._accept_keyword("DESC"):
            return field, True
        self._accept_keyword("ASC")
        return field, False

    def _limit(self) -> int | None:
        if not self._accept_keyword("LIMIT"):
            return None
        return int(self._expect("number", "a row count").text)

    def _field_name(self) -> str:
        token = self._expect("name", "a field or object name")
        if token.keyword:
            raise self._error(token, "a field or object name")
        return token.text

    def _accept_keyword(self, keyword: str) -> bool:
        if self._peek().keyword != keyword:
            return False
        self._index += 1
        return True

    def _expect_keyword(self, keyword: str) -> None:
        if not self._accept_keyword(keyword):
            raise self._error(self._peek(), keyword)

    def _accept_symbol(self, symbol: str) -> bool:
        token = self._peek()
        if token.kind != "symbol" or token.text != symbol:
            return False
        self._index += 1
        return True

    def _expect_symbol(self, symbol: str) -> None:
        if not self._accept_symbol(symbol):
            raise self._error(self._peek(), f"[{symbol}]")

    def _expect(self, kind: str, description: str) -> _Token:
        token = self._peek()
        if token.kind != kind:
            raise self._error(token, description)
        self._index += 1
        return token

    def _peek(self) -> _Token:
        return self._tokens[self._index]

    @staticmethod
    def _error(token: _Token, expected: str) -> VqlSyntaxError:
        found = "end of query" if token.kind == "end" else f"[{token.text}]"
        return VqlSyntaxError(
            f"Expected {expected} at position {token.position}, found {found}."
        )
