"""A study trial as a model: its spec, and the trained weights the trial kept (if any).

The driver keeps, per trial, the trained weights of each task of the protocol (see
search/artifacts.py); this module finds a trial, picks a task's weights and rebuilds the model
at the size it was trained at (the task's vocabulary), for `coefficients`, `report` and `export`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
import torch

from dsf_search.core.model import SequenceModel
from dsf_search.core.spec import ModelSpec
from dsf_search.errors import InputError
from dsf_search.results.matches import unknown
from dsf_search.search import attrs as A
from dsf_search.search.storage import DEFAULT_ROOT, study_dir


@dataclass(frozen=True)
class TrialModel:
    """A study trial's spec; with kept weights, the task they were trained on, their file and contents."""

    number: int
    spec: ModelSpec
    task: str | None = None
    path: Path | None = None
    state_dict: dict[str, torch.Tensor] | None = None
    info: dict[str, Any] | None = None

    def model(self) -> SequenceModel:
        """The SequenceModel with the kept weights loaded (strictly); initialized when none were kept."""
        model = SequenceModel(self.spec)
        if self.state_dict is not None:
            model.load_state_dict(self.state_dict, strict=True)
        return model.eval()


def find_trial(study: optuna.Study, number: int) -> optuna.trial.FrozenTrial:
    """Trial `number` of `study`, following a repeat to the trial that was evaluated.

    Raises:
        InputError: no such trial, or it holds no spec (it never got past sampling).
    """
    trials = study.get_trials(deepcopy=False)
    if not 0 <= number < len(trials):
        raise InputError(f"--trial {number}: study {study.study_name!r} has trials 0..{len(trials) - 1}")
    trial = trials[number]
    source = trial.user_attrs.get(A.DUPLICATE_OF)
    if source is not None and 0 <= int(source) < len(trials):
        trial = trials[int(source)]
    if not trial.user_attrs.get(A.SPEC):
        raise InputError(f"--trial {number}: the trial holds no spec (state {trial.state.name})")
    return trial


def trial_model(study: optuna.Study, number: int, root: str | Path = DEFAULT_ROOT, task: str | None = None) -> TrialModel:
    """The spec of trial `number` and, when the trial kept them, the weights of `task` (default:
    the protocol's first task with weights).

    Raises:
        InputError: no such trial or task; a weights file that is missing or unreadable.
    """
    trial = find_trial(study, number)
    spec = ModelSpec.from_dict(trial.user_attrs[A.SPEC])
    kept: dict[str, str] = trial.user_attrs.get(A.WEIGHTS) or {}
    if not kept:
        if task is not None:
            raise InputError(f"--task {task}: trial {number} kept no trained weights")
        return TrialModel(trial.number, spec)
    if task is None:
        task = next(iter(kept))
    elif task not in kept:
        raise unknown("task", task, list(kept), f"among the weights trial {number} kept")
    folder = study_dir(study.study_name, root)
    path = (folder / kept[task]).resolve()
    if folder.resolve() not in path.parents:
        raise InputError(f"trial {number}: weights path {kept[task]!r} lies outside {folder}")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise InputError(f"trial {number}: its weights file {path} is missing (was the study folder moved without it?)") from None
    except Exception as err:  # noqa: BLE001 - a damaged file is bad input, named
        raise InputError(f"trial {number}: cannot read weights {path}: {type(err).__name__}: {err}") from None
    info = {k: v for k, v in data.items() if k not in ("spec", "state_dict")}
    return TrialModel(trial.number, ModelSpec.from_dict(data["spec"]), task, path, data["state_dict"], info)
