"""The search: the plan read from a space file, the Optuna ask/tell driver, Ray or serial
executors, resume, status.

Every name is imported when first read (PEP 562, dsf_search/lazy.py), so importing one
submodule (the CLI's parsers read a few constants) does not load the rest.
"""

from typing import TYPE_CHECKING

from dsf_search.lazy import lazy_exports

if TYPE_CHECKING:
    from dsf_search.search.driver import Driver, RunSettings, Summary, resolve_settings, resume_search, run_search
    from dsf_search.search.lock import DriverBusy
    from dsf_search.search.plan import SearchPlan, load_plan
    from dsf_search.defaults import SAMPLERS
    from dsf_search.search.storage import open_storage, study_dir

__getattr__, __dir__ = lazy_exports(globals(), {
    "Driver": "dsf_search.search.driver",
    "RunSettings": "dsf_search.search.driver",
    "Summary": "dsf_search.search.driver",
    "resolve_settings": "dsf_search.search.driver",
    "resume_search": "dsf_search.search.driver",
    "run_search": "dsf_search.search.driver",
    "DriverBusy": "dsf_search.search.lock",
    "SearchPlan": "dsf_search.search.plan",
    "load_plan": "dsf_search.search.plan",
    "SAMPLERS": "dsf_search.defaults",
    "open_storage": "dsf_search.search.storage",
    "study_dir": "dsf_search.search.storage",
})

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
