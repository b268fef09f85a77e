"""The YAML text of a space as a tree of `Node`s that remember their line and key path.

`yaml.compose` keeps the marks that `yaml.safe_load` throws away; scalars are converted with
PyYAML's safe constructor, so values are exactly what `safe_load` would give. The text is
scanned first (dsf_search.grammar): deep nesting, alias bombs, custom tags and merge keys are
refused with their line before anything is composed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from dsf_search.grammar import error_line, error_text, scan_yaml
from dsf_search.space.errors import Problems


@dataclass
class Node:
    """One YAML value: `value` is a dict[str, Node], a list[Node] or a plain scalar.

    `line` is where the value starts, `key_line` where the key that introduced it is (the same
    for block mappings; they differ for a value on the next line); `plain` marks an unquoted
    scalar (a plain 1e-3 is a string to YAML 1.1 but a number to a reader).
    """

    value: Any
    line: int
    path: str
    key_line: int
    plain: bool = False

    @property
    def is_mapping(self) -> bool:
        return isinstance(self.value, dict)

    @property
    def is_list(self) -> bool:
        return isinstance(self.value, list)

    @property
    def is_scalar(self) -> bool:
        return not (self.is_mapping or self.is_list)

    def plain_value(self) -> Any:
        """The value as plain Python (dicts, lists, scalars), marks dropped."""
        if self.is_mapping:
            return {k: v.plain_value() for k, v in self.value.items()}
        if self.is_list:
            return [v.plain_value() for v in self.value]
        return self.value

    def describe(self) -> str:
        """What was found, for error messages: 'a mapping', 'a list', "string 'abc'"."""
        if self.is_mapping:
            return "a mapping"
        if self.is_list:
            return "a list" if self.value else "an empty list"
        if self.value is None:
            return "nothing (null)"
        kind = {bool: "boolean", int: "integer", float: "number", str: "string"}.get(type(self.value), type(self.value).__name__)
        shown = repr(self.value)
        return f"{kind} {shown if len(shown) <= 60 else shown[:50] + '...' + shown[-6:]}"


def child_path(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _scalar(node: yaml.ScalarNode) -> Any:
    """The value `safe_load` gives; the text as written when it cannot be constructed (a date
    like 2024-13-45, an integer of 5,000 digits), so the reader reports it as a wrong value."""
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, OverflowError):
        return node.value
    finally:
        loader.dispose()


def _convert(node: yaml.Node, path: str, key_line: int, problems: Problems) -> Node:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        items: dict[str, Node] = {}
        for key_node, value_node in node.value:
            kline = key_node.start_mark.line + 1
            key = _scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                problems.add(kline, path, f"keys must be plain names, found {key!r}")
                continue
            if key in items:
                problems.add(kline, child_path(path, key), f"duplicate key (first given on line {items[key].key_line})")
                continue
            items[key] = _convert(value_node, child_path(path, key), kline, problems)
        return Node(items, line, path, key_line)
    if isinstance(node, yaml.SequenceNode):
        values = [_convert(item, child_path(path, i), item.start_mark.line + 1, problems)
                  for i, item in enumerate(node.value)]
        return Node(values, line, path, key_line)
    return Node(_scalar(node), line, path, key_line, plain=node.style is None)


def parse(text: str, problems: Problems) -> Node | None:
    """The tree of `text`, or None (with the syntax error or the scan's flaws recorded at their line)."""
    flaws = scan_yaml(text)
    for flaw in flaws:
        problems.add(flaw.line, flaw.path, flaw.message)
    if flaws:
        return None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        context, context_mark = getattr(err, "context", None), getattr(err, "context_mark", None)
        where = f" ({context} on line {context_mark.line + 1})" if context and context_mark else ""
        problems.add(error_line(err, text), "", f"YAML syntax error: {error_text(err)}{where}")
        return None
    if root is None:
        problems.add(1, "", "the file is empty; a space needs at least name, model and objectives")
        return None
    return _convert(root, "", 1, problems)
