"""Result ranks against SciPy's rankdata (an independent implementation)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats

from brics_ecom._kernels.ranks import rank_ascending, rank_descending


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=1, max_dims=3, max_side=7),
        elements=st.sampled_from([np.nan, -1.0, 0.0, 0.5, 2.0, 3.0, -0.0]),
    ),
    st.integers(min_value=0, max_value=2),
)
def test_rank_ascending_equals_scipy_min_ranks(x: np.ndarray, axis: int) -> None:
    axis = axis % x.ndim
    expected = stats.rankdata(x, method="min", axis=axis, nan_policy="omit")
    np.testing.assert_array_equal(rank_ascending(x, axis=axis), expected)


def test_rank_descending_is_coinr_rank_of_minus_score() -> None:
    x = np.array([[5.0, np.nan, 7.0, 5.0, 1.0]])
    np.testing.assert_array_equal(rank_descending(x), [[2.0, np.nan, 1.0, 2.0, 4.0]])


def test_all_nan_and_empty() -> None:
    assert np.isnan(rank_ascending(np.full(3, np.nan))).all()
    assert rank_ascending(np.empty((2, 0))).shape == (2, 0)


def test_ranks_in_blocks_of_rows_equal_scipy(monkeypatch) -> None:
    import brics_ecom._kernels.ranks as kr

    monkeypatch.setattr(kr, "_BLOCK", 40)  # several blocks, one of them partial
    rng = np.random.default_rng(4)
    x = np.round(rng.normal(size=(5, 7, 13)), 1)
    x[rng.random(x.shape) < 0.2] = np.nan
    before = x.copy()
    for axis in (0, 1, 2):
        up = stats.rankdata(x, method="min", axis=axis, nan_policy="omit")
        down = stats.rankdata(-x, method="min", axis=axis, nan_policy="omit")
        np.testing.assert_array_equal(kr.rank_ascending(x, axis=axis), up)
        np.testing.assert_array_equal(kr.rank_descending(x, axis=axis), down)
    np.testing.assert_array_equal(x, before)
