"""Results of a pipeline run: scores, ranks, every step's data and reports.

Examples
--------
>>> import brics_ecom as be
>>> panel, spec = be.datasets.load_asem()
>>> res = be.Pipeline.coinr_example(spec).run(panel)
>>> res.table().index[0]
'CHE'
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

from ._apply import apply_kernel, ordered
from ._kernels.ranks import rank_descending
from .errors import InvalidParameterError

if TYPE_CHECKING:
    from .pipeline import Pipeline
    from .spec import IndexSpec

__all__ = ["Result", "rank_scores"]


def rank_scores(
    scores: xr.DataArray, *, dim: str = "unit", group: str | None = None
) -> xr.DataArray:
    """Ranks of ``scores`` along ``dim``: 1 = best (highest), ties ``min``, NaN kept.

    Parameters
    ----------
    scores : xarray.DataArray
        Any dims; ranks are taken along ``dim`` and broadcast over the rest (time, node,
        draw, ...).
    dim : str, default "unit"
        The dim ranked over.
    group : str, optional
        A coordinate on ``dim``: rank within each group instead (COINr's group ranks).

    Examples
    --------
    >>> import xarray as xr
    >>> s = xr.DataArray([3.0, 5.0, 5.0, 1.0], dims="unit", coords={"unit": list("abcd")})
    >>> rank_scores(s).values.tolist()
    [3.0, 1.0, 1.0, 4.0]
    """
    if dim not in scores.dims:
        raise InvalidParameterError(
            f"rank_scores: {dim!r} is not a dim of the scores {scores.dims}."
        )
    if group is None:
        out = apply_kernel(rank_descending, scores, core=(dim,), params={"axis": -1})
        out.name = "rank"
        return ordered(out, *scores.dims)
    if group not in scores.coords:
        raise InvalidParameterError(
            f"rank_scores: group {group!r} is not a coordinate of the scores; available: "
            f"{[c for c in scores.coords if c not in scores.dims]}."
        )
    labels = scores[group]
    if labels.dims != (dim,):
        raise InvalidParameterError(
            f"rank_scores: group {group!r} must be a coordinate on {dim!r}."
        )
    out = xr.full_like(scores, np.nan, dtype=float)
    for value in pd.unique(labels.values):
        if value is None or (isinstance(value, float) and np.isnan(value)):
            continue
        members = labels.values == value
        sub = scores.isel({dim: members})
        out.loc[{dim: sub[dim].values}] = rank_scores(sub, dim=dim)
    return out


class Result:
    """The outcome of :meth:`brics_ecom.Pipeline.run`.

    Attributes
    ----------
    scores : xarray.DataArray
        Dims ``(unit, time, node)`` (plus e.g. ``draw``): every normalised indicator and
        every aggregate.
    ranks : xarray.DataArray
        Ranks of ``scores`` over units: 1 = best, ties ``min`` (computed on first access).
    data : dict
        The panel after each step, keyed by step name (``"raw"`` is the input).
    reports : dict
        Per-step reports (screening table, treatment report, imputation counts, ...).
    pipeline : Pipeline
        The pipeline that made this result.
    spec : IndexSpec
        The specification used.
    """

    def __init__(
        self,
        *,
        pipeline: Pipeline,
        data: Mapping[str, xr.DataArray],
        reports: Mapping[str, Any],
        scores: xr.DataArray | None,
    ) -> None:
        self.pipeline = pipeline
        self.spec: IndexSpec = pipeline.spec
        self.data = dict(data)
        self.reports = dict(reports)
        self.scores = scores

    @cached_property
    def ranks(self) -> xr.DataArray | None:
        """Ranks of ``scores`` over units (1 = best, ties ``min``), computed on first use."""
        if self.scores is None:
            return None
        ranks = rank_scores(self.scores)
        ranks.attrs["history"] = list(self.scores.attrs.get("history", []))
        return ranks

    def __repr__(self) -> str:
        steps = ", ".join(self.data)
        dims = dict(self.scores.sizes) if self.scores is not None else {}
        return f"Result(steps=[{steps}], scores={dims})"

    @property
    def history(self) -> list[str]:
        """The calls that made the scores."""
        last = self.scores if self.scores is not None else list(self.data.values())[-1]
        return list(last.attrs.get("history", []))

    def to_dataset(self) -> xr.Dataset:
        """``xarray.Dataset`` with ``scores`` and ``ranks``.

        Examples
        --------
        >>> import brics_ecom as be
        >>> panel, spec = be.datasets.load_asem()
        >>> ds = be.Pipeline.coinr_example(spec).run(panel).to_dataset()
        >>> sorted(ds.data_vars)
        ['ranks', 'scores']
        """
        if self.scores is None or self.ranks is None:
            raise InvalidParameterError(
                "This result has no scores (the pipeline does not aggregate)."
            )
        ds = xr.Dataset({"scores": self.scores, "ranks": self.ranks})
        ds.attrs["history"] = self.history
        return ds

    def table(
        self,
        time: Hashable | None = None,
        *,
        what: str = "aggregates",
        sort: bool = True,
        group: str | None = None,
    ) -> pd.DataFrame:
        """Results table as in COINr's ``get_results``: one row per unit.

        Parameters
        ----------
        time : hashable, optional
            The year (default: the last one).
        what : {"aggregates", "full", "ranks"}
            ``aggregates``: the index rank, then every aggregate from the top level down;
            ``full``: the same followed by the indicators; ``ranks``: ranks instead of
            scores.
        sort : bool, default True
            Sort by the index (best first).
        group : str, optional
            Rank within this unit coordinate (e.g. ``"EurAsia_group"``); implies ranks.

        Examples
        --------
        >>> import brics_ecom as be
        >>> panel, spec = be.datasets.load_asem()
        >>> t = be.Pipeline.coinr_example(spec).run(panel).table()
        >>> list(t.columns[:4])
        ['uName', 'Rank', 'Index', 'Conn']
        """
        if self.scores is None or self.ranks is None:
            raise InvalidParameterError(
                "This result has no scores (the pipeline does not aggregate)."
            )
        if what not in ("aggregates", "full", "ranks"):
            raise InvalidParameterError(
                f"The 'what' parameter of Result.table must be 'aggregates', 'full' or 'ranks'; "
                f"got {what!r}."
            )
        scores, ranks = self.scores, self.ranks
        if "time" in scores.dims:
            t = scores["time"].values[-1] if time is None else time
            if t not in scores["time"].values.tolist():
                raise InvalidParameterError(f"Result.table: time {time!r} not in the results.")
            scores, ranks = scores.sel(time=t), ranks.sel(time=t)
        extra = [d for d in scores.dims if d not in ("unit", "node")]
        if extra:
            raise InvalidParameterError(
                f"Result.table needs one value per unit and node; select along {extra} first."
            )
        spec = self.spec
        order = [
            c for lvl in sorted(spec.levels, reverse=True) if lvl > 1 for c in spec.level_codes(lvl)
        ]
        if what == "full":
            order += list(spec.indicators)
        root = spec.root
        if group is not None:
            vals = rank_scores(scores, group=group).sel(node=order).transpose("unit", "node")
            df = pd.DataFrame(vals.to_pandas()).astype("Int64")
            df.insert(0, group, pd.Series(scores[group].to_pandas()))
            if sort:
                df = df.sort_values([group, root], kind="stable")
            return df
        source = ranks if what == "ranks" else scores
        df = pd.DataFrame(source.sel(node=order).transpose("unit", "node").to_pandas())
        df.columns.name = None
        df.insert(0, "Rank", pd.Series(ranks.sel(node=root).to_pandas()).astype("Int64"))
        if "unit_name" in scores.coords:
            df.insert(0, "uName", pd.Series(scores["unit_name"].to_pandas()))
        if sort:
            df = df.sort_values("Rank", kind="stable")
        df.index.name = "unit"
        return df
