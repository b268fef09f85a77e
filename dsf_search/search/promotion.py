"""Successive-halving promotion between the rungs of a fidelity ladder: the best share of a
rung's candidates by Pareto rank, ties broken by crowding distance (NSGA-II's order).

Pareto rank: 0 for the non-dominated candidates, 1 for those non-dominated once rank 0 is
removed, and so on. Crowding distance, within a rank: the sum over objectives of the gap
between a candidate's two neighbours along that objective, divided by the objective's range
(infinite at the extremes), so that promotion keeps the spread of a front and not one corner.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.trial import TrialState

from dsf_search.search import attrs as A
from dsf_search.search.statistic import objective_value


@dataclass(frozen=True)
class Candidate:
    """A distinct candidate of a study: its trial, spec hash, search decisions and label."""

    number: int
    hash: str
    params: dict[str, Any]
    architecture: str | None
    metrics: dict[str, float]


def pareto_ranks(points: Sequence[Sequence[float]]) -> list[int]:
    """Non-dominated sorting of `points` (every coordinate minimized): each point's rank."""
    n = len(points)
    dominated_by = [0] * n
    dominates: list[list[int]] = [[] for _ in range(n)]
    for i in range(n):
        for j in range(n):
            if i != j and all(a <= b for a, b in zip(points[i], points[j])) and any(a < b for a, b in zip(points[i], points[j])):
                dominates[i].append(j)
                dominated_by[j] += 1
    ranks = [0] * n
    front = [i for i in range(n) if dominated_by[i] == 0]
    rank = 0
    while front:
        following = []
        for i in front:
            ranks[i] = rank
            for j in dominates[i]:
                dominated_by[j] -= 1
                if dominated_by[j] == 0:
                    following.append(j)
        front, rank = following, rank + 1
    return ranks


def crowding(points: Sequence[Sequence[float]], ranks: Sequence[int]) -> list[float]:
    """Crowding distance of each point within its rank (module docstring)."""
    distance = [0.0] * len(points)
    for rank in set(ranks):
        members = [i for i, r in enumerate(ranks) if r == rank]
        for m in range(len(points[0]) if points else 0):
            ordered = sorted(members, key=lambda i: points[i][m])
            span = points[ordered[-1]][m] - points[ordered[0]][m]
            distance[ordered[0]] = distance[ordered[-1]] = math.inf
            for left, mid, right in zip(ordered, ordered[1:], ordered[2:]):
                if span > 0:
                    distance[mid] += (points[right][m] - points[left][m]) / span
    return distance


def candidates(study: optuna.Study) -> list[Candidate]:
    """The distinct COMPLETE candidates of `study` (an evaluated trial per spec hash)."""
    out: dict[str, Candidate] = {}
    for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        h = t.user_attrs.get(A.HASH)
        if h and h not in out:
            out[h] = Candidate(t.number, h, dict(t.params), t.user_attrs.get(A.ARCHITECTURE),
                               dict(t.user_attrs.get(A.METRICS) or {}))
    return list(out.values())


def promotion_count(total: int, keep: float, minimum: int) -> int:
    """How many of `total` go on: ceil(keep * total), at least `minimum`, at most `total`."""
    return min(total, max(minimum, math.ceil(keep * total - 1e-9)))


def promote(pool: Sequence[Candidate], objectives: dict[str, str], statistic: str, keep: float,
            minimum: int) -> list[Candidate]:
    """The promoted candidates of `pool`, best first (Pareto rank, then crowding, then trial)."""
    points = [[(-1.0 if direction == "maximize" else 1.0) * objective_value(c.metrics, name, direction, statistic)
               for name, direction in objectives.items()] for c in pool]
    ranks = pareto_ranks(points)
    crowd = crowding(points, ranks)
    order = sorted(range(len(pool)), key=lambda i: (ranks[i], -crowd[i], pool[i].number))
    return [pool[i] for i in order[:promotion_count(len(pool), keep, minimum)]]
