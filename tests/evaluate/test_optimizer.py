"""Weight decay by parameter group: matrices decay; biases, norms, decay parameters, Delta's
bias and the skip D do not (the published recipes)."""

from __future__ import annotations

from dsf_search.core import SequenceModel, zoo
from dsf_search.evaluate.train import make_optimizer


def groups_by_name(preset: str) -> tuple[set[str], set[str]]:
    model = SequenceModel(zoo.model(preset, d_model=32, n_layers=1, vocab_size=11))
    opt = make_optimizer(model, lr=1e-3, weight_decay=0.1, betas=(0.9, 0.98))
    names = {id(p): name for name, p in model.named_parameters()}
    decayed, kept = ({names[id(p)] for p in g["params"]} for g in opt.param_groups)
    assert [g["weight_decay"] for g in opt.param_groups] == [0.1, 0.0]
    assert decayed | kept == set(names.values()) and not decayed & kept
    return decayed, kept


def test_mamba_groups():
    decayed, kept = groups_by_name("mamba")
    mixer = "blocks.0.mixer."
    for name in ("A_log", "D", "dt.proj.bias", "conv.bias"):
        assert mixer + name in kept, name
    for name in ("in_proj.weight", "x_proj.weight", "dt.proj.weight", "gate_proj.weight", "out_proj.weight", "conv.weight"):
        assert mixer + name in decayed, name
    assert {"embed.weight", "head.weight"} <= decayed
    assert all(not n.endswith("bias") for n in decayed)
    assert any("norm" in n for n in kept) and all("norm" not in n for n in decayed)


def test_per_head_norms_and_griffin_decay_keep_their_scale():
    _, kept = groups_by_name("mamba2")
    assert "blocks.0.mixer.out_norm_weight" in kept  # [H, d_v]: a norm gain despite being 2-d
    _, kept = groups_by_name("rg_lru")
    assert "blocks.0.mixer.lam" in kept
    _, kept = groups_by_name("s4d")
    assert "blocks.0.mixer.A_log" in kept  # [H, n] per-channel decays
