"""Whether one trial fits the machine or cluster before anything is dispatched.

A Ray actor that asks for more CPUs or GPUs than any node has is never scheduled: the search
would show "1 running" forever and the only explanation would sit in Ray's log. So the driver
compares what one trial reserves (the protocol's `resources:`, after --cpus-per-trial and
--gpus-per-trial) with what the largest node offers, and refuses with a message that names the
protocol, the need, the offer and the flags that change the need.
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass

from dsf_search.errors import InputError


@dataclass(frozen=True)
class Offer:
    """The CPUs and GPUs of the largest node one trial can land on, and where that was read."""

    cpus: float
    gpus: float
    where: str


def _count(value: float, unit: str) -> str:
    value = float(value)
    text = f"{value:g}"
    return f"{text} {unit}" + ("" if value == 1 else "s")


NVML_LIBRARIES = ("libnvidia-ml.so.1", "nvml.dll")  # the NVIDIA driver's management library (Linux, Windows)


def nvml_device_count() -> int:
    """NVIDIA devices the driver's NVML counts on this machine (0 without a driver), read
    through ctypes as Ray's own detection reads it, so no torch or Ray import is needed."""
    for name in NVML_LIBRARIES:
        try:
            nvml = ctypes.CDLL(name)
        except OSError:
            continue
        if nvml.nvmlInit_v2() != 0:  # NVML_SUCCESS is 0
            return 0
        try:
            count = ctypes.c_uint(0)
            return count.value if nvml.nvmlDeviceGetCount_v2(ctypes.byref(count)) == 0 else 0
        finally:
            nvml.nvmlShutdown()
    return 0


def local_gpus() -> int:
    """GPUs a local Ray would detect: NVML's device count, at most as many as
    CUDA_VISIBLE_DEVICES names when it is set (Ray's rule; "" and "NoDevFiles" name none)."""
    count = nvml_device_count()
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        count = min(count, 0 if visible in ("", "NoDevFiles") else len(visible.split(",")))
    return count


def local_offer() -> Offer:
    """What a local Ray started by the driver offers: every CPU core and every visible GPU."""
    return Offer(float(os.cpu_count() or 1), float(local_gpus()), "this machine (a local Ray)")


def ray_offer() -> Offer:
    """The largest alive node of the Ray this process is connected to (ray.init already called)."""
    import ray

    best: tuple[float, float] | None = None
    for node in ray.nodes():
        if not node.get("Alive", False):
            continue
        res = node.get("Resources", {})
        here = (float(res.get("CPU", 0.0)), float(res.get("GPU", 0.0)))
        best = here if best is None or here > best else best
    cpus, gpus = best or (0.0, 0.0)
    nodes = sum(1 for node in ray.nodes() if node.get("Alive", False))
    return Offer(cpus, gpus, f"the Ray cluster's largest node ({nodes} node{'s' if nodes != 1 else ''} alive)")


def check_fits(protocol: str, cpus: float, gpus: float, offer: Offer, device: str = "auto") -> None:
    """Raise InputError when one trial needing `cpus` and `gpus` can never be scheduled on `offer`.

    `protocol` names the protocol for the message (its file and name).
    """
    problems = []
    if cpus > offer.cpus:
        problems.append("--cpus-per-trial N (N <= %g)" % offer.cpus)
    if gpus > offer.gpus:
        problems.append("--gpus-per-trial 0 (trials then train on CPU: slower)" if offer.gpus == 0
                        else "--gpus-per-trial F (F <= %g)" % offer.gpus)
    if device == "cuda" and offer.gpus == 0:
        problems.append("--device auto or cpu")
    if not problems:
        return
    raise InputError(
        f"{protocol} needs {_count(cpus, 'CPU')} and {_count(gpus, 'GPU')} per trial (its `resources:`, after "
        f"--cpus-per-trial/--gpus-per-trial), but {offer.where} offers {_count(offer.cpus, 'CPU')} and "
        f"{_count(offer.gpus, 'GPU')}, so no trial could ever start. Pass " + " and ".join(problems)
        + ", or join a cluster that has them (--address)."
    )
