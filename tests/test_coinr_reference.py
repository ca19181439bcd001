"""The front doors and the pipeline against COINr 1.1.14's outputs on ASEM.

Every file under ``reference/normalise``, ``impute``, ``treat``, ``aggregate`` and
``pipeline`` is compared with the library's result: values at rtol 1e-12, ranks and flags
exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import brics_ecom as be
from brics_ecom import panel as pn
from brics_ecom._kernels.aggregate import effective_weights
from brics_ecom.spec import IndexSpec
from conftest import ASEM, read_ref

RTOL = 1e-12


@pytest.fixture(scope="module")
def spec() -> IndexSpec:
    meta = pd.read_csv(ASEM / "iMeta.csv", keep_default_na=False, na_values=["NA"])
    return IndexSpec.from_coinr(meta)


def wide_panel(relpath: str) -> xr.DataArray:
    df = read_ref(relpath).reset_index()
    return pn.from_wide(df, unit="uCode", default_time=2018)


def as_frame(da: xr.DataArray, dim: str = "indicator") -> pd.DataFrame:
    da = da.squeeze("time", drop=True) if "time" in da.dims else da
    return da.reset_coords(drop=True).transpose("unit", dim).to_pandas()


def assert_frame_close(ours: pd.DataFrame, ref: pd.DataFrame, rtol: float = RTOL) -> None:
    ours = ours.loc[ref.index, ref.columns]
    a, b = ours.to_numpy(dtype=float), ref.to_numpy(dtype=float)
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_allclose(a, b, rtol=rtol, atol=0)


# ---------------------------------------------------------------------- normalise
@pytest.mark.parametrize(
    ("ref_file", "method", "params"),
    [
        ("normalise/n_minmax_0_100.csv", "minmax", {"lower": 0, "upper": 100}),
        ("normalise/n_zscore_0_1.csv", "zscore", {"mean": 0, "sd": 1}),
        ("normalise/n_rank.csv", "rank", {}),
        ("normalise/n_dist2targ.csv", "dist2targ", {}),
    ],
)
def test_normalise_matches_coinr(spec: IndexSpec, ref_file: str, method: str, params: dict) -> None:
    raw = wide_panel("normalise/input_raw.csv")
    out = be.normalise(raw, method, spec=spec, **params)
    assert_frame_close(as_frame(out), read_ref(ref_file))


def test_normalise_goalposts_matches_coinr(spec: IndexSpec) -> None:
    raw = wide_panel("normalise/input_raw.csv")
    gp = read_ref("normalise/params_per_indicator.csv", index_col="iCode")
    out = be.normalise(
        raw, "goalposts", spec=spec,
        lower=gp["goalpost_lower"].to_dict(), upper=gp["goalpost_upper"].to_dict(), scale=100,
    )  # fmt: skip
    assert_frame_close(as_frame(out), read_ref("normalise/n_goalposts.csv"))
    # the same through goalposts stored on the spec's nodes
    spec_gp = spec
    for code, row in gp.iterrows():
        spec_gp = spec_gp.replace_node(code, goalposts=(row.goalpost_lower, row.goalpost_upper))
    out2 = be.normalise(raw, "goalposts", spec=spec_gp)
    xr.testing.assert_equal(out, out2)  # same values and coords (histories differ)


def test_normalise_per_indicator_override_replaces_params(spec: IndexSpec) -> None:
    raw = wide_panel("normalise/input_raw.csv")
    mixed = be.normalise(raw, "minmax", spec=spec, overrides={"Goods": ("zscore", {})})
    z = be.normalise(raw, "zscore", spec=spec)
    mm = be.normalise(raw, "minmax", spec=spec)
    xr.testing.assert_equal(mixed.sel(indicator="Goods"), z.sel(indicator="Goods"))
    xr.testing.assert_equal(mixed.drop_sel(indicator="Goods"), mm.drop_sel(indicator="Goods"))


# ---------------------------------------------------------------------- impute
@pytest.mark.parametrize(
    ("ref_file", "method", "kwargs"),
    [
        ("impute/i_mean_column.csv", "mean", {}),
        ("impute/i_mean_grp_EurAsia.csv", "group_mean", {"group": "EurAsia_group"}),
        ("impute/i_mean_row_by_pillar.csv", "row_mean", {"level": 2}),
    ],
)
def test_impute_matches_coinr(spec: IndexSpec, ref_file: str, method: str, kwargs: dict) -> None:
    raw = read_ref("impute/input_raw.csv").reset_index()
    groups = read_ref("impute/groups.csv").reset_index()
    df = raw.merge(groups, on="uCode")
    panel = pn.from_wide(
        df, unit="uCode", groups=["EurAsia_group", "GDPpc_group"],
        indicators=[c for c in raw.columns if c != "uCode"], default_time=2018,
    )  # fmt: skip
    out = be.impute(panel, method, spec=spec, **kwargs)
    assert_frame_close(as_frame(out), read_ref(ref_file))


def test_impute_panel_linear_constant_matches_coinr() -> None:
    gaps = read_ref("impute/panel_input_with_gaps.csv", index_col=None)
    panel = pn.from_wide(gaps, unit="uCode", time="Time")
    out = be.impute(panel, "linear_constant")
    ref = read_ref("impute/panel_linear_constant.csv", index_col=None).set_index(["uCode", "Time"])
    ours = pn.to_wide(out)
    ours.index.names = ["uCode", "Time"]
    assert_frame_close(ours, ref)
    assert int(panel.isnull().sum()) == 615 and int(out.isnull().sum()) == 315


def test_impute_panel_gaps_recovered_where_interior() -> None:
    """The blanked cells are really missing in the input (the file is what it claims)."""
    gaps = read_ref("impute/panel_gaps.csv", index_col=None)
    panel = pn.from_wide(
        read_ref("impute/panel_input_with_gaps.csv", index_col=None), unit="uCode", time="Time"
    )
    vals = [
        panel.sel(unit=u, time=t, indicator=i).item()
        for u, t, i in gaps[["uCode", "Time", "iCode"]].itertuples(index=False)
    ]
    assert np.isnan(vals).all() and len(vals) == 300


# ---------------------------------------------------------------------- treat
def test_treat_matches_coinr() -> None:
    raw = wide_panel("treat/raw_default_input.csv")
    out = be.treat(raw)
    assert_frame_close(as_frame(out.data), read_ref("treat/raw_default_treated.csv"))
    points = read_ref("treat/raw_default_treated_points.csv").fillna("")
    flags = as_frame(out.flags).loc[points.index, points.columns]
    assert (flags.to_numpy() == points.to_numpy()).all()


def test_treat_report_matches_coinr_summary() -> None:
    raw = wide_panel("treat/raw_default_input.csv")
    rep = be.treat(raw).report
    summary = read_ref("treat/raw_default_summary.csv", index_col="iCode")
    details = read_ref("treat/raw_default_details.csv", index_col="iCode")
    np.testing.assert_allclose(
        rep.loc[summary.index, "skew_before"], summary["skew_before"], rtol=RTOL
    )
    np.testing.assert_allclose(
        rep.loc[summary.index, "kurt_before"], summary["kurt_before"], rtol=RTOL
    )
    assert rep.loc[summary.index, "pass_before"].tolist() == summary["pass_before"].tolist()
    np.testing.assert_array_equal(
        rep.loc[summary.index, "n_winsorised"].to_numpy(dtype=float),
        summary["n_winsorised"].to_numpy(dtype=float),
    )
    assert (rep.loc[summary.index, "n_points_winhi"] == summary["n_points_winhi"]).all()
    assert (rep.loc[summary.index, "n_points_winlo"] == summary["n_points_winlo"]).all()
    assert (rep.loc[summary.index, "transformed"] == summary["log_transformed"]).all()
    after = rep.loc[details.index, ["skew_after_winsorise", "kurt_after_winsorise"]]
    np.testing.assert_allclose(
        after.to_numpy(dtype=float),
        details[["check_SkewKurt1.Skew", "check_SkewKurt1.Kurt"]].to_numpy(dtype=float),
        rtol=RTOL,
    )


# ---------------------------------------------------------------------- aggregate
@pytest.mark.parametrize(
    ("input_file", "method", "prefix"),
    [
        ("aggregate/input_normalised_1_100.csv", "arithmetic", "aggregate/a_amean"),
        ("aggregate/input_normalised_1_100.csv", "geometric", "aggregate/a_gmean"),
        ("aggregate/input_raw_minmax_with_NAs.csv", "arithmetic", "aggregate/a_amean_rawNA"),
    ],
)
def test_aggregate_matches_coinr(
    spec: IndexSpec, input_file: str, method: str, prefix: str
) -> None:
    norm = wide_panel(input_file)
    agg = be.aggregate(norm, spec, method)
    assert_frame_close(as_frame(agg, "node"), read_ref(prefix + "_scores.csv"))
    ranks = as_frame(be.rank_scores(agg), "node")
    ref_ranks = read_ref(prefix + "_ranks.csv")
    assert (ranks.loc[ref_ranks.index, ref_ranks.columns].to_numpy() == ref_ranks.to_numpy()).all()


# ---------------------------------------------------------------------- pipeline
@pytest.fixture(scope="module")
def example_result() -> be.Result:
    panel, spec = be.datasets.load_asem()
    return be.Pipeline.coinr_example(spec).run(panel)


@pytest.mark.parametrize(
    ("step", "ref_file"),
    [
        ("raw", "pipeline/dset_Raw.csv"),
        ("denominate", "pipeline/dset_Denominated.csv"),
        ("impute", "pipeline/dset_Imputed.csv"),
        ("screen", "pipeline/dset_Screened.csv"),
        ("treat", "pipeline/dset_Treated.csv"),
        ("normalise", "pipeline/dset_Normalised.csv"),
    ],
)
def test_pipeline_stages_match_coinr(example_result: be.Result, step: str, ref_file: str) -> None:
    assert_frame_close(as_frame(example_result.data[step]), read_ref(ref_file))


def test_pipeline_aggregated_matches_coinr(example_result: be.Result) -> None:
    ref = read_ref("pipeline/dset_Aggregated.csv")
    assert_frame_close(as_frame(example_result.scores, "node"), ref)
    assert_frame_close(
        as_frame(example_result.scores, "node"), read_ref("pipeline/aggregate_scores.csv")
    )
    ranks = as_frame(example_result.ranks, "node")
    ref_ranks = read_ref("pipeline/aggregate_ranks.csv")
    assert (ranks.loc[ref_ranks.index, ref_ranks.columns].to_numpy() == ref_ranks.to_numpy()).all()


def test_pipeline_denominators_match_coinr() -> None:
    panel, _ = be.datasets.load_asem()
    ref = read_ref("pipeline/denominators.csv")
    den = as_frame(pn.get_denominators(panel), "denominator")
    assert_frame_close(den, ref)


@pytest.mark.parametrize(
    ("what", "ref_file"),
    [("aggregates", "pipeline/get_results_Aggs.csv"), ("full", "pipeline/get_results_Full.csv")],
)
def test_results_table_matches_coinr(example_result: be.Result, what: str, ref_file: str) -> None:
    ref = read_ref(ref_file, index_col=None).set_index("uCode")
    ours = example_result.table(what=what).drop(columns="uName")
    assert list(ours.index) == list(ref.index)  # same order (sorted by rank)
    assert (ours["Rank"].to_numpy() == ref["Rank"].to_numpy()).all()
    cols = [c for c in ref.columns if c != "Rank"]
    assert set(cols) <= set(ours.columns)
    # COINr's get_results rounds to 15 decimal places (visible on values near 0)
    assert_frame_close(ours[cols].round(15), ref[cols])


def test_results_ranks_table_matches_coinr(example_result: be.Result) -> None:
    ref = read_ref("pipeline/get_results_Aggs_ranks.csv", index_col=None).set_index("uCode")
    ours = example_result.table(what="ranks")
    assert list(ours.index) == list(ref.index)
    cols = list(ref.columns)
    assert (ours[cols].to_numpy(dtype=float) == ref[cols].to_numpy(dtype=float)).all()


def test_group_ranks_match_coinr(example_result: be.Result) -> None:
    ref = read_ref("pipeline/get_results_Aggs_groupranks_EurAsia.csv", index_col=None).set_index(
        "uCode"
    )
    ours = example_result.table(group="EurAsia_group")
    cols = [c for c in ref.columns if c != "EurAsia_group"]
    ours = ours.loc[ref.index]
    assert (ours["EurAsia_group"] == ref["EurAsia_group"]).all()
    assert (ours[cols].to_numpy(dtype=float) == ref[cols].to_numpy(dtype=float)).all()


def test_screen_summary_matches_coinr(example_result: be.Result) -> None:
    ref = read_ref("pipeline/screen_summary.csv")
    ours = example_result.reports["screen"].report.loc[ref.index]
    for col in ("N_missing", "N_zero", "N_miss_or_zero"):
        assert (ours[col].to_numpy() == ref[col].to_numpy()).all(), col
    for col in ("Dat_Avail", "Non_Zero"):
        np.testing.assert_allclose(ours[col].to_numpy(), ref[col].to_numpy(), rtol=RTOL)
    for col in ("LowData", "LowNonZero", "LowDatOrZeroFlag", "Included"):
        assert (ours[col].to_numpy() == ref[col].to_numpy()).all(), col


def test_pipeline_metadata_matches_coinr(spec: IndexSpec) -> None:
    used = read_ref("pipeline/indicator_meta_used.csv", index_col="iCode")
    for code, row in used.iterrows():
        node = spec.node(code)
        assert node.direction == row.Direction and node.weight == row.Weight
        assert node.parent == row.Parent
        assert (node.denominator or np.nan) == row.Denominator or (
            node.denominator is None and pd.isna(row.Denominator)
        )
    lineage = read_ref("pipeline/lineage.csv", index_col="Indicator")
    for code, row in lineage.iterrows():
        assert spec.ancestor(code, 2) == row["Pillar"]
        assert spec.ancestor(code, 3) == row["Sub-index"]
        assert spec.ancestor(code, 4) == row["Index"]
    w = read_ref("pipeline/weights_original.csv", index_col="iCode")
    for code, row in w.iterrows():
        assert spec.node(code).weight == row.Weight and spec.node(code).level == row.Level


@pytest.mark.parametrize(
    "ref_file", ["pipeline/effective_weights.csv", "weights/effective_weights_nominal.csv"]
)
def test_effective_weights_match_coinr(spec: IndexSpec, ref_file: str) -> None:
    ref = read_ref(ref_file, index_col="iCode")
    codes = list(spec.codes)
    parent = np.array([codes.index(spec.parent(c)) if spec.parent(c) else -1 for c in codes])
    weights = np.array([spec.weights[c] for c in codes])
    eff = pd.Series(effective_weights(weights, parent), index=codes)
    np.testing.assert_allclose(
        eff.loc[ref.index].to_numpy(), ref["EffWeight"].to_numpy(), rtol=RTOL
    )
