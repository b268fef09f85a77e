"""Queries over a results table: states, a `--where` expression, sorting, top N, columns.

`--where` is the small language of dsf_search.results.expression (never Python's eval): column
names are written as they are printed (`layers.0.transition`, `acc.parity`), and a name that is
no column is an InputError that lists the close matches.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from dsf_search.errors import InputError
from dsf_search.defaults import ALL, STATES
from dsf_search.results.expression import evaluate_where
from dsf_search.results.matches import unknown

DIRECTIONS = {"asc": True, "desc": False}


def filter_states(df: pd.DataFrame, states: Sequence[str]) -> pd.DataFrame:
    """The rows in any of `states` (case-insensitive; ALL keeps every row)."""
    wanted = [s.strip().upper() for s in states if s.strip()]
    for s in wanted:
        if s not in STATES and s != ALL:
            raise unknown("state", s, [*STATES, ALL], "in --state")
    if ALL in wanted:
        return df
    return df[df["state"].isin(wanted)]


def where(df: pd.DataFrame, expr: str) -> pd.DataFrame:
    """The rows for which the `--where` expression holds (see dsf_search.results.expression)."""
    return df[evaluate_where(df, expr)]


def check_columns(names: Sequence[str], columns: Sequence[str], option: str) -> None:
    for name in names:
        if name not in columns:
            raise unknown("column", name, columns, f"in {option}")


def parse_sort(spec: str) -> list[tuple[str, bool | None]]:
    """'a:desc,b' -> [('a', False), ('b', None)]: None means the column's natural order."""
    keys = []
    for item in (s.strip() for s in spec.split(",")):
        if not item:
            continue
        name, sep, direction = item.rpartition(":")
        if not sep:
            name, direction = item, ""
        elif direction.lower() not in DIRECTIONS:
            raise InputError(f"--sort {item!r}: expected COLUMN, COLUMN:asc or COLUMN:desc")
        keys.append((name, DIRECTIONS[direction.lower()] if direction else None))
    if not keys:
        raise InputError("--sort: no column given")
    return keys


def sort(df: pd.DataFrame, spec: str, objectives: dict[str, str]) -> pd.DataFrame:
    """Sort by COL[:asc|desc],...; an objective without a direction sorts best first, others ascending."""
    keys = parse_sort(spec)
    check_columns([name for name, _ in keys], df.columns, "--sort")
    ascending = [objectives.get(name, "minimize") != "maximize" if up is None else up for name, up in keys]
    return df.sort_values([name for name, _ in keys], ascending=ascending, na_position="last", kind="stable")


def select(df: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    check_columns(names, df.columns, "--columns")
    return df[list(names)]
