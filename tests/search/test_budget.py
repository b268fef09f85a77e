"""Repeats of an evaluated architecture do not spend the trial budget; what a run says."""

from __future__ import annotations

import io

import optuna
from optuna.trial import TrialState

from dsf_search.search import attrs as A
from dsf_search.search import run_search
from dsf_search.search.storage import open_storage
from tests.search.test_driver import Counting


def run(space: str, evaluate_fn=None, **kw):
    out = io.StringIO()
    summary = run_search(space, evaluate_fn=evaluate_fn, out=out, show_progress=False, executor="serial", **kw)
    return summary, out.getvalue()


def test_the_target_counts_distinct_architectures_and_repeats_are_told_to_optuna(make_space):
    counting = Counting()
    summary, _ = run(make_space(trials=7), counting)  # 8 distinct specs; the random sampler repeats some
    assert summary.complete == 7 and len(counting.hashes) == 7 == len(set(counting.hashes))
    study = optuna.load_study(study_name="tiny_space", storage=open_storage(None, "tiny_space"))
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    repeats = [t for t in complete if A.DUPLICATE_OF in t.user_attrs]
    assert len(complete) == 7 + len(repeats) and summary.reused == len(repeats)
    assert all(t.values == study.trials[t.user_attrs[A.DUPLICATE_OF]].values for t in repeats)


def test_a_small_space_says_when_it_is_exhausted(make_space):
    from tests.search import faults

    summary, out = run(make_space(trials=8), faults.raises)  # state_size 8 fails: 4 complete, 4 failed
    assert summary.complete == 4 and summary.exhausted
    assert "the space is exhausted" in out


def test_the_opening_line_and_the_hint_when_the_target_is_reached(make_space):
    space = make_space(trials=2)
    _, out = run(space)
    first = out.splitlines()[0]
    assert first.startswith("study 'tiny_space': space ") and "protocol " in first and "(tiny)" in first
    assert "results/tiny_space/journal.log, executor serial" in first
    # the serial executor runs one trial at a time, whatever the space's parallelism says
    assert "one at a time at 1 CPU / 0 GPU per trial" in first and "in parallel" not in first
    summary, out = run(space)
    assert summary.complete == 2 and "2 of 2 complete; pass --trials N (N > 2) to continue" in out


def interrupts(spec, protocol, **kw):
    raise KeyboardInterrupt


def test_an_interrupted_trial_reads_as_interrupted_and_the_resume_line_says_how(make_space, capsys):
    import pytest

    from dsf_search.cli import main
    from dsf_search.search.signals import Interrupted

    with pytest.raises(Interrupted) as stopped:
        run(make_space(trials=2), interrupts)
    assert "Continue with: dsf-search resume tiny_space" in stopped.value.message
    assert main(["status", "tiny_space"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "INTERRUPTED (re-queued) 1" in out and "FAIL 0" in out
    assert main(["compare", "tiny_space"]) == 0
    assert "interrupted" in capsys.readouterr().out
