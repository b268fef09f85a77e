"""An estimate of one trial's wall time under a protocol, from a few measured training steps.

For each task the candidate is built at the task's size, a handful of optimizer steps and one
test batch are timed on this machine (on at most MEASURED_BATCH sequences, scaled linearly to
the protocol's batch sizes), and the protocol's budget is multiplied out:

    trial_s ~= sum over tasks, settings, (lr, wd) grid points of
               steps * t_step + evaluations * test_batches * t_test_batch

(the efficiency measurement is not included). It is an upper bound on the training part: early
stopping (target_accuracy) ends runs sooner; it never exceeds the protocol's timeout_s. The
steps are measured where this process runs (the first task setting stands for the others), so
on a loaded machine, or for a trial that will run on a GPU elsewhere, it is a rough figure.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch

from dsf_search.core.model import SequenceModel
from dsf_search.core.spec import ModelSpec
from dsf_search.evaluate.protocol import Protocol
from dsf_search.evaluate.runner import fit_to_task, resolve_device
from dsf_search.evaluate.score import masked_loss
from dsf_search.evaluate.train import make_optimizer
from dsf_search.tasks import make_task

MEASURED_STEPS = 2  # timed steps per task, after one untimed warm-up step
# Steps are timed on at most this many sequences and scaled linearly to the protocol's batch:
# compute per step grows about linearly with the batch, and the estimate must stay cheap.
MEASURED_BATCH = 16


@dataclass(frozen=True)
class TrialEstimate:
    """Seconds of one trial (capped by the timeout), the uncapped figure, and the training runs it counts."""

    seconds: float
    uncapped_s: float
    runs: int
    steps: int
    device: str
    capped: bool


def _step_seconds(model: SequenceModel, x: torch.Tensor, y: torch.Tensor, steps: int) -> float:
    optimizer = make_optimizer(model, 1e-3, 0.0, (0.9, 0.98))
    model.train()
    times = []
    for _ in range(steps + 1):
        start = time.perf_counter()
        loss = masked_loss(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - start)
    return min(times[1:])


@torch.no_grad()
def _forward_seconds(model: SequenceModel, x: torch.Tensor) -> float:
    model.eval()
    model(x)
    start = time.perf_counter()
    model(x)
    return time.perf_counter() - start


def estimate_trial(spec: ModelSpec, protocol: Protocol, device: str = "cpu", seed: int = 0) -> TrialEstimate:
    """The estimate of one trial of `spec` under `protocol` (module docstring)."""
    target = resolve_device(device)
    threads = torch.get_num_threads()
    if target.type == "cpu":
        torch.set_num_threads(max(1, protocol.resources.cpus))
    total = 0.0
    runs = steps_total = 0
    try:
        for entry in protocol.tasks:
            config = entry.training
            setting = entry.settings[0]
            task = make_task(entry.task, **setting.params)
            batch, test_batch = config.batch_size, config.eval_batch_size
            small, small_test = min(batch, MEASURED_BATCH), min(test_batch, MEASURED_BATCH)
            data = task.generate(num_train=small, num_test=small_test, seed=seed)
            torch.manual_seed(seed)
            model = SequenceModel(fit_to_task(spec, data.vocab_size, data.seq_len)).to(target)
            t_step = _step_seconds(model, data.train_inputs.to(target), data.train_targets.to(target),
                                   MEASURED_STEPS) * batch / small
            t_test = _forward_seconds(model, data.test_inputs.to(target)) * test_batch / small_test
            for s in entry.settings:
                num_train = int(s.params.get("num_train", task.config.num_train))
                num_test = int(s.params.get("num_test", task.config.num_test))
                steps = config.steps(num_train)
                evaluations = math.ceil(steps / config.eval_every)
                per_run = steps * t_step + evaluations * math.ceil(num_test / test_batch) * t_test
                grid = len(config.grid())
                total += grid * per_run
                runs += grid
                steps_total += grid * steps
    finally:
        torch.set_num_threads(threads)
    timeout = protocol.timeout_s
    capped = timeout is not None and total > timeout
    return TrialEstimate(min(total, timeout) if capped else total, total, runs, steps_total, str(target), capped)
