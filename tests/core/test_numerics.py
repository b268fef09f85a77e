"""Numerics shared by every form: signed gates at exactly 0, low precision, mixed dtypes."""

from __future__ import annotations

import pytest
import torch

from dsf_search.core import mix

FORMS = ["recurrent", "quadratic", "chunked"]


def signed_case(transition: str, dtype=torch.float64):
    g = torch.Generator().manual_seed(3)
    B, T, H, n, dv = 1, 21, 2, 4, 3
    q, k, v = (torch.randn(B, T, H, d, generator=g, dtype=dtype) for d in (n, n, dv))
    shape = (B, T, H, n) if transition in ("diagonal", "householder_diagonal", "dplr") else (B, T, H)
    a = 2.0 * torch.rand(*shape, generator=g, dtype=dtype) - 1.0
    a[:, 5] = 0.0  # exactly zero gates
    a[:, 6] = 0.0  # two zero gates in a row
    kw = {"transition": transition, "a": a}
    if "householder" in transition:
        k = torch.nn.functional.normalize(k, dim=-1)
        kw["beta"] = 2.0 * torch.rand(B, T, H, generator=g, dtype=dtype)
    if transition == "dplr":
        kw["u"] = 0.3 * torch.randn(B, T, H, n, generator=g, dtype=dtype)
        kw["w"] = 0.3 * torch.randn(B, T, H, n, generator=g, dtype=dtype)
    for x in (q, k, v, a):
        x.requires_grad_(True)
    return q, k, v, kw


@pytest.mark.parametrize("transition", ["scalar", "diagonal", "householder_scalar", "householder_diagonal", "dplr"])
def test_signed_gate_gradient_at_zero_matches_the_recurrent_form(transition):
    q, k, v, kw = signed_case(transition)
    grads = {}
    for form in FORMS:
        y = mix(q, k, v, form=form, chunk_size=8, **kw)
        weights = torch.linspace(-1, 1, y.numel(), dtype=y.dtype).view_as(y)
        (grads[form],) = torch.autograd.grad((y * weights).sum(), [kw["a"]])
    at_zero = grads["recurrent"][:, 5:7]
    assert at_zero.abs().max() > 1e-3  # the derivative at a = 0 is of order one
    for form in ("quadratic", "chunked"):
        err = (grads[form] - grads["recurrent"]).abs().max() / grads["recurrent"].abs().max()
        assert err <= 1e-9, f"{form}: gradient of a off by {err:.2e}"


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("transition", ["householder_diagonal", "dplr", "scalar"])
def test_low_precision_runs_on_cpu_in_float32(transition, form, dtype):
    q, k, v, kw = signed_case(transition, dtype=torch.float32)
    ref, state_ref = mix(q, k, v, form="recurrent", return_state=True, **kw)
    low = {key: (x.detach().to(dtype).requires_grad_(True) if isinstance(x, torch.Tensor) else x) for key, x in kw.items()}
    ql, kl, vl = (x.detach().to(dtype).requires_grad_(True) for x in (q, k, v))
    y, state = mix(ql, kl, vl, form=form, chunk_size=8, return_state=True, **low)
    assert y.dtype == dtype and state.dtype == dtype
    # Only the rounding of the inputs separates the two: compare at the inputs' precision.
    tol = 0.1 if dtype == torch.bfloat16 else 0.02
    assert ((y.float() - ref).abs().max() / ref.abs().max()).item() <= tol
    (g,) = torch.autograd.grad(y.float().sum(), [vl])
    assert g.dtype == dtype and torch.isfinite(g.float()).all()


@pytest.mark.parametrize("form", FORMS + ["sdpa", "auto"])
@pytest.mark.parametrize("name", ["k", "v", "a", "b"])
def test_mixed_dtypes_are_refused_by_every_form(form, name):
    q, k, v, kw = signed_case("scalar", dtype=torch.float32)
    kw["b"] = torch.ones_like(kw["a"])
    args = {"q": q, "k": k, "v": v, **kw}
    args[name] = args[name].detach().double()
    with pytest.raises(ValueError, match=f"{name} has torch.float64"):
        mix(args.pop("q"), args.pop("k"), args.pop("v"), form=form, readout="exp" if form == "sdpa" else "linear", **args)


def test_initial_state_of_another_dtype_is_refused():
    q, k, v, kw = signed_case("scalar", dtype=torch.float32)
    with pytest.raises(ValueError, match="initial_state must have q's dtype"):
        mix(q, k, v, initial_state=torch.zeros(1, 2, 4, 3, dtype=torch.float64), **kw)


def test_integer_inputs_are_refused():
    x = torch.zeros(1, 2, 1, 2, dtype=torch.int64)
    with pytest.raises(ValueError, match="floating point"):
        mix(x, x, x)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("name", ["gated_deltanet", "kda", "deltaproduct", "dplr_delta", "mamba3"])
def test_low_precision_presets_run_on_cpu(name, dtype):
    """Forward in both half formats; gradients in bfloat16 (float16 without loss scaling
    overflows in the mixer's output RMS norm backward, outside `mix`)."""
    from dsf_search.core import SequenceModel, zoo

    torch.manual_seed(0)
    model = SequenceModel(zoo.model(name, d_model=32, n_layers=1)).to(dtype)
    logits = model(torch.randint(0, 64, (2, 70)))
    assert logits.dtype == dtype and torch.isfinite(logits.float()).all()
    if dtype == torch.bfloat16:
        logits.float().square().mean().backward()
        assert all(torch.isfinite(p.grad.float()).all() for p in model.parameters() if p.grad is not None)
