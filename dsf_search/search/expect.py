"""The `expect:` section of a space file: claims over the study's results, each judged from 95%
intervals as PASS, FAIL or INCONCLUSIVE (the studies of `dsf-search reproduce`).

    expect:
      source: "Grazzi et al. 2025, ..."
      claims:
        - claim: signed eigenvalues solve parity, nonnegative ones do not
          compare: {metric: acc.parity, better: "eigenvalues == 'signed'", than: "eigenvalues == 'nonnegative'", by: 0.3}
        - claim: recall rises with the state size
          trend: {metric: acc.mqar, axis: state_size, spearman: 0.8}

A claim is judged on observations: one per seed of every distinct COMPLETE trial whose row the
claim's expressions select (results/claims.py gathers them). Each kind below is a registered
option that knows its keys and its rule:

* compare:  d = mean(better) - mean(than) with Welch's 95% interval [lo, hi];
            PASS when lo >= by, FAIL when hi < by.
* at_least: mean(where) with its 95% Student-t interval [lo, hi]; PASS when lo >= value,
            FAIL when hi < value.  at_most: PASS when hi <= value, FAIL when lo > value.
* trend:    Spearman rho of (axis, metric) with its 95% bootstrap interval [lo, hi] (rho of
            (axis, -metric) when `decreasing`); PASS when lo >= spearman, FAIL when hi < spearman.
Otherwise, or when a group has fewer than two observations (no interval), INCONCLUSIVE: a
claim holds when it holds for the interval, not only for the mean. `compare`, `at_least` and
`at_most` also take `each: COLUMN` (the claim within every value of the column: FAIL if one
group fails, PASS if all pass) and `diverged_as: V` (a seed that diverged counts as the value V
instead of being left out: "trains worse or diverges").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dsf_search.core.registry import Option, Registry
from dsf_search.evaluate.rank import bootstrap, spearman
from dsf_search.evaluate.stats import difference, summarize
from dsf_search.grammar import INVALID, Node, Problems
from dsf_search.grammar.problems import allowed_list, did_you_mean
from dsf_search.grammar.reader import Reader, between

PASS, FAIL, INCONCLUSIVE = "PASS", "FAIL", "INCONCLUSIVE"
VERDICTS = (PASS, FAIL, INCONCLUSIVE)
MAX_CLAIMS = 64
MAX_TEXT = 2000  # characters of a claim sentence, a source or an expression


@dataclass(frozen=True)
class Judgement:
    """A verdict and what it rests on: the estimate (a difference, a mean, a rho) with its 95%
    interval (None without one), the observations per group, the bound it was held against."""

    verdict: str
    estimate: float
    ci_low: float | None
    ci_high: float | None
    n: tuple[int, ...]
    bound: float
    statistic: str  # what `estimate` is, in words
    above: bool = True  # the claim is estimate >= bound (False: <=)

    def text(self) -> str:
        """`mean(better) - mean(than) = +0.412 [+0.301, +0.523] (n = 9, 9); needs >= 0.3`."""
        interval = "" if self.ci_low is None else f" [{self.ci_low:+.3g}, {self.ci_high:+.3g}]"
        counts = ", ".join(str(n) for n in self.n)
        return f"{self.statistic} = {self.estimate:+.3g}{interval} (n = {counts}); needs {'>=' if self.above else '<='} {self.bound:g}"


def decide(low: float | None, high: float | None, bound: float, above: bool = True) -> str:
    """PASS when the interval [low, high] lies on the claimed side of `bound` (>= when `above`,
    else <=), FAIL when it lies wholly on the other side, INCONCLUSIVE otherwise or without one."""
    if low is None or high is None or math.isnan(low) or math.isnan(high):
        return INCONCLUSIVE
    if above:
        return PASS if low >= bound else FAIL if high < bound else INCONCLUSIVE
    return PASS if high <= bound else FAIL if low > bound else INCONCLUSIVE


@dataclass(frozen=True)
class Claim:
    """One claim as written: its kind (a ClaimKind name), the sentence and source, the metric,
    the expressions selecting its groups (`selectors`: key -> expression text, e.g. better/than,
    where), its numbers (`by`, `value`, `spearman`), the trend axis and direction, the optional
    `each` column, and where it was written (file, line, key path)."""

    kind: str
    claim: str
    source: str
    metric: str
    selectors: dict[str, str]
    numbers: dict[str, float]
    axis: str | None = None
    decreasing: bool = False
    each: str | None = None
    file: str = ""
    line: int = 0
    path: str = ""
    lines: dict[str, int] = field(default_factory=dict)  # key of the kind's mapping -> its line

    def line_of(self, key: str) -> int:
        return self.lines.get(key, self.line)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}: {self.path}"


Observations = Sequence[tuple[Any, float]]  # (axis value or None, metric value), one per seed


@dataclass(frozen=True)
class ClaimKind(Option):
    """A kind of claim: its required and optional keys, which of them are row selections
    (expressions over the results table), and its rule (`judge`)."""

    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    selectors: tuple[str, ...] = ()
    numbers: dict[str, float | None] = field(default_factory=dict)  # number key -> default (required ones: None)

    def judge(self, claim: Claim, groups: dict[str, Observations]) -> Judgement:
        """The verdict on the observations of each selector (all rows for a missing one)."""
        raise NotImplementedError


CLAIM_KINDS: Registry[ClaimKind] = Registry("claim kind")


@CLAIM_KINDS.register
@dataclass(frozen=True)
class Compare(ClaimKind):
    name: str = "compare"
    doc: str = "the rows where `better` holds beat the rows where `than` holds on `metric` by at least `by`"
    required: tuple[str, ...] = ("metric", "better", "than")
    optional: tuple[str, ...] = ("by", "each", "diverged_as")
    selectors: tuple[str, ...] = ("better", "than")
    numbers: dict[str, float | None] = field(default_factory=lambda: {"by": 0.0, "diverged_as": None})

    def judge(self, claim: Claim, groups: dict[str, Observations]) -> Judgement:
        a, b = [y for _, y in groups["better"]], [y for _, y in groups["than"]]
        by = claim.numbers["by"]
        if not a or not b:
            return Judgement(INCONCLUSIVE, math.nan, None, None, (len(a), len(b)), by, "mean(better) - mean(than)")
        d = difference(a, b)
        return Judgement(decide(d.ci_low, d.ci_high, by), d.diff, d.ci_low, d.ci_high, (d.n_a, d.n_b), by,
                         "mean(better) - mean(than)")


@dataclass(frozen=True)
class _Threshold(ClaimKind):
    required: tuple[str, ...] = ("metric", "value")
    optional: tuple[str, ...] = ("where", "each", "diverged_as")
    selectors: tuple[str, ...] = ("where",)
    numbers: dict[str, float | None] = field(default_factory=lambda: {"value": None, "diverged_as": None})
    above: bool = True

    def judge(self, claim: Claim, groups: dict[str, Observations]) -> Judgement:
        values = [y for _, y in groups["where"]]
        bound = claim.numbers["value"]
        label = "mean"
        if not values:
            return Judgement(INCONCLUSIVE, math.nan, None, None, (0,), bound, label, self.above)
        s = summarize(values)
        return Judgement(decide(s.ci_low, s.ci_high, bound, self.above), s.mean, s.ci_low, s.ci_high, (s.n,), bound,
                         label, self.above)


@CLAIM_KINDS.register
@dataclass(frozen=True)
class AtLeast(_Threshold):
    name: str = "at_least"
    doc: str = "the mean of `metric` over the rows where `where` holds is at least `value`"


@CLAIM_KINDS.register
@dataclass(frozen=True)
class AtMost(_Threshold):
    name: str = "at_most"
    doc: str = "the mean of `metric` over the rows where `where` holds is at most `value`"
    above: bool = False


@CLAIM_KINDS.register
@dataclass(frozen=True)
class Trend(ClaimKind):
    name: str = "trend"
    doc: str = "`metric` increases with `axis` (decreases with `decreasing: true`): Spearman rho >= `spearman`"
    required: tuple[str, ...] = ("metric", "axis", "spearman")
    optional: tuple[str, ...] = ("where", "decreasing")
    selectors: tuple[str, ...] = ("where",)
    numbers: dict[str, float | None] = field(default_factory=lambda: {"spearman": None})

    def judge(self, claim: Claim, groups: dict[str, Observations]) -> Judgement:
        pairs = [(float(x), y) for x, y in groups["where"] if x is not None]
        bound = claim.numbers["spearman"]
        label = "Spearman rho" + (" (decreasing)" if claim.decreasing else "")
        sign = -1.0 if claim.decreasing else 1.0
        xs, ys = [x for x, _ in pairs], [sign * y for _, y in pairs]
        if len(pairs) < 3 or len(set(xs)) < 2:
            rho = spearman(xs, ys) if len(pairs) >= 2 else math.nan
            return Judgement(INCONCLUSIVE, rho, None, None, (len(pairs),), bound, label)
        r = bootstrap(xs, ys, spearman)
        return Judgement(decide(r.ci_low, r.ci_high, bound), r.value, r.ci_low, r.ci_high, (len(pairs),), bound, label)


@dataclass(frozen=True)
class Expectations:
    """The `expect:` section: the study's source and its claims, in file order."""

    source: str
    claims: tuple[Claim, ...]


class ExpectReader(Reader):
    """Reads `expect:` (see the module docstring); every problem names file:line and key."""

    def __init__(self, problems: Problems):
        super().__init__(problems)

    def text(self, node: Node) -> Any:
        return self.scalar(node, str, lambda v: None if v.strip() and len(v) <= MAX_TEXT
                           else f"must be a non-empty text of at most {MAX_TEXT} characters")

    def expectations(self, node: Node, metrics: Sequence[str] | None) -> Expectations | Any:
        """`metrics`: the metrics the study's protocol produces (None: not known, not checked)."""
        keys = self.mapping(node, ("source", "claims"), required=("source", "claims"))
        if keys is None or "claims" not in keys:
            return INVALID
        source = self.text(keys["source"]) if "source" in keys else INVALID
        items = self.list_of(keys["claims"], "claims (mappings with `claim:` and one of "
                                             f"{allowed_list(CLAIM_KINDS.names())})")
        if items is None:
            return INVALID
        if len(items) > MAX_CLAIMS:
            self.error(keys["claims"], f"found {len(items)} claims; at most {MAX_CLAIMS}")
            return INVALID
        claims = [self.claim(item, source, metrics) for item in items]
        if source is INVALID or INVALID in claims:
            return INVALID
        return Expectations(source, tuple(claims))

    def claim(self, node: Node, study_source: Any, metrics: Sequence[str] | None) -> Claim | Any:
        kinds = CLAIM_KINDS.names()
        keys = self.mapping(node, ("claim", "source", *kinds), required=("claim",))
        if keys is None:
            return INVALID
        chosen = [k for k in kinds if k in keys]
        if len(chosen) != 1:
            found = f"found {', '.join(chosen)}" if chosen else "found none"
            self.error(node, f"a claim needs exactly one of {allowed_list(kinds)}; {found}")
            return INVALID
        kind = CLAIM_KINDS[chosen[0]]
        sentence = self.text(keys["claim"]) if "claim" in keys else INVALID
        source = self.text(keys["source"]) if "source" in keys else study_source
        body = keys[kind.name]
        fields = self.mapping(body, kind.required + kind.optional, required=kind.required,
                              hints={k: f"{kind.name} takes {allowed_list(kind.required + kind.optional)}"
                                     for k in ("metric", "better", "than", "by", "each", "where", "value", "axis",
                                               "spearman", "decreasing", "diverged_as") if k not in kind.required + kind.optional})
        if fields is None or any(k not in fields for k in kind.required):
            return INVALID
        metric = self.scalar(fields["metric"], str, self._metric_check(metrics))
        selectors = {k: self.text(fields[k]) for k in kind.selectors if k in fields}
        numbers: dict[str, Any] = {}
        for key, default in kind.numbers.items():
            check = between(-1.0, 1.0) if key == "spearman" else None
            numbers[key] = self.scalar(fields[key], float, check) if key in fields else default
        axis = self.text(fields["axis"]) if "axis" in fields else None
        each = self.text(fields["each"]) if "each" in fields else None
        decreasing = self.scalar(fields["decreasing"], bool) if "decreasing" in fields else False
        parts = [sentence, source, metric, axis, each, decreasing, *selectors.values(), *numbers.values()]
        if INVALID in parts:
            return INVALID
        return Claim(kind=kind.name, claim=sentence, source=source, metric=metric, selectors=selectors,
                     numbers=numbers, axis=axis, decreasing=decreasing, each=each, file=self.problems.file,
                     line=node.line, path=node.path, lines={k: v.line for k, v in fields.items()})

    @staticmethod
    def _metric_check(metrics: Sequence[str] | None):
        def check(value: str) -> str | None:
            if metrics is None or value in metrics:
                return None
            return f"unknown metric {value!r}{did_you_mean(value, metrics)}; the protocol produces {allowed_list(metrics)}"

        return check
