"""The one "did you mean" of the project's error messages (the core's registry, the grammar, the
CLI and the query language all use it). A leaf module: it imports nothing of the package, so a
mistyped command is answered before anything heavy is loaded."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(word: object, choices: Iterable[object]) -> str:
    """' (did you mean 'x'?)' for the closest of `choices` to `word`, or '' when none is close."""
    match = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1)
    return f" (did you mean {match[0]!r}?)" if match else ""
