"""The candidate to evaluate: a zoo preset (sized by the protocol's model defaults) or a spec file."""

from __future__ import annotations

from pathlib import Path

import yaml

from dsf_search.core import zoo
from dsf_search.core.spec import ModelSpec
from dsf_search.defaults import DEFAULT_PROTOCOL
from dsf_search.errors import InputError
from dsf_search.evaluate.protocol import Protocol

# Sizes a preset gets when the protocol imposes none (the zoo's own defaults).
DEFAULT_D_MODEL, DEFAULT_N_LAYERS = 64, 2


def default_protocol_path() -> Path:
    """The default protocol, evaluators/quick.yaml: the working directory's when it has one, else
    the one of the checkout this package runs from (so commands work from any directory)."""
    here = Path(DEFAULT_PROTOCOL)
    if here.exists():
        return here
    checkout = Path(__file__).resolve().parents[2] / DEFAULT_PROTOCOL
    return checkout if checkout.exists() else here


def preset_spec(name: str, protocol: Protocol) -> ModelSpec:
    """Preset ``name`` at the protocol's model defaults, with the protocol's vocabulary.

    Raises:
        InputError: an unknown preset (with close matches).
    """
    defaults = dict(protocol.model_defaults)
    d_model = defaults.pop("d_model", DEFAULT_D_MODEL)
    n_layers = defaults.pop("n_layers", DEFAULT_N_LAYERS)
    defaults.pop("vocab_size", None)
    try:
        return zoo.model(name, d_model=d_model, n_layers=n_layers, vocab_size=protocol.vocab_size, **defaults)
    except ValueError as err:
        raise InputError(str(err)) from None


def spec_from_file(path: str | Path, protocol: Protocol) -> ModelSpec:
    """The ModelSpec dict in the YAML file ``path``; its vocab_size is set from the protocol's tasks.

    Raises:
        InputError: unreadable file, not YAML, or not a valid ModelSpec (naming the axis).
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as err:
        raise InputError(f"{path}: cannot read spec: {err.strerror or err}") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise InputError(f"{path}:{mark.line + 1 if mark else 1}: not valid YAML: {getattr(err, 'problem', err)}") from None
    if isinstance(data, dict):
        data = {**data, "vocab_size": protocol.vocab_size}
    try:
        return ModelSpec.from_dict(data)
    except (ValueError, TypeError) as err:
        raise InputError(f"{path}: {err}") from None


def candidate_spec(source: str, protocol: Protocol) -> ModelSpec:
    """A preset name, or the path of a spec YAML file (anything ending in .yaml/.yml or existing)."""
    path = Path(source)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return spec_from_file(path, protocol)
    return preset_spec(source, protocol)
