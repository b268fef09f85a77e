"""The sdpa form: softmax attention through torch's fused scaled_dot_product_attention.

Covers exactly readout 'exp', normalization 'sum', and transition 'identity' or decay outside
the readout with a scalar gate (the Forgetting Transformer):
    y_i = sum_{j<=i} exp(s_ij) G_ij v_j / (sum_{j<=i} exp(s_ij) G_ij + eps),   s_ij = c q_i^T (b_j k_j),
G_ij = prod_{t=j+1..i} a_t (1 for identity).

* decay outside: exp(s_ij) G_ij = exp(s_ij + log G_ij), so log G_ij (segment sums of log a,
  -inf above the diagonal) is an additive float mask. It is a [B, H, T, T] tensor, so this path
  is O(T^2) in memory, like torch's masked attention on CPU; the gradient of log a flows through
  the mask.

* b: s is linear in b_j k_j, so the keys are scaled by b; c scales the queries. Both exact.
* eps (SUM_EPS): plain softmax drops it, which is harmless only while the row total
  D_i = sum_j exp(s_ij) is large against eps. The relative error is eps / (D_i + eps), and
  D_i >= exp(max_j s_ij) can be tiny: a row whose scores are all below about -5 (strongly
  negative scores, a small or negative b) is already off by more than 1e-4, and one below
  log(eps) ~ -13.8 by O(1). So eps is kept exactly with a sink: one extra key, visible to every
  query, with score log(eps) and value 0, adds exactly eps to each denominator and nothing to
  the numerator. Its score comes from one extra feature (1 on queries, log(eps) on the sink,
  0 on real keys); the sink sits at position 0 and a dummy query (output dropped) keeps the
  causal mask square.
* torch's fused CPU kernel needs q, k and v to share one head size, else it falls back to
  materializing T x T scores; all three are zero-padded to max(n + 1, d_v). Measured on the
  2-core CPU of bench/RESULTS.md, the extra feature (64 -> 65) costs about 10% against plain
  softmax at n = d_v = 64.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from dsf_search.core.forms.inputs import SUM_EPS, MixInputs
from dsf_search.core.forms.quadratic import _pair_log_products


def sdpa_unsupported(inp: MixInputs) -> str | None:
    """None when the sdpa form computes these inputs, else what it does not implement."""
    if inp.readout != "exp":
        return f"readout {inp.readout!r} (it needs readout 'exp')"
    if inp.transition != "identity" and not inp.outside:
        return f"transition {inp.transition!r} (it needs transition 'identity', or decay_placement 'outside')"
    if inp.theta is not None:
        return "theta (rotations)"
    if inp.normalization != "sum":
        return f"normalization {inp.normalization!r} (it needs normalization 'sum')"
    return None


def sdpa_exp(inp: MixInputs) -> torch.Tensor:
    """Softmax attention including the sum normalizer's eps. Returns y [B, H, T, d_v]."""
    reason = sdpa_unsupported(inp)
    if reason is not None:
        raise NotImplementedError(f"mix: form 'sdpa' does not implement {reason}")
    B, H, T, n, d_v = inp.shape
    width = max(n + 1, d_v)
    k = inp.k if inp.b is None else inp.k * inp.b[..., None]
    # Position 0 holds the sink (keys, values) and a dummy query; real positions follow.
    ones = inp.q.new_ones(B, H, T, 1)
    q_aug = F.pad(torch.cat([inp.scale * inp.q, ones], dim=-1), (0, width - n - 1, 1, 0))
    sink = inp.q.new_zeros(B, H, 1, width)
    sink[..., n] = math.log(SUM_EPS)
    k_aug = torch.cat([sink, F.pad(k, (0, width - n))], dim=2)
    v_aug = F.pad(inp.v, (0, width - d_v, 1, 0))
    if inp.outside:
        # Query i (row i + 1) sees the sink (column 0, no decay) and keys j <= i (column j + 1).
        mask = F.pad(_pair_log_products(inp), (1, 0, 1, 0))
        y = F.scaled_dot_product_attention(q_aug, k_aug, v_aug, attn_mask=mask, scale=1.0)
    else:
        y = F.scaled_dot_product_attention(q_aug, k_aug, v_aug, is_causal=True, scale=1.0)
    return y[:, :, 1:, :d_v]
