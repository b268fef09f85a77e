"""The mixer's frontier inputs: rotations, the low-rank part of 'dplr', several Householder
factors per token (DeltaProduct) and the decay placement (DESIGN.md section 3.1, issue 11).

`DSFMixer` builds q, k, v and the gates as before and hands them here; this module adds:

* rotation 'learned': theta_t = W_theta u_t + c_theta [B, T, H, n // 2] (a learned constant when
  not selective), so A_t = diag(a_t) R(theta_t) has the complex eigenvalues a e^{+-i theta}
  (|lambda| = |a|). Diagonal gates then have one magnitude per pair.
* transition 'dplr': A_t = diag(a_t) - u_t w_t^T with nonnegative gates a_t and
      u_t = beta_t sqrt(a_t) o p_t,   w_t = sqrt(a_t) o k~_t,   k~_t = |k_t| o sign(p_t),
  where p_t (the erase direction, its own projection) and k_t are unit vectors and k~ is k with
  the signs of p (also unit). Then u_i w_i = beta a_i |p_i k_i| >= 0, and A_t is diagonally
  similar to sqrt(D) (I - beta r r^T) sqrt(D) with r_i = sqrt(|p_i k_i|), |r|^2 <= |p||k| = 1:
  a symmetric matrix whose eigenvalues are real and lie in [-max a, max a] for beta in [0, 2].
  So the spectral radius is <= max_i a_i <= 1 for every input; beta in [0, 1] (eigenvalues
  'nonnegative') keeps them >= 0, beta in [0, 2] ('signed') lets them reach -1. With p = k this
  is the spectrum of the gated delta rule (I - beta k k^T) diag(a) (KDA). That is low_rank
  'symmetric'; the other ways of building u and w (RWKV-7's) are the options of low_rank.py.
* householder_factors m > 1: per token m delta-rule sub-steps with their own k_{t,j}, v_{t,j},
  beta_{t,j} (DeltaProduct, Siems et al. 2025):
      S_{t,0} = diag(a_t) R(theta_t) S_{t-1},
      S_{t,j} = (I - beta_{t,j} k_{t,j} k_{t,j}^T) S_{t,j-1} + b_{t,j} k_{t,j} v_{t,j}^T,
      S_t = S_{t,m},  y_t = c S_t^T q_t / eta_t.
  They are computed by interleaving T m sub-steps through `mix` (gate, rotation only at the
  first sub-step of each token, the query read only after the last) and keeping the outputs of
  the last sub-steps. The extra keys and values come from the mixer's input projection (and its
  convolution) like k and v.
* decay_placement: passed to `mix` ('outside': the Forgetting Transformer's placement).
* an injection with two taps (Mamba-3's trapezoidal step, core/injections.py),
      h_t = A_t (h_{t-1} + b'_t k_{t-1} v_{t-1}^T) + b_t k_t v_t^T,
  is computed exactly as two sub-steps per token through `mix` (`two_taps`): (t, 1) with A = I
  writes the previous token's k_{t-1} v_{t-1}^T scaled by b'_t, (t, 2) applies A_t (gate,
  rotation) and writes k_t v_t^T scaled by b_t; the query reads after (t, 2).
"""

from __future__ import annotations

import math
from typing import Any, Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

from dsf_search.core.injections import INJECTIONS
from dsf_search.core.low_rank import LOW_RANKS
from dsf_search.core.spec import MixerSpec
from dsf_search.core.widths import factor_names


class FrontierInputs(nn.Module):
    """Parameters and tensors of the frontier axes of one mixer (see the module docstring).

    Parameter names: theta_in (rotation angles), erase_beta_in (beta of 'dplr', or RWKV-7's
    alpha / Gated DeltaNet-2's erase gate [H, n]), removal_scale (xi) and key_mix (c) of
    low_rank 'rwkv7', erase_scale (d) of low_rank 'comba', factor_beta_in (beta of the factors
    2..m).
    """

    def __init__(self, spec: MixerSpec, d_model: int, gate_input: Callable[..., nn.Module]):
        super().__init__()
        self.spec = spec
        # the delta-rule injection b_t = beta_t takes dplr's per-head rate (set in `extend`)
        self.rate_injection = spec.transition == "dplr" and INJECTIONS[spec.injection].needs_householder
        H, n = spec.heads, spec.state_size
        self.signed = spec.eigenvalues == "signed"
        if spec.rotation == "learned":
            self.theta_in = gate_input(d_model, (H, n // 2), spec.selective)
            with torch.no_grad():
                # angles spread over (0, pi): from slow to the fastest (sign-flipping) rotation
                self.theta_in.const.uniform_(0.0, math.pi)
        if spec.transition == "dplr":
            self.low_rank = LOW_RANKS[spec.low_rank]
            rate_shape = (H, n) if self.low_rank.per_channel_rate else (H,)
            self.erase_beta_in = gate_input(d_model, rate_shape, spec.selective)
            if spec.low_rank == "rwkv7":
                # RWKV-7's initial values: the removal key is the key (xi = 1), the write key the
                # key scaled by the rate (c = 1)
                self.removal_scale = nn.Parameter(torch.ones(H, n))
                self.key_mix = nn.Parameter(torch.ones(H, n))
            if spec.low_rank == "comba":
                self.erase_scale = nn.Parameter(torch.ones(H))  # d; flash-linear-attention's initial value
        if spec.householder_factors > 1:
            self.factor_beta_in = gate_input(d_model, (spec.householder_factors - 1, H), spec.selective)

    def extend(
        self,
        u: torch.Tensor,
        q: torch.Tensor,
        k: torch.Tensor,
        kwargs: dict[str, Any],
        make_key: Callable[[str], torch.Tensor],
        parts: dict[str, torch.Tensor],
        B: int,
        T: int,
    ) -> tuple[torch.Tensor, dict[str, Any]]:
        """Add theta, u/w, decay_placement and the factor tensors to the keyword arguments of
        `mix`; returns the (possibly replaced) key and the arguments."""
        spec = self.spec
        if spec.rotation == "learned":
            kwargs["theta"] = self.theta_in(u)
        if spec.decay_placement != "inside":
            kwargs["decay_placement"] = spec.decay_placement
        if spec.transition == "dplr" and spec.low_rank == "rwkv7":
            alpha = torch.sigmoid(self.erase_beta_in(u))  # [B, T, H, n], the in-context rate
            kappa = F.normalize(k * self.removal_scale, dim=-1)
            kwargs["u"] = alpha * kappa
            kwargs["w"] = kappa
            k = k * (1.0 + (alpha - 1.0) * self.key_mix)
        elif spec.transition == "dplr" and spec.low_rank == "comba":
            k = F.normalize(k, dim=-1)
            beta = torch.sigmoid(self.erase_beta_in(u)) * (2.0 if self.signed else 1.0)
            kwargs["u"] = beta[..., None] * k
            kwargs["w"] = kwargs["log_a"].exp() * torch.sigmoid(self.erase_scale)[:, None] * k
            if self.rate_injection:
                kwargs["b"] = beta
        elif spec.transition == "dplr" and spec.low_rank == "gated_deltanet2":
            k = F.normalize(k, dim=-1)
            erase = torch.sigmoid(self.erase_beta_in(u)) * (2.0 if self.signed else 1.0)  # [B, T, H, n]
            kwargs["u"] = k
            kwargs["w"] = kwargs["log_a"].exp() * erase * k
        elif spec.transition == "dplr":
            k = F.normalize(k, dim=-1)
            p = F.normalize(make_key("p"), dim=-1)
            beta = torch.sigmoid(self.erase_beta_in(u)) * (2.0 if self.signed else 1.0)
            root = (0.5 * kwargs["log_a"]).exp()
            kwargs["u"] = beta[..., None] * root * p
            kwargs["w"] = root * k.abs() * (1.0 - 2.0 * (p < 0).to(p.dtype))
            if self.rate_injection:
                kwargs["b"] = beta
        if spec.householder_factors > 1:
            beta = torch.sigmoid(self.factor_beta_in(u)) * (2.0 if self.signed else 1.0)
            keys = [F.normalize(make_key(k_name), dim=-1) for k_name, _ in factor_names(spec)]
            values = [parts[v_name].reshape(B, T, spec.heads, spec.head_dim) for _, v_name in factor_names(spec)]
            kwargs["factors"] = (keys, values, beta.unbind(dim=2))
        return k, kwargs


def substeps(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, kwargs: dict[str, Any], injection: str
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, dict[str, Any], int]:
    """Interleave the Householder factors of each token into sub-steps for `mix`.

    Returns q, k, v [B, T m, H, .] and the arguments of `mix` over the T m sub-steps, and m
    (1: the inputs unchanged). Sub-step (t, j) carries k_{t,j}, v_{t,j}, beta_{t,j} and
    b_{t,j} (= beta_{t,j} for the delta-rule injection, else b_t); the gate and theta act at
    j = 1 only (a = 1, theta = 0 elsewhere); the query is zero before the last sub-step, whose
    output is the token's. eta is repeated (only the last sub-step's output is kept).
    """
    if "factors" not in kwargs:
        return q, k, v, kwargs, 1
    kwargs = dict(kwargs)
    keys, values, betas = kwargs.pop("factors")
    m = len(keys) + 1

    def interleave(first: torch.Tensor, rest: list[torch.Tensor]) -> torch.Tensor:
        return torch.stack([first, *rest], dim=2).flatten(1, 2)

    def first_only(x: torch.Tensor, rest_value: float) -> torch.Tensor:
        return interleave(x, [torch.full_like(x, rest_value)] * (m - 1))

    q_sub = interleave(torch.zeros_like(q), [torch.zeros_like(q)] * (m - 2) + [q]) if m > 1 else q
    out = dict(kwargs)
    out["beta"] = interleave(kwargs["beta"], list(betas))
    if kwargs.get("b") is not None:
        out["b"] = out["beta"] if injection == "beta" else interleave(kwargs["b"], [kwargs["b"]] * (m - 1))
    if kwargs.get("log_a") is not None:
        out["log_a"] = first_only(kwargs["log_a"], 0.0)
    if kwargs.get("a") is not None:
        out["a"] = first_only(kwargs["a"], 1.0)
    if kwargs.get("theta") is not None:
        out["theta"] = first_only(kwargs["theta"], 0.0)
    if kwargs.get("eta") is not None:
        out["eta"] = interleave(kwargs["eta"], [kwargs["eta"]] * (m - 1))
    return q_sub, interleave(k, keys), interleave(v, values), out, m


def token_outputs(y: torch.Tensor, m: int) -> torch.Tensor:
    """Outputs of the last sub-step of each token: [B, T m, H, d_v] -> [B, T, H, d_v]."""
    return y if m == 1 else y.unflatten(1, (-1, m))[:, :, -1]


def two_taps(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, kwargs: dict[str, Any],
    previous: tuple[torch.Tensor, torch.Tensor] | None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, dict[str, Any], int]:
    """Interleave a two-tap injection into 2 sub-steps per token for `mix`.

    kwargs["previous_tap"] [B, T, H] is b'_t, the scale of k_{t-1} v_{t-1}^T at step t; previous
    is (k, v) of the token before this chunk ([B, 1, H, n], [B, 1, H, d_v]; None: the start of
    the sequence, zeros). Returns q, k, v [B, 2T, H, .], the arguments of `mix` over the
    sub-steps and 2: sub-step (t, 1) carries k_{t-1}, v_{t-1}, b'_t with a = 1, theta = 0 and
    q = 0; sub-step (t, 2) carries the token's own k_t, v_t, b_t, gate, angles and q_t.
    """
    out = dict(kwargs)
    b_prev = out.pop("previous_tap")
    k_before, v_before = previous if previous is not None else (torch.zeros_like(k[:, :1]), torch.zeros_like(v[:, :1]))
    k_prev = torch.cat([k_before.expand_as(k[:, :1]), k[:, :-1]], dim=1)
    v_prev = torch.cat([v_before, v[:, :-1]], dim=1)

    def interleave(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        return torch.stack([first, second], dim=2).flatten(1, 2)

    b = kwargs.get("b")
    out["b"] = interleave(b_prev, torch.ones_like(b_prev) if b is None else b)
    for name, identity in (("log_a", 0.0), ("a", 1.0), ("theta", 0.0)):
        if kwargs.get(name) is not None:
            out[name] = interleave(torch.full_like(kwargs[name], identity), kwargs[name])
    if kwargs.get("eta") is not None:
        out["eta"] = interleave(kwargs["eta"], kwargs["eta"])
    return interleave(torch.zeros_like(q), q), interleave(k_prev, k), interleave(v_prev, v), out, 2
