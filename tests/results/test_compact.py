"""Compact tables never drop a searched axis: a constant decision on the front is often the finding."""

import pandas as pd

from dsf_search.cli.results import compact_columns
from dsf_search.results.states import INTERRUPTED, failed, outcome


def test_a_searched_axis_constant_over_the_rows_is_kept():
    front = pd.DataFrame({
        "number": [3, 7], "state": ["COMPLETE", "COMPLETE"], "architecture": [None, None], "quality": [0.9, 0.8],
        "layers.0.eigenvalues": ["signed", "signed"], "layers.0.d_model_fixed": [64, 64],
        "param.layers.transition": ["householder", "diagonal"], "param.layers.eigenvalues": ["signed", "signed"],
    })
    columns = compact_columns(front, {"quality": "maximize"})
    assert "param.layers.eigenvalues" in columns and "param.layers.transition" in columns
    assert "layers.0.d_model_fixed" not in columns


def test_interrupted_trials_are_not_failures():
    df = pd.DataFrame({"number": [0, 1, 2], "state": ["FAIL", "FAIL", "COMPLETE"],
                       "failure_kind": ["interrupted", "diverged", None]})
    assert list(outcome(df)) == [INTERRUPTED, "FAIL", "COMPLETE"]
    assert list(failed(df)["number"]) == [1]
