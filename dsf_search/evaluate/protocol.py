"""Evaluation protocols: the YAML files in evaluators/ that say how a candidate is judged.

A protocol names the tasks a candidate is trained on (with their difficulty settings), the
training budget and optimizer grid, the per-trial time budget, the resources one evaluation
needs, the model defaults imposed on a preset, and the efficiency measurement. It derives the
metrics it produces (``Protocol.metrics``: name -> "maximize" | "minimize"), so a search space
can name them as objectives.

Format (every key but ``name`` optional; ``tasks`` or ``efficiency`` must be present)::

    name: quick
    description: free text
    tasks:
      - task: in_context_recall          # a registered task (dsf_search.tasks.TASKS)
        label: recall                    # metric suffix (acc.recall); default: the task name
        params: {seq_len: 64, num_train: 2000}   # task config parameters (sizes included)
        vary: {seq_len: [128, 256]}      # MAD difficulty settings: the baseline (params) plus
                                         # one run per listed value, one parameter at a time
        training: {max_steps: 600}       # overrides of the protocol-wide training keys
    training:
      batch_size: 64
      max_steps: 500          # or epochs: N (passes over the train split); not both
      lr: [1.0e-3, 3.0e-3]    # a number or a grid; the best test accuracy over the grid counts
      weight_decay: [0.0, 0.1]  # AdamW, on weight matrices, conv kernels and embeddings only: never on
                                # biases, norm gains, A_log / Lambda / decay exponents, Delta's bias or
                                # the skip D (the Mamba/Griffin/xLSTM recipes; evaluate/train.py `decays`)
      warmup_fraction: 0.05   # linear warmup over this fraction of the steps, then cosine
      min_lr: 1.0e-6          # cosine floor
      grad_clip: 1.0          # max global gradient norm (0 = off)
      betas: [0.9, 0.98]
      eval_every: 100         # steps between test evaluations (early stop is checked there)
      eval_batch_size: 256
      target_accuracy: 0.999  # early stop once the test accuracy reaches it (null = never)
    timeout_s: 120            # per-trial wall-clock budget (null = none)
    resources: {cpus: 1, gpus: 0}
    model_defaults: {d_model: 64, n_layers: 2}   # imposed on presets (vocab comes from the tasks)
    efficiency: {context_length: 512, batch_size: 4, train_steps: 3, decode_tokens: 16}
    cost_length: 2048         # context length of the analytic costs (default: efficiency's, else 2048)
    seeds: 1                  # independent trainings per candidate (model init and batch order; the
                              # data split stays that of the first seed); metrics are their mean,
                              # with M.std, M.ci_low, M.ci_high (95% Student t) when seeds > 1

Errors name ``file:line``, the key path and what is wrong; unknown keys come with close
matches, and every error of a file is reported at once (``ProtocolError.errors``).
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsf_search.core.spec import ModelSpec
from dsf_search.grammar import (INVALID, FileErrors, Node, Problem, Problems, Reader, allowed_list, at_least,
                                between, did_you_mean, parse, positive, read)
from dsf_search.grammar.limits import SIZE_CEILINGS

MAXIMIZE, MINIMIZE = "maximize", "minimize"

# Per-task metrics: task metric name (Task.metrics) -> (prefix of the protocol metric, direction).
TASK_METRICS: dict[str, tuple[str, str]] = {
    "accuracy": ("acc", MAXIMIZE),
    "bits_per_byte": ("bpb", MINIMIZE),
}
QUALITY = "quality"
EFFICIENCY_METRICS: dict[str, str] = {
    "train_tokens_per_s": MAXIMIZE,
    "decode_ms_per_token": MINIMIZE,
    "peak_memory_mb": MINIMIZE,
}
COST_METRICS: dict[str, str] = {"params": MINIMIZE, "state_bytes": MINIMIZE, "flops_per_token": MINIMIZE}
DEFAULT_COST_LENGTH = 2048
MAX_COST_LENGTH = 2**31  # tokens of context an analytic cost may assume
MAX_LENGTH = 1 << 24  # tokens (and batch sizes, steps) of an efficiency measurement

# model_defaults keys: the ModelSpec fields a protocol may impose, plus n_layers.
MODEL_DEFAULT_TYPES: dict[str, type] = {
    "d_model": int,
    "n_layers": int,
    "vocab_size": int,
    "channel_mixer": str,
    "mlp_ratio": float,
    "norm": str,
    "max_len": int,
    "tie_embeddings": bool,
}


class ProtocolError(FileErrors):
    """A malformed protocol file; ``problems`` lists every problem (file, line, key path) in file
    order, ``errors`` the same as ``file:line: key: message`` lines."""

    def __init__(self, problems: list[Problem]):
        super().__init__(problems, "invalid evaluation protocol:")

    @property
    def errors(self) -> list[str]:
        return [str(p) for p in self.problems]


@dataclass(frozen=True)
class TrainConfig:
    """Training budget and optimizer grid of one task (see the module docstring for the keys).

    With neither ``max_steps`` nor ``epochs`` a run is one epoch.
    """

    batch_size: int = 64
    max_steps: int | None = None
    epochs: int | None = None
    lr: tuple[float, ...] = (1e-3,)
    weight_decay: tuple[float, ...] = (0.0,)
    warmup_fraction: float = 0.05
    min_lr: float = 1e-6
    grad_clip: float = 1.0
    betas: tuple[float, float] = (0.9, 0.98)
    eval_every: int = 100
    eval_batch_size: int = 256
    target_accuracy: float | None = 0.999

    def steps(self, num_train: int) -> int:
        """Optimizer steps for a train split of ``num_train`` sequences."""
        if self.max_steps is not None:
            return self.max_steps
        epochs = 1 if self.epochs is None else self.epochs
        return epochs * -(-num_train // self.batch_size)

    def grid(self) -> list[tuple[float, float]]:
        """Every (lr, weight_decay) pair to train with."""
        return [(lr, wd) for lr in self.lr for wd in self.weight_decay]


@dataclass(frozen=True)
class TaskSetting:
    """One difficulty setting of a task: the full parameters passed to ``make_task``."""

    id: str
    params: dict[str, Any]
    vocab_size: int


@dataclass(frozen=True)
class TaskEntry:
    """A task of the protocol: its label, registry name, settings and training."""

    label: str
    task: str
    settings: tuple[TaskSetting, ...]
    training: TrainConfig
    metrics: tuple[str, ...]


@dataclass(frozen=True)
class EfficiencyConfig:
    """How efficiency is measured: training throughput on [batch_size, context_length] batches,
    decode latency per token after a prompt of context_length tokens, peak memory of training."""

    context_length: int = 512
    batch_size: int = 4
    train_steps: int = 3
    decode_tokens: int = 16


@dataclass(frozen=True)
class Resources:
    """What one evaluation needs from the executor."""

    cpus: int = 1
    gpus: float = 0.0


@dataclass(frozen=True)
class Protocol:
    """A validated evaluation protocol (build it with :func:`load_protocol` or :func:`parse_protocol`)."""

    name: str
    description: str = ""
    tasks: tuple[TaskEntry, ...] = ()
    timeout_s: float | None = None
    resources: Resources = field(default_factory=Resources)
    model_defaults: dict[str, Any] = field(default_factory=dict)
    efficiency: EfficiencyConfig | None = None
    cost_length: int = DEFAULT_COST_LENGTH
    seeds: int = 1
    source: str = "<string>"

    @property
    def metrics(self) -> dict[str, str]:
        """Every metric this protocol produces -> its natural direction."""
        out: dict[str, str] = {}
        for entry in self.tasks:
            for name in entry.metrics:
                prefix, direction = TASK_METRICS[name]
                out[f"{prefix}.{entry.label}"] = direction
        if self.tasks:
            out[QUALITY] = MAXIMIZE
        if self.efficiency is not None:
            out.update(EFFICIENCY_METRICS)
        out.update(COST_METRICS)
        return out

    @property
    def vocab_size(self) -> int:
        """Vocabulary of the candidate's reported model: large enough for every task setting
        (each setting trains with its own task vocabulary), else ``model_defaults.vocab_size``."""
        sizes = [s.vocab_size for entry in self.tasks for s in entry.settings]
        return max(sizes) if sizes else int(self.model_defaults.get("vocab_size", ModelSpec().vocab_size))


def load_protocol(path: str | Path) -> Protocol:
    """Read and validate the protocol YAML at ``path``.

    Raises:
        ProtocolError: the file is missing, not YAML, or malformed (every problem, file:line).
    """
    path = Path(path)
    problems = Problems(str(path))
    root = read(path, problems, "protocol", empty=_EMPTY)
    return _validated(root, problems, path.parent)


def parse_protocol(text: str, source: str = "<string>", base_dir: Path | None = None) -> Protocol:
    """Validate protocol YAML ``text``; ``source`` names it in errors, ``base_dir`` anchors
    relative file parameters (byte_lm's ``path``)."""
    problems = Problems(source)
    return _validated(parse(text, problems, empty=_EMPTY), problems, base_dir or Path("."))


def _validated(root: Node | None, problems: Problems, base_dir: Path) -> Protocol:
    protocol = _ProtocolReader(problems, base_dir).protocol(root) if root is not None else None
    if problems or protocol is None:
        raise ProtocolError(problems.items)
    return protocol


_EMPTY = "the protocol is empty"
_TOP_KEYS = ("name", "description", "tasks", "training", "timeout_s", "resources", "model_defaults",
             "efficiency", "cost_length", "seeds")
_TASK_KEYS = ("task", "label", "params", "vary", "training")
_TRAIN_KEYS = tuple(f.name for f in dataclasses.fields(TrainConfig))
_EFFICIENCY_KEYS = tuple(f.name for f in dataclasses.fields(EfficiencyConfig))
_RESOURCE_KEYS = tuple(f.name for f in dataclasses.fields(Resources))


class _ProtocolReader(Reader):
    """The protocol grammar on the shared reader: every error with its line and key path."""

    def __init__(self, problems: Problems, base_dir: Path):
        super().__init__(problems)
        self.base_dir = base_dir

    def numbers(self, node: Node, check: Callable[[Any], str | None]) -> Any:
        """A number or a non-empty list of numbers, as a tuple of floats."""
        items = node.value if node.is_list else [node]
        if not items:
            self.error(node, "expected a number or a non-empty list of numbers, got an empty list")
            return INVALID
        values = [self.scalar(item, float, check, path=node.path) for item in items]
        return INVALID if INVALID in values else tuple(values)

    def scalar(self, node: Node, kind: type, check: Callable[[Any], str | None] | None = None,
               optional: bool = False, path: str | None = None) -> Any:
        """The shared scalar check; `path` names a list item by its list (``training.lr``)."""
        if path is not None:
            node = dataclasses.replace(node, path=path)
        return super().scalar(node, kind, check, optional)

    # --- sections ---------------------------------------------------------------------------

    def protocol(self, root: Node) -> Protocol | None:
        keys = self.mapping(root, _TOP_KEYS)
        if keys is None:
            return None
        values: dict[str, Any] = {}
        if "name" not in keys:
            self.error(root, "missing required key", path="name")
        else:
            values["name"] = self.scalar(keys["name"], str, _nonempty)
        if "description" in keys:
            values["description"] = self.scalar(keys["description"], str)
        if "timeout_s" in keys:
            values["timeout_s"] = self.scalar(keys["timeout_s"], float, positive, optional=True)
        if "resources" in keys:
            values["resources"] = self.resources(keys["resources"])
        if "model_defaults" in keys:
            values["model_defaults"] = self.model_defaults(keys["model_defaults"])
        if "efficiency" in keys:
            values["efficiency"] = self.efficiency(keys["efficiency"])
        training = self.training(keys["training"], TrainConfig()) if "training" in keys else TrainConfig()
        if "tasks" in keys:
            values["tasks"] = self.tasks(keys["tasks"], training)
        if "cost_length" in keys:
            values["cost_length"] = self.scalar(keys["cost_length"], int, between(1, MAX_COST_LENGTH))
        elif isinstance(values.get("efficiency"), EfficiencyConfig):
            values["cost_length"] = values["efficiency"].context_length
        if "seeds" in keys:
            values["seeds"] = self.scalar(keys["seeds"], int, _at_most_seeds)
        if "tasks" not in keys and "efficiency" not in keys:
            self.error(root, "a protocol needs tasks (training) or an efficiency section, or both", path="tasks")
        if self.problems:  # every INVALID value has recorded its error
            return None
        return Protocol(source=self.problems.file, **values)

    def resources(self, node: Node) -> Any:
        keys = self.mapping(node, _RESOURCE_KEYS)
        if keys is None:
            return INVALID
        values = {}
        if "cpus" in keys:
            values["cpus"] = self.scalar(keys["cpus"], int, at_least(1))
        if "gpus" in keys:
            values["gpus"] = self.scalar(keys["gpus"], float, at_least(0))
        return INVALID if INVALID in values.values() else Resources(**values)

    def model_defaults(self, node: Node) -> Any:
        keys = self.mapping(node, tuple(MODEL_DEFAULT_TYPES))
        if keys is None:
            return INVALID
        values = {}
        for name, value_node in keys.items():
            kind = MODEL_DEFAULT_TYPES[name]
            check = between(1 if kind is int else 0, SIZE_CEILINGS[name]) if name in SIZE_CEILINGS else None
            values[name] = self.scalar(value_node, kind, check)
        if INVALID in values.values():
            return INVALID
        # Choices (channel_mixer, norm, ...) are checked by ModelSpec itself, one key at a time.
        for name, value in values.items():
            if name == "n_layers":
                continue
            try:
                ModelSpec(**{name: value})
            except ValueError as err:
                self.error(keys[name], str(err).split(": ", 1)[-1])
                return INVALID
        return values

    def efficiency(self, node: Node) -> Any:
        keys = self.mapping(node, _EFFICIENCY_KEYS)
        if keys is None:
            return INVALID
        values = {name: self.scalar(v, int, between(1, MAX_LENGTH)) for name, v in keys.items()}
        return INVALID if INVALID in values.values() else EfficiencyConfig(**values)

    def training(self, node: Node, base: TrainConfig) -> Any:
        """``base`` with the keys of the mapping at ``node`` replaced."""
        keys = self.mapping(node, _TRAIN_KEYS)
        if keys is None:
            return INVALID
        values: dict[str, Any] = {}
        for name, value_node in keys.items():
            if name in ("batch_size", "eval_every", "eval_batch_size"):
                values[name] = self.scalar(value_node, int, at_least(1))
            elif name in ("max_steps", "epochs"):
                values[name] = self.scalar(value_node, int, at_least(1), optional=True)
            elif name == "lr":
                values[name] = self.numbers(value_node, positive)
            elif name == "weight_decay":
                values[name] = self.numbers(value_node, at_least(0))
            elif name == "warmup_fraction":
                values[name] = self.scalar(value_node, float, between(0, 1))
            elif name in ("min_lr", "grad_clip"):
                values[name] = self.scalar(value_node, float, at_least(0))
            elif name == "target_accuracy":
                values[name] = self.scalar(value_node, float, between(0, 1), optional=True)
            elif name == "betas":
                betas = self.numbers(value_node, _below_one)
                if betas is not INVALID and len(betas) != 2:
                    self.error(value_node, f"expected two numbers [beta1, beta2], got {len(betas)}")
                    betas = INVALID
                values[name] = betas
        if INVALID in values.values() or base is INVALID:
            return INVALID
        if values.get("max_steps") is not None and values.get("epochs") is not None:
            self.error(keys["epochs"], "give max_steps or epochs, not both", line=keys["epochs"].key_line)
            return INVALID
        if ("max_steps" in values) != ("epochs" in values):
            # One budget given here replaces the other one inherited from ``base``.
            other = "epochs" if "max_steps" in values else "max_steps"
            values[other] = None
        return dataclasses.replace(base, **values)

    def tasks(self, node: Node, training: Any) -> Any:
        items = self.list_of(node, "tasks")
        if items is None:
            return INVALID
        labels: dict[str, int] = {}
        entries = [self.task(item, i, training, labels) for i, item in enumerate(items)]
        return INVALID if INVALID in entries else tuple(entries)

    def task(self, node: Node, index: int, training: Any, labels: dict[str, int]) -> Any:
        """Task ``index`` of the list; ``labels`` maps the labels seen so far to their index."""
        from dsf_search.tasks import TASKS  # the generators import torch: only protocols with tasks need them

        keys = self.mapping(node, _TASK_KEYS)
        if keys is None:
            return INVALID
        if "task" not in keys:
            self.error(node, "missing required key (the registered task name)", path=f"{node.path}.task")
            return INVALID
        task_node = keys["task"]
        name = self.scalar(task_node, str)
        if name is INVALID:
            return INVALID
        if name not in TASKS:
            self.error(task_node, f"unknown task {name!r}{did_you_mean(name, TASKS)}; known: {allowed_list(sorted(TASKS))}")
            return INVALID
        label = self.scalar(keys["label"], str, _identifier) if "label" in keys else name
        if label in labels:
            self.error(keys.get("label", task_node), f"{label!r} is already used by tasks[{labels[label]}]; "
                                                      "give each a distinct label", path=f"{node.path}.label")
        elif label is not INVALID:
            labels[label] = index
        config_fields = _float_fields(TASKS[name].config_cls)
        params = self.task_params(keys["params"], config_fields) if "params" in keys else {}
        vary = self.vary(keys["vary"], config_fields) if "vary" in keys else {}
        task_training = self.training(keys["training"], training) if "training" in keys else training
        if INVALID in (label, params, vary):
            return INVALID
        params_path = f"{node.path}.params"
        settings = [("baseline", params, keys.get("params", task_node), params_path)]
        for param, items in vary.items():
            for item, value in items:
                settings.append((f"{param}={value}", {**params, param: value}, item, f"{node.path}.vary.{param}"))
        built = [self.setting(name, *setting) for setting in settings]
        if INVALID in built or task_training is INVALID:
            return INVALID
        metrics = tuple(m for m in TASKS[name].metrics if m in TASK_METRICS)
        return TaskEntry(label=label, task=name, settings=tuple(built), training=task_training, metrics=metrics)

    def task_params(self, node: Node, config_fields: dict[str, bool]) -> Any:
        """Parameter values as written (the task config checks them); ``config_fields`` maps each
        parameter to whether it takes a float."""
        keys = self.mapping(node, tuple(config_fields))
        if keys is None:
            return INVALID
        return {name: _task_value(value_node, config_fields[name]) for name, value_node in keys.items()}

    def vary(self, node: Node, config_fields: dict[str, bool]) -> Any:
        keys = self.mapping(node, tuple(config_fields))
        if keys is None:
            return INVALID
        out = {}
        for name, value_node in keys.items():
            items = self.list_of(value_node, "values")
            if items is None:
                return INVALID
            out[name] = [(item, _task_value(item, config_fields[name])) for item in items]
        return out

    def setting(self, task: str, setting_id: str, params: dict[str, Any], node: Node, path: str) -> Any:
        """Build the task once, so a bad parameter value is reported here and not mid-search."""
        from dsf_search.tasks import make_task

        if task == "byte_lm" and isinstance(params.get("path"), str):
            params = {**params, "path": str(self.base_dir / Path(params["path"]).expanduser())}
        try:
            vocab = make_task(task, **params).vocab_size
        except (ValueError, FileNotFoundError) as err:
            self.error(node, f"{task} ({setting_id}): {err}", path=path)
            return INVALID
        return TaskSetting(id=setting_id, params=params, vocab_size=vocab)


def _float_fields(config_cls: type) -> dict[str, bool]:
    """Each field of a task config -> whether it accepts a float."""
    hints = typing.get_type_hints(config_cls)
    return {f.name: float in (typing.get_args(hints[f.name]) or (hints[f.name],)) for f in dataclasses.fields(config_cls)}


def _task_value(node: Node, takes_float: bool) -> Any:
    """The value as written; a plain 1e-2, which YAML 1.1 reads as a string, is the number
    when the parameter takes a float."""
    value = node.plain_value()
    if takes_float and isinstance(value, str) and node.plain:
        try:
            return float(value)
        except ValueError:
            return value
    return value


MAX_SEEDS = 100  # more trainings of one candidate than any interval needs: a typo, not a plan


def _at_most_seeds(value: int) -> str | None:
    return None if 1 <= value <= MAX_SEEDS else f"must be between 1 and {MAX_SEEDS}"


def _below_one(value: float) -> str | None:
    return None if 0.0 <= value < 1.0 else "must be in [0, 1)"


def _nonempty(value: str) -> str | None:
    return None if value.strip() else "must not be empty"


def _identifier(value: str) -> str | None:
    ok = value and all(c.isalnum() or c in "_-" for c in value)
    return None if ok else "must be letters, digits, '_' or '-' (it names metrics)"
