"""`dsf-search sample SPACE -n K`: draw candidates at random and show them with their costs."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from dsf_search.cli.commands import summary
from dsf_search.cli.flags import SEED, whole

if TYPE_CHECKING:  # imported when the command runs (fast --help)
    import optuna

    from dsf_search.core.spec import ModelSpec
    from dsf_search.search.plan import SearchPlan

MAX_SAMPLES = 100_000


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sample", help=summary("sample"),
                       description="Draw K distinct candidates from SPACE with a seeded random sampler (an in-memory "
                                   "Optuna study; repeats are drawn again) and print each one's decisions, hash, "
                                   "analytic costs and design-check findings, marking those the constraints or "
                                   "checks reject (--json adds the canonical spec).")
    p.add_argument("space", help="search space YAML file")
    p.add_argument("-n", type=whole(1, MAX_SAMPLES), default=5, metavar="K", help="number of candidates (default 5)")
    p.add_argument("--seed", type=SEED, default=0, help="random seed of the sampler (default 0)")
    p.add_argument("--evaluator", help="evaluation protocol to use instead of the file's `evaluator:`")
    p.add_argument("--json", action="store_true", help="also print each canonical spec as one JSON line")
    p.set_defaults(run=run)


MAX_ASKS_PER_CANDIDATE = 50  # asks per wanted candidate before the space counts as exhausted


def draw(space: SearchPlan, n: int, seed: int) -> list[tuple[optuna.trial.FrozenTrial, ModelSpec]]:
    """Up to `n` distinct candidates (by canonical hash): a repeat is asked again, at most
    MAX_ASKS_PER_CANDIDATE * n asks in all, and never more than the space holds."""
    import optuna

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    size = space.size()
    want = n if size is None else min(n, size)
    seen: set[str] = set()
    out = []
    for _ in range(MAX_ASKS_PER_CANDIDATE * n):
        if len(out) >= want:
            break
        trial = study.ask()
        spec = space.suggest(trial)
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        if spec.hash() not in seen:
            seen.add(spec.hash())
            out.append((study.trials[trial.number], spec))
    return out


def describe_candidate(space: SearchPlan, index: int, params: dict, spec: ModelSpec) -> list[str]:
    """A readable block: the decisions taken, the costs, the findings."""
    from dsf_search.space.domains import show

    cost = space.cost(spec)
    violated = [name for name, value in space.constraints(spec).items() if value > 0]
    verdict = f"   REJECTED by {', '.join(violated)}" if violated else ""
    lines = [f"[{index}] {spec.hash()}{verdict}"]
    width = max([len(k) for k in params] + [1])
    lines += [f"    {k:<{width}}  {show(v)}" for k, v in params.items()]
    lines.append(f"    params {cost.params:,} | state_bytes({cost.length}) {cost.state_bytes:,} | "
                 f"flops/token {cost.flops_per_token:,}")
    lines += [f"    {finding}" for finding in space.check(spec)]
    return lines


def run(args: argparse.Namespace) -> int:
    import optuna

    from dsf_search.search.plan import load_plan

    space = load_plan(args.space, evaluator=args.evaluator)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    drawn = draw(space, args.n, args.seed)
    rejected = 0
    for i, (trial, spec) in enumerate(drawn, 1):
        rejected += not space.feasible(spec)
        print("\n".join(describe_candidate(space, i, trial.params, spec)))
        if args.json:
            print("    " + json.dumps(spec.canonical(), separators=(",", ":")))
    short = "" if len(drawn) == args.n else (
        f" (the space holds only {space.size()} distinct candidates)" if space.size() is not None and space.size() < args.n
        else f" (only {len(drawn)} distinct ones in {MAX_ASKS_PER_CANDIDATE * args.n} draws)")
    print(f"\n{len(drawn)} distinct candidates sampled from {space.name} (seed {args.seed}){short}; "
          f"{rejected} rejected before training")
    return 0
