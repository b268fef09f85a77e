"""The frontier presets against their published rules, written out here as plain-torch loops.

As in test_zoo_rules.py: a DSFMixer (float64, parameters perturbed) runs on a random input and a
loop of the preset's rule recomputes the output from the module's parameters alone (no `mix`,
no dsf_search function). Complex eigenvalues are computed with complex numbers, dplr and PaTH
with dense matrices, DeltaProduct with its sub-steps one after the other. The mixer's dplr
parametrization is also checked numerically: every A_t it builds has spectral radius <= 1.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from dsf_search.core import zoo
from dsf_search.core.mixer import DSFMixer

D, BATCH = 32, 2
SUM_EPS, RMS_EPS = 1e-6, 1e-6


def build(name: str, seed: int = 0) -> DSFMixer:
    torch.manual_seed(seed)
    m = DSFMixer(zoo.mixer(name, D), D).double()
    with torch.no_grad():
        for p in m.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return m


def dense(x, layer):
    y = x @ layer.weight.T
    return y if layer.bias is None else y + layer.bias


def pre(gate, u):
    return dense(u, gate.proj) if hasattr(gate, "proj") else gate.bias.expand(*u.shape[:-1], -1)


def inputs(m, u, names_widths):
    """The parts of the input projection (through the causal conv + SiLU when present)."""
    x = dense(u, m.in_proj)
    if m.spec.conv_size > 0:
        w, K = m.conv.weight[:, 0], m.conv.weight.shape[-1]
        padded = F.pad(x, (0, 0, K - 1, 0))
        x = F.silu(m.conv.bias + sum(w[:, j] * padded[:, j:j + x.shape[1]] for j in range(K)))
    names, widths = zip(*names_widths)
    return dict(zip(names, x.split(list(widths), dim=-1)))


def heads(x, H):
    return x.reshape(*x.shape[:2], H, -1)


def finish(m, u, y):
    """Per-head RMS norm, output gate, skip handled by the caller; then the output projection."""
    s = m.spec
    if s.output_norm:
        y = y * torch.rsqrt(y.pow(2).mean(-1, keepdim=True) + RMS_EPS) * m.out_norm_weight
    if s.output_gate in ("silu", "sigmoid"):
        act = F.silu if s.output_gate == "silu" else torch.sigmoid
        y = y * heads(act(dense(u, m.gate_proj)), s.heads)
    return dense(y.reshape(*y.shape[:2], -1), m.out_proj)


def deltaproduct_rule(m, u):
    """Siems et al. 2025: H_{t,0} = alpha_t H_{t-1}; H_{t,j} = H_{t,j-1} - beta_{t,j} k_{t,j}
    (k_{t,j}^T H_{t,j-1} - v_{t,j}^T); y_t = H_t^T q_t / sqrt(n) (gate signed: 2 alpha - 1)."""
    s = m.spec
    H, n, dv = s.heads, s.state_size, s.head_dim
    p = inputs(m, u, [("q", H * n), ("k", H * n), ("v", H * dv), ("k2", H * n), ("v2", H * dv)])
    q = F.normalize(heads(p["q"], H), dim=-1)
    keys = [F.normalize(heads(p[name], H), dim=-1) for name in ("k", "k2")]
    values = [heads(p[name], H) for name in ("v", "v2")]
    betas = [2 * torch.sigmoid(pre(m.beta_in, u)), 2 * torch.sigmoid(pre(m.frontier.factor_beta_in, u))]
    gated = s.transition == "householder_scalar"
    if gated:
        alpha = 2 * torch.exp(-F.softplus(pre(m.dt, u)) * m.A_log.exp()) - 1
    S = torch.zeros(u.shape[0], H, n, dv, dtype=u.dtype)
    ys = []
    for t in range(u.shape[1]):
        if gated:
            S = alpha[:, t, :, None, None] * S
        for k, v, beta in zip(keys, values, betas):
            kt, bt = k[:, t], beta[:, t, :, None, None]
            S = S - bt * kt[..., :, None] * (torch.einsum("bhn,bhnd->bhd", kt, S) - v[:, t])[..., None, :]
        ys.append(torch.einsum("bhnd,bhn->bhd", S, q[:, t]) / math.sqrt(n))
    return finish(m, u, torch.stack(ys, dim=1))


def fox_rule(m, u):
    """Lin et al. 2025: softmax of q_i.k_j / sqrt(n) + sum_{j<t<=i} log f_t, f_t = sigmoid(.)."""
    s = m.spec
    H, n, dv = s.heads, s.state_size, s.head_dim
    p = inputs(m, u, [("q", H * n), ("k", H * n), ("v", H * dv)])
    q, k, v = heads(p["q"], H), heads(p["k"], H), heads(p["v"], H)
    log_f = F.logsigmoid(pre(m.a_in, u))
    T = u.shape[1]
    ys = torch.zeros(u.shape[0], T, H, dv, dtype=u.dtype)
    for i in range(T):
        for h in range(H):
            scores = torch.stack([(q[:, i, h] * k[:, j, h]).sum(-1) / math.sqrt(n)
                                  + log_f[:, j + 1:i + 1, h].sum(-1) for j in range(i + 1)], dim=-1)
            e = scores.exp()
            ys[:, i, h] = (e[..., None] * v[:, :i + 1, h]).sum(1) / (e.sum(-1, keepdim=True) + SUM_EPS)
    return finish(m, u, ys)


def complex_ssm(m, u, a, theta, b, q, k, v):
    """z_{t,p} = a_{t,p} e^{i theta_{t,p}} z_{t-1,p} + b_t (k_{t,2p} + i k_{t,2p+1}) v_t,
    y_t = sum_p Re(conj(q_{t,2p} + i q_{t,2p+1}) z_{t,p}) (the real form of the pair)."""
    Bz, T, H, n = q.shape
    z = torch.zeros(Bz, H, n // 2, v.shape[-1], dtype=torch.complex128)
    ys = []
    for t in range(T):
        lam = a[:, t] * torch.exp(1j * theta[:, t])
        kc = torch.complex(k[:, t, :, 0::2], k[:, t, :, 1::2]) * b[:, t, :, None]
        z = lam[..., None] * z + kc[..., None] * v[:, t, :, None, :]
        ys.append((q[:, t, :, 0::2, None] * z.real + q[:, t, :, 1::2, None] * z.imag).sum(2))
    return torch.stack(ys, dim=1)


def lru_rule(m, u):
    """Orvieto et al. 2023 (LTI): x_t = Lambda x_{t-1} + B u_t, Lambda_p = a_p e^{i theta_p}; y = Re(C x) + D u."""
    s = m.spec
    H, n, dv = s.heads, s.state_size, s.head_dim
    p = inputs(m, u, [("q", H * n), ("k", H * n), ("v", H * dv)])
    q, k, v = heads(p["q"], H), heads(p["k"], H), heads(p["v"], H)
    shape = (*u.shape[:2], H, n // 2)
    a = torch.sigmoid(m.a_in.bias).reshape(H, n // 2).expand(shape)
    theta = m.frontier.theta_in.bias.reshape(H, n // 2).expand(shape)
    y = complex_ssm(m, u, a, theta, torch.ones(*u.shape[:2], H, dtype=u.dtype), q, k, v)
    return finish(m, u, y + m.D[:, None] * v)


def mamba3_rule(m, u):
    """Mamba-3 (SISO, complex form, exponential-trapezoidal): with lambda-hat_t = exp(-Delta_t A) e^{i theta_t},
    z_t = lambda-hat_t z_{t-1} + (1 - lambda_t) Delta_t lambda-hat_t B_{t-1} x_{t-1} + lambda_t Delta_t B_t x_t
    per state pair (B_{-1} x_{-1} = 0), y_t = Re(conj(C_t) z_t) + D x_t; B, C shared by the heads."""
    s = m.spec
    H, n, dv = s.heads, s.state_size, s.head_dim
    p = inputs(m, u, [("q", n), ("k", n), ("v", H * dv)])
    C, Bk = p["q"], p["k"]  # [B, T, n], shared by the heads
    x = heads(p["v"], H)
    delta = F.softplus(pre(m.dt, u))  # [B, T, H]
    lam = torch.sigmoid(pre(m.lam_in, u))
    theta = pre(m.frontier.theta_in, u).reshape(*u.shape[:2], H, n // 2)
    rot = torch.exp(-delta * m.A_log.exp())[..., None] * torch.exp(1j * theta)  # [B, T, H, n/2]
    Bc = torch.complex(Bk[..., 0::2], Bk[..., 1::2])  # [B, T, n/2]
    z = torch.zeros(u.shape[0], H, n // 2, dv, dtype=torch.complex128)
    prev = torch.zeros_like(z)  # B_{t-1} x_{t-1}^T
    ys = []
    for t in range(u.shape[1]):
        cur = Bc[:, t, None, :, None] * x[:, t, :, None, :]
        alpha = rot[:, t, :, :, None]
        beta = (1 - lam[:, t]) * delta[:, t]
        gamma = lam[:, t] * delta[:, t]
        z = alpha * z + beta[:, :, None, None] * alpha * prev + gamma[:, :, None, None] * cur
        prev = cur
        ys.append((C[:, t, None, 0::2, None] * z.real + C[:, t, None, 1::2, None] * z.imag).sum(2))
    y = torch.stack(ys, dim=1)
    return finish(m, u, y + m.D[:, None] * x)


def dplr_matrices(m, u):
    """A_t = diag(a_t) - u_t w_t^T of the dplr_delta preset, [B, T, H, n, n], and its pieces."""
    s = m.spec
    H, n, dv = s.heads, s.state_size, s.head_dim
    p = inputs(m, u, [("q", H * n), ("k", H * n), ("v", H * dv), ("p", H * n)])
    q, k, e = (F.normalize(heads(p[name], H), dim=-1) for name in ("q", "k", "p"))
    a = torch.exp(F.logsigmoid(heads(pre(m.a_in, u), H)) / 16.0)
    beta = 2 * torch.sigmoid(pre(m.frontier.erase_beta_in, u))
    lo_u = beta[..., None] * a.sqrt() * e
    lo_w = a.sqrt() * k.abs() * torch.where(e < 0, -1.0, 1.0)
    A = torch.diag_embed(a) - lo_u[..., :, None] * lo_w[..., None, :]
    return A, q, k, heads(p["v"], H)


def dplr_rule(m, u):
    s = m.spec
    A, q, k, v = dplr_matrices(m, u)
    b = torch.sigmoid(pre(m.b_in, u))
    S = torch.zeros(u.shape[0], s.heads, s.state_size, s.head_dim, dtype=u.dtype)
    ys = []
    for t in range(u.shape[1]):
        S = A[:, t] @ S + b[:, t, :, None, None] * k[:, t, :, :, None] * v[:, t, :, None, :]
        ys.append(torch.einsum("bhnd,bhn->bhd", S, q[:, t]) / math.sqrt(s.state_size))
    return finish(m, u, torch.stack(ys, dim=1))


def path_rule(m, u):
    """Yang et al. 2025 (PaTH, direction tied to the key): s_ij = q_i^T (prod_{t=j+1..i} (I - beta_t k_t k_t^T)) k_j / sqrt(n)."""
    s = m.spec
    H, n, dv = s.heads, s.state_size, s.head_dim
    p = inputs(m, u, [("q", H * n), ("k", H * n), ("v", H * dv)])
    q, v = heads(p["q"], H), heads(p["v"], H)
    k = F.normalize(heads(p["k"], H), dim=-1)
    beta = 2 * torch.sigmoid(pre(m.beta_in, u))
    T = u.shape[1]
    eye = torch.eye(n, dtype=u.dtype)
    Hh = eye - beta[..., None, None] * k[..., :, None] * k[..., None, :]
    ys = torch.zeros(u.shape[0], T, H, dv, dtype=u.dtype)
    for i in range(T):
        P = eye.expand(u.shape[0], H, n, n)
        scores = [None] * (i + 1)
        for j in range(i, -1, -1):
            scores[j] = torch.einsum("bhn,bhnm,bhm->bh", q[:, i], P, k[:, j]) / math.sqrt(n)
            P = P @ Hh[:, j]
        e = torch.stack(scores, dim=-1).exp()
        ys[:, i] = torch.einsum("bhj,bjhd->bhd", e, v[:, :i + 1]) / (e.sum(-1)[..., None] + SUM_EPS)
    return finish(m, u, ys)


def rwkv7_pieces(m, u):
    """RWKV-7's r, w (decay), kappa_hat, a (in-context rate), k~ and v, from the parameters alone."""
    s = m.spec
    H, n, dv = s.heads, s.state_size, s.head_dim
    p = inputs(m, u, [("q", H * n), ("k", H * n), ("v", H * dv)])
    r, k, v = heads(p["q"], H), heads(p["k"], H), heads(p["v"], H)
    w = torch.exp(F.logsigmoid(heads(pre(m.a_in, u), H)) / 16.0)
    a = torch.sigmoid(heads(pre(m.frontier.erase_beta_in, u), H))
    kappa = k * m.frontier.removal_scale
    kappa_hat = kappa / kappa.norm(dim=-1, keepdim=True)
    k_tilde = k * (1 + (a - 1) * m.frontier.key_mix)
    return r, w, kappa_hat, a, k_tilde, v


def rwkv7_rule(m, u):
    """Peng et al. 2025, in RWKV's row-vector notation (S [d_v, n]):
    S_t = S_{t-1} (diag(w_t) - kappa_hat_t^T (a_t o kappa_hat_t)) + v_t^T k~_t,  y_t = S_t r_t^T."""
    s = m.spec
    r, w, kappa_hat, a, k_tilde, v = rwkv7_pieces(m, u)
    S = torch.zeros(u.shape[0], s.heads, s.head_dim, s.state_size, dtype=u.dtype)
    ys = []
    for t in range(u.shape[1]):
        G = torch.diag_embed(w[:, t]) - kappa_hat[:, t, :, :, None] * (a[:, t] * kappa_hat[:, t])[..., None, :]
        S = S @ G + v[:, t, :, :, None] * k_tilde[:, t, :, None, :]
        ys.append(torch.einsum("bhdn,bhn->bhd", S, r[:, t]))
    return finish(m, u, torch.stack(ys, dim=1))


def comba_pieces(m, u):
    """Comba's q, k (unit), p = sigmoid(d) k, v, alpha (per channel), beta and b, from the parameters."""
    s = m.spec
    H, n, dv = s.heads, s.state_size, s.head_dim
    x = inputs(m, u, [("q", H * n), ("k", H * n), ("v", H * dv)])
    q, k = (F.normalize(heads(x[name], H), dim=-1) for name in ("q", "k"))
    p = torch.sigmoid(m.frontier.erase_scale)[:, None] * k
    delta = F.softplus(pre(m.dt, u))  # [B, T, H]
    alpha = torch.exp(-delta[..., None] * m.A_log.exp())  # [B, T, H, n]
    beta = torch.sigmoid(pre(m.frontier.erase_beta_in, u))
    return q, k, p, heads(x["v"], H), alpha, beta


def comba_rule(m, u):
    """Hu et al. 2025, as a closed loop: decay the state, then correct it by the error of its
    read-out along p: S <- alpha o S;  S <- S + beta k (v - S^T p)^T, i.e.
    S_t = alpha (I - beta k p^T) S_{t-1} + beta k v^T."""
    s = m.spec
    q, k, p, v, alpha, beta = comba_pieces(m, u)
    S = torch.zeros(u.shape[0], s.heads, s.state_size, s.head_dim, dtype=u.dtype)
    ys = []
    for t in range(u.shape[1]):
        S = alpha[:, t, :, :, None] * S
        feedback = torch.einsum("bhnd,bhn->bhd", S, p[:, t])
        S = S + k[:, t, :, :, None] * (beta[:, t, :, None] * (v[:, t] - feedback))[..., None, :]
        ys.append(torch.einsum("bhnd,bhn->bhd", S, q[:, t]) / math.sqrt(s.state_size))
    return finish(m, u, torch.stack(ys, dim=1))


def gated_deltanet2_pieces(m, u):
    """Gated DeltaNet-2's q, k (unit), v, decay alpha [B, T, H, n], erase gate e [B, T, H, n] and
    write gate w [B, T, H, d_v], from the parameters."""
    s = m.spec
    H, n, dv = s.heads, s.state_size, s.head_dim
    x = inputs(m, u, [("q", H * n), ("k", H * n), ("v", H * dv)])
    q, k = (F.normalize(heads(x[name], H), dim=-1) for name in ("q", "k"))
    alpha = torch.exp(-m.A_log.exp()[:, None] * F.softplus(heads(pre(m.a_in, u), H)))
    erase = torch.sigmoid(heads(pre(m.frontier.erase_beta_in, u), H))
    write = torch.sigmoid(heads(pre(m.b_in, u), H))
    return q, k, heads(x["v"], H), alpha, erase, write


def gated_deltanet2_rule(m, u):
    """Hatamizadeh et al. 2026, with the state value-major (M [d_v, n], as the paper's fast
    weights): M <- M diag(alpha);  M <- M + (w o v - M (e o k)) k^T;  y = M q / sqrt(n)."""
    s = m.spec
    q, k, v, alpha, erase, write = gated_deltanet2_pieces(m, u)
    M = torch.zeros(u.shape[0], s.heads, s.head_dim, s.state_size, dtype=u.dtype)
    ys = []
    for t in range(u.shape[1]):
        M = M * alpha[:, t, :, None, :]
        read = torch.einsum("bhdn,bhn->bhd", M, erase[:, t] * k[:, t])
        M = M + (write[:, t] * v[:, t] - read)[..., :, None] * k[:, t, :, None, :]
        ys.append(torch.einsum("bhdn,bhn->bhd", M, q[:, t]) / math.sqrt(s.state_size))
    return finish(m, u, torch.stack(ys, dim=1))


RULES = {
    "deltaproduct": deltaproduct_rule,
    "deltaproduct_ungated": deltaproduct_rule,
    "fox": fox_rule,
    "lru": lru_rule,
    "mamba3": mamba3_rule,
    "dplr_delta": dplr_rule,
    "path_attention": path_rule,
    "rwkv7": rwkv7_rule,
    "comba": comba_rule,
    "gated_deltanet2": gated_deltanet2_rule,
}


@pytest.mark.parametrize("name", list(RULES))
def test_preset_equals_its_published_rule(name):
    m = build(name)
    T = 12 if name in ("fox", "path_attention") else 70  # two chunks of 64 for the linear readouts
    u = torch.randn(BATCH, T, D, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ours, ref = m(u), RULES[name](m, u)
    assert (ours - ref).abs().max().item() <= 1e-9 * max(1.0, ref.abs().max().item()), name


@pytest.mark.parametrize("name", ["deltaproduct", "mamba3", "dplr_delta", "lru", "rwkv7", "comba", "gated_deltanet2"])
def test_preset_decodes_one_token_at_a_time(name):
    m = build(name, seed=2)
    u = torch.randn(BATCH, 9, D, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        full = m(u)
        y, state = m(u[:, :4], return_state=True)
        ys = [y]
        for t in range(4, 9):
            y, state = m(u[:, t:t + 1], state, return_state=True)
            ys.append(y)
    assert torch.allclose(torch.cat(ys, dim=1), full, atol=1e-10)


def test_dplr_transition_has_spectral_radius_at_most_one():
    """Eigenvalues of every A_t the mixer builds, with large random parameters and inputs."""
    for seed in range(3):
        m = build("dplr_delta", seed=seed)
        with torch.no_grad():
            for p in m.parameters():
                p.mul_(3.0)
            u = 3.0 * torch.randn(4, 16, D, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
            A, *_ = dplr_matrices(m, u)
            eig = torch.linalg.eigvals(A)
        assert eig.abs().max().item() <= 1.0 + 1e-8  # eigvals of a non-symmetric matrix: ~1e-10 rounding
        assert eig.imag.abs().max().item() <= 1e-9  # similar to a symmetric matrix: real eigenvalues
        assert eig.real.min().item() < 0  # beta in [0, 2] reaches negative eigenvalues


def test_rwkv7_transition_has_spectral_radius_at_most_one():
    """RWKV-7's G_t = diag(w) - kappa_hat^T (a o kappa_hat), as the mixer's parameters build it:
    real eigenvalues (similar to a symmetric matrix) within [min w - 1, max w]."""
    for seed in range(3):
        m = build("rwkv7", seed=seed)
        with torch.no_grad():
            for p in m.parameters():
                p.mul_(3.0)
            u = 3.0 * torch.randn(4, 16, D, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
            _, w, kappa_hat, a, _, _ = rwkv7_pieces(m, u)
            G = torch.diag_embed(w) - kappa_hat[..., :, None] * (a * kappa_hat)[..., None, :]
            eig = torch.linalg.eigvals(G)
        assert eig.abs().max().item() <= 1.0 + 1e-8
        assert eig.imag.abs().max().item() <= 1e-9
        assert (eig.real >= w.min(-1).values[..., None] - 1 - 1e-9).all()
        assert eig.real.min().item() < 0  # the in-context rate reaches negative eigenvalues


def test_comba_transition_has_spectral_radius_at_most_one():
    """Comba's A_t = (I - beta sigmoid(d) k k^T) diag(alpha) from the mixer's parameters, also with
    beta in [0, 2]: real eigenvalues of modulus <= max alpha."""
    for seed in range(3):
        m = build("comba", seed=seed)
        with torch.no_grad():
            for name, p in m.named_parameters():
                if name != "A_log":  # a larger A_log drives alpha to exact zeros, where eigvals fails
                    p.mul_(3.0)
            u = 3.0 * torch.randn(4, 16, D, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
            _, k, p, _, alpha, beta = comba_pieces(m, u)
            # the bound holds for any alpha in (0, 1]; eigvals does not converge on entries that
            # span 1e-260 .. 1 (large random Delta), so the decays are floored here
            alpha = alpha.clamp_min(1e-12)
            for scale in (1.0, 2.0):
                A = torch.diag_embed(alpha) - (scale * beta[..., None] * k)[..., :, None] * (alpha * p)[..., None, :]
                eig = torch.linalg.eigvals(A)
                assert (eig.abs() <= alpha.max(-1).values[..., None] + 1e-8).all()
                assert eig.imag.abs().max().item() <= 1e-9


def test_gated_deltanet2_transition_has_spectral_radius_at_most_one():
    """Gated DeltaNet-2's A_t = (I - k (e o k)^T) diag(alpha) from the mixer's parameters, also with
    the erase gate in [0, 2] ('signed'): real eigenvalues of modulus <= max alpha."""
    for seed in range(3):
        m = build("gated_deltanet2", seed=seed)
        with torch.no_grad():
            for name, p in m.named_parameters():
                if name != "A_log":  # a larger A_log drives alpha to exact zeros, where eigvals fails
                    p.mul_(3.0)
            u = 3.0 * torch.randn(4, 16, D, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
            _, k, _, alpha, erase, _ = gated_deltanet2_pieces(m, u)
            for scale in (1.0, 2.0):
                A = (torch.eye(k.shape[-1], dtype=k.dtype) - k[..., :, None] * (scale * erase * k)[..., None, :]) \
                    * alpha[..., None, :]
                eig = torch.linalg.eigvals(A)
                assert (eig.abs() <= alpha.max(-1).values[..., None] + 1e-8).all()
                assert eig.imag.abs().max().item() <= 1e-9
                if scale == 1.0:
                    assert eig.real.min().item() >= -1e-9
