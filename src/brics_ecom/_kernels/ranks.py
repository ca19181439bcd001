"""Result ranks: 1 = best (highest score), ties share the minimum rank, NaN kept."""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = ["rank_ascending", "rank_descending"]


def rank_ascending(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Ranks with 1 = lowest, ties ``min``, NaN kept (R's ``rank(ties="min")``).

    Examples
    --------
    >>> rank_ascending(np.array([3.0, 1.0, np.nan, 1.0])).tolist()
    [3.0, 1.0, nan, 1.0]
    """
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        return x.copy()
    return np.asarray(stats.rankdata(x, method="min", axis=axis, nan_policy="omit"), dtype=float)


def rank_descending(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Ranks with 1 = highest, ties ``min``, NaN kept: COINr's ``rank(-score)``.

    Examples
    --------
    >>> rank_descending(np.array([3.0, 1.0, np.nan, 3.0])).tolist()
    [1.0, 3.0, nan, 1.0]
    """
    return rank_ascending(-np.asarray(x, dtype=np.float64), axis=axis)
