"""How a trial's outcome reads to a researcher: a stopped run is not a failed candidate.

Optuna has no state for "the driver was stopped while this ran": the driver tells such trials
FAIL with failure_kind `interrupted` (Ctrl-C, SIGTERM) or `orphaned` (found RUNNING after a
killed driver) and re-queues their parameters. Tables and counts show them as INTERRUPTED, so
`failed` counts only candidates that really failed.
"""

from __future__ import annotations

import pandas as pd

INTERRUPTED = "INTERRUPTED"
INTERRUPTED_KINDS = ("interrupted", "orphaned")


def outcome(df: pd.DataFrame) -> pd.Series:
    """The state column with FAIL replaced by INTERRUPTED where the driver stopped the trial."""
    if "failure_kind" not in df:
        return df["state"].astype(object)
    stopped = (df["state"] == "FAIL") & df["failure_kind"].astype(object).isin(INTERRUPTED_KINDS)
    return df["state"].astype(object).where(~stopped, INTERRUPTED)


def failed(df: pd.DataFrame) -> pd.DataFrame:
    """The trials whose candidate failed (not the interrupted ones)."""
    return df[outcome(df) == "FAIL"]
