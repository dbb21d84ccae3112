"""Timing machinery: interleaved repeats, machine facts, bandwidth, peak memory.

Every comparison is timed *interleaved*: repeat ``r`` runs each contender
once, in an order rotated by ``r``, so that a burst of load from another
process hits all contenders alike; the reported figure is the median.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import subprocess
import time
import tracemalloc
from importlib import metadata

import numpy as np

#: Seconds of idle time before each timed run. OpenBLAS worker threads keep
#: spinning for a while after a multi-threaded call (``OPENBLAS_THREAD_TIMEOUT``,
#: about 0.1-0.3 s here); without a pause they take a core from whatever runs
#: next (measured: a full-batch epoch 11.6 ms alone, 18 ms right after a
#: two-thread ``X @ ones``). The pause lets every contender start alike; it
#: busy-waits on one core, so the CPU does not clock down or go idle.
SETTLE_S = 0.5


def _settle(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def interleaved(runners, repeats, warmup=True, settle=SETTLE_S):
    """Median wall time of each runner, timed in rotating interleaved order.

    Parameters
    ----------
    runners : dict of str to callable
        ``name -> fn()``; ``fn`` returns anything (kept from its last run).
    repeats : int
    warmup : bool, default=True
        Run each runner once, untimed, first (imports, caches, BLAS threads).
    settle : float, default=SETTLE_S
        Idle seconds before each timed run (see :data:`SETTLE_S`).

    Returns
    -------
    times : dict of str to float
        Median seconds per run.
    results : dict of str to object
        The last return value of each runner.
    """
    names = list(runners)
    results = {}
    if warmup:
        for name in names:
            results[name] = runners[name]()
    samples = {name: [] for name in names}
    for r in range(repeats):
        for name in names[r % len(names):] + names[:r % len(names)]:
            gc.collect()
            _settle(settle)
            start = time.perf_counter()
            results[name] = runners[name]()
            samples[name].append(time.perf_counter() - start)
    return {name: float(np.median(v)) for name, v in samples.items()}, results


def peak_memory(fn):
    """Peak bytes allocated by Python and numpy while ``fn()`` runs (tracemalloc).

    Memory allocated by native libraries that do not report to tracemalloc
    (e.g. PyTorch, BLAS workspaces) is not counted. Untimed.
    """
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return int(peak)


def read_bandwidth(nbytes, repeats=5):
    """Memory read bandwidth in bytes/s: median of ``np.sum`` over a big array."""
    a = np.ones(nbytes // 8)
    a.sum()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a.sum()
        times.append(time.perf_counter() - start)
    return a.nbytes / float(np.median(times))


def copy_bandwidth(nbytes, repeats=5):
    """Bytes moved per second (read + write) by ``np.copyto`` of a big array."""
    a = np.ones(nbytes // 8)
    b = np.empty_like(a)
    np.copyto(b, a)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        np.copyto(b, a)
        times.append(time.perf_counter() - start)
    return 2 * a.nbytes / float(np.median(times))


def matmul_peak(size=1500, repeats=3):
    """GFLOP/s of numpy's float64 matmul on large square matrices."""
    rng = np.random.default_rng(0)
    A = rng.normal(size=(size, size))
    A @ A
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        A @ A
        times.append(time.perf_counter() - start)
    return 2 * size**3 / float(np.median(times)) / 1e9


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _versions():
    out = {"python": platform.python_version()}
    for pkg in ("numpy", "scipy", "scikit-learn", "numpynn", "torch", "threadpoolctl"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def _blas():
    try:
        from threadpoolctl import threadpool_info
        return [{k: d.get(k) for k in ("internal_api", "version", "num_threads",
                                       "threading_layer", "architecture")}
                for d in threadpool_info()]
    except Exception as exc:  # noqa: BLE001 - informational only
        return [{"error": repr(exc)}]


def _git_commit():
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=5).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def machine_info():
    """CPU, cores, load, memory, BLAS threading and library versions."""
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        mem = None
    return {
        "cpu": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "platform": platform.platform(),
        "memory_gb": None if mem is None else round(mem / 2**30, 1),
        "load_average_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "blas": _blas(),
        "versions": _versions(),
        "git_commit": _git_commit(),
    }


def dump_json(obj, path):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2, default=_jsonable)


def _jsonable(x):
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    return str(x)
