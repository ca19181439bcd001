"""Country groups: BRICS membership by year, G7, G20, OECD, ASEM, World Bank regions and
income groups, and country name ↔ ISO3 conversion.

Membership is recorded with the date it took effect and the source that reports it (see
:func:`membership_table` and ``docs/groups.md``). A country counts as a member *in a year*
if it was a member at any time in that calendar year: Vietnam, a BRICS partner from June
2025, is a partner in 2025. :func:`members` answers "who was in the group in year ``t``",
and :func:`add_group_coord` puts the answer on a panel as a ``(unit, time)`` coordinate,
ready for group statistics or group imputation.

The World Bank regions and income groups are a *snapshot* (the WDI country metadata of a
given release, bundled in ``datasets/data/wb_country_meta.csv``), not a history.

Examples
--------
>>> from brics_ecom import groups
>>> groups.members("BRICS", 2010)
['BRA', 'CHN', 'IND', 'RUS']
>>> groups.members("BRICS", 2024)
['ARE', 'BRA', 'CHN', 'EGY', 'ETH', 'IND', 'IRN', 'RUS', 'ZAF']
>>> "SAU" in groups.members("BRICS", 2024, include_unclear=True)
True
>>> groups.to_iso3(["Brazil", "Russian Federation", "Korea, Rep."])
['BRA', 'RUS', 'KOR']
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import logging
import unicodedata
from collections.abc import Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, overload

import numpy as np
import pandas as pd
import xarray as xr

from .errors import DataError, InvalidParameterError

__all__ = [
    "add_group_coord",
    "groups",
    "members",
    "membership_table",
    "to_iso3",
    "to_name",
    "wb_country_meta",
]

#: Edition of the bundled World Bank country metadata used by default.
WB_EDITION = "2026-02"

_CLASSIFICATIONS = {"wb_region": "region", "wb_income": "income_group"}

#: World Bank aggregate codes accepted as aliases of classification labels.
_WB_LABEL_CODES = {
    "EAS": ("wb_region", "East Asia & Pacific"),
    "ECS": ("wb_region", "Europe & Central Asia"),
    "LCN": ("wb_region", "Latin America & Caribbean"),
    "MEA": ("wb_region", "Middle East & North Africa"),
    "NAC": ("wb_region", "North America"),
    "SAS": ("wb_region", "South Asia"),
    "SSF": ("wb_region", "Sub-Saharan Africa"),
    "HIC": ("wb_income", "High income"),
    "UMC": ("wb_income", "Upper middle income"),
    "LMC": ("wb_income", "Lower middle income"),
    "LIC": ("wb_income", "Low income"),
}


# ---------------------------------------------------------------------- sources
_SRC = {
    "bric2009": "First BRIC summit, Yekaterinburg, 16 June 2009; Business Standard, 7 Jan 2025, "
    "https://www.business-standard.com/amp/world-news/brazil-admits-indonesia-as-new-member-of-"
    "brics-bloc-of-developing-nations-125010700094_1.html",
    "zaf": "Invited 23 Dec 2010 (China's foreign minister Yang Jiechi), first summit as a member "
    "Sanya, 14 Apr 2011; https://www.taylorfrancis.com/books/9781317007968/chapters/"
    "10.4324/9781315550213-22 ; https://www.brandsouthafrica.com/investments-immigration/"
    "economynews/brics-140411-2",
    "jhb2023": "Johannesburg II summit, 24 Aug 2023: invitation to become full members from "
    "1 Jan 2024; https://24newsreporter.com/world/153034.html/amp ; Argentina declined "
    "(Reuters via https://unn.ua/en/news/south-africa-announces-that-five-countries-have-"
    "confirmed-their-accession-to-brics)",
    "sau": "Invited Aug 2023; 'we have not yet officially joined' (Saudi commerce minister, "
    "Davos, 16 Jan 2024, https://publicitytop.com/2024/01/17/saudi-arabia-clarifies-brics-"
    "membership-reports); still 'evaluating' in Jan 2025 (https://unn.ua/en/news/saudi-arabia-"
    "is-still-evaluating-the-possibility-of-joining-brics-minister-of-economy)",
    "idn": "Brazil's BRICS presidency, 6 Jan 2025; https://sputnikglobe.com/20250106/brazil-"
    "announces-indonesia-joined-brics-as-full-member-1121370949.html",
    "partners2025": "Partner states from 1 Jan 2025 (Russian Foreign Ministry via TASS); "
    "https://www.independent.co.ug/uganda-8-other-countries-to-become-brics-partners-from-"
    "today/ ; https://bernama.com/tv/news.php?id=2376603",
    "nga": "Brazil's BRICS presidency, 17 Jan 2025; https://news.az/news/nigeria-officially-"
    "joins-brics-as-partner-country ; https://sputnikglobe.com/20250118/nigeria-joining-brics-"
    "as-partner-country-1121453222.html",
    "vnm": "Brazil's BRICS presidency, 13 Jun 2025 (Reuters); https://www.mediaselangor.com/en/"
    "2025/06/269836 ; https://vietnamnews.vn/politics-laws/1719578/viet-nam-wishes-to-enhance-"
    "voice-role-of-developing-nations-as-brics-partner-country.html",
    "g7": "G6 summit Rambouillet Nov 1975, Canada from 1976; the EU a 'non-enumerated' member "
    "since 1981 (Council on Foreign Relations backgrounder); Russia's G8 membership "
    "(1997/98-2014) is not part of the G7",
    "g20": "G20 formed 1999 (19 countries + EU); African Union a permanent member from the New "
    "Delhi summit, 9 Sep 2023; https://www.livemint.com/news/india/g20-agrees-to-grant-"
    "permanent-membership-to-african-union-on-par-with-european-union-report/amp-"
    "11694070146894.html ; https://headtopics.com/ng/african-union-becomes-permanent-member-"
    "of-g-20-49005280",
    "oecd": "Date of deposit of the instrument of ratification/accession of the OECD "
    "Convention (OECD list of member countries, reproduced at https://www.whereig.com/country-"
    "groupings/oecd-countries.html ; Nuclear Law Bulletin No. 73 suppl.)",
    "oecd_lva": "OECD, 1 Jul 2016 (Latvia deposits its instrument of accession); "
    "http://www.oecd.emb-japan.go.jp/itpr_ja/00_000093.html",
    "oecd_ltu": "OECD, 5 Jul 2018 (Lithuania deposits its instrument of accession)",
    "oecd_col": "OECD, 28 Apr 2020; https://www.swedenabroad.se/sv/utlandsmyndigheter/oecd-"
    "unesco/aktuellt/nyheter/colombia-nytt-medlemsland-i-oecd/",
    "oecd_cri": "OECD press release, 25 May 2021; https://www.oecd.org/en/about/news/press-"
    "releases/2021/05/oecd-welcomes-costa-rica-as-its-38th-member.html",
    "asem": "COINr's ASEM example (reference year 2018): the 51 countries of "
    "datasets/data/asem_iData.csv",
}


@dataclass(frozen=True)
class _Entry:
    group: str
    iso3: str
    status: str  # member | partner | unclear | union
    start: str  # ISO date (or year) the membership took effect; "" if not dated
    from_year: int | None
    to_year: int | None
    source: str
    note: str = ""


def _e(
    group: str,
    codes: str,
    start: str,
    source: str,
    *,
    status: str = "member",
    note: str = "",
) -> list[_Entry]:
    year = int(start[:4]) if start else None
    return [_Entry(group, c, status, start, year, None, source, note) for c in codes.split()]


_OECD_DATES = {
    "AUS": "1971-06-07", "AUT": "1961-09-29", "BEL": "1961-09-13", "CAN": "1961-04-10",
    "CHE": "1961-09-28", "CHL": "2010-05-07", "CZE": "1995-12-21", "DEU": "1961-09-27",
    "DNK": "1961-05-30", "ESP": "1961-08-03", "EST": "2010-12-09", "FIN": "1969-01-28",
    "FRA": "1961-08-07", "GBR": "1961-05-02", "GRC": "1961-09-27", "HUN": "1996-05-07",
    "IRL": "1961-08-17", "ISL": "1961-06-05", "ISR": "2010-09-07", "ITA": "1962-03-29",
    "JPN": "1964-04-28", "KOR": "1996-12-12", "LUX": "1961-12-07", "MEX": "1994-05-18",
    "NLD": "1961-11-13", "NOR": "1961-07-04", "NZL": "1973-05-29", "POL": "1996-11-22",
    "PRT": "1961-08-04", "SVK": "2000-12-14", "SVN": "2010-07-21", "SWE": "1961-09-28",
    "TUR": "1961-08-02", "USA": "1961-04-12",
    "LVA": "2016-07-01", "LTU": "2018-07-05", "COL": "2020-04-28", "CRI": "2021-05-25",
}  # fmt: skip
_OECD_SOURCE = {"LVA": "oecd_lva", "LTU": "oecd_ltu", "COL": "oecd_col", "CRI": "oecd_cri"}

_ENTRIES: tuple[_Entry, ...] = (
    *_e("BRICS", "BRA RUS IND CHN", "2009-06-16", "bric2009", note="founding BRIC member"),
    *_e(
        "BRICS",
        "ZAF",
        "2011-04-14",
        "zaf",
        note="invited 23 Dec 2010; counted from 2011 (first summit as a member, Sanya, "
        "14 Apr 2011). Use overrides={'ZAF': 2010} to count it from the invitation.",
    ),
    *_e("BRICS", "EGY ETH IRN ARE", "2024-01-01", "jhb2023", note="invited 24 Aug 2023"),
    *_e(
        "BRICS",
        "SAU",
        "2024-01-01",
        "sau",
        status="unclear",
        note="invited Aug 2023; has not confirmed membership. Excluded unless "
        "include_unclear=True.",
    ),
    *_e("BRICS", "IDN", "2025-01-06", "idn", note="candidacy approved Aug 2023"),
    *_e(
        "BRICS_partners",
        "BLR BOL KAZ CUB MYS THA UGA UZB",
        "2025-01-01",
        "partners2025",
        status="partner",
        note="partner category created at the Kazan summit, Oct 2024",
    ),
    *_e("BRICS_partners", "NGA", "2025-01-17", "nga", status="partner"),
    *_e("BRICS_partners", "VNM", "2025-06-13", "vnm", status="partner"),
    *_e("G7", "FRA DEU ITA JPN GBR USA", "1975-11-15", "g7"),
    *_e("G7", "CAN", "1976-06-27", "g7"),
    *_e("G7", "EUU", "1981", "g7", status="union", note="European Union (World Bank code EUU)"),
    *_e(
        "G20",
        "ARG AUS BRA CAN CHN FRA DEU IND IDN ITA JPN KOR MEX RUS SAU ZAF TUR GBR USA",
        "1999-12-15",
        "g20",
    ),
    *_e("G20", "EUU", "1999-12-15", "g20", status="union", note="European Union (WB code EUU)"),
    *_e(
        "G20",
        "AFU",
        "2023-09-09",
        "g20",
        status="union",
        note="African Union; AFU is a brics_ecom code (no ISO 3166 or World Bank code exists)",
    ),
    *(
        _Entry("OECD", c, "member", d, int(d[:4]), None, _OECD_SOURCE.get(c, "oecd"))
        for c, d in sorted(_OECD_DATES.items())
    ),
)

_STATIC_GROUPS = ("ASEM",)


# ---------------------------------------------------------------------- data files
def _data_path(name: str) -> str:
    from .datasets import data_path

    return data_path(name)


@functools.cache
def _wb_meta_all() -> pd.DataFrame:
    return pd.read_csv(
        _data_path("wb_country_meta.csv"),
        dtype={"iso3": str, "name": str, "region": str, "income_group": str, "edition": str},
        keep_default_na=False,
    )


def wb_country_meta(edition: str | None = None) -> pd.DataFrame:
    """The bundled World Bank country metadata (region, income group, aggregates).

    Parameters
    ----------
    edition : str, optional
        ``"2026-02"`` (WDI release of 24 Feb 2026, FY2026 income classification; the
        default) or ``"2024-11"`` (WDI bulk file downloaded Nov 2024, FY2025
        classification).

    Returns
    -------
    pandas.DataFrame
        Columns ``iso3, name, region, income_group, is_aggregate, edition``; an empty
        string means "none" (aggregates have no region; a few countries, e.g. Venezuela,
        are unclassified by income).

    Examples
    --------
    >>> meta = wb_country_meta()
    >>> meta.set_index("iso3").loc["BRA", ["region", "income_group"]].tolist()
    ['Latin America & Caribbean', 'Upper middle income']
    >>> int(meta["is_aggregate"].sum())
    48
    """
    edition = WB_EDITION if edition is None else edition
    table = _wb_meta_all()
    known = sorted(table["edition"].unique())
    if edition not in known:
        raise InvalidParameterError(
            f"The 'edition' parameter of wb_country_meta must be one of {known}; got {edition!r}."
        )
    return table[table["edition"] == edition].reset_index(drop=True)


def _wb_aggregate_codes() -> frozenset[str]:
    """World Bank aggregate codes of every bundled edition plus older/legacy ones."""
    table = _wb_meta_all()
    codes = set(table.loc[table["is_aggregate"] == 1, "iso3"])
    # legacy or special codes found in older WDI releases
    codes |= {"INX", "NOC", "OEC", "EAR", "XZN"}
    return frozenset(codes)


@functools.cache
def _aliases() -> pd.DataFrame:
    return pd.read_csv(
        _data_path("country_aliases.csv"),
        dtype={"iso3": str, "name": str, "seen_in": str},
        keep_default_na=False,
    )


@functools.cache
def _alias_index() -> dict[str, str]:
    table = _aliases()
    return {_norm(n): c for n, c in zip(table["name"], table["iso3"], strict=True)}


@functools.cache
def _canonical_names() -> dict[str, str]:
    table = _aliases()
    canon = table[table["canonical"] == 1]
    return dict(zip(canon["iso3"], canon["name"], strict=True))


@functools.cache
def _asem_codes() -> tuple[str, ...]:
    data = pd.read_csv(_data_path("asem_iData.csv"), usecols=["uCode"], keep_default_na=False)
    return tuple(sorted(data["uCode"].astype(str)))


def _norm(name: str) -> str:
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    text = text.casefold().replace("&", " and ").replace("'", "").replace("’", "")
    text = "".join(ch if ch.isalnum() else " " for ch in text)
    return " ".join(text.split())


# ---------------------------------------------------------------------- groups
def groups() -> list[str]:
    """Names of the available groups.

    Membership groups (``BRICS``, ``BRICS_partners``, ``G7``, ``G20``, ``OECD``, ``ASEM``)
    give boolean membership; the classifications ``wb_region`` and ``wb_income`` give a
    label per country, and ``"wb_region:<label>"`` / ``"wb_income:<label>"`` (or the
    World Bank aggregate code, e.g. ``"HIC"``, ``"SAS"``) select one label.

    Examples
    --------
    >>> groups()
    ['ASEM', 'BRICS', 'BRICS_partners', 'G20', 'G7', 'OECD', 'wb_income', 'wb_region']
    """
    dated = {e.group for e in _ENTRIES}
    return sorted({*dated, *_STATIC_GROUPS, *_CLASSIFICATIONS})


def _labels(classification: str) -> list[str]:
    col = _CLASSIFICATIONS[classification]
    meta = wb_country_meta()
    return sorted(v for v in meta[col].unique() if v)


def _resolve(group: Any) -> tuple[str, str | None]:
    """``(base group, label)``; label is set for ``wb_region:<label>`` style groups."""
    if not isinstance(group, str):
        raise InvalidParameterError(
            f"The 'group' parameter must be a group name (str); got {type(group).__name__}."
        )
    if group in _WB_LABEL_CODES:
        return _WB_LABEL_CODES[group]
    if ":" in group:
        base, _, label = group.partition(":")
        if base in _CLASSIFICATIONS:
            labels = _labels(base)
            match = {lab.casefold(): lab for lab in labels}.get(label.strip().casefold())
            if match is None:
                raise InvalidParameterError(
                    f"Unknown {base} label {label!r}; the labels are {labels}."
                )
            return base, match
    names = groups()
    if group in names:
        return group, None
    lowered = {n.casefold(): n for n in names}
    if group.casefold() in lowered:
        return lowered[group.casefold()], None
    close = difflib.get_close_matches(group, names, n=3, cutoff=0.5)
    hint = f" Did you mean {close}?" if close else ""
    raise InvalidParameterError(
        f"Unknown group {group!r}; the groups are {names} (and 'wb_region:<label>', "
        f"'wb_income:<label>').{hint}"
    )


Override = int | tuple[int | None, int | None] | None


def _entries(
    group: str,
    overrides: Mapping[str, Override] | None,
) -> list[_Entry]:
    if group in _STATIC_GROUPS:
        rows = [
            _Entry(group, c, "member", "", None, None, "asem", "static (2018)")
            for c in _asem_codes()
        ]
    else:
        rows = [e for e in _ENTRIES if e.group == group]
    if not overrides:
        return rows
    if not isinstance(overrides, Mapping):
        raise InvalidParameterError(
            "The 'overrides' parameter must map ISO3 codes to a start year, a (from, to) "
            f"pair of years or None (remove); got {type(overrides).__name__}."
        )
    by_code = {e.iso3: e for e in rows}
    for code, value in overrides.items():
        if not isinstance(code, str):
            raise InvalidParameterError(f"overrides: keys must be ISO3 codes; got {code!r}.")
        if value is None:
            by_code.pop(code, None)
            continue
        start: int | None
        end: int | None
        if isinstance(value, int | np.integer) and not isinstance(value, bool):
            start, end = int(value), None
        elif (
            isinstance(value, tuple)
            and len(value) == 2
            and all(v is None or _is_year(v) for v in value)
        ):
            start = None if value[0] is None else int(value[0])
            end = None if value[1] is None else int(value[1])
        else:
            raise InvalidParameterError(
                f"overrides[{code!r}] must be a start year (int), a (from, to) pair of years "
                f"(None = open) or None (remove the country); got {value!r}."
            )
        old = by_code.get(code)
        status = "member" if old is None or old.status == "unclear" else old.status
        by_code[code] = _Entry(
            group, code, status, str(start or ""), start, end, "user override", "override"
        )
    return list(by_code.values())


def _is_year(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _active(entry: _Entry, year: int | None) -> bool:
    if year is None:
        return entry.to_year is None
    if entry.from_year is not None and year < entry.from_year:
        return False
    return not (entry.to_year is not None and year > entry.to_year)


def _check_year(year: Any, func: str) -> int | None:
    if year is None:
        return None
    if isinstance(year, bool) or not isinstance(year, int | np.integer):
        raise InvalidParameterError(
            f"The 'year' parameter of {func} must be an integer year or None; got {year!r}."
        )
    return int(year)


def members(
    group: str,
    year: int | None = None,
    *,
    include_unclear: bool = False,
    include_unions: bool = False,
    overrides: Mapping[str, Override] | None = None,
) -> list[str]:
    """ISO3 codes of the members of ``group`` in ``year`` (sorted).

    Parameters
    ----------
    group : str
        One of :func:`groups`, or ``"wb_region:<label>"`` / ``"wb_income:<label>"`` / a
        World Bank aggregate code such as ``"HIC"`` (static classifications).
    year : int, optional
        Calendar year; a country counts if it was a member at any time in that year.
        ``None`` (default): the current membership (every entry without an end date).
        Static groups (``ASEM``, the World Bank classifications) ignore it.
    include_unclear : bool, default False
        Include members whose status is unclear (Saudi Arabia in BRICS since 2024).
    include_unions : bool, default False
        Include the unions that are members of the G7/G20: the European Union (``EUU``,
        its World Bank code) and the African Union (``AFU``, a brics_ecom code).
    overrides : mapping, optional
        ISO3 → start year, ``(from, to)`` years (``None`` = open) or ``None`` to remove the
        country, applied to the group before selecting: e.g. ``{"SAU": 2024}`` counts
        Saudi Arabia as a BRICS member from 2024, ``{"ZAF": 2010}`` counts South Africa
        from its invitation.

    Returns
    -------
    list of str

    Raises
    ------
    InvalidParameterError
        For an unknown group (with close matches), a bad year or bad overrides.

    Examples
    --------
    >>> members("BRICS", 2011)
    ['BRA', 'CHN', 'IND', 'RUS', 'ZAF']
    >>> members("BRICS", 2025)
    ['ARE', 'BRA', 'CHN', 'EGY', 'ETH', 'IDN', 'IND', 'IRN', 'RUS', 'ZAF']
    >>> members("BRICS", 2010, overrides={"ZAF": 2010})
    ['BRA', 'CHN', 'IND', 'RUS', 'ZAF']
    >>> members("BRICS_partners", 2025)[:4]
    ['BLR', 'BOL', 'CUB', 'KAZ']
    >>> len(members("OECD", 2020)), len(members("OECD", 2021))
    (37, 38)
    >>> members("G20", 2023, include_unions=True)[:3]
    ['AFU', 'ARG', 'AUS']
    """
    year = _check_year(year, "members")
    base, label = _resolve(group)
    if base in _CLASSIFICATIONS:
        if label is None:
            raise InvalidParameterError(
                f"{base!r} is a classification, not a membership group: pick one label, e.g. "
                f"members('{base}:{_labels(base)[0]}'). Labels: {_labels(base)}."
            )
        meta = wb_country_meta()
        sel = meta[(meta[_CLASSIFICATIONS[base]] == label) & (meta["is_aggregate"] == 0)]
        codes = set(sel["iso3"])
        if overrides:
            for code, value in overrides.items():
                if value is None:
                    codes.discard(code)
                else:
                    codes.add(code)
        return sorted(codes)
    out = []
    for entry in _entries(base, overrides):
        if entry.status == "unclear" and not include_unclear:
            continue
        if entry.status == "union" and not include_unions:
            continue
        if _active(entry, None if base in _STATIC_GROUPS else year):
            out.append(entry.iso3)
    return sorted(set(out))


def membership_table(*, include_classifications: bool = False) -> pd.DataFrame:
    """Every membership: country × group with status, dates and sources.

    Parameters
    ----------
    include_classifications : bool, default False
        Also list the World Bank region and income group of every country (one row per
        country and classification, ``group`` like ``"wb_region:South Asia"``).

    Returns
    -------
    pandas.DataFrame
        Columns ``iso3, name, group, status, start, from_year, to_year, note, source``.
        ``status`` is ``member``, ``partner``, ``unclear`` (listed but excluded by
        default) or ``union`` (EU/AU). ``from_year``/``to_year`` are nullable integers
        (``<NA>`` = open or undated).

    Examples
    --------
    >>> t = membership_table()
    >>> t.query("group == 'BRICS' and iso3 == 'ZAF'")[["start", "from_year"]].values.tolist()
    [['2011-04-14', 2011]]
    >>> sorted(t["status"].unique())
    ['member', 'partner', 'unclear', 'union']
    """
    rows = []
    names = _canonical_names()
    extra_names = {"AFU": "African Union", "EUU": "European Union"}
    for base in sorted({e.group for e in _ENTRIES} | set(_STATIC_GROUPS)):
        for e in _entries(base, None):
            rows.append(
                {
                    "iso3": e.iso3,
                    "name": names.get(e.iso3, extra_names.get(e.iso3, "")),
                    "group": e.group,
                    "status": e.status,
                    "start": e.start,
                    "from_year": e.from_year,
                    "to_year": e.to_year,
                    "note": e.note,
                    "source": _SRC.get(e.source, e.source),
                }
            )
    if include_classifications:
        meta = wb_country_meta()
        meta = meta[meta["is_aggregate"] == 0]
        src = f"World Bank WDI country metadata, edition {WB_EDITION} (CC BY 4.0)"
        for base, col in _CLASSIFICATIONS.items():
            for code, name, label in zip(meta["iso3"], meta["name"], meta[col], strict=True):
                if label:
                    rows.append(
                        {
                            "iso3": code,
                            "name": name,
                            "group": f"{base}:{label}",
                            "status": "member",
                            "start": "",
                            "from_year": None,
                            "to_year": None,
                            "note": "static snapshot",
                            "source": src,
                        }
                    )
    table = pd.DataFrame(rows)
    for col in ("from_year", "to_year"):
        table[col] = table[col].astype("Int64")
    return table.sort_values(["group", "iso3"], kind="stable").reset_index(drop=True)


def add_group_coord(
    panel: xr.DataArray,
    group: str,
    *,
    name: str | None = None,
    by_year: bool = True,
    include_unclear: bool = False,
    include_unions: bool = False,
    overrides: Mapping[str, Override] | None = None,
) -> xr.DataArray:
    """Return ``panel`` with a coordinate saying which units belong to ``group``.

    Parameters
    ----------
    panel : xarray.DataArray
        A panel whose ``unit`` labels are ISO3 codes.
    group : str
        A membership group (boolean coordinate) or ``"wb_region"`` / ``"wb_income"``
        (label coordinate: the region / income group of each unit, ``None`` if unknown).
        ``"wb_income:High income"`` etc. give a boolean coordinate.
    name : str, optional
        Name of the coordinate (default: ``group`` with ``:`` and spaces replaced by
        ``_``).
    by_year : bool, default True
        For dated groups and a panel with integer-year ``time`` labels: a ``(unit, time)``
        coordinate with the membership of each year. Otherwise (or ``by_year=False``): a
        ``unit`` coordinate with the current membership. Static groups always give a
        ``unit`` coordinate.
    include_unclear, include_unions, overrides
        As in :func:`members`.

    Returns
    -------
    xarray.DataArray
        A new panel (the input is not modified).

    Raises
    ------
    InvalidParameterError
        If ``by_year`` is requested but the ``time`` labels are not years, or the name
        clashes with a dim.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> p = xr.DataArray(np.zeros((3, 2, 1)), dims=("unit", "time", "indicator"),
    ...                  coords={"unit": ["BRA", "EGY", "FRA"], "time": [2023, 2024],
    ...                          "indicator": ["x"]})
    >>> out = add_group_coord(p, "BRICS")
    >>> out["BRICS"].dims
    ('unit', 'time')
    >>> out["BRICS"].sel(unit="EGY").values.tolist()
    [False, True]
    >>> add_group_coord(p, "wb_income")["wb_income"].values.tolist()
    ['Upper middle income', 'Lower middle income', 'High income']
    """
    if not isinstance(panel, xr.DataArray) or "unit" not in panel.dims:
        raise InvalidParameterError(
            "add_group_coord needs a panel (xarray.DataArray with a 'unit' dim); got "
            f"{type(panel).__name__}."
        )
    base, label = _resolve(group)
    coord_name = name or str(group).replace(":", "_").replace(" ", "_")
    if coord_name in panel.dims:
        raise InvalidParameterError(
            f"The coordinate name {coord_name!r} clashes with a dim of the panel; pass name=."
        )
    units = [str(u) for u in panel["unit"].values]
    if base in _CLASSIFICATIONS and label is None:
        meta = wb_country_meta().set_index("iso3")[_CLASSIFICATIONS[base]]
        values = np.array([meta.get(u) or None for u in units], dtype=object)
        return panel.assign_coords({coord_name: ("unit", values)})
    dated = base not in _STATIC_GROUPS and base not in _CLASSIFICATIONS
    kwargs: dict[str, Any] = {
        "include_unclear": include_unclear,
        "include_unions": include_unions,
        "overrides": overrides,
    }
    if by_year and dated and "time" in panel.dims:
        times = panel["time"].values
        years = _as_years(times)
        table = np.zeros((len(units), len(years)), dtype=bool)
        for j, year in enumerate(years):
            now = set(members(group, year, **kwargs))
            table[:, j] = [u in now for u in units]
        return panel.assign_coords({coord_name: (("unit", "time"), table)})
    current = set(members(group, None, **kwargs))
    return panel.assign_coords({coord_name: ("unit", np.array([u in current for u in units]))})


def _as_years(times: np.ndarray) -> list[int]:
    if times.dtype == object and all(_is_year(t) for t in times):
        times = times.astype(np.int64)
    ok = np.issubdtype(times.dtype, np.integer) or (
        np.issubdtype(times.dtype, np.floating) and bool(np.all(np.mod(times, 1) == 0))
    )
    if not ok or (len(times) and (np.min(times) < 1900 or np.max(times) > 2200)):
        raise InvalidParameterError(
            f"add_group_coord(by_year=True) needs integer years as 'time' labels; got "
            f"{list(times)[:5]}. Pass by_year=False for the current membership."
        )
    return [int(t) for t in times]


# ---------------------------------------------------------------------- names <-> ISO3
@functools.cache
def _coco() -> Any:
    """A ``country_converter.CountryConverter`` or ``None`` (not installed / unusable)."""
    try:
        import country_converter
    except ImportError:
        return None
    with _quiet_coco():
        # country_converter 1.3.2 cannot load its table on pandas 3: fall through
        with contextlib.suppress(Exception):
            return country_converter.CountryConverter()
        try:  # same table, read with every column as text (NA = Namibia, not missing)
            path = country_converter.country_converter.COUNTRY_DATA_FILE
            data = pd.read_csv(path, sep="\t", encoding="utf-8", dtype=str, keep_default_na=False)
            ints = ["ISOnumeric", "UNcode", "FAOcode", "GBDcode", "EURO", "UN", "UNmember",
                    "obsolete", "GEOnumeric"]  # fmt: skip
            for col in ints:
                if col in data:
                    data[col] = pd.to_numeric(data[col], errors="coerce")
            data = data.astype({c: object for c in data.columns if c not in ints})
            return country_converter.CountryConverter(country_data=data)
        except Exception:  # fall back to the built-in table only
            return None


@contextlib.contextmanager
def _quiet_coco() -> Iterator[None]:
    """Silence country_converter's "not found" log messages for the duration of a call."""
    logger = logging.getLogger("country_converter")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


_NOT_FOUND = "\x00not found"


def _coco_lookup(name: str, to: str) -> str | None:
    coco = _coco()
    if coco is None:
        return None
    with _quiet_coco():
        try:
            out = coco.convert(names=name, to=to, not_found=_NOT_FOUND)
        except Exception:  # a third-party parser failure means "unknown"
            return None
    return out if isinstance(out, str) and out and out != _NOT_FOUND else None


def _close_names(name: str, n: int = 5) -> list[str]:
    index = _alias_index()
    canon = _canonical_names()
    query = _norm(name)
    # very short aliases ("us", "uk", "uae") match everything; offer them for short queries only
    pool = [k for k in index if len(k) >= 5 or len(query) < 5]
    hits = difflib.get_close_matches(query, pool, n=n * 3, cutoff=0.6)
    out: list[str] = []
    for hit in hits:
        code = index[hit]
        label = f"{canon.get(code, hit)!r} ({code})"
        if label not in out:
            out.append(label)
        if len(out) >= n:
            break
    return out


def _one_iso3(name: Hashable) -> str | None:
    if not isinstance(name, str):
        raise InvalidParameterError(f"to_iso3 expects country names (str); got {name!r}.")
    text = " ".join(name.split())
    canon = _canonical_names()
    if len(text) == 3 and text.upper() in canon and text.isupper():
        return text
    code = _alias_index().get(_norm(text))
    if code is not None:
        return code
    return _coco_lookup(text, "ISO3")


@overload
def to_iso3(names: str, *, strict: bool = True) -> str | None: ...  # type: ignore[overload-overlap]
@overload
def to_iso3(names: Iterable[str], *, strict: bool = True) -> list[str | None]: ...
def to_iso3(names: str | Iterable[str], *, strict: bool = True) -> str | list[str | None] | None:
    """Country names (or ISO3 codes) → ISO3 codes.

    Looks names up in the bundled table of every spelling used by the data the library
    ships or documents (World Bank, Findex, UNCTAD, ITU, UN, LPI, COINr's ASEM; matching
    ignores case, accents and punctuation), then in ``country_converter`` if it is
    installed (the optional ``countries`` extra). World Bank aggregate names map to their
    World Bank codes (``"World"`` → ``"WLD"``).

    Parameters
    ----------
    names : str or iterable of str
    strict : bool, default True
        Raise on unknown names; otherwise return ``None`` for them.

    Returns
    -------
    str or list
        One code per name (a str for a str input).

    Raises
    ------
    DataError
        Listing every unknown name with its closest known names.

    Examples
    --------
    >>> to_iso3("Türkiye"), to_iso3("turkey"), to_iso3("Cote d'Ivoire")
    ('TUR', 'TUR', 'CIV')
    >>> to_iso3(["Egypt, Arab Rep.", "Iran (Islamic Republic of)", "BRA"])
    ['EGY', 'IRN', 'BRA']
    >>> to_iso3("Atlantis", strict=False) is None
    True
    """
    single = isinstance(names, str)
    items: list[Any] = [names] if single else list(names)
    out = [_one_iso3(n) for n in items]
    if strict:
        unknown = [n for n, c in zip(items, out, strict=True) if c is None]
        if unknown:
            parts = []
            for n in dict.fromkeys(unknown):
                close = _close_names(str(n))
                parts.append(f"{n!r} (close matches: {', '.join(close) or 'none'})")
            raise DataError(
                f"Unknown country names: {'; '.join(parts)}. Use a known spelling or an ISO3 "
                "code, install country_converter (pip install 'brics_ecom[countries]'), or "
                "pass strict=False to get None."
            )
    return out[0] if single else out


@overload
def to_name(codes: str, *, strict: bool = True) -> str | None: ...  # type: ignore[overload-overlap]
@overload
def to_name(codes: Iterable[str], *, strict: bool = True) -> list[str | None]: ...
def to_name(codes: str | Iterable[str], *, strict: bool = True) -> str | list[str | None] | None:
    """ISO3 (or World Bank aggregate) codes → the World Bank's short country names.

    Parameters
    ----------
    codes : str or iterable of str
    strict : bool, default True
        Raise on unknown codes; otherwise return ``None`` for them.

    Raises
    ------
    DataError
        Listing every unknown code with its closest known codes.

    Examples
    --------
    >>> to_name("ZAF")
    'South Africa'
    >>> to_name(["EGY", "WLD"])
    ['Egypt, Arab Rep.', 'World']
    """
    single = isinstance(codes, str)
    items: list[Any] = [codes] if single else list(codes)
    canon = _canonical_names()
    out: list[str | None] = []
    for code in items:
        if not isinstance(code, str):
            raise InvalidParameterError(f"to_name expects ISO3 codes (str); got {code!r}.")
        key = code.strip().upper()
        out.append(canon.get(key) or _coco_lookup(key, "name_short"))
    if strict:
        unknown = [c for c, n in zip(items, out, strict=True) if n is None]
        if unknown:
            parts = []
            for c in dict.fromkeys(unknown):
                close = difflib.get_close_matches(c.strip().upper(), list(canon), n=5)
                parts.append(f"{c!r} (close matches: {', '.join(close) or 'none'})")
            raise DataError(
                f"Unknown country codes: {'; '.join(parts)}. Pass ISO3 codes, or strict=False "
                "to get None."
            )
    return out[0] if single else out
