"""Benchmark: training and scoring steps of zoo presets at the shapes of evaluators/quick.yaml,
this checkout against a baseline checkout, in one run.

    OMP_NUM_THREADS=1 python bench/bench_presets.py --baseline /work/main
    OMP_NUM_THREADS=1 python bench/bench_presets.py --presets mamba s4d --rounds 5

Every measurement runs in a fresh interpreter on one thread (torch.set_num_threads(1)) with
PYTHONPATH set to one checkout, so the two sides import their own `dsf_search`; the rounds
alternate the two sides (this checkout, then the baseline, per preset), so both see the same
machine load, and the printed figures are medians over the rounds with the ratio
baseline / this checkout (> 1: this checkout is faster). Times are the worker's CPU time
(user + system, `time.process_time`) per step: on a shared machine the wall time of a
one-thread process also counts the time it waited for a core, which says nothing about the
code.

Shapes (the quick protocol's; d_model 64, 2 layers, vocab of the task):
    train31, train32, train16: one AdamW step (forward, backward, grad clip 1.0, step) at batch 32,
        the in_context_recall, selective_copying and parity training shapes;
    score31, score128: one forward of the scorer (`evaluate.score.score_split`) on a batch of
        200, the in_context_recall test split and parity's length-generalisation split.
Each cell is the median of --steps timed steps after two warm-up steps. The last column
estimates one quick evaluation from these cells: the protocol's step counts (1000, 400, 400
training steps at the three training shapes, which early stopping can only shorten) and its
scoring (every 100 steps, on 200 sequences), so it is an upper bound on the training part and
leaves out data generation and the efficiency measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# (label, T, vocab, kind, batch): the quick protocol's shapes (evaluators/quick.yaml)
SHAPES = [("train31", 31, 16, "train", 32), ("train32", 32, 16, "train", 32),
          ("train16", 16, 3, "train", 32), ("score31", 31, 16, "score", 200),
          ("score128", 128, 3, "score", 200)]
# how often each shape runs in one quick evaluation at most: training steps per task, and
# scoring passes (every 100 steps; the recall task's and selective copying's test splits are
# both T = 31/32, parity's T = 128)
QUICK_COUNTS = {"train31": 1000, "train32": 400, "train16": 400, "score31": 10 + 4, "score128": 4}


def worker(preset: str, steps: int, shapes: list[str]) -> dict[str, float]:
    """Median seconds per step of `preset` at every shape (runs in the child interpreter)."""
    import torch
    import torch.nn.functional as F

    from dsf_search.core import zoo
    from dsf_search.core.model import SequenceModel
    from dsf_search.evaluate.score import score_split
    from dsf_search.evaluate.train import make_optimizer

    torch.set_num_threads(1)
    out = {}
    for label, T, vocab, kind, batch in SHAPES:
        if label not in shapes:
            continue
        torch.manual_seed(0)
        model = SequenceModel(zoo.model(preset, d_model=64, n_layers=2, vocab_size=vocab))
        opt = make_optimizer(model, 3e-3, 0.0, (0.9, 0.999))
        x = torch.randint(0, vocab, (batch, T))

        def step() -> None:
            if kind == "score":
                score_split(model, x, x, batch, torch.device("cpu"))
                return
            loss = F.cross_entropy(model(x).flatten(0, 1), x.flatten())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()

        times = []
        for i in range(steps + 2):
            start = time.process_time()
            step()
            if i >= 2:
                times.append(time.process_time() - start)
        out[label] = statistics.median(times)
    return out


def _run(tree: Path, preset: str, steps: int, shapes: list[str]) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", preset, "--steps", str(steps),
                           "--shapes", *shapes],
                          cwd=tree, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"worker {preset} in {tree} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def quick_estimate(cells: dict[str, float]) -> float:
    """Seconds of one quick evaluation's training and scoring, from the step times."""
    return sum(QUICK_COUNTS[label] * cells[label] for label in QUICK_COUNTS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--presets", nargs="+", default=["mamba", "s4d", "gated_deltanet"])
    parser.add_argument("--baseline", type=Path, help="another checkout to compare against (e.g. /work/main)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=5, help="timed steps per shape and round")
    parser.add_argument("--shapes", nargs="+", choices=[label for label, *_ in SHAPES],
                        help="measure only these shapes (the quick estimate then needs all)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.worker:
        print(json.dumps(worker(opts.worker, opts.steps, opts.shapes)))
        return

    labels = opts.shapes or [label for label, *_ in SHAPES]
    trees = {"this": ROOT} | ({"baseline": opts.baseline.resolve()} if opts.baseline else {})
    print(f"python {sys.version.split()[0]}, one thread per worker, {opts.rounds} rounds x {opts.steps} steps; "
          f"trees: {', '.join(f'{k}={v}' for k, v in trees.items())}")
    print(f"load average at start: {os.getloadavg()}")
    start = time.perf_counter()
    runs: dict[tuple[str, str], list[dict[str, float]]] = {}
    for _ in range(opts.rounds):
        for preset in opts.presets:
            for side, tree in trees.items():
                runs.setdefault((preset, side), []).append(_run(tree, preset, opts.steps, labels))

    estimate = set(labels) == set(QUICK_COUNTS)
    head = f"{'preset':<16}{'side':<10}" + "".join(f"{label + ' ms':>12}" for label in labels) + (f"{'quick est. s':>14}" if estimate else "")
    print(head)
    medians = {}
    for (preset, side), rows in runs.items():
        cells = {label: statistics.median(r[label] for r in rows) for label in labels}
        medians[preset, side] = cells
        print(f"{preset:<16}{side:<10}" + "".join(f"{1e3 * cells[label]:>12.1f}" for label in labels)
              + (f"{quick_estimate(cells):>14.1f}" if estimate else ""))
    if opts.baseline:
        print("\nratio baseline / this (> 1: this checkout is faster)")
        for preset in opts.presets:
            base, this = medians[preset, "baseline"], medians[preset, "this"]
            print(f"{preset:<26}" + "".join(f"{base[label] / this[label]:>12.2f}" for label in labels)
                  + (f"{quick_estimate(base) / quick_estimate(this):>14.2f}" if estimate else ""))
    print(f"\nload average at end: {os.getloadavg()}; wall {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
