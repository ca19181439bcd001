"""brics_ecom.analysis against COINr 1.1.14 (reference/stats), SciPy, pandas and hand
computations."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.stats
import xarray as xr

import brics_ecom as be
from brics_ecom import analysis as an
from brics_ecom._kernels import stats as ks
from brics_ecom.errors import DataError, DataWarning, InvalidParameterError
from brics_ecom.spec import IndexSpec, Node
from conftest import read_ref

RTOL = 1e-10


def rel_diff(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    ok = ~np.isnan(b)
    if not ok.any():
        return 0.0
    return float(np.max(np.abs(a[ok] - b[ok]) / np.maximum(np.abs(b[ok]), 1e-300)))


def assert_unchanged(panel: xr.DataArray, before: xr.DataArray) -> None:
    xr.testing.assert_identical(panel.drop_attrs(), before.drop_attrs())
    assert panel.attrs.keys() == before.attrs.keys()
    xr.testing.assert_identical(panel.attrs["denominators"], before.attrs["denominators"])


@pytest.fixture(scope="module")
def asem() -> tuple[xr.DataArray, IndexSpec, be.Result]:
    panel, spec = be.datasets.load_asem()
    return panel, spec, be.Pipeline.coinr_example(spec).run(panel)


@pytest.fixture(scope="module")
def asem_panel() -> tuple[xr.DataArray, IndexSpec]:
    return be.datasets.load_asem(panel=True)


def messy(seed: int = 0, n: int = 30, p: int = 5, lead: tuple[int, ...] = ()) -> np.ndarray:
    """Data with NaN, ties and different scales (units on axis -2)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(*lead, n, p)) * np.arange(1, p + 1) + 1000.0 * np.arange(p)
    x[..., 1] = np.round(x[..., 1])  # ties
    x[rng.random(x.shape) < 0.15] = np.nan
    return x


# ---------------------------------------------------------------------- describe
def test_describe_matches_coinr_get_stats(asem) -> None:
    _, _, res = asem
    ref = read_ref("stats/get_stats_Raw.csv", index_col="iCode")
    ours = an.describe(res, dset="raw").loc[2018].loc[ref.index]
    assert list(ours.columns) == list(ref.columns)
    for col in ref.columns:
        if col.startswith("Flag."):
            assert ours[col].tolist() == ref[col].tolist(), col
        elif col.startswith("N."):
            np.testing.assert_array_equal(ours[col].to_numpy(), ref[col].to_numpy())
        else:
            assert rel_diff(ours[col], ref[col]) <= RTOL, col


def test_describe_round_signif_matches_coinr_default(asem) -> None:
    panel, _, _ = asem
    ref = read_ref("stats/get_stats_Raw_default_nsignif3.csv", index_col="iCode")
    ours = an.describe(panel, round_signif=3).loc[2018].loc[ref.index]
    for col in ref.columns:
        if col.startswith("Flag."):
            assert ours[col].tolist() == ref[col].tolist(), col
        else:  # R's signif, bit for bit
            np.testing.assert_array_equal(ours[col].to_numpy(float), ref[col].to_numpy(float))


def test_describe_panel_is_per_year_and_matches_pandas(asem_panel) -> None:
    panel, spec = asem_panel
    st = an.describe(panel, spec=spec)
    assert st.index.names == ["time", "indicator"]
    for year in (2018, 2021):
        df = be.panel.to_wide(panel, time=year)[list(spec.indicators)]
        got = st.loc[year].loc[list(spec.indicators)]
        np.testing.assert_allclose(got["Mean"], df.mean(), rtol=1e-13)
        np.testing.assert_allclose(got["Median"], df.median(), rtol=1e-15)
        np.testing.assert_allclose(got["Std"], df.std(), rtol=1e-12)
        np.testing.assert_allclose(got["Skew"], df.skew(), rtol=1e-10)  # type 2 as well
        np.testing.assert_allclose(got["Kurt"], df.kurt(), rtol=1e-10)
        np.testing.assert_array_equal(got["N.Avail"], df.count())
        np.testing.assert_array_equal(got["N.Unique"], df.nunique())
        np.testing.assert_array_equal(got["N.Same"], [df[c].value_counts().max() for c in df])
        np.testing.assert_array_equal(got["N.NonZero"], (df.fillna(0) != 0).sum())


def test_describe_flags_follow_r_logic_and_edge_cases() -> None:
    # A: n = 3 -> kurtosis NA; B: all missing; C: zeros and few unique values
    data = np.array(
        [[1.0, np.nan, 0.0], [2.0, np.nan, 0.0], [10.0, np.nan, 0.0], [np.nan, np.nan, 5.0]]
    )
    panel = xr.DataArray(
        data[:, None, :], dims=("unit", "time", "indicator"),
        coords={"unit": list("abcd"), "time": [2020], "indicator": ["A", "B", "C"]},
    )  # fmt: skip
    st = an.describe(panel).loc[2020]
    assert np.isnan(st.loc["A", "Kurt"]) and not np.isnan(st.loc["A", "Skew"])
    assert st.loc["A", "Flag.SkewKurt"] == "ok"  # FALSE & NA = FALSE in R
    assert pd.isna(an.describe(panel, t_skew=1.0).loc[(2020, "A"), "Flag.SkewKurt"])  # TRUE & NA
    assert st.loc["B", "N.Avail"] == 0 and np.isnan(st.loc["B", "Mean"])
    assert st.loc["B", "Flag.Avail"] == "LOW" and np.isnan(st.loc["B", "Frc.NonZero"])
    # C: 1 non-zero of 4 units; 2 unique; the most frequent value (0) three times
    assert st.loc["C", ["N.NonZero", "N.Unique", "N.Same"]].tolist() == [1, 2, 3]
    assert st.loc["C", "Frc.Same"] == 0.75
    assert st.loc["C", "Flag.NonZero"] == "LOW" and st.loc["C", "Flag.Unique"] == "ok"
    # COINr divides by the number of units (not of available values) in the flags:
    # A has 3 unique of 4 units -> 0.75
    assert an.describe(panel, t_unq=0.8).loc[(2020, "A"), "Flag.Unique"] == "LOW"
    assert st.loc["A", "Frc.Unique"] == 1.0


def test_describe_n_same_groups_values_alike_to_15_digits() -> None:
    # R's table() works on as.character(x): 0.1 + 0.2 and 0.3 print alike
    x = np.array([[0.1 + 0.2, 0.3, 1.0, 2.0]])
    s = ks.column_stats(x)
    assert s["n_unique"][0] == 4 and s["n_same"][0] == 2


def test_signif_r_hand_values() -> None:
    got = ks.signif_r([123456.0, 0.000123456, -0.0196078431372549, 0.0, np.nan, np.inf], 2)
    np.testing.assert_array_equal(got, [120000.0, 0.00012, -0.02, 0.0, np.nan, np.inf])
    # nearbyint rounds half to even, as R's signif: signif(2.5, 1) == 2, signif(-3.5, 1) == -4
    np.testing.assert_array_equal(ks.signif_r([2.5, -3.5, 0.25], 1), [2.0, -4.0, 0.2])
    np.testing.assert_array_equal(ks.signif_r([1.23456e307, 1.26e-310], 3), [1.23e307, 1.26e-310])
    np.testing.assert_array_equal(ks.signif_r([1.5], 30), [1.5])


def test_describe_does_not_mutate_and_checks_params(asem) -> None:
    panel, spec, _ = asem
    before = panel.copy(deep=True)
    an.describe(panel, spec=spec)
    assert_unchanged(panel, before)
    with pytest.raises(InvalidParameterError, match="t_skew"):
        an.describe(panel, t_skew="2")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="round_signif"):
        an.describe(panel, round_signif=0)


# ---------------------------------------------------------------------- correlations
def test_correlations_match_coinr_every_pair(asem) -> None:
    _, _, res = asem
    ref = read_ref("stats/corr_L1_L1_pearson_long.csv", index_col=None)
    long = an.correlations(res, form="long")
    assert len(long) == len(ref) == 49 * 49
    got = long.set_index(["var1", "var2"])["correlation"].loc[
        list(zip(ref.Var1, ref.Var2, strict=True))
    ]
    assert rel_diff(got.to_numpy(), ref["Correlation"].to_numpy()) <= RTOL
    # the same through the normalised panel and in matrix form
    m = an.correlations(res.data["normalise"], spec=res.spec).sel(time=2018)
    np.testing.assert_allclose(m.sel(var1=ref.Var1.to_xarray(), var2=ref.Var2.to_xarray()),
                               ref["Correlation"], rtol=RTOL)  # fmt: skip


def test_correlations_pvalue_mask_matches_coinr(asem) -> None:
    _, _, res = asem
    ref = read_ref("stats/corr_L1_L1_pearson_pval0.05_long.csv", index_col=None)
    long = an.correlations(res, form="long", pval=0.05)
    got = long.set_index(["var1", "var2"])["correlation"].loc[
        list(zip(ref.Var1, ref.Var2, strict=True))
    ]
    assert ref["Correlation"].isna().sum() == 1066
    assert rel_diff(got.to_numpy(), ref["Correlation"].to_numpy()) <= RTOL  # NaN at the same places
    # pval=0 switches the mask off, as in COINr
    off = an.correlations(res, pval=0)
    assert not bool(off.isnull().any())


def test_pearson_matches_pandas_and_scipy_with_missing_data() -> None:
    x = messy(1)
    r, n = ks.pairwise_pearson(x)
    df = pd.DataFrame(x)
    np.testing.assert_allclose(r, df.corr().to_numpy(), rtol=1e-12)
    np.testing.assert_array_equal(n, df.notna().astype(int).T @ df.notna().astype(int))
    p = ks.correlation_pvalues(r, n)
    for i in range(x.shape[1]):
        for j in range(i + 1, x.shape[1]):
            ok = ~np.isnan(x[:, i]) & ~np.isnan(x[:, j])
            res = scipy.stats.pearsonr(x[ok, i], x[ok, j])
            np.testing.assert_allclose([r[i, j], p[i, j]], [res.statistic, res.pvalue], rtol=1e-10)
    c, _ = ks.pairwise_cov(x)
    np.testing.assert_allclose(c, df.cov().to_numpy(), rtol=1e-12)


def test_spearman_reranks_each_pair_like_r_and_pandas() -> None:
    x = messy(2)
    r, n = ks.pairwise_spearman(x)
    np.testing.assert_allclose(r, pd.DataFrame(x).corr("spearman").to_numpy(), rtol=1e-12)
    p = ks.correlation_pvalues(r, n, "spearman")
    for i in range(x.shape[1]):
        for j in range(x.shape[1]):
            if i == j:
                continue
            ok = ~np.isnan(x[:, i]) & ~np.isnan(x[:, j])
            res = scipy.stats.spearmanr(x[ok, i], x[ok, j])
            np.testing.assert_allclose([r[i, j], p[i, j]], [res.statistic, res.pvalue], rtol=1e-10)
    # complete data: one ranking of every column
    full = np.random.default_rng(3).normal(size=(20, 4))
    np.testing.assert_allclose(
        ks.pairwise_spearman(full)[0], scipy.stats.spearmanr(full).statistic, rtol=1e-12
    )


def test_kendall_tau_b_and_pvalues_match_scipy() -> None:
    x = messy(4, n=25, p=4)
    x[:, 2] = np.round(x[:, 2] / 3)  # more ties
    r, _ = ks.pairwise_kendall(x)
    p = ks.kendall_pvalues(x)
    np.testing.assert_allclose(r, pd.DataFrame(x).corr("kendall").to_numpy(), rtol=1e-12)
    for i in range(x.shape[1]):
        for j in range(i + 1, x.shape[1]):
            ok = ~np.isnan(x[:, i]) & ~np.isnan(x[:, j])
            a, b = x[ok, i], x[ok, j]
            ties = min(np.unique(a).size, np.unique(b).size) < a.size
            res = scipy.stats.kendalltau(a, b, method="asymptotic" if ties else "exact")
            np.testing.assert_allclose([r[i, j], p[i, j]], [res.statistic, res.pvalue], rtol=1e-12)
    # cross matrix (x against y) equals the block of the joint matrix
    rxy, _ = ks.pairwise_kendall(x[:, :2], x[:, 2:])
    np.testing.assert_allclose(rxy, r[:2, 2:], rtol=1e-14)


def test_kendall_exact_pvalue_hand_case() -> None:
    # 5 units, one discordant pair of 10: tau = 0.8, exact two-sided p = 2 * 5/120
    x = np.array([[1.0, 2.0], [2.0, 1.0], [3.0, 3.0], [4.0, 4.0], [5.0, 5.0]])
    assert ks.pairwise_kendall(x)[0][0, 1] == pytest.approx(0.8, rel=1e-15)
    assert ks.kendall_pvalues(x)[0, 1] == pytest.approx(2 * 5 / 120, rel=1e-12)


def test_correlation_kernels_broadcast_over_leading_dims() -> None:
    x = messy(5, lead=(3, 2))
    for kernel in (ks.pairwise_pearson, ks.pairwise_spearman, ks.pairwise_kendall):
        r, _ = kernel(x)
        assert r.shape == (3, 2, 5, 5)
        for idx in np.ndindex(3, 2):
            np.testing.assert_array_equal(kernel(x[idx])[0], r[idx])


def test_rank_average_matches_scipy() -> None:
    x = messy(6)
    ours = ks.rank_average(x, axis=0)
    ref = scipy.stats.rankdata(x, axis=0, nan_policy="omit")
    np.testing.assert_array_equal(ours, ref)


def test_correlations_per_year_and_methods(asem_panel) -> None:
    panel, spec = asem_panel
    for method in ("pearson", "spearman", "kendall"):
        r = an.correlations(panel, spec=spec, codes="Physical", method=method)
        assert r.dims == ("time", "var1", "var2") and r.sizes["time"] == 5
        for year in (2018, 2022):
            df = be.panel.to_wide(panel, time=year)[list(r.var1.values)]
            np.testing.assert_allclose(r.sel(time=year), df.corr(method), rtol=1e-12)


def test_correlations_within_groups(asem) -> None:
    _, spec, res = asem
    ref = read_ref("stats/corr_L1_L1_pearson_long.csv", index_col=None)
    pillar = {c: spec.ancestor(c, 2) for c in spec.indicators}
    ref = ref[ref.Var1.map(pillar) == ref.Var2.map(pillar)]
    long = an.correlations(res, within=2, form="long")
    assert long.columns.tolist() == ["time", "group", "var1", "var2", "correlation"]
    assert len(long) == len(ref) == sum(len(spec.children(p)) ** 2 for p in spec.level_codes(2))
    assert (long["group"] == long["var1"].map(pillar)).all()
    got = long.set_index(["var1", "var2"])["correlation"].loc[
        list(zip(ref.Var1, ref.Var2, strict=True))
    ]
    assert rel_diff(got.to_numpy(), ref["Correlation"].to_numpy()) <= RTOL
    m = an.correlations(res, within=3)
    assert np.isnan(float(m.sel(time=2018, var1="LPI", var2="Renew")))  # Conn vs Sust
    assert not np.isnan(float(m.sel(time=2018, var1="LPI", var2="Goods")))


def test_correlations_with_parent_and_family(asem) -> None:
    _, spec, res = asem
    s = res.scores.sel(time=2018)
    long = an.correlations(res, levels=(1, 2), with_parent=True, form="long")
    assert len(long) == 49 and (long["var2"] == long["var1"].map(spec.parent)).all()
    for _, row in long.iloc[::7].iterrows():
        expected = np.corrcoef(s.sel(node=row.var1), s.sel(node=row.var2))[0, 1]
        assert row.correlation == pytest.approx(expected, rel=1e-12)
    # reversed order: aggregates first
    rev = an.correlations(res, levels=(2, 1), with_parent=True, form="long")
    assert len(rev) == 49 and (rev["var1"] == rev["var2"].map(spec.parent)).all()
    fam = an.correlations(res, with_parent="family", form="long")
    assert len(fam) == 3 * 49
    assert fam.columns.tolist() == ["time", "var1", "level", "var2", "correlation"]
    for lvl in (2, 3, 4):
        part = fam[fam.level == lvl].set_index("var1")
        assert (part["var2"] == [spec.ancestor(c, lvl) for c in part.index]).all()
        direct = an.correlations(res, levels=(1, lvl), with_parent=True, form="long")
        np.testing.assert_allclose(
            part.loc[direct["var1"], "correlation"], direct["correlation"], rtol=1e-15
        )
    mat = an.correlations(res, with_parent="family")
    assert mat.dims == ("time", "var1", "level") and mat.sel(level=4).notnull().all()
    # pillars with their sub-index and the index
    fam2 = an.correlations(res, levels=2, with_parent="family", form="long")
    assert len(fam2) == 16


def test_correlations_use_directions_flips_negative_indicators(asem) -> None:
    _, spec, res = asem
    neg = next(c for c in spec.indicators if spec.directions[c] == -1)
    raw_r = an.correlations(res, dset="raw").sel(time=2018)
    dir_r = an.correlations(res, dset="raw", use_directions=True).sel(time=2018)
    np.testing.assert_allclose(dir_r.sel(var1=neg, var2="LPI"), -raw_r.sel(var1=neg, var2="LPI"))
    assert float(dir_r.sel(var1=neg, var2=neg)) == 1.0


def test_correlations_between_levels_and_codes(asem) -> None:
    _, spec, res = asem
    r = an.correlations(res, levels=(2, 3), form="matrix").sel(time=2018)
    assert r.shape == (8, 2)
    s = res.scores.sel(time=2018)
    assert float(r.sel(var1="P2P", var2="Sust")) == pytest.approx(
        np.corrcoef(s.sel(node="P2P"), s.sel(node="Sust"))[0, 1], rel=1e-12
    )
    r2 = an.correlations(res, codes=(["LPI", "Flights"], "Environ"))
    assert r2.var1.values.tolist() == ["LPI", "Flights"]
    assert r2.var2.values.tolist() == list(spec.children("Environ"))


def test_correlations_errors(asem) -> None:
    panel, spec, res = asem
    with pytest.raises(InvalidParameterError, match=r"'method'.*kendall.*got 'pearsn'"):
        an.correlations(res, method="pearsn")
    with pytest.raises(InvalidParameterError, match=r"'levels'.*\[1, 2, 3, 4\]"):
        an.correlations(res, levels=5)
    with pytest.raises(InvalidParameterError, match="levels above 1 need a spec"):
        an.correlations(panel, levels=2)
    with pytest.raises(DataError, match="not in the data"):
        an.correlations(panel, spec=spec, levels=2)
    with pytest.raises(InvalidParameterError, match="'within'"):
        an.correlations(res, within=1)
    with pytest.raises(InvalidParameterError, match="with_parent"):
        an.correlations(res, with_parent=True)
    with pytest.raises(InvalidParameterError, match="'form'"):
        an.correlations(res, form="wide")
    with pytest.raises(InvalidParameterError, match="'dset'"):
        an.correlations(res, dset="normalised")
    with pytest.raises(InvalidParameterError, match="not in the specification"):
        an.correlations(res, codes="Nope")
    with pytest.raises(InvalidParameterError, match="'pval'"):
        an.correlations(res, pval=1.5)


def test_correlations_too_few_units_and_constant_indicators() -> None:
    data = np.array([[1.0, 5.0, 2.0], [2.0, np.nan, 2.0], [3.0, np.nan, 2.0], [4.0, 1.0, 2.0]])
    panel = xr.DataArray(
        data[:, None, :], dims=("unit", "time", "indicator"),
        coords={"unit": list("abcd"), "time": [2020], "indicator": ["x", "y", "k"]},
    )  # fmt: skip
    with pytest.warns(DataWarning, match=r"\['k'\] are constant"):
        r = an.correlations(panel)
    r = r.sel(time=2020)
    assert np.isnan(float(r.sel(var1="x", var2="k"))) and float(r.sel(var1="x", var2="y")) == -1
    panel2 = panel.copy()
    panel2[1:4, 0, 1] = np.nan  # y has a single value
    with (
        pytest.raises(DataError, match=r"Only 1 unit\(s\) have data for both 'x' and 'y'"),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore", DataWarning)
        an.correlations(panel2)


def test_correlations_dask_matches_eager(asem_panel) -> None:
    pytest.importorskip("dask")
    panel, spec = asem_panel
    eager = an.correlations(panel, spec=spec, codes="Conn", pval=0.05)
    lazy = an.correlations(panel.chunk({"time": 2}), spec=spec, codes="Conn", pval=0.05)
    assert lazy.chunks is not None
    xr.testing.assert_allclose(eager, lazy.compute(), rtol=1e-14)


def test_inputs_not_mutated(asem) -> None:
    panel, spec, res = asem
    before = panel.copy(deep=True)
    scores = res.scores.copy(deep=True)
    an.correlations(panel, spec=spec, use_directions=True, pval=0.05)
    an.correlations(res, with_parent="family")
    an.cronbach_alpha(res, level=None)
    assert_unchanged(panel, before)
    xr.testing.assert_identical(res.scores, scores)


# ---------------------------------------------------------------------- flags and denominators
def test_correlation_flags_match_coinr_correlations(asem) -> None:
    _, spec, res = asem
    ref = read_ref("stats/corr_L1_L1_pearson_long.csv", index_col=None)
    order = {c: i for i, c in enumerate(spec.indicators)}
    pillar = {c: spec.ancestor(c, 2) for c in spec.indicators}
    same = ref[
        (ref.Var1.map(pillar) == ref.Var2.map(pillar)) & (ref.Var1.map(order) < ref.Var2.map(order))
    ]
    flags = an.correlation_flags(res, high=0.7, low=-0.3)
    expected = same[(same.Correlation > 0.7) | (same.Correlation < -0.3)]
    assert len(flags) == len(expected) > 0
    got = flags.set_index(["var1", "var2"]).loc[
        list(zip(expected.Var1, expected.Var2, strict=True))
    ]
    assert rel_diff(got["correlation"].to_numpy(), expected["Correlation"].to_numpy()) <= RTOL
    assert (got["flag"] == np.where(expected["Correlation"].to_numpy() > 0, "high", "low")).all()
    assert (got["group"] == expected["Var1"].map(pillar).to_numpy()).all()
    only_high = an.correlation_flags(res, high=0.7, low=None)
    assert (only_high["flag"] == "high").all() and len(only_high) == (
        expected.Correlation > 0.7
    ).sum()
    everywhere = an.correlation_flags(res, high=0.9, low=-0.9, within=None)
    assert everywhere["group"].isna().all()
    with pytest.raises(InvalidParameterError, match="at least one"):
        an.correlation_flags(res, high=None, low=None)


def test_denominator_correlations_match_pandas(asem) -> None:
    panel, spec, res = asem
    long = an.denominator_correlations(res)
    denoms = panel.attrs["denominators"].sel(time=2018).to_pandas()
    raw = be.panel.to_wide(panel, time=2018)
    assert len(long) == 49 * denoms.shape[1]
    for _, row in long.sample(25, random_state=0).iterrows():
        expected = raw[row.indicator].corr(denoms[row.denominator])
        assert row.correlation == pytest.approx(expected, rel=1e-12)
    hi = an.denominator_correlations(panel, spec=spec, threshold=0.6)
    assert (hi["correlation"].abs() > 0.6).all()
    assert len(hi) == (long["correlation"].abs() > 0.6).sum()
    mat = an.denominator_correlations(panel, form="matrix", method="spearman")
    assert mat.dims == ("time", "indicator", "denominator")
    bare = panel.copy()
    bare.attrs = {}
    with pytest.raises(DataError, match="no denominators"):
        an.denominator_correlations(bare)


# ---------------------------------------------------------------------- Cronbach
def test_cronbach_alpha_matches_coinr(asem) -> None:
    _, _, res = asem
    ref = read_ref("stats/cronbach_alpha.csv", index_col=None)
    dsets = {"Raw": "raw", "Normalised": "normalise", "Aggregated": "scores"}
    for (dset, data_level), part in ref.groupby(["dset", "data_level"]):
        got = an.cronbach_alpha(res, level=None, data_level=int(data_level), dset=dsets[dset])
        got = got.sel(time=2018, node=part["group"].to_numpy())
        np.testing.assert_array_equal(got["level"], part["group_level"])
        assert rel_diff(got.to_numpy(), part["alpha"].to_numpy()) <= RTOL, dset


def test_cronbach_alpha_hand_computed_and_pairwise() -> None:
    x = np.array([[1.0, 2.0, 3.0], [2.0, 2.0, 4.0], [3.0, 5.0, 4.0], [4.0, 4.0, 6.0]])
    c = np.cov(x, rowvar=False)
    k = 3
    expected = k / (k - 1) * (1 - np.trace(c) / c.sum())
    assert ks.cronbach_alpha_cov(ks.pairwise_cov(x)[0]) == pytest.approx(expected, rel=1e-14)
    xm = x.copy()
    xm[0, 2] = np.nan
    cm = pd.DataFrame(xm).cov().to_numpy()  # pairwise complete, like R's
    expected_m = k / (k - 1) * (1 - np.trace(cm) / cm.sum())
    assert ks.cronbach_alpha_cov(ks.pairwise_cov(xm)[0]) == pytest.approx(expected_m, rel=1e-14)
    assert np.isnan(ks.cronbach_alpha_cov(np.array([[2.0]])))


def test_cronbach_alpha_panel_and_errors(asem_panel, asem) -> None:
    panel, spec = asem_panel
    a = an.cronbach_alpha(panel, spec, level=[2, 3])
    assert a.dims == ("time", "node") and a.sizes == {"time": 5, "node": 10}
    one = an.cronbach_alpha(panel.sel(time=[2020]), spec, level=2)
    xr.testing.assert_allclose(a.sel(time=[2020], node=one.node.values), one, rtol=1e-15)
    with pytest.raises(InvalidParameterError, match="needs the index tree"):
        an.cronbach_alpha(panel)
    with pytest.raises(InvalidParameterError, match=r"'level'.*\[2, 3, 4\]"):
        an.cronbach_alpha(panel, spec, level=1)
    with pytest.raises(DataError, match="not in the data"):
        an.cronbach_alpha(panel, spec, level=3, data_level=2)


# ---------------------------------------------------------------------- remove_elements
def loop_removal(res: be.Result, level: int) -> pd.DataFrame:
    """Independent re-implementation: one pipeline run per element, weights set to 0."""
    spec = res.spec
    nominal = res.ranks.sel(node=spec.root, time=2018).to_series()
    out = {}
    for e in spec.level_codes(level):
        run = res.pipeline.set(aggregate__weights={e: 0.0}).run(res, from_step="aggregate")
        ranks = run.ranks.sel(node=spec.root, time=2018).to_series()
        out[e] = (nominal - ranks).abs().mean()
    return pd.Series(out)


@pytest.mark.parametrize("level", [1, 2, 3])
def test_remove_elements_matches_a_loop_of_pipeline_runs(asem, level: int) -> None:
    _, spec, res = asem
    rem = an.remove_elements(res, level)
    expected = loop_removal(res, level)
    got = rem.mean_abs_rank_diff.sel(time=2018).to_series()
    pd.testing.assert_series_equal(got.loc[expected.index], expected, check_names=False)
    frame = rem.to_frame()
    assert frame.columns.tolist() == ["time", "removed", "mean_abs_rank_diff"]
    assert len(frame) == len(spec.level_codes(level))
    # COINr's sign: nominal rank minus new rank
    e = spec.level_codes(level)[0]
    np.testing.assert_array_equal(
        rem.rank_diff.sel(removed=e), rem.nominal_ranks - rem.ranks.sel(removed=e)
    )


def test_remove_elements_drop_equals_zero_weight_for_arithmetic(asem) -> None:
    _, _, res = asem
    zw = an.remove_elements(res, 2)
    dr = an.remove_elements(res, 2, how="drop")
    xr.testing.assert_allclose(zw.scores, dr.scores, rtol=1e-12)
    sub = an.remove_elements(res, 1, node="Conn")
    assert sub.node == "Conn"
    # removing a Sust indicator leaves Conn unchanged
    assert float(sub.mean_abs_rank_diff.sel(time=2018, removed="Renew")) == 0.0


def test_remove_elements_errors(asem) -> None:
    _, _, res = asem
    with pytest.raises(InvalidParameterError, match=r"'level'.*\[1, 2, 3\]"):
        an.remove_elements(res, 4)
    with pytest.raises(InvalidParameterError, match="above the removed level"):
        an.remove_elements(res, 2, node="Physical")
    with pytest.raises(InvalidParameterError, match="'how'"):
        an.remove_elements(res, 2, how="delete")
    with pytest.raises(InvalidParameterError, match="takes a Result"):
        an.remove_elements(res.scores, 2)  # type: ignore[arg-type]
    spec = IndexSpec([
        Node("a", parent="P"), Node("b", parent="Q"), Node("c", parent="Q"),
        Node("P", kind="aggregate", parent="I"), Node("Q", kind="aggregate", parent="I"),
        Node("I", kind="aggregate"),
    ])  # fmt: skip
    rng = np.random.default_rng(0)
    panel = xr.DataArray(
        rng.random((6, 1, 3)), dims=("unit", "time", "indicator"),
        coords={"unit": list("uvwxyz"), "time": [2020], "indicator": ["a", "b", "c"]},
    )  # fmt: skip
    small = be.Pipeline(spec, ["normalise", "aggregate"]).run(panel)
    with pytest.raises(InvalidParameterError, match=r"only child of 'P'.*how='drop'"):
        an.remove_elements(small, 1)
    dropped = an.remove_elements(small, 1, how="drop")
    # without 'a' (and so without P) the index is the mean of b and c
    s = small.scores.sel(time=2020)
    expected = (s.sel(node="b") + s.sel(node="c")) / 2
    np.testing.assert_allclose(dropped.scores.sel(removed="a", time=2020), expected, rtol=1e-14)


# ---------------------------------------------------------------------- compare
def test_compare_two_results(asem) -> None:
    _, _, res = asem
    other = res.pipeline.set(aggregate__method="geometric", normalise__lower=1).run(
        res, from_step="normalise"
    )
    cmp = an.compare(res, other)
    assert cmp.index.names == ["unit", "time"]
    a = res.scores.sel(node="Index").to_series()
    b = other.scores.sel(node="Index").to_series()
    np.testing.assert_array_equal(cmp["score_diff"], (a - b).loc[cmp.index])
    ranks_b = other.ranks.sel(node="Index").to_series()
    np.testing.assert_array_equal(cmp["rank_b"], ranks_b.loc[cmp.index])
    np.testing.assert_array_equal(cmp["abs_rank_diff"], (cmp["rank_a"] - cmp["rank_b"]).abs())
    same = an.compare(res, res, node="Conn")
    assert (same["rank_diff"] == 0).all() and (same["score_diff"] == 0).all()
    # a unit present in one result only is kept with NaN (outer join)
    fewer = res.scores.sel(unit=res.scores.unit.values[1:])
    part = an.compare(res, fewer, node="Index")
    assert len(part) == 51 and np.isnan(part.iloc[0]["score_b"])
    with pytest.raises(InvalidParameterError, match="'node'"):
        an.compare(res, other, node="Nope")
    with pytest.raises(InvalidParameterError, match="give node="):
        an.compare(res.scores, other.scores)
