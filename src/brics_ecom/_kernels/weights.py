"""Weighting kernels, pure NumPy and SciPy.

Shapes follow the aggregation kernels: data are ``(..., unit, member)`` (``member`` = the
indicators, or the aggregates of one level), weights ``(..., member)`` or
``(..., node)``. Leading dims (years, draws, scenarios) are broadcast over wherever the
method is a closed-form array expression; the linear programmes of benefit-of-the-doubt
work on one ``(unit, member)`` slice at a time.

Contents
--------
:func:`noisy_weights`
    COINr's ``get_noisy_weights``: ``w * (1 + U(-f, f))`` for every draw at once.
:func:`entropy_weights`, :func:`critic_weights`
    Data-driven weights within groups of members (Shannon entropy; CRITIC).
:func:`pairwise_corr`, :func:`corr_with`
    NaN-aware (pairwise-complete) Pearson correlations.
:func:`bod_closed_form`, :func:`bod_lp`, :func:`bod_common`
    Benefit-of-the-doubt (output-only DEA with a unit input, constant returns).
:func:`balance_objective`, :func:`infomax_objective`
    COINr's ``get_opt_weights`` objectives.
:func:`nelder_mead_r`
    R's ``optim(method = "Nelder-Mead")`` (``nmmin``), to replay COINr's optimiser.

Examples
--------
>>> import numpy as np
>>> y = np.array([[1.0, 0.0], [0.0, 1.0], [0.9, 0.9]])
>>> scores, _, _ = bod_lp(y)
>>> np.round(scores, 12).tolist()
[1.0, 1.0, 1.0]
>>> bod_closed_form(y)[0].tolist()  # a lower bound only: unit 3 really scores 1
[1.0, 1.0, 0.9]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import linprog

from brics_ecom.errors import DataError, InvalidParameterError

__all__ = [
    "BoDInfeasibleError",
    "NelderMeadResult",
    "balance_objective",
    "bod_closed_form",
    "bod_common",
    "bod_lp",
    "corr_with",
    "critic_weights",
    "entropy_weights",
    "group_normalise",
    "infomax_objective",
    "nelder_mead_r",
    "noisy_weights",
    "pairwise_corr",
]

FloatArray = NDArray[np.float64]

#: Divergences ``1 - e`` at most this small are rounding noise (a constant member).
_ENTROPY_ROUNDING = 1e-12


# --------------------------------------------------------------------------------------
# noisy weights
# --------------------------------------------------------------------------------------


def noisy_weights(
    weights: ArrayLike, factors: ArrayLike, n: int, rng: np.random.Generator
) -> FloatArray:
    """``n`` random perturbations ``w * (1 + f * (2 U - 1))``, ``U ~ Uniform[0, 1)``.

    COINr's ``get_noisy_weights``: each weight moves by up to ``± f`` of its nominal
    value, independently. Nodes with ``f = 0`` are returned unchanged (bit for bit) and
    consume no random numbers.

    Parameters
    ----------
    weights : array_like, shape (node,)
        Nominal weights.
    factors : array_like, shape (node,)
        Noise factor of each node, in ``[0, 1)``; 0 leaves the node unchanged.
    n : int
        Number of draws.
    rng : numpy.random.Generator
        Source of the uniform numbers.

    Returns
    -------
    numpy.ndarray, shape (n, node)

    Examples
    --------
    >>> w = noisy_weights([1.0, 2.0], [0.0, 0.5], 3, np.random.default_rng(0))
    >>> w[:, 0].tolist()
    [1.0, 1.0, 1.0]
    >>> bool(((w[:, 1] >= 1.0) & (w[:, 1] <= 3.0)).all())
    True
    """
    w = np.asarray(weights, dtype=np.float64)
    f = np.broadcast_to(np.asarray(factors, dtype=np.float64), w.shape)
    out = np.repeat(w[np.newaxis, :], n, axis=0)
    cols = np.flatnonzero(f != 0)
    if cols.size:
        u = rng.random((n, cols.size))
        out[:, cols] = w[cols] * (1.0 + f[cols] * (2.0 * u - 1.0))
    return out


# --------------------------------------------------------------------------------------
# groups and correlations
# --------------------------------------------------------------------------------------


def group_normalise(values: ArrayLike, group: ArrayLike) -> FloatArray:
    """Divide ``values`` (..., member) by their sum within each group of members.

    A group whose values sum to 0 gives NaN (the front doors report it).

    Examples
    --------
    >>> group_normalise([1.0, 3.0, 2.0], [0, 0, 1]).tolist()
    [0.25, 0.75, 1.0]
    """
    v = np.asarray(values, dtype=np.float64)
    g = np.asarray(group, dtype=np.intp)
    n_groups = int(g.max()) + 1 if g.size else 0
    member = np.zeros((g.size, n_groups))
    member[np.arange(g.size), g] = 1.0
    sums = (v @ member)[..., g]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sums > 0, v / np.where(sums > 0, sums, 1.0), np.nan)


def pairwise_corr(x: ArrayLike) -> FloatArray:
    """Pearson correlations between the columns of ``x`` (..., unit, k), NaN-aware.

    Each pair uses the units where both columns are observed (R's
    ``use = "pairwise.complete.obs"``); fewer than two such units or a constant column
    give NaN.

    Returns
    -------
    numpy.ndarray, shape (..., k, k)

    Examples
    --------
    >>> x = np.array([[1.0, 2.0, 1.0], [2.0, 4.0, 0.0], [3.0, 6.5, np.nan]])
    >>> np.round(pairwise_corr(x), 4).tolist()
    [[1.0, 0.9979, -1.0], [0.9979, 1.0, -1.0], [-1.0, -1.0, 1.0]]
    """
    a = np.asarray(x, dtype=np.float64)
    obs = ~np.isnan(a)
    z = np.where(obs, a, 0.0)
    m = obs.astype(np.float64)
    swap = np.swapaxes
    n = swap(m, -1, -2) @ m  # (..., k, k): units observed in both
    sx = swap(z, -1, -2) @ m  # sum of x_i over units where j is observed
    sxx = swap(z * z, -1, -2) @ m
    sxy = swap(z, -1, -2) @ z
    sy = swap(sx, -1, -2)
    syy = swap(sxx, -1, -2)
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * sy / n
        vx = sxx - sx * sx / n
        vy = syy - sy * sy / n
        r = cov / np.sqrt(vx * vy)
        r = np.where((n >= 2) & (vx > 0) & (vy > 0), r, np.nan)
    return np.clip(r, -1.0, 1.0)


def corr_with(x: ArrayLike, y: ArrayLike) -> FloatArray:
    """Pearson correlation of each column of ``x`` (..., unit, k) with ``y`` (..., unit).

    Pairwise-complete (units where the column or ``y`` is missing are skipped for that
    column), centred two-pass formula. Broadcasts over leading dims.

    Examples
    --------
    >>> x = np.array([[1.0, 3.0], [2.0, 1.0], [3.0, 2.0]])
    >>> np.round(corr_with(x, [1.0, 2.0, 3.0]), 12).tolist()
    [1.0, -0.5]
    """
    a = np.asarray(x, dtype=np.float64)
    b = np.asarray(y, dtype=np.float64)[..., np.newaxis]
    obs = ~np.isnan(a) & ~np.isnan(b)
    n = obs.sum(axis=-2)
    with np.errstate(invalid="ignore", divide="ignore"):
        ma = np.where(obs, a, 0.0).sum(axis=-2) / n
        mb = np.where(obs, b, 0.0).sum(axis=-2) / n
        da = np.where(obs, a - ma[..., np.newaxis, :], 0.0)
        db = np.where(obs, b - mb[..., np.newaxis, :], 0.0)
        num = (da * db).sum(axis=-2)
        den = np.sqrt((da * da).sum(axis=-2) * (db * db).sum(axis=-2))
        r = np.where((n >= 2) & (den > 0), num / den, np.nan)
    return r


# --------------------------------------------------------------------------------------
# entropy and CRITIC
# --------------------------------------------------------------------------------------


def entropy_weights(x: ArrayLike, group: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Shannon-entropy weights of the members of each group.

    For member ``i`` with non-missing values ``y_ji >= 0`` over its ``n_i`` units:
    ``p_ji = y_ji / sum_j y_ji``, ``e_i = -sum_j p_ji ln p_ji / ln n_i`` (``0 ln 0 = 0``,
    so ``0 <= e_i <= 1``), divergence ``d_i = 1 - e_i``, and ``w_i = d_i / sum d`` over
    the members of ``i``'s group.

    Parameters
    ----------
    x : array_like, shape (..., unit, member)
        Non-negative data (NaN = missing).
    group : array_like of int, shape (member,)
        Group index of each member (0 .. n_groups - 1).

    Returns
    -------
    weights, entropy : numpy.ndarray, shape (..., member)
        NaN where undefined (a member with fewer than two values or summing to 0; a
        group whose divergences are all 0).

    Examples
    --------
    >>> x = np.array([[1.0, 1.0, 5.0], [1.0, 3.0, 5.0]])
    >>> w, e = entropy_weights(x, [0, 0, 1])
    >>> w.tolist(), np.round(e, 4).tolist()
    ([0.0, 1.0, 1.0], [1.0, 0.8113, 1.0])
    """
    a = np.asarray(x, dtype=np.float64)
    obs = ~np.isnan(a)
    z = np.where(obs, a, 0.0)
    n = obs.sum(axis=-2)
    total = z.sum(axis=-2, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = z / total
        plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
        e = -plogp.sum(axis=-2) / np.log(n)
        e = np.where((n >= 2) & (total[..., 0, :] > 0), np.clip(e, 0.0, 1.0), np.nan)
    # a constant member has e = 1 up to rounding: make its divergence exactly 0
    e = np.where(1.0 - e <= _ENTROPY_ROUNDING, 1.0, e)
    g = np.asarray(group, dtype=np.intp)
    single = np.bincount(g)[g] == 1
    w = np.where(single, np.where(np.isnan(e), np.nan, 1.0), group_normalise(1.0 - e, g))
    return w, e


def critic_weights(x: ArrayLike, group: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """CRITIC weights (Diakoulaki, Mavrotas & Papayannakis, 1995) within groups.

    ``C_i = s_i * sum_{j != i} (1 - r_ij)`` over the other members ``j`` of ``i``'s group,
    with ``s_i`` the sample standard deviation (``ddof = 1``) and ``r_ij`` the
    pairwise-complete Pearson correlation; ``w_i = C_i / sum C`` within the group. A
    group with a single member gives it weight 1.

    Parameters
    ----------
    x : array_like, shape (..., unit, member)
    group : array_like of int, shape (member,)

    Returns
    -------
    weights, information : numpy.ndarray, shape (..., member)
        The weights and the information content ``C_i`` (NaN where undefined).

    Examples
    --------
    >>> x = np.array([[0.0, 0.0, 1.0], [1.0, 1.0, 0.0], [2.0, 2.0, 2.0]])
    >>> w, c = critic_weights(x, [0, 0, 0])
    >>> np.round(w, 4).tolist()
    [0.25, 0.25, 0.5]
    """
    a = np.asarray(x, dtype=np.float64)
    g = np.asarray(group, dtype=np.intp)
    obs = ~np.isnan(a)
    n = obs.sum(axis=-2)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(obs, a, 0.0).sum(axis=-2) / n
        dev = np.where(obs, a - mean[..., np.newaxis, :], 0.0)
        sd = np.sqrt((dev * dev).sum(axis=-2) / (n - 1))
    sd = np.where(n >= 2, sd, np.nan)
    r = pairwise_corr(a)
    same = (g[:, np.newaxis] == g[np.newaxis, :]) & ~np.eye(g.size, dtype=bool)
    conflict = np.where(same, 1.0 - r, 0.0).sum(axis=-1)
    info = sd * conflict
    single = same.sum(axis=-1) == 0
    info = np.where(single, np.where(np.isnan(sd), np.nan, 1.0), info)
    return group_normalise(info, g), info


# --------------------------------------------------------------------------------------
# benefit of the doubt
# --------------------------------------------------------------------------------------


class BoDInfeasibleError(InvalidParameterError):
    """The weight or share bounds of a benefit-of-the-doubt model leave no solution."""


def _scaled(y: FloatArray) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    """Columns divided by their maximum (all-zero columns kept at 0)."""
    top = y.max(axis=0)
    active = top > 0
    scale = np.where(active, top, 1.0)
    return y / scale, scale, active


def bod_closed_form(y: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """The best single-indicator solution of the BoD programme, for every unit at once.

    Putting all weight on indicator ``i`` (``w_i = 1 / max_j y_ji``) is feasible, so
    ``max_i y_ci / max_j y_ji`` is a **lower bound** of unit ``c``'s BoD score. It is the
    score itself only where one indicator carries the whole optimum (e.g. a single
    indicator, or a unit that is the best on some indicator, which scores 1); in general
    a combination of indicators scores higher (see :func:`bod_lp`).

    Parameters
    ----------
    y : array_like, shape (..., unit, member)
        Non-negative data without NaN.

    Returns
    -------
    scores : numpy.ndarray, shape (..., unit)
    weights : numpy.ndarray, shape (..., unit, member)

    Examples
    --------
    >>> s, w = bod_closed_form([[2.0, 1.0], [1.0, 4.0]])
    >>> s.tolist(), w.tolist()
    ([1.0, 1.0], [[0.5, 0.0], [0.0, 0.25]])
    """
    a = np.asarray(y, dtype=np.float64)
    top = a.max(axis=-2, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(top > 0, a / np.where(top > 0, top, 1.0), 0.0)
    best = ratio.argmax(axis=-1)
    scores = np.take_along_axis(ratio, best[..., np.newaxis], axis=-1)[..., 0]
    weights = np.zeros_like(a)
    inv = np.broadcast_to(np.where(top > 0, 1.0 / np.where(top > 0, top, 1.0), 0.0), a.shape)
    np.put_along_axis(
        weights,
        best[..., np.newaxis],
        np.take_along_axis(inv, best[..., np.newaxis], axis=-1),
        axis=-1,
    )
    return scores, weights


def _bounds_arrays(
    m: int,
    lower: ArrayLike | None,
    upper: ArrayLike | None,
    share_lower: ArrayLike | None,
    share_upper: ArrayLike | None,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    lo = np.zeros(m) if lower is None else np.broadcast_to(np.asarray(lower, float), (m,))
    hi = np.full(m, np.inf) if upper is None else np.broadcast_to(np.asarray(upper, float), (m,))
    slo = (
        np.zeros(m)
        if share_lower is None
        else np.broadcast_to(np.asarray(share_lower, float), (m,))
    )
    shi = (
        np.ones(m) if share_upper is None else np.broadcast_to(np.asarray(share_upper, float), (m,))
    )
    return lo, hi, slo, shi


def _share_rows(ys_c: FloatArray, slo: FloatArray, shi: FloatArray) -> FloatArray:
    """Rows ``A`` of ``A w <= 0`` bounding the shares ``w_i y_i / sum(w y)``."""
    rows = []
    for i in np.flatnonzero(shi < 1.0):  # w_i y_i - U_i sum(w y) <= 0
        row = -shi[i] * ys_c
        row[i] += ys_c[i]
        rows.append(row)
    for i in np.flatnonzero(slo > 0.0):  # L_i sum(w y) - w_i y_i <= 0
        row = slo[i] * ys_c
        row[i] -= ys_c[i]
        rows.append(row)
    return np.array(rows).reshape(-1, ys_c.size)


@dataclass
class _LPStats:
    n_lp: int = 0
    n_certified: int = 0
    n_certified_lp: int = 0
    n_tries: int = 0
    working_set: list[int] = field(default_factory=list)


def _solve(
    c: FloatArray,
    a_ub: FloatArray,
    b_ub: FloatArray,
    bounds: list[tuple[float, float | None]],
    method: str,
    unit: int | None,
) -> Any:
    # small dense programmes: HiGHS's presolve costs more than it saves
    res = linprog(
        c, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method=method, options={"presolve": False}
    )
    if res.status == 2:
        raise BoDInfeasibleError(
            f"infeasible{'' if unit is None else f' for unit {unit}'}: {res.message}"
        )
    if res.status != 0:
        raise DataError(
            f"The benefit-of-the-doubt linear programme"
            f"{'' if unit is None else f' of unit {unit}'} did not solve "
            f"(HiGHS status {res.status}): {res.message}"
        )
    return res


def _certify(
    w: FloatArray,
    rows: FloatArray,
    slack: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    targets: FloatArray,
    tol: float = 1e-10,
) -> NDArray[np.bool_]:
    """Which objective vectors ``targets`` (k, m) the vertex ``w`` is also optimal for.

    ``w`` maximises ``t . w`` over ``{A w <= b, lo <= w <= hi}`` iff ``t`` is a
    non-negative combination of the normals of the active constraints (KKT). At a
    non-degenerate vertex exactly ``m`` constraints are active and their normals form an
    invertible matrix ``B``: the multipliers are ``B^-T t``, one solve for every target.
    Degenerate vertices certify nothing (the caller solves an LP instead).
    """
    m = w.size
    scale = np.maximum(1.0, np.abs(w))
    at_lo = np.abs(w - lo) <= tol * scale
    at_hi = np.isfinite(hi) & (np.abs(w - hi) <= tol * scale) & ~at_lo
    act_rows = np.abs(slack) <= tol
    n_act = int(act_rows.sum() + at_lo.sum() + at_hi.sum())
    if n_act != m:
        return np.zeros(targets.shape[0], dtype=bool)
    eye = np.eye(m)
    normals = np.vstack([rows[act_rows], -eye[at_lo], eye[at_hi]])
    try:
        mult = np.linalg.solve(normals.T, targets.T)  # (m, k)
    except np.linalg.LinAlgError:
        return np.zeros(targets.shape[0], dtype=bool)
    if not np.isfinite(mult).all():
        return np.zeros(targets.shape[0], dtype=bool)
    resid = np.abs(normals.T @ mult - targets.T).max(axis=0)
    return (mult.min(axis=0) >= -1e-9) & (resid <= 1e-9)


def bod_lp(
    y: ArrayLike,
    lower: ArrayLike | None = None,
    upper: ArrayLike | None = None,
    share_lower: ArrayLike | None = None,
    share_upper: ArrayLike | None = None,
    *,
    tol: float = 1e-9,
    method: str = "highs",
    batch: int = 25,
) -> tuple[FloatArray, FloatArray, dict[str, Any]]:
    """Benefit-of-the-doubt scores and weights of every unit (one LP per unit).

    For each unit ``c``: maximise ``sum_i w_i y_ci`` subject to ``sum_i w_i y_ji <= 1``
    for every unit ``j``, ``lower_i <= w_i <= upper_i`` and, if given, share bounds
    ``share_lower_i <= w_i y_ci / sum_k w_k y_ck <= share_upper_i``, solved with
    :func:`scipy.optimize.linprog` (HiGHS).

    Speed-ups that leave the optimum unchanged:

    * indicators are scaled by their maximum (the weights are scaled back);
    * without restrictions, a unit that is the best on some indicator scores exactly 1
      (its own constraint caps it at 1 and :func:`bod_closed_form` reaches 1): no LP;
    * **vertex certification** (no restrictions or weight bounds only: the feasible set is
      the same for every unit): the optimal vertex of one unit is also optimal for every
      unit whose data lie in the cone of the vertex's active constraints (KKT), tested for
      all pending units with one linear solve; it is kept up while it certifies at least
      one unit per try on average;
    * **constraint generation**: each LP holds only a working set of the "≤ 1"
      constraints, shared by all units (it starts with the best unit of each indicator,
      and the unit itself); the solution is checked against every unit's constraint in
      one matrix product, and the ``batch`` most violated are added until none is
      violated by more than ``tol``. The relaxed optimum is then feasible, hence optimal,
      for the full programme.

    Parameters
    ----------
    y : array_like, shape (unit, member)
        Non-negative data without NaN, higher = better.
    lower, upper : array_like, shape (member,), optional
        Bounds on the weights (on ``y``'s scale); default ``0`` and ``inf``.
    share_lower, share_upper : array_like, shape (member,), optional
        Bounds on each indicator's share of the unit's score; default ``0`` and ``1``.
    tol : float, default 1e-9
        Accepted violation of a "≤ 1" constraint left out of the working set.
    method : str, default "highs"
        ``linprog`` method (a HiGHS variant).
    batch : int, default 25
        Violated constraints added to the working set per round.

    Returns
    -------
    scores : numpy.ndarray, shape (unit,)
    weights : numpy.ndarray, shape (unit, member)
    info : dict
        ``n_lp`` (programmes solved), ``n_certified`` (units scored without an LP) and
        ``working_set`` (units whose constraints were used).

    Raises
    ------
    BoDInfeasibleError
        If the bounds leave no feasible weights for some unit (the message names it).

    Examples
    --------
    >>> y = np.array([[4.0, 1.0], [1.0, 4.0], [3.0, 3.0], [2.0, 1.0]])
    >>> s, w, info = bod_lp(y)
    >>> np.round(s, 10).tolist()  # unit 4: w = (2/9, 1/9) gives 5/9
    [1.0, 1.0, 1.0, 0.5555555556]
    """
    a = np.asarray(y, dtype=np.float64)
    n, m = a.shape
    lo, hi, slo, shi = _bounds_arrays(m, lower, upper, share_lower, share_upper)
    ys, scale, active = _scaled(a)
    lo_s, hi_s = lo * scale, hi * scale
    bounds = [(float(lo_s[i]), None if math.isinf(hi_s[i]) else float(hi_s[i])) for i in range(m)]
    restricted = bool((lo > 0).any() or np.isfinite(hi).any() or (slo > 0).any() or (shi < 1).any())
    scores = np.empty(n)
    weights = np.empty((n, m))
    stats = _LPStats()
    working: list[int] = sorted({int(j) for j in ys[:, active].argmax(axis=0)})
    in_set = np.zeros(n, dtype=bool)
    in_set[working] = True
    todo = np.arange(n)
    if not restricted:
        top = ys >= 1.0
        best = top.any(axis=1)
        for c in np.flatnonzero(best):
            i = int(np.flatnonzero(top[c])[0])
            weights[c] = 0.0
            weights[c, i] = 1.0 / scale[i]
            scores[c] = 1.0
        stats.n_certified = int(best.sum())
        todo = np.flatnonzero(~best)
    pending = np.zeros(n, dtype=bool)
    pending[todo] = True
    for c in todo:
        if not pending[c]:
            continue
        share = _share_rows(ys[c], slo, shi)
        while True:
            rows = working if in_set[c] else [*working, int(c)]
            a_ub = np.vstack([ys[rows], share])
            b_ub = np.concatenate([np.ones(len(rows)), np.zeros(share.shape[0])])
            res = _solve(-ys[c], a_ub, b_ub, bounds, method, int(c))
            w = np.asarray(res.x, dtype=np.float64)
            stats.n_lp += 1
            excess = ys @ w - 1.0
            excess[in_set] = -np.inf
            excess[c] = -np.inf
            viol = np.flatnonzero(excess > tol)
            if viol.size == 0:
                break
            add = viol[np.argsort(excess[viol])[::-1][:batch]]
            in_set[add] = True
            working = sorted(set(working) | {int(j) for j in add})
        # certification costs about one LP: keep it while it certifies >= 1 unit per try
        worth = stats.n_tries < 20 or stats.n_certified_lp >= stats.n_tries
        if share.shape[0] == 0 and worth and pending[c:].any():
            # the vertex is optimal for every unit whose objective lies in its cone
            rest = np.flatnonzero(pending)
            rest = rest[rest > c]
            ok = _certify(w, a_ub, np.asarray(res.slack), lo_s, hi_s, ys[rest])
            for d in rest[ok]:
                weights[d] = np.where(active, w, lo_s) / scale
                scores[d] = float(ys[d] @ w)
                pending[d] = False
            stats.n_certified += int(ok.sum())
            stats.n_certified_lp += int(ok.sum())
            stats.n_tries += 1
        w = np.where(active, w, lo_s)
        weights[c] = w / scale
        scores[c] = float(ys[c] @ w)
        pending[c] = False
    stats.working_set = working
    info = {"n_lp": stats.n_lp, "n_certified": stats.n_certified, "working_set": working}
    return scores, weights, info


def bod_common(
    y: ArrayLike,
    objective: str = "sum",
    lower: ArrayLike | None = None,
    upper: ArrayLike | None = None,
    share_lower: ArrayLike | None = None,
    share_upper: ArrayLike | None = None,
    *,
    method: str = "highs",
) -> tuple[FloatArray, FloatArray]:
    """One common weight vector for all units (a single LP).

    ``objective="sum"`` maximises the total score ``sum_c sum_i w_i y_ci``;
    ``objective="min"`` maximises the lowest score (max–min). Both subject to
    ``sum_i w_i y_ji <= 1`` for every unit and the weight bounds; share bounds apply to
    the shares of the **mean unit**, ``w_i ybar_i / sum_k w_k ybar_k``.

    Returns
    -------
    scores : numpy.ndarray, shape (unit,)
    weights : numpy.ndarray, shape (member,)

    Examples
    --------
    >>> y = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    >>> s, w = bod_common(y, "min")
    >>> np.round(s, 10).tolist(), np.round(w, 10).tolist()
    ([1.0, 1.0, 1.0], [1.0, 1.0])
    """
    a = np.asarray(y, dtype=np.float64)
    n, m = a.shape
    lo, hi, slo, shi = _bounds_arrays(m, lower, upper, share_lower, share_upper)
    ys, scale, active = _scaled(a)
    lo_s, hi_s = lo * scale, hi * scale
    bounds: list[tuple[float, float | None]] = [
        (float(lo_s[i]), None if math.isinf(hi_s[i]) else float(hi_s[i])) for i in range(m)
    ]
    share = _share_rows(ys.mean(axis=0), slo, shi)
    if objective == "sum":
        c = -ys.sum(axis=0)
        a_ub = np.vstack([ys, share])
        b_ub = np.concatenate([np.ones(n), np.zeros(share.shape[0])])
    elif objective == "min":
        c = np.zeros(m + 1)
        c[-1] = -1.0
        a_ub = np.vstack(
            [
                np.hstack([ys, np.zeros((n, 1))]),
                np.hstack([-ys, np.ones((n, 1))]),
                np.hstack([share, np.zeros((share.shape[0], 1))]),
            ]
        )
        b_ub = np.concatenate([np.ones(n), np.zeros(n + share.shape[0])])
        bounds = [*bounds, (None, None)]  # type: ignore[list-item]
    else:
        raise InvalidParameterError(
            f"The common-weight objective must be 'sum' or 'min'; got {objective!r}."
        )
    x = np.asarray(_solve(c, a_ub, b_ub, bounds, method, None).x, dtype=np.float64)[:m]
    x = np.where(active, x, lo_s)
    return ys @ x, x / scale


# --------------------------------------------------------------------------------------
# weight optimisation (COINr's get_opt_weights)
# --------------------------------------------------------------------------------------


def balance_objective(corr: ArrayLike, targets: ArrayLike) -> FloatArray:
    """COINr's "balance" objective: ``log(mean((t - r / sum(r))**2))``.

    ``r`` are the correlations of the components with the index (..., k) and ``t`` the
    targets normalised to sum 1; lower is better (``-inf`` at a perfect balance).

    Examples
    --------
    >>> float(np.exp(balance_objective([0.5, 0.5], [0.5, 0.5]) + 100))
    0.0
    >>> round(float(balance_objective([0.3, 0.1], [0.5, 0.5])), 6)
    -2.772589
    """
    r = np.asarray(corr, dtype=np.float64)
    t = np.asarray(targets, dtype=np.float64)
    rn = r / r.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore"):
        return np.log(((t - rn) ** 2).sum(axis=-1) / r.shape[-1])


def infomax_objective(corr: ArrayLike) -> FloatArray:
    """COINr's "infomax" objective: minus the sum of the correlations (lower is better).

    Examples
    --------
    >>> float(infomax_objective([0.5, 0.25]))
    -0.75
    """
    return -np.asarray(corr, dtype=np.float64).sum(axis=-1)


@dataclass
class NelderMeadResult:
    """What :func:`nelder_mead_r` returns (R's ``optim`` list)."""

    x: FloatArray
    fun: float
    nfev: int
    status: int  # 0 converged, 1 maxit reached, 10 degenerate simplex
    message: str


def nelder_mead_r(
    fn: Callable[[FloatArray], float],
    x0: ArrayLike,
    *,
    reltol: float = 1.490116e-08,
    abstol: float = -math.inf,
    maxit: int = 500,
    alpha: float = 1.0,
    beta: float = 0.5,
    gamma: float = 2.0,
) -> NelderMeadResult:
    """R's Nelder–Mead minimiser (``optim(method = "Nelder-Mead")``, C routine ``nmmin``).

    A faithful port (Nash's *Compact Numerical Methods* algorithm as coded in R), so
    that COINr's ``get_opt_weights`` — which calls ``optim`` with
    ``reltol = 0.1, maxit = 500`` — can be replayed step by step. Note R's stopping rule:
    stop when the spread of the simplex values is at most
    ``reltol * (|f(x0)| + reltol)``, a tolerance fixed from the **starting** value.

    Examples
    --------
    >>> res = nelder_mead_r(lambda v: float(((v - 1.0) ** 2).sum()), [0.0, 0.0], maxit=2000)
    >>> np.round(res.x, 3).tolist(), res.status
    ([1.0, 1.0], 0)
    """
    b = np.array(x0, dtype=np.float64)
    n = b.size
    big = 1.0e35

    def f(v: FloatArray) -> float:
        val = float(fn(v.copy()))
        return val if math.isfinite(val) else big

    if maxit <= 0:
        return NelderMeadResult(b, float(fn(b)), 0, 0, "maxit <= 0")
    fv = float(fn(b.copy()))
    if not math.isfinite(fv):
        raise InvalidParameterError("function cannot be evaluated at initial parameters")
    funcount = 1
    convtol = reltol * (abs(fv) + reltol)
    n1 = n + 1
    p = np.zeros((n + 1, n + 2))  # rows 0..n-1 coordinates, row n values; columns vertices
    p[n, 0] = fv
    p[:n, 0] = b
    lo_v = 0  # index L - 1
    size = 0.0
    step = max(0.1 * abs(b).max(initial=0.0), 0.0)
    if step == 0.0:
        step = 0.1
    for j in range(1, n1):
        p[:n, j] = b
        trystep = step
        while p[j - 1, j] == b[j - 1]:
            p[j - 1, j] = b[j - 1] + trystep
            trystep *= 10
        size += trystep
    oldsize = size
    calcvert = True
    fail = 0
    while True:
        if calcvert:
            for j in range(n1):
                if j != lo_v:
                    p[n, j] = f(p[:n, j])
                    funcount += 1
            calcvert = False
        vl = p[n, lo_v]
        vh = vl
        hi_v = lo_v
        for j in range(n1):
            if j != lo_v:
                fj = p[n, j]
                if fj < vl:
                    lo_v, vl = j, fj
                if fj > vh:
                    hi_v, vh = j, fj
        if vh <= vl + convtol or vl <= abstol:
            break
        # centroid of all vertices but the highest, in column C (= n + 1)
        temp = -p[:n, hi_v] + p[:n, :n1].sum(axis=1)
        p[:n, n1] = temp / n
        b = (1.0 + alpha) * p[:n, n1] - alpha * p[:n, hi_v]
        fr = f(b)
        funcount += 1
        vr = fr
        if vr < vl:
            p[n, n1] = fr
            ext = gamma * b + (1 - gamma) * p[:n, n1]
            p[:n, n1] = b
            b = ext
            fe = f(b)
            funcount += 1
            if fe < vr:
                p[:n, hi_v] = b
                p[n, hi_v] = fe
            else:
                p[:n, hi_v] = p[:n, n1]
                p[n, hi_v] = vr
        else:
            if vr < vh:
                p[:n, hi_v] = b
                p[n, hi_v] = vr
            b = (1 - beta) * p[:n, hi_v] + beta * p[:n, n1]
            fc = f(b)
            funcount += 1
            if fc < p[n, hi_v]:
                p[:n, hi_v] = b
                p[n, hi_v] = fc
            elif vr >= vh:
                calcvert = True
                size = 0.0
                for j in range(n1):
                    if j != lo_v:
                        p[:n, j] = beta * (p[:n, j] - p[:n, lo_v]) + p[:n, lo_v]
                        size += float(np.abs(p[:n, j] - p[:n, lo_v]).sum())
                if size < oldsize:
                    oldsize = size
                else:
                    fail = 10
                    break
        if funcount > maxit:
            break
    if funcount > maxit:
        fail = 1
    messages = {0: "converged", 1: "maxit reached", 10: "degenerate simplex"}
    return NelderMeadResult(p[:n, lo_v].copy(), float(p[n, lo_v]), funcount, fail, messages[fail])
