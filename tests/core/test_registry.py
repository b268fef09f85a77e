"""The registry of options: lookup by name, registration order, errors that name the axis."""

from dataclasses import dataclass

import pytest

from dsf_search.core.registry import Option, Registry


def test_register_lookup_and_errors():
    reg: Registry[Option] = Registry("gate")

    @reg.register
    @dataclass(frozen=True)
    class Sigmoid(Option):
        name: str = "sigmoid"
        doc: str = "a_t = sigmoid(x)"

    reg.register(Option("fixed", "per-head constant decay"))
    assert reg.names() == ("sigmoid", "fixed")
    assert reg["sigmoid"].doc == "a_t = sigmoid(x)" and isinstance(reg["sigmoid"], Sigmoid)
    assert "fixed" in reg and "mamba" not in reg and 3 not in reg
    assert [o.name for o in reg] == ["sigmoid", "fixed"] and len(reg) == 2
    with pytest.raises(ValueError, match=r"gate: 'sigmod' is not one of sigmoid, fixed \(did you mean 'sigmoid'\?\)"):
        reg["sigmod"]
    with pytest.raises(ValueError, match="registered twice"):
        reg.register(Option("fixed", "again"))
