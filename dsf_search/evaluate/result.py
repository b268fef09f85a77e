"""What an evaluation returns: a picklable, JSON-serializable record a search can store.

Failures are results too: a search records a diverged, out-of-memory or timed-out candidate
instead of losing it, so ``evaluate`` reports them as a status with a reason.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

OK, DIVERGED, OOM, TIMEOUT, ERROR = "ok", "diverged", "oom", "timeout", "error"
STATUSES = (OK, DIVERGED, OOM, TIMEOUT, ERROR)


class Diverged(RuntimeError):
    """The training loss became NaN or infinite at ``step``."""

    def __init__(self, step: int, loss: float):
        self.step, self.loss = step, loss
        super().__init__(f"non-finite loss {loss} at step {step}")


class TrialTimeout(RuntimeError):
    """The per-trial time budget ran out (checked cooperatively inside the loops)."""

    def __init__(self, budget_s: float, elapsed_s: float):
        self.budget_s, self.elapsed_s = budget_s, elapsed_s
        super().__init__(f"time budget of {budget_s:g} s spent ({elapsed_s:.1f} s elapsed)")


@dataclass(frozen=True)
class RunResult:
    """One training run: one task setting at one (lr, weight_decay) of the grid."""

    task: str
    setting: str
    lr: float
    weight_decay: float
    accuracy: float
    loss: float
    steps: int
    max_steps: int
    time_s: float
    early_stopped: bool
    bits_per_byte: float | None = None


@dataclass(frozen=True)
class TaskRow:
    """One row of the per-task table: a task setting, with the best run of its grid."""

    task: str
    setting: str
    accuracy: float
    lr: float
    weight_decay: float
    steps: int
    time_s: float
    bits_per_byte: float | None = None


@dataclass
class EvalResult:
    """The outcome of evaluating one candidate under one protocol.

    Attributes:
        status: "ok" | "diverged" | "oom" | "timeout" | "error".
        reason: what went wrong (empty when ok); names the task, setting, lr and step.
        metrics: metric name -> float, the names of ``Protocol.metrics`` (on failure, the
            ones measured before it, at least the analytic costs).
        tasks: the per-task table, one row per task setting (best run over the grid).
        runs: every training run.
        timings: seconds spent per phase ("data", "train", "efficiency", "total").
        device: where it ran, e.g. "cpu (1 thread)" or "cuda:0 (NVIDIA H100)".
        failed_step: the step of a divergence, else None.
        spec_hash, protocol, seed: what was evaluated, and how (seed: the first seed).
        seeds: every training seed, with the protocol's ``seeds: N`` (N > 1); else empty.
        per_seed: with N > 1, each seed's own record (see :mod:`dsf_search.evaluate.seeds`).
        weights: with ``keep_weights``, task label -> the trained model of the task's first
            setting (the best run of its grid) as ``torch.save`` bytes of
            {"spec", "task", "setting", "lr", "weight_decay", "accuracy", "state_dict"}.
    """

    status: str
    reason: str = ""
    metrics: dict[str, float] = field(default_factory=dict)
    tasks: list[TaskRow] = field(default_factory=list)
    runs: list[RunResult] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    device: str = ""
    failed_step: int | None = None
    spec_hash: str = ""
    protocol: str = ""
    seed: int = 0
    weights: dict[str, bytes] = field(default_factory=dict, repr=False)
    seeds: list[int] = field(default_factory=list)
    per_seed: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == OK

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serializable form (without the kept weights, which are bytes)."""
        out = dataclasses.asdict(self)
        out.pop("weights")
        return out
