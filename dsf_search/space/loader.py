"""`load_space(path)`: read a space file, check all of it, return a `Space` or raise one
`SpaceError` listing every problem (file:line, key path, what was found, what is allowed)."""

from __future__ import annotations

from pathlib import Path

from dsf_search.core.checks import errors_of
from dsf_search.evaluate.protocol import DEFAULT_COST_LENGTH
from dsf_search.grammar import read_yaml_file
from dsf_search.names import study_name_problem
from dsf_search.space.axes import MODEL_DEFAULTS
from dsf_search.space.coverage import unbuildable
from dsf_search.grammar.limits import MAX_MODEL_BYTES
from dsf_search.space.errors import Problems, SpaceError
from dsf_search.space.extent import oversized
from dsf_search.space.model import read_model
from dsf_search.space.reader import INVALID
from dsf_search.space.resolve import Resolver
from dsf_search.space.seeds import OutsideSpace, Seed, SeedReader
from dsf_search.space.settings import CheckPolicy, SearchSettings, SettingsReader
from dsf_search.space.source import Node, parse
from dsf_search.space.space import Space
from dsf_search.space.variables import CycleError, decision_order

TOP_KEYS = ("name", "description", "model", "seeds", "constraints", "objectives", "evaluator", "search", "checks")
DEFAULT_LAYERS = 2


def load_space(path: str | Path, evaluator: str | Path | None = None) -> Space:
    """Load and validate the space at `path`. `evaluator` (a protocol path) replaces the
    file's `evaluator:`, which then may be left out."""
    path = Path(path)
    problems = Problems(str(path))
    text, flaw = read_yaml_file(path)
    if text is None:
        problems.add(flaw.line, flaw.path, f"cannot read the space file: {flaw.message}")
        raise SpaceError(problems.items)
    root = parse(text, problems)
    if root is None:
        raise SpaceError(problems.items)
    space = _Loader(path, problems, evaluator).load(root)
    problems.raise_if_any()
    assert space is not None  # no problems means every section was read
    return space


class _Loader:
    def __init__(self, path: Path, problems: Problems, evaluator: str | Path | None):
        self.path = path
        self.problems = problems
        self.settings = SettingsReader(problems)
        self.evaluator_override = evaluator

    def load(self, root: Node) -> Space | None:
        required = ("name", "model", "objectives") + (() if self.evaluator_override else ("evaluator",))
        keys = self.settings.mapping(root, TOP_KEYS, required=required)
        if keys is None:
            return None
        s = self.settings
        name = s.scalar(keys["name"], str, study_name_problem) if "name" in keys else INVALID
        description = s.scalar(keys["description"], str) if "description" in keys else ""
        evaluator, protocol = None, None
        if self.evaluator_override is not None:
            evaluator, protocol = s.evaluator_file(Path(self.evaluator_override))
        elif "evaluator" in keys:
            evaluator, protocol = s.evaluator(keys["evaluator"], self.path)
        cost_length = protocol.cost_length if protocol else DEFAULT_COST_LENGTH
        checks = s.checks(keys["checks"], cost_length) if "checks" in keys else CheckPolicy(cost_length)
        search = s.search(keys["search"], self.path) if "search" in keys else SearchSettings()
        objectives = s.objectives(keys["objectives"], protocol) if "objectives" in keys else {}
        constraints = s.constraints(keys["constraints"], cost_length) if "constraints" in keys else ()
        section = read_model(keys["model"], s) if "model" in keys else None
        if section is None:
            return None
        seeds = SeedReader(self.problems).seeds(keys["seeds"], section) if "seeds" in keys else []
        if self.problems:
            return None  # the checks below need a well-formed file
        try:
            order = decision_order(section.variables, section.depends)
        except CycleError as err:
            first = section.variables[err.keys[0]]
            self.problems.add(first.line, first.path, f"the conditions read each other in a circle: {err}")
            return None
        base = {**MODEL_DEFAULTS, "n_layers": DEFAULT_LAYERS, **(protocol.model_defaults if protocol else {})}
        if protocol is not None:
            base["vocab_size"] = protocol.vocab_size
        resolver = Resolver(section, order, base)
        controlling = set().union(*section.depends.values())
        self._coverage(resolver, controlling)
        if self.problems:
            return None
        too_large = oversized(resolver, checks.length)
        if too_large is not None:
            what, example = too_large
            self.problems.add(keys["model"].key_line, "model", f"the largest candidates need {what} (reached with {example}); "
                                                          f"no machine holds more than {MAX_MODEL_BYTES / 2**40:g} TiB: "
                                                          "lower the sizes")
            return None
        space = Space(name=name, description=description, file=self.path, resolver=resolver,
                      controlling=controlling, evaluator=evaluator, protocol=protocol, objectives=objectives,
                      constraints=constraints, seeds=tuple(seeds), search=search, checks=checks)
        self._check_seeds(space)
        self._check_search(space, keys.get("search"))
        return space

    def _coverage(self, resolver: Resolver, controlling: set[str]) -> None:
        for key, message, example in unbuildable(resolver, controlling):
            var = resolver.variables[key] if key else None
            self.problems.add(var.line if var else 1, var.path if var else "model",
                              f"{message} (reached with {example}); exclude this combination with `when:`")

    def _check_seeds(self, space: Space) -> None:
        """Every seed lies in the space, is feasible (design checks, constraints) and is a new
        architecture."""
        seen: dict[str, Seed] = {}
        for seed in space.seeds:
            try:
                spec = space.seed_spec(seed)
            except OutsideSpace as err:
                for path, reason in err.reasons:
                    self.problems.add(seed.line, seed.path, f"seed {seed.label!r} lies outside the space: {path}: {reason}")
                continue
            for finding in errors_of(space.check(spec)):
                self.problems.add(seed.line, seed.path, f"seed {seed.label!r} fails a design check: {finding}")
            for constraint in space.constraint_list:
                if constraint.violation(spec) > 0:
                    self.problems.add(seed.line, seed.path, f"seed {seed.label!r} violates the constraint "
                                                            f"{constraint.name} (its value: {constraint.value(spec):g})")
            if spec.hash() in seen:
                self.problems.add(seed.line, seed.path,
                                  f"seed {seed.label!r} is the same architecture as {seen[spec.hash()].label!r}")
            seen.setdefault(spec.hash(), seed)

    def _check_search(self, space: Space, node: Node | None) -> None:
        search = space.search
        line = node.line if node else 1
        if search.sampler == "grid" and space.size() is None:
            continuous = [v.path for v in space.searched if any(b.domain.values() is None for b in v.branches)]
            why = f"continuous: {', '.join(continuous)}" if continuous else space.size_text()
            self.problems.add(line, "search.sampler", f"grid search needs a finite space; {why}")
        if search.statistic == "lower_bound" and space.protocol is not None and space.protocol.seeds < 2:
            self.problems.add(line, "search.statistic", f"lower_bound ranks by the 95% interval over seeds; the evaluator "
                                                        f"{space.protocol.name!r} has seeds: {space.protocol.seeds} (give it seeds: 2 or more)")
        for rung in search.ladder:
            missing = [name for name in space.objectives if name not in rung.protocol.metrics]
            if missing:
                self.problems.add(line, "search.ladder", f"the rung {str(rung.evaluator)!r} does not produce the "
                                                         f"objective(s) {', '.join(missing)}")
        if search.trials is not None and search.trials < len(space.seeds):
            self.problems.add(line, "search.trials",
                              f"found {search.trials}; the {len(space.seeds)} seeds alone need that many trials")
