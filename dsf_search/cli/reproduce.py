"""`dsf-search reproduce [STUDY ...] [--list] [--quick]`: the studies of spaces/studies/ (published
claims as spaces with an `expect:` section) run through the real search, with a verdict per claim."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

from dsf_search.cli.commands import summary
from dsf_search.cli.flags import output_folder, whole
from dsf_search.grammar.limits import MAX_PARALLELISM
from dsf_search.search.storage import DEFAULT_ROOT

DESCRIPTION = """Run each STUDY (default: every study) of spaces/studies/ through the search on
this machine (or --address's cluster) and judge its claims: PASS when a claim holds for the 95%
intervals, FAIL when the intervals contradict it, INCONCLUSIVE otherwise. A study is resumable
(run it again to continue). Its results land in the study ROOT/<study>/ and its verdicts in
ROOT/<study>/verdicts.json; --showcase DIR also writes DIR/<study>/ (verdicts, results table,
report), as results/showcase/ was written. A full study compares its verdicts with the committed
ones in results/showcase/. --quick runs each study at a smoke-test budget as study <study>.quick
(a check that it runs end to end; its verdicts are not evidence)."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("reproduce", help=summary("reproduce"), description=DESCRIPTION)
    p.add_argument("studies", nargs="*", metavar="STUDY", help="study names (see --list; default: all)")
    p.add_argument("--list", action="store_true", help="list the studies, their sources and committed verdicts")
    p.add_argument("--markdown", action="store_true", help="with --list: every committed claim as a Markdown table "
                                                          "(the table of docs/studies.md)")
    p.add_argument("--quick", action="store_true", help="a smoke-test budget (study <name>.quick)")
    p.add_argument("--root", default=str(DEFAULT_ROOT), help="folder of the embedded studies (default results/)")
    p.add_argument("--showcase", type=output_folder, metavar="DIR",
                   help="also write DIR/<study>/: verdicts.json, README.md, trials.csv, report/")
    p.add_argument("--parallel", type=whole(1, MAX_PARALLELISM), help="trials in flight at once (default: the study's)")
    p.add_argument("--address", help="join a Ray cluster (e.g. 'auto', or host:port)")
    p.add_argument("--serial", action="store_true", help="evaluate in this process, one at a time (no Ray; debugging)")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.set_defaults(run=run)


def _terminate_as_interrupt(signum, frame):
    from dsf_search.search.signals import Interrupted

    raise Interrupted(signum)


def _list(markdown: bool) -> int:
    from dsf_search.results.claims import combine
    from dsf_search.results.showcase import claims_table, committed
    from dsf_search.search.plan import load_plan
    from dsf_search.search.studies import studies_dir, study_files

    out = sys.stdout  # resolved per call: a stream bound at import can be closed
    files = study_files()
    if not files:
        print(f"no studies in {studies_dir()}", file=out)
        return 0
    if markdown:
        plans = [load_plan(path) for path in files]
        out.write(claims_table([(p.name, p.expect.source if p.expect else "", committed(p.name)) for p in plans]))
        return 0
    for path in files:
        plan = load_plan(path)
        claims = plan.expect.claims if plan.expect else ()
        shipped = committed(plan.name)
        verdicts = [c["verdict"] for c in shipped["claims"]] if shipped else []
        tally = ", ".join(f"{verdicts.count(v)} {v}" for v in ("PASS", "FAIL", "INCONCLUSIVE") if v in verdicts)
        spent = shipped.get("trials_wall_s") if shipped else None
        state = (f"committed: {combine(verdicts)} ({tally}{'' if spent is None else f'; {spent:.0f} s'})" if shipped
                 else "no committed verdict")
        print(f"{plan.name}: {len(claims)} claim(s), {plan.size_text()}; {state}", file=out)
        print(f"    source: {plan.expect.source if plan.expect else '(no expect: section)'}", file=out)
    return 0


def _reproduce(path: Path, args: argparse.Namespace) -> int:
    from dsf_search.cli.run import print_summary
    from dsf_search.errors import InputError
    from dsf_search.results.claims import check_claims, verdicts
    from dsf_search.results.export import refresh_exports
    from dsf_search.results.showcase import (VERDICTS, Run, command_line, committed, load_average, now, record,
                                             trials_span, write_showcase, write_verdicts)
    from dsf_search.results.table import table
    from dsf_search.results.study import load_study
    from dsf_search.search import run_search
    from dsf_search.search.plan import load_plan
    from dsf_search.search.storage import study_dir
    from dsf_search.search.studies import quick_plan

    out = sys.stdout
    plan = load_plan(path)
    if plan.expect is None:
        raise InputError(f"{path}: a study needs an `expect:` section (docs/grammar.md)")
    check_claims(plan)
    if args.quick:
        plan = quick_plan(plan)
    print(f"== study {plan.name}: {len(plan.expect.claims)} claim(s); source: {plan.expect.source}", file=out)
    started, load_before, t0 = now(), load_average(), time.monotonic()
    summary_ = run_search(str(path), plan=plan, show_progress=not args.quiet, study=plan.name, parallel=args.parallel,
                          address=args.address, root=args.root, executor="serial" if args.serial else "ray")
    wall = time.monotonic() - t0
    print_summary(summary_, args.root, None, out=out)
    refresh_exports(plan.name, None, args.root)
    study = load_study(plan.name, None, args.root)
    results = verdicts(study, plan.expect.claims)
    span = trials_span(table(study))
    run = Run(study=plan.name, space=str(path), quick=args.quick, started=started, wall_s=wall, trials_wall_s=span,
              load_before=load_before, load_after=load_average(), command=command_line())
    spent = "" if span is None else f"; trials ran {span:.0f} s from the first start to the last end"
    print(f"\nverdicts of {plan.name} (this command {wall:.0f} s{spent}):", file=out)
    shipped = None if args.quick else committed(plan.name)
    before = {c["claim"]: c["verdict"] for c in shipped["claims"]} if shipped else {}
    for v in results:
        lines = v.lines()
        if shipped is not None:
            was = before.get(v.claim.claim)
            lines[0] += ("  (committed: not there)" if was is None else
                         f"  (committed: {was}{', same' if was == v.verdict else ', DIFFERS'})")
        print("\n".join(lines), file=out)
    target = study_dir(plan.name, args.root) / VERDICTS
    write_verdicts(target, record(run, results, plan.expect.source))
    print(f"verdicts written to {target}", file=out)
    if args.showcase is not None:
        folder = write_showcase(Path(args.showcase), run, results, plan.expect.source, None, args.root)
        print(f"showcase written to {folder}", file=out)
    return 1 if summary_.stopped else 0


def run(args: argparse.Namespace) -> int:
    from dsf_search.search.studies import study_file, study_files

    if args.list:
        return _list(args.markdown)
    signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    paths = [study_file(name) for name in args.studies] if args.studies else study_files()
    if not paths:
        from dsf_search.errors import InputError
        from dsf_search.search.studies import studies_dir

        raise InputError(f"no studies in {studies_dir()}")
    from dsf_search.search import DriverBusy
    from dsf_search.search.signals import Interrupted

    status = 0
    for path in paths:
        try:
            status = max(status, _reproduce(path, args))
        except DriverBusy as err:
            print(f"error: {err}", file=sys.stderr)
            status = 1
        except Interrupted as err:
            print(f"\n{err.message}", file=sys.stderr)
            return err.exit_code
    return status
