"""`--where` expressions: a small language over the columns of a results table.

The text is tokenized and parsed here, and evaluated column by column with pandas operations;
nothing is handed to Python's `eval` or to `DataFrame.query`, and a name only ever resolves to
a column, so no expression can reach a Python object, a module or a function it does not list.

    expr       := or
    or         := and (("or" | "|") and)*
    and        := not (("and" | "&") not)*
    not        := ("not" | "~") not | comparison
    comparison := sum (CMP sum)* | sum ["not"] "in" list
    sum        := product (("+" | "-") product)*
    product    := sign (("*" | "/" | "%") sign)*
    sign       := ("-" | "+") sign | atom
    atom       := NUMBER | STRING | true | false | COLUMN | FUNC "(" expr ")" | "(" expr ")"
    list       := "[" literal ("," literal)* "]"  (or in parentheses)
    CMP        := "==" | "!=" | "<" | "<=" | ">" | ">="
    FUNC       := isna | notna | abs

COLUMN is a column name as printed (`quality`, `acc.parity`, `layers.0.transition`), or any
name in backticks. Chained comparisons (`0.5 < quality <= 0.9`) hold when each pair holds. A
missing value (an inactive axis, a failed trial's metric) makes `==`, `<`, ... and `in` false
and `!=` and `not in` true; `isna(...)` and `notna(...)` test for it.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dsf_search.errors import InputError
from dsf_search.kinds import is_kind
from dsf_search.results.matches import unknown

MAX_LENGTH = 2000  # characters of one expression
MAX_DEPTH = 40  # nested parentheses, functions and `not`s

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?(?![A-Za-z0-9_.]))
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<backtick>`[^`]+`)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)
  | (?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,|\+|-|\*|/|%|&|\||~)
""", re.VERBOSE)
_KEYWORDS = {"and", "or", "not", "in"}
_BOOLEANS = {"true": True, "false": False, "True": True, "False": False}
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}
_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "%": operator.mod,
}
_FUNCTIONS: dict[str, Callable[[Any], Any]] = {"isna": pd.isna, "notna": pd.notna, "abs": abs}


class WhereError(InputError):
    """A malformed or ill-typed `--where` expression; the message names the token and column."""


@dataclass(frozen=True)
class Token:
    kind: str  # number | string | name | keyword | op | bad | end
    text: str
    value: Any
    column: int


def tokenize(text: str) -> list[Token]:
    """The tokens of `text`; a character that starts none becomes a `bad` token and ends the
    list, so that the parser reports the first problem in reading order (an unknown column
    before an odd character after it)."""
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            tokens.append(Token("bad", text[pos], None, pos + 1))
            break
        kind, raw = match.lastgroup, match.group()
        pos, column = match.end(), match.start() + 1
        if kind == "space":
            continue
        if kind == "number":
            value: Any = float(raw) if any(c in raw for c in ".eE") else int(raw)
        elif kind == "string":
            value = re.sub(r"\\(.)", r"\1", raw[1:-1], flags=re.S)
        elif kind == "backtick":
            kind, value = "name", raw[1:-1]
        elif kind == "name" and raw in _KEYWORDS:
            kind, value = "keyword", raw
        else:
            value = raw
        tokens.append(Token(kind, raw, value, column))
    tokens.append(Token("end", "end of expression", None, len(text) + 1))
    return tokens


# --- the tree: every node evaluates to a pandas Series (one value per row) or a scalar ---------

@dataclass(frozen=True)
class Literal:
    value: Any
    token: Token

    def evaluate(self, df: pd.DataFrame) -> Any:
        return self.value


@dataclass(frozen=True)
class Column:
    name: str
    token: Token

    def evaluate(self, df: pd.DataFrame) -> Any:
        return df[self.name]


@dataclass(frozen=True)
class Call:
    function: str
    argument: Any
    token: Token

    def evaluate(self, df: pd.DataFrame) -> Any:
        value = self.argument.evaluate(df)
        if self.function == "abs":
            _numeric(value, self.token)
        return _FUNCTIONS[self.function](value)


@dataclass(frozen=True)
class Arithmetic:
    """first (op operand)*, left to right."""

    first: Any
    rest: tuple[tuple[Token, Any], ...]

    def evaluate(self, df: pd.DataFrame) -> Any:
        value = self.first.evaluate(df)
        for op, operand in self.rest:
            right = operand.evaluate(df)
            _numeric(value, op)
            _numeric(right, op)
            value = _apply(_ARITHMETIC[op.text], value, right, op)
        return value


@dataclass(frozen=True)
class Negate:
    operand: Any
    token: Token

    def evaluate(self, df: pd.DataFrame) -> Any:
        value = self.operand.evaluate(df)
        _numeric(value, self.token)
        return -value


@dataclass(frozen=True)
class Compare:
    """first (op operand)+: a chain holds when every adjacent pair holds."""

    first: Any
    rest: tuple[tuple[Token, Any], ...]

    def evaluate(self, df: pd.DataFrame) -> Any:
        left = self.first.evaluate(df)
        result: Any = True
        for op, operand in self.rest:
            right = operand.evaluate(df)
            result = result & _apply(_COMPARE[op.text], left, right, op)
            left = right
        return result


@dataclass(frozen=True)
class Member:
    operand: Any
    values: tuple[Any, ...]
    negated: bool
    token: Token

    def evaluate(self, df: pd.DataFrame) -> Any:
        value = self.operand.evaluate(df)
        hit = value.isin(self.values) if isinstance(value, pd.Series) else value in self.values
        return ~hit if self.negated else hit


@dataclass(frozen=True)
class Logic:
    """and / or over operands, or not over one."""

    op: str
    operands: tuple[Any, ...]
    token: Token

    def evaluate(self, df: pd.DataFrame) -> Any:
        values = [_condition(o.evaluate(df), self.token) for o in self.operands]
        if self.op == "not":
            return ~values[0] if isinstance(values[0], pd.Series) else not values[0]
        result = values[0]
        for value in values[1:]:
            result = (result & value) if self.op == "and" else (result | value)
        return result


def _apply(fn: Callable[[Any, Any], Any], left: Any, right: Any, op: Token) -> Any:
    try:
        return fn(left, right)
    except (TypeError, ValueError, ArithmeticError) as err:
        raise WhereError(f"{op.text!r} at column {op.column} cannot apply to these values: {err}") from None


def _numeric(value: Any, op: Token) -> None:
    ok = (pd.api.types.is_numeric_dtype(value) and not pd.api.types.is_bool_dtype(value)) \
        if isinstance(value, pd.Series) else is_kind(value, float)
    if not ok:
        raise WhereError(f"{op.text!r} at column {op.column} needs numbers")


def _condition(value: Any, token: Token) -> Any:
    if isinstance(value, pd.Series):
        if pd.api.types.is_bool_dtype(value):
            return value
    elif isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise WhereError(f"{token.text!r} at column {token.column} needs conditions (comparisons) on both sides")


# --- the parser --------------------------------------------------------------------------------

class _Parser:
    def __init__(self, text: str, columns: Sequence[str]):
        self.tokens = tokenize(text)
        self.columns = list(columns)
        self.known = set(self.columns)
        self.pos = 0
        self.depth = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.pos]

    def take(self) -> Token:
        token = self.tokens[self.pos]
        self.pos = min(self.pos + 1, len(self.tokens) - 1)  # the end token stays
        return token

    def at(self, *texts: str) -> bool:
        return self.token.kind in ("op", "keyword") and self.token.text in texts

    def fail(self, message: str, token: Token | None = None) -> WhereError:
        token = token or self.token
        if token.kind == "bad":
            return WhereError(f"unexpected character {token.text!r} at column {token.column} (allowed: column names, "
                              "numbers, 'strings', comparisons, and/or/not, in [...], + - * / %, isna/notna/abs)")
        return WhereError(f"{message}, found {token.text!r} at column {token.column}")

    def expect(self, text: str) -> Token:
        if not self.at(text):
            raise self.fail(f"expected {text!r}")
        return self.take()

    def nested(self, token: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise WhereError(f"nested deeper than {MAX_DEPTH} levels at column {token.column}")

    def parse(self) -> Any:
        if self.token.kind == "end":
            raise WhereError("empty expression")
        node = self.disjunction()
        if self.token.kind != "end":
            raise self.fail("unexpected token (missing 'and' / 'or'?)")
        return node

    def _chain(self, words: tuple[str, str], op: str, part: Callable[[], Any]) -> Any:
        operands, first = [part()], self.token
        while self.at(*words):
            self.take()
            operands.append(part())
        return operands[0] if len(operands) == 1 else Logic(op, tuple(operands), first)

    def disjunction(self) -> Any:
        return self._chain(("or", "|"), "or", self.conjunction)

    def conjunction(self) -> Any:
        return self._chain(("and", "&"), "and", self.negation)

    def negation(self) -> Any:
        if self.at("not", "~"):
            token = self.take()
            self.nested(token)
            node = Logic("not", (self.negation(),), token)
            self.depth -= 1
            return node
        return self.comparison()

    def comparison(self) -> Any:
        left = self.sum()
        if self.at("in") or (self.at("not") and self.tokens[self.pos + 1].text == "in"):
            token = self.take()
            negated = token.text == "not"
            if negated:
                self.take()
            return Member(left, self.literal_list(), negated, token)
        rest = []
        while self.at(*_COMPARE):
            op = self.take()
            rest.append((op, self.sum()))
        return Compare(left, tuple(rest)) if rest else left

    def literal_list(self) -> tuple[Any, ...]:
        if not self.at("[", "("):
            raise self.fail("expected a list of values after 'in', e.g. [\"scalar\", \"diagonal\"]")
        close = "]" if self.take().text == "[" else ")"
        values = [self.literal()]
        while self.at(","):
            self.take()
            if self.at(close):
                break
            values.append(self.literal())
        self.expect(close)
        return tuple(values)

    def literal(self) -> Any:
        sign = -1 if self.at("-") else 1
        if sign < 0:
            self.take()
        token = self.take()
        if token.kind == "number":
            return sign * token.value
        if sign > 0 and token.kind == "string":
            return token.value
        if sign > 0 and token.kind == "name" and token.text in _BOOLEANS:
            return _BOOLEANS[token.text]
        raise self.fail("expected a number, a 'string', true or false", token)

    def _arithmetic(self, ops: tuple[str, ...], part: Callable[[], Any]) -> Any:
        first, rest = part(), []
        while self.at(*ops):
            op = self.take()
            rest.append((op, part()))
        return Arithmetic(first, tuple(rest)) if rest else first

    def sum(self) -> Any:
        return self._arithmetic(("+", "-"), self.product)

    def product(self) -> Any:
        return self._arithmetic(("*", "/", "%"), self.sign)

    def sign(self) -> Any:
        if self.at("-", "+"):
            token = self.take()
            self.nested(token)
            operand = self.sign()
            self.depth -= 1
            return Negate(operand, token) if token.text == "-" else operand
        return self.atom()

    def atom(self) -> Any:
        token = self.take()
        if token.kind in ("number", "string"):
            return Literal(token.value, token)
        if self.at("(") and token.kind == "name" and not token.text.startswith("`"):
            return self.call(token)
        if token.kind == "name":
            if token.text in _BOOLEANS:
                return Literal(_BOOLEANS[token.text], token)
            if token.value not in self.known:
                raise WhereError(str(unknown("column", token.value, self.columns, f"at column {token.column}")))
            return Column(token.value, token)
        if token.kind == "op" and token.text == "(":
            self.nested(token)
            node = self.disjunction()
            self.expect(")")
            self.depth -= 1
            return node
        raise self.fail("expected a column, a number or a 'string'", token)

    def call(self, token: Token) -> Any:
        name = token.text
        if name not in _FUNCTIONS:
            head, _, last = name.rpartition(".")
            hint = f" (write {last}({head}))" if last in _FUNCTIONS and head in self.known else ""
            raise WhereError(f"unknown function {name!r} at column {token.column}{hint}; "
                             f"functions: {', '.join(_FUNCTIONS)}")
        self.nested(token)
        self.take()
        argument = self.disjunction()
        self.expect(")")
        self.depth -= 1
        return Call(name, argument, token)


def compile_where(text: str, columns: Sequence[str]) -> Any:
    """The parsed expression (names checked against `columns`); WhereError / InputError naming
    the offending token."""
    if len(text) > MAX_LENGTH:
        raise WhereError(f"the expression has {len(text)} characters; at most {MAX_LENGTH}")
    return _Parser(text, columns).parse()


def evaluate_where(df: pd.DataFrame, text: str) -> pd.Series:
    """A boolean Series over the rows of `df`: where the expression holds."""
    try:
        value = compile_where(text, df.columns).evaluate(df)
        if isinstance(value, (bool, np.bool_)):
            return pd.Series(bool(value), index=df.index)
        if isinstance(value, pd.Series) and pd.api.types.is_bool_dtype(value):
            return value.fillna(False).astype(bool)
        raise WhereError("the expression is not a condition: compare it, e.g. `quality > 0.5`")
    except WhereError as err:
        shown = text if len(text) <= 80 else text[:77] + "..."
        raise WhereError(f"--where {shown!r}: {err}") from None
