"""Reading YAML files that may be hostile: bytes to text, and a bounded first pass over the
events before anything is composed (dsf_search.grammar.guard)."""

from dsf_search.grammar.guard import Flaw, error_line, error_text, read_yaml_file, scan_yaml

__all__ = ["Flaw", "error_line", "error_text", "read_yaml_file", "scan_yaml"]
