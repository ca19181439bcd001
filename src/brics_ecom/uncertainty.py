"""Uncertainty and sensitivity analysis, vectorised over Monte Carlo draws.

An **uncertainty analysis** (UA) asks how much the scores and ranks move when the choices
made while building the index are varied; a **sensitivity analysis** (SA) apportions that
movement to the choices (Sobol indices). The uncertain choices are :class:`Factor` objects
addressed with the pipeline's parameter paths (``"normalise__method"``,
``"aggregate__method"``, ``"treat"`` on/off, ...), plus indicator exclusion, weights and
noise on the data.

The draws are not a Python loop of pipeline runs: every factor value is sampled up front;
each distinct combination of the steps before normalisation is computed once (re-using
``Pipeline.run(result, from_step=...)``), each normalisation alternative once, and the
weight draws of one (alternative, aggregation method) group are aggregated together, one
matrix product per tree level for blocks of up to 4,096 draws; ranks of all draws are
computed at once. Draws are evaluated in chunks that bound the memory, in-process or on a
dask cluster, with bit-for-bit identical results whatever the chunking.

Examples
--------
>>> import brics_ecom as be
>>> from brics_ecom.uncertainty import Factor, uncertainty
>>> panel, spec = be.datasets.load_asem()
>>> pipe = be.Pipeline.coinr_example(spec)  # min-max onto [0, 100]
>>> factors = [
...     Factor.weights(noise_factor=0.25, levels=[2, 3]),
...     Factor.choice("normalise__method", ["minmax", "zscore"],
...                   params=[{"lower": 1, "upper": 100}, {"mean": 10, "sd": 2}]),
...     Factor.choice("aggregate__method", ["arithmetic", "geometric"]),
... ]
>>> ua = uncertainty(pipe, panel, factors, n=200, rng=1, time=2018, progress=False)
>>> ua.to_frame().loc["CHE", ["rank_nominal", "rank_median"]].tolist()
[1.0, 1.0]
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from ._apply import ordered
from ._kernels import sensitivity as _sk
from ._kernels.ranks import rank_descending
from ._validation import as_rng, check_choice, check_number, is_lazy
from .aggregate import (
    _cached_plan,
    _check_method_params,
    _level_methods,
    _tree_kernel,
    _tree_plan,
    node_weights,
)
from .errors import DataError, DataWarning, InvalidParameterError, SpecError
from .normalise import METHOD_PARAMS, normalise
from .panel import trusted_panels
from .pipeline import Pipeline
from .results import Result
from .spec import IndexSpec
from .weights import noisy

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "Factor",
    "SensitivityResult",
    "UncertaintyResult",
    "plot_rank_intervals",
    "plot_sobol",
    "sensitivity",
    "uncertainty",
]

#: Normalisation parameters that broadcast along a ``draw`` dim (one value per draw).
VECTOR_NORMALISE_PARAMS = frozenset({"lower", "upper", "mean", "sd", "scale"})

#: Default working-memory budget of one chunk of draws (bytes).
DEFAULT_MEMORY_LIMIT = 512 * 2**20

#: When the draws share the normalised data, the draws of one group are aggregated in
#: blocks whose size depends on the problem only (about this many bytes of working memory,
#: at most 4096 draws), so that every matrix product, hence every number, is the same
#: whatever the chunking (BLAS results may depend on the shape of a product).
BLOCK_BYTES = 64 * 2**20

#: Above this many distinct (upstream, normalisation) alternatives, their data are not
#: cached (continuous factors on those steps are evaluated group by group instead).
_MAX_CACHED = 256

_RESERVED = ("draw", "unit", "time", "node", "scores", "ranks", "quantile", "k", "design", "factor")


# ======================================================================================
# factors
# ======================================================================================


@dataclass(frozen=True, eq=False)
class Factor:
    """One uncertain input of an uncertainty or sensitivity analysis.

    Build factors with the constructors: :meth:`choice` (discrete alternatives of a
    parameter, or a step on/off), :meth:`exclude_indicator`, :meth:`weights`,
    :meth:`uniform`, :meth:`triangular`, :meth:`normal` (continuous parameters) and
    :meth:`data_noise`. Every factor maps a uniform number ``u`` in ``[0, 1)`` to its value
    (``floor(u·k)`` for ``k`` alternatives, the inverse CDF for a distribution), so the same
    factors serve both Monte Carlo and Sobol designs.

    Attributes
    ----------
    kind : str
        ``choice``, ``step``, ``exclude``, ``weights``, ``continuous`` or ``noise``.
    name : str
        Label of the factor (column of the draws table); defaults to the path.
    path : str or None
        ``"step__param"`` (or a step name for on/off).

    Examples
    --------
    >>> Factor.choice("aggregate__method", ["arithmetic", "geometric"]).n_alternatives
    2
    """

    kind: str
    name: str
    path: str | None = None
    alternatives: tuple[Any, ...] = ()
    params: tuple[Mapping[str, Any], ...] | None = None
    probs: tuple[float, ...] | None = None
    dist: str | None = None
    dist_args: tuple[float, ...] = ()
    sets: xr.DataArray | None = None
    noise_factor: float | Mapping[int, float] = 0.25
    levels: tuple[int, ...] | None = None
    n_sets: int = 100
    per_draw: bool = False
    scale: float = 0.0

    # ------------------------------------------------------------------ constructors
    @classmethod
    def choice(
        cls,
        path: str,
        alternatives: Sequence[Any],
        *,
        params: Sequence[Mapping[str, Any] | None] | None = None,
        probs: Sequence[float] | None = None,
        name: str | None = None,
    ) -> Factor:
        """Discrete alternatives of a pipeline parameter, or a step switched on and off.

        Parameters
        ----------
        path : str
            ``"step__param"`` as in :meth:`brics_ecom.Pipeline.set` (e.g.
            ``"normalise__method"``, ``"impute__method"``, ``"aggregate__method"``,
            ``"treat__winmax"``), or a step name (``"treat"``) with alternatives
            ``[True, False]``: the step is kept or removed.
        alternatives : sequence
            The values; each is equally likely unless ``probs`` is given.
        params : sequence of mappings, optional
            One ``{param: value}`` per alternative: further parameters of the same step
            set together with it, e.g. ``[{"lower": 1, "upper": 100}, {"mean": 10,
            "sd": 2}]`` for ``["minmax", "zscore"]``.
        probs : sequence of float, optional
            Probabilities of the alternatives (normalised to sum 1).
        name : str, optional
            Label (default: ``path``).

        Raises
        ------
        InvalidParameterError
            Empty or repeated alternatives, ``params``/``probs`` of the wrong length,
            negative probabilities, non-boolean alternatives of an on/off factor.

        Examples
        --------
        >>> f = Factor.choice("normalise__method", ["minmax", "zscore"],
        ...                   params=[{"lower": 1, "upper": 100}, {"mean": 10, "sd": 2}])
        >>> f.alternatives, f.kind
        (('minmax', 'zscore'), 'choice')
        >>> Factor.choice("treat", [True, False]).kind
        'step'
        """
        if not isinstance(path, str) or not path:
            raise InvalidParameterError(
                f"The 'path' of Factor.choice must be 'step__param' or a step name; got {path!r}."
            )
        if isinstance(alternatives, str) or not isinstance(alternatives, Sequence):
            raise InvalidParameterError(
                f"The 'alternatives' of Factor.choice({path!r}) must be a list of values; got "
                f"{alternatives!r}."
            )
        alts = tuple(alternatives)
        if not alts:
            raise InvalidParameterError(
                f"Factor.choice({path!r}) has no alternatives; give at least one value."
            )
        kind = "choice" if "__" in path else "step"
        if kind == "step" and not all(isinstance(a, bool | np.bool_) for a in alts):
            raise InvalidParameterError(
                f"Factor.choice({path!r}) switches the step {path!r} on and off: its "
                f"alternatives must be True/False; got {list(alts)}. To vary a parameter of "
                f"the step use a path like '{path}__param'."
            )
        pars: tuple[Mapping[str, Any], ...] | None = None
        if params is not None:
            if kind == "step":
                raise InvalidParameterError(
                    f"Factor.choice({path!r}) switches a step on/off and takes no 'params'."
                )
            if len(params) != len(alts):
                raise InvalidParameterError(
                    f"The 'params' of Factor.choice({path!r}) must give one mapping per "
                    f"alternative ({len(alts)}); got {len(params)}."
                )
            checked = []
            for alt, p in zip(alts, params, strict=True):
                if p is not None and not isinstance(p, Mapping):
                    raise InvalidParameterError(
                        f"The 'params' of alternative {alt!r} of Factor.choice({path!r}) must "
                        f"be a mapping or None; got {p!r}."
                    )
                checked.append(dict(p or {}))
            pars = tuple(checked)
        keys = [_freeze_key((a, pars[i] if pars else None)) for i, a in enumerate(alts)]
        if len(set(keys)) != len(keys):
            dup = [a for i, a in enumerate(alts) if keys.index(keys[i]) != i]
            raise InvalidParameterError(
                f"Factor.choice({path!r}) repeats the alternatives {dup}; each must differ "
                "(in its value or its params)."
            )
        return cls(
            kind=kind,
            name=_check_name(name, path),
            path=path,
            alternatives=alts,
            params=pars,
            probs=_check_probs(probs, len(alts), path),
        )

    @classmethod
    def exclude_indicator(
        cls,
        codes: Iterable[str],
        *,
        probs: Sequence[float] | None = None,
        name: str = "exclude",
    ) -> Factor:
        """Exclusion of one indicator at a time (or none).

        The alternatives are ``None`` (every indicator kept) and each code of ``codes``
        (that indicator removed from the data and the tree, and the whole pipeline re-run;
        aggregates left empty disappear).

        Parameters
        ----------
        codes : iterable of str
            Indicator codes.
        probs : sequence of float, optional
            Probabilities of ``[None, *codes]``.
        name : str, default "exclude"

        Examples
        --------
        >>> Factor.exclude_indicator(["Goods", "LPI"]).alternatives
        (None, 'Goods', 'LPI')
        """
        if isinstance(codes, str):
            codes = [codes]
        found = list(codes)
        if not found:
            raise InvalidParameterError(
                "Factor.exclude_indicator needs at least one indicator code; got none."
            )
        bad = [c for c in found if not isinstance(c, str)]
        if bad:
            raise InvalidParameterError(
                f"Factor.exclude_indicator takes indicator codes (str); got {bad}."
            )
        dup = sorted({c for c in found if found.count(c) > 1})
        if dup:
            raise InvalidParameterError(f"Factor.exclude_indicator repeats the codes {dup}.")
        alts = (None, *found)
        return cls(
            kind="exclude",
            name=_check_name(name, "exclude"),
            alternatives=alts,
            probs=_check_probs(probs, len(alts), "exclude_indicator"),
        )

    @classmethod
    def weights(
        cls,
        sets: xr.DataArray | None = None,
        *,
        noise_factor: float | Mapping[int, float] = 0.25,
        levels: Iterable[int] | None = None,
        n_sets: int = 100,
        per_draw: bool = False,
        name: str = "weights",
    ) -> Factor:
        """Uncertain weights: one weight set per draw, taken from a pool of sets.

        Parameters
        ----------
        sets : xarray.DataArray, optional
            Weight sets with a ``node`` dim and one other dim (e.g. ``draw`` as returned by
            :func:`brics_ecom.weights.noisy`); nodes not given keep the spec's weight.
            Each draw picks one set at random (uniformly), or set ``i`` for draw ``i`` if
            ``per_draw``. The labels of the set dim identify the sets in the draws table.
        noise_factor, levels
            Without ``sets``: the pool is made with
            ``weights.noisy(spec, noise_factor=..., levels=..., n=n_sets, rng=rng)`` from
            the analysis's ``rng`` (COINr's ``get_noisy_weights``).
        n_sets : int, default 100
            Size of the generated pool (COINr uses 100). With ``per_draw`` and no
            ``sets``, one fresh set is generated per draw instead.
        per_draw : bool, default False
            Draw ``i`` uses set ``i`` (uncertainty analysis only; needs at least as many
            sets as draws).
        name : str, default "weights"

        Examples
        --------
        >>> from brics_ecom import datasets, weights
        >>> _, spec = datasets.load_asem()
        >>> pool = weights.noisy(spec, levels=[2, 3], n=10, rng=0)
        >>> Factor.weights(pool).n_alternatives
        10
        >>> Factor.weights(noise_factor=0.1, levels=[2]).kind
        'weights'
        """
        if sets is not None:
            if not isinstance(sets, xr.DataArray) or "node" not in sets.dims or sets.ndim != 2:
                raise InvalidParameterError(
                    "The 'sets' of Factor.weights must be a DataArray with dims (set, node), "
                    "e.g. weights.noisy(spec, n=100); got "
                    f"{getattr(sets, 'dims', type(sets).__name__)}."
                )
            set_dim = next(d for d in sets.dims if d != "node")
            if sets.sizes[set_dim] < 1:
                raise InvalidParameterError("The 'sets' of Factor.weights hold no weight set.")
            labels = _set_labels(sets)
            if len(set(labels)) != len(labels):
                raise InvalidParameterError(
                    f"The labels of the {set_dim!r} dim of the weight sets repeat."
                )
        else:
            check_number(n_sets, param="n_sets", func="Factor.weights", low=1, integer=True)
        lv = None if levels is None else tuple(int(v) for v in levels)
        return cls(
            kind="weights",
            name=_check_name(name, "weights"),
            sets=sets,
            noise_factor=noise_factor,
            levels=lv,
            n_sets=int(n_sets),
            per_draw=bool(per_draw),
        )

    @classmethod
    def uniform(cls, path: str, low: float, high: float, *, name: str | None = None) -> Factor:
        """A numeric parameter drawn uniformly from ``[low, high)``.

        Examples
        --------
        >>> Factor.uniform("normalise__upper", 90, 110).dist_args
        (90.0, 110.0)
        """
        lo, hi = _bounds(low, high, path, "uniform")
        return cls(
            kind="continuous",
            name=_check_name(name, path),
            path=_check_path(path),
            dist="uniform",
            dist_args=(lo, hi),
        )

    @classmethod
    def triangular(
        cls, path: str, low: float, mode: float, high: float, *, name: str | None = None
    ) -> Factor:
        """A numeric parameter with a triangular distribution on ``[low, high]``.

        Examples
        --------
        >>> Factor.triangular("aggregate__p", 0.5, 1, 2).dist
        'triangular'
        """
        lo, hi = _bounds(low, high, path, "triangular")
        md = check_number(mode, param="mode", func=f"Factor.triangular({path!r})", low=lo, high=hi)
        return cls(
            kind="continuous",
            name=_check_name(name, path),
            path=_check_path(path),
            dist="triangular",
            dist_args=(lo, float(md), hi),
        )

    @classmethod
    def normal(
        cls,
        path: str,
        mean: float,
        sd: float,
        *,
        low: float | None = None,
        high: float | None = None,
        name: str | None = None,
    ) -> Factor:
        """A numeric parameter with a normal distribution, optionally truncated.

        Examples
        --------
        >>> Factor.normal("normalise__sd", 2, 0.2, low=1).dist_args
        (2.0, 0.2, 1.0, inf)
        """
        func = f"Factor.normal({path!r})"
        mu = float(check_number(mean, param="mean", func=func))
        s = float(check_number(sd, param="sd", func=func, low=0, low_inclusive=False))
        lo = -math.inf if low is None else float(check_number(low, param="low", func=func))
        hi = math.inf if high is None else float(check_number(high, param="high", func=func))
        if not lo < hi:
            raise InvalidParameterError(
                f"{func}: the truncation bounds must satisfy low < high; got low={low!r}, "
                f"high={high!r}."
            )
        return cls(
            kind="continuous",
            name=_check_name(name, path),
            path=_check_path(path),
            dist="normal",
            dist_args=(mu, s, lo, hi),
        )

    @classmethod
    def data_noise(cls, scale: float, dist: str = "normal", *, name: str = "data_noise") -> Factor:
        """Multiplicative noise on the raw data, a new realisation per draw.

        Each raw value ``x`` becomes ``x · (1 + scale · e)`` with ``e ~ N(0, 1)``
        (``dist="normal"``) or ``U(−1, 1)`` (``"uniform"``), independently per cell and
        draw; the whole pipeline is re-run on the noisy data, chunk by chunk.

        Examples
        --------
        >>> Factor.data_noise(0.05, "uniform").scale
        0.05
        """
        s = check_number(scale, param="scale", func="Factor.data_noise", low=0, low_inclusive=False)
        check_choice(dist, ("normal", "uniform"), param="dist", func="Factor.data_noise")
        return cls(kind="noise", name=_check_name(name, "data_noise"), dist=dist, scale=float(s))

    # ------------------------------------------------------------------ helpers
    @property
    def n_alternatives(self) -> int | None:
        """Number of discrete alternatives (``None`` for continuous factors and noise).

        Examples
        --------
        >>> Factor.uniform("normalise__upper", 90, 110).n_alternatives is None
        True
        """
        if self.kind in ("choice", "step", "exclude"):
            return len(self.alternatives)
        if self.kind == "weights":
            return None if self.sets is None else int(self.sets.sizes[_set_dim(self.sets)])
        return None

    def __repr__(self) -> str:
        if self.kind in ("choice", "step"):
            return f"Factor.choice({self.path!r}, {list(self.alternatives)!r})"
        if self.kind == "exclude":
            return f"Factor.exclude_indicator({list(self.alternatives[1:])!r})"
        if self.kind == "weights":
            src = (
                f"{self.n_alternatives} sets"
                if self.sets is not None
                else (f"noise_factor={self.noise_factor!r}, levels={self.levels!r}")
            )
            return f"Factor.weights({src})"
        if self.kind == "continuous":
            return f"Factor.{self.dist}({self.path!r}, {', '.join(map(str, self.dist_args))})"
        return f"Factor.data_noise({self.scale!r}, {self.dist!r})"


def _freeze_key(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _freeze_key(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_freeze_key(v) for v in value)
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def _check_name(name: str | None, default: str) -> str:
    out = default if name is None else name
    if not isinstance(out, str) or not out:
        raise InvalidParameterError(f"A factor's 'name' must be a non-empty string; got {name!r}.")
    return out


def _check_path(path: str) -> str:
    if not isinstance(path, str) or "__" not in path:
        raise InvalidParameterError(
            f"A continuous factor needs a parameter path 'step__param' (e.g. "
            f"'normalise__upper'); got {path!r}."
        )
    return path


def _check_probs(probs: Sequence[float] | None, k: int, what: str) -> tuple[float, ...] | None:
    if probs is None:
        return None
    p = np.asarray(probs, dtype=float)
    if p.shape != (k,):
        raise InvalidParameterError(
            f"The 'probs' of {what} must give one probability per alternative ({k}); got "
            f"{list(probs)}."
        )
    if not np.isfinite(p).all() or (p < 0).any() or p.sum() <= 0:
        raise InvalidParameterError(
            f"The 'probs' of {what} must be finite, non-negative and not all 0; got {list(probs)}."
        )
    return tuple(float(v) for v in p / p.sum())


def _bounds(low: float, high: float, path: str, dist: str) -> tuple[float, float]:
    func = f"Factor.{dist}({path!r})"
    lo = float(check_number(low, param="low", func=func))
    hi = float(check_number(high, param="high", func=func))
    if not lo < hi:
        raise InvalidParameterError(
            f"{func}: 'low' must be below 'high'; got low={low!r}, high={high!r}."
        )
    return lo, hi


def _set_dim(sets: xr.DataArray) -> Hashable:
    return next(d for d in sets.dims if d != "node")


def _set_labels(sets: xr.DataArray) -> list[Any]:
    dim = _set_dim(sets)
    if dim in sets.coords:
        return [v.item() if isinstance(v, np.generic) else v for v in sets[dim].values]
    return list(range(sets.sizes[dim]))


# ======================================================================================
# binding factors to a pipeline
# ======================================================================================


@dataclass
class _Bound:
    """A factor checked against a pipeline: where it acts and how it is sampled."""

    factor: Factor
    stage: str  # "upstream", "normalise", "aggregate", "weights", "noise"
    step: str | None = None
    key: str | None = None
    n_alt: int = 0  # discrete alternatives (0: continuous or noise)
    labels: list[Any] = field(default_factory=list)
    vector: bool = False  # a normalisation parameter broadcast along draws
    matrix: np.ndarray | None = None  # weight sets (set, code) over the nominal spec's codes

    @property
    def discrete(self) -> bool:
        return self.n_alt > 0

    def from_uniform(self, u: np.ndarray) -> np.ndarray:
        """Factor values (alternative indices, parameter values or noise keys) from u."""
        f = self.factor
        if f.kind == "noise":
            return _sk.uniform_to_key(u).astype(np.float64)
        if self.discrete:
            return _sk.uniform_to_index(u, self.n_alt, f.probs).astype(np.float64)
        args = f.dist_args
        if f.dist == "uniform":
            return args[0] + u * (args[1] - args[0])
        if f.dist == "triangular":
            lo, md, hi = args
            c = (md - lo) / (hi - lo)
            return np.asarray(stats.triang.ppf(u, c, loc=lo, scale=hi - lo), dtype=float)
        mu, sd, lo, hi = args
        uu = np.clip(u, 2.0**-54, 1 - 2.0**-54)
        if math.isinf(lo) and math.isinf(hi):
            return np.asarray(stats.norm.ppf(uu, mu, sd), dtype=float)
        a, b = (lo - mu) / sd, (hi - mu) / sd
        return np.asarray(stats.truncnorm.ppf(uu, a, b, loc=mu, scale=sd), dtype=float)

    def label(self, value: float) -> Any:
        if self.discrete:
            return self.labels[int(value)]
        if self.factor.kind == "noise":
            return int(value)
        return float(value)

    def from_labels(self, column: pd.Series) -> np.ndarray:
        f = self.factor
        if f.kind == "noise":
            vals = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
            if (
                np.isnan(vals).any()
                or (vals < 0).any()
                or (vals >= _sk.KEY_SPACE).any()
                or (vals != np.floor(vals)).any()
            ):
                raise InvalidParameterError(
                    f"The draws of factor {f.name!r} must be integer noise keys in [0, 2**53)."
                )
            return vals
        if not self.discrete:
            vals = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
            if not np.isfinite(vals).all():
                raise InvalidParameterError(
                    f"The draws of factor {f.name!r} must be finite numbers; got "
                    f"{column[~np.isfinite(vals)].head(3).tolist()}."
                )
            return vals
        lookup: dict[Any, int] = {}
        for i, lab in enumerate(self.labels):
            lookup.setdefault(_freeze_key(lab), i)
        out = np.empty(len(column))
        for j, v in enumerate(column.tolist()):
            key = None if v is None or (isinstance(v, float) and math.isnan(v)) else v
            code = lookup.get(_freeze_key(key))
            if code is None:
                raise InvalidParameterError(
                    f"The draws of factor {f.name!r} hold the value {v!r}, which is not one of "
                    f"its alternatives {self.labels if len(self.labels) <= 20 else '...'}."
                )
            out[j] = code
        return out


def _structure(pipeline: Pipeline) -> tuple[list[str], str | None]:
    """The upstream step names and the normalise step (if any); checks the layout."""
    names = [s.name for s in pipeline.steps]
    if not names or names[-1] != "aggregate":
        raise InvalidParameterError(
            f"Uncertainty analysis needs a pipeline whose last step is 'aggregate'; its steps "
            f"are {names}."
        )
    if "normalise" in names:
        if names[-2] != "normalise":
            raise InvalidParameterError(
                f"Uncertainty analysis needs 'normalise' right before 'aggregate'; the steps "
                f"are {names}."
            )
        return names[:-2], "normalise"
    return names[:-1], None


def _bind(
    factors: Sequence[Factor],
    pipeline: Pipeline,
    target: str,
    gen: np.random.Generator,
    n_draws: int | None,
) -> list[_Bound]:
    """Check every factor against the pipeline; make the weight pools."""
    if isinstance(factors, Factor):
        factors = [factors]
    if not isinstance(factors, Sequence) or not factors:
        raise InvalidParameterError(
            "The 'factors' parameter must be a non-empty list of Factor objects."
        )
    bad = [f for f in factors if not isinstance(f, Factor)]
    if bad:
        raise InvalidParameterError(
            f"The 'factors' must be Factor objects (Factor.choice, Factor.weights, ...); got "
            f"{bad[:3]}."
        )
    names = [f.name for f in factors]
    reserved = sorted(set(names) & set(_RESERVED))
    if reserved:
        raise InvalidParameterError(
            f"Factor names {reserved} are reserved (they name dims or variables of the results); "
            "pass another name=."
        )
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InvalidParameterError(
            f"Factor names must be unique; {dup} appear more than once (pass name=...)."
        )
    for kind in ("exclude", "weights", "noise"):
        several = [f.name for f in factors if f.kind == kind]
        if len(several) > 1:
            raise InvalidParameterError(
                f"At most one factor of kind {kind!r} is allowed; got {several}."
            )
    upstream, norm_step = _structure(pipeline)
    spec = pipeline.spec
    step_names = [s.name for s in pipeline.steps]
    valid = pipeline.param_paths()
    bound: list[_Bound] = []
    touched: dict[str, str] = {}

    def claim(path: str, owner: str) -> None:
        if path in touched:
            raise InvalidParameterError(
                f"Factors {touched[path]!r} and {owner!r} both set {path!r}; one factor per "
                "parameter."
            )
        touched[path] = owner

    def stage_of(step: str) -> str:
        if step in upstream:
            return "upstream"
        return "normalise" if step == norm_step else "aggregate"

    for f in factors:
        if f.kind == "step":
            assert f.path is not None
            if f.path not in step_names:
                raise InvalidParameterError(
                    f"Factor {f.name!r} switches the step {f.path!r} on/off, but the pipeline has "
                    f"no such step; its steps are {step_names}."
                )
            if f.path not in upstream:
                raise InvalidParameterError(
                    f"Factor {f.name!r}: only the steps before normalisation ({upstream}) can be "
                    f"switched off; got {f.path!r}."
                )
            claim(f.path, f.name)
            bound.append(
                _Bound(f, "upstream", f.path, None, len(f.alternatives), list(f.alternatives))
            )
        elif f.kind in ("choice", "continuous"):
            assert f.path is not None
            step, key = f.path.split("__", 1)
            if step not in step_names:
                raise InvalidParameterError(
                    f"Unknown parameter path {f.path!r} of factor {f.name!r}: the pipeline has no "
                    f"{step!r} step. Valid paths: {valid}."
                )
            claim(f.path, f.name)
            if f.params:
                for p in f.params:
                    for k in p:
                        if f"{step}__{k}" == f.path:
                            raise InvalidParameterError(
                                f"Factor {f.name!r}: 'params' must not set {f.path!r} itself."
                            )
            stage = stage_of(step)
            if f.kind == "choice":
                bound.append(_Bound(f, stage, step, key, len(f.alternatives), list(f.alternatives)))
            else:
                vector = (
                    stage == "normalise"
                    and key in VECTOR_NORMALISE_PARAMS
                    and key not in ("method",)
                )
                bound.append(_Bound(f, stage, step, key, vector=vector))
        elif f.kind == "exclude":
            unknown = [c for c in f.alternatives[1:] if c not in spec.indicators]
            if unknown:
                raise InvalidParameterError(
                    f"Factor {f.name!r} excludes {unknown}, which are not indicators of the "
                    f"specification (e.g. {list(spec.indicators[:5])})."
                )
            for code in f.alternatives[1:]:
                rest = [c for c in spec.indicators if c != code]
                if not rest:
                    raise SpecError(
                        f"Factor {f.name!r}: excluding {code!r} leaves no indicator at all."
                    )
                sub = spec.subset(rest)
                if target not in sub.codes:
                    raise SpecError(
                        f"Factor {f.name!r}: excluding indicator {code!r} removes the target "
                        f"node {target!r} from the tree (it was its only descendant); drop "
                        "this indicator from the factor or choose another target."
                    )
            bound.append(
                _Bound(f, "upstream", None, None, len(f.alternatives), list(f.alternatives))
            )
        elif f.kind == "weights":
            codes = list(spec.codes)
            nominal_w = _pipeline_weights(pipeline)
            if f.sets is not None:
                sets = f.sets
                labels = _set_labels(sets)
                set_dim = _set_dim(sets)
                given = sets.drop_vars([set_dim], errors="ignore")
                unknown = sorted(set(map(str, given["node"].values)) - set(codes))
                if unknown:
                    raise SpecError(
                        f"The weight sets of factor {f.name!r} give weights for codes not in the "
                        f"tree: {unknown}."
                    )
                full = given.reindex(node=codes).transpose(..., "node").values
                missing = ~np.isin(codes, [str(c) for c in given["node"].values])
                if not np.isfinite(given.values).all():
                    raise SpecError(
                        f"The weight sets of factor {f.name!r} hold NaN or infinite weights; "
                        "weights must be finite numbers ≥ 0."
                    )
                matrix = np.where(missing, nominal_w.values, full)
                _check_pool(spec, matrix, labels, f.name)
            else:
                pool = n_draws if (f.per_draw and n_draws is not None) else f.n_sets
                levels = list(f.levels) if f.levels is not None else None
                w = noisy(
                    spec,
                    noise_factor=f.noise_factor,
                    levels=levels,
                    n=int(pool),
                    rng=gen,
                    weights=nominal_w,
                )
                matrix = w.transpose("draw", "node").sel(node=codes).values
                labels = list(range(matrix.shape[0]))
            if f.per_draw and n_draws is not None and matrix.shape[0] < n_draws:
                raise InvalidParameterError(
                    f"Factor {f.name!r} uses one weight set per draw (per_draw=True) but holds "
                    f"{matrix.shape[0]} sets for {n_draws} draws."
                )
            claim("aggregate__weights", f.name)
            bound.append(
                _Bound(
                    f,
                    "weights",
                    "aggregate",
                    "weights",
                    matrix.shape[0],
                    labels,
                    matrix=np.ascontiguousarray(matrix, dtype=float),
                )
            )
        elif f.kind == "noise":
            bound.append(_Bound(f, "noise"))
        else:  # pragma: no cover - constructors only make known kinds
            raise InvalidParameterError(f"Unknown factor kind {f.kind!r}.")
    _check_combinations(bound, pipeline)
    return bound


def _check_combinations(bound: list[_Bound], pipeline: Pipeline) -> None:
    """Apply every alternative once through ``Pipeline.set`` so bad parameters fail now."""
    for stage in ("upstream", "normalise", "aggregate"):
        members = [b for b in bound if b.stage == stage and b.key is not None]
        choices = [b for b in members if b.discrete]
        conts = [b for b in members if not b.discrete]
        # every alternative of every choice, with the other choices at their first value
        combos: list[dict[str, Any]] = [{}]
        for b in choices:
            for i in range(b.n_alt):
                combos.append({b.factor.name: i})
        for combo in combos:
            changes: dict[str, Any] = {}
            culprit = []
            for b in choices:
                i = combo.get(b.factor.name, 0)
                changes.update(_choice_changes(b, i))
                culprit.append(f"{b.factor.name}={b.labels[i]!r}")
            for b in conts:
                assert b.factor.path is not None
                changes[b.factor.path] = b.factor.dist_args[0]
            if not changes:
                continue
            try:
                variant = pipeline.set(**changes)
            except InvalidParameterError as err:
                raise InvalidParameterError(
                    f"Factors {[b.factor.name for b in members]} give an invalid pipeline with "
                    f"{', '.join(culprit) or 'their first values'}: {err}"
                ) from None
            for b in conts:
                if b.vector:
                    method = variant.step("normalise").params.get("method", "minmax")
                    accepted = METHOD_PARAMS.get(method)
                    if accepted is not None and b.key not in accepted:
                        raise InvalidParameterError(
                            f"Factor {b.factor.name!r} varies {b.factor.path!r}, which normalise "
                            f"method {method!r} ({', '.join(culprit)}) does not take; it takes "
                            f"{sorted(accepted)}."
                        )


def _check_pool(spec: IndexSpec, matrix: np.ndarray, labels: list[Any], name: str) -> None:
    """Weight sets (set, code): non-negative, and some positive weight under every parent."""
    codes = list(spec.codes)
    if (matrix < 0).any():
        bad = [codes[i] for i in np.flatnonzero((matrix < 0).any(axis=0))]
        raise SpecError(f"The weight sets of factor {name!r} give negative weights to {bad}.")
    parents = list(spec.aggregates)
    member = np.zeros((len(codes), len(parents)))
    for j, parent in enumerate(parents):
        member[[codes.index(c) for c in spec.children(parent)], j] = 1.0
    zero = (matrix @ member) <= 0
    if zero.any():
        s, j = np.argwhere(zero)[0]
        raise SpecError(
            f"In weight set {labels[s]!r} of factor {name!r}, the children of {parents[j]!r} "
            "all have weight 0; at least one must be positive."
        )


def _pipeline_weights(pipeline: Pipeline) -> xr.DataArray:
    """The nominal weight of every node (the aggregate step's weights, else the spec's)."""
    w = pipeline.step("aggregate").params.get("weights")
    if isinstance(w, str):
        w = pipeline.weight_sets[w]
    out = node_weights(pipeline.spec, w)
    if out.dims != ("node",):
        raise InvalidParameterError(
            "The aggregate step of the pipeline holds weights with extra dims "
            f"{[d for d in out.dims if d != 'node']}; uncertainty analysis needs one nominal "
            "weight per node (vary weights with Factor.weights)."
        )
    return out.sel(node=list(pipeline.spec.codes))


def _choice_changes(b: _Bound, i: int) -> dict[str, Any]:
    f = b.factor
    assert f.path is not None
    changes = {f.path: f.alternatives[i]}
    if f.params:
        changes.update({f"{b.step}__{k}": v for k, v in f.params[i].items()})
    return changes


# ======================================================================================
# the engine: evaluate draws chunk by chunk
# ======================================================================================


def _groups(codes: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """``(code, positions)`` for each distinct code, positions ascending."""
    if codes.size == 0:
        return []
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    cuts = np.flatnonzero(np.diff(sorted_codes)) + 1
    return [(int(codes[p[0]]), p) for p in np.split(order, cuts)]


def _row_codes(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer code of each distinct row and the first row of each code."""
    if matrix.shape[1] == 0:
        return np.zeros(matrix.shape[0], dtype=np.int64), np.zeros(1, dtype=np.int64)
    _, first, inverse = np.unique(matrix, axis=0, return_index=True, return_inverse=True)
    return inverse.reshape(-1).astype(np.int64), first.astype(np.int64)


class _Engine:
    """Everything a chunk of draws needs; picklable, so it can be shipped to dask workers."""

    def __init__(
        self,
        pipeline: Pipeline,
        nominal: Result,
        bound: list[_Bound],
        values: np.ndarray,
        target: str,
        time: Hashable | None,
    ) -> None:
        self.pipeline = pipeline
        self.bound = bound
        self.values = values
        self.target = target
        self.time = time
        self.upstream_steps, self.norm_step = _structure(pipeline)
        self.raw = nominal.data["raw"]
        self.nominal_data = {
            k: v for k, v in nominal.data.items() if k in ("raw", *self.upstream_steps)
        }
        self.nominal_reports = {
            k: v for k, v in nominal.reports.items() if k in self.upstream_steps
        }
        self.units = list(self.raw["unit"].values)
        self._unit_pos = {u: i for i, u in enumerate(self.units)}
        self._agg_cache: dict[int, tuple[list[Any], Any, int, np.ndarray]] = {}
        self._const_cache: dict[int, np.ndarray] = {}
        self._x_cache: dict[int, Any] = {}
        self.items: list[np.ndarray] = []
        self.codes = list(pipeline.spec.codes)
        self.noise = next((b for b in bound if b.stage == "noise"), None)
        self.weights = next((b for b in bound if b.stage == "weights"), None)
        cols = {
            st: [j for j, b in enumerate(bound) if b.stage == st]
            for st in ("upstream", "normalise", "aggregate")
        }
        self.norm_vector = [j for j in cols["normalise"] if bound[j].vector]
        norm_cols = [j for j in cols["normalise"] if not bound[j].vector]
        self.up_code, self.up_first = _row_codes(values[:, cols["upstream"]])
        self.norm_code, self.norm_first = _row_codes(
            np.column_stack([self.up_code, values[:, norm_cols]])
        )
        self.agg_code, self.agg_first = _row_codes(
            np.column_stack([self.norm_code, values[:, cols["aggregate"]]])
        )
        # cache data per alternative unless (continuous factors) there are very many
        self.cache = len(self.norm_first) <= _MAX_CACHED
        self._up_cache: dict[int, tuple[IndexSpec, xr.DataArray | None, Pipeline]] = {}
        self._norm_cache: dict[int, xr.DataArray] = {}
        # nominal weights, needed only when no factor varies them
        self.nominal_w = _pipeline_weights(pipeline).values if self.weights is None else None

    # ------------------------------------------------------------------ configs
    def _changes(self, row: np.ndarray, stage: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for j, b in enumerate(self.bound):
            if b.stage != stage or b.key is None:
                continue
            if b.discrete:
                out.update(_choice_changes(b, int(row[j])))
            elif not b.vector:
                assert b.factor.path is not None
                out[b.factor.path] = float(row[j])
        return out

    def describe(self, draw: int, stages: Iterable[str]) -> str:
        row = self.values[draw]
        parts = [
            f"{b.factor.name}={b.label(row[j])!r}"
            for j, b in enumerate(self.bound)
            if b.stage in stages and b.stage not in ("noise", "weights")
        ]
        return ", ".join(parts) or "the nominal choices"

    def upstream(self, code: int) -> tuple[IndexSpec, xr.DataArray | None, Pipeline]:
        """Spec, data before normalisation (None with data noise) and upstream pipeline."""
        if code in self._up_cache:
            return self._up_cache[code]
        row = self.values[self.up_first[code]]
        pipe = self.pipeline
        changes = self._changes(row, "upstream")
        off: list[str] = []
        excluded = None
        for j, b in enumerate(self.bound):
            if b.stage != "upstream" or b.key is not None:
                continue
            alt = b.factor.alternatives[int(row[j])]
            if b.factor.kind == "step" and not alt:
                assert b.step is not None
                off.append(b.step)
            elif b.factor.kind == "exclude" and alt is not None:
                excluded = alt
        spec = pipe.spec
        if excluded is not None:
            spec = spec.subset([c for c in spec.indicators if c != excluded])
            changes["spec"] = spec
        if changes:
            pipe = pipe.set(**changes)
        for step in off:
            pipe = pipe.without(step)
        upstream, _ = _structure(pipe)
        trunc = Pipeline(spec, [pipe.step(s) for s in upstream], weights=pipe.weight_sets)
        data = None
        if self.noise is None:
            data = self._run_upstream(trunc, excluded is not None)
        out = (spec, data, trunc)
        if self.cache:
            self._up_cache[code] = out
        return out

    def _run_upstream(self, trunc: Pipeline, new_spec: bool) -> xr.DataArray:
        steps = list(trunc.steps)
        if not steps:
            return self.raw if not new_spec else self.raw.sel(indicator=list(trunc.spec.indicators))
        last = steps[-1].name
        if new_spec:
            raw = self.raw.sel(indicator=list(trunc.spec.indicators))
            return trunc.run(raw, keep=[last]).data[last]
        nominal_steps = [self.pipeline.step(s) for s in self.upstream_steps]
        prefix = 0
        for a, b in zip(steps, nominal_steps, strict=False):
            if a.name != b.name or not _same_params(a.params, b.params):
                break
            prefix += 1
        if prefix == len(steps):
            return self.nominal_data[last]
        prev = Result(
            pipeline=trunc, data=self.nominal_data, reports=self.nominal_reports, scores=None
        )
        return trunc.run(prev, from_step=steps[prefix].name, keep=[last]).data[last]

    def noisy_upstream(self, code: int, draws: np.ndarray) -> tuple[IndexSpec, xr.DataArray]:
        """Upstream data of ``draws`` (all of upstream code ``code``) with data noise."""
        spec, _, trunc = self.upstream(code)
        assert self.noise is not None
        j = self.bound.index(self.noise)
        keys = self.values[draws, j].astype(np.int64)
        f = self.noise.factor
        raw = self.raw
        e = _sk.hashed_noise(keys, raw.size, f.dist or "normal").reshape((len(draws), *raw.shape))
        noisy_raw = xr.DataArray(
            raw.values[None] * (1.0 + f.scale * e),
            dims=("draw", *raw.dims),
            coords={**raw.coords, "draw": draws},
            attrs=raw.attrs,
        )
        if tuple(trunc.spec.indicators) != tuple(self.raw["indicator"].values):
            noisy_raw = noisy_raw.sel(indicator=list(trunc.spec.indicators))
        steps = list(trunc.steps)
        if not steps:
            return spec, noisy_raw
        last = steps[-1].name
        return spec, trunc.run(noisy_raw, keep=[last]).data[last]

    def normalised(
        self, code: int, spec: IndexSpec, data: xr.DataArray, draws: np.ndarray
    ) -> xr.DataArray:
        """Normalised data of normalise code ``code`` (a ``draw`` dim if per-draw)."""
        per_draw = bool(self.norm_vector) or "draw" in data.dims
        if not per_draw and code in self._norm_cache:
            return self._norm_cache[code]
        if self.norm_step is None:
            return data
        row = self.values[self.norm_first[code]]
        pipe = self.pipeline.set(**self._changes(row, "normalise"))
        params = dict(pipe.step("normalise").params)
        method = params.pop("method", "minmax")
        for j in self.norm_vector:
            b = self.bound[j]
            assert b.key is not None
            params[b.key] = xr.DataArray(self.values[draws, j], dims="draw", coords={"draw": draws})
        x = data.sel(draw=draws) if "draw" in data.dims else data
        with trusted_panels():
            out = normalise(x, method, spec=spec, **params)
        if not per_draw and self.cache:
            self._norm_cache[code] = out
        return out

    def _agg_setup(self, code: int, spec: IndexSpec) -> tuple[list[Any], Any, int, np.ndarray]:
        """Plan of aggregate code ``code``: (plan, dat_thresh, target column, weight columns).

        The checks are those of :func:`brics_ecom.aggregate`; the weights were checked once
        for the whole pool when the factors were bound.
        """
        if code in self._agg_cache:
            return self._agg_cache[code]
        row = self.values[self.agg_first[code]]
        changes = self._changes(row, "aggregate")
        pipe = self.pipeline.set(**changes) if changes else self.pipeline
        params = dict(pipe.step("aggregate").params)
        method = params.pop("method", "arithmetic")
        params.pop("weights", None)
        by_level = params.pop("by_level", None)
        p = params.pop("p", None)
        dat_thresh = params.pop("dat_thresh", None)
        try:
            methods = _level_methods(spec, method, by_level)
            if dat_thresh is not None:
                check_number(dat_thresh, param="dat_thresh", func="aggregate", low=0, high=1)
            if any(m == "generalised" for m in methods.values()):
                if p is None:
                    raise InvalidParameterError(
                        "aggregate method 'generalised' needs the power p=."
                    )
                check_number(p, param="p", func="aggregate")
                if p == 0:
                    raise InvalidParameterError(
                        "The 'p' parameter of the generalised mean must not be 0 (use 'geometric')."
                    )
            _check_method_params(set(methods.values()), params)
            try:
                plan = _cached_plan(
                    spec, tuple(sorted(methods.items())), p, tuple(sorted(params.items()))
                )
            except TypeError:  # unhashable method parameters
                plan = _tree_plan(spec, methods, p, params)
        except InvalidParameterError as err:
            where = self.describe(int(self.agg_first[code]), ("upstream", "normalise", "aggregate"))
            raise InvalidParameterError(f"{err} (in the draws with {where})") from None
        aggs = [c for lvl in plan for c in lvl.parents]
        cols = np.array([self.codes.index(c) for c in spec.codes], dtype=np.intp)
        out = (plan, dat_thresh, aggs.index(self.target), cols)
        self._agg_cache[code] = out
        return out

    def _x_array(
        self, ncode: int, spec: IndexSpec, norm: xr.DataArray, draws: np.ndarray
    ) -> tuple[np.ndarray, list[Hashable], list[tuple[str, Any]], np.ndarray, bool]:
        """The kernel's input: (array (draw?, lead..., unit, indicator), lead dims,
        labels of the leading axes, units, whether there is a draw axis)."""
        shared = "draw" not in norm.dims
        if shared and ncode in self._x_cache:
            return self._x_cache[ncode]
        x = norm if shared else norm.sel(draw=draws)
        if self.time is not None and "time" in x.dims:
            x = x.sel(time=self.time, drop=True)
        if tuple(str(c) for c in x["indicator"].values) != spec.indicators:
            x = x.sel(indicator=list(spec.indicators))
        lead = [d for d in x.dims if d not in ("draw", "unit", "indicator")]
        x = ordered(x, *([] if shared else ["draw"]), *lead, "unit", "indicator")
        out = (
            np.ascontiguousarray(x.values),
            lead,
            [(str(d), x[d].values) for d in x.dims[:-2]],
            x["unit"].values,
            not shared,
        )
        if shared and self.cache:
            self._x_cache[ncode] = out
        return out

    def aggregated(
        self, code: int, spec: IndexSpec, norm: xr.DataArray, draws: np.ndarray, ncode: int
    ) -> np.ndarray:
        """Target scores of ``draws``: array (draw, unit, ...other dims)."""
        plan, dat_thresh, column, cols = self._agg_setup(code, spec)
        constant = self.weights is None and "draw" not in norm.dims
        if constant and code in self._const_cache:  # the same scores for every draw
            res = self._const_cache[code]
            return np.broadcast_to(res, (len(draws), *res.shape[1:]))
        xv, lead, labels, unit_values, has_draw = self._x_array(ncode, spec, norm, draws)
        if self.weights is not None:
            j = self.bound.index(self.weights)
            assert self.weights.matrix is not None
            w = self.weights.matrix[self.values[draws, j].astype(np.intp)][:, cols]
            w = w.reshape((len(draws), *([1] * len(lead)), len(cols)))
            if not has_draw:
                xv = xv[None]
                labels = [("draw", np.asarray(draws[:1])), *labels]
        elif has_draw:  # one product per draw, whatever the number of draws
            assert self.nominal_w is not None
            w = np.broadcast_to(self.nominal_w[cols], (len(draws), *([1] * len(lead)), len(cols)))
        else:
            assert self.nominal_w is not None
            w = self.nominal_w[cols]
        single = has_draw and len(draws) == 1
        if single:  # one draw takes another code path in batched_matmul: pad to two
            xv = np.concatenate([xv, xv])
            w = np.concatenate([w, w])
        try:
            aggs = _tree_kernel(
                xv, w, plan=plan, dat_thresh=dat_thresh, units=unit_values, lead=labels
            )
            if single:
                aggs = aggs[:1]
        except (DataError, InvalidParameterError) as err:
            where = self.describe(int(draws[0]), ("upstream", "normalise", "aggregate"))
            raise type(err)(f"{err} (in the draws with {where})") from None
        res = aggs[..., column]  # (draw?, lead..., unit)
        if res.ndim == len(lead) + 1:
            res = res[None]
        res = np.moveaxis(res, -1, 1)  # (draw or 1, unit, lead...)
        units = list(unit_values)
        if units != self.units:
            pos = np.array([self._unit_pos[u] for u in units], dtype=np.intp)
            full = np.full((res.shape[0], len(self.units), *res.shape[2:]), np.nan)
            full[:, pos] = res
            res = full
        if constant:
            self._const_cache[code] = res
        if res.shape[0] != len(draws):
            res = np.broadcast_to(res, (len(draws), *res.shape[1:]))
        return res

    # ------------------------------------------------------------------ evaluation
    @property
    def shared(self) -> bool:
        """Whether all draws share the normalised data (no data noise, no per-draw params)."""
        return self.noise is None and not self.norm_vector

    def bytes_per_draw(self) -> int:
        """Rough working memory of one draw in a chunk (bytes)."""
        raw = self.raw
        cells = raw.size // raw.sizes["indicator"]  # units × years (× other dims)
        n_agg = len(self.pipeline.spec.aggregates)
        out = 8 * cells * (4 * n_agg + 4) + 8 * 4 * len(self.codes)
        if not self.shared:
            out += 8 * cells * raw.sizes["indicator"] * 16
        return int(out)

    def prepare(self) -> None:
        """Fill the caches of upstream and normalised data (before shipping to workers)."""
        if not self.cache or self.noise is not None:
            return
        for code in range(len(self.up_first)):
            self.upstream(code)
        if self.norm_vector:
            return
        for code, first in enumerate(self.norm_first):
            spec, data, _ = self.upstream(int(self.up_code[first]))
            assert data is not None
            self.normalised(code, spec, data, np.array([first]))

    def make_items(self, block: int) -> None:
        """Split the draws into work items: runs of at most ``block`` draws of one group.

        A group is one combination of upstream, normalisation and aggregation choices; its
        draws (in draw order) are cut into consecutive runs. Items depend only on the draws
        and ``block``, never on the chunking, so every matrix product, hence every number,
        is the same however the items are packed into chunks.
        """
        order = np.lexsort((np.arange(self.values.shape[0]), self.agg_code))
        cuts = np.flatnonzero(np.diff(self.agg_code[order])) + 1
        self.items = [
            grp[j : j + block] for grp in np.split(order, cuts) for j in range(0, len(grp), block)
        ]

    def evaluate(self, first: int, last: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Draw numbers, scores and ranks of work items ``first … last − 1``.

        Scores and ranks are arrays (draw, unit, ...).
        """
        draws_out, scores_out = [], []
        for item in self.items[first:last]:
            ucode = int(self.up_code[item[0]])
            ncode = int(self.norm_code[item[0]])
            acode = int(self.agg_code[item[0]])
            if self.noise is not None:
                spec, data = self.noisy_upstream(ucode, item)
            else:
                spec, data_or_none, _ = self.upstream(ucode)
                assert data_or_none is not None
                data = data_or_none
            norm = self.normalised(ncode, spec, data, item)
            scores_out.append(self.aggregated(acode, spec, norm, item, ncode))
            draws_out.append(item)
        scores = np.concatenate(scores_out, axis=0)
        with np.errstate(invalid="ignore"):
            ranks = rank_descending(np.moveaxis(scores, 1, -1), axis=-1)
        return np.concatenate(draws_out), scores, np.moveaxis(ranks, -1, 1)


def _same_params(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    if set(a) != set(b):
        return False
    for k in a:
        x, y = a[k], b[k]
        if x is y:
            continue
        try:
            if isinstance(x, xr.DataArray | np.ndarray) or isinstance(y, xr.DataArray | np.ndarray):
                if not (isinstance(x, type(y)) and np.array_equal(np.asarray(x), np.asarray(y))):
                    return False
            elif bool(x != y):
                return False
        except (TypeError, ValueError):
            return False
    return True


def _evaluate_chunk(
    engine: _Engine, first: int, last: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Module-level entry point of one chunk of work items (what dask workers run)."""
    return engine.evaluate(first, last)


# ======================================================================================
# driving a run
# ======================================================================================


def _nominal(pipeline: Pipeline, panel: xr.DataArray | Result) -> tuple[Result, bool]:
    """The nominal run (keeping every step) and whether the input was dask-backed."""
    if not isinstance(pipeline, Pipeline):
        raise InvalidParameterError(
            "The 'pipeline' parameter must be a brics_ecom.Pipeline; got "
            f"{type(pipeline).__name__}."
        )
    lazy = False
    if isinstance(panel, Result):
        upstream, _ = _structure(pipeline)
        have = set(panel.data)
        if panel.pipeline == pipeline and {"raw", *upstream} <= have and panel.scores is not None:
            lazy = any(is_lazy(v) for v in panel.data.values())
            if not lazy:
                return panel, False
        panel = panel.data["raw"]
    if not isinstance(panel, xr.DataArray):
        raise InvalidParameterError(
            f"The 'panel' parameter must be an xarray.DataArray or a Result; got "
            f"{type(panel).__name__}."
        )
    if is_lazy(panel):
        lazy = True
        panel = panel.compute()
    if "draw" in panel.dims:
        raise InvalidParameterError(
            "The panel already has a 'draw' dim; uncertainty() adds its own draws."
        )
    return pipeline.run(panel), lazy


def _check_target(pipeline: Pipeline, target: str | None) -> str:
    spec = pipeline.spec
    if target is None:
        return spec.root
    if target not in spec.aggregates:
        raise InvalidParameterError(
            f"The 'target' parameter must be an aggregate of the index tree; got {target!r}. "
            f"Aggregates: {list(spec.aggregates)}."
        )
    return target


def _plan_chunks(
    engine: _Engine, n: int, chunk: int | None, memory_limit: int | None
) -> list[tuple[int, int, int]]:
    """Make the work items and pack them into chunks: ``(first item, last item, draws)``."""
    if chunk is not None:
        check_number(chunk, param="chunk", func="uncertainty", low=1, integer=True)
    if memory_limit is not None:
        check_number(memory_limit, param="memory_limit", func="uncertainty", low=1, integer=True)
    per_draw = engine.bytes_per_draw()
    budget = DEFAULT_MEMORY_LIMIT if memory_limit is None else int(memory_limit)
    size = max(1, budget // per_draw)
    if chunk is not None:
        size = min(size, int(chunk)) if memory_limit is not None else int(chunk)
    if engine.shared:
        # products over shared data: the block depends on the problem only
        block = 1 << max(0, min(12, int(math.log2(max(1, BLOCK_BYTES // per_draw)))))
    else:  # one product per draw: any grouping gives the same numbers
        block = size
    engine.make_items(int(block))
    bounds = []
    first, count = 0, 0
    for i, item in enumerate(engine.items):
        count += len(item)
        if count >= size:
            bounds.append((first, i + 1, count))
            first, count = i + 1, 0
    if first < len(engine.items):
        bounds.append((first, len(engine.items), count))
    return bounds


def _progress_bar(progress: bool | None, n_chunks: int, total: int) -> Any:
    if progress is False or (progress is None and n_chunks <= 1):
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is optional
        if progress:
            warnings.warn(
                "progress=True needs tqdm; install it to see a progress bar.", stacklevel=3
            )
        return None
    return tqdm(total=total, desc="draws", unit="draw")


def _evaluate(
    engine: _Engine,
    n: int,
    *,
    chunk: int | None,
    memory_limit: int | None,
    client: Any,
    lazy: bool,
    progress: bool | None,
) -> tuple[np.ndarray, np.ndarray]:
    bounds = _plan_chunks(engine, n, chunk, memory_limit)
    bar = _progress_bar(progress, len(bounds), n)
    scores: np.ndarray | None = None
    ranks: np.ndarray | None = None

    def store(part: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
        nonlocal scores, ranks
        idx, s, r = part
        if scores is None or ranks is None:
            scores = np.empty((n, *s.shape[1:]))
            ranks = np.empty((n, *r.shape[1:]))
        scores[idx] = s
        ranks[idx] = r
        if bar is not None:
            bar.update(len(idx))

    try:
        if client is not None or lazy:
            engine.prepare()
        if client is not None:
            from distributed import as_completed

            remote = client.scatter(engine, broadcast=True)
            futures = client.map(
                _evaluate_chunk,
                [remote] * len(bounds),
                [b[0] for b in bounds],
                [b[1] for b in bounds],
                pure=False,
            )
            for fut in as_completed(futures):
                store(fut.result())
                fut.release()
        elif lazy:
            import dask

            tasks = [dask.delayed(_evaluate_chunk)(engine, b[0], b[1]) for b in bounds]
            for part in dask.compute(*tasks):
                store(part)
        else:
            for b in bounds:
                store(engine.evaluate(b[0], b[1]))
    finally:
        if bar is not None:
            bar.close()
    assert scores is not None and ranks is not None
    return scores, ranks


def _sample_values(bound: list[_Bound], u: np.ndarray, per_draw_ok: bool) -> np.ndarray:
    values = np.empty(u.shape, dtype=np.float64)
    for j, b in enumerate(bound):
        if b.stage == "weights" and b.factor.per_draw:
            if not per_draw_ok:
                raise InvalidParameterError(
                    f"Factor {b.factor.name!r} uses one weight set per draw (per_draw=True), which "
                    "a Sobol design cannot vary; use per_draw=False (sets sampled from a pool)."
                )
            values[:, j] = np.arange(u.shape[0], dtype=np.float64)
        else:
            values[:, j] = b.from_uniform(u[:, j])
    return values


def _values_from_draws(bound: list[_Bound], draws: pd.DataFrame) -> np.ndarray:
    if not isinstance(draws, pd.DataFrame):
        raise InvalidParameterError(
            f"The 'draws' parameter must be a pandas DataFrame with one column per factor; got "
            f"{type(draws).__name__}."
        )
    names = [b.factor.name for b in bound]
    missing = [n for n in names if n not in draws.columns]
    if missing:
        raise InvalidParameterError(
            f"The 'draws' table has no column for the factors {missing}; its columns are "
            f"{list(draws.columns)}."
        )
    return np.column_stack([b.from_labels(draws[b.factor.name]) for b in bound])


def _reuse_weight_pools(bound: list[_Bound], draws: pd.DataFrame) -> None:
    """Replay generated weight pools from a draws table rather than regenerating them.

    A pool made from ``rng`` is recorded in ``draws.attrs["weight_pools"]`` by the run that
    sampled it; without that record the pool would be regenerated from this call's ``rng``
    and the same set labels would silently mean other weights.
    """
    pools = draws.attrs.get("weight_pools", {}) if hasattr(draws, "attrs") else {}
    for b in bound:
        if b.stage != "weights" or b.factor.sets is not None:
            continue
        recorded = pools.get(b.factor.name)
        if recorded is not None:
            b.matrix = np.asarray(recorded, dtype=float)
        else:
            warnings.warn(
                f"Replaying draws for factor {b.factor.name!r}, whose weight pool is generated "
                "from rng, without a recorded pool: the pool was regenerated from this call's "
                "rng, so set labels match the original run only with the same seed. Pass the "
                "result's `draws` table (it records the pool) or explicit weight sets.",
                DataWarning,
                stacklevel=4,
            )


def _draws_table(bound: list[_Bound], values: np.ndarray) -> pd.DataFrame:
    cols = {}
    for j, b in enumerate(bound):
        col = values[:, j]
        if b.discrete:
            labels = np.empty(b.n_alt, dtype=object)
            labels[:] = b.labels
            cols[b.factor.name] = labels[col.astype(np.intp)]
        elif b.factor.kind == "noise":
            cols[b.factor.name] = col.astype(np.int64)
        else:
            cols[b.factor.name] = col
    out = pd.DataFrame(cols, index=pd.RangeIndex(values.shape[0], name="draw"))
    for name in out.columns:
        if out[name].dtype == object:
            out[name] = out[name].infer_objects()
    pools = {
        b.factor.name: b.matrix
        for b in bound
        if b.stage == "weights" and b.factor.sets is None and b.matrix is not None
    }
    if pools:  # generated pools travel with the table, so that replays are exact
        out.attrs["weight_pools"] = pools
    return out


def _run(
    pipeline: Pipeline,
    panel: xr.DataArray | Result,
    factors: Sequence[Factor],
    *,
    n: int | None,
    gen: np.random.Generator,
    target: str | None,
    time: Hashable | None,
    chunk: int | None,
    memory_limit: int | None,
    client: Any,
    progress: bool | None,
    draws: pd.DataFrame | None = None,
    uniform: np.ndarray | None = None,
) -> tuple[list[_Bound], np.ndarray, np.ndarray, np.ndarray, Result, str]:
    """Shared by uncertainty and sensitivity: bind, sample, evaluate."""
    tgt = _check_target(pipeline, target)
    nominal, lazy = _nominal(pipeline, panel)
    raw = nominal.data["raw"]
    if time is not None and ("time" not in raw.dims or time not in raw["time"].values.tolist()):
        have = raw["time"].values.tolist() if "time" in raw.dims else []
        raise InvalidParameterError(
            f"The 'time' parameter must be one of the panel's times {have}; got {time!r}."
        )
    bound = _bind(factors, pipeline, tgt, gen, n)
    if draws is not None:
        _reuse_weight_pools(bound, draws)
        values = _values_from_draws(bound, draws)
    elif uniform is not None:
        values = _sample_values(bound, uniform, per_draw_ok=False)
    else:
        assert n is not None
        values = _sample_values(bound, gen.random((n, len(bound))), per_draw_ok=True)
    engine = _Engine(pipeline, nominal, bound, values, tgt, time)
    scores, ranks = _evaluate(
        engine,
        values.shape[0],
        chunk=chunk,
        memory_limit=memory_limit,
        client=client,
        lazy=lazy,
        progress=progress,
    )
    return bound, values, scores, ranks, nominal, tgt


# ======================================================================================
# uncertainty analysis
# ======================================================================================


class UncertaintyResult:
    """The outcome of :func:`uncertainty`.

    Attributes
    ----------
    samples : xarray.Dataset
        ``scores`` and ``ranks`` of the target for every draw, dims ``(draw, unit, ...)``
        (``time`` if the panel has several years and no ``time`` was chosen); each factor's
        value per draw is a coordinate on ``draw``.
    nominal : xarray.Dataset
        ``scores`` and ``ranks`` of the unchanged pipeline.
    summary : xarray.Dataset
        Per unit (and year): nominal score and rank; mean, median, standard deviation and
        quantiles of the score; mean, median, quantiles, minimum and maximum of the rank;
        mean absolute rank change from the nominal; probability of a rank ≤ k.
    draws : pandas.DataFrame
        The factor values of every draw (one column per factor); pass it back as
        ``draws=`` to replay the run.
    factors : tuple of Factor
    target : str
        The node analysed.
    """

    def __init__(
        self,
        *,
        samples: xr.Dataset,
        nominal: xr.Dataset,
        summary: xr.Dataset,
        draws: pd.DataFrame,
        factors: Sequence[Factor],
        target: str,
    ) -> None:
        self.samples = samples
        self.nominal = nominal
        self.summary = summary
        self.draws = draws
        self.factors = tuple(factors)
        self.target = target

    @property
    def n(self) -> int:
        """Number of draws."""
        return int(self.samples.sizes["draw"])

    def __repr__(self) -> str:
        dims = {k: v for k, v in self.samples.sizes.items()}
        return (
            f"UncertaintyResult(target={self.target!r}, {dims}, factors="
            f"{[f.name for f in self.factors]})"
        )

    def to_frame(self, *, sort: bool = True) -> pd.DataFrame:
        """The summary as a table: one row per unit (per unit and year for panels).

        Columns: ``score_nominal``, ``score_mean``, ``score_median``, ``score_sd``,
        ``score_q5``, ``score_q95`` (one per quantile), ``rank_nominal``, ``rank_mean``,
        ``rank_median``, ``rank_q5``, ``rank_q95``, ``rank_min``, ``rank_max``,
        ``mean_abs_rank_change``, ``p_top1``, ``p_top3``, ``p_top10`` (one per k).

        Examples
        --------
        >>> import brics_ecom as be
        >>> panel, spec = be.datasets.load_asem()
        >>> pipe = be.Pipeline.coinr_example(spec).set(normalise__lower=1)  # geometric: > 0
        >>> ua = uncertainty(pipe, panel,
        ...                  [Factor.choice("aggregate__method", ["arithmetic", "geometric"])],
        ...                  n=20, rng=0, progress=False)
        >>> list(ua.to_frame().columns[:3])
        ['score_nominal', 'score_mean', 'score_median']
        """
        s = self.summary
        cols: dict[str, xr.DataArray] = {
            "score_nominal": s["score_nominal"],
            "score_mean": s["score_mean"],
            "score_median": s["score_median"],
            "score_sd": s["score_sd"],
        }
        for q in s["quantile"].values:
            cols[f"score_q{_pct(q)}"] = s["score_q"].sel(quantile=q, drop=True)
        cols.update(
            rank_nominal=s["rank_nominal"],
            rank_mean=s["rank_mean"],
            rank_median=s["rank_median"],
        )
        for q in s["quantile"].values:
            cols[f"rank_q{_pct(q)}"] = s["rank_q"].sel(quantile=q, drop=True)
        cols.update(
            rank_min=s["rank_min"],
            rank_max=s["rank_max"],
            mean_abs_rank_change=s["mean_abs_rank_change"],
        )
        for k in s["k"].values:
            cols[f"p_top{int(k)}"] = s["p_top"].sel(k=k, drop=True)
        ds = xr.Dataset(cols)
        keep = [c for c in ds.coords if c not in ds.dims]
        df = ds.drop_vars(keep).to_dataframe()
        if sort:
            df = df.sort_values(["rank_nominal", "rank_median"], kind="stable")
            if "time" in df.index.names:  # best first within each year
                df = df.sort_index(level="time", sort_remaining=False, kind="stable")
        return df


def _pct(q: float) -> str:
    v = float(q) * 100
    return f"{v:.10g}"


def _summary(
    scores: np.ndarray,
    ranks: np.ndarray,
    nominal_scores: xr.DataArray,
    nominal_ranks: xr.DataArray,
    quantiles: tuple[float, ...],
    top_k: tuple[int, ...],
) -> xr.Dataset:
    stats_ = _sk.draw_summary(scores, ranks, nominal_ranks.values, quantiles=quantiles, top_k=top_k)
    dims = nominal_scores.dims
    coords = {k: v for k, v in nominal_scores.coords.items()}
    q = {"quantile": list(quantiles)}
    k = {"k": list(top_k)}
    data: dict[str, Any] = {
        "score_nominal": (dims, nominal_scores.values),
        "rank_nominal": (dims, nominal_ranks.values),
    }
    for name, value in stats_.items():
        if name in ("score_q", "rank_q"):
            data[name] = (("quantile", *dims), value)
        elif name == "p_top":
            data[name] = (("k", *dims), value)
        else:
            data[name] = (dims, value)
    return xr.Dataset(data, coords={**coords, **q, **k})


def _check_common(
    quantiles: Sequence[float], top_k: Sequence[int], func: str
) -> tuple[tuple[float, ...], tuple[int, ...]]:
    qs = tuple(
        float(check_number(q, param="quantiles", func=func, low=0, high=1)) for q in quantiles
    )
    ks = tuple(int(check_number(k, param="top_k", func=func, low=1, integer=True)) for k in top_k)
    return qs, ks


def uncertainty(
    pipeline: Pipeline,
    panel: xr.DataArray | Result,
    factors: Sequence[Factor],
    n: int | None = None,
    rng: int | np.random.Generator | None = None,
    *,
    target: str | None = None,
    time: Hashable | None = None,
    quantiles: Sequence[float] = (0.05, 0.95),
    top_k: Sequence[int] = (1, 3, 10),
    memory_limit: int | None = None,
    chunk: int | None = None,
    client: Any = None,
    progress: bool | None = None,
    draws: pd.DataFrame | None = None,
    blas_threads: int | None = 1,
) -> UncertaintyResult:
    """Monte Carlo uncertainty analysis of an index: how much do scores and ranks move?

    Every factor value of every draw is sampled up front; draws are then evaluated in
    chunks. Each distinct combination of the choices before normalisation (imputation,
    treatment, indicator exclusion, ...) is computed once, re-using the nominal run's
    earlier steps; each normalisation alternative once; all weight draws of one
    (alternative, aggregation method) group are aggregated in one vectorised pass and all
    ranks are computed at once.

    Parameters
    ----------
    pipeline : Pipeline
        The nominal pipeline; its last steps must be ``normalise`` (optional) and
        ``aggregate``.
    panel : xarray.DataArray or Result
        The raw panel (a dask-backed panel is loaded, and its chunks of draws are evaluated
        with dask), or a nominal :class:`~brics_ecom.results.Result` of ``pipeline``.
    factors : sequence of Factor
        The uncertain inputs (see :class:`Factor`).
    n : int
        Number of draws (≥ 2). Optional with ``draws``.
    rng : int, numpy.random.Generator or None
        Seed or generator of every random number (global state is never used).
    target : str, optional
        The aggregate analysed (default: the index, i.e. the root).
    time : hashable, optional
        Analyse this year only (default: every year).
    quantiles : sequence of float, default (0.05, 0.95)
        Quantiles of scores and ranks (R's type 7).
    top_k : sequence of int, default (1, 3, 10)
        Report the probability of a rank ≤ k.
    memory_limit : int, optional
        Working memory of one chunk of draws, in bytes (default 512 MiB). The outputs
        (scores and ranks of every draw) come on top.
    chunk : int, optional
        Draws per chunk (overrides the memory-based size, or caps it if both are given).
        The results do not depend on it.
    client : dask.distributed.Client, optional
        Evaluate the chunks on this cluster (the same numbers as in-process).
    progress : bool, optional
        Progress bar (tqdm, if installed). Default: shown when there are several chunks.
    draws : pandas.DataFrame, optional
        Explicit factor values, one row per draw and one column per factor name (the format
        of :attr:`UncertaintyResult.draws`): replays a saved or external sample.
    blas_threads : int or None, default 1
        Threads of the BLAS library during the run (with threadpoolctl, if installed;
        ``None`` leaves them alone). The draws are already vectorised, and threaded BLAS
        on the many mid-sized products costs more than it gains (twice as slow on two
        cores); scale out with ``client`` instead. The numbers do not depend on it.

    Returns
    -------
    UncertaintyResult

    Raises
    ------
    InvalidParameterError
        Unknown parameter paths (the message lists the valid ones), parameters a method
        does not take, ``n < 2``, bad quantiles, unknown ``target`` or ``time``.
    SpecError
        An exclusion that removes the target node.

    Examples
    --------
    >>> import brics_ecom as be
    >>> panel, spec = be.datasets.load_asem()
    >>> pipe = be.Pipeline.coinr_example(spec)
    >>> ua = uncertainty(pipe, panel, [Factor.choice("treat", [True, False]),
    ...                  Factor.exclude_indicator(["Goods", "Services"])], n=50, rng=3,
    ...                  progress=False)
    >>> ua.samples["ranks"].sizes["draw"], sorted(set(ua.draws["exclude"].dropna()))
    (50, ['Goods', 'Services'])
    """
    func = "uncertainty"
    if draws is None:
        if n is None:
            raise InvalidParameterError("uncertainty needs the number of draws n (≥ 2).")
        check_number(n, param="n", func=func, low=2, integer=True)
    else:
        if not isinstance(draws, pd.DataFrame):
            raise InvalidParameterError(
                f"The 'draws' parameter must be a pandas DataFrame; got {type(draws).__name__}."
            )
        if n is not None and int(n) != len(draws):
            raise InvalidParameterError(
                f"n = {n} but the 'draws' table has {len(draws)} rows; omit n or make them agree."
            )
        n = len(draws)
        if n < 1:
            raise InvalidParameterError("The 'draws' table is empty.")
    qs, ks = _check_common(quantiles, top_k, func)
    gen = as_rng(rng)
    with _blas_limit(blas_threads, func):
        bound, values, scores, ranks, nominal, tgt = _run(
            pipeline,
            panel,
            factors,
            n=int(n),
            gen=gen,
            target=target,
            time=time,
            chunk=chunk,
            memory_limit=memory_limit,
            client=client,
            progress=progress,
            draws=draws,
        )
        return _ua_result(bound, values, scores, ranks, nominal, tgt, time, qs, ks)


def _nominal_target(
    nominal: Result, target: str, time: Hashable | None
) -> tuple[xr.DataArray, xr.DataArray]:
    assert nominal.scores is not None and nominal.ranks is not None
    s = nominal.scores.sel(node=target, drop=True)
    r = nominal.ranks.sel(node=target, drop=True)
    if time is not None and "time" in s.dims:
        s, r = s.sel(time=time, drop=True), r.sel(time=time, drop=True)
    rest = [d for d in s.dims if d != "unit"]
    return s.transpose("unit", *rest), r.transpose("unit", *rest)


def _ua_result(
    bound: list[_Bound],
    values: np.ndarray,
    scores: np.ndarray,
    ranks: np.ndarray,
    nominal: Result,
    target: str,
    time: Hashable | None,
    quantiles: tuple[float, ...],
    top_k: tuple[int, ...],
) -> UncertaintyResult:
    nom_s, nom_r = _nominal_target(nominal, target, time)
    units = list(nominal.data["raw"]["unit"].values)
    nom_s = nom_s.reindex(unit=units)
    nom_r = nom_r.reindex(unit=units)
    nominal_missing = np.isnan(nom_s.values).reshape(len(units), -1).all(axis=1)
    draws_missing = np.isnan(scores).reshape(scores.shape[0], len(units), -1).all(axis=(0, 2))
    keep = ~(nominal_missing & draws_missing)
    if not keep.all():
        scores, ranks = scores[:, keep], ranks[:, keep]
        nom_s, nom_r = nom_s.isel(unit=keep), nom_r.isel(unit=keep)
    dims = ("draw", *nom_s.dims)
    table = _draws_table(bound, values)
    coords: dict[Hashable, Any] = dict(nom_s.coords.items())
    coords["draw"] = np.arange(values.shape[0])
    for name in table.columns:
        coords[name] = ("draw", table[name].to_numpy())
    samples = xr.Dataset({"scores": (dims, scores), "ranks": (dims, ranks)}, coords=coords)
    samples.attrs = {"target": target}
    nominal_ds = xr.Dataset({"scores": nom_s, "ranks": nom_r})
    summary = _summary(scores, ranks, nom_s, nom_r, quantiles, top_k)
    return UncertaintyResult(
        samples=samples,
        nominal=nominal_ds,
        summary=summary,
        draws=table,
        factors=[b.factor for b in bound],
        target=target,
    )


# ======================================================================================
# sensitivity analysis
# ======================================================================================


class SensitivityResult:
    """The outcome of :func:`sensitivity`: Sobol indices with bootstrap intervals.

    Attributes
    ----------
    indices : xarray.Dataset
        ``S1`` (first order), ``ST`` (total order), ``S1_conf``/``ST_conf`` (half-width
        of the normal bootstrap interval), ``S1_low``/``S1_high``/``ST_low``/``ST_high``
        (percentile bootstrap interval); dims ``factor`` (and ``unit``/``time`` for
        per-unit outputs).
    variance : xarray.DataArray
        Variance of the output over the ``A`` and ``B`` runs.
    output : str
        What was analysed.
    n : int
        Base sample size N (the model ran N·(k + 2) times).
    runs : UncertaintyResult
        Every model run (``A``, ``B`` and the ``AB_i``; the ``design`` coordinate on
        ``draw`` says which).
    """

    def __init__(
        self,
        *,
        indices: xr.Dataset,
        variance: xr.DataArray,
        output: str,
        n: int,
        runs: UncertaintyResult,
    ) -> None:
        self.indices = indices
        self.variance = variance
        self.output = output
        self.n = n
        self.runs = runs

    def __repr__(self) -> str:
        return (
            f"SensitivityResult(output={self.output!r}, N={self.n}, "
            f"factors={list(self.indices['factor'].values)})"
        )

    def to_frame(self) -> pd.DataFrame:
        """The indices as a table: one row per factor (per unit, year and factor).

        Examples
        --------
        >>> import brics_ecom as be
        >>> panel, spec = be.datasets.load_asem()
        >>> pipe = be.Pipeline.coinr_example(spec).set(normalise__lower=1)
        >>> sa = sensitivity(pipe, panel,
        ...                  [Factor.choice("aggregate__method", ["arithmetic", "geometric"]),
        ...                   Factor.weights(levels=[2, 3], n_sets=20)],
        ...                  n=32, rng=1, n_bootstrap=50, progress=False)
        >>> list(sa.to_frame().columns[:2])
        ['S1', 'S1_conf']
        """
        order = ["S1", "S1_conf", "S1_low", "S1_high", "ST", "ST_conf", "ST_low", "ST_high"]
        ds = self.indices[order]
        keep = [c for c in ds.coords if c not in ds.dims]
        df = ds.drop_vars(keep).to_dataframe()
        if df.index.nlevels > 1:
            names = [str(n) for n in df.index.names if n != "factor"]
            df = df.reorder_levels([*names, "factor"])
            df = df.sort_index(level=list(range(df.index.nlevels - 1)), sort_remaining=False)
        return df


_OUTPUTS = ("mean_abs_rank_change", "rank", "score")


def sensitivity(
    pipeline: Pipeline,
    panel: xr.DataArray | Result,
    factors: Sequence[Factor],
    n: int,
    rng: int | np.random.Generator | None = None,
    *,
    output: str | Callable[[xr.Dataset], Any] = "mean_abs_rank_change",
    target: str | None = None,
    time: Hashable | None = None,
    n_bootstrap: int = 1000,
    conf: float = 0.95,
    sampler: str = "sobol",
    memory_limit: int | None = None,
    chunk: int | None = None,
    client: Any = None,
    progress: bool | None = None,
    blas_threads: int | None = 1,
) -> SensitivityResult:
    """Variance-based (Sobol) sensitivity analysis of an index.

    A Saltelli design is drawn on the unit hypercube: two base matrices ``A`` and ``B``
    (N × k) and the k matrices ``AB_i`` (``A`` with column i from ``B``). Each factor maps
    its uniform column to a value (``floor(u·k)`` for discrete factors, the inverse CDF for
    continuous ones). The N·(k + 2) runs are evaluated with the engine of
    :func:`uncertainty`; then, with the outputs ``f`` centred and ``V`` their variance over
    ``A`` and ``B``,

    * first order (Saltelli et al. 2010): ``S_i = mean(f(B) (f(AB_i) − f(A))) / V``,
    * total order (Jansen 1999): ``ST_i = mean((f(A) − f(AB_i))²) / (2V)``,

    with bootstrap confidence intervals (rows resampled jointly, all replicates
    vectorised).

    Parameters
    ----------
    pipeline, panel, factors
        As for :func:`uncertainty`.
    n : int
        Base sample size N ≥ 2 (a power of 2 with the Sobol sampler).
    rng : int, numpy.random.Generator or None
        Seed or generator.
    output : str or callable, default "mean_abs_rank_change"
        ``"mean_abs_rank_change"``: the mean over units of ``|rank − nominal rank|`` (one
        number per run, as COINr); ``"rank"`` or ``"score"``: one output per unit (and
        year), giving Sobol indices of each unit's rank or score; or a callable taking an
        ``xarray.Dataset`` with ``scores``, ``ranks`` (dims ``draw, unit, ...``),
        ``nominal_scores`` and ``nominal_ranks`` and returning one value per draw (an
        array of length ``n_runs`` or a DataArray with a ``draw`` dim and any other dims).
    target, time
        As for :func:`uncertainty`.
    n_bootstrap : int, default 1000
        Bootstrap replicates (0 for none).
    conf : float, default 0.95
        Confidence level of the intervals.
    sampler : {"sobol", "random"}
        Scrambled Sobol' sequence (quasi-random, SciPy's ``qmc.Sobol``) or plain uniform
        random numbers for the base matrices.
    memory_limit, chunk, client, progress, blas_threads
        As for :func:`uncertainty`.

    Returns
    -------
    SensitivityResult

    Examples
    --------
    >>> import brics_ecom as be
    >>> panel, spec = be.datasets.load_asem()
    >>> factors = [
    ...     Factor.weights(levels=[2, 3], n_sets=50),
    ...     Factor.choice("normalise__method", ["minmax", "zscore"],
    ...                   params=[{"lower": 1, "upper": 100}, {"mean": 10, "sd": 2}]),
    ...     Factor.choice("aggregate__method", ["arithmetic", "geometric"]),
    ... ]
    >>> sa = sensitivity(be.Pipeline.coinr_example(spec), panel, factors, n=64, rng=2,
    ...                  n_bootstrap=100, progress=False)
    >>> sa.indices["ST"].to_series().idxmax()
    'aggregate__method'
    """
    func = "sensitivity"
    check_number(n, param="n", func=func, low=2, integer=True)
    check_number(n_bootstrap, param="n_bootstrap", func=func, low=0, integer=True)
    check_number(
        conf, param="conf", func=func, low=0, high=1, low_inclusive=False, high_inclusive=False
    )
    check_choice(sampler, ("sobol", "random"), param="sampler", func=func)
    if not callable(output):
        check_choice(output, _OUTPUTS, param="output", func=func)
    gen = as_rng(rng)
    if isinstance(factors, Factor):
        factors = [factors]
    k = len(factors) if isinstance(factors, Sequence) else 0
    if k < 1:
        raise InvalidParameterError(
            "The 'factors' parameter must be a non-empty list of Factor objects."
        )
    n = int(n)
    # weight pools are made first, from the same generator, then the design
    tgt = _check_target(pipeline, target)
    bound_probe = _bind(factors, pipeline, tgt, gen, None)
    base = _base_sample(n, 2 * k, sampler, gen)
    design = _sk.saltelli_design(base[:, :k], base[:, k:])
    values = _sample_values(bound_probe, design, per_draw_ok=False)
    table = _draws_table(bound_probe, values)
    nominal, lazy = _nominal(pipeline, panel)
    if time is not None:
        raw = nominal.data["raw"]
        if "time" not in raw.dims or time not in raw["time"].values.tolist():
            raise InvalidParameterError(
                f"The 'time' parameter must be one of the panel's times; got {time!r}."
            )
    engine = _Engine(pipeline, nominal, bound_probe, values, tgt, time)
    with _blas_limit(blas_threads, func):
        scores, ranks = _evaluate(
            engine,
            values.shape[0],
            chunk=chunk,
            memory_limit=memory_limit,
            client=client,
            lazy=lazy,
            progress=progress,
        )
    runs = _ua_result(
        bound_probe, values, scores, ranks, nominal, tgt, time, (0.05, 0.95), (1, 3, 10)
    )
    labels = np.array(["A"] * n + ["B"] * n + [f"AB_{f.name}" for f in factors for _ in range(n)])
    runs.samples = runs.samples.assign_coords(design=("draw", labels))
    runs.draws = table.assign(design=labels)
    y, name = _outputs(runs, output)
    fa, fb, fab = _sk.split_outputs(y.values, n, k)
    out = _sk.sobol_confidence(fa, fb, fab, n_bootstrap=n_bootstrap, conf=conf, rng=gen)
    rest = y.dims[1:]
    coords = {
        c: y.coords[c] for c in y.coords if c != "draw" and set(y.coords[c].dims) <= set(rest)
    }
    fnames = [f.name for f in factors]
    ds = xr.Dataset(
        {key: (("factor", *rest), val) for key, val in out.items()},
        coords={**coords, "factor": fnames},
    )
    var = np.var(np.concatenate([fa, fb]), axis=0)
    variance = xr.DataArray(var, dims=rest, coords=coords, name="variance")
    return SensitivityResult(indices=ds, variance=variance, output=name, n=n, runs=runs)


def _blas_limit(threads: int | None, func: str) -> contextlib.AbstractContextManager[Any]:
    """Limit the BLAS threads of this process while the block runs (threadpoolctl)."""
    if threads is None:
        return contextlib.nullcontext()
    check_number(threads, param="blas_threads", func=func, low=1, integer=True)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional
        return contextlib.nullcontext()
    return threadpool_limits(limits=int(threads), user_api="blas")


def _base_sample(n: int, d: int, sampler: str, gen: np.random.Generator) -> np.ndarray:
    if sampler == "random":
        return gen.random((n, d))
    from scipy.stats import qmc

    try:
        engine = qmc.Sobol(d=d, scramble=True, rng=gen)
    except TypeError:  # pragma: no cover - SciPy < 1.15
        engine = qmc.Sobol(d=d, scramble=True, seed=gen)
    if n & (n - 1) == 0:
        return np.asarray(engine.random_base2(int(math.log2(n))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # balance: documented, N = 2^m advised
        return np.asarray(engine.random(n))


def _outputs(
    runs: UncertaintyResult, output: str | Callable[[xr.Dataset], Any]
) -> tuple[xr.DataArray, str]:
    s = runs.samples
    if callable(output):
        ds = xr.Dataset(
            {
                "scores": s["scores"],
                "ranks": s["ranks"],
                "nominal_scores": runs.nominal["scores"].sel(unit=s["unit"]),
                "nominal_ranks": runs.nominal["ranks"].sel(unit=s["unit"]),
            },
        )
        raw = output(ds)
        if isinstance(raw, xr.DataArray):
            if "draw" not in raw.dims:
                raise InvalidParameterError(
                    f"The 'output' callable must return values with a 'draw' dim; got dims "
                    f"{raw.dims}."
                )
            y = raw.transpose("draw", ...).astype(float)
        else:
            arr = np.asarray(raw, dtype=float)
            if arr.ndim != 1 or arr.shape[0] != s.sizes["draw"]:
                raise InvalidParameterError(
                    f"The 'output' callable must return one value per run ({s.sizes['draw']}); "
                    f"got shape {arr.shape}."
                )
            y = xr.DataArray(arr, dims="draw")
        return y, getattr(output, "__name__", "custom")
    if output == "mean_abs_rank_change":
        nominal = runs.nominal["ranks"].sel(unit=s["unit"])
        diff = abs(s["ranks"] - nominal)
        y = diff.mean([d for d in diff.dims if d != "draw"], skipna=True)
        return y, output
    var = s["ranks"] if output == "rank" else s["scores"]
    keep = [c for c in var.coords if c not in var.dims and "draw" in var.coords[c].dims]
    return var.drop_vars(keep).transpose("draw", ...), output


# ======================================================================================
# plots
# ======================================================================================


def plot_rank_intervals(
    result: UncertaintyResult,
    *,
    time: Hashable | None = None,
    ax: Axes | None = None,
    max_units: int | None = None,
) -> Axes:
    """Rank intervals per unit: the quantile range, the median and the nominal rank.

    Units are sorted by nominal rank, best at the top. Needs matplotlib (the ``plot``
    extra).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import brics_ecom as be
    >>> panel, spec = be.datasets.load_asem()
    >>> ua = uncertainty(be.Pipeline.coinr_example(spec), panel,
    ...                  [Factor.weights(levels=[2, 3], n_sets=20)], n=40, rng=0, progress=False)
    >>> ax = plot_rank_intervals(ua, max_units=10)
    >>> len(ax.get_yticklabels())
    10
    """
    import matplotlib.pyplot as plt

    s = result.summary
    if "time" in s.dims:
        s = s.sel(time=s["time"].values[-1] if time is None else time)
    df = s[["rank_nominal", "rank_median"]].to_dataframe()[["rank_nominal", "rank_median"]]
    q = s["rank_q"].transpose("unit", "quantile").values
    df["lo"], df["hi"] = np.nanmin(q, axis=1), np.nanmax(q, axis=1)
    df = df.sort_values(["rank_nominal", "rank_median"])
    if max_units is not None:
        df = df.iloc[: int(max_units)]
    if ax is None:
        _, ax = plt.subplots(figsize=(6, max(2.0, 0.22 * len(df) + 1)))
    y = np.arange(len(df))
    ax.hlines(y, df["lo"], df["hi"], color="0.6", lw=3, label="quantile interval")
    ax.plot(df["rank_median"], y, "o", color="C0", label="median")
    ax.plot(df["rank_nominal"], y, "x", color="C3", label="nominal")
    ax.set_yticks(y, [str(u) for u in df.index])
    ax.invert_yaxis()
    ax.set_xlabel(f"rank of {result.target} (1 = best)")
    ax.legend(loc="lower right", fontsize="small")
    return ax


def plot_sobol(
    result: SensitivityResult,
    *,
    unit: Hashable | None = None,
    units: Sequence[Hashable] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Bar chart of first- and total-order indices with their confidence intervals.

    For a per-unit analysis (``output="rank"``), give ``unit=`` for one unit's bars, or
    leave it out for a heat map of the total-order indices (units × factors), optionally
    restricted to ``units``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import brics_ecom as be
    >>> panel, spec = be.datasets.load_asem()
    >>> pipe = be.Pipeline.coinr_example(spec).set(normalise__lower=1)
    >>> sa = sensitivity(pipe, panel,
    ...                  [Factor.choice("aggregate__method", ["arithmetic", "geometric"]),
    ...                   Factor.weights(levels=[2, 3], n_sets=20)],
    ...                  n=32, rng=1, n_bootstrap=50, progress=False)
    >>> ax = plot_sobol(sa)
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['aggregate__method', 'weights']
    """
    import matplotlib.pyplot as plt

    ind = result.indices
    if unit is not None:
        ind = ind.sel(unit=unit)
    elif units is not None:
        ind = ind.sel(unit=list(units))
    extra = [d for d in ind.dims if d != "factor"]
    if "time" in extra and ind.sizes["time"] == 1:
        ind = ind.isel(time=0)
        extra = [d for d in ind.dims if d != "factor"]
    if extra:
        if ax is None:
            _, ax = plt.subplots(
                figsize=(1.2 * ind.sizes["factor"] + 2, 0.2 * ind.sizes[extra[0]] + 1.5)
            )
        st = ind["ST"].transpose(*extra, "factor")
        if st.ndim > 2:
            raise InvalidParameterError(
                f"plot_sobol: select one {extra[1:]} first (e.g. result.indices.sel(time=...))."
            )
        im = ax.imshow(st.values, aspect="auto", vmin=0, vmax=1, cmap="viridis")
        ax.set_xticks(
            np.arange(st.sizes["factor"]),
            [str(f) for f in st["factor"].values],
            rotation=30,
            ha="right",
        )
        ax.set_yticks(np.arange(st.shape[0]), [str(u) for u in st[extra[0]].values])
        ax.figure.colorbar(im, ax=ax, label="total-order index")
        return ax
    if ax is None:
        _, ax = plt.subplots(figsize=(1.2 * ind.sizes["factor"] + 2, 3))
    x = np.arange(ind.sizes["factor"])
    width = 0.38
    ax.bar(
        x - width / 2,
        ind["S1"].values,
        width,
        yerr=ind["S1_conf"].values,
        label="first order",
        capsize=3,
    )
    ax.bar(
        x + width / 2,
        ind["ST"].values,
        width,
        yerr=ind["ST_conf"].values,
        label="total order",
        capsize=3,
    )
    ax.set_xticks(x, [str(f) for f in ind["factor"].values], rotation=30, ha="right")
    ax.set_ylabel("Sobol index")
    ax.axhline(0, color="0.3", lw=0.8)
    ax.legend(fontsize="small")
    return ax
