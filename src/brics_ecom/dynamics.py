"""Dynamics: growth, trends, HP filter, convergence, rank mobility and DEI states.

Every function works on a labelled :class:`xarray.DataArray` (a panel with dims
``unit``, ``time``, ``indicator``, or any array with a time dim), broadcasts over every
other dim (indicators, Monte Carlo draws, scenarios) and stays lazy on dask-backed input.
Results carrying several statistics are :class:`xarray.Dataset` objects whose variables
share dims, so ``result.to_dataframe()`` gives a tidy table.

Conventions (see ``docs/dynamics.md`` for the formulas):

* time labels must be unique and sorted increasingly; measures that divide by a time
  span (CAGR, trend slopes, annualised growth, convergence) need numeric labels (years);
* growth rates and trend slopes of logs are in *per time unit* (per year for years);
* log-based measures refuse non-positive values with a :class:`~brics_ecom.errors.DataError`
  naming the culprits (on dask input the check is skipped and such values give NaN);
* missing values are skipped by default (``skipna=True``); a series with too few
  observations gives NaN, silently.

Examples
--------
>>> import brics_ecom as be
>>> from brics_ecom import dynamics as dyn
>>> panel, _ = be.datasets.load_asem(panel=True)
>>> round(float(dyn.cagr(panel).sel(unit="AUT", indicator="LPI")), 6)
0.00015
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable, Mapping, Sequence
from itertools import pairwise
from typing import Any

import numpy as np
import xarray as xr

from ._apply import ordered, single_chunk
from ._history import describe_call
from ._kernels import dynamics as _dk
from ._validation import check_choice, check_number, is_lazy
from .errors import DataError, InvalidParameterError

__all__ = [
    "acceleration",
    "beta_convergence",
    "cagr",
    "growth",
    "hp_trend",
    "momentum",
    "rank_mobility",
    "sigma_convergence",
    "state_momentum",
    "transition_matrix",
    "trend_growth",
]

_TREND_VARS = ("slope", "se", "tvalue", "pvalue", "nobs")
_STATE_LABELS = np.array([*_dk.STATE_LABELS, np.nan], dtype=object)


# ============================================================================ helpers


def _as_data(x: Any, func: str, name: str = "x", *, check_inf: bool = True) -> xr.DataArray:
    """``x`` as a float64 DataArray (a new object only if the dtype changes), checked for
    infinite values unless ``check_inf`` is False (the caller checks what it uses)."""
    if not isinstance(x, xr.DataArray):
        raise InvalidParameterError(
            f"{func} expects an xarray.DataArray for {name!r}; got {type(x).__name__}. Build a "
            "panel with brics_ecom.panel.from_long / from_wide / from_coinr."
        )
    for d in x.dims:
        if x.sizes[d] == 0:
            raise DataError(f"{func}: the {d!r} dim of {name!r} is empty.")
    kind = x.dtype.kind
    if kind == "O" and not is_lazy(x):
        with contextlib.suppress(TypeError, ValueError):  # not numbers: the error below
            return x.astype(np.float64)
    if kind not in "iuf":
        raise DataError(
            f"{func}: the values of {name!r} must be numbers; got dtype {x.dtype}. Convert "
            "them (e.g. with pandas.to_numeric) before calling."
        )
    out = x if x.dtype == np.float64 else x.astype(np.float64)
    if check_inf:
        _check_finite(out, func, name)
    return out


def _check_finite(x: xr.DataArray, func: str, name: str = "x") -> None:
    if is_lazy(x):
        return
    bad = np.isinf(x.values)
    if bad.any():
        raise DataError(
            f"{func}: {name!r} holds {int(bad.sum())} infinite values, e.g. at "
            f"{_where(x, bad)}. Replace them with NaN (missing) or finite numbers."
        )


def _where(x: xr.DataArray, mask: np.ndarray, limit: int = 3) -> str:
    """Labels of the first ``limit`` True positions of ``mask`` (shaped like ``x``)."""
    spots = []
    for pos in np.argwhere(mask)[:limit]:
        parts = []
        for d, i in zip(x.dims, pos, strict=True):
            label = x[d].values[i] if d in x.coords else i
            label = label.item() if isinstance(label, np.generic) else label
            parts.append(f"{d}={label!r}")
        spots.append("(" + ", ".join(parts) + ")")
    return ", ".join(spots)


def _need_dim(x: xr.DataArray, dim: Hashable, func: str, param: str) -> None:
    if dim not in x.dims:
        raise InvalidParameterError(
            f"The {param!r} parameter of {func} must be a dim of the data {tuple(x.dims)}; "
            f"got {dim!r}."
        )


def _time_axis(
    x: xr.DataArray, time_dim: Hashable, func: str, *, numeric: bool, min_points: int = 2
) -> np.ndarray | None:
    """Check the time labels; return them as floats if ``numeric`` (else ``None``)."""
    _need_dim(x, time_dim, func, "time_dim")
    n = x.sizes[time_dim]
    labels = x.indexes.get(time_dim)
    shown = list(labels[:10]) if labels is not None else list(range(n))
    if n < min_points:
        raise DataError(
            f"{func} needs at least {min_points} points along {time_dim!r}; got {n} "
            f"(labels {shown}). Use a panel with more {time_dim} points."
        )
    if labels is None:
        return np.arange(n, dtype=np.float64) if numeric else None
    if labels.has_duplicates:
        dup = list(labels[labels.duplicated()].unique())
        raise DataError(f"The {time_dim!r} labels given to {func} are duplicated: {dup}.")
    try:
        increasing = bool(labels.is_monotonic_increasing)
    except TypeError:  # pragma: no cover - mixed, unorderable labels
        increasing = False
    if not increasing:
        raise DataError(
            f"The {time_dim!r} labels given to {func} must be sorted in increasing order; got "
            f"{shown}. Sort the data first: x.sortby({time_dim!r})."
        )
    if not numeric:
        return None
    values = np.asarray(labels.values)
    if values.dtype.kind not in "iuf":
        raise DataError(
            f"{func} measures time spans, so the {time_dim!r} labels must be numbers (years); "
            f"got dtype {values.dtype} ({shown[:3]}). Convert them, e.g. "
            f"x.assign_coords({time_dim}=x[{time_dim!r}].dt.year) for dates."
        )
    out = values.astype(np.float64)
    if not np.isfinite(out).all():
        raise DataError(f"The {time_dim!r} labels given to {func} must be finite; got {shown}.")
    return out


def _check_positive(x: xr.DataArray, func: str, what: str = "") -> None:
    """Refuse values <= 0 (NumPy-backed data only: lazy data give NaN instead)."""
    if is_lazy(x):
        return
    values = x.values
    with np.errstate(invalid="ignore"):
        bad = values <= 0
    if bad.any():
        raise DataError(
            f"{func} takes logarithms{what}, so values must be > 0; got {int(bad.sum())} values "
            f"<= 0, e.g. at {_where(x, bad)}. Drop these series, set the values to NaN, or "
            "transform the data (e.g. shift it) first."
        )


def _apply(
    func: Callable[..., Any],
    inputs: Sequence[xr.DataArray],
    in_core: Sequence[Sequence[Hashable]],
    out_core: Sequence[Sequence[Hashable]],
    *,
    kwargs: Mapping[str, Any] | None = None,
    output_sizes: Mapping[Hashable, int] | None = None,
    dtypes: Sequence[Any] | None = None,
) -> tuple[xr.DataArray, ...]:
    """Run a kernel over core dims, broadcasting the rest; always returns a tuple.

    Like ``xr.apply_ufunc(..., dask="parallelized")``, which is what runs on dask input
    (core dims are put in one chunk, the other dims keep theirs). Every input coordinate
    whose dims the output has is kept (apply_ufunc drops unit names and groups along
    core dims). NumPy-backed inputs with matching labels skip apply_ufunc's overhead; the
    kernel sees the same C-contiguous arrays either way, so both paths give the same
    numbers.
    """
    kw = dict(kwargs or {})
    if not any(is_lazy(a) for a in inputs):
        fast = _apply_eager(func, inputs, in_core, out_core, kw)
        if fast is not None:
            return fast
    prepared = [single_chunk(a, [str(d) for d in c]) for a, c in zip(inputs, in_core, strict=True)]

    def wrapper(*arrays: np.ndarray) -> Any:
        return func(*[np.ascontiguousarray(a) for a in arrays], **kw)

    gufunc_kwargs = {"output_sizes": dict(output_sizes)} if output_sizes else None
    result = xr.apply_ufunc(
        wrapper,
        *prepared,
        input_core_dims=[list(c) for c in in_core],
        output_core_dims=[list(c) for c in out_core],
        dask="parallelized",
        output_dtypes=list(dtypes or [np.float64] * len(out_core)),
        dask_gufunc_kwargs=gufunc_kwargs,
        keep_attrs=False,
    )
    outs = result if isinstance(result, tuple) else (result,)
    coords = _input_coords(inputs)
    fixed = []
    for out in outs:
        lost = {
            k: v
            for k, v in coords.items()
            if k not in out.coords and set(v.dims) <= set(out.dims) and k not in out.dims
        }
        fixed.append(out.assign_coords(lost) if lost else out)
    return tuple(fixed)


def _input_coords(inputs: Sequence[xr.DataArray]) -> dict[Hashable, xr.Variable]:
    """Coordinate variables of ``inputs`` by name (the first input holding one wins)."""
    coords: dict[Hashable, xr.Variable] = {}
    for a in inputs:
        for name, var in a.coords.variables.items():
            coords.setdefault(name, var)
    return coords


def _eager_call(
    func: Callable[..., Any],
    inputs: Sequence[xr.DataArray],
    in_core: Sequence[Sequence[Hashable]],
    kwargs: Mapping[str, Any],
) -> tuple[tuple[np.ndarray, ...], list[Hashable], Callable[[frozenset[Hashable]], Any]] | None:
    """The NumPy path: ``(results, broadcast dims, coords_for(dims))``, or ``None`` when
    labels differ between inputs (apply_ufunc then raises its usual alignment error)."""
    sizes: dict[Hashable, int] = {}
    lead: list[Hashable] = []  # broadcast dims, in apply_ufunc's order
    for a, core in zip(inputs, in_core, strict=True):
        for d in a.dims:
            if d in sizes:
                if sizes[d] != a.sizes[d]:
                    return None
                continue
            sizes[d] = a.sizes[d]
            if d not in core:
                lead.append(d)
    for d in sizes:
        idx = [a.indexes[d] for a in inputs if d in a.indexes]
        if any(i is not idx[0] and not i.equals(idx[0]) for i in idx[1:]):
            return None
    arrays = []
    for a, core in zip(inputs, in_core, strict=True):
        mine = [d for d in lead if d in a.dims]
        values = np.transpose(a.values, [a.get_axis_num(d) for d in (*mine, *core)])
        shape = [sizes[d] if d in a.dims else 1 for d in lead] + [sizes[c] for c in core]
        arrays.append(np.ascontiguousarray(values).reshape(shape))
    result = func(*arrays, **kwargs)
    results = tuple(np.asarray(r) for r in (result if isinstance(result, tuple) else (result,)))
    coords = _input_coords(inputs)
    indexes = {k: i for a in inputs for k, i in a.xindexes.items()}
    made: dict[frozenset[Hashable], xr.Coordinates] = {}

    def coords_for(dims: frozenset[Hashable]) -> xr.Coordinates:
        """Input coordinates whose dims are all in ``dims`` (built once per set)."""
        if dims not in made:
            keep = {k: v for k, v in coords.items() if set(v.dims) <= dims}
            made[dims] = xr.Coordinates(keep, indexes={k: indexes[k] for k in keep if k in indexes})
        return made[dims]

    return results, lead, coords_for


def _apply_eager(
    func: Callable[..., Any],
    inputs: Sequence[xr.DataArray],
    in_core: Sequence[Sequence[Hashable]],
    out_core: Sequence[Sequence[Hashable]],
    kwargs: Mapping[str, Any],
) -> tuple[xr.DataArray, ...] | None:
    """The NumPy path of :func:`_apply`."""
    called = _eager_call(func, inputs, in_core, kwargs)
    if called is None:
        return None
    results, lead, coords_for = called
    outs = []
    for data, core in zip(results, out_core, strict=True):
        dims = (*lead, *core)
        outs.append(xr.DataArray(data, dims=dims, coords=coords_for(frozenset(dims))))
    return tuple(outs)


def _apply_dataset(
    func: Callable[..., Any],
    inputs: Sequence[xr.DataArray],
    in_core: Sequence[Sequence[Hashable]],
    out_core: Sequence[Sequence[Hashable]],
    names: Sequence[str],
    call: list[str],
    *,
    kwargs: Mapping[str, Any] | None = None,
    output_sizes: Mapping[Hashable, int] | None = None,
    coords: Mapping[Hashable, Any] | None = None,
    attrs: Mapping[str, Any] | None = None,
) -> xr.Dataset:
    """:func:`_apply` straight into a Dataset of the outputs named ``names``."""
    kw = dict(kwargs or {})
    called = None
    if not any(is_lazy(a) for a in inputs):
        called = _eager_call(func, inputs, in_core, kw)
    if called is None:
        outs = _apply(func, inputs, in_core, out_core, kwargs=kw, output_sizes=output_sizes)
        return _dataset(dict(zip(names, outs, strict=True)), call, coords=coords, **(attrs or {}))
    results, lead, coords_for = called
    all_dims = frozenset((*lead, *(d for c in out_core for d in c)))
    data_vars = {
        n: ((*lead, *core), data) for n, data, core in zip(names, results, out_core, strict=True)
    }
    ds = xr.Dataset(data_vars, coords=coords_for(all_dims))
    if coords:
        ds = ds.assign_coords(coords)
    ds.attrs = {**(attrs or {}), "history": call}
    return ds


def _history(source: xr.DataArray, func: str, params: Mapping[str, Any]) -> list[str]:
    return [*source.attrs.get("history", []), describe_call(func, params)]


def _finish(out: xr.DataArray, name: str, call: list[str]) -> xr.DataArray:
    out.name = name
    out.attrs = {"history": call}
    return out


def _dataset(
    variables: Mapping[str, xr.DataArray],
    call: list[str],
    *,
    coords: Mapping[Hashable, Any] | None = None,
    **attrs: Any,
) -> xr.Dataset:
    """A Dataset of DataArrays that share their coordinates (so nothing to align)."""
    merged: dict[Hashable, Any] = dict(_input_coords(list(variables.values())))
    merged.update(coords or {})
    ds = xr.Dataset({n: v.variable for n, v in variables.items()}, coords=merged)
    ds.attrs = {**attrs, "history": call}
    return ds


def _check_int(value: Any, *, param: str, func: str, low: int, high: int | None = None) -> int:
    check_number(value, param=param, func=func, low=low, high=high, integer=True)
    return int(value)


# ============================================================================ growth
def growth(
    x: xr.DataArray,
    *,
    kind: str = "simple",
    periods: int = 1,
    annualise: bool = False,
    time_dim: str = "time",
    skipna: bool = False,
) -> xr.DataArray:
    r"""Period-on-period growth of every series.

    Parameters
    ----------
    x : xarray.DataArray
        Data with a ``time_dim`` dim (labels sorted increasingly); every other dim is
        broadcast over.
    kind : {"simple", "log"}
        ``simple``: :math:`x_s / x_r - 1` (a zero base gives ±inf, 0 → 0 gives NaN);
        ``log``: :math:`\ln x_s - \ln x_r` (values must be > 0), where :math:`r` is the
        point ``periods`` steps before :math:`s`.
    periods : int, default 1
        Number of steps back.
    annualise : bool, default False
        Express the rate per unit of time (per year), using the numeric time labels:
        :math:`(x_s/x_r)^{1/(t_s - t_r)} - 1`, or :math:`(\ln x_s - \ln x_r)/(t_s - t_r)`.
        This is how uneven time labels (e.g. 2000, 2005, 2006) are respected; without it
        the rate is per *step*, whatever the spacing.
    time_dim : str, default "time"
        The time dim.
    skipna : bool, default False
        If True, steps count *observed* values only, so a gap is bridged (the growth at
        :math:`s` is measured from the previous observed value; combine with
        ``annualise=True`` to account for the longer span). If False, a missing end point
        gives NaN.

    Returns
    -------
    xarray.DataArray
        Same dims and coords as ``x``, named ``"growth"``; the first ``periods`` points
        are NaN.

    Raises
    ------
    InvalidParameterError
        Unknown ``kind``, ``periods`` < 1 or not smaller than the number of time points.
    DataError
        Unsorted or duplicated time labels, fewer than 2 time points, non-numeric labels
        with ``annualise=True``, values <= 0 with ``kind="log"`` (naming them).

    Examples
    --------
    >>> import xarray as xr
    >>> from brics_ecom import dynamics as dyn
    >>> x = xr.DataArray([100.0, 110.0, 121.0], dims="time", coords={"time": [2020, 2021, 2022]})
    >>> dyn.growth(x).round(12).values.tolist()
    [nan, 0.1, 0.1]
    """
    func = "growth"
    x = _as_data(x, func)
    check_choice(kind, ("simple", "log"), param="kind", func=func)
    t = _time_axis(x, time_dim, func, numeric=annualise)
    n = x.sizes[time_dim]
    periods = _check_int(periods, param="periods", func=func, low=1)
    if periods >= n:
        raise InvalidParameterError(
            f"The 'periods' parameter of growth must be smaller than the number of "
            f"{time_dim!r} points ({n}); got {periods}."
        )
    if kind == "log":
        _check_positive(x, func, " (kind='log')")
    (out,) = _apply(
        _dk.growth, [x], [[time_dim]], [[time_dim]],
        kwargs={"t": t, "kind": kind, "periods": periods, "annualise": annualise,
                "skipna": skipna},
    )  # fmt: skip
    out = ordered(out, *x.dims)
    call = _history(
        x, func,
        {"kind": kind, "periods": periods, "annualise": annualise, "skipna": skipna},
    )  # fmt: skip
    return _finish(out, "growth", call)


def cagr(x: xr.DataArray, *, time_dim: str = "time", skipna: bool = True) -> xr.DataArray:
    r"""Compound annual growth rate between the first and the latest observed values.

    COINr's ``CAGR()`` (1.1.14, ``R/trends.R``), applied to every series at once:

    .. math::

        \mathrm{CAGR} = \left(\frac{x_{\text{last}}}{x_{\text{first}}}\right)
                        ^{1/(t_{\text{last}} - t_{\text{first}})} - 1,

    where *first* and *last* are the earliest and latest **observed** (non-missing)
    points of the series and the exponent uses the **time difference** of their labels
    (not the number of observations). As in COINr: fewer than two observations give NaN;
    equal first and last values give 0 (also for 0 → 0); a zero first value gives ±inf;
    a negative ratio gives NaN. Values are not required to be positive.

    Parameters
    ----------
    x : xarray.DataArray
        Data with a numeric, increasing ``time_dim``.
    time_dim : str, default "time"
        The time dim.
    skipna : bool, default True
        True: COINr's rule (missing values are dropped). False: a series with any missing
        value gives NaN.

    Returns
    -------
    xarray.DataArray
        ``x`` without ``time_dim``, named ``"cagr"``.

    Raises
    ------
    DataError
        Unsorted, duplicated or non-numeric time labels; fewer than 2 time points.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> from brics_ecom import dynamics as dyn
    >>> x = xr.DataArray([[100.0, np.nan, 121.0], [2.0, 2.0, np.nan]], dims=("unit", "time"),
    ...                  coords={"unit": ["A", "B"], "time": [2020, 2021, 2022]})
    >>> dyn.cagr(x).round(12).values.tolist()
    [0.1, 0.0]
    """
    func = "cagr"
    x = _as_data(x, func)
    t = _time_axis(x, time_dim, func, numeric=True)
    (out,) = _apply(_dk.cagr, [x], [[time_dim]], [[]], kwargs={"t": t, "skipna": skipna})
    return _finish(out, "cagr", _history(x, func, {"skipna": skipna}))


def _log_trend(
    x: np.ndarray, *, t: np.ndarray, skipna: bool, window: np.ndarray | None = None
) -> tuple[np.ndarray, ...]:
    slope, se, tvalue, pvalue, nobs, _ = _dk.ols_trend(
        _dk.log_positive(x), t, window=window, skipna=skipna
    )
    return slope, se, tvalue, pvalue, nobs, np.expm1(slope)


def trend_growth(x: xr.DataArray, *, time_dim: str = "time", skipna: bool = True) -> xr.Dataset:
    r"""Trend growth: the OLS slope of :math:`\ln x` on time, with its standard error.

    For each series, :math:`\ln x_t = a + b\,t + e_t` is fitted by ordinary least squares
    over the observed points (closed form, all series at once; equal to statsmodels'
    ``OLS`` per series). :math:`b` is the continuous growth rate per time unit and
    :math:`e^b - 1` the matching compound rate.

    Parameters
    ----------
    x : xarray.DataArray
        Positive data with a numeric, increasing ``time_dim``.
    time_dim : str, default "time"
        The time dim.
    skipna : bool, default True
        Drop missing points (True) or give NaN for a series with any (False).

    Returns
    -------
    xarray.Dataset
        Over the dims of ``x`` except ``time_dim``: ``slope`` (:math:`b`), ``se``
        (classical :math:`\sqrt{s^2/S_{tt}}`, :math:`s^2 = \mathrm{RSS}/(n-2)`),
        ``tvalue``, ``pvalue`` (two-sided, Student t with :math:`n-2` df), ``nobs`` and
        ``rate`` (:math:`e^b - 1`). The slope needs 2 observations, the rest 3.

    Raises
    ------
    DataError
        Values <= 0 (naming them), unsorted/duplicated/non-numeric time labels, fewer
        than 2 time points.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> from brics_ecom import dynamics as dyn
    >>> x = xr.DataArray(100 * np.exp(0.05 * np.arange(6.0)), dims="time",
    ...                  coords={"time": np.arange(2015, 2021)})
    >>> res = dyn.trend_growth(x)
    >>> round(float(res.slope), 12), round(float(res.rate), 12)
    (0.05, 0.051271096376)
    """
    func = "trend_growth"
    x = _as_data(x, func)
    t = _time_axis(x, time_dim, func, numeric=True)
    _check_positive(x, func)
    call = _history(x, func, {"skipna": skipna})
    return _apply_dataset(
        _log_trend, [x], [[time_dim]], [[]] * 6, (*_TREND_VARS, "rate"), call,
        kwargs={"t": t, "skipna": skipna},
    )  # fmt: skip


def _split_windows(n: int, recent: int) -> tuple[np.ndarray, np.ndarray]:
    pos = np.arange(n)
    pivot = n - recent
    return pos <= pivot, pos >= pivot


def _acceleration_split(x: np.ndarray, *, t: np.ndarray, recent: int, skipna: bool) -> np.ndarray:
    early, late = _split_windows(x.shape[-1], recent)
    logs = _dk.log_positive(x)
    b_early = _dk.ols_trend(logs, t, window=early, skipna=skipna)[0]
    b_late = _dk.ols_trend(logs, t, window=late, skipna=skipna)[0]
    return np.asarray(b_late - b_early)


def _acceleration_diff(x: np.ndarray, *, t: np.ndarray, skipna: bool) -> np.ndarray:
    g = _dk.growth(x, t, kind="log", annualise=True, skipna=skipna)
    return _dk.growth(g, t, kind="diff", skipna=skipna)


def acceleration(
    x: xr.DataArray,
    *,
    kind: str = "split",
    recent: int | None = None,
    time_dim: str = "time",
    skipna: bool = True,
) -> xr.DataArray:
    r"""Change in growth: is a series speeding up or slowing down?

    Two definitions (growth rates are log growth per time unit):

    ``kind="split"`` (default)
        Trend growth over the recent window minus trend growth over the earlier window:
        :math:`b_{\text{recent}} - b_{\text{earlier}}`, each the OLS slope of
        :math:`\ln x` on time (as in :func:`trend_growth`). The windows share the
        *pivot* point, the first point of the recent window: with times
        :math:`t_0 < \dots < t_{n-1}` and ``recent`` = :math:`m`, the recent window is
        :math:`t_{n-m} \dots t_{n-1}` and the earlier window :math:`t_0 \dots t_{n-m}`,
        so the two growth periods do not overlap. Each window needs 2 observed points.
        Returns one value per series (no ``time_dim``).
    ``kind="second_difference"``
        :math:`a_s = g_s - g_r` with :math:`g_s = (\ln x_s - \ln x_r)/(t_s - t_r)` the
        annualised log growth from the previous point :math:`r`; for annual data
        without gaps this is the second difference of :math:`\ln x`. Keeps
        ``time_dim`` (the first two points are NaN). With ``skipna`` gaps are bridged
        as in :func:`growth`.

    Parameters
    ----------
    x : xarray.DataArray
        Positive data with a numeric, increasing ``time_dim``.
    kind : {"split", "second_difference"}
        See above.
    recent : int, optional
        ``split`` only: points in the recent window, pivot included; from 2 to
        :math:`n - 1`. Default :math:`n - \lfloor (n-1)/2 \rfloor` (the pivot is the
        middle point: 3 of 5 years).
    time_dim : str, default "time"
        The time dim.
    skipna : bool, default True
        Drop missing points (True) or give NaN for a series with any in a window (False).

    Returns
    -------
    xarray.DataArray
        Named ``"acceleration"``.

    Raises
    ------
    InvalidParameterError
        Unknown ``kind``; ``recent`` out of range.
    DataError
        Values <= 0 (naming them); unsorted/duplicated/non-numeric time labels; fewer
        than 3 time points.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> from brics_ecom import dynamics as dyn
    >>> g = np.array([0.0, 0.02, 0.04, 0.06, 0.08])  # growth speeds up by 2 points a year
    >>> x = xr.DataArray(np.exp(np.cumsum(g)), dims="time", coords={"time": np.arange(2018, 2023)})
    >>> dyn.acceleration(x, kind="second_difference").round(12).values.tolist()
    [nan, nan, 0.02, 0.02, 0.02]
    """
    func = "acceleration"
    x = _as_data(x, func)
    check_choice(kind, ("split", "second_difference"), param="kind", func=func)
    t = _time_axis(x, time_dim, func, numeric=True, min_points=3)
    _check_positive(x, func)
    n = x.sizes[time_dim]
    if kind == "split":
        if recent is None:
            recent = n - (n - 1) // 2
        recent = _check_int(recent, param="recent", func=func, low=2, high=n - 1)
        (out,) = _apply(
            _acceleration_split, [x], [[time_dim]], [[]],
            kwargs={"t": t, "recent": recent, "skipna": skipna},
        )  # fmt: skip
    else:
        if recent is not None:
            raise InvalidParameterError(
                "The 'recent' parameter of acceleration applies to kind='split' only."
            )
        (out,) = _apply(
            _acceleration_diff, [x], [[time_dim]], [[time_dim]],
            kwargs={"t": t, "skipna": skipna},
        )  # fmt: skip
        out = ordered(out, *x.dims)
    call = _history(x, func, {"kind": kind, "recent": recent, "skipna": skipna})
    return _finish(out, "acceleration", call)


def _momentum(
    x: np.ndarray, *, t: np.ndarray, recent: int, relative: str, skipna: bool
) -> np.ndarray:
    n = x.shape[-1]
    logs = _dk.log_positive(x)
    b_recent = _dk.ols_trend(logs, t, window=np.arange(n) >= n - recent, skipna=skipna)[0]
    b_long = _dk.ols_trend(logs, t, skipna=skipna)[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(b_recent - b_long if relative == "difference" else b_recent / b_long)


def momentum(
    x: xr.DataArray,
    *,
    recent: int = 3,
    relative: str = "difference",
    time_dim: str = "time",
    skipna: bool = True,
) -> xr.DataArray:
    r"""Momentum: recent trend growth relative to long-run trend growth.

    With :math:`b_{\text{recent}}` the OLS slope of :math:`\ln x` on time over the last
    ``recent`` time points and :math:`b_{\text{long}}` the slope over all points (as in
    :func:`trend_growth`; log growth per time unit):

    * ``relative="difference"`` (default): :math:`b_{\text{recent}} - b_{\text{long}}`
      (positive = growing faster lately than over the whole period);
    * ``relative="ratio"``: :math:`b_{\text{recent}} / b_{\text{long}}` (unstable when
      the long-run growth is near 0).

    The recent window is a window of the *panel's* time points (the same for every
    series); it needs 2 observed points, the whole period too.

    Parameters
    ----------
    x : xarray.DataArray
        Positive data with a numeric, increasing ``time_dim``.
    recent : int, default 3
        Time points in the recent window, from 2 to :math:`n - 1`.
    relative : {"difference", "ratio"}
        See above.
    time_dim : str, default "time"
        The time dim.
    skipna : bool, default True
        Drop missing points (True) or give NaN for a series with any in a window (False).

    Returns
    -------
    xarray.DataArray
        ``x`` without ``time_dim``, named ``"momentum"``.

    Raises
    ------
    InvalidParameterError
        Unknown ``relative``; ``recent`` out of range.
    DataError
        Values <= 0 (naming them); unsorted/duplicated/non-numeric time labels; fewer
        than 3 time points.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> from brics_ecom import dynamics as dyn
    >>> x = xr.DataArray(np.exp([0.0, 0.01, 0.02, 0.05, 0.08]), dims="time",
    ...                  coords={"time": np.arange(2018, 2023)})
    >>> round(float(dyn.momentum(x)), 12)
    0.01
    """
    func = "momentum"
    x = _as_data(x, func)
    check_choice(relative, ("difference", "ratio"), param="relative", func=func)
    t = _time_axis(x, time_dim, func, numeric=True, min_points=3)
    n = x.sizes[time_dim]
    recent = _check_int(recent, param="recent", func=func, low=2, high=n - 1)
    _check_positive(x, func)
    (out,) = _apply(
        _momentum, [x], [[time_dim]], [[]],
        kwargs={"t": t, "recent": recent, "relative": relative, "skipna": skipna},
    )  # fmt: skip
    call = _history(x, func, {"recent": recent, "relative": relative, "skipna": skipna})
    return _finish(out, "momentum", call)


def hp_trend(
    x: xr.DataArray, lamb: float = 100.0, *, time_dim: str = "time", skipna: bool = True
) -> xr.DataArray:
    r"""Hodrick–Prescott trend of every series.

    The trend :math:`\tau` minimises
    :math:`\sum_t (x_t - \tau_t)^2 + \lambda \sum_t (\Delta^2 \tau_t)^2`; a complete
    series gives exactly ``statsmodels.tsa.filters.hp_filter.hpfilter(x, lamb)[1]``
    (the same linear system :math:`(I + \lambda K'K)\tau = x`, solved for all series at
    once by a banded Cholesky factorisation). Observations are taken as equally spaced:
    the time labels give the order only. The cycle is ``x - hp_trend(x)``.

    Missing values: with ``skipna=True`` (default) the first sum runs over the observed
    points only, :math:`(W + \lambda K'K)\tau = Wx` with :math:`W` the 0/1 diagonal of
    observed points; interior gaps are filled by the trend and points before the first
    or after the last observation are NaN (no extrapolation). With ``skipna=False`` a
    series with any missing value is NaN. A series with fewer than 2 observations is
    NaN; with 2 time points the trend is the series.

    Parameters
    ----------
    x : xarray.DataArray
        Data with an increasing ``time_dim``.
    lamb : float, default 100
        Smoothing parameter :math:`\lambda > 0`: 100 for annual data (Backus–Kehoe),
        1600 quarterly, 129600 monthly.
    time_dim : str, default "time"
        The time dim.
    skipna : bool, default True
        See above.

    Returns
    -------
    xarray.DataArray
        Same dims and coords as ``x``, named ``"hp_trend"``.

    Raises
    ------
    InvalidParameterError
        ``lamb`` not a positive finite number.
    DataError
        Unsorted or duplicated time labels, fewer than 2 time points.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> from brics_ecom import dynamics as dyn
    >>> x = xr.DataArray([1.0, 3.0, 2.0, 4.0, 3.0], dims="time", coords={"time": np.arange(5)})
    >>> dyn.hp_trend(x, 1.0).round(4).values.tolist()
    [1.375, 2.25, 2.75, 3.25, 3.375]
    """
    func = "hp_trend"
    x = _as_data(x, func)
    lamb = check_number(lamb, param="lamb", func=func, low=0, low_inclusive=False)
    _time_axis(x, time_dim, func, numeric=False)
    (out,) = _apply(
        _dk.hp_trend, [x], [[time_dim]], [[time_dim]],
        kwargs={"lamb": float(lamb), "skipna": skipna},
    )  # fmt: skip
    out = ordered(out, *x.dims)
    return _finish(out, "hp_trend", _history(x, func, {"lamb": lamb, "skipna": skipna}))


# ============================================================================ convergence
def _trend_of(values: np.ndarray, *, t: np.ndarray, skipna: bool) -> tuple[np.ndarray, ...]:
    return _dk.ols_trend(values, t, skipna=skipna)[:5]


def sigma_convergence(
    x: xr.DataArray,
    *,
    measure: str = "sd_log",
    dim: str = "unit",
    time_dim: str = "time",
    skipna: bool = True,
) -> xr.Dataset:
    r"""σ-convergence: the dispersion across units over time, and its linear trend.

    For each time point the dispersion over ``dim`` is computed — ``sd_log`` the sample
    standard deviation of :math:`\ln x` (Barro & Sala-i-Martin's σ), ``cv`` the
    coefficient of variation :math:`s/\bar x`, or ``sd`` the standard deviation — all
    with :math:`n-1`. Then :math:`D_t = a + b\,t + e_t` is fitted by OLS over time
    (equal to statsmodels' ``OLS``); :math:`b < 0` with a small p-value indicates
    σ-convergence.

    Parameters
    ----------
    x : xarray.DataArray
        Data with ``dim`` and a numeric, increasing ``time_dim``; other dims are
        broadcast over (one result per indicator, draw, …).
    measure : {"sd_log", "cv", "sd"}
        The dispersion measure; ``sd_log`` needs values > 0.
    dim : str, default "unit"
        The dim dispersion is taken over.
    time_dim : str, default "time"
        The time dim.
    skipna : bool, default True
        Skip missing units in each year and years without a dispersion (True), or give
        NaN (False).

    Returns
    -------
    xarray.Dataset
        ``dispersion`` (dims of ``x`` without ``dim``) and the trend statistics ``slope``,
        ``se``, ``tvalue``, ``pvalue`` (two-sided, Student t, :math:`n-2` df) and
        ``nobs`` (years used), without ``dim`` and ``time_dim``.

    Raises
    ------
    InvalidParameterError
        Unknown ``measure``, ``dim`` not in the data or equal to ``time_dim``.
    DataError
        Values <= 0 with ``sd_log`` (naming them); bad time labels.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> from brics_ecom import dynamics as dyn
    >>> gaps = np.array([1.0, 0.8, 0.6, 0.4])  # log gaps shrink by 0.2 a year
    >>> x = xr.DataArray(np.exp(np.outer([-1.0, 1.0], gaps)), dims=("unit", "time"),
    ...                  coords={"unit": ["A", "B"], "time": [2019, 2020, 2021, 2022]})
    >>> res = dyn.sigma_convergence(x)
    >>> round(float(res.slope), 10)
    -0.2828427125
    """
    func = "sigma_convergence"
    x = _as_data(x, func)
    check_choice(measure, _dk.DISPERSION_MEASURES, param="measure", func=func)
    _need_dim(x, dim, func, "dim")
    if dim == time_dim:
        raise InvalidParameterError(
            f"The 'dim' and 'time_dim' parameters of {func} must differ; both are {dim!r}."
        )
    t = _time_axis(x, time_dim, func, numeric=True)
    if measure == "sd_log":
        _check_positive(x, func, " (measure='sd_log')")
    (disp,) = _apply(
        _dk.dispersion, [x], [[dim]], [[]], kwargs={"measure": measure, "skipna": skipna}
    )
    trend = _apply(_trend_of, [disp], [[time_dim]], [[]] * 5, kwargs={"t": t, "skipna": skipna})
    disp = ordered(disp, *[d for d in x.dims if d != dim])
    call = _history(x, func, {"measure": measure, "dim": dim, "skipna": skipna})
    return _dataset(
        {"dispersion": disp, **dict(zip(_TREND_VARS, trend, strict=True))},
        call, measure=measure,
    )  # fmt: skip


def _controls(
    controls: Any, x: xr.DataArray, dim: str, time_dim: str, func: str
) -> tuple[xr.DataArray | None, list[str]]:
    """Stack the controls into a DataArray with dims (..., dim, "_control")."""
    if controls is None:
        return None, []
    if isinstance(controls, xr.DataArray):
        items = [(controls.name if controls.name is not None else "control", controls)]
    elif isinstance(controls, Mapping):
        items = list(controls.items())
    elif isinstance(controls, Sequence) and not isinstance(controls, str):
        items = []
        for c in controls:
            if not isinstance(c, xr.DataArray) or c.name is None:
                raise InvalidParameterError(
                    f"The 'controls' of {func} given as a list must be named DataArrays; pass "
                    "a {name: DataArray} mapping instead."
                )
            items.append((c.name, c))
    else:
        raise InvalidParameterError(
            f"The 'controls' parameter of {func} must be a DataArray, a {{name: DataArray}} "
            f"mapping or a list of named DataArrays; got {type(controls).__name__}."
        )
    if not items:
        return None, []
    names = [str(n) for n, _ in items]
    clash = sorted({n for n in names if names.count(n) > 1} | {"const", "log_initial"} & set(names))
    if clash:
        raise InvalidParameterError(
            f"The controls of {func} need unique names other than 'const' and 'log_initial'; "
            f"got {clash}."
        )
    lead = set(x.dims) - {dim, time_dim}
    prepared = []
    for name, c in items:
        c = _as_data(c, func, f"control {name}")
        if dim not in c.dims:
            raise DataError(
                f"The control {name!r} of {func} must have the {dim!r} dim; it has dims "
                f"{tuple(c.dims)}."
            )
        if time_dim in c.dims:
            raise DataError(
                f"The control {name!r} of {func} has a {time_dim!r} dim; select one time point "
                f"first, e.g. control.sel({time_dim}=start)."
            )
        extra = sorted(set(c.dims) - lead - {dim}, key=str)
        if extra:
            raise DataError(
                f"The control {name!r} of {func} has dims {extra} that the data does not have."
            )
        if dim in c.indexes and dim in x.indexes:
            common = c.indexes[dim].intersection(x.indexes[dim])
            if len(common) == 0:
                raise DataError(
                    f"The control {name!r} of {func} shares no {dim} label with the data."
                )
            c = c.reindex({dim: x.indexes[dim]})
        elif c.sizes[dim] != x.sizes[dim]:
            raise DataError(
                f"The control {name!r} of {func} has {c.sizes[dim]} {dim}s, the data "
                f"{x.sizes[dim]}."
            )
        prepared.append(c.reset_coords(drop=True).drop_vars(dim, errors="ignore"))
    stacked = xr.concat(xr.broadcast(*prepared), dim="_control", coords="minimal")
    stacked = stacked.transpose(..., dim, "_control")
    return stacked, names


def _beta_kernel(
    x0: np.ndarray,
    x1: np.ndarray,
    *controls: np.ndarray,
    horizon: float,
    cov_type: str,
    use_t: bool | None,
    skipna: bool,
) -> tuple[np.ndarray, ...]:
    fit = _dk.beta_convergence(
        x0, x1, horizon, controls[0] if controls else None,
        cov_type=cov_type, use_t=use_t, skipna=skipna,
    )  # fmt: skip
    keys = ("coefficient", "se", "tvalue", "pvalue", "nobs", "r2", "speed", "half_life")
    return tuple(np.asarray(fit[k]) for k in keys)


def beta_convergence(
    x: xr.DataArray,
    *,
    start: Hashable | None = None,
    end: Hashable | None = None,
    controls: xr.DataArray | Mapping[str, xr.DataArray] | Sequence[xr.DataArray] | None = None,
    robust: str | None = "HC1",
    use_t: bool | None = None,
    dim: str = "unit",
    time_dim: str = "time",
    skipna: bool = True,
) -> xr.Dataset:
    r"""β-convergence: do units that start lower grow faster?

    The cross-section regression of Barro & Sala-i-Martin (1992),

    .. math:: \frac{1}{T}\ln\frac{x_{i,\text{end}}}{x_{i,\text{start}}}
              = \alpha + \beta \ln x_{i,\text{start}} + \gamma' z_i + \varepsilon_i,
              \qquad T = t_{\text{end}} - t_{\text{start}},

    is fitted by OLS over units for every indicator (and draw, …) at once; equal to
    statsmodels' ``OLS(...).fit(cov_type=robust)`` run per indicator. Absolute
    convergence without controls, conditional convergence with controls :math:`z_i`.
    :math:`\beta < 0` means convergence; the implied speed is
    :math:`\lambda = -\ln(1 + \beta T)/T` and the half-life :math:`\ln 2/\lambda`.

    Parameters
    ----------
    x : xarray.DataArray
        Positive data with ``dim`` and a numeric, increasing ``time_dim``.
    start, end : hashable, optional
        Time labels of the initial and final years (default: the first and last).
    controls : DataArray, mapping or list of DataArrays, optional
        Controls over ``dim`` (without ``time_dim``; other dims of ``x`` such as
        ``indicator`` allowed), aligned on ``dim`` labels. A single DataArray is named by
        its ``name`` (or ``"control"``), a list needs named DataArrays.
    robust : {"HC1", "HC0", "HC2", "HC3", "nonrobust", None}
        Covariance of the coefficients (statsmodels' ``cov_type``); ``None`` =
        ``"nonrobust"``.
    use_t : bool, optional
        P-values from Student t (:math:`n-k` df) or the normal distribution; default as
        in statsmodels: t for ``nonrobust``, normal for ``HC*``.
    dim : str, default "unit"
        The dim over which the regression runs.
    time_dim : str, default "time"
        The time dim.
    skipna : bool, default True
        Drop units with a missing value in the regression (True) or give NaN (False).

    Returns
    -------
    xarray.Dataset
        ``coefficient``, ``se``, ``tvalue``, ``pvalue`` over a ``term`` dim
        (``"const"``, ``"log_initial"`` = β, then the controls); ``nobs``, ``r2``,
        ``speed`` (:math:`\lambda`; NaN if :math:`1 + \beta T \le 0`) and ``half_life``
        (NaN unless :math:`\lambda > 0`). Attributes ``start``, ``end``, ``horizon``,
        ``cov_type``. A regression needs more units than terms and full rank.

    Raises
    ------
    InvalidParameterError
        Unknown ``robust``; ``start``/``end`` not time labels or not in order; bad
        ``controls``.
    DataError
        Values <= 0 at ``start`` or ``end`` (naming them); bad time labels; controls with a
        time dim, foreign dims or no common units.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> from brics_ecom import dynamics as dyn
    >>> x0 = np.array([1.0, 2.0, 4.0, 8.0])
    >>> x = xr.DataArray(np.stack([x0, 10 * np.sqrt(x0)], axis=1), dims=("unit", "time"),
    ...                  coords={"unit": list("ABCD"), "time": [2010, 2020]})
    >>> res = dyn.beta_convergence(x)
    >>> beta = res.coefficient.sel(term="log_initial")
    >>> round(float(beta), 12), round(float(res.half_life), 12)
    (-0.05, 10.0)
    """
    func = "beta_convergence"
    x = _as_data(x, func, check_inf=False)  # only the start and end values are checked
    _need_dim(x, dim, func, "dim")
    if dim == time_dim:
        raise InvalidParameterError(
            f"The 'dim' and 'time_dim' parameters of {func} must differ; both are {dim!r}."
        )
    cov_type = "nonrobust" if robust is None else robust
    check_choice(cov_type, _dk.COV_TYPES, param="robust", func=func)
    t = _time_axis(x, time_dim, func, numeric=True)
    assert t is not None
    labels = x.indexes[time_dim].tolist() if time_dim in x.indexes else list(range(len(t)))
    positions = {}
    for name, value, default in (("start", start, 0), ("end", end, len(t) - 1)):
        if value is None:
            positions[name] = default
        elif value in labels:
            positions[name] = labels.index(value)
        else:
            raise InvalidParameterError(
                f"The {name!r} parameter of {func} must be one of the {time_dim!r} labels "
                f"{labels[:10]}; got {value!r}."
            )
    i0, i1 = positions["start"], positions["end"]
    if i0 >= i1:
        raise InvalidParameterError(
            f"The 'start' of {func} must come before its 'end'; got {labels[i0]!r} and "
            f"{labels[i1]!r}."
        )
    horizon = float(t[i1] - t[i0])
    x0 = x.isel({time_dim: i0}, drop=True)
    x1 = x.isel({time_dim: i1}, drop=True)
    for xs, which in ((x0, "start"), (x1, "end")):
        _check_finite(xs, func, f"x at {which} ({time_dim}={labels[positions[which]]!r})")
        _check_positive(
            xs, func, f" of the {which} values ({time_dim}={labels[positions[which]]!r})"
        )
    ctrl, ctrl_names = _controls(controls, x, dim, time_dim, func)
    inputs = [x0, x1] + ([ctrl] if ctrl is not None else [])
    in_core: list[list[Hashable]] = [[dim], [dim]]
    if ctrl is not None:
        in_core.append([dim, "_control"])
    terms = ["const", "log_initial", *ctrl_names]
    names = ("coefficient", "se", "tvalue", "pvalue", "nobs", "r2", "speed", "half_life")
    call = _history(
        x, func,
        {"start": labels[i0], "end": labels[i1], "controls": ctrl_names or None,
         "robust": cov_type, "use_t": use_t, "dim": dim, "skipna": skipna},
    )  # fmt: skip
    return _apply_dataset(
        _beta_kernel, inputs, in_core, [["term"]] * 4 + [[]] * 4, names, call,
        kwargs={"horizon": horizon, "cov_type": cov_type, "use_t": use_t, "skipna": skipna},
        output_sizes={"term": len(terms)}, coords={"term": terms},
        attrs={"start": labels[i0], "end": labels[i1], "horizon": horizon,
               "cov_type": cov_type},
    )  # fmt: skip


# ============================================================================ mobility
def _pairs(labels: list[Any], between: Any, func: str, time_dim: str) -> list[tuple[int, int]]:
    n = len(labels)
    if isinstance(between, str):
        check_choice(between, ("consecutive", "first_last", "base"), param="between", func=func)
        if between == "consecutive":
            return [(i, i + 1) for i in range(n - 1)]
        if between == "first_last":
            return [(0, n - 1)]
        return [(0, i) for i in range(1, n)]
    if (
        isinstance(between, tuple)
        and len(between) == 2
        and not any(isinstance(b, tuple | list) for b in between)
    ):
        between = [between]
    if not isinstance(between, Sequence) or not between:
        raise InvalidParameterError(
            f"The 'between' parameter of {func} must be 'consecutive', 'first_last', 'base', a "
            f"(from, to) pair of {time_dim!r} labels or a list of pairs; got {between!r}."
        )
    out = []
    for pair in between:
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise InvalidParameterError(
                f"Each pair in the 'between' parameter of {func} must be (from, to); got {pair!r}."
            )
        idx = []
        for label in pair:
            if label not in labels:
                raise InvalidParameterError(
                    f"The 'between' parameter of {func} names {label!r}, which is not a "
                    f"{time_dim!r} label {labels[:10]}."
                )
            idx.append(labels.index(label))
        if idx[0] == idx[1]:
            raise InvalidParameterError(
                f"The pair {tuple(pair)!r} in the 'between' parameter of {func} compares a "
                "time point with itself."
            )
        out.append((idx[0], idx[1]))
    return out


def _pair_data(
    x: xr.DataArray, pairs: list[tuple[int, int]], labels: list[Any], time_dim: str
) -> tuple[xr.DataArray, xr.DataArray]:
    def take(which: int) -> xr.DataArray:
        idx = xr.DataArray([p[which] for p in pairs], dims="pair")
        out = x.isel({time_dim: idx})
        return out.drop_vars(
            [k for k, v in out.coords.items() if "pair" in v.dims or k == time_dim]
        )

    names = [f"{labels[a]}-{labels[b]}" for a, b in pairs]
    coords = {
        "pair": names,
        "time_from": ("pair", [labels[a] for a, _ in pairs]),
        "time_to": ("pair", [labels[b] for _, b in pairs]),
    }
    return take(0).assign_coords(coords), take(1).assign_coords(coords)


def _mobility_kernel(
    a: np.ndarray, b: np.ndarray, *, method: str, skipna: bool
) -> tuple[np.ndarray, ...]:
    tau, p, n = _dk.kendall_tau(a, b, method=method, skipna=skipna)
    return tau, p, _dk.mean_abs_rank_change(a, b, skipna=skipna), n


def rank_mobility(
    x: xr.DataArray,
    *,
    dim: str = "unit",
    between: Any = "consecutive",
    method: str = "auto",
    time_dim: str = "time",
    skipna: bool = True,
) -> xr.Dataset:
    r"""Rank mobility between time points: Kendall's τ and the mean absolute rank change.

    For each pair of time points :math:`(r, s)`, over the units observed at both:
    Kendall's :math:`\tau_b` between :math:`x_r` and :math:`x_s` with its two-sided
    p-value, from ``scipy.stats.kendalltau`` (τ near 1: ranks persist; low or negative:
    much mobility), and the mean absolute rank change
    :math:`\frac1n\sum_i |R_{i,s} - R_{i,r}|` with ranks 1 = highest, ties at the
    minimum, among those units.

    Parameters
    ----------
    x : xarray.DataArray
        Data with ``dim`` and an increasing ``time_dim``.
    dim : str, default "unit"
        The dim whose elements are ranked.
    between : str, pair or list of pairs, default "consecutive"
        ``"consecutive"`` (each time point with the next), ``"first_last"``, ``"base"``
        (the first time point with each later one), a ``(from, to)`` pair of time labels
        or a list of pairs.
    method : {"auto", "asymptotic", "exact"}
        P-value method of ``scipy.stats.kendalltau``.
    time_dim : str, default "time"
        The time dim.
    skipna : bool, default True
        Use the units observed at both points (True), or give NaN when any is missing.

    Returns
    -------
    xarray.Dataset
        ``tau``, ``pvalue``, ``mean_abs_rank_change`` and ``nobs`` over a ``pair`` dim
        (labels ``"from-to"``, coords ``time_from`` and ``time_to``) and the other dims
        of ``x``.

    Raises
    ------
    InvalidParameterError
        Bad ``between``, ``method`` or ``dim``.
    DataError
        Unsorted/duplicated time labels; fewer than 2 time points.

    Notes
    -----
    SciPy's p-value corrects the variance for ties; PySAL giddy's ``Tau`` does not (and
    gives a different p-value on tied data).

    Examples
    --------
    >>> import xarray as xr
    >>> from brics_ecom import dynamics as dyn
    >>> x = xr.DataArray([[12, 1], [2, 4], [1, 7], [12, 1], [2, 0]], dims=("unit", "time"),
    ...                  coords={"unit": list("ABCDE"), "time": [2000, 2010]})
    >>> res = dyn.rank_mobility(x)
    >>> round(float(res.tau.item()), 10), round(float(res.pvalue.item()), 10)
    (-0.4714045208, 0.2827454599)
    """
    func = "rank_mobility"
    x = _as_data(x, func)
    check_choice(method, ("auto", "asymptotic", "exact"), param="method", func=func)
    _need_dim(x, dim, func, "dim")
    _time_axis(x, time_dim, func, numeric=False)
    labels = (
        x.indexes[time_dim].tolist() if time_dim in x.indexes else list(range(x.sizes[time_dim]))
    )
    pairs = _pairs(labels, between, func, time_dim)
    a, b = _pair_data(x, pairs, labels, time_dim)
    names = ("tau", "pvalue", "mean_abs_rank_change", "nobs")
    call = _history(x, func, {"dim": dim, "between": between, "method": method, "skipna": skipna})
    return _apply_dataset(
        _mobility_kernel, [a, b], [[dim], [dim]], [[]] * 4, names, call,
        kwargs={"method": method, "skipna": skipna},
    )  # fmt: skip


def _classes_kernel(x: np.ndarray, *, classes: int | Sequence[float], pooled: bool) -> np.ndarray:
    if pooled:  # x is (..., time, unit): one set of cut points over both axes
        return _dk.quantile_classes(x, classes, axis=(-2, -1))
    return _dk.quantile_classes(x, classes, axis=-1)


def transition_matrix(
    x: xr.DataArray,
    *,
    classes: int | Sequence[float] = 5,
    between: Any = "consecutive",
    reference: str = "per_time",
    pooled: bool = True,
    dim: str = "unit",
    time_dim: str = "time",
    skipna: bool = True,
) -> xr.Dataset:
    r"""Class transition matrix (Quah 1993): how units move between quantile classes.

    Each value is put in a class: with ``classes=K`` the :math:`K` quantile classes of
    the values over ``dim`` (cut points at the empirical quantiles :math:`k/K`, NumPy's
    "linear" = R's type 7; intervals closed on the right, so a value equal to a cut
    point goes to the lower class), or classes bounded by given cut points. Transitions
    :math:`i \to j` are counted between the paired time points, over units observed at
    both, and the probabilities are the row-normalised counts
    :math:`p_{ij} = n_{ij}/\sum_j n_{ij}` (NaN for an empty row).

    Parameters
    ----------
    x : xarray.DataArray
        Data with ``dim`` and an increasing ``time_dim``.
    classes : int or sequence of float, default 5
        Number of quantile classes (≥ 2; 5 = quintiles), or increasing interior cut
        points :math:`c_1 < \dots < c_{K-1}` (absolute classes).
    between : str, pair or list of pairs, default "consecutive"
        Which time points are paired, as in :func:`rank_mobility`.
    reference : {"per_time", "pooled"}
        Quantile cut points per time point (relative classes: a unit moves only if it
        overtakes others; the usual choice) or over all time points together (absolute
        classes: general growth moves everyone up). Ignored with explicit cut points.
    pooled : bool, default True
        Sum the counts over all pairs (one matrix, as for a homogeneous Markov chain), or
        keep a ``pair`` dim.
    dim : str, default "unit"
        The dim whose elements move between classes.
    time_dim : str, default "time"
        The time dim.
    skipna : bool, default True
        Skip units missing at either point (True), or give NaN counts for a pair with any
        missing unit (False).

    Returns
    -------
    xarray.Dataset
        ``counts`` and ``probabilities`` over ``from_class`` and ``to_class`` (labels
        1 … K, 1 = lowest), plus ``pair`` if not ``pooled``, plus the other dims of
        ``x``.

    Raises
    ------
    InvalidParameterError
        Bad ``classes``, ``between``, ``reference`` or ``dim``.
    DataError
        Unsorted/duplicated time labels; fewer than 2 time points.

    Examples
    --------
    >>> import xarray as xr
    >>> from brics_ecom import dynamics as dyn
    >>> x = xr.DataArray([[1.0, 2.0], [2.0, 1.0], [3.0, 3.0], [4.0, 4.0]], dims=("unit", "time"),
    ...                  coords={"unit": list("ABCD"), "time": [2000, 2001]})
    >>> dyn.transition_matrix(x, classes=2).counts.values.tolist()
    [[2.0, 0.0], [0.0, 2.0]]
    """
    func = "transition_matrix"
    x = _as_data(x, func)
    _need_dim(x, dim, func, "dim")
    check_choice(reference, ("per_time", "pooled"), param="reference", func=func)
    if isinstance(classes, bool) or not isinstance(classes, int | np.integer | Sequence):
        raise InvalidParameterError(
            f"The 'classes' parameter of {func} must be an integer >= 2 or a list of increasing "
            f"cut points; got {classes!r}."
        )
    if isinstance(classes, int | np.integer):
        n_classes = _check_int(classes, param="classes", func=func, low=2)
        cls_param: int | list[float] = n_classes
    else:
        cuts = [check_number(c, param="classes", func=func) for c in classes]
        if not cuts or any(b <= a for a, b in pairwise(cuts)):
            raise InvalidParameterError(
                f"The cut points given as 'classes' to {func} must be a non-empty, strictly "
                f"increasing list; got {list(classes)!r}."
            )
        n_classes = len(cuts) + 1
        cls_param = [float(c) for c in cuts]
        reference = "per_time"
    _time_axis(x, time_dim, func, numeric=False)
    labels = (
        x.indexes[time_dim].tolist() if time_dim in x.indexes else list(range(x.sizes[time_dim]))
    )
    pairs = _pairs(labels, between, func, time_dim)
    core = [time_dim, dim] if reference == "pooled" else [dim]
    (cls,) = _apply(
        _classes_kernel, [x], [core], [core],
        kwargs={"classes": cls_param, "pooled": reference == "pooled"},
    )  # fmt: skip
    a, b = _pair_data(cls, pairs, labels, time_dim)
    (counts,) = _apply(
        _dk.transition_counts, [a, b], [[dim], [dim]], [["from_class", "to_class"]],
        kwargs={"n_classes": n_classes, "skipna": skipna},
        output_sizes={"from_class": n_classes, "to_class": n_classes},
    )  # fmt: skip
    class_labels = np.arange(1, n_classes + 1)
    counts = counts.assign_coords(from_class=class_labels, to_class=class_labels)
    if pooled:
        counts = counts.sum("pair", skipna=False).drop_vars(
            ["time_from", "time_to"], errors="ignore"
        )
    lead = [d if d != time_dim else "pair" for d in x.dims if d != dim]
    lead = [d for d in lead if d in counts.dims]
    counts = ordered(counts, *lead, "from_class", "to_class")
    with np.errstate(divide="ignore", invalid="ignore"):
        row = counts.sum("to_class", skipna=False)
        probs = counts / row.where(row > 0)  # an empty row gives NaN, without a warning
    call = _history(
        x, func,
        {"classes": classes, "between": between, "reference": reference, "pooled": pooled,
         "dim": dim, "skipna": skipna},
    )  # fmt: skip
    return _dataset({"counts": counts, "probabilities": probs}, call, reference=reference)


# ============================================================================ DEI states
def _state_kernel(
    level: np.ndarray,
    mom: np.ndarray,
    *,
    level_split: Any,
    momentum_split: Any,
    ties: str,
    skipna: bool,
) -> tuple[np.ndarray, ...]:
    codes, lt, mt = _dk.state_codes(
        level, mom, level_split=level_split, momentum_split=momentum_split, ties=ties,
        skipna=skipna,
    )  # fmt: skip
    labels = _STATE_LABELS[np.where(np.isnan(codes), 4, codes).astype(np.intp)]
    return labels, lt, mt


def _split_param(value: Any, param: str) -> Any:
    if isinstance(value, str):
        return check_choice(value, ("median", "mean"), param=param, func="state_momentum")
    return check_number(value, param=param, func="state_momentum")


def state_momentum(
    level: xr.DataArray,
    momentum: xr.DataArray,
    *,
    level_split: str | float = "median",
    momentum_split: str | float = "median",
    ties: str = "high",
    dim: str = "unit",
    skipna: bool = True,
) -> xr.Dataset:
    r"""Digital Evolution Index states: classify units by level and momentum.

    Chakravorti, Tunnard & Chaturvedi (2015) place each country on a chart of its
    current level of digital evolution against its momentum (rate of change), split
    into four zones:

    ==================  =====================  ======================
    state               level                  momentum
    ==================  =====================  ======================
    ``"stand out"``     high                   high
    ``"break out"``     low                    high
    ``"stall out"``     high                   low
    ``"watch out"``     low                    low
    ==================  =====================  ======================

    *High* means at or above the threshold (``ties="high"``, default) or strictly above
    it (``ties="low"``), so with a median split and an odd number of units the median
    unit counts as high by default. Thresholds are numbers, or the ``"median"`` or
    ``"mean"`` over ``dim`` of the units observed in both inputs (one threshold per
    indicator, time point, draw, …). Units missing either input get NaN (missing, as in
    pandas: ``state.isnull()``).

    Parameters
    ----------
    level, momentum : xarray.DataArray
        Level (e.g. the latest index score) and momentum (e.g. :func:`cagr`,
        :func:`trend_growth` slope or :func:`momentum`), with ``dim`` and the same labels.
        Other dims are broadcast against each other.
    level_split, momentum_split : {"median", "mean"} or float
        The thresholds.
    ties : {"high", "low"}
        Where a value equal to the threshold goes.
    dim : str, default "unit"
        The dim of the classified units.
    skipna : bool, default True
        Thresholds over observed units (True) or NaN (all states missing) when a unit is
        missing (False).

    Returns
    -------
    xarray.Dataset
        ``state`` (object array of the four labels, NaN where missing),
        ``level_threshold`` and ``momentum_threshold``.

    Raises
    ------
    InvalidParameterError
        Bad split or ``ties``; ``dim`` missing; ``level`` and ``momentum`` with different
        ``dim`` labels.

    Examples
    --------
    >>> import xarray as xr
    >>> from brics_ecom import dynamics as dyn
    >>> units = {"unit": ["BRA", "CHN", "IND", "RUS", "ZAF"]}
    >>> level = xr.DataArray([60.0, 75.0, 40.0, 70.0, 55.0], dims="unit", coords=units)
    >>> mom = xr.DataArray([0.02, 0.08, 0.09, 0.01, 0.03], dims="unit", coords=units)
    >>> res = dyn.state_momentum(level, mom)  # thresholds: the medians 60 and 0.03
    >>> res.state.values.tolist()
    ['stall out', 'stand out', 'break out', 'stall out', 'break out']
    """
    func = "state_momentum"
    level = _as_data(level, func, "level")
    momentum = _as_data(momentum, func, "momentum")
    _need_dim(level, dim, func, "dim")
    _need_dim(momentum, dim, func, "dim")
    check_choice(ties, ("high", "low"), param="ties", func=func)
    lsplit = _split_param(level_split, "level_split")
    msplit = _split_param(momentum_split, "momentum_split")
    li, mi = level.indexes.get(dim), momentum.indexes.get(dim)
    same = (li.equals(mi)) if li is not None and mi is not None else (
        level.sizes[dim] == momentum.sizes[dim]
    )  # fmt: skip
    if not same:
        raise InvalidParameterError(
            f"The 'level' and 'momentum' given to {func} must have the same {dim!r} labels in "
            f"the same order; align them first (xarray.align(level, momentum, join='inner'))."
        )
    if li is None and mi is not None:
        level = level.assign_coords({dim: mi})
    outs = _apply(
        _state_kernel, [level, momentum], [[dim], [dim]], [[dim], [], []],
        kwargs={"level_split": lsplit, "momentum_split": msplit, "ties": ties,
                "skipna": skipna},
        dtypes=[object, np.float64, np.float64],
    )  # fmt: skip
    state = ordered(outs[0], ..., dim)
    call = _history(
        level, func,
        {"level_split": level_split, "momentum_split": momentum_split, "ties": ties,
         "dim": dim, "skipna": skipna},
    )  # fmt: skip
    return _dataset(
        {"state": state, "level_threshold": outs[1], "momentum_threshold": outs[2]}, call
    )
