"""The layers of DESIGN.md section 2, read from the code: every import of every module of the
package (at the top or inside a function) points to its own package or a lower layer, and the
entry points that must start fast do not load what they do not use."""

from __future__ import annotations

import ast
import contextlib
import io
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "dsf_search"
# Leaf modules (names.py, suggest.py, kinds.py) import nothing of the package but errors.py.
LEAF = -1
LAYERS = {"errors": -2, "core": 0, "tasks": 0, "grammar": 1, "space": 2, "evaluate": 2, "search": 3, "results": 4,
          "cli": 5, "__main__": 6, "__init__": LEAF}


def _layer(module: str) -> tuple[str, int]:
    """(package, layer) of a module path like dsf_search.space.model or dsf_search.names."""
    part = module.split(".")[1] if "." in module else "__init__"
    return part, LAYERS.get(part, LEAF)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every absolute import of dsf_search in the file."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.startswith("dsf_search")]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("dsf_search"):
            out.append((node.lineno, node.module))
    return out


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" and len(parts) > 2 else parts)


def test_every_import_points_down_or_within_its_package() -> None:
    wrong = []
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 50
    for path in files:
        package, layer = _layer(_module_name(path))
        for line, target in _imports(path):
            target_package, target_layer = _layer(target)
            if target_package != package and target_layer >= layer:
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {package} (layer {layer}) imports {target}")
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


def test_the_checker_sees_a_wrong_import() -> None:
    """The rule above fails on what it must refuse (an upward and a sideways import)."""
    assert _layer("dsf_search.evaluate.protocol")[1] >= _layer("dsf_search.space.model")[1]
    assert _layer("dsf_search.search.plan")[1] > _layer("dsf_search.space")[1]
    assert _layer("dsf_search.names") == ("names", LEAF)


def _loaded(code: str) -> set[str]:
    """Top-level modules loaded by running `code` in a fresh interpreter."""
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys; print(' '.join(sorted(sys.modules)))"],
                         capture_output=True, text=True, check=True, cwd=PACKAGE.parent)
    return set(out.stdout.split())


def test_a_space_loads_no_evaluation_or_search() -> None:
    loaded = _loaded("import dsf_search.space")
    assert "dsf_search.space" in loaded
    assert not {m for m in loaded if m.startswith(("dsf_search.evaluate", "dsf_search.search", "dsf_search.results"))}


@pytest.mark.parametrize("argv", [["--help"], ["vaildate", "x.yaml"], [], ["validate", "--help"], ["sample", "--help"],
                                  ["zoo", "--help"]])
def test_help_and_a_typo_load_no_torch(argv: list[str]) -> None:
    loaded = _loaded(f"import contextlib, io\nfrom dsf_search.cli import main\n"
                     f"with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
                     f"    main({argv!r})")
    assert "dsf_search.cli" in loaded
    assert not {m for m in loaded if m in ("torch", "optuna", "pandas", "ray") or m.startswith(("dsf_search.space",
                "dsf_search.evaluate", "dsf_search.search", "dsf_search.results", "dsf_search.core"))}


def test_a_typo_is_answered_with_did_you_mean(capsys) -> None:
    from dsf_search.cli import main
    assert main(["vaildate", "x.yaml"]) == 2
    assert "unknown command 'vaildate' (did you mean 'validate'?)" in capsys.readouterr().err


def test_every_command_has_help() -> None:
    # stdout only: a command's modules are imported here, and some bind sys.stderr as a default
    # argument at import time, which must not be a stream that closes with this test.
    from dsf_search.cli import main
    from dsf_search.cli.commands import COMMANDS
    for name in COMMANDS:
        with contextlib.redirect_stdout(io.StringIO()) as out:
            assert main([name, "--help"]) == 0, name
        assert f"usage: dsf-search {name}" in out.getvalue()
