"""`dsf-search status STUDY`: counts by state, the Pareto size, the last failures with reasons."""

from __future__ import annotations

import argparse

from dsf_search.cli.commands import summary
from dsf_search.cli.flags import study_name
from dsf_search.search.storage import DEFAULT_ROOT

LAST_FAILURES = 5


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help=summary("status"))
    p.add_argument("study", type=study_name, help="study name")
    p.add_argument("--storage", help="Optuna storage URL or journal path (default results/<study>/journal.log)")
    p.add_argument("--root", default=str(DEFAULT_ROOT), help="folder of the embedded studies (default results/)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from dsf_search.results import objectives_of, pareto, table
    from dsf_search.results.states import INTERRUPTED, failed, outcome
    from dsf_search.results.table import load_study
    from dsf_search.search import attrs as A
    from dsf_search.search.lock import driver_is_live

    study = load_study(args.study, args.storage, args.root)
    df = table(study)
    objectives = objectives_of(study)
    settings = study.user_attrs.get(A.STUDY_SETTINGS) or {}
    print(f"study {args.study!r} (space {settings.get('space', '?')}, target {settings.get('trials', '?')} distinct complete architectures)")
    counts = outcome(df).value_counts() if not df.empty else {}
    for state in ("COMPLETE", "RUNNING", "WAITING", "FAIL", INTERRUPTED, "PRUNED"):
        label = {"PRUNED": "PRUNED (infeasible)", INTERRUPTED: "INTERRUPTED (re-queued)"}.get(state, state)
        print(f"  {label:<24} {int(counts.get(state, 0)) if len(df) else 0}")
    if len(df) and int(counts.get("RUNNING", 0)) and not driver_is_live(args.storage, study, args.root):
        print("  (no driver is running this study: its RUNNING trials were left by a stopped one; "
              f"`dsf-search resume {args.study}` completes or re-queues them)")
    if objectives and not df.empty:
        print(f"  Pareto front: {len(pareto(df, objectives))} trial(s) over {', '.join(f'{k} ({v})' for k, v in objectives.items())}")
    last = failed(df).tail(LAST_FAILURES) if not df.empty else df
    if len(last):
        print(f"last {len(last)} failure(s):")
        for _, row in last.iterrows():
            print(f"  trial {row['number']}: {row.get('failure') or 'no reason recorded'}")
    return 0
