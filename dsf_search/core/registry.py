"""The core's registry of options: one object per choice of a design axis.

Every option of an axis (a transition structure, a gate parametrization, an injection, a piece
of input wiring, ...) is one registered object that knows what it means; the mixer, the cost
model, the checks, the spec validation and the grammar all ask the registry instead of keeping
their own lists of names. Adding an option is one object (plus its tests).

    GATES = Registry("gate")
    @GATES.register
    @dataclass(frozen=True)
    class SigmoidGate(Option):
        name: str = "sigmoid"
        doc: str = "a_t = sigmoid(W u_t + c)"
        ...
    GATES["sigmoid"]     # the option; unknown names raise ValueError with a close match
    GATES.names()        # ("sigmoid", ...) in registration order
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from dsf_search.suggest import did_you_mean


@dataclass(frozen=True)
class Option:
    """Base of every registered option: its name (the value written in specs and YAML) and a
    one-line documentation (shown by `dsf-search zoo`, docs and error messages)."""

    name: str
    doc: str


T = TypeVar("T", bound=Option)


class Registry(Generic[T]):
    """The options of one axis, by name, in registration order."""

    def __init__(self, axis: str):
        self.axis = axis
        self._options: dict[str, T] = {}

    def register(self, option: T | type[T]) -> T | type[T]:
        """Register an option instance, or a dataclass whose defaults make one (usable as a
        class decorator). A second option with the same name is a programming error."""
        instance = option() if isinstance(option, type) else option
        if instance.name in self._options:
            raise ValueError(f"{self.axis}: option {instance.name!r} is registered twice")
        self._options[instance.name] = instance
        return option

    def __getitem__(self, name: str) -> T:
        try:
            return self._options[name]
        except (KeyError, TypeError):
            raise ValueError(
                f"{self.axis}: {name!r} is not one of {', '.join(self._options)}{did_you_mean(name, self.names())}"
            ) from None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._options

    def __iter__(self) -> Iterator[T]:
        return iter(self._options.values())

    def __len__(self) -> int:
        return len(self._options)

    def names(self) -> tuple[str, ...]:
        """The option names in registration order."""
        return tuple(self._options)
