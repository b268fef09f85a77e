"""`dsf-search run SPACE` and `dsf-search resume STUDY`: the search, with a closing Pareto table."""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys

from dsf_search.results.export import refresh_after_run
from dsf_search.results.table import PARAM, searched_columns
from dsf_search.search import SAMPLERS, DriverBusy, Summary, resume_search, run_search
from dsf_search.search.storage import DEFAULT_ROOT

PARETO_COLUMNS = ("number", "architecture")


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--storage", help="Optuna storage URL (postgresql://..., sqlite:///...) or a journal file path; "
                                     "default: results/<study>/journal.log")
    p.add_argument("--root", default=str(DEFAULT_ROOT), help="folder of the embedded studies (default results/)")
    p.add_argument("--trials", type=int, help="target number of distinct complete architectures in the study "
                                               "(repeats of an evaluated one are answered, not counted)")
    p.add_argument("--quiet", action="store_true", help="no progress line")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="search a space: Optuna asks, Ray evaluates, results land in the study",
                       description="Run (or continue) the search of SPACE until the study holds --trials COMPLETE trials.")
    p.add_argument("space", help="search space YAML (see docs/grammar.md)")
    p.add_argument("--study", help="study name (default: the space's name)")
    p.add_argument("--parallel", type=int, help="trials in flight at once (default: the space's search.parallelism)")
    p.add_argument("--address", help="join a Ray cluster (e.g. 'auto', or host:port; RAY_ADDRESS works too)")
    p.add_argument("--gpus-per-trial", type=float, help="GPU fraction per trial (default: the protocol's)")
    p.add_argument("--cpus-per-trial", type=float, help="CPUs per trial; also torch's threads (default: the protocol's)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"], help="where trials run (default auto)")
    p.add_argument("--sampler", choices=SAMPLERS, help="override the space's sampler")
    p.add_argument("--seed", type=int, help="sampler and evaluation seed (default: the space's)")
    p.add_argument("--serial", action="store_true", help="evaluate in this process, one at a time (no Ray; debugging)")
    _add_common(p)
    p.set_defaults(run=run)

    r = sub.add_parser("resume", help="continue a study with the settings it was run with",
                       description="Continue STUDY: orphaned trials are re-queued and the search runs to its target.")
    r.add_argument("study", help="study name")
    _add_common(r)
    r.set_defaults(run=resume)


def _terminate_as_interrupt(signum, frame):
    raise KeyboardInterrupt


def print_summary(summary: Summary, root: str, storage: str | None, out=sys.stdout) -> None:
    """The closing report: counts, the Pareto front, and where the seeded known architectures landed."""
    from dsf_search.results import load, pareto

    df = load(summary.study, storage, root)
    print(f"\nstudy {summary.study!r}: {summary.complete} distinct architectures complete (target {summary.target}), "
          f"{summary.failed} failed, {summary.infeasible} infeasible, {summary.reused} repeat(s) answered from earlier "
          f"results without spending the budget, {summary.elapsed_s:.0f} s; storage {summary.storage}", file=out)
    complete = df[df["state"] == "COMPLETE"] if not df.empty else df
    if complete.empty:
        print("no complete trial yet, so no Pareto front", file=out)
        return
    objectives = list(summary.objectives)
    front = pareto(df, summary.objectives)
    axes = searched_columns(df)
    cols = list(PARETO_COLUMNS) + objectives + axes

    def show(rows):
        rows = rows.assign(pareto=rows["number"].isin(front["number"]).map({True: "*", False: ""}))
        rows = rows[cols + ["pareto"]].sort_values(objectives[0], ascending=summary.objectives[objectives[0]] != "maximize")
        rows = rows.rename(columns={c: c.removeprefix(PARAM) for c in axes})
        print(rows.astype(object).fillna("-").to_string(index=False), file=out)

    distinct = complete[complete["duplicate_of"].isna()] if "duplicate_of" in complete else complete
    print(f"Pareto front ({len(front)} of {len(distinct)} distinct complete architectures; searched axes):", file=out)
    show(front)
    seeds = complete[complete["architecture"].notna() & complete["duplicate_of"].isna()] if "architecture" in complete else complete.iloc[:0]
    if not seeds.empty:
        print("\nseeded known architectures (* = on the Pareto front):", file=out)
        show(seeds)


def resume_hint(study: str, root: str, storage: str | None) -> str:
    """The line that says how to continue a stopped study."""
    where = f" --storage {storage}" if storage else (f" --root {root}" if root != str(DEFAULT_ROOT) else "")
    return (f"interrupted: the trials in flight are marked interrupted and re-queued; continue with "
            f"`dsf-search resume {study}{where}`")


def _study_name(args: argparse.Namespace) -> str:
    from dsf_search.space import load_space

    return args.study or load_space(args.space).name


def run(args: argparse.Namespace) -> int:
    signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    try:
        summary = run_search(
            args.space, show_progress=not args.quiet, study=args.study, trials=args.trials, parallel=args.parallel,
            storage=args.storage, address=args.address, cpus_per_trial=args.cpus_per_trial,
            gpus_per_trial=args.gpus_per_trial, device=args.device, sampler=args.sampler, seed=args.seed,
            root=args.root, executor="serial" if args.serial else "ray",
        )
    except DriverBusy as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\n" + resume_hint(_study_name(args), args.root, args.storage), file=sys.stderr)
        return 130
    finally:
        refresh_after_run(args.study, args.space, args.storage, args.root)
    print_summary(summary, args.root, args.storage)
    return 0


def resume(args: argparse.Namespace) -> int:
    signal.signal(signal.SIGTERM, _terminate_as_interrupt)

    def overrides(settings):
        return dataclasses.replace(settings, trials=args.trials) if args.trials else settings

    try:
        summary = resume_search(args.study, storage=args.storage, root=args.root, show_progress=not args.quiet,
                                overrides=overrides)
    except DriverBusy as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\n" + resume_hint(args.study, args.root, args.storage), file=sys.stderr)
        return 130
    finally:
        refresh_after_run(args.study, None, args.storage, args.root)
    print_summary(summary, args.root, args.storage)
    return 0
