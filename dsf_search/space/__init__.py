"""Search spaces: the YAML grammar (docs/grammar.md), its validation with file:line errors,
and the bridge to Optuna (define-by-run suggestion, grid enumeration, seeds, constraints)."""

from dsf_search.grammar import Problem
from dsf_search.space.errors import SpaceError
from dsf_search.space.loader import load_space
from dsf_search.space.resolve import BuildError
from dsf_search.space.seeds import OutsideSpace, Seed
from dsf_search.space.settings import CheckPolicy, Constraint, SearchSettings
from dsf_search.space.space import Point, Space
from dsf_search.space.variables import Variable

__all__ = [
    "BuildError",
    "CheckPolicy",
    "Constraint",
    "OutsideSpace",
    "Point",
    "Problem",
    "SearchSettings",
    "Seed",
    "Space",
    "SpaceError",
    "Variable",
    "load_space",
]
