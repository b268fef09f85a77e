"""The trained weights each trial keeps: they are the trial's model, and report/coefficients use them."""

from __future__ import annotations

import optuna
import pytest
import torch

from dsf_search.cli import main
from dsf_search.evaluate.score import score_split
from dsf_search.results.report import build_report
from dsf_search.results.study import load_study
from dsf_search.results.weights import trial_model
from dsf_search.search import attrs as A
from dsf_search.tasks import make_task


def evaluated(study) -> list[optuna.trial.FrozenTrial]:
    return [t for t in study.get_trials(states=(optuna.trial.TrialState.COMPLETE,)) if A.DUPLICATE_OF not in t.user_attrs]


def test_the_kept_weights_reproduce_the_trials_test_accuracy(study):
    handle = load_study(study.name, root=study.root)
    trials = evaluated(handle)
    assert trials and all(t.user_attrs[A.WEIGHTS] == {"parity": f"trials/{t.number}/parity.pt"} for t in trials)
    for t in trials[:3]:
        kept = trial_model(handle, t.number, study.root)
        params = dict(kept.info)
        assert params["task"] == "parity" and kept.path.exists()
        protocol_task = make_task("parity", seq_len=12, min_len=3, test_seq_len=12, test_min_len=6, num_train=64,
                                  num_test=32)  # the tiny protocol's task, seed 0 as the study
        data = protocol_task.generate(seed=t.user_attrs[A.SEED])
        score = score_split(kept.model(), data.test_inputs, data.test_targets, 256, torch.device("cpu"))
        assert score.accuracy == pytest.approx(t.user_attrs[A.METRICS]["acc.parity"], abs=1e-9)


def test_a_repeat_points_to_the_weights_of_the_trial_it_repeats(study):
    handle = load_study(study.name, root=study.root)
    repeats = [t for t in handle.get_trials() if A.DUPLICATE_OF in t.user_attrs and t.state.name == "COMPLETE"]
    for t in repeats:
        assert trial_model(handle, t.number, study.root).number == t.user_attrs[A.DUPLICATE_OF]


def test_report_maps_use_the_kept_weights_and_say_so(study, tmp_path, capsys):
    index = build_report(study.name, root=study.root, out=tmp_path / "r", maps=1, max_len=12,
                         log=lambda m: print(m))
    text = index.read_text()
    assert "the trial&#x27;s trained weights for parity, kept at" in text
    log = capsys.readouterr().out
    assert "drawing the Pareto front" in log and "coefficient map 1/1" in log


def test_coefficients_of_a_study_trial_from_another_directory(study, tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib")
    handle = load_study(study.name, root=study.root)
    number = evaluated(handle)[0].number
    monkeypatch.chdir(tmp_path)  # no evaluators/ and no space file relative to here
    out = tmp_path / "map.png"
    assert main(["coefficients", study.name, "--trial", str(number), "--root", str(study.root.resolve()),
                 "--out", str(out), "--max-len", "12"]) == 0
    assert "with its trained weights for task parity" in capsys.readouterr().out
    assert out.read_bytes().startswith(b"\x89PNG")
    assert main(["coefficients", study.name, "--trial", "999", "--root", str(study.root.resolve()),
                 "--out", str(out)]) == 2
    assert "--trial 999" in capsys.readouterr().err
    assert main(["coefficients", "deltanet", "--out", str(out), "--max-len", "8"]) == 0  # the default protocol
    assert "coefficient map of deltanet" in capsys.readouterr().out
