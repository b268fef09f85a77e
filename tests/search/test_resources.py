"""The resource check before dispatch, and the time-per-trial estimate `validate` prints."""

from __future__ import annotations

import dataclasses
import re
import io
from pathlib import Path

import pytest

from dsf_search.errors import InputError
from dsf_search.evaluate import load_protocol
from dsf_search.evaluate.estimate import estimate_trial
from dsf_search.search import run_search
from dsf_search.search.resources import Offer, check_fits
from dsf_search.search.plan import load_plan


def test_a_gpu_protocol_on_a_cpu_machine_is_refused_with_the_flag_that_changes_it():
    with pytest.raises(InputError) as err:
        check_fits("evaluators/x.yaml (protocol 'x')", 4, 1, Offer(2, 0, "this machine"))
    text = str(err.value)
    assert "evaluators/x.yaml (protocol 'x') needs 4 CPUs and 1 GPU per trial" in text
    assert "this machine offers 2 CPUs and 0 GPUs" in text
    assert "--gpus-per-trial 0" in text and "--cpus-per-trial N (N <= 2)" in text


def test_a_fitting_trial_passes_and_cuda_without_gpus_does_not():
    check_fits("p", 2, 0.5, Offer(2, 1, "here"))
    with pytest.raises(InputError, match="--device auto or cpu"):
        check_fits("p", 1, 0, Offer(2, 0, "here"), device="cuda")


def test_run_refuses_before_creating_the_study(make_space, tmp_path: Path):
    space = make_space()
    with pytest.raises(InputError, match="per trial"):
        run_search(space, out=io.StringIO(), show_progress=False, gpus_per_trial=4096, root=str(tmp_path / "r"))
    assert not (tmp_path / "r").exists()


def test_the_estimate_counts_every_run_of_the_protocol_and_respects_the_timeout(make_space):
    space = load_plan(make_space())
    spec = space.seed_spec(space.seeds[0]) if space.seeds else next(iter(space.enumerate())).spec
    est = estimate_trial(spec, space.protocol)
    assert est.runs == 1 and est.steps == 4 and est.seconds > 0 and not est.capped
    tight = dataclasses.replace(space.protocol, timeout_s=1e-9)  # below any measured step time
    capped = estimate_trial(spec, tight)
    assert capped.capped and capped.seconds == tight.timeout_s


def test_validate_shows_the_resources_and_the_estimate(make_space, capsys):
    from dsf_search.cli import main

    assert main(["validate", make_space()]) == 0
    out = capsys.readouterr().out
    assert "resources  1 CPU(s), 0 GPU(s) per trial" in out and "time/trial ~" in out
    assert load_protocol("tiny.yaml").resources.cpus == 1


def test_a_running_ray_is_asked_for_its_largest_node(make_space, ray_session, tmp_path: Path):
    space = make_space()
    with pytest.raises(InputError, match=r"needs 64 CPUs and 0 GPUs per trial.*the Ray cluster's largest node"):
        run_search(space, out=io.StringIO(), show_progress=False, cpus_per_trial=64, root=str(tmp_path / "r"))


def test_the_local_gpu_count_follows_cuda_visible_devices_as_ray_does(monkeypatch):
    from dsf_search.search import resources

    monkeypatch.setattr(resources, "nvml_device_count", lambda: 4)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert resources.local_gpus() == 4
    for visible, count in (("1,3", 2), ("0", 1), ("0,1,2,3,4,5", 4), ("", 0), ("NoDevFiles", 0)):
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
        assert resources.local_gpus() == count, visible


def test_the_local_gpu_count_agrees_with_torch_where_torch_sees_cuda(monkeypatch):
    import torch

    from dsf_search.search.resources import local_gpus

    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    if not torch.cuda.is_available():
        pytest.skip("torch sees no CUDA device here (NVML's count is then what Ray sees)")
    assert local_gpus() == torch.cuda.device_count()


def test_validate_multiplies_the_estimate_by_the_seeds(make_space, tmp_path: Path, capsys, monkeypatch):
    """With `seeds: N` a candidate is N training jobs, each under the protocol's timeout: the
    estimate says so (per seed, and N times that per candidate)."""
    from dsf_search.cli import main
    from dsf_search.evaluate import estimate

    (tmp_path / "tiny.yaml").write_text((tmp_path / "tiny.yaml").read_text() + "seeds: 3\n")
    measured = estimate.estimate_trial
    monkeypatch.setattr(estimate, "estimate_trial",  # the real measurement, read as 100 s per seed
                        lambda *a, **kw: dataclasses.replace(measured(*a, **kw), seconds=100.0))
    assert main(["validate", make_space()]) == 0
    out = capsys.readouterr().out
    assert "time/trial ~1:40 per seed" in out, out
    assert "seeds  3 per candidate: ~5:00 of compute per candidate (3 jobs of ~1:40," in out, out
