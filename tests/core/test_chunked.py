"""The chunked form agrees with the recurrent definition: values, gradients and states."""

from __future__ import annotations

import pytest
import torch

from dsf_search.core import mix
from dsf_search.core.forms.inputs import DIAGONAL, GATED, NORMALIZATIONS, TRANSITIONS
from tests.core.mix_cases import low_rank


def make_inputs(
    transition: str,
    normalization: str,
    signed: bool,
    *,
    B: int = 2,
    T: int = 75,
    H: int = 2,
    n: int = 5,
    d_v: int = 3,
    dtype: torch.dtype = torch.float64,
    seed: int = 0,
) -> tuple[list[torch.Tensor], dict]:
    """(q, k, v) and the keyword arguments of `mix`, every tensor a leaf that requires grad.

    Sum normalization gets positive features, gates in [0.5, 1] and beta in [0, 1] so that its
    denominators stay well conditioned; otherwise signed gates cover [-1, 1] and beta [0, 2].
    """
    g = torch.Generator().manual_seed(seed)

    def rand(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=g, dtype=dtype)

    q = torch.randn(B, T, H, n, generator=g, dtype=dtype)
    k = torch.randn(B, T, H, n, generator=g, dtype=dtype)
    v = torch.randn(B, T, H, d_v, generator=g, dtype=dtype)
    positive = normalization == "sum"
    if positive:
        q, k = q.abs(), k.abs()
    kw: dict = {"transition": transition, "normalization": normalization, "scale": 0.7}
    if "householder" in transition:
        k = k / k.norm(dim=-1, keepdim=True)
        kw["beta"] = rand(B, T, H) * (2.0 if signed and not positive else 1.0)
    if transition in GATED:
        shape = (B, T, H, n) if transition in DIAGONAL else (B, T, H)
        if signed:
            kw["a"] = 0.5 + 0.5 * rand(*shape) if positive else 2.0 * rand(*shape) - 1.0
        else:
            kw["log_a"] = -2.0 * rand(*shape)
    kw["b"] = 0.5 + rand(B, T, H)
    if normalization == "learned":
        kw["eta"] = 0.5 + rand(B, T, H)
    if transition == "dplr":
        kw.update(low_rank(k, rand, lambda *shape: torch.randn(*shape, generator=g, dtype=dtype), positive))
    tensors = [q, k, v]
    for x in tensors + [x for x in kw.values() if isinstance(x, torch.Tensor)]:
        x.requires_grad_(True)
    return tensors, kw


def leaves(qkv: list[torch.Tensor], kw: dict) -> list[torch.Tensor]:
    return qkv + [x for x in kw.values() if isinstance(x, torch.Tensor)]


def relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    """max |a - b| relative to the scale (max |b|) of the reference b."""
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-30)).item()


def state_tensors(state) -> list[torch.Tensor]:
    return list(state) if isinstance(state, (tuple, list)) else [state]


def run(form: str, qkv, kw, weights, chunk_size: int = 64, initial_state=None):
    """Output, final state, and gradients of a fixed linear functional of both."""
    y, state = mix(*qkv, form=form, chunk_size=chunk_size, initial_state=initial_state, return_state=True, **kw)
    loss = (y * weights).sum() + sum((s * s).sum() for s in state_tensors(state))
    inputs = leaves(qkv, kw) + ([] if initial_state is None else state_tensors(initial_state))
    return y, state, torch.autograd.grad(loss, inputs)


def assert_agree(reference, candidate, tol: float) -> None:
    y_r, s_r, g_r = reference
    y_c, s_c, g_c = candidate
    assert relative_error(y_c, y_r) <= tol
    for a, b in zip(state_tensors(s_c), state_tensors(s_r)):
        assert relative_error(a, b) <= tol
    assert len(g_c) == len(g_r)
    for i, (a, b) in enumerate(zip(g_c, g_r)):
        assert relative_error(a, b) <= tol, f"gradient {i}"


CASES = [
    (t, norm, signed)
    for t in TRANSITIONS
    for norm in NORMALIZATIONS
    for signed in (False, True)
    if not (signed and t == "identity")
]


@pytest.mark.parametrize("transition,normalization,signed", CASES)
def test_chunked_matches_recurrent(transition: str, normalization: str, signed: bool) -> None:
    """Every transition x normalization x gate sign, T=75 (not a multiple of 16 or 64), float64."""
    qkv, kw = make_inputs(transition, normalization, signed)
    weights = torch.randn(qkv[2].shape, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    reference = run("recurrent", qkv, kw, weights)
    for chunk_size in (16, 64):
        assert_agree(reference, run("chunked", qkv, kw, weights, chunk_size), 1e-9)


@pytest.mark.parametrize("transition", TRANSITIONS)
@pytest.mark.parametrize("normalization", ("none", "sum"))
def test_two_pieces_equal_one_pass(transition: str, normalization: str) -> None:
    """A sequence cut in two (state carried over) equals one pass; the state gets gradients."""
    signed = transition != "identity" and normalization == "none"
    qkv, kw = make_inputs(transition, normalization, signed, T=70)
    weights = torch.randn(qkv[2].shape, dtype=torch.float64, generator=torch.Generator().manual_seed(6))
    y_full, s_full = mix(*qkv, form="recurrent", return_state=True, **kw)

    def piece(x, lo, hi):
        return x[:, lo:hi] if isinstance(x, torch.Tensor) else x

    y1, s1 = mix(*(x[:, :30] for x in qkv), form="chunked", chunk_size=16, return_state=True,
                 **{name: piece(x, 0, 30) for name, x in kw.items()})
    y2, s2 = mix(*(x[:, 30:] for x in qkv), form="chunked", chunk_size=16, initial_state=s1, return_state=True,
                 **{name: piece(x, 30, 70) for name, x in kw.items()})
    assert relative_error(torch.cat([y1, y2], dim=1), y_full) <= 1e-10
    for a, b in zip(state_tensors(s2), state_tensors(s_full)):
        assert relative_error(a, b) <= 1e-10

    B, _, H, n = qkv[0].shape
    d_v = qkv[2].shape[-1]
    g = torch.Generator().manual_seed(7)
    S0 = torch.randn(B, H, n, d_v, generator=g, dtype=torch.float64, requires_grad=True)
    init = (S0, torch.rand(B, H, n, generator=g, dtype=torch.float64, requires_grad=True)) if normalization == "sum" else S0
    assert_agree(
        run("recurrent", qkv, kw, weights, initial_state=init),
        run("chunked", qkv, kw, weights, 16, initial_state=init),
        1e-9,
    )


@pytest.mark.parametrize("transition", ("scalar", "diagonal", "householder_diagonal"))
def test_long_sequence(transition: str) -> None:
    """T = 2048 with small dims: 32 chunks of 64, signed gates, values and gradients."""
    qkv, kw = make_inputs(transition, "none", True, B=1, T=2048, H=1, n=4, d_v=2)
    weights = torch.randn(qkv[2].shape, dtype=torch.float64, generator=torch.Generator().manual_seed(8))
    assert_agree(run("recurrent", qkv, kw, weights), run("chunked", qkv, kw, weights, 64), 1e-9)


@pytest.mark.parametrize("transition", TRANSITIONS)
def test_float32_tolerance(transition: str) -> None:
    """Float32, 3 chunks of 64 and a tail: forward within 1e-4 of the output scale."""
    qkv, kw = make_inputs(transition, "none", transition != "identity", B=1, T=200, H=2, n=8, d_v=4,
                          dtype=torch.float32)
    kw["scale"] = 8**-0.5
    weights = torch.randn(qkv[2].shape, generator=torch.Generator().manual_seed(9))
    y_r, s_r, g_r = run("recurrent", qkv, kw, weights)
    y_c, s_c, g_c = run("chunked", qkv, kw, weights, 64)
    assert relative_error(y_c, y_r) <= 1e-4
    assert relative_error(s_c, s_r) <= 1e-4
    for a, b in zip(g_c, g_r):
        assert relative_error(a, b) <= 1e-3


@pytest.mark.parametrize("transition", ("scalar", "diagonal", "householder_diagonal"))
def test_extreme_gates_stay_finite(transition: str) -> None:
    """Gates that forget everything in one step (log a = -60 or -inf, a = +-1e-30) next to
    gates of 1: no overflow, no NaN, same values and gradients as the recurrence."""
    qkv, kw = make_inputs(transition, "none", False, B=1, T=50, H=2, n=4, d_v=3)
    log_a = kw["log_a"].detach().clone()
    log_a[:, 5] = -60.0
    log_a[:, 17] = 0.0
    log_a[:, 20] = float("-inf")
    log_a[:, 33:40] = -80.0
    kw["log_a"] = log_a.requires_grad_(True)
    weights = torch.randn(qkv[2].shape, dtype=torch.float64, generator=torch.Generator().manual_seed(10))
    reference = run("recurrent", qkv, kw, weights)
    candidate = run("chunked", qkv, kw, weights, 16)
    for g in candidate[2]:
        assert torch.isfinite(g).all()
    assert_agree(reference, candidate, 1e-9)

    a = torch.where(torch.rand(log_a.shape, generator=torch.Generator().manual_seed(11)) < 0.5, -1.0, 1.0)
    a = (a * log_a.clamp_min(-69.0).exp()).requires_grad_(True)
    kw.pop("log_a")
    kw["a"] = a
    candidate = run("chunked", qkv, kw, weights, 16)
    assert all(torch.isfinite(g).all() for g in candidate[2])
    assert_agree(run("recurrent", qkv, kw, weights), candidate, 1e-9)


@pytest.mark.parametrize("T,chunk_size", [(1, 64), (5, 64), (37, 12), (40, 7), (64, 64), (65, 64), (300, 160)])
def test_any_length_and_chunk_size(T: int, chunk_size: int) -> None:
    """Short sequences, T < chunk size, chunk sizes that are not powers of two."""
    for transition in ("diagonal", "householder_scalar"):
        qkv, kw = make_inputs(transition, "maxabs", True, B=1, T=T)
        weights = torch.randn(qkv[2].shape, dtype=torch.float64, generator=torch.Generator().manual_seed(12))
        assert_agree(run("recurrent", qkv, kw, weights), run("chunked", qkv, kw, weights, chunk_size), 1e-9)


def test_chunked_rejects_exp_readout() -> None:
    q = torch.randn(1, 8, 1, 4)
    with pytest.raises(NotImplementedError, match="chunked"):
        mix(q, q, q, readout="exp", normalization="sum", form="chunked")


def test_no_quadratic_memory() -> None:
    """Doubling T doubles the number of chunks, not the size of any per-chunk tensor: the
    largest tensor autograd keeps grows linearly in T (no T x T or T x T x n tensor)."""

    def largest_saved(T: int) -> int:
        qkv, kw = make_inputs("householder_diagonal", "none", True, B=1, T=T, H=1, n=8, d_v=8, dtype=torch.float32)
        sizes = []

        def pack(x: torch.Tensor) -> torch.Tensor:
            sizes.append(x.numel())
            return x

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda x: x):
            mix(*qkv, form="chunked", chunk_size=32, **kw)
        return max(sizes)

    small, large = largest_saved(512), largest_saved(2048)
    assert large <= 4 * small
    assert large < 2048 * 2048 / 8
