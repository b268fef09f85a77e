"""`dsf-search report STUDY [--out DIR]`: an HTML page with PNG figures of a study."""

from __future__ import annotations

import argparse
import sys

from dsf_search.cli.commands import summary
from dsf_search.cli.flags import MAX_MAP_LEN, SEED, study_name, whole
from dsf_search.cli.results import add_study_options
from dsf_search.defaults import DEFAULT_MAPS, DEFAULT_MAX_LEN, REPORT_DIR

MAX_MAPS = 100


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report", help=summary("report"),
        description="Write index.html and its PNG figures: the Pareto front of quality against each cost with the "
                    "seed architectures labelled, quality per value of each design axis, parameter importances "
                    "(PED-ANOVA), a failure summary, and the coefficient maps alpha_ij of the best candidates on "
                    "a test sequence of the protocol's first task. Needs matplotlib: pip install 'dsf-search[results]'.",
    )
    p.add_argument("study", type=study_name, help="study name")
    p.add_argument("--out", metavar="DIR", help=f"output folder (default results/<study>/{REPORT_DIR}/)")
    p.add_argument("--maps", type=whole(0, MAX_MAPS), default=DEFAULT_MAPS, metavar="K",
                   help=f"coefficient maps of the K best Pareto candidates (default {DEFAULT_MAPS}; 0: none)")
    p.add_argument("--train-steps", type=whole(0), metavar="N",
                   help="retrain each mapped model for N steps (0: at initialization) instead of using the weights "
                        "the trial kept (default; trials that kept none are retrained to their own step budget)")
    p.add_argument("--max-len", type=whole(1, MAX_MAP_LEN), default=DEFAULT_MAX_LEN, metavar="T",
                   help=f"tokens of the sequence the maps are drawn on (default {DEFAULT_MAX_LEN})")
    p.add_argument("--evaluator", metavar="PROTOCOL.yaml",
                   help="protocol whose task the maps use (default: the one the study's space names)")
    p.add_argument("--seed", type=SEED, default=0, help="seed of the task data, init and training of the maps")
    add_study_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from dsf_search.results.report import build_report

    def log(message: str) -> None:
        print(f"report: {message}", file=sys.stderr, flush=True)

    index = build_report(args.study, args.storage, args.root, args.out, maps=args.maps, train_steps=args.train_steps,
                         max_len=args.max_len, evaluator=args.evaluator, seed=args.seed, log=log)
    print(f"report written to {index}")
    return 0
