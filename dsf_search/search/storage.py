"""Where a study lives: the embedded journal file under results/<study>/, or any Optuna storage URL."""

from __future__ import annotations

from pathlib import Path

import optuna
from optuna.storages import BaseStorage, JournalStorage
from optuna.storages.journal import JournalFileBackend

from dsf_search.errors import InputError
from dsf_search.names import check_study_name

DEFAULT_ROOT = Path("results")
JOURNAL_NAME = "journal.log"


def study_dir(study: str, root: Path | str = DEFAULT_ROOT) -> Path:
    """results/<study>/: the journal (embedded default), the driver lock, the exported tables."""
    return Path(root) / check_study_name(study)


def journal_path(study: str, root: Path | str = DEFAULT_ROOT) -> Path:
    return study_dir(study, root) / JOURNAL_NAME


def is_embedded(url: str | None) -> bool:
    return url is None or url.endswith((".log", ".journal")) or url.startswith("journal:")


def open_storage(url: str | None, study: str, root: Path | str = DEFAULT_ROOT, create: bool = True) -> BaseStorage:
    """The storage of a study.

    url None: the journal file results/<study>/journal.log. A path ending in .log/.journal (or
    'journal:PATH'): that journal file. Anything else is an Optuna storage URL (sqlite:///...,
    postgresql://..., mysql://...).
    """
    if url is None or is_embedded(url):
        path = journal_path(study, root) if url is None else Path(url.removeprefix("journal:"))
        if not create and not path.exists():
            raise InputError(f"no study {study!r}: {path} does not exist (run `dsf-search run SPACE` first, or pass --storage)")
        path.parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(str(path)))
    try:
        return optuna.storages.get_storage(url)
    except Exception as err:  # noqa: BLE001 - any failure to open a URL is the user's input
        raise InputError(f"--storage {url!r}: cannot open ({type(err).__name__}: {err})") from None


def study_names(storage: BaseStorage) -> list[str]:
    return [s.study_name for s in optuna.get_all_study_summaries(storage)]
