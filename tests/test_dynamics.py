"""Dynamics: growth, CAGR, trends, HP filter, convergence, rank mobility, DEI states.

Reference values come from the libraries and definitions the functions claim to follow:
COINr's ``CAGR()`` (transcribed from COINr 1.1.14 ``R/trends.R``) on the ASEM panel CSV,
statsmodels ``OLS`` and ``hpfilter`` (and the exact-diffuse Kalman smoother for the HP
filter with gaps), ``scipy.stats.kendalltau`` and the Kendall τ reference of PySAL giddy,
``pandas.qcut`` for quantile classes, and closed-form cases (exact exponential growth,
perfectly converging panels).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import pairwise

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.special import erfc
from statsmodels.tsa.filters.hp_filter import hpfilter
from statsmodels.tsa.statespace.structural import UnobservedComponents

import brics_ecom as be
from brics_ecom import dynamics as dyn
from brics_ecom._kernels import dynamics as dk
from brics_ecom.errors import DataError, InvalidParameterError
from conftest import ASEM

pytestmark = pytest.mark.filterwarnings("error")  # every function must be silent


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def panel() -> xr.DataArray:
    p, _ = be.datasets.load_asem(panel=True)
    p = p.copy()
    p.attrs = {"source": "ASEM"}
    return p


@pytest.fixture(scope="module")
def positive(panel: xr.DataArray) -> xr.DataArray:
    """The ASEM panel with its 76 non-positive values set missing (log-based measures)."""
    return panel.where(panel > 0)


@pytest.fixture(scope="module")
def csv() -> pd.DataFrame:
    return pd.read_csv(ASEM / "iData_panel.csv", keep_default_na=False, na_values=["NA"])


def series(values, times=None, name: str = "time") -> xr.DataArray:
    values = np.asarray(values, dtype=float)
    times = np.arange(2000, 2000 + values.shape[-1]) if times is None else times
    return xr.DataArray(values, dims=name, coords={name: list(times)})


def ols_sm(y: np.ndarray, t: np.ndarray, **fit):
    keep = ~np.isnan(y)
    return sm.OLS(y[keep], sm.add_constant(t[keep].astype(float))).fit(**fit)


# ----------------------------------------------------------------------------- CAGR (COINr)
def coinr_cagr(y: np.ndarray, x: np.ndarray) -> float:
    """COINr 1.1.14 ``CAGR(y, x)`` (R/trends.R), line by line.

    ``if (sum(!is.na(y)) < 2) NA``; ``na.omit``; order by x; ``ilat <- nrow(xy)``;
    ``if (y[ilat] == y[1]) 0 else (y[ilat] / y[1])^(1 / (x[ilat] - x[1])) - 1``.
    """
    if np.sum(~np.isnan(y)) < 2:
        return math.nan
    keep = ~np.isnan(y)
    xs, ys = x[keep], y[keep]
    order = np.argsort(xs, kind="stable")
    xs, ys = xs[order], ys[order]
    if ys[-1] == ys[0]:
        return 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(ys[-1] / ys[0]) ** (1.0 / (xs[-1] - xs[0])) - 1.0)


def test_cagr_matches_coinr_definition_on_asem_csv(panel: xr.DataArray, csv: pd.DataFrame) -> None:
    ours = dyn.cagr(panel).transpose("unit", "indicator").to_pandas()
    indicators = [str(c) for c in panel["indicator"].values]
    checked = empty = zeros = 0
    for ucode, rows in csv.groupby("uCode"):
        rows = rows.sample(frac=1.0, random_state=0)  # CAGR orders by time itself
        x = rows["Time"].to_numpy(dtype=float)
        for ind in indicators:
            y = rows[ind].to_numpy(dtype=float)
            expected = coinr_cagr(y, x)
            got = float(ours.at[ucode, ind])
            if np.isnan(expected) or np.isinf(expected):
                assert got == expected or (np.isnan(got) and np.isnan(expected)), (ucode, ind)
            else:
                # R and Python call C's pow(); NumPy's vectorised pow may differ by 1 ulp,
                # which the final "- 1" turns into ~1e-14 relative: within DESIGN's 1e-12.
                assert got == pytest.approx(expected, rel=1e-12, abs=1e-300), (ucode, ind)
            checked += 1
            empty += int(np.isnan(y).all())
            zeros += int((y == 0).any())
    assert checked == 51 * 49
    assert empty == 63 and zeros > 10  # the panel's NAs are whole series (63 × 5 = 315)


def test_cagr_matches_coinr_definition_with_gaps(panel: xr.DataArray) -> None:
    rng = np.random.default_rng(11)
    holed = panel.where(rng.random(panel.shape) > 0.3)  # gaps at the ends and inside
    ours = dyn.cagr(holed).transpose("unit", "indicator").values
    values = holed.transpose("unit", "indicator", "time").values
    x = panel["time"].values.astype(float)
    expected = np.array([[coinr_cagr(s, x) for s in unit] for unit in values])
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=0)
    first_missing = np.isnan(values[..., 0]) & (np.sum(~np.isnan(values), axis=-1) >= 2)
    assert first_missing.sum() > 100  # many series start later than 2018


def test_cagr_uses_time_span_of_first_and_latest_observation() -> None:
    x = series([np.nan, 1.0, 5.0, np.nan, 2.0, np.nan], [2000, 2001, 2002, 2003, 2011, 2012])
    assert float(dyn.cagr(x)) == pytest.approx(2.0 ** (1 / 10) - 1, rel=1e-15)
    assert np.isnan(float(dyn.cagr(x, skipna=False)))
    assert float(dyn.cagr(series([0.0, 3.0, 0.0]))) == 0.0  # COINr: equal ends give 0
    assert float(dyn.cagr(series([0.0, 1.0, 2.0]))) == np.inf
    assert np.isnan(float(dyn.cagr(series([np.nan, 2.0, np.nan]))))


def test_cagr_of_exact_exponential_growth() -> None:
    t = np.array([2001, 2003, 2004, 2010])
    x = series(50.0 * 1.07 ** (t - 2001), t)
    assert float(dyn.cagr(x)) == pytest.approx(0.07, rel=1e-13)


# ----------------------------------------------------------------------------- growth
def test_growth_of_exact_exponential() -> None:
    x = series(100.0 * 1.05 ** np.arange(6))
    np.testing.assert_allclose(dyn.growth(x).values[1:], 0.05, rtol=1e-13)
    np.testing.assert_allclose(dyn.growth(x, kind="log").values[1:], np.log(1.05), rtol=1e-13)
    np.testing.assert_allclose(dyn.growth(x, periods=2).values[2:], 1.05**2 - 1, rtol=1e-13)
    assert np.isnan(dyn.growth(x, periods=2).values[:2]).all()


def test_growth_uneven_labels() -> None:
    t = np.array([2000, 2002, 2007, 2008])
    x = series(100.0 * 1.05 ** (t - 2000), t)
    plain = dyn.growth(x).values[1:]
    np.testing.assert_allclose(plain, 1.05 ** np.diff(t) - 1, rtol=1e-13)
    np.testing.assert_allclose(dyn.growth(x, annualise=True).values[1:], 0.05, rtol=1e-13)
    logs = dyn.growth(x, kind="log", annualise=True).values[1:]
    np.testing.assert_allclose(logs, np.log(1.05), rtol=1e-13)


def test_growth_skipna_bridges_gaps() -> None:
    x = series([100.0, np.nan, 121.0, 133.1, np.nan])
    assert np.isnan(dyn.growth(x).values[[0, 1, 2, 4]]).all()
    bridged = dyn.growth(x, skipna=True, annualise=True).values
    np.testing.assert_allclose(bridged[[2, 3]], 0.1, rtol=1e-13)
    assert np.isnan(bridged[[0, 1, 4]]).all()
    assert dyn.growth(x, skipna=True).values[2] == pytest.approx(0.21, rel=1e-13)


def test_growth_broadcasts_and_keeps_coords(panel: xr.DataArray) -> None:
    out = dyn.growth(panel)
    assert out.dims == panel.dims and out.name == "growth"
    assert "unit_name" in out.coords and "EurAsia_group" in out.coords
    a = panel.sel(unit="AUT", indicator="LPI").values
    np.testing.assert_allclose(out.sel(unit="AUT", indicator="LPI").values[1:], a[1:] / a[:-1] - 1)
    assert out.attrs["history"][-1].startswith("growth(")


# ----------------------------------------------------------------------------- trend growth
def test_trend_growth_matches_statsmodels(positive: xr.DataArray) -> None:
    rng = np.random.default_rng(5)
    sub = positive.isel(indicator=slice(0, 6))
    sub = sub.where(rng.random(sub.shape) > 0.15)  # gaps: fits over 2 to 5 points
    res = dyn.trend_growth(sub)
    assert set(res.data_vars) == {"slope", "se", "tvalue", "pvalue", "nobs", "rate"}
    t = sub["time"].values.astype(float)
    logs = np.log(sub.transpose("unit", "indicator", "time").values)
    got = {k: res[k].transpose("unit", "indicator").values for k in res.data_vars}
    n_fit = 0
    for i, j in np.ndindex(logs.shape[:2]):
        y = logs[i, j]
        if np.sum(~np.isnan(y)) < 3:
            assert np.isnan(got["se"][i, j])
            continue
        fit = ols_sm(y, t)
        assert got["slope"][i, j] == pytest.approx(fit.params[1], rel=1e-10, abs=1e-14)
        assert got["se"][i, j] == pytest.approx(fit.bse[1], rel=1e-8, abs=1e-14)
        assert got["pvalue"][i, j] == pytest.approx(fit.pvalues[1], rel=1e-7, abs=1e-12)
        assert got["nobs"][i, j] == fit.nobs
        n_fit += 1
    assert n_fit > 200


def test_trend_growth_of_exact_exponential() -> None:
    t = np.array([2000, 2001, 2003, 2008, 2009])
    res = dyn.trend_growth(series(3.0 * np.exp(0.04 * (t - 2000)), t))
    assert float(res.slope) == pytest.approx(0.04, rel=1e-12)
    assert float(res.rate) == pytest.approx(math.expm1(0.04), rel=1e-12)
    assert float(res.se) < 1e-14


# ----------------------------------------------------------------------------- acceleration
def test_acceleration_split_piecewise_exponential() -> None:
    t = np.arange(2016, 2023)  # 7 points; pivot = 2019 (recent = 4)
    logs = np.where(t <= 2019, 0.02 * (t - 2016), 0.06 + 0.05 * (t - 2019))
    x = series(np.exp(logs), t)
    assert float(dyn.acceleration(x)) == pytest.approx(0.03, rel=1e-12)
    # recent=2 puts the pivot at 2021: earlier slope from the OLS over 2016..2021
    early = np.polyfit(t[:6], logs[:6], 1)[0]
    assert float(dyn.acceleration(x, recent=2)) == pytest.approx(0.05 - early, rel=1e-12)


def test_acceleration_second_difference() -> None:
    logs = np.array([0.0, 0.1, 0.3, 0.6, 1.0, 1.5])
    x = series(np.exp(logs))
    out = dyn.acceleration(x, kind="second_difference")
    assert out.dims == ("time",)
    np.testing.assert_allclose(out.values[2:], np.diff(logs, 2), rtol=1e-12)
    assert np.isnan(out.values[:2]).all()


def test_momentum_definition(positive: xr.DataArray) -> None:
    x = positive.sel(indicator="Flights")
    mom = dyn.momentum(x, recent=3)
    t = x["time"].values.astype(float)
    for unit in ("AUT", "CHN", "IND"):
        y = np.log(x.sel(unit=unit).values)
        expected = ols_sm(y[-3:], t[-3:]).params[1] - ols_sm(y, t).params[1]
        assert float(mom.sel(unit=unit)) == pytest.approx(expected, rel=1e-10)
    ratio = dyn.momentum(x, recent=3, relative="ratio")
    long_run = dyn.trend_growth(x).slope
    recent = dyn.trend_growth(x.isel(time=slice(-3, None))).slope
    xr.testing.assert_allclose(ratio, (recent / long_run).rename("momentum"), rtol=1e-12)


# ----------------------------------------------------------------------------- HP filter
def test_hp_trend_equals_statsmodels(panel: xr.DataArray) -> None:
    complete = panel.dropna("unit", how="any").isel(unit=slice(0, 4))  # complete series
    values = complete.transpose("unit", "indicator", "time").values
    for lamb in (100.0, 6.25, 1600.0):
        ours = dyn.hp_trend(complete, lamb).transpose("unit", "indicator", "time").values
        for i, j in np.ndindex(values.shape[:2]):
            y = values[i, j]
            ref = hpfilter(y, lamb)[1]
            np.testing.assert_allclose(ours[i, j], ref, rtol=1e-10, atol=1e-10 * np.abs(y).max())


def test_hp_trend_long_series_many_at_once() -> None:
    rng = np.random.default_rng(7)
    data = np.cumsum(rng.normal(size=(30, 80)), axis=1) + 50
    x = xr.DataArray(data, dims=("unit", "time"), coords={"time": np.arange(80)})
    for lamb in (100.0, 129600.0):
        ours = dyn.hp_trend(x, lamb).values
        ref = np.array([hpfilter(row, lamb)[1] for row in data])
        np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-10 * np.abs(data).max())


def test_hp_trend_with_gaps_is_the_exact_kalman_smoother() -> None:
    rng = np.random.default_rng(3)
    y = np.cumsum(rng.normal(size=20)) + 10
    y[[0, 4, 5, 11, 19]] = np.nan
    ours = dyn.hp_trend(series(y), 100.0).values
    # HP = smoothed trend of the local linear trend model with σ²_ε / σ²_ζ = λ
    mod = UnobservedComponents(y, level="smooth trend", use_exact_diffuse=True)
    ref = mod.smooth([1.0, 1.0 / 100.0]).smoothed_state[0]
    assert np.isnan(ours[[0, 19]]).all()  # no extrapolation beyond the observations
    inside = ~np.isnan(ours)
    np.testing.assert_allclose(ours[inside], ref[inside], rtol=1e-9, atol=1e-9)
    assert np.isnan(dyn.hp_trend(series(y), skipna=False).values).all()


def test_hp_trend_keeps_linear_series_and_short_series() -> None:
    line = series(3.0 + 0.5 * np.arange(12))
    np.testing.assert_allclose(dyn.hp_trend(line).values, line.values, rtol=1e-12)
    two = series([1.0, 4.0])
    np.testing.assert_array_equal(dyn.hp_trend(two).values, [1.0, 4.0])
    one_obs = series([np.nan, 2.0, np.nan, np.nan])
    assert np.isnan(dyn.hp_trend(one_obs).values).all()


# ----------------------------------------------------------------------------- σ-convergence
def test_sigma_convergence_matches_statsmodels(positive: xr.DataArray) -> None:
    res = dyn.sigma_convergence(positive)
    t = positive["time"].values.astype(float)
    for ind in positive["indicator"].values[:15]:
        logs = np.log(positive.sel(indicator=ind).transpose("time", "unit").values)
        disp = np.array([np.nanstd(row, ddof=1) for row in logs])
        np.testing.assert_allclose(res.dispersion.sel(indicator=ind).values, disp, rtol=1e-12)
        fit = ols_sm(disp, t)
        got = res.sel(indicator=ind)
        assert float(got.slope) == pytest.approx(fit.params[1], rel=1e-10)
        assert float(got.se) == pytest.approx(fit.bse[1], rel=1e-9)
        assert float(got.pvalue) == pytest.approx(fit.pvalues[1], rel=1e-8)
    cv = dyn.sigma_convergence(positive, measure="cv").dispersion.sel(indicator="LPI", time=2020)
    v = positive.sel(indicator="LPI", time=2020).values
    assert float(cv) == pytest.approx(np.nanstd(v, ddof=1) / np.nanmean(v), rel=1e-12)


def test_sigma_convergence_toy_panel() -> None:
    gaps = np.array([1.0, 0.8, 0.6, 0.4, 0.2])
    x = xr.DataArray(
        np.exp(np.outer([-1.0, 0.0, 1.0], gaps)), dims=("unit", "time"),
        coords={"unit": ["A", "B", "C"], "time": np.arange(2018, 2023)},
    )  # fmt: skip
    res = dyn.sigma_convergence(x)
    np.testing.assert_allclose(res.dispersion.values, gaps, rtol=1e-12)
    assert float(res.slope) == pytest.approx(-0.2, rel=1e-12)


# ----------------------------------------------------------------------------- β-convergence
def beta_by_hand(x: xr.DataArray, start, end, cov_type: str, controls=None) -> list:
    """One statsmodels OLS per indicator, units with missing data dropped."""
    horizon = float(end - start)
    fits = []
    for ind in x["indicator"].values:
        x0 = x.sel(indicator=ind, time=start).values
        x1 = x.sel(indicator=ind, time=end).values
        cols = [np.log(x0)] + ([] if controls is None else [c for c in controls])
        X = np.column_stack(cols)
        y = (np.log(x1) - np.log(x0)) / horizon
        keep = ~np.isnan(y) & ~np.isnan(X).any(axis=1)
        design = sm.add_constant(X[keep], has_constant="add")
        if np.linalg.matrix_rank(design) < design.shape[1]:
            fits.append(None)  # e.g. TIRcon: 1 in every unit, so ln x_start is constant
            continue
        fits.append(sm.OLS(y[keep], design).fit(cov_type=cov_type))
    return fits


@pytest.mark.parametrize("cov_type", ["HC1", "nonrobust", "HC0", "HC2", "HC3"])
def test_beta_convergence_matches_statsmodels(positive: xr.DataArray, cov_type: str) -> None:
    res = dyn.beta_convergence(positive, robust=cov_type)
    fits = beta_by_hand(positive, 2018, 2022, cov_type)
    assert sum(f is None for f in fits) == 1
    for ind, fit in zip(positive["indicator"].values, fits, strict=True):
        got = res.sel(indicator=ind)
        if fit is None:  # rank-deficient design: NaN (statsmodels warns and uses pinv)
            assert np.isnan(got.coefficient.values).all() and float(got.nobs) == 38
            continue
        np.testing.assert_allclose(got.coefficient.values, fit.params, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(got.se.values, fit.bse, rtol=1e-10)
        np.testing.assert_allclose(got.pvalue.values, fit.pvalues, rtol=1e-9, atol=1e-300)
        assert float(got.nobs) == fit.nobs
        assert float(got.r2) == pytest.approx(fit.rsquared, rel=1e-10, abs=1e-13)
        beta = fit.params[1]
        assert float(got.speed) == pytest.approx(-math.log1p(beta * 4.0) / 4.0, rel=1e-10)


def test_beta_convergence_use_t(positive: xr.DataArray) -> None:
    sub = positive.isel(indicator=slice(0, 4))
    res = dyn.beta_convergence(sub, use_t=True)  # HC1 with Student t p-values
    for ind in sub["indicator"].values:
        x0 = np.log(sub.sel(indicator=ind, time=2018).values)
        g = (np.log(sub.sel(indicator=ind, time=2022).values) - x0) / 4.0
        keep = ~np.isnan(x0) & ~np.isnan(g)
        fit = sm.OLS(g[keep], sm.add_constant(x0[keep])).fit(cov_type="HC1", use_t=True)
        np.testing.assert_allclose(res.pvalue.sel(indicator=ind).values, fit.pvalues, rtol=1e-9)


def test_beta_convergence_with_controls(positive: xr.DataArray) -> None:
    denoms = be.panel.get_denominators(be.datasets.load_asem(panel=True)[0])
    pop = np.log(denoms.sel(denominator="Population", time=2019, drop=True)).rename("log_pop")
    # an indicator-specific control too: the 2019 value of the indicator itself
    own = np.log(positive.sel(time=2019, drop=True)).rename("own2019")
    sub = positive.isel(indicator=slice(0, 10))
    res = dyn.beta_convergence(
        sub, start=2018, end=2021, controls=[pop, own.isel(indicator=slice(0, 10))]
    )
    assert res["term"].values.tolist() == ["const", "log_initial", "log_pop", "own2019"]
    for i, ind in enumerate(sub["indicator"].values):
        ctrl = [pop.sel(unit=sub["unit"]).values, own.sel(indicator=ind).values]
        (fit,) = beta_by_hand(sub.isel(indicator=[i]), 2018, 2021, "HC1", ctrl)
        got = res.sel(indicator=ind)
        np.testing.assert_allclose(got.coefficient.values, fit.params, rtol=1e-9, atol=1e-13)
        np.testing.assert_allclose(got.se.values, fit.bse, rtol=1e-9)
    assert res.attrs["horizon"] == 3.0


def test_beta_convergence_perfect_toy_panel() -> None:
    theta, horizon = 0.6, 8.0  # log gaps shrink to 60 % in 8 years
    x0 = np.exp(np.linspace(0.0, 3.0, 7))
    x1 = 2.5 * x0**theta
    x = xr.DataArray(
        np.stack([x0, x1], axis=1), dims=("unit", "time"),
        coords={"unit": [f"U{i}" for i in range(7)], "time": [2010, 2018]},
    )  # fmt: skip
    res = dyn.beta_convergence(x)
    beta = (theta - 1) / horizon
    assert float(res.coefficient.sel(term="log_initial")) == pytest.approx(beta, rel=1e-12)
    speed = -math.log(theta) / horizon
    assert float(res.speed) == pytest.approx(speed, rel=1e-12)
    assert float(res.half_life) == pytest.approx(math.log(2) / speed, rel=1e-12)
    assert float(res.r2) == pytest.approx(1.0)
    diverging = dyn.beta_convergence(x.copy(data=np.stack([x0, x0**1.5], axis=1)))
    assert float(diverging.speed) < 0 and np.isnan(float(diverging.half_life))


# ----------------------------------------------------------------------------- rank mobility
def test_rank_mobility_reference_values() -> None:
    x = xr.DataArray(
        np.array([[12, 2, 1, 12, 2], [1, 4, 7, 1, 0]], dtype=float).T, dims=("unit", "time"),
        coords={"unit": list("ABCDE"), "time": [1, 2]},
    )  # fmt: skip
    res = dyn.rank_mobility(x)
    tau, p = float(res.tau.item()), float(res.pvalue.item())
    assert tau == pytest.approx(-0.47140452079103173, rel=1e-15)  # = -sqrt(2)/3
    scipy_res = stats.kendalltau([12, 2, 1, 12, 2], [1, 4, 7, 1, 0])
    assert p == scipy_res.pvalue
    assert p == pytest.approx(0.28274545993277467, rel=1e-12)
    # The README's p = 0.24821309157521476 is PySAL giddy's Tau: no tie correction of the
    # variance and sqrt(2) rounded to 1.4142136. SciPy (tie-corrected) differs by design.
    n = 5
    giddy_p = erfc(abs(tau / math.sqrt((4.0 * n + 10) / (9.0 * n * (n - 1)))) / 1.4142136)
    assert giddy_p == pytest.approx(0.24821309157521476, rel=1e-12)
    assert float(res.nobs.item()) == 5


def test_rank_mobility_matches_scipy_on_asem(panel: xr.DataArray) -> None:
    res = dyn.rank_mobility(panel, between=[(2018, 2022), (2019, 2020)])
    assert res["pair"].values.tolist() == ["2018-2022", "2019-2020"]
    assert res["time_from"].values.tolist() == [2018, 2019]
    for ind in panel["indicator"].values[:20]:
        a = panel.sel(indicator=ind, time=2018).values
        b = panel.sel(indicator=ind, time=2022).values
        both = ~np.isnan(a) & ~np.isnan(b)
        ref = stats.kendalltau(a[both], b[both])
        got = res.sel(indicator=ind, pair="2018-2022")
        if np.isnan(ref.statistic):
            assert np.isnan(float(got.tau))
            continue
        assert float(got.tau) == pytest.approx(ref.statistic, rel=1e-13)
        assert float(got.pvalue) == pytest.approx(ref.pvalue, rel=1e-10, abs=1e-300)
        ra = stats.rankdata(-a[both], method="min")
        rb = stats.rankdata(-b[both], method="min")
        assert float(got.mean_abs_rank_change) == pytest.approx(np.abs(rb - ra).mean(), rel=1e-13)


def test_rank_mobility_between_options(panel: xr.DataArray) -> None:
    times = panel["time"].values.tolist()
    assert dyn.rank_mobility(panel)["pair"].size == len(times) - 1
    assert dyn.rank_mobility(panel, between="first_last")["pair"].values.tolist() == ["2018-2022"]
    base = dyn.rank_mobility(panel, between="base")
    assert base["time_to"].values.tolist() == times[1:]
    one = dyn.rank_mobility(panel, between=(2020, 2018))
    assert one["pair"].values.tolist() == ["2020-2018"]


# ----------------------------------------------------------------------------- transitions
def test_transition_matrix_matches_qcut_crosstab(panel: xr.DataArray) -> None:
    ind = "Flights"
    res = dyn.transition_matrix(panel, classes=4).sel(indicator=ind)
    total = np.zeros((4, 4))
    times = panel["time"].values
    for a, b in pairwise(times):
        va = panel.sel(indicator=ind, time=a).to_series()
        vb = panel.sel(indicator=ind, time=b).to_series()
        ca = pd.qcut(va, 4, labels=False)  # right-closed quantile bins, as documented
        cb = pd.qcut(vb, 4, labels=False)
        both = ca.notna() & cb.notna()
        tab = pd.crosstab(ca[both], cb[both]).reindex(index=range(4), columns=range(4))
        total += tab.fillna(0).to_numpy()
    np.testing.assert_array_equal(res.counts.values, total)
    rows = res.probabilities.sum("to_class").values
    np.testing.assert_allclose(rows, 1.0, rtol=1e-12)
    assert res["from_class"].values.tolist() == [1, 2, 3, 4]


def test_transition_matrix_options() -> None:
    x = xr.DataArray(
        [[1.0, 5.0, 6.0], [2.0, 1.0, 2.0], [3.0, 3.0, np.nan], [4.0, 4.0, 4.0]],
        dims=("unit", "time"), coords={"unit": list("ABCD"), "time": [2000, 2001, 2002]},
    )  # fmt: skip
    by_pair = dyn.transition_matrix(x, classes=2, pooled=False)
    assert by_pair.counts.dims == ("pair", "from_class", "to_class")
    np.testing.assert_array_equal(by_pair.counts.isel(pair=0).values, [[1, 1], [1, 1]])
    # 2002: cut point = median of (6, 2, 4) = 4, and D (4) sits on it: lower class
    np.testing.assert_array_equal(by_pair.counts.isel(pair=1).values, [[1, 0], [1, 1]])
    pooled = dyn.transition_matrix(x, classes=2)
    np.testing.assert_array_equal(pooled.counts.values, [[2, 1], [2, 2]])
    fixed = dyn.transition_matrix(x, classes=[2.5], between="first_last")
    np.testing.assert_array_equal(fixed.counts.values, [[1, 1], [0, 1]])
    strict = dyn.transition_matrix(x, classes=2, skipna=False, pooled=False)
    assert np.isnan(strict.counts.isel(pair=1).values).all()
    assert not np.isnan(strict.counts.isel(pair=0).values).any()


# ----------------------------------------------------------------------------- DEI states
def test_state_momentum_quadrants_and_ties() -> None:
    units = {"unit": ["A", "B", "C", "D", "E"]}
    level = xr.DataArray([1.0, 2.0, 3.0, 4.0, 5.0], dims="unit", coords=units)
    mom = xr.DataArray([5.0, 1.0, 3.0, 4.0, 2.0], dims="unit", coords=units)
    res = dyn.state_momentum(level, mom)
    assert float(res.level_threshold) == 3.0 and float(res.momentum_threshold) == 3.0
    assert res.state.values.tolist() == [
        "break out", "watch out", "stand out", "stand out", "stall out",
    ]  # fmt: skip
    low = dyn.state_momentum(level, mom, ties="low")
    assert low.state.sel(unit="C").item() == "watch out"  # C sits on both medians
    fixed = dyn.state_momentum(level, mom, level_split=4.5, momentum_split="mean")
    assert fixed.state.values.tolist() == [
        "break out", "watch out", "break out", "break out", "stall out",
    ]  # fmt: skip
    gap = dyn.state_momentum(level, mom.where(mom != 4.0))
    assert pd.isna(gap.state.sel(unit="D").item()) and bool(gap.state.isnull().sum() == 1)
    assert float(gap.level_threshold) == 2.5  # median over the units with both values
    strict = dyn.state_momentum(level, mom.where(mom != 4.0), skipna=False)
    assert bool(strict.state.isnull().all())


def test_state_momentum_broadcasts(positive: xr.DataArray) -> None:
    level = positive.sel(time=2022, drop=True)
    res = dyn.state_momentum(level, dyn.trend_growth(positive).slope)
    assert res.state.dims == ("indicator", "unit")
    assert res.level_threshold.dims == ("indicator",)
    lpi = res.sel(indicator="LPI")
    states = set(lpi.state.values.tolist())
    assert states <= {"stand out", "break out", "stall out", "watch out"}
    hi = level.sel(indicator="LPI") >= lpi.level_threshold
    assert set(lpi.state.values[hi.values].tolist()) <= {"stand out", "stall out"}


# ----------------------------------------------------------------------------- bad input
LOG_BASED: dict[str, Callable[[xr.DataArray], object]] = {
    "growth_log": lambda q: dyn.growth(q, kind="log"),
    "trend_growth": dyn.trend_growth,
    "acceleration": dyn.acceleration,
    "momentum": dyn.momentum,
    "sigma_convergence": dyn.sigma_convergence,
    "beta_convergence": dyn.beta_convergence,
}
TIME_BASED: dict[str, Callable[[xr.DataArray], object]] = {
    **LOG_BASED,
    "growth": dyn.growth,
    "cagr": dyn.cagr,
    "hp_trend": dyn.hp_trend,
    "rank_mobility": dyn.rank_mobility,
    "transition_matrix": lambda q: dyn.transition_matrix(q, classes=2),
}
NUMERIC_TIME = ["trend_growth", "acceleration", "momentum", "sigma_convergence",
                "beta_convergence", "cagr"]  # fmt: skip


@pytest.fixture(scope="module")
def small(positive: xr.DataArray) -> xr.DataArray:
    return positive.isel(indicator=slice(0, 3)).dropna("unit", how="any")


@pytest.mark.parametrize("name", list(LOG_BASED))
def test_non_positive_values_are_named(small: xr.DataArray, name: str) -> None:
    bad = small.copy()
    bad.loc[{"unit": "BEL", "time": 2018, "indicator": small["indicator"].values[1]}] = -1.0
    with pytest.raises(DataError, match=r"> 0.*unit='BEL'.*indicator='Flights'"):
        LOG_BASED[name](bad)


@pytest.mark.parametrize("name", list(TIME_BASED))
def test_unsorted_time_is_an_error(small: xr.DataArray, name: str) -> None:
    with pytest.raises(DataError, match=r"sorted.*sortby\('time'\)"):
        TIME_BASED[name](small.isel(time=[0, 2, 1, 3, 4]))


@pytest.mark.parametrize("name", list(TIME_BASED))
def test_single_time_point_is_an_error(small: xr.DataArray, name: str) -> None:
    with pytest.raises(DataError, match=r"at least \d points along 'time'"):
        TIME_BASED[name](small.isel(time=[0]))


@pytest.mark.parametrize("name", NUMERIC_TIME)
def test_non_numeric_time_is_an_error(small: xr.DataArray, name: str) -> None:
    labelled = small.assign_coords(time=["a", "b", "c", "d", "e"])
    with pytest.raises(DataError, match="must be numbers"):
        TIME_BASED[name](labelled)
    # order-only measures accept any sortable labels
    dyn.hp_trend(labelled)
    dyn.rank_mobility(labelled)


@pytest.mark.parametrize("name", list(TIME_BASED))
def test_all_missing_series_give_nan_silently(small: xr.DataArray, name: str) -> None:
    holes = small.copy()
    holes.loc[{"unit": small["unit"].values[0]}] = np.nan  # a unit with no data at all
    out = TIME_BASED[name](holes)
    assert out is not None  # and no warning (warnings are errors here)
    if name in ("trend_growth", "acceleration", "momentum", "cagr", "growth", "hp_trend"):
        data = out if isinstance(out, xr.DataArray) else out["slope"]
        assert np.isnan(data.sel(unit=small["unit"].values[0]).values).all()


def test_other_bad_parameters(small: xr.DataArray) -> None:
    with pytest.raises(InvalidParameterError, match="'kind' parameter of growth"):
        dyn.growth(small, kind="pct")
    with pytest.raises(InvalidParameterError, match="'periods'"):
        dyn.growth(small, periods=5)
    with pytest.raises(InvalidParameterError, match=r"expects an xarray\.DataArray"):
        dyn.cagr(small.values)
    with pytest.raises(InvalidParameterError, match="'time_dim' parameter of cagr"):
        dyn.cagr(small, time_dim="year")
    with pytest.raises(InvalidParameterError, match="'robust'"):
        dyn.beta_convergence(small, robust="HC9")
    with pytest.raises(InvalidParameterError, match="'start'"):
        dyn.beta_convergence(small, start=1999)
    with pytest.raises(InvalidParameterError, match="before its 'end'"):
        dyn.beta_convergence(small, start=2020, end=2019)
    with pytest.raises(DataError, match="has a 'time' dim"):
        dyn.beta_convergence(small, controls={"c": small.isel(indicator=0, drop=True)})
    with pytest.raises(InvalidParameterError, match="'lamb'"):
        dyn.hp_trend(small, lamb=0)
    with pytest.raises(InvalidParameterError, match="'recent'"):
        dyn.momentum(small, recent=5)
    with pytest.raises(InvalidParameterError, match="'between'"):
        dyn.rank_mobility(small, between=(2018, 2030))
    with pytest.raises(InvalidParameterError, match="'classes'"):
        dyn.transition_matrix(small, classes=1)
    with pytest.raises(InvalidParameterError, match="strictly increasing"):
        dyn.transition_matrix(small, classes=[3.0, 1.0])
    with pytest.raises(InvalidParameterError, match="same 'unit' labels"):
        dyn.state_momentum(small.isel(time=0), small.isel(time=0, unit=slice(1, None)))
    with pytest.raises(DataError, match="infinite"):
        dyn.cagr(small.where(small.unit != small.unit[0], np.inf))
    with pytest.raises(DataError, match="must be numbers"):
        dyn.cagr(small.astype(str))


# ----------------------------------------------------------------------------- dask + purity
ALL: dict[str, Callable[[xr.DataArray], object]] = {
    **TIME_BASED,
    "growth_skipna": lambda q: dyn.growth(q, skipna=True, annualise=True),
    "acceleration_diff": lambda q: dyn.acceleration(q, kind="second_difference"),
    "beta_controls": lambda q: dyn.beta_convergence(
        q, controls={"c": np.log(q.isel(time=1, drop=True))}
    ),
    "transition_pooled_ref": lambda q: dyn.transition_matrix(q, reference="pooled", pooled=False),
    "state_momentum": lambda q: dyn.state_momentum(q.isel(time=-1), dyn.cagr(q)),
}


@pytest.mark.parametrize(
    "chunks", [{"indicator": 10}, {"unit": 20, "time": 2}], ids=["ind", "unit"]
)
@pytest.mark.parametrize("name", list(ALL))
def test_lazy_on_dask_and_equal(positive: xr.DataArray, name: str, chunks: dict) -> None:
    pytest.importorskip("dask.array")
    data = positive.isel(indicator=slice(0, 20))
    lazy = ALL[name](data.chunk(chunks))
    eager = ALL[name](data)
    if isinstance(lazy, xr.Dataset):
        assert all(v.chunks is not None for v in lazy.data_vars.values()), "computed eagerly"
    else:
        assert lazy.chunks is not None, "computed eagerly"
    xr.testing.assert_identical(lazy.compute(), eager)


@pytest.mark.parametrize("name", list(ALL))
def test_inputs_not_mutated(positive: xr.DataArray, name: str) -> None:
    data = positive.isel(indicator=slice(0, 5))
    before = data.copy(deep=True)
    ALL[name](data)
    xr.testing.assert_identical(data, before)


def test_extra_draw_dim_is_broadcast(positive: xr.DataArray) -> None:
    base = positive.isel(indicator=slice(0, 3))
    draws = xr.concat([base, base * 2.0], dim="draw")
    res = dyn.beta_convergence(draws)
    assert set(res.coefficient.dims) == {"draw", "indicator", "term"}
    # scaling every value by 2 changes only the intercept
    xr.testing.assert_allclose(
        res.coefficient.isel(draw=0).sel(term="log_initial"),
        res.coefficient.isel(draw=1).sel(term="log_initial"), rtol=1e-10,
    )  # fmt: skip
    tg = dyn.trend_growth(draws)
    xr.testing.assert_allclose(tg.slope.isel(draw=0), tg.slope.isel(draw=1), rtol=1e-9)


def test_results_to_dataframe(positive: xr.DataArray) -> None:
    df = dyn.trend_growth(positive).to_dataframe()
    stats_cols = ["slope", "se", "tvalue", "pvalue", "nobs", "rate"]
    assert [c for c in df.columns if c in stats_cols] == stats_cols  # + unit name, groups
    assert "unit_name" in df.columns
    assert df.index.names == ["unit", "indicator"] and len(df) == 51 * 49
    beta = dyn.beta_convergence(positive)[["coefficient", "se", "pvalue"]].to_dataframe()
    assert beta.index.names == ["indicator", "term"]


# ----------------------------------------------------------------------------- properties
finite = st.floats(-0.5, 1.0, allow_nan=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rate=finite, n=st.integers(2, 12), scale=st.floats(1e-3, 1e6), step=st.integers(1, 5))
def test_property_exponential_growth_is_recovered(rate: float, n: int, scale: float, step: int):
    t = 1990 + step * np.arange(n)
    x = series(scale * (1 + rate) ** (t - t[0]), t)
    assert float(dyn.cagr(x)) == pytest.approx(rate, rel=1e-9, abs=1e-12)
    np.testing.assert_allclose(
        dyn.growth(x, annualise=True).values[1:], rate, rtol=1e-9, atol=1e-12
    )
    slope = float(dyn.trend_growth(x).slope)
    assert slope == pytest.approx(math.log1p(rate), rel=1e-9, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(
    data=st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=3, max_size=30),
    lamb=st.floats(0.1, 1e5),
)
def test_property_hp_trend_preserves_mean_and_lines(data: list[float], lamb: float) -> None:
    y = np.asarray(data)
    tr = dk.hp_trend(y, lamb)
    scale = max(1.0, np.abs(y).max())
    assert abs(tr.sum() - y.sum()) <= 1e-8 * scale * len(y)  # 1'K' = 0: sums agree
    line = 2.0 + 0.3 * np.arange(len(y))
    np.testing.assert_allclose(dk.hp_trend(line + 0 * y, lamb), line, rtol=1e-8, atol=1e-8)


@settings(max_examples=30, deadline=None)
@given(
    a=st.lists(st.one_of(st.none(), st.floats(0, 100)), min_size=2, max_size=25),
    seed=st.integers(0, 1000),
)
def test_property_transitions_and_tau(a: list, seed: int) -> None:
    va = np.array([np.nan if v is None else v for v in a])
    vb = np.random.default_rng(seed).permutation(va)
    ca, cb = dk.quantile_classes(va, 3), dk.quantile_classes(vb, 3)
    counts = dk.transition_counts(ca, cb, 3)
    assert counts.sum() == np.sum(~np.isnan(va) & ~np.isnan(vb))
    t1, p1, n1 = dk.kendall_tau(va, vb)
    t2, p2, n2 = dk.kendall_tau(vb, va)
    np.testing.assert_allclose([t1, p1, n1], [t2, p2, n2], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0", "HC1", "HC2", "HC3"])
def test_kernel_ols_line_equals_batched_qr_ols(cov_type: str) -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(3.0, 1.0, size=(7, 30))
    y = 0.5 - 0.2 * x + rng.normal(size=(7, 30))
    x[0, :5] = np.nan
    y[1, 10:] = np.nan
    x[2] = 1.5  # constant regressor: rank-deficient, NaN in both
    line = dk.ols_line(y, x, cov_type=cov_type)
    design = np.stack([np.ones_like(x), x], axis=-1)
    full = dk.ols(y, design, cov_type=cov_type)
    for key in ("coefficient", "se", "tvalue", "pvalue", "nobs", "r2", "rss"):
        np.testing.assert_allclose(line[key], full[key], rtol=1e-11, atol=1e-14, err_msg=key)
    assert np.isnan(line["coefficient"][2]).all()
