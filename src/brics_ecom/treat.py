"""Outlier treatment: COINr's default winsorisation with a log fallback.

An indicator *fails* when ``|skew|`` ≥ ``skew_thresh`` **and** kurtosis ≥ ``kurt_thresh``
(type-2 estimators, excess kurtosis). A failing indicator is winsorised one point at a
time (at the high end if skew ≥ 0, else the low end; tied extremes together) until it
passes or ``winmax`` points were pulled in; if it still fails, ``transform`` (default
``log_CT``: log(x − min + 0.01·(max − min))) is applied to the *original* values (to the
winsorised ones with ``combine=True``). Each year of a panel is treated on its own.

Examples
--------
>>> import brics_ecom as be
>>> panel, spec = be.datasets.load_asem()
>>> out = be.treat(panel)
>>> int((out.report["n_winsorised"] > 0).sum())
18
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ._apply import may_overwrite, single_chunk
from ._history import describe_call, with_history
from ._kernels import treat as _tk
from ._validation import check_number, is_lazy
from .errors import DataWarning, InvalidParameterError
from .panel import validate
from .spec import IndexSpec

__all__ = ["Treated", "treat"]

_OPTIONS = ("winmax", "skew_thresh", "kurt_thresh", "transform", "combine")


class Treated:
    """Result of :func:`treat`.

    Attributes
    ----------
    data : xarray.DataArray
        The treated panel.
    report : pandas.DataFrame
        One row per indicator (per year × indicator on panels): skew and kurtosis before,
        ``pass_before``, ``n_winsorised``, skew/kurtosis/pass after winsorisation,
        ``transformed`` and skew/kurtosis/pass after the transform, ``n_points_winhi``,
        ``n_points_winlo`` and ``na_stop`` (the test returned NA, so the indicator was left
        untreated).
    flags : xarray.DataArray
        Per point: ``""`` (untouched), ``"winhi"``, ``"winlo"``, ``"winhi+log_CT"``,
        ``"+log_CT"``, ... (COINr's ``Treated_Points``).
    """

    def __init__(
        self,
        data: xr.DataArray | None,
        *,
        report: pd.DataFrame | Callable[[], pd.DataFrame] | None = None,
        flags: Callable[[], xr.DataArray] | None = None,
        source: xr.DataArray | None = None,
        plans: list[tuple[dict[str, Any], list[str]]] | None = None,
        dim: str = "unit",
    ) -> None:
        self._data = data
        self._report = report
        self._flags = flags
        # lazy inputs: report and flags are computed from the source on first access
        self._source = source
        self._plans = plans
        self._dim = dim

    def __repr__(self) -> str:
        sizes = dict(self._data.sizes) if self._data is not None else "not kept"
        return f"Treated(data={sizes}, indicators={self.report.shape[0]})"

    @property
    def data(self) -> xr.DataArray:
        """The treated panel."""
        if self._data is None:
            raise InvalidParameterError(
                "The treated panel was not kept (Pipeline.run(keep=...)); run with keep "
                "including 'treat' to keep it."
            )
        return self._data

    def _compute(self) -> None:
        if callable(self._report):  # built on first access
            self._report = self._report()
        if self._report is None:
            if self._source is None or self._plans is None:  # pragma: no cover - defensive
                raise InvalidParameterError("This treatment result holds no report.")
            _, build, self._flags, _ = _treat_eager(self._source, self._plans, self._dim)
            self._report = build()
            self._source = None

    @property
    def report(self) -> pd.DataFrame:
        """Per-indicator treatment report (computed on first access for lazy data)."""
        self._compute()
        assert isinstance(self._report, pd.DataFrame)  # set by _compute
        return self._report

    @cached_property
    def flags(self) -> xr.DataArray:
        """Per-point treatment flags (assembled on first access)."""
        self._compute()
        if self._flags is None:
            raise InvalidParameterError(
                "The treatment flags were not kept (Pipeline.run(keep=...)); run with keep "
                "including 'treat' to keep them."
            )
        return self._flags()

    def without_data(self) -> Treated:
        """The same report without the treated panel and flags (to free memory)."""
        if self._report is None:
            self._compute()
        return Treated(None, report=self._report, dim=self._dim)


def treat(
    panel: xr.DataArray,
    *,
    spec: IndexSpec | None = None,
    winmax: int | None = 5,
    skew_thresh: float = 2.0,
    kurt_thresh: float = 3.5,
    transform: str | None = "log_CT",
    combine: bool = False,
    indicators: list[str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    dim: str = "unit",
    **unknown: Any,
) -> Treated:
    """Treat outliers in every indicator (each year separately).

    Parameters
    ----------
    panel : xarray.DataArray
        The panel.
    spec : IndexSpec, optional
        Per-node overrides ``Node.overrides["treat"]`` (e.g. ``{"winmax": 0}`` or
        ``{"skip": True}``).
    winmax : int or None, default 5
        Maximum number of points winsorised (``None``: no limit). Ties can push the count
        past ``winmax`` (COINr behaviour).
    skew_thresh, kurt_thresh : float
        The failure thresholds (``|skew| ≥ 2`` and ``kurtosis ≥ 3.5`` by default).
    transform : {"log_CT", "log_CT_plus", "boxcox", None}
        Fallback transform, or any registered with ``register("treat", name)``.
    combine : bool, default False
        Apply the transform to the winsorised values instead of the original ones.
    indicators : list of str, optional
        Treat only these (default: all).
    overrides : mapping, optional
        ``{indicator: {option: value}}``; ``{"skip": True}`` leaves an indicator alone.
    dim : str, default "unit"
        The dim the distribution is taken over.
    **unknown
        Not accepted: any other keyword raises :class:`InvalidParameterError` naming it.

    Returns
    -------
    Treated
        ``.data``, ``.report`` and ``.flags``.

    Warns
    -----
    DataWarning
        When the skew/kurtosis test returns NA (e.g. fewer than 4 values) so an indicator
        is left untreated.

    Examples
    --------
    >>> import brics_ecom as be
    >>> panel, spec = be.datasets.load_asem()
    >>> t = be.treat(panel, winmax=10, transform="log_CT_plus")
    >>> t.flags.sel(unit="CHN", indicator="Goods").item()
    'winhi'
    """
    if unknown:
        raise InvalidParameterError(
            f"treat got unknown parameter(s) {sorted(unknown)}; valid: "
            "['spec', 'winmax', 'skew_thresh', 'kurt_thresh', 'transform', 'combine', "
            "'indicators', 'overrides', 'dim']."
        )
    panel = validate(panel)
    if dim not in panel.dims:
        raise InvalidParameterError(
            f"The 'dim' parameter of treat must be a dim of the panel {panel.dims}; got {dim!r}."
        )
    base = {
        "winmax": winmax, "skew_thresh": skew_thresh, "kurt_thresh": kurt_thresh,
        "transform": transform, "combine": combine,
    }  # fmt: skip
    _check_options(base, "treat")
    codes = [str(c) for c in panel["indicator"].values]
    if indicators is not None:
        absent = sorted(set(indicators) - set(codes))
        if absent:
            raise InvalidParameterError(
                f"The 'indicators' parameter of treat names unknown indicators {absent}."
            )
    per_ind: dict[str, dict[str, Any]] = {}
    if spec is not None:
        for code, ov in spec.overrides("treat").items():
            if code in codes:
                per_ind[code] = dict(ov)
    if overrides is not None:
        absent = sorted(set(overrides) - set(codes))
        if absent:
            raise InvalidParameterError(
                f"The 'overrides' parameter of treat names unknown indicators {absent}."
            )
        for code, given in overrides.items():
            per_ind[code] = dict(given)
    plans: dict[str, tuple[dict[str, Any], list[str]]] = {}
    for code in codes:
        opts = dict(base)
        ov = per_ind.get(code, {})
        skip = bool(ov.get("skip", False)) or (indicators is not None and code not in indicators)
        bad = sorted(set(ov) - {*_OPTIONS, "skip"})
        if bad:
            raise InvalidParameterError(
                f"Treatment override for {code!r} has unknown options {bad}; "
                f"valid: {[*_OPTIONS, 'skip']}."
            )
        opts.update({k: v for k, v in ov.items() if k != "skip"})
        if ov:
            _check_options(opts, f"treat (indicator {code!r})")
        opts["skip"] = skip
        key = repr(sorted(opts.items(), key=str))
        plans.setdefault(key, (opts, []))[1].append(code)
    plan_list = list(plans.values())
    call = describe_call("treat", {k: v for k, v in base.items()})
    if is_lazy(panel):
        data = _treat_lazy(panel, plan_list, dim)
        data = with_history(data, panel, call)
        return Treated(data, source=panel, plans=plan_list, dim=dim)
    values, build_report, flags, any_na_stop = _treat_eager(panel, plan_list, dim)
    values = with_history(values, panel, call)
    result = Treated(values, report=build_report, flags=flags, dim=dim)
    if not any_na_stop:
        return result  # the report table is built on first access
    table = result.report
    stopped = table.index[table["na_stop"].astype(bool)].tolist() if len(table) else []
    if stopped:
        warnings.warn(
            f"treat: the skew/kurtosis test returned NA for {stopped} (too few or constant "
            "values); these were left untreated.",
            DataWarning,
            stacklevel=2,
        )
    return result


def _check_options(opts: Mapping[str, Any], where: str) -> None:
    wm = opts["winmax"]
    if wm is not None:
        check_number(wm, param="winmax", func=where, low=0, integer=True)
    check_number(opts["skew_thresh"], param="skew_thresh", func=where, low=0)
    check_number(opts["kurt_thresh"], param="kurt_thresh", func=where)
    if not isinstance(opts["combine"], bool | np.bool_):
        raise InvalidParameterError(f"The 'combine' parameter of {where} must be True or False.")
    tr = opts["transform"]
    if tr is not None and not callable(tr):
        from .registry import available

        if tr not in available("treat"):
            raise InvalidParameterError(
                f"The 'transform' parameter of {where} must be one of {available('treat')} or "
                f"None; got {tr!r}."
            )


def _kernel_opts(opts: Mapping[str, Any]) -> dict[str, Any]:
    return {k: opts[k] for k in _OPTIONS}


def _treat_eager(
    panel: xr.DataArray, plans: list[tuple[dict[str, Any], list[str]]], dim: str
) -> tuple[xr.DataArray, Callable[[], pd.DataFrame], Callable[[], xr.DataArray], bool]:
    """Treated panel, a function building the report table, one building the flags, and
    whether the test returned NA for some indicator (the tables are costly: built only
    when asked for)."""
    panel = panel.compute() if is_lazy(panel) else panel
    whole = len(plans) == 1 and not plans[0][0]["skip"]  # one plan: no gather/scatter copies
    values = panel.values if whole else np.array(panel.values, dtype=np.float64, copy=True)
    flag_parts: list[tuple[list[int], Callable[[], np.ndarray]]] = []
    ind_axis = panel.get_axis_num("indicator")
    unit_axis = panel.get_axis_num(dim)
    codes = [str(c) for c in panel["indicator"].values]
    position = {c: i for i, c in enumerate(codes)}
    lead_dims = [d for d in panel.dims if d != dim]  # the details' dims
    other = [d for d in lead_dims if d != "indicator"]
    keep = [d for d in other if panel.sizes[d] > 1]  # singleton dims leave the report index
    parts: list[tuple[dict[str, np.ndarray], list[str]]] = []  # the report's rows
    for opts, members in plans:
        if opts["skip"]:
            continue
        idx = [position[c] for c in members]
        sub = values if whole else np.take(values, idx, axis=ind_axis)
        treated, details, flags = _tk._treat_array_parts(
            sub, axis=unit_axis, overwrite_x=not whole or may_overwrite(sub), **_kernel_opts(opts)
        )
        if whole:
            values = treated  # a new array, or the donated input (see _apply.donated)
        else:
            put = [slice(None)] * values.ndim
            put[ind_axis] = idx  # type: ignore[call-overload]
            values[tuple(put)] = treated
        flag_parts.append((idx, flags))
        # details: lead dims (other..., indicator) flattened into rows
        src = lead_dims.index("indicator")
        columns = {
            name: np.moveaxis(np.asarray(arr), src, -1).reshape(-1) for name, arr in details.items()
        }
        parts.append((columns, members))
    out = panel.copy(deep=False, data=values)
    labels = {d: panel[d].values for d in other}

    def flag_da() -> xr.DataArray:
        # object arrays of strings are costly: built only when someone asks for them
        flags = np.empty(values.shape, dtype=object)
        flags.fill("")
        for idx, part in flag_parts:
            put = [slice(None)] * values.ndim
            put[ind_axis] = idx  # type: ignore[call-overload]
            flags[tuple(put)] = part()
        out_flags = panel.copy(deep=False, data=flags)
        out_flags.name = "treatment_flag"
        out_flags.attrs = {}
        return out_flags

    def build_report() -> pd.DataFrame:
        if not parts:
            return pd.DataFrame(columns=list(_tk.DETAIL_FIELDS))
        rows = []
        for columns, members in parts:
            if keep:
                levels = [labels[d] for d in other] + [np.asarray(members, dtype=object)]
                index: pd.Index = pd.MultiIndex.from_product(levels, names=[*other, "indicator"])
            else:
                index = pd.Index(members, name="indicator")
            rows.append(pd.DataFrame(columns, index=index))
        report = pd.concat(rows) if len(rows) > 1 else rows[0]
        drop = [d for d in other if d not in keep]
        if keep and drop:
            report = report.droplevel(drop)
        if len(rows) > 1:  # back to the panel's indicator order
            report = report.sort_index(
                level=[*map(str, keep), "indicator"],
                key=lambda v: v.map(position) if v.name == "indicator" else v,
                sort_remaining=False,
            )
        return report

    any_na_stop = any(bool(np.any(columns["na_stop"])) for columns, _ in parts)
    return out, build_report, flag_da, any_na_stop


def _treat_lazy(
    panel: xr.DataArray, plans: list[tuple[dict[str, Any], list[str]]], dim: str
) -> xr.DataArray:
    pieces = []
    for opts, members in plans:
        sub = panel.sel(indicator=members)
        if opts["skip"]:
            pieces.append(sub)
            continue
        kw = _kernel_opts(opts)

        def values_only(a: np.ndarray, kw: dict[str, Any] = kw) -> np.ndarray:
            return np.asarray(_tk.treat_array(a, axis=-1, **kw).values)

        pieces.append(
            xr.apply_ufunc(
                values_only,
                single_chunk(sub, (dim,)),
                input_core_dims=[[dim]],
                output_core_dims=[[dim]],
                dask="parallelized",
                output_dtypes=[np.float64],
            )
        )
    out = xr.concat(pieces, dim="indicator") if len(pieces) > 1 else pieces[0]
    out = out.sel(indicator=panel["indicator"].values).transpose(*panel.dims)
    out.attrs = dict(panel.attrs)
    return out
