"""The search's estimate of the time left, from trial durations and the protocol's budget.

With W the expected wall time of one trial (the mean of the trials finished so far, or before
the first one finishes, a prior: the measured estimate of the protocol's budget, or at worst
the protocol's timeout, an upper bound), R the complete architectures still missing and P the
trials that really run at once (the parallelism, bounded by what the machine offers and by R):

    ETA = (R * W - sum over trials in flight of min(elapsed, 0.95 W)) / P

so a trial half done counts half, and the estimate does not wait for the first result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import mean

DONE_FRACTION_CAP = 0.95  # a trial past its expected time still has a little left


@dataclass
class Eta:
    """Collects trial durations; `remaining` gives seconds left and whether it is only a bound."""

    slots: int
    prior_s: float | None = None
    prior_is_bound: bool = False
    durations: list[float] = field(default_factory=list)

    def add(self, seconds: float) -> None:
        self.durations.append(float(seconds))

    def remaining(self, missing: int, inflight_elapsed: list[float]) -> tuple[float | None, bool]:
        """(seconds left or None when nothing is known, True when it is an upper bound)."""
        if missing <= 0:
            return 0.0, False
        if self.durations:
            per, bound = mean(self.durations), False
        elif self.prior_s is not None:
            per, bound = self.prior_s, self.prior_is_bound
        else:
            return None, False
        work = missing * per - sum(min(e, DONE_FRACTION_CAP * per) for e in inflight_elapsed[:missing])
        return max(0.0, work) / max(1, min(self.slots, missing)), bound
