"""Normalisation: bring indicators onto a common scale.

Every method multiplies each indicator by its direction first (COINr's convention), so
for a negative indicator minima, maxima, reference values and ranks are taken on −x.
Parameters read from the specification move onto the same scale: targets become
``target × direction`` and goalposts ``(lo, hi)`` of a negative indicator become
``(−hi, −lo)``.

Examples
--------
>>> import brics_ecom as be
>>> panel, spec = be.datasets.load_asem()
>>> out = be.normalise(panel, "minmax", spec=spec)
>>> float(out.min()), float(out.max())
(0.0, 100.0)
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import xarray as xr

from . import _kernels  # noqa: F401 - registers the kernels
from ._apply import apply_kernel, as_param, may_overwrite, ordered, overwrites_input
from ._history import describe_call, with_history
from ._kernels import normalise as _nk
from ._kernels.stats import row_broadcasts
from ._validation import check_choice, is_lazy
from .errors import DataError, DataWarning, InvalidParameterError
from .panel import validate
from .registry import available, get_method
from .spec import IndexSpec

__all__ = ["METHOD_PARAMS", "normalise"]

#: Parameters each built-in method accepts, with defaults (None = required or from spec).
METHOD_PARAMS: dict[str, dict[str, Any]] = {
    "minmax": {"lower": 0.0, "upper": 100.0},
    "zscore": {"mean": 0.0, "sd": 1.0},
    "rank": {},
    "borda": {},
    "prank": {},
    "goalposts": {"lower": None, "upper": None, "scale": 100.0, "truncate": True},
    "scaled": {"lower": None, "upper": None, "scale": 100.0},
    "dist2max": {},
    "dist2ref": {"reference_unit": None, "cap": False},
    "dist2targ": {"target": None, "cap": False},
    "fracmax": {},
}

_REFERENCES = ("per_time", "pooled", "base_time")


def normalise(
    panel: xr.DataArray,
    method: str = "minmax",
    *,
    spec: IndexSpec | None = None,
    dim: str = "unit",
    reference: str = "per_time",
    base_time: Hashable | None = None,
    directions: Mapping[str, int] | None = None,
    overrides: Mapping[str, tuple[str, Mapping[str, Any]]] | None = None,
    **params: Any,
) -> xr.DataArray:
    """Normalise every indicator of ``panel``.

    Parameters
    ----------
    panel : xarray.DataArray
        Panel with dims ``unit``, ``indicator`` (``time`` optional; extra dims such as
        ``draw`` are broadcast over).
    method : str
        One of ``minmax`` (``lower=0, upper=100``), ``zscore`` (``mean=0, sd=1``, sample
        sd), ``rank`` (1 = lowest, ties min), ``borda`` (rank − 1), ``prank``
        ((rank − 1)/(n − 1)), ``goalposts`` (``lower, upper, scale=100, truncate=True``),
        ``scaled`` (``lower, upper, scale=100``), ``dist2max``, ``dist2ref``
        (``reference_unit, cap=False``), ``dist2targ`` (``target=None, cap=False``;
        targets from the spec by default), ``fracmax``, or any method registered with
        ``brics_ecom.registry.register("normalise", name)``.
    spec : IndexSpec, optional
        Supplies directions, targets, goalposts and per-node overrides
        (``Node.overrides["normalise"] = {"method": ..., **params}``).
    dim : str, default "unit"
        The dim statistics are taken over.
    reference : {"per_time", "pooled", "base_time"}
        ``per_time``: each year on its own (COINr). ``pooled``: statistics over all years
        together, so scores are comparable over time. ``base_time``: statistics of the year
        ``base_time`` applied to every year.
    base_time : hashable, optional
        The base year; giving it implies ``reference="base_time"``.
    directions : mapping, optional
        ``{indicator: ±1}``; overrides the spec's directions (default all +1 without spec).
    overrides : mapping, optional
        ``{indicator: (method, params)}``: per-indicator methods. An override replaces the
        global method *and* its parameters (nothing is merged, as in COINr).
    **params
        Method parameters: scalars, or ``{indicator: value}`` mappings.

    Returns
    -------
    xarray.DataArray
        Same dims and coords as ``panel``; ``attrs["history"]`` gains this call.

    Raises
    ------
    InvalidParameterError
        Unknown method or parameter, bad reference, unknown ``reference_unit``.
    DataError
        An indicator missing in every unit and year; zero variance in ``zscore``
        (naming the indicator and year); goalposts with lower ≥ upper.

    Warns
    -----
    DataWarning
        Zero range in ``minmax``/``dist2max``: the slice becomes NaN and the warning names
        the indicator and year (COINr behaviour).

    Examples
    --------
    >>> import brics_ecom as be
    >>> panel, spec = be.datasets.load_asem()
    >>> z = be.normalise(panel, "zscore", spec=spec)
    >>> round(float(z.sel(indicator="LPI").std(ddof=1)), 12)
    1.0
    """
    panel = validate(panel)
    if dim not in panel.dims:
        raise InvalidParameterError(
            f"The 'dim' parameter of normalise must be a dim of the panel {panel.dims}; "
            f"got {dim!r}."
        )
    if base_time is not None:
        reference = "base_time"
    check_choice(reference, _REFERENCES, param="reference", func="normalise")
    if reference == "base_time":
        if base_time is None:
            raise InvalidParameterError(
                "normalise(reference='base_time') needs base_time=YEAR (a label of the time dim)."
            )
        if "time" not in panel.dims or base_time not in panel["time"].values.tolist():
            raise InvalidParameterError(
                f"The 'base_time' parameter of normalise must be one of the panel's times; "
                f"got {base_time!r}."
            )
    if reference == "pooled" and "time" not in panel.dims:
        reference = "per_time"
    indicators = [str(v) for v in panel["indicator"].values]
    dirs = _directions(indicators, spec, directions)
    plans = _plan(indicators, method, params, spec, overrides)
    # Methods that leave NaN only where the input is NaN or the slice is degenerate are
    # checked after the fact, from the output alone: one pass instead of four.
    check_after = (
        not is_lazy(panel)
        and reference != "base_time"
        and all(meth in _DEGENERATE_AS_NAN for meth, _, _ in plans)
    )
    if not check_after:
        _check_all_missing(panel, dim)
    # A pipeline may let the kernel write into its input (see _apply.donated): keep what
    # the checks after the fact need to know about the input.
    empty_before = (
        _no_finite_value(panel, _core_dims(reference, dim))
        if check_after and len(plans) == 1 and may_overwrite(panel.values)
        else None
    )
    pieces = []
    for meth, mparams, codes in plans:
        sub = panel.sel(indicator=codes) if len(plans) > 1 else panel
        sub_dirs = dirs.sel(indicator=codes) if len(plans) > 1 else dirs
        pieces.append(
            _normalise_one(
                sub, meth, mparams, sub_dirs, spec, dim, reference, base_time,
                check=not check_after,
            )
        )  # fmt: skip
    out = (
        pieces[0]
        if len(pieces) == 1
        else xr.concat(pieces, dim="indicator").sel(indicator=indicators)
    )
    out = ordered(out, *panel.dims, ...)
    if check_after:
        core = _core_dims(reference, dim)
        out_empty = _no_finite_value(out, core)
        if out_empty.any():
            if empty_before is None:  # the input is intact: the full checks
                _check_all_missing(panel, dim)
                for meth, _, codes in plans:
                    sub = panel.sel(indicator=codes) if len(plans) > 1 else panel
                    _check_degenerate(sub, meth, core, stacklevel=3)
            else:  # the input was overwritten: from the masks
                lead = [d for d in panel.dims if d not in core]
                _check_all_missing_mask(empty_before, lead, panel)
                _complain_degenerate(
                    out_empty & ~empty_before, lead, panel, plans[0][0], stacklevel=3
                )
    out.name = panel.name
    out.attrs = {k: v for k, v in panel.attrs.items() if k != "denominators"}
    call = describe_call(
        "normalise",
        {"method": method, "reference": reference, "base_time": base_time,
         "directions": directions, "overrides": overrides, **params},
    )  # fmt: skip
    return with_history(out, panel, call)


def _directions(
    indicators: list[str], spec: IndexSpec | None, directions: Mapping[str, int] | None
) -> xr.DataArray:
    dirs = {code: 1 for code in indicators}
    if spec is not None:
        dirs.update({c: d for c, d in spec.directions.items() if c in dirs})
    if directions is not None:
        unknown = sorted(set(directions) - set(indicators))
        if unknown:
            raise InvalidParameterError(
                f"The 'directions' parameter names indicators {unknown} that are not in the data."
            )
        for code, d in directions.items():
            if d not in (1, -1):
                raise InvalidParameterError(
                    f"The direction of indicator {code!r} must be 1 or -1; got {d!r}."
                )
        dirs.update(directions)
    return xr.DataArray(
        np.array([dirs[c] for c in indicators], dtype=float),
        dims=("indicator",),
        coords={"indicator": indicators},
    )


#: Methods whose output is NaN exactly where the input is NaN, plus whole slices that are
#: all missing or degenerate (zero range or zero variance: see _check_degenerate).
_DEGENERATE_AS_NAN = frozenset({"minmax", "dist2max", "zscore"})


def _core_dims(reference: str, dim: str) -> tuple[str, ...]:
    return ("time", dim) if reference == "pooled" else (dim,)


def _check_all_missing_mask(empty: np.ndarray, lead: list[Hashable], panel: xr.DataArray) -> None:
    """:func:`_check_all_missing` from the mask of empty slices over the ``lead`` dims."""
    axis = lead.index("indicator")
    whole = empty.all(axis=tuple(i for i in range(empty.ndim) if i != axis))
    if whole.any():
        codes = [str(c) for c in panel["indicator"].values[whole]]
        raise DataError(
            f"Indicators {codes} have no data at all; remove them (and from the specification) "
            "before normalising."
        )


def _check_all_missing(panel: xr.DataArray, dim: str) -> None:
    if is_lazy(panel):
        return
    axis = panel.get_axis_num("indicator")
    other = tuple(i for i in range(panel.ndim) if i != axis)
    empty = np.isnan(panel.values).all(axis=other)
    if empty.any():
        codes = [str(c) for c in panel["indicator"].values[empty]]
        raise DataError(
            f"Indicators {codes} have no data at all; remove them (and from the specification) "
            "before normalising."
        )


def _plan(
    indicators: list[str],
    method: str,
    params: Mapping[str, Any],
    spec: IndexSpec | None,
    overrides: Mapping[str, tuple[str, Mapping[str, Any]]] | None,
) -> list[tuple[str, dict[str, Any], list[str]]]:
    """Group indicators by (method, params); overrides replace the global choice."""
    per_ind: dict[str, tuple[str, dict[str, Any]]] = {}
    if spec is not None:
        for code, ov in spec.overrides("normalise").items():
            if code in indicators:
                ov = dict(ov)
                per_ind[code] = (ov.pop("method", method), ov)
    if overrides is not None:
        unknown = sorted(set(overrides) - set(indicators))
        if unknown:
            raise InvalidParameterError(
                f"The 'overrides' parameter of normalise names indicators {unknown} that are "
                "not in the data."
            )
        for code, value in overrides.items():
            if isinstance(value, str):
                per_ind[code] = (value, {})
            elif isinstance(value, tuple | list) and len(value) == 2 and isinstance(value[0], str):
                per_ind[code] = (value[0], dict(value[1] or {}))
            else:
                raise InvalidParameterError(
                    f"The override for indicator {code!r} must be (method, params) or a method "
                    f"name; got {value!r}."
                )
    groups: list[tuple[str, dict[str, Any], list[str]]] = []
    default_codes = [c for c in indicators if c not in per_ind]
    if default_codes:
        groups.append((method, dict(params), default_codes))
    keyed: dict[str, tuple[str, dict[str, Any], list[str]]] = {}
    for code in indicators:
        if code in per_ind:
            meth, mp = per_ind[code]
            key = f"{meth}|{sorted(mp.items(), key=str)!r}"
            keyed.setdefault(key, (meth, mp, []))[2].append(code)
    groups.extend(keyed.values())
    return groups


def _with_direction(kernel: Any) -> Any:
    """Wrap a kernel so that it multiplies by the direction first (COINr's convention).

    A kernel that takes ``overwrite_x`` may write into ``x`` when the caller allows it, and
    always into the directed copy ``x * direction``, which is its own. When the caller
    allows it, the direction is applied in ``x`` itself (no copy).
    """
    writes = overwrites_input(kernel)

    def run(
        x: np.ndarray, *, direction: np.ndarray, overwrite_x: bool = False, **kwargs: Any
    ) -> np.ndarray:
        # x * 1 is x: skip that pass
        shape = np.broadcast_shapes(x.shape, np.shape(direction))
        if not (np.all(direction == 1) and shape == x.shape):
            if kwargs.get("ref") is not None:
                kwargs["ref"] = kwargs["ref"] * direction
            if overwrite_x and shape == x.shape and x.dtype == np.float64 and x.flags.writeable:
                with row_broadcasts(x.shape[-1] if x.ndim else 0):
                    np.multiply(x, direction, out=x)
            else:
                x, overwrite_x = x * direction, True
        if writes:
            kwargs["overwrite_x"] = overwrite_x
        return np.asarray(kernel(x, **kwargs))

    return run


def _normalise_one(
    panel: xr.DataArray,
    method: str,
    params: Mapping[str, Any],
    dirs: xr.DataArray,
    spec: IndexSpec | None,
    dim: str,
    reference: str,
    base_time: Hashable | None,
    *,
    check: bool = True,
) -> xr.DataArray:
    kernel = get_method("normalise", method)
    codes = [str(v) for v in panel["indicator"].values]
    params = _resolve_params(method, dict(params), codes, spec, dirs)
    if method == "dist2ref":
        unit = params.pop("reference_unit")
        if unit not in panel[dim].values.tolist():
            raise InvalidParameterError(
                f"The 'reference_unit' of dist2ref must be a {dim} of the panel; got {unit!r}."
            )
        if reference != "per_time":
            raise InvalidParameterError(
                "dist2ref compares each year with the reference unit's value of that year; "
                "use reference='per_time'."
            )
        params["ref_value"] = panel.sel({dim: unit}, drop=True) * dirs
    core: tuple[str, ...] = (dim,)
    arrays: dict[str, xr.DataArray] = {}
    array_core: dict[str, tuple[str, ...]] = {}
    axis: int | tuple[int, ...] = -1
    source = panel
    if reference == "pooled":
        core = ("time", dim)
        axis = (-2, -1)
    elif reference == "base_time":
        source = panel.sel(time=base_time, drop=True)
        arrays["ref"] = source.rename({dim: "_ref_" + dim})
        array_core["ref"] = ("_ref_" + dim,)
    kernel_params = dict(params)
    kernel_params["axis"] = axis
    kernel_params["direction"] = dirs
    out = apply_kernel(
        _with_direction(kernel), panel, core=core, arrays=arrays, array_core=array_core,
        params=kernel_params,
    )  # fmt: skip
    if check:
        _check_degenerate(source, method, core if reference != "base_time" else (dim,))
    return out


def _resolve_params(
    method: str,
    params: dict[str, Any],
    codes: list[str],
    spec: IndexSpec | None,
    dirs: xr.DataArray,
) -> dict[str, Any]:
    known = METHOD_PARAMS.get(method)
    if known is None:  # a user-registered method: pass parameters through
        return {k: as_param(v, codes, name=k) for k, v in params.items()}
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise InvalidParameterError(
            f"normalise method {method!r} takes parameters {sorted(known) or 'none'}; got "
            f"unknown {unknown}."
        )
    out: dict[str, Any] = {k: v for k, v in known.items() if v is not None}
    out.update(params)
    if method in ("goalposts", "scaled"):
        lower, upper = params.get("lower"), params.get("upper")
        if lower is None or upper is None:
            if spec is None:
                raise InvalidParameterError(
                    f"normalise method {method!r} needs 'lower' and 'upper' goalposts (numbers or "
                    "{indicator: value} mappings), or a spec whose nodes have goalposts."
                )
            lows, highs = {}, {}
            for c in codes:
                gp = spec.node(c).goalposts if c in spec else None
                if gp is None:
                    raise InvalidParameterError(
                        f"Indicator {c!r} has no goalposts in the spec; pass lower= and upper=."
                    )
                lows[c], highs[c] = gp
            lower = lows if lower is None else lower
            upper = highs if upper is None else upper
        lo = _as_da(as_param(lower, codes, name="lower"), codes)
        hi = _as_da(as_param(upper, codes, name="upper"), codes)
        bad = (lo >= hi).values
        if bad.any():
            culprits = [codes[i] for i in np.nonzero(np.atleast_1d(bad))[0]] if bad.ndim else codes
            raise DataError(
                f"Goalposts with lower ≥ upper for indicators {culprits}; the lower goalpost must "
                "be below the upper one."
            )
        # onto the directed scale: (lo, hi) -> (-hi, -lo) for negative indicators
        out["lower"] = xr.where(dirs > 0, lo, -hi)
        out["upper"] = xr.where(dirs > 0, hi, -lo)
    elif method == "dist2targ":
        target = params.get("target")
        if target is None:
            if spec is None:
                raise InvalidParameterError(
                    "normalise method 'dist2targ' needs target= or a spec with targets."
                )
            missing = [c for c in codes if c not in spec.targets]
            if missing:
                raise InvalidParameterError(
                    f"Indicators {missing} have no target in the spec; pass target=."
                )
            target = {c: spec.targets[c] for c in codes}
        out["target"] = _as_da(as_param(target, codes, name="target"), codes) * dirs
    elif method == "dist2ref" and out.get("reference_unit") is None:
        raise InvalidParameterError("normalise method 'dist2ref' needs reference_unit=.")
    for key in ("lower", "upper", "mean", "sd", "scale"):
        if key in out and not isinstance(out[key], xr.DataArray):
            out[key] = as_param(out[key], codes, name=key)
    return out


def _as_da(value: Any, codes: list[str]) -> xr.DataArray:
    if isinstance(value, xr.DataArray):
        return value
    return xr.DataArray(
        np.full(len(codes), float(value)), dims=("indicator",), coords={"indicator": codes}
    )


def _check_degenerate(
    source: xr.DataArray, method: str, core: tuple[str, ...], *, stacklevel: int = 4
) -> None:
    """Warn (zero range) or raise (zero sd) naming the indicator-years at fault."""
    if method not in ("minmax", "dist2max", "zscore") or is_lazy(source):
        return
    lead = [d for d in source.dims if d not in core]
    values = source.transpose(*lead, *core).values
    axes = tuple(range(len(lead), values.ndim))
    mask = _nk.degenerate_slices(values, method, axis=axes)  # directions do not matter
    mask = mask.reshape(mask.shape[: len(lead)]) & ~np.isnan(values).all(axis=axes)
    _complain_degenerate(mask, lead, source, method, stacklevel=stacklevel + 1)


def _complain_degenerate(
    mask: np.ndarray, lead: list[Hashable], source: xr.DataArray, method: str, *, stacklevel: int
) -> None:
    """Raise or warn for the degenerate slices ``mask`` (over the ``lead`` dims)."""
    if not mask.any():
        return
    where = [
        {d: source[d].values[i].item() for d, i in zip(lead, idx, strict=True)}
        for idx in zip(*np.nonzero(mask), strict=True)
    ][:10]
    if method == "zscore":
        raise DataError(
            f"zscore: zero variance for {where}; the z-score is undefined. Drop these "
            "indicators or use another method (e.g. minmax or rank)."
        )
    warnings.warn(
        f"{method}: zero range for {where}; the normalised values are set to NaN.",
        DataWarning,
        stacklevel=stacklevel,
    )


def _no_finite_value(da: xr.DataArray, core: tuple[str, ...]) -> np.ndarray:
    """Per slice over the ``core`` dims (dims ordered as in ``da``): no finite value."""
    axes = tuple(da.get_axis_num(d) for d in core)
    values = da.values
    # fmax skips NaN: one pass with no temporary; a non-finite max flags the candidates
    top = np.fmax.reduce(values, axis=axes)
    if np.isfinite(top).all():
        return np.zeros(top.shape, dtype=bool)
    return np.asarray((~np.isfinite(values)).all(axis=axes))


def _available() -> list[str]:
    return available("normalise")
