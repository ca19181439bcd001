"""Benchmarks of the inequality measures (picked up by ``benchmarks/run.py``).

gini_theil_draws
    Gini and Theil T over 200 units for 60 years × 60 indicators × 1,000 Monte Carlo
    draws (20 draws with ``--quick``), one front-door call per measure on blocks of 20
    draws (the full run keeps one 115 MB block in memory at a time; data generation is
    not timed); also the population-weighted Gini and the peak memory of a call relative
    to the block. Baseline: a Python loop calling a per-slice NumPy Gini and Theil on each
    (draw, year, indicator) slice, timed on a subset of slices and scaled to all of them.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

sys.path.insert(0, str(Path(__file__).parent))
from _common import peak_memory, timeit
from brics_ecom import inequality as ineq

N_UNIT, N_TIME, N_IND = 200, 60, 60
BLOCK = 20  # draws per front-door call


def _block(rng: np.random.Generator, n_draws: int) -> xr.DataArray:
    values = rng.lognormal(3.0, 0.9, size=(n_draws, N_TIME, N_IND, N_UNIT))
    values[rng.random(values.shape) < 0.02] = np.nan  # 2 % missing
    return xr.DataArray(
        values,
        dims=("draw", "time", "indicator", "unit"),
        coords={
            "time": np.arange(1965, 1965 + N_TIME),
            "indicator": [f"i{j:02d}" for j in range(N_IND)],
            "unit": [f"u{j:03d}" for j in range(N_UNIT)],
        },
    )


def _gini_1d(y: np.ndarray) -> float:
    y = np.sort(y[~np.isnan(y)])
    n = y.size
    i = np.arange(1, n + 1)
    return float(2.0 * np.sum(i * y) / (n * y.sum()) - (n + 1) / n)


def _theil_1d(y: np.ndarray) -> float:
    y = y[~np.isnan(y)]
    r = y / y.mean()
    return float(np.mean(r * np.log(r)))


def _loop(values: np.ndarray, n_slices: int) -> tuple[np.ndarray, np.ndarray]:
    flat = values.reshape(-1, values.shape[-1])[:n_slices]
    g = np.empty(n_slices)
    t = np.empty(n_slices)
    for i, row in enumerate(flat):
        g[i] = _gini_1d(row)
        t[i] = _theil_1d(row)
    return g, t


def bench_gini_theil_draws(quick: bool) -> dict[str, Any]:
    n_draws = BLOCK if quick else 1000
    rng = np.random.default_rng(2017)
    first = _block(rng, BLOCK)
    repeat = 3 if quick else 1

    def both(panel: xr.DataArray) -> None:
        ineq.gini(panel)
        ineq.theil(panel)

    t_gini = timeit(lambda: ineq.gini(first), repeat=repeat)
    t_theil = timeit(lambda: ineq.theil(first), repeat=repeat)
    if quick:
        total = t_gini + t_theil
    else:
        total = 0.0
        for _ in range(n_draws // BLOCK):
            panel = _block(rng, BLOCK)
            start = time.perf_counter()
            both(panel)
            total += time.perf_counter() - start

    # weighted (population) Gini: a sort with weights carried along (argsort)
    pop = xr.DataArray(rng.uniform(1, 1000, N_UNIT), dims="unit", coords={"unit": first["unit"]})
    t_wgini = timeit(lambda: ineq.gini(first, weights=pop), repeat=repeat)

    # peak memory of one call, relative to the block's size (the kernels work by blocks)
    peak = max(peak_memory(lambda: ineq.gini(first)), peak_memory(lambda: ineq.theil(first)))

    # baseline: per-slice Python loop, timed on a subset and scaled
    n_sub = 500 if quick else 3000
    values = first.transpose("draw", "time", "indicator", "unit").values
    loop_seconds = timeit(lambda: _loop(values, n_sub), repeat=3)
    g_loop, t_loop = _loop(values, n_sub)
    n_slices = n_draws * N_TIME * N_IND
    baseline = loop_seconds / n_sub * n_slices

    # same numbers as the loop
    g = ineq.gini(first).transpose("draw", "time", "indicator").values.reshape(-1)[:n_sub]
    t = ineq.theil(first).transpose("draw", "time", "indicator").values.reshape(-1)[:n_sub]
    assert np.allclose(g, g_loop, rtol=1e-10, atol=1e-14)
    assert np.allclose(t, t_loop, rtol=1e-10, atol=1e-14)

    scale = n_draws / BLOCK
    return {
        "shape": f"{N_UNIT} units x {N_TIME} years x {N_IND} indicators x {n_draws} draws",
        "values": n_slices * N_UNIT,
        "seconds": total,
        "gini_seconds": t_gini * scale,
        "theil_seconds": t_theil * scale,
        "weighted_gini_seconds": t_wgini * scale,
        "seconds_per_draw": total / n_draws,
        "peak_memory_ratio": peak / first.nbytes,
        "baseline": f"per-slice Python loop (timed on {n_sub} slices, scaled to {n_slices})",
        "baseline_seconds": baseline,
        "speedup": baseline / total,
    }


BENCHMARKS: dict[str, Callable[[bool], dict[str, Any]]] = {
    "gini_theil_draws": bench_gini_theil_draws,
}
