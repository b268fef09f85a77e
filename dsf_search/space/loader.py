"""`read_space`: the `model` and `seeds` sections of a space file as a `Space` (the model grammar
only; the search plan, dsf_search.search.plan, reads the rest of the file and calls this)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dsf_search.grammar import Node, Problems, Reader
from dsf_search.grammar.limits import MAX_MODEL_BYTES
from dsf_search.space.axes import MODEL_DEFAULTS
from dsf_search.space.coverage import unbuildable
from dsf_search.space.extent import oversized
from dsf_search.space.model import read_model
from dsf_search.space.resolve import Resolver
from dsf_search.space.seeds import SeedReader
from dsf_search.space.space import Space
from dsf_search.space.variables import CycleError, decision_order

DEFAULT_LAYERS = 2


def read_space(keys: dict[str, Node], problems: Problems, file: Path, defaults: dict[str, Any], length: int) -> Space | None:
    """The space of the top-level `keys` of a file (`model`, optional `seeds`), or None with its
    problems recorded. `defaults` are the model values a protocol imposes (vocabulary, width);
    `length` is the context length the largest candidate is costed at. Nothing past reading the
    sections is checked while `problems` holds any (of this file's other sections too)."""
    section = read_model(keys["model"], Reader(problems)) if "model" in keys else None
    if section is None:
        return None
    seeds = SeedReader(problems).seeds(keys["seeds"], section) if "seeds" in keys else []
    if problems:
        return None  # the checks below need a well-formed file
    try:
        order = decision_order(section.variables, section.depends)
    except CycleError as err:
        first = section.variables[err.keys[0]]
        problems.add(first.line, first.path, f"the conditions read each other in a circle: {err}")
        return None
    resolver = Resolver(section, order, {**MODEL_DEFAULTS, "n_layers": DEFAULT_LAYERS, **defaults})
    controlling = set().union(*section.depends.values())
    for key, message, example in unbuildable(resolver, controlling):
        var = resolver.variables[key] if key else None
        problems.add(var.line if var else 1, var.path if var else "model",
                     f"{message} (reached with {example}); exclude this combination with `when:`")
    if problems:
        return None
    too_large = oversized(resolver, length)
    if too_large is not None:
        what, example = too_large
        problems.add(keys["model"].key_line, "model", f"the largest candidates need {what} (reached with {example}); "
                                                      f"no machine holds more than {MAX_MODEL_BYTES / 2**40:g} TiB: "
                                                      "lower the sizes")
        return None
    return Space(file=file, resolver=resolver, controlling=controlling, seeds=tuple(seeds))
