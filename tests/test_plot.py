"""brics_ecom.plot: every chart returns its Axes, draws what it says, names bad input."""

from __future__ import annotations

import doctest
import sys

import matplotlib
import numpy as np
import pandas as pd
import pytest
import xarray as xr

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from brics_ecom import frameworks, plot
from brics_ecom.errors import DataError, InvalidParameterError
from brics_ecom.uncertainty import Factor, uncertainty

BRICS5 = ["BRA", "RUS", "IND", "CHN", "ZAF"]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def b2c():
    return frameworks.build("unctad_b2c", countries=[*BRICS5, "USA", "DEU"], years=[2019, 2021])


@pytest.fixture(scope="module")
def divide():
    return frameworks.build("digital_divide", countries=[*BRICS5, "USA", "DEU"])


@pytest.fixture(scope="module")
def dynamism():
    return frameworks.build("ecommerce_dynamism", countries=[*BRICS5, "USA", "DEU", "MEX"])


def test_doctests_of_the_module():
    result = doctest.testmod(plot, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


# ---------------------------------------------------------------------------- ranking_bars
def test_ranking_bars_sorts_best_first_and_labels_ranks(b2c):
    ax = plot.ranking_bars(b2c, time=2021, highlight=["IND"])
    units = [t.get_text() for t in ax.get_yticklabels()]
    scores = b2c.scores.sel(node="B2C_3", time=2021).to_series()
    assert units == scores.sort_values(ascending=False).index.tolist()
    widths = [p.get_width() for p in ax.patches]
    np.testing.assert_allclose(widths, scores.loc[units].to_numpy())
    rank_texts = [t.get_text() for t in ax.texts]
    assert rank_texts == [str(i) for i in range(1, len(units) + 1)]
    colours = {u: p.get_facecolor() for u, p in zip(units, ax.patches, strict=True)}
    assert colours["IND"] != colours["USA"]
    assert ax.get_xlabel() == "B2C_3 score"


def test_ranking_bars_with_intervals_shows_rank_ranges(b2c):
    ua = uncertainty(
        b2c.pipeline, b2c, [Factor.weights(n_sets=20)], n=40, rng=1, time=2021, progress=False
    )
    ax = plot.ranking_bars(b2c, intervals=ua, time=2021)
    frame = ua.to_frame()
    units = [t.get_text() for t in ax.get_yticklabels()]
    for unit, text in zip(units, (t.get_text() for t in ax.texts), strict=True):
        lo, hi = int(frame.loc[unit, "rank_q5"]), int(frame.loc[unit, "rank_q95"])
        assert text.endswith(f"({lo}–{hi})")


def test_ranking_bars_other_node_and_max_units(b2c):
    ax = plot.ranking_bars(b2c, node="account", max_units=3)
    assert len(ax.get_yticklabels()) == 3
    assert ax.get_xlabel() == "account score"


def test_ranking_bars_errors(b2c):
    with pytest.raises(InvalidParameterError, match=r"node 'acount'.*close matches.*account"):
        plot.ranking_bars(b2c, node="acount")
    with pytest.raises(InvalidParameterError, match="time 1999"):
        plot.ranking_bars(b2c, time=1999)
    ua = uncertainty(
        b2c.pipeline, b2c, [Factor.weights(n_sets=10)], n=5, rng=0, time=2021, progress=False
    )
    with pytest.raises(InvalidParameterError, match="intervals are for node 'B2C_3'"):
        plot.ranking_bars(b2c, node="account", intervals=ua)
    with pytest.raises(InvalidParameterError, match="must be a brics_ecom Result"):
        plot.ranking_bars(b2c.scores)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- profile
def test_profile_radar_with_comparison(divide):
    ax = plot.profile(divide, "IND", compare=["CHN"])
    assert ax.name == "polar"
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == list(divide.spec.level_codes(2))
    assert [line.get_label() for line in ax.get_lines()] == ["IND", "CHN"]
    ring = ax.get_lines()[0].get_ydata()
    expected = divide.scores.sel(unit="IND", time=2021, node=labels).values
    np.testing.assert_allclose(ring[:-1], expected)


def test_profile_bars_below_three_nodes(dynamism):
    ax = plot.profile(dynamism, "BRA", compare="median")
    assert ax.name == "rectilinear"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Level", "Momentum"]


def test_profile_errors(divide):
    with pytest.raises(InvalidParameterError, match="units \\['XXX'\\]"):
        plot.profile(divide, "XXX")
    with pytest.raises(InvalidParameterError, match="level 9"):
        plot.profile(divide, "IND", level=9)
    _, flat = plt.subplots()
    with pytest.raises(InvalidParameterError, match="polar"):
        plot.profile(divide, "IND", ax=flat)


# ---------------------------------------------------------------------------- heatmap
def test_heatmap_of_a_result(divide):
    ax = plot.heatmap(divide)
    rows = [t.get_text() for t in ax.get_yticklabels()]
    root = divide.scores.sel(node="DDI", time=2021).to_series()
    assert rows == root.sort_values(ascending=False).index.tolist()
    assert [t.get_text() for t in ax.get_xticklabels()] == list(divide.spec.level_codes(2))
    image = ax.get_images()[0]
    expected = divide.scores.sel(node=list(divide.spec.level_codes(2)), unit=rows, time=2021)
    np.testing.assert_allclose(
        np.ma.filled(image.get_array(), np.nan), expected.transpose("unit", "node").values
    )


def test_heatmap_of_an_array_and_errors():
    da = xr.DataArray(
        [[1.0, 2.0], [3.0, np.nan]], dims=("unit", "x"), coords={"unit": ["a", "b"], "x": [1, 2]}
    )
    ax = plot.heatmap(da, annotate=True, fmt="{:.1f}")
    assert sorted(t.get_text() for t in ax.texts) == ["1.0", "2.0", "3.0"]
    with pytest.raises(InvalidParameterError, match="two dims"):
        plot.heatmap(da.expand_dims(z=[0, 1]))
    with pytest.raises(InvalidParameterError, match=r"Result or an xarray\.DataArray"):
        plot.heatmap([[1, 2]])  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- lorenz
def test_lorenz_curve_matches_inequality_lorenz():
    from brics_ecom.inequality import gini, lorenz

    x = xr.DataArray([3.0, 1.0, 4.0, 2.0], dims="unit", coords={"unit": list("abcd")})
    ax = plot.lorenz_curve(x)
    curve = lorenz(x)
    line = ax.get_lines()[1]
    np.testing.assert_allclose(line.get_xdata(), curve["population"].values)
    np.testing.assert_allclose(line.get_ydata(), curve["share"].values)
    assert f"{float(gini(x)):.3f}" in line.get_label()


def test_lorenz_curve_of_a_panel_and_errors():
    from brics_ecom.datasets import load_brics_panel

    p = load_brics_panel(countries="BRICS", years=[2015, 2021])
    ax = plot.lorenz_curve(p, indicator="IT.NET.USER.ZS", time=2021)
    assert len(ax.get_lines()) == 2
    plot.lorenz_curve(p, indicator="IT.NET.USER.ZS", time=2015, ax=ax)  # same axes: one more
    labels = [line.get_label() for line in ax.get_lines()]
    assert len(labels) == 3 and labels.count("equality") == 1
    with pytest.raises(InvalidParameterError, match="choose one with indicator="):
        plot.lorenz_curve(p)
    with pytest.raises(InvalidParameterError, match="years \\[1990\\]"):
        plot.lorenz_curve(p, indicator="IT.NET.USER.ZS", time=1990)
    with pytest.raises(DataError):
        plot.lorenz_curve(pd.Series({"a": -1.0, "b": 2.0}))


# ---------------------------------------------------------------------------- quadrant
def test_quadrant_of_a_dynamism_result(dynamism):
    ax = plot.quadrant(dynamism, highlight=["BRA"])
    table = dynamism.reports["state_momentum_table"].xs(2024, level="time")
    offsets = ax.collections[0].get_offsets()
    np.testing.assert_allclose(np.sort(offsets[:, 0]), np.sort(table["level"].to_numpy()))
    vlines = [line.get_xdata()[0] for line in ax.get_lines()]
    assert table["level_threshold"].iloc[0] in vlines
    zones = {t.get_text() for t in ax.texts} & {"stand out", "break out", "stall out", "watch out"}
    assert len(zones) == 4
    bold = next(t for t in ax.texts if t.get_text() == "BRA")
    assert bold.get_fontweight() == "bold"


def test_quadrant_with_series_uses_medians():
    level = pd.Series({"a": 1.0, "b": 2.0, "c": 3.0})
    mom = pd.Series({"a": 5.0, "b": 1.0, "c": 3.0})
    ax = plot.quadrant(level, mom, labels=False)
    assert ax.get_lines()[0].get_xdata()[0] == 2.0
    assert ax.get_lines()[1].get_ydata()[0] == 3.0
    with pytest.raises(InvalidParameterError, match="pass momentum="):
        plot.quadrant(level)


# ---------------------------------------------------------------------------- time_series
def test_time_series_of_a_result_node(divide):
    ax = plot.time_series(divide, ["IND", "BRA"], "Gender", highlight=["IND"])
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {"IND", "BRA"}
    series = divide.scores.sel(unit="IND", node="Gender").to_series().dropna()
    np.testing.assert_allclose(lines["IND"].get_ydata(), series.to_numpy())
    assert lines["IND"].get_linewidth() > lines["BRA"].get_linewidth()


def test_time_series_errors(divide):
    with pytest.raises(InvalidParameterError, match="units \\['XXX'\\]"):
        plot.time_series(divide, ["XXX"], "Gender")
    with pytest.raises(InvalidParameterError, match="node 'Gendr'"):
        plot.time_series(divide, None, "Gendr")


# ---------------------------------------------------------------------------- no matplotlib
def test_missing_matplotlib_names_the_extra(monkeypatch, b2c):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"brics_ecom\[plot\]"):
        plot.ranking_bars(b2c)
