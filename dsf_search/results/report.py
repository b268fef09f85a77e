"""The HTML report of a study: one page with PNG figures beside it.

Sections: the study in numbers; the Pareto front (a table, and each quality objective against
each cost with the seed architectures labelled); the effect of each design axis on quality;
parameter importances; failures; the coefficient maps alpha_ij of the best candidates on a
sequence of a task of the study's protocol, drawn with the weights each trial kept (its full
training; see search/artifacts.py), or, for trials that kept none, retrained to the trial's
step budget on that task; with the protocol's `seeds: N`, every objective is shown as mean ±
half of its 95% interval over the seeds, and the Pareto plot has error bars. Whatever cannot be drawn (too few trials, no protocol file) is said so on
the page instead.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import optuna
import pandas as pd

from dsf_search.errors import InputError
from dsf_search.evaluate.protocol import COST_METRICS, EFFICIENCY_METRICS, MAXIMIZE, QUALITY, Protocol, load_protocol
from dsf_search.results import plots
from dsf_search.defaults import DEFAULT_MAPS, DEFAULT_MAX_LEN, REPORT_DIR
from dsf_search.results.coefficients import check_mappable, coefficient_maps, task_entry, trained_maps
from dsf_search.results.extras import pyplot
from dsf_search.results.formats import cell, plain
from dsf_search.results.importance import importances
from dsf_search.results.pareto import candidates, pareto
from dsf_search.results.study import load_study, objectives_of
from dsf_search.results.states import INTERRUPTED, outcome
from dsf_search.results.table import groups, searched_columns, table
from dsf_search.results.uncertainty import axis_effects, effect_text, with_intervals
from dsf_search.results.weights import trial_model
from dsf_search.search import attrs as A
from dsf_search.search.storage import DEFAULT_ROOT, study_dir
from dsf_search.search.plan import load_plan
from dsf_search.tasks import make_task

FAILURE_EXAMPLES = 5
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1300px; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; font-size: .85em; margin: .5em 0; }
th, td { border: 1px solid #ddd; padding: .25em .6em; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; } th { background: #f3f3f3; }
img { max-width: 100%; border: 1px solid #eee; margin: .5em 0; } .note { color: #666; font-style: italic; }
"""


@dataclass
class Page:
    """The report as it is assembled: its HTML sections."""

    title: str
    sections: list[str] = field(default_factory=list)

    def section(self, heading: str, *parts: str) -> None:
        self.sections.append(f"<h2>{html.escape(heading)}</h2>\n" + "\n".join(parts))

    @staticmethod
    def image(path: Path, alt: str) -> str:
        return f'<img src="{html.escape(path.name)}" alt="{html.escape(alt)}">'

    def render(self) -> str:
        return (f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{html.escape(self.title)}</title>"
                f"<style>{STYLE}</style></head>\n<body>\n<h1>{html.escape(self.title)}</h1>\n"
                + "\n".join(self.sections) + "\n</body></html>\n")


def note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def html_table(df: pd.DataFrame) -> str:
    numeric = [pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]) for c in df.columns]
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    rows = []
    for record in df.itertuples(index=False, name=None):
        cells = "".join(f'<td{" class=num" if num else ""}>{html.escape(cell(plain(v), 4))}</td>'
                        for v, num in zip(record, numeric))
        rows.append(f"<tr>{cells}</tr>")
    return f"<table><tr>{head}</tr>\n" + "\n".join(rows) + "\n</table>"


def varied(df: pd.DataFrame, columns: list[str]) -> list[str]:
    """The columns that take more than one value (missing counts as a value: inactive)."""
    return [c for c in columns if df[c].astype(object).where(df[c].notna(), None).map(repr).nunique() > 1]


def design_axes(df: pd.DataFrame) -> list[str]:
    """The axes to break quality down by: the search decisions that varied, else the spec
    axes that varied (a space of seeds only has no decisions)."""
    g = groups(df.columns)
    return varied(df, g.params) or varied(df, g.axes)


def study_protocol(study: optuna.Study, evaluator: str | None) -> tuple[Protocol | None, str]:
    """The protocol of the study: `evaluator` when given, else the one its space file names (found
    from any directory: the file as recorded, its absolute path, or the same path in this checkout)."""
    if evaluator is not None:
        return load_protocol(evaluator), ""
    record = study.user_attrs.get(A.STUDY_SPACE) or {}
    file = record.get("file")
    if file and not Path(file).exists():
        checkout = Path(__file__).resolve().parents[2] / file
        file = next((str(c) for c in (record.get("path"), checkout) if c and Path(c).exists()), file)
    try:
        protocol = load_plan(file).protocol if file else None
    except InputError as err:
        return None, f"the study's space file {file} cannot be loaded ({str(err).splitlines()[0]}); pass --evaluator"
    return protocol, "" if protocol else "the study records no space file; pass --evaluator"


def _summary(page: Page, study: optuna.Study, df: pd.DataFrame, objectives: dict[str, str]) -> None:
    space = study.user_attrs.get(A.STUDY_SPACE) or {}
    counts = outcome(df).value_counts()
    rows = pd.DataFrame([
        {"": "space", "value": f"{space.get('name', '?')} ({space.get('file', '?')})"},
        {"": "objectives", "value": ", ".join(f"{k} ({v})" for k, v in objectives.items())},
        *({"": f"{state} trials", "value": str(int(counts.get(state, 0)))}
          for state in ("COMPLETE", "FAIL", INTERRUPTED, "PRUNED")),
    ])
    page.section("Study", html_table(rows))


def _front(page: Page, out: Path, df: pd.DataFrame, objectives: dict[str, str], axes: list[str]) -> pd.DataFrame:
    done = candidates(df, objectives)
    front = pareto(df, objectives) if objectives else done.iloc[:0]
    qualities = [c for c, d in objectives.items() if d == MAXIMIZE] or ([QUALITY] if QUALITY in df else [])
    cost_names = [c for c, d in objectives.items() if d != MAXIMIZE]
    cost_names += [c for c in (*COST_METRICS, *(m for m, d in EFFICIENCY_METRICS.items() if d != MAXIMIZE))
                   if c not in cost_names]
    costs = [c for c in cost_names if c in done and done[c].notna().any() and c not in qualities]
    decisions = searched_columns(df) or axes  # every searched axis: a constant one on the front is a finding
    shown = [c for c in ("number", "architecture", *objectives, *decisions) if c in front]
    ordered = front.sort_values(qualities[0], ascending=False) if qualities else front
    parts = [note(f"{len(front)} non-dominated of {len(done)} distinct complete candidates"),
             html_table(with_intervals(ordered[shown], objectives, full=ordered))] if len(front) else [note("no complete trial yet")]
    seeds = df[df["architecture"].notna() & df["duplicate_of"].isna()]
    if len(seeds):
        listed = seeds[[c for c in ("number", "architecture", "state", *objectives) if c in seeds]]
        on_front = seeds.loc[seeds.index.isin(front.index), "architecture"].astype(str).tolist()
        parts += [note(f"the seed architectures (on the front: {', '.join(on_front) or 'none'})"), html_table(listed)]
    member = pd.Series(done.index.isin(front.index), index=done.index)
    if any(c in plots.MEASURED for c in costs) and len(done):
        parts.append(note("throughput, latency and memory are single measurements per trial, taken while other "
                          "trials may have been running on the same machine: compare them across trials with care "
                          "(bench/ scripts measure ratios in one run)"))
    for quality in qualities if costs and len(done) else []:
        path = plots.pareto_panels(done, quality, costs, member, out / f"pareto_{quality}.png")
        parts.append(page.image(path, f"{quality} against each cost"))
    page.section("Pareto front", *parts)
    return ordered


def _axes(page: Page, out: Path, df: pd.DataFrame, objectives: dict[str, str], axes: list[str]) -> None:
    done = candidates(df, objectives)
    quality = next((c for c, d in objectives.items() if d == MAXIMIZE), None)
    if quality is None or done.empty or not axes:
        page.section("Design axes", note("no quality objective, complete trial or varied axis to break down"))
        return
    path = plots.axis_effects(done, axes, quality, out / f"axes_{quality}.png")
    effects = axis_effects(done, axes, quality)
    listed = [f"<li>{html.escape(effect_text(row, quality))}</li>" for _, row in effects.iterrows()]
    page.section("Design axes", note(f"{quality} of the distinct complete candidates for each value of each axis "
                                     "('-': the axis was inactive)"), page.image(path, "effect of each axis"),
                 note(f"effect of each axis value: the difference of mean {quality} against the most frequent value, "
                      "with Welch's 95% interval over the candidates (none where a group has one candidate)"),
                 "<ul>" + "".join(listed) + "</ul>" if listed else note("no axis with two values among the candidates"))


def _importances(page: Page, out: Path, study: optuna.Study, objectives: dict[str, str]) -> None:
    result = importances(study, objectives)
    if result.table is None:
        page.section("Parameter importances", note(result.note))
        return
    path = plots.importance_bars(result.table, out / "importance.png")
    shown = result.table.reset_index(names="decision")
    warning = [f'<p><strong>{html.escape(result.warning)}</strong></p>'] if result.warning else []
    page.section("Parameter importances", *warning, note(result.note), html_table(shown),
                 page.image(path, "importances"))


def _ladder(page: Page, study_name: str, storage: str | None, root: str | Path) -> None:
    """The rungs of a fidelity ladder and how well each screen ranked like the later rungs."""
    from dsf_search.results.ladder import agreement, rungs

    table_ = rungs(study_name, storage, root)
    if table_.empty:
        return
    page.section("Fidelity ladder", note("one study per rung; rank agreement of quality between rungs over the "
                                         "candidates evaluated at both, with 95% bootstrap intervals"),
                 html_table(table_), html_table(agreement(study_name, storage, root)))


def _failures(page: Page, df: pd.DataFrame) -> None:
    bad = df[df["state"].isin(["FAIL", "PRUNED"])]
    if bad.empty:
        page.section("Failures", note("no trial failed or was infeasible"))
        return
    kinds = bad.assign(kind=bad["failure_kind"].astype(object).where(bad["failure_kind"].notna(), "unknown"))
    summary = kinds.groupby(["state", "kind"], sort=True).agg(
        trials=("number", "size"), numbers=("number", lambda s: ", ".join(map(str, list(s)[:FAILURE_EXAMPLES]))),
        example=("failure", lambda s: next((str(v) for v in s if isinstance(v, str) and v), "no reason recorded")),
    ).reset_index()
    page.section("Failures", note("failed (FAIL) and infeasible (PRUNED) trials by kind, with the first trial "
                                  "numbers and one reason"), html_table(summary))


def _maps(page: Page, out: Path, study: optuna.Study, root: str | Path, best: pd.DataFrame, protocol: Protocol | None,
          why: str, count: int, train_steps: int | None, max_len: int, seed: int, log: Callable[[str], None]) -> None:
    """Coefficient maps of the best front candidates: from the weights each trial kept (its full
    training), else retrained, by default to the trial's own step budget on that task."""
    if protocol is None or best.empty or count <= 0:
        page.section("Coefficient maps", note(why or "no complete trial to draw"))
        return
    chosen = best.head(count)
    parts = [note(f"alpha_ij of each layer and head of the best {len(chosen)} Pareto-front candidates (best first) "
                  "on a test sequence of the protocol's task; row i of a panel is how output i mixes the values "
                  "v_j, j <= i")]
    for i, (_, row) in enumerate(chosen.iterrows(), 1):
        number = int(row["number"])
        label = f"trial {number}" + (f" ({row['architecture']})" if isinstance(row.get("architecture"), str) else "")
        kept = trial_model(study, number, root)
        try:
            check_mappable(kept.spec)
        except InputError as err:
            parts.append(note(f"{label}: no map drawn ({err})"))
            continue
        if kept.state_dict is not None and train_steps is None:
            log(f"coefficient map {i}/{len(chosen)}: {label}, with the trial's trained weights ({kept.path})")
            maps = trained_maps(kept.model(), protocol, kept.task, seed=seed, max_len=max_len)
            how = f"the trial's trained weights for {kept.task}, kept at {kept.path}"
        else:
            entry = task_entry(protocol, None)
            steps = train_steps if train_steps is not None else entry.training.steps(
                int(entry.settings[0].params.get("num_train", make_task(entry.task, **entry.settings[0].params).config.num_train)))
            log(f"coefficient map {i}/{len(chosen)}: {label}, training {steps} steps first "
                f"({'--train-steps' if train_steps is not None else 'the trial kept no weights; its budget'})")
            maps = coefficient_maps(kept.spec, protocol, train_steps=steps, seed=seed, max_len=max_len)
            how = (f"retrained for {steps} steps" + ("" if train_steps is not None else ", the trial's budget")
                   + (f" (final training loss {maps.final_loss:.3f})" if maps.final_loss is not None else ""))
        path = plots.coefficient_map(maps, label, out / f"coefficients_trial{number}.png")
        parts += [note(f"{label}: {how}"), page.image(path, f"coefficient maps of {label}")]
    page.section("Coefficient maps", *parts)


def build_report(study_name: str, storage: str | None = None, root: str | Path = DEFAULT_ROOT,
                 out: str | Path | None = None, maps: int = DEFAULT_MAPS, train_steps: int | None = None,
                 max_len: int = DEFAULT_MAX_LEN, evaluator: str | None = None, seed: int = 0,
                 log: Callable[[str], None] | None = None) -> Path:
    """Write the report of `study_name` into `out` (default root/<study>/report/); return index.html.

    `train_steps` None draws the maps with each trial's kept weights (else retrains to the
    trial's budget); a number retrains every mapped model for that many steps. `log` is told
    what is being done (the CLI prints it).

    Raises:
        InputError: no such study, matplotlib missing (the `results` extra), a bad --evaluator.
    """
    log = log or (lambda message: None)
    pyplot()  # fail before any work when matplotlib is missing
    log(f"loading study {study_name!r}")
    study = load_study(study_name, storage, root)
    folder = Path(out) if out is not None else study_dir(study_name, root) / REPORT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    df = table(study)
    objectives = objectives_of(study)
    axes = design_axes(candidates(df, objectives)) if objectives else []
    page = Page(f"dsf-search report: {study_name}")
    _summary(page, study, df, objectives)
    log(f"{len(df)} trials; drawing the Pareto front")
    best = _front(page, folder, df, objectives, axes)
    log("drawing the effect of each design axis")
    _axes(page, folder, df, objectives, axes)
    log("computing parameter importances")
    _importances(page, folder, study, objectives)
    _ladder(page, study_name, storage, root)
    _failures(page, df)
    protocol, why = study_protocol(study, evaluator)
    _maps(page, folder, study, root, best, protocol, why, maps, train_steps, max_len, seed, log)
    index = folder / "index.html"
    index.write_text(page.render())
    return index
