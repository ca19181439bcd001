"""Readers of brics_ecom.io on the shipped fixtures (tests/data) and the real files."""

from __future__ import annotations

import io
import json
import shutil
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from brics_ecom.errors import DataError, DataWarning, InvalidParameterError
from brics_ecom.io import (
    EUROSTAT_FLAGS,
    FINDEX_COLUMNS,
    fetch_wdi,
    findex_columns,
    get_flags,
    read_eurostat,
    read_findex,
    read_unctad,
    read_wdi_csv,
)
from brics_ecom.panel import DIMS
from conftest import SHARED

DATA = Path(__file__).resolve().parent / "data"
REAL = SHARED / "data"
WDI_WIDE = DATA / "API_IT.NET.USER.ZS_DS2_excerpt.csv"
WDI_LONG = DATA / "IT.NET.SECR.P6__excerpt.csv"
WDI_LONG5 = DATA / "wdi_long_BX.GSR.CCIS.CD_excerpt.csv"
FINDEX = DATA / "findex_databankwide_excerpt.csv"
EU_TSV = DATA / "eurostat_isoc_ec_esels_excerpt.tsv"
EU_SDMX = DATA / "eurostat_isoc_ec_esels_excerpt_sdmx.csv"
UNCTAD = DATA / "unctad_de_excerpt.csv"
WBGAPI = DATA / "wbgapi_fetch_IT.NET.USER.ZS.json"


def quiet(func, *args, **kwargs):
    """Call a reader, returning (panel, list of DataWarning messages)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = func(*args, **kwargs)
    msgs = [str(w.message) for w in caught if issubclass(w.category, DataWarning)]
    return out, msgs


def check_panel(p: xr.DataArray, reader: str) -> None:
    assert p.dims == DIMS
    assert p.dtype == np.float64
    assert p.attrs["reader"] == f"brics_ecom.io.{reader}"
    for key in ("source", "source_file", "format", "licence", "attribution", "history"):
        assert key in p.attrs, key
    assert np.issubdtype(p["time"].dtype, np.integer)


# ---------------------------------------------------------------------- WDI
class TestWdi:
    def test_wide_with_preamble_and_bom(self) -> None:
        assert WDI_WIDE.read_bytes().startswith(b'\xef\xbb\xbf"Data Source"')
        p, msgs = quiet(read_wdi_csv, WDI_WIDE)
        check_panel(p, "read_wdi_csv")
        assert p["unit"].values.tolist() == ["BRA", "CHN", "EGY", "IND", "RUS", "ZAF"]
        assert p.sel(unit="BRA", time=2020, indicator="IT.NET.USER.ZS").item() == 81.3427
        assert p.unit_name.sel(unit="EGY").item() == "Egypt, Arab Rep."
        assert p.indicator_name.item() == "Individuals using the Internet (% of population)"
        assert p.attrs["edition"] == "2024-11-13"
        assert p.attrs["format"] == "World Bank WDI CSV (wide)"
        # sibling Metadata_Country file found and used
        assert "Metadata_Country" in p.attrs["aggregates_from"]
        assert p.attrs["dropped_units"] == ["HIC", "INX", "WLD"]
        assert len(msgs) == 1 and "WLD (World)" in msgs[0] and "HIC" in msgs[0]

    def test_wide_without_preamble(self, tmp_path: Path) -> None:
        lines = WDI_WIDE.read_text(encoding="utf-8-sig").splitlines(keepends=True)
        f = tmp_path / "API_X.csv"
        f.write_text("".join(lines[4:]), encoding="utf-8")
        p, _ = quiet(read_wdi_csv, f)
        assert "edition" not in p.attrs
        assert p.sel(unit="IND", time=2019).item() == pytest.approx(
            quiet(read_wdi_csv, WDI_WIDE)[0].sel(unit="IND", time=2019).item()
        )

    def test_long_code_from_file_name(self) -> None:
        p, msgs = quiet(read_wdi_csv, WDI_LONG)
        check_panel(p, "read_wdi_csv")
        assert p["indicator"].values.tolist() == ["IT.NET.SECR.P6"]
        assert "indicator_name" not in p.coords
        assert p.attrs["format"] == "World Bank WDI CSV (long)"
        raw = pd.read_csv(WDI_LONG)
        want = raw.query("`Country Code` == 'ZAF' and Year == 2021")["Value"].item()
        assert p.sel(unit="ZAF", time=2021).item() == want
        assert "WLD" not in p["unit"].values and any("WLD" in m for m in msgs)

    def test_long_with_indicator_code(self) -> None:
        p, _ = quiet(read_wdi_csv, WDI_LONG5, countries=["IND", "CHN"], years=range(2023, 2025))
        assert p["unit"].values.tolist() == ["CHN", "IND"]
        assert p["time"].values.tolist() == [2023, 2024]
        assert p.sel(unit="IND", time=2024, indicator="BX.GSR.CCIS.CD").item() == pytest.approx(
            177.7e9, rel=1e-3
        )

    def test_keep_aggregates(self) -> None:
        p, msgs = quiet(read_wdi_csv, WDI_WIDE, drop_aggregates=False)
        assert {"WLD", "HIC", "INX"} <= set(p["unit"].values)
        assert msgs == [] and p.attrs["dropped_units"] == []

    def test_metadata_argument_marks_aggregates(self) -> None:
        meta = pd.DataFrame({"Country Code": ["BRA"], "Region": [""], "TableName": ["x"]})
        p, msgs = quiet(read_wdi_csv, WDI_WIDE, metadata=meta)
        assert "BRA" not in p["unit"].values
        assert "BRA (Brazil)" in msgs[0]

    def test_filters_report_missing(self) -> None:
        p, msgs = quiet(read_wdi_csv, WDI_WIDE, countries=["BRA", "USA"], years=2020)
        assert p.sizes["unit"] == 1 and p["time"].values.tolist() == [2020]
        assert any("['USA']" in m for m in msgs)
        with pytest.raises(DataError, match="none of the requested indicators"):
            quiet(read_wdi_csv, WDI_WIDE, indicators="XX.YY")

    def test_buffer_and_inputs_not_mutated(self) -> None:
        meta = pd.DataFrame({"Country Code": ["WLD"], "Region": [""]})
        before = meta.copy()
        text = WDI_WIDE.read_text(encoding="utf-8-sig")
        p, _ = quiet(read_wdi_csv, io.StringIO(text), metadata=meta)
        pd.testing.assert_frame_equal(meta, before)
        assert p.attrs["source_file"] == "<buffer>"

    def test_malformed_value_names_line_and_year(self, tmp_path: Path) -> None:
        text = WDI_WIDE.read_text(encoding="utf-8-sig").replace('"81.3427"', '"81,3"')
        f = tmp_path / "API_bad.csv"
        f.write_text(text, encoding="utf-8")
        with pytest.raises(DataError) as err:
            quiet(read_wdi_csv, f)
        msg = str(err.value)
        assert "'81,3'" in msg and "line 6" in msg and "column '2020'" in msg and "API_bad" in msg

    def test_not_a_wdi_file(self, tmp_path: Path) -> None:
        f = tmp_path / "x.csv"
        f.write_text("a,b\n1,2\n")
        with pytest.raises(DataError, match="Country Name,Country Code"):
            read_wdi_csv(f)
        g = tmp_path / "mystery.csv"
        g.write_text("Country Name,Country Code,Year,Value\nBrazil,BRA,2020,1\n")
        with pytest.raises(DataError, match="indicator="):
            read_wdi_csv(g)
        assert read_wdi_csv(g, indicator="X.Y").sel(unit="BRA").item() == 1.0

    def test_duplicates_are_an_error(self, tmp_path: Path) -> None:
        f = tmp_path / "IT.NET.SECR.P6.csv"
        f.write_text("Country Name,Country Code,Year,Value\nB,BRA,2020,1\nB,BRA,2020,2\n")
        with pytest.raises(DataError, match="several rows"):
            read_wdi_csv(f)

    def test_missing_file(self) -> None:
        with pytest.raises(FileNotFoundError, match="no_such"):
            read_wdi_csv(DATA / "no_such.csv")
        with pytest.raises(InvalidParameterError, match="years"):
            read_wdi_csv(WDI_WIDE, years="2020")


# ---------------------------------------------------------------------- wbgapi
def _recorded_fetch(*args, **kwargs):
    calls.append((args, kwargs))
    yield from json.loads(WBGAPI.read_text())


calls: list = []


@pytest.fixture
def fake_wbgapi(monkeypatch: pytest.MonkeyPatch):
    """wbgapi.data.fetch replaced by the recorded response (no network)."""
    calls.clear()
    try:
        import wbgapi
    except ImportError:
        wbgapi = types.ModuleType("wbgapi")
        wbgapi.data = types.SimpleNamespace(fetch=None)  # type: ignore[attr-defined]
        wbgapi.__version__ = "stub"  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "wbgapi", wbgapi)
    monkeypatch.setattr(wbgapi.data, "fetch", _recorded_fetch)
    return wbgapi


class TestFetchWdi:
    def test_recorded_response(self, fake_wbgapi) -> None:
        p, msgs = quiet(fetch_wdi, "IT.NET.USER.ZS", ["BRA", "IND", "WLD"], range(2019, 2022))
        check_panel(p, "fetch_wdi")
        args, kwargs = calls[0]
        assert args == (["IT.NET.USER.ZS"],)
        assert kwargs["economy"] == ["BRA", "IND", "WLD"]
        assert kwargs["time"] == [2019, 2020, 2021]
        assert kwargs["labels"] and kwargs["skipBlanks"] and kwargs["numericTimeKeys"]
        assert p["unit"].values.tolist() == ["BRA", "IND"]
        assert any("WLD (World)" in m for m in msgs)
        # same numbers as the bulk file
        bulk, _ = quiet(read_wdi_csv, WDI_WIDE)
        for unit in ("BRA", "IND"):
            for year in (2019, 2020):
                assert p.sel(unit=unit, time=year).item() == bulk.sel(unit=unit, time=year).item()
        assert "retrieved" in p.attrs and p.attrs["licence"] == "CC BY 4.0"

    def test_bad_record(self, fake_wbgapi, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(fake_wbgapi.data, "fetch", lambda *a, **k: iter([{"value": 1}]))
        with pytest.raises(DataError, match="record 0"):
            fetch_wdi("IT.NET.USER.ZS")

    def test_empty_response(self, fake_wbgapi, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(fake_wbgapi.data, "fetch", lambda *a, **k: iter([]))
        with pytest.raises(DataError, match="no data"):
            fetch_wdi("IT.NET.USER.ZS", "BRA")

    def test_missing_wbgapi_names_the_extra(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setitem(sys.modules, "wbgapi", None)
        with pytest.raises(ImportError, match=r"brics_ecom\[wdi\]"):
            fetch_wdi("IT.NET.USER.ZS")


# ---------------------------------------------------------------------- Findex
class TestFindex:
    def test_percent_strings(self) -> None:
        p, msgs = quiet(read_findex, FINDEX)
        check_panel(p, "read_findex")
        raw = pd.read_csv(FINDEX, dtype=str)
        cell = raw.query("`Country code` == 'BRA' and Year == '2021'")["Account (% age 15+)"]
        assert cell.item() == "84%"
        assert p.sel(unit="BRA", time=2021, indicator="account_t").item() == 84.0
        assert p.indicator_name.sel(indicator="account_f").item() == "Account, female (% age 15+)"
        assert p["time"].values.tolist() == [2017, 2021, 2022]
        assert p.attrs["dropped_units"] == ["EAP", "HIC", "WLD"]
        assert "WLD (World)" in msgs[0]
        assert "VEN" in p["unit"].values  # no income group, but a country
        assert "caveat" in p.attrs

    def test_columns_by_code_or_name(self) -> None:
        p, _ = quiet(
            read_findex, FINDEX, columns=["account_t", "Has access to the internet (% age 15+)"]
        )
        assert p["indicator"].values.tolist() == ["account_t", "internet_t"]
        p, _ = quiet(read_findex, FINDEX, columns=["pop_adult"], countries="IND", years=2021)
        assert p.item() == pytest.approx(1.0e9, rel=0.1)
        p, _ = quiet(read_findex, FINDEX, columns="all")
        assert "pop_adult" in p["indicator"].values and p.sizes["indicator"] == 9

    def test_unknown_column_close_match(self) -> None:
        with pytest.raises(DataError, match="account_t"):
            read_findex(FINDEX, columns=["acount_t"])

    def test_bad_value_names_line_and_column(self, tmp_path: Path) -> None:
        text = FINDEX.read_text().replace("84%", "84 pct", 1)
        f = tmp_path / "fx.csv"
        f.write_text(text)
        with pytest.raises(
            DataError, match=r"'84 pct' \(line 3, column 'Account \(% age 15\+\)'\)"
        ):
            read_findex(f)

    def test_names_only(self) -> None:
        text = "Country name,Year,Account (% age 15+)\nBrazil,2021,84%\nTürkiye,2021,74%\n"
        p = read_findex(io.StringIO(text))
        assert p["unit"].values.tolist() == ["BRA", "TUR"]
        with pytest.raises(DataError, match="Brazil"):
            read_findex(io.StringIO("Country name,Year,Account (% age 15+)\nBrasil,2021,84%\n"))

    def test_mapping_table(self) -> None:
        t = findex_columns()
        assert len(t) == len(FINDEX_COLUMNS) == 188
        assert t.loc["account_t", "column"] == "Account (% age 15+)"
        assert (t["breakdown"] != "").sum() == 187


# ---------------------------------------------------------------------- Eurostat
class TestEurostat:
    def test_tsv_flags(self) -> None:
        p, msgs = quiet(read_eurostat, EU_TSV)
        check_panel(p, "read_eurostat")
        assert p["unit"].values.tolist() == ["DEU", "FRA", "GBR", "GRC"]
        assert p.unit_name.sel(unit="GRC").item() == "EL"
        assert p.attrs["constant_dims"] == {"unit_measure": "PC_ENT"}
        assert p.attrs["dropped_units"] == ["EU27_2020"] and "EU27_2020" in msgs[0]
        assert p.indic_is.sel(indicator="E_AWS_CMP|GE250").item() == "E_AWS_CMP"
        assert p.size_emp.sel(indicator="E_AWS_CMP|GE250").item() == "GE250"
        code = "E_AESELL|10-49"
        assert p.sel(unit="GRC", time=2021, indicator=code).item() == 19.7
        flags = get_flags(p)
        assert flags.dims == DIMS and flags.shape == p.shape
        assert flags.sel(unit="GRC", time=2021, indicator=code).item() == "e"
        assert flags.sel(unit="FRA", time=2022, indicator="E_AESELL|GE250").item() == "b"
        assert flags.sel(unit="DEU", time=2023, indicator="E_AESELL|50-249").item() == "p"
        assert flags.sel(unit="GRC", time=2022, indicator="E_AESELL|GE250").item() == "u"
        # ": c" - confidential and missing
        assert np.isnan(p.sel(unit="GBR", time=2020, indicator="E_AESELL|GE250").item())
        assert flags.sel(unit="GBR", time=2020, indicator="E_AESELL|GE250").item() == "c"
        assert int((flags != "").sum()) == 6
        assert set(p.attrs["flag_codes"]) == set(EUROSTAT_FLAGS)
        sub = p.sel(unit=["GRC"], time=[2021])
        assert get_flags(sub).shape == (1, 1, p.sizes["indicator"])

    def test_sdmx_matches_tsv(self) -> None:
        aesell = ["E_AESELL|10-49", "E_AESELL|50-249", "E_AESELL|GE250"]
        tsv, _ = quiet(read_eurostat, EU_TSV, indicators=aesell)
        sdmx, msgs = quiet(read_eurostat, EU_SDMX)
        assert msgs == ["read_eurostat: dropped 15 rows of 1 aggregates (non-country geo codes) "
                        f"from {str(EU_SDMX)!r}: EU27_2020."]  # fmt: skip
        check_panel(sdmx, "read_eurostat")
        assert sdmx.attrs["format"] == "SDMX-CSV"
        assert sdmx.attrs["dataset"] == "ESTAT:ISOC_EC_ESELS(1.0)"
        assert sdmx.attrs["constant_dims"] == {
            "freq": "A", "nace_r2": "C10-S951_X_K", "unit_measure": "PC_ENT"
        }  # fmt: skip
        xr.testing.assert_equal(tsv.reset_coords(drop=True), sdmx.reset_coords(drop=True))
        xr.testing.assert_equal(get_flags(tsv), get_flags(sdmx))  # CONF_STATUS C -> "c"

    def test_long_csv_real_extract_values(self) -> None:
        text = (
            "geo,year,size_emp,indic_is,value\n"
            "DE,2021,10-49,E_AESELL,19.7\nEL,2021,10-49,E_AESELL,12.1\n"
        )
        p = read_eurostat(io.StringIO(text))
        assert p["indicator"].values.tolist() == ["E_AESELL"]
        assert p.attrs["constant_dims"] == {"size_emp": "10-49"}
        assert p.sel(unit="GRC").item() == 12.1

    def test_indicator_dims_and_geo_map(self) -> None:
        text = (
            "geo,year,size_emp,indic_is,value\nXY,2021,10-49,E_AESELL,1\nDE,2021,GE250,E_AESELL,2\n"
        )
        with pytest.raises(DataError, match="XY"):
            read_eurostat(io.StringIO(text))
        p = read_eurostat(
            io.StringIO(text), geo_map={"XY": "XYZ"}, indicator_dims=["size_emp", "indic_is"]
        )
        assert p["indicator"].values.tolist() == ["10-49|E_AESELL", "GE250|E_AESELL"]
        with pytest.raises(InvalidParameterError, match="indicator_dims"):
            read_eurostat(io.StringIO(text), geo_map={"XY": "XYZ"}, indicator_dims=["nace"])

    def test_malformed_cell(self, tmp_path: Path) -> None:
        text = EU_TSV.read_text().replace("19.7 e", "19,7 e")
        f = tmp_path / "bad.tsv"
        f.write_text(text)
        with pytest.raises(DataError, match=r"'19,7 e' \(line 3, column '2021'\)"):
            read_eurostat(f)

    def test_unknown_layout(self) -> None:
        with pytest.raises(DataError, match="not a Eurostat TSV"):
            read_eurostat(io.StringIO("a,b\n1,2\n"))

    def test_gzip(self, tmp_path: Path) -> None:
        import gzip

        f = tmp_path / "isoc.tsv.gz"
        with gzip.open(f, "wt") as fh:
            fh.write(EU_TSV.read_text())
        p, _ = quiet(read_eurostat, f)
        assert p.sizes["unit"] == 4


# ---------------------------------------------------------------------- UNCTAD
class TestUnctad:
    def test_excerpt(self) -> None:
        p, msgs = quiet(read_unctad, UNCTAD)
        check_panel(p, "read_unctad")
        assert "WLD" not in p["unit"].values and "WLD (World)" in msgs[0]
        exp = "UNCTAD_DE_DIG_SERVTRADE_ANN_EXP"
        assert p.sel(unit="IND", time=2023, indicator=exp).item() == 288653.0
        assert p.unit_mult.sel(indicator=exp).item() == "6"
        assert p.unit_measure.sel(indicator=exp).item() == "USD"
        raw = pd.read_csv(UNCTAD)
        gone = raw[raw["obs_status"] == "O"].iloc[0]
        assert np.isnan(
            p.sel(unit=gone["iso3"], time=gone["year"], indicator=gone["indicator"]).item()
        )
        assert p.attrs["missing_obs_status_O"] == int((raw["obs_status"] == "O").sum())

    def test_status_o_with_value_is_missing(self) -> None:
        text = "iso3,indicator,year,value,obs_status\nBRA,X,2020,5,O\nBRA,X,2021,6,A\n"
        p, msgs = quiet(read_unctad, io.StringIO(text))
        assert np.isnan(p.sel(time=2020).item()) and p.sel(time=2021).item() == 6.0
        assert "obs_status 'O'" in msgs[0]

    def test_raw_data360_names_and_breakdowns(self) -> None:
        text = (
            "REF_AREA,INDICATOR,SEX,AGE,URBANISATION,TIME_PERIOD,OBS_VALUE,OBS_STATUS\n"
            "BRA,ITU_X,F,_T,_T,2020,70,A\nBRA,ITU_X,M,_T,_T,2020,72,A\n"
        )
        p = read_unctad(io.StringIO(text))
        assert p["indicator"].values.tolist() == ["ITU_X|F", "ITU_X|M"]
        assert p.sex.values.tolist() == ["F", "M"]

    def test_bad_value(self) -> None:
        text = "iso3,indicator,year,value\nBRA,X,2020,n/a\n"
        with pytest.raises(DataError, match=r"'n/a' \(line 2, column 'value'\)"):
            read_unctad(io.StringIO(text))
        with pytest.raises(DataError, match="lacks the columns"):
            read_unctad(io.StringIO("iso3,year\nBRA,2020\n"))


# ---------------------------------------------------------------------- real files
needs_real = pytest.mark.skipif(not (REAL / "wdi_digital").is_dir(), reason="no shared data")


@needs_real
class TestRealFiles:
    def test_wdi_internet_users_bra_2020(self) -> None:
        f = REAL / "wdi_digital" / "API_IT.NET.USER.ZS_DS2_en_csv_v2_2160.csv"
        by_hand = pd.read_csv(f, encoding="utf-8-sig").set_index("Country Code").loc["BRA", "2020"]
        p, msgs = quiet(read_wdi_csv, f)
        assert p.sel(unit="BRA", time=2020, indicator="IT.NET.USER.ZS").item() == by_hand
        assert len(msgs) == 1
        assert p.sizes["unit"] == 217 and p.sizes["time"] == 64
        assert len(p.attrs["dropped_units"]) == 49  # 48 aggregates of the metadata + INX

    @pytest.mark.parametrize(
        "name",
        ["IT.CEL.SETS.P2.csv", "IT.MLT.MAIN.P2.csv", "IT.NET.BBND.P2.csv", "IT.NET.SECR.P6.csv",
         "IT.NET.SECR.P6__release2018_old_netcraft_series.csv", "NY.GDP.PCAP.CD.csv",
         "NY.GDP.PCAP.PP.CD.csv", "SE.SEC.ENRR.csv", "SE.TER.ENRR.csv", "SP.POP.TOTL.csv"],
    )  # fmt: skip
    def test_wdi_long_files(self, name: str) -> None:
        f = REAL / "wdi_digital" / name
        p, _ = quiet(read_wdi_csv, f)
        raw = pd.read_csv(f)
        raw = raw[raw["Country Code"].isin(p["unit"].values)]
        assert int(p.notnull().sum()) == len(raw)
        row = raw[raw["Country Code"] == "IND"].iloc[-1]
        assert p.sel(unit="IND", time=row["Year"]).item() == row["Value"]
        assert p["indicator"].item() == name.split("__")[0].removesuffix(".csv")

    def test_wdi_ict_trade(self) -> None:
        p, _ = quiet(read_wdi_csv, REAL / "wdi_ict_trade" / "BX.GSR.CCIS.CD.csv")
        got = p.sel(unit=["IND", "CHN", "BRA", "RUS", "ZAF"], time=2024).values.ravel() / 1e9
        np.testing.assert_allclose(got, [177.7, 65.0, 6.18, 2.39, 1.53], rtol=5e-3)

    def test_findex_full(self) -> None:
        p, _ = quiet(read_findex, REAL / "findex" / "DatabankWide_Dataset-Data.csv")
        assert p.sizes["indicator"] == 187 and p.sizes["unit"] == 162
        assert len(p.attrs["dropped_units"]) == 22
        assert p.sel(unit="BRA", time=2021, indicator="account_t").item() == 84.0
        assert p.sel(unit="IND", time=2017, indicator="account_t").item() == 80.0
        assert set(p["time"].values.tolist()) == {2011, 2014, 2017, 2021, 2022}

    def test_eurostat_long_full(self) -> None:
        f = REAL / "eurostat_ecommerce_by_size" / "isoc_ec_esels_subset_by_size.csv"
        p, msgs = quiet(read_eurostat, f)
        assert msgs == [] and p.sizes["unit"] == 36 and p.sizes["indicator"] == 42
        got = p.sel(unit="DEU", time=2021,
                    indicator=["E_AESELL|10-49", "E_AESELL|50-249", "E_AESELL|GE250"])  # fmt: skip
        assert got.values.tolist() == [19.7, 27.9, 41.5]
        assert int(p.notnull().sum()) == len(pd.read_csv(f))
        assert {"GRC", "GBR"} <= set(p["unit"].values)

    def test_unctad_full(self) -> None:
        f = REAL / "unctad_digital_economy" / "unctad_de_long.csv"
        p, _ = quiet(read_unctad, f)
        assert p.sizes["indicator"] == 14 and p.sizes["unit"] == 205
        assert p.attrs["dropped_units"] == ["SSF", "WLD"]
        assert p.attrs["missing_obs_status_O"] == 465
        exp = p.sel(time=2023, indicator="UNCTAD_DE_DIG_SERVTRADE_ANN_EXP")
        assert exp.sel(unit=["IND", "CHN", "BRA"]).values.tolist() == [288653, 216265, 25731]
        raw = pd.read_csv(f, keep_default_na=False, dtype=str)
        kept = raw[~raw["iso3"].isin(["WLD", "SSF"]) & (raw["value"] != "")]
        assert int(p.notnull().sum()) == len(kept)

    def test_itu_data360_files(self) -> None:
        f = REAL / "itu_connectivity" / "itu_population_coverage_4g.csv"
        p, _ = quiet(read_unctad, f)
        got = p.sel(unit=["ARE", "BRA", "ETH", "IND"], time=2024, indicator="ITU_DH_POP_COV_4G")
        assert got.values.tolist() == [100, 91.16, 44, 99.06]
        f = REAL / "itu_digital_divide" / "itu_internet_use_daily_by_sex_age_urban.csv"
        p, _ = quiet(read_unctad, f)
        assert "ITU_DH_INT_USR_DAY|F|_T|_T" in p["indicator"].values

    def test_wdi_metadata_of_other_folder(self, tmp_path: Path) -> None:
        # the 2026 metadata marks the same 48 aggregates
        f = REAL / "wdi_ict_trade" / "BX.GSR.CCIS.CD.csv"
        meta = REAL / "wdi_ict_trade" / "Metadata_Country_API_BX.GSR.CCIS.CD_DS2_en_csv_v2_920.csv"
        a, _ = quiet(read_wdi_csv, f, metadata=meta)
        b, _ = quiet(read_wdi_csv, shutil.copy(f, tmp_path / "BX.GSR.CCIS.CD.csv"))
        xr.testing.assert_equal(a.reset_coords(drop=True), b.reset_coords(drop=True))
