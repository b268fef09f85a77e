"""Synthetic task generators and their registry.

A protocol names a task and its parameters; ``make_task(name, **params)`` builds it and
``task.generate(num_train, num_test, seed)`` returns a :class:`TaskData` with
``[N, T]`` ``torch.long`` inputs/targets per split (-100 marks unscored targets).

Registered tasks (``TASKS``): the six MAD tasks (``in_context_recall``,
``fuzzy_in_context_recall``, ``noisy_in_context_recall``, ``selective_copying``,
``compression``, ``memorization``), Zoology's ``mqar``, the state-tracking tasks
``parity``, ``modular_addition``, ``s3_composition``, ``s5_composition``,
``induction_heads``, ``copying`` and ``byte_lm`` (next-byte prediction on a text file).
"""

from __future__ import annotations

import dataclasses

from dsf_search.suggest import did_you_mean
from dsf_search.tasks.base import IGNORE_INDEX, Task, TaskConfig, TaskData
from dsf_search.tasks.compression import Compression, CompressionConfig
from dsf_search.tasks.copying import Copying, CopyingConfig, SelectiveCopying, SelectiveCopyingConfig
from dsf_search.tasks.fuzzy_recall import FuzzyInContextRecall, FuzzyInContextRecallConfig
from dsf_search.tasks.induction import InductionHeads, InductionHeadsConfig
from dsf_search.tasks.memorization import Memorization, MemorizationConfig
from dsf_search.tasks.mqar import MQAR, MQARConfig
from dsf_search.tasks.recall import (
    InContextRecall,
    InContextRecallConfig,
    NoisyInContextRecall,
    NoisyInContextRecallConfig,
)
from dsf_search.tasks.state_tracking import (
    ModularAddition,
    ModularAdditionConfig,
    Parity,
    PermutationConfig,
    S3Composition,
    S5Composition,
    StateTrackingConfig,
)
from dsf_search.tasks.text import ByteLM, ByteLMConfig, bits_per_byte

TASKS: dict[str, type[Task]] = {
    cls.name: cls
    for cls in (
        InContextRecall,
        FuzzyInContextRecall,
        NoisyInContextRecall,
        SelectiveCopying,
        Compression,
        Memorization,
        MQAR,
        Parity,
        ModularAddition,
        S3Composition,
        S5Composition,
        InductionHeads,
        Copying,
        ByteLM,
    )
}


def make_task(name: str, **params: object) -> Task:
    """Build the registered task ``name`` with config parameters ``params``.

    Raises:
        ValueError: unknown task name or parameter (with close matches), a missing
            required parameter, or a parameter of the wrong type or out of range.
    """
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}{did_you_mean(name, TASKS)}; known tasks: {', '.join(sorted(TASKS))}")
    cls = TASKS[name]
    fields = {f.name: f for f in dataclasses.fields(cls.config_cls)}
    unknown = [key for key in params if key not in fields]
    if unknown:
        hints = "".join(f"\n  {key!r}{did_you_mean(key, fields)}" for key in unknown)
        raise ValueError(f"unknown parameter(s) for task {name!r}:{hints}\nvalid parameters: {', '.join(fields)}")
    missing = [
        key
        for key, f in fields.items()
        if key not in params and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ValueError(f"task {name!r} needs parameter(s): {', '.join(missing)}")
    return cls(cls.config_cls(**params))




__all__ = [
    "IGNORE_INDEX",
    "TASKS",
    "ByteLM",
    "ByteLMConfig",
    "Compression",
    "CompressionConfig",
    "Copying",
    "CopyingConfig",
    "FuzzyInContextRecall",
    "FuzzyInContextRecallConfig",
    "InContextRecall",
    "InContextRecallConfig",
    "InductionHeads",
    "InductionHeadsConfig",
    "MQAR",
    "MQARConfig",
    "Memorization",
    "MemorizationConfig",
    "ModularAddition",
    "ModularAdditionConfig",
    "NoisyInContextRecall",
    "NoisyInContextRecallConfig",
    "Parity",
    "PermutationConfig",
    "S3Composition",
    "S5Composition",
    "SelectiveCopying",
    "SelectiveCopyingConfig",
    "StateTrackingConfig",
    "Task",
    "TaskConfig",
    "TaskData",
    "bits_per_byte",
    "make_task",
]
