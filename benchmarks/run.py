"""Benchmarks of brics_ecom, each reported as a ratio to a baseline measured in the same run.

Run ``python benchmarks/run.py`` (or ``nox -s bench``); ``--quick`` uses fewer repeats,
``--only NAME`` runs one benchmark, ``--json PATH`` saves the figures.

Benchmarks
----------
asem_pipeline
    COINr's example pipeline (denominate → impute → screen → treat → normalise →
    aggregate) on ASEM, median wall time (and the same on cold caches, with a full
    garbage collection before every run); baseline: COINr's published ``Regen`` time on
    this kind of machine (0.17 s). Target ≤ 10 ms.
synthetic_pipeline
    The same pipeline on a synthetic panel of 2,000 units × 20 years × 60 indicators;
    time and peak memory (tracemalloc, which sees NumPy's allocations); baselines: one
    ``numpy.nanmean`` pass over the same array (target ≤ 15×) and the panel's size
    (target peak ≤ 6×).
normalise_vs_pandas_loop
    Min-max normalisation of the synthetic panel per year; baseline: a naive pandas loop
    over years and indicators.
aggregate_draws
    ASEM aggregation with 1,000 noisy weight sets (a ``draw`` dim) in one call;
    baseline: a Python loop calling ``aggregate`` once per draw.

Each capability adds its own benchmarks in a ``benchmarks/bench_<capability>.py`` module
exposing ``BENCHMARKS = {name: func(quick) -> dict}``; they are picked up here.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

import brics_ecom as be

sys.path.insert(0, str(Path(__file__).parent))
from _common import peak_memory, timeit
from brics_ecom.datasets import make_synthetic
from brics_ecom.errors import DataWarning

COINR_REGEN_SECONDS = (
    0.17  # COINr 1.1.14 Regen() of build_example_coin(), median, this kind of machine
)


def default_pipeline(spec: be.IndexSpec, group: str) -> be.Pipeline:
    return be.Pipeline(
        spec,
        [
            ("denominate", {}),
            ("impute", {"method": "group_mean", "group": group}),
            ("screen", {"dat_thresh": 0.9, "by": "missing"}),
            ("treat", {}),
            ("normalise", {"method": "minmax", "lower": 0.0, "upper": 100.0}),
            ("aggregate", {"method": "arithmetic"}),
        ],
    )


def bench_asem_pipeline(quick: bool) -> dict[str, Any]:
    panel, spec = be.datasets.load_asem()
    pipe = be.Pipeline.coinr_example(spec)
    t = timeit(lambda: pipe.run(panel), repeat=10 if quick else 50, warmup=3)
    t_cold = timeit(lambda: pipe.run(panel), repeat=10 if quick else 50, cold=True)
    return {
        "seconds": t,
        "seconds_cold_caches": t_cold,
        "baseline": "COINr Regen (published)",
        "baseline_seconds": COINR_REGEN_SECONDS,
        "speedup": COINR_REGEN_SECONDS / t,
        "target": "<= 0.010 s",
        "met": t <= 0.010,
    }


def bench_synthetic_pipeline(quick: bool) -> dict[str, Any]:
    panel, spec = make_synthetic(2000, 20, 60, rng=1)
    pipe = default_pipeline(spec, "region")
    values = panel.values
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        # keep="none": only the scores are stored (the intermediate panels are not)
        t = timeit(lambda: pipe.run(panel, keep="none"), repeat=3 if quick else 7)
        t_ranks = timeit(lambda: pipe.run(panel, keep="none").ranks, repeat=3 if quick else 7)
        peak = peak_memory(lambda: pipe.run(panel, keep="none"))
        peak_all = peak_memory(lambda: pipe.run(panel))
    base = timeit(lambda: np.nanmean(values, axis=0), repeat=10 if quick else 30)
    ratio = t / base
    mem_ratio = peak / values.nbytes
    return {
        "seconds": t,
        "seconds_with_ranks": t_ranks,
        "baseline": "one numpy.nanmean pass",
        "baseline_seconds": base,
        "ratio_to_nanmean": ratio,
        "ratio_to_nanmean_with_ranks": t_ranks / base,
        "peak_bytes": peak,
        "panel_bytes": values.nbytes,
        "peak_memory_ratio": mem_ratio,
        "peak_memory_ratio_keep_all": peak_all / values.nbytes,
        "target": "ratio <= 15, peak <= 6x panel",
        "met": ratio <= 15 and mem_ratio <= 6,
    }


def _pandas_minmax_loop(long: pd.DataFrame) -> pd.DataFrame:
    """The naive baseline: loop over years and indicators with pandas."""
    parts = []
    for (_, _), grp in long.groupby(["time", "indicator"]):
        v = grp["value"]
        g = grp.copy()
        g["value"] = (v - v.min()) / (v.max() - v.min()) * 100
        parts.append(g)
    return pd.concat(parts)


def bench_normalise_vs_pandas(quick: bool) -> dict[str, Any]:
    panel, _ = make_synthetic(2000, 20, 60, rng=2, missing=0.0)
    long = be.panel.to_long(panel)
    t = timeit(lambda: be.normalise(panel, "minmax"), repeat=5 if quick else 20)
    base = timeit(lambda: _pandas_minmax_loop(long), repeat=1 if quick else 3)
    # same numbers as the loop
    ours = be.panel.to_long(be.normalise(panel, "minmax")).set_index(["unit", "time", "indicator"])
    ref = _pandas_minmax_loop(long).set_index(["unit", "time", "indicator"]).loc[ours.index]
    assert np.allclose(ours["value"], ref["value"], rtol=1e-12)
    return {
        "seconds": t,
        "baseline": "naive pandas loop over years x indicators",
        "baseline_seconds": base,
        "speedup": base / t,
    }


def bench_aggregate_draws(quick: bool) -> dict[str, Any]:
    panel, spec = be.datasets.load_asem()
    norm = be.normalise(be.treat(panel).data, "minmax", spec=spec, lower=1, upper=100)
    n_draws = 1000
    rng = np.random.default_rng(3)
    codes = list(spec.codes)
    base_w = np.array([spec.weights[c] for c in codes])
    noise = rng.uniform(-0.25, 0.25, size=(n_draws, len(codes)))
    w = xr.DataArray(base_w * (1 + noise), dims=("draw", "node"), coords={"node": codes})
    t = timeit(lambda: be.aggregate(norm, spec, weights=w), repeat=5 if quick else 20)
    n_loop = 50 if quick else 200

    def loop() -> None:
        for d in range(n_loop):
            be.aggregate(norm, spec, weights=w.isel(draw=d))

    base = timeit(loop, repeat=1, warmup=0) * n_draws / n_loop
    one = be.aggregate(norm, spec, weights=w)
    for d in (0, 17, n_draws - 1):
        xr.testing.assert_allclose(
            one.isel(draw=d), be.aggregate(norm, spec, weights=w.isel(draw=d))
        )
    return {
        "seconds": t,
        "draws": n_draws,
        "baseline": f"Python loop over draws (timed on {n_loop}, scaled)",
        "baseline_seconds": base,
        "speedup": base / t,
    }


BENCHMARKS: dict[str, Callable[[bool], dict[str, Any]]] = {
    "asem_pipeline": bench_asem_pipeline,
    "synthetic_pipeline": bench_synthetic_pipeline,
    "normalise_vs_pandas_loop": bench_normalise_vs_pandas,
    "aggregate_draws": bench_aggregate_draws,
}


def _load_plugins() -> None:
    """Add the ``BENCHMARKS`` of every ``benchmarks/bench_*.py`` module (one per capability)."""
    import importlib.util

    for path in sorted(Path(__file__).parent.glob("bench_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for name, func in getattr(module, "BENCHMARKS", {}).items():
            BENCHMARKS[name] = func


_load_plugins()


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--json", type=Path, default=None, help="save the figures here")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(BENCHMARKS))
        return 0
    names = args.only or list(BENCHMARKS)
    results = {}
    for name in names:
        res = BENCHMARKS[name](args.quick)
        results[name] = res
        print(f"{name}:")
        for key, value in res.items():
            print(f"  {key:>20}: {_fmt(value)}")
        sys.stdout.flush()
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
