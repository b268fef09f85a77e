"""Search spaces: the model grammar (docs/grammar.md) with file:line errors, and the bridge to
Optuna (define-by-run suggestion, grid enumeration, seeds). A space describes models only; how
they are judged is the search plan's (dsf_search.search.plan)."""

from dsf_search.grammar import Problem
from dsf_search.space.errors import SpaceError
from dsf_search.space.loader import read_space
from dsf_search.space.resolve import BuildError
from dsf_search.space.seeds import OutsideSpace, Seed
from dsf_search.space.space import Point, Space
from dsf_search.space.variables import Variable

__all__ = [
    "BuildError",
    "OutsideSpace",
    "Point",
    "Problem",
    "Seed",
    "Space",
    "SpaceError",
    "Variable",
    "read_space",
]
