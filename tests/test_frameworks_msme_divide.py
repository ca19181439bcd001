"""Built-in frameworks 3 and 4 (MSME participation, digital divide) and from_microdata.

Real values come from the bundled BRICS+ panel (Eurostat, Findex, WDI; CC BY 4.0) and are
recomputed by hand here; the survey estimator is checked on a synthetic population with
known shares, against a hand-worked stratified cluster sample and against statsmodels.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import xarray as xr
from statsmodels.stats.weightstats import DescrStatsW

from brics_ecom import inequality as ineq
from brics_ecom.datasets import load_brics_panel
from brics_ecom.errors import DataError, InvalidParameterError
from brics_ecom.frameworks import digital_divide as dd
from brics_ecom.frameworks import msme_participation as msme
from brics_ecom.msme import SIZE_BINS, from_microdata
from brics_ecom.spec import IndexSpec
from conftest import SHARED

DATA = SHARED / "data"
needs_unctad = pytest.mark.skipif(
    not (DATA / "unctad_digital_economy").is_dir(),
    reason=f"the project's data folder {DATA} (UNCTAD business ICT use) is absent",
)
EU = ["AUT", "BEL", "CZE", "DEU", "DNK", "ESP", "FIN", "FRA", "ITA", "NLD", "POL", "SWE"]


@pytest.fixture(scope="module")
def panel() -> xr.DataArray:
    return load_brics_panel()


def value(p: xr.DataArray, unit: str, time: int, code: str) -> float:
    return float(p.sel(unit=unit, time=time, indicator=code))


# ============================================================== MSME participation
def test_msme_tree_and_yaml() -> None:
    s = msme.spec()
    assert s.root == "MSME" and s.children("MSME") == ("Level", "Parity")
    assert len(s.children("Level")) == len(s.children("Parity")) == 8
    assert {s.weights[c] for c in s.children("Level") if c.endswith("_S")} == {2.0}
    assert {s.weights[c] for c in s.children("Level") if c.endswith("_M")} == {1.0}
    assert all(s.node(c).goalposts == (0.0, 100.0) for c in s.children("Level"))
    assert all(s.node(c).goalposts == (0.0, 1.0) for c in s.children("Parity"))
    assert IndexSpec.from_yaml(s.to_yaml()) == s
    assert msme.spec(weights={"Parity": 3}).weights["Parity"] == 3.0
    from brics_ecom import frameworks

    assert frameworks.spec("msme_participation") == s
    assert frameworks.describe("msme_participation").loc["xb_S", "licence"] == "CC BY 4.0"


def test_msme_deu_2021_by_hand(panel: xr.DataArray) -> None:
    res = msme.build(panel, countries=["DEU"], years=2021)
    got = res.scores.sel(unit="DEU", time=2021).to_series()
    # Eurostat isoc_ec_esels, DE 2021 (% of enterprises), as published
    sell = {"S": 19.7, "M": 27.9, "L": 41.5}
    web = {"S": 17.7, "M": 21.1, "L": 25.2}
    mkt = {"S": 10.6, "M": 11.3, "L": 12.1}
    eu = {"S": 9.3, "M": 14.5, "L": 25.6}
    ww = {"S": 5.3, "M": 7.5, "L": 16.2}
    both = {"S": 5.2, "M": 7.2, "L": 15.9}
    xb = {k: eu[k] + ww[k] - both[k] for k in eu}  # e-sales abroad: EU or rest of world
    assert got["sell_S_L"] == pytest.approx(100 * 19.7 / 41.5, rel=1e-12)
    assert got["sell_M_L"] == pytest.approx(100 * 27.9 / 41.5, rel=1e-12)
    assert got["xb_S"] == pytest.approx(9.4, rel=1e-12)
    assert got["xb_S_L"] == pytest.approx(100 * 9.4 / 25.9, rel=1e-12)
    level = sum(2 * a["S"] + a["M"] for a in (sell, web, mkt, xb)) / 12
    parity = sum(100 * (2 * a["S"] / a["L"] + a["M"] / a["L"]) for a in (sell, web, mkt, xb)) / 12
    assert got["Level"] == pytest.approx(level, rel=1e-12)
    assert got["Parity"] == pytest.approx(parity, rel=1e-12)
    assert got["MSME"] == pytest.approx(math.sqrt(level * parity), rel=1e-12)
    arithmetic = msme.build(panel, countries=["DEU"], years=2021, top="arithmetic").scores
    assert arithmetic.sel(unit="DEU", time=2021, node="MSME").item() == pytest.approx(
        (level + parity) / 2, rel=1e-12
    )
    # the same through the frameworks front door
    from brics_ecom import frameworks

    again = frameworks.build("msme_participation", panel, countries=["DEU"], years=2021)
    xr.testing.assert_identical(again.scores, res.scores)


def test_msme_parity_is_capped_and_reported(panel: xr.DataArray) -> None:
    res = msme.build(panel, countries=["AUT"], years=2023)
    table = res.reports["parity"].set_index("indicator")
    row = table.loc["mkt_M_L"]  # medium firms ahead of large ones on marketplaces
    assert row["value"] == 12.0 and row["large"] == 10.9
    assert row["ratio"] == pytest.approx(12.0 / 10.9) and row["parity"] == 1.0
    assert res.scores.sel(unit="AUT", time=2023, node="mkt_M_L").item() == 100.0
    assert (table["parity"] == np.fmin(table["ratio"], 1.0)).all()


def test_msme_index_on_eu_economies(panel: xr.DataArray) -> None:
    res = msme.build(panel, countries=EU, years=[2019, 2021])
    s = res.scores
    assert s.sizes == {"unit": len(EU), "time": 2, "node": 19}
    assert bool(s.notnull().sel(node=["Level", "Parity", "MSME"]).all())
    assert float(s.min()) >= 0.0 and float(s.max()) <= 100.0
    assert (res.scores["msme_basis"] == "eurostat").all()
    # the index is the geometric mean of its two sub-indices; ranks 1..n each year
    np.testing.assert_allclose(
        s.sel(node="MSME"), np.sqrt(s.sel(node="Level") * s.sel(node="Parity")), rtol=1e-13
    )
    ranks = res.ranks.sel(node="MSME")
    assert sorted(ranks.sel(time=2021).values.tolist()) == list(range(1, len(EU) + 1))
    # goalposts: scores do not depend on which countries are compared
    alone = msme.build(panel, countries=["POL"], years=2021).scores.sel(unit="POL")
    both = s.sel(unit="POL", time=[2021]).reset_coords(drop=True)
    xr.testing.assert_allclose(alone.reset_coords(drop=True), both)
    # replaying the saved pipeline on the prepared panel reproduces the scores
    replay = type(res.pipeline).from_yaml(res.pipeline.to_yaml()).run(res.data["raw"])
    xr.testing.assert_equal(replay.scores, res.scores)


def test_msme_drops_indicators_without_data(panel: xr.DataArray) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = msme.build(panel, countries=["DEU", "FRA"], years=2012)
    kinds = ("S", "M", "S_L", "M_L")
    assert set(res.reports["dropped"]) == {f"{a}_{k}" for a in ("mkt", "xb") for k in kinds}
    assert "mkt_S" not in res.spec.indicators and res.spec.root == "MSME"


def test_msme_default_years_and_countries(panel: xr.DataArray) -> None:
    res = msme.build(panel)
    times = res.scores["time"].values.tolist()
    assert times[0] == 2010 and times[-1] == 2023
    units = res.scores["unit"].values.tolist()
    assert {"BRA", "CHN", "IND", "DEU", "USA"} <= set(units)
    # no BRICS member has Eurostat size data: without the proxy they have no scores
    assert bool(res.scores.sel(unit="BRA").isnull().all())
    assert bool(res.scores.sel(unit="DEU", node="MSME").notnull().any())


@needs_unctad
def test_msme_unctad_proxy() -> None:
    full = load_brics_panel(extra_data=DATA)
    res = msme.build(full, countries=["CHN", "ZAF", "DEU"], years=2021)
    s = res.scores.sel(time=2021)
    assert s.sel(unit="CHN", node="sell_S").item() == 9.15  # UNCTAD B7, China 2021
    assert str(s["msme_basis"].sel(unit="CHN").item()) == "proxy"
    assert str(s["msme_basis"].sel(unit="DEU").item()) == "eurostat"
    assert bool(s.sel(unit="CHN", node=["Level", "Parity", "MSME"]).isnull().all())
    assert s.sel(unit="DEU", node="sell_S").item() == 19.7  # Eurostat data are kept
    proxied = res.reports["proxy"]
    assert set(proxied["unit"]) == {"CHN", "ZAF"}
    assert (proxied["proxy"] == msme.PROXY_INDICATOR).all()
    as_index = msme.build(full, countries=["CHN", "DEU"], years=2021, proxy="index")
    assert as_index.scores.sel(unit="CHN", time=2021, node="MSME").item() == 9.15
    assert as_index.ranks.sel(unit="DEU", time=2021, node="MSME").item() == 1
    none = msme.build(full, countries=["CHN", "DEU"], years=2021, proxy=None)
    assert np.isnan(none.scores.sel(unit="CHN", time=2021, node="sell_S").item())


@needs_unctad
def test_msme_proxy_tracks_small_firms_where_both_exist() -> None:
    """The documented validation: B7 vs E_AESELL|10-49 over EU country-years."""
    p = load_brics_panel(indicators=[msme.PROXY_INDICATOR, "E_AESELL|10-49"], extra_data=DATA)
    both = p.to_series().unstack("indicator").dropna()
    assert len(both) == 204 and both.index.get_level_values("unit").nunique() == 31
    r = np.corrcoef(both[msme.PROXY_INDICATOR], both["E_AESELL|10-49"])[0, 1]
    diff = both[msme.PROXY_INDICATOR] - both["E_AESELL|10-49"]
    assert round(r, 3) == 0.990
    assert round(diff.mean(), 1) == 1.8 and round(diff.std(), 1) == 1.2


def test_msme_bad_input(panel: xr.DataArray) -> None:
    with pytest.raises(InvalidParameterError, match=r"unknown option\(s\) \['colour'\]"):
        msme.build(panel, colour="red")
    with pytest.raises(InvalidParameterError, match="'proxy'"):
        msme.build(panel, proxy="yes")
    with pytest.raises(InvalidParameterError, match="'normalise'"):
        msme.pipeline(normalise="minmx")
    lacking = panel.sel(indicator=["E_AESELL|10-49", "IT.NET.USER.ZS"])
    with pytest.raises(DataError, match=r"E_AESELL\|50-249"):
        msme.build(lacking, countries=["DEU"])
    with pytest.raises(DataError, match="XYZ"):
        msme.build(panel, countries=["DEU", "XYZ"])
    with pytest.raises(InvalidParameterError, match="'years'"):
        msme.build(panel, countries=["DEU"], years=1890)
    with pytest.raises(InvalidParameterError, match="'proxy'"):
        msme.prepare(panel, proxy="level")  # type: ignore[arg-type]


# ============================================================== digital divide
def test_divide_tree() -> None:
    s = dd.spec()
    assert s.root == "DDI"
    assert s.children("DDI") == ("Gender", "Income", "Education", "Area", "Age", "Internet")
    assert s.children("Internet") == ("internet_frontier",)
    assert all(s.node(c).goalposts == (0.0, 1.0) for c in s.indicators)
    assert set(s.directions.values()) == {1}
    assert IndexSpec.from_yaml(s.to_yaml()) == s
    assert dict(dd.pipeline(dat_thresh=None).step("aggregate").params) == {"method": "arithmetic"}


@pytest.mark.parametrize(
    ("unit", "time", "dim", "a", "b"),
    [
        ("BRA", 2021, "gender", "account_f", "account_m"),
        ("IND", 2014, "gender", "account_f", "account_m"),
        ("CHN", 2017, "income", "account_p40", "account_r60"),
        ("ZAF", 2021, "education", "buy_online_pri", "buy_online_sec"),
        ("IND", 2021, "area", "account_rural", "account_urban"),
        ("RUS", 2011, "age", "account_young", "account_old"),
    ],
)
def test_divide_parity_equals_findex_ratio_by_hand(
    panel: xr.DataArray, unit: str, time: int, dim: str, a: str, b: str
) -> None:
    res = dd.build(panel, countries=["BRA", "IND", "CHN", "ZAF", "RUS"])
    concept = a.rsplit("_", 1)[0]
    by_hand = min(value(panel, unit, time, a) / value(panel, unit, time, b), 1.0)
    score = res.scores.sel(unit=unit, time=time, node=f"{dim}_{concept}").item()
    assert score == pytest.approx(100 * by_hand, rel=1e-12)
    row = res.reports["gaps"].query("unit == @unit and time == @time and group_a == @a")
    va, vb = value(panel, unit, time, a), value(panel, unit, time, b)
    assert row["ratio"].item() == pytest.approx(va / vb)
    assert row["difference"].item() == vb - va


def test_divide_gender_account_bra_2021(panel: xr.DataArray) -> None:
    # Findex 2021, Brazil: 81 % of women and 87 % of men own an account
    assert value(panel, "BRA", 2021, "account_f") == 81.0
    assert value(panel, "BRA", 2021, "account_m") == 87.0
    res = dd.build(panel, countries=["BRA"], years=2021)
    assert res.scores.sel(unit="BRA", time=2021, node="gender_account").item() == pytest.approx(
        100 * 81 / 87, rel=1e-12
    )


def test_divide_pillars_and_index_by_hand(panel: xr.DataArray) -> None:
    res = dd.build(panel, countries=["IND", "ZAF"], years=2021)
    s = res.scores.sel(time=2021)
    for pillar in ("Gender", "Income", "Education", "Area", "Age"):
        kids = list(res.spec.children(pillar))
        np.testing.assert_allclose(s.sel(node=pillar), s.sel(node=kids).mean("node"), rtol=1e-13)
    pillars = list(res.spec.children("DDI"))
    np.testing.assert_allclose(s.sel(node="DDI"), s.sel(node=pillars).mean("node"), rtol=1e-13)
    # India 2021 area pillar: (77/78 + 7/13 + 6/11) / 3, internet-based payments
    area = (77 / 78 + 7 / 13 + 6 / 11) / 3 * 100
    assert s.sel(unit="IND", node="Area").item() == pytest.approx(area, rel=1e-12)


def test_divide_payments_preference(panel: xr.DataArray) -> None:
    res = dd.build(panel, countries=["BRA"], years=[2014, 2017, 2021])
    gaps = res.reports["gaps"].query("indicator == 'gender_payments'").set_index("time")
    assert gaps.loc[2014, "concept"] == "dig_pay_made"  # no internet-based series in 2014
    assert gaps.loc[2017, "concept"] == "bills_online"
    assert gaps.loc[2021, "group_a"] == "bills_online_f"
    f, m = (value(panel, "BRA", 2014, f"dig_pay_made_{s}") for s in ("f", "m"))
    by_hand = f / m
    assert res.scores.sel(unit="BRA", time=2014, node="gender_payments").item() == pytest.approx(
        100 * min(by_hand, 1.0), rel=1e-12
    )
    only = dd.build(panel, countries=["BRA"], years=2021, payments="dig_pay_made")
    f, m = (value(panel, "BRA", 2021, f"dig_pay_made_{s}") for s in ("f", "m"))
    ratio = f / m
    assert only.scores.sel(unit="BRA", time=2021, node="gender_payments").item() == (
        pytest.approx(100 * ratio, rel=1e-12)
    )


def test_divide_symmetric_counts_both_directions(panel: xr.DataArray) -> None:
    young = value(panel, "IND", 2021, "buy_online_young")
    old = value(panel, "IND", 2021, "buy_online_old")
    assert young > old  # the young buy online more: capped parity is 1
    capped = dd.build(panel, countries=["IND"], years=2021)
    sym = dd.build(panel, countries=["IND"], years=2021, symmetric=True)
    assert capped.scores.sel(unit="IND", time=2021, node="age_buy_online").item() == 100.0
    assert sym.scores.sel(unit="IND", time=2021, node="age_buy_online").item() == pytest.approx(
        100 * old / young, rel=1e-12
    )


def test_divide_internet_gap_to_frontier(panel: xr.DataArray) -> None:
    res = dd.build(panel, countries=["IND", "USA"], years=[2017, 2021])
    x = dd.internet_at(panel, [2017, 2021])
    assert int(x["source_time"].sel(unit="IND", time=2021)) == 2020  # no 2021 WDI value
    frontier = x.max("unit")  # the best economy of the whole panel, each year
    gap = ineq.gap_to_frontier(x.reset_coords(drop=True))
    for unit in ("IND", "USA"):
        for t in (2017, 2021):
            share = float(x.sel(unit=unit, time=t) / frontier.sel(time=t))
            got = res.scores.sel(unit=unit, time=t, node="internet_frontier").item()
            assert got == pytest.approx(100 * share, rel=1e-12)
    rows = res.reports["gaps"].query("dimension == 'internet'").set_index(["unit", "time"])
    assert rows.loc[("IND", 2021), "difference"] == pytest.approx(
        float(gap.sel(unit="IND", time=2021)), rel=1e-12
    )
    assert rows.loc[("IND", 2021), "source_year"] == 2020
    fixed = dd.build(panel, countries=["IND"], years=2021, frontier=100.0)
    assert fixed.scores.sel(unit="IND", time=2021, node="internet_frontier").item() == (
        pytest.approx(float(x.sel(unit="IND", time=2021)), rel=1e-12)
    )


def test_divide_theil_decomposition_adds_up(panel: xr.DataArray) -> None:
    units = ["BRA", "CHN", "IND", "RUS", "ZAF", "EGY", "USA", "DEU", "JPN", "MEX"]
    res = dd.build(panel, countries=units)
    th = res.reports["theil"]
    assert th["time"].values.tolist() == list(dd.WAVES)
    np.testing.assert_allclose(th.total, th.between + th.within, rtol=0, atol=1e-15)
    np.testing.assert_allclose(th.within, th.within_contribution.sum("group"), atol=1e-15)
    # the total is Theil's T of internet use across these countries, by hand (2021)
    x = dd.internet_at(panel.sel(unit=units), [2021]).sel(time=2021).values
    x = x[~np.isnan(x)]
    mu = x.mean()
    assert th.total.sel(time=2021).item() == pytest.approx(np.mean(x / mu * np.log(x / mu)))
    # Egypt joined BRICS in 2024: in every Findex wave it is among the others
    members = dd.internet_at(panel.sel(unit=units[:5]), [2021]).sel(time=2021).values
    share_brics = members.size / x.size
    assert th.population_share.sel(time=2021, group="BRICS").item() == pytest.approx(share_brics)
    weighted = dd.build(panel, countries=units, theil_weights="population").reports["theil"]
    np.testing.assert_allclose(weighted.total, weighted.between + weighted.within, atol=1e-15)
    assert not np.allclose(weighted.total, th.total)


def test_divide_2022_surveys_join_the_2021_wave(panel: xr.DataArray) -> None:
    res = dd.build(panel, countries=["ETH", "IND"], years=2021)
    ratio = value(panel, "ETH", 2022, "account_f") / value(panel, "ETH", 2022, "account_m")
    got = res.scores.sel(unit="ETH", time=2021, node="gender_account").item()
    assert got == pytest.approx(100 * min(ratio, 1.0), rel=1e-12)
    waves = res.reports["waves"].set_index("unit")
    assert waves.loc["ETH", "survey_year"] == 2022 and waves.loc["IND", "survey_year"] == 2021
    off = dd.build(panel, countries=["ETH", "IND"], years=2021, merge_2022=False)
    assert np.isnan(off.scores.sel(unit="ETH", time=2021, node="DDI").item())


def test_divide_needs_findex_for_an_index(panel: xr.DataArray) -> None:
    # Angola has internet data but no Findex 2021: no DDI from one pillar of six
    res = dd.build(panel, countries=["AGO", "BRA"], years=2021)
    assert not np.isnan(res.scores.sel(unit="AGO", time=2021, node="internet_frontier").item())
    assert np.isnan(res.scores.sel(unit="AGO", time=2021, node="DDI").item())
    loose = dd.build(panel, countries=["AGO", "BRA"], years=2021, dat_thresh=None)
    assert not np.isnan(loose.scores.sel(unit="AGO", time=2021, node="DDI").item())


def test_divide_default_build_covers_the_waves(panel: xr.DataArray) -> None:
    res = dd.build(panel)
    assert res.scores["time"].values.tolist() == [2011, 2014, 2017, 2021]
    assert {"BRA", "RUS", "IND", "CHN", "ZAF", "USA"} <= set(res.scores["unit"].values)
    assert res.reports["dropped"] == []
    s = res.scores.sel(node="DDI")
    assert float(s.min()) >= 0 and float(s.max()) <= 100
    assert bool(s.sel(time=2011).notnull().any())  # accounts and internet only in 2011


def test_divide_bad_input(panel: xr.DataArray) -> None:
    with pytest.raises(InvalidParameterError, match=r"unknown option\(s\) \['weighting'\]"):
        dd.build(panel, weighting="equal")
    with pytest.raises(InvalidParameterError, match="'payments'"):
        dd.build(panel, payments=[])
    with pytest.raises(InvalidParameterError, match="'frontier'"):
        dd.build(panel, frontier=0)
    with pytest.raises(InvalidParameterError, match="'theil_weights'"):
        dd.build(panel, theil_weights="gdp")
    with pytest.raises(InvalidParameterError, match="'symmetric'"):
        dd.prepare(panel, symmetric="yes")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="bills_online_f"):
        dd.build(panel.drop_sel(indicator="bills_online_f"))
    with pytest.raises(DataError, match="unknown countries"):
        dd.build(panel, countries=["BRA", "Atlantis"])


# ============================================================== from_microdata
def _population(rng: np.random.Generator, n: int = 60_000) -> pd.DataFrame:
    """Firms with known size-class shares of each outcome."""
    size = rng.choice(["10-49", "50-249", "GE250"], size=n, p=[0.8, 0.15, 0.05])
    p_web = pd.Series({"10-49": 0.20, "50-249": 0.35, "GE250": 0.60})[size].to_numpy()
    p_sell = pd.Series({"10-49": 0.10, "50-249": 0.25, "GE250": 0.45})[size].to_numpy()
    return pd.DataFrame(
        {
            "size": size,
            "c22b": (rng.random(n) < p_web).astype(int),
            "sell": (rng.random(n) < p_sell).astype(int),
        }
    )


def _stratified_sample(pop: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """SRS without replacement within size strata, oversampling large firms."""
    take = {"10-49": 400, "50-249": 250, "GE250": 200}
    parts = []
    for size, n_h in take.items():
        stratum = pop[pop["size"] == size]
        rows = stratum.iloc[rng.choice(len(stratum), n_h, replace=False)].copy()
        rows["w"] = len(stratum) / n_h
        parts.append(rows)
    return pd.concat(parts, ignore_index=True)


def test_microdata_recovers_known_shares() -> None:
    rng = np.random.default_rng(20170801)
    pop = _population(rng)
    truth = pop.groupby("size")[["c22b", "sell"]].mean() * 100
    sample = _stratified_sample(pop, rng)
    out = from_microdata(
        sample,
        size="size",
        weight="w",
        outcomes=["c22b", "sell"],
        strata="size",
        country="IND",
        year=2022,
    )
    table = out.table.set_index(["outcome", "size"])
    for outcome in ("c22b", "sell"):
        for size in truth.index:
            est, se = table.loc[(outcome, size), ["estimate", "se"]]
            assert abs(est - truth.loc[size, outcome]) < 4 * se
            n_h = (sample["size"] == size).sum()
            p = est / 100  # with one stratum per class the SE is the SRS one
            assert se == pytest.approx(100 * math.sqrt(p * (1 - p) / (n_h - 1)), rel=1e-10)
    assert (
        out.panel.sel(unit="IND", time=2022, indicator="c22b|GE250").item()
        == (table.loc[("c22b", "GE250"), "estimate"])
    )


def test_microdata_standard_errors_cover_the_truth() -> None:
    """Over repeated samples, 95 % intervals cover the known shares ~95 % of the time."""
    rng = np.random.default_rng(7)
    pop = _population(rng, 30_000)
    truth = pop.groupby("size")["c22b"].mean() * 100
    hits, ests, ses = [], [], []
    for _ in range(150):
        sample = _stratified_sample(pop, rng)
        t = from_microdata(
            sample, size="size", weight="w", outcomes="c22b", strata="size", total=True
        ).table.set_index("size")
        est, se = t.loc["10-49", "estimate"], t.loc["10-49", "se"]
        hits.append(abs(est - truth["10-49"]) <= 1.96 * se)
        ests.append(t.loc["total", "estimate"])
        ses.append(t.loc["total", "se"])
    assert 0.88 <= np.mean(hits) <= 0.99
    assert np.mean(ses) / np.std(ests, ddof=1) == pytest.approx(1.0, abs=0.15)
    assert np.mean(ests) == pytest.approx(pop["c22b"].mean() * 100, abs=0.5)


def test_microdata_stratified_cluster_se_by_hand() -> None:
    # stratum A: PSU 1 = two small firms, PSU 2 = one large; stratum B: PSU 3 = one small,
    # PSU 4 = one small and one large.
    firms = pd.DataFrame(
        {
            "a4a": ["A", "A", "A", "B", "B", "B"],
            "psu": [1, 1, 2, 1, 2, 2],  # PSU labels are read within strata
            "size": ["S", "S", "L", "S", "S", "L"],
            "w": [1.0, 1.0, 2.0, 3.0, 1.0, 2.0],
            "y": [1, 0, 1, 0, 1, 0],
        }
    )
    out = from_microdata(
        firms, size="size", weight="w", outcomes="y", strata="a4a", psu="psu", percent=False
    ).table.set_index("size")
    # small firms: W = 6, p = 2/6; z = w (y - p) / W = 1/9, -1/18, -1/6, 1/9;
    # PSU totals 1/18, 0 | -1/6, 1/9; V = 2 * 2 / 36**2 + 2 * 50 / 36**2 = 13/162
    assert out.loc["S", "estimate"] == pytest.approx(1 / 3, rel=1e-15)
    assert out.loc["S", "se"] == pytest.approx(math.sqrt(13 / 162), rel=1e-14)
    assert out.loc["S", "n"] == 4 and out.loc["S", "weighted_n"] == 6.0
    assert out.loc["S", "df"] == 4 - 2 and out.loc["S", "n_psu"] == 4
    # large firms: p = 2/4; z = 2 (1/2) / 4 = 1/4 (PSU 2), 2 (-1/2) / 4 = -1/4 (PSU 4)
    # stratum A totals 0, 1/4 and B 0, -1/4: V = 2 (2/64) + 2 (2/64) = 1/8
    assert out.loc["L", "estimate"] == 0.5
    assert out.loc["L", "se"] == pytest.approx(math.sqrt(1 / 8), rel=1e-14)


def test_microdata_matches_statsmodels() -> None:
    rng = np.random.default_rng(3)
    n = 300
    firms = pd.DataFrame(
        {
            "size": rng.choice(["small", "medium", "large"], n),
            "w": rng.uniform(1, 20, n),
            "y": rng.integers(0, 2, n),
            "cluster": rng.integers(0, 25, n),
        }
    )
    kw = {"size": "size", "weight": "w", "outcomes": "y", "total": True, "percent": False}
    srs = from_microdata(firms, **kw).table.set_index("size")
    clus = from_microdata(firms, psu="cluster", **kw).table.set_index("size")
    one = np.ones((n, 1))
    # the whole sample: HC1 (no design) and cluster-robust (PSUs) SEs of a weighted mean
    hc1 = sm.WLS(firms["y"], one, weights=firms["w"]).fit(cov_type="HC1")
    assert srs.loc["total", "estimate"] == pytest.approx(hc1.params.iloc[0], rel=1e-13)
    assert srs.loc["total", "se"] == pytest.approx(hc1.bse.iloc[0], rel=1e-12)
    cl = sm.WLS(firms["y"], one, weights=firms["w"]).fit(
        cov_type="cluster", cov_kwds={"groups": firms["cluster"]}
    )
    assert clus.loc["total", "se"] == pytest.approx(cl.bse.iloc[0], rel=1e-12)
    # size classes (domains): class dummies, with statsmodels' small-sample factors undone
    dummies = pd.get_dummies(firms["size"]).astype(float)
    hc0 = sm.WLS(firms["y"], dummies, weights=firms["w"]).fit(cov_type="HC0")
    clk = sm.WLS(firms["y"], dummies, weights=firms["w"]).fit(
        cov_type="cluster", cov_kwds={"groups": firms["cluster"]}
    )
    for size in dummies.columns:
        assert srs.loc[size, "estimate"] == pytest.approx(hc0.params[size], rel=1e-13)
        assert srs.loc[size, "se"] == pytest.approx(hc0.bse[size] * math.sqrt(n / (n - 1)))
        k = dummies.shape[1]
        assert clus.loc[size, "se"] == pytest.approx(clk.bse[size] / math.sqrt((n - 1) / (n - k)))
        # weighted mean and its frequency-weight statistics in the class
        sub = firms[firms["size"] == size]
        assert srs.loc[size, "estimate"] == pytest.approx(
            DescrStatsW(sub["y"].to_numpy(float), weights=sub["w"].to_numpy()).mean, rel=1e-13
        )
    # equal weights: the textbook SE of a proportion = DescrStatsW's std_mean (ddof=0)
    equal = from_microdata(firms.assign(w=1.0), **kw).table.set_index("size")
    stats = DescrStatsW(firms["y"].to_numpy(float), ddof=0)
    assert equal.loc["total", "se"] == pytest.approx(stats.std_mean, rel=1e-12)


def test_microdata_lonely_psu() -> None:
    firms = pd.DataFrame(
        {
            "strata": ["A", "A", "A", "B"],
            "size": ["S", "S", "S", "S"],
            "w": [1.0, 2.0, 1.0, 4.0],
            "y": [1, 0, 1, 1],
        }
    )
    kw = {"size": "size", "weight": "w", "outcomes": "y", "strata": "strata"}
    with pytest.raises(DataError, match=r"single PSU.*lonely_psu"):
        from_microdata(firms, **kw)
    removed = from_microdata(firms, lonely_psu="remove", **kw).table["se"].item()
    scaled = from_microdata(firms, lonely_psu="scaled", **kw).table["se"].item()
    assert scaled == pytest.approx(removed * math.sqrt(2 / 1), rel=1e-14)  # H / H_multi
    # "remove": stratum B adds nothing, stratum A as by hand
    w, y = firms["w"].to_numpy(), firms["y"].to_numpy(float)
    p = (w * y).sum() / w.sum()
    z = w[:3] * (y[:3] - p) / w.sum()
    assert removed == pytest.approx(100 * math.sqrt(3 / 2 * ((z - z.mean()) ** 2).sum()))


def test_microdata_wbes_layout_bins_and_panel() -> None:
    firms = pd.DataFrame(
        {
            "idstd": range(8),
            "a1": ["BRA"] * 4 + ["IND"] * 4,
            "year": [2023] * 4 + [2022] * 4,
            "l1": [12, 30, 60, 400, 9, 15, 120, 251],
            "wmedian": [10.0, 10.0, 3.0, 1.0, 5.0, 5.0, 2.0, 1.0],
            "c22b": [1, 2, 1, 1, -9, 2, 1, 2],
        }
    )
    out = from_microdata(
        firms,
        size="l1",
        bins="eurostat",
        weight="wmedian",
        outcomes="c22b",
        coding="wbes",
        country="a1",
        year="year",
    )
    t = out.table.set_index(["country", "size"])
    assert t.loc[("BRA", "10-49"), "estimate"] == 50.0
    assert t.loc[("IND", "1-9"), "n"] == 0 and np.isnan(t.loc[("IND", "1-9"), "estimate"])
    assert t.loc[("IND", "GE250"), "estimate"] == 0.0
    assert out.panel.dims == ("unit", "time", "indicator")
    assert out.panel["indicator"].values.tolist() == [f"c22b|{s}" for s in SIZE_BINS["eurostat"]]
    assert out.panel.sel(unit="BRA", time=2023, indicator="c22b|50-249").item() == 100.0
    assert np.isnan(out.panel.sel(unit="BRA", time=2022).values).all()  # not surveyed
    assert out.se.sel(unit="IND", time=2022, indicator="c22b|10-49").item() == 0.0
    # WBES sampling strata a6a coded 1/2/3, mapped to labels
    coded = firms.assign(a6a=[1, 2, 2, 3, 1, 1, 3, 3])
    m = from_microdata(
        coded,
        size="a6a",
        classes={1: "5-19", 2: "20-99", 3: "GE100"},
        weight="wmedian",
        outcomes="c22b",
        coding="wbes",
    )
    assert m.table["size"].tolist() == ["5-19", "20-99", "GE100"]
    assert m.panel.dims == ("unit", "indicator") and m.panel["unit"].item() == "all"


@pytest.mark.parametrize(
    ("change", "kwargs", "match"),
    [
        (lambda f: f.drop(columns=["w"]), {}, r"no column\(s\) weight=\['w'\]"),
        (
            lambda f: f,
            {"outcomes": ["y", "c22a"], "strata": "a4a"},
            r"outcomes=\['c22a'\]; strata=\['a4a'\]",
        ),
        (lambda f: f.assign(w=[1.0, 0.0, 2.0, 1.0]), {}, "weight column 'w'.*zero or negative"),
        (lambda f: f.assign(w=[1.0, np.nan, 2.0, 1.0]), {}, "weight column 'w'"),
        (lambda f: f.assign(w=[1.0, -3.0, 2.0, 1.0]), {}, "weight column 'w'"),
        (
            lambda f: f.assign(size=["S", "XL", "S", "M"]),
            {"classes": ["S", "M"]},
            r"size column 'size' holds unknown size classes \['XL'\]",
        ),
        (lambda f: f.assign(size=["S", None, "S", "M"]), {}, "size column 'size' is missing"),
        (lambda f: f.assign(y=[1, 2, 0, 1]), {}, "outcome column 'y'.*coding='wbes'"),
        (lambda f: f.assign(y=["yes", "no", "no", "yes"]), {}, "outcome column 'y'"),
        (
            lambda f: f.assign(emp=[3, -9, 20, 300]),
            {"size": "emp", "bins": "eurostat"},
            "size column 'emp'.*missing, negative",
        ),
        (lambda f: f.assign(s=["A", None, "B", "B"]), {"strata": "s"}, "strata column 's'"),
        (lambda f: f.iloc[:0], {}, "no rows"),
    ],
)
def test_microdata_bad_input_names_the_column(change: object, kwargs: dict, match: str) -> None:
    firms = pd.DataFrame(
        {"size": ["S", "M", "S", "M"], "w": [1.0, 1.0, 2.0, 1.0], "y": [1, 0, 0, 1]}
    )
    args = {"size": "size", "weight": "w", "outcomes": "y", **kwargs}
    with pytest.raises(DataError, match=match):
        from_microdata(change(firms), **args)  # type: ignore[operator]


def test_microdata_bad_parameters() -> None:
    firms = pd.DataFrame({"size": ["S", "M"], "w": [1.0, 1.0], "y": [1, 0]})
    kw = {"size": "size", "weight": "w", "outcomes": "y"}
    with pytest.raises(InvalidParameterError, match="'firms'"):
        from_microdata(firms.to_numpy(), **kw)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="'coding'"):
        from_microdata(firms, coding="yesno", **kw)
    with pytest.raises(InvalidParameterError, match="'lonely_psu'"):
        from_microdata(firms, lonely_psu="adjust", **kw)
    with pytest.raises(InvalidParameterError, match="'bins'"):
        from_microdata(firms, bins="oecd", **kw)
    with pytest.raises(InvalidParameterError, match="not both"):
        from_microdata(firms, bins="wbes", classes=["S"], **kw)
    with pytest.raises(InvalidParameterError, match="'outcomes'"):
        from_microdata(firms, size="size", weight="w", outcomes=[])
    with pytest.raises(DataError, match=r"year=2022\.5"):
        from_microdata(firms, year=2022.5, **kw)  # type: ignore[arg-type]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = from_microdata(firms, percent=False, **kw)
    assert out.table["estimate"].tolist() == [0.0, 1.0]
