"""The input and output wiring of a mixer (the `wiring` axis): one registered object per choice.

The mixing op only sees q, k, v and the gates; how a layer forms them from its input u
[B, T, d_model] is where the published layers differ (Mamba-2/fla vs Mamba-1 vs Griffin). A
`Wiring` states every such choice:

* `qk`: q and k come from the input projection with v ("in_proj": one projection of u into
  q | k | v, through the short conv), are linear maps of the convolved value branch
  ("x_proj": Mamba-1's B_t and C_t, Griffin's input gate), or block-diagonal maps in blocks of
  4 channels ("headwise", xLSTM's mLSTM layer: q, k of the convolved branch, v of the branch
  before the conv). The short conv is applied to what in_proj makes: q | k | v, or the
  branch x alone.
* `conv_act`: whether SiLU follows the short conv (Mamba, fla: yes; Griffin: no).
* `gate_source`: what the per-token gates (a_t, Delta_t, beta_t, b_t, eta_t) read: the raw
  input u_t ("input"), the convolved value branch x_t ("branch", Mamba-1, Griffin), or the
  concatenation q_t | k_t | v_t of the projections ("qkv", xLSTM).
* `delta_rank`: Delta_t = softplus(W x_t + b) at full rank, or "low" through Mamba's
  bottleneck: dt_t = W_x x_t (rank R = ceil(d_model / 16), part of x_proj), then
  Delta_t = softplus(W_dt dt_t + b).
* `bias`: whether in_proj, x_proj, the output gate projection and out_proj carry biases.
* `gate_before_norm` / `norm_width`: with an output norm and an output gate, norm(y) o act(z)
  (False) or norm(y o act(z)) (True, Mamba-2's gated RMSNorm); the norm over each head's d_v
  ("head") or over the whole width H d_v ("full", Mamba-2 with one group).
* `norm`: the output norm is an RMS norm ("rms") or a mean-centred layer norm ("layer", xLSTM's
  per-head LayerNorm, weight only).
* `skip_source`: the skip D adds D_h v_t per head before the norm ("value", Mamba) or
  D_c x_t per channel of the convolved branch after the norm ("branch", xLSTM's learnable skip).
* `reset_first`: the injection of the sequence's first token is 1 (Griffin: at a document
  start the RG-LRU takes x_0 unscaled instead of sqrt(1 - a_0^2) x_0).

"fused" is the wiring every search used before this axis existed; a spec at "fused" keeps
its content hash (the axis is left out of the canonical form at its default).
"""

from __future__ import annotations

from dataclasses import dataclass

from dsf_search.core.registry import Option, Registry

QK_SOURCES = ("in_proj", "x_proj", "headwise")
GATE_SOURCES = ("input", "branch", "qkv")
DELTA_RANKS = ("full", "low")
NORM_WIDTHS = ("head", "full")
NORMS = ("rms", "layer")
SKIP_SOURCES = ("value", "branch")
HEADWISE_BLOCK = 4  # xLSTM's qkv_proj_blocksize


@dataclass(frozen=True)
class Wiring(Option):
    qk: str = "in_proj"
    conv_act: bool = True
    gate_source: str = "input"
    delta_rank: str = "full"
    bias: bool = False
    gate_before_norm: bool = False
    norm_width: str = "head"
    norm: str = "rms"
    skip_source: str = "value"
    reset_first: bool = False

    def __post_init__(self) -> None:
        for name, allowed in (("qk", QK_SOURCES), ("gate_source", GATE_SOURCES), ("delta_rank", DELTA_RANKS),
                              ("norm_width", NORM_WIDTHS), ("norm", NORMS), ("skip_source", SKIP_SOURCES)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"wiring {self.name!r}: {name} must be one of {', '.join(allowed)}")

    @staticmethod
    def delta_features(d_model: int) -> int:
        """Rank R of the low-rank Delta projection (Mamba's dt_rank = ceil(d_model / 16))."""
        return -(-d_model // 16)


WIRINGS: Registry[Wiring] = Registry("wiring")
DEFAULT_WIRING = "fused"
WIRINGS.register(Wiring(
    "fused", "one projection u -> q|k|v, short conv + SiLU on all of it, gates from u; norm per head, then gate "
             "(Mamba-2/fla's input path)"))
WIRINGS.register(Wiring(
    "mamba", "Mamba-1 (mamba_simple): u -> x (conv + SiLU); x_proj(x) -> low-rank dt | B | C; Delta = "
             "softplus(dt_proj(dt)); gates from x", qk="x_proj", gate_source="branch", delta_rank="low"))
WIRINGS.register(Wiring(
    "ssd", "Mamba-2 block: u -> x|B|C (conv + SiLU) and dt from u; y o silu(z), then RMS norm over the full width",
    gate_before_norm=True, norm_width="full"))
WIRINGS.register(Wiring(
    "griffin", "Griffin recurrent block: u -> x (conv, no SiLU, biased projections); gates and input gate from x; "
               "the first token enters unscaled", qk="x_proj", conv_act=False, gate_source="branch", bias=True,
    reset_first=True))
WIRINGS.register(Wiring(
    "fused_full_norm", "the fused input path with the output RMS norm over the full width H d_v (fla's HGRN-2)",
    norm_width="full"))
WIRINGS.register(Wiring(
    "xlstm", "xLSTM mLSTM layer: u -> x (conv + SiLU); q, k block-diagonal maps of the convolved x, v of x; "
             "gates from q|k|v; per-head LayerNorm, then + D o conv(x), then o silu(z)", qk="headwise",
    gate_source="qkv", norm="layer", skip_source="branch"))
