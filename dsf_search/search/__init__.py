"""The search: the plan read from a space file, the Optuna ask/tell driver, Ray or serial
executors, resume, status."""

from dsf_search.search.driver import Driver, RunSettings, Summary, resolve_settings, resume_search, run_search
from dsf_search.search.lock import DriverBusy
from dsf_search.search.plan import SearchPlan, load_plan
from dsf_search.search.samplers import SAMPLERS
from dsf_search.search.storage import open_storage, study_dir

__all__ = [
    "SAMPLERS",
    "Driver",
    "DriverBusy",
    "RunSettings",
    "SearchPlan",
    "Summary",
    "load_plan",
    "open_storage",
    "resolve_settings",
    "resume_search",
    "run_search",
    "study_dir",
]
