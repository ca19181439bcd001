"""Imputation of missing values.

Cross-sectional methods work on each year separately (the statistics are taken over
units, as in COINr): ``mean``, ``median``, ``group_mean``, ``group_median`` (within groups
of a unit coordinate), ``row_mean`` (COINr's ``impute_by = "row"``) and ``em``
(expectation–maximisation under a multivariate normal; COINr has none). Time methods work
on each unit × indicator series, as COINr's ``impute_panel``: ``latest``, ``constant``,
``linear`` and ``linear_constant``.

Examples
--------
>>> import brics_ecom as be
>>> panel, spec = be.datasets.load_asem()
>>> int(panel.isnull().sum())
63
>>> out = be.impute(panel, "group_mean", group="EurAsia_group")
>>> int(out.isnull().sum())
0
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ._apply import apply_kernel, ordered
from ._history import describe_call, with_history
from ._kernels import impute as _ik
from ._validation import is_lazy
from .errors import DataError, DataWarning, InvalidParameterError
from .panel import validate
from .registry import available, get_method
from .spec import IndexSpec

__all__ = ["CROSS_SECTION_METHODS", "TIME_METHODS", "impute"]

CROSS_SECTION_METHODS = ("mean", "median", "group_mean", "group_median", "row_mean", "em")
TIME_METHODS = ("latest", "constant", "linear", "linear_constant")


def impute(
    panel: xr.DataArray,
    method: str = "mean",
    *,
    spec: IndexSpec | None = None,
    group: str | Mapping[Hashable, Any] | None = None,
    level: int | None = None,
    dim: str = "unit",
    max_time: int | None = None,
    max_iter: int = 500,
    tol: float = 1e-8,
    **params: Any,
) -> xr.DataArray:
    """Fill missing values of ``panel``.

    Parameters
    ----------
    panel : xarray.DataArray
        The panel.
    method : str
        ``mean``, ``median``, ``group_mean``, ``group_median``, ``row_mean``, ``em``,
        ``latest``, ``constant``, ``linear``, ``linear_constant``, or a method registered
        with ``register("impute", name)`` (cross-section, called with the unit axis last)
        or ``register("impute_panel", name)`` (time series, time axis last).
    spec : IndexSpec, optional
        Needed by ``row_mean`` (tree and directions).
    group : str or mapping, optional
        For ``group_*``: the name of a unit coordinate (e.g. ``"EurAsia_group"``) or a
        ``{unit: label}`` mapping. Units without a label are left alone.
    level : int, optional
        For ``row_mean``: the level of the ancestor whose indicators are averaged (2 =
        the same pillar, COINr's ``group_level = 2``; the top level or ``None`` = all
        indicators).
    dim : str, default "unit"
        The dim statistics are taken over (cross-sectional methods).
    max_time : int, optional
        For ``latest``: how many earlier periods may be searched.
    max_iter, tol
        For ``em``: iteration limit and convergence tolerance.
    **params
        Extra parameters of user-registered methods.

    Returns
    -------
    xarray.DataArray
        The imputed panel (same dims and coords).

    Raises
    ------
    InvalidParameterError
        Unknown method, missing ``group`` or ``spec``, bad ``level``.
    DataError
        ``linear`` on a series with a single observation (naming unit and indicator).

    Examples
    --------
    >>> import brics_ecom as be
    >>> panel, spec = be.datasets.load_asem()
    >>> out = be.impute(panel, "row_mean", spec=spec, level=2)
    >>> int(out.isnull().sum())
    0
    """
    panel = validate(panel)
    if dim not in panel.dims:
        raise InvalidParameterError(
            f"The 'dim' parameter of impute must be a dim of the panel {panel.dims}; got {dim!r}."
        )
    is_time = method in TIME_METHODS or (
        method not in available("impute") and method in available("impute_panel")
    )
    if not is_time and method not in available("impute"):
        valid = sorted({*available("impute"), *available("impute_panel")})
        raise InvalidParameterError(
            f"The 'method' parameter of impute must be one of {valid}; got {method!r}."
        )
    if params and method in (*CROSS_SECTION_METHODS, *TIME_METHODS):
        raise InvalidParameterError(
            f"impute method {method!r} takes no parameter(s) {sorted(params)}; its parameters "
            "are the keyword arguments of impute (group, level, dim, max_time, max_iter, tol)."
        )
    if max_time is not None and method != "latest":
        raise InvalidParameterError(
            f"The 'max_time' parameter of impute applies to method 'latest' only; got method "
            f"{method!r}."
        )
    call = describe_call("impute", {"method": method, "group": group, "level": level, **params})
    if is_time:
        out = _impute_time(panel, method, max_time=max_time, params=params)
    elif method in ("group_mean", "group_median"):
        out = _impute_group(panel, method, group, dim)
    elif method == "row_mean":
        out = _impute_row(panel, spec, level, dim)
    elif method == "em":
        out = _impute_em(panel, dim, max_iter=max_iter, tol=tol)
    else:
        kernel = get_method("impute", method)
        extra = dict(params)
        out = apply_kernel(kernel, panel, core=(dim,), params={"axis": -1, **extra})
    out = ordered(out, *panel.dims)
    out.name = panel.name
    out.attrs = dict(panel.attrs)
    return with_history(out, panel, call)


def _impute_time(
    panel: xr.DataArray, method: str, *, max_time: int | None, params: Mapping[str, Any]
) -> xr.DataArray:
    if "time" not in panel.dims or panel.sizes["time"] < 2:
        raise InvalidParameterError(
            f"impute method {method!r} fills gaps over time and needs a panel with several "
            "time points."
        )
    panel = panel.sortby("time")
    kwargs: dict[str, Any] = dict(params)
    if method == "latest":
        kwargs["max_time"] = max_time
    if method in ("linear", "linear_constant"):
        times = panel["time"].values
        if np.issubdtype(times.dtype, np.number):
            kwargs["times"] = times.astype(float)
    if method == "linear" and not is_lazy(panel):
        single = xr.apply_ufunc(_ik.single_observation_series, panel, input_core_dims=[["time"]])
        if bool(single.any()):
            cells = single.to_series()
            where = [dict(zip(cells.index.names, i, strict=False)) for i in cells[cells].index[:10]]
            raise DataError(
                f"impute(method='linear') cannot interpolate series with a single observation: "
                f"{where}. Use method='linear_constant', which holds that value constant."
            )
    kernel = get_method("impute_panel", method)
    return apply_kernel(kernel, panel, core=("time",), params={"axis": -1, **kwargs})


def _group_codes(labels: np.ndarray) -> np.ndarray:
    series = pd.Series(labels, dtype=object)
    codes, _ = pd.factorize(series, use_na_sentinel=True)
    return codes.astype(np.intp)


def _impute_group(
    panel: xr.DataArray, method: str, group: str | Mapping[Hashable, Any] | None, dim: str
) -> xr.DataArray:
    stat = "mean" if method == "group_mean" else "median"
    if group is None:
        raise InvalidParameterError(
            f"impute method {method!r} needs group= (a coordinate on {dim!r}, e.g. "
            f"'EurAsia_group', or a {{unit: label}} mapping)."
        )
    if isinstance(group, Mapping):
        units = panel[dim].values.tolist()
        labels = xr.DataArray(
            np.array([group.get(u) for u in units], dtype=object), dims=(dim,),
            coords={dim: panel[dim].values},
        )  # fmt: skip
    else:
        if group not in panel.coords:
            coords = [str(c) for c in panel.coords if c not in panel.dims]
            raise InvalidParameterError(
                f"The 'group' parameter of impute must name a coordinate of the panel; got "
                f"{group!r}. Available coordinates: {coords}."
            )
        labels = panel[group]
    if labels.dims == (dim,):
        codes = _group_codes(labels.values)
        return apply_kernel(
            _ik.fill_group, panel, core=(dim,), params={"groups": codes, "stat": stat, "axis": -1}
        )
    if set(labels.dims) == {dim, "time"}:
        pieces = []
        for t in panel["time"].values:
            codes = _group_codes(labels.sel(time=t).values)
            pieces.append(
                apply_kernel(
                    _ik.fill_group,
                    panel.sel(time=[t]),
                    core=(dim,),
                    params={"groups": codes, "stat": stat, "axis": -1},
                )
            )
        return xr.concat(pieces, dim="time")
    raise InvalidParameterError(
        f"The group coordinate {group!r} has dims {labels.dims}; expected ({dim!r},) or "
        f"({dim!r}, 'time')."
    )


def _impute_row(
    panel: xr.DataArray, spec: IndexSpec | None, level: int | None, dim: str
) -> xr.DataArray:
    if spec is None:
        raise InvalidParameterError(
            "impute method 'row_mean' needs spec= (the index tree groups the indicators)."
        )
    codes = [str(c) for c in panel["indicator"].values]
    unknown = [c for c in codes if c not in spec.indicators]
    if unknown:
        raise InvalidParameterError(
            f"impute(method='row_mean'): indicators {unknown} are not in the specification."
        )
    top = spec.max_level
    if level is None:
        level = top
    if not isinstance(level, int) or not 2 <= level <= top:
        raise InvalidParameterError(
            f"The 'level' parameter of impute must be an integer in [2, {top}]; got {level!r}."
        )
    ancestors = [spec.ancestor(c, level) for c in codes]
    blocks = _group_codes(np.array(ancestors, dtype=object))
    spec_dirs = spec.directions
    directions = np.array([spec_dirs[c] for c in codes], dtype=float)
    return apply_kernel(
        _ik.fill_row, panel, core=("indicator", dim),
        params={"directions": directions, "blocks": blocks, "indicator_axis": -2, "unit_axis": -1},
    )  # fmt: skip


def _impute_em(panel: xr.DataArray, dim: str, *, max_iter: int, tol: float) -> xr.DataArray:
    params: dict[str, Any] = {
        "unit_axis": -2,
        "indicator_axis": -1,
        "max_iter": max_iter,
        "tol": tol,
    }
    if is_lazy(panel):
        return apply_kernel(_ik.fill_em, panel, core=(dim, "indicator"), params=params)
    order = [d for d in panel.dims if d not in (dim, "indicator")] + [dim, "indicator"]
    work = ordered(panel, *order)
    fit = _ik.em_mvn(work.values, **params)
    converged = np.asarray(fit.converged)
    if not converged.all():
        lead = order[:-2]
        where = (
            [dict(zip(lead, idx, strict=True)) for idx in zip(*np.nonzero(~converged), strict=True)]
            if lead
            else []
        )
        labels = [{d: work[d].values[i].item() for d, i in w.items()} for w in where[:5]]
        warnings.warn(
            f"impute(method='em') did not converge in {max_iter} iterations"
            + (f" for {labels}" if labels else "")
            + "; the imputed values are those of the last iteration. Raise max_iter, loosen "
            "tol, or impute smaller blocks of indicators (e.g. pillar by pillar).",
            DataWarning,
            stacklevel=3,
        )
    return work.copy(deep=False, data=fit.filled)
