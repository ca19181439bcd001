"""Kernels of the dynamics measures: growth, trends, HP filter, convergence, mobility.

Pure NumPy/SciPy. Conventions (see :mod:`brics_ecom._kernels`):

* the axis a kernel works along (**time** for growth and trends, **unit** for
  dispersion, regressions and rank statistics) is ``axis``, last by default; every other
  (leading) axis is broadcast over;
* NaN means missing; a slice with too few observations gives NaN silently (no
  ``RuntimeWarning`` leaks out);
* time positions are given as a 1-D float array ``t`` (numeric labels) aligned with the
  time axis;
* log-based kernels give NaN for non-positive values (the front doors refuse them before
  calling, naming the culprits);
* inputs are never modified.

Examples
--------
>>> import numpy as np
>>> x = np.array([[100.0, 110.0, 121.0], [1.0, np.nan, 4.0]])
>>> cagr(x, np.array([2020.0, 2021.0, 2022.0])).round(6).tolist()
[0.1, 1.0]
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import linalg, special, stats

from .ranks import rank_descending
from .stats import nanmean_refined, nanstd_sample

__all__ = [
    "COV_TYPES",
    "DISPERSION_MEASURES",
    "STATE_LABELS",
    "beta_convergence",
    "cagr",
    "dispersion",
    "growth",
    "hp_trend",
    "kendall_tau",
    "log_positive",
    "mean_abs_rank_change",
    "ols",
    "ols_line",
    "ols_trend",
    "quantile_classes",
    "state_codes",
    "transition_counts",
]

Float = NDArray[np.float64]

#: Heteroskedasticity-consistent covariance estimators of :func:`ols` (statsmodels' names).
COV_TYPES = ("nonrobust", "HC0", "HC1", "HC2", "HC3")
#: Dispersion measures of :func:`dispersion`.
DISPERSION_MEASURES = ("sd_log", "cv", "sd")
#: Digital Evolution Index states, indexed by the codes of :func:`state_codes`.
STATE_LABELS = ("watch out", "stall out", "break out", "stand out")


def _last(x: ArrayLike, axis: int) -> Float:
    """``x`` as float64 with ``axis`` moved last (a view when possible; never written to)."""
    return np.moveaxis(np.asarray(x, dtype=np.float64), axis, -1)


def _times(t: ArrayLike | None, n: int) -> Float:
    if t is None:
        return np.arange(n, dtype=np.float64)
    tt = np.asarray(t, dtype=np.float64).reshape(-1)
    if tt.shape[0] != n:
        raise ValueError(f"t has {tt.shape[0]} entries but the time axis has {n}")
    return tt


def log_positive(x: ArrayLike) -> Float:
    """Natural log, NaN (silently) where ``x <= 0`` or missing.

    Examples
    --------
    >>> log_positive(np.array([np.e, 0.0, -1.0, np.nan])).tolist()
    [1.0, nan, nan, nan]
    """
    arr = np.asarray(x, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(arr > 0, np.log(np.where(arr > 0, arr, 1.0)), np.nan)


# ----------------------------------------------------------------------------- growth
def _rate(cur: Float, base: Float, dt: Float, kind: str, annualise: bool) -> Float:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if kind == "diff":
            out = cur - base
            return out / dt if annualise else out
        if kind == "log":
            out = log_positive(cur) - log_positive(base)
            return out / dt if annualise else out
        ratio = cur / base
        if annualise:
            return np.asarray(np.power(ratio, 1.0 / dt) - 1.0)
        return ratio - 1.0


def growth(
    x: ArrayLike,
    t: ArrayLike | None = None,
    *,
    kind: str = "simple",
    periods: int = 1,
    annualise: bool = False,
    skipna: bool = False,
    axis: int = -1,
) -> Float:
    """Period-on-period growth along ``axis`` (same shape as ``x``).

    ``simple``: ``x_s / x_r - 1``; ``log``: ``ln x_s - ln x_r``; ``diff``: ``x_s - x_r``,
    where ``r`` is the observation ``periods`` steps before ``s``. With ``annualise`` the
    rate is per unit of ``t``: ``(x_s / x_r) ** (1 / (t_s - t_r)) - 1``, or the log
    growth / difference divided by ``t_s - t_r``.
    With ``skipna`` the steps count *observed* values only (gaps are bridged); otherwise a
    missing end point gives NaN. The first ``periods`` positions are NaN.

    Examples
    --------
    >>> growth(np.array([1.0, 2.0, np.nan, 8.0]), skipna=True).tolist()
    [nan, 1.0, nan, 3.0]
    >>> growth(np.array([1.0, 2.0, np.nan, 8.0]), [0, 1, 2, 3], skipna=True,
    ...        annualise=True).tolist()
    [nan, 1.0, nan, 1.0]
    """
    arr = _last(x, axis)
    n = arr.shape[-1]
    tt = _times(t, n)
    out = np.full(arr.shape, np.nan)
    if periods >= n:
        return np.moveaxis(out, -1, axis)
    if not skipna:
        dt = tt[periods:] - tt[:-periods]
        out[..., periods:] = _rate(arr[..., periods:], arr[..., :-periods], dt, kind, annualise)
        return np.moveaxis(out, -1, axis)
    observed = ~np.isnan(arr)
    order = np.argsort(~observed, axis=-1, kind="stable")  # observed first, in time order
    xc = np.take_along_axis(arr, order, axis=-1)
    tc = tt[order]
    gc = np.full(arr.shape, np.nan)
    gc[..., periods:] = _rate(
        xc[..., periods:], xc[..., :-periods], tc[..., periods:] - tc[..., :-periods], kind,
        annualise,
    )  # fmt: skip
    gc = np.where(np.arange(n) < observed.sum(axis=-1, keepdims=True), gc, np.nan)
    np.put_along_axis(out, order, gc, axis=-1)
    return np.moveaxis(out, -1, axis)


def _first_last(observed: NDArray[np.bool_]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    n = observed.shape[-1]
    first = np.argmax(observed, axis=-1)
    last = n - 1 - np.argmax(observed[..., ::-1], axis=-1)
    return first, last


def cagr(x: ArrayLike, t: ArrayLike | None = None, *, skipna: bool = True, axis: int = -1) -> Float:
    """Compound annual growth between the first and the latest observed values (COINr).

    ``(x_last / x_first) ** (1 / (t_last - t_first)) - 1`` over the observed values of
    each slice, 0 when ``x_last == x_first`` (so 0 → 0 is 0, as in COINr's ``CAGR``), NaN
    with fewer than two observations. Without ``skipna`` a slice with any NaN gives NaN
    (and the first and last positions are used).

    Examples
    --------
    >>> cagr(np.array([np.nan, 100.0, np.nan, 121.0]), [2018, 2019, 2020, 2021]).round(12)
    np.float64(0.1)
    """
    arr = _last(x, axis)
    n = arr.shape[-1]
    tt = _times(t, n)
    observed = ~np.isnan(arr)
    count = observed.sum(axis=-1)
    if skipna:
        first, last = _first_last(observed)
        ok = count >= 2
    else:
        first = np.zeros(arr.shape[:-1], dtype=np.intp)
        last = np.full(arr.shape[:-1], n - 1, dtype=np.intp)
        ok = (count == n) & (n >= 2)
    y0 = np.take_along_axis(arr, first[..., None], axis=-1)[..., 0]
    y1 = np.take_along_axis(arr, last[..., None], axis=-1)[..., 0]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        rate = np.power(y1 / y0, 1.0 / (tt[last] - tt[first])) - 1.0
        out = np.where(y1 == y0, 0.0, rate)
    out = np.where(ok, out, np.nan)
    return out[()] if out.ndim == 0 else out


# ----------------------------------------------------------------------------- OLS on time
def ols_trend(
    y: ArrayLike,
    t: ArrayLike | None = None,
    *,
    window: ArrayLike | None = None,
    skipna: bool = True,
    axis: int = -1,
) -> tuple[Float, Float, Float, Float, Float, Float]:
    """Closed-form OLS of ``y`` on ``[1, t]`` along ``axis``, for every slice at once.

    Parameters
    ----------
    y : array_like
        Responses; NaN are dropped (``skipna``) or make the slice NaN.
    t : array_like, optional
        Regressor (1-D, aligned with ``axis``); positions by default.
    window : array_like of bool, optional
        Only these time positions are used (1-D, aligned with ``axis``).
    skipna : bool
        Drop missing values (True) or give NaN for a slice with any (False).
    axis : int
        The time axis.

    Returns
    -------
    slope, se, tvalue, pvalue, nobs, intercept : numpy.ndarray
        The slope, its classical standard error ``sqrt(s² / Sxx)`` with
        ``s² = RSS / (n - 2)``, the t statistic, the two-sided p-value (Student t,
        ``n - 2`` df), the number of observations and the intercept. Slope and intercept
        need ``n >= 2``, the rest ``n >= 3``.

    Examples
    --------
    >>> b, se, tv, p, n, a = ols_trend(np.array([1.0, 3.0, 5.0, 7.5]), [0, 1, 2, 3])
    >>> round(float(b), 10), round(float(se), 6), int(n)
    (2.15, 0.086603, 4)
    """
    arr = _last(y, axis)
    n_t = arr.shape[-1]
    tt = _times(t, n_t)
    observed = ~np.isnan(arr)
    if window is not None:
        observed = observed & np.asarray(window, dtype=bool)
        inside = np.asarray(window, dtype=bool)
    else:
        inside = np.ones(n_t, dtype=bool)
    if not skipna:
        complete = (observed == inside).all(axis=-1, keepdims=True)
        observed = observed & complete
    w = observed.astype(np.float64)
    nobs = w.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        y0 = np.where(observed, arr, 0.0)
        tbar = (w * tt).sum(axis=-1, keepdims=True) / nobs[..., None]
        ybar = y0.sum(axis=-1, keepdims=True) / nobs[..., None]
        dt = np.where(observed, tt - tbar, 0.0)
        dy = np.where(observed, y0 - ybar, 0.0)
        sxx = (dt * dt).sum(axis=-1)
        slope = (dt * dy).sum(axis=-1) / sxx
        resid = dy - slope[..., None] * dt
        rss = (resid * resid).sum(axis=-1)
        df = nobs - 2.0
        se = np.sqrt(rss / df / sxx)
        tvalue = slope / se
        pvalue = 2.0 * special.stdtr(np.where(df > 0, df, np.nan), -np.abs(tvalue))
        intercept = ybar[..., 0] - slope * tbar[..., 0]
    ok = nobs >= 2
    slope = np.where(ok, slope, np.nan)
    intercept = np.where(ok, intercept, np.nan)
    ok3 = nobs >= 3
    se, tvalue, pvalue = (np.where(ok3, v, np.nan) for v in (se, tvalue, pvalue))
    return slope, se, tvalue, pvalue, nobs, intercept


# ----------------------------------------------------------------------------- HP filter
def _hp_banded(n: int, lamb: float, weights: Float) -> Float:
    """Upper banded form (for ``solveh_banded``) of ``diag(weights) + lamb * K'K``.

    ``K`` is the ``(n - 2) x n`` second-difference matrix, so ``K'K`` is pentadiagonal.
    """
    diag = np.zeros(n)
    diag[:-2] += 1.0
    diag[1:-1] += 4.0
    diag[2:] += 1.0
    sup1 = np.zeros(n - 1)
    sup1[:-1] -= 2.0
    sup1[1:] -= 2.0
    ab = np.zeros((3, n))
    ab[0, 2:] = lamb * 1.0
    ab[1, 1:] = lamb * sup1
    ab[2] = weights + lamb * diag
    return ab


def hp_trend(x: ArrayLike, lamb: float = 100.0, *, skipna: bool = True, axis: int = -1) -> Float:
    """Hodrick–Prescott trend along ``axis``.

    The trend ``τ`` minimises ``Σ_observed (x_t − τ_t)² + λ Σ (Δ²τ_t)²``, i.e. solves
    ``(W + λ K'K) τ = W x`` with ``W`` the diagonal 0/1 matrix of observed positions and
    ``K`` the second-difference matrix. A complete series therefore gives exactly
    statsmodels' ``hpfilter`` (``W = I``). With ``skipna`` interior gaps are filled by
    the trend and positions before the first / after the last observation are NaN (no
    extrapolation); without it a series with any NaN is all NaN. Fewer than two
    observations give NaN. Slices sharing a pattern of missing values are solved together
    (one banded Cholesky factorisation, many right-hand sides).

    Examples
    --------
    >>> hp_trend(np.array([1.0, 2.0, 3.0, 4.0]), 100.0).round(12).tolist()
    [1.0, 2.0, 3.0, 4.0]
    """
    arr = _last(x, axis)
    shape = arr.shape
    n = shape[-1]
    flat = arr.reshape(-1, n)
    out = np.full(flat.shape, np.nan)
    observed = ~np.isnan(flat)
    if not skipna:
        observed &= observed.all(axis=-1, keepdims=True)
    if n < 3:  # no second differences: the trend is the series
        out = np.where(observed, flat, np.nan)
        return np.moveaxis(out.reshape(shape), -1, axis)
    if flat.shape[0]:
        patterns, inverse = np.unique(observed, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        for p, mask in enumerate(patterns):
            if mask.sum() < 2:
                continue
            rows = np.nonzero(inverse == p)[0]
            ab = _hp_banded(n, float(lamb), mask.astype(np.float64))
            rhs = np.where(mask, flat[rows], 0.0).T  # (n, rows)
            trend = linalg.solveh_banded(ab, rhs, check_finite=False).T
            if not mask.all():
                idx = np.nonzero(mask)[0]
                trend[:, : idx[0]] = np.nan
                trend[:, idx[-1] + 1 :] = np.nan
            out[rows] = trend
    return np.moveaxis(out.reshape(shape), -1, axis)


# ----------------------------------------------------------------------------- dispersion
def dispersion(
    x: ArrayLike, measure: str = "sd_log", *, skipna: bool = True, axis: int = -1
) -> Any:
    """Dispersion over ``axis`` (units): ``sd_log`` (sample sd of ``ln x``), ``cv``
    (sample sd / mean) or ``sd`` (sample sd); NaN with fewer than two observations.

    Examples
    --------
    >>> round(float(dispersion(np.array([1.0, np.e, np.e ** 2]))), 12)
    1.0
    """
    arr = _last(x, axis)
    if not skipna:
        arr = np.where(np.isnan(arr).any(axis=-1, keepdims=True), np.nan, arr)
    if measure == "sd_log":
        return nanstd_sample(log_positive(arr), axis=-1)
    sd = nanstd_sample(arr, axis=-1)
    if measure == "sd":
        return sd
    with np.errstate(divide="ignore", invalid="ignore"):
        return sd / nanmean_refined(arr, axis=-1)


# ----------------------------------------------------------------------------- regressions
def ols(
    y: ArrayLike,
    X: ArrayLike,
    *,
    cov_type: str = "nonrobust",
    use_t: bool | None = None,
    skipna: bool = True,
) -> dict[str, Float]:
    """Batched OLS of ``y`` (``..., n``) on ``X`` (``..., n, k``), one fit per leading index.

    Rows with a NaN in ``y`` or ``X`` are dropped (``skipna``; otherwise the fit is NaN).
    The fit is by QR (``X = QR``; ``b = R⁻¹Q'y``), with ``(X'X)⁻¹ = R⁻¹R⁻ᵀ``. Covariances as
    in statsmodels: ``nonrobust`` ``s²(X'X)⁻¹`` with ``s² = RSS/(n − k)``; ``HC0``–``HC3``
    ``(X'X)⁻¹ X' diag(ω) X (X'X)⁻¹`` with ``ω = e²``, ``e² n/(n − k)``, ``e²/(1 − h)``,
    ``e²/(1 − h)²`` (``h`` the leverages). P-values use Student t (``n − k`` df) when
    ``use_t``, the normal distribution otherwise; ``use_t=None`` means statsmodels'
    default (t for ``nonrobust``, normal for ``HC*``). Fits with ``n <= k`` or a
    rank-deficient ``X`` are NaN.

    Returns
    -------
    dict
        ``coefficient``, ``se``, ``tvalue``, ``pvalue`` (``..., k``); ``nobs``, ``r2``,
        ``rss`` (``...``).

    Examples
    --------
    >>> X = np.column_stack([np.ones(4), [0.0, 1.0, 2.0, 3.0]])
    >>> fit = ols(np.array([1.0, 3.0, 5.0, 7.5]), X)
    >>> fit["coefficient"].round(10).tolist(), fit["se"].round(6).tolist()
    ([0.9, 2.15], [0.162019, 0.086603])
    """
    yy = np.asarray(y, dtype=np.float64)
    XX = np.asarray(X, dtype=np.float64)
    lead = np.broadcast_shapes(yy.shape[:-1], XX.shape[:-2])
    n, k = XX.shape[-2], XX.shape[-1]
    yy = np.broadcast_to(yy, (*lead, n))
    XX = np.broadcast_to(XX, (*lead, n, k))
    mask = ~np.isnan(yy) & ~np.isnan(XX).any(axis=-1)
    if not skipna:
        mask = mask & mask.all(axis=-1, keepdims=True)
    if n <= k:  # never enough observations
        nan_k = np.full((*lead, k), np.nan)
        nan_1 = np.full(lead, np.nan)
        return {"coefficient": nan_k, "se": nan_k.copy(), "tvalue": nan_k.copy(),
                "pvalue": nan_k.copy(), "nobs": mask.sum(axis=-1).astype(np.float64),
                "r2": nan_1, "rss": nan_1.copy()}  # fmt: skip
    Xw = np.where(mask[..., None], XX, 0.0)
    yw = np.where(mask, yy, 0.0)
    nobs = mask.sum(axis=-1).astype(np.float64)
    q, r = np.linalg.qr(Xw)
    diag = np.abs(np.diagonal(r, axis1=-2, axis2=-1))
    scale = np.maximum(diag.max(axis=-1, initial=0.0), np.finfo(np.float64).tiny)
    full_rank = (diag > scale[..., None] * max(n, k) * np.finfo(np.float64).eps).all(axis=-1)
    ok = full_rank & (nobs > k)
    eye = np.broadcast_to(np.eye(k), r.shape)
    r_safe = np.where(ok[..., None, None], r, eye)
    r_inv = np.linalg.inv(r_safe)
    coef = (r_inv @ (np.swapaxes(q, -1, -2) @ yw[..., None]))[..., 0]
    xtx_inv = r_inv @ np.swapaxes(r_inv, -1, -2)
    resid = yw - (Xw @ coef[..., None])[..., 0]  # 0 in dropped rows (zeroed in Xw and yw)
    rss = (resid * resid).sum(axis=-1)
    df = nobs - k
    with np.errstate(divide="ignore", invalid="ignore"):
        if cov_type == "nonrobust":
            cov = xtx_inv * (rss / df)[..., None, None]
        else:
            u2 = resid * resid
            if cov_type in ("HC2", "HC3"):
                h = ((Xw @ xtx_inv) * Xw).sum(axis=-1)  # leverages
                u2 = u2 / (1.0 - h) if cov_type == "HC2" else u2 / (1.0 - h) ** 2
                u2 = np.where(mask, u2, 0.0)
            elif cov_type == "HC1":
                u2 = u2 * (nobs / df)[..., None]
            elif cov_type != "HC0":
                raise ValueError(f"unknown cov_type {cov_type!r}")
            meat = np.swapaxes(Xw * u2[..., None], -1, -2) @ Xw
            cov = xtx_inv @ meat @ xtx_inv
        se = np.sqrt(np.diagonal(cov, axis1=-2, axis2=-1))
        tvalue = coef / se
        t_dist = cov_type == "nonrobust" if use_t is None else use_t
        if t_dist:
            pvalue = 2.0 * special.stdtr(np.where(df > 0, df, np.nan)[..., None], -np.abs(tvalue))
        else:
            pvalue = 2.0 * special.ndtr(-np.abs(tvalue))
        ybar = yw.sum(axis=-1, keepdims=True) / nobs[..., None]
        tss = (np.where(mask, yw - ybar, 0.0) ** 2).sum(axis=-1)
        r2 = 1.0 - rss / tss
    bad = ~ok
    out = {"coefficient": coef, "se": se, "tvalue": tvalue, "pvalue": pvalue}
    for key, val in out.items():
        out[key] = np.where(bad[..., None], np.nan, val)
    out["nobs"] = nobs
    out["r2"] = np.where(bad, np.nan, r2)
    out["rss"] = np.where(bad, np.nan, rss)
    return out


def ols_line(
    y: ArrayLike,
    x: ArrayLike,
    *,
    cov_type: str = "nonrobust",
    use_t: bool | None = None,
    skipna: bool = True,
) -> dict[str, Float]:
    """:func:`ols` of ``y`` on ``[1, x]`` (both ``..., n``) in closed form: the fast path
    for one regressor.

    Centred formulas: ``b = Σ dx·dy / Sxx``, ``a = ȳ − b x̄``. In the centred model the
    sandwich is diagonal-friendly: ``var(ã) = Σω/n²``, ``cov(ã, b) = Σω·dx/(n·Sxx)``,
    ``var(b) = Σω·dx²/Sxx²`` (``ω = s²`` for ``nonrobust``, the HC weights otherwise,
    leverages ``h = 1/n + dx²/Sxx``), then ``var(a) = var(ã) − 2x̄ cov(ã, b) + x̄² var(b)``.
    Same results, NaN rules and rank check as :func:`ols`, without its batched linear
    algebra.

    Examples
    --------
    >>> fit = ols_line(np.array([1.0, 3.0, 5.0, 7.5]), np.array([0.0, 1.0, 2.0, 3.0]))
    >>> fit["coefficient"].round(10).tolist(), fit["se"].round(6).tolist()
    ([0.9, 2.15], [0.162019, 0.086603])
    """
    yy, xx = np.broadcast_arrays(np.asarray(y, dtype=np.float64), np.asarray(x, dtype=np.float64))
    mask = ~np.isnan(yy) & ~np.isnan(xx)
    if not skipna:
        mask = mask & mask.all(axis=-1, keepdims=True)
    nobs = mask.sum(axis=-1).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        xbar = np.where(mask, xx, 0.0).sum(axis=-1) / nobs
        ybar = np.where(mask, yy, 0.0).sum(axis=-1) / nobs
        dx = np.where(mask, xx - xbar[..., None], 0.0)
        dy = np.where(mask, yy - ybar[..., None], 0.0)
        sxx = (dx * dx).sum(axis=-1)
        slope = (dx * dy).sum(axis=-1) / sxx
        resid = dy - slope[..., None] * dx
        rss = (resid * resid).sum(axis=-1)
        intercept = ybar - slope * xbar
        df = nobs - 2.0
        if cov_type == "nonrobust":
            s2 = rss / df
            var_c, cov_cb, var_b = s2 / nobs, np.zeros_like(s2), s2 / sxx
        else:
            u2 = resid * resid
            if cov_type in ("HC2", "HC3"):
                h = 1.0 / nobs[..., None] + dx * dx / sxx[..., None]
                u2 = u2 / (1.0 - h) if cov_type == "HC2" else u2 / (1.0 - h) ** 2
                u2 = np.where(mask, u2, 0.0)
            elif cov_type == "HC1":
                u2 = u2 * (nobs / df)[..., None]
            elif cov_type != "HC0":
                raise ValueError(f"unknown cov_type {cov_type!r}")
            var_c = u2.sum(axis=-1) / (nobs * nobs)
            cov_cb = (u2 * dx).sum(axis=-1) / (nobs * sxx)
            var_b = (u2 * dx * dx).sum(axis=-1) / (sxx * sxx)
        var_a = var_c - 2.0 * xbar * cov_cb + xbar * xbar * var_b
        coef = np.stack([intercept, slope], axis=-1)
        se = np.sqrt(np.stack([var_a, var_b], axis=-1))
        tvalue = coef / se
        t_dist = cov_type == "nonrobust" if use_t is None else use_t
        if t_dist:
            pvalue = 2.0 * special.stdtr(np.where(df > 0, df, np.nan)[..., None], -np.abs(tvalue))
        else:
            pvalue = 2.0 * special.ndtr(-np.abs(tvalue))
        r2 = 1.0 - rss / (dy * dy).sum(axis=-1)
    # rank check of QR([1, x]): |R22| = sqrt(Sxx) against max(|R11|, |R22|) = max(√n, √Sxx)
    eps = np.finfo(np.float64).eps * max(yy.shape[-1], 2)
    root = np.sqrt(sxx)
    ok = (root > np.maximum(np.sqrt(nobs), root) * eps) & (nobs > 2)
    out = {"coefficient": coef, "se": se, "tvalue": tvalue, "pvalue": pvalue}
    for key, val in out.items():
        out[key] = np.where(ok[..., None], val, np.nan)
    out["nobs"] = nobs
    out["r2"] = np.where(ok, r2, np.nan)
    out["rss"] = np.where(ok, rss, np.nan)
    return out


def beta_convergence(
    x_start: ArrayLike,
    x_end: ArrayLike,
    horizon: float,
    controls: ArrayLike | None = None,
    *,
    cov_type: str = "HC1",
    use_t: bool | None = None,
    skipna: bool = True,
    axis: int = -1,
) -> dict[str, Float]:
    """β-convergence regression over units (``axis``), for every leading slice at once.

    ``g_i = (ln x_end − ln x_start) / T`` regressed on ``[1, ln x_start, controls]``
    (``controls`` has shape ``..., n, c``: units on the second-to-last axis whatever
    ``axis`` is, one column per control). Returns the
    :func:`ols` results plus ``speed`` ``λ = −ln(1 + βT)/T`` (NaN when ``1 + βT <= 0``)
    and ``half_life`` ``ln 2 / λ`` (NaN unless ``λ > 0``), β being the coefficient on
    ``ln x_start`` (the second). Without controls the fit is :func:`ols_line`.

    Examples
    --------
    >>> x0 = np.array([1.0, 2.0, 4.0, 8.0])
    >>> x1 = x0 ** 0.5 * 10  # the log gap halves over 10 years
    >>> fit = beta_convergence(x0, x1, 10.0)
    >>> round(float(fit["coefficient"][1]), 12), round(float(fit["half_life"]), 12)
    (-0.05, 10.0)
    """
    a0 = _last(x_start, axis)
    a1 = _last(x_end, axis)
    l0 = log_positive(a0)
    g = (log_positive(a1) - l0) / horizon
    if controls is None:  # absolute convergence: closed form
        fit = ols_line(g, l0, cov_type=cov_type, use_t=use_t, skipna=skipna)
    else:
        lead = np.broadcast_shapes(g.shape[:-1], l0.shape[:-1])
        n = g.shape[-1]
        c = np.asarray(controls, dtype=np.float64)
        lead = np.broadcast_shapes(lead, c.shape[:-2])
        X = np.concatenate(
            [np.ones((*lead, n, 1)), np.broadcast_to(l0, (*lead, n))[..., None],
             np.broadcast_to(c, (*lead, n, c.shape[-1]))],
            axis=-1,
        )  # fmt: skip
        fit = ols(g, X, cov_type=cov_type, use_t=use_t, skipna=skipna)
    beta = fit["coefficient"][..., 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        base = 1.0 + beta * horizon
        speed = np.where(base > 0, -np.log(np.where(base > 0, base, 1.0)) / horizon, np.nan)
        half = np.where(speed > 0, np.log(2.0) / np.where(speed > 0, speed, 1.0), np.nan)
    fit["speed"] = speed
    fit["half_life"] = half
    return fit


# ----------------------------------------------------------------------------- rank mobility
def kendall_tau(
    a: ArrayLike,
    b: ArrayLike,
    *,
    method: str = "auto",
    skipna: bool = True,
    axis: int = -1,
) -> tuple[Float, Float, Float]:
    """Kendall's τ_b between ``a`` and ``b`` along ``axis`` with ``scipy.stats.kendalltau``.

    Pairs with a NaN are dropped (``skipna``; otherwise the slice is NaN). Returns
    ``(tau, pvalue, nobs)``; fewer than two pairs or a constant series give NaN, silently.
    SciPy has no batched τ, so this loops over the leading slices in Python.

    Examples
    --------
    >>> tau, p, n = kendall_tau([12, 2, 1, 12, 2], [1, 4, 7, 1, 0])
    >>> round(float(tau), 12), round(float(p), 12), int(n)
    (-0.471404520791, 0.282745459933, 5)
    """
    aa, bb = np.broadcast_arrays(_last(a, axis), _last(b, axis))
    lead = aa.shape[:-1]
    fa = aa.reshape(-1, aa.shape[-1])
    fb = bb.reshape(-1, bb.shape[-1])
    tau = np.full(fa.shape[0], np.nan)
    pval = np.full(fa.shape[0], np.nan)
    both = ~np.isnan(fa) & ~np.isnan(fb)
    if not skipna:
        both &= both.all(axis=-1, keepdims=True)
    nobs = both.sum(axis=-1).astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in np.nonzero(nobs >= 2)[0]:
            m = both[i]
            res = stats.kendalltau(fa[i, m], fb[i, m], method=method)
            tau[i], pval[i] = float(res.statistic), float(res.pvalue)
    return tau.reshape(lead), pval.reshape(lead), nobs.reshape(lead)


def mean_abs_rank_change(
    a: ArrayLike, b: ArrayLike, *, skipna: bool = True, axis: int = -1
) -> Float:
    """Mean ``|rank_b − rank_a|`` over units observed in both (ranks 1 = highest, ties min).

    Units are ranked among those observed in both periods, so the two rankings cover the
    same units. NaN with no common unit (or, without ``skipna``, any missing value).

    Examples
    --------
    >>> float(mean_abs_rank_change([3.0, 2.0, 1.0, np.nan], [1.0, 2.0, 3.0, 5.0]))
    1.3333333333333333
    """
    aa, bb = np.broadcast_arrays(_last(a, axis), _last(b, axis))
    both = ~np.isnan(aa) & ~np.isnan(bb)
    if not skipna:
        both &= both.all(axis=-1, keepdims=True)
    ra = rank_descending(np.where(both, aa, np.nan))
    rb = rank_descending(np.where(both, bb, np.nan))
    diff = np.where(both, np.abs(rb - ra), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = diff.sum(axis=-1) / both.sum(axis=-1)
    return out


# ----------------------------------------------------------------------------- transitions
def quantile_classes(
    x: ArrayLike,
    classes: int | Sequence[float] = 5,
    *,
    axis: int | tuple[int, ...] = -1,
) -> Float:
    """Class (0 … K−1) of each value: quantile classes over ``axis`` or fixed cut points.

    With an integer ``K`` the cut points are the empirical quantiles ``k/K``
    (``k = 1 … K−1``, NumPy's default "linear" = R's type 7) of the observed values of
    each slice over ``axis`` (a tuple pools several axes). With a sequence of increasing
    cut points ``c_1 < … < c_{K−1}`` they are used as given. Intervals are closed on the
    right: ``x <= c_1`` is class 0, ``c_1 < x <= c_2`` class 1, … NaN stays NaN.

    Examples
    --------
    >>> quantile_classes(np.array([1.0, 2.0, 3.0, 4.0, np.nan]), 2).tolist()
    [0.0, 0.0, 1.0, 1.0, nan]
    """
    arr = np.asarray(x, dtype=np.float64)
    if isinstance(classes, int | np.integer):
        k = int(classes)
        q = np.arange(1, k) / k
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            cuts = np.nanquantile(arr, q, axis=axis, keepdims=True)  # (K-1, ...)
    else:
        cuts = np.asarray(classes, dtype=np.float64).reshape((-1,) + (1,) * arr.ndim)
    with np.errstate(invalid="ignore"):
        cls = (arr[None] > cuts).sum(axis=0).astype(np.float64)
    return np.where(np.isnan(arr), np.nan, cls)


def transition_counts(
    c_from: ArrayLike, c_to: ArrayLike, n_classes: int, *, skipna: bool = True, axis: int = -1
) -> Float:
    """Counts of units moving from class ``i`` to class ``j`` (``..., K, K``).

    ``c_from`` and ``c_to`` hold classes 0 … K−1 (NaN = missing) over units on ``axis``.
    Units missing in either period are skipped (``skipna``; otherwise the counts of a
    slice with any missing unit are NaN).

    Examples
    --------
    >>> transition_counts([0.0, 0.0, 1.0, np.nan], [0.0, 1.0, 1.0, 0.0], 2).tolist()
    [[1.0, 1.0], [0.0, 1.0]]
    """
    a, b = np.broadcast_arrays(_last(c_from, axis), _last(c_to, axis))
    lead = a.shape[:-1]
    fa = a.reshape(-1, a.shape[-1])
    fb = b.reshape(-1, b.shape[-1])
    valid = ~np.isnan(fa) & ~np.isnan(fb)
    kk = n_classes * n_classes
    rows = np.broadcast_to(np.arange(fa.shape[0])[:, None], fa.shape)
    idx = rows[valid] * kk + (fa[valid] * n_classes + fb[valid]).astype(np.intp)
    counts = np.bincount(idx, minlength=fa.shape[0] * kk).astype(np.float64)
    counts = counts.reshape(fa.shape[0], n_classes, n_classes)
    if not skipna:
        counts[~valid.all(axis=-1)] = np.nan
    return counts.reshape((*lead, n_classes, n_classes))


# ----------------------------------------------------------------------------- DEI states
def _threshold(x: Float, split: Any, valid: NDArray[np.bool_]) -> Float:
    if isinstance(split, str):
        vals = np.where(valid, x, np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            if split == "median":
                return np.asarray(np.nanmedian(vals, axis=-1, keepdims=True))
            return np.asarray(nanmean_refined(vals, axis=-1))[..., None]
    return np.broadcast_to(np.asarray(split, dtype=np.float64), (*x.shape[:-1], 1))


def state_codes(
    level: ArrayLike,
    momentum: ArrayLike,
    *,
    level_split: Any = "median",
    momentum_split: Any = "median",
    ties: str = "high",
    skipna: bool = True,
    axis: int = -1,
) -> tuple[Float, Float, Float]:
    """Digital Evolution Index states over units (``axis``), as codes.

    A value is *high* when it is above its threshold, or equal to it if
    ``ties == "high"``. Code ``level_high + 2 * momentum_high`` indexes
    :data:`STATE_LABELS` (0 watch out, 1 stall out, 2 break out, 3 stand out); NaN where
    either input is missing. Thresholds are numbers (broadcast over the leading dims) or
    ``"median"`` / ``"mean"`` of the units observed in *both* inputs (all units must be
    observed unless ``skipna``). Returns ``(codes, level_threshold,
    momentum_threshold)``, the thresholds without the unit axis.

    Examples
    --------
    >>> codes, lt, mt = state_codes([1.0, 2.0, 3.0, 4.0], [4.0, 1.0, 3.0, 2.0])
    >>> [STATE_LABELS[int(c)] for c in codes], float(lt), float(mt)
    (['break out', 'watch out', 'stand out', 'stall out'], 2.5, 2.5)
    """
    lv, mo = np.broadcast_arrays(_last(level, axis), _last(momentum, axis))
    valid = ~np.isnan(lv) & ~np.isnan(mo)
    if not skipna:
        valid &= valid.all(axis=-1, keepdims=True)
    lt = _threshold(lv, level_split, valid)
    mt = _threshold(mo, momentum_split, valid)
    with np.errstate(invalid="ignore"):
        if ties == "high":
            hi_l, hi_m = lv >= lt, mo >= mt
        else:
            hi_l, hi_m = lv > lt, mo > mt
    ok = valid & ~np.isnan(lt) & ~np.isnan(mt)
    codes = np.where(ok, hi_l.astype(np.float64) + 2.0 * hi_m, np.nan)
    return codes, np.asarray(lt)[..., 0], np.asarray(mt)[..., 0]
