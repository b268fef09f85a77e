"""The functional core op `mix` (DESIGN.md section 3.1): one entry point, several forms.

Per head, y_i = sum_{j<=i} alpha_ij v_j with alpha_ij = phi(s_ij) / eta_i and
s_ij = c q_i^T A_i A_{i-1} ... A_{j+1} b_j k_j, A_t = (I - beta_t k_t k_t^T) diag(a_t) R(theta_t)
(R rotates consecutive state pairs), or A_t = diag(a_t) - u_t w_t^T (transition 'dplr').
With decay_placement 'outside' (scalar gates): alpha_ij = phi(c q_i^T b_j k_j) prod_{t=j+1..i} a_t / eta_i.
"""

from __future__ import annotations

import torch

from dsf_search.core.forms.chunked import chunked_linear
from dsf_search.core.forms.inputs import LOW_PRECISION, MixInputs, prepare
from dsf_search.core.forms.quadratic import coefficients as _coefficients
from dsf_search.core.forms.quadratic import quadratic_exp, quadratic_linear
from dsf_search.core.forms.recurrent import recurrent_exp, recurrent_linear
from dsf_search.core.forms.scan import scan_linear, scan_unsupported
from dsf_search.core.forms.sdpa import sdpa_exp, sdpa_unsupported

FORMS = ("auto", "recurrent", "quadratic", "chunked", "sdpa", "fla", "scan")

# `auto` materializes the quadratic form of an exp readout only while its T x T (x n) tensors
# stay this small.
QUADRATIC_BUDGET_BYTES = 256 * 2**20
# Up to this many steps a linear readout runs the recurrent form (see `choose_form`).
RECURRENT_MAX_T = 3


# The chunk size of the chunked form when none is given: the state size, clamped to this range.
CHUNK_MIN, CHUNK_MAX = 16, 64


def auto_chunk_size(inp: MixInputs) -> int:
    """Chunk size C = clamp(n, 16, 64) for state size n.

    Within a chunk the chunked form builds C x C coefficient blocks (and C x n intra-chunk
    decays); across chunks it carries the n x d_v state. Both costs balance near C = n.
    bench/bench_scan.py (one core, fwd + bwd, B = 32, H = 4, d_v = n; bench/RESULTS.md) at
    T = 256: time at chunk 64 / time at chunk 16 was 3.8 (scalar) and 1.3 (diagonal) at
    n = 16, and 0.8 at n = 64 (chunk 64 faster there); at T = 32 (one chunk) they tie within
    noise.
    """
    return min(CHUNK_MAX, max(CHUNK_MIN, inp.shape[3]))


def choose_form(inp: MixInputs, stateful: bool) -> str:
    """The form `auto` runs for these inputs: the fastest valid one.

    Rules in order (the first that applies):

    | readout | case                                                          | form      |
    |---------|---------------------------------------------------------------|-----------|
    | linear  | T <= 3                                                        | recurrent |
    | linear  | T >= 4, no Householder part, d_v = 1 (per-channel SSMs)       | scan      |
    | linear  | T >= 4 (any other transition, normalization, state)           | chunked   |
    | exp     | initial_state or return_state                                 | recurrent |
    | exp     | transition identity, normalization sum                        | sdpa      |
    | exp     | decay outside, scalar gate, normalization sum (FoX)           | sdpa      |
    | exp     | B*H*T*T (*n for diagonal gates) scores <= 256 MiB             | quadratic |
    | exp     | larger                                                        | recurrent |

    From bench/bench_forms.py (bench/RESULTS.md; 2-core CPU, fwd+bwd, B=1, H=4, n=d_v=64,
    float32): linear readouts, recurrent vs chunked at T=1: 0.7 vs 1.0-1.9 ms, at T=4 within
    10% either way, at T=8: 3.3-6.0 vs 1.5-3.9 ms, at T=4096: 7-41 s vs 27-134 ms. Softmax:
    sdpa vs quadratic 26 vs 58 ms at T=1024, 0.30 vs 1.9 s at T=4096 (decay outside: sdpa
    with an additive log-decay mask, see sdpa.py and bench/bench_forms.py). Exp readouts with a
    transition: quadratic vs recurrent 8 vs 347 ms at T=256. The quadratic form is the only
    O(T^2)-memory form, hence its budget; past it only the recurrent form fits in memory.

    The fla kernels (form 'fla', CUDA + flash-linear-attention) are opt-in: they have not yet
    been checked against the chunked form on a GPU (tests/core/test_auto.py does that where one
    is available), so `auto` does not pick them.
    """
    B, H, T, n, d_v = inp.shape
    if inp.readout == "linear":
        if T <= RECURRENT_MAX_T:
            return "recurrent"
        return "scan" if d_v == 1 and scan_unsupported(inp) is None else "chunked"
    if stateful:
        return "recurrent"
    if sdpa_unsupported(inp) is None:
        return "sdpa"
    per_pair = n if inp.diagonal else 1
    size = B * H * T * T * per_pair * inp.q.element_size()
    return "quadratic" if size <= QUADRATIC_BUDGET_BYTES else "recurrent"


def mix(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    *,
    transition: str = "identity",
    log_a: torch.Tensor | None = None,
    a: torch.Tensor | None = None,
    beta: torch.Tensor | None = None,
    b: torch.Tensor | None = None,
    readout: str = "linear",
    normalization: str = "none",
    eta: torch.Tensor | None = None,
    scale: float | None = None,
    form: str = "auto",
    chunk_size: int | None = None,
    initial_state=None,
    return_state: bool = False,
    theta: torch.Tensor | None = None,
    u: torch.Tensor | None = None,
    w: torch.Tensor | None = None,
    decay_placement: str = "inside",
    log_a_rate: torch.Tensor | None = None,
):
    """Mix values with coefficients from a linear dynamical system.

    Shapes: q, k [B, T, H, n], with size 1 in B, T or H where one query/key is shared ([B, T, 1, n]:
    by all heads, Mamba's B_t and C_t; [1, 1, H, n]: static, S4D's B and C); v [B, T, H, d_v]; returns y [B, T, H, d_v], or (y, state) when
    `return_state`. Gates: `log_a` (log a_t <= 0) or `a` (signed, in [-1, 1]); [B, T, H] for
    scalar transitions, [B, T, H, n] for diagonal ones. beta [B, T, H] for Householder
    transitions (k used as given), b [B, T, H] injection (default 1), eta [B, T, H] positive for
    normalization 'learned', scale the constant c (default 1). chunk_size: the chunked form's
    chunk length (None: `auto_chunk_size`, from the state size).

    Frontier arguments: theta [B, T, H, n // 2] rotation angles of consecutive state pairs
    (A_t gains R(theta_t); with log_a only; a diagonal gate then has one magnitude per pair,
    log_a [B, T, H, n // 2]), for every transition but 'dplr'. u, w [B, T, H, n] for transition
    'dplr' (A_t = diag(a_t) - u_t w_t^T, gates [B, T, H, n]). decay_placement 'outside'
    (transition 'scalar', log_a): the gate products multiply phi(s_ij) after the readout; for a
    linear readout that is the same as 'inside'. log_a_rate [H, n] (transition 'diagonal',
    with log_a [B, T, H]): the factored gate log a_t[h, i] = log_a[b, t, h] log_a_rate[h, i]
    (Mamba's Delta_t A), which the scan form never builds at [B, T, H, n].

    Dtypes: every tensor must share q's dtype and device (else ValueError). float16/bfloat16
    inputs are computed in float32 by every form but 'fla' and returned in their dtype.

    State: linear readouts carry S [B, H, n, d_v] (the pair (S, z [B, H, n]) for sum/maxabs
    normalization); exp readouts carry the cache (keys [B, H, t, n], values [B, H, t, d_v])
    and only the recurrent form takes it (with decay outside, plus log decays [B, H, t]).
    """
    if form not in FORMS:
        raise ValueError(f"mix: unknown form {form!r}; allowed: {', '.join(FORMS)}")
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError(f"mix: chunk_size must be a positive integer or None, got {chunk_size!r}")
    inp = prepare(
        q, k, v, transition=transition, log_a=log_a, a=a, beta=beta, b=b,
        readout=readout, normalization=normalization, eta=eta, scale=scale,
        theta=theta, u=u, w=w, decay_placement=decay_placement, log_a_rate=log_a_rate,
    )
    stateful = initial_state is not None or return_state
    if form == "auto":
        form = choose_form(inp, stateful)
    if form != "scan":
        inp = inp.materialized()
    dtype = inp.q.dtype
    for x in _state_tensors(initial_state):
        if x.dtype != dtype or x.device != inp.q.device:
            raise ValueError(
                f"mix: initial_state must have q's dtype {dtype} and device {inp.q.device}; got {x.dtype} on {x.device}"
            )
    if dtype in LOW_PRECISION and form != "fla":
        inp, initial_state = inp.cast(torch.float32), _cast_state(initial_state, torch.float32)
    y, state = _run(inp, form, initial_state, return_state, chunk_size, stateful)
    y = y.transpose(1, 2).to(dtype)
    if not return_state:
        return y
    return y, _cast_state(state, dtype)


def _state_tensors(state) -> list[torch.Tensor]:
    if state is None:
        return []
    if isinstance(state, torch.Tensor):
        return [state]
    return [x for x in state if isinstance(x, torch.Tensor)]


def _cast_state(state, dtype: torch.dtype):
    """A state (tensor or tuple of tensors) cast to `dtype`."""
    if state is None:
        return None
    if isinstance(state, torch.Tensor):
        return state.to(dtype)
    return type(state)(_cast_state(x, dtype) for x in state)


def _run(inp: MixInputs, form: str, initial_state, return_state: bool, chunk_size: int, stateful: bool):
    """Run one form on validated inputs: y [B, H, T, d_v] and the state (or None)."""
    if form == "recurrent":
        run = recurrent_linear if inp.readout == "linear" else recurrent_exp
        y, state = run(inp, initial_state, return_state)
    elif form == "fla":
        from dsf_search.core.forms.fla import fla_linear

        y, state = fla_linear(inp, initial_state, return_state)
    elif form == "scan":
        reason = scan_unsupported(inp)
        if reason is not None:
            raise NotImplementedError(f"mix: form 'scan' does not implement {reason}")
        y, state = scan_linear(inp, initial_state, return_state)
    elif form == "chunked":
        if inp.readout != "linear":
            raise NotImplementedError(
                f"mix: form 'chunked' needs readout 'linear', not {inp.readout!r}; use 'sdpa' "
                "(identity transition, sum normalization), 'quadratic' or 'recurrent'"
            )
        y, state = chunked_linear(inp, initial_state, return_state, chunk_size or auto_chunk_size(inp))
    elif form == "sdpa":
        reason = sdpa_unsupported(inp)
        if reason is None and stateful:
            reason = "initial_state/return_state (it keeps no state; use form 'recurrent')"
        if reason is not None:
            raise NotImplementedError(f"mix: form 'sdpa' does not implement {reason}")
        y, state = sdpa_exp(inp), None
    elif inp.readout == "linear":
        y, state = quadratic_linear(inp, initial_state, return_state)
    else:
        if stateful:
            raise NotImplementedError(
                "mix: form 'quadratic' with readout 'exp' keeps no state; use form 'recurrent' "
                "for initial_state/return_state with an exp readout"
            )
        y, state = quadratic_exp(inp), None
    return y, state


def coefficients(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    *,
    transition: str = "identity",
    log_a: torch.Tensor | None = None,
    a: torch.Tensor | None = None,
    beta: torch.Tensor | None = None,
    b: torch.Tensor | None = None,
    readout: str = "linear",
    normalization: str = "none",
    eta: torch.Tensor | None = None,
    scale: float | None = None,
    theta: torch.Tensor | None = None,
    u: torch.Tensor | None = None,
    w: torch.Tensor | None = None,
    decay_placement: str = "inside",
    log_a_rate: torch.Tensor | None = None,
) -> torch.Tensor:
    """The mixing coefficients alpha_ij of `mix` with the same arguments: [B, H, T, T].

    Row i holds the weight of v_j (j <= i) in y_i; entries above the diagonal are zero.
    """
    inp = prepare(
        q, k, v, transition=transition, log_a=log_a, a=a, beta=beta, b=b,
        readout=readout, normalization=normalization, eta=eta, scale=scale,
        theta=theta, u=u, w=w, decay_placement=decay_placement, log_a_rate=log_a_rate,
    ).materialized()
    dtype = inp.q.dtype
    if dtype in LOW_PRECISION:
        inp = inp.cast(torch.float32)
    return _coefficients(inp).to(dtype)
