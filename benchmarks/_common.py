"""Timing helpers shared by the benchmark modules."""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

__all__ = ["peak_memory", "timeit"]


def timeit(func: Callable[[], Any], repeat: int, warmup: int = 1, *, cold: bool = False) -> float:
    """Median wall time of ``func`` over ``repeat`` runs (after ``warmup`` runs).

    By default as the standard library's :mod:`timeit` does: one ``gc.collect()`` before
    the loop and the garbage collector disabled while timing, so a collection does not
    land in one run. ``cold=True`` collects before *every* run instead; a full collection
    walks every live object (about 70 ms here) and evicts the CPU caches, so it measures
    a run on cold caches, which on millisecond workloads is several ms slower.
    """
    for _ in range(warmup):
        func()
    times = []
    gc.collect()
    enabled = gc.isenabled()
    if not cold:
        gc.disable()
    try:
        for _ in range(repeat):
            if cold:
                gc.collect()
            start = time.perf_counter()
            func()
            times.append(time.perf_counter() - start)
    finally:
        if enabled:
            gc.enable()
    return statistics.median(times)


def peak_memory(func: Callable[[], Any]) -> int:
    """Peak traced allocation (bytes) while ``func`` runs."""
    gc.collect()
    tracemalloc.start()
    try:
        func()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak
