"""The transition structures A_t as registered options (DESIGN.md section 1, principle P4).

Each `Transition` knows the arguments of `mix` it takes, the forms that compute it, its
eigenvalue set for the mixer's `eigenvalues` and `rotation` axes, whether it can reach
eigenvalue 1, and its state-update cost. `mix` validation, the specs, the mixer, the cost model,
the checks, the grammar and `dsf-search zoo` read these instead of keeping lists of names.
"""

from __future__ import annotations

from dataclasses import dataclass

from dsf_search.core.registry import Option, Registry

LINEAR_FORMS = ("recurrent", "quadratic", "chunked")
EXP_FORMS = ("recurrent", "quadratic")


@dataclass(frozen=True)
class Transition(Option):
    """One structure of A_t.

    gated: has a gate a_t (log_a or a); diagonal: the gate is per channel [B, T, H, n];
    householder: has a factor I - beta_t k_t k_t^T (beta); low_rank: A_t = diag(a_t) - u_t w_t^T.
    rotatable: accepts theta (the gate commutes with pair rotations). forms: the forms of `mix`
    that compute it for a linear readout (exp readouts: recurrent and quadratic, plus sdpa for
    identity). parameters: the tensors of `mix` it takes besides q, k, v, b, eta.
    """

    gated: bool = False
    diagonal: bool = False
    householder: bool = False
    low_rank: bool = False
    rotatable: bool = True
    forms: tuple[str, ...] = LINEAR_FORMS
    parameters: tuple[str, ...] = ()

    def eigenvalue_set(self, eigenvalues: str = "nonnegative", rotation: str = "none") -> str:
        """'real nonnegative' | 'real signed' | 'complex' (with |lambda| <= 1 always), or
        'one' for the identity, for a mixer with these `eigenvalues` / `rotation` axes."""
        if rotation != "none":
            return "complex"
        if not (self.gated or self.householder or self.low_rank):
            return "one"
        return "real signed" if eigenvalues == "signed" else "real nonnegative"

    def reaches_one(self, learned_gate: bool) -> str | None:
        """Why some eigenvalue can reach modulus 1 (None: strictly stable).

        A rotation keeps |lambda| = |a| (it never changes this answer)."""
        if not (self.gated or self.householder):
            return "A_t = I (a rotation alone keeps |lambda| = 1)"
        if self.gated and learned_gate:
            return "the gate a_t can approach 1" + (" (|lambda| <= max_i a_t,i for dplr)" if self.low_rank else "")
        if self.householder and not self.gated:
            return "I - beta_t k_t k_t^T keeps eigenvalue 1 off k_t"
        return None

    def update_flops(self, n: int, cols: int) -> int:
        """FLOPs per head and token of A_t S beyond the injection and the readout, for a state
        [n, cols]: n cols for the gate, 4 n cols for a reflection or a rank-1 erase (a dot
        product with S and a rank-1 update)."""
        return (n * cols if self.gated else 0) + (4 * n * cols if self.householder or self.low_rank else 0)

    def cache_flops(self, n: int, T: int) -> int:
        """FLOPs per head and token of evolving T cached keys (exp readout)."""
        return (T * n if self.gated else 0) + (4 * T * n if self.householder or self.low_rank else 0)


TRANSITIONS: Registry[Transition] = Registry("transition")
for _option in (
    Transition("identity", "A_t = I (attention, linear attention)", forms=LINEAR_FORMS + ("fla",)),
    Transition("scalar", "A_t = a_t I (RetNet, Mamba-2, GLA-scalar, mLSTM)", gated=True,
               forms=LINEAR_FORMS + ("fla",), parameters=("log_a | a",)),
    Transition("diagonal", "A_t = diag(a_t) (Mamba, GLA, HGRN-2, RG-LRU)", gated=True, diagonal=True,
               forms=LINEAR_FORMS + ("fla",), parameters=("log_a | a",)),
    Transition("householder", "A_t = I - beta_t k_t k_t^T (DeltaNet)", householder=True, parameters=("beta",)),
    Transition("householder_scalar", "A_t = (I - beta_t k_t k_t^T) a_t (Gated DeltaNet)", gated=True,
               householder=True, parameters=("log_a | a", "beta")),
    Transition("householder_diagonal", "A_t = (I - beta_t k_t k_t^T) diag(a_t) (KDA)", gated=True, diagonal=True,
               householder=True, parameters=("log_a | a", "beta")),
    Transition("dplr", "A_t = diag(a_t) - u_t w_t^T (RWKV-7, Comba, Gated DeltaNet-2; decoupled erase)",
               gated=True, diagonal=True, low_rank=True, rotatable=False, parameters=("log_a | a", "u", "w")),
):
    TRANSITIONS.register(_option)
