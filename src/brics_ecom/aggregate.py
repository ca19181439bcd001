"""Aggregation: combine indicators level by level up the index tree.

Each aggregate is built from its direct children with weights looked up by code (only
ratios between siblings matter). The arithmetic mean of all draws of a weight set is one
BLAS pass (a matrix product over the children), so ``weights`` with a ``draw`` dim
computes thousands of alternative indices at once.

Examples
--------
>>> import brics_ecom as be
>>> panel, spec = be.datasets.load_asem()
>>> norm = be.normalise(panel, "minmax", spec=spec)
>>> agg = be.aggregate(norm, spec)
>>> agg.sizes["node"]
11
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from ._apply import ordered, single_chunk
from ._history import describe_call, with_history
from ._kernels import aggregate as _ak
from ._validation import check_number, is_lazy, report_dropped
from .errors import DataError, InvalidParameterError, SpecError
from .panel import validate
from .registry import available, get_method
from .spec import IndexSpec

__all__ = ["aggregate", "method_param_names", "node_weights"]


def node_weights(
    spec: IndexSpec, weights: Mapping[str, float] | xr.DataArray | None = None
) -> xr.DataArray:
    """Weights of every tree node as a DataArray over ``node`` (extra dims kept).

    ``weights`` may be ``None`` (the spec's weights), a partial ``{code: weight}`` mapping
    (others from the spec), or a DataArray over ``node`` (optionally with a ``draw`` dim);
    nodes missing from it take the spec's weight.

    Raises
    ------
    SpecError
        Unknown codes, NaN/negative/infinite weights.

    Examples
    --------
    >>> from brics_ecom.spec import IndexSpec, Node
    >>> spec = IndexSpec([Node("x", parent="I"), Node("y", parent="I"),
    ...                   Node("I", kind="aggregate")])
    >>> node_weights(spec, {"x": 2}).values.tolist()
    [2.0, 1.0, 1.0]
    """
    codes = list(spec.codes)
    spec_w = spec.weights
    base = xr.DataArray(
        np.array([spec_w[c] for c in codes], dtype=float),
        dims=("node",),
        coords={"node": codes},
    )
    if weights is None:
        return base
    if isinstance(weights, xr.DataArray):
        if "node" not in weights.dims:
            raise InvalidParameterError(
                f"A weights DataArray needs a 'node' dim; got dims {weights.dims}."
            )
        unknown = sorted(set(map(str, weights["node"].values)) - set(codes))
        if unknown:
            raise SpecError(f"Weights given for codes not in the tree: {unknown}.")
        given = weights.astype(float)
        full = given.reindex(node=codes)
        out = full.fillna(base) if full.isnull().any() else full
        # a weight that is NaN in the input is an error, not a fallback
        if bool(given.isnull().any()):
            bad = sorted(
                {
                    str(n)
                    for n in given["node"].values[
                        given.isnull().any([d for d in given.dims if d != "node"]).values
                    ]
                }
            )
            raise SpecError(f"Weights of {bad} are NaN; weights must be finite numbers ≥ 0.")
    elif isinstance(weights, Mapping):
        unknown = sorted(set(weights) - set(codes))
        if unknown:
            raise SpecError(f"Weights given for codes not in the tree: {unknown}.")
        given_w = []
        for c in codes:
            w = weights.get(c, spec_w[c])
            try:
                given_w.append(float(w))
            except (TypeError, ValueError):
                raise SpecError(f"The weight of {c!r} must be a number; got {w!r}.") from None
        out = base.copy(deep=False, data=np.array(given_w))
    else:
        raise InvalidParameterError(
            "The 'weights' parameter must be None, a {code: weight} mapping or a DataArray over "
            f"'node'; got {type(weights).__name__}."
        )
    vals = out.values
    if not np.isfinite(vals).all():
        bad = _codes_where(out, ~np.isfinite(vals))
        raise SpecError(f"Weights of {bad} are not finite; weights must be finite numbers ≥ 0.")
    if (vals < 0).any():
        bad = _codes_where(out, vals < 0)
        raise SpecError(f"Weights of {bad} are negative; weights must be ≥ 0.")
    out = ordered(out, ..., "node")
    # sums of the children's weights under every parent, all draws at once (one product)
    parents = list(spec.aggregates)
    totals = np.asarray(out.values) @ _membership(spec, codes, parents)
    empty = (totals <= 0).reshape(-1, len(parents)).any(axis=0)
    if empty.any():
        parent = parents[int(np.argmax(empty))]
        kids = list(spec.children(parent))
        raise SpecError(
            f"The weights of the children of {parent!r} ({', '.join(kids)}) sum to 0"
            f"{' in some draws' if out.ndim > 1 else ''}; at least one must be positive."
        )
    return out


@functools.lru_cache(maxsize=32)
def _membership_cached(
    spec: IndexSpec, codes: tuple[str, ...], parents: tuple[str, ...]
) -> np.ndarray:
    member = np.zeros((len(codes), len(parents)))
    where = {c: i for i, c in enumerate(codes)}
    for j, parent in enumerate(parents):
        for kid in spec.children(parent):
            member[where[kid], j] = 1.0
    member.setflags(write=False)
    return member


def _membership(spec: IndexSpec, codes: list[str], parents: list[str]) -> np.ndarray:
    """(node, parent) 0/1 matrix of the tree (cached per spec)."""
    return _membership_cached(spec, tuple(codes), tuple(parents))


def _codes_where(da: xr.DataArray, mask: np.ndarray) -> list[str]:
    node_axis = da.dims.index("node")
    other = tuple(i for i in range(mask.ndim) if i != node_axis)
    hit = mask.any(axis=other) if other else mask
    return [str(c) for c in da["node"].values[hit]]


def aggregate(
    panel: xr.DataArray,
    spec: IndexSpec,
    method: str = "arithmetic",
    *,
    weights: Mapping[str, float] | xr.DataArray | None = None,
    p: float | None = None,
    dat_thresh: float | None = None,
    by_level: Mapping[int, str] | None = None,
    include_indicators: bool = False,
    **method_params: Any,
) -> xr.DataArray:
    """Aggregate normalised indicators up the tree of ``spec``.

    Parameters
    ----------
    panel : xarray.DataArray
        Normalised indicators (dims ``unit``, ``indicator``, optionally ``time`` and
        others such as ``draw``).
    spec : IndexSpec
        The tree; its weights are used unless ``weights`` is given.
    method : str, default "arithmetic"
        ``arithmetic``, ``geometric``, ``harmonic``, ``generalised`` (power mean, needs
        ``p``), ``copeland``, ``mazziotta_pareto`` (``penalty=-1``), ``minimum``, or a
        method registered with ``register("aggregate", name)``.
    weights : mapping or DataArray, optional
        ``{code: weight}`` (partial mappings complete from the spec) or a DataArray over
        ``node``, optionally with a ``draw`` (or any other) dim: all draws are computed in
        one vectorised pass.
    p : float, optional
        Power of the generalised mean (≠ 0).
    dat_thresh : float, optional
        An aggregate is NaN when the share of its children with data is below this
        (strictly), at every level.
    by_level : mapping, optional
        ``{level: method}`` for the levels being built (2 = first aggregation level).
    include_indicators : bool, default False
        Also return the indicators (first along ``node``).
    **method_params
        Extra parameters of the method (e.g. ``penalty`` for ``mazziotta_pareto``).

    Returns
    -------
    xarray.DataArray
        Dims as the panel's with ``indicator`` replaced by ``node`` listing every
        aggregate (level by level).

    Raises
    ------
    SpecError
        Indicators of the spec missing from the data; invalid weights.
    DataError
        Values ≤ 0 for ``geometric`` (0 for ``harmonic``; ≤ 0 for ``generalised`` with
        p < 0), naming the unit and indicator.
    InvalidParameterError
        Unknown method, bad ``p`` or ``dat_thresh``.

    Examples
    --------
    >>> import brics_ecom as be
    >>> panel, spec = be.datasets.load_asem()
    >>> norm = be.normalise(panel, "minmax", spec=spec, lower=1, upper=100)
    >>> geo = be.aggregate(norm, spec, "geometric")
    >>> bool((geo > 0).all())
    True
    """
    panel = validate(panel)
    if not isinstance(spec, IndexSpec):
        raise InvalidParameterError(
            f"The 'spec' parameter of aggregate must be an IndexSpec; got {type(spec).__name__}."
        )
    methods = _level_methods(spec, method, by_level)
    if dat_thresh is not None:
        check_number(dat_thresh, param="dat_thresh", func="aggregate", low=0, high=1)
    if any(m == "generalised" for m in methods.values()):
        if p is None:
            raise InvalidParameterError("aggregate method 'generalised' needs the power p=.")
        check_number(p, param="p", func="aggregate")
        if p == 0:
            raise InvalidParameterError(
                "The 'p' parameter of the generalised mean must not be 0 (use 'geometric')."
            )
    _check_method_params(set(methods.values()), method_params)
    call = describe_call(
        "aggregate",
        {"method": method, "weights": weights, "p": p, "dat_thresh": dat_thresh,
         "by_level": by_level, **method_params},
    )  # fmt: skip
    data = _indicator_data(panel, spec)
    w_all = node_weights(spec, weights)
    try:
        plan = _cached_plan(
            spec, tuple(sorted(methods.items())), p, tuple(sorted(method_params.items()))
        )
    except TypeError:  # unhashable method parameters: build the plan afresh
        plan = _tree_plan(spec, methods, p, method_params)
    aggs = [code for lvl in plan for code in lvl.parents]
    kwargs: dict[str, Any] = {"plan": plan, "dat_thresh": dat_thresh, "units": data["unit"].values}
    x = ordered(data, ..., "unit", "indicator")
    if not is_lazy(x) and not is_lazy(w_all) and w_all.dims == ("node",):
        lead = [(str(d), x[d].values) for d in x.dims[:-2]]
        nodes = aggs
        if include_indicators:  # indicators and aggregates written into one array
            n_ind = x.shape[-1]
            # node-major, units contiguous: the normalised panel is usually stored with
            # units contiguous too, so copying it in is a straight copy (not a transpose),
            # and ranking along units reads contiguous rows
            values = np.empty((*x.shape[:-2], n_ind + len(aggs), x.shape[-2])).swapaxes(-1, -2)
            values[..., :n_ind] = x.values
            _tree_kernel(
                values[..., :n_ind], w_all.values, lead=lead, out=values[..., n_ind:], **kwargs
            )
            nodes = [*spec.indicators, *aggs]
        else:
            values = _tree_kernel(np.asarray(x.values), w_all.values, lead=lead, **kwargs)
        result = xr.DataArray(
            values, dims=(*x.dims[:-1], "node"),
            coords={**{k: v for k, v in x.coords.variables.items() if "indicator" not in v.dims},
                    "node": nodes},
        )  # fmt: skip
    else:
        result = xr.apply_ufunc(
            _tree_kernel,
            single_chunk(x, ("unit", "indicator")),
            ordered(w_all.rename(node="_wnode"), ..., "_wnode"),
            input_core_dims=[["unit", "indicator"], ["_wnode"]],
            output_core_dims=[["unit", "node"]],
            kwargs=kwargs,
            dask="parallelized",
            output_dtypes=[np.float64],
            dask_gufunc_kwargs={"output_sizes": {"node": len(aggs)}},
        ).assign_coords(node=aggs)
        lost = {
            k: v for k, v in x.coords.items()
            if k not in result.coords and set(v.dims) <= set(result.dims)
        }  # fmt: skip
        result = result.assign_coords(lost)
        if include_indicators:
            result = xr.concat(
                [data.rename(indicator="node"), result], dim="node", coords="minimal",
                compat="override",
            )  # fmt: skip
    order = [d for d in panel.dims if d != "indicator"]
    result = ordered(result, *[d for d in order if d in result.dims], ..., "node")
    result.name = "score"
    result.attrs = {"aggregation": dict(methods)}
    return with_history(result, panel, call)


class _Level:
    """One aggregation level: which nodes feed which parents, and how."""

    def __init__(
        self,
        parents: list[str],
        children: list[str],
        child_pos: np.ndarray,
        weight_pos: np.ndarray,
        parent_index: np.ndarray,
        method: str,
        params: dict[str, Any],
        start: int,
    ) -> None:
        self.parents = parents
        self.start = start  # first column of this level's parents among the aggregates
        self.children = children
        self.child_pos = child_pos  # positions in [indicators..., aggregates...]
        self.weight_pos = weight_pos  # positions in spec.codes (the weights' order)
        self.parent_index = parent_index
        self.method = method
        self.params = params
        self.check_domain = method in ("geometric", "harmonic") or (
            method == "generalised" and params.get("p", 1.0) < 0
        )


@functools.lru_cache(maxsize=64)
def _cached_plan(
    spec: IndexSpec,
    methods: tuple[tuple[int, str], ...],
    p: float | None,
    method_params: tuple[tuple[str, Any], ...],
) -> list[_Level]:
    """The plan of a tree, cached: specs are immutable and re-aggregated many times."""
    return _tree_plan(spec, dict(methods), p, dict(method_params))


def _tree_plan(
    spec: IndexSpec, methods: Mapping[int, str], p: float | None, method_params: Mapping[str, Any]
) -> list[_Level]:
    codes = list(spec.codes)
    position = {c: i for i, c in enumerate(spec.indicators)}
    plan = []
    for level in range(2, spec.max_level + 1):
        parents = list(spec.level_codes(level))
        if not parents:
            continue
        children = [c for par in parents for c in spec.children(par)]
        # in data order: all-indicator levels then read the data as is, with no gather
        children.sort(key=position.__getitem__)
        meth = methods[level]
        params = dict(method_params)
        if meth == "generalised":
            params["p"] = p
        plan.append(
            _Level(
                parents,
                children,
                np.array([position[c] for c in children], dtype=np.intp),
                np.array([codes.index(c) for c in children], dtype=np.intp),
                np.array([parents.index(str(spec.parent(c))) for c in children], dtype=np.intp),
                meth,
                params,
                len(position) - len(spec.indicators),
            )
        )
        for par in parents:
            position[par] = len(position)
    return plan


def _tree_kernel(
    x: np.ndarray,
    w: np.ndarray,
    *,
    plan: list[_Level],
    dat_thresh: float | None,
    units: np.ndarray,
    lead: list[tuple[str, np.ndarray]] | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Every level of the tree in one NumPy pass.

    ``x`` is (..., unit, indicator), ``w`` (..., node) in ``spec.codes`` order; returns
    (..., unit, aggregate), written into ``out`` when given. Indicators are not broadcast
    against the weights' leading dims, so the arithmetic mean over weight draws stays one
    GEMM per level.
    """
    n_ind = x.shape[-1]
    shape = np.broadcast_shapes(x.shape[:-2], w.shape[:-1])
    n_agg = sum(len(lvl.parents) for lvl in plan)
    aggs = np.empty((*shape, x.shape[-2], n_agg)) if out is None else out
    for lvl in plan:
        from_ind = lvl.child_pos < n_ind
        run = _as_slice(lvl.child_pos)
        if from_ind.all():
            kids = x[..., run] if run is not None else x[..., lvl.child_pos]
        elif not from_ind.any():
            if run is not None:
                kids = aggs[..., run.start - n_ind : run.stop - n_ind]
            else:
                kids = aggs[..., lvl.child_pos - n_ind]
        else:
            full = (*shape, x.shape[-2], len(lvl.child_pos))
            kids = np.empty(full)
            kids[..., from_ind] = x[..., lvl.child_pos[from_ind]]
            kids[..., ~from_ind] = aggs[..., lvl.child_pos[~from_ind] - n_ind]
        if lvl.check_domain:
            _raise_on_domain(kids, lvl, units, lead)
        aggs[..., lvl.start : lvl.start + len(lvl.parents)] = _ak.aggregate_level(
            kids, w[..., lvl.weight_pos], lvl.parent_index, len(lvl.parents), lvl.method,
            dat_thresh=dat_thresh, **lvl.params,
        )  # fmt: skip
    return aggs


def _as_slice(pos: np.ndarray) -> slice | None:
    """``pos`` as a slice when it is a run of consecutive positions (a view, no copy)."""
    if pos.size and pos[-1] - pos[0] == pos.size - 1 and (np.diff(pos) == 1).all():
        return slice(int(pos[0]), int(pos[-1]) + 1)
    return None


def _raise_on_domain(
    kids: np.ndarray, lvl: _Level, units: np.ndarray, lead: list[tuple[str, np.ndarray]] | None
) -> None:
    bad = _ak.domain_violations(kids, lvl.method, p=lvl.params.get("p"))
    if not bad.any():
        return
    cells = []
    for idx in np.argwhere(bad)[:5]:
        cell: dict[str, Any] = {"unit": _label(units[idx[-2]])}
        if lead is not None and len(lead) == len(idx) - 2:
            cell.update({d: _label(v[i]) for (d, v), i in zip(lead, idx[:-2], strict=True)})
        cell["node"] = lvl.children[idx[-1]]
        cells.append(cell)
    rule = {"geometric": "> 0", "harmonic": "≠ 0", "generalised": "> 0 when p < 0"}[lvl.method]
    raise DataError(
        f"aggregate method {lvl.method!r} needs values {rule}; offending values at {cells} "
        "(node = indicator or aggregate). Normalise onto a positive scale first, e.g. "
        "minmax with lower=1, upper=100."
    )


def _level_methods(
    spec: IndexSpec, method: str, by_level: Mapping[int, str] | None
) -> dict[int, str]:
    names = available("aggregate")
    levels = list(range(2, spec.max_level + 1))
    out = {lvl: method for lvl in levels}
    if by_level is not None:
        bad = sorted(set(by_level) - set(levels))
        if bad:
            raise InvalidParameterError(
                f"The 'by_level' parameter of aggregate names levels {bad}; the aggregation "
                f"levels of this tree are {levels}."
            )
        out.update(by_level)
    for m in out.values():
        if m not in names:
            get_method("aggregate", m)  # raises the standard message
    return out


def method_param_names(methods: set[str]) -> set[str] | None:
    """Extra keyword parameters the aggregation ``methods`` take (``None``: any).

    Examples
    --------
    >>> sorted(method_param_names({"mazziotta_pareto", "copeland"}))
    ['penalty', 'tie_rtol']
    """
    accepted: set[str] = set()
    for name in methods:
        try:
            sig = inspect.signature(get_method("aggregate", name))
        except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
            return None
        pars = list(sig.parameters.values())
        if any(q.kind is inspect.Parameter.VAR_KEYWORD for q in pars):
            return None
        accepted |= {
            q.name
            for q in pars[2:]
            if q.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        }
    return accepted - {"membership", "p"}


def _check_method_params(methods: set[str], params: Mapping[str, Any]) -> None:
    """Unknown method parameters are an error now, not when a lazy result is computed."""
    if not params:
        return
    accepted = method_param_names(methods)
    if accepted is None:
        return
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise InvalidParameterError(
            f"aggregate methods {sorted(methods)} do not take the parameter(s) {unknown}; "
            f"extra parameters they accept: {sorted(accepted) or 'none'}."
        )


def _indicator_data(panel: xr.DataArray, spec: IndexSpec) -> xr.DataArray:
    present = [str(c) for c in panel["indicator"].values]
    have = set(present)
    missing = [c for c in spec.indicators if c not in have]
    if missing:
        raise SpecError(
            f"Indicators {missing} are in the specification but not in the data. Add them to "
            "the panel or drop them from the spec (IndexSpec.subset)."
        )
    wanted = set(spec.indicators)
    extra = [c for c in present if c not in wanted]
    if extra:
        report_dropped(f"aggregate: indicators {extra} are not in the specification; ignored.")
    if tuple(present) == spec.indicators:
        return panel
    return panel.sel(indicator=list(spec.indicators))


def _label(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
