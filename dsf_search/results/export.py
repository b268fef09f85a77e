"""results/<study>/trials.csv and trials.parquet: the results table, rewritten after every run.

Each file is written to a temporary file in the same folder and renamed over the old one, so a
reader never sees a half-written table and an interrupted export leaves the previous one.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from dsf_search.errors import InputError
from dsf_search.results.extras import available
from dsf_search.results.formats import write_parquet
from dsf_search.results.table import load
from dsf_search.search.storage import DEFAULT_ROOT, study_dir
from dsf_search.search.plan import load_plan

CSV_NAME, PARQUET_NAME = "trials.csv", "trials.parquet"


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call write(tmp) on a temporary file beside `path`, then rename it to `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # a name of our own rather than mkstemp's, so the file gets the usual (umask) permissions
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def refresh_exports(study_name: str, storage: str | None = None, root: str | Path = DEFAULT_ROOT) -> list[Path]:
    """Write root/<study>/trials.csv (and trials.parquet when pyarrow is installed); return the paths."""
    df = load(study_name, storage, root)
    folder = study_dir(study_name, root)
    written = [folder / CSV_NAME]
    atomic_write(written[0], lambda tmp: df.to_csv(tmp, index=False))
    if available("pyarrow"):
        written.append(folder / PARQUET_NAME)
        atomic_write(written[1], lambda tmp: write_parquet(df, tmp))
    return written


def refresh_after_run(study: str | None, space: str | None, storage: str | None, root: str | Path,
                      err: TextIO | None = None) -> None:
    """refresh_exports for the study a run or resume worked on (named by `study`, else by the space
    file), called in a `finally`: it never raises, so it cannot hide the run's own outcome.
    Nothing is written when the study does not exist (the run stopped on bad input)."""
    err = sys.stderr if err is None else err  # resolved per call: a stream bound at import can be closed
    try:
        if study is None and space is not None:
            study = load_plan(space).name
        if study is not None:
            refresh_exports(study, storage, root)
    except InputError:
        return
    except Exception as error:  # noqa: BLE001 - an export failure is reported, never raised over the run's result
        print(f"warning: could not export the results table of {study!r}: {type(error).__name__}: {error}", file=err)
