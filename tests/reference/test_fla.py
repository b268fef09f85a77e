"""The fla-style presets' recurrences against flash-linear-attention's own pure-PyTorch `naive`
recurrences (GLA, simple GLA, the delta rule, the gated delta rule, KDA).

fla's layers (fla.layers) and its package import need triton, which has no CPU build, so the
layers themselves cannot run here; the `naive.py` files import only torch and einops and are
loaded straight from the installed package by path. Each test builds the preset's DSFMixer
(float32, random weights), takes the q, k, v and gates its forward mixes (`_mix_inputs`),
and compares what the mixer computes from them (`mix`, form auto: the chunked form at T = 160,
three chunks of 64) with fla's recurrence of the published rule on the same inputs: outputs
(max abs difference <= 1e-4) and the gradient of the mixer's input. What this does not check
is the wiring around the recurrence (projections, conv, norm, gate), which fla's layers would.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest
import torch

from dsf_search.core import zoo
from dsf_search.core.mixing import mix
from dsf_search.core.mixer import DSFMixer

pytest.importorskip("einops", reason="the `reference` extra (flash-linear-attention, einops) is not installed")
_FLA = importlib.util.find_spec("fla")
if _FLA is None or not _FLA.submodule_search_locations:
    pytest.skip("the `reference` extra (flash-linear-attention) is not installed", allow_module_level=True)
OPS = Path(list(_FLA.submodule_search_locations)[0]) / "ops"

from tests.reference.test_transformers import BATCH, LENGTH, TOL, WIDTHS, one_thread  # noqa: E402,F401


def naive(op: str, name: str):
    """Function `name` of fla/ops/<op>/naive.py, loaded without importing the fla package."""
    path = OPS / op / "naive.py"
    spec = importlib.util.spec_from_file_location(f"_fla_naive_{op}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def gla_ref(q, k, v, kw):
    o, _ = naive("gla", "naive_recurrent_gla")(q, k, v, kw["log_a"])  # its scale is 1/sqrt(K)
    return o


def hgrn2_ref(q, k, v, kw):
    """fla's HGRN-2 runs the GLA recurrence with k = 1 - f and no score scale."""
    o, _ = naive("gla", "naive_recurrent_gla")(q * math.sqrt(q.shape[-1]), k, v, kw["log_a"])
    return o


def retnet_ref(q, k, v, kw):
    o, _ = naive("simple_gla", "naive_recurrent_simple_gla")(q, k, v, kw["log_a"], scale=kw["scale"])
    return o


def deltanet_ref(q, k, v, kw):
    t = lambda x: x.transpose(1, 2)  # noqa: E731  (this recurrence is head-major)
    o, _ = naive("delta_rule", "delta_rule_recurrence")(t(q), t(k), t(v), t(kw["beta"]))
    return t(o)


def gated_deltanet_ref(q, k, v, kw):
    o, _ = naive("gated_delta_rule", "naive_recurrent_gated_delta_rule")(q, k, v, kw["beta"], kw["log_a"], scale=kw["scale"])
    return o


def kda_ref(q, k, v, kw):
    o, _ = naive("kda", "naive_recurrent_kda")(q, k, v, kw["log_a"], kw["beta"], scale=kw["scale"])
    return o


REFERENCES = {"gla": gla_ref, "hgrn2": hgrn2_ref, "retnet": retnet_ref, "deltanet": deltanet_ref,
              "gated_deltanet": gated_deltanet_ref, "kda": kda_ref}


@pytest.mark.parametrize("d", WIDTHS)
@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_preset_recurrence_equals_fla_naive(name, d):
    torch.manual_seed(0)
    preset = zoo.get(name)
    m = DSFMixer(preset.mixer(d), d, rope=preset.positional == "rope")
    u = torch.randn(BATCH, LENGTH, d, requires_grad=True)
    q, k, v, kw, _, _, _ = m._mix_inputs(u)
    assert kw["b"] is None or name in ("deltanet", "gated_deltanet", "kda")  # b = beta for the delta rules
    y = mix(q, k, v, **kw)
    y_ref = REFERENCES[name](q, k, v, kw)
    assert y_ref.abs().max() > 1e-2
    err = (y - y_ref).abs().max().item()
    assert err <= TOL, err
    w = torch.randn_like(y)
    (g,) = torch.autograd.grad((y * w).sum(), u, retain_graph=True)
    (g_ref,) = torch.autograd.grad((y_ref * w).sum(), u)
    torch.testing.assert_close(g, g_ref, rtol=1e-4, atol=1e-4)
