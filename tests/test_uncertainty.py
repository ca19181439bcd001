"""Uncertainty and sensitivity analysis: COINr's UA replayed, Sobol estimators checked
against analytic indices and SALib, chunking and dask invariance, bad input."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import brics_ecom as be
from brics_ecom import uncertainty as un
from brics_ecom._kernels import sensitivity as sk
from brics_ecom.errors import DataError, InvalidParameterError, SpecError
from brics_ecom.spec import IndexSpec, Node
from brics_ecom.uncertainty import Factor, sensitivity, uncertainty
from conftest import REF, read_ref

SENS = "sensitivity/UA_seed20240501_N500_"


# --------------------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def asem() -> tuple[xr.DataArray, IndexSpec]:
    return be.datasets.load_asem()


@pytest.fixture(scope="module")
def pipe(asem) -> be.Pipeline:
    return be.Pipeline.coinr_example(asem[1])


@pytest.fixture(scope="module")
def pipe1(pipe) -> be.Pipeline:
    """The example pipeline on a positive scale (geometric means allowed)."""
    return pipe.set(normalise__lower=1.0)


@pytest.fixture(scope="module")
def nominal(pipe1, asem) -> be.Result:
    return pipe1.run(asem[0])


@pytest.fixture(scope="module")
def coinr_sets() -> xr.DataArray:
    nw = read_ref(SENS + "noisy_weights.csv", index_col=None)
    table = nw.pivot(index="set", columns="iCode", values="Weight")
    return xr.DataArray(
        table.values,
        dims=("set", "node"),
        coords={"set": table.index.values, "node": list(table.columns)},
    )


def coinr_factors(sets: xr.DataArray) -> list[Factor]:
    return [
        Factor.weights(sets, name="weight_set"),
        Factor.choice(
            "normalise__method",
            ["minmax", "zscore"],
            params=[{"lower": 1, "upper": 100}, {"mean": 10, "sd": 2}],
            name="norm",
        ),
        Factor.choice("aggregate__method", ["arithmetic", "geometric"], name="agg"),
    ]


@pytest.fixture(scope="module")
def replay(pipe, asem, coinr_sets) -> un.UncertaintyResult:
    params = read_ref(SENS + "params.csv", index_col="rep")
    draws = pd.DataFrame(
        {
            "weight_set": params["weight_set"].to_numpy(),
            "norm": params["norm_fn"].map({"n_minmax": "minmax", "n_zscore": "zscore"}).to_numpy(),
            "agg": params["agg_fn"]
            .map({"a_amean": "arithmetic", "a_gmean": "geometric"})
            .to_numpy(),
        }
    )
    return uncertainty(pipe, asem[0], coinr_factors(coinr_sets), draws=draws, progress=False)


# --------------------------------------------------------------------------------------
# (1) COINr's uncertainty run, replayed exactly
# --------------------------------------------------------------------------------------


def test_replay_scores_and_ranks(replay) -> None:
    ref_s = read_ref(SENS + "scores.csv")
    ref_r = read_ref(SENS + "ranks.csv")
    reps = [f"r_{i}" for i in range(1, 501)]
    scores = replay.samples["scores"].squeeze("time", drop=True)
    ranks = replay.samples["ranks"].squeeze("time", drop=True)
    ours_s = scores.transpose("unit", "draw").to_pandas().loc[ref_s.index].to_numpy()
    ours_r = ranks.transpose("unit", "draw").to_pandas().loc[ref_r.index].to_numpy()
    np.testing.assert_allclose(ours_s, ref_s[reps].to_numpy(), rtol=1e-10, atol=0)
    np.testing.assert_array_equal(ours_r, ref_r[reps].to_numpy())
    # the nominal run
    nom = replay.nominal["scores"].squeeze("time", drop=True).to_pandas().loc[ref_s.index]
    np.testing.assert_allclose(nom.to_numpy(), ref_s["Nominal"].to_numpy(), rtol=1e-12)


def test_replay_rank_statistics(replay) -> None:
    ref = read_ref(SENS + "rankstats.csv")
    table = replay.to_frame().droplevel("time").loc[ref.index]
    for ours, theirs in [
        ("rank_nominal", "Nominal"),
        ("rank_mean", "Mean"),
        ("rank_median", "Median"),
        ("rank_q5", "Q5"),
        ("rank_q95", "Q95"),
    ]:
        np.testing.assert_allclose(table[ours].to_numpy(), ref[theirs].to_numpy(), rtol=1e-12)


def test_replay_draws_round_trip(replay, pipe, asem, coinr_sets) -> None:
    """The draws table of a result replays the same run."""
    again = uncertainty(
        pipe, asem[0], coinr_factors(coinr_sets), draws=replay.draws, progress=False
    )
    xr.testing.assert_identical(again.samples, replay.samples)
    assert replay.draws["weight_set"].iloc[0] == 15  # labels of the 'set' coordinate
    assert list(replay.draws.columns) == ["weight_set", "norm", "agg"]


def test_summary_matches_samples(replay) -> None:
    ranks = replay.samples["ranks"].squeeze("time", drop=True)
    scores = replay.samples["scores"].squeeze("time", drop=True)
    table = replay.to_frame().droplevel("time")
    for u in ("CHE", "GBR", "IND"):
        r = ranks.sel(unit=u).values
        assert table.loc[u, "p_top3"] == pytest.approx(np.mean(r <= 3))
        assert table.loc[u, "rank_min"] == r.min() and table.loc[u, "rank_max"] == r.max()
        assert table.loc[u, "score_mean"] == pytest.approx(scores.sel(unit=u).values.mean())
        nom = table.loc[u, "rank_nominal"]
        assert table.loc[u, "mean_abs_rank_change"] == pytest.approx(np.abs(r - nom).mean())
    assert table.index[0] == "CHE" and table["rank_nominal"].is_monotonic_increasing
    # factor values ride along as coordinates of the draw dim
    assert replay.samples["norm"].values[0] == "zscore"


# --------------------------------------------------------------------------------------
# every factor kind equals an explicit pipeline run
# --------------------------------------------------------------------------------------


def _explicit(pipe: be.Pipeline, panel: xr.DataArray, row: pd.Series, weights=None):
    spec = pipe.spec
    changes = {k: row[k] for k in row.index if "__" in k}
    raw = panel
    excluded = row.get("exclude")
    if isinstance(excluded, str):
        spec = spec.subset([c for c in spec.indicators if c != excluded])
        changes["spec"] = spec
        raw = panel.sel(indicator=list(spec.indicators))
    if weights is not None:
        p = pipe.with_weights("draw", {c: weights[c] for c in spec.codes})
        changes["aggregate__weights"] = "draw"
    else:
        p = pipe
    p = p.set(**changes)
    if "treat" in row.index and not row["treat"]:
        p = p.without("treat")
    return p.run(raw, keep="none").scores.sel(node="Index").transpose("unit", ...).values


def test_factor_kinds_equal_explicit_runs(pipe1, asem) -> None:
    panel, spec = asem
    sets = be.weights.noisy(spec, levels=[2, 3], n=6, rng=11)
    factors = [
        Factor.choice("treat", [True, False]),
        Factor.exclude_indicator(["Goods", "LPI"]),
        Factor.choice("impute__method", ["group_mean", "mean"]),
        Factor.choice("normalise__lower", [1.0, 5.0]),
        Factor.uniform("normalise__upper", 90, 110),
        Factor.choice("aggregate__method", ["arithmetic", "geometric"]),
        Factor.weights(sets),
    ]
    ua = uncertainty(pipe1, panel, factors, n=24, rng=5, progress=False)
    assert ua.samples["scores"].dims == ("draw", "unit", "time")
    assert set(ua.draws["exclude"].dropna()) <= {"Goods", "LPI"}
    assert ua.draws["treat"].nunique() == 2
    w = sets.to_pandas()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for d in range(24):
            row = ua.draws.iloc[d]
            ref = _explicit(pipe1, panel, row.drop("weights"), w.loc[row["weights"]])
            np.testing.assert_allclose(ua.samples["scores"].isel(draw=d).values, ref, rtol=1e-12)


def test_continuous_distributions(pipe1, asem) -> None:
    panel = asem[0]
    factors = [
        Factor.triangular("normalise__upper", 80, 100, 120),
        Factor.normal("aggregate__p", 1.0, 0.5, low=0.5, high=2.0),
        Factor.choice("aggregate__method", ["generalised"]),
    ]
    ua = uncertainty(pipe1, panel, factors, n=12, rng=2, progress=False)
    up, p = ua.draws["normalise__upper"], ua.draws["aggregate__p"]
    assert up.between(80, 120).all() and p.between(0.5, 2.0).all()
    for d in (0, 7):
        row = ua.draws.iloc[d]
        ref = _explicit(pipe1, panel, row)
        np.testing.assert_allclose(ua.samples["scores"].isel(draw=d).values, ref, rtol=1e-12)


def test_continuous_upstream_parameter_grouped_by_value(pipe1, asem, nominal) -> None:
    panel = asem[0]
    factors = [
        Factor.uniform("treat__skew_thresh", 1.0, 3.0),
        Factor.choice("aggregate__method", ["arithmetic", "geometric"]),
    ]
    ua = uncertainty(pipe1, nominal, factors, n=6, rng=7, progress=False)  # a Result works too
    assert ua.draws["treat__skew_thresh"].nunique() == 6
    for d in (1, 4):
        ref = _explicit(pipe1, panel, ua.draws.iloc[d])
        np.testing.assert_allclose(ua.samples["scores"].isel(draw=d).values, ref, rtol=1e-12)


def test_data_noise_equals_explicit_noisy_runs(pipe1, asem, nominal) -> None:
    panel = asem[0]
    factors = [Factor.data_noise(0.05), Factor.choice("treat", [True, False])]
    ua = uncertainty(pipe1, panel, factors, n=6, rng=4, progress=False)
    keys = ua.draws["data_noise"].to_numpy()
    raw = nominal.data["raw"]
    e = sk.hashed_noise(keys, raw.size).reshape((6, *raw.shape))
    for d in range(6):
        noisy = raw.copy(data=raw.values * (1 + 0.05 * e[d]))
        p = pipe1 if ua.draws["treat"].iloc[d] else pipe1.without("treat")
        ref = p.run(noisy, keep="none").scores.sel(node="Index").transpose("unit", ...).values
        np.testing.assert_allclose(ua.samples["scores"].isel(draw=d).values, ref, rtol=1e-12)
    # noise moves the scores
    assert float(ua.summary["score_sd"].min()) > 0


def test_panel_and_time(asem) -> None:
    panel, spec = be.datasets.load_asem(panel=True)
    pipe = be.Pipeline(spec, [("normalise", {"method": "minmax", "lower": 1}), "aggregate"])
    factors = [
        Factor.choice("aggregate__method", ["arithmetic", "geometric"]),
        Factor.weights(levels=[2, 3], n_sets=5),
    ]
    ua = uncertainty(pipe, panel, factors, n=8, rng=1, progress=False)
    assert ua.samples["scores"].dims == ("draw", "unit", "time")
    assert ua.samples.sizes["time"] == 5
    one = uncertainty(pipe, panel, factors, n=8, rng=1, time=2020, target="Conn", progress=False)
    assert one.samples["scores"].dims == ("draw", "unit")
    d = 3
    row = one.draws.iloc[d]
    w = be.weights.noisy(spec, levels=[2, 3], n=5, rng=np.random.default_rng(1))
    res = be.aggregate(
        be.normalise(panel, "minmax", spec=spec, lower=1),
        spec,
        row["aggregate__method"],
        weights=w.isel(draw=int(row["weights"])),
    )
    ref = res.sel(node="Conn", time=2020).values
    np.testing.assert_allclose(one.samples["scores"].isel(draw=d).values, ref, rtol=1e-12)
    assert len(one.to_frame()) == 51


# --------------------------------------------------------------------------------------
# (3) chunking, (4) dask
# --------------------------------------------------------------------------------------


def test_same_seed_same_draws_whatever_the_chunking(pipe1, asem) -> None:
    panel = asem[0]
    factors = [
        Factor.weights(levels=[2, 3], n_sets=30),
        Factor.choice("treat", [True, False]),
        Factor.choice("aggregate__method", ["arithmetic", "geometric"]),
    ]
    a = uncertainty(pipe1, panel, factors, n=700, rng=9, progress=False)
    b = uncertainty(pipe1, panel, factors, n=700, rng=9, chunk=256, progress=False)
    c = uncertainty(pipe1, panel, factors, n=700, rng=9, memory_limit=10**6, progress=False)
    pd.testing.assert_frame_equal(a.draws, b.draws)
    pd.testing.assert_frame_equal(a.draws, c.draws)
    xr.testing.assert_identical(a.samples, b.samples)
    xr.testing.assert_identical(a.samples, c.samples)


def test_chunking_with_per_draw_data(pipe1, asem) -> None:
    panel = asem[0]
    factors = [
        Factor.data_noise(0.02, "uniform"),
        Factor.weights(levels=[2, 3], n_sets=10),
        Factor.uniform("normalise__upper", 90, 110),
        Factor.choice("treat", [True, False]),
    ]
    a = uncertainty(pipe1, panel, factors, n=30, rng=3, progress=False)
    b = uncertainty(pipe1, panel, factors, n=30, rng=3, chunk=7, progress=False)
    pd.testing.assert_frame_equal(a.draws, b.draws)
    xr.testing.assert_identical(a.samples, b.samples)


def test_blas_threads_do_not_change_numbers(pipe1, asem) -> None:
    factors = [
        Factor.weights(levels=[2, 3], n_sets=20),
        Factor.choice("aggregate__method", ["arithmetic", "geometric"]),
    ]
    one = uncertainty(pipe1, asem[0], factors, n=300, rng=2, progress=False)
    free = uncertainty(pipe1, asem[0], factors, n=300, rng=2, blas_threads=None, progress=False)
    xr.testing.assert_identical(one.samples, free.samples)
    with pytest.raises(InvalidParameterError, match="blas_threads"):
        uncertainty(pipe1, asem[0], factors, n=3, blas_threads=0)


def test_progress_bar(pipe1, asem, capsys) -> None:
    pytest.importorskip("tqdm")
    factors = [Factor.data_noise(0.02)]
    uncertainty(pipe1, asem[0], factors, n=4, rng=3, chunk=2, progress=True)
    assert "draws" in capsys.readouterr().err
    uncertainty(pipe1, asem[0], factors, n=4, rng=3, chunk=2, progress=False)
    assert capsys.readouterr().err == ""


@pytest.mark.slow
def test_dask_cluster_equals_in_process(pipe1, asem) -> None:
    distributed = pytest.importorskip("distributed")
    panel = asem[0]
    factors = [
        Factor.data_noise(0.02),
        Factor.weights(levels=[2, 3], n_sets=10),
        Factor.choice("aggregate__method", ["arithmetic", "geometric"]),
        Factor.choice("treat", [True, False]),
    ]
    local = uncertainty(pipe1, panel, factors, n=24, rng=8, progress=False)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        remote = uncertainty(
            pipe1, panel, factors, n=24, rng=8, chunk=5, client=client, progress=False
        )
        assert len(client.scheduler_info()["workers"]) == 2
    xr.testing.assert_identical(local.samples, remote.samples)
    xr.testing.assert_identical(local.summary, remote.summary)


def test_dask_backed_panel(pipe1, asem) -> None:
    pytest.importorskip("dask.array")
    panel = asem[0]
    factors = [Factor.weights(levels=[2, 3], n_sets=10), Factor.data_noise(0.01)]
    local = uncertainty(pipe1, panel, factors, n=10, rng=8, progress=False)
    lazy = uncertainty(
        pipe1, panel.chunk({"unit": 20}), factors, n=10, rng=8, chunk=4, progress=False
    )
    xr.testing.assert_identical(local.samples, lazy.samples)


# --------------------------------------------------------------------------------------
# (2) Sobol estimators
# --------------------------------------------------------------------------------------


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    pi4, pi8 = math.pi**4, math.pi**8
    v1 = 0.5 * (1 + b * pi4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * pi8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v


def g_function(x: np.ndarray, a: np.ndarray) -> np.ndarray:
    return np.prod((np.abs(4 * x - 2) + a) / (1 + a), axis=1)


def g_indices(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    vi = 1 / (3 * (1 + a) ** 2)
    v = np.prod(1 + vi) - 1
    total = np.array([vi[i] * np.prod(np.delete(1 + vi, i)) for i in range(len(a))]) / v
    return vi / v, total


def _design(n: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    base = un._base_sample(n, 2 * k, "sobol", np.random.default_rng(seed))
    return base[:, :k], base[:, k:]


def test_ishigami_analytic() -> None:
    n = 2**14
    a, b = _design(n, 3, 1)
    x = sk.saltelli_design(a, b) * 2 * np.pi - np.pi
    s1, st = sk.sobol_indices(*sk.split_outputs(ishigami(x), n, 3))
    ref1, reft = ishigami_indices()
    np.testing.assert_allclose(s1, ref1, atol=0.01)
    np.testing.assert_allclose(st, reft, atol=0.01)
    assert ref1 == pytest.approx([0.3139, 0.4424, 0.0], abs=1e-4)


def test_g_function_analytic() -> None:
    coef = np.array([0.0, 1.0, 4.5, 9.0, 99.0, 99.0])
    n = 2**14
    a, b = _design(n, len(coef), 2)
    y = g_function(sk.saltelli_design(a, b), coef)
    out = sk.sobol_confidence(
        *sk.split_outputs(y, n, len(coef)), n_bootstrap=200, rng=np.random.default_rng(0)
    )
    ref1, reft = g_indices(coef)
    np.testing.assert_allclose(out["S1"], ref1, atol=0.015)
    np.testing.assert_allclose(out["ST"], reft, atol=0.015)
    # the intervals cover the truth for the influential factors
    assert (out["ST_low"][:3] < reft[:3]).all() and (out["ST_high"][:3] > reft[:3]).all()
    assert (out["ST_conf"] > 0).all()


def test_agrees_with_salib_on_the_same_samples() -> None:
    salib_sample = pytest.importorskip("SALib.sample.sobol")
    salib_analyze = pytest.importorskip("SALib.analyze.sobol")
    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-math.pi, math.pi]] * 3}
    n, k = 2**10, 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = salib_sample.sample(problem, n, calc_second_order=False, seed=1)
    y = ishigami(x)
    theirs = salib_analyze.analyze(problem, y, calc_second_order=False, num_resamples=10, seed=1)
    rows = y.reshape(n, k + 2)  # SALib's order: A, AB_1 .. AB_k, B per base row
    s1, st = sk.sobol_indices(rows[:, 0], rows[:, -1], rows[:, 1:-1].T)
    np.testing.assert_allclose(s1, theirs["S1"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(st, theirs["ST"], rtol=0, atol=1e-10)
    # and our design through their estimator
    a, b = _design(n, k, 3)
    x2 = sk.saltelli_design(a, b) * 2 * np.pi - np.pi
    fa, fb, fab = sk.split_outputs(ishigami(x2), n, k)
    ours = sk.sobol_indices(fa, fb, fab)
    theirs2 = salib_analyze.analyze(
        problem,
        np.column_stack([fa, fab.T, fb]).ravel(),
        calc_second_order=False,
        num_resamples=10,
        seed=1,
    )
    np.testing.assert_allclose(ours[0], theirs2["S1"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(ours[1], theirs2["ST"], rtol=0, atol=1e-10)


def test_estimator_vectorised_over_outputs() -> None:
    n, k = 512, 3
    a, b = _design(n, k, 4)
    x = sk.saltelli_design(a, b)
    y = np.stack([x @ np.array([1.0, 2.0, 0.0]), x @ np.array([0.0, 0.0, 1.0])], axis=1)
    s1, st = sk.sobol_indices(*sk.split_outputs(y, n, k))
    for j in range(2):
        one = sk.sobol_indices(*sk.split_outputs(y[:, j], n, k))
        np.testing.assert_allclose(s1[:, j], one[0], rtol=1e-13)
        np.testing.assert_allclose(st[:, j], one[1], rtol=1e-13)
    np.testing.assert_array_equal(st[:2, 1], [0.0, 0.0])  # f(AB_i) = f(A) exactly
    assert st[2, 1] == pytest.approx(1, abs=1e-3)
    # constant output: undefined indices
    c1, ct = sk.sobol_indices(np.ones(4), np.ones(4), np.ones((2, 4)))
    assert np.isnan(c1).all() and np.isnan(ct).all()


def test_bootstrap_batches_do_not_matter() -> None:
    n, k = 256, 2
    a, b = _design(n, k, 5)
    parts = sk.split_outputs(
        ishigami(np.column_stack([sk.saltelli_design(a, b), np.zeros(n * (k + 2))]) * 2 - 1), n, k
    )
    one = sk.sobol_confidence(*parts, n_bootstrap=64, rng=np.random.default_rng(1))
    many = sk.sobol_confidence(*parts, n_bootstrap=64, rng=np.random.default_rng(1), max_bytes=1)
    for key in one:
        np.testing.assert_array_equal(one[key], many[key])
    # the replicates resample rows jointly: replicate of the identity equals the estimate
    boot1, _ = sk.sobol_bootstrap(*parts, np.arange(n)[None])
    np.testing.assert_allclose(boot1[0], sk.sobol_indices(*parts)[0], rtol=1e-13)


def test_factor_mappings_from_uniform() -> None:
    u = np.array([0.0, 0.2, 0.5, 0.999999])
    np.testing.assert_array_equal(sk.uniform_to_index(u, 3), [0, 0, 1, 2])
    f = un._Bound(Factor.uniform("normalise__upper", 90, 110), "normalise")
    np.testing.assert_allclose(f.from_uniform(u), 90 + 20 * u)
    t = un._Bound(Factor.triangular("normalise__upper", 0, 1, 2), "normalise")
    np.testing.assert_allclose(t.from_uniform(np.array([0.5])), [1.0])
    nb = un._Bound(Factor.normal("aggregate__p", 2, 1, low=1), "aggregate")
    assert (nb.from_uniform(u) >= 1).all()
    noise = un._Bound(Factor.data_noise(0.1), "noise")
    assert noise.from_uniform(np.array([0.5]))[0] == 2.0**52


# --------------------------------------------------------------------------------------
# sensitivity() on the ASEM index
# --------------------------------------------------------------------------------------


def test_sensitivity_scalar_output(pipe1, asem) -> None:
    factors = [
        Factor.weights(levels=[2, 3], n_sets=50),
        Factor.choice("aggregate__method", ["arithmetic", "geometric"]),
        Factor.uniform("aggregate__dat_thresh", 0.0, 0.5),  # no missing data left: no effect
    ]
    sa = sensitivity(pipe1, asem[0], factors, n=64, rng=3, n_bootstrap=100, progress=False)
    ind = sa.indices
    assert list(ind["factor"].values) == ["weights", "aggregate__method", "aggregate__dat_thresh"]
    assert float(ind["ST"].sel(factor="aggregate__dat_thresh")) == 0.0
    assert float(ind["S1"].sel(factor="aggregate__dat_thresh")) == pytest.approx(0, abs=1e-12)
    assert (ind["ST"].sel(factor=["weights", "aggregate__method"]) > 0.05).all()
    assert sa.runs.n == 64 * 5
    assert list(np.unique(sa.runs.draws["design"])) == [
        "A",
        "AB_aggregate__dat_thresh",
        "AB_aggregate__method",
        "AB_weights",
        "B",
    ]
    # the output is recomputable from the runs
    ranks = sa.runs.samples["ranks"]
    mean_change = abs(ranks - sa.runs.nominal["ranks"]).mean(["unit", "time"]).values
    fa, fb, fab = sk.split_outputs(mean_change, 64, 3)
    np.testing.assert_allclose(sk.sobol_indices(fa, fb, fab)[1], ind["ST"].values, rtol=1e-12)
    frame = sa.to_frame()
    assert frame.index.name == "factor" and "ST_conf" in frame.columns


def test_sensitivity_per_unit_and_callable(pipe1, asem) -> None:
    factors = [
        Factor.weights(levels=[2, 3], n_sets=40),
        Factor.choice(
            "normalise__method",
            ["minmax", "zscore"],
            params=[{"lower": 1, "upper": 100}, {"mean": 10, "sd": 2}],
        ),
    ]
    sa = sensitivity(
        pipe1, asem[0], factors, n=32, rng=1, output="rank", n_bootstrap=20, progress=False
    )
    st = sa.indices["ST"]
    assert st.dims == ("factor", "unit", "time")
    # CHE is first in every run: its rank has no variance
    assert np.isnan(st.sel(unit="CHE")).all()
    assert len(sa.to_frame()) == 2 * 51

    def top_share(ds: xr.Dataset) -> xr.DataArray:
        return (ds["ranks"] <= 10).mean(["unit", "time"]).astype(float) + ds["scores"].mean(
            ["unit", "time"]
        )

    custom = sensitivity(
        pipe1, asem[0], factors, n=32, rng=1, output=top_share, n_bootstrap=0, progress=False
    )
    assert custom.output == "top_share"
    assert np.isnan(custom.indices["ST_conf"]).all()
    assert float(custom.indices["ST"].sel(factor="normalise__method")) > 0.5


# --------------------------------------------------------------------------------------
# plots
# --------------------------------------------------------------------------------------


def test_plots(replay, pipe1, asem) -> None:
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    ax = un.plot_rank_intervals(replay, max_units=12)
    assert [t.get_text() for t in ax.get_yticklabels()][:2] == ["CHE", "NLD"]
    sa = sensitivity(
        pipe1,
        asem[0],
        [
            Factor.weights(levels=[2, 3], n_sets=10),
            Factor.choice("aggregate__method", ["arithmetic", "geometric"]),
        ],
        n=16,
        rng=0,
        output="rank",
        n_bootstrap=0,
        progress=False,
    )
    ax2 = un.plot_sobol(sa)
    assert len(ax2.get_xticklabels()) == 2
    ax3 = un.plot_sobol(sa, unit="GBR")
    assert len(ax3.patches) == 4
    plt.close("all")


# --------------------------------------------------------------------------------------
# (5) bad input
# --------------------------------------------------------------------------------------


def test_unknown_path_lists_valid_paths(pipe, asem) -> None:
    with pytest.raises(InvalidParameterError, match="normalise__method") as err:
        uncertainty(pipe, asem[0], [Factor.choice("normalize__method", ["zscore"])], n=5)
    assert "Valid paths" in str(err.value)
    with pytest.raises(InvalidParameterError, match="no parameter 'uper'"):
        uncertainty(pipe, asem[0], [Factor.uniform("normalise__uper", 1, 2)], n=5)
    with pytest.raises(InvalidParameterError, match="no such step"):
        uncertainty(pipe.without("treat"), asem[0], [Factor.choice("treat", [True, False])], n=5)
    with pytest.raises(InvalidParameterError, match="before normalisation"):
        uncertainty(pipe, asem[0], [Factor.choice("normalise", [True, False])], n=5)


def test_bad_factor_definitions() -> None:
    with pytest.raises(InvalidParameterError, match="no alternatives"):
        Factor.choice("aggregate__method", [])
    with pytest.raises(InvalidParameterError, match="repeats"):
        Factor.choice("aggregate__method", ["geometric", "geometric"])
    with pytest.raises(InvalidParameterError, match="one mapping per alternative"):
        Factor.choice("normalise__method", ["minmax", "zscore"], params=[{}])
    with pytest.raises(InvalidParameterError, match="True/False"):
        Factor.choice("treat", ["yes", "no"])
    with pytest.raises(InvalidParameterError, match="'low' must be below 'high'"):
        Factor.uniform("normalise__upper", 5, 5)
    with pytest.raises(InvalidParameterError, match="'mode'"):
        Factor.triangular("normalise__upper", 0, 3, 2)
    with pytest.raises(InvalidParameterError, match="'sd'"):
        Factor.normal("normalise__upper", 0, 0)
    with pytest.raises(InvalidParameterError, match="low < high"):
        Factor.normal("normalise__upper", 0, 1, low=2, high=1)
    with pytest.raises(InvalidParameterError, match="finite number"):
        Factor.uniform("normalise__upper", 0, math.inf)
    with pytest.raises(InvalidParameterError, match="'scale'"):
        Factor.data_noise(-0.1)
    with pytest.raises(InvalidParameterError, match="'dist'"):
        Factor.data_noise(0.1, "cauchy")
    with pytest.raises(InvalidParameterError, match="probability per alternative"):
        Factor.choice("aggregate__method", ["arithmetic", "geometric"], probs=[1.0])
    with pytest.raises(InvalidParameterError, match="at least one indicator"):
        Factor.exclude_indicator([])
    with pytest.raises(InvalidParameterError, match="dims \\(set, node\\)"):
        Factor.weights(xr.DataArray([1.0, 2.0], dims="node"))


def test_bad_run_arguments(pipe, asem) -> None:
    panel = asem[0]
    f = [Factor.choice("aggregate__method", ["arithmetic", "geometric"])]
    with pytest.raises(InvalidParameterError, match="'n'"):
        uncertainty(pipe, panel, f, n=1)
    with pytest.raises(InvalidParameterError, match="'n'"):
        sensitivity(pipe, panel, f, n=1)
    with pytest.raises(InvalidParameterError, match="aggregate of the index tree"):
        uncertainty(pipe, panel, f, n=5, target="Goods")
    with pytest.raises(InvalidParameterError, match="'time'"):
        uncertainty(pipe, panel, f, n=5, time=1999)
    with pytest.raises(InvalidParameterError, match="unique"):
        uncertainty(pipe, panel, [f[0], f[0]], n=5)
    with pytest.raises(InvalidParameterError, match="both set"):
        uncertainty(
            pipe, panel, [f[0], Factor.choice("aggregate__method", ["harmonic"], name="other")], n=5
        )
    with pytest.raises(InvalidParameterError, match="'output'"):
        sensitivity(pipe, panel, f, n=4, output="gini")
    with pytest.raises(InvalidParameterError, match="Factor objects"):
        uncertainty(pipe, panel, ["aggregate__method"], n=5)
    with pytest.raises(InvalidParameterError, match="last step is 'aggregate'"):
        uncertainty(pipe.without("aggregate"), panel, f, n=5)
    # a method's parameter that another alternative does not take
    bad = [
        Factor.choice("normalise__method", ["minmax", "zscore"]),
        Factor.uniform("normalise__upper", 90, 110),
    ]
    with pytest.raises(InvalidParameterError, match="normalise__upper"):
        uncertainty(pipe, panel, bad, n=5)
    # the geometric mean on data with zeros: the error names the draws' choices
    with pytest.raises(DataError, match="aggregate__method='geometric'"):
        uncertainty(
            pipe, panel, [Factor.choice("aggregate__method", ["geometric"])], n=2, progress=False
        )


def test_bad_draws_table(pipe, asem) -> None:
    f = [Factor.choice("aggregate__method", ["arithmetic", "geometric"])]
    with pytest.raises(InvalidParameterError, match="no column"):
        uncertainty(pipe, asem[0], f, draws=pd.DataFrame({"x": [1, 2]}))
    with pytest.raises(InvalidParameterError, match="'harmonic', which is not one"):
        uncertainty(pipe, asem[0], f, draws=pd.DataFrame({"aggregate__method": ["harmonic"]}))
    with pytest.raises(InvalidParameterError, match="n = 3"):
        uncertainty(
            pipe, asem[0], f, n=3, draws=pd.DataFrame({"aggregate__method": ["arithmetic"]})
        )


def test_exclusion_that_removes_the_target() -> None:
    spec = IndexSpec(
        [
            Node("x", parent="P"),
            Node("y", parent="Q"),
            Node("z", parent="Q"),
            Node("P", kind="aggregate", parent="I"),
            Node("Q", kind="aggregate", parent="I"),
            Node("I", kind="aggregate"),
        ]
    )
    rng = np.random.default_rng(0)
    panel = xr.DataArray(
        rng.random((6, 1, 3)) + 1,
        dims=("unit", "time", "indicator"),
        coords={"unit": list("abcdef"), "time": [2020], "indicator": ["x", "y", "z"]},
    )
    pipe = be.Pipeline(spec, ["normalise", "aggregate"])
    with pytest.raises(SpecError, match="removes the target node 'P'"):
        uncertainty(pipe, panel, [Factor.exclude_indicator(["x"])], n=4, target="P")
    with pytest.raises(InvalidParameterError, match="not indicators"):
        uncertainty(pipe, panel, [Factor.exclude_indicator(["w"])], n=4)
    # excluding y is fine: the index is still there
    ua = uncertainty(
        pipe, panel, [Factor.exclude_indicator(["x", "y"])], n=30, rng=1, progress=False
    )
    excluded = ua.draws["exclude"].to_numpy()
    scores = ua.samples["scores"].squeeze("time").values
    for code in ("x", "y"):
        sub = spec.subset([c for c in spec.indicators if c != code])
        ref = (
            be.aggregate(be.normalise(panel.sel(indicator=list(sub.indicators)), spec=sub), sub)
            .sel(node="I")
            .squeeze("time")
            .values
        )
        np.testing.assert_allclose(
            scores[excluded == code],
            np.broadcast_to(ref, scores[excluded == code].shape),
            rtol=1e-12,
        )


def test_bad_weight_sets(pipe, asem) -> None:
    spec = asem[1]
    sets = be.weights.noisy(spec, levels=[2, 3], n=3, rng=0)
    for bad, match in [
        (sets.where(sets.node != "Conn", -1.0), "negative weights to \\['Conn'\\]"),
        (sets.where(~sets.node.isin(["Conn", "Sust"]), 0.0), "children of 'Index'"),
        (sets.where(sets.node != "Conn"), "NaN"),
    ]:
        with pytest.raises(SpecError, match=match):
            uncertainty(pipe, asem[0], [Factor.weights(bad)], n=3)
    partial = sets.sel(node=["Conn", "Sust"])  # the other nodes keep the nominal weights
    ua = uncertainty(pipe, asem[0], [Factor.weights(partial)], n=3, rng=0, progress=False)
    assert ua.samples["scores"].notnull().all()


def test_per_draw_weights(pipe, asem) -> None:
    sets = be.weights.noisy(asem[1], levels=[2, 3], n=5, rng=0)
    with pytest.raises(InvalidParameterError, match="holds 5 sets for 6 draws"):
        uncertainty(pipe, asem[0], [Factor.weights(sets, per_draw=True)], n=6)
    ua = uncertainty(pipe, asem[0], [Factor.weights(sets, per_draw=True)], n=5, progress=False)
    assert ua.draws["weights"].tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(InvalidParameterError, match="per_draw"):
        sensitivity(pipe, asem[0], [Factor.weights(sets, per_draw=True)], n=4)


def test_inputs_not_mutated(pipe1, asem) -> None:
    panel, spec = asem
    before = panel.copy(deep=True)
    sets = be.weights.noisy(spec, levels=[2, 3], n=4, rng=0)
    sets_before = sets.copy(deep=True)
    uncertainty(
        pipe1, panel, [Factor.weights(sets), Factor.data_noise(0.1)], n=4, rng=0, progress=False
    )
    xr.testing.assert_equal(panel, before)
    assert panel.attrs.keys() == before.attrs.keys()
    xr.testing.assert_identical(sets, sets_before)
    assert pipe1 == be.Pipeline.coinr_example(spec).set(normalise__lower=1.0)


def test_reference_folder_present() -> None:
    assert (REF / SENS.split("/")[0]).is_dir()


def test_replaying_a_generated_weight_pool_uses_the_recorded_pool() -> None:
    import warnings

    panel, spec = be.datasets.load_asem()
    pipe = be.Pipeline.coinr_example(spec).set(normalise__lower=1.0)
    factors = [
        Factor.weights(noise_factor=0.25, levels=[2, 3], n_sets=20),
        Factor.choice("aggregate__method", ["arithmetic", "geometric"]),
    ]
    first = uncertainty(pipe, panel, factors, n=40, rng=1, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the recorded pool is used: no warning
        again = uncertainty(pipe, panel, factors, draws=first.draws, rng=99, progress=False)
    xr.testing.assert_identical(again.samples, first.samples)
    # without the record, the replay warns that the pool was regenerated
    bare = first.draws.copy()
    bare.attrs = {}
    with pytest.warns(be.errors.DataWarning, match="regenerated from this call's rng"):
        uncertainty(pipe, panel, factors, draws=bare, rng=99, progress=False)
