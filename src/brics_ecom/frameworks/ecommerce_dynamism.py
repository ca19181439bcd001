r"""E-commerce dynamism: LEVEL (where e-commerce stands) and MOMENTUM (how fast it moves).

The 2017 BRICS E-commerce Cooperation Initiative asks for research on "measuring dynamism
in e-commerce". This framework gives every economy two scores and a zone:

* **Level** — the mean of eight indicators of e-commerce readiness and use, each
  normalised to 0–100: online purchasing, digital payments and account ownership
  (Global Findex), Internet use, secure servers (log), 4G coverage, active mobile
  broadband, and digitally-deliverable services exports per capita (log).
* **Momentum** — the mean of the same eight indicators' *trend growth*
  (:func:`brics_ecom.dynamics.trend_growth`: the OLS slope of :math:`\ln x` on time, in
  log points per year) over the ``window`` = 5 years up to the year the level value comes
  from, normalised to 0–100.
* **Zone** — :func:`brics_ecom.dynamics.state_momentum` splits the selected countries at
  the median level and the median momentum: *stand out* (high, high), *break out* (low
  level, high momentum), *stall out* (high level, low momentum), *watch out* (low, low).

The tree (``ecommerce_dynamism.yaml``) is::

    ECOM_DYN   mean of the two faces (weights level_weight, momentum_weight)
    ├── Level      L.buy_online  L.dig_pay  L.account  L.internet
    │              L.servers  L.mobile_4g  L.mobile_bb  L.dig_exports
    └── Momentum   M.buy_online  M.dig_pay  M.account  M.internet
                   M.servers  M.mobile_4g  M.mobile_bb  M.dig_exports

**Proxies.** 4G coverage and active mobile broadband (ITU) and digitally-deliverable
services exports (UNCTAD) are not packaged. They are used when the panel holds them (load it
with ``extra_data=``, or pass ``extra_data=`` to :func:`build`); otherwise the shipped
proxies are used and recorded in ``reports["framework"]["proxies"]``: mobile-cellular
subscriptions per 100 (for 4G coverage), fixed-broadband subscriptions per 100 (for mobile
broadband) and ICT service exports per capita (for digitally-deliverable services).

**Missing data.** Findex is a survey of 2011, 2014, 2017 and 2021 (2022 for 16
economies). The level of year ``t`` takes each indicator's latest value, from a year ``s``
in ``[t − level_window, t]`` (:func:`brics_ecom.panel.latest`; ``level_window=4``, the longest
gap between Findex waves), never an interpolation; its momentum is the trend over
``[s − window, s]``, so that a survey indicator or a series that stops early (India's
Internet users end in 2020) still has momentum, and level and momentum describe the same
observation. A trend needs two observations; values ≤ 0 have no log and count as missing.
A face is computed for an economy with at least ``dat_thresh`` = 60 % of its indicators
(5 of 8), the headline ``ECOM_DYN`` only with both faces.

**Normalisation.** On a **pooled** reference, so that scores of different years are
comparable: the level indicators are treated for outliers (COINr's default winsorisation,
each year) and min-max scaled to 0–100 with bounds over every economy of the universe and
every year of the run (``reference="pooled"``); the momentum indicators, whose growth rates
have heavy tails on both sides, are scaled between goalposts at their pooled 5th and 95th
percentiles (:func:`momentum_bounds`) and truncated there. The universe is the whole panel
(``universe="all"``), so a score does not depend on the comparators chosen; ranks and zones
are among the selected countries.

Examples
--------
>>> from brics_ecom.frameworks import ecommerce_dynamism as dyn
>>> res = dyn.build(countries=["BRA", "CHN", "IND", "RUS", "ZAF"], years=2021)
>>> res.reports["framework"]["proxies"]["mobile_4g"]
'IT.CEL.SETS.P2'
>>> res.reports["state_momentum_table"].loc[("CHN", 2021), "state"]
'stand out'
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .._history import describe_call
from .._validation import check_choice, check_number
from ..errors import DataError, InvalidParameterError
from ..pipeline import Pipeline
from ..results import Result
from ..spec import IndexSpec
from . import (
    latest_by_year,
    load_spec,
    metadata,
    resolve_countries,
    resolve_years,
    select_units,
)

__all__ = [
    "CONCEPTS",
    "NAME",
    "TITLE",
    "build",
    "choose_sources",
    "describe",
    "momentum_bounds",
    "pipeline",
    "prepare",
    "quadrants",
    "spec",
]

NAME = "ecommerce_dynamism"
TITLE = "E-commerce dynamism (level and momentum)"

#: The concepts, in the order of the tree; each has a level node ``L.<concept>`` and a
#: momentum node ``M.<concept>``.
CONCEPTS: tuple[str, ...] = (
    "buy_online", "dig_pay", "account", "internet",
    "servers", "mobile_4g", "mobile_bb", "dig_exports",
)  # fmt: skip
_UNIVERSES = ("all", "selected")
_REFERENCES = ("pooled", "per_time")


def _concepts() -> dict[str, dict[str, Any]]:
    concepts: dict[str, dict[str, Any]] = metadata(NAME)["concepts"]
    return concepts


def _check_proxies(proxies: Iterable[str], func: str) -> list[str]:
    if isinstance(proxies, str) or not isinstance(proxies, Iterable):
        raise InvalidParameterError(
            f"The 'proxies' parameter of {func} must be an iterable of concept names; got "
            f"{proxies!r}."
        )
    chosen = list(proxies)
    with_proxy = [c for c, m in _concepts().items() if m.get("proxy")]
    bad = sorted(set(chosen) - set(with_proxy))
    if bad:
        raise InvalidParameterError(
            f"The 'proxies' parameter of {func} names {bad}; only {with_proxy} have a proxy."
        )
    return chosen


def spec(
    *, proxies: Iterable[str] = (), level_weight: float = 1.0, momentum_weight: float = 1.0
) -> IndexSpec:
    """The index tree.

    Parameters
    ----------
    proxies : iterable of str, default ()
        Concepts measured by their shipped proxy (``mobile_4g``, ``mobile_bb``,
        ``dig_exports``): the names and units of their nodes say so.
    level_weight, momentum_weight : float, default 1
        Weights of the two faces in the headline ``ECOM_DYN``.

    Returns
    -------
    IndexSpec

    Examples
    --------
    >>> from brics_ecom.frameworks import ecommerce_dynamism as dyn
    >>> tree = dyn.spec(proxies=["mobile_4g"])
    >>> tree.node("L.mobile_4g").unit
    'per 100 people'
    >>> tree.children("Level")[:3]
    ('L.buy_online', 'L.dig_pay', 'L.account')
    """
    func = "ecommerce_dynamism.spec"
    chosen = _check_proxies(proxies, func)
    for value, param in ((level_weight, "level_weight"), (momentum_weight, "momentum_weight")):
        check_number(value, param=param, func=func, low=0)
    if level_weight + momentum_weight <= 0:
        raise InvalidParameterError(f"{func}: level_weight and momentum_weight cannot both be 0.")
    tree = load_spec(NAME)
    meta = _concepts()
    nodes = []
    for n in tree.nodes:
        concept = n.code[2:] if n.code[:2] in ("L.", "M.") else None
        if concept in chosen:
            proxy_name = meta[concept]["proxy_name"]
            if n.code.startswith("L."):
                n = replace(n, name=f"Level: {proxy_name}", unit=meta[concept]["proxy_unit"])
            else:
                n = replace(n, name=f"Momentum: {proxy_name}")
        elif n.code == "Level":
            n = replace(n, weight=float(level_weight))
        elif n.code == "Momentum":
            n = replace(n, weight=float(momentum_weight))
        nodes.append(n)
    return IndexSpec(nodes, name=tree.name)


def pipeline(
    *,
    proxies: Iterable[str] = (),
    reference: str = "pooled",
    treat: bool = True,
    dat_thresh: float = 0.6,
    level_weight: float = 1.0,
    momentum_weight: float = 1.0,
    momentum_bounds: Mapping[str, Sequence[float]] | None = None,
) -> Pipeline:
    """The steps run on the prepared panel (see :func:`prepare`).

    ``treat`` (COINr's default outlier treatment, each year) → ``normalise`` (min-max
    0–100 on the ``reference``, pooled over years by default) → ``aggregate`` (arithmetic
    mean; an aggregate needs ``dat_thresh`` of its children).

    Parameters
    ----------
    proxies, level_weight, momentum_weight
        As in :func:`spec`.
    reference : {"pooled", "per_time"}, default "pooled"
        Normalisation reference: bounds over all years of the run (comparable over time)
        or each year on its own.
    treat : bool, default True
        Whether to treat outliers before normalising.
    dat_thresh : float, default 0.6
        Share of children an aggregate needs (5 of 8 indicators; both faces).

    Examples
    --------
    >>> from brics_ecom.frameworks import ecommerce_dynamism as dyn
    >>> [s.name for s in dyn.pipeline().steps]
    ['treat', 'normalise', 'aggregate']
    >>> dyn.pipeline().get("normalise__reference")
    'pooled'
    """
    func = "ecommerce_dynamism.pipeline"
    check_choice(reference, _REFERENCES, param="reference", func=func)
    if not isinstance(treat, bool):
        raise InvalidParameterError(f"The 'treat' parameter of {func} must be True or False.")
    check_number(dat_thresh, param="dat_thresh", func=func, low=0, high=1)
    tree = spec(proxies=proxies, level_weight=level_weight, momentum_weight=momentum_weight)
    norm: dict[str, Any] = {"method": "minmax", "reference": reference}
    if momentum_bounds is not None:
        if not isinstance(momentum_bounds, Mapping):
            raise InvalidParameterError(
                f"The 'momentum_bounds' parameter of {func} must map momentum codes to "
                f"(lower, upper) pairs; got {momentum_bounds!r}."
            )
        unknown = sorted(set(momentum_bounds) - {c for c in tree.indicators if c[:2] == "M."})
        if unknown:
            raise InvalidParameterError(
                f"The 'momentum_bounds' parameter of {func} names {unknown}, which are not "
                "momentum indicators (M.<concept>)."
            )
        overrides = {}
        for code, pair in momentum_bounds.items():
            lo, hi = (float(v) for v in pair)
            if not lo < hi:
                raise InvalidParameterError(
                    f"{func}: the momentum bounds of {code!r} must satisfy lower < upper; got "
                    f"{(lo, hi)}."
                )
            overrides[code] = ("goalposts", {"lower": lo, "upper": hi})
        norm["overrides"] = overrides
    steps: list[tuple[str, dict[str, Any]]] = []
    if treat:  # momentum indicators with goalposts are truncated there, not winsorised
        skip = {code: {"skip": True} for code in norm.get("overrides", {})}
        steps.append(("treat", {"overrides": skip} if skip else {}))
    steps += [
        ("normalise", norm),
        ("aggregate", {"method": "arithmetic", "dat_thresh": float(dat_thresh)}),
    ]
    return Pipeline(tree, steps)


def momentum_bounds(
    prepared: xr.DataArray, quantiles: Sequence[float] = (0.05, 0.95)
) -> dict[str, tuple[float, float]]:
    """Pooled quantiles of every momentum indicator: the goalposts of the momentum face.

    Growth rates have heavy tails on both sides (data breaks, tiny economies), which the
    one-sided winsorisation of :func:`brics_ecom.treat` leaves in place. The momentum
    indicators are therefore scaled between two quantiles of their distribution over every
    economy and year of ``prepared`` (a pooled reference) and truncated there: values below
    the lower quantile score 0, above the upper one 100.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> from brics_ecom.frameworks.ecommerce_dynamism import momentum_bounds
    >>> x = xr.DataArray(np.arange(101.0).reshape(101, 1, 1), dims=("unit", "time", "indicator"),
    ...                  coords={"unit": np.arange(101), "time": [2020], "indicator": ["M.a"]})
    >>> momentum_bounds(x)
    {'M.a': (5.0, 95.0)}
    """
    lo_q, hi_q = (float(q) for q in quantiles)
    if not 0.0 <= lo_q < hi_q <= 1.0:
        raise InvalidParameterError(
            "The 'momentum_quantiles' must be two numbers 0 <= lower < upper <= 1; got "
            f"{tuple(quantiles)!r}."
        )
    out = {}
    for code in prepared["indicator"].values.tolist():
        if not str(code).startswith("M."):
            continue
        values = prepared.sel(indicator=code).values
        values = values[~np.isnan(values)]
        if values.size == 0:
            continue
        lo, hi = np.quantile(values, [lo_q, hi_q])
        if lo < hi:
            out[str(code)] = (float(lo), float(hi))
    return out


def describe() -> pd.DataFrame:
    """Every node: its source (and proxy), licence and why it is there.

    Returns
    -------
    pandas.DataFrame
        Indexed by node code (``L.<concept>``, ``M.<concept>``), with columns ``name``,
        ``parent``, ``weight``, ``direction``, ``unit``, ``source``, ``proxy``,
        ``licence``, ``shipped``, ``proxy_licence`` and ``why``.

    Examples
    --------
    >>> from brics_ecom.frameworks import ecommerce_dynamism as dyn
    >>> d = dyn.describe()
    >>> d.loc["L.mobile_4g", ["source", "proxy"]].tolist(), bool(d.loc["L.mobile_4g", "shipped"])
    (['ITU_DH_POP_COV_4G', 'IT.CEL.SETS.P2'], False)
    """
    from ..datasets import brics_indicators

    known = brics_indicators()
    meta = _concepts()
    tree = load_spec(NAME)
    rows = []
    for code in tree.indicators:
        node = tree.node(code)
        entry = meta[code[2:]]
        source, proxy = entry["source"], entry.get("proxy")
        rows.append(
            {
                "code": code,
                "name": node.name,
                "parent": node.parent,
                "weight": node.weight,
                "direction": node.direction,
                "unit": node.unit,
                "source": source,
                "proxy": proxy,
                "licence": known.loc[source, "licence"] if source in known.index else None,
                "shipped": bool(known.loc[source, "shipped"]) if source in known.index else None,
                "proxy_licence": known.loc[str(proxy), "licence"]
                if proxy is not None and proxy in known.index
                else None,
                "why": " ".join(str(entry.get("why", "")).split()),
            }
        )
    table = pd.DataFrame(rows).set_index("code")
    info = metadata(NAME)
    table.attrs = {"title": info.get("title", TITLE), "summary": info.get("summary", "")}
    return table


# ---------------------------------------------------------------------------- data
def _has_data(panel: xr.DataArray, code: str) -> bool:
    codes = {str(c) for c in panel["indicator"].values}
    return code in codes and bool(panel.sel(indicator=code).notnull().any())


def choose_sources(
    panel: xr.DataArray, *, use_extra: bool | None = None
) -> dict[str, tuple[str, bool]]:
    """Which panel code measures each concept: ``{concept: (code, is_proxy)}``.

    Parameters
    ----------
    panel : xarray.DataArray
        The data.
    use_extra : bool, optional
        ``None`` (default): the preferred (non-packaged) source when the panel holds data
        for it, else the shipped proxy; ``False``: always the proxies; ``True``: the
        preferred sources, or a :class:`~brics_ecom.errors.DataError`.

    Examples
    --------
    >>> from brics_ecom import datasets
    >>> from brics_ecom.frameworks import ecommerce_dynamism as dyn
    >>> p = datasets.load_brics_panel(countries=["BRA"], years=range(2019, 2022))
    >>> dyn.choose_sources(p)["dig_exports"]
    ('BX.GSR.CCIS.CD', True)
    """
    func = "ecommerce_dynamism.choose_sources"
    if use_extra is not None and not isinstance(use_extra, bool):
        raise InvalidParameterError(
            f"The 'use_extra' parameter of {func} must be None, True or False; got {use_extra!r}."
        )
    out: dict[str, tuple[str, bool]] = {}
    missing: list[str] = []
    for concept, entry in _concepts().items():
        source, proxy = entry["source"], entry.get("proxy")
        if proxy is None:
            if not _has_data(panel, source):
                missing.append(source)
            out[concept] = (source, False)
        elif use_extra is False:
            out[concept] = (proxy, True)
        elif _has_data(panel, source):
            out[concept] = (source, False)
        elif use_extra is True:
            missing.append(source)
        elif _has_data(panel, proxy):
            out[concept] = (proxy, True)
        else:
            missing.append(f"{source} (or its proxy {proxy})")
    if missing:
        hint = (
            " Non-packaged sources need load_brics_panel(extra_data=<folder>) or "
            "build(extra_data=<folder>)."
            if use_extra
            else ""
        )
        raise DataError(
            f"{func}: the panel has no data for {missing}, needed by the e-commerce "
            f"dynamism framework.{hint}"
        )
    return out


def _population(panel: xr.DataArray, func: str) -> xr.DataArray:
    from ..panel import get_denominators

    denoms = get_denominators(panel)
    if denoms is not None and "Population" in denoms["denominator"].values.tolist():
        pop = denoms.sel(denominator="Population", drop=True)
    elif "SP.POP.TOTL" in panel["indicator"].values.tolist():
        pop = panel.sel(indicator="SP.POP.TOTL", drop=True)
    else:
        raise DataError(
            f"{func}: per-capita exports need the population: the panel carries neither "
            "attrs['denominators'] with 'Population' nor the indicator SP.POP.TOTL."
        )
    pop = pop.reset_coords(drop=True)
    return pop.reindex(unit=panel["unit"].values, time=panel["time"].values)


def _annual(
    panel: xr.DataArray, sources: Mapping[str, tuple[str, bool]], func: str
) -> xr.DataArray:
    """One annual series per concept: scaled, per capita where asked, indicator = concept."""
    meta = _concepts()
    pieces = []
    pop: xr.DataArray | None = None
    for concept in CONCEPTS:
        code, is_proxy = sources[concept]
        entry = meta[concept]
        x = panel.sel(indicator=code, drop=True).reset_coords(drop=True)
        scale = entry.get("proxy_scale" if is_proxy else "scale", 1.0)
        if scale != 1.0:
            x = x * float(scale)
        if entry.get("per_capita"):
            pop = _population(panel, func) if pop is None else pop
            x = x / pop.where(pop > 0)
        pieces.append(x.expand_dims(indicator=[concept], axis=-1))
    out = xr.concat(pieces, dim="indicator").transpose("unit", "time", "indicator")
    keep = {c: panel[c] for c in panel.coords if panel[c].dims == ("unit",)}
    return out.assign_coords(keep)


def _level(annual: xr.DataArray, years: Sequence[int], window: int) -> xr.DataArray:
    """Latest value in ``[t − window, t]`` (``source_time`` coord), logs where asked."""
    level = latest_by_year(annual, years, window)
    meta = _concepts()
    logged = [c for c in CONCEPTS if meta[c].get("transform") == "log"]
    x = level.sel(indicator=logged)
    level = level.copy()
    level.loc[{"indicator": logged}] = np.log(x.where(x > 0))
    return level


def _momentum(
    annual: xr.DataArray, source_time: xr.DataArray, window: int
) -> tuple[xr.DataArray, xr.DataArray]:
    """Trend growth over ``[s − window, s]``, ``s`` the year each level value comes from."""
    from ..dynamics import trend_growth

    times = np.asarray(annual["time"].values)
    positive = annual.where(annual > 0).reset_coords(drop=True)
    ends = np.unique(source_time.values[~np.isnan(source_time.values)]).astype(int)
    slope = xr.full_like(source_time, np.nan, dtype=float)
    nobs = xr.zeros_like(slope)
    for s in ends.tolist():
        span = positive.sel(time=(times >= s - window) & (times <= s))
        if span.sizes["time"] < 2:
            continue
        res = trend_growth(span)  # (unit, indicator)
        here = source_time == s  # (unit, time, indicator)
        slope = xr.where(here, res["slope"], slope)
        nobs = xr.where(here, res["nobs"], nobs)
    order = ("unit", "time", "indicator")
    return slope.transpose(*order), nobs.transpose(*order)


def prepare(
    panel: xr.DataArray,
    *,
    years: int | Iterable[int],
    window: int = 5,
    level_window: int = 4,
    use_extra: bool | None = None,
) -> xr.DataArray:
    """The panel the pipeline runs on: ``L.<concept>`` levels and ``M.<concept>`` growths.

    Parameters
    ----------
    panel : xarray.DataArray
        The data (e.g. :func:`~brics_ecom.datasets.load_brics_panel`); every unit is kept.
    years : int or iterable of int
        Years of the index.
    window : int, default 5
        Momentum: trend growth over the years ``[s − window, s]``, ``s`` the year of the
        level value.
    level_window : int, default 4
        Level: latest value in ``[t − level_window, t]``.
    use_extra : bool, optional
        See :func:`choose_sources`.

    Returns
    -------
    xarray.DataArray
        ``(unit, time, indicator)`` with the indicator codes of :func:`spec`; coordinates
        ``source_time`` (year of each level value; NaN for momentum) and ``nobs`` (points
        in each trend; NaN for levels); ``attrs["sources"]`` and ``attrs["proxies"]``.

    Examples
    --------
    >>> from brics_ecom import datasets
    >>> from brics_ecom.frameworks import ecommerce_dynamism as dyn
    >>> p = datasets.load_brics_panel(countries=["IND", "BRA"])
    >>> prep = dyn.prepare(p, years=2021)
    >>> prep.sel(unit="IND", time=2021, indicator="L.account").item()
    78.0
    >>> int(prep["nobs"].sel(unit="IND", time=2021, indicator="M.account"))  # 2017, 2021
    2
    """
    from .. import groups
    from ..panel import validate

    func = "ecommerce_dynamism.prepare"
    check_number(window, param="window", func=func, low=1, integer=True)
    check_number(level_window, param="level_window", func=func, low=0, integer=True)
    panel = validate(panel)
    if "time" not in panel.dims:
        raise DataError(f"{func} needs a panel with a 'time' dim (integer years).")
    times = [int(t) for t in panel["time"].values]
    yrs = resolve_years(years, times, func=func, default=times[-1])
    sources = choose_sources(panel, use_extra=use_extra)
    annual = _annual(panel, sources, func)
    level = _level(annual, yrs, int(level_window))
    slope, nobs = _momentum(annual, level["source_time"].reset_coords(drop=True), int(window))
    level_codes = [f"L.{c}" for c in CONCEPTS]
    mom_codes = [f"M.{c}" for c in CONCEPTS]
    src = level["source_time"].values
    values = xr.concat(
        [
            level.drop_vars("source_time").assign_coords(indicator=level_codes),
            slope.assign_coords(indicator=mom_codes),
        ],
        dim="indicator",
        coords="minimal",
        compat="override",
    ).transpose("unit", "time", "indicator")
    nan = np.full(src.shape, np.nan)
    values = values.assign_coords(
        source_time=(("unit", "time", "indicator"), np.concatenate([src, nan], axis=-1)),
        nobs=(("unit", "time", "indicator"), np.concatenate([nan, nobs.values], axis=-1)),
    )
    values = groups.add_group_coord(values, "BRICS")
    values.name = "value"
    values.attrs = {
        "title": "E-commerce dynamism: prepared levels and momentum",
        "sources": {c: code for c, (code, _) in sources.items()},
        "proxies": {c: code for c, (code, is_proxy) in sources.items() if is_proxy},
        "window": int(window),
        "level_window": int(level_window),
        "history": [
            *panel.attrs.get("history", []),
            describe_call(func, {"years": yrs, "window": window, "level_window": level_window,
                                 "use_extra": use_extra}),
        ],
    }  # fmt: skip
    return values


# ---------------------------------------------------------------------------- build
def _default_year(panel: xr.DataArray) -> int:
    """The last year with secure-server data (the annual anchor series)."""
    code = _concepts()["servers"]["source"]
    if code not in panel["indicator"].values.tolist():
        raise DataError(f"ecommerce_dynamism.build: the panel lacks {code}.")
    has = panel.sel(indicator=code).notnull().any("unit")
    years = [int(t) for t, ok in zip(panel["time"].values, has.values, strict=True) if ok]
    if not years:
        raise DataError(f"ecommerce_dynamism.build: the panel has no data for {code}.")
    return years[-1]


def _check_coverage(prepared: xr.DataArray, dat_thresh: float, func: str) -> None:
    """Raise naming the years in which a face cannot be computed for any economy."""
    for face, prefix in (("Level", "L."), ("Momentum", "M.")):
        codes = [c for c in prepared["indicator"].values.tolist() if c.startswith(prefix)]
        has = prepared.sel(indicator=codes).notnull().any("unit")  # (time, indicator)
        share = has.mean("indicator")
        bad = [int(t) for t, s in zip(prepared["time"].values, share.values, strict=True)
               if s < dat_thresh]  # fmt: skip
        if bad:
            t = bad[0]
            empty = [c for c, ok in zip(codes, has.sel(time=t).values, strict=True) if not ok]
            what = (
                f"the trend over the {prepared.attrs['window']} years to each year needs two "
                "observations"
                if face == "Momentum"
                else f"looking back {prepared.attrs['level_window']} years"
            )
            raise DataError(
                f"{func}: the {face} face cannot be computed in the years {bad}: fewer than "
                f"{dat_thresh:.0%} of its indicators have data ({what}); in {t} "
                f"{empty} have none. Choose later years."
            )


def quadrants(result: Result) -> pd.DataFrame:
    """The state × momentum zone of every country and year of a dynamism result.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``(unit, time)``: ``level`` and ``momentum`` scores, ``state`` and the
        two thresholds (medians over the countries of the result, by default).

    Examples
    --------
    >>> from brics_ecom.frameworks import ecommerce_dynamism as dyn
    >>> res = dyn.build(countries="BRICS", years=2021)
    >>> sorted(dyn.quadrants(res).columns)
    ['level', 'level_threshold', 'momentum', 'momentum_threshold', 'state']
    """
    table = result.reports.get("state_momentum_table")
    if not isinstance(table, pd.DataFrame):
        raise InvalidParameterError(
            "quadrants needs a result of frameworks.ecommerce_dynamism.build (it holds "
            "reports['state_momentum_table'])."
        )
    return table.copy()


def _state_table(
    scores: xr.DataArray, level_split: Any, momentum_split: Any
) -> tuple[xr.Dataset, pd.DataFrame]:
    from ..dynamics import state_momentum

    level = scores.sel(node="Level", drop=True).reset_coords(drop=True)
    mom = scores.sel(node="Momentum", drop=True).reset_coords(drop=True)
    states = state_momentum(level, mom, level_split=level_split, momentum_split=momentum_split)
    frame = pd.DataFrame(
        {
            "level": level.to_series(),
            "momentum": mom.to_series(),
            "state": states["state"].transpose("unit", "time").to_series(),
        }
    )
    when = frame.index.get_level_values("time")
    for name in ("level_threshold", "momentum_threshold"):
        by_year = dict(
            zip(states["time"].values.tolist(), states[name].values.tolist(), strict=True)
        )
        frame[name] = [by_year[t] for t in when]
    return states, frame


def build(
    panel: xr.DataArray | None = None,
    *,
    countries: str | Iterable[str] | None = None,
    years: int | Iterable[int] | None = None,
    window: int = 5,
    level_window: int = 4,
    use_extra: bool | None = None,
    universe: str = "all",
    reference: str = "pooled",
    treat: bool = True,
    dat_thresh: float = 0.6,
    level_weight: float = 1.0,
    momentum_weight: float = 1.0,
    level_split: str | float = "median",
    momentum_split: str | float = "median",
    momentum_quantiles: Sequence[float] | None = (0.05, 0.95),
    comparators: Iterable[str] | None = None,
    extra_data: str | os.PathLike[str] | None = None,
) -> Result:
    """Compute e-commerce dynamism: level, momentum and the state × momentum zones.

    Parameters
    ----------
    panel : xarray.DataArray, optional
        The data (default: :func:`~brics_ecom.datasets.load_brics_panel`, with
        ``extra_data`` if given).
    countries : str or iterable of str, optional
        ISO3 codes, names or group names; default: the BRICS members in the last year
        plus :data:`brics_ecom.frameworks.DEFAULT_COMPARATORS`. Ranks and zones are among
        these.
    years : int or iterable of int, optional
        Years of the index (default: the last year with secure-server data).
    window : int, default 5
        Momentum: trend growth over ``[s − window, s]``, ``s`` the year the level value
        comes from (at least 1).
    level_window : int, default 4
        Level: latest value in ``[t − level_window, t]``.
    use_extra : bool, optional
        Preferred (non-packaged) sources or shipped proxies, see :func:`choose_sources`.
    universe : {"all", "selected"}, default "all"
        Economies the treatment and normalisation run over.
    reference : {"pooled", "per_time"}, default "pooled"
        Normalisation reference (pooled: comparable over the years of the run).
    treat : bool, default True
        Outlier treatment before normalising.
    dat_thresh : float, default 0.6
        Share of children an aggregate needs.
    level_weight, momentum_weight : float, default 1
        Weights of the faces in the headline ``ECOM_DYN``.
    level_split, momentum_split : {"median", "mean"} or float, default "median"
        Thresholds of the zones (over the selected countries, each year).
    comparators : iterable of str, optional
        Replaces :data:`~brics_ecom.frameworks.DEFAULT_COMPARATORS` in the defaults.
    extra_data : str or path-like, optional
        Folder of the non-packaged sources, read when ``panel`` is None.

    Returns
    -------
    Result
        Scores and ranks over ``(unit, time, node)``: the 16 normalised indicators,
        ``Level``, ``Momentum`` and ``ECOM_DYN``. ``reports["state_momentum"]`` (Dataset)
        and ``reports["state_momentum_table"]`` (DataFrame, see :func:`quadrants`) hold
        the zones; ``reports["framework"]`` (also in ``scores.attrs``) the options, the
        sources, the proxies used and the indicators dropped for lack of data.

    Raises
    ------
    InvalidParameterError
        Bad options; years outside the panel.
    DataError
        Unknown countries (with close matches); years in which a face has too little
        data; preferred sources missing with ``use_extra=True``.

    Examples
    --------
    >>> from brics_ecom.frameworks import ecommerce_dynamism as dyn
    >>> res = dyn.build(years=range(2019, 2022))
    >>> res.scores.sizes["time"], res.spec.root
    (3, 'ECOM_DYN')
    """
    from ..datasets import load_brics_panel
    from ..errors import DataWarning
    from ..panel import validate

    func = "ecommerce_dynamism.build"
    check_choice(universe, _UNIVERSES, param="universe", func=func)
    check_number(dat_thresh, param="dat_thresh", func=func, low=0, high=1)
    if panel is None:
        panel = load_brics_panel(extra_data=extra_data)
    elif extra_data is not None:
        raise InvalidParameterError(
            f"{func}: extra_data= is only used to load the bundled panel; with panel= given, "
            "load the extra sources into it yourself (load_brics_panel(extra_data=...))."
        )
    panel = validate(panel)
    if "time" not in panel.dims:
        raise DataError(f"{func} needs a panel with a 'time' dim (integer years).")
    times = [int(t) for t in panel["time"].values]
    default = _default_year(panel) if years is None else times[-1]
    yrs = resolve_years(years, times, func=func, default=default)
    units = [str(u) for u in panel["unit"].values]
    chosen = resolve_countries(countries, units, year=yrs[-1], func=func, comparators=comparators)
    prepared = prepare(
        panel, years=yrs, window=window, level_window=level_window, use_extra=use_extra
    )
    if universe == "selected":
        attrs = dict(prepared.attrs)
        prepared = prepared.sel(unit=chosen)
        prepared.attrs = attrs
    _check_coverage(prepared, float(dat_thresh), func)
    proxies = list(prepared.attrs["proxies"])
    has = prepared.notnull().any(("unit", "time"))
    dropped = [str(c) for c, ok in zip(prepared["indicator"].values, has.values, strict=True)
               if not ok]  # fmt: skip
    if dropped:
        attrs = dict(prepared.attrs)
        prepared = prepared.sel(indicator=[c for c in prepared["indicator"].values
                                           if str(c) not in dropped])  # fmt: skip
        prepared.attrs = attrs
    bounds = None if momentum_quantiles is None else momentum_bounds(prepared, momentum_quantiles)
    pipe = pipeline(
        proxies=proxies, reference=reference, treat=treat, dat_thresh=dat_thresh,
        level_weight=level_weight, momentum_weight=momentum_weight, momentum_bounds=bounds,
    )  # fmt: skip
    if dropped:
        keep = [c for c in pipe.spec.indicators if c not in dropped]
        pipe = pipe.set(spec=pipe.spec.subset(keep))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        full = pipe.run(prepared)
    notes = [str(w.message) for w in caught if issubclass(w.category, DataWarning)]
    for w in caught:  # recorded in the report, and still shown
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    result = select_units(full, chosen)
    assert result.scores is not None  # the pipeline aggregates
    states, table = _state_table(result.scores, level_split, momentum_split)
    info = {
        "framework": NAME,
        "title": TITLE,
        "sources": dict(prepared.attrs["sources"]),
        "proxies": dict(prepared.attrs["proxies"]),
        "proxy_note": (
            "shipped proxies used for concepts whose preferred source is not in the panel: "
            + ", ".join(f"{c} -> {code}" for c, code in prepared.attrs["proxies"].items())
            if proxies
            else "all preferred sources used"
        ),
        "dropped_indicators": dropped,
        "window": int(window),
        "level_window": int(level_window),
        "universe": universe,
        "universe_units": int(prepared.sizes["unit"]),
        "reference": reference,
        "momentum_bounds": bounds,
        "treat": bool(treat),
        "dat_thresh": float(dat_thresh),
        "countries": list(chosen),
        "years": list(yrs),
        "pipeline_notes": notes,
        "data_as_of": panel.attrs.get("data_as_of", ""),
        "attribution": panel.attrs.get("attribution", ""),
    }
    result.reports["framework"] = info
    result.reports["state_momentum"] = states
    result.reports["state_momentum_table"] = table
    call = describe_call(
        "frameworks.ecommerce_dynamism.build",
        {"countries": chosen, "years": yrs, "window": window, "level_window": level_window,
         "universe": universe, "reference": reference, "proxies": proxies},
    )  # fmt: skip
    result.scores.attrs.update(
        {k: v for k, v in info.items() if k not in ("countries", "pipeline_notes")}
    )
    result.scores.attrs["history"] = [*result.scores.attrs.get("history", []), call]
    return result
