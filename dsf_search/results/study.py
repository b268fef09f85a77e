"""Open an existing study by name; an unknown name is an InputError listing the close matches."""

from __future__ import annotations

from pathlib import Path

import optuna

from dsf_search.errors import InputError
from dsf_search.results.matches import unknown
from dsf_search.search import attrs as A
from dsf_search.search.storage import DEFAULT_ROOT, JOURNAL_NAME, is_embedded, journal_path, open_storage, redact, study_names


def embedded_studies(root: str | Path = DEFAULT_ROOT) -> list[str]:
    """Names of the studies with a journal under root/<study>/."""
    root = Path(root)
    return sorted(p.parent.name for p in root.glob(f"*/{JOURNAL_NAME}")) if root.is_dir() else []


def load_study(study: str, storage: str | None = None, root: str | Path = DEFAULT_ROOT) -> optuna.Study:
    """The study `study` in `storage` (default: the journal under root/<study>/).

    Raises:
        InputError: no such study (naming the close matches), or the storage cannot be opened.
    """
    if storage is None:
        path = journal_path(study, root)
        if not path.exists():
            raise unknown("study", study, embedded_studies(root), f"(no {path}; run `dsf-search run SPACE` first, or pass --storage)")
    elif is_embedded(storage) and not Path(storage.removeprefix("journal:")).exists():
        raise InputError(f"--storage {storage!r}: no such journal file")
    handle = open_storage(storage, study, root, create=False)
    try:
        return optuna.load_study(study_name=study, storage=handle)
    except KeyError:
        raise unknown("study", study, study_names(handle), f"in {redact(storage) or journal_path(study, root)}") from None


def objectives_of(study: optuna.Study) -> dict[str, str]:
    """Objective metric -> 'maximize' | 'minimize', in the study's order."""
    space = study.user_attrs.get(A.STUDY_SPACE) or {}
    return dict(space.get("objectives") or {})
