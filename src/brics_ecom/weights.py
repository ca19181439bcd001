"""Weights: nominal, effective, noisy, data-driven and optimised.

Every function that returns a weight set returns an :class:`xarray.DataArray` over
``node`` (optionally with extra dims such as ``draw`` or ``time``): exactly what
:func:`brics_ecom.aggregate` takes as ``weights=``. Only the ratios between siblings
matter to aggregation.

* :func:`equal`, :func:`from_spec` — equal weights and the specification's weights.
* :func:`effective` — the final weight of every node in the index (COINr's
  ``get_eff_weights``), vectorised over draws.
* :func:`noisy` — random perturbations ``w (1 + U(-f, f))`` (COINr's ``get_noisy_weights``).
* :func:`entropy`, :func:`correlation_weights` — data-driven weights within each group
  (Shannon entropy; CRITIC).
* :func:`bod` — benefit-of-the-doubt scores and unit-specific weights (DEA, HiGHS).
* :func:`optimise` — COINr's ``get_opt_weights`` ("balance" and "infomax").

Examples
--------
>>> import brics_ecom as be
>>> from brics_ecom import weights
>>> panel, spec = be.datasets.load_asem()
>>> w = weights.noisy(spec, levels=[2, 3], n=10, rng=1)
>>> w.dims
('draw', 'node')
>>> norm = be.normalise(panel, "minmax", spec=spec)
>>> be.aggregate(norm, spec, weights=w).sizes["draw"]
10
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy import optimize as sopt

from ._kernels import aggregate as _ak
from ._kernels import weights as _wk
from ._multivariate import FactorWeights, factor_weights, pca_weights
from ._validation import as_rng, check_choice, check_number, is_lazy
from .aggregate import node_weights
from .errors import DataError, DataWarning, InvalidParameterError, SpecError
from .spec import IndexSpec, Node

if TYPE_CHECKING:
    from .pipeline import Pipeline
    from .results import Result

__all__ = [
    "BoDResult",
    "EffectiveWeights",
    "FactorWeights",
    "OptimisedWeights",
    "bod",
    "correlation_weights",
    "effective",
    "entropy",
    "equal",
    "factor_weights",
    "from_spec",
    "noisy",
    "optimise",
    "pca_weights",
]


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------


def _check_spec(spec: Any, func: str) -> IndexSpec:
    if not isinstance(spec, IndexSpec):
        raise InvalidParameterError(
            f"The 'spec' parameter of {func} must be an IndexSpec; got {type(spec).__name__}."
        )
    return spec


def _check_level(spec: IndexSpec, level: Any, func: str, *, allow_root: bool = True) -> int:
    valid = [lvl for lvl in spec.levels if allow_root or lvl < spec.max_level]
    if isinstance(level, bool) or not isinstance(level, numbers.Integral) or level not in valid:
        raise InvalidParameterError(
            f"The 'level' parameter of {func} must be one of the levels {valid} of the "
            f"specification; got {level!r}."
        )
    return int(level)


def _node_coords(spec: IndexSpec, codes: Sequence[str]) -> dict[str, Any]:
    return {
        "node": list(codes),
        "level": ("node", np.array([spec.node(c).level for c in codes], dtype=np.int64)),
    }


def _as_weight_array(values: np.ndarray, spec: IndexSpec, lead: Mapping[str, Any]) -> xr.DataArray:
    dims = (*lead, "node")
    coords = {**{k: v for k, v in lead.items() if v is not None}, **_node_coords(spec, spec.codes)}
    return xr.DataArray(values, dims=dims, coords=coords, name="weight")


def _parent_positions(spec: IndexSpec) -> np.ndarray:
    pos = {c: i for i, c in enumerate(spec.codes)}
    return np.array(
        [pos[p] if (p := spec.parent(c)) is not None else -1 for c in spec.codes], dtype=np.intp
    )


def _member_data(
    data: Any, spec: IndexSpec | None, level: int, func: str
) -> tuple[xr.DataArray, str]:
    """The values of the members of ``level`` as (..., unit, member), and the member dim.

    ``data`` is a panel (dim ``indicator``: level 1), a DataArray with a ``node`` dim
    (e.g. ``Result.scores`` or ``aggregate(..., include_indicators=True)``) or a
    :class:`~brics_ecom.results.Result` (its scores).
    """
    from .results import Result

    if isinstance(data, Result):
        if data.scores is None:
            raise InvalidParameterError(
                f"{func}: the result has no scores (its pipeline does not aggregate)."
            )
        data = data.scores
    if not isinstance(data, xr.DataArray):
        raise InvalidParameterError(
            f"The data passed to {func} must be a panel (xarray.DataArray with an 'indicator' "
            f"dim), node scores (a 'node' dim) or a Result; got {type(data).__name__}."
        )
    dim = "indicator" if "indicator" in data.dims else "node" if "node" in data.dims else None
    if dim is None or "unit" not in data.dims:
        raise InvalidParameterError(
            f"The data passed to {func} need a 'unit' dim and an 'indicator' or 'node' dim; "
            f"got dims {data.dims}."
        )
    if spec is None:
        codes = [str(c) for c in data[dim].values]
    else:
        codes = list(spec.level_codes(level))
        present = {str(c) for c in data[dim].values}
        missing = [c for c in codes if c not in present]
        if missing:
            hint = (
                " Level > 1 needs aggregate scores: pass a Result or the output of "
                "aggregate(..., include_indicators=True)."
                if dim == "indicator" and level > 1
                else ""
            )
            raise SpecError(
                f"{func}: the nodes {missing} of level {level} are not in the data's {dim!r} "
                f"dim.{hint}"
            )
    out = data.sel({dim: codes}) if [str(c) for c in data[dim].values] != codes else data
    values = out.values if not is_lazy(out) else None
    if values is not None and np.isinf(values).any():
        raise DataError(f"{func}: the data hold infinite values; use finite numbers or NaN.")
    return out.transpose(..., "unit", dim).astype(np.float64), dim


def _where_label(da: xr.DataArray, mask: np.ndarray, limit: int = 5) -> list[dict[str, Any]]:
    cells = []
    for idx in np.argwhere(mask)[:limit]:
        cells.append({str(d): _plain(da[d].values[i]) for d, i in zip(da.dims, idx, strict=True)})
    return cells


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _groups_of(spec: IndexSpec, codes: Sequence[str]) -> np.ndarray:
    parents = [spec.parent(c) for c in codes]
    labels = {p: i for i, p in enumerate(dict.fromkeys(parents))}
    return np.array([labels[p] for p in parents], dtype=np.intp)


def _stack_reference(x: xr.DataArray, reference: str, member: str) -> xr.DataArray:
    """``pooled``: one sample of all unit-years (dim ``unit`` replaced by a stacked one)."""
    if reference == "pooled" and "time" in x.dims:
        stacked = x.stack(_sample=("time", "unit")).transpose(..., "_sample", member)
        return stacked.drop_vars([c for c in ("_sample", "time", "unit") if c in stacked.coords])
    return x.rename(unit="_sample").transpose(..., "_sample", member)


def _level_weight_set(
    spec: IndexSpec, level: int, values: xr.DataArray, member: str, base: Any = None
) -> xr.DataArray:
    """Full node weights (others from ``base``/the spec) with the level's replaced."""
    full = node_weights(spec, base)
    lvl = values.rename({member: "node"})
    full, lvl = xr.broadcast(full, lvl.reindex(node=full["node"]))
    out = lvl.where(lvl.notnull(), full) if lvl.isnull().any() else lvl
    out = out.transpose(..., "node")
    out = out.assign_coords(_node_coords(spec, spec.codes))
    out.name = "weight"
    return out


# --------------------------------------------------------------------------------------
# nominal weights
# --------------------------------------------------------------------------------------


def equal(spec: IndexSpec) -> xr.DataArray:
    """Equal weights: 1 for every node (so siblings weigh the same).

    Parameters
    ----------
    spec : IndexSpec

    Returns
    -------
    xarray.DataArray
        Dim ``node`` (every indicator and aggregate, in ``spec.codes`` order) with a
        ``level`` coordinate; usable as ``aggregate(..., weights=...)``.

    Examples
    --------
    >>> import brics_ecom as be
    >>> from brics_ecom import weights
    >>> _, spec = be.datasets.load_asem()
    >>> float(weights.equal(spec).sum())
    60.0
    """
    spec = _check_spec(spec, "equal")
    return _as_weight_array(np.ones(len(spec.codes)), spec, {})


def from_spec(spec: IndexSpec) -> xr.DataArray:
    """The weights stored in the specification, over ``node``.

    Examples
    --------
    >>> from brics_ecom.spec import IndexSpec, Node
    >>> from brics_ecom import weights
    >>> spec = IndexSpec([Node("a", parent="I", weight=2), Node("b", parent="I"),
    ...                   Node("I", kind="aggregate")])
    >>> weights.from_spec(spec).values.tolist()
    [2.0, 1.0, 1.0]
    """
    spec = _check_spec(spec, "from_spec")
    return _as_weight_array(np.array([spec.weights[c] for c in spec.codes]), spec, {})


# --------------------------------------------------------------------------------------
# effective weights
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EffectiveWeights:
    """Effective weights of every node (see :func:`effective`).

    Attributes
    ----------
    weights : xarray.DataArray
        The weights used, dims ``(..., node)``.
    effective : xarray.DataArray
        The effective weights, same dims: within-parent normalised weights multiplied
        along the path to the root (the root counts 1).
    """

    weights: xr.DataArray
    effective: xr.DataArray

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: one row per node (and draw), columns ``code``, ``level``,
        ``parent``, ``weight``, ``effective`` (leading dims first, e.g. ``draw``).

        Examples
        --------
        >>> import brics_ecom as be
        >>> from brics_ecom import weights
        >>> _, spec = be.datasets.load_asem()
        >>> weights.effective(spec).to_frame().columns.tolist()
        ['code', 'level', 'parent', 'weight', 'effective']
        """
        ds = xr.Dataset({"weight": self.weights, "effective": self.effective})
        df = ds.reset_coords("level", drop=True).to_dataframe().reset_index()
        df = df.rename(columns={"node": "code"})
        level = dict(zip(self.weights["node"].values, self.weights["level"].values, strict=True))
        parent = self.weights.attrs.get("parents", {})
        cols = list(df.columns)
        df.insert(cols.index("code") + 1, "level", df["code"].map(level).astype(int))
        df.insert(cols.index("code") + 2, "parent", df["code"].map(parent))
        return df


def effective(
    spec: IndexSpec, weights: Mapping[str, float] | xr.DataArray | None = None
) -> EffectiveWeights:
    """The final weight of every indicator and aggregate in the index.

    COINr's ``get_eff_weights``: each weight is divided by the sum of its siblings'
    weights, then multiplied by the normalised weights of all its ancestors (the root
    counts 1). The effective weights of the indicators sum to 1, and so do those of
    each level. Missing data and the aggregation method are ignored.

    Parameters
    ----------
    spec : IndexSpec
    weights : mapping or DataArray, optional
        As for :func:`brics_ecom.aggregate`: ``None`` (the spec's), a partial
        ``{code: weight}`` mapping, or a DataArray over ``node`` with any extra dims
        (e.g. the ``draw`` dim of :func:`noisy`) — all draws at once.

    Returns
    -------
    EffectiveWeights
        ``.effective`` (DataArray ``(..., node)``), ``.weights``, ``.to_frame()``.

    Examples
    --------
    >>> import brics_ecom as be
    >>> from brics_ecom import weights
    >>> _, spec = be.datasets.load_asem()
    >>> eff = weights.effective(spec)
    >>> round(float(eff.effective.sel(node="Goods")), 12)
    0.02
    >>> weights.effective(spec, weights.noisy(spec, n=5, rng=0)).effective.sizes["draw"]
    5
    """
    spec = _check_spec(spec, "effective")
    w = node_weights(spec, weights).transpose(..., "node")
    values = w.values if not is_lazy(w) else np.asarray(w.compute().values)
    eff = _ak.effective_weights(values, _parent_positions(spec))
    coords = _node_coords(spec, spec.codes)
    w = w.assign_coords(coords)
    w.name = "weight"
    parents = {c: spec.parent(c) for c in spec.codes}
    w.attrs = {"parents": parents}
    out = w.copy(data=eff)
    out.name = "effective"
    return EffectiveWeights(weights=w, effective=out)


# --------------------------------------------------------------------------------------
# noisy weights
# --------------------------------------------------------------------------------------


def noisy(
    spec: IndexSpec,
    *,
    noise_factor: float | Mapping[int, float] = 0.25,
    levels: Iterable[int] | None = None,
    n: int = 100,
    rng: int | np.random.Generator | None = None,
    weights: Mapping[str, float] | xr.DataArray | None = None,
) -> xr.DataArray:
    """Random perturbations of the weights, for uncertainty analysis.

    COINr's ``get_noisy_weights``: every weight ``w`` of a node at one of ``levels`` is
    replaced, independently in each draw, by ``w * (1 + f * (2 U - 1))`` with
    ``U ~ Uniform[0, 1)``, i.e. it moves by up to ``± f`` of its nominal value; the
    other weights are unchanged.

    Parameters
    ----------
    spec : IndexSpec
    noise_factor : float or mapping, default 0.25
        ``f`` in ``[0, 1)``, one for all levels or ``{level: f}``.
    levels : iterable of int, optional
        Levels whose weights are perturbed. Default: the keys of ``noise_factor`` if it
        is a mapping, else every level below the root (the root's weight does not
        matter). COINr's ASEM uncertainty example perturbs levels 2 and 3 only.
    n : int, default 100
        Number of draws.
    rng : int, numpy.random.Generator or None
        Seed or generator (global state is never used).
    weights : mapping or DataArray, optional
        Nominal weights (default: the spec's), as for :func:`brics_ecom.aggregate`;
        without extra dims.

    Returns
    -------
    xarray.DataArray
        Dims ``("draw", "node")``; pass it as ``aggregate(..., weights=...)`` to compute
        every draw in one call.

    Raises
    ------
    InvalidParameterError
        Unknown levels, noise factors outside ``[0, 1)``, ``n < 1``.

    Examples
    --------
    >>> import brics_ecom as be
    >>> from brics_ecom import weights
    >>> _, spec = be.datasets.load_asem()
    >>> w = weights.noisy(spec, noise_factor={2: 0.25, 3: 0.1}, n=1000, rng=42)
    >>> lvl3 = w.sel(node=["Conn", "Sust"])
    >>> bool(((lvl3 >= 0.9) & (lvl3 <= 1.1)).all()), bool((w.sel(node="Goods") == 1).all())
    (True, True)
    """
    spec = _check_spec(spec, "noisy")
    n = int(check_number(n, param="n", func="noisy", low=1, integer=True))
    if isinstance(noise_factor, Mapping):
        factors = dict(noise_factor)
        if levels is None:
            levels = list(factors)
    else:
        if levels is None:
            levels = [lvl for lvl in spec.levels if lvl < spec.max_level]
        factors = {lvl: noise_factor for lvl in levels}
    levels = list(levels)
    for lvl in levels:
        _check_level(spec, lvl, "noisy")
    if len(set(levels)) != len(levels):
        raise InvalidParameterError(f"The 'levels' parameter of noisy repeats levels: {levels}.")
    missing = [lvl for lvl in levels if lvl not in factors]
    extra = [lvl for lvl in factors if lvl not in levels]
    if missing or extra:
        raise InvalidParameterError(
            f"The 'noise_factor' mapping of noisy must give one factor per level in {levels}; "
            f"missing {missing}, extra {extra}."
        )
    for lvl, f in factors.items():
        check_number(
            f, param=f"noise_factor[{lvl}]", func="noisy", low=0, high=1, high_inclusive=False
        )
    nominal = node_weights(spec, weights)
    if nominal.dims != ("node",):
        raise InvalidParameterError(
            f"The nominal 'weights' of noisy must be one weight per node; got dims {nominal.dims}."
        )
    node_f = np.array([float(factors.get(int(spec.node(c).level or 0), 0.0)) for c in spec.codes])
    draws = _wk.noisy_weights(nominal.values, node_f, n, as_rng(rng))
    out = _as_weight_array(draws, spec, {"draw": np.arange(n)})
    out.attrs = {"noise_factor": {int(k): float(v) for k, v in factors.items()}}
    return out


# --------------------------------------------------------------------------------------
# entropy and CRITIC
# --------------------------------------------------------------------------------------


def _data_weights(
    kind: str,
    data: Any,
    spec: IndexSpec,
    level: int,
    reference: str,
    weights: Any,
) -> xr.DataArray:
    func = {"entropy": "entropy", "critic": "correlation_weights"}[kind]
    spec = _check_spec(spec, func)
    level = _check_level(spec, level, func)
    check_choice(reference, ("per_time", "pooled"), param="reference", func=func)
    x, member = _member_data(data, spec, level, func)
    codes = [str(c) for c in x[member].values]
    group = _groups_of(spec, codes)
    if kind == "entropy" and not is_lazy(x):
        neg = x.values < 0
        if neg.any():
            raise DataError(
                f"entropy needs non-negative data; negative values at {_where_label(x, neg)}. "
                "Normalise first, e.g. minmax onto [0, 100]."
            )
    sample = _stack_reference(x, reference, member)
    kernel = _wk.entropy_weights if kind == "entropy" else _wk.critic_weights
    out = xr.apply_ufunc(
        lambda a: kernel(a, group)[0],
        sample,
        input_core_dims=[["_sample", member]],
        output_core_dims=[[member]],
        dask="parallelized",
        output_dtypes=[np.float64],
    )
    out = out.assign_coords({member: codes})
    if not is_lazy(out) and out.isnull().any():
        bad = out.isnull()
        cells = _where_label(bad, bad.values)
        why = (
            "a member needs two or more non-missing values, not all 0, and a group needs one "
            "member whose shares are not uniform"
            if kind == "entropy"
            else "a member needs two or more non-missing values, and a group needs one "
            "member that varies and is not perfectly correlated with the others"
        )
        raise DataError(f"{func}: the weights are undefined at {cells} ({why}).")
    result = _level_weight_set(spec, level, out, member, weights)
    result.attrs = {"method": kind, "level": level, "reference": reference}
    return result


def entropy(
    data: xr.DataArray | Result,
    spec: IndexSpec,
    *,
    level: int = 1,
    reference: str = "per_time",
    weights: Mapping[str, float] | xr.DataArray | None = None,
) -> xr.DataArray:
    """Entropy weights of the members of each group at ``level``.

    For member ``i`` with values ``y_ji >= 0`` over the ``n_i`` units where it is
    observed: shares ``p_ji = y_ji / sum_j y_ji``, normalised Shannon entropy
    ``e_i = -sum_j p_ji ln p_ji / ln n_i`` in ``[0, 1]``, and weight
    ``w_i = (1 - e_i) / sum_k (1 - e_k)`` over the siblings ``k`` of ``i`` (the members
    with the same parent). The more unequal an indicator across units, the more it
    weighs; a constant indicator weighs 0.

    Parameters
    ----------
    data : xarray.DataArray or Result
        Non-negative, normalised data (e.g. ``normalise(..., "minmax")``): a panel for
        ``level=1``; node scores or a :class:`~brics_ecom.results.Result` for any level.
    spec : IndexSpec
    level : int, default 1
        The level whose weights are computed (each group = one parent's children).
    reference : {"per_time", "pooled"}, default "per_time"
        Weights per year (a ``time`` dim on the output) or from all unit-years at once.
    weights : mapping or DataArray, optional
        Weights of the other levels (default: the spec's).

    Returns
    -------
    xarray.DataArray
        Weights of every node (dim ``node``, plus ``time`` per year), the level's
        normalised to sum 1 within each parent; usable as ``aggregate(weights=...)``.

    Raises
    ------
    DataError
        Negative data, or weights undefined (a member with < 2 values or all 0, a group
        whose members are all uniform), naming the cells.

    Examples
    --------
    >>> import brics_ecom as be
    >>> from brics_ecom import weights
    >>> panel, spec = be.datasets.load_asem()
    >>> norm = be.normalise(panel, "minmax", spec=spec)
    >>> w = weights.entropy(norm, spec)
    >>> round(float(w.sel(node=list(spec.children("Physical"))).sum()), 12)
    1.0
    """
    return _data_weights("entropy", data, spec, level, reference, weights)


def correlation_weights(
    data: xr.DataArray | Result,
    spec: IndexSpec,
    *,
    level: int = 1,
    reference: str = "per_time",
    weights: Mapping[str, float] | xr.DataArray | None = None,
) -> xr.DataArray:
    """CRITIC weights (Diakoulaki et al., 1995) of the members of each group at ``level``.

    ``C_i = s_i * sum_{j != i} (1 - r_ij)``, the sum over ``i``'s siblings (same
    parent), with ``s_i`` the sample standard deviation and ``r_ij`` the Pearson
    correlation (pairwise-complete); ``w_i = C_i / sum_k C_k`` over the siblings. An
    indicator weighs more when it varies more and is less correlated with (carries
    information not in) its siblings. A parent with one child gives it weight 1.

    Parameters
    ----------
    data : xarray.DataArray or Result
        Normalised data on a common scale (CRITIC uses the standard deviations, so the
        scale matters: e.g. ``normalise(..., "minmax")``).
    spec : IndexSpec
    level : int, default 1
    reference : {"per_time", "pooled"}, default "per_time"
    weights : mapping or DataArray, optional
        Weights of the other levels (default: the spec's).

    Returns
    -------
    xarray.DataArray
        As :func:`entropy`.

    Examples
    --------
    >>> import brics_ecom as be
    >>> from brics_ecom import weights
    >>> panel, spec = be.datasets.load_asem()
    >>> norm = be.normalise(panel, "minmax", spec=spec)
    >>> w = weights.correlation_weights(norm, spec)
    >>> bool((w.sel(node=list(spec.indicators)) > 0).all())
    True
    """
    return _data_weights("critic", data, spec, level, reference, weights)


# --------------------------------------------------------------------------------------
# benefit of the doubt
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BoDResult:
    """Benefit-of-the-doubt scores and weights (see :func:`bod`).

    Attributes
    ----------
    scores : xarray.DataArray
        Dims as the data without the member dim, e.g. ``(unit, time)``; in ``[0, 1]``.
    weights : xarray.DataArray
        Each unit's optimal weights (on the data's scale), with the data's dims: e.g.
        ``(unit, time, indicator)`` for a panel, ``(unit, time, node)`` for the members of
        a level of a result.
    contributions : xarray.DataArray
        ``w_i * y_ci``; they sum to the score.
    model : str
        ``"bod"`` (unit-specific weights), ``"common-sum"`` or ``"common-min"``.
    n_lp : int
        Number of linear programmes solved.
    """

    scores: xr.DataArray
    weights: xr.DataArray
    contributions: xr.DataArray
    model: str
    n_lp: int = 0

    @property
    def shares(self) -> xr.DataArray:
        """Each member's share of the score, ``w_i y_ci / score`` (NaN for a 0 score)."""
        return self.contributions / self.scores.where(self.scores > 0)

    def to_frame(self, values: str = "weights") -> pd.DataFrame:
        """One row per unit (and year): the score, then one column per member.

        Parameters
        ----------
        values : {"weights", "shares", "contributions"}, default "weights"
            What the member columns hold.

        Examples
        --------
        >>> import numpy as np, xarray as xr
        >>> from brics_ecom import weights
        >>> y = xr.DataArray(np.array([[4.0, 1.0], [1.0, 4.0], [2.0, 1.0]]),
        ...                  dims=("unit", "indicator"),
        ...                  coords={"unit": ["a", "b", "c"], "indicator": ["x", "y"]})
        >>> weights.bod(y).to_frame().round(3).to_dict("list")
        {'score': [1.0, 1.0, 0.6], 'x': [0.25, 0.0, 0.2], 'y': [0.0, 0.25, 0.2]}
        """
        check_choice(
            values, ("weights", "shares", "contributions"), param="values", func="to_frame"
        )
        member = self.weights.dims[-1]
        part = getattr(self, values)
        wide = part.to_dataset(dim=member)
        ds = xr.Dataset({"score": self.scores}).merge(wide, compat="override")
        keep = ["score", *[str(c) for c in self.weights[member].values]]
        coords = [c for c in ds.coords if c not in ds.dims]
        df = ds.drop_vars(coords).to_dataframe()
        return df[keep]


def _as_bounds(
    value: Any, codes: list[str], name: str, default: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """``(lower, upper)`` arrays from None, a pair of scalars/mappings, or {code: pair}."""
    m = len(codes)
    lo = np.full(m, default[0], dtype=float)
    hi = np.full(m, default[1], dtype=float)
    if value is None:
        return lo, hi
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - set(codes), key=str)
        if unknown:
            raise InvalidParameterError(
                f"The {name!r} parameter of bod names {unknown}, which are not among the "
                f"weighted members {codes}."
            )
        for code, pair in value.items():
            if not isinstance(pair, Sequence) or isinstance(pair, str) or len(pair) != 2:
                raise InvalidParameterError(
                    f"The {name!r} parameter of bod must map codes to (lower, upper) pairs; "
                    f"got {pair!r} for {code!r}."
                )
            i = codes.index(code)
            lo[i] = default[0] if pair[0] is None else _num(pair[0], name, code)
            hi[i] = default[1] if pair[1] is None else _num(pair[1], name, code)
        return lo, hi
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
        for k, (part, arr) in enumerate(zip(value, (lo, hi), strict=True)):
            side = ("lower", "upper")[k]
            if part is None:
                continue
            if isinstance(part, Mapping):
                unknown = sorted(set(part) - set(codes), key=str)
                if unknown:
                    raise InvalidParameterError(
                        f"The {side} {name!r} of bod name {unknown}, which are not among the "
                        f"weighted members {codes}."
                    )
                for code, v in part.items():
                    arr[codes.index(code)] = _num(v, name, code)
            else:
                arr[:] = _num(part, name, "every member")
        return lo, hi
    raise InvalidParameterError(
        f"The {name!r} parameter of bod must be None, a (lower, upper) pair (numbers or "
        f"{{code: number}} mappings) or a {{code: (lower, upper)}} mapping; got {value!r}."
    )


def _num(v: Any, name: str, code: str) -> float:
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or math.isnan(v):
        raise InvalidParameterError(
            f"The {name!r} parameter of bod gives {v!r} for {code}; expected a number."
        )
    return float(v)


def _check_bounds(
    lo: np.ndarray, hi: np.ndarray, slo: np.ndarray, shi: np.ndarray, codes: list[str]
) -> None:
    def names(mask: np.ndarray) -> list[str]:
        return [codes[i] for i in np.flatnonzero(mask)]

    if (bad := (lo < 0) | ~np.isfinite(lo)).any():
        raise InvalidParameterError(
            f"The lower weight bounds of {names(bad)} must be finite and >= 0; got "
            f"{lo[bad].tolist()}."
        )
    if (bad := hi < lo).any():
        raise InvalidParameterError(
            f"Infeasible weight bounds for {names(bad)}: upper {hi[bad].tolist()} < lower "
            f"{lo[bad].tolist()}."
        )
    if (bad := (slo < 0) | (slo > 1) | (shi < 0) | (shi > 1)).any():
        raise InvalidParameterError(
            f"Share bounds must lie in [0, 1]; {names(bad)} have lower {slo[bad].tolist()} and "
            f"upper {shi[bad].tolist()}."
        )
    if (bad := shi < slo).any():
        raise InvalidParameterError(
            f"Infeasible share bounds for {names(bad)}: upper {shi[bad].tolist()} < lower "
            f"{slo[bad].tolist()}."
        )
    if slo.sum() > 1 + 1e-12:
        raise InvalidParameterError(
            f"Infeasible share bounds: the lower share bounds sum to {slo.sum():g} > 1 "
            f"({dict(zip(names(slo > 0), slo[slo > 0].tolist(), strict=True))})."
        )
    if shi.sum() < 1 - 1e-12:
        raise InvalidParameterError(
            f"Infeasible share bounds: the upper share bounds sum to {shi.sum():g} < 1 "
            f"({dict(zip(codes, shi.tolist(), strict=True))})."
        )


def bod(
    data: xr.DataArray | Result,
    spec: IndexSpec | None = None,
    *,
    level: int = 1,
    bounds: Any = None,
    share_bounds: Any = None,
    common: bool | str = False,
    missing: str = "raise",
    tol: float = 1e-9,
) -> BoDResult:
    r"""Benefit-of-the-doubt (BoD) composite scores with unit-specific weights.

    For each unit ``c`` (and each year, and each slice of any other extra dim),
    the weights that show it in the best light:

    .. math::

        \max_{w} \sum_i w_i y_{ci} \quad \text{s.t.} \quad \sum_i w_i y_{ji} \le 1
        \ \forall j, \qquad w \ge 0,

    plus optional restrictions — an output-only DEA model with a unit input and constant
    returns (Cherchye et al., 2007) — solved with :func:`scipy.optimize.linprog`
    (HiGHS), one LP per unit with a shared working set of constraints (see
    :func:`brics_ecom._kernels.weights.bod_lp`). A score of 1 means no other unit beats
    the unit with its own best weights.

    Parameters
    ----------
    data : xarray.DataArray or Result
        **Normalised, non-negative** data where higher is better (e.g.
        ``normalise(..., "minmax")``): a panel, node scores or a Result.
    spec : IndexSpec, optional
        With a spec, the members of ``level`` are weighted; without, every indicator of
        the panel.
    level : int, default 1
        Level whose members are weighted (> 1 needs aggregate scores).
    bounds : optional
        Bounds on the weights themselves (on the data's scale): a ``(lower, upper)``
        pair of numbers or ``{code: number}`` mappings, or ``{code: (lower, upper)}``;
        ``None`` entries mean 0 and no upper bound.
    share_bounds : optional
        Bounds on each member's share of the unit's score, ``w_i y_ci / sum_k w_k y_ck``,
        in ``[0, 1]``, same forms (restricted BoD; Cherchye et al.'s "pie shares").
    common : bool or {"sum", "min"}, default False
        ``False``: unit-specific weights. ``"sum"`` (or ``True``): one common weight
        vector maximising the sum of all units' scores; ``"min"``: one maximising the
        lowest score (max–min). Common models apply ``share_bounds`` to the mean unit.
    missing : {"raise", "drop"}, default "raise"
        ``"drop"``: units with a missing value get NaN and are left out of that year's
        constraints.
    tol : float, default 1e-9
        Accepted constraint violation for constraints outside the working set.

    Returns
    -------
    BoDResult
        ``scores``, ``weights``, ``contributions``, ``shares``, ``to_frame()``.

    Raises
    ------
    DataError
        Negative or (with ``missing="raise"``) missing values, naming the cells.
    InvalidParameterError
        Malformed or infeasible bounds (naming them and, for lower weight bounds that no
        unit can meet, the unit).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> from brics_ecom import weights
    >>> y = xr.DataArray(np.array([[1.0, 0.2], [0.2, 1.0], [0.9, 0.9], [0.5, 0.4]]),
    ...                  dims=("unit", "indicator"),
    ...                  coords={"unit": list("abcd"), "indicator": ["x", "y"]})
    >>> np.round(weights.bod(y).scores.values, 6).tolist()
    [1.0, 1.0, 1.0, 0.541667]
    >>> r = weights.bod(y, share_bounds=(0.3, 0.7))  # no indicator above 70 % of a score
    >>> np.round(r.scores.values, 6).tolist()
    [0.505051, 0.505051, 1.0, 0.516796]
    >>> bool((r.shares.sel(unit="a") >= 0.3 - 1e-9).all())
    True
    """
    if spec is not None:
        spec = _check_spec(spec, "bod")
        level = _check_level(spec, level, "bod")
    x, member = _member_data(data, spec, level, "bod")
    source = data.scores if not isinstance(data, xr.DataArray) else data
    data_dims = list(source.dims) if isinstance(source, xr.DataArray) else list(x.dims)
    codes = [str(c) for c in x[member].values]
    check_choice(missing, ("raise", "drop"), param="missing", func="bod")
    check_number(tol, param="tol", func="bod", low=0)
    if common is True:
        common = "sum"
    if common is not False and common not in ("sum", "min"):
        raise InvalidParameterError(
            f"The 'common' parameter of bod must be False, True, 'sum' or 'min'; got {common!r}."
        )
    lo, hi = _as_bounds(bounds, codes, "bounds", (0.0, math.inf))
    slo, shi = _as_bounds(share_bounds, codes, "share_bounds", (0.0, 1.0))
    _check_bounds(lo, hi, slo, shi, codes)
    x = x.compute() if is_lazy(x) else x
    values = x.values
    if (neg := values < 0).any():
        raise DataError(
            f"bod needs non-negative data (higher = better); negative values at "
            f"{_where_label(x, neg)}. Normalise first, e.g. minmax onto [0, 1]."
        )
    nan = np.isnan(values)
    if missing == "raise" and nan.any():
        raise DataError(
            f"bod: missing values at {_where_label(x, nan)}; impute them first or pass "
            "missing='drop' to leave those units out."
        )
    lead_shape = values.shape[:-2]
    n_unit = values.shape[-2]
    scores = np.full((*lead_shape, n_unit), np.nan)
    weights = np.full(values.shape, np.nan)
    n_lp = 0
    lead_dims = x.dims[:-2]
    for idx in np.ndindex(*lead_shape):
        where = {str(d): _plain(x[d].values[i]) for d, i in zip(lead_dims, idx, strict=True)}
        y_all = values[idx]
        ok = ~np.isnan(y_all).any(axis=1)
        y = y_all[ok]
        units = np.asarray(x["unit"].values)[ok]
        if y.shape[0] == 0:
            continue
        _precheck(y, units, lo, slo, codes, where)
        try:
            if common is False:
                s, w, info = _wk.bod_lp(y, lo, hi, slo, shi, tol=tol)
                n_lp += int(info["n_lp"])
            else:
                s, wc = _wk.bod_common(y, str(common), lo, hi, slo, shi)
                w = np.broadcast_to(wc, y.shape)
                n_lp += 1
        except _wk.BoDInfeasibleError as exc:
            raise _infeasible(exc, units, bounds, share_bounds, where) from None
        scores[idx][ok] = s
        weights[idx][ok] = w
    order = [d for d in data_dims if d in x.dims]
    score_da = x.isel({member: 0}, drop=True).copy(data=scores)
    score_da = score_da.transpose(*[d for d in order if d != member])
    score_da.name = "score"
    score_da.attrs = {}
    weight_da = x.copy(data=weights).transpose(*order)
    weight_da.name = "weight"
    weight_da.attrs = {}
    contrib = weight_da * x.transpose(*order)
    contrib.name = "contribution"
    model = "bod" if common is False else f"common-{common}"
    return BoDResult(score_da, weight_da, contrib, model, n_lp)


def _precheck(
    y: np.ndarray,
    units: np.ndarray,
    lo: np.ndarray,
    slo: np.ndarray,
    codes: list[str],
    where: Mapping[str, Any],
) -> None:
    floor = y @ lo
    if (bad := floor > 1 + 1e-12).any():
        j = int(np.argmax(floor))
        named = {codes[i]: float(lo[i]) for i in np.flatnonzero(lo > 0)}
        raise InvalidParameterError(
            f"Infeasible BoD weight bounds: with the lower bounds {named}, unit "
            f"{_plain(units[j])!r}{_at(where)} already scores {floor[j]:.6g} > 1 "
            f"({int(bad.sum())} unit(s) do). Lower the bounds (they are on the data's scale)."
        )
    if (slo > 0).any():
        zero = (y[:, slo > 0] == 0).any(axis=1) & (y > 0).any(axis=1)
        if zero.any():
            warnings.warn(
                f"bod: units {[_plain(u) for u in units[zero]][:10]}{_at(where)} are 0 on a "
                f"member with a positive lower share bound "
                f"({[codes[i] for i in np.flatnonzero(slo > 0)]}); their score is forced to 0.",
                DataWarning,
                stacklevel=3,
            )


def _at(where: Mapping[str, Any]) -> str:
    return "" if not where else " (" + ", ".join(f"{k}={v!r}" for k, v in where.items()) + ")"


def _infeasible(
    exc: Exception, units: np.ndarray, bounds: Any, share_bounds: Any, where: Mapping[str, Any]
) -> InvalidParameterError:
    text = str(exc)
    unit = ""
    if "unit " in text:
        try:
            k = int(text.split("unit ")[1].split(":")[0])
            unit = f" for unit {_plain(units[k])!r}"
        except (ValueError, IndexError):  # pragma: no cover - defensive
            unit = ""
    return InvalidParameterError(
        f"Infeasible BoD restrictions{unit}{_at(where)}: bounds={bounds!r}, "
        f"share_bounds={share_bounds!r} leave no admissible weights. Loosen them."
    )


# --------------------------------------------------------------------------------------
# optimised weights (COINr's get_opt_weights)
# --------------------------------------------------------------------------------------

_SOLVERS = ("L-BFGS-B", "Nelder-Mead", "Powell", "TNC", "SLSQP", "coinr")
_CORTYPES = ("pearson", "spearman")


@dataclass(frozen=True)
class OptimisedWeights:
    """Outcome of :func:`optimise`.

    Attributes
    ----------
    weights : xarray.DataArray
        Every node's weight (dim ``node``), the optimised level normalised to sum 1 over
        the level as COINr does; pass it to ``aggregate(weights=...)``.
    level, method : int, str
        What was optimised and how (``"balance"`` or ``"infomax"``).
    objective, nominal_objective : float
        COINr's objective (lower is better) at the optimum and at the starting weights:
        ``log(mean((t - r / sum r)^2))`` for "balance", ``-sum(r)`` for "infomax".
    correlations, nominal_correlations : xarray.DataArray
        Correlation of each component of the level with the index, over ``component``.
    targets : xarray.DataArray or None
        The target importances, normalised to sum 1 ("balance").
    report : object
        The optimiser's report for the best start (:class:`scipy.optimize.OptimizeResult`
        or, for ``solver="coinr"``, :class:`~brics_ecom._kernels.weights.NelderMeadResult`).
    starts : list of dict
        Each start's initial weights, objective reached and success flag.
    """

    weights: xr.DataArray
    level: int
    method: str
    objective: float
    nominal_objective: float
    correlations: xr.DataArray
    nominal_correlations: xr.DataArray
    targets: xr.DataArray | None
    report: Any
    starts: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, float]:
        """``{code: weight}`` for every node (e.g. for ``Pipeline.with_weights``)."""
        return {
            str(k): float(v)
            for k, v in zip(self.weights["node"].values, self.weights.values, strict=True)
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per component: target, correlations (normalised for "balance") and
        weights, optimised and nominal."""
        comps = [str(c) for c in self.correlations["component"].values]
        r, r0 = self.correlations.values, self.nominal_correlations.values
        df = pd.DataFrame(index=pd.Index(comps, name="component"))
        if self.targets is not None:
            df["target"] = self.targets.values
            df["corr_share"] = r / r.sum()
            df["nominal_corr_share"] = r0 / r0.sum()
        df["correlation"] = r
        df["nominal_correlation"] = r0
        df["weight"] = self.weights.sel(node=comps).values
        return df


def _resolve_result(result_or_pipeline: Any, panel: Any) -> Result:
    from .pipeline import Pipeline
    from .results import Result

    if isinstance(result_or_pipeline, Result):
        if panel is not None:
            raise InvalidParameterError(
                "optimise: pass either a Result, or a Pipeline and a panel; not a Result and "
                "a panel."
            )
        return result_or_pipeline
    if isinstance(result_or_pipeline, Pipeline):
        if panel is None:
            raise InvalidParameterError("optimise: a Pipeline needs the panel to run it on.")
        return result_or_pipeline.run(panel)
    raise InvalidParameterError(
        "The first parameter of optimise must be a Result or a Pipeline; got "
        f"{type(result_or_pipeline).__name__}."
    )


def _upper_tree(spec: IndexSpec, level: int) -> IndexSpec | None:
    """The tree above ``level`` with the level's nodes as indicators (None if unbalanced)."""
    if level == 1:
        return spec
    nodes = []
    for code in spec.codes:
        node = spec.node(code)
        assert node.level is not None
        if node.level < level:
            continue
        if any(spec.node(k).level < level for k in spec.children(code)):  # type: ignore[operator]
            return None
        kind = "indicator" if node.level == level else "aggregate"
        nodes.append(
            Node(
                code,
                parent=node.parent,
                kind=kind,
                weight=node.weight,
                level=node.level - level + 1 if kind == "aggregate" else None,
            )
        )
    return IndexSpec(nodes, name=spec.name)


def optimise(
    result_or_pipeline: Result | Pipeline,
    panel: xr.DataArray | None = None,
    *,
    level: int = 2,
    method: str = "balance",
    targets: Sequence[float] | Mapping[str, float] | None = None,
    cortype: str = "pearson",
    time: Hashable | None = None,
    bounds: tuple[float, float] = (0.0, 1.0),
    solver: str = "L-BFGS-B",
    n_starts: int = 4,
    rng: int | np.random.Generator | None = 0,
    maxiter: int = 1000,
    toler: float = 0.1,
) -> OptimisedWeights:
    """Optimise the weights of one level against the correlations with the index.

    COINr's ``get_opt_weights`` (Becker et al., 2017, linear version). Only the weights
    of the nodes at ``level`` change; the index is re-aggregated with the pipeline's own
    aggregation settings, and ``r_k`` is the correlation of component ``k`` (a node at
    ``level``) with the index, over units.

    ``"balance"``
        make the correlations proportional to the target importances ``t`` (equal by
        default): minimise COINr's objective ``log(mean_k (t_k - r_k / sum r)^2)``.
    ``"infomax"``
        maximise the sum of the correlations: minimise ``-sum_k r_k``.

    Parameters
    ----------
    result_or_pipeline : Result or Pipeline
        A result of a pipeline that aggregates (its data before the aggregate step must
        be kept), or a pipeline plus ``panel``.
    panel : xarray.DataArray, optional
        The panel to run a pipeline on.
    level : int, default 2
        The level whose weights are optimised (below the root).
    method : {"balance", "infomax"}
    targets : sequence or mapping, optional
        Relative target importances, one per node of ``level`` (in ``spec`` order, or
        ``{code: target}``); "balance" only; normalised to sum 1.
    cortype : {"pearson", "spearman"}
    time : hashable or "pooled", optional
        Year whose correlations are used (default: the last); ``"pooled"`` uses all
        unit-years at once.
    bounds : (float, float), default (0, 1)
        Box for the level's weights during the search (weights are then normalised).
    solver : str, default "L-BFGS-B"
        A bounded :func:`scipy.optimize.minimize` method (``"L-BFGS-B"``,
        ``"Nelder-Mead"``, ``"Powell"``, ``"TNC"``, ``"SLSQP"``), run from several starts,
        or ``"coinr"``: replay COINr exactly — R's Nelder–Mead from COINr's start, no
        bounds, ``reltol=toler``, ``maxit=maxiter`` (use ``maxiter=500``).
    n_starts : int, default 4
        Random starts besides COINr's start and the nominal weights.
    rng : int, Generator or None, default 0
        Seed of the random starts.
    maxiter : int, default 1000
        Iteration limit of each run.
    toler : float, default 0.1
        ``reltol`` of the ``"coinr"`` solver (COINr's default).

    Returns
    -------
    OptimisedWeights

    Raises
    ------
    InvalidParameterError
        Unknown level or method, targets of the wrong length, negative, NaN or summing
        to 0, targets with "infomax", bad bounds or solver.

    Examples
    --------
    >>> import brics_ecom as be
    >>> from brics_ecom import weights
    >>> panel, spec = be.datasets.load_asem()
    >>> res = be.Pipeline.coinr_example(spec).run(panel)
    >>> opt = weights.optimise(res, level=3, n_starts=0)
    >>> bool(opt.objective < opt.nominal_objective)
    True
    >>> alt = be.aggregate(res.data["normalise"], spec, weights=opt.weights)
    >>> round(float(alt.sel(node="Index").mean()), 6) > 0
    True
    """
    res = _resolve_result(result_or_pipeline, panel)
    spec = res.spec
    level = _check_level(spec, level, "optimise", allow_root=False)
    check_choice(method, ("balance", "infomax"), param="method", func="optimise")
    check_choice(cortype, _CORTYPES, param="cortype", func="optimise")
    check_choice(solver, _SOLVERS, param="solver", func="optimise")
    n_starts = int(check_number(n_starts, param="n_starts", func="optimise", low=0, integer=True))
    maxiter = int(check_number(maxiter, param="maxiter", func="optimise", low=1, integer=True))
    check_number(toler, param="toler", func="optimise", low=0, low_inclusive=False)
    lo_b, hi_b = _opt_bounds(bounds)
    comps = list(spec.level_codes(level))
    t = _targets(targets, comps, method)

    # the pipeline's aggregation settings and starting weights
    pipe = res.pipeline
    params = dict(pipe.step("aggregate").params)
    agg_method = params.pop("method", "arithmetic")
    base = params.pop("weights", None)
    if isinstance(base, str):
        base = pipe.weight_sets[base]
    w_full = node_weights(spec, base)
    if w_full.dims != ("node",):
        raise InvalidParameterError(
            f"optimise needs one weight per node in the aggregate step; got dims {w_full.dims}."
        )
    if res.scores is None:
        raise InvalidParameterError("optimise: the result has no scores.")
    scores = res.scores
    sub = _upper_tree(spec, level)
    by_level = params.pop("by_level", None)
    if sub is None or sub is spec:
        sub = spec
        feed = res.data.get(_input_step(pipe))
        if feed is None:
            raise InvalidParameterError(
                f"optimise needs the data entering the aggregate step ({_input_step(pipe)!r}); "
                "run the pipeline with keep including it."
            )
        feed = feed.sel(indicator=list(spec.indicators))
    else:
        feed = scores.sel(node=comps).rename(node="indicator")
        if by_level is not None:
            by_level = {k - level + 1: v for k, v in by_level.items() if k > level}
    comp_scores = scores.sel(node=comps)
    # time selection
    feed, comp_scores = _select_time(feed, comp_scores, time)
    x_comp = _flat_units(comp_scores, "node")  # (sample, k)
    if cortype == "spearman":
        x_comp = _ranks(x_comp, axis=-2)
    sub_codes = list(sub.codes)
    w_sub = w_full.sel(node=sub_codes).values.copy()
    pos = np.array([sub_codes.index(c) for c in comps])
    free = _free_members(spec, comps)
    if not free.any():
        raise InvalidParameterError(
            f"optimise: every node of level {level} is the only child of its parent; there "
            "are no weight ratios to optimise."
        )
    agg_kw = {k: v for k, v in params.items() if v is not None}

    evaluator = _TreeEvaluator(sub, agg_method, by_level, agg_kw)
    feed_v = feed.transpose(..., "unit", "indicator").values

    def correlations(wl: np.ndarray) -> np.ndarray:
        """Correlations with the index for a batch of level weight vectors (K, k)."""
        wl = np.atleast_2d(wl)
        wl = wl / wl.sum(axis=1, keepdims=True)
        draws = np.repeat(w_sub[np.newaxis, :], wl.shape[0], axis=0)
        draws[:, pos] = wl
        idx = evaluator.root(feed_v, draws)  # (K, [time,] unit)
        idx = idx.reshape(idx.shape[0], -1)
        if cortype == "spearman":
            idx = _ranks(idx, axis=-1)
        return _wk.corr_with(x_comp[np.newaxis], idx)

    def coinr_objective(r: np.ndarray) -> np.ndarray:
        if t is not None:
            return _wk.balance_objective(r, t)
        return _wk.infomax_objective(r)

    def smooth(r: np.ndarray) -> np.ndarray:  # same minimiser, no log: better conditioned
        if t is not None:
            rn = r / r.sum(axis=-1, keepdims=True)
            return ((t - rn) ** 2).mean(axis=-1)
        return -r.sum(axis=-1)

    w_nom = w_full.sel(node=comps).values
    if method == "balance":
        assert t is not None
        coinr_start = t.copy()
    else:
        coinr_start = w_nom.copy()
    r_nom = correlations(w_nom)[0]
    nominal_obj = float(coinr_objective(r_nom))

    starts_out: list[dict[str, Any]] = []
    if solver == "coinr":
        report = _run_coinr(correlations, coinr_objective, coinr_start, toler, maxiter, level)
        best_w = np.asarray(report.x, dtype=float)
        starts_out.append({"x0": coinr_start.tolist(), "objective": report.fun, "success": True})
    else:
        gen = as_rng(rng)

        def expand(z: np.ndarray) -> np.ndarray:
            out = np.array(w_nom / w_nom.sum(), dtype=float)
            out[free] = z
            return out

        def fun(z: np.ndarray) -> float:
            val = smooth(correlations(expand(z)))[0]
            return float(val) if np.isfinite(val) else 1e10

        def fun_grad(z: np.ndarray) -> tuple[float, np.ndarray]:
            h = 1e-6
            k = z.size
            pts = np.repeat(z[np.newaxis, :], 2 * k + 1, axis=0)
            central = z - h >= 0
            for i in range(k):
                pts[1 + i, i] += h
                pts[1 + k + i, i] = z[i] - h if central[i] else z[i]
            vals = smooth(correlations(np.array([expand(p) for p in pts])))
            if not np.isfinite(vals).all():
                return 1e10, np.zeros(k)
            f0 = vals[0]
            up, down = vals[1 : k + 1], vals[k + 1 :]
            grad = np.where(central, (up - down) / (2 * h), (up - f0) / h)
            return float(f0), grad

        x0s = [coinr_start, w_nom]
        x0s += [gen.uniform(max(lo_b, 0.05), hi_b, size=len(comps)) for _ in range(n_starts)]
        best = None
        report = None
        for x0 in x0s:
            z0 = np.clip((x0 / x0.max()) * hi_b, lo_b, hi_b)[free]
            box = [(lo_b, hi_b)] * int(free.sum())
            if solver in ("L-BFGS-B", "TNC", "SLSQP"):
                opt = sopt.minimize(
                    fun_grad, z0, jac=True, method=solver, bounds=box,
                    options=_solver_options(solver, maxiter),
                )  # fmt: skip
            else:
                opt = sopt.minimize(
                    fun, z0, method=solver, bounds=box, options=_solver_options(solver, maxiter)
                )
            val = float(opt.fun)
            starts_out.append({"x0": x0.tolist(), "objective": val, "success": bool(opt.success)})
            if best is None or val < best:
                best, report = val, opt
        assert report is not None
        best_w = expand(np.asarray(report.x, dtype=float))
    best_w = best_w / best_w.sum()
    r_opt = correlations(best_w)[0]
    obj = float(coinr_objective(r_opt))
    if solver != "coinr":
        for s in starts_out:  # report COINr's objective for every start
            s["objective"] = float(_smooth_to_coinr(s["objective"], method))
    out_w = w_full.copy(deep=True)
    out_w.loc[{"node": comps}] = best_w
    out_w = out_w.assign_coords(_node_coords(spec, spec.codes))
    out_w.name = "weight"
    out_w.attrs = {"method": f"optimise-{method}", "level": level}
    comp_coord = {"component": comps}
    return OptimisedWeights(
        weights=out_w,
        level=level,
        method=method,
        objective=obj,
        nominal_objective=nominal_obj,
        correlations=xr.DataArray(r_opt, dims="component", coords=comp_coord),
        nominal_correlations=xr.DataArray(r_nom, dims="component", coords=comp_coord),
        targets=None if t is None else xr.DataArray(t, dims="component", coords=comp_coord),
        report=report,
        starts=starts_out,
    )


class _TreeEvaluator:
    """The index for many weight vectors at once, straight from the aggregation kernel.

    Replays :func:`brics_ecom.aggregate` (same plan: level by level, each aggregate from
    its direct children, :func:`brics_ecom._kernels.aggregate.aggregate_level`) without
    the front door's per-call validation, which dominates when an optimiser evaluates a
    few weight vectors thousands of times.
    """

    def __init__(
        self,
        spec: IndexSpec,
        method: str,
        by_level: Mapping[int, str] | None,
        params: Mapping[str, Any],
    ) -> None:
        self.params = dict(params)
        self.dat_thresh = self.params.pop("dat_thresh", None)
        self.p = self.params.pop("p", None)
        codes = list(spec.codes)
        position = {c: i for i, c in enumerate(spec.indicators)}
        self.n_ind = len(position)
        self.plan: list[tuple[np.ndarray, np.ndarray, np.ndarray, int, str]] = []
        for lvl in range(2, spec.max_level + 1):
            parents = list(spec.level_codes(lvl))
            if not parents:
                continue
            kids = [c for par in parents for c in spec.children(par)]
            self.plan.append(
                (
                    np.array([position[c] for c in kids], dtype=np.intp),
                    np.array([codes.index(c) for c in kids], dtype=np.intp),
                    np.array([parents.index(str(spec.parent(c))) for c in kids], dtype=np.intp),
                    len(parents),
                    (by_level or {}).get(lvl, method),
                )
            )
            for par in parents:
                position[par] = len(position)

    def root(self, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Root scores, (K, ..., unit), for data (..., unit, ind) and weights (K, node)."""
        lead = x.ndim - 2
        w = w.reshape(w.shape[0], *([1] * lead), w.shape[-1])
        cols: list[np.ndarray] = [x[..., i] for i in range(self.n_ind)]
        out = cols[0]
        for child_pos, weight_pos, parent_index, n_par, meth in self.plan:
            kids = np.stack(np.broadcast_arrays(*[cols[i] for i in child_pos]), axis=-1)
            with np.errstate(invalid="ignore", divide="ignore"):
                out = _ak.aggregate_level(
                    kids, w[..., weight_pos], parent_index, n_par, meth,
                    p=self.p, dat_thresh=self.dat_thresh, **self.params,
                )  # fmt: skip
            cols.extend(out[..., j] for j in range(n_par))
        return cols[-1]


def _smooth_to_coinr(value: float, method: str) -> float:
    if method == "balance":
        return math.log(value) if value > 0 else -math.inf
    return value


def _solver_options(solver: str, maxiter: int) -> dict[str, Any]:
    if solver == "L-BFGS-B":
        return {"maxiter": maxiter, "ftol": 1e-15, "gtol": 1e-12}
    if solver == "Nelder-Mead":
        return {"maxiter": maxiter, "xatol": 1e-10, "fatol": 1e-16}
    if solver == "Powell":
        return {"maxiter": maxiter, "xtol": 1e-10, "ftol": 1e-16}
    if solver == "TNC":
        return {"maxfun": maxiter, "ftol": 1e-16}
    return {"maxiter": maxiter, "ftol": 1e-16}


def _run_coinr(
    correlations: Any, objective: Any, x0: np.ndarray, toler: float, maxiter: int, level: int
) -> _wk.NelderMeadResult:
    def fn(w: np.ndarray) -> float:
        if (w / w.sum() < 0).any():
            raise InvalidParameterError(
                f"optimise(solver='coinr'): R's Nelder–Mead stepped to negative weights at "
                f"level {level} ({w.tolist()}), which brics_ecom's aggregation refuses; use a "
                "bounded solver such as 'L-BFGS-B'."
            )
        return float(objective(correlations(w))[0])

    return _wk.nelder_mead_r(fn, x0, reltol=toler, maxit=maxiter)


def _opt_bounds(bounds: Any) -> tuple[float, float]:
    if not isinstance(bounds, Sequence) or isinstance(bounds, str) or len(bounds) != 2:
        raise InvalidParameterError(
            f"The 'bounds' parameter of optimise must be a (lower, upper) pair; got {bounds!r}."
        )
    lo = check_number(bounds[0], param="bounds[0]", func="optimise", low=0)
    hi = check_number(bounds[1], param="bounds[1]", func="optimise", low=0, low_inclusive=False)
    if not lo < hi:
        raise InvalidParameterError(
            f"The 'bounds' of optimise must have lower < upper; got {bounds!r}."
        )
    return float(lo), float(hi)


def _targets(targets: Any, comps: list[str], method: str) -> np.ndarray | None:
    if method == "infomax":
        if targets is not None:
            raise InvalidParameterError(
                "optimise(method='infomax') maximises the sum of correlations and takes no "
                "'targets'; use method='balance' for target importances."
            )
        return None
    if targets is None:
        return np.full(len(comps), 1.0 / len(comps))
    if isinstance(targets, Mapping):
        unknown = sorted(set(targets) - set(comps), key=str)
        missing = [c for c in comps if c not in targets]
        if unknown or missing:
            raise InvalidParameterError(
                f"The 'targets' mapping of optimise must give one target per component "
                f"{comps}; unknown {unknown}, missing {missing}."
            )
        values = [targets[c] for c in comps]
    elif isinstance(targets, str) or not isinstance(targets, Iterable):
        raise InvalidParameterError(
            f"The 'targets' parameter of optimise must be a sequence or a {{code: target}} "
            f"mapping; got {targets!r}."
        )
    else:
        values = list(targets)
    if len(values) != len(comps):
        raise InvalidParameterError(
            f"The 'targets' parameter of optimise has {len(values)} values; level has "
            f"{len(comps)} components {comps}."
        )
    try:
        arr = np.array(values, dtype=float)
    except (TypeError, ValueError):
        raise InvalidParameterError(
            f"The 'targets' of optimise must be numbers; got {values!r}."
        ) from None
    if not np.isfinite(arr).all() or (arr < 0).any():
        raise InvalidParameterError(
            f"The 'targets' of optimise must be finite and >= 0; got {arr.tolist()}."
        )
    if arr.sum() <= 0:
        raise InvalidParameterError(
            f"The 'targets' of optimise sum to 0; give at least one positive target "
            f"(got {arr.tolist()})."
        )
    return arr / arr.sum()


def _input_step(pipe: Pipeline) -> str:
    names = [s.name for s in pipe.steps]
    i = names.index("aggregate")
    return names[i - 1] if i > 0 else "raw"


def _free_members(spec: IndexSpec, comps: list[str]) -> np.ndarray:
    return np.array([len(spec.children(str(spec.parent(c)))) > 1 for c in comps])


def _select_time(
    feed: xr.DataArray, comp: xr.DataArray, time: Any
) -> tuple[xr.DataArray, xr.DataArray]:
    if "time" not in comp.dims:
        if time not in (None, "pooled"):
            raise InvalidParameterError(f"optimise: time={time!r} given but the data have no time.")
        return feed, comp
    if time == "pooled":
        return feed, comp
    years = comp["time"].values.tolist()
    t = years[-1] if time is None else time
    if t not in years:
        raise InvalidParameterError(
            f"The 'time' parameter of optimise must be one of {years} or 'pooled'; got {time!r}."
        )
    return feed.sel(time=[t]), comp.sel(time=[t])


def _flat_units(da: xr.DataArray, member: str | None) -> np.ndarray:
    """(..., sample) or (..., sample, member) with sample = (time, unit) flattened."""
    tail = [d for d in ("time", "unit") if d in da.dims]
    order = [d for d in da.dims if d not in (*tail, member)] + tail
    if member is not None:
        order.append(member)
    v = da.transpose(*order).values
    if member is None:
        return v.reshape(*v.shape[: v.ndim - len(tail)], -1)
    return v.reshape(*v.shape[: v.ndim - len(tail) - 1], -1, v.shape[-1])


def _ranks(a: np.ndarray, axis: int) -> np.ndarray:
    from scipy.stats import rankdata

    return np.asarray(rankdata(a, axis=axis, nan_policy="omit"), dtype=float)
