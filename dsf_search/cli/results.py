"""`dsf-search results STUDY`: the results table, filtered, sorted and exported."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from dsf_search.cli.commands import summary
from dsf_search.cli.flags import output_file, study_name, whole
from dsf_search.defaults import ALL, FORMATS, STATES
from dsf_search.errors import InputError
from dsf_search.search.storage import DEFAULT_ROOT

if TYPE_CHECKING:  # the tables (pandas, Optuna) are imported when the command runs
    import pandas as pd

EXAMPLES = """examples:
  dsf-search results quickstart --pareto
  dsf-search results quickstart --where 'layers.0.transition == "diagonal" and quality > 0.5' --sort quality --top 5
  dsf-search results quickstart --state FAIL,PRUNED --columns number,state,failure
  dsf-search results quickstart --format parquet --out trials.parquet
"""


def add_study_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--storage", help="Optuna storage URL or journal path (default results/<study>/journal.log)")
    p.add_argument("--root", default=str(DEFAULT_ROOT), help="folder of the embedded studies (default results/)")


def add_output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", default="table", choices=FORMATS, help="output format (default: table)")
    p.add_argument("--out", metavar="FILE", type=output_file, help="write to FILE instead of the terminal (required for parquet)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "results", help=summary("results"),
        description="One row per trial: number, state, objectives, design axes by path (layers.0.transition; "
                    "'-' where inactive), search decisions (param.*), per-task metrics (acc.*), other metrics, "
                    "analytic costs (cost.*), timings (time.*), device, hash, seed architecture, findings, failure. "
                    "The table format shows a compact set of columns; the other formats every column.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("study", type=study_name, help="study name")
    p.add_argument("--pareto", action="store_true", help="only the non-dominated complete trials (one per distinct spec)")
    p.add_argument("--where", metavar="EXPR", help="condition over the columns: comparisons (== != < <= > >=), and/or/not, "
                                                 "COL in [...], + - * / %%, isna/notna/abs(COL); names as printed "
                                                 "(acc.parity), or in backticks")
    p.add_argument("--sort", metavar="COL[:asc|desc],...", help="sort order (objectives default to best first)")
    p.add_argument("--top", type=whole(0), metavar="N", help="only the first N rows (after sorting)")
    p.add_argument("--columns", metavar="C,...", help="the columns to show, in order ('all' for every column)")
    p.add_argument("--state", default="COMPLETE", metavar="STATE,...",
                   help=f"trial states to show: {', '.join(STATES)} or {ALL} (default COMPLETE)")
    add_output_options(p)
    add_study_options(p)
    p.set_defaults(run=run)


def compact_columns(df: pd.DataFrame, objectives: dict[str, str]) -> list[str]:
    """The terminal's default: identity, objectives, every search decision (param.*; a searched
    axis that is constant over the rows shown is often the finding, so it is never dropped), else
    the spec axes that vary, and the failure reason when failed trials are shown."""
    from dsf_search.results import groups

    g = groups(df.columns, objectives)
    decisions = g.params or [c for c in g.axes if df[c].astype(object).map(repr).nunique() > 1]
    failure = ["failure"] if (df["state"] != "COMPLETE").any() else []
    return ["number", "state", "architecture", *objectives, *decisions, *failure]


def query(df: pd.DataFrame, objectives: dict[str, str], args: argparse.Namespace) -> pd.DataFrame:
    """States, then --where, then --pareto (over what is left), --sort, --top, --columns."""
    from dsf_search.results import pareto
    from dsf_search.results.query import filter_states, select, sort, where
    from dsf_search.results.uncertainty import with_intervals

    shown = filter_states(df, args.state.split(","))
    if args.where:
        shown = where(shown, args.where)
    if args.pareto:
        if not objectives:
            raise InputError(f"--pareto: study {args.study!r} records no objectives")
        shown = pareto(shown, objectives)
    if args.sort:
        shown = sort(shown, args.sort, objectives)
    elif args.pareto:
        shown = sort(shown, next(iter(objectives)), objectives)
    if args.top is not None:
        shown = shown.head(args.top)
    if args.columns and args.columns.strip().lower() != "all":
        shown = select(shown, [c.strip() for c in args.columns.split(",") if c.strip()])
    elif not args.columns and args.format in ("table", "markdown"):
        # a candidate trained on several seeds shows its mean ± the half-width of its 95% interval
        shown = with_intervals(shown[compact_columns(shown, objectives)], objectives, full=shown)
    return shown


def run(args: argparse.Namespace) -> int:
    from dsf_search.results import load_study, objectives_of, table
    from dsf_search.results.formats import write

    study = load_study(args.study, args.storage, args.root)
    objectives = objectives_of(study)
    write(query(table(study), objectives, args), args.format, args.out)
    return 0
