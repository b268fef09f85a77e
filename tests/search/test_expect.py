"""The `expect:` section of a study: reading it (file:line errors), the claim kinds' rules, and
verdicts over a real study's seeds."""

from __future__ import annotations

import dataclasses
import io
import json
import math

import pytest

from dsf_search.evaluate.runner import evaluate
from dsf_search.results.claims import check_claims, verdicts, with_shorthands
from dsf_search.results.study import load_study
from dsf_search.search import run_search
from dsf_search.search.expect import CLAIM_KINDS, FAIL, INCONCLUSIVE, PASS, Claim, decide
from dsf_search.search.plan import load_plan
from dsf_search.space import SpaceError

SEEDS2 = "seeds: 2\n"

EXPECT = """\
expect:
  source: "a paper, Table 1"
  claims:
    - claim: signed beats nonnegative by 0.3
      compare: {metric: acc.parity, better: "eigenvalues == 'signed'", than: "eigenvalues == 'nonnegative'", by: 0.3}
    - claim: nonnegative stays near chance
      at_most: {metric: acc.parity, where: "eigenvalues == 'nonnegative'", value: 0.6}
    - claim: signed reaches 0.95
      at_least: {metric: acc.parity, where: "eigenvalues == 'signed'", value: 0.95}
    - claim: signed accuracy rises with the state size
      source: "another paper"
      trend: {metric: acc.parity, axis: state_size, where: "param.eigenvalues == 'signed'", spearman: 0.5}
    - claim: at every transition, signed beats nonnegative
      compare: {metric: quality, better: "eigenvalues == 'signed'", than: "eigenvalues == 'nonnegative'", each: transition}
"""


def claim(kind: str, **numbers) -> Claim:
    defaults = {k: v for k, v in CLAIM_KINDS[kind].numbers.items()}
    return Claim(kind=kind, claim="c", source="s", metric="m", selectors={}, numbers={**defaults, **numbers})


# --- the rules ---------------------------------------------------------------------------------

@pytest.mark.parametrize("low, high, bound, above, verdict", [
    (0.31, 0.5, 0.3, True, PASS), (0.1, 0.29, 0.3, True, FAIL), (0.2, 0.4, 0.3, True, INCONCLUSIVE),
    (0.1, 0.59, 0.6, False, PASS), (0.61, 0.7, 0.6, False, FAIL), (0.5, 0.7, 0.6, False, INCONCLUSIVE),
    (None, None, 0.3, True, INCONCLUSIVE), (0.3, 0.3, 0.3, True, PASS),
])
def test_a_claim_holds_when_it_holds_for_the_interval(low, high, bound, above, verdict):
    assert decide(low, high, bound, above) == verdict


def test_compare_is_welch_difference_of_means():
    better, than = [(None, 1.0), (None, 1.1), (None, 0.9)], [(None, 0.0), (None, 0.1), (None, -0.1)]
    j = CLAIM_KINDS["compare"].judge(claim("compare", by=0.5), {"better": better, "than": than})
    # diff 1, se = sqrt(0.01/3 + 0.01/3), df = 4 (equal variances), t_{0.975,4} = 2.7764
    half = 2.7764451 * math.sqrt(0.02 / 3)
    assert j.verdict == PASS and j.estimate == pytest.approx(1.0) and j.n == (3, 3)
    assert j.ci_low == pytest.approx(1.0 - half, rel=1e-5) and j.ci_high == pytest.approx(1.0 + half, rel=1e-5)
    assert CLAIM_KINDS["compare"].judge(claim("compare", by=1.3), {"better": better, "than": than}).verdict == FAIL
    one = CLAIM_KINDS["compare"].judge(claim("compare"), {"better": better[:1], "than": than})
    assert one.verdict == INCONCLUSIVE and one.ci_low is None  # one observation: no interval


def test_thresholds_use_the_student_t_interval_of_the_mean():
    values = [(None, v) for v in (0.5, 0.52, 0.48, 0.5)]
    at_most = CLAIM_KINDS["at_most"].judge(claim("at_most", value=0.6), {"where": values})
    assert at_most.verdict == PASS and at_most.estimate == pytest.approx(0.5) and not at_most.above
    assert CLAIM_KINDS["at_least"].judge(claim("at_least", value=0.6), {"where": values}).verdict == FAIL
    assert CLAIM_KINDS["at_least"].judge(claim("at_least", value=0.51), {"where": values}).verdict == INCONCLUSIVE
    assert CLAIM_KINDS["at_least"].judge(claim("at_least", value=0.1), {"where": []}).verdict == INCONCLUSIVE


def test_trend_is_spearman_with_a_bootstrap_interval():
    rising = [(x, x + 0.01 * s) for x in (1, 2, 4, 8) for s in range(3)]
    j = CLAIM_KINDS["trend"].judge(claim("trend", spearman=0.8), {"where": rising})
    assert j.verdict == PASS and j.estimate > 0.9
    falling = dataclasses.replace(claim("trend", spearman=0.8), decreasing=True)
    assert CLAIM_KINDS["trend"].judge(falling, {"where": rising}).verdict == FAIL
    flat = [(x, float(s)) for x in (1, 2, 4, 8) for s in range(3)]  # rank noise only
    assert CLAIM_KINDS["trend"].judge(claim("trend", spearman=0.8), {"where": flat}).verdict == FAIL


# --- reading -----------------------------------------------------------------------------------

def problems_of(make_space, expect: str) -> str:
    with pytest.raises(SpaceError) as err:
        load_plan(make_space(extra=expect))
    return str(err.value)


def test_expect_is_read_with_every_claim(make_space):
    plan = load_plan(make_space(extra=EXPECT))
    assert plan.expect.source == "a paper, Table 1"
    kinds = [c.kind for c in plan.expect.claims]
    assert kinds == ["compare", "at_most", "at_least", "trend", "compare"]
    assert plan.expect.claims[0].numbers["by"] == 0.3 and plan.expect.claims[4].numbers["by"] == 0.0
    assert plan.expect.claims[3].source == "another paper" and plan.expect.claims[0].source == "a paper, Table 1"
    assert plan.expect.claims[4].each == "transition"
    check_claims(plan)  # every expression and column is known


@pytest.mark.parametrize("body, line, message", [
    ("expect:\n  claims: []\n", 13, "missing required key 'source'"),
    ("expect:\n  source: x\n  claims:\n    - claim: c\n      comapre: {metric: quality, better: 'a', than: 'b'}\n", 16,
     "did you mean 'compare'"),
    ("expect:\n  source: x\n  claims:\n    - claim: c\n", 15, "a claim needs exactly one of compare, at_least, at_most, trend"),
    ("expect:\n  source: x\n  claims:\n    - claim: c\n      at_least: {metric: acc.party, value: 0.5}\n", 16,
     "unknown metric 'acc.party' (did you mean 'acc.parity'"),
    ("expect:\n  source: x\n  claims:\n    - claim: c\n      trend: {metric: quality, axis: state_size, spearman: 2}\n", 16,
     "must be in [-1, 1]"),
    ("expect:\n  source: x\n  claims:\n    - claim: c\n      at_most: {metric: quality, value: true}\n", 16,
     "a boolean is never a number"),
    ("expect:\n  source: x\n  claims:\n    - claim: c\n      at_most: {metric: quality, value: 0.5, by: 1}\n", 16,
     "at_most takes metric, value, where, each, diverged_as"),
])
def test_a_bad_expect_names_file_line_and_key(make_space, body, line, message):
    text = problems_of(make_space, body)
    assert f"tiny_space.yaml:{line}:" in text and "expect" in text
    assert message in text


def test_bad_expressions_and_columns_are_found_before_anything_runs(make_space):
    body = ("expect:\n  source: x\n  claims:\n    - claim: c\n"
            "      compare: {metric: quality, better: \"eigenvalues == 'signed'\", than: \"eigenvals == 'x'\"}\n"
            "    - claim: d\n      trend: {metric: quality, axis: sate_size, spearman: 0.5}\n"
            "    - claim: e\n      at_least: {metric: quality, where: \"__import__('os')\", value: 0.5}\n")
    plan = load_plan(make_space(extra=body))
    with pytest.raises(SpaceError) as err:
        check_claims(plan)
    text = str(err.value)
    assert "tiny_space.yaml:16: expect.claims[0].compare.than: unknown column 'eigenvals'" in text
    assert "tiny_space.yaml:18: expect.claims[1].trend.axis: unknown column 'sate_size'" in text
    assert "expect.claims[2].at_least.where" in text


def test_shorthands_name_per_layer_axes_and_decisions():
    import pandas as pd

    df = pd.DataFrame({"layers.0.gate": ["a", "b"], "layers.1.gate": ["a", "c"], "param.lr_choice": [1, 2],
                       "param.gate": ["x", "y"]})
    out = with_shorthands(df)
    assert out["gate"].tolist()[0] == "a" and pd.isna(out["gate"].tolist()[1])  # the layers disagree on row 2
    assert out["lr_choice"].tolist() == [1, 2]
    # an axis inactive in some rows is a nullable column holding <NA> (here: `selective` of an identity transition)
    flags = pd.DataFrame({"layers.0.selective": pd.array([True, True, None, None], dtype="boolean"),
                          "layers.1.selective": pd.array([True, False, None, True], dtype="boolean")})
    shorthand = with_shorthands(flags)["selective"].astype(object).tolist()
    assert bool(shorthand[0]) and all(pd.isna(v) for v in shorthand[1:])


# --- verdicts on a real study --------------------------------------------------------------------

class Scripted:
    """The real evaluation with acc.parity replaced by a known function of the spec and the seed,
    so that the verdicts are known: signed 0.9 + 0.001 n + 0.002 seed, nonnegative 0.5 + 0.002 seed."""

    def __call__(self, spec, protocol, **kw):
        result = evaluate(spec, protocol, **kw)
        layer = spec.layers[0]
        seed = kw.get("seed", 0)
        acc = (0.9 + 0.001 * layer.state_size if layer.eigenvalues == "signed" else 0.5) + 0.002 * seed
        return dataclasses.replace(result, metrics={**result.metrics, "acc.parity": acc, "quality": acc})


def test_verdicts_over_the_seeds_of_every_distinct_trial(make_space, tmp_path):
    (tmp_path / "tiny.yaml").write_text((tmp_path / "tiny.yaml").read_text() + SEEDS2)
    space = make_space(extra=EXPECT, sampler="grid", trials=8)
    plan = load_plan(space)
    summary = run_search(space, evaluate_fn=Scripted(), out=io.StringIO(), show_progress=False, executor="serial")
    assert summary.complete == 8  # the whole 2 x 2 x 2 grid, and the exhausted grid stops cleanly
    got = verdicts(load_study("tiny_space"), plan.expect.claims)
    assert [v.verdict for v in got] == [PASS, PASS, FAIL, PASS, PASS]
    compare = got[0].judgement
    assert compare.n == (8, 8)  # 4 candidates x 2 seeds per side
    assert compare.estimate == pytest.approx(0.4 + 0.001 * 6, abs=1e-9)  # mean state size 6
    assert [value for value, _ in got[4].groups] == ["diagonal", "scalar"]
    assert json.loads(json.dumps([v.to_dict() for v in got]))[3]["judgement"]["verdict"] == PASS
