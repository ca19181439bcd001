"""Moment kernels against COINr's get_stats() and SciPy."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.stats

from brics_ecom._kernels import stats as ks
from brics_ecom._kernels.stats import (
    kurt_type2,
    nanmean_refined,
    nanstd_sample,
    skew_kurt_type2,
    skew_type2,
)
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


# --------------------------------------------------------------------------------------
# Bit-for-bit agreement of the code paths (the treatment kernel relies on it)
# --------------------------------------------------------------------------------------


def _awkward_rows(n: int = 23) -> np.ndarray:
    """Rows with few / many / all NaN, tiny counts, ties, signed zeros, inf, extremes."""
    rng = np.random.default_rng(5)
    rows = [
        rng.lognormal(0, 2, n),
        -rng.lognormal(0, 1, n),
        rng.normal(1e9, 1.0, n),
        rng.normal(0, 1, n) * 1e150,
        rng.normal(0, 1, n) * 1e-150,
        np.round(rng.normal(0, 2, n)),  # ties
        np.full(n, 3.0),
        np.where(rng.random(n) < 0.5, 0.0, -0.0),
        np.r_[np.inf, rng.normal(size=n - 1)],
        np.r_[-np.inf, np.inf, rng.normal(size=n - 2)],
        np.full(n, np.nan),
        np.r_[1.0, 2.0, 4.0, np.full(n - 3, np.nan)],  # n = 3
        np.r_[1.0, 2.0, 4.0, 9.0, np.full(n - 4, np.nan)],  # n = 4
        np.r_[5.0, np.full(n - 1, np.nan)],
    ]
    x = np.array(rows)
    x[0, [2, 7, 8]] = np.nan
    holes = rng.random(x[1:4].shape) < 0.5
    x[1:4][holes] = np.nan
    return x


@pytest.mark.parametrize("block", [1, 3, 50, 1 << 16])
def test_row_kernel_equals_public_functions(monkeypatch, block) -> None:
    monkeypatch.setattr(ks, "BLOCK_SIZE", block)
    x = _awkward_rows()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # silent, as the public functions
        sk, ku = ks._skew_kurt_rows(x)
    sk2, ku2 = skew_kurt_type2(x)
    assert sk.tobytes() == sk2.tobytes()
    assert ku.tobytes() == ku2.tobytes()
    for row, s, k in zip(x, sk, ku, strict=True):  # each row alone, as a 1-D array
        assert np.float64(skew_type2(row)).tobytes() == s.tobytes()
        assert np.float64(kurt_type2(row)).tobytes() == k.tobytes()
    for shape in ((0, 5), (3, 0)):
        got = ks._skew_kurt_rows(np.empty(shape))
        want = skew_kurt_type2(np.empty(shape))
        assert all(g.tobytes() == w.tobytes() for g, w in zip(got, want, strict=True))


def test_combined_equals_separate_and_layouts() -> None:
    x = _awkward_rows()
    sk, ku = skew_kurt_type2(x)
    assert sk.tobytes() == skew_type2(x).tobytes()
    assert ku.tobytes() == kurt_type2(x).tobytes()
    # the same slice inside another array or layout gives the same bits
    assert skew_type2(np.asfortranarray(x.T), axis=0).tobytes() == sk.tobytes()
    assert skew_type2(np.vstack([x, x])[: len(x)]).tobytes() == sk.tobytes()
    assert nanstd_sample(x[0]) == nanstd_sample(x[:1])[0]


def test_products_agree_with_powers() -> None:
    """The product power sums differ from np.power's in the last bits only."""
    x = np.random.default_rng(9).lognormal(0, 1.5, (50, 200)) * np.r_[-1.0, 1.0].repeat(25)[:, None]
    d = x - x.mean(axis=1, keepdims=True)
    s2, s3, s4 = (np.power(d, k).sum(axis=1) for k in (2, 3, 4))
    n = x.shape[1]
    g1 = np.sqrt(n) * s3 / s2**1.5 * np.sqrt(n * (n - 1.0)) / (n - 2.0)
    r = n * s4 / s2**2
    g2 = ((n + 1.0) * (r - 3.0) + 6.0) * (n - 1.0) / ((n - 2.0) * (n - 3.0))
    np.testing.assert_allclose(skew_type2(x), g1, rtol=1e-12)
    np.testing.assert_allclose(kurt_type2(x), g2, rtol=1e-12)
