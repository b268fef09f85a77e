"""`search: {statistic: lower_bound}`: objectives rank by the pessimistic end of the seed interval."""

from __future__ import annotations

import io

import optuna
import pytest
from optuna.trial import TrialState

from dsf_search.search import run_search
from dsf_search.search.statistic import objective_value
from dsf_search.search.storage import open_storage
from dsf_search.space import SpaceError, load_space


def test_objective_value_picks_the_pessimistic_bound():
    metrics = {"quality": 0.5, "quality.ci_low": 0.3, "quality.ci_high": 0.7, "state_bytes": 64.0}
    assert objective_value(metrics, "quality", "maximize") == 0.5
    assert objective_value(metrics, "quality", "maximize", "lower_bound") == 0.3
    assert objective_value({**metrics, "decode_ms.ci_high": 2.0, "decode_ms": 1.0}, "decode_ms", "minimize",
                           "lower_bound") == 2.0
    assert objective_value(metrics, "state_bytes", "minimize", "lower_bound") == 64.0  # no interval: its value


def test_lower_bound_needs_seeds(make_space, tmp_path):
    path = make_space(trials=2)
    text = open(path).read().replace("seed: 0}", "seed: 0, statistic: lower_bound}")
    open(path, "w").write(text)
    with pytest.raises(SpaceError, match="search.statistic: lower_bound ranks by the 95% interval"):
        load_space(path)
    (tmp_path / "tiny.yaml").write_text((tmp_path / "tiny.yaml").read_text() + "seeds: 2\n")
    run_search(path, out=io.StringIO(), show_progress=False, executor="serial")
    study = optuna.load_study(study_name="tiny_space", storage=open_storage(None, "tiny_space"))
    done = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(done) == 2
    for t in done:
        assert t.values[0] == t.user_attrs["metrics"]["quality.ci_low"] <= t.user_attrs["metrics"]["quality"]
