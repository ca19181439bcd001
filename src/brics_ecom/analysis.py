"""Statistical analysis of indicators and indices: descriptive statistics, correlations,
reliability (Cronbach's alpha) and what-if comparisons.

Every function works on labelled panels (``unit`` × ``time`` × ``indicator``) or on a
:class:`~brics_ecom.results.Result`, computes each year (and any other leading dim, such
as ``draw``) on its own in one vectorised pass, and returns tidy pandas or xarray
objects. The numbers are COINr 1.1.14's (``get_stats``, ``get_corr``, ``get_corr_flags``,
``get_denom_corr``, ``get_cronbach``, ``remove_elements``, ``compare_coins``); see the
"Analysis" page of the documentation for formulas and the differences we keep on purpose.

Examples
--------
>>> import brics_ecom as be
>>> from brics_ecom import analysis
>>> panel, spec = be.datasets.load_asem()
>>> res = be.Pipeline.coinr_example(spec).run(panel)
>>> r = analysis.correlations(res, levels=(1, 2), with_parent=True, form="long")
>>> r.columns.tolist()
['time', 'var1', 'var2', 'correlation']
>>> round(float(analysis.cronbach_alpha(res, level=4).sel(node="Index").item()), 4)
0.8986
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import xarray as xr

from ._apply import single_chunk
from ._kernels import stats as _ks
from ._multivariate import (
    BartlettResult,
    FactorResult,
    KMOResult,
    PCAResult,
    bartlett_sphericity,
    factor_analysis,
    kmo,
    pca,
    vif,
)
from ._validation import check_choice, check_number, is_lazy, report_dropped
from .errors import DataError, DataWarning, InvalidParameterError, SpecError
from .panel import get_denominators, validate
from .results import Result, rank_scores
from .spec import IndexSpec

__all__ = [
    "CORRELATION_METHODS",
    "BartlettResult",
    "FactorResult",
    "KMOResult",
    "PCAResult",
    "RemovalResult",
    "bartlett_sphericity",
    "compare",
    "correlation_flags",
    "correlations",
    "cronbach_alpha",
    "denominator_correlations",
    "describe",
    "factor_analysis",
    "kmo",
    "pca",
    "remove_elements",
    "vif",
]

#: Correlation methods accepted by :func:`correlations` and friends.
CORRELATION_METHODS = ("pearson", "spearman", "kendall")
_FORMS = ("matrix", "long")

Data = xr.DataArray | Result


# ---------------------------------------------------------------------- data access
def _as_nodes(
    data: Any, spec: IndexSpec | None, dset: str | None, *, func: str, default_dset: str
) -> tuple[xr.DataArray, IndexSpec | None, str]:
    """The data as a DataArray with a ``node`` dim (and ``unit``), the spec, and the name
    of the original variable dim (``indicator`` or ``node``)."""
    if spec is not None and not isinstance(spec, IndexSpec):
        raise InvalidParameterError(
            f"The 'spec' parameter of {func} must be an IndexSpec; got {type(spec).__name__}."
        )
    if isinstance(data, Result):
        spec = spec if spec is not None else data.spec
        name = default_dset if dset is None else dset
        valid = ["scores", *data.data]
        if name == "scores":
            if data.scores is None:
                raise InvalidParameterError(
                    f"{func}: this result has no scores (its pipeline does not aggregate); "
                    f"choose dset from {list(data.data)}."
                )
            da = data.scores
        elif name in data.data:
            da = data.data[name]
        else:
            raise InvalidParameterError(
                f"The 'dset' parameter of {func} must be one of {valid}; got {dset!r}."
            )
    elif isinstance(data, xr.DataArray):
        if dset is not None:
            raise InvalidParameterError(
                f"{func}: 'dset' selects a step of a Result; it has no meaning for a panel."
            )
        da = data
    else:
        raise InvalidParameterError(
            f"{func} takes a panel (xarray.DataArray) or a Result; got {type(data).__name__}."
        )
    if "indicator" in da.dims:
        da = validate(da)
        return da.rename(indicator="node"), spec, "indicator"
    if "node" in da.dims and "unit" in da.dims:
        if not np.issubdtype(da.dtype, np.number):
            raise DataError(f"{func}: the scores hold non-numeric values (dtype {da.dtype}).")
        return da.astype(np.float64, copy=False), spec, "node"
    raise DataError(
        f"{func} needs a DataArray with dims 'unit' and 'indicator' (a panel) or 'unit' and "
        f"'node' (scores); got dims {da.dims}."
    )


def _levels_of(spec: IndexSpec | None) -> tuple[int, ...]:
    return spec.levels if spec is not None else (1,)


def _check_level(level: Any, spec: IndexSpec | None, *, param: str, func: str) -> int:
    valid = _levels_of(spec)
    if isinstance(level, bool) or not isinstance(level, int | np.integer) or level not in valid:
        extra = "" if spec is not None else " (levels above 1 need a spec or a Result)"
        raise InvalidParameterError(
            f"The {param!r} parameter of {func} must be one of {list(valid)}{extra}; got {level!r}."
        )
    return int(level)


def _codes_at(
    da: xr.DataArray,
    spec: IndexSpec | None,
    level: int,
    codes: Sequence[str] | str | None,
    *,
    func: str,
) -> list[str]:
    """Codes at ``level`` to analyse: all of them, or those given (aggregate codes stand for
    their descendants at ``level``), checked against the data."""
    available = [str(c) for c in da["node"].values]
    have = set(available)
    if isinstance(codes, str):
        codes = [codes]
    if spec is None:
        out = available if codes is None else [str(c) for c in codes]
        unknown = [c for c in out if c not in have]
        if unknown:
            raise InvalidParameterError(
                f"{func}: codes {unknown} are not in the data; available: {available}."
            )
        return out
    if codes is None:
        out = list(spec.level_codes(level))
    else:
        out = []
        for c in codes:
            if c not in spec:
                raise InvalidParameterError(
                    f"{func}: code {c!r} is not in the specification; codes are {list(spec.codes)}."
                )
            lvl = spec.node(c).level
            if lvl is None:
                raise InvalidParameterError(
                    f"{func}: {c!r} is a {spec.node(c).kind}, not a node of the index tree."
                )
            if lvl == level:
                out.append(c)
            elif lvl > level:
                out.extend(spec.descendants(c, level))
            else:
                raise InvalidParameterError(
                    f"{func}: code {c!r} is at level {lvl}, below the requested level {level}."
                )
        out = list(dict.fromkeys(out))
    missing = [c for c in out if c not in have]
    if missing:
        hint = " Aggregates exist only in a Result's scores (dset='scores')." if level > 1 else ""
        raise DataError(f"{func}: {missing} are not in the data.{hint}")
    return out


def _lead_dims(da: xr.DataArray) -> list[str]:
    return [str(d) for d in da.dims if d not in ("unit", "node")]


def _select(da: xr.DataArray, codes: list[str], name: str) -> xr.DataArray:
    if [str(c) for c in da["node"].values] != codes:  # (no copy when all, in order)
        da = da.sel(node=codes)
    out = da.reset_coords(drop=True)
    return out.rename(node=name).transpose(..., "unit", name)


def _directions(da: xr.DataArray, spec: IndexSpec | None, dim: str, func: str) -> xr.DataArray:
    if spec is None:
        raise InvalidParameterError(f"{func}: use_directions=True needs a spec (or a Result).")
    dirs = spec.directions
    d = xr.DataArray(
        [float(dirs.get(str(c), 1)) for c in da[dim].values], dims=(dim,), coords={dim: da[dim]}
    )
    return da * d


# ---------------------------------------------------------------------- describe
_STAT_COLUMNS = (
    "Min", "Max", "Mean", "Median", "Std", "Skew", "Kurt", "N.Avail", "N.NonZero", "N.Unique",
    "N.Same", "Frc.Avail", "Frc.NonZero", "Frc.Unique", "Frc.Same", "Flag.Avail",
    "Flag.NonZero", "Flag.Unique", "Flag.SkewKurt",
)  # fmt: skip


def describe(
    data: Data,
    *,
    spec: IndexSpec | None = None,
    dset: str | None = None,
    t_skew: float = 2.0,
    t_kurt: float = 3.5,
    t_avail: float = 0.65,
    t_zero: float = 0.5,
    t_unq: float = 0.5,
    round_signif: int | None = None,
) -> pd.DataFrame:
    """Descriptive statistics and data-quality flags per indicator (and per year).

    COINr's ``get_stats``: for each indicator the statistics over units, each year (and
    each value of any other leading dim) on its own.

    Parameters
    ----------
    data : xarray.DataArray or Result
        A panel (``unit``, ``indicator``, optionally ``time``...), scores with a ``node``
        dim, or a Result (see ``dset``).
    spec : IndexSpec, optional
        Restrict to (and order by) the tree nodes of this spec found in the data.
    dset : str, optional
        For a Result: which data, ``"raw"`` (default), any step name, or ``"scores"``.
    t_skew, t_kurt : float, default 2, 3.5
        Flag ``"OUT"`` when ``|skew| > t_skew`` **and** ``kurt > t_kurt``.
    t_avail : float, default 0.65
        Flag ``"LOW"`` when the share of available values is below this.
    t_zero : float, default 0.5
        Flag ``"LOW"`` when non-zero values / **number of units** is below this.
    t_unq : float, default 0.5
        Flag ``"LOW"`` when distinct values / **number of units** is below this.
    round_signif : int, optional
        Round every numeric column to this many significant digits, exactly as R's
        ``signif`` (COINr's default output uses 3).

    Returns
    -------
    pandas.DataFrame
        One row per indicator (index ``indicator``; ``(time, indicator)`` and any other
        leading dims first on panels), with COINr's columns ``Min, Max, Mean, Median, Std,
        Skew, Kurt, N.Avail, N.NonZero, N.Unique, N.Same, Frc.Avail, Frc.NonZero,
        Frc.Unique, Frc.Same, Flag.Avail, Flag.NonZero, Flag.Unique, Flag.SkewKurt``.
        ``Std`` is the sample sd; ``Skew``/``Kurt`` the type-2 (excess) estimators;
        ``N.Same`` the count of the most frequent value; ``Frc.*`` are shares of the
        *available* values except ``Frc.Avail`` (of all units). Flags are ``"ok"``,
        ``"LOW"``, ``"OUT"``, or missing where R's logic gives ``NA`` (undefined skew or
        kurtosis).

    Raises
    ------
    InvalidParameterError
        Thresholds that are not numbers, unknown ``dset``.

    Examples
    --------
    >>> import brics_ecom as be
    >>> panel, spec = be.datasets.load_asem()
    >>> st = describe(panel)
    >>> int(st.loc[(2018, "Flights"), "N.Avail"]), st.loc[(2018, "Flights"), "Flag.SkewKurt"]
    (51, 'OUT')
    >>> describe(panel, round_signif=3).loc[(2018, "LPI"), "Mean"]
    np.float64(3.41)
    """
    func = "describe"
    for name, value in (
        ("t_skew", t_skew), ("t_kurt", t_kurt), ("t_avail", t_avail), ("t_zero", t_zero),
        ("t_unq", t_unq),
    ):  # fmt: skip
        check_number(value, param=name, func=func)
    if round_signif is not None:
        check_number(round_signif, param="round_signif", func=func, low=1, integer=True)
    da, spec, dim = _as_nodes(data, spec, dset, func=func, default_dset="raw")
    if spec is not None:
        keep = [c for c in map(str, da["node"].values) if c in spec and spec.node(c).level]
        order = [c for c in spec.codes if c in set(keep)]
        if not order:
            raise SpecError(f"{func}: none of the spec's indicators are in the data.")
        da = da.sel(node=order)
    da = da.reset_coords(drop=True).transpose(..., "node", "unit")
    lead = [str(d) for d in da.dims[:-2]]
    st = _ks.column_stats(np.asarray(da.values), axis=-1)
    n, avail = st["n"], st["n_avail"]
    with np.errstate(invalid="ignore", divide="ignore"):
        frc_avail = avail / n
        frc_nonzero = st["n_nonzero"] / avail
        frc_unique = st["n_unique"] / avail
        frc_same = st["n_same"] / avail
        share_nonzero = st["n_nonzero"] / n
        share_unique = st["n_unique"] / n
    sk, ku = st["skew"], st["kurt"]
    a = np.abs(sk) > t_skew
    b = ku > t_kurt
    a_na, b_na = np.isnan(sk), np.isnan(ku)
    # R's three-valued `&`: NA & FALSE is FALSE, NA & TRUE (or NA) is NA
    out_na = (a_na & (b_na | b)) | (b_na & (a_na | a))
    flag_sk = np.where(a & b & ~a_na & ~b_na, "OUT", "ok").astype(object)
    flag_sk[out_na] = None
    numeric = {
        "Min": st["min"], "Max": st["max"], "Mean": st["mean"], "Median": st["median"],
        "Std": st["sd"], "Skew": sk, "Kurt": ku, "N.Avail": avail,
        "N.NonZero": st["n_nonzero"], "N.Unique": st["n_unique"], "N.Same": st["n_same"],
        "Frc.Avail": frc_avail, "Frc.NonZero": frc_nonzero, "Frc.Unique": frc_unique,
        "Frc.Same": frc_same,
    }  # fmt: skip
    flags = {
        "Flag.Avail": np.where(frc_avail >= t_avail, "ok", "LOW"),
        "Flag.NonZero": np.where(share_nonzero >= t_zero, "ok", "LOW"),
        "Flag.Unique": np.where(share_unique >= t_unq, "ok", "LOW"),
        "Flag.SkewKurt": flag_sk,
    }
    index = pd.MultiIndex.from_product(
        [pd.Index(da[d].values, name=d) for d in lead] + [pd.Index(da["node"].values, name=dim)]
    )
    cols: dict[str, Any] = {}
    for k, v in numeric.items():
        v = v.reshape(-1)
        if round_signif is not None:
            cols[k] = _ks.signif_r(v, int(round_signif))
        elif k.startswith("N."):
            cols[k] = v.astype(np.int64)
        else:
            cols[k] = v
    for k, v in flags.items():
        cols[k] = v.reshape(-1)
    df = pd.DataFrame({k: np.asarray(v) for k, v in cols.items()}, index=index)
    if len(lead) == 0:
        df.index = df.index.get_level_values(0)
    return df[list(_STAT_COLUMNS)]


# ---------------------------------------------------------------------- correlations
def _corr_kernel(
    x: np.ndarray,
    y: np.ndarray,
    *,
    method: str,
    same: bool,
    pval: float | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Correlation matrix of the columns of ``x`` (…, n, p) with those of ``y`` (…, n, q),
    p-value mask applied; and the pairwise counts."""
    yy = None if same else y
    if method == "pearson":
        r, n = _ks.pairwise_pearson(x, yy)
    elif method == "spearman":
        r, n = _ks.pairwise_spearman(x, yy)
    else:
        r, n = _ks.pairwise_kendall(x, yy)
    if pval is not None:
        if method == "kendall":
            p = _ks.kendall_pvalues(x, yy)
        else:
            p = _ks.correlation_pvalues(r, n, method)
        if same:  # R's get_pvals sets the diagonal to 0: never masked
            d = np.einsum("...ii->...i", p)
            d[...] = 0.0
        r = np.where((p > pval) | np.isnan(p), np.nan, r)
    return r, n


def _pairwise(
    x: xr.DataArray,
    y: xr.DataArray,
    *,
    method: str,
    same: bool,
    pval: float | None,
    dims: tuple[str, str],
) -> tuple[xr.DataArray, xr.DataArray]:
    """Run :func:`_corr_kernel` through ``apply_ufunc`` (lazy on dask)."""
    d1, d2 = dims
    x = single_chunk(x, ("unit", d1))
    y = single_chunk(y, ("unit", d2))
    r, n = xr.apply_ufunc(
        _corr_kernel,
        x,
        y,
        input_core_dims=[["unit", d1], ["unit", d2]],
        output_core_dims=[[d1, d2], [d1, d2]],
        kwargs={"method": method, "same": same, "pval": pval},
        dask="parallelized",
        output_dtypes=[np.float64, np.float64],
    )
    return r, n


def _check_enough(
    n: xr.DataArray, keep: np.ndarray | None, dims: tuple[str, str], func: str
) -> None:
    """Raise if a reported pair has fewer than 2 units with data for both variables."""
    if is_lazy(n):
        return  # checked lazily would force a compute; dask users get NaN
    bad = (n < 2).values
    if keep is not None:
        bad = bad & np.broadcast_to(keep, bad.shape)
    if not bad.any():
        return
    first = np.argwhere(bad)[0]
    where = {str(d): _plain(n[d].values[i]) for d, i in zip(n.dims, first, strict=True)}
    a, b = where.pop(dims[0]), where.pop(dims[1])
    count = int(n.values[tuple(first)])
    at = f" at {where}" if where else ""
    raise DataError(
        f"Only {count} unit(s) have data for both {a!r} and {b!r}{at}; a correlation needs at "
        f"least 2 ({int(bad.sum())} matrix entries affected). Drop the indicator or the year, or "
        "impute first."
    )


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _warn_constant(x: xr.DataArray, dim: str, func: str) -> None:
    if is_lazy(x):
        return
    v = np.asarray(x.values)
    with np.errstate(invalid="ignore"):  # fmax/fmin skip NaN without copies
        const = np.fmax.reduce(v, axis=-2) == np.fmin.reduce(v, axis=-2)
    if const.any():  # a single value is not "constant": it is reported as too few units
        const &= (~np.isnan(v)).sum(axis=-2) >= 2
    if const.any():
        axis_codes = x[dim].values
        hit = const.reshape(-1, const.shape[-1]).any(axis=0)
        report_dropped(
            f"{func}: {[str(c) for c in axis_codes[hit]]} are constant over the units (in some "
            "year); their correlations are NaN.",
            stacklevel=4,
        )


def _long(r: xr.DataArray, lead: list[str], dims: tuple[str, str]) -> pd.DataFrame:
    """Long table with ``dims[0]`` varying fastest (COINr's order)."""
    d1, d2 = dims
    s = r.reset_coords(drop=True).transpose(*lead, d2, d1).to_series()
    df = s.rename("correlation").reset_index()
    return df[[*lead, d1, d2, "correlation"]]


def _parse_levels(levels: Any, spec: IndexSpec | None, func: str) -> tuple[int, int]:
    if isinstance(levels, int | np.integer) and not isinstance(levels, bool):
        lv = (levels, levels)
    elif isinstance(levels, Sequence) and not isinstance(levels, str) and len(levels) == 2:
        lv = (levels[0], levels[1])
    else:
        raise InvalidParameterError(
            f"The 'levels' parameter of {func} must be a level or a pair of levels from "
            f"{list(_levels_of(spec))}; got {levels!r}."
        )
    return (
        _check_level(lv[0], spec, param="levels", func=func),
        _check_level(lv[1], spec, param="levels", func=func),
    )


def correlations(
    data: Data,
    *,
    spec: IndexSpec | None = None,
    levels: int | tuple[int, int] = 1,
    codes: Sequence[str] | tuple[Sequence[str], Sequence[str]] | str | None = None,
    method: str = "pearson",
    within: int | None = None,
    with_parent: bool | Literal["family"] = False,
    pval: float | None = None,
    use_directions: bool = False,
    form: str = "matrix",
    dset: str | None = None,
) -> xr.DataArray | pd.DataFrame:
    """Correlations between indicators and/or aggregates, per year (COINr's ``get_corr``).

    Each pair of variables uses the units where both are present (pairwise-complete
    observations); each year, draw or scenario is computed on its own.

    Parameters
    ----------
    data : xarray.DataArray or Result
        A panel (indicators only), scores with a ``node`` dim, or a Result.
    spec : IndexSpec, optional
        The tree (a Result brings its own); needed for levels above 1, ``within``,
        ``with_parent`` and ``use_directions``.
    levels : int or (int, int), default 1
        Level of the first and second set of variables (1 = indicators). One level
        correlates that level with itself.
    codes : str, sequence of str, or a pair of them, optional
        Restrict the variables; an aggregate code stands for its descendants at the
        requested level (``codes="Conn"`` with level 1: the indicators of ``Conn``). A
        tuple of two entries of which at least one is a list, such as
        ``(["Conn"], ["Sust"])``, restricts the first and the second set separately.
    method : {"pearson", "spearman", "kendall"}
        Pearson; Spearman (the shared units of each pair re-ranked, ties averaged);
        Kendall's tau-b.
    within : int, optional
        Keep only pairs whose members share their ancestor at this level (higher than
        ``levels``); adds a ``group`` column to the long form.
    with_parent : bool or "family", default False
        ``True`` (two different levels): keep only pairs where one variable is the
        ancestor of the other. ``"family"`` (one level): each variable with its parent,
        grandparent, ... up to the index.
    pval : float, optional
        Significance mask: correlations with a two-sided p-value above ``pval`` become NaN
        (COINr's default is 0.05; ``None`` or 0 switch it off). Pearson: the t test of
        ``cor.test``; Spearman: its t approximation; Kendall: exact below 50 units without
        ties, normal approximation otherwise.
    use_directions : bool, default False
        Multiply each variable by its direction first (negative indicators flipped).
    form : {"matrix", "long"}, default "matrix"
        ``matrix``: a DataArray with dims ``(..., var1, var2)`` (pairs removed by
        ``within``/``with_parent`` are NaN). ``long``: a DataFrame with columns
        ``[time, ...], var1, var2, correlation`` (and ``group``), ``var1`` varying fastest
        as in COINr; removed pairs are dropped, masked ones kept as NaN. With
        ``"family"``: dims ``(..., var1, level)`` (coordinate ``ancestor``), or columns
        ``var1, level, var2, correlation``.
    dset : str, optional
        For a Result: ``"scores"`` (default: normalised indicators and aggregates) or a
        step name such as ``"raw"``.

    Returns
    -------
    xarray.DataArray or pandas.DataFrame

    Raises
    ------
    InvalidParameterError
        Unknown method, form, level or code; options needing a spec without one.
    DataError
        Fewer than 2 units with data for a reported pair (naming it and the year; on
        dask-backed data such pairs are NaN instead, to stay lazy).

    Notes
    -----
    A variable constant over the shared units gives NaN (R: ``NA`` with a warning); a
    :class:`~brics_ecom.errors.DataWarning` names such variables.

    Examples
    --------
    >>> import brics_ecom as be
    >>> panel, spec = be.datasets.load_asem()
    >>> res = be.Pipeline.coinr_example(spec).run(panel)
    >>> r = correlations(res, codes="P2P")
    >>> r.dims, round(float(r.sel(time=2018, var1="StMob", var2="MigStock")), 4)
    (('time', 'var1', 'var2'), 0.6753)
    >>> fam = correlations(res, with_parent="family", form="long")
    >>> fam.query("var1 == 'LPI'")[["level", "var2"]].values.tolist()
    [[2, 'Physical'], [3, 'Conn'], [4, 'Index']]
    """
    func = "correlations"
    check_choice(method, CORRELATION_METHODS, param="method", func=func)
    check_choice(form, _FORMS, param="form", func=func)
    if not (with_parent is True or with_parent is False or with_parent == "family"):
        raise InvalidParameterError(
            f"The 'with_parent' parameter of {func} must be True, False or 'family'; got "
            f"{with_parent!r}."
        )
    if pval is not None:
        check_number(pval, param="pval", func=func, low=0, high=1)
        pval = None if pval == 0 else float(pval)
    da, spec, _ = _as_nodes(data, spec, dset, func=func, default_dset="scores")
    if (within is not None or with_parent is not False) and spec is None:
        raise InvalidParameterError(
            f"{func}: 'within' and 'with_parent' follow the index tree; pass spec= (or a Result)."
        )
    lv = _parse_levels(levels, spec, func)
    if isinstance(codes, tuple) and len(codes) == 2 and any(not isinstance(c, str) for c in codes):
        codes1, codes2 = codes[0], codes[1]
    else:
        codes1 = codes2 = codes  # type: ignore[assignment]
    lead = _lead_dims(da)
    if with_parent == "family":
        return _family(da, spec, lv, codes1, method, pval, use_directions, form, lead)
    if within is not None:
        assert spec is not None
        valid = [lvl for lvl in spec.levels if lvl > max(lv)]
        if within not in valid:
            raise InvalidParameterError(
                f"The 'within' parameter of {func} must be one of {valid} (a level above the "
                f"variables'); got {within!r}."
            )
    if with_parent is True and lv[0] == lv[1]:
        raise InvalidParameterError(
            f"{func}: with_parent=True pairs variables with their ancestors, so 'levels' must "
            f"name two different levels; got {levels!r}."
        )
    c1 = _codes_at(da, spec, lv[0], codes1, func=func)
    c2 = _codes_at(da, spec, lv[1], codes2, func=func)
    dims = ("var1", "var2")
    same = c1 == c2
    x = _select(da, c1, "var1")
    if use_directions:
        x = _directions(x, spec, "var1", func)
    if same:
        y = x.rename(var1="var2")
    else:
        y = _select(da, c2, "var2")
        if use_directions:
            y = _directions(y, spec, "var2", func)
    keep: np.ndarray | None = None
    group1: list[Any] | None = None
    if within is not None:
        assert spec is not None
        group1 = [spec.ancestor(c, within) for c in c1]
        group2 = [spec.ancestor(c, within) for c in c2]
        keep = np.array([[g1 == g2 for g2 in group2] for g1 in group1])
    elif with_parent is True:
        assert spec is not None
        if lv[0] < lv[1]:
            keep = np.array([[spec.ancestor(a, lv[1]) == b for b in c2] for a in c1])
        else:
            keep = np.array([[spec.ancestor(b, lv[0]) == a for b in c2] for a in c1])
    _warn_constant(x, "var1", func)
    if not same:
        _warn_constant(y, "var2", func)
    r, n = _pairwise(x, y, method=method, same=same, pval=pval, dims=dims)
    _check_enough(n, keep, dims, func)
    r = r.assign_coords(var1=c1, var2=c2)
    r.name = "correlation"
    r.attrs = {"method": method, "pval": pval, "levels": lv}
    if form == "matrix":
        if keep is not None:
            r = r.where(xr.DataArray(keep, dims=dims, coords={"var1": c1, "var2": c2}))
        return r.transpose(*lead, *dims)
    df = _long(r, lead, dims)
    if keep is not None:
        pos1 = {c: i for i, c in enumerate(c1)}
        pos2 = {c: j for j, c in enumerate(c2)}
        mask = keep[df["var1"].map(pos1).to_numpy(), df["var2"].map(pos2).to_numpy()]
        df = df[mask].reset_index(drop=True)
        if group1 is not None:
            gmap = dict(zip(c1, group1, strict=True))
            df.insert(len(lead), "group", df["var1"].map(gmap))
    return df


def _family(
    da: xr.DataArray,
    spec: IndexSpec | None,
    lv: tuple[int, int],
    codes: Any,
    method: str,
    pval: float | None,
    use_directions: bool,
    form: str,
    lead: list[str],
) -> xr.DataArray | pd.DataFrame:
    func = "correlations"
    assert spec is not None
    if lv[0] != lv[1]:
        raise InvalidParameterError(
            f"{func}: with_parent='family' takes one level (the variables'); got levels {lv}."
        )
    level = lv[0]
    above = [lvl for lvl in spec.levels if lvl > level]
    if not above:
        raise InvalidParameterError(
            f"{func}: with_parent='family' needs a level below the top; level {level} is the "
            "index itself."
        )
    c1 = _codes_at(da, spec, level, codes, func=func)
    x = _select(da, c1, "var1")
    if use_directions:
        x = _directions(x, spec, "var1", func)
    _warn_constant(x, "var1", func)
    parts = []
    ancestors = []
    for lvl in above:
        anc = [spec.ancestor(c, lvl) for c in c1]
        targets = list(dict.fromkeys(a for a in anc if a is not None))
        c2 = _codes_at(da, spec, lvl, targets, func=func)
        y = _select(da, c2, "var2")
        r, n = _pairwise(x, y, method=method, same=False, pval=pval, dims=("var1", "var2"))
        keep = np.array([[a == b for b in c2] for a in anc])
        _check_enough(n, keep, ("var1", "var2"), func)
        idx = xr.DataArray([c2.index(a) for a in anc], dims=("var1",))  # type: ignore[arg-type]
        parts.append(r.isel(var2=idx).drop_vars("var2", errors="ignore"))
        ancestors.append(anc)
    out = xr.concat(parts, dim=pd.Index(above, name="level")).assign_coords(var1=c1)
    out = out.assign_coords(
        ancestor=(("level", "var1"), np.array(ancestors, dtype=object))
    ).transpose(*lead, "var1", "level")
    out.name = "correlation"
    out.attrs = {"method": method, "pval": pval, "levels": lv}
    if form == "matrix":
        return out
    df = (
        out.reset_coords("ancestor")
        .transpose(*lead, "level", "var1")
        .to_dataframe()
        .reset_index()
        .rename(columns={"ancestor": "var2"})
    )
    return df[[*lead, "var1", "level", "var2", "correlation"]]


def correlation_flags(
    data: Data,
    *,
    spec: IndexSpec | None = None,
    high: float | None = 0.9,
    low: float | None = -0.4,
    within: int | None = 2,
    level: int = 1,
    method: str = "pearson",
    dset: str | None = None,
) -> pd.DataFrame:
    """Pairs of variables in the same group that are too strongly or negatively correlated.

    COINr's ``get_corr_flags``: very high correlations within a group suggest double
    counting (collinearity); negative ones, indicators pulling the aggregate in opposite
    directions.

    Parameters
    ----------
    data : xarray.DataArray or Result
        As for :func:`correlations` (a Result's ``"scores"`` by default).
    spec : IndexSpec, optional
        The tree (needed for ``within``; a Result brings its own).
    high : float or None, default 0.9
        Flag ``"high"`` where the correlation is above this (strictly).
    low : float or None, default -0.4
        Flag ``"low"`` where the correlation is below this (strictly).
    within : int or None, default 2
        Only pairs sharing their ancestor at this level; ``None``: every pair.
    level : int, default 1
        Level of the variables compared.
    method : {"pearson", "spearman", "kendall"}
        Correlation type.
    dset : str, optional
        For a Result: ``"scores"`` (default) or a step name.

    Returns
    -------
    pandas.DataFrame
        Columns ``[time, ...], group, var1, var2, correlation, flag``; each unordered pair
        once (``var1`` before ``var2`` in the tree's order), unrounded.

    Examples
    --------
    >>> import brics_ecom as be
    >>> panel, spec = be.datasets.load_asem()
    >>> res = be.Pipeline.coinr_example(spec).run(panel)
    >>> flags = correlation_flags(res, high=0.75, low=-0.7)
    >>> flags[["group", "var1", "var2", "flag"]].values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [['Instit', 'TBTs', 'RTAs', 'low'], ['Social', 'FreePress', 'CPI', 'high'],
     ['Social', 'NGOs', 'CPI', 'high']]
    """
    func = "correlation_flags"
    if high is None and low is None:
        raise InvalidParameterError(f"{func}: give at least one of 'high' and 'low'.")
    for name, value in (("high", high), ("low", low)):
        if value is not None:
            check_number(value, param=name, func=func, low=-1, high=1)
    df = correlations(
        data, spec=spec, levels=level, method=method, within=within, form="long", dset=dset
    )
    assert isinstance(df, pd.DataFrame)
    order = {c: i for i, c in enumerate(dict.fromkeys(df["var1"]))}
    df = df[df["var1"].map(order) < df["var2"].map(order)]
    flag = pd.Series(pd.NA, index=df.index, dtype=object)
    if high is not None:
        flag[df["correlation"] > high] = "high"
    if low is not None:
        flag[df["correlation"] < low] = "low"
    df = df.assign(flag=flag)
    df = df[df["flag"].notna()].reset_index(drop=True)
    if "group" not in df.columns:
        lead = [c for c in df.columns if c not in ("var1", "var2", "correlation", "flag")]
        df.insert(len(lead), "group", pd.Series([None] * len(df), dtype=object))
    df["flag"] = df["flag"].astype(str)
    return df


def denominator_correlations(
    data: Data,
    *,
    spec: IndexSpec | None = None,
    method: str = "pearson",
    threshold: float | None = None,
    form: str = "long",
    dset: str | None = None,
) -> xr.DataArray | pd.DataFrame:
    """Correlations of each indicator with each denominator (COINr's ``get_denom_corr``).

    A strong correlation with population or GDP suggests the indicator measures size and
    may need dividing by that denominator.

    Parameters
    ----------
    data : xarray.DataArray or Result
        A panel carrying ``attrs["denominators"]`` (dims ``unit``, ``time``,
        ``denominator``), or a Result (its raw panel's denominators).
    spec : IndexSpec, optional
        Restrict to the spec's indicators (a Result brings its own).
    method : {"pearson", "spearman", "kendall"}
        Correlation type.
    threshold : float, optional
        Keep only pairs with ``|r| > threshold`` (long form; COINr's default is 0.6).
    form : {"long", "matrix"}, default "long"
        DataFrame ``[time, ...], indicator, denominator, correlation``, or a DataArray with
        dims ``(..., indicator, denominator)``.
    dset : str, optional
        For a Result: the step whose indicators are used (default ``"raw"``).

    Returns
    -------
    pandas.DataFrame or xarray.DataArray

    Raises
    ------
    DataError
        No denominators on the data.

    Examples
    --------
    >>> import brics_ecom as be
    >>> panel, spec = be.datasets.load_asem()
    >>> d = denominator_correlations(panel, threshold=0.8)
    >>> d[["indicator", "denominator"]].values.tolist()
    [['Goods', 'GDP'], ['FDI', 'GDP'], ['StMob', 'GDP'], ['CultGood', 'GDP']]
    """
    func = "denominator_correlations"
    check_choice(method, CORRELATION_METHODS, param="method", func=func)
    check_choice(form, _FORMS, param="form", func=func)
    if threshold is not None:
        check_number(threshold, param="threshold", func=func, low=0, high=1)
    da, spec, _ = _as_nodes(data, spec, dset, func=func, default_dset="raw")
    denoms = None
    if isinstance(data, Result):
        source = data.data.get("raw" if dset is None else dset)
        if source is not None:
            denoms = get_denominators(source)
        if denoms is None and "raw" in data.data:
            denoms = get_denominators(data.data["raw"])
    else:
        denoms = get_denominators(data)
    if denoms is None:
        raise DataError(
            f"{func}: the data carry no denominators (panel.attrs['denominators']); attach "
            "them with brics_ecom.panel.with_denominators."
        )
    codes = [str(c) for c in da["node"].values]
    if spec is not None:
        codes = [c for c in spec.indicators if c in set(codes)]
    x = _select(da, codes, "indicator")
    den = denoms.reset_coords(drop=True)
    align = {d: x[d] for d in den.dims if d in x.dims and d != "denominator"}
    den = den.reindex(align).transpose(..., "unit", "denominator")
    dims = ("indicator", "denominator")
    _warn_constant(x, "indicator", func)
    r, n = _pairwise(x, den, method=method, same=False, pval=None, dims=dims)
    _check_enough(n, None, dims, func)
    r = r.assign_coords(indicator=codes, denominator=den["denominator"].values)
    r.name = "correlation"
    lead = [str(d) for d in r.dims if d not in dims]
    if form == "matrix":
        return r.transpose(*lead, *dims)
    df = (
        r.reset_coords(drop=True)
        .transpose(*lead, *dims)
        .to_series()
        .rename("correlation")
        .reset_index()
    )
    df = df[df["correlation"].notna()]
    if threshold is not None:
        df = df[df["correlation"].abs() > threshold]
    return df.reset_index(drop=True)


# ---------------------------------------------------------------------- Cronbach
def cronbach_alpha(
    data: Data,
    spec: IndexSpec | None = None,
    *,
    level: int | Sequence[int] | None = 2,
    data_level: int = 1,
    dset: str | None = None,
) -> xr.DataArray:
    """Cronbach's alpha of each aggregate's components (COINr's ``get_cronbach``).

    For the ``k`` descendants at ``data_level`` of an aggregate, with the covariance
    matrix :math:`C` over pairwise-complete observations,
    :math:`\\alpha = \\frac{k}{k-1}\\bigl(1 - \\sum_i C_{ii} / \\sum_{ij} C_{ij}\\bigr)`
    (Cronbach, 1951).

    Parameters
    ----------
    data : xarray.DataArray or Result
        Panel, scores or Result (see ``dset``).
    spec : IndexSpec, optional
        The tree (a Result brings its own).
    level : int, sequence of int or None, default 2
        Level(s) of the aggregates whose alpha is computed; ``None``: every level above
        ``data_level``.
    data_level : int, default 1
        Level of the components used (1 = indicators; 2 = pillar scores, ...).
    dset : str, optional
        For a Result: ``"scores"`` (default) or a step name such as ``"raw"``.

    Returns
    -------
    xarray.DataArray
        Named ``alpha``, dims ``(..., node)`` with a ``level`` coordinate on ``node``; NaN
        for an aggregate with a single component.

    Examples
    --------
    >>> import brics_ecom as be
    >>> panel, spec = be.datasets.load_asem()
    >>> res = be.Pipeline.coinr_example(spec).run(panel)
    >>> a = cronbach_alpha(res, level=3, data_level=2)
    >>> [round(float(v), 4) for v in a.sel(time=2018).values]
    [0.7827, -0.2898]
    """
    func = "cronbach_alpha"
    da, spec, _ = _as_nodes(data, spec, dset, func=func, default_dset="scores")
    if spec is None:
        raise InvalidParameterError(f"{func} needs the index tree: pass spec= (or a Result).")
    data_level = _check_level(data_level, spec, param="data_level", func=func)
    valid = [lvl for lvl in spec.levels if lvl > data_level]
    if level is None:
        wanted = valid
    else:
        wanted = [level] if isinstance(level, int | np.integer) else list(level)
        bad = [lvl for lvl in wanted if lvl not in valid]
        if bad or not wanted:
            raise InvalidParameterError(
                f"The 'level' parameter of {func} must be in {valid} (above data_level="
                f"{data_level}); got {level!r}."
            )
    groups = [c for lvl in wanted for c in spec.level_codes(int(lvl))]
    lead = _lead_dims(da)
    values = []
    for g in groups:
        kids = _codes_at(da, spec, data_level, [g], func=func)
        x = _select(da, kids, "var")
        cov = xr.apply_ufunc(
            lambda a: _ks.cronbach_alpha_cov(_ks.pairwise_cov(a)[0]),
            single_chunk(x, ("unit", "var")),
            input_core_dims=[["unit", "var"]],
            dask="parallelized",
            output_dtypes=[np.float64],
        )
        values.append(cov)
    out = xr.concat(values, dim=pd.Index(groups, name="node")).transpose(*lead, "node")
    out = out.assign_coords(level=("node", [spec.node(g).level for g in groups]))
    out.name = "alpha"
    out.attrs = {"data_level": data_level}
    return out


# ---------------------------------------------------------------------- what-if
@dataclass(frozen=True)
class RemovalResult:
    """Outcome of :func:`remove_elements`.

    Attributes
    ----------
    node : str
        The node whose scores and ranks are compared (the index by default).
    nominal_scores, nominal_ranks : xarray.DataArray
        Scores and ranks of ``node`` in the original result (dims ``unit``, ``time``, ...).
    scores, ranks : xarray.DataArray
        The same with each element removed in turn: an extra ``removed`` dim.
    rank_diff : xarray.DataArray
        ``nominal rank − rank`` (positive: the unit moves up when the element goes).
    abs_rank_diff : xarray.DataArray
        Absolute rank changes.
    mean_abs_rank_diff : xarray.DataArray
        Mean over units of ``abs_rank_diff`` (COINr's ``MeanAbsDiff``), dims
        ``(..., removed)``; NaN if a unit has no rank.
    """

    node: str
    nominal_scores: xr.DataArray
    nominal_ranks: xr.DataArray
    scores: xr.DataArray
    ranks: xr.DataArray
    rank_diff: xr.DataArray
    abs_rank_diff: xr.DataArray
    mean_abs_rank_diff: xr.DataArray

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: ``[time, ...], removed, mean_abs_rank_diff``.

        Examples
        --------
        >>> import brics_ecom as be
        >>> panel, spec = be.datasets.load_asem()
        >>> res = be.Pipeline.coinr_example(spec).run(panel)
        >>> remove_elements(res, 3).to_frame().columns.tolist()
        ['time', 'removed', 'mean_abs_rank_diff']
        """
        m = self.mean_abs_rank_diff.reset_coords(drop=True)
        lead = [str(d) for d in m.dims if d != "removed"]
        df = m.transpose(*lead, "removed").to_series().rename("mean_abs_rank_diff")
        return df.reset_index()


def remove_elements(
    result: Result,
    level: int,
    *,
    node: str | None = None,
    how: str = "zero_weight",
) -> RemovalResult:
    """Remove each component of a level in turn and measure how the ranks move.

    COINr's ``remove_elements``: for every indicator (``level=1``) or aggregate of
    ``level``, the result is re-aggregated without it and the ranks of ``node`` are
    compared with the nominal ones; the mean absolute rank change is a measure of the
    element's influence. Only the aggregation is re-run (``Pipeline.run(result,
    from_step="aggregate")``), once for all elements: the weight sets form a ``removed``
    dim.

    Parameters
    ----------
    result : Result
        A result whose pipeline aggregates (and that kept the step before aggregation).
    level : int
        Level of the elements removed (1 to the top level − 1).
    node : str, optional
        Node whose ranks are compared (default: the index).
    how : {"zero_weight", "drop"}, default "zero_weight"
        ``zero_weight`` (COINr): set the element's weight to 0, with the pipeline's own
        weights otherwise. ``drop``: remove the element (and aggregates left empty) from
        the tree; differs when ``dat_thresh`` counts children or an element is an only
        child.

    Returns
    -------
    RemovalResult

    Raises
    ------
    InvalidParameterError
        Not a Result, unknown level, node or ``how``; an element that is the only
        weighted child of its parent under ``how="zero_weight"``.

    Examples
    --------
    >>> import brics_ecom as be
    >>> panel, spec = be.datasets.load_asem()
    >>> res = be.Pipeline.coinr_example(spec).run(panel)
    >>> rem = remove_elements(res, 2)
    >>> rem.mean_abs_rank_diff.sel(time=2018).to_series().round(2).idxmax()
    'Social'
    """
    from .aggregate import node_weights

    func = "remove_elements"
    if not isinstance(result, Result):
        raise InvalidParameterError(
            f"{func} takes a Result (from Pipeline.run); got {type(result).__name__}."
        )
    check_choice(how, ("zero_weight", "drop"), param="how", func=func)
    if result.scores is None or result.ranks is None:
        raise InvalidParameterError(f"{func}: the result has no scores (nothing aggregated).")
    spec = result.spec
    valid = [lvl for lvl in spec.levels if lvl < spec.max_level]
    if isinstance(level, bool) or level not in valid:
        raise InvalidParameterError(
            f"The 'level' parameter of {func} must be one of {valid}; got {level!r}."
        )
    node = spec.root if node is None else node
    nodes = [str(c) for c in result.scores["node"].values]
    if node not in nodes:
        raise InvalidParameterError(
            f"The 'node' parameter of {func} must be a node of the scores ({nodes}); got {node!r}."
        )
    node_level = spec.node(node).level or 1
    if node_level <= level:
        raise InvalidParameterError(
            f"{func}: node {node!r} is at level {node_level}; it must be above the removed "
            f"level {level}."
        )
    pipeline = result.pipeline
    params = dict(pipeline.step("aggregate").params)
    elements = list(spec.level_codes(level))
    if how == "zero_weight":
        base = node_weights(spec, params.get("weights"))
        sets = []
        for e in elements:
            parent = spec.parent(e)
            assert parent is not None
            others = [c for c in spec.children(parent) if c != e]
            rest = base.sel(node=others).sum("node") if others else xr.DataArray(0.0)
            if bool((rest <= 0).any()):
                raise InvalidParameterError(
                    f"{func}: {e!r} is the only child of {parent!r} with a positive weight; "
                    "a zero weight leaves the parent undefined. Use how='drop'."
                )
            sets.append(base.where(base["node"] != e, 0.0))
        weights = xr.concat(sets, dim=pd.Index(elements, name="removed"))
        rerun = pipeline.set(aggregate__weights=weights).run(
            result, from_step="aggregate", keep=["aggregate"]
        )
        assert rerun.scores is not None
        scores = rerun.scores.sel(node=node)
    else:
        runs = []
        for e in elements:
            gone = set(spec.descendants(e, 1)) if level > 1 else {e}
            sub = spec.subset([c for c in spec.indicators if c not in gone])
            if node not in sub.codes:
                raise InvalidParameterError(
                    f"{func}: removing {e!r} removes {node!r} itself; choose a higher node."
                )
            new_params: dict[str, Any] = {"spec": sub}
            w = params.get("weights")
            if isinstance(w, dict):
                new_params["aggregate__weights"] = {k: v for k, v in w.items() if k in sub.codes}
            elif isinstance(w, xr.DataArray):
                new_params["aggregate__weights"] = w.sel(
                    node=[c for c in map(str, w["node"].values) if c in sub.codes]
                )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DataWarning)
                rr = pipeline.set(**new_params).run(
                    result, from_step="aggregate", keep=["aggregate"]
                )
            assert rr.scores is not None
            runs.append(rr.scores.sel(node=node))
        scores = xr.concat(runs, dim=pd.Index(elements, name="removed"))
    nominal = result.scores.sel(node=node)
    nominal_ranks = result.ranks.sel(node=node)
    lead = [d for d in nominal.dims if d != "unit"]
    scores = scores.transpose("unit", *lead, ...)
    ranks = rank_scores(scores)
    diff = nominal_ranks - ranks
    absdiff = abs(diff)
    mean = absdiff.mean("unit", skipna=False)
    for arr in (scores, ranks, diff, absdiff, mean):
        arr.attrs = {}
    return RemovalResult(
        node=node,
        nominal_scores=nominal,
        nominal_ranks=nominal_ranks,
        scores=scores.rename("score"),
        ranks=ranks.rename("rank"),
        rank_diff=diff.rename("rank_diff"),
        abs_rank_diff=absdiff.rename("abs_rank_diff"),
        mean_abs_rank_diff=mean.rename("mean_abs_rank_diff"),
    )


def _scores_of(obj: Any, node: str, which: str) -> tuple[xr.DataArray, xr.DataArray]:
    if isinstance(obj, Result):
        if obj.scores is None or obj.ranks is None:
            raise InvalidParameterError(f"compare: {which} has no scores (nothing aggregated).")
        scores, ranks = obj.scores, obj.ranks
    elif isinstance(obj, xr.DataArray) and "node" in obj.dims and "unit" in obj.dims:
        scores, ranks = obj, rank_scores(obj)
    else:
        raise InvalidParameterError(
            f"compare: {which} must be a Result or scores with dims 'unit' and 'node'; got "
            f"{type(obj).__name__}."
        )
    nodes = [str(c) for c in scores["node"].values]
    if node not in nodes:
        raise InvalidParameterError(
            f"The 'node' parameter of compare must be a node of both results; {node!r} is "
            f"not in {which} ({nodes})."
        )
    return (
        scores.sel(node=node).reset_coords(drop=True),
        ranks.sel(node=node).reset_coords(drop=True),
    )


def compare(result_a: Data, result_b: Data, *, node: str | None = None) -> pd.DataFrame:
    """Score and rank differences between two results, per unit (COINr's ``compare_coins``).

    Parameters
    ----------
    result_a, result_b : Result or xarray.DataArray
        Two results (or score arrays with dims ``unit`` and ``node``), e.g. before and
        after a methodological change.
    node : str, optional
        The node compared (default: the index of ``result_a``).

    Returns
    -------
    pandas.DataFrame
        Index ``unit`` (plus ``time`` and other dims), columns ``score_a, score_b,
        score_diff, rank_a, rank_b, rank_diff, abs_rank_diff``; differences are ``a − b``
        (COINr's ``Diff``). Units (or years) present in only one result are kept with
        NaN. Ranks are each result's own (1 = best).

    Examples
    --------
    >>> import brics_ecom as be
    >>> panel, spec = be.datasets.load_asem()
    >>> pipe = be.Pipeline.coinr_example(spec)
    >>> a = pipe.run(panel)
    >>> b = pipe.set(aggregate__method="geometric", normalise__lower=1).run(
    ...     a, from_step="normalise")
    >>> cmp = compare(a, b)
    >>> cmp.columns.tolist()[:3], int(cmp["abs_rank_diff"].max())
    (['score_a', 'score_b', 'score_diff'], 18)
    """
    if node is None:
        if isinstance(result_a, Result):
            node = result_a.spec.root
        else:
            raise InvalidParameterError("compare: give node= when comparing score arrays.")
    sa, ra = _scores_of(result_a, node, "result_a")
    sb, rb = _scores_of(result_b, node, "result_b")
    sa, sb, ra, rb = xr.align(sa, sb, ra, rb, join="outer")
    ds = xr.Dataset(
        {
            "score_a": sa,
            "score_b": sb,
            "score_diff": sa - sb,
            "rank_a": ra,
            "rank_b": rb,
            "rank_diff": ra - rb,
            "abs_rank_diff": abs(ra - rb),
        }
    )
    order: list[Hashable] = ["unit", *[d for d in sa.dims if d != "unit"]]
    return ds.transpose(*order).to_dataframe()[list(ds.data_vars)]
