"""The live progress line of a search: done / failed / running, best per objective, elapsed, ETA."""

from __future__ import annotations

from typing import TextIO


def duration(seconds: float) -> str:
    seconds = int(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:d}:{s:02d}"


def _value(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:.4g}"


class ProgressLine:
    """Redraws one line in place on a terminal; elsewhere prints a line whenever the counts change."""

    def __init__(self, out: TextIO, target: int, objectives: list[str], directions: list[str], enabled: bool = True):
        self.out, self.target, self.enabled = out, target, enabled
        self.labels = [f"{'max' if d == 'maximize' else 'min'} {name}" for name, d in zip(objectives, directions)]
        self.tty = hasattr(out, "isatty") and out.isatty()
        self._last = ""

    def render(self, counts: dict[str, int], running: int, best: list[float | None], elapsed: float,
               eta: tuple[float | None, bool] = (None, False)) -> str:
        """`eta`: (seconds left or None, whether it is only an upper bound), from search/eta.py."""
        done = counts["complete"]
        left, bound = eta
        eta_text = "?" if left is None else ("<=" if bound else "~") + duration(left)
        width = 20
        filled = min(width, int(width * done / max(1, self.target)))
        bar = "#" * filled + "." * (width - filled)
        best_text = ", ".join(f"{label} {_value(v)}" for label, v in zip(self.labels, best))
        return (f"[{bar}] {done}/{self.target} done, {counts['failed']} failed, {counts['infeasible']} infeasible, "
                f"{running} running | best: {best_text} | {duration(elapsed)} elapsed, ETA {eta_text}")

    def update(self, counts: dict[str, int], running: int, best: list[float | None], elapsed: float,
               eta: tuple[float | None, bool] = (None, False)) -> None:
        if not self.enabled:
            return
        line = self.render(counts, running, best, elapsed, eta)
        if self.tty:
            self.out.write("\r" + line[: 200].ljust(len(self._last)))
            self.out.flush()
        elif line.split("|")[0] != self._last.split("|")[0]:
            print(line, file=self.out, flush=True)
        self._last = line

    def close(self) -> None:
        if self.enabled and self.tty and self._last:
            self.out.write("\n")
            self.out.flush()
