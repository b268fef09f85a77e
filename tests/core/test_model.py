"""SequenceModel and DSFMixer: every preset runs, forms agree, decoding continues a sequence."""

from __future__ import annotations

import pytest
import torch

from dsf_search.core import MixerSpec, ModelSpec, SequenceModel, zoo


@pytest.mark.parametrize("name", zoo.names())
def test_preset_forms_agree_and_decoding_matches(name):
    torch.manual_seed(0)
    spec = zoo.model(name, d_model=32, n_layers=2, vocab_size=23)
    model = SequenceModel(spec).double()
    tokens = torch.randint(0, 23, (2, 11))
    model.set_form("recurrent")
    ref = model(tokens)
    model.set_form("quadratic")
    assert torch.allclose(model(tokens), ref, atol=1e-9)
    model.set_form("recurrent")
    logits, states = model(tokens[:, :5], return_states=True)
    steps = [logits]
    for t in range(5, 11):
        out, states = model(tokens[:, t : t + 1], states=states, return_states=True)
        steps.append(out)
    assert torch.allclose(torch.cat(steps, dim=1), ref, atol=1e-9)


def test_hybrid_pattern_builds_linear_and_softmax_layers():
    lin, attn = zoo.mixer("gated_deltanet", 32), zoo.mixer("softmax_attention", 32)
    spec = ModelSpec.from_pattern({"lin": lin, "attn": attn}, ["lin", "lin", "lin", "attn"], 4, d_model=32, positional="rope")
    model = SequenceModel(spec)
    assert [b.mixer.spec.readout for b in model.blocks] == ["linear"] * 3 + ["exp"]
    assert model(torch.randint(0, 64, (1, 9))).shape == (1, 9, 64)


def test_model_is_causal():
    spec = ModelSpec(d_model=16, layers=(MixerSpec(transition="diagonal", conv_size=3),) * 2)
    model = SequenceModel(spec)
    a = torch.randint(0, 64, (1, 12))
    b = a.clone()
    b[0, 8:] = (b[0, 8:] + 1) % 64
    assert torch.allclose(model(a)[:, :8], model(b)[:, :8], atol=1e-6)
    assert not torch.allclose(model(a)[:, 8:], model(b)[:, 8:], atol=1e-6)


def test_learned_positions_respect_max_len():
    spec = ModelSpec(d_model=16, positional="learned", max_len=8)
    with pytest.raises(ValueError, match="max_len"):
        SequenceModel(spec)(torch.zeros(1, 9, dtype=torch.long))


def test_signed_gate_reaches_negative_values():
    spec = MixerSpec(transition="scalar", eigenvalues="signed", gate="sigmoid", heads=1, state_size=2, head_dim=1)
    mixer = SequenceModel(ModelSpec(d_model=8, layers=(spec,))).blocks[0].mixer
    with torch.no_grad():
        mixer.a_in.proj.bias.fill_(-20.0)
        mixer.a_in.proj.weight.zero_()
    x = torch.zeros(1, 3, 8)
    log_a, _ = mixer.gate.log_a(mixer, x, x)
    assert torch.allclose(2 * log_a.exp() - 1, torch.full((1, 3, 1), -1.0), atol=1e-6)
