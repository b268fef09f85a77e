"""A fidelity ladder's results: how well each screening rung ranked the candidates the way a
later rung did, and what each rung cost.

For every pair of rungs (i < j), over the candidates evaluated (COMPLETE) at both — the ones
promoted from i onward — the rank agreement of quality (the first maximized objective, its
mean over seeds): Spearman's rho and Kendall's tau with 95% bootstrap intervals
(evaluate/rank.py). A rung's wall time runs from its first trial's start to its last trial's end.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import optuna
import pandas as pd
from optuna.trial import TrialState

from dsf_search.evaluate.rank import bootstrap, kendall, spearman
from dsf_search.results.study import load_study, objectives_of
from dsf_search.search import attrs as A
from dsf_search.search.ladder import STUDY_LADDER
from dsf_search.search.storage import DEFAULT_ROOT


FEW_PAIRS = 6  # below this, resamples mostly repeat or tie the same few candidates


def ladder_of(study: optuna.Study) -> dict[str, Any] | None:
    """The ladder record of a rung study (None for a study that is not a rung)."""
    return study.user_attrs.get(STUDY_LADDER)


def _quality(study: optuna.Study) -> str | None:
    return next((name for name, d in objectives_of(study).items() if d == "maximize"), None)


def _by_hash(study: optuna.Study, metric: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        h, metrics = t.user_attrs.get(A.HASH), t.user_attrs.get(A.METRICS) or {}
        if h and h not in out and metric in metrics:
            out[h] = float(metrics[metric])
    return out


def _wall_s(study: optuna.Study) -> float | None:
    trials = [t for t in study.get_trials(deepcopy=False) if t.datetime_start and t.datetime_complete]
    if not trials:
        return None
    return (max(t.datetime_complete for t in trials) - min(t.datetime_start for t in trials)).total_seconds()


def rungs(study: str, storage: str | None = None, root: str | Path = DEFAULT_ROOT) -> pd.DataFrame:
    """One row per rung: study, protocol, complete trials, wall time (s)."""
    record = ladder_of(load_study(study, storage, root))
    if record is None:
        return pd.DataFrame()
    rows = []
    for i, rung in enumerate(record["rungs"]):
        handle = load_study(rung["study"], storage, root)
        complete = len(handle.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
        rows.append({"rung": i, "study": rung["study"], "protocol": rung["protocol"], "complete": complete,
                     "wall_s": _wall_s(handle)})
    return pd.DataFrame(rows)


def agreement(study: str, storage: str | None = None, root: str | Path = DEFAULT_ROOT) -> pd.DataFrame:
    """For every pair of rungs: n shared candidates, Spearman and Kendall with intervals."""
    record = ladder_of(load_study(study, storage, root))
    if record is None:
        return pd.DataFrame()
    handles = [load_study(r["study"], storage, root) for r in record["rungs"]]
    quality = _quality(handles[-1])
    if quality is None:
        return pd.DataFrame()
    values = [_by_hash(h, quality) for h in handles]
    rows = []
    for i in range(len(handles)):
        for j in range(i + 1, len(handles)):
            shared = [h for h in values[i] if h in values[j]]
            x, y = [values[i][h] for h in shared], [values[j][h] for h in shared]
            row: dict[str, Any] = {"rungs": f"{record['rungs'][i]['protocol']} -> {record['rungs'][j]['protocol']}",
                                   "metric": quality, "n": len(shared)}
            for name, fn in (("spearman", spearman), ("kendall", kendall)):
                a = bootstrap(x, y, fn) if len(shared) >= 2 else None
                row[name] = a.value if a else None
                row[f"{name} ci_low"] = a.ci_low if a else None
                row[f"{name} ci_high"] = a.ci_high if a else None
            rows.append(row)
    return pd.DataFrame(rows)


def format_ladder(study: str, storage: str | None = None, root: str | Path = DEFAULT_ROOT) -> str:
    """The rungs and their rank agreement as text ('' for a study that is not a rung)."""
    table = rungs(study, storage, root)
    if table.empty:
        return ""
    shown = table.assign(wall_s=table["wall_s"].map(lambda v: "-" if v is None or pd.isna(v) else f"{v:.0f}"))
    lines = ["fidelity ladder (one study per rung):", shown.astype(object).fillna("-").to_string(index=False)]
    pairs = agreement(study, storage, root)
    for _, row in pairs.iterrows():
        parts = []
        for name in ("spearman", "kendall"):
            if row[name] is None or pd.isna(row[name]):
                parts.append(f"{name} -")
                continue
            low, high = row[f"{name} ci_low"], row[f"{name} ci_high"]
            interval = f" [{low:.2f}, {high:.2f}]" if low is not None and not pd.isna(low) else ""
            parts.append(f"{name} {row[name]:.2f}{interval}")
        lines.append(f"rank agreement of {row['metric']}, {row['rungs']} over {row['n']} shared candidates: "
                     + ", ".join(parts) + " (95% bootstrap intervals)"
                     + (f"; with {row['n']} candidates the bootstrap cannot say much" if row["n"] < FEW_PAIRS else ""))
    return "\n".join(lines)
