"""Charts of index results, panels and inequality: the figures of ``brics-ecom report``.

Every function draws on a matplotlib :class:`~matplotlib.axes.Axes` (a new figure unless
``ax=`` is given) and returns it, so charts can be combined and restyled:

* :func:`ranking_bars` — scores of one node, best first, with the uncertainty intervals of
  an :class:`~brics_ecom.uncertainty.UncertaintyResult`;
* :func:`profile` — a unit's scores on the pillars (a radar, or bars for fewer than three);
* :func:`heatmap` — units × nodes (or any two-dimensional array);
* :func:`lorenz_curve` — Lorenz curves (:func:`brics_ecom.inequality.lorenz`) with Gini
  coefficients;
* :func:`quadrant` — the state × momentum chart of the Digital Evolution Index ("stand
  out", "break out", "stall out", "watch out");
* :func:`time_series` — an indicator or a node over time for a few units.

matplotlib is imported when a function is called, not with this module; without it the
functions raise an :class:`ImportError` that names the ``plot`` extra
(``pip install "brics_ecom[plot]"``).

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from brics_ecom import frameworks, plot
>>> res = frameworks.build("unctad_b2c", countries=["BRA", "IND", "CHN", "ZAF"], years=2021)
>>> ax = plot.ranking_bars(res)
>>> [t.get_text() for t in ax.get_yticklabels()]
['ZAF', 'BRA', 'CHN', 'IND']
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd
import xarray as xr

from .errors import InvalidParameterError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from .results import Result
    from .uncertainty import UncertaintyResult

__all__ = [
    "QUADRANT_LABELS",
    "heatmap",
    "lorenz_curve",
    "profile",
    "quadrant",
    "ranking_bars",
    "time_series",
]

#: Labels of the state × momentum zones, keyed by (high level, high momentum); those of
#: :func:`brics_ecom.dynamics.state_momentum`.
QUADRANT_LABELS: Mapping[tuple[bool, bool], str] = {
    (True, True): "stand out",
    (False, True): "break out",
    (True, False): "stall out",
    (False, False): "watch out",
}
_STATE_COLOURS = {
    "stand out": "#1b7837",
    "break out": "#2166ac",
    "stall out": "#b35806",
    "watch out": "#b2182b",
}
_XR = TypeVar("_XR", xr.DataArray, xr.Dataset)
_BASE = "#8c9bab"  # bars and lines of units not highlighted
_HIGHLIGHT = "#c0392b"


# ---------------------------------------------------------------------------- helpers
def _pyplot() -> Any:
    """``matplotlib.pyplot``, or an ImportError naming the extra that installs it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "brics_ecom.plot needs matplotlib, which is not installed; install the 'plot' "
            'extra: pip install "brics_ecom[plot]" (or "brics_ecom[report]").'
        ) from exc
    return plt


def _new_axes(ax: Axes | None, size: tuple[float, float], **kwargs: Any) -> Axes:
    if ax is not None:
        return ax
    plt = _pyplot()
    fig = plt.figure(figsize=size)
    return fig.add_subplot(**kwargs)


def _check_result(result: Any, func: str) -> xr.DataArray:
    from .results import Result

    if not isinstance(result, Result):
        raise InvalidParameterError(
            f"The 'result' parameter of {func} must be a brics_ecom Result (from "
            f"Pipeline.run or frameworks.build); got {type(result).__name__}."
        )
    if result.scores is None:
        raise InvalidParameterError(
            f"{func}: the result has no scores (its pipeline does not aggregate)."
        )
    return result.scores


def _pick_time(da: _XR, time: Hashable | None, func: str) -> _XR:
    """``da`` at ``time`` (default: the last one) if it has a time dim."""
    if "time" not in da.dims:
        return da
    times = da["time"].values.tolist()
    t = times[-1] if time is None else time
    if t not in times:
        raise InvalidParameterError(
            f"{func}: time {time!r} is not in the data; its times are {times}."
        )
    return da.sel(time=t)


def _pick_node(scores: xr.DataArray, node: str | None, default: str, func: str) -> xr.DataArray:
    nodes = [str(n) for n in scores["node"].values]
    code = default if node is None else node
    if code not in nodes:
        import difflib

        close = difflib.get_close_matches(str(code), nodes, n=3)
        raise InvalidParameterError(
            f"{func}: node {code!r} is not in the scores"
            f"{f' (close matches: {close})' if close else ''}; nodes: {nodes}."
        )
    return scores.sel(node=code)


def _units_list(units: Any, param: str, func: str) -> list[str] | None:
    if units is None:
        return None
    if isinstance(units, str):
        return [units]
    if not isinstance(units, Iterable):
        raise InvalidParameterError(
            f"The {param!r} parameter of {func} must be a unit code or a list of them; got "
            f"{units!r}."
        )
    return [str(u) for u in units]


def _check_units(present: Sequence[str], wanted: Sequence[str], func: str) -> None:
    missing = [u for u in wanted if u not in present]
    if missing:
        raise InvalidParameterError(
            f"{func}: units {missing} are not in the data; it holds {list(present)[:20]}"
            f"{' ...' if len(present) > 20 else ''}."
        )


def _as_unit_series(values: Any, func: str, name: str) -> xr.DataArray:
    """A 1-D (or more) DataArray with a ``unit`` dim from a DataArray, Series or mapping."""
    if isinstance(values, xr.DataArray):
        return values
    if isinstance(values, pd.Series):
        return xr.DataArray(
            values.to_numpy(dtype=float),
            dims="unit",
            coords={"unit": [str(u) for u in values.index]},
        )
    if isinstance(values, Mapping):
        return xr.DataArray(
            np.asarray(list(values.values()), dtype=float),
            dims="unit",
            coords={"unit": [str(u) for u in values]},
        )
    raise InvalidParameterError(
        f"The {name!r} parameter of {func} must be an xarray.DataArray over 'unit', a pandas "
        f"Series indexed by unit or a mapping {{unit: value}}; got {type(values).__name__}."
    )


# ---------------------------------------------------------------------------- ranking
def ranking_bars(
    result: Result,
    node: str | None = None,
    time: Hashable | None = None,
    intervals: UncertaintyResult | None = None,
    ax: Axes | None = None,
    *,
    highlight: Iterable[str] | None = None,
    max_units: int | None = None,
    title: str | None = None,
) -> Axes:
    """Horizontal bars of the scores of one node, best at the top.

    Each bar ends with the unit's rank. With ``intervals`` (an uncertainty analysis of the
    same node), a whisker spans the score quantiles of the draws and the label gives the
    rank interval, e.g. ``3 (2–5)``.

    Parameters
    ----------
    result : Result
        A pipeline or framework result.
    node : str, optional
        The node shown (default: the index, the root of the tree).
    time : hashable, optional
        The year (default: the last one).
    intervals : UncertaintyResult, optional
        From :func:`brics_ecom.uncertainty.uncertainty` with ``target`` = ``node``.
    ax : matplotlib.axes.Axes, optional
        Draw here (default: a new figure).
    highlight : iterable of str, optional
        Units drawn in a strong colour (e.g. the BRICS members).
    max_units : int, optional
        Show only the best ``max_units`` units.
    title : str, optional
        Axes title (default: the node and year).

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    InvalidParameterError
        Unknown node or time; ``intervals`` for another node.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from brics_ecom import frameworks, plot
    >>> from brics_ecom.uncertainty import Factor, uncertainty
    >>> res = frameworks.build("digital_divide", countries="BRICS", years=2021)
    >>> ua = uncertainty(res.pipeline, res, [Factor.weights(n_sets=20)], n=30, rng=0,
    ...                  time=2021, progress=False)
    >>> ax = plot.ranking_bars(res, intervals=ua, highlight=["IND"])
    >>> ax.get_xlabel()
    'DDI score'
    """
    func = "ranking_bars"
    scores = _check_result(result, func)
    root = result.spec.root
    code = root if node is None else node
    values = _pick_time(_pick_node(scores, node, root, func), time, func)
    if values.dims != ("unit",):
        raise InvalidParameterError(
            f"{func}: select one value per unit first; the scores have dims {values.dims}."
        )
    series = values.to_series().dropna().sort_values(ascending=False, kind="stable")
    all_ranks = result.ranks
    assert all_ranks is not None  # there are scores
    ranks = _pick_time(_pick_node(all_ranks, node, root, func), time, func).to_series()
    if max_units is not None:
        series = series.iloc[: int(max_units)]
    units = [str(u) for u in series.index]
    lo = hi = None
    rank_lo: dict[Any, Any] = {}
    rank_hi: dict[Any, Any] = {}
    if intervals is not None:
        if intervals.target != code:
            raise InvalidParameterError(
                f"{func}: the intervals are for node {intervals.target!r}, not {code!r}; pass "
                f"node={intervals.target!r} or an analysis with target={code!r}."
            )
        summary = intervals.summary
        if "time" in summary.dims:
            summary = _pick_time(summary, time, func)
        sq = pd.DataFrame(summary["score_q"].transpose("unit", "quantile").to_pandas())
        rq = pd.DataFrame(summary["rank_q"].transpose("unit", "quantile").to_pandas())
        sq.index = sq.index.map(str)
        rq.index = rq.index.map(str)
        sq, rq = sq.reindex(units), rq.reindex(units)
        lo = np.clip(series.to_numpy() - sq.min(axis=1).to_numpy(), 0, None)
        hi = np.clip(sq.max(axis=1).to_numpy() - series.to_numpy(), 0, None)
        rank_lo = rq.min(axis=1).to_dict()
        rank_hi = rq.max(axis=1).to_dict()
    marked = set(_units_list(highlight, "highlight", func) or [])
    ax = _new_axes(ax, (7.0, max(2.0, 0.32 * len(units) + 1.2)))
    y = np.arange(len(units))
    colours = [_HIGHLIGHT if u in marked else _BASE for u in units]
    xerr = None if lo is None or hi is None else np.vstack([lo, hi])
    ax.barh(y, series.to_numpy(), color=colours, xerr=xerr, ecolor="0.25", capsize=2)
    ax.set_yticks(y, units)
    ax.invert_yaxis()
    top = float(np.nanmax(series.to_numpy() + (hi if hi is not None else 0))) if units else 1
    for i, u in enumerate(units):
        r = ranks.get(u, np.nan)
        text = "" if pd.isna(r) else f"{int(r)}"
        if u in rank_lo and not pd.isna(rank_lo[u]):
            text += f" ({int(rank_lo[u])}–{int(rank_hi[u])})"
        ax.text(top * 1.02, i, text, va="center", fontsize="small")
    ax.set_xlim(0, top * 1.18 if top > 0 else 1)
    ax.set_xlabel(f"{code} score")
    when = ""
    if "time" in scores.dims:
        when = f", {scores['time'].values[-1] if time is None else time}"
    label = "rank (5–95% interval)" if intervals is not None else "rank"
    ax.set_title(title if title is not None else f"{code}{when} — {label} at right")
    ax.spines[["top", "right"]].set_visible(False)
    return ax


# ---------------------------------------------------------------------------- profile
def profile(
    result: Result,
    unit: str,
    level: int = 2,
    *,
    time: Hashable | None = None,
    compare: str | Iterable[str] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """A unit's scores on the nodes of one level: a radar chart (bars below three nodes).

    Parameters
    ----------
    result : Result
        A pipeline or framework result.
    unit : str
        The unit shown.
    level : int, default 2
        Level of the tree (1: indicators, 2: pillars, ...).
    time : hashable, optional
        The year (default: the last one).
    compare : str or iterable of str, optional
        Other units drawn alongside, or ``"median"`` for the median of every unit.
    ax : matplotlib.axes.Axes, optional
        For a radar, a polar axes (``fig.add_subplot(projection="polar")``).

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    InvalidParameterError
        Unknown unit or level; a non-polar ``ax`` for a radar.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from brics_ecom import frameworks, plot
    >>> res = frameworks.build("digital_divide", countries="BRICS", years=2021)
    >>> ax = plot.profile(res, "BRA", compare="median")
    >>> ax.name, [t.get_text() for t in ax.get_xticklabels()][:3]
    ('polar', ['Gender', 'Income', 'Education'])
    """
    func = "profile"
    scores = _check_result(result, func)
    spec = result.spec
    if level not in spec.levels:
        raise InvalidParameterError(
            f"{func}: level {level!r} is not in the tree; its levels are {list(spec.levels)}."
        )
    present = [str(n) for n in scores["node"].values]
    nodes = [c for c in spec.level_codes(level) if c in present]
    units = [str(u) for u in scores["unit"].values]
    _check_units(units, [unit], func)
    at = _pick_time(scores.sel(node=nodes), time, func)
    lines: dict[str, np.ndarray] = {unit: at.sel(unit=unit).values.astype(float)}
    if isinstance(compare, str) and compare == "median":
        lines["median"] = at.median("unit", skipna=True).values.astype(float)
    elif compare is not None:
        others = _units_list(compare, "compare", func) or []
        _check_units(units, others, func)
        for other in others:
            lines[other] = at.sel(unit=other).values.astype(float)
    top = max(100.0, float(np.nanmax([np.nanmax(v) if np.isfinite(v).any() else 0 for v in
                                      lines.values()])))  # fmt: skip
    if len(nodes) < 3:
        ax = _new_axes(ax, (5.0, 3.0))
        width = 0.8 / len(lines)
        x = np.arange(len(nodes))
        for i, (name, vals) in enumerate(lines.items()):
            ax.bar(x + (i - (len(lines) - 1) / 2) * width, vals, width, label=name)
        ax.set_xticks(x, nodes)
        ax.set_ylim(0, top)
        ax.set_ylabel("score")
    else:
        ax = _new_axes(ax, (5.0, 5.0), projection="polar")
        if ax.name != "polar":
            raise InvalidParameterError(
                f"{func}: {len(nodes)} nodes make a radar chart, which needs a polar axes; "
                "pass ax=fig.add_subplot(projection='polar') or leave ax out."
            )
        angles = np.linspace(0, 2 * np.pi, len(nodes), endpoint=False)
        closed = np.append(angles, angles[0])
        for name, vals in lines.items():
            ring = np.append(vals, vals[0])
            ax.plot(closed, ring, marker="o", label=name, lw=1.5)
            ax.fill(closed, np.nan_to_num(ring), alpha=0.12)
        ax.set_xticks(angles, nodes)
        ax.set_ylim(0, top)
    when = f" ({at['time'].item()})" if "time" in at.coords and at["time"].ndim == 0 else ""
    ax.set_title(f"{unit}: level {level} scores{when}")
    ax.legend(loc="upper right", fontsize="small", bbox_to_anchor=(1.25, 1.1))
    return ax


# ---------------------------------------------------------------------------- heatmap
def heatmap(
    data: Result | xr.DataArray,
    *,
    time: Hashable | None = None,
    level: int | None = None,
    nodes: Sequence[str] | None = None,
    units: Sequence[str] | None = None,
    annotate: bool = True,
    fmt: str = "{:.0f}",
    cmap: str = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
    ax: Axes | None = None,
) -> Axes:
    """A colour grid: units × nodes of a result, or any two-dimensional DataArray.

    Parameters
    ----------
    data : Result or xarray.DataArray
        A result (its scores at ``time``; rows sorted by the index, best first), or an
        array with two dims after selecting ``time`` (rows: the first dim).
    time : hashable, optional
        The year (default: the last one).
    level : int, optional
        For a result: the level shown (default: the one below the index).
    nodes : sequence of str, optional
        For a result: these nodes instead of a level.
    units : sequence of str, optional
        Only these units (rows), in this order.
    annotate : bool, default True
        Write the values in the cells (skipped above 600 cells).
    fmt : str, default "{:.0f}"
        Format of the annotations.
    cmap, vmin, vmax
        Colour map and its limits.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from brics_ecom import frameworks, plot
    >>> res = frameworks.build("unctad_b2c", countries=["BRA", "IND", "CHN"], years=2021)
    >>> ax = plot.heatmap(res)
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['internet', 'account', 'servers']
    """
    from .results import Result

    func = "heatmap"
    if isinstance(data, Result):
        scores = _pick_time(_check_result(data, func), time, func)
        spec = data.spec
        present = [str(n) for n in scores["node"].values]
        if nodes is None:
            lvl = spec.max_level - 1 if level is None else level
            if lvl not in spec.levels:
                raise InvalidParameterError(
                    f"{func}: level {lvl!r} is not in the tree; levels: {list(spec.levels)}."
                )
            cols = [c for c in spec.level_codes(lvl) if c in present]
        else:
            cols = [str(c) for c in nodes]
            missing = [c for c in cols if c not in present]
            if missing:
                raise InvalidParameterError(f"{func}: nodes {missing} are not in the scores.")
        root = scores.sel(node=spec.root).to_series()
        order = [str(u) for u in root.sort_values(ascending=False, kind="stable").index]
        grid = scores.sel(node=cols, unit=order).transpose("unit", "node")
    elif isinstance(data, xr.DataArray):
        grid = _pick_time(data, time, func)
        if grid.ndim != 2:
            raise InvalidParameterError(
                f"{func}: the array must have two dims after selecting the time; it has "
                f"{grid.dims}. Select the others first (e.g. .sel(indicator=...))."
            )
    else:
        raise InvalidParameterError(
            f"The 'data' parameter of {func} must be a Result or an xarray.DataArray; got "
            f"{type(data).__name__}."
        )
    rows_dim, cols_dim = grid.dims
    if units is not None:
        wanted = _units_list(units, "units", func) or []
        _check_units([str(u) for u in grid[rows_dim].values], wanted, func)
        grid = grid.sel({rows_dim: wanted})
    values = np.asarray(grid.values, dtype=float)
    rows = [str(r) for r in grid[rows_dim].values]
    cols_l = [str(c) for c in grid[cols_dim].values]
    ax = _new_axes(ax, (max(4.0, 0.7 * len(cols_l) + 2.5), max(2.0, 0.3 * len(rows) + 1.2)))
    ax.set_facecolor("0.9")  # missing cells show grey
    image = ax.imshow(np.ma.masked_invalid(values), aspect="auto", cmap=cmap, vmin=vmin,
                      vmax=vmax)  # fmt: skip
    ax.set_xticks(np.arange(len(cols_l)), cols_l, rotation=35, ha="right")
    ax.set_yticks(np.arange(len(rows)), rows)
    if annotate and values.size <= 600:
        for i in range(values.shape[0]):
            for j in range(values.shape[1]):
                v = values[i, j]
                if np.isfinite(v):
                    r, g, b, _ = image.cmap(image.norm(v))
                    dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.55  # text that stands out
                    ax.text(j, i, fmt.format(v), ha="center", va="center", fontsize="x-small",
                            color="white" if dark else "black")  # fmt: skip
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    return ax


# ---------------------------------------------------------------------------- lorenz
def lorenz_curve(
    data: xr.DataArray | pd.Series | Mapping[str, float] | Sequence[float],
    *,
    indicator: str | None = None,
    time: Hashable | Sequence[Hashable] | None = None,
    weights: xr.DataArray | None = None,
    dim: str = "unit",
    label: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Lorenz curves of a variable across units, with the line of equality and Gini.

    One curve per year (or per label of any dim other than ``dim``), computed with
    :func:`brics_ecom.inequality.lorenz`; the legend gives each curve's Gini coefficient
    (:func:`brics_ecom.inequality.gini`).

    Parameters
    ----------
    data : xarray.DataArray, pandas.Series, mapping or sequence
        Non-negative values over units: a panel (select ``indicator``), an array with
        ``dim`` (and e.g. ``time``), a Series indexed by unit, or plain values.
    indicator : str, optional
        For a panel with an ``indicator`` dim: the indicator.
    time : hashable or sequence, optional
        Year(s) drawn (default: every year of a ``time`` dim with data, at most the last
        six).
    weights : xarray.DataArray, optional
        Population weights (as in :func:`~brics_ecom.inequality.lorenz`).
    dim : str, default "unit"
        The dim the shares run over.
    label : str, optional
        Legend prefix (default: the indicator or nothing).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    InvalidParameterError
        A panel without ``indicator``; unknown indicator or years.
    DataError
        Negative values (from :func:`~brics_ecom.inequality.lorenz`).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from brics_ecom import datasets, plot
    >>> p = datasets.load_brics_panel(countries="BRICS", years=[2011, 2021])
    >>> ax = plot.lorenz_curve(p, indicator="IT.NET.USER.ZS")
    >>> [t.get_text()[:4] for t in ax.get_legend().get_texts()]
    ['equa', '2011', '2021']
    >>> plot.lorenz_curve([1.0, 2.0, 3.0, 10.0]).get_xlabel()
    'cumulative share of units'
    """
    from .inequality import gini, lorenz

    func = "lorenz_curve"
    if isinstance(data, xr.DataArray):
        x = data
    elif isinstance(data, pd.Series | Mapping):
        x = _as_unit_series(data, func, "data")
    elif isinstance(data, Sequence | np.ndarray) and not isinstance(data, str):
        arr = np.asarray(data, dtype=float)
        x = xr.DataArray(arr, dims=dim, coords={dim: np.arange(arr.shape[0])})
    else:
        raise InvalidParameterError(
            f"The 'data' parameter of {func} must be a DataArray, a Series, a mapping or a "
            f"sequence of values; got {type(data).__name__}."
        )
    if "indicator" in x.dims:
        codes = [str(c) for c in x["indicator"].values]
        if indicator is None:
            if len(codes) != 1:
                raise InvalidParameterError(
                    f"{func}: the panel has {len(codes)} indicators; choose one with indicator=."
                )
            indicator = codes[0]
        if indicator not in codes:
            raise InvalidParameterError(
                f"{func}: indicator {indicator!r} is not in the panel; it has {codes[:20]}."
            )
        x = x.sel(indicator=indicator)
    if dim not in x.dims:
        raise InvalidParameterError(f"{func}: the data have no {dim!r} dim; dims: {x.dims}.")
    extra = [d for d in x.dims if d != dim]
    if "time" in extra:
        times = x["time"].values.tolist()
        if time is None:
            has = x.notnull().any([d for d in x.dims if d != "time"]).values
            chosen = [t for t, ok in zip(times, has, strict=True) if ok][-6:]
        else:
            chosen = (
                list(time)
                if isinstance(time, Sequence | np.ndarray) and not isinstance(time, str)
                else [time]
            )
            bad = [t for t in chosen if t not in times]
            if bad:
                raise InvalidParameterError(
                    f"{func}: years {bad} are not in the data; its years run "
                    f"{times[0]}–{times[-1]}."
                )
        x = x.sel(time=chosen)
    x = x.reset_coords(drop=True)
    others = [d for d in x.dims if d != dim]
    if len(others) > 1:
        raise InvalidParameterError(
            f"{func}: one curve per label of one dim; the data have dims {x.dims}. Select "
            "the others first."
        )
    curve = lorenz(x, dim=dim, weights=weights)
    g = gini(x, dim=dim, weights=weights)
    ax = _new_axes(ax, (4.8, 4.5))
    if not any(line.get_label() == "equality" for line in ax.get_lines()):  # once per axes
        ax.plot([0, 1], [0, 1], color="0.5", ls="--", lw=1, label="equality")
    prefix = label if label is not None else ""
    labels = [None] if not others else list(x[others[0]].values)
    for lab in labels:
        sel = {} if lab is None else {others[0]: lab}
        pop = curve["population"].sel(sel).values
        share = curve["share"].sel(sel).values
        keep = np.isfinite(pop) & np.isfinite(share)
        gv = float(g.sel(sel)) if sel else float(g)
        name = " ".join(s for s in (prefix, "" if lab is None else str(lab)) if s)
        ax.plot(pop[keep], share[keep], marker=".", label=f"{name or 'Lorenz'} (Gini {gv:.3f})")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xlabel(f"cumulative share of {dim}s")
    ax.set_ylabel(f"cumulative share of {indicator or 'the total'}")
    ax.legend(fontsize="small", loc="upper left")
    return ax


# ---------------------------------------------------------------------------- quadrant
def quadrant(
    level: xr.DataArray | pd.Series | Mapping[str, float] | Result,
    momentum: xr.DataArray | pd.Series | Mapping[str, float] | None = None,
    states: xr.Dataset | None = None,
    *,
    time: Hashable | None = None,
    highlight: Iterable[str] | None = None,
    labels: bool = True,
    ax: Axes | None = None,
) -> Axes:
    """The state × momentum chart: level across, momentum up, split into four zones.

    The lines are the thresholds of ``states`` (from
    :func:`brics_ecom.dynamics.state_momentum`) or, without it, the medians over the
    units. The zones (Chakravorti, Tunnard & Chaturvedi's Digital Evolution Index): high
    level and momentum "stand out", low level and high momentum "break out", high level
    and low momentum "stall out", low both "watch out".

    Parameters
    ----------
    level : xarray.DataArray, pandas.Series, mapping or Result
        Level by unit (with an optional ``time`` dim); or a result of
        :func:`brics_ecom.frameworks.ecommerce_dynamism.build`, whose ``Level`` and
        ``Momentum`` scores and ``reports["state_momentum"]`` are used.
    momentum : xarray.DataArray, pandas.Series or mapping, optional
        Momentum by unit (needed unless ``level`` is a result).
    states : xarray.Dataset, optional
        ``level_threshold`` and ``momentum_threshold`` (and ``state``, colouring the
        points).
    time : hashable, optional
        The year (default: the last one).
    highlight : iterable of str, optional
        Units whose labels are drawn in bold.
    labels : bool, default True
        Write the unit codes next to the points.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from brics_ecom import plot
    >>> level = pd.Series({"BRA": 60.0, "CHN": 75.0, "IND": 40.0, "RUS": 70.0, "ZAF": 55.0})
    >>> mom = pd.Series({"BRA": 2.0, "CHN": 8.0, "IND": 9.0, "RUS": 1.0, "ZAF": 3.0})
    >>> ax = plot.quadrant(level, mom)
    >>> sorted(t.get_text() for t in ax.texts if "out" in t.get_text())
    ['break out', 'stall out', 'stand out', 'watch out']
    """
    from .results import Result

    func = "quadrant"
    if isinstance(level, Result):
        scores = _check_result(level, func)
        nodes = [str(n) for n in scores["node"].values]
        if not {"Level", "Momentum"} <= set(nodes):
            raise InvalidParameterError(
                f"{func}: the result has no 'Level' and 'Momentum' nodes (a result of "
                "frameworks.ecommerce_dynamism.build has them); pass level and momentum."
            )
        if states is None:
            found = level.reports.get("state_momentum")
            states = found if isinstance(found, xr.Dataset) else None
        lv = scores.sel(node="Level", drop=True)
        mo = scores.sel(node="Momentum", drop=True)
    else:
        if momentum is None:
            raise InvalidParameterError(f"{func}: pass momentum= with the level values.")
        lv = _as_unit_series(level, func, "level")
        mo = _as_unit_series(momentum, func, "momentum")
    lv = _pick_time(lv, time, func).reset_coords(drop=True)
    mo = _pick_time(mo, time, func).reset_coords(drop=True)
    lv, mo = xr.align(lv, mo, join="inner")
    frame = pd.DataFrame({"level": lv.to_series(), "momentum": mo.to_series()}).dropna()
    if frame.empty:
        raise InvalidParameterError(f"{func}: no unit has both a level and a momentum.")
    if states is not None:
        st = _pick_time(states, time, func) if "time" in states.dims else states
        lt = float(st["level_threshold"])
        mt = float(st["momentum_threshold"])
        zone = st["state"].to_series() if "state" in st else None
    else:
        lt, mt = float(frame["level"].median()), float(frame["momentum"].median())
        zone = None
    if zone is None:
        zone = pd.Series(
            [QUADRANT_LABELS[(bool(a >= lt), bool(b >= mt))]
             for a, b in zip(frame["level"], frame["momentum"], strict=True)],
            index=frame.index,
        )  # fmt: skip
    zone.index = zone.index.map(str)
    frame.index = frame.index.map(str)
    ax = _new_axes(ax, (6.5, 5.2))
    colours = [_STATE_COLOURS.get(str(zone.get(u, "")), _BASE) for u in frame.index]
    ax.scatter(frame["level"], frame["momentum"], c=colours, s=36, zorder=3)
    for col, setter in (("level", ax.set_xlim), ("momentum", ax.set_ylim)):
        low, high = float(frame[col].min()), float(frame[col].max())
        pad = 0.14 * (high - low) if high > low else 1.0
        setter(low - pad, high + pad)  # room for the zone labels in the corners
    ax.axvline(lt, color="0.4", lw=1, ls="--")
    ax.axhline(mt, color="0.4", lw=1, ls="--")
    marked = set(_units_list(highlight, "highlight", func) or [])
    if labels:
        for u, row in frame.iterrows():
            ax.annotate(str(u), (row["level"], row["momentum"]), xytext=(3, 3),
                        textcoords="offset points", fontsize="x-small",
                        fontweight="bold" if u in marked else "normal")  # fmt: skip
    corners = {
        "stand out": (0.98, 0.98, "right", "top"),
        "break out": (0.02, 0.98, "left", "top"),
        "stall out": (0.98, 0.02, "right", "bottom"),
        "watch out": (0.02, 0.02, "left", "bottom"),
    }
    for name, (x, y, ha, va) in corners.items():
        ax.text(x, y, name, transform=ax.transAxes, ha=ha, va=va, fontsize="small",
                color=_STATE_COLOURS[name], fontweight="bold")  # fmt: skip
    ax.set_xlabel("level (state)")
    ax.set_ylabel("momentum")
    ax.spines[["top", "right"]].set_visible(False)
    return ax


# ---------------------------------------------------------------------------- time series
def time_series(
    data: Result | xr.DataArray,
    units: str | Iterable[str] | None,
    indicator_or_node: str,
    *,
    highlight: Iterable[str] | None = None,
    ylabel: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """An indicator of a panel, or a node of a result, over time for some units.

    Missing years are skipped (the points of a unit are joined), so survey series such
    as Findex (2011, 2014, 2017, 2021) draw as lines with markers at the waves.

    Parameters
    ----------
    data : Result or xarray.DataArray
        A result (its scores), a panel (``unit × time × indicator``) or an array over
        ``unit`` and ``time`` (and ``node``).
    units : str or iterable of str or None
        The units drawn (``None``: all).
    indicator_or_node : str
        Indicator code (panel) or node code (result).
    highlight : iterable of str, optional
        Units drawn with thicker lines.
    ylabel : str, optional
        Default: the indicator's name if the panel has ``indicator_name``, else the code.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from brics_ecom import datasets, plot
    >>> p = datasets.load_brics_panel(countries=["BRA", "IND"], years=range(2011, 2022))
    >>> ax = plot.time_series(p, ["BRA", "IND"], "account_t")
    >>> [line.get_label() for line in ax.get_lines()]
    ['BRA', 'IND']
    """
    from .results import Result

    func = "time_series"
    name = indicator_or_node
    if isinstance(data, Result):
        da = _pick_node(_check_result(data, func), indicator_or_node, indicator_or_node, func)
    elif isinstance(data, xr.DataArray):
        if "indicator" in data.dims:
            codes = [str(c) for c in data["indicator"].values]
            if indicator_or_node not in codes:
                raise InvalidParameterError(
                    f"{func}: indicator {indicator_or_node!r} is not in the panel; it has "
                    f"{codes[:20]}{' ...' if len(codes) > 20 else ''}."
                )
            da = data.sel(indicator=indicator_or_node)
            if "indicator_name" in da.coords:
                name = str(da["indicator_name"].item())
        elif "node" in data.dims:
            da = _pick_node(data, indicator_or_node, indicator_or_node, func)
        else:
            da = data
    else:
        raise InvalidParameterError(
            f"The 'data' parameter of {func} must be a Result or an xarray.DataArray; got "
            f"{type(data).__name__}."
        )
    if "time" not in da.dims or "unit" not in da.dims:
        raise InvalidParameterError(
            f"{func}: the data need 'unit' and 'time' dims; they have {da.dims}."
        )
    present = [str(u) for u in da["unit"].values]
    wanted = _units_list(units, "units", func) or present
    _check_units(present, wanted, func)
    marked = set(_units_list(highlight, "highlight", func) or [])
    ax = _new_axes(ax, (6.5, 3.8))
    table = da.sel(unit=wanted).transpose("unit", "time").to_pandas()
    for u, row in table.iterrows():
        row = row.dropna()
        ax.plot(row.index.to_numpy(), row.to_numpy(), marker="o", ms=3,
                lw=2.4 if u in marked else 1.3, label=str(u))  # fmt: skip
    ax.set_xlabel("year")
    ax.set_ylabel(ylabel if ylabel is not None else name)
    ax.spines[["top", "right"]].set_visible(False)
    if len(wanted) > 1:
        ax.legend(fontsize="x-small", ncol=2 if len(wanted) > 6 else 1, frameon=False)
    return ax
