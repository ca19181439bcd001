"""Readers for the data sources of e-commerce indices.

Every reader returns a validated panel (:func:`brics_ecom.panel.validate`) with ISO3
``unit`` codes, integer-year ``time`` labels and the source's indicator codes, plus
provenance in ``attrs`` (``source``, ``source_file``, ``reader``, ``format``,
``licence``, ``attribution``, ``edition`` when known, ``dropped_units``, ``history``).
Rows that are dropped (World Bank or Eurostat aggregates, regions, income groups) are
reported with a :class:`~brics_ecom.errors.DataWarning`; malformed input raises a
:class:`~brics_ecom.errors.DataError` naming the file, line and column.

* :func:`read_wdi_csv` — World Bank WDI bulk files (wide, with or without preamble/BOM)
  and long files;
* :func:`fetch_wdi` — the World Bank API through ``wbgapi`` (optional ``wdi`` extra);
* :func:`read_findex` — the Global Findex Databank wide export (``"80%"`` → 80.0);
* :func:`read_eurostat` — Eurostat TSV bulk files (with flags), SDMX-CSV and long CSV;
* :func:`read_unctad` — World Bank Data360 long exports (UNCTAD digital economy, ITU).

Examples
--------
>>> import io
>>> from brics_ecom.io import read_unctad
>>> text = ("iso3,country,indicator,indicator_label,year,value,obs_status\\n"
...         "IND,India,UNCTAD_DE_DIG_SERVTRADE_ANN_EXP,Exports,2023,288653,A\\n")
>>> read_unctad(io.StringIO(text)).sel(unit="IND", time=2023).values.tolist()
[288653.0]
"""

from __future__ import annotations

from .eurostat import EUROSTAT_FLAGS, EUROSTAT_GEO, get_flags, read_eurostat
from .findex import FINDEX_COLUMNS, findex_columns, read_findex
from .unctad import read_unctad
from .wdi import fetch_wdi, read_wdi_csv

__all__ = [
    "EUROSTAT_FLAGS",
    "EUROSTAT_GEO",
    "FINDEX_COLUMNS",
    "fetch_wdi",
    "findex_columns",
    "get_flags",
    "read_eurostat",
    "read_findex",
    "read_unctad",
    "read_wdi_csv",
]
