"""The option names of `mix` that specs, the cost model and the checks read (torch-free).

Readouts, normalizations and decay placements, and the groups of transition structures taken
from their registry (core/transitions.py): validating a spec or counting its cost needs these
names, not the forms that compute them (core/forms/, which import torch).
"""

from __future__ import annotations

from dsf_search.core.transitions import TRANSITIONS as _REGISTRY

READOUTS = ("linear", "exp")
NORMALIZATIONS = ("none", "sum", "maxabs", "learned")
TRANSITIONS = _REGISTRY.names()
GATED = {t.name for t in _REGISTRY if t.gated}
DIAGONAL = {t.name for t in _REGISTRY if t.diagonal}
HOUSEHOLDER = {t.name for t in _REGISTRY if t.householder}
# Transitions that accept a rotation theta (every one whose gate commutes with it).
ROTATABLE = {t.name for t in _REGISTRY if t.rotatable}
DECAY_PLACEMENTS = ("inside", "outside")
