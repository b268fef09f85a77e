"""Integration: a real two-node Ray cluster on loopback, and kill -9 of a driver then resume.

Both run `dsf-search` in subprocesses, so they do not share the session's Ray.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from dsf_search.search import attrs as A
from dsf_search.search.storage import open_storage

RAY = shutil.which("ray", path=os.path.dirname(sys.executable)) or shutil.which("ray")


def env() -> dict[str, str]:
    out = dict(os.environ)
    out.update({"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0", "PYTHONUNBUFFERED": "1"})
    return out


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "dsf_search", *args]


def _alive_nodes(address: str) -> int:
    probe = "import ray; ray.init(address='%s', log_to_driver=False); print(sum(n['Alive'] for n in ray.nodes()))" % address
    proc = subprocess.run([sys.executable, "-c", probe], env=env(), capture_output=True, text=True, timeout=120)
    return int(proc.stdout.strip().splitlines()[-1]) if proc.returncode == 0 and proc.stdout.strip() else 0


@pytest.fixture
def two_node_cluster():
    """`ray start --head` and a second `ray start --address` on loopback, in their own process groups
    (killed at the end: `ray stop` would also stop the test session's own Ray)."""
    port = "6391"
    address = f"127.0.0.1:{port}"
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # Ray's socket paths must stay under 108 bytes
    nodes = [subprocess.Popen([RAY, "start", "--head", f"--port={port}", "--num-cpus=1", "--include-dashboard=false",
                               f"--temp-dir={temp}", "--block"], env=env(), start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        deadline = time.monotonic() + 120
        while _alive_nodes(address) < 1:
            assert time.monotonic() < deadline, "the head node did not start"
            time.sleep(1)
        nodes.append(subprocess.Popen([RAY, "start", f"--address={address}", "--num-cpus=1", "--block"], env=env(),
                                      start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        while _alive_nodes(address) < 2:
            assert time.monotonic() < deadline, "the second node did not join"
            time.sleep(1)
        yield address
    finally:
        for node in reversed(nodes):
            os.killpg(node.pid, signal.SIGTERM)
        for node in nodes:
            node.wait(timeout=60)
        shutil.rmtree(temp, ignore_errors=True)


@pytest.mark.skipif(RAY is None, reason="the ray command is not installed")
def test_search_on_a_two_node_cluster_uses_both_nodes(make_space, two_node_cluster):
    space = make_space(trials=4, parallelism=2)
    proc = subprocess.run(cli("run", space, "--address", two_node_cluster, "--quiet"), env=env(),
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert "Pareto front" in proc.stdout
    study = optuna.load_study(study_name="tiny_space", storage=open_storage(None, "tiny_space"))
    evaluated = [t for t in study.get_trials(states=(TrialState.COMPLETE,)) if A.DUPLICATE_OF not in t.user_attrs]
    assert len({t.user_attrs[A.NODE] for t in evaluated}) == 2


def test_kill_minus_9_then_resume_keeps_every_complete_trial(make_space, tmp_path):
    slow = (tmp_path / "tiny.yaml").read_text().replace("max_steps: 4", "max_steps: 60").replace("eval_every: 4", "eval_every: 60")
    (tmp_path / "tiny.yaml").write_text(slow)
    space = make_space(trials=8)
    driver = subprocess.Popen(cli("run", space, "--serial", "--quiet"), env=env(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, start_new_session=True)
    storage = None
    deadline = time.monotonic() + 300
    complete_before: dict[int, tuple] = {}
    while time.monotonic() < deadline:
        time.sleep(0.5)
        if not (tmp_path / "results" / "tiny_space" / "journal.log").exists():
            continue
        storage = storage or open_storage(None, "tiny_space")
        try:
            study = optuna.load_study(study_name="tiny_space", storage=storage)
        except KeyError:
            continue
        complete_before = {t.number: tuple(t.values) for t in study.get_trials(states=(TrialState.COMPLETE,))}
        running = study.get_trials(states=(TrialState.RUNNING,))
        if len(complete_before) >= 2 and running:
            break
    assert driver.poll() is None, "the driver finished before it could be killed"
    os.killpg(driver.pid, signal.SIGKILL)
    driver.wait(timeout=30)
    study = optuna.load_study(study_name="tiny_space", storage=open_storage(None, "tiny_space"))
    complete_before = {t.number: tuple(t.values) for t in study.get_trials(states=(TrialState.COMPLETE,))}
    orphans = [t.number for t in study.get_trials(states=(TrialState.RUNNING,))]
    assert orphans, "the kill left no trial running"

    proc = subprocess.run(cli("resume", "tiny_space", "--quiet"), env=env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert "re-queued" in proc.stderr
    study = optuna.load_study(study_name="tiny_space", storage=open_storage(None, "tiny_space"))
    after = {t.number: tuple(t.values) for t in study.get_trials(states=(TrialState.COMPLETE,))}
    assert all(after.get(n) == v for n, v in complete_before.items())
    # the target counts distinct architectures; repeats of an evaluated one are told, not counted
    distinct = {t.user_attrs[A.HASH] for t in study.get_trials(states=(TrialState.COMPLETE,))}
    assert len(distinct) == 8
    for n in orphans:
        assert study.trials[n].state == TrialState.FAIL
        assert any(t.user_attrs.get(A.REQUEUED_FROM) == n for t in study.get_trials())
