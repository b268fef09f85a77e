"""Design-principle checks: what the coefficient-dynamics principles P1-P6 say about a spec.

`check(spec, length)` reads the spec only (no model is built) and returns `Finding`s. A finding
at level "error" makes the candidate infeasible before any training; a "warning" is recorded
with the trial. A search space may promote codes to errors or ignore them (`errors`, `ignore`).

Stability (P6). No spec the core accepts has |eigenvalue| > 1: every gate parametrization
gives a_t in [0, 1] (signed: 2 a_t - 1 in [-1, 1]), beta_t lies in [0, 1] (signed: [0, 2]) and
k_t is unit-norm for Householder transitions, so ||A_t|| <= 1 by construction. What can still
blow up is the coefficient mass sum_j |alpha_ij|:
* exp readout without normalization: exp(s) > 0 for every past token, and exp(s) -> 1 (not 0)
  as A_t forgets, so the mass grows like T whatever A_t is. Error from `LONG_CONTEXT` on.
* linear readout with a transition that can reach eigenvalue 1 (A_t = I; a learned gate, which
  can approach 1; a Householder part, which keeps eigenvalue 1 off k_t) and nothing that keeps
  the output O(1): no eta_i, no output norm, and an injection not tied to the gate. Warning.
  Injections tied to the gate (1 - a_t, sqrt(1 - a_t^2), Mamba's Delta_t with its own decay,
  the delta rule's beta_t, HGRN-2's k_t = 1 - a_t) vanish as a_t -> 1, so they need no eta_i.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace

from dsf_search.core.mix_options import GATED, HOUSEHOLDER
from dsf_search.core.gates import GATES
from dsf_search.core.injections import INJECTIONS
from dsf_search.core.spec import MixerSpec, ModelSpec
from dsf_search.core.transitions import TRANSITIONS

CODES = ("P1", "P2", "P3", "P4", "P5", "P6")
LEVELS = ("error", "warning")

# From this context length on, an unnormalized exp readout is an error: its output grows like T,
# and three orders of magnitude past the unit scale the network was initialized for is past
# what the following norms and residual stream absorb in practice.
LONG_CONTEXT = 1024
# P2: a state this large has enough directions to keep most keys near-orthogonal to a query,
# which is the only way a linear readout can give a past token a zero coefficient.
LARGE_STATE = 64
# P5: from this state size on, an unscaled q^T k (std ~ sqrt(n)) is off the unit scale by >= 5.6x.
P5_STATE = 32


@dataclass(frozen=True)
class Finding:
    """One principle a spec violates: code P1-P6, level, layer index (None: the whole model)."""

    code: str
    level: str
    layer: int | None
    reason: str

    def __str__(self) -> str:
        where = "model" if self.layer is None else f"layer {self.layer}"
        return f"{self.code} {self.level} ({where}): {self.reason}"


def _has_learned_gate(m: MixerSpec) -> bool:
    return m.transition in GATED and GATES[m.gate].learned


def _selective(m: MixerSpec) -> bool:
    """Whether some input-dependent gate can switch a token's contribution off."""
    if not m.selective:
        return False
    return _has_learned_gate(m) or m.transition in HOUSEHOLDER or INJECTIONS[m.injection].reads_input


def _eigenvalue_one(m: MixerSpec) -> str | None:
    """Why A_t can reach eigenvalue 1, or None when it is strictly stable."""
    # the fixed (RetNet) decays are < 1; a rotation keeps |lambda| = |a| (transitions.py)
    why = TRANSITIONS[m.transition].reaches_one(_has_learned_gate(m))
    return why if why is None or not _has_learned_gate(m) else why.replace("the gate", f"the {m.gate} gate")


def _gate_tied(m: MixerSpec) -> bool:
    """Whether b_t (or k_t) vanishes as a_t -> 1, bounding the state without eta_i."""
    if INJECTIONS[m.injection].gate_tied or m.key == "gate":
        return True
    # b_t = Delta_t (split over two taps or not) with the mamba gate a_t = exp(-Delta_t A)
    return INJECTIONS[m.injection].reads_delta and m.transition in GATED and GATES[m.gate].owns_delta


def _layer_findings(spec: ModelSpec, i: int, length: int, position_before: bool) -> list[Finding]:
    m = spec.layers[i]
    out: list[Finding] = []

    def add(code: str, level: str, reason: str) -> None:
        out.append(Finding(code, level, i, reason))

    if m.readout != "linear":
        cache = length * m.heads * (m.state_size + m.head_dim)
        add("P1", "warning", f"{m.readout} readout has no finite state: every past key is kept "
                             f"(the cache grows with T; at T={length} it holds {cache} numbers)")
    elif not (_selective(m) or m.qk_norm or m.state_size >= LARGE_STATE):
        add("P2", "warning", f"linear readout without an input-dependent gate, normalized q/k or a large state "
                             f"(n = {m.state_size} < {LARGE_STATE}): selectivity is limited by the readout's zero set")
    if m.transition == "identity" and m.rotation == "none" and spec.positional == "none" and not position_before \
            and m.conv_size == 0:
        add("P3", "warning", "A_t = I injects no position and nothing before this layer does "
                             "(no positional encoding, no earlier non-identity transition or convolution)")
    if m.transition in HOUSEHOLDER and m.state_size == 1:
        add("P4", "warning", "a Householder transition at state size 1 is the scalar 1 - beta_t: "
                             "a scalar transition gives the same dynamics for less")
    if m.transition in HOUSEHOLDER and m.readout != "linear":
        add("P4", "warning", f"{m.readout} readout with a Householder transition must re-evolve every cached key "
                             "at every step (O(T n) per token): the richest transition at the highest price")
    if m.state_size >= P5_STATE and m.injection != "inv_sqrt_n" and m.scale == "one" \
            and not m.qk_norm and m.transition not in HOUSEHOLDER:
        add("P5", "warning", f"injection not scaled with the state size (n = {m.state_size}): q^T k grows like sqrt(n); "
                             "use injection or scale inv_sqrt_n, or qk_norm")
    if m.readout != "linear":
        if m.normalization == "none":
            add("P6", "error" if length >= LONG_CONTEXT else "warning",
                f"{m.readout} readout without normalization: every coefficient stays > 0 (-> 1 as A_t forgets), "
                f"so the output grows like T (T={length})")
    else:
        why = _eigenvalue_one(m)
        if why and m.normalization == "none" and not m.output_norm and not _gate_tied(m):
            add("P6", "warning", f"marginally stable ({why}) without a normalizer (no eta_i, no output norm, "
                                 "injection not tied to the gate): the output can grow with T")
    return out


def check(spec: ModelSpec, length: int = 2048, errors: Collection[str] = (),
          ignore: Collection[str] = ()) -> list[Finding]:
    """Findings of the design principles for `spec` at context length `length`.

    Codes in `errors` are raised to level "error"; codes in `ignore` are dropped.
    """
    if length <= 0:
        raise ValueError(f"check: length must be >= 1, got {length}")
    for code in (*errors, *ignore):
        if code not in CODES:
            raise ValueError(f"check: unknown principle {code!r}; codes: {', '.join(CODES)}")
    findings: list[Finding] = []
    position_before = spec.positional != "none"
    for i, layer in enumerate(spec.layers):
        findings += _layer_findings(spec, i, length, position_before)
        # a decaying/rotating transition or a causal conv makes this layer's output position-aware
        position_before = position_before or layer.transition != "identity" or layer.rotation != "none" \
            or layer.conv_size > 0
    out = []
    for f in findings:
        if f.code in ignore:
            continue
        out.append(replace(f, level="error") if f.code in errors else f)
    return out


def errors_of(findings: list[Finding]) -> list[Finding]:
    """The findings that make a candidate infeasible."""
    return [f for f in findings if f.level == "error"]
