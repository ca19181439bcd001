r"""Built-in framework: the digital divide, within and between countries.

The 2017 BRICS E-commerce Cooperation Initiative asks how to bridge the *digital divide*.
This index measures how small the divides are (**higher = smaller divide**):

* **within countries** — for five dimensions, the parity of the group that is usually
  behind with the other one, in account ownership, digital payments (internet-based
  payments where available) and online purchases (World Bank Global Findex):

  ==============  ===================================  =====================
  pillar          ratio                                Findex suffixes
  ==============  ===================================  =====================
  ``Gender``      women / men                          ``_f`` / ``_m``
  ``Income``      poorest 40 % / richest 60 %          ``_p40`` / ``_r60``
  ``Education``   primary or less / secondary or more  ``_pri`` / ``_sec``
  ``Area``        rural / urban (2021)                 ``_rural`` / ``_urban``
  ``Age``         15–24 / 25+                          ``_young`` / ``_old``
  ==============  ===================================  =====================

  each :func:`~brics_ecom.inequality.parity` capped at 1 (``symmetric=True``:
  :math:`\min(a/b, b/a)`, so a gap in either direction counts);
* **between countries** — ``Internet``: internet users (WDI ``IT.NET.USER.ZS``) as a
  share of the best economy of the year, :math:`1 - g_{rel}` with :math:`g_{rel}` the
  relative :func:`~brics_ecom.inequality.gap_to_frontier`.

All 16 indicators are on 0–1, normalised with goalposts 0–1 (scores 0–100, so a score of
80 means the disadvantaged group reaches 80 % of the other's rate) and averaged with equal
weights: concepts within a pillar, the six pillars into the ``DDI``. Years are the Findex
waves 2011, 2014, 2017 and 2021 (economies surveyed in 2022 count in the 2021 wave). The
Theil index of internet use across the countries, split between and within BRICS and the
others (:func:`~brics_ecom.inequality.theil_decomposition`), is reported alongside
(``result.reports["theil"]``), as is the table of every gap (``result.reports["gaps"]``).
See ``docs/framework-digital-divide.md``.

Examples
--------
>>> from brics_ecom.frameworks import digital_divide as dd
>>> res = dd.build(countries=["BRA", "IND", "CHN", "ZAF"], years=2021)
>>> round(res.scores.sel(unit="BRA", time=2021, node="gender_account").item(), 2)  # 81 / 87
93.1
>>> cols = ["Rank", "DDI", "Gender", "Income", "Internet"]
>>> res.table(2021)[cols].round(1)  # doctest: +NORMALIZE_WHITESPACE
      Rank   DDI  Gender  Income  Internet
unit
CHN      1  86.7    97.8    84.3      73.1
ZAF      2  75.0   100.0    64.2      74.2
BRA      3  74.8    76.0    63.2      80.7
IND      4  60.9    62.8    51.2      43.4
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

from .._history import describe_call, with_history
from .._validation import check_choice, check_number
from ..errors import DataError, InvalidParameterError
from ..spec import IndexSpec
from . import check_options, load_spec, resolve_years
from .msme_participation import (
    _check_codes,
    _finish,
    _input_panel,
    _make_pipeline,
    _panel_from,
    _run,
    _units,
    _with_weights,
)

if TYPE_CHECKING:
    from ..pipeline import Pipeline
    from ..results import Result

__all__ = [
    "CONCEPTS",
    "DIMENSIONS",
    "INTERNET",
    "NAME",
    "PAYMENTS",
    "TITLE",
    "WAVES",
    "build",
    "describe",
    "internet_at",
    "pipeline",
    "prepare",
    "spec",
]

NAME = "digital_divide"
TITLE = "Digital Divide Index"

#: The within-country dimensions: Findex suffixes of the group usually behind (``a``) and
#: of the other group (``b``); the indicator is ``a / b`` capped at 1.
DIMENSIONS: Mapping[str, tuple[str, str]] = {
    "gender": ("f", "m"),
    "income": ("p40", "r60"),
    "education": ("pri", "sec"),
    "area": ("rural", "urban"),
    "age": ("young", "old"),
}

#: The Findex concepts of each pillar (node code suffix → Findex concept). ``payments`` is
#: a preference list: see :data:`PAYMENTS`.
CONCEPTS: tuple[str, ...] = ("account", "payments", "buy_online")

#: Default preference order for the payments indicator: internet-based payments ("used a
#: mobile phone or the internet to pay bills", 2017–) where available, else "made a
#: digital payment" (2014–).
PAYMENTS: tuple[str, ...] = ("bills_online", "dig_pay_made")

#: Internet users, % of population (WDI, ITU estimates): the between-country divide.
INTERNET = "IT.NET.USER.ZS"

#: The Global Findex survey waves (the default years of the index).
WAVES: tuple[int, ...] = (2011, 2014, 2017, 2021)

_PILLARS = {
    "gender": "Gender",
    "income": "Income",
    "education": "Education",
    "area": "Area",
    "age": "Age",
}
_GROUPS = ("BRICS", "others")


def _check_payments(payments: Any, func: str) -> tuple[str, ...]:
    items = (payments,) if isinstance(payments, str) else payments
    if (
        not isinstance(items, Sequence)
        or not items
        or not all(isinstance(c, str) and c for c in items)
    ):
        raise InvalidParameterError(
            f"The 'payments' parameter of {func} must be a Findex concept (e.g. "
            f"'dig_pay_made') or a preference list of them; got {payments!r}."
        )
    return tuple(dict.fromkeys(items))


def source_indicators(payments: str | Sequence[str] = PAYMENTS) -> list[str]:
    """The panel codes the framework reads.

    Examples
    --------
    >>> source_indicators()[:4]
    ['account_f', 'account_m', 'account_p40', 'account_r60']
    >>> source_indicators()[-1]
    'IT.NET.USER.ZS'
    """
    concepts = ["account", *_check_payments(payments, "source_indicators"), "buy_online"]
    codes = [f"{c}_{s}" for c in concepts for pair in DIMENSIONS.values() for s in pair]
    return [*dict.fromkeys(codes), INTERNET]


def spec(*, weights: Mapping[str, float] | None = None, **unknown: Any) -> IndexSpec:
    """The index tree (``digital_divide.yaml``), optionally with other weights.

    Parameters
    ----------
    weights : mapping, optional
        ``{code: weight}`` replacing the YAML's weights, e.g. ``{"Internet": 2}``.

    Examples
    --------
    >>> s = spec()
    >>> s.children("DDI")
    ('Gender', 'Income', 'Education', 'Area', 'Age', 'Internet')
    >>> s.children("Gender")
    ('gender_account', 'gender_payments', 'gender_buy_online')
    """
    func = "digital_divide.spec"
    check_options(unknown, ["weights"], func=func)
    return _with_weights(load_spec(NAME), weights, func)


def pipeline(
    *,
    weights: Mapping[str, float] | None = None,
    normalise: str = "goalposts",
    aggregate: str = "arithmetic",
    dat_thresh: float | None = 0.3,
    **unknown: Any,
) -> Pipeline:
    """The pipeline run on the prepared indicators: normalise, then aggregate.

    Parameters
    ----------
    weights : mapping, optional
        As in :func:`spec`.
    normalise : str, default "goalposts"
        ``"goalposts"``: the spec's goalposts 0–1, scaled to 0–100 (fixed bounds: scores
        comparable over years and country sets).
    aggregate : str, default "arithmetic"
        Aggregation method at every level.
    dat_thresh : float or None, default 0.3
        An aggregate is NaN when less than this share of its children has data: with
        0.3 a pillar needs one concept of three and the ``DDI`` two pillars of six, so an
        economy without any Findex data gets no index from internet use alone.

    Examples
    --------
    >>> dict(pipeline().step("aggregate").params)
    {'method': 'arithmetic', 'dat_thresh': 0.3}
    """
    func = "digital_divide.pipeline"
    check_options(unknown, ["weights", "normalise", "aggregate", "dat_thresh"], func=func)
    if dat_thresh is not None:
        check_number(dat_thresh, param="dat_thresh", func=func, low=0, high=1)
    return _make_pipeline(spec(weights=weights), normalise, aggregate, func, dat_thresh)


def describe() -> pd.DataFrame:
    """The indicators: source codes, licence and why each is there.

    Examples
    --------
    >>> describe().loc["gender_account", "source"]
    'account_f / account_m'
    """
    from . import _describe_from_yaml

    return _describe_from_yaml(NAME)


# ---------------------------------------------------------------------- preparation
def _waves(
    panel: xr.DataArray, years: Sequence[int], codes: Sequence[str], merge_2022: bool
) -> tuple[xr.DataArray, xr.DataArray, pd.DataFrame]:
    """Findex values at the wave years; 2022 surveys fill the 2021 wave."""
    times = panel["time"].values.tolist()
    findex = panel.sel(indicator=list(codes), time=list(years)).reset_coords(drop=True)
    survey = xr.DataArray(
        np.broadcast_to(np.asarray(years, dtype=np.int64), (panel.sizes["unit"], len(years))),
        dims=("unit", "time"),
        coords={"unit": panel["unit"].values, "time": list(years)},
    )
    if merge_2022 and 2021 in years and 2022 in times:
        late = panel.sel(indicator=list(codes), time=2022).reset_coords(drop=True)
        late = late.drop_vars("time", errors="ignore")
        in_2021 = findex.sel(time=2021).notnull().any("indicator")
        use = ~in_2021 & late.notnull().any("indicator")
        filled = xr.where(use, late, findex.sel(time=2021))
        findex = xr.concat(
            [findex.sel(time=[t for t in years if t != 2021]), filled.expand_dims(time=[2021])],
            dim="time",
        ).sel(time=list(years))
        survey = survey.copy()
        survey.loc[{"time": 2021}] = xr.where(use, 2022, 2021)
    has = findex.notnull().any("indicator")
    survey = survey.where(has)
    years_used = survey.to_series().dropna().astype(np.int64).rename("survey_year")
    table = years_used.reset_index().rename(columns={"time": "wave"})
    return findex.transpose("unit", "time", "indicator"), survey, table


def internet_at(panel: xr.DataArray, years: Sequence[int], window: int = 1) -> xr.DataArray:
    """Internet users at each year: the latest value within ``window`` years before it.

    Returns a ``(unit, time)`` array with a ``source_time`` coordinate (the year used).

    Examples
    --------
    >>> from brics_ecom.datasets import load_brics_panel
    >>> p = load_brics_panel(countries="IND", years=range(2019, 2022), indicators=INTERNET)
    >>> x = internet_at(p, [2021])            # no 2021 value for India: 2020's is used
    >>> round(x.item(), 2), int(x["source_time"].item())
    (43.41, 2020)
    """
    from ..panel import latest

    sub = panel.sel(indicator=[INTERNET])
    sub = sub.drop_vars([c for c in sub.coords if c not in sub.dims])
    values, sources = [], []
    for t in years:
        out = latest(sub, window=window, time=t).sel(indicator=INTERNET, drop=True)
        sources.append(out["source_time"].reset_coords(drop=True))
        values.append(out.reset_coords(drop=True))
    index = pd.Index(list(years), name="time")
    x = xr.concat(values, dim=index).transpose("unit", "time")
    src = xr.concat(sources, dim=index).transpose("unit", "time")
    x = x.assign_coords(source_time=(("unit", "time"), src.values))
    x.name = INTERNET
    x.attrs = {}
    return x


def _ratio(a: xr.DataArray, b: xr.DataArray, symmetric: bool) -> tuple[xr.DataArray, xr.DataArray]:
    """Raw ratio a/b (NaN where b ≤ 0) and the parity used (capped or symmetric)."""
    from ..inequality import parity

    raw = parity(a.where(a >= 0), b.where(b > 0))
    if symmetric:
        back = parity(b.where(b >= 0), a.where(a > 0))
        used = np.fmin(raw, back)
        used = xr.where(a.notnull() & b.notnull() & (a == 0) & (b == 0), np.nan, used)
    else:
        used = raw.clip(max=1.0)
    return raw, used


def _prepare(
    panel: xr.DataArray,
    years: Sequence[int],
    payments: tuple[str, ...],
    symmetric: bool,
    frontier: float | None,
    merge_2022: bool,
    window: int,
) -> tuple[xr.DataArray, pd.DataFrame, pd.DataFrame]:
    from ..inequality import gap_to_frontier

    func = "digital_divide.prepare"
    codes = source_indicators(payments)
    _check_codes(
        panel, codes, func,
        "Load them with brics_ecom.datasets.load_brics_panel() (Findex breakdowns and WDI "
        "internet users), or add them (NaN where unknown).",
    )  # fmt: skip
    findex_codes = codes[:-1]
    findex, survey, waves = _waves(panel, years, findex_codes, merge_2022)

    def get(code: str) -> xr.DataArray:
        return findex.sel(indicator=code).reset_coords(drop=True).transpose("unit", "time")

    arrays: dict[str, xr.DataArray] = {}
    names: dict[str, str] = {}
    rows: list[pd.DataFrame] = []

    def add_rows(
        dim: str, code: str, concept: Any, a_code: Any, b_code: Any, a: xr.DataArray,
        b: xr.DataArray, raw: xr.DataArray, used: xr.DataArray, source: xr.DataArray,
    ) -> None:  # fmt: skip
        n_u, n_t = a.sizes["unit"], a.sizes["time"]

        def flat(v: Any) -> Any:
            return v.values.ravel() if isinstance(v, xr.DataArray) else v

        frame = pd.DataFrame(
            {
                "unit": np.repeat(a["unit"].values, n_t),
                "time": np.tile(a["time"].values, n_u),
                "dimension": dim,
                "indicator": code,
                "concept": flat(concept),
                "group_a": flat(a_code),
                "group_b": flat(b_code),
                "value_a": a.values.ravel(),
                "value_b": b.values.ravel(),
                "difference": (b - a).values.ravel(),
                "ratio": raw.values.ravel(),
                "parity": used.values.ravel(),
                "source_year": source.values.ravel(),
            }
        )
        rows.append(frame[frame["value_a"].notna() | frame["value_b"].notna()])

    for dim, (sa, sb) in DIMENSIONS.items():
        for key in CONCEPTS:
            code = f"{dim}_{key}"
            concept: Any
            group_a: Any
            group_b: Any
            if key == "payments":
                a = b = raw = used = xr.full_like(get(f"{payments[0]}_{sa}"), np.nan)
                concept = xr.full_like(a, np.nan, dtype=object)
                for c in payments:  # the first concept with both groups wins
                    ca, cb = get(f"{c}_{sa}"), get(f"{c}_{sb}")
                    take = ca.notnull() & cb.notnull() & concept.isnull()
                    c_raw, c_used = _ratio(ca, cb, symmetric)
                    a, b = xr.where(take, ca, a), xr.where(take, cb, b)
                    raw, used = xr.where(take, c_raw, raw), xr.where(take, c_used, used)
                    concept = xr.where(take, c, concept)
                concept = concept.where(concept.notnull(), payments[0])
                group_a = concept.astype(str) + f"_{sa}"
                group_b = concept.astype(str) + f"_{sb}"
            else:
                a, b = get(f"{key}_{sa}"), get(f"{key}_{sb}")
                raw, used = _ratio(a, b, symmetric)
                concept, group_a, group_b = key, f"{key}_{sa}", f"{key}_{sb}"
            arrays[code] = used
            names[code] = f"{key} parity {sa}/{sb}"
            add_rows(dim, code, concept, group_a, group_b, a, b, raw, used, survey)

    with_source = internet_at(panel, years, window)
    internet = with_source.reset_coords(drop=True)
    best = internet.max("unit") if frontier is None else xr.full_like(internet, frontier)
    best = best.broadcast_like(internet)
    share = 1.0 - gap_to_frontier(internet, frontier=frontier, kind="relative")
    arrays["internet_frontier"] = share.clip(max=1.0)
    names["internet_frontier"] = "internet users / frontier"
    add_rows(
        "internet", "internet_frontier", "internet_users", INTERNET, "frontier",
        internet, best, share, arrays["internet_frontier"], with_source["source_time"],
    )  # fmt: skip
    table = pd.concat(rows, ignore_index=True)
    table["source_year"] = table["source_year"].astype("Int64")
    table = table.sort_values(["unit", "time", "dimension", "indicator"], kind="stable")
    table = table.reset_index(drop=True)

    like = panel.sel(time=list(years))
    order = list(load_spec(NAME).indicators)
    derived = _panel_from({c: arrays[c] for c in order}, like, names)
    call = describe_call(
        func,
        {"years": list(years), "payments": payments, "symmetric": symmetric,
         "frontier": frontier, "merge_2022": merge_2022, "window": window},
    )  # fmt: skip
    return with_history(derived, panel, call), table, waves


def _check_prepare_args(
    panel: xr.DataArray,
    years: Any,
    payments: Any,
    symmetric: Any,
    frontier: Any,
    merge_2022: Any,
    window: Any,
    func: str,
) -> tuple[list[int], tuple[str, ...]]:
    if "time" not in panel.dims:
        raise DataError(f"{func} needs a panel with a 'time' dim (integer years).")
    times = [int(t) for t in panel["time"].values]
    default = [w for w in WAVES if w in times] or times[-1]
    chosen = resolve_years(years, times, func=func, default=default)
    pay = _check_payments(payments, func)
    for flag, name in ((symmetric, "symmetric"), (merge_2022, "merge_2022")):
        if not isinstance(flag, bool):
            raise InvalidParameterError(
                f"The {name!r} parameter of {func} must be True or False; got {flag!r}."
            )
    if frontier is not None:
        check_number(frontier, param="frontier", func=func, low=0, low_inclusive=False)
    check_number(window, param="window", func=func, low=0, integer=True)
    return chosen, pay


def prepare(
    panel: xr.DataArray,
    *,
    years: int | Iterable[int] | None = None,
    payments: str | Sequence[str] = PAYMENTS,
    symmetric: bool = False,
    frontier: float | None = None,
    merge_2022: bool = True,
    window: int = 1,
) -> xr.DataArray:
    r"""The framework's 16 indicators (parities on 0–1), for every unit of ``panel``.

    * ``<dimension>_<concept>`` — :math:`\min(a/b, 1)` (``symmetric``:
      :math:`\min(a/b, b/a)`) of the Findex shares of the two groups of
      :data:`DIMENSIONS` for ``account``, ``buy_online`` and ``payments`` (the first
      concept of ``payments`` for which both groups have data in that unit and year). NaN
      where a share is missing or the reference group's share is 0.
    * ``internet_frontier`` — :math:`x / F`: internet users over the frontier :math:`F`,
      the best economy **of the panel** that year (pass the whole bundled panel for the
      world frontier) or the fixed ``frontier``; :math:`1 - ` the relative
      :func:`~brics_ecom.inequality.gap_to_frontier`.

    Parameters
    ----------
    panel : xarray.DataArray
        A panel with a ``time`` dim holding :func:`source_indicators`.
    years : int or iterable of int, optional
        Default: the Findex waves :data:`WAVES` present in the panel.
    payments : str or sequence of str, default ``("bills_online", "dig_pay_made")``
        Findex concept(s) for the payments indicator, in order of preference.
    symmetric : bool, default False
        Count gaps in both directions (:math:`\min(a/b, b/a)`) instead of capping at 1.
    frontier : float, optional
        A fixed frontier (e.g. 100 %) instead of the best economy of the year.
    merge_2022 : bool, default True
        Economies surveyed in 2022 (16 in Findex 2021, e.g. Ethiopia, Mexico, Vietnam)
        count in the 2021 wave when they have no 2021 data.
    window : int, default 1
        Internet use of a wave year is the latest value in ``[t − window, t]`` (India has
        no 2021 value in the WDI: 2020's is used); the frontier is taken over these values.

    Returns
    -------
    xarray.DataArray
        ``(unit, time, indicator)``.

    Raises
    ------
    DataError
        If the panel lacks some of :func:`source_indicators` (named).

    Examples
    --------
    >>> from brics_ecom.datasets import load_brics_panel
    >>> raw = load_brics_panel(countries=["IND", "ETH"], years=[2021, 2022],
    ...                        indicators=source_indicators())
    >>> ind = prepare(raw, years=2021)
    >>> float(ind.sel(unit="IND", time=2021, indicator="education_account"))  # 76 / 81
    0.9382716049382716
    >>> bool(ind.sel(unit="ETH", time=2021, indicator="gender_account").notnull())  # 2022
    True
    """
    func = "digital_divide.prepare"
    panel = _input_panel(panel, None, func)
    chosen, pay = _check_prepare_args(
        panel, years, payments, symmetric, frontier, merge_2022, window, func
    )
    return _prepare(panel, chosen, pay, symmetric, frontier, merge_2022, window)[0]


def theil(
    internet: xr.DataArray, *, weights: xr.DataArray | None = None, index: str = "T"
) -> xr.Dataset:
    """Theil index of internet use across the units, between and within BRICS and others.

    Membership is taken year by year (:func:`brics_ecom.groups.members`), so Egypt,
    Ethiopia, Iran and the UAE count as BRICS from 2024 and Indonesia from 2025.

    Parameters
    ----------
    internet : xarray.DataArray
        Internet users over ``(unit, time)``.
    weights : xarray.DataArray, optional
        Population weights over ``(unit, time)`` (``None``: every economy counts once).
    index : {"T", "L"}
        Theil T or L (mean log deviation; needs positive values).

    Returns
    -------
    xarray.Dataset
        As :func:`brics_ecom.inequality.theil_decomposition`: ``total``, ``between``,
        ``within`` by year and, over ``group`` (``BRICS``, ``others``), the group indices,
        contributions and shares.

    Examples
    --------
    >>> from brics_ecom.datasets import load_brics_panel
    >>> x = load_brics_panel(countries=["BRA", "IND", "USA", "DEU"], years=2021,
    ...                      indicators="IT.NET.USER.ZS").sel(indicator="IT.NET.USER.ZS")
    >>> out = theil(x)
    >>> bool(abs(out.total - out.between - out.within).max() < 1e-15)
    True
    """
    from .. import groups
    from ..inequality import theil_decomposition

    internet = internet.reset_coords(drop=True)
    times = internet["time"].values.tolist()
    labels = xr.DataArray(
        np.array(
            [
                [_GROUPS[0] if u in groups.members("BRICS", int(t)) else _GROUPS[1] for t in times]
                for u in internet["unit"].values.tolist()
            ],
            dtype=object,
        ),
        dims=("unit", "time"),
        coords={"unit": internet["unit"].values, "time": times},
    )
    return theil_decomposition(internet, labels, index=index, weights=weights)


def build(
    panel: xr.DataArray | None = None,
    *,
    countries: str | Iterable[str] | None = None,
    years: int | Iterable[int] | None = None,
    payments: str | Sequence[str] = PAYMENTS,
    symmetric: bool = False,
    frontier: float | None = None,
    merge_2022: bool = True,
    window: int = 1,
    theil_weights: str | None = None,
    weights: Mapping[str, float] | None = None,
    normalise: str = "goalposts",
    aggregate: str = "arithmetic",
    dat_thresh: float | None = 0.3,
    **unknown: Any,
) -> Result:
    """Build the Digital Divide Index.

    Parameters
    ----------
    panel : xarray.DataArray, optional
        The raw panel; default :func:`brics_ecom.datasets.load_brics_panel`. The internet
        frontier is the best economy of this panel, so pass a world panel.
    countries : str or iterable of str, optional
        ISO3 codes, country names, group names or ``"all"``. Default: the BRICS members in the last
        year and :data:`brics_ecom.frameworks.DEFAULT_COMPARATORS` in the panel.
    years : int or iterable of int, optional
        Default: the Findex waves 2011, 2014, 2017 and 2021.
    payments, symmetric, frontier, merge_2022, window
        As in :func:`prepare`.
    theil_weights : {None, "population"}, default None
        Weights of the Theil decomposition: every economy once, or its population
        (``SP.POP.TOTL``, from the panel's denominators).
    weights, normalise, aggregate, dat_thresh
        As in :func:`pipeline`.

    Returns
    -------
    Result
        ``scores`` and ``ranks`` over ``(unit, time, node)``; ``reports["gaps"]`` (one row
        per unit, year and indicator: the two groups' codes and values, their
        ``difference`` in percentage points, the raw ``ratio`` and the ``parity`` used;
        for ``internet_frontier`` the value, the frontier, the gap and the share),
        ``reports["theil"]`` (the Theil decomposition of the internet use of the selected
        countries, BRICS vs others, by :func:`theil`), ``reports["waves"]`` (the survey
        year behind each unit and wave), ``reports["dropped"]`` (indicators without data)
        and ``reports["framework"]`` (options, countries, years, sources, ``data_as_of``,
        attribution; also in ``scores.attrs``).

    Raises
    ------
    InvalidParameterError
        Unknown options (named) or bad values.
    DataError
        Unknown countries, a panel without the codes, no data.

    Notes
    -----
    Indicators without any data in the selection (the ``Area`` pillar before 2021 or for
    high-income economies, online purchases before 2017) leave the tree for that build;
    ``reports["dropped"]`` lists them and ``result.spec`` is the tree actually used.

    Examples
    --------
    >>> res = build(countries="BRICS", years=[2017, 2021])
    >>> res.ranks.sel(node="DDI", time=2021).to_series().idxmin()
    'RUS'
    >>> th = res.reports["theil"]
    >>> bool(abs(th.total - th.between - th.within).max() < 1e-12)
    True
    """
    func = "digital_divide.build"
    check_options(
        unknown,
        ["payments", "symmetric", "frontier", "merge_2022", "window", "theil_weights",
         "weights", "normalise", "aggregate", "dat_thresh"],
        func=func,
    )  # fmt: skip
    if theil_weights is not None:
        check_choice(theil_weights, ("population",), param="theil_weights", func=func)
    pipe = pipeline(
        weights=weights, normalise=normalise, aggregate=aggregate, dat_thresh=dat_thresh
    )
    panel = _input_panel(panel, None, func)
    chosen, pay = _check_prepare_args(
        panel, years, payments, symmetric, frontier, merge_2022, window, func
    )
    units = _units(countries, panel, max(chosen), func)
    derived, gaps, waves = _prepare(panel, chosen, pay, symmetric, frontier, merge_2022, window)
    derived = derived.sel(unit=units)
    res = _run(pipe.spec, derived, normalise, aggregate, func, dat_thresh)
    res.reports["gaps"] = gaps[gaps["unit"].isin(units)].reset_index(drop=True)
    res.reports["waves"] = waves[waves["unit"].isin(units)].reset_index(drop=True)
    internet = internet_at(panel.sel(unit=units), chosen, window)
    w = None
    if theil_weights == "population":
        from ..panel import get_denominators

        denominators = get_denominators(panel)
        if denominators is None or "Population" not in denominators["denominator"].values:
            raise DataError(
                f"{func}: theil_weights='population' needs the panel's Population "
                "denominator (panel.attrs['denominators'], as load_brics_panel() gives)."
            )
        w = denominators.sel(unit=units, time=chosen, denominator="Population", drop=True)
    res.reports["theil"] = theil(internet, weights=w)
    options = {"payments": list(pay), "symmetric": symmetric, "frontier": frontier,
               "merge_2022": merge_2022, "window": window, "theil_weights": theil_weights,
               "weights": weights, "normalise": normalise, "aggregate": aggregate,
               "dat_thresh": dat_thresh}  # fmt: skip
    info = {
        "framework": NAME,
        "title": TITLE,
        **options,
        "frontier_universe": f"best of the {panel.sizes['unit']} economies of the panel"
        if frontier is None
        else f"fixed at {frontier}",
        "countries": list(units),
        "years": list(chosen),
    }
    call = describe_call(f"frameworks.{func}", {"countries": units, "years": chosen, **options})
    return _finish(res, panel, info, call)
