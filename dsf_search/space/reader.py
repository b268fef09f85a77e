"""Shape checks shared by every section of a space file: mappings with known keys, typed
scalars. Each problem is recorded (file:line, key path, found, allowed) and reading goes on."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from dsf_search.space.errors import Problems, allowed_list, did_you_mean
from dsf_search.space.source import Node

_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false", list: "a list",
               dict: "a mapping"}


class Invalid:
    """The value of something that failed a check (its problem is already recorded)."""

    def __repr__(self) -> str:
        return "<invalid>"


INVALID: Any = Invalid()


class Reader:
    """Records problems against nodes; every method returns INVALID (or None) after an error."""

    def __init__(self, problems: Problems):
        self.problems = problems

    def error(self, node: Node, message: str, path: str | None = None, line: int | None = None) -> None:
        self.problems.add(line or node.line, node.path if path is None else path, message)

    def mapping(self, node: Node, allowed: tuple[str, ...], required: tuple[str, ...] = (),
                what: str = "key", hints: dict[str, str] | None = None) -> dict[str, Node] | None:
        """The children of a mapping node; unknown keys and missing required ones are errors
        (`hints` adds a sentence for known mistakes, e.g. a model axis among mixer axes)."""
        if not node.is_mapping:
            self.error(node, f"expected a mapping with keys {allowed_list(allowed)}; found {node.describe()}")
            return None
        out = {}
        for key, child in node.value.items():
            if key in allowed:
                out[key] = child
            else:
                hint = (hints or {}).get(key) or f"allowed: {allowed_list(allowed)}"
                self.error(child, f"unknown {what} {key!r}{did_you_mean(key, allowed)}; {hint}", line=child.key_line)
        for key in required:
            if key not in node.value:
                self.error(node, f"missing required key {key!r}", path=f"{node.path}.{key}" if node.path else key)
        return out

    def scalar(self, node: Node, kind: type, check: Callable[[Any], str | None] | None = None) -> Any:
        """A scalar of type `kind` (ints count as numbers, bools never do); a failed `check`
        returns its message, which is recorded."""
        value = node.value
        if kind is float and isinstance(value, str) and node.plain:
            try:
                value = float(value)
            except ValueError:
                pass
        ok = isinstance(value, kind) and not (kind in (int, float) and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            ok, value = True, float(value)
        if not node.is_scalar or not ok:
            self.error(node, f"expected {_TYPE_NAMES[kind]}; found {node.describe()}")
            return INVALID
        problem = "must be a finite number" if kind is float and not math.isfinite(value) else None
        problem = problem or (check(value) if check else None)
        if problem:
            self.error(node, f"found {node.value!r}; {problem}" if problem.startswith("must") else problem)
            return INVALID
        return value

    def list_of(self, node: Node, what: str, nonempty: bool = True) -> list[Node] | None:
        if not node.is_list or (nonempty and not node.value):
            self.error(node, f"expected a non-empty list of {what}; found {node.describe()}")
            return None
        return node.value


def at_least(low: float) -> Callable[[float], str | None]:
    def check(value: float) -> str | None:
        return None if value >= low else f"found {value:g}; must be >= {low:g}"

    return check


def between(low: float, high: float) -> Callable[[float], str | None]:
    def check(value: float) -> str | None:
        return None if low <= value <= high else f"found {value:g}; must be in [{low:g}, {high:g}]"

    return check
