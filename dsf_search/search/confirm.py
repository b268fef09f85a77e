"""Confirmation of a finished study: its Pareto front and its seeded architectures trained
again on more seeds, in the study `<study>.confirm<N>` (N: the seeds), so that the results can
say how likely each is to be on the front (results/confirm.py).

The candidates are the study's distinct COMPLETE candidates of Pareto rank 0 (by the values
Optuna holds) and every seeded architecture that completed. They are evaluated with the
study's protocol at `seeds: N` (seeds s .. s+N-1, the data of s; s the study's seed), the seeds
as parallel jobs, through the fixed-list evaluation (resumable: run it again to finish).
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any, TextIO

import optuna

from dsf_search.errors import InputError
from dsf_search.evaluate.protocol import MAX_SEEDS
from dsf_search.search import attrs as A
from dsf_search.search.driver import RunSettings, Summary, _space_record
from dsf_search.search.fixed import evaluate_candidates
from dsf_search.search.ladder import at_protocol
from dsf_search.search.promotion import Candidate, candidates, pareto_ranks
from dsf_search.search.resume import recorded_space, resume_settings
from dsf_search.search.storage import DEFAULT_ROOT, open_storage, redact
from dsf_search.search.worker import EvaluateFn

STUDY_CONFIRM = "confirm"


def confirm_study(study: str, seeds: int) -> str:
    return f"{study}.confirm{seeds}"


def front_and_seeds(study: optuna.Study, objectives: dict[str, str]) -> list[Candidate]:
    """The distinct complete candidates on the front, then the seeded architectures not on it."""
    pool = candidates(study)
    values = {t.number: list(t.values) for t in study.get_trials(deepcopy=False) if t.values is not None}
    signs = [-1.0 if d == "maximize" else 1.0 for d in objectives.values()]
    ranks = pareto_ranks([[s * v for s, v in zip(signs, values[c.number])] for c in pool])
    front = [c for c, r in zip(pool, ranks) if r == 0]
    return front + [c for c, r in zip(pool, ranks) if r != 0 and c.architecture]


def run_confirm(study: str, seeds: int, storage: str | None = None, root: str | Path = DEFAULT_ROOT,
                evaluate_fn: EvaluateFn | None = None, out: TextIO | None = None, show_progress: bool = True,
                **overrides: Any) -> Summary:
    """Evaluate the front and seeds of `study` on `seeds` seeds (module docstring); `overrides`
    replace run settings (parallel, executor, ...). Returns the confirm study's summary.

    Raises:
        InputError: no such study, no recorded settings, a missing or edited space file, seeds < 2.
    """
    out = sys.stderr if out is None else out  # resolved per call: a stream bound at import can be closed
    if not 2 <= seeds <= MAX_SEEDS:
        raise InputError(f"--seeds must be between 2 and {MAX_SEEDS} (a probability over seeds needs several), got {seeds}")
    try:
        handle = optuna.load_study(study_name=study, storage=open_storage(storage, study, root, create=False))
    except KeyError:
        raise InputError(f"no study {study!r} in {redact(storage) or Path(root) / study}") from None
    settings = resume_settings(handle, RunSettings, storage, root)
    space = recorded_space(handle, settings)
    pool = front_and_seeds(handle, dict(space.objectives))
    if not pool:
        raise InputError(f"study {study!r} has no complete trial to confirm")
    name = confirm_study(study, seeds)
    settings = dataclasses.replace(settings, study=name, **{k: v for k, v in overrides.items() if v is not None})
    seeded = at_protocol(space, dataclasses.replace(space.protocol, seeds=seeds))
    if show_progress:
        print(f"confirming {len(pool)} candidates of {study!r} (front and seeded architectures) on {seeds} seeds "
              f"in study {name!r}", file=out)
    record = {STUDY_CONFIRM: {"of": study, "seeds": seeds, "trials": [c.number for c in pool]},
              A.STUDY_SPACE: _space_record(space)}
    return evaluate_candidates(settings, seeded, pool, record, evaluate_fn, out, show_progress)
