"""Repeated seeds of one candidate: which seeds, and how their results combine.

A protocol with ``seeds: N`` trains a candidate N times, with seeds s, s+1, ..., s+N-1 for the
model init and the batch order (and the efficiency measurement), while the task data is
generated once, from s, so every seed sees the same split. The combined result:

* ``metrics[M]`` is the mean over the seeds; for N > 1, ``M.std``, ``M.ci_low`` and
  ``M.ci_high`` (95% Student t, see :mod:`dsf_search.evaluate.stats`) sit beside it; with
  N = 1 they are absent. The analytic costs are identical across seeds and get no interval.
* ``per_seed`` keeps every seed's own record (seed, status, reason, metrics, per-task rows,
  timings, device), so nothing measured is lost.
* The status is "ok" only when every seed trained; otherwise it is the first failing seed's
  status, its reason prefixed with the seed, and the metrics are those of the seeds that did.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from statistics import mean
from typing import Any

from dsf_search.evaluate.protocol import COST_METRICS
from dsf_search.evaluate.result import OK, EvalResult, RunResult, TaskRow
from dsf_search.evaluate.stats import summarize

STD, CI_LOW, CI_HIGH = ".std", ".ci_low", ".ci_high"
STAT_SUFFIXES = (STD, CI_LOW, CI_HIGH)


def seed_list(base: int, count: int) -> list[int]:
    """The training seeds of a candidate: ``base``, ``base + 1``, ..., ``base + count - 1``."""
    return [base + i for i in range(count)]


def is_statistic(name: str) -> bool:
    """Whether a metric name is a seed statistic (``quality.std``) rather than a metric."""
    return name.endswith(STAT_SUFFIXES)


def seed_record(result: EvalResult | dict[str, Any]) -> dict[str, Any]:
    """What ``per_seed`` keeps of one seed's result (an EvalResult or its ``to_dict()``)."""
    data = result.to_dict() if isinstance(result, EvalResult) else result
    return {key: data.get(key) for key in ("seed", "status", "reason", "metrics", "tasks", "timings", "device")}


def aggregate_metrics(per_seed: Sequence[dict[str, float]]) -> dict[str, float]:
    """Mean of each metric every seed measured, with its std and 95% interval when N > 1."""
    if not per_seed:
        return {}
    names = [name for name in per_seed[0] if all(name in m for m in per_seed[1:]) and not is_statistic(name)]
    out: dict[str, float] = {}
    for name in names:
        summary = summarize([float(m[name]) for m in per_seed])
        out[name] = summary.mean
        if summary.std is not None and name not in COST_METRICS:
            out[name + STD], out[name + CI_LOW], out[name + CI_HIGH] = summary.std, summary.ci_low, summary.ci_high
    return out


def _mean_rows(per_seed: Sequence[Sequence[TaskRow]]) -> list[TaskRow]:
    """Per-task rows averaged over the seeds (accuracy, bits per byte, steps); time summed;
    lr and weight decay are the first seed's choice (the per-seed rows keep each seed's)."""
    if not per_seed:
        return []
    out = []
    for i, first in enumerate(per_seed[0]):
        rows = [seed_rows[i] for seed_rows in per_seed]
        bpb = [r.bits_per_byte for r in rows if r.bits_per_byte is not None]
        out.append(dataclasses.replace(first, accuracy=mean(r.accuracy for r in rows),
                                       steps=round(mean(r.steps for r in rows)), time_s=sum(r.time_s for r in rows),
                                       bits_per_byte=mean(bpb) if len(bpb) == len(rows) else None))
    return out


def combine(results: Sequence[EvalResult]) -> EvalResult:
    """One result from the results of the seeds of one candidate (see the module docstring).

    Raises:
        ValueError: no results.
    """
    if not results:
        raise ValueError("combine needs the result of at least one seed")
    first = results[0]
    ok = [r for r in results if r.ok]
    failed = [r for r in results if not r.ok]
    combined = EvalResult(status=OK, spec_hash=first.spec_hash, protocol=first.protocol, seed=first.seed,
                          device=first.device, seeds=[r.seed for r in results])
    if failed:
        combined.status = failed[0].status
        combined.reason = f"seed {failed[0].seed}: {failed[0].reason}"
        combined.failed_step = failed[0].failed_step
    measured = ok or failed  # a failing candidate keeps what its seeds measured before failing
    combined.metrics = aggregate_metrics([r.metrics for r in measured])
    if len({len(r.tasks) for r in ok}) == 1:
        combined.tasks = _mean_rows([r.tasks for r in ok])
    combined.runs = [run for r in results for run in r.runs]
    for r in results:
        for phase, seconds in r.timings.items():
            combined.timings[phase] = combined.timings.get(phase, 0.0) + seconds
    if len(results) > 1:
        combined.per_seed = [seed_record(r) for r in results]
    return combined


def combine_outcomes(outcomes: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """:func:`combine` for the plain dicts a search worker returns (``EvalResult.to_dict()``
    plus node, pid, worker_s); the combined dict keeps each seed's worker wall time, node and
    process in ``per_seed[i]`` ("wall_s", "node", "pid") and ``worker_s`` is the longest one."""
    results = [from_dict(o) for o in outcomes]
    out = combine(results).to_dict()
    for record, outcome in zip(out["per_seed"], outcomes):
        record["wall_s"] = outcome.get("worker_s")
        record["node"], record["pid"] = outcome.get("node"), outcome.get("pid")
        if outcome.get("traceback"):
            record["traceback"] = outcome["traceback"]
    walls = [o["worker_s"] for o in outcomes if o.get("worker_s") is not None]
    out["worker_s"] = max(walls) if walls else None
    out["node"] = ",".join(dict.fromkeys(str(o.get("node", "")) for o in outcomes))
    return out


def from_dict(data: dict[str, Any]) -> EvalResult:
    """An EvalResult from its ``to_dict()`` (or a worker's failure dict, which has fewer keys)."""
    fields = {f.name for f in dataclasses.fields(EvalResult)}
    values = {k: v for k, v in data.items() if k in fields}
    values["tasks"] = [TaskRow(**row) for row in values.get("tasks", [])]
    values["runs"] = [RunResult(**run) for run in values.get("runs", [])]
    values.setdefault("status", "error")
    return EvalResult(**values)
