"""`dsf-search confirm STUDY [--seeds N]`: the front and the seeded architectures trained again on
N seeds, and each one's probability of being on the front (bootstrap over the seeds)."""

from __future__ import annotations

import argparse
import signal
import sys

from dsf_search.cli.commands import summary
from dsf_search.cli.results import add_output_options, add_study_options
from dsf_search.defaults import RESAMPLES
from dsf_search.errors import InputError

DEFAULT_SEEDS = 5


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "confirm", help=summary("confirm"),
        description="Train the Pareto-front candidates and the seeded architectures of STUDY again, on N seeds "
                    "each (the study's protocol at `seeds: N`, the seeds as parallel jobs), in the study "
                    "STUDY.confirmN; then, for each, the probability of being on the front: the share of "
                    "bootstrap resamples of its seeds in which it is non-dominated among the confirmed "
                    "candidates. Running it again finishes an interrupted confirmation.",
    )
    p.add_argument("study", help="study name")
    p.add_argument("--seeds", type=int, default=DEFAULT_SEEDS, help=f"seeds per candidate (default {DEFAULT_SEEDS})")
    p.add_argument("--resamples", type=int, default=RESAMPLES, help=f"bootstrap resamples (default {RESAMPLES})")
    p.add_argument("--parallel", type=int, help="seed jobs in flight at once (default: the study's)")
    p.add_argument("--serial", action="store_true", help="evaluate in this process, one at a time (no Ray)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    add_output_options(p)
    add_study_options(p)
    p.set_defaults(run=run)


def _terminate_as_interrupt(signum, frame):
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    from dsf_search.results.confirm import P_FRONT, front_probabilities
    from dsf_search.results.formats import write
    from dsf_search.results.study import load_study, objectives_of
    from dsf_search.results.uncertainty import drop_statistics, with_intervals
    from dsf_search.search import DriverBusy
    from dsf_search.search.confirm import confirm_study, run_confirm

    if args.resamples < 1:
        raise InputError(f"--resamples must be >= 1, got {args.resamples}")
    if args.parallel is not None and args.parallel < 1:
        raise InputError(f"--parallel must be >= 1, got {args.parallel}")
    signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    try:
        run_confirm(args.study, args.seeds, args.storage, args.root, show_progress=not args.quiet,
                    parallel=args.parallel, executor="serial" if args.serial else None)
    except DriverBusy as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    name = confirm_study(args.study, args.seeds)
    study = load_study(name, args.storage, args.root)
    objectives = objectives_of(study)
    table = front_probabilities(study, objectives, args.resamples)
    if table.empty:
        print(f"no candidate of {args.study!r} completed its {args.seeds} seeds", file=sys.stderr)
        return 1
    # kept with the confirm study: trial number -> probability (finished trials are read-only)
    study.set_user_attr(P_FRONT, {str(int(n)): float(p) for n, p in zip(table["number"], table[P_FRONT])})
    if args.format in ("table", "markdown"):
        table = with_intervals(table, objectives)[drop_statistics(table.columns)]
        print(f"front membership over {args.resamples} bootstrap resamples of {args.seeds} seeds "
              f"(objectives: mean ± half of the 95% interval over seeds; study {name!r}):")
    write(table, args.format, args.out)
    return 0
