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
