"""`Space`: the models a search space describes; turns Optuna trials (or parameters) into
ModelSpecs, counts and enumerates finite spaces, and locates seeds.

A space knows nothing of how its candidates are judged (protocols, objectives, constraints,
checks: dsf_search.search.plan.SearchPlan). Build one with `load_plan(path).space`, or
`read_space` from the sections of a file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dsf_search.core.spec import ModelSpec
from dsf_search.space.domains import Domain, size
from dsf_search.space.resolve import Resolver
from dsf_search.space.seeds import OutsideSpace, Seed, resolve_seed, seeds_of_spec
from dsf_search.space.variables import Variable

if TYPE_CHECKING:  # only the annotations name optuna (a trial is passed in)
    import optuna

# Decision paths `size` walks at most: every value of an axis a condition reads is a path of its own.
MAX_COUNTED_PATHS = 10_000


@dataclass(frozen=True)
class Point:
    """One candidate of a finite space: its Optuna parameters and its spec."""

    params: dict[str, Any]
    spec: ModelSpec


def _plain_fixed(var: Variable) -> bool:
    return len(var.branches) == 1 and not var.searched and var.branches[0].condition is None


class _Continuous(Exception):
    """A continuous domain was met while counting or enumerating."""


class _Uncounted(Exception):
    """Counting would walk more than MAX_COUNTED_PATHS decision paths."""


class Space:
    """The model grammar of a space file (see docs/grammar.md): its axes in decision order, their
    domains and conditions, and its `seeds` (architectures to evaluate first). `file` is where it
    was read from."""

    def __init__(self, *, file: Path, resolver: Resolver, controlling: set[str], seeds: tuple[Seed, ...]):
        self.file = file
        self.seeds = seeds
        self._resolver = resolver
        self._controlling = controlling
        self._size: tuple[int | None] | None = None  # computed once, on demand
        self._continuous = False

    # --- the axes -----------------------------------------------------------------------------

    @property
    def variables(self) -> list[Variable]:
        """Every axis of the model and its mixers, in decision order."""
        return [self._resolver.variables[k] for k in self._resolver.order]

    @property
    def searched(self) -> list[Variable]:
        """The axes with at least one searched domain, in decision order."""
        return [v for v in self.variables if v.searched]

    @property
    def fixed(self) -> dict[str, Any]:
        """The axes the file fixes (one unconditional value), by key."""
        return {v.key: v.branches[0].domain.value for v in self.variables if _plain_fixed(v)}

    @property
    def varied(self) -> list[Variable]:
        """The axes the file searches or sets under conditions, in decision order."""
        return [v for v in self.variables if v.branches and not _plain_fixed(v)]

    # --- from trials and parameters to specs --------------------------------------------------

    def suggest(self, trial: optuna.trial.BaseTrial) -> ModelSpec:
        """Ask `trial` for the active axes only (define-by-run) and return the spec."""
        def choose(var: Variable, index: int | None, domain: Domain, values: dict[str, Any]) -> Any:
            return domain.suggest(trial, var.param_name(index)) if domain.is_param else domain.value

        values, _ = self._resolver.decide(choose)
        return self._resolver.build(values)

    def build(self, params: dict[str, Any]) -> ModelSpec:
        """The spec of a trial's parameters (e.g. `trial.params`); ValueError when they do not
        describe a point of this space."""
        def choose(var: Variable, index: int | None, domain: Domain, values: dict[str, Any]) -> Any:
            if not domain.is_param:
                return domain.value
            name = var.param_name(index)
            if name not in params:
                raise ValueError(f"parameter {name!r} is missing ({domain.describe()})")
            if not domain.contains(params[name]):
                raise ValueError(f"parameter {name!r} = {params[name]!r} is outside {domain.describe()}")
            return params[name]

        values, used = self._resolver.decide(choose)
        extra = sorted(set(params) - set(used))
        if extra:
            raise ValueError(f"parameters not active for these values: {', '.join(extra)}")
        return self._resolver.build(values)

    # --- finite spaces ------------------------------------------------------------------------

    def size(self) -> int | None:
        """The number of distinct candidates (active-parameter assignments); None when a
        continuous domain can be reached, or when counting would walk more than
        MAX_COUNTED_PATHS decision paths (see `size_text`)."""
        if self._size is None:
            def options(var: Variable, domain: Domain) -> tuple[list[Any], int]:
                if not domain.is_param:
                    return [domain.value], 1
                n = size(domain)
                if n is None:
                    raise _Continuous
                return (domain.values(), 1) if var.key in self._controlling else ([domain.first()], n)

            try:
                total = 0
                for paths, (_, _, weight) in enumerate(self._resolver.walk(options, limit=MAX_COUNTED_PATHS + 1)):
                    if paths == MAX_COUNTED_PATHS:
                        raise _Uncounted
                    total += weight
                self._size = (total,)
            except _Continuous:
                self._size, self._continuous = (None,), True
            except _Uncounted:
                self._size = (None,)
        return self._size[0]

    def size_text(self) -> str:
        """'N candidates', 'continuous' or why the space was not counted."""
        size = self.size()
        if size is not None:
            return f"{size:,} candidates"
        if self._continuous:
            return "continuous"
        return (f"not counted (the axes that conditions read span more than {MAX_COUNTED_PATHS:,} combinations; "
                "a choice or a coarser step keeps them countable)")

    def enumerate(self) -> Iterator[Point]:
        """Every candidate of a finite space, once (for grid search: enqueue each `params`)."""
        def options(var: Variable, domain: Domain) -> tuple[list[Any], int]:
            values = domain.values()
            if values is None:
                raise ValueError(f"{var.path} is continuous ({domain.describe()}); only finite spaces can be enumerated")
            return values, 1

        for values, params, _ in self._resolver.walk(options):
            yield Point(params, self._resolver.build(values))

    # --- seeds ----------------------------------------------------------------------------------

    def seed_params(self, seed: Seed | ModelSpec) -> dict[str, Any]:
        """The active Optuna parameters that reproduce `seed` (for `study.enqueue_trial`);
        OutsideSpace (a ValueError) saying why when the space cannot produce it."""
        return self._locate(seed)[0]

    def seed_spec(self, seed: Seed) -> ModelSpec:
        """The spec of a seed of this space."""
        return self._locate(seed)[1]

    def contains(self, spec: ModelSpec) -> bool:
        """Whether some assignment of the parameters builds `spec` (same canonical hash)."""
        try:
            self._locate(spec)
        except OutsideSpace:
            return False
        return True

    def _locate(self, seed: Seed | ModelSpec) -> tuple[dict[str, Any], ModelSpec]:
        if isinstance(seed, Seed):
            return resolve_seed(self._resolver, seed)
        candidates = seeds_of_spec(self._resolver, seed, f"spec {seed.hash()}")
        first: OutsideSpace | None = None
        for candidate in candidates:
            try:
                params, spec = resolve_seed(self._resolver, candidate)
            except OutsideSpace as err:
                first = first or err
                continue
            if spec.hash() == seed.hash():
                return params, spec
        raise first or OutsideSpace(f"spec {seed.hash()}", [("model.pattern", "its layers follow none of the space's patterns")])

    def __repr__(self) -> str:
        return f"Space({len(self.searched)} searched axes, file={str(self.file)!r})"
