"""Summaries that compare: studies side by side, and the values of one design axis.

Quality-like objectives (maximized) are summarized by their best and median, cost-like ones
(minimized) by their median, over the distinct complete candidates (a trial that reused an
identical spec's result counts once). Broken down by an axis, each objective also gets the
mean over the candidates with each value and the 95% Student-t interval of that mean.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from dsf_search.results.matches import unknown
from dsf_search.results.pareto import candidates, pareto
from dsf_search.results.states import INTERRUPTED, failed, outcome
from dsf_search.results.table import PARAM
from dsf_search.results.uncertainty import mean_interval

MISSING = "-"


def resolve_axis(name: str, columns: Sequence[str]) -> str:
    """The column of axis `name`: the column itself, or the search decision param.<name>.

    Raises:
        InputError: neither exists (with close matches).
    """
    if name in columns:
        return name
    if PARAM + name in columns:
        return PARAM + name
    raise unknown("axis", name, columns, "in --by")


def _objective_stats(done: pd.DataFrame, objectives: dict[str, str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, direction in objectives.items():
        values = done[name].dropna() if name in done else pd.Series(dtype=float)
        if direction == "maximize":
            out[f"{name} best"] = values.max() if len(values) else float("nan")
        out[f"{name} median"] = values.median() if len(values) else float("nan")
    return out


def _mean_intervals(done: pd.DataFrame, objectives: dict[str, str]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for name in objectives:
        mean, low, high = mean_interval(done[name] if name in done else pd.Series(dtype=float))
        out[f"{name} mean"], out[f"{name} ci_low"], out[f"{name} ci_high"] = mean, low, high
    return out


def study_summary(name: str, df: pd.DataFrame, objectives: dict[str, str]) -> dict[str, object]:
    """One study in one row: trial counts by state, Pareto size, objective summaries."""
    states = outcome(df).value_counts()
    return {
        "study": name,
        "trials": len(df),
        "complete": int(states.get("COMPLETE", 0)),
        "failed": int(states.get("FAIL", 0)),
        "interrupted": int(states.get(INTERRUPTED, 0)),
        "infeasible": int(states.get("PRUNED", 0)),
        "pareto": len(pareto(df, objectives)) if objectives else 0,
        **_objective_stats(candidates(df, objectives), objectives),
    }


def compare_studies(tables: dict[str, tuple[pd.DataFrame, dict[str, str]]]) -> pd.DataFrame:
    """Studies side by side (interrupted trials counted apart from failed ones): {name: (table, objectives)} -> one row per study."""
    return pd.DataFrame([study_summary(name, df, objectives) for name, (df, objectives) in tables.items()])


def by_axis(df: pd.DataFrame, axis: str, objectives: dict[str, str]) -> pd.DataFrame:
    """For each value of `axis` (a column; '-' where inactive): complete candidates, failed
    trials, and the objective summaries."""
    done = candidates(df, objectives)
    failures = failed(df)

    def label(series: pd.Series) -> pd.Series:
        return series.astype(object).where(series.notna(), MISSING).map(str)

    present = df[axis].dropna().astype(object).unique().tolist()
    try:
        present.sort()
    except TypeError:  # a column of mixed types sorts by its text
        present.sort(key=str)
    values = [str(v) for v in present] + ([MISSING] if df[axis].isna().any() else [])
    done_labels, failed_labels = label(done[axis]), label(failures[axis])
    rows = []
    for value in values:
        group = done[done_labels == value]
        rows.append({axis: value, "count": len(group), "failed": int((failed_labels == value).sum()),
                     **_objective_stats(group, objectives), **_mean_intervals(group, objectives)})
    return pd.DataFrame(rows)


def compare_by_axis(tables: dict[str, tuple[pd.DataFrame, dict[str, str]]], axis: str) -> pd.DataFrame:
    """by_axis for each study, stacked with a `study` column in front."""
    parts = []
    for name, (df, objectives) in tables.items():
        part = by_axis(df, resolve_axis(axis, df.columns), objectives)
        parts.append(part.rename(columns={part.columns[0]: axis}).assign(study=name))
    out = pd.concat(parts, ignore_index=True)
    return out[["study", *[c for c in out.columns if c != "study"]]]
