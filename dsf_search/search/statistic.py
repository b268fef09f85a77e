"""The value an objective ranks by: the mean over the protocol's seeds, or its lower
confidence bound (`search: {statistic: lower_bound}`).

The lower bound is the pessimistic end of the 95% interval: `M.ci_low` for a maximized metric,
`M.ci_high` for a minimized one. A metric without an interval (an analytic cost, identical
across seeds) ranks by its value.
"""

from __future__ import annotations

from collections.abc import Mapping

from dsf_search.evaluate.seeds import CI_HIGH, CI_LOW

MEAN, LOWER_BOUND = "mean", "lower_bound"


def objective_value(metrics: Mapping[str, float], name: str, direction: str, statistic: str = MEAN) -> float:
    """The value of objective `name` (which must be in `metrics`) under `statistic`.

    Raises:
        KeyError: `name` is not in `metrics`.
    """
    value = float(metrics[name])
    if statistic == LOWER_BOUND:
        bound = name + (CI_LOW if direction == "maximize" else CI_HIGH)
        return float(metrics.get(bound, value))
    return value
