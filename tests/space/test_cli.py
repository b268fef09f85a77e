"""`dsf-search validate` and `dsf-search sample`: output and exit codes."""

from __future__ import annotations

from pathlib import Path

from dsf_search.cli import main

SPACES = Path(__file__).resolve().parents[2] / "spaces"


def test_validate_valid_space(capsys) -> None:
    assert main(["validate", str(SPACES / "quickstart.yaml")]) == 0
    out = capsys.readouterr().out
    assert "transition   choice [scalar, diagonal, householder, householder_scalar, householder_diagonal]" in out
    assert "injection    one   when transition in [scalar, diagonal]" in out
    assert "size: 108 candidates" in out
    assert "seeds (3):" in out and "gated_deltanet" in out
    assert "constraints: params <= 130000" in out
    assert "rejected before training (constraints, design-check errors): 8 of 108" in out


def test_validate_shows_continuous_and_findings(write, capsys) -> None:
    path = write("""
        name: t
        evaluator: EV
        model:
          mlp_ratio: {float: [1, 4], log: true}
          layers: {preset: linear_attention}
        seeds: [linear_attention]
        objectives: [quality]
    """)
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "size: continuous" in out
    assert "mlp_ratio  float [1, 4] log" in out
    assert "P3 warning (layer 0)" in out


def test_validate_invalid_space_exits_2(write, capsys) -> None:
    path = write("name: t\nevaluator: EV\nmodel:\n  layers:\n    transition: scalr\nobjectives: [quality]\n")
    assert main(["validate", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"{path}:5: model.layers.transition: found 'scalr'" in captured.err


def test_validate_missing_file_exits_2(tmp_path, capsys) -> None:
    assert main(["validate", str(tmp_path / "nope.yaml")]) == 2
    assert "cannot read the space file" in capsys.readouterr().err


def test_sample_prints_k_specs_deterministically(capsys) -> None:
    args = ["sample", str(SPACES / "injection_scaling.yaml"), "-n", "4", "--seed", "3"]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert main(args) == 0
    assert capsys.readouterr().out == first
    lines = first.splitlines()
    hashes = [line.split()[1] for line in lines if line.startswith("[")]
    assert len(hashes) == 4 == len(set(hashes))  # distinct candidates
    assert not any(line.startswith('    {"vocab_size"') for line in lines)  # readable, JSON only with --json
    assert "4 distinct candidates sampled from injection_scaling (seed 3)" in first
    assert main([*args, "--json"]) == 0
    assert sum(line.startswith('    {"vocab_size"') for line in capsys.readouterr().out.splitlines()) == 4


def test_sample_marks_rejected_candidates(write, capsys) -> None:
    path = write("""
        name: t
        evaluator: EV
        model:
          layers:
            state_size: {choice: [8, 128]}
        constraints: ["state_bytes <= 20000"]
        objectives: [quality]
    """)
    assert main(["sample", str(path), "-n", "6", "--seed", "0"]) == 0
    out = capsys.readouterr().out
    assert "2 distinct candidates sampled from t (seed 0) (the space holds only 2 distinct candidates)" in out
    rejected = [line for line in out.splitlines() if "REJECTED by state_bytes(512) <= 20000" in line]
    kept = [line for line in out.splitlines() if line.startswith("[") and "REJECTED" not in line]
    assert rejected and kept
    assert f"{len(rejected)} rejected before training" in out


def test_sample_bad_count_exits_2(capsys) -> None:
    assert main(["sample", str(SPACES / "zoo.yaml"), "-n", "0"]) == 2
    assert "-n" in capsys.readouterr().err
