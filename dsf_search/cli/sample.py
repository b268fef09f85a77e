"""`dsf-search sample SPACE -n K`: draw candidates at random and show them with their costs."""

from __future__ import annotations

import argparse
import json

import optuna

from dsf_search.cli.flags import SEED, whole
from dsf_search.space import load_space

MAX_SAMPLES = 100_000


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sample", help="draw random candidates from a search space (no training)",
                       description="Draw K candidates from SPACE with a seeded random sampler (an in-memory "
                                   "Optuna study) and print each canonical spec with its hash, analytic costs and "
                                   "design-check findings, marking those the constraints or checks reject.")
    p.add_argument("space", help="search space YAML file")
    p.add_argument("-n", type=whole(1, MAX_SAMPLES), default=5, metavar="K", help="number of candidates (default 5)")
    p.add_argument("--seed", type=SEED, default=0, help="random seed of the sampler (default 0)")
    p.add_argument("--evaluator", help="evaluation protocol to use instead of the file's `evaluator:`")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    space = load_space(args.space, evaluator=args.evaluator)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=args.seed))
    rejected = 0
    for i in range(1, args.n + 1):
        trial = study.ask()
        spec = space.suggest(trial)
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        cost = space.cost(spec)
        violated = [name for name, value in space.constraints(spec).items() if value > 0]
        rejected += bool(violated)
        verdict = f"  REJECTED by {', '.join(violated)}" if violated else ""
        print(f"[{i}] {spec.hash()}  params {cost.params:,}  state_bytes({cost.length}) {cost.state_bytes:,}  "
              f"flops/token {cost.flops_per_token:,}{verdict}")
        print("    " + json.dumps(spec.canonical(), separators=(",", ":")))
        for finding in space.check(spec):
            print(f"    {finding}")
    print(f"\n{args.n} sampled from {space.name} (seed {args.seed}); {rejected} rejected before training")
    return 0
