"""PCA, factor analysis, KMO, Bartlett and VIF against COINr, statsmodels and hand formulas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats
import xarray as xr
from statsmodels.multivariate.factor import Factor
from statsmodels.stats.outliers_influence import variance_inflation_factor

import brics_ecom as be
from brics_ecom._kernels import multivariate as mk
from brics_ecom._multivariate import (
    bartlett_sphericity,
    factor_analysis,
    factor_weights,
    kmo,
    pca,
    pca_weights,
    vif,
)
from brics_ecom.errors import DataError, DataWarning, InvalidParameterError, SpecError
from brics_ecom.spec import IndexSpec, Node
from conftest import read_ref

RTOL = 1e-10


@pytest.fixture(scope="module")
def asem():
    panel, spec = be.datasets.load_asem()
    res = be.Pipeline.coinr_example(spec).run(panel)
    return res, spec


@pytest.fixture(scope="module")
def norm(asem) -> xr.DataArray:
    return asem[0].data["normalise"]


def complete_rows(df: pd.DataFrame) -> np.ndarray:
    return df.dropna().to_numpy(dtype=float)


def corr_by_hand(x: np.ndarray) -> np.ndarray:
    return np.corrcoef(x, rowvar=False)


def group_frame(norm: xr.DataArray, spec: IndexSpec, group: str) -> pd.DataFrame:
    codes = list(spec.children(group))
    return norm.isel(time=0).sel(indicator=codes).transpose("unit", "indicator").to_pandas()


def small_spec() -> IndexSpec:
    return IndexSpec(
        [Node("a", parent="P"), Node("b", parent="P"), Node("c", parent="P"),
         Node("d", parent="Q"), Node("e", parent="Q"),
         Node("P", kind="aggregate", parent="I"), Node("Q", kind="aggregate", parent="I"),
         Node("I", kind="aggregate")]
    )  # fmt: skip


def small_panel(n: int = 30, years: tuple[int, ...] = (2020, 2021), seed: int = 4) -> xr.DataArray:
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n, len(years), 1))
    noise = rng.normal(size=(n, len(years), 5))
    values = base * np.array([1.0, 0.8, 0.5, -0.3, 0.6]) + noise
    return xr.DataArray(
        values,
        dims=("unit", "time", "indicator"),
        coords={"unit": [f"U{i:02d}" for i in range(n)], "time": list(years),
                "indicator": list("abcde")},
    )  # fmt: skip


# ---------------------------------------------------------------------------- COINr
def test_pca_loadings_and_variance_match_coinr(asem) -> None:
    res, _ = asem
    p = pca(res, by=2, time=2018)
    ref = read_ref("stats/pca_Normalised_L1_bygroup_loadings_PC1-3.csv", index_col=None)
    for group, rows in ref.groupby("group"):
        codes = rows["iCode"].tolist()
        ours = p.loadings.sel(indicator=codes, component=["PC1", "PC2", "PC3"]).values
        theirs = rows[["PC1", "PC2", "PC3"]].to_numpy()
        assert (p.loadings.group.sel(indicator=codes) == group).all()
        # one sign per component: ours has positive column sums, COINr's is LAPACK's
        signs = np.sign((ours * theirs).sum(axis=0))
        np.testing.assert_allclose(ours * signs, theirs, rtol=RTOL, atol=0)
    var = read_ref("stats/pca_Normalised_L1_bygroup_variance.csv", index_col=None)
    for _, row in var.iterrows():
        sel = {"group": row["group"], "component": f"PC{row['PC']}"}
        for name in ("sdev", "prop_var", "cum_prop_var"):
            ours = float(getattr(p, name).sel(sel))
            np.testing.assert_allclose(ours, row[name], rtol=RTOL, atol=0)
    assert int(p.n_units.sel(group="Social")) == 51


def test_pca_weights_match_coinr_exactly_with_signs(asem) -> None:
    res, spec = asem
    w = pca_weights(res)  # rule="coinr", sign="coinr", by=2
    ref = read_ref("stats/pca_Normalised_L1_bygroup_weights.csv", index_col="iCode")
    ours = w.sel(time=2018).to_series().loc[ref.index]
    np.testing.assert_allclose(ours.to_numpy(), ref["Weight"].to_numpy(), rtol=RTOL, atol=0)
    assert set(w["node"].values) == set(spec.codes)
    # COINr's signs: all negative in Political and Social, Forest and TBTs negative
    assert (ref.loc[list(spec.children("Political")), "Weight"] < 0).all()
    assert (ours.loc[["Forest", "TBTs"]] < 0).all()


def test_weights_sign_conventions_differ_only_by_group_signs(asem) -> None:
    res, spec = asem
    p = pca(res, by=2, time=2018)
    coinr = pca_weights(res, time=2018)
    positive = pca_weights(res, time=2018, sign="positive")
    codes = list(p.weights.indicator.values)
    np.testing.assert_array_equal(positive.sel(node=codes).values, p.weights.values)
    for group in spec.level_codes(2):
        kids = list(spec.children(group))
        assert float(positive.sel(node=kids).sum()) > 0
        ratio = coinr.sel(node=kids).values / positive.sel(node=kids).values
        np.testing.assert_allclose(np.abs(ratio), 1.0, rtol=1e-12)
        assert len(set(np.sign(ratio))) == 1  # one flip per group, or none
    flipped = {g for g in spec.level_codes(2)
               if float(coinr.sel(node=spec.children(g)[0]) / positive.sel(
                   node=spec.children(g)[0])) < 0}  # fmt: skip
    assert flipped == {"Political", "Social"}


# ---------------------------------------------------------------------------- PCA by hand
def test_pca_equals_numpy_svd_on_complete_rows(norm, asem) -> None:
    _, spec = asem
    holed = norm.copy(deep=True)
    holed.loc[{"unit": ["AUS", "CHN"], "indicator": "CO2"}] = np.nan
    holed.loc[{"unit": "IND", "indicator": "Forest"}] = np.nan
    before = holed.copy(deep=True)
    p = pca(holed, spec, by=2)
    xr.testing.assert_identical(holed, before)  # input not mutated
    df = group_frame(holed, spec, "Environ")
    x = complete_rows(df)
    z = (x - x.mean(0)) / x.std(0, ddof=1)
    _, s, vt = np.linalg.svd(z, full_matrices=False)
    ours = p.loadings.isel(time=0).sel(indicator=list(df.columns)).dropna("component").values
    signs = np.sign((ours * vt.T).sum(0))
    np.testing.assert_allclose(ours, vt.T * signs, rtol=1e-9, atol=1e-12)
    sdev = p.sdev.isel(time=0).sel(group="Environ").dropna("component").values
    np.testing.assert_allclose(sdev, s / np.sqrt(len(x) - 1), rtol=1e-12)
    assert int(p.n_units.isel(time=0).sel(group="Environ")) == 48
    assert int(p.n_units.isel(time=0).sel(group="Social")) == 51
    sc = p.scores.isel(time=0).sel(group="Environ")
    assert sc.sel(unit=["AUS", "CHN", "IND"]).isnull().all()
    used = sc.dropna("unit", how="all").dropna("component")
    np.testing.assert_allclose(used.values, z @ (vt.T * signs), rtol=1e-9, atol=1e-12)
    # the scores' variances are the eigenvalues
    np.testing.assert_allclose(used.var("unit", ddof=1).values, sdev**2, rtol=1e-10)


def test_pca_sign_convention_positive_sums(asem) -> None:
    res, _ = asem
    p = pca(res, by=2, time=2018)
    sums = p.loadings.sum("indicator", skipna=True)
    valid = p.loadings.notnull().any("indicator")
    assert bool((sums.where(valid) > 0).sum() == valid.sum())


def test_fix_signs_ties_use_first_nonzero() -> None:
    v = np.array([[-0.70710678118654746, 0.6], [0.70710678118654757, 0.8]])
    out = mk.fix_signs(v)
    np.testing.assert_array_equal(out[:, 0], -v[:, 0])
    np.testing.assert_array_equal(out[:, 1], v[:, 1])


def test_pca_per_year_and_extra_dims_equal_slices() -> None:
    panel = small_panel()
    spec = small_spec()
    draws = xr.concat([panel, panel * 2.0 + panel**2], dim="draw")
    p = pca(draws, spec, by=2)
    assert p.loadings.dims == ("draw", "time", "indicator", "component")
    assert p.scores.dims == ("unit", "draw", "time", "group", "component")
    for d in range(2):
        for t in (2020, 2021):
            one = pca(draws.isel(draw=d).sel(time=[t]), spec, by=2)
            np.testing.assert_allclose(
                p.loadings.isel(draw=d).sel(time=t).values,
                one.loadings.sel(time=t).values, rtol=1e-12, atol=1e-14,
            )  # fmt: skip
            # and by hand
            x = draws.isel(draw=d).sel(time=t, indicator=["d", "e"]).values
            ev = np.linalg.eigvalsh(np.corrcoef(x, rowvar=False))[::-1]
            np.testing.assert_allclose(
                p.sdev.isel(draw=d).sel(time=t, group="Q").dropna("component").values,
                np.sqrt(ev), rtol=1e-12,
            )  # fmt: skip


def test_pca_all_indicators_without_spec_and_n_components(norm) -> None:
    sub = norm.sel(indicator=["LPI", "Flights", "Goods", "CO2"]).isel(time=0)
    p = pca(sub, n_components=2)
    assert p.loadings.dims == ("indicator", "component")
    assert p.loadings["component"].values.tolist() == ["PC1", "PC2"]
    assert p.sdev["group"].values.tolist() == ["all"]
    ev = np.linalg.eigvalsh(np.corrcoef(sub.transpose("unit", "indicator").values.T))[::-1]
    np.testing.assert_allclose(p.sdev.sel(group="all").values, np.sqrt(ev[:2]), rtol=1e-12)
    np.testing.assert_allclose(p.prop_var.sel(group="all").values, ev[:2] / ev.sum(), rtol=1e-12)


def test_pca_on_pillar_scores_level2(asem) -> None:
    res, spec = asem
    p = pca(res, by=3, level=2, time=2018)
    pillars = list(spec.children("Conn"))
    x = res.scores.sel(time=2018, node=pillars).transpose("unit", "node").values
    ev = np.linalg.eigvalsh(np.corrcoef(x, rowvar=False))[::-1]
    np.testing.assert_allclose(
        p.sdev.sel(group="Conn").dropna("component").values, np.sqrt(ev), rtol=1e-12
    )


def test_pca_to_frame(asem) -> None:
    res, _ = asem
    p = pca(res, by=2, time=2018)
    lo = p.to_frame()
    assert lo.index.names == ["group", "indicator"]
    assert lo.loc[("Political", "IGOs"), "PC1"] == pytest.approx(0.7088219376480935, rel=1e-10)
    var = p.to_frame("variance")
    assert len(var) == 49  # one row per group and component
    assert var.loc[("Social", "PC9"), "cum_prop_var"] == pytest.approx(1.0, rel=1e-12)
    assert p.to_frame("weights").shape == (49, 1)
    assert p.to_frame("scores").shape == (51 * 8, 9)
    assert p.scores["unit_name"].sel(unit="CHE").item() == "Switzerland"
    with pytest.raises(InvalidParameterError, match="'what'"):
        p.to_frame("eigen")


# ---------------------------------------------------------------------------- factor analysis
@pytest.mark.parametrize(
    ("method", "rotation", "m", "group"),
    [("pa", "varimax", 2, "Social"), ("pa", None, 2, "Social"), ("ml", "varimax", 2, "Physical"),
     ("pc", "varimax", 3, "Social"), ("pa", "quartimax", 3, "P2P")],
)  # fmt: skip
def test_factor_analysis_equals_statsmodels_by_hand(norm, asem, method, rotation, m, group) -> None:
    _, spec = asem
    df = group_frame(norm, spec, group)
    fa = factor_analysis(
        norm.sel(indicator=list(df.columns)), n_factors=m, method=method, rotation=rotation
    )
    x = complete_rows(df)
    if method == "pc":
        fit = Factor(x, n_factor=m, method="pa", smc=False).fit(maxiter=1)
    elif method == "ml":
        fit = Factor(x, n_factor=m, method="ml").fit(rng=0)
    else:
        fit = Factor(x, n_factor=m, method="pa").fit()
    unrot = fit.loadings.copy()
    if rotation is not None:
        fit.rotate(rotation)
    ours = fa.loadings.isel(time=0).sel(indicator=list(df.columns)).values
    signs = np.sign((ours * fit.loadings).sum(axis=0))
    np.testing.assert_allclose(ours, fit.loadings * signs, rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(
        fa.communality.isel(time=0).values, (unrot**2).sum(axis=1), rtol=RTOL
    )
    assert int(fa.n_factors.isel(time=0).sel(group="all")) == m
    expl = fa.explained.isel(time=0).sel(group="all").values
    np.testing.assert_allclose(expl, (fit.loadings**2).sum(axis=0), rtol=RTOL)


def test_pc_factors_are_scaled_principal_components(norm, asem) -> None:
    _, spec = asem
    fa = factor_analysis(norm, spec, by=2, n_factors=2, method="pc", rotation=None)
    p = pca(norm, spec, by=2)
    lo = fa.loadings_unrotated.isel(time=0).sel(indicator=list(spec.children("Instit")))
    pc = p.loadings.isel(time=0).sel(indicator=lo.indicator, component=["PC1", "PC2"])
    sd = p.sdev.isel(time=0).sel(group="Instit", component=["PC1", "PC2"])
    np.testing.assert_allclose(lo.values, (pc * sd).values, rtol=1e-10)


def test_oecd_retention_rule_on_handbook_table16() -> None:
    # OECD/JRC Handbook (2008), Table 16, eigenvalues of the TAI data: variance shares
    # 41.9, 21.8, 12.3, 11.1, 6.0, 3.7, 2.2, 0.9 % of 8 indicators. The Handbook keeps 4.
    shares = np.array([41.9, 21.8, 12.3, 11.1, 6.0, 3.7, 2.2, 0.9]) / 100
    assert int(mk.n_factors_rule(shares * 8)) == 4
    # eigenvalue > 1 alone would keep 2
    assert int(((shares * 8) > 1).sum()) == 2
    # the 60 % criterion adds factors: shares 33.3, 10.6, 10.6, 10.0 (not > 10), ... %
    # -> (i) keeps 1, (ii) keeps 3, (iii) needs 4 (cumulated 64.4 %)
    ev = [3.0, 0.95, 0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.2]
    assert int(mk.n_factors_rule(ev)) == 4
    # vectorised over leading dims
    got = mk.n_factors_rule(np.array([[3.6, 0.2, 0.1, 0.1], [1.2, 1.1, 1.0, 0.7]]))
    assert got.tolist() == [1, 4]


def test_factor_weights_hand_example() -> None:
    # Hand computation (fractions): V1 = 1.04, V2 = 1.20, shares 13/28 and 15/28;
    # S1 = (16, 9, 1, 0)/26, S2 = (1, 4, 9, 16)/30; a = (F1, F1, F2, F2);
    # raw = (16/56, 9/56, 9/56, 16/56) -> weights (16, 9, 9, 16)/50.
    L = pd.DataFrame(
        {"F1": [0.8, 0.6, 0.2, 0.0], "F2": [0.2, 0.4, 0.6, 0.8]}, index=["i1", "i2", "i3", "i4"]
    )
    fw = factor_weights(L)
    np.testing.assert_allclose(fw.weights.to_numpy(), [0.32, 0.18, 0.18, 0.32], rtol=1e-12)
    np.testing.assert_allclose(fw.explained.to_numpy(), [1.04, 1.20], rtol=1e-12)
    np.testing.assert_allclose(fw.share.to_numpy(), [13 / 28, 15 / 28], rtol=1e-12)
    np.testing.assert_allclose(fw.scaled["F1"].to_numpy(), np.array([16, 9, 1, 0]) / 26)
    np.testing.assert_allclose(fw.scaled["F2"].to_numpy(), np.array([1, 4, 9, 16]) / 30)
    assert fw.assigned.tolist() == ["F1", "F1", "F2", "F2"]
    assert fw.to_frame().loc["i4", "weight"] == pytest.approx(0.32, rel=1e-12)
    assert L.equals(fw.loadings)


def test_factor_weights_assignment_rules_differ_by_hand() -> None:
    # indicator "c" loads 0.5 on F1 and 0.45 on F2: larger squared loading on F1 but a
    # larger share of F2's (small) variance: V1 = 1.87, V2 = 0.4625
    L = np.array([[0.9, 0.0], [0.9, 0.1], [0.5, 0.45], [0.0, 0.5]])
    v1, v2 = 0.81 + 0.81 + 0.25, 0.01 + 0.2025 + 0.25
    s1, s2 = v1 / (v1 + v2), v2 / (v1 + v2)
    raw_loading = np.array([0.81 / v1 * s1, 0.81 / v1 * s1, 0.25 / v1 * s1, 0.25 / v2 * s2])
    raw_scaled = raw_loading.copy()
    raw_scaled[2] = 0.2025 / v2 * s2
    fw = factor_weights(L)
    np.testing.assert_allclose(fw.weights, raw_loading / raw_loading.sum(), rtol=1e-12)
    assert fw.assigned.tolist() == ["F1", "F1", "F1", "F2"]
    fs = factor_weights(L, assign="scaled")
    np.testing.assert_allclose(fs.weights, raw_scaled / raw_scaled.sum(), rtol=1e-12)
    assert fs.assigned.tolist() == ["F1", "F1", "F2", "F2"]


def test_factor_weights_ignores_nan_factors_and_rejects_bad_input() -> None:
    L = np.array([[0.8, 0.2, np.nan], [0.6, 0.4, np.nan], [0.2, 0.6, np.nan], [0.0, 0.8, np.nan]])
    np.testing.assert_allclose(factor_weights(L).weights, [0.32, 0.18, 0.18, 0.32], rtol=1e-12)
    with pytest.raises(InvalidParameterError, match="2-D"):
        factor_weights([0.1, 0.2])
    with pytest.raises(InvalidParameterError, match="assign"):
        factor_weights(L, assign="max")


def test_oecd_weights_from_factor_result_and_pca_weights(asem, norm) -> None:
    res, spec = asem
    fa = factor_analysis(res, by=2, method="pc")
    w = fa.weights()
    for group in spec.level_codes(2):
        kids = list(spec.children(group))
        lo = fa.loadings.isel(time=0).sel(indicator=kids).dropna("factor", how="all")
        expected = factor_weights(lo.to_pandas()).weights
        np.testing.assert_allclose(
            w.isel(time=0).sel(indicator=kids).values, expected.to_numpy(), rtol=1e-12
        )
    pw = pca_weights(res, rule="oecd")
    np.testing.assert_allclose(
        pw.isel(time=0).sel(node=list(w.indicator.values)).values, w.isel(time=0).values,
        rtol=1e-12,
    )  # fmt: skip
    assert (pw.sel(node=["Conn", "Sust", "Index"]) == 1.0).all()
    # usable by aggregate
    agg = be.aggregate(norm, spec, weights=pw)
    assert bool(agg.notnull().all())
    # COINr's weights have negative entries, which aggregate rejects
    with pytest.raises(SpecError, match="negative"):
        be.aggregate(norm, spec, weights=pca_weights(res))


@pytest.mark.filterwarnings("ignore:Fitting did not converge")
def test_factor_analysis_default_rule_and_ml_identification(asem) -> None:
    res, _ = asem
    fa = factor_analysis(res, by=2, time=2018)
    ev = fa.eigenvalues.sel(group="Social").values
    assert int(fa.n_factors.sel(group="Social")) == int(mk.n_factors_rule(ev))
    # never more than p - 1 factors from the automatic rule
    assert int(fa.n_factors.sel(group="Political")) == 2
    with pytest.raises(DataError, match="not identified"):
        factor_analysis(res, by=2, method="ml")
    k = factor_analysis(res, by=2, n_factors="kaiser", time=2018)
    assert int(k.n_factors.sel(group="Social")) == int((ev > 1).sum())
    assert set(fa.to_frame("communality").columns) == {"communality", "uniqueness"}
    assert fa.to_frame("explained").shape[0] == 8


# ---------------------------------------------------------------------------- KMO / Bartlett
def kmo_by_hand(r: np.ndarray) -> tuple[float, np.ndarray]:
    p = len(r)
    inv = np.linalg.inv(r)
    q = np.empty_like(r)
    for i in range(p):
        for j in range(p):
            q[i, j] = -inv[i, j] / np.sqrt(inv[i, i] * inv[j, j])
    num = sum(r[i, j] ** 2 for i in range(p) for j in range(p) if i != j)
    den = num + sum(q[i, j] ** 2 for i in range(p) for j in range(p) if i != j)
    per = np.array([
        sum(r[i, j] ** 2 for i in range(p) if i != j)
        / (sum(r[i, j] ** 2 for i in range(p) if i != j)
           + sum(q[i, j] ** 2 for i in range(p) if i != j))
        for j in range(p)
    ])  # fmt: skip
    return num / den, per


def test_kmo_against_hand_computation(norm, asem) -> None:
    _, spec = asem
    k = kmo(norm, spec, by=2)
    for group in spec.level_codes(2):
        df = group_frame(norm, spec, group)
        overall, per = kmo_by_hand(corr_by_hand(complete_rows(df)))
        assert float(k.overall.isel(time=0).sel(group=group)) == pytest.approx(overall, rel=RTOL)
        np.testing.assert_allclose(
            k.per_indicator.isel(time=0).sel(indicator=list(df.columns)).values, per, rtol=RTOL
        )
    assert k.to_frame("per_indicator").shape == (49, 1)


def test_kmo_small_cases_by_hand() -> None:
    # two variables: the partial correlation equals the correlation, so KMO = 1/2
    overall, per = mk.kmo_from_corr(np.array([[1.0, 0.3], [0.3, 1.0]]))
    assert float(overall) == pytest.approx(0.5) and per.tolist() == pytest.approx([0.5, 0.5])
    # three variables: r12 = 0.5, r13 = 0.4, r23 = 0.3; partials by the textbook formula
    r12, r13, r23 = 0.5, 0.4, 0.3
    q12 = (r12 - r13 * r23) / np.sqrt((1 - r13**2) * (1 - r23**2))
    q13 = (r13 - r12 * r23) / np.sqrt((1 - r12**2) * (1 - r23**2))
    q23 = (r23 - r12 * r13) / np.sqrt((1 - r12**2) * (1 - r13**2))
    num = r12**2 + r13**2 + r23**2
    expected = num / (num + q12**2 + q13**2 + q23**2)
    r = np.array([[1, r12, r13], [r12, 1, r23], [r13, r23, 1.0]])
    overall, per = mk.kmo_from_corr(r)
    assert float(overall) == pytest.approx(expected, rel=1e-12)
    assert float(per[0]) == pytest.approx((r12**2 + r13**2) / (r12**2 + r13**2 + q12**2 + q13**2))


def test_bartlett_against_hand_formula(norm, asem) -> None:
    _, spec = asem
    b = bartlett_sphericity(norm, spec, by=2)
    for group in spec.level_codes(2):
        x = complete_rows(group_frame(norm, spec, group))
        n, p = x.shape
        stat = -(n - 1 - (2 * p + 5) / 6) * np.log(np.linalg.det(corr_by_hand(x)))
        dof = p * (p - 1) / 2
        sel = {"group": group}
        assert float(b.statistic.isel(time=0).sel(sel)) == pytest.approx(stat, rel=RTOL)
        assert float(b.dof.isel(time=0).sel(sel)) == dof
        assert float(b.pvalue.isel(time=0).sel(sel)) == pytest.approx(
            scipy.stats.chi2.sf(stat, dof), rel=1e-8
        )
    # two variables by hand: |R| = 1 - r^2
    stat, dof, pv = mk.bartlett_from_corr(np.array([[1.0, 0.6], [0.6, 1.0]]), 25)
    assert float(stat) == pytest.approx(-(25 - 1 - 1.5) * np.log(1 - 0.36), rel=1e-12)
    assert float(dof) == 1.0
    assert float(pv) == pytest.approx(scipy.stats.chi2.sf(float(stat), 1), rel=1e-12)


# ---------------------------------------------------------------------------- VIF
def test_vif_against_statsmodels_and_inverse_correlation(norm, asem) -> None:
    _, spec = asem
    v = vif(norm, spec, by=2)
    for group in ("Physical", "Social", "Political"):
        df = group_frame(norm, spec, group)
        x = complete_rows(df)
        design = np.column_stack([np.ones(len(x)), x])
        sm = [variance_inflation_factor(design, j + 1) for j in range(x.shape[1])]
        ours = v.isel(time=0).sel(indicator=list(df.columns)).values
        np.testing.assert_allclose(ours, sm, rtol=RTOL)
        np.testing.assert_allclose(ours, np.diag(np.linalg.inv(corr_by_hand(x))), rtol=1e-9)
    # two variables by hand: 1 / (1 - r^2)
    two = norm.sel(indicator=["Goods", "Services"]).isel(time=0)
    r = np.corrcoef(two.transpose("unit", "indicator").values, rowvar=False)[0, 1]
    np.testing.assert_allclose(vif(two).values, 1 / (1 - r**2), rtol=1e-10)


def test_vif_exact_collinearity_is_large_not_an_error() -> None:
    panel = small_panel(years=(2020,))
    panel = panel.copy()
    panel.loc[{"indicator": "c"}] = panel.sel(indicator="a") + panel.sel(indicator="b")
    with pytest.warns(DataWarning, match=r"group 'P'.*collinear"):
        v = vif(panel, small_spec(), by=2)
    assert float(v.sel(indicator="c").squeeze()) > 1e10
    with pytest.raises(DataError, match="singular"):
        kmo(panel, small_spec(), by=2)
    with pytest.raises(DataError, match="singular"):
        bartlett_sphericity(panel, small_spec(), by=2)
    with pytest.raises(DataError, match="singular"):
        factor_analysis(panel, small_spec(), by=2, method="pa")


# ---------------------------------------------------------------------------- bad input
def test_too_few_complete_units_are_named() -> None:
    panel = small_panel(n=6)
    spec = small_spec()
    holed = panel.copy()
    holed.loc[{"time": 2021, "unit": ["U00", "U01", "U02", "U03", "U04"], "indicator": "e"}] = (
        np.nan
    )
    with pytest.raises(DataError, match=r"group 'Q' in time=2021 has 1 complete unit"):
        pca(holed, spec, by=2)
    # fewer units than indicators: PCA works, KMO/Bartlett/VIF/FA do not
    tiny = panel.isel(unit=slice(0, 3))
    assert pca(tiny, spec, by=2).loadings.notnull().any()
    for func in (kmo, bartlett_sphericity, vif, factor_analysis):
        with pytest.raises(DataError, match=r"3 complete unit.*more complete units than"):
            func(tiny, spec, by=2)


def test_constant_indicator_is_named() -> None:
    panel = small_panel().copy()
    panel.loc[{"indicator": "d", "time": 2021}] = 0.1
    for func in (pca, kmo, bartlett_sphericity, vif, factor_analysis):
        with pytest.raises(DataError, match=r"indicator 'd' of group 'Q' in time=2021 is constant"):
            func(panel, small_spec(), by=2)


def test_bad_parameters() -> None:
    panel, spec = small_panel(), small_spec()
    with pytest.raises(InvalidParameterError, match="'by'"):
        pca(panel, spec, by=1)
    with pytest.raises(InvalidParameterError, match="spec="):
        pca(panel, by=2)
    with pytest.raises(InvalidParameterError, match="'level'"):
        pca(panel, spec, level=7)
    with pytest.raises(InvalidParameterError, match="'time'"):
        pca(panel, spec, time=1999)
    with pytest.raises(InvalidParameterError, match="'rule'"):
        pca_weights(panel, spec, rule="equal")
    with pytest.raises(InvalidParameterError, match="'sign'"):
        pca_weights(panel, spec, sign="negative")
    with pytest.raises(InvalidParameterError, match="needs spec"):
        pca_weights(panel)
    with pytest.raises(InvalidParameterError, match="'method'"):
        factor_analysis(panel, spec, method="minres")
    with pytest.raises(InvalidParameterError, match="'rotation'"):
        factor_analysis(panel, spec, rotation="geomin")
    with pytest.raises(InvalidParameterError, match="'n_factors'"):
        factor_analysis(panel, spec, by=2, n_factors=5)
    with pytest.raises(InvalidParameterError, match="'tol'"):
        factor_analysis(panel, spec, tol=0.5)
    with pytest.raises(InvalidParameterError, match="'assign'"):
        pca_weights(panel, spec, assign="largest")
    with pytest.raises(InvalidParameterError, match="'n_components'"):
        pca(panel, spec, n_components=0)
    with pytest.raises(InvalidParameterError, match="panel"):
        pca(panel.values)
    with pytest.raises(DataError, match="group 'Q' has 1 indicator"):
        kmo(panel.sel(indicator=["a", "b", "c", "d"]), small_spec().subset("abcd"), by=2)
    with pytest.raises(SpecError, match=r"\['e'\]"):
        pca(panel.sel(indicator=list("abcd")), spec)


def test_dset_of_a_result(asem) -> None:
    res, spec = asem
    raw = pca(res, by=2, dset="raw", time=2018)
    direct = pca(res.data["raw"], spec, by=2, time=2018)
    xr.testing.assert_allclose(raw.loadings, direct.loadings)
    with pytest.raises(InvalidParameterError, match="'dset'"):
        pca(res, dset="Normalised")


def test_inputs_not_mutated(norm, asem) -> None:
    _, spec = asem
    holed = norm.copy(deep=True)
    holed.loc[{"unit": "AUS", "indicator": "LPI"}] = np.nan
    before = holed.copy(deep=True)
    pca(holed, spec, by=2)
    pca_weights(holed, spec)
    factor_analysis(holed, spec, by=2)
    kmo(holed, spec, by=2)
    bartlett_sphericity(holed, spec, by=2)
    vif(holed, spec, by=2)
    xr.testing.assert_identical(holed, before)


def test_coinr_column_order_matches_prcomp_rows(asem) -> None:
    # the reference loadings are prcomp's rotation rows, i.e. COINr's column order
    from brics_ecom._multivariate import _coinr_column_order

    _, spec = asem
    ref = read_ref("stats/pca_Normalised_L1_bygroup_loadings_PC1-3.csv", index_col=None)
    for group, rows in ref.groupby("group", sort=False):
        kids = list(spec.children(group))
        order = _coinr_column_order(kids, spec, 1)
        assert [kids[i] for i in order] == rows["iCode"].tolist()
    instit = ref[ref["group"] == "Instit"]["iCode"].tolist()
    assert instit.index("Tariff") < instit.index("TBTs")  # R's collation, not ASCII


def test_single_indicator_group() -> None:
    spec = IndexSpec(
        [Node("a", parent="P"), Node("b", parent="P"), Node("c", parent="P"),
         Node("d", parent="Q"), Node("P", kind="aggregate", parent="I"),
         Node("Q", kind="aggregate", parent="I"), Node("I", kind="aggregate")]
    )  # fmt: skip
    panel = small_panel().sel(indicator=list("abcd"))
    p = pca(panel, spec, by=2)
    assert float(p.loadings.sel(indicator="d", component="PC1").isel(time=0)) == 1.0
    assert float(p.sdev.sel(group="Q", component="PC1").isel(time=0)) == pytest.approx(1.0)
    fa = factor_analysis(panel, spec, by=2, method="pc")
    assert float(fa.loadings.sel(indicator="d", factor="F1").isel(time=0)) == 1.0
    w = pca_weights(panel, spec, rule="oecd")
    assert (w.sel(node="d") == 1.0).all()
    np.testing.assert_allclose(w.sel(node=list("abc")).sum("node"), 1.0, rtol=1e-12)
    assert float(vif(panel, spec, by=2).sel(indicator="d").isel(time=0)) == 1.0
    assert fa.to_frame("weights").shape == (8, 1)
