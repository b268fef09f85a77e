"""Imports deferred to first use: a lazy module, and a package's lazily exported names.

The core's registered options (core/gates.py, core/injections.py) are one object per choice
that knows both what it means (names, flags, parameter counts: read by the specs, the cost
model, the checks and the grammar, which never need torch) and how it is built (torch code,
run only when a mixer is built). Binding `torch` lazily lets those modules load without
importing torch, so `dsf-search validate` and every `--help` start in a fraction of a second,
while the option code keeps reading `torch.x`, `nn.x` and `F.x` as usual:

    torch, nn, F = lazy_modules("torch", "torch.nn", "torch.nn.functional")

Only attribute access triggers the import, so a lazy module cannot be a base class or be used
at import time; `sys.modules` holds the real module once (and only once) it is imported.

A package whose public names come from heavy modules (torch, optuna, Ray) exports them with
`lazy_exports` (PEP 562): `from dsf_search.search import run_search` imports the driver then,
`import dsf_search.search.storage` does not. A lazily exported name must not also be the name
of a submodule: once that submodule is imported, the package attribute would be the module
(tests/architecture/test_fast_commands.py checks this).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any


class LazyModule:
    """Stands for module `name`; the first attribute read imports it (later reads go to it)."""

    __slots__ = ("_name", "_module")

    def __init__(self, name: str):
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__") and attr.endswith("__"):
            # introspection (copy, pickle, inspect probing __deepcopy__, __wrapped__, ...) must
            # not import the module; the option code reads only its public names
            raise AttributeError(attr)
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


def lazy_exports(namespace: dict[str, Any], sources: dict[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """`__getattr__` and `__dir__` for the package whose globals are `namespace`, each of whose
    names `sources` maps to the module that defines it: a name is imported when first read, then
    kept as a plain package attribute.

        __getattr__, __dir__ = lazy_exports(globals(), {"run_search": "dsf_search.search.driver"})
    """
    package = namespace["__name__"]

    def __getattr__(name: str) -> Any:
        if name not in sources:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(sources[name]), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(sources))

    return __getattr__, __dir__
