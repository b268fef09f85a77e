"""Results with uncertainty: a study whose protocol trains every candidate on two seeds shows
mean ± interval, draws error bars, breaks axes down with intervals and states axis effects as
differences of means with Welch intervals."""

from __future__ import annotations

import io
import math

import pandas as pd
import pytest

from dsf_search.cli import main
from dsf_search.results import table
from dsf_search.results.pareto import candidates
from dsf_search.results.study import load_study
from dsf_search.results.uncertainty import axis_effects, interval_text, with_intervals
from dsf_search.search import run_search
from tests.search.conftest import TINY_PROTOCOL, TINY_SPACE

STUDY = "seeded"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("seeded_study")
    (folder / "tiny.yaml").write_text(TINY_PROTOCOL + "seeds: 2\n")
    space = folder / f"{STUDY}.yaml"
    space.write_text(TINY_SPACE.format(name=STUDY, extra="", sampler="random", trials=5, parallelism=1))
    root = folder / "results"
    run_search(str(space), out=io.StringIO(), show_progress=False, executor="serial", root=str(root))
    return root


def test_trials_keep_intervals_and_per_seed_values(seeded):
    df = table(load_study(STUDY, None, seeded))
    done = df[df["state"] == "COMPLETE"]
    assert len(done[done["duplicate_of"].isna()]) == 5  # repeats are answered, not counted
    assert done["quality.ci_low"].notna().all() and (done["quality.ci_low"] <= done["quality"]).all()
    assert "state_bytes.ci_low" not in df  # an analytic cost is the same on every seed
    trial = load_study(STUDY, None, seeded).get_trials()[0]
    per_seed = trial.user_attrs["per_seed"]
    assert [r["seed"] for r in per_seed] == [0, 1]
    assert trial.user_attrs["metrics"]["quality"] == pytest.approx(sum(r["metrics"]["quality"] for r in per_seed) / 2)


def test_results_table_shows_mean_plus_minus_half_interval(seeded, capsys):
    assert main(["results", STUDY, "--root", str(seeded)]) == 0
    out = capsys.readouterr().out
    assert "±" in out and "quality.ci_low" not in out
    assert main(["results", STUDY, "--root", str(seeded), "--format", "csv"]) == 0
    assert "quality.ci_low" in capsys.readouterr().out  # the exports keep the numbers


def test_compare_by_axis_gives_interval_of_each_mean(seeded, capsys):
    assert main(["compare", STUDY, "--by", "transition", "--root", str(seeded), "--format", "json"]) == 0
    import json

    rows = json.loads(capsys.readouterr().out)
    df = table(load_study(STUDY, None, seeded))
    done = candidates(df, {"quality": "maximize", "state_bytes": "minimize"})  # distinct specs
    for row in rows:
        group = done.loc[done["param.transition"] == row["transition"], "quality"]
        assert row["quality mean"] == pytest.approx(group.mean())
        if len(group) >= 2:
            assert row["quality ci_low"] < row["quality mean"] < row["quality ci_high"]
        else:
            assert row["quality ci_low"] is None


def test_pareto_plot_draws_error_bars(seeded):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from dsf_search.results.plots import _error_bars

    df = table(load_study(STUDY, None, seeded))
    fig, ax = plt.subplots()
    _error_bars(ax, df[df["state"] == "COMPLETE"], "state_bytes", "quality")
    assert len(ax.containers) == 1 and ax.containers[0].has_yerr and not ax.containers[0].has_xerr
    plt.close(fig)


def test_welch_difference_against_the_printed_t_table():
    done = pd.DataFrame({"param.eigenvalues": ["signed"] * 3 + ["nonnegative"] * 3 + ["x"],
                         "quality": [4.0, 5.0, 6.0, 1.0, 2.0, 3.0, 9.0]})
    effects = axis_effects(done, ["param.eigenvalues"], "quality")
    row = effects[effects["value"] == "signed"].iloc[0]
    # equal n and variances: df = 2(n-1) = 4, t_{0.975,4} = 2.776, se = sqrt(2/3)
    half = 2.776 * math.sqrt(2 / 3)
    assert row["versus"] == "nonnegative" and row["difference"] == pytest.approx(3.0)  # nonnegative sorts first
    assert row["ci_low"] == pytest.approx(3.0 - half, abs=1e-3) and row["ci_high"] == pytest.approx(3.0 + half, abs=1e-3)
    single = effects[effects["value"] == "x"].iloc[0]
    assert single["n"] == 1 and pd.isna(single["ci_low"])


def test_interval_text_and_rows_without_interval():
    assert interval_text(0.5, 0.4, 0.6) == "0.5 ± 0.1"
    assert interval_text(0.5, None, None) == "0.5"
    df = pd.DataFrame({"quality": [0.5, 0.7], "quality.ci_low": [0.4, None], "quality.ci_high": [0.6, None]})
    assert with_intervals(df, ["quality"])["quality"].tolist() == ["0.5 ± 0.1", "0.7"]


def test_report_states_effects_and_warns_on_few_trials(seeded, tmp_path):
    from dsf_search.results.report import build_report

    index = build_report(STUDY, root=seeded, out=tmp_path / "report", maps=0)
    text = index.read_text()
    assert "difference of mean quality" in text and " vs " in text
    assert "±" in text
