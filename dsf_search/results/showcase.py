"""Shipped results of the studies: results/showcase/<study>/, written by `dsf-search reproduce
--showcase DIR` and read back to compare a rerun with what was committed.

A study's folder holds `verdicts.json` (the verdict of every claim with its numbers, the machine,
the wall time, the versions and the command), `README.md` (the same for a reader), `trials.csv`
(the results table) and, with the `results` extra, `report/` (the study's HTML report and its
figures).
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dsf_search.errors import InputError
from dsf_search.results.claims import Verdict
from dsf_search.results.export import atomic_write
from dsf_search.results.table import table
from dsf_search.search.expect import Judgement
from dsf_search.search.attrs import versions

SHOWCASE = Path("results/showcase")
VERDICTS, README, TRIALS, REPORT = "verdicts.json", "README.md", "trials.csv", "report"


def showcase_dir() -> Path:
    """results/showcase of the working directory when it has one, else of the checkout this
    package runs from."""
    if SHOWCASE.is_dir():
        return SHOWCASE
    checkout = Path(__file__).resolve().parents[2] / SHOWCASE
    return checkout if checkout.is_dir() else SHOWCASE


@dataclass(frozen=True)
class Run:
    """How a study's results were obtained: when, how long, on what, by which command."""

    study: str
    space: str
    quick: bool
    started: str
    wall_s: float  # of this command (a rerun of a finished study only judges it again)
    trials_wall_s: float | None  # from the study's first trial start to its last trial end
    load_before: tuple[float, ...]
    load_after: tuple[float, ...]
    command: str

    def machine(self) -> dict[str, Any]:
        return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
                "cpus": os.cpu_count(), "load_average_before": list(self.load_before),
                "load_average_after": list(self.load_after), "versions": versions()}


def load_average() -> tuple[float, ...]:
    """The 1, 5 and 15 minute load averages (empty where the platform has none)."""
    try:
        return tuple(round(x, 2) for x in os.getloadavg())
    except (AttributeError, OSError):
        return ()


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def command_line(argv: Sequence[str] | None = None) -> str:
    return "dsf-search " + shlex.join(sys.argv[1:] if argv is None else argv)


def record(run: Run, verdicts: Sequence[Verdict], source: str) -> dict[str, Any]:
    """What verdicts.json holds."""
    return {"study": run.study, "space": run.space, "quick": run.quick, "source": source, "started": run.started,
            "wall_s": round(run.wall_s, 1),
            "trials_wall_s": None if run.trials_wall_s is None else round(run.trials_wall_s, 1), "command": run.command, "machine": run.machine(),
            "claims": [v.to_dict() for v in verdicts]}


def write_verdicts(path: Path, data: dict[str, Any]) -> None:
    """Write a verdicts.json record (see `record`) atomically."""
    atomic_write(path, lambda tmp: tmp.write_text(json.dumps(data, indent=2, default=str) + "\n"))


def trials_span(df) -> float | None:
    """Seconds from the first trial's start to the last trial's end in a results table (None
    without a finished trial)."""
    starts, ends = df.get("datetime_start"), df.get("datetime_complete")
    if starts is None or ends is None or ends.dropna().empty:
        return None
    return float((ends.dropna().max() - starts.dropna().min()).total_seconds())


def committed(study: str, directory: Path | None = None) -> dict[str, Any] | None:
    """The committed verdicts.json of `study` (None when there is none; a torn or foreign file
    is an InputError naming it)."""
    path = (showcase_dir() if directory is None else directory) / study / VERDICTS
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"{path}: not a verdicts file ({err})") from None
    if not isinstance(data, dict) or not isinstance(data.get("claims"), list):
        raise InputError(f"{path}: not a verdicts file (no list of claims)")
    return data


def _markdown(data: dict[str, Any], verdicts: Sequence[Verdict], with_report: bool) -> str:
    machine = data["machine"]
    lines = [f"# Study `{data['study']}`", "", f"Source: {data['source']}", "",
             f"Rerun: `dsf-search reproduce {data['study']}` (space `{data['space']}`).", "",
             "| verdict | claim | numbers |", "|---|---|---|"]
    for v in verdicts:
        numbers = v.judgement.text() if v.judgement is not None else "; ".join(
            f"{v.claim.each} = {value}: {j.verdict}, {j.text()}" for value, j in v.groups)
        lines.append(f"| {v.verdict} | {v.claim.claim} | {v.claim.kind} on `{v.claim.metric}`: {numbers} |")
    span = data["trials_wall_s"]
    lines += ["", f"Run: {data['started']}, trials from first start to last end {span if span is None else round(span)} s"
                  f" (this command {data['wall_s']:.0f} s), {machine['cpus']} CPUs "
                  f"({machine['processor']}, {machine['platform']}), load average {machine['load_average_before']} "
                  f"before and {machine['load_average_after']} after; versions {machine['versions']}.", "",
              f"Command: `{data['command']}`", "",
              f"Files: `{TRIALS}` (the results table), `{VERDICTS}` (these verdicts as data)"
              + (f", `{REPORT}/index.html` (the study's report and its figures)" if with_report else "") + ".", ""]
    return "\n".join(lines)


def write_showcase(directory: Path, run: Run, verdicts: Sequence[Verdict], source: str, storage: str | None,
                   root: str | Path, report: bool = True) -> Path:
    """Write the showcase of study `run.study` (in `storage`, default the journal under `root`)
    into directory/<study>/ (see the module docstring); return that folder. The report is left
    out when `report` is False or matplotlib (the `results` extra) is missing."""
    from dsf_search.results.extras import available
    from dsf_search.results.study import load_study

    folder = directory / run.study
    folder.mkdir(parents=True, exist_ok=True)
    with_report = report and available("matplotlib")
    if with_report:
        from dsf_search.results.report import build_report

        build_report(run.study, storage=storage, root=root, out=folder / REPORT, maps=0)
    df = table(load_study(run.study, storage, root))
    data = record(run, verdicts, source)
    atomic_write(folder / TRIALS, lambda tmp: df.to_csv(tmp, index=False))
    atomic_write(folder / README, lambda tmp: tmp.write_text(_markdown(data, verdicts, with_report)))
    write_verdicts(folder / VERDICTS, data)
    return folder


def _judged_text(j: dict[str, Any]) -> str:
    """A judgement stored in verdicts.json, in the words Judgement.text() gives it."""
    estimate = float("nan") if j.get("estimate") is None else j["estimate"]
    return Judgement(j["verdict"], estimate, j.get("ci_low"), j.get("ci_high"), tuple(j.get("n") or ()), j["bound"],
                     j["statistic"], j.get("above", True)).text()


def claims_table(studies: Sequence[tuple[str, str, dict[str, Any] | None]]) -> str:
    """A Markdown table of every committed claim: (study name, its source, its verdicts.json or
    None) -> one row per claim with its verdict, numbers and the study's wall time, linking the
    study's showcase folder."""
    lines = ["| study | claim | verdict | numbers | trials wall time |", "|---|---|---|---|---|"]
    for name, source, shipped in studies:
        link = f"[{name}](../{SHOWCASE.as_posix()}/{name}/{README})"
        if shipped is None:
            lines.append(f"| {link} | (not run yet) | - | - | - |")
            continue
        spent = shipped.get("trials_wall_s")
        wall = "-" if spent is None else f"{spent:.0f} s"
        for c in shipped["claims"]:
            if c.get("judgement"):
                numbers = _judged_text(c["judgement"])
            else:
                numbers = "; ".join(f"{c['each']} = {g['value']}: {g['verdict']}, {_judged_text(g)}" for g in c["groups"])
            lines.append(f"| {link} | {c['claim']} | **{c['verdict']}** | {c['kind']} on `{c['metric']}`: {numbers} | {wall} |")
    return "\n".join(lines) + "\n"
