"""Protocol files: the shipped ones load, malformed ones fail naming file:line and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsf_search.errors import InputError
from dsf_search.evaluate import ProtocolError, load_protocol, parse_protocol

EVALUATORS = Path(__file__).resolve().parents[2] / "evaluators"


@pytest.mark.parametrize("path", sorted(EVALUATORS.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_protocols_load(path):
    protocol = load_protocol(path)
    assert protocol.name == path.stem
    assert {"params", "state_bytes", "flops_per_token"} <= set(protocol.metrics)
    assert set(protocol.metrics.values()) <= {"maximize", "minimize"}


def test_quick_metrics_and_directions():
    protocol = load_protocol(EVALUATORS / "quick.yaml")
    assert protocol.metrics["acc.in_context_recall"] == "maximize"
    assert protocol.metrics["quality"] == "maximize"
    assert protocol.metrics["train_tokens_per_s"] == "maximize"
    for name in ("decode_ms_per_token", "peak_memory_mb", "params", "state_bytes", "flops_per_token"):
        assert protocol.metrics[name] == "minimize"
    assert protocol.model_defaults == {"d_model": 64, "n_layers": 2}


def test_mad_protocol_has_the_mad_grid_and_settings():
    mad = load_protocol(EVALUATORS / "mad.yaml")
    recall = next(t for t in mad.tasks if t.task == "in_context_recall")
    assert recall.training.lr == (1e-4, 5e-4, 1e-3) and recall.training.weight_decay == (0.0, 0.1)
    assert [s.id for s in recall.settings][:2] == ["baseline", "vocab_size=32"]
    assert len(recall.settings) == 1 + 3 + 3 + 4
    assert len(mad.tasks) == 6


def test_efficiency_protocol_has_no_task_metrics():
    protocol = load_protocol(EVALUATORS / "efficiency.yaml")
    assert not protocol.tasks and "quality" not in protocol.metrics and "decode_ms_per_token" in protocol.metrics


def _errors(text: str) -> list[str]:
    with pytest.raises(ProtocolError) as info:
        parse_protocol(text, source="bad.yaml")
    assert isinstance(info.value, InputError)
    return info.value.errors


def test_unknown_keys_named_with_line_and_suggestion():
    errors = _errors("name: x\ntasks:\n  - task: parity\ntrainig:\n  batch_size: 8\n")
    assert errors == [
        "bad.yaml:4: trainig: unknown key (did you mean 'training'?); allowed: name, description, tasks, "
        "training, timeout_s, resources, model_defaults, efficiency, cost_length, seeds"
    ]


def test_every_error_of_a_file_reported_at_once_in_file_order():
    errors = _errors(
        "name: x\n"
        "tasks:\n"
        "  - task: in_context_recal\n"          # line 3: unknown task
        "  - task: parity\n"
        "    params: {seq_len: 8, min_lenn: 2}\n"  # line 5: unknown task parameter
        "training:\n"
        "  batch_size: 0\n"                      # line 7: out of range
        "  lr: [1e-3, fast]\n"                   # line 8: wrong type (1e-3 itself is fine)
        "timeout_s: yes\n"                       # line 9: bool is not a number
    )
    assert [e.split(": ")[0] for e in errors] == ["bad.yaml:3", "bad.yaml:5", "bad.yaml:7", "bad.yaml:8", "bad.yaml:9"]
    assert "tasks[0].task: unknown task 'in_context_recal' (did you mean 'in_context_recall'" in errors[0]
    assert "tasks[1].params.min_lenn: unknown key (did you mean 'min_len'" in errors[1]
    assert "training.batch_size: must be >= 1, got 0" in errors[2]
    assert "training.lr: expected a number, got str 'fast'" in errors[3]
    assert "timeout_s: expected a number or null, got bool True" in errors[4]


def test_bad_task_parameter_value_names_the_setting():
    errors = _errors("name: x\ntasks:\n  - task: parity\n    params: {seq_len: 8}\n    vary: {seq_len: [16, 2]}\n")
    assert len(errors) == 1
    assert errors[0].startswith("bad.yaml:5: tasks[0].vary.seq_len: parity (seq_len=2): need 1 <= min_len <= seq_len")


def test_structural_errors():
    assert _errors("- just a list\n") == ["bad.yaml:1: <top>: expected a mapping, got a list"]
    assert _errors("tasks:\n  - task: parity\n") == ["bad.yaml:1: name: missing required key"]
    assert _errors("name: x\ntasks: []\n") == ["bad.yaml:2: tasks: expected a non-empty list of tasks, got an empty list"]
    assert _errors("name: x\n") == ["bad.yaml:1: tasks: a protocol needs tasks (training) or an efficiency section, or both"]
    assert _errors("name: x\ntasks: [\n")[0].startswith("bad.yaml:3: <top>: not valid YAML")


def test_budget_conflicts_and_duplicate_labels():
    errors = _errors(
        "name: x\n"
        "tasks:\n"
        "  - task: parity\n"
        "  - task: parity\n"
        "training: {max_steps: 10, epochs: 2}\n"
        "model_defaults: {norm: batchnorm}\n"
    )
    assert errors[0].startswith("bad.yaml:4: tasks[1].label: 'parity' is already used by tasks[0]")
    assert errors[1] == "bad.yaml:5: training.epochs: give max_steps or epochs, not both"
    assert errors[2].startswith("bad.yaml:6: model_defaults.norm: 'batchnorm' is not one of rmsnorm, layernorm")


def test_task_training_overrides_inherit_the_rest():
    protocol = parse_protocol(
        "name: x\ntasks:\n  - task: parity\n    training: {max_steps: 7}\ntraining: {epochs: 3, lr: [0.1, 0.2]}\n"
    )
    training = protocol.tasks[0].training
    assert training.max_steps == 7 and training.epochs is None and training.lr == (0.1, 0.2)


def test_missing_file_is_a_protocol_error(tmp_path):
    with pytest.raises(ProtocolError, match="cannot read protocol"):
        load_protocol(tmp_path / "nope.yaml")
