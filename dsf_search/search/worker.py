"""What runs for one trial inside a worker: rebuild the spec, evaluate it, return a plain dict.

The dict is the EvalResult's fields plus where it ran (node, pid) and the wall time inside the
worker, so the driver can tell its own overhead from the evaluation's.
"""

from __future__ import annotations

import dataclasses
import os
import time
import traceback
from collections.abc import Callable
from typing import Any

EvaluateFn = Callable[..., Any]


@dataclasses.dataclass(frozen=True)
class Job:
    """One evaluation: the spec, the protocol (shipped whole, so workers need no files), how to run it."""

    trial: int
    spec: dict[str, Any]
    protocol: Any
    device: str
    seed: int
    threads: int
    timeout_s: float
    keep_weights: bool = False
    data_seed: int | None = None  # the task data's seed when it differs from `seed` (one seed of N)


def _node_id() -> str:
    try:
        import ray

        if ray.is_initialized():
            return ray.get_runtime_context().get_node_id()
    except Exception:  # noqa: BLE001 - outside Ray there is no node id
        pass
    return "local"


def run_job(job: Job, evaluate_fn: EvaluateFn | None = None) -> dict[str, Any]:
    """Evaluate job.spec; never raises: an exception becomes status 'error' with its traceback."""
    start = time.perf_counter()
    where = {"node": _node_id(), "pid": os.getpid()}
    try:
        import torch

        from dsf_search.core.spec import ModelSpec

        torch.set_num_threads(max(1, job.threads))
        # the evaluation sets torch's threads from the protocol: make it the CPUs this trial holds
        protocol = dataclasses.replace(job.protocol, resources=dataclasses.replace(job.protocol.resources, cpus=max(1, job.threads)))
        if evaluate_fn is None:
            from dsf_search.evaluate.runner import evaluate as evaluate_fn
        extra = {} if job.data_seed is None else {"data_seed": job.data_seed}
        if job.keep_weights:
            extra["keep_weights"] = True
        result = evaluate_fn(ModelSpec.from_dict(job.spec), protocol, device=job.device, seed=job.seed,
                             time_budget_s=job.timeout_s, **extra)
        out = result.to_dict()
        if getattr(result, "weights", None):
            out["weights"] = result.weights  # bytes, for the driver to write beside the study
    except Exception as err:  # noqa: BLE001 - a trial's failure must never reach the driver as an exception
        out = {"status": "error", "reason": f"{type(err).__name__}: {err}", "traceback": traceback.format_exc(), "metrics": {}}
    out.update(where)
    out["worker_s"] = time.perf_counter() - start
    return out
