"""Built-in composite indices ("frameworks"): one YAML tree and one thin builder each.

A framework is a ready-made index for the three themes of the 2017 BRICS E-commerce
Cooperation Initiative: e-commerce dynamism, MSME participation and the digital divide.
:func:`available` lists them, :func:`build` computes one on the bundled BRICS+ panel (or on
your own), :func:`spec` and :func:`pipeline` give its tree and its steps, and
:func:`describe` tells which indicators it uses, where they come from and why.

The contract
------------
A framework called ``NAME`` is two files in this package, and nothing else:

``NAME.yaml``
    The index tree in the YAML of :meth:`brics_ecom.spec.IndexSpec.to_yaml`: ``name`` and
    ``nodes`` (codes, names, levels, parents, kinds, directions, weights, units, per-node
    step overrides). An optional top-level mapping ``framework`` holds metadata that
    :class:`~brics_ecom.spec.IndexSpec` ignores: ``title``, ``summary``, ``references``
    and ``indicators``, one entry per indicator node with ``source`` (the panel code),
    optionally ``proxy`` (the shipped code used when ``source`` is not in the data),
    ``licence``, ``transform`` and ``why`` (the reason the indicator is there). Read it
    with :func:`load_spec` and :func:`metadata`.

``NAME.py``
    A module exposing

    * ``NAME`` (str): equal to the module name;
    * ``TITLE`` (str): the long name;
    * ``spec(**options) -> IndexSpec``: the tree for these options;
    * ``pipeline(**options) -> Pipeline``: the steps run on the framework's prepared panel;
    * ``build(panel=None, *, countries=None, years=None, **options) -> Result``: the
      whole index; ``panel=None`` means the bundled
      :func:`~brics_ecom.datasets.load_brics_panel`, ``countries=None`` the current BRICS
      members plus :data:`DEFAULT_COMPARATORS` (see :func:`default_countries`);
    * optionally ``describe() -> pandas.DataFrame`` (otherwise :func:`describe` builds the
      table from the YAML's ``framework.indicators``).

    Unknown options raise :class:`~brics_ecom.errors.InvalidParameterError` naming them.

The functions of this package import ``brics_ecom.frameworks.NAME`` lazily, by name
(:mod:`importlib`), and :func:`available` lists the modules present in the package, so a
new framework plugs in by adding its two files: this file is never edited. The helpers
below (:func:`load_spec`, :func:`metadata`, :func:`default_countries`,
:func:`resolve_countries`, :func:`resolve_years`, :func:`latest_by_year`,
:func:`select_units`, :func:`check_options`) are shared by the framework modules.

Examples
--------
>>> from brics_ecom import frameworks
>>> "unctad_b2c" in frameworks.available()
True
>>> frameworks.spec("unctad_b2c").indicators
('internet', 'account', 'servers', 'postal')
>>> res = frameworks.build("unctad_b2c", countries=["BRA", "IND"], years=2021)
>>> sorted(res.scores["unit"].values.tolist())
['BRA', 'IND']
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from collections.abc import Hashable, Iterable, Mapping, Sequence
from functools import lru_cache
from importlib import resources
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import DataError, InvalidParameterError

if TYPE_CHECKING:
    import xarray as xr

    from ..pipeline import Pipeline
    from ..results import Result
    from ..spec import IndexSpec

__all__ = [
    "DEFAULT_COMPARATORS",
    "available",
    "build",
    "check_options",
    "default_countries",
    "describe",
    "latest_by_year",
    "load_spec",
    "metadata",
    "pipeline",
    "resolve_countries",
    "resolve_years",
    "select_units",
    "spec",
]

#: Comparator economies added to the BRICS members when ``countries`` is not given: the G7
#: and six large emerging or upper-income economies often set beside the BRICS (Argentina,
#: Indonesia, Korea, Mexico, Saudi Arabia, Türkiye). Economies that are BRICS members in
#: the year of the index (Indonesia from 2025) count as members, not comparators. Change
#: the set for one call with ``comparators=``, or for the session by assigning a new tuple
#: to ``brics_ecom.frameworks.DEFAULT_COMPARATORS`` (it is read at call time).
DEFAULT_COMPARATORS: tuple[str, ...] = (
    "CAN", "DEU", "FRA", "GBR", "ITA", "JPN", "USA",
    "ARG", "IDN", "KOR", "MEX", "SAU", "TUR",
)  # fmt: skip


# ---------------------------------------------------------------------------- discovery
def available() -> list[str]:
    """Names of the frameworks found in this package, sorted.

    A framework is any public module of :mod:`brics_ecom.frameworks` (see the contract in
    the module docstring); nothing is imported to list them.

    Returns
    -------
    list of str

    Examples
    --------
    >>> from brics_ecom import frameworks
    >>> {"unctad_b2c", "ecommerce_dynamism"} <= set(frameworks.available())
    True
    """
    return sorted(
        info.name
        for info in pkgutil.iter_modules(__path__)
        if not info.name.startswith("_") and not info.ispkg
    )


def _module(name: Any, func: str) -> ModuleType:
    """Import the framework module ``name`` (lazily), or raise listing the valid names."""
    names = available()
    if not isinstance(name, str) or name not in names:
        close = difflib.get_close_matches(str(name), names, n=3, cutoff=0.5)
        hint = f" Did you mean {close}?" if close else ""
        raise InvalidParameterError(
            f"The 'name' parameter of frameworks.{func} must be one of {names}; got {name!r}.{hint}"
        )
    return importlib.import_module(f"{__name__}.{name}")


def _call(name: Any, what: str, *args: Any, **options: Any) -> Any:
    """Call ``<framework>.<what>``, first checking ``options`` against its signature."""
    import inspect

    func = getattr(_module(name, what), what)
    params = inspect.signature(func).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    if not takes_any:
        valid = [
            k for k, p in params.items()
            if p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        ]  # fmt: skip
        bad = sorted(set(options) - set(valid))
        if bad:
            close = {b: difflib.get_close_matches(b, valid, n=2) for b in bad}
            raise InvalidParameterError(
                f"frameworks.{what}({name!r}) got unknown option(s) {bad} (close matches: "
                f"{close}); its options are {valid}."
            )
    return func(*args, **options)


def build(
    name: str,
    panel: xr.DataArray | None = None,
    *,
    countries: str | Iterable[str] | None = None,
    years: int | Iterable[int] | None = None,
    **options: Any,
) -> Result:
    """Compute the framework ``name``.

    Parameters
    ----------
    name : str
        One of :func:`available`.
    panel : xarray.DataArray, optional
        The data (default: the bundled :func:`~brics_ecom.datasets.load_brics_panel`).
    countries : str or iterable of str, optional
        ISO3 codes, country names or group names (``"BRICS"``, ``"G7"``, ...). Default:
        the BRICS members in the last year of ``years`` plus :data:`DEFAULT_COMPARATORS`.
    years : int or iterable of int, optional
        The years of the index (default: set by the framework, usually the latest year
        with data).
    **options
        The framework's own options (see its module).

    Returns
    -------
    Result
        Scores and ranks over ``(unit, time, node)``, every step's data and reports.

    Raises
    ------
    InvalidParameterError
        Unknown framework (the message lists the valid names) or option.
    DataError
        Unknown countries (with close matches), years without data.

    Examples
    --------
    >>> from brics_ecom import frameworks
    >>> res = frameworks.build("unctad_b2c", countries="BRICS", years=2021)
    >>> res.spec.root
    'B2C_3'
    """
    return _call(name, "build", panel, countries=countries, years=years, **options)


def spec(name: str, **options: Any) -> IndexSpec:
    """The index tree of framework ``name`` for ``options``.

    Examples
    --------
    >>> from brics_ecom import frameworks
    >>> frameworks.spec("ecommerce_dynamism").children("ECOM_DYN")
    ('Level', 'Momentum')
    """
    return _call(name, "spec", **options)


def pipeline(name: str, **options: Any) -> Pipeline:
    """The pipeline (steps and tree) of framework ``name`` for ``options``.

    Examples
    --------
    >>> from brics_ecom import frameworks
    >>> [s.name for s in frameworks.pipeline("unctad_b2c").steps]
    ['normalise', 'aggregate']
    """
    return _call(name, "pipeline", **options)


def describe(name: str) -> pd.DataFrame:
    """What framework ``name`` measures: one row per indicator, with its source and why.

    Parameters
    ----------
    name : str
        One of :func:`available`.

    Returns
    -------
    pandas.DataFrame
        Indexed by indicator code, with columns ``name``, ``parent``, ``weight``,
        ``direction``, ``unit``, ``source`` (the panel code), ``proxy`` (the shipped code
        used when ``source`` is missing), ``licence``, ``shipped`` and ``why``.
        ``attrs`` holds the framework's ``title`` and ``summary``.

    Examples
    --------
    >>> from brics_ecom import frameworks
    >>> d = frameworks.describe("unctad_b2c")
    >>> d.loc["internet", "source"], d.loc["internet", "licence"]
    ('IT.NET.USER.ZS', 'CC BY 4.0')
    """
    module = _module(name, "describe")
    own = getattr(module, "describe", None)
    if callable(own):
        return own()
    return _describe_from_yaml(name)


# ---------------------------------------------------------------------------- YAML files
@lru_cache(maxsize=32)
def _yaml_text(name: str) -> str:
    path = resources.files(__name__).joinpath(f"{name}.yaml")
    if not path.is_file():
        raise InvalidParameterError(
            f"Framework {name!r} has no YAML file {name}.yaml in brics_ecom/frameworks/; "
            "every framework needs one (see the contract in brics_ecom.frameworks)."
        )
    return path.read_text(encoding="utf-8")


def load_spec(name: str) -> IndexSpec:
    """The :class:`~brics_ecom.spec.IndexSpec` stored in ``frameworks/<name>.yaml``.

    Examples
    --------
    >>> from brics_ecom import frameworks
    >>> frameworks.load_spec("unctad_b2c").root
    'B2C'
    """
    from ..spec import IndexSpec

    return IndexSpec.from_yaml(_yaml_text(name))


def metadata(name: str) -> dict[str, Any]:
    """The ``framework`` section of ``frameworks/<name>.yaml`` (a fresh copy).

    Examples
    --------
    >>> from brics_ecom import frameworks
    >>> frameworks.metadata("unctad_b2c")["indicators"]["servers"]["source"]
    'IT.NET.SECR.P6'
    """
    import copy

    from ..spec import read_yaml

    data = read_yaml(_yaml_text(name), what=f"framework {name!r}")
    return copy.deepcopy(dict(data.get("framework") or {}))


def _describe_from_yaml(name: str) -> pd.DataFrame:
    from ..datasets import brics_indicators

    tree = load_spec(name)
    meta = metadata(name)
    info = meta.get("indicators", {})
    known = brics_indicators()
    rows = []
    for code in tree.indicators:
        node = tree.node(code)
        entry = dict(info.get(code, {}))
        source = entry.get("source", code)
        licence = entry.get("licence")
        shipped = entry.get("shipped")
        if source in known.index:
            licence = licence or known.loc[source, "licence"]
            shipped = bool(known.loc[source, "shipped"]) if shipped is None else shipped
        rows.append(
            {
                "code": code,
                "name": node.name or code,
                "parent": node.parent,
                "weight": node.weight,
                "direction": node.direction,
                "unit": node.unit,
                "source": source,
                "proxy": entry.get("proxy"),
                "licence": licence,
                "shipped": shipped,
                "why": " ".join(str(entry.get("why", "")).split()),
            }
        )
    table = pd.DataFrame(rows).set_index("code")
    table.attrs = {"title": meta.get("title", name), "summary": meta.get("summary", "")}
    return table


# ---------------------------------------------------------------------------- helpers
def check_options(options: Mapping[str, Any], valid: Iterable[str], *, func: str) -> None:
    """Raise naming the options of ``func`` that are not in ``valid``.

    Examples
    --------
    >>> check_options({"window": 3}, ["window"], func="unctad_b2c.build")
    """
    valid = sorted(valid)
    bad = sorted(set(options) - set(valid))
    if bad:
        raise InvalidParameterError(f"{func} got unknown option(s) {bad}; valid options: {valid}.")


def default_countries(
    year: int | None = None, *, comparators: Iterable[str] | None = None
) -> list[str]:
    """The BRICS members in ``year`` followed by the comparators that are not members.

    Parameters
    ----------
    year : int, optional
        Membership year (default: the current membership).
    comparators : iterable of str, optional
        ISO3 codes (default: :data:`DEFAULT_COMPARATORS`, read at call time).

    Examples
    --------
    >>> from brics_ecom.frameworks import default_countries
    >>> default_countries(2023, comparators=["USA", "MEX"])
    ['BRA', 'CHN', 'IND', 'RUS', 'ZAF', 'USA', 'MEX']
    >>> "IDN" in default_countries(2025)[:10]  # a member from 2025, listed with them
    True
    """
    from .. import groups

    chosen = DEFAULT_COMPARATORS if comparators is None else comparators
    if isinstance(chosen, str) or not isinstance(chosen, Iterable):
        raise InvalidParameterError(
            f"The 'comparators' parameter must be an iterable of ISO3 codes; got {chosen!r}."
        )
    members = groups.members("BRICS", year)
    return [*members, *(c for c in dict.fromkeys(chosen) if c not in members)]


def resolve_countries(
    countries: str | Iterable[str] | None,
    units: Sequence[Hashable],
    *,
    year: int | None,
    func: str,
    comparators: Iterable[str] | None = None,
) -> list[str]:
    """Turn ``countries`` into ISO3 codes present in ``units``, or raise naming the culprits.

    Items may be ISO3 codes, country names (``"Brazil"``) or group names of
    :func:`brics_ecom.groups.groups` (their members in ``year``); ``"all"`` gives every
    unit. ``None`` gives :func:`default_countries` with the *current* BRICS membership (a
    report is about today's members, whatever years the data cover); defaults absent from
    ``units`` are left out.

    Raises
    ------
    DataError
        Unknown countries (with close matches from :func:`brics_ecom.groups.to_iso3` and
        the panel's codes), or countries not in the panel.

    Examples
    --------
    >>> resolve_countries(["Brazil", "IND"], ["BRA", "IND", "CHN"], year=2020, func="f")
    ['BRA', 'IND']
    """
    from .. import groups

    present = [str(u) for u in units]
    known = set(present)
    if countries is None:
        # the current members (the report is about today's BRICS), whatever the data years
        return [c for c in default_countries(None, comparators=comparators) if c in known]
    if isinstance(countries, str) and countries == "all":
        return present
    if isinstance(countries, str):
        items: list[Any] = [countries]
    elif isinstance(countries, Iterable):
        items = list(countries)
    else:
        raise InvalidParameterError(
            f"The 'countries' parameter of {func} must be a str or an iterable of str; got "
            f"{countries!r}."
        )
    names = set(groups.groups())
    out: list[str] = []
    unknown: list[str] = []
    absent: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise InvalidParameterError(
                f"The 'countries' parameter of {func} must hold strings; got {item!r}."
            )
        if item in names or item.startswith(("wb_region:", "wb_income:")):
            out.extend(c for c in groups.members(item, year) if c in known)
            continue
        code = item if item in known else groups.to_iso3(item, strict=False)
        if code is None:
            unknown.append(item)
        elif code not in known:
            absent.append(item)
        else:
            out.append(code)
    if unknown:
        hints = {item: _close_countries(item, present) for item in unknown[:5]}
        raise DataError(
            f"{func}: unknown countries {unknown}. Close matches: {hints}. Pass ISO3 codes, "
            "country names or group names (brics_ecom.groups.groups())."
        )
    if absent:
        raise DataError(
            f"{func}: countries {absent} are not in the panel; it holds {len(present)} units "
            "(e.g. load it with brics_ecom.datasets.load_brics_panel())."
        )
    if not out:
        raise DataError(f"{func}: countries={countries!r} selects no unit of the panel.")
    return list(dict.fromkeys(out))


def _close_countries(item: str, present: Sequence[str]) -> list[str]:
    """Close codes of the panel, then close names known to :func:`groups.to_iso3`."""
    from .. import groups

    close: list[str] = []
    try:
        groups.to_iso3(item)
    except DataError as exc:  # its message lists "'Brazil' (BRA)"-style close names
        text = str(exc)
        start, end = text.find("(close matches: "), text.find("). Use")
        if start >= 0 and end > start:
            names = text[start + len("(close matches: ") : end]
            if names != "none":
                close.append(names)
    close += difflib.get_close_matches(item.upper(), list(present), n=3, cutoff=0.6)
    return list(dict.fromkeys(close))


def resolve_years(
    years: int | Iterable[int] | None,
    times: Sequence[Any],
    *,
    func: str,
    default: int | Sequence[int],
) -> list[int]:
    """Check ``years`` against the panel's ``times``; ``None`` gives ``default``.

    Raises
    ------
    InvalidParameterError
        Non-integer years, or years outside the panel (the message gives its range).

    Examples
    --------
    >>> resolve_years(range(2019, 2021), [2018, 2019, 2020], func="f", default=2020)
    [2019, 2020]
    """
    from ..io._common import year_set

    if years is None:
        return [int(default)] if isinstance(default, int) else [int(y) for y in default]
    wanted = year_set(years, func)
    assert wanted is not None  # years is not None
    have = sorted(int(t) for t in times)
    outside = sorted(wanted - set(have))
    if outside:
        raise InvalidParameterError(
            f"The 'years' parameter of {func} names years {outside} outside the panel's years "
            f"{have[0]}–{have[-1]}."
        )
    if not wanted:
        raise InvalidParameterError(f"The 'years' parameter of {func} is empty.")
    return sorted(wanted)


def latest_by_year(panel: xr.DataArray, years: Sequence[int], window: int) -> xr.DataArray:
    """Each value at its latest observation in ``[t − window, t]``, for every year ``t``.

    :func:`brics_ecom.panel.latest` run for each of ``years`` ("2019 or latest").

    Returns
    -------
    xarray.DataArray
        ``(unit, time, indicator)`` over ``years``, with a ``source_time`` coordinate (same
        dims) giving the year each value comes from (NaN where nothing was found).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> p = xr.DataArray([[[1.0], [np.nan], [np.nan]]], dims=("unit", "time", "indicator"),
    ...                  coords={"unit": ["A"], "time": [2019, 2020, 2021], "indicator": ["x"]})
    >>> out = latest_by_year(p, [2020, 2021], window=1)
    >>> out.values.ravel().tolist(), out["source_time"].values.ravel().tolist()
    ([1.0, nan], [2019.0, nan])
    """
    import numpy as np
    import xarray as xr

    from ..panel import latest

    values, sources = [], []
    for t in years:
        out = latest(panel, window=window, time=t)
        sources.append(out["source_time"].reset_coords(drop=True).transpose("unit", "indicator"))
        values.append(out.drop_vars("source_time").transpose("unit", "indicator"))
    index = pd.Index(list(years), name="time")
    vals = xr.concat(values, dim=index).transpose("unit", "time", "indicator")
    src = np.stack([s.values for s in sources], axis=1)  # (unit, time, indicator)
    return vals.assign_coords(source_time=(("unit", "time", "indicator"), src))


def select_units(result: Result, units: Sequence[str]) -> Result:
    """The same :class:`~brics_ecom.results.Result` restricted to ``units``.

    Scores and every step's data are selected; ranks are then taken among ``units`` only.
    Reports (computed on the whole reference universe) are kept as they are.

    Examples
    --------
    >>> import brics_ecom as be
    >>> from brics_ecom.frameworks import select_units
    >>> panel, spec = be.datasets.load_asem()
    >>> res = be.Pipeline(spec, ["normalise", "aggregate"]).run(panel)
    >>> int(select_units(res, ["AUT", "BEL"]).ranks.sel(node="Index").max())
    2
    """
    from ..results import Result

    units = list(units)

    def pick(da: xr.DataArray) -> xr.DataArray:
        if "unit" not in da.dims:
            return da
        out = da.sel(unit=units)
        out.attrs = dict(da.attrs)
        return out

    scores = None if result.scores is None else pick(result.scores)
    return Result(
        pipeline=result.pipeline,
        data={k: pick(v) for k, v in result.data.items()},
        reports=dict(result.reports),
        scores=scores,
    )
