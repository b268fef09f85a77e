"""Seeds at the cost of the cores: the wall time of one candidate trained on N seeds against
one seed, through the search (driver + Ray, seeds as parallel jobs), measured in one run.

One candidate (a zoo preset at the protocol's model defaults) is searched as a one-trial study
twice: with the protocol's `seeds: 1` and with `seeds: N`, `--parallel` workers of one CPU
each. With N = 4 on 2 cores the seeds run two at a time, so the ideal ratio is 2.0x; the target
is <= 2.2x. The per-seed wall times inside the workers are printed too.

The protocol is evaluators/quick.yaml with every task's step budget scaled by --steps (1.0: as
shipped; the default 0.25 keeps the run to a few minutes on 2 cores).

Run: python bench/bench_seeds.py [--preset deltanet_signed] [--seeds 4] [--parallel 2] [--steps 0.25]
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import tempfile
import time
from pathlib import Path

os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

import optuna  # noqa: E402
import ray  # noqa: E402
import yaml  # noqa: E402
from optuna.trial import TrialState  # noqa: E402

from dsf_search.search import run_search  # noqa: E402
from dsf_search.search.storage import open_storage  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SPACE = """\
name: {name}
evaluator: {evaluator}
model:
  d_model: 64
  n_layers: 2
  layers: {{preset: {preset}}}
objectives: {{quality: maximize, state_bytes: minimize}}
search: {{sampler: random, trials: 1, parallelism: {parallel}, seed: 0}}
"""


def protocol_file(folder: Path, seeds: int, steps: float) -> Path:
    data = yaml.safe_load((ROOT / "evaluators" / "quick.yaml").read_text())
    for task in data["tasks"]:
        training = task.setdefault("training", {})
        base = training.get("max_steps", data["training"].get("max_steps", 500))
        training["max_steps"] = max(1, round(base * steps))
    data["seeds"] = seeds
    path = folder / f"quick_seeds{seeds}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def one(folder: Path, preset: str, seeds: int, parallel: int, steps: float) -> tuple[float, optuna.trial.FrozenTrial]:
    name = f"bench_seeds{seeds}"
    space = folder / f"{name}.yaml"
    space.write_text(SPACE.format(name=name, evaluator=protocol_file(folder, seeds, steps), preset=preset, parallel=parallel))
    start = time.perf_counter()
    summary = run_search(str(space), out=io.StringIO(), show_progress=False, root=str(folder / "results"), executor="ray")
    wall = time.perf_counter() - start
    if summary.complete != 1:
        raise SystemExit(f"the {seeds}-seed run did not complete: {summary}")
    study = optuna.load_study(study_name=name, storage=open_storage(None, name, folder / "results"))
    return wall, study.get_trials(states=(TrialState.COMPLETE,))[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="deltanet_signed")
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--steps", type=float, default=0.25, help="fraction of quick.yaml's step budgets")
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; python {platform.python_version()}")
    folder = Path(tempfile.mkdtemp(prefix="bench_seeds_"))
    ray.init(num_cpus=args.parallel, include_dashboard=False, log_to_driver=False)
    single_wall, single = one(folder, args.preset, 1, args.parallel, args.steps)
    many_wall, many = one(folder, args.preset, args.seeds, args.parallel, args.steps)
    ray.shutdown()
    print(f"{args.preset}, quick protocol at {args.steps:g}x steps, {args.parallel} workers of 1 CPU")
    print(f"1 seed:  {single_wall:7.1f} s search wall  (evaluation {single.user_attrs['timings']['total']:.1f} s, "
          f"quality {single.values[0]:.3f})")
    walls = [r["wall_s"] for r in many.user_attrs["per_seed"]]
    m = many.user_attrs["metrics"]
    print(f"{args.seeds} seeds: {many_wall:7.1f} s search wall  (per-seed worker wall "
          f"{', '.join(f'{w:.1f}' for w in walls)} s; quality {m['quality']:.3f} "
          f"[{m['quality.ci_low']:.3f}, {m['quality.ci_high']:.3f}])")
    print(f"ratio {args.seeds} seeds / 1 seed: {many_wall / single_wall:.2f}x "
          f"(ideal {-(-args.seeds // args.parallel):.1f}x with {args.parallel} workers; target <= 2.2x for 4 on 2)")


if __name__ == "__main__":
    main()
