"""Evaluate a given list of candidates in a study: the upper rungs of a fidelity ladder (the
promoted candidates) and `confirm` (the front, with more seeds). No sampler decides anything.

Each candidate is enqueued with the search decisions of its source trial, so the new trial
carries the same `param.*` and the space rebuilds the same spec (checked by its hash). The
study keeps the same attributes as a search's trials, plus `source_trial` (the trial number in
the source study) and the study-level record the caller gives. Resumable like a search: under
the study's driver lock, trials left RUNNING by a stopped run are failed as orphans, and
candidates whose spec already has a COMPLETE trial here (or a deterministic failure) are not
evaluated again.
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

import optuna
from optuna.trial import TrialState

from dsf_search.search import attrs as A
from dsf_search.search.driver import HARD_TIMEOUT_FACTOR, HARD_TIMEOUT_GRACE_S, RunSettings, Summary
from dsf_search.search.executor import RayExecutor, SerialExecutor, start_ray
from dsf_search.search.failures import DETERMINISTIC
from dsf_search.search.lock import DriverLock
from dsf_search.search.promotion import Candidate
from dsf_search.search.seeded import fan_out
from dsf_search.search.statistic import objective_value
from dsf_search.search.storage import open_storage
from dsf_search.search.worker import EvaluateFn, Job
from dsf_search.search.plan import SearchPlan

SOURCE_TRIAL = "source_trial"


def make_executor(settings: RunSettings, space: SearchPlan, evaluate_fn: EvaluateFn | None) -> Any:
    """The executor a search of `settings` uses (Ray or serial), seeds fanned out as jobs."""
    if settings.executor == "serial":
        inner: Any = SerialExecutor(evaluate_fn)
    else:
        start_ray(settings.address, num_cpus=None if settings.address else os.cpu_count())
        timeout = space.protocol.timeout_s
        hard = (timeout * HARD_TIMEOUT_FACTOR + HARD_TIMEOUT_GRACE_S) if timeout else float("inf")
        inner = RayExecutor(settings.parallel, settings.cpus_per_trial, settings.gpus_per_trial, hard, evaluate_fn)
    return fan_out(inner, space.protocol.seeds)


class _Run:
    """One evaluation of a fixed list (see the module docstring)."""

    def __init__(self, settings: RunSettings, space: SearchPlan, study: optuna.Study, out: TextIO | None, show_progress: bool):
        self.settings, self.space, self.study = settings, space, study
        self.out, self.show_progress = sys.stderr if out is None else out, show_progress
        self.objectives = list(space.objectives)
        self.trials: dict[int, optuna.trial.Trial] = {}
        self.counts = {"complete": 0, "failed": 0, "infeasible": 0, "reused": 0}

    def start(self, candidate: Candidate, executor: Any) -> None:
        user_attrs = {SOURCE_TRIAL: candidate.number}
        if candidate.architecture:
            user_attrs[A.ARCHITECTURE] = candidate.architecture
        self.study.enqueue_trial(candidate.params, user_attrs=user_attrs)
        trial = self.study.ask()
        try:
            spec = self.space.suggest(trial)
        except ValueError as err:
            self._fail(trial, f"invalid spec: {err}", "invalid")
            return
        for key, value in {A.SPEC: spec.canonical(), A.HASH: spec.hash(), A.COST: dataclasses.asdict(self.space.cost(spec)),
                           A.SEED: self.settings.seed, A.VERSIONS: A.versions()}.items():
            trial.set_user_attr(key, value)
        if spec.hash() != candidate.hash:
            self._fail(trial, f"the space now builds another spec from trial {candidate.number}'s decisions "
                              f"({spec.hash()} instead of {candidate.hash})", "invalid")
            return
        self.trials[trial.number] = trial
        executor.submit(Job(trial=trial.number, spec=spec.to_dict(), protocol=self.space.protocol,
                            device=self.settings.device, seed=self.settings.seed,
                            threads=max(1, int(self.settings.cpus_per_trial)), timeout_s=self.space.protocol.timeout_s))

    def finish(self, number: int, outcome: dict[str, Any], submitted: float) -> None:
        trial = self.trials.pop(number)
        record = A.outcome_attrs(outcome)
        record[A.TIMINGS]["trial_wall_s"] = time.monotonic() - submitted
        for key, value in record.items():
            trial.set_user_attr(key, value)
        values = self._values(outcome)
        if values is None:
            self.study.tell(trial, state=TrialState.FAIL)
            self.counts["failed"] += 1
        else:
            self.study.tell(trial, values)
            self.counts["complete"] += 1
        if self.show_progress:
            shown = ", ".join(f"{n} {v:.4g}" for n, v in zip(self.objectives, values)) if values else record.get(A.FAILURE, "")
            print(f"  {self.settings.study} trial {number}: {record[A.STATUS]} {shown}", file=self.out)

    def _values(self, outcome: dict[str, Any]) -> list[float] | None:
        metrics = outcome.get("metrics", {})
        if outcome.get("status") != "ok" or any(name not in metrics for name in self.objectives):
            return None
        values = [objective_value(metrics, n, self.space.objectives[n], self.space.search.statistic) for n in self.objectives]
        return values if all(math.isfinite(v) for v in values) else None

    def _fail(self, trial: optuna.trial.Trial, reason: str, kind: str) -> None:
        for key, value in {A.STATUS: kind, A.FAILURE: reason, A.FAILURE_KIND: kind}.items():
            trial.set_user_attr(key, value)
        self.study.tell(trial, state=TrialState.FAIL)
        self.counts["failed"] += 1


def evaluate_candidates(settings: RunSettings, space: SearchPlan, pool: Sequence[Candidate], record: dict[str, Any],
                        evaluate_fn: EvaluateFn | None = None, out: TextIO | None = None,
                        show_progress: bool = True) -> Summary:
    """Evaluate every candidate of `pool` under `space.protocol` in the study `settings.study`
    (created when missing); `record` is stored on the study as its user attributes."""
    start = time.monotonic()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with DriverLock(settings.storage, settings.study, settings.root) as lock:
        study = optuna.create_study(study_name=settings.study, load_if_exists=True,
                                    storage=open_storage(settings.storage, settings.study, settings.root),
                                    directions=[space.objectives[n] for n in space.objectives],
                                    sampler=optuna.samplers.RandomSampler(seed=settings.seed))
        lock.claim(study)
        run = _Run(settings, space, study, out, show_progress)
        study.set_user_attr(A.STUDY_SETTINGS, settings.to_dict())
        for key, value in record.items():
            study.set_user_attr(key, value)
        done: set[str] = set()
        for t in study.get_trials(deepcopy=False):
            if t.state == TrialState.RUNNING:
                for key, value in {A.FAILURE: "orphaned: the run stopped before this trial finished; re-run",
                                   A.FAILURE_KIND: "orphaned"}.items():
                    study._storage.set_trial_user_attr(t._trial_id, key, value)
                study._storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
            elif t.state == TrialState.COMPLETE or (t.state == TrialState.FAIL and t.user_attrs.get(A.FAILURE_KIND) in DETERMINISTIC):
                done.add(t.user_attrs.get(A.HASH))
                run.counts["complete" if t.state == TrialState.COMPLETE else "failed"] += 1
        pending = [c for c in pool if c.hash not in done]
        executor = make_executor(settings, space, evaluate_fn)
        submitted: dict[int, float] = {}
        try:
            while pending or executor.running():
                while pending and len(executor.running()) < executor.capacity:
                    run.start(pending.pop(0), executor)
                    for number in run.trials:
                        submitted.setdefault(number, time.monotonic())
                for number, outcome in executor.wait(0.2):
                    run.finish(number, outcome, submitted.pop(number))
        except KeyboardInterrupt:
            for trial in run.trials.values():
                run._fail(trial, "interrupted: the run was stopped; evaluated again on resume", "interrupted")
            raise
        finally:
            executor.shutdown()
    return Summary(settings.study, settings.where,
                   run.counts["complete"], run.counts["failed"], 0, 0, len(pool), time.monotonic() - start,
                   objectives=dict(space.objectives))
