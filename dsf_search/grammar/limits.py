"""Bounds on the sizes a space or a protocol may ask for, shared by both readers.

The ceilings lie far above any published model (1000-layer DeepNet, 25,600-wide PaLM,
vocabularies of a few 100k tokens), so they refuse only what would make building or costing a
spec itself expensive (`n_layers: 1000000000` is a billion layer specs). Whether a model fits a
machine is the analytic bound MAX_MODEL_BYTES, checked on the costs before anything is built.
"""

from __future__ import annotations

SIZE_CEILINGS: dict[str, float] = {
    "heads": 4096, "state_size": 65536, "head_dim": 65536, "conv_size": 1024, "d_model": 65536,
    "n_layers": 4096, "vocab_size": 1 << 24, "max_len": 1 << 24, "mlp_ratio": 64,
}
# Parameters (float32) or inference state beyond this hold on no single machine (1 TiB).
MAX_MODEL_BYTES = 1 << 40
