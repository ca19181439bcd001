"""Helpers shared by the readers: file access, number parsing, filters, panel building."""

from __future__ import annotations

import gzip
import io
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, NamedTuple

import numpy as np
import pandas as pd
import xarray as xr

from .._history import describe_call
from .._validation import report_dropped
from ..errors import DataError, InvalidParameterError
from ..panel import from_long, validate

__all__ = [
    "Source",
    "build_panel",
    "code_list",
    "filter_long",
    "parse_numbers",
    "read_source",
    "year_set",
]

Source = str | os.PathLike[str] | IO[str]

_YEAR = re.compile(r"^\d{4}$")


class _Text:
    """The text of an input and the label used in messages (file path or ``<buffer>``)."""

    def __init__(self, text: str, label: str, path: Path | None) -> None:
        self.text = text
        self.label = label
        self.path = path

    def buffer(self) -> io.StringIO:
        return io.StringIO(self.text)

    def lines(self, n: int) -> list[str]:
        out = []
        for i, line in enumerate(io.StringIO(self.text)):
            if i >= n:
                break
            out.append(line.rstrip("\r\n"))
        return out


def read_source(source: Source, func: str) -> _Text:
    """Read a path (``.gz`` allowed) or a text buffer; a UTF-8 BOM is removed."""
    if hasattr(source, "read"):
        data = source.read()
        if isinstance(data, bytes):
            data = data.decode("utf-8-sig")
        if not isinstance(data, str):
            raise InvalidParameterError(f"{func}: the buffer must return text; got {type(data)}.")
        return _Text(data.removeprefix("\ufeff"), "<buffer>", None)
    if not isinstance(source, str | os.PathLike):
        raise InvalidParameterError(
            f"{func} expects a file path or a text buffer; got {type(source).__name__}."
        )
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"{func}: no such file: {str(path)!r}.")
    opener: Any = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
            text = fh.read()
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{func}: {str(path)!r} is not UTF-8 text ({exc}). Re-save it as UTF-8."
        ) from exc
    return _Text(text, repr(str(path)), path)


def parse_numbers(
    values: pd.Series,
    *,
    func: str,
    where: str,
    lines: pd.Series | None = None,
    column: pd.Series | str | None = None,
    missing: Sequence[str] = ("", ":", "..", "NA", "NaN", "nan"),
) -> pd.Series:
    """Strings → float64; ``missing`` markers → NaN; anything else is a DataError.

    The error names ``where`` (the file), the line numbers and the columns of the first
    offending cells.
    """
    text = values.astype(str).str.strip()
    is_missing = text.isin(list(missing)) | values.isna()
    out = pd.to_numeric(text.where(~is_missing), errors="coerce")
    bad = out.isna() & ~is_missing
    if bad.any():
        idx = np.flatnonzero(bad.to_numpy())[:5]
        cells = []
        for i in idx:
            at = []
            if lines is not None:
                at.append(f"line {int(lines.iloc[i])}")
            if isinstance(column, pd.Series):
                at.append(f"column {column.iloc[i]!r}")
            elif column is not None:
                at.append(f"column {column!r}")
            cells.append(f"{text.iloc[i]!r}" + (f" ({', '.join(at)})" if at else ""))
        raise DataError(
            f"{func}: non-numeric values in {where}: {'; '.join(cells)}"
            f"{' and more' if bad.sum() > 5 else ''}. Expected numbers or a missing marker "
            f"({list(missing)})."
        )
    return out.astype(np.float64)


def year_set(years: Any, func: str) -> set[int] | None:
    """``None``, an int, or an iterable of ints (``range(2010, 2021)``) → set of ints."""
    if years is None:
        return None
    if isinstance(years, int | np.integer) and not isinstance(years, bool):
        return {int(years)}
    if isinstance(years, str | bytes) or not isinstance(years, Iterable):
        raise InvalidParameterError(
            f"The 'years' parameter of {func} must be an int or an iterable of ints "
            f"(e.g. range(2010, 2021)); got {years!r}."
        )
    out = set()
    for y in years:
        if isinstance(y, bool) or not isinstance(y, int | np.integer):
            raise InvalidParameterError(
                f"The 'years' parameter of {func} must hold integer years; got {y!r}."
            )
        out.add(int(y))
    return out


def code_list(codes: Any, param: str, func: str) -> list[str] | None:
    """``None``, a str, or an iterable of str → list of str (order kept, no duplicates)."""
    if codes is None:
        return None
    if isinstance(codes, str):
        return [codes]
    if not isinstance(codes, Iterable):
        raise InvalidParameterError(
            f"The {param!r} parameter of {func} must be a str or an iterable of str; got {codes!r}."
        )
    out = list(dict.fromkeys(codes))
    bad = [c for c in out if not isinstance(c, str)]
    if bad:
        raise InvalidParameterError(
            f"The {param!r} parameter of {func} must hold strings; got {bad[:5]}."
        )
    return out


def filter_long(
    df: pd.DataFrame,
    *,
    func: str,
    where: str,
    countries: list[str] | None,
    years: set[int] | None,
    indicators: list[str] | None,
) -> pd.DataFrame:
    """Keep the requested units/years/indicators; warn about requested ones not found."""
    if indicators is not None:
        present = set(df["indicator"])
        absent = [c for c in indicators if c not in present]
        if len(absent) == len(indicators):
            raise DataError(
                f"{func}: none of the requested indicators {indicators} is in {where}; it has "
                f"{sorted(present)[:20]}{' ...' if len(present) > 20 else ''}."
            )
        if absent:
            report_dropped(f"{func}: indicators {absent} are not in {where}.", stacklevel=4)
        df = df[df["indicator"].isin(indicators)]
    if countries is not None:
        present = set(df["unit"])
        absent = [c for c in countries if c not in present]
        if absent:
            report_dropped(
                f"{func}: units {absent} are not in {where} (after dropping aggregates).",
                stacklevel=4,
            )
        df = df[df["unit"].isin(countries)]
    if years is not None:
        times = pd.to_numeric(df["time"], errors="coerce")
        df = df[times.isin(sorted(years))]
    if df.empty:
        raise DataError(
            f"{func}: no data left in {where} after selecting countries={countries}, "
            f"years={sorted(years) if years else years}, indicators={indicators}."
        )
    return df


def drop_units(
    df: pd.DataFrame,
    codes: Iterable[str],
    *,
    func: str,
    where: str,
    what: str,
    names: Mapping[str, str] | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Drop the rows of ``codes`` and report them (a DataWarning naming each unit)."""
    codes = set(codes)
    mask = df["unit"].isin(codes)
    if not mask.any():
        return df, []
    dropped = sorted(set(df.loc[mask, "unit"]))
    shown = [f"{c} ({names[c]})" if names and names.get(c) else c for c in dropped]
    text = ", ".join(shown[:12]) + (f", ... ({len(shown)} in all)" if len(shown) > 12 else "")
    report_dropped(
        f"{func}: dropped {int(mask.sum())} rows of {len(dropped)} {what} from {where}: {text}.",
        stacklevel=4,
    )
    return df[~mask], dropped


def to_time(values: pd.Series) -> pd.Series:
    """Time labels: integers if every label is a 4-digit year, else the stripped strings."""
    text = values.astype(str).str.strip()
    if text.str.match(_YEAR).all():
        return text.astype(np.int64)
    return text


class ReaderArgs(NamedTuple):
    """What every reader does first: record the call, check the filters, read the text."""

    params: dict[str, Any]
    indicators: list[str] | None
    countries: list[str] | None
    years: set[int] | None
    text: _Text


def reader_args(
    func: str,
    path: Source,
    *,
    indicators: Any = None,
    countries: Any = None,
    years: Any = None,
    drop_aggregates: bool = True,
    indicator_param: str = "indicators",
) -> ReaderArgs:
    """Parse the filters shared by the readers and read the source (errors name ``func``)."""
    params = {
        "path": str(getattr(path, "name", path)),
        indicator_param: indicators,
        "countries": countries,
        "years": years,
        "drop_aggregates": drop_aggregates,
    }
    ind = code_list(indicators, indicator_param, func) if indicator_param == "indicators" else None
    return ReaderArgs(
        params,
        ind,
        code_list(countries, "countries", func),
        year_set(years, func),
        read_source(path, func),
    )


def build_panel(
    df: pd.DataFrame,
    *,
    func: str,
    where: str,
    attrs: Mapping[str, Any],
    params: Mapping[str, Any],
    unit_names: Mapping[str, str] | None = None,
    indicator_coords: pd.DataFrame | None = None,
    indicator_order: Sequence[str] | None = None,
) -> xr.DataArray:
    """A validated panel from a long frame with columns unit, time, indicator, value.

    Indicators are sorted, or in ``indicator_order`` (codes absent from ``df`` skipped).

    ``df`` may carry a ``_line`` column (file line numbers) used to name duplicated rows.
    ``indicator_coords`` is indexed by indicator code; each column becomes a coordinate
    on ``indicator``.
    """
    keys = ["unit", "time", "indicator"]
    dup = df.duplicated(keys, keep=False)
    if dup.any():
        first = df.loc[dup, [*keys, *(["_line"] if "_line" in df else [])]].head(6)
        raise DataError(
            f"{func}: {where} has several rows for the same unit × time × indicator: "
            f"{first.to_dict('records')}. Remove the duplicates (or select one series)."
        )
    panel = from_long(df[[*keys, "value"]].reset_index(drop=True))
    if indicator_order is not None:
        present = set(panel["indicator"].values.tolist())
        panel = panel.sel(indicator=[c for c in indicator_order if c in present])
    if unit_names is not None:
        names = [unit_names.get(str(u), "") for u in panel["unit"].values]
        panel = panel.assign_coords(unit_name=("unit", np.array(names, dtype=object)))
    if indicator_coords is not None and not indicator_coords.empty:
        table = indicator_coords.reindex(panel["indicator"].values)
        for col in table.columns:
            panel = panel.assign_coords(
                {str(col): ("indicator", table[col].to_numpy(dtype=object))}
            )
    panel.attrs = {**attrs, "history": [describe_call(func, params)]}
    return validate(panel)
