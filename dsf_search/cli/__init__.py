"""The `dsf-search` command: one subcommand per user job (DESIGN.md section 3.4).

Exit codes: 0 success, 2 bad input (the message names file, line and key), 1 runtime failure.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from dsf_search.cli import coefficients as coefficients_command
from dsf_search.cli import compare as compare_command
from dsf_search.cli import confirm as confirm_command
from dsf_search.cli import evaluate as evaluate_command
from dsf_search.cli import export as export_command
from dsf_search.cli import report as report_command
from dsf_search.cli import results as results_command
from dsf_search.cli import run as run_command
from dsf_search.cli import sample as sample_command
from dsf_search.cli import status as status_command
from dsf_search.cli import validate as validate_command
from dsf_search.cli import zoo as zoo_command
from dsf_search.errors import InputError

COMMANDS = [zoo_command, validate_command, sample_command, evaluate_command, run_command, status_command,
            results_command, compare_command, report_command, coefficients_command, confirm_command,
            export_command]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dsf-search",
        description="Explore and search the design space of sequence-model token mixers on the unified DSF core.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # argparse printed a usage error (exit 2) or the help (exit 0)
        return stop.code if isinstance(stop.code, int) else 2
    try:
        return int(args.run(args) or 0)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - the CLI reports every runtime failure as exit 1
        print(f"error: {type(err).__name__}: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
