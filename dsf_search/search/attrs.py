"""The attributes each trial keeps (DESIGN.md section 3.5), written in one place.

User attributes of a trial:
    spec (canonical ModelSpec dict), hash, architecture (seed name, if a seed), cost (analytic
    costs), findings (design-principle findings), constraints, metrics, tasks (per-task rows),
    timings, device, node, seed, versions, status, failure (reason), failure_kind,
    duplicate_of (trial number whose result was reused), requeued_from, kept_from (the trial
    whose result this one keeps: it was finished by another driver, or its storage write failed),
    per_seed (with the protocol's `seeds: N > 1`: each seed's seed, status, metrics, tasks,
    timings, wall time),
    weights (task -> path of the trained weights kept under the study's folder, see search/artifacts.py).
Study user attributes: space (file as an absolute path, name, objectives, the file's text),
settings (the resolved run settings with absolute paths and the storage URL's password
redacted, so `resume` needs only the study name), seeds_enqueued.
"""

from __future__ import annotations

import importlib.metadata
import platform
from typing import Any

SPEC, HASH, ARCHITECTURE, COST, FINDINGS, CONSTRAINTS = "spec", "hash", "architecture", "cost", "findings", "constraints"
METRICS, TASKS, TIMINGS, DEVICE, NODE, SEED, VERSIONS = "metrics", "tasks", "timings", "device", "node", "seed", "versions"
STATUS, FAILURE, FAILURE_KIND, DUPLICATE_OF, REQUEUED_FROM = "status", "failure", "failure_kind", "duplicate_of", "requeued_from"
WEIGHTS = "weights"  # task -> path of the kept trained weights, relative to the study's folder
KEPT_FROM = "kept_from"
PER_SEED = "per_seed"

STUDY_SPACE, STUDY_SETTINGS, STUDY_SEEDS_ENQUEUED = "space", "settings", "seeds_enqueued"


def versions() -> dict[str, str]:
    """Versions of Python and the packages that determine a result."""
    out = {"python": platform.python_version()}
    for package in ("dsf-search", "torch", "optuna", "ray", "pandas"):
        try:
            out[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            out[package] = "not installed"
    return out


def outcome_attrs(outcome: dict[str, Any]) -> dict[str, Any]:
    """The attributes of an evaluation outcome (ok or not)."""
    attrs = {
        STATUS: outcome.get("status", "error"),
        METRICS: outcome.get("metrics", {}),
        TIMINGS: {**outcome.get("timings", {}), "worker_s": outcome.get("worker_s")},
        DEVICE: outcome.get("device", ""),
        NODE: outcome.get("node", ""),
    }
    if outcome.get("tasks"):
        attrs[TASKS] = outcome["tasks"]
    if outcome.get("status") != "ok":
        attrs[FAILURE] = outcome.get("reason", "") or "unknown failure"
        attrs[FAILURE_KIND] = outcome.get("status", "error")
        if outcome.get("failed_step") is not None:
            attrs["failed_step"] = outcome["failed_step"]
    if outcome.get("per_seed"):
        attrs[PER_SEED] = outcome["per_seed"]
    if outcome.get("retries"):
        attrs["retries"] = outcome["retries"]
    return attrs
