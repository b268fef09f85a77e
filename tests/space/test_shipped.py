"""Every space shipped in spaces/ validates, holds its seeds and has the documented size."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsf_search.core import zoo
from dsf_search.search.plan import load_plan

SPACES = Path(__file__).resolve().parents[2] / "spaces"
SIZES = {"quickstart": 108, "transition_ladder": 11, "readout_and_normalization": 192, "injection_scaling": 40,
         "zoo": 27, "hybrid": 10, "quickstart_ladder": 108, "frontier": 26}


def test_all_are_listed() -> None:
    assert sorted(p.stem for p in SPACES.glob("*.yaml")) == sorted(SIZES)


@pytest.mark.parametrize("name", sorted(SIZES))
def test_shipped_space_validates(name: str) -> None:
    path = SPACES / f"{name}.yaml"
    assert path.read_text().startswith("# "), "each space opens with a comment saying what it answers"
    space = load_plan(path)
    assert space.name == name
    assert space.size() == SIZES[name]
    assert space.objectives and space.protocol is not None
    hashes = [space.seed_spec(seed).hash() for seed in space.seeds]
    assert len(set(hashes)) == len(hashes)
    assert space.trials >= len(space.seeds)
    assert space.search.sampler != "grid" or space.trials == space.size()


def test_quickstart_is_small_and_cpu_friendly() -> None:
    space = load_plan(SPACES / "quickstart.yaml")
    assert space.fixed["d_model"] == 64 and space.fixed["n_layers"] == 2
    assert list(space.objectives) == ["quality", "state_bytes"]
    assert {s.label for s in space.seeds} >= {"gated_deltanet", "deltanet"}
    assert space.protocol.name == "quick"


def test_zoo_space_seeds_every_preset() -> None:
    space = load_plan(SPACES / "zoo.yaml")
    assert [s.label for s in space.seeds] == zoo.names()
    d, n, vocab = 64, 2, space.protocol.vocab_size
    for seed in space.seeds:
        assert space.seed_spec(seed).hash() == zoo.model(seed.label, d, n, vocab).hash()
