"""Every zoo preset against its published layer, written out independently.

For each preset of `dsf_search.core.zoo` a DSFMixer (float64, every parameter perturbed at random)
runs on a random input of T = 200 steps (at least three chunks of the chunked form, whose chunk
is clamp(n, 16, 64)); a plain-torch loop of the published layer recomputes the output from the
module's parameters alone: the layer's own input path (Mamba's x_proj -> low-rank dt | B | C,
Griffin's biased branches and unactivated conv, xLSTM's block-diagonal q/k/v and gates from
q|k|v, fla's projection + short conv + SiLU for the fla-style layers), the gates as published,
the recurrence in the paper's own form (e.g. fla's S_t in R^{d_v x n} for the delta rules, an
explicit causal softmax for attention), the output norm / gate in the paper's order and the
output projection. Nothing here calls `mix` or any other dsf_search function; the module is
only built, run and read (its parameter names are the weight map). A second test checks
decoding: prefill, then one token at a time with the returned state, equals the full pass.
The field's own implementations are the oracle in tests/reference.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from dsf_search.core import zoo
from dsf_search.core.mixer import DSFMixer
from tests.core.test_frontier_presets import RULES as FRONTIER_RULES

D_MODEL, BATCH, LENGTH = 32, 2, 200  # T spans >= 3 chunks of the chunked form (chunk = clamp(n, 16, 64) <= 64)
TOL = 1e-10
SUM_EPS = 1e-6  # the sum normalizer's epsilon (DESIGN.md section 1; Katharopoulos et al. use 1e-6 too)
RMS_EPS = 1e-6  # epsilon of the per-head RMS norm of the output


# --------------------------------------------------------------------------- shared pieces


def dense(x, layer):
    """x W^T (+ b) from an nn.Linear's parameters."""
    y = x @ layer.weight.T
    return y if layer.bias is None else y + layer.bias


def gate_pre(gate, u):
    """Pre-activation of a gate: W u_t + c (selective) or the learned constant c (LTI)."""
    return dense(u, gate.proj) if hasattr(gate, "proj") else gate.bias.expand(*u.shape[:-1], -1)


def short_conv_silu(x, conv):
    """Causal depthwise conv over time, then SiLU: y_t = silu(b + sum_j w_j x_{t-K+1+j}); x [B, T, C]."""
    w, K = conv.weight[:, 0], conv.weight.shape[-1]
    padded = F.pad(x, (0, 0, K - 1, 0))
    return F.silu(conv.bias + sum(w[:, j] * padded[:, j:j + x.shape[1]] for j in range(K)))


def qkv(m, u):
    """q | k | v from the bias-free input projection (through the short conv when present).

    q and k are one group shared by all heads when the spec says qk_shared (Mamba's B and C)."""
    s = m.spec
    groups = 1 if s.qk_shared else s.heads
    names = [name for name, source in (("q", s.query), ("k", s.key)) if source == "input"] + ["v"]
    widths = [s.heads * s.head_dim if name == "v" else groups * s.state_size for name in names]
    x = dense(u, m.in_proj)
    if s.conv_size > 0:
        x = short_conv_silu(x, m.conv)
    return dict(zip(names, x.split(widths, dim=-1)))


def heads(x, H):
    return x.reshape(*x.shape[:2], H, -1)


def rope(x):
    """RoPE (Su et al. 2021) on x [B, T, H, n]: channel pairs (2i, 2i+1) rotated by t * 10000^(-2i/n).

    The angles are computed in float32, as in the core and the common implementations."""
    n, T = x.shape[-1], x.shape[1]
    out = torch.empty_like(x)
    for i in range(n // 2):
        angle = torch.arange(T, dtype=torch.float32) * 10000.0 ** (-2.0 * i / n)
        cos, sin = angle.cos().to(x.dtype)[:, None], angle.sin().to(x.dtype)[:, None]
        a, b = x[..., 2 * i], x[..., 2 * i + 1]
        out[..., 2 * i], out[..., 2 * i + 1] = a * cos - b * sin, a * sin + b * cos
    return out


def rms_norm(y, weight):
    """Per-head RMS norm of y [B, T, H, d_v] with weight [H, d_v]."""
    return y * torch.rsqrt(y.pow(2).mean(-1, keepdim=True) + RMS_EPS) * weight


def project_out(m, y):
    """Heads concatenated, then the output projection."""
    return dense(y.reshape(*y.shape[:2], -1), m.out_proj)


def gated(m, u, y, act):
    """y o act(W_g u_t), per head."""
    return y * heads(act(dense(u, m.gate_proj)), m.spec.heads)


def l2_silu(x):
    """DeltaNet-style features: q, k = L2-normalized silu(conv(.)) (the conv's SiLU, applied once)."""
    return F.normalize(x, dim=-1)


# --------------------------------------------------------------------------- published rules


def softmax_attention(m, u):
    """Vaswani et al.: y_i = sum_{j<=i} exp(q_i.k_j / sqrt(n)) v_j / sum_{j<=i} exp(q_i.k_j / sqrt(n)), RoPE."""
    H, n = m.spec.heads, m.spec.state_size
    p = qkv(m, u)
    q, k, v = rope(heads(p["q"], H)), rope(heads(p["k"], H)), heads(p["v"], H)
    y = torch.zeros_like(v)
    for i in range(u.shape[1]):
        w = torch.einsum("bhn,bjhn->bjh", q[:, i], k[:, : i + 1]).div(math.sqrt(n)).exp()
        y[:, i] = torch.einsum("bjh,bjhd->bhd", w, v[:, : i + 1]) / (w.sum(1)[..., None] + SUM_EPS)
    return project_out(m, y)


def linear_attention(m, u):
    """Katharopoulos et al.: S_t = S_{t-1} + phi(k_t) v_t^T, z_t = z_{t-1} + phi(k_t),
    y_t = S_t^T phi(q_t) / phi(q_t)^T z_t, phi = elu + 1."""
    H = m.spec.heads
    p = qkv(m, u)
    q, k, v = (F.elu(heads(p[name], H)) + 1 if name != "v" else heads(p[name], H) for name in "qkv")
    S = u.new_zeros(u.shape[0], H, q.shape[-1], v.shape[-1])
    z = u.new_zeros(u.shape[0], H, q.shape[-1])
    y = torch.zeros_like(v)
    for t in range(u.shape[1]):
        S = S + k[:, t, :, :, None] * v[:, t, :, None, :]
        z = z + k[:, t]
        y[:, t] = torch.einsum("bhn,bhnd->bhd", q[:, t], S) / ((q[:, t] * z).sum(-1)[..., None] + SUM_EPS)
    return project_out(m, y)


def normalized_attention(m, u):
    """DSF normalized attention (Sieber et al. 2024): y_t = sum_{j<=t} (q_t^T k_j) v_j / eta_t,
    eta_t = exp(w_h^T u_t + c_h) per head, no score scale; RoPE."""
    H = m.spec.heads
    p = qkv(m, u)
    q, k, v = rope(heads(p["q"], H)), rope(heads(p["k"], H)), heads(p["v"], H)
    eta = gate_pre(m.eta_in, u).exp()
    y = torch.zeros_like(v)
    for t in range(u.shape[1]):
        scores = torch.einsum("bhn,bjhn->bjh", q[:, t], k[:, : t + 1])
        y[:, t] = torch.einsum("bjh,bjhd->bhd", scores, v[:, : t + 1]) / eta[:, t, :, None]
    return project_out(m, y)


def retnet(m, u):
    """Sun et al.: S_t = gamma_h S_{t-1} + k_t v_t^T, y_t = S_t^T q_t / sqrt(n), gamma_h = 1 - 2^(-5-h);
    per-head RMS norm (torchscale's current retention norm), swish gate; xPos as RoPE."""
    H, n = m.spec.heads, m.spec.state_size
    p = qkv(m, u)
    q, k, v = rope(heads(p["q"], H)), rope(heads(p["k"], H)), heads(p["v"], H)
    gamma = m.log_decay.exp()  # fixed decays, checked against 1 - 2^(-5-h) in test_retnet_decays_are_published
    S = u.new_zeros(u.shape[0], H, n, v.shape[-1])
    y = torch.zeros_like(v)
    for t in range(u.shape[1]):
        S = gamma[:, None, None] * S + k[:, t, :, :, None] * v[:, t, :, None, :]
        y[:, t] = torch.einsum("bhn,bhnd->bhd", q[:, t], S) / math.sqrt(n)
    return project_out(m, gated(m, u, rms_norm(y, m.out_norm_weight), F.silu))


def s4d(m, u):
    """Gu et al. 2022 (S4D-real, LTI), per channel c: x_t = exp(Delta_c A_c) o x_{t-1} + Delta_c B_c w_t[c],
    y_t[c] = C_c^T x_t + D_c w_t[c], A = -exp(A_log), Delta = softplus(const), w = W u (the channel input)."""
    w = qkv(m, u)["v"]  # [B, T, channels]
    delta = F.softplus(m.dt.bias)  # [channels]
    A = -m.A_log.exp()  # [channels, N]
    Bc, Cc = m.k_static, m.q_static  # [channels, N]
    x = u.new_zeros(u.shape[0], *A.shape)
    y = torch.zeros_like(w)
    for t in range(u.shape[1]):
        x = (delta[:, None] * A).exp() * x + delta[:, None] * Bc * w[:, t, :, None]
        y[:, t] = (Cc * x).sum(-1) + m.D * w[:, t]
    return dense(y, m.out_proj)


def causal_conv(x, conv):
    """Causal depthwise conv over time: y_t = b + sum_j w_j x_{t-K+1+j}; x [B, T, C]."""
    w, K = conv.weight[:, 0], conv.weight.shape[-1]
    padded = F.pad(x, (0, 0, K - 1, 0))
    return conv.bias + sum(w[:, j] * padded[:, j:j + x.shape[1]] for j in range(K))


def mamba(m, u):
    """Gu & Dao 2023, the Mamba block (mamba_simple): x | z = W_in u, x = silu(conv(x)),
    dt | B | C = W_x x (dt of rank R), Delta = softplus(W_dt dt + b); per channel c:
    h_t[c] = exp(Delta_t[c] A[c]) o h_{t-1}[c] + Delta_t[c] B_t x_t[c], y_t[c] = C_t^T h_t[c] + D[c] x_t[c];
    out = W_o (y o silu(z)). W_in's two halves are in_proj (x) and gate_proj (z)."""
    N, R = m.spec.state_size, -(-D_MODEL // 16)
    x = F.silu(causal_conv(dense(u, m.in_proj), m.conv))  # [B, T, E]
    dt, Bt, Ct = dense(x, m.x_proj).split([R, N, N], dim=-1)
    delta = F.softplus(dense(dt, m.dt.proj))  # [B, T, E]
    A = -m.A_log.exp()  # [E, N]
    h = u.new_zeros(u.shape[0], *A.shape)
    y = torch.zeros_like(x)
    for t in range(u.shape[1]):
        h = (delta[:, t, :, None] * A).exp() * h + (delta[:, t] * x[:, t])[..., None] * Bt[:, t, None, :]
        y[:, t] = (h * Ct[:, t, None, :]).sum(-1) + m.D * x[:, t]
    return dense(y * F.silu(dense(u, m.gate_proj)), m.out_proj)


def mamba2(m, u):
    """Dao & Gu 2024, the Mamba-2 block: z | xBC | dt = W_in u, x | B | C = silu(conv(xBC)), Delta =
    softplus(dt + b) per head; S_t = exp(-Delta_t exp(A_log_h)) S_{t-1} + Delta_t B_t x_t^T,
    y_t = S_t^T C_t + D_h x_t; out = W_o RMSNorm(y o silu(z)) over the full inner width.
    (The module's in_proj holds C | B | x, gate_proj z, dt the dt rows with b as their bias.)"""
    H, N = m.spec.heads, m.spec.state_size
    Ct, Bt, x = F.silu(causal_conv(dense(u, m.in_proj), m.conv)).split([N, N, H * m.spec.head_dim], dim=-1)
    x = heads(x, H)
    delta = F.softplus(dense(u, m.dt.proj))  # [B, T, H]
    a = torch.exp(-delta * m.A_log.exp())
    S = u.new_zeros(u.shape[0], H, N, x.shape[-1])
    y = torch.zeros_like(x)
    for t in range(u.shape[1]):
        S = a[:, t, :, None, None] * S + (delta[:, t, :, None, None] * Bt[:, t, None, :, None]) * x[:, t, :, None, :]
        y[:, t] = torch.einsum("bn,bhnp->bhp", Ct[:, t], S) + m.D[:, None] * x[:, t]
    g = y.reshape(*y.shape[:2], -1) * F.silu(dense(u, m.gate_proj))
    g = g * torch.rsqrt(g.pow(2).mean(-1, keepdim=True) + RMS_EPS) * m.out_norm_weight.reshape(-1)
    return dense(g, m.out_proj)


def gla(m, u):
    """Yang et al. 2024: S_t = diag(alpha_t) S_{t-1} + k_t v_t^T, y_t = S_t^T q_t / sqrt(n),
    alpha_t = sigmoid(W u_t + c)^(1/16); per-head RMS norm, swish gate."""
    H, n = m.spec.heads, m.spec.state_size
    p = qkv(m, u)
    q, k, v = heads(p["q"], H), heads(p["k"], H), heads(p["v"], H)
    alpha = heads(torch.sigmoid(gate_pre(m.a_in, u)), H) ** (1.0 / 16.0)
    S = u.new_zeros(u.shape[0], H, n, v.shape[-1])
    y = torch.zeros_like(v)
    for t in range(u.shape[1]):
        S = alpha[:, t, :, :, None] * S + k[:, t, :, :, None] * v[:, t, :, None, :]
        y[:, t] = torch.einsum("bhn,bhnd->bhd", q[:, t], S) / math.sqrt(n)
    return project_out(m, gated(m, u, rms_norm(y, m.out_norm_weight), F.silu))


def hgrn2(m, u):
    """Qin et al. 2024 (fla's HGRN2Attention): q = silu(W_q u), f_t = sigmoid(W_f u_t + c), k_t = 1 - f_t,
    v = W_i u; S_t = diag(f_t) S_{t-1} + k_t v_t^T, y_t = S_t^T q_t; out = W_o RMSNorm(y) over the full width."""
    H, n = m.spec.heads, m.spec.state_size
    p = qkv(m, u)
    q, v = F.silu(heads(p["q"], H)), heads(p["v"], H)
    f = heads(torch.sigmoid(gate_pre(m.a_in, u)), H)
    S = u.new_zeros(u.shape[0], H, n, v.shape[-1])
    y = torch.zeros_like(v)
    for t in range(u.shape[1]):
        S = f[:, t, :, :, None] * S + (1.0 - f[:, t, :, :, None]) * v[:, t, :, None, :]
        y[:, t] = torch.einsum("bhn,bhnd->bhd", q[:, t], S)
    y = y.reshape(*y.shape[:2], -1)
    return dense(y * torch.rsqrt(y.pow(2).mean(-1, keepdim=True) + RMS_EPS) * m.out_norm_weight.reshape(-1), m.out_proj)


def blockwise(x, weight):
    """Block-diagonal map: x [..., G * b] in blocks of b, weight [G, b_out, b_in]."""
    xs = x.reshape(*x.shape[:-1], weight.shape[0], -1)
    return torch.einsum("...gi,goi->...go", xs, weight).reshape(*x.shape[:-1], -1)


def mlstm(m, u):
    """Beck et al. 2024, the mLSTM layer: x | z = W_up u, c = silu(conv(x)), q = W_q c, k = W_k c, v = W_v x
    (block-diagonal), i = exp(w_i^T [q|k|v] + b_i) (pre-activation clamped at 15), f = sigmoid(w_f^T [q|k|v] + b_f);
    C_t = f_t C_{t-1} + i_t k_t v_t^T, n_t = f_t n_{t-1} + i_t k_t (k scaled by 1/sqrt(n)),
    h_t = C_t^T q_t / max(|n_t^T q_t|, 1); out = W_down ((LayerNorm_h(h) + s o c) o silu(z))."""
    H, n = m.spec.heads, m.spec.state_size
    x = dense(u, m.in_proj)
    c = F.silu(causal_conv(x, m.conv))
    q, k, v = blockwise(c, m.q_proj.weight), blockwise(c, m.k_proj.weight), blockwise(x, m.v_proj.weight)
    qkv_cat = torch.cat([q, k, v], dim=-1)
    f = torch.sigmoid(dense(qkv_cat, m.a_in.proj))
    i = torch.exp(dense(qkv_cat, m.b_in.proj).clamp_max(15.0))
    q, k, v = heads(q, H), heads(k, H) / math.sqrt(n), heads(v, H)
    C = u.new_zeros(u.shape[0], H, n, v.shape[-1])
    nrm = u.new_zeros(u.shape[0], H, n)
    y = torch.zeros_like(v)
    for t in range(u.shape[1]):
        C = f[:, t, :, None, None] * C + i[:, t, :, None, None] * k[:, t, :, :, None] * v[:, t, :, None, :]
        nrm = f[:, t, :, None] * nrm + i[:, t, :, None] * k[:, t]
        denom = (nrm * q[:, t]).sum(-1).abs().clamp_min(1.0)
        y[:, t] = torch.einsum("bhn,bhnd->bhd", q[:, t], C) / denom[..., None]
    y = F.layer_norm(y, (y.shape[-1],), eps=1e-5) * m.out_norm_weight
    h = (y.reshape(*y.shape[:2], -1) + m.D * c) * F.silu(dense(u, m.gate_proj))
    return dense(h, m.out_proj)


def rg_lru(m, u):
    """De et al. 2024, Griffin's recurrent block: y = gelu_tanh(W_y u + b_y), x = conv(W_x u + b_x) (no
    activation); r_t = sigmoid(W_a x_t + b_a), i_t = sigmoid(W_i x_t + b_i), a_t = sigmoid(Lambda)^(8 r_t);
    h_t = a_t o h_{t-1} + sqrt(1 - a_t^2) o (i_t o x_t), with multiplier 1 at the first token;
    out = W_o (h o y) + b_o. (W_y: gate_proj, W_x: in_proj, W_i: x_proj, W_a: a_in, W_o: out_proj.)"""
    x = causal_conv(dense(u, m.in_proj), m.conv)
    i = torch.sigmoid(dense(x, m.x_proj))
    r = torch.sigmoid(dense(x, m.a_in.proj))
    a = torch.sigmoid(m.lam) ** (8.0 * r)
    h = u.new_zeros(u.shape[0], x.shape[-1])
    y = torch.zeros_like(x)
    for t in range(u.shape[1]):
        mult = torch.sqrt(1.0 - a[:, t] ** 2) if t > 0 else torch.ones_like(a[:, t])
        h = a[:, t] * h + mult * (i[:, t] * x[:, t])
        y[:, t] = h
    return dense(y * F.gelu(dense(u, m.gate_proj), approximate="tanh"), m.out_proj)


def _delta_inputs(m, u):
    H = m.spec.heads
    p = qkv(m, u)
    return l2_silu(heads(p["q"], H)), l2_silu(heads(p["k"], H)), heads(p["v"], H), torch.sigmoid(gate_pre(m.beta_in, u))


def deltanet(m, u, beta_scale=1.0):
    """Schlag et al. 2021 / Yang et al. 2024, the delta rule in fla's orientation S_t in R^{d_v x n}:
    S_t = S_{t-1} (I - beta_t k_t k_t^T) + beta_t v_t k_t^T = S_{t-1} + beta_t (v_t - S_{t-1} k_t) k_t^T,
    o_t = S_t q_t / sqrt(n), beta_t = sigmoid(.); per-head RMS norm."""
    n = m.spec.state_size
    q, k, v, beta = _delta_inputs(m, u)
    beta = beta_scale * beta
    S = u.new_zeros(u.shape[0], m.spec.heads, v.shape[-1], n)
    y = torch.zeros_like(v)
    for t in range(u.shape[1]):
        recalled = torch.einsum("bhdn,bhn->bhd", S, k[:, t])
        S = S + beta[:, t, :, None, None] * (v[:, t] - recalled)[..., None] * k[:, t, :, None, :]
        y[:, t] = torch.einsum("bhdn,bhn->bhd", S, q[:, t]) / math.sqrt(n)
    return project_out(m, rms_norm(y, m.out_norm_weight))


def deltanet_signed(m, u):
    """Grazzi et al. 2025: the delta rule with beta_t = 2 sigmoid(.) in [0, 2] (eigenvalue 1 - beta in [-1, 1])."""
    return deltanet(m, u, beta_scale=2.0)


def gated_deltanet(m, u):
    """Yang et al. 2025, fla orientation: S_t = alpha_t S_{t-1} (I - beta_t k_t k_t^T) + beta_t v_t k_t^T,
    alpha_t = exp(-softplus(w^T u_t + b) exp(A_log)); o_t = S_t q_t / sqrt(n); RMS norm, swish gate."""
    n = m.spec.state_size
    q, k, v, beta = _delta_inputs(m, u)
    alpha = torch.exp(-F.softplus(gate_pre(m.dt, u)) * m.A_log.exp())
    S = u.new_zeros(u.shape[0], m.spec.heads, v.shape[-1], n)
    y = torch.zeros_like(v)
    for t in range(u.shape[1]):
        S = alpha[:, t, :, None, None] * S
        recalled = torch.einsum("bhdn,bhn->bhd", S, k[:, t])
        S = S + beta[:, t, :, None, None] * (v[:, t] - recalled)[..., None] * k[:, t, :, None, :]
        y[:, t] = torch.einsum("bhdn,bhn->bhd", S, q[:, t]) / math.sqrt(n)
    return project_out(m, gated(m, u, rms_norm(y, m.out_norm_weight), F.silu))


def kda(m, u):
    """Kimi Delta Attention, fla orientation: S_t = S_{t-1} diag(alpha_t) (I - beta_t k_t k_t^T) + beta_t v_t k_t^T
    (= (I - beta k k^T) diag(alpha) S_{t-1} + beta k v^T in the n x d_v orientation),
    alpha_t = exp(-exp(A_log_h) softplus(W_f u_t + b_f)) per key channel; o_t = S_t q_t / sqrt(n);
    out = W_o (RMSNorm_h(o) o sigmoid(W_g u))."""
    H, n = m.spec.heads, m.spec.state_size
    q, k, v, beta = _delta_inputs(m, u)
    alpha = torch.exp(-m.A_log.exp()[:, None] * F.softplus(heads(gate_pre(m.a_in, u), H)))  # [B, T, H, n]
    S = u.new_zeros(u.shape[0], H, v.shape[-1], n)
    y = torch.zeros_like(v)
    for t in range(u.shape[1]):
        S = S * alpha[:, t, :, None, :]
        recalled = torch.einsum("bhdn,bhn->bhd", S, k[:, t])
        S = S + beta[:, t, :, None, None] * (v[:, t] - recalled)[..., None] * k[:, t, :, None, :]
        y[:, t] = torch.einsum("bhdn,bhn->bhd", S, q[:, t]) / math.sqrt(n)
    return project_out(m, gated(m, u, rms_norm(y, m.out_norm_weight), torch.sigmoid))


def qlstm(m, u, reversed_sigmoid=False):
    """DSF paper's quasi-LSTM, one cell per channel: c_t = f_t o c_{t-1} + i_t o (W_c u_t), h_t = o_t o c_t,
    f_t = sigmoid(W_f u_t + b_f), i_t = sigmoid(W_i u_t + b_i), o_t = sigmoid(W_o u_t)."""
    pre = gate_pre(m.a_in, u)
    f = torch.sigmoid(-pre) ** F.relu(m.forget_exponent) if reversed_sigmoid else torch.sigmoid(pre)
    i = torch.sigmoid(gate_pre(m.b_in, u))
    o = torch.sigmoid(dense(u, m.gate_proj))
    cell_in = qkv(m, u)["v"]
    c = u.new_zeros(u.shape[0], cell_in.shape[-1])
    h = torch.zeros_like(cell_in)
    for t in range(u.shape[1]):
        c = f[:, t] * c + i[:, t] * cell_in[:, t]
        h[:, t] = o[:, t] * c
    return dense(h, m.out_proj)


def qlstm_reversed_sigmoid(m, u):
    """qLSTM with f_t = sigmoid(-(W_f u_t + b_f))^relu(alpha), alpha one learned exponent per layer."""
    return qlstm(m, u, reversed_sigmoid=True)


REFERENCES = {
    fn.__name__: fn
    for fn in (
        softmax_attention, linear_attention, normalized_attention, retnet, s4d, mamba, mamba2, gla, hgrn2,
        mlstm, rg_lru, deltanet, gated_deltanet, deltanet_signed, kda, qlstm, qlstm_reversed_sigmoid,
    )
}


# --------------------------------------------------------------------------- tests


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors: one intra-op thread (a busy 2-core machine stalls torch's 2-thread conv for seconds)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def build(name: str, seed: int = 0) -> tuple[DSFMixer, torch.Tensor]:
    """The preset's mixer in float64 with every parameter perturbed (so no init symmetry hides a bug)."""
    torch.manual_seed(seed)
    preset = zoo.get(name)
    m = DSFMixer(preset.mixer(D_MODEL), D_MODEL, rope=preset.positional == "rope").double()
    with torch.no_grad():
        for p in m.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return m, torch.randn(BATCH, LENGTH, D_MODEL, dtype=torch.float64)


def test_every_preset_has_a_reference_rule():
    # the frontier presets (issue 11) have their rules in test_frontier_presets.py
    assert not set(REFERENCES) & set(FRONTIER_RULES)
    assert sorted([*REFERENCES, *FRONTIER_RULES]) == sorted(zoo.names())


def test_retnet_decays_are_published():
    """gamma_h = 1 - 2^(-5-h) (the module builds its decay buffer in float32, hence the tolerance)."""
    m, _ = build("retnet")
    gamma = 1.0 - 2.0 ** (-5.0 - torch.arange(m.spec.heads, dtype=torch.float64))
    torch.testing.assert_close(m.log_decay.exp(), gamma, rtol=1e-7, atol=0.0)


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_preset_matches_published_rule(name):
    m, u = build(name)
    with torch.no_grad():
        y = m(u)
        ref = REFERENCES[name](m, u)
    assert ref.shape == y.shape == u.shape
    assert ref.abs().max() > 1e-3  # the comparison is not between two near-zero outputs
    torch.testing.assert_close(y, ref, rtol=TOL, atol=TOL)


@pytest.mark.parametrize("name", zoo.names())
def test_decoding_matches_full_pass(name):
    """Prefill 5 tokens, then decode one token at a time with the returned state: same as one pass."""
    m, u = build(name, seed=1)
    with torch.no_grad():
        full = m(u)
        y, state = m(u[:, :5], None, True)
        pieces = [y]
        for t in range(5, LENGTH):
            y, state = m(u[:, t:t + 1], state, True)
            pieces.append(y)
    assert state.offset == LENGTH
    torch.testing.assert_close(torch.cat(pieces, dim=1), full, rtol=TOL, atol=TOL)
