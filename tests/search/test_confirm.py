"""`confirm`: the front and seeds of a study on more seeds, and front-membership probabilities."""

from __future__ import annotations

import io

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState

from dsf_search.cli import main
from dsf_search.results.confirm import front_probabilities
from dsf_search.search import run_search
from dsf_search.search.confirm import front_and_seeds, run_confirm
from dsf_search.search.storage import open_storage


def load(name):
    return optuna.load_study(study_name=name, storage=open_storage(None, name))


SEEDS = "seeds:\n  - {name: diag, layers: {transition: diagonal, eigenvalues: signed, state_size: 4}}\n"


def test_confirm_evaluates_front_and_seeds_and_prints_probabilities(make_space, capsys):
    space = make_space(extra=SEEDS, trials=4)
    run_search(space, out=io.StringIO(), show_progress=False, executor="serial")
    study = load("tiny_space")
    pool = front_and_seeds(study, {"quality": "maximize", "state_bytes": "minimize"})
    assert any(c.architecture == "diag" for c in pool)
    assert main(["confirm", "tiny_space", "--seeds", "3", "--serial", "--quiet", "--resamples", "200"]) == 0
    out = capsys.readouterr().out
    assert "front membership over 200 bootstrap resamples of 3 seeds" in out and "p_front" in out and "diag" in out
    confirmed = load("tiny_space.confirm3")
    done = confirmed.get_trials(states=(TrialState.COMPLETE,))
    assert sorted(t.user_attrs["hash"] for t in done) == sorted(c.hash for c in pool)
    for t in done:
        assert [r["seed"] for r in t.user_attrs["per_seed"]] == [0, 1, 2]
    probabilities = confirmed.user_attrs["p_front"]
    assert set(probabilities) == {str(t.number) for t in done} and all(0 <= p <= 1 for p in probabilities.values())
    # again: nothing to evaluate, the same numbers
    summary = run_confirm("tiny_space", 3, executor="serial", show_progress=False)
    assert summary.complete == len(pool)


class FakeTrial:
    def __init__(self, number, per_seed):
        self.number = number
        self.user_attrs = {"hash": str(number), "per_seed": [{"metrics": m} for m in per_seed],
                           "metrics": {k: float(np.mean([m[k] for m in per_seed])) for k in per_seed[0]}}


class FakeStudy:
    def __init__(self, trials):
        self.trials = trials

    def get_trials(self, deepcopy=False, states=()):
        return self.trials


def test_probabilities_separate_a_sure_from_a_coin_flip():
    objectives = {"quality": "maximize", "state_bytes": "minimize"}
    sure = FakeTrial(0, [{"quality": 0.4, "state_bytes": 8.0}] * 4)  # the cheapest: always on the front
    dominated = FakeTrial(1, [{"quality": 0.1, "state_bytes": 16.0}] * 4)  # worse than `sure` on both: never
    # same cost as `rival`; its quality straddles rival's 0.5: on the front when its resampled mean is >= 0.5
    flip = FakeTrial(2, [{"quality": q, "state_bytes": 32.0} for q in (0.25, 0.75, 0.25, 0.75)])
    rival = FakeTrial(3, [{"quality": 0.5, "state_bytes": 32.0}] * 4)
    table = front_probabilities(FakeStudy([sure, dominated, flip, rival]), objectives, resamples=2000).set_index("number")
    assert table.loc[0, "p_front"] == 1.0 and table.loc[1, "p_front"] == 0.0
    # the mean of 4 draws of {0.25, 0.75} is >= 0.5 iff two or more are 0.75: P = 11/16; rival is on the
    # front iff that mean is <= 0.5: also 11/16 (equal rows keep each other)
    assert table.loc[2, "p_front"] == pytest.approx(11 / 16, abs=0.04)
    assert table.loc[3, "p_front"] == pytest.approx(11 / 16, abs=0.04)
    assert isinstance(table, pd.DataFrame)


def test_confirm_bad_inputs_exit_2(make_space, capsys):
    assert main(["confirm", "nope", "--serial"]) == 2
    run_search(make_space(trials=2), out=io.StringIO(), show_progress=False, executor="serial")
    assert main(["confirm", "tiny_space", "--seeds", "1", "--serial"]) == 2
    assert "--seeds must be between 2 and 100" in capsys.readouterr().err
