"""What `resume` continues: the recorded settings, in the storage it read, with the recorded space.

* The storage and the root are the ones `resume` was given (`--root COPY` reads and writes the
  copy), never the recorded ones.
* The space file is recorded as an absolute path (older studies: relative to the directory they
  were run from, tried from the current one), so a resume works from any working directory.
* The space's text is recorded too. A file edited since is refused, not resumed silently: the
  study's trials were sampled from the recorded text. The refusal writes the recorded text beside
  the study, so it can be compared or restored.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, TypeVar

import optuna

from dsf_search.errors import InputError
from dsf_search.search import attrs as A
from dsf_search.search.storage import journal_file, study_dir
from dsf_search.space import Space, load_space

Settings = TypeVar("Settings")


def resume_settings(study: optuna.Study, cls: type[Settings], storage: str | None, root: str | Path) -> Settings:
    """The recorded run settings of `study` (fields `cls` no longer knows are dropped, new ones
    take their defaults), with `storage` and `root` replaced by the ones resume was given."""
    recorded: dict[str, Any] | None = study.user_attrs.get(A.STUDY_SETTINGS)
    if not recorded:
        raise InputError(f"study {study.study_name!r} has no recorded run settings; run it with "
                         f"`dsf-search run SPACE --study {study.study_name}`")
    known = {f.name for f in dataclasses.fields(cls)}
    values = {k: v for k, v in recorded.items() if k in known}
    values.update(storage=storage, root=str(Path(root).resolve()))
    return cls(**values)


def _first_difference(a: str, b: str) -> int:
    for n, (x, y) in enumerate(zip(a.splitlines(), b.splitlines()), start=1):
        if x != y:
            return n
    return min(len(a.splitlines()), len(b.splitlines())) + 1


def recorded_space(study: optuna.Study, settings: Any) -> Space:
    """Load the space `study` was run from, refusing one whose text changed since (see the module docstring)."""
    name = study.study_name
    path = Path(settings.space)
    if not path.exists():
        raise InputError(f"study {name!r} was run from {path}, which no longer exists; restore it "
                         f"(its text is recorded in the study) or start a new study")
    record = study.user_attrs.get(A.STUDY_SPACE) or {}
    text = record.get("text")
    try:
        current = path.read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: cannot read the space file of study {name!r} ({err})") from None
    if text is not None and current != text:
        journal = journal_file(settings.storage, name, settings.root)
        folder = journal.parent if journal is not None else study_dir(name, settings.root)
        copy = folder / f"{name}.recorded-space.yaml"
        folder.mkdir(parents=True, exist_ok=True)
        copy.write_text(text)
        raise InputError(
            f"{path}:{_first_difference(text, current)}: the space file was edited since study {name!r} was run "
            f"(first difference at this line); resume refuses to continue a study from a different space. "
            f"The recorded text is in {copy}: restore it to resume, or search the edited space as a new study "
            f"with `dsf-search run {path} --study NEW_NAME`")
    return load_space(path)
