r"""The UNCTAD B2C E-commerce Index (2017 and later editions).

UNCTAD's index follows the steps of an online purchase. It is the simple mean of four
components, each on 0–100:

=============  ===========================================================  =============
node           component                                                    panel code
=============  ===========================================================  =============
``internet``   share of individuals using the Internet (% of population)    ``IT.NET.USER.ZS``
``account``    share of individuals with an account (% age 15+, Findex)     ``account_t``
``servers``    secure Internet servers per million people, normalised       ``IT.NET.SECR.P6``
``postal``     UPU postal reliability score (0–100)                         ``postal=``
=============  ===========================================================  =============

**Secure servers.** The count per million people is highly skewed (from under 1 to over
250 000 in 2019), so it is log-transformed and then min-max scaled to 0–100 over the
economies of the year (``servers="log_minmax"``, the default):

.. math::

   s_c = 100\,\frac{\ln x_c - \min_j \ln x_j}{\max_j \ln x_j - \min_j \ln x_j},

the minimum and maximum running over every economy with data in that year (the *universe*,
``universe="all"``) or over the selected countries only (``universe="selected"``). The base
of the logarithm does not matter. ``servers="minmax"`` drops the log. UNCTAD's 2015 report
says the server data are "normalized to 100 by rescaling"; on the bundled WDI data the log
min-max over all economies gives India 49.1 in 2019, where the 2020 edition prints 49 (see
``docs/framework-unctad-b2c.md``). :func:`normalise_servers` is the formula on its own.

**Postal reliability.** The UPU score is not public, so it is neither in the bundled nor in
the project's data. Pass it with ``postal=`` (a mapping ``{ISO3: score}``, a pandas Series
indexed by unit or ``(unit, time)``, or a DataArray over ``unit`` and optionally
``time``). Without it, :func:`build` computes the **three-component variant** (the mean of
internet, account and servers; root node ``B2C_3``), which is *not* UNCTAD's index.

**Years and missing data.** For the index of year ``t`` every component takes its latest
value in ``[t − window, t]`` ("2019 or latest"; ``window=4``, the longest gap between
two Findex surveys, so the latest survey is always found). Secure servers, an annual
series normalised over the economies of the year, are those of year ``t`` itself, as in
UNCTAD's tables. As UNCTAD does, only economies with every component get an index
(``dat_thresh=1``).

Examples
--------
>>> from brics_ecom.frameworks import unctad_b2c
>>> res = unctad_b2c.build(countries=["BRA", "IND", "ZAF"], years=2021)
>>> table = res.table(2021)  # best first; B2C_3: the variant without the UPU score
>>> table["B2C_3"].round(1).to_dict()
{'ZAF': 75.5, 'BRA': 73.9, 'IND': 55.1}
>>> res.scores.sel(unit="IND", time=2021, node="account").item()  # Findex 2021
78.0
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
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
    resolve_countries,
    resolve_years,
    select_units,
)

__all__ = [
    "COMPONENTS",
    "NAME",
    "SERVER_METHODS",
    "SOURCES",
    "TITLE",
    "build",
    "describe",
    "normalise_servers",
    "pipeline",
    "prepare",
    "spec",
]

NAME = "unctad_b2c"
TITLE = "UNCTAD B2C E-commerce Index"

#: The component nodes, in UNCTAD's order.
COMPONENTS: tuple[str, ...] = ("internet", "account", "servers", "postal")
#: Panel code of each component read from the data (``postal`` is user-supplied).
SOURCES: Mapping[str, str] = {
    "internet": "IT.NET.USER.ZS",
    "account": "account_t",
    "servers": "IT.NET.SECR.P6",
}
#: How secure servers are normalised: log then min-max (UNCTAD), or min-max of the counts.
SERVER_METHODS: tuple[str, ...] = ("log_minmax", "minmax")
_UNIVERSES = ("all", "selected")
_VARIANT_NOTE = (
    "three-component variant (internet, account, servers) computed without the UPU postal "
    "reliability score: NOT UNCTAD's B2C E-commerce Index, whose fourth component is the "
    "UPU score"
)


def _check_variant(components: Any, servers: Any, func: str) -> None:
    if components not in (3, 4) or isinstance(components, bool):
        raise InvalidParameterError(
            f"The 'components' parameter of {func} must be 4 (UNCTAD's index, needs postal=) "
            f"or 3 (the variant without the UPU score); got {components!r}."
        )
    check_choice(servers, SERVER_METHODS, param="servers", func=func)


def spec(*, components: int = 4, servers: str = "log_minmax") -> IndexSpec:
    """The index tree.

    Parameters
    ----------
    components : {4, 3}, default 4
        4: UNCTAD's index (root ``B2C``); 3: the variant without the UPU postal score
        (root ``B2C_3``, not UNCTAD's index).
    servers : {"log_minmax", "minmax"}, default "log_minmax"
        Whether the servers node holds the log of the count (UNCTAD) or the count itself;
        both are then min-max scaled to 0–100.

    Returns
    -------
    IndexSpec

    Examples
    --------
    >>> from brics_ecom.frameworks import unctad_b2c
    >>> unctad_b2c.spec().weights
    {'internet': 1.0, 'account': 1.0, 'servers': 1.0, 'postal': 1.0, 'B2C': 1.0}
    >>> unctad_b2c.spec(components=3).root
    'B2C_3'
    """
    from dataclasses import replace

    _check_variant(components, servers, "unctad_b2c.spec")
    tree = load_spec(NAME)
    nodes = list(tree.nodes)
    if servers == "minmax":
        nodes = [
            replace(n, unit="secure servers per million people") if n.code == "servers" else n
            for n in nodes
        ]
    if components == 4:
        return IndexSpec(nodes, name=tree.name)
    root = "B2C_3"
    nodes = [
        replace(
            n, code=root, name="B2C e-commerce readiness, three components (not UNCTAD's index)"
        )
        if n.code == "B2C"
        else replace(n, parent=root)
        for n in nodes
        if n.code != "postal"
    ]
    return IndexSpec(nodes, name=f"{tree.name}: {_VARIANT_NOTE}")


def pipeline(
    *, components: int = 4, servers: str = "log_minmax", dat_thresh: float = 1.0
) -> Pipeline:
    """The steps run on the prepared panel (see :func:`prepare`).

    Normalisation follows the per-node overrides of the YAML tree: the shares are
    already on 0–100 (``goalposts`` 0–100, the identity up to rounding) and the servers
    node is min-max scaled to 0–100 over the units of each year. The index is the
    arithmetic mean of the components.

    Parameters
    ----------
    components, servers
        As in :func:`spec`.
    dat_thresh : float, default 1.0
        Share of components an economy needs for an index (1: all of them, as UNCTAD).

    Examples
    --------
    >>> import xarray as xr
    >>> from brics_ecom.frameworks import unctad_b2c
    >>> comp = xr.DataArray([[[34.0, 80.0, 49.0, 65.0]]], dims=("unit", "time", "indicator"),
    ...                     coords={"unit": ["IND"], "time": [2019],
    ...                             "indicator": list(unctad_b2c.COMPONENTS)})
    >>> res = unctad_b2c.pipeline().run(comp, from_step="aggregate")  # published components
    >>> round(float(res.scores.sel(unit="IND", time=2019, node="B2C")), 1)
    57.0
    """
    check_number(dat_thresh, param="dat_thresh", func="unctad_b2c.pipeline", low=0, high=1)
    return Pipeline(
        spec(components=components, servers=servers),
        [
            ("normalise", {"method": "minmax", "reference": "per_time"}),
            ("aggregate", {"method": "arithmetic", "dat_thresh": float(dat_thresh)}),
        ],
    )


def describe() -> pd.DataFrame:
    """The components: source, licence and why each is there.

    Examples
    --------
    >>> from brics_ecom.frameworks import unctad_b2c
    >>> bool(unctad_b2c.describe().loc["postal", "shipped"])
    False
    """
    from . import _describe_from_yaml

    return _describe_from_yaml(NAME)


def normalise_servers(
    servers: xr.DataArray, *, method: str = "log_minmax", dim: str = "unit"
) -> xr.DataArray:
    r"""Secure servers per million people on 0–100, as in UNCTAD's index.

    ``log_minmax``: :math:`100\,(\ln x - \min \ln x)/(\max \ln x - \min \ln x)`;
    ``minmax``: the same on :math:`x`. Minimum and maximum run over ``dim`` (the economies)
    and are taken separately for every other coordinate (each year). Values ≤ 0 have no
    log and give NaN (as do missing values).

    Parameters
    ----------
    servers : xarray.DataArray
        Secure servers per million people, with dim ``dim``.
    method : {"log_minmax", "minmax"}
    dim : str, default "unit"

    Returns
    -------
    xarray.DataArray

    Examples
    --------
    >>> import xarray as xr
    >>> from brics_ecom.frameworks.unctad_b2c import normalise_servers
    >>> x = xr.DataArray([1.0, 10.0, 100.0, 1000.0], dims="unit", coords={"unit": list("abcd")})
    >>> normalise_servers(x).round(6).values.tolist()
    [0.0, 33.333333, 66.666667, 100.0]
    >>> normalise_servers(x, method="minmax").round(6).values.tolist()
    [0.0, 0.900901, 9.90991, 100.0]
    """
    check_choice(method, SERVER_METHODS, param="method", func="normalise_servers")
    if not isinstance(servers, xr.DataArray) or dim not in servers.dims:
        raise InvalidParameterError(
            f"normalise_servers needs a DataArray with the dim {dim!r}; got "
            f"{type(servers).__name__}."
        )
    x: xr.DataArray = servers
    if method == "log_minmax":
        x = xr.apply_ufunc(np.log, servers.where(servers > 0))
    lo, hi = x.min(dim), x.max(dim)
    return 100.0 * (x - lo) / (hi - lo)


# ---------------------------------------------------------------------------- data
def _postal_array(
    postal: Any, units: Sequence[str], times: Sequence[int], func: str
) -> xr.DataArray:
    """The user's UPU scores as a ``(unit, time)`` array over the panel's units and times."""
    if isinstance(postal, xr.DataArray):
        da = postal
        extra = [d for d in da.dims if d not in ("unit", "time")]
        if "unit" not in da.dims or extra:
            raise InvalidParameterError(
                f"The 'postal' parameter of {func} must be a DataArray over 'unit' (and "
                f"optionally 'time'); got dims {da.dims}."
            )
    elif isinstance(postal, pd.Series):
        if postal.index.nlevels == 2:
            da = xr.DataArray.from_series(postal.rename_axis(["unit", "time"]))
        else:
            da = xr.DataArray.from_series(postal.rename_axis("unit"))
    elif isinstance(postal, Mapping):
        da = xr.DataArray([v for v in postal.values()], dims="unit", coords={"unit": list(postal)})
    else:
        raise InvalidParameterError(
            f"The 'postal' parameter of {func} must be a mapping {{ISO3: score}}, a pandas "
            f"Series or an xarray DataArray of UPU postal reliability scores; got "
            f"{type(postal).__name__}."
        )
    try:
        da = da.astype(np.float64)
    except (TypeError, ValueError):
        raise DataError(
            f"{func}: the postal reliability scores must be numbers; got {da.values!r}."
        ) from None
    labels = [str(u) for u in da["unit"].values]
    da = da.assign_coords(unit=labels)
    unknown = sorted(set(labels) - set(units))
    if unknown:
        raise DataError(
            f"{func}: postal scores are given for units {unknown} that are not in the panel; "
            "use the panel's ISO3 codes."
        )
    bad = (da < 0) | (da > 100)
    if bool(bad.any()):
        culprits = sorted({str(u) for u in da.where(bad, drop=True)["unit"].values})
        raise DataError(
            f"{func}: postal reliability scores must lie in [0, 100]; units {culprits} are "
            "outside (the UPU score is on 0-100)."
        )
    if "time" in da.dims:
        da = da.assign_coords(time=[int(t) for t in da["time"].values])
        da = da.reindex(unit=list(units), time=list(times))
    else:
        da = da.reindex(unit=list(units)).expand_dims(time=list(times), axis=1)
    return da.transpose("unit", "time")


def _drop_indicator_coords(panel: xr.DataArray) -> xr.DataArray:
    extra = [c for c in panel.coords if c != "indicator" and "indicator" in panel[c].dims]
    return panel.drop_vars(extra)


def _checked_panel(panel: xr.DataArray, func: str) -> tuple[xr.DataArray, list[int]]:
    """The validated panel and its years; it needs a ``time`` dim and every source."""
    from ..panel import validate

    panel = validate(panel)
    if "time" not in panel.dims:
        raise DataError(f"{func} needs a panel with a 'time' dim (integer years).")
    present = {str(c) for c in panel["indicator"].values}
    missing = [code for code in SOURCES.values() if code not in present]
    if missing:
        raise DataError(
            f"{func}: the panel lacks the indicators {missing} of UNCTAD's B2C index; load them "
            "with brics_ecom.datasets.load_brics_panel()."
        )
    return panel, [int(t) for t in panel["time"].values]


def prepare(
    panel: xr.DataArray,
    *,
    years: int | Iterable[int],
    postal: Any = None,
    servers: str = "log_minmax",
    window: int = 4,
) -> xr.DataArray:
    """The panel the pipeline runs on: one value per component, unit and year.

    Each component is renamed to its node code (``internet``, ``account``, ``servers``
    and, with ``postal=``, ``postal``). Internet, account and postal take their latest
    value in ``[t − window, t]``, servers the value of year ``t``, whose natural log is
    taken (``servers="log_minmax"``; values ≤ 0 become NaN). Every unit of ``panel`` is
    kept: it is the universe the servers are normalised over.

    Parameters
    ----------
    panel : xarray.DataArray
        A panel holding ``IT.NET.USER.ZS``, ``account_t`` and ``IT.NET.SECR.P6``.
    years : int or iterable of int
        Years of the index (labels of the panel's ``time``).
    postal : mapping, pandas.Series or xarray.DataArray, optional
        UPU postal reliability scores (0–100), see the module docstring.
    servers : {"log_minmax", "minmax"}
    window : int, default 4
        How many years back a missing value may be taken from (not for servers, which
        are those of the year).

    Returns
    -------
    xarray.DataArray
        ``(unit, time, indicator)``, with a ``source_time`` coordinate giving the year each
        value comes from.

    Examples
    --------
    >>> from brics_ecom import datasets
    >>> from brics_ecom.frameworks import unctad_b2c
    >>> p = datasets.load_brics_panel(countries=["IND", "BRA"])
    >>> prep = unctad_b2c.prepare(p, years=2019)
    >>> prep.sel(unit="IND", time=2019, indicator="account").item()  # Findex 2017
    80.0
    >>> int(prep["source_time"].sel(unit="IND", time=2019, indicator="account"))
    2017
    """
    from .. import groups

    func = "unctad_b2c.prepare"
    check_choice(servers, SERVER_METHODS, param="servers", func=func)
    check_number(window, param="window", func=func, low=0, integer=True)
    panel, times = _checked_panel(panel, func)
    yrs = resolve_years(years, times, func=func, default=times[-1])
    units = [str(u) for u in panel["unit"].values]
    work = _drop_indicator_coords(panel.sel(indicator=list(SOURCES.values())))
    work = work.drop_vars([c for c in work.coords if "time" in work[c].dims and c != "time"])
    work = work.assign_coords(indicator=list(SOURCES))
    if postal is not None:
        extra = _postal_array(postal, units, times, func)
        extra = extra.expand_dims(indicator=["postal"], axis=-1)
        work = xr.concat([work, extra], dim="indicator", coords="minimal", compat="override")
    # the survey-based components take their latest value within the window; servers, an
    # annual series whose min-max runs over the economies of the year, take that year's
    others = [c for c in work["indicator"].values.tolist() if c != "servers"]
    values = xr.concat(
        [latest_by_year(work.sel(indicator=["servers"]), yrs, 0),
         latest_by_year(work.sel(indicator=others), yrs, int(window))],
        dim="indicator",
    ).sel(indicator=work["indicator"].values.tolist())  # fmt: skip
    if servers == "log_minmax":
        x = values.sel(indicator="servers")
        logged = np.log(x.where(x > 0))
        values = values.copy()
        values.loc[{"indicator": "servers"}] = logged
    values = groups.add_group_coord(values, "BRICS")
    values.name = "value"
    values.attrs = {
        "title": "UNCTAD B2C E-commerce Index: prepared components",
        "sources": {str(c): SOURCES.get(str(c), "postal=") for c in values["indicator"].values},
        "servers": servers,
        "window": int(window),
        "history": [
            *panel.attrs.get("history", []),
            describe_call(func, {"years": yrs, "servers": servers, "window": window,
                                 "postal": None if postal is None else "<given>"}),
        ],
    }  # fmt: skip
    return values


# ---------------------------------------------------------------------------- build
def _default_year(panel: xr.DataArray) -> int:
    """The last year with any secure-server data (the annual series of the index)."""
    code = SOURCES["servers"]
    x = panel.sel(indicator=code)
    has = x.notnull().any("unit")
    years = [int(t) for t, ok in zip(panel["time"].values, has.values, strict=True) if ok]
    if not years:
        raise DataError(f"unctad_b2c.build: the panel has no data for {code}.")
    return years[-1]


def _check_coverage(prepared: xr.DataArray, codes: Sequence[str], func: str) -> None:
    """Raise naming the components that have no data at all in some years."""
    has = prepared.sel(indicator=list(codes)).notnull().any("unit")  # (time, indicator)
    gaps = {}
    for code in codes:
        ok = has.sel(indicator=code).values
        empty = [int(t) for t, o in zip(prepared["time"].values, ok, strict=True) if not o]
        if empty:
            gaps[f"{code} ({SOURCES.get(code, 'postal=')})"] = empty
    if gaps:
        raise DataError(
            f"{func}: no economy has data for these components in these years (servers: that "
            f"year; the others: up to {prepared.attrs['window']} years back): {gaps}. Choose "
            "other years or a larger window=."
        )


def build(
    panel: xr.DataArray | None = None,
    *,
    countries: str | Iterable[str] | None = None,
    years: int | Iterable[int] | None = None,
    postal: Any = None,
    components: int | None = None,
    servers: str = "log_minmax",
    window: int = 4,
    universe: str = "all",
    comparators: Iterable[str] | None = None,
    dat_thresh: float = 1.0,
    extra_data: str | os.PathLike[str] | None = None,
) -> Result:
    """Compute the UNCTAD B2C E-commerce Index (or its three-component variant).

    Parameters
    ----------
    panel : xarray.DataArray, optional
        The data (default: the bundled :func:`~brics_ecom.datasets.load_brics_panel`).
    countries : str or iterable of str, optional
        ISO3 codes, names or group names; default: the BRICS members in the last year
        plus :data:`brics_ecom.frameworks.DEFAULT_COMPARATORS`. Ranks are among these.
    years : int or iterable of int, optional
        Years of the index (default: the last year with secure-server data).
    postal : mapping, pandas.Series or xarray.DataArray, optional
        UPU postal reliability scores (0–100). Without them the result is the
        three-component variant, which is not UNCTAD's index.
    components : {4, 3}, optional
        Default: 4 if ``postal`` is given, else 3.
    servers : {"log_minmax", "minmax"}, default "log_minmax"
        Normalisation of secure servers (see :func:`normalise_servers`).
    window : int, default 4
        Years back a missing value may come from ("2019 or latest"); servers are always
        those of the year.
    universe : {"all", "selected"}, default "all"
        Economies the servers are min-max scaled over: every economy of the panel with
        data (as UNCTAD), or the selected countries only.
    comparators : iterable of str, optional
        Replaces :data:`~brics_ecom.frameworks.DEFAULT_COMPARATORS` in the default
        countries.
    dat_thresh : float, default 1.0
        Share of components an economy needs for an index.
    extra_data : str or path-like, optional
        Passed to :func:`~brics_ecom.datasets.load_brics_panel` when ``panel`` is None.

    Returns
    -------
    Result
        Scores and ranks over ``(unit, time, node)`` for the selected countries; nodes are
        the components (0–100) and the index (``B2C``, or ``B2C_3`` for the variant).
        ``reports["framework"]`` records the options, sources, universe and variant
        (also in ``scores.attrs``); ``reports["source_time"]`` the year each value is
        from.

    Raises
    ------
    InvalidParameterError
        Bad options (e.g. ``components=4`` without ``postal``), years outside the panel.
    DataError
        Unknown countries (with close matches), missing indicators, years without data,
        postal scores outside [0, 100] or for unknown units.

    Examples
    --------
    >>> from brics_ecom.frameworks import unctad_b2c
    >>> res = unctad_b2c.build(countries=["IND"], years=2019, postal={"IND": 65.0})
    >>> round(float(res.scores.sel(unit="IND", time=2019, node="servers")))  # published: 49
    49
    """
    from ..datasets import load_brics_panel

    func = "unctad_b2c.build"
    if components is None:
        components = 3 if postal is None else 4
    _check_variant(components, servers, func)
    check_choice(universe, _UNIVERSES, param="universe", func=func)
    if components == 4 and postal is None:
        raise InvalidParameterError(
            f"{func}: components=4 (UNCTAD's index) needs the UPU postal reliability scores, "
            "which are not public: pass postal={ISO3: score}, or use components=3 for the "
            "three-component variant."
        )
    if components == 3 and postal is not None:
        raise InvalidParameterError(
            f"{func}: postal= was given with components=3; drop one of them (components=4 "
            "uses the postal scores)."
        )
    if panel is None:
        panel = load_brics_panel(extra_data=extra_data)
    elif extra_data is not None:
        raise InvalidParameterError(
            f"{func}: extra_data= is only used to load the bundled panel; with panel= given, "
            "load the extra sources into it yourself."
        )
    panel, times = _checked_panel(panel, func)
    default = _default_year(panel) if years is None else times[-1]
    yrs = resolve_years(years, times, func=func, default=default)
    units = [str(u) for u in panel["unit"].values]
    chosen = resolve_countries(countries, units, year=yrs[-1], func=func, comparators=comparators)
    prepared = prepare(panel, years=yrs, postal=postal, servers=servers, window=window)
    tree = spec(components=components, servers=servers)
    _check_coverage(prepared, tree.indicators, func)
    if universe == "selected":
        attrs = dict(prepared.attrs)
        prepared = prepared.sel(unit=chosen)
        prepared.attrs = attrs
    pipe = pipeline(components=components, servers=servers, dat_thresh=dat_thresh)
    full = pipe.run(prepared)
    result = select_units(full, chosen)
    info = {
        "framework": NAME,
        "title": TITLE if components == 4 else f"{TITLE}: {_VARIANT_NOTE}",
        "variant": "UNCTAD (4 components)" if components == 4 else _VARIANT_NOTE,
        "components": int(components),
        "sources": {
            code: SOURCES.get(code, "postal= (UPU, user-supplied)") for code in tree.indicators
        },
        "servers": servers,
        "window": int(window),
        "universe": universe,
        "universe_units": int(prepared.sizes["unit"]),
        "countries": list(chosen),
        "years": list(yrs),
        "dat_thresh": float(dat_thresh),
        "data_as_of": panel.attrs.get("data_as_of", ""),
        "attribution": panel.attrs.get("attribution", ""),
    }
    result.reports["framework"] = info
    result.reports["source_time"] = prepared["source_time"].sel(unit=chosen).reset_coords(drop=True)
    assert result.scores is not None  # the pipeline aggregates
    call = describe_call(
        "frameworks.unctad_b2c.build",
        {"countries": chosen, "years": yrs, "components": components, "servers": servers,
         "window": window, "universe": universe},
    )  # fmt: skip
    result.scores.attrs.update({k: v for k, v in info.items() if k != "countries"})
    result.scores.attrs["history"] = [*result.scores.attrs.get("history", []), call]
    return result
