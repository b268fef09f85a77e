"""Common interface of the synthetic tasks: configs, generated data and the task base class.

Every task is a :class:`Task` subclass bound to a frozen :class:`TaskConfig` dataclass
that exposes its difficulty parameters. ``Task.generate`` returns a :class:`TaskData`
holding ``[N, T]`` ``torch.long`` inputs and targets for a train and a test split;
target positions that are not scored hold :data:`IGNORE_INDEX` (-100), the default
``ignore_index`` of ``torch.nn.functional.cross_entropy``.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
from torch import Tensor

from dsf_search.kinds import is_kind

IGNORE_INDEX = -100

# Spawn keys of the two splits: each split draws from its own generator stream, derived
# from (seed, split) by numpy's SeedSequence, so train and test never share random numbers.
_TRAIN_STREAM = 0
_TEST_STREAM = 1


def split_generator(seed: int, stream: int) -> torch.Generator:
    """Return a CPU ``torch.Generator`` for ``stream`` of ``seed``, independent of other streams."""
    state = np.random.SeedSequence(entropy=seed, spawn_key=(stream,)).generate_state(2, np.uint32)
    return torch.Generator().manual_seed(int(state[0]) << 31 | int(state[1]) >> 1)


@dataclass(frozen=True, kw_only=True)
class TaskConfig:
    """Base of all task configs: split sizes plus a type check of every field.

    Subclasses add their difficulty parameters as further fields and validate their
    values in ``_validate`` (raising ``ValueError`` naming the parameter).
    """

    num_train: int = 12_800
    num_test: int = 1_280

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for field in dataclasses.fields(self):
            _check_type(type(self).__name__, field.name, getattr(self, field.name), hints[field.name])
        for name in ("num_train", "num_test"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{type(self).__name__}.{name} must be >= 1, got {value}")
        self._validate()

    def _validate(self) -> None:
        """Check the task-specific parameter values; raise ``ValueError`` naming the bad one."""


def _check_type(owner: str, name: str, value: object, hint: object) -> None:
    # Protocol YAML hands over plain scalars; reject mistyped ones here rather than deep in
    # tensor code. bool is excluded from int because True would silently become 1.
    allowed = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
    for kind in allowed:
        if kind is type(None) and value is None:
            return
        if kind in (bool, int, float, str) and is_kind(value, kind):
            return
    names = " | ".join(getattr(k, "__name__", str(k)) for k in allowed)
    raise ValueError(f"{owner}.{name} must be {names}, got {value!r} ({type(value).__name__})")



@dataclass(frozen=True)
class TaskData:
    """Generated data of one task.

    Attributes:
        name: registry name of the task.
        train_inputs, train_targets: ``[N_train, T_train]`` ``torch.long``.
        test_inputs, test_targets: ``[N_test, T_test]`` ``torch.long``.
        vocab_size: every input token lies in ``[0, vocab_size)``; every target lies in
            ``[0, vocab_size)`` or equals :data:`IGNORE_INDEX`.
        seq_len: ``max(T_train, T_test)``, the longest sequence a model must accept.
        metrics: names of the metrics the task is reported with (``"accuracy"`` is the
            accuracy over scored target positions).
    """

    name: str
    train_inputs: Tensor
    train_targets: Tensor
    test_inputs: Tensor
    test_targets: Tensor
    vocab_size: int
    seq_len: int
    metrics: tuple[str, ...] = ("accuracy",)

    def __post_init__(self) -> None:
        for split in ("train", "test"):
            inputs, targets = getattr(self, f"{split}_inputs"), getattr(self, f"{split}_targets")
            if inputs.dtype != torch.long or targets.dtype != torch.long:
                raise ValueError(f"{self.name} {split}: inputs and targets must be torch.long")
            if inputs.dim() != 2 or inputs.shape != targets.shape:
                raise ValueError(
                    f"{self.name} {split}: inputs {tuple(inputs.shape)} and targets "
                    f"{tuple(targets.shape)} must both be [N, T]"
                )
            if ((inputs < 0) | (inputs >= self.vocab_size)).any():
                raise ValueError(f"{self.name} {split}: input token outside [0, {self.vocab_size})")
            if ((targets != IGNORE_INDEX) & ((targets < 0) | (targets >= self.vocab_size))).any():
                raise ValueError(f"{self.name} {split}: target outside [0, {self.vocab_size}) and != -100")


class Task(ABC):
    """A seeded, deterministic generator of one synthetic task.

    Subclasses set ``name`` (registry name), ``config_cls`` and implement ``vocab_size``
    and ``_sample``. Build one with ``Task(config)`` or ``make_task(name, **params)``.
    """

    name: ClassVar[str]
    config_cls: ClassVar[type[TaskConfig]]
    metrics: ClassVar[tuple[str, ...]] = ("accuracy",)

    def __init__(self, config: TaskConfig | None = None) -> None:
        if config is None:
            config = self.config_cls()
        if not isinstance(config, self.config_cls):
            raise ValueError(f"{self.name} needs a {self.config_cls.__name__}, got {type(config).__name__}")
        self.config = config

    @property
    @abstractmethod
    def vocab_size(self) -> int:
        """Number of token ids the task uses (inputs and targets)."""

    def generate(self, num_train: int | None = None, num_test: int | None = None, seed: int = 0) -> TaskData:
        """Generate the train and test splits.

        Args:
            num_train: number of train sequences; ``None`` takes ``config.num_train``.
            num_test: number of test sequences; ``None`` takes ``config.num_test``.
            seed: the same seed gives identical tensors; the two splits use independent
                generator streams derived from it.

        Returns:
            TaskData with ``[N, T]`` ``torch.long`` inputs/targets per split.
        """
        n_train = self.config.num_train if num_train is None else num_train
        n_test = self.config.num_test if num_test is None else num_test
        for label, count in (("num_train", n_train), ("num_test", n_test)):
            if count is not None and count < 1:
                raise ValueError(f"{self.name}: {label} must be >= 1, got {count}")
        train = self._sample(n_train, split_generator(seed, _TRAIN_STREAM), train=True)
        test = self._sample(n_test, split_generator(seed, _TEST_STREAM), train=False)
        return TaskData(
            name=self.name,
            train_inputs=train[0],
            train_targets=train[1],
            test_inputs=test[0],
            test_targets=test[1],
            vocab_size=self.vocab_size,
            seq_len=max(train[0].shape[1], test[0].shape[1]),
            metrics=self.metrics,
        )

    @abstractmethod
    def _sample(self, n: int | None, generator: torch.Generator, train: bool) -> tuple[Tensor, Tensor]:
        """Return ``(inputs, targets)`` of ``n`` sequences of one split, ``[n, T]`` each.

        ``n`` is ``None`` only where the config allows it (byte-level LM: every window).
        """
