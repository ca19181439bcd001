"""Re-create the reader fixtures of tests/data from the project's data folder.

Run from the repository root: ``python tests/data/_make_io_fixtures.py [SHARED_DATA_DIR]``
(default ``../shared/data``). What is cut from real files and what is constructed is
documented in ``tests/data/README.md``. Not collected by pytest.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
SHARED = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parents[1].parent / "shared" / "data"

UNITS = ["BRA", "CHN", "EGY", "IND", "RUS", "ZAF", "INX", "HIC", "WLD"]
PREAMBLE = (
    '"Data Source","World Development Indicators",\r\n\r\n"Last Updated Date","2024-11-13",\r\n\r\n'
)


def _quoted(rows: list[list[str]]) -> str:
    """World Bank bulk style: every field quoted, a trailing comma, CRLF line ends."""
    return "".join(",".join(f'"{v}"' for v in row) + ",\r\n" for row in rows)


def wdi_wide() -> None:
    src = SHARED / "wdi_digital" / "API_IT.NET.USER.ZS_DS2_en_csv_v2_2160.csv"
    raw = pd.read_csv(src, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    raw = raw.loc[:, [c for c in raw.columns if not c.startswith("Unnamed")]]
    keep = raw[raw["Country Code"].isin(UNITS)]
    body = _quoted([list(raw.columns), *keep.to_numpy().tolist()])
    out = HERE / "API_IT.NET.USER.ZS_DS2_excerpt.csv"
    out.write_bytes(("\ufeff" + PREAMBLE + body).encode("utf-8"))
    meta_src = SHARED / "wdi_digital" / "Metadata_Country_API_IT.NET.USER.ZS_DS2_en_csv_v2_2160.csv"
    meta = pd.read_csv(meta_src, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    meta = meta[meta["Country Code"].isin(UNITS)].copy()
    meta["SpecialNotes"] = ""  # long free text, not used by the reader
    text = _quoted([list(meta.columns), *meta.to_numpy().tolist()])
    (HERE / "Metadata_Country_API_IT.NET.USER.ZS_DS2_excerpt.csv").write_bytes(
        ("\ufeff" + text).encode("utf-8")
    )


def wdi_long() -> None:
    src = SHARED / "wdi_digital" / "IT.NET.SECR.P6.csv"
    df = pd.read_csv(src, dtype=str, keep_default_na=False)
    df = df[df["Country Code"].isin(UNITS) & df["Year"].isin([str(y) for y in range(2018, 2024)])]
    df.to_csv(HERE / "IT.NET.SECR.P6__excerpt.csv", index=False, lineterminator="\n")
    src = SHARED / "wdi_ict_trade" / "BX.GSR.CCIS.CD.csv"
    df = pd.read_csv(src, dtype=str, keep_default_na=False)
    df = df[df["Country Code"].isin(UNITS) & df["Year"].isin([str(y) for y in range(2020, 2025)])]
    df.to_csv(HERE / "wdi_long_BX.GSR.CCIS.CD_excerpt.csv", index=False, lineterminator="\n")


FINDEX_KEEP = [
    "Country name", "Country code", "Year", "Adult populaiton", "Region", "Income group",
    "Account (% age 15+)", "Account, female (% age 15+)", "Account, male (% age 15+)",
    "Account, income, poorest 40% (% ages 15+)", "Account, income, richest 60% (% ages 15+)",
    "Made or received a digital payment (% age 15+)",
    "Used a mobile phone or the internet to buy something online (% age 15+)",
    "Has access to the internet (% age 15+)",
]  # fmt: skip


def findex() -> None:
    src = SHARED / "findex" / "DatabankWide_Dataset-Data.csv"
    df = pd.read_csv(src, dtype=str, keep_default_na=False)
    codes = ["BRA", "CHN", "EGY", "ETH", "IND", "RUS", "ZAF", "VEN", "WLD", "HIC", "EAP"]
    df = df[df["Country code"].isin(codes) & df["Year"].isin(["2017", "2021", "2022"])]
    df[FINDEX_KEEP].to_csv(HERE / "findex_databankwide_excerpt.csv", index=False,
                           lineterminator="\n")  # fmt: skip


# Flags added for the tests (illustrative, not Eurostat's): (geo, size, year) -> flag
FLAGS = {("EL", "10-49", "2021"): "e", ("FR", "GE250", "2022"): "b",
         ("DE", "50-249", "2023"): "p", ("EL", "GE250", "2022"): "u"}  # fmt: skip


def eurostat() -> None:
    src = SHARED / "eurostat_ecommerce_by_size" / "isoc_ec_esels_subset_by_size.csv"
    df = pd.read_csv(src, dtype=str, keep_default_na=False)
    geos, years = ["DE", "EL", "FR", "UK"], ["2023", "2022", "2021", "2020", "2019"]
    sizes, indics = ["10-49", "50-249", "GE250"], ["E_AESELL", "E_AWS_CMP"]
    df = df[df["geo"].isin(geos) & df["year"].isin(years) & df["size_emp"].isin(sizes)
            & df["indic_is"].isin(indics)]  # fmt: skip
    val = df.set_index(["geo", "year", "size_emp", "indic_is"])["value"].to_dict()
    # TSV bulk layout (old "geo\time" header, latest year first, values padded)
    lines = ["unit,size_emp,indic_is,geo\\time\t" + "\t".join(f"{y} " for y in years)]
    for ind in indics:
        for size in sizes:
            for geo in [*geos, "EU27_2020"]:
                cells = []
                for y in years:
                    v = val.get((geo, y, size, ind))
                    flag = FLAGS.get((geo, size, y), "") if ind == "E_AESELL" else ""
                    if geo == "UK" and y == "2020" and size == "GE250":
                        v, flag = "", "c"  # a confidential (suppressed) cell
                    cells.append(f"{v if v else ':'} {flag}".rstrip() + " " * (not flag))
                lines.append(f"PC_ENT,{size},{ind},{geo}\t" + "\t".join(cells))
    (HERE / "eurostat_isoc_ec_esels_excerpt.tsv").write_text("\n".join(lines) + "\n")
    # SDMX-CSV layout (dimension order of the Eurostat API for ISOC_EC_ESELS)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["DATAFLOW", "LAST UPDATE", "freq", "size_emp", "nace_r2", "indic_is", "unit",
                "geo", "TIME_PERIOD", "OBS_VALUE", "OBS_FLAG", "CONF_STATUS"])  # fmt: skip
    for geo in [*geos, "EU27_2020"]:
        for size in sizes:
            for y in sorted(years):
                v = val.get((geo, y, size, "E_AESELL"), "")
                conf = "C" if (geo == "UK" and y == "2020" and size == "GE250") else ""
                v = "" if conf else v
                w.writerow(["ESTAT:ISOC_EC_ESELS(1.0)", "15/12/23 23:00:00", "A", size,
                            "C10-S951_X_K", "E_AESELL", "PC_ENT", geo, y, v,
                            FLAGS.get((geo, size, y), ""), conf])  # fmt: skip
    (HERE / "eurostat_isoc_ec_esels_excerpt_sdmx.csv").write_text(buf.getvalue())


def unctad() -> None:
    src = SHARED / "unctad_digital_economy" / "unctad_de_long.csv"
    df = pd.read_csv(src, dtype=str, keep_default_na=False)
    inds = ["UNCTAD_DE_DIG_SERVTRADE_ANN_EXP", "UNCTAD_DE_ICT_CORE_UISIC3N1_ANN_00_B7"]
    keep = df["iso3"].isin(["BRA", "CHN", "IND", "ZAF", "IRN", "WLD"]) & df["indicator"].isin(inds)
    keep &= df["year"].isin([str(y) for y in range(2018, 2024)])
    df[keep].to_csv(HERE / "unctad_de_excerpt.csv", index=False, lineterminator="\n")


def wbgapi_record() -> None:
    """Records in the shape wbgapi 1.0.14 ``data.fetch(labels=True, numericTimeKeys=True)``
    yields, with the values of the WDI bulk file (the API itself was not reachable)."""
    src = SHARED / "wdi_digital" / "API_IT.NET.USER.ZS_DS2_en_csv_v2_2160.csv"
    raw = pd.read_csv(src, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    recs = []
    for code, agg in (("BRA", False), ("IND", False), ("WLD", True)):
        row = raw[raw["Country Code"] == code].iloc[0]
        for year in (2019, 2020, 2021):
            if not row[str(year)]:
                continue  # skipBlanks=True
            recs.append(
                {
                    "value": float(row[str(year)]),
                    "series": {"id": "IT.NET.USER.ZS", "value": row["Indicator Name"]},
                    "economy": {"id": code, "value": row["Country Name"], "aggregate": agg},
                    "time": {"id": year, "value": str(year)},
                }
            )
    (HERE / "wbgapi_fetch_IT.NET.USER.ZS.json").write_text(json.dumps(recs, indent=1) + "\n")


if __name__ == "__main__":
    wdi_wide()
    wdi_long()
    findex()
    eurostat()
    unctad()
    wbgapi_record()
