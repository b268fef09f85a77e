"""Writing an evaluation's outcome into the study so that a computed result is never lost.

Two things can stand between a finished evaluation and its trial:
* the trial was finished by someone else (a second driver that took it for an orphan): the
  result is kept as a new trial carrying the same parameters and attributes, with
  `kept_from` naming the original trial;
* the storage cannot be written (disk full, read-only, database down): the result goes to a
  local fallback file next to the study (`unsaved_path`), one JSON line per trial, and
  `StoreUnwritable` stops the driver, saying where; the next run or resume replays the file
  into the study (`replay`) and renames it `.replayed-<time>`.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, TextIO

import optuna
from optuna.distributions import distribution_to_json, json_to_distribution
from optuna.exceptions import StorageInternalError, UpdateFinishedTrialError
from optuna.trial import FrozenTrial, Trial, TrialState

from dsf_search.search import attrs as A
from dsf_search.search.storage import DEFAULT_ROOT, journal_file, study_dir

STORAGE_ERRORS = (OSError, StorageInternalError)
UNSAVED_SUFFIX = ".unsaved.jsonl"


class StoreUnwritable(RuntimeError):
    """The storage refused a write; the result that needed it is in the fallback file."""


def unsaved_path(url: str | None, study: str, root: Path | str = DEFAULT_ROOT) -> Path:
    """The fallback file: beside the journal, or root/<study>/ for a database URL."""
    journal = journal_file(url, study, root)
    if journal is not None:
        return journal.with_name(journal.name + UNSAVED_SUFFIX)
    return study_dir(study, root) / ("study" + UNSAVED_SUFFIX)


class Recorder:
    """Tells the study a trial's outcome (see the module docstring)."""

    def __init__(self, study: optuna.Study, fallback: Path, out: TextIO):
        self.study, self.fallback, self.out = study, fallback, out

    def tell(self, trial: Trial, attrs: dict[str, Any], values: list[float] | None) -> FrozenTrial:
        """Set `attrs` on `trial` and tell it COMPLETE with `values` (FAIL when None)."""
        try:
            if self.study._storage.get_trial(trial._trial_id).state.is_finished():
                return self._as_new_trial(trial, attrs, values)
            for key, value in attrs.items():
                trial.set_user_attr(key, value)
            return self.study.tell(trial, values) if values is not None else self.study.tell(trial, state=TrialState.FAIL)
        except UpdateFinishedTrialError:
            return self._as_new_trial(trial, attrs, values)
        except STORAGE_ERRORS as err:
            problem = f"the storage could not be written ({type(err).__name__}: {err})"
            try:
                self._keep(trial, attrs, values)
            except OSError as also:  # the fallback's disk refuses too: the result goes to the message
                raise StoreUnwritable(
                    f"{problem}, nor could {self.fallback} ({also.strerror or also}); the result of trial "
                    f"{trial.number}: values {values}, metrics {json.dumps(attrs.get(A.METRICS, {}), default=str)}"
                ) from None
            raise StoreUnwritable(
                f"{problem}; the result of trial {trial.number} is kept in {self.fallback} and will be replayed "
                f"into the study by the next `dsf-search resume`"
            ) from None

    def _as_new_trial(self, trial: Trial, attrs: dict[str, Any], values: list[float] | None) -> FrozenTrial:
        frozen = self.study._storage.get_trial(trial._trial_id)
        print(f"trial {trial.number} was finished by another driver ({frozen.state.name}) while this one evaluated it; "
              f"keeping this driver's result as a new trial", file=self.out)
        # what the other driver wrote about its failure is not this result's
        earlier = {k: v for k, v in frozen.user_attrs.items() if k not in (A.FAILURE, A.FAILURE_KIND)}
        user_attrs = {**earlier, **attrs, A.KEPT_FROM: trial.number}
        return self._add(frozen.params, frozen.distributions, user_attrs, values, frozen.user_attrs.get(A.CONSTRAINTS))

    def _add(self, params, distributions, user_attrs, values, constraints) -> FrozenTrial:
        new = optuna.trial.create_trial(
            state=TrialState.COMPLETE if values is not None else TrialState.FAIL, values=values, params=params,
            distributions=distributions, user_attrs=user_attrs,
            constraints=dict(constraints) if constraints else None)
        self.study.add_trial(new)
        return self.study.trials[-1]

    def _keep(self, trial: Trial, attrs: dict[str, Any], values: list[float] | None) -> None:
        try:
            frozen = self.study._storage.get_trial(trial._trial_id)
            params, distributions, earlier = frozen.params, frozen.distributions, frozen.user_attrs
        except Exception:  # noqa: BLE001 - a storage that cannot be read either: keep what this driver knows
            params, distributions, earlier = trial.params, trial.distributions, {}
        entry = {"trial": trial.number, "values": values, "params": params,
                 "distributions": {k: distribution_to_json(d) for k, d in distributions.items()},
                 "user_attrs": {**earlier, **attrs}}
        self.fallback.parent.mkdir(parents=True, exist_ok=True)
        with open(self.fallback, "a") as f:
            f.write(json.dumps(entry, default=str) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def replay(self) -> int:
        """Write the fallback file's results into the study; return how many."""
        if not self.fallback.exists():
            return 0
        entries = [json.loads(line) for line in self.fallback.read_text().splitlines() if line.strip()]
        trials = {t.number: t for t in self.study.get_trials(deepcopy=False)}
        for e in entries:
            original = trials.get(e["trial"])
            values = e["values"]
            if original is not None and original.state == TrialState.RUNNING:
                for key, value in e["user_attrs"].items():
                    self.study._storage.set_trial_user_attr(original._trial_id, key, value)
                state = TrialState.COMPLETE if values is not None else TrialState.FAIL
                self.study._storage.set_trial_state_values(original._trial_id, state, values)
            else:
                distributions = {k: json_to_distribution(d) for k, d in e["distributions"].items()}
                attrs = {**e["user_attrs"], A.KEPT_FROM: e["trial"]}
                self._add(e["params"], distributions, attrs, values, attrs.get(A.CONSTRAINTS))
        self.fallback.rename(self.fallback.with_name(f"{self.fallback.name}.replayed-{time.strftime('%Y%m%dT%H%M%S')}"))
        print(f"replayed {len(entries)} result(s) that an unwritable storage had left in {self.fallback}", file=self.out)
        return len(entries)
