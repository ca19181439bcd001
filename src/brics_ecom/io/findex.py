"""World Bank Global Findex: the Databank "wide" export (one row per economy × year)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataError, InvalidParameterError
from ..groups import _wb_aggregate_codes, to_iso3
from ._common import (
    Source,
    build_panel,
    code_list,
    drop_units,
    filter_long,
    parse_numbers,
    reader_args,
)

__all__ = ["FINDEX_COLUMNS", "findex_columns", "read_findex"]

# concept code, column stem, has the 12 breakdowns
_CONCEPTS: tuple[tuple[str, str, bool], ...] = (
    ("account", "Account", True),
    ("fiaccount", "Financial institution account", True),
    ("mobileaccount", "Mobile money account", True),
    ("debitcard", "Owns a debit card", True),
    ("creditcard", "Owns a credit card", True),
    ("card", "Owns a debit or credit card", True),
    ("dig_pay", "Made or received a digital payment", True),
    ("dig_pay_made", "Made a digital payment", True),
    ("dig_pay_recv", "Received digital payments", True),
    ("buy_online", "Used a mobile phone or the internet to buy something online", True),
    ("bills_online", "Used a mobile phone or the internet to pay bills", True),
    ("send_online", "Used a mobile phone or the internet to send money", True),
    ("account_online", "Used a mobile phone or the internet to access an account", True),
    ("dig_merchant", "Made a digital merchant payment", True),
    ("merchant_online", "Made a digital online merchant payment for an online purchase", False),
    ("cod_online", "Made a cash payment upon delivery for an online purchase", False),
    ("internet", "Has access to the internet", False),
    ("mobile_phone", "Own a mobile phone", False),
)
# breakdown suffix of the code, text after the stem, population in brackets
_BREAKDOWNS: tuple[tuple[str, str, str], ...] = (
    ("t", "", "% age 15+"),
    ("f", ", female", "% age 15+"),
    ("m", ", male", "% age 15+"),
    ("young", ", young", "% ages 15-24"),
    ("old", ", older", "% age 25+"),
    ("pri", ", primary education or less", "% ages 15+"),
    ("sec", ", secondary education or more", "% ages 15+"),
    ("p40", ", income, poorest 40%", "% ages 15+"),
    ("r60", ", income, richest 60%", "% ages 15+"),
    ("rural", ", rural", "% age 15+"),
    ("urban", ", urban", "% age 15+"),
    ("olf", ", out of labor force", "% age 15+"),
    ("ilf", ", in labor force", "% age 15+"),
)


def _build_table() -> dict[str, str]:
    table = {}
    for code, stem, full in _CONCEPTS:
        for suffix, text, pop in _BREAKDOWNS if full else _BREAKDOWNS[:1]:
            table[f"{code}_{suffix}"] = f"{stem}{text} ({pop})"
    # spelled without '%' in the 2021 export
    table["dig_instore_t"] = "Made a digital in-store merchant payment (age 15+)"
    # a count (not a percentage), misspelt as in the export; not read by default
    table["pop_adult"] = "Adult populaiton"
    return table


#: Short code → column of the Findex 2021 Databank wide export (read-only).
FINDEX_COLUMNS: Mapping[str, str] = MappingProxyType(_build_table())

_NOT_DEFAULT = {"pop_adult"}
_ID_COLUMNS = {
    "country name": "name",
    "country code": "code",
    "year": "year",
    "region": "region",
    "income group": "income",
    "adult populaiton": "pop",
    "adult population": "pop",
}


def findex_columns() -> pd.DataFrame:
    """The mapping table of the Findex columns :func:`read_findex` exposes.

    Codes are ``<concept>_<breakdown>``: breakdowns ``t`` (all adults), ``f``/``m``
    (women/men), ``young`` (15–24), ``old`` (25+), ``pri``/``sec`` (education), ``p40`` /
    ``r60`` (poorest 40 % / richest 60 % of incomes), ``rural``/``urban``, ``olf``/``ilf``
    (out of / in the labour force). ``account_t`` is WDI's ``FX.OWN.TOTL.ZS``.

    Examples
    --------
    >>> t = findex_columns()
    >>> t.loc["account_f", "column"]
    'Account, female (% age 15+)'
    >>> t.loc["buy_online_t", ["concept", "breakdown"]].tolist()
    ['buy_online', 't']
    """
    rows = []
    for code, column in FINDEX_COLUMNS.items():
        concept, _, breakdown = code.rpartition("_")
        if code == "pop_adult":
            concept, breakdown = "pop_adult", ""
        rows.append({"code": code, "column": column, "concept": concept, "breakdown": breakdown})
    return pd.DataFrame(rows).set_index("code")


def read_findex(
    path: Source,
    *,
    columns: str | Iterable[str] | None = None,
    countries: str | Iterable[str] | None = None,
    years: int | Iterable[int] | None = None,
    drop_aggregates: bool = True,
) -> xr.DataArray:
    """Read the Global Findex Databank wide export (``DatabankWide``) into a panel.

    The file has one row per economy × survey year: ``Country name, Country code, Year,
    Adult populaiton, Region, Income group`` and one column per indicator, with values as
    percentage strings (``"80%"``).

    Parameters
    ----------
    path : str, path-like or text buffer
    columns : str or iterable of str, optional
        Short codes of :data:`FINDEX_COLUMNS` or original column names. Default: every
        mapped column present in the file (except ``pop_adult``). ``"all"``: every value
        column, coded by its short code when it has one, else by its original name.
    countries : str or iterable of str, optional
        ISO3 codes to keep.
    years : int or iterable of int, optional
        Survey years to keep (2011, 2014, 2017, 2021, 2022).
    drop_aggregates : bool, default True
        Drop regional and income-group rows (World Bank aggregate codes such as ``WLD``,
        ``EAP``, ``HIC``, and rows with neither region nor income group) and report them.

    Returns
    -------
    xarray.DataArray
        Panel in percent (``"80%"`` → ``80.0``), ``unit`` = ISO3, ``time`` = survey year,
        ``indicator`` = short code with the original column name in the
        ``indicator_name`` coordinate. Rows without a country code get one from their name
        (:func:`brics_ecom.groups.to_iso3`).

    Raises
    ------
    DataError
        Naming the column and line of a malformed value, an unknown column, or an unknown
        country name.

    Examples
    --------
    >>> import io
    >>> text = ("Country name,Country code,Year,Adult populaiton,Region,Income group,"
    ...         "Account (% age 15+),\\"Account, female (% age 15+)\\"\\n"
    ...         "Brazil,BRA,2021,163000000,Latin America & Caribbean,Upper middle income,"
    ...         "84%,83%\\n")
    >>> p = read_findex(io.StringIO(text))
    >>> p.sel(unit="BRA", time=2021).to_series().to_dict()
    {'account_t': 84.0, 'account_f': 83.0}
    >>> p.indicator_name.values.tolist()
    ['Account (% age 15+)', 'Account, female (% age 15+)']
    """
    func = "read_findex"
    params, _, cty, yrs, text = reader_args(
        func, path, indicators=columns, countries=countries, years=years,
        drop_aggregates=drop_aggregates, indicator_param="columns",
    )  # fmt: skip
    where = text.label
    raw = pd.read_csv(text.buffer(), dtype=str, keep_default_na=False)
    raw.columns = [" ".join(str(c).split()) for c in raw.columns]
    raw = raw.loc[:, [c for c in raw.columns if c and not c.startswith("Unnamed:")]]
    ids = {_ID_COLUMNS[c.casefold()]: c for c in raw.columns if c.casefold() in _ID_COLUMNS}
    if "year" not in ids or not ({"code", "name"} & set(ids)):
        raise DataError(
            f"{func}: {where} needs 'Country code' (or 'Country name') and 'Year' columns; "
            f"it has {list(raw.columns)[:8]}. Is it the Findex Databank wide export?"
        )
    lines = pd.Series(np.arange(len(raw)) + 2, index=raw.index)
    selected = _select_columns(
        columns, raw.columns, set(ids.values()) - {ids.get("pop", "")}, func, where
    )
    if "code" in ids:
        units = raw[ids["code"]].str.strip()
    else:
        units = pd.Series(to_iso3([" ".join(n.split()) for n in raw[ids["name"]]]), index=raw.index)
    if (units == "").any():
        if "name" not in ids:
            bad = lines[units == ""].head(5).tolist()
            raise DataError(f"{func}: {where} has rows without a country code (lines {bad}).")
        empty = units == ""
        fill = to_iso3([" ".join(n.split()) for n in raw.loc[empty, ids["name"]]])
        units = units.mask(empty, pd.Series(fill, index=units.index[empty], dtype=object))
    year = pd.to_numeric(raw[ids["year"]].str.strip(), errors="coerce")
    if year.isna().any():
        bad = lines[year.isna()].head(5).tolist()
        raise DataError(f"{func}: {where} has a non-integer 'Year' at lines {bad}.")
    names = dict(zip(units, raw[ids["name"]].str.strip(), strict=True)) if "name" in ids else {}
    cols = list(selected.values())
    cells = raw[cols].melt(var_name="column", value_name="cell", ignore_index=False)
    cells["cell"] = cells["cell"].str.strip()
    percent_strings = bool(cells["cell"].str.endswith("%").any())
    values = parse_numbers(
        cells["cell"].str.removesuffix("%"),
        func=func,
        where=where,
        lines=lines.reindex(cells.index),
        column=cells["column"],
    )
    code_of = {col: code for code, col in selected.items()}
    df = pd.DataFrame(
        {
            "unit": units.reindex(cells.index).to_numpy(),
            "time": year.reindex(cells.index).astype(np.int64).to_numpy(),
            "indicator": cells["column"].map(code_of).to_numpy(),
            "value": values.to_numpy(),
            "_line": lines.reindex(cells.index).to_numpy(),
        }
    )
    dropped: list[str] = []
    if drop_aggregates:
        aggs = set(_wb_aggregate_codes())
        if "region" in ids and "income" in ids:
            unclassified = (raw[ids["region"]].str.strip() == "") & (
                raw[ids["income"]].str.strip() == ""
            )
            aggs |= set(units[unclassified])
        df, dropped = drop_units(
            df, aggs, func=func, where=where, what="regional/income-group aggregates", names=names
        )
    df = filter_long(df, func=func, where=where, countries=cty, years=yrs, indicators=None)
    attrs: dict[str, Any] = {
        "source": "World Bank, Global Findex Database (Databank wide export)",
        "source_file": str(text.path) if text.path else "<buffer>",
        "reader": f"brics_ecom.io.{func}",
        "format": "Findex DatabankWide CSV",
        "licence": "CC BY 4.0",
        "attribution": "World Bank, Global Findex Database",
        "units": "percent of the population in brackets of indicator_name",
        "dropped_units": dropped,
    }
    if percent_strings:
        attrs["caveat"] = (
            "values were percentage strings; the Databank export rounds them to whole percent"
        )
    return build_panel(
        df,
        func=func,
        where=where,
        attrs=attrs,
        params=params,
        unit_names=names or None,
        indicator_coords=pd.DataFrame(
            {"indicator_name": pd.Series({c: col for c, col in selected.items()})}
        ),
        indicator_order=list(selected),
    )


def _select_columns(
    columns: Any, present: pd.Index, ids: set[str], func: str, where: str
) -> dict[str, str]:
    """Short code → file column for the requested columns."""
    in_file = set(present)
    by_name = {col: code for code, col in FINDEX_COLUMNS.items()}
    if columns is None:
        out = {c: col for c, col in FINDEX_COLUMNS.items() if col in in_file}
        out = {c: col for c, col in out.items() if c not in _NOT_DEFAULT}
        if not out:
            raise DataError(
                f"{func}: {where} has none of the Findex columns brics_ecom maps "
                "(findex_columns()); pass columns='all' or the column names to read."
            )
        return out
    if isinstance(columns, str) and columns == "all":
        return {by_name.get(col, col): col for col in present if col not in ids}
    wanted = code_list(columns, "columns", func)
    if wanted is None:  # pragma: no cover - columns is not None here
        raise InvalidParameterError("columns")
    out = {}
    unknown = []
    for item in wanted:
        if item in FINDEX_COLUMNS and FINDEX_COLUMNS[item] in in_file:
            out[item] = FINDEX_COLUMNS[item]
        elif item in in_file and item not in ids:
            out[by_name.get(item, item)] = item
        else:
            unknown.append(item)
    if unknown:
        import difflib

        hints = {u: difflib.get_close_matches(u, [*FINDEX_COLUMNS, *present], n=3) for u in unknown}
        raise DataError(
            f"{func}: columns {unknown} are neither short codes of findex_columns() present in "
            f"{where} nor columns of the file. Close matches: {hints}."
        )
    return out
