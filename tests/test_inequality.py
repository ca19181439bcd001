"""Inequality and gap measures: reference values (PySAL), an independent implementation,
properties, edge cases, errors, broadcasting and dask laziness."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from brics_ecom import inequality as ineq
from brics_ecom._kernels import inequality as k
from brics_ecom.errors import DataError, InvalidParameterError
from conftest import SHARED

MEXICO = SHARED / "data" / "inequality_reference" / "mexico.csv"
YEARS = [1940, 1950, 1960, 1970, 1980, 1990, 2000]

# /work/shared/data/inequality_reference/README.md (PySAL `inequality` values)
THEIL_T = [0.20894344, 0.15222451, 0.10472941, 0.10194725, 0.09560113, 0.10511256, 0.10660832]
THEIL_BETWEEN_HANSON98 = [
    0.0345889,
    0.02816853,
    0.05260921,
    0.05931219,
    0.03205257,
    0.02963731,
    0.03635872,
]
GINI_1940 = 0.35372371173452849


@pytest.fixture(scope="module")
def mexico() -> xr.DataArray:
    df = pd.read_csv(MEXICO)
    values = df[[f"pcgdp{y}" for y in YEARS]].to_numpy()
    return xr.DataArray(
        values,
        dims=("unit", "time"),
        coords={
            "unit": df["State"].to_numpy(),
            "time": YEARS,
            "hanson98": ("unit", df["hanson98"].astype(int).to_numpy()),
            "esquivel99": ("unit", df["esquivel99"].astype(int).to_numpy()),
        },
        attrs={"source": "PySAL mexico"},
    )


@pytest.fixture(scope="module")
def panel() -> xr.DataArray:
    """A 4-D panel (draw, time, indicator, unit) of positive values with some NaN."""
    rng = np.random.default_rng(42)
    values = rng.lognormal(3.0, 0.8, size=(3, 4, 2, 12))
    values[0, 1, 0, 3] = np.nan
    values[2, 3, 1, :5] = np.nan
    return xr.DataArray(
        values,
        dims=("draw", "time", "indicator", "unit"),
        coords={
            "draw": [0, 1, 2],
            "time": [2018, 2019, 2020, 2021],
            "indicator": ["internet", "account"],
            "unit": [f"U{i:02d}" for i in range(12)],
            "region": ("unit", list("aaabbbbccccc")),
        },
    )


def series(values, unit=None) -> xr.DataArray:
    values = np.asarray(values, dtype=float)
    unit = unit if unit is not None else [f"U{i}" for i in range(values.size)]
    return xr.DataArray(values, dims="unit", coords={"unit": unit})


# --------------------------------------------------------------------------------------
# reference values
# --------------------------------------------------------------------------------------


def test_gini_mexico_1940(mexico: xr.DataArray) -> None:
    g = ineq.gini(mexico.sel(time=1940))
    assert abs(float(g) - GINI_1940) < 1e-8
    assert abs(float(ineq.gini(mexico).sel(time=1940)) - GINI_1940) < 1e-8


def test_theil_mexico_per_decade(mexico: xr.DataArray) -> None:
    t = ineq.theil(mexico)
    assert t.dims == ("time",)
    np.testing.assert_allclose(t.values, THEIL_T, rtol=0, atol=1e-8)


def test_theil_decomposition_mexico_hanson98(mexico: xr.DataArray) -> None:
    out = ineq.theil_decomposition(mexico, "hanson98")
    np.testing.assert_allclose(out["between"].values, THEIL_BETWEEN_HANSON98, rtol=0, atol=1e-8)
    np.testing.assert_allclose(out["total"].values, THEIL_T, rtol=0, atol=1e-8)
    np.testing.assert_allclose(
        out["within"].values, np.array(THEIL_T) - THEIL_BETWEEN_HANSON98, rtol=0, atol=2e-8
    )
    np.testing.assert_allclose(
        (out["between"] + out["within"]).values, out["total"].values, rtol=1e-13, atol=1e-15
    )
    assert out["group"].values.tolist() == [1, 2, 3, 4, 5]
    np.testing.assert_allclose(out["population_share"].sum("group"), 1.0, rtol=1e-14)
    np.testing.assert_allclose(out["value_share"].sum("group"), 1.0, rtol=1e-14)
    np.testing.assert_allclose(out["within_contribution"].sum("group"), out["within"], 1e-14)


@pytest.mark.parametrize(
    ("epsilon", "a_ref", "a_digits", "ede_ref", "ede_digits"),
    [(0.5, 0.06315, 5, 28.1054, 4), (1.0, 0.13161, 5, 26.05171, 5)],
)
def test_atkinson_pysal_docstring(epsilon, a_ref, a_digits, ede_ref, ede_digits) -> None:
    y = series([10, 20, 30, 40, 50])
    assert round(float(ineq.atkinson(y, epsilon)), a_digits) == a_ref
    assert round(float(ineq.ede(y, epsilon)), ede_digits) == ede_ref


def test_closed_forms() -> None:
    y = series([1.0, 2.0, 3.0])
    # G = sum|yi - yj| / (2 n^2 mu) = 8 / (2 * 9 * 2)
    assert float(ineq.gini(y)) == pytest.approx(8 / 36, abs=1e-15)
    t = (0.5 * np.log(0.5) + 1.5 * np.log(1.5)) / 3
    assert float(ineq.theil(y)) == pytest.approx(t, abs=1e-15)
    assert float(ineq.mean_log_deviation(y)) == pytest.approx(np.log(2) - np.log(6) / 3, 1e-14)
    assert float(ineq.atkinson(y, 1)) == pytest.approx(1 - 6 ** (1 / 3) / 2, 1e-14)
    assert float(ineq.atkinson(y, 2)) == pytest.approx(1 - (3 / (1 + 1 / 2 + 1 / 3)) / 2, 1e-14)
    assert float(ineq.atkinson(y, 0)) == 0.0
    assert float(ineq.coefficient_of_variation(y)) == pytest.approx(np.sqrt(2 / 3) / 2, 1e-14)
    assert float(ineq.coefficient_of_variation(y, ddof=1)) == pytest.approx(0.5, 1e-14)
    # GE(2) = CV^2 / 2 is what ddof=0 gives; the sample sd matches numpy's ddof=1
    z = series([3.0, 7.0, 1.0, 9.0])
    assert float(ineq.coefficient_of_variation(z, ddof=1)) == pytest.approx(
        np.std(z.values, ddof=1) / z.values.mean(), 1e-14
    )


# --------------------------------------------------------------------------------------
# independent implementation: PySAL's `inequality` package (test-only dependency)
# --------------------------------------------------------------------------------------

try:  # the `inequality` package of the `test` extra; only these cross-checks need it
    from inequality.atkinson import Atkinson as PysalAtkinson
    from inequality.gini import Gini as PysalGini
    from inequality.theil import Theil as PysalTheil
    from inequality.theil import TheilD as PysalTheilD
except ImportError:  # pragma: no cover - the reference values above still run
    PysalAtkinson = PysalGini = PysalTheil = PysalTheilD = None

needs_pysal = pytest.mark.skipif(PysalGini is None, reason="needs PyPI 'inequality' (PySAL)")

positive = hnp.arrays(
    np.float64,
    st.integers(2, 40),
    elements=st.floats(0.01, 1e5, allow_nan=False, allow_infinity=False),
)


@needs_pysal
@settings(max_examples=60, deadline=None)
@given(positive)
def test_gini_theil_match_pysal(y: np.ndarray) -> None:
    x = series(y)
    assert float(ineq.gini(x)) == pytest.approx(PysalGini(y).g, rel=1e-9, abs=1e-12)
    assert float(ineq.theil(x)) == pytest.approx(float(PysalTheil(y).T), rel=1e-9, abs=1e-12)


@needs_pysal
@settings(max_examples=40, deadline=None)
@given(positive, st.sampled_from([0.25, 0.5, 1.0, 1.5, 2.0, 3.0]))
def test_atkinson_ede_match_pysal(y: np.ndarray, epsilon: float) -> None:
    ref = PysalAtkinson(y, epsilon)
    x = series(y)
    assert float(ineq.atkinson(x, epsilon)) == pytest.approx(float(ref.A), rel=1e-9, abs=1e-12)
    assert float(ineq.ede(x, epsilon)) == pytest.approx(float(ref.EDE), rel=1e-9)


@needs_pysal
@settings(max_examples=40, deadline=None)
@given(positive, st.data())
def test_theil_between_matches_pysal(y: np.ndarray, data: st.DataObject) -> None:
    groups = np.asarray(data.draw(st.lists(st.integers(0, 3), min_size=y.size, max_size=y.size)))
    x = series(y)
    labels = xr.DataArray(groups, dims="unit", coords={"unit": x["unit"]})
    out = ineq.theil_decomposition(x, labels)
    ref = PysalTheilD(y, groups)
    assert float(out["between"]) == pytest.approx(float(ref.bg[0]), rel=1e-8, abs=1e-12)
    assert float(out["total"]) == pytest.approx(float(ref.T), rel=1e-9, abs=1e-12)


@needs_pysal
@settings(max_examples=40, deadline=None)
@given(positive, st.data())
def test_weighted_gini_matches_pysal_on_replicated_units(y, data) -> None:
    w = np.asarray(data.draw(st.lists(st.integers(0, 4), min_size=y.size, max_size=y.size)))
    if w.sum() < 2:
        w[:2] = 1
    x = series(y)
    weights = xr.DataArray(w.astype(float), dims="unit", coords={"unit": x["unit"]})
    replicated = np.repeat(y, w)
    assert float(ineq.gini(x, weights=weights)) == pytest.approx(
        PysalGini(replicated).g, rel=1e-9, abs=1e-12
    )
    assert float(ineq.theil(x, weights=weights)) == pytest.approx(
        float(PysalTheil(replicated).T), rel=1e-9, abs=1e-12
    )


# --------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------

non_negative = hnp.arrays(
    np.float64,
    st.integers(2, 30),
    elements=st.one_of(st.just(0.0), st.floats(0.001, 1e4)),
).filter(lambda a: a.sum() > 0)

MEASURES = {
    "gini": lambda x, **kw: ineq.gini(x, **kw),
    "theil_T": lambda x, **kw: ineq.theil(x, **kw),
    "theil_L": lambda x, **kw: ineq.theil(x, index="L", **kw),
    "mld": lambda x, **kw: ineq.mean_log_deviation(x, **kw),
    "atkinson_0.5": lambda x, **kw: ineq.atkinson(x, 0.5, **kw),
    "atkinson_1": lambda x, **kw: ineq.atkinson(x, 1.0, **kw),
    "atkinson_2": lambda x, **kw: ineq.atkinson(x, 2.0, **kw),
    "cv": lambda x, **kw: ineq.coefficient_of_variation(x, **kw),
    "s80s20": lambda x, **kw: ineq.ratio_top_bottom(x, **kw),
    "palma": lambda x, **kw: ineq.ratio_top_bottom(x, top=0.1, bottom=0.4, method="share", **kw),
    "p90p10": lambda x, **kw: ineq.ratio_top_bottom(x, top=0.1, method="quantile", **kw),
}


@settings(max_examples=30, deadline=None)
@given(positive, st.floats(0.001, 1000.0))
def test_scale_invariance(y: np.ndarray, c: float) -> None:
    x = series(y)
    for name, f in MEASURES.items():
        a, b = float(f(x)), float(f(x * c))
        assert b == pytest.approx(a, rel=1e-9, abs=1e-12), name
    assert float(ineq.ede(x * c, 0.5)) == pytest.approx(c * float(ineq.ede(x, 0.5)), rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(non_negative)
def test_gini_in_unit_interval(y: np.ndarray) -> None:
    g = float(ineq.gini(series(y)))
    assert g + 1e-12 >= 0.0
    assert g < 1.0
    assert g <= 1 - 1 / y.size + 1e-12


@settings(max_examples=40, deadline=None)
@given(non_negative, st.data(), st.sampled_from(["T", "L"]))
def test_theil_between_plus_within_is_total(y, data, index) -> None:
    if index == "L":
        y = y + 0.5
    groups = data.draw(st.lists(st.sampled_from("abc"), min_size=y.size, max_size=y.size))
    x = series(y)
    w = data.draw(hnp.arrays(np.float64, y.size, elements=st.floats(0.1, 100.0)))
    weights = xr.DataArray(w, dims="unit", coords={"unit": x["unit"]})
    labels = dict(zip(x["unit"].values.tolist(), groups, strict=True))
    for wt in (None, weights):
        out = ineq.theil_decomposition(x, labels, index=index, weights=wt)
        total = float(out["total"])
        assert float(out["between"]) + float(out["within"]) == pytest.approx(
            total, rel=1e-12, abs=1e-14
        )
        assert total == pytest.approx(float(ineq.theil(x, index=index, weights=wt)), 1e-12, 1e-14)
        assert float(out["between"]) >= -1e-15
        assert float(out["within"]) >= -1e-15


@settings(max_examples=40, deadline=None)
@given(positive, st.data())
def test_integer_weights_equal_replicated_units(y: np.ndarray, data: st.DataObject) -> None:
    w = np.asarray(data.draw(st.lists(st.integers(0, 3), min_size=y.size, max_size=y.size)))
    if w.sum() < 2:
        w[:2] = 1
    x = series(y)
    weights = xr.DataArray(w.astype(float), dims="unit", coords={"unit": x["unit"]})
    rep = series(np.repeat(y, w))
    for name, f in MEASURES.items():
        a, b = float(f(x, weights=weights)), float(f(rep))
        assert a == pytest.approx(b, rel=1e-9, abs=1e-12), name
    for q in (0.1, 0.25, 0.5, 0.9):
        assert k.quantile(y, q, weights=w).item() == pytest.approx(
            np.quantile(np.repeat(y, w), q, method="averaged_inverted_cdf"), rel=1e-12
        )
    # Lorenz: the weighted curve's points lie on the replicated curve
    cw = ineq.lorenz(x, weights=weights)
    cr = ineq.lorenz(rep)
    pw, lw = cw["population"].values, cw["share"].values
    ok = ~np.isnan(pw)
    np.testing.assert_allclose(
        np.interp(pw[ok], cr["population"].values, cr["share"].values), lw[ok], atol=1e-12
    )


def test_weights_of_one_equal_unweighted(panel: xr.DataArray) -> None:
    ones = xr.DataArray(np.ones(12), dims="unit", coords={"unit": panel["unit"]})
    for f in MEASURES.values():
        xr.testing.assert_allclose(f(panel, weights=ones), f(panel), rtol=1e-12)


def test_quantile_unweighted_is_type_2() -> None:
    rng = np.random.default_rng(5)
    y = rng.lognormal(size=(4, 17))
    y[1, :3] = np.nan
    for q in (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0):
        np.testing.assert_allclose(
            k.quantile(y, q),
            np.nanquantile(y, q, axis=-1, method="averaged_inverted_cdf"),
            rtol=1e-14,
        )


# --------------------------------------------------------------------------------------
# ratio_top_bottom, lorenz
# --------------------------------------------------------------------------------------


def test_ratio_top_bottom_values() -> None:
    x = series([1.0, 2.0, 3.0, 4.0, 10.0])
    assert float(ineq.ratio_top_bottom(x)) == 10.0
    assert float(ineq.ratio_top_bottom(x, top=0.4)) == pytest.approx(14 / 3, 1e-14)
    assert float(ineq.ratio_top_bottom(x, top=0.2, bottom=0.4)) == pytest.approx(10 / 1.5, 1e-14)
    assert float(ineq.ratio_top_bottom(x, top=0.2, bottom=0.4, method="share")) == pytest.approx(
        10 / 3, 1e-14
    )
    # 7 units, bottom 20 % = 1.4 units: the lowest + 40 % of the second
    y = series([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
    bottom = (1 + 0.4 * 2) / 1.4
    top = (7 + 0.4 * 6) / 1.4
    assert float(ineq.ratio_top_bottom(y)) == pytest.approx(top / bottom, 1e-14)
    # p90 / p10 with numpy's type-2 quantile
    z = np.arange(1.0, 21.0)
    ref = np.quantile(z, 0.9, method="averaged_inverted_cdf") / np.quantile(
        z, 0.1, method="averaged_inverted_cdf"
    )
    assert float(ineq.ratio_top_bottom(series(z), top=0.1, method="quantile")) == pytest.approx(
        ref, 1e-14
    )
    # a zero bottom gives inf
    with np.errstate(divide="raise"):
        assert np.isinf(float(ineq.ratio_top_bottom(series([0.0, 1.0, 2.0, 3.0, 4.0]))))


def test_lorenz_curve() -> None:
    out = ineq.lorenz(series([3.0, 1.0, 4.0, np.nan]))
    assert out["population"].dims == ("point",)
    np.testing.assert_allclose(out["population"].values, [0, 1 / 3, 2 / 3, 1, np.nan])
    np.testing.assert_allclose(out["share"].values, [0, 1 / 8, 4 / 8, 1, np.nan])
    w = series([1.0, 3.0, 0.0, 1.0])
    out = ineq.lorenz(series([3.0, 1.0, 4.0, 2.0]), weights=w)
    # sorted by value: 1 (w 3), 2 (w 1), 3 (w 1); unit with weight 0 left out
    np.testing.assert_allclose(out["population"].values, [0, 0.6, 0.8, 1.0, np.nan])
    np.testing.assert_allclose(out["share"].values, [0, 3 / 8, 5 / 8, 1.0, np.nan])


def test_lorenz_area_gives_gini(panel: xr.DataArray) -> None:
    curve = ineq.lorenz(panel)
    p = curve["population"].fillna(1.0)
    s = curve["share"].fillna(1.0)
    area = ((p.diff("point")) * (s + s.shift(point=1)).isel(point=slice(1, None)) / 2).sum("point")
    xr.testing.assert_allclose(1 - 2 * area, ineq.gini(panel), rtol=1e-12)


# --------------------------------------------------------------------------------------
# decomposition: groups
# --------------------------------------------------------------------------------------


def test_decomposition_group_forms(panel: xr.DataArray) -> None:
    by_coord = ineq.theil_decomposition(panel, "region")
    units = panel["unit"].values.tolist()
    regions = panel["region"].values.tolist()
    by_map = ineq.theil_decomposition(panel, dict(zip(units, regions, strict=True)))
    listed = {"a": units[:3], "b": units[3:7]}
    by_lists = ineq.theil_decomposition(panel, listed, rest="c")
    xr.testing.assert_allclose(by_coord, by_map)
    xr.testing.assert_allclose(by_coord, by_lists)
    assert by_coord["total"].dims == ("draw", "time", "indicator")
    assert by_coord["group_index"].dims == ("draw", "time", "indicator", "group")
    assert by_coord["group"].values.tolist() == ["a", "b", "c"]


def test_decomposition_brics_vs_rest_and_singleton() -> None:
    x = series([40.0, 70.0, 55.0, 90.0, 85.0, 95.0], ["BRA", "RUS", "IND", "DEU", "FRA", "USA"])
    out = ineq.theil_decomposition(x, {"BRICS": ["BRA", "RUS", "IND"]}, rest="rest")
    assert out["group"].values.tolist() == ["BRICS", "rest"]
    single = ineq.theil_decomposition(x, {"solo": ["USA"]}, rest="others")
    # a one-unit group has no within-group inequality: index 0, contribution 0
    assert float(single["group_index"].sel(group="solo")) == 0.0
    assert float(single["within_contribution"].sel(group="solo")) == 0.0
    others = x.drop_sel(unit="USA")
    s_others = float(others.sum() / x.sum())
    assert float(single["within"]) == pytest.approx(s_others * float(ineq.theil(others)), 1e-13)


def test_decomposition_time_varying_groups() -> None:
    """Membership that changes by year (e.g. a country joining BRICS)."""
    x = xr.DataArray(
        [[40.0, 42.0], [70.0, 71.0], [90.0, 60.0], [95.0, 96.0]],
        dims=("unit", "time"),
        coords={"unit": ["BRA", "IND", "EGY", "DEU"], "time": [2023, 2024]},
    )
    member = xr.DataArray(
        [["in", "in"], ["in", "in"], ["out", "in"], ["out", "out"]],
        dims=("unit", "time"),
        coords={"unit": x["unit"], "time": x["time"]},
    )
    out = ineq.theil_decomposition(x, member)
    for year in (2023, 2024):
        labels = member.sel(time=year, drop=True)
        one = ineq.theil_decomposition(x.sel(time=year, drop=True), labels)
        xr.testing.assert_allclose(out.sel(time=year, drop=True), one)
    assert float(out["population_share"].sel(time=2024, group="in")) == 0.75


def test_decomposition_empty_group_in_a_slice() -> None:
    x = xr.DataArray(
        [[1.0, 2.0], [np.nan, 3.0], [4.0, 5.0]],
        dims=("unit", "time"),
        coords={"unit": list("ABC"), "time": [1, 2], "g": ("unit", list("xyx"))},
    )
    out = ineq.theil_decomposition(x, "g")
    first = out.sel(time=1)
    assert float(first["population_share"].sel(group="y")) == 0.0
    assert np.isnan(float(first["group_index"].sel(group="y")))
    assert float(first["between"]) == 0.0
    assert float(first["total"]) == pytest.approx(float(first["within"]), 1e-15)


def test_decomposition_errors(panel: xr.DataArray) -> None:
    with pytest.raises(InvalidParameterError, match=r"'nope'.*region"):
        ineq.theil_decomposition(panel, "nope")
    with pytest.raises(InvalidParameterError, match="no group for units"):
        ineq.theil_decomposition(panel, {"a": ["U00"]})
    with pytest.raises(InvalidParameterError, match="not in the data"):
        ineq.theil_decomposition(panel, {"a": ["XXX"]}, rest="r")
    with pytest.raises(InvalidParameterError, match="two groups"):
        ineq.theil_decomposition(panel, {"a": ["U00"], "b": ["U00"]}, rest="r")
    labels = xr.DataArray(
        np.array(["a"] * 11 + [None], dtype=object), dims="unit", coords={"unit": panel["unit"]}
    )
    with pytest.raises(DataError, match="U11"):
        ineq.theil_decomposition(panel, labels)


# --------------------------------------------------------------------------------------
# domain errors, missing data, edge cases
# --------------------------------------------------------------------------------------


def labelled_panel() -> xr.DataArray:
    values = np.array([[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], [[1.0, 2.0, 3.0], [4.0, 0.0, 6.0]]])
    return xr.DataArray(
        values,
        dims=("time", "indicator", "unit"),
        coords={
            "time": [2020, 2021],
            "indicator": ["internet", "servers"],
            "unit": ["BRA", "CHN", "IND"],
        },
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda x: ineq.theil(x, index="L"),
        lambda x: ineq.mean_log_deviation(x),
        lambda x: ineq.atkinson(x, 1.0),
        lambda x: ineq.atkinson(x, 2.5),
        lambda x: ineq.ede(x, 1.0),
        lambda x: ineq.log_ratio(x, x + 1),
        lambda x: ineq.parity(x + 1, x),
    ],
    ids=["theil_L", "mld", "atkinson_1", "atkinson_2.5", "ede_1", "log_ratio", "parity"],
)
def test_zero_values_rejected_naming_the_cell(call) -> None:
    x = labelled_panel()
    with pytest.raises(DataError) as info:
        call(x)
    msg = str(info.value)
    for label in ("'CHN'", "2021", "'servers'", "≤ 0"):
        assert label in msg


@pytest.mark.parametrize(
    "call",
    [
        ineq.gini,
        ineq.theil,
        lambda x: ineq.atkinson(x, 0.5),
        ineq.ratio_top_bottom,
        ineq.lorenz,
        lambda x: ineq.theil_decomposition(x, {"g": ["BRA"]}, rest="r"),
    ],
    ids=["gini", "theil_T", "atkinson_0.5", "ratio", "lorenz", "decomposition"],
)
def test_negative_values_rejected_zeros_allowed(call) -> None:
    x = labelled_panel()
    call(x)  # zeros are fine for these measures
    with pytest.raises(DataError) as info:
        call(x.where(x != 0, -1.0))
    assert "negative values at [{'time': 2021, 'indicator': 'servers', 'unit': 'CHN'}]" in str(
        info.value
    )


def test_zeros_in_theil_t_use_the_limit() -> None:
    # 0 ln 0 = 0: T of [0, 0, 1] is ln 3 (all in one unit), the maximum for n = 3
    assert float(ineq.theil(series([0.0, 0.0, 1.0]))) == pytest.approx(np.log(3), 1e-15)
    assert float(ineq.atkinson(series([0.0, 0.0, 1.0]), 0.5)) == pytest.approx(1 - 1 / 3, 1e-14)


def test_all_missing_slices_give_nan_silently() -> None:
    x = labelled_panel() + 1.0
    x[0, 1, :] = np.nan
    funcs = [
        *MEASURES.values(),
        lambda v, **kw: ineq.ede(v, 0.5, **kw),
        lambda v, **kw: ineq.theil_decomposition(v, {"a": ["BRA"]}, rest="b")["between"],
        lambda v, **kw: ineq.lorenz(v)["share"].isel(point=0),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for f in funcs:
            out = f(x)
            assert np.isnan(float(out.sel(time=2020, indicator="servers")))
            assert not np.isnan(float(out.sel(time=2021, indicator="internet")))
        gap = ineq.gap_to_frontier(x)
        assert bool(gap.sel(time=2020, indicator="servers").isnull().all())
        assert np.isnan(
            float(ineq.catch_up_rate(x.isel(unit=0), method="ols").sel(indicator="servers"))
        )


def test_skipna_false(panel: xr.DataArray) -> None:
    for name, f in MEASURES.items():
        a, b = f(panel), f(panel, skipna=False)
        holes = panel.isnull().any("unit")
        assert bool(b.where(holes).isnull().all()), name
        xr.testing.assert_allclose(a.where(~holes), b.where(~holes))


def test_single_unit_and_constant_slices() -> None:
    one = series([5.0, np.nan, np.nan])
    assert float(ineq.gini(one)) == 0.0
    assert float(ineq.theil(one)) == 0.0
    assert float(ineq.atkinson(one, 2.0)) == pytest.approx(0.0, abs=1e-15)
    assert float(ineq.coefficient_of_variation(one)) == 0.0
    assert np.isnan(float(ineq.coefficient_of_variation(one, ddof=1)))  # documented NaN
    flat = series([3.0, 3.0, 3.0, 3.0])
    for name, f in MEASURES.items():
        expected = 1.0 if name in ("s80s20", "palma", "p90p10") else 0.0
        if name == "palma":
            expected = 0.25
        assert float(f(flat)) == pytest.approx(expected, abs=1e-15), name
    zeros = series([0.0, 0.0, 0.0])
    assert np.isnan(float(ineq.gini(zeros)))  # mean 0: undefined (documented)


def test_parameter_errors(panel: xr.DataArray) -> None:
    with pytest.raises(InvalidParameterError, match="'dim' parameter of gini"):
        ineq.gini(panel, dim="country")
    with pytest.raises(InvalidParameterError, match="DataArray"):
        ineq.gini(panel.values)
    with pytest.raises(InvalidParameterError, match="'epsilon'"):
        ineq.atkinson(panel, -0.5)
    with pytest.raises(InvalidParameterError, match="'index'"):
        ineq.theil(panel, index="X")
    with pytest.raises(InvalidParameterError, match="'top'"):
        ineq.ratio_top_bottom(panel, top=1.0)
    with pytest.raises(InvalidParameterError, match="overlap"):
        ineq.ratio_top_bottom(panel, top=0.6, bottom=0.5)
    with pytest.raises(InvalidParameterError, match="'ddof'"):
        ineq.coefficient_of_variation(panel, ddof=2)
    w = xr.DataArray(np.ones(12), dims="unit", coords={"unit": panel["unit"]})
    with pytest.raises(InvalidParameterError, match="unweighted"):
        ineq.coefficient_of_variation(panel, ddof=1, weights=w)
    with pytest.raises(InvalidParameterError, match="U03"):
        ineq.gini(panel, weights=w.where(w.unit != "U03", -1.0))
    with pytest.raises(InvalidParameterError, match=r"no value for units \['U11'\]"):
        ineq.gini(panel, weights=w.isel(unit=slice(0, 11)))
    with pytest.raises(InvalidParameterError, match="'skipna'"):
        ineq.gini(panel, skipna="yes")
    with pytest.raises(DataError, match="infinite"):
        ineq.gini(panel.where(panel.unit != "U01", np.inf))


def test_weights_forms_and_extra_dims(panel: xr.DataArray) -> None:
    rng = np.random.default_rng(1)
    pop = rng.uniform(1, 100, 12)
    w = xr.DataArray(pop, dims="unit", coords={"unit": panel["unit"]})
    ref = ineq.gini(panel, weights=w)
    # a Series, a mapping and a DataArray with extra units in another order agree
    s = pd.Series(pop, index=panel["unit"].values)
    xr.testing.assert_allclose(ineq.gini(panel, weights=s), ref)
    xr.testing.assert_allclose(ineq.gini(panel, weights=s.to_dict()), ref)
    extra = xr.concat(
        [w, xr.DataArray([5.0], dims="unit", coords={"unit": ["ZZZ"]})], dim="unit"
    ).isel(unit=slice(None, None, -1))
    xr.testing.assert_allclose(ineq.gini(panel, weights=extra), ref)
    # weights over time (population changing by year) and over a new dim (scenarios)
    wt = xr.DataArray(
        rng.uniform(1, 100, (4, 12)),
        dims=("time", "unit"),
        coords={"time": panel["time"], "unit": panel["unit"]},
    )
    out = ineq.theil(panel, weights=wt)
    one = ineq.theil(panel.sel(time=2019), weights=wt.sel(time=2019))
    xr.testing.assert_allclose(out.sel(time=2019), one)
    ws = xr.DataArray(
        rng.uniform(1, 100, (2, 12)),
        dims=("scenario", "unit"),
        coords={"scenario": ["low", "high"], "unit": panel["unit"]},
    )
    out = ineq.atkinson(panel, 1.0, weights=ws)
    assert set(out.dims) == {"draw", "time", "indicator", "scenario"}
    xr.testing.assert_allclose(
        out.sel(scenario="high", drop=True),
        ineq.atkinson(panel, 1.0, weights=ws.sel(scenario="high", drop=True)),
    )
    # units with NaN or zero weight are left out
    nan_w = w.where(w.unit != "U05")
    xr.testing.assert_allclose(
        ineq.gini(panel, weights=nan_w), ineq.gini(panel.drop_sel(unit="U05"), weights=w)
    )


# --------------------------------------------------------------------------------------
# broadcasting, dask, no mutation
# --------------------------------------------------------------------------------------


def test_broadcasts_over_leading_dims(panel: xr.DataArray) -> None:
    for name, f in MEASURES.items():
        out = f(panel)
        assert out.dims == ("draw", "time", "indicator"), name
        for sel in (
            {"draw": 0, "time": 2019, "indicator": "internet"},
            {"draw": 2, "time": 2021, "indicator": "account"},
        ):
            one = f(panel.sel(sel).dropna("unit"))
            assert float(out.sel(sel)) == pytest.approx(float(one), rel=1e-12), name


def test_kernels_axis_and_weight_broadcast() -> None:
    rng = np.random.default_rng(3)
    x = rng.lognormal(size=(5, 7, 3))  # units on axis 1
    g = k.gini(x, axis=1)
    np.testing.assert_allclose(g, k.gini(np.moveaxis(x, 1, -1)), rtol=1e-14)
    pooled = k.theil(x, axis=(0, 1))
    np.testing.assert_allclose(pooled, k.theil(x.reshape(35, 3).T), rtol=1e-13)
    w = rng.uniform(1, 2, size=(4, 1, 1, 3))  # one weight set per draw, extra leading axis
    out = k.atkinson(x, 1.0, weights=w, axis=-1)
    assert out.shape == (4, 5, 7)
    np.testing.assert_allclose(out[2], k.atkinson(x, 1.0, weights=w[2, 0, 0]), rtol=1e-13)


DASK_CASES = {
    **MEASURES,
    "ede": lambda x: ineq.ede(x, 1.5),
    "decomposition": lambda x: ineq.theil_decomposition(x, "region"),
    "decomposition_L": lambda x: ineq.theil_decomposition(x, "region", index="L"),
    "lorenz": lambda x: ineq.lorenz(x),
    "gap_to_frontier": lambda x: ineq.gap_to_frontier(x, direction={"account": -1}),
    "gap_to_frontier_fixed": lambda x: ineq.gap_to_frontier(x, frontier=100.0, kind="relative"),
    "gap_to_group": lambda x: ineq.gap_to_group(x, {"region": "a"}, stat="median"),
    "gap_to_target": lambda x: ineq.gap_to_target(x, {"internet": 80.0, "account": 90.0}),
    "relative_gap": lambda x: ineq.relative_gap(x, x.sel(unit="U00", drop=True)),
    "catch_up_rate": lambda x: ineq.catch_up_rate(ineq.gap_to_frontier(x)),
    "catch_up_rate_endpoints": lambda x: ineq.catch_up_rate(x, method="endpoints"),
    "years_to_close": lambda x: ineq.years_to_close(ineq.gap_to_frontier(x)),
    "parity": lambda x: ineq.parity(x.sel(indicator="internet"), x.sel(indicator="account")),
    "log_ratio": lambda x: ineq.log_ratio(x.sel(indicator="internet"), x.sel(indicator="account")),
}


@pytest.mark.parametrize("name", list(DASK_CASES))
def test_dask_lazy_equals_numpy(panel: xr.DataArray, name: str) -> None:
    pytest.importorskip("dask.array")
    f = DASK_CASES[name]
    weighted = name in MEASURES
    w = xr.DataArray(np.arange(1.0, 13.0), dims="unit", coords={"unit": panel["unit"]})
    for chunks in ({"draw": 1}, {"unit": 5, "time": 2}):
        lazy_in = panel.chunk(chunks)
        lazy = f(lazy_in, weights=w.chunk({"unit": 4})) if weighted else f(lazy_in)
        eager = f(panel, weights=w) if weighted else f(panel)
        arrays = lazy.data_vars.values() if isinstance(lazy, xr.Dataset) else [lazy]
        assert all(a.chunks is not None for a in arrays), "computed eagerly"
        xr.testing.assert_allclose(lazy.compute(), eager, rtol=1e-13, atol=1e-15)


def test_inputs_not_mutated(panel: xr.DataArray) -> None:
    x = panel.copy(deep=True)
    x.attrs = {"source": "test"}
    w = xr.DataArray(np.arange(1.0, 13.0), dims="unit", coords={"unit": panel["unit"]})
    x0, w0 = x.copy(deep=True), w.copy(deep=True)
    attrs0 = copy.deepcopy(x.attrs)
    for f in MEASURES.values():
        f(x, weights=w)
    ineq.theil_decomposition(x, "region", weights=w)
    ineq.lorenz(x, weights=w)
    ineq.gap_to_group(x, ["U01", "U02"], weights=w)
    ineq.gap_to_frontier(x)
    ineq.years_to_close(ineq.gap_to_frontier(x))
    xr.testing.assert_identical(x, x0)
    xr.testing.assert_identical(w, w0)
    assert x.attrs == attrs0
    raw = x.values.copy()
    k.gini(x.values, weights=w.values)
    k.theil_groups(x.values, np.arange(12) % 3, 3)
    np.testing.assert_array_equal(x.values, raw)


def test_history_and_name(mexico: xr.DataArray) -> None:
    out = ineq.gini(mexico)
    assert out.name == "gini"
    assert out.attrs["history"][-1].startswith("gini(")


# --------------------------------------------------------------------------------------
# gaps
# --------------------------------------------------------------------------------------


def gap_panel() -> xr.DataArray:
    return xr.DataArray(
        [[[40.0, 10.0], [50.0, 8.0]], [[70.0, 4.0], [75.0, 3.0]], [[90.0, 2.0], [95.0, 2.0]]],
        dims=("unit", "time", "indicator"),
        coords={
            "unit": ["IND", "BRA", "DEU"],
            "time": [2020, 2021],
            "indicator": ["internet", "cost"],
            "brics": ("unit", [True, True, False]),
        },
    )


def test_gap_to_frontier() -> None:
    x = gap_panel()
    g = ineq.gap_to_frontier(x, direction={"internet": 1, "cost": -1})
    assert g.dims == x.dims
    assert g.sel(time=2020, indicator="internet").values.tolist() == [50.0, 20.0, 0.0]
    assert g.sel(time=2020, indicator="cost").values.tolist() == [8.0, 2.0, 0.0]
    rel = ineq.gap_to_frontier(x, direction={"cost": -1}, kind="relative")
    np.testing.assert_allclose(rel.sel(time=2021, indicator="cost").values, [3.0, 0.5, 0.0])
    fixed = ineq.gap_to_frontier(x.sel(indicator="internet"), frontier=100.0)
    assert fixed.sel(time=2021).values.tolist() == [50.0, 25.0, 5.0]
    assert "brics" in g.coords  # coordinates kept


def test_gap_to_group() -> None:
    x = gap_panel().sel(indicator="internet")
    g = ineq.gap_to_group(x, "brics")  # boolean coordinate
    assert g.sel(time=2020).values.tolist() == [15.0, -15.0, -35.0]
    xr.testing.assert_equal(g, ineq.gap_to_group(x, ["IND", "BRA"]))
    xr.testing.assert_equal(g, ineq.gap_to_group(x, {"brics": True}))
    xr.testing.assert_equal(g, ineq.gap_to_group(x, x["brics"]))
    # weighted mean: population IND 1400, BRA 200
    w = xr.DataArray([1400.0, 200.0, 80.0], dims="unit", coords={"unit": x["unit"]})
    gw = ineq.gap_to_group(x, "brics", weights=w)
    ref = (1400 * 40 + 200 * 70) / 1600
    np.testing.assert_allclose(gw.sel(time=2020).values, [ref - 40, ref - 70, ref - 90])
    med = ineq.gap_to_group(x, ["IND", "BRA", "DEU"], stat="median", kind="relative")
    np.testing.assert_allclose(med.sel(time=2020).values, [30 / 70, 0.0, -20 / 70])
    # a one-unit group: the gap to that unit, 0 for itself
    solo = ineq.gap_to_group(x, "DEU")
    assert solo.sel(time=2021).values.tolist() == [45.0, 20.0, 0.0]
    with pytest.raises(InvalidParameterError, match="selects no unit"):
        ineq.gap_to_group(x, x["brics"] & False)
    with pytest.raises(InvalidParameterError, match=r"\['XXX'\]"):
        ineq.gap_to_group(x, ["IND", "XXX"])
    # a group with no data in a slice: NaN
    holes = x.where(~((x.unit != "DEU") & (x.time == 2021)))
    assert bool(ineq.gap_to_group(holes, "brics").sel(time=2021).isnull().all())


def test_gap_to_target_relative_gap_parity_log_ratio() -> None:
    x = gap_panel()
    g = ineq.gap_to_target(x, {"internet": 80.0, "cost": 2.0}, direction={"cost": -1})
    assert g.sel(time=2020, indicator="internet").values.tolist() == [40.0, 10.0, -10.0]
    assert g.sel(time=2020, indicator="cost").values.tolist() == [8.0, 2.0, 0.0]
    rel = ineq.relative_gap(x.sel(indicator="internet"), 80.0)
    np.testing.assert_allclose(rel.sel(time=2020).values, [0.5, 0.125, -0.125])
    assert np.isnan(ineq.relative_gap(x, 0.0).values).all()
    female = x.sel(indicator="internet", drop=True)
    male = female + xr.DataArray([15.0, 1.0, 0.0], dims="unit", coords={"unit": x["unit"]})
    p = ineq.parity(female, male)
    np.testing.assert_allclose(p.sel(time=2020).values, [40 / 55, 70 / 71, 1.0])
    lo, hi = ineq.ITU_PARITY_RANGE
    assert (lo, hi) == (0.98, 1.02)
    assert ((p >= lo) & (p <= hi)).sel(time=2020).values.tolist() == [False, True, True]
    np.testing.assert_allclose(ineq.log_ratio(female, male), np.log(female / male), rtol=1e-15)
    with pytest.raises(InvalidParameterError, match="same labels"):
        ineq.parity(female, male.assign_coords(unit=["IND", "BRA", "FRA"]))


def test_catch_up_rate_and_years_to_close() -> None:
    years = [2015, 2016, 2018, 2019, 2021]
    gaps = np.array(
        [
            [10.0, 9.0, 6.5, 5.0, 3.0],  # closing
            [2.0, 3.0, 4.0, 5.5, 7.0],  # diverging
            [4.0, 4.0, 4.0, 4.0, 4.0],  # flat
            [-6.0, -5.0, np.nan, -2.0, -1.0],  # negative gap closing from below, a hole
            [0.5, np.nan, np.nan, np.nan, np.nan],  # one point only
        ]
    )
    g = xr.DataArray(gaps, dims=("unit", "time"), coords={"unit": list("ABCDE"), "time": years})
    rate = ineq.catch_up_rate(g)
    for i in range(4):
        ok = ~np.isnan(gaps[i])
        slope = np.polyfit(np.array(years)[ok], gaps[i][ok], 1)[0]
        assert float(rate[i]) == pytest.approx(slope, rel=1e-12, abs=1e-14)
    assert np.isnan(float(rate[4]))
    ends = ineq.catch_up_rate(g, method="endpoints")
    assert float(ends[0]) == pytest.approx((3.0 - 10.0) / 6, 1e-14)
    assert float(ends[3]) == pytest.approx((-1.0 + 6.0) / 6, 1e-14)
    assert bool(np.isnan(ineq.catch_up_rate(g, skipna=False)[3]))
    ytc = ineq.years_to_close(g)
    assert float(ytc[0]) == pytest.approx(-3.0 / float(rate[0]), 1e-14)
    assert np.isnan(float(ytc[1]))  # diverging
    assert np.isnan(float(ytc[2]))  # flat
    assert float(ytc[3]) == pytest.approx(1.0 / float(rate[3]), 1e-14)
    assert np.isnan(float(ytc[4]))
    given = ineq.years_to_close(g, rate=-0.5)
    assert float(given[0]) == 6.0
    # unsorted time labels are sorted first
    shuffled = g.isel(time=[3, 0, 4, 1, 2])
    xr.testing.assert_allclose(ineq.years_to_close(shuffled), ytc)
    with pytest.raises(InvalidParameterError, match="time_dim"):
        ineq.catch_up_rate(g, time_dim="year")
    with pytest.raises(InvalidParameterError, match="numeric"):
        ineq.catch_up_rate(g.assign_coords(time=[str(y) for y in years]))
    closed = g.copy()
    closed[0, -1] = 0.0
    assert float(ineq.years_to_close(closed)[0]) == 0.0


def test_catch_up_rate_datetime_time() -> None:
    t = pd.date_range("2015-01-01", periods=4, freq="YS")
    g = xr.DataArray([8.0, 6.0, 4.0, 2.0], dims="time", coords={"time": t})
    assert float(ineq.catch_up_rate(g)) == pytest.approx(-2.0, rel=2e-3)
