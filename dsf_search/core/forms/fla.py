"""Optional GPU kernels: flash-linear-attention (`fla`) for the gated linear-attention family.

`mix(form="fla")` runs here (opt-in; `auto` does not choose it until it has been checked on a
GPU), on CUDA with `fla` importable, for the combinations whose update rule fla implements
exactly:
    S_t = diag(exp(g_t)) S_{t-1} + k'_t v_t^T,   o_t = c S_t^T q_t
(`chunk_simple_gla` for a scalar g_t, `chunk_gla` for a per-channel g_t). That is the DSF
recurrence for transitions identity (g = 0), scalar and diagonal with nonnegative gates given
as log_a (g = log a), injection folded into the key (k' = b k, exact since S is linear in
b_t k_t), and normalization none or learned (divided afterwards). Signed gates, Householder
transitions (fla's delta rule injects beta_t, not an independent b_t) and the sum/maxabs
normalizers stay on the core's chunked form.

Both fla functions take [B, T, H, ...] inputs (older releases need head_first=False for that
layout, newer ones no longer have the argument) and states [B, H, K, V], as documented in
their docstrings. tests/core/test_auto.py checks this form against the chunked form and is
skipped without CUDA and fla.
"""

from __future__ import annotations

import importlib.util
import inspect

import torch

from dsf_search.core.forms.inputs import MixInputs
from dsf_search.core.forms.readout import LinearState, pack_state


def available() -> bool:
    """Whether CUDA and the fla package are both present."""
    return torch.cuda.is_available() and importlib.util.find_spec("fla") is not None


def supports(inp: MixInputs) -> bool:
    """Whether `fla_linear` computes these inputs exactly (see the module docstring)."""
    return (
        inp.q.is_cuda
        and inp.q.dtype in (torch.float32, torch.bfloat16, torch.float16)
        and inp.readout == "linear"
        and inp.transition in ("identity", "scalar", "diagonal")
        and not inp.signed
        and inp.theta is None
        and inp.normalization in ("none", "learned")
        and available()
    )


def fla_linear(
    inp: MixInputs, initial_state: LinearState | None, return_state: bool
) -> tuple[torch.Tensor, LinearState | None]:
    """The linear readout through fla's chunked kernels. Returns y [B, H, T, d_v], state."""
    if not supports(inp):
        raise NotImplementedError(
            f"mix: the fla kernels do not implement transition {inp.transition!r}, normalization "
            f"{inp.normalization!r}, signed={inp.signed} on device {inp.q.device}"
        )
    from fla.ops.gla import chunk_gla
    from fla.ops.simple_gla import chunk_simple_gla

    k = inp.k if inp.b is None else inp.k * inp.b[..., None]
    if inp.transition == "diagonal":
        run, g = chunk_gla, inp.log_gate
    else:
        run = chunk_simple_gla
        g = inp.log_gate if inp.transition == "scalar" else torch.zeros_like(inp.q[..., 0])
    kwargs = {}
    if "head_first" in inspect.signature(run).parameters:
        kwargs["head_first"] = False
    o, state = run(
        q=inp.q.transpose(1, 2),
        k=k.transpose(1, 2),
        v=inp.v.transpose(1, 2),
        g=g.transpose(1, 2),
        scale=inp.scale,
        initial_state=pack_state(inp, initial_state),
        output_final_state=return_state,
        **kwargs,
    )
    y = o.transpose(1, 2)
    if inp.normalization == "learned":
        y = y / inp.eta[..., None]
    return y, (state if return_state else None)
