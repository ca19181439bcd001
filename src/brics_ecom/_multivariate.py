"""Multivariate analysis and data-driven weights: PCA, factor analysis, KMO, Bartlett, VIF.

Every function works on a panel (``unit × [time ×] indicator``, any extra dims such as
``draw``) or on a pipeline :class:`~brics_ecom.results.Result`, optionally **per group**
of the index tree (``by=2``: one analysis per pillar) and always **per year** (and per
any other extra dim). Missing values are handled by complete cases within each group and
year, as COINr does (R's ``na.omit`` before ``stats::prcomp``). See
``docs/multivariate.md`` for the formulas, COINr equivalence and sign conventions.

Examples
--------
>>> import brics_ecom as be
>>> from brics_ecom._multivariate import pca
>>> panel, spec = be.datasets.load_asem()
>>> res = be.Pipeline.coinr_example(spec).run(panel)
>>> p = pca(res, by=2)
>>> round(float(p.prop_var.sel(time=2018, group="Political", component="PC1")), 4)
0.6269
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import xarray as xr

from ._apply import ordered
from ._kernels import multivariate as _mk
from ._validation import check_choice, check_number
from .errors import DataError, DataWarning, InvalidParameterError, SpecError
from .panel import validate
from .results import Result
from .spec import IndexSpec

__all__ = [
    "BartlettResult",
    "FactorResult",
    "FactorWeights",
    "KMOResult",
    "PCAResult",
    "bartlett_sphericity",
    "factor_analysis",
    "factor_weights",
    "kmo",
    "pca",
    "pca_weights",
    "vif",
]

Data = xr.DataArray | Result
ROTATIONS = (
    "varimax", "quartimax", "biquartimax", "equamax", "parsimax", "parsimony",
    "biquartimin", "oblimin", "promax",
)  # fmt: skip
FA_METHODS = ("pa", "ml", "pc")
SINGULAR_RTOL = 1e-12  # smallest/largest eigenvalue of R below this: singular


# ---------------------------------------------------------------------------- preparation
@dataclass(frozen=True)
class _Prepared:
    """Data ready for the kernels: ``values`` is a (*batch, unit, indicator) view of an
    indicator-major array (a copy: the caller's data are never written to)."""

    x: xr.DataArray
    values: np.ndarray
    codes: tuple[str, ...]
    groups: tuple[tuple[str, tuple[str, ...]], ...]
    spec: IndexSpec | None
    level: int
    batch_dims: tuple[Hashable, ...]

    @property
    def batch_shape(self) -> tuple[int, ...]:
        return tuple(self.x.sizes[d] for d in self.batch_dims)

    def positions(self, members: Sequence[str]) -> list[int]:
        index = {c: i for i, c in enumerate(self.codes)}
        return [index[c] for c in members]

    def where(self, idx: tuple[int, ...]) -> str:
        """`` in time=2018`` for the batch slice ``idx`` (empty without batch dims)."""
        if not self.batch_dims:
            return ""
        parts = []
        for d, i in zip(self.batch_dims, idx, strict=True):
            label = self.x[d].values[i] if d in self.x.coords else i
            label = label.item() if isinstance(label, np.generic) else label
            parts.append(f"{d}={label!r}")
        return " in " + ", ".join(parts)

    def batch_coords(self) -> dict[Hashable, Any]:
        # pandas indexes are taken over by xarray as they are (no copy, no re-inference)
        return {d: self.x.indexes[d] for d in self.batch_dims if d in self.x.indexes}


def _prepare(
    data: Data,
    spec: IndexSpec | None,
    *,
    by: int | None,
    level: int,
    time: Any,
    dset: str,
    func: str,
    min_group: int = 1,
) -> _Prepared:
    if spec is not None and not isinstance(spec, IndexSpec):
        raise InvalidParameterError(
            f"The 'spec' parameter of {func} must be an IndexSpec or None; got "
            f"{type(spec).__name__}."
        )
    check_number(level, param="level", func=func, low=1, integer=True)
    if isinstance(data, Result):
        spec = spec if spec is not None else data.spec
        if level == 1:
            if dset not in data.data:
                raise InvalidParameterError(
                    f"The 'dset' parameter of {func} must name a step of the result, one of "
                    f"{list(data.data)}; got {dset!r}."
                )
            da = data.data[dset]
        else:
            if data.scores is None:
                raise InvalidParameterError(
                    f"{func}: level={level} needs aggregate scores, but the result has none."
                )
            da = data.scores.rename(node="indicator")
    elif isinstance(data, xr.DataArray):
        da = data
        if "indicator" not in da.dims and "node" in da.dims:
            da = da.rename(node="indicator")
    else:
        raise InvalidParameterError(
            f"{func} takes a panel (xarray.DataArray) or a pipeline Result; got "
            f"{type(data).__name__}."
        )
    da = validate(da)
    present = [str(c) for c in da["indicator"].values]
    if spec is None:
        if by is not None:
            raise InvalidParameterError(
                f"{func}: by={by!r} groups indicators by the index tree; pass spec= as well."
            )
        if level != 1:
            raise InvalidParameterError(f"{func}: level={level} needs spec= as well.")
        codes = present
    else:
        if level not in spec.levels:
            raise InvalidParameterError(
                f"The 'level' parameter of {func} must be one of the tree's levels "
                f"{list(spec.levels)}; got {level!r}."
            )
        codes = list(spec.indicators) if level == 1 else list(spec.level_codes(level))
        have_codes = set(present)
        missing = [c for c in codes if c not in have_codes]
        if missing:
            raise SpecError(
                f"{func}: {missing} are in the specification (level {level}) but not in the "
                "data. Add them to the panel or drop them from the spec (IndexSpec.subset)."
            )
    if by is None:
        groups: list[tuple[str, tuple[str, ...]]] = [("all", tuple(codes))]
    else:
        assert spec is not None
        if isinstance(by, bool) or by not in spec.levels or by <= level:
            raise InvalidParameterError(
                f"The 'by' parameter of {func} must be a level of the tree above level "
                f"{level}, one of {[lv for lv in spec.levels if lv > level]}, or None; "
                f"got {by!r}."
            )
        groups = []
        for g in spec.level_codes(by):
            members = tuple(c for c in codes if spec.ancestor(c, by) == g)
            if members:
                groups.append((g, members))
    for g, members in groups:
        if len(members) < min_group:
            raise DataError(
                f"{func}: group {g!r} has {len(members)} indicator(s) ({list(members)}); at "
                f"least {min_group} are needed. Use a coarser 'by' (or by=None)."
            )
    if time is not None:
        if "time" not in da.dims:
            raise InvalidParameterError(
                f"{func}: time={time!r} was given but the data have no 'time' dim."
            )
        wanted = time if isinstance(time, list | tuple | np.ndarray) else [time]
        have = da["time"].values.tolist()
        absent = [t for t in wanted if t not in have]
        if absent:
            raise InvalidParameterError(
                f"The 'time' parameter of {func} names {absent}, not in the data's times {have}."
            )
        da = da.sel(time=time)
    ordered_codes = [c for _, members in groups for c in members]
    x = ordered(da, ..., "unit", "indicator")
    # Memory layout (*batch, indicator, unit): each indicator's units are contiguous, so
    # the reductions over units and the BLAS products run on contiguous rows (about 4x
    # faster than unit-major); ``values`` is the (*batch, unit, indicator) view of it.
    raw = np.asarray(ordered(da, ..., "indicator", "unit").values, dtype=np.float64)
    where = {c: i for i, c in enumerate(present)}
    take = [where[c] for c in ordered_codes]
    gathered = np.empty((*raw.shape[:-2], len(take), raw.shape[-1]))
    for idx in _ndindex(raw.shape[:-2]):  # slice by slice: cache-friendly transposition
        gathered[idx] = raw[idx][take]
    values = np.swapaxes(gathered, -1, -2)
    return _Prepared(
        x=x,
        values=values,
        codes=tuple(ordered_codes),
        groups=tuple(groups),
        spec=spec,
        level=level,
        batch_dims=tuple(x.dims[:-2]),
    )


def _check_group(
    prep: _Prepared,
    n: np.ndarray,
    mean: np.ndarray,
    sd: np.ndarray,
    group: str,
    members: Sequence[str],
    func: str,
    *,
    more_units_than_indicators: bool = False,
) -> None:
    """Raise a DataError naming the group, year and indicator for unusable slices."""
    p = len(members)
    need = p + 1 if more_units_than_indicators else 2
    few = np.asarray(n < need)
    if few.any():
        idx = tuple(int(i) for i in np.argwhere(few)[0]) if few.ndim else ()
        why = (
            f"more complete units than indicators ({p}) are needed"
            if more_units_than_indicators
            else "at least 2 are needed"
        )
        raise DataError(
            f"{func}: group {group!r}{prep.where(idx)} has {int(n[idx])} complete unit(s) "
            f"(units with all of {list(members)} present); {why}. Impute the missing "
            "values or use fewer indicators."
        )
    const = np.asarray(sd == 0)
    if const.any():
        where = tuple(int(i) for i in np.argwhere(const)[0])
        idx, j = where[:-1], where[-1]
        raise DataError(
            f"{func}: indicator {members[j]!r} of group {group!r}{prep.where(idx)} is constant "
            f"over the complete units (value {float(mean[where])!r}); its correlations are "
            "undefined. Drop it from the analysis."
        )


def _standardised(
    prep: _Prepared,
    start: int,
    group: str,
    members: Sequence[str],
    func: str,
    *,
    more_units_than_indicators: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The group's data (a view), standardised data and complete-unit counts, checked."""
    xg = prep.values[..., start : start + len(members)]
    z, n, mean, sd = _mk.standardise_complete(xg)
    _check_group(
        prep, n, mean, sd, group, members, func,
        more_units_than_indicators=more_units_than_indicators,
    )  # fmt: skip
    return xg, z, n


def _check_nonsingular(
    prep: _Prepared, r: np.ndarray, group: str, members: Sequence[str], func: str
) -> None:
    ev = np.linalg.eigvalsh(r)
    bad = ev[..., 0] <= SINGULAR_RTOL * ev[..., -1]
    if np.any(bad):
        idx = tuple(int(i) for i in np.argwhere(np.atleast_1d(bad))[0]) if bad.ndim else ()
        raise DataError(
            f"{func}: the correlation matrix of group {group!r}{prep.where(idx)} "
            f"({list(members)}) is singular (smallest/largest eigenvalue "
            f"{float(ev[idx][0] / ev[idx][-1]):.3g} ≤ {SINGULAR_RTOL:g}): some indicators are "
            "(almost) exact linear combinations of others. Drop one of them."
        )


def _ndindex(shape: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
    return iter(np.ndindex(*shape)) if shape else iter([()])


def _labels(prefix: str, k: int) -> list[str]:
    return [f"{prefix}{i + 1}" for i in range(k)]


def _group_of(prep: _Prepared) -> list[str]:
    return [g for g, members in prep.groups for _ in members]


def _indicator_da(prep: _Prepared, values: np.ndarray, *extra: tuple[str, list[str]]) -> Any:
    dims = (*prep.batch_dims, "indicator", *[d for d, _ in extra])
    coords: dict[Hashable, Any] = {
        **prep.batch_coords(),
        "indicator": pd.Index(prep.codes, dtype=object),
        "group": ("indicator", np.array(_group_of(prep), dtype=object)),
        **{d: labels for d, labels in extra},
    }
    return xr.DataArray(values, dims=dims, coords=coords)


def _group_da(prep: _Prepared, values: np.ndarray, *extra: tuple[str, list[str]]) -> Any:
    dims = (*prep.batch_dims, "group", *[d for d, _ in extra])
    coords: dict[Hashable, Any] = {
        **prep.batch_coords(),
        "group": pd.Index([g for g, _ in prep.groups], dtype=object),
        **{d: labels for d, labels in extra},
    }
    return xr.DataArray(values, dims=dims, coords=coords)


def _long_frame(da: xr.DataArray, name: str, columns: str | None = None) -> pd.DataFrame:
    """A tidy DataFrame from a result DataArray (the ``group`` coord as an index level)."""
    series = da.reset_coords(drop=True).to_series().rename(name)
    df = series.to_frame()
    if "group" in da.coords and "group" not in da.dims:
        on = str(da["group"].dims[0])
        mapping = dict(zip(da[on].values.tolist(), da["group"].values.tolist(), strict=True))
        df["group"] = df.index.get_level_values(on).map(mapping)
        df = df.set_index("group", append=True)
        levels = [str(name) for name in df.index.names]
        levels.remove("group")
        pos = levels.index(on)
        df = df.reorder_levels([*levels[:pos], "group", *levels[pos:]])
    if columns is not None:
        df = df[name].unstack(columns)
        df.columns.name = None
    return df.dropna(how="all")


# ---------------------------------------------------------------------------- PCA
@dataclass(frozen=True)
class PCAResult:
    """Principal component analysis per group (and per year).

    Attributes
    ----------
    loadings : xarray.DataArray
        Dims ``(*batch, indicator, component)`` (``batch``: ``time`` and any extra dims of
        the data); eigenvectors of the correlation matrix (``prcomp``'s ``rotation``),
        each component's sign fixed so that its loadings sum to a positive number. The
        ``group`` coordinate on ``indicator`` names each indicator's group; components
        beyond a group's size are NaN.
    sdev, prop_var, cum_prop_var : xarray.DataArray
        Dims ``(*batch, group, component)``: standard deviations of the components
        (square roots of the eigenvalues), proportion and cumulative proportion of the
        total variance.
    scores : xarray.DataArray
        Dims ``(unit, *batch, group, component)``: the standardised data times the
        loadings; NaN for units without complete data in the group.
    weights : xarray.DataArray
        Dims ``(*batch, indicator)``: first-component loadings (COINr's "PCA weights"),
        with the sign convention above.
    n_units : xarray.DataArray
        Dims ``(*batch, group)``: the complete units each PCA used.
    """

    loadings: xr.DataArray
    sdev: xr.DataArray
    prop_var: xr.DataArray
    cum_prop_var: xr.DataArray
    scores: xr.DataArray
    weights: xr.DataArray
    n_units: xr.DataArray

    def to_frame(self, what: str = "loadings") -> pd.DataFrame:
        """A tidy DataFrame of ``loadings`` (default), ``variance``, ``scores`` or ``weights``.

        Examples
        --------
        >>> import brics_ecom as be
        >>> panel, spec = be.datasets.load_asem()
        >>> res = be.Pipeline.coinr_example(spec).run(panel)
        >>> pca(res, by=2).to_frame("variance").columns.tolist()
        ['sdev', 'prop_var', 'cum_prop_var']
        """
        check_choice(
            what, ("loadings", "variance", "scores", "weights"), param="what",
            func="PCAResult.to_frame",
        )  # fmt: skip
        if what == "loadings":
            return _long_frame(self.loadings, "loading", columns="component")
        if what == "weights":
            return _long_frame(self.weights, "weight")
        if what == "scores":
            return _long_frame(self.scores, "score", columns="component")
        parts = [
            _long_frame(da, name)
            for name, da in (
                ("sdev", self.sdev),
                ("prop_var", self.prop_var),
                ("cum_prop_var", self.cum_prop_var),
            )
        ]
        return pd.concat(parts, axis=1)


def pca(
    data: Data,
    spec: IndexSpec | None = None,
    *,
    by: int | None = None,
    level: int = 1,
    time: Any = None,
    n_components: int | None = None,
    dset: str = "normalise",
) -> PCAResult:
    """Principal component analysis on standardised data (the correlation matrix).

    One PCA per group of the tree (``by``) and per year (and per any extra dim), on the
    units with complete data for the group's indicators in that year (as COINr's
    ``get_PCA``, which calls ``stats::prcomp(na.omit(x), center = TRUE, scale = TRUE)``).

    Parameters
    ----------
    data : xarray.DataArray or Result
        A panel (dims ``unit``, ``indicator``, optionally ``time`` and others) or a
        pipeline result (its ``dset`` step is used, the normalised data by default).
    spec : IndexSpec, optional
        The tree (needed for ``by`` and ``level``; a Result brings its own).
    by : int, optional
        Level whose nodes form the groups: ``2`` = one PCA per pillar. ``None``: one PCA
        over all indicators (all nodes of ``level``).
    level : int, default 1
        Level of the variables: 1 = indicators; 2 = pillar scores (needs a Result with
        scores, or a DataArray over ``node``).
    time : hashable or list, optional
        Restrict to these years (a single year drops the ``time`` dim).
    n_components : int, optional
        Keep this many components (default: all).
    dset : str, default "normalise"
        The step of a Result to analyse (COINr's ``dset``).

    Returns
    -------
    PCAResult
        Loadings, variances, scores, first-PC weights and the units used.

    Raises
    ------
    DataError
        Fewer than 2 complete units in a group/year; a constant indicator.
    InvalidParameterError, SpecError
        Bad ``by``/``level``/``time``; indicators of the spec missing from the data.

    Notes
    -----
    **Sign convention**: the sign of a principal component is arbitrary (``prcomp``
    returns whatever LAPACK gives). Here each component is flipped so that the sum of
    its loadings is positive (ties: its first non-zero loading positive); compare with
    COINr up to one sign per component. :func:`pca_weights` with ``sign="coinr"``
    reproduces COINr's signs.

    Examples
    --------
    >>> import brics_ecom as be
    >>> panel, spec = be.datasets.load_asem()
    >>> res = be.Pipeline.coinr_example(spec).run(panel)
    >>> p = pca(res, by=2, time=2018)
    >>> int((p.loadings.group == "Political").sum())
    3
    >>> round(float(p.sdev.sel(group="Political", component="PC1")), 6)
    1.371361
    """
    func = "pca"
    prep = _prepare(data, spec, by=by, level=level, time=time, dset=dset, func=func)
    if n_components is not None:
        check_number(n_components, param="n_components", func=func, low=1, integer=True)
    return _pca_prepared(prep, n_components, func)


def _pca_prepared(prep: _Prepared, n_components: int | None, func: str) -> PCAResult:
    p_max = max(len(m) for _, m in prep.groups)
    k_all = p_max if n_components is None else min(int(n_components), p_max)
    comps = _labels("PC", k_all)
    bshape = prep.batch_shape
    n_ind, n_grp = len(prep.codes), len(prep.groups)
    n_unit = prep.values.shape[-2]
    loadings = np.full((*bshape, n_ind, k_all), np.nan)
    eig = np.full((*bshape, n_grp, k_all), np.nan)
    prop = np.full((*bshape, n_grp, k_all), np.nan)
    # stored (*batch, group, component, unit): each component's scores are contiguous
    scores = np.empty((*bshape, n_grp, k_all, n_unit))  # every cell is written below
    n_used = np.zeros((*bshape, n_grp))
    start = 0
    for gi, (g, members) in enumerate(prep.groups):
        p = len(members)
        pos = list(range(start, start + p))
        start += p
        xg, z, n = _standardised(prep, pos[0], g, members, func)
        vecs, ev, sc = _mk.pca_from_z(z, n)
        k = min(p, k_all)
        complete = ~np.isnan(xg).any(axis=-1)
        loadings[..., pos, :k] = vecs[..., :k]
        eig[..., gi, :k] = ev[..., :k]
        prop[..., gi, :k] = (ev / ev.sum(axis=-1, keepdims=True))[..., :k]
        out = scores[..., gi, :, :]
        out[..., :k, :] = np.swapaxes(sc[..., :k], -1, -2)
        np.copyto(out[..., :k, :], np.nan, where=~complete[..., None, :])
        out[..., k:, :] = np.nan
        n_used[..., gi] = n
    cum = np.nancumsum(prop, axis=-1)
    cum = np.where(np.isnan(prop), np.nan, cum)
    load_da = _indicator_da(prep, loadings, ("component", comps))
    sdev_da = _group_da(prep, np.sqrt(eig), ("component", comps))
    prop_da = _group_da(prep, prop, ("component", comps))
    cum_da = _group_da(prep, cum, ("component", comps))
    sc_dims = (*prep.batch_dims, "group", "component", "unit")
    unit_extra = {
        k: v.variable for k, v in prep.x.coords.items() if v.dims == ("unit",) and k != "unit"
    }
    score_da = xr.DataArray(
        scores,
        dims=sc_dims,
        coords={
            **prep.batch_coords(),
            "unit": prep.x.indexes["unit"],
            "group": [g for g, _ in prep.groups],
            "component": comps,
        },
    )
    if unit_extra:  # unit names and groups, without xarray's deep copy of object arrays
        score_da = score_da.assign_coords(unit_extra)
    score_da = score_da.transpose("unit", *prep.batch_dims, "group", "component")
    weights = load_da.isel(component=0, drop=True).rename("weight")
    return PCAResult(
        loadings=load_da.rename("loading"),
        sdev=sdev_da.rename("sdev"),
        prop_var=prop_da.rename("prop_var"),
        cum_prop_var=cum_da.rename("cum_prop_var"),
        scores=score_da.rename("score"),
        weights=weights,
        n_units=_group_da(prep, n_used).rename("n_units"),
    )


def _collate(code: str) -> tuple[str, str]:
    """Sort key imitating R's ``order()`` on codes in an English locale (case-insensitive
    first, lower case before upper case on ties)."""
    return (code.casefold(), code.swapcase())


def _coinr_column_order(codes: Sequence[str], spec: IndexSpec | None, level: int) -> list[int]:
    """Positions of ``codes`` in the order COINr's ``get_data`` returns them.

    COINr reads the columns of a group from its lineage table, sorted by the codes of the
    highest level down to the variables' own level (``get_lineage``:
    ``wideS[do.call(order, rev(wideS)), ]``).
    """
    if spec is None:
        keys: list[tuple[Any, ...]] = [(_collate(c),) for c in codes]
    else:
        keys = [
            tuple(
                _collate(spec.ancestor(c, lv) or "") for lv in range(spec.max_level, level - 1, -1)
            )
            for c in codes
        ]
    return sorted(range(len(codes)), key=lambda i: keys[i])


def _coinr_pc1_signs(prep: _Prepared, weights: np.ndarray) -> np.ndarray:
    """±1 per (batch, indicator): the sign that turns our PC1 into ``prcomp``'s.

    ``prcomp`` takes the SVD (LAPACK ``dgesdd``) of the scaled complete-case matrix with
    rows in the data's unit order and columns in COINr's lineage order; NumPy's
    ``linalg.svd`` calls the same LAPACK routine on the same matrix.
    """
    signs = np.ones_like(weights)
    start = 0
    for _, members in prep.groups:
        p = len(members)
        pos = list(range(start, start + p))
        start += p
        order = _coinr_column_order(members, prep.spec, prep.level)
        xg = prep.values[..., pos]
        for idx in _ndindex(prep.batch_shape):
            xs = xg[idx]
            xs = xs[~np.isnan(xs).any(axis=1)][:, order]
            centred = xs - xs.mean(axis=0)
            zs = centred / np.sqrt((centred * centred).sum(axis=0) / (len(xs) - 1))
            vt = np.linalg.svd(zs, full_matrices=False)[2]
            v = np.empty(p)
            v[order] = vt[0]
            ours = weights[idx][pos]
            s = 1.0 if float(v @ ours) >= 0 else -1.0
            ix: tuple[Any, ...] = (*idx, pos)
            signs[ix] = s
    return signs


def _node_weights(prep: _Prepared, values: np.ndarray, spec: IndexSpec, name: str) -> xr.DataArray:
    codes = list(spec.codes)
    base = np.array([spec.weights[c] for c in codes], dtype=float)
    out = np.broadcast_to(base, (*prep.batch_shape, len(codes))).copy()
    where = [codes.index(c) for c in prep.codes]
    out[..., where] = values
    da = xr.DataArray(
        out, dims=(*prep.batch_dims, "node"), coords={**prep.batch_coords(), "node": codes}
    )
    da.name = "weight"
    da.attrs["weights"] = name
    return da


def pca_weights(
    data: Data,
    spec: IndexSpec | None = None,
    *,
    by: int | None = 2,
    rule: Literal["coinr", "oecd"] = "coinr",
    sign: Literal["coinr", "positive"] = "coinr",
    level: int = 1,
    time: Any = None,
    dset: str = "normalise",
    method: Literal["pc", "pa", "ml"] = "pc",
    n_factors: int | str | None = None,
    rotation: str | None = "varimax",
    assign: Literal["loading", "scaled"] = "loading",
    rng: int | np.random.Generator | None = 0,
) -> xr.DataArray:
    """Weights from principal components (COINr) or factor analysis (OECD/JRC Handbook).

    Parameters
    ----------
    data : xarray.DataArray or Result
        As for :func:`pca`.
    spec : IndexSpec, optional
        The tree (a Result brings its own); the weights of the nodes not analysed are
        copied from it.
    by : int or None, default 2
        Level of the groups (2: one analysis per pillar, as COINr's ``by_groups``).
    rule : {"coinr", "oecd"}
        ``"coinr"``: the loadings of the first principal component of each group are the
        weights of its indicators (COINr's ``get_PCA(..., weights_to=)``; not rescaled,
        possibly negative). ``"oecd"``: the Handbook's factor-analysis rule (see
        :func:`factor_weights`), weights summing to 1 within each group.
    sign : {"coinr", "positive"}
        For ``rule="coinr"``: ``"coinr"`` reproduces ``prcomp``'s sign exactly (see
        Notes); ``"positive"`` flips each group's first component so that its loadings
        sum to a positive number (the convention of :func:`pca`).
    level, time, dset
        As for :func:`pca`.
    method, n_factors, rotation, assign, rng
        For ``rule="oecd"``: passed to :func:`factor_analysis` (``method="pc"``, principal
        component factors, as in the Handbook's worked example) and to the weighting rule.

    Returns
    -------
    xarray.DataArray
        Dims ``(*batch, node)`` over every node of the tree: the analysed indicators get
        the new weights, the other nodes keep the spec's. Pass it to
        ``brics_ecom.aggregate(weights=...)`` (which rejects negative weights).

    Notes
    -----
    COINr's weights are ``prcomp(...)$rotation[, 1]`` with whatever sign LAPACK's SVD
    gives; on the ASEM example every weight of the Political and Social pillars is
    negative, and so are Forest (Environ) and TBTs (Instit) in otherwise positive
    pillars. With ``sign="coinr"`` the sign is taken from the same SVD (LAPACK
    ``dgesdd``) of the same matrix: complete units in the data's order, columns in
    COINr's order (codes sorted as R sorts them in an English locale). A different unit
    order, or another LAPACK, may flip it.

    Examples
    --------
    >>> import brics_ecom as be
    >>> panel, spec = be.datasets.load_asem()
    >>> res = be.Pipeline.coinr_example(spec).run(panel)
    >>> w = pca_weights(res)
    >>> round(float(w.sel(time=2018, node="IGOs")), 6)
    -0.708822
    >>> w_oecd = pca_weights(res, rule="oecd")
    >>> round(float(w_oecd.sel(time=2018, node=list(spec.children("Political"))).sum()), 12)
    1.0
    """
    func = "pca_weights"
    check_choice(rule, ("coinr", "oecd"), param="rule", func=func)
    check_choice(sign, ("coinr", "positive"), param="sign", func=func)
    check_choice(method, FA_METHODS, param="method", func=func)
    check_choice(assign, ("loading", "scaled"), param="assign", func=func)
    if spec is None and isinstance(data, Result):
        spec = data.spec
    if spec is None:
        raise InvalidParameterError(
            f"{func} needs spec= (the weights are returned for every node of the tree)."
        )
    if rule == "coinr":
        prep = _prepare(data, spec, by=by, level=level, time=time, dset=dset, func=func)
        res = _pca_prepared(prep, 1, func)
        w = ordered(res.weights, *prep.batch_dims, "indicator").values
        if sign == "coinr":
            w = w * _coinr_pc1_signs(prep, w)
        return _node_weights(prep, w, spec, f"pca_weights(rule='coinr', sign={sign!r})")
    prep = _prepare(data, spec, by=by, level=level, time=time, dset=dset, func=func)
    fa = _factor_prepared(
        prep, n_factors=n_factors, method=method, rotation=rotation, maxiter=50, tol=1e-8,
        rng=rng, func=func,
    )  # fmt: skip
    w = ordered(fa.weights(assign=assign), *prep.batch_dims, "indicator").values
    return _node_weights(prep, w, spec, f"pca_weights(rule='oecd', method={method!r})")


# ---------------------------------------------------------------------------- factor analysis
@dataclass(frozen=True)
class FactorWeights:
    """The OECD/JRC Handbook's factor-analysis weights, step by step.

    Attributes
    ----------
    loadings : pandas.DataFrame
        The rotated loadings used (indicators × factors).
    scaled : pandas.DataFrame
        Squared loadings scaled to unity sum per factor.
    explained : pandas.Series
        Variance explained by each factor (sum of its squared loadings).
    share : pandas.Series
        ``explained`` as a share of the total over the factors.
    assigned : pandas.Series
        The factor each indicator is assigned to.
    weights : pandas.Series
        The final weights (sum 1).
    """

    loadings: pd.DataFrame
    scaled: pd.DataFrame
    explained: pd.Series
    share: pd.Series
    assigned: pd.Series
    weights: pd.Series

    def to_frame(self) -> pd.DataFrame:
        """The scaled squared loadings with the assigned factor and the weight.

        Examples
        --------
        >>> import pandas as pd
        >>> L = pd.DataFrame({"F1": [0.9, 0.8, 0.2], "F2": [0.1, 0.3, 0.7]}, index=list("abc"))
        >>> factor_weights(L).to_frame().columns.tolist()
        ['F1', 'F2', 'assigned', 'weight']
        """
        out = self.scaled.copy()
        out["assigned"] = self.assigned
        out["weight"] = self.weights
        return out


def factor_weights(
    loadings: pd.DataFrame | np.ndarray | Sequence[Sequence[float]],
    *,
    assign: Literal["loading", "scaled"] = "loading",
) -> FactorWeights:
    """Weights from rotated factor loadings by the OECD/JRC Handbook's rule.

    The Handbook (2008, section 6.1, on the TAI example): square the rotated loadings
    and scale them to unity sum within each factor; give each indicator to the factor on
    which it loads most; weight each intermediate composite (factor) by its share of the
    variance explained by all retained factors; normalise the products to sum 1:

    .. math:: S_{jk} = \\frac{L_{jk}^2}{V_k},\\quad V_k = \\sum_i L_{ik}^2,\\quad
              w_j \\propto S_{j a(j)} \\frac{V_{a(j)}}{\\sum_k V_k},\\quad \\sum_j w_j = 1.

    Parameters
    ----------
    loadings : DataFrame or array (indicators × factors)
        Rotated loadings (e.g. ``FactorResult.loadings`` for one group and year). NaN
        columns are ignored.
    assign : {"loading", "scaled"}
        Assign indicator :math:`j` to :math:`\\arg\\max_k L_{jk}^2` (default) or to
        :math:`\\arg\\max_k S_{jk}`.

    Returns
    -------
    FactorWeights

    Examples
    --------
    >>> import pandas as pd
    >>> L = pd.DataFrame({"F1": [0.9, 0.8, 0.2], "F2": [0.1, 0.3, 0.7]}, index=list("abc"))
    >>> fw = factor_weights(L)
    >>> fw.assigned.tolist(), fw.weights.round(4).tolist()
    (['F1', 'F1', 'F2'], [0.4175, 0.3299, 0.2526])
    """
    check_choice(assign, ("loading", "scaled"), param="assign", func="factor_weights")
    if isinstance(loadings, pd.DataFrame):
        frame = loadings.astype(float)
    else:
        arr = np.asarray(loadings, dtype=float)
        if arr.ndim != 2:
            raise InvalidParameterError(
                "The 'loadings' parameter of factor_weights must be 2-D (indicators × "
                f"factors); got shape {arr.shape}."
            )
        frame = pd.DataFrame(arr, columns=_labels("F", arr.shape[1]))
    values = frame.to_numpy()
    if values.size == 0 or np.isnan(values).all(axis=0).all():
        raise InvalidParameterError("factor_weights: the loadings are empty.")
    if np.isinf(values).any():
        raise InvalidParameterError("factor_weights: the loadings contain infinite values.")
    w, scaled, share, assigned = _mk.factor_weights_kernel(values, assign=assign)
    cols = list(frame.columns)
    sq = np.where(np.isnan(values), np.nan, values * values)
    return FactorWeights(
        loadings=frame,
        scaled=pd.DataFrame(scaled, index=frame.index, columns=cols),
        explained=pd.Series(np.nansum(sq, axis=0), index=cols, name="explained"),
        share=pd.Series(share, index=cols, name="share"),
        assigned=pd.Series([cols[a] for a in assigned], index=frame.index, name="assigned"),
        weights=pd.Series(w, index=frame.index, name="weight"),
    )


@dataclass(frozen=True)
class FactorResult:
    """Factor analysis per group (and per year).

    Attributes
    ----------
    loadings : xarray.DataArray
        Dims ``(*batch, indicator, factor)``: rotated loadings (unrotated when
        ``rotation=None``), each factor's sign fixed so that its loadings sum to a
        positive number. NaN beyond a group's number of factors.
    loadings_unrotated : xarray.DataArray
        The same before rotation.
    communality, uniqueness : xarray.DataArray
        Dims ``(*batch, indicator)``.
    eigenvalues : xarray.DataArray
        Dims ``(*batch, group, component)``: eigenvalues of the correlation matrix (used
        by the retention rule).
    explained : xarray.DataArray
        Dims ``(*batch, group, factor)``: variance explained by each (rotated) factor.
    n_factors, n_units : xarray.DataArray
        Dims ``(*batch, group)``.
    method, rotation : str
        The options used.
    """

    loadings: xr.DataArray
    loadings_unrotated: xr.DataArray
    communality: xr.DataArray
    uniqueness: xr.DataArray
    eigenvalues: xr.DataArray
    explained: xr.DataArray
    n_factors: xr.DataArray
    n_units: xr.DataArray
    method: str
    rotation: str | None

    def weights(self, assign: Literal["loading", "scaled"] = "loading") -> xr.DataArray:
        """OECD/JRC Handbook weights (:func:`factor_weights`) per group, summing to 1 in
        each group; dims ``(*batch, indicator)``.

        Examples
        --------
        >>> import brics_ecom as be
        >>> panel, spec = be.datasets.load_asem()
        >>> res = be.Pipeline.coinr_example(spec).run(panel)
        >>> w = factor_analysis(res, by=2, method="pc").weights()
        >>> float(w.sel(time=2018).groupby("group").sum().min().round(12))
        1.0
        """
        check_choice(assign, ("loading", "scaled"), param="assign", func="FactorResult.weights")
        loadings = ordered(self.loadings, ..., "indicator", "factor")
        lo = loadings.values
        groups = loadings["group"].values
        out = np.full(lo.shape[:-1], np.nan)
        for g in pd.unique(groups):
            pos = np.flatnonzero(groups == g)
            w, *_ = _mk.factor_weights_kernel(lo[..., pos, :], assign=assign)
            out[..., pos] = w
        da = loadings.isel(factor=0, drop=True).copy(data=out)
        return da.rename("weight")

    def to_frame(self, what: str = "loadings") -> pd.DataFrame:
        """A tidy DataFrame of ``loadings`` (default), ``unrotated``, ``communality``,
        ``explained`` or ``weights``.

        Examples
        --------
        >>> import brics_ecom as be
        >>> panel, spec = be.datasets.load_asem()
        >>> res = be.Pipeline.coinr_example(spec).run(panel)
        >>> factor_analysis(res, by=2).to_frame().index.names
        FrozenList(['time', 'group', 'indicator'])
        """
        check_choice(
            what, ("loadings", "unrotated", "communality", "explained", "weights"),
            param="what", func="FactorResult.to_frame",
        )  # fmt: skip
        if what == "loadings":
            return _long_frame(self.loadings, "loading", columns="factor")
        if what == "unrotated":
            return _long_frame(self.loadings_unrotated, "loading", columns="factor")
        if what == "explained":
            return _long_frame(self.explained, "explained", columns="factor")
        if what == "weights":
            return _long_frame(self.weights(), "weight")
        return pd.concat(
            [_long_frame(self.communality, "communality"),
             _long_frame(self.uniqueness, "uniqueness")],
            axis=1,
        )  # fmt: skip


def _resolve_n_factors(
    n_factors: int | str | None, eigenvalues: np.ndarray, p: int, func: str
) -> int:
    cap = max(1, p - 1)  # the automatic rules keep at most p - 1 factors
    if n_factors is None or n_factors == "oecd":
        return min(int(_mk.n_factors_rule(eigenvalues)), cap)
    if n_factors == "kaiser":
        return min(max(1, int((eigenvalues > 1.0).sum())), cap)
    if isinstance(n_factors, bool) or not isinstance(n_factors, int | np.integer):
        raise InvalidParameterError(
            f"The 'n_factors' parameter of {func} must be an int, 'oecd', 'kaiser' or None; "
            f"got {n_factors!r}."
        )
    if not 1 <= n_factors <= p:
        raise InvalidParameterError(
            f"The 'n_factors' parameter of {func} must be between 1 and the number of "
            f"indicators of the group ({p}); got {n_factors!r}."
        )
    return int(n_factors)


def factor_analysis(
    data: Data,
    spec: IndexSpec | None = None,
    *,
    by: int | None = None,
    level: int = 1,
    time: Any = None,
    n_factors: int | str | None = None,
    method: Literal["pa", "ml", "pc"] = "pa",
    rotation: str | None = "varimax",
    dset: str = "normalise",
    maxiter: int = 50,
    tol: float = 1e-8,
    rng: int | np.random.Generator | None = 0,
) -> FactorResult:
    """Exploratory factor analysis (statsmodels) per group and per year.

    Each group/year is fitted with :class:`statsmodels.multivariate.factor.Factor` on the
    complete units (the correlation matrix), then rotated with its ``rotate(rotation)``.

    Parameters
    ----------
    data, spec, by, level, time, dset
        As for :func:`pca`.
    n_factors : int, "oecd", "kaiser" or None
        Number of factors; ``None``/``"oecd"``: the OECD/JRC Handbook's rule on the
        eigenvalues of the correlation matrix (eigenvalue > 1 or more than 10 % of the
        variance, and at least 60 % cumulated; see
        :func:`brics_ecom._kernels.multivariate.n_factors_rule`); ``"kaiser"``:
        eigenvalues > 1. The automatic rules keep at most ``p - 1`` factors for a group
        of ``p`` indicators.
    method : {"pa", "ml", "pc"}
        ``"pa"``: iterated principal axis factoring from squared multiple correlations
        (statsmodels ``method="pa"``); ``"ml"``: maximum likelihood (``method="ml"``,
        random starts from ``rng``); ``"pc"``: principal-component factors, the
        Handbook's choice for its TAI example (statsmodels ``method="pa", smc=False``
        stopped after one iteration: loadings = eigenvectors × √eigenvalues of the
        correlation matrix).
    rotation : str or None, default "varimax"
        A statsmodels rotation (``varimax``, ``quartimax``, ``equamax``, ``oblimin``,
        ``promax``, ...; statsmodels applies no Kaiser normalisation) or ``None``.
    maxiter, tol
        Passed to ``Factor.fit`` (``"pa"``).
    rng : int, Generator or None, default 0
        Random starts of ``"ml"``.

    Returns
    -------
    FactorResult

    Raises
    ------
    DataError
        Not more complete units than indicators, a constant indicator, a singular
        correlation matrix (``"pa"``, ``"ml"``), an unidentified ML model.

    Examples
    --------
    >>> import brics_ecom as be
    >>> panel, spec = be.datasets.load_asem()
    >>> res = be.Pipeline.coinr_example(spec).run(panel)
    >>> fa = factor_analysis(res, by=2, time=2018)
    >>> int(fa.n_factors.sel(group="Political"))
    2
    """
    func = "factor_analysis"
    prep = _prepare(data, spec, by=by, level=level, time=time, dset=dset, func=func)
    return _factor_prepared(
        prep, n_factors=n_factors, method=method, rotation=rotation, maxiter=maxiter, tol=tol,
        rng=rng, func=func,
    )  # fmt: skip


def _factor_prepared(
    prep: _Prepared,
    *,
    n_factors: int | str | None,
    method: str,
    rotation: str | None,
    maxiter: int,
    tol: float,
    rng: int | np.random.Generator | None,
    func: str,
) -> FactorResult:
    from statsmodels.multivariate.factor import Factor

    check_choice(method, FA_METHODS, param="method", func=func)
    if rotation is not None:
        check_choice(rotation, ROTATIONS, param="rotation", func=func)
    check_number(maxiter, param="maxiter", func=func, low=1, integer=True)
    check_number(tol, param="tol", func=func, low=0, high=0.01, low_inclusive=False)
    bshape = prep.batch_shape
    n_ind, n_grp = len(prep.codes), len(prep.groups)
    p_max = max(len(m) for _, m in prep.groups)
    rot = np.full((*bshape, n_ind, p_max), np.nan)
    unrot = np.full((*bshape, n_ind, p_max), np.nan)
    comm = np.full((*bshape, n_ind), np.nan)
    eig_all = np.full((*bshape, n_grp, p_max), np.nan)
    expl = np.full((*bshape, n_grp, p_max), np.nan)
    n_fac = np.zeros((*bshape, n_grp))
    n_used = np.zeros((*bshape, n_grp))
    k_max = 1
    start = 0
    for gi, (g, members) in enumerate(prep.groups):
        p = len(members)
        pos = list(range(start, start + p))
        start += p
        xg, z, n = _standardised(prep, pos[0], g, members, func, more_units_than_indicators=True)
        r = _mk.correlation_from_z(z, n)
        if method != "pc" and p > 1:
            _check_nonsingular(prep, r, g, members, func)
        ev = np.linalg.eigvalsh(r)[..., ::-1]
        for idx in _ndindex(bshape):
            xs = xg[idx]
            xs = xs[~np.isnan(xs).any(axis=1)]
            m = _resolve_n_factors(n_factors, ev[idx], p, func)
            if method == "ml" and p > 1 and (p - m) ** 2 < p + m:
                raise DataError(
                    f"{func}: a maximum-likelihood model with {m} factor(s) on the {p} "
                    f"indicators of group {g!r}{prep.where(idx)} is not identified "
                    "((p − m)² < p + m). Use method='pa' or fewer factors."
                )
            if p == 1:  # a lone indicator is its own factor
                base = loaded = np.ones((1, 1))
            else:
                if method == "pc":
                    model = Factor(xs, n_factor=m, method="pa", smc=False)
                    fit = model.fit(maxiter=1, tol=tol)
                elif method == "pa":
                    fit = Factor(xs, n_factor=m, method="pa").fit(maxiter=maxiter, tol=tol)
                else:
                    fit = Factor(xs, n_factor=m, method="ml").fit(rng=rng)
                base = np.asarray(fit.loadings, dtype=float)
                if rotation is not None and base.shape[1] > 1:
                    fit.rotate(rotation)
                loaded = np.asarray(fit.loadings, dtype=float)
            k = loaded.shape[1]
            at: tuple[Any, ...] = (*idx, pos)
            grp: tuple[Any, ...] = (*idx, gi)
            rot[(*at, slice(0, k))] = _mk.fix_signs(loaded)
            unrot[(*at, slice(0, base.shape[1]))] = _mk.fix_signs(base)
            comm[at] = (base * base).sum(axis=1)
            eig_all[(*grp, slice(0, p))] = ev[idx]
            expl[(*grp, slice(0, k))] = (loaded * loaded).sum(axis=0)
            n_fac[grp] = k
            n_used[grp] = len(xs)
            k_max = max(k_max, k)
    facs = _labels("F", k_max)
    comps = _labels("PC", p_max)
    load_da = _indicator_da(prep, rot[..., :k_max], ("factor", facs))
    return FactorResult(
        loadings=load_da.rename("loading"),
        loadings_unrotated=_indicator_da(prep, unrot[..., :k_max], ("factor", facs)).rename(
            "loading"
        ),
        communality=_indicator_da(prep, comm).rename("communality"),
        uniqueness=_indicator_da(prep, 1.0 - comm).rename("uniqueness"),
        eigenvalues=_group_da(prep, eig_all, ("component", comps)).rename("eigenvalue"),
        explained=_group_da(prep, expl[..., :k_max], ("factor", facs)).rename("explained"),
        n_factors=_group_da(prep, n_fac).astype(int).rename("n_factors"),
        n_units=_group_da(prep, n_used).astype(int).rename("n_units"),
        method=method,
        rotation=rotation,
    )


# ---------------------------------------------------------------------------- diagnostics
@dataclass(frozen=True)
class KMOResult:
    """Kaiser–Meyer–Olkin measure of sampling adequacy.

    Attributes
    ----------
    overall : xarray.DataArray
        Dims ``(*batch, group)``.
    per_indicator : xarray.DataArray
        Dims ``(*batch, indicator)`` (the MSA of each indicator; ``group`` coordinate).
    n_units : xarray.DataArray
        Dims ``(*batch, group)``.
    """

    overall: xr.DataArray
    per_indicator: xr.DataArray
    n_units: xr.DataArray

    def to_frame(self, what: str = "overall") -> pd.DataFrame:
        """``overall`` (one row per group and year) or ``per_indicator``.

        Examples
        --------
        >>> import brics_ecom as be
        >>> panel, spec = be.datasets.load_asem()
        >>> res = be.Pipeline.coinr_example(spec).run(panel)
        >>> kmo(res, by=2).to_frame().shape
        (8, 2)
        """
        check_choice(what, ("overall", "per_indicator"), param="what", func="KMOResult.to_frame")
        if what == "per_indicator":
            return _long_frame(self.per_indicator, "msa")
        return pd.concat(
            [_long_frame(self.overall, "kmo"), _long_frame(self.n_units, "n_units")], axis=1
        )


@dataclass(frozen=True)
class BartlettResult:
    """Bartlett's test of sphericity per group (and year).

    Attributes
    ----------
    statistic, dof, pvalue, n_units : xarray.DataArray
        Dims ``(*batch, group)``.
    """

    statistic: xr.DataArray
    dof: xr.DataArray
    pvalue: xr.DataArray
    n_units: xr.DataArray

    def to_frame(self) -> pd.DataFrame:
        """One row per group and year: ``statistic``, ``dof``, ``pvalue``, ``n_units``.

        Examples
        --------
        >>> import brics_ecom as be
        >>> panel, spec = be.datasets.load_asem()
        >>> res = be.Pipeline.coinr_example(spec).run(panel)
        >>> bartlett_sphericity(res, by=2).to_frame().columns.tolist()
        ['statistic', 'dof', 'pvalue', 'n_units']
        """
        return pd.concat(
            [
                _long_frame(self.statistic, "statistic"),
                _long_frame(self.dof, "dof"),
                _long_frame(self.pvalue, "pvalue"),
                _long_frame(self.n_units, "n_units"),
            ],
            axis=1,
        )


def _correlations(
    prep: _Prepared, func: str, *, check_singular: bool
) -> Iterator[tuple[int, str, tuple[str, ...], list[int], np.ndarray, np.ndarray, np.ndarray]]:
    start = 0
    for gi, (g, members) in enumerate(prep.groups):
        p = len(members)
        pos = list(range(start, start + p))
        start += p
        xg, z, n = _standardised(prep, pos[0], g, members, func, more_units_than_indicators=True)
        r = _mk.correlation_from_z(z, n)
        if check_singular:
            _check_nonsingular(prep, r, g, members, func)
        yield gi, g, members, pos, xg, r, n


def kmo(
    data: Data,
    spec: IndexSpec | None = None,
    *,
    by: int | None = None,
    level: int = 1,
    time: Any = None,
    dset: str = "normalise",
) -> KMOResult:
    """Kaiser–Meyer–Olkin measure of sampling adequacy, overall and per indicator.

    Compares the correlations :math:`r_{ij}` with the anti-image (partial) correlations
    :math:`q_{ij} = -P_{ij}/\\sqrt{P_{ii}P_{jj}}`, :math:`P = R^{-1}` (Kaiser, 1974):

    .. math:: \\mathrm{KMO} = \\frac{\\sum_{i\\ne j} r_{ij}^2}{\\sum_{i\\ne j} r_{ij}^2
              + \\sum_{i\\ne j} q_{ij}^2};

    the per-indicator MSA restricts the sums to one column. Values above 0.6 are usually
    considered adequate for factor analysis; 0.5 is the floor.

    Parameters
    ----------
    data, spec, by, level, time, dset
        As for :func:`pca`; complete units per group and year.

    Returns
    -------
    KMOResult

    Raises
    ------
    DataError
        Not more complete units than indicators; a constant indicator; a singular
        correlation matrix.

    Examples
    --------
    >>> import brics_ecom as be
    >>> panel, spec = be.datasets.load_asem()
    >>> res = be.Pipeline.coinr_example(spec).run(panel)
    >>> k = kmo(res, by=2, time=2018)
    >>> round(float(k.overall.sel(group="Political")), 4)
    0.3123
    """
    func = "kmo"
    prep = _prepare(data, spec, by=by, level=level, time=time, dset=dset, func=func, min_group=2)
    bshape = prep.batch_shape
    overall = np.full((*bshape, len(prep.groups)), np.nan)
    per = np.full((*bshape, len(prep.codes)), np.nan)
    n_used = np.zeros((*bshape, len(prep.groups)))
    for gi, _, _, pos, _, r, n in _correlations(prep, func, check_singular=True):
        o, m = _mk.kmo_from_corr(r)
        overall[..., gi] = o
        per[..., pos] = m
        n_used[..., gi] = n
    return KMOResult(
        overall=_group_da(prep, overall).rename("kmo"),
        per_indicator=_indicator_da(prep, per).rename("msa"),
        n_units=_group_da(prep, n_used).astype(int).rename("n_units"),
    )


def bartlett_sphericity(
    data: Data,
    spec: IndexSpec | None = None,
    *,
    by: int | None = None,
    level: int = 1,
    time: Any = None,
    dset: str = "normalise",
) -> BartlettResult:
    """Bartlett's (1950) test that the correlation matrix is the identity.

    .. math:: \\chi^2 = -\\Bigl(n - 1 - \\frac{2p+5}{6}\\Bigr)\\ln|R|,\\qquad
              \\mathrm{dof} = \\frac{p(p-1)}{2},

    with :math:`n` complete units and :math:`p` indicators; the p-value is the upper
    tail of :math:`\\chi^2_{\\mathrm{dof}}`. A small p-value says the indicators are
    correlated enough for PCA/factor analysis to make sense.

    Parameters
    ----------
    data, spec, by, level, time, dset
        As for :func:`pca`.

    Returns
    -------
    BartlettResult

    Raises
    ------
    DataError
        Not more complete units than indicators; a constant indicator; a singular
        correlation matrix.

    Examples
    --------
    >>> import brics_ecom as be
    >>> panel, spec = be.datasets.load_asem()
    >>> res = be.Pipeline.coinr_example(spec).run(panel)
    >>> b = bartlett_sphericity(res, by=2, time=2018)
    >>> int(b.dof.sel(group="Social")), bool(b.pvalue.sel(group="Social") < 1e-10)
    (36, True)
    """
    func = "bartlett_sphericity"
    prep = _prepare(data, spec, by=by, level=level, time=time, dset=dset, func=func, min_group=2)
    shape = (*prep.batch_shape, len(prep.groups))
    stat, dof, pval, n_used = (np.full(shape, np.nan) for _ in range(4))
    for gi, _, _, _, _, r, n in _correlations(prep, func, check_singular=True):
        s, d, pv = _mk.bartlett_from_corr(r, n)
        stat[..., gi], dof[..., gi], pval[..., gi], n_used[..., gi] = s, d, pv, n
    return BartlettResult(
        statistic=_group_da(prep, stat).rename("statistic"),
        dof=_group_da(prep, dof).rename("dof"),
        pvalue=_group_da(prep, pval).rename("pvalue"),
        n_units=_group_da(prep, n_used).astype(int).rename("n_units"),
    )


def vif(
    data: Data,
    spec: IndexSpec | None = None,
    *,
    by: int | None = None,
    level: int = 1,
    time: Any = None,
    dset: str = "normalise",
) -> xr.DataArray:
    """Variance inflation factors of the indicators within each group (and year).

    :math:`\\mathrm{VIF}_j = 1 / (1 - R_j^2)`, with :math:`R_j^2` from the OLS regression
    of indicator :math:`j` on the other indicators of its group **and an intercept**
    (statsmodels' ``variance_inflation_factor`` on the design ``[1, X]``, complete units).
    With the intercept this equals the diagonal of the inverse correlation matrix.
    Exactly collinear indicators give ``inf`` (or a huge number).

    Parameters
    ----------
    data, spec, by, level, time, dset
        As for :func:`pca`.

    Returns
    -------
    xarray.DataArray
        Dims ``(*batch, indicator)`` with a ``group`` coordinate.

    Raises
    ------
    DataError
        Not more complete units than indicators; a constant indicator.

    Examples
    --------
    >>> import brics_ecom as be
    >>> panel, spec = be.datasets.load_asem()
    >>> res = be.Pipeline.coinr_example(spec).run(panel)
    >>> v = vif(res, by=2, time=2018)
    >>> bool((v >= 1).all())
    True
    """
    from statsmodels.stats.outliers_influence import variance_inflation_factor

    func = "vif"
    prep = _prepare(data, spec, by=by, level=level, time=time, dset=dset, func=func)
    out = np.full((*prep.batch_shape, len(prep.codes)), np.nan)
    for _, group, members, pos, xg, _, _ in _correlations(prep, func, check_singular=False):
        if len(members) == 1:
            out[..., pos] = 1.0
            continue
        for idx in _ndindex(prep.batch_shape):
            xs = xg[idx]
            xs = xs[~np.isnan(xs).any(axis=1)]
            design = np.column_stack([np.ones(len(xs)), xs])
            with (
                np.errstate(divide="ignore", invalid="ignore"),
                warnings.catch_warnings(record=True) as caught,
            ):
                warnings.simplefilter("always")
                vals = [variance_inflation_factor(design, j + 1) for j in range(len(members))]
            if caught:
                warnings.warn(
                    f"vif: the indicators {list(members)} of group {group!r}{prep.where(idx)} "
                    "are (almost) collinear; their VIFs are huge and numerically unstable "
                    f"(statsmodels: {caught[0].message}).",
                    DataWarning,
                    stacklevel=2,
                )
            at_v: tuple[Any, ...] = (*idx, pos)
            out[at_v] = vals
    return _indicator_da(prep, out).rename("vif")
