"""Outlier treatment kernel: COINr 1.1.14's default ``Treat()`` (pure NumPy).

The default treatment of one indicator (one 1-D series of units) is:

1. **Check.** Compute the type-2 skewness and excess kurtosis (:mod:`.stats`). The series
   *passes* when ``|skew| < skew_thresh`` **or** ``kurt < kurt_thresh``; it fails only when
   both limits are reached. R's three-valued logic is kept: ``NA | TRUE`` is TRUE,
   ``NA | FALSE`` is NA, and a NA pass (e.g. fewer than 3 values, or a constant series)
   returns the **untreated** series.
2. **Winsorise** (only if the check fails). While the series fails and ``nwin < winmax``:
   if the current skew is ``>= 0``, set *all* positions equal to the current maximum to
   the maximum of the other values, otherwise do the same at the minimum; then
   ``nwin = (size of the latest high block) + (size of the latest low block)`` and check
   again. Ties make ``nwin`` overshoot ``winmax`` (two tied maxima with ``winmax=1`` give
   ``nwin = 2``). The final blocks are flagged ``"winhi"`` / ``"winlo"``.
3. **Transform** (only if the series still fails). Apply the transform to the
   **original** values, or to the winsorised ones when ``combine=True``. The result is
   kept even if it still fails. Flags become ``"<f1 flag>+<f2 flag>"`` at every position,
   so winsorised points read ``"winhi+log_CT"`` *even when the winsorisation was
   discarded* (``combine=False``) and every other point reads ``"+log_CT"``.

A NA pass at any check, or a NA skew inside the winsorisation loop (e.g. a series whose
only non-zero value was just winsorised away), returns the untreated series with empty
flags and ``na_stop=True``: COINr warns and hands back the input in these cases (it
raises internally and catches the error); this kernel stays silent and lets the front
door warn.

Transforms are looked up in the ``"treat"`` registry (:func:`brics_ecom.registry.register`)
and take a 1-D float array (NaN = missing) and return ``(values, flag)``, where ``flag``
labels every position. Built in:

* ``"log_CT"`` (COINr's default): ``log(x - min + 0.01 * (max - min))``.
* ``"log_CT_plus"``: ``log_CT`` if the skew is strictly positive, otherwise
  ``-log(max + 0.01 * (max - min) - x)`` flagged ``"log_CT_neg"``.
* ``"boxcox"`` (**not** COINr's default, and not COINr's fixed-lambda ``boxcox()``):
  Box-Cox of ``x - min + 0.01 * (max - min)`` with lambda estimated by maximum likelihood
  through :func:`scipy.stats.boxcox`, over the non-missing values.

Examples
--------
>>> import numpy as np
>>> x = np.array([[1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 100], [1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]])
>>> res = treat_array(x)
>>> res.values[:, -1].tolist(), res.flags[:, -1].tolist()
([10.0, 11.0], ['winhi', ''])
>>> res.details["n_winsorised"].tolist()
[1.0, nan]
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import scipy.stats
from numpy.typing import ArrayLike, NDArray

from brics_ecom.errors import DataError, InvalidParameterError
from brics_ecom.registry import available, get_method, register

from .stats import (
    BLOCK_SIZE,
    _kurt_from_sums,
    _moments_rows,
    _skew_from_sums,
    _skew_kurt_rows,
    row_broadcasts,
    skew_kurt_type2,
    skew_type2,
)

__all__ = [
    "DETAIL_FIELDS",
    "ArrayTreatment",
    "SeriesTreatment",
    "boxcox_mle",
    "log_ct",
    "log_ct_plus",
    "treat_array",
    "treat_series",
]

TransformFunc = Callable[[NDArray[np.float64]], tuple[ArrayLike, str]]

#: Names of the per-series treatment details, in the order of :class:`SeriesTreatment`.
DETAIL_FIELDS: tuple[str, ...] = (
    "skew_before",
    "kurt_before",
    "pass_before",
    "n_winsorised",
    "skew_after_winsorise",
    "kurt_after_winsorise",
    "pass_after_winsorise",
    "transformed",
    "skew_after_transform",
    "kurt_after_transform",
    "pass_after_transform",
    "n_points_winhi",
    "n_points_winlo",
    "na_stop",
)

_FLOAT_FIELDS = frozenset(
    {
        "skew_before",
        "kurt_before",
        "skew_after_winsorise",
        "kurt_after_winsorise",
        "skew_after_transform",
        "kurt_after_transform",
        "n_winsorised",
    }
)
_LOGICAL_FIELDS = frozenset({"pass_before", "pass_after_winsorise", "pass_after_transform"})
_BOOL_FIELDS = frozenset({"transformed", "na_stop"})
_INT_FIELDS = frozenset({"n_points_winhi", "n_points_winlo"})


@dataclass(frozen=True, eq=False)
class SeriesTreatment:
    """Result of treating one series (see :func:`treat_series`).

    Attributes
    ----------
    values : numpy.ndarray
        Treated values, float64, same length as the input.
    flags : numpy.ndarray
        Per-point flags (object array of ``str``): ``""`` when untouched, else e.g.
        ``"winhi"``, ``"winlo"``, ``"winhi+log_CT"``, ``"+log_CT"``, ``"+log_CT_neg"``.
    skew_before, kurt_before : float
        Skewness and excess kurtosis of the input (NaN for R's NA).
    pass_before : bool or None
        First check; ``None`` is R's NA (the input is returned untreated).
    n_winsorised : int or None
        COINr's ``nwin``; ``None`` when winsorisation was not attempted.
    skew_after_winsorise, kurt_after_winsorise : float
        After winsorisation (NaN if not attempted).
    pass_after_winsorise : bool or None
        Check after winsorisation (``None`` if not attempted, or NA).
    transformed : bool
        Whether the transform was applied (COINr's ``log_transformed``).
    skew_after_transform, kurt_after_transform : float
        After the transform (NaN if not applied).
    pass_after_transform : bool or None
        Check after the transform (``None`` if not applied, or NA). A failing transform is
        kept.
    n_points_winhi, n_points_winlo : int
        Number of flags exactly equal to ``"winhi"`` / ``"winlo"`` (so points that were
        also transformed are not counted, as in COINr's summary).
    na_stop : bool
        A check returned NA (or the skew was NA during winsorisation): ``values`` is the
        untreated input and ``flags`` are empty, whatever the other fields say.
    """

    values: NDArray[np.float64]
    flags: NDArray[np.object_]
    skew_before: float
    kurt_before: float
    pass_before: bool | None
    n_winsorised: int | None
    skew_after_winsorise: float
    kurt_after_winsorise: float
    pass_after_winsorise: bool | None
    transformed: bool
    skew_after_transform: float
    kurt_after_transform: float
    pass_after_transform: bool | None
    n_points_winhi: int
    n_points_winlo: int
    na_stop: bool

    def details(self) -> dict[str, Any]:
        """The treatment details (every field but ``values`` and ``flags``) as a dict.

        Examples
        --------
        >>> treat_series([1.0, 2.0, 3.0]).details()["pass_before"]
        True
        """
        return {name: getattr(self, name) for name in DETAIL_FIELDS}


class ArrayTreatment(NamedTuple):
    """Result of :func:`treat_array`.

    Attributes
    ----------
    values : numpy.ndarray
        Treated values, float64, same shape as the input.
    flags : numpy.ndarray
        Per-point flags, object array of ``str``, same shape as the input.
    details : dict of str to numpy.ndarray
        One array per name in :data:`DETAIL_FIELDS`, each with the shape of the input
        without the treated axes. ``skew_*``/``kurt_*`` and ``n_winsorised`` are float64
        (NaN for NA); ``pass_*`` are object arrays of ``True``/``False``/``None`` (R's
        three-valued logical); ``transformed`` and ``na_stop`` are bool;
        ``n_points_winhi``/``n_points_winlo`` are int64.
    """

    values: NDArray[np.float64]
    flags: NDArray[np.object_]
    details: dict[str, NDArray[Any]]


# ---------------------------------------------------------------------------------------
# Transforms (f2)
# ---------------------------------------------------------------------------------------


def _nan_min_max(x: NDArray[np.float64]) -> tuple[float, float]:
    """Min and max over non-NaN values (NaN, NaN if there are none), without warnings."""
    valid = x[~np.isnan(x)]
    if valid.size == 0:
        return math.nan, math.nan
    return float(valid.min()), float(valid.max())


@register("treat", "log_CT")
def log_ct(x: NDArray[np.float64]) -> tuple[NDArray[np.float64], str]:
    """COINr's ``log_CT``: ``log(x - min + 0.01 * (max - min))``, NaN kept.

    Parameters
    ----------
    x : numpy.ndarray
        1-D float values, NaN = missing.

    Returns
    -------
    values : numpy.ndarray
        Transformed values.
    flag : str
        ``"log_CT"``.

    Examples
    --------
    >>> v, flag = log_ct(np.array([0.0, 1.0, np.nan]))
    >>> np.round(v, 4).tolist(), flag
    ([-4.6052, 0.01, nan], 'log_CT')
    """
    arr = np.asarray(x, dtype=np.float64)
    mn, mx = _nan_min_max(arr)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(arr - mn + 0.01 * (mx - mn)), "log_CT"


@register("treat", "log_CT_plus")
def log_ct_plus(x: NDArray[np.float64]) -> tuple[NDArray[np.float64], str]:
    """COINr's ``log_CT_plus``: ``log_CT`` for positive skew, a mirrored log otherwise.

    With ``a = 0.01 * (max - min)``: if the skew is strictly positive,
    ``log(x - min + a)`` flagged ``"log_CT"``; otherwise ``-log(max + a - x)`` flagged
    ``"log_CT_neg"``.

    Parameters
    ----------
    x : numpy.ndarray
        1-D float values, NaN = missing.

    Returns
    -------
    values : numpy.ndarray
        Transformed values.
    flag : str
        ``"log_CT"`` or ``"log_CT_neg"``.

    Raises
    ------
    DataError
        If the skewness is undefined (fewer than 3 values, or constant values); COINr
        errors here too.

    Examples
    --------
    >>> v, flag = log_ct_plus(np.array([0.0, 9.0, 10.0]))
    >>> np.round(v, 4).tolist(), flag
    ([-2.3125, -0.0953, 2.3026], 'log_CT_neg')
    """
    arr = np.asarray(x, dtype=np.float64)
    sk = float(skew_type2(arr))
    if math.isnan(sk):
        raise DataError(
            "log_CT_plus needs the skewness of the series, which is undefined here "
            "(fewer than 3 non-missing values, or all values equal); use another transform."
        )
    mn, mx = _nan_min_max(arr)
    a = 0.01 * (mx - mn)
    with np.errstate(divide="ignore", invalid="ignore"):
        if sk > 0:
            return np.log(arr - mn + a), "log_CT"
        return -np.log(mx + a - arr), "log_CT_neg"


@register("treat", "boxcox")
def boxcox_mle(x: NDArray[np.float64]) -> tuple[NDArray[np.float64], str]:
    """Box-Cox transform with maximum-likelihood lambda (brics_ecom's, not COINr's).

    The values are first shifted to be positive as in ``log_CT``:
    ``y = x - min + 0.01 * (max - min)``; then ``scipy.stats.boxcox(y)`` estimates lambda
    by maximum likelihood over the non-missing values and transforms them. NaN stays NaN.
    COINr's own ``boxcox()`` instead takes a fixed lambda and shifts by ``1 - min``.

    Parameters
    ----------
    x : numpy.ndarray
        1-D float values, NaN = missing.

    Returns
    -------
    values : numpy.ndarray
        Transformed values.
    flag : str
        ``"boxcox"``.

    Raises
    ------
    DataError
        If there are fewer than 2 distinct non-missing values.

    Examples
    --------
    >>> v, flag = boxcox_mle(np.array([1.0, 2.0, 4.0, 8.0, np.nan]))
    >>> flag, bool(np.isnan(v[-1]))
    ('boxcox', True)
    """
    arr = np.asarray(x, dtype=np.float64)
    mn, mx = _nan_min_max(arr)
    if not mx > mn:
        raise DataError(
            "The boxcox transform needs at least 2 distinct non-missing values; "
            f"got {int(np.count_nonzero(~np.isnan(arr)))} values with range {mx - mn}."
        )
    shifted = arr - mn + 0.01 * (mx - mn)
    valid = ~np.isnan(shifted)
    out = np.full_like(shifted, np.nan)
    out[valid] = scipy.stats.boxcox(shifted[valid])[0]
    return out, "boxcox"


# ---------------------------------------------------------------------------------------
# Core algorithm
# ---------------------------------------------------------------------------------------


def _skew_kurt(x: NDArray[np.float64]) -> tuple[float, float]:
    sk, ku = skew_kurt_type2(x)
    return float(sk), float(ku)


def _passes(sk: float, ku: float, skew_thresh: float, kurt_thresh: float) -> bool | None:
    """``(|sk| < skew_thresh) | (ku < kurt_thresh)`` in R's three-valued logic."""
    a = None if math.isnan(sk) else abs(sk) < skew_thresh
    b = None if math.isnan(ku) else ku < kurt_thresh
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return False


def _resolve_transform(transform: str | TransformFunc | None) -> TransformFunc | None:
    if transform is None:
        return None
    if isinstance(transform, str):
        names = available("treat")
        if transform not in names:
            raise InvalidParameterError(
                f"The 'transform' parameter of treat must be one of {names}, None or a "
                f"callable returning (values, flag); got {transform!r}."
            )
        func: TransformFunc = get_method("treat", transform)
        return func
    if callable(transform):
        return transform
    raise InvalidParameterError(
        "The 'transform' parameter of treat must be a registered name, None or a callable "
        f"returning (values, flag); got {type(transform).__name__}."
    )


def _check_options(
    winmax: int | None, skew_thresh: float, kurt_thresh: float, combine: bool
) -> tuple[int | None, float, float]:
    if winmax is not None and (
        isinstance(winmax, bool) or not isinstance(winmax, numbers.Integral) or winmax < 0
    ):
        raise InvalidParameterError(
            f"The 'winmax' parameter of treat must be a non-negative integer or None "
            f"(no limit); got {winmax!r}."
        )
    thresholds: list[float] = []
    for name, value in (("skew_thresh", skew_thresh), ("kurt_thresh", kurt_thresh)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
            raise InvalidParameterError(
                f"The '{name}' parameter of treat must be a real number; got {value!r}."
            )
        thresholds.append(float(value))
    if not isinstance(combine, bool | np.bool_):
        raise InvalidParameterError(
            f"The 'combine' parameter of treat must be True or False; got {combine!r}."
        )
    return (None if winmax is None else int(winmax)), thresholds[0], thresholds[1]


def _treat_1d(
    x: NDArray[np.float64],
    winmax: int | None,
    skew_thresh: float,
    kurt_thresh: float,
    transform: TransformFunc | None,
    combine: bool,
) -> SeriesTreatment:
    """The algorithm on a validated 1-D float64 array that it may not modify."""
    n = x.shape[0]
    nan = math.nan
    rec: dict[str, Any] = {
        "skew_after_winsorise": nan,
        "kurt_after_winsorise": nan,
        "pass_after_winsorise": None,
        "n_winsorised": None,
        "transformed": False,
        "skew_after_transform": nan,
        "kurt_after_transform": nan,
        "pass_after_transform": None,
        "na_stop": False,
    }

    def finish(values: NDArray[np.float64], flags: NDArray[np.object_]) -> SeriesTreatment:
        return SeriesTreatment(
            values=values,
            flags=flags,
            n_points_winhi=int(np.count_nonzero(flags == "winhi")),
            n_points_winlo=int(np.count_nonzero(flags == "winlo")),
            **rec,
        )

    def untreated(na_stop: bool) -> SeriesTreatment:
        rec["na_stop"] = na_stop
        return finish(x.copy(), np.full(n, "", dtype=object))

    # 1. first check
    sk, ku = _skew_kurt(x)
    passing = _passes(sk, ku, skew_thresh, kurt_thresh)
    rec.update(skew_before=sk, kurt_before=ku, pass_before=passing)
    if passing is None:
        return untreated(na_stop=True)
    if passing:
        return untreated(na_stop=False)

    # 2. winsorise while failing and below winmax
    w = x.copy()
    valid = ~np.isnan(w)
    hi = np.empty(0, dtype=np.intp)
    lo = np.empty(0, dtype=np.intp)
    nwin = 0
    while passing is False and (winmax is None or nwin < winmax):
        # `passing is False` implies a finite skew here, so the branch below is defined.
        if sk >= 0:
            block = valid & (w == w[valid].max())
            hi = np.flatnonzero(block)
            rest = valid & ~block
            w[hi] = w[rest].max() if rest.any() else -np.inf
        else:
            block = valid & (w == w[valid].min())
            lo = np.flatnonzero(block)
            rest = valid & ~block
            w[lo] = w[rest].min() if rest.any() else np.inf
        nwin = hi.size + lo.size
        sk, ku = _skew_kurt(w)
        passing = _passes(sk, ku, skew_thresh, kurt_thresh)
    rec.update(
        n_winsorised=nwin,
        skew_after_winsorise=sk,
        kurt_after_winsorise=ku,
        pass_after_winsorise=passing,
    )
    if passing is None:
        return untreated(na_stop=True)
    win_flags = np.full(n, "", dtype=object)
    win_flags[hi] = "winhi"
    win_flags[lo] = "winlo"
    if passing or transform is None:
        return finish(w, win_flags)

    # 3. transform the original (or, with combine, the winsorised) values
    base = w if combine else x.copy()
    out, tflag = transform(base)
    values = np.asarray(out, dtype=np.float64)
    if values.shape != x.shape:
        raise InvalidParameterError(
            f"The treat transform {getattr(transform, '__name__', transform)!r} returned "
            f"values of shape {values.shape}; expected {x.shape}."
        )
    tflag = str(tflag)
    sk, ku = _skew_kurt(values)
    passing = _passes(sk, ku, skew_thresh, kurt_thresh)
    rec.update(
        transformed=True,
        skew_after_transform=sk,
        kurt_after_transform=ku,
        pass_after_transform=passing,
    )
    if passing is None:
        return untreated(na_stop=True)
    if tflag:
        # COINr pastes "f1+f2" at every position (NaN included) when f2's flag is non-empty
        win_flags = np.array([f"{f}+{tflag}" for f in win_flags], dtype=object)
    return finish(values, win_flags)


def treat_series(
    x: ArrayLike,
    *,
    winmax: int | None = 5,
    skew_thresh: float = 2.0,
    kurt_thresh: float = 3.5,
    transform: str | TransformFunc | None = "log_CT",
    combine: bool = False,
) -> SeriesTreatment:
    """Treat one series for outliers exactly as COINr's default ``Treat()``.

    See the module docstring for the algorithm (skew/kurtosis check, iterative
    winsorisation, fallback transform) and its COINr quirks.

    Parameters
    ----------
    x : array_like
        1-D values of one indicator over units; NaN = missing. Not modified.
    winmax : int or None, default 5
        Maximum number of winsorised points (``nwin < winmax`` keeps the loop going);
        ``None`` means no limit.
    skew_thresh : float, default 2.0
        Absolute skewness threshold.
    kurt_thresh : float, default 3.5
        Excess kurtosis threshold.
    transform : str, callable or None, default "log_CT"
        Fallback applied when winsorisation does not bring the series within limits: a
        name registered under ``"treat"`` (``"log_CT"``, ``"log_CT_plus"``, ``"boxcox"``,
        or your own), a callable ``f(x) -> (values, flag)``, or ``None`` to winsorise only.
    combine : bool, default False
        Apply the transform to the winsorised values instead of the original ones
        (COINr's ``combine_treat``).

    Returns
    -------
    SeriesTreatment
        Treated values, per-point flags and the treatment details.

    Raises
    ------
    InvalidParameterError
        If ``x`` is not 1-D, an option is invalid, or the transform returns the wrong shape.

    Notes
    -----
    The transform is given a copy of the values. An error raised by the transform is not
    caught (COINr catches every error of one indicator's treatment and returns it
    untreated with a warning); the built-in transforms cannot fail here because they are
    only reached for a series whose skewness is defined and whose range is positive.

    Examples
    --------
    >>> x = np.array([1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 100])
    >>> res = treat_series(x)
    >>> res.pass_before, res.n_winsorised, res.pass_after_winsorise
    (False, 1, True)
    >>> float(res.values[-1]), res.flags[-1]
    (10.0, 'winhi')
    >>> res = treat_series(np.r_[np.arange(1.0, 21.0), 50.0, 100.0], winmax=1)
    >>> res.pass_after_winsorise, res.transformed, res.flags[-2:].tolist()
    (False, True, ['+log_CT', 'winhi+log_CT'])
    """
    arr = np.array(x, dtype=np.float64)  # a copy: the input is never touched
    if arr.ndim != 1:
        raise InvalidParameterError(
            f"treat_series expects a 1-D series; got an array of shape {arr.shape}. "
            "Use treat_array(x, axis=...) for several series."
        )
    wm, st, kt = _check_options(winmax, skew_thresh, kurt_thresh, combine)
    func = _resolve_transform(transform)
    return _treat_1d(arr, wm, st, kt, func, bool(combine))


def _normalise_axes(axis: int | tuple[int, ...], ndim: int) -> tuple[int, ...]:
    axes = axis if isinstance(axis, tuple) else (axis,)
    out: list[int] = []
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, numbers.Integral):
            raise InvalidParameterError(
                f"The 'axis' parameter of treat must be an int or a tuple of ints; got {axis!r}."
            )
        if not -ndim <= a < ndim:
            raise InvalidParameterError(
                f"The 'axis' parameter of treat is out of range for an array with {ndim} "
                f"dims; got {axis!r}."
            )
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise InvalidParameterError(f"The 'axis' parameter of treat repeats an axis; got {axis!r}.")
    return tuple(out)


def _empty_details(shape: tuple[int, ...]) -> dict[str, NDArray[Any]]:
    details: dict[str, NDArray[Any]] = {}
    for name in DETAIL_FIELDS:
        if name in _FLOAT_FIELDS:
            details[name] = np.full(shape, np.nan)
        elif name in _LOGICAL_FIELDS:
            details[name] = np.full(shape, None, dtype=object)
        elif name in _BOOL_FIELDS:
            details[name] = np.zeros(shape, dtype=bool)
        else:
            details[name] = np.zeros(shape, dtype=np.int64)
    return details


# ---------------------------------------------------------------------------------------
# Vectorised driver: the algorithm of _treat_1d on the rows of a 2-D array at once
# ---------------------------------------------------------------------------------------
#
# treat_array must give bit-for-bit the results of _treat_1d on every row (a test checks
# it). This holds because (1) the moments of a row of a C-contiguous 2-D array are those
# of the row alone (same element-wise operations, same NumPy pairwise sums: see
# stats._power_sums), so every decision (pass, direction of the next step) is the same;
# (2) the winsorisation step only moves values around (max/min, no arithmetic) and (3)
# the built-in log transforms are element-wise given the row's min, max and sign of the
# skewness, computed with the same IEEE operations as log_ct / log_ct_plus. (The sign of
# a zero replacement value, which a max/min over both 0.0 and -0.0 leaves to NumPy's
# order of work, is taken the per-series way: see _exact_zero_replacements.)

_NA, _FAIL, _PASS = -1, 0, 1
#: R's logical as Python objects, indexed by ``code + 1``.
_PASS_VALUES = np.array([None, False, True], dtype=object)
#: Elements per block of rows in the winsorisation loop (its steps make few passes, as
#: the moments are updated, not recomputed; the block's copies stay small).
_LOOP_BLOCK = 4 * BLOCK_SIZE


def _pass_codes(
    sk: NDArray[np.float64], ku: NDArray[np.float64], skew_thresh: float, kurt_thresh: float
) -> NDArray[np.int8]:
    """Vectorised :func:`_passes`: ``_PASS``, ``_FAIL`` or ``_NA`` per element."""
    with np.errstate(invalid="ignore"):
        either = (np.abs(sk) < skew_thresh) | (ku < kurt_thresh)  # False for NaN
    na = np.isnan(sk) | np.isnan(ku)
    return np.where(either, _PASS, np.where(na, _NA, _FAIL)).astype(np.int8)


def _exact_zero_replacements(
    repl: NDArray[np.float64],
    w: NDArray[np.float64],
    block: NDArray[np.bool_],
    up: NDArray[np.bool_],
) -> None:
    """Give a zero replacement value the sign of zero that :func:`_treat_1d` would pick.

    When the other values hold both 0.0 and -0.0, which one a max/min returns depends on
    how NumPy walks the array; for those (rare) rows take it exactly as _treat_1d does.
    """
    for r in np.flatnonzero(repl[:, 0] == 0).tolist():
        rest = w[r][~np.isnan(w[r]) & ~block[r]]
        repl[r, 0] = rest.max() if up[r] else rest.min()


def _extreme(w: NDArray[np.float64], up: NDArray[np.bool_], n_up: int) -> NDArray[np.float64]:
    """Per row of ``w``, the max (where ``up``) or the min of the non-NaN values (keepdims).

    NaN for a row without values.
    """
    if n_up == up.size:
        return np.fmax.reduce(w, axis=1, keepdims=True)
    if n_up == 0:
        return np.fmin.reduce(w, axis=1, keepdims=True)
    hi = np.fmax.reduce(w, axis=1, keepdims=True)
    return np.where(up[:, None], hi, np.fmin.reduce(w, axis=1, keepdims=True))


#: Unit roundoff allowance for the updated power sums: each holds a pairwise sum and a few
#: updates, so its error is below this times the sum of the magnitudes of its terms.
_ROUNDOFF = 64 * np.finfo(np.float64).eps
#: A decision is trusted when the value sits this many error bounds away from a threshold.
_MARGIN = 8.0


def _updated_moments(
    n: NDArray[np.float64], t: NDArray[np.float64], mag: NDArray[np.float64]
) -> tuple[NDArray[np.float64], ...]:
    """Skewness and kurtosis from the sums ``t[k-1] = sum (x - c)**k`` (k = 1..4) about a
    fixed centre ``c``, with bounds on their rounding errors.

    ``mag[k-1]`` bounds the sum of the magnitudes of the terms ever added into ``t[k-1]``
    (so ``_ROUNDOFF * mag`` bounds its error). Returns skewness, kurtosis, their error
    bounds, the central sum of squares and its error bound.
    """
    t1, t2, t3, t4 = t
    m1, m2, m3, m4 = _ROUNDOFF * mag
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        delta = t1 / n  # mean - c
        e_delta = m1 / n
        ad = np.abs(delta)
        s2 = t2 - n * delta**2
        s3 = t3 - 3.0 * delta * t2 + 2.0 * n * delta**3
        s4 = t4 - 4.0 * delta * t3 + 6.0 * delta**2 * t2 - 3.0 * n * delta**4
        # first-order error propagation through the shift (generously rounded up)
        e2 = m2 + 2.0 * n * ad * e_delta
        e3 = m3 + 3.0 * ad * m2 + 3.0 * e_delta * (np.abs(t2) + 2.0 * n * ad**2)
        e4 = (
            m4 + 4.0 * ad * m3 + 6.0 * ad**2 * m2
            + e_delta * (4.0 * np.abs(t3) + 12.0 * ad * np.abs(t2) + 12.0 * n * ad**3)
        )  # fmt: skip
        sk = _skew_from_sums(n, s2, s3)
        ku = _kurt_from_sums(n, s2, s4)
        err_sk = np.abs(sk) * (e3 / np.abs(s3) + 1.5 * e2 / s2)
        scale_ku = (n + 1.0) * (n - 1.0) / ((n - 2.0) * (n - 3.0)) * n
        err_ku = scale_ku * (e4 / s2**2 + 2.0 * s4 * e2 / s2**3)
    return sk, ku, err_sk, err_ku, s2, e2


def _initial_magnitudes(sums: NDArray[np.float64]) -> NDArray[np.float64]:
    """Bounds on the term magnitudes of freshly computed central sums (rows: k = 1..4).

    ``sum |x - m| <= sqrt(n s2)`` and ``sum |x - m|**3 <= sqrt(s2 s4)`` (Cauchy-Schwarz).
    The first sum is taken as 0 about the computed mean ``m``, which is off by up to a few
    ulps of ``m``: ``n |m|`` covers that (it matters for data far from 0, e.g. 1e9 + x).
    """
    n, mean, s2, _, s4 = sums
    with np.errstate(invalid="ignore", over="ignore"):
        return np.vstack([np.sqrt(n * s2) + n * np.abs(mean), s2, np.sqrt(s2 * s4), s4])


def _stepped_moments(
    t: NDArray[np.float64],
    mag: NDArray[np.float64],
    n: NDArray[np.float64],
    centre: NDArray[np.float64],
    old: NDArray[np.float64],
    repl: NDArray[np.float64],
    size: NDArray[Any],
    skew_thresh: float,
    kurt_thresh: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """One winsorisation step in the power sums: ``size`` values ``old`` became ``repl``.

    ``t`` (sums of ``(x - centre)**k``, rows k = 1..4) and ``mag`` (bounds on the sums of
    their terms' magnitudes) are updated in place. Returns the rows' skewness and kurtosis
    from the updated sums, and the rows whose decision the rounding could change: those
    are to be recomputed from scratch (and their sums restarted there), so decisions are
    exactly _treat_1d's.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        # powers 1..4 of the old and new deviations (rows 0..3), by repeated products
        p_old = np.cumprod(np.broadcast_to(old - centre, t.shape), axis=0)
        p_new = np.cumprod(np.broadcast_to(repl - centre, t.shape), axis=0)
        t += size * (p_new - p_old)
        mag += size * (np.abs(p_new) + np.abs(p_old))
    ska, kua, err_sk, err_ku, s2, err_s2 = _updated_moments(n, t, mag)
    with np.errstate(invalid="ignore"):
        exact = (
            ~np.isfinite(ska) | ~np.isfinite(kua) | ~np.isfinite(err_sk)
            | ~np.isfinite(err_ku) | ~(s2 > _MARGIN * err_s2)
            | (np.abs(np.abs(ska) - skew_thresh) <= _MARGIN * err_sk)
            | (np.abs(ska) <= _MARGIN * err_sk)
            | (np.abs(kua - kurt_thresh) <= _MARGIN * err_ku)
        )  # fmt: skip
    return ska, kua, exact


def _restart_sums(
    centre: NDArray[np.float64],
    t: NDArray[np.float64],
    mag: NDArray[np.float64],
    rows: NDArray[np.bool_],
    fresh: NDArray[np.float64],
) -> None:
    """Restart the power sums of ``rows`` from their exact moments ``fresh`` (as returned
    by :func:`stats._moments_rows`): the centre is the fresh mean."""
    centre[rows] = fresh[1]
    t[:, rows] = np.vstack([np.zeros(fresh.shape[1]), fresh[2:]])
    mag[:, rows] = _initial_magnitudes(fresh)


def _winsorise_block(
    w: NDArray[np.float64],
    sk: NDArray[np.float64],
    ku: NDArray[np.float64],
    code: NDArray[np.int8],
    hi: NDArray[np.bool_],
    lo: NDArray[np.bool_],
    n_hi: NDArray[np.int64],
    n_lo: NDArray[np.int64],
    sums: NDArray[np.float64],
    winmax: int | None,
    skew_thresh: float,
    kurt_thresh: float,
) -> None:
    """The winsorisation loop of :func:`_treat_1d` on all rows of ``w`` (failing rows) at once.

    Each pass moves every row that still fails and is below ``winmax`` by one step, up or
    down by the sign of its skewness. A step replaces a block of equal values by one other
    value, so the rows' power sums about their first mean are updated from the block
    alone (no pass over the row), with a bound on their rounding error. A row whose
    decision that error could change (a value within a few bounds of a threshold, a
    collapsing variance) gets its moments recomputed from scratch, and so does every row
    leaving the loop, so decisions and reported moments are bit-for-bit _treat_1d's.
    Everything is updated in place: ``w`` (winsorised), ``sk``/``ku`` (the rows' moments,
    then the final ones), ``code`` (the final check, ``_FAIL`` on entry), ``hi``/``lo``
    (the last blocks, all False on entry) and ``n_hi``/``n_lo`` (their sizes, 0 on entry).
    ``sums`` (shape ``(5, rows)``) holds each row's count, mean and central sums of orders
    2 to 4, from :func:`stats._moments_rows`.
    """
    if w.shape[0] == 0 or (winmax is not None and winmax <= 0):
        return
    # compact state of the rows still in the loop, written back when a row leaves it
    act = np.arange(w.shape[0])
    # NaN where missing (fmax/fmin skip it). ``w`` itself until a row leaves: leaving
    # rows are written back to ``w`` (a no-op then) and the rest compacted into a copy.
    wa = w
    m = wa.shape[1]
    n, centre = sums[0].copy(), sums[1].copy()
    t = np.vstack([np.zeros_like(n), sums[2:]])  # sums of (x - centre)**k, k = 1..4
    mag = _initial_magnitudes(sums)
    ha, la = hi.copy(), lo.copy()
    nha, nla = n_hi.copy(), n_lo.copy()
    ska = sk.copy()
    while True:
        # One step. Rows in the loop fail, so their skewness is not NaN, their values are
        # finite and not all equal: the block is not empty and neither are the others.
        k = act.size
        up = ska >= 0
        n_up = int(np.count_nonzero(up))
        old = _extreme(wa, up, n_up)
        block = wa == old
        pos = np.flatnonzero(block)  # (flat indices: much faster than masked copies)
        r = pos // m
        flat_w = wa.reshape(-1)
        flat_w[pos] = np.nan  # hide the block: the extreme of the others
        repl = _extreme(wa, up, n_up)
        # (-inf / inf if there were no other value, as in _treat_1d)
        repl = np.where(np.isnan(repl), np.where(up, -np.inf, np.inf)[:, None], repl)
        _exact_zero_replacements(repl, wa, block, up)
        flat_w[pos] = repl[r, 0]
        size = np.bincount(r, minlength=k)
        if n_up == k:
            ha, nha = block, size
        else:
            ha = np.where(up[:, None], block, ha)
            la = np.where(up[:, None], la, block)
            nha = np.where(up, size, nha)
            nla = np.where(up, nla, size)

        # check again, from the updated sums
        ska, kua, exact = _stepped_moments(
            t, mag, n, centre, old[:, 0], repl[:, 0], size, skew_thresh, kurt_thresh
        )
        if exact.any():
            ska[exact], kua[exact], fresh = _moments_rows(wa[exact])
            _restart_sums(centre, t, mag, exact, fresh)
        coda = _pass_codes(ska, kua, skew_thresh, kurt_thresh)
        keep = coda == _FAIL
        if winmax is not None:
            keep &= nha + nla < winmax
        if keep.all():
            continue
        gone = ~keep
        rows = act[gone]
        if wa is not w:  # (while it is, the rows' values are in place already)
            w[rows] = wa[gone]
        hi[rows], lo[rows] = ha[gone], la[gone]
        n_hi[rows], n_lo[rows] = nha[gone], nla[gone]
        # the reported moments, from scratch (all of w at once: no gathering copy)
        sk_out, ku_out = _skew_kurt_rows(w if rows.size == w.shape[0] else w[rows])
        sk[rows], ku[rows] = sk_out, ku_out
        code[rows] = _pass_codes(sk_out, ku_out, skew_thresh, kurt_thresh)
        if not keep.any():
            return
        act, wa, ha, la = act[keep], wa[keep], ha[keep], la[keep]
        nha, nla, ska = nha[keep], nla[keep], ska[keep]
        n, centre, t, mag = n[keep], centre[keep], t[:, keep], mag[:, keep]


#: Largest ``winmax`` for which the loop runs on each row's extreme values alone
#: (:func:`_winsorise_fast`); a larger or no limit takes :func:`_winsorise_block`.
_FAST_WINMAX = 32
#: Fewest values (rows x units) for which the fast loop pays for its extra bookkeeping;
#: smaller blocks of failing rows take :func:`_winsorise_block`, whose passes are cheap.
_FAST_MIN_SIZE = BLOCK_SIZE
#: Thresholds ``mean ± c * sd`` tried in turn to collect a row's extreme values (the last,
#: infinite, takes the whole row); Cantelli's inequality bounds the share beyond c = 3
#: by 10%, and a heavy tail (a failing row) has fewer.
_CANDIDATE_SDS = (3.0, 1.0, np.inf)


def _winsorise_rows(
    w: NDArray[np.float64],
    sk: NDArray[np.float64],
    ku: NDArray[np.float64],
    code: NDArray[np.int8],
    hi: NDArray[np.bool_],
    lo: NDArray[np.bool_],
    n_hi: NDArray[np.int64],
    n_lo: NDArray[np.int64],
    sums: NDArray[np.float64],
    winmax: int | None,
    skew_thresh: float,
    kurt_thresh: float,
) -> None:
    """The winsorisation loop of :func:`_treat_1d` on the rows of ``w`` (failing rows).

    Arguments and results as :func:`_winsorise_block` (everything updated in place). Rows
    are winsorised on their extreme values alone (:func:`_winsorise_fast`) when possible;
    the others, and rows whose skewness changes sign on the way, are finished by
    :func:`_winsorise_block` from where the fast loop left them.
    """
    if w.shape[0] == 0 or (winmax is not None and winmax <= 0):
        return
    args = (winmax, skew_thresh, kurt_thresh)
    if winmax is None or winmax > _FAST_WINMAX or w.size < _FAST_MIN_SIZE:
        rest = np.arange(w.shape[0])
    else:
        rest = _winsorise_fast(
            w, sk, ku, code, hi, lo, n_hi, n_lo, sums, winmax, skew_thresh, kurt_thresh
        )
        if rest.size == 0:
            return
    if rest.size == w.shape[0]:
        _winsorise_block(w, sk, ku, code, hi, lo, n_hi, n_lo, sums, *args)
        return
    # the rows left, gathered, finished, and written back
    arrays: tuple[NDArray[Any], ...] = (w, sk, ku, code, hi, lo, n_hi, n_lo)
    part: list[NDArray[Any]] = [a[rest] for a in arrays]
    w_r, sk_r, ku_r, code_r, hi_r, lo_r, n_hi_r, n_lo_r = part
    _winsorise_block(w_r, sk_r, ku_r, code_r, hi_r, lo_r, n_hi_r, n_lo_r, sums[:, rest], *args)
    for whole, piece in zip(arrays, part, strict=True):
        whole[rest] = piece


def _extreme_values(
    w: NDArray[np.float64], up: NDArray[np.bool_], sums: NDArray[np.float64], depth: int
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.bool_]]:
    """Per row of ``w``, its ``depth`` most extreme distinct values, largest first where
    ``up`` (else smallest first), and how many values each of them and the ones before it
    account for.

    Returns ``values`` and ``counts`` of shape ``(rows, depth)``, and ``ok``: the rows
    with at least ``depth`` distinct values (the others' entries are meaningless). The
    values are collected beyond ``mean ± c * sd`` (``sums`` as in :func:`_winsorise_block`)
    for the ``c`` of :data:`_CANDIDATE_SDS` in turn, until a row has enough of them; all
    values beyond a collected one are collected too, so its count is exact.
    """
    k, m = w.shape
    values = np.zeros((k, depth))
    counts = np.zeros((k, depth), dtype=np.int64)
    ok = np.zeros(k, dtype=bool)
    n, mean, s2 = sums[0], sums[1], sums[2]
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(s2 / np.maximum(n - 1.0, 1.0))
    todo = np.arange(k)
    for c in _CANDIDATE_SDS:
        if todo.size == 0:
            break
        sub = w if todo.size == k else w[todo]
        u = up[todo]
        # the values beyond the threshold, negated for rows going up: ascending is then
        # from the extreme inwards for every row
        with np.errstate(invalid="ignore"), row_broadcasts(m):
            if np.isinf(c):
                beyond = ~np.isnan(sub)
            else:
                reach = c * sd[todo]
                hi_thr = np.where(u, mean[todo] + reach, np.inf)[:, None]
                lo_thr = np.where(u, -np.inf, mean[todo] - reach)[:, None]
                beyond = sub > hi_thr if u.all() else (sub > hi_thr) | (sub < lo_thr)
        pos = np.flatnonzero(beyond)
        r = pos // m
        key = sub.reshape(-1)[pos]
        np.negative(key, out=key, where=u[r])
        per_row = np.bincount(r, minlength=todo.size)
        width = int(per_row.max(initial=0))
        if width == 0:
            break
        # one padded row of keys per row, sorted: runs of equal keys are distinct values
        start = np.cumsum(per_row) - per_row
        padded = np.full((todo.size, width), np.inf)
        padded[r, np.arange(pos.size) - start[r]] = key
        padded.sort(axis=1)
        first = np.ones((todo.size, width), dtype=bool)
        first[:, 1:] = padded[:, 1:] != padded[:, :-1]
        first &= np.isfinite(padded)
        rank = np.cumsum(first, axis=1) - 1
        rr, cc = np.nonzero(first & (rank <= depth))
        dr = rank[rr, cc]
        begin = np.zeros((todo.size, depth + 1), dtype=np.int64)
        begin[:, :] = per_row[:, None]  # (a row's count past its last distinct value)
        begin[rr, dr] = cc
        vals = np.zeros((todo.size, depth + 1))
        vals[rr, dr] = padded[rr, cc]
        enough = np.count_nonzero(first, axis=1) >= depth
        got = todo[enough]
        values[got] = np.where(u[enough, None], -vals[enough, :depth], vals[enough, :depth])
        counts[got] = begin[enough, 1:]
        ok[got] = True
        todo = todo[~enough]
    return values, counts, ok


def _clip_rows(
    w: NDArray[np.float64],
    rows: NDArray[np.intp],
    up: NDArray[np.bool_],
    bound: NDArray[np.float64],
    hi: NDArray[np.bool_],
    lo: NDArray[np.bool_],
) -> None:
    """Write the state of ``rows`` of ``w`` after their winsorisation steps.

    A row going ``up`` has had every value above ``bound`` (its last replacement value)
    replaced by it: ``min(x, bound)``, the same numbers bit for bit, as the replaced ones
    are ``bound`` itself. Its last block (``hi``) is the values above ``bound``; likewise
    downwards (``lo``). The rows' blocks on the other side are left as they are.
    """
    sides = ((up, np.greater, np.minimum, hi), (~up, np.less, np.maximum, lo))
    for side, beyond, clip, mark in sides:
        sel = rows[side]
        if sel.size == 0:
            continue
        b = bound[side][:, None]
        x = w if sel.size == w.shape[0] else w[sel]
        with row_broadcasts(w.shape[1]):
            mark[sel] = beyond(x, b)
            if x is w:
                clip(w, b, out=w)
            else:
                w[sel] = clip(x, b)


def _winsorise_fast(
    w: NDArray[np.float64],
    sk: NDArray[np.float64],
    ku: NDArray[np.float64],
    code: NDArray[np.int8],
    hi: NDArray[np.bool_],
    lo: NDArray[np.bool_],
    n_hi: NDArray[np.int64],
    n_lo: NDArray[np.int64],
    sums: NDArray[np.float64],
    winmax: int,
    skew_thresh: float,
    kurt_thresh: float,
) -> NDArray[np.intp]:
    """:func:`_winsorise_block` for rows that go one way, computed on their extreme values.

    A row going up ``j`` steps has its values at or above its ``j``-th largest distinct
    value replaced by the next one, so its power sums, its last block and, at the end,
    its values (``min(x, next)``) follow from its ``winmax + 1`` largest distinct values
    and their counts (:func:`_extreme_values`) with no pass over the row; downwards
    likewise. Decisions are checked as in :func:`_winsorise_block` (a row near a
    threshold is recomputed from scratch), and leaving rows get their moments from
    scratch, so everything is bit-for-bit _treat_1d's.

    Returns the rows left to :func:`_winsorise_block`, in their state so far (values,
    moments, ``sums`` recomputed, blocks): rows with fewer than ``winmax + 1`` distinct
    values or a zero among the replacement values (whose sign _treat_1d picks by its
    order of work), and rows whose skewness changes sign.
    """
    k = w.shape[0]
    up = sk >= 0
    values, counts, ok = _extreme_values(w, up, sums, winmax + 1)
    ok &= ~(values[:, 1:] == 0).any(axis=1)
    handed = [np.flatnonzero(~ok)]
    act = np.flatnonzero(ok)
    if act.size == 0:
        return handed[0]
    # state of the rows still in the loop (compact)
    vals, cnts, upa = values[act], counts[act], up[act]
    steps = np.zeros(act.size, dtype=np.intp)
    n, centre = sums[0, act], sums[1, act]
    t = np.vstack([np.zeros_like(n), sums[2:, act]])  # sums of (x - centre)**k, k = 1..4
    mag = _initial_magnitudes(sums[:, act])
    while True:
        i = np.arange(act.size)
        old, size, repl = vals[i, steps], cnts[i, steps], vals[i, steps + 1]
        steps += 1
        ska, kua, exact = _stepped_moments(
            t, mag, n, centre, old, repl, size, skew_thresh, kurt_thresh
        )
        if exact.any():
            cur = w[act[exact]]  # (a copy) in its current state
            bound = repl[exact][:, None]
            cur = np.where(upa[exact][:, None], np.minimum(cur, bound), np.maximum(cur, bound))
            ska[exact], kua[exact], fresh = _moments_rows(cur)
            _restart_sums(centre, t, mag, exact, fresh)
        coda = _pass_codes(ska, kua, skew_thresh, kurt_thresh)
        keep = (coda == _FAIL) & (size < winmax)
        turned = keep & ((ska >= 0) != upa)
        keep &= ~turned
        if keep.all():
            continue
        for leaving, final in ((~keep & ~turned, True), (turned, False)):
            if not leaving.any():
                continue
            rows, lu, lsize = act[leaving], upa[leaving], size[leaving]
            _clip_rows(w, rows, lu, repl[leaving], hi, lo)
            n_hi[rows[lu]] = lsize[lu]
            n_lo[rows[~lu]] = lsize[~lu]
            # the moments from scratch (all of w at once: no gathering copy)
            cur = w if rows.size == k else w[rows]
            if final:
                sk_out, ku_out = _skew_kurt_rows(cur)
                code[rows] = _pass_codes(sk_out, ku_out, skew_thresh, kurt_thresh)
            else:  # the general loop carries on from here, from exact sums
                sk_out, ku_out, sums[:, rows] = _moments_rows(cur)
                handed.append(rows)
            sk[rows], ku[rows] = sk_out, ku_out
        if not keep.any():
            return np.sort(np.concatenate(handed))
        act, vals, cnts, upa, steps = act[keep], vals[keep], cnts[keep], upa[keep], steps[keep]
        n, centre, t, mag = n[keep], centre[keep], t[:, keep], mag[:, keep]


def _log_block(
    base: NDArray[np.float64], plus: bool, sk: NDArray[np.float64]
) -> tuple[NDArray[np.float64], list[str]]:
    """The built-in ``log_CT`` (or, if ``plus``, ``log_CT_plus``) on every row of ``base``.

    ``base`` is a scratch copy (overwritten); ``sk`` is the skewness of each row, whose
    sign picks the branch of ``log_CT_plus``. The operations are those of :func:`log_ct`
    and :func:`log_ct_plus` with the row's ``min``, ``max`` and ``a = 0.01 * (max - min)``
    broadcast, so the results are bit-for-bit theirs. Returns the values and the flags.
    """
    with np.errstate(divide="ignore", invalid="ignore"), row_broadcasts(base.shape[1]):
        mn = np.fmin.reduce(base, axis=1, keepdims=True)  # NaN skipped; rows have values
        mx = np.fmax.reduce(base, axis=1, keepdims=True)
        a = 0.01 * (mx - mn)
        pos = sk > 0 if plus else np.ones(sk.shape, dtype=bool)
        if pos.all():
            np.subtract(base, mn, out=base)
            np.add(base, a, out=base)
            return np.log(base), ["log_CT"] * base.shape[0]
        out = np.empty_like(base)
        if pos.any():
            out[pos] = np.log(base[pos] - mn[pos] + a[pos])
        neg = ~pos
        out[neg] = -np.log(mx[neg] + a[neg] - base[neg])
    return out, ["log_CT" if p else "log_CT_neg" for p in pos.tolist()]


def _call_block(
    base: NDArray[np.float64], transform: TransformFunc
) -> tuple[NDArray[np.float64], list[str]]:
    """``transform`` called on (a copy of) each row of ``base`` in order; values and flags."""
    n_rows, m = base.shape
    out = np.empty((n_rows, m))
    flags: list[str] = []
    for j in range(n_rows):
        res, tflag = transform(base[j].copy())
        tv = np.asarray(res, dtype=np.float64)
        if tv.shape != (m,):
            raise InvalidParameterError(
                f"The treat transform {getattr(transform, '__name__', transform)!r} returned "
                f"values of shape {tv.shape}; expected {(m,)}."
            )
        out[j] = tv
        flags.append(str(tflag))
    return out, flags


def _transform_rows(
    src: NDArray[np.float64],
    idx: NDArray[np.intp],
    sk: NDArray[np.float64],
    transform: TransformFunc,
    values: NDArray[np.float64],
    rows: NDArray[np.intp],
    skew_thresh: float,
    kurt_thresh: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int8], list[str]]:
    """Transform rows ``src[idx]`` (skewness ``sk``) into ``values[rows]``, block by block.

    The built-in log transforms are vectorised (:func:`_log_block`); any other transform
    is called row by row, in order. A row whose check after the transform is NA stays
    untreated: it is not written. Returns the skewness, kurtosis and check codes of the
    transformed rows and their flags.
    """
    nt, m = idx.size, src.shape[1]
    sk_t, ku_t = np.empty(nt), np.empty(nt)
    code_t = np.empty(nt, dtype=np.int8)
    flags: list[str] = []
    # log_CT_plus raises on an undefined skewness (impossible for a failing row): let it
    builtin = transform is log_ct or (transform is log_ct_plus and not np.isnan(sk).any())
    step = max(1, BLOCK_SIZE // max(m, 1))
    for s in range(0, nt, step):
        b = slice(s, s + step)
        base = src[idx[b]]  # (a copy)
        if builtin:
            out, fl = _log_block(base, transform is log_ct_plus, sk[b])
        else:
            out, fl = _call_block(base, transform)
        sk_t[b], ku_t[b] = _skew_kurt_rows(out)
        code_t[b] = _pass_codes(sk_t[b], ku_t[b], skew_thresh, kurt_thresh)
        final = code_t[b] != _NA
        if final.all():
            values[rows[b]] = out
        else:
            values[rows[b][final]] = out[final]
        flags += fl
    return sk_t, ku_t, code_t, flags


def _set_win_flags(
    flags: NDArray[np.object_],
    rows: NDArray[np.intp],
    hi: NDArray[np.bool_],
    lo: NDArray[np.bool_],
    hi_flag: str,
    lo_flag: str,
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Flag the blocks of ``rows`` (low flags win a tie, as in _treat_1d); count them."""
    k, m = hi.shape
    counts = []
    for block, flag in ((hi & ~lo, hi_flag), (lo, lo_flag)):
        r, c = np.divmod(np.flatnonzero(block), max(m, 1))  # (2-D nonzero is much slower)
        flags[rows[r], c] = flag
        counts.append(np.bincount(r, minlength=k))
    return counts[0], counts[1]


def _empty_codes(n_rows: int) -> dict[str, NDArray[Any]]:
    """Detail arrays of ``n_rows`` untreated rows (logicals as int8 codes, NA)."""
    det: dict[str, NDArray[Any]] = {}
    for name in DETAIL_FIELDS:
        if name in _FLOAT_FIELDS:
            det[name] = np.full(n_rows, np.nan)
        elif name in _LOGICAL_FIELDS:
            det[name] = np.full(n_rows, _NA, dtype=np.int8)
        elif name in _BOOL_FIELDS:
            det[name] = np.zeros(n_rows, dtype=bool)
        else:
            det[name] = np.zeros(n_rows, dtype=np.int64)
    return det


def _treat_rows(
    x: NDArray[np.float64],
    winmax: int | None,
    skew_thresh: float,
    kurt_thresh: float,
    transform: TransformFunc | None,
    combine: bool,
    in_place: bool = False,
) -> tuple[NDArray[np.float64], Callable[[], NDArray[np.object_]], dict[str, NDArray[Any]]]:
    """:func:`_treat_1d` on every row of the C-contiguous 2-D ``x``.

    Returns the treated rows (``x`` itself if ``in_place``, else a copy: ``x`` is then not
    modified), a function that builds the per-point flags, and the details. A row is
    written once, when its treatment is final, and read from ``x`` before that.
    """
    n_rows, m = x.shape
    st, kt = skew_thresh, kurt_thresh
    values = x if in_place else x.copy()
    # the flag at every position of a row before its winsorised blocks are marked:
    # row_names[row_code[i]] ("" for most rows, "+<flag>" for transformed ones)
    row_code = np.zeros(n_rows, dtype=np.intp)
    row_names = [""]
    # (rows, their index among the failing rows, transform flag) whose blocks to flag
    win_groups: list[tuple[NDArray[np.intp], NDArray[np.intp], str]] = []

    # 1. first check, all rows at once
    sk0, ku0, sums0 = _moments_rows(x)
    code0 = _pass_codes(sk0, ku0, st, kt)
    det = _empty_codes(n_rows)
    det["skew_before"], det["kurt_before"], det["pass_before"] = sk0, ku0, code0
    det["na_stop"] = code0 == _NA  # passing and NA rows keep the untreated values
    fail = np.flatnonzero(code0 == _FAIL)
    nf = fail.size
    hi = np.zeros((nf, m), dtype=bool)
    lo = np.zeros((nf, m), dtype=bool)

    if nf:
        # 2. winsorise the failing rows, block of rows by block of rows (their arrays stay
        # in cache); each pass of the loop moves every row of the block still failing and
        # below winmax by one step (rows may take different directions)
        # (the winsorised rows are kept whole only when the transform needs them)
        w = x[fail] if combine else None  # (a copy)
        sk, ku, sums = sk0[fail], ku0[fail], sums0[:, fail]
        code = np.full(nf, _FAIL, dtype=np.int8)
        n_hi = np.zeros(nf, dtype=np.int64)
        n_lo = np.zeros(nf, dtype=np.int64)
        step = max(1, _LOOP_BLOCK // max(m, 1))
        for s in range(0, nf, step):
            b = slice(s, s + step)
            wb = w[b] if w is not None else x[fail[b]]  # (a copy when gathered)
            _winsorise_rows(
                wb, sk[b], ku[b], code[b], hi[b], lo[b], n_hi[b], n_lo[b], sums[:, b],
                winmax, st, kt,
            )  # fmt: skip
            # rows whose treatment ends with winsorisation are final: write them now
            cb = code[b]
            final = (cb == _PASS) | ((cb == _FAIL) & (transform is None))
            if final.any():
                values[fail[b][final]] = wb[final]
        det["n_winsorised"][fail] = n_hi + n_lo
        det["skew_after_winsorise"][fail] = sk
        det["kurt_after_winsorise"][fail] = ku
        det["pass_after_winsorise"][fail] = code
        det["na_stop"][fail[code == _NA]] = True  # untreated

        still = code == _FAIL
        done = np.flatnonzero((code == _PASS) | (still & (transform is None)))
        if done.size:
            win_groups.append((fail[done], done, ""))

        # 3. transform the original (or winsorised) values of the rows still failing
        tj = np.flatnonzero(still) if transform is not None else np.empty(0, dtype=np.intp)
        if tj.size:
            assert transform is not None
            rows = fail[tj]
            src, idx, sk_in = (w, tj, sk[tj]) if w is not None else (x, rows, sk0[rows])
            sk_t, ku_t, code_t, t_flags = _transform_rows(
                src, idx, sk_in, transform, values, rows, st, kt
            )
            det["transformed"][rows] = True
            det["skew_after_transform"][rows] = sk_t
            det["kurt_after_transform"][rows] = ku_t
            det["pass_after_transform"][rows] = code_t
            na = code_t == _NA
            if na.any():  # untreated: _transform_rows left their values alone
                det["na_stop"][rows[na]] = True
            t_arr = np.array(t_flags, dtype=object)
            for tflag in dict.fromkeys(t_flags):
                sel = np.flatnonzero(~na & (t_arr == tflag))
                if sel.size == 0:
                    continue
                if tflag:  # COINr pastes "f1+f2" at every position (NaN included)
                    row_code[rows[sel]] = len(row_names)
                    row_names.append(f"+{tflag}")
                win_groups.append((rows[sel], tj[sel], tflag))

    # 4. the points winsorised (low flags win a tie, as in _treat_1d); only plain
    # "winhi"/"winlo" flags are counted
    for rows, j, tflag in win_groups:
        if not tflag:
            det["n_points_winhi"][rows] = np.count_nonzero(hi[j] & ~lo[j], axis=1)
            det["n_points_winlo"][rows] = np.count_nonzero(lo[j], axis=1)

    def build_flags() -> NDArray[np.object_]:
        # the row-wide flag, then the winsorised blocks on top; an object array of
        # strings is costly, so it is built only when someone asks for it
        table = np.empty((len(row_names), m), dtype=object)
        for i, name in enumerate(row_names):
            table[i] = name
        flags = table[row_code]  # (the fastest way found to fill a large object array)
        for rows, j, tflag in win_groups:
            suffix = f"+{tflag}" if tflag else ""
            _set_win_flags(flags, rows, hi[j], lo[j], f"winhi{suffix}", f"winlo{suffix}")
        return flags

    return values, build_flags, det


def treat_array(
    x: ArrayLike,
    *,
    axis: int | tuple[int, ...] = -1,
    winmax: int | None = 5,
    skew_thresh: float = 2.0,
    kurt_thresh: float = 3.5,
    transform: str | TransformFunc | None = "log_CT",
    combine: bool = False,
) -> ArrayTreatment:
    """Treat every 1-D slice of ``x`` along ``axis`` as :func:`treat_series` would.

    The slices are treated all at once (vectorised, in blocks of slices): the moments of
    every slice, then the winsorisation steps of all failing slices together, then the
    transform, vectorised for the built-in ``"log_CT"`` / ``"log_CT_plus"`` (any other
    transform is called slice by slice, in C order). The results are identical, bit for
    bit, to looping :func:`treat_series` over the slices.

    Parameters
    ----------
    x : array_like
        Data with any leading dims (indicators, years, draws, ...); NaN = missing. Not
        modified.
    axis : int or tuple of int, default -1
        The axis holding the units of one series. A tuple pools several axes into one
        series (flattened in C order of the axes as given).
    winmax, skew_thresh, kurt_thresh, transform, combine
        As in :func:`treat_series`.

    Returns
    -------
    ArrayTreatment
        ``(values, flags, details)``: treated values and flags with the shape of ``x``,
        and a dict of detail arrays (names in :data:`DETAIL_FIELDS`) whose shape is that
        of ``x`` without the treated axes.

    Examples
    --------
    >>> x = np.array([[1.0, 2.0], [2.0, 3.0], [3.0, 4.0], [40.0, 5.0]])
    >>> res = treat_array(x, axis=0, winmax=1)
    >>> res.values[:, 0].tolist()
    [1.0, 2.0, 3.0, 40.0]
    >>> res.details["pass_before"].tolist()
    [True, True]
    """
    values, details, flags = _treat_array_parts(
        x, axis=axis, winmax=winmax, skew_thresh=skew_thresh, kurt_thresh=kurt_thresh,
        transform=transform, combine=combine,
    )  # fmt: skip
    return ArrayTreatment(values, flags(), details)


def _treat_array_parts(
    x: ArrayLike,
    *,
    axis: int | tuple[int, ...] = -1,
    winmax: int | None = 5,
    skew_thresh: float = 2.0,
    kurt_thresh: float = 3.5,
    transform: str | TransformFunc | None = "log_CT",
    combine: bool = False,
    overwrite_x: bool = False,
) -> tuple[NDArray[np.float64], dict[str, NDArray[Any]], Callable[[], NDArray[np.object_]]]:
    """:func:`treat_array` with the flags deferred: a function that builds them.

    ``overwrite_x``: the treated values may be written into ``x`` (a float64 array nobody
    else reads); they are anyway when laying the series out made a private copy.
    """
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 0:
        raise InvalidParameterError("treat_array expects at least a 1-D array; got a scalar.")
    axes = _normalise_axes(axis, arr.ndim)
    wm, st, kt = _check_options(winmax, skew_thresh, kurt_thresh, combine)
    func = _resolve_transform(transform)

    k = len(axes)
    dest = tuple(range(arr.ndim - k, arr.ndim))
    moved = np.moveaxis(arr, axes, dest)
    lead = moved.shape[: arr.ndim - k]
    core = moved.shape[arr.ndim - k :]
    # one C-contiguous row per series: its moments are then exactly those of the 1-D series
    rows = np.ascontiguousarray(moved.reshape((math.prod(lead), math.prod(core))))
    in_place = (overwrite_x and arr is x) or not np.may_share_memory(rows, x)
    values, build_flags, det = _treat_rows(rows, wm, st, kt, func, bool(combine), in_place)

    details: dict[str, NDArray[Any]] = {}
    for name in DETAIL_FIELDS:
        col = det[name]
        if name in _LOGICAL_FIELDS:
            col = _PASS_VALUES[col + 1]
        details[name] = col.reshape(lead)
    values_out = np.moveaxis(values.reshape((*lead, *core)), dest, axes)

    def flags_out() -> NDArray[np.object_]:
        return np.moveaxis(build_flags().reshape((*lead, *core)), dest, axes)

    return values_out, details, flags_out
