"""`dsf-search compare STUDY ... [--by AXIS]`: studies side by side, or broken down by one axis."""

from __future__ import annotations

import argparse

from dsf_search.cli.commands import summary
from dsf_search.cli.flags import study_name
from dsf_search.cli.results import add_output_options, add_study_options


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare", help=summary("compare"),
        description="Without --by: one row per study (trial counts by state, Pareto size, best and median of "
                    "each maximized objective, median of each minimized one), e.g. one space under two "
                    "protocols. With --by AXIS: for each value of AXIS (a column such as layers.0.transition, "
                    "or a search decision such as transition for param.transition) in each study: complete "
                    "candidates, failed trials, best and median quality, median cost, and the mean of each "
                    "objective with the 95% Student-t interval of that mean over the candidates.",
    )
    p.add_argument("studies", nargs="+", type=study_name, metavar="STUDY", help="study names")
    p.add_argument("--by", metavar="AXIS", help="break each study down by the values of this axis")
    add_output_options(p)
    add_study_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from dsf_search.results import load_study, objectives_of, table
    from dsf_search.results.compare import compare_by_axis, compare_studies
    from dsf_search.results.formats import write

    tables = {}
    for name in dict.fromkeys(args.studies):
        study = load_study(name, args.storage, args.root)
        tables[name] = (table(study), objectives_of(study))
    summary = compare_by_axis(tables, args.by) if args.by else compare_studies(tables)
    write(summary, args.format, args.out)
    return 0
