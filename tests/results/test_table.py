"""The results table of a real small study: columns, dtypes, Pareto fronts (brute force), queries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dsf_search.errors import InputError
from dsf_search.results import groups, load, load_study, pareto, pareto_mask
from dsf_search.results.query import filter_states, sort, where
from tests.results.conftest import FAILURE

OBJECTIVES = {"quality": "maximize", "state_bytes": "minimize"}


@pytest.fixture(scope="module")
def df(study) -> pd.DataFrame:
    return load(study.name, root=study.root)


def brute_force(values: np.ndarray, maximize: list[bool]) -> np.ndarray:
    """Row i is kept unless some row is at least as good everywhere and better somewhere."""
    signed = np.where(maximize, -values, values)
    keep = []
    for row in signed:
        dominated = any((other <= row).all() and (other < row).any() for other in signed)
        keep.append(not dominated)
    return np.array(keep, dtype=bool)


def test_columns_in_order_with_numeric_dtypes(df):
    assert list(df.columns[:4]) == ["number", "state", "quality", "state_bytes"]
    for column in ("layers.0.transition", "layers.0.state_size", "d_model", "param.transition", "param.gate",
                   "acc.parity", "params", "train_tokens_per_s", "cost.params", "cost.state_bytes",
                   "time.total", "device", "hash", "architecture", "findings", "failure", "failure_kind"):
        assert column in df.columns, column
    numeric = ["number", "quality", "state_bytes", "layers.0.state_size", "d_model", "acc.parity", "params",
               "cost.params", "cost.flops_per_token", "time.total", "duplicate_of"]
    for column in numeric:
        assert pd.api.types.is_numeric_dtype(df[column]), (column, df[column].dtype)
    assert df["layers.0.state_size"].dtype == "Int64" and df["cost.params"].dtype == "Int64"
    assert df["layers.0.qk_norm"].dtype == "boolean"
    assert not any(df[c].dtype == object for c in numeric)
    g = groups(df.columns, OBJECTIVES)
    assert g.objectives == list(OBJECTIVES) and "acc.parity" in g.tasks and "cost.params" in g.costs
    assert "layers.0.transition" in g.axes and "param.gate" in g.params and "time.total" in g.timings


def test_rows_hold_every_state_and_inactive_axes_are_empty(df, study):
    assert len(df) == len(load_study(study.name, root=study.root).trials)
    assert set(df["state"]) == {"COMPLETE", "FAIL", "PRUNED"}
    scalar = df[df["param.transition"] == "scalar"]
    assert len(scalar) and scalar["param.gate"].isna().all()
    assert df.loc[df["param.transition"] == "diagonal", "param.gate"].notna().all()
    failed = df[df["state"] == "FAIL"]
    assert (failed["failure"] == FAILURE).all() and (failed["failure_kind"] == "diverged").all()
    pruned = df[df["state"] == "PRUNED"]
    assert pruned["failure"].str.startswith("infeasible").all() and pruned["quality"].isna().all()
    assert (pruned["cost.params"] > 2750).all()
    assert set(df["architecture"].dropna()) == {"diag_gla", "seeds[1]"}
    complete = df[df["state"] == "COMPLETE"]
    assert complete["quality"].between(0, 1).all() and (complete["quality"] == complete["acc.parity"]).all()


@pytest.mark.parametrize("directions", [
    {"a": "maximize", "b": "minimize"},
    {"a": "minimize", "b": "maximize", "c": "minimize"},
    {"a": "maximize", "b": "maximize", "c": "minimize"},
])
def test_pareto_mask_equals_brute_force_on_hand_built_tables(directions):
    rng = np.random.default_rng(len(directions))
    for _ in range(20):
        # few distinct values, so that ties and equal rows occur
        values = pd.DataFrame(rng.integers(0, 5, size=(30, len(directions))).astype(float), columns=list(directions))
        expected = brute_force(values.to_numpy(), [d == "maximize" for d in directions.values()])
        assert (pareto_mask(values, directions).to_numpy() == expected).all()


@pytest.mark.parametrize("directions", [OBJECTIVES, {**OBJECTIVES, "train_tokens_per_s": "maximize"},
                                        {"quality": "maximize", "params": "minimize", "decode_ms_per_token": "minimize"}])
def test_pareto_of_a_real_study_equals_brute_force_over_the_full_table(df, directions):
    complete = df[df["state"] == "COMPLETE"].dropna(subset=list(directions))
    keep = brute_force(complete[list(directions)].to_numpy(float), [d == "maximize" for d in directions.values()])
    front = pareto(df, directions)
    # reused duplicates are the same spec (same hash): the front lists each spec once
    assert set(front["hash"]) == set(complete.loc[keep, "hash"])
    assert front["hash"].is_unique and front["duplicate_of"].isna().all()


def test_where_accepts_dotted_names_and_keeps_inactive_rows_out_of_equalities(df):
    rows = where(df, 'layers.0.transition == "diagonal" and param.gate == "gla"')
    assert len(rows) and (rows["layers.0.transition"] == "diagonal").all() and (rows["param.gate"] == "gla").all()
    inactive = where(df, "isna(param.gate)")
    assert set(inactive["param.transition"]) == {"scalar"}
    assert len(where(df, 'layers.0.transition in ["diagonal", "dense"]')) == (df["layers.0.transition"] == "diagonal").sum()
    assert len(where(df, "acc.parity >= 0 and `cost.params` > 0")) == df["acc.parity"].notna().sum()
    rows = where(df, 'layers.0.gate in ["gla"] and quality > 1e-3')
    assert list(rows["number"]) == list(df.loc[(df["layers.0.gate"] == "gla") & (df["quality"] > 1e-3), "number"])
    failed = where(filter_states(df, ["FAIL"]), 'failure_kind == "diverged"')
    assert len(failed) == (df["state"] == "FAIL").sum()


@pytest.mark.parametrize("expr, wanted", [
    ('layer.0.transition == "diagonal"', "layers.0.transition"),
    ("qualty > 0.5", "quality"),
    ("`acc.parit` > 0", "acc.parity"),
])
def test_unknown_columns_in_where_name_close_matches(df, expr, wanted):
    with pytest.raises(InputError, match=r"unknown column .*close matches: .*" + wanted.replace(".", r"\.")):
        where(df, expr)


def test_sort_and_bad_states(df):
    done = filter_states(df, ["complete"])
    ordered = sort(done, "quality", OBJECTIVES)
    assert ordered["quality"].is_monotonic_decreasing  # an objective sorts best first
    assert sort(done, "quality:asc,number", OBJECTIVES)["quality"].is_monotonic_increasing
    with pytest.raises(InputError, match="close matches: state_bytes"):
        sort(done, "state_byte", OBJECTIVES)
    with pytest.raises(InputError, match="unknown state 'FAILED'.*FAIL"):
        filter_states(df, ["FAILED"])
