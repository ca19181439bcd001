"""Multivariate kernels (pure NumPy): PCA, KMO, Bartlett's test, factor-retention and the
OECD/JRC factor-analysis weighting rule.

Every kernel takes data shaped ``(..., n, p)`` — ``n`` observations (units) by ``p``
variables (indicators) — and broadcasts over the leading dims (years, draws, ...).
Missing values (NaN) are handled by **complete cases**: an observation is used only if
all its ``p`` variables are present, separately for each leading slice (as R's
``na.omit`` before ``stats::prcomp``). Correlations are Pearson correlations on those
rows; standardisation uses the sample standard deviation (``ddof = 1``).

These functions never raise on bad data: they return the counts and spreads the front
doors need to check (complete rows, standard deviations) and NaN where a quantity is
undefined. Inputs are never modified.

Examples
--------
>>> import numpy as np
>>> x = np.array([[1.0, 2.0], [2.0, 4.5], [3.0, 5.5], [np.nan, 1.0]])
>>> z, n, mean, sd = standardise_complete(x)
>>> int(n), np.round(sd, 4).tolist()
(3, [1.0, 1.8028])
>>> np.round(correlation_from_z(z, n), 4).tolist()
[[1.0, 0.9707], [0.9707, 1.0]]
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "bartlett_from_corr",
    "correlation_from_z",
    "factor_weights_kernel",
    "fix_signs",
    "kmo_from_corr",
    "n_factors_rule",
    "pca_from_z",
    "standardise_complete",
]

F64 = NDArray[np.float64]


def standardise_complete(x: ArrayLike) -> tuple[F64, NDArray[np.int64], F64, F64]:
    """Standardise ``x`` (..., n, p) on its complete rows.

    Returns
    -------
    z : ndarray (..., n, p)
        ``(x - mean) / sd`` on complete rows, 0 on incomplete rows (so that sums over
        rows ignore them). Constant columns (see ``sd``) are left centred, not scaled.
    n : ndarray of int (...)
        Number of complete rows per slice.
    mean : ndarray (..., p)
        Mean of each column on the complete rows (R's two-pass mean).
    sd : ndarray (..., p)
        Sample standard deviation (``ddof = 1``) of each column on the complete rows;
        0 for a constant column (spread within rounding of the mean:
        ``sd <= 64 eps |mean|``), NaN when fewer than 2 complete rows.

    Examples
    --------
    >>> z, n, mean, sd = standardise_complete([[0.0, 1.0], [2.0, np.nan], [4.0, 3.0]])
    >>> int(n), mean.tolist(), sd.tolist()
    (2, [2.0, 2.0], [2.8284271247461903, 1.4142135623730951])
    """
    arr = np.asarray(x, dtype=np.float64)
    complete = np.asarray(~np.isnan(arr).any(axis=-1))  # (..., n)
    n = np.asarray(complete.sum(axis=-1))
    keep = complete[..., None]
    with np.errstate(invalid="ignore", divide="ignore"):
        nn = n[..., None].astype(np.float64)
        a = np.where(keep, arr, 0.0)
        mean = a.sum(axis=-2) / nn
        dev = a - mean[..., None, :]
        dev *= keep
        # refine the mean as R does (two passes) for accuracy on large offsets
        delta = dev.sum(axis=-2) / nn
        mean = mean + delta
        dev -= delta[..., None, :]
        dev *= keep
        ss = (dev * dev).sum(axis=-2)
        sd = np.sqrt(ss / (nn - 1))
        sd = np.where(sd <= 64 * np.finfo(np.float64).eps * np.abs(mean), 0.0, sd)
        sd = np.where(nn >= 2, sd, np.nan)
        scale = np.where(sd > 0, sd, 1.0)
        dev /= scale[..., None, :]
    return dev, n.astype(np.int64), mean, sd


def correlation_from_z(z: ArrayLike, n: ArrayLike) -> F64:
    """Pearson correlation matrices (..., p, p) from standardised data and row counts.

    Examples
    --------
    >>> z, n, _, _ = standardise_complete([[1.0, 1.0], [2.0, 3.0], [3.0, 2.0]])
    >>> correlation_from_z(z, n).round(3).tolist()
    [[1.0, 0.5], [0.5, 1.0]]
    """
    zz = np.asarray(z, dtype=np.float64)
    nn = np.asarray(n, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.matmul(np.swapaxes(zz, -1, -2), zz) / (nn[..., None, None] - 1)
    # exact ones on the diagonal and exact symmetry
    r = 0.5 * (r + np.swapaxes(r, -1, -2))
    p = r.shape[-1]
    idx = np.arange(p)
    r[..., idx, idx] = 1.0
    return r


def fix_signs(vectors: ArrayLike, tol: float = 1e-8) -> F64:
    """Flip each column of ``vectors`` (..., p, k) so that its sum is positive.

    A column whose sum is within ``tol`` of zero (e.g. ``(1, -1)/√2``) is flipped so
    that its first entry larger than ``tol`` in absolute value is positive.

    Examples
    --------
    >>> fix_signs(np.array([[-0.6, 0.7071], [-0.8, -0.7071]])).round(4).tolist()
    [[0.6, 0.7071], [0.8, -0.7071]]
    """
    v = np.array(vectors, dtype=np.float64)
    total = v.sum(axis=-2)  # (..., k)
    big = np.abs(v) > tol
    first = np.argmax(big, axis=-2)  # first "non-zero" entry of each column
    first_val = np.take_along_axis(v, first[..., None, :], axis=-2)[..., 0, :]
    sign = np.where(np.abs(total) > tol, np.sign(total), np.sign(first_val))
    sign = np.where(sign == 0, 1.0, sign)
    return v * sign[..., None, :]


def pca_from_z(z: ArrayLike, n: ArrayLike) -> tuple[F64, F64, F64]:
    """Principal components of standardised data (the correlation matrix).

    Parameters
    ----------
    z : array (..., n, p)
        Output of :func:`standardise_complete` (0 on unused rows).
    n : array of int (...)
        Complete rows per slice.

    Returns
    -------
    loadings : ndarray (..., p, p)
        Eigenvectors of the correlation matrix (columns, unit length), in decreasing
        order of eigenvalue, signs fixed by :func:`fix_signs` (positive column sums).
        These are ``prcomp``'s ``rotation`` up to the sign of each column.
    eigenvalues : ndarray (..., p)
        Component variances ``sdev**2``, decreasing, clipped at 0.
    scores : ndarray (..., n, p)
        ``z @ loadings`` (rows that were not complete come out as 0: mask them).

    Examples
    --------
    >>> z, n, _, _ = standardise_complete([[1.0, 1.0], [2.0, 3.0], [3.0, 2.0]])
    >>> v, ev, _ = pca_from_z(z, n)
    >>> ev.round(3).tolist(), v[:, 0].round(4).tolist()
    ([1.5, 0.5], [0.7071, 0.7071])
    """
    zz = np.asarray(z, dtype=np.float64)
    r = correlation_from_z(zz, n)
    with np.errstate(invalid="ignore"):
        evals, evecs = np.linalg.eigh(np.nan_to_num(r))
    evals = np.maximum(evals[..., ::-1], 0.0)
    evecs = fix_signs(evecs[..., ::-1])
    # (k, p) @ (p, n): contiguous when z is a view of an indicator-major array
    scores = np.swapaxes(np.swapaxes(evecs, -1, -2) @ np.swapaxes(zz, -1, -2), -1, -2)
    return evecs, evals, scores


def kmo_from_corr(r: ArrayLike) -> tuple[F64, F64]:
    """Kaiser–Meyer–Olkin measure of sampling adequacy from correlation matrices.

    With :math:`Q` the anti-image (partial) correlations, :math:`q_{ij} = -P_{ij} /
    \\sqrt{P_{ii} P_{jj}}` for :math:`P = R^{-1}`,

    .. math:: \\mathrm{KMO} = \\frac{\\sum_{i \\ne j} r_{ij}^2}
              {\\sum_{i \\ne j} r_{ij}^2 + \\sum_{i \\ne j} q_{ij}^2},

    and the per-variable MSA sums over :math:`i \\ne j` for one :math:`j` only.
    ``r`` must be invertible (the front door checks).

    Returns
    -------
    overall : ndarray (...)
    per_variable : ndarray (..., p)

    Examples
    --------
    >>> overall, msa = kmo_from_corr(np.array([[1.0, 0.6], [0.6, 1.0]]))
    >>> float(overall), msa.tolist()
    (0.5, [0.5, 0.5])
    """
    rr = np.asarray(r, dtype=np.float64)
    inv = np.linalg.inv(rr)
    d = np.sqrt(np.diagonal(inv, axis1=-2, axis2=-1))
    q = -inv / (d[..., :, None] * d[..., None, :])
    off = ~np.eye(rr.shape[-1], dtype=bool)
    r2 = np.where(off, rr * rr, 0.0)
    q2 = np.where(off, q * q, 0.0)
    r_col, q_col = r2.sum(axis=-2), q2.sum(axis=-2)
    with np.errstate(invalid="ignore", divide="ignore"):
        per = r_col / (r_col + q_col)
        overall = r_col.sum(axis=-1) / (r_col.sum(axis=-1) + q_col.sum(axis=-1))
    return overall, per


def bartlett_from_corr(r: ArrayLike, n: ArrayLike) -> tuple[F64, F64, F64]:
    """Bartlett's (1950) test of sphericity (H0: the correlation matrix is the identity).

    .. math:: \\chi^2 = -\\Bigl(n - 1 - \\frac{2p + 5}{6}\\Bigr) \\ln |R|,
              \\qquad \\mathrm{dof} = \\frac{p (p - 1)}{2}.

    ``ln |R|`` is the sum of the logarithms of the eigenvalues of ``R`` (which must be
    positive definite; the front door checks).

    Returns
    -------
    statistic, dof, pvalue : ndarray (...)

    Examples
    --------
    >>> stat, dof, pv = bartlett_from_corr(np.array([[1.0, 0.5], [0.5, 1.0]]), 20)
    >>> round(float(stat), 4), float(dof), round(float(pv), 6)
    (5.0344, 1.0, 0.024848)
    """
    from scipy.special import chdtrc

    rr = np.asarray(r, dtype=np.float64)
    p = rr.shape[-1]
    evals = np.linalg.eigvalsh(rr)
    with np.errstate(divide="ignore", invalid="ignore"):
        logdet = np.log(evals).sum(axis=-1)
    nn = np.asarray(n, dtype=np.float64)
    stat = -(nn - 1.0 - (2.0 * p + 5.0) / 6.0) * logdet
    dof = np.full(np.shape(stat), p * (p - 1) / 2.0)
    pvalue = chdtrc(dof, stat)
    return np.asarray(stat, dtype=np.float64), dof, np.asarray(pvalue, dtype=np.float64)


def n_factors_rule(
    eigenvalues: ArrayLike,
    *,
    min_eigenvalue: float = 1.0,
    min_share: float = 0.10,
    min_cumulative: float = 0.60,
) -> NDArray[np.int64]:
    """Number of factors to retain by the OECD/JRC Handbook's criteria.

    The Handbook (2008, section 6.1) keeps the factors that (i) have an eigenvalue larger
    than one, (ii) explain individually more than 10 % of the total variance, and (iii)
    together explain more than 60 % of it. Read as "keep the leading factors meeting
    (i) **or** (ii), and add factors until (iii) holds", i.e.

    .. math:: m = \\max\\bigl(\\#\\{\\lambda_k > 1\\},\\ \\#\\{\\lambda_k / p > 0.1\\},\\
              \\min\\{k : \\textstyle\\sum_{l \\le k} \\lambda_l / p > 0.6\\}\\bigr),

    this reproduces the four factors the Handbook retains for the TAI data (its
    eigenvalues 3.3, 1.7, 1.0, 0.9, ...; a strict "(i) and (ii)" would keep two).

    Parameters
    ----------
    eigenvalues : array (..., p)
        Eigenvalues of the correlation matrix, decreasing.

    Examples
    --------
    >>> int(n_factors_rule([3.352, 1.744, 0.984, 0.888, 0.48, 0.296, 0.176, 0.072]))
    4
    >>> int(n_factors_rule([2.5, 0.3, 0.2]))
    1
    """
    ev = np.asarray(eigenvalues, dtype=np.float64)
    p = ev.shape[-1]
    total = ev.sum(axis=-1, keepdims=True)
    share = ev / total
    kaiser = (ev > min_eigenvalue).sum(axis=-1)
    big = (share > min_share).sum(axis=-1)
    cum = np.cumsum(share, axis=-1)
    reach = np.argmax(cum > min_cumulative - 1e-12, axis=-1) + 1
    m = np.maximum(np.maximum(kaiser, big), reach)
    return np.clip(m, 1, p).astype(np.int64)


def factor_weights_kernel(
    loadings: ArrayLike, *, assign: str = "loading"
) -> tuple[F64, F64, F64, NDArray[np.int64]]:
    """The OECD/JRC Handbook's weights from rotated factor loadings (..., p, m).

    With :math:`L` the rotated loadings, :math:`V_k = \\sum_j L_{jk}^2` the variance
    explained by factor :math:`k` and :math:`S_{jk} = L_{jk}^2 / V_k` the squared loadings
    scaled to unity sum, each indicator :math:`j` is assigned to the factor
    :math:`a(j) = \\arg\\max_k L_{jk}^2` (``assign="loading"``) or
    :math:`\\arg\\max_k S_{jk}` (``assign="scaled"``), and

    .. math:: w_j \\propto S_{j,a(j)} \\, \\frac{V_{a(j)}}{\\sum_k V_k},
              \\qquad \\sum_j w_j = 1.

    NaN columns (unused factors) are ignored.

    Returns
    -------
    weights : ndarray (..., p)
    scaled : ndarray (..., p, m)
        :math:`S`.
    share : ndarray (..., m)
        :math:`V_k / \\sum_k V_k`.
    assigned : ndarray of int (..., p)
        :math:`a(j)`.

    Examples
    --------
    >>> L = np.array([[0.9, 0.1], [0.8, 0.3], [0.2, 0.7]])
    >>> w, s, share, a = factor_weights_kernel(L)
    >>> a.tolist(), np.round(w, 4).tolist()
    ([0, 0, 1], [0.4175, 0.3299, 0.2526])
    """
    lo = np.asarray(loadings, dtype=np.float64)
    sq = lo * lo
    used = np.asarray(~np.isnan(sq).all(axis=-2))  # (..., m)
    sq0 = np.where(np.isnan(sq), 0.0, sq)
    expl = sq0.sum(axis=-2)  # (..., m)
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = np.where(used[..., None, :], sq0 / expl[..., None, :], np.nan)
        share = np.where(used, expl / expl.sum(axis=-1, keepdims=True), np.nan)
    key = sq0 if assign == "loading" else np.nan_to_num(scaled, nan=-1.0)
    key = np.where(used[..., None, :], key, -1.0)
    assigned = np.argmax(key, axis=-1)
    s_assigned = np.take_along_axis(scaled, assigned[..., None], axis=-1)[..., 0]
    share_assigned = np.take_along_axis(share, assigned, axis=-1)
    raw = s_assigned * share_assigned
    with np.errstate(invalid="ignore", divide="ignore"):
        weights = raw / raw.sum(axis=-1, keepdims=True)
    return weights, scaled, share, assigned.astype(np.int64)
