"""One live driver per study, keyed on the storage itself (not on --root).

An embedded journal is guarded by an exclusive `flock` on a lock file beside the journal
(`<journal>.driver-<study>.lock`), taken before the storage is even opened: however a second
driver names the journal (another --root, a relative or absolute --storage), it meets the same
lock, and it writes nothing before it holds it. The kernel releases the lock when the driver
dies, even by kill -9, so a stale lock never blocks a resume.

A database URL may be driven from other machines, so there the lock is a heartbeat record in the
study's attributes: a driver refuses to start while another driver's heartbeat is fresh, writes
its own, and checks a moment later that its claim is the one that stuck (two drivers starting
in the same second: the later write wins and the other backs off).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import socket
import threading
import time
import uuid
from pathlib import Path

import optuna

from dsf_search.search.storage import DEFAULT_ROOT, journal_file

HEARTBEAT_KEY = "driver"
HEARTBEAT_S = 10.0
STALE_AFTER_S = 45.0
CONFIRM_S = 1.0
_SAFE = re.compile(r"[A-Za-z0-9][\w.-]{0,63}")


class DriverBusy(RuntimeError):
    """Another live driver holds the study."""


def lock_path(journal: Path, study: str) -> Path:
    """The flock file of `study` in the journal file `journal`."""
    tag = study if _SAFE.fullmatch(study) else hashlib.sha256(study.encode()).hexdigest()[:16]
    return journal.with_name(f"{journal.name}.driver-{tag}.lock")


def driver_is_live(url: str | None, study: optuna.Study, root: Path | str = DEFAULT_ROOT) -> bool:
    """Whether a driver holds `study` now (its journal's flock is taken, or its heartbeat is fresh)."""
    journal = journal_file(url, study.study_name, root)
    if journal is None:
        beat = study.user_attrs.get(HEARTBEAT_KEY) or {}
        return time.time() - beat.get("time", 0) < STALE_AFTER_S
    path = lock_path(journal, study.study_name)
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops a lock taken here
    return False


class DriverLock:
    """Context manager: hold `study` in its storage for this driver, or raise DriverBusy.

    Entering takes the journal's flock (nothing is written before); for a database URL call
    `claim(study)` once the study is open, before writing to it.
    """

    def __init__(self, url: str | None, study: str, root: Path | str = DEFAULT_ROOT):
        journal = journal_file(url, study, root)
        self.path = lock_path(journal, study) if journal is not None else None
        self.study_name = study
        self.study: optuna.Study | None = None
        self._fd: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.identity = {"host": socket.gethostname(), "pid": os.getpid(), "token": uuid.uuid4().hex}

    def __enter__(self) -> DriverLock:
        if self.path is None:
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self.path.read_text().strip() or "unknown"
            os.close(fd)
            raise DriverBusy(
                f"another driver is running this study ({self.study_name!r} in this storage, {holder}); wait for it to "
                f"finish or stop it before starting a new one (lock: {self.path})"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({k: v for k, v in self.identity.items() if k != "token"}).encode())
        self._fd = fd
        return self

    def claim(self, study: optuna.Study) -> None:
        """Database URLs: take the study's heartbeat (a no-op for a journal, whose flock is held)."""
        if self.path is not None:
            return
        self.study = study
        self._refuse_if_held(study.user_attrs.get(HEARTBEAT_KEY))
        self._beat()
        time.sleep(CONFIRM_S)
        beat = optuna.load_study(study_name=study.study_name, storage=study._storage).user_attrs.get(HEARTBEAT_KEY)
        if not beat or beat.get("token") != self.identity["token"]:
            self.study = None
            self._refuse_if_held(beat, force=True)
        self._thread = threading.Thread(target=self._loop, name="driver-heartbeat", daemon=True)
        self._thread.start()

    def _refuse_if_held(self, beat: dict | None, force: bool = False) -> None:
        if not beat or beat.get("token") == self.identity["token"]:
            return
        age = time.time() - beat.get("time", 0)
        if force or age < STALE_AFTER_S:
            raise DriverBusy(
                f"another driver is running this study ({self.study_name!r} in this storage, host {beat.get('host')}, "
                f"pid {beat.get('pid')}, heartbeat {max(age, 0):.0f} s ago); a driver counts as gone after "
                f"{STALE_AFTER_S:.0f} s of silence"
            )

    def _beat(self) -> None:
        self.study.set_user_attr(HEARTBEAT_KEY, {**self.identity, "time": time.time()})

    def _loop(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            self._beat()

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
            if self.study is not None:
                try:
                    self.study.set_user_attr(HEARTBEAT_KEY, {**self.identity, "time": 0.0})
                except Exception:  # noqa: BLE001 - a store that went away cannot be told; the beat goes stale
                    pass
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
