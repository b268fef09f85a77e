"""Evaluation functions that misbehave on purpose (fault injection for the driver tests).

Each has the signature of dsf_search.evaluate.evaluate and is chosen by the spec it gets, so a
search can mix good and bad trials: state_size 8 misbehaves, state_size 4 evaluates normally
(`times_out` fails every spec).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from dsf_search.evaluate.runner import evaluate


def _bad(spec) -> bool:
    return spec.layers[0].state_size == 8


def raises(spec, protocol, **kw):
    if _bad(spec):
        raise RuntimeError("injected failure")
    return evaluate(spec, protocol, **kw)


def nan_loss(spec, protocol, **kw):
    """The real evaluation, with a model whose logits are NaN: the training loop must see it."""
    if not _bad(spec):
        return evaluate(spec, protocol, **kw)
    from dsf_search.core import model as model_module

    original = model_module.SequenceModel.forward

    def poisoned(self, *args, **kwargs):
        out = original(self, *args, **kwargs)
        if isinstance(out, tuple):
            return (out[0] * float("nan"),) + tuple(out[1:])
        return out * float("nan")

    model_module.SequenceModel.forward = poisoned
    try:
        return evaluate(spec, protocol, **kw)
    finally:
        model_module.SequenceModel.forward = original


def hangs_once(spec, protocol, marker_dir: str = "", **kw):
    """The first bad spec ignores its time budget (as a stuck kernel would): only the driver's
    hard timeout stops it. Later calls behave."""
    marker = Path(marker_dir) / "hung"
    if _bad(spec) and not marker.exists():
        marker.write_text("1")
        time.sleep(3600)
    return evaluate(spec, protocol, **kw)


def exits(spec, protocol, **kw):
    """Kills its worker process every time for the bad specs."""
    if _bad(spec):
        os._exit(3)
    return evaluate(spec, protocol, **kw)


def exits_once(spec, protocol, marker_dir: str = "", **kw):
    """Kills its worker the first time a bad spec comes (a marker file in marker_dir), then behaves."""
    marker = Path(marker_dir) / f"exited-{spec.hash()}"
    if _bad(spec) and not marker.exists():
        marker.write_text("1")
        os._exit(3)
    return evaluate(spec, protocol, **kw)


def times_out(spec, protocol, **kw):
    """Every spec runs past its budget, at once (no training): the outcome a too-short timeout gives."""
    from dsf_search.evaluate.result import EvalResult

    return EvalResult(status="timeout", reason="injected: past the time budget")


def sleeps(spec, protocol, seconds: float = 8.0, **kw):
    """Takes `seconds` and reports success with no metrics: a job whose length is known."""
    from dsf_search.evaluate.result import EvalResult

    time.sleep(seconds)
    return EvalResult(status="ok")
