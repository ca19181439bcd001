"""Denomination: turn extensive indicators into intensive ones (per capita, per GDP, ...).

``x / d × scale`` for every indicator with a denominator; the others pass unchanged.
COINr's ``Denominate()`` is the case ``scale = 1``.

Examples
--------
>>> import brics_ecom as be
>>> panel, spec = be.datasets.load_asem()
>>> den = be.denominate(panel, spec)
>>> pop = panel.attrs["denominators"].sel(denominator="Population")
>>> bool((den.sel(indicator="Flights") == panel.sel(indicator="Flights") / pop).all())
True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from ._apply import as_param, ordered
from ._history import describe_call, with_history
from ._validation import check_number, is_lazy
from .errors import DataError, InvalidParameterError
from .panel import get_denominators, validate
from .spec import IndexSpec

__all__ = ["denominate", "denominate_kernel"]


def denominate_kernel(x: np.ndarray, d: np.ndarray, scale: Any = 1.0) -> np.ndarray:
    """``x / d * scale`` elementwise (NaN propagates).

    Examples
    --------
    >>> denominate_kernel(np.array([10.0, 4.0]), np.array([5.0, 2.0]), 100).tolist()
    [200.0, 200.0]
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(x, dtype=float) / np.asarray(d, dtype=float) * scale


def denominate(
    panel: xr.DataArray,
    spec: IndexSpec | None = None,
    *,
    denominators: xr.DataArray | None = None,
    mapping: Mapping[str, str] | None = None,
    scale: float | Mapping[str, float] = 1.0,
) -> xr.DataArray:
    """Divide indicators by their denominators.

    Parameters
    ----------
    panel : xarray.DataArray
        The panel.
    spec : IndexSpec, optional
        Supplies the mapping through ``Node.denominator`` when ``mapping`` is not given.
    denominators : xarray.DataArray, optional
        Dims ``(unit, [time,] denominator)``; default: ``panel.attrs["denominators"]``.
    mapping : mapping, optional
        ``{indicator: denominator_code}``; overrides the spec.
    scale : float or mapping, default 1.0
        Multiplier of the ratio (e.g. 1e6 for "per million"), global or per indicator.

    Returns
    -------
    xarray.DataArray
        The panel with denominated indicators; ``attrs["denominated"]`` records the
        mapping.

    Raises
    ------
    DataError
        Denominator data missing for a unit or year, or zero denominators (naming them).
    InvalidParameterError
        Unknown indicators or denominators in ``mapping``.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> p = xr.DataArray([[[10.0, 3.0]]], dims=("unit", "time", "indicator"),
    ...     coords={"unit": ["A"], "time": [0], "indicator": ["gdp", "score"]})
    >>> d = xr.DataArray([[[5.0]]], dims=("unit", "time", "denominator"),
    ...     coords={"unit": ["A"], "time": [0], "denominator": ["pop"]})
    >>> denominate(p, denominators=d, mapping={"gdp": "pop"}).values.ravel().tolist()
    [2.0, 3.0]
    """
    panel = validate(panel)
    if denominators is None:
        denominators = get_denominators(panel)
    indicators = [str(c) for c in panel["indicator"].values]
    if mapping is None:
        mapping = {}
        if spec is not None:
            mapping = {
                c: str(spec.node(c).denominator)
                for c in indicators
                if c in spec and spec.node(c).denominator is not None
            }
    mapping = dict(mapping)
    unknown = sorted(set(mapping) - set(indicators))
    if unknown:
        raise InvalidParameterError(
            f"The 'mapping' parameter of denominate names indicators {unknown} not in the data."
        )
    _check_scale(scale, mapping)
    call = describe_call("denominate", {"mapping": mapping, "scale": scale})
    out = panel.copy(deep=False)
    out.attrs = {k: v for k, v in panel.attrs.items() if k != "denominators"}
    if not mapping:
        out = out.copy(deep=False, data=panel.data.copy())  # never share the input's buffer
        out.attrs["denominated"] = {}
        return with_history(out, panel, call)
    if denominators is None:
        raise DataError(
            "denominate: no denominator data. Pass denominators= (dims unit, time, "
            "denominator) or build the panel with from_coinr so that it carries them."
        )
    if "indicator" in denominators.dims and "denominator" not in denominators.dims:
        denominators = denominators.rename(indicator="denominator")
    available_d = [str(c) for c in denominators["denominator"].values]
    absent = sorted({d for d in mapping.values() if d not in available_d})
    if absent:
        raise InvalidParameterError(
            f"Denominators {absent} are not in the denominator data (which has {available_d})."
        )
    unit_index = denominators.indexes["unit"]
    missing_units = sorted(
        panel["unit"].values[unit_index.get_indexer(panel.indexes["unit"]) < 0].tolist()
    )
    if missing_units:
        raise DataError(f"denominate: no denominator data for units {missing_units[:10]}.")
    if "time" in panel.dims and "time" in denominators.dims:
        missing_t = sorted(
            set(panel["time"].values.tolist()) - set(denominators["time"].values.tolist())
        )
        if missing_t:
            raise DataError(f"denominate: no denominator data for times {missing_t}.")
    codes = list(mapping)
    if "time" in denominators.dims and "time" not in panel.dims:
        if denominators.sizes["time"] != 1:
            raise DataError(
                "denominate: the panel has no 'time' dim but the denominators have "
                f"{denominators.sizes['time']} times {denominators['time'].values.tolist()}; "
                "select one (denominators.sel(time=...)) first."
            )
        denominators = denominators.squeeze("time", drop=True)
    scale_da = as_param(scale, codes, name="scale")
    if not is_lazy(panel) and not is_lazy(denominators):
        values = _denominate_eager(panel, denominators, mapping, scale_da)
        out = out.copy(deep=False, data=values)
    else:
        dens = _aligned_denominators(panel, denominators, [mapping[c] for c in codes], codes)
        full = dens.reindex(indicator=indicators, fill_value=1.0)
        factor = (
            scale_da.reindex(indicator=indicators, fill_value=1.0)
            if isinstance(scale_da, xr.DataArray)
            else xr.DataArray(
                [scale_da if c in mapping else 1.0 for c in indicators], dims="indicator",
                coords={"indicator": indicators},
            )
        )  # fmt: skip
        ratio = xr.apply_ufunc(
            denominate_kernel, panel, full, factor, dask="parallelized", output_dtypes=[np.float64]
        )
        attrs = out.attrs
        out = ratio.transpose(*panel.dims)
        out.attrs = attrs
        out.name = panel.name
    out.attrs["denominated"] = mapping
    return with_history(out, panel, call)


def _denominator_layout(
    panel: xr.DataArray, denominators: xr.DataArray
) -> tuple[list[str], xr.DataArray]:
    """The (unit, time) dims both share, in the panel's order, and the denominators
    transposed to ``(*dims, denominator)``; other dims are an error."""
    dims = [str(d) for d in panel.dims if d in ("unit", "time") and d in denominators.dims]
    src = ordered(denominators, *dims, "denominator", ...)
    if src.ndim != len(dims) + 1:
        extra = [d for d in src.dims if d not in (*dims, "denominator")]
        raise DataError(f"denominate: the denominators have unexpected dims {extra}.")
    return dims, src


def _aligned_denominators(
    panel: xr.DataArray, denominators: xr.DataArray, wanted: list[str], codes: list[str]
) -> xr.DataArray:
    """The denominator of each code in ``codes``, on the panel's units and times.

    Positional indexing (``get_indexer``) instead of label selection: on small panels
    xarray's ``sel`` costs more than the division.
    """
    dims, src = _denominator_layout(panel, denominators)
    take = [src.indexes[d].get_indexer(panel.indexes[d]) for d in dims] + [
        src.indexes["denominator"].get_indexer(wanted)
    ]
    if not is_lazy(src):
        values = src.data[np.ix_(*take)]
    else:
        values = src.isel(dict(zip([*dims, "denominator"], take, strict=True))).data
    coords: dict[str, Any] = {str(d): panel[d].values for d in dims}
    coords["indicator"] = codes
    return xr.DataArray(values, dims=(*dims, "indicator"), coords=coords)


def _denominate_eager(
    panel: xr.DataArray, denominators: xr.DataArray, mapping: Mapping[str, str], scale: Any
) -> np.ndarray:
    """The ratios written into a copy of the panel's values (NumPy-backed inputs).

    Each denominated indicator is divided in place, as a strided view of the copy, by its
    denominator (broadcast over the panel's other dims): no gathered (unit, time, code)
    block is built and scattered back, which costs more than the division.
    """
    dims, src = _denominator_layout(panel, denominators)
    den = np.asarray(src.data, dtype=np.float64)
    for i, dim in enumerate(dims):  # positional alignment on the panel's labels
        take = src.indexes[dim].get_indexer(panel.indexes[dim])
        if not np.array_equal(take, np.arange(den.shape[i])):
            den = np.take(den, take, axis=i)
    den_pos = {str(c): i for i, c in enumerate(src["denominator"].values.tolist())}
    # denominators lack dims the panel has beyond (unit, time, indicator): broadcast
    others = [d for d in panel.dims if d != "indicator"]
    shape = [den.shape[dims.index(d)] if d in dims else 1 for d in others]
    values = _copy_units_innermost(panel)
    by_indicator = np.moveaxis(values, panel.get_axis_num("indicator"), -1)  # a view
    position = {str(c): i for i, c in enumerate(panel["indicator"].values.tolist())}
    for code, dcode in mapping.items():
        d = den[..., den_pos[dcode]].reshape(shape)
        numerator = by_indicator[..., position[code]]  # a strided view into values
        zero = d == 0
        if zero.any():
            zero = np.broadcast_to(zero, numerator.shape) & ~np.isnan(numerator)
            if zero.any():
                where = [
                    {**{str(dim): panel[dim].values[i].item()
                        for dim, i in zip(others, cell, strict=True)}, "indicator": code}
                    for cell in np.argwhere(zero)[:5]
                ]  # fmt: skip
                raise DataError(
                    f"denominate: zero denominators at {where}; the ratio would be infinite. "
                    "Set them to NaN or fix the denominator data."
                )
        factor = scale.sel(indicator=code).item() if isinstance(scale, xr.DataArray) else scale
        with np.errstate(divide="ignore", invalid="ignore"):  # same operations as the kernel
            np.divide(numerator, d, out=numerator)
            if factor != 1.0:  # x / d * 1 is x / d exactly
                np.multiply(numerator, factor, out=numerator)
    return values


def _copy_units_innermost(panel: xr.DataArray) -> np.ndarray:
    """A float64 copy of the panel's values stored with the ``unit`` axis innermost.

    The dims are unchanged (the copy is a transposed view of its buffer). The steps after
    denomination take their statistics over units, and the kernels want each series of
    units contiguous: laid out so here, the copy that denomination makes anyway spares
    them a transposing copy of their own. Each indicator's slice is then contiguous rows
    of units too, which the division below reads faster.
    """
    v = panel.values
    if "unit" not in panel.dims:
        return np.array(v, dtype=np.float64, copy=True)
    axis = panel.get_axis_num("unit")
    source = np.moveaxis(v, axis, -1)
    buf = np.empty(source.shape)
    np.copyto(buf, source, casting="unsafe")
    return np.moveaxis(buf, -1, axis)


def _check_scale(scale: float | Mapping[str, float], mapping: Mapping[str, str]) -> None:
    """``scale`` is a finite non-zero number, or one per denominated indicator."""
    if isinstance(scale, Mapping):
        extra = sorted(set(scale) - set(mapping), key=str)
        if extra:
            raise InvalidParameterError(
                f"The 'scale' parameter of denominate names indicators {extra} that are not "
                f"denominated (the mapping covers {sorted(mapping)})."
            )
        items = [(f"scale[{code!r}]", v) for code, v in scale.items()]
    else:
        items = [("scale", scale)]
    for name, value in items:
        check_number(value, param=name, func="denominate")
        if value == 0:
            raise InvalidParameterError(
                f"The {name!r} parameter of denominate must not be 0; got {value!r}."
            )
