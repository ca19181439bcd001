"""The BRICS e-commerce report: the four indices in one folder of HTML, CSV and Excel.

:func:`build_report` is what ``brics-ecom report`` runs. It builds the frameworks of
:mod:`brics_ecom.frameworks` (:data:`FRAMEWORKS`: the UNCTAD B2C index, e-commerce
dynamism, MSME participation and the digital divide) for the current BRICS members and
the comparator economies, on the bundled BRICS+ panel or on a user's panel file, and
writes to one folder:

``report.html``
    A self-contained page (inline CSS, charts as base64 PNG, no script and no external
    resource): an overview, then per framework what it measures, the results table,
    the ranking (with rank intervals from an uncertainty analysis on the weights), the
    framework's own charts (state × momentum, small/large parity, gaps over time, Lorenz
    curves), notes; the data sources with their licences; how the report was made.
``<framework>_level<k>.csv``
    One tidy table per framework and tree level (1: the normalised indicators, up to the
    index): ``framework, level, node, node_name, time, unit, unit_name, brics_member,
    score, rank`` and, at level 1, ``input`` (the value that entered the pipeline).
``<framework>_<table>.csv``
    The framework's extra tables: ``rank_intervals`` (uncertainty summary),
    ``quadrants`` (dynamism), ``parity`` (MSME), ``gaps`` and ``theil`` (divide).
``brics_report.xlsx``
    An ``About`` sheet and one sheet per framework and level (and per rank-interval
    table), needs openpyxl (the ``excel`` or ``report`` extra).

:func:`run_report` does the same for a user's own index (``brics-ecom run``), and
:func:`read_panel_file` reads a panel from a long or wide CSV file.

Examples
--------
>>> import tempfile
>>> from brics_ecom.report import build_report
>>> out = build_report(tempfile.mkdtemp(), frameworks=["unctad_b2c"], countries=["BRA", "IND"],
...                    draws=0, html=False, excel=False)
>>> sorted(p.name for p in out.iterdir())
['unctad_b2c_level1.csv', 'unctad_b2c_level2.csv']
"""

from __future__ import annotations

import base64
import datetime as dt
import difflib
import hashlib
import html as _html
import io
import os
import platform
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

from ._version import __version__
from .errors import BricsEcomError, DataError, InvalidParameterError

if TYPE_CHECKING:
    from .pipeline import Pipeline
    from .results import Result
    from .spec import IndexSpec
    from .uncertainty import UncertaintyResult

__all__ = [
    "DEFAULT_DRAWS",
    "EXCEL_FILE",
    "FRAMEWORKS",
    "HTML_FILE",
    "WEIGHT_NOISE",
    "build_report",
    "default_pipeline",
    "parse_years",
    "read_panel_file",
    "run_report",
    "tidy_scores",
]

#: The frameworks of the report, in the order of its sections.
FRAMEWORKS: tuple[str, ...] = (
    "unctad_b2c",
    "ecommerce_dynamism",
    "msme_participation",
    "digital_divide",
)
#: Monte Carlo draws of the rank intervals (``brics-ecom report --uncertainty``).
DEFAULT_DRAWS = 200
#: Every weight moves by up to ± this share of its value in the uncertainty analysis.
WEIGHT_NOISE = 0.25
HTML_FILE = "report.html"
EXCEL_FILE = "brics_report.xlsx"
RUN_EXCEL_FILE = "results.xlsx"

Log = Callable[[str], None]

_UNIT_COLUMNS = ("unit", "ucode", "iso3", "iso_code", "country_code", "code")
_TIME_COLUMNS = ("time", "year")
_NAME_COLUMNS = ("unit_name", "uname", "country", "country_name", "name")
_NA_VALUES = ["", "NA", "N/A", "NaN", "nan", "..", "-"]


def _quiet(_: str) -> None:
    """A log that says nothing."""


# ============================================================================ inputs
def parse_years(text: str | int | Iterable[int] | None) -> list[int] | None:
    """Years from the command line: ``"2021"``, ``"2017,2021"``, ``"2015-2021"`` or a mix.

    Parameters
    ----------
    text : str, int, iterable of int or None

    Returns
    -------
    list of int or None
        Sorted, without duplicates (``None`` for ``None``).

    Raises
    ------
    InvalidParameterError
        Anything that is not a year or a range of years (named).

    Examples
    --------
    >>> parse_years("2015-2017,2021")
    [2015, 2016, 2017, 2021]
    >>> parse_years(None) is None
    True
    """
    if text is None:
        return None
    if isinstance(text, int) and not isinstance(text, bool):
        return [int(text)]
    if not isinstance(text, str):
        if isinstance(text, bool):
            raise InvalidParameterError(f"--years must be whole years; got {text!r}.")
        items = list(text)
        if not all(isinstance(y, int | np.integer) and not isinstance(y, bool) for y in items):
            raise InvalidParameterError(f"--years must be whole years; got {items!r}.")
        return sorted({int(y) for y in items})
    years: set[int] = set()
    for raw in text.replace(" ", "").split(","):
        if not raw:
            continue
        first, sep, last = raw.partition("-") if "-" in raw[1:] else (raw, "", "")
        try:
            lo = int(first)
            hi = int(last) if sep else lo
        except ValueError:
            raise InvalidParameterError(
                f"--years: {raw!r} is not a year or a range of years (e.g. 2021, 2017,2021 or "
                "2015-2021)."
            ) from None
        if hi < lo:
            raise InvalidParameterError(f"--years: the range {raw!r} runs backwards.")
        years.update(range(lo, hi + 1))
    if not years:
        raise InvalidParameterError(f"--years: no year in {text!r}.")
    return sorted(years)


def _split_codes(value: str | Iterable[str] | None) -> list[str] | None:
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else list(value)
    out = [str(v).strip() for v in items if str(v).strip()]
    return out or None


def _find_column(columns: Sequence[str], aliases: Sequence[str]) -> str | None:
    lower = {c.lower().strip().replace(" ", "_"): c for c in columns}
    return next((lower[a] for a in aliases if a in lower), None)


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_panel_file(path: str | os.PathLike[str], *, spec: IndexSpec | None = None) -> xr.DataArray:
    """Read a panel from a CSV file in long or wide form.

    * **long**: columns ``unit``, ``time`` (or ``year``), ``indicator`` and ``value``
      (one row per unit, year and indicator);
    * **wide**: a unit column (``unit``, ``uCode``, ``iso3``, ...), optionally a time
      column (``time``, ``Time``, ``year``), a name column (``uName``, ``unit_name``,
      ``country``, ...), then one column per indicator (COINr's ``iData`` layout).

    With ``spec``, columns (wide) or indicators (long) that are the spec's denominators go
    to ``attrs["denominators"]``, columns named after the spec's groups become unit
    coordinates, and other columns not in the spec are left out. Without ``spec`` every
    other column is an indicator. Missing values may be empty, ``NA``, ``..`` or ``-``.

    Parameters
    ----------
    path : str or path-like
        A ``.csv`` (or ``.csv.gz``) file.
    spec : IndexSpec, optional
        The index the data are for.

    Returns
    -------
    xarray.DataArray
        ``(unit, time, indicator)``; a file without a time column gets the time label 0.
        ``attrs["source_file"]`` and ``attrs["sha256"]`` record where it came from.

    Raises
    ------
    DataError
        A missing or unreadable file, no unit column, non-numeric values or years,
        duplicated rows, indicators of ``spec`` absent from the file (all named).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "panel.csv"
    >>> _ = f.write_text("unit,time,indicator,value\\nBRA,2021,x,1.5\\nIND,2021,x,2\\n")
    >>> read_panel_file(f).sel(unit="IND", time=2021, indicator="x").item()
    2.0
    >>> _ = f.write_text("iso3,year,x,y\\nBRA,2021,1.5,3\\nIND,2021,2,..\\n")
    >>> read_panel_file(f).sel(unit="BRA", indicator="y").values.tolist()
    [3.0]
    """
    from .panel import from_long, from_wide, validate, with_denominators

    file = Path(path)
    if not file.is_file():
        raise DataError(f"the data file {str(file)!r} does not exist (or is not a file).")
    try:
        df = pd.read_csv(file, dtype=str, keep_default_na=False)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"cannot read the data file {str(file)!r} as CSV: {first}") from None
    df.columns = [str(c).strip() for c in df.columns]
    df = df.apply(lambda col: col.str.strip())
    cols = list(df.columns)
    unit = _find_column(cols, _UNIT_COLUMNS)
    tcol = _find_column(cols, _TIME_COLUMNS)
    ind = _find_column(cols, ("indicator",))
    val = _find_column(cols, ("value",))
    name = _find_column(cols, _NAME_COLUMNS)
    where = f"the data file {file.name!r}"
    if unit is None:
        raise DataError(
            f"{where} has no unit column; name one of {list(_UNIT_COLUMNS)} (it has {cols[:12]})."
        )

    def numbers(series: pd.Series, what: str) -> pd.Series:
        text = series.where(~series.isin(_NA_VALUES))
        out = pd.to_numeric(text, errors="coerce")
        bad = text.notna() & out.isna()
        if bad.any():
            at = [int(i) + 2 for i in np.flatnonzero(bad.to_numpy())[:3]]
            raise DataError(
                f"{where}: {what} is not numeric on lines {at} (e.g. "
                f"{series[bad].iloc[0]!r}); use numbers, or leave the cell empty / NA."
            )
        return out

    def years(series: pd.Series) -> pd.Series:
        out = numbers(series, f"the {tcol!r} column")
        if out.isna().any() or not np.all(np.mod(out.to_numpy(dtype=float), 1) == 0):
            raise DataError(f"{where}: the {tcol!r} column must hold whole years.")
        return out.astype("int64")

    groups = [g for g in (spec.groups if spec is not None else ()) if g in cols]
    denoms = list(spec.denominators) if spec is not None else []
    if ind is not None and val is not None:  # long
        long = pd.DataFrame(
            {
                "unit": df[unit],
                "time": years(df[tcol]) if tcol is not None else 0,
                "indicator": df[ind],
                "value": numbers(df[val], f"the {val!r} column"),
            }
        )
        long = long[long["value"].notna()]
        if long.empty:
            raise DataError(f"{where} holds no value.")
        den_long = long[long["indicator"].isin(denoms)]
        ind_long = long[~long["indicator"].isin(denoms)]
        if spec is not None:
            ind_long = ind_long[ind_long["indicator"].isin(spec.indicators)]
        panel = from_long(ind_long.reset_index(drop=True))
        if name is not None:
            names = df.drop_duplicates(unit).set_index(unit)[name]
            panel = panel.assign_coords(
                unit_name=("unit", names.reindex(panel["unit"].values).to_numpy(dtype=object))
            )
        for g in groups:
            labels = df.drop_duplicates(unit).set_index(unit)[g]
            panel = panel.assign_coords(
                {g: ("unit", labels.reindex(panel["unit"].values).to_numpy(dtype=object))}
            )
        if not den_long.empty:
            den = from_long(den_long.reset_index(drop=True)).rename(indicator="denominator")
            den = den.reindex(unit=panel["unit"].values, time=panel["time"].values)
            panel = with_denominators(panel, den)
    else:  # wide
        ids = {c for c in (unit, tcol, name, *groups) if c is not None}
        if spec is not None:
            indicators = [c for c in spec.indicators if c in cols]
            den_cols = [c for c in denoms if c in cols]
        else:
            indicators = [c for c in cols if c not in ids]
            den_cols = []
        if not indicators:
            raise DataError(
                f"{where} has no indicator columns (long files need the columns unit, time, "
                "indicator, value)."
            )
        frame = df[[c for c in cols if c in ids]].copy()
        for c in (*indicators, *den_cols):
            frame[c] = numbers(df[c], f"the column {c!r}")
        if tcol is not None:
            frame[tcol] = years(df[tcol])
        panel = from_wide(
            frame, unit=unit, time=tcol, indicators=indicators, unit_name=name, groups=groups
        )
        if den_cols:
            den = from_wide(frame, unit=unit, time=tcol, indicators=den_cols)
            panel = with_denominators(panel, den.rename(indicator="denominator"))
    if spec is not None:
        missing = [c for c in spec.indicators if c not in panel["indicator"].values.tolist()]
        if missing:
            raise DataError(
                f"{where} lacks the indicators {missing[:10]}"
                f"{' ...' if len(missing) > 10 else ''} of the index {spec.name or ''!s}; "
                "add them (long: rows; wide: columns)."
            )
        panel = panel.sel(indicator=list(spec.indicators))
    panel.attrs.update(
        {"source_file": str(file.resolve()), "sha256": _file_digest(file), "title": file.name}
    )
    return validate(panel)


# ============================================================================ tables
def tidy_scores(result: Result, level: int, *, framework: str | None = None) -> pd.DataFrame:
    """Scores and ranks of one level of a result as a tidy table.

    Parameters
    ----------
    result : Result
        A pipeline or framework result.
    level : int
        Tree level (1: the normalised indicators; the root's level: the index).
    framework : str, optional
        Written in a first column ``framework`` (and BRICS membership in
        ``brics_member``) when given.

    Returns
    -------
    pandas.DataFrame
        One row per year, node and unit (best first): ``[framework,] level, node,
        node_name, time, unit, unit_name, [brics_member,] score, rank`` and, at level 1,
        ``input`` (the value that entered the pipeline: the framework's prepared data).

    Examples
    --------
    >>> from brics_ecom import frameworks
    >>> res = frameworks.build("unctad_b2c", countries=["BRA", "IND"], years=2021)
    >>> t = tidy_scores(res, 2, framework="unctad_b2c")
    >>> t[["unit", "score", "rank"]].round(1).values.tolist()
    [['BRA', 73.9, 1], ['IND', 55.1, 2]]
    """
    from . import groups as grp

    if result.scores is None or result.ranks is None:
        raise InvalidParameterError("tidy_scores: the result has no scores.")
    spec = result.spec
    if level not in spec.levels:
        raise InvalidParameterError(
            f"tidy_scores: level {level!r} is not in the tree; levels: {list(spec.levels)}."
        )
    scores, ranks = result.scores, result.ranks
    if "time" not in scores.dims:
        scores, ranks = scores.expand_dims(time=[0]), ranks.expand_dims(time=[0])
    present = [str(n) for n in scores["node"].values]
    codes = [c for c in spec.level_codes(level) if c in present]
    units = [str(u) for u in scores["unit"].values]
    names = [str(n) for n in scores["unit_name"].values] if "unit_name" in scores.coords else units
    raw = result.data.get("raw")
    rows = []
    for t in scores["time"].values.tolist():
        for code in codes:
            s = scores.sel(time=t, node=code).reset_coords(drop=True).values.astype(float)
            r = ranks.sel(time=t, node=code).reset_coords(drop=True).values.astype(float)
            part = pd.DataFrame(
                {
                    "level": level,
                    "node": code,
                    "node_name": spec.node(code).name or code,
                    "time": t,
                    "unit": units,
                    "unit_name": names,
                    "score": s,
                    "rank": pd.array([None if np.isnan(v) else int(v) for v in r], dtype="Int64"),
                }
            )
            if framework is not None:
                members = set(grp.members("BRICS", int(t))) if t else set()
                part.insert(6, "brics_member", [u in members for u in units])
            if level == 1:
                value = np.full(len(units), np.nan)
                if (
                    raw is not None
                    and "indicator" in raw.dims
                    and code in raw["indicator"].values.tolist()
                ):
                    sel = raw.sel(indicator=code)
                    if "time" in sel.dims and t in sel["time"].values.tolist():
                        sel = sel.sel(time=t)
                    sel = sel.reset_coords(drop=True)
                    if sel.dims == ("unit",):
                        value = sel.reindex(unit=units).values.astype(float)
                part["input"] = value
            part = part.sort_values(["rank", "unit"], na_position="last", kind="stable")
            rows.append(part)
    out = pd.concat(rows, ignore_index=True)
    if framework is not None:
        out.insert(0, "framework", framework)
    return out


# ============================================================================ HTML pieces
_CSS = """
:root { --ink: #1f2933; --muted: #5f6b7a; --line: #d9dee5; --brics: #fbeaea;
        --accent: #c0392b; --head: #f3f5f8; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
       sans-serif; color: var(--ink); margin: 0; line-height: 1.45; background: #fff; }
header { background: #22313f; color: #fff; padding: 1.6rem 2rem 1.2rem; }
header h1 { margin: 0 0 .3rem; font-size: 1.7rem; }
header p { margin: .2rem 0; color: #d5dde6; }
nav { background: var(--head); border-bottom: 1px solid var(--line); padding: .6rem 2rem; }
nav a { margin-right: 1.2rem; color: #22313f; text-decoration: none; font-weight: 600; }
nav a:hover { text-decoration: underline; }
main { max-width: 1100px; margin: 0 auto; padding: 1rem 2rem 3rem; }
section { border-bottom: 1px solid var(--line); padding: 1rem 0 1.5rem; }
h2 { font-size: 1.4rem; margin: 1rem 0 .5rem; }
h3 { font-size: 1.1rem; margin: 1.2rem 0 .4rem; color: #22313f; }
p.lead { color: var(--muted); }
table { border-collapse: collapse; font-size: .86rem; margin: .5rem 0 1rem; }
th, td { border: 1px solid var(--line); padding: .25rem .5rem; vertical-align: top; }
table.sources td:last-child { overflow-wrap: anywhere; min-width: 12rem; }
th { background: var(--head); text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.na { color: #9aa5b1; text-align: center; }
tr.brics td { background: var(--brics); }
.scroll { overflow-x: auto; max-width: 100%; }
figure { margin: .8rem 0 1.2rem; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { font-size: .85rem; color: var(--muted); margin-top: .3rem; }
.note { background: #fff8e5; border-left: 4px solid #e0a800; padding: .5rem .8rem;
        margin: .6rem 0; font-size: .9rem; }
.skipped { background: #fdecea; border-left: 4px solid var(--accent); padding: .5rem .8rem; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
            font-size: .85rem; }
pre { background: var(--head); padding: .6rem .8rem; overflow-x: auto; }
details { margin: .4rem 0 .8rem; }
summary { cursor: pointer; font-weight: 600; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dl.meta dt { font-weight: 600; }
dl.meta dd { margin: 0; }
footer { color: var(--muted); font-size: .8rem; padding: 1rem 2rem; }
"""


def _esc(value: Any) -> str:
    return _html.escape(str(value), quote=True)


def _cell(value: Any, digits: int) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return '<td class="na" title="no data">–</td>'
    if isinstance(value, bool | np.bool_):
        return f"<td>{'yes' if value else ''}</td>"
    if isinstance(value, int | np.integer):
        return f'<td class="num">{int(value)}</td>'
    if isinstance(value, float | np.floating):
        return f'<td class="num">{float(value):.{digits}f}</td>'
    return f"<td>{_esc(value)}</td>"


def _table(
    df: pd.DataFrame,
    *,
    index: bool = True,
    digits: int = 1,
    highlight: Iterable[Any] = (),
    index_name: str | None = None,
    cls: str | None = None,
) -> str:
    """An HTML table of ``df``; rows whose index is in ``highlight`` get class ``brics``."""
    marked = {str(h) for h in highlight}
    head = [index_name or (str(df.index.name) if df.index.name else "")] if index else []
    head += [str(c) for c in df.columns]
    attr = f' class="{_esc(cls)}"' if cls else ""
    parts = [f'<div class="scroll"><table{attr}>', "<thead><tr>"]
    parts += [f"<th>{_esc(h)}</th>" for h in head]
    parts.append("</tr></thead><tbody>")
    for key, row in df.iterrows():
        cls = ' class="brics"' if str(key) in marked else ""
        parts.append(f"<tr{cls}>")
        if index:
            parts.append(f"<th>{_esc(key)}</th>")
        parts += [_cell(v, digits) for v in row.tolist()]
        parts.append("</tr>")
    parts.append("</tbody></table></div>")
    return "".join(parts)


def _figure(fig: Any, alt: str, caption: str = "") -> str:
    """A matplotlib figure as an inline base64 PNG (the figure is closed)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    finally:
        plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    cap = f"<figcaption>{caption}</figcaption>" if caption else ""
    return f'<figure><img src="data:image/png;base64,{data}" alt="{_esc(alt)}">{cap}</figure>'


def _note(text: str, cls: str = "note") -> str:
    return f'<div class="{cls}">{_esc(text)}</div>'


@dataclass
class _Charts:
    """Draws charts when matplotlib is there; otherwise says so once."""

    log: Log
    available: bool = True
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        try:
            import matplotlib.pyplot  # noqa: F401
        except ImportError:
            self.available = False
            msg = (
                "matplotlib is not installed: the HTML report has no charts (install them "
                'with pip install "brics_ecom[report]").'
            )
            self.notes.append(msg)
            self.log(f"warning: {msg}")

    def draw(self, make: Callable[[], Any], alt: str, caption: str = "") -> str:
        if not self.available:
            return _note(f"Chart not drawn ({alt}): matplotlib is not installed.")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fig = make()
            return _figure(fig, alt, caption)
        except (BricsEcomError, ValueError, KeyError, IndexError) as exc:
            import matplotlib.pyplot as plt

            plt.close("all")
            return _note(f"Chart not drawn ({alt}): {exc}")


# ============================================================================ the frameworks
@dataclass
class _Built:
    name: str
    title: str
    result: Result | None = None
    intervals: UncertaintyResult | None = None
    notes: list[str] = field(default_factory=list)
    skipped: str | None = None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def last_year(self) -> int:
        assert self.result is not None and self.result.scores is not None
        return int(self.result.scores["time"].values[-1])


def _members(year: int | None = None) -> list[str]:
    from . import groups

    return groups.members("BRICS", year)


def _resolve_countries(
    panel: xr.DataArray,
    countries: str | Iterable[str] | None,
    comparators: str | Iterable[str] | None,
) -> list[str]:
    from .frameworks import default_countries, resolve_countries

    units = [str(u) for u in panel["unit"].values]
    if countries is not None and comparators is not None:
        raise InvalidParameterError(
            "give either --countries (the whole list) or --comparators (added to the BRICS "
            "members), not both."
        )
    if countries is not None:
        return resolve_countries(
            _split_codes(countries) or [], units, year=None, func="--countries"
        )
    comps = None
    if comparators is not None:
        comps = resolve_countries(
            _split_codes(comparators) or [], units, year=None, func="--comparators"
        )
    chosen = [c for c in default_countries(None, comparators=comps) if c in set(units)]
    if not chosen:
        raise DataError(
            "none of the BRICS members or comparators is in the data; pass --countries."
        )
    return chosen


def _check_years(panel: xr.DataArray, years: list[int] | None) -> None:
    if years is None:
        return
    have = sorted(int(t) for t in panel["time"].values)
    outside = [y for y in years if y not in set(have)]
    if outside:
        raise InvalidParameterError(
            f"--years: {outside[:10]}{' ...' if len(outside) > 10 else ''} outside the data's "
            f"years {have[0]}–{have[-1]}."
        )


def _check_frameworks(names: str | Iterable[str] | None) -> tuple[list[str], bool]:
    from . import frameworks

    if names is None:
        return list(FRAMEWORKS), False
    wanted = _split_codes(names) or []
    known = frameworks.available()
    bad = [n for n in wanted if n not in known]
    if bad:
        close = [c for b in bad for c in difflib.get_close_matches(b, known, n=1, cutoff=0.5)]
        hint = f" (did you mean {', '.join(map(repr, close))}?)" if close else ""
        raise InvalidParameterError(
            f"--frameworks: unknown framework(s) {bad}{hint}; available: {known}."
        )
    if not wanted:
        raise InvalidParameterError("--frameworks: no framework named.")
    return list(dict.fromkeys(wanted)), True


def _uncertainty(res: Result, draws: int, seed: int) -> UncertaintyResult:
    from .uncertainty import Factor, uncertainty

    t = int(res.scores["time"].values[-1]) if res.scores is not None else None
    factor = Factor.weights(noise_factor=WEIGHT_NOISE, per_draw=True)
    return uncertainty(res.pipeline, res, [factor], n=draws, rng=seed, time=t, progress=False)


def _framework_tables(built: _Built) -> None:
    """The tidy level tables and the framework's extra tables."""
    res = built.result
    assert res is not None
    for level in res.spec.levels:
        built.tables[f"level{level}"] = tidy_scores(res, level, framework=built.name)
    if built.intervals is not None:
        frame = built.intervals.to_frame()
        frame = frame[frame["score_nominal"].notna()].reset_index()  # units with an index
        frame.insert(0, "node", built.intervals.target)
        frame.insert(0, "time", built.last_year)
        frame.insert(0, "framework", built.name)
        built.tables["rank_intervals"] = frame
    reports = res.reports
    if built.name == "ecommerce_dynamism" and isinstance(
        reports.get("state_momentum_table"), pd.DataFrame
    ):
        built.tables["quadrants"] = reports["state_momentum_table"].reset_index()
    if built.name == "msme_participation" and isinstance(reports.get("parity"), pd.DataFrame):
        built.tables["parity"] = reports["parity"].copy()
    if built.name == "digital_divide":
        if isinstance(reports.get("gaps"), pd.DataFrame):
            built.tables["gaps"] = reports["gaps"].copy()
        theil = reports.get("theil")
        if isinstance(theil, xr.Dataset):
            scalars = theil[["total", "between", "within"]].to_dataframe()
            shares = theil[["group_index", "population_share", "value_share"]].to_dataframe()
            wide = pd.DataFrame(shares.unstack("group"))
            wide.columns = ["_".join(map(str, col)) for col in wide.columns]
            built.tables["theil"] = scalars.join(wide).reset_index()


def _build_one(
    name: str,
    panel: xr.DataArray,
    countries: list[str],
    years: list[int] | None,
    draws: int,
    seed: int,
    strict: bool,
    log: Log,
) -> _Built:
    from . import frameworks

    meta = frameworks.metadata(name)
    built = _Built(name=name, title=str(meta.get("title", name)))
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = frameworks.build(name, panel, countries=countries, years=years)
    except BricsEcomError as exc:
        if strict:
            text = str(exc)
            raise type(exc)(text if text.startswith(name) else f"{name}: {text}") from None
        built.skipped = str(exc)
        log(f"  skipped {name}: {exc}")
        return built
    built.notes += list(dict.fromkeys(str(w.message) for w in caught))
    built.result = res
    info = res.reports.get("framework", {})
    if isinstance(info, Mapping) and name == "unctad_b2c" and info.get("components") == 3:
        built.title += " (three-component variant)"
    assert res.scores is not None
    root = res.scores.sel(node=res.spec.root, time=res.scores["time"].values[-1])
    scored = int(root.notnull().sum())
    if draws and scored >= 2:
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                built.intervals = _uncertainty(res, draws, seed)
            built.notes += list(dict.fromkeys(str(w.message) for w in caught))
        except BricsEcomError as exc:
            built.notes.append(f"Rank intervals not computed: {exc}")
    elif draws:
        built.notes.append("Rank intervals not computed: fewer than two economies have a score.")
    _framework_tables(built)
    return built


# ============================================================================ sections
def _results_table(built: _Built, members: set[str]) -> str:
    res = built.result
    assert res is not None
    year = built.last_year
    table = res.table(year)
    cols = [c for c in table.columns if c != "uName"]
    view = table[cols].copy()
    if "uName" in table.columns:
        view.insert(0, "economy", table["uName"])
    if built.intervals is not None:
        frame = built.intervals.to_frame()
        frame = frame[frame["score_nominal"].notna()]
        frame.index = frame.index.map(str)
        lo = frame.filter(like="rank_q").min(axis=1)
        hi = frame.filter(like="rank_q").max(axis=1)
        text = {
            u: f"{int(lo[u])}–{int(hi[u])}"
            for u in frame.index
            if not (np.isnan(lo[u]) or np.isnan(hi[u]))
        }
        view.insert(list(view.columns).index("Rank") + 1, "rank 5–95%",
                    [text.get(str(u)) for u in view.index])  # fmt: skip
    return _table(view, digits=1, highlight=members, index_name="code")


def _indicator_table(name: str) -> str:
    from . import frameworks

    try:
        desc = frameworks.describe(name)
    except BricsEcomError as exc:  # pragma: no cover - the YAML is packaged
        return _note(f"No indicator table: {exc}")
    keep = [c for c in ("name", "parent", "weight", "source", "licence", "why") if c in desc]
    view = desc[keep].copy()
    if "weight" in view:
        view["weight"] = view["weight"].astype(float)
    return (
        f"<details><summary>The {len(view)} indicators: sources, licences and why each is "
        f"there</summary>{_table(view, digits=2, index_name='code')}</details>"
    )


def _interval_caption(built: _Built, draws: int, seed: int) -> str:
    if built.intervals is None:
        return "Bars: scores; the number at right is the rank among the selected economies."
    return (
        f"Bars: scores ({built.last_year}); whiskers: 5–95% range of the score over {draws} "
        f"Monte Carlo draws in which every weight moves independently by up to "
        f"±{WEIGHT_NOISE:.0%} of its value (COINr's noisy weights; seed {seed}); at right: "
        "the rank and its 5–95% interval. BRICS members in red."
    )


def _section_b2c(built: _Built, charts: _Charts, members: list[str], chosen: list[str]) -> str:
    from . import plot

    res = built.result
    assert res is not None
    parts = ["<h3>Components</h3>"]
    parts.append(
        charts.draw(
            lambda: plot.heatmap(res, vmin=0, vmax=100).figure,
            "component scores",
            f"Component scores (0–100) in {built.last_year}, economies sorted by the index. "
            "Secure servers: log of servers per million people, min-max over every economy "
            "with data that year.",
        )
    )
    return "".join(parts)


def _section_dynamism(built: _Built, charts: _Charts, members: list[str], chosen: list[str]) -> str:
    from . import plot

    res = built.result
    assert res is not None
    parts = ["<h3>State × momentum</h3>"]
    parts.append(
        charts.draw(
            lambda: plot.quadrant(res, highlight=members).figure,
            "state x momentum chart",
            f"Level (across) and momentum (up) in {built.last_year}; dashed lines: the "
            "medians of the selected economies. Zones after Chakravorti, Tunnard & "
            "Chaturvedi's Digital Evolution Index. BRICS members in bold.",
        )
    )
    table = built.tables.get("quadrants")
    if table is not None:
        last = table[table["time"] == built.last_year].set_index("unit")
        view = last[["level", "momentum", "state"]].sort_values(
            ["state", "level"], ascending=[True, False]
        )
        assert res.scores is not None
        if "unit_name" in res.scores.coords:
            names = res.scores["unit_name"].to_series()
            view.insert(0, "economy", [names.get(u, u) for u in view.index])
        parts.append(_table(view, digits=1, highlight=members, index_name="code"))
    return "".join(parts)


def _section_msme(built: _Built, charts: _Charts, members: list[str], chosen: list[str]) -> str:
    from . import plot

    res = built.result
    assert res is not None and res.scores is not None
    parts = []
    root = res.scores.sel(node=res.spec.root)
    has = [str(u) for u in root["unit"].values if bool(root.sel(unit=u).notnull().any())]
    lacking = [u for u in chosen if u not in has]
    if lacking:
        parts.append(
            _note(
                f"{len(has)} of the {len(chosen)} selected economies have Eurostat data by "
                f"enterprise size class; {', '.join(lacking)} have no MSME score. No BRICS "
                "member has size-class data. With --extra-data, UNCTAD's share of businesses "
                "receiving orders online stands in for the small-firm sales indicator sell_S "
                "(flagged, in the level-1 table), but the index itself needs size classes."
            )
        )
    parity = built.tables.get("parity")
    parts.append("<h3>Small and medium firms against large ones</h3>")
    if parity is not None and not parity.empty:
        year = int(parity["time"].max())
        latest = parity[parity["time"] == year]
        grid = latest.pivot_table(index="unit", columns="indicator", values="ratio")
        order = [c for c in res.spec.indicators if c.endswith("_L") and c in grid.columns]
        grid = grid[order]
        grid.columns = [
            f"{c.split('_')[0]} {'small' if '_S_' in c else 'medium'}/large" for c in order
        ]
        da = xr.DataArray(
            grid.to_numpy(dtype=float),
            dims=("unit", "ratio"),
            coords={"unit": [str(u) for u in grid.index], "ratio": list(grid.columns)},
        )
        parts.append(
            charts.draw(
                lambda: plot.heatmap(da, vmin=0, vmax=1, fmt="{:.2f}", cmap="RdYlGn").figure,
                "small/large parity chart",
                f"Share of small (10–49 persons employed) and medium (50–249) enterprises "
                f"with each activity, divided by the share of large ones (250+), {year}: 1 = "
                "parity. sell: e-commerce sales; web: web sales; mkt: marketplaces; xb: "
                "cross-border e-sales.",
            )
        )
    else:
        parts.append(_note("No size-class data for the selected economies."))
    if has and res.scores.sizes.get("time", 1) > 1:
        parts.append("<h3>Over time</h3>")
        parts.append(
            charts.draw(
                lambda: plot.time_series(res, has, res.spec.root).figure,
                "MSME index over time",
                "The MSME index by year (Eurostat survey years).",
            )
        )
    return "".join(parts)


def _section_divide(built: _Built, charts: _Charts, members: list[str], chosen: list[str]) -> str:
    from . import plot

    res = built.result
    assert res is not None and res.scores is not None
    scores = res.scores
    units = [str(u) for u in scores["unit"].values]
    brics = [u for u in units if u in members]
    others = [u for u in units if u not in members]
    pillars = [p for p in ("Gender", "Income") if p in scores["node"].values.tolist()]
    parts = ["<h3>Gaps over time</h3>"]

    def gaps() -> Any:
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, len(pillars), figsize=(6.2 * len(pillars), 4.0),
                                 squeeze=False)  # fmt: skip
        for ax, pillar in zip(axes[0], pillars, strict=True):
            plot.time_series(res, brics, pillar, ax=ax, ylabel=f"{pillar} parity score")
            if others:
                med = scores.sel(node=pillar, unit=others).median("unit").to_series().dropna()
                ax.plot(med.index, med.to_numpy(), color="black", ls="--", lw=2,
                        label="comparators (median)")  # fmt: skip
            if ax.get_legend() is not None:
                ax.get_legend().remove()
            ax.set_title(f"{pillar}: 100 = parity")
        handles, labels = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0),
                   ncol=min(6, len(labels)), frameon=False, fontsize="small")  # fmt: skip
        return fig

    if pillars and brics:
        parts.append(
            charts.draw(
                gaps,
                "gender and income parity over time",
                "Gender (women / men) and income (poorest 40% / richest 60%) parity in "
                "account ownership, digital payments and online purchases (Global Findex "
                "waves), scores 0–100, capped at parity; BRICS members and the median of the "
                "comparators (dashed).",
            )
        )
    gap_table = built.tables.get("gaps")
    parts.append("<h3>Inequality between countries</h3>")
    if gap_table is not None and not gap_table.empty:
        net = gap_table[gap_table["indicator"] == "internet_frontier"]
        wide = net.pivot_table(index="unit", columns="time", values="value_a")
        years = [int(t) for t in wide.columns if wide[t].notna().sum() >= 2]
        if years:
            da = xr.DataArray(
                wide[years].to_numpy(dtype=float),
                dims=("unit", "time"),
                coords={"unit": [str(u) for u in wide.index], "time": years},
            )
            pick = sorted({years[0], years[-1]})
            parts.append(
                charts.draw(
                    lambda: plot.lorenz_curve(da, time=pick, label="internet use").figure,
                    "Lorenz curves of internet use",
                    f"Lorenz curves of internet use (% of population, WDI) across the "
                    f"{da.sizes['unit']} selected economies, {' and '.join(map(str, pick))}; "
                    "the closer to the diagonal, the more equal.",
                )
            )
    theil = built.tables.get("theil")
    if theil is not None:
        cols = [c for c in ("time", "total", "between", "within") if c in theil]
        view = theil[cols].set_index("time")
        view["between share"] = view["between"] / view["total"]
        parts.append(
            "<p>Theil index (T) of internet use across the selected economies, split "
            "between the BRICS members and the others and within each group:</p>"
        )
        parts.append(_table(view, digits=4, index_name="year"))
    return "".join(parts)


_SECTIONS: dict[str, Callable[[_Built, _Charts, list[str], list[str]], str]] = {
    "unctad_b2c": _section_b2c,
    "ecommerce_dynamism": _section_dynamism,
    "msme_participation": _section_msme,
    "digital_divide": _section_divide,
}


def _framework_section(
    built: _Built, charts: _Charts, members: list[str], chosen: list[str], draws: int, seed: int
) -> str:
    from . import frameworks, plot

    meta = frameworks.metadata(built.name)
    parts = [f'<section id="{_esc(built.name)}">', f"<h2>{_esc(built.title)}</h2>"]
    parts.append("<h3>What it measures</h3>")
    parts.append(f"<p>{_esc(meta.get('summary', ''))}</p>")
    parts.append(_indicator_table(built.name))
    if built.name == "unctad_b2c" and built.title.endswith("(three-component variant)"):
        parts.append(
            _note(
                "This is the three-component variant (internet use, account ownership, "
                "secure servers): UNCTAD's fourth component, the UPU postal reliability "
                "score, is not public. It is not UNCTAD's published index; build that with "
                "frameworks.build('unctad_b2c', postal={...}) when you have the UPU scores."
            )
        )
    if built.skipped is not None:
        parts.append(_note(f"Not built for this selection: {built.skipped}", "skipped"))
        parts.append("</section>")
        return "".join(parts)
    res = built.result
    assert res is not None and res.scores is not None
    years = [int(t) for t in res.scores["time"].values]
    parts.append("<h3>Results</h3>")
    span = f"{years[0]}–{years[-1]}" if len(years) > 1 else str(years[0])
    parts.append(
        f'<p class="lead">Index <code>{_esc(res.spec.root)}</code>, {built.last_year} '
        f"(years computed: {span}); ranks among the selected economies, 1 = best; "
        "BRICS members shaded. The CSV files hold every year and level.</p>"
    )
    parts.append(_results_table(built, set(members)))
    parts.append("<h3>Ranking</h3>")
    parts.append(
        charts.draw(
            lambda: plot.ranking_bars(res, intervals=built.intervals, highlight=members).figure,
            f"ranking of {res.spec.root}",
            _interval_caption(built, draws, seed),
        )
    )
    extra = _SECTIONS.get(built.name)
    if extra is not None:
        parts.append(extra(built, charts, members, chosen))
    notes = list(built.notes)
    info = res.reports.get("framework", {})
    if isinstance(info, Mapping):
        if info.get("dropped_indicators"):
            notes.append(
                f"Indicators without data in this selection, left out: "
                f"{', '.join(map(str, info['dropped_indicators']))}."
            )
        if info.get("proxy_note") and info.get("proxies"):
            notes.append(f"Proxies: {info['proxy_note']}.")
    if notes:
        parts.append("<h3>Notes</h3><ul>")
        parts += [f"<li>{_esc(n)}</li>" for n in dict.fromkeys(notes)]
        parts.append("</ul>")
    refs = meta.get("references") or []
    if refs:
        parts.append("<details><summary>References</summary><ul>")
        parts += [f"<li>{_esc(r)}</li>" for r in refs]
        parts.append("</ul></details>")
    parts.append("</section>")
    return "".join(parts)


def _overview(
    built: list[_Built], chosen: list[str], members: list[str], panel: xr.DataArray
) -> str:
    from . import groups

    names = dict(zip(chosen, groups.to_name(chosen, strict=False), strict=True))
    if "unit_name" in panel.coords:
        known = dict(
            zip(map(str, panel["unit"].values), map(str, panel["unit_name"].values), strict=True)
        )
        names = {c: names.get(c) or known.get(c, c) for c in chosen}
    inside = [c for c in chosen if c in members]
    outside = [c for c in chosen if c not in members]
    parts = ['<section id="overview">', "<h2>Overview</h2>"]
    parts.append(
        f"<p><strong>BRICS members ({len(inside)}):</strong> "
        f"{_esc(', '.join(f'{names.get(c) or c} ({c})' for c in inside)) or 'none'}.<br>"
        f"<strong>Comparators ({len(outside)}):</strong> "
        f"{_esc(', '.join(f'{names.get(c) or c} ({c})' for c in outside)) or 'none'}.</p>"
    )
    table = pd.DataFrame(index=pd.Index(chosen, name="code"))
    table["economy"] = [names.get(c) or c for c in chosen]
    for b in built:
        if b.result is None or b.result.scores is None or b.result.ranks is None:
            continue
        year = b.last_year
        root = b.result.spec.root
        s = b.result.scores.sel(node=root, time=year).to_series()
        r = b.result.ranks.sel(node=root, time=year).to_series()
        s.index, r.index = s.index.map(str), r.index.map(str)
        label = f"{b.title.split(' (')[0]} ({root}, {year})"
        table[label] = [
            None if np.isnan(s.get(c, np.nan)) else f"{s[c]:.1f} (#{int(r[c])})" for c in chosen
        ]
    parts.append(
        '<p class="lead">Index score (rank among the selected economies, 1 = best) in the '
        "latest year of each framework; BRICS members shaded; – : no data.</p>"
    )
    parts.append(_table(table, highlight=members, index_name="code"))
    lines = []
    for b in built:
        n_years = 0
        if b.result is not None and b.result.scores is not None:
            n_years = int(b.result.scores.sizes["time"])
        state = f"skipped ({b.skipped})" if b.skipped else f"{b.title}: {n_years} year(s)"
        lines.append(f'<li><a href="#{_esc(b.name)}">{_esc(b.name)}</a> — {_esc(state)}</li>')
    parts.append(f"<ul>{''.join(lines)}</ul></section>")
    return "".join(parts)


def _sources_section(panel: xr.DataArray, built: list[_Built]) -> str:
    from .datasets import describe_sources

    parts = ['<section id="sources">', "<h2>Data sources and licences</h2>"]
    used = panel.attrs.get("sources")
    if isinstance(used, Mapping) and used:
        table = describe_sources()
        table = table.loc[[s for s in used if s in table.index]]
        view = pd.DataFrame(
            {
                "name (producer)": table["name"] + " (" + table["producer"] + ")",
                "licence": table["licence"],
                "edition": table["edition"],
                "retrieved": table["retrieved_date"],
                "address (text, not a link)": table["upstream"],
            },
            index=table.index,
        )
        parts.append(
            "<p>The numbers come from these sources (addresses are given as text, not "
            "links: the report opens offline). The packaged data are redistributed under "
            "their CC BY 4.0 licences; the other sources were read from the folder passed "
            "with <code>--extra-data</code>.</p>"
        )
        parts.append(_table(view, index_name="source", cls="sources"))
        attribution = panel.attrs.get("attribution")
        if attribution:
            parts.append(f"<p><strong>Attribution:</strong> {_esc(attribution)}</p>")
        caveats = panel.attrs.get("caveats")
        if caveats:
            parts.append(f"<p><strong>Caveats:</strong> {_esc(caveats)}</p>")
    else:
        src = panel.attrs.get("source_file", "a panel passed in Python")
        parts.append(
            f"<p>The data are the user's file <code>{_esc(src)}</code> (SHA-256 "
            f"<code>{_esc(panel.attrs.get('sha256', 'n/a'))}</code>); its sources and "
            "licences are the user's to state.</p>"
        )
    parts.append("<p>Indicators of each framework, with their sources: see each section.</p>")
    parts.append("</section>")
    return "".join(parts)


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"brics_ecom": __version__, "python": platform.python_version()}
    for pkg in ("numpy", "pandas", "xarray", "scipy", "matplotlib", "openpyxl"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def _provenance_section(meta: Mapping[str, Any], files: Sequence[str]) -> str:
    rows = "".join(
        f"<dt>{_esc(k)}</dt><dd>{v if k in ('command', 'data file') else _esc(v)}</dd>"
        for k, v in meta.items()
    )
    versions = ", ".join(f"{k} {v}" for k, v in _versions().items())
    return (
        '<section id="provenance"><h2>How this report was made</h2>'
        f'<dl class="meta">{rows}<dt>software</dt><dd>{_esc(versions)}</dd>'
        f"<dt>files</dt><dd>{_esc(', '.join(files))}</dd></dl></section>"
    )


def _page(title: str, subtitle: str, nav: Sequence[tuple[str, str]], body: Sequence[str]) -> str:
    links = "".join(f'<a href="#{_esc(a)}">{_esc(t)}</a>' for a, t in nav)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="brics_ecom {_esc(__version__)}">\n'
        f"<title>{_esc(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<header><h1>{_esc(title)}</h1><p>{subtitle}</p></header>\n"
        f"<nav>{links}</nav>\n<main>\n{''.join(body)}\n</main>\n"
        f"<footer>Made with brics_ecom {_esc(__version__)} — composite indices of e-commerce "
        "dynamism, MSME participation and digital-divide gaps (BRICS E-commerce Cooperation "
        "Initiative, 2017).</footer>\n</body>\n</html>\n"
    )


# ============================================================================ writers
def _write_csvs(out: Path, tables: Mapping[str, pd.DataFrame]) -> list[str]:
    names = []
    for stem, frame in tables.items():
        path = out / f"{stem}.csv"
        frame.to_csv(path, index=False)
        names.append(path.name)
    return names


def _excel_available() -> bool:
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        return False
    return True


def _write_excel(path: Path, about: pd.DataFrame, sheets: Mapping[str, pd.DataFrame]) -> None:
    from openpyxl.utils import get_column_letter

    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        about.to_excel(writer, sheet_name="About", index=False)
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name[:31], index=False)
        for ws in writer.book.worksheets:
            ws.freeze_panes = "A2"
            for i, column in enumerate(ws.iter_cols(max_row=min(ws.max_row, 200)), start=1):
                width = max((len(str(c.value)) for c in column if c.value is not None), default=8)
                ws.column_dimensions[get_column_letter(i)].width = min(max(width + 2, 8), 60)


def _excel_note(log: Log) -> None:
    log(
        "warning: openpyxl is not installed, so no Excel workbook was written; install it "
        'with pip install "brics_ecom[excel]" (or [report]), or pass --no-excel.'
    )


# ============================================================================ the report
def build_report(
    out: str | os.PathLike[str] = "brics_report",
    *,
    countries: str | Iterable[str] | None = None,
    comparators: str | Iterable[str] | None = None,
    years: str | int | Iterable[int] | None = None,
    extra_data: str | os.PathLike[str] | None = None,
    data: str | os.PathLike[str] | xr.DataArray | None = None,
    frameworks: str | Iterable[str] | None = None,
    html: bool = True,
    excel: bool = True,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
    log: Log | None = None,
    warn: Log | None = None,
    command: str | None = None,
) -> Path:
    """Build the BRICS e-commerce report into the folder ``out``.

    Parameters
    ----------
    out : str or path-like, default "brics_report"
        Output folder (created if needed; files of the same names are replaced).
    countries : str or iterable of str, optional
        ISO3 codes, names or group names (a comma-separated string is split). Default:
        the current BRICS members plus the comparators.
    comparators : str or iterable of str, optional
        Replace :data:`brics_ecom.frameworks.DEFAULT_COMPARATORS` (not with ``countries``).
    years : str, int or iterable of int, optional
        Years of every framework (``"2015-2021"``, ``"2017,2021"``, see
        :func:`parse_years`). Default: each framework's own (the latest year with data;
        the Findex waves for the divide; every survey year for MSME).
    extra_data : str or path-like, optional
        Folder of the non-packaged sources (:func:`brics_ecom.datasets.load_brics_panel`).
    data : str, path-like or xarray.DataArray, optional
        The user's panel instead of the bundled one: a CSV file read with
        :func:`read_panel_file`, or a DataArray.
    frameworks : str or iterable of str, optional
        Default :data:`FRAMEWORKS`. A framework named here that cannot be built is an
        error; by default it is skipped with a note.
    html, excel : bool, default True
        Write ``report.html`` and ``brics_report.xlsx`` (the latter needs openpyxl; if
        it is missing a warning says so and the workbook is skipped). The CSV files are
        always written.
    draws : int, default 200
        Monte Carlo draws of the rank intervals (0: none; otherwise at least 2).
    seed : int, default 0
        Seed of the draws.
    log : callable, optional
        Receives one line per stage (default: silent).
    warn : callable, optional
        Receives warnings (skipped outputs, frameworks); default: ``log``.
    command : str, optional
        The command line recorded in the report (default: this call).

    Returns
    -------
    pathlib.Path
        The output folder.

    Raises
    ------
    InvalidParameterError
        Unknown framework, bad years, ``draws`` of 1 or negative, ``countries`` with
        ``comparators``, ``data`` with ``extra_data``.
    DataError
        Unknown countries (with close matches), years outside the data, an unreadable
        data file, no framework that can be built.

    Examples
    --------
    >>> import tempfile
    >>> out = build_report(tempfile.mkdtemp(), frameworks="digital_divide", draws=0,
    ...                    excel=False)
    >>> (out / "report.html").read_text().count('<section id="digital_divide">')
    1
    """
    from .datasets import load_brics_panel

    say = log or _quiet
    shout = warn or say
    start = time.perf_counter()
    if not isinstance(draws, int) or isinstance(draws, bool) or draws < 0 or draws == 1:
        raise InvalidParameterError(
            f"--uncertainty (draws) must be 0 (no rank intervals) or at least 2; got {draws!r}."
        )
    names, strict = _check_frameworks(frameworks)
    wanted_years = parse_years(years)
    if data is not None and extra_data is not None:
        raise InvalidParameterError(
            "--extra-data adds sources to the bundled panel; with --data (your own panel), "
            "put every indicator in your file instead."
        )
    steps = 2 + len(names) + int(html) + int(excel)
    step = iter(range(1, steps + 1))

    def stage(text: str) -> None:
        say(f"[{next(step)}/{steps}] {text}")

    if isinstance(data, xr.DataArray):
        stage("using the panel passed in")
        panel = data
    elif data is not None:
        stage(f"reading {data}")
        panel = read_panel_file(data)
    else:
        stage("loading the bundled BRICS+ panel" + (f" with {extra_data}" if extra_data else ""))
        if extra_data is not None and not Path(extra_data).is_dir():
            raise DataError(f"--extra-data: {str(extra_data)!r} is not a folder.")
        panel = load_brics_panel(extra_data=extra_data)
    if "time" not in panel.dims:
        raise DataError("the data need a time column (years).")
    _check_years(panel, wanted_years)
    chosen = _resolve_countries(panel, countries, comparators)
    members = _members()
    out_dir = Path(out)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"--out: cannot create the folder {str(out_dir)!r}: {exc}") from None
    say(
        f"      {panel.sizes['unit']} economies, {panel.sizes['time']} years, "
        f"{panel.sizes['indicator']} indicators; {len(chosen)} economies selected "
        f"({sum(c in members for c in chosen)} BRICS members)"
    )
    built: list[_Built] = []
    for name in names:
        stage(f"building {name}" + (f" + rank intervals ({draws} draws)" if draws else ""))
        b = _build_one(name, panel, chosen, wanted_years, draws, seed, strict, shout)
        built.append(b)
    if all(b.skipped for b in built):
        reasons = "; ".join(f"{b.name}: {b.skipped}" for b in built)
        raise DataError(f"no framework could be built for this selection ({reasons}).")
    for b in built:
        if b.notes and not b.skipped:
            for n in dict.fromkeys(b.notes):
                say(f"      note ({b.name}): {n}")

    stage("writing the CSV files")
    tables: dict[str, pd.DataFrame] = {}
    sheets: dict[str, pd.DataFrame] = {}
    for b in built:
        for key, frame in b.tables.items():
            tables[f"{b.name}_{key}"] = frame
            if key.startswith("level"):
                sheets[f"{b.name} L{key[5:]}"] = frame
            elif key == "rank_intervals":
                sheets[f"{b.name} intervals"] = frame
    files = _write_csvs(out_dir, tables)

    generated = dt.datetime.now(dt.UTC).replace(microsecond=0)
    if command is None:
        command = (
            f"brics_ecom.report.build_report({str(out)!r}, countries={countries!r}, "
            f"comparators={comparators!r}, years={years!r}, extra_data={extra_data!r}, "
            f"data={data if not isinstance(data, xr.DataArray) else '<DataArray>'!r}, "
            f"frameworks={frameworks!r}, draws={draws}, seed={seed})"
        )
    source = panel.attrs.get("source_file")
    meta = {
        "command": f"<code>{_esc(command)}</code>",
        "generated": generated.isoformat().replace("+00:00", "Z"),
        "data": str(panel.attrs.get("title", "user panel")),
        "data as of": str(panel.attrs.get("data_as_of", "") or "n/a"),
    }
    editions = panel.attrs.get("editions")
    if isinstance(editions, Mapping) and editions:
        meta["editions"] = "; ".join(f"{k}: {v}" for k, v in editions.items())
    if source:
        meta["data file"] = (
            f"<code>{_esc(source)}</code> (SHA-256 {_esc(panel.attrs.get('sha256', ''))})"
        )
    meta["economies"] = ", ".join(chosen)
    spans = []
    for b in built:
        if b.result is not None and b.result.scores is not None:
            ys = [int(t) for t in b.result.scores["time"].values]
            spans.append(f"{b.name} {ys[0]}–{ys[-1]}" if len(ys) > 1 else f"{b.name} {ys[0]}")
    asked = "each framework's default" if wanted_years is None else f"asked {wanted_years}"
    meta["years"] = f"{asked}: {'; '.join(spans)}"
    meta["rank intervals"] = (
        f"{draws} draws, weights ±{WEIGHT_NOISE:.0%}, seed {seed}" if draws else "off"
    )

    excel_ok = excel and _excel_available()
    if excel:
        stage("writing the Excel workbook")
        if excel_ok:
            about = pd.DataFrame(
                {
                    "item": [*(k for k in meta if k != "data file"), "brics_ecom"],
                    "value": [
                        *(_plain_text(v) for k, v in meta.items() if k != "data file"),
                        __version__,
                    ],
                }
            )
            if source:
                about.loc[len(about)] = ["data file", str(source)]
            _write_excel(out_dir / EXCEL_FILE, about, sheets)
            files.append(EXCEL_FILE)
        else:
            _excel_note(shout)
    if html:
        stage("writing the HTML report")
        charts = _Charts(shout)
        body = [_overview(built, chosen, members, panel)]
        body += [_framework_section(b, charts, members, chosen, draws, seed) for b in built]
        body.append(_sources_section(panel, built))
        body.append(_provenance_section(meta, [*files, HTML_FILE]))
        nav = [("overview", "Overview")] + [(b.name, b.name) for b in built]
        nav += [("sources", "Sources"), ("provenance", "Provenance")]
        subtitle = (
            f"{_esc(', '.join(b.title for b in built if not b.skipped))}<br>"
            f"{len(chosen)} economies · data as of {_esc(meta['data as of'])} · generated "
            f"{_esc(meta['generated'])} with brics_ecom {_esc(__version__)}"
        )
        page = _page("BRICS e-commerce indices", subtitle, nav, body)
        (out_dir / HTML_FILE).write_text(page, encoding="utf-8")
        files.append(HTML_FILE)
    say(f"done in {time.perf_counter() - start:.1f} s: {len(files)} files in {out_dir}")
    return out_dir


def _plain_text(text: str) -> str:
    """Plain text of a fragment of the report's metadata (tags removed, entities decoded).

    Examples
    --------
    >>> _plain_text("<code>brics-ecom report &gt; x</code>")
    'brics-ecom report > x'
    """
    import re

    return _html.unescape(re.sub(r"<[^>]+>", "", text))


# ============================================================================ user indices
def default_pipeline(spec: IndexSpec, *, impute_group: str | None = None) -> Pipeline:
    """The COINr-like pipeline run on a bare index specification (``brics-ecom run``).

    Denominate (when some indicator has a denominator) → impute (the indicator's mean,
    or its mean within ``impute_group``) → screen (units with at least 90% of the data)
    → treat (COINr's outlier defaults) → normalise (min-max onto 0–100) → aggregate
    (arithmetic means, the spec's weights). With ``impute_group="EurAsia_group"`` on the
    ASEM spec this is :meth:`Pipeline.coinr_example <brics_ecom.Pipeline.coinr_example>`.

    Raises
    ------
    InvalidParameterError
        ``impute_group`` not among the spec's groups.

    Examples
    --------
    >>> import brics_ecom as be
    >>> _, spec = be.datasets.load_asem()
    >>> default_pipeline(spec, impute_group="EurAsia_group") == be.Pipeline.coinr_example(spec)
    True
    """
    from .pipeline import Pipeline

    steps: list[tuple[str, dict[str, Any]]] = []
    if any(spec.node(c).denominator for c in spec.indicators):
        steps.append(("denominate", {}))
    if impute_group is None:
        steps.append(("impute", {"method": "mean"}))
    else:
        if impute_group not in spec.groups:
            raise InvalidParameterError(
                f"--impute-group: {impute_group!r} is not a group of the index; its groups "
                f"are {list(spec.groups)}."
            )
        steps.append(("impute", {"method": "group_mean", "group": impute_group}))
    steps += [
        ("screen", {"dat_thresh": 0.9, "by": "missing"}),
        ("treat", {}),
        ("normalise", {"method": "minmax", "lower": 0.0, "upper": 100.0}),
        ("aggregate", {"method": "arithmetic"}),
    ]
    return Pipeline(spec, steps)


def _load_spec_or_pipeline(
    path: str | os.PathLike[str], impute_group: str | None
) -> tuple[Pipeline, str]:
    from .pipeline import Pipeline
    from .spec import IndexSpec, read_yaml

    file = Path(path)
    if not file.is_file():
        raise DataError(f"the specification file {str(file)!r} does not exist.")
    try:
        data = read_yaml(file, what=f"file {file.name!r}")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read {str(file)!r}: {exc}") from None
    if isinstance(data, Mapping) and "steps" in data and "spec" in data:
        if impute_group is not None:
            raise InvalidParameterError(
                "--impute-group applies to a bare index specification; the file is a saved "
                "pipeline, whose steps are used as they are."
            )
        return Pipeline.from_dict(data), "saved pipeline"
    if isinstance(data, Mapping) and "nodes" in data:
        spec = IndexSpec.from_dict(dict(data))
        what = "default pipeline" + (
            f" (group means by {impute_group})" if impute_group else " (indicator means)"
        )
        return default_pipeline(spec, impute_group=impute_group), what
    raise DataError(
        f"{file.name!r} is neither an index specification (a YAML mapping with 'nodes', as "
        "IndexSpec.to_yaml writes) nor a saved pipeline (with 'spec' and 'steps', as "
        "Pipeline.to_yaml writes)."
    )


def run_report(
    spec_file: str | os.PathLike[str],
    data_file: str | os.PathLike[str],
    out: str | os.PathLike[str] = "brics_run",
    *,
    impute_group: str | None = None,
    html: bool = True,
    excel: bool = True,
    log: Log | None = None,
    warn: Log | None = None,
    command: str | None = None,
) -> Path:
    """Run a user's index on a user's data and write its results (``brics-ecom run``).

    Parameters
    ----------
    spec_file : str or path-like
        An :class:`~brics_ecom.spec.IndexSpec` YAML (run with :func:`default_pipeline`)
        or a pipeline saved with :meth:`Pipeline.to_yaml <brics_ecom.Pipeline.to_yaml>`.
    data_file : str or path-like
        The data, long or wide CSV (:func:`read_panel_file`).
    out : str or path-like, default "brics_run"
        Output folder: ``results.csv`` (the results table of the last year: rank, index,
        aggregates and indicators), ``scores.csv`` (tidy: every year, node and unit,
        score and rank), ``pipeline.yaml`` (the pipeline run), ``results.xlsx`` and
        ``report.html``.
    impute_group : str, optional
        For a bare specification: impute by group means within this group.
    html, excel : bool, default True
    log, warn : callable, optional
        As in :func:`build_report`.
    command : str, optional
        Recorded in the report.

    Returns
    -------
    pathlib.Path
        The output folder.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import brics_ecom as be
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> iData, _ = be.datasets.load_asem_tables()
    >>> iData.to_csv(tmp / "asem.csv", index=False)
    >>> _, spec = be.datasets.load_asem()
    >>> _ = spec.to_yaml(tmp / "asem.yaml")
    >>> out = run_report(tmp / "asem.yaml", tmp / "asem.csv", tmp / "out",
    ...                  impute_group="EurAsia_group", html=False, excel=False)
    >>> import pandas as pd
    >>> round(float(pd.read_csv(out / "results.csv", index_col="unit").loc["CHE", "Index"]), 2)
    68.38
    """
    say = log or _quiet
    shout = warn or say
    start = time.perf_counter()
    say(f"[1/4] reading {spec_file}")
    pipe, what = _load_spec_or_pipeline(spec_file, impute_group)
    spec = pipe.spec
    say(f"      {spec.name or 'index'}: {len(spec.indicators)} indicators; {what}")
    say(f"[2/4] reading {data_file}")
    panel = read_panel_file(data_file, spec=spec)
    say(
        f"      {panel.sizes['unit']} units, {panel.sizes['time']} year(s), "
        f"{panel.sizes['indicator']} indicators"
    )
    say("[3/4] running the pipeline: " + " → ".join(s.name for s in pipe.steps))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = pipe.run(panel)
    notes = list(dict.fromkeys(str(w.message) for w in caught))
    for n in notes:
        say(f"      note: {n}")
    if result.scores is None:  # pragma: no cover - default pipelines aggregate
        raise InvalidParameterError("the pipeline does not aggregate: nothing to report.")
    out_dir = Path(out)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"--out: cannot create the folder {str(out_dir)!r}: {exc}") from None
    say(f"[4/4] writing to {out_dir}")
    times = result.scores["time"].values.tolist() if "time" in result.scores.dims else [None]
    last = times[-1]
    table = result.table(last, what="full")
    table.to_csv(out_dir / "results.csv")
    tidy = pd.concat(
        [tidy_scores(result, lvl) for lvl in sorted(spec.levels, reverse=True)],
        ignore_index=True,
    )
    tidy.to_csv(out_dir / "scores.csv", index=False)
    pipe.to_yaml(out_dir / "pipeline.yaml")
    files = ["results.csv", "scores.csv", "pipeline.yaml"]
    generated = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    if command is None:
        command = f"brics_ecom.report.run_report({str(spec_file)!r}, {str(data_file)!r})"
    meta = {
        "command": f"<code>{_esc(command)}</code>",
        "generated": generated,
        "data file": (
            f"<code>{_esc(panel.attrs.get('source_file', data_file))}</code> (SHA-256 "
            f"{_esc(panel.attrs.get('sha256', ''))})"
        ),
        "specification": f"{spec_file} ({what})",
    }
    if excel:
        if _excel_available():
            about = pd.DataFrame(
                {
                    "item": [*meta, "brics_ecom"],
                    "value": [*(_plain_text(v) for v in meta.values()), __version__],
                }
            )
            _write_excel(
                out_dir / RUN_EXCEL_FILE,
                about,
                {"results": table.reset_index(), "scores": tidy},
            )
            files.append(RUN_EXCEL_FILE)
        else:
            _excel_note(shout)
    if html:
        from . import plot

        charts = _Charts(shout)
        title = spec.name or "Composite index"
        root = spec.root
        body = ['<section id="results"><h2>Results</h2>']
        body.append(
            f'<p class="lead">Index <code>{_esc(root)}</code>'
            f"{'' if last is None else f', {last}'}: {table.shape[0]} units, best first.</p>"
        )
        agg_table = result.table(last)
        body.append(_table(agg_table, index_name="unit"))
        body.append(
            charts.draw(
                lambda: plot.ranking_bars(result, time=last).figure,
                f"ranking of {root}",
                "Index scores; the number at right is the rank.",
            )
        )
        if spec.max_level > 2:
            body.append(
                charts.draw(
                    lambda: plot.heatmap(result, time=last).figure,
                    "scores of the level below the index",
                    "Scores of the level below the index, units sorted by the index.",
                )
            )
        if notes:
            body.append("<h3>Notes</h3><ul>")
            body += [f"<li>{_esc(n)}</li>" for n in notes]
            body.append("</ul>")
        body.append("</section>")
        body.append(
            f'<section id="pipeline"><h2>Pipeline</h2><pre>{_esc(pipe.to_yaml())}</pre></section>'
        )
        body.append(_provenance_section(meta, [*files, HTML_FILE]))
        nav = [("results", "Results"), ("pipeline", "Pipeline"), ("provenance", "Provenance")]
        subtitle = (
            f"{len(spec.indicators)} indicators, {panel.sizes['unit']} units · generated "
            f"{_esc(generated)} with brics_ecom {_esc(__version__)}"
        )
        (out_dir / HTML_FILE).write_text(_page(title, subtitle, nav, body), encoding="utf-8")
        files.append(HTML_FILE)
    say(f"done in {time.perf_counter() - start:.1f} s: {len(files)} files in {out_dir}")
    return out_dir
