"""Which search decisions mattered: Optuna's parameter importances over the complete trials.

The evaluator is PED-ANOVA (`optuna.importance.PedAnovaImportanceEvaluator`, Optuna's default
since 5.0): it needs only numpy and handles conditional decisions, whereas fANOVA and
mean-decrease-impurity need scikit-learn. It measures how much each decision's distribution
among the best trials (the top `quantile`) differs from its distribution over all of them.
Optuna advises at least 5 trials in the top quantile, so the quantile is raised to hold 5
trials in small studies (at most a half), and below MIN_TRIALS complete trials there is no
ranking to report. Below RELIABLE_TRIALS the ranking comes with a warning: with few trials
the top quantile is a handful of candidates and a decision that alone separates the front can
score 0 (seen with 8 trials); the report then leads with the per-axis differences of means
and their intervals (results/uncertainty.py), which say how sure they are.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import optuna
import pandas as pd
from optuna.importance import PedAnovaImportanceEvaluator, get_param_importances
from optuna.trial import TrialState

MIN_TRIALS = 8
RELIABLE_TRIALS = 30  # the top 10% then holds 3 or more candidates on the default quantile
TOP_TRIALS, BASE_QUANTILE, MAX_QUANTILE = 5, 0.1, 0.5
PARETO = "pareto front"


@dataclass(frozen=True)
class Importances:
    """Importance (normalized to sum 1 per column) of each decision (rows) for each target
    (columns: each objective, and reaching the Pareto front when there are several); or why not."""

    table: pd.DataFrame | None
    quantile: float | None
    note: str
    warning: str = ""


def importances(study: optuna.Study, objectives: dict[str, str]) -> Importances:
    trials = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)) if t.params]
    varied = sorted({name for t in trials for name in t.params
                     if len({repr(u.params.get(name)) for u in trials}) > 1})
    if len(trials) < MIN_TRIALS:
        return Importances(None, None, f"{len(trials)} complete trial(s) with search decisions: too few to rank "
                                       f"their importance (at least {MIN_TRIALS} needed)")
    if not varied:
        return Importances(None, None, "no search decision took more than one value among the complete trials")
    quantile = min(MAX_QUANTILE, max(BASE_QUANTILE, TOP_TRIALS / len(trials)))
    evaluator = PedAnovaImportanceEvaluator(target_quantile=quantile)
    columns: dict[str, dict[str, float]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna warns that the target is minimized; the sign below says so
        if len(objectives) > 1:
            columns[PARETO] = get_param_importances(study, evaluator=evaluator, params=varied)
        for i, (name, direction) in enumerate(objectives.items()):
            sign = -1.0 if direction == "maximize" else 1.0
            columns[name] = get_param_importances(study, evaluator=evaluator, params=varied,
                                                  target=lambda t, i=i, sign=sign: sign * t.values[i])
    table = pd.DataFrame(columns).reindex(varied).fillna(0.0)
    order = table.iloc[:, 0].sort_values(ascending=False).index
    warning = ""
    if len(trials) < RELIABLE_TRIALS:
        warning = (f"warning: only {len(trials)} complete trials (fewer than {RELIABLE_TRIALS}); these importances "
                   f"rest on the best {max(1, round(quantile * len(trials)))} of them and can rank a decisive axis "
                   f"at 0. Read the differences of means with their intervals instead.")
    return Importances(table.loc[order], quantile,
                       f"PED-ANOVA over {len(trials)} complete trials: how much each decision's distribution "
                       f"among the best {quantile:.0%} differs from its distribution over all of them", warning)
