"""Errors of a space file: every problem names file:line, the key path, what was found and
what is allowed (dsf_search.grammar collects them); they are raised together as one SpaceError."""

from __future__ import annotations

from dsf_search.grammar import FileErrors, Problem


class SpaceError(FileErrors):
    """A space file with errors; `problems` lists every one of them (and those of the files it
    names, under their own file and line), in file order."""

    def __init__(self, problems: list[Problem]):
        count = len(problems)
        super().__init__(problems, f"{count} error{'s' if count != 1 else ''} in the search space:")
