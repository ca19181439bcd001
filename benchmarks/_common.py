"""Timing helpers shared by the benchmark modules."""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

__all__ = ["peak_memory", "timeit"]


def timeit(func: Callable[[], Any], repeat: int, warmup: int = 1) -> float:
    """Median wall time of ``func`` over ``repeat`` runs (after ``warmup`` runs)."""
    for _ in range(warmup):
        func()
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
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
