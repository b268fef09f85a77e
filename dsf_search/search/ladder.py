"""A fidelity ladder: screen every candidate with a cheap protocol, promote the best share
(successive halving), evaluate the promoted ones with the next protocol, up to the space's own.

The space's `search.ladder` lists the screening rungs, cheapest first, each with its
`keep` / `min`; the space's `evaluator` is the last rung. Storage: one study per rung, in the
same storage — the screening rung i is the study `<study>.rung<i>` (a sampled search, like any
`run`), the last rung is `<study>` itself (the promoted candidates only), so `results`,
`report` and `confirm` on the study name read the full-fidelity results. Each rung study
records the whole ladder (study attribute `ladder`) so the results can pair the rungs.
Resumable: running (or resuming) the ladder again continues the screening search to its
target, promotes again (deterministic given the screen's results), and evaluates only the
promoted candidates the next rung has not finished.
"""

from __future__ import annotations

import copy
import dataclasses
import sys
import time
from typing import Any, TextIO

import optuna

from dsf_search.evaluate.protocol import Protocol
from dsf_search.search import attrs as A
from dsf_search.search.driver import Driver, RunSettings, Summary, _space_record
from dsf_search.search.fixed import evaluate_candidates
from dsf_search.search.promotion import candidates, promote
from dsf_search.search.storage import open_storage
from dsf_search.search.worker import EvaluateFn
from dsf_search.search.plan import SearchPlan

STUDY_LADDER = "ladder"


def rung_studies(study: str, screens: int) -> list[str]:
    """The study of each rung: `<study>.rung0` ... for the screens, `<study>` for the last."""
    return [f"{study}.rung{i}" for i in range(screens)] + [study]


def at_protocol(space: SearchPlan, protocol: Protocol) -> SearchPlan:
    """The space, evaluated with `protocol` (every other setting kept)."""
    out = copy.copy(space)
    out.protocol = protocol
    return out


@dataclasses.dataclass
class LadderSummary:
    """What a ladder run did: each rung's summary and wall time, and who was promoted."""

    rungs: list[Summary]
    studies: list[str]
    promoted: list[list[int]]
    elapsed_s: float

    @property
    def final(self) -> Summary:
        return self.rungs[-1]


def ladder_record(space: SearchPlan, studies: list[str]) -> dict[str, Any]:
    rungs = [{"study": name, "evaluator": str(rung.evaluator), "protocol": rung.protocol.name,
              "keep": rung.keep, "min": rung.min} for name, rung in zip(studies, space.search.ladder)]
    rungs.append({"study": studies[-1], "evaluator": str(space.evaluator), "protocol": space.protocol.name})
    return {"rungs": rungs, "statistic": space.search.statistic}


def run_ladder(settings: RunSettings, space: SearchPlan, evaluate_fn: EvaluateFn | None = None, out: TextIO | None = None,
               show_progress: bool = True) -> LadderSummary:
    """Run every rung of the space's ladder (module docstring); `settings.study` names the last."""
    out = sys.stderr if out is None else out  # resolved per call: a stream bound at import can be closed
    start = time.monotonic()
    studies = rung_studies(settings.study, len(space.search.ladder))
    protocols = [rung.protocol for rung in space.search.ladder] + [space.protocol]
    record = {STUDY_LADDER: ladder_record(space, studies)}
    screen = dataclasses.replace(settings, study=studies[0])
    if show_progress:
        print(f"rung 0 ({protocols[0].name}): searching {settings.trials} candidates in study {studies[0]!r}", file=out)
    summaries = [Driver(screen, at_protocol(space, protocols[0]), evaluate_fn, out, show_progress).run()]
    _record(settings, studies[0], record)
    promoted_numbers = []
    for i in range(1, len(studies)):
        rung = space.search.ladder[i - 1]
        source = optuna.load_study(study_name=studies[i - 1], storage=open_storage(settings.storage, studies[i - 1], settings.root))
        pool = candidates(source)
        promoted = promote(pool, dict(space.objectives), space.search.statistic, rung.keep, rung.min)
        promoted_numbers.append([c.number for c in promoted])
        if show_progress:
            print(f"rung {i} ({protocols[i].name}): promoted {len(promoted)} of {len(pool)} candidates of "
                  f"{studies[i - 1]!r} (keep {rung.keep:g}, at least {rung.min}): trials "
                  f"{', '.join(str(c.number) for c in promoted)}", file=out)
        rung_settings = dataclasses.replace(settings, study=studies[i])
        summaries.append(evaluate_candidates(rung_settings, at_protocol(space, protocols[i]), promoted,
                                             {**record, A.STUDY_SPACE: _space_record(space)}, evaluate_fn, out, show_progress))
    return LadderSummary(summaries, studies, promoted_numbers, time.monotonic() - start)


def _record(settings: RunSettings, study: str, record: dict[str, Any]) -> None:
    handle = optuna.load_study(study_name=study, storage=open_storage(settings.storage, study, settings.root))
    for key, value in record.items():
        handle.set_user_attr(key, value)
