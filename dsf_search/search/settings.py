"""The sections of a space file besides `model` and `seeds`, read into the search plan:
constraints on analytic costs, objectives, the evaluator, the search settings (with the ladder
of screening protocols) and the design-check policy."""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsf_search.core.checks import CODES
from dsf_search.core.cost import analytic_cost
from dsf_search.core.spec import ModelSpec
from dsf_search.defaults import SAMPLERS
from dsf_search.evaluate.protocol import MAX_COST_LENGTH, Protocol, ProtocolError, load_protocol
from dsf_search.grammar.limits import MAX_PARALLELISM, MAX_SEED, MAX_TRIALS
from dsf_search.grammar import INVALID, Node, Problems, Reader, allowed_list, between, did_you_mean, read

COSTS = ("params", "state_bytes", "flops_per_token")
LENGTH_COSTS = ("state_bytes", "flops_per_token")
DIRECTIONS = ("maximize", "minimize")
STATISTICS = ("mean", "lower_bound")
DEFAULT_TRIALS = 50
DEFAULT_MAX_FAILURES = 20
_CONSTRAINT = re.compile(r"\s*(?P<cost>[A-Za-z_]\w*)\s*(?:\(\s*(?P<length>[^)]*?)\s*\))?\s*(?P<op>[<>=!]+)\s*(?P<bound>\S.*?)\s*")


@dataclass(frozen=True)
class Constraint:
    """`cost <= bound` or `cost >= bound` on an analytic cost at context length `length`."""

    cost: str
    op: str
    bound: float
    length: int

    @property
    def name(self) -> str:
        at = f"({self.length})" if self.cost in LENGTH_COSTS else ""
        bound = int(self.bound) if self.bound.is_integer() and abs(self.bound) < 1e15 else self.bound
        return f"{self.cost}{at} {self.op} {bound}"

    def value(self, spec: ModelSpec) -> float:
        return float(getattr(analytic_cost(spec, self.length), self.cost))

    def violation(self, spec: ModelSpec) -> float:
        """<= 0 when satisfied; otherwise the violation relative to the bound (so costs of
        different scales weigh alike in constraint-aware samplers)."""
        excess = self.value(spec) - self.bound if self.op == "<=" else self.bound - self.value(spec)
        return excess / max(abs(self.bound), 1.0)


def _looks_like_protocol(path: Path) -> bool:
    """True when `path` is a YAML mapping with a `tasks` key (a protocol, however broken, whose
    problems may be quoted) or text that is not YAML (the parser's message names a line, not its
    content). Anything else pointed at by `evaluator:` is not echoed."""
    problems = Problems(str(path))
    root = read(path, problems, "protocol")
    if root is None:
        return not any(p.message.startswith("cannot read") for p in problems.items)
    return root.is_mapping and "tasks" in root.value


@dataclass(frozen=True)
class Rung:
    """A screening rung of a fidelity ladder: its protocol, and which share of its candidates
    go on to the next rung (`keep`, at least `min` of them)."""

    evaluator: Path
    protocol: Protocol
    keep: float = 0.5
    min: int = 3


@dataclass(frozen=True)
class SearchSettings:
    """How the study runs: the Optuna sampler, the number of trials (seeds included), how many
    run at once, the sampler's random seed, after how many failed evaluations in a row the
    search stops (search/failures.py), the statistic objectives rank by over the protocol's
    seeds (`mean`, or `lower_bound`: the pessimistic end of the 95% interval), and the
    screening rungs of a fidelity ladder (before the space's own evaluator)."""

    sampler: str = "tpe"
    trials: int | None = DEFAULT_TRIALS
    parallelism: int = 1
    seed: int = 0
    max_failures: int = DEFAULT_MAX_FAILURES
    statistic: str = "mean"
    ladder: tuple[Rung, ...] = ()


@dataclass(frozen=True)
class CheckPolicy:
    """Design checks: the context length they assume, codes raised to errors, codes ignored."""

    length: int = 2048
    errors: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()


class SettingsReader(Reader):
    """Reads the non-model sections; each method records its problems and returns INVALID."""

    def evaluator(self, node: Node, space_file: Path) -> tuple[Path | None, Protocol | None]:
        """The protocol `evaluator:` names, relative to the space file, else to the cwd."""
        text = self.scalar(node, str)
        if text is INVALID:
            return None, None
        candidates = [Path(os.path.normpath(space_file.parent / text)), Path(text)]
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            tried = " and ".join(dict.fromkeys(str(p) for p in candidates))
            self.error(node, f"no evaluation protocol at {text!r} (tried {tried}); "
                             "paths are relative to the space file or the current directory")
            return None, None
        return path, self._protocol(path, node.line, node.path)

    def evaluator_file(self, path: Path) -> tuple[Path, Protocol | None]:
        """A protocol given outside the file (e.g. on the command line), relative to the cwd."""
        return path, self._protocol(path, 1, "evaluator")

    def _protocol(self, path: Path, line: int, key: str) -> Protocol | None:
        try:
            return load_protocol(path)
        except (ProtocolError, UnicodeDecodeError) as err:
            if isinstance(err, ProtocolError) and _looks_like_protocol(path):
                # The protocol's own problems, under its own file and line.
                self.problems.extend(err.problems)
                count = len(err.problems)
                self.problems.add(line, key, f"the evaluation protocol {str(path)!r} is invalid "
                                             f"({count} error{'s' if count != 1 else ''} in it, listed under its name)")
            else:  # some other file: name it, never echo what it holds
                self.problems.add(line, key, f"{str(path)!r} is not an evaluation protocol (a YAML mapping with "
                                             f"`tasks:`); its content is not shown")
            return None

    def constraints(self, node: Node, default_length: int) -> tuple[Constraint, ...] | Any:
        items = self.list_of(node, "constraints like 'params <= 2e5' or 'state_bytes(2048) <= 65536'")
        if items is None:
            return INVALID
        out = [self.constraint(item, default_length) for item in items]
        return INVALID if INVALID in out else tuple(out)

    def constraint(self, node: Node, default_length: int) -> Constraint | Any:
        text = self.scalar(node, str)
        if text is INVALID:
            return INVALID
        match = _CONSTRAINT.fullmatch(text)
        if match is None:
            self.error(node, f"expected 'COST <= NUMBER' or 'COST(LENGTH) >= NUMBER'; found {text!r}")
            return INVALID
        cost, op, length_text, bound_text = match["cost"], match["op"], match["length"], match["bound"]
        if cost not in COSTS:
            self.error(node, f"unknown cost {cost!r}{did_you_mean(cost, COSTS)}; the analytic costs are {allowed_list(COSTS)}")
            return INVALID
        if op not in ("<=", ">="):
            self.error(node, f"found operator {op!r}; constraints use <= or >=")
            return INVALID
        length = default_length
        if length_text is not None:
            if cost not in LENGTH_COSTS:
                self.error(node, f"{cost} does not depend on the context length; write '{cost} {op} ...'")
                return INVALID
            if not re.fullmatch(r"[0-9]{1,10}", length_text) or not 1 <= int(length_text) <= MAX_COST_LENGTH:
                self.error(node, f"the length in {cost}(...) must be an integer in [1, {MAX_COST_LENGTH}] "
                                 f"written in digits 0-9; found {length_text!r}")
                return INVALID
            length = int(length_text)
        try:
            bound = float(bound_text) if bound_text.isascii() else math.nan
        except ValueError:
            bound = math.nan
        if not math.isfinite(bound):
            self.error(node, f"the bound must be a finite number (e.g. 2e5, 65536); found {bound_text!r}")
            return INVALID
        return Constraint(cost, op, bound, length)

    def objectives(self, node: Node, protocol: Protocol | None) -> dict[str, str] | Any:
        """`{metric: direction}`, or a list of metrics (each with its natural direction)."""
        if node.is_list:
            entries = [(item, None) for item in self.list_of(node, "metric names") or []]
        elif node.is_mapping and node.value:
            entries = [(Node(name, child.key_line, f"{node.path}.{name}", child.key_line), child)
                       for name, child in node.value.items()]
        else:
            self.error(node, f"expected a mapping {{metric: maximize | minimize}} or a list of metrics; found {node.describe()}")
            return INVALID
        metrics = protocol.metrics if protocol else {}
        out: dict[str, str] = {}
        for name_node, direction_node in entries:
            name = self.scalar(name_node, str)
            direction = None
            if direction_node is not None:
                direction = self.scalar(direction_node, str, lambda v: None if v in DIRECTIONS else
                                        f"found {v!r}; allowed: {allowed_list(DIRECTIONS)}{did_you_mean(v, DIRECTIONS)}")
            if INVALID in (name, direction) or protocol is None:
                continue  # a missing protocol is reported at `evaluator`
            if name in out:
                self.error(name_node, f"{name!r} is listed twice; each objective once")
                continue
            if name not in metrics:
                self.error(name_node, f"the evaluator {protocol.name!r} does not produce {name!r}{did_you_mean(name, metrics)}; "
                                      f"its metrics: {allowed_list(metrics)}")
                continue
            if direction is not None and direction != metrics[name]:
                self.error(direction_node, f"{name} is better when {'higher' if metrics[name] == 'maximize' else 'lower'}; "
                                           f"found {direction}, expected {metrics[name]}")
                continue
            out[name] = metrics[name]
        return out

    def search(self, node: Node, space_file: Path) -> SearchSettings | Any:
        keys = self.mapping(node, ("sampler", "trials", "parallelism", "seed", "max_failures", "statistic", "ladder"))
        if keys is None:
            return INVALID
        values: dict[str, Any] = {}
        if "sampler" in keys:
            values["sampler"] = self.scalar(keys["sampler"], str, lambda v: None if v in SAMPLERS else
                                            f"found {v!r}; allowed: {allowed_list(SAMPLERS)}{did_you_mean(v, SAMPLERS)}")
        if "trials" in keys:
            values["trials"] = self.scalar(keys["trials"], int, between(1, MAX_TRIALS))
        elif values.get("sampler") == "grid":
            values["trials"] = None  # the whole grid
        if "parallelism" in keys:
            values["parallelism"] = self.scalar(keys["parallelism"], int, between(1, MAX_PARALLELISM))
        if "seed" in keys:
            values["seed"] = self.scalar(keys["seed"], int, between(0, MAX_SEED))
        if "max_failures" in keys:
            values["max_failures"] = self.scalar(keys["max_failures"], int, between(1, MAX_TRIALS))
        if "statistic" in keys:
            values["statistic"] = self.scalar(keys["statistic"], str, lambda v: None if v in STATISTICS else
                                              f"found {v!r}; allowed: {allowed_list(STATISTICS)}{did_you_mean(v, STATISTICS)}")
        if "ladder" in keys:
            values["ladder"] = self.ladder(keys["ladder"], space_file)
        return INVALID if INVALID in values.values() else SearchSettings(**values)

    def ladder(self, node: Node, space_file: Path) -> tuple[Rung, ...] | Any:
        """`[{evaluator: PATH, keep: FRACTION, min: N}, ...]`: the screening rungs, cheapest first."""
        items = self.list_of(node, "rungs like {evaluator: ../evaluators/screen.yaml, keep: 0.5, min: 3}")
        if items is None:
            return INVALID
        rungs = []
        for item in items:
            keys = self.mapping(item, ("evaluator", "keep", "min"), required=("evaluator",))
            if keys is None:
                return INVALID
            path, protocol = self.evaluator(keys["evaluator"], space_file)
            values: dict[str, Any] = {}
            if "keep" in keys:
                values["keep"] = self.scalar(keys["keep"], float, lambda v: None if 0 < v <= 1 else
                                             f"found {v}; keep is the fraction promoted, in (0, 1]")
            if "min" in keys:
                values["min"] = self.scalar(keys["min"], int, between(1, MAX_TRIALS))
            if protocol is None or INVALID in values.values():
                return INVALID
            rungs.append(Rung(path, protocol, **values))
        return tuple(rungs)

    def checks(self, node: Node, default_length: int) -> CheckPolicy | Any:
        keys = self.mapping(node, ("length", "errors", "ignore"))
        if keys is None:
            return INVALID
        length = self.scalar(keys["length"], int, between(1, MAX_COST_LENGTH)) if "length" in keys else default_length
        codes = {name: self.codes(keys[name]) if name in keys else () for name in ("errors", "ignore")}
        if INVALID in (length, *codes.values()):
            return INVALID
        both = sorted(set(codes["errors"]) & set(codes["ignore"]))
        if both:
            self.error(keys["ignore"], f"{', '.join(both)} listed under both errors and ignore")
            return INVALID
        return CheckPolicy(length, codes["errors"], codes["ignore"])

    def codes(self, node: Node) -> tuple[str, ...] | Any:
        items = self.list_of(node, "principle codes (P1-P6)", nonempty=False)
        if items is None:
            return INVALID
        codes = [self.scalar(item, str, lambda v: None if v in CODES else
                             f"found {v!r}; the principles are {allowed_list(CODES)}{did_you_mean(v, CODES)}") for item in items]
        return INVALID if INVALID in codes else tuple(codes)
