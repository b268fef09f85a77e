"""Presets against the field's own code: Hugging Face transformers' Mamba, Mamba-2 and
RecurrentGemma (Griffin) layers, their pure-PyTorch (non-CUDA) paths, with random weights.

Each test builds the reference layer from a config (nothing is downloaded), copies its weights
into the preset's DSFMixer through an explicit weight map, and compares the outputs (float32,
max abs difference <= 1e-4) and the gradient of the input, at d_model 64 and 128 over T = 160
(three of the mixer's chunks of 64). The parameter counts must be equal exactly, both the
module's and the analytic count of `cost.mixer_params`. Skipped when the `reference` extra
(transformers) is not installed.
"""

from __future__ import annotations

import pytest
import torch

from dsf_search.core import zoo
from dsf_search.core.cost import mixer_params
from dsf_search.core.mixer import DSFMixer

transformers = pytest.importorskip("transformers", reason="the `reference` extra (transformers) is not installed")

TOL = 1e-4
LENGTH, BATCH = 160, 2
WIDTHS = (64, 128)


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def randomize(module: torch.nn.Module, scale: float = 0.02) -> None:
    """Every parameter perturbed, so no init symmetry (ones, zeros) hides a mapping error; small
    enough that the outputs stay O(1), where an absolute float32 tolerance of 1e-4 means something."""
    with torch.no_grad():
        for p in module.parameters():
            p.add_(scale * torch.randn_like(p))


def draw(module: torch.nn.Module) -> None:
    """Fresh random weights for a module that leaves some of its own uninitialized: matrices
    (and conv kernels) N(0, 1 / fan_in), vectors N(0, 0.3^2)."""
    with torch.no_grad():
        for p in module.parameters():
            fan_in = p.shape[-2] if p.dim() == 3 and p.shape[-1] == p.shape[-2] else p[0].numel()
            p.copy_(torch.randn_like(p) / fan_in**0.5 if p.dim() >= 2 else 0.3 * torch.randn_like(p))


def copy(dst: torch.Tensor, src: torch.Tensor) -> None:
    assert dst.shape == src.shape, (dst.shape, src.shape)
    with torch.no_grad():
        dst.copy_(src)


def compare(ours: torch.nn.Module, ref_forward, d: int) -> float:
    """Max abs output difference; asserts the input gradients agree too."""
    u = torch.randn(BATCH, LENGTH, d, requires_grad=True)
    w = torch.randn(BATCH, LENGTH, d)
    y = ours(u)
    (g_ours,) = torch.autograd.grad((y * w).sum(), u)
    y_ref = ref_forward(u)
    (g_ref,) = torch.autograd.grad((y_ref * w).sum(), u)
    assert y_ref.abs().max() > 1e-2  # not a comparison of two near-zero outputs
    err = (y - y_ref).abs().max().item()
    assert err <= TOL, err
    torch.testing.assert_close(g_ours, g_ref, rtol=1e-4, atol=1e-4)
    return err


@pytest.mark.parametrize("d", WIDTHS)
def test_mamba_equals_transformers_mamba_mixer(d):
    from transformers import MambaConfig
    from transformers.models.mamba.modeling_mamba import MambaMixer

    torch.manual_seed(0)
    spec = zoo.mixer("mamba", d)
    config = MambaConfig(hidden_size=d, state_size=spec.state_size, expand=2, conv_kernel=spec.conv_size,
                         num_hidden_layers=1, use_bias=False, use_conv_bias=True)
    ref = MambaMixer(config, 0).eval()
    randomize(ref)
    ours = DSFMixer(spec, d)
    assert count(ours) == count(ref) == mixer_params(spec, d)
    di = config.intermediate_size
    copy(ours.in_proj.weight, ref.in_proj.weight[:di])  # x
    copy(ours.gate_proj.weight, ref.in_proj.weight[di:])  # z
    copy(ours.conv.weight, ref.conv1d.weight)
    copy(ours.conv.bias, ref.conv1d.bias)
    copy(ours.x_proj.weight, ref.x_proj.weight)  # dt | B | C
    copy(ours.dt.proj.weight, ref.dt_proj.weight)
    copy(ours.dt.proj.bias, ref.dt_proj.bias)
    copy(ours.A_log, ref.A_log)
    copy(ours.D, ref.D)
    copy(ours.out_proj.weight, ref.out_proj.weight)
    compare(ours, ref, d)


@pytest.mark.parametrize("d", WIDTHS)
def test_mamba2_equals_transformers_mamba2_mixer(d):
    from transformers import Mamba2Config
    from transformers.models.mamba2.modeling_mamba2 import Mamba2Mixer

    torch.manual_seed(0)
    spec = zoo.mixer("mamba2", d)
    H, N, P = spec.heads, spec.state_size, spec.head_dim
    config = Mamba2Config(hidden_size=d, state_size=N, expand=2, head_dim=P, num_heads=H, n_groups=1,
                          conv_kernel=spec.conv_size, num_hidden_layers=1, chunk_size=32, use_bias=False,
                          use_conv_bias=True, layer_norm_epsilon=1e-6)
    ref = Mamba2Mixer(config, 0).eval()
    randomize(ref)
    ours = DSFMixer(spec, d)
    assert count(ours) == count(ref) == mixer_params(spec, d)
    di = H * P
    W = ref.in_proj.weight  # rows: z | x | B | C | dt
    z, x, Bm, Cm, dt = W.split([di, di, N, N, H])
    copy(ours.in_proj.weight, torch.cat([Cm, Bm, x]))  # ours: q=C | k=B | v=x
    cw, cb = ref.conv1d.weight, ref.conv1d.bias  # channels x | B | C
    copy(ours.conv.weight, torch.cat([cw[di + N:], cw[di:di + N], cw[:di]]))
    copy(ours.conv.bias, torch.cat([cb[di + N:], cb[di:di + N], cb[:di]]))
    copy(ours.gate_proj.weight, z)
    copy(ours.dt.proj.weight, dt)
    copy(ours.dt.proj.bias, ref.dt_bias)
    copy(ours.A_log, ref.A_log)
    copy(ours.D, ref.D)
    copy(ours.out_norm_weight, ref.norm.weight.view(H, P))
    copy(ours.out_proj.weight, ref.out_proj.weight)
    compare(ours, ref, d)


@pytest.mark.parametrize("d", WIDTHS)
def test_rg_lru_equals_transformers_recurrent_gemma_block(d):
    from transformers import RecurrentGemmaConfig
    from transformers.models.recurrent_gemma.modeling_recurrent_gemma import RecurrentGemmaRecurrentBlock

    torch.manual_seed(0)
    spec = zoo.mixer("rg_lru", d)
    # one attention head: Griffin's block-diagonal gates with a single block (the preset's dense gates)
    config = RecurrentGemmaConfig(hidden_size=d, lru_width=d, num_attention_heads=1, conv1d_width=spec.conv_size,
                                  num_hidden_layers=1, hidden_activation="gelu_pytorch_tanh")
    ref = RecurrentGemmaRecurrentBlock(config, 0).eval()
    draw(ref)  # the module leaves its gates uninitialized (torch.empty)
    ours = DSFMixer(spec, d)
    assert count(ours) == count(ref) == mixer_params(spec, d)
    copy(ours.in_proj.weight, ref.linear_x.weight)
    copy(ours.in_proj.bias, ref.linear_x.bias)
    copy(ours.conv.weight, ref.conv_1d.weight)
    copy(ours.conv.bias, ref.conv_1d.bias)
    lru = ref.rg_lru
    copy(ours.x_proj.weight, lru.input_gate_weight[0].T)  # the reference computes x @ W
    copy(ours.x_proj.bias, lru.input_gate_bias[0])
    copy(ours.a_in.proj.weight, lru.recurrent_gate_weight[0].T)
    copy(ours.a_in.proj.bias, lru.recurrent_gate_bias[0])
    copy(ours.lam, -lru.recurrent_param)  # reference: a = exp(-8 r softplus(p)) = sigma(-p)^(8 r)
    copy(ours.gate_proj.weight, ref.linear_y.weight)
    copy(ours.gate_proj.bias, ref.linear_y.bias)
    copy(ours.out_proj.weight, ref.linear_out.weight)
    copy(ours.out_proj.bias, ref.linear_out.bias)
    position = torch.arange(LENGTH)[None].expand(BATCH, -1)

    def forward(u):
        return ref(u, position_ids=position, attention_mask=None, use_cache=False)[0]

    compare(ours, forward, d)
