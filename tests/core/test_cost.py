"""Analytic cost: exact parameter counts (against the module), state bytes, FLOPs."""

from __future__ import annotations

import random

import torch

from dsf_search.core import MixerSpec, ModelSpec, SequenceModel, zoo
from dsf_search.core import spec as S
from dsf_search.core.cost import analytic_cost, matmul_flops, params, state_bytes
from dsf_search.core.layers import HeadwiseLinear
from dsf_search.core.mixer import DSFMixer


def random_mixer(rng: random.Random) -> MixerSpec:
    while True:
        data = {
            "transition": rng.choice(S.TRANSITIONS), "eigenvalues": rng.choice(S.EIGENVALUES),
            "readout": rng.choice(S.READOUTS), "normalization": rng.choice(S.NORMALIZATIONS),
            "heads": rng.randint(1, 3), "state_size": rng.choice([2, 4, 6]), "head_dim": rng.randint(1, 5),
            "query": rng.choice(S.QUERY_SOURCES), "key": rng.choice(S.KEY_SOURCES), "qk_shared": rng.random() < 0.5,
            "feature_map": rng.choice(S.FEATURE_MAPS), "qk_norm": rng.random() < 0.5, "conv_size": rng.choice([0, 2, 4]),
            "gate": rng.choice(S.GATES), "selective": rng.random() < 0.7, "injection": rng.choice(S.INJECTIONS),
            "eta": rng.choice(S.ETAS), "scale": rng.choice(S.SCALES), "output_gate": rng.choice(S.OUTPUT_GATES),
            "output_norm": rng.random() < 0.5, "skip": rng.random() < 0.5, "wiring": rng.choice(S.WIRING_CHOICES),
            "rotation": rng.choice(S.ROTATIONS), "householder_factors": rng.choice([1, 1, 2, 3]),
            "decay_placement": rng.choice(S.DECAY_PLACEMENTS),
        }
        try:
            return MixerSpec.from_dict(data)
        except ValueError:
            continue


def random_model(rng: random.Random) -> ModelSpec:
    return ModelSpec(
        vocab_size=rng.randint(5, 40), d_model=rng.choice([8, 12, 16]),
        layers=tuple(random_mixer(rng) for _ in range(rng.randint(1, 3))),
        channel_mixer=rng.choice(S.CHANNEL_MIXERS), mlp_ratio=rng.choice([1.0, 2.5, 4.0]),
        norm=rng.choice(S.NORMS), positional=rng.choice(["none", "learned", "rope"]), max_len=rng.randint(8, 64),
        tie_embeddings=rng.random() < 0.5,
    )


def count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_params_exact_for_every_preset():
    for name in zoo.names():
        for d in (16, 64):
            spec = zoo.model(name, d_model=d, n_layers=2, vocab_size=37)
            assert params(spec) == count(SequenceModel(spec)), name


def test_params_exact_for_random_specs():
    rng = random.Random(0)
    for _ in range(150):
        spec = random_model(rng)
        assert params(spec) == count(SequenceModel(spec)), spec.to_dict()


def module_matmul_flops(mixer: torch.nn.Module) -> int:
    """2 FLOPs per weight of every matrix product the built mixer runs per token (its Linear
    maps, including the GateInputs' projections, the depthwise conv, the block-diagonal maps),
    read off the module, not the spec."""
    weights = 0
    for module in mixer.modules():
        if isinstance(module, (torch.nn.Linear, torch.nn.Conv1d, HeadwiseLinear)):
            weights += module.weight.numel()
    return 2 * weights


def test_matmul_flops_equal_the_built_mixers_weights():
    """The cost model's FLOPs of the projections equal the weights of the module it describes
    (per-channel gates whose projection is per head, as Mamba's Delta, counted as built), for
    every preset and random specs."""
    cases = [(zoo.mixer(name, d), d) for name in zoo.names() for d in (16, 64)]
    rng = random.Random(2)
    cases += [(random_mixer(rng), rng.choice([8, 16])) for _ in range(150)]
    for m, d in cases:
        assert matmul_flops(m, d) == module_matmul_flops(DSFMixer(m, d)), m.to_dict()


def test_random_specs_run_forward():
    rng = random.Random(1)
    for _ in range(40):
        spec = random_model(rng)
        model = SequenceModel(spec)
        logits = model(torch.randint(0, spec.vocab_size, (2, min(7, spec.max_len))))
        assert logits.shape == (2, min(7, spec.max_len), spec.vocab_size)
        assert torch.isfinite(logits).all(), spec.to_dict()


def test_state_bytes_finite_state_vs_kv_cache():
    lin = zoo.model("gla", d_model=64, n_layers=1)
    attn = zoo.model("softmax_attention", d_model=64, n_layers=1)
    assert state_bytes(lin, 1024) == state_bytes(lin, 4096)
    m = lin.layers[0]
    assert state_bytes(lin, 1) == 4 * m.heads * m.state_size * m.head_dim
    a = attn.layers[0]
    assert state_bytes(attn, 4096) == 4 * 4096 * a.heads * (a.state_size + a.head_dim)
    assert state_bytes(attn, 4096) == 2 * state_bytes(attn, 2048)


def test_flops_per_token_grow_with_context_only_for_exp_readouts():
    lin = zoo.model("mamba2", d_model=64)
    attn = zoo.model("softmax_attention", d_model=64)
    assert analytic_cost(lin, 512).flops_per_token == analytic_cost(lin, 4096).flops_per_token
    assert analytic_cost(attn, 4096).flops_per_token > analytic_cost(attn, 512).flops_per_token
    a = attn.layers[0]
    delta = analytic_cost(attn, 4096).flops_per_token - analytic_cost(attn, 512).flops_per_token
    assert delta == attn.n_layers * a.heads * 2 * (4096 - 512) * (a.state_size + a.head_dim)
