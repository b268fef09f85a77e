"""Issue 13: one driver per storage, bounded failure loops, resume, exposure, an unwritable store."""

from __future__ import annotations

import dataclasses
import errno
import io
import json
import shutil
import threading
import time
from collections import Counter
from pathlib import Path

import optuna
import pytest
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from dsf_search.cli import main
from dsf_search.errors import InputError
from dsf_search.evaluate.runner import evaluate
from dsf_search.search import DriverBusy, RunSettings, resume_search, run_search
from dsf_search.search import attrs as A
from dsf_search.search.lock import HEARTBEAT_KEY, driver_is_live
from dsf_search.search.storage import journal_path, open_storage
from tests.search import faults


def run(space: str, evaluate_fn=None, out=None, **kw):
    return run_search(space, evaluate_fn=evaluate_fn, out=out or io.StringIO(), show_progress=False,
                      executor="serial", **kw)


def load(name: str = "tiny_space", root="results") -> optuna.Study:
    return optuna.load_study(study_name=name, storage=open_storage(None, name, root))


def edit(path: str, old: str, new: str) -> None:
    text = Path(path).read_text()
    assert old in text
    Path(path).write_text(text.replace(old, new))


def more(trials: int):
    return lambda settings: dataclasses.replace(settings, trials=trials)


# --- 3. one driver per storage ---------------------------------------------------------------

def test_a_driver_naming_the_journal_through_another_root_is_refused_before_writing(make_space, tmp_path):
    space = make_space(trials=1)
    started, release = threading.Event(), threading.Event()

    def held(spec, protocol, **kw):  # the first driver, busy with its trial
        started.set()
        release.wait(60)
        return evaluate(spec, protocol, **kw)

    first: list = []
    thread = threading.Thread(target=lambda: first.append(run(space, held)))
    thread.start()
    try:
        assert started.wait(60)
        journal = journal_path("tiny_space")
        before = journal.read_bytes()
        with pytest.raises(DriverBusy, match="another driver is running this study"):
            run(space, trials=2, root=str(tmp_path / "other"), storage=str(journal.resolve()))
        assert journal.read_bytes() == before
        assert driver_is_live(None, load())
    finally:
        release.set()
        thread.join(60)
    assert first and first[0].complete == 1  # the first driver finished its trial undisturbed
    assert not driver_is_live(None, load())
    assert not load().get_trials(states=(TrialState.FAIL,))


def test_a_database_study_with_a_fresh_heartbeat_is_refused(make_space, tmp_path):
    url = f"sqlite:///{tmp_path / 'studies.db'}"
    space = make_space(trials=1)
    run(space, storage=url)
    study = optuna.load_study(study_name="tiny_space", storage=url)
    study.set_user_attr(HEARTBEAT_KEY, {"host": "elsewhere", "pid": 1, "token": "theirs", "time": time.time()})
    n = len(study.trials)
    with pytest.raises(DriverBusy, match="host elsewhere"):
        run(space, trials=2, storage=url)
    assert len(optuna.load_study(study_name="tiny_space", storage=url).trials) == n
    study.set_user_attr(HEARTBEAT_KEY, {"host": "elsewhere", "pid": 1, "token": "theirs", "time": time.time() - 3600})
    assert run(space, trials=2, storage=url).complete == 2  # a stale heartbeat is a driver that is gone


def test_a_trial_finished_by_another_driver_keeps_this_drivers_result(make_space):
    space = make_space(trials=2)
    taken: list[int] = []

    def evaluate_while_another_driver_takes_the_trial(spec, protocol, **kw):
        if not taken:  # a second driver finds this trial RUNNING and fails it as an orphan
            other = load()
            (running,) = other.get_trials(states=(TrialState.RUNNING,))
            other._storage.set_trial_user_attr(running._trial_id, A.FAILURE, "orphaned: taken by the other driver")
            other._storage.set_trial_state_values(running._trial_id, TrialState.FAIL)
            taken.append(running.number)
        return evaluate(spec, protocol, **kw)

    out = io.StringIO()
    summary = run(space, evaluate_while_another_driver_takes_the_trial, out=out)
    assert summary.complete == 2
    study = load()
    assert study.trials[taken[0]].state == TrialState.FAIL
    (kept,) = [t for t in study.get_trials(states=(TrialState.COMPLETE,)) if t.user_attrs.get(A.KEPT_FROM) == taken[0]]
    assert kept.params == study.trials[taken[0]].params and kept.user_attrs[A.METRICS]["quality"] == kept.values[0]
    assert A.FAILURE not in kept.user_attrs and kept.user_attrs[A.STATUS] == "ok"
    assert f"trial {taken[0]} was finished by another driver" in out.getvalue()


# --- 4. failure loops ------------------------------------------------------------------------

def test_timeouts_are_counted_per_spec_and_an_exhausted_space_stops(make_space):
    calls: list[str] = []

    def counted_timeout(spec, protocol, **kw):
        calls.append(spec.hash())
        if len(calls) > 40:
            pytest.fail("the driver keeps re-evaluating specs that time out")
        return faults.times_out(spec, protocol, **kw)

    out = io.StringIO()
    summary = run(make_space(trials=8), counted_timeout, out=out)  # 8 distinct specs
    assert summary.exhausted and summary.complete == 0
    assert max(Counter(calls).values()) == 2 and len(set(calls)) == 8
    assert "the space is exhausted" in out.getvalue()


def test_max_failures_in_a_row_stops_the_search_with_a_clear_message(make_space):
    calls: list[str] = []

    def counted_error(spec, protocol, **kw):
        calls.append(spec.hash())
        raise RuntimeError("injected: cannot build")

    path = make_space(trials=8)
    edit(path, "parallelism: 1,", "parallelism: 1, max_failures: 3,")
    out = io.StringIO()
    summary = run(path, counted_error, out=out)
    assert len(calls) == 3 and summary.complete == 0 and not summary.exhausted
    assert "3 evaluations in a row failed" in summary.stopped and "injected: cannot build" in summary.stopped
    assert summary.stopped in out.getvalue()


# --- 9. resume -------------------------------------------------------------------------------

def test_resume_with_root_copy_reads_and_writes_the_copy(make_space, tmp_path):
    run(make_space(trials=2))
    shutil.copytree(tmp_path / "results", tmp_path / "copy")
    summary = resume_search("tiny_space", root=tmp_path / "copy", out=io.StringIO(), show_progress=False,
                            overrides=more(3))
    assert summary.complete == 3
    complete = load(root=tmp_path / "copy").get_trials(states=(TrialState.COMPLETE,))
    assert len({t.user_attrs["hash"] for t in complete}) == 3  # repeats are answered, not counted
    assert len(load().get_trials(states=(TrialState.COMPLETE,))) == 2


def test_resume_from_another_working_directory(make_space, tmp_path, monkeypatch):
    make_space(trials=2)
    run("tiny_space.yaml", root="results")  # relative paths, as typed in the study's folder
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    summary = resume_search("tiny_space", root=tmp_path / "results", out=io.StringIO(), show_progress=False,
                            overrides=more(3))
    assert summary.complete == 3 and not (elsewhere / "results").exists()


def test_resume_refuses_an_edited_space_and_says_where_the_recorded_text_is(make_space, tmp_path):
    space = make_space(trials=2)
    run(space)
    original = Path(space).read_text()
    edit(space, "state_size: {choice: [4, 8]}", "state_size: {choice: [4, 16]}")
    with pytest.raises(InputError, match=r"tiny_space.yaml:\d+: the space file was edited") as err:
        resume_search("tiny_space", out=io.StringIO(), show_progress=False, overrides=more(3))
    copy = tmp_path / "results" / "tiny_space" / "tiny_space.recorded-space.yaml"
    assert str(copy) in str(err.value) and copy.read_text() == original
    assert len(load().get_trials(states=(TrialState.COMPLETE,))) == 2


# --- 11. exposure ----------------------------------------------------------------------------

def test_a_storage_password_is_never_recorded_or_printed(capsys):
    url = "postgresql://me:s3cret-pw@127.0.0.1:1/studies"
    recorded = RunSettings(space="s.yaml", study="s", trials=1, parallel=1, storage=url).to_dict()
    assert "s3cret-pw" not in json.dumps(recorded) and recorded["storage"] == "postgresql://me:***@127.0.0.1:1/studies"
    code = main(["status", "s", "--storage", url])
    captured = capsys.readouterr()
    assert code != 0 and "s3cret-pw" not in captured.out + captured.err and "me:***@" in captured.err


def test_an_evaluator_path_to_another_file_names_it_without_its_content(make_space, tmp_path, capsys):
    space = make_space()
    (tmp_path / "secrets.txt").write_text("root:$6$hash-of-the-password:19000:0:99999:7:::\n")
    edit(space, "evaluator: tiny.yaml", "evaluator: secrets.txt")
    assert main(["validate", space]) == 2
    captured = capsys.readouterr()
    assert "secrets.txt" in captured.err and "hash-of-the-password" not in captured.out + captured.err


# --- 12. an unwritable store -----------------------------------------------------------------

def test_metrics_of_a_trial_whose_store_became_unwritable_are_kept_and_replayed(make_space, monkeypatch):
    space = make_space(trials=2)
    disk_full = []
    append = JournalFileBackend.append_logs

    def failing_append(self, logs):
        if disk_full:
            raise OSError(errno.ENOSPC, "No space left on device")
        return append(self, logs)

    def evaluate_then_fill_the_disk(spec, protocol, **kw):
        result = evaluate(spec, protocol, **kw)
        disk_full.append(True)
        return result

    monkeypatch.setattr(JournalFileBackend, "append_logs", failing_append)
    with pytest.raises(RuntimeError, match="is kept in .*journal.log.unsaved.jsonl") as err:
        run(space, evaluate_then_fill_the_disk)
    kept = [json.loads(line) for line in journal_path("tiny_space").with_name("journal.log.unsaved.jsonl").read_text().splitlines()]
    assert len(kept) == 1 and kept[0]["user_attrs"][A.METRICS]["quality"] == kept[0]["values"][0]
    assert "resume" in str(err.value)
    disk_full.clear()
    monkeypatch.setattr(JournalFileBackend, "append_logs", append)
    summary = resume_search("tiny_space", out=io.StringIO(), show_progress=False)
    assert summary.complete == 2
    study = load()
    replayed = study.trials[kept[0]["trial"]]
    assert replayed.state == TrialState.COMPLETE and list(replayed.values) == kept[0]["values"]
    assert replayed.user_attrs[A.METRICS] == kept[0]["user_attrs"][A.METRICS]


def test_when_the_fallback_file_cannot_be_written_either_the_metrics_are_in_the_message(make_space, monkeypatch):
    from dsf_search.search.recording import Recorder

    disk_full = []
    append = JournalFileBackend.append_logs

    def failing_append(self, logs):
        if disk_full:
            raise OSError(errno.ENOSPC, "No space left on device")
        return append(self, logs)

    def no_room(self, trial, attrs, values):
        raise OSError(errno.ENOSPC, "No space left on device")

    def evaluate_then_fill_the_disk(spec, protocol, **kw):
        result = evaluate(spec, protocol, **kw)
        disk_full.append(result.metrics["quality"])
        return result

    monkeypatch.setattr(JournalFileBackend, "append_logs", failing_append)
    monkeypatch.setattr(Recorder, "_keep", no_room)
    with pytest.raises(RuntimeError, match="nor could .*journal.log.unsaved.jsonl") as err:
        run(make_space(trials=1), evaluate_then_fill_the_disk)
    assert f'"quality": {disk_full[0]}' in str(err.value)
