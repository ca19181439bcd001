"""Eurostat: TSV bulk files, SDMX-CSV and simple long CSV files."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataError, InvalidParameterError
from ..panel import DIMS
from ._common import (
    Source,
    _Text,
    build_panel,
    drop_units,
    filter_long,
    parse_numbers,
    reader_args,
    to_time,
)

__all__ = ["EUROSTAT_FLAGS", "EUROSTAT_GEO", "get_flags", "read_eurostat"]

#: Eurostat geo codes (ISO 3166 alpha-2 except EL = Greece, UK = United Kingdom, XK =
#: Kosovo) → ISO3. Read-only; pass ``geo_map=`` to read_eurostat to add codes.
EUROSTAT_GEO: Mapping[str, str] = MappingProxyType(
    {
        # EU-27
        "AT": "AUT",
        "BE": "BEL",
        "BG": "BGR",
        "CY": "CYP",
        "CZ": "CZE",
        "DE": "DEU",
        "DK": "DNK",
        "EE": "EST",
        "EL": "GRC",
        "ES": "ESP",
        "FI": "FIN",
        "FR": "FRA",
        "HR": "HRV",
        "HU": "HUN",
        "IE": "IRL",
        "IT": "ITA",
        "LT": "LTU",
        "LU": "LUX",
        "LV": "LVA",
        "MT": "MLT",
        "NL": "NLD",
        "PL": "POL",
        "PT": "PRT",
        "RO": "ROU",
        "SE": "SWE",
        "SI": "SVN",
        "SK": "SVK",
        # EFTA, United Kingdom, candidates and neighbours
        "IS": "ISL",
        "LI": "LIE",
        "NO": "NOR",
        "CH": "CHE",
        "UK": "GBR",
        "GB": "GBR",
        "GR": "GRC",
        "AL": "ALB",
        "BA": "BIH",
        "ME": "MNE",
        "MK": "MKD",
        "RS": "SRB",
        "TR": "TUR",
        "XK": "XKX",
        "MD": "MDA",
        "UA": "UKR",
        "GE": "GEO",
        "AM": "ARM",
        "AZ": "AZE",
        "BY": "BLR",
        "RU": "RUS",
        "AD": "AND",
        "MC": "MCO",
        "SM": "SMR",
        "VA": "VAT",
        # partners that appear in some Eurostat tables
        "US": "USA",
        "CA": "CAN",
        "JP": "JPN",
        "KR": "KOR",
        "CN": "CHN",
        "IN": "IND",
        "BR": "BRA",
        "ZA": "ZAF",
        "AU": "AUS",
        "NZ": "NZL",
        "MX": "MEX",
        "IL": "ISR",
    }
)

#: Eurostat observation flags.
EUROSTAT_FLAGS: Mapping[str, str] = MappingProxyType(
    {
        "b": "break in time series",
        "c": "confidential",
        "d": "definition differs",
        "e": "estimated",
        "f": "forecast",
        "i": "see metadata",
        "n": "not significant",
        "p": "provisional",
        "r": "revised",
        "s": "Eurostat estimate",
        "u": "low reliability",
        "z": "not applicable",
    }
)

_AGGREGATE = re.compile(r"^(EU|EA|EEA|EFTA|EUR|EMU)(\d|_|$)|_")
_CELL = re.compile(
    r"^\s*(?P<value>:|[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)?\s*(?P<flag>[a-z]*)\s*$"
)
_SDMX_META = {
    "DATAFLOW",
    "LAST UPDATE",
    "STRUCTURE",
    "STRUCTURE_ID",
    "STRUCTURE_NAME",
    "ACTION",
    "TIME_PERIOD",
    "OBS_VALUE",
    "OBS_FLAG",
    "CONF_STATUS",
    "geo",
}
_RENAME = {"unit": "unit_measure", "time": "time_dim", "indicator": "indicator_dim"}


def read_eurostat(
    path: Source,
    *,
    indicators: str | Iterable[str] | None = None,
    countries: str | Iterable[str] | None = None,
    years: int | Iterable[int] | None = None,
    drop_aggregates: bool = True,
    indicator_dims: Sequence[str] | None = None,
    geo_map: Mapping[str, str] | None = None,
) -> xr.DataArray:
    """Read a Eurostat table (TSV bulk, SDMX-CSV or simple long CSV) into a panel.

    Layouts, recognised from the header:

    * **TSV bulk** (``.tsv`` or ``.tsv.gz``): a first column such as
      ``unit,size_emp,indic_is,geo\\time`` (or ``freq,...,geo\\TIME_PERIOD``) holding
      the comma-joined dimension codes, then one column per period; cells are numbers with
      optional flags (``"12.3 e"``, ``"45 bp"``) or ``":"`` (missing, maybe flagged: ``": c"``);
    * **SDMX-CSV**: ``DATAFLOW, LAST UPDATE, freq, <dims>, geo, TIME_PERIOD, OBS_VALUE,
      OBS_FLAG[, CONF_STATUS]``;
    * **long CSV**: ``geo, year`` (or ``time``), dimension columns, ``value`` and an
      optional ``flag`` column (e.g. the ``isoc_ec_esels`` extract shipped with the
      project data).

    The dimensions other than ``geo`` and time are folded into the indicator code: every
    ``indic_*`` dimension plus every other dimension that takes more than one value, joined
    by ``|`` with the ``indic_*`` dimensions first (``E_AESELL|10-49``). Each folded
    dimension becomes a coordinate on ``indicator`` (Eurostat's ``unit`` is renamed
    ``unit_measure``); dimensions with a single value go to ``attrs["constant_dims"]``.

    Parameters
    ----------
    path : str, path-like or text buffer
    indicators : str or iterable of str, optional
        Folded indicator codes to keep (e.g. ``"E_AESELL|10-49"``).
    countries : str or iterable of str, optional
        ISO3 codes to keep.
    years : int or iterable of int, optional
        Years to keep (annual data).
    drop_aggregates : bool, default True
        Drop aggregates (``EU27_2020``, ``EA20``, ``EU28``, ... any geo code that is not a
        2-letter country code) and report them. With ``False`` they are kept under their
        Eurostat code.
    indicator_dims : sequence of str, optional
        The dimensions to fold, in order (default as above).
    geo_map : mapping, optional
        Extra or replacement Eurostat geo → ISO3 codes (see :data:`EUROSTAT_GEO`).

    Returns
    -------
    xarray.DataArray
        Panel with ``unit`` = ISO3 (``unit_name`` = the Eurostat geo code), ``time`` = int
        year (strings such as ``"2020-Q1"`` for infra-annual data). The flags travel in
        ``attrs["flags"]``: a DataArray of strings with the panel's dims and labels (``""``
        = no flag; read it with :func:`get_flags`, which also aligns it to a subset of the
        panel); ``attrs["flag_codes"]`` explains the letters.

    Raises
    ------
    DataError
        On an unrecognised layout, a malformed cell (naming line and column), an unknown
        geo code, or duplicated observations.

    Examples
    --------
    >>> import io
    >>> tsv = ("unit,size_emp,indic_is,geo\\\\time\\t2021 \\t2020 \\n"
    ...        "PC_ENT,10-49,E_AESELL,DE\\t19.7 \\t17.8 \\n"
    ...        "PC_ENT,10-49,E_AESELL,EL\\t12.1 e\\t: \\n"
    ...        "PC_ENT,GE250,E_AESELL,DE\\t41.5 b\\t39.8 \\n")
    >>> p = read_eurostat(io.StringIO(tsv))
    >>> p.indicator.values.tolist()
    ['E_AESELL|10-49', 'E_AESELL|GE250']
    >>> p.sel(unit="GRC", time=2021, indicator="E_AESELL|10-49").item()
    12.1
    >>> get_flags(p).sel(unit="GRC", time=2021, indicator="E_AESELL|10-49").item()
    'e'
    >>> p.attrs["constant_dims"]
    {'unit_measure': 'PC_ENT'}
    """
    func = "read_eurostat"
    params, ind_list, cty, yrs, text = reader_args(
        func, path, indicators=indicators, countries=countries, years=years,
        drop_aggregates=drop_aggregates,
    )  # fmt: skip
    where = text.label
    first = text.lines(1)[0] if text.text else ""
    if "\t" in first and "\\" in first.split("\t")[0]:
        fmt, df, dims, meta = "Eurostat TSV", *_parse_tsv(text, func)
    elif {"TIME_PERIOD", "OBS_VALUE"} <= {c.strip() for c in first.split(",")}:
        fmt, df, dims, meta = "SDMX-CSV", *_parse_sdmx(text, func)
    elif _long_columns(first):
        fmt, df, dims, meta = "long CSV", *_parse_long(text, func)
    else:
        raise DataError(
            f"{func}: {where} is not a Eurostat TSV (first column 'dim1,...,geo\\time'), an "
            "SDMX-CSV (DATAFLOW, ..., TIME_PERIOD, OBS_VALUE, OBS_FLAG) or a long CSV "
            f"(geo, year, ..., value); its header starts {first[:80]!r}."
        )
    renamed = {d: _RENAME[d] for d in dims if d in _RENAME}  # no clash with the panel's dims
    df = df.rename(columns=renamed)
    dims = [renamed.get(d, d) for d in dims]
    geo = df["geo"].str.strip()
    mapping = {**EUROSTAT_GEO, **(dict(geo_map) if geo_map else {})}
    is_agg = geo.map(lambda g: g not in mapping and bool(_AGGREGATE.search(g) or len(g) != 2))
    unknown = sorted(set(geo[~is_agg & ~geo.isin(list(mapping))]))
    if unknown:
        raise DataError(
            f"{func}: {where} has geo codes {unknown} that brics_ecom cannot map to ISO3. "
            "Pass geo_map={'XX': 'ISO'} for them."
        )
    df = df.assign(unit=np.where(is_agg, geo, geo.map(mapping).fillna(geo)))
    geo_names = dict(zip(df["unit"], geo, strict=True))
    dropped: list[str] = []
    if drop_aggregates:
        df, dropped = drop_units(
            df, set(geo[is_agg]), func=func, where=where, what="aggregates (non-country geo codes)"
        )
    df, ind_coords, constant = _fold(df, dims, indicator_dims, func, where)
    df = df.assign(time=to_time(df["time"]))
    df = filter_long(df, func=func, where=where, countries=cty, years=yrs, indicators=ind_list)
    attrs: dict[str, Any] = {
        "source": "Eurostat",
        "source_file": str(text.path) if text.path else "<buffer>",
        "reader": f"brics_ecom.io.{func}",
        "format": fmt,
        "licence": "CC BY 4.0 (Eurostat copyright notice; Commission Decision 2011/833/EU)",
        "attribution": "Source: Eurostat",
        "constant_dims": constant,
        "dropped_units": dropped,
        "flag_codes": dict(EUROSTAT_FLAGS),
        **meta,
    }
    panel = build_panel(
        df,
        func=func,
        where=where,
        attrs=attrs,
        params=params,
        unit_names=geo_names,
        indicator_coords=ind_coords,
    )
    flags = (
        df.set_index(["unit", "time", "indicator"])["flag"]
        .to_xarray()
        .reindex({d: panel[d].values for d in DIMS})
        .fillna("")
        .transpose(*DIMS)
    )
    flags = flags.astype(object).reset_coords(drop=True)
    flags.name = "flag"
    panel.attrs["flags"] = flags
    return panel


def get_flags(panel: xr.DataArray) -> xr.DataArray | None:
    """The Eurostat flags of a panel read by :func:`read_eurostat`, aligned to its labels.

    Returns ``None`` if the panel carries no flags. Labels of the panel missing from the
    flags (e.g. after a merge) get ``""``.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> p = xr.DataArray(np.ones((1, 1, 1)), dims=("unit", "time", "indicator"),
    ...                  coords={"unit": ["DEU"], "time": [2021], "indicator": ["x"]})
    >>> get_flags(p) is None
    True
    """
    flags = panel.attrs.get("flags")
    if not isinstance(flags, xr.DataArray):
        return None
    labels = {d: panel[d].values for d in flags.dims if d in panel.dims}
    return flags.reindex(labels, fill_value="")


# ---------------------------------------------------------------------- layouts
def _split_cells(
    cells: pd.Series, func: str, where: str, lines: pd.Series, column: pd.Series
) -> tuple[pd.Series, pd.Series]:
    parts = cells.fillna("").str.extract(_CELL)
    bad = parts["value"].isna() & parts["flag"].isna()
    if bad.any():
        i = np.flatnonzero(bad.to_numpy())[:5]
        shown = [
            f"{cells.iloc[k]!r} (line {int(lines.iloc[k])}, column {column.iloc[k]!r})" for k in i
        ]
        raise DataError(
            f"{func}: malformed cells in {where}: {'; '.join(shown)}. Expected a number with "
            "optional flag letters ('12.3 e') or ':' for missing."
        )
    value = parts["value"].fillna(":")
    values = parse_numbers(value, func=func, where=where, lines=lines, column=column)
    return values, parts["flag"].fillna("")


def _parse_tsv(text: _Text, func: str) -> tuple[pd.DataFrame, list[str], dict[str, Any]]:
    where = text.label
    raw = pd.read_csv(text.buffer(), sep="\t", dtype=str, keep_default_na=False)
    key_col = raw.columns[0]
    dim_part, _, time_name = key_col.partition("\\")
    dims = [d.strip() for d in dim_part.split(",")]
    if "geo" not in dims:
        raise DataError(
            f"{func}: the first column of {where} ({key_col!r}) has no 'geo' dimension."
        )
    keys = raw[key_col].str.split(",", expand=True)
    if keys.shape[1] != len(dims) or keys.isna().any().any():
        bad = raw.index[keys.isna().any(axis=1)] if keys.shape[1] == len(dims) else raw.index
        raise DataError(
            f"{func}: {where}: the row keys must have {len(dims)} comma-separated codes "
            f"({dims}); line {int(bad[0]) + 2} has {raw[key_col].iloc[int(bad[0])]!r}."
        )
    keys.columns = dims
    periods = [c for c in raw.columns[1:]]
    raw = raw.assign(_line=np.arange(len(raw)) + 2)
    long = pd.concat([keys, raw[[*periods, "_line"]]], axis=1).melt(
        id_vars=[*dims, "_line"], value_vars=periods, var_name="time", value_name="cell"
    )
    long["time"] = long["time"].str.strip()
    values, flags = _split_cells(long["cell"], func, where, long["_line"], long["time"])
    long = long.assign(value=values, flag=flags).drop(columns="cell")
    return long, [d for d in dims if d != "geo"], {"time_dimension": time_name.strip()}


def _parse_sdmx(text: _Text, func: str) -> tuple[pd.DataFrame, list[str], dict[str, Any]]:
    where = text.label
    raw = pd.read_csv(text.buffer(), dtype=str, keep_default_na=False)
    raw.columns = [str(c).strip() for c in raw.columns]
    if "geo" not in raw.columns:
        raise DataError(f"{func}: the SDMX-CSV {where} has no 'geo' column.")
    lines = pd.Series(np.arange(len(raw)) + 2, index=raw.index)
    dims = [c for c in raw.columns if c not in _SDMX_META]
    cell = raw["OBS_VALUE"].str.strip().replace("", ":")
    values = parse_numbers(cell, func=func, where=where, lines=lines, column="OBS_VALUE")
    flag = raw["OBS_FLAG"].str.strip() if "OBS_FLAG" in raw.columns else pd.Series("", raw.index)
    bad = ~flag.str.fullmatch(r"[a-z]*")
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"{func}: malformed OBS_FLAG {flag.iloc[i]!r} in {where} (line {int(lines.iloc[i])})."
        )
    if "CONF_STATUS" in raw.columns:  # confidentiality ("C") → flag "c"
        conf = raw["CONF_STATUS"].str.strip().str.upper() == "C"
        flag = flag.where(~conf | flag.str.contains("c"), flag + "c")
    df = raw[["geo", *dims]].assign(time=raw["TIME_PERIOD"], value=values, flag=flag, _line=lines)
    meta: dict[str, Any] = {}
    if "DATAFLOW" in raw.columns:
        meta["dataset"] = ", ".join(sorted(set(raw["DATAFLOW"])))
    if "LAST UPDATE" in raw.columns:
        meta["edition"] = ", ".join(sorted(set(raw["LAST UPDATE"])))
    return df, dims, meta


def _long_columns(header: str) -> bool:
    cols = {c.strip().casefold() for c in header.split(",")}
    return "geo" in cols and bool(cols & {"year", "time"}) and bool(cols & {"value", "obs_value"})


def _parse_long(text: _Text, func: str) -> tuple[pd.DataFrame, list[str], dict[str, Any]]:
    where = text.label
    raw = pd.read_csv(text.buffer(), dtype=str, keep_default_na=False)
    raw.columns = [str(c).strip() for c in raw.columns]
    low = {c.casefold(): c for c in raw.columns}
    time_col = low.get("year") or low["time"]
    value_col = low.get("value") or low["obs_value"]
    flag_col = low.get("flag") or low.get("flags") or low.get("obs_flag")
    lines = pd.Series(np.arange(len(raw)) + 2, index=raw.index)
    if flag_col is None:
        values = parse_numbers(
            raw[value_col], func=func, where=where, lines=lines, column=value_col
        )
        flag = pd.Series("", index=raw.index)
    else:
        cells = (raw[value_col].str.strip() + " " + raw[flag_col].str.strip()).str.strip()
        values, flag = _split_cells(
            cells, func, where, lines, pd.Series(value_col, index=raw.index)
        )
    geo = low["geo"]
    dims = [c for c in raw.columns if c not in {geo, time_col, value_col, flag_col}]
    df = raw[[geo, *dims]].rename(columns={geo: "geo"})
    df = df.assign(time=raw[time_col], value=values, flag=flag, _line=lines)
    return df, dims, {}


def _fold(
    df: pd.DataFrame,
    dims: list[str],
    indicator_dims: Sequence[str] | None,
    func: str,
    where: str,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """Fold the non-key dims into ``indicator``; coords per folded dim; constant dims."""
    for d in dims:
        df[d] = df[d].astype(str).str.strip()
    if indicator_dims is not None:
        if isinstance(indicator_dims, str):
            indicator_dims = [indicator_dims]
        unknown = [d for d in indicator_dims if d not in dims]
        if unknown:
            raise InvalidParameterError(
                f"The 'indicator_dims' parameter of {func} names {unknown}, which are not "
                f"dimensions of {where} ({dims})."
            )
        fold = list(indicator_dims)
        varying_left = [d for d in dims if d not in fold and df[d].nunique() > 1]
        if varying_left:
            raise InvalidParameterError(
                f"{func}: dimensions {varying_left} of {where} take several values but are not "
                "in indicator_dims; add them or select one value first."
            )
    else:
        indic = [d for d in dims if d.casefold().startswith("indic")]
        fold = indic + [d for d in dims if d not in indic and df[d].nunique() > 1]
    constant = {d: str(df[d].iloc[0]) for d in dims if d not in fold and len(df)}
    if fold:
        code = df[fold[0]].copy()
        for d in fold[1:]:
            code = code + "|" + df[d]
    else:
        code = pd.Series("value", index=df.index)
    df = df.assign(indicator=code)
    coords = df[["indicator", *fold]].drop_duplicates("indicator").set_index("indicator")
    return df, coords, constant
