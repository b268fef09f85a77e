"""Output formats of a results table: a terminal table, CSV, JSON, Markdown, Parquet."""

from __future__ import annotations

import datetime as dt
import json
import math
import sys
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd

from dsf_search.errors import InputError
from dsf_search.defaults import FORMATS
from dsf_search.results.extras import require

BINARY = ("parquet",)
MISSING = "-"
TABLE_DIGITS, MARKDOWN_DIGITS = 4, 6
TABLE_TEXT_WIDTH = 60  # long text (failure reasons) is cut in the terminal table only


def cell(value: Any, digits: int) -> str:
    """One value as text: '-' when missing, numbers to `digits` significant digits."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return MISSING
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.0f}" if value.is_integer() and abs(value) < 10 ** 15 else f"{value:.{digits}g}"
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        return value.isoformat(sep=" ", timespec="seconds")
    return str(value)


def plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds (other values unchanged)."""
    return value.item() if isinstance(value, np.generic) else value


def cells(df: pd.DataFrame, digits: int, width: int | None = None) -> list[list[str]]:
    rows = []
    for record in df.itertuples(index=False, name=None):
        texts = [cell(plain(v), digits) for v in record]
        if width is not None:
            texts = [t if len(t) <= width else t[:width - 3] + "..." for t in texts]
        rows.append(texts)
    return rows


def to_table(df: pd.DataFrame) -> str:
    """Aligned columns for a terminal: numbers right-aligned, text left-aligned."""
    if df.empty:
        return "(no rows)"
    body = cells(df, TABLE_DIGITS, TABLE_TEXT_WIDTH)
    header = [str(c) for c in df.columns]
    widths = [max(len(header[i]), *(len(r[i]) for r in body)) for i in range(len(header))]
    numeric = [pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]) for c in df.columns]

    def line(texts: list[str]) -> str:
        return "  ".join(t.rjust(w) if num else t.ljust(w) for t, w, num in zip(texts, widths, numeric)).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in body)])


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def to_markdown(df: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table (written here: tabulate is not a dependency)."""
    header = [_escape(str(c)) for c in df.columns]
    numeric = [pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]) for c in df.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" if n else ":---" for n in numeric) + "|"]
    lines += ["| " + " | ".join(_escape(t) for t in row) + " |" for row in cells(df, MARKDOWN_DIGITS)]
    return "\n".join(lines)


def _json_value(value: Any) -> Any:
    value = plain(value)
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        return value.isoformat()
    return value


def to_json(df: pd.DataFrame) -> str:
    """A list of records; numbers keep every digit (Python's repr round-trips a float exactly,
    pandas' to_json keeps at most 15 significant digits), missing values are null."""
    records = [{str(c): _json_value(v) for c, v in zip(df.columns, row)} for row in df.itertuples(index=False, name=None)]
    return json.dumps(records, indent=1)


def render(df: pd.DataFrame, fmt: str) -> str:
    """The table as text in a text format."""
    if fmt == "table":
        return to_table(df)
    if fmt == "markdown":
        return to_markdown(df)
    if fmt == "csv":
        return df.to_csv(index=False)
    if fmt == "json":
        return to_json(df)
    raise InputError(f"unknown format {fmt!r}; allowed: {', '.join(FORMATS)}")


def write(df: pd.DataFrame, fmt: str, out: str | Path | None = None, stream: TextIO | None = None) -> None:
    """Write the table in `fmt` to the file `out`, or to `stream` (default stdout; text formats only)."""
    if fmt in BINARY:
        if out is None:
            raise InputError(f"--format {fmt} writes a binary file: give --out FILE")
        write_parquet(df, Path(out))
        return
    text = render(df, fmt)
    if out is None:
        (stream or sys.stdout).write(text if text.endswith("\n") else text + "\n")
    else:
        Path(out).write_text(text if text.endswith("\n") else text + "\n")


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Parquet (needs pyarrow, the `results` extra). Mixed-type text columns are written as text."""
    require("pyarrow", "--format parquet")
    frame = df.copy()
    for c in frame.columns:
        if frame[c].dtype == object:
            frame[c] = frame[c].map(lambda v: None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v))
    frame.to_parquet(path, index=False)
