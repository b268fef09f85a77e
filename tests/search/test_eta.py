"""The ETA: from the prior before any result, from trial durations after, counting work in flight."""

import pytest

from dsf_search.search.eta import Eta
from dsf_search.search.progress import ProgressLine


def test_before_any_result_the_prior_gives_the_eta():
    eta = Eta(slots=2, prior_s=60.0)
    assert eta.remaining(8, []) == (240.0, False)  # 8 trials of 60 s, two at a time
    assert eta.remaining(8, [30.0, 30.0]) == (210.0, False)  # two trials half done


def test_durations_replace_the_prior_and_a_bound_says_so():
    eta = Eta(slots=2, prior_s=600.0, prior_is_bound=True)
    assert eta.remaining(2, []) == (600.0, True)
    eta.add(100.0)
    eta.add(50.0)
    assert eta.remaining(3, []) == (75.0 * 3 / 2, False)
    left, bound = eta.remaining(1, [1000.0])  # overdue: a little left, on one slot
    assert left == pytest.approx(75.0 * (1 - 0.95)) and not bound
    assert eta.remaining(0, []) == (0.0, False)
    assert Eta(slots=1).remaining(3, []) == (None, False)


def test_the_progress_line_shows_it():
    import io

    line = ProgressLine(io.StringIO(), 8, ["quality"], ["maximize"])
    counts = {"complete": 2, "failed": 0, "infeasible": 0}
    assert line.render(counts, 2, [0.5], 70.0, (125.0, False)).endswith("1:10 elapsed, ETA ~2:05")
    assert line.render(counts, 2, [0.5], 70.0, (600.0, True)).endswith("ETA <=10:00")
    assert line.render(counts, 2, [0.5], 70.0).endswith("ETA ?")
