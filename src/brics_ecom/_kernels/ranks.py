"""Ranks along an axis: ties share the minimum rank, NaN kept.

One ``argsort`` per call, vectorised over every other axis (SciPy's ``rankdata`` with
``nan_policy="omit"`` sorts several times).
"""

from __future__ import annotations

import numpy as np

__all__ = ["rank_ascending", "rank_descending"]


def rank_ascending(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Ranks with 1 = lowest, ties ``min``, NaN kept (R's ``rank(ties="min")``).

    Examples
    --------
    >>> rank_ascending(np.array([3.0, 1.0, np.nan, 1.0])).tolist()
    [3.0, 1.0, nan, 1.0]
    """
    values = np.moveaxis(np.asarray(x, dtype=np.float64), axis, -1)
    n = values.shape[-1]
    if values.size == 0:
        return np.moveaxis(values.copy(), -1, axis)
    order = np.argsort(values, axis=-1)  # NaN sort last
    # gathers and scatters through flat positions: 1-D takes are ~2x faster than
    # take_along_axis / put_along_axis, which build a full index grid
    flat = order.reshape(-1, n) + (np.arange(order.size // n) * n)[:, None]
    flat = flat.reshape(-1)
    ordered = np.take(np.ascontiguousarray(values).reshape(-1), flat).reshape(values.shape)
    first = np.ones(ordered.shape, dtype=bool)
    first[..., 1:] = ordered[..., 1:] != ordered[..., :-1]
    # rank of a sorted value = 1 + position of the first value equal to it
    start = np.where(first, np.arange(n), 0)
    np.maximum.accumulate(start, axis=-1, out=start)
    ranks_sorted = start.astype(np.float64) + 1.0
    ranks_sorted[np.isnan(ordered)] = np.nan
    out = np.empty(ranks_sorted.shape)
    out.reshape(-1)[flat] = ranks_sorted.reshape(-1)
    return np.moveaxis(out, -1, axis)


def rank_descending(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Ranks with 1 = highest, ties ``min``, NaN kept: COINr's ``rank(-score)``.

    Examples
    --------
    >>> rank_descending(np.array([3.0, 1.0, np.nan, 3.0])).tolist()
    [1.0, 3.0, nan, 1.0]
    """
    return rank_ascending(-np.asarray(x, dtype=np.float64), axis=axis)
