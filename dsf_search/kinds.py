"""The one check of a scalar's kind, for every reader of user values (specs, task configs,
YAML files): a bool is never a number (True is an int to Python, not to a user), and an int
counts as a float."""

from __future__ import annotations

from typing import Any

KIND_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}


def is_kind(value: Any, kind: type) -> bool:
    """Whether `value` is a `kind` (str, int, float or bool) as a user means it."""
    if isinstance(value, bool):
        return kind is bool
    if kind is float:
        return isinstance(value, (int, float))
    return isinstance(value, kind)
