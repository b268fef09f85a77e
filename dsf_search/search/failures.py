"""Failures per spec hash, and when a search should stop trying.

A spec that failed for a deterministic reason (it diverged, raised, could not be built) fails
the same way again, so it is never re-evaluated: later asks for it reuse the failed trial
(a worker that died on every retry comes back as 'error' too). A
timeout or an out-of-memory may depend on the machine's load, so the spec gets MAX_TRANSIENT
tries before it is treated the same way. Trials that failed for reasons outside the spec
(interrupted, orphaned by a stopped driver, re-queued behind a twin) are not counted.

Independently, `search: {max_failures: N}` stops the search after N evaluations in a row that
failed, whatever their specs: a protocol that cannot work (a timeout too short for any model)
should cost N evaluations, not a night.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from optuna.trial import FrozenTrial, TrialState

from dsf_search.search import attrs as A

DETERMINISTIC = ("diverged", "error")
TRANSIENT = ("timeout", "oom")
MAX_TRANSIENT = 2


class FailureBook:
    """Failure kinds seen per spec hash, and the run of consecutive failed evaluations."""

    def __init__(self, max_failures: int):
        self.max_failures = max_failures
        self.kinds: dict[str, list[str]] = defaultdict(list)
        self.consecutive = 0
        self.last_reason = ""

    def load(self, trials: Iterable[FrozenTrial]) -> None:
        """Count the failed evaluations already in the study (reused failures are not evaluations)."""
        for t in trials:
            h, kind = t.user_attrs.get(A.HASH), t.user_attrs.get(A.FAILURE_KIND)
            if t.state == TrialState.FAIL and h and A.DUPLICATE_OF not in t.user_attrs:
                if kind in DETERMINISTIC or kind in TRANSIENT:
                    self.kinds[h].append(kind)

    def failed(self, h: str, kind: str, reason: str) -> None:
        """An evaluation of `h` failed with `kind`."""
        if kind in DETERMINISTIC or kind in TRANSIENT:
            self.kinds[h].append(kind)
        self.consecutive += 1
        self.last_reason = f"{kind}: {reason}" if reason else kind

    def succeeded(self) -> None:
        self.consecutive = 0

    def settled(self, h: str) -> bool:
        """True when `h` must not be evaluated again."""
        kinds = self.kinds.get(h, ())
        return any(k in DETERMINISTIC for k in kinds) or sum(k in TRANSIENT for k in kinds) >= MAX_TRANSIENT

    def stop_reason(self) -> str | None:
        """Why the search must stop now, or None."""
        if self.consecutive < self.max_failures:
            return None
        return (f"stopping: {self.consecutive} evaluations in a row failed (search.max_failures is {self.max_failures}); "
                f"the last one: {self.last_reason[:300]}. Fix the cause (see `dsf-search status`), or raise "
                f"search.max_failures, then resume")
