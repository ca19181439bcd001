"""Built-in frameworks: the contract, UNCTAD's B2C index and e-commerce dynamism.

Published values come from ``../shared/data/published_reference_values`` (news sites quoting
UNCTAD's annex tables); the analytic checks recompute every normalisation by hand.
"""

from __future__ import annotations

import importlib
import math
import pkgutil

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import brics_ecom as be
from brics_ecom import frameworks
from brics_ecom.datasets import load_brics_panel
from brics_ecom.dynamics import trend_growth
from brics_ecom.errors import DataError, InvalidParameterError
from brics_ecom.frameworks import ecommerce_dynamism as dyn
from brics_ecom.frameworks import unctad_b2c as b2c
from conftest import SHARED

PUBLISHED = SHARED / "data" / "published_reference_values" / "published_values.csv"
MINE = ("unctad_b2c", "ecommerce_dynamism")


# ---------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def panel() -> xr.DataArray:
    return load_brics_panel()


@pytest.fixture(scope="module")
def published() -> pd.DataFrame:
    table = pd.read_csv(PUBLISHED, dtype={"edition": str})
    return table[table["index"] == "UNCTAD_B2C"]


def _value(published: pd.DataFrame, edition: str, iso3: str, quantity: str) -> float:
    row = published[
        (published["edition"] == edition)
        & (published["iso3"] == iso3)
        & (published["quantity"] == quantity)
    ]
    assert len(row) == 1, (edition, iso3, quantity)
    return float(row["value"].iloc[0])


@pytest.fixture(scope="module")
def b2c_default(panel: xr.DataArray) -> be.Result:
    return b2c.build(panel)


@pytest.fixture(scope="module")
def dyn_result(panel: xr.DataArray) -> be.Result:
    return dyn.build(panel, years=range(2019, 2025))


def _components(values: dict[str, list[float]], year: int = 2019) -> xr.DataArray:
    units = list(values)
    data = np.array([values[u] for u in units], dtype=float)[:, None, :]
    return xr.DataArray(
        data,
        dims=("unit", "time", "indicator"),
        coords={"unit": units, "time": [year], "indicator": list(b2c.COMPONENTS)},
    )


# ---------------------------------------------------------------------------- contract
def test_available_lists_both_and_every_listed_module_follows_the_contract() -> None:
    names = frameworks.available()
    assert set(MINE) <= set(names)
    assert names == sorted(names)
    for name in MINE:
        module = importlib.import_module(f"brics_ecom.frameworks.{name}")
        assert name == module.NAME
        assert isinstance(module.TITLE, str) and module.TITLE
        for func in ("spec", "pipeline", "build"):
            assert callable(getattr(module, func))
        assert isinstance(module.spec(), be.IndexSpec)
        assert isinstance(module.pipeline(), be.Pipeline)
        assert frameworks.load_spec(name).indicators  # the YAML file is packaged


def test_available_tolerates_other_modules_being_absent(monkeypatch: pytest.MonkeyPatch) -> None:
    real = pkgutil.iter_modules

    def only_mine(path: object) -> list[pkgutil.ModuleInfo]:
        return [m for m in real(path) if m.name in MINE or m.name.startswith("_")]

    monkeypatch.setattr(pkgutil, "iter_modules", only_mine)
    assert frameworks.available() == sorted(MINE)
    with pytest.raises(InvalidParameterError, match="msme_participation") as err:
        frameworks.build("msme_participation")
    assert "unctad_b2c" in str(err.value)  # lists the valid names


def test_unknown_framework_lists_valid_names_and_close_matches() -> None:
    with pytest.raises(InvalidParameterError, match=r"one of \[.*'unctad_b2c'.*\].*unctad_b2c"):
        frameworks.spec("unctad_b2")
    with pytest.raises(InvalidParameterError, match="must be one of"):
        frameworks.describe(3)  # type: ignore[arg-type]


def test_unknown_option_names_it_with_close_matches() -> None:
    with pytest.raises(InvalidParameterError, match=r"\['windw'\].*'window'"):
        frameworks.build("unctad_b2c", windw=3)
    with pytest.raises(InvalidParameterError, match="proxy"):
        frameworks.spec("ecommerce_dynamism", proxy=["mobile_4g"])


def test_front_doors_dispatch_to_the_modules() -> None:
    assert frameworks.spec("unctad_b2c", components=3) == b2c.spec(components=3)
    assert frameworks.pipeline("ecommerce_dynamism") == dyn.pipeline()
    d = frameworks.describe("ecommerce_dynamism")
    assert list(d.index[:2]) == ["L.buy_online", "L.dig_pay"]
    assert d.loc["L.dig_exports", "proxy"] == "BX.GSR.CCIS.CD"
    assert d.loc["M.internet", "licence"] == "CC BY 4.0"
    assert all(d["why"].str.len() > 20)
    b = frameworks.describe("unctad_b2c")
    assert b.loc["servers", "source"] == "IT.NET.SECR.P6"
    assert not b.loc["postal", "shipped"]
    assert "UNCTAD" in b.attrs["title"]


def test_yaml_specs_and_pipelines_round_trip() -> None:
    for name in MINE:
        tree = frameworks.spec(name)
        assert be.IndexSpec.from_yaml(tree.to_yaml()) == tree
        pipe = frameworks.pipeline(name)
        assert be.Pipeline.from_yaml(pipe.to_yaml()) == pipe
    bounds = {"M.internet": (0.0, 0.2)}
    pipe = dyn.pipeline(momentum_bounds=bounds)
    assert be.Pipeline.from_yaml(pipe.to_yaml()) == pipe


def test_default_countries_are_brics_members_plus_comparators(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    brics_2024 = be.groups.members("BRICS", 2024)
    out = frameworks.default_countries(2024)
    assert out[: len(brics_2024)] == brics_2024
    assert set(frameworks.DEFAULT_COMPARATORS) <= set(out)
    assert len(out) == len(set(out))
    # Indonesia is a member from 2025: listed once, among the members
    in_2025 = frameworks.default_countries(2025)
    assert in_2025.count("IDN") == 1
    assert in_2025.index("IDN") < len(be.groups.members("BRICS", 2025))
    # the set is user-changeable, per call or for the session
    assert frameworks.default_countries(2023, comparators=["USA"])[-1] == "USA"
    monkeypatch.setattr(frameworks, "DEFAULT_COMPARATORS", ("JPN",))
    assert frameworks.default_countries(2023) == ["BRA", "CHN", "IND", "RUS", "ZAF", "JPN"]


def test_resolve_countries_accepts_codes_names_and_groups() -> None:
    units = ["BRA", "CHN", "IND", "RUS", "ZAF", "USA"]
    got = frameworks.resolve_countries(["Brazil", "IND", "G7"], units, year=2020, func="f")
    assert got == ["BRA", "IND", "USA"]
    with pytest.raises(DataError, match=r"unknown countries \['BRZ'\].*'Brazil' \(BRA\)"):
        frameworks.resolve_countries(["BRZ"], units, year=2020, func="f")
    with pytest.raises(DataError, match=r"\['FRA'\] are not in the panel"):
        frameworks.resolve_countries(["FRA"], units, year=2020, func="f")
    with pytest.raises(InvalidParameterError, match="strings"):
        frameworks.resolve_countries([3], units, year=2020, func="f")  # type: ignore[list-item]


def test_bad_input_is_reported_clearly(panel: xr.DataArray) -> None:
    with pytest.raises(DataError, match=r"unknown countries \['Inida'\].*India"):
        b2c.build(panel, countries=["BRA", "Inida"], years=2021)
    with pytest.raises(InvalidParameterError, match=r"\[1900\] outside the panel's years 1960"):
        b2c.build(panel, years=1900)
    with pytest.raises(InvalidParameterError, match="integer years"):
        dyn.build(panel, years=["2020"])  # type: ignore[list-item]
    with pytest.raises(DataError, match=r"servers \(IT.NET.SECR.P6\)': \[2005\]"):
        b2c.build(panel, years=2005)
    with pytest.raises(DataError, match=r"Level face cannot be computed in the years \[1995\]"):
        dyn.build(panel, years=1995)
    with pytest.raises(InvalidParameterError, match="'window'"):
        dyn.build(panel, years=2021, window=0)
    with pytest.raises(InvalidParameterError, match="'universe'"):
        b2c.build(panel, years=2021, universe="world")
    with pytest.raises(InvalidParameterError, match="extra_data"):
        dyn.build(panel, years=2021, extra_data="somewhere")


# ---------------------------------------------------------------------------- B2C: published
def test_b2c_india_2020_published_components_give_57(published: pd.DataFrame) -> None:
    quantities = {
        "internet": "share_internet_users",
        "account": "share_account_15plus",
        "servers": "secure_servers_normalized",
        "postal": "upu_postal_reliability",
    }
    comps = [_value(published, "2020", "IND", q) for q in quantities.values()]
    assert comps == [34.0, 80.0, 49.0, 65.0]
    res = b2c.pipeline().run(_components({"IND": comps}), from_step="aggregate")
    index = float(res.scores.sel(unit="IND", time=2019, node="B2C"))
    assert index == pytest.approx(57.0, abs=1e-12)
    assert f"{index:.1f}" == "57.0"  # UNCTAD prints one decimal
    # the 2019 edition printed 57.0 for India too
    assert _value(published, "2019", "IND", "index_value") == 57.0


def test_b2c_mexico_2016_published_components_within_rounding(published: pd.DataFrame) -> None:
    # 2016 edition: credit-card ownership instead of account ownership
    internet = _value(published, "2016", "MEX", "share_internet_users")
    card = _value(published, "2016", "MEX", "share_credit_card_15plus")
    servers = _value(published, "2016", "MEX", "secure_servers_normalized")
    postal = _value(published, "2016", "MEX", "upu_postal_reliability")
    target = _value(published, "2016", "MEX", "index_value")
    res = b2c.pipeline().run(
        _components({"MEX": [internet, card, servers, postal]}, 2015), from_step="aggregate"
    )
    index = float(res.scores.sel(unit="MEX", node="B2C").item())
    assert index == pytest.approx(49.0, abs=1e-12)
    # four components printed as whole numbers: the mean is exact to ±0.5
    assert abs(index - target) <= 0.5
    # and the published index pins the unprinted decimals of the servers score: 61.4 → "61"
    assert round(4 * target - internet - card - postal) == servers


def test_b2c_india_2014_published_components_within_rounding(published: pd.DataFrame) -> None:
    edition = "2014(IER2015)"
    comps = [
        _value(published, edition, "IND", "share_internet_users"),
        _value(published, edition, "IND", "share_credit_card_15plus"),
        _value(published, edition, "IND", "secure_servers_normalized"),
        _value(published, edition, "IND", "pct_mail_delivered_at_home"),
    ]
    res = b2c.pipeline().run(_components({"IND": comps}, 2013), from_step="aggregate")
    index = float(res.scores.sel(unit="IND", node="B2C").item())
    # components with one decimal: the mean is exact to ±0.05
    assert abs(index - _value(published, edition, "IND", "index_value")) <= 0.05 + 1e-9


def test_b2c_india_2019_real_data_matches_published_components(
    panel: xr.DataArray, published: pd.DataFrame
) -> None:
    res = b2c.build(panel, countries=["IND"], years=2019, postal={"IND": 65.0})
    s = res.scores.sel(unit="IND", time=2019)
    # log min-max of the 2019 WDI servers over all economies reproduces UNCTAD's 49
    assert round(float(s.sel(node="servers"))) == _value(
        published, "2020", "IND", "secure_servers_normalized"
    )
    # account ownership: Findex 2017 ("2017" in the 2020 edition)
    assert float(s.sel(node="account")) == pytest.approx(80.0, abs=1e-12)
    assert int(res.reports["source_time"].sel(unit="IND", time=2019, indicator="account")) == 2017
    # internet users: ITU has revised India's 2019 estimate (34 in the 2020 edition)
    wdi = float(panel.sel(unit="IND", time=2019, indicator="IT.NET.USER.ZS"))
    assert float(s.sel(node="internet")) == pytest.approx(wdi, rel=1e-12)
    # with the 2020 edition's internet figure the build gives the published 57.0
    vintage = panel.copy()
    vintage.loc[{"unit": "IND", "time": 2019, "indicator": "IT.NET.USER.ZS"}] = 34.0
    res = b2c.build(vintage, countries=["IND"], years=2019, postal={"IND": 65.0})
    assert f"{float(res.scores.sel(unit='IND', time=2019, node='B2C')):.1f}" == "57.0"
    assert res.spec.root == "B2C" and res.reports["framework"]["components"] == 4


# ---------------------------------------------------------------------------- B2C: analytic
def test_normalise_servers_analytic() -> None:
    x = xr.DataArray([1.0, 10.0, 100.0, 1000.0, np.nan], dims="unit",
                     coords={"unit": list("abcde")})  # fmt: skip
    out = b2c.normalise_servers(x)
    np.testing.assert_allclose(out.values[:4], [0, 100 / 3, 200 / 3, 100], rtol=1e-12)
    assert math.isnan(out.values[4])
    # the base of the log does not matter; min-max of the counts is linear in x
    np.testing.assert_allclose(b2c.normalise_servers(x**2).values[:4], out.values[:4])
    raw = b2c.normalise_servers(x, method="minmax")
    np.testing.assert_allclose(raw.values[:4], 100 * (x.values[:4] - 1) / 999, rtol=1e-12)
    # one min and max per year
    two = xr.concat([x, 2 * x], dim=pd.Index([2020, 2021], name="time"))
    np.testing.assert_allclose(b2c.normalise_servers(two).values, out.expand_dims(time=2).values)
    with pytest.raises(InvalidParameterError, match="'method'"):
        b2c.normalise_servers(x, method="log")


def test_b2c_servers_component_is_the_log_minmax_over_the_year(panel: xr.DataArray) -> None:
    res = b2c.build(panel, countries=["BRA", "CHN", "IND"], years=[2018, 2021])
    for year in (2018, 2021):
        x = panel.sel(time=year, indicator="IT.NET.SECR.P6").dropna("unit")
        logs = np.log(x)
        expected = 100 * (logs - logs.min()) / (logs.max() - logs.min())
        got = res.scores.sel(time=year, node="servers")
        np.testing.assert_allclose(got.values, expected.sel(unit=got["unit"]).values, rtol=1e-12)
    # universe="selected": min-max over the chosen countries only
    sel = b2c.build(panel, countries=["BRA", "CHN", "IND"], years=2021, universe="selected")
    servers = sel.scores.sel(time=2021, node="servers")
    assert float(servers.min()) == 0.0 and float(servers.max()) == 100.0
    # servers="minmax": no log
    lin = b2c.build(panel, countries=["BRA"], years=2021, servers="minmax")
    x = panel.sel(time=2021, indicator="IT.NET.SECR.P6").dropna("unit")
    expected = 100 * (x.sel(unit="BRA") - x.min()) / (x.max() - x.min())
    assert float(lin.scores.sel(unit="BRA", time=2021, node="servers")) == pytest.approx(
        float(expected), rel=1e-12
    )


# ---------------------------------------------------------------------------- B2C: builder
def test_b2c_default_build_real_values(panel: xr.DataArray, b2c_default: be.Result) -> None:
    info = b2c_default.reports["framework"]
    year = info["years"][-1]
    assert year == 2024  # the last year of the secure-server series
    assert info["countries"] == frameworks.default_countries()  # current membership
    scores = b2c_default.scores.sel(time=year)
    assert b2c_default.spec.root == "B2C_3"
    assert "NOT UNCTAD" in b2c_default.scores.attrs["variant"]
    # components are the published values ("latest within the window")
    src = b2c_default.reports["source_time"].sel(time=year)
    for node, code in b2c.SOURCES.items():
        if node == "servers":
            continue
        for unit in ("BRA", "CHN", "USA"):
            when = int(src.sel(unit=unit, indicator=node))
            raw = float(panel.sel(unit=unit, time=when, indicator=code))
            assert float(scores.sel(unit=unit, node=node)) == pytest.approx(raw, rel=1e-12)
    # the index is the mean of the three components
    comps = scores.sel(node=["internet", "account", "servers"])
    np.testing.assert_allclose(
        scores.sel(node="B2C_3").values, comps.mean("node").values, rtol=1e-12
    )
    # ranks: a permutation among the countries with an index
    ranks = b2c_default.ranks.sel(time=year, node="B2C_3").dropna("unit")
    assert sorted(ranks.values.astype(int).tolist()) == list(range(1, ranks.sizes["unit"] + 1))
    assert ranks.sizes["unit"] >= len(info["countries"]) - 1


def test_b2c_variants_and_postal_input(panel: xr.DataArray) -> None:
    postal = {"BRA": 60.0, "IND": 65.0}
    four = b2c.build(panel, countries=["BRA", "IND"], years=2021, postal=postal)
    three = b2c.build(panel, countries=["BRA", "IND"], years=2021)
    s4, s3 = four.scores.sel(time=2021), three.scores.sel(time=2021)
    assert float(s4.sel(unit="BRA", node="postal")) == pytest.approx(60.0)
    expected = (3 * float(s3.sel(unit="BRA", node="B2C_3")) + 60.0) / 4
    assert float(s4.sel(unit="BRA", node="B2C")) == pytest.approx(expected, rel=1e-12)
    assert "three-component" in three.spec.name and "B2C_3" in three.spec.codes
    # a Series over (unit, time) or a DataArray work too
    series = pd.Series([60.0], index=pd.MultiIndex.from_tuples([("BRA", 2021)]))
    from_series = b2c.build(panel, countries=["BRA"], years=2021, postal=series)
    assert float(from_series.scores.sel(unit="BRA", time=2021, node="B2C")) == pytest.approx(
        float(s4.sel(unit="BRA", node="B2C"))
    )
    da = xr.DataArray([60.0], dims="unit", coords={"unit": ["BRA"]})
    assert b2c.build(panel, countries=["BRA"], years=2021, postal=da).spec.root == "B2C"
    # economies without a postal score get no index (UNCTAD needs all four components)
    assert math.isnan(float(b2c.build(panel, countries=["BRA", "CHN"], years=2021,
                                      postal={"BRA": 60.0}).scores.sel(
        unit="CHN", time=2021, node="B2C")))  # fmt: skip
    with pytest.raises(InvalidParameterError, match="postal"):
        b2c.build(panel, years=2021, components=4)
    with pytest.raises(InvalidParameterError, match="postal= was given with components=3"):
        b2c.build(panel, years=2021, components=3, postal=postal)
    with pytest.raises(DataError, match=r"\['BRA'\] are outside"):
        b2c.build(panel, years=2021, postal={"BRA": 160.0})
    with pytest.raises(DataError, match=r"\['XXX'\]"):
        b2c.build(panel, years=2021, postal={"XXX": 60.0})
    with pytest.raises(InvalidParameterError, match="'postal'"):
        b2c.build(panel, years=2021, postal=[60.0])


def test_b2c_build_is_prepare_plus_pipeline(panel: xr.DataArray) -> None:
    res = b2c.build(panel, countries=["BRA", "IND", "ZAF"], years=[2017, 2021])
    prepared = b2c.prepare(panel, years=[2017, 2021])
    full = b2c.pipeline(components=3).run(prepared)
    saved = be.Pipeline.from_yaml(full.pipeline.to_yaml()).run(prepared)
    for other in (full, saved):
        expected = other.scores.sel(unit=["BRA", "IND", "ZAF"])
        np.testing.assert_array_equal(res.scores.values, expected.values)
    assert "frameworks.unctad_b2c.build" in res.history[-1]


# ---------------------------------------------------------------------------- dynamism
def test_dynamism_tree_and_result(dyn_result: be.Result) -> None:
    tree = dyn_result.spec
    assert tree.root == "ECOM_DYN"
    assert tree.children("ECOM_DYN") == ("Level", "Momentum")
    assert [c[2:] for c in tree.children("Level")] == list(dyn.CONCEPTS)
    assert [c[2:] for c in tree.children("Momentum")] == list(dyn.CONCEPTS)
    nodes = dyn_result.scores["node"].values.tolist()
    assert {"Level", "Momentum", "ECOM_DYN"} <= set(nodes)
    assert dyn_result.scores.sizes["time"] == 6
    info = dyn_result.reports["framework"]
    # without extra_data, the shipped proxies are used and said so
    assert info["proxies"] == {
        "mobile_4g": "IT.CEL.SETS.P2",
        "mobile_bb": "IT.NET.BBND.P2",
        "dig_exports": "BX.GSR.CCIS.CD",
    }
    assert dyn_result.scores.attrs["proxies"] == info["proxies"]
    assert "proxy" in dyn_result.spec.node("L.mobile_4g").name
    assert dyn_result.pipeline.get("normalise__reference") == "pooled"


def test_dynamism_levels_and_momentum_are_the_real_values(
    panel: xr.DataArray, dyn_result: be.Result
) -> None:
    raw = dyn_result.data["raw"]
    for unit in ("BRA", "IND", "USA"):
        when = int(raw["source_time"].sel(unit=unit, time=2021, indicator="L.internet"))
        wdi = float(panel.sel(unit=unit, time=when, indicator="IT.NET.USER.ZS"))
        assert float(raw.sel(unit=unit, time=2021, indicator="L.internet")) == wdi
        assert float(raw.sel(unit=unit, time=2021, indicator="L.account")) == float(
            panel.sel(unit=unit, time=2021, indicator="account_t")
        )
        # log of ICT service exports per person
        pop = panel.attrs["denominators"].sel(unit=unit, time=2021, denominator="Population")
        exports = panel.sel(unit=unit, time=2021, indicator="BX.GSR.CCIS.CD")
        assert float(raw.sel(unit=unit, time=2021, indicator="L.dig_exports")) == pytest.approx(
            float(np.log(exports / pop)), rel=1e-12
        )
        # momentum: trend growth over the 5 years to the year of the level value
        series = panel.sel(unit=unit, indicator="IT.NET.USER.ZS", time=range(when - 5, when + 1))
        slope = float(trend_growth(series).slope)
        assert float(raw.sel(unit=unit, time=2021, indicator="M.internet")) == pytest.approx(
            slope, rel=1e-12
        )
    # Findex momentum: growth between the 2017 and 2021 waves
    x = panel.sel(unit="IND", indicator="account_t")
    expected = (np.log(float(x.sel(time=2021))) - np.log(float(x.sel(time=2017)))) / 4
    assert float(raw.sel(unit="IND", time=2021, indicator="M.account")) == pytest.approx(
        expected, rel=1e-12
    )
    assert int(raw["nobs"].sel(unit="IND", time=2021, indicator="M.account")) == 2


def test_dynamism_normalisation_is_pooled(panel: xr.DataArray) -> None:
    prepared = dyn.prepare(panel, years=range(2019, 2025))
    bounds = dyn.momentum_bounds(prepared)
    full = dyn.pipeline(proxies=list(prepared.attrs["proxies"]), momentum_bounds=bounds).run(
        prepared
    )
    treated = full.data["treat"].sel(indicator="L.internet")
    norm = full.data["normalise"].sel(indicator="L.internet")
    lo, hi = float(treated.min()), float(treated.max())  # over every economy AND year
    np.testing.assert_allclose(norm.values, 100 * (treated.values - lo) / (hi - lo), rtol=1e-12)
    assert float(norm.max(("unit",)).min()) < 100  # not re-scaled year by year
    # momentum: goalposts at the pooled 5th and 95th percentiles, truncated
    m = prepared.sel(indicator="M.internet").values
    q05, q95 = np.nanquantile(m, [0.05, 0.95])
    assert bounds["M.internet"] == pytest.approx((q05, q95))
    mom = full.data["normalise"].sel(indicator="M.internet").values
    expected = np.clip((m - q05) / (q95 - q05), 0, 1) * 100
    np.testing.assert_allclose(mom, expected, rtol=1e-12)


def test_dynamism_ranks_and_quadrants(dyn_result: be.Result) -> None:
    countries = dyn_result.reports["framework"]["countries"]
    assert dyn_result.scores["unit"].values.tolist() == countries
    for node in ("Level", "Momentum", "ECOM_DYN"):
        for year in (2019, 2024):
            ranks = dyn_result.ranks.sel(time=year, node=node).dropna("unit")
            assert sorted(ranks.values.astype(int).tolist()) == list(
                range(1, ranks.sizes["unit"] + 1)
            )
    table = dyn.quadrants(dyn_result)
    assert set(table["state"].dropna()) <= {"stand out", "break out", "stall out", "watch out"}
    for year, sub in table.groupby(level="time"):
        both = sub.dropna(subset=["level", "momentum"])
        assert sub["level_threshold"].iloc[0] == pytest.approx(both["level"].median())
        assert sub["momentum_threshold"].iloc[0] == pytest.approx(both["momentum"].median())
        high_l = both["level"] >= both["level"].median()
        high_m = both["momentum"] >= both["momentum"].median()
        expected = np.select(
            [high_l & high_m, ~high_l & high_m, high_l & ~high_m],
            ["stand out", "break out", "stall out"],
            "watch out",
        )
        assert both["state"].tolist() == expected.tolist(), year
    states = dyn_result.reports["state_momentum"]
    assert isinstance(states, xr.Dataset) and "state" in states


def test_dynamism_with_extra_data_uses_the_preferred_sources() -> None:
    folder = SHARED / "data"
    if not (folder / "itu_connectivity").is_dir():  # pragma: no cover - data not present
        pytest.skip("the project's data folder with the ITU/UNCTAD sources is not present")
    res = dyn.build(countries="BRICS", years=2021, extra_data=folder)
    info = res.reports["framework"]
    assert info["proxies"] == {}
    assert info["sources"]["mobile_4g"] == "ITU_DH_POP_COV_4G"
    assert info["sources"]["dig_exports"] == "UNCTAD_DE_DIG_SERVTRADE_ANN_EXP"
    assert "proxy" not in res.spec.node("L.mobile_4g").name


def test_dynamism_source_choice(panel: xr.DataArray) -> None:
    with pytest.raises(DataError, match="extra_data"):
        dyn.choose_sources(panel, use_extra=True)
    fake = panel.copy()
    fake.loc[{"indicator": "IT.CEL.SETS.P2"}] = np.nan
    with pytest.raises(DataError, match=r"ITU_DH_POP_COV_4G \(or its proxy IT.CEL.SETS.P2\)"):
        dyn.choose_sources(fake)
    assert dyn.choose_sources(panel, use_extra=False)["mobile_bb"] == ("IT.NET.BBND.P2", True)
    with pytest.raises(InvalidParameterError, match="use_extra"):
        dyn.choose_sources(panel, use_extra="yes")  # type: ignore[arg-type]


def test_dynamism_options(panel: xr.DataArray) -> None:
    res = dyn.build(panel, countries=["BRA", "IND", "CHN", "ZAF", "RUS"], years=2021,
                    universe="selected", momentum_quantiles=None, treat=False)  # fmt: skip
    assert [s.name for s in res.pipeline.steps] == ["normalise", "aggregate"]
    level = res.data["normalise"].sel(indicator="L.internet")
    assert float(level.min()) == 0.0 and float(level.max()) == 100.0
    weighted = dyn.build(panel, countries="BRICS", years=2021, momentum_weight=0.0)
    s = weighted.scores.sel(time=2021)
    np.testing.assert_allclose(s.sel(node="ECOM_DYN").values, s.sel(node="Level").values)
    with pytest.raises(InvalidParameterError, match="only"):
        dyn.spec(proxies=["internet"])
    with pytest.raises(InvalidParameterError, match="lower < upper"):
        dyn.pipeline(momentum_bounds={"M.internet": (1.0, 0.0)})
    with pytest.raises(InvalidParameterError, match="not momentum"):
        dyn.pipeline(momentum_bounds={"L.internet": (0.0, 1.0)})
