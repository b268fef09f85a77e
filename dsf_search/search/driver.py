"""The search driver: Optuna ask/tell on the outside, an executor (Ray or serial) on the inside.

One loop keeps K evaluations in flight: ask a trial, turn it into a canonical spec, reject it
without any compute when the constraints or the design-principle errors make it infeasible
(told PRUNED with its constraint values, which the samplers read), reuse the result of an
identical spec (same canonical hash: told to Optuna with the known values, so the sampler
learns, but not counted toward the target of distinct architectures), otherwise dispatch it;
tell Optuna each outcome with its attributes. The study (the storage) is the source of truth: a killed driver leaves its
finished trials there, and the next run marks the orphans failed and re-queues them.
Failures are booked per spec hash and bound the search (failures.py); outcomes go through the
recorder (recording.py); Ctrl-C and SIGTERM stop it between storage writes (signals.py).
"""

from __future__ import annotations

import dataclasses
import math
import os
import shlex
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import optuna
from optuna.trial import Trial, TrialState

from dsf_search.errors import InputError
from dsf_search.search import attrs as A
from dsf_search.search.artifacts import save_weights
from dsf_search.search.eta import Eta
from dsf_search.search.executor import RayExecutor, SerialExecutor, start_ray
from dsf_search.search.failures import FailureBook
from dsf_search.search.lock import DriverLock
from dsf_search.search.progress import ProgressLine
from dsf_search.search.recording import Recorder, unsaved_path
from dsf_search.search.resources import check_fits, local_offer, ray_offer
from dsf_search.search.resume import recorded_space, resume_settings
from dsf_search.search.samplers import make_sampler
from dsf_search.search.seeded import fan_out
from dsf_search.search.signals import Interrupted, StopSignals
from dsf_search.search.statistic import objective_value
from dsf_search.search.storage import DEFAULT_ROOT, journal_file, open_storage, redact, study_dir
from dsf_search.search.worker import EvaluateFn, Job
from dsf_search.search.plan import SearchPlan, load_plan

# The driver kills a worker that has not answered after timeout * HARD_TIMEOUT_FACTOR + grace
# (the evaluation checks its own budget; this catches a stuck kernel or a hung worker).
HARD_TIMEOUT_FACTOR, HARD_TIMEOUT_GRACE_S = 1.5, 20.0
# After this many asks in a row that dispatch nothing new, the space is taken as exhausted.
MAX_IDLE_ASKS = 200


@dataclass(frozen=True)
class RunSettings:
    """Everything a run needs besides the space; stored on the study so `resume` can reuse it."""

    space: str
    study: str
    trials: int
    parallel: int
    storage: str | None = None
    address: str | None = None
    cpus_per_trial: float = 1.0
    gpus_per_trial: float = 0.0
    device: str = "auto"
    sampler: str = "tpe"
    seed: int = 0
    root: str = str(DEFAULT_ROOT)
    executor: str = "ray"

    def to_dict(self) -> dict[str, Any]:
        """The settings as recorded on the study: the storage URL's password redacted."""
        return {**dataclasses.asdict(self), "storage": redact(self.storage)}

    @property
    def where(self) -> str:
        """The storage, printable (a journal path, or the URL with its password redacted)."""
        journal = journal_file(self.storage, self.study, self.root)
        return str(journal) if journal is not None else redact(self.storage)


@dataclass
class Summary:
    """What a run did, for the CLI's closing table."""

    study: str
    storage: str
    complete: int
    failed: int
    infeasible: int
    reused: int
    target: int
    elapsed_s: float
    exhausted: bool = False
    objectives: dict[str, str] = field(default_factory=dict)
    stopped: str = ""  # why the search stopped short of its target (max_failures), else ""


def resolve_settings(space: SearchPlan, space_path: str, *, study: str | None = None, trials: int | None = None,
                     parallel: int | None = None, storage: str | None = None, address: str | None = None,
                     cpus_per_trial: float | None = None, gpus_per_trial: float | None = None,
                     device: str = "auto", sampler: str | None = None, seed: int | None = None,
                     root: str | Path = DEFAULT_ROOT, executor: str = "ray") -> RunSettings:
    """Command-line values win over the space's `search:` section, which wins over defaults."""
    protocol = space.protocol
    if protocol is None:
        raise InputError(f"{space.file}: the space names no evaluator; add `evaluator: evaluators/quick.yaml`")
    resources = protocol.resources
    trials = trials if trials is not None else space.trials
    if trials is None or trials <= 0:
        raise InputError(f"{space.file}: search.trials (or --trials) must be a positive number of trials")
    parallel = parallel if parallel is not None else space.search.parallelism
    if parallel <= 0:
        raise InputError(f"--parallel must be >= 1, got {parallel}")
    cpus = cpus_per_trial if cpus_per_trial is not None else float(resources.cpus)
    gpus = gpus_per_trial if gpus_per_trial is not None else float(resources.gpus)
    if cpus <= 0 or gpus < 0:
        raise InputError("--cpus-per-trial must be > 0 and --gpus-per-trial >= 0")
    return RunSettings(
        space=str(Path(space_path).resolve()), study=study or space.name, trials=int(trials), parallel=int(parallel),
        storage=storage, address=address, cpus_per_trial=cpus, gpus_per_trial=gpus, device=device,
        sampler=sampler or space.search.sampler, seed=space.search.seed if seed is None else seed,
        root=str(Path(root).resolve()), executor=executor,
    )


def _space_record(space: SearchPlan) -> dict[str, Any]:
    return {"file": str(Path(space.file).resolve()), "name": space.name, "objectives": dict(space.objectives),
            "text": Path(space.file).read_text()}


class Driver:
    """Runs one search to its target number of distinct COMPLETE architectures (see the module docstring)."""

    def __init__(self, settings: RunSettings, space: SearchPlan, evaluate_fn: EvaluateFn | None = None,
                 out: TextIO | None = None, show_progress: bool = True):
        self.settings, self.space, self.evaluate_fn = settings, space, evaluate_fn
        self.out, self.show_progress = sys.stderr if out is None else out, show_progress
        self.objectives = list(space.objectives)
        self.trials: dict[int, Trial] = {}
        self.submitted_at: dict[int, float] = {}
        self.hash_of: dict[int, str] = {}
        self.inflight: dict[str, int] = {}
        self.parked: dict[str, list[Trial]] = {}
        self.done_by_hash: dict[str, optuna.trial.FrozenTrial] = {}
        self.infeasible_hashes: set[str] = set()
        self.counts = {"complete": 0, "failed": 0, "infeasible": 0, "reused": 0}
        self.failures = FailureBook(space.search.max_failures)
        self.signals = StopSignals()
        self.recorder: Recorder | None = None
        self.size: int | None = None
        self.slots = 1
        self.durations: list[float] = []

    # --- set-up ------------------------------------------------------------------------------

    def _open_study(self, lock: DriverLock) -> optuna.Study:
        """Open (or create) the study; for a database URL, claim its heartbeat before writing."""
        s = self.settings
        storage = open_storage(s.storage, s.study, s.root)
        directions = [self.space.objectives[name] for name in self.objectives]
        sampler = make_sampler(s.sampler, s.seed, len(directions), s.parallel)
        try:
            study = optuna.load_study(study_name=s.study, storage=storage, sampler=sampler)
        except KeyError:
            study = optuna.create_study(study_name=s.study, storage=storage, directions=directions,
                                        sampler=sampler, load_if_exists=True)
        lock.claim(study)
        previous = study.user_attrs.get(A.STUDY_SPACE)
        if previous and previous.get("objectives") != dict(self.space.objectives):
            raise InputError(
                f"study {s.study!r} was run with objectives {previous.get('objectives')}, but {self.space.file} "
                f"asks for {dict(self.space.objectives)}; use another --study name"
            )
        return study

    def _recover_orphans(self, study: optuna.Study) -> int:
        """RUNNING trials have no live driver (we hold the lock). One whose evaluation had finished
        (its metrics were written, the closing record was lost) is completed from its metrics;
        the others are failed and re-queued. Returns how many were re-queued."""
        orphans = []
        for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            values, _ = self._values({"status": t.user_attrs.get(A.STATUS), "metrics": t.user_attrs.get(A.METRICS, {})})
            if values is None:
                orphans.append(t)
                continue
            study._storage.set_trial_state_values(t._trial_id, TrialState.COMPLETE, values)
            print(f"trial {t.number} had finished its evaluation but not its record; completed it from its metrics",
                  file=self.out)
        for t in orphans:
            study._storage.set_trial_user_attr(t._trial_id, A.FAILURE, "orphaned: the driver stopped before this trial finished; re-queued")
            study._storage.set_trial_user_attr(t._trial_id, A.FAILURE_KIND, "orphaned")
            study._storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
            self._requeue(study, t)
        return len(orphans)

    def _requeue(self, study: optuna.Study, t: optuna.trial.FrozenTrial | Trial) -> None:
        params = t.params
        if not params and not self.space.searched:
            return
        user_attrs = {A.REQUEUED_FROM: t.number}
        if t.user_attrs.get(A.ARCHITECTURE):
            user_attrs[A.ARCHITECTURE] = t.user_attrs[A.ARCHITECTURE]
        study.enqueue_trial(params, user_attrs=user_attrs)

    def _enqueue_seeds(self, study: optuna.Study) -> None:
        if study.user_attrs.get(A.STUDY_SEEDS_ENQUEUED):
            return
        for seed in self.space.seeds:
            study.enqueue_trial(self.space.seed_params(seed), user_attrs={A.ARCHITECTURE: seed.label})
        study.set_user_attr(A.STUDY_SEEDS_ENQUEUED, True)

    def _load_history(self, study: optuna.Study) -> None:
        for t in study.get_trials(deepcopy=False):
            h = t.user_attrs.get(A.HASH)
            if t.state == TrialState.COMPLETE:
                if A.DUPLICATE_OF in t.user_attrs:
                    self.counts["reused"] += 1
                elif not h or h not in self.done_by_hash or self.done_by_hash[h].state != TrialState.COMPLETE:
                    self.counts["complete"] += 1  # distinct architectures: a repeat spends no budget
                    wall = (t.user_attrs.get(A.TIMINGS) or {}).get("trial_wall_s")
                    if wall:
                        self.durations.append(float(wall))
                if h and (h not in self.done_by_hash or self.done_by_hash[h].state != TrialState.COMPLETE):
                    self.done_by_hash[h] = t
            elif t.state == TrialState.FAIL:
                self.counts["reused" if A.DUPLICATE_OF in t.user_attrs else "failed"] += 1
            elif t.state == TrialState.PRUNED:
                self.counts["infeasible"] += 1
                if h:
                    self.infeasible_hashes.add(h)
        self.failures.load(study.get_trials(deepcopy=False))
        for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,)):
            h = t.user_attrs.get(A.HASH)
            if h and h not in self.done_by_hash and self.failures.settled(h):
                self.done_by_hash[h] = t

    def _opening(self, target: int) -> str:
        """The run's first line: what is searched, judged, stored and who evaluates."""
        s = self.settings
        storage = redact(s.storage) if s.storage else str(study_dir(s.study, s.root) / "journal.log")
        if s.executor == "serial":
            executor = "serial (in this process)"
        elif s.address or os.environ.get("RAY_ADDRESS"):
            executor = f"Ray cluster at {s.address or os.environ.get('RAY_ADDRESS')}"
        else:
            executor = f"local Ray ({os.cpu_count()} CPUs)"
        protocol = self.space.protocol
        # the serial executor evaluates one job at a time whatever --parallel says
        parallel = "one at a time" if s.executor == "serial" else f"{s.parallel} in parallel"
        return (f"study {s.study!r}: space {s.space}, protocol {self.space.evaluator} ({protocol.name}), "
                f"storage {storage}, executor {executor}, {parallel} at {s.cpus_per_trial:g} CPU / "
                f"{s.gpus_per_trial:g} GPU per trial; target {target} distinct complete architectures "
                f"({self.counts['complete']} so far)")

    def _check_resources(self) -> None:
        """Refuse (InputError) before any dispatch when one trial can never be scheduled."""
        s = self.settings
        if s.executor == "serial":
            return
        # ray is not imported here unless it already is: start_ray must be the first to import it
        ray_running = "ray" in sys.modules and sys.modules["ray"].is_initialized()
        if s.address or os.environ.get("RAY_ADDRESS") or ray_running:
            start_ray(s.address)
            offer = ray_offer()
        else:
            offer = local_offer()
        protocol = self.space.protocol
        check_fits(f"{self.space.evaluator} (protocol {protocol.name!r})", s.cpus_per_trial, s.gpus_per_trial,
                   offer, s.device)
        fit = int(offer.cpus // s.cpus_per_trial)
        if s.gpus_per_trial > 0:
            fit = min(fit, int(offer.gpus // s.gpus_per_trial))
        self.slots = max(1, min(s.parallel, fit))

    def _eta(self) -> Eta:
        """The ETA's prior before any trial finishes: a few measured steps when the trials run on
        this machine's CPUs, else the protocol's timeout (an upper bound)."""
        s, protocol = self.settings, self.space.protocol
        eta = Eta(self.slots)
        local = s.executor == "ray" and not (s.address or os.environ.get("RAY_ADDRESS"))
        if self.show_progress and local and s.gpus_per_trial == 0 and protocol.tasks:
            from dsf_search.evaluate.estimate import estimate_trial

            spec = self.space.seed_spec(self.space.seeds[0]) if self.space.seeds else \
                self.space.suggest(optuna.create_study(sampler=optuna.samplers.RandomSampler(s.seed)).ask())
            eta.prior_s = estimate_trial(spec, protocol, device="cpu", seed=s.seed).seconds
        elif protocol.timeout_s:
            eta.prior_s, eta.prior_is_bound = protocol.timeout_s, True
        for seconds in self.durations:
            eta.add(seconds)
        return eta

    def _executor(self):
        s = self.settings
        if s.executor == "serial":
            return SerialExecutor(self.evaluate_fn)
        started = start_ray(s.address, num_cpus=None if s.address else os.cpu_count())
        self._started_ray = started
        self.signals.install()  # ray.init replaces the SIGTERM handler with one that aborts
        timeout = self.space.protocol.timeout_s
        hard = (timeout * HARD_TIMEOUT_FACTOR + HARD_TIMEOUT_GRACE_S) if timeout else float("inf")
        return RayExecutor(s.parallel, s.cpus_per_trial, s.gpus_per_trial, hard, self.evaluate_fn)

    # --- the loop ----------------------------------------------------------------------------

    def run(self) -> Summary:
        s = self.settings
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        start = time.monotonic()
        self._check_resources()
        with DriverLock(s.storage, s.study, s.root) as lock, self.signals:
            study = self._open_study(lock)
            study.set_user_attr(A.STUDY_SPACE, _space_record(self.space))
            study.set_user_attr(A.STUDY_SETTINGS, s.to_dict())
            self.recorder = Recorder(study, unsaved_path(s.storage, s.study, s.root), self.out)
            self.recorder.replay()
            orphans = self._recover_orphans(study)
            if orphans:
                print(f"recovered {orphans} trial(s) left running by a stopped driver; re-queued them", file=self.out)
            self._enqueue_seeds(study)
            self._load_history(study)
            target = s.trials
            size = self.size = self.space.size()
            if size is not None and size < target:
                print(f"the space holds {size} distinct candidates; the target drops from {target} to {size}", file=self.out)
                target = size
            print(self._opening(target), file=self.out)
            if self.counts["complete"] >= target:
                print(f"{self.counts['complete']} of {target} complete; pass --trials N (N > {target}) to continue",
                      file=self.out)
            self.eta = self._eta()
            progress = ProgressLine(self.out, target, self.objectives, [self.space.objectives[o] for o in self.objectives],
                                    enabled=self.show_progress)
            executor = fan_out(self._executor(), self.space.protocol.seeds)  # one job per seed
            exhausted, stopped = False, ""
            try:
                exhausted, stopped = self._loop(study, executor, target, progress, start, size)
            except KeyboardInterrupt as err:
                with self.signals.critical():
                    requeued = self._interrupt(study, executor)
                signum = getattr(err, "signum", None) or self.signals.received or signal.SIGINT
                raise Interrupted(signum, f"{signal.Signals(signum).name}: stopped; {requeued} trial(s) in flight were "
                                          f"re-queued. Continue with: {self._resume_command()}") from None
            finally:
                executor.shutdown()
                progress.close()
        return Summary(s.study, s.where, self.counts["complete"], self.counts["failed"], self.counts["infeasible"],
                       self.counts["reused"], target, time.monotonic() - start, exhausted, dict(self.space.objectives),
                       stopped)

    def _resume_command(self) -> str:
        s = self.settings
        storage = f" --storage {shlex.quote(redact(s.storage))}" if s.storage else ""
        return f"dsf-search resume {shlex.quote(s.study)} --root {shlex.quote(s.root)}{storage}"

    def _loop(self, study: optuna.Study, executor, target: int, progress: ProgressLine, start: float,
              size: int | None) -> tuple[bool, str]:
        """Run until the target is reached (False, ""), the space is exhausted (True, "") or too
        many evaluations in a row failed (False, why)."""
        idle_asks = 0
        while True:
            in_flight = len(executor.running()) + sum(len(v) for v in self.parked.values())
            if self.counts["complete"] >= target and in_flight == 0:
                return False, ""
            stop = self.failures.stop_reason()
            if stop and in_flight == 0:
                print(f"\n{stop}", file=self.out)
                return False, stop
            settled = len(self.done_by_hash) + len(self.infeasible_hashes - set(self.done_by_hash))
            if size is not None and settled >= size and in_flight == 0:
                print(f"\nstopping: every one of the space's {size} candidates is settled (evaluated, failed for good "
                      f"or infeasible); the space is exhausted", file=self.out)
                return True, ""
            # a repeat is not a trial of the budget: only evaluations in flight count toward the target,
            # and asking stops once every candidate of a finite space is settled or in flight
            while (not stop and idle_asks < MAX_IDLE_ASKS and len(executor.running()) < executor.capacity
                   and self.counts["complete"] + len(executor.running()) < target and not self._covered()):
                with self.signals.critical():
                    asked = self._ask(study, executor)
                idle_asks = 0 if asked else idle_asks + 1
                in_flight = len(executor.running()) + sum(len(v) for v in self.parked.values())
            if idle_asks >= MAX_IDLE_ASKS and in_flight == 0:
                print(f"\nstopping: {MAX_IDLE_ASKS} candidates in a row were infeasible or already evaluated "
                      f"(the feasible part of the space looks exhausted)", file=self.out)
                return True, ""
            for number, outcome in executor.wait(0.2):
                with self.signals.critical():
                    self._finish(study, number, outcome)
            now = time.monotonic()
            eta = self.eta.remaining(target - self.counts["complete"],
                                     [now - self.submitted_at[n] for n in executor.running() if n in self.submitted_at])
            progress.update(self.counts, len(executor.running()), self._best(study), now - start, eta)

    def _covered(self) -> bool:
        """Every candidate of a finite space is settled (done, failed for good, infeasible) or in flight."""
        if self.size is None:
            return False
        return len(set(self.done_by_hash) | self.infeasible_hashes | set(self.inflight)) >= self.size

    def _ask(self, study: optuna.Study, executor) -> bool:
        """Ask one trial and dispatch it; False when it needed no new evaluation."""
        trial = study.ask()
        try:
            spec = self.space.suggest(trial)
        except ValueError as err:
            self._fail(study, trial, f"invalid spec: {err}", "invalid")
            return False
        h = spec.hash()
        cost = self.space.cost(spec)
        findings = self.space.check(spec)
        constraints = self.space.constraints(spec, findings)
        for key, value in {
            A.SPEC: spec.canonical(), A.HASH: h, A.COST: dataclasses.asdict(cost),
            A.FINDINGS: [dataclasses.asdict(f) for f in findings], A.CONSTRAINTS: constraints,
            A.SEED: self.settings.seed, A.VERSIONS: A.versions(),
        }.items():
            trial.set_user_attr(key, value)
        for name, value in constraints.items():
            trial.set_constraint(name, value)
        violated = {name: value for name, value in constraints.items() if value > 0}
        if violated:
            errors = [str(f) for f in findings if f.level == "error"]
            reason = "infeasible: " + "; ".join([f"{n} violated by {v:.3g}" for n, v in violated.items()] + errors)
            trial.set_user_attr(A.STATUS, "infeasible")
            trial.set_user_attr(A.FAILURE, reason)
            trial.set_user_attr(A.FAILURE_KIND, "infeasible")
            study.tell(trial, state=TrialState.PRUNED)
            self.counts["infeasible"] += 1
            self.infeasible_hashes.add(h)
            return False
        if h in self.done_by_hash:
            self._reuse(study, trial, self.done_by_hash[h])
            return False
        if h in self.inflight:
            self.parked.setdefault(h, []).append(trial)
            return False
        job = Job(trial=trial.number, spec=spec.to_dict(), protocol=self.space.protocol, device=self.settings.device,
                  seed=self.settings.seed, threads=max(1, int(self.settings.cpus_per_trial)),
                  timeout_s=self.space.protocol.timeout_s, keep_weights=True)
        self.trials[trial.number] = trial
        self.hash_of[trial.number] = h
        self.inflight[h] = trial.number
        self.submitted_at[trial.number] = time.monotonic()
        executor.submit(job)
        return True

    def _finish(self, study: optuna.Study, number: int, outcome: dict[str, Any]) -> None:
        trial = self.trials.pop(number)
        h = self.hash_of.pop(number)
        self.inflight.pop(h, None)
        weights = outcome.pop("weights", None)
        record = A.outcome_attrs(outcome)
        if weights:
            record[A.WEIGHTS] = save_weights(study_dir(self.settings.study, self.settings.root), number, weights)
        record[A.TIMINGS]["trial_wall_s"] = time.monotonic() - self.submitted_at.pop(number)
        if outcome.get("status") == "ok":
            self.eta.add(record[A.TIMINGS]["trial_wall_s"])
        values, problem = self._values(outcome)
        if values is None and problem:
            record[A.FAILURE] = problem
            record[A.FAILURE_KIND] = record.get(A.FAILURE_KIND, "error")
        frozen = self.recorder.tell(trial, record, values)
        if values is not None:
            self.counts["complete"] += 1
            self.done_by_hash[h] = frozen
            self.failures.succeeded()
        else:
            self.counts["failed"] += 1
            self.failures.failed(h, record.get(A.FAILURE_KIND, "error"), record.get(A.FAILURE, ""))
            if self.failures.settled(h):
                self.done_by_hash[h] = frozen
        for waiting in self.parked.pop(h, []):
            if frozen.state == TrialState.COMPLETE or self.failures.settled(h):
                self._reuse(study, waiting, frozen)
            else:
                self._fail(study, waiting, f"the identical trial {number} failed ({record.get(A.FAILURE, '')}); re-queued", "requeued")
                self._requeue(study, waiting)

    def _values(self, outcome: dict[str, Any]) -> tuple[list[float] | None, str]:
        if outcome.get("status") != "ok":
            return None, ""
        metrics = outcome.get("metrics", {})
        values = []
        for name in self.objectives:
            if name not in metrics:
                return None, f"the evaluation produced no metric {name!r} (it produced: {', '.join(sorted(metrics))})"
            value = objective_value(metrics, name, self.space.objectives[name], self.space.search.statistic)
            if not math.isfinite(value):
                return None, f"objective {name!r} is not finite ({value})"
            values.append(value)
        return values, ""

    def _reuse(self, study: optuna.Study, trial: Trial, source: optuna.trial.FrozenTrial) -> None:
        for key in (A.METRICS, A.TASKS, A.TIMINGS, A.DEVICE, A.NODE, A.STATUS, A.FAILURE, A.FAILURE_KIND, A.PER_SEED,
                    A.WEIGHTS):
            if key in source.user_attrs:
                trial.set_user_attr(key, source.user_attrs[key])
        trial.set_user_attr(A.DUPLICATE_OF, source.number)
        self.counts["reused"] += 1  # told with the known outcome, but not counted toward the target
        if source.state == TrialState.COMPLETE:
            study.tell(trial, list(source.values))
        else:
            study.tell(trial, state=TrialState.FAIL)

    def _fail(self, study: optuna.Study, trial: Trial, reason: str, kind: str) -> None:
        trial.set_user_attr(A.STATUS, kind)
        trial.set_user_attr(A.FAILURE, reason)
        trial.set_user_attr(A.FAILURE_KIND, kind)
        study.tell(trial, state=TrialState.FAIL)
        self.counts["failed"] += 1

    def _interrupt(self, study: optuna.Study, executor) -> int:
        """Ctrl-C / SIGTERM: the trials in flight are failed as interrupted and re-queued; return how many."""
        pending = list(self.trials.values()) + [t for waiting in self.parked.values() for t in waiting]
        for trial in pending:
            self._fail(study, trial, "interrupted: the driver was stopped; re-queued", "interrupted")
            self._requeue(study, trial)
        self.trials.clear()
        self.parked.clear()
        return len(pending)

    def _best(self, study: optuna.Study) -> list[float | None]:
        best: list[float | None] = [None] * len(self.objectives)
        for t in self.done_by_hash.values():
            if t.state != TrialState.COMPLETE:
                continue
            for i, name in enumerate(self.objectives):
                v = t.values[i]
                better = max if self.space.objectives[name] == "maximize" else min
                best[i] = v if best[i] is None else better(best[i], v)
        return best


def run_search(space_path: str, evaluate_fn: EvaluateFn | None = None, out: TextIO | None = None,
               show_progress: bool = True, plan: SearchPlan | None = None, **options: Any) -> Summary:
    """Load the space, resolve the settings and run the driver (the `dsf-search run` job).
    `plan` is the space already loaded from `space_path` (and maybe changed, as the quick variant
    of a study: search/studies.py)."""
    space = load_plan(space_path) if plan is None else plan
    settings = resolve_settings(space, space_path, **options)
    return _search(settings, space, evaluate_fn, out, show_progress)


def _search(settings: RunSettings, space: SearchPlan, evaluate_fn: EvaluateFn | None, out: TextIO | None,
            show_progress: bool) -> Summary:
    """A plain search, or the rungs of the space's fidelity ladder (the last rung's summary)."""
    if space.search.ladder:
        from dsf_search.search.ladder import run_ladder  # the ladder drives this module's Driver

        return run_ladder(settings, space, evaluate_fn, out, show_progress).final
    return Driver(settings, space, evaluate_fn, out, show_progress).run()


def resume_search(study: str, storage: str | None = None, root: str | Path = DEFAULT_ROOT,
                  evaluate_fn: EvaluateFn | None = None, out: TextIO | None = None, show_progress: bool = True,
                  overrides: Callable[[RunSettings], RunSettings] | None = None) -> Summary:
    """Continue a study with the settings it was run with (the `dsf-search resume` job), in the
    storage it was read from (search/resume.py)."""
    try:
        handle = optuna.load_study(study_name=study, storage=open_storage(storage, study, root, create=False))
    except KeyError:
        raise InputError(f"no study {study!r} in {redact(storage) or Path(root) / study}") from None
    settings = resume_settings(handle, RunSettings, storage, root)
    ladder = handle.user_attrs.get("ladder")  # a rung of a fidelity ladder resumes the whole ladder
    if ladder:
        settings = dataclasses.replace(settings, study=ladder["rungs"][-1]["study"])
    if overrides is not None:
        settings = overrides(settings)
    space = recorded_space(handle, settings)
    return _search(settings, space, evaluate_fn, out, show_progress)
