"""Imputation kernels: fill missing cells (NaN) of indicator arrays.

Pure NumPy. Every kernel returns a new float array of the same shape as its input; the
input is never modified. NaN means missing, and a slice with nothing observed is left
missing silently (no ``RuntimeWarning``).

Cross-sectional methods (COINr's ``Impute()``):

* :func:`fill_stat` -- column mean / median over the units (``i_mean``, ``i_median``).
* :func:`fill_group` -- the same statistic within groups of units (``i_mean_grp``,
  ``i_median_grp``).
* :func:`fill_row` -- COINr's ``impute_by = "row"`` (normalise first): a missing cell
  takes the unit's mean over the min-max normalised indicators of the same block
  (e.g. pillar), mapped back to the indicator's scale.
* :func:`fill_em` / :func:`em_mvn` -- EM under a multivariate normal model (no COINr
  equivalent).

Panel methods (COINr's ``impute_panel()``): :func:`fill_time` with ``"latest"``,
``"constant"``, ``"linear"`` and ``"linear_constant"``, plus
:func:`single_observation_series` to locate the series ``"linear"`` refuses.

Registered methods
------------------
Step ``"impute"``: every method is called as ``f(x, *, axis=-1, **params)`` where
``axis`` is the **unit** axis; methods that also need an indicator axis take
``indicator_axis`` (default ``-2``).

======================  ====================================================
``"mean"``              :func:`fill_stat` with ``stat="mean"``
``"median"``            :func:`fill_stat` with ``stat="median"``
``"group_mean"``        :func:`fill_group` with ``stat="mean"``; ``groups=``
``"group_median"``      :func:`fill_group` with ``stat="median"``; ``groups=``
``"row_mean"``          :func:`fill_row`; ``directions=``, ``blocks=``
``"em"``                :func:`fill_em`; ``max_iter=``, ``tol=``
======================  ====================================================

Step ``"impute_panel"``: called as ``f(x, *, axis=-1, **params)`` where ``axis`` is the
**time** axis: ``"latest"`` (``max_time=``), ``"constant"``, ``"linear"`` and
``"linear_constant"`` (``times=``), all :func:`fill_time`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from brics_ecom.errors import DataError, InvalidParameterError
from brics_ecom.registry import register

from .stats import _vecdot

__all__ = [
    "EMResult",
    "em_mvn",
    "fill_em",
    "fill_group",
    "fill_row",
    "fill_stat",
    "fill_time",
    "single_observation_series",
]

FloatArray = NDArray[np.float64]
Stat = Literal["mean", "median"]
TimeMethod = Literal["latest", "constant", "linear", "linear_constant"]

_STATS = ("mean", "median")
_TIME_METHODS = ("latest", "constant", "linear", "linear_constant")

#: Eigenvalues of an observed-block covariance below this fraction of the largest one are
#: treated as zero (pseudo-inverse) in the EM E-step.
_EM_EIG_RTOL = 1e-10


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------


def _as_float(x: ArrayLike, func: str) -> FloatArray:
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            f"The 'x' argument of {func} must be numeric (NaN for missing); "
            f"could not convert it to float: {exc}."
        ) from exc
    return a


def _norm_axis(axis: Any, ndim: int, name: str, func: str) -> int:
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
        raise InvalidParameterError(
            f"The {name!r} parameter of {func} must be an integer axis; got {axis!r}."
        )
    ax = int(axis)
    if not -ndim <= ax < ndim:
        raise InvalidParameterError(
            f"The {name!r} parameter of {func} is {ax}, out of range for an array with "
            f"{ndim} dimension(s)."
        )
    return ax % ndim


def _norm_axes(axis: int | Sequence[int], ndim: int, func: str) -> tuple[int, ...]:
    items = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    axes = tuple(_norm_axis(a, ndim, "axis", func) for a in items)
    if len(set(axes)) != len(axes) or not axes:
        raise InvalidParameterError(
            f"The 'axis' parameter of {func} must name distinct axes; got {axis!r}."
        )
    return axes


def _check_stat(stat: str, func: str) -> None:
    if stat not in _STATS:
        raise InvalidParameterError(
            f"The 'stat' parameter of {func} must be one of {list(_STATS)}; got {stat!r}."
        )


def _nanstat_last(a: FloatArray, stat: str) -> FloatArray:
    """Mean or median over the last axis, skipping NaN, keepdims; NaN if nothing observed.

    The median of an even count is ``(a + b) / 2`` of the two middle values, as R does.
    """
    obs = ~np.isnan(a)
    n = obs.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        if stat == "mean":
            return np.where(obs, a, 0.0).sum(axis=-1, keepdims=True) / n
        if a.shape[-1] == 0:
            return np.full((*a.shape[:-1], 1), np.nan)
        srt = np.sort(a, axis=-1)  # NaN sorts last
        lo = np.take_along_axis(srt, np.maximum((n - 1) // 2, 0), axis=-1)
        hi = np.take_along_axis(srt, np.maximum(n // 2, 0), axis=-1)
        med = np.where(n % 2 == 1, lo, (lo + hi) / 2)
        return np.where(n > 0, med, np.nan)


def _fmin(a: FloatArray) -> FloatArray:
    if a.shape[-1] == 0:
        return np.full((*a.shape[:-1], 1), np.nan)
    return np.fmin.reduce(a, axis=-1, keepdims=True)


def _fmax(a: FloatArray) -> FloatArray:
    if a.shape[-1] == 0:
        return np.full((*a.shape[:-1], 1), np.nan)
    return np.fmax.reduce(a, axis=-1, keepdims=True)


def _int_labels(labels: ArrayLike, length: int, name: str, func: str) -> NDArray[np.intp]:
    arr = np.asarray(labels)
    if arr.ndim != 1 or arr.shape[0] != length:
        raise InvalidParameterError(
            f"The {name!r} parameter of {func} must be a 1-D array of length {length} "
            f"(one entry per position along the axis); got shape {arr.shape}."
        )
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise InvalidParameterError(
            f"The {name!r} parameter of {func} must hold integer codes; got dtype "
            f"{arr.dtype}. Encode labels first, e.g. with numpy.unique(..., return_inverse=True)."
        )
    return arr.astype(np.intp, copy=False)


# --------------------------------------------------------------------------------------
# column statistic
# --------------------------------------------------------------------------------------


def fill_stat(x: ArrayLike, stat: Stat = "mean", *, axis: int | Sequence[int] = -1) -> FloatArray:
    """Fill missing cells with the column mean or median over the observed units.

    COINr's ``i_mean`` / ``i_median``. The statistic is taken along ``axis`` (the unit
    axis; a tuple pools several axes) over the non-NaN values; a slice with nothing
    observed stays NaN.

    Parameters
    ----------
    x : array_like
        Data, NaN for missing.
    stat : {"mean", "median"}, default "mean"
        Statistic. The median of an even number of values is the mean of the two middle
        ones.
    axis : int or tuple of int, default -1
        Unit axis (or axes) to take the statistic over.

    Returns
    -------
    numpy.ndarray
        Float array of the shape of ``x``.

    Examples
    --------
    >>> fill_stat([[1.0, float("nan"), 3.0], [2.0, 4.0, float("nan")]])
    array([[1., 2., 3.],
           [2., 4., 3.]])
    >>> fill_stat([1.0, float("nan"), 2.0, 10.0], "median")
    array([ 1.,  2.,  2., 10.])
    """
    _check_stat(stat, "fill_stat")
    a = _as_float(x, "fill_stat")
    axes = _norm_axes(axis, a.ndim, "fill_stat")
    k = len(axes)
    dest = tuple(range(a.ndim - k, a.ndim))
    moved = np.moveaxis(a, axes, dest)
    flat = moved.reshape((*moved.shape[: a.ndim - k], math.prod(moved.shape[a.ndim - k :])))
    s = _nanstat_last(flat, stat)
    out = np.where(np.isnan(flat), s, flat)
    return np.moveaxis(out.reshape(moved.shape), dest, axes)


# --------------------------------------------------------------------------------------
# group statistic
# --------------------------------------------------------------------------------------


def fill_group(
    x: ArrayLike,
    groups: ArrayLike,
    stat: Stat = "mean",
    *,
    axis: int = -1,
    overwrite_x: bool = False,
) -> FloatArray:
    """Fill missing cells with the mean or median of the unit's group.

    COINr's ``i_mean_grp`` / ``i_median_grp``. The statistic is computed within each
    group, over the observed units of that group along ``axis``.

    Parameters
    ----------
    x : array_like
        Data, NaN for missing.
    groups : array_like of int
        Group code of each unit: 1-D, of length ``x.shape[axis]``. A negative code
        (e.g. ``-1``) marks a unit with no group label: it is left alone and does not
        count in any group's statistic.
    stat : {"mean", "median"}, default "mean"
        Statistic.
    axis : int, default -1
        Unit axis.
    overwrite_x : bool, default False
        Fill the gaps of ``x`` itself (a C-contiguous float64 array with ``axis`` last)
        instead of a copy, saving one array; otherwise ``x`` is not modified.

    Returns
    -------
    numpy.ndarray
        Float array of the shape of ``x``. A group with nothing observed stays NaN.

    Examples
    --------
    >>> nan = float("nan")
    >>> fill_group([1.0, nan, 3.0, 10.0, nan, nan], [0, 0, 0, 1, 1, -1])
    array([ 1.,  2.,  3., 10., 10., nan])
    """
    _check_stat(stat, "fill_group")
    a = _as_float(x, "fill_group")
    ax = _norm_axis(axis, a.ndim, "axis", "fill_group")
    moved = np.moveaxis(a, ax, -1)
    codes = _int_labels(groups, moved.shape[-1], "groups", "fill_group")
    in_place = overwrite_x and moved.flags.c_contiguous and moved.dtype == np.float64
    if stat == "mean":
        return np.moveaxis(_fill_group_mean(moved, codes, in_place), -1, ax)
    groups = np.unique(codes[codes >= 0])
    # the median: one statistic per group, then only the missing cells are written
    stats = np.full((*moved.shape[:-1], groups.size + 1), np.nan)  # last: no group
    for i, g in enumerate(groups):
        members = np.take(moved, np.flatnonzero(codes == g), axis=-1)
        stats[..., i : i + 1] = _nanstat_last(members, stat)
    which = np.where(codes >= 0, np.searchsorted(groups, codes), groups.size)
    # C order: flat positions below are (row, unit) pairs
    out = moved if in_place else moved.copy()
    gaps = np.flatnonzero(np.isnan(out))
    if gaps.size:
        row, unit = np.divmod(gaps, max(out.shape[-1], 1))
        out.reshape(-1)[gaps] = stats.reshape(-1, groups.size + 1)[row, which[unit]]
    return np.moveaxis(out, -1, ax)


#: Elements per block of rows in :func:`_fill_group_mean`: its temporaries stay small
#: (cache-sized, and reused by the allocator instead of fresh pages for every call).
_ROW_BLOCK = 1 << 18


def _fill_group_mean(moved: FloatArray, codes: NDArray[np.intp], in_place: bool) -> FloatArray:
    """:func:`fill_group`'s mean, units on the last axis of ``moved``.

    Block of rows by block of rows: the gaps are found and set to 0, each group's sum is
    taken (:func:`_group_sums`), the counts come from the (few) gaps, and the gaps are then
    written. Each row's statistics depend on that row alone, so any split of the other
    axes (dask chunks, blocks) gives the same bits.
    """
    out = moved if in_place else moved.copy()
    if out.size == 0:
        return out
    m = out.shape[-1]
    rows = out.reshape(-1, m)  # a view (out is C-contiguous)
    labels, group_of_unit = np.unique(codes, return_inverse=True)
    grouped = labels >= 0
    n_groups = int(np.count_nonzero(grouped))
    group_of_unit = group_of_unit - (labels.size - n_groups)  # -1 for units in no group
    membership = np.zeros((n_groups, m))
    in_group = group_of_unit >= 0
    membership[group_of_unit[in_group], np.flatnonzero(in_group)] = 1.0
    sizes = membership.sum(axis=1)
    # for many groups: the units gathered group after group, each group one segment
    order = np.flatnonzero(in_group)[np.argsort(group_of_unit[in_group], kind="stable")]
    starts = np.r_[0, np.cumsum(sizes)[:-1]].astype(np.intp)
    step = max(1, _ROW_BLOCK // max(m, 1))
    for first in range(0, rows.shape[0], step):
        block = rows[first : first + step]
        gaps = np.flatnonzero(np.isnan(block))
        if gaps.size == 0:
            continue
        row, col = np.divmod(gaps, m)
        flat = block.reshape(-1)
        flat[gaps] = 0.0
        group = group_of_unit[col]
        fill = group >= 0
        # gaps per (row, group), counted from the gaps rather than from a mask
        cell = row[fill] * n_groups + group[fill]
        n_missing = np.bincount(cell, minlength=block.shape[0] * n_groups)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            observed = sizes - n_missing.reshape(-1, n_groups)
            sums = _group_sums(block, membership, order, starts)  # (row, group)
            if not fill.all():
                flat[gaps[~fill]] = np.nan  # units in no group stay missing
            flat[gaps[fill]] = (sums / observed).reshape(-1)[cell]
    return out


def _sum_infinite_rows(sums: FloatArray, block: FloatArray, membership: FloatArray) -> None:
    """Redo, group by group, the sums of rows holding ±inf (``inf * 0`` makes the dot
    products of the other groups NaN)."""
    for r in np.flatnonzero(np.isnan(sums).any(axis=1)).tolist():
        sums[r] = [block[r, member > 0].sum() for member in membership]


#: Most groups summed by dot products in :func:`_group_sums` (each reads the whole row).
_DOT_GROUPS = 8


def _group_sums(
    block: FloatArray, membership: FloatArray, order: NDArray[np.intp], starts: NDArray[np.intp]
) -> FloatArray:
    """Each row's sum over each group's units, shape ``(row, group)``; ``block`` has no NaN.

    For a few groups, the dot product of the row with each group's 0/1 ``membership``
    vector (one BLAS call per row and group, reading the row where it is: no gathered
    copy; a matrix product instead could sum in an order that depends on the matrix
    sizes, and a row's result would depend on its block). For more groups, the units
    gathered in ``order`` (group after group) and summed segment by segment from
    ``starts`` (``numpy.add.reduceat``).
    """
    n_groups = membership.shape[0]
    if _vecdot is None or n_groups > _DOT_GROUPS:
        return np.asarray(np.add.reduceat(np.take(block, order, axis=-1), starts, axis=-1))
    sums = np.asarray(_vecdot(block[:, None, :], membership[None, :, :]))
    _sum_infinite_rows(sums, block, membership)
    return sums


# --------------------------------------------------------------------------------------
# row (unit) mean over normalised indicators
# --------------------------------------------------------------------------------------


def fill_row(
    x: ArrayLike,
    *,
    directions: ArrayLike,
    blocks: ArrayLike,
    indicator_axis: int = -2,
    unit_axis: int = -1,
) -> FloatArray:
    """Fill a missing cell from the unit's mean over normalised indicators of its block.

    COINr's ``Impute(impute_by = "row", normalise_first = TRUE)`` with ``i_mean``:

    1. multiply each indicator by its direction;
    2. min-max each indicator to [0, 1] with its min and max over **all** units;
    3. a missing cell takes the unit's mean over its available normalised values of the
       indicators in the same block (e.g. the same pillar);
    4. map back: ``(mean * (max - min) + min) * direction``.

    Observed values are returned exactly (not round-tripped). A unit with nothing
    observed in the block stays NaN. An indicator with a zero range normalises to NaN
    (so it adds nothing to the means) and its missing cells map back to its constant
    value, as in COINr.

    Parameters
    ----------
    x : array_like
        Data with an indicator axis and a unit axis (other axes are broadcast over).
    directions : array_like
        Direction (+1 or -1) of each indicator, 1-D of length ``x.shape[indicator_axis]``.
    blocks : array_like of int
        Block code of each indicator, 1-D of the same length: indicators sharing a code
        share the ancestor at the chosen level. All equal (e.g. zeros) pools every
        indicator.
    indicator_axis, unit_axis : int, default -2, -1
        The two axes; they must differ.

    Returns
    -------
    numpy.ndarray
        Float array of the shape of ``x``.

    Examples
    --------
    >>> nan = float("nan")
    >>> x = [[0.0, 10.0, 5.0], [10.0, 30.0, nan]]   # 2 indicators x 3 units
    >>> fill_row(x, directions=[1, 1], blocks=[0, 0])   # 5 is halfway -> 10 + 0.5 * 20
    array([[ 0., 10.,  5.],
           [10., 30., 20.]])
    """
    func = "fill_row"
    a = _as_float(x, func)
    if a.ndim < 2:
        raise InvalidParameterError(
            f"The 'x' argument of {func} needs an indicator axis and a unit axis; "
            f"got an array with {a.ndim} dimension(s)."
        )
    iax = _norm_axis(indicator_axis, a.ndim, "indicator_axis", func)
    uax = _norm_axis(unit_axis, a.ndim, "unit_axis", func)
    if iax == uax:
        raise InvalidParameterError(
            f"The 'indicator_axis' and 'unit_axis' parameters of {func} must differ; "
            f"both are {iax}."
        )
    moved = np.moveaxis(a, (iax, uax), (-2, -1))
    n_ind = moved.shape[-2]
    d = np.asarray(directions, dtype=np.float64)
    if d.shape != (n_ind,):
        raise InvalidParameterError(
            f"The 'directions' parameter of {func} must be 1-D of length {n_ind} "
            f"(one per indicator); got shape {d.shape}."
        )
    if not np.all((d == 1.0) | (d == -1.0)):
        raise InvalidParameterError(
            f"The 'directions' parameter of {func} must hold only 1 and -1; got "
            f"{sorted(set(d[(d != 1.0) & (d != -1.0)].tolist()))}."
        )
    codes = _int_labels(blocks, n_ind, "blocks", func)
    if n_ind == 0 or moved.shape[-1] == 0:
        return np.moveaxis(moved.copy(), (-2, -1), (iax, uax))
    _, block_idx = np.unique(codes, return_inverse=True)
    block_idx = block_idx.reshape(-1)
    one_hot = (block_idx[None, :] == np.arange(block_idx.max() + 1)[:, None]).astype(np.float64)

    dcol = d[:, None]
    xd = moved * dcol
    mn = _fmin(xd)
    mx = _fmax(xd)
    rng = mx - mn
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (xd - mn) / rng
        ok = ~np.isnan(z)
        # per block: sum and count of available normalised values of each unit
        sums = np.matmul(one_hot, np.where(ok, z, 0.0))
        counts = np.matmul(one_hot, ok.astype(np.float64))
        means = (sums / counts)[..., block_idx, :]
        back = (means * rng + mn) * dcol
    out = np.where(np.isnan(moved), back, moved)
    return np.moveaxis(out, (-2, -1), (iax, uax))


# --------------------------------------------------------------------------------------
# panel (time) imputation
# --------------------------------------------------------------------------------------


def single_observation_series(x: ArrayLike, axis: int = -1) -> NDArray[np.bool_]:
    """Flag the series with exactly one observation along ``axis``.

    ``fill_time(..., "linear")`` refuses such series; use this mask to name them.

    Parameters
    ----------
    x : array_like
        Panel data, NaN for missing.
    axis : int, default -1
        Time axis.

    Returns
    -------
    numpy.ndarray of bool
        Shape of ``x`` without ``axis``.

    Examples
    --------
    >>> nan = float("nan")
    >>> single_observation_series([[1.0, nan, nan], [1.0, 2.0, nan], [nan, nan, nan]])
    array([ True, False, False])
    """
    a = _as_float(x, "single_observation_series")
    ax = _norm_axis(axis, a.ndim, "axis", "single_observation_series")
    return np.asarray((~np.isnan(a)).sum(axis=ax) == 1)


def fill_time(
    x: ArrayLike,
    method: TimeMethod,
    *,
    axis: int = -1,
    max_time: int | None = None,
    times: ArrayLike | None = None,
) -> FloatArray:
    """Fill gaps of each series along the time axis (COINr's ``impute_panel``).

    Each 1-D slice along ``axis`` is one unit x indicator series, its time points in
    increasing order.

    * ``"latest"``: the nearest *earlier* observation (forward fill only). Leading gaps
      stay NaN. ``max_time`` limits the search to that many earlier time points
      (COINr counts time points present in the data, not calendar units).
    * ``"constant"``: R ``approx(method = "constant", f = 0, rule = 2)``: interior and
      trailing gaps take the previous observation, leading gaps take the **first**
      observation.
    * ``"linear"``: R ``approx(rule = 2)``: linear interpolation between the previous and
      next observations, ``y0 + (y1 - y0) * ((t - t0) / (t1 - t0))``, with **both ends
      held constant** (leading gaps take the first observation, trailing gaps the last).
      A series with exactly one observation raises :class:`~brics_ecom.errors.DataError`
      (see :func:`single_observation_series`).
    * ``"linear_constant"``: as ``"linear"``, but a one-observation series is filled with
      that observation.

    Series with nothing observed are left as they are. Observed values are never changed.

    Parameters
    ----------
    x : array_like
        Panel data, NaN for missing.
    method : {"latest", "constant", "linear", "linear_constant"}
        Imputation method.
    axis : int, default -1
        Time axis.
    max_time : int, optional
        Only with ``"latest"``: how many earlier time points to search (``None`` = all;
        0 fills nothing).
    times : array_like, optional
        Only with the linear methods: strictly increasing numeric coordinates of the time
        points (1-D, length ``x.shape[axis]``), for uneven spacing. Default: equally
        spaced.

    Returns
    -------
    numpy.ndarray
        Float array of the shape of ``x``.

    Raises
    ------
    DataError
        ``method="linear"`` and some series has exactly one observation.

    Examples
    --------
    >>> nan = float("nan")
    >>> s = [nan, 1.0, nan, 3.0, nan]
    >>> fill_time(s, "latest")
    array([nan,  1.,  1.,  3.,  3.])
    >>> fill_time(s, "constant")
    array([1., 1., 1., 3., 3.])
    >>> fill_time(s, "linear")
    array([1., 1., 2., 3., 3.])
    """
    func = "fill_time"
    if method not in _TIME_METHODS:
        raise InvalidParameterError(
            f"The 'method' parameter of {func} must be one of {list(_TIME_METHODS)}; "
            f"got {method!r}."
        )
    if max_time is not None:
        if method != "latest":
            raise InvalidParameterError(
                f"The 'max_time' parameter of {func} applies only to method='latest'; "
                f"got max_time={max_time!r} with method={method!r}. Drop max_time."
            )
        if isinstance(max_time, bool) or not isinstance(max_time, int | np.integer) or max_time < 0:
            raise InvalidParameterError(
                f"The 'max_time' parameter of {func} must be a non-negative integer "
                f"(a number of time points) or None; got {max_time!r}."
            )
    a = _as_float(x, func)
    ax = _norm_axis(axis, a.ndim, "axis", func)
    xs = np.moveaxis(a, ax, -1)
    n_t = xs.shape[-1]

    tv: FloatArray | None = None
    if times is not None:
        if method not in ("linear", "linear_constant"):
            raise InvalidParameterError(
                f"The 'times' parameter of {func} applies only to the linear methods; "
                f"got it with method={method!r}. Drop times."
            )
        tv = _as_float(times, func)
        if tv.shape != (n_t,):
            raise InvalidParameterError(
                f"The 'times' parameter of {func} must be 1-D of length {n_t} (one per "
                f"time point); got shape {tv.shape}."
            )
        if not np.all(np.isfinite(tv)) or np.any(np.diff(tv) <= 0):
            raise InvalidParameterError(
                f"The 'times' parameter of {func} must be finite and strictly increasing; "
                f"got {tv.tolist()}."
            )

    if xs.size == 0:
        return np.moveaxis(xs.copy(), -1, ax)

    obs = ~np.isnan(xs)
    if method == "linear":
        single = obs.sum(axis=-1) == 1
        if single.any():
            raise DataError(
                f"{func}(method='linear') needs at least two observations per series, but "
                f"{int(single.sum())} series have exactly one. Use method='linear_constant' "
                "to hold them constant, or locate them with single_observation_series()."
            )

    idx = np.arange(n_t)
    prev = np.maximum.accumulate(np.where(obs, idx, -1), axis=-1)
    x_prev = np.take_along_axis(xs, np.maximum(prev, 0), axis=-1)
    has_prev = prev >= 0

    if method == "latest":
        ok = has_prev
        if max_time is not None:
            ok = ok & (idx - prev <= max_time)
        out = np.where(obs, xs, np.where(ok, x_prev, np.nan))
        return np.moveaxis(out, -1, ax)

    nxt = np.flip(
        np.minimum.accumulate(np.flip(np.where(obs, idx, n_t), axis=-1), axis=-1), axis=-1
    )
    has_next = nxt < n_t
    x_next = np.take_along_axis(xs, np.minimum(nxt, n_t - 1), axis=-1)

    if method == "constant":
        out = np.where(has_prev, x_prev, x_next)
    else:
        t = idx.astype(np.float64) if tv is None else tv
        t_prev = t[np.maximum(prev, 0)]
        t_next = t[np.minimum(nxt, n_t - 1)]
        with np.errstate(invalid="ignore", divide="ignore"):
            interp = x_prev + (x_next - x_prev) * ((t - t_prev) / (t_next - t_prev))
        inner = has_prev & has_next & ~obs
        out = np.where(inner, interp, np.where(has_prev, x_prev, x_next))
    out = np.where(obs, xs, out)
    return np.moveaxis(out, -1, ax)


# --------------------------------------------------------------------------------------
# EM under a multivariate normal
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EMResult:
    """Result of :func:`em_mvn`.

    Attributes
    ----------
    filled : numpy.ndarray
        The data (shape of the input) with each missing cell replaced by its conditional
        expectation given the unit's observed cells, at the final ``mean``/``cov``.
    mean : numpy.ndarray
        Estimated mean vector, shape ``lead + (n_indicators,)`` where ``lead`` is the
        input shape without the unit and indicator axes (in order).
    cov : numpy.ndarray
        Estimated covariance (ML, denominator n), shape ``lead + (p, p)``.
    n_iter : numpy.ndarray of int
        EM iterations performed, shape ``lead``.
    converged : numpy.ndarray of bool
        Whether the tolerance was met within ``max_iter``, shape ``lead``.
    """

    filled: FloatArray
    mean: FloatArray
    cov: FloatArray
    n_iter: NDArray[np.int64]
    converged: NDArray[np.bool_]


def _solve_right(s_oo: FloatArray, s_mo: FloatArray) -> FloatArray:
    """``s_mo @ inv(s_oo)`` via the eigendecomposition of the symmetric ``s_oo``.

    Eigenvalues not above ``_EM_EIG_RTOL`` times the largest are dropped, so a singular
    ``s_oo`` gets its Moore-Penrose pseudo-inverse; a regular one its inverse.
    """
    w, v = np.linalg.eigh(s_oo)
    wmax = w.max() if w.size else 0.0
    keep = w > _EM_EIG_RTOL * wmax if wmax > 0 else np.zeros(w.shape, dtype=bool)
    inv_w = np.zeros_like(w)
    inv_w[keep] = 1.0 / w[keep]
    return ((s_mo @ v) * inv_w) @ v.T


def _e_step(
    xa: FloatArray,
    patterns: list[tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.intp]]],
    mu: FloatArray,
    s: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Conditional expectations of missing cells and the summed conditional covariance."""
    xhat = xa.copy()
    csum = np.zeros_like(s)
    for rows, oi, mi in patterns:
        s_oo = s[np.ix_(oi, oi)]
        s_mo = s[np.ix_(mi, oi)]
        b = _solve_right(s_oo, s_mo)
        resid = xa[np.ix_(rows, oi)] - mu[oi]
        xhat[np.ix_(rows, mi)] = mu[mi] + resid @ b.T
        c = s[np.ix_(mi, mi)] - b @ s_mo.T
        csum[np.ix_(mi, mi)] += rows.size * c
    return xhat, csum


def _em_2d(
    x: FloatArray, max_iter: int, tol: float
) -> tuple[FloatArray, FloatArray, FloatArray, int, bool]:
    n_all, p_all = x.shape
    obs_all = ~np.isnan(x)
    cols = np.flatnonzero(obs_all.any(axis=0))
    rows_ok = np.flatnonzero(obs_all[:, cols].any(axis=1))
    mu_full = np.full(p_all, np.nan)
    cov_full = np.full((p_all, p_all), np.nan)
    filled = x.copy()
    if cols.size == 0:
        return filled, mu_full, cov_full, 0, True

    xa = x[np.ix_(rows_ok, cols)]
    obs = obs_all[np.ix_(rows_ok, cols)]
    n = xa.shape[0]
    uniq, inv = np.unique(obs, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    patterns = []
    for k, pat in enumerate(uniq):
        if pat.all():
            continue
        patterns.append((np.flatnonzero(inv == k), np.flatnonzero(pat), np.flatnonzero(~pat)))

    # start: observed means, diagonal covariance of observed (ML) variances
    cnt = obs.sum(axis=0)
    mu = np.where(obs, xa, 0.0).sum(axis=0) / cnt
    var = np.where(obs, (xa - mu) ** 2, 0.0).sum(axis=0) / cnt
    s = np.diag(var)

    converged = False
    n_iter = 0
    for it in range(1, max_iter + 1):
        n_iter = it
        xhat, csum = _e_step(xa, patterns, mu, s)
        mu_new = xhat.mean(axis=0)
        dev = xhat - mu_new
        s_new = (dev.T @ dev + csum) / n
        s_new = (s_new + s_new.T) / 2
        sd = np.sqrt(np.maximum(np.diag(s_new), 0.0))
        sd = np.where(sd > 0, sd, 1.0)
        d_mu = np.max(np.abs(mu_new - mu) / sd)
        d_s = np.max(np.abs(s_new - s) / np.outer(sd, sd))
        mu, s = mu_new, s_new
        if max(d_mu, d_s) <= tol:
            converged = True
            break

    xhat, _ = _e_step(xa, patterns, mu, s)
    filled[np.ix_(rows_ok, cols)] = xhat
    mu_full[cols] = mu
    cov_full[np.ix_(cols, cols)] = s
    # units with nothing observed take the mean
    empty = np.setdiff1d(np.arange(n_all), rows_ok)
    if empty.size:
        filled[np.ix_(empty, cols)] = mu
    return filled, mu_full, cov_full, n_iter, converged


def em_mvn(
    x: ArrayLike,
    *,
    unit_axis: int = -2,
    indicator_axis: int = -1,
    max_iter: int = 500,
    tol: float = 1e-8,
) -> EMResult:
    """EM estimate of a multivariate normal from incomplete data, and the imputed data.

    The units x indicators matrix (one per combination of the other axes, e.g. per year)
    is modelled as n independent draws from N(mu, Sigma). Starting from the observed
    means and a diagonal covariance of the observed variances, each iteration

    * E-step: for each missingness pattern (observed o, missing m), the missing cells get
      ``mu_m + Sigma_mo Sigma_oo^{-1} (x_o - mu_o)`` and the sufficient statistics add the
      conditional covariance ``Sigma_mm - Sigma_mo Sigma_oo^{-1} Sigma_om``;
    * M-step: ``mu`` = mean of the completed data, ``Sigma`` = (scatter of the completed
      data about ``mu`` + summed conditional covariances) / n (ML denominator).

    It stops when every change of ``mu`` and ``Sigma`` is at most ``tol``, measured in
    units of the current standard deviations (``|d mu_j| / s_j``,
    ``|d Sigma_jk| / (s_j s_k)``). The returned data are the conditional expectations
    at the returned ``mu`` and ``Sigma`` (a final E-step), so they satisfy the
    fixed-point equation exactly for those parameters.

    ``Sigma_oo`` is inverted through its eigendecomposition; eigenvalues not above
    1e-10 times the largest are treated as zero, i.e. a pseudo-inverse is used, which
    differs from the inverse only when ``Sigma_oo`` is singular or nearly so (e.g.
    collinear indicators). Units with nothing observed take ``mu`` and do not enter the
    estimation; indicators with nothing observed stay NaN (their ``mu`` and ``Sigma``
    entries are NaN).

    Parameters
    ----------
    x : array_like
        Data with a unit axis and an indicator axis, NaN for missing.
    unit_axis, indicator_axis : int, default -2, -1
        The two axes; they must differ. Other axes are looped over.
    max_iter : int, default 500
        Maximum number of EM iterations.
    tol : float, default 1e-8
        Convergence tolerance (see above).

    Returns
    -------
    EMResult
        ``filled``, ``mean``, ``cov``, ``n_iter``, ``converged``.

    Examples
    --------
    >>> nan = float("nan")
    >>> x = [[0.0, 1.0], [1.0, 3.0], [2.0, 5.0], [3.0, nan]]   # y = 2x + 1
    >>> r = em_mvn(x, tol=1e-12)
    >>> float(round(r.filled[3, 1], 8)), bool(r.converged)
    (7.0, True)
    """
    func = "em_mvn"
    a = _as_float(x, func)
    if a.ndim < 2:
        raise InvalidParameterError(
            f"The 'x' argument of {func} needs a unit axis and an indicator axis; got an "
            f"array with {a.ndim} dimension(s)."
        )
    uax = _norm_axis(unit_axis, a.ndim, "unit_axis", func)
    iax = _norm_axis(indicator_axis, a.ndim, "indicator_axis", func)
    if uax == iax:
        raise InvalidParameterError(
            f"The 'unit_axis' and 'indicator_axis' parameters of {func} must differ; both "
            f"are {uax}."
        )
    if isinstance(max_iter, bool) or not isinstance(max_iter, int | np.integer) or max_iter < 1:
        raise InvalidParameterError(
            f"The 'max_iter' parameter of {func} must be a positive integer; got {max_iter!r}."
        )
    if not (isinstance(tol, int | float | np.floating) and np.isfinite(tol) and tol >= 0):
        raise InvalidParameterError(
            f"The 'tol' parameter of {func} must be a finite number >= 0; got {tol!r}."
        )
    moved = np.moveaxis(a, (uax, iax), (-2, -1))
    lead = moved.shape[:-2]
    n, p = moved.shape[-2:]
    flat = moved.reshape((math.prod(lead), n, p))
    filled = np.empty_like(flat)
    mean = np.empty((flat.shape[0], p))
    cov = np.empty((flat.shape[0], p, p))
    n_iter = np.zeros(flat.shape[0], dtype=np.int64)
    conv = np.zeros(flat.shape[0], dtype=bool)
    for k in range(flat.shape[0]):
        filled[k], mean[k], cov[k], n_iter[k], conv[k] = _em_2d(flat[k], int(max_iter), float(tol))
    return EMResult(
        filled=np.moveaxis(filled.reshape(moved.shape), (-2, -1), (uax, iax)),
        mean=mean.reshape((*lead, p)),
        cov=cov.reshape((*lead, p, p)),
        n_iter=n_iter.reshape(lead),
        converged=conv.reshape(lead),
    )


def fill_em(
    x: ArrayLike,
    *,
    unit_axis: int = -2,
    indicator_axis: int = -1,
    max_iter: int = 500,
    tol: float = 1e-8,
) -> FloatArray:
    """Fill missing cells by EM under a multivariate normal; see :func:`em_mvn`.

    Returns only the filled data (``em_mvn(...).filled``); use :func:`em_mvn` for the
    estimated mean, covariance, iteration count and convergence flag. Not a COINr method.

    Examples
    --------
    >>> nan = float("nan")
    >>> fill_em([[0.0, 1.0], [1.0, 3.0], [2.0, 5.0], [3.0, nan]], tol=1e-12).round(8)
    array([[0., 1.],
           [1., 3.],
           [2., 5.],
           [3., 7.]])
    """
    return em_mvn(
        x, unit_axis=unit_axis, indicator_axis=indicator_axis, max_iter=max_iter, tol=tol
    ).filled


# --------------------------------------------------------------------------------------
# registry entries: f(x, *, axis=-1, **params); axis = unit axis ("impute") or time
# axis ("impute_panel")
# --------------------------------------------------------------------------------------


@register("impute", "mean")
def _impute_mean(x: ArrayLike, *, axis: int = -1) -> FloatArray:
    """Column mean over the unit ``axis``: :func:`fill_stat` with ``stat="mean"``."""
    return fill_stat(x, "mean", axis=axis)


@register("impute", "median")
def _impute_median(x: ArrayLike, *, axis: int = -1) -> FloatArray:
    """Column median over the unit ``axis``: :func:`fill_stat` with ``stat="median"``."""
    return fill_stat(x, "median", axis=axis)


@register("impute", "group_mean")
def _impute_mean_group(x: ArrayLike, *, groups: ArrayLike, axis: int = -1) -> FloatArray:
    """Group mean along the unit ``axis``: :func:`fill_group` with ``stat="mean"``."""
    return fill_group(x, groups, "mean", axis=axis)


@register("impute", "group_median")
def _impute_median_group(x: ArrayLike, *, groups: ArrayLike, axis: int = -1) -> FloatArray:
    """Group median along the unit ``axis``: :func:`fill_group` with ``stat="median"``."""
    return fill_group(x, groups, "median", axis=axis)


@register("impute", "row_mean")
def _impute_row_mean(
    x: ArrayLike,
    *,
    directions: ArrayLike,
    blocks: ArrayLike,
    axis: int = -1,
    indicator_axis: int = -2,
) -> FloatArray:
    """COINr's ``impute_by = "row"``: :func:`fill_row` with ``unit_axis=axis``."""
    return fill_row(
        x, directions=directions, blocks=blocks, indicator_axis=indicator_axis, unit_axis=axis
    )


@register("impute", "em")
def _impute_em(
    x: ArrayLike,
    *,
    axis: int = -1,
    indicator_axis: int = -2,
    max_iter: int = 500,
    tol: float = 1e-8,
) -> FloatArray:
    """EM under a multivariate normal: :func:`fill_em` with ``unit_axis=axis``."""
    return fill_em(x, unit_axis=axis, indicator_axis=indicator_axis, max_iter=max_iter, tol=tol)


@register("impute_panel", "latest")
def _panel_latest(x: ArrayLike, *, axis: int = -1, max_time: int | None = None) -> FloatArray:
    """Forward fill along the time ``axis``: :func:`fill_time` with ``"latest"``."""
    return fill_time(x, "latest", axis=axis, max_time=max_time)


@register("impute_panel", "constant")
def _panel_constant(x: ArrayLike, *, axis: int = -1) -> FloatArray:
    """Previous value, leading gaps the first: :func:`fill_time` with ``"constant"``."""
    return fill_time(x, "constant", axis=axis)


@register("impute_panel", "linear")
def _panel_linear(x: ArrayLike, *, axis: int = -1, times: ArrayLike | None = None) -> FloatArray:
    """Linear interpolation, ends held: :func:`fill_time` with ``"linear"``."""
    return fill_time(x, "linear", axis=axis, times=times)


@register("impute_panel", "linear_constant")
def _panel_linear_constant(
    x: ArrayLike, *, axis: int = -1, times: ArrayLike | None = None
) -> FloatArray:
    """As ``"linear"``, one-observation series held: :func:`fill_time`."""
    return fill_time(x, "linear_constant", axis=axis, times=times)
