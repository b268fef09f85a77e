"""The trained weights a trial keeps, written beside the study on the driver's disk.

Layout: <root>/<study>/trials/<number>/<task>.pt, one file per task of the protocol (the best
grid run of the task's first setting; see EvalResult.weights for the contents). The trial's
`weights` attribute maps each task to its path relative to <root>/<study>/, so `report`,
`coefficients STUDY --trial N` and `export STUDY --trial N` need no retraining. With a shared
storage (a database) the files still live under the driver's --root: copy them with the study.
"""

from __future__ import annotations

import re
from pathlib import Path

TRIALS_DIR = "trials"
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


def save_weights(study_folder: Path, number: int, weights: dict[str, bytes]) -> dict[str, str]:
    """Write each task's bytes to trials/<number>/<task>.pt under `study_folder`; task -> relative path.

    Task labels come from the protocol; anything but [A-Za-z0-9_.-] becomes '_' so a label can
    never name a path outside the trial's folder.
    """
    folder = study_folder / TRIALS_DIR / str(int(number))
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for task, data in weights.items():
        name = _SAFE.sub("_", task).lstrip(".") or "task"
        path = folder / f"{name}.pt"
        tmp = path.with_suffix(".pt.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)  # a reader never sees half a file
        out[task] = str(path.relative_to(study_folder))
    return out
