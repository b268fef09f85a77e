"""`dsf-search evaluate (PRESET | SPEC.yaml) --evaluator PROTOCOL.yaml`: train and measure one candidate."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TYPE_CHECKING, TextIO

from dsf_search.cli.commands import summary
from dsf_search.cli.flags import SEED, number
from dsf_search.errors import InputError
from dsf_search.defaults import DEFAULT_PROTOCOL
from dsf_search.evaluate.progress import EFFICIENCY, EVAL, RUN_END, STEP

if TYPE_CHECKING:  # training (torch) and tables (pandas) are imported when the command runs
    import pandas as pd

    from dsf_search.evaluate import EvalResult, ProgressEvent

DEFAULT_EVALUATOR = DEFAULT_PROTOCOL
_REDRAW_S = 0.2  # a terminal line redraw at most this often: steps come far faster


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate", help=summary("evaluate"),
        description="Evaluate a zoo preset (sized by the protocol's model defaults) or a ModelSpec YAML file: "
                    "train it on the protocol's tasks, measure its efficiency, print the per-task table "
                    "and the metrics. Exit 1 when the evaluation failed (diverged, oom, timeout, error).",
    )
    p.add_argument("candidate", help="preset name (see `dsf-search zoo`) or path of a ModelSpec YAML file")
    p.add_argument("--evaluator", help=f"protocol YAML (default {DEFAULT_EVALUATOR}, found from any directory)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N (default auto)")
    p.add_argument("--seed", type=SEED, default=0,
                   help="seed of init and batch order, and of the data unless --data-seed is given; with the "
                        "protocol's `seeds: N` the seeds are SEED .. SEED+N-1 (default 0)")
    p.add_argument("--data-seed", type=SEED, default=None,
                   help="seed of the task data (default: --seed); the seeds of `seeds: N` share the data of SEED")
    p.add_argument("--time-budget", type=number(0, above=True), default=None, metavar="S",
                   help="override the protocol's per-trial timeout, in seconds")
    p.add_argument("--json", action="store_true", help="print the result as JSON (no progress, no table)")
    p.set_defaults(run=run)


class ProgressLine:
    """Renders progress events as one self-overwriting line on a terminal (a line per run otherwise)."""

    def __init__(self, stream: TextIO):
        self.stream = stream
        self.live = stream.isatty()
        self.last = 0.0

    def __call__(self, event: ProgressEvent) -> None:
        if event.kind == EFFICIENCY:
            self._write("measuring efficiency ...", final=not self.live)
            return
        head = f"[{event.run}/{event.runs}] {event.task} ({event.setting}) lr={event.lr:g} wd={event.weight_decay:g}"
        if event.kind == RUN_END:
            self._write(f"{head}: acc {event.accuracy:.3f} after {event.step} steps ({event.elapsed_s:.0f} s)", final=True)
        elif event.kind in (STEP, EVAL) and self.live:
            now = time.monotonic()
            if event.kind == EVAL or now - self.last >= _REDRAW_S:
                acc = f" acc {event.accuracy:.3f}" if event.accuracy is not None else ""
                self._write(f"{head}: step {event.step}/{event.steps} loss {event.loss:.3f}{acc} ({event.elapsed_s:.0f} s)")
                self.last = now

    def _write(self, text: str, final: bool = False) -> None:
        if self.live:
            self.stream.write("\r\033[K" + text + ("\n" if final else ""))
        elif final:
            self.stream.write(text + "\n")
        self.stream.flush()


def format_result(result: EvalResult) -> str:
    """The per-task table, then the aggregate, efficiency and cost metrics."""
    import pandas as pd

    from dsf_search.evaluate.seeds import is_statistic

    seeds = ", ".join(map(str, result.seeds)) if result.seeds else str(result.seed)
    lines = [f"status: {result.status}" + (f" ({result.reason})" if result.reason else ""),
             f"device: {result.device}   protocol: {result.protocol}   seed{'s' if result.seeds else ''}: {seeds}   "
             f"spec: {result.spec_hash}"]
    if result.tasks:
        table = pd.DataFrame([{
            "task": row.task, "setting": row.setting, "accuracy": f"{row.accuracy:.3f}", "lr": f"{row.lr:g}",
            "wd": f"{row.weight_decay:g}", "steps": row.steps, "time_s": f"{row.time_s:.1f}",
        } for row in result.tasks])
        lines += ["", table.to_string(index=False)]
    if result.metrics:
        names = [name for name in result.metrics if not is_statistic(name)]
        seeded = f" (mean over {len(result.seeds)} seeds; 95% Student-t interval, std)" if result.seeds else ""
        lines += ["", f"metrics{seeded}:"]
        width = max(len(name) for name in names)
        lines += [f"  {name:<{width}}  {_with_interval(result.metrics, name)}" for name in names]
    if result.per_seed:
        lines += ["", "per seed:", _per_seed_table(result).to_string(index=False)]
    lines += ["", "time: " + "  ".join(f"{phase} {seconds:.1f} s" for phase, seconds in result.timings.items())]
    return "\n".join(lines)


def _with_interval(metrics: dict[str, float], name: str) -> str:
    """`mean`, or `mean ± half [low, high] std s` when the metric has a seed interval."""
    from dsf_search.evaluate.seeds import CI_HIGH, CI_LOW, STD

    value = metrics[name]
    if name + CI_LOW not in metrics:
        return _number(value)
    low, high, std = metrics[name + CI_LOW], metrics[name + CI_HIGH], metrics[name + STD]
    return f"{_number(value)} ± {_number((high - low) / 2)}  [{_number(low)}, {_number(high)}]  std {_number(std)}"


def _per_seed_table(result: EvalResult) -> pd.DataFrame:
    """One row per seed: status, the task metrics and quality, the seed's wall time."""
    import pandas as pd

    rows = []
    for record in result.per_seed:
        metrics = record.get("metrics") or {}
        row = {"seed": record["seed"], "status": record["status"]}
        row.update({name: _number(value) for name, value in metrics.items() if "." in name or name == "quality"})
        row["time_s"] = f"{(record.get('timings') or {}).get('total', float('nan')):.1f}"
        rows.append(row)
    return pd.DataFrame(rows)


def _number(value: float) -> str:
    if value.is_integer() and abs(value) >= 1000:  # counts: params, bytes, FLOPs
        return f"{value:.0f}"
    return f"{value:.3f}" if abs(value) < 10 else f"{value:.4g}"


def run(args: argparse.Namespace) -> int:
    from dsf_search.evaluate import DEVICES, candidate_spec, evaluate, load_protocol
    from dsf_search.evaluate.candidate import default_protocol_path

    if args.device not in DEVICES and not args.device.startswith("cuda:"):
        raise InputError(f"--device: {args.device!r} is not one of {', '.join(DEVICES)} (or cuda:N)")
    protocol = load_protocol(args.evaluator or default_protocol_path())
    spec = candidate_spec(args.candidate, protocol)
    progress = None if args.json else ProgressLine(sys.stderr)
    result = evaluate(spec, protocol, device=args.device, seed=args.seed, progress=progress,
                      time_budget_s=args.time_budget, data_seed=args.data_seed)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(format_result(result))
    return 0 if result.ok else 1
