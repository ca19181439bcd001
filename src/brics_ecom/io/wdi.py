"""World Bank World Development Indicators: bulk CSV files and the API (through wbgapi)."""

from __future__ import annotations

import csv
import datetime as _dt
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataError, InvalidParameterError
from ..groups import _wb_aggregate_codes
from ._common import (
    Source,
    _Text,
    build_panel,
    code_list,
    drop_units,
    filter_long,
    parse_numbers,
    read_source,
    reader_args,
    year_set,
)

__all__ = ["fetch_wdi", "read_wdi_csv"]

_LICENCE = "CC BY 4.0"
_ATTRIBUTION = "World Bank, World Development Indicators"
_WDI_CODE = re.compile(r"^[A-Z][A-Z0-9]*(\.[A-Za-z0-9_]+)+$")


def _header_index(text: _Text, func: str) -> tuple[int, dict[str, str]]:
    """Line index of the ``Country Name,Country Code`` header and the preamble fields."""
    head = text.lines(12)
    for i, line in enumerate(head):
        fields = next(csv.reader([line]), [])
        if [f.strip() for f in fields[:2]] == ["Country Name", "Country Code"]:
            pre = {}
            for pline in head[:i]:
                pf = [f.strip() for f in next(csv.reader([pline]), [])]
                if len(pf) >= 2 and pf[0]:
                    pre[pf[0]] = pf[1]
            return i, pre
    raise DataError(
        f"{func}: {text.label} has no 'Country Name,Country Code' header in its first "
        f"{len(head)} lines; is it a World Bank WDI CSV (bulk API_*.csv or a long file with "
        "Country Name, Country Code, [Indicator Code,] Year, Value)?"
    )


def _metadata_aggregates(
    metadata: Any, text: _Text, func: str
) -> tuple[set[str], dict[str, str], str]:
    """Aggregate codes (empty Region) and names from a WDI Metadata_Country file."""
    if metadata is None:
        path = text.path
        if path is None or not path.name.startswith("API_"):
            return set(), {}, "built-in list of World Bank aggregate codes"
        sibling = path.with_name("Metadata_Country_" + path.name)
        if not sibling.is_file():
            return set(), {}, "built-in list of World Bank aggregate codes"
        metadata = sibling
    if isinstance(metadata, pd.DataFrame):
        meta = metadata.copy()
        label = "the metadata DataFrame"
    elif isinstance(metadata, str | Path):
        mtext = read_source(metadata, func)
        meta = pd.read_csv(mtext.buffer(), dtype=str, keep_default_na=False)
        label = mtext.label
    else:
        raise InvalidParameterError(
            f"The 'metadata' parameter of {func} must be a path to a WDI Metadata_Country CSV, "
            f"a DataFrame or None; got {type(metadata).__name__}."
        )
    meta.columns = [str(c).strip() for c in meta.columns]
    missing = [c for c in ("Country Code", "Region") if c not in meta.columns]
    if missing:
        raise DataError(
            f"{func}: the country metadata ({label}) lacks columns {missing}; it has "
            f"{list(meta.columns)[:8]}. Pass the World Bank Metadata_Country_*.csv file."
        )
    region = meta["Region"].fillna("").astype(str).str.strip()
    codes = meta["Country Code"].astype(str).str.strip()
    aggs = set(codes[region == ""])
    names = {}
    if "TableName" in meta.columns:
        names = dict(zip(codes, meta["TableName"].fillna("").astype(str), strict=True))
    return aggs, names, f"Metadata_Country file ({label}) and the built-in list"


def read_wdi_csv(
    path: Source,
    *,
    indicators: str | Iterable[str] | None = None,
    countries: str | Iterable[str] | None = None,
    years: int | Iterable[int] | None = None,
    drop_aggregates: bool = True,
    metadata: str | Path | pd.DataFrame | None = None,
    indicator: str | None = None,
) -> xr.DataArray:
    """Read a World Bank WDI CSV file (bulk wide or long) into a panel.

    Two layouts are recognised from the header:

    * **wide** (the bulk ``API_<code>_DS2_en_csv_v2_*.csv`` download): ``Country Name,
      Country Code, Indicator Name, Indicator Code, 1960, 1961, ...``, with or without the
      4-line preamble (``"Data Source","World Development Indicators"``, ``"Last Updated
      Date",...``) and with or without a UTF-8 byte-order mark;
    * **long**: ``Country Name, Country Code, [Indicator Code,] Year, Value``. Without an
      ``Indicator Code`` column the code comes from ``indicator=`` or the file name
      (``IT.NET.SECR.P6.csv`` and ``IT.NET.SECR.P6__release2018.csv`` → ``IT.NET.SECR.P6``).

    Parameters
    ----------
    path : str, path-like or text buffer
        The file (``.gz`` allowed).
    indicators, countries : str or iterable of str, optional
        Keep only these WDI codes / ISO3 codes (requested codes that are absent are reported
        with a :class:`~brics_ecom.errors.DataWarning`).
    years : int or iterable of int, optional
        Keep only these years (e.g. ``range(2010, 2024)``).
    drop_aggregates : bool, default True
        Drop World Bank aggregates (``WLD``, ``HIC``, ``ARB``, ...) and report them. An
        aggregate is a code with an empty ``Region`` in the country metadata, or a code of
        the built-in list (every aggregate of the bundled WDI metadata plus legacy codes
        such as ``INX``).
    metadata : path or DataFrame, optional
        The ``Metadata_Country_*.csv`` file of the download. By default, the sibling file
        ``Metadata_Country_<name>`` of an ``API_<name>`` file is used when present.
    indicator : str, optional
        Indicator code of a long file without an ``Indicator Code`` column.

    Returns
    -------
    xarray.DataArray
        Panel with ``unit`` = ISO3 code (``unit_name`` coordinate = World Bank name),
        ``time`` = int year, ``indicator`` = WDI code (``indicator_name`` coordinate when
        the file has names). ``attrs`` hold the provenance: ``source``, ``source_file``,
        ``reader``, ``format``, ``licence``, ``attribution``, ``edition`` (the "Last
        Updated Date" of the preamble, when present), ``aggregates_from`` and
        ``dropped_units``.

    Raises
    ------
    DataError
        If the header is not a WDI header, a value is not a number (naming the line and
        year column), or a unit × year × indicator appears twice.

    Examples
    --------
    >>> import io
    >>> text = ('"Data Source","World Development Indicators",\\n\\n'
    ...         '"Last Updated Date","2024-11-13",\\n\\n'
    ...         '"Country Name","Country Code","Indicator Name","Indicator Code","2019","2020",\\n'
    ...         '"Brazil","BRA","Individuals using the Internet (% of population)",'
    ...         '"IT.NET.USER.ZS","73.9","81.3",\\n'
    ...         '"World","WLD","Individuals using the Internet (% of population)",'
    ...         '"IT.NET.USER.ZS","56.7","62.6",\\n')
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     p = read_wdi_csv(io.StringIO(text))
    >>> p.sel(unit="BRA", time=2020, indicator="IT.NET.USER.ZS").item()
    81.3
    >>> p.attrs["edition"], p.attrs["dropped_units"]
    ('2024-11-13', ['WLD'])
    >>> print(w[0].message)  # doctest: +ELLIPSIS
    read_wdi_csv: dropped 2 rows of 1 World Bank aggregates from <buffer>: WLD (World).
    """
    func = "read_wdi_csv"
    params, ind_list, cty_list, yrs, text = reader_args(
        func, path, indicators=indicators, countries=countries, years=years,
        drop_aggregates=drop_aggregates,
    )  # fmt: skip
    where = text.label
    hdr, preamble = _header_index(text, func)
    raw = pd.read_csv(text.buffer(), skiprows=hdr, dtype=str, keep_default_na=False)
    raw.columns = [str(c).strip() for c in raw.columns]
    raw = raw.loc[:, [c for c in raw.columns if c and not c.startswith("Unnamed:")]]
    raw["_line"] = np.arange(len(raw)) + hdr + 2
    year_cols = [c for c in raw.columns if re.fullmatch(r"\d{4}", c)]
    if year_cols:
        fmt = "wide"
        missing = [c for c in ("Country Code", "Indicator Code") if c not in raw.columns]
        if missing:
            raise DataError(f"{func}: {where} is a wide WDI file without columns {missing}.")
        ids = [c for c in raw.columns if c not in year_cols]
        long = raw.melt(id_vars=ids, value_vars=year_cols, var_name="Year", value_name="Value")
    elif {"Year", "Value"} <= set(raw.columns):
        fmt = "long"
        long = raw
    else:
        raise DataError(
            f"{func}: {where} has neither year columns (wide layout) nor 'Year' and 'Value' "
            f"columns (long layout); its columns are {list(raw.columns)[:10]}."
        )
    if "Indicator Code" in long.columns:
        codes = long["Indicator Code"].str.strip()
    else:
        code = indicator or _code_from_name(text, func)
        codes = pd.Series(code, index=long.index)
    units = long["Country Code"].str.strip()
    empty_unit = units == ""
    if empty_unit.any():
        lines = long.loc[empty_unit, "_line"].drop_duplicates().head(5).tolist()
        raise DataError(f"{func}: {where} has rows without a Country Code (lines {lines}).")
    values = parse_numbers(
        long["Value"],
        func=func,
        where=where,
        lines=long["_line"],
        column=long["Year"] if fmt == "wide" else "Value",
    )
    df = pd.DataFrame(
        {
            "unit": units,
            "time": pd.to_numeric(long["Year"].str.strip(), errors="coerce"),
            "indicator": codes,
            "value": values,
            "_line": long["_line"],
        }
    )
    bad_year = df["time"].isna()
    if bad_year.any():
        rows = long.loc[bad_year, ["_line", "Year"]].head(5).to_dict("records")
        raise DataError(f"{func}: {where} has rows with a non-integer Year: {rows}.")
    df["time"] = df["time"].astype(np.int64)
    if fmt == "long":
        df = df[df["value"].notna()]  # long files list observations only
    names = {}
    if "Country Name" in long.columns:
        names = dict(zip(units, long["Country Name"].str.strip(), strict=True))
    aggs, meta_names, agg_source = _metadata_aggregates(metadata, text, func)
    dropped: list[str] = []
    if drop_aggregates:
        df, dropped = drop_units(
            df,
            aggs | _wb_aggregate_codes(),
            func=func,
            where=where,
            what="World Bank aggregates",
            names={**meta_names, **names},
        )
    df = filter_long(df, func=func, where=where, countries=cty_list, years=yrs, indicators=ind_list)
    ind_coords = None
    if "Indicator Name" in long.columns:
        ind_names = dict(zip(codes, long["Indicator Name"].str.strip(), strict=True))
        ind_coords = pd.DataFrame({"indicator_name": pd.Series(ind_names)})
    attrs: dict[str, Any] = {
        "source": f"World Bank, {preamble.get('Data Source', 'World Development Indicators')}",
        "source_file": str(text.path) if text.path else "<buffer>",
        "reader": f"brics_ecom.io.{func}",
        "format": f"World Bank WDI CSV ({fmt})",
        "licence": _LICENCE,
        "attribution": _ATTRIBUTION,
        "aggregates_from": agg_source if drop_aggregates else "not dropped",
        "dropped_units": dropped,
    }
    if "Last Updated Date" in preamble:
        attrs["edition"] = preamble["Last Updated Date"]
    return build_panel(
        df,
        func=func,
        where=where,
        attrs=attrs,
        params=params,
        unit_names=names,
        indicator_coords=ind_coords,
    )


def _code_from_name(text: _Text, func: str) -> str:
    if text.path is not None:
        stem = text.path.name.split("__")[0]
        for suffix in (".gz", ".csv"):
            stem = stem.removesuffix(suffix)
        if _WDI_CODE.match(stem):
            return stem
    raise DataError(
        f"{func}: {text.label} is a long WDI file without an 'Indicator Code' column and its "
        "name is not a WDI code; pass indicator='IT.NET.USER.ZS' (for example)."
    )


def fetch_wdi(
    indicators: str | Iterable[str],
    countries: str | Iterable[str] | None = None,
    years: int | Iterable[int] | None = None,
    *,
    drop_aggregates: bool = True,
) -> xr.DataArray:
    """Download WDI series through the World Bank API (``wbgapi``) into a panel.

    Needs the optional package ``wbgapi`` (``pip install 'brics_ecom[wdi]'``) and network
    access. The call is ``wbgapi.data.fetch(indicators, economy=countries or "all",
    time=years or "all", skipBlanks=True, labels=True, numericTimeKeys=True)``.

    Parameters
    ----------
    indicators : str or iterable of str
        WDI codes, e.g. ``["IT.NET.USER.ZS", "IT.NET.SECR.P6"]``.
    countries : str or iterable of str, optional
        ISO3 codes (default: every economy).
    years : int or iterable of int, optional
        Years (default: all).
    drop_aggregates : bool, default True
        Drop the aggregates the API flags (and those of the built-in list) and report them.

    Returns
    -------
    xarray.DataArray
        Panel as in :func:`read_wdi_csv`; ``attrs["retrieved"]`` is the UTC time of the
        download and ``attrs["edition"]`` the wbgapi version used.

    Raises
    ------
    ImportError
        If ``wbgapi`` is not installed (naming the ``wdi`` extra).
    DataError
        If the API returns records of an unexpected shape, or nothing.

    Examples
    --------
    >>> p = fetch_wdi("IT.NET.USER.ZS", ["BRA", "IND"], range(2015, 2021))  # doctest: +SKIP
    """
    func = "fetch_wdi"
    codes = code_list(indicators, "indicators", func)
    if not codes:
        raise InvalidParameterError("fetch_wdi needs at least one indicator code.")
    cty = code_list(countries, "countries", func)
    yrs = year_set(years, func)
    try:
        import wbgapi
    except ImportError as exc:
        raise ImportError(
            "fetch_wdi needs the optional package 'wbgapi'. Install it with "
            "pip install 'brics_ecom[wdi]' (or pip install wbgapi), or download the bulk CSV "
            "and use read_wdi_csv."
        ) from exc
    rows = wbgapi.data.fetch(
        codes,
        economy=cty if cty else "all",
        time=sorted(yrs) if yrs else "all",
        skipBlanks=True,
        labels=True,
        numericTimeKeys=True,
    )
    records = []
    agg_flagged: set[str] = set()
    names: dict[str, str] = {}
    ind_names: dict[str, str] = {}
    for i, row in enumerate(rows):
        try:
            series, economy, time = row["series"], row["economy"], row["time"]
            code, unit = str(series["id"]), str(economy["id"])
            year_raw = time["id"] if isinstance(time, dict) else time
            year = int(str(year_raw).removeprefix("YR"))
            value = row["value"]
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(
                f"{func}: record {i} from wbgapi has an unexpected shape ({exc!r}): {row!r}."
            ) from exc
        if isinstance(economy, dict):
            names[unit] = str(economy.get("value", ""))
            if economy.get("aggregate"):
                agg_flagged.add(unit)
        if isinstance(series, dict):
            ind_names[code] = str(series.get("value", ""))
        records.append({"unit": unit, "time": year, "indicator": code, "value": value, "_line": i})
    if not records:
        raise DataError(
            f"{func}: the World Bank API returned no data for indicators={codes}, "
            f"countries={cty}, years={sorted(yrs) if yrs else None}."
        )
    df = pd.DataFrame.from_records(records)
    df["value"] = parse_numbers(
        df["value"].astype(object), func=func, where="the API response", column="value"
    )
    df = df[df["value"].notna()]
    dropped: list[str] = []
    if drop_aggregates:
        df, dropped = drop_units(
            df,
            agg_flagged | _wb_aggregate_codes(),
            func=func,
            where="the API response",
            what="World Bank aggregates",
            names=names,
        )
    df = filter_long(
        df, func=func, where="the API response", countries=cty, years=yrs, indicators=codes
    )
    attrs: dict[str, Any] = {
        "source": "World Development Indicators (World Bank API via wbgapi)",
        "source_file": "",
        "reader": f"brics_ecom.io.{func}",
        "format": "World Bank API v2 (wbgapi.data.fetch)",
        "licence": _LICENCE,
        "attribution": _ATTRIBUTION,
        "retrieved": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "edition": f"wbgapi {getattr(wbgapi, '__version__', '?')}",
        "dropped_units": dropped,
    }
    return build_panel(
        df,
        func=func,
        where="the API response",
        attrs=attrs,
        params={"indicators": indicators, "countries": countries, "years": years},
        unit_names=names,
        indicator_coords=pd.DataFrame({"indicator_name": pd.Series(ind_names)}),
    )
