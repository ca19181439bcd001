"""Normalisation kernels: COINr 1.1.14 reference values, analytic cases and properties."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from brics_ecom._kernels import normalise as nk
from brics_ecom.errors import InvalidParameterError
from brics_ecom.registry import get_method
from conftest import read_ref

RTOL = 1e-12
ATOL_AT_ZERO = 1e-13

ALL_METHODS = [
    "minmax",
    "zscore",
    "rank",
    "borda",
    "prank",
    "goalposts",
    "scaled",
    "dist2max",
    "dist2ref",
    "dist2targ",
    "fracmax",
]

# parameters that make every method callable on any (..., n_unit) array
DEFAULT_PARAMS: dict[str, dict[str, object]] = {
    "goalposts": {"lower": 0.0, "upper": 10.0},
    "scaled": {"lower": 0.0, "upper": 10.0},
    "dist2ref": {"ref_value": 5.0},
    "dist2targ": {"target": 20.0},
}


def call(method: str, x: np.ndarray, **kwargs: object) -> np.ndarray:
    params = {**DEFAULT_PARAMS.get(method, {}), **kwargs}
    return get_method("normalise", method)(x, **params)


def assert_matches(actual: np.ndarray, expected: np.ndarray) -> None:
    """Same NaN pattern; rtol 1e-12, plus atol 1e-13 only where the reference is exactly 0."""
    assert actual.shape == expected.shape
    assert actual.dtype == np.float64
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected))
    ok = ~np.isnan(expected)
    zero = ok & (expected == 0)
    nonzero = ok & (expected != 0)
    np.testing.assert_allclose(actual[nonzero], expected[nonzero], rtol=RTOL, atol=0)
    np.testing.assert_allclose(actual[zero], 0.0, rtol=0, atol=ATOL_AT_ZERO)


# --------------------------------------------------------------------------------------
# COINr reference outputs: x laid out as (indicator, unit), reduced over units (axis=-1)
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def asem() -> dict[str, np.ndarray | list[str]]:
    raw = read_ref("normalise/input_raw.csv")
    params = read_ref("normalise/params_per_indicator.csv", index_col="iCode")
    codes = list(raw.columns)
    params = params.loc[codes]  # join on iCode
    direction = params["Direction"].to_numpy(dtype=float)[:, None]  # (n_ind, 1)
    assert set(np.unique(direction)) == {-1.0, 1.0}
    return {
        "codes": codes,
        "units": list(raw.index),
        "x": raw[codes].to_numpy(dtype=float).T * direction,  # (n_ind, n_unit), directed
        "direction": direction,
        "gp_lower": params["goalpost_lower"].to_numpy(dtype=float)[:, None],
        "gp_upper": params["goalpost_upper"].to_numpy(dtype=float)[:, None],
        "gp_scale": params["goalpost_scale"].to_numpy(dtype=float)[:, None],
        "gp_trunc": params["goalpost_trunc2posts"].to_numpy(dtype=bool)[:, None],
        "target": params["Target"].to_numpy(dtype=float)[:, None],
    }


def expected(name: str, asem: dict) -> np.ndarray:
    df = read_ref(f"normalise/{name}.csv")
    assert list(df.index) == asem["units"]  # rows uCode-sorted, same units
    return df[asem["codes"]].to_numpy(dtype=float).T


def test_reference_input_has_missing_values(asem):
    # the reference run keeps the NAs, so NaN propagation is exercised too
    assert np.isnan(asem["x"]).sum() > 0
    assert asem["x"].shape == (49, 51)


def test_minmax_matches_coinr(asem):
    assert_matches(nk.minmax(asem["x"], lower=0, upper=100), expected("n_minmax_0_100", asem))


def test_zscore_matches_coinr(asem):
    assert_matches(nk.zscore(asem["x"], mean=0, sd=1), expected("n_zscore_0_1", asem))


def test_rank_matches_coinr_exactly(asem):
    out = nk.rank(asem["x"])
    np.testing.assert_array_equal(out, expected("n_rank", asem))  # NaN == NaN here


def test_goalposts_matches_coinr(asem):
    d = asem["direction"]
    lo, hi = asem["gp_lower"], asem["gp_upper"]
    lower = np.where(d > 0, lo, -hi)  # flipped bounds for negative indicators
    upper = np.where(d > 0, hi, -lo)
    out = nk.goalposts(
        asem["x"], lower=lower, upper=upper, scale=asem["gp_scale"], truncate=asem["gp_trunc"]
    )
    assert_matches(out, expected("n_goalposts", asem))


def test_goalposts_negative_indicator_formula(asem):
    # for a negative indicator the result is (hi - x)/(hi - lo) on the raw scale
    d = asem["direction"][:, 0]
    i = int(np.flatnonzero(d < 0)[0])
    lo, hi = asem["gp_lower"][i, 0], asem["gp_upper"][i, 0]
    raw = -asem["x"][i]
    out = nk.goalposts(asem["x"][i], lower=-hi, upper=-lo)
    np.testing.assert_allclose(out, np.clip((hi - raw) / (hi - lo), 0, 1) * 100, rtol=1e-14)


def test_dist2targ_matches_coinr(asem):
    out = nk.dist2targ(asem["x"], target=asem["target"] * asem["direction"], cap=False)
    assert_matches(out, expected("n_dist2targ", asem))


def test_per_indicator_params_broadcast_like_rows(asem):
    # one row at a time with scalar params gives the same as the (n_ind, 1) broadcast
    x = asem["x"]
    full = nk.dist2targ(x, target=asem["target"] * asem["direction"])
    for i in (0, 10, 48):
        row = nk.dist2targ(x[i], target=float(asem["target"][i, 0] * asem["direction"][i, 0]))
        np.testing.assert_array_equal(row, full[i])


# --------------------------------------------------------------------------------------
# analytic cases
# --------------------------------------------------------------------------------------

X_TIES = np.array([3.0, 1.0, np.nan, 3.0, 2.0, 5.0])


def test_rank_ties_min_and_nan_kept():
    np.testing.assert_array_equal(nk.rank(X_TIES), [3.0, 1.0, np.nan, 3.0, 2.0, 5.0])


def test_rank_negative_zero_ties_with_zero():
    np.testing.assert_array_equal(nk.rank(np.array([0.0, -0.0, -1.0])), [2.0, 2.0, 1.0])


def test_borda_is_rank_minus_one():
    np.testing.assert_array_equal(nk.borda(X_TIES), [2.0, 0.0, np.nan, 2.0, 1.0, 4.0])


def test_prank():
    # n = 5 non-NaN values: (rank - 1) / 4
    np.testing.assert_array_equal(nk.prank(X_TIES), [0.5, 0.0, np.nan, 0.5, 0.25, 1.0])


def test_prank_single_value_is_nan():
    np.testing.assert_array_equal(nk.prank(np.array([np.nan, 7.0])), [np.nan, np.nan])


def test_scaled_never_truncates():
    x = np.array([-5.0, 0.0, 5.0, 10.0, 25.0, np.nan])
    np.testing.assert_allclose(
        nk.scaled(x, lower=0.0, upper=10.0), [-50.0, 0.0, 50.0, 100.0, 250.0, np.nan]
    )
    np.testing.assert_allclose(
        nk.scaled(x, lower=0.0, upper=10.0, scale=1.0), [-0.5, 0.0, 0.5, 1.0, 2.5, np.nan]
    )


def test_goalposts_truncation_per_slice():
    x = np.array([[-5.0, 5.0, 25.0], [-5.0, 5.0, 25.0]])
    out = nk.goalposts(x, lower=0.0, upper=10.0, scale=1.0, truncate=np.array([[True], [False]]))
    np.testing.assert_allclose(out, [[0.0, 0.5, 1.0], [-0.5, 0.5, 2.5]])


def test_dist2max():
    x = np.array([2.0, 4.0, np.nan, 10.0, 6.0])
    out = nk.dist2max(x)
    np.testing.assert_allclose(out, [0.0, 0.25, np.nan, 1.0, 0.5], rtol=0, atol=1e-15)
    # same as minmax on [0, 1] up to about one ulp
    np.testing.assert_allclose(out, nk.minmax(x, lower=0, upper=1), rtol=0, atol=4e-16)


def test_dist2ref_without_and_with_cap():
    x = np.array([0.0, 2.0, np.nan, 4.0, 6.0])
    np.testing.assert_allclose(nk.dist2ref(x, ref_value=4.0), [0.0, 0.5, np.nan, 1.0, 1.5])
    capped = nk.dist2ref(x, ref_value=4.0, cap=True)
    np.testing.assert_allclose(capped, [0.0, 0.5, np.nan, 1.0, 1.0])


def test_dist2ref_cap_leaves_low_end_alone():
    # with ref statistics from another sample, values below the minimum stay negative
    out = nk.dist2ref(np.array([-2.0, 0.0, 8.0]), ref=np.array([0.0, 4.0]), ref_value=4.0, cap=True)
    np.testing.assert_allclose(out, [-0.5, 0.0, 1.0])


def test_dist2ref_nan_reference_value_gives_nan_slice():
    x = np.array([[0.0, 2.0, 4.0], [1.0, 2.0, 3.0]])
    out = nk.dist2ref(x, ref_value=np.array([[np.nan], [3.0]]))
    assert np.isnan(out[0]).all()
    np.testing.assert_allclose(out[1], [0.0, 0.5, 1.0])


def test_dist2targ_cap_only_touches_values_above_one():
    x = np.array([1.0, 3.0, 5.0, 7.0])
    out = nk.dist2targ(x, ref=np.array([2.0, 9.0]), target=5.0, cap=True)
    np.testing.assert_allclose(out, [-1 / 3, 1 / 3, 1.0, 1.0])


def test_fracmax():
    x = np.array([1.0, np.nan, 2.0, 4.0])
    np.testing.assert_array_equal(nk.fracmax(x), [0.25, np.nan, 0.5, 1.0])


def test_fracmax_negative_zero_case_as_coinr():
    # a negative indicator with raw minimum 0: max(-x) = -0.0, so x > 0 -> +inf, x = 0 -> NaN
    raw = np.array([0.0, 1.0, 2.0, np.nan])
    out = nk.fracmax(-1.0 * raw)
    np.testing.assert_array_equal(out, [np.nan, np.inf, np.inf, np.nan])


def test_zscore_sample_sd():
    x = np.array([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0])
    m, s = x.mean(), x.std(ddof=1)
    np.testing.assert_allclose(nk.zscore(x, mean=10, sd=2), (x - m) / s * 2 + 10, rtol=1e-14)


def test_minmax_zero_range_is_nan_without_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(nk.minmax(np.array([3.0, 3.0, np.nan]))).all()
        assert np.isnan(nk.dist2max(np.array([3.0, 3.0]))).all()
        assert np.isnan(nk.zscore(np.array([0.1, 0.1, 0.1]))).all()
        # also when ref is constant but x is not (would be +-inf otherwise)
        assert np.isnan(nk.minmax(np.array([1.0, 5.0]), ref=np.array([3.0, 3.0]))).all()


def test_degenerate_slices():
    x = np.array(
        [
            [1.0, 2.0, 3.0],
            [0.1, 0.1, 0.1],  # constant: zero range, zero sd
            [np.nan, 4.0, np.nan],  # one value: zero range, undefined sd
            [np.nan, np.nan, np.nan],  # all-NaN: not flagged
        ]
    )
    for method in ("minmax", "dist2max", "zscore"):
        flags = nk.degenerate_slices(x, method)
        assert flags.shape == (4, 1)
        assert flags.dtype == np.bool_
        np.testing.assert_array_equal(flags[:, 0], [False, True, True, False])
    np.testing.assert_array_equal(nk.degenerate_slices(x, "rank"), np.zeros((4, 1), bool))
    # statistics come from ref
    ref = np.array([[1.0, 1.0], [1.0, 2.0], [3.0, 3.0], [1.0, 2.0]])
    np.testing.assert_array_equal(
        nk.degenerate_slices(x, "minmax", ref=ref)[:, 0], [True, False, True, False]
    )


def test_degenerate_slices_pooled_axes():
    x = np.zeros((2, 3, 4))
    x[1, 0, 0] = 1.0
    flags = nk.degenerate_slices(x, "zscore", axis=(-2, -1))
    assert flags.shape == (2, 1, 1)
    np.testing.assert_array_equal(flags.ravel(), [True, False])


# --------------------------------------------------------------------------------------
# axes, references and broadcasting
# --------------------------------------------------------------------------------------

RNG = np.random.default_rng(20240607)
PANEL = RNG.normal(size=(3, 4, 6)).round(1)  # (indicator, time, unit), rounding makes ties
PANEL[0, 1, 2] = np.nan
PANEL[2, :, :] = np.nan  # an all-NaN indicator


@pytest.mark.parametrize("method", ALL_METHODS)
def test_pooled_axis_equals_flattened(method):
    pooled = call(method, PANEL, axis=(-2, -1))
    flat = call(method, PANEL.reshape(3, -1), axis=-1).reshape(PANEL.shape)
    np.testing.assert_array_equal(pooled, flat)
    # the same pooled axes given as positive ints
    np.testing.assert_array_equal(call(method, PANEL, axis=(2, 1)), pooled)


def test_pooled_minmax_spans_all_years():
    out = nk.minmax(PANEL, axis=(-2, -1))
    assert np.nanmin(out[:2], axis=(1, 2)).tolist() == [0.0, 0.0]
    assert np.nanmax(out[:2], axis=(1, 2)).tolist() == [100.0, 100.0]
    # per-year: each year has its own 0 and 100
    per_year = nk.minmax(PANEL[:2])
    np.testing.assert_array_equal(np.nanmin(per_year, axis=-1), 0.0)


def test_non_last_axis():
    x = PANEL[0]  # (time, unit)
    np.testing.assert_array_equal(nk.rank(x, axis=0), nk.rank(x.T, axis=-1).T)
    np.testing.assert_array_equal(nk.zscore(x, axis=0), nk.zscore(x.T).T)


def test_base_year_reference_minmax_and_zscore():
    x = PANEL[:2]  # (indicator, time, unit)
    base = x[:, :1, :]  # base year only: (indicator, 1, unit)
    out = nk.minmax(x, ref=base, axis=-1)
    mn = np.nanmin(base, axis=-1, keepdims=True)
    mx = np.nanmax(base, axis=-1, keepdims=True)
    np.testing.assert_allclose(out, (x - mn) / (mx - mn) * 100, rtol=1e-14)
    # base year itself spans exactly [0, 100]; later years may leave it
    np.testing.assert_array_equal(np.nanmin(out[:, 0], axis=-1), 0.0)
    assert (out[:, 1:] < 0).any() or (out[:, 1:] > 100).any()
    z = nk.zscore(x, ref=base)
    m = np.nanmean(base, axis=-1, keepdims=True)
    s = np.nanstd(base, axis=-1, ddof=1, keepdims=True)
    np.testing.assert_allclose(z, (x - m) / s, rtol=1e-12, atol=1e-15)


def test_reference_with_other_length_on_reduced_axis():
    # ref from a base year: reduced axis longer than x's (pooled years, say)
    x = np.array([[2.0, 2.5, 0.0, 4.0, np.nan]])
    ref = np.array([[1.0, 2.0, 2.0, 3.0, np.nan, np.nan, np.nan]])
    np.testing.assert_array_equal(nk.rank(x, ref=ref), [[2.0, 4.0, 1.0, 5.0, np.nan]])
    np.testing.assert_array_equal(nk.borda(x, ref=ref), [[1.0, 3.0, 0.0, 4.0, np.nan]])
    # n = 4 non-NaN ref values
    np.testing.assert_allclose(nk.prank(x, ref=ref), [[1 / 3, 1.0, 0.0, 4 / 3, np.nan]])
    np.testing.assert_allclose(nk.minmax(x, ref=ref), [[50.0, 75.0, -50.0, 150.0, np.nan]])
    np.testing.assert_allclose(nk.fracmax(x, ref=ref), [[2 / 3, 2.5 / 3, 0.0, 4 / 3, np.nan]])
    np.testing.assert_allclose(
        nk.dist2ref(x, ref=ref, ref_value=3.0), [[0.5, 0.75, -0.5, 1.5, np.nan]]
    )


def test_ref_with_fewer_dims_broadcasts_over_leading_dims():
    x = PANEL[:2]
    ref = PANEL[0, 0]  # (unit,): one sample for every indicator and year
    expected_out = nk.minmax(x, ref=np.broadcast_to(ref, x.shape))
    np.testing.assert_array_equal(nk.minmax(x, ref=ref), expected_out)
    np.testing.assert_array_equal(
        nk.rank(x, ref=ref), nk.rank(x, ref=np.broadcast_to(ref, x.shape))
    )


def test_rank_with_ref_equal_to_x_matches_self_rank():
    x = PANEL
    np.testing.assert_array_equal(nk.rank(x, ref=x.copy()), nk.rank(x))
    np.testing.assert_array_equal(
        nk.prank(x, ref=x.copy(), axis=(-2, -1)), nk.prank(x, axis=(-2, -1))
    )


@pytest.mark.parametrize("method", ALL_METHODS)
def test_leading_draw_dim_broadcasts(method):
    # (draw, indicator, unit) with per-indicator params of shape (indicator, 1)
    x = RNG.normal(size=(5, 3, 7))
    per_ind = {
        "minmax": {
            "lower": np.array([[0.0], [1.0], [-1.0]]),
            "upper": np.array([[1.0], [100.0], [1.0]]),
        },
        "zscore": {"mean": np.array([[0.0], [10.0], [5.0]]), "sd": np.array([[1.0], [2.0], [3.0]])},
        "goalposts": {
            "lower": np.array([[-1.0], [0.0], [-0.5]]),
            "upper": np.array([[1.0], [2.0], [0.5]]),
        },
        "scaled": {
            "lower": np.array([[-1.0], [0.0], [-0.5]]),
            "upper": np.array([[1.0], [2.0], [0.5]]),
        },
        "dist2targ": {"target": np.array([[2.0], [3.0], [4.0]])},
    }.get(method, {})
    if method == "dist2ref":
        per_ind = {"ref_value": x[:, :, :1]}  # reference unit = first unit, per draw
    out = call(method, x, **per_ind)
    assert out.shape == x.shape
    for k in range(x.shape[0]):
        p = {key: (v[k] if key == "ref_value" else v) for key, v in per_ind.items()}
        np.testing.assert_array_equal(out[k], call(method, x[k], **p))


def test_params_along_draw_dim():
    # a parameter varying by draw broadcasts as (draw, 1, 1)
    x = RNG.normal(size=(3, 2, 5))
    lower = np.array([0.0, 1.0, 10.0])[:, None, None]
    out = nk.minmax(x, lower=lower, upper=lower + 1)
    for k in range(3):
        np.testing.assert_allclose(
            out[k], nk.minmax(x[k], lower=lower[k, 0, 0], upper=lower[k, 0, 0] + 1)
        )


# --------------------------------------------------------------------------------------
# robustness
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ALL_METHODS)
def test_all_nan_slice_gives_nan_silently(method):
    x = np.array([[np.nan, np.nan, np.nan], [1.0, 2.0, 4.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = call(method, x)
        pooled = call(method, np.full((2, 2, 3), np.nan), axis=(-2, -1))
        with_ref = call(method, x, ref=np.full((2, 4), np.nan))
        flags = nk.degenerate_slices(x, method)
    assert out.dtype == np.float64
    assert np.isnan(out[0]).all()
    assert not np.isnan(out[1]).any()
    assert np.isnan(pooled).all()
    if method not in ("goalposts", "scaled"):  # these use no statistic
        assert np.isnan(with_ref).all()
    assert not flags[0, 0]


@pytest.mark.parametrize("method", ALL_METHODS)
def test_inputs_not_mutated(method):
    x = PANEL.copy()
    ref = PANEL[:, :1, :].copy()
    params = {"ref_value": PANEL[:, :, :1].copy()} if method == "dist2ref" else {}
    saved = [x.copy(), ref.copy(), *(np.copy(v) for v in params.values())]
    out = call(method, x, ref=ref, **params)
    out[...] = 0.0  # the result is not a view of an input
    np.testing.assert_array_equal(x, saved[0])
    np.testing.assert_array_equal(ref, saved[1])
    for v, s in zip(params.values(), saved[2:], strict=True):
        np.testing.assert_array_equal(v, s)


@pytest.mark.parametrize("method", ALL_METHODS)
def test_integer_input_gives_float64(method):
    out = call(method, np.array([[1, 2, 3, 5]]))
    assert out.dtype == np.float64
    assert out.shape == (1, 4)


def test_all_methods_registered():
    for method in ALL_METHODS:
        assert get_method("normalise", method) is getattr(nk, method)
    assert set(nk.__all__) == {*ALL_METHODS, "degenerate_slices"}


@pytest.mark.parametrize("axis", [2, -3, (0, 0), (), 1.5])
def test_bad_axis_raises(axis):
    with pytest.raises(InvalidParameterError, match="axis"):
        nk.minmax(np.zeros((2, 3)), axis=axis)


def test_ref_with_more_dims_than_x_raises():
    with pytest.raises(InvalidParameterError, match="ref"):
        nk.rank(np.zeros(3), ref=np.zeros((2, 3)))


def test_bad_flag_raises():
    with pytest.raises(InvalidParameterError, match="truncate"):
        nk.goalposts(np.zeros(3), lower=0, upper=1, truncate="yes")
    with pytest.raises(InvalidParameterError, match="cap"):
        nk.dist2targ(np.zeros(3), target=1.0, cap=2)


# --------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
maybe_nan = st.one_of(finite, st.just(np.nan))


@settings(max_examples=100, deadline=None)
@given(
    x=arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 12)), elements=maybe_nan),
    bounds=st.tuples(finite, finite).filter(lambda b: b[0] < b[1]),
)
def test_minmax_within_bounds(x, bounds):
    lower, upper = bounds
    out = nk.minmax(x, lower=lower, upper=upper)
    np.testing.assert_array_equal(
        np.isnan(out) & ~np.isnan(x), nk.degenerate_slices(x, "minmax") & ~np.isnan(x)
    )
    tol = 4 * np.spacing(max(abs(lower), abs(upper)))
    ok = out[~np.isnan(out)]
    assert (ok >= lower - tol).all()
    assert (ok <= upper + tol).all()
    default = nk.minmax(x)
    assert ((default[~np.isnan(default)] >= 0) & (default[~np.isnan(default)] <= 100)).all()


@settings(max_examples=100, deadline=None)
@given(
    values=st.lists(finite, min_size=1, max_size=30, unique=True),
    n_nan=st.integers(0, 3),
    seed=st.integers(0, 2**32 - 1),
)
def test_rank_is_permutation_for_distinct_values(values, n_nan, seed):
    x = np.array([*values, *([np.nan] * n_nan)])
    np.random.default_rng(seed).shuffle(x)
    out = nk.rank(x)
    ok = ~np.isnan(x)
    np.testing.assert_array_equal(np.isnan(out), ~ok)
    np.testing.assert_array_equal(np.sort(out[ok]), np.arange(1, len(values) + 1))
    # order preserved, and the ref=x path agrees with the self-rank path
    np.testing.assert_array_equal(np.argsort(out[ok]), np.argsort(x[ok]))
    np.testing.assert_array_equal(nk.rank(x, ref=x.copy()), out)


@settings(max_examples=100, deadline=None)
@given(x=arrays(np.float64, st.integers(1, 20), elements=st.sampled_from([0.0, 1.0, 2.5, np.nan])))
def test_rank_with_ties_matches_counting_definition(x):
    valid = x[~np.isnan(x)]
    expected_rank = np.array([1.0 + np.sum(valid < v) if not np.isnan(v) else np.nan for v in x])
    np.testing.assert_array_equal(nk.rank(x), expected_rank)
    np.testing.assert_array_equal(nk.rank(x, ref=x[::-1].copy()), expected_rank)
