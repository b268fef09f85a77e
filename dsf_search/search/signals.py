"""Ctrl-C and SIGTERM stop a driver the same way, never in the middle of a storage write.

`StopSignals` installs handlers for SIGINT and SIGTERM that raise `Interrupted` (a
KeyboardInterrupt carrying the signal). Inside `critical()` (asking a trial and registering it,
telling a result) the signal is held and raised when the section ends, so a trial is never
asked without the driver knowing it, and a journal record is never cut by the interrupt.
`install()` may be called again after a library (Ray's `init`) replaced the handlers.
`received` keeps the last signal: an exception raised inside a library call (Ray's `wait`) may
reach the caller as a plain KeyboardInterrupt.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """The driver was stopped by `signum`; `exit_code` is the shell's 128 + signum."""

    def __init__(self, signum: int, message: str = ""):
        super().__init__(message or f"stopped by {signal.Signals(signum).name}")
        self.signum = signum
        self.message = message or f"stopped by {signal.Signals(signum).name}"

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class StopSignals:
    """Context manager: SIGINT/SIGTERM raise Interrupted, held back inside critical sections."""

    def __init__(self) -> None:
        self._previous: dict[int, object] = {}
        self._depth = 0
        self._pending: int | None = None
        self.received: int | None = None  # the last signal, for callers whose exception lost it

    def _handler(self, signum, frame) -> None:
        self.received = signum
        if self._depth:
            self._pending = signum
            return
        raise Interrupted(signum)

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for s in SIGNALS:
            previous = signal.signal(s, self._handler)
            self._previous.setdefault(s, previous)

    def __enter__(self) -> StopSignals:
        self.install()
        return self

    def __exit__(self, *exc) -> None:
        for s, previous in self._previous.items():
            signal.signal(s, previous)
        self._previous.clear()

    @contextmanager
    def critical(self) -> Iterator[None]:
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
        if not self._depth and self._pending is not None:
            signum, self._pending = self._pending, None
            raise Interrupted(signum)
