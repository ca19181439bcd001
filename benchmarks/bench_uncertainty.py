"""Benchmarks of uncertainty analysis (picked up by ``benchmarks/run.py``).

ua_asem_coinr
    COINr's uncertainty analysis of the ASEM example (``get_sensitivity(SA_type = "UA",
    N = 500)``): three factors, a weight set drawn from 100 noisy sets (levels 2 and 3,
    noise 0.25), normalisation min-max (1, 100) or z-score (10, 2), arithmetic or
    geometric mean. Median wall time of ``uncertainty(...)`` including the nominal run;
    baselines: COINr's time for the same run (about 140 s, measured with the reference
    data) and a naive loop calling ``Pipeline.run`` once per draw (timed on 20 draws and
    scaled to 500). Target ≤ 0.1 s.
ua_synthetic_100k
    200 units × 60 indicators, a four-level tree (three aggregation levels), the example
    pipeline (denominate, impute, screen, treat, normalise, aggregate) and five factors:
    the three above plus treatment on/off and the exclusion of one of five indicators
    (48 combinations of upstream, normalisation and aggregation choices). 100,000 draws
    (10,000 in quick mode): wall time and peak traced memory in-process, and wall time on
    a two-worker ``LocalCluster`` (processes, one thread each; equal results checked).
    Targets < 60 s and < 4 GiB for 100,000 draws.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

sys.path.insert(0, str(Path(__file__).parent))
import brics_ecom as be
from _common import peak_memory, timeit
from brics_ecom.datasets import make_synthetic
from brics_ecom.errors import DataWarning
from brics_ecom.uncertainty import Factor, uncertainty

#: COINr 1.1.14's get_sensitivity(SA_type = "UA", N = 500) on the ASEM example coin, as
#: recorded with the reference data (0.17-0.3 s per replication).
COINR_UA_SECONDS = 140.0


def coinr_factors(
    weights: xr.DataArray | None = None, zscore: dict[str, float] | None = None
) -> list[Factor]:
    """COINr's three factors (the weight pool given, or made from the analysis's seed)."""
    return [
        Factor.weights(weights)
        if weights is not None
        else Factor.weights(noise_factor=0.25, levels=[2, 3], n_sets=100),
        Factor.choice(
            "normalise__method",
            ["minmax", "zscore"],
            params=[{"lower": 1, "upper": 100}, zscore or {"mean": 10, "sd": 2}],
        ),
        Factor.choice("aggregate__method", ["arithmetic", "geometric"]),
    ]


def _naive_draw(
    pipe: be.Pipeline, panel: xr.DataArray, row: Any, sets: list[dict[str, float]]
) -> np.ndarray:
    """One draw the obvious way: a modified pipeline run from scratch."""
    norm = (
        {"lower": 1, "upper": 100}
        if row["normalise__method"] == "minmax"
        else {"mean": 10, "sd": 2}
    )
    p = pipe.with_weights("draw", sets[int(row["weights"])]).set(
        normalise__method=row["normalise__method"],
        aggregate__method=row["aggregate__method"],
        aggregate__weights="draw",
        **{f"normalise__{k}": v for k, v in norm.items()},
    )
    return p.run(panel, keep="none").scores.sel(node="Index").values


def bench_ua_asem(quick: bool) -> dict[str, Any]:
    panel, spec = be.datasets.load_asem()
    pipe = be.Pipeline.coinr_example(spec)
    pool = be.weights.noisy(spec, levels=[2, 3], n=100, rng=20240501)
    factors = coinr_factors(pool)

    def run() -> Any:
        return uncertainty(pipe, panel, factors, n=500, rng=20240501, progress=False)

    t = timeit(run, repeat=5 if quick else 20, warmup=2)
    ua = run()
    codes = list(spec.codes)
    sets = [dict(zip(codes, w, strict=True)) for w in pool.sel(node=codes).values]
    n_loop = 20
    start = time.perf_counter()
    loop = [_naive_draw(pipe, panel, ua.draws.iloc[d], sets) for d in range(n_loop)]
    t_loop = (time.perf_counter() - start) * 500 / n_loop
    ours = ua.samples["scores"].isel(draw=slice(0, n_loop)).values
    np.testing.assert_allclose(ours, np.stack(loop).reshape(ours.shape), rtol=1e-12)
    return {
        "seconds": t,
        "draws": 500,
        "target": "<= 0.1 s",
        "met": t <= 0.1,
        "baseline": "COINr get_sensitivity(UA, N = 500)",
        "baseline_seconds": COINR_UA_SECONDS,
        "speedup_vs_coinr": COINR_UA_SECONDS / t,
        "naive_loop_seconds": t_loop,
        "speedup_vs_naive_loop": t_loop / t,
    }


def _synthetic() -> tuple[be.Pipeline, xr.DataArray, list[Factor]]:
    panel, spec = make_synthetic(200, 1, 60, rng=1)
    pipe = be.Pipeline(
        spec,
        [
            ("denominate", {}),
            ("impute", {"method": "group_mean", "group": "region"}),
            ("screen", {"dat_thresh": 0.9, "by": "missing"}),
            ("treat", {}),
            ("normalise", {"method": "minmax", "lower": 1.0, "upper": 100.0}),
            ("aggregate", {"method": "arithmetic"}),
        ],
    )
    factors = [
        *coinr_factors(zscore={"mean": 100, "sd": 10}),  # positive for the geometric mean
        Factor.choice("treat", [True, False]),
        Factor.exclude_indicator([f"ind{i:02d}" for i in range(0, 60, 12)]),
    ]
    return pipe, panel, factors


def bench_ua_synthetic(quick: bool) -> dict[str, Any]:
    pipe, panel, factors = _synthetic()
    n = 10_000 if quick else 100_000
    out: dict[str, Any] = {"units": 200, "indicators": 60, "draws": n}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        res: dict[str, Any] = {}

        def run() -> None:
            res["ua"] = uncertainty(pipe, panel, factors, n=n, rng=1, progress=False)

        out["seconds"] = timeit(run, repeat=1, warmup=0)
        out["peak_bytes"] = peak_memory(run)
        out["output_bytes"] = int(res["ua"].samples["scores"].nbytes * 2)
        out["seconds_per_1000_draws"] = out["seconds"] / n * 1000
        out["target"] = "< 60 s and < 4 GiB for 100,000 draws"
        out["met"] = (
            (out["seconds"] < 60 and out["peak_bytes"] < 4 * 2**30)
            if not quick
            else (out["seconds"] * 10 < 60 and out["peak_bytes"] < 4 * 2**30)
        )
        try:
            from distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover
            return out
        n_cluster = 10_000 if quick else 100_000
        start = time.perf_counter()
        with (
            LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):
            up = time.perf_counter()
            remote = uncertainty(
                pipe, panel, factors, n=n_cluster, rng=1, client=client, progress=False
            )
            done = time.perf_counter()
        out["cluster_draws"] = n_cluster
        out["cluster_seconds"] = done - up
        out["cluster_startup_seconds"] = up - start
        if n_cluster == n:
            xr.testing.assert_identical(remote.samples, res["ua"].samples)
            out["cluster_equals_in_process"] = True
    return out


BENCHMARKS = {
    "ua_asem_coinr": bench_ua_asem,
    "ua_synthetic_100k": bench_ua_synthetic,
}
