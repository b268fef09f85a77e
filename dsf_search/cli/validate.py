"""`dsf-search validate SPACE`: check a search space and show what it contains."""

from __future__ import annotations

import argparse
from collections import Counter

from dsf_search.space import Space, load_space
from dsf_search.space.domains import show

SURVEY_LIMIT = 2000  # candidates checked one by one at most (a few ms each)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="check a search space file; show its axes, size, seeds and findings",
                       description="Validate SPACE (every error at once, with file:line and key path; exit 2 on any). "
                                   "On success print the searched axes with their domains and conditions, the fixed "
                                   "axes, the size of the space, the constraints, and each seed with its analytic "
                                   "costs and design-check findings.")
    p.add_argument("space", help="search space YAML file")
    p.add_argument("--evaluator", help="evaluation protocol to use instead of the file's `evaluator:`")
    p.set_defaults(run=run)


def describe(space: Space) -> list[str]:
    """The lines `validate` prints for a valid space."""
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


def survey(space: Space) -> list[str]:
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


def run(args: argparse.Namespace) -> int:
    space = load_space(args.space, evaluator=args.evaluator)
    print("\n".join(describe(space)))
    print(f"\nok: {args.space} is a valid search space")
    return 0
