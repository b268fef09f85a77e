"""`dsf-search reproduce`: studies found by name, run end to end, judged, written to a showcase
and compared with the committed verdicts on a rerun."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsf_search.cli import main

PROTOCOL = """\
name: tiny_parity
tasks:
  - task: parity
    params: {seq_len: 12, min_len: 3, test_seq_len: 12, test_min_len: 6, num_train: 64, num_test: 32}
training: {batch_size: 16, max_steps: 4, lr: 3.0e-3, eval_every: 4}
timeout_s: 60
resources: {cpus: 1, gpus: 0}
seeds: 2
model_defaults: {d_model: 16, n_layers: 1}
"""

STUDY = """\
name: tiny_study
evaluator: ../../evaluators/tiny_parity.yaml
model:
  layers:
    preset: deltanet
    eigenvalues: {choice: [signed, nonnegative]}
objectives: {quality: maximize, state_bytes: minimize}
search: {sampler: grid, parallelism: 1}
expect:
  source: "a test source"
  claims:
    - claim: accuracy is a probability
      at_most: {metric: acc.parity, value: 1.0}
    - claim: signed beats nonnegative by 2 (impossible)
      compare: {metric: acc.parity, better: "eigenvalues == 'signed'", than: "eigenvalues == 'nonnegative'", by: 2}
"""


@pytest.fixture
def checkout(tmp_path: Path, monkeypatch) -> Path:
    """A folder laid out as the checkout: spaces/studies/, evaluators/, results/ (the cwd)."""
    (tmp_path / "spaces" / "studies").mkdir(parents=True)
    (tmp_path / "evaluators").mkdir()
    (tmp_path / "results").mkdir()
    (tmp_path / "evaluators" / "tiny_parity.yaml").write_text(PROTOCOL)
    (tmp_path / "spaces" / "studies" / "tiny_study.yaml").write_text(STUDY)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_reproduce_runs_judges_ships_and_compares_with_the_shipped_verdicts(checkout, capsys):
    showcase = checkout / "results" / "showcase"
    code = main(["reproduce", "tiny_study", "--serial", "--quiet", "--showcase", str(showcase)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "PASS         accuracy is a probability" in out
    assert "FAIL         signed beats nonnegative by 2 (impossible)" in out
    assert "needs >= 2" in out and "(n = 2, 2)" in out  # one candidate per side, two seeds each
    shipped = json.loads((showcase / "tiny_study" / "verdicts.json").read_text())
    assert [c["verdict"] for c in shipped["claims"]] == ["PASS", "FAIL"]
    assert shipped["machine"]["cpus"] and shipped["trials_wall_s"] > 0 and shipped["source"] == "a test source"
    assert (showcase / "tiny_study" / "trials.csv").read_text().count("\n") == 3  # header + 2 trials
    assert "| FAIL | signed beats nonnegative by 2 (impossible) |" in (showcase / "tiny_study" / "README.md").read_text()
    assert (checkout / "results" / "tiny_study" / "verdicts.json").is_file()

    assert main(["reproduce", "--list"]) == 0
    listing = capsys.readouterr().out
    assert "tiny_study: 2 claim(s), 2 candidates; committed: FAIL (1 PASS, 1 FAIL" in listing
    assert "source: a test source" in listing

    assert main(["reproduce", "--list", "--markdown"]) == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0] == "| study | claim | verdict | numbers | trials wall time |"
    assert ("| [tiny_study](../results/showcase/tiny_study/README.md) | signed beats nonnegative by 2 (impossible) | "
            "**FAIL** | compare on `acc.parity`: mean(better) - mean(than) = ") in table

    # a rerun finds the study complete, judges it again and compares with the committed verdicts
    assert main(["reproduce", "tiny_study", "--serial", "--quiet"]) == 0
    again = capsys.readouterr().out
    assert "(committed: PASS, same)" in again and "(committed: FAIL, same)" in again


def test_quick_runs_its_own_study_at_a_smoke_budget(checkout, capsys):
    assert main(["reproduce", "tiny_study", "--quick", "--serial", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "verdicts of tiny_study.quick" in out and "committed" not in out
    assert (checkout / "results" / "tiny_study.quick" / "journal.log").is_file()
    assert not (checkout / "results" / "tiny_study").exists()


def test_unknown_study_and_a_study_without_claims_are_bad_input(checkout, capsys):
    assert main(["reproduce", "tiny_stuyd"]) == 2
    assert "unknown study 'tiny_stuyd' (did you mean 'tiny_study'?)" in capsys.readouterr().err
    plain = STUDY[:STUDY.index("expect:")].replace("tiny_study", "plain")
    (checkout / "spaces" / "studies" / "plain.yaml").write_text(plain)
    assert main(["reproduce", "plain", "--serial"]) == 2
    assert "a study needs an `expect:` section" in capsys.readouterr().err


def test_a_claim_naming_an_unknown_column_stops_before_any_training(checkout, capsys):
    path = checkout / "spaces" / "studies" / "tiny_study.yaml"
    path.write_text(STUDY.replace("better: \"eigenvalues", "better: \"eigenvalue"))
    assert main(["reproduce", "tiny_study", "--serial", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "tiny_study.yaml:15: expect.claims[1].compare.better: unknown column 'eigenvalue'" in err
    assert not (checkout / "results" / "tiny_study").exists()


REPO = Path(__file__).resolve().parents[2]


def test_a_shipped_study_runs_end_to_end_at_the_quick_budget(tmp_path):
    """What CI runs of `reproduce`: the grazzi_parity study of spaces/studies/, through Ray."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(REPO), "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
    proc = subprocess.run([sys.executable, "-m", "dsf_search", "reproduce", "grazzi_parity", "--quick", "--root",
                           str(tmp_path), "--quiet"], cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "verdicts of grazzi_parity.quick" in proc.stdout
    shipped = json.loads((REPO / "results" / "showcase" / "grazzi_parity" / "verdicts.json").read_text())
    quick = json.loads((tmp_path / "grazzi_parity.quick" / "verdicts.json").read_text())
    assert [c["claim"] for c in quick["claims"]] == [c["claim"] for c in shipped["claims"]]
    assert all(c["verdict"] in ("PASS", "FAIL", "INCONCLUSIVE") for c in quick["claims"]) and quick["quick"]
    assert all(c["judgement"]["n"] for c in quick["claims"])  # every claim saw the quick trials' seeds


def test_docs_studies_shows_every_committed_claim(monkeypatch, capsys):
    """docs/studies.md's table is `reproduce --list --markdown` over the committed results, and
    every study of spaces/studies/ has committed verdicts for each of its claims."""
    monkeypatch.chdir(REPO)
    assert main(["reproduce", "--list", "--markdown"]) == 0
    table = capsys.readouterr().out
    assert (REPO / "docs" / "studies.md").read_text().endswith(table)
    assert "(not run yet)" not in table
    from dsf_search.search.plan import load_plan
    from dsf_search.search.studies import study_files

    for path in study_files(REPO / "spaces" / "studies"):
        plan = load_plan(path)
        shipped = json.loads((REPO / "results" / "showcase" / plan.name / "verdicts.json").read_text())
        assert [c["claim"] for c in shipped["claims"]] == [c.claim for c in plan.expect.claims], plan.name
