"""Rotations of consecutive state pairs (complex eigenvalues a e^{+-i theta}).

R(theta) maps each pair (x_{2p}, x_{2p+1}) to
    (cos theta_p x_{2p} - sin theta_p x_{2p+1},  sin theta_p x_{2p} + cos theta_p x_{2p+1}).
With gates that are equal within each pair (scalar, or diagonal with one magnitude per pair),
R commutes with the gate, and rotations of the same pairs commute with each other, so
    A_i ... A_{j+1} = G_ij R(Theta_i - Theta_j),   Theta_t = theta_1 + ... + theta_t.
The fast forms use the rotating frame S~_t = R(-Theta_t) S_t: in it the transition loses its
rotation and q, k become q~_t = R(-Theta_t) q_t, k~_t = R(-Theta_t) k_t, exactly (a Householder
part I - beta k k^T becomes I - beta k~ k~^T, since R is orthogonal).
"""

from __future__ import annotations

import torch


def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """R(theta) applied to the pairs of `x` along `dim` (cos, sin broadcast with n // 2 there)."""
    x = x.movedim(dim, -1)
    cos, sin = cos.movedim(dim, -1), sin.movedim(dim, -1)
    even, odd = x[..., 0::2], x[..., 1::2]
    out = torch.stack([cos * even - sin * odd, sin * even + cos * odd], dim=-1).flatten(-2)
    return out.movedim(-1, dim)


def to_frame(q: torch.Tensor, k: torch.Tensor, theta: torch.Tensor, dim: int = -2):
    """q~, k~ = R(-Theta) q, R(-Theta) k with Theta the cumulative sum of theta along `dim`
    (time); returns (q~, k~, Theta at the last step). Shapes: q, k [..., T, n]; theta [..., T, n // 2]."""
    # Summed in float64: over thousands of steps the angles grow to ~1e4 rad, where float32
    # would lose ~1e-3 rad of each; cos/sin of the exact sum are then rounded once.
    total = theta.to(torch.float64).cumsum(dim=dim)
    cos, sin = total.cos().to(q.dtype), -total.sin().to(q.dtype)
    return rotate(q, cos, sin), rotate(k, cos, sin), total.select(dim, -1).to(q.dtype)
