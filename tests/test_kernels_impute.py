"""Tests of the imputation kernels against COINr 1.1.14 references and analytic cases."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from brics_ecom._kernels.impute import (
    EMResult,
    em_mvn,
    fill_em,
    fill_group,
    fill_row,
    fill_stat,
    fill_time,
    single_observation_series,
)
from brics_ecom.errors import DataError, InvalidParameterError
from brics_ecom.registry import get_method
from conftest import ASEM, read_ref

nan = np.nan
RTOL = 1e-12


# --------------------------------------------------------------------------------------
# COINr reference data
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    return read_ref("impute/input_raw.csv")


@pytest.fixture(scope="module")
def imeta() -> pd.DataFrame:
    return pd.read_csv(ASEM / "iMeta.csv").set_index("iCode")


def _ref_matrix(name: str, raw: pd.DataFrame) -> np.ndarray:
    """Reference table aligned with ``raw``, as an (indicator, unit) array."""
    return read_ref(name).loc[raw.index, raw.columns].to_numpy(float).T


def _assert_matches(got: np.ndarray, ref: np.ndarray) -> None:
    assert np.array_equal(np.isnan(got), np.isnan(ref))
    np.testing.assert_allclose(got, ref, rtol=RTOL, atol=0, equal_nan=True)


def test_input_has_the_documented_gaps(raw: pd.DataFrame) -> None:
    x = raw.to_numpy(float)
    assert x.shape == (51, 49)
    assert np.isnan(x).sum() == 63
    assert (np.isnan(x).any(axis=0)).sum() == 16


def test_fill_stat_mean_matches_coinr(raw: pd.DataFrame) -> None:
    x = raw.to_numpy(float).T  # (indicator, unit)
    got = fill_stat(x, "mean", axis=-1)
    _assert_matches(got, _ref_matrix("impute/i_mean_column.csv", raw))
    # the same with units first
    np.testing.assert_array_equal(fill_stat(x.T, axis=0), got.T)


def test_fill_group_mean_matches_coinr(raw: pd.DataFrame) -> None:
    groups = read_ref("impute/groups.csv").loc[raw.index, "EurAsia_group"]
    assert groups.notna().all()
    codes = pd.factorize(groups)[0]
    x = raw.to_numpy(float).T
    got = fill_group(x, codes, "mean", axis=-1)
    _assert_matches(got, _ref_matrix("impute/i_mean_grp_EurAsia.csv", raw))
    np.testing.assert_array_equal(fill_group(x.T, codes, axis=0), got.T)


def test_fill_row_by_pillar_matches_coinr(raw: pd.DataFrame, imeta: pd.DataFrame) -> None:
    meta = imeta.loc[raw.columns]
    directions = meta["Direction"].to_numpy()
    blocks = pd.factorize(meta["Parent"])[0]
    assert set(directions) == {-1.0, 1.0}
    assert len(set(blocks)) == 8
    x = raw.to_numpy(float).T
    got = fill_row(x, directions=directions, blocks=blocks)
    _assert_matches(got, _ref_matrix("impute/i_mean_row_by_pillar.csv", raw))
    # observed values are returned bit for bit
    obs = ~np.isnan(x)
    np.testing.assert_array_equal(got[obs], x[obs])
    # units first
    got_t = fill_row(x.T, directions=directions, blocks=blocks, indicator_axis=1, unit_axis=0)
    np.testing.assert_array_equal(got_t, got.T)


def _panel(name: str) -> tuple[np.ndarray, list[str], list[int]]:
    df = read_ref(name, index_col=None).sort_values(["uCode", "Time"])
    ind = [c for c in df.columns if c not in ("uCode", "Time")]
    units = list(dict.fromkeys(df["uCode"]))
    times = sorted(set(df["Time"]))
    assert len(df) == len(units) * len(times)
    arr = df[ind].to_numpy(float).reshape(len(units), len(times), len(ind))
    return arr, units, times


def test_panel_linear_constant_matches_coinr() -> None:
    x, units, times = _panel("impute/panel_input_with_gaps.csv")
    ref, units_r, times_r = _panel("impute/panel_linear_constant.csv")
    assert (units, times) == (units_r, times_r)
    assert np.isnan(x).sum() == 615
    got = fill_time(x, "linear_constant", axis=1)  # (unit, time, indicator)
    assert np.isnan(got).sum() == 315
    _assert_matches(got, ref)
    # the same with time last and with the actual years as coordinates
    got_last = fill_time(np.moveaxis(x, 1, -1), "linear_constant", times=times)
    np.testing.assert_allclose(np.moveaxis(got_last, -1, 1), ref, rtol=RTOL, equal_nan=True)
    # no one-observation series here, so "linear" gives the same result
    assert not single_observation_series(x, axis=1).any()
    np.testing.assert_array_equal(fill_time(x, "linear", axis=1), got)


# --------------------------------------------------------------------------------------
# column and group statistics
# --------------------------------------------------------------------------------------


def test_fill_stat_median_and_mean_analytic() -> None:
    x = np.array([[1.0, nan, 4.0, 2.0, nan], [nan, 5.0, 1.0, 3.0, 10.0], [nan] * 5])
    np.testing.assert_array_equal(
        fill_stat(x, "median"),
        [[1.0, 2.0, 4.0, 2.0, 2.0], [4.0, 5.0, 1.0, 3.0, 10.0], [nan] * 5],
    )
    np.testing.assert_array_equal(
        fill_stat(x, "mean"),
        [[1.0, 7 / 3, 4.0, 2.0, 7 / 3], [4.75, 5.0, 1.0, 3.0, 10.0], [nan] * 5],
    )


def test_fill_stat_pools_a_tuple_of_axes() -> None:
    x = np.array([[[1.0, nan], [3.0, 8.0]], [[nan, nan], [2.0, nan]]])  # (ind, time, unit)
    got = fill_stat(x, "mean", axis=(1, 2))
    np.testing.assert_array_equal(got, [[[1.0, 4.0], [3.0, 8.0]], [[2.0, 2.0], [2.0, 2.0]]])


def test_fill_group_median_analytic() -> None:
    x = np.array([4.0, nan, 1.0, 2.0, nan, 7.0, nan, nan, 5.0, nan])
    groups = np.array([0, 0, 0, 0, 1, 1, -1, 2, 2, 3])
    # group 0 median of (4, 1, 2) = 2; group 1 = 7; -1 left alone; group 2 = 5;
    # group 3 has nothing observed -> stays NaN
    np.testing.assert_array_equal(
        fill_group(x, groups, "median"), [4.0, 2.0, 1.0, 2.0, 7.0, 7.0, nan, 5.0, 5.0, nan]
    )
    x2 = np.array([1.0, 2.0, 3.0, 10.0, nan, nan])
    np.testing.assert_array_equal(
        fill_group(x2, [0, 0, 0, 0, 0, 1], "median"), [1.0, 2.0, 3.0, 10.0, 2.5, nan]
    )
    np.testing.assert_array_equal(
        fill_group(x2, [0, 0, 0, 0, 0, 1], "mean"), [1.0, 2.0, 3.0, 10.0, 4.0, nan]
    )


@pytest.mark.parametrize("n_groups", [5, 30])  # dot products / gathered segments
def test_fill_group_mean_rows_alone_infinities_and_pandas(monkeypatch, n_groups) -> None:
    import brics_ecom._kernels.impute as ki

    assert (n_groups <= ki._DOT_GROUPS) == (n_groups == 5)
    rng = np.random.default_rng(11)
    x = rng.lognormal(0, 2, size=(7, 5, 300)) * 10.0 ** rng.integers(-3, 4, size=(7, 5, 1))
    x[rng.random(x.shape) < 0.2] = nan
    x[2, 1, :] = nan  # a row with nothing observed
    x[3, 0, 5], x[3, 0, 9], x[4, 2, 7] = np.inf, -np.inf, np.inf  # inf * 0 in other groups
    groups = rng.integers(-1, n_groups, size=300)  # -1: in no group, stays missing
    before = x.copy()
    got = fill_group(x, groups, "mean")
    np.testing.assert_array_equal(x, before)  # not modified
    # pandas' group means (of the rows' own values) at every gap of a grouped unit
    for i in range(7):
        for j in range(5):
            row = pd.Series(x[i, j])
            want = row.groupby(groups).transform("mean").to_numpy(copy=True)
            want[groups < 0] = nan
            fill = np.isnan(x[i, j])
            np.testing.assert_allclose(got[i, j][fill], want[fill], rtol=1e-13, equal_nan=True)
            np.testing.assert_array_equal(got[i, j][~fill], x[i, j][~fill])
            # each row's result is that of the row alone, bit for bit
            assert fill_group(x[i, j], groups).tobytes() == got[i, j].tobytes()
    assert np.isnan(got[2, 1]).all()
    # whatever the blocks of rows
    monkeypatch.setattr(ki, "_ROW_BLOCK", 600)
    assert fill_group(x, groups).tobytes() == got.tobytes()


def test_fill_group_rejects_bad_groups() -> None:
    with pytest.raises(InvalidParameterError, match="groups"):
        fill_group(np.zeros((2, 3)), [0, 1])
    with pytest.raises(InvalidParameterError, match="integer"):
        fill_group(np.zeros(3), [0.0, 1.0, 1.0])
    with pytest.raises(InvalidParameterError, match="stat"):
        fill_stat(np.zeros(3), "mode")  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------
# row imputation
# --------------------------------------------------------------------------------------


def test_fill_row_analytic() -> None:
    x = np.array(
        [
            [0.0, 10.0, 5.0, nan],  # A, +1, block 7
            [1.0, 3.0, nan, 2.0],  # B, -1, block 7
            [nan, 4.0, 6.0, 8.0],  # C, +1, block 3 (alone)
        ]
    )
    got = fill_row(x, directions=[1, -1, 1], blocks=[7, 7, 3])
    # A on [0,1]: (0, 1, .5, -); B' = -B: min -3, max -1 -> (1, 0, -, .5)
    # unit 2: B = -(0.5 * 2 - 3) = 2; unit 3: A = 0.5 * 10 + 0 = 5; C unit 0 has nothing
    np.testing.assert_array_equal(
        got, [[0.0, 10.0, 5.0, 5.0], [1.0, 3.0, 2.0, 2.0], [nan, 4.0, 6.0, 8.0]]
    )
    # one block for everything: unit 0 now fills C from mean(0, 1) = 0.5 -> 4 + 0.5 * 4
    got_all = fill_row(x, directions=[1, -1, 1], blocks=[0, 0, 0])
    assert got_all[2, 0] == 6.0
    # unit 2 now averages A (.5) and C (.5) -> B = 2 again; unit 3 averages B (.5), C (1)
    assert got_all[1, 2] == 2.0
    assert got_all[0, 3] == 7.5


def test_fill_row_zero_range_indicator_takes_its_constant() -> None:
    x = np.array([[2.0, 2.0, nan], [0.0, 1.0, 3.0]])
    got = fill_row(x, directions=[1, 1], blocks=[0, 0])
    np.testing.assert_array_equal(got, [[2.0, 2.0, 2.0], [0.0, 1.0, 3.0]])


def test_fill_row_rejects_bad_parameters() -> None:
    x = np.zeros((2, 3))
    with pytest.raises(InvalidParameterError, match="directions"):
        fill_row(x, directions=[1, 0], blocks=[0, 0])
    with pytest.raises(InvalidParameterError, match="directions"):
        fill_row(x, directions=[1, 1, 1], blocks=[0, 0])
    with pytest.raises(InvalidParameterError, match="blocks"):
        fill_row(x, directions=[1, 1], blocks=[0])
    with pytest.raises(InvalidParameterError, match="differ"):
        fill_row(x, directions=[1, 1], blocks=[0, 0], indicator_axis=1, unit_axis=-1)


# --------------------------------------------------------------------------------------
# panel imputation
# --------------------------------------------------------------------------------------

SERIES = np.array([nan, 1.0, nan, nan, 4.0, nan])


def test_latest_is_forward_fill_only() -> None:
    np.testing.assert_array_equal(fill_time(SERIES, "latest"), [nan, 1, 1, 1, 4, 4])


def test_latest_with_max_time() -> None:
    np.testing.assert_array_equal(fill_time(SERIES, "latest", max_time=1), [nan, 1, 1, nan, 4, 4])
    np.testing.assert_array_equal(fill_time(SERIES, "latest", max_time=2), [nan, 1, 1, 1, 4, 4])
    np.testing.assert_array_equal(fill_time(SERIES, "latest", max_time=0), SERIES)


def test_constant_back_fills_leading_gaps() -> None:
    np.testing.assert_array_equal(fill_time(SERIES, "constant"), [1, 1, 1, 1, 4, 4])


def test_linear_holds_both_ends() -> None:
    expected = [1, 1, 2, 3, 4, 4]
    np.testing.assert_array_equal(fill_time(SERIES, "linear"), expected)
    np.testing.assert_array_equal(fill_time(SERIES, "linear_constant"), expected)


def test_linear_with_uneven_times() -> None:
    times = [0.0, 1.0, 2.0, 4.0, 5.0, 9.0]
    got = fill_time(SERIES, "linear", times=times)
    np.testing.assert_allclose(got, [1, 1, 1.75, 3.25, 4, 4], rtol=1e-15)
    # equal spacing given explicitly is the default
    np.testing.assert_array_equal(
        fill_time(SERIES, "linear", times=[2018, 2019, 2020, 2021, 2022, 2023]),
        fill_time(SERIES, "linear"),
    )


def test_linear_single_observation_raises_and_linear_constant_holds_it() -> None:
    x = np.array([[nan, 2.0, nan, nan], [1.0, nan, nan, 3.0], [nan] * 4])
    assert single_observation_series(x).tolist() == [True, False, False]
    assert single_observation_series(x.T, axis=0).tolist() == [True, False, False]
    with pytest.raises(DataError, match="linear_constant"):
        fill_time(x, "linear")
    got = fill_time(x, "linear_constant")
    np.testing.assert_allclose(
        got, [[2, 2, 2, 2], [1, 5 / 3, 7 / 3, 3], [nan] * 4], rtol=1e-15, atol=0
    )


def test_all_missing_series_are_left_alone() -> None:
    x = np.full((2, 3), nan)
    for method in ("latest", "constant", "linear", "linear_constant"):
        got = fill_time(x, method)  # type: ignore[arg-type]
        assert np.isnan(got).all()


def test_fill_time_rejects_bad_parameters() -> None:
    with pytest.raises(InvalidParameterError, match="method"):
        fill_time(SERIES, "spline")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="max_time"):
        fill_time(SERIES, "constant", max_time=1)
    with pytest.raises(InvalidParameterError, match="max_time"):
        fill_time(SERIES, "latest", max_time=-1)
    with pytest.raises(InvalidParameterError, match="increasing"):
        fill_time(SERIES, "linear", times=[0, 1, 1, 2, 3, 4])
    with pytest.raises(InvalidParameterError, match="times"):
        fill_time(SERIES, "linear", times=[0, 1, 2])


# --------------------------------------------------------------------------------------
# EM
# --------------------------------------------------------------------------------------


def _correlated(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(4, 4))
    return rng.normal(size=(n, 4)) @ a + np.array([1.0, -2.0, 10.0, 0.5])


def _blank(x: np.ndarray, share: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = x.copy()
    mask = rng.random(x.shape) < share
    mask[mask.all(axis=1), 0] = False  # keep every unit partly observed
    out[mask] = nan
    return out


def test_em_on_complete_data_is_the_ml_estimate() -> None:
    x = _correlated(30, 1)
    res = em_mvn(x)
    assert isinstance(res, EMResult)
    np.testing.assert_array_equal(res.filled, x)
    np.testing.assert_allclose(res.mean, x.mean(axis=0), rtol=RTOL)
    np.testing.assert_allclose(res.cov, np.cov(x, rowvar=False, bias=True), rtol=RTOL)
    assert bool(res.converged)
    assert res.n_iter.shape == () and int(res.n_iter) <= 2


def test_em_recovers_a_perfectly_correlated_variable() -> None:
    xs = np.array([0.0, 1.0, 2.5, 3.0, 4.0, 6.0, 7.5, 9.0])
    y = 2 * xs + 1
    data = np.column_stack([xs, y])
    data[[1, 4, 6], 1] = nan
    res = em_mvn(data, tol=1e-13)
    assert bool(res.converged)
    np.testing.assert_allclose(res.filled[:, 1], y, rtol=1e-9)
    np.testing.assert_array_equal(res.filled[:, 0], xs)
    np.testing.assert_array_equal(fill_em(data, tol=1e-13), res.filled)


def test_em_fixed_point_property() -> None:
    x = _blank(_correlated(60, 2), 0.15, 3)
    res = em_mvn(x, tol=1e-12)
    assert bool(res.converged)
    mu, sigma = res.mean, res.cov
    miss = np.isnan(x)
    assert miss.any(axis=1).sum() > 10
    for i in np.flatnonzero(miss.any(axis=1)):
        m, o = miss[i], ~miss[i]
        expected = mu[m] + sigma[np.ix_(m, o)] @ np.linalg.solve(
            sigma[np.ix_(o, o)], x[i, o] - mu[o]
        )
        np.testing.assert_allclose(res.filled[i, m], expected, rtol=1e-10, atol=1e-12)
        np.testing.assert_array_equal(res.filled[i, o], x[i, o])
    # M-step fixed point: mu is the mean of the completed data
    np.testing.assert_allclose(res.filled.mean(axis=0), mu, rtol=1e-9)


def test_em_handles_collinear_observed_indicators() -> None:
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(2, 20))
    data = np.column_stack([a, b, a + b, a - b + 3])  # singular covariance
    data[[2, 5, 11], 3] = nan  # Sigma_oo over (a, b, a + b) is singular
    res = em_mvn(data, tol=1e-12)
    assert bool(res.converged)
    np.testing.assert_allclose(res.filled[:, 3], a - b + 3, rtol=1e-8)


def test_em_unit_with_nothing_observed_gets_the_mean_and_empty_indicator_stays_nan() -> None:
    x = _blank(_correlated(25, 5), 0.1, 6)
    x = np.column_stack([x, np.full(25, nan)])
    x[7] = nan
    res = em_mvn(x, tol=1e-12)
    np.testing.assert_allclose(res.filled[7, :4], res.mean[:4], rtol=1e-15)
    assert np.isnan(res.filled[:, 4]).all()
    assert np.isnan(res.mean[4]) and np.isnan(res.cov[4]).all() and np.isnan(res.cov[:, 4]).all()
    assert np.isfinite(res.filled[:, :4]).all()
    # the empty unit takes no part in the estimate
    ref = em_mvn(np.delete(x, 7, axis=0)[:, :4], tol=1e-12)
    np.testing.assert_allclose(res.mean[:4], ref.mean, rtol=1e-12)


def test_em_loops_over_leading_dims_and_axes() -> None:
    xs = np.stack([_blank(_correlated(20, s), 0.1, s + 10) for s in range(3)])  # (year, u, i)
    res = em_mvn(xs)
    assert res.filled.shape == xs.shape
    assert res.mean.shape == (3, 4) and res.cov.shape == (3, 4, 4)
    assert res.n_iter.shape == (3,) and res.converged.shape == (3,)
    for k in range(3):
        one = em_mvn(xs[k])
        np.testing.assert_array_equal(res.filled[k], one.filled)
        np.testing.assert_array_equal(res.mean[k], one.mean)
        np.testing.assert_array_equal(res.cov[k], one.cov)
    # indicators before units, year last
    xt = np.moveaxis(xs, (0, 1, 2), (2, 1, 0))  # (i, u, year)
    got = fill_em(xt, unit_axis=1, indicator_axis=0)
    np.testing.assert_allclose(np.moveaxis(got, (2, 1, 0), (0, 1, 2)), res.filled, rtol=1e-13)


def test_em_rejects_bad_parameters() -> None:
    with pytest.raises(InvalidParameterError, match="max_iter"):
        em_mvn(np.zeros((3, 2)), max_iter=0)
    with pytest.raises(InvalidParameterError, match="differ"):
        em_mvn(np.zeros((3, 2)), unit_axis=0, indicator_axis=-2)
    with pytest.raises(InvalidParameterError, match="dimension"):
        fill_em(np.zeros(3))


# --------------------------------------------------------------------------------------
# shared conventions: broadcasting, no mutation, silence, registry
# --------------------------------------------------------------------------------------


def _cases() -> list[tuple[str, Callable[[np.ndarray], np.ndarray], int]]:
    """(name, kernel on a (lead, ..., ...) array, index of the looped leading axis)."""
    groups = np.array([0, 1, 0, 1, -1, 0])
    return [
        ("mean", lambda a: fill_stat(a, "mean"), 0),
        ("median", lambda a: fill_stat(a, "median"), 0),
        ("group", lambda a: fill_group(a, groups, "median"), 0),
        (
            "row",
            lambda a: fill_row(a, directions=[1, -1, 1, 1, -1], blocks=[0, 0, 1, 1, 1]),
            0,
        ),
        ("latest", lambda a: fill_time(a, "latest", max_time=2), 0),
        ("constant", lambda a: fill_time(a, "constant"), 0),
        ("linear_constant", lambda a: fill_time(a, "linear_constant"), 0),
        ("em", lambda a: fill_em(a, unit_axis=-1, indicator_axis=-2), 0),
    ]


@pytest.fixture(scope="module")
def cube() -> np.ndarray:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(3, 5, 6)) + 5
    x[rng.random(x.shape) < 0.25] = nan
    x[0, 1, :] = nan  # an all-NaN slice
    x[:, :, 0] = np.where(np.isnan(x[:, :, 0]), 1.0, x[:, :, 0])
    return x


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c[0])
def test_broadcast_no_mutation_no_warnings(
    case: tuple[str, Callable[[np.ndarray], np.ndarray], int], cube: np.ndarray
) -> None:
    _, func, _ = case
    before = cube.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = func(cube)
    np.testing.assert_array_equal(cube, before)
    assert got.shape == cube.shape and got.dtype == np.float64
    for k in range(cube.shape[0]):
        np.testing.assert_array_equal(got[k], func(cube[k]))
    obs = ~np.isnan(cube)
    np.testing.assert_array_equal(got[obs], cube[obs])


def test_em_no_mutation() -> None:
    x = _blank(_correlated(15, 8), 0.2, 9)
    before = x.copy()
    em_mvn(x)
    np.testing.assert_array_equal(x, before)


def test_registry_entries() -> None:
    x = np.array([[1.0, nan, 3.0, 8.0], [nan, 2.0, 2.0, 5.0]])
    calls: list[tuple[str, str, dict[str, Any], np.ndarray]] = [
        ("impute", "mean", {}, fill_stat(x, "mean")),
        ("impute", "median", {}, fill_stat(x, "median")),
        ("impute", "group_mean", {"groups": [0, 0, 1, 1]}, fill_group(x, [0, 0, 1, 1])),
        (
            "impute",
            "group_median",
            {"groups": [0, 0, 1, 1]},
            fill_group(x, [0, 0, 1, 1], "median"),
        ),
        (
            "impute",
            "row_mean",
            {"directions": [1, -1], "blocks": [0, 0]},
            fill_row(x, directions=[1, -1], blocks=[0, 0]),
        ),
        ("impute", "em", {}, fill_em(x, unit_axis=-1, indicator_axis=-2)),
        ("impute_panel", "latest", {"max_time": 1}, fill_time(x, "latest", max_time=1)),
        ("impute_panel", "constant", {}, fill_time(x, "constant")),
        ("impute_panel", "linear", {}, fill_time(x, "linear")),
        ("impute_panel", "linear_constant", {}, fill_time(x, "linear_constant")),
    ]
    for step, name, params, expected in calls:
        got = get_method(step, name)(x, axis=-1, **params)
        np.testing.assert_array_equal(got, expected)
