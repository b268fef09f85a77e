"""`dsf-search results` and `compare` on a real small study: formats round-trip, --pareto, errors."""

from __future__ import annotations

import io
import json
import sys

import numpy as np
import pandas as pd
import pytest

from dsf_search.cli import main
from dsf_search.results import load
from tests.results.test_table import brute_force

OBJECTIVES = {"quality": "maximize", "state_bytes": "minimize"}


def cli(capsys, study, *args: str) -> tuple[int, str, str]:
    code = main([*args, "--root", str(study.root)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def df(study) -> pd.DataFrame:
    return load(study.name, root=study.root)


def parse_markdown(text: str) -> list[list[str]]:
    rows = []
    for line in text.strip().splitlines():
        cells = [c.strip().replace("\\|", "|") for c in line.strip().strip("|").split(" | ")]
        rows.append(cells)
    return [rows[0], *rows[2:]]  # drop the alignment row


def test_pareto_rows_equal_a_brute_force_filter(capsys, study, df):
    code, out, _ = cli(capsys, study, "results", study.name, "--pareto", "--format", "csv")
    assert code == 0
    front = pd.read_csv(io.StringIO(out))
    complete = df[df["state"] == "COMPLETE"]
    keep = brute_force(complete[list(OBJECTIVES)].to_numpy(float), [True, False])
    assert set(front["hash"]) == set(complete.loc[keep, "hash"])
    assert list(front["quality"]) == sorted(front["quality"], reverse=True)


def test_csv_and_json_round_trip_every_column(capsys, study, df):
    complete = df[df["state"] == "COMPLETE"].reset_index(drop=True)
    code, out, _ = cli(capsys, study, "results", study.name, "--format", "csv")
    assert code == 0
    back = pd.read_csv(io.StringIO(out))
    assert list(back.columns) == list(df.columns)
    for column in ("number", "quality", "state_bytes", "acc.parity", "cost.params", "time.total"):
        assert np.array_equal(back[column].to_numpy(float), complete[column].to_numpy(float)), column
    assert list(back["layers.0.transition"]) == list(complete["layers.0.transition"])
    code, out, _ = cli(capsys, study, "results", study.name, "--format", "json")
    records = json.loads(out)
    assert [r["number"] for r in records] == list(complete["number"])
    assert [r["quality"] for r in records] == list(complete["quality"])
    assert [r["param.gate"] for r in records] == [None if pd.isna(v) else v for v in complete["param.gate"]]


def test_markdown_and_table_show_the_rows(capsys, study, df):
    columns = "number,architecture,quality,layers.0.transition,param.gate"
    code, out, _ = cli(capsys, study, "results", study.name, "--format", "markdown", "--columns", columns)
    assert code == 0
    rows = parse_markdown(out)
    complete = df[df["state"] == "COMPLETE"]
    assert rows[0] == columns.split(",")
    assert [int(r[0]) for r in rows[1:]] == list(complete["number"])
    assert [float(r[2]) for r in rows[1:]] == pytest.approx(list(complete["quality"]), rel=1e-5)
    assert [r[4] for r in rows[1:]] == ["-" if pd.isna(v) else v for v in complete["param.gate"]]
    code, out, _ = cli(capsys, study, "results", study.name, "--state", "FAIL,PRUNED")
    lines = out.splitlines()
    assert "failure" in lines[0] and len(lines) == 2 + int(df["state"].isin(["FAIL", "PRUNED"]).sum())


def test_parquet_round_trips_and_needs_pyarrow(capsys, study, df, tmp_path, monkeypatch):
    pytest.importorskip("pyarrow")
    path = tmp_path / "t.parquet"
    code, _, _ = cli(capsys, study, "results", study.name, "--format", "parquet", "--out", str(path), "--state", "ALL")
    assert code == 0
    back = pd.read_parquet(path)
    assert list(back.columns) == list(df.columns) and len(back) == len(df)
    assert back["quality"].equals(df["quality"]) and back["cost.params"].equals(df["cost.params"])
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if it were not installed
    code, _, err = cli(capsys, study, "results", study.name, "--format", "parquet", "--out", str(path))
    assert code == 2 and "pyarrow" in err and "dsf-search[results]" in err


def test_where_sort_top_columns(capsys, study, df):
    code, out, _ = cli(capsys, study, "results", study.name, "--state", "ALL", "--format", "csv",
                       "--where", 'layers.0.transition == "diagonal" and notna(param.gate)',
                       "--sort", "number:desc", "--top", "3", "--columns", "number,state,param.gate")
    assert code == 0
    back = pd.read_csv(io.StringIO(out))
    expected = df[(df["layers.0.transition"] == "diagonal") & df["param.gate"].notna()].sort_values("number", ascending=False)
    assert list(back["number"]) == list(expected["number"][:3]) and list(back.columns) == ["number", "state", "param.gate"]


@pytest.mark.parametrize("args, message", [
    (["--where", 'layers.0.transiton == "scalar"'], "close matches: layers.0.transition"),
    (["--sort", "qualiti"], "close matches: quality"),
    (["--columns", "number,acc.parit"], "close matches: acc.parity"),
    (["--state", "DONE"], "unknown state 'DONE'"),
    (["--where", "quality >"], "--where"),
])
def test_bad_queries_exit_2(capsys, study, args, message):
    code, _, err = cli(capsys, study, "results", study.name, *args)
    assert code == 2 and message in err


def test_unknown_study_exits_2_with_close_matches(capsys, study):
    code, _, err = cli(capsys, study, "results", "smal")
    assert code == 2 and "unknown study 'smal'" in err and study.name in err
    code, _, err = cli(capsys, study, "compare", study.name, "smll")
    assert code == 2 and study.name in err


def test_compare_studies_and_axes(capsys, study, df):
    code, out, _ = cli(capsys, study, "compare", study.name, "--format", "csv")
    assert code == 0
    summary = pd.read_csv(io.StringIO(out)).iloc[0]
    assert summary["complete"] == (df["state"] == "COMPLETE").sum() and summary["failed"] == (df["state"] == "FAIL").sum()
    distinct = df[(df["state"] == "COMPLETE") & df["duplicate_of"].isna()]
    assert summary["quality best"] == pytest.approx(distinct["quality"].max())
    assert summary["state_bytes median"] == pytest.approx(distinct["state_bytes"].median())
    code, out, _ = cli(capsys, study, "compare", study.name, "--by", "gate", "--format", "csv")
    by = pd.read_csv(io.StringIO(out), keep_default_na=False)
    assert list(by.columns[:4]) == ["study", "gate", "count", "failed"]
    inactive = by[by["gate"] == "-"].iloc[0]  # scalar transitions ask no gate
    scalar = distinct[distinct["param.transition"] == "scalar"]
    assert inactive["count"] == len(scalar) and float(inactive["quality best"]) == pytest.approx(scalar["quality"].max())
    assert by["count"].sum() == len(distinct)
    code, _, err = cli(capsys, study, "compare", study.name, "--by", "gatee")
    assert code == 2 and "param.gate" in err


# --- `--where` reaches columns only: hostile expressions exit 2 and run nothing ------------------

def hostile_queries(marker) -> list[str]:
    touch = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    return [
        f"@pd.io.common.os.system('touch {marker}') == 0",
        "quality.__class__.__init__.__globals__['os'].system('touch " + str(marker) + "') == 0",
        f"{touch} == 0",
        f"quality.__class__.__mro__[1].__subclasses__() == 0 or {touch}",
        "`quality`.__class__ == 1",
        f"@__builtins__['exec']('{touch}')",
        f"layers.0.transition.str.cat(sep={touch!r}) == 'x'",
        "lambda: 0",
        "[c for c in quality] == 0",
        "quality if quality else quality",
        "quality := 1",
    ]


def test_hostile_where_runs_nothing_and_exits_2(capsys, study, tmp_path):
    marker = tmp_path / "pwned"
    for expr in hostile_queries(marker):
        code, out, err = cli(capsys, study, "results", study.name, "--where", expr)
        assert code == 2, (expr, err)
        assert err.startswith("error: ") and "Traceback" not in err and "--where" in err, (expr, err)
        assert not marker.exists(), expr


def test_where_errors_name_the_offending_token(capsys, study):
    for expr, words in [
        ("@x == 1", ["'@'", "column 1"]),
        ("quality.__class__ == 1", ["unknown column 'quality.__class__'"]),
        ("quality > 0.5 andd number < 3", ["'andd'", "column 15"]),
        ('layers.0.transition in scalar', ["list of values after 'in'", "'scalar'"]),
        ("eval(quality) > 0", ["unknown function 'eval'", "isna, notna, abs"]),
        ("param.gate.notna()", ["write notna(param.gate)"]),
        ("quality + 'x' > 1", ["'+'", "needs numbers"]),
        ("quality", ["not a condition"]),
        ("(" * 60 + "quality > 0" + ")" * 60, ["nested deeper than"]),
        ("quality > 0 or " * 200 + "quality > 0", ["characters; at most"]),
        ("quality == 'a' * 1000000000", ["'*'", "needs numbers"]),
    ]:
        code, _, err = cli(capsys, study, "results", study.name, "--where", expr)
        assert code == 2 and all(w in err for w in words), (expr, err)


def test_where_language_matches_pandas(study, df):
    from dsf_search.results.query import where
    q, n, t = df["quality"], df["number"], df["layers.0.transition"]
    for expr, mask in [
        ("0.1 < quality <= 0.9", (q > 0.1) & (q <= 0.9)),
        ("not quality > 0.5 and number >= 2", ~(q > 0.5) & (n >= 2)),
        ('layers.0.transition not in ["scalar"] | number % 2 == 0', ~t.isin(["scalar"]) | (n % 2 == 0)),
        ("-quality * 2 + 1 >= -number / 4", -q * 2 + 1 >= -n / 4),
        ("abs(quality - 0.5) < 0.25 & ~isna(quality)", ((q - 0.5).abs() < 0.25) & q.notna()),
        ("`acc.parity` != 1", df["acc.parity"] != 1),
        ("true", pd.Series(True, index=df.index)),
    ]:
        assert list(where(df, expr)["number"]) == list(df.loc[mask.fillna(False).astype(bool), "number"]), expr


def test_hostile_where_in_a_subprocess_prints_nothing(study, tmp_path):
    import os
    import subprocess
    marker = tmp_path / "pwned"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    for expr in (f"@pd.io.common.os.system('echo pwned; touch {marker}') == 0",
                 "quality.__class__.__init__.__globals__['__builtins__']['print']('pwned') == 0"):
        proc = subprocess.run([sys.executable, "-m", "dsf_search", "results", study.name, "--root", str(study.root),
                               "--where", expr], capture_output=True, text=True, env=env, timeout=120)
        assert proc.returncode == 2 and "pwned" not in proc.stdout and "Traceback" not in proc.stderr, proc.stderr
        assert not marker.exists()
