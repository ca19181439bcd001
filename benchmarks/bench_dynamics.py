"""Benchmarks of the dynamics module (picked up by ``benchmarks/run.py``).

beta_convergence_all_indicators
    Absolute β-convergence (OLS of annualised log growth 2000→2059 on the log initial
    level, HC1 standard errors) for all 60 indicators of a synthetic panel of 200 units ×
    60 years (``make_synthetic(200, 60, 60, rng=1)``, absolute values, 2 % missing), in
    one ``brics_ecom.dynamics.beta_convergence`` call (a batched QR fit over indicators);
    baseline: a Python loop over indicators running statsmodels ``OLS(...).fit(
    cov_type="HC1")`` on each indicator's complete units. Also checks that both give the
    same coefficients, standard errors and p-values (relative 1e-10), and times 100
    noisy copies of the panel along a ``draw`` dim (6,000 regressions in one call)
    against the loop's time × 100.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import statsmodels.api as sm
import xarray as xr

sys.path.insert(0, str(Path(__file__).parent))
from _common import timeit
from brics_ecom import dynamics as dyn
from brics_ecom.datasets import make_synthetic


def _panel() -> xr.DataArray:
    panel, _ = make_synthetic(200, 60, 60, rng=1)
    return abs(panel)  # a few "normal" indicators dip below 0: growth needs x > 0


def _statsmodels_loop(panel: xr.DataArray) -> list[Any]:
    """The obvious way: one statsmodels regression per indicator."""
    start, end = panel["time"].values[0], panel["time"].values[-1]
    horizon = float(end - start)
    x0 = panel.sel(time=start).transpose("indicator", "unit").values
    x1 = panel.sel(time=end).transpose("indicator", "unit").values
    fits = []
    for i in range(x0.shape[0]):
        keep = ~np.isnan(x0[i]) & ~np.isnan(x1[i])
        lx0 = np.log(x0[i, keep])
        g = (np.log(x1[i, keep]) - lx0) / horizon
        fit = sm.OLS(g, sm.add_constant(lx0)).fit(cov_type="HC1")
        fits.append((fit.params, fit.bse, fit.pvalues))  # statsmodels computes these lazily
    return fits


def bench_beta_convergence(quick: bool) -> dict[str, Any]:
    panel = _panel()
    ours = dyn.beta_convergence(panel)
    fits = _statsmodels_loop(panel)
    for i, (params, bse, pvalues) in enumerate(fits):
        got = ours.isel(indicator=i)
        np.testing.assert_allclose(got.coefficient.values, params, rtol=1e-10)
        np.testing.assert_allclose(got.se.values, bse, rtol=1e-10)
        np.testing.assert_allclose(got.pvalue.values, pvalues, rtol=1e-10, atol=1e-300)
    t = timeit(lambda: dyn.beta_convergence(panel), repeat=10 if quick else 50, warmup=2)
    base = timeit(lambda: _statsmodels_loop(panel), repeat=3 if quick else 10)
    # the same with a Monte Carlo "draw" dim: 100 noisy copies = 6,000 regressions, one call
    rng = np.random.default_rng(2)
    n_draws = 100
    noise = xr.DataArray(
        rng.lognormal(0.0, 0.05, (n_draws, *panel.shape)), dims=("draw", *panel.dims)
    )
    draws = panel * noise
    t_draws = timeit(lambda: dyn.beta_convergence(draws), repeat=3 if quick else 10)
    return {
        "seconds": t,
        "indicators": int(panel.sizes["indicator"]),
        "units": int(panel.sizes["unit"]),
        "baseline": "Python loop of statsmodels OLS(HC1) per indicator",
        "baseline_seconds": base,
        "speedup": base / t,
        "equal_to_statsmodels": "rtol 1e-10 (coefficients, SE, p-values)",
        "seconds_100_draws": t_draws,
        "baseline_seconds_100_draws": base * n_draws,
        "speedup_100_draws": base * n_draws / t_draws,
    }


BENCHMARKS = {"beta_convergence_all_indicators": bench_beta_convergence}
