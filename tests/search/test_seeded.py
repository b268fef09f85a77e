"""Seeds as parallel jobs: scheduling of the fan-out, and a Ray search whose seeds run side by side."""

from __future__ import annotations

import dataclasses
import io

import optuna
from optuna.trial import TrialState

from dsf_search.evaluate import parse_protocol
from dsf_search.search import run_search
from dsf_search.search.seeded import SLOTS, SeedFanout, seed_jobs
from dsf_search.search.storage import open_storage
from dsf_search.search.worker import Job
from tests.search.conftest import TINY_PROTOCOL


class Inner:
    """An executor with `capacity` slots whose jobs finish when the test says so."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.jobs: dict[int, Job] = {}
        self.submitted: list[int] = []
        self.finish: list[int] = []

    def submit(self, job: Job) -> None:
        self.jobs[job.trial] = job
        self.submitted.append(job.trial)

    def running(self) -> list[int]:
        return list(self.jobs)

    def wait(self, timeout_s: float):
        out = []
        for part in self.finish:
            job = self.jobs.pop(part)
            out.append((part, {"status": "ok", "seed": job.seed, "metrics": {"quality": float(job.seed)},
                               "worker_s": 1.0 + job.seed, "node": "n"}))
        self.finish = []
        return out

    def shutdown(self) -> None:
        self.jobs.clear()


def job(trial: int, seed: int = 10) -> Job:
    protocol = dataclasses.replace(parse_protocol(TINY_PROTOCOL), seeds=3)
    return Job(trial=trial, spec={}, protocol=protocol, device="cpu", seed=seed, threads=1, timeout_s=30)


def test_seed_jobs_share_the_data_seed():
    parts = seed_jobs(job(4), 3)
    assert [(p.trial, p.seed, p.data_seed, p.protocol.seeds) for p in parts] == [
        (4 * SLOTS, 10, 10, 1), (4 * SLOTS + 1, 11, 10, 1), (4 * SLOTS + 2, 12, 10, 1)]


def test_fanout_fills_the_slots_and_combines_when_the_last_seed_is_back():
    inner = Inner(capacity=2)
    fan = SeedFanout(inner, 3)
    assert fan.capacity == 1  # an idle pool takes a trial
    fan.submit(job(0))
    assert inner.submitted == [0, 1] and fan.capacity == 1 and fan.running() == [0]  # third seed queued: no new trial
    inner.finish = [0]
    assert fan.wait(0) == [] and inner.submitted == [0, 1, 2]
    inner.finish = [1]
    assert fan.wait(0) == [] and fan.capacity == 2  # one slot free, nothing queued: take the next trial
    fan.submit(job(1, seed=0))
    assert inner.submitted[-1] == SLOTS
    inner.finish = [2]
    [(trial, outcome)] = fan.wait(0)
    assert trial == 0 and outcome["status"] == "ok" and outcome["seeds"] == [10, 11, 12]
    assert outcome["metrics"]["quality"] == 11.0 and outcome["metrics"]["quality.ci_low"] < 11.0
    assert [r["wall_s"] for r in outcome["per_seed"]] == [11.0, 12.0, 13.0] and outcome["worker_s"] == 13.0
    assert fan.running() == [1]


def test_a_failed_seed_without_a_record_still_names_its_seed():
    inner = Inner(capacity=3)
    fan = SeedFanout(inner, 3)
    fan.submit(job(0))
    inner.wait = lambda timeout_s: [(0, {"status": "ok", "seed": 10, "metrics": {"quality": 1.0}}),
                                    (1, {"status": "timeout", "reason": "worker killed", "metrics": {}}),
                                    (2, {"status": "ok", "seed": 12, "metrics": {"quality": 0.0}})]
    [(_, outcome)] = fan.wait(0)
    assert outcome["status"] == "timeout" and outcome["reason"] == "seed 11: worker killed"
    assert outcome["metrics"]["quality"] == 0.5


def test_ray_search_runs_the_seeds_of_a_trial_on_separate_workers(make_space, tmp_path, ray_session):
    (tmp_path / "tiny.yaml").write_text(TINY_PROTOCOL + "seeds: 2\n")
    space = make_space(trials=2, parallelism=2)
    summary = run_search(space, out=io.StringIO(), show_progress=False, executor="ray")
    assert summary.complete == 2
    study = optuna.load_study(study_name="tiny_space", storage=open_storage(None, "tiny_space"))
    done = study.get_trials(states=(TrialState.COMPLETE,))
    for t in done:
        per_seed = t.user_attrs["per_seed"]
        assert [r["seed"] for r in per_seed] == [0, 1] and all(r["wall_s"] > 0 for r in per_seed)
        assert t.values[0] == t.user_attrs["metrics"]["quality"]
        assert t.user_attrs["metrics"]["quality"] == sum(r["metrics"]["quality"] for r in per_seed) / 2
    # the first trial met an idle pool of two workers: its two seeds went out at once, one to each
    # (later trials start when a slot frees, so their seeds may share a worker one after the other)
    first = done[0].user_attrs["per_seed"]
    assert first[0]["pid"] != first[1]["pid"]
