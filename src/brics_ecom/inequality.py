"""Inequality and gap measures: the digital divide between units, over time.

Every inequality measure reduces over ``dim`` (the units, by default) and broadcasts over
every other dim (indicators, years, Monte Carlo draws, scenarios): the result has the
input's dims minus ``dim``. Measures take optional population ``weights`` (a DataArray
over ``dim``, and optionally over time or draws) and ``skipna=True`` (missing values are
left out; ``skipna=False`` makes a slice with any missing value NaN). A slice with no
data at all gives NaN, silently. Values outside a measure's domain (negative values;
zeros where logarithms or negative powers are taken) raise :class:`~brics_ecom.errors.DataError`
naming the cells at fault. Dask-backed inputs stay lazy (the domain checks are then
skipped and such slices give NaN).

The gap measures compare units with a frontier, a group, a target, or each other, and
measure how fast gaps close. Formulas and references: ``docs/inequality.md``.

Examples
--------
>>> import numpy as np, xarray as xr
>>> from brics_ecom import inequality as ineq
>>> x = xr.DataArray([[10.0, 20.0, 30.0, 40.0, 50.0], [1.0, 1.0, 2.0, 2.0, 4.0]],
...                  dims=("time", "unit"),
...                  coords={"time": [2020, 2021], "unit": list("ABCDE")})
>>> ineq.gini(x).round(6).values.tolist()
[0.266667, 0.28]
>>> ineq.atkinson(x, 1.0).round(5).values.tolist()
[0.13161, 0.12945]
"""

from __future__ import annotations

import contextlib
import math
import numbers
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ._apply import apply_kernel, as_param, single_chunk
from ._history import describe_call, with_history
from ._kernels import inequality as _k
from ._validation import check_choice, check_number, is_lazy
from .errors import DataError, InvalidParameterError

__all__ = [
    "ITU_PARITY_RANGE",
    "atkinson",
    "catch_up_rate",
    "coefficient_of_variation",
    "ede",
    "gap_to_frontier",
    "gap_to_group",
    "gap_to_target",
    "gini",
    "log_ratio",
    "lorenz",
    "mean_log_deviation",
    "parity",
    "ratio_top_bottom",
    "relative_gap",
    "theil",
    "theil_decomposition",
    "years_to_close",
]

#: The band of gender parity scores (female/male) that ITU regards as parity.
ITU_PARITY_RANGE: tuple[float, float] = (0.98, 1.02)

_KINDS = ("absolute", "relative")
_SHOWN = 5  # culprits listed in an error message


# --------------------------------------------------------------------------------------
# checks shared by the front doors
# --------------------------------------------------------------------------------------


def _culprits(mask: xr.DataArray) -> tuple[list[dict[str, Any]], int]:
    """The first few cells where ``mask`` is True, as ``{dim: label}`` dicts, and the count."""
    values = np.asarray(mask.values, dtype=bool)
    hits = np.argwhere(values)
    where = []
    for idx in hits[:_SHOWN]:
        cell = {}
        for d, i in zip(mask.dims, idx, strict=True):
            if d in mask.indexes:
                label = mask.indexes[d][int(i)]
                cell[str(d)] = label.item() if hasattr(label, "item") else label
            else:
                cell[str(d)] = int(i)
        where.append(cell)
    return where, len(hits)


def _listing(where: list[dict[str, Any]], count: int) -> str:
    more = f" ({count} in all)" if count > len(where) else ""
    return f"{where}{more}"


def _check_x(x: Any, dim: str | None, func: str, *, name: str = "x") -> xr.DataArray:
    if not isinstance(x, xr.DataArray):
        raise InvalidParameterError(
            f"{func} needs an xarray.DataArray for {name!r}; got {type(x).__name__}."
        )
    if dim is not None and dim not in x.dims:
        raise InvalidParameterError(
            f"The 'dim' parameter of {func} must be a dim of {name!r} {tuple(x.dims)}; got {dim!r}."
        )
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool) or np.issubdtype(
        x.dtype, np.complexfloating
    ):
        raise DataError(
            f"{func}: {name!r} must hold real numbers (NaN for missing); got dtype {x.dtype}."
        )
    if x.dtype != np.float64:
        x = x.astype(np.float64)
    if not is_lazy(x) and x.size:
        values = x.values
        # two allocation-free reductions; the mask is built only to name the culprits
        extremes = [np.fmax.reduce(values, axis=None), np.fmin.reduce(values, axis=None)]
        if np.isinf(extremes).any():
            where, count = _culprits(np.isinf(x))
            raise DataError(
                f"{func}: {name!r} holds infinite values at {_listing(where, count)}; "
                "replace them with finite numbers or NaN."
            )
    return x


def _check_bool(value: Any, param: str, func: str) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise InvalidParameterError(
            f"The {param!r} parameter of {func} must be True or False; got {value!r}."
        )
    return bool(value)


def _check_domain(
    x: xr.DataArray, *, strict: bool, func: str, why: str, hint: str, name: str = "x"
) -> None:
    """Raise naming the cells of ``x`` below 0 (``strict``: at or below 0); eager only."""
    if is_lazy(x) or not x.size:
        return
    low = np.fmin.reduce(x.values, axis=None)  # skips NaN; NaN only if all are NaN
    if (low <= 0) if strict else (low < 0):
        wrong = x <= 0 if strict else x < 0  # NaN compares False
        where, count = _culprits(wrong)
        what = "values ≤ 0" if strict else "negative values"
        raise DataError(
            f"{func} needs {'positive' if strict else 'non-negative'} values ({why}); "
            f"{name!r} has {what} at {_listing(where, count)}. {hint}"
        )


def _match_labels(
    other: xr.DataArray, x: xr.DataArray, param: str, func: str, *, required: Sequence[str] = ()
) -> xr.DataArray:
    """Select ``x``'s labels from ``other`` on every shared dim; error if some are missing."""
    for d in required:
        if d not in other.dims:
            raise InvalidParameterError(
                f"The {param!r} parameter of {func} must have the {d!r} dim; "
                f"got dims {tuple(other.dims)}."
            )
    for d in map(str, other.dims):
        if d not in x.dims:
            continue
        xi, oi = x.indexes.get(d), other.indexes.get(d)
        if xi is None or oi is None:
            if other.sizes[d] != x.sizes[d]:
                raise InvalidParameterError(
                    f"The {param!r} parameter of {func} has {other.sizes[d]} {d}s; the data "
                    f"have {x.sizes[d]}."
                )
            continue
        if xi.equals(oi):
            continue
        missing = [v for v in xi if v not in oi]
        if missing:
            raise InvalidParameterError(
                f"The {param!r} parameter of {func} has no value for {d}s "
                f"{missing[:10]}{' …' if len(missing) > 10 else ''}; give one for every "
                f"{d} of the data."
            )
        other = other.sel({d: xi})
    return other


def _weights(x: xr.DataArray, weights: Any, dim: str, func: str) -> xr.DataArray | None:
    """Population weights as a float DataArray over ``dim`` matching ``x``'s labels."""
    if weights is None:
        return None
    if isinstance(weights, pd.Series):
        weights = xr.DataArray(weights.to_numpy(), dims=(dim,), coords={dim: weights.index})
    elif isinstance(weights, Mapping):
        keys = list(weights)
        weights = xr.DataArray(
            np.asarray([weights[k] for k in keys], dtype=float), dims=(dim,), coords={dim: keys}
        )
    elif not isinstance(weights, xr.DataArray):
        raise InvalidParameterError(
            f"The 'weights' parameter of {func} must be an xarray.DataArray over {dim!r} "
            f"(e.g. population), a pandas Series or a mapping {{{dim}: weight}}; "
            f"got {type(weights).__name__}."
        )
    if not np.issubdtype(weights.dtype, np.number) or np.issubdtype(
        weights.dtype, np.complexfloating
    ):
        raise InvalidParameterError(
            f"The 'weights' parameter of {func} must hold real numbers; got dtype {weights.dtype}."
        )
    weights = _match_labels(weights.astype(np.float64), x, "weights", func, required=(dim,))
    if not is_lazy(weights):
        bad = (weights < 0) | np.isinf(weights)
        if bool(bad.any()):
            where, count = _culprits(bad)
            raise InvalidParameterError(
                f"The 'weights' of {func} must be finite and non-negative (population "
                f"weights); got bad weights at {_listing(where, count)}."
            )
    return weights


def _reduce(
    kernel: Callable[..., np.ndarray],
    x: xr.DataArray,
    dim: str,
    weights: xr.DataArray | None,
    params: Mapping[str, Any],
    name: str,
    call: str,
) -> xr.DataArray:
    arrays = {} if weights is None else {"weights": weights}
    out = apply_kernel(
        kernel,
        x,
        core=(dim,),
        out_core=(),
        arrays=arrays,
        array_core={"weights": (dim,)},
        params={**params, "axis": -1},
    )
    out.name = name
    return with_history(out, x, call)


def _direction(direction: Any, x: xr.DataArray, func: str) -> Any:
    """±1, or a DataArray of ±1 (e.g. over indicators from a ``{indicator: ±1}`` mapping)."""
    if isinstance(direction, Mapping):
        if "indicator" not in x.dims:
            raise InvalidParameterError(
                f"A mapping of directions in {func} needs an 'indicator' dim in the data; "
                f"pass 1 or -1 instead."
            )
        labels = x["indicator"].values.tolist()
        direction = as_param(direction, labels, name="direction", default=1.0)
    if isinstance(direction, xr.DataArray):
        direction = _match_labels(direction.astype(np.float64), x, "direction", func)
        if not is_lazy(direction) and not bool(np.isin(direction.values, (1.0, -1.0)).all()):
            raise InvalidParameterError(
                f"The 'direction' parameter of {func} must hold only 1 or -1; got "
                f"{np.unique(direction.values).tolist()}."
            )
        return direction
    if isinstance(direction, bool) or direction not in (1, -1):
        raise InvalidParameterError(
            f"The 'direction' parameter of {func} must be 1 (higher is better), -1, or a "
            f"{{indicator: ±1}} mapping; got {direction!r}."
        )
    return float(direction)


def _reference(value: Any, x: xr.DataArray, param: str, func: str) -> Any:
    """A scalar, ``{indicator: value}`` mapping or DataArray reference (target, frontier)."""
    if isinstance(value, Mapping):
        if "indicator" not in x.dims:
            raise InvalidParameterError(
                f"A mapping for {param!r} in {func} needs an 'indicator' dim in the data; "
                "pass a number or a DataArray instead."
            )
        value = as_param(value, x["indicator"].values.tolist(), name=param)
    if isinstance(value, xr.DataArray):
        return _match_labels(value.astype(np.float64), x, param, func)
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise InvalidParameterError(
            f"The {param!r} parameter of {func} must be a finite number, a "
            f"{{indicator: value}} mapping or a DataArray; got {value!r}."
        )
    return float(value)


def _kind(kind: str, func: str) -> bool:
    return check_choice(kind, _KINDS, param="kind", func=func) == "relative"


# --------------------------------------------------------------------------------------
# inequality measures
# --------------------------------------------------------------------------------------


def gini(
    x: xr.DataArray,
    *,
    dim: str = "unit",
    weights: Any = None,
    skipna: bool = True,
) -> xr.DataArray:
    r"""Gini coefficient over ``dim``, population-weighted or not.

    .. math::

        G = \frac{\sum_i \sum_j w_i w_j\,|y_i - y_j|}{2\,W^2\,\mu},
        \qquad W = \sum_i w_i, \quad \mu = \frac{1}{W}\sum_i w_i y_i,

    with :math:`w_i = 1` when unweighted: the mean absolute difference over twice the
    mean. No small-sample correction is applied (PySAL's and Stata's ``ineqdeco``
    convention); multiply by :math:`n/(n-1)` for the "unbiased" variant. Computed from
    the sorted values in :math:`O(n \log n)`.

    Parameters
    ----------
    x : xarray.DataArray
        Non-negative values, with ``dim``; any other dims are broadcast over.
    dim : str, default "unit"
        The dim to measure inequality across.
    weights : xarray.DataArray, pandas.Series or mapping, optional
        Non-negative population weights over ``dim`` (and optionally other dims such as
        ``time`` or ``draw``). Units with a NaN or zero weight are left out.
    skipna : bool, default True
        Leave missing values out; ``False``: a slice with any missing value gives NaN.

    Returns
    -------
    xarray.DataArray
        Dims of ``x`` minus ``dim``; values in :math:`[0, 1 - 1/n]` unweighted. NaN for a
        slice with no data or a zero mean.

    Raises
    ------
    DataError
        Negative values (naming the cells).

    Examples
    --------
    >>> import xarray as xr
    >>> x = xr.DataArray([1.0, 2.0, 3.0, 4.0], dims="unit")
    >>> float(gini(x))
    0.25
    >>> w = xr.DataArray([2.0, 1.0, 1.0, 0.0], dims="unit")  # as if [1, 1, 2, 3]
    >>> round(float(gini(x, weights=w)), 12)
    0.25
    """
    func = "gini"
    x = _check_x(x, dim, func)
    skipna = _check_bool(skipna, "skipna", func)
    w = _weights(x, weights, dim, func)
    _check_domain(
        x,
        strict=False,
        func=func,
        why="the Gini coefficient is defined for non-negative quantities",
        hint="Shift or drop them, or measure dispersion with the coefficient of variation.",
    )
    call = describe_call(func, {"dim": dim, "weights": weights, "skipna": skipna})
    return _reduce(_k.gini, x, dim, w, {"skipna": skipna}, func, call)


def theil(
    x: xr.DataArray,
    *,
    index: str = "T",
    dim: str = "unit",
    weights: Any = None,
    skipna: bool = True,
) -> xr.DataArray:
    r"""Theil's T index (default) or L index (the mean log deviation) over ``dim``.

    With population shares :math:`p_i = w_i / W` (:math:`1/N` unweighted) and
    :math:`\mu = \sum_i p_i y_i`:

    .. math::

        T = \sum_i p_i \frac{y_i}{\mu} \ln\frac{y_i}{\mu}, \qquad
        L = \sum_i p_i \ln\frac{\mu}{y_i}.

    Natural logarithms. ``T`` allows zeros (:math:`0 \ln 0 = 0`); ``L`` needs positive
    values.

    Parameters
    ----------
    x : xarray.DataArray
        Non-negative (T) or positive (L) values, with ``dim``.
    index : {"T", "L"}, default "T"
        Theil's T (GE(1)) or L (GE(0), :func:`mean_log_deviation`).
    dim, weights, skipna
        As in :func:`gini`.

    Returns
    -------
    xarray.DataArray
        Dims of ``x`` minus ``dim``; values in :math:`[0, \ln N]` for T. NaN for a slice
        with no data or a zero mean.

    Raises
    ------
    DataError
        Negative values, or values ≤ 0 for ``index="L"`` (naming the cells).

    Examples
    --------
    >>> import xarray as xr
    >>> x = xr.DataArray([1.0, 2.0, 3.0], dims="unit")
    >>> round(float(theil(x)), 6), round(float(theil(x, index="L")), 6)
    (0.087208, 0.095894)
    """
    func = "theil"
    x = _check_x(x, dim, func)
    check_choice(index, ("T", "L"), param="index", func=func)
    skipna = _check_bool(skipna, "skipna", func)
    w = _weights(x, weights, dim, func)
    _theil_domain(x, index, func)
    call = describe_call(func, {"index": index, "dim": dim, "weights": weights, "skipna": skipna})
    return _reduce(_k.theil, x, dim, w, {"index": index, "skipna": skipna}, func, call)


def _theil_domain(x: xr.DataArray, index: str, func: str) -> None:
    if index == "L":
        _check_domain(
            x,
            strict=True,
            func=f"{func}(index='L')",
            why="it takes logarithms",
            hint="Drop or impute them, or use index='T', which allows zeros.",
        )
    else:
        _check_domain(
            x,
            strict=False,
            func=func,
            why="shares of a total cannot be negative",
            hint="Drop or impute them.",
        )


def mean_log_deviation(
    x: xr.DataArray,
    *,
    dim: str = "unit",
    weights: Any = None,
    skipna: bool = True,
) -> xr.DataArray:
    r"""Mean log deviation :math:`L = \sum_i p_i \ln(\mu / y_i)` (Theil's L, GE(0)).

    The same as ``theil(x, index="L")``; see :func:`theil`. Needs positive values.

    Parameters
    ----------
    x : xarray.DataArray
        Positive values, with ``dim``.
    dim, weights, skipna
        As in :func:`gini`.

    Returns
    -------
    xarray.DataArray
        Dims of ``x`` minus ``dim``.

    Raises
    ------
    DataError
        Values ≤ 0 (naming the cells).

    Examples
    --------
    >>> import xarray as xr
    >>> x = xr.DataArray([1.0, 2.0, 3.0], dims="unit")
    >>> round(float(mean_log_deviation(x)), 6)
    0.095894
    """
    out = theil(x, index="L", dim=dim, weights=weights, skipna=skipna)
    out.name = "mean_log_deviation"
    return out


def _atkinson(
    x: xr.DataArray, epsilon: float, dim: str, weights: Any, skipna: bool, ede: bool
) -> xr.DataArray:
    func = "ede" if ede else "atkinson"
    x = _check_x(x, dim, func)
    eps = float(check_number(epsilon, param="epsilon", func=func, low=0))
    skipna = _check_bool(skipna, "skipna", func)
    w = _weights(x, weights, dim, func)
    if eps >= 1:
        _check_domain(
            x,
            strict=True,
            func=f"{func}(epsilon={epsilon})",
            why="for epsilon ≥ 1 it takes logarithms or negative powers",
            hint="Drop or impute them, or use an epsilon below 1.",
        )
    else:
        _check_domain(
            x,
            strict=False,
            func=func,
            why="it is defined for non-negative quantities",
            hint="Drop or impute them.",
        )
    params = {"epsilon": eps, "dim": dim, "weights": weights, "skipna": skipna}
    return _reduce(
        _k.atkinson,
        x,
        dim,
        w,
        {"epsilon": eps, "ede": ede, "skipna": skipna},
        func,
        describe_call(func, params),
    )


def atkinson(
    x: xr.DataArray,
    epsilon: float = 0.5,
    *,
    dim: str = "unit",
    weights: Any = None,
    skipna: bool = True,
) -> xr.DataArray:
    r"""Atkinson index :math:`A_\varepsilon = 1 - \mathrm{EDE}_\varepsilon / \mu` over ``dim``.

    .. math::

        \mathrm{EDE}_\varepsilon =
        \Bigl(\sum_i p_i\, y_i^{\,1-\varepsilon}\Bigr)^{1/(1-\varepsilon)}
        \quad (\varepsilon \ne 1), \qquad
        \mathrm{EDE}_1 = \exp\Bigl(\sum_i p_i \ln y_i\Bigr)

    (the geometric mean for :math:`\varepsilon = 1`), with population shares
    :math:`p_i`. The inequality-aversion parameter :math:`\varepsilon \ge 0`:
    :math:`A_0 = 0`; larger values weigh the bottom of the distribution more.
    See :func:`ede` for the equally-distributed equivalent itself.

    Parameters
    ----------
    x : xarray.DataArray
        Values with ``dim``: non-negative for :math:`\varepsilon < 1`, positive for
        :math:`\varepsilon \ge 1`.
    epsilon : float, default 0.5
        Inequality aversion, ≥ 0.
    dim, weights, skipna
        As in :func:`gini`.

    Returns
    -------
    xarray.DataArray
        Dims of ``x`` minus ``dim``; values in :math:`[0, 1]`.

    Raises
    ------
    InvalidParameterError
        ``epsilon`` negative or not finite.
    DataError
        Values outside the domain (naming the cells).

    Examples
    --------
    >>> import xarray as xr
    >>> x = xr.DataArray([10.0, 20.0, 30.0, 40.0, 50.0], dims="unit")
    >>> round(float(atkinson(x, 0.5)), 5), round(float(atkinson(x, 1)), 5)
    (0.06315, 0.13161)
    """
    return _atkinson(x, epsilon, dim, weights, skipna, ede=False)


def ede(
    x: xr.DataArray,
    epsilon: float = 0.5,
    *,
    dim: str = "unit",
    weights: Any = None,
    skipna: bool = True,
) -> xr.DataArray:
    r"""Equally-distributed equivalent :math:`\mathrm{EDE}_\varepsilon` (see :func:`atkinson`).

    The level that, given to every unit, would yield the same social welfare as the
    actual distribution under inequality aversion :math:`\varepsilon`:
    :math:`\mathrm{EDE}_\varepsilon = \mu\,(1 - A_\varepsilon)`.

    Parameters
    ----------
    x : xarray.DataArray
        As in :func:`atkinson`.
    epsilon : float, default 0.5
        Inequality aversion, ≥ 0.
    dim, weights, skipna
        As in :func:`gini`.

    Returns
    -------
    xarray.DataArray
        Dims of ``x`` minus ``dim``, in the units of ``x``.

    Raises
    ------
    InvalidParameterError, DataError
        As in :func:`atkinson`.

    Examples
    --------
    >>> import xarray as xr
    >>> x = xr.DataArray([10.0, 20.0, 30.0, 40.0, 50.0], dims="unit")
    >>> round(float(ede(x, 0.5)), 4), round(float(ede(x, 1)), 5)
    (28.1054, 26.05171)
    """
    return _atkinson(x, epsilon, dim, weights, skipna, ede=True)


def coefficient_of_variation(
    x: xr.DataArray,
    *,
    ddof: int = 0,
    dim: str = "unit",
    weights: Any = None,
    skipna: bool = True,
) -> xr.DataArray:
    r"""Coefficient of variation :math:`\sigma / \mu` over ``dim``.

    By default :math:`\sigma` is the **population** standard deviation
    (:math:`\sigma^2 = \sum_i p_i (y_i - \mu)^2`, ``ddof=0``), the convention of
    inequality measurement (:math:`\mathrm{CV}^2/2` is the generalised entropy index
    GE(2), and the CV is then a function of the distribution alone, not of the sample
    size). ``ddof=1`` gives the sample standard deviation (unweighted only).

    Parameters
    ----------
    x : xarray.DataArray
        Values with ``dim``.
    ddof : {0, 1}, default 0
        Delta degrees of freedom of the standard deviation.
    dim, weights, skipna
        As in :func:`gini`.

    Returns
    -------
    xarray.DataArray
        Dims of ``x`` minus ``dim``. NaN where the mean is 0, or with ``ddof=1`` and a
        single unit.

    Raises
    ------
    InvalidParameterError
        ``ddof`` not 0 or 1, or ``ddof=1`` with weights.

    Examples
    --------
    >>> import xarray as xr
    >>> x = xr.DataArray([1.0, 2.0, 3.0], dims="unit")
    >>> round(float(coefficient_of_variation(x)), 6)
    0.408248
    >>> float(coefficient_of_variation(x, ddof=1))
    0.5
    """
    func = "coefficient_of_variation"
    x = _check_x(x, dim, func)
    check_choice(ddof, (0, 1), param="ddof", func=func)
    skipna = _check_bool(skipna, "skipna", func)
    if ddof and weights is not None:
        raise InvalidParameterError(
            "coefficient_of_variation: ddof=1 (the sample standard deviation) is defined for "
            "unweighted data only; use ddof=0 with population weights."
        )
    w = _weights(x, weights, dim, func)
    call = describe_call(func, {"ddof": ddof, "dim": dim, "weights": weights, "skipna": skipna})
    return _reduce(
        _k.coefficient_of_variation, x, dim, w, {"ddof": int(ddof), "skipna": skipna}, func, call
    )


def ratio_top_bottom(
    x: xr.DataArray,
    *,
    top: float = 0.2,
    bottom: float | None = None,
    method: str = "mean",
    dim: str = "unit",
    weights: Any = None,
    skipna: bool = True,
) -> xr.DataArray:
    r"""Ratio of the top to the bottom of the distribution over ``dim``.

    ``method="mean"`` (default)
        Mean of the top ``top`` share of the population over the mean of the bottom
        ``bottom`` share (S80/S20 for the defaults). A unit straddling the edge of a
        share counts for the fraction of its weight inside (linear interpolation of the
        Lorenz curve), so e.g. the bottom 20 % of 7 units is the lowest unit plus 40 % of
        the second.
    ``method="share"``
        Share of the total held by the top over the share held by the bottom: the Palma
        ratio is ``top=0.1, bottom=0.4``; equals ``"mean"`` when ``top == bottom``.
    ``method="quantile"``
        :math:`Q(1 - \text{top}) / Q(\text{bottom})`: p90/p10 is ``top=bottom=0.1``. The
        quantile is the inverse of the (weighted) empirical distribution function,
        averaged where it jumps (Hyndman & Fan type 2,
        ``numpy.quantile(method="averaged_inverted_cdf")``).

    Parameters
    ----------
    x : xarray.DataArray
        Non-negative values, with ``dim``.
    top : float, default 0.2
        Share of the population at the top, in (0, 1).
    bottom : float, optional
        Share at the bottom, in (0, 1); defaults to ``top``.
    method : {"mean", "share", "quantile"}, default "mean"
        See above.
    dim, weights, skipna
        As in :func:`gini`.

    Returns
    -------
    xarray.DataArray
        Dims of ``x`` minus ``dim``; ``inf`` when the bottom is 0.

    Raises
    ------
    InvalidParameterError
        Shares outside (0, 1), or ``top + bottom > 1`` for ``"mean"``/``"share"``.
    DataError
        Negative values (naming the cells).

    Examples
    --------
    >>> import xarray as xr
    >>> x = xr.DataArray([1.0, 2.0, 3.0, 4.0, 10.0], dims="unit")
    >>> float(ratio_top_bottom(x))  # 10 / 1
    10.0
    >>> float(ratio_top_bottom(x, top=0.2, bottom=0.4, method="share"))  # 10 / (1 + 2)
    3.3333333333333335
    """
    func = "ratio_top_bottom"
    x = _check_x(x, dim, func)
    check_choice(method, ("mean", "share", "quantile"), param="method", func=func)
    bottom = top if bottom is None else bottom
    t = check_number(
        top, param="top", func=func, low=0, high=1, low_inclusive=False, high_inclusive=False
    )
    b = check_number(
        bottom, param="bottom", func=func, low=0, high=1, low_inclusive=False, high_inclusive=False
    )
    if method != "quantile" and t + b > 1 + 1e-12:
        raise InvalidParameterError(
            f"ratio_top_bottom: the top ({t}) and bottom ({b}) shares overlap (sum > 1); "
            "choose shares that add up to at most 1."
        )
    skipna = _check_bool(skipna, "skipna", func)
    w = _weights(x, weights, dim, func)
    _check_domain(
        x,
        strict=False,
        func=func,
        why="it compares parts of a total",
        hint="Drop or impute them.",
    )
    call = describe_call(
        func,
        {"top": t, "bottom": b, "method": method, "dim": dim, "weights": weights, "skipna": skipna},
    )
    params = {"top": float(t), "bottom": float(b), "method": method, "skipna": skipna}
    return _reduce(_k.top_bottom_ratio, x, dim, w, params, func, call)


def lorenz(
    x: xr.DataArray,
    *,
    dim: str = "unit",
    weights: Any = None,
    skipna: bool = True,
) -> xr.Dataset:
    r"""Lorenz curve points over ``dim``: cumulative population and value shares.

    Units are sorted by value; point :math:`k` is
    :math:`\bigl(\sum_{i \le k} w_i / W,\ \sum_{i \le k} w_i y_i / \sum_i w_i y_i\bigr)`,
    from :math:`(0, 0)` to :math:`(1, 1)`.

    Parameters
    ----------
    x : xarray.DataArray
        Non-negative values, with ``dim``.
    dim, weights, skipna
        As in :func:`gini`.

    Returns
    -------
    xarray.Dataset
        ``population`` and ``share``, with the dims of ``x`` minus ``dim`` plus ``point``
        (``0 … n``, ``n`` the length of ``dim``). Slices with fewer usable units end with
        NaN points; empty slices, and slices with a zero total, are all NaN.

    Raises
    ------
    DataError
        Negative values (naming the cells).

    Examples
    --------
    >>> import xarray as xr
    >>> curve = lorenz(xr.DataArray([3.0, 1.0, 4.0], dims="unit"))
    >>> curve["share"].round(4).values.tolist()
    [0.0, 0.125, 0.5, 1.0]
    """
    func = "lorenz"
    x = _check_x(x, dim, func)
    skipna = _check_bool(skipna, "skipna", func)
    w = _weights(x, weights, dim, func)
    _check_domain(
        x, strict=False, func=func, why="it plots shares of a total", hint="Drop or impute them."
    )
    n_points = x.sizes[dim] + 1

    def kernel(values: np.ndarray, *extra: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return _k.lorenz(values, weights=extra[0] if extra else None, skipna=skipna)

    inputs = [single_chunk(x, [dim])] + ([single_chunk(w, [dim])] if w is not None else [])
    pop, share = xr.apply_ufunc(
        kernel,
        *inputs,
        input_core_dims=[[dim]] * len(inputs),
        output_core_dims=[["point"], ["point"]],
        dask="parallelized",
        output_dtypes=[np.float64, np.float64],
        dask_gufunc_kwargs={"output_sizes": {"point": n_points}},
    )
    out = xr.Dataset({"population": pop, "share": share}).assign_coords(point=np.arange(n_points))
    call = describe_call(func, {"dim": dim, "weights": weights, "skipna": skipna})
    out.attrs["history"] = [*x.attrs.get("history", []), call]
    return out


# --------------------------------------------------------------------------------------
# Theil decomposition
# --------------------------------------------------------------------------------------


def _is_missing_label(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT


def _group_labels(
    x: xr.DataArray, groups: Any, dim: str, func: str, rest: Hashable | None
) -> xr.DataArray:
    """Each unit's group label, as a DataArray over ``dim`` (and possibly other dims)."""
    units = x[dim].values.tolist()
    if isinstance(groups, str) and not isinstance(groups, xr.DataArray):
        coord = x.coords.get(groups)
        if coord is None or dim not in coord.dims:
            along = sorted(str(k) for k, v in x.coords.items() if dim in v.dims and k != dim)
            raise InvalidParameterError(
                f"The 'groups' parameter of {func} names {groups!r}, which is not a "
                f"coordinate along {dim!r}; coordinates along {dim!r}: {along}. Pass a "
                f"coordinate name, a mapping or a DataArray of labels over {dim!r}."
            )
        labels = xr.DataArray(
            coord.values,
            dims=coord.dims,
            coords={d: x.indexes[d] for d in coord.dims if d in x.indexes},
        )
    elif isinstance(groups, Mapping):
        assign = _invert_groups(groups, units, func)
        unassigned = [u for u in units if u not in assign]
        if unassigned:
            if rest is None:
                raise InvalidParameterError(
                    f"The 'groups' parameter of {func} gives no group for {dim}s "
                    f"{unassigned[:10]}; assign them, or pass rest='rest' to put every "
                    "unlisted unit in one group."
                )
            assign.update({u: rest for u in unassigned})
        labels = xr.DataArray(
            _label_array([assign[u] for u in units]),
            dims=(dim,),
            coords={dim: x.indexes[dim]} if dim in x.indexes else {},
        )
    elif isinstance(groups, xr.DataArray):
        labels = _match_labels(groups, x, "groups", func, required=(dim,))
        if is_lazy(labels):
            labels = labels.compute()
    else:
        raise InvalidParameterError(
            f"The 'groups' parameter of {func} must be the name of a coordinate along {dim!r}, "
            f"a mapping ({{unit: group}} or {{group: [units]}}) or a DataArray of labels; got "
            f"{type(groups).__name__}."
        )
    missing = xr.DataArray(
        np.vectorize(_is_missing_label, otypes=[bool])(labels.values),
        dims=labels.dims,
        coords={d: labels[d] for d in labels.dims if d in labels.coords},
    )
    if bool(missing.any()):
        where, count = _culprits(missing)
        raise DataError(
            f"{func}: no group label for {_listing(where, count)}; give every unit a group "
            "(e.g. 'rest')."
        )
    return labels


def _invert_groups(groups: Mapping[Any, Any], units: list[Any], func: str) -> dict[Any, Any]:
    """``{unit: group}`` from either ``{unit: group}`` or ``{group: [units]}``."""
    listy = [isinstance(v, list | tuple | set | frozenset | np.ndarray) for v in groups.values()]
    known = set(units)
    assign: dict[Any, Any] = {}
    if listy and all(listy):
        for g, members in groups.items():
            for u in members:
                if u in assign and assign[u] != g:
                    raise InvalidParameterError(
                        f"The 'groups' parameter of {func} puts unit {u!r} in two groups "
                        f"({assign[u]!r} and {g!r}); groups must not overlap."
                    )
                assign[u] = g
    elif any(listy):
        raise InvalidParameterError(
            f"The 'groups' mapping of {func} mixes lists and single labels; use "
            "{unit: group} or {group: [units]}."
        )
    else:
        assign = dict(groups)
    unknown = [u for u in assign if u not in known]
    if unknown:
        raise InvalidParameterError(
            f"The 'groups' parameter of {func} names units {unknown[:10]} that are not in the data."
        )
    return assign


def _encode(labels: xr.DataArray) -> tuple[xr.DataArray, list[Any]]:
    flat = labels.values.ravel().tolist()
    uniq = list(dict.fromkeys(flat))
    with contextlib.suppress(TypeError):  # unorderable labels keep their order of appearance
        uniq = sorted(uniq)
    lookup = {v: i for i, v in enumerate(uniq)}
    codes = np.asarray([lookup[v] for v in flat], dtype=np.int64).reshape(labels.shape)
    return labels.copy(data=codes), uniq


def _label_array(labels: list[Any]) -> np.ndarray:
    """Labels as a 1-D array: typed when NumPy can (str, numbers), object otherwise."""
    with contextlib.suppress(ValueError):  # ragged labels: an object array below
        arr = np.asarray(labels)
        if arr.ndim == 1 and arr.dtype != object:
            return arr
    out = np.empty(len(labels), dtype=object)
    out[:] = labels
    return out


def theil_decomposition(
    x: xr.DataArray,
    groups: Any,
    *,
    index: str = "T",
    dim: str = "unit",
    weights: Any = None,
    rest: Hashable | None = None,
    skipna: bool = True,
) -> xr.Dataset:
    r"""Theil index split exactly into between-group and within-group inequality.

    With groups :math:`g` holding population shares :math:`p_g`, value shares
    :math:`s_g = p_g \mu_g / \mu` and their own Theil indices :math:`T_g`, :math:`L_g`
    (Shorrocks 1980):

    .. math::

        T = \underbrace{\sum_g s_g \ln\frac{\mu_g}{\mu}}_{\text{between}}
          + \underbrace{\sum_g s_g\,T_g}_{\text{within}},
        \qquad
        L = \sum_g p_g \ln\frac{\mu}{\mu_g} + \sum_g p_g\,L_g .

    Both parts are computed directly (not as a residual); they add up to ``total`` up to
    rounding (~1e-16).

    Parameters
    ----------
    x : xarray.DataArray
        Non-negative (T) or positive (L) values, with ``dim``.
    groups : str, mapping or xarray.DataArray
        The partition of the units: the name of a coordinate along ``dim`` (e.g.
        ``"region"``), a mapping ``{unit: group}`` or ``{group: [units]}`` (e.g.
        ``{"BRICS": ["BRA", "RUS", "IND", "CHN", "ZAF"]}`` with ``rest="rest"``), or a
        DataArray of labels over ``dim`` — possibly also over ``time``, for membership
        that changes over the years.
    index : {"T", "L"}, default "T"
        Which Theil index to decompose.
    dim, weights, skipna
        As in :func:`gini`.
    rest : hashable, optional
        Group label of the units a mapping leaves out; by default they are an error.

    Returns
    -------
    xarray.Dataset
        ``total``, ``between``, ``within`` (dims of ``x`` minus ``dim``), and, over a new
        ``group`` dim (sorted labels): ``group_index`` (:math:`T_g` or :math:`L_g`),
        ``within_contribution`` (:math:`s_g T_g` or :math:`p_g L_g`),
        ``population_share`` and ``value_share``. A group with a single unit has
        ``group_index`` 0 (no inequality within it); a group with no data in a slice has
        zero shares and contribution and a NaN ``group_index``.

    Raises
    ------
    InvalidParameterError
        Unknown coordinate, units named twice or absent from the data, unassigned units
        without ``rest``.
    DataError
        Units without a label; values outside the domain (as in :func:`theil`).

    Examples
    --------
    >>> import xarray as xr
    >>> x = xr.DataArray([1.0, 2.0, 3.0, 6.0], dims="unit",
    ...                  coords={"unit": list("ABCD"), "region": ("unit", list("nnss"))})
    >>> out = theil_decomposition(x, "region")
    >>> round(float(out.between), 6), round(float(out.within), 6)
    (0.130812, 0.056633)
    >>> bool(abs(out.total - out.between - out.within) < 1e-15)
    True
    """
    func = "theil_decomposition"
    x = _check_x(x, dim, func)
    check_choice(index, ("T", "L"), param="index", func=func)
    skipna = _check_bool(skipna, "skipna", func)
    w = _weights(x, weights, dim, func)
    labels = _group_labels(x, groups, dim, func, rest)
    codes, uniq = _encode(labels)
    _theil_domain(x, index, func)
    n_groups = len(uniq)
    names = (
        "total",
        "between",
        "within",
        "group_index",
        "within_contribution",
        "population_share",
        "value_share",
    )

    def kernel(values: np.ndarray, code: np.ndarray, *extra: np.ndarray) -> tuple[Any, ...]:
        out = _k.theil_groups(
            values,
            code,
            n_groups,
            index=index,
            weights=extra[0] if extra else None,
            skipna=skipna,
        )
        return tuple(out[k.removeprefix("within_")] for k in names)

    inputs = [single_chunk(x, [dim]), single_chunk(codes, [dim])]
    if w is not None:
        inputs.append(single_chunk(w, [dim]))
    results = xr.apply_ufunc(
        kernel,
        *inputs,
        input_core_dims=[[dim]] * len(inputs),
        output_core_dims=[[], [], [], ["group"], ["group"], ["group"], ["group"]],
        dask="parallelized",
        output_dtypes=[np.float64] * len(names),
        dask_gufunc_kwargs={"output_sizes": {"group": n_groups}},
    )
    data = dict(zip(names, results, strict=True))
    out = xr.Dataset(data).assign_coords(group=_label_array(uniq))
    call = describe_call(
        func,
        {
            "groups": groups,
            "index": index,
            "dim": dim,
            "weights": weights,
            "rest": rest,
            "skipna": skipna,
        },
    )
    out.attrs["index"] = index
    out.attrs["history"] = [*x.attrs.get("history", []), call]
    return out


# --------------------------------------------------------------------------------------
# gaps
# --------------------------------------------------------------------------------------


def _elementwise_gap(
    x: xr.DataArray, reference: Any, direction: Any, relative: bool, name: str, call: str
) -> xr.DataArray:
    out = xr.apply_ufunc(
        _k.gap,
        x,
        reference,
        kwargs={"direction": 1.0, "relative": relative},
        dask="parallelized",
        output_dtypes=[np.float64],
    )
    if isinstance(direction, xr.DataArray) or direction != 1.0:
        out = out * direction
    out = out.transpose(*x.dims, ...)
    out.name = name
    return with_history(out, x, call)


def gap_to_frontier(
    x: xr.DataArray,
    *,
    dim: str = "unit",
    direction: Any = 1,
    frontier: Any = None,
    kind: str = "absolute",
    skipna: bool = True,
) -> xr.DataArray:
    r"""Gap of every unit to the frontier: the best unit of each slice, or a fixed value.

    .. math::

        \text{absolute: } g = d\,(F - x), \qquad
        \text{relative: } g = d\,(F - x) / |F|,

    where :math:`F` is the best value over ``dim`` in each slice (each indicator and
    year): the maximum for direction :math:`d = +1`, the minimum for :math:`d = -1`; or
    the fixed ``frontier``. Gaps are ≥ 0 for units behind the best one (0 for the best).

    Parameters
    ----------
    x : xarray.DataArray
        Values with ``dim``.
    dim : str, default "unit"
        The dim the frontier is taken over.
    direction : {1, -1} or mapping, default 1
        1: higher is better; -1: lower is better; or ``{indicator: ±1}``.
    frontier : float, mapping or xarray.DataArray, optional
        A fixed frontier (e.g. a target level) instead of the best unit: a number, an
        ``{indicator: value}`` mapping or a DataArray (e.g. over indicator and time).
    kind : {"absolute", "relative"}, default "absolute"
        Relative gaps divide by :math:`|F|` (NaN where :math:`F = 0`).
    skipna : bool, default True
        ``False``: a slice with any missing value has a NaN frontier.

    Returns
    -------
    xarray.DataArray
        Same dims and coords as ``x``.

    Examples
    --------
    >>> import xarray as xr
    >>> x = xr.DataArray([50.0, 80.0, 100.0], dims="unit", coords={"unit": list("ABC")})
    >>> gap_to_frontier(x).values.tolist()
    [50.0, 20.0, 0.0]
    >>> gap_to_frontier(x, kind="relative").values.tolist()
    [0.5, 0.2, 0.0]
    """
    func = "gap_to_frontier"
    x = _check_x(x, dim, func)
    relative = _kind(kind, func)
    skipna = _check_bool(skipna, "skipna", func)
    d = _direction(direction, x, func)
    call = describe_call(
        func,
        {"dim": dim, "direction": direction, "frontier": frontier, "kind": kind, "skipna": skipna},
    )
    if frontier is not None:
        ref = _reference(frontier, x, "frontier", func)
        return _elementwise_gap(x, ref, d, relative, "gap", call)
    out = apply_kernel(
        _k.gap_to_frontier,
        x,
        core=(dim,),
        params={"direction": d, "relative": relative, "skipna": skipna, "axis": -1},
    )
    out = out.transpose(*x.dims, ...)
    out.name = "gap"
    return with_history(out, x, call)


def _group_mask(x: xr.DataArray, group: Any, dim: str, func: str) -> xr.DataArray:
    units = x[dim].values.tolist()
    if isinstance(group, xr.DataArray):
        if group.dtype != bool:
            raise InvalidParameterError(
                f"A DataArray 'group' in {func} must be a boolean mask over {dim!r}; got dtype "
                f"{group.dtype}."
            )
        mask = _match_labels(group, x, "group", func, required=(dim,))
    elif isinstance(group, Mapping):
        if len(group) != 1:
            raise InvalidParameterError(
                f"A mapping 'group' in {func} must be {{coordinate: value}} with one item, "
                f"e.g. {{'region': 'Asia'}}; got {dict(group)!r}."
            )
        ((coord_name, value),) = group.items()
        coord = x.coords.get(coord_name)
        if coord is None or dim not in coord.dims:
            raise InvalidParameterError(
                f"{func}: {coord_name!r} is not a coordinate along {dim!r}."
            )
        mask = coord.isin([value])
    elif isinstance(group, str | numbers.Number) and not isinstance(group, bool):
        coord = x.coords.get(group) if isinstance(group, str) else None
        if coord is not None and dim in coord.dims and coord.dtype == bool and group not in units:
            mask = coord
        elif group in units:
            mask = x[dim].isin([group])
        else:
            raise InvalidParameterError(
                f"The 'group' parameter of {func} must be a {dim} label, a boolean "
                f"coordinate along {dim!r}, a list of {dim}s, a {{coordinate: value}} mapping "
                f"or a boolean mask; got {group!r}."
            )
    elif isinstance(group, list | tuple | set | frozenset | np.ndarray | pd.Index):
        members = list(group)
        unknown = [u for u in members if u not in units]
        if unknown:
            raise InvalidParameterError(
                f"The 'group' parameter of {func} names {dim}s {unknown[:10]} that are not "
                "in the data."
            )
        mask = xr.DataArray(
            np.isin(np.asarray(units, dtype=object), members), dims=(dim,), coords={dim: x[dim]}
        )
    else:
        raise InvalidParameterError(
            f"The 'group' parameter of {func} must be a {dim} label, a list of {dim}s, a "
            f"{{coordinate: value}} mapping or a boolean mask; got {type(group).__name__}."
        )
    mask = mask.reset_coords(drop=True)
    if not is_lazy(mask) and not bool(mask.any()):
        raise InvalidParameterError(f"The 'group' of {func} selects no {dim}.")
    return mask


def gap_to_group(
    x: xr.DataArray,
    group: Any,
    *,
    stat: str = "mean",
    dim: str = "unit",
    direction: Any = 1,
    kind: str = "absolute",
    weights: Any = None,
    skipna: bool = True,
) -> xr.DataArray:
    r"""Gap of every unit to a group's mean or median (e.g. the OECD or G7 average).

    .. math::

        g = d\,(m_G - x), \qquad \text{relative: } g = d\,(m_G - x)/|m_G|,

    with :math:`m_G` the (population-weighted) mean or median of the group's units in
    each slice. Positive for units behind the group. A one-unit group is allowed: the
    reference is then that unit (its own gap is 0).

    Parameters
    ----------
    x : xarray.DataArray
        Values with ``dim``.
    group : hashable, list, mapping or xarray.DataArray
        The reference group: a unit label (e.g. ``"CHN"``), a list of units, the name of a
        boolean coordinate along ``dim``, a ``{coordinate: value}`` mapping (e.g.
        ``{"region": "Asia"}``) or a boolean mask over ``dim`` (possibly also over
        ``time``).
    stat : {"mean", "median"}, default "mean"
        The group statistic. The weighted median is the inverse of the weighted empirical
        distribution function, averaged where it jumps (the usual median when unweighted).
    dim : str, default "unit"
        The dim the group lives on.
    direction : {1, -1} or mapping, default 1
        As in :func:`gap_to_frontier`.
    kind : {"absolute", "relative"}, default "absolute"
        Relative gaps divide by :math:`|m_G|` (NaN where it is 0).
    weights : xarray.DataArray, pandas.Series or mapping, optional
        Population weights for the group statistic.
    skipna : bool, default True
        ``False``: a missing value inside the group makes the slice's reference NaN.

    Returns
    -------
    xarray.DataArray
        Same dims and coords as ``x``; NaN in slices where the group has no data.

    Raises
    ------
    InvalidParameterError
        An unknown unit or coordinate, or a group that selects no unit.

    Examples
    --------
    >>> import xarray as xr
    >>> x = xr.DataArray([40.0, 60.0, 90.0], dims="unit", coords={"unit": ["IND", "BRA", "DEU"]})
    >>> gap_to_group(x, ["BRA", "DEU"]).values.tolist()
    [35.0, 15.0, -15.0]
    """
    func = "gap_to_group"
    x = _check_x(x, dim, func)
    check_choice(stat, ("mean", "median"), param="stat", func=func)
    relative = _kind(kind, func)
    skipna = _check_bool(skipna, "skipna", func)
    d = _direction(direction, x, func)
    mask = _group_mask(x, group, dim, func)
    w = _weights(x, weights, dim, func)
    arrays = {"mask": mask}
    if w is not None:
        arrays["weights"] = w
    out = apply_kernel(
        _k.gap_to_reference,
        x,
        core=(dim,),
        arrays=arrays,
        array_core={"mask": (dim,), "weights": (dim,)},
        params={"stat": stat, "direction": d, "relative": relative, "skipna": skipna, "axis": -1},
    )
    out = out.transpose(*x.dims, ...)
    out.name = "gap"
    call = describe_call(
        func,
        {
            "group": group,
            "stat": stat,
            "dim": dim,
            "direction": direction,
            "kind": kind,
            "weights": weights,
            "skipna": skipna,
        },
    )
    return with_history(out, x, call)


def gap_to_target(
    x: xr.DataArray,
    target: Any,
    *,
    direction: Any = 1,
    kind: str = "absolute",
) -> xr.DataArray:
    r"""Gap of every value to a target: :math:`d\,(\tau - x)`, or divided by :math:`|\tau|`.

    Positive while the target is not reached (e.g. a target of 100 % of individuals using
    the internet), negative beyond it. Elementwise: no ``dim`` is reduced.

    Parameters
    ----------
    x : xarray.DataArray
        Values.
    target : float, mapping or xarray.DataArray
        A number, an ``{indicator: target}`` mapping, or a DataArray broadcast against
        ``x`` (e.g. over indicator and time).
    direction : {1, -1} or mapping, default 1
        1: higher is better (target from below); -1: lower is better.
    kind : {"absolute", "relative"}, default "absolute"
        Relative gaps divide by :math:`|\tau|` (NaN where it is 0).

    Returns
    -------
    xarray.DataArray
        The dims of ``x`` (plus any extra dims of ``target``).

    Examples
    --------
    >>> import xarray as xr
    >>> x = xr.DataArray([60.0, 75.0, 100.0], dims="unit")
    >>> gap_to_target(x, 80.0).values.tolist()
    [20.0, 5.0, -20.0]
    >>> gap_to_target(x, 80.0, kind="relative").values.tolist()
    [0.25, 0.0625, -0.25]
    """
    func = "gap_to_target"
    x = _check_x(x, None, func)
    relative = _kind(kind, func)
    d = _direction(direction, x, func)
    ref = _reference(target, x, "target", func)
    call = describe_call(func, {"target": target, "direction": direction, "kind": kind})
    return _elementwise_gap(x, ref, d, relative, "gap", call)


def relative_gap(
    x: xr.DataArray,
    reference: Any,
    *,
    direction: Any = 1,
) -> xr.DataArray:
    r"""Relative gap :math:`d\,(r - x) / |r|` of ``x`` to a reference ``r``.

    The shortfall as a fraction of the reference: 0.25 means 25 % below it (for
    ``direction=1``). NaN where the reference is 0. Elementwise, with exact label
    alignment.

    Parameters
    ----------
    x : xarray.DataArray
        Values.
    reference : float, mapping or xarray.DataArray
        The reference: a number, ``{indicator: value}``, or a DataArray broadcast against
        ``x`` (e.g. a leader's series selected with ``.sel(unit=..., drop=True)``).
    direction : {1, -1} or mapping, default 1
        As in :func:`gap_to_frontier`.

    Returns
    -------
    xarray.DataArray
        The dims of ``x`` (plus any extra dims of ``reference``).

    Examples
    --------
    >>> import xarray as xr
    >>> x = xr.DataArray([30.0, 45.0, 60.0], dims="unit")
    >>> relative_gap(x, 60.0).values.tolist()
    [0.5, 0.25, 0.0]
    """
    func = "relative_gap"
    x = _check_x(x, None, func)
    d = _direction(direction, x, func)
    ref = _reference(reference, x, "reference", func)
    call = describe_call(func, {"reference": reference, "direction": direction})
    return _elementwise_gap(x, ref, d, True, "relative_gap", call)


def _pair(a: Any, b: Any, func: str) -> tuple[xr.DataArray, xr.DataArray]:
    a = _check_x(a, None, func, name="a")
    b = _check_x(b, None, func, name="b")
    try:
        a, b = xr.align(a, b, join="exact")
    except ValueError as err:
        shared = [d for d in a.dims if d in b.dims]
        raise InvalidParameterError(
            f"{func}: 'a' and 'b' must have the same labels on their shared dims {shared} "
            f"({err}). Select matching labels first, e.g. "
            "a.sel(indicator='x_f', drop=True) and b.sel(indicator='x_m', drop=True)."
        ) from None
    return a, b


def parity(a: xr.DataArray, b: xr.DataArray) -> xr.DataArray:
    r"""Parity score :math:`a / b` of two sub-populations (e.g. female / male).

    ITU's *gender parity score* is the female value divided by the male value (e.g. of
    the share of individuals using the internet); ITU considers scores between 0.98 and
    1.02 (:data:`ITU_PARITY_RANGE`) as gender parity. The same ratio measures e.g. small
    versus large firms selling online. Elementwise, with exact label alignment.

    Parameters
    ----------
    a, b : xarray.DataArray
        The two sub-populations' values (non-negative; ``b`` positive), with the same
        labels on their shared dims.

    Returns
    -------
    xarray.DataArray
        The broadcast dims of ``a`` and ``b``.

    Raises
    ------
    DataError
        Negative ``a``, or ``b`` ≤ 0 (naming the cells).
    InvalidParameterError
        Labels of ``a`` and ``b`` differ.

    Examples
    --------
    >>> import xarray as xr
    >>> f = xr.DataArray([45.0, 78.0], dims="unit", coords={"unit": ["IND", "BRA"]})
    >>> m = xr.DataArray([60.0, 78.0], dims="unit", coords={"unit": ["IND", "BRA"]})
    >>> parity(f, m).values.tolist()
    [0.75, 1.0]
    """
    func = "parity"
    a, b = _pair(a, b, func)
    _check_domain(
        a,
        strict=False,
        func=func,
        why="shares and rates cannot be negative",
        hint="Drop or impute them.",
        name="a",
    )
    _check_domain(
        b,
        strict=True,
        func=func,
        why="it divides by b",
        hint="Drop them, or compare with a difference instead.",
        name="b",
    )
    out = a / b
    out.name = "parity"
    return with_history(out, a, describe_call(func, {"a": a, "b": b}))


def log_ratio(a: xr.DataArray, b: xr.DataArray) -> xr.DataArray:
    r"""Log ratio :math:`\ln(a / b)`: a symmetric, additive measure of relative difference.

    :math:`\ln(a/b) = -\ln(b/a)`; for small differences it is close to the relative
    difference, and it is additive over time (the change of a log ratio is the growth
    gap). Needs positive values. Elementwise, with exact label alignment.

    Parameters
    ----------
    a, b : xarray.DataArray
        Positive values with the same labels on their shared dims.

    Returns
    -------
    xarray.DataArray
        The broadcast dims of ``a`` and ``b``.

    Raises
    ------
    DataError
        Values ≤ 0 in ``a`` or ``b`` (naming the cells).

    Examples
    --------
    >>> import xarray as xr
    >>> a = xr.DataArray([2.0, 1.0], dims="unit")
    >>> b = xr.DataArray([1.0, 2.0], dims="unit")
    >>> log_ratio(a, b).round(6).values.tolist()
    [0.693147, -0.693147]
    """
    func = "log_ratio"
    a, b = _pair(a, b, func)
    for arr, nm in ((a, "a"), (b, "b")):
        _check_domain(
            arr,
            strict=True,
            func=func,
            why="it takes logarithms",
            hint="Drop or impute them.",
            name=nm,
        )
    out = xr.apply_ufunc(
        lambda u, v: np.log(np.where((u > 0) & (v > 0), u / np.where(v > 0, v, 1.0), np.nan)),
        a,
        b,
        dask="parallelized",
        output_dtypes=[np.float64],
    )
    out.name = "log_ratio"
    return with_history(out, a, describe_call(func, {"a": a, "b": b}))


# --------------------------------------------------------------------------------------
# change of gaps over time
# --------------------------------------------------------------------------------------


def _time_values(x: xr.DataArray, time_dim: str, func: str) -> xr.DataArray:
    if time_dim not in x.dims:
        raise InvalidParameterError(
            f"The 'time_dim' parameter of {func} must be a dim of the gap {tuple(x.dims)}; "
            f"got {time_dim!r}."
        )
    if time_dim not in x.indexes:
        raise InvalidParameterError(
            f"{func} needs time labels on {time_dim!r} (e.g. integer years)."
        )
    values = np.asarray(x[time_dim].values)
    if np.issubdtype(values.dtype, np.datetime64):
        seconds = values.astype("datetime64[s]").astype(np.float64)
        t = 1970.0 + seconds / (365.2425 * 86400.0)
    elif np.issubdtype(values.dtype, np.number) and not np.issubdtype(values.dtype, np.bool_):
        t = values.astype(np.float64)
    else:
        raise InvalidParameterError(
            f"{func} needs numeric (e.g. integer years) or datetime labels on {time_dim!r}; "
            f"got dtype {values.dtype}."
        )
    return xr.DataArray(t, dims=(time_dim,), coords={time_dim: x[time_dim]})


def _rate(gap: xr.DataArray, time_dim: str, method: str, skipna: bool, func: str) -> xr.DataArray:
    t = _time_values(gap, time_dim, func)
    kernel = _k.ols_slope if method == "ols" else _k.endpoint_rate
    return apply_kernel(
        kernel,
        gap,
        core=(time_dim,),
        out_core=(),
        arrays={"t": t},
        array_core={"t": (time_dim,)},
        params={"skipna": skipna, "axis": -1},
    )


def _sorted_time(gap: xr.DataArray, time_dim: str) -> xr.DataArray:
    index = gap.indexes.get(time_dim)
    if index is not None and not index.is_monotonic_increasing:
        return gap.sortby(time_dim)
    return gap


def catch_up_rate(
    gap: xr.DataArray,
    time_dim: str = "time",
    *,
    method: str = "ols",
    skipna: bool = True,
) -> xr.DataArray:
    r"""Change of a gap per unit of time (per year when ``time`` holds years).

    ``method="ols"`` (default): the least-squares slope of the gap on time,
    :math:`\hat b = \sum_t (t - \bar t)(g_t - \bar g) / \sum_t (t - \bar t)^2`, over the
    years observed — robust to a noisy first or last year. ``method="endpoints"``:
    :math:`(g_{T} - g_{0}) / (T - 0)` between the first and last observed years. A
    negative rate shrinks a positive gap (the unit is catching up).

    Parameters
    ----------
    gap : xarray.DataArray
        A gap (e.g. from :func:`gap_to_frontier`) with a ``time_dim``.
    time_dim : str, default "time"
        The time dim; its labels must be numbers (years) or datetimes (converted to
        fractional years).
    method : {"ols", "endpoints"}, default "ols"
        See above.
    skipna : bool, default True
        ``False``: a series with any missing year gives NaN. Otherwise missing years are
        left out; fewer than two observed years give NaN.

    Returns
    -------
    xarray.DataArray
        Dims of ``gap`` minus ``time_dim``.

    Examples
    --------
    >>> import xarray as xr
    >>> g = xr.DataArray([10.0, 8.0, 7.0, 4.0], dims="time",
    ...                  coords={"time": [2018, 2019, 2020, 2021]})
    >>> round(float(catch_up_rate(g)), 6), float(catch_up_rate(g, method="endpoints"))
    (-1.9, -2.0)
    """
    func = "catch_up_rate"
    gap = _check_x(gap, None, func, name="gap")
    check_choice(method, ("ols", "endpoints"), param="method", func=func)
    skipna = _check_bool(skipna, "skipna", func)
    gap = _sorted_time(gap, time_dim)
    out = _rate(gap, time_dim, method, skipna, func)
    out.name = "catch_up_rate"
    call = describe_call(func, {"time_dim": time_dim, "method": method, "skipna": skipna})
    return with_history(out, gap, call)


def years_to_close(
    gap: xr.DataArray,
    time_dim: str = "time",
    *,
    method: str = "ols",
    rate: Any = None,
    skipna: bool = True,
) -> xr.DataArray:
    r"""Years until a gap closes if it keeps changing at its observed rate.

    .. math::

        \text{years} = -\,g_{\text{latest}} / r \quad \text{when } g_{\text{latest}}\,r < 0,

    with :math:`g_{\text{latest}}` the last observed gap and :math:`r` its
    :func:`catch_up_rate`. Counted from the last observed year (add it to get the
    projected year). A gap of exactly 0 gives 0; a diverging (:math:`g r > 0`) or flat
    (:math:`r = 0`) gap gives NaN — it never closes at that rate. A linear projection:
    a simple benchmark, not a forecast.

    Parameters
    ----------
    gap : xarray.DataArray
        A gap with a ``time_dim``.
    time_dim : str, default "time"
        The time dim (numeric or datetime labels).
    method : {"ols", "endpoints"}, default "ols"
        How the rate is estimated (see :func:`catch_up_rate`).
    rate : float or xarray.DataArray, optional
        A given rate instead of the estimated one (same units: gap per year).
    skipna : bool, default True
        As in :func:`catch_up_rate`.

    Returns
    -------
    xarray.DataArray
        Dims of ``gap`` minus ``time_dim``.

    Examples
    --------
    >>> import xarray as xr
    >>> g = xr.DataArray([[10.0, 8.0, 6.0], [5.0, 6.0, 7.0]], dims=("unit", "time"),
    ...                  coords={"unit": ["IND", "ZAF"], "time": [2019, 2020, 2021]})
    >>> years_to_close(g).round(6).values.tolist()
    [3.0, nan]
    """
    func = "years_to_close"
    gap = _check_x(gap, None, func, name="gap")
    check_choice(method, ("ols", "endpoints"), param="method", func=func)
    skipna = _check_bool(skipna, "skipna", func)
    gap = _sorted_time(gap, time_dim)
    _time_values(gap, time_dim, func)
    if rate is None:
        r = _rate(gap, time_dim, method, skipna, func)
    elif isinstance(rate, xr.DataArray):
        r = _match_labels(rate.astype(np.float64), gap, "rate", func)
    else:
        r = xr.DataArray(float(check_number(rate, param="rate", func=func)))
    latest = apply_kernel(_k.last_valid, gap, core=(time_dim,), out_core=(), params={"axis": -1})
    if not skipna:
        latest = latest.where(gap.notnull().all(time_dim))
    out = xr.apply_ufunc(
        _k.years_to_close, latest, r, dask="parallelized", output_dtypes=[np.float64]
    )
    out.name = "years_to_close"
    call = describe_call(
        func, {"time_dim": time_dim, "method": method, "rate": rate, "skipna": skipna}
    )
    return with_history(out, gap, call)
