"""The studies of `dsf-search reproduce`: space files with an `expect:` section in
spaces/studies/, found by name, and the reduced (`--quick`) variant of a study.

The quick variant runs the same space, claims and search with a protocol cut to a smoke-test
budget (every task at most QUICK_STEPS optimizer steps on at most QUICK_TRAIN training and
QUICK_TEST test sequences, the first learning rate and weight decay of each grid, QUICK_SEEDS
seeds) and at most QUICK_TRIALS candidates, as its own study `<name>.quick`: it checks that a
study runs end to end, and its verdicts are not evidence (most are INCONCLUSIVE).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from dsf_search.errors import InputError
from dsf_search.evaluate.protocol import Protocol, TaskSetting, TrainConfig
from dsf_search.search.plan import SearchPlan
from dsf_search.suggest import did_you_mean

STUDIES = Path("spaces/studies")
QUICK_STEPS, QUICK_TRAIN, QUICK_TEST, QUICK_SEEDS, QUICK_TRIALS = 25, 512, 64, 2, 4
QUICK_TIMEOUT_S = 300.0
QUICK_SUFFIX = ".quick"


def studies_dir() -> Path:
    """spaces/studies of the working directory when it has one, else of the checkout this package
    runs from (so `reproduce` works from any directory)."""
    if STUDIES.is_dir():
        return STUDIES
    checkout = Path(__file__).resolve().parents[2] / STUDIES
    return checkout if checkout.is_dir() else STUDIES


def study_files(directory: Path | None = None) -> list[Path]:
    """The study files (`*.yaml`) of `directory` (default: studies_dir()), sorted by name."""
    directory = studies_dir() if directory is None else directory
    return sorted(p for p in directory.glob("*.yaml") if p.is_file()) if directory.is_dir() else []


def study_file(name: str, directory: Path | None = None) -> Path:
    """The file of study `name`.

    Raises:
        InputError: no such study (with the close matches, or the list of studies).
    """
    files = {p.stem: p for p in study_files(directory)}
    if name in files:
        return files[name]
    known = f"; studies: {', '.join(files)}" if files else f"; no study files in {directory or studies_dir()}"
    raise InputError(f"unknown study {name!r}{did_you_mean(name, list(files))}{known}")


def _quick_training(training: TrainConfig) -> TrainConfig:
    steps = min(training.steps(QUICK_TRAIN), QUICK_STEPS)
    return dataclasses.replace(training, max_steps=steps, epochs=None, lr=training.lr[:1],
                               weight_decay=training.weight_decay[:1], eval_every=min(training.eval_every, steps),
                               eval_batch_size=min(training.eval_batch_size, QUICK_TEST))


def _quick_setting(setting: TaskSetting) -> TaskSetting:
    params = dict(setting.params)
    for key, most in (("num_train", QUICK_TRAIN), ("num_test", QUICK_TEST)):
        if isinstance(params.get(key), int):
            params[key] = min(params[key], most)
    return dataclasses.replace(setting, params=params)


def quick_protocol(protocol: Protocol) -> Protocol:
    """`protocol` cut to the quick budget (see the module docstring); metrics and models unchanged."""
    tasks = tuple(dataclasses.replace(entry, settings=tuple(_quick_setting(s) for s in entry.settings),
                                      training=_quick_training(entry.training)) for entry in protocol.tasks)
    timeout = QUICK_TIMEOUT_S if protocol.timeout_s is None else min(protocol.timeout_s, QUICK_TIMEOUT_S)
    return dataclasses.replace(protocol, name=protocol.name + QUICK_SUFFIX, tasks=tasks, timeout_s=timeout,
                               seeds=min(protocol.seeds, QUICK_SEEDS))


def quick_plan(plan: SearchPlan) -> SearchPlan:
    """The quick variant of a study's plan: study `<name>.quick`, the quick protocol, at most
    QUICK_TRIALS trials (never fewer than its seeded architectures)."""
    if plan.protocol is None:
        raise InputError(f"{plan.file}: the study names no evaluator")
    trials = max(len(plan.seeds), min(plan.trials or QUICK_TRIALS, QUICK_TRIALS))
    return SearchPlan(name=plan.name + QUICK_SUFFIX, description=plan.description, file=plan.file, space=plan.space,
                      evaluator=plan.evaluator, protocol=quick_protocol(plan.protocol), objectives=plan.objectives,
                      constraints=plan.constraint_list, search=dataclasses.replace(plan.search, trials=trials, ladder=()),
                      checks=plan.checks, expect=plan.expect)
