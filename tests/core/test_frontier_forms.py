"""The frontier transitions (rotations theta, dplr, decay outside the readout) in every form.

Each form is checked against the recurrent definition (values and gradients, float32 and
float64, several chunks, pieces through initial_state), and the recurrent form itself against
plain loops written here from the equations (complex numbers for rotations, dense matrices for
dplr, the Forgetting Transformer's formula for decay outside).
"""

from __future__ import annotations

import pytest
import torch

from dsf_search.core import coefficients, mix

B, H, N, DV = 2, 2, 4, 3


def frontier_case(kind: str, T: int = 45, dtype=torch.float64, seed: int = 0, signed: bool = False, readout="linear"):
    """(q, k, v, kwargs) for one frontier option; every tensor a leaf that requires grad."""
    g = torch.Generator().manual_seed(seed)

    def rand(*shape):
        return torch.rand(*shape, generator=g, dtype=dtype)

    def randn(*shape):
        return torch.randn(*shape, generator=g, dtype=dtype)

    q, k, v = randn(B, T, H, N), randn(B, T, H, N), randn(B, T, H, DV)
    kw: dict = {"readout": readout, "scale": 0.7, "b": 0.5 + rand(B, T, H)}
    if readout == "exp":
        kw["normalization"] = "sum"
    theta = 3.0 * rand(B, T, H, N // 2) - 1.0
    if kind == "rotation":
        kw.update(transition="identity", theta=theta)
    elif kind == "rotation_scalar":
        kw.update(transition="scalar", log_a=-rand(B, T, H), theta=theta)
    elif kind == "rotation_diagonal":
        kw.update(transition="diagonal", log_a=-rand(B, T, H, N // 2), theta=theta)
    elif kind.startswith("rotation_householder"):
        k = torch.nn.functional.normalize(k, dim=-1)
        kw.update(transition=kind.removeprefix("rotation_"), beta=2.0 * rand(B, T, H), theta=theta)
        if kind != "rotation_householder":
            shape = (B, T, H, N // 2) if kind.endswith("diagonal") else (B, T, H)
            kw["log_a"] = -rand(*shape)
    elif kind == "dplr":
        kw.update(transition="dplr", u=0.4 * randn(B, T, H, N), w=0.4 * randn(B, T, H, N))
        if signed:
            kw["a"] = 2.0 * rand(B, T, H, N) - 1.0
        else:
            kw["log_a"] = -rand(B, T, H, N)
    elif kind == "outside":
        kw.update(transition="scalar", log_a=-rand(B, T, H), decay_placement="outside")
    else:
        raise AssertionError(kind)
    for x in [q, k, v] + [x for x in kw.values() if isinstance(x, torch.Tensor)]:
        x.requires_grad_(True)
    return q, k, v, kw


KINDS = ["rotation", "rotation_scalar", "rotation_diagonal", "rotation_householder",
         "rotation_householder_scalar", "rotation_householder_diagonal", "dplr", "dplr_signed", "outside"]


def build(kind: str, **options):
    if kind == "dplr_signed":
        return frontier_case("dplr", signed=True, **options)
    return frontier_case(kind, **options)


def leaves(q, k, v, kw):
    return [q, k, v] + [x for x in kw.values() if isinstance(x, torch.Tensor)]


def outputs_and_grads(form, q, k, v, kw, chunk_size=16):
    stateful = kw["readout"] == "linear"
    result = mix(q, k, v, form=form, chunk_size=chunk_size, return_state=stateful, **kw)
    y, state = result if stateful else (result, None)
    weights = torch.linspace(-1.0, 1.0, y.numel(), dtype=y.dtype).view_as(y)
    loss = (y * weights).sum() + (0.0 if state is None else (state * state).sum())
    return y, state, torch.autograd.grad(loss, leaves(q, k, v, kw))


def rel(a, b):
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-30)).item()


def forms_for(kw):
    if kw["readout"] == "exp":
        return ["quadratic"] + (["sdpa"] if kw.get("decay_placement") == "outside" else [])
    return ["quadratic", "chunked"]


@pytest.mark.parametrize("readout", ["linear", "exp"])
@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-9), (torch.float32, 2e-4)])
@pytest.mark.parametrize("kind", KINDS)
def test_every_form_equals_the_recurrent_definition(kind, dtype, tol, readout):
    q, k, v, kw = build(kind, dtype=dtype, readout=readout)
    y_ref, s_ref, g_ref = outputs_and_grads("recurrent", q, k, v, kw)
    for form in forms_for(kw):
        y, s, grads = outputs_and_grads(form, q, k, v, kw)
        assert rel(y, y_ref) <= tol, f"{kind} {form}: output"
        if s_ref is not None:
            assert rel(s, s_ref) <= tol, f"{kind} {form}: state"
        for i, (a, b) in enumerate(zip(grads, g_ref)):
            assert rel(a, b) <= 10 * tol, f"{kind} {form}: gradient of leaf {i}"


@pytest.mark.parametrize("form", ["recurrent", "quadratic", "chunked"])
@pytest.mark.parametrize("kind", KINDS)
def test_pieces_through_initial_state_equal_one_pass(kind, form):
    q, k, v, kw = build(kind)
    full = mix(q, k, v, form="recurrent", **kw)
    ys, state = [], None
    for start, stop in [(0, 7), (7, 30), (30, 45)]:
        part = {key: (x[:, start:stop] if isinstance(x, torch.Tensor) else x) for key, x in kw.items()}
        y, state = mix(q[:, start:stop], k[:, start:stop], v[:, start:stop], form=form, chunk_size=8,
                       initial_state=state, return_state=True, **part)
        ys.append(y)
    assert rel(torch.cat(ys, dim=1), full) <= 1e-10


def test_exp_outside_decodes_one_token_at_a_time():
    q, k, v, kw = frontier_case("outside", T=9, readout="exp")
    full = mix(q, k, v, form="recurrent", **kw)
    state, ys = None, []
    for t in range(9):
        part = {key: (x[:, t:t + 1] if isinstance(x, torch.Tensor) else x) for key, x in kw.items()}
        y, state = mix(q[:, t:t + 1], k[:, t:t + 1], v[:, t:t + 1], form="recurrent", initial_state=state,
                       return_state=True, **part)
        ys.append(y)
    assert len(state) == 3
    assert rel(torch.cat(ys, dim=1), full) <= 1e-12


def test_rotation_is_a_complex_eigenvalue():
    """n = 2, one head: the state pair is one complex number z_t = a_t e^{i theta_t} z_{t-1} + (k0 + i k1) v_t."""
    g = torch.Generator().manual_seed(1)
    T = 20
    q, k, v = (torch.randn(1, T, 1, d, generator=g, dtype=torch.float64) for d in (2, 2, 1))
    log_a, theta = -torch.rand(1, T, 1, generator=g, dtype=torch.float64), torch.randn(1, T, 1, 1, generator=g, dtype=torch.float64)
    z = torch.zeros((), dtype=torch.complex128)
    ref = []
    for t in range(T):
        lam = torch.exp(log_a[0, t, 0] + 1j * theta[0, t, 0, 0])
        z = lam * z + torch.complex(k[0, t, 0, 0], k[0, t, 0, 1]) * v[0, t, 0, 0]
        ref.append(q[0, t, 0, 0] * z.real + q[0, t, 0, 1] * z.imag)
    for form in ("recurrent", "quadratic", "chunked"):
        y = mix(q, k, v, transition="scalar", log_a=log_a, theta=theta, form=form, chunk_size=8)
        assert torch.allclose(y.flatten(), torch.stack(ref), atol=1e-12), form


def test_dplr_recurrence_is_the_dense_matrix_loop():
    q, k, v, kw = frontier_case("dplr", T=11, signed=True)
    a, u, w, b = kw["a"], kw["u"], kw["w"], kw["b"]
    S = torch.zeros(B, H, N, DV, dtype=torch.float64)
    ref = []
    for t in range(11):
        A = torch.diag_embed(a[:, t]) - u[:, t, :, :, None] * w[:, t, :, None, :]
        S = A @ S + (b[:, t, :, None, None] * k[:, t, :, :, None]) * v[:, t, :, None, :]
        ref.append(0.7 * torch.einsum("bhn,bhnd->bhd", q[:, t], S))
    y = mix(q, k, v, form="recurrent", **kw)
    assert torch.allclose(y, torch.stack(ref, dim=1), atol=1e-12)


def test_dplr_with_kda_vectors_is_gated_householder():
    """u = beta k, w = a o k is A = (I - beta k k^T) diag(a) (KDA), the existing transition."""
    q, k, v, kw = frontier_case("dplr", T=30)
    k = torch.nn.functional.normalize(k.detach(), dim=-1)
    beta = torch.rand(B, 30, H, dtype=torch.float64)
    a = kw["log_a"].detach().exp()
    y = mix(q, k, v, transition="dplr", log_a=kw["log_a"], u=beta[..., None] * k, w=a * k, b=kw["b"], scale=0.7,
            form="chunked", chunk_size=8)
    ref = mix(q, k, v, transition="householder_diagonal", log_a=kw["log_a"], beta=beta, b=kw["b"], scale=0.7,
              form="recurrent")
    assert rel(y, ref) <= 1e-12


def test_forgetting_attention_formula():
    """Outside: alpha_ij = exp(c q_i.k_j b_j) prod_{j<t<=i} a_t / sum_j (same) (+ eps)."""
    q, k, v, kw = frontier_case("outside", T=12, readout="exp")
    with torch.no_grad():
        s = 0.7 * torch.einsum("bihn,bjhn->bhij", q, k) * kw["b"].transpose(1, 2)[:, :, None, :]
        L = kw["log_a"].transpose(1, 2).cumsum(-1)
        logG = L[..., :, None] - L[..., None, :]
        e = torch.exp(s + logG).tril()
        alpha = e / (e.sum(-1, keepdim=True) + 1e-6)
        ref = torch.einsum("bhij,bjhd->bihd", alpha, v)
        for form in ("recurrent", "quadratic", "sdpa"):
            assert rel(mix(q, k, v, form=form, **kw), ref) <= 1e-10, form
        assert rel(coefficients(q, k, v, **kw), alpha) <= 1e-10


@pytest.mark.parametrize("form", ["recurrent", "quadratic", "chunked"])
def test_linear_readout_scalar_gate_placements_coincide(form):
    q, k, v, kw = frontier_case("outside", T=40)
    outside, s_out = mix(q, k, v, form=form, chunk_size=16, return_state=True, **kw)
    kw["decay_placement"] = "inside"
    inside, s_in = mix(q, k, v, form="recurrent", return_state=True, **kw)
    assert rel(outside, inside) <= 1e-12 and rel(s_out, s_in) <= 1e-12


def test_auto_runs_forgetting_attention_through_sdpa():
    from dsf_search.core.forms.inputs import prepare
    from dsf_search.core.mixing import choose_form

    q, k, v, kw = frontier_case("outside", T=12, readout="exp")
    assert choose_form(prepare(q, k, v, **{"eta": None, "a": None, "beta": None, "normalization": "sum", **kw}), False) == "sdpa"


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"transition": "dplr", "log_a": -torch.ones(1, 3, 1, 4)}, "needs u and w"),
        ({"transition": "scalar", "a": torch.zeros(1, 3, 1), "theta": torch.zeros(1, 3, 1, 2)}, "log_a"),
        ({"transition": "dplr", "log_a": -torch.ones(1, 3, 1, 4), "u": torch.zeros(1, 3, 1, 4),
          "w": torch.zeros(1, 3, 1, 4), "theta": torch.zeros(1, 3, 1, 2)}, "theta"),
        ({"transition": "diagonal", "log_a": -torch.ones(1, 3, 1, 4), "theta": torch.zeros(1, 3, 1, 2)}, "n // 2"),
        ({"transition": "diagonal", "log_a": -torch.ones(1, 3, 1, 4), "decay_placement": "outside"}, "outside"),
        ({"transition": "scalar", "log_a": -torch.ones(1, 3, 1), "decay_placement": "after"}, "decay_placement"),
        ({"transition": "scalar", "log_a": -torch.ones(1, 3, 1), "u": torch.zeros(1, 3, 1, 4)}, "only used with"),
    ],
)
def test_invalid_frontier_arguments_are_refused(kwargs, message):
    q = torch.zeros(1, 3, 1, 4)
    with pytest.raises(ValueError, match=message):
        mix(q, q, q, **kwargs)


def test_odd_state_size_cannot_rotate():
    q = torch.zeros(1, 3, 1, 3)
    with pytest.raises(ValueError, match="n must be even"):
        mix(q, q, q, theta=torch.zeros(1, 3, 1, 1))


T_LONG = 4096


@pytest.mark.parametrize("regime", ["near_one", "near_zero"])
@pytest.mark.parametrize("kind", ["rotation_diagonal", "rotation_householder_scalar", "dplr", "dplr_signed"])
def test_long_sequences_stay_finite(kind, regime):
    g = torch.Generator().manual_seed(0)
    q, k, v, kw = build(kind, T=T_LONG, dtype=torch.float32)
    for name in ("log_a", "a"):
        if name in kw:
            x = kw[name].detach()
            if name == "log_a":
                x = torch.full_like(x, -1e-7 if regime == "near_one" else -40.0)
            else:
                x = torch.sign(torch.randn(x.shape, generator=g)) * (0.9999999 if regime == "near_one" else 1e-7)
            kw[name] = x.requires_grad_(True)
    if kind.startswith("dplr"):
        # |u . w| <= 1 - |a| keeps the spectral radius <= 1 (the mixer's parametrization).
        kd = torch.nn.functional.normalize(k.detach(), dim=-1)
        gate = kw["log_a"].exp() if "log_a" in kw else kw["a"].abs()
        kw["u"] = ((1 - gate.detach()) * kd).requires_grad_(True)
        kw["w"] = kd.clone().requires_grad_(True)
    y = mix(q, k, v, form="chunked", **kw)
    grads = torch.autograd.grad(y.square().sum(), leaves(q, k, v, kw))
    assert torch.isfinite(y).all()
    assert all(torch.isfinite(gr).all() for gr in grads)


def test_long_exp_readout_rotation_keeps_its_angles():
    """T = 1024 through the quadratic form: the cumulative angles reach ~2500 rad; summed in
    float32 they would put the output 1.4e-4 off the recurrent definition (measured), summed in
    float64 it stays at float32 rounding (3e-5)."""
    q, k, v, kw = frontier_case("rotation_scalar", T=1024, dtype=torch.float32, readout="exp")
    with torch.no_grad():
        kw["log_a"].fill_(-1e-7)
        kw["theta"].uniform_(2.0, 3.0)
        y = mix(q, k, v, form="quadratic", **kw)
        ref = mix(q, k, v, form="recurrent", **kw)
    assert torch.isfinite(y).all()
    assert rel(y, ref) <= 6e-5
