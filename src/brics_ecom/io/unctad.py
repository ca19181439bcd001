"""UNCTAD digital-economy data (and other World Bank Data360 long exports)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .._validation import report_dropped
from ..errors import DataError
from ..groups import _wb_aggregate_codes
from ._common import (
    Source,
    build_panel,
    drop_units,
    filter_long,
    parse_numbers,
    reader_args,
)

__all__ = ["read_unctad"]

# column of the project's long files / of the raw Data360 export → role
_COLUMNS = {
    "iso3": "unit",
    "ref_area": "unit",
    "country": "unit_name",
    "ref_area_label": "unit_name",
    "indicator": "indicator",
    "indicator_label": "indicator_name",
    "sex": "sex",
    "age": "age",
    "urbanisation": "urbanisation",
    "comp_breakdown_1": "comp_breakdown_1",
    "comp_breakdown_2": "comp_breakdown_2",
    "comp_breakdown_3": "comp_breakdown_3",
    "unit": "unit_measure",
    "unit_measure": "unit_measure",
    "unit_label": "unit_label",
    "unit_measure_label": "unit_label",
    "unit_mult": "unit_mult",
    "year": "time",
    "time_period": "time",
    "value": "value",
    "obs_value": "value",
    "obs_status": "obs_status",
}
_BREAKDOWNS = (
    "sex",
    "age",
    "urbanisation",
    "comp_breakdown_1",
    "comp_breakdown_2",
    "comp_breakdown_3",
)
_PER_INDICATOR = ("indicator_name", "unit_measure", "unit_label", "unit_mult")


def read_unctad(
    path: Source,
    *,
    indicators: str | Iterable[str] | None = None,
    countries: str | Iterable[str] | None = None,
    years: int | Iterable[int] | None = None,
    drop_aggregates: bool = True,
) -> xr.DataArray:
    """Read UNCTAD's digital-economy data (a World Bank Data360 long export) into a panel.

    The layout is one row per economy × indicator × breakdown × year with the columns
    ``iso3, country, indicator, indicator_label, sex, age, urbanisation, unit,
    unit_label, unit_mult, year, value, obs_status`` (the project's
    ``unctad_digital_economy/unctad_de_long.csv``); the raw Data360 names (``REF_AREA``,
    ``INDICATOR``, ``TIME_PERIOD``, ``OBS_VALUE``, ``OBS_STATUS``, ...) work too, so the
    ITU files exported from Data360 can be read as well.

    * ``obs_status == "O"`` ("missing value") → NaN, whatever the value cell holds;
    * breakdowns (``sex``, ``age``, ``urbanisation``) that take more than one value are
      folded into the indicator code (``ITU_DH_INT_USR_DAY|F|_T|URB``) with one coordinate
      each on ``indicator``;
    * values are kept as published: ``unit_mult`` (a power of ten; 6 = millions) is a
      coordinate on ``indicator``, not applied.

    Parameters
    ----------
    path : str, path-like or text buffer
    indicators, countries : str or iterable of str, optional
        Indicator codes (after folding) and ISO3 codes to keep.
    years : int or iterable of int, optional
        Years to keep.
    drop_aggregates : bool, default True
        Drop World Bank aggregate codes (``WLD``, ``SSF``, ...) and report them.

    Returns
    -------
    xarray.DataArray
        Panel with coordinates ``unit_name`` and, on ``indicator``, ``indicator_name``,
        ``unit_measure``, ``unit_label``, ``unit_mult`` (those the file has).

    Raises
    ------
    DataError
        On missing columns, non-numeric values (naming the line), duplicated rows, or
        per-indicator attributes (unit, label) that vary within an indicator.

    Examples
    --------
    >>> import io
    >>> text = ("iso3,country,indicator,indicator_label,unit,unit_mult,year,value,obs_status\\n"
    ...         "BRA,Brazil,UNCTAD_DE_DIG_SERVTRADE_ANN_EXP,Exports,USD,6,2023,25731,A\\n"
    ...         "BRA,Brazil,UNCTAD_DE_DIG_SERVTRADE_ANN_EXP,Exports,USD,6,2022,,O\\n")
    >>> p = read_unctad(io.StringIO(text))
    >>> p.sel(unit="BRA", indicator="UNCTAD_DE_DIG_SERVTRADE_ANN_EXP").values.tolist()
    [nan, 25731.0]
    >>> p.unit_mult.values.tolist(), p.attrs["missing_obs_status_O"]
    (['6'], 1)
    """
    func = "read_unctad"
    params, ind_list, cty, yrs, text = reader_args(
        func, path, indicators=indicators, countries=countries, years=years,
        drop_aggregates=drop_aggregates,
    )  # fmt: skip
    where = text.label
    raw = pd.read_csv(text.buffer(), dtype=str, keep_default_na=False)
    roles: dict[str, str] = {}
    for col in raw.columns:
        role = _COLUMNS.get(str(col).strip().casefold())
        if role is not None and role not in roles.values():
            roles[col] = role
    df = raw[list(roles)].rename(columns=roles)
    missing = [r for r in ("unit", "indicator", "time", "value") if r not in df.columns]
    if missing:
        raise DataError(
            f"{func}: {where} lacks the columns for {missing} (expected iso3/REF_AREA, "
            f"indicator/INDICATOR, year/TIME_PERIOD, value/OBS_VALUE); it has "
            f"{list(raw.columns)[:10]}."
        )
    df = df.apply(lambda s: s.str.strip())
    lines = pd.Series(np.arange(len(df)) + 2, index=df.index)
    n_missing = 0
    value = df["value"]
    if "obs_status" in df.columns:
        flagged = df["obs_status"].str.upper() == "O"
        n_missing = int(flagged.sum())
        filled = flagged & (value != "")
        if filled.any():
            report_dropped(
                f"{func}: {int(filled.sum())} values in {where} have obs_status 'O' (missing) "
                f"but a value (first at line {int(lines[filled].iloc[0])}); set to NaN.",
                stacklevel=3,
            )
        value = value.where(~flagged, "")
    values = parse_numbers(value, func=func, where=where, lines=lines, column="value")
    time = pd.to_numeric(df["time"], errors="coerce")
    if time.isna().any():
        bad = lines[time.isna()].head(5).tolist()
        raise DataError(f"{func}: {where} has non-integer years at lines {bad}.")
    fold = [b for b in _BREAKDOWNS if b in df.columns and df[b].nunique() > 1]
    code = df["indicator"]
    for b in fold:
        code = code + "|" + df[b]
    names = dict(zip(df["unit"], df["unit_name"], strict=True)) if "unit_name" in df else None
    long = pd.DataFrame(
        {
            "unit": df["unit"],
            "time": time.astype(np.int64),
            "indicator": code,
            "value": values,
            "_line": lines,
        }
    )
    coord_cols = [c for c in _PER_INDICATOR if c in df.columns] + fold
    coords = pd.concat([code.rename("indicator"), df[coord_cols]], axis=1).drop_duplicates()
    varying = coords.groupby("indicator").nunique()
    varying = varying.loc[:, (varying > 1).any()]
    if not varying.empty:
        raise DataError(
            f"{func}: in {where}, {list(varying.columns)} vary within indicators "
            f"{list(varying.index[(varying > 1).any(axis=1)])[:5]}; select one unit per "
            "indicator first."
        )
    coords = coords.drop_duplicates("indicator").set_index("indicator")
    dropped: list[str] = []
    if drop_aggregates:
        long, dropped = drop_units(
            long,
            _wb_aggregate_codes(),
            func=func,
            where=where,
            what="World Bank aggregates",
            names=names,
        )
    long = filter_long(long, func=func, where=where, countries=cty, years=yrs, indicators=ind_list)
    unctad = bool(long["indicator"].str.startswith("UNCTAD").all())
    attrs: dict[str, Any] = {
        "source": (
            "UNCTAD, Digital Economy and Technology (World Bank Data360, dataset UNCTAD_DE)"
            if unctad
            else "World Bank Data360 export"
        ),
        "source_file": str(text.path) if text.path else "<buffer>",
        "reader": f"brics_ecom.io.{func}",
        "format": "Data360 long CSV",
        "licence": (
            "not stated in the file; UNCTAD data are normally reusable with attribution "
            "('Source: UNCTAD') - verify before redistributing"
            if unctad
            else "see the producer's terms (not stated in the file)"
        ),
        "attribution": "Source: UNCTAD" if unctad else "see the producer",
        "missing_obs_status_O": n_missing,
        "dropped_units": dropped,
    }
    return build_panel(
        long,
        func=func,
        where=where,
        attrs=attrs,
        params=params,
        unit_names=names,
        indicator_coords=coords,
    )
