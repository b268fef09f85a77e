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
import difflib
import math
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dsf_search.core.spec import ModelSpec
from dsf_search.errors import InputError
from dsf_search.grammar import error_line, error_text, read_yaml_file, scan_yaml
from dsf_search.grammar.limits import SIZE_CEILINGS
from dsf_search.tasks import TASKS, make_task

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


class ProtocolError(InputError):
    """A malformed protocol file; ``errors`` holds one ``file:line: key: message`` per problem."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("invalid evaluation protocol:\n  " + "\n  ".join(errors))


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
    text, flaw = read_yaml_file(path)
    if text is None:
        raise ProtocolError([f"{path}:{flaw.line}: <top>: cannot read protocol: {flaw.message}"])
    return parse_protocol(text, source=str(path), base_dir=path.parent)


def parse_protocol(text: str, source: str = "<string>", base_dir: Path | None = None) -> Protocol:
    """Validate protocol YAML ``text``; ``source`` names it in errors, ``base_dir`` anchors
    relative file parameters (byte_lm's ``path``)."""
    flaws = scan_yaml(text)
    if flaws:
        raise ProtocolError([f"{source}:{f.line}: {f.path or '<top>'}: {f.message}" for f in flaws])
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        raise ProtocolError([f"{source}:{error_line(err, text)}: <top>: not valid YAML: {error_text(err)}"]) from None
    reader = _Reader(source, base_dir or Path("."))
    protocol = reader.protocol(root)
    if reader.errors or protocol is None:
        raise ProtocolError(reader.errors)
    return protocol


_TOP_KEYS = ("name", "description", "tasks", "training", "timeout_s", "resources", "model_defaults",
             "efficiency", "cost_length", "seeds")
_TASK_KEYS = ("task", "label", "params", "vary", "training")
_TRAIN_KEYS = tuple(f.name for f in dataclasses.fields(TrainConfig))
_EFFICIENCY_KEYS = tuple(f.name for f in dataclasses.fields(EfficiencyConfig))
_RESOURCE_KEYS = tuple(f.name for f in dataclasses.fields(Resources))

_Node = yaml.Node
_Pairs = dict[str, tuple[_Node, _Node]]


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=2)
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""


def _python(node: _Node) -> Any:
    """The value `safe_load` gives; for a scalar that cannot be constructed (a date like
    2024-13-45, an integer of 5,000 digits) the text as written, which the checks then refuse."""
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_document(node)
    except (yaml.YAMLError, ValueError, OverflowError):
        return node.value if isinstance(node, yaml.ScalarNode) else _Invalid
    finally:
        loader.dispose()


class _Reader:
    """Walks the composed YAML tree, collecting every error with its line and key path."""

    def __init__(self, source: str, base_dir: Path):
        self.source = source
        self.base_dir = base_dir
        self._found: list[tuple[int, str]] = []

    def error(self, node: _Node, key: str, message: str) -> None:
        self._found.append((node.start_mark.line + 1, f"{self.source}:{node.start_mark.line + 1}: {key or '<top>'}: {message}"))

    @property
    def errors(self) -> list[str]:
        """The errors found so far, in file order."""
        return [message for _, message in sorted(self._found, key=lambda found: found[0])]

    # --- generic shapes -------------------------------------------------------------------

    def mapping(self, node: _Node, key: str, allowed: tuple[str, ...]) -> _Pairs | None:
        """The key -> (key node, value node) pairs of a mapping; unknown keys are errors."""
        if not isinstance(node, yaml.MappingNode):
            self.error(node, key, f"expected a mapping, got {self._kind(node)}")
            return None
        pairs: _Pairs = {}
        for key_node, value_node in node.value:
            name = _python(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            path = f"{key}.{name}" if key else str(name)
            if not isinstance(name, str):
                self.error(key_node, key or "<top>", f"keys must be strings, got {name!r}")
            elif name in pairs:
                self.error(key_node, path, "duplicate key")
            elif name not in allowed:
                self.error(key_node, path, f"unknown key{_suggest(name, allowed)}; allowed: {', '.join(allowed)}")
            else:
                pairs[name] = (key_node, value_node)
        return pairs

    @staticmethod
    def _kind(node: _Node) -> str:
        if isinstance(node, yaml.MappingNode):
            return "a mapping"
        if isinstance(node, yaml.SequenceNode):
            return "a list" if node.value else "an empty list"
        value = _python(node)
        shown = repr(value)
        return f"{type(value).__name__} {shown if len(shown) <= 60 else shown[:50] + '...' + shown[-6:]}"

    def scalar(self, node: _Node, key: str, kind: type, *, optional: bool = False,
               check: Callable[[Any], str | None] | None = None) -> Any:
        """The value of a scalar of type ``kind`` (int accepted for float; bool never a number),
        ``None`` when null is allowed; a failed ``check`` returns its message as an error."""
        value = _python(node) if isinstance(node, yaml.ScalarNode) else _Invalid
        if kind is float and isinstance(value, str) and node.style is None:
            # PyYAML (YAML 1.1) reads a plain 1e-3 as a string; a reader means the number.
            value = _float_or(value, value)
        if value is None and optional:
            return None
        ok = value is not _Invalid and (
            (kind is bool and isinstance(value, bool))
            or (kind is int and isinstance(value, int) and not isinstance(value, bool))
            or (kind is float and isinstance(value, (int, float)) and not isinstance(value, bool))
            or (kind is str and isinstance(value, str))
        )
        if not ok:
            expected = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}[kind]
            self.error(node, key, f"expected {expected}{' or null' if optional else ''}, got {self._kind(node)}")
            return _Invalid
        value = float(value) if kind is float else value
        problem = "must be a finite number" if kind is float and not math.isfinite(value) else None
        problem = problem or (check(value) if check else None)
        if problem:
            self.error(node, key, problem)
            return _Invalid
        return value

    def numbers(self, node: _Node, key: str, check: Callable[[Any], str | None]) -> Any:
        """A number or a non-empty list of numbers, as a tuple of floats."""
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        if not items:
            self.error(node, key, "expected a number or a non-empty list of numbers")
            return _Invalid
        values = [self.scalar(item, key, float, check=check) for item in items]
        return _Invalid if _Invalid in values else tuple(values)

    # --- sections ---------------------------------------------------------------------------

    def protocol(self, root: _Node | None) -> Protocol | None:
        if root is None:
            self._found.append((1, f"{self.source}:1: <top>: the protocol is empty"))
            return None
        pairs = self.mapping(root, "", _TOP_KEYS)
        if pairs is None:
            return None
        values: dict[str, Any] = {}
        if "name" not in pairs:
            self.error(root, "name", "missing required key")
        else:
            values["name"] = self.scalar(pairs["name"][1], "name", str, check=_nonempty)
        if "description" in pairs:
            values["description"] = self.scalar(pairs["description"][1], "description", str)
        if "timeout_s" in pairs:
            values["timeout_s"] = self.scalar(pairs["timeout_s"][1], "timeout_s", float, optional=True,
                                              check=_positive)
        if "resources" in pairs:
            values["resources"] = self.resources(pairs["resources"][1])
        if "model_defaults" in pairs:
            values["model_defaults"] = self.model_defaults(pairs["model_defaults"][1])
        if "efficiency" in pairs:
            values["efficiency"] = self.efficiency(pairs["efficiency"][1])
        training = self.training(pairs["training"][1], "training", TrainConfig()) if "training" in pairs else TrainConfig()
        if "tasks" in pairs:
            values["tasks"] = self.tasks(pairs["tasks"][1], training)
        if "cost_length" in pairs:
            values["cost_length"] = self.scalar(pairs["cost_length"][1], "cost_length", int, check=_within(1, MAX_COST_LENGTH))
        elif isinstance(values.get("efficiency"), EfficiencyConfig):
            values["cost_length"] = values["efficiency"].context_length
        if "seeds" in pairs:
            values["seeds"] = self.scalar(pairs["seeds"][1], "seeds", int, check=_at_most_seeds)
        if "tasks" not in pairs and "efficiency" not in pairs:
            self.error(root, "tasks", "a protocol needs tasks (training) or an efficiency section, or both")
        if self.errors:  # every _Invalid value has recorded its error
            return None
        return Protocol(source=self.source, **values)

    def resources(self, node: _Node) -> Any:
        pairs = self.mapping(node, "resources", _RESOURCE_KEYS)
        if pairs is None:
            return _Invalid
        values = {}
        if "cpus" in pairs:
            values["cpus"] = self.scalar(pairs["cpus"][1], "resources.cpus", int, check=_at_least(1))
        if "gpus" in pairs:
            values["gpus"] = self.scalar(pairs["gpus"][1], "resources.gpus", float, check=_at_least(0))
        return _Invalid if _Invalid in values.values() else Resources(**values)

    def model_defaults(self, node: _Node) -> Any:
        pairs = self.mapping(node, "model_defaults", tuple(MODEL_DEFAULT_TYPES))
        if pairs is None:
            return _Invalid
        values = {}
        for name, (_, value_node) in pairs.items():
            check = _within(1 if MODEL_DEFAULT_TYPES[name] is int else 0, SIZE_CEILINGS[name]) if name in SIZE_CEILINGS else None
            values[name] = self.scalar(value_node, f"model_defaults.{name}", MODEL_DEFAULT_TYPES[name], check=check)
        if _Invalid in values.values():
            return _Invalid
        # Choices (channel_mixer, norm, ...) are checked by ModelSpec itself, one key at a time.
        for name, value in values.items():
            if name == "n_layers":
                continue
            try:
                ModelSpec(**{name: value})
            except ValueError as err:
                self.error(pairs[name][1], f"model_defaults.{name}", str(err).split(": ", 1)[-1])
                return _Invalid
        return values

    def efficiency(self, node: _Node) -> Any:
        pairs = self.mapping(node, "efficiency", _EFFICIENCY_KEYS)
        if pairs is None:
            return _Invalid
        values = {name: self.scalar(v, f"efficiency.{name}", int, check=_within(1, MAX_LENGTH))
                  for name, (_, v) in pairs.items()}
        return _Invalid if _Invalid in values.values() else EfficiencyConfig(**values)

    def training(self, node: _Node, key: str, base: TrainConfig) -> Any:
        """``base`` with the keys of the mapping at ``node`` replaced."""
        pairs = self.mapping(node, key, _TRAIN_KEYS)
        if pairs is None:
            return _Invalid
        values: dict[str, Any] = {}
        for name, (_, value_node) in pairs.items():
            path = f"{key}.{name}"
            if name in ("batch_size", "eval_every", "eval_batch_size"):
                values[name] = self.scalar(value_node, path, int, check=_at_least(1))
            elif name in ("max_steps", "epochs"):
                values[name] = self.scalar(value_node, path, int, optional=True, check=_at_least(1))
            elif name == "lr":
                values[name] = self.numbers(value_node, path, _positive)
            elif name == "weight_decay":
                values[name] = self.numbers(value_node, path, _at_least(0))
            elif name == "warmup_fraction":
                values[name] = self.scalar(value_node, path, float, check=_fraction)
            elif name in ("min_lr", "grad_clip"):
                values[name] = self.scalar(value_node, path, float, check=_at_least(0))
            elif name == "target_accuracy":
                values[name] = self.scalar(value_node, path, float, optional=True, check=_fraction)
            elif name == "betas":
                betas = self.numbers(value_node, path, _below_one)
                if betas is not _Invalid and len(betas) != 2:
                    self.error(value_node, path, f"expected two numbers [beta1, beta2], got {len(betas)}")
                    betas = _Invalid
                values[name] = betas
        if _Invalid in values.values() or base is _Invalid:
            return _Invalid
        if values.get("max_steps") is not None and values.get("epochs") is not None:
            self.error(pairs["epochs"][0], f"{key}.epochs", "give max_steps or epochs, not both")
            return _Invalid
        if ("max_steps" in values) != ("epochs" in values):
            # One budget given here replaces the other one inherited from ``base``.
            other = "epochs" if "max_steps" in values else "max_steps"
            values[other] = None
        return dataclasses.replace(base, **values)

    def tasks(self, node: _Node, training: Any) -> Any:
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            self.error(node, "tasks", f"expected a non-empty list of tasks, got {self._kind(node)}")
            return _Invalid
        labels: dict[str, int] = {}
        entries = [self.task(item, i, training, labels) for i, item in enumerate(node.value)]
        return _Invalid if _Invalid in entries else tuple(entries)

    def task(self, node: _Node, index: int, training: Any, labels: dict[str, int]) -> Any:
        """Task ``index`` of the list; ``labels`` maps the labels seen so far to their index."""
        key = f"tasks[{index}]"
        pairs = self.mapping(node, key, _TASK_KEYS)
        if pairs is None:
            return _Invalid
        if "task" not in pairs:
            self.error(node, f"{key}.task", "missing required key (the registered task name)")
            return _Invalid
        task_node = pairs["task"][1]
        name = self.scalar(task_node, f"{key}.task", str)
        if name is _Invalid:
            return _Invalid
        if name not in TASKS:
            self.error(task_node, f"{key}.task", f"unknown task {name!r}{_suggest(name, TASKS)}; known: {', '.join(sorted(TASKS))}")
            return _Invalid
        label = name
        if "label" in pairs:
            label = self.scalar(pairs["label"][1], f"{key}.label", str, check=_identifier)
        if label in labels:
            self.error(pairs.get("label", pairs["task"])[1], f"{key}.label",
                       f"{label!r} is already used by tasks[{labels[label]}]; give each a distinct label")
        elif label is not _Invalid:
            labels[label] = index
        config_fields = _float_fields(TASKS[name].config_cls)
        params = self.task_params(pairs["params"][1], f"{key}.params", config_fields) if "params" in pairs else {}
        vary = self.vary(pairs["vary"][1], f"{key}.vary", config_fields) if "vary" in pairs else {}
        task_training = self.training(pairs["training"][1], f"{key}.training", training) if "training" in pairs else training
        if _Invalid in (label, params, vary):
            return _Invalid
        settings = [("baseline", params, pairs.get("params", pairs["task"])[1], f"{key}.params")]
        for param, (value_nodes, values) in vary.items():
            for value_node, value in zip(value_nodes, values):
                settings.append((f"{param}={value}", {**params, param: value}, value_node, f"{key}.vary.{param}"))
        built = [self.setting(name, *setting) for setting in settings]
        if _Invalid in built or task_training is _Invalid:
            return _Invalid
        metrics = tuple(m for m in TASKS[name].metrics if m in TASK_METRICS)
        return TaskEntry(label=label, task=name, settings=tuple(built), training=task_training, metrics=metrics)

    def task_params(self, node: _Node, key: str, config_fields: dict[str, bool]) -> Any:
        """Parameter values as written (the task config checks them); ``config_fields`` maps each
        parameter to whether it takes a float."""
        pairs = self.mapping(node, key, tuple(config_fields))
        if pairs is None:
            return _Invalid
        return {name: _task_value(value_node, config_fields[name]) for name, (_, value_node) in pairs.items()}

    def vary(self, node: _Node, key: str, config_fields: dict[str, bool]) -> Any:
        pairs = self.mapping(node, key, tuple(config_fields))
        if pairs is None:
            return _Invalid
        out = {}
        for name, (_, value_node) in pairs.items():
            if not isinstance(value_node, yaml.SequenceNode) or not value_node.value:
                self.error(value_node, f"{key}.{name}", f"expected a non-empty list of values, got {self._kind(value_node)}")
                return _Invalid
            out[name] = (value_node.value, [_task_value(v, config_fields[name]) for v in value_node.value])
        return out

    def setting(self, task: str, setting_id: str, params: dict[str, Any], node: _Node, key: str) -> Any:
        """Build the task once, so a bad parameter value is reported here and not mid-search."""
        if task == "byte_lm" and isinstance(params.get("path"), str):
            params = {**params, "path": str(self.base_dir / Path(params["path"]).expanduser())}
        try:
            vocab = make_task(task, **params).vocab_size
        except (ValueError, FileNotFoundError) as err:
            self.error(node, key, f"{task} ({setting_id}): {err}")
            return _Invalid
        return TaskSetting(id=setting_id, params=params, vocab_size=vocab)


class _InvalidType:
    """Marker of a value that failed validation (its error is already recorded)."""

    def __repr__(self) -> str:
        return "<invalid>"


_Invalid: Any = _InvalidType()


def _float_fields(config_cls: type) -> dict[str, bool]:
    """Each field of a task config -> whether it accepts a float."""
    hints = typing.get_type_hints(config_cls)
    return {f.name: float in (typing.get_args(hints[f.name]) or (hints[f.name],)) for f in dataclasses.fields(config_cls)}


def _task_value(node: _Node, takes_float: bool) -> Any:
    value = _python(node)
    if takes_float and isinstance(value, str) and isinstance(node, yaml.ScalarNode) and node.style is None:
        return _float_or(value, value)  # a plain 1e-2, which YAML 1.1 reads as a string
    return value


def _float_or(text: str, default: Any) -> Any:
    try:
        return float(text)
    except ValueError:
        return default


def _positive(value: float) -> str | None:
    return None if value > 0 else f"must be > 0, got {value}"


def _at_least(low: float) -> Callable[[float], str | None]:
    def check(value: float) -> str | None:
        return None if value >= low else f"must be >= {low}, got {value}"

    return check


MAX_SEEDS = 100  # more trainings of one candidate than any interval needs: a typo, not a plan


def _at_most_seeds(value: int) -> str | None:
    return None if 1 <= value <= MAX_SEEDS else f"must be between 1 and {MAX_SEEDS}, got {value}"


def _within(low: float, high: float) -> Callable[[float], str | None]:
    def check(value: float) -> str | None:
        return None if low <= value <= high else f"must be in [{low:g}, {high:g}], got {value:g}"

    return check


def _fraction(value: float) -> str | None:
    return None if 0.0 <= value <= 1.0 else f"must be in [0, 1], got {value}"


def _below_one(value: float) -> str | None:
    return None if 0.0 <= value < 1.0 else f"must be in [0, 1), got {value}"


def _nonempty(value: str) -> str | None:
    return None if value.strip() else "must not be empty"


def _identifier(value: str) -> str | None:
    ok = value and all(c.isalnum() or c in "_-" for c in value)
    return None if ok else f"must be letters, digits, '_' or '-' (it names metrics), got {value!r}"
