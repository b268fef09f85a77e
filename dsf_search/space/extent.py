"""Load-time bound on how large a candidate of a space can be: no point may need parameters or
an inference state beyond what any machine holds (grammar.limits.MAX_MODEL_BYTES), checked on
the analytic costs, before any model is built.

Costs grow with every size axis, so the walk takes each numeric domain at its largest value and
branches over the categorical choices (transition, readout, preset, pattern, ...), which decide
how the sizes combine; at most MAX_PATHS such corners are tried.
"""

from __future__ import annotations

from typing import Any

from dsf_search.core.cost import analytic_cost
from dsf_search.grammar.limits import MAX_MODEL_BYTES
from dsf_search.space.domains import Choice, Domain, FloatRange, IntRange, show
from dsf_search.space.resolve import BuildError, Resolver
from dsf_search.space.variables import Variable

MAX_PATHS = 256
BYTES_PER_PARAM = 4  # float32


def _numeric(domain: Domain) -> bool:
    if isinstance(domain, (IntRange, FloatRange)):
        return True
    return isinstance(domain, Choice) and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                              for v in domain.options)


def _largest(var: Variable, domain: Domain) -> tuple[list[Any], int]:
    if _numeric(domain):
        return [domain.hi if isinstance(domain, (IntRange, FloatRange)) else max(domain.options)], 1
    return domain.representatives(), 1


def _gib(n: float) -> str:
    return f"{n / 2**30:,.0f} GiB"


def oversized(resolver: Resolver, length: int) -> tuple[str, str] | None:
    """(what exceeds the bound, an example assignment) for the first too-large corner, or None."""
    for values, params, _ in resolver.walk(_largest, limit=MAX_PATHS):
        try:
            spec = resolver.build(values)
        except BuildError:
            continue  # unbuildable corners are reported by the coverage check
        cost = analytic_cost(spec, length)
        found = []
        if cost.params * BYTES_PER_PARAM > MAX_MODEL_BYTES:
            found.append(f"{cost.params:,} parameters ({_gib(cost.params * BYTES_PER_PARAM)} as float32)")
        if cost.state_bytes > MAX_MODEL_BYTES:
            found.append(f"an inference state of {_gib(cost.state_bytes)} at {length} tokens")
        if found:
            example = ", ".join(f"{name}={show(v)}" for name, v in params.items()) or "the fixed values"
            return " and ".join(found), example
    return None
