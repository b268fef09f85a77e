"""Helpers for space tests: write a YAML space next to tmp_path and load it."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from dsf_search.search.plan import SearchPlan, load_plan
from dsf_search.space import SpaceError

ROOT = Path(__file__).resolve().parents[2]
QUICK = ROOT / "evaluators" / "quick.yaml"


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str], Path]:
    """Write a space file (dedented; `EV` stands for the quick protocol's path)."""
    def _write(text: str, name: str = "space.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n").replace("EV", str(QUICK)))
        return path

    return _write


@pytest.fixture
def load(write: Callable[[str], Path]) -> Callable[[str], SearchPlan]:
    return lambda text: load_plan(write(text))


@pytest.fixture
def errors(write: Callable[[str], Path]) -> Callable[[str], SpaceError]:
    """The SpaceError a space text raises (fails the test when it loads)."""
    def _errors(text: str) -> SpaceError:
        with pytest.raises(SpaceError) as info:
            load_plan(write(text))
        return info.value

    return _errors
