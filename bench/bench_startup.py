"""Start-up time of `dsf-search` commands against the interpreter's own start, in one run.

Each command runs in a fresh interpreter (`python -m dsf_search ...`), alternating with
`python -c pass`, REPEATS times; the medians are printed with their ratio to `python -c pass`
and each command's own time (its median minus the interpreter's). Measured: `--help`,
`COMMAND --help` for every command, a mistyped command (answered with "did you mean"), and
`validate` on a space whose protocol needs no training (evaluators/efficiency.yaml); and, for
scale, `python -c "import torch"`, which none of these commands pays (tests/architecture/
test_fast_commands.py checks that they import no torch, pandas, Optuna or Ray).

    python bench/bench_startup.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TORCH = "(python -c 'import torch')"
SPACE = """name: startup
evaluator: {evaluator}
model:
  d_model: 64
  layers: {{transition: {{choice: [scalar, diagonal]}}, state_size: {{choice: [16, 32]}}}}
objectives: {{params: minimize, train_tokens_per_s: maximize}}
"""


def _time(argv: list[str], expect: int) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    elapsed = time.perf_counter() - start
    if done.returncode != expect:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}, expected {expect}:\n{done.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from dsf_search.cli.commands import COMMANDS

    with tempfile.TemporaryDirectory() as tmp:
        space = Path(tmp) / "space.yaml"
        space.write_text(SPACE.format(evaluator=ROOT / "evaluators" / "efficiency.yaml"))
        cases: list[tuple[str, list[str], int]] = [("--help", ["--help"], 0), ("a typo (vaildate)", ["vaildate", "x"], 2)]
        cases += [(f"{name} --help", [name, "--help"], 0) for name in COMMANDS]
        cases.append(("validate (no training)", ["validate", str(space)], 0))
        base: list[float] = []
        runs: dict[str, list[float]] = {label: [] for label, _, _ in cases}
        runs[TORCH] = []
        for _ in range(args.repeats):
            for label, argv, code in cases:
                base.append(_time([sys.executable, "-c", "pass"], 0))
                runs[label].append(_time([sys.executable, "-m", "dsf_search", *argv], code))
            base.append(_time([sys.executable, "-c", "pass"], 0))
            runs[TORCH].append(_time([sys.executable, "-c", "import torch"], 0))
    python = statistics.median(base)
    print(f"python {sys.version.split()[0]}; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}; "
          f"median of {args.repeats} runs each")
    print(f"{'command':28s} {'median s':>9s} {'x python -c pass':>17s} {'own s':>7s}")
    print(f"{'python -c pass':28s} {python:9.3f} {1.0:17.1f} {0.0:7.3f}")
    for label, times in runs.items():
        median = statistics.median(times)
        print(f"{label:28s} {median:9.3f} {median / python:17.1f} {median - python:7.3f}")


if __name__ == "__main__":
    main()
