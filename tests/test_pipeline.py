"""Pipeline: immutability, set(), YAML replay, partial re-runs, history, results."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import brics_ecom as be
from brics_ecom.errors import InvalidParameterError


@pytest.fixture(scope="module")
def asem() -> tuple[xr.DataArray, be.IndexSpec]:
    return be.datasets.load_asem()


@pytest.fixture(scope="module")
def asem_panel() -> tuple[xr.DataArray, be.IndexSpec]:
    return be.datasets.load_asem(panel=True)


def quiet_run(pipe: be.Pipeline, data, **kw) -> be.Result:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", be.errors.DataWarning)
        return pipe.run(data, **kw)


@pytest.fixture(scope="module")
def example(asem) -> tuple[be.Pipeline, be.Result]:
    panel, spec = asem
    pipe = be.Pipeline.coinr_example(spec)
    return pipe, quiet_run(pipe, panel)


# ---------------------------------------------------------------------- set
def test_set_returns_a_new_pipeline_and_leaves_the_original(example) -> None:
    pipe, _ = example
    before = pipe.to_dict()
    new = pipe.set(normalise__lower=1.0, aggregate__method="geometric", treat__winmax=3)
    assert new is not pipe and pipe.to_dict() == before
    assert pipe.get("normalise__lower") == 0.0 and new.get("normalise__lower") == 1.0
    assert new.get("aggregate__method") == "geometric" and new.get("treat__winmax") == 3
    assert [s.name for s in new.steps] == [s.name for s in pipe.steps]
    assert new.spec is pipe.spec
    with pytest.raises(TypeError):
        pipe.steps[0].params["x"] = 1  # type: ignore[index]


def test_set_method_drops_parameters_the_new_method_does_not_take(example) -> None:
    pipe, _ = example
    pipe = pipe.set(normalise__reference="pooled")
    z = pipe.set(normalise__method="zscore")
    assert dict(z.step("normalise").params) == {"method": "zscore", "reference": "pooled"}
    z2 = pipe.set(normalise__method="zscore", normalise__sd=10)
    assert dict(z2.step("normalise").params) == {
        "method": "zscore",
        "reference": "pooled",
        "sd": 10,
    }
    # same method: nothing is dropped
    same = pipe.set(normalise__method="minmax")
    assert dict(same.step("normalise").params) == dict(pipe.step("normalise").params)
    assert "normalise__sd" in z.param_paths() and "normalise__lower" not in z.param_paths()


def test_set_spec_and_step_editing(example) -> None:
    pipe, _ = example
    spec2 = pipe.spec.with_weights({"Conn": 2})
    assert pipe.set(spec=spec2).spec == spec2 and pipe.spec != spec2
    short = pipe.without("treat")
    assert [s.name for s in short.steps] == [
        "denominate",
        "impute",
        "screen",
        "normalise",
        "aggregate",
    ]
    back = short.with_step("treat", {"winmax": 5}, before="normalise")
    assert [s.name for s in back.steps] == [s.name for s in pipe.steps]
    with pytest.raises(InvalidParameterError, match="no 'rescale' step"):
        pipe.step("rescale")


# ---------------------------------------------------------------------- YAML
def test_yaml_round_trip_and_exact_replay(example, asem, tmp_path) -> None:
    panel, _ = asem
    pipe, res = example
    text = pipe.to_yaml()
    again = be.Pipeline.from_yaml(text)
    assert again == pipe
    replay = quiet_run(again, panel)
    xr.testing.assert_identical(replay.scores, res.scores)
    xr.testing.assert_identical(replay.ranks, res.ranks)
    path = tmp_path / "pipe.yaml"
    pipe.to_yaml(path)
    assert be.Pipeline.from_yaml(path) == pipe and be.Pipeline.from_yaml(str(path)) == pipe


def test_yaml_keeps_tuples_integer_levels_and_mappings(asem) -> None:
    panel, spec = asem
    pipe = be.Pipeline(
        spec,
        [
            ("impute", {"method": "group_median", "group": "EurAsia_group"}),
            ("treat", {"winmax": 3, "overrides": {"Goods": {"transform": "log_CT_plus"}}}),
            (
                "normalise",
                {
                    "method": "minmax",
                    "lower": 1.0,
                    "upper": 100.0,
                    "overrides": {"Flights": ("rank", {})},
                },
            ),
            (
                "aggregate",
                {
                    "by_level": {2: "arithmetic", 3: "geometric"},
                    "weights": {"Conn": 2.0},
                    "dat_thresh": 0.5,
                },
            ),
        ],
    )
    again = be.Pipeline.from_yaml(pipe.to_yaml())
    assert again == pipe
    assert again.get("aggregate__by_level") == {2: "arithmetic", 3: "geometric"}
    assert again.get("normalise__overrides") == {"Flights": ("rank", {})}
    a, b = quiet_run(pipe, panel), quiet_run(again, panel)
    xr.testing.assert_identical(a.scores, b.scores)
    with pytest.raises(InvalidParameterError, match="'aggregate__weights' holds an array"):
        pipe.set(
            aggregate__weights=xr.DataArray([1.0], dims="node", coords={"node": ["Conn"]})
        ).to_yaml()


# ---------------------------------------------------------------------- partial runs
def test_run_from_a_result_reuses_earlier_steps(example, asem) -> None:
    panel, _ = asem
    pipe, res = example
    ranked = pipe.set(normalise__method="rank")
    part = ranked.run(res, from_step="normalise")
    for step in ("raw", "denominate", "impute", "screen", "treat"):
        assert part.data[step] is res.data[step]
    assert part.reports["screen"] is res.reports["screen"]
    full = quiet_run(ranked, panel)
    xr.testing.assert_identical(part.scores, full.scores)
    xr.testing.assert_identical(part.data["normalise"], full.data["normalise"])
    # the normalised indicators are ranks now
    assert part.scores.sel(node="LPI").max().item() == part.scores.sizes["unit"]
    # run from the aggregation only: weights changed
    heavier = pipe.set(aggregate__weights={"Conn": 3.0})
    xr.testing.assert_identical(
        heavier.run(res, from_step="aggregate").scores, quiet_run(heavier, panel).scores
    )


def test_run_from_a_panel_treats_it_as_the_previous_output(example) -> None:
    pipe, res = example
    treated = res.data["treat"]
    part = pipe.run(treated, from_step="normalise")
    xr.testing.assert_identical(part.scores, res.scores)
    assert list(part.data) == ["raw", "treat", "normalise", "aggregate"]
    with pytest.raises(
        InvalidParameterError,
        match=r"'from_step' parameter of run must be one of \[.*'treat'.*\]; got 'weights'",
    ):
        pipe.run(treated, from_step="weights")
    short = be.Pipeline(pipe.spec, ["normalise", "aggregate"])
    no_agg = quiet_run(be.Pipeline(pipe.spec, ["normalise"]), res.data["treat"])
    with pytest.raises(InvalidParameterError, match=r"no data for step 'denominate'"):
        pipe.run(no_agg, from_step="impute")
    assert no_agg.scores is None and no_agg.ranks is None
    with pytest.raises(InvalidParameterError, match="no scores"):
        no_agg.to_dataset()
    assert short.run(no_agg, from_step="aggregate").scores is not None


# ---------------------------------------------------------------------- history
def test_every_step_output_names_its_calls(example) -> None:
    _, res = example
    expected_last = {
        "raw": "Pipeline.run(raw panel)",
        "denominate": "denominate(",
        "impute": "impute(method='group_mean', group='EurAsia_group'",
        "screen": "screen(dat_thresh=0.9",
        "treat": "treat(winmax=5",
        "normalise": "normalise(method='minmax'",
        "aggregate": "aggregate(method='arithmetic'",
    }
    previous: list[str] = []
    for step, start in expected_last.items():
        hist = res.data[step].attrs["history"]
        assert hist[-1].startswith(start), (step, hist)
        assert hist[:-1] == previous  # each step extends the history of the one before
        previous = hist
    assert res.history == previous and res.ranks.attrs["history"] == previous
    assert "lower=0.0, upper=100.0" in res.data["normalise"].attrs["history"][-1]


# ---------------------------------------------------------------------- results
def test_result_to_dataset(example) -> None:
    _, res = example
    ds = res.to_dataset()
    assert sorted(ds.data_vars) == ["ranks", "scores"]
    assert ds["scores"].dims == ("unit", "time", "node")
    assert ds.sizes["node"] == 49 + 11
    assert ds.attrs["history"] == res.history
    xr.testing.assert_equal(ds["ranks"], be.rank_scores(res.scores))
    # ranks: 1 = best, ties at the minimum
    idx = ds["scores"].sel(node="Index", time=2018)
    best = idx.to_series().idxmax()
    assert ds["ranks"].sel(node="Index", time=2018, unit=best).item() == 1


def test_result_table(example) -> None:
    _, res = example
    t = res.table()
    spec = res.spec
    aggs = [c for lvl in (4, 3, 2) for c in spec.level_codes(lvl)]
    assert list(t.columns) == ["uName", "Rank", *aggs]
    assert t["Rank"].is_monotonic_increasing and t["Rank"].iloc[0] == 1
    assert (t["Index"].diff().dropna() <= 0).all()
    scores = res.scores.sel(time=2018)
    assert t.loc["DEU", "Conn"] == scores.sel(unit="DEU", node="Conn").item()
    full = res.table(what="full")
    assert list(full.columns[-49:]) == list(spec.indicators)
    ranks = res.table(what="ranks")
    assert ranks.loc["DEU", "Conn"] == res.ranks.sel(time=2018, unit="DEU", node="Conn").item()
    unsorted = res.table(sort=False)
    assert list(unsorted.index) == list(res.scores["unit"].values)
    grp = res.table(group="EurAsia_group")
    asia = grp[grp["EurAsia_group"] == "Asia"]
    assert sorted(asia["Index"].tolist()) == list(range(1, len(asia) + 1))
    with pytest.raises(InvalidParameterError, match=r"'what' parameter of Result\.table"):
        res.table(what="everything")
    with pytest.raises(InvalidParameterError, match="time 1999 not in the results"):
        res.table(1999)


# ---------------------------------------------------------------------- panels
def test_panel_runs_end_to_end_year_by_year(asem_panel) -> None:
    panel, spec = asem_panel
    pipe = be.Pipeline.coinr_example(spec)
    res = quiet_run(pipe, panel)
    assert res.scores.sizes == {"unit": 51, "time": 5, "node": 60}
    assert res.ranks.sizes == res.scores.sizes
    assert not bool(res.scores.sel(node="Index").isnull().any())
    # every year is normalised on its own: min 0 and max 100 in each year
    n = res.data["normalise"].sel(indicator="LPI")
    np.testing.assert_array_equal(n.min("unit").values, 0.0)
    np.testing.assert_array_equal(n.max("unit").values, 100.0)
    t2018 = res.table(2018)
    idx = res.scores.sel(time=2018, node="Index").to_series()
    np.testing.assert_array_equal(
        t2018["Index"].to_numpy(), idx.sort_values(ascending=False).to_numpy()
    )
    pd.testing.assert_frame_equal(res.table(), res.table(2022))  # the last year by default
    # year 2018 of the panel run equals a cross-section run on the 2018 slice alone
    one = panel.sel(time=[2018])
    one.attrs = dict(panel.attrs)
    cross = quiet_run(pipe, one)
    xr.testing.assert_identical(
        res.scores.sel(time=[2018], node="Index"), cross.scores.sel(node="Index")
    )
    xr.testing.assert_identical(res.scores.sel(time=[2018]), cross.scores)
    xr.testing.assert_identical(res.ranks.sel(time=[2018]), cross.ranks)


def test_panel_pipeline_with_time_imputation_and_pooled_reference(asem_panel) -> None:
    panel, spec = asem_panel
    pipe = be.Pipeline(
        spec,
        [
            ("denominate", {}),
            ("impute", {"method": "linear_constant"}),
            ("normalise", {"method": "minmax", "reference": "pooled"}),
            ("aggregate", {}),
        ],
    )
    res = quiet_run(pipe, panel)
    n = res.data["normalise"]
    # pooled: 0 and 100 are reached once over all years, not in every year
    lpi = n.sel(indicator="LPI")
    assert lpi.min().item() == 0.0 and lpi.max().item() == 100.0
    assert (lpi.max("unit") < 100).any()
    assert int(res.data["impute"].isnull().sum()) <= int(res.data["denominate"].isnull().sum())
    rep = res.reports["impute"]
    assert int(rep["n_imputed"].sum()) == int(
        res.data["denominate"].isnull().sum() - res.data["impute"].isnull().sum()
    )


def test_set_to_a_user_method_drops_the_old_methods_parameters() -> None:
    from brics_ecom.registry import register, unregister

    @register("normalise", "halve_test")
    def _halve(x, *, ref=None, axis=-1):  # type: ignore[no-untyped-def]
        return x / 2

    try:
        panel, spec = be.datasets.load_asem()
        pipe = be.Pipeline(spec, [("normalise", {"method": "minmax", "lower": 1, "upper": 5})])
        new = pipe.set(normalise__method="halve_test")
        assert dict(new.step("normalise").params) == {"method": "halve_test"}
        out = new.run(panel).data["normalise"]
        directed = panel * xr.DataArray(
            [spec.directions[c] for c in panel["indicator"].values], dims="indicator",
            coords={"indicator": panel["indicator"].values},
        )  # fmt: skip
        np.testing.assert_array_equal(out.values, (directed / 2).transpose(*out.dims).values)
    finally:
        unregister("normalise", "halve_test")


def test_keep_limits_the_stored_panels_and_not_the_scores() -> None:
    panel, spec = be.datasets.load_asem()
    pipe = be.Pipeline.coinr_example(spec)
    full = pipe.run(panel)
    lean = pipe.run(panel, keep="none")
    assert set(lean.data) == {"aggregate"}
    xr.testing.assert_identical(lean.scores, full.scores)
    some = pipe.run(panel, keep=["treat"])
    assert set(some.data) == {"treat", "aggregate"}
    xr.testing.assert_identical(some.data["treat"], full.data["treat"])
    rerun = pipe.set(normalise__method="rank").run(some, from_step="normalise")
    xr.testing.assert_identical(rerun.scores, pipe.set(normalise__method="rank").run(panel).scores)
    with pytest.raises(InvalidParameterError, match="unknown steps \\['trea'\\]"):
        pipe.run(panel, keep=["trea"])


def test_named_weight_sets_are_stored_used_and_saved() -> None:
    panel, spec = be.datasets.load_asem()
    pipe = be.Pipeline.coinr_example(spec).with_weights("conn_x3", {"Conn": 3.0})
    res = pipe.set(aggregate__weights="conn_x3").run(panel)
    scores = res.scores.sel(time=2018)
    # the index is the weighted mean of its two sub-indices: (3 Conn + Sust) / 4
    expected = (3 * scores.sel(node="Conn") + scores.sel(node="Sust")) / 4
    np.testing.assert_allclose(scores.sel(node="Index"), expected, rtol=1e-13)
    # pillars are unchanged by a weight on a sub-index
    nominal = pipe.run(panel).scores.sel(time=2018)
    xr.testing.assert_equal(scores.sel(node="Physical"), nominal.sel(node="Physical"))
    # YAML round trip keeps the sets and replays the same numbers
    again = be.Pipeline.from_yaml(pipe.set(aggregate__weights="conn_x3").to_yaml())
    assert again.weight_sets == {"conn_x3": {"Conn": 3.0}}
    xr.testing.assert_identical(again.run(panel).scores, res.scores)
    with pytest.raises(InvalidParameterError, match=r"weight set 'nope'.*\['conn_x3'\]"):
        pipe.set(aggregate__weights="nope")
    with pytest.raises(be.errors.SpecError, match="not in the tree"):
        pipe.with_weights("bad", {"NotACode": 1.0})


def test_reports_of_steps_not_kept_drop_their_panels_but_keep_tables() -> None:
    panel, spec = be.datasets.load_asem()
    full = be.Pipeline.coinr_example(spec).run(panel)
    lean = be.Pipeline.coinr_example(spec).run(panel, keep="none")
    pd.testing.assert_frame_equal(lean.reports["treat"].report, full.reports["treat"].report)
    pd.testing.assert_frame_equal(lean.reports["screen"].report, full.reports["screen"].report)
    assert lean.reports["screen"].data is None
    with pytest.raises(InvalidParameterError, match="keep including 'treat'"):
        _ = lean.reports["treat"].data
    with pytest.raises(InvalidParameterError, match="flags were not kept"):
        _ = lean.reports["treat"].flags


def test_specs_steps_and_pipelines_pickle() -> None:
    import pickle

    panel, spec = be.datasets.load_asem()
    spec = spec.replace_node("Goods", overrides={"normalise": {"method": "rank"}})
    pipe = be.Pipeline.coinr_example(spec).with_weights("w", {"Conn": 2.0})
    again = pickle.loads(pickle.dumps(pipe))
    assert again == pipe and again.spec == spec and again.spec.name == spec.name
    assert pickle.loads(pickle.dumps(pipe.steps[0])) == pipe.steps[0]
    xr.testing.assert_identical(again.run(panel).scores, pipe.run(panel).scores)


@pytest.mark.parametrize(
    "keep", ["none", ["raw"], ["denominate"], ["impute"], ["screen"], ["treat"], ["normalise"]]
)
def test_donated_intermediates_change_nothing(keep) -> None:
    """A run may fill its own intermediate panels in place (impute, treat) when nothing
    keeps them: results, reports and kept panels equal those of a run that keeps
    everything, and the caller's panel is untouched, also when a step passes its input
    through (screen dropping nothing)."""
    from brics_ecom.datasets import make_synthetic

    panel, spec = make_synthetic(60, 4, 12, rng=3)
    before = panel.values.copy()
    pipe = be.Pipeline(
        spec,
        [
            ("denominate", {}),
            ("impute", {"method": "group_mean", "group": "region"}),
            ("screen", {"dat_thresh": 0.1}),
            ("treat", {}),
            ("normalise", {"method": "minmax"}),
            ("aggregate", {}),
        ],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", be.errors.DataWarning)
        full = pipe.run(panel)
        lean = pipe.run(panel, keep=keep)
        # the same steps called one by one (front doors never write into their input)
        direct = {"raw": panel, "denominate": be.denominate(panel, spec)}
        direct["impute"] = be.impute(direct["denominate"], "group_mean", group="region")
        direct["screen"] = be.screen(direct["impute"], dat_thresh=0.1).data
        direct["treat"] = be.treat(direct["screen"], spec=spec).data
        direct["normalise"] = be.normalise(direct["treat"], "minmax", spec=spec)
        scores = be.aggregate(direct["normalise"], spec, include_indicators=True)
    np.testing.assert_array_equal(panel.values, before)
    xr.testing.assert_identical(lean.scores, full.scores)
    np.testing.assert_array_equal(lean.scores.values, scores.values)
    for name, data in lean.data.items():
        xr.testing.assert_identical(data, full.data[name])
        if name != "aggregate":
            np.testing.assert_array_equal(data.values, direct[name].values)
    for name in ("impute",):
        for key, series in lean.reports[name].items():
            pd.testing.assert_series_equal(series, full.reports[name][key])
    pd.testing.assert_frame_equal(lean.reports["treat"].report, full.reports["treat"].report)
    assert int(full.reports["impute"]["n_imputed"].sum()) > 0
    assert bool(full.reports["treat"].report["n_winsorised"].sum() > 0)


def test_donated_normalise_input_still_names_degenerate_and_empty_slices() -> None:
    """normalise may overwrite a donated input; its checks then work from masks kept
    beforehand: the same warning for a zero-range slice and the same error for an
    indicator without data as when the input is kept."""
    from brics_ecom.datasets import make_synthetic

    panel, spec = make_synthetic(40, 3, 8, rng=5)
    flat = panel.copy()
    flat.loc[{"indicator": "ind02", "time": flat["time"].values[1]}] = 7.0
    pipe = be.Pipeline(
        spec, [("treat", {}), ("normalise", {"method": "minmax"}), ("aggregate", {})]
    )
    year = int(flat["time"].values[1])
    for keep in ("all", "none"):
        with (
            warnings.catch_warnings(),
            pytest.warns(
                be.errors.DataWarning,
                match=rf"minmax: zero range for \[\{{'time': {year}, 'indicator': 'ind02'\}}\]",
            ),
        ):
            warnings.filterwarnings("ignore", "treat: the skew/kurtosis test returned NA")
            res = pipe.run(flat, keep=keep)
        assert bool(res.scores.sel(node="ind02", time=year).isnull().all())
    empty = panel.copy()
    empty.loc[{"indicator": "ind05"}] = np.nan
    for keep in ("all", "none"):
        with (
            warnings.catch_warnings(),
            pytest.raises(be.errors.DataError, match=r"Indicators \['ind05'\] have no data"),
        ):
            warnings.simplefilter("ignore", be.errors.DataWarning)
            pipe.run(empty, keep=keep)
