"""Malformed spaces: every error names the file, the line and the key path, says what was
found and what is allowed, and every error of a file is reported at once."""

from __future__ import annotations

import pytest

from dsf_search.space import SpaceError

HEAD = "name: t\nevaluator: EV\n"
OBJ = "objectives: [quality]\n"

# (case, space text, expected line, expected key path, words the message must contain)
CASES = [
    ("misspelled value", HEAD + "model:\n  layers:\n    transition: {choice: [identity, scalr]}\n" + OBJ,
     5, "model.layers.transition.choice[1]", ["'scalr'", "allowed:", "did you mean 'scalar'"]),
    ("misspelled fixed value", HEAD + "model:\n  layers:\n    readout: linaer\n" + OBJ,
     5, "model.layers.readout", ["'linaer'", "did you mean 'linear'"]),
    ("unknown mixer axis", HEAD + "model:\n  layers:\n    transtion: scalar\n" + OBJ,
     5, "model.layers.transtion", ["unknown axis", "did you mean 'transition'"]),
    ("unknown top-level key", HEAD + "model:\n  layers: {transition: scalar}\n" + OBJ + "serch: {trials: 3}\n",
     6, "serch", ["unknown key", "did you mean 'search'"]),
    ("unknown model key", HEAD + "model:\n  d_modle: 64\n  layers: {transition: scalar}\n" + OBJ,
     4, "model.d_modle", ["unknown key", "did you mean 'd_model'"]),
    ("model axis among mixer axes", HEAD + "model:\n  layers:\n    mlp_ratio: 2\n" + OBJ,
     5, "model.layers.mlp_ratio", ["model axis", "under `model`"]),
    ("wrong type", HEAD + "model:\n  d_model: sixty\n  layers: {transition: scalar}\n" + OBJ,
     4, "model.d_model", ["expected an integer", "'sixty'"]),
    ("bool for int", HEAD + "model:\n  layers:\n    heads: true\n" + OBJ,
     5, "model.layers.heads", ["expected an integer", "boolean"]),
    ("float in int range", HEAD + "model:\n  layers:\n    state_size: {int: [8, 32.5]}\n" + OBJ,
     5, "model.layers.state_size.int[1]", ["expected an integer", "32.5"]),
    ("lo > hi", HEAD + "model:\n  layers:\n    state_size: {int: [32, 8]}\n" + OBJ,
     5, "model.layers.state_size.int", ["empty range", "lo = 32 > hi = 8"]),
    ("float lo > hi", HEAD + "model:\n  mlp_ratio: {float: [4, 2]}\n  layers: {transition: scalar}\n" + OBJ,
     4, "model.mlp_ratio.float", ["empty range"]),
    ("value below minimum", HEAD + "model:\n  layers:\n    heads: {choice: [0, 2]}\n" + OBJ,
     5, "model.layers.heads.choice[0]", ["must be >= 1"]),
    ("step does not divide", HEAD + "model:\n  layers:\n    state_size: {int: [8, 30], step: 8}\n" + OBJ,
     5, "model.layers.state_size.step", ["not a multiple of step 8"]),
    ("int range on a string axis", HEAD + "model:\n  layers:\n    transition: {int: [1, 3]}\n" + OBJ,
     5, "model.layers.transition.int", ["ranges need an integer axis", "choice"]),
    ("log float from zero", HEAD + "model:\n  mlp_ratio: {float: [0, 4], log: true}\n  layers: {transition: scalar}\n" + OBJ,
     4, "model.mlp_ratio.float[0]", ["must be > 0"]),
    ("empty choice", HEAD + "model:\n  layers:\n    transition: {choice: []}\n" + OBJ,
     5, "model.layers.transition.choice", ["non-empty list", "empty list"]),
    ("duplicate choice", HEAD + "model:\n  layers:\n    state_size: {choice: [8, 8]}\n" + OBJ,
     5, "model.layers.state_size.choice[1]", ["listed twice"]),
    ("two domain kinds", HEAD + "model:\n  layers:\n    state_size: {choice: [8], int: [1, 4]}\n" + OBJ,
     5, "model.layers.state_size", ["exactly one of", "choice and int"]),
    ("plain list as domain", HEAD + "model:\n  layers:\n    transition: [identity, scalar]\n" + OBJ,
     5, "model.layers.transition", ["not a domain", "{choice: [...]}"]),
    ("bad when expression", HEAD + "model:\n  layers:\n    transition: {choice: [identity, scalar]}\n"
     "    gate: {choice: [mamba, gla], when: \"transition !== identity\"}\n" + OBJ,
     6, "model.layers.gate.when", ["bad condition", "column 14"]),
    ("unfinished when expression", HEAD + "model:\n  layers:\n    transition: {choice: [identity, scalar]}\n"
     "    gate: {choice: [mamba, gla], when: \"transition in [identity\"}\n" + OBJ,
     6, "model.layers.gate.when", ["expected ',' or ']'"]),
    ("when names a missing axis", HEAD + "model:\n  layers:\n    transition: {choice: [identity, scalar]}\n"
     "    gate: {choice: [mamba, gla], when: \"transtion != identity\"}\n" + OBJ,
     6, "model.layers.gate.when", ["unknown axis 'transtion'", "did you mean 'transition'"]),
    ("when compares with a misspelled value", HEAD + "model:\n  layers:\n    transition: {choice: [identity, scalar]}\n"
     "    gate: {choice: [mamba, gla], when: \"transition != identiy\"}\n" + OBJ,
     6, "model.layers.gate.when", ["'identiy'", "did you mean 'identity'"]),
    ("when reads its own axis", HEAD + "model:\n  layers:\n    gate: {choice: [mamba, gla], when: \"gate == mamba\"}\n" + OBJ,
     5, "model.layers.gate.when", ["cannot read 'gate' itself"]),
    ("when names a mixer axis from the model", HEAD + "model:\n  pattern: [lin, attn]\n"
     "  positional: {choice: [none, rope], when: \"transition == identity\"}\n"
     "  layers:\n    lin: {preset: gla}\n    attn: {preset: softmax_attention}\n" + OBJ,
     5, "model.positional.when", ["mixer axis", "lin.transition"]),
    ("when names a missing mixer", HEAD + "model:\n  pattern: [lin, attn]\n  layers:\n"
     "    lin: {preset: gla, state_size: {choice: [8, 16], when: \"atn.readout == exp\"}}\n"
     "    attn: {preset: softmax_attention}\n" + OBJ,
     6, "model.layers.lin.state_size.when", ["'atn.readout'", "did you mean 'attn.readout'"]),
    ("conditions in a circle", HEAD + "model:\n  layers:\n"
     "    transition: {choice: [scalar, diagonal], when: \"readout == linear\"}\n"
     "    readout: {choice: [linear, exp], when: \"transition == scalar\"}\n" + OBJ,
     5, "model.layers.transition", ["circle", "transition -> readout -> transition"]),
    ("branch without when before others", HEAD + "model:\n  layers:\n    transition: {choice: [scalar, diagonal]}\n"
     "    gate:\n      - {choice: [mamba, gla]}\n      - {when: \"transition == scalar\", choice: [fixed]}\n" + OBJ,
     7, "model.layers.gate[0]", ["only the last branch may omit `when`"]),
    ("unknown preset", HEAD + "model:\n  layers:\n    preset: gated_deltnet\n" + OBJ,
     5, "model.layers.preset", ["'gated_deltnet'", "did you mean 'gated_deltanet'"]),
    ("unknown seed preset", HEAD + "model:\n  layers: {preset: gla}\nseeds: [glaa]\n" + OBJ,
     5, "seeds[0]", ["unknown preset 'glaa'", "did you mean 'gla'"]),
    ("seed outside the space", HEAD + "model:\n  layers:\n    preset: gla\n    state_size: {choice: [8, 32]}\n"
     "seeds:\n  - gla\n" + OBJ,
     8, "seeds[0]", ["outside the space", "model.layers.state_size", "16", "choice [8, 32]"]),
    ("seed disagrees with a fixed axis", HEAD + "model:\n  layers:\n    preset: gla\n    conv_size: 0\n"
     "seeds:\n  - mamba2\n" + OBJ,
     8, "seeds[0]", ["outside the space", "model.layers.conv_size", "fixes 0"]),
    ("seed with an unknown axis", HEAD + "model:\n  layers:\n    state_size: {choice: [8, 16]}\n"
     "seeds:\n  - {layers: {state_sise: 8}}\n" + OBJ,
     7, "seeds[0].layers.state_sise", ["unknown axis", "did you mean 'state_size'"]),
    ("YAML syntax error", HEAD + "model:\n  layers:\n    transition: {choice: [identity, scalar]\n" + OBJ,
     6, "", ["YAML syntax error", "line 5"]),
    ("duplicate key", HEAD + "model:\n  layers:\n    transition: scalar\n    transition: diagonal\n" + OBJ,
     6, "model.layers.transition", ["duplicate key", "line 5"]),
    ("unknown cost in a constraint", HEAD + "model:\n  layers: {transition: scalar}\nconstraints:\n  - param <= 1e5\n" + OBJ,
     6, "constraints[0]", ["unknown cost 'param'", "did you mean 'params'"]),
    ("constraint with a strict operator", HEAD + "model:\n  layers: {transition: scalar}\nconstraints:\n  - params < 1e5\n" + OBJ,
     6, "constraints[0]", ["'<'", "<= or >="]),
    ("length on a length-free cost", HEAD + "model:\n  layers: {transition: scalar}\nconstraints:\n  - params(2048) <= 1e5\n" + OBJ,
     6, "constraints[0]", ["does not depend on the context length"]),
    ("objective the evaluator does not produce", HEAD + "model:\n  layers: {transition: scalar}\nobjectives: {qualty: maximize}\n",
     5, "objectives.qualty", ["does not produce 'qualty'", "did you mean 'quality'", "its metrics:"]),
    ("objective against its direction", HEAD + "model:\n  layers: {transition: scalar}\nobjectives: {quality: minimize}\n",
     5, "objectives.quality", ["better when higher", "expected maximize"]),
    ("misspelled direction", HEAD + "model:\n  layers: {transition: scalar}\nobjectives: {quality: maximise}\n",
     5, "objectives.quality", ["'maximise'", "did you mean 'maximize'"]),
    ("missing evaluator file", "name: t\nevaluator: nothere.yaml\nmodel:\n  layers: {transition: scalar}\n" + OBJ,
     2, "evaluator", ["no evaluation protocol", "nothere.yaml"]),
    ("unknown sampler", HEAD + "model:\n  layers: {transition: scalar}\n" + OBJ + "search: {sampler: tpee}\n",
     6, "search.sampler", ["'tpee'", "did you mean 'tpe'"]),
    ("grid over a continuous space", HEAD + "model:\n  mlp_ratio: {float: [1, 4]}\n  layers: {transition: scalar}\n" + OBJ
     + "search: {sampler: grid}\n",
     7, "search.sampler", ["finite space", "model.mlp_ratio"]),
    ("unknown principle code", HEAD + "model:\n  layers: {transition: scalar}\n" + OBJ + "checks: {errors: [P7]}\n",
     6, "checks.errors[0]", ["'P7'", "P1, P2"]),
    ("combination the core rejects", HEAD + "model:\n  layers:\n    transition: {choice: [scalar, diagonal]}\n"
     "    gate: {choice: [mamba, fixed]}\n" + OBJ,
     6, "model.layers.gate", ["'fixed'", "transition=diagonal, gate=fixed", "`when:`"]),
    ("odd state size with RoPE", HEAD + "model:\n  positional: rope\n  layers:\n    state_size: {choice: [8, 9]}\n" + OBJ,
     6, "model.layers.state_size", ["RoPE", "even"]),
    ("named mixers without a pattern", HEAD + "model:\n  layers:\n    lin: {preset: gla}\n    attn: {preset: softmax_attention}\n" + OBJ,
     5, "model.layers.lin", ["not a mixer axis", "pattern"]),
    ("pattern names a missing mixer", HEAD + "model:\n  pattern: [lin, atn]\n  layers:\n"
     "    lin: {preset: gla}\n    attn: {preset: softmax_attention}\n" + OBJ,
     4, "model.pattern", ["'atn'", "did you mean 'attn'"]),
    ("missing required keys", "name: t\nmodel:\n  layers: {transition: scalar}\n",
     1, "objectives", ["missing required key 'objectives'"]),
    ("bad study name", "name: my study\nevaluator: EV\nmodel:\n  layers: {transition: scalar}\n" + OBJ,
     1, "name", ["'my study'", "letters, digits"]),
]


@pytest.mark.parametrize("text, line, path, words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_error_names_line_and_key_path(errors, text: str, line: int, path: str, words: list[str]) -> None:
    err = errors(text)
    matching = [p for p in err.problems if p.path == path and all(w in p.message for w in words)]
    assert matching, f"no problem at {path!r} saying {words}; got:\n{err}"
    problem = matching[0]
    assert problem.line == line, str(err)
    assert problem.file.endswith("space.yaml")
    assert str(problem).startswith(f"{problem.file}:{line}: {path or '<top>'}: ")
    assert str(problem) in str(err)  # the exception message lists every problem


def test_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30


def test_every_error_of_a_file_is_reported_at_once(errors) -> None:
    err = errors("""
        name: t
        evaluator: EV
        model:
          d_model: {int: [128, 64]}
          layers:
            transition: {choice: [identity, scalr]}
            gaet: mamba
        seeds: [nope]
        constraints: ["flops <= 3"]
        objectives: {quality: minimize}
        search: {sampler: tpee, trials: 0}
    """)
    found = {(p.line, p.path) for p in err.problems}
    assert found == {
        (4, "model.d_model.int"), (6, "model.layers.transition.choice[1]"), (7, "model.layers.gaet"),
        (8, "seeds[0]"), (9, "constraints[0]"), (10, "objectives.quality"), (11, "search.sampler"),
        (11, "search.trials"),
    }
    assert str(err).startswith("8 errors in the search space:")
    assert [p.line for p in err.problems] == sorted(p.line for p in err.problems)


def test_space_error_is_an_input_error() -> None:
    from dsf_search.errors import InputError
    assert issubclass(SpaceError, InputError)


def test_missing_file(tmp_path) -> None:
    from dsf_search.search.plan import load_plan
    with pytest.raises(SpaceError, match="cannot read the space file"):
        load_plan(tmp_path / "absent.yaml")


def test_empty_file(errors) -> None:
    err = errors("")
    assert "empty" in str(err)
