"""`SearchPlan`: what a search does, read from the top of a space file: the space (the models,
dsf_search.space), the evaluation protocol (or a ladder of screening protocols before it), the
objectives, the constraints on analytic costs, the design-check policy, and the sampler and run
settings. The driver, `validate` and `sample` take a plan; `load_plan(path)` reads one, checks
all of the file and raises one `SpaceError` listing every problem (file:line, key path, what was
found, what is allowed), those of the protocols it names under their own file and line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dsf_search.core.checks import Finding, check, errors_of
from dsf_search.core.cost import Cost, analytic_cost
from dsf_search.core.spec import ModelSpec
from dsf_search.evaluate.protocol import DEFAULT_COST_LENGTH, Protocol
from dsf_search.grammar import INVALID, Node, Problems, read
from dsf_search.names import study_name_problem
from dsf_search.search.expect import ExpectReader, Expectations
from dsf_search.search.settings import CheckPolicy, Constraint, SearchSettings, SettingsReader
from dsf_search.space import OutsideSpace, Point, Seed, Space, SpaceError, Variable, read_space

if TYPE_CHECKING:  # only the annotations name optuna (a trial is passed in)
    import optuna

TOP_KEYS = ("name", "description", "model", "seeds", "constraints", "objectives", "evaluator", "search", "checks",
            "expect")
CHECKS_CONSTRAINT = "design_checks"


class SearchPlan:
    """A validated space file. Attributes: `name` (the study), `description`, `file`, `space`
    (the models), `evaluator` (protocol path) and `protocol`, `objectives` (metric -> direction),
    `constraint_list`, `search` (sampler and run settings, the ladder), `checks` (design-check
    policy), `expect` (the claims of a study, search/expect.py; None without an `expect:`). It judges specs before any compute (`check`, `constraints`, `feasible`, `cost`) and
    hands the space's operations on (`suggest`, `build`, `seed_params`, ...), so a search reads
    one object."""

    def __init__(self, *, name: str, description: str, file: Path, space: Space, evaluator: Path | None,
                 protocol: Protocol | None, objectives: dict[str, str], constraints: tuple[Constraint, ...],
                 search: SearchSettings, checks: CheckPolicy, expect: Expectations | None = None):
        self.name = name
        self.description = description
        self.file = file
        self.space = space
        self.evaluator = evaluator
        self.protocol = protocol
        self.objectives = objectives
        self.constraint_list = constraints
        self.search = search
        self.checks = checks
        self.expect = expect

    @property
    def trials(self) -> int:
        """Trials to run, seeds included: `search.trials`, or every point of a grid."""
        return self.search.trials if self.search.trials is not None else self.space.size()

    # --- judging a spec before any compute ------------------------------------------------------

    def cost(self, spec: ModelSpec) -> Cost:
        """Analytic costs at the design-check length."""
        return analytic_cost(spec, self.checks.length)

    def check(self, spec: ModelSpec) -> list[Finding]:
        """Design-principle findings under this plan's policy (errors, ignored codes)."""
        return check(spec, self.checks.length, errors=self.checks.errors, ignore=self.checks.ignore)

    def constraints(self, spec: ModelSpec, findings: list[Finding] | None = None) -> dict[str, float]:
        """Constraint name -> value, feasible when <= 0 (for `trial.set_constraint`): each
        cost constraint's relative violation, and `design_checks`, the number of error findings
        (pass `findings` from `check(spec)` when already computed)."""
        out = {c.name: c.violation(spec) for c in self.constraint_list}
        out[CHECKS_CONSTRAINT] = float(len(errors_of(self.check(spec) if findings is None else findings)))
        return out

    def feasible(self, spec: ModelSpec) -> bool:
        return all(value <= 0 for value in self.constraints(spec).values())

    # --- the space's operations, for the search ------------------------------------------------

    @property
    def seeds(self) -> tuple[Seed, ...]:
        return self.space.seeds

    @property
    def variables(self) -> list[Variable]:
        return self.space.variables

    @property
    def searched(self) -> list[Variable]:
        return self.space.searched

    @property
    def fixed(self) -> dict[str, Any]:
        return self.space.fixed

    @property
    def varied(self) -> list[Variable]:
        return self.space.varied

    def suggest(self, trial: optuna.trial.BaseTrial) -> ModelSpec:
        return self.space.suggest(trial)

    def build(self, params: dict[str, Any]) -> ModelSpec:
        return self.space.build(params)

    def size(self) -> int | None:
        return self.space.size()

    def size_text(self) -> str:
        return self.space.size_text()

    def enumerate(self) -> Iterator[Point]:
        return self.space.enumerate()

    def seed_params(self, seed: Seed | ModelSpec) -> dict[str, Any]:
        return self.space.seed_params(seed)

    def seed_spec(self, seed: Seed) -> ModelSpec:
        return self.space.seed_spec(seed)

    def contains(self, spec: ModelSpec) -> bool:
        return self.space.contains(spec)

    def __repr__(self) -> str:
        return f"SearchPlan({self.name!r}, {len(self.space.searched)} searched axes, file={str(self.file)!r})"


def load_plan(path: str | Path, evaluator: str | Path | None = None) -> SearchPlan:
    """Load and validate the space file at `path`. `evaluator` (a protocol path) replaces the
    file's `evaluator:`, which then may be left out."""
    path = Path(path)
    problems = Problems(str(path))
    root = read(path, problems, "the space file", empty="the file is empty; a space needs at least name, model and objectives")
    plan = _Loader(path, problems, evaluator).load(root) if root is not None else None
    if problems:
        raise SpaceError(problems.items)
    assert plan is not None  # no problems means every section was read
    return plan


class _Loader:
    def __init__(self, path: Path, problems: Problems, evaluator: str | Path | None):
        self.path = path
        self.problems = problems
        self.settings = SettingsReader(problems)
        self.evaluator_override = evaluator

    def load(self, root: Node) -> SearchPlan | None:
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
        defaults = {**protocol.model_defaults, "vocab_size": protocol.vocab_size} if protocol is not None else {}
        length = checks.length if isinstance(checks, CheckPolicy) else cost_length
        metrics = [*protocol.metrics] if protocol is not None else None
        expect = ExpectReader(self.problems).expectations(keys["expect"], metrics) if "expect" in keys else None
        space = read_space(keys, self.problems, self.path, defaults, length)
        if space is None:
            return None
        plan = SearchPlan(name=name, description=description, file=self.path, space=space, evaluator=evaluator,
                          protocol=protocol, objectives=objectives, constraints=constraints, search=search, checks=checks,
                          expect=expect)
        self._check_seeds(plan)
        self._check_search(plan, keys.get("search"))
        return plan


    def _check_seeds(self, space: SearchPlan) -> None:
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

    def _check_search(self, space: SearchPlan, node: Node | None) -> None:
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
