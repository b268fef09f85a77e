"""``evaluate``: judge one candidate spec under one protocol; failures come back as a status.

Order: analytic costs (free), efficiency (short, on a fresh model), then every task setting
trained at every (lr, weight_decay) of its grid. Each setting trains with the task's own
vocabulary (as MAD builds its models); the analytic costs and the efficiency figures use the
protocol's vocabulary (the largest of its tasks). The per-trial time budget covers all of it.
With the protocol's ``seeds: N`` (N > 1) that is done N times, one seed after the other, the
time budget applying to each, and combined (:mod:`dsf_search.evaluate.seeds`); a search runs
the seeds of a candidate in parallel instead, as separate jobs.
On CPU, torch runs with the protocol's ``resources.cpus`` threads (restored afterwards), so the
measured figures match the resources a search reserves for the trial.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from contextlib import contextmanager
from statistics import mean

import torch

from dsf_search.core.cost import analytic_cost
from dsf_search.core.spec import ModelSpec
from dsf_search.errors import InputError
from dsf_search.evaluate.budget import Deadline
from dsf_search.evaluate.efficiency import measure
from dsf_search.evaluate.progress import EFFICIENCY, Progress, ProgressEvent
from dsf_search.evaluate.protocol import QUALITY, TASK_METRICS, Protocol, TaskEntry
from dsf_search.evaluate.result import (
    DIVERGED,
    ERROR,
    OK,
    OOM,
    TIMEOUT,
    Diverged,
    EvalResult,
    RunResult,
    TaskRow,
    TrialTimeout,
)
from dsf_search.evaluate.seeds import combine, seed_list
from dsf_search.evaluate.train import train_run
from dsf_search.tasks import make_task

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(device: str) -> torch.device:
    """'auto' is CUDA when available, else CPU; 'cuda' / 'cuda:N' must be available.

    Raises:
        InputError: an unknown device, or CUDA asked for where there is none.
    """
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError:
        raise InputError(f"unknown device {device!r}; use one of {', '.join(DEVICES)} (or cuda:N)") from None
    if resolved.type not in ("cpu", "cuda"):
        raise InputError(f"unsupported device {device!r}; use one of {', '.join(DEVICES)} (or cuda:N)")
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"device {device!r} asked for, but CUDA is not available here")
    return resolved


def describe_device(device: torch.device) -> str:
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    return f"cpu ({torch.get_num_threads()} thread{'s' if torch.get_num_threads() != 1 else ''})"


@contextmanager
def _threads(device: torch.device, count: int) -> Iterator[None]:
    before = torch.get_num_threads()
    if device.type == "cpu":
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def fit_to_task(spec: ModelSpec, vocab_size: int, seq_len: int) -> ModelSpec:
    """The spec with the task's vocabulary, and a learned position table covering its sequences."""
    spec = spec.replace(vocab_size=vocab_size)
    if spec.positional == "learned" and spec.max_len < seq_len:
        spec = spec.replace(max_len=seq_len)
    return spec


def _is_oom(err: BaseException) -> bool:
    if isinstance(err, (torch.cuda.OutOfMemoryError, MemoryError)):
        return True
    text = str(err).lower()
    return isinstance(err, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text)


def evaluate(
    spec: ModelSpec,
    protocol: Protocol,
    device: str = "auto",
    seed: int = 0,
    progress: Progress | None = None,
    time_budget_s: float | None = None,
    keep_weights: bool = False,
    data_seed: int | None = None,
) -> EvalResult:
    """Evaluate ``spec`` under ``protocol``; never raises for a failing candidate.

    Args:
        spec: the candidate (its vocab_size is replaced by each task's vocabulary).
        protocol: from :func:`load_protocol`.
        device: "auto" | "cpu" | "cuda" | "cuda:N".
        seed: seeds the model inits and the batch order (the first seed, with ``seeds: N``).
        progress: called with a :class:`ProgressEvent` as training proceeds (None: quiet).
        time_budget_s: overrides ``protocol.timeout_s`` (None: the protocol's), per seed.
        data_seed: seeds the task data (None: ``seed``); held fixed across the seeds of N.
        keep_weights: return the trained weights of each task's first setting (``EvalResult.weights``;
            with N seeds, those of the first seed).

    Returns:
        An :class:`EvalResult`; status "ok", or "diverged" / "oom" / "timeout" / "error"
        with a reason, and the metrics measured before the failure.

    Raises:
        InputError: ``device`` is unknown or unavailable.
    """
    target = resolve_device(device)
    data_seed = seed if data_seed is None else data_seed
    if protocol.seeds > 1:
        runs = [_evaluate_once(spec, protocol, target, s, data_seed, progress, time_budget_s, keep_weights and i == 0)
                for i, s in enumerate(seed_list(seed, protocol.seeds))]
        combined = combine(runs)
        combined.weights = runs[0].weights  # the first seed's trained models
        return combined
    return _evaluate_once(spec, protocol, target, seed, data_seed, progress, time_budget_s, keep_weights)


def _evaluate_once(spec: ModelSpec, protocol: Protocol, target: torch.device, seed: int, data_seed: int,
                   progress: Progress | None, time_budget_s: float | None, keep_weights: bool = False) -> EvalResult:
    """One training seed of :func:`evaluate`."""
    deadline = Deadline(protocol.timeout_s if time_budget_s is None else time_budget_s)
    result = EvalResult(status=OK, spec_hash=spec.hash(), protocol=protocol.name, seed=seed)
    where = _Where()
    with _threads(target, protocol.resources.cpus):
        result.device = describe_device(target)
        try:
            where.stage = "analytic costs"
            spec_at_vocab = spec.replace(vocab_size=protocol.vocab_size)
            cost = analytic_cost(spec_at_vocab, protocol.cost_length)
            result.metrics.update(params=float(cost.params), state_bytes=float(cost.state_bytes),
                                  flops_per_token=float(cost.flops_per_token))
            if protocol.efficiency is not None:
                where.stage = "efficiency"
                if progress is not None:
                    progress(ProgressEvent(kind=EFFICIENCY, elapsed_s=deadline.elapsed()))
                start = time.perf_counter()
                result.metrics.update(measure(spec_at_vocab, protocol.efficiency, target, deadline, seed).metrics())
                result.timings["efficiency"] = time.perf_counter() - start
            where.stage = "training"
            _train_tasks(spec, protocol, target, seed, data_seed, deadline, progress, result, where, keep_weights)
        except Diverged as err:
            result.status, result.failed_step, result.reason = DIVERGED, err.step, f"{where}: {err}"
        except TrialTimeout as err:
            result.status, result.reason = TIMEOUT, f"{where}: {err}"
        except Exception as err:  # noqa: BLE001 - a search records every failure of a candidate
            result.status = OOM if _is_oom(err) else ERROR
            result.reason = f"{where}: {type(err).__name__}: {err}"
            if target.type == "cuda":
                torch.cuda.empty_cache()
    result.timings["total"] = deadline.elapsed()
    return result


class _Where:
    """Where an evaluation is, so that a failure names its stage, task setting and grid point."""

    def __init__(self) -> None:
        self.stage, self.run = "", ""

    def __str__(self) -> str:
        return f"{self.stage} {self.run}".strip()


def _weights_bytes(model: torch.nn.Module, spec: ModelSpec, entry: TaskEntry, setting: str, run: RunResult) -> bytes:
    buffer = io.BytesIO()
    torch.save({"spec": spec.to_dict(), "task": entry.label, "setting": setting, "lr": run.lr,
                "weight_decay": run.weight_decay, "accuracy": run.accuracy,
                "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}}, buffer)
    return buffer.getvalue()


def _train_tasks(spec: ModelSpec, protocol: Protocol, device: torch.device, seed: int, data_seed: int, deadline: Deadline,
                 progress: Progress | None, result: EvalResult, where: _Where, keep_weights: bool = False) -> None:
    """Train every setting of every task over its grid; fill the table, runs and task metrics
    (and, with keep_weights, result.weights: the best grid run of each task's first setting)."""
    runs_total = sum(len(e.settings) * len(e.training.grid()) for e in protocol.tasks)
    run_index = 0
    data_s = train_s = 0.0
    for entry in protocol.tasks:
        rows = []
        for setting in entry.settings:
            where.run = f"{entry.label} ({setting.id})"
            start = time.perf_counter()
            data = make_task(entry.task, **setting.params).generate(seed=data_seed)
            data_s += time.perf_counter() - start
            task_spec = fit_to_task(spec, data.vocab_size, data.seq_len)
            runs = []
            keep = keep_weights and setting is entry.settings[0]
            best_accuracy = -1.0
            for lr, weight_decay in entry.training.grid():
                run_index += 1
                where.run = f"{entry.label} ({setting.id}) lr={lr:g} weight_decay={weight_decay:g}"
                event = ProgressEvent(kind="", task=entry.label, setting=setting.id, run=run_index, runs=runs_total)
                start = time.perf_counter()
                trained: list[torch.nn.Module] = []
                runs.append(train_run(task_spec, data, lr=lr, weight_decay=weight_decay, config=entry.training,
                                      device=device, seed=seed, deadline=deadline, progress=progress, event=event,
                                      on_trained=trained.append if keep else None))
                train_s += time.perf_counter() - start
                result.runs.append(runs[-1])
                if trained and runs[-1].accuracy > best_accuracy:
                    best_accuracy = runs[-1].accuracy
                    result.weights[entry.label] = _weights_bytes(trained[0], task_spec, entry, setting.id, runs[-1])
            rows.append(_best(entry, setting.id, runs))
        result.tasks.extend(rows)
        result.metrics.update(_task_metrics(entry, rows))
    where.run = ""
    result.timings.update(data=data_s, train=train_s)
    if protocol.tasks:
        result.metrics[QUALITY] = mean(result.metrics[f"{TASK_METRICS['accuracy'][0]}.{e.label}"] for e in protocol.tasks)


def _best(entry: TaskEntry, setting: str, runs: list[RunResult]) -> TaskRow:
    """The grid's best run by test accuracy (MAD's selection); time is the whole grid's."""
    best = max(runs, key=lambda r: r.accuracy)
    bpb = [r.bits_per_byte for r in runs if r.bits_per_byte is not None]
    return TaskRow(task=entry.label, setting=setting, accuracy=best.accuracy, lr=best.lr,
                   weight_decay=best.weight_decay, steps=best.steps, time_s=sum(r.time_s for r in runs),
                   bits_per_byte=min(bpb) if bpb else None)


def _task_metrics(entry: TaskEntry, rows: list[TaskRow]) -> dict[str, float]:
    """A task's metrics: the mean over its settings of the best value over the grid."""
    out = {}
    for name in entry.metrics:
        prefix, _ = TASK_METRICS[name]
        values = [getattr(row, name) for row in rows]
        out[f"{prefix}.{entry.label}"] = float(mean(values))
    return out
