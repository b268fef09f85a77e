"""`dsf-search validate SPACE`: check a search space and show what it contains."""

from __future__ import annotations

import argparse
from collections import Counter
from typing import TYPE_CHECKING

from dsf_search.cli.commands import summary

if TYPE_CHECKING:  # the command imports the search plan when it runs (fast --help)
    from dsf_search.search.plan import SearchPlan

SURVEY_LIMIT = 2000  # candidates checked one by one at most (a few ms each)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help=summary("validate"),
                       description="Validate SPACE (every error at once, with file:line and key path; exit 2 on any). "
                                   "On success print the searched axes with their domains and conditions, the fixed "
                                   "axes, the size of the space, the constraints, and each seed with its analytic "
                                   "costs and design-check findings.")
    p.add_argument("space", help="search space YAML file")
    p.add_argument("--evaluator", help="evaluation protocol to use instead of the file's `evaluator:`")
    p.add_argument("--no-estimate", action="store_true",
                   help="skip the time-per-trial estimate (it times a few training steps of one candidate)")
    p.set_defaults(run=run)


def describe(space: SearchPlan) -> list[str]:
    """The lines `validate` prints for a valid space."""
    from dsf_search.space.domains import show

    search, checks = space.search, space.checks
    summary = space.description.strip().splitlines()[0] if space.description.strip() else "(no description)"
    lines = [f"space {space.name}: {summary}",
             f"  file       {space.file}",
             f"  evaluator  {space.evaluator} ({space.protocol.name if space.protocol else '-'})",
             "  objectives " + ", ".join(f"{m} ({d})" for m, d in space.objectives.items()),
             f"  search     {search.sampler}, {space.trials} trials, "
             f"parallelism {search.parallelism}, seed {search.seed}",
             f"  checks     length {checks.length}; errors: {', '.join(checks.errors) or '-'}; "
             f"ignored: {', '.join(checks.ignore) or '-'}",
             "", f"axes searched or set under conditions ({len(space.varied)}), in decision order:"]
    width = max([len(v.key) for v in space.varied] + [4])
    for var in space.varied:
        for i, branch in enumerate(var.branches):
            when = f"   when {branch.condition.text}" if branch.condition else ("   otherwise" if i else "")
            lines.append(f"  {var.key if i == 0 else '':<{width}}  {branch.domain.describe()}{when}")
        if var.branches[-1].condition is not None:
            lines.append(f"  {'':<{width}}  (otherwise its base value)")
    if not space.varied:
        lines.append("  (none)")
    fixed = ", ".join(f"{k}={show(v)}" for k, v in space.fixed.items())
    lines.append(f"fixed: {fixed or '-'}")
    lines.append(f"size: {space.size_text()}")
    lines.append("constraints: " + ("; ".join(c.name for c in space.constraint_list) or "-"))
    lines.append("")
    lines.append(f"seeds ({len(space.seeds)}):")
    for seed in space.seeds:
        spec = space.seed_spec(seed)
        cost = space.cost(spec)
        lines.append(f"  {seed.label:<24} {spec.hash()}  params {cost.params:,}  "
                     f"state_bytes({cost.length}) {cost.state_bytes:,}  flops/token {cost.flops_per_token:,}")
        lines += [f"      {finding}" for finding in space.check(spec)]
    return lines + [""] + survey(space)


def survey(space: SearchPlan) -> list[str]:
    """How often each finding occurs over a small finite space, and how many candidates the
    constraints and design checks reject before training."""
    size = space.size()
    if size is None or size > SURVEY_LIMIT:
        what = space.size_text() if size is None else f"{size:,} candidates > {SURVEY_LIMIT:,}"
        return [f"findings across the space: not surveyed ({what}); `dsf-search sample` draws some"]
    counts: Counter[tuple[str, str]] = Counter()
    infeasible = 0
    for point in space.enumerate():
        counts.update({(f.code, f.level) for f in space.check(point.spec)})
        infeasible += not space.feasible(point.spec)
    found = ", ".join(f"{code} {level} in {n}" for (code, level), n in sorted(counts.items())) or "none"
    return [f"findings across the {size:,} candidates: {found}",
            f"rejected before training (constraints, design-check errors): {infeasible} of {size:,}"]


def protocol_lines(space: SearchPlan, estimate: bool = True) -> list[str]:
    """What one trial reserves, whether this machine offers it, and (measured) how long it may take.

    Only the estimate (a protocol that trains) imports torch: it times a few training steps."""
    from dsf_search.search.progress import duration
    from dsf_search.search.resources import local_offer

    protocol = space.protocol
    if protocol is None:
        return []
    res = protocol.resources
    offer = local_offer()
    fits = res.cpus <= offer.cpus and res.gpus <= offer.gpus
    lines = [f"  resources  {res.cpus:g} CPU(s), {res.gpus:g} GPU(s) per trial ({space.evaluator} `resources:`); "
             f"{offer.where} offers {offer.cpus:g} CPU(s), {offer.gpus:g} GPU(s)"
             + ("" if fits else " -> `run` refuses here unless --cpus-per-trial/--gpus-per-trial lower the need")]
    if not estimate or not protocol.tasks:
        return lines
    import optuna

    from dsf_search.evaluate.estimate import estimate_trial

    if space.seeds:
        label, spec = space.seeds[0].label, space.seed_spec(space.seeds[0])
    else:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
        label, spec = "a random candidate", space.suggest(study.ask())
    est = estimate_trial(spec, protocol, device="cpu")
    bound = f"capped by timeout_s {protocol.timeout_s:g} s; uncapped {duration(est.uncapped_s)}" if est.capped else \
        "an upper bound: early stopping ends runs sooner"
    seeds = protocol.seeds
    per = " per seed" if seeds > 1 else ""
    lines.append(f"  time/trial ~{duration(est.seconds)}{per} on {est.device} with {res.cpus:g} thread(s) "
                 f"({est.runs} training runs, {est.steps:,} steps; {bound}; measured with {label}"
                 + ("; a GPU trial is faster" if res.gpus > 0 else "") + ")")
    if seeds > 1:
        # every seed is a job of its own with the protocol's resources and timeout
        lines.append(f"  seeds  {seeds} per candidate: ~{duration(seeds * est.seconds)} of compute per candidate "
                     f"({seeds} jobs of ~{duration(est.seconds)}, side by side where the cores allow)")
    return lines


def run(args: argparse.Namespace) -> int:
    from dsf_search.search.plan import load_plan

    space = load_plan(args.space, evaluator=args.evaluator)
    lines = describe(space)
    lines[5:5] = protocol_lines(space, estimate=not args.no_estimate)
    if space.expect is not None:
        from dsf_search.results.claims import check_claims

        check_claims(space)  # the claims' expressions and columns, before anything runs
        lines.append(f"  claims  {len(space.expect.claims)} (`dsf-search reproduce`); source: {space.expect.source}")
        lines.extend(f"    {c.kind}: {c.claim}" for c in space.expect.claims)
    print("\n".join(lines))
    print(f"\nok: {args.space} is a valid search space")
    return 0
