"""`dsf-search zoo [NAME]`: the known architectures, as a table or one preset in full."""

from __future__ import annotations

import argparse
import json

import pandas as pd

from dsf_search.cli.flags import whole
from dsf_search.core import zoo
from dsf_search.core.cost import params, state_bytes
from dsf_search.core.transitions import TRANSITIONS
from dsf_search.errors import InputError

TABLE_LENGTH = 2048
TABLE_WIDTH = 128
MAX_WIDTH = 65536


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("zoo", help="list the known architectures (presets), or show one in full",
                       description="Without NAME: one row per preset. With NAME: its full spec and update rule.")
    p.add_argument("name", nargs="?", help="preset to show in full")
    p.add_argument("--d-model", type=whole(1, MAX_WIDTH), default=TABLE_WIDTH, help=f"model width for sizes (default {TABLE_WIDTH})")
    p.add_argument("--length", type=whole(1), default=TABLE_LENGTH, help=f"context length for state bytes (default {TABLE_LENGTH})")
    p.set_defaults(run=run)


def _eigenvalue_range(m) -> str:
    """The eigenvalue set of the preset's A_t (transitions.py): {1}, real [0, 1], real [-1, 1],
    or complex |lambda| <= 1."""
    kind = TRANSITIONS[m.transition].eigenvalue_set(m.eigenvalues, m.rotation)
    return {"one": "{1}", "real nonnegative": "[0, 1]", "real signed": "[-1, 1]", "complex": "complex |z|<=1"}[kind]


def _selective(m) -> str:
    if "selective" not in m.active_axes():
        return "-" if m.transition == "identity" else "no"
    return "yes" if m.selective else "no"


def table(d_model: int = TABLE_WIDTH, length: int = TABLE_LENGTH) -> pd.DataFrame:
    """One row per preset (single-layer model at width d_model)."""
    rows = []
    for name in zoo.names():
        spec = zoo.model(name, d_model=d_model, n_layers=1)
        m = spec.layers[0]
        rows.append({
            "name": name,
            "transition": m.transition,
            "readout": m.readout,
            "normalization": m.normalization,
            "selective": _selective(m),
            "eigenvalues": _eigenvalue_range(m),
            "factors": m.householder_factors,
            f"state_bytes@{length}": state_bytes(spec, length),
            f"params@d{d_model}": params(spec),
        })
    return pd.DataFrame(rows)


def run(args: argparse.Namespace) -> int:
    if args.name is None:
        print(f"{len(zoo.names())} presets (one layer; state bytes per sequence at T={args.length}, float32)")
        print(table(args.d_model, args.length).to_string(index=False))
        return 0
    try:
        preset = zoo.get(args.name)
    except ValueError as err:
        raise InputError(str(err)) from None
    spec = zoo.model(args.name, d_model=args.d_model, n_layers=1)
    print(f"{preset.name}  (positional: {preset.positional}; hash {spec.layers[0].hash()})")
    print()
    print(preset.rule)
    print()
    print(json.dumps(spec.layers[0].canonical(), indent=2))
    return 0
