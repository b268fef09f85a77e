"""The wiring axis: registered options, default kept out of the canonical form (hashes of the
specs made before the axis existed are unchanged), every option builds, runs and decodes."""

from __future__ import annotations

import pytest
import torch

from dsf_search.core import MixerSpec, ModelSpec, SequenceModel, zoo
from dsf_search.core.cost import params
from dsf_search.core.mixer import DSFMixer
from dsf_search.core.spec import content_hash
from dsf_search.core.wiring import DEFAULT_WIRING, WIRINGS


def test_default_wiring_keeps_the_hash():
    spec = MixerSpec(transition="diagonal", gate="mamba", injection="delta", conv_size=4)
    assert spec.wiring == DEFAULT_WIRING and "wiring" not in spec.canonical()
    # the hashes the code gave these specs before the axis existed (commit 82f646d)
    assert spec.hash() == "238b9a02b1de830a"
    assert content_hash(zoo.model("gated_deltanet").canonical()) == "74de7a694b76d04d"
    other = MixerSpec(transition="diagonal", gate="mamba", injection="delta", conv_size=4, wiring="mamba")
    assert other.canonical()["wiring"] == "mamba" and other.hash() != spec.hash()


def test_unknown_wiring_names_the_axis():
    with pytest.raises(ValueError, match=r"mixer\.wiring: 'mamb' is not one of .*did you mean 'mamba'"):
        MixerSpec(wiring="mamb")
    with pytest.raises(ValueError, match=r"mixer\.wiring: 'xlstm' .* state_size = head_dim"):
        MixerSpec(wiring="xlstm", state_size=8, head_dim=4)


@pytest.mark.parametrize("wiring", WIRINGS.names())
@pytest.mark.parametrize("base", [
    dict(transition="diagonal", gate="mamba", injection="delta", qk_shared=True, skip=True, output_gate="silu"),
    dict(transition="householder_scalar", gate="mamba", injection="beta", qk_norm=True, output_norm=True,
         output_gate="silu", normalization="learned"),
    dict(transition="scalar", gate="rglru", injection="sqrt_one_minus_a2", query="ones", output_gate="gelu_tanh"),
])
def test_every_wiring_builds_counts_and_decodes(wiring, base):
    torch.manual_seed(0)
    axes = dict(heads=2, state_size=4, head_dim=3, conv_size=3, wiring=wiring, **base)
    if wiring == "xlstm":  # q, k, v of one width, from blocks of 4 channels
        axes.update(head_dim=4, qk_shared=False, query="input")
    spec = MixerSpec(**axes)
    model = ModelSpec(vocab_size=11, d_model=16, layers=(spec,))
    assert params(model) == sum(p.numel() for p in SequenceModel(model).parameters())
    m = DSFMixer(spec, 16).double()
    u = torch.randn(2, 9, 16, dtype=torch.float64)
    with torch.no_grad():
        full = m(u)
        y, state = m(u[:, :4], None, True)
        pieces = [y]
        for t in range(4, 9):
            y, state = m(u[:, t:t + 1], state, True)
            pieces.append(y)
    torch.testing.assert_close(torch.cat(pieces, 1), full, rtol=1e-10, atol=1e-10)
