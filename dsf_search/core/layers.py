"""Small building blocks shared by the mixer and the model: RoPE, feature maps, channel mixers,
the gates' pre-activation `GateInput` and the bounded square root of the injections."""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from dsf_search.core.widths import mlp_hidden, swiglu_hidden

MAX_SQRT_GRADIENT = 1000.0  # Griffin's bound on d sqrt(x) / dx as x -> 0


def rotary(x: torch.Tensor, offset: int = 0, base: float = 10000.0) -> torch.Tensor:
    """Rotary position embedding (Su et al. 2021) of x [B, T, H, n] (n even), positions offset.. offset+T-1.

    Channel pairs (2i, 2i+1) are rotated by the angle pos * base^(-2i/n).
    """
    B, T, H, n = x.shape
    inv_freq = base ** (-torch.arange(0, n, 2, device=x.device, dtype=torch.float32) / n)
    pos = torch.arange(offset, offset + T, device=x.device, dtype=torch.float32)
    angle = pos[:, None] * inv_freq[None, :]
    cos, sin = angle.cos().to(x.dtype)[None, :, None, :], angle.sin().to(x.dtype)[None, :, None, :]
    even, odd = x[..., 0::2], x[..., 1::2]
    return torch.stack([even * cos - odd * sin, even * sin + odd * cos], dim=-1).flatten(-2)


def feature_map(name: str, x: torch.Tensor) -> torch.Tensor:
    """The q/k feature map of the `feature_map` axis."""
    if name == "identity":
        return x
    if name == "elu1":
        return F.elu(x) + 1.0
    if name == "relu":
        return F.relu(x)
    if name == "silu":
        return F.silu(x)
    if name == "sigmoid":
        return torch.sigmoid(x)
    raise ValueError(f"unknown feature map {name!r}")


def activation(name: str, x: torch.Tensor) -> torch.Tensor:
    """The output-gate activation of the `output_gate` axis."""
    if name == "silu":
        return F.silu(x)
    if name == "sigmoid":
        return torch.sigmoid(x)
    if name == "gelu":
        return F.gelu(x)
    if name == "gelu_tanh":
        return F.gelu(x, approximate="tanh")
    raise ValueError(f"unknown output gate {name!r}")


class MLP(nn.Module):
    """x -> W2 gelu(W1 x)."""

    def __init__(self, d_model: int, mlp_ratio: float):
        super().__init__()
        hidden = mlp_hidden(d_model, mlp_ratio)
        self.w1 = nn.Linear(d_model, hidden, bias=False)
        self.w2 = nn.Linear(hidden, d_model, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(F.gelu(self.w1(x)))


class SwiGLU(nn.Module):
    """x -> W2 (silu(W1 x) * W3 x) (Shazeer 2020)."""

    def __init__(self, d_model: int, mlp_ratio: float):
        super().__init__()
        hidden = swiglu_hidden(d_model, mlp_ratio)
        self.w1 = nn.Linear(d_model, hidden, bias=False)
        self.w3 = nn.Linear(d_model, hidden, bias=False)
        self.w2 = nn.Linear(hidden, d_model, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


def make_norm(name: str, d_model: int) -> nn.Module:
    if name == "rmsnorm":
        return nn.RMSNorm(d_model, eps=1e-6)
    if name == "layernorm":
        return nn.LayerNorm(d_model)
    raise ValueError(f"unknown norm {name!r}")


def make_channel_mixer(name: str, d_model: int, mlp_ratio: float) -> nn.Module | None:
    if name == "none":
        return None
    if name == "mlp":
        return MLP(d_model, mlp_ratio)
    if name == "swiglu":
        return SwiGLU(d_model, mlp_ratio)
    raise ValueError(f"unknown channel mixer {name!r}")


class HeadwiseLinear(nn.Module):
    """Block-diagonal linear map of x [..., width]: `width // block` independent block x block
    maps, y[..., g, o] = sum_i W[g, o, i] x[..., g, i] (xLSTM's LinearHeadwiseExpand, no bias)."""

    def __init__(self, width: int, block: int):
        super().__init__()
        if width % block:
            raise ValueError(f"HeadwiseLinear: width {width} is not a multiple of the block size {block}")
        self.block = block
        self.weight = nn.Parameter(torch.randn(width // block, block, block) * math.sqrt(2 / 5 / block))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xs = x.reshape(*x.shape[:-1], -1, self.block)
        return torch.einsum("...gi,goi->...go", xs, self.weight).reshape(x.shape)


class GateInput(nn.Module):
    """Pre-activation of a per-token gate, shape [B, T, *shape], from x [B, T, d_in].

    Selective: W x_t + c (`proj`); LTI: a learned constant c (`bias`), the same at every step.
    """

    def __init__(self, d_in: int, shape: tuple[int, ...], selective: bool):
        super().__init__()
        self.shape = shape
        size = math.prod(shape)
        if selective:
            self.proj = nn.Linear(d_in, size)
        else:
            self.bias = nn.Parameter(torch.zeros(size))

    @property
    def const(self) -> torch.Tensor:
        return self.proj.bias if hasattr(self, "proj") else self.bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.proj(x) if hasattr(self, "proj") else self.bias.expand(*x.shape[:-1], -1)
        return y.reshape(*x.shape[:-1], *self.shape)


class BoundedSqrt(torch.autograd.Function):
    """sqrt(x), exact, with its derivative 1 / (2 sqrt(x)) capped at MAX_SQRT_GRADIENT (as in
    Griffin's reference code) so it stays finite as x -> 0."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return torch.sqrt(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return grad / torch.sqrt(torch.clamp(4.0 * x, min=1.0 / MAX_SQRT_GRADIENT**2))
