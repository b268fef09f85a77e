"""Rank agreement between two measurements of the same pairs (one candidate under two rungs of a
ladder; a design axis and a metric in a claim): Spearman's rho and Kendall's tau-b, each with a
percentile bootstrap interval over the pairs.

Spearman: the Pearson correlation of the ranks (ties get their average rank). Kendall tau-b:
(concordant - discordant) / sqrt((n0 - ties_x) (n0 - ties_y)), n0 = n (n - 1) / 2. The
bootstrap resamples the pairs with replacement; resamples whose ranks are all tied
(no correlation defined) are skipped, and the interval is the 2.5th and 97.5th percentiles.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

BOOTSTRAP, CONFIDENCE = 2000, 0.95


def _ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rho; NaN when either side is constant."""
    rx, ry = _ranks(x), _ranks(y)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    sxx, syy = sum((a - mx) ** 2 for a in rx), sum((b - my) ** 2 for b in ry)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else math.nan


def kendall(x: Sequence[float], y: Sequence[float]) -> float:
    """Kendall's tau-b; NaN when either side is constant."""
    n = len(x)
    concordant = discordant = ties_x = ties_y = 0
    for i in range(n):
        for j in range(i + 1, n):
            dx, dy = x[i] - x[j], y[i] - y[j]
            if dx == 0:
                ties_x += 1
            if dy == 0:
                ties_y += 1
            if dx * dy > 0:
                concordant += 1
            elif dx * dy < 0:
                discordant += 1
    n0 = n * (n - 1) / 2
    denominator = math.sqrt((n0 - ties_x) * (n0 - ties_y))
    return (concordant - discordant) / denominator if denominator > 0 else math.nan


@dataclass(frozen=True)
class Agreement:
    """A rank correlation and its bootstrap interval (None where no resample defined one)."""

    value: float
    ci_low: float | None
    ci_high: float | None


def bootstrap(x: Sequence[float], y: Sequence[float], statistic: Callable[[Sequence[float], Sequence[float]], float],
              resamples: int = BOOTSTRAP, seed: int = 0) -> Agreement:
    """`statistic(x, y)` with its percentile bootstrap interval over the pairs."""
    import numpy as np  # here: reading a space's claims (`validate`) needs no numpy

    value = statistic(x, y)
    rng = np.random.default_rng(seed)
    n = len(x)
    draws = []
    for _ in range(resamples if n >= 2 else 0):
        idx = rng.integers(0, n, n)
        v = statistic([x[i] for i in idx], [y[i] for i in idx])
        if not math.isnan(v):
            draws.append(v)
    if not draws:
        return Agreement(value, None, None)
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return Agreement(value, float(low), float(high))
