"""Methods without a COINr reference file, checked against their stated definitions.

Expected values are written out by hand (analytic) or computed by small independent
implementations in this file (plain NumPy loops over the definitions).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.stats
import xarray as xr

import brics_ecom as be
from brics_ecom import panel as pn
from brics_ecom.errors import DataError, DataWarning
from brics_ecom.spec import IndexSpec, Node

nan = np.nan


def make_panel(
    values: np.ndarray, units: list[str], times: list, indicators: list[str]
) -> xr.DataArray:
    return xr.DataArray(
        np.asarray(values, dtype=float),
        dims=pn.DIMS,
        coords={"unit": units, "time": times, "indicator": indicators},
    )


def agg(code: str, **kw: object) -> Node:
    return Node(code, kind="aggregate", **kw)  # type: ignore[arg-type]


# ====================================================================== normalise
@pytest.fixture
def npanel() -> xr.DataArray:
    """5 units × 2 years × 2 indicators; ``y`` is a negative indicator, with ties and NaN."""
    x = np.array([[1.0, 2.0], [3.0, 3.0], [5.0, 6.0], [3.0, nan], [7.0, 10.0]])  # unit × time
    y = np.array([[4.0, 0.0], [2.0, 2.0], [8.0, 4.0], [nan, 1.0], [6.0, 5.0]])
    return make_panel(np.stack([x, y], -1), list("ABCDE"), [2019, 2020], ["x", "y"])


DIRS = {"y": -1}


def per_year(panel: xr.DataArray, func) -> np.ndarray:
    """Apply ``func(column)`` to each (year, indicator) column of directed values."""
    d = np.array([1.0, -1.0])
    out = np.empty(panel.shape)
    for t in range(panel.sizes["time"]):
        for i in range(panel.sizes["indicator"]):
            out[:, t, i] = func(panel.values[:, t, i] * d[i])
    return out


def min_rank(col: np.ndarray) -> np.ndarray:
    ok = ~np.isnan(col)
    r = np.full(col.shape, nan)
    r[ok] = scipy.stats.rankdata(col[ok], method="min")
    return r


def test_normalise_borda_and_prank(npanel: xr.DataArray) -> None:
    borda = be.normalise(npanel, "borda", directions=DIRS)
    np.testing.assert_array_equal(borda.values, per_year(npanel, lambda c: min_rank(c) - 1))
    # by hand: x in 2019 is (1, 3, 5, 3, 7): ranks 1, 2, 4, 2, 5
    assert borda.sel(time=2019, indicator="x").values.tolist() == [0.0, 1.0, 3.0, 1.0, 4.0]
    prank = be.normalise(npanel, "prank", directions=DIRS)
    expected = per_year(npanel, lambda c: (min_rank(c) - 1) / (np.sum(~np.isnan(c)) - 1))
    np.testing.assert_allclose(prank.values, expected, rtol=1e-15)
    # -y in 2020 is (0, -2, -4, -1, -5): ranks 5, 3, 2, 4, 1 out of 5
    assert prank.sel(time=2020, indicator="y").values.tolist() == [1.0, 0.5, 0.25, 0.75, 0.0]


def test_normalise_scaled_uses_goalposts_without_truncation(npanel: xr.DataArray) -> None:
    out = be.normalise(
        npanel, "scaled", directions=DIRS, lower={"x": 2, "y": 1}, upper={"x": 6, "y": 5}, scale=10
    )
    x, y = npanel.sel(indicator="x"), npanel.sel(indicator="y")
    np.testing.assert_allclose(out.sel(indicator="x"), (x - 2) / 4 * 10, rtol=1e-15)
    # negative indicator: (hi - y) / (hi - lo)
    np.testing.assert_allclose(out.sel(indicator="y"), (5 - y) / 4 * 10, rtol=1e-15)
    assert float(out.max()) == 20.0 and float(out.min()) == -7.5  # not truncated


def test_normalise_dist2max(npanel: xr.DataArray) -> None:
    out = be.normalise(npanel, "dist2max", directions=DIRS)
    expected = per_year(npanel, lambda c: 1 - (np.nanmax(c) - c) / (np.nanmax(c) - np.nanmin(c)))
    np.testing.assert_allclose(out.values, expected, rtol=1e-15)
    np.testing.assert_allclose(
        out.sel(time=2019, indicator="x"), [0, 1 / 3, 2 / 3, 1 / 3, 1], rtol=1e-15
    )


def test_normalise_dist2ref_with_and_without_cap(npanel: xr.DataArray) -> None:
    out = be.normalise(npanel, "dist2ref", directions=DIRS, reference_unit="B")
    d = np.array([1.0, -1.0])
    ref = npanel.sel(unit="B").values * d  # (time, indicator), directed
    expected = per_year(npanel, lambda c: c)  # directed values
    mn = np.nanmin(expected, axis=0)
    expected = 1 - (ref - expected) / (ref - mn)
    np.testing.assert_allclose(out.values, expected, rtol=1e-15)
    # x in 2019: ref 3, min 1 -> (1, 3, 5, 3, 7) -> 0, 1, 2, 1, 3
    assert out.sel(time=2019, indicator="x").values.tolist() == [0.0, 1.0, 2.0, 1.0, 3.0]
    capped = be.normalise(npanel, "dist2ref", directions=DIRS, reference_unit="B", cap=True)
    np.testing.assert_array_equal(capped.values, np.where(expected > 1, 1.0, expected))
    assert float(capped.max()) == 1.0 and float(capped.min()) == float(out.min())
    # a reference unit with no value makes the whole column NaN
    gap = be.normalise(npanel, "dist2ref", directions=DIRS, reference_unit="D")
    assert bool(gap.sel(time=2019, indicator="y").isnull().all())
    assert bool(gap.sel(time=2020, indicator="y").notnull().all())


def test_normalise_fracmax(npanel: xr.DataArray) -> None:
    x = npanel.sel(indicator=["x"])
    out = be.normalise(x, "fracmax")
    np.testing.assert_allclose(out.values, (x / x.max("unit")).values, rtol=1e-15)
    assert out.sel(time=2020, indicator="x").values.tolist()[:3] == [0.2, 0.3, 0.6]


def test_normalise_reference_pooled_uses_all_years(npanel: xr.DataArray) -> None:
    out = be.normalise(npanel, "minmax", directions=DIRS, reference="pooled")
    d = xr.DataArray([1.0, -1.0], dims="indicator", coords={"indicator": ["x", "y"]})
    xd = npanel * d
    mn, mx = xd.min(["unit", "time"]), xd.max(["unit", "time"])
    xr.testing.assert_allclose(out, ((xd - mn) / (mx - mn) * 100).transpose(*out.dims))
    # x over both years ranges 1..10
    assert out.sel(time=2020, indicator="x").values.tolist()[:3] == [100 / 9, 200 / 9, 500 / 9]
    z = be.normalise(npanel, "zscore", directions=DIRS, reference="pooled")
    flat = xd.sel(indicator="x").values.ravel()
    flat = flat[~np.isnan(flat)]
    np.testing.assert_allclose(
        z.sel(indicator="x").values,
        (xd.sel(indicator="x").values - flat.mean()) / flat.std(ddof=1),
        rtol=1e-13,
    )


def test_normalise_base_time_applies_base_year_statistics(npanel: xr.DataArray) -> None:
    out = be.normalise(npanel, "minmax", directions=DIRS, base_time=2019)
    d = xr.DataArray([1.0, -1.0], dims="indicator", coords={"indicator": ["x", "y"]})
    xd = npanel * d
    base = xd.sel(time=2019)
    mn, mx = base.min("unit"), base.max("unit")
    xr.testing.assert_allclose(out, ((xd - mn) / (mx - mn) * 100).transpose(*out.dims))
    # x: base 2019 range 1..7, so x = 10 in 2020 scores 150
    assert out.sel(time=2020, unit="E", indicator="x").item() == 150.0
    # the explicit form is the same
    same = be.normalise(npanel, "minmax", directions=DIRS, reference="base_time", base_time=2019)
    xr.testing.assert_identical(out, same)
    ranks = be.normalise(npanel, "rank", directions=DIRS, base_time=2019)
    # x = 2, 3, 6, nan, 10 against base (1, 3, 5, 3, 7): 1 + number of base values below
    assert ranks.sel(time=2020, indicator="x").values.tolist()[:3] == [2.0, 2.0, 5.0]


def test_normalise_minmax_zero_range_warns_and_gives_nan(npanel: xr.DataArray) -> None:
    flat = npanel.copy()
    flat.loc[{"time": 2020, "indicator": "x"}] = 4.0
    with pytest.warns(DataWarning, match=r"zero range for \[\{'time': 2020, 'indicator': 'x'\}\]"):
        out = be.normalise(flat, "minmax")
    assert bool(out.sel(time=2020, indicator="x").isnull().all())
    xr.testing.assert_identical(out.sel(time=2019), be.normalise(npanel, "minmax").sel(time=2019))


# ====================================================================== impute
@pytest.fixture
def ipanel() -> xr.DataArray:
    x = np.array([[1.0, 2.0], [nan, 4.0], [5.0, nan], [7.0, 8.0], [9.0, nan]])
    y = np.array([[10.0, nan], [30.0, 50.0], [nan, 60.0], [1.0, 2.0], [nan, 3.0]])
    p = make_panel(np.stack([x, y], -1), list("ABCDE"), [2019, 2020], ["x", "y"])
    return p.assign_coords(g=("unit", ["a", "a", "b", "b", "b"]))


def test_impute_median(ipanel: xr.DataArray) -> None:
    out = be.impute(ipanel, "median")
    med = np.nanmedian(ipanel.values, axis=0)  # (time, indicator)
    expected = np.where(np.isnan(ipanel.values), med, ipanel.values)
    np.testing.assert_array_equal(out.values, expected)
    # by hand: x in 2019 is (1, 5, 7, 9): median 6
    assert out.sel(unit="B", time=2019, indicator="x").item() == 6.0
    assert out.attrs["history"] == ["impute(method='median', group=None, level=None)"]


def test_impute_group_median_fixed_and_time_varying_groups(ipanel: xr.DataArray) -> None:
    out = be.impute(ipanel, "group_median", group="g")
    # group a = A, B; group b = C, D, E
    assert out.sel(unit="B", time=2019, indicator="x").item() == 1.0
    assert out.sel(unit="C", time=2020, indicator="x").item() == 8.0
    assert out.sel(unit="E", time=2019, indicator="y").item() == 1.0
    assert out.sel(unit="C", time=2019, indicator="y").item() == 1.0
    assert out.sel(unit="A", time=2020, indicator="y").item() == 50.0
    assert int(out.isnull().sum()) == 0
    # a group label that changes over time: E moves to group a in 2020
    labels = xr.DataArray(
        [["a", "a"], ["a", "a"], ["b", "b"], ["b", "b"], ["b", "a"]], dims=("unit", "time")
    )
    moving = be.impute(ipanel.assign_coords(gt=labels), "group_median", group="gt")
    xr.testing.assert_equal(moving.sel(time=2019).drop_vars("gt"), out.sel(time=2019))
    # 2020, group a = A, B, E: x (2, 4, nan) -> E = 3; y (nan, 50, 3) -> A = 26.5
    assert moving.sel(unit="E", time=2020, indicator="x").item() == 3.0
    assert moving.sel(unit="A", time=2020, indicator="y").item() == 26.5
    # group b in 2020 = C, D: x (nan, 8) -> C = 8
    assert moving.sel(unit="C", time=2020, indicator="x").item() == 8.0
    # a mapping with unlabelled units leaves those alone
    partial = be.impute(ipanel, "group_median", group={"A": 1, "B": 1, "C": 2})
    assert np.isnan(partial.sel(unit="E", time=2019, indicator="y").item())
    assert np.isnan(partial.sel(unit="C", time=2019, indicator="y").item())  # group of one
    assert partial.sel(unit="B", time=2019, indicator="x").item() == 1.0


def row_mean_reference(values: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """COINr's row imputation over all indicators of one year (units × indicators)."""
    xd = values * directions
    mn, mx = np.nanmin(xd, axis=0), np.nanmax(xd, axis=0)
    z = (xd - mn) / (mx - mn)
    out = values.copy()
    for u in range(values.shape[0]):
        m = np.nanmean(z[u])
        for i in range(values.shape[1]):
            if np.isnan(values[u, i]):
                out[u, i] = (m * (mx[i] - mn[i]) + mn[i]) * directions[i]
    return out


def test_impute_row_mean_at_top_level() -> None:
    rng = np.random.default_rng(11)
    vals = rng.normal(50, 10, size=(6, 2, 4))
    vals[0, 0, 1] = vals[2, 0, 3] = vals[5, 1, 0] = vals[5, 1, 2] = nan
    p = make_panel(vals, [f"u{i}" for i in range(6)], [2020, 2021], list("abcd"))
    spec = IndexSpec(
        [
            Node("a", parent="P"),
            Node("b", parent="P", direction=-1),
            Node("c", parent="Q"),
            Node("d", parent="Q"),
            agg("P", parent="I"),
            agg("Q", parent="I"),
            agg("I"),
        ]
    )
    out = be.impute(p, "row_mean", spec=spec)  # level=None: the top level, all indicators
    dirs = np.array([1.0, -1.0, 1.0, 1.0])
    for t in range(2):
        np.testing.assert_allclose(
            out.values[:, t, :], row_mean_reference(vals[:, t, :], dirs), rtol=1e-13
        )
    xr.testing.assert_equal(out, be.impute(p, "row_mean", spec=spec, level=3))
    # at the pillar level only the sibling counts: u0's b comes from its a alone
    pillar = be.impute(p, "row_mean", spec=spec, level=2)
    xa = vals[:, 0, 0]
    za = (xa[0] - xa.min()) / (xa.max() - xa.min())
    nb = -vals[:, 0, 1]
    expected_b = -(za * (np.nanmax(nb) - np.nanmin(nb)) + np.nanmin(nb))
    np.testing.assert_allclose(pillar.values[0, 0, 1], expected_b, rtol=1e-13)


@pytest.fixture
def tpanel() -> xr.DataArray:
    """One unit × 6 uneven years × 3 series with leading, interior and trailing gaps."""
    s1 = [nan, 1.0, nan, nan, 4.0, nan]
    s2 = [nan, nan, 2.0, nan, nan, nan]
    s3 = [3.0, nan, nan, nan, nan, 8.0]
    vals = np.array([s1, s2, s3]).T[None]
    return make_panel(vals, ["A"], [2010, 2011, 2012, 2014, 2015, 2020], ["s1", "s2", "s3"])


def series(out: xr.DataArray, code: str) -> list[float]:
    return out.sel(unit="A", indicator=code).values.tolist()


def assert_series(got: list[float], expected: list[float]) -> None:
    np.testing.assert_allclose(np.array(got), np.array(expected), rtol=1e-15)


def test_impute_latest_forward_fills_only(tpanel: xr.DataArray) -> None:
    out = be.impute(tpanel, "latest")
    assert_series(series(out, "s1"), [nan, 1, 1, 1, 4, 4])
    assert_series(series(out, "s2"), [nan, nan, 2, 2, 2, 2])
    assert_series(series(out, "s3"), [3, 3, 3, 3, 3, 8])
    # max_time = 1: only the previous time point is searched
    one = be.impute(tpanel, "latest", max_time=1)
    assert_series(series(one, "s1"), [nan, 1, 1, nan, 4, 4])
    assert_series(series(one, "s3"), [3, 3, nan, nan, nan, 8])


def test_impute_constant_back_fills_leading_gaps(tpanel: xr.DataArray) -> None:
    out = be.impute(tpanel, "constant")
    assert_series(series(out, "s1"), [1, 1, 1, 1, 4, 4])
    assert_series(series(out, "s2"), [2, 2, 2, 2, 2, 2])
    assert_series(series(out, "s3"), [3, 3, 3, 3, 3, 8])


def test_impute_linear_uses_time_labels_and_holds_the_ends(tpanel: xr.DataArray) -> None:
    with pytest.raises(DataError, match=r"single observation.*'unit': 'A', 'indicator': 's2'"):
        be.impute(tpanel, "linear")
    out = be.impute(tpanel, "linear_constant")
    # s1: 1 in 2011, 4 in 2015: 2012 -> 1.75, 2014 -> 3.25; ends held
    assert_series(series(out, "s1"), [1, 1, 1.75, 3.25, 4, 4])
    assert_series(series(out, "s2"), [2, 2, 2, 2, 2, 2])
    assert_series(series(out, "s3"), [3, 3.5, 4, 5, 5.5, 8])
    lin = be.impute(tpanel.drop_sel(indicator="s2"), "linear")
    xr.testing.assert_equal(lin, out.drop_sel(indicator="s2"))


def test_impute_em_recovers_an_exact_linear_relation() -> None:
    xs = np.arange(8.0)
    ys = 2 * xs + 1
    ys[[2, 6]] = nan
    p = make_panel(np.stack([xs, ys], -1)[:, None, :], [f"u{i}" for i in range(8)], [0], ["x", "y"])
    out = be.impute(p, "em", tol=1e-12)
    np.testing.assert_allclose(out.sel(indicator="y").values.ravel(), 2 * xs + 1, rtol=1e-8)
    np.testing.assert_array_equal(out.sel(indicator="x").values, p.sel(indicator="x").values)


# ====================================================================== treat
@pytest.fixture
def skewed() -> xr.DataArray:
    v = 2.0 ** np.arange(20)
    return make_panel(
        np.stack([v, -v], -1)[:, None, :], [f"u{i:02d}" for i in range(20)], [0], ["pos", "neg"]
    )


def log_ct(v: np.ndarray) -> np.ndarray:
    return np.log(v - v.min() + 0.01 * (v.max() - v.min()))


def test_treat_log_ct_fallback_on_original_values(skewed: xr.DataArray) -> None:
    t = be.treat(skewed, winmax=1)
    v = skewed.sel(indicator="pos").values.ravel()
    np.testing.assert_allclose(t.data.sel(indicator="pos").values.ravel(), log_ct(v), rtol=1e-14)
    assert t.report.loc["pos", "n_winsorised"] == 1 and t.report.loc["pos", "transformed"]
    flags = t.flags.sel(indicator="pos").values.ravel()
    assert flags[-1] == "winhi+log_CT" and set(flags[:-1]) == {"+log_CT"}
    assert t.flags.sel(indicator="neg").values.ravel()[-1] == "winlo+log_CT"


def test_treat_log_ct_plus_mirrors_negative_skew(skewed: xr.DataArray) -> None:
    t = be.treat(skewed, winmax=1, transform="log_CT_plus")
    w = skewed.sel(indicator="neg").values.ravel()
    a = 0.01 * (w.max() - w.min())
    np.testing.assert_allclose(
        t.data.sel(indicator="neg").values.ravel(), -np.log(w.max() + a - w), rtol=1e-14
    )
    v = skewed.sel(indicator="pos").values.ravel()
    np.testing.assert_allclose(t.data.sel(indicator="pos").values.ravel(), log_ct(v), rtol=1e-14)
    assert t.flags.sel(indicator="neg").values.ravel()[5] == "+log_CT_neg"


def test_treat_boxcox_matches_scipy(skewed: xr.DataArray) -> None:
    t = be.treat(skewed, winmax=1, transform="boxcox")
    v = skewed.sel(indicator="pos").values.ravel()
    shifted = v - v.min() + 0.01 * (v.max() - v.min())
    np.testing.assert_allclose(
        t.data.sel(indicator="pos").values.ravel(), scipy.stats.boxcox(shifted)[0], rtol=1e-10
    )
    assert t.flags.sel(indicator="pos").values.ravel()[0] == "+boxcox"


def test_treat_combine_logs_the_winsorised_values(skewed: xr.DataArray) -> None:
    t = be.treat(skewed, winmax=1, combine=True)
    v = skewed.sel(indicator="pos").values.ravel()
    w = v.copy()
    w[-1] = v[-2]  # the maximum pulled to the next value
    np.testing.assert_allclose(t.data.sel(indicator="pos").values.ravel(), log_ct(w), rtol=1e-14)
    assert not np.allclose(log_ct(w), log_ct(v))


def test_treat_per_indicator_overrides(skewed: xr.DataArray) -> None:
    t = be.treat(
        skewed,
        overrides={"pos": {"winmax": 1, "transform": None}, "neg": {"skip": True}},
    )
    v = skewed.sel(indicator="pos").values.ravel()
    w = v.copy()
    w[-1] = v[-2]
    np.testing.assert_array_equal(t.data.sel(indicator="pos").values.ravel(), w)
    xr.testing.assert_identical(
        t.data.sel(indicator="neg").drop_attrs(), skewed.sel(indicator="neg")
    )
    assert list(t.report.index) == ["pos"]
    # with the defaults (winmax = 5) both indicators are fixed by winsorising two points
    d = be.treat(skewed)
    assert d.report["n_winsorised"].tolist() == [2, 2]
    assert not d.report["transformed"].any()


def test_treat_each_year_separately() -> None:
    v = 2.0 ** np.arange(20)
    p = make_panel(
        np.stack([v, np.arange(20.0)], 1)[:, :, None],
        [f"u{i:02d}" for i in range(20)],
        [2020, 2021],
        ["x"],
    )
    t = be.treat(p, winmax=1)
    assert t.report.loc[(2020, "x"), "transformed"]
    assert not t.report.loc[(2021, "x"), "transformed"]
    np.testing.assert_array_equal(t.data.sel(time=2021).values.ravel(), np.arange(20.0))


# ====================================================================== aggregate
@pytest.fixture
def tree() -> IndexSpec:
    return IndexSpec(
        [
            Node("a", parent="P"),
            Node("b", parent="P", weight=3),
            Node("c", parent="Q"),
            Node("d", parent="Q"),
            Node("e", parent="Q", weight=2),
            agg("P", parent="I"),
            agg("Q", parent="I", weight=2),
            agg("I"),
        ]
    )


@pytest.fixture
def apanel() -> xr.DataArray:
    vals = np.array(
        [[1.0, 2.0, 3.0, 4.0, 5.0], [2.0, 4.0, 1.0, nan, 1.0], [10.0, 1.0, 2.0, 2.0, 2.0]]
    )
    return make_panel(vals[:, None, :], ["A", "B", "C"], [2020], list("abcde"))


def tree_reduce(panel: xr.DataArray, spec: IndexSpec, f, weights=None) -> dict[str, np.ndarray]:
    """Scores of every node by ``f(values, weights)`` on each unit, level by level."""
    w = dict(spec.weights, **(weights or {}))
    scores = {c: panel.sel(indicator=c).values.ravel() for c in spec.indicators}
    for lvl in range(2, spec.max_level + 1):
        for par in spec.level_codes(lvl):
            kids = spec.children(par)
            x = np.stack([scores[k] for k in kids], -1)
            ww = np.array([w[k] for k in kids])
            scores[par] = np.array([f(row, ww) for row in x])
    return scores


def check_tree(out: xr.DataArray, expected: dict[str, np.ndarray], rtol: float = 1e-14) -> None:
    for code in out["node"].values:
        np.testing.assert_allclose(
            out.sel(node=code).values.ravel(), expected[code], rtol=rtol, err_msg=code
        )


def harmonic(row: np.ndarray, w: np.ndarray) -> float:
    ok = ~np.isnan(row)
    return w[ok].sum() / (w[ok] / row[ok]).sum()


def test_aggregate_harmonic(apanel: xr.DataArray, tree: IndexSpec) -> None:
    out = be.aggregate(apanel, tree, "harmonic")
    check_tree(out, tree_reduce(apanel, tree, harmonic))
    assert out.sel(unit="A", node="P").item() == pytest.approx(4 / (1 + 3 / 2), rel=1e-15)


def test_aggregate_generalised_power_mean_propagates_nan(
    apanel: xr.DataArray, tree: IndexSpec
) -> None:
    def power(row: np.ndarray, w: np.ndarray, p: float = 2.0) -> float:
        return float((np.sum(w * row**p) / w.sum()) ** (1 / p))  # NaN in, NaN out

    out = be.aggregate(apanel, tree, "generalised", p=2)
    check_tree(out, tree_reduce(apanel, tree, power))
    assert np.isnan(out.sel(unit="B", node="Q").item())
    assert np.isnan(out.sel(unit="B", node="I").item())
    assert out.sel(unit="B", node="P").item() == pytest.approx(np.sqrt((4 + 3 * 16) / 4), rel=1e-15)
    inv = be.aggregate(apanel, tree, "generalised", p=-1)
    harm = be.aggregate(apanel.sel(unit=["A", "C"]), tree, "harmonic")
    xr.testing.assert_allclose(inv.sel(unit=["A", "C"]), harm)


def test_aggregate_minimum(apanel: xr.DataArray, tree: IndexSpec) -> None:
    out = be.aggregate(apanel, tree, "minimum")
    check_tree(out, tree_reduce(apanel, tree, lambda r, w: np.nanmin(r[w > 0])))
    # a zero weight leaves the child out
    out0 = be.aggregate(apanel, tree, "minimum", weights={"a": 0})
    assert out0.sel(unit="A", node="P").item() == 2.0


def copeland_reference(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """COINr's Copeland score, pair by pair (units × children)."""
    w = w / w.sum()
    n = x.shape[0]
    outrank = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            o = sum(
                wk * (1.0 if a > b else 0.5 if a == b else 0.0)
                for a, b, wk in zip(x[i], x[j], w, strict=True)
                if not (np.isnan(a) or np.isnan(b))
            )
            outrank[i, j], outrank[j, i] = o, 1 - o
    score = np.where(outrank > 0.5, 1.0, np.where(outrank < 0.5, -1.0, 0.0))
    np.fill_diagonal(score, 0.0)
    return score.sum(axis=1)


def test_aggregate_copeland(apanel: xr.DataArray, tree: IndexSpec) -> None:
    out = be.aggregate(apanel, tree, "copeland")
    expected: dict[str, np.ndarray] = {}
    scores = {c: apanel.sel(indicator=c).values.ravel() for c in tree.indicators}
    for lvl in (2, 3):
        for par in tree.level_codes(lvl):
            kids = tree.children(par)
            x = np.stack([scores[k] for k in kids], -1)
            scores[par] = expected[par] = copeland_reference(
                x, np.array([tree.weights[k] for k in kids])
            )
    check_tree(out, expected, rtol=0)
    # by hand: P is won by B (beats A and C); C loses both
    assert out.sel(node="P").values.ravel().tolist() == [0.0, 2.0, -2.0]
    assert out.sel(node="I").values.ravel().tolist() == [2.0, -2.0, 0.0]


def test_aggregate_mazziotta_pareto(apanel: xr.DataArray, tree: IndexSpec) -> None:
    def mpi(row: np.ndarray, w: np.ndarray, penalty: float = -1.0) -> float:
        ok = ~np.isnan(row)
        r, ww = row[ok], w[ok] / w[ok].sum()
        m = np.sum(ww * r)
        s = np.sqrt(np.sum(ww * (r - m) ** 2))
        return float(m + penalty * s * s / m)

    out = be.aggregate(apanel, tree, "mazziotta_pareto")
    check_tree(out, tree_reduce(apanel, tree, mpi), rtol=1e-13)
    plus = be.aggregate(apanel, tree, "mazziotta_pareto", penalty=1)
    check_tree(plus, tree_reduce(apanel, tree, lambda r, w: mpi(r, w, 1.0)), rtol=1e-13)
    assert out.sel(unit="C", node="P").item() == pytest.approx(-1.4230769230769231, rel=1e-13)


def amean(row: np.ndarray, w: np.ndarray) -> float:
    ok = ~np.isnan(row)
    return float(np.sum(w[ok] * row[ok]) / w[ok].sum()) if ok.any() else nan


def gmean(row: np.ndarray, w: np.ndarray) -> float:
    ok = ~np.isnan(row)
    return float(np.exp(np.sum(w[ok] * np.log(row[ok])) / w[ok].sum()))


def test_aggregate_by_level(apanel: xr.DataArray, tree: IndexSpec) -> None:
    out = be.aggregate(apanel, tree, by_level={2: "arithmetic", 3: "geometric"})
    expected = tree_reduce(apanel, tree, amean)
    for u in range(3):
        expected["I"][u] = gmean(
            np.array([expected["P"][u], expected["Q"][u]]), np.array([1.0, 2.0])
        )
    check_tree(out, expected)
    assert out.attrs["aggregation"] == {2: "arithmetic", 3: "geometric"}
    geo_top = be.aggregate(apanel, tree, "geometric", by_level={2: "arithmetic"})
    xr.testing.assert_identical(geo_top.drop_attrs(), out.drop_attrs())


def test_aggregate_partial_weights_mapping(apanel: xr.DataArray, tree: IndexSpec) -> None:
    out = be.aggregate(apanel, tree, weights={"a": 2, "Q": 1})
    check_tree(out, tree_reduce(apanel, tree, amean, weights={"a": 2, "Q": 1}))
    # A: P = (2*1 + 3*2)/5 = 1.6; Q = (3 + 4 + 10)/4 = 4.25; I = (1.6 + 4.25)/2
    assert out.sel(unit="A", node="I").item() == pytest.approx((1.6 + 4.25) / 2, rel=1e-15)
    # only ratios matter within a parent
    scaled = be.aggregate(apanel, tree, weights={c: 10 * w for c, w in tree.weights.items()})
    xr.testing.assert_allclose(scaled, be.aggregate(apanel, tree), rtol=1e-14)


def test_aggregate_dat_thresh_strict_share_and_propagation() -> None:
    spec = IndexSpec(
        [
            *(Node(f"i{k}", parent="P") for k in range(5)),
            Node("j", parent="Q"),
            agg("P", parent="I"),
            agg("Q", parent="I"),
            agg("I"),
        ]
    )
    vals = np.array(
        [
            [1.0, 2.0, 3.0, 4.0, nan, 5.0],  # 4 of 5 present: kept
            [1.0, 2.0, 3.0, nan, nan, 5.0],  # 3 of 5 present: P dropped -> I has 1 of 2
            [nan, nan, nan, nan, nan, 5.0],
        ]
    )
    p = make_panel(vals[:, None, :], ["A", "B", "C"], [0], ["i0", "i1", "i2", "i3", "i4", "j"])
    out = be.aggregate(p, spec, dat_thresh=0.8)
    assert out.sel(unit="A", node="P").item() == 2.5
    assert np.isnan(out.sel(unit="B", node="P").item())
    assert np.isnan(out.sel(unit="B", node="I").item())  # 1 of 2 children < 0.8
    assert out.sel(unit="A", node="I").item() == 3.75
    # without a threshold the missing children are simply dropped
    free = be.aggregate(p, spec)
    assert free.sel(unit="B", node="P").item() == 2.0 and free.sel(unit="B", node="I").item() == 3.5
    assert (
        np.isnan(free.sel(unit="C", node="P").item()) and free.sel(unit="C", node="I").item() == 5.0
    )
    # 0.5 keeps B's index (P missing is 1 of 2 = 0.5, not < 0.5)
    half = be.aggregate(p, spec, dat_thresh=0.5)
    assert half.sel(unit="B", node="I").item() == 3.5 and np.isnan(
        half.sel(unit="C", node="P").item()
    )


def test_aggregate_ignores_and_reports_extra_indicators(
    apanel: xr.DataArray, tree: IndexSpec
) -> None:
    extra = xr.concat(
        [apanel, apanel.sel(indicator=["a"]).assign_coords(indicator=["z"])], "indicator"
    )
    with pytest.warns(DataWarning, match=r"\['z'\]"):
        out = be.aggregate(extra, tree)
    xr.testing.assert_identical(out.drop_attrs(), be.aggregate(apanel, tree).drop_attrs())
    both = be.aggregate(apanel, tree, include_indicators=True)
    assert both["node"].values.tolist() == ["a", "b", "c", "d", "e", "P", "Q", "I"]


# ====================================================================== broadcasting
def test_aggregate_weight_draws_equal_a_loop_over_draws() -> None:
    p, spec = be.datasets.load_asem(panel=True)
    n = be.normalise(be.impute(p, "linear_constant"), "minmax", spec=spec, lower=1, upper=100)
    codes = list(spec.codes)
    rng = np.random.default_rng(5)
    w = xr.DataArray(
        rng.uniform(0.5, 1.5, (3, len(codes))), dims=("draw", "node"), coords={"node": codes}
    )
    for method in ("arithmetic", "geometric"):
        out = be.aggregate(n, spec, method, weights=w)
        assert out.sizes["draw"] == 3
        for d in range(3):
            one = be.aggregate(n, spec, method, weights=dict(zip(codes, w.values[d], strict=True)))
            xr.testing.assert_allclose(
                out.isel(draw=d, drop=True).drop_attrs(), one.drop_attrs(), rtol=1e-12
            )
    # a scenario dim and a draw dim at once
    ws = xr.DataArray(
        rng.uniform(0.5, 1.5, (2, 3, len(codes))),
        dims=("scenario", "draw", "node"),
        coords={"node": codes, "scenario": ["low", "high"]},
    )
    out = be.aggregate(n, spec, weights=ws)
    assert set(out.dims) == {"unit", "time", "scenario", "draw", "node"}
    for s in ("low", "high"):
        for d in range(3):
            one = be.aggregate(
                n, spec, weights=dict(zip(codes, ws.sel(scenario=s).values[d], strict=True))
            )
            xr.testing.assert_allclose(
                out.sel(scenario=s)
                .isel(draw=d)
                .drop_vars("scenario")
                .transpose(*one.dims)
                .drop_attrs(),
                one.drop_attrs(),
                rtol=1e-12,
            )


def test_front_doors_broadcast_over_a_draw_dim_of_the_panel() -> None:
    p, spec = be.datasets.load_asem()
    p = be.impute(p, "mean")
    draws = xr.concat([p, p * 1.5 + 1], dim="draw")
    n = be.normalise(draws, "zscore", spec=spec)
    xr.testing.assert_identical(
        n.isel(draw=0, drop=True).drop_attrs(), be.normalise(p, "zscore", spec=spec).drop_attrs()
    )
    # a z-score is invariant to a positive affine change of the data
    xr.testing.assert_allclose(n.isel(draw=1, drop=True), n.isel(draw=0, drop=True), rtol=1e-10)
    a = be.aggregate(n, spec)
    xr.testing.assert_allclose(
        a.isel(draw=0, drop=True).drop_attrs(),
        be.aggregate(n.isel(draw=0, drop=True), spec).drop_attrs(),
        rtol=1e-13,
    )


# ====================================================================== denominate
def test_denominate_with_scale_and_mapping() -> None:
    x = make_panel(
        [[[10.0, 3.0, 8.0]], [[20.0, 4.0, nan]]], ["A", "B"], [2020], ["gdp", "score", "cars"]
    )
    d = xr.DataArray(
        [[[5.0, 2.0]], [[4.0, 8.0]]],
        dims=("unit", "time", "denominator"),
        coords={"unit": ["A", "B"], "time": [2020], "denominator": ["pop", "area"]},
    )
    out = be.denominate(
        x, denominators=d, mapping={"gdp": "pop", "cars": "area"}, scale={"gdp": 1000, "cars": 100}
    )
    np.testing.assert_array_equal(out.values, [[[2000.0, 3.0, 400.0]], [[5000.0, 4.0, nan]]])
    assert out.attrs["denominated"] == {"gdp": "pop", "cars": "area"}
    one = be.denominate(x, denominators=d, mapping={"score": "area"}, scale=10)
    np.testing.assert_array_equal(one.sel(indicator="score").values.ravel(), [15.0, 5.0])
    # through the spec and the denominators the panel carries
    spec = IndexSpec(
        [
            Node("gdp", parent="I", denominator="pop"),
            Node("score", parent="I"),
            Node("cars", parent="I"),
            agg("I"),
        ]
    )
    carried = be.denominate(pn.with_denominators(x, d), spec)
    np.testing.assert_array_equal(carried.sel(indicator="gdp").values.ravel(), [2.0, 5.0])
    assert "denominators" not in carried.attrs
    # a panel without a time dim takes the denominators' only year
    flat = be.denominate(x.isel(time=0, drop=True), denominators=d, mapping={"gdp": "pop"})
    np.testing.assert_array_equal(flat.values, [[2.0, 3.0, 8.0], [5.0, 4.0, nan]])


def test_denominate_asem_per_capita() -> None:
    p, spec = be.datasets.load_asem(panel=True)
    out = be.denominate(p, spec)
    den = pn.get_denominators(p)
    assert den is not None
    for code in ("Flights", "Goods", "Bord"):
        d = spec.node(code).denominator
        expected = p.sel(indicator=code) / den.sel(denominator=d).drop_vars("denominator")
        np.testing.assert_array_equal(out.sel(indicator=code).values, expected.values)
    np.testing.assert_array_equal(out.sel(indicator="LPI").values, p.sel(indicator="LPI").values)


# ====================================================================== screen
@pytest.fixture
def spanel() -> xr.DataArray:
    v = np.array(
        [
            [[1, 2, 3, 4], [1, 2, 3, 4]],  # A full
            [[1, nan, nan, 4], [1, 2, 3, nan]],  # B: 2019 half missing, 2020 one missing
            [[nan, nan, nan, 1], [nan, nan, 1, nan]],  # C: fails every year
            [[0, 0, 0, 1], [0, 0, 1, 1]],  # D: zeros
        ]
    )
    return make_panel(v, list("ABCD"), [2019, 2020], list("wxyz"))


def test_screen_by_missing_on_a_panel_blanks_and_drops(spanel: xr.DataArray) -> None:
    with pytest.warns(DataWarning) as rec:
        s = be.screen(spanel, dat_thresh=0.6)
    messages = [str(r.message) for r in rec]
    assert any("units ['C'] dropped" in m for m in messages)
    assert any("1 unit-year(s) blanked" in m for m in messages)
    assert s.dropped == ("C",)
    assert s.data["unit"].values.tolist() == ["A", "B", "D"]
    assert bool(s.data.sel(unit="B", time=2019).isnull().all())
    np.testing.assert_array_equal(s.data.sel(unit="B", time=2020).values, [1, 2, 3, nan])
    np.testing.assert_array_equal(s.data.sel(unit="D").values, spanel.sel(unit="D").values)
    rep = s.report
    assert list(rep.columns) == [
        "N_missing",
        "N_zero",
        "N_miss_or_zero",
        "Dat_Avail",
        "Non_Zero",
        "LowData",
        "LowNonZero",
        "LowDatOrZeroFlag",
        "Included",
    ]
    assert rep.index.names == ["unit", "time"]
    assert rep["N_missing"].tolist() == [0, 0, 2, 1, 3, 3, 0, 0]
    assert rep["N_zero"].tolist() == [0, 0, 0, 0, 0, 0, 3, 2]
    np.testing.assert_allclose(rep["Dat_Avail"], [1, 1, 0.5, 0.75, 0.25, 0.25, 1, 1])
    np.testing.assert_allclose(rep["Non_Zero"], [1, 1, 1, 1, 1, 1, 0.25, 0.5])
    assert rep["Included"].tolist() == [True, True, False, True, False, False, True, True]
    assert s.data.attrs["history"][-1].startswith("screen(dat_thresh=0.6")


def test_screen_by_zeros_and_both_with_forced_units(spanel: xr.DataArray) -> None:
    with pytest.warns(DataWarning, match="1 unit-year"):
        z = be.screen(spanel, nonzero_thresh=0.5, by="zeros", force_include=["C"])
    assert z.dropped == ()
    assert z.report["LowNonZero"].tolist() == [False] * 6 + [True, False]
    assert z.report["Included"].tolist() == [True] * 6 + [False, True]
    assert bool(z.data.sel(unit="D", time=2019).isnull().all())
    with pytest.warns(DataWarning):
        b = be.screen(
            spanel,
            dat_thresh=0.6,
            nonzero_thresh=0.5,
            by="both",
            force_include=["C"],
            force_exclude=["A"],
        )
    assert b.dropped == ("A",)
    assert b.report["LowDatOrZeroFlag"].tolist() == [
        False,
        False,
        True,
        False,
        True,
        True,
        True,
        False,
    ]
    assert b.report["Included"].tolist() == [False, False, False, True, True, True, False, True]
    np.testing.assert_array_equal(b.data.sel(unit="C").values, spanel.sel(unit="C").values)


def test_screen_cross_section_report_is_per_unit(spanel: xr.DataArray) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = be.screen(spanel.sel(time=[2020]), dat_thresh=0.25)
    assert s.report.index.name == "unit" and s.dropped == ()
    assert s.report["Dat_Avail"].tolist() == [1.0, 0.75, 0.25, 1.0]
    with pytest.warns(DataWarning, match=r"\['C'\] dropped"):
        s = be.screen(spanel.sel(time=[2020]))  # default dat_thresh 0.66
    assert s.data["unit"].values.tolist() == ["A", "B", "D"]


def test_impute_em_warns_when_not_converged() -> None:
    panel, _ = be.datasets.load_asem()
    with pytest.warns(be.errors.DataWarning, match=r"did not converge in 3 iterations.*2018"):
        out = be.impute(panel, "em", max_iter=3)
    assert int(out.isnull().sum()) == 0
    # observed cells are returned unchanged
    observed = panel.notnull()
    xr.testing.assert_equal(out.where(observed), panel.where(observed))
