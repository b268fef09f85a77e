"""Optional: the frontier transitions of `mix` against flash-linear-attention's pure-PyTorch
`naive` recurrences (skipped when fla is not installed; fla is never a base dependency).

Conventions mapped: fla's dplr S_t = diag(exp(gk_t)) S_{t-1} + beta_t (alpha_t^T S_{t-1}) + k_t v_t^T
is A_t = diag(a_t) - u_t w_t^T with log a = gk, u = -beta, w = alpha (q scaled by d_k^-1/2);
gated DeltaProduct's k, v, beta come as [B, T m, H, .] sub-steps, g per token; forgetting
attention's g is log f_t.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from dsf_search.core import mix
from dsf_search.core.frontier import substeps, token_outputs

_FLA = importlib.util.find_spec("fla")
if _FLA is None:
    pytest.skip("flash-linear-attention (optional) is not installed", allow_module_level=True)


def naive(relative: str, name: str):
    """A function of one of fla's naive.py files, loaded from its file: importing fla.ops pulls
    in triton, which the pure-PyTorch references do not need."""
    path = Path(next(iter(_FLA.submodule_search_locations))) / "ops" / relative
    spec = importlib.util.spec_from_file_location(f"fla_naive_{path.parent.name}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except ImportError as err:
        pytest.skip(f"fla's {relative} does not import on this machine: {err}")
    return getattr(module, name)

B, T, H, N, DV = 2, 40, 2, 8, 4


def rand(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def test_dplr_matches_fla_naive_recurrence():
    dplr_recurrence = naive("generalized_delta_rule/dplr/naive.py", "dplr_recurrence")

    q, k, v = rand(B, T, H, N, seed=1), rand(B, T, H, N, seed=2), rand(B, T, H, DV, seed=3)
    gk = -torch.rand(B, T, H, N, generator=torch.Generator().manual_seed(4))
    alpha, beta = 0.3 * rand(B, T, H, N, seed=5), 0.3 * rand(B, T, H, N, seed=6)
    ref, _ = dplr_recurrence(*(x.transpose(1, 2) for x in (q, k, v, alpha, beta, gk)))
    ours = mix(q, k, v, transition="dplr", log_a=gk, u=-beta, w=alpha, scale=N**-0.5, form="chunked", chunk_size=16)
    assert (ours - ref.transpose(1, 2)).abs().max().item() <= 1e-4 * max(1.0, ref.abs().max().item())


def test_gated_deltaproduct_matches_fla_naive_recurrence():
    naive_recurrent_gated_delta_product = naive("gated_delta_product/naive.py", "naive_recurrent_gated_delta_product")

    m = 2
    q = rand(B, T, H, N, seed=1)
    k = torch.nn.functional.normalize(rand(B, T * m, H, N, seed=2), dim=-1)
    v, beta = rand(B, T * m, H, DV, seed=3), torch.rand(B, T * m, H, generator=torch.Generator().manual_seed(4)) * 2
    g = -torch.rand(B, T, H, generator=torch.Generator().manual_seed(5))
    ref, _ = naive_recurrent_gated_delta_product(q, k, v, g, beta, scale=N**-0.5, num_householder=m)
    ks, vs, bs = k.unflatten(1, (T, m)), v.unflatten(1, (T, m)), beta.unflatten(1, (T, m))
    kwargs = {"transition": "householder_scalar", "log_a": g, "beta": bs[:, :, 0], "b": bs[:, :, 0],
              "scale": N**-0.5, "factors": ([ks[:, :, 1]], [vs[:, :, 1]], [bs[:, :, 1]])}
    q_sub, k_sub, v_sub, args, steps = substeps(q, ks[:, :, 0], vs[:, :, 0], kwargs, "beta")
    ours = token_outputs(mix(q_sub, k_sub, v_sub, form="chunked", chunk_size=16, **args), steps)
    assert (ours - ref).abs().max().item() <= 1e-4 * max(1.0, ref.abs().max().item())


def test_forgetting_attention_matches_fla_naive():
    naive_forgetting_attn = naive("forgetting_attn/naive.py", "naive_forgetting_attn")

    q, k, v = rand(B, T, H, N, seed=1), rand(B, T, H, N, seed=2), rand(B, T, H, DV, seed=3)
    log_f = torch.nn.functional.logsigmoid(rand(B, T, H, seed=4) + 2)
    ref = naive_forgetting_attn(q, k, v.repeat(1, 1, 1, N // DV), log_f, scale=N**-0.5)[..., :DV]
    for form in ("sdpa", "quadratic", "recurrent"):
        ours = mix(q, k, v, transition="scalar", log_a=log_f, readout="exp", normalization="sum",
                   decay_placement="outside", scale=N**-0.5, form=form)
        assert (ours - ref).abs().max().item() <= 1e-4, form
