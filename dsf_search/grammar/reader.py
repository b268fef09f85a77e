"""Shape checks of every YAML file a user writes (spaces, protocols): mappings with known keys,
typed scalars, lists. Each problem is recorded (file:line, key path, found, allowed) and reading
goes on, so a file's errors are reported all at once."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from dsf_search.kinds import KIND_NAMES, is_kind
from dsf_search.grammar.problems import Problems, allowed_list, did_you_mean
from dsf_search.grammar.source import Node

Check = Callable[[Any], "str | None"]


class Invalid:
    """The value of something that failed a check (its problem is already recorded)."""

    def __repr__(self) -> str:
        return "<invalid>"


INVALID: Any = Invalid()


def _shown(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else repr(value)


class Reader:
    """Records problems against nodes; every method returns INVALID (or None) after an error."""

    def __init__(self, problems: Problems):
        self.problems = problems

    def error(self, node: Node, message: str, path: str | None = None, line: int | None = None) -> None:
        self.problems.add(line or node.line, node.path if path is None else path, message)

    def mapping(self, node: Node, allowed: tuple[str, ...], required: tuple[str, ...] = (),
                what: str = "key", hints: dict[str, str] | None = None) -> dict[str, Node] | None:
        """The children of a mapping node; unknown keys (at their own line, with the closest
        allowed one) and missing required ones are errors (`hints` replaces the list of allowed
        keys for known mistakes, e.g. a model axis among mixer axes)."""
        if not node.is_mapping:
            self.error(node, f"expected a mapping, got {node.describe()}")
            return None
        out = {}
        for key, child in node.value.items():
            if key in allowed:
                out[key] = child
            else:
                hint = (hints or {}).get(key) or f"allowed: {allowed_list(allowed)}"
                self.error(child, f"unknown {what}{did_you_mean(key, allowed)}; {hint}", line=child.key_line)
        for key in required:
            if key not in node.value:
                self.error(node, f"missing required key {key!r}", path=f"{node.path}.{key}" if node.path else key)
        return out

    def scalar(self, node: Node, kind: type, check: Check | None = None, optional: bool = False) -> Any:
        """A scalar of type `kind` (dsf_search.kinds: ints count as numbers, bools never do; a plain
        1e-3, a string to YAML 1.1, is the number), None for null when `optional`. A failed
        `check` returns its message; one that starts with 'must' gets ', got VALUE' appended."""
        value = node.value
        if kind is float and isinstance(value, str) and node.plain:
            try:
                value = float(value)
            except ValueError:
                pass
        if value is None and optional and node.is_scalar:
            return None
        if not node.is_scalar or not is_kind(value, kind):
            never = " (a boolean is never a number)" if kind in (int, float) and isinstance(value, bool) else ""
            self.error(node, f"expected {KIND_NAMES[kind]}{' or null' if optional else ''}, got {node.describe()}{never}")
            return INVALID
        value = float(value) if kind is float else value
        problem = "must be a finite number" if kind is float and not math.isfinite(value) else None
        problem = problem or (check(value) if check else None)
        if problem:
            self.error(node, f"{problem}, got {_shown(value)}" if problem.startswith("must") else problem)
            return INVALID
        return value

    def list_of(self, node: Node, what: str, nonempty: bool = True) -> list[Node] | None:
        if not node.is_list or (nonempty and not node.value):
            self.error(node, f"expected a non-empty list of {what}, got {node.describe()}")
            return None
        return node.value


def at_least(low: float) -> Check:
    def check(value: float) -> str | None:
        return None if value >= low else f"must be >= {low:g}"

    return check


def positive(value: float) -> str | None:
    return None if value > 0 else "must be > 0"


def between(low: float, high: float) -> Check:
    def check(value: float) -> str | None:
        return None if low <= value <= high else f"must be in [{low:g}, {high:g}]"

    return check
