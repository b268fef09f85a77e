"""The driver on Ray (one local Ray for the session): parallel trials, faults in workers."""

from __future__ import annotations

import functools
import io

import optuna
from optuna.trial import TrialState

from dsf_search.search import attrs as A
from dsf_search.search import run_search
from dsf_search.search.storage import open_storage
from tests.search import faults


def load(name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=open_storage(None, name))


def run(space: str, evaluate_fn=None, **kw):
    return run_search(space, evaluate_fn=evaluate_fn, out=io.StringIO(), show_progress=False, **kw)


def test_two_trials_in_flight_on_ray(make_space, ray_session):
    summary = run(make_space(trials=4, parallelism=2))
    assert summary.complete == 4
    done = load("tiny_space").get_trials(states=(TrialState.COMPLETE,))
    evaluated = [t for t in done if A.DUPLICATE_OF not in t.user_attrs]
    assert len({t.user_attrs[A.NODE] for t in evaluated}) == 1  # one node, but real workers
    assert all(t.user_attrs[A.TIMINGS]["worker_s"] > 0 for t in evaluated)


def test_a_hung_worker_is_killed_and_recorded_as_timeout(make_space, ray_session, tmp_path):
    text = (tmp_path / "tiny.yaml").read_text().replace("timeout_s: 30", "timeout_s: 6")
    (tmp_path / "tiny.yaml").write_text(text)
    extra = "seeds:\n  - {layers: {transition: scalar, eigenvalues: nonnegative, state_size: 8}}\n  - {layers: {transition: scalar, eigenvalues: nonnegative, state_size: 4}}\n"
    summary = run(make_space(extra=extra, trials=2, parallelism=2), functools.partial(faults.hangs_once, marker_dir=str(tmp_path)))
    study = load("tiny_space")
    hung = study.trials[0]
    assert hung.state == TrialState.FAIL and hung.user_attrs[A.FAILURE_KIND] == "timeout"
    assert "worker killed" in hung.user_attrs[A.FAILURE]
    assert summary.complete == 2 and study.trials[1].state == TrialState.COMPLETE


def test_a_worker_that_exits_is_retried_then_recorded(make_space, ray_session):
    extra = "seeds:\n  - {layers: {transition: scalar, eigenvalues: nonnegative, state_size: 8}}\n"
    run(make_space(extra=extra, trials=1), faults.exits)
    study = load("tiny_space")
    dead = study.trials[0]
    assert dead.state == TrialState.FAIL
    assert dead.user_attrs[A.FAILURE].count("worker died") == 2  # the first attempt and its retry
    assert len(study.get_trials(states=(TrialState.COMPLETE,))) == 1


def test_a_worker_that_exits_once_succeeds_on_retry(make_space, ray_session, tmp_path):
    extra = "seeds:\n  - {layers: {transition: scalar, eigenvalues: nonnegative, state_size: 8}}\n"
    run(make_space(extra=extra, trials=1), functools.partial(faults.exits_once, marker_dir=str(tmp_path)))
    first = load("tiny_space").trials[0]
    assert first.state == TrialState.COMPLETE
    assert "worker died" in first.user_attrs["retries"][0]


def test_a_job_waiting_for_a_free_cpu_is_not_timed_out_for_its_wait(ray_session):
    """Three jobs in flight on Ray's two CPUs: the third waits ~8 s for a slot, then runs ~8 s.
    Its hard timeout (16 s) counts from when its worker is up, so it completes; counted from
    submission it was killed after 16 s as a timeout without having had the time to run."""
    import time

    from dsf_search.core.spec import ModelSpec
    from dsf_search.evaluate.protocol import Protocol
    from dsf_search.search.executor import RayExecutor
    from dsf_search.search.worker import Job

    executor = RayExecutor(parallel=3, cpus_per_trial=1, gpus_per_trial=0, hard_timeout_s=16.0,
                           evaluate_fn=functools.partial(faults.sleeps, seconds=8.0))
    try:
        for trial in range(3):
            executor.submit(Job(trial=trial, spec=ModelSpec().to_dict(), protocol=Protocol(name="p"), device="cpu",
                                seed=0, threads=1, timeout_s=60.0))
        outcomes, deadline = {}, time.monotonic() + 90
        while len(outcomes) < 3 and time.monotonic() < deadline:
            outcomes.update(executor.wait(1.0))
    finally:
        executor.shutdown()
    assert sorted(outcomes) == [0, 1, 2]
    assert {trial: o["status"] for trial, o in outcomes.items()} == {0: "ok", 1: "ok", 2: "ok"}, outcomes
