"""Load-time proof that every point of a space builds: the core rejects some combinations of
otherwise valid values (a 'fixed' gate with a diagonal transition, the delta-rule injection
without a Householder part, RoPE with an odd state size, ...). A space must exclude them with
`when:` conditions, so that no trial is ever drawn that cannot be built.

The axes the core relates to each other (and the axes conditions read) are walked jointly over
their representative values (every choice, both ends and the second value of a range); every
other axis is tried value by value with the rest at their first values.
"""

from __future__ import annotations

from typing import Any

from dsf_search.space.domains import Domain, show
from dsf_search.space.resolve import BuildError, Resolver
from dsf_search.space.variables import Variable

# The axes MixerSpec.validate / ModelSpec.validate relate to each other, and those that change
# which mixers are built or how presets size them.
COUPLED = frozenset({"preset", "transition", "eigenvalues", "gate", "injection", "key", "state_size",
                     "d_model", "pattern", "n_layers", "positional", "rotation", "householder_factors",
                     "decay_placement", "readout", "low_rank"})
# Joint combinations tried at most (the walk stops there; real spaces stay far below).
MAX_COMBINATIONS = 20_000


def _first(var: Variable, domain: Domain) -> tuple[list[Any], int]:
    return [domain.first()], 1


def unbuildable(resolver: Resolver, controlling: set[str]) -> list[tuple[str | None, str, str]]:
    """(variable key, why the core rejects it, an example assignment) per distinct rejection."""
    joint = {k for k, v in resolver.variables.items() if v.axis in COUPLED or k in controlling}

    def jointly(var: Variable, domain: Domain) -> tuple[list[Any], int]:
        return (domain.representatives() if var.key in joint else [domain.first()]), 1

    found: dict[tuple[str | None, str], str] = {}

    def record(values: dict[str, Any], params: dict[str, Any]) -> None:
        try:
            resolver.build(values)
        except BuildError as err:
            example = ", ".join(f"{name}={show(v)}" for name, v in params.items()) or "the fixed values"
            found.setdefault((err.key, err.message), example)

    for values, params, _ in resolver.walk(jointly, limit=MAX_COMBINATIONS):
        record(values, params)
    for key, var in resolver.variables.items():
        if key in joint or not var.searched:
            continue
        for branch in var.branches:
            for value in branch.domain.representatives()[1:]:
                def one(v: Variable, d: Domain, target: Domain = branch.domain, value: Any = value) -> tuple[list[Any], int]:
                    return ([value], 1) if d is target else _first(v, d)

                for values, params, _ in resolver.walk(one, limit=1):
                    record(values, params)
    return [(key, message, example) for (key, message), example in found.items()]
