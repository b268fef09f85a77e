"""form='auto' picks a valid form for every combination, and that form gives the definition's
answer; the optional fla kernels agree with the core's chunked form (skipped without CUDA+fla)."""

from __future__ import annotations

import importlib.util
import itertools

import pytest
import torch

from dsf_search.core import mix
from dsf_search.core.forms.inputs import prepare
from dsf_search.core.forms.inputs import HOUSEHOLDER
from dsf_search.core.mixing import FORMS, choose_form

TRANSITIONS = ("identity", "scalar", "diagonal", "householder", "householder_scalar", "householder_diagonal")
READOUTS = ("linear", "exp")
NORMALIZATIONS = ("none", "sum", "maxabs", "learned")
GATED = {"scalar", "diagonal", "householder_scalar", "householder_diagonal"}
DIAGONAL = {"diagonal", "householder_diagonal"}


def make(transition, readout, normalization, signed, *, B=1, T=20, H=2, n=4, d_v=3, seed=0, device="cpu",
         dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)

    def rand(*shape):
        return torch.rand(*shape, generator=g, dtype=dtype)

    q = torch.randn(B, T, H, n, generator=g, dtype=dtype)
    k = torch.randn(B, T, H, n, generator=g, dtype=dtype)
    v = torch.randn(B, T, H, d_v, generator=g, dtype=dtype)
    positive = readout == "linear" and normalization == "sum"
    if positive:
        q, k = q.abs(), k.abs()
    kw = {"transition": transition, "readout": readout, "normalization": normalization, "scale": 0.6}
    if "householder" in transition:
        k = k / k.norm(dim=-1, keepdim=True)
        kw["beta"] = rand(B, T, H)
    if transition in GATED:
        shape = (B, T, H, n) if transition in DIAGONAL else (B, T, H)
        if signed:
            kw["a"] = 0.5 + 0.5 * rand(*shape) if positive else 2.0 * rand(*shape) - 1.0
        else:
            kw["log_a"] = -rand(*shape)
    kw["b"] = 0.5 + rand(B, T, H)
    if normalization == "learned":
        kw["eta"] = 0.5 + rand(B, T, H)
    moved = {name: x.to(device) if isinstance(x, torch.Tensor) else x for name, x in kw.items()}
    return q.to(device), k.to(device), v.to(device), moved


COMBINATIONS = [
    c for c in itertools.product(TRANSITIONS, READOUTS, NORMALIZATIONS, (False, True), (False, True))
    if not (c[3] and c[0] not in GATED)
]


@pytest.mark.parametrize("transition,readout,normalization,signed,stateful", COMBINATIONS)
def test_auto_runs_a_valid_form(transition, readout, normalization, signed, stateful) -> None:
    """Every valid combination runs under `auto` and matches the recurrent definition."""
    q, k, v, kw = make(transition, readout, normalization, signed)
    inp = prepare(q, k, v, **{name: kw.get(name) for name in
                              ("transition", "log_a", "a", "beta", "b", "readout", "normalization", "eta", "scale")})
    chosen = choose_form(inp, stateful)
    assert chosen in FORMS and chosen not in ("auto", "fla")
    y_auto = mix(q, k, v, form="auto", return_state=stateful, **kw)
    y_ref = mix(q, k, v, form="recurrent", return_state=stateful, **kw)
    if stateful:
        (y_auto, s_auto), (y_ref, s_ref) = y_auto, y_ref
        flat_auto = list(s_auto) if isinstance(s_auto, tuple) else [s_auto]
        flat_ref = list(s_ref) if isinstance(s_ref, tuple) else [s_ref]
        for a, b in zip(flat_auto, flat_ref):
            torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(y_auto, y_ref, rtol=1e-9, atol=1e-9)


def _choice(transition, readout, normalization, T, stateful=False, d_v=4):
    q, k, v, kw = make(transition, readout, normalization, False, T=T, n=1, d_v=d_v)
    inp = prepare(q, k, v, **{name: kw.get(name) for name in
                              ("transition", "log_a", "a", "beta", "b", "readout", "normalization", "eta", "scale")})
    return choose_form(inp, stateful)


def test_auto_table() -> None:
    """The documented table of `choose_form` on CPU."""
    assert _choice("identity", "exp", "sum", 64) == "sdpa"
    assert _choice("identity", "exp", "sum", 64, stateful=True) == "recurrent"
    assert _choice("scalar", "exp", "sum", 64) == "quadratic"
    assert _choice("identity", "exp", "none", 64) == "quadratic"
    assert _choice("diagonal", "exp", "sum", 64) == "quadratic"
    assert _choice("scalar", "exp", "sum", 9000) == "recurrent"
    for transition in TRANSITIONS:
        assert _choice(transition, "linear", "none", 3) == "recurrent"
        assert _choice(transition, "linear", "none", 4) == "chunked"
        assert _choice(transition, "linear", "sum", 64) == "chunked"
        assert _choice(transition, "linear", "learned", 64, stateful=True) == "chunked"
        per_channel = "chunked" if transition in HOUSEHOLDER else "scan"  # d_v = 1: Mamba, S4D, RG-LRU
        assert _choice(transition, "linear", "none", 3, d_v=1) == "recurrent"
        assert _choice(transition, "linear", "none", 4, d_v=1) == per_channel
        assert _choice(transition, "linear", "sum", 64, stateful=True, d_v=1) == per_channel


FLA_READY = torch.cuda.is_available() and importlib.util.find_spec("fla") is not None


@pytest.mark.skipif(not FLA_READY, reason="needs CUDA and flash-linear-attention (fla)")
@pytest.mark.parametrize("transition", ("identity", "scalar", "diagonal"))
@pytest.mark.parametrize("normalization", ("none", "learned"))
def test_fla_matches_chunked(transition: str, normalization: str) -> None:
    """On CUDA, form 'fla' runs these combinations through fla; compare with the core chunked form."""
    from dsf_search.core.forms import fla

    q, k, v, kw = make(transition, "linear", normalization, False, B=2, T=300, H=2, n=64, d_v=64,
                       device="cuda", dtype=torch.float32)
    kw["scale"] = 64**-0.5
    inp = prepare(q, k, v, **{name: kw.get(name) for name in
                              ("transition", "log_a", "a", "beta", "b", "readout", "normalization", "eta", "scale")})
    assert fla.supports(inp) and choose_form(inp, True) == "chunked"
    S0 = torch.randn(2, 2, 64, 64, device="cuda")
    y_fla, s_fla = mix(q, k, v, form="fla", initial_state=S0, return_state=True, **kw)
    y_core, s_core = mix(q, k, v, form="chunked", initial_state=S0, return_state=True, **kw)
    # fla's kernels may use TF32 matmuls: compare at that precision.
    torch.testing.assert_close(y_fla, y_core, rtol=2e-2, atol=2e-2 * y_core.abs().max().item())
    torch.testing.assert_close(s_fla, s_core, rtol=2e-2, atol=2e-2 * s_core.abs().max().item())
