"""Hostile and broken input through the CLI: every case exits 2, prints no traceback and names
the file, the line and the key (or the flag). Spaces run `validate`, protocols `evaluate` (the
protocol is read before anything else), flags the subcommand they belong to; most run in-process
through `main`, a handful in a subprocess for the real exit code and stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dsf_search.cli import main
from tests.space.conftest import QUICK
from tests.space.test_malformed import CASES as SPACE_CASES

HEAD = f"name: t\nevaluator: {QUICK}\n"
MODEL = "model:\n  layers: {transition: scalar}\n"
OBJ = "objectives: [quality]\n"
OK = HEAD + MODEL + OBJ


def bomb(levels: int = 9, width: int = 9) -> str:
    """YAML whose aliases expand to width**levels values."""
    lines = [f"a0: &a0 [{', '.join(['x'] * width)}]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def with_model(model: str, tail: str = OBJ) -> str:
    return HEAD + "model:\n" + model + tail


# (case, file content (str or bytes), line, key path, words the message must contain)
HOSTILE = [
    ("UTF-16 file", OK.encode("utf-16"), 1, "", ["UTF-16", "save it as UTF-8"]),
    ("UTF-16 big-endian without BOM", OK.encode("utf-16-be"), 1, "", ["UTF-16"]),
    ("latin-1 byte", (HEAD + "description: caf\xe9\n" + MODEL + OBJ).encode("latin-1"), 3, "", ["not UTF-8", "0xe9"]),
    ("NUL character", OK.replace("scalar", "sca\x00lar"), 4, "", ["'\\x00'", "not allowed"]),
    ("file over 1 MB", OK + "#" * (1 << 20) + "\n", 1, "", ["larger than"]),
    ("alias bomb", bomb() + OK, 6, "a5[0]", ["aliases (*a4)", "more than 100000 values"]),
    ("alias bomb under a key", HEAD + "description: x\nmodel:\n  layers: {transition: scalar}\n" + OBJ
     + "search: {trials: " + "[" * 3 + "]" * 3 + "}\n" + bomb(7, 9).replace("a", "b"), 13, "b5[0]", ["aliases"]),
    ("deep flow nesting", HEAD + "description: " + "[" * 5000 + "]" * 5000 + "\n" + MODEL + OBJ, 3,
     "description" + "[0]" * 31, ["nested deeper than 32"]),
    ("deep block nesting", HEAD + "".join(f"{'  ' * i}k{i}:\n" for i in range(40)) + "  " * 40 + "v: 1\n", 35,
     ".".join(f"k{i}" for i in range(32)), ["nested deeper"]),
    ("python tag", OK.replace("transition: scalar", "transition: !!python/object/apply:os.system [echo]"), 4,
     "model.layers.transition", ["tag", "python/object/apply:os.system", "not allowed"]),
    ("python name tag", OK.replace("name: t", "name: !!python/name:os.system t"), 1, "name", ["tag", "not allowed"]),
    ("local tag", OK.replace("scalar", "!mine scalar"), 4, "model.layers.transition", ["'!mine'"]),
    ("binary tag", HEAD + "description: !!binary aGVsbG8=\n" + MODEL + OBJ, 3, "description", ["binary"]),
    ("set tag", HEAD + "description: !!set {a, b}\n" + MODEL + OBJ, 3, "description", ["set"]),
    ("timestamp tag", HEAD + "description: !!timestamp 2024-01-01\n" + MODEL + OBJ, 3, "description", ["timestamp"]),
    ("merge key", HEAD + "base: &b {transition: scalar}\nmodel:\n  layers:\n    <<: *b\n    readout: linear\n" + OBJ,
     6, "model.layers", ["merge keys (<<)", "write the keys out"]),
    ("merge key of a list", HEAD + "model:\n  layers:\n    <<: [{transition: scalar}, {readout: linear}]\n" + OBJ,
     5, "model.layers", ["merge keys"]),
    ("two documents", OK + "---\n" + OK, 6, "", ["YAML syntax error", "single document"]),
    ("undefined alias", OK.replace("scalar", "*nowhere"), 4, "", ["YAML syntax error", "nowhere"]),
    ("tab indentation", HEAD + "model:\n\tlayers: {transition: scalar}\n" + OBJ, 4, "", ["YAML syntax error"]),
    ("impossible date as a size", with_model("  d_model: 2024-13-45\n  layers: {transition: scalar}\n"), 4,
     "model.d_model", ["expected an integer", "2024-13-45"]),
    ("integer of 5000 digits", with_model("  d_model: " + "9" * 5000 + "\n  layers: {transition: scalar}\n"), 4,
     "model.d_model", ["expected an integer", "..."]),
    ("list as a key", OK + "[a, b]: 1\n", 6, "", ["keys must be plain names"]),
    ("number as a key", OK + "7: x\n", 6, "", ["keys must be plain names"]),
    ("NaN ratio", with_model("  mlp_ratio: .nan\n  layers: {transition: scalar}\n"), 4, "model.mlp_ratio", ["finite"]),
    ("inf ratio", with_model("  mlp_ratio: .inf\n  layers: {transition: scalar}\n"), 4, "model.mlp_ratio", ["finite"]),
    ("-inf ratio", with_model("  mlp_ratio: -.inf\n  layers: {transition: scalar}\n"), 4, "model.mlp_ratio", ["finite"]),
    ("plain nan", with_model("  mlp_ratio: nan\n  layers: {transition: scalar}\n"), 4, "model.mlp_ratio", ["finite"]),
    ("1e999", with_model("  mlp_ratio: 1e999\n  layers: {transition: scalar}\n"), 4, "model.mlp_ratio", ["finite"]),
    ("NaN upper end", with_model("  mlp_ratio: {float: [1, .nan]}\n  layers: {transition: scalar}\n"), 4,
     "model.mlp_ratio.float[1]", ["finite"]),
    ("NaN lower end", with_model("  mlp_ratio: {float: [.nan, 2]}\n  layers: {transition: scalar}\n"), 4,
     "model.mlp_ratio.float[0]", ["finite"]),
    ("NaN choice", with_model("  mlp_ratio: {choice: [2, .nan]}\n  layers: {transition: scalar}\n"), 4,
     "model.mlp_ratio.choice[1]", ["finite"]),
    ("inf log range", with_model("  mlp_ratio: {float: [1, .inf], log: true}\n  layers: {transition: scalar}\n"), 4,
     "model.mlp_ratio.float[1]", ["finite"]),
    ("a billion layers", with_model("  n_layers: 1000000000\n  layers: {transition: scalar}\n"), 4,
     "model.n_layers", ["1000000000", "<= 4096"]),
    ("a billion state sizes", with_model("  layers:\n    state_size: {int: [1, 1000000000]}\n"), 5,
     "model.layers.state_size.int[1]", ["<= 65536"]),
    ("huge width choice", with_model("  d_model: {choice: [64, 1000000000000]}\n  layers: {transition: scalar}\n"), 4,
     "model.d_model.choice[1]", ["<= 65536"]),
    ("too many heads", with_model("  layers:\n    heads: 100000\n"), 5, "model.layers.heads", ["<= 4096"]),
    ("huge vocabulary", with_model("  vocab_size: 1000000000\n  layers: {transition: scalar}\n"), 4,
     "model.vocab_size", ["<= 1.67772e+07"]),
    ("huge mlp ratio", with_model("  mlp_ratio: 1000\n  layers: {transition: scalar}\n"), 4, "model.mlp_ratio", ["<= 64"]),
    ("huge convolution", with_model("  layers:\n    conv_size: 100000\n"), 5, "model.layers.conv_size", ["<= 1024"]),
    ("parameters beyond any machine", with_model("  d_model: 65536\n  n_layers: 4096\n  layers: {transition: scalar}\n"),
     3, "model", ["parameters", "GiB as float32", "1 TiB"]),
    ("largest corner beyond any machine", with_model("  d_model: {int: [64, 65536], step: 64}\n"
                                                     "  n_layers: {int: [1, 4096]}\n  layers: {transition: scalar}\n"),
     3, "model", ["parameters", "d_model=65536, n_layers=4096"]),
    ("KV cache beyond any machine", with_model("  d_model: 8192\n  n_layers: 64\n  layers: {preset: softmax_attention}\n",
                                               OBJ + "checks: {length: 2147483648}\n"),
     3, "model", ["inference state", "2147483648 tokens"]),
    ("5000 nested parentheses in when", with_model("  layers:\n    transition: {choice: [identity, scalar]}\n"
                                                   "    gate: {choice: [mamba, gla], when: \"" + "(" * 5000
                                                   + "transition == scalar" + ")" * 5000 + "\"}\n"),
     6, "model.layers.gate.when", ["nested deeper than 32"]),
    ("100 nots in when", with_model("  layers:\n    transition: {choice: [identity, scalar]}\n"
                                    "    gate: {choice: [mamba, gla], when: \"" + "not " * 100 + "transition == scalar\"}\n"),
     6, "model.layers.gate.when", ["nested deeper"]),
    ("Unicode digit in when", with_model("  layers:\n    heads: {choice: [1, 2]}\n"
                                         "    gate: {choice: [mamba, gla], when: \"heads == \u0663\"}\n"),
     6, "model.layers.gate.when", ["unexpected character"]),
    ("accented name in when", with_model("  layers:\n    transition: {choice: [identity, scalar]}\n"
                                         "    gate: {choice: [mamba, gla], when: \"transitión == scalar\"}\n"),
     6, "model.layers.gate.when", ["unexpected character"]),
    ("40-digit number in when", with_model("  layers:\n    heads: {choice: [1, 2]}\n"
                                           "    gate: {choice: [mamba, gla], when: \"heads == " + "9" * 40 + "\"}\n"),
     6, "model.layers.gate.when", ["out of range"]),
    ("superscript digit in a constraint", OK + "constraints: ['state_bytes(\u00b2) <= 10']\n", 6, "constraints[0]",
     ["digits 0-9", "'\u00b2'"]),
    ("Arabic-Indic digit in a constraint", OK + "constraints: ['state_bytes(\u0663) <= 10']\n", 6, "constraints[0]",
     ["digits 0-9"]),
    ("Unicode digit in a bound", OK + "constraints: ['params <= \u0663']\n", 6, "constraints[0]", ["finite number"]),
    ("huge constraint length", OK + "constraints: ['state_bytes(99999999999999) <= 10']\n", 6, "constraints[0]",
     ["[1, 2147483648]"]),
    ("NaN bound", OK + "constraints: ['params <= nan']\n", 6, "constraints[0]", ["finite number"]),
    ("inf bound", OK + "constraints: ['params <= inf']\n", 6, "constraints[0]", ["finite number"]),
    ("1e999 bound", OK + "constraints: ['params <= 1e999']\n", 6, "constraints[0]", ["finite number"]),
    ("objective twice", HEAD + MODEL + "objectives: [quality, quality]\n", 5, "objectives[1]", ["listed twice"]),
    ("cost objective twice", HEAD + MODEL + "objectives: [quality, params, params]\n", 5, "objectives[2]",
     ["'params' is listed twice"]),
    ("negative search seed", OK + "search: {seed: -1}\n", 6, "search.seed", ["[0, 4.29497e+09]"]),
    ("search seed beyond 2**32", OK + "search: {seed: 1099511627776}\n", 6, "search.seed", ["must be in"]),
    ("negative trials", OK + "search: {trials: -1}\n", 6, "search.trials", ["must be in [1,"]),
    ("NaN trials", OK + "search: {trials: .nan}\n", 6, "search.trials", ["expected an integer"]),
    ("too many trials", OK + "search: {trials: 100000000000}\n", 6, "search.trials", ["must be in"]),
    ("no parallelism", OK + "search: {parallelism: 0}\n", 6, "search.parallelism", ["must be in"]),
    ("zero check length", OK + "checks: {length: 0}\n", 6, "checks.length", ["must be in"]),
    ("huge check length", OK + "checks: {length: 1000000000000}\n", 6, "checks.length", ["must be in"]),
    ("study name with ..", OK.replace("name: t", "name: ../x"), 1, "name", ["'../x'", "study name"]),
    ("absolute study name", OK.replace("name: t", "name: /tmp/x"), 1, "name", ["'/tmp/x'"]),
    ("hidden study name", OK.replace("name: t", "name: .x"), 1, "name", ["'.x'"]),
    ("study name ..", OK.replace("name: t", "name: '..'"), 1, "name", ["'..'"]),
    ("study name with a slash", OK.replace("name: t", "name: a/b"), 1, "name", ["'a/b'"]),
    ("empty study name", OK.replace("name: t", "name: ''"), 1, "name", ["''"]),
    ("overlong study name", OK.replace("name: t", "name: " + "a" * 101), 1, "name", ["at most 100"]),
    ("non-ASCII study name", OK.replace("name: t", "name: naïve"), 1, "name", ["ASCII"]),
]

PROTOCOL = "name: p\nefficiency: {context_length: 64, batch_size: 1, train_steps: 1, decode_tokens: 1}\n"
TASKS = "tasks:\n  - task: parity\n    params: {seq_len: 8, num_train: 64, num_test: 32}\n"
# (case, protocol content, line, key path, words)
PROTOCOLS = [
    ("UTF-16 protocol", PROTOCOL.encode("utf-16"), 1, "<top>", ["UTF-16"]),
    ("latin-1 protocol", ("description: caf\xe9\n" + PROTOCOL).encode("latin-1"), 1, "<top>", ["not UTF-8"]),
    ("NUL in a protocol", PROTOCOL.replace("name: p", "name: \x00p"), 1, "<top>", ["not allowed"]),
    ("protocol alias bomb", bomb() + PROTOCOL, 6, "a5[0]", ["aliases"]),
    ("deeply nested protocol", "description: " + "[" * 5000 + "]" * 5000 + "\n" + PROTOCOL, 1,
     "description" + "[0]" * 31, ["nested deeper"]),
    ("python tag in a protocol", PROTOCOL.replace("name: p", "name: !!python/object/apply:os.system [echo]"), 1,
     "name", ["tag", "not allowed"]),
    ("merge key in a protocol", "base: &b {batch_size: 1}\n" + PROTOCOL.replace("efficiency: {", "efficiency: {<<: *b, "),
     3, "efficiency", ["merge keys"]),
    ("NaN timeout", PROTOCOL + "timeout_s: .nan\n", 3, "timeout_s", ["finite"]),
    ("inf timeout", PROTOCOL + "timeout_s: .inf\n", 3, "timeout_s", ["finite"]),
    ("date as a timeout", PROTOCOL + "timeout_s: 2024-13-45\n", 3, "timeout_s", ["expected a number", "2024-13-45"]),
    ("NaN learning rate", TASKS + "name: p\ntraining: {lr: [.nan]}\n", 5, "training.lr", ["finite"]),
    ("NaN beta", TASKS + "name: p\ntraining: {betas: [.nan, 0.9]}\n", 5, "training.betas", ["finite"]),
    ("NaN target accuracy", TASKS + "name: p\ntraining: {target_accuracy: .nan}\n", 5, "training.target_accuracy",
     ["finite"]),
    ("NaN GPU share", PROTOCOL + "resources: {gpus: .nan}\n", 3, "resources.gpus", ["finite"]),
    ("a billion default layers", PROTOCOL + "model_defaults: {n_layers: 1000000000}\n", 3, "model_defaults.n_layers",
     ["must be in [1, 4096]"]),
    ("huge default width", PROTOCOL + "model_defaults: {d_model: 10000000}\n", 3, "model_defaults.d_model",
     ["must be in [1, 65536]"]),
    ("NaN default mlp ratio", PROTOCOL + "model_defaults: {mlp_ratio: .nan}\n", 3, "model_defaults.mlp_ratio",
     ["finite"]),
    ("huge efficiency context", "name: p\nefficiency: {context_length: 1000000000000}\n", 2,
     "efficiency.context_length", ["must be in"]),
    ("huge cost length", PROTOCOL + "cost_length: 1000000000000\n", 3, "cost_length", ["must be in"]),
    ("cost length of 5000 digits", PROTOCOL + "cost_length: " + "9" * 5000 + "\n", 3, "cost_length",
     ["expected an integer", "..."]),
    ("unknown protocol key", PROTOCOL + "timeout: 5\n", 3, "timeout", ["unknown key", "timeout_s"]),
    ("unknown task", "name: p\ntasks: [{task: partiy}]\n", 2, "tasks[0].task", ["'partiy'", "parity"]),
    ("empty protocol", "", 1, "<top>", ["empty"]),
    ("protocol syntax error", "name: p\ntasks: [\n", 3, "<top>", ["not valid YAML"]),
]


def _write(tmp_path: Path, content: str | bytes, name: str) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _refused(capsys, argv: list[str]) -> str:
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 2, captured
    assert "Traceback" not in captured.err and captured.err.strip(), captured.err
    return captured.err


ALL_SPACES = [(c[0], c[1].replace("EV", str(QUICK)), *c[2:]) for c in SPACE_CASES] + HOSTILE


@pytest.mark.parametrize("content, line, path, words", [c[1:] for c in ALL_SPACES], ids=[c[0] for c in ALL_SPACES])
def test_space_refused_with_file_line_key(tmp_path, capsys, content, line, path, words) -> None:
    file = _write(tmp_path, content, "space.yaml")
    err = _refused(capsys, ["validate", str(file)])
    where = f"{file}:{line}: {path or '<top>'}: "
    hits = [row for row in err.splitlines() if where in row and all(w in row for w in words)]
    assert hits, f"no line with {where!r} and {words} in:\n{err}"


@pytest.mark.parametrize("content, line, path, words", [c[1:] for c in PROTOCOLS], ids=[c[0] for c in PROTOCOLS])
def test_protocol_refused_with_file_line_key(tmp_path, capsys, content, line, path, words) -> None:
    file = _write(tmp_path, content, "protocol.yaml")
    err = _refused(capsys, ["evaluate", "linear_attention", "--evaluator", str(file)])
    where = f"{file}:{line}: {path}: "
    hits = [row for row in err.splitlines() if where in row and all(w in row for w in words)]
    assert hits, f"no line with {where!r} and {words} in:\n{err}"


def test_a_protocol_folder_is_refused(tmp_path, capsys) -> None:
    err = _refused(capsys, ["evaluate", "linear_attention", "--evaluator", str(tmp_path)])
    assert f"{tmp_path}:1: <top>: cannot read protocol: it is a folder" in err


def test_a_space_folder_is_refused(tmp_path, capsys) -> None:
    err = _refused(capsys, ["validate", str(tmp_path)])
    assert f"{tmp_path}:1: <top>: cannot read the space file: it is a folder" in err


def test_a_utf8_bom_and_anchors_within_bounds_are_fine(tmp_path, capsys) -> None:
    text = HEAD + "model:\n  layers: &mixer {transition: scalar}\ndescription: x\nobjectives: [quality]\n" \
        "seeds: [{layers: *mixer}]\n"
    file = _write(tmp_path, "\ufeff" + text, "space.yaml")
    assert main(["validate", str(file)]) == 0, capsys.readouterr().err


# (case, argv; TMP stands for a fresh folder, SPACE for a valid space file; words of the message)
FLAGS = [
    ("run --seed -1", ["run", "SPACE", "--seed", "-1"], ["argument --seed", "found -1"]),
    ("run --seed 2**32", ["run", "SPACE", "--seed", str(2**32)], ["argument --seed", "4294967295"]),
    ("run --seed nan", ["run", "SPACE", "--seed", "nan"], ["argument --seed", "expected an integer"]),
    ("run --trials -1", ["run", "SPACE", "--trials", "-1"], ["argument --trials", "found -1"]),
    ("run --trials 0", ["run", "SPACE", "--trials", "0"], ["argument --trials"]),
    ("run --trials nan", ["run", "SPACE", "--trials", "nan"], ["argument --trials", "expected an integer"]),
    ("run --parallel 0", ["run", "SPACE", "--parallel", "0"], ["argument --parallel"]),
    ("run --cpus-per-trial nan", ["run", "SPACE", "--cpus-per-trial", "nan"], ["argument --cpus-per-trial", "finite"]),
    ("run --cpus-per-trial inf", ["run", "SPACE", "--cpus-per-trial", "inf"], ["argument --cpus-per-trial", "finite"]),
    ("run --cpus-per-trial 0", ["run", "SPACE", "--cpus-per-trial", "0"], ["argument --cpus-per-trial", "> 0"]),
    ("run --gpus-per-trial -1", ["run", "SPACE", "--gpus-per-trial", "-1"], ["argument --gpus-per-trial", ">= 0"]),
    ("run --gpus-per-trial nan", ["run", "SPACE", "--gpus-per-trial", "nan"], ["argument --gpus-per-trial", "finite"]),
    ("run --study ../x", ["run", "SPACE", "--study", "../x"], ["argument --study", "'../x'"]),
    ("run --study absolute", ["run", "SPACE", "--study", "/tmp/x"], ["argument --study", "'/tmp/x'"]),
    ("run --study a/b", ["run", "SPACE", "--study", "a/b"], ["argument --study"]),
    ("run --study empty", ["run", "SPACE", "--study", ""], ["argument --study"]),
    ("resume ../x", ["resume", "../x"], ["argument study", "'../x'"]),
    ("resume --trials -1", ["resume", "s", "--trials", "-1"], ["argument --trials", "found -1"]),
    ("status ../x", ["status", "../x"], ["argument study"]),
    ("status absolute", ["status", "/etc"], ["argument study", "'/etc'"]),
    ("results ..", ["results", ".."], ["argument study", "'..'"]),
    ("results --top -1", ["results", "s", "--top", "-1"], ["argument --top"]),
    ("results --out into a missing folder", ["results", "s", "--out", "TMP/missing/t.csv"],
     ["argument --out", "does not exist"]),
    ("results --out a folder", ["results", "s", "--out", "TMP"], ["argument --out", "is a folder"]),
    ("report ../x", ["report", "../x"], ["argument study"]),
    ("report --maps -1", ["report", "s", "--maps", "-1"], ["argument --maps"]),
    ("report --max-len 0", ["report", "s", "--max-len", "0"], ["argument --max-len"]),
    ("report --max-len huge", ["report", "s", "--max-len", "1000000"], ["argument --max-len", "4096"]),
    ("compare ../x", ["compare", "s", "../x"], ["argument STUDY", "'../x'"]),
    ("compare --out missing", ["compare", "s", "--out", "TMP/no/x.csv"], ["argument --out"]),
    ("evaluate --time-budget nan", ["evaluate", "gla", "--time-budget", "nan"], ["argument --time-budget", "finite"]),
    ("evaluate --time-budget 0", ["evaluate", "gla", "--time-budget", "0"], ["argument --time-budget", "> 0"]),
    ("evaluate --time-budget -inf", ["evaluate", "gla", "--time-budget", "-inf"], ["argument --time-budget"]),
    ("evaluate --seed -1", ["evaluate", "gla", "--seed", "-1"], ["argument --seed"]),
    ("sample -n 0", ["sample", "SPACE", "-n", "0"], ["argument -n"]),
    ("sample -n -1", ["sample", "SPACE", "-n", "-1"], ["argument -n"]),
    ("sample --seed -1", ["sample", "SPACE", "--seed", "-1"], ["argument --seed"]),
    ("coefficients --max-len 0", ["coefficients", "gla", "--out", "TMP/a.png", "--max-len", "0"], ["argument --max-len"]),
    ("coefficients --example -1", ["coefficients", "gla", "--out", "TMP/a.png", "--example", "-1"],
     ["argument --example"]),
    ("coefficients --out missing folder", ["coefficients", "gla", "--out", "TMP/no/a.png"], ["argument --out"]),
    ("zoo --d-model 0", ["zoo", "--d-model", "0"], ["argument --d-model"]),
    ("zoo --d-model huge", ["zoo", "--d-model", "1000000000"], ["argument --d-model", "65536"]),
    ("zoo --length nan", ["zoo", "--length", "nan"], ["argument --length", "expected an integer"]),
]


@pytest.mark.parametrize("argv, words", [c[1:] for c in FLAGS], ids=[c[0] for c in FLAGS])
def test_flag_refused_while_parsing(tmp_path, capsys, argv, words) -> None:
    space = _write(tmp_path, OK, "space.yaml")
    argv = [str(space) if a == "SPACE" else a.replace("TMP", str(tmp_path)) for a in argv]
    err = _refused(capsys, argv)
    assert all(w in err for w in words), err
    assert not (tmp_path / "results").exists()  # nothing was started


def test_the_suite_has_at_least_100_cases() -> None:
    assert len(ALL_SPACES) + len(PROTOCOLS) + len(FLAGS) >= 100


@pytest.mark.parametrize("content, argv", [
    (bomb() + OK, ["validate", "FILE"]),
    (OK.encode("utf-16"), ["validate", "FILE"]),
    (OK.replace("transition: scalar", "transition: !!python/object/apply:os.system ['echo pwned']"), ["validate", "FILE"]),
    (OK, ["run", "FILE", "--study", "../../escaped", "--serial"]),
], ids=["alias bomb", "UTF-16", "python tag", "study path"])
def test_in_a_subprocess_exit_2_without_traceback(tmp_path, content, argv) -> None:
    file = _write(tmp_path, content, "space.yaml")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    proc = subprocess.run([sys.executable, "-m", "dsf_search", *[str(file) if a == "FILE" else a for a in argv]],
                          capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "pwned" not in proc.stdout
    assert not (tmp_path.parent / "escaped").exists() and not (tmp_path / "results").exists()
