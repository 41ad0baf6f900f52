"""System metrics of a run's process tree: CPU %, RSS, threads, process count, and GPU through NVML.

GPU access sits behind the small `GpuProbe` interface. The real one (`NvmlProbe`) needs the optional
`nvidia-ml-py` package (`pip install runtui[gpu]`) and a GPU; when either is missing, `load_gpu_probe()`
returns None and GPU metrics are simply not recorded. Tests drive the GPU path with a fake probe.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import psutil

from runtui.execution.process_tree import ProcessIdentity

CPU_PERCENT = "sys/cpu_percent"
RSS_MB = "sys/rss_mb"
THREADS = "sys/threads"
PROCS = "sys/procs"
GPU_UTIL = "sys/gpu_util"
GPU_MEM_MB = "sys/gpu_mem_mb"

MB = 1024 * 1024

# (run_id, name, step or None, value, text, kind, time): the store's PendingPoint
Point = tuple[str, str, "int | None", "float | None", "str | None", str, float]


@dataclass(frozen=True, slots=True)
class GpuUsage:
    """GPU use summed over a set of processes (over all GPUs they touch)."""

    util_percent: float
    mem_mb: float


class GpuProbe(Protocol):
    """Per-process GPU use. Implementations must not raise for pids that use no GPU."""

    def usage(self, pids: Sequence[int]) -> GpuUsage | None:
        """GPU use of `pids`, or None when none of them uses a GPU."""

    def close(self) -> None: ...


class NvmlProbe:
    """GPU use per process through NVML (`pynvml`, shipped by the `nvidia-ml-py` package)."""

    def __init__(self, nvml: Any) -> None:
        self._nvml = nvml
        nvml.nvmlInit()
        self._handles = [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(nvml.nvmlDeviceGetCount())]
        # Utilisation samples newer than this timestamp (µs); NVML keeps a short per-process history.
        self._last_seen: dict[int, int] = {}
        # (device, pid) -> the newest utilisation NVML reported. A call that finds no new sample for a process
        # still on the GPU reports this last value: NVML only adds a sample now and then, so back-to-back calls
        # would otherwise read 0 % from a GPU at 100 % (seen on an H200: 82 %, then 0 %, 0 %, ...).
        self._last_util: dict[tuple[int, int], float] = {}

    def usage(self, pids: Sequence[int]) -> GpuUsage | None:
        wanted = set(pids)
        nvml = self._nvml
        util = 0.0
        mem = 0.0
        found = False
        for index, handle in enumerate(self._handles):
            procs: list[Any] = []
            for getter in ("nvmlDeviceGetComputeRunningProcesses", "nvmlDeviceGetGraphicsRunningProcesses"):
                try:
                    procs.extend(getattr(nvml, getter)(handle))
                except Exception:  # NVML raises its own NVMLError family; an unsupported query just means no data
                    continue
            on_gpu = {p.pid for p in procs}
            for p in procs:
                if p.pid in wanted:
                    found = True
                    used = getattr(p, "usedGpuMemory", None)
                    if isinstance(used, int) and used >= 0:
                        mem += used / MB
            try:
                samples = nvml.nvmlDeviceGetProcessUtilization(handle, self._last_seen.get(index, 0))
            except Exception:  # no new samples (NVML_ERROR_NOT_FOUND) or not supported on this GPU
                samples = []
            newest: dict[int, tuple[int, float]] = {}
            for s in samples:
                stamp = int(s.timeStamp)
                self._last_seen[index] = max(self._last_seen.get(index, 0), stamp)
                if s.pid not in newest or stamp >= newest[s.pid][0]:
                    newest[s.pid] = (stamp, float(s.smUtil))
            for pid, (_, fresh) in newest.items():
                self._last_util[(index, pid)] = fresh
            for key in [k for k in self._last_util if k[0] == index and k[1] not in on_gpu and k[1] not in newest]:
                del self._last_util[key]  # the process left this GPU: its last value no longer holds
            for pid in wanted:
                last = self._last_util.get((index, pid))
                if last is not None:
                    found = True
                    util += last
        return GpuUsage(util, mem) if found else None

    def close(self) -> None:
        with contextlib.suppress(Exception):  # shutting down a library that may already be gone
            self._nvml.nvmlShutdown()


def load_gpu_probe() -> GpuProbe | None:
    """The NVML probe, or None when `nvidia-ml-py` is not installed or there is no usable GPU."""
    try:
        import pynvml
    except ImportError:
        return None
    try:
        probe = NvmlProbe(pynvml)
    except Exception:  # no driver, no GPU: not an error for runtui
        return None
    if not probe._handles:
        probe.close()
        return None
    return probe


@dataclass(frozen=True, slots=True)
class TreeSample:
    time: float
    cpu_percent: float
    rss_mb: float
    threads: int
    procs: int
    gpu: GpuUsage | None

    def points(self, run_id: str) -> list[Point]:
        pts: list[Point] = [
            (run_id, CPU_PERCENT, None, self.cpu_percent, None, "scalar", self.time),
            (run_id, RSS_MB, None, self.rss_mb, None, "scalar", self.time),
            (run_id, THREADS, None, float(self.threads), None, "scalar", self.time),
            (run_id, PROCS, None, float(self.procs), None, "scalar", self.time),
        ]
        if self.gpu is not None:
            pts.append((run_id, GPU_UTIL, None, self.gpu.util_percent, None, "scalar", self.time))
            pts.append((run_id, GPU_MEM_MB, None, self.gpu.mem_mb, None, "scalar", self.time))
        return pts


class TreeSampler:
    """Samples a set of processes. Keeps one psutil.Process per identity, because CPU % is measured between
    two calls on the same object: the first sample of a new process counts 0 % for it."""

    def __init__(self, gpu: GpuProbe | None = None) -> None:
        self.gpu = gpu
        self._procs: dict[ProcessIdentity, psutil.Process] = {}

    def sample(self, procs: Iterable[psutil.Process]) -> TreeSample:
        current: dict[ProcessIdentity, psutil.Process] = {}
        cpu = 0.0
        rss = 0
        threads = 0
        count = 0
        for p in procs:
            try:
                ident = ProcessIdentity(p.pid, p.create_time())
                proc = self._procs.get(ident, p)
                with proc.oneshot():
                    cpu += proc.cpu_percent(None)
                    rss += proc.memory_info().rss
                    threads += proc.num_threads()
            except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
                continue
            current[ident] = proc
            count += 1
        self._procs = current
        gpu = self.gpu.usage([i.pid for i in current]) if self.gpu is not None and current else None
        return TreeSample(time.time(), cpu, rss / MB, threads, count, gpu)

    def close(self) -> None:
        if self.gpu is not None:
            self.gpu.close()
