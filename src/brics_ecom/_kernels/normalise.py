"""Normalisation kernels (COINr 1.1.14 definitions), pure NumPy.

Every method has the signature::

    f(x, *, ref=None, axis=-1, **params) -> ndarray

* ``x`` is **already direction-adjusted**: the front door multiplies each indicator by its
  direction (±1) and moves bounds and targets onto the same scale before calling a kernel.
* ``ref`` is the reference sample the statistics (min, max, mean, sd, ranks) are taken
  from; it defaults to ``x``. Its leading dims broadcast against those of ``x``; the reduced
  axes may have another length (e.g. the base year's values only). If ``ref`` has fewer
  dims than ``x``, length-1 dims are prepended to it.
* ``axis`` (int or tuple of ints, counted on ``x``) are the reduced axes, the units by
  default; a tuple pools several dims (e.g. time and unit).
* Parameters are scalars or arrays broadcastable to ``x`` once the reduced axes are kept as
  length-1 dims (per-indicator parameters of an ``(indicator, unit)`` array have shape
  ``(n_indicator, 1)``).
* The result is a new float64 array of ``x``'s shape (the broadcast shape, should the
  statistics or parameters carry extra leading extent). NaN in gives NaN out; an all-NaN
  slice gives NaN without any warning. Inputs are never modified.

Statistics are computed with NaN-skipping ufunc reductions (``np.fmin.reduce`` etc.) under
``np.errstate`` instead of ``np.nanmin``/``np.nanmean``, which emit Python-level
``RuntimeWarning``\\ s on empty slices. This keeps the kernels silent without touching the
process-wide warning filters (``warnings.catch_warnings`` is not thread-safe, and dask
runs kernels on threads).

Examples
--------
>>> import numpy as np
>>> from brics_ecom.registry import get_method
>>> x = np.array([[1.0, 2.0, 3.0], [10.0, np.nan, 30.0]])  # (indicator, unit)
>>> get_method("normalise", "minmax")(x, lower=np.array([[0.0], [1.0]]),
...                                   upper=np.array([[100.0], [10.0]])).tolist()
[[0.0, 50.0, 100.0], [1.0, nan, 10.0]]
"""

from __future__ import annotations

import contextlib
import math
import operator
from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from brics_ecom.errors import InvalidParameterError
from brics_ecom.registry import register

from .stats import row_broadcasts

__all__ = [
    "borda",
    "degenerate_slices",
    "dist2max",
    "dist2ref",
    "dist2targ",
    "fracmax",
    "goalposts",
    "minmax",
    "prank",
    "rank",
    "scaled",
    "zscore",
]

Axis = int | tuple[int, ...]
FloatArray = NDArray[np.float64]

#: Methods whose degenerate slices are those of zero range.
_RANGE_METHODS = frozenset({"minmax", "dist2max"})
#: Methods whose degenerate slices are those of zero or undefined sample sd.
_SD_METHODS = frozenset({"zscore"})


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------


def _normalise_axes(axis: Axis, ndim: int) -> tuple[int, ...]:
    """Turn ``axis`` into a sorted tuple of distinct non-negative axes of an ``ndim`` array."""
    raw: Iterable[Any] = (axis,) if not isinstance(axis, tuple | list) else axis
    out: list[int] = []
    for a in raw:
        try:
            ai = operator.index(a)
        except TypeError:
            raise InvalidParameterError(
                f"'axis' must be an int or a tuple of ints; got {axis!r}."
            ) from None
        if not -ndim <= ai < ndim:
            raise InvalidParameterError(
                f"'axis' entry {ai} is out of range for an array with {ndim} dims."
            )
        out.append(ai % ndim)
    if not out:
        raise InvalidParameterError("'axis' must name at least one axis; got an empty tuple.")
    if len(set(out)) != len(out):
        raise InvalidParameterError(f"'axis' repeats an axis: {axis!r}.")
    return tuple(sorted(out))


def _prepare(
    x: ArrayLike, ref: ArrayLike | None, axis: Axis
) -> tuple[FloatArray, FloatArray, tuple[int, ...]]:
    """Cast ``x`` and ``ref`` to float64 (no copy needed: nothing is written) and check axes."""
    xa = np.asarray(x, dtype=np.float64)
    ra = xa if ref is None else np.asarray(ref, dtype=np.float64)
    if ra.ndim < xa.ndim:
        ra = ra.reshape((1,) * (xa.ndim - ra.ndim) + ra.shape)
    elif ra.ndim > xa.ndim:
        raise InvalidParameterError(
            f"'ref' has {ra.ndim} dims but 'x' only {xa.ndim}; 'ref' must have x's dims "
            "(its reduced axes may differ in length)."
        )
    axes = _normalise_axes(axis, xa.ndim)
    return xa, ra, axes


def _row_broadcasts(
    xa: FloatArray, axes: tuple[int, ...]
) -> contextlib.AbstractContextManager[None]:
    """:func:`stats.row_broadcasts` for statistics over the last axis only."""
    if axes == (xa.ndim - 1,):
        return row_broadcasts(xa.shape[-1])
    return contextlib.nullcontext()


def _param(value: ArrayLike, name: str) -> FloatArray:
    """A numeric parameter as a float64 array."""
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidParameterError(
            f"Normalisation parameter {name!r} must be numeric (scalar or array); got {value!r}."
        ) from None


def _flag(value: ArrayLike, name: str) -> NDArray[np.bool_]:
    """A logical parameter (``truncate``, ``cap``) as a bool array."""
    arr = np.asarray(value)
    if arr.dtype != np.bool_:
        if arr.dtype.kind not in "iuf" or not np.all(np.isin(arr, (0, 1))):
            raise InvalidParameterError(
                f"Normalisation parameter {name!r} must be True/False (scalar or array); "
                f"got {value!r}."
            )
        arr = arr.astype(bool)
    return arr


def _nanmin(a: FloatArray, axes: tuple[int, ...]) -> FloatArray:
    """Min over ``axes`` skipping NaN, keepdims; NaN for all-NaN or empty slices, silently."""
    return np.fmin.reduce(a, axis=axes, keepdims=True, initial=np.nan)


def _nanmax(a: FloatArray, axes: tuple[int, ...]) -> FloatArray:
    """Max over ``axes`` skipping NaN, keepdims; NaN for all-NaN or empty slices, silently.

    A slice whose maximum is a negative zero returns ``-0.0`` (as R's ``max``).
    """
    return np.fmax.reduce(a, axis=axes, keepdims=True, initial=np.nan)


def _count(a: FloatArray, axes: tuple[int, ...]) -> NDArray[np.intp]:
    """Number of non-NaN values over ``axes``, keepdims."""
    return np.sum(~np.isnan(a), axis=axes, keepdims=True, dtype=np.intp)


def _mean_sd(a: FloatArray, axes: tuple[int, ...]) -> tuple[FloatArray, FloatArray]:
    """Mean and sample sd (ddof = 1) over ``axes`` skipping NaN, keepdims.

    The mean gets R's second refinement pass (``m + sum(x - m)/n``), so that a constant
    slice has exactly its value as mean and an sd of exactly zero (a single value included).
    The sd is NaN for an all-NaN slice.
    """
    valid = ~np.isnan(a)
    n = np.sum(valid, axis=axes, keepdims=True, dtype=np.intp)
    with np.errstate(all="ignore"):
        mean = np.sum(np.where(valid, a, 0.0), axis=axes, keepdims=True) / n
        resid = np.where(valid, a - mean, 0.0)
        corr = np.sum(resid, axis=axes, keepdims=True) / n
        mean = np.where(np.isfinite(mean), mean + corr, mean)
        dev = np.where(valid, a - mean, 0.0)
        var = np.sum(dev * dev, axis=axes, keepdims=True) / (n - 1)
        sd = np.where(n >= 2, np.sqrt(var), np.nan)
        # a constant slice has sd 0 whatever the rounding of the sums above
        sd = np.where(_nanmin(a, axes) == _nanmax(a, axes), 0.0, sd)
    return mean, sd


def _to_end(a: FloatArray, axes: tuple[int, ...]) -> tuple[FloatArray, tuple[int, ...]]:
    """Move ``axes`` to the end and flatten them into one; also return the permutation."""
    rest = tuple(i for i in range(a.ndim) if i not in axes)
    perm = rest + axes
    moved = np.transpose(a, perm)
    lead = moved.shape[: len(rest)]
    n = math.prod(moved.shape[len(rest) :])
    return moved.reshape((*lead, n)), perm


def _from_end(
    flat: NDArray[Any], x_shape: tuple[int, ...], axes: tuple[int, ...], perm: tuple[int, ...]
) -> NDArray[Any]:
    """Invert :func:`_to_end` for a result whose leading dims may have been broadcast."""
    lead = flat.shape[:-1]
    red = tuple(x_shape[i] for i in axes)
    moved = flat.reshape(lead + red)
    return np.transpose(moved, np.argsort(perm))


def _self_count_below(xf: FloatArray) -> NDArray[np.intp]:
    """For each entry of ``xf`` (..., n): number of non-NaN entries of its row strictly below.

    NaN entries get an arbitrary count (they are masked by the caller).
    """
    n = xf.shape[-1]
    order = np.argsort(xf, axis=-1, kind="stable")  # NaN sort last
    s = np.take_along_axis(xf, order, axis=-1)
    new_group = np.ones(s.shape, dtype=bool)
    new_group[..., 1:] = s[..., 1:] != s[..., :-1]
    starts = np.where(new_group, np.arange(n, dtype=np.intp), 0)
    starts = np.maximum.accumulate(starts, axis=-1)
    counts = np.empty(xf.shape, dtype=np.intp)
    np.put_along_axis(counts, order, starts, axis=-1)
    return counts


def _count_below(xf: FloatArray, rf: FloatArray) -> NDArray[np.intp]:
    """For each entry of ``xf`` (..., n): number of non-NaN entries of ``rf`` (..., m) below it.

    Leading dims broadcast. Sorting ``x`` and ``ref`` together with a stable sort puts each
    ``x`` value before equal ``ref`` values, so the count of valid ``ref`` entries sorted
    before it is the count strictly below.
    """
    lead = np.broadcast_shapes(xf.shape[:-1], rf.shape[:-1])
    n = xf.shape[-1]
    xb = np.broadcast_to(xf, (*lead, n))
    rb = np.broadcast_to(rf, (*lead, rf.shape[-1]))
    comb = np.concatenate([xb, rb], axis=-1)
    is_ref = np.concatenate(
        [np.zeros(xb.shape, dtype=np.intp), (~np.isnan(rb)).astype(np.intp)], axis=-1
    )
    order = np.argsort(comb, axis=-1, kind="stable")
    sorted_ref = np.take_along_axis(is_ref, order, axis=-1)
    before = np.cumsum(sorted_ref, axis=-1) - sorted_ref
    counts = np.empty(comb.shape, dtype=np.intp)
    np.put_along_axis(counts, order, before, axis=-1)
    return counts[..., :n]


def _min_rank(
    x: ArrayLike, ref: ArrayLike | None, axis: Axis
) -> tuple[FloatArray, NDArray[np.intp]]:
    """Rank (1 = lowest, ties min, NaN kept) of ``x`` against ``ref``, and valid-ref counts.

    NaN wherever the reference slice has no non-NaN value.
    """
    xa, ra, axes = _prepare(x, ref, axis)
    xf, perm = _to_end(xa, axes)
    if ref is None:
        below = _self_count_below(xf)
        xb = xf
    else:
        rf, _ = _to_end(ra, axes)
        below = _count_below(xf, rf)
        xb = np.broadcast_to(xf, below.shape)
    n_ref = _count(ra, axes)
    ranks = np.where(np.isnan(xb), np.nan, below + 1.0)
    ranks = _from_end(ranks, xa.shape, axes, perm)
    # against an all-NaN reference there is no rank
    return np.where(n_ref == 0, np.nan, ranks), n_ref


# --------------------------------------------------------------------------------------
# methods
# --------------------------------------------------------------------------------------


@register("normalise", "minmax")
def minmax(
    x: ArrayLike,
    *,
    ref: ArrayLike | None = None,
    axis: Axis = -1,
    lower: ArrayLike = 0.0,
    upper: ArrayLike = 100.0,
    overwrite_x: bool = False,
) -> FloatArray:
    """Min-max scaling onto ``[lower, upper]``.

    ``(x - min) / (max - min) * (upper - lower) + lower``, with min and max taken over
    ``axis`` of ``ref`` (COINr ``n_minmax``).

    Parameters
    ----------
    x : array_like
        Direction-adjusted data.
    ref : array_like, optional
        Reference sample for min and max; defaults to ``x``.
    axis : int or tuple of int, default -1
        Axes reduced to compute the statistics.
    lower, upper : array_like, default 0 and 100
        Target interval, scalars or broadcastable per-slice arrays.
    overwrite_x : bool, default False
        Write the result into ``x`` (a float64 array nobody else reads) instead of a new
        array; otherwise ``x`` is not modified.

    Returns
    -------
    numpy.ndarray
        Float64 array of ``x``'s shape. A slice of zero range gives NaN (no warning here:
        see :func:`degenerate_slices`).

    Examples
    --------
    >>> import numpy as np
    >>> minmax(np.array([1.0, 2.0, np.nan, 5.0])).tolist()
    [0.0, 25.0, nan, 100.0]
    >>> minmax(np.array([3.0, 4.0]), lower=1, upper=10).tolist()
    [1.0, 10.0]
    """
    xa, ra, axes = _prepare(x, ref, axis)
    lo, hi = _param(lower, "lower"), _param(upper, "upper")
    mn, mx = _nanmin(ra, axes), _nanmax(ra, axes)
    with np.errstate(all="ignore"), _row_broadcasts(xa, axes):
        # (x - min) / (max - min) * (upper - lower) + lower, in place on one array
        shape = np.broadcast_shapes(xa.shape, np.shape(lo), np.shape(hi))
        in_place = overwrite_x and xa is x and xa.shape == shape and xa.flags.writeable
        out = np.subtract(xa, mn, out=xa if in_place else None)
        if out.shape != shape:  # parameters with dims of their own (rare)
            out = np.array(np.broadcast_to(out, shape))
        out /= mx - mn
        span = hi - lo
        if not np.all(span == 1.0):  # (x * 1 and x + 0 are x: skip those passes)
            out *= span
        if np.any(lo != 0.0):
            out += lo
        zero_range = mx == mn
        if zero_range.any():
            np.copyto(out, np.nan, where=np.broadcast_to(zero_range, out.shape))
        return out


@register("normalise", "zscore")
def zscore(
    x: ArrayLike,
    *,
    ref: ArrayLike | None = None,
    axis: Axis = -1,
    mean: ArrayLike = 0.0,
    sd: ArrayLike = 1.0,
) -> FloatArray:
    """Standardisation to a given mean and standard deviation.

    ``(x - m) / s * sd + mean``, with ``m`` the mean and ``s`` the *sample* standard
    deviation (ddof = 1) over ``axis`` of ``ref`` (COINr ``n_zscore``).

    Parameters
    ----------
    x : array_like
        Direction-adjusted data.
    ref : array_like, optional
        Reference sample for the mean and sd; defaults to ``x``.
    axis : int or tuple of int, default -1
        Axes reduced to compute the statistics.
    mean, sd : array_like, default 0 and 1
        Target mean and standard deviation.

    Returns
    -------
    numpy.ndarray
        Float64 array of ``x``'s shape. A slice of zero sd (or fewer than two values)
        gives NaN; the front door raises for it (see :func:`degenerate_slices`).

    Examples
    --------
    >>> import numpy as np
    >>> zscore(np.array([1.0, 2.0, 3.0])).tolist()
    [-1.0, 0.0, 1.0]
    >>> zscore(np.array([1.0, 2.0, 3.0]), mean=10, sd=2).tolist()
    [8.0, 10.0, 12.0]
    """
    xa, ra, axes = _prepare(x, ref, axis)
    target_mean, target_sd = _param(mean, "mean"), _param(sd, "sd")
    m, s = _mean_sd(ra, axes)
    with np.errstate(all="ignore"):
        out = (xa - m) / s * target_sd + target_mean
        return np.where(s == 0, np.nan, out)


@register("normalise", "rank")
def rank(x: ArrayLike, *, ref: ArrayLike | None = None, axis: Axis = -1) -> FloatArray:
    """Ranks, 1 = lowest, ties get the minimum rank, NaN kept (COINr ``n_rank``).

    With ``ref`` given, the rank of a value ``v`` is ``1 +`` the number of non-NaN ``ref``
    values strictly below ``v``; for ``ref = x`` this is R's
    ``rank(x, ties.method = "min", na.last = "keep")``. Against a reference slice with no
    non-NaN value the ranks are NaN.

    Parameters
    ----------
    x : array_like
        Direction-adjusted data.
    ref : array_like, optional
        Reference sample to rank against; defaults to ``x``.
    axis : int or tuple of int, default -1
        Axes along which values are ranked (pooled if several).

    Returns
    -------
    numpy.ndarray
        Float64 ranks of ``x``'s shape.

    Examples
    --------
    >>> import numpy as np
    >>> rank(np.array([3.0, 1.0, 3.0, np.nan, 2.0])).tolist()
    [3.0, 1.0, 3.0, nan, 2.0]
    >>> rank(np.array([0.0, 2.0, 9.0]), ref=np.array([1.0, 2.0, 3.0])).tolist()
    [1.0, 2.0, 4.0]
    """
    return _min_rank(x, ref, axis)[0]


@register("normalise", "borda")
def borda(x: ArrayLike, *, ref: ArrayLike | None = None, axis: Axis = -1) -> FloatArray:
    """Borda scores: :func:`rank` minus one (COINr ``n_borda``).

    Parameters
    ----------
    x : array_like
        Direction-adjusted data.
    ref : array_like, optional
        Reference sample to rank against; defaults to ``x``.
    axis : int or tuple of int, default -1
        Axes along which values are ranked.

    Returns
    -------
    numpy.ndarray
        Float64 array of ``x``'s shape: 0 for the lowest value(s).

    Examples
    --------
    >>> import numpy as np
    >>> borda(np.array([3.0, 1.0, 3.0, np.nan, 2.0])).tolist()
    [2.0, 0.0, 2.0, nan, 1.0]
    """
    return _min_rank(x, ref, axis)[0] - 1.0


@register("normalise", "prank")
def prank(x: ArrayLike, *, ref: ArrayLike | None = None, axis: Axis = -1) -> FloatArray:
    """Percentile ranks: ``(rank - 1) / (n - 1)`` (COINr ``n_prank``).

    ``rank`` is :func:`rank` (ties min) and ``n`` the number of non-NaN values of ``ref``
    in the slice. A slice with a single value gives NaN (0/0), as in R.

    Parameters
    ----------
    x : array_like
        Direction-adjusted data.
    ref : array_like, optional
        Reference sample to rank against; defaults to ``x``.
    axis : int or tuple of int, default -1
        Axes along which values are ranked.

    Returns
    -------
    numpy.ndarray
        Float64 array of ``x``'s shape, in [0, 1] when ``ref`` is ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> prank(np.array([3.0, 1.0, 3.0, np.nan, 2.0])).tolist()
    [0.6666666666666666, 0.0, 0.6666666666666666, nan, 0.3333333333333333]
    """
    ranks, n = _min_rank(x, ref, axis)
    with np.errstate(all="ignore"):
        return (ranks - 1.0) / (n - 1.0)


def _posts(
    xa: FloatArray, lower: ArrayLike, upper: ArrayLike, scale: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    lo, hi = _param(lower, "lower"), _param(upper, "upper")
    with np.errstate(all="ignore"):
        y = (xa - lo) / (hi - lo)
    return y, _param(scale, "scale")


@register("normalise", "goalposts")
def goalposts(
    x: ArrayLike,
    *,
    ref: ArrayLike | None = None,
    axis: Axis = -1,
    lower: ArrayLike,
    upper: ArrayLike,
    scale: ArrayLike = 100.0,
    truncate: ArrayLike = True,
) -> FloatArray:
    """Goalposts: ``(x - lower) / (upper - lower)``, clipped to [0, 1] if ``truncate``, × ``scale``.

    The bounds must already be on the directed scale: for a negative indicator with
    goalposts ``(lo, hi)`` pass ``lower=-hi, upper=-lo``, which gives ``(hi - x)/(hi - lo)``
    (COINr ``n_goalposts`` as called by ``Normalise.coin``). No statistic is computed, so
    ``ref`` and ``axis`` only take part in validation.

    Parameters
    ----------
    x : array_like
        Direction-adjusted data.
    ref : array_like, optional
        Unused (accepted for a uniform signature).
    axis : int or tuple of int, default -1
        Unused apart from validation.
    lower, upper : array_like
        Directed goalposts.
    scale : array_like, default 100
        Multiplier applied last.
    truncate : bool or array_like of bool, default True
        Set values above 1 to 1 and below 0 to 0 before scaling (per slice if an array).

    Returns
    -------
    numpy.ndarray
        Float64 array of ``x``'s shape.

    Examples
    --------
    >>> import numpy as np
    >>> goalposts(np.array([-1.0, 5.0, 20.0]), lower=0, upper=10).tolist()
    [0.0, 50.0, 100.0]
    >>> goalposts(np.array([-1.0, 5.0, 20.0]), lower=0, upper=10, truncate=False).tolist()
    [-10.0, 50.0, 200.0]
    """
    xa, _, _ = _prepare(x, ref, axis)
    y, sc = _posts(xa, lower, upper, scale)
    tr = _flag(truncate, "truncate")
    y = np.where(tr & (y > 1.0), 1.0, y)
    y = np.where(tr & (y < 0.0), 0.0, y)
    return y * sc


@register("normalise", "scaled")
def scaled(
    x: ArrayLike,
    *,
    ref: ArrayLike | None = None,
    axis: Axis = -1,
    lower: ArrayLike,
    upper: ArrayLike,
    scale: ArrayLike = 100.0,
) -> FloatArray:
    """Linear rescaling ``(x - lower) / (upper - lower) * scale``, never truncated.

    COINr ``n_scaled``. Bounds are on the directed scale, as for :func:`goalposts`.

    Parameters
    ----------
    x : array_like
        Direction-adjusted data.
    ref : array_like, optional
        Unused (accepted for a uniform signature).
    axis : int or tuple of int, default -1
        Unused apart from validation.
    lower, upper : array_like
        Directed bounds.
    scale : array_like, default 100
        Multiplier.

    Returns
    -------
    numpy.ndarray
        Float64 array of ``x``'s shape.

    Examples
    --------
    >>> import numpy as np
    >>> scaled(np.array([-1.0, 5.0, 20.0]), lower=0, upper=10).tolist()
    [-10.0, 50.0, 200.0]
    """
    xa, _, _ = _prepare(x, ref, axis)
    y, sc = _posts(xa, lower, upper, scale)
    return y * sc


@register("normalise", "dist2max")
def dist2max(x: ArrayLike, *, ref: ArrayLike | None = None, axis: Axis = -1) -> FloatArray:
    """Distance to the maximum: ``1 - (max - x) / (max - min)`` (COINr ``n_dist2max``).

    Equal to :func:`minmax` on [0, 1] up to about one ulp.

    Parameters
    ----------
    x : array_like
        Direction-adjusted data.
    ref : array_like, optional
        Reference sample for min and max; defaults to ``x``.
    axis : int or tuple of int, default -1
        Axes reduced to compute the statistics.

    Returns
    -------
    numpy.ndarray
        Float64 array of ``x``'s shape; a slice of zero range gives NaN.

    Examples
    --------
    >>> import numpy as np
    >>> dist2max(np.array([2.0, 4.0, 10.0])).tolist()
    [0.0, 0.25, 1.0]
    """
    xa, ra, axes = _prepare(x, ref, axis)
    mn, mx = _nanmin(ra, axes), _nanmax(ra, axes)
    with np.errstate(all="ignore"):
        out = 1.0 - (mx - xa) / (mx - mn)
        return np.where(mx == mn, np.nan, out)


@register("normalise", "dist2ref")
def dist2ref(
    x: ArrayLike,
    *,
    ref: ArrayLike | None = None,
    axis: Axis = -1,
    ref_value: ArrayLike,
    cap: ArrayLike = False,
) -> FloatArray:
    """Distance to a reference unit: ``1 - (ref_value - x) / (ref_value - min)``.

    COINr ``n_dist2ref``. ``ref_value`` is the reference unit's (directed) value, supplied
    by the front door per slice; ``min`` is taken over ``axis`` of ``ref``. Units better
    than the reference score above 1 unless ``cap`` sets those to 1 (nothing is done at the
    low end). A NaN ``ref_value`` makes its whole slice NaN.

    Parameters
    ----------
    x : array_like
        Direction-adjusted data.
    ref : array_like, optional
        Reference sample for the minimum; defaults to ``x``.
    axis : int or tuple of int, default -1
        Axes reduced to compute the minimum.
    ref_value : array_like
        Directed value of the reference unit, broadcastable with keepdims shape.
    cap : bool or array_like of bool, default False
        Set values above 1 to 1.

    Returns
    -------
    numpy.ndarray
        Float64 array of ``x``'s shape.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([0.0, 2.0, 4.0, 6.0])
    >>> dist2ref(x, ref_value=4.0).tolist()
    [0.0, 0.5, 1.0, 1.5]
    >>> dist2ref(x, ref_value=4.0, cap=True).tolist()
    [0.0, 0.5, 1.0, 1.0]
    """
    xa, ra, axes = _prepare(x, ref, axis)
    rv = _param(ref_value, "ref_value")
    mn = _nanmin(ra, axes)
    with np.errstate(all="ignore"):
        y = 1.0 - (rv - xa) / (rv - mn)
    return np.where(_flag(cap, "cap") & (y > 1.0), 1.0, y)


@register("normalise", "dist2targ")
def dist2targ(
    x: ArrayLike,
    *,
    ref: ArrayLike | None = None,
    axis: Axis = -1,
    target: ArrayLike,
    cap: ArrayLike = False,
) -> FloatArray:
    """Distance to a target: ``(x - min) / (target - min)`` (COINr ``n_dist2targ``).

    ``target`` is already directed (target × direction), so for a negative indicator the
    result equals ``(max x - x) / (max x - target)`` on the raw scale. Values may be
    negative (below-target minimum) or above 1; ``cap`` only sets values above 1 to 1.

    Parameters
    ----------
    x : array_like
        Direction-adjusted data.
    ref : array_like, optional
        Reference sample for the minimum; defaults to ``x``.
    axis : int or tuple of int, default -1
        Axes reduced to compute the minimum.
    target : array_like
        Directed target, scalar or per-slice array.
    cap : bool or array_like of bool, default False
        Set values above 1 to 1.

    Returns
    -------
    numpy.ndarray
        Float64 array of ``x``'s shape.

    Examples
    --------
    >>> import numpy as np
    >>> dist2targ(np.array([1.0, 3.0, 5.0, 7.0]), target=5.0).tolist()
    [0.0, 0.5, 1.0, 1.5]
    >>> dist2targ(np.array([1.0, 3.0, 5.0, 7.0]), target=5.0, cap=True).tolist()
    [0.0, 0.5, 1.0, 1.0]
    """
    xa, ra, axes = _prepare(x, ref, axis)
    t = _param(target, "target")
    mn = _nanmin(ra, axes)
    with np.errstate(all="ignore"):
        y = (xa - mn) / (t - mn)
    return np.where(_flag(cap, "cap") & (y > 1.0), 1.0, y)


@register("normalise", "fracmax")
def fracmax(x: ArrayLike, *, ref: ArrayLike | None = None, axis: Axis = -1) -> FloatArray:
    """Fraction of the maximum: ``x / max`` (COINr ``n_fracmax``).

    NumPy's natural behaviour is kept, as in COINr: for a negative indicator whose raw
    minimum is 0 the directed maximum is ``-0.0``, giving ``+inf`` for ``x < 0`` and NaN
    at ``x = -0``.

    Parameters
    ----------
    x : array_like
        Direction-adjusted data.
    ref : array_like, optional
        Reference sample for the maximum; defaults to ``x``.
    axis : int or tuple of int, default -1
        Axes reduced to compute the maximum.

    Returns
    -------
    numpy.ndarray
        Float64 array of ``x``'s shape.

    Examples
    --------
    >>> import numpy as np
    >>> fracmax(np.array([1.0, 2.0, 4.0])).tolist()
    [0.25, 0.5, 1.0]
    >>> fracmax(-np.array([0.0, 1.0, 2.0])).tolist()
    [nan, inf, inf]
    """
    xa, ra, axes = _prepare(x, ref, axis)
    mx = _nanmax(ra, axes)
    with np.errstate(all="ignore"):
        return xa / mx


# --------------------------------------------------------------------------------------
# diagnostics for the front door
# --------------------------------------------------------------------------------------


def degenerate_slices(
    x: ArrayLike, method: str, *, ref: ArrayLike | None = None, axis: Axis = -1
) -> NDArray[np.bool_]:
    """Which slices a method cannot normalise (so the front door can warn or raise).

    * ``"minmax"``, ``"dist2max"``: slices of ``ref`` whose range is zero (max == min).
    * ``"zscore"``: slices whose sample sd is zero or undefined (a single non-NaN value).

    All-NaN slices are never flagged (they give NaN silently), and every other method
    name gives all ``False``.

    Parameters
    ----------
    x : array_like
        Direction-adjusted data (only its shape is used).
    method : str
        Normalisation method name.
    ref : array_like, optional
        Reference sample; defaults to ``x``.
    axis : int or tuple of int, default -1
        Reduced axes, as for the method.

    Returns
    -------
    numpy.ndarray of bool
        Keepdims shape: ``x``'s shape with the reduced axes of length 1.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1.0, 2.0], [3.0, 3.0], [np.nan, 4.0], [np.nan, np.nan]])
    >>> degenerate_slices(x, "minmax").ravel().tolist()
    [False, True, True, False]
    >>> degenerate_slices(x, "zscore").ravel().tolist()
    [False, True, True, False]
    >>> degenerate_slices(x, "rank").ravel().tolist()
    [False, False, False, False]
    """
    xa, ra, axes = _prepare(x, ref, axis)
    if method in _RANGE_METHODS:
        flags = _nanmin(ra, axes) == _nanmax(ra, axes)
    elif method in _SD_METHODS:
        _, sd = _mean_sd(ra, axes)
        flags = (_count(ra, axes) > 0) & ~(sd > 0)
    else:
        flags = np.zeros(np.shape(_count(ra, axes)), dtype=bool)
    x_keep = tuple(1 if i in axes else s for i, s in enumerate(xa.shape))
    shape = np.broadcast_shapes(x_keep, flags.shape)
    return np.broadcast_to(flags, shape).copy()
