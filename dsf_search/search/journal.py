"""The embedded journal file: a torn tail repaired on open, errors that name the file.

Optuna's journal is one JSON record per line, appended with a single write. A crash in the
middle of a write leaves a torn last line; Optuna skips it while reading, but the next append
lands on the partial line and from then on the file cannot be read at all. So every open first
looks at the last line (under Optuna's own journal lock, so a live writer's append is never
mistaken for a torn one): one that parses as a record but lacks its line end gets it back; one
that does not parse (cut off, or a partial record an older version appended onto) goes to
`<journal>.torn` (never overwritten: `.torn.1`, `.torn.2`, ... when one exists) and the journal
is cut back to its last complete record, with a warning naming the file and what was dropped.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Generator
from pathlib import Path
from typing import Any, TextIO

from optuna.storages.journal import JournalFileBackend, JournalFileSymlinkLock
from optuna.storages.journal._storage import JournalOperation

from dsf_search.errors import InputError

TORN_SUFFIX = ".torn"
_CHUNK = 1 << 16


class JournalCorrupt(InputError):
    """A journal record in the middle of the file is not a record (the file names itself)."""


def _last_line_start(f, size: int) -> int:
    """Offset just after the last b'\\n' before `size` (0 when there is none)."""
    end = size
    while end > 0:
        start = max(0, end - _CHUNK)
        f.seek(start)
        chunk = f.read(end - start)
        at = chunk.rfind(b"\n")
        if at >= 0:
            return start + at + 1
        end = start
    return 0


def _describe(tail: bytes) -> str:
    """What a partial record was, as far as its first bytes tell."""
    text = tail.decode("utf-8", "replace")
    op = re.search(r'"op_code":\s*(\d+)', text)
    trial = re.search(r'"trial_id":\s*(\d+)', text)
    what = "a record"
    if op:
        try:
            what = "a " + JournalOperation(int(op.group(1))).name.lower().replace("_", " ") + " record"
        except ValueError:
            pass
    if trial:
        what += f" of trial id {trial.group(1)}"
    return what


def _aside(path: Path, tail: bytes) -> Path:
    target = path.with_name(path.name + TORN_SUFFIX)
    n = 0
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}{TORN_SUFFIX}.{n}")
    with open(target, "xb") as f:
        f.write(tail)
        f.flush()
        os.fsync(f.fileno())
    return target


def _damaged_tail(f, size: int) -> tuple[int, bytes, bool] | None:
    """(offset, bytes, whole) of the last line when it is not a complete record with its line
    end (whole: it parses, only the line end is missing); None when the file ends cleanly."""
    f.seek(size - 1)
    newline = f.read(1) == b"\n"
    start = _last_line_start(f, size - 1 if newline else size)
    f.seek(start)
    tail = f.read(size - start)
    try:
        whole = isinstance(json.loads(tail), dict)
    except ValueError:
        whole = False
    return None if whole and newline else (start, tail, whole)


def repair_torn_tail(path: Path, warn: TextIO | None = None) -> Path | None:
    """Make `path` end with a complete record (see the module docstring); return the .torn file
    the partial record was moved to, or None when nothing was dropped. A journal that cannot be
    written (a read-only copy) is left as it is, with a warning: Optuna reads it up to its last
    complete record anyway."""
    warn = warn or sys.stderr
    if not path.exists() or path.stat().st_size == 0:
        return None
    with open(path, "rb") as f:
        if _damaged_tail(f, os.fstat(f.fileno()).st_size) is None:
            return None
    lock = JournalFileSymlinkLock(str(path))
    try:
        lock.acquire()
    except OSError as err:
        print(f"warning: {path}: the last record is incomplete, and the journal cannot be repaired here "
              f"({err.strerror or err}); reading it up to its last complete record", file=warn)
        return None
    try:
        with open(path, "rb+") as f:
            damaged = _damaged_tail(f, os.fstat(f.fileno()).st_size)  # again: a live writer may have finished
            if damaged is None:
                return None
            start, tail, whole = damaged
            if whole:
                f.seek(0, os.SEEK_END)
                f.write(b"\n")
                f.flush()
                os.fsync(f.fileno())
                print(f"warning: {path}: the last record had lost its line end; restored it", file=warn)
                return None
            torn = _aside(path, tail)
            f.truncate(start)
            f.flush()
            os.fsync(f.fileno())
    finally:
        lock.release()
    print(f"warning: {path}: the last record was cut off mid-write ({len(tail)} bytes, {_describe(tail)}); "
          f"kept the partial record in {torn} and repaired the journal to its last complete record", file=warn)
    return torn


class NamedJournalBackend(JournalFileBackend):
    """Optuna's journal file backend whose read errors name the file and the line."""

    def read_logs(self, log_number_from: int) -> Generator[dict[str, Any], None, None]:
        line = log_number_from
        try:
            for line, record in enumerate(super().read_logs(log_number_from), start=log_number_from + 1):
                yield record
        except (ValueError, UnicodeDecodeError) as err:
            # Optuna raises on the line after the last good one it yielded
            raise JournalCorrupt(
                f"{self._file_path}:{line + 1}: the journal record is not valid ({type(err).__name__}: {err}); "
                f"records before line {line + 1} are intact — move the damaged lines aside to recover them"
            ) from None


def open_journal(path: Path, warn: TextIO | None = None) -> NamedJournalBackend:
    """The journal backend for `path`, its torn tail (if any) repaired first."""
    repair_torn_tail(path, warn)
    return NamedJournalBackend(str(path))
