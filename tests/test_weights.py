"""Weights: nominal, effective, noisy, entropy, CRITIC, benefit of the doubt, optimised.

References: COINr 1.1.14's effective weights and noisy weight sets on ASEM (rtol 1e-10);
hand-solved and independently formulated LPs (the dual of every BoD programme, at 1e-8);
and COINr's ``get_opt_weights`` objective, computed by an independent R script (base R's
``optim`` on an R re-implementation of COINr's arithmetic aggregation and ``cor``; see
docs/weights.md) whose printed values are pasted below.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr
from scipy.optimize import linprog

import brics_ecom as be
from brics_ecom import weights
from brics_ecom._kernels import weights as wk
from brics_ecom.errors import DataError, DataWarning, InvalidParameterError, SpecError
from brics_ecom.spec import IndexSpec, Node
from conftest import read_ref

RTOL = 1e-10


@pytest.fixture(scope="module")
def asem() -> tuple[xr.DataArray, IndexSpec]:
    return be.datasets.load_asem()


@pytest.fixture(scope="module")
def result(asem: tuple[xr.DataArray, IndexSpec]) -> be.Result:
    panel, spec = asem
    return be.Pipeline.coinr_example(spec).run(panel)


@pytest.fixture(scope="module")
def norm(result: be.Result) -> xr.DataArray:
    """Treated ASEM data, min-max normalised onto [1, 100]: positive, higher = better."""
    return be.normalise(result.data["treat"], "minmax", spec=result.spec, lower=1, upper=100)


def small_spec() -> IndexSpec:
    return IndexSpec(
        [
            Node("a", parent="P"), Node("b", parent="P"), Node("c", parent="Q"),
            Node("d", parent="Q"), Node("e", parent="Q"),
            Node("P", kind="aggregate", parent="I"), Node("Q", kind="aggregate", parent="I"),
            Node("I", kind="aggregate"),
        ]
    )  # fmt: skip


def frame(values: np.ndarray, units: list[str], codes: list[str]) -> xr.DataArray:
    return xr.DataArray(
        np.asarray(values, dtype=float), dims=("unit", "indicator"),
        coords={"unit": units, "indicator": codes},
    )  # fmt: skip


# ---------------------------------------------------------------------- nominal
def test_equal_and_from_spec_are_aggregate_weights(asem, norm) -> None:
    _, spec = asem
    eq = weights.equal(spec)
    assert eq.dims == ("node",) and eq["node"].values.tolist() == list(spec.codes)
    assert (eq == 1).all() and eq["level"].sel(node="Index") == 4
    spec2 = spec.with_weights({"Conn": 3.0})
    assert float(weights.from_spec(spec2).sel(node="Conn")) == 3.0
    xr.testing.assert_equal(be.aggregate(norm, spec, weights=eq), be.aggregate(norm, spec))
    xr.testing.assert_allclose(
        be.aggregate(norm, spec, weights=weights.from_spec(spec2)),
        be.aggregate(norm, spec2),
    )
    with pytest.raises(InvalidParameterError, match="'spec'"):
        weights.equal("not a spec")  # type: ignore[arg-type]


# ---------------------------------------------------------------------- effective
def test_effective_weights_match_coinr(asem) -> None:
    _, spec = asem
    ref = read_ref("weights/effective_weights_nominal.csv", index_col="iCode")
    eff = weights.effective(spec)
    ours = eff.effective.to_series().loc[ref.index]
    np.testing.assert_allclose(ours.to_numpy(), ref["EffWeight"].to_numpy(), rtol=RTOL, atol=0)
    df = eff.to_frame().set_index("code").loc[ref.index]
    assert df["level"].tolist() == ref["Level"].tolist()
    np.testing.assert_array_equal(df["weight"].to_numpy(), ref["Weight"].to_numpy())
    assert df.loc["Goods", "parent"] == "ConEcFin"
    for lvl in spec.levels:  # every level's effective weights sum to 1
        assert math.isclose(float(eff.effective.sel(node=list(spec.level_codes(lvl))).sum()), 1)


def test_effective_weights_vectorised_over_draws(asem) -> None:
    _, spec = asem
    w = weights.noisy(spec, n=7, rng=3)
    eff = weights.effective(spec, w)
    assert eff.effective.dims == ("draw", "node")
    for d in (0, 6):
        one = weights.effective(spec, w.isel(draw=d).to_series().to_dict()).effective
        np.testing.assert_allclose(eff.effective.isel(draw=d).values, one.values, rtol=1e-15)
    df = eff.to_frame()
    assert df.columns.tolist() == ["draw", "code", "level", "parent", "weight", "effective"]
    assert len(df) == 7 * len(spec.codes)
    # by hand: I -> (P: 1, Q: 3); P -> a, b (1, 1); Q -> c, d, e (2, 1, 1)
    s = small_spec()
    e = weights.effective(s, {"Q": 3, "c": 2}).effective.to_series()
    assert e.to_dict() == pytest.approx(
        {"a": 0.125, "b": 0.125, "c": 0.375, "d": 0.1875, "e": 0.1875, "P": 0.25, "Q": 0.75,
         "I": 1.0}, rel=1e-15
    )  # fmt: skip


def test_effective_rejects_bad_weights(asem) -> None:
    _, spec = asem
    with pytest.raises(SpecError, match="Nope"):
        weights.effective(spec, {"Nope": 1.0})
    bad = weights.equal(spec).copy()
    bad.loc[{"node": "Goods"}] = np.nan
    with pytest.raises(SpecError, match="Goods"):
        weights.effective(spec, bad)


# ---------------------------------------------------------------------- noisy
def test_noisy_bounds_exact_and_mean_close(asem) -> None:
    _, spec = asem
    base = weights.from_spec(spec.with_weights({"Conn": 2.0, "Physical": 0.5}))
    n = 20_000
    w = weights.noisy(spec, levels=[2, 3], n=n, rng=11, weights=base)
    assert w.dims == ("draw", "node") and w.sizes["draw"] == n
    lvl = w["level"].isin([2, 3])
    moved, fixed = w.where(lvl, drop=True), w.where(~lvl, drop=True)
    nom_moved = base.sel(node=moved["node"])
    assert bool(((moved >= 0.75 * nom_moved) & (moved <= 1.25 * nom_moved)).all())
    assert (fixed == base.sel(node=fixed["node"])).all()  # bit for bit
    # the mean of U(-f, f) w is 0 with sd f w / sqrt(3): 5 standard errors
    err = np.abs(moved.mean("draw") - nom_moved) / (0.25 * nom_moved / math.sqrt(3 * n))
    assert float(err.max()) < 5
    assert float((moved / nom_moved).min()) < 0.7501 and float((moved / nom_moved).max()) > 1.2499


def test_noisy_levels_factors_and_rng(asem) -> None:
    _, spec = asem
    w = weights.noisy(spec, noise_factor={3: 0.1}, n=500, rng=np.random.default_rng(0))
    conn = w.sel(node=["Conn", "Sust"])
    assert bool(((conn >= 0.9) & (conn <= 1.1)).all()) and float(conn.std()) > 0
    assert (w.sel(node=list(spec.level_codes(2))) == 1).all()
    default = weights.noisy(spec, n=50, rng=1)  # every level below the root
    assert (default.sel(node="Index") == 1).all() and (default.sel(node="Goods") != 1).any()
    state = np.random.get_state()[1].copy()  # noqa: NPY002 - checking the legacy state
    a = weights.noisy(spec, n=5, rng=123)
    after = np.random.get_state()[1]  # noqa: NPY002
    np.testing.assert_array_equal(after, state)  # global state untouched
    xr.testing.assert_identical(a, weights.noisy(spec, n=5, rng=123))
    assert not a.equals(weights.noisy(spec, n=5, rng=124))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"levels": [7]}, "level"),
        ({"levels": [2, 2]}, "repeats"),
        ({"noise_factor": 1.0}, "noise_factor"),
        ({"noise_factor": -0.1}, "noise_factor"),
        ({"noise_factor": {2: 0.1}, "levels": [2, 3]}, r"missing \[3\]"),
        ({"n": 0}, "'n'"),
        ({"rng": "seed"}, "rng"),
    ],
)
def test_noisy_errors(asem, kwargs: dict, match: str) -> None:
    _, spec = asem
    with pytest.raises(InvalidParameterError, match=match):
        weights.noisy(spec, **kwargs)


def test_coinr_noisy_weight_sets_and_replay(asem, result: be.Result) -> None:
    """COINr's 100 noisy sets: levels 2, 3 within w [0.75, 1.25], the rest unchanged;
    as a ``draw`` DataArray they replay the uncertainty run's scores in one call."""
    _, spec = asem
    sets = read_ref("sensitivity/UA_seed20240501_N500_noisy_weights.csv", index_col=None)
    table = sets.pivot(index="set", columns="iCode", values="Weight")[list(spec.codes)]
    levels = sets.drop_duplicates("iCode").set_index("iCode")["Level"]
    nominal = weights.from_spec(spec).to_series()
    ratio = table / nominal
    perturbed = [c for c in spec.codes if levels[c] in (2, 3)]
    others = [c for c in spec.codes if levels[c] not in (2, 3)]
    assert ((ratio[perturbed] >= 0.75) & (ratio[perturbed] <= 1.25)).all().all()
    assert (ratio[others] == 1).all().all()
    assert ratio[perturbed].std().min() > 0.05  # really perturbed
    w = xr.DataArray(table.to_numpy(), dims=("draw", "node"), coords={"node": list(spec.codes)})
    params = read_ref("sensitivity/UA_seed20240501_N500_params.csv", index_col="rep")
    pick = params[(params.norm_fn == "n_minmax") & (params.agg_fn == "a_amean")]
    assert len(pick) > 10
    normed = be.normalise(result.data["treat"], "minmax", spec=spec, lower=1, upper=100)
    scores = be.aggregate(normed, spec, weights=w).sel(node="Index").squeeze("time", drop=True)
    ref = read_ref("sensitivity/UA_seed20240501_N500_scores.csv")
    for rep, row in pick.iterrows():
        ours = scores.isel(draw=int(row.weight_set) - 1).to_series().loc[ref.index]
        np.testing.assert_allclose(ours.to_numpy(), ref[f"r_{rep}"].to_numpy(), rtol=1e-12)


# ---------------------------------------------------------------------- entropy / CRITIC
def test_entropy_weights_by_hand() -> None:
    spec = small_spec()
    vals = np.array(
        [[1.0, 2.0, 5.0, 0.0, 3.0], [1.0, 4.0, 5.0, 1.0, 1.0], [1.0, 6.0, 5.0, 3.0, 2.0],
         [1.0, 0.0, 5.0, 4.0, 4.0]]
    )  # fmt: skip
    data = frame(vals, list("wxyz"), list("abcde"))
    w = weights.entropy(data, spec)

    def divergence(col: np.ndarray) -> float:
        p = col / col.sum()
        p = p[p > 0]
        return 1 + float((p * np.log(p)).sum()) / math.log(len(col))

    d = {c: divergence(vals[:, i]) for i, c in enumerate("abcde")}
    assert d["a"] == 0 and d["c"] == 0  # constant: maximal entropy
    exp_p = {"a": 0.0, "b": 1.0}
    exp_q = {k: d[k] / (d["c"] + d["d"] + d["e"]) for k in "cde"}
    assert w.sel(node=list("abcde")).to_series().to_dict() == pytest.approx(
        {**exp_p, **exp_q}, rel=1e-14
    )
    assert w.sel(node=["P", "Q", "I"]).values.tolist() == [1.0, 1.0, 1.0]
    assert w.attrs["method"] == "entropy"
    assert np.isnan(wk.entropy_weights(np.array([[1.0], [np.nan]]), [0])[0]).all()


def test_entropy_per_year_pooled_and_errors(asem, norm) -> None:
    _, spec = asem
    two = xr.concat([norm, (norm * 0.5 + norm**1.1).assign_coords(time=[2019])], "time")
    w = weights.entropy(two, spec)
    assert w.dims == ("time", "node")
    xr.testing.assert_allclose(w.sel(time=2018), weights.entropy(norm, spec).squeeze("time"))
    pooled = weights.entropy(two, spec, reference="pooled")
    assert pooled.dims == ("node",)
    for parent in spec.level_codes(2):
        assert math.isclose(float(pooled.sel(node=list(spec.children(parent))).sum()), 1)
    # level 2 from a Result (pillar scores)
    assert weights.entropy(be.Pipeline.coinr_example(spec).run(asem[0]), spec, level=2).sel(
        node=["Conn", "Sust"]
    ).shape == (1, 2)
    with pytest.raises(DataError, match="non-negative"):
        weights.entropy(norm - 50, spec)
    flat = norm.copy()
    flat.loc[{"indicator": list(spec.children("Physical"))}] = 5.0
    with pytest.raises(DataError, match="LPI"):
        weights.entropy(flat, spec)
    with pytest.raises(SpecError, match="Level > 1 needs"):
        weights.entropy(norm, spec, level=2)
    with pytest.raises(InvalidParameterError, match="'level'"):
        weights.entropy(norm, spec, level=9)
    with pytest.raises(InvalidParameterError, match="reference"):
        weights.entropy(norm, spec, reference="base")


def test_critic_weights_by_hand(asem, norm) -> None:
    spec = small_spec()
    rng = np.random.default_rng(4)
    vals = rng.random((30, 5))
    vals[3, 1] = np.nan
    data = frame(vals, [f"u{i}" for i in range(30)], list("abcde"))
    w = weights.correlation_weights(data, spec).to_series()

    def info(cols: list[int]) -> dict[int, float]:
        out = {}
        for i in cols:
            xi = vals[:, i]
            sd = np.nanstd(xi, ddof=1)
            conflict = 0.0
            for j in cols:
                if j != i:
                    ok = ~np.isnan(xi) & ~np.isnan(vals[:, j])
                    conflict += 1 - np.corrcoef(xi[ok], vals[ok, j])[0, 1]
            out[i] = sd * conflict
        return out

    for cols in ([0, 1], [2, 3, 4]):
        c = info(cols)
        tot = sum(c.values())
        for i in cols:
            assert w["abcde"[i]] == pytest.approx(c[i] / tot, rel=1e-12)
    # one child: weight 1; ASEM pillars sum to 1
    single = IndexSpec([Node("a", parent="I"), Node("I", kind="aggregate")])
    assert float(weights.correlation_weights(data.sel(indicator=["a"]), single).sel(node="a")) == 1
    _, aspec = asem
    cw = weights.correlation_weights(norm, aspec).squeeze("time")
    for parent in aspec.level_codes(2):
        assert math.isclose(float(cw.sel(node=list(aspec.children(parent))).sum()), 1)


# ---------------------------------------------------------------------- BoD
def dual_scores(y: np.ndarray, lo=None, hi=None, slo=None, shi=None) -> np.ndarray:
    """Independent formulation: the LP dual of each unit's BoD programme.

    Primal (unit c): max y_c.w s.t. Y w <= 1, share rows S_c w <= 0, w <= hi, -w <= -lo,
    w >= 0. Dual: min 1.lam + hi.mu - lo.nu s.t. Y'lam + S_c'sig + mu - nu >= y_c, all >= 0.
    """
    n, m = y.shape
    lo = np.zeros(m) if lo is None else np.asarray(lo, float)
    hi = np.full(m, np.inf) if hi is None else np.asarray(hi, float)
    slo = np.zeros(m) if slo is None else np.asarray(slo, float)
    shi = np.ones(m) if shi is None else np.asarray(shi, float)
    out = np.empty(n)
    fin = np.isfinite(hi)
    for c in range(n):
        yc = y[c]
        share = []
        for i in range(m):
            if shi[i] < 1:
                r = -shi[i] * yc
                r[i] += yc[i]
                share.append(r)
            if slo[i] > 0:
                r = slo[i] * yc
                r[i] -= yc[i]
                share.append(r)
        s_mat = np.array(share).reshape(-1, m)
        cols = [y.T, s_mat.T, np.eye(m)[:, fin], -np.eye(m)]
        cost = np.concatenate([np.ones(n), np.zeros(len(s_mat)), hi[fin], -lo])
        res = linprog(cost, A_ub=-np.hstack(cols), b_ub=-yc, bounds=(0, None), method="highs-ipm")
        assert res.status == 0
        out[c] = res.fun
    return out


def test_bod_hand_solved() -> None:
    # a and b are the best on one indicator each; c = (0.9, 0.9) beats them with w = 1/1.8
    # each; d's best weights: w_x = 1 (c's constraint binds) and w_y = 0.1 / 0.9.
    y = frame([[1, 0], [0, 1], [0.9, 0.9], [0.5, 0.4]], list("abcd"), ["x", "y"])
    r = weights.bod(y)
    np.testing.assert_allclose(r.scores.values, [1, 1, 1, 0.5 + 0.4 / 9], rtol=1e-12)
    np.testing.assert_allclose(r.weights.sel(unit="d").values, [1, 1 / 9], rtol=1e-9)
    np.testing.assert_allclose(r.contributions.sum("indicator"), r.scores, rtol=1e-12)
    # the single-indicator closed form is only a lower bound: c gets 0.9 there
    lb, _ = wk.bod_closed_form(y.values)
    assert lb.tolist() == [1.0, 1.0, 0.9, 0.5]
    assert (lb <= r.scores.values + 1e-12).all()
    # a 3-unit case: c = (2, 1) scores 2 w_x + w_y at w = (0.2, 0.2): 0.6
    y2 = frame([[4, 1], [1, 4], [2, 1]], list("abc"), ["x", "y"])
    r2 = weights.bod(y2)
    np.testing.assert_allclose(r2.scores.values, [1, 1, 0.6], rtol=1e-12)
    np.testing.assert_allclose(r2.weights.sel(unit="c").values, [0.2, 0.2], rtol=1e-9)
    assert r2.to_frame().columns.tolist() == ["score", "x", "y"]
    assert r2.to_frame("shares").loc["c"].tolist() == pytest.approx([0.6, 2 / 3, 1 / 3])


def test_bod_closed_form_exact_for_one_indicator() -> None:
    rng = np.random.default_rng(1)
    y = rng.random((40, 1)) + 0.1
    s, w, _ = wk.bod_lp(y)
    lb, lbw = wk.bod_closed_form(y)
    np.testing.assert_allclose(s, lb, rtol=1e-12)
    np.testing.assert_allclose(w, lbw, rtol=1e-12)
    # broadcasts over leading dims (years, draws)
    many = rng.random((3, 2, 25, 4))
    lbm, _ = wk.bod_closed_form(many)
    assert lbm.shape == (3, 2, 25)
    np.testing.assert_allclose(lbm[1, 1], wk.bod_closed_form(many[1, 1])[0])


@pytest.mark.parametrize("level", [1, 2])
def test_bod_asem_beats_random_weights_and_matches_dual(result, norm, level: int) -> None:
    spec = result.spec
    data = norm if level == 1 else result
    r = weights.bod(data, spec, level=level)
    y = (norm if level == 1 else result.scores).squeeze("time")
    y = y.sel({y.dims[-1]: list(spec.level_codes(level))}).transpose("unit", ...).values
    s = r.scores.squeeze("time").values
    rng = np.random.default_rng(2024)
    w = rng.exponential(size=(y.shape[1], 1000)) * (rng.random((y.shape[1], 1000)) < 0.7)
    w /= (y @ w).max(axis=0)  # feasible: the best unit scores exactly 1
    assert ((y @ w) <= s[:, None] * (1 + 1e-12)).all()
    np.testing.assert_allclose(s, dual_scores(y), rtol=1e-8)
    wts = r.weights.squeeze("time").values
    assert (wts >= 0).all() and ((y @ wts.T) <= 1 + 1e-9).all()  # every unit's weights feasible
    np.testing.assert_allclose((wts * y).sum(axis=1), s, rtol=1e-12)
    if level == 2:
        assert (s < 1 - 1e-6).sum() >= 5  # some pillars profiles are dominated


def test_bod_restricted_matches_dual(norm) -> None:
    y = norm.squeeze("time").isel(indicator=slice(0, 12)) / 100
    codes = [str(c) for c in y["indicator"].values]
    yv = y.values
    # weight bounds on the data's scale
    lo = {codes[0]: 0.05, codes[3]: 0.02}
    hi = {codes[1]: 0.1}
    r = weights.bod(y, bounds=(lo, hi))
    lo_a = np.array([lo.get(c, 0.0) for c in codes])
    hi_a = np.array([hi.get(c, np.inf) for c in codes])
    w = r.weights.values
    assert (w >= lo_a - 1e-12).all() and (w <= hi_a + 1e-12).all()
    np.testing.assert_allclose(r.scores.values, dual_scores(yv, lo=lo_a, hi=hi_a), rtol=1e-8)
    # share bounds: every member between 2 % and 25 % of the score
    rs = weights.bod(y, share_bounds=(0.02, 0.25))
    shares = rs.shares.values
    assert (shares >= 0.02 - 1e-9).all() and (shares <= 0.25 + 1e-9).all()
    np.testing.assert_allclose(
        rs.scores.values, dual_scores(yv, slo=np.full(12, 0.02), shi=np.full(12, 0.25)), rtol=1e-8
    )
    assert (rs.scores.values <= weights.bod(y).scores.values + 1e-9).all()  # restriction costs
    # per-code form
    rc = weights.bod(y, share_bounds={codes[0]: (0.1, None)})
    assert (rc.shares.sel(indicator=codes[0]).values >= 0.1 - 1e-9).all()


def test_bod_common_weights() -> None:
    y = frame([[1, 0], [0, 1], [0.5, 0.5]], list("abc"), ["x", "y"])
    r = weights.bod(y, common="min")
    np.testing.assert_allclose(r.scores.values, [1, 1, 1], rtol=1e-9)
    assert r.model == "common-min" and r.n_lp == 1
    rng = np.random.default_rng(8)
    yy = rng.random((30, 4)) + 0.05
    data = frame(yy, [f"u{i}" for i in range(30)], list("abcd"))
    rs = weights.bod(data, common=True)
    rm = weights.bod(data, common="min")
    w = rng.random((4, 1000))
    w /= (yy @ w).max(axis=0)
    assert (yy @ w).sum(axis=0).max() <= float(rs.scores.sum()) * (1 + 1e-12)
    assert (yy @ w).min(axis=0).max() <= float(rm.scores.min()) * (1 + 1e-12)
    assert (rs.weights.values == rs.weights.values[0]).all()  # one common vector
    ru = weights.bod(data)
    assert (rs.scores <= ru.scores + 1e-9).all()  # unit-specific weights are never worse
    rb = weights.bod(data, common="sum", share_bounds=(0.1, 0.4))
    mean_share = rb.weights.values[0] * yy.mean(axis=0)
    mean_share /= mean_share.sum()
    assert (mean_share >= 0.1 - 1e-9).all() and (mean_share <= 0.4 + 1e-9).all()


def test_bod_panel_per_year_and_missing(norm) -> None:
    y = norm.isel(indicator=slice(0, 6)) / 100
    two = xr.concat([y, (y**2).assign_coords(time=[2019])], "time")
    r = weights.bod(two)
    assert r.scores.dims == ("unit", "time")
    for t, src in ((2018, y), (2019, (y**2).assign_coords(time=[2019]))):
        np.testing.assert_allclose(
            r.scores.sel(time=t).values, weights.bod(src).scores.squeeze("time").values, rtol=1e-12
        )
    gap = two.copy()
    gap[0, 1, 2] = np.nan
    before = gap.copy()
    with pytest.raises(DataError, match="AUS"):
        weights.bod(gap)
    rd = weights.bod(gap, missing="drop")
    xr.testing.assert_identical(gap, before)  # input untouched
    assert np.isnan(rd.scores.sel(unit="AUS", time=2019))
    assert not np.isnan(rd.scores.sel(unit="AUS", time=2018))
    solo = weights.bod(gap.sel(time=[2019]).drop_sel(unit="AUS"))
    np.testing.assert_allclose(
        rd.scores.sel(time=2019).drop_sel(unit="AUS").values,
        solo.scores.squeeze("time").values, rtol=1e-12,
    )  # fmt: skip
    frame_ = r.to_frame()
    assert frame_.index.names == ["unit", "time"] and len(frame_) == 2 * y.sizes["unit"]


def test_bod_errors(asem, norm) -> None:
    _, spec = asem
    y = norm.squeeze("time").isel(indicator=slice(0, 4)) / 100
    codes = [str(c) for c in y["indicator"].values]
    with pytest.raises(DataError, match="non-negative"):
        weights.bod(y - 0.5)
    with pytest.raises(InvalidParameterError, match=r"Infeasible BoD weight bounds.*unit"):
        weights.bod(y, bounds=(1.0, None))
    with pytest.raises(
        InvalidParameterError, match=rf"Infeasible weight bounds for \['{codes[0]}'"
    ):
        weights.bod(y, bounds={codes[0]: (0.5, 0.1)})
    with pytest.raises(InvalidParameterError, match=r"sum to 1\.2 > 1"):
        weights.bod(y, share_bounds=(0.3, None))
    with pytest.raises(InvalidParameterError, match=r"sum to 0\.8 < 1"):
        weights.bod(y, share_bounds=(None, 0.2))
    with pytest.raises(InvalidParameterError, match="Nope"):
        weights.bod(y, bounds={"Nope": (0, 1)})
    with pytest.raises(InvalidParameterError, match="'common'"):
        weights.bod(y, common="max")
    with pytest.raises(InvalidParameterError, match="'level'"):
        weights.bod(norm, spec, level=5)
    with pytest.raises(InvalidParameterError, match="bounds"):
        weights.bod(y, bounds=(0, 1, 2))
    # a restriction that only the LP can find infeasible: shares forced but weights capped
    with pytest.raises(InvalidParameterError, match=r"Infeasible BoD restrictions for unit"):
        weights.bod(
            y, bounds=({codes[0]: 0.5}, {codes[1]: 1e-6}), share_bounds={codes[1]: (0.5, None)}
        )
    zero = y.copy()
    zero[0, 0] = 0.0
    with pytest.warns(DataWarning, match="forced to 0"):
        rz = weights.bod(zero, share_bounds=({codes[0]: 0.1}, None))
    assert float(rz.scores[0]) == pytest.approx(0, abs=1e-12)


# ---------------------------------------------------------------------- optimise
# Printed by the R script in docs/weights.md (R 4.2.2's optim on COINr's objective):
# level, type: nominal objective, COINr's objective, function evaluations, COINr weights
COINR_OPT = {
    (2, "balance"): (-5.3246362629932058, -5.3461021147251326, 9),
    (2, "infomax"): (-4.5657456057349641, -4.5713848252056062, 9),
    (3, "balance"): (-7.1128767089525171, -13.304324713627325, 15),
    (3, "infomax"): (-1.7780677753538914, -1.7821972553790641, 3),
}
COINR_W3 = [0.39024390243902435, 0.60975609756097571]


@pytest.mark.parametrize(("level", "method"), list(COINR_OPT))
def test_optimise_beats_nominal_and_coinr(result, level: int, method: str) -> None:
    nominal, coinr, _ = COINR_OPT[(level, method)]
    opt = weights.optimise(result, level=level, method=method, n_starts=1 if level == 2 else 3)
    assert opt.nominal_objective == pytest.approx(nominal, rel=1e-12)
    assert opt.objective < coinr < nominal
    # the weights re-aggregate, through the front door, to the correlations reported
    agg = be.aggregate(result.data["normalise"], result.spec, weights=opt.weights,
                       include_indicators=True).squeeze("time")  # fmt: skip
    comps = list(result.spec.level_codes(level))
    r = [np.corrcoef(agg.sel(node=c), agg.sel(node="Index"))[0, 1] for c in comps]
    np.testing.assert_allclose(opt.correlations.values, r, rtol=1e-10)
    assert math.isclose(float(opt.weights.sel(node=comps).sum()), 1)
    assert opt.weights.sel(node="Goods") == 1  # other levels unchanged
    df = opt.to_frame()
    assert df.index.tolist() == comps and "weight" in df
    if method == "balance" and level == 3:  # two components: exact balance is reachable
        np.testing.assert_allclose(df["corr_share"], [0.5, 0.5], atol=1e-8)


@pytest.mark.parametrize(("level", "method"), list(COINR_OPT))
def test_optimise_replays_coinr(result, level: int, method: str) -> None:
    _, coinr, nfev = COINR_OPT[(level, method)]
    opt = weights.optimise(result, level=level, method=method, solver="coinr", maxiter=500)
    assert opt.objective == pytest.approx(coinr, rel=1e-12)
    assert opt.report.nfev == nfev and opt.report.status == 0
    if level == 3 and method == "balance":
        np.testing.assert_allclose(opt.weights.sel(node=["Conn", "Sust"]), COINR_W3, rtol=1e-12)


def test_optimise_targets_and_options(asem, result) -> None:
    panel, spec = asem
    opt = weights.optimise(result, level=3, targets={"Conn": 1, "Sust": 1.2}, n_starts=0)
    np.testing.assert_allclose(opt.to_frame()["corr_share"], [1 / 2.2, 1.2 / 2.2], atol=1e-7)
    np.testing.assert_allclose(opt.targets.values, [1 / 2.2, 1.2 / 2.2])
    # an unreachable target: the optimum sits on the bound (Conn's weight 0)
    far = weights.optimise(result, level=3, targets=[1, 2], n_starts=0)
    assert float(far.weights.sel(node="Conn")) == pytest.approx(0, abs=1e-9)
    assert far.objective < far.nominal_objective
    via_pipe = weights.optimise(be.Pipeline.coinr_example(spec), panel, level=3, n_starts=0)
    assert via_pipe.objective == pytest.approx(
        weights.optimise(result, level=3, n_starts=0).objective, rel=1e-9
    )
    sp = weights.optimise(result, level=3, cortype="spearman", n_starts=0, solver="Nelder-Mead")
    assert sp.objective <= sp.nominal_objective
    pooled = weights.optimise(result, level=3, time="pooled", n_starts=0)  # one year here
    assert (
        pooled.nominal_objective == weights.optimise(result, level=3, n_starts=0).nominal_objective
    )
    mapping = opt.as_dict()
    assert set(mapping) == set(spec.codes)
    be.Pipeline.coinr_example(spec).with_weights("opt", mapping)  # a valid weight set


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"targets": [1, 2, 3]}, "3 values"),
        ({"targets": [0, 0]}, "sum to 0"),
        ({"targets": [1, -1]}, ">= 0"),
        ({"targets": [1, float("nan")]}, ">= 0"),
        ({"targets": {"Conn": 1}}, r"missing \['Sust'\]"),
        ({"targets": "equal"}, "sequence"),
        ({"method": "infomax", "targets": [1, 1]}, "no 'targets'"),
        ({"method": "max"}, "'method'"),
        ({"level": 4}, "'level'"),
        ({"level": 0}, "'level'"),
        ({"solver": "BFGS"}, "'solver'"),
        ({"bounds": (0.5, 0.5)}, "lower < upper"),
        ({"cortype": "kendall"}, "'cortype'"),
        ({"time": 1999}, "'time'"),
    ],
)
def test_optimise_errors(result, kwargs: dict, match: str) -> None:
    kwargs = {"level": 3, **kwargs}
    with pytest.raises(InvalidParameterError, match=match):
        weights.optimise(result, **kwargs)


def test_optimise_input_errors(asem, result) -> None:
    panel, spec = asem
    with pytest.raises(InvalidParameterError, match="needs the panel"):
        weights.optimise(be.Pipeline.coinr_example(spec))
    with pytest.raises(InvalidParameterError, match="Result or a Pipeline"):
        weights.optimise(panel)  # type: ignore[arg-type]
    single = IndexSpec(
        [Node("a", parent="P"), Node("b", parent="P"),
         Node("P", kind="aggregate", parent="I"), Node("I", kind="aggregate")]
    )  # fmt: skip
    res = be.Pipeline(single, [("aggregate", {})]).run(
        frame(np.random.default_rng(0).random((5, 2)), list("vwxyz"), ["a", "b"])
    )
    with pytest.raises(InvalidParameterError, match="only child"):
        weights.optimise(res, level=2)


def test_nelder_mead_r_on_rosenbrock() -> None:
    # R: optim(c(-1.2, 1), fr) gives par 1.000260 1.000506, value 8.825241e-08, 195 evals
    def fr(x: np.ndarray) -> float:
        return 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2

    res = wk.nelder_mead_r(fr, [-1.2, 1.0])
    np.testing.assert_allclose(res.x, [1.000260, 1.000506], atol=1e-6)
    assert res.fun == pytest.approx(8.825241e-08, rel=1e-6)
    assert res.nfev == 195


def test_kernels_correlations() -> None:
    rng = np.random.default_rng(3)
    x = rng.random((20, 4))
    x[2, 1] = np.nan
    r = wk.pairwise_corr(x)
    ok = ~np.isnan(x[:, 1])
    assert r[0, 1] == pytest.approx(np.corrcoef(x[ok, 0], x[ok, 1])[0, 1], rel=1e-12)
    assert r[0, 2] == pytest.approx(np.corrcoef(x[:, 0], x[:, 2])[0, 1], rel=1e-12)
    y = rng.random(20)
    c = wk.corr_with(x, y)
    assert c[1] == pytest.approx(np.corrcoef(x[ok, 1], y[ok])[0, 1], rel=1e-12)
    assert wk.group_normalise([0.0, 0.0, 2.0], [0, 0, 1]).tolist()[2] == 1.0
    assert np.isnan(wk.group_normalise([0.0, 0.0], [0, 0])).all()


def test_inputs_not_mutated(asem, norm) -> None:
    _, spec = asem
    before = norm.copy(deep=True)
    w = weights.equal(spec)
    w_before = w.copy(deep=True)
    weights.entropy(norm, spec)
    weights.correlation_weights(norm, spec)
    weights.bod(norm, spec, share_bounds=(0.0, 0.5))
    weights.effective(spec, w)
    weights.noisy(spec, n=3, rng=0, weights=w)
    xr.testing.assert_identical(norm, before)
    xr.testing.assert_identical(w, w_before)
