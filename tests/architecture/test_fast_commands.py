"""Commands that start fast (issue 14 item 5): `--help`, `COMMAND --help` for every command, a
mistyped command and `validate` on a space whose protocol trains nothing import what they use
when they run, never torch (nor numpy, pandas, Optuna or Ray). Each runs as `python -m dsf_search`
does, in a fresh interpreter, which then reports the heavy packages it holds at exit.

Also the lazy package exports this rests on: `from dsf_search.core import mix` is the function
whatever was imported before, and no lazily exported name is also a submodule's name."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from dsf_search.cli.commands import COMMANDS

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "numpy", "pandas", "optuna", "ray")
MARK = "LOADED-AT-EXIT "
# Runs dsf_search's __main__ like `python -m dsf_search ARGV`, then prints the heavy packages
# the interpreter holds (sys.modules at exit) and the exit code.
RUNNER = """
import json, runpy, sys
sys.argv = ["dsf-search", *json.loads(sys.argv[1])]
code = 0
try:
    runpy.run_module("dsf_search", run_name="__main__", alter_sys=True)
except SystemExit as stop:
    code = stop.code
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r})
print({mark!r} + json.dumps({{"code": code, "heavy": heavy}}))
""".format(heavy=set(HEAVY), mark=MARK)

SPACE = """name: fast
evaluator: {evaluator}
model:
  d_model: 64
  layers: {{transition: {{choice: [scalar, diagonal]}}, state_size: {{choice: [16, 32]}}}}
objectives: {{params: minimize, train_tokens_per_s: maximize}}
"""


def _run(argv: list[str]) -> tuple[int, list[str], str]:
    """(exit code, heavy packages loaded at exit, output) of `python -m dsf_search ARGV`."""
    done = subprocess.run([sys.executable, "-c", RUNNER, json.dumps(argv)], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    last = [line for line in done.stdout.splitlines() if line.startswith(MARK)]
    assert last, f"the runner did not finish:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    report = json.loads(last[-1][len(MARK):])
    return report["code"], [m for m in report["heavy"] if "." not in m], done.stdout + done.stderr


@pytest.mark.parametrize("argv", [["--help"], ["vaildate", "space.yaml"]] + [[name, "--help"] for name in COMMANDS],
                         ids=lambda argv: " ".join(argv))
def test_help_and_a_typo_import_nothing_heavy(argv: list[str]) -> None:
    code, heavy, output = _run(argv)
    assert code == (2 if argv[0] == "vaildate" else 0), output
    assert heavy == [], f"dsf-search {' '.join(argv)} imported {heavy}"
    if argv[0] == "vaildate":
        assert "(did you mean 'validate'?)" in output
    else:
        assert "usage: dsf-search" in output


def test_validate_without_training_imports_nothing_heavy(tmp_path: Path) -> None:
    """A space whose protocol trains nothing (efficiency only): `validate` checks it, prints its
    axes, size, costs and findings, and needs no torch (no time estimate: nothing trains)."""
    space = tmp_path / "space.yaml"
    space.write_text(SPACE.format(evaluator=ROOT / "evaluators" / "efficiency.yaml"))
    code, heavy, output = _run(["validate", str(space)])
    assert code == 0, output
    assert f"ok: {space} is a valid search space" in output
    assert "size: 4 candidates" in output and "time/trial" not in output
    assert heavy == [], f"dsf-search validate imported {heavy}"


def test_the_runner_sees_torch_when_a_command_loads_it() -> None:
    """The checks above can fail: the runner reports torch once a command imports it (`evaluate`
    loads the training stack when it runs, before it refuses a missing spec file)."""
    code, heavy, output = _run(["evaluate", str(ROOT / "no-such-spec.yaml"), "--evaluator",
                                str(ROOT / "evaluators" / "efficiency.yaml")])
    assert code == 2, output
    assert "torch" in heavy


PACKAGES = ("dsf_search.core", "dsf_search.evaluate", "dsf_search.grammar", "dsf_search.search")


@pytest.mark.parametrize("package", PACKAGES)
def test_no_lazily_exported_name_is_a_submodule(package: str) -> None:
    """Importing a submodule sets the package attribute of its name, which would then hide a
    lazily exported function or class of that name (as `dsf_search.core.mix` did)."""
    module = importlib.import_module(package)
    submodules = {info.name for info in pkgutil.iter_modules(module.__path__)}
    exported = set(module.__all__) - {name for name in module.__all__ if isinstance(vars(module).get(name), ModuleType)}
    assert not exported & submodules, f"{package}: exported names that are also submodules: {exported & submodules}"


def test_the_core_exports_the_same_objects_whatever_was_imported_first() -> None:
    code = ("import dsf_search.core.mixing, dsf_search.core.mixer, dsf_search.core.model\n"
            "from dsf_search.core import mix, coefficients, DSFMixer, MixerState, SequenceModel, MixerSpec, zoo\n"
            "import dsf_search.core as core, types\n"
            "assert mix is dsf_search.core.mixing.mix and coefficients is dsf_search.core.mixing.coefficients\n"
            "assert DSFMixer is dsf_search.core.mixer.DSFMixer and SequenceModel is dsf_search.core.model.SequenceModel\n"
            "assert isinstance(zoo, types.ModuleType) and not isinstance(core.mix, types.ModuleType)\n"
            "assert sorted(core.__all__) == sorted(n for n in core.__all__ if hasattr(core, n))\n"
            "print('same')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.stdout.strip() == "same", done.stderr


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exported_name_resolves_to_what_it_names(package: str) -> None:
    module = importlib.import_module(package)
    assert set(module.__all__) <= set(dir(module))
    for name in module.__all__:
        value = getattr(module, name)
        assert name == "zoo" or not isinstance(value, ModuleType), f"{package}.{name} is a module"
