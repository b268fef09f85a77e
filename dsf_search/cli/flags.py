"""Argument types of the CLI's flags: each refuses a bad value while the arguments are parsed
(exit 2, naming the flag), so nothing downstream ever sees NaN, a negative count or a path as a
study name. Every numeric flag of every subcommand uses these."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path

from dsf_search.names import study_name_problem
from dsf_search.grammar.limits import MAX_SEED

MAX_MAP_LEN = 4096  # tokens of a coefficient map (it holds T x T coefficients per head)


def study_name(text: str) -> str:
    """A study name (the rule of dsf_search.names)."""
    problem = study_name_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return text


def whole(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """An integer in [minimum, maximum]."""
    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, found {text!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            bound = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
            raise argparse.ArgumentTypeError(f"found {value}; must be {bound}")
        return value

    parse.__name__ = "integer"
    return parse


def number(minimum: float, maximum: float | None = None, above: bool = False) -> Callable[[str], float]:
    """A finite number >= minimum (> minimum with `above`), <= maximum."""
    def parse(text: str) -> float:
        try:
            value = float(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, found {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"found {text!r}; must be a finite number")
        low_ok = value > minimum if above else value >= minimum
        if not low_ok or (maximum is not None and value > maximum):
            bound = f"{'>' if above else '>='} {minimum:g}" + (f" and <= {maximum:g}" if maximum is not None else "")
            raise argparse.ArgumentTypeError(f"found {value:g}; must be {bound}")
        return value

    parse.__name__ = "number"
    return parse


SEED = whole(0, MAX_SEED)


def output_file(text: str) -> str:
    """A file to write: its folder must exist (nothing is written before the work is done, so a
    typo in the folder would otherwise surface only at the end)."""
    path = Path(text).expanduser()
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a folder; name a file")
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r}: the folder {str(path.parent)!r} does not exist")
    return text


def output_folder(text: str) -> str:
    """A folder to write into (created if missing): it, or the folder it would be created in,
    must exist, and it must not be a file."""
    path = Path(text).expanduser()
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a file; name a folder")
    if not path.exists() and not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r}: the folder {str(path.parent)!r} does not exist")
    return text
