"""`dsf-search run SPACE` and `dsf-search resume STUDY`: the search, with a closing Pareto table."""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
from typing import TYPE_CHECKING

from dsf_search.cli.commands import summary
from dsf_search.cli.flags import SEED, number, study_name, whole
from dsf_search.errors import InputError
from dsf_search.defaults import SAMPLERS
from dsf_search.search.signals import Interrupted
from dsf_search.search.storage import DEFAULT_ROOT, scrub
from dsf_search.grammar.limits import MAX_PARALLELISM, MAX_TRIALS

if TYPE_CHECKING:  # the driver (Optuna, Ray, torch) and the tables (pandas) are imported when the command runs
    from dsf_search.search import Summary

PARETO_COLUMNS = ("number", "architecture")
MAX_DEVICES = 4096  # CPUs or GPUs one trial may ask for


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--storage", help="Optuna storage URL (postgresql://..., sqlite:///...) or a journal file path; "
                                     "default: results/<study>/journal.log")
    p.add_argument("--root", default=str(DEFAULT_ROOT), help="folder of the embedded studies (default results/)")
    p.add_argument("--trials", type=whole(1, MAX_TRIALS), help="target number of distinct complete architectures "
                                                                "in the study (repeats are answered, not counted)")
    p.add_argument("--quiet", action="store_true", help="no progress line")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help=summary("run"),
                       description="Run (or continue) the search of SPACE until the study holds --trials COMPLETE trials.")
    p.add_argument("space", help="search space YAML (see docs/grammar.md)")
    p.add_argument("--study", type=study_name, help="study name (default: the space's name)")
    p.add_argument("--parallel", type=whole(1, MAX_PARALLELISM), help="trials in flight at once (default: the space's search.parallelism)")
    p.add_argument("--address", help="join a Ray cluster (e.g. 'auto', or host:port; RAY_ADDRESS works too)")
    p.add_argument("--gpus-per-trial", type=number(0, MAX_DEVICES), help="GPU fraction per trial (default: the protocol's)")
    p.add_argument("--cpus-per-trial", type=number(0, MAX_DEVICES, above=True), help="CPUs per trial; also torch's threads (default: the protocol's)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"], help="where trials run (default auto)")
    p.add_argument("--sampler", choices=SAMPLERS, help="override the space's sampler")
    p.add_argument("--seed", type=SEED, help="sampler and evaluation seed (default: the space's)")
    p.add_argument("--serial", action="store_true", help="evaluate in this process, one at a time (no Ray; debugging)")
    _add_common(p)
    p.set_defaults(run=run)

    r = sub.add_parser("resume", help=summary("resume"),
                       description="Continue STUDY: orphaned trials are re-queued and the search runs to its target.")
    r.add_argument("study", type=study_name, help="study name")
    _add_common(r)
    r.set_defaults(run=resume)


def _terminate_as_interrupt(signum, frame):
    """SIGTERM before the driver installs its own handlers (loading the space): stop as Ctrl-C does."""
    raise Interrupted(signum)


def _finish(summary: Summary, args: argparse.Namespace) -> int:
    """Print the closing report; exit 1 when the search stopped on its failures, else 0."""
    print_summary(summary, args.root, args.storage)
    return 1 if summary.stopped else 0


def _guarded(job, args: argparse.Namespace) -> int:
    """Run `job()`; a busy study, a signal or an error is reported without the storage URL's password."""
    from dsf_search.search import DriverBusy

    try:
        return _finish(job(), args)
    except DriverBusy as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except Interrupted as err:
        print(f"\n{err.message}", file=sys.stderr)
        return err.exit_code
    except Exception as err:  # noqa: BLE001 - printed here so that the password can be scrubbed
        message = str(err) if isinstance(err, InputError) else f"{type(err).__name__}: {err}"
        print(scrub(f"error: {message}", args.storage), file=sys.stderr)
        return 2 if isinstance(err, InputError) else 1


def print_summary(summary: Summary, root: str, storage: str | None, out=None) -> None:
    """The closing report: counts, the Pareto front, and where the seeded known architectures landed
    (on `out`, default sys.stdout as it is when called)."""
    out = sys.stdout if out is None else out
    from dsf_search.results import load, pareto
    from dsf_search.results.table import PARAM, searched_columns

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
    axes = searched_columns(df)  # what the space searched, never the axes it fixed
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
    from dsf_search.results.ladder import format_ladder

    ladder = format_ladder(summary.study, storage, root)
    if ladder:
        print("\n" + ladder, file=out)


def run(args: argparse.Namespace) -> int:
    from dsf_search.results.export import refresh_after_run
    from dsf_search.search import run_search

    signal.signal(signal.SIGTERM, _terminate_as_interrupt)

    def job() -> Summary:
        return run_search(
            args.space, show_progress=not args.quiet, study=args.study, trials=args.trials, parallel=args.parallel,
            storage=args.storage, address=args.address, cpus_per_trial=args.cpus_per_trial,
            gpus_per_trial=args.gpus_per_trial, device=args.device, sampler=args.sampler, seed=args.seed,
            root=args.root, executor="serial" if args.serial else "ray",
        )

    try:
        return _guarded(job, args)
    finally:
        refresh_after_run(args.study, args.space, args.storage, args.root)


def resume(args: argparse.Namespace) -> int:
    from dsf_search.results.export import refresh_after_run
    from dsf_search.search import resume_search

    signal.signal(signal.SIGTERM, _terminate_as_interrupt)

    def overrides(settings):
        return dataclasses.replace(settings, trials=args.trials) if args.trials is not None else settings

    def job() -> Summary:
        return resume_search(args.study, storage=args.storage, root=args.root, show_progress=not args.quiet,
                             overrides=overrides)

    try:
        return _guarded(job, args)
    finally:
        refresh_after_run(args.study, None, args.storage, args.root)
