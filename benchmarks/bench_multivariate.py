"""Benchmarks of the multivariate analysis (picked up by ``benchmarks/run.py``).

pca_synthetic
    PCA per pillar and per year (8 pillars × 20 years = 160 PCAs, complete cases) on the
    synthetic panel of 2,000 units × 20 years × 60 indicators, in one call of
    ``pca(panel, spec, by=2)``; baseline: a naive Python loop over years and pillars that
    takes each slice with pandas, drops incomplete rows, standardises and calls
    ``numpy.linalg.svd`` (loadings, standard deviations and scores, as ``prcomp``).
    Both are timed with BLAS limited to one thread (``threadpoolctl``, when installed):
    160 small SVDs on a busy multi-threaded BLAS are dominated by thread wake-ups, which
    would flatter the ratio.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _common import timeit
from brics_ecom._multivariate import pca
from brics_ecom.datasets import make_synthetic


def _naive_loop(wide: dict[Any, pd.DataFrame], groups: dict[str, list[str]]) -> dict:
    """One PCA per (year, pillar), one slice at a time (the baseline)."""
    out = {}
    for year, frame in wide.items():
        for group, codes in groups.items():
            x = frame[codes].dropna()
            z = (x - x.mean()) / x.std(ddof=1)
            _, s, vt = np.linalg.svd(z.to_numpy(), full_matrices=False)
            loadings = pd.DataFrame(vt.T, index=codes)
            sdev = s / np.sqrt(len(x) - 1)
            scores = pd.DataFrame(z.to_numpy() @ vt.T, index=x.index)
            out[year, group] = (loadings, sdev, scores)
    return out


def _one_blas_thread() -> contextlib.AbstractContextManager[Any]:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def bench_pca_synthetic(quick: bool) -> dict[str, Any]:
    with _one_blas_thread():
        return _bench_pca_synthetic(quick)


def _bench_pca_synthetic(quick: bool) -> dict[str, Any]:
    panel, spec = make_synthetic(2000, 20, 60, rng=1)
    groups = {g: list(spec.children(g)) for g in spec.level_codes(2)}
    wide = {
        t: panel.sel(time=t).transpose("unit", "indicator").to_pandas()
        for t in panel["time"].values.tolist()
    }
    t = timeit(lambda: pca(panel, spec, by=2), repeat=5 if quick else 20)
    base = timeit(lambda: _naive_loop(wide, groups), repeat=1 if quick else 3)
    # same numbers as the loop (up to the sign of each component)
    ours = pca(panel, spec, by=2)
    ref = _naive_loop(wide, groups)
    for (year, group), (lo, sdev, _) in list(ref.items())[:: max(1, len(ref) // 7)]:
        mine = ours.loadings.sel(time=year, indicator=lo.index).dropna("component").values
        signs = np.sign((mine * lo.to_numpy()).sum(axis=0))
        assert np.allclose(mine, lo.to_numpy() * signs, rtol=1e-8, atol=1e-10)
        got = ours.sdev.sel(time=year, group=group).dropna("component").values
        assert np.allclose(got, sdev, rtol=1e-10)
    return {
        "seconds": t,
        "pcas": len(ref),
        "baseline": "naive loop over years x pillars (pandas slice + numpy SVD)",
        "baseline_seconds": base,
        "speedup": base / t,
        "blas_threads": 1,
    }


BENCHMARKS = {"pca_synthetic": bench_pca_synthetic}
