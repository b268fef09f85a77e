"""The subcommands of `dsf-search`: name -> (the module that implements it, one line of help).

The table is all the top-level parser needs, so `dsf-search --help` and a mistyped command
import nothing else; a command's module is imported only when that command is named. Each
module's `register(sub)` adds its parsers (a module may implement several commands, as run.py
does run and resume) and sets `run` on them; its heavy imports happen inside `run`.
"""

from __future__ import annotations

COMMANDS: dict[str, tuple[str, str]] = {
    "zoo": ("zoo", "list the known architectures (presets), or show one in full"),
    "validate": ("validate", "check a search space file; show its axes, size, seeds and findings"),
    "sample": ("sample", "draw random candidates from a search space (no training)"),
    "evaluate": ("evaluate", "train and measure one candidate under an evaluation protocol"),
    "run": ("run", "search a space: Optuna asks, Ray evaluates, results land in the study"),
    "resume": ("run", "continue a study with the settings it was run with"),
    "status": ("status", "state counts, Pareto size and recent failures of a study"),
    "results": ("results", "the results table of a study: query, sort, export"),
    "compare": ("compare", "studies side by side, or per-value summaries of a design axis"),
    "report": ("report", "an HTML report of a study (Pareto fronts, axis effects, importances, failures, "
                         "coefficient maps)"),
    "coefficients": ("coefficients", "draw the coefficient map alpha_ij of one model, per layer and head"),
    "export": ("export", "write a model as a standalone PyTorch file (+ config.json, + trained weights)"),
    "confirm": ("confirm", "re-evaluate the Pareto front on more seeds: the probability of each being on the front"),
    "reproduce": ("reproduce", "run the published claims of spaces/studies/ and judge each: PASS / FAIL / INCONCLUSIVE"),
}


def summary(name: str) -> str:
    """The one line of help of command `name`."""
    return COMMANDS[name][1]
