"""The one reader of the YAML files a user writes (spaces, protocols): the bounded first look at
the bytes and events (guard.py), source nodes with file, line and key path (source.py), typed
scalars and mappings with known keys (reader.py), the problems of a file, all at once, with the
one "did you mean" (problems.py), and the size ceilings both grammars share (limits.py)."""

from dsf_search.grammar.guard import Flaw, error_line, error_text, read_yaml_file, scan_yaml
from dsf_search.grammar.problems import FileErrors, Problem, Problems, allowed_list, did_you_mean
from dsf_search.grammar.reader import INVALID, Reader, at_least, between, positive
from dsf_search.grammar.source import Node, child_path, parse, read

__all__ = [
    "INVALID", "FileErrors", "Flaw", "Node", "Problem", "Problems", "Reader", "allowed_list", "at_least",
    "between", "child_path", "did_you_mean", "error_line", "error_text", "parse", "positive", "read",
    "read_yaml_file", "scan_yaml",
]
