"""Bad input: each case raises (or warns) with a class from errors.py naming the culprit."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr

import brics_ecom as be
from brics_ecom import panel as pn
from brics_ecom.errors import (
    BricsEcomError,
    DataError,
    DataWarning,
    InvalidParameterError,
    SpecError,
)
from brics_ecom.spec import IndexSpec, Node

nan = np.nan


def agg(code: str, **kw: object) -> Node:
    return Node(code, kind="aggregate", **kw)  # type: ignore[arg-type]


@pytest.fixture
def spec() -> IndexSpec:
    return IndexSpec(
        [
            Node("x", parent="P"),
            Node("y", parent="P", direction=-1),
            Node("z", parent="Q"),
            agg("P", parent="I"),
            agg("Q", parent="I"),
            agg("I"),
        ]
    )


@pytest.fixture
def panel() -> xr.DataArray:
    rng = np.random.default_rng(0)
    return xr.DataArray(
        rng.uniform(1, 10, size=(4, 2, 3)),
        dims=pn.DIMS,
        coords={"unit": ["A", "B", "C", "D"], "time": [2019, 2020], "indicator": ["x", "y", "z"]},
    )


def test_error_hierarchy() -> None:
    assert issubclass(SpecError, ValueError) and issubclass(DataError, ValueError)
    assert issubclass(InvalidParameterError, TypeError)
    assert all(issubclass(c, BricsEcomError) for c in (SpecError, DataError, InvalidParameterError))


# ---------------------------------------------------------------------- unknown methods
def test_unknown_methods_list_the_valid_ones(panel: xr.DataArray, spec: IndexSpec) -> None:
    with pytest.raises(
        InvalidParameterError, match=r"'method' parameter of normalise .*'zscore'.*got 'minmx'"
    ):
        be.normalise(panel, "minmx")
    with pytest.raises(
        InvalidParameterError, match=r"'method' parameter of impute .*'linear'.*'mean'.*got 'meen'"
    ):
        be.impute(panel, "meen")
    with pytest.raises(
        InvalidParameterError, match=r"'transform' parameter of treat .*'log_CT'.*got 'logg'"
    ):
        be.treat(panel, transform="logg")
    with pytest.raises(
        InvalidParameterError, match=r"'method' parameter of aggregate .*'geometric'.*got 'arith'"
    ):
        be.aggregate(panel, spec, "arith")
    with pytest.raises(InvalidParameterError, match=r"'by' parameter of screen .*got 'nan'"):
        be.screen(panel, by="nan")
    with pytest.raises(
        InvalidParameterError, match=r"'reference' parameter of normalise .*got 'global'"
    ):
        be.normalise(panel, reference="global")
    with pytest.raises(
        InvalidParameterError, match=r"'by_level' parameter of aggregate names levels \[4\]"
    ):
        be.aggregate(panel, spec, by_level={4: "geometric"})
    with pytest.raises(
        InvalidParameterError, match=r"'method' parameter of aggregate .*got 'median'"
    ):
        be.aggregate(panel, spec, by_level={3: "median"})


# ---------------------------------------------------------------------- unknown parameters
def test_unknown_parameters_are_named(panel: xr.DataArray, spec: IndexSpec) -> None:
    with pytest.raises(
        InvalidParameterError,
        match=r"'minmax' takes parameters \['lower', 'upper'\]; got unknown \['lowr'\]",
    ):
        be.normalise(panel, "minmax", lowr=1)
    with pytest.raises(
        InvalidParameterError, match=r"'rank' takes parameters none; got unknown \['lower'\]"
    ):
        be.normalise(panel, "rank", lower=1)
    with pytest.raises(
        InvalidParameterError, match=r"impute method 'mean' takes no parameter\(s\) \['foo'\]"
    ):
        be.impute(panel, "mean", foo=1)
    with pytest.raises(
        InvalidParameterError,
        match=r"'max_time' parameter of impute applies to method 'latest' only; got method "
        r"'constant'",
    ):
        be.impute(panel, "constant", max_time=2)
    with pytest.raises(
        InvalidParameterError, match=r"treat got unknown parameter\(s\) \['win_max'\]"
    ):
        be.treat(panel, win_max=3)
    with pytest.raises(
        InvalidParameterError, match=r"override for 'x' has unknown options \['winmx'\]"
    ):
        be.treat(panel, overrides={"x": {"winmx": 1}})
    with pytest.raises(
        InvalidParameterError, match=r"do not take the parameter\(s\) \['penalty'\]"
    ):
        be.aggregate(panel, spec, "arithmetic", penalty=1)
    with pytest.raises(
        InvalidParameterError, match=r"'penalty' parameter of the Mazziotta-Pareto index.*got 2"
    ):
        be.aggregate(panel, spec, "mazziotta_pareto", penalty=2)
    with pytest.raises(InvalidParameterError, match="'generalised' needs the power p="):
        be.aggregate(panel, spec, "generalised")
    with pytest.raises(
        InvalidParameterError, match="'p' parameter of the generalised mean must not be 0"
    ):
        be.aggregate(panel, spec, "generalised", p=0)
    with pytest.raises(
        InvalidParameterError,
        match=r"'dat_thresh' parameter of aggregate must be in \[0, 1\]; got 1.5",
    ):
        be.aggregate(panel, spec, dat_thresh=1.5)
    with pytest.raises(
        InvalidParameterError, match=r"'winmax' parameter of treat must be in \[0, inf\]; got -1"
    ):
        be.treat(panel, winmax=-1)
    with pytest.raises(
        InvalidParameterError, match=r"'dim' parameter of normalise .*got 'country'"
    ):
        be.normalise(panel, dim="country")
    with pytest.raises(InvalidParameterError, match=r"'dim' parameter of impute .*got 'country'"):
        be.impute(panel, dim="country")
    with pytest.raises(
        InvalidParameterError,
        match=r"'scale' parameter of denominate must be a finite number; got 'k'",
    ):
        be.denominate(
            panel, denominators=panel.rename(indicator="denominator"), mapping={"x": "y"}, scale="k"
        )
    with pytest.raises(
        InvalidParameterError,
        match=r"'scale' parameter of denominate names indicators \['y'\] that are not denominated",
    ):
        be.denominate(
            panel,
            denominators=panel.rename(indicator="denominator"),
            mapping={"x": "y"},
            scale={"y": 2},
        )
    with pytest.raises(
        InvalidParameterError,
        match=r"'group' parameter of impute must name a coordinate.*got 'region'",
    ):
        be.impute(panel, "group_mean", group="region")
    with pytest.raises(
        InvalidParameterError,
        match=r"'force_include' parameter of screen names unknown units \['Z'\]",
    ):
        be.screen(panel, force_include=["Z"])


def test_pipeline_set_unknown_path_lists_valid_paths(spec: IndexSpec) -> None:
    pipe = be.Pipeline(spec, [("normalise", {"method": "minmax"}), ("aggregate", {})])
    with pytest.raises(
        InvalidParameterError,
        match=r"'normalise__lowr'.*Valid paths for this step: \[.*'normalise__lower'",
    ):
        pipe.set(normalise__lowr=1)
    with pytest.raises(
        InvalidParameterError, match=r"no 'treat' step\. Valid paths: \[.*'aggregate__method'"
    ):
        pipe.set(treat__winmax=1)
    with pytest.raises(InvalidParameterError, match=r"look like 'step__param'.*got 'normalise'"):
        pipe.set(normalise="zscore")
    with pytest.raises(InvalidParameterError, match=r"step 'aggregate' has no parameter 'penalty'"):
        pipe.set(aggregate__penalty=1)
    # a parameter of the new method is accepted in the same call
    assert (
        pipe.set(aggregate__method="mazziotta_pareto", aggregate__penalty=1).get(
            "aggregate__penalty"
        )
        == 1
    )
    with pytest.raises(InvalidParameterError, match="Unknown pipeline step 'normalize'"):
        be.Pipeline(spec, ["normalize"])
    with pytest.raises(InvalidParameterError, match=r"steps \['normalise'\] appear more than once"):
        be.Pipeline(spec, ["normalise", "normalise"])


# ---------------------------------------------------------------------- spec vs data
def test_indicator_in_spec_but_not_in_data(panel: xr.DataArray, spec: IndexSpec) -> None:
    short = panel.drop_sel(indicator="z")
    with pytest.raises(
        SpecError, match=r"Indicators \['z'\] are in the specification but not in the data"
    ):
        be.aggregate(short, spec)
    with pytest.raises(SpecError, match=r"Indicators \['z'\] are in the specification"):
        be.Pipeline(spec, ["normalise", "aggregate"]).run(short)


def test_indicator_in_data_but_not_in_spec(panel: xr.DataArray, spec: IndexSpec) -> None:
    extra = xr.concat(
        [panel, (panel.sel(indicator=["x"]) * 2).assign_coords(indicator=["w"])], dim="indicator"
    )
    with pytest.warns(
        DataWarning, match=r"indicators \['w'\] are not in the specification; dropped"
    ):
        res = be.Pipeline(spec, ["normalise", "aggregate"]).run(extra)
    assert "w" not in res.data["raw"]["indicator"].values
    assert "w" not in res.scores["node"].values
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ref = be.Pipeline(spec, ["normalise", "aggregate"]).run(panel)
    xr.testing.assert_identical(res.scores, ref.scores)


# ---------------------------------------------------------------------- weights
def test_nan_or_negative_weights(panel: xr.DataArray, spec: IndexSpec) -> None:
    with pytest.raises(SpecError, match=r"Weights of \['y'\] are not finite"):
        be.aggregate(panel, spec, weights={"y": nan})
    with pytest.raises(SpecError, match=r"Weights of \['Q'\] are negative"):
        be.aggregate(panel, spec, weights={"Q": -0.5})
    w = xr.DataArray([[1.0, nan], [1.0, 1.0]], dims=("draw", "node"), coords={"node": ["x", "z"]})
    with pytest.raises(SpecError, match=r"Weights of \['z'\] are NaN"):
        be.aggregate(panel, spec, weights=w)
    with pytest.raises(SpecError, match=r"The weight of 'x' must be a number; got 'heavy'"):
        be.aggregate(panel, spec, weights={"x": "heavy"})
    with pytest.raises(SpecError, match=r"codes not in the tree: \['v'\]"):
        be.aggregate(panel, spec, weights={"v": 1})
    with pytest.raises(SpecError, match="'y' has weight nan"):
        IndexSpec([Node("y", parent="I", weight=nan), agg("I")])
    with pytest.raises(SpecError, match="'y' has negative weight -2"):
        IndexSpec([Node("y", parent="I", weight=-2), agg("I")])


def test_weights_summing_to_zero_in_a_group(panel: xr.DataArray, spec: IndexSpec) -> None:
    with pytest.raises(SpecError, match=r"children of 'P' \(x, y\) sum to 0"):
        be.aggregate(panel, spec, weights={"x": 0, "y": 0})
    w = xr.DataArray([[1.0, 1.0], [0.0, 0.0]], dims=("draw", "node"), coords={"node": ["P", "Q"]})
    with pytest.raises(SpecError, match=r"children of 'I' \(P, Q\) sum to 0 in some draws"):
        be.aggregate(panel, spec, weights=w)
    with pytest.raises(SpecError, match=r"children of 'Q' \(z\) sum to 0"):
        spec.with_weights({"z": 0})


def test_directions_not_plus_or_minus_one(panel: xr.DataArray) -> None:
    with pytest.raises(SpecError, match="'x' has direction 0"):
        IndexSpec([Node("x", parent="I", direction=0), agg("I")])
    with pytest.raises(SpecError, match="'x' has direction -2"):
        IndexSpec([Node("x", parent="I", direction=-2), agg("I")])
    with pytest.raises(
        InvalidParameterError, match="direction of indicator 'y' must be 1 or -1; got 2"
    ):
        be.normalise(panel, directions={"y": 2})
    with pytest.raises(
        InvalidParameterError, match=r"'directions' parameter names indicators \['q'\]"
    ):
        be.normalise(panel, directions={"q": -1})


def test_cycles_and_orphans() -> None:
    with pytest.raises(SpecError, match="cycle: P -> Q -> P"):
        IndexSpec(
            [
                Node("x", parent="P"),
                agg("P", parent="Q"),
                agg("Q", parent="P"),
                Node("y", parent="I"),
                agg("I"),
            ]
        )
    with pytest.raises(SpecError, match=r"'x' names the parent 'Pillar'.*orphan"):
        IndexSpec([Node("x", parent="Pillar"), Node("y", parent="I"), agg("I")])


# ---------------------------------------------------------------------- bad data
@pytest.mark.parametrize(
    "call",
    [
        lambda p, s: be.normalise(p),
        lambda p, s: be.impute(p),
        lambda p, s: be.treat(p),
        lambda p, s: be.screen(p),
        lambda p, s: be.aggregate(p, s),
        lambda p, s: be.denominate(p, s),
        lambda p, s: be.Pipeline(s, ["normalise"]).run(p),
    ],
    ids=["normalise", "impute", "treat", "screen", "aggregate", "denominate", "pipeline"],
)
def test_every_front_door_rejects_bad_data(panel: xr.DataArray, spec: IndexSpec, call) -> None:
    inf = panel.copy()
    inf[2, 1, 0] = np.inf
    with pytest.raises(
        DataError, match=r"infinite values at \[\{'unit': 'C', 'time': 2020, 'indicator': 'x'\}\]"
    ):
        call(inf, spec)
    text = panel.astype(object)
    text[1, 0, 2] = "12%"
    with pytest.raises(
        DataError, match=r"non-numeric.*\{'unit': 'B', 'time': 2019, 'indicator': 'z'\}"
    ):
        call(text, spec)
    with pytest.raises(DataError, match=r"'unit' dim has duplicated labels \['B'\]"):
        call(panel.assign_coords(unit=["A", "B", "B", "D"]), spec)
    with pytest.raises(DataError, match=r"'time' dim has duplicated labels \[2020\]"):
        call(panel.assign_coords(time=[2020, 2020]), spec)
    with pytest.raises(DataError, match=r"'indicator' dim has duplicated labels \['x'\]"):
        call(panel.assign_coords(indicator=["x", "y", "x"]), spec)


def test_zscore_zero_variance_names_indicator_and_year(panel: xr.DataArray) -> None:
    flat = panel.copy()
    flat.loc[{"indicator": "y", "time": 2020}] = 3.0
    with pytest.raises(
        DataError, match=r"zscore: zero variance for \[\{'time': 2020, 'indicator': 'y'\}\]"
    ):
        be.normalise(flat, "zscore")
    one = panel.copy()
    one.loc[{"indicator": "z", "time": 2019}] = [nan, 2.0, nan, nan]  # a single value: sd undefined
    with pytest.raises(DataError, match=r"\{'time': 2019, 'indicator': 'z'\}"):
        be.normalise(one, "zscore")


def test_minmax_zero_range_gives_nan_and_warns(panel: xr.DataArray) -> None:
    flat = panel.copy()
    flat.loc[{"indicator": "x", "time": 2019}] = 5.0
    with pytest.warns(
        DataWarning, match=r"minmax: zero range for \[\{'time': 2019, 'indicator': 'x'\}\]"
    ):
        out = be.normalise(flat, "minmax")
    assert bool(out.sel(indicator="x", time=2019).isnull().all())
    assert int(out.isnull().sum()) == 4
    with pytest.warns(
        DataWarning, match=r"dist2max: zero range for \[\{'time': 2019, 'indicator': 'x'\}\]"
    ):
        be.normalise(flat, "dist2max")


def test_geometric_and_harmonic_domains_name_unit_and_indicator(
    panel: xr.DataArray, spec: IndexSpec
) -> None:
    bad = panel.copy()
    bad.loc[{"unit": "C", "time": 2020, "indicator": "y"}] = 0.0
    with pytest.raises(
        DataError,
        match=r"'geometric' needs values > 0; offending values at "
        r"\[\{'unit': 'C', 'time': 2020, 'node': 'y'\}\]",
    ):
        be.aggregate(bad, spec, "geometric")
    with pytest.raises(
        DataError, match=r"'harmonic' needs values ≠ 0.*'unit': 'C', 'time': 2020, 'node': 'y'"
    ):
        be.aggregate(bad, spec, "harmonic")
    neg = panel.copy()
    neg.loc[{"unit": "D", "time": 2019, "indicator": "z"}] = -1.0
    with pytest.raises(DataError, match=r"'geometric'.*'unit': 'D', 'time': 2019, 'node': 'z'"):
        be.aggregate(neg, spec, "geometric")
    with pytest.raises(DataError, match=r"'generalised' needs values > 0 when p < 0.*'unit': 'D'"):
        be.aggregate(neg, spec, "generalised", p=-2)
    # negative values are fine for the harmonic mean (COINr), zero is not
    out = be.aggregate(neg, spec, "harmonic")
    assert out.sel(unit="D", time=2019, node="Q").item() == -1.0


def test_all_missing_indicator(panel: xr.DataArray) -> None:
    empty = panel.copy()
    empty.loc[{"indicator": "y"}] = nan
    with pytest.raises(DataError, match=r"Indicators \['y'\] have no data at all"):
        be.normalise(empty)


def test_dist2ref_with_an_absent_unit(panel: xr.DataArray) -> None:
    with pytest.raises(
        InvalidParameterError,
        match="'reference_unit' of dist2ref must be a unit of the panel; got 'ZZZ'",
    ):
        be.normalise(panel, "dist2ref", reference_unit="ZZZ")
    with pytest.raises(InvalidParameterError, match="'dist2ref' needs reference_unit="):
        be.normalise(panel, "dist2ref")


def test_goalposts_with_lower_not_below_upper(panel: xr.DataArray) -> None:
    with pytest.raises(DataError, match=r"lower ≥ upper for indicators \['y'\]"):
        be.normalise(
            panel, "goalposts", lower={"x": 0, "y": 5, "z": 0}, upper={"x": 10, "y": 5, "z": 10}
        )
    with pytest.raises(DataError, match=r"lower ≥ upper for indicators \['x', 'y', 'z'\]"):
        be.normalise(panel, "scaled", lower=10, upper=0)
    with pytest.raises(SpecError, match=r"'x' has goalposts \(10.0, 0.0\)"):
        IndexSpec([Node("x", parent="I", goalposts=(10, 0)), agg("I")])
    with pytest.raises(InvalidParameterError, match="Indicator 'x' has no goalposts in the spec"):
        be.normalise(
            panel,
            "goalposts",
            spec=IndexSpec(
                [Node("x", parent="I"), Node("y", parent="I"), Node("z", parent="I"), agg("I")]
            ),
        )


def test_time_methods_need_a_time_dim(panel: xr.DataArray) -> None:
    with pytest.raises(InvalidParameterError, match="'latest' fills gaps over time"):
        be.impute(panel.sel(time=[2020]), "latest")
    with pytest.raises(
        InvalidParameterError, match=r"'base_time' parameter of normalise .*got 1999"
    ):
        be.normalise(panel, base_time=1999)


def test_denominate_problems_name_units_and_codes(panel: xr.DataArray) -> None:
    den = xr.DataArray(
        np.ones((3, 2, 1)),
        dims=("unit", "time", "denominator"),
        coords={"unit": ["A", "B", "C"], "time": [2019, 2020], "denominator": ["pop"]},
    )
    with pytest.raises(DataError, match=r"no denominator data for units \['D'\]"):
        be.denominate(panel, denominators=den, mapping={"x": "pop"})
    full = xr.concat([den, den.isel(unit=[0]).assign_coords(unit=["D"])], "unit")
    with pytest.raises(
        InvalidParameterError, match=r"Denominators \['gdp'\] are not in the denominator data"
    ):
        be.denominate(panel, denominators=full, mapping={"x": "gdp"})
    zero = full.copy()
    zero[1, 0, 0] = 0.0
    with pytest.raises(
        DataError, match=r"zero denominators at \[\{'unit': 'B', 'time': 2019, 'indicator': 'x'\}\]"
    ):
        be.denominate(panel, denominators=zero, mapping={"x": "pop"})
    with pytest.raises(DataError, match="no denominator data"):
        be.denominate(panel, mapping={"x": "pop"})


def test_degenerate_slices_found_whatever_the_output_looks_like() -> None:
    """normalise checks zero range/variance from its output: slices whose output is
    ±inf rather than NaN (squared deviations underflowing to a zero sd) are caught too,
    and the pooled reference names the indicator."""
    values = np.array([[1e-170, 0.0, 0.0, 0.0], [1.0, 2.0, 3.0, 4.0]]).T[:, None, :]
    tiny = xr.DataArray(
        values,
        dims=("unit", "time", "indicator"),
        coords={"unit": list("abcd"), "time": [2020], "indicator": ["x", "y"]},
    )
    with pytest.raises(
        DataError, match=r"zscore: zero variance for \[\{'time': 2020, 'indicator': 'x'\}\]"
    ):
        be.normalise(tiny, "zscore")
    flat = tiny.copy()
    flat.loc[{"indicator": "x"}] = 0.1
    with pytest.warns(DataWarning, match=r"minmax: zero range for \[\{'indicator': 'x'\}\]"):
        out = be.normalise(flat, "minmax", reference="pooled")
    assert bool(out.sel(indicator="x").isnull().all())
    assert bool(out.sel(indicator="y").notnull().all())
