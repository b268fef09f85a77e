"""Benchmark of the forms of `mix`: time and peak memory, forward + backward, on this machine.

    python bench/bench_forms.py                 # the full report (about 10-15 min on 2 cores)
    python bench/bench_forms.py --T 256 1024    # a subset
    # the frontier transitions (issue 11): chunked vs recurrent at T=4096, m=2 factors vs one
    python bench/bench_forms.py --T 4096 --families dplr rotation_diagonal householder_scalar \
        householder_scalar_x2 --forms chunked recurrent --no-short
    python bench/bench_forms.py --T 1024 4096 --families fox --forms sdpa quadratic --no-short
    python bench/bench_forms.py --frontier --T 4096   # the same ratios, forms timed alternately

Setting: B=1, H=4, n=d_v=64, float32, loss = sum(y * w) with a fixed random w, gradients for
every input that has one (q, k, v, gates, beta). Linear readouts use normalization 'none'
and nonnegative gates (log_a); the softmax rows use readout 'exp', transition 'identity',
normalization 'sum'.

Method (also printed with the results):
* every (form, transition, T) cell runs in a fresh subprocess, so the peak resident set size
  of that process (getrusage ru_maxrss) belongs to that measurement alone. "MiB" is that peak
  minus the RSS after imports and input creation: the memory the forward + backward needed
  (allocator caches included);
* time is the median wall-clock time of up to --reps forward + backward runs after one
  warm-up run (at most ~10 s of repetitions); a single run longer than 5 s is reported as is
  (no warm-up). Nothing is extrapolated: recurrent runs are measured for real up to T=4096,
  recurrent at T=8192 and quadratic cells whose estimated footprint exceeds
  --memory-budget-gib are skipped, with the reason printed;
* achieved GFLOP/s of the chunked form = 3 x its forward matmul FLOPs (backward ~ 2 x
  forward) / time, as a fraction of torch.matmul GFLOP/s on the chunked form's main shape
  [B*H*T/C, C, n] @ [.., n, d_v], measured in the same process, alternating with the timed
  runs, so both see the same machine load;
* chunked vs SDPA and the short-T crossover are timed in one process, alternating between the
  two forms, for the same reason.
Child processes get OMP_WAIT_POLICY=PASSIVE unless it is set: spinning OpenMP workers made
every parallel region crawl (40x slower matmuls) when other processes shared the cores.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from typing import Callable

import torch

B, H, N_FEAT, D_V = 1, 4, 64, 64
FAMILIES = ("identity", "scalar", "diagonal", "householder", "householder_scalar", "householder_diagonal")
LINEAR_FORMS = ("chunked", "recurrent", "quadratic")
RECURRENT_MAX_T = 4096
SHORT_T = (1, 2, 4, 8, 16, 32)
SHORT_FAMILIES = ("scalar", "diagonal", "householder_diagonal")
# Frontier families (not in the default run): rotations (theta, one gate magnitude per pair),
# diagonal plus low rank, two Householder factors per token (DeltaProduct, T x 2 sub-steps
# through core/frontier.py) and the Forgetting Transformer (exp readout, decay outside).
FRONTIER = ("rotation_scalar", "rotation_diagonal", "dplr", "householder_scalar_x2", "fox")
DIAGONAL_FAMILIES = ("diagonal", "householder_diagonal", "rotation_diagonal", "dplr")


def _inputs(transition: str, readout: str, T: int) -> tuple[list[torch.Tensor], dict, list[torch.Tensor]]:
    """(q, k, v), the keyword arguments of `mix`, and every tensor that gets a gradient."""
    g = torch.Generator().manual_seed(0)
    q = torch.randn(B, T, H, N_FEAT, generator=g)
    k = torch.randn(B, T, H, N_FEAT, generator=g)
    v = torch.randn(B, T, H, D_V, generator=g)
    family = transition
    transition = {"rotation_scalar": "scalar", "rotation_diagonal": "diagonal", "householder_scalar_x2": "householder_scalar",
                  "fox": "scalar"}.get(family, family)
    readout = "exp" if family == "fox" else readout
    kw: dict = {"transition": transition, "readout": readout, "scale": N_FEAT**-0.5}
    if readout == "exp":
        kw["normalization"] = "sum"
    if family == "fox":
        kw["decay_placement"] = "outside"
    if "householder" in transition or transition == "dplr":
        k = k / k.norm(dim=-1, keepdim=True)
        kw["beta"] = torch.rand(B, T, H, generator=g)
    if transition in ("scalar", "householder_scalar"):
        kw["log_a"] = -0.1 * torch.rand(B, T, H, generator=g)
    if transition in ("diagonal", "householder_diagonal", "dplr"):
        width = N_FEAT // 2 if family.startswith("rotation") else N_FEAT
        kw["log_a"] = -0.1 * torch.rand(B, T, H, width, generator=g)
    if family.startswith("rotation"):
        kw["theta"] = torch.rand(B, T, H, N_FEAT // 2, generator=g)
    if transition == "dplr":
        # the mixer's stable parametrization with p = k: u = beta sqrt(a) k, w = sqrt(a) k
        root = (0.5 * kw["log_a"]).exp()
        kw["u"], kw["w"] = kw.pop("beta")[..., None] * root * k, root * k
    if family.endswith("_x2"):
        kw["factors"] = ([torch.nn.functional.normalize(torch.randn(B, T, H, N_FEAT, generator=g), dim=-1)],
                         [torch.randn(B, T, H, D_V, generator=g)], [torch.rand(B, T, H, generator=g)])
        kw["b"] = kw["beta"]
    leaves = [q, k, v] + [kw[name] for name in ("log_a", "beta", "theta", "u", "w") if name in kw]
    for x in leaves:
        x.requires_grad_(True)
    return [q, k, v], kw, leaves


def _fwd_bwd(form: str, transition: str, readout: str, T: int, chunk_size: int) -> Callable[[], None]:
    """One forward + backward of `mix` on fixed inputs."""
    from dsf_search.core import mix

    qkv, kw, leaves = _inputs(transition, readout, T)
    w = torch.randn(B, T, H, D_V, generator=torch.Generator().manual_seed(1))

    from dsf_search.core.frontier import substeps, token_outputs

    def step() -> None:
        q, k, v, args, m = substeps(*qkv, kw, "beta")
        y = token_outputs(mix(q, k, v, form=form, chunk_size=chunk_size, **args), m)
        torch.autograd.grad((y * w).sum(), leaves)

    return step


def _timed(step: Callable[[], None]) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def _matmul_burst(T: int, chunk_size: int) -> Callable[[], float]:
    """A closure returning torch.matmul GFLOP/s over 10 products of the chunked main shape."""
    batch = B * H * max(T // chunk_size, 1)
    x = torch.randn(batch, chunk_size, N_FEAT)
    y = torch.randn(batch, N_FEAT, D_V)

    def burst() -> float:
        x @ y
        start = time.perf_counter()
        for _ in range(10):
            x @ y
        return 10 * 2 * batch * chunk_size * N_FEAT * D_V / (time.perf_counter() - start) / 1e9

    return burst


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _current_rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def measure_cell(form: str, transition: str, readout: str, T: int, chunk_size: int, reps: int) -> dict:
    """Child process: fwd+bwd time, peak RSS increase, and for chunked the matmul reference."""
    step = _fwd_bwd(form, transition, readout, T, chunk_size)
    burst = _matmul_burst(T, chunk_size) if form == "chunked" else None
    base = _current_rss_mib()
    first = _timed(step)
    times, gflops = [], []
    if first > 5.0:
        times = [first]
    else:
        for _ in range(max(1, min(reps, int(10.0 / max(first, 1e-3))))):
            if burst is not None:
                gflops.append(burst())
            times.append(_timed(step))
    result = {"time_s": statistics.median(times), "reps": len(times), "peak_mib": _rss_mib() - base}
    if gflops:
        result["matmul_gflops"] = statistics.median(gflops)
    return result


def measure_pair(T: int, chunk_size: int, reps: int) -> dict:
    """Child process: chunked (linear, diagonal) and sdpa softmax timed alternately."""
    chunked = _fwd_bwd("chunked", "diagonal", "linear", T, chunk_size)
    sdpa = _fwd_bwd("sdpa", "identity", "exp", T, chunk_size)
    chunked(), sdpa()
    t_c, t_s = [], []
    for _ in range(reps):
        t_c.append(_timed(chunked))
        t_s.append(_timed(sdpa))
    return {"chunked_s": statistics.median(t_c), "sdpa_s": statistics.median(t_s)}


def measure_short(chunk_size: int, reps: int) -> dict:
    """Child process: recurrent vs chunked for a few steps, and exp readouts recurrent vs
    quadratic, timed alternately (the evidence for the thresholds of `auto`)."""
    out = {}
    cases = [(f, "linear", T, ("recurrent", "chunked")) for f in SHORT_FAMILIES for T in SHORT_T]
    cases += [("scalar", "exp", T, ("recurrent", "quadratic")) for T in (16, 64, 256)]
    for transition, readout, T, forms in cases:
        steps = [_fwd_bwd(form, transition, readout, T, chunk_size) for form in forms]
        for step in steps:
            step()
        times: list[list[float]] = [[] for _ in forms]
        for _ in range(reps if T <= 64 else 2):
            for i, step in enumerate(steps):
                times[i].append(_timed(step))
        out[f"{transition}|{readout}|{T}"] = {form: statistics.median(t) for form, t in zip(forms, times)}
    return out


def _timed_both(step: Callable[[], None]) -> tuple[float, float]:
    """Wall-clock and CPU time (time.process_time) of one run."""
    wall, cpu = time.perf_counter(), time.process_time()
    step()
    return time.perf_counter() - wall, time.process_time() - cpu


def measure_frontier(T: int, chunk_size: int, reps: int) -> dict:
    """Child process: for the frontier families, chunked and recurrent timed alternately
    (recurrent, ~seconds per run at T=4096, once per round after 3 chunked runs), and chunked
    with 2 Householder factors per token against 1, alternately; medians over the rounds, of the
    wall-clock time and of the process's CPU time (which time-slicing with other processes on a
    shared machine does not inflate; cache and memory contention still do)."""
    out = {}
    pairs = [(family, ("chunked", "recurrent"), family) for family in ("dplr", "rotation_diagonal", "rotation_scalar")]
    pairs.append(("householder_scalar", ("chunked", "chunked"), "householder_scalar_x2"))
    for family, forms, other in pairs:
        steps = [_fwd_bwd(forms[0], family, "linear", T, chunk_size), _fwd_bwd(forms[1], other, "linear", T, chunk_size)]
        steps[0]()
        if forms[1] == "chunked":
            steps[1]()
        times: list[list[tuple[float, float]]] = [[], []]
        for _ in range(reps if forms[1] == "chunked" else 2):
            for i, step in enumerate(steps):
                for _ in range(3 if forms[1] == "recurrent" and i == 0 else 1):
                    times[i].append(_timed_both(step))
        out[f"{family} {forms[0]} | {other} {forms[1]}"] = [
            [statistics.median(w for w, _ in t) for t in times], [statistics.median(c for _, c in t) for t in times]]
    return out


def chunked_forward_flops(transition: str, T: int, C: int) -> float:
    """Matmul FLOPs of the chunked form's forward (see dsf_search/core/forms/chunked.py)."""
    if transition in FRONTIER:
        return float("nan")  # not derived for the frontier families; their rate is not printed
    n, d = N_FEAT, D_V
    # Per-channel gates fill only the lower triangle of a pair matrix (halving levels).
    pair = C * (C - 1) * n if transition in ("diagonal", "householder_diagonal") else 2 * C * C * n
    per_chunk = pair + 2 * C * C * d + 4 * C * n * d  # P, P U0, Q S_0, K_end^T U0
    if "householder" in transition:
        # K, Tm^{-1}, Tm^{-1} [V | beta K], P W, K_end^T W, the state step M S
        per_chunk += pair + 2 * C**3 // 3 + 2 * C * C * (d + n) + 2 * C * C * n + 2 * C * n * n + 2 * n * n * d
    return per_chunk * B * H * -(-T // C)


def quadratic_bytes(transition: str, T: int) -> float:
    """Rough footprint of the quadratic form: ~12 live [B,H,T,T(,n)] float32 tensors."""
    per_pair = N_FEAT if transition in DIAGONAL_FAMILIES else 1
    return 12 * B * H * T * T * per_pair * 4


def _run_child(mode: list[str], args: argparse.Namespace) -> dict:
    cmd = [sys.executable, __file__, "--child", *mode, "--threads", str(args.threads),
           "--chunk-size", str(args.chunk_size), "--reps", str(args.reps)]
    env = dict(os.environ)
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout, env=env)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        return {"error": lines[-1] if lines else f"exit {proc.returncode}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _child(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    mode = args.child
    if mode[0] == "cell":
        result = measure_cell(mode[1], mode[2], mode[3], int(mode[4]), args.chunk_size, args.reps)
    elif mode[0] == "pair":
        result = measure_pair(int(mode[1]), args.chunk_size, args.reps)
    elif mode[0] == "frontier":
        result = measure_frontier(int(mode[1]), args.chunk_size, args.reps)
    else:
        result = measure_short(args.chunk_size, args.reps)
    print(json.dumps(result))


def _ms(r: dict | None) -> str:
    if r is None:
        return "-"
    if "skip" in r:
        return "skipped"
    if "error" in r:
        return "error"
    return f"{r['time_s'] * 1e3:.1f}"


def _mib(r: dict | None) -> str:
    return f"{r['peak_mib']:.0f}" if r is not None and "peak_mib" in r else "-"


def _cpu_model() -> str:
    out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    return next((line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name")), "?")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--T", type=int, nargs="+", default=[256, 1024, 4096, 8192])
    parser.add_argument("--families", nargs="+", default=list(FAMILIES))
    parser.add_argument("--forms", nargs="+", default=list(LINEAR_FORMS))
    parser.add_argument("--chunk-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--memory-budget-gib", type=float, default=6.0)
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--no-short", action="store_true", help="skip the short-T crossover table")
    parser.add_argument("--frontier", action="store_true",
                        help="only the frontier ratios (chunked vs recurrent, 2 factors vs 1), timed alternately")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return

    started = time.time()
    if args.frontier:
        print(f"load average at start (1, 5, 15 min): {os.getloadavg()}; {args.threads} threads")
        for T in args.T:
            for key, ((first, second), (cpu_first, cpu_second)) in _run_child(["frontier", str(T)], args).items():
                print(f"  T={T}: {key}: {first * 1e3:.1f} ms vs {second * 1e3:.1f} ms, ratio {second / first:.2f}; "
                      f"CPU time {cpu_first * 1e3:.1f} ms vs {cpu_second * 1e3:.1f} ms, ratio {cpu_second / cpu_first:.2f}")
        print(f"load average at end (1, 5, 15 min): {os.getloadavg()}; total wall time {time.time() - started:.0f} s")
        return
    print(f"machine: {os.cpu_count()}-core CPU, {_cpu_model()}; torch {torch.__version__}; {args.threads} threads")
    print(f"load average at start (1, 5, 15 min): {os.getloadavg()}")
    print(f"setting: B={B} H={H} n={N_FEAT} d_v={D_V} float32, forward+backward, chunk_size={args.chunk_size}")
    print("method: see the docstring of bench/bench_forms.py; every number below is measured")

    cells: dict[tuple[str, str, int], dict] = {}
    budget = args.memory_budget_gib * 2**30
    for T in args.T:
        for family in args.families:
            for form in args.forms:
                if form == "recurrent" and T > RECURRENT_MAX_T:
                    cells[(form, family, T)] = {"skip": f"recurrent measured only up to T={RECURRENT_MAX_T}"}
                    continue
                if form == "quadratic" and quadratic_bytes(family, T) > budget:
                    est = quadratic_bytes(family, T) / 2**30
                    cells[(form, family, T)] = {"skip": f"estimated {est:.0f} GiB > budget {args.memory_budget_gib:g} GiB"}
                    continue
                cells[(form, family, T)] = _run_child(["cell", form, family, "linear", str(T)], args)
                print(f"  {form:9s} {family:20s} T={T:5d}: {_ms(cells[(form, family, T)])} ms", flush=True)
        for form in ("sdpa", "quadratic"):
            if form == "quadratic" and quadratic_bytes("identity", T) > budget:
                est = quadratic_bytes("identity", T) / 2**30
                cells[(form, "softmax", T)] = {"skip": f"estimated {est:.0f} GiB > budget {args.memory_budget_gib:g} GiB"}
                continue
            cells[(form, "softmax", T)] = _run_child(["cell", form, "identity", "exp", str(T)], args)
            print(f"  {form:9s} {'softmax':20s} T={T:5d}: {_ms(cells[(form, 'softmax', T)])} ms", flush=True)
    pairs = {T: _run_child(["pair", str(T)], args) for T in args.T}
    short = {} if args.no_short else _run_child(["short"], args)

    print()
    print("time (ms, fwd+bwd) and peak memory (MiB above the process baseline)")
    print(f"{'family':22s}{'T':>6s}" + "".join(f"{f + ' ms':>14s}{'MiB':>7s}" for f in args.forms))
    for family in args.families:
        for T in args.T:
            row = f"{family:22s}{T:6d}"
            for form in args.forms:
                r = cells.get((form, family, T))
                row += f"{_ms(r):>14s}{_mib(r):>7s}"
            print(row)
    print(f"{'softmax (exp, sum)':22s}{'T':>6s}{'sdpa ms':>14s}{'MiB':>7s}{'quadratic ms':>14s}{'MiB':>7s}")
    for T in args.T:
        s, q = cells.get(("sdpa", "softmax", T)), cells.get(("quadratic", "softmax", T))
        print(f"{'':22s}{T:6d}{_ms(s):>14s}{_mib(s):>7s}{_ms(q):>14s}{_mib(q):>7s}")

    print()
    print("speed-up of chunked (time of the other form / time of chunked)")
    print(f"{'family':22s}{'T':>6s}{'recurrent/chunked':>20s}{'quadratic/chunked':>20s}")
    for family in [f for f in args.families if f != "fox"]:
        for T in args.T:
            c = cells.get(("chunked", family, T), {})
            row = f"{family:22s}{T:6d}"
            for other in ("recurrent", "quadratic"):
                o = cells.get((other, family, T), {})
                row += f"{o['time_s'] / c['time_s']:20.1f}" if "time_s" in o and "time_s" in c else f"{'-':>20s}"
            print(row)

    for T in args.T:
        one, two = cells.get(("chunked", "householder_scalar", T), {}), cells.get(("chunked", "householder_scalar_x2", T), {})
        if "time_s" in one and "time_s" in two:
            print(f"2 Householder factors per token / 1 factor (chunked, T={T}): {two['time_s'] / one['time_s']:.2f}x")

    print()
    print("chunked (linear readout, diagonal gates) vs SDPA softmax, timed alternately in one process")
    for T in args.T:
        p = pairs.get(T, {})
        if "chunked_s" in p:
            print(f"  T={T:5d}: chunked {p['chunked_s'] * 1e3:8.1f} ms, sdpa {p['sdpa_s'] * 1e3:8.1f} ms, "
                  f"chunked/sdpa time {p['chunked_s'] / p['sdpa_s']:.2f}")

    print()
    print("peak memory growth of chunked, peak(T) / peak(T/2)")
    for family in args.families:
        growth = []
        for T in args.T:
            a, b = cells.get(("chunked", family, T), {}), cells.get(("chunked", family, T // 2), {})
            if "peak_mib" in a and "peak_mib" in b and b["peak_mib"] > 0:
                growth.append(f"T={T}: {a['peak_mib'] / b['peak_mib']:.2f}")
        if growth:
            print(f"  {family:22s}" + ", ".join(growth))

    print()
    print("chunked achieved GFLOP/s (3 x forward matmul FLOPs / time) vs torch.matmul on [B*H*T/C, C, n] @ [n, d_v],")
    print("the matmul timed alternately with the chunked runs in the same process")
    for T in args.T:
        for family in args.families:
            c = cells.get(("chunked", family, T), {})
            if "time_s" in c and "matmul_gflops" in c and family not in FRONTIER:
                gf = 3 * chunked_forward_flops(family, T, args.chunk_size) / c["time_s"] / 1e9
                print(f"  T={T:5d} {family:22s}{gf:7.1f} GFLOP/s of {c['matmul_gflops']:6.1f} = "
                      f"{100 * gf / c['matmul_gflops']:5.1f}%")

    if short and "error" not in short:
        print()
        print("short sequences (auto thresholds), fwd+bwd ms, forms timed alternately")
        for key, times in short.items():
            family, readout, T = key.split("|")
            cols = "  ".join(f"{form} {t * 1e3:8.2f}" for form, t in times.items())
            print(f"  {family:22s}{readout:7s}T={int(T):4d}  {cols}")

    notes = sorted({(k[0], k[1], k[2], r.get("skip") or r.get("error")) for k, r in cells.items() if "time_s" not in r})
    if notes:
        print()
        print("skipped or failed:")
        for form, family, T, why in notes:
            print(f"  {form} {family} T={T}: {why}")
    print()
    print(f"load average at end (1, 5, 15 min): {os.getloadavg()}; total wall time {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
