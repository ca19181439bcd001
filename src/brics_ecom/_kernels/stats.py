"""NaN-aware moment statistics shared by the kernels (pure NumPy).

The estimators follow COINr 1.1.14 (which copies R's ``e1071`` "type 2" definitions):

* the mean is R's two-pass mean: ``m = sum(x) / n`` refined by ``m += sum(x - m) / n``;
* :func:`nanstd_sample` is the sample standard deviation (``ddof = 1`` by default);
* :func:`skew_type2` is the bias-adjusted skewness ``G1`` (NaN when ``n < 3``);
* :func:`kurt_type2` is the bias-adjusted **excess** kurtosis ``G2`` (NaN when ``n < 4``).

Every function reduces over ``axis`` (last by default; a tuple pools several axes), skips
NaN, broadcasts over the other (leading) dims and returns NaN, silently, for a slice with
too few non-missing values or with zero variance. Inputs are never modified.

The central power sums are computed with products: ``d2 = d * d`` summed by NumPy's
pairwise sum, and ``d2 . d`` and ``d2 . d2`` as dot products (one BLAS call per slice
along a single axis, the product and the sum in one pass; pooled axes and very long
slices take ``sum(d2 * d)`` and ``sum(d2 * d2)``). A slice therefore gives bit-for-bit
the same result whatever array it sits in (a row of a C-contiguous 2-D array, or alone),
and the treatment kernel's fast row-block path (:func:`_skew_kurt_rows`) agrees exactly
with :func:`skew_kurt_type2`.

Examples
--------
>>> import numpy as np
>>> x = np.array([[1.0, 2.0, 3.0, 10.0], [1.0, np.nan, 2.0, 4.0]])
>>> np.round(skew_type2(x), 6).tolist()
[1.763633, 0.93522]
>>> np.round(kurt_type2(x), 6).tolist()
[3.228, nan]
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "column_stats",
    "correlation_pvalues",
    "cronbach_alpha_cov",
    "kendall_pvalues",
    "kurt_type2",
    "nanmean_refined",
    "nanstd_sample",
    "pairwise_cov",
    "pairwise_kendall",
    "pairwise_pearson",
    "pairwise_spearman",
    "rank_average",
    "signif_r",
    "skew_kurt_type2",
    "skew_type2",
]

Axis = int | tuple[int, ...]


def _prepare(x: ArrayLike, axis: Axis) -> tuple[NDArray[np.float64], NDArray[np.bool_], Axis]:
    """Return ``x`` as float64 (never a view that we write to), its mask and a valid axis."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    ax: Axis = tuple(int(a) for a in axis) if isinstance(axis, tuple) else int(axis)
    return arr, ~np.isnan(arr), ax


def _masked_deviations(
    arr: NDArray[np.float64],
    mask: NDArray[np.bool_],
    mean: NDArray[np.float64],
    scratch: NDArray[np.float64],
) -> NDArray[np.float64]:
    """``np.where(mask, arr - mean, 0.0)``, written into ``scratch`` when that is the same.

    For a C-contiguous ``arr`` (then ``scratch``, made by ``np.where`` from it, is too) the
    result has the same values and memory layout, so every later sum is unchanged; it
    just avoids two temporaries. Other layouts take the plain expression.
    """
    if not (arr.flags.c_contiguous and scratch.flags.c_contiguous):
        return np.where(mask, arr - mean, 0.0)
    np.subtract(arr, mean, out=scratch)
    if not mask.all():
        np.copyto(scratch, 0.0, where=~mask)
    return scratch


def _mean_scratch(
    arr: NDArray[np.float64], mask: NDArray[np.bool_], axis: Axis
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Count, refined mean (both ``keepdims``) and a free scratch array shaped like ``arr``."""
    n = mask.sum(axis=axis, keepdims=True).astype(np.float64)
    scratch = np.where(mask, arr, 0.0)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        mean = scratch.sum(axis=axis, keepdims=True) / n
        resid = _masked_deviations(arr, mask, mean, scratch)
        corr = resid.sum(axis=axis, keepdims=True) / n
        mean = np.where(np.isfinite(mean), mean + corr, mean)
    return n, mean, scratch


def _mean_keepdims(
    arr: NDArray[np.float64], mask: NDArray[np.bool_], axis: Axis
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Count of non-NaN values and R's refined two-pass mean, both with ``keepdims``."""
    n, mean, _ = _mean_scratch(arr, mask, axis)
    return n, mean


def _deviations(x: ArrayLike, axis: Axis) -> tuple[NDArray[np.float64], NDArray[np.float64], Axis]:
    """Count ``n`` (keepdims), deviations ``d = x - mean`` (0 where NaN, a fresh array) and
    the axis."""
    arr, mask, ax = _prepare(x, axis)
    n, mean, scratch = _mean_scratch(arr, mask, ax)
    with np.errstate(invalid="ignore", over="ignore"):
        d = _masked_deviations(arr, mask, mean, scratch)
    return n, d, ax


#: Longest slice whose power sums of orders 3 and 4 are BLAS dot products: OpenBLAS may
#: split a longer dot product across threads, and its last bits would then depend on
#: their number.
_DOT_MAX = 8192
_vecdot = getattr(np, "vecdot", None)  # NumPy >= 2.0


def _dot_axis(d: NDArray[np.float64], axis: Axis) -> int | None:
    """The axis along which the sums of ``d`` may be dot products, or None."""
    if isinstance(axis, tuple):
        if len(axis) != 1:
            return None
        axis = axis[0]
    ax = axis % d.ndim
    if _vecdot is None or d.shape[ax] > _DOT_MAX:
        return None
    return ax


def _power_sums(
    d: NDArray[np.float64],
    axis: Axis,
    orders: tuple[int, ...],
    scratch: NDArray[np.float64] | None = None,
) -> list[NDArray[np.float64]]:
    """Sums of ``d ** k`` over ``axis`` (keepdims) for ``k`` in ``orders`` (2, 3 and/or 4).

    The powers are products, ``d2 = d * d``, ``d2 * d`` and ``d2 * d2`` (``np.power`` with
    a negative base is a slow scalar routine on some CPUs); they differ from ``d ** k`` in
    the last bits only. ``sum(d2)`` is NumPy's (pairwise along a contiguous axis); along
    one axis the other two are dot products ``d2 . d`` and ``d2 . d2`` (``np.vecdot``:
    one BLAS call per slice, with no product array written), otherwise sums of the
    products. A slice thus gets bit-for-bit the same sums whatever array it sits in, and
    every function of this module computes a given sum the same way. ``d`` (a fresh
    array) may be overwritten, and so may ``scratch`` (an array shaped like ``d``, for
    ``d2``) if given.
    """
    sums: dict[int, NDArray[np.float64]] = {}
    ax = _dot_axis(d, axis)
    with np.errstate(invalid="ignore", over="ignore", under="ignore"):
        d2 = np.multiply(d, d, out=scratch)
        sums[2] = d2.sum(axis=axis, keepdims=True)
        if ax is not None:
            assert _vecdot is not None
            for k, other in ((3, d), (4, d2)):
                if k in orders:
                    sums[k] = np.expand_dims(_vecdot(d2, other, axis=ax), ax)
        else:
            if 3 in orders:
                sums[3] = np.multiply(d2, d, out=d).sum(axis=axis, keepdims=True)
            if 4 in orders:
                sums[4] = np.multiply(d2, d2, out=d2).sum(axis=axis, keepdims=True)
    return [sums[k] for k in orders]


@contextlib.contextmanager
def row_broadcasts(row_length: int) -> Iterator[None]:
    """Within the block, NumPy combines rows of ``row_length`` with one value per row fast.

    An element-wise operation between a 2-D array and a column (one value per row, e.g.
    ``x - mean`` with ``keepdims``) runs about twice slower when NumPy's ufunc buffer
    (8,192 elements) is longer than a row: the iterator then copies the broadcast column
    into its buffer. A buffer shorter than a row avoids that; results are unchanged (the
    buffer size never changes an element-wise result). The previous size is restored.
    """
    if row_length < 256 or row_length > 8192:
        yield
        return
    old = np.setbufsize(1 << (row_length.bit_length() - 2))
    try:
        yield
    finally:
        np.setbufsize(old)


def _central_sums(
    x: ArrayLike, axis: Axis, orders: tuple[int, ...]
) -> tuple[NDArray[np.float64], list[NDArray[np.float64]]]:
    """Count ``n`` and the sums of ``(x - mean) ** k`` for ``k`` in ``orders`` (keepdims)."""
    n, d, ax = _deviations(x, axis)
    return n, _power_sums(d, ax, orders)


def _skew_from_sums(
    n: NDArray[np.float64], s2: NDArray[np.float64], s3: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Type-2 skewness from the count and the central sums of orders 2 and 3."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        g1 = np.sqrt(n) * s3 / s2**1.5
        out = g1 * np.sqrt(n * (n - 1.0)) / (n - 2.0)
        return np.where(n >= 3, out, np.nan)


def _kurt_from_sums(
    n: NDArray[np.float64], s2: NDArray[np.float64], s4: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Type-2 excess kurtosis from the count and the central sums of orders 2 and 4."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        r = n * s4 / s2**2
        out = ((n + 1.0) * (r - 3.0) + 6.0) * (n - 1.0) / ((n - 2.0) * (n - 3.0))
        return np.where(n >= 4, out, np.nan)


def _central_sums_block(
    z: NDArray[np.float64],
    miss: NDArray[np.intp],
    n: NDArray[np.float64],
    d: NDArray[np.float64],
    d2: NDArray[np.float64],
    total: NDArray[np.float64] | None = None,
) -> tuple[NDArray[np.float64], ...]:
    """The refined mean and the central sums of orders 2, 3 and 4 of the rows of a block
    (the fast path), each of shape ``(rows, 1)``.

    ``z`` holds the values with 0 where missing and is not modified; ``miss`` are the flat
    indices of the missing positions; ``n`` is the count of the others (float, shape
    ``(rows, 1)``); ``d`` and ``d2`` are C-contiguous scratch arrays shaped like ``z``;
    ``total`` is ``z.sum(axis=1, keepdims=True)`` if the caller has it already.
    The element-wise operations and the sums are those of :func:`_mean_scratch`,
    :func:`_masked_deviations` and :func:`_power_sums` (``z - mean`` equals ``x - mean``
    wherever a value is present, and the deviations are set to 0 elsewhere), so each row
    gets bit-for-bit the sums, hence :func:`skew_kurt_type2`, of that row alone.
    """
    flat = d.reshape(-1)
    with (
        np.errstate(invalid="ignore", divide="ignore", over="ignore", under="ignore"),
        row_broadcasts(z.shape[1]),
    ):
        mean = (z.sum(axis=1, keepdims=True) if total is None else total) / n
        np.subtract(z, mean, out=d)
        if miss.size:
            flat[miss] = 0.0
        corr = d.sum(axis=1, keepdims=True) / n
        mean = np.where(np.isfinite(mean), mean + corr, mean)
        np.subtract(z, mean, out=d)
        if miss.size:
            flat[miss] = 0.0
        s2, s3, s4 = _power_sums(d, 1, (2, 3, 4), scratch=d2)
    return mean, s2, s3, s4


def _missing(a: NDArray[np.float64]) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """Flat indices of the NaN of the 2-D ``a`` and each row's count of the others
    (float, shape ``(rows, 1)``)."""
    k, m = a.shape
    miss = np.flatnonzero(np.isnan(a))
    per_row = np.bincount(miss // max(m, 1), minlength=k)
    return miss, (m - per_row)[:, None].astype(np.float64)


#: Elements per block of rows in :func:`_skew_kurt_rows`: a block's three scratch arrays
#: (1 MB each) stay in the CPU cache instead of streaming a large array through memory a
#: dozen times; blocks are large enough for NumPy's per-call cost not to matter, and small
#: enough for the allocator to reuse their memory rather than map fresh pages each call.
BLOCK_SIZE = 1 << 17


#: The scratch memory of :func:`_moments_rows`, kept per thread between calls: the
#: treatment calls it a dozen times per panel, and freeing and allocating it each time
#: makes the C allocator hand back fresh pages, whose first touch costs more than the
#: work done in them.
_workspace = threading.local()


def _scratch(shape: tuple[int, ...]) -> NDArray[np.float64]:
    """A float64 work array of ``shape`` (contents undefined), this thread's own, valid
    until the next call. The memory is kept for the next call (at most 3 blocks)."""
    size = int(np.prod(shape))
    buf = getattr(_workspace, "buf", None)
    if buf is None or buf.size < size:
        buf = np.empty(size)
        if size <= 3 * BLOCK_SIZE:
            _workspace.buf = buf
    return buf[:size].reshape(shape)


def _skew_kurt_rows(arr: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """:func:`skew_kurt_type2` of every row of a C-contiguous 2-D float64 ``arr``, fast.

    Bit-for-bit the same results (see :func:`_central_sums_block`), computed block of rows by
    block of rows in reused buffers. ``arr`` is not modified.
    """
    sk, ku, _ = _moments_rows(arr)
    return sk, ku


def _moments_rows(
    arr: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """:func:`_skew_kurt_rows` and, per row, its count, refined mean and central sums of
    orders 2, 3 and 4 (the last as one array of shape ``(5, rows)``, in that order)."""
    n_rows, m = arr.shape
    sk = np.empty(n_rows)
    ku = np.empty(n_rows)
    sums = np.empty((5, n_rows))
    step = max(1, BLOCK_SIZE // max(m, 1))
    bufs = _scratch((3, min(step, n_rows), m))
    none_missing = np.empty(0, dtype=np.intp)
    for start in range(0, n_rows, step):
        a = arr[start : start + step]
        z, d, d2 = bufs[:, : a.shape[0]]
        # the rows' sums, NaN when a value is missing: complete blocks need no NaN scan
        with np.errstate(invalid="ignore", over="ignore"):
            row_sums = a.sum(axis=1, keepdims=True)
        total: NDArray[np.float64] | None = row_sums
        if np.isnan(row_sums).any():
            miss, n = _missing(a)
            np.copyto(z, a)  # values with 0 where missing
            z.reshape(-1)[miss] = 0.0
            total = None
        else:
            miss, n, z = none_missing, np.full((a.shape[0], 1), float(m)), a
        assert z.flags.c_contiguous and d.flags.c_contiguous
        mean, s2, s3, s4 = _central_sums_block(z, miss, n, d, d2, total)
        b = slice(start, start + a.shape[0])
        sk[b], ku[b] = _skew_from_sums(n, s2, s3)[:, 0], _kurt_from_sums(n, s2, s4)[:, 0]
        sums[:, b] = np.hstack([n, mean, s2, s3, s4]).T
    return sk, ku, sums


def _squeeze(a: NDArray[np.float64], axis: Axis) -> Any:
    """Drop the kept reduced axes; return a NumPy scalar for 1-D input."""
    ax = axis if isinstance(axis, tuple) else (axis,)
    out = np.squeeze(a, axis=ax)
    return out[()] if out.ndim == 0 else out


def nanmean_refined(x: ArrayLike, axis: Axis = -1) -> Any:
    """Mean over ``axis`` skipping NaN, with R's second-pass refinement.

    Parameters
    ----------
    x : array_like
        Data; NaN marks missing values.
    axis : int or tuple of int, default -1
        Axis (or axes, pooled) to reduce over.

    Returns
    -------
    numpy.ndarray or numpy.float64
        ``m + sum(x - m) / n`` with ``m = sum(x) / n`` over non-NaN values; NaN for an
        all-NaN slice.

    Examples
    --------
    >>> nanmean_refined([1.0, np.nan, 2.0])
    np.float64(1.5)
    """
    arr, mask, ax = _prepare(x, axis)
    _, mean = _mean_keepdims(arr, mask, ax)
    return _squeeze(mean, ax)


def nanstd_sample(x: ArrayLike, axis: Axis = -1, ddof: int = 1) -> Any:
    """Standard deviation over ``axis`` skipping NaN (sample version by default).

    Parameters
    ----------
    x : array_like
        Data; NaN marks missing values.
    axis : int or tuple of int, default -1
        Axis (or axes, pooled) to reduce over.
    ddof : int, default 1
        Delta degrees of freedom: the divisor is ``n - ddof`` (R's ``sd`` uses 1).

    Returns
    -------
    numpy.ndarray or numpy.float64
        ``sqrt(sum(d ** 2) / (n - ddof))``; NaN when ``n - ddof <= 0``.

    Examples
    --------
    >>> round(float(nanstd_sample([1.0, 2.0, np.nan, 4.0])), 6)
    1.527525
    """
    n, (s2,) = _central_sums(x, axis, (2,))
    with np.errstate(invalid="ignore", divide="ignore"):
        dof = n - ddof
        out = np.where(dof > 0, np.sqrt(s2 / np.where(dof > 0, dof, 1.0)), np.nan)
    return _squeeze(out, axis)


def skew_type2(x: ArrayLike, axis: Axis = -1) -> Any:
    """Bias-adjusted ("type 2", e1071/Excel/COINr) skewness over ``axis``, skipping NaN.

    With ``d = x - mean`` over the ``n`` non-NaN values,
    ``g1 = sqrt(n) * sum(d**3) / sum(d**2) ** 1.5`` and
    ``skew = g1 * sqrt(n * (n - 1)) / (n - 2)``.

    Parameters
    ----------
    x : array_like
        Data; NaN marks missing values.
    axis : int or tuple of int, default -1
        Axis (or axes, pooled) to reduce over.

    Returns
    -------
    numpy.ndarray or numpy.float64
        The skewness, NaN when ``n < 3`` or the slice is constant (R's ``0/0``).

    Examples
    --------
    >>> round(float(skew_type2([1.0, 2.0, 3.0, 10.0])), 6)
    1.763633
    >>> skew_type2([1.0, 2.0])
    np.float64(nan)
    """
    n, (s2, s3) = _central_sums(x, axis, (2, 3))
    return _squeeze(_skew_from_sums(n, s2, s3), axis)


def kurt_type2(x: ArrayLike, axis: Axis = -1) -> Any:
    """Bias-adjusted ("type 2") **excess** kurtosis over ``axis``, skipping NaN.

    With ``d = x - mean`` over the ``n`` non-NaN values, ``r = n * sum(d**4) / sum(d**2)**2``
    and ``kurt = ((n + 1) * (r - 3) + 6) * (n - 1) / ((n - 2) * (n - 3))``.

    Parameters
    ----------
    x : array_like
        Data; NaN marks missing values.
    axis : int or tuple of int, default -1
        Axis (or axes, pooled) to reduce over.

    Returns
    -------
    numpy.ndarray or numpy.float64
        The excess kurtosis (0 for a normal sample in expectation), NaN when ``n < 4`` or
        the slice is constant.

    Examples
    --------
    >>> round(float(kurt_type2([1.0, 2.0, 3.0, 10.0])), 6)
    3.228
    """
    n, (s2, s4) = _central_sums(x, axis, (2, 4))
    return _squeeze(_kurt_from_sums(n, s2, s4), axis)


def skew_kurt_type2(x: ArrayLike, axis: Axis = -1) -> tuple[Any, Any]:
    """Both :func:`skew_type2` and :func:`kurt_type2`, sharing one pass over the data.

    The results are bit-for-bit those of the two functions called separately.

    Parameters
    ----------
    x : array_like
        Data; NaN marks missing values.
    axis : int or tuple of int, default -1
        Axis (or axes, pooled) to reduce over.

    Returns
    -------
    skew, kurt : numpy.ndarray or numpy.float64
        As returned by :func:`skew_type2` and :func:`kurt_type2`.

    Examples
    --------
    >>> sk, ku = skew_kurt_type2([1.0, 2.0, 3.0, 10.0])
    >>> round(float(sk), 6), round(float(ku), 6)
    (1.763633, 3.228)
    """
    n, (s2, s3, s4) = _central_sums(x, axis, (2, 3, 4))
    return (
        _squeeze(_skew_from_sums(n, s2, s3), axis),
        _squeeze(_kurt_from_sums(n, s2, s4), axis),
    )


# ====================================================================================
# Column statistics, pairwise-complete correlations and Cronbach's alpha (analysis.py)
#
# Layout convention of the functions below: observations (units) on axis -2 and
# variables (indicators) on axis -1, i.e. ``x`` has shape ``(..., n, p)``; every leading
# dim (time, draw, ...) is broadcast. NaN marks a missing value.
# ====================================================================================

_EPS = float(np.finfo(np.float64).eps)


def signif_r(x: ArrayLike, digits: int) -> NDArray[np.float64]:
    """Round to ``digits`` significant digits exactly as R's ``signif`` (``fprec``) does.

    R scales by a power of ten (``10**e`` with ``e = digits - 1 - floor(log10|x|)``),
    rounds half to even (``nearbyint``) and scales back, in double precision; powers of
    ten are exact up to ``10**22``. NaN, infinities and zeros are returned unchanged;
    ``digits`` above 22 leaves ``x`` unchanged and below 1 counts as 1. Magnitudes beyond
    ``1e±306`` (R's separate "large or small" branch) are rounded through their decimal
    text instead.

    Parameters
    ----------
    x : array_like
        Values to round.
    digits : int
        Number of significant digits.

    Returns
    -------
    numpy.ndarray
        The rounded values (float64, same shape).

    Examples
    --------
    >>> signif_r([0.0196078431372549, 122.0, -0.3042681282970482, 2.5], 3).tolist()
    [0.0196, 122.0, -0.304, 2.5]
    >>> signif_r([0.125, 2.675], 2).tolist()
    [0.12, 2.7]
    """
    arr = np.array(x, dtype=np.float64, copy=True)
    dig = int(digits)
    if dig > 22:
        return arr
    dig = max(dig, 1)
    out = arr.copy()
    ok = np.isfinite(arr) & (arr != 0)
    if not ok.any():
        return out
    v = np.abs(arr[ok])
    sgn = np.sign(arr[ok])
    max10e = int(np.finfo(np.float64).maxexp * np.log10(2.0))  # 308
    l10 = np.log10(v)
    e10 = (dig - 1 - np.floor(l10)).astype(np.int64)
    res = np.empty_like(v)
    normal = np.abs(l10) < max10e - 2
    # numbers below 10**(dig - 1 - max10e): two scalings (R's p10)
    p10 = np.where(e10 > max10e, 10.0 ** np.clip(e10 - max10e, 0, None).astype(np.float64), 1.0)
    e10c = np.minimum(e10, max10e)
    pos = normal & (e10c > 0)
    neg = normal & (e10c <= 0)
    with np.errstate(over="ignore", invalid="ignore"):
        pw = 10.0 ** np.abs(e10c).astype(np.float64)
        res[pos] = np.rint((v[pos] * pw[pos]) * p10[pos]) / pw[pos] / p10[pos]
        res[neg] = np.rint(v[neg] / pw[neg]) * pw[neg]
    big = ~normal
    if big.any():  # |x| beyond 1e±306 (never in practice): correctly rounded decimal text
        res[big] = [float(f"{v:.{dig - 1}e}") for v in v[big].tolist()]
    out[ok] = sgn * res
    return out


def rank_average(x: ArrayLike, axis: int = -1) -> NDArray[np.float64]:
    """Ranks along ``axis`` with 1 = lowest, ties **averaged**, NaN kept (R's ``rank``).

    Used for Spearman correlations (ranks, then Pearson).

    Examples
    --------
    >>> rank_average([3.0, 1.0, np.nan, 1.0, 7.0]).tolist()
    [3.0, 1.5, nan, 1.5, 4.0]
    """
    from .ranks import rank_ascending

    arr = np.asarray(x, dtype=np.float64)
    low = rank_ascending(arr, axis=axis)
    n_valid = (~np.isnan(arr)).sum(axis=axis, keepdims=True)
    # 1 + (number of values > x) is the min-rank of -x; so #(values <= x) follows
    high = n_valid - rank_ascending(-arr, axis=axis) + 1.0
    return (low + high) / 2.0


def _count_runs(sorted_vals: NDArray[np.float64]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Number of distinct values and size of the largest block of equal values, per row.

    ``sorted_vals`` is 2-D, each row sorted ascending with NaN last.
    """
    k, m = sorted_vals.shape
    valid = ~np.isnan(sorted_vals)
    if m == 0:
        zeros = np.zeros(k, dtype=np.intp)
        return zeros, zeros
    new = np.ones((k, m), dtype=bool)
    new[:, 1:] = sorted_vals[:, 1:] != sorted_vals[:, :-1]
    new &= valid
    n_distinct = new.sum(axis=1)
    # run lengths: position of each element minus the start of its run
    idx = np.broadcast_to(np.arange(m), (k, m))
    start = np.where(new, idx, 0)
    np.maximum.accumulate(start, axis=1, out=start)
    run = np.where(valid, idx - start + 1, 0)
    return n_distinct, run.max(axis=1)


def _mode_count_as_text(row: NDArray[np.float64]) -> int:
    """Largest number of values that print alike with 15 significant digits (R's table)."""
    vals = row[~np.isnan(row)]
    if vals.size == 0:
        return 0
    _, counts = np.unique(np.array([f"{v:.15g}" for v in vals.tolist()]), return_counts=True)
    return int(counts.max())


def column_stats(x: ArrayLike, axis: int = -1) -> dict[str, NDArray[np.float64]]:
    """Descriptive statistics of each slice along ``axis`` (COINr's ``get_stats`` kernel).

    Returns ``min``, ``max``, ``mean`` (R's two-pass mean), ``median``, ``sd`` (``n - 1``),
    ``skew`` and ``kurt`` (type 2, excess), and the counts ``n`` (slice length, missing
    included), ``n_avail`` (non-missing), ``n_nonzero``, ``n_unique`` (distinct values) and
    ``n_same`` (size of the largest group of equal values). All are arrays over the other
    axes. Empty (all-NaN) slices give NaN statistics and zero counts.

    ``n_same`` follows R's ``max(table(x))``, which groups values by their text form with
    15 significant digits: values that differ only beyond the 15th digit count as equal
    (only such near-ties take the slow, exact text path).

    Examples
    --------
    >>> s = column_stats(np.array([[0.0, 1.0, 1.0, np.nan, 4.0]]))
    >>> [float(s[k][0]) for k in ("min", "median", "n_avail", "n_nonzero", "n_unique", "n_same")]
    [0.0, 1.0, 4.0, 3.0, 3.0, 2.0]
    """
    arr = np.moveaxis(np.asarray(x, dtype=np.float64), axis, -1)
    lead = arr.shape[:-1]
    m = arr.shape[-1]
    flat = np.ascontiguousarray(arr.reshape(-1, m))
    valid = ~np.isnan(flat)
    n_avail = valid.sum(axis=1)
    has = n_avail > 0
    safe = np.where(valid, flat, 0.0)
    with np.errstate(invalid="ignore"):
        vmin = np.where(has, np.where(valid, flat, np.inf).min(axis=1, initial=np.inf), np.nan)
        vmax = np.where(has, np.where(valid, flat, -np.inf).max(axis=1, initial=-np.inf), np.nan)
    srt = np.sort(flat, axis=1)  # NaN last
    # median: middle value, or the mean of the two middle values (as R's median)
    lo_i = np.clip((n_avail - 1) // 2, 0, max(m - 1, 0))
    hi_i = np.clip(n_avail // 2, 0, max(m - 1, 0))
    rows = np.arange(flat.shape[0])
    if m:
        med = np.where(has, (srt[rows, lo_i] + srt[rows, hi_i]) / 2.0, np.nan)
        med = np.where(lo_i == hi_i, srt[rows, lo_i], med)
        med = np.where(has, med, np.nan)
    else:
        med = np.full(flat.shape[0], np.nan)
    n_unique, n_same = _count_runs(srt)
    # values distinct as doubles may still print alike with 15 digits: check near-ties
    if m > 1:
        gap = np.abs(np.diff(srt, axis=1))
        near = (gap > 0) & (gap <= 2e-14 * np.abs(srt[:, 1:]))
        for r in np.flatnonzero(near.any(axis=1)):
            n_same[r] = _mode_count_as_text(flat[r])
    sk, ku = skew_kurt_type2(flat, axis=1)
    out = {
        "min": vmin,
        "max": vmax,
        "mean": nanmean_refined(flat, axis=1),
        "median": med,
        "sd": nanstd_sample(flat, axis=1),
        "skew": sk,
        "kurt": ku,
        "n": np.full(flat.shape[0], float(m)),
        "n_avail": n_avail.astype(np.float64),
        "n_nonzero": ((safe != 0) & valid).sum(axis=1).astype(np.float64),
        "n_unique": n_unique.astype(np.float64),
        "n_same": n_same.astype(np.float64),
    }
    return {k: np.asarray(v, dtype=np.float64).reshape(lead) for k, v in out.items()}


def _as_obs_var(x: ArrayLike) -> NDArray[np.float64]:
    """float64, at least 2-D and C-contiguous: element-wise results keep their input's
    memory layout, and matrix products on oddly strided stacks miss the BLAS path."""
    arr = np.ascontiguousarray(x, dtype=np.float64)
    if arr.ndim < 2:
        arr = arr.reshape(-1, 1)
    return arr


def _t(a: NDArray[Any]) -> NDArray[Any]:
    return np.swapaxes(a, -1, -2)


def _shifted(x: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Values minus their column mean (0 where missing) and the 0/1 presence mask."""
    mask = ~np.isnan(x)
    fm = mask.astype(np.float64)
    n = fm.sum(axis=-2, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = np.where(mask, x, 0.0).sum(axis=-2, keepdims=True) / n
    centre = np.where(np.isfinite(centre), centre, 0.0)
    return np.where(mask, x - centre, 0.0), fm


def _pairwise_centred_sums(
    x: NDArray[np.float64], y: NDArray[np.float64] | None
) -> tuple[NDArray[np.float64], ...]:
    """Count and centred sums of squares/products over pairwise-complete observations.

    For each pair (column i of ``x``, column j of ``y``) with ``n_ij`` rows where both
    are present, returns ``n``, ``cxx = sum (x - xbar_ij)**2``, ``cyy`` and
    ``cxy = sum (x - xbar_ij)(y - ybar_ij)``, the means taken over those rows only. The
    sums come from six matrix products on data shifted by each column's own mean (so
    the one-pass formula suffers no cancellation); ``cxx`` and ``cyy`` below the
    rounding level of the shifted sums are set to exactly 0 (a constant column).
    """
    xs, fx = _shifted(x)
    if y is None:  # symmetric: four products instead of six
        n = _t(fx) @ fx
        sx = _t(xs) @ fx
        sy = _t(sx)
        sxx = _t(xs * xs) @ fx
        syy = _t(sxx)
        sxy = _t(xs) @ xs
    else:
        ys, fy = _shifted(y)
        n = _t(fx) @ fy
        sx = _t(xs) @ fy
        sy = _t(fx) @ ys
        sxx = _t(xs * xs) @ fy
        syy = _t(fx) @ (ys * ys)
        sxy = _t(xs) @ ys
    with np.errstate(invalid="ignore", divide="ignore"):
        cxx = sxx - sx * sx / n
        cyy = syy - sy * sy / n
        cxy = sxy - sx * sy / n
    tol = 64.0 * _EPS
    cxx = np.where(cxx <= tol * sxx, 0.0, cxx)
    cyy = np.where(cyy <= tol * syy, 0.0, cyy)
    return n, cxx, cyy, cxy


def pairwise_cov(
    x: ArrayLike, y: ArrayLike | None = None, *, ddof: int = 1
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Covariance matrix over pairwise-complete observations (R's
    ``cov(use = "pairwise.complete.obs")``).

    Parameters
    ----------
    x : array_like, shape (..., n, p)
        Observations on axis -2, variables on axis -1; NaN = missing.
    y : array_like, shape (..., n, q), optional
        Second set of variables (default: ``x``).
    ddof : int, default 1
        The divisor is ``n_ij - ddof``.

    Returns
    -------
    cov : numpy.ndarray, shape (..., p, q)
        NaN where fewer than ``ddof + 1`` observations are shared.
    n : numpy.ndarray, shape (..., p, q)
        Number of pairwise-complete observations.

    Examples
    --------
    >>> x = np.array([[1.0, 2.0], [2.0, np.nan], [3.0, 5.0], [5.0, 4.0]])
    >>> c, n = pairwise_cov(x)
    >>> np.round(c, 6).tolist(), n.tolist()
    ([[2.916667, 2.0], [2.0, 2.333333]], [[4.0, 3.0], [3.0, 3.0]])
    """
    xa = _as_obs_var(x)
    ya = None if y is None else _as_obs_var(y)
    n, cxx, _, cxy = _pairwise_centred_sums(xa, ya)
    if ya is None:  # the diagonal is each column's own variance
        diag = np.einsum("...ii->...i", cxy)
        diag[...] = np.einsum("...ii->...i", cxx)
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = np.where(n - ddof > 0, cxy / (n - ddof), np.nan)
    return cov, n


def pairwise_pearson(
    x: ArrayLike, y: ArrayLike | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Pearson correlations over pairwise-complete observations (R's
    ``cor(use = "pairwise.complete.obs")``), vectorised over leading dims.

    Each pair uses the rows where both variables are present, with means over those
    rows. A variable constant on those rows, or fewer than 2 shared rows, gives NaN (R:
    ``NA`` with a warning). Values are clipped to [-1, 1]; with ``y=None`` the diagonal
    is exactly 1 for non-constant columns.

    Parameters
    ----------
    x : array_like, shape (..., n, p)
        Observations on axis -2, variables on axis -1; NaN = missing.
    y : array_like, shape (..., n, q), optional
        Second set of variables (default: ``x``).

    Returns
    -------
    r : numpy.ndarray, shape (..., p, q)
    n : numpy.ndarray, shape (..., p, q)
        Number of pairwise-complete observations.

    Examples
    --------
    >>> x = np.array([[1.0, 2.0], [2.0, np.nan], [3.0, 5.0], [5.0, 4.0]])
    >>> r, n = pairwise_pearson(x)
    >>> round(float(r[0, 1]), 6), float(n[0, 1])
    (0.654654, 3.0)
    """
    xa = _as_obs_var(x)
    ya = None if y is None else _as_obs_var(y)
    n, cxx, cyy, cxy = _pairwise_centred_sums(xa, ya)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = cxy / (np.sqrt(cxx) * np.sqrt(cyy))
    r = np.where((n >= 2) & (cxx > 0) & (cyy > 0), np.clip(r, -1.0, 1.0), np.nan)
    if ya is None:
        d = np.einsum("...ii->...i", r)
        d[...] = np.where(np.isnan(d), np.nan, 1.0)
    return r, n


def _paired_pearson(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """Pearson correlation of column k of ``a`` with column k of ``b`` (same NaN pattern),
    two-pass over the non-missing rows (axis -2)."""
    mask = ~np.isnan(a)
    n = mask.sum(axis=-2, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        da = np.where(mask, a - np.where(mask, a, 0.0).sum(axis=-2, keepdims=True) / n, 0.0)
        db = np.where(mask, b - np.where(mask, b, 0.0).sum(axis=-2, keepdims=True) / n, 0.0)
        saa = (da * da).sum(axis=-2)
        sbb = (db * db).sum(axis=-2)
        r = (da * db).sum(axis=-2) / (np.sqrt(saa) * np.sqrt(sbb))
    return np.where((n[..., 0, :] >= 2) & (saa > 0) & (sbb > 0), np.clip(r, -1.0, 1.0), np.nan)


def pairwise_spearman(
    x: ArrayLike, y: ArrayLike | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Spearman correlations over pairwise-complete observations, as R computes them.

    For each pair the shared rows are ranked afresh (ties averaged) and the Pearson
    correlation of those ranks is taken — R's ``cor(method = "spearman", use =
    "pairwise.complete.obs")``. Without missing data the columns are ranked once.

    Parameters
    ----------
    x : array_like, shape (..., n, p)
    y : array_like, shape (..., n, q), optional

    Returns
    -------
    r, n : numpy.ndarray, shape (..., p, q)
        Correlations and numbers of pairwise-complete observations.

    Examples
    --------
    >>> x = np.array([[1.0, 10.0], [2.0, 30.0], [3.0, 20.0], [4.0, np.nan]])
    >>> r, n = pairwise_spearman(x)
    >>> round(float(r[0, 1]), 12), float(n[0, 1])
    (0.5, 3.0)
    """
    xa = _as_obs_var(x)
    ya = xa if y is None else _as_obs_var(y)
    mx, my = ~np.isnan(xa), ~np.isnan(ya)
    n = _t(mx.astype(np.float64)) @ my.astype(np.float64)
    if mx.all() and my.all():
        rx = rank_average(xa, axis=-2)
        r, _ = pairwise_pearson(rx, None if y is None else rank_average(ya, axis=-2))
        return r, n
    q = ya.shape[-1]
    out = np.empty((*np.broadcast_shapes(xa.shape[:-2], ya.shape[:-2]), xa.shape[-1], q))
    for j in range(q):
        present = my[..., :, j : j + 1]
        # the x columns ranked among the rows where y_j is present, and y_j ranked among
        # the rows where each x column is present: the two sides of every pair (., j)
        rx = rank_average(np.where(present, xa, np.nan), axis=-2)
        ry = rank_average(np.where(mx & present, ya[..., :, j : j + 1], np.nan), axis=-2)
        out[..., :, j] = _paired_pearson(rx, ry)
    if y is None:
        d = np.einsum("...ii->...i", out)
        d[...] = np.where(np.isnan(d), np.nan, 1.0)
    return out, n


#: Elements of the sign arrays held at once by :func:`pairwise_kendall`.
KENDALL_BLOCK = 1 << 22


def pairwise_kendall(
    x: ArrayLike, y: ArrayLike | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Kendall's tau-b over pairwise-complete observations (R's ``cor(method =
    "kendall", use = "pairwise.complete.obs")``).

    With ``s_x(u, v) = sign(x_u - x_v)`` over the pairs of shared rows,
    ``tau_b = sum s_x s_y / sqrt(sum s_x**2 * sum s_y**2)``. The sums are matrix products
    over blocks of row pairs (``O(n**2 p q)`` work, exact integer arithmetic).

    Parameters
    ----------
    x : array_like, shape (..., n, p)
    y : array_like, shape (..., n, q), optional

    Returns
    -------
    r, n : numpy.ndarray, shape (..., p, q)
        Correlations (NaN for a variable constant on the shared rows) and numbers of
        pairwise-complete observations.

    Examples
    --------
    >>> x = np.array([[1.0, 1.0], [2.0, 3.0], [3.0, 2.0], [4.0, 4.0]])
    >>> r, _ = pairwise_kendall(x)
    >>> round(float(r[0, 1]), 6)
    0.666667
    """
    xa = _as_obs_var(x)
    same = y is None
    ya = xa if y is None else _as_obs_var(y)
    lead = np.broadcast_shapes(xa.shape[:-2], ya.shape[:-2])
    xa = np.broadcast_to(xa, (*lead, *xa.shape[-2:]))
    ya = np.broadcast_to(ya, (*lead, *ya.shape[-2:]))
    mx, my = ~np.isnan(xa), ~np.isnan(ya)
    fx, fy = mx.astype(np.float64), my.astype(np.float64)
    n = _t(fx) @ fy
    nobs, p, q = xa.shape[-2], xa.shape[-1], ya.shape[-1]
    num = np.zeros((*lead, p, q))
    dx = np.zeros((*lead, p, q))
    dy = np.zeros((*lead, p, q))
    step = max(1, KENDALL_BLOCK // max(1, nobs * (p + q) * max(1, int(np.prod(lead)))))
    with np.errstate(invalid="ignore"):
        for a in range(0, nobs, step):
            b = min(nobs, a + step)
            sx = np.nan_to_num(np.sign(xa[..., a:b, None, :] - xa[..., None, :, :]), nan=0.0)
            qx = fx[..., a:b, None, :] * fx[..., None, :, :]
            sx = sx.reshape(*lead, -1, p)
            qx = qx.reshape(*lead, -1, p)
            if same:
                sy, qy = sx, qx
            else:
                sy = np.nan_to_num(np.sign(ya[..., a:b, None, :] - ya[..., None, :, :]), nan=0.0)
                qy = fy[..., a:b, None, :] * fy[..., None, :, :]
                sy = sy.reshape(*lead, -1, q)
                qy = qy.reshape(*lead, -1, q)
            num += _t(sx) @ sy
            dx += _t(sx * sx) @ qy
            dy += _t(qx) @ (sy * sy)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = num / (np.sqrt(dx) * np.sqrt(dy))
    r = np.where((dx > 0) & (dy > 0), np.clip(r, -1.0, 1.0), np.nan)
    return r, n


def correlation_pvalues(r: ArrayLike, n: ArrayLike, method: str = "pearson") -> NDArray[np.float64]:
    """Two-sided p-values of correlations by the t test with ``n - 2`` degrees of freedom.

    ``t = r * sqrt((n - 2) / (1 - r**2))`` and ``p = 2 * P(T_{n-2} > |t|)``: R's
    ``cor.test`` for Pearson, and its large-sample (or tied-data) test for Spearman. NaN
    where ``n < 3`` or ``r`` is NaN; 0 for ``|r| = 1``.

    Examples
    --------
    >>> round(float(correlation_pvalues(0.5, 20)), 6)
    0.02477
    """
    from scipy.special import stdtr

    if method not in ("pearson", "spearman"):
        raise ValueError(
            f"correlation_pvalues: method must be 'pearson' or 'spearman'; got {method!r}"
        )
    ra = np.asarray(r, dtype=np.float64)
    na = np.asarray(n, dtype=np.float64)
    df = na - 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.abs(ra) * np.sqrt(df / ((1.0 - ra) * (1.0 + ra)))
        p = 2.0 * stdtr(np.where(df > 0, df, 1.0), -t)
    p = np.where(np.abs(ra) >= 1.0, 0.0, p)
    return np.where((df > 0) & ~np.isnan(ra), p, np.nan)


def kendall_pvalues(x: ArrayLike, y: ArrayLike | None = None) -> NDArray[np.float64]:
    """Two-sided p-values of Kendall's tau-b over pairwise-complete observations, as R's
    ``cor.test(method = "kendall")``.

    The exact permutation distribution when the pair has fewer than 50 observations and
    no ties, otherwise the normal approximation with the tie-corrected variance (both
    from :func:`scipy.stats.kendalltau`). One SciPy call per pair.

    Examples
    --------
    >>> x = np.array([[1.0, 2.0], [2.0, 1.0], [3.0, 4.0], [4.0, 3.0], [5.0, 6.0]])
    >>> round(float(kendall_pvalues(x)[0, 1]), 6)
    0.233333
    """
    import scipy.stats

    xa = _as_obs_var(x)
    same = y is None
    ya = xa if y is None else _as_obs_var(y)
    lead = np.broadcast_shapes(xa.shape[:-2], ya.shape[:-2])
    xa = np.broadcast_to(xa, (*lead, *xa.shape[-2:]))
    ya = np.broadcast_to(ya, (*lead, *ya.shape[-2:]))
    p, q = xa.shape[-1], ya.shape[-1]
    out = np.full((*lead, p, q), np.nan)
    for idx in np.ndindex(*lead):
        xs, ys = xa[idx], ya[idx]
        for i in range(p):
            for j in range(q):
                if same and j < i:
                    out[(*idx, i, j)] = out[(*idx, j, i)]
                    continue
                ok = ~np.isnan(xs[:, i]) & ~np.isnan(ys[:, j])
                a, b = xs[ok, i], ys[ok, j]
                m = a.size
                if m < 2:
                    continue
                if same and i == j:
                    out[(*idx, i, j)] = 0.0 if np.unique(a).size > 1 else np.nan
                    continue
                ties = min(np.unique(a).size, np.unique(b).size) < m
                method = "exact" if (m < 50 and not ties) else "asymptotic"
                with np.errstate(invalid="ignore", divide="ignore"):
                    res = scipy.stats.kendalltau(a, b, method=method)
                out[(*idx, i, j)] = float(res.pvalue)
    return out


def cronbach_alpha_cov(cov: ArrayLike) -> NDArray[np.float64]:
    """Cronbach's alpha from covariance matrices (over the last two axes), as COINr.

    With ``k`` variables, ``S`` the sum of all (non-missing) covariances and ``D`` that
    of the variances, ``alpha = k**2 * ((S - D) / (k (k - 1))) / S
    = k / (k - 1) * (1 - D / S)``. NaN for ``k < 2``.

    Examples
    --------
    >>> float(cronbach_alpha_cov(np.array([[1.0, 0.5], [0.5, 1.0]])))
    0.6666666666666666
    """
    c = np.asarray(cov, dtype=np.float64)
    k = c.shape[-1]
    total = np.nansum(c, axis=(-2, -1))
    diag = np.nansum(np.einsum("...ii->...i", c), axis=-1)
    if k < 2:
        return np.full(total.shape, np.nan)[()]
    with np.errstate(invalid="ignore", divide="ignore"):
        sigav = (total - diag) / (k * (k - 1))
        out = (k * k * sigav) / total
    return np.asarray(out)[()]
