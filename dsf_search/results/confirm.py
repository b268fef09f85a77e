"""Front-membership probabilities of confirmed candidates: a bootstrap over their seeds.

Each of `resamples` rounds draws, for every candidate, N of its N per-seed values with
replacement (for each objective, the same draws: a seed's metrics stay together), takes their
means, and finds the Pareto front among the confirmed candidates. A candidate's probability is
the share of rounds it is on that front. The front is taken among the confirmed candidates
(the study's front and its seeded architectures), the ones that could be on it.
"""

from __future__ import annotations

import numpy as np
import optuna
import pandas as pd
from optuna.trial import TrialState

from dsf_search.defaults import RESAMPLES
from dsf_search.results.pareto import pareto_mask
from dsf_search.search import attrs as A
from dsf_search.search.fixed import SOURCE_TRIAL

P_FRONT = "p_front"


def _seed_values(t: optuna.trial.FrozenTrial, objectives: list[str]) -> np.ndarray:
    """[seeds, objectives]: each seed's value of each objective (one row without per-seed records)."""
    records = t.user_attrs.get(A.PER_SEED) or [{"metrics": t.user_attrs.get(A.METRICS) or {}}]
    return np.array([[float(r["metrics"][name]) for name in objectives] for r in records])


def front_probabilities(study: optuna.Study, objectives: dict[str, str], resamples: int = RESAMPLES,
                        seed: int = 0) -> pd.DataFrame:
    """One row per distinct complete candidate of a confirm study: its source trial, label,
    seeds, mean and 95% interval of each objective, on the front of the means, and P(front)."""
    names = list(objectives)
    trials, seen = [], set()
    for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        if t.user_attrs.get(A.HASH) not in seen:
            seen.add(t.user_attrs.get(A.HASH))
            trials.append(t)
    if not trials:
        return pd.DataFrame()
    values = [_seed_values(t, names) for t in trials]
    rng = np.random.default_rng(seed)
    counts = np.zeros(len(trials))
    for _ in range(resamples):
        means = [v[rng.integers(0, len(v), len(v))].mean(axis=0) for v in values]
        counts += pareto_mask(pd.DataFrame(means, columns=names), objectives).to_numpy()
    point = pareto_mask(pd.DataFrame([v.mean(axis=0) for v in values], columns=names), objectives).to_numpy()
    rows = []
    for t, v, c, on in zip(trials, values, counts, point):
        metrics = t.user_attrs.get(A.METRICS) or {}
        row = {"number": t.number, "source_trial": t.user_attrs.get(SOURCE_TRIAL),
               "architecture": t.user_attrs.get(A.ARCHITECTURE), "seeds": len(v)}
        for name in names:
            row[name] = float(metrics.get(name, v[:, names.index(name)].mean()))
            row[f"{name}.ci_low"], row[f"{name}.ci_high"] = metrics.get(f"{name}.ci_low"), metrics.get(f"{name}.ci_high")
        row["on_front"] = bool(on)
        row[P_FRONT] = float(c / resamples)
        rows.append(row)
    first = names[0]
    return pd.DataFrame(rows).sort_values([P_FRONT, first], ascending=[False, objectives[first] != "maximize"])
