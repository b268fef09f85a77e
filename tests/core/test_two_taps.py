"""The two-tap injection (Mamba-3's trapezoidal step) in every form.

    h_t = A_t (h_{t-1} + b'_t k_{t-1} v_{t-1}^T) + b_t k_t v_t^T,  y_t = c h_t^T q_t / eta_t

is computed as two sub-steps per token through `mix` (core/frontier.py's `two_taps`). Each form
is checked against the recurrent form (values, exit state and gradients, float32 and float64),
the recurrent form against a dense-matrix loop of the equation written here, pieces (the state
of `mix` plus the last k, v) against one pass, long sequences for finiteness, and the mixer's
coefficient map against its output.
"""

from __future__ import annotations

import pytest
import torch

from dsf_search.core import mix, zoo
from dsf_search.core.frontier import token_outputs, two_taps
from dsf_search.core.mixer import DSFMixer
from dsf_search.core.spec import MixerSpec

B, H, N, DV = 2, 2, 4, 3
KINDS = ["identity", "scalar", "diagonal", "rotation_scalar", "rotation_diagonal", "signed_diagonal"]


def case(kind: str, T: int = 41, dtype=torch.float64, normalization: str = "none", seed: int = 0):
    """(q, k, v, kwargs of `mix` with kwargs['previous_tap']); every tensor a leaf with grad."""
    g = torch.Generator().manual_seed(seed)

    def rand(*shape):
        return torch.rand(*shape, generator=g, dtype=dtype)

    q, k, v = (torch.randn(B, T, H, d, generator=g, dtype=dtype) for d in (N, N, DV))
    kw: dict = {"scale": 0.7, "normalization": normalization, "b": 0.2 + rand(B, T, H),
                "previous_tap": 0.2 + rand(B, T, H)}
    rotation = kind.startswith("rotation")
    transition = kind.removeprefix("rotation_").removeprefix("signed_")
    kw["transition"] = transition
    width = N // 2 if rotation else N
    if kind.startswith("signed"):
        kw["a"] = 2.0 * rand(B, T, H, width) - 1.0
    elif transition == "scalar":
        kw["log_a"] = -rand(B, T, H)
    elif transition == "diagonal":
        kw["log_a"] = -rand(B, T, H, width)
    if rotation:
        kw["theta"] = 3.0 * rand(B, T, H, N // 2) - 1.0
    for x in [q, k, v, *[x for x in kw.values() if isinstance(x, torch.Tensor)]]:
        x.requires_grad_(True)
    return q, k, v, kw


def leaves(q, k, v, kw):
    return [q, k, v] + [x for x in kw.values() if isinstance(x, torch.Tensor)]


def run(form, q, k, v, kw, previous=None, initial_state=None, chunk_size=16):
    """Token outputs and the exit state of the two-tap recurrence through `mix`."""
    q2, k2, v2, args, m = two_taps(q, k, v, kw, previous)
    y, state = mix(q2, k2, v2, form=form, chunk_size=chunk_size, initial_state=initial_state,
                   return_state=True, **args)
    return token_outputs(y, m), state


def dense_loop(q, k, v, kw):
    """The equation with explicit n x n matrices A_t = diag(a_t) R(theta_t) (no `mix`)."""
    T = q.shape[1]
    state = torch.zeros(B, H, N, DV, dtype=q.dtype)
    z = torch.zeros(B, H, N, dtype=q.dtype)
    ys = []
    for t in range(T):
        A = torch.eye(N, dtype=q.dtype).expand(B, H, N, N)
        if "theta" in kw:
            th = kw["theta"][:, t]
            R = torch.zeros(B, H, N, N, dtype=q.dtype)
            R[..., 0::2, 0::2] = torch.diag_embed(th.cos())
            R[..., 0::2, 1::2] = torch.diag_embed(-th.sin())
            R[..., 1::2, 0::2] = torch.diag_embed(th.sin())
            R[..., 1::2, 1::2] = torch.diag_embed(th.cos())
            A = R
        gate = kw["log_a"][:, t].exp() if "log_a" in kw else kw["a"][:, t] if "a" in kw else None
        if gate is not None:
            if gate.dim() == 2:
                gate = gate[..., None].expand(B, H, N)
            elif "theta" in kw:
                gate = gate.repeat_interleave(2, dim=-1)  # one magnitude per pair
            A = gate[..., :, None] * A
        k_prev = k[:, t - 1] if t > 0 else torch.zeros_like(k[:, 0])
        v_prev = v[:, t - 1] if t > 0 else torch.zeros_like(v[:, 0])
        bp, bc = kw["previous_tap"][:, t], kw["b"][:, t]
        state = A @ (state + (bp[..., None] * k_prev)[..., :, None] * v_prev[..., None, :]) \
            + (bc[..., None] * k[:, t])[..., :, None] * v[:, t, :, None, :]
        z = (A @ (z + bp[..., None] * k_prev)[..., None])[..., 0] + bc[..., None] * k[:, t]
        y = kw["scale"] * torch.einsum("bhn,bhnd->bhd", q[:, t], state)
        if kw["normalization"] == "sum":
            y = y / (kw["scale"] * (q[:, t] * z).sum(-1, keepdim=True) + 1e-6)
        ys.append(y)
    return torch.stack(ys, dim=1)


def rel(a, b):
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-30)).item()


@pytest.mark.parametrize("normalization", ["none", "sum"])
@pytest.mark.parametrize("kind", KINDS)
def test_recurrent_form_is_the_two_tap_equation(kind, normalization):
    q, k, v, kw = case(kind, normalization=normalization)
    with torch.no_grad():
        y, _ = run("recurrent", q, k, v, kw)
        assert rel(y, dense_loop(q, k, v, kw)) <= 1e-10


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-9), (torch.float32, 2e-4)])
@pytest.mark.parametrize("kind", KINDS)
def test_every_form_equals_the_recurrent_definition(kind, dtype, tol):
    q, k, v, kw = case(kind, dtype=dtype)
    weights = None
    results = {}
    for form in ("recurrent", "quadratic", "chunked"):
        y, state = run(form, q, k, v, kw)
        if weights is None:
            weights = torch.linspace(-1.0, 1.0, y.numel(), dtype=dtype).view_as(y)
        grads = torch.autograd.grad((y * weights).sum() + state.square().sum(), leaves(q, k, v, kw))
        results[form] = (y, state, grads)
    y_ref, s_ref, g_ref = results["recurrent"]
    for form in ("quadratic", "chunked"):
        y, s, grads = results[form]
        assert rel(y, y_ref) <= tol, f"{kind} {form}: output"
        assert rel(s, s_ref) <= tol, f"{kind} {form}: state"
        for i, (a, b) in enumerate(zip(grads, g_ref)):
            assert rel(a, b) <= 10 * tol, f"{kind} {form}: gradient of leaf {i}"


@pytest.mark.parametrize("form", ["recurrent", "quadratic", "chunked"])
@pytest.mark.parametrize("kind", ["scalar", "rotation_diagonal"])
def test_pieces_with_the_last_key_and_value_equal_one_pass(kind, form):
    q, k, v, kw = case(kind)
    with torch.no_grad():
        full, _ = run("recurrent", q, k, v, kw)
        ys, state, previous = [], None, None
        for start, stop in [(0, 1), (1, 9), (9, 41)]:
            part = {key: (x[:, start:stop] if isinstance(x, torch.Tensor) else x) for key, x in kw.items()}
            y, state = run(form, q[:, start:stop], k[:, start:stop], v[:, start:stop], part, previous, state, chunk_size=8)
            previous = (k[:, stop - 1:stop], v[:, stop - 1:stop])
            ys.append(y)
    assert rel(torch.cat(ys, dim=1), full) <= 1e-10


@pytest.mark.parametrize("regime", ["near_one", "near_zero"])
def test_long_sequences_stay_finite(regime):
    q, k, v, kw = case("rotation_scalar", T=4096, dtype=torch.float32)
    kw["log_a"] = torch.full_like(kw["log_a"], -1e-7 if regime == "near_one" else -40.0).requires_grad_(True)
    y, _ = run("chunked", q, k, v, kw, chunk_size=64)
    grads = torch.autograd.grad(y.square().sum(), leaves(q, k, v, kw))
    assert torch.isfinite(y).all() and all(torch.isfinite(g).all() for g in grads)


def test_mixer_coefficients_reproduce_its_mixing():
    """y_i = sum_j alpha_ij v_j: v_j enters at two sub-steps, both summed into alpha_ij."""
    torch.manual_seed(0)
    m = DSFMixer(zoo.mixer("mamba3", 32), 32).double()
    u = torch.randn(2, 11, 32, dtype=torch.float64)
    with torch.no_grad():
        q, k, v, kwargs, *_ = m._mix_inputs(u)
        q2, k2, v2, args, taps = two_taps(q, k, v, kwargs, None)
        y = token_outputs(mix(q2, k2, v2, **args), taps)
        alpha = m.coefficients(u)  # [B, H, T, T]
    assert torch.allclose(torch.einsum("bhij,bjhd->bihd", alpha, v), y, atol=1e-12)
    assert alpha.triu(1).abs().max().item() == 0.0


@pytest.mark.parametrize("changes,message", [
    ({"transition": "householder_scalar"}, "without a Householder or low-rank part"),
    ({"readout": "exp", "normalization": "sum"}, "needs readout 'linear'"),
])
def test_two_taps_refuse_what_they_do_not_define(changes, message):
    fields = {**zoo.mixer("mamba3", 32).to_dict(), "rotation": "none", **changes}
    with pytest.raises(ValueError, match=message) as err:
        MixerSpec.from_dict(fields)
    assert "injection" in str(err.value)
