"""Random, valid arguments of `mix` for equivalence tests."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import torch

from dsf_search.core.forms.inputs import DIAGONAL, GATED, HOUSEHOLDER, NORMALIZATIONS, READOUTS, TRANSITIONS


@dataclass
class Case:
    """Tensors of one call; `kwargs` are the keyword arguments of mix (tensors need grad)."""

    q: torch.Tensor
    k: torch.Tensor
    v: torch.Tensor
    kwargs: dict = field(default_factory=dict)
    label: str = ""

    def leaves(self) -> dict[str, torch.Tensor]:
        out = {"q": self.q, "k": self.k, "v": self.v}
        out.update({key: val for key, val in self.kwargs.items() if isinstance(val, torch.Tensor)})
        return out

    def sliced(self, start: int, stop: int) -> Case:
        kw = {key: (val[:, start:stop] if isinstance(val, torch.Tensor) else val) for key, val in self.kwargs.items()}
        return Case(self.q[:, start:stop], self.k[:, start:stop], self.v[:, start:stop], kw, self.label)


def make_case(
    transition: str,
    readout: str,
    normalization: str,
    signed: bool,
    with_b: bool,
    *,
    B: int = 2,
    T: int = 17,
    H: int = 2,
    n: int = 4,
    dv: int = 3,
    scale: float | None = 0.8,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
) -> Case:
    g = torch.Generator().manual_seed(seed)

    def rand(*shape):
        return torch.rand(*shape, generator=g, dtype=dtype)

    def randn(*shape):
        return torch.randn(*shape, generator=g, dtype=dtype)

    # A sum normalizer of a linear readout with n = 1 cancels q exactly (y = sum_j s_ij v_j /
    # sum_j s_ij with s_ij proportional to q_i), leaving a zero gradient that float32 cannot resolve.
    if readout == "linear" and normalization == "sum":
        n = max(n, 2)
    q, k, v = randn(B, T, H, n), randn(B, T, H, n), randn(B, T, H, dv)
    # A sum normalizer of a linear readout divides by sum_j s_ij: positive features and
    # nonnegative gates keep it away from zero, which is the regime it is used in.
    well_posed_sum = readout == "linear" and normalization == "sum"
    if well_posed_sum:
        q, k = q.abs(), k.abs()
        signed = False
    if transition in HOUSEHOLDER:
        k = torch.nn.functional.normalize(k, dim=-1)
    kwargs: dict = {"transition": transition, "readout": readout, "normalization": normalization}
    if transition in GATED:
        shape = (B, T, H, n) if transition in DIAGONAL else (B, T, H)
        if signed:
            kwargs["a"] = rand(*shape) * 2 - 1
        else:
            kwargs["log_a"] = -rand(*shape) * 1.5
    if transition in HOUSEHOLDER:
        kwargs["beta"] = rand(B, T, H) * (2.0 if signed else (0.5 if well_posed_sum else 1.0))
    if transition == "dplr":
        kwargs.update(low_rank(k, rand, randn, well_posed_sum))
    if with_b:
        kwargs["b"] = rand(B, T, H) + 0.2
    if normalization == "learned":
        kwargs["eta"] = rand(B, T, H) + 0.5
    if scale is not None:
        kwargs["scale"] = scale
    label = f"{transition}-{readout}-{normalization}-{'signed' if signed else 'nonneg'}-{'b' if with_b else 'nob'}"
    case = Case(q, k, v, kwargs, label)
    for t in case.leaves().values():
        t.requires_grad_(True)
    return case


def low_rank(k: torch.Tensor, rand, randn, well_posed_sum: bool) -> dict:
    """u, w of transition 'dplr': general vectors, or (sum normalization, positive features)
    the KDA-like erase u = beta k / |k|^2, w = k that keeps every coefficient nonnegative."""
    if well_posed_sum:
        kn = k / k.square().sum(dim=-1, keepdim=True)
        return {"u": 0.5 * rand(*k.shape[:-1], 1) * kn, "w": k.clone()}
    return {"u": 0.4 * randn(*k.shape), "w": 0.4 * randn(*k.shape)}


def all_combinations():
    for transition in TRANSITIONS:
        for readout in READOUTS:
            for normalization in NORMALIZATIONS:
                for signed in (False, True):
                    if transition == "identity" and signed:
                        continue
                    for with_b in (False, True):
                        yield transition, readout, normalization, signed, with_b


def random_cases(count: int, seed: int = 1234):
    rng = random.Random(seed)
    # 'dplr' joined the transitions later; leaving it out keeps the established draws
    # (test_every_combination and tests/core/test_frontier_forms.py cover it).
    combos = [c for c in all_combinations() if c[0] != "dplr"]
    for i in range(count):
        transition, readout, normalization, signed, with_b = rng.choice(combos)
        yield make_case(
            transition, readout, normalization, signed, with_b,
            B=rng.randint(1, 2), T=rng.randint(1, 24), H=rng.randint(1, 3), n=rng.randint(1, 6),
            dv=rng.randint(1, 5), scale=rng.choice([None, 0.5, 1.3]), seed=seed + i,
        )
