"""Evaluation: protocols (evaluators/*.yaml), training and scoring, efficiency measurement.

The search calls ``evaluate(spec, protocol, ...)`` in a worker; it returns an ``EvalResult``
(picklable, ``to_dict()`` is JSON-serializable) whose ``metrics`` keys are those of
``protocol.metrics`` and whose ``status`` says whether the candidate trained (ok) or how it
failed (diverged, oom, timeout, error).

Every name is imported when first read (PEP 562, dsf_search/lazy.py), so importing one
submodule (the CLI's parsers read a few constants) does not load the rest.
"""

from typing import TYPE_CHECKING

from dsf_search.lazy import lazy_exports

if TYPE_CHECKING:
    from dsf_search.evaluate.candidate import candidate_spec, preset_spec, spec_from_file
    from dsf_search.evaluate.progress import Progress, ProgressEvent
    from dsf_search.evaluate.protocol import (
        EfficiencyConfig,
        Protocol,
        ProtocolError,
        Resources,
        TaskEntry,
        TaskSetting,
        TrainConfig,
        load_protocol,
        parse_protocol,
    )
    from dsf_search.evaluate.result import DIVERGED, ERROR, OK, OOM, STATUSES, TIMEOUT, EvalResult, RunResult, TaskRow
    from dsf_search.evaluate.runner import DEVICES, evaluate, resolve_device

__getattr__, __dir__ = lazy_exports(globals(), {
    "candidate_spec": "dsf_search.evaluate.candidate",
    "preset_spec": "dsf_search.evaluate.candidate",
    "spec_from_file": "dsf_search.evaluate.candidate",
    "Progress": "dsf_search.evaluate.progress",
    "ProgressEvent": "dsf_search.evaluate.progress",
    "EfficiencyConfig": "dsf_search.evaluate.protocol",
    "Protocol": "dsf_search.evaluate.protocol",
    "ProtocolError": "dsf_search.evaluate.protocol",
    "Resources": "dsf_search.evaluate.protocol",
    "TaskEntry": "dsf_search.evaluate.protocol",
    "TaskSetting": "dsf_search.evaluate.protocol",
    "TrainConfig": "dsf_search.evaluate.protocol",
    "load_protocol": "dsf_search.evaluate.protocol",
    "parse_protocol": "dsf_search.evaluate.protocol",
    "DIVERGED": "dsf_search.evaluate.result",
    "ERROR": "dsf_search.evaluate.result",
    "OK": "dsf_search.evaluate.result",
    "OOM": "dsf_search.evaluate.result",
    "STATUSES": "dsf_search.evaluate.result",
    "TIMEOUT": "dsf_search.evaluate.result",
    "EvalResult": "dsf_search.evaluate.result",
    "RunResult": "dsf_search.evaluate.result",
    "TaskRow": "dsf_search.evaluate.result",
    "DEVICES": "dsf_search.evaluate.runner",
    "evaluate": "dsf_search.evaluate.runner",
    "resolve_device": "dsf_search.evaluate.runner",
})

__all__ = [
    "DEVICES",
    "DIVERGED",
    "ERROR",
    "OK",
    "OOM",
    "STATUSES",
    "TIMEOUT",
    "EfficiencyConfig",
    "EvalResult",
    "Progress",
    "ProgressEvent",
    "Protocol",
    "ProtocolError",
    "Resources",
    "RunResult",
    "TaskEntry",
    "TaskRow",
    "TaskSetting",
    "TrainConfig",
    "candidate_spec",
    "evaluate",
    "load_protocol",
    "parse_protocol",
    "preset_spec",
    "resolve_device",
    "spec_from_file",
]
