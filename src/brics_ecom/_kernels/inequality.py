"""Inequality, gap and rate kernels (pure NumPy/SciPy).

Conventions (see :mod:`brics_ecom._kernels`):

* ``axis`` (an int or a tuple of ints, counted on ``x``, last by default) is reduced; a
  tuple pools several axes. Every other (leading) axis is broadcast over: indicators,
  years, Monte Carlo draws, scenarios.
* ``weights`` (optional) are non-negative *population* (frequency) weights, broadcastable
  to ``x``; they may carry extra leading axes (e.g. one weight set per draw), in which
  case the result carries them too. Give ``axis`` as a negative number in that case.
  With integer weights every measure equals the unweighted measure on the sample in which
  unit ``i`` is replicated ``w_i`` times.
* A unit takes part in a slice when its value and its weight are not NaN and its weight
  is positive. With ``skipna=False`` a slice holding any NaN value or weight gives NaN.
* Slices with no usable unit, and slices holding values outside a measure's domain
  (negative values; zero values where logarithms or negative powers are taken) give NaN,
  silently. The front doors check the domain first and raise an error naming the culprit.
* Inputs are never modified; results are new float64 arrays.
* Every computation is a handful of whole-array passes: a sort (Gini, quantiles, Lorenz)
  and NumPy's ufunc reductions, with no Python loop over slices. The scalar reductions
  run on blocks of leading slices of about :data:`BLOCK_VALUES` values (see
  :func:`_blocked`), so their temporaries stay in cache and peak memory stays a small
  fraction of the input's size.

Examples
--------
>>> import numpy as np
>>> y = np.array([[10.0, 20.0, 30.0, 40.0, 50.0], [1.0, 1.0, 1.0, 1.0, np.nan]])
>>> np.round(gini(y), 6).tolist()
[0.266667, 0.0]
>>> np.round(atkinson(y, 0.5), 5).tolist()
[0.06315, 0.0]
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import xlogy

__all__ = [
    "atkinson",
    "coefficient_of_variation",
    "endpoint_rate",
    "frontier",
    "gap",
    "gap_to_frontier",
    "gap_to_reference",
    "gini",
    "last_valid",
    "lorenz",
    "ols_slope",
    "quantile",
    "theil",
    "theil_groups",
    "top_bottom_ratio",
    "weighted_mean",
    "years_to_close",
]

Axis = int | tuple[int, ...]
F64 = NDArray[np.float64]


# --------------------------------------------------------------------------------------
# sample preparation
# --------------------------------------------------------------------------------------


def _negative_axes(axis: Axis, ndim: int) -> tuple[int, ...]:
    axes = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    out = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < ndim:
            raise np.exceptions.AxisError(a, ndim)
        out.append(a - ndim if a >= 0 else a)
    if len(set(out)) != len(out):
        raise ValueError(f"repeated axis in {axis!r}")
    return tuple(out)


def _to_last(arr: NDArray[Any], axes: tuple[int, ...]) -> NDArray[Any]:
    """Move the (negative) ``axes`` to the end and merge them into one axis."""
    nd = arr.ndim
    k = len(axes)
    src = tuple(a % nd for a in axes)
    dst = tuple(range(nd - k, nd))
    if src != dst:
        arr = np.moveaxis(arr, src, dst)
    if k != 1:
        arr = arr.reshape((*arr.shape[: nd - k], -1))
    return arr


_TINY = np.finfo(np.float64).tiny


def _dot(a: F64, b: F64) -> F64:
    """``sum(a * b)`` over the last axis, keepdims, in one pass (no temporary)."""
    return np.einsum("...i,...i->...", a, b)[..., None]


@dataclass
class _Sample:
    raw: F64  # the values, reduced axis last (NaN kept)
    use: NDArray[np.bool_]  # unit takes part in the slice
    w: F64 | None  # weights with 0 where not used (None: unweighted)
    n: F64  # number of used units (keepdims)
    wsum: F64  # total weight (keepdims; = n when unweighted)
    incomplete: NDArray[np.bool_] | None  # skipna=False: slice holds NaN
    complete: bool  # unweighted and nothing missing: ``use`` is all True
    _y: F64 | None = None

    @property
    def y(self) -> F64:
        """The values with 0 where not used (``raw`` itself when nothing is missing)."""
        if self._y is None:
            self._y = self.raw if self.complete else np.where(self.use, self.raw, 0.0)
        return self._y

    def sum(self, values: F64) -> F64:
        """Weighted sum over the units (keepdims); ``values`` must be 0 where unused."""
        if self.w is None:
            return values.sum(axis=-1, keepdims=True)
        return _dot(self.w, values)

    def mean(self, values: F64) -> F64:
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.sum(values) / self.wsum

    def dot_mean(self, a: F64, b: F64) -> F64:
        """Weighted mean of ``a * b`` (keepdims); zero where unused in ``a`` or ``b``."""
        total = _dot(a, b) if self.w is None else _dot(self.w * a, b)
        with np.errstate(invalid="ignore", divide="ignore"):
            return total / self.wsum


def _sample(x: ArrayLike, weights: ArrayLike | None, axis: Axis, skipna: bool) -> _Sample:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    axes = _negative_axes(axis, arr.ndim)
    if weights is None:
        arr = _to_last(arr, axes)
        missing = np.isnan(arr)
        holes = bool(missing.any())
        use = ~missing
        if holes:
            n = np.count_nonzero(use, axis=-1)[..., None].astype(np.float64)
        else:
            n = np.full((*arr.shape[:-1], 1), float(arr.shape[-1]))
        incomplete = None if skipna else np.asarray(missing.any(axis=-1))
        return _Sample(arr, use, None, n, n, incomplete, complete=not holes)
    wv = np.asarray(weights, dtype=np.float64)
    skip_w = ~(wv > 0)  # NaN or zero weight: the unit is left out (on the weights' shape)
    nan_w = np.isnan(wv)
    arr, wv, skip_w, nan_w = np.broadcast_arrays(arr, wv, skip_w, nan_w)
    arr, wv, skip_w, nan_w = (_to_last(a, axes) for a in (arr, wv, skip_w, nan_w))
    missing = np.isnan(arr)
    use = ~(missing | skip_w)
    w = np.where(use, wv, 0.0)
    n = np.count_nonzero(use, axis=-1)[..., None].astype(np.float64)
    wsum = w.sum(axis=-1, keepdims=True)
    incomplete = None if skipna else np.asarray((missing | nan_w).any(axis=-1))
    return _Sample(arr, use, w, n, wsum, incomplete, complete=False)


def _nan_slices(s: _Sample, bad: NDArray[np.bool_] | None = None) -> NDArray[np.bool_]:
    """Slices that give NaN: empty, incomplete (``skipna=False``) or ``bad``."""
    nan = np.asarray(s.wsum[..., 0] <= 0)
    if s.incomplete is not None:
        nan = nan | s.incomplete
    if bad is not None:
        nan = nan | bad
    return nan


def _finish(value: F64, s: _Sample, bad: NDArray[np.bool_] | None = None) -> F64:
    """Drop the kept axis of ``value``; NaN for the slices of :func:`_nan_slices`."""
    out = np.asarray(value, dtype=np.float64)[..., 0]
    nan = _nan_slices(s, bad)
    return np.where(nan, np.nan, out) if nan.any() else out


def _bad(s: _Sample, strict: bool, low: F64 | None = None) -> NDArray[np.bool_]:
    """Slices whose smallest used value is negative (``strict``: ≤ 0). ``low`` may give
    that smallest value (keepdims, e.g. the first sorted value) to save a pass."""
    if low is None:
        if s.complete:
            low = s.raw.min(axis=-1, keepdims=True)
        elif not strict and s._y is not None:
            low = s.y.min(axis=-1, keepdims=True)  # 0 where unused: harmless for "< 0"
        else:
            low = np.where(s.use, s.raw, np.inf).min(axis=-1, keepdims=True)
    return np.asarray((low <= 0) if strict else (low < 0))[..., 0]


def _sorted(s: _Sample) -> tuple[F64, F64 | None]:
    """Used values sorted ascending along the last axis (unused ones last, as 0) and the
    weights in the same order (``None`` when unweighted)."""
    if s.w is None:
        if s.complete:
            return np.sort(s.raw, axis=-1), None
        ys = np.sort(s.raw, axis=-1)  # NaN sort last
        np.copyto(ys, 0.0, where=np.isnan(ys))
        return ys, None
    # argsort is much slower with NaN than with inf in the keys
    order = np.argsort(np.where(s.use, s.raw, np.inf), axis=-1)
    ys = np.take_along_axis(s.y, order, axis=-1)
    ws = np.take_along_axis(s.w, order, axis=-1)
    return ys, ws


#: Values per block in :func:`_blocked`: 2 MiB of float64, so that the temporaries of a
#: block stay in the CPU cache and peak memory does not grow with the input.
BLOCK_VALUES = 1 << 18

_Reduction = TypeVar("_Reduction", bound=Callable[..., F64])


def _blocked(func: _Reduction) -> _Reduction:
    """Run a reduction over the last axis block by block of leading slices.

    The wrapped function moves the reduced ``axis`` last, broadcasts the ``weights``,
    flattens the leading dims and calls ``func`` (with ``axis=-1``) on blocks of about
    :data:`BLOCK_VALUES` values. Every slice is computed exactly as in one call (slices
    are independent), but the temporaries are small: the kernels make several passes
    over their input, which is then fast (in cache) and light (no array-sized copies).
    """

    @functools.wraps(func)
    def wrapper(
        x: ArrayLike, *args: Any, weights: ArrayLike | None = None, axis: Axis = -1, **kw: Any
    ) -> F64:
        arr = np.asarray(x, dtype=np.float64)
        if arr.ndim == 0:
            arr = arr.reshape(1)
        axes = _negative_axes(axis, arr.ndim)
        w = None
        if weights is not None:
            arr, w = np.broadcast_arrays(arr, np.asarray(weights, dtype=np.float64))
            w = _to_last(w, axes)
        arr = _to_last(arr, axes)
        lead, n = arr.shape[:-1], arr.shape[-1]
        rows = int(np.prod(lead, dtype=np.int64))
        step = max(1, BLOCK_VALUES // max(n, 1))
        if rows <= step:
            return func(arr, *args, weights=w, axis=-1, **kw)
        flat = arr.reshape(rows, n)
        wflat = None if w is None else w.reshape(rows, n)
        out = np.empty(rows)
        for start in range(0, rows, step):
            part = slice(start, start + step)
            wpart = None if wflat is None else wflat[part]
            out[part] = func(flat[part], *args, weights=wpart, axis=-1, **kw)
        return out.reshape(lead)

    return cast(_Reduction, wrapper)


# --------------------------------------------------------------------------------------
# inequality measures
# --------------------------------------------------------------------------------------


@_blocked
def weighted_mean(
    x: ArrayLike, *, weights: ArrayLike | None = None, axis: Axis = -1, skipna: bool = True
) -> F64:
    """Weighted mean over ``axis`` (NaN skipped; NaN for an empty slice).

    Examples
    --------
    >>> weighted_mean([1.0, 2.0, np.nan], weights=[1.0, 3.0, 1.0]).item()
    1.75
    """
    s = _sample(x, weights, axis, skipna)
    return _finish(s.mean(s.y), s)


@_blocked
def gini(
    x: ArrayLike, *, weights: ArrayLike | None = None, axis: Axis = -1, skipna: bool = True
) -> F64:
    r"""Gini coefficient, the weighted mean absolute difference over twice the mean.

    .. math::

        G = \frac{\sum_i \sum_j w_i w_j |y_i - y_j|}{2 W^2 \mu},
        \qquad W = \sum_i w_i,\quad \mu = \frac{1}{W}\sum_i w_i y_i

    computed in :math:`O(n \log n)` from the sorted values:
    :math:`G = \sum_i w_i y_i (2F_i - w_i - W) / (W \sum_i w_i y_i)` with :math:`F_i` the
    cumulative weight up to unit :math:`i` (ties do not matter). No small-sample
    correction (multiply by :math:`n/(n-1)` for the "unbiased" variant). Needs
    non-negative values (NaN for a slice with a negative value); NaN when the mean is 0.

    Examples
    --------
    >>> round(gini([1.0, 2.0, 3.0, 4.0]).item(), 12)
    0.25
    >>> round(gini([1.0, 2.0, 3.0], weights=[2, 1, 1]).item(), 12)  # == [1, 1, 2, 3]
    0.25
    """
    s = _sample(x, weights, axis, skipna)
    ys, ws = _sorted(s)
    with np.errstate(invalid="ignore", divide="ignore"):
        if ws is None:
            # w = 1: 2 F_i - 1 - n = 2 i + 1 - n with i = 0, 1, ... (unused ys are 0)
            idx = np.arange(ys.shape[-1], dtype=np.float64)
            total = ys.sum(axis=-1, keepdims=True)
            num = 2.0 * (ys @ idx)[..., None] + (1.0 - s.n) * total
            value = num / (s.n * total)
        else:
            cum = np.cumsum(ws, axis=-1)
            wy = ws * ys
            total = wy.sum(axis=-1, keepdims=True)
            num = 2.0 * _dot(wy, cum) - _dot(wy, ws) - s.wsum * total
            value = num / (s.wsum * total)
    return _finish(value, s, _bad(s, strict=False, low=ys[..., :1]))


@_blocked
def theil(
    x: ArrayLike,
    *,
    index: str = "T",
    weights: ArrayLike | None = None,
    axis: Axis = -1,
    skipna: bool = True,
) -> F64:
    r"""Theil's T (``index="T"``) or L (``"L"``, the mean log deviation) index.

    With population shares :math:`p_i = w_i/W` and :math:`\mu = \sum_i p_i y_i`:

    .. math::

        T = \sum_i p_i \frac{y_i}{\mu}\ln\frac{y_i}{\mu}, \qquad
        L = \sum_i p_i \ln\frac{\mu}{y_i}.

    ``T`` takes :math:`0 \ln 0 = 0` (zeros allowed, negative values give NaN); ``L``
    needs positive values (NaN for a slice with a value ≤ 0).

    Examples
    --------
    >>> round(theil([1.0, 2.0, 3.0]).item(), 6)
    0.087208
    >>> round(theil([1.0, 2.0, 3.0], index="L").item(), 6)
    0.095894
    """
    if index not in ("T", "L"):
        raise ValueError(f"index must be 'T' or 'L'; got {index!r}")
    s = _sample(x, weights, axis, skipna)
    mu = s.mean(s.y)
    with np.errstate(invalid="ignore", divide="ignore"):
        if index == "T":
            r = s.y * (1.0 / mu)  # 0 where unused: 0 ln 0 = 0 (and 0 ln TINY = 0)
            logs = np.maximum(r, _TINY)
            np.log(logs, out=logs)
            value = s.dot_mean(r, logs)
        else:
            # -mean(ln(y / mu)): no cancellation between ln(mu) and mean(ln y)
            r = s.raw / mu if s.complete else np.where(s.use & (s.raw > 0), s.raw / mu, 1.0)
            value = -s.mean(np.log(r))
    return _finish(value, s, _bad(s, strict=index == "L"))


@_blocked
def atkinson(
    x: ArrayLike,
    epsilon: float = 0.5,
    *,
    ede: bool = False,
    weights: ArrayLike | None = None,
    axis: Axis = -1,
    skipna: bool = True,
) -> F64:
    r"""Atkinson index :math:`A_\varepsilon = 1 - \mathrm{EDE}_\varepsilon/\mu` (or the EDE).

    .. math::

        \mathrm{EDE}_\varepsilon = \Bigl(\sum_i p_i y_i^{1-\varepsilon}\Bigr)^{1/(1-\varepsilon)}
        \ (\varepsilon \ne 1), \qquad
        \mathrm{EDE}_1 = \exp\Bigl(\sum_i p_i \ln y_i\Bigr),

    computed on :math:`y_i/\mu` (so large :math:`\varepsilon` does not overflow).
    :math:`\varepsilon \ge 1` needs positive values, :math:`0 \le \varepsilon < 1`
    non-negative ones (otherwise NaN for the slice).

    Examples
    --------
    >>> y = [10.0, 20.0, 30.0, 40.0, 50.0]
    >>> round(atkinson(y, 1.0).item(), 5), round(atkinson(y, 1.0, ede=True).item(), 5)
    (0.13161, 26.05171)
    """
    eps = float(epsilon)
    if not np.isfinite(eps) or eps < 0:
        raise ValueError(f"epsilon must be a finite number >= 0; got {epsilon!r}")
    s = _sample(x, weights, axis, skipna)
    mu = s.mean(s.y)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if eps == 0:
            ratio = np.ones_like(mu)
        else:
            r = s.raw / mu if s.complete else np.where(s.use, s.raw / mu, 1.0)
            terms = np.log(r) if eps == 1 else r ** (1.0 - eps)
            if not s.complete:
                np.copyto(terms, 0.0, where=~s.use)
            mean = s.mean(terms)
            ratio = np.exp(mean) if eps == 1 else mean ** (1.0 / (1.0 - eps))
        value = ratio * mu if ede else 1.0 - ratio
    return _finish(value, s, _bad(s, strict=eps >= 1))


@_blocked
def coefficient_of_variation(
    x: ArrayLike,
    *,
    ddof: int = 0,
    weights: ArrayLike | None = None,
    axis: Axis = -1,
    skipna: bool = True,
) -> F64:
    r"""Coefficient of variation :math:`\sigma/\mu`.

    :math:`\sigma^2 = \sum_i w_i (y_i-\mu)^2 / (W - \text{ddof})`: ``ddof=0`` (default) is
    the population standard deviation, the convention of inequality measurement
    (:math:`\mathrm{CV}^2/2` is the generalised entropy index GE(2)); ``ddof=1`` with
    unweighted data is the sample standard deviation (with weights, ``W - ddof`` treats
    them as frequency weights). NaN when ``μ = 0`` or ``W ≤ ddof``.

    Examples
    --------
    >>> round(coefficient_of_variation([1.0, 2.0, 3.0]).item(), 6)
    0.408248
    >>> round(coefficient_of_variation([1.0, 2.0, 3.0], ddof=1).item(), 6)
    0.5
    """
    s = _sample(x, weights, axis, skipna)
    mu = s.mean(s.y)
    with np.errstate(invalid="ignore", divide="ignore"):
        dev = np.where(s.use, s.y - mu, 0.0)
        var = s.sum(dev * dev) / (s.wsum - ddof)
        value = np.sqrt(var) / mu
        value = np.where((s.wsum > ddof) & (mu != 0), value, np.nan)
    return _finish(value, s)


# --------------------------------------------------------------------------------------
# quantiles, shares, Lorenz curve
# --------------------------------------------------------------------------------------


def _cumulative(s: _Sample) -> tuple[F64, F64, F64]:
    """Sorted values, cumulative weight and cumulative weighted value (unused units last:
    they add nothing, so the cumulative sums stay flat there)."""
    ys, ws = _sorted(s)
    if ws is None:
        ws = (np.arange(ys.shape[-1]) < s.n).astype(np.float64)
    return ys, np.cumsum(ws, axis=-1), np.cumsum(ws * ys, axis=-1)


def _take(values: F64, k: NDArray[np.intp]) -> F64:
    return np.take_along_axis(values, k, axis=-1)


def _quantile_sorted(ys: F64, cum: F64, s: _Sample, q: float) -> F64:
    """Weighted "averaged inverted CDF" quantile (Hyndman & Fan type 2), keepdims."""
    target = q * s.wsum
    tol = 1e-10 * s.wsum
    last = np.maximum(s.n - 1, 0).astype(np.intp)
    k = np.minimum((cum < target - tol).sum(axis=-1, keepdims=True), last)
    on_edge = (np.abs(_take(cum, k) - target) <= tol) & (k < last)
    low = _take(ys, k)
    high = _take(ys, np.minimum(k + 1, last))
    return np.where(on_edge, 0.5 * (low + high), low)


def _bottom_sum(ys: F64, cum: F64, csum: F64, s: _Sample, q: float) -> F64:
    """Sum of values held by the poorest share ``q`` of the weight (a unit on the edge
    counts for the fraction of its weight inside), keepdims."""
    target = q * s.wsum
    last = np.maximum(s.n - 1, 0).astype(np.intp)
    k = np.minimum((cum < target).sum(axis=-1, keepdims=True), last)
    zero = np.zeros_like(cum[..., :1])
    cum0 = np.concatenate([zero, cum], axis=-1)
    csum0 = np.concatenate([zero, csum], axis=-1)
    return _take(csum0, k) + (target - _take(cum0, k)) * _take(ys, k)


@_blocked
def quantile(
    x: ArrayLike,
    q: float,
    *,
    weights: ArrayLike | None = None,
    axis: Axis = -1,
    skipna: bool = True,
) -> F64:
    """Weighted quantile: the inverse of the weighted empirical CDF, averaged at its jumps.

    Unweighted, this is Hyndman & Fan's type 2 (``numpy.quantile(...,
    method="averaged_inverted_cdf")``); it depends on the weights only through the
    population shares, and integer weights equal replicated units.

    Examples
    --------
    >>> quantile([1.0, 2.0, 3.0, 4.0], 0.5).item()
    2.5
    >>> quantile([1.0, 2.0, 3.0, 4.0], 0.5, weights=[3, 1, 1, 1]).item()
    1.5
    """
    s = _sample(x, weights, axis, skipna)
    ys, cum, _ = _cumulative(s)
    return _finish(_quantile_sorted(ys, cum, s, float(q)), s)


@_blocked
def top_bottom_ratio(
    x: ArrayLike,
    *,
    top: float = 0.2,
    bottom: float = 0.2,
    method: str = "mean",
    weights: ArrayLike | None = None,
    axis: Axis = -1,
    skipna: bool = True,
) -> F64:
    """Ratio of the top to the bottom of the distribution.

    ``method="mean"``: mean value of the richest share ``top`` of the population over that
    of the poorest share ``bottom`` (a unit straddling the edge counts for the fraction of
    its weight inside). ``"share"``: ratio of the value shares held (Palma ratio:
    ``top=0.1, bottom=0.4``). ``"quantile"``: ``Q(1 - top) / Q(bottom)``, e.g. p90/p10
    for ``top=bottom=0.1``, with :func:`quantile`. Needs non-negative values; ``inf``
    when the bottom is 0.

    Examples
    --------
    >>> y = [1.0, 2.0, 3.0, 4.0, 10.0]
    >>> top_bottom_ratio(y).item()  # 10 / 1
    10.0
    >>> top_bottom_ratio(y, top=0.4, bottom=0.4).item()  # (4 + 10) / (1 + 2)
    4.666666666666667
    """
    if method not in ("mean", "share", "quantile"):
        raise ValueError(f"method must be 'mean', 'share' or 'quantile'; got {method!r}")
    s = _sample(x, weights, axis, skipna)
    ys, cum, csum = _cumulative(s)
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "quantile":
            value = _quantile_sorted(ys, cum, s, 1.0 - top) / _quantile_sorted(ys, cum, s, bottom)
        else:
            total = csum[..., -1:]
            high = total - _bottom_sum(ys, cum, csum, s, 1.0 - top)
            low = _bottom_sum(ys, cum, csum, s, bottom)
            value = high / low if method == "share" else (high / top) / (low / bottom)
    return _finish(value, s, _bad(s, strict=False))


def lorenz(
    x: ArrayLike, *, weights: ArrayLike | None = None, axis: Axis = -1, skipna: bool = True
) -> tuple[F64, F64]:
    """Lorenz curve: cumulative population shares and cumulative value shares.

    Returns two arrays of the leading shape plus one axis of ``n + 1`` points, starting at
    ``(0, 0)`` and ending at ``(1, 1)``; slices with fewer used units are padded with
    NaN at the end; empty or invalid (negative values, zero total) slices are all NaN.

    Examples
    --------
    >>> p, share = lorenz([3.0, 1.0, 4.0])
    >>> np.round(p, 4).tolist(), np.round(share, 4).tolist()
    ([0.0, 0.3333, 0.6667, 1.0], [0.0, 0.125, 0.5, 1.0])
    """
    s = _sample(x, weights, axis, skipna)
    _, cum, csum = _cumulative(s)
    zero = np.zeros_like(cum[..., :1])
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.concatenate([zero, cum], axis=-1) / s.wsum
        share = np.concatenate([zero, csum], axis=-1) / csum[..., -1:]
    points = np.arange(p.shape[-1])
    pad = points > s.n
    nan = (s.wsum <= 0) | (csum[..., -1:] <= 0) | _bad(s, strict=False)[..., None]
    if s.incomplete is not None:
        nan = nan | s.incomplete[..., None]
    p = np.where(pad | nan, np.nan, p)
    share = np.where(pad | nan, np.nan, share)
    return p, share


# --------------------------------------------------------------------------------------
# Theil decomposition
# --------------------------------------------------------------------------------------


def theil_groups(
    x: ArrayLike,
    codes: ArrayLike,
    n_groups: int,
    *,
    index: str = "T",
    weights: ArrayLike | None = None,
    axis: Axis = -1,
    skipna: bool = True,
) -> dict[str, F64]:
    r"""Theil index and its exact between/within decomposition over groups.

    ``codes`` (integers ``0 … n_groups-1``, broadcastable to ``x``) give each unit's
    group. With population shares :math:`p_g`, value shares :math:`s_g` and means
    :math:`\mu_g` of the groups:

    .. math::

        T = \underbrace{\sum_g s_g \ln\frac{\mu_g}{\mu}}_{\text{between}}
          + \underbrace{\sum_g s_g T_g}_{\text{within}}, \qquad
        L = \sum_g p_g \ln\frac{\mu}{\mu_g} + \sum_g p_g L_g.

    Returns a dict of ``total``, ``between``, ``within`` (leading shape) and
    ``group_index`` (:math:`T_g` or :math:`L_g`), ``contribution`` (each group's term of
    the within sum), ``population_share`` and ``value_share`` (leading shape plus a
    trailing group axis). A group with no used unit in a slice has zero shares and
    contribution and a NaN ``group_index``; a group with one unit has index 0.

    Examples
    --------
    >>> out = theil_groups([1.0, 2.0, 3.0, 6.0], [0, 0, 1, 1], 2)
    >>> total, parts = out["total"].item(), out["between"].item() + out["within"].item()
    >>> bool(abs(total - parts) < 1e-15)
    True
    """
    if index not in ("T", "L"):
        raise ValueError(f"index must be 'T' or 'L'; got {index!r}")
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    axes = _negative_axes(axis, arr.ndim)
    code_arr = np.asarray(codes)
    shapes = [arr.shape, code_arr.shape]
    if weights is not None:
        shapes.append(np.shape(weights))
    shape = np.broadcast_shapes(*shapes)
    s = _sample(np.broadcast_to(arr, shape), weights, axes, skipna)
    code_arr = _to_last(np.broadcast_to(code_arr, shape), axes)
    w = s.w if s.w is not None else s.use.astype(np.float64)
    y = s.y
    lead = y.shape[:-1]
    mu = s.mean(y)
    with np.errstate(invalid="ignore", divide="ignore"):
        if index == "T":
            r = y / mu
            total = s.mean(xlogy(r, r))
        else:
            positive = s.use & (s.raw > 0)
            total = -s.mean(np.log(np.where(positive, s.raw / mu, 1.0)))
        pop = np.empty((*lead, n_groups))
        val = np.empty((*lead, n_groups))
        gidx = np.empty((*lead, n_groups))
        for g in range(n_groups):
            wg = np.where(code_arr == g, w, 0.0)
            w_g = wg.sum(axis=-1)
            mu_g = (wg * y).sum(axis=-1) / w_g
            if index == "T":
                rg = y / mu_g[..., None]
                t_g = (wg * xlogy(rg, rg)).sum(axis=-1) / w_g
            else:
                rg = np.where(positive, y / mu_g[..., None], 1.0)
                t_g = -(wg * np.log(rg)).sum(axis=-1) / w_g
            pop[..., g] = w_g / s.wsum[..., 0]
            val[..., g] = pop[..., g] * mu_g / mu[..., 0]
            gidx[..., g] = t_g
        present = pop > 0
        val = np.where(present, val, 0.0)
        gidx = np.where(present, gidx, np.nan)
        mu_ratio = np.where(present, val / np.where(present, pop, 1.0), 1.0)  # mu_g / mu
        if index == "T":  # a group holding nothing (s_g = 0) contributes 0
            contribution = np.where(val > 0, val * gidx, 0.0)
            between = xlogy(val, mu_ratio).sum(axis=-1)
        else:
            contribution = np.where(present, pop * gidx, 0.0)
            between = -xlogy(pop, mu_ratio).sum(axis=-1)
        within = contribution.sum(axis=-1)
    nan = _nan_slices(s, _bad(s, strict=index == "L") | ~(mu[..., 0] > 0))
    nan_g = nan[..., None]
    return {
        "total": np.where(nan, np.nan, total[..., 0]),
        "between": np.where(nan, np.nan, between),
        "within": np.where(nan, np.nan, within),
        "group_index": np.where(nan_g, np.nan, gidx),
        "contribution": np.where(nan_g, np.nan, contribution),
        "population_share": np.where(nan_g, np.nan, pop),
        "value_share": np.where(nan_g, np.nan, val),
    }


# --------------------------------------------------------------------------------------
# gaps
# --------------------------------------------------------------------------------------


def gap(
    x: ArrayLike, reference: ArrayLike, *, direction: ArrayLike = 1.0, relative: bool = False
) -> F64:
    r"""Shortfall of ``x`` from ``reference``: :math:`d\,(r - x)`, or divided by :math:`|r|`.

    Positive when ``x`` is behind the reference (below it for ``direction=+1``, above it
    for ``-1``). The relative gap is NaN where the reference is 0. Elementwise, with
    NumPy broadcasting.

    Examples
    --------
    >>> gap([60.0, 90.0], 80.0).tolist(), gap([60.0, 90.0], 80.0, relative=True).tolist()
    ([20.0, -10.0], [0.25, -0.125])
    """
    xa = np.asarray(x, dtype=np.float64)
    ref = np.asarray(reference, dtype=np.float64)
    d = np.asarray(direction, dtype=np.float64)
    out = d * (ref - xa)
    if relative:
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(ref != 0, out / np.abs(ref), np.nan)
    return np.asarray(out, dtype=np.float64)


def frontier(
    x: ArrayLike, *, direction: ArrayLike = 1.0, axis: Axis = -1, skipna: bool = True
) -> F64:
    """The best value over ``axis`` (the maximum, or the minimum where ``direction`` is -1),
    with ``keepdims``; NaN for an all-NaN slice (or any NaN with ``skipna=False``).

    Examples
    --------
    >>> frontier([[1.0, 3.0, np.nan]]).tolist(), frontier([[1.0, 3.0]], direction=-1).tolist()
    ([[3.0]], [[1.0]])
    """
    xa = np.asarray(x, dtype=np.float64)
    d = np.asarray(direction, dtype=np.float64)
    z = d * xa
    axes = tuple(a % z.ndim for a in _negative_axes(axis, z.ndim))
    best = (np.fmax if skipna else np.maximum).reduce(z, axis=axes, keepdims=True)
    return np.asarray(d * best, dtype=np.float64)


def gap_to_frontier(
    x: ArrayLike,
    *,
    direction: ArrayLike = 1.0,
    relative: bool = False,
    axis: Axis = -1,
    skipna: bool = True,
) -> F64:
    """:func:`gap` of every unit to the :func:`frontier` of its slice (same shape as ``x``).

    Examples
    --------
    >>> gap_to_frontier([[50.0, 80.0, 100.0]]).tolist()
    [[50.0, 20.0, 0.0]]
    """
    best = frontier(x, direction=direction, axis=axis, skipna=skipna)
    return gap(x, best, direction=direction, relative=relative)


def gap_to_reference(
    x: ArrayLike,
    mask: ArrayLike,
    *,
    stat: str = "mean",
    direction: ArrayLike = 1.0,
    relative: bool = False,
    weights: ArrayLike | None = None,
    axis: int = -1,
    skipna: bool = True,
) -> F64:
    """:func:`gap` of every unit to the (weighted) mean or median of the units in ``mask``.

    ``mask`` (boolean, broadcastable to ``x``) selects the reference group; with
    ``skipna=False`` a NaN inside the group makes its slice NaN. The median is
    :func:`quantile` at 0.5.

    Examples
    --------
    >>> gap_to_reference([1.0, 2.0, 6.0], [False, True, True]).tolist()
    [3.0, 2.0, -2.0]
    """
    xa = np.asarray(x, dtype=np.float64)
    m = np.asarray(mask, dtype=bool)
    inside = np.where(m, xa, np.nan)
    if stat == "mean":
        ref = weighted_mean(inside, weights=weights, axis=axis)
    elif stat == "median":
        ref = quantile(inside, 0.5, weights=weights, axis=axis)
    else:
        raise ValueError(f"stat must be 'mean' or 'median'; got {stat!r}")
    if not skipna:
        hole = np.isnan(xa) & m
        if weights is not None:
            hole = hole | (np.isnan(np.asarray(weights, dtype=np.float64)) & m)
        ref = np.where(hole.any(axis=axis), np.nan, ref)
    ref = np.expand_dims(ref, axis=axis)
    return gap(xa, ref, direction=direction, relative=relative)


# --------------------------------------------------------------------------------------
# change over time
# --------------------------------------------------------------------------------------


def ols_slope(y: ArrayLike, t: ArrayLike, *, axis: int = -1, skipna: bool = True) -> F64:
    r"""Least-squares slope of ``y`` on ``t`` over ``axis``, NaN-aware.

    :math:`b = \sum (t-\bar t)(y-\bar y) / \sum (t-\bar t)^2` over the non-missing
    points of each slice; NaN with fewer than two points (or constant ``t``).

    Examples
    --------
    >>> round(ols_slope([1.0, 3.0, np.nan, 7.0], [2000, 2001, 2002, 2003]).item(), 12)
    2.0
    """
    ya = np.asarray(y, dtype=np.float64)
    ta = np.asarray(t, dtype=np.float64)
    ya, ta = np.broadcast_arrays(ya, ta)
    ya = np.moveaxis(ya, axis, -1)
    ta = np.moveaxis(ta, axis, -1)
    ok = ~(np.isnan(ya) | np.isnan(ta))
    n = ok.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        t0 = np.where(ok, ta, 0.0)
        y0 = np.where(ok, ya, 0.0)
        tc = np.where(ok, ta - t0.sum(axis=-1, keepdims=True) / n, 0.0)
        yc = np.where(ok, ya - y0.sum(axis=-1, keepdims=True) / n, 0.0)
        sxx = (tc * tc).sum(axis=-1)
        slope = (tc * yc).sum(axis=-1) / sxx
    nan = (n[..., 0] < 2) | (sxx <= 0)
    if not skipna:
        nan = nan | ~ok.all(axis=-1)
    return np.where(nan, np.nan, slope)


def _first_last(ok: NDArray[np.bool_]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    n = ok.shape[-1]
    first = np.argmax(ok, axis=-1)[..., None]
    last = (n - 1 - np.argmax(ok[..., ::-1], axis=-1))[..., None]
    return first, last


def endpoint_rate(y: ArrayLike, t: ArrayLike, *, axis: int = -1, skipna: bool = True) -> F64:
    """Average change per unit of ``t`` between the first and last non-missing points:
    ``(y_last - y_first) / (t_last - t_first)``; NaN with fewer than two points.

    Examples
    --------
    >>> endpoint_rate([1.0, 3.0, 4.0, np.nan], [2000, 2001, 2002, 2003]).item()
    1.5
    """
    ya = np.asarray(y, dtype=np.float64)
    ta = np.asarray(t, dtype=np.float64)
    ya, ta = np.broadcast_arrays(ya, ta)
    ya = np.moveaxis(ya, axis, -1)
    ta = np.moveaxis(ta, axis, -1)
    ok = ~(np.isnan(ya) | np.isnan(ta))
    first, last = _first_last(ok)
    with np.errstate(invalid="ignore", divide="ignore"):
        dy = (_take(ya, last) - _take(ya, first))[..., 0]
        dt = (_take(ta, last) - _take(ta, first))[..., 0]
        rate = dy / dt
    nan = (ok.sum(axis=-1) < 2) | (dt == 0)
    if not skipna:
        nan = nan | ~ok.all(axis=-1)
    return np.where(nan, np.nan, rate)


def last_valid(y: ArrayLike, *, axis: int = -1) -> F64:
    """The last non-missing value over ``axis`` (NaN if there is none).

    Examples
    --------
    >>> last_valid([[1.0, 2.0, np.nan], [np.nan] * 3]).tolist()
    [2.0, nan]
    """
    ya = np.moveaxis(np.asarray(y, dtype=np.float64), axis, -1)
    ok = ~np.isnan(ya)
    _, last = _first_last(ok)
    return np.where(ok.any(axis=-1), _take(ya, last)[..., 0], np.nan)


def years_to_close(latest: ArrayLike, rate: ArrayLike) -> F64:
    """Time for a gap to reach 0 at a constant ``rate``: ``-latest / rate`` when the gap is
    closing (``latest`` and ``rate`` of opposite signs), 0 for a closed gap, NaN when it
    is diverging or flat (or either input is NaN).

    Examples
    --------
    >>> years_to_close([10.0, 10.0, -4.0, 0.0, 5.0], [-2.0, 1.0, 2.0, 1.0, 0.0]).tolist()
    [5.0, nan, 2.0, 0.0, nan]
    """
    g = np.asarray(latest, dtype=np.float64)
    r = np.asarray(rate, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        closing = g * r < 0
        out = np.where(closing, -g / np.where(closing, r, 1.0), np.nan)
        out = np.where((g == 0) & ~np.isnan(r), 0.0, out)
    return np.asarray(out, dtype=np.float64)
