"""Where a study lives: the embedded journal file under results/<study>/, or any Optuna storage URL."""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING

from dsf_search.errors import InputError
from dsf_search.names import check_study_name

if TYPE_CHECKING:  # Optuna is imported when a storage is opened, not for the paths and names here
    from optuna.storages import BaseStorage

DEFAULT_ROOT = Path("results")
JOURNAL_NAME = "journal.log"


def study_dir(study: str, root: Path | str = DEFAULT_ROOT) -> Path:
    """results/<study>/: the journal (embedded default), the driver lock, the exported tables."""
    return Path(root) / check_study_name(study)


def journal_path(study: str, root: Path | str = DEFAULT_ROOT) -> Path:
    return study_dir(study, root) / JOURNAL_NAME


def is_embedded(url: str | None) -> bool:
    return url is None or url.endswith((".log", ".journal")) or url.startswith("journal:")


def journal_file(url: str | None, study: str, root: Path | str = DEFAULT_ROOT) -> Path | None:
    """The journal file of an embedded storage (None for a database URL)."""
    if url is None:
        return journal_path(study, root)
    return Path(url.removeprefix("journal:")) if is_embedded(url) else None


_USERINFO = re.compile(r"^(?P<scheme>[A-Za-z][\w+.-]*://)(?P<user>[^:@/]*):(?P<password>[^@/]*)@")


def redact(url: str | None) -> str | None:
    """`url` with its password replaced by '***' (postgresql://me:***@host/db), for storing and printing."""
    if url is None:
        return None
    return _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:***@", url, count=1)


def scrub(text: str, url: str | None) -> str:
    """`text` with every form of `url`'s password (raw and percent-decoded) replaced by '***'."""
    m = _USERINFO.match(url or "")
    if not m or not m["password"]:
        return text
    for secret in {m["password"], urllib.parse.unquote(m["password"])}:
        text = text.replace(secret, "***")
    return text


def open_storage(url: str | None, study: str, root: Path | str = DEFAULT_ROOT, create: bool = True) -> BaseStorage:
    """The storage of a study.

    url None: the journal file results/<study>/journal.log. A path ending in .log/.journal (or
    'journal:PATH'): that journal file, its torn tail repaired (search/journal.py). Anything else
    is an Optuna storage URL (sqlite:///..., postgresql://..., mysql://...); errors show it with
    its password redacted.
    """
    import optuna
    from optuna.storages import JournalStorage

    from dsf_search.search.journal import open_journal

    path = journal_file(url, study, root)
    if path is not None:
        if not create and not path.exists():
            raise InputError(f"no study {study!r}: {path} does not exist (run `dsf-search run SPACE` first, or pass --storage)")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            return JournalStorage(open_journal(path))
        except OSError as err:
            raise InputError(f"{path}: cannot open the journal ({err.strerror or err})") from None
    try:
        return optuna.storages.get_storage(url)
    except Exception as err:  # noqa: BLE001 - any failure to open a URL is the user's input
        raise InputError(scrub(f"--storage {redact(url)!r}: cannot open ({type(err).__name__}: {err})", url)) from None


def study_names(storage: BaseStorage) -> list[str]:
    import optuna

    return [s.study_name for s in optuna.get_all_study_summaries(storage)]
