"""Benchmark: the scan form at the per-channel SSM shape, and the chunk size of the chunked form.

    OMP_NUM_THREADS=1 python bench/bench_scan.py            # about 2-4 minutes on one core
    OMP_NUM_THREADS=1 python bench/bench_scan.py --quick    # fewer shapes

Two questions, each answered by ratios measured in one process, alternating between the
contenders run by run so that both see the same machine load (median of --reps forward +
backward runs after one warm-up; loss = sum(y * w), gradients for q, k, v and the gates):

1. Per-channel SSMs (d_v = 1, many heads: Mamba/S6 at d_model 64 is H = 128, n = 16; S4D
   H = 64, n = 16 LTI; RG-LRU / qLSTM H = 64, n = 1): time of the chunked form (chunk 64, what
   `auto` ran before) / time of the scan form, at the batch and lengths of
   evaluators/quick.yaml (B = 32, T = 16 and 32) and longer T.
2. Chunk size of the chunked form at d_v = n (the fla-style presets): time at chunk 64 / time
   at chunk 16 and 32, for n = 16 and 64, T = 32 .. 512, the shapes the chunk size rule of
   `auto` (mix.auto_chunk_size) is chosen from.
3. The per-channel SSMs' compact inputs: the scan form fed full tensors (q, k expanded, the
   gate Delta A built at [B, T, H, n] inside the timed step, as the mixer did before) / fed the
   compact ones (Mamba: q, k [B, T, 1, n], one B_t and C_t for all heads; S4D: static q, k
   [1, 1, H, n] and one Delta per head; both log_a = Delta [B, T, H] with log_a_rate = -A [H, n]).
4. exp vs exp2 on one [B, n, H] slice of the scan's loop (the scan computes a_t = 2^(x log2 e)).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from dsf_search.core.mixing import mix


def _inputs(B: int, T: int, H: int, n: int, dv: int, transition: str, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(B, T, H, n, generator=g).requires_grad_(True)
    k = torch.randn(B, T, H, n, generator=g).requires_grad_(True)
    v = torch.randn(B, T, H, dv, generator=g).requires_grad_(True)
    shape = (B, T, H, n) if transition == "diagonal" else (B, T, H)
    log_a = (-torch.rand(*shape, generator=g)).requires_grad_(True)
    w = torch.randn(B, T, H, dv, generator=g)
    return (q, k, v), dict(transition=transition, log_a=log_a), w


def _step(args, kw, w, **form) -> None:
    y = mix(*args, **kw, **form)
    (y * w).sum().backward()


def compare(contenders: dict[str, dict], args, kw, w, reps: int) -> dict[str, float]:
    """Median seconds of each contender, runs interleaved."""
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for name, form in contenders.items():
        _step(args, kw, w, **form)  # warm-up
    for _ in range(reps):
        for name, form in contenders.items():
            start = time.perf_counter()
            _step(args, kw, w, **form)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    opts = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), float32, forward + backward\n")

    print("1. per-channel SSMs (d_v = 1): chunked (chunk 64) / scan")
    print(f"{'shape':<34}{'T':>6}{'chunked ms':>12}{'scan ms':>10}{'ratio':>8}")
    ssm_shapes = [("mamba B=32 H=128 n=16 diagonal", 32, 128, 16, "diagonal"),
                  ("s4d   B=32 H=64  n=16 diagonal", 32, 64, 16, "diagonal"),
                  ("rglru B=32 H=64  n=1  scalar", 32, 64, 1, "scalar")]
    lengths = (16, 32, 128) if opts.quick else (16, 32, 128, 512)
    for label, B, H, n, transition in ssm_shapes:
        for T in lengths:
            args, kw, w = _inputs(B, T, H, n, 1, transition)
            t = compare({"chunked": dict(form="chunked", chunk_size=64), "scan": dict(form="scan")}, args, kw, w, opts.reps)
            print(f"{label:<34}{T:>6}{1e3 * t['chunked']:>12.1f}{1e3 * t['scan']:>10.1f}{t['chunked'] / t['scan']:>8.2f}")

    print("\n2. chunk size of the chunked form (d_v = n, H = 4, B = 32): time at chunk 64 / time at chunk C")
    print(f"{'transition':<12}{'n':>4}{'T':>6}{'64 ms':>9}{'64/32':>8}{'64/16':>8}")
    for transition in ("scalar", "diagonal"):
        for n in (16, 64):
            for T in ((32, 256) if opts.quick else (32, 128, 256, 512)):
                args, kw, w = _inputs(32, T, 4, n, n, transition)
                t = compare({C: dict(form="chunked", chunk_size=C) for C in (64, 32, 16)}, args, kw, w, opts.reps)
                print(f"{transition:<12}{n:>4}{T:>6}{1e3 * t[64]:>9.1f}{t[64] / t[32]:>8.2f}{t[64] / t[16]:>8.2f}")

    print("\n3. per-channel SSMs' inputs to the scan: full tensors / compact (shared q, k, the factored gate)")
    print(f"{'shape':<34}{'T':>6}{'full ms':>10}{'compact ms':>12}{'ratio':>8}")
    for label, B, H, n, static in (("mamba B=32 H=128 n=16", 32, 128, 16, False), ("s4d   B=32 H=64  n=16", 32, 64, 16, True)):
        for T in (16, 32) if opts.quick else (16, 32, 128):
            t = _compact_vs_full(B, T, H, n, static, opts.reps)
            print(f"{label:<34}{T:>6}{1e3 * t['full']:>10.1f}{1e3 * t['compact']:>12.1f}{t['full'] / t['compact']:>8.2f}")

    print("\n4. exp vs exp2 of one [32, 16, 128] slice (microseconds, median of 200)")
    x = -3 * torch.rand(32, 16, 128)
    out = torch.empty_like(x)
    times = {name: [] for name in ("exp", "exp2")}
    for _ in range(200):
        for name, fn in (("exp", torch.exp), ("exp2", torch.exp2)):
            start = time.perf_counter()
            fn(x, out=out)
            times[name].append(time.perf_counter() - start)
    exp, exp2 = (1e6 * statistics.median(times[name]) for name in ("exp", "exp2"))
    print(f"exp {exp:.1f} us, exp2 {exp2:.1f} us, ratio {exp / exp2:.2f}")


def _compact_vs_full(B: int, T: int, H: int, n: int, static: bool, reps: int) -> dict[str, float]:
    """Median seconds of the scan's forward + backward on Mamba's (S4D's when `static`) inputs,
    full vs compact."""
    g = torch.Generator().manual_seed(0)
    q, k = (torch.randn(*((1, 1, H, n) if static else (B, T, 1, n)), generator=g).requires_grad_(True) for _ in range(2))
    v = torch.randn(B, T, H, 1, generator=g).requires_grad_(True)
    delta0 = (torch.rand(1, 1, H, generator=g) if static else torch.rand(B, T, H, generator=g)).requires_grad_(True)
    A = (1 + 15 * torch.rand(H, n, generator=g)).requires_grad_(True)
    w = torch.randn(B, T, H, 1, generator=g)

    def full() -> None:
        delta = delta0.expand(B, T, H)
        y = mix(q.expand(B, T, H, n), k.expand(B, T, H, n), v, transition="diagonal", log_a=delta[..., None] * -A,
                b=delta, form="scan")
        (y * w).sum().backward()

    def compact() -> None:
        delta = delta0.expand(B, T, H)
        y = mix(q, k, v, transition="diagonal", log_a=delta, log_a_rate=-A, b=delta, form="scan")
        (y * w).sum().backward()

    times: dict[str, list[float]] = {"full": [], "compact": []}
    full(), compact()  # warm-up
    for _ in range(reps):
        for name, fn in (("full", full), ("compact", compact)):
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


if __name__ == "__main__":
    main()
