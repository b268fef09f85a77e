"""Start-up time of `dsf-search` commands against the interpreter's own start, in one run.

Each command runs in a fresh interpreter (`python -m dsf_search ...`), alternating with
`python -c pass`, REPEATS times; the medians of wall time and of CPU time (user + system, which
a shared, busy machine inflates far less) are printed with their ratio to `python -c pass` and
each command's own time (its median minus the interpreter's). Measured: `--help`,
`COMMAND --help` for every command, a mistyped command (answered with "did you mean"), and
`validate` on a space whose protocol needs no training (evaluators/efficiency.yaml); and, for
scale, `python -c "import torch"`, which none of these commands pays (tests/architecture/
test_fast_commands.py checks that they import no torch, numpy, pandas, Optuna or Ray). The runs
use a bytecode cache, filled by an untimed first run of each, as an installed package does.

    python bench/bench_startup.py [--repeats 7] [--root CHECKOUT] [--only LABEL ...]

--root times another checkout of the project (e.g. an older commit, for a before/after) with
this script; --only keeps the rows whose label contains one of the given strings.
"""

from __future__ import annotations

import argparse
import os
import resource
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


def _environment(pycache: Path) -> dict[str, str]:
    """This environment, with bytecode cached (in `pycache`) as an installed package runs: a
    PYTHONDONTWRITEBYTECODE here would otherwise make every run compile every module again."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPATH": str(ROOT), "PYTHONPYCACHEPREFIX": str(pycache)}


ENV: dict[str, str] = {}


def _cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _time(argv: list[str], expect: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system) of one run of argv."""
    start, cpu = time.perf_counter(), _cpu()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, env=ENV)
    elapsed, used = time.perf_counter() - start, _cpu() - cpu
    if done.returncode != expect:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}, expected {expect}:\n{done.stderr[-2000:]}")
    return elapsed, used


def main() -> None:
    global ROOT  # --root: the checkout every run uses (cwd, PYTHONPATH, its evaluators/)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to time (default: this one)")
    parser.add_argument("--only", nargs="+", metavar="LABEL", help="only the rows whose label contains one of these")
    args = parser.parse_args()
    ROOT = args.root.resolve()
    sys.path.insert(0, str(ROOT))
    from dsf_search.cli.commands import COMMANDS

    with tempfile.TemporaryDirectory() as tmp:
        space = Path(tmp) / "space.yaml"
        space.write_text(SPACE.format(evaluator=ROOT / "evaluators" / "efficiency.yaml"))
        cases: list[tuple[str, list[str], int]] = [("--help", ["--help"], 0), ("a typo (vaildate)", ["vaildate", "x"], 2)]
        cases += [(f"{name} --help", [name, "--help"], 0) for name in COMMANDS]
        cases.append(("validate (no training)", ["validate", str(space)], 0))
        if args.only:
            cases = [case for case in cases if any(word in case[0] for word in args.only)]
        ENV.update(_environment(Path(tmp) / "pycache"))
        for _, argv, code in cases:  # a first run of each writes the bytecode cache; not timed
            _time([sys.executable, "-m", "dsf_search", *argv], code)
        _time([sys.executable, "-c", "import torch"], 0)
        base: list[tuple[float, float]] = []
        runs: dict[str, list[tuple[float, float]]] = {label: [] for label, _, _ in cases}
        runs[TORCH] = []
        for _ in range(args.repeats):
            for label, argv, code in cases:
                base.append(_time([sys.executable, "-c", "pass"], 0))
                runs[label].append(_time([sys.executable, "-m", "dsf_search", *argv], code))
            base.append(_time([sys.executable, "-c", "pass"], 0))
            runs[TORCH].append(_time([sys.executable, "-c", "import torch"], 0))
    wall, cpu = (statistics.median(t[i] for t in base) for i in (0, 1))
    print(f"{ROOT}: python {sys.version.split()[0]}; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}; "
          f"median of {args.repeats} runs each (bytecode cached). CPU = user + system seconds of the process, "
          f"which a busy machine inflates less than the wall time.")
    print(f"{'command':28s} {'wall s':>7s} {'x pass':>7s} {'own s':>7s}   {'CPU s':>7s} {'x pass':>7s} {'own s':>7s}")
    print(f"{'python -c pass':28s} {wall:7.3f} {1.0:7.1f} {0.0:7.3f}   {cpu:7.3f} {1.0:7.1f} {0.0:7.3f}")
    for label, times in runs.items():
        w, c = (statistics.median(t[i] for t in times) for i in (0, 1))
        print(f"{label:28s} {w:7.3f} {w / wall:7.1f} {w - wall:7.3f}   {c:7.3f} {c / cpu:7.1f} {c - cpu:7.3f}")


if __name__ == "__main__":
    main()
