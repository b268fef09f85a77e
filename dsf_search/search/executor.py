"""Executors run trial jobs and hand back their outcomes: serially in-process, or on Ray.

Both implement: `capacity`, `submit(job)`, `wait(timeout_s) -> list[(trial, outcome dict)]`,
`running() -> list[int]`, `shutdown()`. An outcome is the dict of `worker.run_job`.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from dsf_search.search.worker import EvaluateFn, Job, run_job


class SerialExecutor:
    """Runs each job in this process when `wait` is called: for tests and debugging."""

    capacity = 1

    def __init__(self, evaluate_fn: EvaluateFn | None = None):
        self.evaluate_fn = evaluate_fn
        self._queue: list[Job] = []

    def submit(self, job: Job) -> None:
        self._queue.append(job)

    def running(self) -> list[int]:
        return [job.trial for job in self._queue]

    def wait(self, timeout_s: float) -> list[tuple[int, dict[str, Any]]]:
        if not self._queue:
            return []
        job = self._queue.pop(0)
        return [(job.trial, run_job(job, self.evaluate_fn))]

    def shutdown(self) -> None:
        self._queue.clear()


@dataclass
class _Running:
    job: Job
    actor: Any
    ref: Any
    ready: Any  # resolves when the actor is placed and up: the job's clock starts then, not at submit
    submitted: float
    started: float | None = None
    attempt: int = 1
    history: list[str] = field(default_factory=list)


# After this long unplaced, a new actor is taken to wait for the CPUs that idle actors hold.
PLACEMENT_WAIT_S = 2.0

# Ray's switch for "this node may join a cluster"; off, every Ray server binds to 127.0.0.1.
RAY_CLUSTER_SWITCH = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


def start_ray(address: str | None, num_cpus: int | None = None, num_gpus: int | None = None) -> bool:
    """Join a cluster (address or RAY_ADDRESS) or start a local Ray; True if this call started it.

    Joining a cluster must not pass resources: the cluster has its own. A local Ray is always a
    new one (never a `ray start` cluster that happens to run on the machine) and listens on
    127.0.0.1 only: nothing on the network can submit work to it.
    """
    if "ray" in sys.modules and sys.modules["ray"].is_initialized():
        return False
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    address = address or os.environ.get("RAY_ADDRESS")
    if address:
        import ray

        ray.init(address=address, log_to_driver=False)
        return True
    kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
    if num_cpus is not None:
        kwargs["num_cpus"] = num_cpus
    if num_gpus is not None:
        kwargs["num_gpus"] = num_gpus
    previous = os.environ.get(RAY_CLUSTER_SWITCH)
    os.environ[RAY_CLUSTER_SWITCH] = "0"  # read when ray is first imported, and by the processes it starts
    try:
        import ray

        ray.init(address="local", **kwargs)
    finally:
        if previous is None:
            os.environ.pop(RAY_CLUSTER_SWITCH, None)
        else:
            os.environ[RAY_CLUSTER_SWITCH] = previous
    return True


class RayExecutor:
    """A pool of long-lived Ray actors, one trial at a time each (torch is imported once per actor).

    A job whose actor dies is retried on a fresh actor up to `retries` times; one that runs past
    `hard_timeout_s` (the protocol's timeout plus a grace) has its actor killed and comes back as
    'timeout'. The time counts from when the job's actor is up, so a job that waits for a free CPU
    (more jobs in flight than the cluster has slots) is not killed for its wait.
    """

    def __init__(self, parallel: int, cpus_per_trial: float, gpus_per_trial: float, hard_timeout_s: float,
                 evaluate_fn: EvaluateFn | None = None, retries: int = 1):
        import ray

        self.capacity = parallel
        self.retries = retries
        self.hard_timeout_s = hard_timeout_s
        self.evaluate_fn = evaluate_fn

        @ray.remote(num_cpus=cpus_per_trial, num_gpus=gpus_per_trial, max_restarts=0)
        class EvalWorker:
            def run(self, job: Job, fn: EvaluateFn | None) -> dict[str, Any]:
                return run_job(job, fn)

        self._actor_cls = EvalWorker
        self._idle: list[Any] = []
        self._running: dict[Any, _Running] = {}

    def _actor(self) -> Any:
        return self._idle.pop() if self._idle else self._actor_cls.remote()

    def submit(self, job: Job, attempt: int = 1, history: list[str] | None = None) -> None:
        actor = self._actor()
        ready = actor.__ray_ready__.remote()  # an actor runs its calls in order: this one returns first
        ref = actor.run.remote(job, self.evaluate_fn)
        self._running[ref] = _Running(job, actor, ref, ready, time.monotonic(), None, attempt, history or [])

    def running(self) -> list[int]:
        return [r.job.trial for r in self._running.values()]

    def wait(self, timeout_s: float) -> list[tuple[int, dict[str, Any]]]:
        import ray
        from ray.exceptions import RayActorError, WorkerCrashedError

        if not self._running:
            return []
        ready, _ = ray.wait(list(self._running), num_returns=len(self._running), timeout=timeout_s)
        done: list[tuple[int, dict[str, Any]]] = []
        for ref in ready:
            run = self._running.pop(ref)
            try:
                outcome = ray.get(ref)
                self._idle.append(run.actor)
                if run.history:
                    outcome["retries"] = run.history
                done.append((run.job.trial, outcome))
            except (RayActorError, WorkerCrashedError) as err:
                reason = f"worker died (attempt {run.attempt}): {type(err).__name__}"
                history = run.history + [reason]
                if run.attempt <= self.retries:
                    self.submit(run.job, run.attempt + 1, history)
                else:
                    done.append((run.job.trial, {"status": "error", "reason": "; ".join(history), "metrics": {}}))
        now = time.monotonic()
        waiting = [run for run in self._running.values() if run.started is None]
        if waiting:
            up, _ = ray.wait([run.ready for run in waiting], num_returns=len(waiting), timeout=0)
            up = set(up)
            for run in waiting:
                if run.ready in up:
                    run.started = now
            if any(run.started is None and now - run.submitted > PLACEMENT_WAIT_S for run in waiting):
                # a new actor waits for CPUs that idle actors hold (more jobs in flight than slots):
                # free them, or it would wait forever
                for actor in self._idle:
                    ray.kill(actor, no_restart=True)
                self._idle.clear()
        for ref, run in list(self._running.items()):
            if run.started is not None and now - run.started > self.hard_timeout_s:
                self._running.pop(ref)
                ray.kill(run.actor, no_restart=True)
                done.append((run.job.trial, {
                    "status": "timeout",
                    "reason": f"no result after {now - run.started:.0f} s (limit {self.hard_timeout_s:.0f} s): worker killed",
                    "metrics": {},
                }))
        return done

    def shutdown(self) -> None:
        import ray

        for run in self._running.values():
            ray.kill(run.actor, no_restart=True)
        for actor in self._idle:
            ray.kill(actor, no_restart=True)
        self._running.clear()
        self._idle.clear()
