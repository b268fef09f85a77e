"""The fidelity ladder: promotion order, a two-rung run (serial), resume, rank agreement."""

from __future__ import annotations

import io
import math

import optuna
import pytest
from optuna.trial import TrialState

from dsf_search.evaluate.runner import evaluate
from dsf_search.results.ladder import agreement, format_ladder, rungs
from dsf_search.evaluate.rank import bootstrap, kendall, spearman
from dsf_search.search import run_search
from dsf_search.search.promotion import Candidate, crowding, pareto_ranks, promote, promotion_count
from dsf_search.search.storage import open_storage
from tests.search.conftest import TINY_PROTOCOL


def brute_force_ranks(points):
    """Peel the non-dominated set off, one layer at a time (the definition)."""
    left, ranks, rank = set(range(len(points))), {}, 0
    while left:
        layer = {i for i in left if not any(all(a <= b for a, b in zip(points[j], points[i])) and points[j] != points[i]
                                            for j in left)}
        ranks.update({i: rank for i in layer})
        left -= layer
        rank += 1
    return [ranks[i] for i in range(len(points))]


@pytest.mark.parametrize("seed", range(5))
def test_pareto_ranks_equal_peeling(seed):
    import random

    rng = random.Random(seed)
    points = [[rng.randint(0, 5), rng.randint(0, 5)] for _ in range(25)]
    assert pareto_ranks(points) == brute_force_ranks(points)


def test_crowding_keeps_the_extremes_and_promotion_counts():
    points = [[0.0, 3.0], [1.0, 2.0], [1.5, 1.0], [3.0, 0.0]]  # one front
    crowd = crowding(points, [0, 0, 0, 0])
    assert crowd[0] == crowd[3] == math.inf and crowd[1] == pytest.approx(1.5 / 3 + 2 / 3)
    assert [promotion_count(n, 0.5, 3) for n in (2, 5, 8, 9)] == [2, 3, 4, 5]
    pool = [Candidate(i, str(i), {}, None, {"quality": q, "state_bytes": s})
            for i, (q, s) in enumerate([(0.9, 64), (0.5, 16), (0.6, 64), (0.3, 8), (0.2, 32)])]
    chosen = promote(pool, {"quality": "maximize", "state_bytes": "minimize"}, "mean", 0.5, 1)
    assert [c.number for c in chosen] == [0, 3, 1]  # the front (0, 1, 3), extremes first


def test_rank_correlations_on_known_cases():
    x = [1.0, 2.0, 3.0, 4.0, 5.0]
    assert spearman(x, [10, 20, 30, 40, 50]) == pytest.approx(1.0) and kendall(x, [5, 4, 3, 2, 1]) == pytest.approx(-1.0)
    # one swap of neighbours among 5: Kendall (9 - 1) / 10, Spearman 1 - 6 * 2 / (5 * 24)
    y = [1.0, 3.0, 2.0, 4.0, 5.0]
    assert kendall(x, y) == pytest.approx(0.8) and spearman(x, y) == pytest.approx(0.9)
    # ties: tau-b against a direct count (concordant 3, discordant 0, ties 1 in y, n0 = 6)
    assert kendall([1, 2, 3, 4], [1, 1, 2, 3]) == pytest.approx(5 / math.sqrt(6 * 5))
    a = bootstrap(x, y, kendall)
    assert a.value == pytest.approx(0.8) and -1 <= a.ci_low <= a.ci_high <= 1 and a.ci_high == pytest.approx(1.0)


LADDER = """\
    ladder:
      - {evaluator: screen.yaml, keep: 0.5, min: 2}
"""


class Counting:
    def __init__(self):
        self.calls: list[tuple[str, str]] = []

    def __call__(self, spec, protocol, **kw):
        self.calls.append((protocol.name, spec.hash()))
        return evaluate(spec, protocol, **kw)


def ladder_space(make_space, tmp_path) -> str:
    (tmp_path / "screen.yaml").write_text(TINY_PROTOCOL.replace("name: tiny", "name: screen").replace("max_steps: 4", "max_steps: 1"))
    path = make_space(trials=4)
    text = open(path).read().replace("search: {sampler: random, trials: 4, parallelism: 1, seed: 0}",
                                     "search:\n    sampler: random\n    trials: 4\n" + LADDER)
    open(path, "w").write(text)
    return path


def test_two_rung_ladder_promotes_and_measures_agreement(make_space, tmp_path):
    path = ladder_space(make_space, tmp_path)
    counting = Counting()
    out = io.StringIO()
    summary = run_search(path, evaluate_fn=counting, out=out, show_progress=True, executor="serial")
    screen = optuna.load_study(study_name="tiny_space.rung0", storage=open_storage(None, "tiny_space.rung0"))
    final = optuna.load_study(study_name="tiny_space", storage=open_storage(None, "tiny_space"))
    screened = {t.user_attrs["hash"] for t in screen.get_trials(states=(TrialState.COMPLETE,))}
    assert len(screened) == 4  # distinct specs: a repeated one is reused, not retrained, and not counted
    promoted = promotion_count(len(screened), 0.5, 2)
    assert summary.study == "tiny_space" and summary.complete == promoted
    done = final.get_trials(states=(TrialState.COMPLETE,))
    assert len({t.user_attrs["hash"] for t in done}) == promoted and {t.user_attrs["hash"] for t in done} <= screened
    assert [p for p, _ in counting.calls].count("screen") == len(screened)
    assert [p for p, _ in counting.calls].count("tiny") == promoted
    for t in done:  # the same decisions as the screened trial it came from
        source = screen.trials[t.user_attrs["source_trial"]]
        assert t.params == source.params and t.user_attrs["hash"] == source.user_attrs["hash"]
    table = rungs("tiny_space")
    assert table["study"].tolist() == ["tiny_space.rung0", "tiny_space"] and table["complete"].tolist() == [len(screen.get_trials(states=(TrialState.COMPLETE,))), len(done)]  # trials, repeats included
    pairs = agreement("tiny_space")
    assert pairs["n"].tolist() == [promoted] and pairs["rungs"].tolist() == ["screen -> tiny"]
    assert "rank agreement of quality" in format_ladder("tiny_space")
    # resuming the ladder evaluates nothing again
    run_search(path, evaluate_fn=counting, out=io.StringIO(), show_progress=False, executor="serial")
    assert len(counting.calls) == len(screened) + promoted


def test_a_rung_must_produce_the_objectives(make_space, tmp_path):
    from dsf_search.search.plan import load_plan
    from dsf_search.space import SpaceError

    path = ladder_space(make_space, tmp_path)
    (tmp_path / "screen.yaml").write_text("name: screen\nefficiency: {context_length: 16}\n")
    with pytest.raises(SpaceError, match="does not produce the objective"):
        load_plan(path)
