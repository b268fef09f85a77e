"""DSFMixer.coefficients: the alpha_ij that forward mixes with, for every zoo preset."""

from __future__ import annotations

import pytest
import torch

import dsf_search.core.mixer as mixer_module
from dsf_search.core import DSFMixer, MixerSpec, zoo
from dsf_search.core.injections import INJECTIONS

D_MODEL, T = 32, 10


def test_linear_attention_without_normalization_is_q_dot_k():
    H, n = 2, 4
    spec = MixerSpec(transition="identity", readout="linear", normalization="none", heads=H, state_size=n,
                     head_dim=4, feature_map="identity", scale="one")
    torch.manual_seed(0)
    mixer = DSFMixer(spec, D_MODEL)
    u = torch.randn(2, T, D_MODEL)
    W = mixer.in_proj.weight  # rows: q (H n) | k (H n) | v
    q = (u @ W[:H * n].T).reshape(2, T, H, n)
    k = (u @ W[H * n:2 * H * n].T).reshape(2, T, H, n)
    expected = torch.einsum("bihn,bjhn->bhij", q, k).tril()
    assert torch.allclose(mixer.coefficients(u), expected, atol=1e-5)


@pytest.mark.parametrize("name", zoo.names())
def test_coefficients_reproduce_the_mix_output_of_every_preset(name, monkeypatch):
    preset = zoo.get(name)
    torch.manual_seed(0)
    mixer = DSFMixer(preset.mixer(D_MODEL), D_MODEL, rope=preset.positional == "rope").double()
    seen = {}
    original = mixer_module.mix

    def recording_mix(q, k, v, **kwargs):
        seen["v"], seen["y"] = v, original(q, k, v, **kwargs)
        return seen["y"]

    monkeypatch.setattr(mixer_module, "mix", recording_mix)
    u = torch.randn(2, T, D_MODEL, dtype=torch.float64)
    mixer(u)
    if mixer.spec.householder_factors > 1:
        with pytest.raises(NotImplementedError, match="not a T x T matrix"):
            mixer.coefficients(u)
        return
    alpha = mixer.coefficients(u)
    assert alpha.shape == (2, mixer.spec.heads, T, T)
    assert torch.equal(alpha, alpha.tril())
    # a two-tap injection mixes 2 sub-steps per token (core/frontier.py): the token's own value
    # and output are the second of each pair
    taps = INJECTIONS[mixer.spec.injection].taps
    v, y_mix = seen["v"][:, taps - 1::taps], seen["y"][:, taps - 1::taps]
    y = torch.einsum("bhij,bjhd->bihd", alpha, v)
    assert torch.allclose(y, y_mix, atol=1e-5, rtol=0)


def test_a_product_of_householders_has_no_map_and_is_refused_before_training():
    from dsf_search.errors import InputError
    from dsf_search.evaluate.protocol import load_protocol
    from dsf_search.results.coefficients import coefficient_maps

    spec = zoo.model("deltaproduct")
    with pytest.raises(InputError, match=r"layers\.0\.householder_factors: 2 factors per token"):
        coefficient_maps(spec, load_protocol("evaluators/quick.yaml"), train_steps=10**9)
