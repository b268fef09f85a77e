"""The problems of the files a user wrote: each names file:line, the key path and what is wrong.
A reader records every problem of a file (and of the files it refers to) and they are raised
together, in file order, by the caller's error class."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dsf_search.suggest import did_you_mean
from dsf_search.errors import InputError

__all__ = ["FileErrors", "Problem", "Problems", "allowed_list", "did_you_mean"]


def allowed_list(allowed: Iterable[object]) -> str:
    return ", ".join(str(a) for a in allowed)


@dataclass(frozen=True)
class Problem:
    """One error: where (file, line, key path) and what."""

    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.path or '<top>'}: {self.message}"


class FileErrors(InputError):
    """Bad input files; `problems` lists every problem, in file order, under `heading`."""

    def __init__(self, problems: list[Problem], heading: str):
        self.problems = sorted(problems, key=lambda p: (p.file, p.line))
        super().__init__("\n  ".join([heading, *map(str, self.problems)]))


class Problems:
    """Collects the problems of one file (and of the files it refers to, under their own names)."""

    def __init__(self, file: str):
        self.file = file
        self.items: list[Problem] = []

    def add(self, line: int, path: str, message: str) -> None:
        self.items.append(Problem(self.file, line, path, message))

    def extend(self, problems: Iterable[Problem]) -> None:
        """Problems of another file, kept with their own file and line."""
        self.items.extend(problems)

    def __bool__(self) -> bool:
        return bool(self.items)
