"""Study names: one rule for a space's `name:` and for every study named on the command line.

A study names its folder under the results root, so its name must be one plain path component:
ASCII letters, digits, '_', '-' and '.', starting with a letter or digit (never '.' or '..', no
'/', no absolute path), at most MAX_STUDY_NAME characters.
"""

from __future__ import annotations

import re

from dsf_search.errors import InputError

MAX_STUDY_NAME = 100
STUDY_NAME = re.compile(rf"[A-Za-z0-9][A-Za-z0-9_.-]{{0,{MAX_STUDY_NAME - 1}}}")
RULE = (f"a study name is ASCII letters, digits, '_', '-' or '.', starting with a letter or digit, at most "
        f"{MAX_STUDY_NAME} characters (it names the study's folder)")


def study_name_problem(value: str) -> str | None:
    """Why `value` cannot name a study, or None."""
    return None if STUDY_NAME.fullmatch(value) else f"found {value!r}; {RULE}"


def check_study_name(value: str, where: str = "study name") -> str:
    """`value`, or an InputError naming `where` (e.g. '--study')."""
    problem = study_name_problem(value)
    if problem:
        raise InputError(f"{where}: {problem}")
    return value
