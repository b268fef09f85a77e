"""Known architectures as specs.

Each preset is a function of d_model returning the MixerSpec of one layer; its docstring states
the published update rule it reproduces (per head, state S in R^{n x d_v}, DSF convention
S_t = A_t S_{t-1} + b_t k_t v_t^T, y_t = c S_t^T q_t / eta_t) and where it comes from.
How the module forms q, k, v and the gates from the input is stated in DSFMixer; the tests in
tests/core/test_zoo_rules.py check each preset against its rule written out independently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dsf_search.suggest import did_you_mean
from dsf_search.core.spec import MixerSpec, ModelSpec


@dataclass(frozen=True)
class Preset:
    """A named architecture: its mixer at a given d_model, the positional scheme it needs."""

    name: str
    build: Callable[[int], MixerSpec]
    positional: str = "none"

    @property
    def rule(self) -> str:
        return (self.build.__doc__ or "").strip()

    def mixer(self, d_model: int = 64) -> MixerSpec:
        return self.build(d_model)


ZOO: dict[str, Preset] = {}


def _preset(positional: str = "none"):
    def register(fn: Callable[[int], MixerSpec]) -> Callable[[int], MixerSpec]:
        ZOO[fn.__name__] = Preset(fn.__name__, fn, positional)
        return fn

    return register


def _heads(d_model: int, head_dim: int) -> int:
    return max(1, d_model // head_dim)


@_preset(positional="rope")
def softmax_attention(d: int) -> MixerSpec:
    """Softmax attention (Vaswani et al. 2017), causal, with RoPE (Su et al. 2021).

    y_i = sum_{j<=i} exp(q_i^T k_j / sqrt(n)) v_j / sum_{j<=i} exp(q_i^T k_j / sqrt(n)).
    DSF: A_t = I, phi = exp, eta = sum (no finite state: the KV cache grows with T).
    """
    H = _heads(d, 16)
    return MixerSpec(transition="identity", readout="exp", normalization="sum", heads=H,
                     state_size=d // H, head_dim=d // H, scale="inv_sqrt_n")


@_preset()
def linear_attention(d: int) -> MixerSpec:
    """Linear attention (Katharopoulos et al. 2020, "Transformers are RNNs"), feature map elu+1.

    S_t = S_{t-1} + phi(k_t) v_t^T,  z_t = z_{t-1} + phi(k_t),
    y_t = S_t^T phi(q_t) / (phi(q_t)^T z_t),  phi(x) = elu(x) + 1.
    DSF: A_t = I, b_t = 1, linear readout, eta = sum.
    """
    H = _heads(d, 16)
    return MixerSpec(transition="identity", readout="linear", normalization="sum", heads=H,
                     state_size=d // H, head_dim=d // H, feature_map="elu1", scale="one")


@_preset(positional="rope")
def normalized_attention(d: int) -> MixerSpec:
    """Normalized attention (Sieber et al. 2024, DSF paper, NeurIPS 2024; the authors' MQAR code
    IntelligentControlSystems/dsf-mqar, MHNA): linear attention with identity feature map whose
    normalizer is a learned, input-dependent scalar per head instead of the sum of the scores:

    y_t = sum_{j<=t} (q_t^T k_j) v_j / eta_t,  eta_t = exp(w_h^T u_t + c_h),
    i.e. S_t = S_{t-1} + k_t v_t^T,  y_t = S_t^T q_t / eta_t,
    with no 1/sqrt(n) score scale; eta_t is a fresh projection of the current input u_t (not a
    cumulative sum). The authors' runs use learned absolute positions; this preset uses RoPE.
    DSF: A_t = I, b_t = 1, phi = identity, eta = learned (exp).
    """
    H = _heads(d, 16)
    return MixerSpec(transition="identity", readout="linear", normalization="learned", eta="exp",
                     heads=H, state_size=d // H, head_dim=d // H, scale="one")


@_preset(positional="rope")
def retnet(d: int) -> MixerSpec:
    """RetNet retention (Sun et al. 2023), recurrent form, with the xPos rotation as RoPE.

    S_t = gamma_h S_{t-1} + k_t v_t^T,  y_t = S_t^T q_t / sqrt(n),
    gamma_h = 1 - 2^(-5-h) fixed per head h; output: per-head RMS norm (torchscale's current form of
    the paper's GroupNorm), swish gate: out = W_o (RMSNorm_h(y) o silu(W_g u)). Its recurrence
    is checked against fla's naive_recurrent_simple_gla (tests/reference).
    DSF: A_t = gamma_h I (LTI scalar), b_t = 1, linear readout, no normalization.
    Deviations: value width = key width (RetNet: values twice as wide); RoPE stands in for xPos
    (the rotation without xPos's length-extrapolation decay, which the fixed gamma_h provides).
    """
    H = _heads(d, 16)
    return MixerSpec(transition="scalar", gate="fixed", readout="linear", normalization="none",
                     heads=H, state_size=d // H, head_dim=d // H, scale="inv_sqrt_n",
                     output_norm=True, output_gate="silu")


@_preset()
def s4d(d: int) -> MixerSpec:
    """S4D (Gu et al. 2022, "On the parameterization and initialization of diagonal SSMs"), real
    diagonal variant, LTI, one SISO system per channel (state size N = 16), Euler-discretized B:

    x_t = exp(Delta A) x_{t-1} + Delta B u_t,  y_t = C^T x_t + D u_t,
    with A = -exp(A_log) (S4D-real init A_n = n), Delta = softplus(const), B, C learned constants.
    DSF: A_t = diag(exp(-Delta exp(A_log))) constant, b_t = Delta, k = B, q = C, d_v = 1 per head,
    u = W_in u (in_proj, one channel per head), out = W_o y. Deviations: real A (S4D-Lin's
    complex A needs rotations); Euler B (Delta B) instead of zero-order hold; no GLU/activation
    after the layer (the channel mixer follows in the block).
    """
    return MixerSpec(transition="diagonal", gate="mamba", selective=False, readout="linear",
                     normalization="none", heads=d, state_size=16, head_dim=1, query="static",
                     key="static", injection="delta", scale="one", skip=True)


@_preset()
def mamba(d: int) -> MixerSpec:
    """Mamba's selective SSM block (Gu & Dao 2023; mamba_simple.Mamba), expand E = 2, N = 16:

    x | z = W_in u (inner width E d each),  x = silu(conv1d(x)) (kernel 4, causal, depthwise),
    dt | B | C = W_x x (dt of rank R = ceil(d / 16)),  Delta = softplus(W_dt dt + b_dt) per channel,
    h_t[c] = exp(Delta_t[c] A[c]) o h_{t-1}[c] + Delta_t[c] B_t x_t[c],
    y_t[c] = C_t^T h_t[c] + D[c] x_t[c],  out = W_o (y o silu(z)),
    A = -exp(A_log) (S4D-real init A_n = n), B_t and C_t shared by all channels, no biases on
    W_in, W_x, W_o (mamba_simple's defaults). Wiring 'mamba'; checked against Hugging Face's
    MambaMixer (tests/reference). DSF: A_t diagonal per head (channel), b_t = Delta_t, k = B,
    q = C, d_v = 1. Deviations: none; W_in's z half is the `gate_proj` module (the same
    parameters, split in two).
    """
    return MixerSpec(transition="diagonal", gate="mamba", readout="linear", normalization="none",
                     heads=2 * d, state_size=16, head_dim=1, qk_shared=True, injection="delta",
                     scale="one", conv_size=4, skip=True, output_gate="silu", wiring="mamba")


@_preset()
def mamba2(d: int) -> MixerSpec:
    """Mamba-2 SSD block (Dao & Gu 2024; mamba_ssm Mamba2 with one group), expand 2, N = 64,
    head width P = 64:

    z | xBC | dt = W_in u,  x | B | C = silu(conv1d(xBC)),  Delta_t = softplus(dt_t + b_dt) per head,
    S_t = exp(-Delta_t exp(A_log_h)) S_{t-1} + Delta_t B_t x_t^T,  y_t = S_t^T C_t + D_h x_t,
    out = W_o RMSNorm(y o silu(z)) (the gated RMSNorm over the full inner width: norm after
    the gate, one group). Wiring 'ssd'; checked against Hugging Face's Mamba2Mixer
    (tests/reference). DSF: A_t = a_t I, b_t = Delta_t, k = B, q = C (shared by all heads).
    Deviations: the norm's epsilon is 1e-6 (mamba_ssm: 1e-5); no dt clamp (mamba_ssm's default
    dt_limit is (0, inf), i.e. none); A_log init uniform in [1, 16] as in mamba_ssm.
    """
    H = max(1, 2 * d // 64)
    return MixerSpec(transition="scalar", gate="mamba", readout="linear", normalization="none",
                     heads=H, state_size=64, head_dim=2 * d // H, qk_shared=True, injection="delta",
                     scale="one", conv_size=4, skip=True, output_norm=True, output_gate="silu", wiring="ssd")


@_preset()
def gla(d: int) -> MixerSpec:
    """Gated linear attention (Yang et al. 2024; fla's GatedLinearAttention), key width d/2,
    value width d, heads of value width 32:

    S_t = diag(alpha_t) S_{t-1} + k_t v_t^T,  y_t = S_t^T q_t / sqrt(n),
    alpha_t = sigmoid(W_a u_t + c)^(1/16);  out = W_o (RMSNorm_h(y) o silu(W_g u)),
    q, k, v linear maps of u (no short conv, no feature map, fla's defaults). Its recurrence is
    checked against fla's naive_recurrent_gla (tests/reference). DSF: A_t = diag(alpha_t),
    b_t = 1. Deviation: fla projects the gate through a rank-16 bottleneck (d -> 16 -> n H);
    here W_a is full rank (the core's gate inputs are dense projections).
    """
    H = _heads(d, 32)
    return MixerSpec(transition="diagonal", gate="gla", readout="linear", normalization="none",
                     heads=H, state_size=max(1, d // (2 * H)), head_dim=d // H, scale="inv_sqrt_n",
                     output_norm=True, output_gate="silu")

@_preset()
def hgrn2(d: int) -> MixerSpec:
    """HGRN-2 (Qin et al. 2024; fla's HGRN2Attention), state expansion by an outer product,
    forget gate tied to the key:

    q = silu(W_q u),  f_t = sigmoid(W_f u_t + c),  k_t = 1 - f_t,  v = W_i u,
    S_t = diag(f_t) S_{t-1} + k_t v_t^T,  y_t = S_t^T q_t,  out = W_o RMSNorm(y) (one RMS norm
    over the full width, no output gate), no short conv. Wiring 'fused_full_norm'; its
    recurrence is checked against fla's GLA recurrence with k = 1 - f (tests/reference).
    DSF: A_t = diag(f_t), k_t = 1 - f_t, b_t = 1. Deviations: state expansion 16 per head
    (fla: 128; a size); no score scale, as in the paper (fla's kernel call leaves its default
    1/sqrt(n)); the learned layer-wise lower bound of the forget gate is not included (it
    couples the layers); f has a bias (fla: none, n H extra parameters).
    """
    H = _heads(d, 16)
    return MixerSpec(transition="diagonal", gate="sigmoid", key="gate", readout="linear",
                     normalization="none", heads=H, state_size=16, head_dim=d // H, scale="one",
                     feature_map="silu", output_norm=True, wiring="fused_full_norm")

@_preset()
def mlstm(d: int) -> MixerSpec:
    """The mLSTM layer of xLSTM (Beck et al. 2024; the `xlstm` package's mLSTMLayer), expand 2,
    4 heads, per head h (n = d_v = 2d / 4):

    x | z = W_up u,  c = silu(conv1d(x)) (kernel 4),  q = W_q c, k = W_k c, v = W_v x (block-
    diagonal maps in blocks of 4 channels),  i_t = exp(w_i^T [q|k|v]_t + b_i),
    f_t = sigmoid(w_f^T [q|k|v]_t + b_f),
    C_t = f_t C_{t-1} + i_t (k_t / sqrt(n)) v_t^T,  n_t = f_t n_{t-1} + i_t k_t / sqrt(n),
    h_t = C_t^T q_t / max(|n_t^T q_t|, 1),  out = W_down ((LayerNorm_h(h) + s o c) o silu(z)),
    LayerNorm per head (weight only), s a learned skip per channel. Wiring 'xlstm'; checked
    against xlstm's mLSTMLayer (tests/reference). DSF: A_t = f_t I, b_t = i_t, eta = maxabs.
    Deviations: the input-gate pre-activation is clamped at 15 (injection 'exp_clamped'),
    because the core's forms carry no max-stabilizer (xLSTM's stabilizer cancels exactly, so
    below the clamp the output is the same); no 1e-6 added to the normalizer.
    """
    H = 4 if 2 * d % 16 == 0 else 1
    return MixerSpec(transition="scalar", gate="sigmoid", readout="linear", normalization="maxabs",
                     heads=H, state_size=2 * d // H, head_dim=2 * d // H, injection="exp_clamped",
                     scale="inv_sqrt_n", conv_size=4, output_norm=True, output_gate="silu", skip=True,
                     wiring="xlstm")


@_preset()
def rg_lru(d: int) -> MixerSpec:
    """Griffin/Hawk recurrent block with the RG-LRU (De et al. 2024), lru width = d:

    y = gelu(W_y u + b_y),  x = conv1d(W_x u + b_x) (kernel 4, causal, depthwise, no activation),
    r_t = sigma(W_a x_t + b_a),  i_t = sigma(W_i x_t + b_i),  a_t = sigma(Lambda)^(8 r_t),
    h_t = a_t o h_{t-1} + sqrt(1 - a_t^2) o (i_t o x_t)  (at the sequence's first token the
    multiplier is 1: h_0 = i_0 o x_0),  out = W_o (h o y) + b_o, gelu the tanh approximation.
    Wiring 'griffin'; checked against Hugging Face's RecurrentGemmaRecurrentBlock
    (tests/reference). DSF: A_t = a_t (per channel, n = 1), b_t = sqrt(1 - a_t^2), k_t = i_t,
    q_t = 1, d_v = 1. Deviation: Griffin's gate matrices W_a, W_i are block-diagonal over its
    heads; here they are dense (Griffin with one block, the reference's num_attention_heads = 1),
    because the core's gate inputs are dense projections.
    """
    return MixerSpec(transition="scalar", gate="rglru", readout="linear", normalization="none",
                     heads=d, state_size=1, head_dim=1, query="ones", key="input", feature_map="sigmoid",
                     injection="sqrt_one_minus_a2", scale="one", conv_size=4, output_gate="gelu_tanh",
                     wiring="griffin")


@_preset()
def deltanet(d: int) -> MixerSpec:
    """DeltaNet (Schlag et al. 2021; Yang et al. 2024), the delta rule:

    S_t = (I - beta_t k_t k_t^T) S_{t-1} + beta_t k_t v_t^T,  y_t = S_t^T q_t / sqrt(n),
    beta_t = sigmoid(w^T u_t + c) in [0, 1], q and k = L2-normalized silu(conv(W x)) (the short
    conv ends in SiLU, as in fla), v = silu(conv(W_v u)); out = W_o RMSNorm_h(y) (fla's DeltaNet
    with its defaults: no output gate). Its recurrence is checked against fla's
    delta_rule_recurrence (tests/reference). DSF: A_t = I - beta_t k_t k_t^T, b_t = beta_t.
    Deviations: beta has a bias (fla: none); heads of width 16 (a size).
    """
    H = _heads(d, 16)
    return MixerSpec(transition="householder", readout="linear", normalization="none", heads=H,
                     state_size=d // H, head_dim=d // H, feature_map="identity", qk_norm=True,
                     injection="beta", scale="inv_sqrt_n", conv_size=4, output_norm=True)


@_preset()
def gated_deltanet(d: int) -> MixerSpec:
    """Gated DeltaNet (Yang et al. 2025), the gated delta rule:

    S_t = alpha_t (I - beta_t k_t k_t^T) S_{t-1} + beta_t k_t v_t^T,  y_t = S_t^T q_t / sqrt(n),
    alpha_t = exp(-softplus(w^T u_t + b) exp(A_log)) (Mamba-2's gate), beta_t = sigmoid(.).
    q, k = L2-normalized silu(conv(W u)), v = silu(conv(W_v u)), out = W_o (RMSNorm_h(y) o
    silu(W_g u)) (fla's GatedDeltaNet). Its recurrence is checked against fla's
    naive_recurrent_gated_delta_rule (tests/reference).
    DSF: A_t = (I - beta_t k_t k_t^T) alpha_t, b_t = beta_t. Deviations: beta has a bias (fla:
    none); value width = key width (fla expands v by 2) and heads of width 16 (sizes).
    """
    H = _heads(d, 16)
    return MixerSpec(transition="householder_scalar", gate="mamba", readout="linear",
                     normalization="none", heads=H, state_size=d // H, head_dim=d // H,
                     feature_map="identity", qk_norm=True, injection="beta", scale="inv_sqrt_n",
                     conv_size=4, output_norm=True, output_gate="silu")


@_preset()
def deltanet_signed(d: int) -> MixerSpec:
    """DeltaNet with negative eigenvalues (Grazzi et al. 2025, "Unlocking state-tracking in linear
    RNNs through negative eigenvalues"): the delta rule with beta_t = 2 sigmoid(.) in [0, 2],

    S_t = (I - beta_t k_t k_t^T) S_{t-1} + beta_t k_t v_t^T,  y_t = S_t^T q_t / sqrt(n),
    so A_t has eigenvalue 1 - beta_t in [-1, 1] along k_t (a reflection at beta_t = 2).
    """
    H = _heads(d, 16)
    return MixerSpec(transition="householder", eigenvalues="signed", readout="linear",
                     normalization="none", heads=H, state_size=d // H, head_dim=d // H,
                     feature_map="identity", qk_norm=True, injection="beta", scale="inv_sqrt_n",
                     conv_size=4, output_norm=True)


@_preset()
def kda(d: int) -> MixerSpec:
    """Kimi Delta Attention (Kimi Team 2025; fla's KimiDeltaAttention): the gated delta rule with
    a per-channel gate,

    S_t = (I - beta_t k_t k_t^T) diag(alpha_t) S_{t-1} + beta_t k_t v_t^T,  y_t = S_t^T q_t / sqrt(n),
    alpha_t = exp(-exp(A_log_h) softplus(W_f u_t + b_f)) per key channel (A_log per head),
    beta_t = sigmoid(w_b^T u_t + c), q, k = L2-normalized silu(conv(W u)), v = silu(conv(W_v u));
    out = W_o (RMSNorm_h(y) o sigmoid(W_g u)). Its recurrence is checked against fla's
    naive_recurrent_kda (tests/reference). DSF: A_t = (I - beta_t k_t k_t^T) diag(alpha_t),
    b_t = beta_t. Deviations: W_f and W_g are full rank (fla: a bottleneck of width d_v);
    beta has a bias (fla: none); heads of width 16 (a size).
    """
    H = _heads(d, 16)
    return MixerSpec(transition="householder_diagonal", gate="kda", readout="linear",
                     normalization="none", heads=H, state_size=d // H, head_dim=d // H,
                     feature_map="identity", qk_norm=True, injection="beta", scale="inv_sqrt_n",
                     conv_size=4, output_norm=True, output_gate="sigmoid")

@_preset()
def qlstm(d: int) -> MixerSpec:
    """Quasi-LSTM "qLSTM" (Sieber et al. 2024, DSF paper): an LSTM whose gates read the input only
    (no h_{t-1} in the gates) and without the tanh on the cell input and the cell state, so the
    recurrence is linear; one cell per channel (n = 1):

    c_t = f_t o c_{t-1} + i_t o (W_c u_t),  h_t = o_t o c_t,
    f_t = sigmoid(W_f u_t + b_f), i_t = sigmoid(W_i u_t + b_i), o_t = sigmoid(W_o u_t).
    DSF: Lambda_t = diag(f_t), B_t = diag(i_t), C_t = diag(o_t); here A_t = f_t (scalar per
    channel), b_t = i_t, k = q = 1, v = W_c u, output gate o_t. The authors' MQAR block around the
    cell (expansion 2, a short conv feeding the gates, a gelu output branch) is not included.
    """
    return MixerSpec(transition="scalar", gate="sigmoid", readout="linear", normalization="none",
                     heads=d, state_size=1, head_dim=1, query="ones", key="ones", injection="sigmoid",
                     scale="one", output_gate="sigmoid")


@_preset()
def qlstm_reversed_sigmoid(d: int) -> MixerSpec:
    """qLSTM with the reversed-sigmoid forget gate (Sieber et al. 2024, DSF paper), motivated by
    S6/SSD's gate exp(-softplus(x) A) = sigmoid(-x)^A:

    c_t = f_t o c_{t-1} + i_t o (W_c u_t),  h_t = o_t o c_t,
    f_t = sigmoid(-(W_f u_t + b_f))^relu(alpha),  i_t = sigmoid(W_i u_t + b_i),  o_t = sigmoid(W_o u_t),
    alpha one learned scalar exponent per layer (initialized at 1), W_f its own projection (not
    tied to the input gate W_i), as in the authors' code (IntelligentControlSystems/dsf-mqar,
    zoology/mixers/lstm.py). DSF: A_t = f_t, b_t = i_t, k = q = 1 (n = 1 per channel).
    """
    return MixerSpec(transition="scalar", gate="reversed_sigmoid", readout="linear",
                     normalization="none", heads=d, state_size=1, head_dim=1, query="ones",
                     key="ones", injection="sigmoid", scale="one", output_gate="sigmoid")


# Presets of the transition algebra's frontier (issue 11): products of Householders, complex
# (rotating) eigenvalues, decay outside the readout, exp readout over a Householder transition,
# diagonal plus low rank. Their transitions are computed by `mix` (theta, dplr,
# decay_placement) and by frontier.py (householder_factors).


@_preset()
def deltaproduct(d: int) -> MixerSpec:
    """Gated DeltaProduct with 2 Householder factors and signed eigenvalues (Siems et al. 2025,
    "DeltaProduct: Improving State-Tracking in Linear RNNs via Householder Products"):

    H_{t,0} = alpha_t H_{t-1},
    H_{t,j} = (I - beta_{t,j} k_{t,j} k_{t,j}^T) H_{t,j-1} + beta_{t,j} k_{t,j} v_{t,j}^T  (j = 1, 2),
    y_t = H_{t,2}^T q_t / sqrt(n),  beta_{t,j} = 2 sigmoid(.) in [0, 2],
    k_{t,j} L2-normalized, alpha_t = exp(-softplus(.) exp(A_log)) (Gated DeltaNet's gate).
    DSF: A_t = (I - beta_{t,2} k k^T)(I - beta_{t,1} k k^T) alpha_t, householder_factors = 2.
    Deviation: with eigenvalues 'signed' the core maps the gate to 2 alpha_t - 1 (so alpha_t in
    [-1, 1]) as for every signed gated transition; DeltaProduct keeps alpha_t in [0, 1] and gets
    negative eigenvalues from beta only.
    """
    H = _heads(d, 16)
    return MixerSpec(transition="householder_scalar", gate="mamba", eigenvalues="signed", readout="linear",
                     normalization="none", heads=H, state_size=d // H, head_dim=d // H,
                     feature_map="identity", qk_norm=True, injection="beta", scale="inv_sqrt_n",
                     conv_size=4, output_norm=True, output_gate="silu", householder_factors=2)


@_preset()
def deltaproduct_ungated(d: int) -> MixerSpec:
    """DeltaProduct without the gate (Siems et al. 2025, the ungated variant with n_h = 2):

    H_{t,0} = H_{t-1},  H_{t,j} = (I - beta_{t,j} k_{t,j} k_{t,j}^T) H_{t,j-1} + beta_{t,j} k_{t,j} v_{t,j}^T,
    y_t = H_{t,2}^T q_t / sqrt(n),  beta_{t,j} = 2 sigmoid(.) in [0, 2] (eigenvalues in [-1, 1]).
    DSF: A_t = (I - beta_{t,2} k k^T)(I - beta_{t,1} k k^T), householder_factors = 2. Its one-factor
    counterpart is deltanet_signed.
    """
    H = _heads(d, 16)
    return MixerSpec(transition="householder", eigenvalues="signed", readout="linear",
                     normalization="none", heads=H, state_size=d // H, head_dim=d // H,
                     feature_map="identity", qk_norm=True, injection="beta", scale="inv_sqrt_n",
                     conv_size=4, output_norm=True, householder_factors=2)


@_preset()
def fox(d: int) -> MixerSpec:
    """Forgetting Transformer (Lin et al. 2025, "Forgetting Transformer: Softmax Attention with a
    Forget Gate"): softmax attention whose scores are down-weighted by a data-dependent decay,

    y_i = sum_{j<=i} exp(q_i^T k_j / sqrt(n) + D_ij) v_j / sum_{j<=i} exp(q_i^T k_j / sqrt(n) + D_ij),
    D_ij = sum_{t=j+1..i} log f_t,  f_t = sigmoid(w^T u_t + b) per head.
    DSF: scalar gate, decay_placement 'outside', phi = exp, eta = sum (computed by SDPA with the
    additive log-decay mask). Deviation: FoX (Pro) adds output gates, QK-norm and a KV-shift; this
    is the basic FoX layer, without positional embeddings (as in the paper).
    """
    H = _heads(d, 16)
    return MixerSpec(transition="scalar", gate="sigmoid", readout="exp", normalization="sum",
                     decay_placement="outside", heads=H, state_size=d // H, head_dim=d // H,
                     scale="inv_sqrt_n")


@_preset()
def path_attention(d: int) -> MixerSpec:
    """PaTH attention (Yang et al. 2025, "PaTH Attention: Position Encoding via Accumulating
    Householder Transformations"): softmax attention with a data-dependent product of
    Householder-like transforms between key and query positions,

    s_ij = q_i^T (prod_{t=j+1..i} (I - beta_t w_t w_t^T)) k_j / sqrt(n),  beta_t = 2 sigmoid(.),
    y_i = sum_j exp(s_ij) v_j / sum_j exp(s_ij).
    DSF: transition 'householder' with signed eigenvalues (beta in [0, 2]), phi = exp, eta = sum.
    Deviation: PaTH's reflection direction w_t is its own low-rank projection of the input; here
    it is the key k_t (unit-normalized) itself, so the direction and the key are tied.
    """
    H = _heads(d, 16)
    return MixerSpec(transition="householder", eigenvalues="signed", readout="exp", normalization="sum",
                     heads=H, state_size=d // H, head_dim=d // H, scale="inv_sqrt_n")


@_preset()
def lru(d: int) -> MixerSpec:
    """Linear Recurrent Unit (Orvieto et al. 2023, "Resurrecting Recurrent Neural Networks for
    Long Sequences"): an LTI complex diagonal recurrence,

    x_t = Lambda x_{t-1} + B u_t,  Lambda = diag(exp(-exp(nu) + i theta)),  y_t = Re(C x_t) + D u_t.
    DSF: transition 'diagonal' with rotation 'learned', not selective: each state pair is one
    complex eigenvalue a_p e^{+-i theta_p} with a_p = sigmoid(c_p) in (0, 1) and theta_p learned
    constants; B and C are the projections k, q (multi-value heads), D the skip.
    Deviations: |lambda| is parametrized as sigmoid(c) instead of exp(-exp(nu)) (the same range
    (0, 1)); the gamma normalization sqrt(1 - |lambda|^2) of the input is not applied; the ring
    initialization of Lambda is replaced by the core's gate and angle initializations.
    """
    H = _heads(d, 16)
    return MixerSpec(transition="diagonal", rotation="learned", selective=False, gate="sigmoid",
                     readout="linear", normalization="none", heads=H, state_size=16, head_dim=d // H,
                     injection="one", scale="one", skip=True)


@_preset()
def mamba3(d: int) -> MixerSpec:
    """Mamba-3's complex (rotational) SSM with its exponential-trapezoidal discretization, in the
    real form (Lahoti et al. 2026, "Mamba-3: Improved Sequence Modeling using State Space
    Principles", SISO): a scalar-gated SSM whose state pairs rotate by data-dependent angles and
    whose input enters through two taps,

    h_t = alpha_t h_{t-1} + beta_t B_{t-1} x_{t-1}^T + gamma_t B_t x_t^T,  y_t = h_t^T C_t + D x_t,
    alpha_t = exp(-Delta_t A) R(theta_t), beta_t = (1 - lambda_t) Delta_t alpha_t, gamma_t = lambda_t Delta_t,
    Delta_t = softplus(.), lambda_t = sigmoid(.) per head, theta_t data-dependent (one angle per
    state pair and head), B, C shared by the heads, no short convolution.
    DSF: transition 'scalar' (Mamba-2's gate) with rotation 'learned' (selective), injection
    'trapezoidal': h_t = A_t (h_{t-1} + (1 - lambda_t) Delta_t k_{t-1} v_{t-1}^T) + lambda_t Delta_t
    k_t v_t^T, exact, computed as two sub-steps per token (core/frontier.py).
    Deviations: the angles are a linear map of the input instead of Delta_t times one; the
    RMS norm and the biases of B and C are left out; MIMO is not expressed.
    """
    H = _heads(d, 16)
    return MixerSpec(transition="scalar", gate="mamba", rotation="learned", readout="linear",
                     normalization="none", heads=H, state_size=16, head_dim=d // H, qk_shared=True,
                     injection="trapezoidal", scale="one", conv_size=0, skip=True, output_norm=True,
                     output_gate="silu")


@_preset()
def dplr_delta(d: int) -> MixerSpec:
    """A gated delta rule with a decoupled erase direction (the diagonal-plus-low-rank family of
    RWKV-7, Comba and Gated DeltaNet-2), in the core's stable parametrization:

    S_t = (diag(a_t) - u_t w_t^T) S_{t-1} + b_t k_t v_t^T,  y_t = S_t^T q_t / sqrt(n),
    u_t = beta_t sqrt(a_t) o p_t,  w_t = sqrt(a_t) o |k_t| o sign(p_t),  beta_t = 2 sigmoid(.),
    p_t, k_t unit vectors (p_t its own projection), a_t = sigmoid(.)^(1/16) per channel.
    The transition's eigenvalues are real and in [-max a, max a] (frontier.py).
    Deviation: RWKV-7 (u = a o kappa_hat, w = kappa_hat with a decoupled in-context rate: preset
    rwkv7, low_rank 'rwkv7'), Comba and Gated DeltaNet-2 use their own u, w; this preset is a
    stable member of that family, not any one of them.
    """
    H = _heads(d, 16)
    return MixerSpec(transition="dplr", gate="gla", eigenvalues="signed", readout="linear",
                     normalization="none", heads=H, state_size=d // H, head_dim=d // H,
                     feature_map="identity", qk_norm=True, injection="sigmoid", scale="inv_sqrt_n",
                     conv_size=4, output_norm=True, output_gate="silu")


@_preset()
def rwkv7(d: int) -> MixerSpec:
    """RWKV-7 "Goose"'s time mixing (Peng et al. 2025, "RWKV-7 "Goose" with Expressive Dynamic
    State Evolution"), in its own notation (row-vector state S [d_v, n]):

    S_t = S_{t-1} (diag(w_t) - kappa_hat_t^T (a_t o kappa_hat_t)) + v_t^T k~_t,  y_t = S_t r_t^T,
    kappa_t = k_t o xi (removal key, kappa_hat its L2 normalization), a_t = sigmoid(.) in
    (0, 1)^n (the decoupled in-context learning rate), k~_t = k_t o (1 + (a_t - 1) o alpha)
    (replacement key), w_t in (0, 1)^n the per-channel decay.
    DSF (column state, S^T): transition 'dplr', low_rank 'rwkv7': A_t = diag(w_t) - u_t w'_t^T
    with u = a o kappa_hat, w' = kappa_hat; injection 'one' with the key k~; query r_t; eigenvalues
    real in [min w - 1, max w] (low_rank.py), so 'signed'.
    Deviations: the decay is the core's 'gla' gate sigmoid(.)^(1/16) instead of
    exp(-e^(-1/2) sigmoid(.)); every projection (r, k, v, a, w, the gate) is a full linear map
    of the input instead of token-shift interpolation (lerp with the previous token) followed by
    LoRA-sized maps; the bonus term (r_t o k~_t o rho) v_t, the value residual from the first
    layer and the GroupNorm (here a per-head RMS norm) are left out.
    """
    H = _heads(d, 16)
    return MixerSpec(transition="dplr", low_rank="rwkv7", gate="gla", eigenvalues="signed", readout="linear",
                     normalization="none", heads=H, state_size=d // H, head_dim=d // H,
                     feature_map="identity", qk_norm=False, injection="one", scale="one",
                     output_norm=True, output_gate="sigmoid")


@_preset()
def comba(d: int) -> MixerSpec:
    """Comba (Hu et al. 2025, "Comba: Improving Bilinear RNNs with Closed-loop Control"): a
    scalar-plus-low-rank transition whose erase (feedback) direction p_t has its own scaling,

    S_t = alpha_t (I - beta_t k_t p_t^T) S_{t-1} + beta_t k_t v_t^T,  y_t = S_t^T q_t / sqrt(n),
    p_t = sigmoid(d) k_t (d learned per head), k_t L2-normalized, beta_t = sigmoid(.),
    alpha_t = exp(-softplus(.) exp(A_log)) (Mamba-2's gate), as flash-linear-attention's Comba
    layer and its naive recurrence. DSF: transition 'dplr', low_rank 'comba': u = beta k,
    w = alpha o p (A_t = (I - beta k p^T) diag(alpha)); eigenvalues real in [0, max alpha]
    (low_rank.py); injection 'beta': b_t = beta_t, tied to the rate as published.
    Deviations: the gate has one value per state channel (Comba: one per head; equal channels
    recover it); the output correction q_t - D p_t is left out; the output gate is silu after
    the norm (Comba: sigmoid, fused with the RMS norm).
    """
    H = _heads(d, 16)
    return MixerSpec(transition="dplr", low_rank="comba", gate="mamba", readout="linear",
                     normalization="none", heads=H, state_size=d // H, head_dim=d // H,
                     feature_map="identity", qk_norm=True, injection="beta", scale="inv_sqrt_n",
                     conv_size=4, output_norm=True, output_gate="silu")


@_preset()
def gated_deltanet2(d: int) -> MixerSpec:
    """Gated DeltaNet-2 (Hatamizadeh, Choi, Kautz 2026, "Gated DeltaNet-2: Decoupling Erase and
    Write in Linear Attention"): KDA's gated delta rule with the scalar beta_t split into a
    channel-wise erase gate e_t on the key axis and a channel-wise write gate w_t on the value axis,

    S_t = (I - k_t (e_t o k_t)^T) diag(alpha_t) S_{t-1} + k_t (w_t o v_t)^T,  y_t = S_t^T q_t / sqrt(n),
    i.e. decay, read the decayed state along e_t o k_t, write w_t o v_t minus that read;
    e_t = sigmoid(.) in (0, 1)^n, w_t = sigmoid(.) in (0, 1)^{d_v}, alpha_t = exp(-exp(A_log_h)
    softplus(W_f u_t + b_f)) per key channel (KDA's decay), q, k = L2-normalized silu(conv(W u)),
    v = silu(conv(W_v u)); out = W_o (RMSNorm_h(y) o sigmoid(W_g u)) (KDA's output).
    DSF: transition 'dplr', low_rank 'gated_deltanet2': A_t = diag(alpha_t) - k_t (alpha_t o e_t o
    k_t)^T, eigenvalues real in [0, max alpha] (low_rank.py); injection 'sigmoid_value': b = 1
    and the write gate folded into the value, v'_t = w_t o v_t (exact: the coefficients alpha_ij
    weigh v'_j). With e_t = w_t = beta_t 1 it is KDA.
    Deviations: the layer around the rule is kda's (full-rank gate maps, gates with a bias,
    heads of width 16); the official layer's projection shapes are not reproduced.
    """
    H = _heads(d, 16)
    return MixerSpec(transition="dplr", low_rank="gated_deltanet2", gate="kda", readout="linear",
                     normalization="none", heads=H, state_size=d // H, head_dim=d // H,
                     feature_map="identity", qk_norm=True, injection="sigmoid_value", scale="inv_sqrt_n",
                     conv_size=4, output_norm=True, output_gate="sigmoid")


def names() -> list[str]:
    """Preset names in registration order."""
    return list(ZOO)


def get(name: str) -> Preset:
    if name not in ZOO:
        raise ValueError(f"unknown preset {name!r}{did_you_mean(name, list(ZOO))}; presets: {', '.join(ZOO)}")
    return ZOO[name]


def mixer(name: str, d_model: int = 64) -> MixerSpec:
    """The MixerSpec of preset `name` at width d_model."""
    return get(name).mixer(d_model)


def model(name: str, d_model: int = 64, n_layers: int = 2, vocab_size: int = 64, **kwargs) -> ModelSpec:
    """A ModelSpec with every layer the preset `name` (and the positional scheme it needs)."""
    preset = get(name)
    kwargs.setdefault("positional", preset.positional)
    return ModelSpec(vocab_size=vocab_size, d_model=d_model, layers=(preset.mixer(d_model),) * n_layers, **kwargs)
