"""The scan form (gated / identity transitions, linear readout) against the recurrent
definition: values and gradients, states across pieces, and the choice of `auto`."""

from __future__ import annotations

import pytest
import torch

from dsf_search.core import mix
from dsf_search.core.forms.inputs import HOUSEHOLDER, prepare
from dsf_search.core.mixing import choose_form
from tests.core.mix_cases import all_combinations, make_case
from tests.core.test_mix_forms import assert_forms_agree

COMBOS = [c for c in all_combinations() if c[1] == "linear" and c[0] not in HOUSEHOLDER and c[0] != "dplr"]


@pytest.mark.parametrize("dv", (1, 3))
@pytest.mark.parametrize("combo", COMBOS, ids=lambda c: "-".join(map(str, c)))
def test_scan_equals_recurrent(combo, dv):
    assert_forms_agree(make_case(*combo, T=21, dv=dv, seed=hash(combo) % 1000), forms=("recurrent", "scan"))


@pytest.mark.parametrize("combo", [c for c in COMBOS if c[4]], ids=lambda c: "-".join(map(str, c)))
def test_scan_state_across_pieces(combo):
    case = make_case(*combo, T=20, dv=1, seed=3)
    full, s_full = mix(case.q, case.k, case.v, form="recurrent", return_state=True, **case.kwargs)
    first, second = case.sliced(0, 7), case.sliced(7, 20)
    y1, s1 = mix(first.q, first.k, first.v, form="scan", return_state=True, **first.kwargs)
    y2, s2 = mix(second.q, second.k, second.v, form="scan", initial_state=s1, return_state=True, **second.kwargs)
    torch.testing.assert_close(torch.cat([y1, y2], dim=1), full, rtol=1e-5, atol=1e-5)
    for a, b in zip(s2 if isinstance(s2, tuple) else (s2,), s_full if isinstance(s_full, tuple) else (s_full,)):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


def test_auto_picks_scan_for_per_channel_ssms_only():
    q = k = torch.randn(2, 16, 8, 4)
    log_a = -torch.rand(2, 16, 8, 4)
    args = dict(transition="diagonal", log_a=log_a, a=None, beta=None, b=None, readout="linear",
                normalization="none", eta=None, scale=None)
    assert choose_form(prepare(q, k, torch.randn(2, 16, 8, 1), **args), False) == "scan"
    assert choose_form(prepare(q, k, torch.randn(2, 16, 8, 4), **args), False) == "chunked"
    args.update(transition="householder_diagonal", beta=torch.rand(2, 16, 8))
    assert choose_form(prepare(q, k, torch.randn(2, 16, 8, 1), **args), False) == "chunked"
    with pytest.raises(NotImplementedError, match="form 'scan' does not implement transition 'householder_diagonal'"):
        mix(q, k, torch.randn(2, 16, 8, 1), transition="householder_diagonal", log_a=log_a, beta=torch.rand(2, 16, 8), form="scan")


def _grads(loss: torch.Tensor, leaves: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return dict(zip(leaves, torch.autograd.grad(loss, list(leaves.values()))))


@pytest.mark.parametrize("combo", [c for c in COMBOS if c[4]], ids=lambda c: "-".join(map(str, c)))
def test_scan_gradients_through_the_state(combo):
    """The backward pass through initial_state and the returned state (a sequence in pieces)
    equals the recurrent form's, for every input of both pieces."""
    case = make_case(*combo, T=14, dv=2, seed=5, dtype=torch.float64)
    first, second = case.sliced(0, 6), case.sliced(6, 14)
    w = torch.randn(2, 14, 2, 2, dtype=torch.float64)
    out = {}
    for form in ("recurrent", "scan"):
        y1, s1 = mix(first.q, first.k, first.v, form=form, return_state=True, **first.kwargs)
        y2, s2 = mix(second.q, second.k, second.v, form=form, initial_state=s1, return_state=True, **second.kwargs)
        final = sum(s.sum() for s in (s2 if isinstance(s2, tuple) else (s2,)))
        out[form] = _grads((torch.cat([y1, y2], dim=1) * w).sum() + 0.3 * final, case.leaves())
    for name, g in out["recurrent"].items():
        torch.testing.assert_close(out["scan"][name], g, rtol=1e-9, atol=1e-9, msg=f"{case.label}: {name}")


@pytest.mark.parametrize("transition", ("scalar", "diagonal", "identity"))
def test_scan_with_heads_sharing_q_and_k(transition):
    """q and k shared by every head (expanded views, as Mamba's C and B), per-channel gates
    shared over the batch (LTI, as S4D): gradients reach the unexpanded tensors as in the
    recurrent form."""
    g = torch.Generator().manual_seed(0)
    B, T, H, n = 3, 9, 5, 4
    q0, k0 = (torch.randn(B, T, 1, n, generator=g, dtype=torch.float64).requires_grad_() for _ in range(2))
    v = torch.randn(B, T, H, 1, generator=g, dtype=torch.float64).requires_grad_()
    leaves = {"q": q0, "k": k0, "v": v}
    kwargs = {"transition": transition}
    if transition != "identity":
        log_a0 = (-torch.rand(1, 1, H, n if transition == "diagonal" else 1, generator=g, dtype=torch.float64)).requires_grad_()
        leaves["log_a"] = log_a0
        kwargs["log_a"] = log_a0.expand(B, T, H, -1) if transition == "diagonal" else log_a0[..., 0].expand(B, T, H)
    w = torch.randn(B, T, H, 1, dtype=torch.float64)
    out = {}
    for form in ("recurrent", "scan"):
        y = mix(q0.expand(B, T, H, n), k0.expand(B, T, H, n), v, form=form, **kwargs)
        out[form] = (y, _grads((y * w).sum(), leaves))
    torch.testing.assert_close(out["scan"][0], out["recurrent"][0], rtol=1e-10, atol=1e-10)
    for name, grad in out["recurrent"][1].items():
        torch.testing.assert_close(out["scan"][1][name], grad, rtol=1e-9, atol=1e-9, msg=name)


@pytest.mark.parametrize("combo", [c for c in COMBOS if c[4]], ids=lambda c: "-".join(map(str, c)))
def test_scan_without_gradients_keeps_no_states(combo):
    """Under no_grad the scan keeps only the running state; outputs and the final state equal
    those computed with gradients."""
    case = make_case(*combo, T=11, dv=1, seed=2)
    y, s = mix(case.q, case.k, case.v, form="scan", return_state=True, **case.kwargs)
    with torch.no_grad():
        y0, s0 = mix(case.q, case.k, case.v, form="scan", return_state=True, **case.kwargs)
    torch.testing.assert_close(y0, y.detach(), rtol=0, atol=0)
    for a, b in zip(s0 if isinstance(s0, tuple) else (s0,), s if isinstance(s, tuple) else (s,)):
        torch.testing.assert_close(a, b.detach(), rtol=0, atol=0)


@pytest.mark.parametrize("shared", ("heads", "batch_and_steps"))
@pytest.mark.parametrize("dv", (1, 2))
@pytest.mark.parametrize("form", ("scan", "recurrent", "chunked", "quadratic"))
def test_shared_queries_keys_and_a_factored_gate_equal_their_full_tensors(form, dv, shared):
    """mix with q, k of size 1 where shared ([B, T, 1, n]: one for all heads, Mamba's C_t and
    B_t; [1, 1, H, n]: static per head, S4D's C and B) and the factored gate
    log a_t = Delta_t o rate (log_a [B, T, H], log_a_rate [H, n]) equals the recurrent form on
    the tensors the test builds in full (q, k expanded; the gate multiplied out): outputs, the
    state carried across two pieces, and every gradient."""
    g = torch.Generator().manual_seed(4)
    B, T, H, n = 2, 13, 6, 4
    qk_shape = (B, T, 1, n) if shared == "heads" else (1, 1, H, n)

    def leaf(*shape, low=None):
        x = torch.randn(*shape, generator=g, dtype=torch.float64)
        return (x if low is None else low + torch.rand(*shape, generator=g, dtype=torch.float64)).requires_grad_()

    q0, k0, v = leaf(*qk_shape), leaf(*qk_shape), leaf(B, T, H, dv)
    delta, rate, b = leaf(B, T, H, low=0.1), leaf(H, n), leaf(B, T, H, low=0.5)
    leaves = {"q": q0, "k": k0, "v": v, "delta": delta, "rate": rate, "b": b}
    w = torch.randn(B, T, H, dv, generator=g, dtype=torch.float64)

    def run(use_form, compact):
        rate_neg = -rate.abs()
        if compact:
            q, k, gate, factored = q0, k0, delta, {"log_a_rate": rate_neg}
        else:
            q, k, gate, factored = q0.expand(B, T, H, n), k0.expand(B, T, H, n), delta[..., None] * rate_neg, {}
        pieces, state = [], None
        for lo, hi in ((0, 5), (5, T)):
            piece = slice(lo, hi) if q.shape[1] == T else slice(None)
            y, state = mix(q[:, piece], k[:, piece], v[:, lo:hi], transition="diagonal", b=b[:, lo:hi],
                           log_a=gate[:, lo:hi], form=use_form, initial_state=state, return_state=True, **factored)
            pieces.append(y)
        y = torch.cat(pieces, dim=1)
        return y, state, _grads((y * w).sum() + 0.2 * state.sum(), leaves)

    y_ref, s_ref, g_ref = run("recurrent", compact=False)
    y, s, grads = run(form, compact=True)
    torch.testing.assert_close(y, y_ref, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(s, s_ref, rtol=1e-10, atol=1e-10)
    for name, grad in g_ref.items():
        torch.testing.assert_close(grads[name], grad, rtol=1e-9, atol=1e-9, msg=name)


def test_shared_heads_and_factored_gates_are_validated():
    B, T, H, n = 2, 5, 3, 4
    q, v = torch.randn(B, T, 1, n), torch.randn(B, T, H, 1)
    delta, rate = torch.rand(B, T, H), -torch.rand(H, n)
    with pytest.raises(ValueError, match=r"q must be \[B, T, H, n\] = \[2, 5, 3, 4\] .*got \[2, 5, 2, 4\]"):
        mix(torch.randn(B, T, 2, n), q, v)
    with pytest.raises(ValueError, match=r"k must be \[B, T, H, n\] = \[2, 5, 3, 4\] .*got \[2, 4, 1, 4\]"):
        mix(q, torch.randn(B, T - 1, 1, n), v)
    with pytest.raises(ValueError, match=r"log_a_rate must have shape \[H, n\] = \[3, 4\]"):
        mix(q, q, v, transition="diagonal", log_a=delta, log_a_rate=rate[:, :2])
    with pytest.raises(ValueError, match="log_a_rate \\(a factored gate\\) needs transition 'diagonal'"):
        mix(q, q, v, transition="scalar", log_a=delta, log_a_rate=rate)
    with pytest.raises(ValueError, match=r"log_a must have shape \[B, T, H\]"):
        mix(q, q, v, transition="diagonal", log_a=delta[..., None].expand(B, T, H, n), log_a_rate=rate)


def test_mamba_mixers_hand_mix_the_shared_keys_and_the_factored_gate():
    """The per-channel presets reach `mix` in the compact inputs the scan form uses as they
    are (else every step would work on the [B, T, H, n] tensors this form avoids)."""
    from dsf_search.core import zoo
    from dsf_search.core.mixer import DSFMixer

    u = torch.randn(2, 7, 32)
    m = DSFMixer(zoo.mixer("mamba", 32), 32)
    q, k, _, kwargs, *_ = m._mix_inputs(u)
    assert q.shape[2] == k.shape[2] == 1 and kwargs["log_a"].dim() == 3 and kwargs["log_a_rate"].shape == (64, 16)
    m = DSFMixer(zoo.mixer("s4d", 32), 32)
    q, k, _, kwargs, *_ = m._mix_inputs(u)
    assert q.shape == k.shape == (1, 1, 32, 16) and kwargs["log_a_rate"].shape == (32, 16)
