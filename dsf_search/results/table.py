"""The results table: one row per trial, one column per objective, axis, metric, cost and attribute.

Columns, in this order (DESIGN.md section 3.5):
    number, state                      the Optuna trial number and state (COMPLETE, FAIL, PRUNED, ...)
    <objective> ...                    the study's objectives (the values Optuna holds)
    <axis path> ...                    the canonical spec flattened by path (`d_model`,
                                       `layers.0.transition`, ...); empty where the axis is inactive
    param.<name> ...                   the search space's decisions as sampled (empty where a
                                       conditional decision was not asked)
    acc.<task>, bpb.<task> ...         per-task metrics
    <metric> ...                       the other metrics (efficiency, costs at the protocol's length)
    cost.<name> ...                    the analytic costs at the space's design-check length
    time.<phase> ...                   timings in seconds
    device, hash, architecture, duplicate_of, status, failure_kind, failure, findings,
    datetime_start, datetime_complete
Numbers are numeric dtypes (integers as nullable Int64, flags as nullable boolean).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import optuna
import pandas as pd

from dsf_search.core.spec import ModelSpec
from dsf_search.evaluate.protocol import TASK_METRICS
from dsf_search.kinds import is_kind
from dsf_search.results.study import load_study, objectives_of
from dsf_search.search import attrs as A
from dsf_search.search.storage import DEFAULT_ROOT

PARAM, COST, TIME = "param.", "cost.", "time."
TASK_PREFIXES = tuple(f"{prefix}." for prefix, _ in TASK_METRICS.values())
SPEC_FIELDS = tuple(f.name for f in dataclasses.fields(ModelSpec))
HEAD = ("number", "state")
TAIL = ("device", "hash", "architecture", "duplicate_of", "status", "failure_kind", "failure", "findings",
        "datetime_start", "datetime_complete")


@dataclasses.dataclass(frozen=True)
class Groups:
    """The columns of a results table by kind (see the module docstring)."""

    objectives: list[str]
    axes: list[str]
    params: list[str]
    tasks: list[str]
    metrics: list[str]
    costs: list[str]
    timings: list[str]


def is_axis(column: str) -> bool:
    return column.split(".")[0] in SPEC_FIELDS


def groups(columns: Iterable[str], objectives: Iterable[str] = ()) -> Groups:
    """Sort the columns of a results table into their kinds, keeping their order."""
    columns = list(columns)
    objectives = [c for c in objectives if c in columns]
    fixed = set(HEAD) | set(TAIL) | set(objectives)
    rest = [c for c in columns if c not in fixed]
    axes = [c for c in rest if is_axis(c)]
    params = [c for c in rest if c.startswith(PARAM)]
    tasks = [c for c in rest if c.startswith(TASK_PREFIXES)]
    costs = [c for c in rest if c.startswith(COST)]
    timings = [c for c in rest if c.startswith(TIME)]
    taken = set(axes) | set(params) | set(tasks) | set(costs) | set(timings)
    return Groups(objectives, axes, params, tasks, [c for c in rest if c not in taken], costs, timings)


def searched_columns(df: pd.DataFrame) -> list[str]:
    """The search decisions (param.<name>) of a table, in decision order: what a space searched,
    never the axes it fixed."""
    return [c for c in df.columns if c.startswith(PARAM)]


def flatten_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """Canonical ModelSpec dict -> {'d_model': .., 'layers.0.transition': .., ...}."""
    out: dict[str, Any] = {}
    for key, value in spec.items():
        if key == "layers":
            for i, layer in enumerate(value):
                for axis, v in layer.items():
                    out[f"layers.{i}.{axis}"] = v
        else:
            out[key] = value
    return out


def _findings(findings: list[dict[str, Any]]) -> str:
    return "; ".join(f"{f['code']} {f['level']}" + (f" (layer {f['layer']})" if f.get("layer") is not None else "")
                     for f in findings)


def trial_row(t: optuna.trial.FrozenTrial, objectives: list[str]) -> dict[str, Any]:
    """One trial as a flat dict (the columns of the module docstring)."""
    ua = t.user_attrs
    metrics = dict(ua.get(A.METRICS) or {})
    row: dict[str, Any] = {"number": t.number, "state": t.state.name}
    # a COMPLETE trial's objectives are the values Optuna holds; others show what was measured
    values = list(t.values) if t.state == optuna.trial.TrialState.COMPLETE and t.values else None
    for i, name in enumerate(objectives):
        row[name] = values[i] if values is not None else metrics.get(name)
    row.update(flatten_spec(ua.get(A.SPEC) or {}))
    row.update({f"{PARAM}{k}": v for k, v in t.params.items()})
    row.update({k: v for k, v in metrics.items() if k not in objectives})
    row.update({f"{COST}{k}": v for k, v in (ua.get(A.COST) or {}).items() if k != "length"})
    row.update({f"{TIME}{k}": v for k, v in (ua.get(A.TIMINGS) or {}).items()})
    row.update({
        "device": ua.get(A.DEVICE), "hash": ua.get(A.HASH), "architecture": ua.get(A.ARCHITECTURE),
        "duplicate_of": ua.get(A.DUPLICATE_OF), "status": ua.get(A.STATUS), "failure_kind": ua.get(A.FAILURE_KIND),
        "failure": ua.get(A.FAILURE), "findings": _findings(ua.get(A.FINDINGS) or []),
        "datetime_start": t.datetime_start, "datetime_complete": t.datetime_complete,
    })
    return row


def _order(rows: list[dict[str, Any]], objectives: list[str]) -> list[str]:
    seen = list(dict.fromkeys(key for row in rows for key in row))
    g = groups(seen, objectives)
    axes = [c for c in seen if is_axis(c)]  # spec order, first layer first
    columns = [*HEAD, *objectives, *axes, *g.params, *g.tasks, *g.metrics, *g.costs, *g.timings, *TAIL]
    return list(dict.fromkeys(columns))


def _column(values: list[Any]) -> pd.Series:
    """A column with the dtype its values call for: boolean, Int64, float64, datetime, or text."""
    present = [v for v in values if v is not None and not (isinstance(v, float) and v != v)]
    if present and all(isinstance(v, bool) for v in present):
        return pd.Series(values, dtype="boolean")
    if present and all(is_kind(v, int) for v in present):
        return pd.Series(values, dtype="Int64")
    if present and all(is_kind(v, float) for v in present):
        return pd.Series([float("nan") if v is None else float(v) for v in values], dtype="float64")
    return pd.Series(values).infer_objects()


def table(study: optuna.Study) -> pd.DataFrame:
    """The results table of an open study: one row per trial, every state."""
    objectives = list(objectives_of(study))
    rows = [trial_row(t, objectives) for t in study.get_trials(deepcopy=False)]
    columns = _order(rows, objectives) if rows else [*HEAD, *objectives, *TAIL]
    df = pd.DataFrame({c: _column([row.get(c) for row in rows]) for c in columns})
    df["number"] = df["number"].astype("int64")
    for c in objectives:
        df[c] = pd.to_numeric(df[c]).astype("float64")
    return df


def load(study: str, storage: str | None = None, root: str | Path = DEFAULT_ROOT) -> pd.DataFrame:
    """The results table of the study named `study` (see the module docstring for the columns).

    Raises:
        InputError: no such study (with close matches).
    """
    return table(load_study(study, storage, root))

