"""NaN-aware moment statistics shared by the kernels (pure NumPy).

The estimators follow COINr 1.1.14 (which copies R's ``e1071`` "type 2" definitions):

* the mean is R's two-pass mean: ``m = sum(x) / n`` refined by ``m += sum(x - m) / n``;
* :func:`nanstd_sample` is the sample standard deviation (``ddof = 1`` by default);
* :func:`skew_type2` is the bias-adjusted skewness ``G1`` (NaN when ``n < 3``);
* :func:`kurt_type2` is the bias-adjusted **excess** kurtosis ``G2`` (NaN when ``n < 4``).

Every function reduces over ``axis`` (last by default; a tuple pools several axes), skips
NaN, broadcasts over the other (leading) dims and returns NaN, silently, for a slice with
too few non-missing values or with zero variance. Inputs are never modified.

The central power sums are computed with products (``d2 = d * d``, ``sum(d2 * d)``,
``sum(d2 * d2)``) and NumPy's pairwise sums, so a slice gives bit-for-bit the same
result whatever array it sits in (a row of a C-contiguous 2-D array, or alone), and the
treatment kernel's fast row-block path (:func:`_skew_kurt_rows`) agrees exactly with
:func:`skew_kurt_type2`.

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

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["kurt_type2", "nanmean_refined", "nanstd_sample", "skew_kurt_type2", "skew_type2"]

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


def _power_sums(
    d: NDArray[np.float64],
    axis: Axis,
    orders: tuple[int, ...],
    scratch: NDArray[np.float64] | None = None,
) -> list[NDArray[np.float64]]:
    """Sums of ``d ** k`` over ``axis`` (keepdims) for ``k`` in ``orders`` (2, 3 and/or 4).

    The powers are products, ``d2 = d * d``, ``d2 * d`` and ``d2 * d2`` (``np.power`` with
    a negative base is a slow scalar routine on some CPUs); they differ from ``d ** k`` in
    the last bits only. ``d`` (a fresh array) is overwritten, and so is ``scratch`` (an
    array shaped like ``d``, for ``d2``) if given. The sums are NumPy's (pairwise along a
    contiguous axis), so a row of a C-contiguous 2-D array gives bit-for-bit the result of
    the same row as a 1-D array, and every function of this module computes a given sum
    the same way.
    """
    sums: dict[int, NDArray[np.float64]] = {}
    with np.errstate(invalid="ignore", over="ignore", under="ignore"):
        d2 = np.multiply(d, d, out=scratch)
        sums[2] = d2.sum(axis=axis, keepdims=True)
        if 3 in orders:
            sums[3] = np.multiply(d2, d, out=d).sum(axis=axis, keepdims=True)
        if 4 in orders:
            sums[4] = np.multiply(d2, d2, out=d2).sum(axis=axis, keepdims=True)
    return [sums[k] for k in orders]


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


def _moments_block(
    z: NDArray[np.float64],
    miss: NDArray[np.intp],
    n: NDArray[np.float64],
    d: NDArray[np.float64],
    d2: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Type-2 skewness and kurtosis of the rows of a 2-D block (the fast path).

    ``z`` holds the values with 0 where missing and is not modified; ``miss`` are the flat
    indices of the missing positions; ``n`` is the count of the others (float, shape
    ``(rows, 1)``); ``d`` and ``d2`` are C-contiguous scratch arrays shaped like ``z``.
    The element-wise operations and the sums are those of :func:`_mean_scratch`,
    :func:`_masked_deviations` and :func:`_power_sums` (``z - mean`` equals ``x - mean``
    wherever a value is present, and the deviations are set to 0 elsewhere), so each row
    gets bit-for-bit :func:`skew_kurt_type2` of that row.
    """
    assert z.flags.c_contiguous and d.flags.c_contiguous  # (rows as in 1-D; flat is a view)
    flat = d.reshape(-1)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore", under="ignore"):
        mean = z.sum(axis=1, keepdims=True) / n
        np.subtract(z, mean, out=d)
        flat[miss] = 0.0  # (much faster than a masked copy when few are missing)
        corr = d.sum(axis=1, keepdims=True) / n
        mean = np.where(np.isfinite(mean), mean + corr, mean)
        np.subtract(z, mean, out=d)
        flat[miss] = 0.0
        s2, s3, s4 = _power_sums(d, 1, (2, 3, 4), scratch=d2)
    return _skew_from_sums(n, s2, s3)[:, 0], _kurt_from_sums(n, s2, s4)[:, 0]


def _missing(a: NDArray[np.float64]) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """Flat indices of the NaN of the 2-D ``a`` and each row's count of the others
    (float, shape ``(rows, 1)``)."""
    k, m = a.shape
    miss = np.flatnonzero(np.isnan(a))
    per_row = np.bincount(miss // max(m, 1), minlength=k)
    return miss, (m - per_row)[:, None].astype(np.float64)


#: Elements per block of rows in :func:`_skew_kurt_rows`: a block's scratch arrays stay in
#: the CPU cache instead of streaming a large array through memory a dozen times.
BLOCK_SIZE = 1 << 16


def _skew_kurt_rows(arr: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """:func:`skew_kurt_type2` of every row of a C-contiguous 2-D float64 ``arr``, fast.

    Bit-for-bit the same results (see :func:`_moments_block`), computed block of rows by
    block of rows in reused buffers. ``arr`` is not modified.
    """
    n_rows, m = arr.shape
    sk = np.empty(n_rows)
    ku = np.empty(n_rows)
    step = max(1, BLOCK_SIZE // max(m, 1))
    bufs = np.empty((3, min(step, n_rows), m))
    for start in range(0, n_rows, step):
        a = arr[start : start + step]
        z, d, d2 = bufs[:, : a.shape[0]]
        miss, n = _missing(a)
        np.copyto(z, a)
        z.reshape(-1)[miss] = 0.0
        sk[start : start + step], ku[start : start + step] = _moments_block(z, miss, n, d, d2)
    return sk, ku


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
