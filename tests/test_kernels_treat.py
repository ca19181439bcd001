"""Outlier-treatment kernel against COINr 1.1.14's Treat() and hand-made cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from brics_ecom._kernels.stats import kurt_type2, skew_type2
from brics_ecom._kernels.treat import (
    DETAIL_FIELDS,
    SeriesTreatment,
    boxcox_mle,
    log_ct,
    log_ct_plus,
    treat_array,
    treat_series,
)
from brics_ecom.errors import DataError, InvalidParameterError
from brics_ecom.registry import register, unregister
from conftest import read_ref

BASE = np.arange(1.0, 21.0)


# --------------------------------------------------------------------------------------
# COINr reference: Treat() with default specs on the ASEM raw data
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def coinr_run():
    inp = read_ref("treat/raw_default_input.csv")
    codes = list(inp.columns)
    res = treat_array(inp.to_numpy(dtype=float), axis=0)  # units x indicators, treat by column
    return inp, codes, res


def _logical(col: pd.Series) -> list[bool | None]:
    """R logical column (TRUE/FALSE/NA, read by pandas) as True/False/None."""
    return [None if pd.isna(v) else bool(v) for v in col]


def test_treated_values(coinr_run) -> None:
    inp, codes, res = coinr_run
    ref = read_ref("treat/raw_default_treated.csv").loc[inp.index, codes]
    np.testing.assert_allclose(res.values, ref.to_numpy(dtype=float), rtol=1e-12, atol=0)


def test_treated_points_flags(coinr_run) -> None:
    inp, codes, res = coinr_run
    ref = read_ref("treat/raw_default_treated_points.csv").loc[inp.index, codes]
    expected = ref.fillna("").astype(object).to_numpy()
    assert res.flags.shape == expected.shape
    assert (res.flags == expected).all()
    assert {str(f) for f in np.unique(res.flags)} == {"", "winhi", "winlo"}


def test_details_table(coinr_run) -> None:
    _, codes, res = coinr_run
    det = read_ref("treat/raw_default_details.csv", index_col="iCode").loc[codes]
    d = res.details
    np.testing.assert_allclose(d["skew_before"], det["check_SkewKurt0.Skew"], rtol=1e-12)
    np.testing.assert_allclose(d["kurt_before"], det["check_SkewKurt0.Kurt"], rtol=1e-12)
    assert d["pass_before"].tolist() == _logical(det["check_SkewKurt0.Pass"])
    np.testing.assert_array_equal(d["n_winsorised"], det["winsorise.nwin"].to_numpy(dtype=float))
    assert d["pass_after_winsorise"].tolist() == _logical(det["check_SkewKurt1.Pass"])
    np.testing.assert_allclose(
        d["skew_after_winsorise"], det["check_SkewKurt1.Skew"].to_numpy(dtype=float), rtol=1e-12
    )
    np.testing.assert_allclose(
        d["kurt_after_winsorise"], det["check_SkewKurt1.Kurt"].to_numpy(dtype=float), rtol=1e-12
    )
    assert not d["na_stop"].any()


def test_summary_table(coinr_run) -> None:
    _, codes, res = coinr_run
    summ = read_ref("treat/raw_default_summary.csv", index_col="iCode").loc[codes]
    d = res.details
    np.testing.assert_allclose(d["skew_before"], summ["skew_before"], rtol=1e-12)
    np.testing.assert_allclose(d["kurt_before"], summ["kurt_before"], rtol=1e-12)
    assert d["pass_before"].tolist() == _logical(summ["pass_before"])
    np.testing.assert_array_equal(d["n_winsorised"], summ["n_winsorised"].to_numpy(dtype=float))
    assert d["pass_after_winsorise"].tolist() == _logical(summ["pass_after_winsorise"])
    assert d["transformed"].tolist() == summ["log_transformed"].astype(bool).tolist()
    assert d["pass_after_transform"].tolist() == _logical(summ["pass_after_log"])
    np.testing.assert_array_equal(d["n_points_winhi"], summ["n_points_winhi"])
    np.testing.assert_array_equal(d["n_points_winlo"], summ["n_points_winlo"])
    assert int((summ["pass_before"] == False).sum()) == 18  # noqa: E712


def test_treat_array_axis_and_treat_series_agree(coinr_run) -> None:
    inp, codes, res = coinr_run
    x = inp.to_numpy(dtype=float)
    res_t = treat_array(x.T)  # indicators x units, default axis=-1
    np.testing.assert_array_equal(res_t.values, res.values.T)
    assert (res_t.flags == res.flags.T).all()
    j = codes.index("FemLab")
    one = treat_series(x[:, j])
    np.testing.assert_array_equal(one.values, res.values[:, j])
    for name in DETAIL_FIELDS:
        got, want = res.details[name][j], getattr(one, name)
        assert got == want or (np.isnan(got) and (want is None or np.isnan(want)))


# --------------------------------------------------------------------------------------
# Hand-made cases
# --------------------------------------------------------------------------------------


def test_tied_maxima_overshoot_winmax() -> None:
    x = np.r_[BASE, 100.0, 100.0]
    res = treat_series(x, winmax=1)
    assert res.pass_before is False
    assert res.n_winsorised == 2  # both tied maxima pulled in at once
    assert res.flags[-2:].tolist() == ["winhi", "winhi"]
    assert res.flags[:-2].tolist() == [""] * 20  # the value they were pulled to: no flag
    np.testing.assert_array_equal(res.values, np.r_[BASE, 20.0, 20.0])
    assert res.n_points_winhi == 2 and res.pass_after_winsorise is True


def test_negative_skew_winsorises_low() -> None:
    x = np.r_[-100.0, BASE]
    res = treat_series(x)
    assert res.skew_before < 0 and res.pass_before is False
    assert res.flags[0] == "winlo" and (res.flags[1:] == "").all()
    assert res.values[0] == 1.0
    assert (res.n_winsorised, res.n_points_winlo, res.n_points_winhi) == (1, 1, 0)
    assert res.transformed is False and res.pass_after_transform is None


def test_nwin_counts_latest_high_plus_low_block() -> None:
    x = np.r_[0.0, np.arange(100.0, 121.0), 10000.0]
    res = treat_series(x, winmax=2)
    assert res.n_winsorised == 2
    assert res.flags[0] == "winlo" and res.flags[-1] == "winhi"
    assert res.values[0] == 100.0 and res.values[-1] == 120.0


def test_log_ct_applied_to_original_values_after_winmax() -> None:
    x = np.r_[BASE, 50.0, 100.0]
    res = treat_series(x, winmax=1)
    assert res.n_winsorised == 1 and res.pass_after_winsorise is False
    assert res.transformed is True and res.pass_after_transform is True
    expected = np.log(x - 1.0 + 0.01 * (100.0 - 1.0))
    np.testing.assert_allclose(res.values, expected, rtol=1e-15)
    assert res.flags[-1] == "winhi+log_CT"  # discarded winsorisation still reported
    assert res.flags[:-1].tolist() == ["+log_CT"] * 21
    assert res.n_points_winhi == 0  # only flags exactly "winhi" count
    assert res.skew_after_transform == pytest.approx(float(skew_type2(expected)), rel=1e-15)


def test_log_ct_combine_uses_winsorised_values() -> None:
    x = np.r_[BASE, 50.0, 100.0]
    res = treat_series(x, winmax=1, combine=True)
    w = np.r_[BASE, 50.0, 50.0]
    np.testing.assert_allclose(res.values, np.log(w - 1.0 + 0.01 * 49.0), rtol=1e-15)
    assert res.flags[-1] == "winhi+log_CT" and res.flags[0] == "+log_CT"


def test_failing_log_is_kept() -> None:
    x = np.r_[0.0, np.arange(100.0, 121.0), 10000.0]
    res = treat_series(x, winmax=1)
    assert res.transformed is True and res.pass_after_transform is False
    np.testing.assert_allclose(res.values, np.log(x + 100.0), rtol=1e-15)
    assert res.kurt_after_transform == pytest.approx(float(kurt_type2(np.log(x + 100.0))))


def test_log_ct_plus_negative_skew() -> None:
    x = -np.r_[BASE, 50.0, 100.0]
    res = treat_series(x, winmax=1, transform="log_CT_plus")
    mx, mn = -1.0, -100.0
    np.testing.assert_allclose(res.values, -np.log(mx + 0.01 * (mx - mn) - x), rtol=1e-15)
    assert res.flags[-1] == "winlo+log_CT_neg"
    assert res.flags[:-1].tolist() == ["+log_CT_neg"] * 21
    # positive skew: identical to log_CT
    pos = treat_series(-x, winmax=1, transform="log_CT_plus")
    np.testing.assert_array_equal(pos.values, treat_series(-x, winmax=1).values)
    assert pos.flags[0] == "+log_CT"


def test_log_ct_plus_zero_skew_takes_negative_branch() -> None:
    values, flag = log_ct_plus(np.array([1.0, 2.0, 3.0]))
    assert flag == "log_CT_neg"
    np.testing.assert_allclose(values, -np.log(3.02 - np.array([1.0, 2.0, 3.0])))
    with pytest.raises(DataError):
        log_ct_plus(np.array([1.0, 1.0, 1.0]))


def test_boxcox_equals_scipy_on_shifted_values() -> None:
    x = np.r_[BASE, 50.0, np.nan, 100.0]
    res = treat_series(x, winmax=1, transform="boxcox")
    shifted = x - 1.0 + 0.01 * 99.0
    valid = ~np.isnan(x)
    expected, _ = scipy.stats.boxcox(shifted[valid])
    np.testing.assert_array_equal(res.values[valid], expected)
    assert np.isnan(res.values[~valid]).all()
    assert res.flags[-1] == "winhi+boxcox" and res.flags[-2] == "+boxcox"
    values, flag = boxcox_mle(x)
    np.testing.assert_array_equal(values[valid], expected)
    assert flag == "boxcox"
    with pytest.raises(DataError):
        boxcox_mle(np.array([2.0, 2.0, np.nan]))


def test_transform_none_winsorises_only() -> None:
    x = np.r_[BASE, 50.0, 100.0]
    res = treat_series(x, winmax=1, transform=None)
    np.testing.assert_array_equal(res.values, np.r_[BASE, 50.0, 50.0])
    assert res.flags[-1] == "winhi" and res.transformed is False
    assert res.pass_after_winsorise is False and res.pass_after_transform is None


def test_winmax_zero_goes_straight_to_transform() -> None:
    x = np.r_[BASE, 100.0, np.nan]
    res = treat_series(x, winmax=0)
    assert res.n_winsorised == 0 and res.pass_after_winsorise is False
    assert res.flags.tolist() == ["+log_CT"] * 22  # NaN positions are flagged too
    assert np.isnan(res.values[-1])


def test_custom_registered_transform() -> None:
    @register("treat", "rank_test_only")
    def _rank(x: np.ndarray) -> tuple[np.ndarray, str]:
        return scipy.stats.rankdata(x, nan_policy="omit"), "rank"

    try:
        res = treat_series(np.r_[BASE, 50.0, 100.0], winmax=1, transform="rank_test_only")
        np.testing.assert_array_equal(res.values, np.arange(1.0, 23.0))
        assert res.flags[-1] == "winhi+rank"
        res2 = treat_series(np.r_[BASE, 50.0, 100.0], winmax=1, transform=_rank)
        np.testing.assert_array_equal(res2.values, res.values)
    finally:
        unregister("treat", "rank_test_only")


def test_empty_transform_flag_keeps_winsorisation_flags() -> None:
    res = treat_series(np.r_[BASE, 50.0, 100.0], winmax=1, transform=lambda v: (np.sqrt(v), ""))
    assert res.flags[-1] == "winhi" and res.flags[0] == ""
    assert res.n_points_winhi == 1


# --------------------------------------------------------------------------------------
# NA logic
# --------------------------------------------------------------------------------------


def test_fewer_than_three_values_untreated() -> None:
    res = treat_series([1.0, 1000.0, np.nan])
    assert np.isnan(res.skew_before) and res.pass_before is None
    assert res.na_stop is True and res.n_winsorised is None
    np.testing.assert_array_equal(res.values, [1.0, 1000.0, np.nan])
    assert res.flags.tolist() == ["", "", ""]


def test_three_values_kurt_na_but_skew_passes() -> None:
    res = treat_series([1.0, 2.0, 100.0])  # NA kurt, |skew| < 2: NA | TRUE = TRUE
    assert np.isnan(res.kurt_before) and res.pass_before is True and res.na_stop is False


def test_constant_series_untreated() -> None:
    res = treat_series(np.full(6, 4.0))
    assert res.pass_before is None and res.na_stop is True


def test_na_skew_inside_loop_returns_untreated() -> None:
    x = np.r_[np.zeros(9), 100.0]
    res = treat_series(x)
    assert res.pass_before is False
    assert res.na_stop is True and res.pass_after_winsorise is None
    np.testing.assert_array_equal(res.values, x)
    assert (res.flags == "").all() and res.n_points_winhi == 0


# --------------------------------------------------------------------------------------
# Arrays, inputs, validation
# --------------------------------------------------------------------------------------


def test_treat_array_leading_dims_and_tuple_axis() -> None:
    rng = np.random.default_rng(3)
    x = rng.lognormal(sigma=1.5, size=(2, 3, 30))
    x[0, 1, 4] = np.nan
    res = treat_array(x)
    assert res.values.shape == x.shape and res.flags.shape == x.shape
    assert all(arr.shape == (2, 3) for arr in res.details.values())
    for idx in np.ndindex(2, 3):
        one = treat_series(x[idx])
        np.testing.assert_array_equal(res.values[idx], one.values)
        assert res.flags[idx].tolist() == one.flags.tolist()
    # axis in the middle
    mid = treat_array(np.moveaxis(x, -1, 1), axis=1)
    np.testing.assert_array_equal(np.moveaxis(mid.values, 1, -1), res.values)
    # pooled axes: series made of dims 0 and 2
    pooled = treat_array(x, axis=(0, 2))
    flat = np.moveaxis(x, 1, 0).reshape(3, -1)
    for j in range(3):
        one = treat_series(flat[j])
        np.testing.assert_array_equal(
            np.moveaxis(pooled.values, 1, 0).reshape(3, -1)[j], one.values
        )
        nwin = pooled.details["n_winsorised"][j]
        assert (np.isnan(nwin) and one.n_winsorised is None) or nwin == one.n_winsorised


def test_treat_array_details_dtypes() -> None:
    res = treat_array(np.array([[1.0, 2.0], [3.0, 5.0]]), axis=0)
    d = res.details
    assert d["pass_before"].dtype == object and d["pass_before"].tolist() == [None, None]
    assert d["transformed"].dtype == bool and d["na_stop"].tolist() == [True, True]
    assert d["n_points_winhi"].dtype == np.int64 and d["skew_before"].dtype == np.float64
    assert res.flags.dtype == object


def test_inputs_not_mutated() -> None:
    x = np.r_[BASE, 50.0, 100.0]
    x2 = np.stack([x, -x, np.r_[BASE, 100.0, 100.0]])
    before, before2 = x.copy(), x2.copy()
    treat_series(x, winmax=1)
    treat_series(x, winmax=1, combine=True)
    treat_series(-x, transform="log_CT_plus", combine=True)
    treat_array(x2, winmax=1, combine=True)
    treat_array(x2, winmax=None, transform=None)
    log_ct(x)
    boxcox_mle(x)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_array_equal(x2, before2)


def test_list_input_and_result_type() -> None:
    res = treat_series([1.0, 2.0, 3.0, 4.0])
    assert isinstance(res, SeriesTreatment)
    assert res.values.dtype == np.float64
    assert set(res.details()) == set(DETAIL_FIELDS)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"winmax": -1},
        {"winmax": 1.5},
        {"winmax": True},
        {"skew_thresh": "2"},
        {"kurt_thresh": float("nan")},
        {"combine": "yes"},
        {"transform": "log_ct_typo"},
        {"transform": 3},
    ],
)
def test_invalid_options(kwargs) -> None:
    with pytest.raises(InvalidParameterError):
        treat_series([1.0, 2.0, 3.0, 4.0], **kwargs)


def test_invalid_shapes_and_axis() -> None:
    with pytest.raises(InvalidParameterError, match="1-D"):
        treat_series(np.ones((2, 3)))
    with pytest.raises(InvalidParameterError, match="axis"):
        treat_array(np.ones((2, 3)), axis=2)
    with pytest.raises(InvalidParameterError, match="axis"):
        treat_array(np.ones((2, 3)), axis=(1, -1))
    with pytest.raises(InvalidParameterError):
        treat_array(5.0)


def test_unlimited_winmax() -> None:
    x = 2.0 ** np.arange(30)
    res = treat_series(x, winmax=None)
    assert res.pass_after_winsorise is True
    assert res.n_winsorised == res.n_points_winhi


# --------------------------------------------------------------------------------------
# Property: a passing series is never changed
# --------------------------------------------------------------------------------------

_values = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
_cells = st.one_of(_values, _values, _values, st.just(np.nan))


@settings(max_examples=150, deadline=None)
@given(st.lists(_cells, min_size=0, max_size=40))
def test_passing_series_unchanged(cells: list[float]) -> None:
    x = np.array(cells, dtype=float)
    res = treat_series(x)
    sk, ku = float(skew_type2(x)), float(kurt_type2(x))
    passes = (not np.isnan(sk) and abs(sk) < 2) or (not np.isnan(ku) and ku < 3.5)
    assert (res.pass_before is True) == passes
    if res.pass_before is not False:  # passing, or NA: returned untreated
        np.testing.assert_array_equal(res.values, x)
        assert (res.flags == "").all()
        assert res.n_winsorised is None and not res.transformed
