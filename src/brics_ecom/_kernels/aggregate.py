"""Aggregation kernels (COINr 1.1.14 definitions), pure NumPy.

One level of the index tree is aggregated at a time by :func:`aggregate_level`:

* ``x`` has shape ``(..., unit, child)``: the scores of the children (indicators, or the
  aggregates of the level below). NaN means missing.
* ``weights`` has shape ``(..., child)``: one weight per child. Its leading dims (e.g. a
  ``draw`` dim of Monte Carlo weight sets, or ``scenario``) broadcast against the leading
  dims of ``x`` under NumPy's rules (aligned from the right); the result has the broadcast
  leading shape. Only the ratios of the weights within one parent matter.
* ``parent_index`` has shape ``(child,)``: the column (``0 .. n_parents - 1``) of each
  child's parent.
* The result has shape ``(..., unit, parent)``.

The weights and the tree are turned into a weight matrix ``W`` of shape
``(..., child, parent)`` (``W[c, j]`` = weight of child ``c`` if its parent is ``j``, else
0), and the weighted sums of every parent are one matrix product ``x @ W``. Leading dims
that only ``W`` has (weight draws) are folded into the columns of the product and leading
dims that only ``x`` has (years, data draws) into its rows, so that e.g. a whole Monte
Carlo run of weight sets is **one** BLAS call (see :func:`batched_matmul`).

Every method is registered under the step ``"aggregate"`` with the signature::

    f(x, W, *, membership=None, **params) -> ndarray  # (..., unit, parent)

where ``membership`` is the boolean ``(child, parent)`` tree (which child belongs to which
parent, whatever its weight). A user-defined method may accept ``membership`` or not; it
is passed only when the method's signature takes it (or ``**kwargs``).

Methods (``x`` values and ``w`` weights of one parent's children):

``arithmetic``
    Missing children are dropped and the remaining weights renormalised:
    ``sum(w x) / sum(w)`` over the non-NaN children; all children NaN gives NaN.
``geometric``
    ``exp(sum(w log x) / sum(w))`` over the non-NaN children. Needs ``x > 0``.
``harmonic``
    ``sum(w) / sum(w / x)`` over the non-NaN children. Needs ``x != 0`` (negative values
    are accepted, as in COINr).
``generalised``
    Power mean ``(sum(w x**p) / sum(w)) ** (1/p)``, ``p != 0``; ``p < 0`` needs ``x > 0``.
    As in COINr there is **no NaN removal**: one missing child (even of zero weight) makes
    the result NaN.
``minimum``
    The smallest value among the non-NaN children of positive weight.
``copeland``
    COINr's Copeland outranking score (data-frame mode; see :func:`copeland_score`).
``mazziotta_pareto``
    The Mazziotta–Pareto Index (see :func:`mazziotta_pareto_index`).

Domain errors are **not** raised here: the kernels assume valid input and give NaN for a
parent with an invalid child (never spilling over to other parents). The front door calls
:func:`domain_violations` first and raises an error naming the unit and indicator.
Inputs are assumed finite or NaN (infinite values are rejected upstream).

``dat_thresh`` (data-availability threshold): the result is NaN where (number of non-NaN
children) / (number of children) ``<`` ``dat_thresh``, strictly, the share computed by
division as COINr does (so 4 of 5 children at ``dat_thresh = 0.8`` is kept). Children are
counted by membership, whatever their weight. Ignored for the data-frame methods listed in
:data:`DATA_FRAME_METHODS` (Copeland), as in COINr.

Examples
--------
>>> import numpy as np
>>> x = np.array([[1.0, 3.0, 10.0], [2.0, np.nan, 4.0]])  # (unit, child)
>>> aggregate_level(x, [1.0, 1.0, 1.0], [0, 0, 1], 2).tolist()  # children 0, 1 -> parent 0
[[2.0, 10.0], [2.0, 4.0]]
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from brics_ecom.errors import InvalidParameterError, SpecError
from brics_ecom.registry import get_method, register

__all__ = [
    "DATA_FRAME_METHODS",
    "aggregate_level",
    "arithmetic_mean",
    "batched_matmul",
    "copeland_score",
    "domain_violations",
    "effective_weights",
    "generalised_mean",
    "geometric_mean",
    "harmonic_mean",
    "mazziotta_pareto_index",
    "membership_matrix",
    "validate_p",
    "weight_matrix",
    "weighted_minimum",
]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.intp]

#: Methods run in COINr's "data-frame mode": they need all units at once and ignore
#: ``dat_thresh``. A user-registered method of this kind can be added to the set.
DATA_FRAME_METHODS: set[str] = {"copeland"}

#: Upper bound on the number of float64 elements of the pairwise comparison block built
#: by :func:`copeland_score` at once (about 32 MB).
_COPELAND_BLOCK_ELEMENTS = 1 << 22


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------


def batched_matmul(a: ArrayLike, b: ArrayLike) -> FloatArray:
    """Broadcasting ``a @ b`` that folds one-sided leading dims into a single GEMM.

    Equal to ``np.matmul(a, b)`` (same broadcasting of the leading dims), but every
    leading dim along which only ``a`` varies is folded into the rows of one matrix
    product and every leading dim along which only ``b`` varies into its columns, so
    that, e.g., ``(time, unit, child) @ (draw, 1, child, parent)`` is one BLAS call of
    shape ``(time*unit, child) @ (child, draw*parent)`` instead of ``draw*time`` small
    ones. Only dims along which both vary remain a loop of products.

    The result equals ``np.matmul`` up to rounding, not bit for bit: BLAS sums in an order
    that depends on the shape of the product, so the same row can differ in the last bit
    between, e.g., one draw (a 2-D GEMM) and many (a folded or stacked product). Callers
    that need results independent of how draws are grouped (the uncertainty engine) must
    fix the block shape themselves.

    Parameters
    ----------
    a : array_like, shape (..., m, k)
    b : array_like, shape (..., k, n)

    Returns
    -------
    numpy.ndarray, shape (broadcast(...), m, n)
        Possibly a transposed view of the product.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.arange(6.0).reshape(3, 1, 2)   # (time, m, k)
    >>> b = np.ones((4, 1, 2, 1))             # (draw, 1, k, n)
    >>> batched_matmul(a, b).shape
    (4, 3, 1, 1)
    >>> bool(np.array_equal(batched_matmul(a, b), np.matmul(a, b)))
    True
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim < 2 or b.ndim < 2:
        raise InvalidParameterError("batched_matmul needs arrays with at least 2 dims.")
    m, k = a.shape[-2:]
    k2, n = b.shape[-2:]
    if k != k2:
        raise InvalidParameterError(
            f"Inner dimensions do not match: a has {k} columns, b has {k2} rows."
        )
    lead = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    nl = len(lead)
    la = (1,) * (nl - (a.ndim - 2)) + a.shape[:-2]
    lb = (1,) * (nl - (b.ndim - 2)) + b.shape[:-2]
    if nl == 0 or all(d == 1 for d in lb):
        # The common case: one weight matrix for everything. A strided ``a`` (e.g. a
        # transposed panel) goes to matmul as it is: flattening it would copy it first.
        if not a.flags.c_contiguous:
            return np.matmul(a, b.reshape(k, n)).reshape((*lead, m, n))
        out = a.reshape(-1, k) @ b.reshape(k, n)
        return out.reshape((*lead, m, n))
    a = a.reshape((*la, m, k))
    b = b.reshape((*lb, k, n))
    both = [d for d in range(nl) if la[d] > 1 and lb[d] > 1]
    only_a = [d for d in range(nl) if la[d] > 1 and lb[d] == 1]
    only_b = [d for d in range(nl) if la[d] == 1 and lb[d] > 1]
    ones = [d for d in range(nl) if la[d] == 1 and lb[d] == 1]
    n_both = math.prod(lead[d] for d in both)
    n_a = math.prod(lead[d] for d in only_a)
    n_b = math.prod(lead[d] for d in only_b)
    a2 = a.transpose([*ones, *only_b, *both, *only_a, nl, nl + 1]).reshape(n_both, n_a * m, k)
    b2 = b.transpose([*ones, *only_a, *both, nl, *only_b, nl + 1]).reshape(n_both, k, n_b * n)
    res = np.matmul(a2, b2)
    res = res.reshape(
        (1,) * len(ones)
        + tuple(lead[d] for d in both)
        + tuple(lead[d] for d in only_a)
        + (m,)
        + tuple(lead[d] for d in only_b)
        + (n,)
    )
    order: list[int | str] = [*ones, *both, *only_a, "m", *only_b, "n"]
    perm = [order.index(d) for d in range(nl)] + [order.index("m"), order.index("n")]
    return res.transpose(perm)


def membership_matrix(parent_index: ArrayLike, n_parents: int) -> BoolArray:
    """Boolean tree matrix: ``M[c, j]`` is True when child ``c`` has parent ``j``.

    Parameters
    ----------
    parent_index : array_like of int, shape (child,)
        Column of each child's parent, in ``0 .. n_parents - 1``.
    n_parents : int
        Number of parents (columns of the result).

    Returns
    -------
    numpy.ndarray of bool, shape (child, n_parents)

    Raises
    ------
    InvalidParameterError
        If ``parent_index`` is not a 1-D integer array with values in range.

    Examples
    --------
    >>> membership_matrix([0, 0, 1], 2).astype(int).tolist()
    [[1, 0], [1, 0], [0, 1]]
    """
    idx = _check_parent_index(parent_index, n_parents)
    out = np.zeros((idx.size, n_parents), dtype=bool)
    out[np.arange(idx.size), idx] = True
    return out


def weight_matrix(weights: ArrayLike, parent_index: ArrayLike, n_parents: int) -> FloatArray:
    """Weight matrix ``W`` of shape ``(..., child, parent)`` of one tree level.

    ``W[..., c, j]`` is the weight of child ``c`` if its parent is ``j`` and 0 otherwise.

    Parameters
    ----------
    weights : array_like, shape (..., child)
        Non-negative finite weights; leading dims (draws, scenarios) are kept.
    parent_index : array_like of int, shape (child,)
    n_parents : int

    Returns
    -------
    numpy.ndarray, shape (..., child, n_parents)

    Examples
    --------
    >>> weight_matrix([1.0, 2.0, 3.0], [0, 0, 1], 2).tolist()
    [[1.0, 0.0], [2.0, 0.0], [0.0, 3.0]]
    """
    member = membership_matrix(parent_index, n_parents)
    w = _check_weights(weights, member.shape[0])
    return np.where(member, w[..., :, None], 0.0)


def _check_parent_index(parent_index: ArrayLike, n_parents: int) -> IntArray:
    if isinstance(n_parents, bool) or not isinstance(n_parents, numbers.Integral):
        raise InvalidParameterError(
            f"'n_parents' must be a non-negative integer; got {n_parents!r}."
        )
    n_par = int(n_parents)
    if n_par < 0:
        raise InvalidParameterError(f"'n_parents' must be a non-negative integer; got {n_par}.")
    idx = np.asarray(parent_index)
    if idx.ndim != 1:
        raise InvalidParameterError(
            f"'parent_index' must be 1-D (one entry per child); got shape {idx.shape}."
        )
    if idx.size and not np.issubdtype(idx.dtype, np.integer):
        raise InvalidParameterError(
            f"'parent_index' must hold integers; got dtype {idx.dtype}. Give the column "
            "(0 .. n_parents - 1) of each child's parent."
        )
    idx = idx.astype(np.intp, copy=False)
    bad = (idx < 0) | (idx >= n_par)
    if bad.any():
        c = int(np.flatnonzero(bad)[0])
        raise InvalidParameterError(
            f"'parent_index' must lie in 0..{n_par - 1} (n_parents = {n_par}); child {c} "
            f"has {int(idx[c])}."
        )
    return idx


def _check_weights(weights: ArrayLike, n_child: int) -> FloatArray:
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim < 1 or w.shape[-1] != n_child:
        raise InvalidParameterError(
            f"'weights' must have shape (..., child) with child = {n_child}; got {w.shape}."
        )
    if not np.isfinite(w).all() or (w < 0).any():
        bad = np.flatnonzero((~np.isfinite(w) | (w < 0)).any(axis=tuple(range(w.ndim - 1))))
        raise InvalidParameterError(
            "'weights' must be finite and non-negative; child "
            f"{int(bad[0])} has an invalid weight. Replace NaN/negative weights (use 0 to "
            "leave a child out)."
        )
    return w


def _check_x(x: ArrayLike, n_child: int | None = None) -> FloatArray:
    xa = np.asarray(x, dtype=np.float64)
    if xa.ndim < 2:
        raise InvalidParameterError(
            f"'x' must have shape (..., unit, child), at least 2 dims; got shape {xa.shape}."
        )
    if n_child is not None and xa.shape[-1] != n_child:
        raise InvalidParameterError(
            f"'x' has {xa.shape[-1]} children (last dim) but 'parent_index' has {n_child}."
        )
    return xa


def _membership_from_w(w: FloatArray, membership: ArrayLike | None) -> BoolArray:
    """The (child, parent) tree: given, or the non-zero pattern of ``W`` over its draws."""
    if membership is not None:
        m = np.asarray(membership, dtype=bool)
        if m.shape != w.shape[-2:]:
            raise InvalidParameterError(
                f"'membership' must have shape (child, parent) = {w.shape[-2:]}; got {m.shape}."
            )
        return m
    nz = w != 0
    return nz.any(axis=tuple(range(w.ndim - 2))) if w.ndim > 2 else nz


def _as_w(W: ArrayLike) -> FloatArray:
    w = np.asarray(W, dtype=np.float64)
    if w.ndim < 2:
        raise InvalidParameterError(
            f"'W' must have shape (..., child, parent); got shape {w.shape}."
        )
    return w


def _available_weight(obs: BoolArray, w: FloatArray) -> FloatArray:
    """Sum of the weights of the non-NaN children, shape (..., unit|1, parent)."""
    if obs.all():
        return w.sum(axis=-2)[..., None, :]
    return batched_matmul(obs.astype(np.float64), w)


def _any_member(flag: BoolArray, member: BoolArray) -> BoolArray:
    """True for (..., unit, parent) where some member child is flagged."""
    return batched_matmul(flag.astype(np.float64), member.astype(np.float64)) > 0


def _nan_where_flagged(out: FloatArray, flag: BoolArray, member: BoolArray) -> FloatArray:
    if flag.any():
        out = np.where(_any_member(flag, member), np.nan, out)
    return out


# --------------------------------------------------------------------------------------
# parameter checks and domain
# --------------------------------------------------------------------------------------


def validate_p(p: Any) -> float:
    """Check the exponent ``p`` of the generalised (power) mean.

    Parameters
    ----------
    p : real number
        Any finite real number except 0 (the geometric mean is the limit at 0: use
        ``method="geometric"``).

    Returns
    -------
    float

    Raises
    ------
    InvalidParameterError
        If ``p`` is missing, not a real number, not finite, or 0.

    Examples
    --------
    >>> validate_p(2)
    2.0
    >>> validate_p(0)
    Traceback (most recent call last):
    ...
    brics_ecom.errors.InvalidParameterError: The 'p' parameter of the generalised mean must be a finite real number other than 0 (use method="geometric" for the limit p -> 0); got 0.
    """  # noqa: E501
    if p is None:
        raise InvalidParameterError(
            "The generalised mean needs the 'p' parameter (a finite real number other than "
            "0, e.g. p=2 for the quadratic mean); got None."
        )
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not math.isfinite(p) or p == 0:
        raise InvalidParameterError(
            "The 'p' parameter of the generalised mean must be a finite real number other "
            f'than 0 (use method="geometric" for the limit p -> 0); got {p!r}.'
        )
    return float(p)


def _validate_dat_thresh(dat_thresh: Any) -> float | None:
    if dat_thresh is None:
        return None
    if (
        isinstance(dat_thresh, bool)
        or not isinstance(dat_thresh, numbers.Real)
        or not 0 <= float(dat_thresh) <= 1
    ):
        raise InvalidParameterError(
            "The 'dat_thresh' parameter must be None or a number in [0, 1] (the minimum "
            f"share of non-missing children); got {dat_thresh!r}."
        )
    return float(dat_thresh)


def domain_violations(x: ArrayLike, method: str, *, p: Any = None) -> BoolArray:
    """Flag the values of ``x`` outside the domain of an aggregation method.

    COINr stops with an error when a geometric, harmonic or generalised mean meets an
    invalid value. The kernels do not check (they give NaN for the affected parent); the
    front door calls this function first and raises an error naming the unit and
    indicator.

    Parameters
    ----------
    x : array_like
        Children's scores, any shape. NaN is never flagged.
    method : str
        A registered aggregation method.
    p : float, optional
        Exponent of the generalised mean (required for ``"generalised"``).

    Returns
    -------
    numpy.ndarray of bool, shape of ``x``
        ``x <= 0`` for ``geometric``; ``x == 0`` for ``harmonic``; ``x <= 0`` for
        ``generalised`` with ``p < 0``; all False otherwise.

    Raises
    ------
    InvalidParameterError
        For an unknown method, or an invalid ``p`` with ``method="generalised"``.

    Examples
    --------
    >>> domain_violations([[1.0, 0.0, -2.0, float("nan")]], "geometric").tolist()
    [[False, True, True, False]]
    >>> domain_violations([[1.0, 0.0, -2.0]], "harmonic").tolist()
    [[False, True, False]]
    """
    get_method("aggregate", method)  # unknown names raise, listing the valid ones
    xa = np.asarray(x, dtype=np.float64)
    if method == "geometric":
        return xa <= 0
    if method == "harmonic":
        return xa == 0
    if method == "generalised" and validate_p(p) < 0:
        return xa <= 0
    return np.zeros(xa.shape, dtype=bool)


# --------------------------------------------------------------------------------------
# methods
# --------------------------------------------------------------------------------------


def _weighted_sums(x: FloatArray, w: FloatArray) -> FloatArray:
    """``x @ w``; for children stored child-major with units contiguous (each
    ``(child, unit)`` matrix of ``x.swapaxes(-1, -2)`` C-contiguous) and one weight
    matrix, computed as ``w.T @ x.swapaxes(-1, -2)``, which BLAS reads contiguously (the
    result is returned as a swapped view)."""
    xt = x.swapaxes(-1, -2)
    item = x.itemsize
    if (
        w.ndim == 2
        and x.ndim >= 2
        and xt.strides[-1] == item
        and xt.strides[-2] == item * xt.shape[-1]
    ):
        return np.matmul(w.T, xt).swapaxes(-1, -2)
    return batched_matmul(x, w)


@register("aggregate", "arithmetic")
def arithmetic_mean(
    x: ArrayLike, W: ArrayLike, *, membership: ArrayLike | None = None
) -> FloatArray:
    """Weighted arithmetic mean, dropping missing children (COINr ``a_amean``).

    ``sum(w x) / sum(w)`` over the non-NaN children of each parent, i.e. the weights of
    the available children renormalised to sum 1. All children NaN gives NaN.

    Parameters
    ----------
    x : array_like, shape (..., unit, child)
    W : array_like, shape (..., child, parent)
        Weight matrix (see :func:`weight_matrix`).
    membership : array_like of bool, shape (child, parent), optional
        Unused; accepted for the common method signature.

    Returns
    -------
    numpy.ndarray, shape (..., unit, parent)

    Examples
    --------
    >>> import numpy as np
    >>> W = weight_matrix([1.0, 3.0, 1.0], [0, 0, 0], 1)
    >>> arithmetic_mean(np.array([[4.0, 8.0, np.nan]]), W).tolist()
    [[7.0]]
    """
    xa = np.asarray(x, dtype=np.float64)
    w = _as_w(W)
    # Complete data first: one product, no masked copy. A missing child makes NaN every
    # parent of its row (NaN times a zero weight is NaN), which sends the call to the
    # masked version below.
    num = _weighted_sums(xa, w)
    with np.errstate(invalid="ignore", divide="ignore"):
        if not np.isnan(num).any():
            return num / w.sum(axis=-2)[..., None, :]
        obs = ~np.isnan(xa)
        num = batched_matmul(np.where(obs, xa, 0.0), w)
        return num / _available_weight(obs, w)


@register("aggregate", "geometric")
def geometric_mean(
    x: ArrayLike, W: ArrayLike, *, membership: ArrayLike | None = None
) -> FloatArray:
    """Weighted geometric mean over the non-missing children (COINr ``a_gmean``).

    ``exp(sum(w log x) / sum(w))`` over the non-NaN children. The input should be
    positive (check with :func:`domain_violations`); a parent with a child ``<= 0`` gives
    NaN here.

    Parameters
    ----------
    x : array_like, shape (..., unit, child)
    W : array_like, shape (..., child, parent)
    membership : array_like of bool, shape (child, parent), optional
        The tree; derived from the non-zero pattern of ``W`` if omitted.

    Returns
    -------
    numpy.ndarray, shape (..., unit, parent)

    Examples
    --------
    >>> import numpy as np
    >>> W = weight_matrix([1.0, 1.0, 2.0], [0, 0, 0], 1)
    >>> geometric_mean(np.array([[1.0, 16.0, 2.0]]), W).round(12).tolist()  # 2 * sqrt(2)
    [[2.828427124746]]
    """
    xa = np.asarray(x, dtype=np.float64)
    w = _as_w(W)
    obs = ~np.isnan(xa)
    with np.errstate(invalid="ignore", divide="ignore"):
        logx = np.log(xa)
    ok = np.isfinite(logx)
    num = batched_matmul(np.where(ok, logx, 0.0), w)
    den = _available_weight(obs, w)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.exp(num / den)
    return _nan_where_flagged(out, obs & ~ok, _membership_from_w(w, membership))


@register("aggregate", "harmonic")
def harmonic_mean(x: ArrayLike, W: ArrayLike, *, membership: ArrayLike | None = None) -> FloatArray:
    """Weighted harmonic mean over the non-missing children (COINr ``a_hmean``).

    ``sum(w) / sum(w / x)`` over the non-NaN children. Zero is invalid (check with
    :func:`domain_violations`; a parent with a zero child gives NaN here); negative values
    are accepted, as in COINr.

    Parameters
    ----------
    x : array_like, shape (..., unit, child)
    W : array_like, shape (..., child, parent)
    membership : array_like of bool, shape (child, parent), optional
        The tree; derived from the non-zero pattern of ``W`` if omitted.

    Returns
    -------
    numpy.ndarray, shape (..., unit, parent)

    Examples
    --------
    >>> import numpy as np
    >>> W = weight_matrix([1.0, 1.0, 2.0], [0, 0, 0], 1)
    >>> harmonic_mean(np.array([[1.0, 2.0, 4.0]]), W).tolist()
    [[2.0]]
    """
    xa = np.asarray(x, dtype=np.float64)
    w = _as_w(W)
    obs = ~np.isnan(xa)
    with np.errstate(invalid="ignore", divide="ignore"):
        inv = 1.0 / xa
    ok = np.isfinite(inv)
    den = batched_matmul(np.where(ok, inv, 0.0), w)
    num = _available_weight(obs, w)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = num / den
    return _nan_where_flagged(out, obs & ~ok, _membership_from_w(w, membership))


@register("aggregate", "generalised")
def generalised_mean(
    x: ArrayLike, W: ArrayLike, *, p: Any = None, membership: ArrayLike | None = None
) -> FloatArray:
    """Weighted generalised (power) mean, COINr ``a_genmean``.

    ``(sum(w x**p) / sum(w)) ** (1/p)``. As in COINr there is **no NaN removal**: a parent
    with any missing child (whatever its weight) gives NaN. ``p = 1`` is the arithmetic
    mean, ``p = -1`` the harmonic mean. For ``p < 0`` the input must be positive (check
    with :func:`domain_violations`; such a parent gives NaN here).

    Parameters
    ----------
    x : array_like, shape (..., unit, child)
    W : array_like, shape (..., child, parent)
    p : float
        Exponent, finite and non-zero (see :func:`validate_p`).
    membership : array_like of bool, shape (child, parent), optional
        The tree; derived from the non-zero pattern of ``W`` if omitted.

    Returns
    -------
    numpy.ndarray, shape (..., unit, parent)

    Examples
    --------
    >>> import numpy as np
    >>> W = weight_matrix([1.0, 1.0, 2.0], [0, 0, 0], 1)
    >>> generalised_mean(np.array([[1.0, 2.0, 4.0], [1.0, np.nan, 4.0]]), W, p=2).tolist()
    [[3.0413812651491097], [nan]]
    """
    pf = validate_p(p)
    xa = np.asarray(x, dtype=np.float64)
    w = _as_w(W)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        xp = xa**pf
    bad = ~np.isfinite(xp)  # NaN children, x = 0 with p < 0, negative x with fractional p
    if pf < 0:
        bad |= xa <= 0  # outside the domain (COINr stops): NaN rather than a silent value
    num = batched_matmul(np.where(bad, 0.0, xp), w)
    wsum = w.sum(axis=-2)[..., None, :]
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        out = (num / wsum) ** (1.0 / pf)
    return _nan_where_flagged(out, bad, _membership_from_w(w, membership))


@register("aggregate", "minimum")
def weighted_minimum(
    x: ArrayLike, W: ArrayLike, *, membership: ArrayLike | None = None
) -> FloatArray:
    """Minimum over the non-missing children of positive weight.

    A non-compensatory aggregate (the "weakest link"). Weights only select the children
    (weight 0 leaves a child out); their size does not matter. No such child gives NaN.

    Parameters
    ----------
    x : array_like, shape (..., unit, child)
    W : array_like, shape (..., child, parent)
    membership : array_like of bool, shape (child, parent), optional
        Unused; accepted for the common method signature.

    Returns
    -------
    numpy.ndarray, shape (..., unit, parent)

    Examples
    --------
    >>> import numpy as np
    >>> W = weight_matrix([1.0, 0.0, 2.0, 1.0], [0, 0, 0, 1], 2)
    >>> weighted_minimum(np.array([[5.0, 1.0, np.nan, np.nan]]), W).tolist()
    [[5.0, nan]]
    """
    xa = np.asarray(x, dtype=np.float64)
    w = _as_w(W)
    pos = w > 0  # (..., child, parent)
    obs = ~np.isnan(xa)
    filled = np.where(obs, xa, np.inf)
    n_par = w.shape[-1]
    if n_par == 0:
        lead = np.broadcast_shapes(xa.shape[:-1], (*w.shape[:-2], 1))
        return np.empty((*lead, 0))
    cols = []
    for j in range(n_par):
        if w.ndim == 2:  # one weight set: gather the parent's children only
            idx = np.flatnonzero(pos[:, j])
            vals, found = filled[..., idx], obs[..., idx].any(axis=-1)
        else:  # weight draws: the selection may vary along the leading dims
            sel = pos[..., None, :, j]  # (..., 1, child)
            vals, found = np.where(sel, filled, np.inf), (sel & obs).any(axis=-1)
        cols.append(np.where(found, vals.min(axis=-1, initial=np.inf), np.nan))
    return np.stack(cols, axis=-1)


@register("aggregate", "copeland")
def copeland_score(
    x: ArrayLike,
    W: ArrayLike,
    *,
    membership: ArrayLike | None = None,
    tie_rtol: float = 1e-12,
) -> FloatArray:
    """COINr's Copeland outranking score (data-frame mode of ``Aggregate``).

    For each parent, following COINr 1.1.14 step by step:

    1. The weights are normalised over **all** its children, missing data or not.
    2. For each pair of units ``i < j`` (in the order of the ``unit`` axis):
       ``O_ij = sum(w [x_i > x_j]) + 0.5 sum(w [x_i == x_j])``; comparisons with a
       missing value add nothing.
    3. ``O_ji = 1 - O_ij`` (not recomputed).
    4. Each ordered pair scores +1 if ``O > 1/2``, -1 if ``O < 1/2`` and 0 if ``O = 1/2``.
    5. A unit's score is the sum of its pair scores, an integer in ``[-(n-1), n-1]``.

    Because of step 3, with missing values the score depends on the order of the units
    (COINr sorts them by code): a comparison lost to missingness counts against the unit
    that comes first. ``dat_thresh`` does not apply.

    The comparison in step 4 is done as ``2 G + E`` against ``T`` on the un-normalised
    weights (``G`` the weight of the children where ``x_i > x_j``, ``E`` where equal,
    ``T`` the total), which is the same inequality without the rounding of ``w / T``; a
    difference within ``tie_rtol * T`` counts as an exact tie, so that summation order
    (BLAS blocking) cannot break a tie such as 1/3 + 1/6 = 1/2.

    Vectorised over unit pairs (in blocks of rows to bound memory, ``O(n^2 child)``
    work) and over all leading dims. A parent whose weights sum to 0 gives NaN.

    Parameters
    ----------
    x : array_like, shape (..., unit, child)
    W : array_like, shape (..., child, parent)
    membership : array_like of bool, shape (child, parent), optional
        Unused; accepted for the common method signature.
    tie_rtol : float, default 1e-12
        Relative tolerance of the tie test; 0 compares exactly.

    Returns
    -------
    numpy.ndarray, shape (..., unit, parent)
        Integer-valued scores (float dtype).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[3.0, 1.0], [2.0, 2.0], [1.0, 3.0]])  # 3 units, 2 children
    >>> W = weight_matrix([2.0, 1.0], [0, 0], 1)
    >>> copeland_score(x, W).ravel().tolist()
    [2.0, 0.0, -2.0]
    """
    xa = np.asarray(x, dtype=np.float64)
    w = _as_w(W)
    if not (isinstance(tie_rtol, numbers.Real) and tie_rtol >= 0):
        raise InvalidParameterError(
            f"'tie_rtol' of the Copeland method must be a number >= 0; got {tie_rtol!r}."
        )
    n_unit, n_child = xa.shape[-2:]
    total = w.sum(axis=-2)  # (..., parent)
    tol = float(tie_rtol) * total[..., None, None, :]
    lead_x = xa.shape[:-2]
    lead = np.broadcast_shapes(lead_x, w.shape[:-2])
    score = np.zeros((*lead, n_unit, w.shape[-1]))
    per_row = max(1, n_unit * max(n_child, 1) * math.prod(lead_x))
    block = max(1, min(n_unit, _COPELAND_BLOCK_ELEMENTS // per_row))
    units = np.arange(n_unit)
    for i0 in range(0, n_unit, block):
        i1 = min(n_unit, i0 + block)
        xi = xa[..., i0:i1, None, :]  # (..., b, 1, child)
        xj = xa[..., None, :, :]  # (..., 1, n, child)
        cmp = 2.0 * (xi > xj) + (xi == xj)  # NaN compares False: adds nothing
        twice_o = batched_matmul(cmp.reshape((*lead_x, (i1 - i0) * n_unit, n_child)), w)
        twice_o = twice_o.reshape((*lead, i1 - i0, n_unit, w.shape[-1]))
        diff = twice_o - total[..., None, None, :]
        pair = np.where(diff > tol, 1.0, np.where(diff < -tol, -1.0, 0.0))
        upper = (units[i0:i1, None] < units[None, :])[..., None]  # pairs i < j only
        pair = np.where(upper, pair, 0.0)
        score[..., i0:i1, :] += pair.sum(axis=-2)
        score -= pair.sum(axis=-3)
    return np.where(total[..., None, :] > 0, score, np.nan)


@register("aggregate", "mazziotta_pareto")
def mazziotta_pareto_index(
    x: ArrayLike,
    W: ArrayLike,
    *,
    penalty: float = -1,
    membership: ArrayLike | None = None,
) -> FloatArray:
    """Mazziotta–Pareto Index (Mazziotta & Pareto 2016), weighted, dropping missing data.

    For each unit and parent, over its non-NaN children: ``M`` is the weighted mean,
    ``S`` the weighted **population** standard deviation
    (``sqrt(sum(w (x - M)**2) / sum(w))``) and ``cv = S / M``; then
    ``MPI = M + penalty * S * cv``. ``penalty = -1`` (default) penalises unbalanced
    profiles (positive polarity: higher is better); ``penalty = +1`` gives "MPI+", for
    indices of negative polarity.

    The inputs are assumed already **standardised** by the user as the method requires,
    typically z-scores rescaled to 100 ± 10 (``normalise(..., "zscore", m=100, s=10)``),
    so that ``M`` is well away from 0. Nothing is rescaled here. With equal weights this
    is the original (unweighted) MPI.

    Parameters
    ----------
    x : array_like, shape (..., unit, child)
    W : array_like, shape (..., child, parent)
        Each child must have non-zero weight in at most one parent (a tree).
    penalty : {-1, 1}, default -1
        Sign of the penalty term.
    membership : array_like of bool, shape (child, parent), optional
        The tree; derived from the non-zero pattern of ``W`` if omitted.

    Returns
    -------
    numpy.ndarray, shape (..., unit, parent)

    Examples
    --------
    >>> import numpy as np
    >>> W = weight_matrix([1.0, 1.0], [0, 0], 1)
    >>> mazziotta_pareto_index(np.array([[90.0, 110.0], [100.0, 100.0]]), W).tolist()
    [[99.0], [100.0]]
    """
    if isinstance(penalty, bool) or penalty not in (-1, 1):
        raise InvalidParameterError(
            "The 'penalty' parameter of the Mazziotta-Pareto index must be -1 (MPI, "
            f"positive polarity) or +1 (MPI+, negative polarity); got {penalty!r}."
        )
    xa = np.asarray(x, dtype=np.float64)
    w = _as_w(W)
    member = _membership_from_w(w, membership)
    nz = w != 0
    if w.ndim > 2:
        nz = nz.any(axis=tuple(range(w.ndim - 2)))
    if (nz.sum(axis=-1) > 1).any():
        raise InvalidParameterError(
            "The Mazziotta-Pareto index needs a tree: each child must have non-zero weight "
            "in at most one parent."
        )
    parent_of = np.argmax(nz | member, axis=-1)  # children of weight 0 contribute 0
    obs = ~np.isnan(xa)
    xz = np.where(obs, xa, 0.0)
    den = _available_weight(obs, w)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = batched_matmul(xz, w) / den  # (..., unit, parent)
        dev = np.where(obs, xa - mean[..., parent_of], 0.0)
        var = batched_matmul(dev * dev, w) / den
        sd = np.sqrt(var)
        return mean + float(penalty) * sd * (sd / mean)


# --------------------------------------------------------------------------------------
# front of the kernel tier
# --------------------------------------------------------------------------------------


def _call_method(
    func: Callable[..., Any],
    method: str,
    x: FloatArray,
    w: FloatArray,
    member: BoolArray,
    params: dict[str, Any],
) -> FloatArray:
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return np.asarray(func(x, w, **params), dtype=np.float64)
    takes_any = any(q.kind is inspect.Parameter.VAR_KEYWORD for q in sig.parameters.values())
    accepted = {
        name
        for name, q in list(sig.parameters.items())[2:]
        if q.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    }
    if not takes_any:
        unknown = sorted(set(params) - accepted)
        if unknown:
            raise InvalidParameterError(
                f"The aggregation method {method!r} does not take the parameter(s) "
                f"{unknown}; it accepts {sorted(accepted - {'membership'})}."
            )
    kwargs = dict(params)
    if takes_any or "membership" in accepted:
        kwargs["membership"] = member
    return np.asarray(func(x, w, **kwargs), dtype=np.float64)


def aggregate_level(
    x: ArrayLike,
    weights: ArrayLike,
    parent_index: ArrayLike,
    n_parents: int,
    method: str = "arithmetic",
    *,
    p: float | None = None,
    dat_thresh: float | None = None,
    **method_params: Any,
) -> FloatArray:
    """Aggregate one level of the index tree: children scores to parent scores.

    Parameters
    ----------
    x : array_like, shape (..., unit, child)
        Children's scores; NaN = missing. Leading dims (time, draw, ...) are broadcast.
    weights : array_like, shape (..., child)
        Non-negative finite weight of each child. Leading dims (e.g. a ``draw`` dim of
        Monte Carlo weight sets, a ``scenario`` dim) broadcast against the leading dims of
        ``x`` (NumPy rules). Only the ratios within one parent matter.
    parent_index : array_like of int, shape (child,)
        Column (``0 .. n_parents - 1``) of each child's parent.
    n_parents : int
        Number of parents.
    method : str, default "arithmetic"
        A method registered under ``"aggregate"``: ``"arithmetic"``, ``"geometric"``,
        ``"harmonic"``, ``"generalised"``, ``"minimum"``, ``"copeland"``,
        ``"mazziotta_pareto"`` or a user's own.
    p : float, optional
        Exponent of the generalised mean (required for ``"generalised"``).
    dat_thresh : float in [0, 1], optional
        The result is NaN where (non-NaN children) / (children) ``< dat_thresh``
        (strict). Children are counted by membership, whatever their weight. Ignored for
        the methods in :data:`DATA_FRAME_METHODS` (Copeland), as in COINr.
    **method_params
        Further parameters of the method (e.g. ``penalty`` for ``"mazziotta_pareto"``,
        ``tie_rtol`` for ``"copeland"``).

    Returns
    -------
    numpy.ndarray, shape (broadcast(...), unit, n_parents)

    Raises
    ------
    InvalidParameterError
        For an unknown method, a parameter the method does not take, a bad ``p`` or
        ``dat_thresh``, negative or non-finite weights, or shapes that do not match.

    Notes
    -----
    The kernel does not check the domain of the method (``x > 0`` for the geometric
    mean, ...): call :func:`domain_violations` first. A parent with an invalid child gives
    NaN. The arithmetic mean costs one matrix product (two if ``x`` has missing values),
    whatever the number of weight draws.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1.0, 4.0, 9.0], [2.0, np.nan, 8.0]])  # (unit, child)
    >>> aggregate_level(x, [1.0, 1.0, 1.0], [0, 0, 1], 2, "geometric").round(12).tolist()
    [[2.0, 9.0], [2.0, 8.0]]
    >>> aggregate_level(x, [1.0, 1.0, 1.0], [0, 0, 1], 2, dat_thresh=0.6).tolist()
    [[2.5, 9.0], [nan, 8.0]]
    >>> draws = np.array([[1.0, 1.0, 1.0], [1.0, 3.0, 1.0]])  # (draw, child)
    >>> aggregate_level(x, draws, [0, 0, 1], 2)[:, 0, 0].tolist()  # (draw, unit, parent)
    [2.5, 3.25]
    """
    func = get_method("aggregate", method)
    member = membership_matrix(parent_index, n_parents)
    xa = _check_x(x, member.shape[0])
    w = _check_weights(weights, member.shape[0])
    thresh = _validate_dat_thresh(dat_thresh)
    try:
        np.broadcast_shapes(xa.shape[:-2], w.shape[:-1])
    except ValueError:
        raise InvalidParameterError(
            f"The leading dims of 'weights' {w.shape[:-1]} do not broadcast against those "
            f"of 'x' {xa.shape[:-2]}; add length-1 axes to align them (e.g. weights of "
            "shape (draw, 1, child) for x of shape (time, unit, child))."
        ) from None
    wmat = np.where(member, w[..., :, None], 0.0)
    params = dict(method_params)
    if p is not None:
        params["p"] = p
    out = _call_method(func, method, xa, wmat, member, params)
    if thresh is not None and method not in DATA_FRAME_METHODS:
        count = batched_matmul((~np.isnan(xa)).astype(np.float64), member.astype(np.float64))
        n_child = member.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = count / n_child
        out = np.where(share < thresh, np.nan, out)
    return out


# --------------------------------------------------------------------------------------
# effective weights
# --------------------------------------------------------------------------------------


def effective_weights(weights: ArrayLike, parent: ArrayLike) -> FloatArray:
    """COINr's effective weights of every node of a tree (``get_eff_weights``).

    Each weight is divided by the sum of its siblings' weights (itself included), then
    multiplied by the normalised weights of all its ancestors up to the root; a root
    (parent ``-1``) counts 1, whatever its own weight. Missing data and the aggregation
    method are ignored. The effective weights of the children of any node sum to that
    node's effective weight. Siblings whose weights sum to 0 get NaN.

    Parameters
    ----------
    weights : array_like, shape (..., node)
        Node weights; leading dims (e.g. weight draws) are vectorised over.
    parent : array_like of int, shape (node,)
        Index of each node's parent node, ``-1`` for a root.

    Returns
    -------
    numpy.ndarray, shape (..., node)

    Raises
    ------
    InvalidParameterError
        If the shapes do not match or a parent index is out of range.
    SpecError
        If the tree has a cycle.

    Examples
    --------
    >>> # root 0; nodes 1, 2 under the root; leaves 3, 4 under 1 and 5 under 2
    >>> effective_weights([1.0, 1.0, 3.0, 1.0, 1.0, 5.0], [-1, 0, 0, 1, 1, 2]).tolist()
    [1.0, 0.25, 0.75, 0.125, 0.125, 0.75]
    """
    par = np.asarray(parent)
    if par.ndim != 1 or (par.size and not np.issubdtype(par.dtype, np.integer)):
        raise InvalidParameterError(
            f"'parent' must be a 1-D integer array (-1 for a root); got {par.dtype} of "
            f"shape {par.shape}."
        )
    par = par.astype(np.intp, copy=False)
    n = par.size
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim < 1 or w.shape[-1] != n:
        raise InvalidParameterError(
            f"'weights' must have shape (..., node) with node = {n}; got {w.shape}."
        )
    bad = (par < -1) | (par >= n) | (par == np.arange(n))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InvalidParameterError(
            f"'parent' of node {i} is {int(par[i])}; expected -1 (root) or another node's "
            f"index in 0..{n - 1}."
        )
    is_root = par < 0
    safe_par = np.where(is_root, 0, par)
    member = np.zeros((n, n))
    member[np.arange(n)[~is_root], par[~is_root]] = 1.0
    sums = w @ member  # (..., node): sum of the children's weights of each node
    with np.errstate(invalid="ignore", divide="ignore"):
        local = np.where(is_root, 1.0, w / sums[..., safe_par])
    eff = local
    anc = par
    for _ in range(n + 1):
        active = anc >= 0
        if not active.any():
            return eff
        safe = np.where(active, anc, 0)
        eff = eff * np.where(active, local[..., safe], 1.0)
        anc = np.where(active, par[safe], -1)
    i = int(np.flatnonzero(anc >= 0)[0])
    raise SpecError(
        f"The tree has a cycle: following the parents of node {i} never reaches a root."
    )
