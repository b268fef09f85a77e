"""The `dsf-search` command: one subcommand per user job (DESIGN.md section 3.4).

Exit codes: 0 success, 2 bad input (the message names file, line and key), 1 runtime failure.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from dsf_search.cli.commands import COMMANDS
from dsf_search.errors import InputError
from dsf_search.suggest import did_you_mean

DESCRIPTION = "Explore and search the design space of sequence-model token mixers on the unified DSF core."


def _named(argv: Sequence[str]) -> str | None:
    """The command `argv` names (its first word that does not start with '-'), or None."""
    return next((word for word in argv if not word.startswith("-")), None)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of `dsf-search`: in full for the module of `command` (of every command when
    None), the others by name and help only, so their modules are not imported."""
    parser = argparse.ArgumentParser(prog="dsf-search", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    if command is None:
        modules = {module for module, _ in COMMANDS.values()}
    else:
        modules = {COMMANDS[command][0]} if command in COMMANDS else set()
    for module in dict.fromkeys(module for module, _ in COMMANDS.values()):
        if module in modules:
            importlib.import_module(f"dsf_search.cli.{module}").register(sub)
    registered = set(sub.choices)
    for name, (_, help_line) in COMMANDS.items():
        if name not in registered:
            sub.add_parser(name, help=help_line)
    # argparse lists the commands in the order they were added; list them in the table's order.
    sub._choices_actions.sort(key=lambda action: list(COMMANDS).index(action.dest))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = _named(argv)
    if command is not None and command not in COMMANDS:
        print(f"error: unknown command {command!r}{did_you_mean(command, COMMANDS)}; "
              f"commands: {', '.join(COMMANDS)} (dsf-search --help)", file=sys.stderr)
        return 2
    parser = build_parser(command or "")
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
