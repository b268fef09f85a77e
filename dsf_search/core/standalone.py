"""A ModelSpec written out as one standalone, readable PyTorch file (imports only torch).

`standalone_source(spec)` generates the code of the model the spec builds, specialized to the
chosen axes: each distinct mixer becomes a class whose docstring states its update rule and
whose code computes only what its axes ask for (no option switches left at run time). The
module and parameter names are those of `SequenceModel`, so a dsf-search state_dict loads into
it as it is. The file has one forward path for a chunk of tokens (the per-token quantities for
the whole chunk, then the recurrence, step by step: the definition of the mixing op, the same
as dsf-search's "recurrent" form) and the decode path (`step`: one token with the carried
state). Linear readouts carry the matrix state S (and the normalizer state z for sum/maxabs);
exp readouts carry the cache of evolved keys and values (and their log decays when the decay
acts outside the readout). Every input wiring (core/wiring.py) and frontier axis (rotations,
dplr, several Householder factors per token, decay placement) is written out.

Axes this generator does not know (added to the specs later) raise `Unsupported` naming them,
rather than exporting a different model.
"""

from __future__ import annotations

import dataclasses
import math
import pprint
from typing import Any

from dsf_search.core.forms.inputs import SUM_EPS
from dsf_search.core.mix_options import DIAGONAL, GATED, HOUSEHOLDER
from dsf_search.core.gates import GLA_TAU, RGLRU_C
from dsf_search.core.injections import EXP_GATE_CAP
from dsf_search.core.mixer import LAYER_NORM_EPS, RMS_EPS
from dsf_search.core.widths import gate_shape as mixer_gate_shape
from dsf_search.core.widths import mlp_hidden, projection_widths, swiglu_hidden
from dsf_search.core.spec import MixerSpec, ModelSpec
from dsf_search.core.wiring import HEADWISE_BLOCK, WIRINGS

# The values of each axis this generator writes code for; an axis missing here must sit at its default.
MIXER_AXES: dict[str, tuple[Any, ...] | None] = {
    "transition": ("identity", "scalar", "diagonal", "householder", "householder_scalar", "householder_diagonal", "dplr"),
    "eigenvalues": ("nonnegative", "signed"),
    "readout": ("linear", "exp"),
    "normalization": ("none", "sum", "maxabs", "learned"),
    "heads": None, "state_size": None, "head_dim": None,
    "query": ("input", "static", "ones"),
    "key": ("input", "static", "ones", "gate"),
    "qk_shared": None,
    "feature_map": ("identity", "elu1", "relu", "silu", "sigmoid"),
    "qk_norm": None, "conv_size": None,
    "gate": ("mamba", "gla", "sigmoid", "fixed", "rglru", "reversed_sigmoid", "kda"),
    "selective": None,
    "injection": ("one", "inv_sqrt_n", "sigmoid", "delta", "one_minus_a", "sqrt_one_minus_a2", "exp", "exp_clamped", "beta", "sigmoid_value",
                  "trapezoidal"),
    "eta": ("exp", "softplus", "sigmoid"),
    "scale": ("one", "inv_sqrt_n"),
    "output_gate": ("none", "silu", "sigmoid", "gelu", "gelu_tanh"),
    "output_norm": None, "skip": None, "wiring": None,
    "rotation": ("none", "learned"), "decay_placement": ("inside", "outside"), "householder_factors": None,
    "low_rank": ("symmetric", "rwkv7", "comba", "gated_deltanet2"),
}
MODEL_AXES: dict[str, tuple[Any, ...] | None] = {
    "vocab_size": None, "d_model": None, "layers": None, "channel_mixer": ("none", "mlp", "swiglu"),
    "mlp_ratio": None, "norm": ("rmsnorm", "layernorm"), "positional": ("none", "learned", "rope"),
    "max_len": None, "tie_embeddings": None,
}

FEATURE_MAPS = {"identity": "{x}", "elu1": "F.elu({x}) + 1.0", "relu": "F.relu({x})", "silu": "F.silu({x})",
                "sigmoid": "torch.sigmoid({x})"}
ACTIVATIONS = {"silu": "F.silu({x})", "sigmoid": "torch.sigmoid({x})", "gelu": "F.gelu({x})",
               "gelu_tanh": "F.gelu({x}, approximate=\"tanh\")"}


class Unsupported(ValueError):
    """The spec uses an axis value the generator cannot write out."""


def check_supported(spec: ModelSpec) -> None:
    """Raise Unsupported naming the first axis (and layer) the generator does not know."""
    def check(obj: Any, table: dict[str, tuple[Any, ...] | None], owner: str) -> None:
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if f.name not in table:
                default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
                if value != default:
                    raise Unsupported(f"{owner}.{f.name} = {value!r}: `export` does not write this axis out yet")
            elif table[f.name] is not None and value not in table[f.name]:
                raise Unsupported(f"{owner}.{f.name} = {value!r}: `export` does not write this value out yet")

    check(spec, MODEL_AXES, "model")
    for i, layer in enumerate(spec.layers):
        check(layer, MIXER_AXES, f"model.layers.{i}")


def _lit(x: float) -> str:
    return repr(float(x))


class _Code:
    """Lines of Python at an indentation level."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, indent: int, *lines: str) -> None:
        self.lines.extend(("    " * indent + line) if line else "" for line in lines)


def _rule(spec: MixerSpec) -> list[str]:
    """The update rule of a mixer in words and formulas (its class docstring)."""
    tr, signed = spec.transition, spec.eigenvalues == "signed" and spec.transition not in ("identity", "dplr")
    n = spec.state_size
    gate_part = {"scalar": "a_t", "diagonal": "diag(a_t)", "householder_scalar": "a_t",
                 "householder_diagonal": "diag(a_t)"}.get(tr)
    if tr == "identity":
        A = "I"
    elif tr == "dplr":
        A = "diag(a_t) - u_t w_t^T"
        low_rank = {
            "symmetric": ["  with u_t = beta_t sqrt(a_t) o p_t, w_t = sqrt(a_t) o |k_t| o sign(p_t) (p_t, k_t unit vectors, p_t the",
                          f"  erase direction): real eigenvalues in [-max a, max a], beta_t in "
                          f"{'[0, 2]' if spec.eigenvalues == 'signed' else '[0, 1]'}."],
            "rwkv7": ["  RWKV-7: u_t = alpha_t o kappa_t, w_t = kappa_t, kappa_t = unit(k_t o xi), alpha_t = sigmoid(.) per channel,",
                      "  and the write key k_t o (1 + (alpha_t - 1) o c) (xi, c learned per channel)."],
            "comba": ["  Comba: u_t = beta_t k_t, w_t = a_t o sigmoid(d) k_t (k_t unit, d learned per head), beta_t in "
                      f"{'[0, 2]' if spec.eigenvalues == 'signed' else '[0, 1]'}."],
            "gated_deltanet2": ["  Gated DeltaNet-2: u_t = k_t, w_t = a_t o e_t o k_t (k_t unit), e_t = sigmoid(.) per key channel in "
                                f"{'[0, 2]' if spec.eigenvalues == 'signed' else '[0, 1]'} (the erase gate)."],
        }[spec.low_rank]
    elif tr == "householder":
        A = "(I - beta_t k_t k_t^T)"
    elif tr in HOUSEHOLDER:
        A = f"(I - beta_t k_t k_t^T) {gate_part}"
    else:
        A = f"{gate_part}" + (" I" if tr == "scalar" else "")
    if spec.rotation == "learned":
        A = ("" if A == "I" else A + " ") + "R(theta_t)"
    c = f"1/sqrt({n})" if spec.scale == "inv_sqrt_n" else "1"
    lines = []
    if spec.readout == "linear":
        lines += ["Linear readout: a finite matrix state per head, S_t in R^{n x d_v}:",
                  f"    S_t = A_t S_(t-1) + b_t k_t v_t^T,    A_t = {A}",
                  "    y_t = c S_t^T q_t / eta_t"]
        if spec.normalization in ("sum", "maxabs"):
            lines += ["  with the normalizer state z_t = A_t z_(t-1) + b_t k_t (so sum_j alpha-scores = c q_t^T z_t):",
                      "    eta_t = c q_t^T z_t + 1e-6" if spec.normalization == "sum"
                      else "    eta_t = max(|c q_t^T z_t|, 1)"]
    else:
        lines += ["Exp readout: no finite state; every impulse response x^(j) = (A_t ... A_(j+1)) b_j k_j is kept",
                  f"and evolved (a cache of keys), A_t = {A}:",
                  "    y_t = sum_(j<=t) exp(c q_t^T x^(j)_t) v_j / eta_t"]
        if spec.normalization == "sum":
            lines.append("    eta_t = sum_(j<=t) exp(c q_t^T x^(j)_t) + 1e-6  (softmax when A_t = I)")
        elif spec.normalization == "maxabs":
            lines.append("    eta_t = max(sum_(j<=t) exp(c q_t^T x^(j)_t), 1)")
    if tr == "dplr":
        lines += low_rank
    if spec.injection == "sigmoid_value":
        lines.append("  b_t = sigmoid(.) per value channel: the injection is k_t (b_t o v_t)^T (the gate scales v).")
    if spec.injection == "trapezoidal":
        lines += ["  Two taps (Mamba-3's exponential-trapezoidal step): before A_t the previous token's k_(t-1) v_(t-1)^T",
                  "  is written again, S_t = A_t (S_(t-1) + b'_t k_(t-1) v_(t-1)^T) + b_t k_t v_t^T,",
                  "  b'_t = (1 - lambda_t) Delta_t, b_t = lambda_t Delta_t, lambda_t = sigmoid(.) per head."]
    if spec.rotation == "learned":
        lines.append("  R(theta_t) rotates each state pair (x_2p, x_2p+1) by theta_t,p: complex eigenvalues a e^(+-i theta).")
    if spec.decay_placement == "outside" and spec.transition == "scalar":
        lines.append("  Decay outside the readout: the keys are not decayed; each score gains log prod_(t=j+1..i) a_t"
                     + (" (the same recurrence for a linear readout)." if spec.readout == "linear" else "."))
    m = spec.householder_factors
    if m > 1:
        lines += [f"  {m} Householder factors per token (DeltaProduct): after A_t (the first factor, with k_t, beta_t, v_t),",
                  f"  for j = 2..{m}: S <- (I - beta_t,j k_t,j k_t,j^T) S + b_t,j k_t,j v_t,j^T"
                  + (" (and z likewise)" if spec.normalization in ("sum", "maxabs") else "")
                  + ("; b_t,j = beta_t,j" if spec.injection == "beta" else "; b_t,j = b_t")
                  + "; then the readout."]
    if spec.normalization == "none":
        lines.append("    eta_t = 1")
    elif spec.normalization == "learned":
        lines.append(f"    eta_t = {spec.eta}(w^T u_t + c_eta) per head (learned normalizer)")
    lines.append(f"  c = {c}; eigenvalues {'signed (a_t in [-1, 1], beta_t in [0, 2])' if signed else 'nonnegative'}.")
    return lines


def _axes_text(spec: MixerSpec) -> list[str]:
    canon = spec.canonical()
    items = [f"{k}={v}" for k, v in canon.items()]
    out, line = [], "Chosen axes:"
    for item in items:
        if len(line) + len(item) + 2 > 96:
            out.append(line)
            line = "   "
        line += " " + item + ","
    out.append(line.rstrip(","))
    return out


def _mixer_class(name: str, spec: MixerSpec, d_model: int, rope: bool) -> list[str]:
    H, n, dv = spec.heads, spec.state_size, spec.head_dim
    Hq = 1 if spec.qk_shared else H
    wiring = WIRINGS[spec.wiring]
    in_parts, x_parts = projection_widths(spec, d_model)
    shape = mixer_gate_shape(spec, d_model)
    d_in, d_delta = shape.d_in, shape.d_delta
    headwise = wiring.qk == "headwise"
    gated, diagonal, householder = spec.transition in GATED, spec.transition in DIAGONAL, spec.transition in HOUSEHOLDER
    # dplr keeps nonnegative gates; its signed eigenvalues come from the erase beta
    signed = spec.eigenvalues == "signed" and spec.transition not in ("identity", "dplr")
    dplr = spec.transition == "dplr"
    factors = [(f"k{j}", f"v{j}") for j in range(2, spec.householder_factors + 1)]  # DeltaProduct's further factors
    linear = spec.readout == "linear"
    znorm = linear and spec.normalization in ("sum", "maxabs")
    rotation = spec.rotation == "learned"
    # decay outside the readout (FoX): the exp scores gain log prod a, the cached keys are not decayed
    outside = spec.decay_placement == "outside" and spec.transition == "scalar" and spec.readout == "exp"
    gate_shape = str(shape.shape)  # (H,), (H, n), or (H, n // 2) with one magnitude per rotated pair
    widths = in_parts
    total = sum(w for _, w in widths)
    selective = spec.selective
    code = _Code()
    code.add(0, f"class {name}(nn.Module):")
    code.add(1, '"""Token mixer: ' + f"H={H} heads, state size n={n}, value width d_v={dv}, input width {d_model}.", "")
    code.add(1, *_axes_text(spec), "")
    code.add(1, *_rule(spec))
    code.add(1, f"Input wiring {wiring.name!r}: {wiring.doc}.")
    code.add(1, "", "forward(u [B, T, d_model], state) -> (y [B, T, d_model], state); state None starts a sequence.",
             '"""', "")
    code.add(1, "def __init__(self):")
    code.add(2, "super().__init__()")
    body = 2
    code.add(body, f"# in_proj produces [{' | '.join(f'{k} ({w})' for k, w in widths)}]",
             f"self.in_proj = nn.Linear({d_model}, {total}, bias={wiring.bias})")
    if spec.conv_size > 0:
        code.add(body, f"# short causal depthwise convolution over time on in_proj's output (kernel {spec.conv_size})"
                       + (", then SiLU" if wiring.conv_act else ", no activation"),
                 f"self.conv = nn.Conv1d({total}, {total}, {spec.conv_size}, groups={total}, bias=True)")
    if x_parts:
        code.add(body, f"# x_proj maps the gate source ({d_in}) to [{' | '.join(f'{k} ({w})' for k, w in x_parts)}]",
                 f"self.x_proj = nn.Linear({d_in}, {sum(w for _, w in x_parts)}, bias={wiring.bias})")
    if headwise:
        code.add(body, f"# q, k from the convolved branch, v from the branch before the conv: block-diagonal maps "
                       f"({HEADWISE_BLOCK} x {HEADWISE_BLOCK} blocks)",
                 *(f"self.{name}_proj = HeadwiseLinear({H * dv}, {HEADWISE_BLOCK})" for name in "qkv"))
    if spec.query == "static":
        code.add(body, f"self.q_static = nn.Parameter(torch.randn({Hq}, {n}) / {_lit(math.sqrt(n))})")
    if spec.key == "static":
        code.add(body, f"self.k_static = nn.Parameter(torch.randn({Hq}, {n}) / {_lit(math.sqrt(n))})")
    sel = "True" if selective else "False"
    if gated:
        if spec.gate == "mamba":
            code.add(body, f"self.dt = Gate({d_delta}, ({H},), selective={sel})  # Delta_t = softplus(.)",
                     f"self.A_log = nn.Parameter(torch.zeros({H}{', ' + str(shape.state_size) if diagonal else ''}))  # A = exp(A_log) > 0")
        elif spec.gate == "fixed":
            code.add(body, f"# RetNet's fixed per-head decays gamma_h = 1 - 2^(-5 - h)",
                     f"self.register_buffer(\"log_decay\", torch.log(1.0 - 2.0 ** (-5.0 - torch.arange({H}, dtype=torch.float32))))")
        else:
            code.add(body, f"self.a_in = Gate({d_in}, {gate_shape}, selective={sel})  # pre-activation of a_t")
            if spec.gate == "kda":
                code.add(body, f"self.A_log = nn.Parameter(torch.zeros({H}))  # per-head rate exp(A_log)")
            if spec.gate == "reversed_sigmoid":
                code.add(body, "self.forget_exponent = nn.Parameter(torch.ones(()))  # alpha of sigma(-x)^relu(alpha)")
            if spec.gate == "rglru":
                code.add(body, f"self.lam = nn.Parameter(torch.zeros{gate_shape})  # Lambda of a = sigma(Lambda)^(c r_t)")
    if householder:
        code.add(body, f"self.beta_in = Gate({d_in}, ({H},), selective={sel})  # pre-activation of beta_t")
    if spec.injection in ("sigmoid", "exp", "exp_clamped"):
        code.add(body, f"self.b_in = Gate({d_in}, ({H},), selective={sel})  # pre-activation of b_t")
    if spec.injection == "sigmoid_value":
        code.add(body, f"self.b_in = Gate({d_in}, ({H}, {dv}), selective={sel})  # pre-activation of the write gate")
    if spec.injection in ("delta", "trapezoidal") and not (gated and spec.gate == "mamba"):
        code.add(body, f"self.dt = Gate({d_delta}, ({H},), selective={sel})  # Delta_t = softplus(.)")
    if spec.injection == "trapezoidal":
        code.add(body, f"self.lam_in = Gate({d_in}, ({H},), selective={sel})  # lambda_t of the trapezoidal step")
    if rotation or dplr or factors:
        code.add(body, "self.frontier = nn.Module()  # the frontier inputs, under dsf-search's parameter names")
    if rotation:
        code.add(body, f"self.frontier.theta_in = Gate({d_in}, ({H}, {n // 2}), selective={sel})  # angles theta_t of the state pairs")
    if factors:
        code.add(body, f"self.frontier.factor_beta_in = Gate({d_in}, ({len(factors)}, {H}), selective={sel})  "
                       "# pre-activations of the factors' beta_t,j")
    if dplr and spec.low_rank == "gated_deltanet2":
        code.add(body, f"self.frontier.erase_beta_in = Gate({d_in}, ({H}, {n}), selective={sel})  # pre-activation of e_t")
    elif dplr and spec.low_rank == "rwkv7":
        code.add(body, f"self.frontier.erase_beta_in = Gate({d_in}, ({H}, {n}), selective={sel})  # pre-activation of alpha_t",
                 f"self.frontier.removal_scale = nn.Parameter(torch.ones({H}, {n}))  # xi",
                 f"self.frontier.key_mix = nn.Parameter(torch.ones({H}, {n}))  # c")
    elif dplr:
        code.add(body, f"self.frontier.erase_beta_in = Gate({d_in}, ({H},), selective={sel})  # pre-activation of beta_t")
        if spec.low_rank == "comba":
            code.add(body, f"self.frontier.erase_scale = nn.Parameter(torch.ones({H}))  # d")
    if spec.normalization == "learned":
        code.add(body, f"self.eta_in = Gate({d_in}, ({H},), selective={sel})  # pre-activation of eta_t")
    if spec.skip:
        if wiring.skip_source == "value":
            code.add(body, f"self.D = nn.Parameter(torch.ones({H}))  # skip D_h v_t per head")
        else:
            code.add(body, f"self.D = nn.Parameter(torch.ones({H * dv}))  # skip D o x_t per channel of the convolved branch")
    if spec.output_norm:
        code.add(body, f"self.out_norm_weight = nn.Parameter(torch.ones({H}, {dv}))  # per-head RMS norm of y")
    if spec.output_gate != "none":
        code.add(body, f"self.gate_proj = nn.Linear({d_model}, {H * dv}, bias={wiring.bias})  # output gate")
    code.add(body, f"self.out_proj = nn.Linear({H * dv}, {d_model}, bias={wiring.bias})", "")

    # --- the per-token quantities --------------------------------------------------------------
    code.add(1, "def inputs(self, u, state):")
    code.add(2, '"""q, k [B, T, H, n], v [B, T, H, d_v] and the gates of the update, for the whole chunk u."""',
             "B, T, _ = u.shape", "x = pre = self.in_proj(u)" if headwise else "x = self.in_proj(u)")
    if spec.conv_size > 0:
        K = spec.conv_size
        code.add(2, f"past = x.new_zeros(B, {total}, {K - 1}) if state is None else state[\"conv\"]",
                 "full = torch.cat([past, x.transpose(1, 2)], dim=-1)",
                 "x = F.silu(self.conv(full)).transpose(1, 2)" if wiring.conv_act else "x = self.conv(full).transpose(1, 2)",
                 f"conv = full[..., full.shape[-1] - {K - 1}:]  # the last {K - 1} inputs, for the next chunk")
    else:
        code.add(2, "conv = None")
    names = ", ".join(k for k, _ in widths)
    if not headwise and len(widths) == 1:
        code.add(2, "v = x")
    elif not headwise:
        code.add(2, f"{names} = x.split([{', '.join(str(w) for _, w in widths)}], dim=-1)")
    else:
        code.add(2, "branch = x  # the convolved branch (the skip's input)",
                 "q, k, v = self.q_proj(x), self.k_proj(x), self.v_proj(pre)")
    code.add(2, {"input": "g = u  # the gates read the input",
                 "branch": "g = v  # the gates read the convolved value branch",
                 "qkv": "g = torch.cat([q, k, v], dim=-1)  # the gates read q | k | v"}[wiring.gate_source])
    if x_parts:
        xnames = ", ".join(k for k, _ in x_parts)
        code.add(2, f"{xnames}{',' if len(x_parts) == 1 else ''} = self.x_proj(g).split([{', '.join(str(w) for _, w in x_parts)}], dim=-1)")
    code.add(2, "gd = dt  # Delta_t reads the low-rank dt" if any(k == "dt" for k, _ in x_parts) else "gd = g",
             f"v = v.reshape(B, T, {H}, {dv})")
    if gated:
        g = spec.gate
        if g == "mamba":
            code.add(2, "delta = F.softplus(self.dt(gd))  # [B, T, H]",
                     "log_a = -(delta[..., None] * self.A_log.exp())  # a_t = exp(-Delta_t A), per channel" if diagonal
                     else "log_a = -(delta * self.A_log.exp())  # a_t = exp(-Delta_t A)")
        elif g == "fixed":
            code.add(2, f"log_a = self.log_decay.expand(B, T, {H})")
        elif g == "gla":
            code.add(2, f"log_a = F.logsigmoid(self.a_in(g)) / {_lit(GLA_TAU)}  # a_t = sigmoid(x_t)^(1/{GLA_TAU:g})")
        elif g == "sigmoid":
            code.add(2, "log_a = F.logsigmoid(self.a_in(g))  # a_t = sigmoid(x_t)")
        elif g == "reversed_sigmoid":
            code.add(2, "log_a = F.relu(self.forget_exponent) * F.logsigmoid(-self.a_in(g))  # a_t = sigma(-x_t)^relu(alpha)")
        elif g == "rglru":
            code.add(2, f"log_a = -{_lit(RGLRU_C)} * F.softplus(-self.lam) * torch.sigmoid(self.a_in(g))  "
                        f"# a_t = sigma(Lambda)^({RGLRU_C:g} r_t)")
        elif g == "kda":
            pre = "F.softplus(self.a_in(g))"
            code.add(2, f"log_a = -(self.A_log.exp()[:, None] * {pre})  # a_t = exp(-exp(A_log_h) softplus(.)), per channel"
                     if diagonal else f"log_a = -(self.A_log.exp() * {pre})  # a_t = exp(-exp(A_log_h) softplus(.))")
        if signed:
            code.add(2, "a = 2.0 * log_a.exp() - 1.0  # signed eigenvalues: a_t in [-1, 1]")
        else:
            code.add(2, "a = log_a.exp()  # a_t in [0, 1]")
        if rotation and diagonal:
            code.add(2, "a = a.repeat_interleave(2, dim=-1)  # one magnitude per rotated pair")

    def qk(source: str, var: str) -> None:
        if source == "input":
            code.add(2, f"{var} = {var}.reshape(B, T, {Hq}, {n})")
        elif source == "static":
            code.add(2, f"{var} = self.{var}_static.expand(B, T, {Hq}, {n})")
        else:
            code.add(2, f"{var} = u.new_ones(B, T, {H}, {n})")
            return
        if spec.feature_map != "identity":
            code.add(2, f"{var} = " + FEATURE_MAPS[spec.feature_map].format(x=var))
        if spec.qk_norm:
            code.add(2, f"{var} = F.normalize({var}, dim=-1)")
        if Hq == 1 and H > 1:
            code.add(2, f"{var} = {var}.expand(B, T, {H}, {n})  # one q/k shared by all heads")

    qk(spec.query, "q")
    if spec.key == "gate":
        code.add(2, "k = 1.0 - a  # HGRN-2: the key is tied to the forget gate")
    else:
        qk(spec.key, "k")
    if householder:
        code.add(2, "k = F.normalize(k, dim=-1)  # unit-norm k for the Householder part",
                 "beta = torch.sigmoid(self.beta_in(g))" + (" * 2.0  # beta_t in [0, 2] (signed)" if signed else "  # beta_t in [0, 1]"))
    code.add(2, "offset = 0 if state is None else state[\"offset\"]")
    if rope:
        code.add(2, "q, k = rotary(q, offset), rotary(k, offset)")
    inj = spec.injection
    b_expr = {
        "one": None,
        "inv_sqrt_n": f"u.new_full((B, T, {H}), {_lit(1.0 / math.sqrt(n))})  # b_t = 1/sqrt(n)",
        "sigmoid": "torch.sigmoid(self.b_in(g))  # b_t = sigmoid(.)",
        "exp": f"torch.exp({_lit(EXP_GATE_CAP)} * torch.tanh(self.b_in(g) / {_lit(EXP_GATE_CAP)}))  "
               f"# exp input gate, soft-capped at {EXP_GATE_CAP:g}",
        "exp_clamped": f"torch.exp(self.b_in(g).clamp_max({_lit(EXP_GATE_CAP)}))  # exp input gate, clamped at {EXP_GATE_CAP:g}",
        "delta": ("delta  # b_t = Delta_t" if gated and spec.gate == "mamba" else "F.softplus(self.dt(gd))  # b_t = Delta_t"),
        "beta": None if dplr else "beta  # the delta rule: b_t = beta_t",
        "one_minus_a": "1.0 - a  # b_t = 1 - a_t",
        "sqrt_one_minus_a2": "torch.sqrt((1.0 - a * a).clamp_min(0.0))  # b_t = sqrt(1 - a_t^2)",
        "sigmoid_value": "torch.sigmoid(self.b_in(g))  # the write gate, one per value channel [B, T, H, d_v]",
        "trapezoidal": ("delta" if gated and spec.gate == "mamba" else "F.softplus(self.dt(gd))")
                       + "  # Delta_t, split into the two taps below",
    }[inj]
    code.add(2, "b = None  # b_t = 1" if b_expr is None else "b = " + b_expr)
    # with several factors the delta-rule injection takes every b from the betas (core/frontier.py's
    # substeps), so dsf-search's model has no unscaled first token there either
    if wiring.reset_first and not (factors and inj == "beta"):
        code.add(2, "if offset == 0:  # the first token of a sequence enters unscaled: b_0 = 1",
                 f"    b = u.new_ones(B, T, {H}) if b is None else b",
                 "    b = torch.cat([torch.ones_like(b[:, :1]), b[:, 1:]], dim=1)")
    if inj in ("one_minus_a", "sqrt_one_minus_a2") and diagonal:
        code.add(2, "k, b = k * b, None  # a per-channel injection folds into the key")
    if inj == "sigmoid_value":
        code.add(2, "v, b = v * b, None  # the injection k_t (b_t o v_t)^T: the gate folds into the value")
    if inj == "trapezoidal":
        code.add(2, "lam = torch.sigmoid(self.lam_in(g))",
                 "b_prev, b = (1.0 - lam) * b, lam * b  # the scales of k_(t-1) v_(t-1)^T and of k_t v_t^T")
    erase_beta = "torch.sigmoid(self.frontier.erase_beta_in(g))" + (
        " * 2.0  # beta_t in [0, 2] (signed)" if spec.eigenvalues == "signed" else "  # beta_t in [0, 1]")
    if dplr and spec.low_rank == "rwkv7":
        code.add(2, "alpha = torch.sigmoid(self.frontier.erase_beta_in(g))  # [B, T, H, n], the in-context rate",
                 "kappa = F.normalize(k * self.frontier.removal_scale, dim=-1)",
                 "du, dw = alpha * kappa, kappa  # u_t, w_t",
                 "k = k * (1.0 + (alpha - 1.0) * self.frontier.key_mix)  # the write key")
    elif dplr and spec.low_rank == "gated_deltanet2":
        code.add(2, "k = F.normalize(k, dim=-1)",
                 "erase = torch.sigmoid(self.frontier.erase_beta_in(g))" + (" * 2.0  # e_t in [0, 2] (signed)" if spec.eigenvalues
                                                                             == "signed" else "  # e_t in [0, 1], per key channel"),
                 "du, dw = k, log_a.exp() * erase * k  # u_t = k_t, w_t = a_t o e_t o k_t")
    elif dplr and spec.low_rank == "comba":
        code.add(2, "k = F.normalize(k, dim=-1)", "erase = " + erase_beta,
                 "du = erase[..., None] * k  # u_t = beta_t k_t",
                 "dw = log_a.exp() * torch.sigmoid(self.frontier.erase_scale)[:, None] * k  # w_t = a_t o sigmoid(d) k_t")
    elif dplr:
        if spec.key == "input":
            qk("input", "p")
            if rope:
                code.add(2, "p = rotary(p, offset)")
        elif spec.key == "gate":
            code.add(2, f"p = u.new_ones(B, T, {H}, {n})")
        else:
            code.add(2, "p = k  # no projection of its own: the erase direction is the key")
        code.add(2, "k, p = F.normalize(k, dim=-1), F.normalize(p, dim=-1)", "erase = " + erase_beta,
                 "root = (0.5 * log_a).exp()  # sqrt(a_t)",
                 "du = erase[..., None] * root * p  # u_t",
                 "dw = root * k.abs() * (1.0 - 2.0 * (p < 0).to(p.dtype))  # w_t = sqrt(a_t) o |k_t| o sign(p_t)")
    if dplr and inj == "beta":
        code.add(2, "b = erase  # the delta rule: b_t = beta_t, the rate of u_t")
    if factors:
        for k_name, v_name in factors:
            if spec.key == "input":
                qk("input", k_name)
                if rope:
                    code.add(2, f"{k_name} = rotary({k_name}, offset)")
            elif spec.key == "gate":
                code.add(2, f"{k_name} = u.new_ones(B, T, {H}, {n})")
            else:
                code.add(2, f"{k_name} = k  # no projection of its own: the factor's key is the key")
        code.add(2, "fk = torch.stack([" + ", ".join(f"F.normalize({k}, dim=-1)" for k, _ in factors)
                 + "], dim=2)  # the factors' unit keys [B, T, m - 1, H, n]",
                 "fv = torch.stack([" + ", ".join(f"{v}.reshape(B, T, {H}, {dv})" for _, v in factors)
                 + "], dim=2)  # their values [B, T, m - 1, H, d_v]",
                 "fbeta = torch.sigmoid(self.frontier.factor_beta_in(g))" + (" * 2.0  # [B, T, m - 1, H] in [0, 2] (signed)"
                                                                             if spec.eigenvalues == "signed" else "  # [B, T, m - 1, H]"))
    if spec.normalization == "learned":
        fn = {"exp": "torch.exp", "softplus": "F.softplus", "sigmoid": "torch.sigmoid"}[spec.eta]
        code.add(2, f"eta = {fn}(self.eta_in(g))  # [B, T, H]")
    if rotation:
        code.add(2, "theta = self.frontier.theta_in(g)  # [B, T, H, n // 2]")
    parts = ["q", "k", "v"] + (["a"] if gated else []) + (["log_a"] if outside else []) + (["theta"] if rotation else []) \
        + (["du", "dw"] if dplr else []) + (["fk", "fv", "fbeta"] if factors else []) + (["beta"] if householder else []) + ["b"] \
        + (["b_prev"] if inj == "trapezoidal" else []) \
        + (["eta"] if spec.normalization == "learned" else []) + (["branch"] if headwise else [])
    code.add(2, "return dict(" + ", ".join(f"{p}={p}" for p in parts) + "), conv", "")

    # --- one step of the recurrence ---------------------------------------------------------------
    code.add(1, "def transition(self, X, a, beta, k" + (", theta" if rotation else "") + (", du, dw" if dplr else "") + "):")
    code.add(2, '"""A_t X for X [B, H, n, m] (columns are state vectors): '
             + ("the rotation R(theta_t) of the state pairs, " if rotation else "")
             + ("diag(a_t) X - u_t (w_t^T X)" if dplr else "the Householder part (the gate acts outside, on the scores)"
                if outside else "the gate part, then the Householder part") + '."""')
    if rotation:
        code.add(2, "cos, sin = theta.cos()[..., None], theta.sin()[..., None]",
                 "even, odd = X[..., 0::2, :], X[..., 1::2, :]",
                 "X = torch.stack([cos * even - sin * odd, sin * even + cos * odd], dim=-2).flatten(-3, -2)")
    if dplr:
        code.add(2, "X = a[..., :, None] * X - du[..., :, None] * torch.einsum(\"bhn,bhnm->bhm\", dw, X)[..., None, :]")
    elif gated and not outside:
        code.add(2, "X = X * a[..., :, None]  # diag(a_t)" if diagonal else "X = X * a[..., None, None]  # a_t I")
    if householder:
        code.add(2, "X = self.householder(X, beta, k)")
    code.add(2, "return X", "")
    if householder:
        code.add(1, "def householder(self, X, beta, k):")
        code.add(2, '"""(I - beta k k^T) X for X [B, H, n, m], k [B, H, n] unit, beta [B, H]."""',
                 "return X - beta[..., None, None] * k[..., :, None] * torch.einsum(\"bhn,bhnm->bhm\", k, X)[..., None, :]", "")

    c = 1.0 / math.sqrt(n) if spec.scale == "inv_sqrt_n" else 1.0
    code.add(1, "def forward(self, u, state=None):")
    code.add(2, "B, T, _ = u.shape", "p, conv = self.inputs(u, state)",
             "# head-major per-step slices: [B, H, ...] for step t")
    code.add(2, "q, k, v = (p[name].transpose(1, 2) for name in (\"q\", \"k\", \"v\"))")
    code.add(2, "a = p[\"a\"].transpose(1, 2) if \"a\" in p else None",
             "beta = p[\"beta\"].transpose(1, 2) if \"beta\" in p else None",
             "b = p[\"b\"].transpose(1, 2) if p[\"b\"] is not None else None")
    if rotation:
        code.add(2, "theta = p[\"theta\"].transpose(1, 2)")
    if dplr:
        code.add(2, "du, dw = p[\"du\"].transpose(1, 2), p[\"dw\"].transpose(1, 2)")
    if outside:
        code.add(2, "log_a = p[\"log_a\"].transpose(1, 2)")
    if spec.normalization == "learned":
        code.add(2, "eta = p[\"eta\"].transpose(1, 2)")
    if linear:
        code.add(2, f"S = u.new_zeros(B, {H}, {n}, {dv}) if state is None else state[\"S\"]")
        if znorm:
            code.add(2, f"z = u.new_zeros(B, {H}, {n}, 1) if state is None else state[\"z\"]")
    else:
        code.add(2, f"K = u.new_zeros(B, {H}, {n}, 0) if state is None else state[\"K\"]  # evolved keys, one column per past token",
                 f"V = u.new_zeros(B, {H}, 0, {dv}) if state is None else state[\"V\"]")
        if outside:
            code.add(2, f"L = u.new_zeros(B, {H}, 0) if state is None else state[\"L\"]  # log prod_(t=j+1..i) a_t of each cached key")
    taps = spec.injection == "trapezoidal"
    if taps:
        code.add(2, "b_prev = p[\"b_prev\"].transpose(1, 2)",
                 f"k_prev, v_prev = (u.new_zeros(B, {H}, {n}), u.new_zeros(B, {H}, {dv})) if state is None else state[\"previous\"]")
    targs = "a_t, beta_t, k_t" + (", theta_t" if rotation else "") + (", du[:, :, t], dw[:, :, t]" if dplr else "")
    code.add(2, "ys = []", "for t in range(T):")
    s = 3
    if rotation:
        code.add(s, "theta_t = theta[:, :, t]")
    code.add(s, "a_t = None if a is None else a[:, :, t]", "beta_t = None if beta is None else beta[:, :, t]",
             "k_t, q_t, v_t = k[:, :, t], q[:, :, t], v[:, :, t]",
             "kb = k_t if b is None else k_t * b[:, :, t][..., None]  # b_t k_t")
    if linear:
        if taps:
            code.add(s, "kp = k_prev * b_prev[:, :, t][..., None]  # the previous token's tap, before A_t",
                     "S = S + kp[..., :, None] * v_prev[..., None, :]")
            if znorm:
                code.add(s, "z = z + kp[..., :, None]")
            code.add(s, "k_prev, v_prev = k_t, v_t")
        code.add(s, f"S = self.transition(S, {targs}) + kb[..., :, None] * v_t[..., None, :]")
        if znorm:
            code.add(s, f"z = self.transition(z, {targs}) + kb[..., :, None]")
        if factors:
            kj_b = "kj * bj[..., None]" if spec.injection == "beta" else "kj if b is None else kj * b[:, :, t][..., None]"
            code.add(s, f"for j in range({len(factors)}):  # the token's further Householder factors",
                     "    kj, vj, bj = p[\"fk\"][:, t, j], p[\"fv\"][:, t, j], p[\"fbeta\"][:, t, j]",
                     f"    S = self.householder(S, bj, kj) + ({kj_b})[..., :, None] * vj[..., None, :]")
            if znorm:
                code.add(s, f"    z = self.householder(z, bj, kj) + ({kj_b})[..., :, None]")
        code.add(s, f"y = {_lit(c)} * torch.einsum(\"bhn,bhnd->bhd\", q_t, S)")
        if znorm:
            code.add(s, f"total = {_lit(c)} * torch.einsum(\"bhn,bhnd->bhd\", q_t, z)")
            code.add(s, f"y = y / (total + {_lit(SUM_EPS)})" if spec.normalization == "sum"
                     else "y = y / total.abs().clamp_min(1.0)")
        if spec.normalization == "learned":
            code.add(s, "y = y / eta[:, :, t][..., None]")
    else:
        code.add(s, f"K = torch.cat([self.transition(K, {targs}), kb[..., None]], dim=-1)",
                 "V = torch.cat([V, v_t[:, :, None]], dim=2)",
                 f"scores = {_lit(c)} * torch.einsum(\"bhn,bhnj->bhj\", q_t, K)")
        if outside:
            code.add(s, "L = torch.cat([L + log_a[:, :, t][..., None], L.new_zeros(B, {H}, 1)], dim=-1)".replace("{H}", str(H)),
                     "scores = scores + L  # the decay acts outside the readout: alpha_ij ~ exp(s_ij) prod a")
        code.add(s,
                 "m = scores.max(dim=-1, keepdim=True).values",
                 "e = (scores - m).exp()")
        norm = spec.normalization
        if norm == "none":
            code.add(s, "log_eta = torch.zeros_like(m)")
        elif norm == "learned":
            code.add(s, "log_eta = eta[:, :, t][..., None].log()")
        elif norm == "sum":
            code.add(s, "log_total = m + e.sum(dim=-1, keepdim=True).log()",
                     f"log_eta = torch.logaddexp(log_total, torch.full_like(log_total, {_lit(math.log(SUM_EPS))}))")
        else:
            code.add(s, "log_eta = (m + e.sum(dim=-1, keepdim=True).log()).clamp_min(0.0)")
        code.add(s, "y = torch.einsum(\"bhj,bhjd->bhd\", e, V) * (m - log_eta).exp()  # computed in log space: no overflow")
    code.add(s, "ys.append(y)")
    code.add(2, "y = torch.stack(ys, dim=1)  # [B, T, H, d_v]")
    if spec.skip and wiring.skip_source == "value":
        code.add(2, "y = y + self.D[:, None] * p[\"v\"]  # skip D_h v_t")
    gate = spec.output_gate != "none"
    if gate:
        code.add(2, "o = " + ACTIVATIONS[spec.output_gate].format(x="self.gate_proj(u)") + f".reshape(B, T, {H}, {dv})  # output gate")
        if wiring.gate_before_norm:
            code.add(2, "y = y * o  # gated before the norm")
    if spec.output_norm:
        dims = "-1" if wiring.norm_width == "head" else "(-2, -1)"
        where = "per head" if wiring.norm_width == "head" else "over the full width"
        if wiring.norm == "layer":
            code.add(2, f"y = y - y.mean(dim={dims}, keepdim=True)  # layer norm {where} (weight only)",
                     f"y = y * torch.rsqrt(y.pow(2).mean(dim={dims}, keepdim=True) + {_lit(LAYER_NORM_EPS)}) * self.out_norm_weight")
        else:
            code.add(2, f"y = y * torch.rsqrt(y.pow(2).mean(dim={dims}, keepdim=True) + {_lit(RMS_EPS)}) * self.out_norm_weight"
                        f"  # RMS norm {where}")
    if spec.skip and wiring.skip_source == "branch":
        code.add(2, f"y = y + (self.D * p[\"branch\"]).reshape(B, T, {H}, {dv})  # skip D o x_t of the convolved branch")
    if gate and not wiring.gate_before_norm:
        code.add(2, "y = y * o")
    code.add(2, f"y = y.reshape(B, T, {H * dv})")
    if linear:
        state_items = ["\"S\": S"] + (["\"z\": z"] if znorm else []) + (["\"previous\": (k_prev, v_prev)"] if taps else [])
    else:
        state_items = ["\"K\": K", "\"V\": V"] + (["\"L\": L"] if outside else [])
    state_items += ["\"conv\": conv", "\"offset\": (0 if state is None else state[\"offset\"]) + T"]
    code.add(2, "return self.out_proj(y), {" + ", ".join(state_items) + "}", "")
    return code.lines


HELPERS_GATE = '''class Gate(nn.Module):
    """Pre-activation of a per-token gate [B, T, *shape]: W u_t + c when selective, else a learned constant c."""

    def __init__(self, d_model, shape, selective):
        super().__init__()
        self.shape = shape
        size = 1
        for s in shape:
            size *= s
        if selective:
            self.proj = nn.Linear(d_model, size)
        else:
            self.bias = nn.Parameter(torch.zeros(size))

    def forward(self, u):
        x = self.proj(u) if hasattr(self, "proj") else self.bias.expand(*u.shape[:-1], -1)
        return x.reshape(*u.shape[:-1], *self.shape)
'''

HELPER_HEADWISE = '''class HeadwiseLinear(nn.Module):
    """Block-diagonal linear map of x [..., width]: y[..., g, o] = sum_i W[g, o, i] x[..., g, i], no bias."""

    def __init__(self, width, block):
        super().__init__()
        self.block = block
        self.weight = nn.Parameter(torch.zeros(width // block, block, block))

    def forward(self, x):
        xs = x.reshape(*x.shape[:-1], -1, self.block)
        return torch.einsum("...gi,goi->...go", xs, self.weight).reshape(x.shape)
'''

HELPER_ROTARY = '''def rotary(x, offset, base=10000.0):
    """RoPE of x [B, T, H, n]: channel pairs (2i, 2i+1) rotated by the angle pos * base^(-2i/n)."""
    B, T, H, n = x.shape
    inv_freq = base ** (-torch.arange(0, n, 2, device=x.device, dtype=torch.float32) / n)
    pos = torch.arange(offset, offset + T, device=x.device, dtype=torch.float32)
    angle = pos[:, None] * inv_freq[None, :]
    cos, sin = angle.cos().to(x.dtype)[None, :, None, :], angle.sin().to(x.dtype)[None, :, None, :]
    even, odd = x[..., 0::2], x[..., 1::2]
    return torch.stack([even * cos - odd * sin, even * sin + odd * cos], dim=-1).flatten(-2)
'''


def _channel_class(spec: ModelSpec) -> list[str]:
    d = spec.d_model
    if spec.channel_mixer == "mlp":
        h = mlp_hidden(d, spec.mlp_ratio)
        return ["class Channel(nn.Module):", '    """Channel mixer: x -> W2 gelu(W1 x)."""', "",
                "    def __init__(self):", "        super().__init__()",
                f"        self.w1 = nn.Linear({d}, {h}, bias=False)", f"        self.w2 = nn.Linear({h}, {d}, bias=False)", "",
                "    def forward(self, x):", "        return self.w2(F.gelu(self.w1(x)))", ""]
    h = swiglu_hidden(d, spec.mlp_ratio)
    return ["class Channel(nn.Module):", '    """Channel mixer (SwiGLU): x -> W2 (silu(W1 x) * W3 x)."""', "",
            "    def __init__(self):", "        super().__init__()",
            f"        self.w1 = nn.Linear({d}, {h}, bias=False)", f"        self.w3 = nn.Linear({d}, {h}, bias=False)",
            f"        self.w2 = nn.Linear({h}, {d}, bias=False)", "",
            "    def forward(self, x):", "        return self.w2(F.silu(self.w1(x)) * self.w3(x))", ""]


def _norm(spec: ModelSpec) -> str:
    return f"nn.RMSNorm({spec.d_model}, eps=1e-6)" if spec.norm == "rmsnorm" else f"nn.LayerNorm({spec.d_model})"


def standalone_source(spec: ModelSpec, title: str, provenance: list[str]) -> str:
    """The Python source of the standalone model of `spec` (module docstring).

    `title` names the model in the file's docstring; `provenance` lines say where it came from.

    Raises:
        Unsupported: an axis value the generator does not write out.
    """
    check_supported(spec)
    rope = spec.positional == "rope"
    distinct: dict[str, str] = {}
    for layer in spec.layers:
        distinct.setdefault(layer.hash(), f"Mixer{len(distinct)}")
    layer_classes = [distinct[layer.hash()] for layer in spec.layers]
    head = [
        f'"""{title}: a standalone PyTorch model (this file imports only torch).', "",
        *provenance, "",
        f"Model: vocabulary {spec.vocab_size}, d_model {spec.d_model}, {spec.n_layers} pre-norm blocks "
        f"(x + mixer(norm(x)), then x + channel(norm(x))),",
        f"norm {spec.norm}, channel mixer {spec.channel_mixer}" + (f" (ratio {spec.mlp_ratio:g})" if spec.channel_mixer != "none" else "")
        + f", positional {spec.positional}" + (f" (max_len {spec.max_len})" if spec.positional == "learned" else "")
        + f", {'tied' if spec.tie_embeddings else 'untied'} embeddings.",
        "Layers: " + ", ".join(f"{i}: {c}" for i, c in enumerate(layer_classes)) + ".", "",
        "Use:",
        "    model = Model()",
        "    model.load_state_dict(torch.load(\"weights.pt\", weights_only=True))  # when exported with weights",
        "    logits = model(tokens)                     # tokens [B, T] -> logits [B, T, vocab]",
        "    state = None                               # decoding, one token at a time:",
        "    logits_t, state = model.step(token, state)  # token [B] -> logits [B, vocab]",
        "Without weights the parameters keep PyTorch's default initialization (not dsf-search's).",
        "Both paths run the recurrence step by step (the definition of the mixing op), not a fast",
        "parallel form: this file is for reading, checking and porting the model.",
        '"""', "",
        "import torch",
        "import torch.nn as nn",
        "import torch.nn.functional as F", "",
        "# the canonical spec this file was generated from",
        "CONFIG = " + pprint.pformat(spec.canonical(), width=110, sort_dicts=False), "", "",
    ]
    body: list[str] = []
    needs_gate = any(
        (layer.transition in GATED and layer.gate != "fixed") or layer.transition in HOUSEHOLDER
        or layer.injection in ("sigmoid", "exp", "exp_clamped", "delta", "sigmoid_value", "trapezoidal")
        or layer.normalization == "learned"
        or layer.rotation != "none" or layer.transition == "dplr"
        for layer in spec.layers
    )
    if needs_gate:
        body += HELPERS_GATE.splitlines() + ["", ""]
    if any(WIRINGS[layer.wiring].qk == "headwise" for layer in spec.layers):
        body += HELPER_HEADWISE.splitlines() + ["", ""]
    if rope:
        body += HELPER_ROTARY.splitlines() + ["", ""]
    written: set[str] = set()
    for layer in spec.layers:
        name = distinct[layer.hash()]
        if name not in written:
            written.add(name)
            body += _mixer_class(name, layer, spec.d_model, rope) + [""]
    if spec.channel_mixer != "none":
        body += _channel_class(spec) + [""]
    channel = spec.channel_mixer != "none"
    body += [
        "class Block(nn.Module):",
        '    """x + mixer(norm1(x))' + (', then x + channel(norm2(x))' if channel else '') + '."""', "",
        "    def __init__(self, mixer):",
        "        super().__init__()",
        f"        self.norm1 = {_norm(spec)}",
        "        self.mixer = mixer",
    ]
    if channel:
        body += ["        self.channel = Channel()", f"        self.norm2 = {_norm(spec)}"]
    body += ["", "    def forward(self, x, state):",
             "        h, state = self.mixer(self.norm1(x), state)",
             "        x = x + h"]
    if channel:
        body += ["        x = x + self.channel(self.norm2(x))"]
    body += ["        return x, state", "", ""]
    body += [
        "class Model(nn.Module):",
        '    """tokens [B, T] -> logits [B, T, vocab]; `step` decodes one token with the carried state."""', "",
        "    def __init__(self):",
        "        super().__init__()",
        f"        self.embed = nn.Embedding({spec.vocab_size}, {spec.d_model})",
    ]
    if spec.positional == "learned":
        body.append(f"        self.pos = nn.Embedding({spec.max_len}, {spec.d_model})")
    body.append("        self.blocks = nn.ModuleList([" + ", ".join(f"Block({c}())" for c in layer_classes) + "])")
    body += [f"        self.norm = {_norm(spec)}", f"        self.head = nn.Linear({spec.d_model}, {spec.vocab_size}, bias=False)"]
    if spec.tie_embeddings:
        body.append("        self.head.weight = self.embed.weight  # tied embeddings")
    body += ["", "    def forward(self, tokens, states=None, return_states=False):",
             '        """Logits of a chunk of tokens [B, T]; `states` (one per layer) continues a sequence."""',
             "        B, T = tokens.shape",
             "        x = self.embed(tokens)"]
    if spec.positional == "learned":
        body += ["        offset = 0 if states is None else states[0][\"offset\"]",
                 f"        if offset + T > {spec.max_len}:",
                 f"            raise ValueError(f\"sequence of length {{offset + T}} exceeds max_len {spec.max_len}\")",
                 "        x = x + self.pos(torch.arange(offset, offset + T, device=tokens.device))"]
    body += ["        new_states = []",
             "        for i, block in enumerate(self.blocks):",
             "            x, state = block(x, None if states is None else states[i])",
             "            new_states.append(state)",
             "        logits = self.head(self.norm(x))",
             "        return (logits, new_states) if return_states else logits", "",
             "    def step(self, token, states=None):",
             '        """Decode one token [B] -> (logits [B, vocab], states): the recurrent path."""',
             "        logits, states = self.forward(token[:, None], states, return_states=True)",
             "        return logits[:, 0], states", ""]
    return "\n".join(head + body)
