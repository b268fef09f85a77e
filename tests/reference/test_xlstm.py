"""The mlstm preset against the `xlstm` package's mLSTMLayer (its native PyTorch backend,
parallel_stabilized_simple), random weights, an explicit weight map; float32, max abs output
difference <= 1e-4 and the input gradient, d_model 64 and 128, T = 160 (three of the mixer's
chunks of 64); parameter counts equal. Skipped when the `reference` extra is missing."""

from __future__ import annotations

import pytest
import torch

from dsf_search.core import zoo
from dsf_search.core.cost import mixer_params
from dsf_search.core.mixer import DSFMixer

pytest.importorskip("xlstm", reason="the `reference` extra (xlstm) is not installed")

from tests.reference.test_transformers import BATCH, LENGTH, WIDTHS, compare, copy, count, one_thread  # noqa: E402,F401


@pytest.mark.parametrize("d", WIDTHS)
def test_mlstm_equals_xlstm_mlstm_layer(d):
    from xlstm.blocks.mlstm.layer import mLSTMLayer, mLSTMLayerConfig

    torch.manual_seed(0)
    spec = zoo.mixer("mlstm", d)
    config = mLSTMLayerConfig(embedding_dim=d, num_heads=spec.heads, conv1d_kernel_size=spec.conv_size,
                              qkv_proj_blocksize=4, proj_factor=2.0, bias=False, context_length=LENGTH)
    ref = mLSTMLayer(config).eval()
    with torch.no_grad():
        for p in ref.parameters():  # its init zeroes the gate weights and the norm weight
            p.add_(0.05 * torch.randn_like(p))
    ours = DSFMixer(spec, d)
    assert count(ours) == count(ref) == mixer_params(spec, d)
    inner = spec.heads * spec.head_dim
    copy(ours.in_proj.weight, ref.proj_up.weight[:inner])  # x
    copy(ours.gate_proj.weight, ref.proj_up.weight[inner:])  # z
    copy(ours.conv.weight, ref.conv1d.conv.weight)
    copy(ours.conv.bias, ref.conv1d.conv.bias)
    for name in ("q_proj", "k_proj", "v_proj"):
        copy(getattr(ours, name).weight, getattr(ref, name).weight)
    cell = ref.mlstm_cell
    copy(ours.a_in.proj.weight, cell.fgate.weight)
    copy(ours.a_in.proj.bias, cell.fgate.bias)
    copy(ours.b_in.proj.weight, cell.igate.weight)
    copy(ours.b_in.proj.bias, cell.igate.bias)
    copy(ours.out_norm_weight, (1.0 + cell.outnorm.weight).view(spec.heads, spec.head_dim))  # weight 1 + w
    copy(ours.D, ref.learnable_skip)
    copy(ours.out_proj.weight, ref.proj_down.weight)
    compare(ours, ref, d)
