"""The one YAML reader: nodes with lines and key paths, typed scalars (a bool is never a number),
mappings with known keys and the one did-you-mean, and protocol errors reached through a space
under the protocol's own file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsf_search.grammar import INVALID, Problems, Reader, did_you_mean, parse
from dsf_search.search.plan import load_plan
from dsf_search.space import SpaceError


def _read(text: str) -> tuple[Reader, dict]:
    problems = Problems("f.yaml")
    root = parse(text, problems)
    reader = Reader(problems)
    return reader, reader.mapping(root, ("a", "b", "count"), required=("a",))


def test_nodes_keep_line_and_key_path() -> None:
    _, keys = _read("a: 1\nb:\n  - x\n  - {y: 2}\n")
    item = keys["b"].value[1].value["y"]
    assert (item.line, item.path, item.value) == (4, "b[1].y", 2)


def test_a_bool_is_never_a_number_and_an_int_is_a_float() -> None:
    reader, keys = _read("a: true\nb: 3\ncount: 1e-3\n")
    assert reader.scalar(keys["a"], int) is INVALID
    assert reader.scalar(keys["b"], float) == 3.0 and isinstance(reader.scalar(keys["b"], float), float)
    assert reader.scalar(keys["count"], float) == 1e-3  # a plain 1e-3 is a string to YAML 1.1
    [problem] = reader.problems.items
    assert str(problem) == "f.yaml:1: a: expected an integer, got bool True (a boolean is never a number)"


def test_unknown_and_missing_keys_all_at_once() -> None:
    reader, _ = _read("b: 1\ncuont: 2\n")
    assert [str(p) for p in reader.problems.items] == [
        "f.yaml:2: cuont: unknown key (did you mean 'count'?); allowed: a, b, count",
        "f.yaml:1: a: missing required key 'a'",
    ]


def test_one_did_you_mean() -> None:
    from dsf_search.core import registry
    assert did_you_mean is registry.did_you_mean
    assert did_you_mean("tpee", ["tpe", "grid"]) == " (did you mean 'tpe'?)" and did_you_mean("zzz", ["tpe"]) == ""


def test_protocol_errors_through_a_space_name_the_protocol_file_and_line(tmp_path: Path) -> None:
    protocol = tmp_path / "proto.yaml"
    protocol.write_text("name: p\ntasks:\n  - task: parity\ntraining:\n  batch_size: 0\n  lr: fast\n")
    space = tmp_path / "space.yaml"
    space.write_text("name: t\nevaluator: proto.yaml\nmodel:\n  layers: {transition: scalar}\n"
                     "objectives: {quality: maximize}\n")
    with pytest.raises(SpaceError) as info:
        load_plan(space)
    where = {(p.file, p.line, p.path) for p in info.value.problems}
    assert (str(protocol), 5, "training.batch_size") in where and (str(protocol), 6, "training.lr") in where
    assert (str(space), 2, "evaluator") in where
    assert f"{protocol}:5: training.batch_size: must be >= 1, got 0" in str(info.value)
