"""The pipeline: an immutable, ordered list of steps that turns a panel into an index.

A :class:`Pipeline` holds an :class:`~brics_ecom.spec.IndexSpec` and steps such as
``("denominate", {})``, ``("impute", {"method": "group_mean", "group": "EurAsia_group"})``,
``("screen", {"dat_thresh": 0.9})``, ``("treat", {})``,
``("normalise", {"method": "minmax"})`` and ``("aggregate", {"method": "arithmetic"})``.
``run(panel)`` returns a :class:`~brics_ecom.results.Result`; ``set(normalise__method=
"zscore")`` returns a new pipeline; ``to_yaml()``/``from_yaml()`` round-trip, and replaying a
saved pipeline reproduces its result exactly.

Examples
--------
>>> import brics_ecom as be
>>> panel, spec = be.datasets.load_asem()
>>> pipe = be.Pipeline(spec, [("normalise", {"method": "minmax"}), ("aggregate", {})])
>>> res = pipe.run(panel)
>>> res.ranks.sel(node="Index", time=2018).to_series().idxmin()  # raw data: not denominated
'DEU'
>>> pipe.set(normalise__method="zscore").steps[0].params["method"]
'zscore'
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ._apply import donated
from ._history import describe_call, with_history
from ._validation import is_lazy, report_dropped
from .aggregate import aggregate, method_param_names, node_weights
from .denominate import denominate
from .errors import InvalidParameterError, SpecError
from .impute import CROSS_SECTION_METHODS, TIME_METHODS, impute
from .normalise import METHOD_PARAMS, normalise
from .panel import trusted_panels, validate
from .results import Result
from .screen import screen
from .spec import IndexSpec, dump_yaml, read_yaml
from .treat import treat

__all__ = ["STEPS", "Pipeline", "Step"]


def _run_denominate(
    panel: xr.DataArray, spec: IndexSpec, params: dict[str, Any]
) -> tuple[xr.DataArray, Any]:
    out = denominate(panel, spec, **params)
    return out, {"mapping": dict(out.attrs.get("denominated", {}))}


def _run_screen(
    panel: xr.DataArray, spec: IndexSpec, params: dict[str, Any]
) -> tuple[xr.DataArray, Any]:
    res = screen(panel, **params)
    assert res.data is not None  # a fresh screen always holds its data
    return res.data, res


def _spare_values(current: xr.DataArray, data: Mapping[str, xr.DataArray]) -> np.ndarray | None:
    """``current``'s values if the next step may overwrite them: an intermediate panel that
    is kept nowhere and shares no memory with the raw panel or a kept one."""
    if is_lazy(current):
        return None
    values = current.values
    for kept in data.values():
        if not is_lazy(kept) and np.may_share_memory(values, kept.values):
            return None
    return values


def _gaps(values: np.ndarray) -> tuple[list[int], np.ndarray]:
    """The NaN cells of ``values``: the axes in memory order (outermost first) and the
    cells' flat positions in that order. Scanning in memory order needs no transposing
    copy (for a panel stored as a transposed view)."""
    axes = sorted(range(values.ndim), key=lambda i: -values.strides[i])
    return axes, np.flatnonzero(np.isnan(values.transpose(axes)))


def _run_impute(
    panel: xr.DataArray, spec: IndexSpec, params: dict[str, Any]
) -> tuple[xr.DataArray, Any]:
    params = dict(params)
    method = params.pop("method", "mean")
    # the gaps before, found in memory order (the input may be filled in place when the
    # pipeline donates it)
    gaps = _gaps(panel.values) if not is_lazy(panel) else None
    missing_before = None if gaps is not None else panel.isnull()
    out = impute(panel, method, spec=spec, **params)
    if gaps is not None and not is_lazy(out) and out.dims == panel.dims:
        # imputation only fills cells: imputed = missing before - missing after, and only
        # the cells missing before are read from the output
        axes, flat = gaps
        shape = [panel.shape[a] for a in axes]
        k = axes.index(panel.get_axis_num("indicator"))
        n_ind = panel.sizes["indicator"]
        indicator_of_gap = flat // max(math.prod(shape[k + 1 :]), 1) % max(n_ind, 1)
        after = out.values.transpose(axes)
        still = np.isnan(
            after.reshape(-1)[flat]
            if after.flags.c_contiguous
            else after[np.unravel_index(flat, after.shape)]
        )
        n_before = np.bincount(indicator_of_gap, minlength=n_ind)
        n_after = np.bincount(indicator_of_gap[still], minlength=n_ind)
        index = pd.Index(panel.indexes["indicator"].values, name="indicator")
        report = {
            "n_imputed": pd.Series(n_before - n_after, index=index),
            "n_missing_after": pd.Series(n_after, index=index),
        }
    else:
        other = [d for d in panel.dims if d != "indicator"]
        if missing_before is None:
            missing_before = panel.isnull()
        report = {
            "n_imputed": (missing_before & out.notnull()).sum(other).to_series(),
            "n_missing_after": out.isnull().sum(other).to_series(),
        }
    return out, report


def _run_treat(
    panel: xr.DataArray, spec: IndexSpec, params: dict[str, Any]
) -> tuple[xr.DataArray, Any]:
    res = treat(panel, spec=spec, **params)
    return res.data, res


def _run_normalise(
    panel: xr.DataArray, spec: IndexSpec, params: dict[str, Any]
) -> tuple[xr.DataArray, Any]:
    params = dict(params)
    method = params.pop("method", "minmax")
    return normalise(panel, method, spec=spec, **params), None


def _run_aggregate(
    panel: xr.DataArray, spec: IndexSpec, params: dict[str, Any]
) -> tuple[xr.DataArray, Any]:
    params = dict(params)
    method = params.pop("method", "arithmetic")
    out = aggregate(panel, spec, method, include_indicators=True, **params)
    return out, None


#: The step kinds a pipeline can hold, with their runners.
STEPS: Mapping[
    str, Callable[[xr.DataArray, IndexSpec, dict[str, Any]], tuple[xr.DataArray, Any]]
] = MappingProxyType(
    {
        "denominate": _run_denominate,
        "screen": _run_screen,
        "impute": _run_impute,
        "treat": _run_treat,
        "normalise": _run_normalise,
        "aggregate": _run_aggregate,
    }
)


@dataclass(frozen=True)
class Step:
    """One pipeline step: its kind (``name``) and parameters.

    Examples
    --------
    >>> Step("normalise", {"method": "rank"}).params["method"]
    'rank'
    """

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.name not in STEPS:
            raise InvalidParameterError(
                f"Unknown pipeline step {self.name!r}; steps are {sorted(STEPS)}."
            )
        if not isinstance(self.params, Mapping):
            raise InvalidParameterError(
                f"The parameters of step {self.name!r} must be a mapping; got {self.params!r}."
            )
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def __reduce__(self) -> tuple[Any, ...]:
        return (Step, (self.name, dict(self.params)))

    def to_dict(self) -> dict[str, Any]:
        """``{"step": name, **params}`` (plain Python)."""
        return {
            "step": self.name,
            **{k: _plain(v, f"{self.name}__{k}") for k, v in self.params.items()},
        }


def _plain(value: Any, path: str) -> Any:
    """YAML-friendly copy of a parameter value."""
    if isinstance(value, xr.DataArray | np.ndarray):
        raise InvalidParameterError(
            f"Parameter {path!r} holds an array, which cannot be saved to YAML; use a "
            "{code: value} mapping or list instead."
        )
    if isinstance(value, Mapping):
        return {str(k): _plain(v, path) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v, path) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


class Pipeline:
    """An immutable, ordered sequence of steps bound to an :class:`IndexSpec`.

    Parameters
    ----------
    spec : IndexSpec
        The index tree.
    steps : sequence
        Each a :class:`Step`, a ``(name, params)`` pair or a bare step name. Each step kind
        appears at most once; steps run in the given order.
    weights : mapping, optional
        Named weight sets ``{name: {code: weight}}`` stored with the pipeline (and in its
        YAML); the aggregate step uses one with ``("aggregate", {"weights": name})`` or
        ``set(aggregate__weights=name)``. Codes not in a set keep the spec's weight.

    Examples
    --------
    >>> import brics_ecom as be
    >>> panel, spec = be.datasets.load_asem()
    >>> p = be.Pipeline(spec, ["normalise", "aggregate"])
    >>> [s.name for s in p.steps]
    ['normalise', 'aggregate']
    """

    def __init__(
        self,
        spec: IndexSpec,
        steps: Sequence[Step | tuple[str, Mapping[str, Any]] | str] = (),
        *,
        weights: Mapping[str, Mapping[str, float]] | None = None,
    ) -> None:
        if not isinstance(spec, IndexSpec):
            raise InvalidParameterError(
                f"The 'spec' parameter of Pipeline must be an IndexSpec; got {type(spec).__name__}."
            )
        parsed: list[Step] = []
        for item in steps:
            if isinstance(item, Step):
                parsed.append(item)
            elif isinstance(item, str):
                parsed.append(Step(item))
            elif isinstance(item, tuple | list) and len(item) == 2:
                parsed.append(Step(item[0], item[1] or {}))
            else:
                raise InvalidParameterError(
                    "A pipeline step must be a Step, a (name, params) pair or a name; "
                    f"got {item!r}."
                )
        names = [s.name for s in parsed]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise InvalidParameterError(f"Pipeline steps {dup} appear more than once.")
        self._spec = spec
        self._steps = tuple(parsed)
        self._weight_sets = _check_weight_sets(spec, weights or {})
        for step in self._steps:
            chosen = step.params.get("weights")
            if step.name == "aggregate" and isinstance(chosen, str):
                self._named_weights(chosen)  # fail now, not at run time

    # ------------------------------------------------------------------ constructors
    @classmethod
    def coinr_example(cls, spec: IndexSpec) -> Pipeline:
        """COINr's ``build_example_coin()`` pipeline.

        Denominate → impute (group mean by ``EurAsia_group``) → screen (data availability
        ≥ 0.9) → treat (COINr defaults) → normalise (min-max 0–100) → aggregate
        (arithmetic mean).

        Examples
        --------
        >>> import brics_ecom as be
        >>> panel, spec = be.datasets.load_asem()
        >>> [s.name for s in be.Pipeline.coinr_example(spec).steps][:2]
        ['denominate', 'impute']
        """
        return cls(
            spec,
            [
                ("denominate", {}),
                ("impute", {"method": "group_mean", "group": "EurAsia_group"}),
                ("screen", {"dat_thresh": 0.9, "by": "missing"}),
                ("treat", {}),
                ("normalise", {"method": "minmax", "lower": 0.0, "upper": 100.0}),
                ("aggregate", {"method": "arithmetic"}),
            ],
        )

    # ------------------------------------------------------------------ accessors
    @property
    def spec(self) -> IndexSpec:
        """The index specification."""
        return self._spec

    @property
    def steps(self) -> tuple[Step, ...]:
        """The steps, in order."""
        return self._steps

    def __repr__(self) -> str:
        inner = ", ".join(describe_call(s.name, s.params) for s in self._steps)
        return f"Pipeline({self._spec!r}, [{inner}])"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Pipeline)
            and self._spec == other._spec
            and [(s.name, dict(s.params)) for s in self._steps]
            == [(s.name, dict(s.params)) for s in other._steps]
            and self.weight_sets == other.weight_sets
        )

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (_pipeline_from_parts, (self._spec, self._steps, self.weight_sets))

    def step(self, name: str) -> Step:
        """The step called ``name``."""
        for s in self._steps:
            if s.name == name:
                return s
        raise InvalidParameterError(
            f"This pipeline has no {name!r} step; its steps are {[s.name for s in self._steps]}."
        )

    @property
    def weight_sets(self) -> dict[str, dict[str, float]]:
        """The named weight sets stored with the pipeline (copies)."""
        return {name: dict(ws) for name, ws in self._weight_sets.items()}

    def with_weights(self, name: str, weights: Mapping[str, float]) -> Pipeline:
        """A new pipeline storing the weight set ``name`` (replacing one of that name).

        Examples
        --------
        >>> import brics_ecom as be
        >>> panel, spec = be.datasets.load_asem()
        >>> pipe = be.Pipeline.coinr_example(spec).with_weights("conn_heavy", {"Conn": 2.0})
        >>> res = pipe.set(aggregate__weights="conn_heavy").run(panel)
        >>> sorted(pipe.weight_sets)
        ['conn_heavy']
        """
        sets = self.weight_sets
        sets[name] = dict(weights)
        return Pipeline(self._spec, self._steps, weights=sets)

    def param_paths(self) -> list[str]:
        """Every settable parameter path (``"step__param"``), including methods' defaults.

        Examples
        --------
        >>> import brics_ecom as be
        >>> _, spec = be.datasets.load_asem()
        >>> "normalise__method" in be.Pipeline(spec, ["normalise"]).param_paths()
        True
        """
        paths = []
        for s in self._steps:
            keys = set(s.params) | (_step_keys(s.name, s.params) or set(_STEP_PARAMS[s.name]))
            paths += [f"{s.name}__{k}" for k in sorted(keys)]
        return paths

    def get(self, path: str) -> Any:
        """The value at ``"step__param"`` (``None`` if unset)."""
        name, key = _split_path(path)
        return self.step(name).params.get(key)

    # ------------------------------------------------------------------ modifying
    def set(self, **changes: Any) -> Pipeline:
        """A new pipeline with parameters changed, addressed as ``step__param``.

        ``spec=`` replaces the specification. Changing a normalisation method drops the
        old method's parameters that the new one does not take.

        Raises
        ------
        InvalidParameterError
            Unknown step, unknown parameter of a step (for built-in methods) or malformed
            path; the message lists the valid paths.

        Examples
        --------
        >>> import brics_ecom as be
        >>> _, spec = be.datasets.load_asem()
        >>> p = be.Pipeline(spec, [("normalise", {"method": "minmax", "lower": 1})])
        >>> dict(p.set(normalise__method="zscore", normalise__sd=2).step("normalise").params)
        {'method': 'zscore', 'sd': 2}
        """
        spec = changes.pop("spec", self._spec)
        new = {s.name: dict(s.params) for s in self._steps}
        # methods first, so that their parameters can be set in the same call
        ordered = sorted(changes.items(), key=lambda kv: not kv[0].endswith("__method"))
        for path, value in ordered:
            name, key = _split_path(path)
            if name not in new:
                raise InvalidParameterError(
                    f"Unknown parameter path {path!r}: this pipeline has no {name!r} step. Valid "
                    f"paths: {self.param_paths()}."
                )
            if name == "normalise" and key == "method" and value != new[name].get("method"):
                # drop the old method's parameters that the new one does not take
                allowed = METHOD_PARAMS.get(value)
                old_only = set(METHOD_PARAMS.get(new[name].get("method", "minmax"), {}))
                general = ("reference", "base_time", "dim", "overrides", "directions")
                new[name] = {
                    k: v
                    for k, v in new[name].items()
                    if k in general or (k in allowed if allowed is not None else k not in old_only)
                }
            new[name][key] = value
        for path in changes:
            name, key = _split_path(path)
            valid = _step_keys(name, new[name])
            if valid is not None and key not in valid:
                paths = [f"{name}__{k}" for k in sorted(valid)]
                raise InvalidParameterError(
                    f"Unknown parameter path {path!r}: step {name!r} has no parameter {key!r}. "
                    f"Valid paths for this step: {paths}."
                )
        return Pipeline(
            spec, [(s.name, new[s.name]) for s in self._steps], weights=self.weight_sets
        )

    def without(self, name: str) -> Pipeline:
        """A new pipeline without step ``name``."""
        self.step(name)
        return Pipeline(
            self._spec, [s for s in self._steps if s.name != name], weights=self.weight_sets
        )

    def with_step(
        self, name: str, params: Mapping[str, Any] | None = None, *, before: str | None = None
    ) -> Pipeline:
        """A new pipeline with a step added (at the end, or before step ``before``)."""
        steps = list(self._steps)
        new = Step(name, params or {})
        if before is None:
            steps.append(new)
        else:
            self.step(before)
            idx = [s.name for s in steps].index(before)
            steps.insert(idx, new)
        return Pipeline(self._spec, steps, weights=self.weight_sets)

    # ------------------------------------------------------------------ running
    def run(
        self,
        panel: xr.DataArray | Result,
        *,
        from_step: str | None = None,
        keep: str | Iterable[str] = "all",
    ) -> Result:
        """Run the steps on ``panel`` and return a :class:`Result`.

        Parameters
        ----------
        panel : xarray.DataArray or Result
            The raw panel, or an earlier result of this (or a similar) pipeline whose data
            up to ``from_step`` is reused.
        from_step : str, optional
            Start at this step. With a panel, the panel is taken as the output of the step
            before it; with a Result, that output is taken from the result.
        keep : "all", "none" or iterable of str, default "all"
            Which intermediate panels ``Result.data`` holds: every step's output (and
            ``"raw"``), none (only the scores), or the named ones. Keeping fewer bounds the
            memory of large runs; re-running ``from_step`` needs the step before it.

        Examples
        --------
        >>> import brics_ecom as be
        >>> panel, spec = be.datasets.load_asem()
        >>> pipe = be.Pipeline.coinr_example(spec)
        >>> res = pipe.run(panel)
        >>> res2 = pipe.set(normalise__method="rank").run(res, from_step="normalise")
        >>> bool(res2.data["treat"].identical(res.data["treat"]))
        True
        """
        names = [s.name for s in self._steps]
        kept = _kept_steps(keep, names)
        start = 0
        data: dict[str, xr.DataArray] = {}
        reports: dict[str, Any] = {}
        if from_step is not None:
            if from_step not in names:
                raise InvalidParameterError(
                    f"The 'from_step' parameter of run must be one of {names}; got {from_step!r}."
                )
            start = names.index(from_step)
        if isinstance(panel, Result):
            prev = panel
            earlier = ["raw", *names[:start]]
            needed = earlier[-1]
            if needed not in prev.data:
                raise InvalidParameterError(
                    f"The result passed to run has no data for step {needed!r}, which "
                    f"from_step={from_step!r} starts from; run it with keep including {needed!r}."
                )
            data = {k: prev.data[k] for k in earlier if k in prev.data}
            reports = {k: prev.reports[k] for k in earlier if k in prev.reports}
            current = data[needed]
        else:
            current = self._prepare(panel) if start == 0 else validate(panel)
            if start == 0:
                data["raw"] = current
            else:
                data["raw"] = current
                data[names[start - 1]] = current
        scores = None
        for s in self._steps[start:]:
            params = dict(s.params)
            if s.name == "aggregate" and isinstance(params.get("weights"), str):
                params["weights"] = self._named_weights(params["weights"])
            # `data` holds the panel given to the run (and anything reused or kept), so
            # only a panel this run made and keeps nowhere is spare
            spare = _spare_values(current, data)
            with trusted_panels(), donated(spare):
                out, report = STEPS[s.name](current, self._spec, params)
            if s.name in kept or s.name == "aggregate":
                data[s.name] = out
            elif hasattr(report, "without_data"):
                report = report.without_data()  # the report table stays, the panel goes
            if report is not None:
                reports[s.name] = report
            if s.name == "aggregate":
                scores = out
            else:
                current = out
        if scores is None and "aggregate" in data and "aggregate" not in names[start:]:
            scores = data["aggregate"]
        data = {k: v for k, v in data.items() if k in kept or k == "aggregate"}
        return Result(pipeline=self, data=data, reports=reports, scores=scores)

    def _named_weights(self, name: str) -> dict[str, float]:
        if name not in self._weight_sets:
            raise InvalidParameterError(
                f"The aggregate step asks for the weight set {name!r}, which this pipeline does "
                f"not hold; its sets are {sorted(self._weight_sets)} (add one with "
                "with_weights)."
            )
        return dict(self._weight_sets[name])

    def _prepare(self, panel: xr.DataArray) -> xr.DataArray:
        panel = validate(panel)
        present = [str(c) for c in panel["indicator"].values]
        missing = [c for c in self._spec.indicators if c not in present]
        if missing:
            raise SpecError(
                f"Indicators {missing} are in the specification but not in the data. Add them "
                "to the panel or drop them from the spec (IndexSpec.subset)."
            )
        extra = [c for c in present if c not in self._spec.indicators]
        if extra:
            report_dropped(f"Pipeline: indicators {extra} are not in the specification; dropped.")
            attrs = dict(panel.attrs)
            panel = panel.sel(indicator=list(self._spec.indicators))
            panel.attrs = attrs
        return with_history(panel.copy(deep=False), panel, "Pipeline.run(raw panel)")

    # ------------------------------------------------------------------ I/O
    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form: the spec and the steps."""
        out: dict[str, Any] = {
            "spec": self._spec.to_dict(),
            "steps": [s.to_dict() for s in self._steps],
        }
        if self._weight_sets:
            out["weights"] = self.weight_sets
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Pipeline:
        """Inverse of :meth:`to_dict`."""
        if not isinstance(data, Mapping) or "spec" not in data or "steps" not in data:
            raise InvalidParameterError("A saved pipeline needs 'spec' and 'steps' entries.")
        steps = []
        for item in data["steps"]:
            item = dict(item)
            name = item.pop("step")
            steps.append((name, _restore(name, item)))
        return cls(IndexSpec.from_dict(data["spec"]), steps, weights=data.get("weights"))

    def to_yaml(self, path: str | Path | None = None) -> str:
        """Dump to YAML (and write to ``path`` if given).

        Examples
        --------
        >>> import brics_ecom as be
        >>> _, spec = be.datasets.load_asem()
        >>> p = be.Pipeline.coinr_example(spec)
        >>> be.Pipeline.from_yaml(p.to_yaml()) == p
        True
        """
        return dump_yaml(self.to_dict(), path)

    @classmethod
    def from_yaml(cls, source: str | Path) -> Pipeline:
        """Load a pipeline saved with :meth:`to_yaml` (a path or a YAML string)."""
        return cls.from_dict(read_yaml(source, what="pipeline"))


_STEP_PARAMS: dict[str, tuple[str, ...]] = {
    "denominate": ("denominators", "mapping", "scale"),
    "screen": ("dat_thresh", "nonzero_thresh", "by", "force_include", "force_exclude"),
    "impute": ("method", "group", "level", "dim", "max_time", "max_iter", "tol"),
    "treat": (
        "winmax",
        "skew_thresh",
        "kurt_thresh",
        "transform",
        "combine",
        "indicators",
        "overrides",
        "dim",
    ),
    "normalise": ("method", "reference", "base_time", "overrides", "directions", "dim"),
    "aggregate": ("method", "weights", "p", "dat_thresh", "by_level"),
}


def _step_keys(name: str, params: Mapping[str, Any]) -> set[str] | None:
    """Parameters step ``name`` takes with the method in ``params`` (``None``: not known).

    ``None`` is returned for user-registered methods, whose parameters are passed through.
    """
    keys = set(_STEP_PARAMS[name])
    if name == "normalise":
        extra = METHOD_PARAMS.get(params.get("method", "minmax"))
        if extra is None:
            return None
        keys |= set(extra)
    elif name == "impute":
        if params.get("method", "mean") not in (*CROSS_SECTION_METHODS, *TIME_METHODS):
            return None
    elif name == "aggregate":
        methods = {params.get("method", "arithmetic")}
        by_level = params.get("by_level")
        if isinstance(by_level, Mapping):
            methods |= set(by_level.values())
        try:
            agg_extra = method_param_names(methods)
        except InvalidParameterError:  # an unknown method: reported when the step runs
            return None
        if agg_extra is None:
            return None
        keys |= agg_extra
    return keys


def _restore(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """Undo YAML's losses: tuples in overrides, integer keys of by_level."""
    out = dict(params)
    if name == "normalise" and isinstance(out.get("overrides"), Mapping):
        out["overrides"] = {
            k: (v[0], dict(v[1] or {})) if isinstance(v, list) else v
            for k, v in out["overrides"].items()
        }
    if name == "aggregate" and isinstance(out.get("by_level"), Mapping):
        out["by_level"] = {int(k): v for k, v in out["by_level"].items()}
    return out


def _pipeline_from_parts(
    spec: IndexSpec, steps: tuple[Step, ...], weights: dict[str, dict[str, float]]
) -> Pipeline:
    return Pipeline(spec, steps, weights=weights)


def _check_weight_sets(
    spec: IndexSpec, sets: Mapping[str, Mapping[str, float]]
) -> Mapping[str, Mapping[str, float]]:
    """Validate named weight sets against the tree (unknown codes, bad values)."""
    if not isinstance(sets, Mapping):
        raise InvalidParameterError(
            f"The 'weights' parameter of Pipeline must map names to {{code: weight}} mappings; "
            f"got {type(sets).__name__}."
        )
    out = {}
    for name, ws in sets.items():
        if not isinstance(name, str) or not isinstance(ws, Mapping):
            raise InvalidParameterError(
                f"Weight set {name!r} must be a name mapped to a {{code: weight}} mapping."
            )
        node_weights(spec, ws)  # raises naming unknown codes, NaN or negative weights
        out[name] = MappingProxyType({str(k): float(v) for k, v in ws.items()})
    return MappingProxyType(out)


def _kept_steps(keep: str | Iterable[str], names: list[str]) -> set[str]:
    if keep == "all":
        return {"raw", *names}
    if keep == "none":
        return set()
    if isinstance(keep, str):
        raise InvalidParameterError(
            f"The 'keep' parameter of run must be 'all', 'none' or a list of step names; got "
            f"{keep!r}."
        )
    wanted = set(keep)
    unknown = sorted(wanted - {"raw", *names})
    if unknown:
        raise InvalidParameterError(
            f"The 'keep' parameter of run names unknown steps {unknown}; steps are "
            f"{['raw', *names]}."
        )
    return wanted


def _split_path(path: str) -> tuple[str, str]:
    if not isinstance(path, str) or "__" not in path:
        raise InvalidParameterError(
            f"Parameter paths look like 'step__param' (e.g. 'normalise__method'); got {path!r}."
        )
    name, key = path.split("__", 1)
    return name, key


def _iter_names(steps: Iterable[Step]) -> list[str]:
    return [s.name for s in steps]
