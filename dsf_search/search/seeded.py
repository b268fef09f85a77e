"""Seeds of a candidate at the cost of the cores: one job per seed, run side by side.

With the protocol's `seeds: N` (N > 1), :class:`SeedFanout` wraps an executor (Ray or serial)
and turns each trial's job into N single-seed jobs: seed s + i for the model init and batch
order, the data from s (see dsf_search.evaluate.seeds). They run on the inner executor's
workers like trials do, as many at once as it has slots; when the last seed of a trial is back,
the trial's outcome is the combined one (mean, std, interval), each seed's record and wall
time in `per_seed`. A trial is taken on only while a worker slot would otherwise stay idle, so
N seeds of one candidate fill the cores before the next candidate starts.

It presents the executor interface (`capacity`, `submit`, `wait`, `running`, `shutdown`) in
trial numbers; the inner executor sees part numbers `trial * SLOTS + i`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from dsf_search.evaluate.protocol import MAX_SEEDS
from dsf_search.evaluate.seeds import combine_outcomes, seed_list
from dsf_search.search.worker import Job

SLOTS = MAX_SEEDS  # part numbers of a trial: trial * SLOTS + i, i < N <= MAX_SEEDS


def seed_jobs(job: Job, seeds: int) -> list[Job]:
    """The single-seed jobs of `job` (its protocol has `seeds: N`), in seed order."""
    protocol = dataclasses.replace(job.protocol, seeds=1)
    return [dataclasses.replace(job, trial=job.trial * SLOTS + i, seed=seed, protocol=protocol, data_seed=job.seed)
            for i, seed in enumerate(seed_list(job.seed, seeds))]


class SeedFanout:
    """Runs the seeds of each submitted job as separate jobs of `inner` (module docstring)."""

    def __init__(self, inner: Any, seeds: int):
        self.inner, self.seeds = inner, seeds
        self._queued: list[Job] = []  # parts not yet handed to the inner executor
        self._parts: dict[int, dict[int, dict[str, Any]]] = {}  # trial -> part index -> outcome
        self._base: dict[int, int] = {}  # trial -> its first seed

    @property
    def capacity(self) -> int:
        """The trials in flight, plus one when a worker slot is free and no part waits for one."""
        free = self.inner.capacity - len(self.inner.running()) - len(self._queued)
        return len(self._parts) + (1 if free > 0 else 0)

    def submit(self, job: Job) -> None:
        self._parts[job.trial] = {}
        self._base[job.trial] = job.seed
        self._queued.extend(seed_jobs(job, self.seeds))
        self._feed()

    def running(self) -> list[int]:
        return list(self._parts)

    def _feed(self) -> None:
        while self._queued and len(self.inner.running()) < self.inner.capacity:
            self.inner.submit(self._queued.pop(0))

    def wait(self, timeout_s: float) -> list[tuple[int, dict[str, Any]]]:
        self._feed()
        done = []
        for part, outcome in self.inner.wait(timeout_s):
            trial, index = divmod(part, SLOTS)
            parts = self._parts[trial]
            parts[index] = {"seed": self._base[trial] + index, **outcome}  # a worker's failure dict has none
            if len(parts) == self.seeds:
                del self._parts[trial], self._base[trial]
                done.append((trial, combine_outcomes([parts[i] for i in range(self.seeds)])))
        self._feed()
        return done

    def shutdown(self) -> None:
        self._queued.clear()
        self._parts.clear()
        self._base.clear()
        self.inner.shutdown()


def fan_out(executor: Any, seeds: int) -> Any:
    """`executor` itself for one seed, else a :class:`SeedFanout` around it."""
    return executor if seeds <= 1 else SeedFanout(executor, seeds)
