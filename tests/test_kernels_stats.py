"""Moment kernels against COINr's get_stats() and SciPy."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.stats

from brics_ecom._kernels.stats import kurt_type2, nanmean_refined, nanstd_sample, skew_type2
from conftest import read_ref


@pytest.fixture(scope="module")
def raw_and_stats() -> tuple[np.ndarray, object]:
    raw = read_ref("normalise/input_raw.csv")
    stats = read_ref("stats/get_stats_Raw.csv", index_col="iCode")
    x = raw[list(stats.index)].to_numpy(dtype=float).T  # indicators x units
    return x, stats


@pytest.mark.parametrize(
    ("func", "column"),
    [
        (skew_type2, "Skew"),
        (kurt_type2, "Kurt"),
        (nanstd_sample, "Std"),
        (nanmean_refined, "Mean"),
    ],
)
def test_against_coinr_get_stats(raw_and_stats, func, column) -> None:
    x, stats = raw_and_stats
    got = func(x, axis=-1)
    np.testing.assert_allclose(got, stats[column].to_numpy(dtype=float), rtol=1e-12, atol=0)


def test_axis_zero_equals_transposed(raw_and_stats) -> None:
    x, _ = raw_and_stats
    np.testing.assert_array_equal(skew_type2(x.T, axis=0), skew_type2(x))
    np.testing.assert_array_equal(kurt_type2(x.T, axis=0), kurt_type2(x))


def test_matches_scipy_bias_corrected() -> None:
    x = np.random.default_rng(1).lognormal(size=(3, 4, 25))
    np.testing.assert_allclose(skew_type2(x), scipy.stats.skew(x, axis=-1, bias=False), rtol=1e-12)
    np.testing.assert_allclose(
        kurt_type2(x), scipy.stats.kurtosis(x, axis=-1, bias=False), rtol=1e-12
    )
    np.testing.assert_allclose(nanstd_sample(x), np.std(x, axis=-1, ddof=1), rtol=1e-13)


def test_tuple_axis_pools_dims() -> None:
    x = np.random.default_rng(2).normal(size=(3, 4, 20))
    pooled = np.moveaxis(x, 1, 0).reshape(4, -1)
    np.testing.assert_allclose(
        kurt_type2(x, axis=(0, 2)), scipy.stats.kurtosis(pooled, axis=-1, bias=False), rtol=1e-12
    )
    np.testing.assert_allclose(
        skew_type2(x, axis=(0, 2)), scipy.stats.skew(pooled, axis=-1, bias=False), rtol=1e-12
    )


def test_nan_skipped() -> None:
    x = np.array([1.0, np.nan, 2.0, 7.0, np.nan, 3.0])
    clean = x[~np.isnan(x)]
    assert skew_type2(x) == skew_type2(clean)
    assert kurt_type2(x) == kurt_type2(clean)
    assert nanstd_sample(x) == nanstd_sample(clean)


def test_small_n_constant_and_all_nan_are_nan_silently() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(skew_type2([1.0, 2.0]))
        assert not np.isnan(skew_type2([1.0, 2.0, 4.0]))
        assert np.isnan(kurt_type2([1.0, 2.0, 4.0]))
        assert not np.isnan(kurt_type2([1.0, 2.0, 4.0, 9.0]))
        assert np.isnan(skew_type2([3.0, 3.0, 3.0, 3.0]))
        assert np.isnan(kurt_type2([3.0, 3.0, 3.0, 3.0]))
        allnan = np.full((2, 5), np.nan)
        for f in (skew_type2, kurt_type2, nanstd_sample, nanmean_refined):
            assert np.isnan(f(allnan)).all()
        assert np.isnan(nanstd_sample([1.0]))
        assert skew_type2(np.empty((3, 0))).shape == (3,)


def test_scalar_result_for_1d_and_input_untouched() -> None:
    x = np.array([1.0, 2.0, 3.0, 10.0])
    before = x.copy()
    out = skew_type2(x)
    assert np.ndim(out) == 0
    np.testing.assert_array_equal(x, before)
