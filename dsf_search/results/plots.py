"""Figures of a study, written as PNG files with matplotlib (Agg backend, the `results` extra).

Each function takes the data it draws and a path, draws one figure and closes it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from dsf_search.results.coefficients import TRIAL_TRAINING, CoefficientMaps
from dsf_search.results.extras import pyplot
from dsf_search.results.pareto import pareto_mask
from dsf_search.results.uncertainty import has_interval

DPI = 110
PANEL = (4.2, 3.4)  # inches per panel
MAX_HEADS = 8  # coefficient maps: the first heads of a layer (Mamba's S6 has one head per channel)
LOG_SPAN = 20.0  # a cost axis spanning more than this factor is drawn in log scale
FRONT, SEED, OTHER = "#d62728", "#1f77b4", "#9a9a9a"


def _grid(count: int, columns: int):
    plt = pyplot()
    cols = max(1, min(columns, count))
    rows = -(-count // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(PANEL[0] * cols, PANEL[1] * rows), squeeze=False)
    for ax in axes.flat[count:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:count])


def _save(fig, path: Path, top_inches: float = 0.0) -> Path:
    """Lay out (leaving `top_inches` free for a legend or title above the panels), write, close."""
    fig.tight_layout(rect=(0, 0, 1, 1 - top_inches / fig.get_figheight()))
    fig.savefig(path, dpi=DPI)
    pyplot().close(fig)
    return path


# Metrics that are timings/measurements of this machine (not analytic): their panels say so.
MEASURED = ("train_tokens_per_s", "decode_ms_per_token", "peak_memory_mb")
LABEL_FONT = 7
# Offsets (points) tried in turn for a label, nearest first; past the first ring a leader line is drawn.
_OFFSETS = [(4, 4), (4, -10), (-4, 4), (-4, -10), (0, 10), (0, -16), (10, 0), (-10, 0)] + \
    [(r * dx, r * dy) for r in (2, 3, 4) for dx, dy in ((1, 1), (1, -1), (-1, 1), (-1, -1), (0, 1), (0, -1), (1, 0), (-1, 0))]


def label_points(ax, xs: list[float], ys: list[float], texts: list[str], color: str) -> None:
    """Write each text next to its point so that no two labels overlap (greedy: each label takes
    the nearest offset whose box is free; far ones get a leader line). Points at the same place
    share one label."""
    fig = ax.figure
    fig.canvas.draw()  # fixes the axis limits, so data -> pixel transforms are final
    renderer = fig.canvas.get_renderer()
    merged: dict[tuple[float, float], list[str]] = {}
    for x, y, t in zip(xs, ys, texts):
        merged.setdefault((float(x), float(y)), []).append(t)
    taken: list = []
    for (x, y), names in sorted(merged.items(), key=lambda item: (-item[0][1], item[0][0])):
        text = ", ".join(names)
        for i, (dx, dy) in enumerate(_OFFSETS):
            far = i >= 8
            note = ax.annotate(text, (x, y), textcoords="offset points", xytext=(dx, dy), fontsize=LABEL_FONT,
                               color=color, ha="left" if dx >= 0 else "right", va="bottom" if dy >= 0 else "top",
                               arrowprops={"arrowstyle": "-", "color": color, "lw": 0.5} if far else None, zorder=5)
            box = note.get_window_extent(renderer).expanded(1.05, 1.1)
            if not any(box.overlaps(other) for other in taken) or i == len(_OFFSETS) - 1:
                taken.append(box)
                break
            note.remove()


def pareto_panels(done: pd.DataFrame, quality: str, costs: list[str], front: pd.Series, path: Path) -> Path:
    """`quality` (higher is better) against each cost (lower is better), one panel per cost, each
    with its own legend.

    Grey: every distinct complete candidate; red ring: on the study's Pareto front (all
    objectives); red line: the front of this pair alone; blue: the seeds. Every point is labelled
    with its trial number (seeds also with their name), labels placed so they do not overprint.
    Candidates trained on several seeds get error bars: their 95% interval over the seeds.
    Panels of measured quantities (throughput, latency, memory) say that they are single
    measurements on a machine that other trials may have been loading.
    """
    fig, axes = _grid(len(costs), 3)
    labels = []
    for ax, cost in zip(axes, costs):
        data = done.dropna(subset=[quality, cost])
        x, y = data[cost].astype(float), data[quality].astype(float)
        _error_bars(ax, data, cost, quality)
        ax.scatter(x, y, s=18, color=OTHER, zorder=2, label="candidate")
        on_front = front.reindex(data.index, fill_value=False).astype(bool)
        ax.scatter(x[on_front], y[on_front], s=70, facecolors="none", edgecolors=FRONT, linewidths=1.4, zorder=3,
                   label="Pareto front (all objectives)")
        if len(data):
            pair = pareto_mask(data[[quality, cost]].astype(float), {quality: "maximize", cost: "minimize"})
            steps = data[pair].sort_values(cost)
            ax.step(steps[cost], steps[quality], where="post", color=FRONT, linewidth=1, zorder=1,
                    label="front of this pair")
        is_seed = data["architecture"].notna()
        ax.scatter(x[is_seed], y[is_seed], s=22, color=SEED, zorder=4, label="seed architecture")
        if len(x) and (x > 0).all() and x.max() / x.min() > LOG_SPAN:
            from matplotlib.ticker import NullFormatter  # matplotlib is optional: imported only where drawn

            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())  # minor labels of a short log span overprint
        ax.set_xlabel(f"{cost} (lower is better)")
        ax.set_ylabel(f"{quality} (higher is better)")
        if cost in MEASURED:
            ax.set_title(f"{cost}: one measurement per trial,\non a machine possibly loaded by other trials",
                         fontsize=7, color="#a05000")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6, loc="best", framealpha=0.8)
        texts = [f"{int(n)} {a}" if isinstance(a, str) else str(int(n)) for n, a in zip(data["number"], data["architecture"])]
        labels.append((ax, list(x), list(y), texts))
    fig.tight_layout()  # the final layout first: labels are placed in its pixel coordinates
    for ax, xs, ys, texts in labels:
        label_points(ax, xs, ys, texts, "#333333")
    fig.savefig(path, dpi=DPI)
    pyplot().close(fig)
    return path


def _error_bars(ax, data: pd.DataFrame, x: str, y: str) -> None:
    """The seed intervals of `x` and `y` (where the table has them) as error bars."""
    errors = {}
    for axis, column in (("xerr", x), ("yerr", y)):
        if has_interval(data, column):
            low = (data[column] - data[f"{column}.ci_low"]).clip(lower=0).fillna(0).astype(float)
            high = (data[f"{column}.ci_high"] - data[column]).clip(lower=0).fillna(0).astype(float)
            errors[axis] = np.vstack([low.to_numpy(), high.to_numpy()])
    if errors:
        ax.errorbar(data[x].astype(float), data[y].astype(float), fmt="none", ecolor=OTHER, elinewidth=0.8,
                    capsize=2, zorder=1, label="95% interval over seeds", **errors)


def axis_effects(done: pd.DataFrame, axes_columns: list[str], quality: str, path: Path) -> Path:
    """The distribution of `quality` for each value of each axis ('-': the axis was inactive)."""
    fig, axes = _grid(len(axes_columns), 3)
    rng = np.random.default_rng(0)  # the jitter only spreads points sideways; it changes no value
    for ax, column in zip(axes, axes_columns):
        labels = done[column].astype(object).where(done[column].notna(), "-").map(str)
        values = sorted(labels.unique(), key=lambda v: (v == "-", _numeric_key(v)))
        groups = [done.loc[labels == v, quality].dropna().astype(float).to_numpy() for v in values]
        ax.boxplot(groups, showfliers=False, widths=0.5)
        for i, g in enumerate(groups, start=1):
            ax.scatter(i + rng.uniform(-0.12, 0.12, len(g)), g, s=12, color=SEED, alpha=0.7, zorder=3)
        ax.set_xticks(range(1, len(values) + 1), [f"{v}\n(n={len(g)})" for v, g in zip(values, groups)], fontsize=7)
        ax.set_title(column.removeprefix("param."), fontsize=9)
        ax.set_ylabel(quality)
        ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def _numeric_key(text: str) -> tuple[int, float | str]:
    try:
        return (0, float(text))
    except ValueError:
        return (1, text)


def importance_bars(table: pd.DataFrame, path: Path) -> Path:
    """Horizontal bars: importance of each decision (rows) for each target (columns)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 0.22 * len(table) * max(1, len(table.columns)) + 1.4))
    height = 0.8 / len(table.columns)
    positions = np.arange(len(table))
    for i, column in enumerate(table.columns):
        ax.barh(positions + i * height, table[column], height=height, label=column)
    ax.set_yticks(positions + height * (len(table.columns) - 1) / 2, [str(n) for n in table.index])
    ax.invert_yaxis()
    ax.set_xlabel("importance (PED-ANOVA, sums to 1 per target)")
    ax.legend(fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)


def coefficient_map(maps: CoefficientMaps, title: str, path: Path) -> Path:
    """alpha_ij of each layer (rows) and head (columns, at most MAX_HEADS): row i of a panel is
    how output i mixes the values v_j of the past (j <= i); above the diagonal is blank."""
    plt = pyplot()
    from matplotlib.ticker import MaxNLocator  # matplotlib is optional: imported only where drawn

    heads = min(MAX_HEADS, maps.alpha[0].shape[0])
    layers = len(maps.alpha)
    fig, axes = plt.subplots(layers, heads, figsize=(max(6.0, 2.9 * heads + 0.6), 2.6 * layers + 1.0), squeeze=False)
    T = maps.alpha[0].shape[-1]
    causal = np.tril(np.ones((T, T), dtype=bool))
    for layer, alpha in enumerate(maps.alpha):
        for head in range(heads):
            ax = axes[layer][head]
            a = alpha[head].numpy().astype(float)
            shown = np.where(causal, a, np.nan)
            bound = float(np.nanmax(np.abs(shown))) or 1.0
            signed = bool((a[causal] < 0).any())
            image = ax.imshow(shown, cmap="RdBu_r" if signed else "viridis", vmin=-bound if signed else 0.0,
                              vmax=bound, interpolation="nearest")
            fig.colorbar(image, ax=ax, fraction=0.046, pad=0.03)
            ax.set_title(f"layer {layer} head {head}", fontsize=8)
            ax.set_xlabel("j (source)", fontsize=7)
            ax.set_ylabel("i (output)", fontsize=7)
            ax.tick_params(labelsize=6)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    total = maps.alpha[0].shape[0]
    if maps.train_steps == TRIAL_TRAINING:
        state = "with the trial's trained weights (its full training budget)"
    else:
        state = f"after {maps.train_steps} training steps" if maps.train_steps else "at initialization"
    more = f"; heads 0-{heads - 1} of {total}" if total > heads else ""
    fig.suptitle(f"{title}\nalpha_ij on {maps.task} ({maps.setting}), {T} tokens\n{state}{more}", fontsize=9)
    return _save(fig, path)
