"""`when:` expressions: a small, safe language over axis values (never `eval`).

    expr       := or
    or         := and ("or" and)*
    and        := unary ("and" unary)*
    unary      := "not" unary | "(" expr ")" | comparison
    comparison := NAME ("==" | "!=") VALUE | NAME ["not"] "in" "[" VALUE ("," VALUE)* "]"
    VALUE      := word | number | 'quoted' | "quoted" | true | false

NAME is an axis (`transition`, `d_model`, another mixer's `attn.readout`); the left side is
always a name and the right side always a literal, so `transition == identity` needs no quotes.
An inactive axis has no value: `==` and `in` are then false, `!=` and `not in` true.
Parentheses and `not`s nest at most MAX_DEPTH deep; names and numbers are ASCII.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<op>==|!=|\(|\)|\[|\]|,)
  | (?P<number>-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?(?![\w.]))
  | (?P<string>'[^']*'|"[^"]*")
  | (?P<word>[A-Za-z_][\w.]*)
""", re.VERBOSE | re.ASCII)
_KEYWORDS = ("and", "or", "not", "in")
MAX_DEPTH = 32


class ConditionError(ValueError):
    """A malformed expression; `column` is 1-based within the expression text."""

    def __init__(self, message: str, column: int):
        self.column = column
        super().__init__(f"{message} at column {column}")


@dataclass(frozen=True)
class Token:
    kind: str  # op | number | string | word | keyword | end
    text: str
    value: Any
    column: int


def tokenize(text: str) -> list[Token]:
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise ConditionError(f"unexpected character {text[pos]!r}", pos + 1)
        kind, raw = match.lastgroup, match.group()
        if kind == "number":
            value = float(raw) if any(c in raw for c in ".eE") else int(raw) if len(raw) <= 30 else math.inf
            if not math.isfinite(value):
                raise ConditionError(f"the number {raw[:20]!r} is out of range", pos + 1)
            tokens.append(Token(kind, raw, value, pos + 1))
        elif kind == "string":
            tokens.append(Token(kind, raw, raw[1:-1], pos + 1))
        elif kind == "word":
            if raw in _KEYWORDS:
                kind = "keyword"
            value = {"true": True, "false": False}.get(raw, raw)
            tokens.append(Token(kind, raw, value, pos + 1))
        elif kind == "op":
            tokens.append(Token(kind, raw, raw, pos + 1))
        pos = match.end()
    tokens.append(Token("end", "end of expression", None, len(text) + 1))
    return tokens


@dataclass(frozen=True)
class Compare:
    """`name op values`: op is ==, !=, in, not in (== and != hold one value)."""

    name: str
    op: str
    values: tuple[Any, ...]
    column: int

    def evaluate(self, lookup: Callable[[str], Any]) -> bool:
        value = lookup(self.name)
        hit = value is not None and value in self.values
        return hit if self.op in ("==", "in") else not hit

    def __str__(self) -> str:
        if self.op in ("==", "!="):
            return f"{self.name} {self.op} {_literal(self.values[0])}"
        return f"{self.name} {self.op} [{', '.join(map(_literal, self.values))}]"


@dataclass(frozen=True)
class Not:
    operand: Any

    def evaluate(self, lookup: Callable[[str], Any]) -> bool:
        return not self.operand.evaluate(lookup)

    def __str__(self) -> str:
        return f"not {_wrap(self.operand, Compare)}"


@dataclass(frozen=True)
class BoolOp:
    op: str  # and | or
    operands: tuple[Any, ...]

    def evaluate(self, lookup: Callable[[str], Any]) -> bool:
        results = (o.evaluate(lookup) for o in self.operands)
        return all(results) if self.op == "and" else any(results)

    def __str__(self) -> str:
        def part(operand: Any) -> str:
            bare = isinstance(operand, (Compare, Not)) or (self.op == "or" and isinstance(operand, BoolOp))
            return str(operand) if bare else f"({operand})"

        return f" {self.op} ".join(map(part, self.operands))


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and (value in _KEYWORDS or not re.fullmatch(r"[A-Za-z_][\w.]*", value)):
        return repr(value)
    return str(value)


def _wrap(node: Any, simple: type) -> str:
    return str(node) if isinstance(node, simple) else f"({node})"


class _Parser:
    def __init__(self, text: str):
        self.tokens = tokenize(text)
        self.pos = 0
        self.depth = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.pos]

    def take(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def accept(self, kind: str, text: str) -> bool:
        if self.token.kind == kind and self.token.text == text:
            self.pos += 1
            return True
        return False

    def expect(self, kind: str, text: str, what: str) -> None:
        if not self.accept(kind, text):
            raise ConditionError(f"expected {what}, found {self.token.text!r}", self.token.column)

    def parse(self) -> Any:
        if self.token.kind == "end":
            raise ConditionError("empty expression", 1)
        node = self.disjunction()
        if self.token.kind != "end":
            raise ConditionError(f"unexpected {self.token.text!r} (missing 'and' / 'or'?)", self.token.column)
        return node

    def disjunction(self) -> Any:
        operands = [self.conjunction()]
        while self.accept("keyword", "or"):
            operands.append(self.conjunction())
        return operands[0] if len(operands) == 1 else BoolOp("or", tuple(operands))

    def conjunction(self) -> Any:
        operands = [self.unary()]
        while self.accept("keyword", "and"):
            operands.append(self.unary())
        return operands[0] if len(operands) == 1 else BoolOp("and", tuple(operands))

    def unary(self) -> Any:
        token = self.token
        if token.text in ("not", "(") and token.kind in ("keyword", "op"):
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise ConditionError(f"nested deeper than {MAX_DEPTH} levels", token.column)
        if self.accept("keyword", "not"):
            node: Any = Not(self.unary())
        elif self.accept("op", "("):
            node = self.disjunction()
            self.expect("op", ")", "')'")
        else:
            return self.comparison()
        self.depth -= 1
        return node

    def comparison(self) -> Compare:
        token = self.take()
        if token.kind != "word" or isinstance(token.value, bool):
            raise ConditionError(f"expected an axis name, found {token.text!r}", token.column)
        op_token = self.token
        if self.accept("op", "==") or self.accept("op", "!="):
            return Compare(token.text, op_token.text, (self.value(op_token.text),), token.column)
        negated = self.accept("keyword", "not")
        if not self.accept("keyword", "in"):
            expected = "'in'" if negated else "'==', '!=', 'in' or 'not in'"
            raise ConditionError(f"expected {expected} after {token.text!r}, found {self.token.text!r}", self.token.column)
        self.expect("op", "[", "'[' to start the list of values")
        values = [self.value("[")]
        while self.accept("op", ","):
            values.append(self.value(","))
        self.expect("op", "]", "',' or ']'")
        return Compare(token.text, "not in" if negated else "in", tuple(values), token.column)

    def value(self, after: str) -> Any:
        token = self.take()
        if token.kind not in ("word", "number", "string"):
            raise ConditionError(f"expected a value after {after!r}, found {token.text!r}", token.column)
        return token.value


@dataclass(frozen=True)
class Condition:
    """A parsed `when:` expression; `text` is its normalized form (used in parameter names)."""

    tree: Any

    @property
    def text(self) -> str:
        return str(self.tree)

    def evaluate(self, lookup: Callable[[str], Any]) -> bool:
        """Whether it holds; `lookup(name)` gives an axis value, None when inactive."""
        return self.tree.evaluate(lookup)

    def comparisons(self) -> Iterator[Compare]:
        """Every comparison in it (to check names and literals against the axes)."""
        stack = [self.tree]
        while stack:
            node = stack.pop()
            if isinstance(node, Compare):
                yield node
            elif isinstance(node, Not):
                stack.append(node.operand)
            else:
                stack.extend(reversed(node.operands))

    def __str__(self) -> str:
        return self.text


def parse_condition(text: str) -> Condition:
    """Parse a `when:` expression; raises ConditionError naming the column."""
    return Condition(_Parser(text).parse())
