"""Summary statistics of repeated measurements: mean, sample standard deviation and the 95%
Student-t confidence interval of the mean.

For values x_1..x_N (N >= 2): mean m = sum x / N, std s = sqrt(sum (x - m)^2 / (N - 1)), and
the interval m -+ t_{0.975, N-1} * s / sqrt(N). With N = 1 there is no interval (not a zero one).
The t quantile is computed here (scipy is not a dependency): the density integrated by
Simpson's rule, inverted by bisection.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

CONFIDENCE = 0.95
_SIMPSON_INTERVALS = 2000  # even; the t density is smooth: the quantiles agree with tables to 1e-6
_BISECTION_STEPS = 50


def _t_density(x: float, df: float) -> float:
    log_c = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    return math.exp(log_c - (df + 1) / 2 * math.log1p(x * x / df))


def t_cdf(x: float, df: float) -> float:
    """P(T <= x) for Student's t with `df` degrees of freedom."""
    if x < 0:
        return 1.0 - t_cdf(-x, df)
    h = x / _SIMPSON_INTERVALS
    total = _t_density(0.0, df) + _t_density(x, df)
    for i in range(1, _SIMPSON_INTERVALS):
        total += (4 if i % 2 else 2) * _t_density(i * h, df)
    return 0.5 + total * h / 3


def t_quantile(p: float, df: float) -> float:
    """The x with P(T <= x) = p (0.5 <= p < 1), Student's t with `df` >= 1 degrees of freedom
    (not necessarily an integer: Welch's df is not; it is rounded to 1e-3 for the cache)."""
    return _t_quantile(p, round(float(df), 3))


@lru_cache(maxsize=1024)
def _t_quantile(p: float, df: float) -> float:
    if not 0.5 <= p < 1 or df < 1:
        raise ValueError(f"t_quantile needs 0.5 <= p < 1 and df >= 1, got p={p}, df={df}")
    low, high = 0.0, 1.0
    while t_cdf(high, df) < p:  # the Cauchy (df 1) 0.975 quantile is 12.7: a few doublings
        low, high = high, high * 2
    for _ in range(_BISECTION_STEPS):
        mid = (low + high) / 2
        low, high = (mid, high) if t_cdf(mid, df) < p else (low, mid)
    return (low + high) / 2


@dataclass(frozen=True)
class Summary:
    """Mean, std and interval of N values; std and interval are None when N = 1."""

    n: int
    mean: float
    std: float | None
    ci_low: float | None
    ci_high: float | None


def summarize(values: Sequence[float], confidence: float = CONFIDENCE) -> Summary:
    """The summary of ``values`` (see the module docstring).

    Raises:
        ValueError: no values.
    """
    n = len(values)
    if n == 0:
        raise ValueError("summarize needs at least one value")
    m = math.fsum(values) / n
    if n == 1:
        return Summary(1, m, None, None, None)
    s = math.sqrt(math.fsum((x - m) ** 2 for x in values) / (n - 1))
    half = t_quantile(0.5 + confidence / 2, n - 1) * s / math.sqrt(n)
    return Summary(n, m, s, m - half, m + half)


@dataclass(frozen=True)
class Difference:
    """mean(a) - mean(b) with its 95% Welch interval (None when a group has fewer than 2 values)."""

    n_a: int
    n_b: int
    diff: float
    ci_low: float | None
    ci_high: float | None


def difference(a: Sequence[float], b: Sequence[float], confidence: float = CONFIDENCE) -> Difference:
    """Difference of means with Welch's t interval: se = sqrt(s_a^2/n_a + s_b^2/n_b), df by
    Welch-Satterthwaite, (m_a - m_b) -+ t_{df} * se.

    Raises:
        ValueError: an empty group.
    """
    sa, sb = summarize(a), summarize(b)
    diff = sa.mean - sb.mean
    if sa.std is None or sb.std is None:
        return Difference(sa.n, sb.n, diff, None, None)
    va, vb = sa.std ** 2 / sa.n, sb.std ** 2 / sb.n
    se = math.sqrt(va + vb)
    if se == 0.0:
        return Difference(sa.n, sb.n, diff, diff, diff)
    df = max(1.0, (va + vb) ** 2 / (va ** 2 / (sa.n - 1) + vb ** 2 / (sb.n - 1)))
    half = t_quantile(0.5 + confidence / 2, df) * se
    return Difference(sa.n, sb.n, diff, diff - half, diff + half)
