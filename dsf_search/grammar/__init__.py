"""The one reader of the YAML files a user writes (spaces, protocols): the bounded first look at
the bytes and events (guard.py), source nodes with file, line and key path (source.py), typed
scalars and mappings with known keys (reader.py), the problems of a file, all at once, with the
one "did you mean" (problems.py), and the size ceilings both grammars share (limits.py).

The names are imported when first read (PEP 562, dsf_search/lazy.py), so the CLI's parsers read
the ceilings of limits.py without loading the YAML reader."""

from typing import TYPE_CHECKING

from dsf_search.lazy import lazy_exports

if TYPE_CHECKING:
    from dsf_search.grammar.guard import Flaw, error_line, error_text, read_yaml_file, scan_yaml
    from dsf_search.grammar.problems import FileErrors, Problem, Problems, allowed_list, did_you_mean
    from dsf_search.grammar.reader import INVALID, Reader, at_least, between, positive
    from dsf_search.grammar.source import Node, child_path, parse, read

__getattr__, __dir__ = lazy_exports(globals(), {
    **dict.fromkeys(("Flaw", "error_line", "error_text", "read_yaml_file", "scan_yaml"), "dsf_search.grammar.guard"),
    **dict.fromkeys(("FileErrors", "Problem", "Problems", "allowed_list", "did_you_mean"), "dsf_search.grammar.problems"),
    **dict.fromkeys(("INVALID", "Reader", "at_least", "between", "positive"), "dsf_search.grammar.reader"),
    **dict.fromkeys(("Node", "child_path", "parse", "read"), "dsf_search.grammar.source"),
})

__all__ = [
    "INVALID", "FileErrors", "Flaw", "Node", "Problem", "Problems", "Reader", "allowed_list", "at_least",
    "between", "child_path", "did_you_mean", "error_line", "error_text", "parse", "positive", "read",
    "read_yaml_file", "scan_yaml",
]
