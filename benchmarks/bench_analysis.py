"""Benchmarks of the correlation analysis (picked up by ``benchmarks/run.py``).

correlations_synthetic
    Pearson correlations of every indicator pair, per year, over pairwise-complete units,
    on the synthetic panel of 2,000 units × 20 years × 60 indicators (2 % missing) in one
    call of ``correlations(panel)`` (20 × 60 × 60 matrices); baseline: a naive Python loop
    over years and indicator pairs that takes each pair's complete units with pandas and
    calls ``numpy.corrcoef`` (timed on a few years and scaled to all 20 in quick mode).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _common import timeit
from brics_ecom.analysis import correlations
from brics_ecom.datasets import make_synthetic


def _naive_loop(wide: dict[Any, pd.DataFrame]) -> dict[Any, np.ndarray]:
    """One correlation per (year, pair), one pair at a time (the baseline)."""
    out = {}
    for year, frame in wide.items():
        codes = list(frame.columns)
        r = np.eye(len(codes))
        for i, a in enumerate(codes):
            for j in range(i + 1, len(codes)):
                pair = frame[[a, codes[j]]].dropna()
                r[i, j] = r[j, i] = np.corrcoef(pair[a], pair[codes[j]])[0, 1]
        out[year] = r
    return out


def bench_correlations_synthetic(quick: bool) -> dict[str, Any]:
    panel, _ = make_synthetic(2000, 20, 60, rng=1)
    years = list(panel["time"].values)
    wide = {
        y: pd.DataFrame(panel.sel(time=y).transpose("unit", "indicator").to_pandas()) for y in years
    }
    t = timeit(lambda: correlations(panel), repeat=5 if quick else 20)
    n_loop = 2 if quick else len(years)
    sub = {y: wide[y] for y in years[:n_loop]}
    base = timeit(lambda: _naive_loop(sub), repeat=1, warmup=0) * len(years) / n_loop
    # same numbers as the loop
    ours = correlations(panel)
    ref = _naive_loop(sub)
    for y in sub:
        np.testing.assert_allclose(ours.sel(time=y).values, ref[y], rtol=1e-10, atol=1e-13)
    return {
        "seconds": t,
        "matrices": len(years),
        "pairs_per_matrix": 60 * 59 // 2,
        "baseline": f"naive pandas/numpy loop over years x pairs (timed on {n_loop} years"
        + (", scaled)" if n_loop < len(years) else ")"),
        "baseline_seconds": base,
        "speedup": base / t,
    }


BENCHMARKS = {"correlations_synthetic": bench_correlations_synthetic}
