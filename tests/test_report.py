"""``brics-ecom report`` and the other commands, end to end on the bundled data.

The report is built once (module fixture, 50 draws for the rank intervals) and its CSV,
Excel and HTML outputs are checked against direct ``frameworks.build`` computations. The
HTML is also opened in headless Chromium (through the DevTools protocol on a pipe, no
extra package): it must render every section with no console error.
"""

from __future__ import annotations

import base64
import contextlib
import doctest
import fcntl
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import brics_ecom as be
from brics_ecom import frameworks, report
from brics_ecom.cli import main
from brics_ecom.panel import to_long
from brics_ecom.uncertainty import Factor, uncertainty

FRAMEWORKS = ["unctad_b2c", "ecommerce_dynamism", "msme_participation", "digital_divide"]
TITLES = {
    "unctad_b2c": "UNCTAD B2C E-commerce Index (three-component variant)",
    "ecommerce_dynamism": "E-commerce dynamism (level and momentum)",
    "msme_participation": "MSME participation in e-commerce",
    "digital_divide": "Digital Divide Index",
}
DRAWS = 50
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The report on the bundled data with the default countries and years."""
    out = tmp_path_factory.mktemp("report") / "brics_report"
    rc = main(["report", "--out", str(out), "--uncertainty", str(DRAWS), "--quiet"])
    assert rc == 0
    return out


@pytest.fixture(scope="module")
def direct():
    """The same four indices computed directly."""
    return {name: frameworks.build(name) for name in FRAMEWORKS}


# ---------------------------------------------------------------------------- files
def test_output_files(built, direct):
    names = {p.name for p in built.iterdir()}
    for name, res in direct.items():
        for level in res.spec.levels:
            assert f"{name}_level{level}.csv" in names
        assert f"{name}_rank_intervals.csv" in names
    assert {
        "report.html",
        "brics_report.xlsx",
        "ecommerce_dynamism_quadrants.csv",
        "msme_participation_parity.csv",
        "digital_divide_gaps.csv",
        "digital_divide_theil.csv",
    } <= names


@pytest.mark.parametrize("name", FRAMEWORKS)
def test_csv_numbers_equal_a_direct_build(built, direct, name):
    res = direct[name]
    for level in res.spec.levels:
        table = pd.read_csv(built / f"{name}_level{level}.csv")
        assert set(table["node"]) == {
            c for c in res.spec.level_codes(level) if c in res.scores["node"].values
        }
        assert (table["framework"] == name).all() and (table["level"] == level).all()
        expected = res.scores.to_series().rename("score").reset_index()
        merged = table.merge(expected, on=["unit", "time", "node"], suffixes=("", "_direct"))
        assert len(merged) == len(table)
        np.testing.assert_allclose(merged["score"], merged["score_direct"], rtol=1e-12)
        ranks = res.ranks.to_series().rename("rank").reset_index()
        merged = table.merge(ranks, on=["unit", "time", "node"], suffixes=("", "_direct"))
        np.testing.assert_array_equal(
            merged["rank"].fillna(-1).to_numpy(), merged["rank_direct"].fillna(-1).to_numpy()
        )


def test_b2c_index_and_ranks_of_bra_ind_chn(built, direct):
    table = pd.read_csv(built / "unctad_b2c_level2.csv")
    res = direct["unctad_b2c"]
    year = int(res.scores["time"].values[-1])
    for unit in ("BRA", "IND", "CHN"):
        row = table[(table["unit"] == unit) & (table["time"] == year)].iloc[0]
        assert row["node"] == "B2C_3" and bool(row["brics_member"])
        assert row["score"] == pytest.approx(
            res.scores.sel(unit=unit, time=year, node="B2C_3").item(), rel=1e-12
        )
        assert row["rank"] == int(res.ranks.sel(unit=unit, time=year, node="B2C_3"))


def test_level1_input_is_the_prepared_value(built, direct):
    table = pd.read_csv(built / "unctad_b2c_level1.csv")
    res = direct["unctad_b2c"]
    row = table[(table["unit"] == "IND") & (table["node"] == "account")].iloc[0]
    assert row["input"] == res.data["raw"].sel(unit="IND", indicator="account").item()


def test_rank_intervals_equal_a_direct_uncertainty_analysis(built, direct):
    res = direct["ecommerce_dynamism"]
    year = int(res.scores["time"].values[-1])
    factor = Factor.weights(noise_factor=report.WEIGHT_NOISE, per_draw=True)
    ua = uncertainty(res.pipeline, res, [factor], n=DRAWS, rng=0, time=year, progress=False)
    expected = ua.to_frame()
    table = pd.read_csv(built / "ecommerce_dynamism_rank_intervals.csv").set_index("unit")
    for col in ("score_nominal", "rank_q5", "rank_q95", "rank_median"):
        np.testing.assert_allclose(table.loc[expected.index, col], expected[col], rtol=1e-12)
    assert (table["rank_q5"] <= table["rank_nominal"]).all()
    assert (table["rank_nominal"] <= table["rank_q95"]).all()


def test_framework_extra_tables(built, direct):
    quad = pd.read_csv(built / "ecommerce_dynamism_quadrants.csv")
    assert set(quad["state"]) <= {"stand out", "break out", "stall out", "watch out"}
    parity = pd.read_csv(built / "msme_participation_parity.csv")
    assert len(parity) == len(direct["msme_participation"].reports["parity"])
    theil = pd.read_csv(built / "digital_divide_theil.csv")
    np.testing.assert_allclose(theil["total"], theil["between"] + theil["within"], rtol=1e-12)


# ---------------------------------------------------------------------------- excel
def test_excel_sheets_and_values(built):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.load_workbook(built / "brics_report.xlsx", read_only=True)
    expected = ["About"]
    for name in FRAMEWORKS:
        levels = sorted(int(p.stem.rsplit("level", 1)[1]) for p in built.glob(f"{name}_level*.csv"))
        expected += [f"{name} L{lvl}" for lvl in levels] + [f"{name} intervals"]
    assert book.sheetnames == expected
    book.close()
    sheet = pd.read_excel(built / "brics_report.xlsx", sheet_name="unctad_b2c L2")
    csv = pd.read_csv(built / "unctad_b2c_level2.csv")
    np.testing.assert_allclose(sheet["score"], csv["score"], rtol=1e-12)
    assert sheet["unit"].tolist() == csv["unit"].tolist()
    about = pd.read_excel(built / "brics_report.xlsx", sheet_name="About")
    items = dict(zip(about["item"], about["value"], strict=True))
    assert items["brics_ecom"] == be.__version__
    assert items["command"].startswith("brics-ecom report --out ")


# ---------------------------------------------------------------------------- html
def _html(built: Path) -> str:
    return (built / "report.html").read_text(encoding="utf-8")


def test_html_is_self_contained(built):
    page = _html(built)
    assert "<script" not in page.lower()
    assert "<link" not in page.lower()
    assert "<iframe" not in page.lower()
    assert not re.search(r"url\(", page)
    # every resource is inline; every link stays in the page. Source addresses are given as
    # plain text (never as src/href), so the report opens offline.
    srcs = re.findall(r'\bsrc="([^"]*)"', page)
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs)
    hrefs = re.findall(r'\bhref="([^"]*)"', page)
    assert hrefs and all(h.startswith("#") for h in hrefs)
    assert not re.search(r'(src|href)\s*=\s*["\']?\s*(https?:)?//', page)
    for src in srcs:
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    anchors = set(re.findall(r'\bid="([^"]+)"', page))
    assert {h[1:] for h in hrefs} <= anchors


def test_html_has_every_section(built, direct):
    page = _html(built)
    for anchor in ["overview", *FRAMEWORKS, "sources", "provenance"]:
        assert f'<section id="{anchor}">' in page
    for title in TITLES.values():
        assert f"<h2>{title}</h2>" in page
    for heading in ("What it measures", "Results", "Ranking", "State × momentum",
                    "Small and medium firms against large ones", "Gaps over time",
                    "Inequality between countries"):  # fmt: skip
        assert f"<h3>{heading}</h3>" in page
    for alt in ("ranking of B2C_3", "ranking of ECOM_DYN", "ranking of MSME", "ranking of DDI",
                "state x momentum chart", "small/large parity chart",
                "gender and income parity over time", "Lorenz curves of internet use"):  # fmt: skip
        assert f'alt="{alt}"' in page
    assert "5–95% range of the score over 50 Monte Carlo draws" in page
    # the results tables carry the direct numbers
    b2c = direct["unctad_b2c"]
    year = int(b2c.scores["time"].values[-1])
    bra = b2c.scores.sel(unit="BRA", time=year, node="B2C_3").item()
    rank = int(b2c.ranks.sel(unit="BRA", time=year, node="B2C_3"))
    assert f'<td>Brazil</td><td class="num">{rank}</td>' in page
    assert f"{bra:.1f}" in page


def test_html_sources_and_provenance(built):
    page = _html(built)
    sources = be.datasets.describe_sources()
    for name in ("wdi_digital", "findex", "eurostat_ecommerce_by_size"):
        assert f"<th>{name}</th>" in page
        assert sources.loc[name, "upstream"] in page  # as text
    assert "CC BY 4.0" in page
    assert f"brics-ecom report --out {built} --uncertainty {DRAWS} --quiet" in page
    assert f"brics_ecom {be.__version__}" in page
    panel = be.datasets.load_brics_panel(indicators="IT.NET.USER.ZS")
    assert f"<dt>data as of</dt><dd>{panel.attrs['data_as_of']}</dd>" in page
    assert re.search(r"<dt>generated</dt><dd>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ</dd>", page)


# ---------------------------------------------------------------------------- chromium
def _chromium_render(url: str, timeout: float = 60.0) -> tuple[dict, list[dict]]:
    """Open ``url`` in headless Chromium over the DevTools protocol (``--remote-debugging-pipe``).

    Returns what the page shows (title, headings, whether every image decoded) and the
    console errors, uncaught exceptions and error log entries (e.g. failed loads).
    """
    profile = tempfile.mkdtemp(prefix="brics-chromium-")
    to_child_r, to_child_w = os.pipe()
    from_child_r, from_child_w = os.pipe()
    # Chromium reads commands on fd 3 and answers on fd 4: a small Python trampoline moves
    # the child's ends there (no preexec_fn, which is unsafe with threads) from fds >= 10.
    child_r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10)
    child_w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)
    for fd in (to_child_r, from_child_w):
        os.close(fd)
    trampoline = (
        "import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); "
        "os.closerange(5, 4096); os.execv(sys.argv[3], sys.argv[3:])"
    )
    args = [
        sys.executable, "-c", trampoline, str(child_r), str(child_w),
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={profile}", "--remote-debugging-pipe",
        "about:blank",
    ]  # fmt: skip
    proc = subprocess.Popen(
        args,
        pass_fds=(child_r, child_w),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(child_r)
    os.close(child_w)
    buffer = b""
    events: list[dict] = []
    counter = 0
    deadline = time.monotonic() + timeout

    def read_until(done, until: float | None = None) -> dict:
        nonlocal buffer
        stop = deadline if until is None else until
        while True:
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                if done(message):
                    return message
                events.append(message)
            left = stop - time.monotonic()
            if left <= 0:
                raise TimeoutError("Chromium did not answer in time")
            ready, _, _ = select.select([from_child_r], [], [], left)
            if ready:
                chunk = os.read(from_child_r, 1 << 20)
                if not chunk:
                    raise RuntimeError("Chromium closed the DevTools pipe")
                buffer += chunk

    def call(method: str, params: dict | None = None, session: str | None = None) -> dict:
        nonlocal counter
        counter += 1
        message = {"id": counter, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        os.write(to_child_w, json.dumps(message).encode() + b"\0")
        ident = counter
        answer = read_until(lambda m: m.get("id") == ident)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]

    try:
        target = call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = call("Target.attachToTarget", {"targetId": target, "flatten": True})
        sid = session["sessionId"]
        for domain in ("Page.enable", "Runtime.enable", "Log.enable"):
            call(domain, session=sid)
        call("Page.navigate", {"url": url}, session=sid)
        read_until(lambda m: m.get("method") == "Page.loadEventFired")
        probe = (
            "JSON.stringify({title: document.title,"
            " h2: [...document.querySelectorAll('h2')].map(e => e.textContent),"
            " h3: [...document.querySelectorAll('h3')].map(e => e.textContent),"
            " images: [...document.images].map(i => i.complete && i.naturalWidth > 0),"
            " tables: document.querySelectorAll('table').length,"
            " external: [...document.querySelectorAll('[src],[href]')]"
            ".map(e => e.getAttribute('src') || e.getAttribute('href'))"
            ".filter(u => !u.startsWith('data:') && !u.startsWith('#'))})"
        )
        value = call("Runtime.evaluate", {"expression": probe, "returnByValue": True}, sid)
        page = json.loads(value["result"]["value"])
        with contextlib.suppress(TimeoutError):  # late console messages, for half a second
            read_until(lambda m: False, until=time.monotonic() + 0.5)
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            call("Browser.close")
    finally:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        os.close(to_child_w)
        os.close(from_child_r)
        shutil.rmtree(profile, ignore_errors=True)
    problems = [
        e
        for e in events
        if e.get("method") == "Runtime.exceptionThrown"
        or (
            e.get("method") == "Runtime.consoleAPICalled"
            and e["params"].get("type") in ("error", "assert", "warning")
        )
        or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")
    ]
    return page, problems


@pytest.mark.skipif(
    not (sys.platform.startswith("linux") and Path(CHROMIUM).is_file()),
    reason=f"{CHROMIUM} not found; .ci/run installs Debian's chromium",
)
def test_report_renders_in_headless_chromium(built):
    page, problems = _chromium_render((built / "report.html").resolve().as_uri())
    assert problems == []
    assert page["title"] == "BRICS e-commerce indices"
    assert page["h2"] == [
        "Overview",
        *TITLES.values(),
        "Data sources and licences",
        "How this report was made",
    ]
    assert "State × momentum" in page["h3"] and "Gaps over time" in page["h3"]
    assert len(page["images"]) >= 10 and all(page["images"])
    assert page["tables"] >= 8
    assert page["external"] == []


def test_chromium_probe_sees_console_errors(tmp_path):
    """The check above would see a broken page: a script error, a missing image."""
    if not (sys.platform.startswith("linux") and Path(CHROMIUM).is_file()):
        pytest.skip(f"{CHROMIUM} not found; .ci/run installs Debian's chromium")
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<!DOCTYPE html><title>x</title><img src='missing.png'>"
        "<script>console.error('boom'); undefined_function();</script>"
    )
    page, problems = _chromium_render(bad.as_uri())
    kinds = {p["method"] for p in problems}
    assert kinds == {"Runtime.consoleAPICalled", "Runtime.exceptionThrown", "Log.entryAdded"}
    assert page["images"] == [False]


# ---------------------------------------------------------------------------- progress, options
def test_progress_lines_on_stderr_and_quiet(tmp_path, capsys):
    args = ["report", "--frameworks", "unctad_b2c", "--uncertainty", "0", "--no-excel"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert lines[0] == "brics-ecom report: [1/4] loading the bundled BRICS+ panel"
    assert "brics-ecom report: [2/4] building unctad_b2c" in lines
    assert lines[-2].startswith("brics-ecom report: done in ")
    assert main([*args, "--out", str(tmp_path / "b"), "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_countries_comparators_and_years(tmp_path):
    out = tmp_path / "o"
    rc = main(["report", "--out", str(out), "--frameworks", "unctad_b2c,ecommerce_dynamism",
               "--comparators", "USA,MEX", "--years", "2019-2021", "--uncertainty", "0",
               "--no-html", "--no-excel", "-q"])  # fmt: skip
    assert rc == 0
    table = pd.read_csv(out / "unctad_b2c_level2.csv")
    assert set(table["time"]) == {2019, 2020, 2021}
    expected = frameworks.default_countries(None, comparators=["USA", "MEX"])
    assert set(table["unit"]) == set(expected)
    res = frameworks.build("unctad_b2c", comparators=["USA", "MEX"], years=range(2019, 2022))
    np.testing.assert_allclose(
        table.sort_values(["time", "unit"])["score"],
        res.scores.sel(node="B2C_3").to_series().sort_index(level=["time", "unit"]).to_numpy(),
        rtol=1e-12,
    )
    rc = main(["report", "--out", str(tmp_path / "p"), "--frameworks", "digital_divide",
               "--countries", "BRICS,Germany", "--uncertainty", "0", "--no-html",
               "--no-excel", "-q"])  # fmt: skip
    assert rc == 0
    units = set(pd.read_csv(tmp_path / "p" / "digital_divide_level3.csv")["unit"])
    assert units == {*be.groups.members("BRICS"), "DEU"}


def test_skipped_framework_is_a_note_not_a_failure(tmp_path, capsys):
    out = tmp_path / "o"
    rc = main(["report", "--out", str(out), "--countries", "BRA,IND,CHN", "--uncertainty", "0",
               "--no-excel", "-q"])  # fmt: skip
    assert rc == 0
    assert "skipped msme_participation" in capsys.readouterr().err
    assert "Not built for this selection" in (out / "report.html").read_text()
    assert not list(out.glob("msme_participation_*.csv"))


def test_user_panel_file(tmp_path):
    panel = be.datasets.load_brics_panel(
        years=range(2015, 2023), indicators=["IT.NET.USER.ZS", "account_t", "IT.NET.SECR.P6"]
    )
    long = to_long(panel)[["unit", "time", "indicator", "value"]]
    long.to_csv(tmp_path / "mine.csv", index=False)
    out = tmp_path / "o"
    rc = main(["report", "--data", str(tmp_path / "mine.csv"), "--out", str(out),
               "--uncertainty", "0", "--no-excel", "-q"])  # fmt: skip
    assert rc == 0
    mine = report.read_panel_file(tmp_path / "mine.csv")
    res = frameworks.build("unctad_b2c", mine)
    table = pd.read_csv(out / "unctad_b2c_level2.csv")
    direct = res.scores.sel(node="B2C_3").to_series().rename("direct").reset_index()
    merged = table.merge(direct, on=["unit", "time"])
    np.testing.assert_allclose(merged["score"], merged["direct"], rtol=1e-12)
    page = (out / "report.html").read_text()
    assert "mine.csv" in page and page.count("Not built for this selection") == 3


# ---------------------------------------------------------------------------- missing extras
def test_missing_openpyxl_skips_the_workbook(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "openpyxl", None)
    out = tmp_path / "o"
    rc = main(["report", "--out", str(out), "--frameworks", "unctad_b2c", "--uncertainty", "0",
               "--no-html", "-q"])  # fmt: skip
    assert rc == 0
    err = capsys.readouterr().err
    assert "openpyxl is not installed" in err and "--no-excel" in err
    assert not (out / "brics_report.xlsx").exists()
    assert (out / "unctad_b2c_level2.csv").exists()
    rc = main(["report", "--out", str(out), "--frameworks", "unctad_b2c", "--uncertainty", "0",
               "--no-html", "--no-excel", "-q"])  # fmt: skip
    assert rc == 0 and capsys.readouterr().err == ""


def test_missing_matplotlib_gives_a_report_without_charts(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    out = tmp_path / "o"
    rc = main(["report", "--out", str(out), "--uncertainty", "0", "--no-excel", "-q"])
    assert rc == 0
    assert "matplotlib is not installed" in capsys.readouterr().err
    page = (out / "report.html").read_text()
    assert "<img" not in page and "Chart not drawn" in page
    assert all(f'<section id="{name}">' in page for name in FRAMEWORKS)


# ---------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--frameworks", "unctad_b2"], "unknown framework(s) ['unctad_b2'] (did you mean "
         "'unctad_b2c'?)"),
        (["--countries", "BRZ,IND"], "unknown countries ['BRZ']. Close matches: {'BRZ': "
         "[\"'Brazil' (BRA)\""),
        (["--comparators", "Atlantis"], "--comparators: unknown countries ['Atlantis']"),
        (["--years", "1900-1901"], "--years: [1900, 1901] outside the data's years 1960–"),
        (["--years", "twenty"], "--years: 'twenty' is not a year"),
        (["--data", "/no/such/file.csv"], "the data file '/no/such/file.csv' does not exist"),
        (["--extra-data", "/no/such/folder"], "--extra-data: '/no/such/folder' is not a folder"),
        (["--uncertainty", "1"], "must be 0 (no rank intervals) or at least 2; got 1"),
        (["--years", "2000", "--frameworks", "unctad_b2c"], "error: unctad_b2c.build: no economy "
         "has data for these components in these years"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, args, message):
    rc = main(["report", "--out", str(tmp_path / "o"), "-q", *args])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith("brics-ecom report: error: ")
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_unreadable_data_file(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"unit,time,indicator,value\nBRA,2020,x,abc\n")
    assert main(["report", "--data", str(bad), "--out", str(tmp_path / "o"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "'value' column is not numeric on lines [2]" in err and err.count("\n") == 1
    binary = tmp_path / "bin.csv"
    binary.write_bytes(bytes(range(256)) * 4)
    assert main(["report", "--data", str(binary), "--out", str(tmp_path / "o"), "-q"]) == 2
    assert "cannot read the data file" in capsys.readouterr().err


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["report", "--countries", "BRA", "--comparators", "USA"])
    assert info.value.code == 2
    assert "not allowed with argument --countries" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["report", "--top", "3"])
    assert info.value.code == 2
    assert "now 'brics-ecom example'" in capsys.readouterr().err


# ---------------------------------------------------------------------------- run
@pytest.fixture(scope="module")
def asem_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("asem")
    iData, _ = be.datasets.load_asem_tables()
    iData.to_csv(folder / "asem_wide.csv", index=False)
    panel, spec = be.datasets.load_asem()
    spec.to_yaml(folder / "asem_spec.yaml")
    be.Pipeline.coinr_example(spec).to_yaml(folder / "asem_pipeline.yaml")
    long = to_long(panel)[["unit", "time", "indicator", "value"]]
    den = be.panel.get_denominators(panel).to_series().rename("value").reset_index()
    den = den.rename(columns={"denominator": "indicator"})
    long = pd.concat([long, den], ignore_index=True)
    long["EurAsia_group"] = long["unit"].map(panel["EurAsia_group"].to_series())
    long.to_csv(folder / "asem_long.csv", index=False)
    expected = be.Pipeline.coinr_example(spec).run(panel)
    return folder, expected


@pytest.mark.parametrize(
    ("spec_file", "data_file", "extra"),
    [
        ("asem_spec.yaml", "asem_wide.csv", ["--impute-group", "EurAsia_group"]),
        ("asem_pipeline.yaml", "asem_wide.csv", []),
        ("asem_spec.yaml", "asem_long.csv", ["--impute-group", "EurAsia_group"]),
    ],
)
def test_run_reproduces_the_coinr_example(asem_files, tmp_path, spec_file, data_file, extra):
    folder, expected = asem_files
    out = tmp_path / "run"
    rc = main(["run", str(folder / spec_file), str(folder / data_file), "--out", str(out),
               "-q", *extra])  # fmt: skip
    assert rc == 0
    table = pd.read_csv(out / "results.csv", index_col="unit")
    index = expected.scores.sel(node="Index", time=2018).to_series()
    np.testing.assert_allclose(table["Index"], index.loc[table.index], rtol=1e-12)
    assert table["Rank"].tolist() == list(range(1, len(table) + 1))
    assert table.index[0] == "CHE"
    tidy = pd.read_csv(out / "scores.csv")
    assert set(tidy["level"]) == {1, 2, 3, 4}
    assert {p.name for p in out.iterdir()} == {
        "results.csv", "scores.csv", "pipeline.yaml", "results.xlsx", "report.html"
    }  # fmt: skip
    saved = be.Pipeline.from_yaml(out / "pipeline.yaml")
    assert saved == be.Pipeline.coinr_example(expected.spec)
    page = (out / "report.html").read_text()
    assert "<script" not in page and "ASEM Sustainable Connectivity" in page


def test_run_bad_inputs(asem_files, tmp_path, capsys):
    folder, _ = asem_files
    bad = tmp_path / "bad.yaml"
    bad.write_text("- just\n- a list\n")
    assert main(["run", str(bad), str(folder / "asem_wide.csv"), "-q"]) == 2
    assert "neither an index specification" in capsys.readouterr().err
    rc = main(["run", str(folder / "asem_spec.yaml"), str(folder / "asem_wide.csv"), "-q",
               "--impute-group", "Continent"])  # fmt: skip
    assert rc == 2
    assert "'Continent' is not a group of the index" in capsys.readouterr().err
    short = tmp_path / "short.csv"
    pd.read_csv(folder / "asem_wide.csv").drop(columns=["LPI"]).to_csv(short, index=False)
    assert main(["run", str(folder / "asem_spec.yaml"), str(short), "-q"]) == 2
    assert "lacks the indicators ['LPI']" in capsys.readouterr().err


# ---------------------------------------------------------------------------- listings
def test_frameworks_command(capsys):
    assert main(["frameworks"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[:4]] == sorted(FRAMEWORKS)
    assert lines[3].startswith("unctad_b2c          UNCTAD B2C E-commerce Index: B2C = ")
    assert "ECOM_DYN = Level + Momentum (16 indicators)" in lines[1]
    assert main(["frameworks", "digital_divide"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("digital_divide: Digital Divide Index\n")
    assert "gender_account" in out and "internet_frontier" in out
    assert main(["frameworks", "nope"]) == 2
    assert "got 'nope'" in capsys.readouterr().err


def test_data_command(capsys):
    assert main(["data"]) == 0
    out = capsys.readouterr().out
    table = be.datasets.brics_indicators()
    assert out.startswith(f"BRICS+ panel: {len(table)} indicators from 11 sources; ")
    assert re.search(r"^findex\s+bundled\s+\d+ indicators", out, flags=re.M)
    assert re.search(r"^itu_gci\s+extra", out, flags=re.M)
    assert out.count("licence: CC BY 4.0") == 5
    assert main(["data", "--indicators"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^IT\.NET\.USER\.ZS\s+wdi_digital\s+bundled", out, flags=re.M)


def test_example_command_keeps_the_asem_table(capsys, tmp_path):
    assert main(["example", "--top", "3", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("unit,uName,Rank,Index,")
    assert [line.split(",")[0] for line in lines[1:]] == ["CHE", "NLD", "DNK"]
    assert main(["example", "--top", "2", "--format", "markdown"]) == 0
    assert capsys.readouterr().out.startswith("| unit | uName | Rank | Index |")
    assert main(["example", "--what", "ranks", "-o", str(tmp_path / "t.txt")]) == 0
    assert "ASEM Sustainable Connectivity: 51 units" in (tmp_path / "t.txt").read_text()


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"brics_ecom {be.__version__}"


# ---------------------------------------------------------------------------- helpers
def test_parse_years():
    assert report.parse_years("2021") == [2021]
    assert report.parse_years("2019-2021, 2015") == [2015, 2019, 2020, 2021]
    assert report.parse_years([2021, 2017]) == [2017, 2021]
    with pytest.raises(be.errors.InvalidParameterError, match="runs backwards"):
        report.parse_years("2021-2019")


def test_read_panel_file_wide_and_long(tmp_path):
    wide = tmp_path / "wide.csv"
    wide.write_text("Country,ISO3,Year,x,y\nBrazil,BRA,2020,1,NA\nIndia,IND,2020,..,4.5\n")
    p = report.read_panel_file(wide)
    assert p["indicator"].values.tolist() == ["x", "y"]
    assert p["unit_name"].values.tolist() == ["Brazil", "India"]
    assert np.isnan(p.sel(unit="IND", indicator="x").item())
    assert p.attrs["source_file"].endswith("wide.csv") and len(p.attrs["sha256"]) == 64
    nounit = tmp_path / "nounit.csv"
    nounit.write_text("place,x\nA,1\n")
    with pytest.raises(be.errors.DataError, match="has no unit column"):
        report.read_panel_file(nounit)
    text = tmp_path / "text.csv"
    text.write_text("unit,region,x\nA,north,1\n")
    with pytest.raises(be.errors.DataError, match="column 'region' is not numeric on lines"):
        report.read_panel_file(text)


def test_doctests_of_the_new_modules():
    import brics_ecom.cli as cli

    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    for module in (report, cli):
        result = doctest.testmod(module, optionflags=flags)
        assert result.attempted > 0 and result.failed == 0, module.__name__
