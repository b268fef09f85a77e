"""Search domains of one axis: a fixed value, a choice, an integer or a float range.

A domain knows how to ask an Optuna trial for a value (`suggest`), whether it is finite
(`values`), whether it holds a value (`contains`, for seeds) and how to print itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dsf_search.kinds import is_kind

if TYPE_CHECKING:  # only the annotations name optuna (a trial is passed in)
    import optuna


def show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@dataclass(frozen=True)
class Fixed:
    """One value, not searched (no Optuna parameter)."""

    value: Any
    is_param = False

    def values(self) -> list[Any]:
        return [self.value]

    def first(self) -> Any:
        return self.value

    def contains(self, value: Any) -> bool:
        return value == self.value

    def representatives(self) -> list[Any]:
        return [self.value]

    def describe(self) -> str:
        return show(self.value)


@dataclass(frozen=True)
class Choice:
    """A categorical choice among `options` (Optuna-storable values: str, int, float, bool)."""

    options: tuple[Any, ...]
    is_param = True

    def suggest(self, trial: optuna.trial.BaseTrial, name: str) -> Any:
        return trial.suggest_categorical(name, list(self.options))

    def values(self) -> list[Any]:
        return list(self.options)

    def first(self) -> Any:
        return self.options[0]

    def contains(self, value: Any) -> bool:
        # 1 == 1.0 == True in Python; a choice of [1, 2] must not take True
        return any(value == o and type(value) is type(o) for o in self.options)

    def representatives(self) -> list[Any]:
        return list(self.options)

    def describe(self) -> str:
        return f"choice [{', '.join(map(show, self.options))}]"


@dataclass(frozen=True)
class IntRange:
    """Integers lo, lo + step, ..., hi (log: sampled log-uniformly, step 1)."""

    lo: int
    hi: int
    step: int = 1
    log: bool = False
    is_param = True

    def suggest(self, trial: optuna.trial.BaseTrial, name: str) -> int:
        return trial.suggest_int(name, self.lo, self.hi, step=self.step, log=self.log)

    def values(self) -> range:
        # a range, not a list: its length and items are computed, never materialized
        return range(self.lo, self.hi + 1, self.step)

    def first(self) -> int:
        return self.lo

    def contains(self, value: Any) -> bool:
        return is_kind(value, int) and self.lo <= value <= self.hi \
            and (value - self.lo) % self.step == 0

    def representatives(self) -> list[int]:
        # both ends and the second value: parity (e.g. RoPE's even state size) shows in lo + step
        return sorted({self.lo, min(self.lo + self.step, self.hi), self.hi})

    def describe(self) -> str:
        extra = (f" step {self.step}" if self.step != 1 else "") + (" log" if self.log else "")
        return f"int [{self.lo}, {self.hi}]{extra}"


@dataclass(frozen=True)
class FloatRange:
    """Real numbers in [lo, hi], lo < hi (log: sampled log-uniformly); a continuous domain."""

    lo: float
    hi: float
    log: bool = False
    is_param = True

    def suggest(self, trial: optuna.trial.BaseTrial, name: str) -> float:
        return trial.suggest_float(name, self.lo, self.hi, log=self.log)

    def values(self) -> None:
        return None

    def first(self) -> float:
        return self.lo

    def contains(self, value: Any) -> bool:
        return is_kind(value, float) and self.lo <= value <= self.hi

    def representatives(self) -> list[float]:
        return sorted({self.lo, self.hi})

    def describe(self) -> str:
        return f"float [{show(self.lo)}, {show(self.hi)}]" + (" log" if self.log else "")


Domain = Fixed | Choice | IntRange | FloatRange


def size(domain: Domain) -> int | None:
    """Number of values, None when continuous (O(1) for ranges)."""
    values = domain.values()
    return None if values is None else len(values)
