"""Uncertainty in a results table: seed intervals shown beside their means, intervals of a
group's mean, and the effect of each design-axis value as a difference of means.

Two kinds of interval appear, and they answer different questions:
* over seeds (the protocol's `seeds: N`): `M.ci_low` / `M.ci_high` columns, how sure the
  mean of one candidate is (see dsf_search.evaluate.seeds);
* over candidates: the Student-t interval of the mean of a group of candidates (the ones with
  a given axis value), and Welch's interval of the difference of two such means.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from dsf_search.evaluate.seeds import CI_HIGH, CI_LOW, STAT_SUFFIXES
from dsf_search.evaluate.stats import difference, summarize
from dsf_search.results.formats import cell

PLUS_MINUS = "±"
DIGITS = 4


def has_interval(df: pd.DataFrame, column: str) -> bool:
    """Whether `column` has seed intervals (`column.ci_low`, `column.ci_high`) in some row."""
    return column + CI_LOW in df and column + CI_HIGH in df and df[column + CI_LOW].notna().any()


def interval_text(mean: float, low: float | None, high: float | None, digits: int = DIGITS) -> str:
    """`mean ± half` for a symmetric interval, `mean [low, high]` otherwise; `mean` without one."""
    if low is None or high is None or pd.isna(low) or pd.isna(high):
        return cell(mean, digits)
    half = (high - low) / 2
    if abs((mean - low) - half) <= 1e-9 * max(1.0, abs(half)):
        return f"{cell(mean, digits)} {PLUS_MINUS} {cell(half, digits)}"
    return f"{cell(mean, digits)} [{cell(low, digits)}, {cell(high, digits)}]"


def with_intervals(df: pd.DataFrame, columns: Iterable[str], full: pd.DataFrame | None = None) -> pd.DataFrame:
    """`df` with each of `columns` that has seed intervals (in `full`, default `df`: the
    table the rows come from) shown as text `mean ± half` (a terminal or Markdown view; the
    numbers stay numeric in the other formats). Rows without an interval show the mean."""
    source = df if full is None else full
    out = df.copy()
    for column in columns:
        if column in out and has_interval(source, column):
            low, high = source.loc[df.index, column + CI_LOW], source.loc[df.index, column + CI_HIGH]
            out[column] = [interval_text(m, lo, hi) for m, lo, hi in zip(df[column], low, high)]
    return out


def drop_statistics(columns: Iterable[str]) -> list[str]:
    """The columns that are not seed statistics (`M.std`, `M.ci_low`, `M.ci_high`)."""
    return [c for c in columns if not str(c).endswith(STAT_SUFFIXES)]


def mean_interval(values: pd.Series) -> tuple[float, float | None, float | None]:
    """Mean of the non-missing values and the 95% Student-t interval of that mean (None for
    fewer than two values); NaN mean for none."""
    present = [float(v) for v in values.dropna()]
    if not present:
        return float("nan"), None, None
    s = summarize(present)
    return s.mean, s.ci_low, s.ci_high


def axis_effects(done: pd.DataFrame, axes: Iterable[str], metric: str) -> pd.DataFrame:
    """For each axis and each of its values but the reference (the most frequent value; the
    first in sorted order on a tie): the difference of the mean of `metric` between the
    candidates with that value and those with the reference, with Welch's 95% interval.

    Columns: axis, value, versus, n, n_versus, difference, ci_low, ci_high ('-' is an inactive
    axis; the interval is missing when a group has fewer than two candidates).
    """
    rows = []
    for axis in axes:
        labels = done[axis].astype(object).where(done[axis].notna(), "-").map(str)
        groups = {value: done.loc[labels == value, metric].dropna().astype(float).tolist()
                  for value in sorted(labels.unique())}
        groups = {value: values for value, values in groups.items() if values}
        if len(groups) < 2:
            continue
        reference = max(groups, key=lambda v: len(groups[v]))  # max keeps the first (sorted) on ties
        for value, values in groups.items():
            if value == reference:
                continue
            d = difference(values, groups[reference])
            rows.append({"axis": axis.removeprefix("param."), "value": value, "versus": reference, "n": d.n_a,
                         "n_versus": d.n_b, "difference": d.diff, "ci_low": d.ci_low, "ci_high": d.ci_high})
    return pd.DataFrame(rows, columns=["axis", "value", "versus", "n", "n_versus", "difference", "ci_low", "ci_high"])


def effect_text(row: pd.Series, metric: str) -> str:
    """One effect in words: `signed vs nonnegative: +0.12 [0.03, 0.21] quality`."""
    interval = ("" if row["ci_low"] is None or pd.isna(row["ci_low"])
                else f" [{row['ci_low']:+.3g}, {row['ci_high']:+.3g}]")
    return f"{row['axis']} = {row['value']} vs {row['versus']}: {row['difference']:+.3g}{interval} {metric}"
