"""System sampling of a process tree (real processes) and the GPU path.

There is no GPU here, so the GPU path is driven by fakes: `FakeProbe` implements the `GpuProbe` interface,
and `FakeNvml` stands in for the `pynvml` module under the real `NvmlProbe`. Only these are fake.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import psutil
import pytest

from runtui.execution.sampling import (
    CPU_PERCENT,
    GPU_MEM_MB,
    GPU_UTIL,
    PROCS,
    RSS_MB,
    THREADS,
    GpuUsage,
    NvmlProbe,
    TreeSampler,
    load_gpu_probe,
)


@pytest.fixture
def busy() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", "print('ready', flush=True)\nwhile True: pass"], stdout=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"  # past interpreter start-up
    yield proc
    proc.kill()
    proc.wait(timeout=30)


def test_sampling_real_processes(busy: subprocess.Popen[bytes]) -> None:
    sampler = TreeSampler()
    procs = [psutil.Process(busy.pid)]
    first = sampler.sample(procs)
    assert first.procs == 1 and first.threads >= 1 and first.rss_mb > 1
    assert first.cpu_percent == 0.0  # the first call of a process only starts its CPU clock
    import time

    time.sleep(0.3)
    second = sampler.sample([psutil.Process(busy.pid)])  # a fresh Process object: the sampler keeps its own
    assert second.cpu_percent > 1  # a busy loop (sharing the CPU with whatever else runs here)
    assert second.gpu is None
    names = [p[1] for p in second.points("r1")]
    assert names == [CPU_PERCENT, RSS_MB, THREADS, PROCS]
    assert all(p[0] == "r1" and p[2] is None and p[5] == "scalar" for p in second.points("r1"))


def test_a_process_that_died_is_skipped(busy: subprocess.Popen[bytes]) -> None:
    proc = psutil.Process(busy.pid)
    busy.kill()
    busy.wait(timeout=30)
    sample = TreeSampler().sample([proc])
    assert sample.procs == 0 and sample.rss_mb == 0


class FakeProbe:
    def __init__(self) -> None:
        self.asked: list[list[int]] = []
        self.closed = False

    def usage(self, pids: Sequence[int]) -> GpuUsage | None:
        self.asked.append(list(pids))
        return GpuUsage(util_percent=42.0, mem_mb=1024.0)

    def close(self) -> None:
        self.closed = True


def test_gpu_metrics_through_the_probe_interface(busy: subprocess.Popen[bytes]) -> None:
    probe = FakeProbe()
    sampler = TreeSampler(probe)
    sample = sampler.sample([psutil.Process(busy.pid)])
    assert probe.asked == [[busy.pid]]
    points = {p[1]: p[3] for p in sample.points("r1")}
    assert points[GPU_UTIL] == 42.0 and points[GPU_MEM_MB] == 1024.0
    sampler.close()
    assert probe.closed


@dataclass
class _Proc:
    pid: int
    usedGpuMemory: int | None  # NVML's field names


@dataclass
class _Util:
    pid: int
    smUtil: int
    timeStamp: int


class FakeNvml:
    """The few pynvml functions NvmlProbe calls, over two GPUs."""

    def __init__(self) -> None:
        self.inited = False
        self.shut = False
        self.util_since: list[int] = []

    def nvmlInit(self) -> None:
        self.inited = True

    def nvmlShutdown(self) -> None:
        self.shut = True

    def nvmlDeviceGetCount(self) -> int:
        return 2

    def nvmlDeviceGetHandleByIndex(self, i: int) -> str:
        return f"gpu{i}"

    def nvmlDeviceGetComputeRunningProcesses(self, handle: str) -> list[_Proc]:
        if handle == "gpu0":
            return [_Proc(100, 512 * 1024 * 1024), _Proc(999, 4096 * 1024 * 1024)]
        return [_Proc(101, None)]  # memory not available (e.g. some drivers in containers)

    def nvmlDeviceGetGraphicsRunningProcesses(self, handle: str) -> list[_Proc]:
        raise RuntimeError("NVML_ERROR_NOT_SUPPORTED")

    def nvmlDeviceGetProcessUtilization(self, handle: str, since: int) -> list[_Util]:
        self.util_since.append(since)
        if handle == "gpu1":
            raise RuntimeError("NVML_ERROR_NOT_FOUND")  # no samples yet
        return [_Util(100, 30, 5_000), _Util(999, 90, 6_000)]


def test_nvml_probe_sums_only_the_tree_processes() -> None:
    nvml = FakeNvml()
    probe = NvmlProbe(nvml)
    assert nvml.inited
    usage = probe.usage([100, 101])
    assert usage == GpuUsage(util_percent=30.0, mem_mb=512.0)  # pid 999 belongs to someone else
    assert probe.usage([12345]) is None  # no GPU use at all
    # Utilisation is asked for only samples newer than the last one seen.
    assert nvml.util_since[-2] == 6_000
    probe.close()
    assert nvml.shut


class FakeNvmlHistory(FakeNvml):
    """Like real NVML: only samples newer than `since`, and NVML_ERROR_NOT_FOUND when there is none."""

    def __init__(self) -> None:
        super().__init__()
        self.samples = [_Util(100, 82, 5_000)]

    def nvmlDeviceGetProcessUtilization(self, handle: str, since: int) -> list[_Util]:
        newer = [s for s in self.samples if s.timeStamp > since] if handle == "gpu0" else []
        if not newer:
            raise RuntimeError("NVML_ERROR_NOT_FOUND")
        return newer


def test_nvml_a_call_without_new_samples_reports_the_last_value() -> None:
    """Before: 82 % on the first call, then 0 % on back-to-back calls while the GPU stayed busy."""
    nvml = FakeNvmlHistory()
    probe = NvmlProbe(nvml)
    assert probe.usage([100]) == GpuUsage(util_percent=82.0, mem_mb=512.0)
    assert probe.usage([100]) == GpuUsage(util_percent=82.0, mem_mb=512.0)  # no new sample: the last value
    nvml.samples.append(_Util(100, 40, 7_000))
    nvml.samples.append(_Util(100, 60, 8_000))
    assert probe.usage([100]) == GpuUsage(util_percent=60.0, mem_mb=512.0)  # the newest sample, not a sum
    probe.close()


def test_absent_nvml_is_not_an_error() -> None:
    if importlib.util.find_spec("pynvml") is not None:
        pytest.skip("nvidia-ml-py is installed here")
    assert load_gpu_probe() is None
