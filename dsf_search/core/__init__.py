"""The unified core: every token mixer as one computation (DESIGN.md sections 1 and 3.1-3.3).

What describes a model (the specs, the registries of options, the zoo, the cost model, the
checks) is torch-free and imported with the package; what computes (`mix`, `coefficients`,
`DSFMixer`, `MixerState`, `SequenceModel`) imports torch, so the package imports it when one of
these names is first read (PEP 562, dsf_search/lazy.py). `validate`, `sample` and every
`--help` thus never load torch. No submodule shares a name with these (`mix` lives in
core/mixing.py), so `from dsf_search.core import mix` is the function whatever was imported
before.
"""

from typing import TYPE_CHECKING

from dsf_search.core import zoo
from dsf_search.core.cost import Cost, analytic_cost
from dsf_search.core.spec import MixerSpec, ModelSpec
from dsf_search.lazy import lazy_exports

if TYPE_CHECKING:
    from dsf_search.core.mixer import DSFMixer, MixerState
    from dsf_search.core.mixing import coefficients, mix
    from dsf_search.core.model import SequenceModel

__getattr__, __dir__ = lazy_exports(globals(), {
    "coefficients": "dsf_search.core.mixing",
    "mix": "dsf_search.core.mixing",
    "DSFMixer": "dsf_search.core.mixer",
    "MixerState": "dsf_search.core.mixer",
    "SequenceModel": "dsf_search.core.model",
})

__all__ = [
    "Cost",
    "DSFMixer",
    "MixerSpec",
    "MixerState",
    "ModelSpec",
    "SequenceModel",
    "analytic_cost",
    "coefficients",
    "mix",
    "zoo",
]
