"""Country groups: membership by year, classifications, panel coordinates, names ↔ ISO3."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from brics_ecom import groups as g
from brics_ecom.datasets import data_path, load_asem_tables
from brics_ecom.errors import DataError, InvalidParameterError
from brics_ecom.panel import DIMS, validate
from conftest import SHARED

BRIC = ["BRA", "CHN", "IND", "RUS"]
BRICS5 = sorted([*BRIC, "ZAF"])
JOINED_2024 = ["ARE", "EGY", "ETH", "IRN"]
PARTNERS_JAN_2025 = ["BLR", "BOL", "CUB", "KAZ", "MYS", "THA", "UGA", "UZB"]


class TestBrics:
    @pytest.mark.parametrize(
        ("year", "expected"),
        [
            (2008, []),
            (2009, BRIC),
            (2010, BRIC),
            (2011, BRICS5),
            (2023, BRICS5),
            (2024, sorted([*BRICS5, *JOINED_2024])),
            (2025, sorted([*BRICS5, *JOINED_2024, "IDN"])),
            (2026, sorted([*BRICS5, *JOINED_2024, "IDN"])),
        ],
    )
    def test_members_by_year(self, year: int, expected: list[str]) -> None:
        assert g.members("BRICS", year) == expected

    def test_current_membership(self) -> None:
        assert g.members("BRICS") == g.members("BRICS", 2025)
        assert len(g.members("BRICS")) == 10

    def test_saudi_arabia_unclear(self) -> None:
        assert "SAU" not in g.members("BRICS", 2024)
        assert "SAU" in g.members("BRICS", 2024, include_unclear=True)
        assert "SAU" not in g.members("BRICS", 2023, include_unclear=True)
        assert "SAU" in g.members("BRICS", 2025, overrides={"SAU": 2024})
        row = g.membership_table().query("group == 'BRICS' and iso3 == 'SAU'")
        assert row["status"].item() == "unclear"

    def test_south_africa_choice_and_overrides(self) -> None:
        assert "ZAF" not in g.members("BRICS", 2010)
        assert "ZAF" in g.members("BRICS", 2010, overrides={"ZAF": 2010})
        assert "RUS" not in g.members("BRICS", 2025, overrides={"RUS": None})
        assert g.members("BRICS", 2012, overrides={"ZAF": (2011, 2011)}) == BRIC
        with pytest.raises(InvalidParameterError, match="overrides"):
            g.members("BRICS", 2012, overrides={"ZAF": "2010"})  # type: ignore[dict-item]

    def test_partners(self) -> None:
        assert g.members("BRICS_partners", 2024) == []
        p2025 = g.members("BRICS_partners", 2025)
        assert p2025 == sorted([*PARTNERS_JAN_2025, "NGA", "VNM"])
        assert "IDN" not in p2025  # named a partner, admitted as a full member on 6 Jan 2025
        t = g.membership_table().set_index(["group", "iso3"])
        assert t.loc[("BRICS_partners", "NGA"), "start"] == "2025-01-17"
        assert t.loc[("BRICS_partners", "VNM"), "start"] == "2025-06-13"
        assert t.loc[("BRICS", "IDN"), "start"] == "2025-01-06"


class TestOtherGroups:
    def test_g7_g20(self) -> None:
        assert g.members("G7") == ["CAN", "DEU", "FRA", "GBR", "ITA", "JPN", "USA"]
        assert g.members("G7", 1975) == ["DEU", "FRA", "GBR", "ITA", "JPN", "USA"]
        assert len(g.members("G20")) == 19
        assert "EUU" in g.members("G20", 2000, include_unions=True)
        assert "AFU" not in g.members("G20", 2022, include_unions=True)
        assert "AFU" in g.members("G20", 2023, include_unions=True)
        assert set(g.members("G7")) <= set(g.members("G20"))

    def test_oecd_accessions(self) -> None:
        assert len(g.members("OECD")) == 38
        assert len(g.members("OECD", 1961)) == 19  # Italy ratified in March 1962
        assert len(g.members("OECD", 1962)) == 20
        counts = {y: len(g.members("OECD", y)) for y in (2009, 2010, 2016, 2018, 2020, 2021)}
        assert counts == {2009: 30, 2010: 34, 2016: 35, 2018: 36, 2020: 37, 2021: 38}

    def test_asem_from_bundled_example(self) -> None:
        iData, _ = load_asem_tables()
        assert g.members("ASEM") == sorted(iData["uCode"])
        assert g.members("ASEM", 1990) == g.members("ASEM")  # static

    def test_world_bank_classifications(self) -> None:
        meta = g.wb_country_meta()
        assert (meta["edition"] == g.WB_EDITION).all()
        assert "BRA" in g.members("wb_income:Upper middle income")
        assert g.members("HIC") == g.members("wb_income:high income")
        assert "AFG" in g.members("wb_region:Middle East & North Africa")  # 2026 edition
        old = g.wb_country_meta("2024-11").set_index("iso3")
        assert old.loc["AFG", "region"] == "South Asia"
        with pytest.raises(InvalidParameterError, match="classification"):
            g.members("wb_region")
        with pytest.raises(InvalidParameterError, match="labels"):
            g.members("wb_region:Atlantis")
        with pytest.raises(InvalidParameterError, match="edition"):
            g.wb_country_meta("1999")

    def test_bundled_meta_matches_source(self) -> None:
        src = (
            SHARED
            / "data"
            / "wdi_ict_trade"
            / "Metadata_Country_API_BX.GSR.CCIS.CD_DS2_en_csv_v2_920.csv"
        )
        if not src.exists():
            pytest.skip("no shared data")
        raw = pd.read_csv(src, encoding="utf-8-sig", keep_default_na=False, dtype=str)
        ours = g.wb_country_meta().set_index("iso3")
        raw = raw.set_index("Country Code")
        assert sorted(raw.index) == sorted(ours.index)
        assert (raw["Region"] == ours.loc[raw.index, "region"]).all()
        assert (raw["IncomeGroup"] == ours.loc[raw.index, "income_group"]).all()

    def test_groups_and_errors(self) -> None:
        assert g.groups() == ["ASEM", "BRICS", "BRICS_partners", "G20", "G7", "OECD",
                              "wb_income", "wb_region"]  # fmt: skip
        with pytest.raises(InvalidParameterError, match=r"Did you mean \['BRICS'"):
            g.members("BRICK")
        with pytest.raises(InvalidParameterError, match="year"):
            g.members("BRICS", "2020")  # type: ignore[arg-type]
        assert g.members("brics", 2011) == BRICS5

    def test_membership_table(self) -> None:
        t = g.membership_table()
        assert list(t.columns) == ["iso3", "name", "group", "status", "start", "from_year",
                                   "to_year", "note", "source"]  # fmt: skip
        assert not t.duplicated(["group", "iso3"]).any()
        assert (t["source"] != "").all()
        assert t["from_year"].dtype == "Int64"
        dated = t[t["group"] != "ASEM"]
        assert dated["from_year"].notna().all()
        assert t.set_index(["group", "iso3"]).loc[("BRICS", "ZAF"), "from_year"] == 2011
        full = g.membership_table(include_classifications=True)
        assert len(full) > len(t)
        assert "wb_region:South Asia" in set(full["group"])


class TestGroupCoord:
    def panel(self) -> xr.DataArray:
        units = ["BRA", "EGY", "IDN", "SAU", "USA", "VNM"]
        return xr.DataArray(
            np.zeros((6, 4, 1)),
            dims=DIMS,
            coords={"unit": units, "time": [2010, 2011, 2024, 2025], "indicator": ["x"]},
        )

    def test_by_year(self) -> None:
        p = self.panel()
        out = g.add_group_coord(p, "BRICS")
        assert "BRICS" not in p.coords  # input untouched
        assert out["BRICS"].dims == ("unit", "time")
        table = out["BRICS"].to_pandas()
        assert table.loc["BRA"].tolist() == [True] * 4
        assert table.loc["EGY"].tolist() == [False, False, True, True]
        assert table.loc["IDN"].tolist() == [False, False, False, True]
        assert not table.loc["SAU"].any() and not table.loc["USA"].any()
        out = g.add_group_coord(p, "BRICS", include_unclear=True, name="brics_sau")
        assert out["brics_sau"].sel(unit="SAU").values.tolist() == [False, False, True, True]
        validate(out)

    def test_current_and_static(self) -> None:
        p = self.panel()
        out = g.add_group_coord(p, "BRICS_partners", by_year=False)
        assert out["BRICS_partners"].dims == ("unit",)
        assert out["BRICS_partners"].values.tolist() == [False, False, False, False, False, True]
        out = g.add_group_coord(p, "wb_region")
        assert out["wb_region"].sel(unit="USA").item() == "North America"
        out = g.add_group_coord(p, "wb_income:High income")
        assert out["wb_income_High_income"].dims == ("unit",)
        assert out["wb_income_High_income"].sel(unit="SAU").item()
        out = g.add_group_coord(p.isel(time=0, drop=True), "OECD")
        assert out["OECD"].values.tolist() == [False, False, False, False, True, False]

    def test_bad_time_labels(self) -> None:
        p = self.panel().assign_coords(time=[0, 1, 2, 3])
        with pytest.raises(InvalidParameterError, match="by_year=False"):
            g.add_group_coord(p, "BRICS")
        assert g.add_group_coord(p, "BRICS", by_year=False)["BRICS"].dims == ("unit",)
        with pytest.raises(InvalidParameterError, match="clashes"):
            g.add_group_coord(self.panel(), "BRICS", name="time")


class TestNames:
    def test_to_iso3(self) -> None:
        assert g.to_iso3("Brazil") == "BRA"
        assert g.to_iso3(["Russian Federation", "Egypt, Arab Rep.", "Iran, Islamic Rep."]) == [
            "RUS", "EGY", "IRN",
        ]  # fmt: skip
        assert g.to_iso3(["TURKEY", "Côte d’Ivoire", "Korea (Rep. of)", "Viet Nam"]) == [
            "TUR", "CIV", "KOR", "VNM",
        ]  # fmt: skip
        assert g.to_iso3("ZAF") == "ZAF"
        assert g.to_iso3("World") == "WLD"

    def test_close_matches(self) -> None:
        with pytest.raises(DataError) as err:
            g.to_iso3(["Brasil", "Indai", "Brazil"])
        msg = str(err.value)
        assert "'Brasil' (close matches: 'Brazil' (BRA)" in msg
        assert "'India' (IND)" in msg
        assert g.to_iso3(["Brasil", "India"], strict=False)[1] == "IND"
        with pytest.raises(DataError, match="BRA"):
            g.to_name("BRZ")
        assert g.to_name("BRZ", strict=False) is None
        with pytest.raises(InvalidParameterError):
            g.to_iso3([1])  # type: ignore[list-item]

    def test_to_name(self) -> None:
        assert g.to_name(["BRA", "RUS", "IND", "CHN", "ZAF"]) == [
            "Brazil", "Russian Federation", "India", "China", "South Africa",
        ]  # fmt: skip
        assert g.to_name("TWN") == "Taiwan, China"

    def test_every_code_of_the_bundled_data_has_a_name(self) -> None:
        iData, _ = load_asem_tables()
        codes = set(iData["uCode"]) | set(g.wb_country_meta()["iso3"])
        for group in ("BRICS", "BRICS_partners", "G7", "G20", "OECD"):
            codes |= set(g.members(group, include_unclear=True))
        assert all(isinstance(n, str) and n for n in g.to_name(sorted(codes)))
        # and names round-trip
        names = g.to_name(sorted(codes))
        assert g.to_iso3(names) == sorted(codes)

    def test_country_names_of_shared_data(self) -> None:
        base = SHARED / "data"
        if not (base / "findex").is_dir():
            pytest.skip("no shared data")
        pairs = [
            ("findex/DatabankWide_Dataset-Data.csv", "Country code", "Country name"),
            ("un_egdi/un_egdi_long.csv", "iso3", "country"),
            ("unctad_cyberlaw/unctad_cyberlaw_status.csv", "iso3", "country"),
            ("unctad_digital_economy/unctad_de_long.csv", "iso3", "country"),
        ]
        for rel, code, name in pairs:
            df = pd.read_csv(base / rel, usecols=[code, name], dtype=str).drop_duplicates()
            df = df.dropna()
            assert g.to_iso3(df[name].tolist()) == df[code].tolist(), rel

    def test_without_country_converter(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(g, "_coco", lambda: None)
        assert g.to_iso3("Russia") == "RUS"
        assert g.to_iso3("Kingdom of Bhutan", strict=False) is None


def test_bundled_files_exist() -> None:
    for name in ("wb_country_meta.csv", "country_aliases.csv", "README_groups.md"):
        assert data_path(name).endswith(name)
        with open(data_path(name), encoding="utf-8") as fh:
            assert fh.read(10)
