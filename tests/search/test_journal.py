"""A torn journal (a crash in mid-write): repaired on open, its partial record kept aside, resumable."""

from __future__ import annotations

import dataclasses
import errno
import io
import shutil

import optuna
import pytest
from optuna.storages.journal import JournalFileSymlinkLock
from optuna.trial import TrialState

from dsf_search.cli import main
from dsf_search.errors import InputError
from dsf_search.results import load_study
from dsf_search.search import resume_search, run_search
from dsf_search.search.journal import repair_torn_tail
from dsf_search.search.storage import journal_path, open_storage


def run(space: str, **kw):
    return run_search(space, out=io.StringIO(), show_progress=False, executor="serial", **kw)


def complete_values(storage) -> dict[int, tuple]:
    study = optuna.load_study(study_name="tiny_space", storage=storage)
    return {t.number: tuple(t.values) for t in study.get_trials(states=(TrialState.COMPLETE,))}


@pytest.fixture
def finished_journal(make_space, tmp_path):
    """A study with 2 COMPLETE trials; returns (space file, journal bytes)."""
    space = make_space(trials=2)
    run(space)
    return space, journal_path("tiny_space").read_bytes()


def test_a_journal_torn_at_every_offset_of_its_last_record_opens_and_keeps_every_earlier_trial(finished_journal, tmp_path):
    _, data = finished_journal
    start = data.rstrip(b"\n").rfind(b"\n") + 1  # the last record: data[start:]
    assert len(data) - start > 20
    intact = tmp_path / "intact" / "tiny_space" / "journal.log"
    intact.parent.mkdir(parents=True)
    intact.write_bytes(data[:start])
    before = complete_values(open_storage(None, "tiny_space", tmp_path / "intact"))
    assert len(before) >= 1
    work = tmp_path / "torn" / "tiny_space" / "journal.log"
    work.parent.mkdir(parents=True)
    for cut in range(start + 1, len(data)):
        for leftover in work.parent.glob("journal.log*"):
            leftover.unlink()
        work.write_bytes(data[:cut])
        warnings = io.StringIO()
        torn = repair_torn_tail(work, warnings)
        after = complete_values(optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(work))))
        assert all(after.get(n) == v for n, v in before.items()), cut
        if cut == len(data) - 1:  # only the line end was lost: the record is whole and is kept
            assert torn is None and work.read_bytes() == data, cut
            continue
        assert work.read_bytes() == data[:start], cut  # cut back to the last complete record
        assert torn is not None and torn.read_bytes() == data[start:cut], cut  # nothing thrown away
        message = warnings.getvalue()
        assert str(work) in message and str(torn) in message and "cut off" in message, message


def test_resume_after_a_torn_tail_reaches_the_target(finished_journal, tmp_path):
    _, data = finished_journal
    path = journal_path("tiny_space")
    start = data.rstrip(b"\n").rfind(b"\n") + 1
    path.write_bytes(data[:start])
    before = complete_values(open_storage(None, "tiny_space"))
    path.write_bytes(data[:-5])  # truncate -s -5: the last record is cut
    summary = resume_search("tiny_space", out=io.StringIO(), show_progress=False,
                            overrides=lambda s: dataclasses.replace(s, trials=3))
    assert summary.complete == 3
    study = load_study("tiny_space")  # readable again, and again after the resume wrote to it
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    after = {t.number: tuple(t.values) for t in complete}
    assert len({t.user_attrs["hash"] for t in complete}) == 3  # repeats are answered, not counted
    assert before and all(after[n] == v for n, v in before.items())
    # the trial whose closing record was cut had written its metrics: it is completed from them, not re-run
    whole = tmp_path / "whole.log"
    whole.write_bytes(data)
    full = complete_values(optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(whole))))
    assert set(full) - set(before) and all(after[n] == v for n, v in full.items())
    assert path.with_name("journal.log.torn").read_bytes() == data[start:-5]
    assert not any(t.state == TrialState.RUNNING for t in study.get_trials())


def test_a_damaged_record_inside_the_journal_is_reported_with_file_and_line(finished_journal):
    _, data = finished_journal
    lines = data.split(b"\n")
    lines[3] = lines[3][: len(lines[3]) // 2]  # a partial record followed by whole ones
    journal_path("tiny_space").write_bytes(b"\n".join(lines))
    with pytest.raises(InputError, match=rf"{journal_path('tiny_space')}:4: the journal record is not valid"):
        load_study("tiny_space")


def test_the_torn_file_is_never_overwritten(finished_journal):
    _, data = finished_journal
    path = journal_path("tiny_space")
    path.write_bytes(data[:-3])
    first = repair_torn_tail(path, io.StringIO())
    shutil.copy(path, path.with_name("keep"))
    path.write_bytes(path.read_bytes() + b'{"op_code": 8, "trial_')
    second = repair_torn_tail(path, io.StringIO())
    assert first != second and first.read_bytes() == data[data.rstrip(b"\n").rfind(b"\n") + 1:-3]
    assert second.read_bytes() == b'{"op_code": 8, "trial_'


def test_a_torn_journal_that_cannot_be_written_is_read_up_to_its_last_complete_record(finished_journal, monkeypatch, capsys):
    _, data = finished_journal
    path = journal_path("tiny_space")
    start = data.rstrip(b"\n").rfind(b"\n") + 1
    path.write_bytes(data[:start])
    before = complete_values(open_storage(None, "tiny_space"))
    path.write_bytes(data[:-5])

    def read_only(self):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(JournalFileSymlinkLock, "acquire", read_only)
    assert complete_values(open_storage(None, "tiny_space")) == before
    assert path.read_bytes() == data[:-5]
    assert f"{path}: the last record is incomplete, and the journal cannot be repaired here" in capsys.readouterr().err


def test_status_of_a_torn_journal_warns_with_the_file_and_says_no_driver_runs_it(finished_journal, capsys):
    _, data = finished_journal
    journal_path("tiny_space").write_bytes(data[:-5])
    assert main(["status", "tiny_space"]) == 0
    captured = capsys.readouterr()
    assert f"warning: {journal_path('tiny_space')}: the last record was cut off" in captured.err
    assert "a set trial state values record" in captured.err
    assert "no driver is running this study" in captured.out
