"""Built-in framework: participation of micro, small and medium enterprises in e-commerce.

The 2017 BRICS E-commerce Cooperation Initiative asks how to raise the *participation of
MSMEs* in e-commerce. This index measures it with Eurostat's shares of enterprises selling
online by size class, and rewards two things at once:

* **Level** — how many small (10–49 persons employed) and medium (50–249) enterprises sell
  online, on the web, through marketplaces and across borders (percent of enterprises);
* **Parity** — how close they come to large enterprises (250+): the ratios small / large
  and medium / large, capped at 1 (:func:`brics_ecom.inequality.parity`).

The tree (``msme_participation.yaml``): 16 indicators → ``Level`` and ``Parity`` (equal
weights) → ``MSME``, their geometric mean, so that neither can make up for the other.
Within each sub-index the four activities weigh the same and small enterprises twice as
much as medium ones. Indicators are normalised with goalposts (0–100 % for levels, 0–1 for
parities; scores 0–100), so a score reads as a percentage and does not depend on which
countries are compared. Economies without size data (all BRICS members) can get a flagged
proxy of the small-firm share from UNCTAD's share of businesses receiving orders over the
Internet (``load_brics_panel(extra_data=...)``). See ``docs/framework-msme-participation.md``.

Firm-level survey data (World Bank Enterprise Surveys) give the same size-class shares
with :func:`from_microdata` (re-exported from :mod:`brics_ecom.msme`).

Examples
--------
>>> from brics_ecom.frameworks import msme_participation as msme
>>> res = msme.build(countries=["DEU", "ITA", "POL"], years=[2021])
>>> res.scores.sel(unit="DEU", time=2021, node="sell_S").item()       # E_AESELL|10-49
19.7
>>> round(res.scores.sel(unit="DEU", time=2021, node="sell_S_L").item(), 4)  # 19.7 / 41.5
47.4699
>>> res.table(2021)[["Rank", "MSME", "Level", "Parity"]].round(2)  # doctest: +NORMALIZE_WHITESPACE
      Rank   MSME  Level  Parity
unit
DEU      1  32.17  15.82   65.39
POL      2  25.81  12.32   54.07
ITA      3  25.13  13.46   46.94
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

from .._history import describe_call, with_history
from .._validation import check_choice
from ..errors import DataError, InvalidParameterError
from ..msme import from_microdata
from ..spec import IndexSpec
from . import check_options, load_spec, resolve_countries, resolve_years

if TYPE_CHECKING:
    from ..pipeline import Pipeline
    from ..results import Result

__all__ = [
    "ACTIVITIES",
    "CROSS_BORDER",
    "NAME",
    "PROXY_INDICATOR",
    "SIZE_CLASSES",
    "TITLE",
    "build",
    "describe",
    "from_microdata",
    "pipeline",
    "prepare",
    "source_indicators",
    "spec",
]

NAME = "msme_participation"
TITLE = "MSME participation in e-commerce"

#: Size classes of the index: the Eurostat labels of small, medium and large enterprises.
SIZE_CLASSES: Mapping[str, str] = {"S": "10-49", "M": "50-249", "L": "GE250"}

#: Activities measured directly by one Eurostat code each (``<code>|<size>``).
ACTIVITIES: Mapping[str, str] = {"sell": "E_AESELL", "web": "E_AWSELL", "mkt": "E_AWS_CMP"}

#: The Eurostat codes combined into cross-border e-sales (``xb``): e-sales to other EU
#: countries, to the rest of the world, and to both. ``xb = EU + WW − both``.
CROSS_BORDER: tuple[str, str, str] = ("E_AESEU", "E_AESWW", "E_AESEUWW")

#: UNCTAD core indicator B7, "Proportion of businesses receiving orders over the Internet"
#: (all enterprises, no size breakdown; with ``load_brics_panel(extra_data=...)``): the
#: proxy of ``sell_S`` for economies without Eurostat size data.
PROXY_INDICATOR = "UNCTAD_DE_ICT_CORE_UISIC3N1_ANN_00_B7"

_PROXY_CHOICES = ("indicator", "index")
_ACTIVITY_NAMES = {
    "sell": "e-commerce sales (≥1% of turnover)",
    "web": "web sales",
    "mkt": "marketplace sales",
    "xb": "cross-border e-sales",
}


# ---------------------------------------------------------------------- shared helpers
def _make_pipeline(
    tree: IndexSpec,
    normalise: str,
    aggregate: str,
    func: str,
    dat_thresh: float | None = None,
    top: str | None = None,
) -> Pipeline:
    from ..pipeline import Pipeline
    from ..registry import available

    check_choice(normalise, available("normalise"), param="normalise", func=func)
    check_choice(aggregate, available("aggregate"), param="aggregate", func=func)
    agg: dict[str, Any] = {"method": aggregate}
    if top is not None and top != aggregate:
        check_choice(top, available("aggregate"), param="top", func=func)
        agg["by_level"] = {tree.max_level: top}
    if dat_thresh is not None:
        agg["dat_thresh"] = dat_thresh
    return Pipeline(tree, [("normalise", {"method": normalise}), ("aggregate", agg)])


def _with_weights(tree: IndexSpec, weights: Mapping[str, float] | None, func: str) -> IndexSpec:
    if weights is None:
        return tree
    if not isinstance(weights, Mapping):
        raise InvalidParameterError(
            f"The 'weights' parameter of {func} must be a mapping {{code: weight}}; got "
            f"{weights!r}."
        )
    return tree.with_weights(weights)


def _input_panel(
    panel: xr.DataArray | None, extra_data: str | os.PathLike[str] | None, func: str
) -> xr.DataArray:
    """The panel to build from: the bundled one by default; always with a time dim."""
    from ..panel import validate

    if panel is None:
        from ..datasets import load_brics_panel

        panel = load_brics_panel(extra_data=extra_data)
    elif extra_data is not None:
        raise InvalidParameterError(
            f"{func}: pass either a panel or extra_data= (to load the bundled panel), not both."
        )
    if not isinstance(panel, xr.DataArray):
        raise InvalidParameterError(
            f"The 'panel' parameter of {func} must be an xarray.DataArray (a BRICS+ panel); "
            f"got {type(panel).__name__}."
        )
    panel = validate(panel)
    if "time" not in panel.dims:
        raise DataError(f"{func} needs a panel with a 'time' dim (integer years).")
    return panel


def _units(countries: Any, panel: xr.DataArray, year: int | None, func: str) -> list[str]:
    """:func:`brics_ecom.frameworks.resolve_countries`, plus ``"all"``: every unit."""
    units = panel["unit"].values.tolist()
    if isinstance(countries, str) and countries == "all":
        return [str(u) for u in units]
    chosen = resolve_countries(countries, units, year=year, func=func)
    if not chosen:
        raise DataError(f"{func}: none of the default countries is in the panel; pass countries=.")
    return chosen


def _check_codes(panel: xr.DataArray, codes: Sequence[str], func: str, hint: str) -> None:
    present = set(map(str, panel["indicator"].values))
    missing = [c for c in codes if c not in present]
    if missing:
        raise DataError(f"{func}: the panel lacks the indicators {missing}. {hint}")


def _panel_from(
    arrays: Mapping[str, xr.DataArray], like: xr.DataArray, names: Mapping[str, str]
) -> xr.DataArray:
    """Stack ``{code: (unit, time) array}`` into a panel with ``like``'s unit/time coords."""
    codes = list(arrays)
    out = xr.concat(
        [arrays[c].reset_coords(drop=True) for c in codes], dim="indicator", coords="minimal",
        compat="override",
    )  # fmt: skip
    out = out.assign_coords(indicator=codes).transpose("unit", "time", "indicator")
    keep = {
        k: v for k, v in like.coords.items()
        if k not in out.dims and set(v.dims) <= {"unit", "time"} and v.dims
    }  # fmt: skip
    out = out.assign_coords(keep)
    out = out.assign_coords(
        indicator_name=("indicator", np.array([names.get(c, c) for c in codes], dtype=object))
    )
    out.name = None
    out.attrs = {
        k: like.attrs[k]
        for k in ("sources", "licences", "attribution", "editions", "data_as_of")
        if k in like.attrs
    }
    return out.astype(np.float64)


def _years_with_data(derived: xr.DataArray, units: Sequence[Hashable], func: str) -> xr.DataArray:
    has = derived.notnull().any(("unit", "indicator")).values
    if not has.any():
        raise DataError(
            f"{func}: no data at all for the countries {list(units)} in these years; widen "
            "countries= or years=."
        )
    return derived.isel(time=np.flatnonzero(has))


def _run(
    tree: IndexSpec,
    derived: xr.DataArray,
    normalise: str,
    aggregate: str,
    func: str,
    dat_thresh: float | None = None,
    top: str | None = None,
) -> Result:
    """Run the framework's pipeline on the indicators that have data.

    Indicators without any data in the selection cannot be normalised; they leave the
    tree (:meth:`IndexSpec.subset`) and are listed in ``reports["dropped"]``.
    """
    empty = derived.sel(indicator=list(tree.indicators)).isnull().all(("unit", "time")).values
    kept = [c for c, e in zip(tree.indicators, empty, strict=True) if not e]
    dropped = [c for c, e in zip(tree.indicators, empty, strict=True) if e]
    if not kept:
        raise DataError(
            f"{func}: none of the indicators has data for these countries and years; widen "
            "the selection (countries=, years=)."
        )
    if dropped:  # e.g. marketplaces before 2017: expected, so reported, not warned
        tree = tree.subset(kept)
    pipe = _make_pipeline(tree, normalise, aggregate, func, dat_thresh, top)
    res = pipe.run(derived.sel(indicator=kept))
    res.reports["dropped"] = dropped
    return res


def _finish(res: Result, panel: xr.DataArray, info: dict[str, Any], call: str) -> Result:
    """Record the provenance in ``reports["framework"]`` and ``scores.attrs``."""
    from . import metadata

    meta = metadata(str(info["framework"])).get("indicators", {})
    info = {
        **info,
        "sources": {c: meta.get(c, {}).get("source", c) for c in res.spec.indicators},
        "dropped_indicators": list(res.reports.get("dropped", [])),
        "data_as_of": panel.attrs.get("data_as_of", ""),
        "attribution": panel.attrs.get("attribution", ""),
    }
    res.reports["framework"] = info
    if res.scores is not None:
        res.scores.attrs.update({k: v for k, v in info.items() if k != "countries"})
        res.scores.attrs["history"] = [*res.scores.attrs.get("history", []), call]
    return res


def _replace_scores(res: Result, scores: xr.DataArray) -> Result:
    from ..results import Result

    data = dict(res.data)
    data["aggregate"] = scores
    return Result(pipeline=res.pipeline, data=data, reports=res.reports, scores=scores)


# ---------------------------------------------------------------------- the framework
def source_indicators() -> list[str]:
    """The Eurostat codes the framework reads (``<indicator>|<size>``).

    Examples
    --------
    >>> source_indicators()[:3]
    ['E_AESELL|10-49', 'E_AESELL|50-249', 'E_AESELL|GE250']
    """
    bases = [*ACTIVITIES.values(), *CROSS_BORDER]
    return [f"{b}|{s}" for b in bases for s in SIZE_CLASSES.values()]


def spec(*, weights: Mapping[str, float] | None = None, **unknown: Any) -> IndexSpec:
    """The index tree (``msme_participation.yaml``), optionally with other weights.

    Parameters
    ----------
    weights : mapping, optional
        ``{code: weight}`` replacing the YAML's weights, e.g. ``{"Parity": 0.5}``.

    Raises
    ------
    InvalidParameterError
        Unknown options (named).
    SpecError
        Weights for unknown codes, negative weights.

    Examples
    --------
    >>> s = spec()
    >>> s.root, s.children("MSME"), s.weights["sell_S"], s.weights["sell_M"]
    ('MSME', ('Level', 'Parity'), 2.0, 1.0)
    >>> s.node("sell_S_L").goalposts
    (0.0, 1.0)
    """
    func = "msme_participation.spec"
    check_options(unknown, ["weights"], func=func)
    return _with_weights(load_spec(NAME), weights, func)


def pipeline(
    *,
    weights: Mapping[str, float] | None = None,
    normalise: str = "goalposts",
    aggregate: str = "arithmetic",
    top: str = "geometric",
    **unknown: Any,
) -> Pipeline:
    r"""The pipeline run on the prepared indicators: normalise, then aggregate.

    Parameters
    ----------
    weights : mapping, optional
        As in :func:`spec`.
    normalise : str, default "goalposts"
        Normalisation method. ``"goalposts"`` uses the spec's goalposts (0–100 % for the
        levels, 0–1 for the parities) scaled to 0–100: fixed bounds, so scores are
        comparable over years and do not depend on which countries are compared.
        ``"minmax"`` and the others of :func:`brics_ecom.normalise` give relative scores.
    aggregate : str, default "arithmetic"
        Aggregation of the indicators into ``Level`` and ``Parity``.
    top : str, default "geometric"
        Aggregation of ``Level`` and ``Parity`` into ``MSME``. The weighted geometric
        mean :math:`\sqrt{\text{Level} \cdot \text{Parity}}` rewards both: a country
        cannot make up for few small firms online by their parity with (equally few)
        large ones. ``"arithmetic"`` lets them compensate.

    Examples
    --------
    >>> dict(pipeline().step("aggregate").params)
    {'method': 'arithmetic', 'by_level': {3: 'geometric'}}
    >>> dict(pipeline(top="arithmetic").step("aggregate").params)
    {'method': 'arithmetic'}
    """
    func = "msme_participation.pipeline"
    check_options(unknown, ["weights", "normalise", "aggregate", "top"], func=func)
    return _make_pipeline(spec(weights=weights), normalise, aggregate, func, top=top)


def describe() -> pd.DataFrame:
    """The indicators: source codes, licence and why each is there.

    Examples
    --------
    >>> describe().loc["sell_S", ["source", "proxy"]].tolist()
    ['E_AESELL|10-49', 'UNCTAD_DE_ICT_CORE_UISIC3N1_ANN_00_B7']
    """
    from . import _describe_from_yaml

    return _describe_from_yaml(NAME)


def _prepare(
    panel: xr.DataArray, proxy: bool, proxy_indicator: str
) -> tuple[xr.DataArray, pd.DataFrame, pd.DataFrame]:
    """The indicators, the table of parity ratios and the table of proxied unit-years."""
    from ..inequality import parity
    from ..panel import validate

    func = "msme_participation.prepare"
    panel = validate(panel)
    _check_codes(
        panel, source_indicators(), func,
        "Load them with brics_ecom.datasets.load_brics_panel() (Eurostat e-commerce by size "
        "class), or add them (NaN where unknown).",
    )  # fmt: skip
    if "time" not in panel.dims:
        raise DataError(f"{func} needs a panel with a 'time' dim (integer years).")

    def get(code: str) -> xr.DataArray:
        return panel.sel(indicator=code).reset_coords(drop=True).transpose("unit", "time")

    share: dict[tuple[str, str], xr.DataArray] = {}
    for act, base in ACTIVITIES.items():
        for key, size in SIZE_CLASSES.items():
            share[act, key] = get(f"{base}|{size}")
    eu_code, ww_code, both_code = CROSS_BORDER
    for key, size in SIZE_CLASSES.items():
        eu, ww = get(f"{eu_code}|{size}"), get(f"{ww_code}|{size}")
        union = eu + ww - get(f"{both_code}|{size}")
        # rounding of the published shares can push EU + WW − both outside its bounds
        share["xb", key] = union.clip(np.fmax(eu, ww), np.fmin(eu + ww, 100.0))

    arrays: dict[str, xr.DataArray] = {}
    names: dict[str, str] = {}
    for act in (*ACTIVITIES, "xb"):
        for key in ("S", "M"):
            arrays[f"{act}_{key}"] = share[act, key]
            names[f"{act}_{key}"] = f"{_ACTIVITY_NAMES[act]}, {SIZE_CLASSES[key]} (%)"
    rows: list[pd.DataFrame] = []
    for act in (*ACTIVITIES, "xb"):
        large = share[act, "L"]
        for key in ("S", "M"):
            small = share[act, key]
            ratio = parity(small, large.where(large > 0))  # 0 or missing large: undefined
            code = f"{act}_{key}_L"
            arrays[code] = ratio.clip(max=1.0)
            names[code] = f"{_ACTIVITY_NAMES[act]}, {SIZE_CLASSES[key]} / GE250 (capped at 1)"
            frame = pd.DataFrame(
                {
                    "unit": np.repeat(small["unit"].values, small.sizes["time"]),
                    "time": np.tile(small["time"].values, small.sizes["unit"]),
                    "indicator": code,
                    "activity": act,
                    "size": SIZE_CLASSES[key],
                    "value": small.values.ravel(),
                    "large": large.values.ravel(),
                    "ratio": ratio.values.ravel(),
                    "parity": arrays[code].values.ravel(),
                }
            )
            rows.append(frame[frame["value"].notna() | frame["large"].notna()])
    parity_table = pd.concat(rows, ignore_index=True).sort_values(
        ["unit", "time", "indicator"], kind="stable", ignore_index=True
    )

    level_codes = [f"{a}_{k}" for a in (*ACTIVITIES, "xb") for k in ("S", "M")]
    has_size = xr.concat([arrays[c] for c in level_codes], dim="c").notnull().any("c")
    basis = np.where(has_size.values, "eurostat", "").astype(object)
    proxy_table = pd.DataFrame(
        {"unit": [], "time": [], "indicator": [], "proxy": [], "value": []}
    ).astype({"value": np.float64})
    if proxy and proxy_indicator in set(map(str, panel["indicator"].values)):
        value = get(proxy_indicator)
        use = ~has_size & value.notnull()
        if bool(use.any()):
            arrays["sell_S"] = xr.where(use, value, arrays["sell_S"])
            basis = np.where(use.values, "proxy", basis).astype(object)
            hit = np.argwhere(use.values)
            proxy_table = pd.DataFrame(
                {
                    "unit": value["unit"].values[hit[:, 0]],
                    "time": value["time"].values[hit[:, 1]],
                    "indicator": "sell_S",
                    "proxy": proxy_indicator,
                    "value": value.values[use.values],
                }
            )
    order = list(load_spec(NAME).indicators)
    derived = _panel_from({c: arrays[c] for c in order}, panel, names)
    derived = derived.assign_coords(msme_basis=(("unit", "time"), basis))
    call = describe_call(func, {"proxy": proxy, "proxy_indicator": proxy_indicator})
    return with_history(derived, panel, call), parity_table, proxy_table


def prepare(
    panel: xr.DataArray, *, proxy: bool = True, proxy_indicator: str = PROXY_INDICATOR
) -> xr.DataArray:
    """The framework's 16 indicators, computed from the raw BRICS+ panel.

    * ``<act>_S``, ``<act>_M`` — the share of small (10–49) and medium (50–249)
      enterprises with the activity, in % (``act`` = ``sell``: ``E_AESELL``, e-commerce
      sales of at least 1 % of turnover; ``web``: ``E_AWSELL``, web sales; ``mkt``:
      ``E_AWS_CMP``, web sales via marketplaces; ``xb``: cross-border e-sales,
      ``E_AESEU + E_AESWW − E_AESEUWW``, kept within ``[max(EU, WW), min(EU + WW, 100)]``);
    * ``<act>_S_L``, ``<act>_M_L`` — parity with large enterprises (GE250):
      :func:`~brics_ecom.inequality.parity` of the two shares, capped at 1; NaN where the
      large-firm share is 0 or missing.

    With ``proxy`` and ``proxy_indicator`` in the panel, unit-years without any size data
    get ``sell_S`` = the proxy (UNCTAD B7, businesses receiving orders over the Internet).
    The ``(unit, time)`` coordinate ``msme_basis`` says ``"eurostat"``, ``"proxy"`` or
    ``""`` (no data).

    Parameters
    ----------
    panel : xarray.DataArray
        A panel with a ``time`` dim holding :func:`source_indicators` (e.g.
        ``load_brics_panel()``).
    proxy : bool, default True
        Fill ``sell_S`` from ``proxy_indicator`` where size data are missing.
    proxy_indicator : str
        The proxy's code (:data:`PROXY_INDICATOR`).

    Returns
    -------
    xarray.DataArray
        ``(unit, time, indicator)`` with the spec's 16 indicators, the ``(unit)`` and
        ``(unit, time)`` coordinates of ``panel``, ``indicator_name`` and ``msme_basis``.

    Raises
    ------
    DataError
        If the panel lacks some of :func:`source_indicators` (named) or has no time dim.

    Examples
    --------
    >>> from brics_ecom.datasets import load_brics_panel
    >>> raw = load_brics_panel(countries="DEU", years=2021, indicators=source_indicators())
    >>> ind = prepare(raw).sel(unit="DEU", time=2021)
    >>> ind.sel(indicator=["sell_S", "sell_M"]).values.tolist()
    [19.7, 27.9]
    >>> round(float(ind.sel(indicator="xb_S")), 1)   # 9.3 + 5.3 − 5.2
    9.4
    """
    if not isinstance(proxy, bool):
        raise InvalidParameterError(
            f"The 'proxy' parameter of msme_participation.prepare must be True or False; got "
            f"{proxy!r}."
        )
    return _prepare(panel, proxy, proxy_indicator)[0]


def build(
    panel: xr.DataArray | None = None,
    *,
    countries: str | Iterable[str] | None = None,
    years: int | Iterable[int] | None = None,
    proxy: str | None = "indicator",
    proxy_indicator: str = PROXY_INDICATOR,
    weights: Mapping[str, float] | None = None,
    normalise: str = "goalposts",
    aggregate: str = "arithmetic",
    top: str = "geometric",
    extra_data: str | os.PathLike[str] | None = None,
    **unknown: Any,
) -> Result:
    """Build the MSME participation index.

    Parameters
    ----------
    panel : xarray.DataArray, optional
        The raw panel; default :func:`brics_ecom.datasets.load_brics_panel` (with
        ``extra_data`` if given, which brings the UNCTAD proxy).
    countries : str or iterable of str, optional
        ISO3 codes, country names, group names (``"BRICS"``, ``"OECD"``, ...) or
        ``"all"`` (every unit of the panel). Default: the current BRICS members and
        :data:`brics_ecom.frameworks.DEFAULT_COMPARATORS` that are in the panel. No BRICS
        member has Eurostat size data: they get a score only through the proxy. For the
        economies with size data pass e.g. ``countries="OECD"`` or a list.
    years : int or iterable of int, optional
        Default: every year with data for these countries (Eurostat: 2010–2023).
    proxy : {"indicator", "index", None}, default "indicator"
        Unit-years without size data get ``sell_S`` from the UNCTAD proxy, when it is in
        the panel. ``"indicator"``: that is all they get (their ``Level``, ``Parity`` and
        ``MSME`` stay NaN: one indicator out of eight is not a comparable ``Level``, and
        parity needs a size breakdown). ``"index"``: they also get ``Level`` and ``MSME``
        from ``sell_S`` alone (renormalised weights; flagged, not comparable with the
        others). ``None``: no proxy.
    proxy_indicator : str
        Code of the proxy (:data:`PROXY_INDICATOR`).
    weights, normalise, aggregate, top
        As in :func:`pipeline`.
    extra_data : str or path-like, optional
        Passed to ``load_brics_panel`` when ``panel`` is None.

    Returns
    -------
    Result
        ``scores``/``ranks`` over ``(unit, time, node)`` with the ``(unit, time)``
        coordinate ``msme_basis`` (``"eurostat"``, ``"proxy"`` or ``""``), and in
        ``reports``: ``"parity"`` (one row per unit, year and ratio: the small or medium
        share ``value``, the ``large`` share, the raw ``ratio`` and the capped
        ``parity``), ``"proxy"`` (the unit-years filled from the proxy), ``"dropped"``
        (indicators without data in the selection) and ``"framework"`` (the options,
        countries, years, the source of every node, ``data_as_of`` and the attribution;
        also in ``scores.attrs``).

    Raises
    ------
    InvalidParameterError
        Unknown options (named), bad ``proxy``, ``normalise`` or ``aggregate``.
    DataError
        Unknown countries, a panel without the Eurostat codes, no data at all.

    Notes
    -----
    Indicators without any data in the selection (marketplaces before 2017, cross-border
    sales in even years) leave the tree for that build; ``reports["dropped"]`` lists them
    and ``result.spec`` is the tree actually used.

    Examples
    --------
    >>> res = build(countries=["DEU", "FRA"], years=[2019, 2021])
    >>> res.ranks.sel(node="MSME").to_pandas().astype(int)  # doctest: +NORMALIZE_WHITESPACE
    time  2019  2021
    unit
    DEU      1     1
    FRA      2     2
    >>> str(res.scores["msme_basis"].sel(unit="DEU", time=2021).item())
    'eurostat'
    """
    func = "msme_participation.build"
    check_options(
        unknown,
        ["proxy", "proxy_indicator", "weights", "normalise", "aggregate", "top", "extra_data"],
        func=func,
    )
    if proxy is not None:
        check_choice(proxy, _PROXY_CHOICES, param="proxy", func=func)
    tree = spec(weights=weights)
    _make_pipeline(tree, normalise, aggregate, func, top=top)  # fail early on bad methods
    panel = _input_panel(panel, extra_data, func)
    _check_codes(
        panel, source_indicators(), func,
        "Build from brics_ecom.datasets.load_brics_panel() (it holds the Eurostat e-commerce "
        "by size class series), or add these codes (NaN where unknown).",
    )  # fmt: skip
    times = [int(t) for t in panel["time"].values]
    chosen = None if years is None else resolve_years(years, times, func=func, default=times)
    year = max(chosen) if chosen else None
    units = _units(countries, panel, year, func)
    codes = source_indicators()
    if proxy is not None and proxy_indicator in set(map(str, panel["indicator"].values)):
        codes.append(proxy_indicator)
    sub = panel.sel(unit=units, indicator=codes)
    if chosen is not None:
        sub = sub.sel(time=chosen)
    derived, parity_table, proxy_table = _prepare(sub, proxy is not None, proxy_indicator)
    if chosen is None:
        derived = _years_with_data(derived, units, func)
    kept = derived["time"].values.tolist()
    parity_table = parity_table[parity_table["time"].isin(kept)].reset_index(drop=True)
    proxy_table = proxy_table[proxy_table["time"].isin(kept)].reset_index(drop=True)
    res = _run(tree, derived, normalise, aggregate, func, top=top)
    scores = res.scores
    if scores is not None and proxy == "indicator":
        aggregates = [c for c in tree.aggregates if c in scores["node"].values]
        blank = (scores["msme_basis"] == "proxy") & scores["node"].isin(aggregates)
        if bool(blank.any()):
            res = _replace_scores(res, scores.where(~blank))
    res.reports["parity"] = parity_table
    res.reports["proxy"] = proxy_table
    options = {"proxy": proxy, "proxy_indicator": proxy_indicator, "weights": weights,
               "normalise": normalise, "aggregate": aggregate, "top": top}  # fmt: skip
    info = {
        "framework": NAME,
        "title": TITLE,
        **options,
        "proxied": len(proxy_table),
        "universe": "selected (goalposts: scores do not depend on it)"
        if normalise == "goalposts"
        else "selected",
        "countries": list(units),
        "years": [int(t) for t in kept],
    }
    call = describe_call(
        f"frameworks.{func}", {"countries": units, "years": info["years"], **options}
    )
    return _finish(res, panel, info, call)
