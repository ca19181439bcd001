"""The bundled BRICS+ panel: reproducible build, values, licences, size, loader."""

from __future__ import annotations

import gzip
import importlib.util
import io
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from brics_ecom import datasets as ds
from brics_ecom.errors import DataError, InvalidParameterError
from brics_ecom.panel import get_denominators, validate
from conftest import REPO, SHARED

DATA = SHARED / "data"
PACKAGED = REPO / "src" / "brics_ecom" / "datasets" / "data"
BUILD_SCRIPT = REPO / "scripts" / "build_dataset.py"
ALLOWED_LICENCES = {"CC BY 4.0", "MIT"}
NOT_SHIPPED_CODES = (
    "ITU_DH_POP_COV_4G",
    "ITU_DH_ACT_MOB_PER_100",
    "UNCTAD_DE_DIG_SERVTRADE_ANN_EXP",
    "gci_overall",
    "egdi",
    "cyberlaw_e_transactions",
    "IT_MOB_OWN|F",
)
BRICS_FILES = ("brics_panel.csv.gz", "brics_indicators.csv", "brics_sources.csv", "README_brics.md")
PACKAGE_DATA_BUDGET = 15 * 1024 * 1024

needs_data = pytest.mark.skipif(
    not (DATA / "findex").is_dir(), reason=f"the project's data folder {DATA} is absent"
)


def _build_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_dataset", BUILD_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("brics_build")
    _build_module().build(DATA, out)
    return out


# ---------------------------------------------------------------------- (1) reproducible
@needs_data
@pytest.mark.parametrize("name", BRICS_FILES)
def test_build_reproduces_packaged_files_byte_for_byte(built: Path, name: str) -> None:
    new, old = (built / name).read_bytes(), (PACKAGED / name).read_bytes()
    if name.endswith(".gz"):
        assert gzip.decompress(new) == gzip.decompress(old), (
            "the packaged value table is stale: run python scripts/build_dataset.py"
        )
    assert new == old, (
        f"{name} differs from a fresh build (zlib {zlib.ZLIB_RUNTIME_VERSION}); run "
        "python scripts/build_dataset.py and commit the result"
    )


def test_gzip_header_is_fixed() -> None:
    raw = (PACKAGED / "brics_panel.csv.gz").read_bytes()
    assert raw[:4] == b"\x1f\x8b\x08\x08"  # gzip, deflate, FNAME flag
    assert raw[4:8] == b"\x00\x00\x00\x00"  # mtime 0
    assert raw[10:26] == b"brics_panel.csv\x00"


def test_value_table_is_sorted_and_round_trips() -> None:
    lines = gzip.decompress((PACKAGED / "brics_panel.csv.gz").read_bytes()).decode().splitlines()
    assert lines[0] == "unit,time,indicator,value"
    rows = [line.split(",") for line in lines[1:]]
    keys = [(i, u, int(t)) for u, t, i, _ in rows]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    texts = [v for *_, v in rows]
    assert all(repr(float(v)) == v for v in texts)  # repr strings: exact round trip
    loaded = ds._brics_long()
    assert np.array_equal(loaded["value"].to_numpy(), np.array([float(v) for v in texts]))


# ---------------------------------------------------------------------- (2) spot values
@pytest.fixture(scope="module")
def panel() -> xr.DataArray:
    return ds.load_brics_panel()


@needs_data
def test_internet_users_bra_2020_equals_raw_wdi(panel: xr.DataArray) -> None:
    raw = pd.read_csv(
        DATA / "wdi_digital" / "API_IT.NET.USER.ZS_DS2_en_csv_v2_2160.csv", encoding="utf-8-sig"
    ).set_index("Country Code")
    expected = float(raw.loc["BRA", "2020"])
    assert panel.sel(unit="BRA", time=2020, indicator="IT.NET.USER.ZS").item() == expected


@needs_data
def test_findex_account_ind_2021_equals_raw_percent_string(panel: xr.DataArray) -> None:
    raw = pd.read_csv(DATA / "findex" / "DatabankWide_Dataset-Data.csv", dtype=str)
    row = raw[(raw["Country code"] == "IND") & (raw["Year"] == "2021")].iloc[0]
    cell = row["Account (% age 15+)"]
    assert cell.endswith("%")
    assert panel.sel(unit="IND", time=2021, indicator="account_t").item() == float(cell[:-1])
    female = float(row["Account, female (% age 15+)"].rstrip("%"))
    assert panel.sel(unit="IND", time=2021, indicator="account_f").item() == female


@needs_data
def test_eurostat_deu_equals_raw(panel: xr.DataArray) -> None:
    raw = pd.read_csv(DATA / "eurostat_ecommerce_by_size" / "isoc_ec_esels_subset_by_size.csv")
    sel = raw[(raw["geo"] == "DE") & (raw["indic_is"] == "E_AESELL")]
    for _, r in sel.iterrows():
        code = f"E_AESELL|{r['size_emp']}"
        assert panel.sel(unit="DEU", time=int(r["year"]), indicator=code).item() == r["value"]
    # the README's check: DE, E_AESELL, 2021
    got = panel.sel(unit="DEU", time=2021, indicator=["E_AESELL|10-49", "E_AESELL|GE250"])
    assert got.values.tolist() == [19.7, 41.5]


@needs_data
def test_long_wdi_lpi_and_trade_values_equal_raw(panel: xr.DataArray) -> None:
    secr = pd.read_csv(DATA / "wdi_digital" / "IT.NET.SECR.P6.csv")
    row = secr[(secr["Country Code"] == "CHN") & (secr["Year"] == 2020)]
    assert panel.sel(unit="CHN", time=2020, indicator="IT.NET.SECR.P6").item() == float(
        row["Value"].iloc[0]
    )
    old = pd.read_csv(DATA / "wdi_digital" / "IT.NET.SECR.P6__release2018_old_netcraft_series.csv")
    row = old[(old["Country Code"] == "IND") & (old["Year"] == 2015)]
    assert panel.sel(unit="IND", time=2015, indicator="IT.NET.SECR.P6_R2018").item() == float(
        row["Value"].iloc[0]
    )
    trade = pd.read_csv(DATA / "wdi_ict_trade" / "BX.GSR.CCIS.CD.csv")
    row = trade[(trade["Country Code"] == "IND") & (trade["Year"] == 2024)]
    assert panel.sel(unit="IND", time=2024, indicator="BX.GSR.CCIS.CD").item() == float(
        row["Value"].iloc[0]
    )
    lpi = pd.read_csv(DATA / "wb_lpi" / "wb_lpi_long.csv")
    row = lpi[(lpi["iso3"] == "IND") & (lpi["year"] == 2023) & (lpi["indicator"] == "customs")]
    assert panel.sel(unit="IND", time=2023, indicator="lpi_customs").item() == float(
        row["score"].iloc[0]
    )
    assert panel.sel(unit="IND", time=2023, indicator="lpi_overall").item() == 3.4


@needs_data
def test_denominators_equal_raw_population_and_derived_gdp(panel: xr.DataArray) -> None:
    pop = pd.read_csv(DATA / "wdi_digital" / "SP.POP.TOTL.csv")
    gdppc = pd.read_csv(DATA / "wdi_digital" / "NY.GDP.PCAP.CD.csv")
    p = pop[(pop["Country Code"] == "ZAF") & (pop["Year"] == 2022)]["Value"].iloc[0]
    g = gdppc[(gdppc["Country Code"] == "ZAF") & (gdppc["Year"] == 2022)]["Value"].iloc[0]
    den = get_denominators(panel)
    assert den is not None
    assert den.dims == ("unit", "time", "denominator")
    assert den["denominator"].values.tolist() == ["Population", "GDP", "GDP_PPP"]
    assert den.sel(unit="ZAF", time=2022, denominator="Population").item() == float(p)
    assert den.sel(unit="ZAF", time=2022, denominator="GDP").item() == float(p) * float(g)
    assert den.sizes["unit"] == panel.sizes["unit"] and den.sizes["time"] == panel.sizes["time"]


# ---------------------------------------------------------------------- (3) licences
def test_every_packaged_indicator_has_an_allowed_licence() -> None:
    meta = ds.brics_indicators(shipped=True)
    assert set(meta["licence"]) <= ALLOWED_LICENCES
    assert set(meta["source"]) == set(ds.SHIPPED_SOURCES)
    packaged = set(ds._brics_long()["indicator"])
    assert packaged == set(meta.index)


def test_non_redistributable_sources_are_not_packaged() -> None:
    sources = ds.describe_sources()
    assert set(sources.index[sources["shipped"]]) == set(ds.SHIPPED_SOURCES)
    extra = sources.loc[list(ds.EXTRA_SOURCES)]
    assert not extra["shipped"].any()
    assert not set(extra["licence"]) & ALLOWED_LICENCES
    assert (extra["why_not_shipped"] != "").all()
    assert set(sources.loc[sources["shipped"], "licence"]) <= ALLOWED_LICENCES
    text = gzip.decompress((PACKAGED / "brics_panel.csv.gz").read_bytes()).decode()
    codes = set(ds._brics_long()["indicator"])
    for code in NOT_SHIPPED_CODES:
        assert code not in codes
    for marker in (",ITU_", ",UNCTAD_", ",gci_", ",egdi", ",cyberlaw_", ",SE_ADT_ACTS"):
        assert marker not in text
    extra_codes = set(ds.brics_indicators(shipped=False).index)
    assert not extra_codes & codes
    assert set(NOT_SHIPPED_CODES) <= extra_codes


def test_data_folder_holds_only_known_files() -> None:
    known = {
        "LICENSE_COINr_MIT.txt",
        "README_groups.md",
        "asem_README.md",
        "asem_iData.csv",
        "asem_iData_panel.csv",
        "asem_iMeta.csv",
        "country_aliases.csv",
        "wb_country_meta.csv",
        *BRICS_FILES,
    }
    present = {p.name for p in PACKAGED.iterdir() if p.is_file()}
    assert present <= known, f"unexpected files in the package data: {present - known}"


def test_loaded_panel_carries_only_allowed_licences(panel: xr.DataArray) -> None:
    assert set(panel["licence"].values.tolist()) <= ALLOWED_LICENCES
    assert panel.attrs["licences"] == ["CC BY 4.0"]
    assert bool(panel["shipped"].all())
    assert "European Union" in panel.attrs["attribution"]


def test_notice_attributes_every_packaged_source() -> None:
    notice = (REPO / "NOTICE").read_text()
    for source, row in ds.describe_sources().iterrows():
        if row["shipped"]:
            assert row["attribution"].split(" (")[0] in notice, source
    assert "© European Union" in notice


# ---------------------------------------------------------------------- (4) size
def test_package_data_is_well_under_budget() -> None:
    total = sum(p.stat().st_size for p in PACKAGED.iterdir() if p.is_file())
    assert total < PACKAGE_DATA_BUDGET / 3, f"package data is {total:,} bytes"
    brics = sum((PACKAGED / f).stat().st_size for f in BRICS_FILES)
    assert brics < 3 * 1024 * 1024


def test_wheel_size() -> None:
    """A built wheel if setuptools can build one offline, else a zip of the package."""
    import setuptools

    # Offline (--no-build-isolation) builds need the installed setuptools to read the
    # SPDX licence of pyproject.toml (>= 77); otherwise measure a zip of the package.
    if int(setuptools.__version__.split(".")[0]) < 77:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted((REPO / "src" / "brics_ecom").rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    zf.write(path, path.relative_to(REPO / "src"))
        size = len(buf.getvalue())
    else:  # pragma: no cover - depends on the environment
        import shutil
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            for name in ("pyproject.toml", "README.md", "LICENSE", "NOTICE"):
                if (REPO / name).is_file():
                    shutil.copy(REPO / name, work / name)
            shutil.copytree(
                REPO / "src",
                work / "src",
                ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"),
            )
            cmd = [sys.executable, "-m", "pip", "wheel", ".", "--no-deps",
                   "--no-build-isolation", "-q", "-w", "out"]  # fmt: skip
            done = subprocess.run(cmd, cwd=work, capture_output=True, timeout=60, check=False)
            wheels = list((work / "out").glob("*.whl"))
            if done.returncode != 0 or not wheels:
                pytest.skip(f"cannot build a wheel offline: {done.stderr.decode()[-300:]}")
            size = wheels[0].stat().st_size
            names = zipfile.ZipFile(wheels[0]).namelist()
            assert "brics_ecom/datasets/data/brics_panel.csv.gz" in names
    assert size < PACKAGE_DATA_BUDGET / 3, f"the wheel would be {size:,} bytes"


# ---------------------------------------------------------------------- (5) loader
def test_full_panel_shape_and_metadata(panel: xr.DataArray) -> None:
    assert panel.dims == ("unit", "time", "indicator")
    assert panel.dtype == np.float64
    validate(panel)
    meta = ds.brics_indicators(shipped=True)
    assert panel["indicator"].values.tolist() == meta.index.tolist()
    assert int(panel.notnull().sum()) == len(ds._brics_long())
    for coord in ("indicator_name", "unit_measure", "concept", "breakdown", "direction",
                  "role", "source", "source_code", "licence", "shipped"):  # fmt: skip
        assert panel[coord].dims == ("indicator",)
    assert panel["direction"].dtype == np.int64
    assert set(panel["direction"].values.tolist()) <= {-1, 1}
    assert panel.sel(indicator="account_p40")["breakdown"].item() == "income=poorest 40%"
    assert panel.sel(indicator="E_AESELL|1-9")["breakdown"].item() == "size_emp=1-9"
    assert panel.sel(indicator="SP.POP.TOTL")["role"].item() == "denominator"
    assert panel["time"].dtype == np.int64
    assert panel.attrs["data_as_of"] == "2026-07-01"
    assert set(panel.attrs["sources"]) == set(ds.SHIPPED_SOURCES)
    assert panel.attrs["history"][0].startswith("load_brics_panel(")


def test_unit_coordinates(panel: xr.DataArray) -> None:
    bra = panel.sel(unit="BRA")
    assert bra["unit_name"].item() == "Brazil"
    assert bra["wb_region"].item() == "Latin America & Caribbean"
    assert bra["wb_income"].item() == "Upper middle income"
    assert panel["BRICS"].dims == ("unit", "time")
    egy = panel["BRICS"].sel(unit="EGY", time=[2023, 2024]).values.tolist()
    assert egy == [False, True]
    assert panel.sel(unit="DEU")["unit_name"].item() == "Germany"  # not the Eurostat code


def test_filters_keep_order_and_select() -> None:
    p = ds.load_brics_panel(
        countries=["IND", "BRA"],
        years=range(2017, 2022),
        indicators=["account_t", "IT.NET.USER.ZS"],
    )
    assert p["unit"].values.tolist() == ["BRA", "IND"]
    assert p["indicator"].values.tolist() == ["account_t", "IT.NET.USER.ZS"]
    assert p["time"].values.tolist() == [2017, 2018, 2019, 2020, 2021]
    assert p["indicator_name"].values.tolist()[0] == "Account (% age 15+)"
    den = get_denominators(p)
    assert den is not None and den["unit"].values.tolist() == ["BRA", "IND"]
    assert den["time"].values.tolist() == p["time"].values.tolist()


def test_group_names_select_current_members() -> None:
    p = ds.load_brics_panel(countries="BRICS", years=2021, indicators="account_t")
    assert p["unit"].values.tolist() == [
        "ARE", "BRA", "CHN", "EGY", "ETH", "IDN", "IND", "IRN", "RUS", "ZAF"
    ]  # fmt: skip
    assert np.isnan(p.sel(unit="ETH").item())  # no Findex 2021 survey: kept, all NaN
    p = ds.load_brics_panel(countries=["BRICS", "DEU"], years=2021, indicators="account_t")
    assert "DEU" in p["unit"].values.tolist()


def test_loaded_panel_is_a_fresh_copy() -> None:
    a = ds.load_brics_panel(countries="IND", indicators="account_t")
    a[...] = -1.0
    b = ds.load_brics_panel(countries="IND", indicators="account_t")
    assert float(b.sel(time=2021).item()) == 78.0


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"countries": ["BRZ"]}, DataError, r"countries \['BRZ'\] are not in"),
        ({"countries": ["Brazil"]}, DataError, r"'Brazil': \['BRA'\]"),
        ({"indicators": ["IT.NET.USER"]}, DataError, r"IT\.NET\.USER.*IT\.NET\.USER\.ZS"),
        ({"indicators": ["ITU_DH_POP_COV_4G"]}, DataError, "extra_data"),
        ({"years": [1800]}, DataError, "no data"),
        ({"years": "2020"}, InvalidParameterError, "years"),
        ({"extra_data": "/nonexistent/folder"}, FileNotFoundError, "extra_data"),
    ],
)
def test_errors_name_the_culprit(kwargs: dict, exc: type[Exception], match: str) -> None:
    with pytest.raises(exc, match=match):
        ds.load_brics_panel(**kwargs)


def test_extra_data_without_sources(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="none of the source folders"):
        ds.load_brics_panel(extra_data=tmp_path)


@needs_data
def test_extra_data_adds_the_non_packaged_sources() -> None:
    p = ds.load_brics_panel(
        countries=["IND", "ZAF"],
        indicators=["IT.NET.USER.ZS", "ITU_DH_POP_COV_4G", "UNCTAD_DE_DIG_SERVTRADE_ANN_EXP",
                    "gci_overall", "cyberlaw_consumer_protection", "egdi"],
        extra_data=DATA,
    )  # fmt: skip
    assert p.sel(unit="IND", time=2024, indicator="ITU_DH_POP_COV_4G").item() == 99.06
    assert p.sel(unit="IND", time=2023, indicator="UNCTAD_DE_DIG_SERVTRADE_ANN_EXP").item() == (
        288653.0
    )
    assert p.sel(unit="IND", time=2020, indicator="gci_overall").item() == 97.49
    assert p.sel(unit="ZAF", time=2026, indicator="cyberlaw_consumer_protection").item() == 1.0
    assert p.sel(unit="IND", time=2024, indicator="egdi").item() == 0.66776
    assert p.sel(indicator="gci_overall")["shipped"].item() is False
    assert "non-commercial" in p.sel(indicator="gci_overall")["licence"].item()
    assert set(p.attrs["sources"]) == {
        "wdi_digital", "itu_connectivity", "unctad_digital_economy", "itu_gci",
        "unctad_cyberlaw", "un_egdi",
    }  # fmt: skip
    assert len(p.attrs["licences"]) > 1
    assert p.attrs["data_as_of"] == "2026-09-09"


def test_extra_codes_unknown_to_the_table_are_kept(tmp_path: Path) -> None:
    folder = tmp_path / "itu_gci"
    folder.mkdir()
    (folder / "itu_gci_2020_long.csv").write_text(
        "iso3,year,indicator,value,max_score,pillar_sum_check\n"
        "IND,2020,gci_overall,97.49,100,0.00\n"
        "IND,2024,ai_readiness,3.5,5,\n"
    )
    p = ds.load_brics_panel(countries="IND", indicators=["gci_overall", "gci_ai_readiness"],
                            extra_data=tmp_path)  # fmt: skip
    new = p.sel(indicator="gci_ai_readiness")
    assert new.sel(time=2024).item() == 3.5
    assert new["indicator_name"].item() == "gci_ai_readiness"
    assert new["source"].item() == "itu_gci"
    assert "non-commercial" in new["licence"].item()
    assert bool(new["shipped"]) is False and new["direction"].item() == 1


@needs_data
def test_read_brics_source() -> None:
    p = ds.read_brics_source("un_egdi", DATA)
    assert p.attrs["source"] == "un_egdi"
    # placeholder zeros before independence are dropped
    assert np.isnan(p.sel(unit="SSD", time=2008, indicator="egdi").item())
    assert np.isnan(p.sel(unit="SSD", time=2010, indicator="egdi").item())
    assert p.sel(unit="SSD", time=2012, indicator="egdi").item() == 0.22392
    with pytest.raises(InvalidParameterError, match="itu_gci"):
        ds.read_brics_source("itu_gcii", DATA)
    with pytest.raises(FileNotFoundError, match="no folder"):
        ds.read_brics_source("itu_gci", DATA / "asem")


def test_metadata_tables() -> None:
    meta = ds.brics_indicators()
    sources = ds.describe_sources()
    assert meta.index.is_unique
    assert set(meta["source"]) == set(ds.BRICS_SOURCES) == set(sources.index)
    counts = meta.groupby("source").size()
    assert (counts.reindex(sources.index) == sources["n_indicators"]).all()
    for col in ("name", "unit", "concept", "source_code", "provenance"):
        assert (meta[col] != "").all(), col
    findex = meta[meta["concept"] == "account"]
    assert sorted(findex["breakdown"]) == sorted(
        ["", "sex=female", "sex=male", "age=15-24", "age=25+", "education=primary or less",
         "education=secondary or more", "income=poorest 40%", "income=richest 60%",
         "area=rural", "area=urban"]
    )  # fmt: skip
    assert "postal" not in " ".join(meta["concept"])  # UPU reliability is not public
    assert ds.brics_indicators(shipped=False)["shipped"].eq(False).all()


def test_load_asem_is_unchanged() -> None:
    p, spec = ds.load_asem()
    assert p.sizes["unit"] == 51 and spec.root == "Index"
