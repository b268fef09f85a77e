"""A module imported when it is first used, not when the importing module loads.

The core's registered options (core/gates.py, core/injections.py) are one object per choice
that knows both what it means (names, flags, parameter counts: read by the specs, the cost
model, the checks and the grammar, which never need torch) and how it is built (torch code,
run only when a mixer is built). Binding `torch` lazily lets those modules load without
importing torch, so `dsf-search validate` and every `--help` start in a fraction of a second,
while the option code keeps reading `torch.x`, `nn.x` and `F.x` as usual:

    torch, nn, F = lazy_modules("torch", "torch.nn", "torch.nn.functional")

Only attribute access triggers the import, so a lazy module cannot be a base class or be used
at import time; `sys.modules` holds the real module once (and only once) it is imported.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    """Stands for module `name`; the first attribute read imports it (later reads go to it)."""

    __slots__ = ("_name", "_module")

    def __init__(self, name: str):
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attr)

    def __repr__(self) -> str:
        state = "imported" if self._module is not None else "not imported yet"
        return f"<lazy module {self._name!r} ({state})>"


def lazy_modules(*names: str) -> tuple[Any, ...]:
    """One LazyModule per name, in order (typed Any: they stand for the modules)."""
    return tuple(LazyModule(name) for name in names)
