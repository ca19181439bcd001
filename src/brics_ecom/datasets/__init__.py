"""Bundled datasets with their provenance.

* COINr's ASEM example (MIT licence, see ``data/LICENSE_COINr_MIT.txt``): 51 ASEM
  countries, 49 indicators, 2018 (and a synthetic 2018–2022 panel).
* The BRICS+ e-commerce panel (:func:`load_brics_panel`): World Bank WDI digital, macro
  and ICT-trade series, Global Findex (account, digital payments, online purchases, with
  their sex, age, education, income and urban/rural breakdowns), Eurostat e-commerce by
  enterprise size and the World Bank LPI, for every country and year the sources cover.
  Only sources whose licence allows redistribution (CC BY 4.0) are packaged; UNCTAD, ITU,
  UN and other sources are read from a folder you supply (``extra_data=``). See
  :func:`describe_sources`, :func:`brics_indicators` and ``data/README_brics.md``.

Examples
--------
>>> from brics_ecom.datasets import load_asem, load_brics_panel
>>> panel, spec = load_asem()
>>> panel.sizes["unit"], spec.root
(51, 'Index')
>>> p = load_brics_panel(countries="BRICS", years=2020, indicators=["IT.NET.USER.ZS"])
>>> p.sel(unit="BRA").item()
81.3427
"""

from __future__ import annotations

import functools
import os
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import DataError, InvalidParameterError

if TYPE_CHECKING:
    import xarray as xr

    from ..spec import IndexSpec

__all__ = [
    "BRICS_SOURCES",
    "EXTRA_SOURCES",
    "SHIPPED_SOURCES",
    "brics_indicators",
    "data_path",
    "describe_sources",
    "load_asem",
    "load_asem_tables",
    "load_brics_panel",
    "make_synthetic",
    "read_brics_source",
]


def data_path(name: str) -> str:
    """Filesystem path of a bundled data file.

    Examples
    --------
    >>> data_path("asem_iMeta.csv").endswith("asem_iMeta.csv")
    True
    """
    return str(resources.files(__package__).joinpath("data", name))


def load_asem_tables(panel: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """COINr's ASEM ``iData`` (or the panel ``iData_p`` if ``panel``) and ``iMeta``.

    Examples
    --------
    >>> iData, iMeta = load_asem_tables()
    >>> iData.shape, iMeta.shape
    ((51, 60), (68, 10))
    """
    data_file = "asem_iData_panel.csv" if panel else "asem_iData.csv"
    data = pd.read_csv(data_path(data_file), keep_default_na=False, na_values=["NA"])
    meta = pd.read_csv(data_path("asem_iMeta.csv"), keep_default_na=False, na_values=["NA"])
    return data, meta


def load_asem(panel: bool = False) -> tuple[xr.DataArray, IndexSpec]:
    """COINr's ASEM example as a panel and its :class:`~brics_ecom.spec.IndexSpec`.

    Parameters
    ----------
    panel : bool, default False
        If True, the synthetic 2018–2022 panel (COINr's ``ASEM_iData_p``); otherwise the
        2018 cross-section (``ASEM_iData``, time label 2018).

    Returns
    -------
    (xarray.DataArray, IndexSpec)
        The panel (denominators in ``attrs["denominators"]``, groups as unit coordinates)
        and the index specification.

    Examples
    --------
    >>> p, spec = load_asem(panel=True)
    >>> p.sizes["time"]
    5
    """
    from ..panel import from_coinr

    iData, iMeta = load_asem_tables(panel=panel)
    out, spec = from_coinr(iData, iMeta)
    out.attrs["source"] = (
        "COINr 1.1.14 ASEM example (MIT licence; original source: EU JRC ASEM Sustainable "
        "Connectivity Portal)"
    )
    return out, type(spec)(spec.nodes, name="ASEM Sustainable Connectivity")


def make_synthetic(
    n_units: int = 200,
    n_years: int = 10,
    n_indicators: int = 60,
    *,
    n_pillars: int = 8,
    n_subindices: int = 2,
    missing: float = 0.02,
    rng: int | None = 0,
) -> tuple[xr.DataArray, IndexSpec]:
    """A synthetic panel and a four-level index tree, for benchmarks and tests.

    Indicators mix normal, log-normal (heavy right tail) and bounded percentage series,
    a fifth of them negative and a quarter of them extensive (divided by a ``Population``
    or ``GDP`` denominator); ``missing`` is the share of cells blanked at random. Units
    carry a ``region`` group coordinate.

    Parameters
    ----------
    n_units, n_years, n_indicators : int
        Panel size.
    n_pillars, n_subindices : int
        Aggregates at levels 2 and 3 (level 4 is the index).
    missing : float
        Share of missing cells.
    rng : int or None
        Seed.

    Examples
    --------
    >>> panel, spec = make_synthetic(50, 3, 12, n_pillars=4)
    >>> panel.shape, spec.max_level
    ((50, 3, 12), 4)
    """
    import numpy as np
    import xarray as xr

    from .._validation import as_rng
    from ..panel import DIMS, with_denominators
    from ..spec import IndexSpec, Node

    gen = as_rng(rng)
    units = [f"U{i:04d}" for i in range(n_units)]
    years = list(range(2000, 2000 + n_years))
    codes = [f"ind{i:02d}" for i in range(n_indicators)]
    shape = (n_units, n_years, n_indicators)
    level = gen.normal(size=(n_units, 1, 1))  # a common factor makes indicators correlate
    trend = np.linspace(0.0, 0.5, n_years)[None, :, None]
    noise = gen.normal(size=shape)
    kind = np.arange(n_indicators) % 3
    base = 0.6 * level + trend + 0.8 * noise
    values = np.where(
        kind == 0, 50 + 10 * base, np.where(kind == 1, np.exp(base), 100 / (1 + np.exp(-base)))
    )
    extensive = np.arange(n_indicators) % 4 == 3
    pop = np.exp(gen.normal(9, 1.5, size=(n_units, 1))) * (1 + 0.01 * np.arange(n_years))
    gdp = pop * np.exp(gen.normal(1, 0.5, size=(n_units, 1)))
    denom_vals = np.stack([pop, gdp], axis=-1)
    which = np.where(np.arange(n_indicators) % 8 == 3, 1, 0)
    values = np.where(extensive, values * denom_vals[..., which], values)
    values = np.where(gen.random(shape) < missing, np.nan, values)
    coords = {"unit": units, "time": years, "indicator": codes}
    panel = xr.DataArray(values, dims=DIMS, coords=coords, name="value")
    regions = np.array(["North", "South", "East", "West"], dtype=object)
    panel = panel.assign_coords(region=("unit", regions[gen.integers(0, 4, n_units)]))
    denoms = xr.DataArray(
        denom_vals, dims=("unit", "time", "denominator"),
        coords={"unit": units, "time": years, "denominator": ["Population", "GDP"]},
    )  # fmt: skip
    panel = with_denominators(panel, denoms)
    pillars = [f"P{j}" for j in range(n_pillars)]
    subs = [f"S{k}" for k in range(n_subindices)]
    nodes = [
        Node(
            c, level=1, parent=pillars[i % n_pillars], direction=-1 if i % 5 == 4 else 1,
            denominator=("GDP" if i % 8 == 3 else "Population") if extensive[i] else None,
        )
        for i, c in enumerate(codes)
    ]  # fmt: skip
    nodes += [
        Node(p, kind="aggregate", parent=subs[j % n_subindices]) for j, p in enumerate(pillars)
    ]
    nodes += [Node(s, kind="aggregate", parent="Index") for s in subs]
    nodes += [Node("Index", kind="aggregate")]
    nodes += [Node("Population", kind="denominator"), Node("GDP", kind="denominator")]
    return panel, IndexSpec(nodes, name="Synthetic")


# ====================================================================== BRICS+ panel
#: Files of the BRICS+ panel in ``datasets/data`` (written by ``scripts/build_dataset.py``).
BRICS_PANEL_FILE = "brics_panel.csv.gz"
BRICS_INDICATORS_FILE = "brics_indicators.csv"
BRICS_SOURCES_FILE = "brics_sources.csv"

#: Sources packaged with the library (licence CC BY 4.0), by folder name.
SHIPPED_SOURCES: tuple[str, ...] = (
    "wdi_digital",
    "wdi_ict_trade",
    "findex",
    "eurostat_ecommerce_by_size",
    "wb_lpi",
)
#: Sources read from a user-supplied folder (``load_brics_panel(extra_data=...)``): their
#: licence does not clearly allow redistribution (see :func:`describe_sources`).
EXTRA_SOURCES: tuple[str, ...] = (
    "unctad_digital_economy",
    "itu_connectivity",
    "itu_digital_divide",
    "un_egdi",
    "unctad_cyberlaw",
    "itu_gci",
)
#: Every source of the BRICS+ panel, in the order of the indicator table.
BRICS_SOURCES: tuple[str, ...] = SHIPPED_SOURCES + EXTRA_SOURCES

#: The denominators :func:`load_brics_panel` puts in ``attrs["denominators"]``.
BRICS_DENOMINATORS: dict[str, str] = {
    "Population": "Population, total (persons): WDI SP.POP.TOTL",
    "GDP": "GDP, current US$: WDI NY.GDP.PCAP.CD × SP.POP.TOTL (derived)",
    "GDP_PPP": "GDP, PPP, current international $: WDI NY.GDP.PCAP.PP.CD × SP.POP.TOTL (derived)",
}

# (file in wdi_digital/, indicator code if it must be renamed)
_WDI_DIGITAL_FILES: tuple[tuple[str, str | None], ...] = (
    ("API_IT.NET.USER.ZS_DS2_en_csv_v2_2160.csv", None),
    ("IT.CEL.SETS.P2.csv", None),
    ("IT.MLT.MAIN.P2.csv", None),
    ("IT.NET.BBND.P2.csv", None),
    ("IT.NET.SECR.P6.csv", None),
    ("IT.NET.SECR.P6__release2018_old_netcraft_series.csv", "IT.NET.SECR.P6_R2018"),
    ("NY.GDP.PCAP.CD.csv", None),
    ("NY.GDP.PCAP.PP.CD.csv", None),
    ("SP.POP.TOTL.csv", None),
    ("SE.SEC.ENRR.csv", None),
    ("SE.TER.ENRR.csv", None),
)
_WDI_METADATA = "Metadata_Country_API_IT.NET.USER.ZS_DS2_en_csv_v2_2160.csv"
_WDI_TRADE_FILE = "BX.GSR.CCIS.CD.csv"
_WDI_TRADE_METADATA = "Metadata_Country_API_BX.GSR.CCIS.CD_DS2_en_csv_v2_920.csv"
_FINDEX_FILE = "DatabankWide_Dataset-Data.csv"
#: Findex concepts packaged with their breakdowns (codes of brics_ecom.io.FINDEX_COLUMNS).
_FINDEX_CONCEPTS = (
    "account",
    "fiaccount",
    "mobileaccount",
    "dig_pay",
    "dig_pay_made",
    "dig_pay_recv",
    "buy_online",
    "bills_online",
    "dig_merchant",
)
_FINDEX_BREAKDOWNS = ("t", "f", "m", "young", "old", "pri", "sec", "p40", "r60", "rural", "urban")
_FINDEX_TOTAL_ONLY = ("merchant_online_t", "cod_online_t", "internet_t", "mobile_phone_t")
_EUROSTAT_FILE = "isoc_ec_esels_subset_by_size.csv"
_LPI_FILE = "wb_lpi_long.csv"
_SEX = {"BOTHSEX": "_T", "FEMALE": "F", "MALE": "M", "total": "_T", "female": "F", "male": "M"}
_AREA = {"total": "_T", "urban": "URB", "rural": "RUR"}
_CODE_OK = re.compile(r"^[A-Za-z0-9_.|+\-]+$")


def _findex_codes() -> list[str]:
    codes = [f"{c}_{b}" for c in _FINDEX_CONCEPTS for b in _FINDEX_BREAKDOWNS]
    return codes + list(_FINDEX_TOTAL_ONLY)


# ---------------------------------------------------------------------- source readers
def _file(folder: Path, name: str) -> Path:
    path = folder / name
    if not path.is_file():
        raise FileNotFoundError(
            f"read_brics_source: {str(path)!r} is missing; the folder {str(folder)!r} must hold "
            f"the files of the project's data folder of the same name (see "
            f"describe_sources()['files'])."
        )
    return path


def _simple_long(
    path: Path,
    *,
    unit: str,
    time: str | int,
    code: Callable[[pd.DataFrame], pd.Series],
    value: str,
    keep: Callable[[pd.DataFrame], pd.Series] | None = None,
) -> xr.DataArray:
    """A panel from one of the project's simple long CSV files (no reader in ``io``)."""
    from ..io._common import parse_numbers, read_source
    from ..panel import from_long, validate

    func = "read_brics_source"
    text = read_source(path, func)
    raw = pd.read_csv(text.buffer(), dtype=str, keep_default_na=False)
    needed = [c for c in (unit, value, *([time] if isinstance(time, str) else [])) if c]
    missing = [c for c in needed if c not in raw.columns]
    if missing:
        raise DataError(
            f"{func}: {text.label} lacks the columns {missing}; it has {list(raw.columns)}."
        )
    raw["_line"] = range(2, len(raw) + 2)
    if keep is not None:
        raw = raw[keep(raw)]
    values = parse_numbers(
        raw[value], func=func, where=text.label, lines=raw["_line"], column=value
    )
    years = raw[time] if isinstance(time, str) else pd.Series(time, index=raw.index)
    df = pd.DataFrame(
        {
            "unit": raw[unit].str.strip(),
            "time": pd.to_numeric(years).astype("int64"),
            "indicator": code(raw),
            "value": values,
        }
    )
    df = df[df["value"].notna()]
    return validate(from_long(df))


def _read_wdi_digital(folder: Path) -> list[xr.DataArray]:
    from ..io import read_wdi_csv

    meta = _file(folder, _WDI_METADATA)
    out = []
    for name, rename in _WDI_DIGITAL_FILES:
        panel = read_wdi_csv(_file(folder, name), metadata=meta)
        if rename is not None:
            panel = panel.assign_coords(indicator=[rename])
        out.append(panel)
    return out


def _read_wdi_ict_trade(folder: Path) -> list[xr.DataArray]:
    from ..io import read_wdi_csv

    meta = _file(folder, _WDI_TRADE_METADATA)
    return [read_wdi_csv(_file(folder, _WDI_TRADE_FILE), metadata=meta)]


def _read_findex(folder: Path) -> list[xr.DataArray]:
    from ..io import read_findex

    return [read_findex(_file(folder, _FINDEX_FILE), columns=_findex_codes())]


def _read_eurostat(folder: Path) -> list[xr.DataArray]:
    from ..io import read_eurostat

    panel = read_eurostat(_file(folder, _EUROSTAT_FILE))
    flags = panel.attrs.pop("flags", None)
    if flags is not None and bool((flags != "").any()):  # pragma: no cover - none in the file
        raise DataError(
            "read_brics_source: the Eurostat extract has flagged values; brics_ecom's long "
            "table cannot carry flags yet."
        )
    return [panel]


def _read_lpi(folder: Path) -> list[xr.DataArray]:
    def code(df: pd.DataFrame) -> pd.Series:
        ind = df["indicator"].str.strip()
        return ind.where(ind == "lpi_overall", "lpi_" + ind)

    return [
        _simple_long(_file(folder, _LPI_FILE), unit="iso3", time="year", code=code, value="score")
    ]


def _read_unctad_de(folder: Path) -> list[xr.DataArray]:
    from ..io import read_unctad

    return [read_unctad(_file(folder, "unctad_de_long.csv"))]


def _read_itu_connectivity(folder: Path) -> list[xr.DataArray]:
    from ..io import read_unctad

    return [
        read_unctad(_file(folder, "itu_active_mobile_broadband_per100.csv")),
        read_unctad(_file(folder, "itu_population_coverage_4g.csv")),
    ]


def _read_itu_digital_divide(folder: Path) -> list[xr.DataArray]:
    from ..io import read_unctad

    def latest_code(df: pd.DataFrame) -> pd.Series:
        return "ITU_INTERNET_USE|" + df["sex"].map(_SEX) + "|" + df["area"].map(_AREA)

    def mobile_code(df: pd.DataFrame) -> pd.Series:
        return "IT_MOB_OWN|" + df["sex"].map(_SEX)

    def skills_code(df: pd.DataFrame) -> pd.Series:
        return "SE_ADT_ACTS|" + df["type_of_skill"] + "|" + df["sex"].map(_SEX)

    def with_iso3(df: pd.DataFrame) -> pd.Series:  # M49 158 (Taiwan) has no ISO3 code
        return df["iso3"].str.strip() != ""

    return [
        _simple_long(
            _file(folder, "itu_internet_use_by_sex_urban_rural_latest.csv"),
            unit="iso3",
            time="year",
            code=latest_code,
            value="value",
        ),
        read_unctad(_file(folder, "itu_internet_use_daily_by_sex_age_urban.csv")),
        _simple_long(
            _file(folder, "sdg_5b1_mobile_phone_ownership_by_sex.csv"),
            unit="iso3",
            time="year",
            code=mobile_code,
            value="value",
            keep=with_iso3,
        ),
        _simple_long(
            _file(folder, "sdg_4_4_1_ict_skills_by_sex.csv"),
            unit="iso3",
            time="year",
            code=skills_code,
            value="value",
        ),
    ]


def _read_un_egdi(folder: Path) -> list[xr.DataArray]:
    def code(df: pd.DataFrame) -> pd.Series:
        ind = df["indicator"].str.strip()
        return ind.where(ind == "egdi", "egdi_" + ind)

    def keep(df: pd.DataFrame) -> pd.Series:
        # ranks are derived; EGDI == 0 marks a country before independence (placeholder)
        key = df["iso3"] + "|" + df["survey_year"]
        egdi = df[df["indicator"] == "egdi"]
        placeholder = set(key[egdi.index][pd.to_numeric(egdi["value"]) == 0])
        return (df["indicator"] != "egdi_rank") & ~key.isin(placeholder)

    return [
        _simple_long(
            _file(folder, "un_egdi_long.csv"),
            unit="iso3",
            time="survey_year",
            code=code,
            value="value",
            keep=keep,
        )
    ]


def _read_unctad_cyberlaw(folder: Path) -> list[xr.DataArray]:
    return [
        _simple_long(
            _file(folder, "unctad_cyberlaw_status.csv"),
            unit="iso3",
            time=2026,  # a snapshot: the tracker's release of September 2026
            code=lambda df: "cyberlaw_" + df["area"].str.strip(),
            value="has_legislation",
        )
    ]


def _read_itu_gci(folder: Path) -> list[xr.DataArray]:
    def code(df: pd.DataFrame) -> pd.Series:
        ind = df["indicator"].str.strip()
        return ind.where(ind == "gci_overall", "gci_" + ind)

    return [
        _simple_long(
            _file(folder, "itu_gci_2020_long.csv"), unit="iso3", time="year", code=code,
            value="value",
        )
    ]  # fmt: skip


_READERS: dict[str, Callable[[Path], list[xr.DataArray]]] = {
    "wdi_digital": _read_wdi_digital,
    "wdi_ict_trade": _read_wdi_ict_trade,
    "findex": _read_findex,
    "eurostat_ecommerce_by_size": _read_eurostat,
    "wb_lpi": _read_lpi,
    "unctad_digital_economy": _read_unctad_de,
    "itu_connectivity": _read_itu_connectivity,
    "itu_digital_divide": _read_itu_digital_divide,
    "un_egdi": _read_un_egdi,
    "unctad_cyberlaw": _read_unctad_cyberlaw,
    "itu_gci": _read_itu_gci,
}


def read_brics_source(source: str, root: str | os.PathLike[str]) -> xr.DataArray:
    """Read one source of the BRICS+ panel from a folder laid out like the project's data.

    ``root`` holds one sub-folder per source (``root/findex/DatabankWide_Dataset-Data.csv``,
    ``root/itu_gci/itu_gci_2020_long.csv``, ...); the files are read with the readers of
    :mod:`brics_ecom.io` (or, for the simple long files of the UN, LPI, ITU GCI and UNCTAD
    cyberlaw sources, directly), aggregates are dropped and the codes are those of
    :func:`brics_indicators`. This is what ``scripts/build_dataset.py`` packages and what
    ``load_brics_panel(extra_data=root)`` adds.

    Parameters
    ----------
    source : str
        One of :data:`BRICS_SOURCES`.
    root : str or path-like
        The folder holding the source folders.

    Returns
    -------
    xarray.DataArray
        A validated panel with ``unit_name`` (the source's names) and, on ``indicator``,
        the coordinates the reader provides (``indicator_name``, ``unit_label``, ...);
        ``attrs["source"]`` is ``source`` and ``attrs["reader_notes"]`` lists the
        readers' warnings (aggregates dropped, ...).

    Raises
    ------
    InvalidParameterError
        For an unknown source.
    FileNotFoundError
        Naming the missing folder or file.
    DataError
        For malformed files (from the readers).

    Examples
    --------
    >>> import os
    >>> root = os.environ.get("BRICS_ECOM_DATA", "../shared/data")
    >>> p = read_brics_source("wb_lpi", root)  # doctest: +SKIP
    >>> p.sel(unit="IND", time=2023, indicator="lpi_overall").item()  # doctest: +SKIP
    3.4
    """
    from ..panel import from_long, to_long, validate

    if source not in _READERS:
        import difflib

        close = difflib.get_close_matches(str(source), list(_READERS), n=3)
        raise InvalidParameterError(
            f"The 'source' parameter of read_brics_source must be one of {list(BRICS_SOURCES)}; "
            f"got {source!r}.{f' Did you mean {close}?' if close else ''}"
        )
    folder = Path(root) / source
    if not folder.is_dir():
        raise FileNotFoundError(
            f"read_brics_source: no folder {str(folder)!r} for the source {source!r}; "
            f"'root' must hold one sub-folder per source, laid out like the project's data "
            f"folder (got root={str(root)!r})."
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        panels = _READERS[source](folder)
    notes = [str(w.message) for w in caught]
    for w in caught:  # the expected notices (aggregates dropped) are kept in attrs only
        if "aggregates" not in str(w.message):
            warnings.warn(w.message, w.category, stacklevel=2)
    longs: list[pd.DataFrame] = []
    coords: list[pd.DataFrame] = []
    names: dict[str, str] = {}
    for p in panels:
        longs.append(to_long(p)[["unit", "time", "indicator", "value"]])
        columns = {
            str(k): p[k].values
            for k in p.coords
            if p[k].dims == ("indicator",) and k != "indicator"
        }
        coords.append(pd.DataFrame(columns, index=pd.Index(p["indicator"].values, name=None)))
        if "unit_name" in p.coords:
            for u, n in zip(p["unit"].values, p["unit_name"].values, strict=True):
                names.setdefault(str(u), str(n))
    long = pd.concat(longs, ignore_index=True)
    bad = sorted(c for c in set(long["indicator"]) if not _CODE_OK.match(str(c)))
    if bad:  # pragma: no cover - guarded by the readers' codes
        raise DataError(f"read_brics_source: indicator codes {bad} have unexpected characters.")
    panel = from_long(long)
    order = list(dict.fromkeys(c for p in panels for c in p["indicator"].values.tolist()))
    panel = panel.sel(indicator=order)
    merged = pd.concat(coords).astype(object)
    merged = merged[~merged.index.duplicated()].reindex(order)
    for col in merged.columns:
        values = merged[col].where(merged[col].notna(), "").astype(str).to_numpy(dtype=object)
        panel = panel.assign_coords({col: ("indicator", values)})
    unit_names = [names.get(str(u), "") for u in panel["unit"].values]
    panel = panel.assign_coords(unit_name=("unit", pd.Series(unit_names, dtype=object).to_numpy()))
    panel.attrs = {
        "source": source,
        "source_folder": str(folder),
        "reader_notes": notes,
        "readers": sorted({str(p.attrs.get("reader", "pandas")) for p in panels}),
    }
    return validate(panel)


# ---------------------------------------------------------------------- packaged tables
@functools.cache
def _brics_long() -> pd.DataFrame:
    import numpy as np

    table = pd.read_csv(
        data_path(BRICS_PANEL_FILE),
        dtype={"unit": "str", "indicator": "str", "time": "int64", "value": "object"},
        keep_default_na=False,
    )
    # Python's float() is correctly rounded: the repr strings give back the same doubles
    table["value"] = np.asarray(table["value"], dtype=object).astype(np.float64)
    return table


@functools.cache
def _brics_meta() -> pd.DataFrame:
    table = pd.read_csv(data_path(BRICS_INDICATORS_FILE), dtype=str, keep_default_na=False)
    for col in ("direction", "shipped", "n_obs", "n_units", "first_year", "last_year"):
        table[col] = pd.to_numeric(table[col]).astype("int64")
    table["shipped"] = table["shipped"].astype(bool)
    return table


@functools.cache
def _brics_sources() -> pd.DataFrame:
    table = pd.read_csv(data_path(BRICS_SOURCES_FILE), dtype=str, keep_default_na=False)
    table["shipped"] = table["shipped"] == "1"
    table["n_indicators"] = pd.to_numeric(table["n_indicators"]).astype("int64")
    return table


def brics_indicators(*, shipped: bool | None = None) -> pd.DataFrame:
    """The indicator table of the BRICS+ panel: one row per indicator code.

    Parameters
    ----------
    shipped : bool, optional
        ``True``: only the packaged indicators; ``False``: only those read with
        ``load_brics_panel(extra_data=...)``; ``None`` (default): all.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``code``; columns ``name``, ``unit`` (unit of measurement),
        ``concept`` (what is measured, shared by the breakdowns of one series),
        ``breakdown`` (``""`` for the total, else e.g. ``"sex=female"``,
        ``"size_emp=10-49"``), ``direction`` (+1: more is better for e-commerce
        readiness; −1: less is better), ``role`` (``indicator``, ``context`` or
        ``denominator``), ``source`` (folder name, see :func:`describe_sources`),
        ``source_code`` (the code in the source file), ``licence``, ``shipped``,
        ``provenance`` (upstream address), ``n_obs``, ``n_units``, ``first_year``,
        ``last_year`` (coverage in the project's data) and ``notes``.

    Examples
    --------
    >>> t = brics_indicators()
    >>> t.loc["account_f", ["concept", "breakdown", "source", "licence"]].tolist()
    ['account', 'sex=female', 'findex', 'CC BY 4.0']
    >>> bool(t.loc["ITU_DH_POP_COV_4G", "shipped"]), t.loc["ITU_DH_POP_COV_4G", "source"]
    (False, 'itu_connectivity')
    >>> sorted(brics_indicators(shipped=True)["licence"].unique())
    ['CC BY 4.0']
    """
    table = _brics_meta().copy()
    if shipped is not None:
        table = table[table["shipped"] == bool(shipped)]
    return table.set_index("code")


def describe_sources() -> pd.DataFrame:
    """The sources of the BRICS+ panel: provenance, licence, and whether they are packaged.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``source`` (the folder name); columns ``name``, ``producer``,
        ``shipped``, ``licence``, ``attribution``, ``why_not_shipped``, ``files``,
        ``retrieved_from`` (repository @ commit), ``retrieved_date``, ``edition``,
        ``upstream``, ``n_indicators``, ``caveats`` and ``sha256_16`` (the first 16 hex
        digits of the SHA-256 of every input file, ``file:hash`` joined by ``;``).

    Examples
    --------
    >>> s = describe_sources()
    >>> s.loc[s["shipped"], "licence"].unique().tolist()
    ['CC BY 4.0']
    >>> bool(s.loc["itu_gci", "shipped"])
    False
    """
    return _brics_sources().copy().set_index("source")


def _select(
    values: Any, param: str, known: Sequence[str], *, what: str, hint: str = ""
) -> list[str] | None:
    from ..io._common import code_list

    wanted = code_list(values, param, "load_brics_panel")
    if wanted is None:
        return None
    present = set(known)
    unknown = [c for c in wanted if c not in present]
    if unknown:
        import difflib

        close = {u: difflib.get_close_matches(u, list(known), n=3) for u in unknown[:5]}
        if param == "countries":  # a country name instead of a code?
            from ..groups import to_iso3

            for u in close:
                code = to_iso3(u, strict=False)
                if code in present:
                    close[u] = [code]
        raise DataError(
            f"load_brics_panel: {what} {unknown} are not in the BRICS+ panel{hint}. "
            f"Close matches: {close}."
        )
    return wanted


def _countries(countries: Any) -> Any:
    """Group names (``"BRICS"``, ``"G20"``, ...) → their current members."""
    from .. import groups as grp

    if countries is None:
        return None
    items = [countries] if isinstance(countries, str) else list(countries)
    names = set(grp.groups())
    out: list[Any] = []
    for item in items:
        if isinstance(item, str) and (
            item in names or item.startswith(("wb_region:", "wb_income:"))
        ):
            out.extend(grp.members(item))
        else:
            out.append(item)
    return list(dict.fromkeys(out))


def _extra_long(
    extra_data: str | os.PathLike[str],
) -> tuple[pd.DataFrame, list[str], list[str], dict[str, str]]:
    """Long table of the extra sources found, their names, reader notes, code → source."""
    root = Path(extra_data)
    if not root.is_dir():
        raise FileNotFoundError(
            f"load_brics_panel: extra_data={str(extra_data)!r} is not a folder; pass the "
            "folder that holds the source folders (unctad_digital_economy/, itu_connectivity/, "
            "...), laid out like the project's data folder."
        )
    found = [s for s in EXTRA_SOURCES if (root / s).is_dir()]
    if not found:
        raise DataError(
            f"load_brics_panel: extra_data={str(extra_data)!r} holds none of the source "
            f"folders {list(EXTRA_SOURCES)}."
        )
    from ..panel import to_long

    longs: list[pd.DataFrame] = []
    notes: list[str] = []
    origin: dict[str, str] = {}
    for source in found:
        panel = read_brics_source(source, root)
        longs.append(to_long(panel)[["unit", "time", "indicator", "value"]])
        notes.extend(panel.attrs["reader_notes"])
        origin.update(dict.fromkeys(panel["indicator"].values.tolist(), source))
    return pd.concat(longs, ignore_index=True), found, notes, origin


def load_brics_panel(
    *,
    countries: str | Iterable[str] | None = None,
    years: int | Iterable[int] | None = None,
    indicators: str | Iterable[str] | None = None,
    extra_data: str | os.PathLike[str] | None = None,
) -> xr.DataArray:
    """The BRICS+ e-commerce panel: every country and year of the bundled sources.

    The packaged data (World Bank WDI and Findex, Eurostat, World Bank LPI; all CC BY 4.0)
    are always included. Sources whose licence does not clearly allow redistribution
    (UNCTAD digital economy and cyberlaw tracker, ITU connectivity, digital-divide and GCI
    data, UN E-Government survey) are added from ``extra_data``: a folder laid out like the
    project's data folder, one sub-folder per source (see :func:`describe_sources` and
    ``docs/datasets.md``); the folders present are read with :func:`read_brics_source`.

    Parameters
    ----------
    countries : str or iterable of str, optional
        ISO3 codes, or group names of :func:`brics_ecom.groups.groups` (``"BRICS"``,
        ``"G20"``, ``"wb_region:South Asia"``, ...), which stand for their current members.
    years : int or iterable of int, optional
        Years to keep (those absent from the panel are ignored).
    indicators : str or iterable of str, optional
        Indicator codes (:func:`brics_indicators`), kept in the given order.
    extra_data : str or path-like, optional
        Folder holding the non-packaged source folders.

    Returns
    -------
    xarray.DataArray
        Panel ``(unit, time, indicator)`` of float64 (NaN = missing), values as published
        (percentages in percent, US$ as published: see the ``unit_measure`` coordinate).
        Coordinates on ``indicator``: ``indicator_name``, ``unit_measure``, ``concept``,
        ``breakdown``, ``direction``, ``role``, ``source``, ``source_code``, ``licence``,
        ``shipped``; on ``unit``: ``unit_name``, ``wb_region``, ``wb_income``; on
        ``(unit, time)``: ``BRICS`` (membership that year). ``attrs``: ``title``,
        ``sources``, ``licences``, ``attribution``, ``data_as_of`` (the newest date of the
        sources' data, not the time of loading), ``editions``, ``caveats``,
        ``denominators`` (``Population``, ``GDP``, ``GDP_PPP``; dims ``unit, time,
        denominator``) and ``history``.

    Raises
    ------
    DataError
        Naming unknown countries or indicators (with close matches; indicators of a
        non-packaged source ask for ``extra_data``), or years that leave nothing.
    FileNotFoundError
        If ``extra_data`` is not a folder.

    Examples
    --------
    >>> p = load_brics_panel(countries=["BRA", "IND"], years=range(2019, 2022),
    ...                      indicators=["IT.NET.USER.ZS", "account_t"])
    >>> p.sel(unit="IND", time=2021, indicator="account_t").item()
    78.0
    >>> p.indicator_name.values.tolist()
    ['Individuals using the Internet (% of population)', 'Account (% age 15+)']
    >>> p.wb_region.values.tolist(), p.attrs["denominators"].sizes["denominator"]
    (['Latin America & Caribbean', 'South Asia'], 3)
    """
    from .. import groups as grp
    from .._history import describe_call
    from ..io._common import year_set
    from ..panel import from_long, with_denominators

    func = "load_brics_panel"
    params = {
        "countries": countries,
        "years": years,
        "indicators": indicators,
        "extra_data": None if extra_data is None else str(extra_data),
    }
    meta = _brics_meta().set_index("code")
    sources = _brics_sources().set_index("source")
    packaged = _brics_long()
    long = packaged
    used = list(SHIPPED_SOURCES)
    notes: list[str] = []
    origin: dict[str, str] = {}
    if extra_data is not None:
        extra, found, notes, origin = _extra_long(extra_data)
        long = pd.concat([packaged, extra], ignore_index=True)
        used += found
    hint = ""
    if extra_data is None:
        hint = (
            "; codes of the non-packaged sources (brics_indicators(shipped=False)) need "
            "extra_data=<folder with the source folders>"
        )
    in_long = set(long["indicator"])
    present_codes = [c for c in meta.index if c in in_long]
    present_codes += sorted(in_long - set(meta.index))  # new codes of a newer extra release
    ind = _select(indicators, "indicators", present_codes, what="indicators", hint=hint)
    cty = _select(_countries(countries), "countries", sorted(set(long["unit"])), what="countries")
    yrs = year_set(years, func)
    mask = pd.Series(True, index=long.index)
    if ind is not None:
        mask &= long["indicator"].isin(ind)
    if cty is not None:
        mask &= long["unit"].isin(cty)
    if yrs is not None:
        mask &= long["time"].isin(sorted(yrs))
    sub = long[mask]
    if sub.empty:
        raise DataError(
            f"{func}: no data for countries={cty}, years={sorted(yrs) if yrs else yrs}, "
            f"indicators={ind}."
        )
    panel = from_long(sub.reset_index(drop=True))
    # exactly what was asked for: requested units/indicators without data stay (all NaN)
    in_sub = set(sub["indicator"])
    order = ind if ind is not None else [c for c in present_codes if c in in_sub]
    all_times = sorted(set(long["time"]))
    times = all_times if yrs is None else [t for t in all_times if t in yrs]
    panel = panel.reindex(
        unit=sorted(cty) if cty is not None else panel["unit"].values,
        time=times if yrs is not None else panel["time"].values,
        indicator=order,
    )
    codes = panel["indicator"].values.tolist()
    table = meta.reindex(codes)
    unknown = table["name"].isna()
    if unknown.any():  # codes of a newer release of an extra source
        new = table.index[unknown]
        table.loc[unknown, "name"] = new
        table.loc[unknown, "source"] = [origin.get(c, "") for c in new]
        table.loc[unknown, "licence"] = [sources["licence"].get(origin.get(c, ""), "") for c in new]
        text = ["name", "unit", "concept", "breakdown", "role", "source", "source_code", "licence"]
        fill = {**dict.fromkeys(text, ""), "direction": 1, "shipped": False, "role": "indicator"}
        table = table.fillna(fill)
    coord_cols = {
        "indicator_name": "name",
        "unit_measure": "unit",
        "concept": "concept",
        "breakdown": "breakdown",
        "direction": "direction",
        "role": "role",
        "source": "source",
        "source_code": "source_code",
        "licence": "licence",
        "shipped": "shipped",
    }
    for coord, col in coord_cols.items():
        values = table[col].to_numpy()
        if col == "direction":
            values = values.astype("int64")
        elif col == "shipped":
            values = values.astype(bool)
        else:
            values = values.astype(object)
        panel = panel.assign_coords({coord: ("indicator", values)})
    units = [str(u) for u in panel["unit"].values]
    names = grp.to_name(units, strict=False)
    unit_names = [n or u for n, u in zip(names, units, strict=True)]
    panel = panel.assign_coords(unit_name=("unit", pd.Series(unit_names, dtype=object).to_numpy()))
    panel = grp.add_group_coord(panel, "wb_region")
    panel = grp.add_group_coord(panel, "wb_income")
    panel = grp.add_group_coord(panel, "BRICS")
    denoms = _denominators(packaged, units, panel["time"].values.tolist())
    used_sources = sources.loc[[s for s in used if s in sources.index]]
    in_panel = set(table["source"])
    used_sources = used_sources[used_sources.index.isin(in_panel)]
    panel.attrs = {
        "title": "brics_ecom BRICS+ e-commerce panel",
        "sources": {s: f"{r['name']} ({r['licence']})" for s, r in used_sources.iterrows()},
        "licences": sorted(set(used_sources["licence"])),
        "attribution": "; ".join(dict.fromkeys(used_sources["attribution"])),
        "data_as_of": max(used_sources["retrieved_date"]) if len(used_sources) else "",
        "editions": {s: r["edition"] for s, r in used_sources.iterrows()},
        "caveats": "see brics_ecom.datasets.describe_sources()['caveats'] and "
        "datasets/data/README_brics.md (e.g. Findex values are rounded to whole percent)",
        "extra_data": None if extra_data is None else str(extra_data),
        "reader_notes": notes,
        "history": [describe_call(func, params)],
    }
    return with_denominators(panel, denoms)


def _denominators(long: pd.DataFrame, units: list[str], times: list[Any]) -> xr.DataArray:
    import numpy as np
    import xarray as xr

    wanted = ["SP.POP.TOTL", "NY.GDP.PCAP.CD", "NY.GDP.PCAP.PP.CD"]
    sub = long[long["indicator"].isin(wanted)]
    wide = sub.pivot(index=["unit", "time"], columns="indicator", values="value")
    index = pd.MultiIndex.from_product([units, times], names=["unit", "time"])
    wide = wide.reindex(index=index, columns=wanted)
    pop = wide["SP.POP.TOTL"].to_numpy(dtype=np.float64)
    values = np.stack(
        [pop, pop * wide["NY.GDP.PCAP.CD"].to_numpy(), pop * wide["NY.GDP.PCAP.PP.CD"].to_numpy()],
        axis=-1,
    ).reshape(len(units), len(times), 3)
    out = xr.DataArray(
        values,
        dims=("unit", "time", "denominator"),
        coords={"unit": units, "time": times, "denominator": list(BRICS_DENOMINATORS)},
        name="denominator",
    )
    out.attrs = {"description": dict(BRICS_DENOMINATORS), "licence": "CC BY 4.0"}
    return out
