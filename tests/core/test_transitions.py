"""Transitions as registered options: every consumer reads the same registry, and what each
option claims (forms, eigenvalue set, eigenvalue 1, cost) holds."""

from __future__ import annotations

import pytest
import torch

from dsf_search.core import MixerSpec, ModelSpec, mix
from dsf_search.core.checks import check
from dsf_search.core.cost import mixer_flops_per_token
from dsf_search.core.forms import inputs
from dsf_search.core.spec import TRANSITIONS as SPEC_TRANSITIONS
from dsf_search.core.transitions import TRANSITIONS
from dsf_search.space.axes import MIXER_AXES


def test_every_consumer_reads_the_registry():
    names = TRANSITIONS.names()
    assert inputs.TRANSITIONS == names == SPEC_TRANSITIONS == MIXER_AXES["transition"].allowed
    assert inputs.HOUSEHOLDER == {t.name for t in TRANSITIONS if t.householder}
    assert "dplr" in names and TRANSITIONS["dplr"].low_rank and not TRANSITIONS["dplr"].rotatable


def _arguments(option, T=20, n=4):
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(1, T, 2, d, generator=g, dtype=torch.float64) for d in (n, n, 3))
    kw = {"transition": option.name}
    if option.gated:
        kw["log_a"] = -torch.rand(1, T, 2, *((n,) if option.diagonal else ()), generator=g, dtype=torch.float64)
    if option.householder:
        k = torch.nn.functional.normalize(k, dim=-1)
        kw["beta"] = torch.rand(1, T, 2, generator=g, dtype=torch.float64)
    if option.low_rank:
        kw["u"], kw["w"] = (0.3 * torch.randn(1, T, 2, n, generator=g, dtype=torch.float64) for _ in range(2))
    return q, k, v, kw


@pytest.mark.parametrize("name", TRANSITIONS.names())
def test_each_transition_runs_in_the_forms_it_lists(name):
    option = TRANSITIONS[name]
    q, k, v, kw = _arguments(option)
    ref = mix(q, k, v, form="recurrent", **kw)
    for form in option.forms:
        if form == "fla":
            continue  # CUDA only (tests/core/test_auto.py)
        assert torch.allclose(mix(q, k, v, form=form, chunk_size=8, **kw), ref, atol=1e-12), (name, form)


def test_eigenvalue_sets():
    assert TRANSITIONS["identity"].eigenvalue_set() == "one"
    assert TRANSITIONS["householder"].eigenvalue_set("signed") == "real signed"
    assert TRANSITIONS["dplr"].eigenvalue_set("nonnegative") == "real nonnegative"
    assert TRANSITIONS["scalar"].eigenvalue_set("nonnegative", "learned") == "complex"


def test_rotation_keeps_the_modulus_of_the_gate():
    """The complex eigenvalues a e^{+-i theta} of diag(a) R(theta), checked on the matrix the
    recurrent form applies (its action on the identity)."""
    a, theta = torch.tensor([0.9, 0.5], dtype=torch.float64), torch.tensor([0.7, 2.0], dtype=torch.float64)
    q = torch.zeros(1, 1, 1, 4, dtype=torch.float64)
    A = torch.stack([
        mix(q, q, q, transition="diagonal", log_a=a.log().view(1, 1, 1, 2), theta=theta.view(1, 1, 1, 2),
            form="recurrent", initial_state=torch.eye(4, dtype=torch.float64)[:, c].view(1, 1, 4, 1).expand(1, 1, 4, 4).contiguous(),
            return_state=True)[1][0, 0, :, c]
        for c in range(4)
    ], dim=-1)
    eig = torch.linalg.eigvals(A)
    assert torch.allclose(eig.abs().sort().values, torch.tensor([0.5, 0.5, 0.9, 0.9], dtype=torch.float64))
    assert torch.allclose(eig.angle().abs().sort().values, torch.tensor([0.7, 0.7, 2.0, 2.0], dtype=torch.float64))


def test_checks_know_a_pure_rotation_is_marginally_stable():
    m = MixerSpec(transition="identity", rotation="learned", normalization="none", state_size=4, heads=2, head_dim=4)
    findings = check(ModelSpec(layers=(m,)))
    assert any(f.code == "P6" and "rotation alone keeps |lambda| = 1" in f.reason for f in findings)
    assert not any(f.code == "P3" for f in findings)  # a rotation injects relative position (P3)


def test_cost_asks_the_registry_for_the_state_update():
    base = MixerSpec(transition="householder_scalar", gate="mamba", injection="beta", heads=2, state_size=8, head_dim=8)
    two = MixerSpec(**{**base.to_dict(), "householder_factors": 2})
    # one extra factor: a reflection and an injection per state column, plus its beta projection
    extra = 2 * 6 * 8 * 8 + 2 * 32 * 2 + 2 * 32 * (8 + 8) * 2
    assert mixer_flops_per_token(two, 32, 128) - mixer_flops_per_token(base, 32, 128) == extra
