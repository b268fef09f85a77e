"""Verdicts on a study's claims (its space's `expect:` section, search/expect.py): the rows each
claim selects from the results table, their observations, and the claim kind's rule.

Observations: for every distinct COMPLETE trial (a repeat answered from an earlier result counts
once), one value per seed of the protocol's `seeds: N` (the trial's `per_seed` records; the
trial's metric when it has one seed). With `diverged_as: V` a claim also counts every seed that
diverged (of a COMPLETE or a FAIL trial) as the value V, so that "trains worse or diverges" can be
judged; timeouts, out-of-memory and errors say nothing about a design and never count.

Column names in a claim are those of the results table (`dsf-search results STUDY`), plus two
shorthands, so claims read as the space does: a per-layer axis `X` means `layers.0.X` where every
layer has the same value (missing otherwise), and a search decision `X` means `param.X`, each
only when the table has no column `X` itself.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import optuna
import pandas as pd

from dsf_search.errors import InputError
from dsf_search.evaluate.result import DIVERGED
from dsf_search.evaluate.seeds import STAT_SUFFIXES
from dsf_search.grammar import Problems
from dsf_search.results.expression import WhereError, compile_where, evaluate_where
from dsf_search.results.table import HEAD, PARAM, TAIL, flatten_spec, table
from dsf_search.search import attrs as A
from dsf_search.search.expect import CLAIM_KINDS, FAIL, INCONCLUSIVE, PASS, Claim, Judgement
from dsf_search.search.plan import SearchPlan
from dsf_search.space import SpaceError

_LAYER = re.compile(r"layers\.(\d+)\.(.+)")
MAX_POINTS = 1000  # enumerated candidates whose columns a claim check looks at


@dataclass(frozen=True)
class Verdict:
    """A claim and its judgement; with `each`, the judgement of every group (value, judgement)
    too, and the overall verdict FAIL if one group fails, PASS if all pass, else INCONCLUSIVE."""

    claim: Claim
    verdict: str
    judgement: Judgement | None
    groups: tuple[tuple[Any, Judgement], ...] = ()

    def lines(self) -> list[str]:
        """`PASS  claim sentence` and the numbers below it (one line per group with `each`)."""
        out = [f"{self.verdict:<12s} {self.claim.claim}"]
        if self.judgement is not None:
            out.append(f"             {self.claim.kind} on {self.claim.metric}: {self.judgement.text()}")
        for value, judgement in self.groups:
            out.append(f"             {self.claim.each} = {value}: {judgement.verdict}: {judgement.text()}")
        out.append(f"             source: {self.claim.source}")
        return out

    def to_dict(self) -> dict[str, Any]:
        def judged(j: Judgement) -> dict[str, Any]:
            return {"verdict": j.verdict, "statistic": j.statistic, "estimate": _finite(j.estimate), "ci_low": j.ci_low,
                    "ci_high": j.ci_high, "n": list(j.n), "bound": j.bound, "above": j.above}

        return {"claim": self.claim.claim, "kind": self.claim.kind, "metric": self.claim.metric,
                "selectors": dict(self.claim.selectors), "numbers": dict(self.claim.numbers), "axis": self.claim.axis,
                "each": self.claim.each, "source": self.claim.source, "verdict": self.verdict,
                "judgement": judged(self.judgement) if self.judgement else None,
                "groups": [{"value": _plain(v), **judged(j)} for v, j in self.groups]}


def _finite(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else x


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _same(a: Any, b: Any) -> bool:
    """Equal values, or both missing (an axis inactive in both layers)."""
    if pd.isna(a) or pd.isna(b):
        return bool(pd.isna(a) and pd.isna(b))
    return bool(a == b)


def with_shorthands(df: pd.DataFrame) -> pd.DataFrame:
    """`df` with the shorthand columns of the module docstring added."""
    out = df.copy()
    per_layer: dict[str, list[str]] = {}
    for column in df.columns:
        match = _LAYER.fullmatch(str(column))
        if match:
            per_layer.setdefault(match[2], []).append(column)
    for axis, columns in per_layer.items():
        if axis in out.columns:
            continue
        first = df[columns[0]].astype(object)
        same = pd.Series(True, index=df.index)
        for other in columns[1:]:
            # element by element: a nullable column's <NA> has no truth value in a vectorized ==
            same &= pd.Series([_same(a, b) for a, b in zip(first, df[other].astype(object))], index=df.index)
        out[axis] = df[columns[0]].where(same)
    for column in df.columns:
        if str(column).startswith(PARAM) and column[len(PARAM):] not in out.columns:
            out[column[len(PARAM):]] = df[column]
    return out


def expected_columns(plan: SearchPlan) -> list[str]:
    """The columns the study's results table will have (its candidates' axes, decisions, the
    protocol's metrics with their seed statistics), shorthands included: what a claim may name."""
    metrics = list(plan.protocol.metrics) if plan.protocol is not None else []
    stats = [m + s for m in metrics for s in STAT_SUFFIXES] if plan.protocol is not None and plan.protocol.seeds > 1 else []
    specs = [plan.seed_spec(seed) for seed in plan.seeds]
    if plan.size() is not None:
        for i, point in enumerate(plan.enumerate()):
            if i >= MAX_POINTS:
                break
            specs.append(point.spec)
    rows = [flatten_spec(spec.to_dict()) for spec in specs]
    axes = list(dict.fromkeys(key for row in rows for key in row))
    params = [PARAM + v.key for v in plan.searched]
    columns = [*HEAD, *plan.objectives, *metrics, *stats, *axes, *params, *TAIL]
    frame = pd.DataFrame(columns=list(dict.fromkeys(columns)))
    return list(with_shorthands(frame).columns)


def check_claims(plan: SearchPlan) -> None:
    """Check every claim's expressions and column names against the study's columns before
    anything runs.

    Raises:
        SpaceError: every problem, at the claim's file:line and key.
    """
    if plan.expect is None:
        return
    columns = expected_columns(plan)
    problems = Problems(str(plan.file))
    for claim in plan.expect.claims:
        for key, text in claim.selectors.items():
            try:
                compile_where(text, columns)
            except (WhereError, InputError) as err:
                problems.add(claim.line_of(key), f"{claim.path}.{claim.kind}.{key}", str(err))
        for key in ("axis", "each"):
            name = getattr(claim, key)
            if name is not None and name not in columns:
                problems.add(claim.line_of(key), f"{claim.path}.{claim.kind}.{key}",
                             f"unknown column {name!r}; the study's columns include "
                             f"{', '.join(c for c in columns if not c.startswith(('cost.', 'time.')))}")
    if problems:
        raise SpaceError(problems.items)


def _seed_values(trial: optuna.trial.FrozenTrial, metric: str, diverged_as: float | None) -> list[float]:
    """The trial's observations of `metric`: one per seed (see the module docstring)."""
    records = trial.user_attrs.get(A.PER_SEED) or []
    if not records:
        records = [{"status": trial.user_attrs.get(A.STATUS), "metrics": trial.user_attrs.get(A.METRICS) or {}}]
    out = []
    for record in records:
        value = (record.get("metrics") or {}).get(metric)
        if record.get("status") == "ok" and value is not None and not math.isnan(float(value)):
            out.append(float(value))
        elif record.get("status") == DIVERGED and diverged_as is not None:
            out.append(diverged_as)
    return out


def _rows(df: pd.DataFrame, diverged_as: float | None) -> pd.DataFrame:
    """The distinct trials a claim may observe: COMPLETE ones, and with `diverged_as` the FAIL
    ones that diverged."""
    first = df["duplicate_of"].isna() if "duplicate_of" in df else pd.Series(True, index=df.index)
    keep = df["state"] == "COMPLETE"
    if diverged_as is not None and "failure_kind" in df:
        keep |= (df["state"] == "FAIL") & (df["failure_kind"].astype(object) == DIVERGED)
    return df[keep & first]


def _observations(rows: pd.DataFrame, trials: dict[int, optuna.trial.FrozenTrial], claim: Claim,
                  expression: str | None) -> list[tuple[Any, float]]:
    selected = rows[evaluate_where(rows, expression)] if expression is not None else rows
    diverged_as = claim.numbers.get("diverged_as")
    out = []
    for _, row in selected.iterrows():
        x = row[claim.axis] if claim.axis is not None else None
        if claim.axis is not None and pd.isna(x):
            continue
        out.extend((x, y) for y in _seed_values(trials[int(row["number"])], claim.metric, diverged_as))
    return out


def _judge(rows: pd.DataFrame, trials: dict[int, optuna.trial.FrozenTrial], claim: Claim) -> Judgement:
    kind = CLAIM_KINDS[claim.kind]
    groups = {key: _observations(rows, trials, claim, claim.selectors.get(key)) for key in kind.selectors}
    return kind.judge(claim, groups)


def combine(verdicts: Iterable[str]) -> str:
    """FAIL if one is FAIL, PASS if all are PASS (and there is one), else INCONCLUSIVE."""
    verdicts = list(verdicts)
    if FAIL in verdicts:
        return FAIL
    return PASS if verdicts and all(v == PASS for v in verdicts) else INCONCLUSIVE


def judge_claim(df: pd.DataFrame, trials: dict[int, optuna.trial.FrozenTrial], claim: Claim) -> Verdict:
    """The verdict on one claim over the results table `df` (with shorthands) of `trials`."""
    try:
        rows = _rows(df, claim.numbers.get("diverged_as"))
        if claim.each is None:
            judgement = _judge(rows, trials, claim)
            return Verdict(claim, judgement.verdict, judgement)
        groups = []
        for value in sorted(rows[claim.each].dropna().unique(), key=lambda v: (str(type(v)), v)):
            judgement = _judge(rows[rows[claim.each] == value], trials, claim)
            if sum(judgement.n) > 0:  # a value the claim's own selection leaves out is not a group of it
                groups.append((value, judgement))
        return Verdict(claim, combine(j.verdict for _, j in groups), None, tuple(groups))
    except (WhereError, InputError, KeyError) as err:
        raise InputError(f"{claim.where}: {err}") from None


def verdicts(study: optuna.Study, claims: Sequence[Claim]) -> list[Verdict]:
    """The verdict on each claim over the trials of `study`."""
    df = with_shorthands(table(study))
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    return [judge_claim(df, trials, claim) for claim in claims]
