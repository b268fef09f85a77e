"""The first, bounded look at a YAML file a user wrote, before PyYAML composes it.

`read_yaml_file` turns the bytes into text: regular files only, at most MAX_FILE_BYTES, UTF-8
(a BOM is allowed); UTF-16 and other encodings are refused with the line of the first bad byte.
`scan_yaml` walks PyYAML's event stream, which is produced without recursion, so it can refuse
what would otherwise hang, exhaust memory or fail without a line later:

* nesting deeper than MAX_DEPTH (PyYAML's composer and every reader after it recurse),
* documents whose aliases expand to more than MAX_VALUES values (an "alias bomb": 9 anchors of
  9 aliases each expand to 9**9 values although the file is a few hundred bytes),
* tags other than YAML's standard scalar and collection tags (`!python/object`, `!foo`),
* merge keys (`<<: *base`), which the readers do not implement.

Each problem is a `Flaw` with its line and key path; an empty list means the text can be composed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

MAX_FILE_BYTES = 1 << 20
MAX_DEPTH = 32
MAX_VALUES = 100_000
_CORE = "tag:yaml.org,2002:"
ALLOWED_TAGS = frozenset({None, "!", *(_CORE + t for t in ("str", "int", "float", "bool", "null", "seq", "map"))})


@dataclass(frozen=True)
class Flaw:
    """One problem of a file: where (line, key path) and what."""

    line: int
    path: str
    message: str


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def read_yaml_file(path: Path) -> tuple[str | None, Flaw | None]:
    """(the text, None) or (None, why the file cannot be read as UTF-8 YAML text)."""
    try:
        if not path.is_file():
            what = "it is a folder" if path.is_dir() else "not a regular file" if path.exists() else "no such file"
            return None, Flaw(1, "", what)
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        return None, Flaw(1, "", str(err.strerror or err))
    if len(data) > MAX_FILE_BYTES:
        return None, Flaw(1, "", f"the file is larger than {MAX_FILE_BYTES} bytes; YAML files here are a few KB")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(data) > 1 and (data[0] == 0 or data[1] == 0)):
        return None, Flaw(1, "", "the file is UTF-16 (or another wide encoding); save it as UTF-8")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        bad = data[err.start:err.start + 1].hex()
        return None, Flaw(_line_of(data, err.start), "",
                          f"the file is not UTF-8 (byte 0x{bad} at offset {err.start}); save it as UTF-8")
    return text, None


class _Frame:
    """An open mapping or sequence of the event walk."""

    def __init__(self, kind: str, path: str, anchor: str | None):
        self.kind = kind  # "map" | "seq"
        self.path = path
        self.anchor = anchor
        self.size = 1  # values inside, aliases expanded, itself included
        self.index = 0  # next item (sequences) or 0/1: key or value next (mappings)
        self.key: str | None = None


def _child(frame: _Frame | None) -> tuple[str, bool]:
    """(path of the next node inside `frame`, whether that node is a mapping key)."""
    if frame is None:
        return "", False
    if frame.kind == "seq":
        return f"{frame.path}[{frame.index}]", False
    if frame.index == 0:
        return frame.path, True
    key = frame.key if frame.key is not None else "?"
    return (f"{frame.path}.{key}" if frame.path else key), False


def _advance(frame: _Frame | None, size: int, key: str | None = None) -> None:
    if frame is None:
        return
    frame.size += size
    if frame.kind == "seq":
        frame.index += 1
    elif frame.index == 0:
        frame.key, frame.index = key, 1
    else:
        frame.index = 0


def scan_yaml(text: str) -> list[Flaw]:
    """The flaws of `text` that must stop it before composing (see the module docstring).
    Syntax errors are left to the composer, which reports them with their line."""
    flaws: list[Flaw] = []
    stack: list[_Frame] = []
    sizes: dict[str, int] = {}
    total = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            line = event.start_mark.line + 1 if event.start_mark else 1
            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                frame = stack.pop()
                if frame.anchor is not None:
                    sizes[frame.anchor] = frame.size
                _advance(stack[-1] if stack else None, frame.size)
                continue
            if not isinstance(event, yaml.NodeEvent):
                continue
            parent = stack[-1] if stack else None
            path, is_key = _child(parent)
            tag = getattr(event, "tag", None)
            if tag not in ALLOWED_TAGS:
                flaws.append(Flaw(line, path, f"the YAML tag {tag!r} is not allowed; write plain values "
                                              "(custom tags could build Python objects)"))
            if isinstance(event, yaml.AliasEvent):
                size = sizes.get(event.anchor, 1)
                total += size
                if total > MAX_VALUES:
                    flaws.append(Flaw(line, path, f"the aliases (*{event.anchor}) expand the document to more than "
                                                  f"{MAX_VALUES} values; write the values out or use fewer aliases"))
                    return flaws
                _advance(parent, size, key=f"*{event.anchor}")
                continue
            total += 1
            if isinstance(event, yaml.ScalarEvent):
                if is_key and event.value == "<<" and event.implicit[0]:
                    flaws.append(Flaw(line, path, "merge keys (<<) are not supported; write the keys out "
                                                  "(an anchor &name with an alias *name repeats a whole value)"))
                if event.anchor is not None:
                    sizes[event.anchor] = 1
                _advance(parent, 1, key=event.value if is_key else None)
                continue
            # a mapping or a sequence starts
            if len(stack) >= MAX_DEPTH:
                flaws.append(Flaw(line, path, f"nested deeper than {MAX_DEPTH} levels"))
                return flaws
            kind = "map" if isinstance(event, yaml.MappingStartEvent) else "seq"
            stack.append(_Frame(kind, path, event.anchor))
    except yaml.YAMLError:
        pass  # the composer reports the syntax error with its line
    return flaws


def error_line(err: yaml.YAMLError, text: str) -> int:
    """The 1-based line a PyYAML error points at (1 when it names none)."""
    if isinstance(err, yaml.reader.ReaderError):
        return text.count("\n", 0, err.position) + 1
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    return mark.line + 1 if mark is not None else 1


def error_text(err: yaml.YAMLError) -> str:
    """What a PyYAML error says, without its marks."""
    if isinstance(err, yaml.reader.ReaderError):
        return f"the character {chr(err.character)!r} is not allowed in YAML text" \
            if isinstance(err.character, int) else str(err.reason)
    return str(getattr(err, "problem", None) or err)
