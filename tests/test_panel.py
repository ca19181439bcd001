"""The panel data model: constructors, conversions, ``latest`` and ``validate``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import brics_ecom as be
from brics_ecom import panel as pn
from brics_ecom.errors import DataError, DataWarning, InvalidParameterError, SpecError

nan = np.nan


def small_panel() -> xr.DataArray:
    values = np.arange(12.0).reshape(2, 2, 3)
    return xr.DataArray(
        values,
        dims=pn.DIMS,
        coords={"unit": ["A", "B"], "time": [2019, 2020], "indicator": ["x", "y", "z"]},
    )


# ---------------------------------------------------------------------- from_long
def test_from_long_builds_sorted_panel_with_nan_for_absent_rows() -> None:
    df = pd.DataFrame(
        {
            "country": ["IND", "BRA", "BRA", "IND"],
            "year": [2021, 2021, 2020, 2020],
            "code": ["net", "net", "net", "gdp"],
            "v": [43, 81.0, 70.0, 2.5],
            "nm": ["India", "Brazil", "Brazil", "India"],
        }
    )
    p = pn.from_long(df, unit="country", time="year", indicator="code", value="v", unit_name="nm")
    assert p.dims == pn.DIMS and p.dtype == np.float64
    assert p["unit"].values.tolist() == ["BRA", "IND"]
    assert p["time"].values.tolist() == [2020, 2021]
    assert p["indicator"].values.tolist() == ["gdp", "net"]
    assert p["unit_name"].values.tolist() == ["Brazil", "India"]
    expected = np.array([[[nan, 70.0], [nan, 81.0]], [[2.5, nan], [nan, 43.0]]])
    np.testing.assert_array_equal(p.values, expected)


def test_from_long_without_time_gives_cross_section_at_zero() -> None:
    df = pd.DataFrame({"unit": ["A", "B"], "indicator": ["x", "x"], "value": [1.0, 2.0]})
    p = pn.from_long(df, time=None)
    assert p["time"].values.tolist() == [0]
    assert p.sel(unit="B", indicator="x").item() == 2.0


# ---------------------------------------------------------------------- from_wide
def test_from_wide_keeps_indicator_order_and_group_coords() -> None:
    df = pd.DataFrame(
        {
            "code": ["B", "A"],
            "region": ["S", "N"],
            "zeta": [1.0, 2.0],
            "alpha": [10.0, nan],
        }
    )
    p = pn.from_wide(df, unit="code", groups=["region"], default_time=2020)
    assert p["indicator"].values.tolist() == ["zeta", "alpha"]
    assert p["unit"].values.tolist() == ["A", "B"]
    assert p["region"].dims == ("unit",)
    assert p["region"].values.tolist() == ["N", "S"]
    np.testing.assert_array_equal(p.sel(time=2020).values, [[2.0, nan], [1.0, 10.0]])


def test_from_wide_group_varying_over_time_is_a_unit_time_coord() -> None:
    df = pd.DataFrame(
        {
            "u": ["A", "A", "B", "B"],
            "t": [2020, 2021, 2020, 2021],
            "member": ["no", "yes", "yes", "yes"],
            "x": [1.0, 2.0, 3.0, 4.0],
        }
    )
    p = pn.from_wide(df, unit="u", time="t", groups=["member"])
    assert set(p["member"].dims) == {"unit", "time"}
    assert p["member"].sel(unit="A").values.tolist() == ["no", "yes"]
    assert p["member"].sel(unit="B").values.tolist() == ["yes", "yes"]


# ---------------------------------------------------------------------- from_coinr
def test_from_coinr_cross_section() -> None:
    iData, iMeta = be.datasets.load_asem_tables()
    p, spec = pn.from_coinr(iData, iMeta)
    assert p.dims == pn.DIMS
    assert p.sizes == {"unit": 51, "time": 1, "indicator": 49}
    assert p["unit"].values.tolist() == sorted(iData["uCode"])
    assert p["indicator"].values.tolist() == list(spec.indicators)
    frame = iData.set_index("uCode")
    # values, in the same places
    for code in ("LPI", "Goods", "NEET"):
        np.testing.assert_array_equal(
            p.sel(indicator=code).squeeze("time").values,
            frame.loc[p["unit"].values, code].to_numpy(dtype=float),
        )
    # group columns become coordinates on unit
    for g in ("GDP_group", "GDPpc_group", "Pop_group", "EurAsia_group"):
        assert p[g].dims == ("unit",)
        assert p[g].values.tolist() == frame.loc[p["unit"].values, g].tolist()
    assert p["unit_name"].sel(unit="AUT").item() == "Austria"
    # denominators travel in attrs
    den = pn.get_denominators(p)
    assert den is not None and den.dims == ("unit", "time", "denominator")
    assert den["denominator"].values.tolist() == ["Area", "Energy", "GDP", "Population"]
    np.testing.assert_array_equal(
        den.sel(denominator="Population").squeeze("time").values,
        frame.loc[p["unit"].values, "Population"].to_numpy(dtype=float),
    )
    assert "Population" not in p["indicator"].values


def test_load_asem_panel_has_years_groups_and_denominators() -> None:
    iData, _ = be.datasets.load_asem_tables(panel=True)
    p, spec = be.datasets.load_asem(panel=True)
    assert p.sizes == {"unit": 51, "time": 5, "indicator": 49}
    assert p["time"].values.tolist() == [2018, 2019, 2020, 2021, 2022]
    assert p["EurAsia_group"].dims == ("unit",)
    den = pn.get_denominators(p)
    assert den is not None and den.sizes == {"unit": 51, "time": 5, "denominator": 4}
    row = iData[(iData["uCode"] == "IND") & (iData["Time"] == 2021)].iloc[0]
    assert p.sel(unit="IND", time=2021, indicator="Goods").item() == row["Goods"]
    assert den.sel(unit="IND", time=2021, denominator="GDP").item() == row["GDP"]
    assert spec.root == "Index"


def test_from_coinr_warns_about_extra_columns_and_rejects_missing_ones() -> None:
    iData, iMeta = be.datasets.load_asem_tables()
    with pytest.warns(DataWarning, match="Comment"):
        p, _ = pn.from_coinr(iData.assign(Comment="x"), iMeta)
    assert "Comment" not in p["indicator"].values
    with pytest.raises(SpecError, match="'Goods'"):
        pn.from_coinr(iData.drop(columns="Goods"), iMeta)
    with pytest.raises(DataError, match="uCode"):
        pn.from_coinr(iData.drop(columns="uCode"), iMeta)


# ---------------------------------------------------------------------- round trips
def test_long_round_trip_on_asem_panel() -> None:
    p, _ = be.datasets.load_asem(panel=True)
    bare = p.reset_coords(drop=True)
    bare.attrs = {}
    back = pn.from_long(pn.to_long(p))
    # from_long sorts indicators; everything else (values, NaN cells, labels) is kept
    xr.testing.assert_identical(back, bare.sortby("indicator"))
    back_all = pn.from_long(pn.to_long(p, dropna=False))
    xr.testing.assert_identical(back_all, bare.sortby("indicator"))
    assert len(pn.to_long(p, dropna=False)) == p.size
    assert len(pn.to_long(p)) == int(p.notnull().sum())


def test_wide_round_trip_on_asem_panel() -> None:
    p, _ = be.datasets.load_asem(panel=True)
    bare = p.reset_coords(drop=True)
    bare.attrs = {}
    wide = pn.to_wide(p)
    assert wide.index.names == ["unit", "time"]
    assert list(wide.columns) == list(p["indicator"].values)
    back = pn.from_wide(wide.reset_index(), unit="unit", time="time")
    xr.testing.assert_identical(back, bare)


def test_to_wide_one_year_and_cross_section() -> None:
    p = small_panel()
    w = pn.to_wide(p, time=2020)
    assert list(w.index) == ["A", "B"] and list(w.columns) == ["x", "y", "z"]
    np.testing.assert_array_equal(w.to_numpy(), p.sel(time=2020).values)
    back = pn.from_wide(w.reset_index(names="unit"), default_time=2020)
    xr.testing.assert_identical(back, p.sel(time=[2020]).rename(None).rename("value"))


# ---------------------------------------------------------------------- latest
def gappy_panel() -> xr.DataArray:
    values = np.array(
        [
            [[1.0, nan], [2.0, nan], [nan, nan], [nan, 7.0]],  # A: x last 2017, y 2019
            [[nan, nan], [nan, nan], [nan, nan], [nan, nan]],  # B: nothing
            [[5.0, 1.0], [nan, 2.0], [6.0, nan], [nan, nan]],  # C: x 2018, y 2017
        ]
    )
    return xr.DataArray(
        values,
        dims=pn.DIMS,
        coords={
            "unit": ["A", "B", "C"],
            "time": [2016, 2017, 2018, 2019],
            "indicator": ["x", "y"],
            "unit_name": ("unit", ["Aa", "Bb", "Cc"]),
        },
    )


def test_latest_values_and_source_time() -> None:
    out = pn.latest(gappy_panel())
    assert out.dims == ("unit", "indicator")
    np.testing.assert_array_equal(out.values, [[2.0, 7.0], [nan, nan], [6.0, 2.0]])
    np.testing.assert_array_equal(
        out["source_time"].values, [[2017, 2019], [nan, nan], [2018, 2017]]
    )
    assert out["unit_name"].values.tolist() == ["Aa", "Bb", "Cc"]
    assert out.attrs["latest_reference_time"] == 2019


def test_latest_2018_or_latest_with_window() -> None:
    p = gappy_panel()
    # "2018 or latest": values after 2018 are ignored
    out = pn.latest(p, time=2018)
    np.testing.assert_array_equal(out.values, [[2.0, nan], [nan, nan], [6.0, 2.0]])
    np.testing.assert_array_equal(
        out["source_time"].values, [[2017, nan], [nan, nan], [2018, 2017]]
    )
    # only values from 2017 or later count for a 2-year window ending in 2019
    win = pn.latest(p, window=2)
    np.testing.assert_array_equal(win.values, [[2.0, 7.0], [nan, nan], [6.0, 2.0]])
    win1 = pn.latest(p, window=1)
    np.testing.assert_array_equal(win1.values, [[nan, 7.0], [nan, nan], [6.0, nan]])
    np.testing.assert_array_equal(
        win1["source_time"].values, [[nan, 2019], [nan, nan], [2018, nan]]
    )
    win0 = pn.latest(p, window=0, time=2016)
    np.testing.assert_array_equal(win0.values, [[1.0, nan], [nan, nan], [5.0, 1.0]])


def test_latest_bad_arguments() -> None:
    p = gappy_panel()
    with pytest.raises(DataError, match="'time' dim"):
        pn.latest(p.isel(time=0, drop=True))
    with pytest.raises(InvalidParameterError, match=r"'time' parameter of latest.*2030"):
        pn.latest(p, time=2030)
    with pytest.raises(InvalidParameterError, match=r"'window' parameter of latest.*-1"):
        pn.latest(p, window=-1)


# ---------------------------------------------------------------------- validate
@pytest.mark.parametrize(
    ("dim", "labels", "bad"),
    [
        ("unit", ["A", "A"], "'A'"),
        ("time", [2019, 2019], "2019"),
        ("indicator", ["x", "y", "x"], "'x'"),
    ],
)
def test_validate_duplicated_labels(dim: str, labels: list, bad: str) -> None:
    p = small_panel().assign_coords({dim: labels})
    with pytest.raises(DataError, match=rf"'{dim}' dim has duplicated labels \[{bad}\]"):
        pn.validate(p)


def test_validate_non_numeric_names_the_cell() -> None:
    p = small_panel().astype(object)
    p[1, 0, 2] = "n/a"
    with pytest.raises(
        DataError, match=r"non-numeric.*'unit': 'B', 'time': 2019, 'indicator': 'z'"
    ):
        pn.validate(p)
    with pytest.raises(DataError, match="non-numeric"):
        pn.validate(small_panel().astype(complex))


def test_validate_infinite_names_the_cells() -> None:
    p = small_panel()
    p[0, 1, 0] = np.inf
    p[1, 0, 1] = -np.inf
    with pytest.raises(DataError, match="infinite") as err:
        pn.validate(p)
    msg = str(err.value)
    assert "{'unit': 'A', 'time': 2020, 'indicator': 'x'}" in msg
    assert "{'unit': 'B', 'time': 2019, 'indicator': 'y'}" in msg


@pytest.mark.parametrize("dim", ["unit", "time", "indicator"])
def test_validate_empty_dim(dim: str) -> None:
    with pytest.raises(DataError, match=f"'{dim}' dim is empty"):
        pn.validate(small_panel().isel({dim: []}))


def test_validate_structure_and_casting() -> None:
    with pytest.raises(DataError, match="needs a 'unit' dim"):
        pn.validate(small_panel().rename(unit="country"))
    with pytest.raises(DataError, match="got ndarray"):
        pn.validate(np.ones((2, 2, 2)))  # type: ignore[arg-type]
    ints = small_panel().astype(int)
    out = pn.validate(ints)
    assert out.dtype == np.float64 and ints.dtype != np.float64
    np.testing.assert_array_equal(out.values, ints.values)
    # object arrays of numbers (and None) are accepted as float64
    obj = small_panel().astype(object)
    obj[0, 0, 0] = None
    got = pn.validate(obj)
    assert got.dtype == np.float64 and np.isnan(got[0, 0, 0])
    np.testing.assert_array_equal(got.values.ravel()[1:], np.arange(1.0, 12.0))
    # a cross-section without a time dim is a valid panel
    assert pn.validate(small_panel().isel(time=0, drop=True)).dims == ("unit", "indicator")


def test_constructors_reject_bad_tables() -> None:
    dup = pd.DataFrame(
        {"unit": ["A", "A"], "time": [1, 1], "indicator": ["x", "x"], "value": [1, 2]}
    )
    with pytest.raises(DataError, match=r"several rows.*'unit': 'A', 'time': 1, 'indicator': 'x'"):
        pn.from_long(dup)
    txt = pd.DataFrame(
        {"unit": ["A", "B"], "time": [1, 1], "indicator": ["x", "x"], "value": [1, "foo"]}
    )
    with pytest.raises(DataError, match=r"Non-numeric values \['foo'\].*'unit': 'B'"):
        pn.from_long(txt)
    inf = pd.DataFrame(
        {"unit": ["A", "B"], "time": [1, 1], "indicator": ["x", "x"], "value": [1, np.inf]}
    )
    with pytest.raises(DataError, match=r"infinite values.*'unit': 'B'"):
        pn.from_long(inf)
    with pytest.raises(DataError, match=r"columns \['year'\] not found"):
        pn.from_long(dup, time="year")
    with pytest.raises(DataError, match=r"several rows.*'unit': 'A'"):
        pn.from_wide(pd.DataFrame({"unit": ["A", "A"], "x": [1.0, 2.0]}))
    with pytest.raises(DataError, match=r"indicator 'x' \['a'\]"):
        pn.from_wide(pd.DataFrame({"unit": ["A", "B"], "x": [1.0, "a"]}))
