"""Issue 13: SIGTERM stops a driver as Ctrl-C does; the embedded Ray listens on 127.0.0.1 only."""

from __future__ import annotations

import io
import os
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from dsf_search.search import attrs as A
from dsf_search.search.driver import Driver, resolve_settings
from dsf_search.search.storage import open_storage
from dsf_search.space import load_space


def trials_by_state(study: optuna.Study) -> dict[TrialState, list]:
    out: dict[TrialState, list] = {}
    for t in study.get_trials():
        out.setdefault(t.state, []).append(t)
    return out


def test_a_signal_while_a_trial_is_asked_never_leaves_it_running(make_space):
    path = make_space(trials=2)
    space = load_space(path)
    suggest = space.suggest

    def suggest_then_signal(trial):  # SIGTERM lands after Optuna created the trial, before the driver knew it
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)
        return suggest(trial)

    space.suggest = suggest_then_signal

    def as_interrupt(signum, frame):  # what the CLI installs before the driver starts
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, as_interrupt)
    try:
        driver = Driver(resolve_settings(space, path, executor="serial"), space, out=io.StringIO(), show_progress=False)
        with pytest.raises(KeyboardInterrupt):
            driver.run()
    finally:
        signal.signal(signal.SIGTERM, previous)
    states = trials_by_state(optuna.load_study(study_name="tiny_space", storage=open_storage(None, "tiny_space")))
    assert TrialState.RUNNING not in states
    (stopped,) = states[TrialState.FAIL]
    assert stopped.user_attrs[A.FAILURE_KIND] == "interrupted"
    assert any(t.user_attrs.get(A.REQUEUED_FROM) == stopped.number for t in states[TrialState.WAITING])


def _process_tree(pid: int) -> list[int]:
    out = [pid]
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            children = Path(f"/proc/{pid}/task/{task}/children").read_text().split()
        except OSError:
            continue
        for child in children:
            out += _process_tree(int(child))
    return out


def listening_addresses(pid: int) -> set[str]:
    """The local addresses of the TCP sockets that `pid` and its descendants listen on (Linux /proc)."""
    inodes = set()
    for p in _process_tree(pid):
        try:
            fds = os.listdir(f"/proc/{p}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                link = os.readlink(f"/proc/{p}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
    addresses = set()
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] != "0A" or fields[9] not in inodes:  # 0A: LISTEN
                continue
            raw = bytes.fromhex(fields[1].split(":")[0])
            packed = b"".join(struct.pack("<I", struct.unpack(">I", raw[i:i + 4])[0]) for i in range(0, len(raw), 4))
            addresses.add(socket.inet_ntop(family, packed))
    return addresses


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc")
def test_sigterm_during_a_ray_run_requeues_the_trial_and_exits_143_on_loopback_only(make_space, tmp_path):
    slow = (tmp_path / "tiny.yaml").read_text().replace("max_steps: 4", "max_steps: 5000").replace("eval_every: 4", "eval_every: 5000")
    (tmp_path / "tiny.yaml").write_text(slow.replace("timeout_s: 30", "timeout_s: 600"))
    space = make_space(trials=2)
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env.update({"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0", "PYTHONUNBUFFERED": "1"})
    driver = subprocess.Popen([sys.executable, "-m", "dsf_search", "run", space, "--quiet", "--parallel", "1"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        journal = tmp_path / "results" / "tiny_space" / "journal.log"
        deadline = time.monotonic() + 240
        running = []
        while time.monotonic() < deadline and driver.poll() is None and not running:
            time.sleep(1)
            if journal.exists():
                study = optuna.load_study(study_name="tiny_space", storage=open_storage(None, "tiny_space"))
                running = study.get_trials(states=(TrialState.RUNNING,))
        assert running, "no trial started"
        time.sleep(3)  # the trial is on its Ray worker
        addresses = listening_addresses(driver.pid)
        driver.send_signal(signal.SIGTERM)
        _, err = driver.communicate(timeout=120)
    finally:
        if driver.poll() is None:
            os.killpg(driver.pid, signal.SIGKILL)
    assert addresses and all(a in ("127.0.0.1", "::ffff:127.0.0.1", "::1") for a in addresses), addresses
    assert driver.returncode == 143, err
    assert "re-queued" in err and "dsf-search resume tiny_space" in err, err
    states = trials_by_state(optuna.load_study(study_name="tiny_space", storage=open_storage(None, "tiny_space")))
    assert TrialState.RUNNING not in states
    assert [t.user_attrs[A.FAILURE_KIND] for t in states[TrialState.FAIL]] == ["interrupted"]
    assert states[TrialState.WAITING][0].user_attrs[A.REQUEUED_FROM] == running[0].number
