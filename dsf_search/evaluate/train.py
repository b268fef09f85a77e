"""One training run: a fresh model trained on one task setting at one (lr, weight_decay).

AdamW with linear warmup then cosine decay to ``min_lr``, global gradient-norm clipping,
a step budget (``max_steps`` or ``epochs``), test evaluations every ``eval_every`` steps and an
early stop once the test accuracy reaches ``target_accuracy`` (MAD stops at 0.999). The run is
deterministic given the seed: the model init and the batch order come from it.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable

import torch

from dsf_search.core.model import SequenceModel
from dsf_search.core.spec import ModelSpec
from dsf_search.evaluate.budget import Deadline
from dsf_search.evaluate.progress import EVAL, RUN_END, STEP, Progress, ProgressEvent
from dsf_search.evaluate.protocol import TrainConfig
from dsf_search.evaluate.result import Diverged, RunResult
from dsf_search.evaluate.score import masked_loss, score_split
from dsf_search.tasks import TaskData, bits_per_byte


def lr_at(step: int, steps: int, peak: float, warmup: int, min_lr: float) -> float:
    """Learning rate of 0-based ``step``: linear warmup over ``warmup`` steps, then cosine to ``min_lr``."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    floor = min(min_lr, peak)
    return floor + 0.5 * (peak - floor) * (1.0 + math.cos(math.pi * min(progress, 1.0)))


# Parameters that keep their scale whatever their shape (mixer.py names them).
NO_WEIGHT_DECAY = frozenset({"A_log", "lam", "forget_exponent", "D", "out_norm_weight"})


def decays(name: str, p: torch.nn.Parameter) -> bool:
    """Whether the parameter `name` gets weight decay: weight matrices, conv kernels and the
    embeddings do (as in the Mamba, Griffin and xLSTM recipes); biases, norm gains, the decay
    parameters of the transition (A_log, Griffin's Lambda, the reversed-sigmoid exponent),
    Delta's bias and the skip D do not, whatever their shape."""
    return p.dim() >= 2 and name.rsplit(".", 1)[-1] not in NO_WEIGHT_DECAY


def make_optimizer(model: torch.nn.Module, lr: float, weight_decay: float, betas: tuple[float, float]) -> torch.optim.AdamW:
    """AdamW with two parameter groups: `decays` ones at `weight_decay`, the others at 0."""
    named = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    decay = [p for name, p in named if decays(name, p)]
    keep = [p for name, p in named if not decays(name, p)]
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": keep, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=betas)


class _Batches:
    """Endless shuffled mini-batches of the train split: a fresh permutation per epoch."""

    def __init__(self, size: int, batch_size: int, generator: torch.Generator):
        self.size, self.batch_size, self.generator = size, min(batch_size, size), generator
        self.order = torch.randperm(size, generator=generator)
        self.next = 0

    def indices(self) -> torch.Tensor:
        if self.next + self.batch_size > self.size:
            self.order, self.next = torch.randperm(self.size, generator=self.generator), 0
        batch = self.order[self.next:self.next + self.batch_size]
        self.next += self.batch_size
        return batch


def train_run(
    spec: ModelSpec,
    data: TaskData,
    *,
    lr: float,
    weight_decay: float,
    config: TrainConfig,
    device: torch.device,
    seed: int,
    deadline: Deadline,
    progress: Progress | None = None,
    event: ProgressEvent | None = None,
    on_trained: Callable[[SequenceModel], None] | None = None,
) -> RunResult:
    """Train a fresh ``SequenceModel(spec)`` on ``data`` and score it on the test split.

    ``event`` carries the run's identity (task, setting, run index) into progress events;
    ``on_trained`` is handed the trained model at the end (to keep its weights).

    Raises:
        Diverged: the training loss became NaN/inf (with the step).
        TrialTimeout: the deadline passed.
    """
    start = time.perf_counter()
    event = event or ProgressEvent(kind=STEP)
    torch.manual_seed(seed)
    model = SequenceModel(spec).to(device)
    model.train()
    optimizer = make_optimizer(model, lr, weight_decay, config.betas)
    steps = config.steps(data.train_inputs.shape[0])
    warmup = round(config.warmup_fraction * steps)
    batches = _Batches(data.train_inputs.shape[0], config.batch_size, torch.Generator().manual_seed(seed))
    train_x, train_y = data.train_inputs.to(device), data.train_targets.to(device)

    def emit(kind: str, step: int, loss: float, accuracy: float | None = None) -> None:
        if progress is not None:
            progress(dataclasses.replace(event, kind=kind, lr=lr, weight_decay=weight_decay, step=step, steps=steps,
                                         loss=loss, accuracy=accuracy, elapsed_s=deadline.elapsed()))

    accuracy, test_loss, loss_value, step, early = 0.0, float("nan"), float("nan"), 0, False
    for step in range(1, steps + 1):
        deadline.check()
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step - 1, steps, lr, warmup, config.min_lr)
        index = batches.indices().to(device)
        loss = masked_loss(model(train_x[index]), train_y[index])
        loss_value = float(loss.detach())
        if not math.isfinite(loss_value):
            raise Diverged(step, loss_value)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        emit(STEP, step, loss_value)
        if step % config.eval_every == 0 or step == steps:
            deadline.check()
            score = score_split(model, data.test_inputs, data.test_targets, config.eval_batch_size, device)
            accuracy, test_loss = score.accuracy, score.loss
            emit(EVAL, step, loss_value, accuracy)
            if config.target_accuracy is not None and accuracy >= config.target_accuracy:
                early = step < steps
                break
    emit(RUN_END, step, loss_value, accuracy)
    if on_trained is not None:
        on_trained(model)
    return RunResult(
        task=event.task, setting=event.setting, lr=lr, weight_decay=weight_decay, accuracy=accuracy,
        loss=test_loss, steps=step, max_steps=steps, time_s=time.perf_counter() - start, early_stopped=early,
        bits_per_byte=bits_per_byte(test_loss) if "bits_per_byte" in data.metrics else None,
    )
