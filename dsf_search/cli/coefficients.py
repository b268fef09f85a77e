"""`dsf-search coefficients (PRESET | SPEC.yaml) --out FILE.png`: the coefficient map of one model."""

from __future__ import annotations

import argparse

from dsf_search.cli.evaluate import DEFAULT_EVALUATOR
from dsf_search.cli.flags import MAX_MAP_LEN, SEED, output_file, whole
from dsf_search.evaluate import candidate_spec, load_protocol
from dsf_search.results import plots
from dsf_search.results.coefficients import DEFAULT_MAX_LEN, coefficient_maps
from dsf_search.results.extras import pyplot


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "coefficients", help="draw the coefficient map alpha_ij of one model, per layer and head",
        description="Build a zoo preset (sized by the protocol's model defaults) or a ModelSpec YAML, optionally "
                    "train it briefly on a task of the protocol, and draw alpha_ij (the weight of v_j in output i) "
                    "of every layer and head on one test sequence of that task. Needs matplotlib: "
                    "pip install 'dsf-search[results]'.",
    )
    p.add_argument("candidate", help="preset name (see `dsf-search zoo`) or path of a ModelSpec YAML file")
    p.add_argument("--out", required=True, type=output_file, metavar="FILE.png", help="the PNG to write")
    p.add_argument("--evaluator", default=DEFAULT_EVALUATOR, help=f"protocol YAML (default {DEFAULT_EVALUATOR})")
    p.add_argument("--task", metavar="NAME", help="task label of the protocol (default: its first task)")
    p.add_argument("--train-steps", type=whole(0), default=0, metavar="N",
                   help="training steps before drawing (default 0: at initialization)")
    p.add_argument("--max-len", type=whole(1, MAX_MAP_LEN), default=DEFAULT_MAX_LEN, metavar="T",
                   help=f"tokens of the sequence (default {DEFAULT_MAX_LEN})")
    p.add_argument("--example", type=whole(0), default=0, metavar="I", help="index of the test sequence (default 0)")
    p.add_argument("--seed", type=SEED, default=0, help="seed of the task data, init and training (default 0)")
    p.add_argument("--device", default="cpu", help="cpu | cuda | auto (default cpu)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    pyplot()  # fail before any work when matplotlib is missing
    protocol = load_protocol(args.evaluator)
    spec = candidate_spec(args.candidate, protocol)
    maps = coefficient_maps(spec, protocol, task=args.task, train_steps=args.train_steps, seed=args.seed,
                            example=args.example, max_len=args.max_len, device=args.device)
    path = plots.coefficient_map(maps, args.candidate, args.out)
    loss = f", final training loss {maps.final_loss:.3f}" if maps.final_loss is not None else ""
    print(f"coefficient map of {args.candidate} ({len(maps.alpha)} layers) written to {path}{loss}")
    return 0
