"""Coefficient maps: alpha_ij of every layer and head of a model on one sequence of a task.

alpha_ij is the weight of v_j in the mixer's output at step i (DESIGN.md section 1): the
picture of how a model mixes its past. The model is built from its spec with the task's
vocabulary, then either left at its initialization (`train_steps=0`) or trained briefly:
`train_steps` AdamW steps on the task's train split with the protocol's batch size, first
learning rate and weight decay of its grid, warmup and cosine schedule, and gradient clipping
(a short version of the protocol's training, not the trial's full budget). The sequence is
test sequence `example` of the task's first setting, cut to its first `max_len` tokens: the
models are causal, so the maps of a prefix are exactly the top-left block of the full ones.
`trained_maps` draws a model that is already trained: a study trial's kept weights (the trial's
full training budget, on the first setting of the task; see search/artifacts.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dsf_search.core.model import SequenceModel
from dsf_search.core.spec import ModelSpec
from dsf_search.errors import InputError
from dsf_search.evaluate.protocol import Protocol, TaskEntry
from dsf_search.evaluate.runner import fit_to_task, resolve_device
from dsf_search.evaluate.score import masked_loss
from dsf_search.evaluate.train import lr_at, make_optimizer
from dsf_search.defaults import DEFAULT_MAX_LEN
from dsf_search.results.matches import unknown
from dsf_search.tasks import TaskData, make_task

TRIAL_TRAINING = -1  # CoefficientMaps.train_steps of maps drawn with a trial's kept weights


@dataclass(frozen=True)
class CoefficientMaps:
    """alpha of each layer [H, T, T] on `tokens`, with what produced it."""

    alpha: list[torch.Tensor]
    tokens: list[int]
    task: str
    setting: str
    train_steps: int
    final_loss: float | None


def task_entry(protocol: Protocol, task: str | None) -> TaskEntry:
    """The protocol's task labelled `task` (default: its first task).

    Raises:
        InputError: no such task in the protocol (with close matches).
    """
    if not protocol.tasks:
        raise InputError(f"protocol {protocol.name!r} has no task, so no sequence to draw coefficient maps on")
    if task is None:
        return protocol.tasks[0]
    for entry in protocol.tasks:
        if task in (entry.label, entry.task):
            return entry
    raise unknown("task", task, [e.label for e in protocol.tasks], f"in protocol {protocol.name!r}")


def train_briefly(model: SequenceModel, data: TaskData, entry: TaskEntry, steps: int, seed: int,
                  device: torch.device) -> float | None:
    """`steps` optimizer steps of the protocol's training on the train split; the last loss."""
    config = entry.training
    lr, weight_decay = config.grid()[0]
    optimizer = make_optimizer(model, lr, weight_decay, config.betas)
    generator = torch.Generator().manual_seed(seed)
    warmup = round(config.warmup_fraction * steps)
    loss_value = None
    model.train()
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, steps, lr, warmup, config.min_lr)
        index = torch.randint(0, data.train_inputs.shape[0], (min(config.batch_size, data.train_inputs.shape[0]),),
                              generator=generator)
        loss = masked_loss(model(data.train_inputs[index].to(device)), data.train_targets[index].to(device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        loss_value = float(loss.detach())
    return loss_value


@torch.no_grad()
def layer_coefficients(model: SequenceModel, tokens: torch.Tensor) -> list[torch.Tensor]:
    """alpha [B, H, T, T] of every layer's mixer on tokens [B, T]: each mixer's input is caught
    on the way through the model, then handed to DSFMixer.coefficients."""
    inputs: list[torch.Tensor] = []
    hooks = [block.mixer.register_forward_pre_hook(lambda module, args: inputs.append(args[0]))
             for block in model.blocks]
    try:
        model.eval()
        model(tokens)
    finally:
        for hook in hooks:
            hook.remove()
    return [block.mixer.coefficients(u) for block, u in zip(model.blocks, inputs)]


def check_mappable(spec: ModelSpec) -> None:
    """Refuse, before any training, a model whose mixers have no T x T coefficient map: with
    several Householder factors per token (DeltaProduct) a token's output mixes T m sub-step
    values, not T values."""
    for i, layer in enumerate(spec.layers):
        if layer.householder_factors > 1:
            raise InputError(f"layers.{i}.householder_factors: {layer.householder_factors} factors per token mix "
                             "T x m sub-step values, so this layer has no T x T coefficient map")


def _test_sequence(entry: TaskEntry, seed: int, example: int) -> TaskData:
    data = make_task(entry.task, **entry.settings[0].params).generate(seed=seed)
    if not 0 <= example < data.test_inputs.shape[0]:
        raise InputError(f"example {example}: the test split of {entry.label} holds {data.test_inputs.shape[0]} sequences")
    return data


def coefficient_maps(spec: ModelSpec, protocol: Protocol, task: str | None = None, train_steps: int = 0,
                     seed: int = 0, example: int = 0, max_len: int = DEFAULT_MAX_LEN,
                     device: str = "cpu") -> CoefficientMaps:
    """The coefficient maps of `spec` on one test sequence of a task of `protocol` (module docstring)."""
    check_mappable(spec)
    entry = task_entry(protocol, task)
    data = _test_sequence(entry, seed, example)
    target = resolve_device(device)
    torch.manual_seed(seed)
    model = SequenceModel(fit_to_task(spec, data.vocab_size, data.seq_len)).to(target)
    loss = train_briefly(model, data, entry, train_steps, seed, target) if train_steps > 0 else None
    tokens = data.test_inputs[example:example + 1, :max_len].to(target)
    alpha = [a[0].float().cpu() for a in layer_coefficients(model, tokens)]
    return CoefficientMaps(alpha=alpha, tokens=tokens[0].tolist(), task=entry.label, setting=entry.settings[0].id,
                           train_steps=train_steps, final_loss=loss)


def trained_maps(model: SequenceModel, protocol: Protocol, task: str | None, seed: int = 0, example: int = 0,
                 max_len: int = DEFAULT_MAX_LEN, device: str = "cpu") -> CoefficientMaps:
    """The coefficient maps of an already trained `model` (a trial's kept weights, trained on the
    first setting of `task`) on test sequence `example` of that task; train_steps is reported as
    -1: the trial's own, full training."""
    check_mappable(model.spec)
    entry = task_entry(protocol, task)
    data = _test_sequence(entry, seed, example)
    target = resolve_device(device)
    model = model.to(target)
    tokens = data.test_inputs[example:example + 1, :max_len].to(target)
    alpha = [a[0].float().cpu() for a in layer_coefficients(model, tokens)]
    return CoefficientMaps(alpha=alpha, tokens=tokens[0].tolist(), task=entry.label, setting=entry.settings[0].id,
                           train_steps=TRIAL_TRAINING, final_loss=None)
