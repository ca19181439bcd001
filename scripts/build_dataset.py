"""Rebuild the packaged BRICS+ panel files from the project's data folder.

Usage::

    python scripts/build_dataset.py [DATA] [--out DIR] [--check]

``DATA`` is the folder holding one sub-folder per source (``wdi_digital/``, ``findex/``,
...); default: ``$BRICS_ECOM_SHARED/data`` (or ``$BRICS_ECOM_SHARED`` itself if it holds the
source folders), else ``<checkout>/../shared/data``. ``--out`` defaults to
``src/brics_ecom/datasets/data``; ``--check`` builds into a temporary folder and exits with
status 1 if a packaged file differs.

Every source is read with :func:`brics_ecom.datasets.read_brics_source` (the readers of
:mod:`brics_ecom.io`). Only the sources of ``SHIPPED_SOURCES`` (licence in
``ALLOWED_LICENCES``) are written to the value table; every source, packaged or not, is
described in the indicator and source tables, so that ``load_brics_panel(extra_data=...)``
can label the non-packaged ones.

Written files (byte for byte reproducible: sorted rows, ``repr`` floats, gzip with
``mtime=0`` and a fixed file name, no wall-clock date anywhere):

* ``brics_panel.csv.gz`` — long table ``unit,time,indicator,value``;
* ``brics_indicators.csv`` — one row per indicator code (metadata and coverage);
* ``brics_sources.csv`` — one row per source (provenance, licence, caveats);
* ``README_brics.md`` — the same, for people.
"""

from __future__ import annotations

import argparse
import csv
import filecmp
import gzip
import hashlib
import io
import os
import re
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import xarray as xr

from brics_ecom.datasets import (
    BRICS_DENOMINATORS,
    BRICS_INDICATORS_FILE,
    BRICS_PANEL_FILE,
    BRICS_SOURCES,
    BRICS_SOURCES_FILE,
    SHIPPED_SOURCES,
    read_brics_source,
)
from brics_ecom.panel import to_long

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "src" / "brics_ecom" / "datasets" / "data"
README_FILE = "README_brics.md"
FILES = (BRICS_PANEL_FILE, BRICS_INDICATORS_FILE, BRICS_SOURCES_FILE, README_FILE)

#: Licences that allow the data to be packaged and redistributed with the library.
ALLOWED_LICENCES = frozenset({"CC BY 4.0", "MIT"})

INDICATOR_COLUMNS = (
    "code",
    "name",
    "unit",
    "concept",
    "breakdown",
    "direction",
    "role",
    "source",
    "source_code",
    "licence",
    "shipped",
    "provenance",
    "n_obs",
    "n_units",
    "first_year",
    "last_year",
    "notes",
)
SOURCE_COLUMNS = (
    "source",
    "name",
    "producer",
    "shipped",
    "licence",
    "attribution",
    "why_not_shipped",
    "files",
    "retrieved_from",
    "retrieved_date",
    "edition",
    "upstream",
    "n_indicators",
    "caveats",
    "sha256_16",
)

# ---------------------------------------------------------------------- sources
# Provenance copied from the README of each folder of the project's data.
SOURCES: dict[str, dict[str, Any]] = {
    "wdi_digital": {
        "name": "World Bank, World Development Indicators: digital and macro series",
        "producer": "World Bank (ITU for the telecommunication series, UNESCO UIS for "
        "enrolment, Netcraft for secure servers)",
        "licence": "CC BY 4.0",
        "attribution": "World Bank, World Development Indicators",
        "files": [
            "API_IT.NET.USER.ZS_DS2_en_csv_v2_2160.csv",
            "Metadata_Country_API_IT.NET.USER.ZS_DS2_en_csv_v2_2160.csv",
            "IT.CEL.SETS.P2.csv",
            "IT.MLT.MAIN.P2.csv",
            "IT.NET.BBND.P2.csv",
            "IT.NET.SECR.P6.csv",
            "IT.NET.SECR.P6__release2018_old_netcraft_series.csv",
            "NY.GDP.PCAP.CD.csv",
            "NY.GDP.PCAP.PP.CD.csv",
            "SP.POP.TOTL.csv",
            "SE.SEC.ENRR.csv",
            "SE.TER.ENRR.csv",
        ],
        "retrieved_from": "github.com/datasets/world-development-indicators @ "
        "4ebec5a2273f531ba238a34dbe440394dc5a6c4b (2026-07-01; the 2018 secure-server vintage "
        "@ e73c49d5ab4381c90d5dca35274953b25031fc2a, 2018-08-01); IT.NET.USER.ZS bulk file "
        "from github.com/plotly/Figure-Friday @ fd75327fa0f438be4689f5c26c07cf1cb9fe4a5c "
        "(2024-11-29)",
        "retrieved_date": "2026-07-01",
        "edition": "WDI as of 2026-07-01 (Internet users: WDI bulk download of Nov 2024)",
        "upstream": "https://databank.worldbank.org/source/world-development-indicators",
        "caveats": "WDI values are revised between releases (ITU revises Internet-user "
        "estimates); the secure-server series was re-based around 2019/2020: "
        "IT.NET.SECR.P6 is the current Netcraft TLS-certificate series (2010-2024) and "
        "IT.NET.SECR.P6_R2018 the old series as released in mid-2018 (2001-2016, the vintage "
        "closest to UNCTAD's B2C index 2016/2017); do not splice them. The ITU and UIS series "
        "are redistributed by the World Bank under its CC BY 4.0 terms (datapackage.json of "
        "the source repository); acknowledge the original producers too.",
    },
    "wdi_ict_trade": {
        "name": "World Bank, World Development Indicators: ICT service exports (BX.GSR.CCIS.CD)",
        "producer": "World Bank (IMF balance-of-payments statistics)",
        "licence": "CC BY 4.0",
        "attribution": "World Bank, World Development Indicators",
        "files": [
            "BX.GSR.CCIS.CD.csv",
            "Metadata_Country_API_BX.GSR.CCIS.CD_DS2_en_csv_v2_920.csv",
        ],
        "retrieved_from": "github.com/AleHerreraSoria/green-ai-analytics-platform @ "
        "f0c3116daa9e963835786182b1d42aa1421bafd6 (2026-04-07)",
        "retrieved_date": "2026-04-07",
        "edition": "WDI release of 2026-02-24",
        "upstream": "https://data.worldbank.org/indicator/BX.GSR.CCIS.CD",
        "caveats": "Current US$, unscaled. RUS falls from 7.23 bn (2021) to 2.39 bn (2024): "
        "as published (reporting/coverage change after 2022).",
    },
    "findex": {
        "name": "World Bank, Global Findex Database 2021 (Databank wide export)",
        "producer": "World Bank (Gallup World Poll survey)",
        "licence": "CC BY 4.0",
        "attribution": "World Bank, Global Findex Database 2021",
        "files": ["DatabankWide_Dataset-Data.csv"],
        "retrieved_from": "github.com/the-codingschool/DSRP-2023-Li @ "
        "d2115c958c5dbf1e0d9d05a7d13de413717e4cbb (2023-08-02)",
        "retrieved_date": "2023-08-02",
        "edition": "Global Findex 2021 (survey years 2011, 2014, 2017, 2021; 16 economies "
        "surveyed in 2022)",
        "upstream": "https://www.worldbank.org/en/publication/globalfindex",
        "caveats": "Values are ROUNDED TO WHOLE PERCENT (the Databank export wrote them as "
        "'80%' strings): good for indices, not for reproducing published tables to the "
        "decimal. account_t equals WDI FX.OWN.TOTL.ZS (rounded). Question wording changed "
        "between editions (digital payments are comparable from 2014, online purchases from "
        "2017 only). Licence: World Bank terms (CC BY 4.0); the copying repository states no "
        "licence.",
    },
    "eurostat_ecommerce_by_size": {
        "name": "Eurostat, E-commerce sales of enterprises by size class (isoc_ec_esels), extract",
        "producer": "Eurostat (EU survey on ICT usage and e-commerce in enterprises)",
        "licence": "CC BY 4.0",
        "attribution": "Source: Eurostat (© European Union, 1995-2024)",
        "files": ["isoc_ec_esels_subset_by_size.csv"],
        "retrieved_from": "github.com/SamuelePignone/data-visualization-final @ "
        "ba359c49882d4e209528ebac435c4bf4fc2db845 (2024-06-10; file last changed in b38aa13, "
        "2024-04-13)",
        "retrieved_date": "2024-04-13",
        "edition": "isoc_ec_esels as downloaded in 2024 (years 2010-2023)",
        "upstream": "https://doi.org/10.2908/ISOC_EC_ESELS",
        "caveats": "An extract: its filters are not documented (NACE aggregate presumably "
        "C10-S951_X_K, unit presumed PC_ENT = % of enterprises); the SME total (10-249) and "
        "GE10 are not included. Eurostat geo codes mapped to ISO3 (EL -> GRC, UK -> GBR). "
        "Eurostat data reuse: Commission Decision 2011/833/EU, CC BY 4.0.",
    },
    "wb_lpi": {
        "name": "World Bank, Logistics Performance Index (international LPI)",
        "producer": "World Bank (survey of logistics professionals)",
        "licence": "CC BY 4.0",
        "attribution": "World Bank, Logistics Performance Index",
        "files": ["wb_lpi_long.csv"],
        "retrieved_from": "github.com/meh4kpreet/World-Bank-Logistics-Performance-Index-"
        "2012-2023-Project @ e4a83495023f79c9f42db86e74d09d01da3dd55a (2025-07-21; 2012-2023); "
        "github.com/bradleyboehmke/LPI-Rankings @ cadfd4fe509a5de2da41cb6e2444dcd270f968c5 "
        "(2016-07-28; 2010)",
        "retrieved_date": "2025-07-21",
        "edition": "LPI 2010, 2012, 2014, 2016, 2018, 2023",
        "upstream": "https://lpi.worldbank.org",
        "caveats": "2023 changed method (139 economies, 1 decimal, grouped ranks): levels are "
        "not strictly comparable with 2018 and earlier. A perception survey of B2B freight "
        "forwarders: only a proxy for parcel/e-commerce delivery. Scores only (ranks are "
        "derived). Licence: World Bank terms (CC BY 4.0); the copying repositories state "
        "none.",
    },
    "unctad_digital_economy": {
        "name": "UNCTAD, Digital Economy and Technology (digitally-deliverable services "
        "trade; ICT use by businesses), via World Bank Data360",
        "producer": "UNCTAD",
        "licence": "not verified (UNCTAD data are normally reusable with attribution "
        "'Source: UNCTAD'; the Data360 page's terms were not checked)",
        "attribution": "Source: UNCTAD",
        "why_not_shipped": "licence not verified; the copying repository has no licence",
        "files": ["unctad_de_long.csv"],
        "retrieved_from": "github.com/FaisaljanBaloch/global-digital-economy @ "
        "0472166f9f1a9cc9bd559d733c9dfb239f36ca35 (2025-07-07)",
        "retrieved_date": "2025-07-07",
        "edition": "Data360 UNCTAD_DE (2010-2023)",
        "upstream": "https://data360.worldbank.org/en/dataset/UNCTAD_DE",
        "caveats": "Trade values in US$ millions (unit_mult 6, not applied). Business ICT "
        "indicators have no enterprise-size breakdown and sparse BRICS coverage (BRA none); "
        "odd values (IDN 2021 B3 = B7 = B8 = 100) are kept as published.",
    },
    "itu_connectivity": {
        "name": "ITU, active mobile-broadband subscriptions and 4G population coverage, "
        "via World Bank Data360",
        "producer": "ITU (World Telecommunication/ICT Indicators database)",
        "licence": "ITU terms (reported as CC BY-NC-SA 3.0 IGO; not verified)",
        "attribution": "Source: ITU",
        "why_not_shipped": "licence unclear (possibly non-commercial, share-alike)",
        "files": [
            "itu_active_mobile_broadband_per100.csv",
            "itu_population_coverage_4g.csv",
        ],
        "retrieved_from": "github.com/dalozedidier-dot/transobserver @ "
        "30496930adbf3c1576deb27f7dd06cb50c135868 (2026-01-28)",
        "retrieved_date": "2026-01-28",
        "edition": "ITU DataHub via Data360 (2007-2024)",
        "upstream": "https://datahub.itu.int",
        "caveats": "Mobile broadband: BRA has no values after 2018, IND none after 2022. "
        "Values above 100 are normal (several SIMs).",
    },
    "itu_digital_divide": {
        "name": "ITU and UN SDG database: Internet use by sex, age and urban/rural; mobile "
        "phone ownership (SDG 5.b.1) and ICT skills (SDG 4.4.1) by sex",
        "producer": "ITU (custodian), UN Statistics Division (SDG Global Database)",
        "licence": "ITU / UN SDG database terms (not verified)",
        "attribution": "Source: ITU; UN SDG Global Database",
        "why_not_shipped": "licence unclear (ITU terms; copying repositories state none)",
        "files": [
            "itu_internet_use_by_sex_urban_rural_latest.csv",
            "itu_internet_use_daily_by_sex_age_urban.csv",
            "sdg_5b1_mobile_phone_ownership_by_sex.csv",
            "sdg_4_4_1_ict_skills_by_sex.csv",
        ],
        "retrieved_from": "github.com/lnoe10/equals_ict_africa @ "
        "6da515275f56d1ee7bfd0fe9c7ecd50f9267ca62 (2021-10-25); "
        "github.com/dalozedidier-dot/transobserver @ "
        "30496930adbf3c1576deb27f7dd06cb50c135868 (2026-01-28)",
        "retrieved_date": "2026-01-28",
        "edition": "ITU table of Aug 2020 (latest year per economy); SDG release 2020.Q4.G.02; "
        "ITU DataHub daily use 2003-2024",
        "upstream": "https://www.itu.int/en/ITU-D/Statistics ; https://unstats.un.org/sdgs",
        "caveats": "ITU_INTERNET_USE is a cross-section of each economy's latest year "
        "(2015-2019); CHN, IND and ZAF are absent. ITU_DH_INT_USR_DAY looks like a share of "
        "Internet users, not of the population. ZAF 2015 IT_MOB_OWN is implausible as "
        "published. Survey age scopes differ.",
    },
    "un_egdi": {
        "name": "UN DESA, E-Government Development Index and components (2003-2024)",
        "producer": "UN Department of Economic and Social Affairs",
        "licence": "not stated (UN DESA terms not verified)",
        "attribution": "UN DESA, United Nations E-Government Survey",
        "why_not_shipped": "licence not stated",
        "files": ["un_egdi_long.csv"],
        "retrieved_from": "github.com/sevenChrisK/text-mining-week1 @ "
        "c95223650d397799bb9e587181fc4f8065388f73 (2022-11-02; 2003-2022); "
        "github.com/MaryliaCruzS/Estadistica1CienciaPolitica @ "
        "c22aa0b17306eb90c2513ac2c3ca36d0e37fa376 (2025-04-16; 2024)",
        "retrieved_date": "2025-04-16",
        "edition": "E-Government Surveys 2003-2024",
        "upstream": "https://publicadministration.un.org/egovkb/en-us/Data-Center",
        "caveats": "Placeholder zeros before independence (EGDI = 0: MNE 2003-2005, SSD 2003-2010) "
        "are dropped. Methodology changed between editions: compare levels across editions "
        "with care. Ranks are not read (derived).",
    },
    "unctad_cyberlaw": {
        "name": "UNCTAD Global Cyberlaw Tracker (e-commerce legislation by country)",
        "producer": "UNCTAD",
        "licence": "not stated ('Rights of usage: contact the author')",
        "attribution": "Source: UNCTAD, Global Cyberlaw Tracker",
        "why_not_shipped": "licence not stated; usage rights on request",
        "files": ["unctad_cyberlaw_status.csv"],
        "retrieved_from": "github.com/unctad-infovis/2026-cyberlaw_tracker @ "
        "df073bbca47da674714d2802a203040a0b417670 (2026-04-27); status values @ "
        "ced9138ecb883d70213ac49231e9f208c1564247 ('Source: UNCTAD, 09/09/2026')",
        "retrieved_date": "2026-09-09",
        "edition": "release of 9 September 2026 (a snapshot, time label 2026)",
        "upstream": "https://unctad.org/page/global-cyberlaw-tracker",
        "caveats": "No time dimension: every value is labelled 2026. 1 = legislation, 0 = "
        "draft or none, missing = no data. Says nothing about quality or enforcement; "
        "'consumer protection' means online consumer protection.",
    },
    "itu_gci": {
        "name": "ITU, Global Cybersecurity Index 2020",
        "producer": "ITU",
        "licence": "ITU terms: re-use for educational and non-commercial purposes",
        "attribution": "Source: ITU, Global Cybersecurity Index 2020",
        "why_not_shipped": "non-commercial licence",
        "files": ["itu_gci_2020_long.csv"],
        "retrieved_from": "github.com/blavatnik-index/bipa2024_sourcedata @ "
        "088271d0d6a9c1717d925073166fde8a54f0428b (2024-12-02)",
        "retrieved_date": "2024-12-02",
        "edition": "GCI 2020 (4th edition; time label 2020)",
        "upstream": "https://www.itu.int/epublications/publication/D-STR-GCI.01-2021",
        "caveats": "Extracted from the PDF report. One edition only (GCI 2018 and 2024 are not "
        "comparable). Strong ceiling effect: 7 of the 11 BRICS+ members score 20/20 on the "
        "legal pillar.",
    },
}

# ---------------------------------------------------------------------- indicators
_WDI = {
    "IT.NET.USER.ZS": ("Individuals using the Internet (% of population)", "% of population",
                       "internet_users"),
    "IT.CEL.SETS.P2": ("Mobile cellular subscriptions (per 100 people)", "per 100 people",
                       "mobile_subscriptions"),
    "IT.MLT.MAIN.P2": ("Fixed telephone subscriptions (per 100 people)", "per 100 people",
                       "fixed_telephone_subscriptions"),
    "IT.NET.BBND.P2": ("Fixed broadband subscriptions (per 100 people)", "per 100 people",
                       "fixed_broadband_subscriptions"),
    "IT.NET.SECR.P6": ("Secure Internet servers (per 1 million people)",
                       "per 1 million people", "secure_servers"),
    "IT.NET.SECR.P6_R2018": ("Secure Internet servers (per 1 million people), old Netcraft "
                             "series as released by WDI in mid-2018",
                             "per 1 million people", "secure_servers_2018_vintage"),
    "NY.GDP.PCAP.CD": ("GDP per capita (current US$)", "current US$", "gdp_per_capita"),
    "NY.GDP.PCAP.PP.CD": ("GDP per capita, PPP (current international $)",
                          "current international $", "gdp_per_capita_ppp"),
    "SP.POP.TOTL": ("Population, total", "persons", "population"),
    "SE.SEC.ENRR": ("School enrollment, secondary (% gross)", "% gross", "enrolment_secondary"),
    "SE.TER.ENRR": ("School enrollment, tertiary (% gross)", "% gross", "enrolment_tertiary"),
    "BX.GSR.CCIS.CD": ("ICT service exports (BoP, current US$)", "current US$",
                       "ict_service_exports"),
}  # fmt: skip
_WDI_ROLE = {
    "SP.POP.TOTL": "denominator",
    "NY.GDP.PCAP.CD": "context",
    "NY.GDP.PCAP.PP.CD": "context",
}
_FINDEX_BREAKDOWN = {
    "t": "",
    "f": "sex=female",
    "m": "sex=male",
    "young": "age=15-24",
    "old": "age=25+",
    "pri": "education=primary or less",
    "sec": "education=secondary or more",
    "p40": "income=poorest 40%",
    "r60": "income=richest 60%",
    "rural": "area=rural",
    "urban": "area=urban",
}
_EUROSTAT = {
    "E_AESELL": "Enterprises with e-commerce sales of at least 1% of turnover",
    "E_ESELL": "Enterprises having done electronic sales",
    "E_AWSELL": "Enterprises with web sales (websites or apps)",
    "E_AWS_COWN": "Enterprises with web sales via their own websites or apps",
    "E_AWS_CMP": "Enterprises with web sales via e-commerce marketplaces",
    "E_AWS_B2BG": "Enterprises with web sales to businesses and public authorities (B2B and B2G)",
    "E_AXSELL": "Enterprises with EDI-type sales",
    "E_AESEU": "Enterprises with e-sales to other EU countries",
    "E_AESWW": "Enterprises with e-sales to the rest of the world",
    "E_AESEUWW": "Enterprises with e-sales to other EU countries and the rest of the world",
    "E_AESBHM": "Enterprises with e-sales to their own country",
}
_SIZE = {
    "1-9": "1-9 persons employed (micro)",
    "10-49": "10-49 persons employed (small)",
    "50-249": "50-249 persons employed (medium)",
    "GE250": "250 persons employed or more (large)",
}
_LPI = {
    "lpi_overall": "Logistics Performance Index: overall score",
    "lpi_customs": "LPI: efficiency of customs and border clearance",
    "lpi_infrastructure": "LPI: quality of trade and transport infrastructure",
    "lpi_international_shipments": "LPI: ease of arranging competitively priced shipments",
    "lpi_logistics_competence_quality": "LPI: competence and quality of logistics services",
    "lpi_timeliness": "LPI: frequency with which shipments reach consignees on time",
    "lpi_tracking_tracing": "LPI: ability to track and trace consignments",
}
_EGDI = {
    "egdi": "E-Government Development Index",
    "egdi_osi": "E-Government Survey: Online Service Index",
    "egdi_tii": "E-Government Survey: Telecommunication Infrastructure Index",
    "egdi_hci": "E-Government Survey: Human Capital Index",
    "egdi_epi": "E-Government Survey: E-Participation Index (not a component of EGDI)",
}
_CYBERLAW = {
    "e_transactions": "electronic transactions",
    "consumer_protection": "online consumer protection",
    "data_protection_privacy": "privacy and data protection",
    "cybercrime": "cybercrime",
    "indirect_taxation": "indirect taxation of e-commerce",
}
_GCI = {
    "gci_overall": "Global Cybersecurity Index 2020: overall score",
    "gci_legal": "GCI 2020: legal measures",
    "gci_technical": "GCI 2020: technical measures",
    "gci_organisational": "GCI 2020: organisational measures",
    "gci_capacity_development": "GCI 2020: capacity development",
    "gci_cooperation": "GCI 2020: cooperation",
}
_SKILLS = {
    "COPA": "copying or moving a file or folder",
    "TRAF": "transferring files between a computer and other devices",
    "SOFT": "finding, downloading, installing and configuring software",
    "EPRS": "creating electronic presentations",
    "ARSP": "using basic arithmetic formulas in a spreadsheet",
    "CMFL": "using copy and paste tools within a document",
    "EMAIL": "sending e-mails with attached files",
    "INST": "connecting and installing new devices",
    "PCPR": "writing a computer program in a specialised language",
}
_SEX_TEXT = {"_T": "", "F": "female", "M": "male"}
_AGE_TEXT = {"_T": "", "Y0T14": "0-14", "Y15T24": "15-24", "Y25T74": "25-74", "Y_GE75": "75+"}
_AREA_TEXT = {"_T": "", "URB": "urban", "RUR": "rural"}


def _breakdown(**parts: str) -> str:
    return ";".join(f"{k}={v}" for k, v in parts.items() if v)


def _suffix(breakdown: str) -> str:
    return f" ({breakdown.replace(';', ', ')})" if breakdown else ""


def _coord(panel: xr.DataArray, name: str, code: str) -> str:
    if name not in panel.coords:
        return ""
    return str(panel[name].sel(indicator=code).item())


def _describe(source: str, code: str, panel: xr.DataArray) -> dict[str, Any]:
    """Metadata of one indicator (name, unit, concept, breakdown, ...)."""
    row: dict[str, Any] = {"direction": 1, "role": "indicator", "notes": "", "breakdown": ""}
    if source in ("wdi_digital", "wdi_ict_trade"):
        name, unit, concept = _WDI[code]
        wdi = code.removesuffix("_R2018")
        row |= {
            "name": name,
            "unit": unit,
            "concept": concept,
            "role": _WDI_ROLE.get(code, "indicator"),
            "source_code": wdi,
            "provenance": f"https://data.worldbank.org/indicator/{wdi}",
        }
        if code.endswith("_R2018"):
            row["notes"] = (
                "WDI release of mid-2018 (2001-2016): do not splice with the current series"
            )
        if code == "SP.POP.TOTL":
            row["notes"] = "also in attrs['denominators'] as 'Population'"
    elif source == "findex":
        concept, _, part = code.rpartition("_")
        column = _coord(panel, "indicator_name", code)
        ages = re.search(r"(\d+(?:-\d+|\+))\)$", column)
        row |= {
            "name": column,
            "unit": f"% of population aged {ages.group(1) if ages else '15+'}",
            "concept": concept,
            "breakdown": _FINDEX_BREAKDOWN[part],
            "source_code": column,
            "provenance": "https://www.worldbank.org/en/publication/globalfindex",
            "notes": "rounded to whole percent in the Databank export",
        }
        if code == "account_t":
            row["notes"] += "; = WDI FX.OWN.TOTL.ZS"
        if code == "cod_online_t":
            row["notes"] += (
                "; direction ambiguous: more online buying, but paid in cash (use -1 for "
                "digital-payment maturity)"
            )
    elif source == "eurostat_ecommerce_by_size":
        indic, size = _coord(panel, "indic_is", code), _coord(panel, "size_emp", code)
        row |= {
            "name": f"{_EUROSTAT[indic]} ({_SIZE[size]})",
            "unit": "% of enterprises",
            "concept": indic,
            "breakdown": _breakdown(size_emp=size),
            "source_code": f"isoc_ec_esels: indic_is={indic}, size_emp={size}",
            "provenance": "https://doi.org/10.2908/ISOC_EC_ESELS",
            "notes": "unit presumed PC_ENT; NACE aggregate not documented in the extract",
        }
    elif source == "wb_lpi":
        row |= {
            "name": _LPI[code] + " (1-5)",
            "unit": "score 1 (low) to 5 (high)",
            "concept": code,
            "source_code": code.removeprefix("lpi_") if code != "lpi_overall" else code,
            "provenance": "https://lpi.worldbank.org",
            "notes": "2023: new method, 1 decimal",
        }
    elif source in ("unctad_digital_economy", "itu_connectivity") or code.startswith("ITU_DH_"):
        base = code.split("|")[0]
        label = _coord(panel, "unit_label", code)
        mult = _coord(panel, "unit_mult", code)
        label = re.sub(r"^Percentage of ", "% of ", label)
        unit = label if mult in ("", "0") else f"{label} (x 10^{mult})"
        if label == "US dollars" and mult == "6":
            unit = "millions of current US$"
        parts = code.split("|")[1:]
        bd = ""
        if parts:
            sex, age, urb = parts
            bd = _breakdown(sex=_SEX_TEXT[sex], age=_AGE_TEXT[age], area=_AREA_TEXT[urb])
        concept = {
            "UNCTAD_DE_DIG_SERVTRADE_ANN_EXP": "digitally_deliverable_services_exports",
            "UNCTAD_DE_DIG_SERVTRADE_ANN_IMP": "digitally_deliverable_services_imports",
            "ITU_DH_ACT_MOB_PER_100": "mobile_broadband_subscriptions",
            "ITU_DH_POP_COV_4G": "coverage_4g",
            "ITU_DH_INT_USR_DAY": "internet_use_daily",
        }.get(base, "business_ict_" + base.rpartition("_ANN_")[2].removeprefix("ALL_")
              .removeprefix("00_"))  # fmt: skip
        row |= {
            "name": _coord(panel, "indicator_name", code) + _suffix(bd),
            "unit": unit,
            "concept": concept,
            "breakdown": bd,
            "source_code": base,
            "provenance": (
                "https://data360.worldbank.org/en/dataset/UNCTAD_DE"
                if base.startswith("UNCTAD")
                else "https://datahub.itu.int"
            ),
        }
        if base == "ITU_DH_INT_USR_DAY":
            row["notes"] = "looks like a share of Internet users, not of the population"
        if base.startswith("UNCTAD_DE_ICT"):
            row["notes"] = "no enterprise-size breakdown; scope varies by country"
    elif source == "itu_digital_divide":
        series, *parts = code.split("|")
        if series == "ITU_INTERNET_USE":
            sex, area = parts
            bd = _breakdown(sex=_SEX_TEXT[sex], area=_AREA_TEXT[area])
            row |= {
                "name": "Individuals using the Internet, latest year" + _suffix(bd),
                "unit": "% of individuals (age scope varies)",
                "concept": "internet_users_itu_latest",
                "breakdown": bd,
                "source_code": "ITU table 10 (Aug 2020)",
                "provenance": "https://www.itu.int/en/ITU-D/Statistics",
                "notes": "latest year per economy (2015-2019), a cross-section",
            }
        elif series == "IT_MOB_OWN":
            bd = _breakdown(sex=_SEX_TEXT[parts[0]])
            row |= {
                "name": "Individuals who own a mobile phone (SDG 5.b.1)" + _suffix(bd),
                "unit": "% of individuals",
                "concept": "mobile_phone_ownership",
                "breakdown": bd,
                "source_code": "SDG series IT_MOB_OWN",
                "provenance": "https://unstats.un.org/sdgs/dataportal",
            }
        else:
            skill, sex = parts
            bd = _breakdown(sex=_SEX_TEXT[sex])
            row |= {
                "name": f"Youth and adults with ICT skills: {_SKILLS[skill]} (SDG 4.4.1)"
                + _suffix(bd),
                "unit": "% of individuals",
                "concept": f"ict_skills_{skill}",
                "breakdown": bd,
                "source_code": f"SDG series SE_ADT_ACTS, type_of_skill={skill}",
                "provenance": "https://unstats.un.org/sdgs/dataportal",
            }
    elif source == "un_egdi":
        row |= {
            "name": _EGDI[code] + " (0-1)",
            "unit": "index 0-1",
            "concept": code,
            "source_code": code.removeprefix("egdi_") if code != "egdi" else code,
            "provenance": "https://publicadministration.un.org/egovkb/en-us/Data-Center",
            "notes": "survey years only; methodology changes between editions",
        }
    elif source == "unctad_cyberlaw":
        area = code.removeprefix("cyberlaw_")
        row |= {
            "name": f"Legislation on {_CYBERLAW[area]} (UNCTAD Global Cyberlaw Tracker)",
            "unit": "1 = legislation, 0 = draft or none",
            "concept": code,
            "source_code": f"area={area}, has_legislation",
            "provenance": "https://unctad.org/page/global-cyberlaw-tracker",
            "notes": "snapshot of Sept 2026, labelled 2026",
        }
    elif source == "itu_gci":
        top = 100 if code == "gci_overall" else 20
        row |= {
            "name": f"{_GCI[code]} (0-{top})",
            "unit": f"score 0-{top}",
            "concept": code,
            "source_code": code.removeprefix("gci_") if code != "gci_overall" else code,
            "provenance": SOURCES["itu_gci"]["upstream"],
            "notes": "one edition only, labelled 2020",
        }
    else:  # pragma: no cover - every source is handled above
        raise ValueError(f"no metadata rule for source {source!r}")
    return row


# ---------------------------------------------------------------------- build
def default_data_root() -> Path:
    """``$BRICS_ECOM_SHARED/data`` (or ``$BRICS_ECOM_SHARED``), else ``../shared/data``."""
    env = os.environ.get("BRICS_ECOM_SHARED")
    if env:
        base = Path(env)
        return base / "data" if (base / "data").is_dir() else base
    return Path(__file__).resolve().parents[2] / "shared" / "data"


def _sha16(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _csv_text(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row[c] for c in columns])
    return buf.getvalue()


def _gzip(text: str, name: str) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename=name, mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(text.encode("utf-8"))
    return buf.getvalue()


def build(data_root: Path, out: Path) -> dict[str, Path]:
    """Read every source under ``data_root`` and write the packaged files into ``out``."""
    data_root = Path(data_root)
    if not data_root.is_dir():
        raise FileNotFoundError(
            f"build_dataset: the data folder {str(data_root)!r} does not exist; pass it as the "
            "first argument or set BRICS_ECOM_SHARED."
        )
    if set(SOURCES) != set(BRICS_SOURCES):
        raise RuntimeError(
            f"build_dataset: SOURCES {sorted(SOURCES)} and brics_ecom.datasets.BRICS_SOURCES "
            f"{sorted(BRICS_SOURCES)} differ."
        )
    for source in BRICS_SOURCES:
        allowed = SOURCES[source]["licence"] in ALLOWED_LICENCES
        if allowed != (source in SHIPPED_SOURCES):
            raise RuntimeError(
                f"build_dataset: source {source!r} has licence {SOURCES[source]['licence']!r}, "
                f"but shipped={source in SHIPPED_SOURCES}; packaged sources need a licence in "
                f"{sorted(ALLOWED_LICENCES)}."
            )
    values: list[tuple[str, str, int, float]] = []
    indicators: list[dict[str, Any]] = []
    sources: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    for source in BRICS_SOURCES:
        info = SOURCES[source]
        shipped = source in SHIPPED_SOURCES
        panel = read_brics_source(source, data_root)
        long = to_long(panel)
        if long["value"].isna().any():  # pragma: no cover - to_long drops NaN
            raise RuntimeError(f"build_dataset: NaN values in {source}")
        for code in panel["indicator"].values.tolist():
            if code in seen:
                raise RuntimeError(
                    f"build_dataset: indicator {code!r} is in both {seen[code]!r} and {source!r}."
                )
            seen[code] = source
            obs = long[long["indicator"] == code]
            row = _describe(source, code, panel)
            row |= {
                "code": code,
                "source": source,
                "licence": info["licence"],
                "shipped": int(shipped),
                "n_obs": len(obs),
                "n_units": obs["unit"].nunique(),
                "first_year": int(obs["time"].min()),
                "last_year": int(obs["time"].max()),
            }
            indicators.append(row)
        if shipped:
            values.extend(
                zip(
                    long["unit"].astype(str),
                    long["indicator"].astype(str),
                    long["time"].astype(int),
                    long["value"].astype(float),
                    strict=True,
                )
            )
        files = info["files"]
        sources.append(
            {
                "source": source,
                **{k: info.get(k, "") for k in SOURCE_COLUMNS if k in info},
                "why_not_shipped": info.get("why_not_shipped", ""),
                "shipped": int(shipped),
                "files": ";".join(files),
                "n_indicators": panel.sizes["indicator"],
                "sha256_16": ";".join(f"{f}:{_sha16(data_root / source / f)}" for f in files),
            }
        )
    for name in BRICS_DENOMINATORS:
        if name in seen:  # pragma: no cover - codes differ by construction
            raise RuntimeError(f"build_dataset: denominator {name!r} clashes with an indicator")
    values.sort(key=lambda r: (r[1], r[0], r[2]))
    lines = ["unit,time,indicator,value\n"]
    lines += [f"{u},{t},{i},{v!r}\n" for u, i, t, v in values]
    panel_text = "".join(lines)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = {
        BRICS_PANEL_FILE: _gzip(panel_text, BRICS_PANEL_FILE.removesuffix(".gz")),
        BRICS_INDICATORS_FILE: _csv_text(indicators, INDICATOR_COLUMNS).encode("utf-8"),
        BRICS_SOURCES_FILE: _csv_text(sources, SOURCE_COLUMNS).encode("utf-8"),
        README_FILE: _readme(sources, indicators, len(values)).encode("utf-8"),
    }
    paths = {}
    for name, data in written.items():
        path = out / name
        path.write_bytes(data)
        paths[name] = path
    return paths


def _readme(sources: list[dict[str, Any]], indicators: list[dict[str, Any]], n_rows: int) -> str:
    shipped = [s for s in sources if s["shipped"]]
    extra = [s for s in sources if not s["shipped"]]
    n_shipped = sum(1 for r in indicators if r["shipped"])
    n_codes = len({r["code"] for r in indicators if r["shipped"]})
    out = [
        "# The BRICS+ e-commerce panel (`brics_panel.csv.gz`)\n",
        "Written by `scripts/build_dataset.py` from the project's data folder (`../shared/data`)"
        " with the readers of `brics_ecom.io`; do not edit by hand. Load it with "
        "`brics_ecom.datasets.load_brics_panel()`.\n",
        "## Files\n",
        f"* `{BRICS_PANEL_FILE}`: long table `unit,time,indicator,value` ({n_rows:,} rows, "
        f"{n_codes} indicators; ISO3 units, integer years; values as published, floats written "
        "with Python's `repr`, so they parse back to the identical double; gzip with mtime 0).",
        f"* `{BRICS_INDICATORS_FILE}`: one row per indicator code of every source, packaged "
        f"({n_shipped}) or not ({len(indicators) - n_shipped}): name, unit, concept, breakdown, "
        "direction, role, source, source code, licence, provenance, coverage, notes.",
        f"* `{BRICS_SOURCES_FILE}`: one row per source: provenance, licence, attribution, "
        "caveats, sha256 (first 16 hex digits) of every input file.\n",
        "## Packaged sources (licence CC BY 4.0)\n",
        "| source | indicators | licence | attribution | data retrieved from |",
        "| --- | --- | --- | --- | --- |",
    ]
    for s in shipped:
        out.append(
            f"| `{s['source']}`: {s['name']} | {s['n_indicators']} | {s['licence']} | "
            f"{s['attribution']} | {s['retrieved_from']} |"
        )
    out += [
        "",
        "## Sources NOT packaged (read with `load_brics_panel(extra_data=FOLDER)`)\n",
        "Their licence does not clearly allow redistribution, so their values are not in the "
        "package; `brics_indicators.csv` still describes their indicators so that a user who "
        "has the files (a folder laid out like `../shared/data`) gets them labelled.\n",
        "| source | indicators | licence | why not packaged |",
        "| --- | --- | --- | --- |",
    ]
    for s in extra:
        out.append(
            f"| `{s['source']}`: {s['name']} | {s['n_indicators']} | {s['licence']} | "
            f"{s['why_not_shipped']} |"
        )
    out += [
        "",
        "Not available at all: the UPU postal reliability score (UNCTAD B2C index component) is "
        "not public and is not in the project's data.\n",
        "## Provenance and caveats by source\n",
    ]
    for s in sources:
        codes = [r["code"] for r in indicators if r["source"] == s["source"]]
        shown = ", ".join(f"`{c}`" for c in codes[:12]) + (
            f", ... ({len(codes)} in all)" if len(codes) > 12 else ""
        )
        out += [
            f"### `{s['source']}` — {s['name']}\n",
            f"* Packaged: {'yes' if s['shipped'] else 'no (' + s['why_not_shipped'] + ')'}",
            f"* Producer: {s['producer']}",
            f'* Licence: {s["licence"]}; attribution: "{s["attribution"]}"',
            f"* Edition: {s['edition']}",
            f"* Retrieved from: {s['retrieved_from']}",
            f"* Upstream: {s['upstream']}",
            "* Input files (sha256, first 16 hex): "
            + ", ".join(f"`{x}`" for x in s["sha256_16"].split(";")),
            f"* Indicators: {shown}",
            f"* Caveats: {s['caveats']}\n",
        ]
    out += [
        "## Denominators\n",
        '`load_brics_panel()` puts these in `attrs["denominators"]` (dims `unit, time, '
        "denominator`):\n",
        *[f"* `{k}`: {v}" for k, v in BRICS_DENOMINATORS.items()],
        "",
        "## Rebuilding\n",
        "```",
        "python scripts/build_dataset.py ../shared/data           # rewrite the files",
        "python scripts/build_dataset.py ../shared/data --check   # compare, exit 1 if different",
        "```",
        "",
    ]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", type=Path, default=None, help="data folder")
    parser.add_argument("--out", type=Path, default=OUT, help=f"output folder (default {OUT})")
    parser.add_argument(
        "--check", action="store_true", help="compare with the files in --out, write nothing"
    )
    args = parser.parse_args(argv)
    data_root = args.data if args.data is not None else default_data_root()
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            build(data_root, Path(tmp))
            differ = [f for f in FILES if not filecmp.cmp(Path(tmp) / f, args.out / f, False)]
        if differ:
            print(f"build_dataset: these files differ from a fresh build: {differ}")
            return 1
        print("build_dataset: the packaged files are up to date")
        return 0
    paths = build(data_root, args.out)
    for path in paths.values():
        print(f"{path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
