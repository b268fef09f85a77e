"""The driver through the serial in-process executor: attributes, seeds, constraints, dedup, resume, lock."""

from __future__ import annotations

import io

import optuna
import pytest
from optuna.trial import TrialState

from dsf_search.evaluate.runner import evaluate
from dsf_search.search import DriverBusy, run_search
from dsf_search.search import attrs as A
from dsf_search.search.lock import DriverLock
from dsf_search.search.storage import open_storage, study_dir


def load(name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=open_storage(None, name))


class Counting:
    """The real evaluation, counting the specs it was given."""

    def __init__(self):
        self.hashes: list[str] = []

    def __call__(self, spec, protocol, **kw):
        self.hashes.append(spec.hash())
        return evaluate(spec, protocol, **kw)


def run(space: str, evaluate_fn=None, **kw):
    return run_search(space, evaluate_fn=evaluate_fn, out=io.StringIO(), show_progress=False, executor="serial", **kw)


def test_search_reaches_its_target_and_keeps_every_attribute(make_space):
    summary = run(make_space(trials=3))
    assert summary.complete == 3
    study = load("tiny_space")
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(complete) == 3
    for t in complete:
        ua = t.user_attrs
        for key in (A.SPEC, A.HASH, A.METRICS, A.COST, A.TIMINGS, A.DEVICE, A.SEED, A.VERSIONS, A.FINDINGS, A.CONSTRAINTS):
            assert key in ua, key
        assert ua[A.METRICS]["state_bytes"] == t.values[1]
        assert 0.0 <= t.values[0] <= 1.0
        assert ua[A.COST]["params"] > 0 and "torch" in ua[A.VERSIONS]
        assert ua[A.DEVICE].startswith("cpu")
        assert t.constraints and all(v <= 0 for v in t.constraints.values())


def test_seeds_run_first_and_are_tagged(make_space):
    extra = "seeds:\n  - {layers: {transition: diagonal, eigenvalues: signed, state_size: 4}}\n  - {layers: {transition: scalar, eigenvalues: nonnegative, state_size: 8}}\n"
    run(make_space(extra=extra, trials=3))
    trials = load("tiny_space").get_trials()
    assert [t.user_attrs.get(A.ARCHITECTURE) is not None for t in trials[:2]] == [True, True]
    assert trials[0].user_attrs[A.SPEC]["layers"][0]["transition"] == "diagonal"
    assert trials[1].user_attrs[A.SPEC]["layers"][0]["state_size"] == 8


def test_infeasible_candidates_never_reach_the_evaluator(make_space):
    counting = Counting()
    space = make_space(extra="constraints:\n  - params <= 10\n", trials=2)
    summary = run(space, counting)
    assert counting.hashes == []
    assert summary.complete == 0 and summary.exhausted
    pruned = load("tiny_space").get_trials(states=(TrialState.PRUNED,))
    assert pruned and all(t.user_attrs[A.FAILURE].startswith("infeasible") for t in pruned)
    assert all(max(t.constraints.values()) > 0 for t in pruned)


def test_identical_specs_are_evaluated_once(make_space):
    counting = Counting()
    summary = run(make_space(trials=8), counting)  # the space holds 8 distinct specs
    assert summary.complete == 8
    assert len(counting.hashes) == len(set(counting.hashes))
    study = load("tiny_space")
    reused = [t for t in study.get_trials(states=(TrialState.COMPLETE,)) if A.DUPLICATE_OF in t.user_attrs]
    assert summary.reused == len(reused)
    for t in reused:
        source = study.trials[t.user_attrs[A.DUPLICATE_OF]]
        assert source.user_attrs[A.HASH] == t.user_attrs[A.HASH] and source.values == t.values


def test_resume_after_a_kill_keeps_complete_trials_and_reruns_orphans(make_space):
    space = make_space(trials=2)
    run(space)
    study = load("tiny_space")
    before = {t.number: t.values for t in study.get_trials(states=(TrialState.COMPLETE,))}
    orphan = study.ask()  # a trial a killed driver left RUNNING, with its parameters
    orphan.suggest_categorical("layers.transition", ["scalar", "diagonal"])
    summary = run(space, trials=4)
    study = load("tiny_space")
    after = {t.number: t.values for t in study.get_trials(states=(TrialState.COMPLETE,))}
    assert all(after[n] == v for n, v in before.items())
    failed = study.trials[orphan.number]
    assert failed.state == TrialState.FAIL and failed.user_attrs[A.FAILURE_KIND] == "orphaned"
    assert any(t.user_attrs.get(A.REQUEUED_FROM) == orphan.number for t in study.get_trials())
    distinct = {t.user_attrs[A.HASH] for t in study.get_trials(states=(TrialState.COMPLETE,))}
    assert summary.complete == 4 and len(distinct) == 4  # repeats are answered, not counted


def test_resumed_run_does_not_overshoot(make_space):
    space = make_space(trials=3)
    run(space)
    summary = run(space)
    assert summary.complete == 3
    complete = load("tiny_space").get_trials(states=(TrialState.COMPLETE,))
    assert len({t.user_attrs[A.HASH] for t in complete}) == 3


def test_a_second_driver_is_refused(make_space):
    space = make_space(trials=1)
    with DriverLock(None, "tiny_space"):
        with pytest.raises(DriverBusy, match="another driver is running this study"):
            run(space)


def test_failures_are_recorded_and_the_search_goes_on(make_space):
    from tests.search import faults

    run(make_space(trials=8), faults.raises)
    study = load("tiny_space")
    failed = study.get_trials(states=(TrialState.FAIL,))
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    # the 4 specs with state_size 8 fail (each evaluated once), the 4 with state_size 4 complete
    assert len({t.user_attrs[A.HASH] for t in failed}) == 4
    assert len({t.user_attrs[A.HASH] for t in complete}) == 4
    assert all("injected failure" in t.user_attrs[A.FAILURE] for t in failed)
    assert all(t.user_attrs[A.SPEC]["layers"][0]["state_size"] == 4 for t in complete)


def test_nan_loss_is_recorded_as_diverged(make_space):
    from tests.search import faults

    run(make_space(trials=8), faults.nan_loss)
    failed = load("tiny_space").get_trials(states=(TrialState.FAIL,))
    assert failed
    for t in failed:
        assert t.user_attrs[A.FAILURE_KIND] == "diverged"
        assert "step" in t.user_attrs[A.FAILURE]
