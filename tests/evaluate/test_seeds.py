"""Repeated seeds: Student-t intervals, the `seeds` key, and per-seed results that are exactly
the single-seed runs with those seeds."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from dsf_search.cli import main
from dsf_search.core import zoo
from dsf_search.evaluate import ProtocolError, evaluate, parse_protocol
from dsf_search.evaluate.seeds import aggregate_metrics, combine
from dsf_search.evaluate.stats import summarize, t_quantile

# A protocol short enough that accuracy still differs between seeds (so the test can fail).
NOISY = """\
name: noisy
tasks:
  - task: memorization
    params: {vocab_size: 33, seq_len: 8, num_train: 256, num_test: 64}
training: {batch_size: 32, max_steps: 12, lr: 1.0e-2, eval_every: 6, target_accuracy: 0.99}
resources: {cpus: 1}
model_defaults: {d_model: 16, n_layers: 1}
"""

# t_{0.975, df} from printed tables (e.g. NIST/SEMATECH e-Handbook, table 1.3.6.7.2).
T_TABLE = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 9: 2.262, 19: 2.093, 29: 2.045}


@pytest.mark.parametrize("df", sorted(T_TABLE))
def test_t_quantile_matches_the_printed_table(df):
    assert t_quantile(0.975, df) == pytest.approx(T_TABLE[df], abs=6e-4)


def test_summary_of_three_values_and_of_one():
    s = summarize([1.0, 2.0, 3.0])
    half = 4.303 * 1.0 / math.sqrt(3)  # t_{0.975,2} * s / sqrt(N), s = 1
    assert (s.mean, s.std) == (2.0, pytest.approx(1.0))
    assert s.ci_low == pytest.approx(2.0 - half, abs=1e-3) and s.ci_high == pytest.approx(2.0 + half, abs=1e-3)
    one = summarize([0.7])
    assert one.mean == 0.7 and one.std is None and one.ci_low is None and one.ci_high is None


def test_metrics_without_interval_for_one_seed_and_for_costs():
    assert aggregate_metrics([{"quality": 0.5, "params": 10.0}]) == {"quality": 0.5, "params": 10.0}
    two = aggregate_metrics([{"quality": 0.4, "params": 10.0}, {"quality": 0.6, "params": 10.0}])
    assert set(two) == {"quality", "quality.std", "quality.ci_low", "quality.ci_high", "params"}
    assert two["quality"] == pytest.approx(0.5) and two["quality.ci_low"] < 0.4 < 0.6 < two["quality.ci_high"]


def test_seeds_key_is_validated_with_line_and_key():
    assert parse_protocol(NOISY + "seeds: 4\n").seeds == 4
    assert parse_protocol(NOISY).seeds == 1
    with pytest.raises(ProtocolError) as err:
        parse_protocol(NOISY + "seeds: 0\n", source="p.yaml")
    assert "p.yaml:8: seeds: must be between 1 and 100, got 0" in str(err.value)
    with pytest.raises(ProtocolError, match="p.yaml:8: seeds: expected an integer"):
        parse_protocol(NOISY + "seeds: many\n", source="p.yaml")


def test_per_seed_values_equal_separate_single_seed_runs():
    single = parse_protocol(NOISY)
    spec = zoo.model("deltanet_signed", d_model=16, n_layers=1, vocab_size=33)
    seeded = evaluate(spec, dataclasses.replace(single, seeds=3), device="cpu", seed=5)
    assert seeded.ok and seeded.seeds == [5, 6, 7]
    separate = [evaluate(spec, single, device="cpu", seed=s, data_seed=5) for s in (5, 6, 7)]
    for record, run in zip(seeded.per_seed, separate):
        assert record["seed"] == run.seed and record["metrics"] == run.metrics
    accuracies = [run.metrics["acc.memorization"] for run in separate]
    assert len(set(accuracies)) > 1  # the seeds differ, so the interval is a real one
    expected = summarize(accuracies)
    assert seeded.metrics["acc.memorization"] == pytest.approx(expected.mean)
    assert seeded.metrics["acc.memorization.std"] == pytest.approx(expected.std)
    assert seeded.metrics["acc.memorization.ci_low"] == pytest.approx(expected.ci_low)
    assert seeded.metrics["acc.memorization.ci_high"] == pytest.approx(expected.ci_high)
    assert "params.std" not in seeded.metrics and seeded.metrics["params"] == separate[0].metrics["params"]


def test_a_failing_seed_fails_the_candidate_and_keeps_the_others():
    ok = evaluate(zoo.model("deltanet", d_model=16, n_layers=1, vocab_size=33), parse_protocol(NOISY), device="cpu")
    bad = dataclasses.replace(ok, status="diverged", reason="training: non-finite loss", seed=1, failed_step=3)
    combined = combine([ok, bad])
    assert combined.status == "diverged" and combined.reason.startswith("seed 1: ")
    assert [r["status"] for r in combined.per_seed] == ["ok", "diverged"]
    assert combined.metrics["quality"] == pytest.approx(ok.metrics["quality"])  # the seed that trained


def test_cli_prints_mean_interval_and_per_seed_table(tmp_path, capsys):
    evaluator = tmp_path / "noisy.yaml"
    evaluator.write_text(NOISY + "seeds: 3\n")
    assert main(["evaluate", "deltanet_signed", "--evaluator", str(evaluator), "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "seeds: 0, 1, 2" in out and "mean over 3 seeds" in out and "per seed:" in out
    line = next(l for l in out.splitlines() if l.strip().startswith("quality"))
    assert "±" in line and "[" in line and "std" in line
    assert main(["evaluate", "deltanet_signed", "--evaluator", str(evaluator), "--device", "cpu", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert [r["seed"] for r in record["per_seed"]] == [0, 1, 2] and "quality.ci_high" in record["metrics"]
