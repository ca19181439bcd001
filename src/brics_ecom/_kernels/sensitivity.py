"""Uncertainty and sensitivity kernels, pure NumPy and SciPy.

Contents
--------
:func:`saltelli_design`, :func:`split_outputs`
    The Saltelli design: base matrices ``A`` and ``B`` (``N × k``) and the ``k`` matrices
    ``AB_i`` (``A`` with column ``i`` taken from ``B``), stacked as ``[A; B; AB_1; …;
    AB_k]`` (``N·(k + 2)`` rows), and the inverse split of the model outputs.
:func:`sobol_indices`
    First-order (Saltelli et al. 2010) and total-order (Jansen 1999) Sobol indices,
    vectorised over any trailing output dims (one output per unit, year, ...).
:func:`sobol_bootstrap`
    Bootstrap replicates of both indices, all replicates of a batch at once.
:func:`sobol_confidence`
    Indices plus bootstrap confidence intervals (normal half-width and percentile).
:func:`uniform_to_index`, :func:`uniform_to_key`
    Discrete factors from uniform samples (``floor(u·k)``, or by cumulative
    probabilities) and 53-bit noise keys.
:func:`hashed_uniform`, :func:`hashed_noise`
    Counter-based random numbers: the noise of draw ``d`` at cell ``c`` is a fixed
    function of ``(key_d, c)`` (SplitMix64), so data noise can be generated chunk by chunk
    and is identical whatever the chunking.
:func:`draw_summary`
    Mean, median, quantiles (R type 7), rank intervals and top-k probabilities over the
    draw axis.

Conventions: the draw (model run) axis is **first** (axis 0); trailing axes are outputs.
Inputs are never modified.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> a, b = rng.random((4096, 2)), rng.random((4096, 2))
>>> x = saltelli_design(a, b)
>>> y = 3 * x[:, 0] + 4 * x[:, 1]  # additive: S1 = ST = (9, 16) / 25
>>> s1, st = sobol_indices(*split_outputs(y, 4096, 2))
>>> np.round(st, 1).tolist()
[0.4, 0.6]
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtri
from scipy.stats import norm

from brics_ecom.errors import InvalidParameterError

__all__ = [
    "draw_summary",
    "hashed_noise",
    "hashed_uniform",
    "saltelli_design",
    "sobol_bootstrap",
    "sobol_confidence",
    "sobol_indices",
    "split_outputs",
    "splitmix64",
    "uniform_to_index",
    "uniform_to_key",
]

FloatArray = NDArray[np.float64]

#: Largest noise key + 1 (keys are 53-bit integers, exactly representable as floats).
KEY_SPACE = 2**53


# --------------------------------------------------------------------------------------
# Saltelli design
# --------------------------------------------------------------------------------------


def saltelli_design(a: ArrayLike, b: ArrayLike) -> FloatArray:
    """Stack ``[A; B; AB_1; …; AB_k]``: the ``N·(k + 2)`` points of a Saltelli design.

    ``AB_i`` is ``A`` with its column ``i`` replaced by column ``i`` of ``B`` (Saltelli et
    al. 2010). Evaluating the model on these rows gives everything
    :func:`sobol_indices` needs.

    Parameters
    ----------
    a, b : array_like, shape (N, k)
        Two independent samples of the ``k`` factors (e.g. on the unit hypercube).

    Returns
    -------
    numpy.ndarray, shape (N·(k + 2), k)

    Examples
    --------
    >>> saltelli_design([[0.0, 0.0]], [[1.0, 1.0]]).tolist()
    [[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0]]
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or a.shape != b.shape:
        raise InvalidParameterError(
            f"saltelli_design needs two (N, k) matrices of the same shape; got {a.shape} and "
            f"{b.shape}."
        )
    n, k = a.shape
    ab = np.broadcast_to(a, (k, n, k)).copy()
    cols = np.arange(k)
    ab[cols, :, cols] = b.T  # AB_i[:, i] = B[:, i]
    return np.concatenate([a, b, ab.reshape(k * n, k)], axis=0)


def split_outputs(y: ArrayLike, n: int, k: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Split model outputs on :func:`saltelli_design` rows into ``f(A), f(B), f(AB)``.

    Parameters
    ----------
    y : array_like, shape (N·(k + 2), ...)
        Outputs, in the row order of the design; trailing dims are kept.
    n, k : int
        Base sample size and number of factors.

    Returns
    -------
    f_a, f_b : numpy.ndarray, shape (N, ...)
    f_ab : numpy.ndarray, shape (k, N, ...)

    Examples
    --------
    >>> fa, fb, fab = split_outputs(np.arange(8.0), 2, 2)
    >>> fa.tolist(), fb.tolist(), fab.tolist()
    ([0.0, 1.0], [2.0, 3.0], [[4.0, 5.0], [6.0, 7.0]])
    """
    y = np.asarray(y, dtype=np.float64)
    if y.shape[0] != n * (k + 2):
        raise InvalidParameterError(
            f"split_outputs: expected N·(k + 2) = {n * (k + 2)} outputs along the first axis; "
            f"got {y.shape[0]}."
        )
    return y[:n], y[n : 2 * n], y[2 * n :].reshape((k, n, *y.shape[1:]))


# --------------------------------------------------------------------------------------
# Sobol estimators
# --------------------------------------------------------------------------------------


def _centre(
    f_a: FloatArray, f_b: FloatArray, f_ab: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Subtract the mean over every model run (per output), as SALib does.

    The Saltelli (2010) first-order estimator is not invariant to a shift of the output
    in finite samples; centring makes it so and improves its accuracy.
    """
    n, k = f_a.shape[0], f_ab.shape[0]
    total = f_a.sum(axis=0) + f_b.sum(axis=0) + f_ab.sum(axis=(0, 1))
    mean = total / (n * (k + 2))
    return f_a - mean, f_b - mean, f_ab - mean


def _estimate(
    f_a: FloatArray, f_b: FloatArray, f_ab: FloatArray, axis: int
) -> tuple[FloatArray, FloatArray]:
    """S1 and ST along ``axis`` (the run axis of ``f_a``/``f_b``; ``f_ab`` has ``k`` first).

    ``f_a`` and ``f_b`` have shape (..., N, ...) with the run axis at ``axis``; ``f_ab``
    has a leading factor axis before that shape.
    """
    var = np.var(np.concatenate([f_a, f_b], axis=axis), axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        first = np.mean(f_b * (f_ab - f_a), axis=axis + 1 if axis >= 0 else axis) / var
        total = 0.5 * np.mean((f_a - f_ab) ** 2, axis=axis + 1 if axis >= 0 else axis) / var
    zero = ~(var > 0)
    if zero.any():
        first = np.where(zero, np.nan, first)
        total = np.where(zero, np.nan, total)
    return first, total


def sobol_indices(f_a: ArrayLike, f_b: ArrayLike, f_ab: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """First-order and total-order Sobol indices from Saltelli-design outputs.

    With the outputs centred on their mean over every run and
    ``V = Var([f(A); f(B)])`` (population variance),

    * first order (Saltelli et al. 2010): ``S_i = mean(f(B) · (f(AB_i) − f(A))) / V``;
    * total order (Jansen 1999): ``ST_i = mean((f(A) − f(AB_i))²) / (2 V)``.

    Parameters
    ----------
    f_a, f_b : array_like, shape (N, ...)
        Outputs on the rows of ``A`` and ``B``; trailing dims are separate outputs (one
        per unit, say), each analysed on its own.
    f_ab : array_like, shape (k, N, ...)
        Outputs on ``AB_1 … AB_k``.

    Returns
    -------
    s1, st : numpy.ndarray, shape (k, ...)
        NaN where the output does not vary (``V = 0``).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> a, b = rng.random((2**14, 3)), rng.random((2**14, 3))
    >>> y = saltelli_design(a, b) @ np.array([1.0, 2.0, 0.0])
    >>> s1, st = sobol_indices(*split_outputs(y, 2**14, 3))
    >>> np.round(s1, 1).tolist(), np.round(st, 1).tolist()  # (1, 4, 0) / 5
    ([0.2, 0.8, 0.0], [0.2, 0.8, 0.0])
    """
    fa, fb, fab = _check_outputs(f_a, f_b, f_ab)
    fa, fb, fab = _centre(fa, fb, fab)
    return _estimate(fa, fb, fab, axis=0)


def _check_outputs(
    f_a: ArrayLike, f_b: ArrayLike, f_ab: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    fa = np.asarray(f_a, dtype=np.float64)
    fb = np.asarray(f_b, dtype=np.float64)
    fab = np.asarray(f_ab, dtype=np.float64)
    if fa.shape != fb.shape or fab.shape[1:] != fa.shape or fa.ndim < 1:
        raise InvalidParameterError(
            f"Sobol outputs must have shapes f_a = f_b = (N, ...) and f_ab = (k, N, ...); got "
            f"{fa.shape}, {fb.shape} and {fab.shape}."
        )
    if fa.shape[0] < 2:
        raise InvalidParameterError(
            f"Sobol indices need at least 2 base samples (N ≥ 2); got N = {fa.shape[0]}."
        )
    return fa, fb, fab


def sobol_bootstrap(
    f_a: ArrayLike, f_b: ArrayLike, f_ab: ArrayLike, index: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Bootstrap replicates of the Sobol indices, every replicate at once.

    Each replicate resamples the rows (base samples) jointly in ``A``, ``B`` and every
    ``AB_i``; the outputs are centred once, on the full sample.

    Parameters
    ----------
    f_a, f_b, f_ab
        As for :func:`sobol_indices`.
    index : array_like of int, shape (R, N)
        Resampled row indices of ``R`` replicates.

    Returns
    -------
    s1, st : numpy.ndarray, shape (R, k, ...)

    Examples
    --------
    >>> fa, fb = np.array([0.0, 1.0, 2.0]), np.array([1.0, 2.0, 0.0])
    >>> fab = np.array([[1.0, 1.0, 2.0]])
    >>> s1, st = sobol_bootstrap(fa, fb, fab, [[0, 1, 2], [0, 1, 2]])
    >>> bool(np.allclose(s1[0], sobol_indices(fa, fb, fab)[0]))
    True
    """
    fa, fb, fab = _centre(*_check_outputs(f_a, f_b, f_ab))
    idx = np.asarray(index, dtype=np.intp)
    if idx.ndim != 2 or idx.shape[1] != fa.shape[0]:
        raise InvalidParameterError(
            f"sobol_bootstrap: 'index' must have shape (R, N = {fa.shape[0]}); got {idx.shape}."
        )
    ra, rb = fa[idx], fb[idx]  # (R, N, ...)
    rab = np.moveaxis(fab[:, idx], 0, 1)  # (R, k, N, ...)
    return _estimate_boot(ra, rb, rab)


def _estimate_boot(
    ra: FloatArray, rb: FloatArray, rab: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """S1, ST of bootstrap samples: ``ra``/``rb`` (R, N, ...), ``rab`` (R, k, N, ...)."""
    var = np.var(np.concatenate([ra, rb], axis=1), axis=1)[:, None]  # (R, 1, ...)
    with np.errstate(invalid="ignore", divide="ignore"):
        first = np.mean(rb[:, None] * (rab - ra[:, None]), axis=2) / var
        total = 0.5 * np.mean((ra[:, None] - rab) ** 2, axis=2) / var
    zero = np.broadcast_to(~(var > 0), first.shape)
    if zero.any():
        first = np.where(zero, np.nan, first)
        total = np.where(zero, np.nan, total)
    return first, total


def sobol_confidence(
    f_a: ArrayLike,
    f_b: ArrayLike,
    f_ab: ArrayLike,
    *,
    n_bootstrap: int = 1000,
    conf: float = 0.95,
    rng: np.random.Generator | None = None,
    max_bytes: int = 256 * 2**20,
) -> dict[str, FloatArray]:
    """Sobol indices with bootstrap confidence intervals.

    Parameters
    ----------
    f_a, f_b, f_ab
        As for :func:`sobol_indices`.
    n_bootstrap : int, default 1000
        Bootstrap replicates (0: no intervals; the interval entries are NaN).
    conf : float, default 0.95
        Confidence level.
    rng : numpy.random.Generator, optional
        Source of the resampled indices (a fresh unseeded generator if ``None``).
    max_bytes : int
        Memory budget of one batch of replicates (replicates are computed in batches,
        each batch vectorised).

    Returns
    -------
    dict
        ``S1``, ``ST`` (shape ``(k, ...)``); ``S1_conf``, ``ST_conf``: half-widths
        ``z_{(1+conf)/2} · sd`` of the bootstrap replicates (SALib's convention);
        ``S1_low``, ``S1_high``, ``ST_low``, ``ST_high``: percentile intervals.

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> a, b = rng.random((1024, 2)), rng.random((1024, 2))
    >>> y = saltelli_design(a, b) @ np.array([1.0, 1.0])
    >>> out = sobol_confidence(*split_outputs(y, 1024, 2), n_bootstrap=200, rng=rng)
    >>> bool((out["ST_low"] < 0.5).all() and (out["ST_high"] > 0.5).all())
    True
    """
    fa, fb, fab = _check_outputs(f_a, f_b, f_ab)
    s1, st = sobol_indices(fa, fb, fab)
    out = {"S1": s1, "ST": st}
    nan = np.full_like(s1, np.nan)
    if n_bootstrap == 0:
        for key in ("S1", "ST"):
            for suffix in ("conf", "low", "high"):
                out[f"{key}_{suffix}"] = nan.copy()
        return out
    if n_bootstrap < 2:
        raise InvalidParameterError(
            f"The 'n_bootstrap' parameter must be 0 or at least 2; got {n_bootstrap}."
        )
    if not 0 < conf < 1:
        raise InvalidParameterError(f"The 'conf' parameter must be in (0, 1); got {conf!r}.")
    gen = rng if rng is not None else np.random.default_rng()
    n, k = fa.shape[0], fab.shape[0]
    per_rep = 8 * n * max(1, int(np.prod(fa.shape[1:]))) * (2 * k + 6)
    batch = int(max(1, min(n_bootstrap, max_bytes // max(per_rep, 1))))
    index = gen.integers(0, n, size=(n_bootstrap, n))  # drawn up front: batch-independent
    reps1, repst = [], []
    for start in range(0, n_bootstrap, batch):
        b1, bt = sobol_bootstrap(fa, fb, fab, index[start : start + batch])
        reps1.append(b1)
        repst.append(bt)
    boot = {"S1": np.concatenate(reps1), "ST": np.concatenate(repst)}
    z = float(norm.ppf(0.5 + conf / 2))
    lo_q, hi_q = (1 - conf) / 2, (1 + conf) / 2
    for key, reps in boot.items():
        with np.errstate(invalid="ignore"):
            valid = ~np.isnan(reps).any(axis=0)
            sd = np.std(reps, axis=0, ddof=1)
            q = np.quantile(np.where(valid, reps, 0.0), [lo_q, hi_q], axis=0)
        out[f"{key}_conf"] = np.where(valid, z * sd, np.nan)
        out[f"{key}_low"] = np.where(valid, q[0], np.nan)
        out[f"{key}_high"] = np.where(valid, q[1], np.nan)
    return out


# --------------------------------------------------------------------------------------
# factors from uniform samples
# --------------------------------------------------------------------------------------


def uniform_to_index(u: ArrayLike, k: int, probs: ArrayLike | None = None) -> NDArray[np.intp]:
    """Discrete alternatives ``0 … k − 1`` from uniform samples on ``[0, 1)``.

    Equal probabilities: ``floor(u · k)`` (clipped to ``k − 1``). With ``probs``: the
    first alternative whose cumulative probability exceeds ``u``.

    Examples
    --------
    >>> uniform_to_index([0.0, 0.49, 0.5, 0.999], 2).tolist()
    [0, 0, 1, 1]
    >>> uniform_to_index([0.05, 0.5], 2, probs=[0.1, 0.9]).tolist()
    [0, 1]
    """
    u = np.asarray(u, dtype=np.float64)
    if probs is None:
        idx = np.floor(u * k).astype(np.intp)
    else:
        cum = np.cumsum(np.asarray(probs, dtype=np.float64))
        cum /= cum[-1]
        idx = np.searchsorted(cum, u, side="right").astype(np.intp)
    return np.clip(idx, 0, k - 1)


def uniform_to_key(u: ArrayLike) -> NDArray[np.int64]:
    """53-bit integer keys ``floor(u · 2⁵³)`` (one noise realisation per key).

    Examples
    --------
    >>> uniform_to_key([0.0, 0.5]).tolist()
    [0, 4503599627370496]
    """
    u = np.asarray(u, dtype=np.float64)
    return np.clip(np.floor(u * KEY_SPACE), 0, KEY_SPACE - 1).astype(np.int64)


# --------------------------------------------------------------------------------------
# counter-based noise
# --------------------------------------------------------------------------------------

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def splitmix64(x: ArrayLike) -> NDArray[np.uint64]:
    """The SplitMix64 finaliser (Steele, Lea and Flood 2014), elementwise on uint64.

    A bijective mixer of 64-bit integers: consecutive inputs give statistically
    independent-looking outputs, which makes it a counter-based random number generator.

    Examples
    --------
    >>> hex(int(splitmix64(np.array([0], dtype=np.uint64))[0]))
    '0xe220a8397b1dcdaf'
    """
    z = np.asarray(x, dtype=np.uint64) + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return np.asarray(z ^ (z >> np.uint64(31)), dtype=np.uint64)


def hashed_uniform(keys: ArrayLike, n_cells: int) -> FloatArray:
    """Uniform numbers on the open interval (0, 1), shape ``(len(keys), n_cells)``.

    Row ``d`` depends only on ``keys[d]`` (and the cell index), never on the other rows,
    so a block of draws can be generated on its own.

    Examples
    --------
    >>> u = hashed_uniform([7, 8], 3)
    >>> bool(np.array_equal(u[1], hashed_uniform([8], 3)[0])), bool(((u > 0) & (u < 1)).all())
    (True, True)
    """
    k = splitmix64(np.asarray(keys, dtype=np.int64).astype(np.uint64))
    cells = np.arange(n_cells, dtype=np.uint64)
    bits = splitmix64(k[:, None] ^ splitmix64(cells)[None, :])
    return ((bits >> np.uint64(11)).astype(np.float64) + 0.5) / float(KEY_SPACE)


def hashed_noise(keys: ArrayLike, n_cells: int, dist: str = "normal") -> FloatArray:
    """Standard noise per (key, cell): ``N(0, 1)`` or ``U(−1, 1)``.

    Examples
    --------
    >>> e = hashed_noise(np.arange(200), 500)
    >>> bool(abs(e.mean()) < 0.01), round(float(e.std()), 1)
    (True, 1.0)
    """
    u = hashed_uniform(keys, n_cells)
    if dist == "normal":
        return np.asarray(ndtri(u), dtype=np.float64)
    if dist == "uniform":
        return 2.0 * u - 1.0
    raise InvalidParameterError(f"The noise 'dist' must be 'normal' or 'uniform'; got {dist!r}.")


# --------------------------------------------------------------------------------------
# summaries over draws
# --------------------------------------------------------------------------------------


def draw_summary(
    scores: ArrayLike,
    ranks: ArrayLike,
    nominal_ranks: ArrayLike,
    *,
    quantiles: tuple[float, ...] = (0.05, 0.95),
    top_k: tuple[int, ...] = (1, 3, 10),
) -> dict[str, Any]:
    """Statistics of scores and ranks over the draw axis (axis 0).

    Quantiles are R's type 7 (linear interpolation, NumPy's default). Missing values are
    skipped; a unit missing in every draw gives NaN.

    Parameters
    ----------
    scores, ranks : array_like, shape (draw, ...)
    nominal_ranks : array_like, shape (...)
    quantiles : tuple of float
    top_k : tuple of int

    Returns
    -------
    dict
        ``score_mean``, ``score_median``, ``score_sd``, ``score_q`` (quantile, ...),
        ``rank_mean``, ``rank_median``, ``rank_q``, ``rank_min``, ``rank_max``,
        ``mean_abs_rank_change`` and ``p_top`` (k, ...).

    Examples
    --------
    >>> s = np.array([[3.0, 1.0], [1.0, 3.0], [3.0, 2.0]])
    >>> r = np.array([[1.0, 2.0], [2.0, 1.0], [1.0, 2.0]])
    >>> out = draw_summary(s, r, np.array([1.0, 2.0]), quantiles=(0.5,), top_k=(1,))
    >>> out["rank_mean"].round(3).tolist(), out["p_top"].round(3).tolist()
    ([1.333, 1.667], [[0.667, 0.333]])
    """
    s = np.asarray(scores, dtype=np.float64)
    r = np.asarray(ranks, dtype=np.float64)
    nom = np.asarray(nominal_ranks, dtype=np.float64)
    q = np.asarray(quantiles, dtype=np.float64)
    has_nan = bool(np.isnan(s).any() or np.isnan(r).any())
    out: dict[str, Any] = {}
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices give NaN, quietly
        if has_nan:
            out["score_mean"] = np.nanmean(s, axis=0)
            out["score_sd"] = np.nanstd(s, axis=0, ddof=1)
            out["score_median"] = np.nanmedian(s, axis=0)
            out["score_q"] = np.nanquantile(s, q, axis=0)
            out["rank_mean"] = np.nanmean(r, axis=0)
            out["rank_median"] = np.nanmedian(r, axis=0)
            out["rank_q"] = np.nanquantile(r, q, axis=0)
            out["rank_min"] = np.nanmin(r, axis=0)
            out["rank_max"] = np.nanmax(r, axis=0)
            out["mean_abs_rank_change"] = np.nanmean(np.abs(r - nom), axis=0)
            n_ok = (~np.isnan(r)).sum(axis=0)
            out["p_top"] = np.stack([(r <= k).sum(axis=0) / n_ok for k in top_k])
        else:
            out["score_mean"] = s.mean(axis=0)
            out["score_sd"] = s.std(axis=0, ddof=1)
            out["score_median"] = np.median(s, axis=0)
            out["score_q"] = np.quantile(s, q, axis=0)
            out["rank_mean"] = r.mean(axis=0)
            out["rank_median"] = np.median(r, axis=0)
            out["rank_q"] = np.quantile(r, q, axis=0)
            out["rank_min"] = r.min(axis=0)
            out["rank_max"] = r.max(axis=0)
            out["mean_abs_rank_change"] = np.abs(r - nom).mean(axis=0)
            out["p_top"] = np.stack([(r <= k).mean(axis=0) for k in top_k])
    return out
