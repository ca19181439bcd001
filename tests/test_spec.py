"""IndexSpec: accessors, YAML/table/iMeta round trips, validation and overrides."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy.stats import rankdata

import brics_ecom as be
from brics_ecom import panel as pn
from brics_ecom.errors import InvalidParameterError, SpecError
from brics_ecom.spec import IndexSpec, Node


def agg(code: str, **kw: object) -> Node:
    return Node(code, kind="aggregate", **kw)  # type: ignore[arg-type]


def rich_spec() -> IndexSpec:
    """Every field and kind used at least once."""
    return IndexSpec(
        [
            Node(
                "a",
                name="Alpha",
                parent="P",
                unit="%",
                target=90.0,
                goalposts=(0.0, 100.0),
                overrides={"normalise": {"method": "zscore", "sd": 2}, "treat": {"winmax": 0}},
            ),
            Node("b", parent="P", direction=-1, weight=2.5, denominator="pop"),
            Node("c", parent="Q", goalposts=(-5.0, 5.0)),
            agg("P", name="Pillar P", parent="I", weight=0.5),
            agg("Q", parent="I"),
            agg("I", name="The index"),
            Node("pop", kind="denominator", unit="thousands"),
            Node("region", kind="group"),
        ],
        name="demo",
    )


# ---------------------------------------------------------------------- accessors
def test_accessors_of_a_three_level_tree() -> None:
    s = rich_spec()
    assert s.indicators == ("a", "b", "c")
    assert s.aggregates == ("P", "Q", "I")
    assert s.codes == ("a", "b", "c", "P", "Q", "I")
    assert s.denominators == ("pop",) and s.groups == ("region",)
    assert s.root == "I" and s.max_level == 3 and s.levels == (1, 2, 3)
    assert s.children("I") == ("P", "Q") and s.children("a") == ()
    assert s.level_codes(2) == ("P", "Q")
    assert s.ancestor("b", 2) == "P" and s.ancestor("b", 3) == "I"
    assert s.descendants("I") == ("a", "b", "c")
    assert s.directions == {"a": 1, "b": -1, "c": 1, "P": 1, "Q": 1, "I": 1}
    assert s.weights["b"] == 2.5 and s.weights["P"] == 0.5
    assert s.targets == {"a": 90.0}
    assert s.overrides("treat") == {"a": {"winmax": 0}}
    assert s.node("pop").level is None
    assert "a" in s and "zz" not in s and len(s) == 8
    with pytest.raises(SpecError, match="'zz'"):
        s.node("zz")


def test_asem_spec_matches_imeta() -> None:
    _, meta = be.datasets.load_asem_tables()
    spec = IndexSpec.from_coinr(meta)
    ind = meta[meta["Type"] == "Indicator"]
    assert spec.indicators == tuple(ind["iCode"])
    assert spec.root == "Index" and spec.max_level == 4
    for row in meta[meta["Type"].isin(["Indicator", "Aggregate"])].itertuples():
        node = spec.node(row.iCode)
        assert node.level == row.Level and node.weight == row.Weight
        assert node.direction == row.Direction
        assert node.parent == (None if pd.isna(row.Parent) else row.Parent)
    assert spec.groups == ("GDP_group", "GDPpc_group", "Pop_group", "EurAsia_group")
    assert spec.node("Flights").denominator == "Population"


# ---------------------------------------------------------------------- round trips
def test_yaml_round_trip_string_and_file(tmp_path) -> None:
    s = rich_spec()
    text = s.to_yaml()
    back = IndexSpec.from_yaml(text)
    assert back == s and back.name == "demo"
    assert back.node("a").overrides["normalise"]["sd"] == 2
    assert back.node("a").goalposts == (0.0, 100.0)
    path = tmp_path / "spec.yaml"
    s.to_yaml(path)
    assert IndexSpec.from_yaml(path) == s
    assert IndexSpec.from_yaml(str(path)) == s
    _, asem = be.datasets.load_asem()
    assert IndexSpec.from_yaml(asem.to_yaml()) == asem


def test_table_round_trip_in_memory_and_through_csv(tmp_path) -> None:
    s = rich_spec()
    table = s.to_table()
    assert list(table["code"]) == [*s.codes, "pop", "region"]
    back = IndexSpec.from_table(table, name="demo")
    assert back == s
    for n_back, n in zip(back.nodes, s.nodes, strict=True):
        assert n_back.to_dict() == n.to_dict()
    path = tmp_path / "spec.csv"
    table.to_csv(path, index=False)
    from_csv = IndexSpec.from_table(pd.read_csv(path), name="demo")
    assert from_csv == s
    assert from_csv.node("a").overrides == s.node("a").overrides


def test_table_with_upper_case_columns_and_inferred_kinds() -> None:
    t = pd.DataFrame(
        {
            "CODE": ["x", "y", "I"],
            "Parent": ["I", "I", None],
            "Level": [1, 1, 2],
            "Weight": [1, 3, 1],
            "Direction": [1, -1, 1],
        }
    )
    s = IndexSpec.from_table(t)
    assert s.indicators == ("x", "y") and s.aggregates == ("I",)
    assert s.weights["y"] == 3.0 and s.directions["y"] == -1


def test_coinr_round_trip() -> None:
    s = rich_spec()
    meta = s.to_coinr()
    assert list(meta["Type"]) == [
        "Indicator",
        "Indicator",
        "Indicator",
        "Aggregate",
        "Aggregate",
        "Aggregate",
        "Denominator",
        "Group",
    ]
    back = IndexSpec.from_coinr(meta, name="demo")
    # iMeta has no per-node overrides and always names nodes (iName defaults to the code)
    expected = [Node(**{**n.to_dict(), "name": n.name or n.code, "overrides": {}}) for n in s.nodes]
    assert back.nodes == tuple(expected)
    assert back.node("c").goalposts == (-5.0, 5.0)
    _, asem = be.datasets.load_asem()
    assert IndexSpec.from_coinr(asem.to_coinr(), name=asem.name) == asem


def test_numpy_scalars_become_python_numbers() -> None:
    n = Node("a", parent="I", weight=np.int64(3), direction=np.float64(-1.0), target=np.float32(2))
    assert type(n.weight) is float and n.weight == 3.0
    assert type(n.direction) is int and n.direction == -1
    assert type(n.target) is float
    s = IndexSpec([n, agg("I")])
    assert IndexSpec.from_yaml(s.to_yaml()) == s
    assert hash(s) == hash(IndexSpec(s.nodes)) and len({s, IndexSpec(s.nodes)}) == 1


def test_modifiers_return_new_validated_specs() -> None:
    s = rich_spec()
    w = s.with_weights({"a": 4, "Q": 3})
    assert w.weights["a"] == 4.0 and w.weights["Q"] == 3.0 and s.weights["a"] == 1.0
    with pytest.raises(SpecError, match=r"\['zz'\]"):
        s.with_weights({"zz": 1})
    with pytest.raises(SpecError, match=r"'a'.*negative"):
        s.with_weights({"a": -1})
    sub = s.subset(["c"])
    assert sub.codes == ("c", "Q", "I") and sub.max_level == 3
    r = s.replace_node("b", direction=1)
    assert r.directions["b"] == 1 and s.directions["b"] == -1


# ---------------------------------------------------------------------- validation
CASES = [
    pytest.param(
        [Node("a", parent="I"), Node("a", parent="I"), agg("I")],
        "'a' appears more than once",
        id="duplicate",
    ),
    pytest.param(
        [Node("a", parent="I"), Node("b", parent="J"), agg("I"), agg("J")],
        r"one root.*\['I', 'J'\]",
        id="two roots",
    ),
    pytest.param(
        [
            Node("a", parent="P"),
            agg("P", parent="Q"),
            agg("Q", parent="P"),
            Node("b", parent="I"),
            agg("I"),
        ],
        "cycle: P -> Q -> P",
        id="cycle",
    ),
    pytest.param(
        [Node("a", parent="P"), agg("P", parent="P")],
        "cycle: P -> P",
        id="self cycle",
    ),
    pytest.param(
        [Node("a", parent="X"), Node("b", parent="I"), agg("I")],
        "'a' names the parent 'X'.*orphan",
        id="orphan",
    ),
    pytest.param(
        [Node("a", parent="I", direction=2), agg("I")],
        "'a' has direction 2",
        id="direction 2",
    ),
    pytest.param(
        [Node("a", parent="I", direction=0), agg("I")],
        "'a' has direction 0",
        id="direction 0",
    ),
    pytest.param(
        [Node("a", parent="I", direction=True), agg("I")],
        "'a' has direction True",
        id="direction bool",
    ),
    pytest.param(
        [Node("a", parent="I", direction="1"), agg("I")],  # type: ignore[arg-type]
        "'a' has direction '1'",
        id="direction str",
    ),
    pytest.param(
        [Node("a", parent="I", weight=float("nan")), agg("I")],
        "'a' has weight nan",
        id="weight nan",
    ),
    pytest.param(
        [Node("a", parent="I", weight=float("inf")), agg("I")],
        "'a' has weight inf",
        id="weight inf",
    ),
    pytest.param(
        [Node("a", parent="I", weight=-1), agg("I")],
        "'a' has negative weight",
        id="weight negative",
    ),
    pytest.param(
        [Node("a", parent="I", weight="2"), agg("I")],  # type: ignore[arg-type]
        "'a' has weight '2'",
        id="weight text",
    ),
    pytest.param(
        [Node("a", parent="I", weight=0), Node("b", parent="I", weight=0), agg("I")],
        r"children of 'I' \(a, b\) sum to 0",
        id="weights sum 0",
    ),
    pytest.param(
        [Node("a", parent="I", goalposts=(1, 1)), agg("I")],
        r"'a' has goalposts \(1.0, 1.0\)",
        id="goalposts equal",
    ),
    pytest.param(
        [Node("a", parent="I", goalposts=(5, 1)), agg("I")],
        r"'a' has goalposts \(5.0, 1.0\)",
        id="goalposts reversed",
    ),
    pytest.param(
        [Node("a", parent="I"), agg("I"), agg("E", parent="I")],
        "Aggregate 'E' has no children",
        id="empty aggregate",
    ),
    pytest.param(
        [Node("a", parent="I", kind="thing"), agg("I")],
        "'a' has kind 'thing'",
        id="bad kind",
    ),
    pytest.param(
        [Node("a", parent="d"), Node("d", kind="denominator"), Node("b", parent="I"), agg("I")],
        "'a' names 'd' as parent.*denominator",
        id="parent not aggregate",
    ),
    pytest.param(
        [Node("a", parent="I", level=2), agg("I", level=3), Node("b", parent="I")],
        "Indicator 'a' must be at level 1",
        id="indicator level",
    ),
    pytest.param(
        [Node("a", parent="I"), agg("I", level=1)],
        "'a' is at level 1 but its parent 'I' is at level 1",
        id="parent level",
    ),
    pytest.param(
        [agg("I", parent="J"), agg("J")],
        "Aggregate 'I' has no children",
        id="no indicators",
    ),
]


@pytest.mark.parametrize(("nodes", "match"), CASES)
def test_invalid_specs_name_the_code(nodes: list[Node], match: str) -> None:
    with pytest.raises(SpecError, match=match):
        IndexSpec(nodes)


def test_invalid_inputs_to_the_readers(tmp_path) -> None:
    with pytest.raises(SpecError, match=r"'a' has unknown fields \['wieght'\]"):
        IndexSpec.from_dict({"nodes": [{"code": "a", "wieght": 1}]})
    with pytest.raises(SpecError, match=r"Node number 1 .* no 'code'"):
        IndexSpec.from_dict({"nodes": [{"code": "a"}, {"parent": "a"}]})
    with pytest.raises(SpecError, match="'nodes' list"):
        IndexSpec.from_yaml("name: x\n")
    with pytest.raises(SpecError, match="does not exist"):
        IndexSpec.from_yaml(str(tmp_path / "missing.yaml"))
    with pytest.raises(SpecError, match="Could not parse"):
        IndexSpec.from_yaml("nodes: [\n  - {code: a\n")
    t = pd.DataFrame(
        {"code": ["a", "I"], "parent": ["I", None], "level": [1, 2], "goalpost_lower": [0.0, None]}
    )
    with pytest.raises(SpecError, match="'a' has only one goalpost"):
        IndexSpec.from_table(t)
    t = pd.DataFrame(
        {"code": ["a", "I"], "parent": ["I", None], "level": [1, 2], "direction": ["up", 1]}
    )
    with pytest.raises(SpecError, match="'a' has direction 'up'"):
        IndexSpec.from_table(t)
    t = pd.DataFrame(
        {"code": ["a", "I"], "parent": ["I", None], "level": [1, 2], "direction": [3, 1]}
    )
    with pytest.raises(SpecError, match="'a' has direction 3"):
        IndexSpec.from_table(t)
    t = pd.DataFrame(
        {"code": ["a", "I"], "parent": ["I", None], "level": [1, 2], "overrides": ["[1, 2]", None]}
    )
    with pytest.raises(SpecError, match="'a' has overrides"):
        IndexSpec.from_table(t)
    with pytest.raises(SpecError, match=r"lacks the columns \['Type'\]"):
        IndexSpec.from_coinr(pd.DataFrame({"iCode": ["a"]}))
    with pytest.raises(InvalidParameterError, match="DataFrame"):
        IndexSpec.from_table({"code": ["a"]})  # type: ignore[arg-type]


def test_imeta_with_bad_direction_or_weight_names_the_code() -> None:
    _, meta = be.datasets.load_asem_tables()
    bad = meta.copy()
    bad.loc[bad["iCode"] == "Goods", "Direction"] = 0
    with pytest.raises(SpecError, match="'Goods' has direction 0"):
        IndexSpec.from_coinr(bad)
    bad = meta.copy()
    bad.loc[bad["iCode"] == "Tariff", "Weight"] = -2
    with pytest.raises(SpecError, match="'Tariff' has negative weight"):
        IndexSpec.from_coinr(bad)
    bad = meta.copy()
    bad.loc[bad["iCode"] == "Tariff", "Parent"] = "Nowhere"
    with pytest.raises(SpecError, match="'Tariff' names the parent 'Nowhere'"):
        IndexSpec.from_coinr(bad)


# ---------------------------------------------------------------------- overrides
def three_indicator_panel() -> xr.DataArray:
    rng = np.random.default_rng(3)
    values = rng.lognormal(size=(12, 2, 3))
    return xr.DataArray(
        values,
        dims=pn.DIMS,
        coords={
            "unit": [f"u{i}" for i in range(12)],
            "time": [2020, 2021],
            "indicator": ["a", "b", "c"],
        },
    )


def test_node_normalise_override_replaces_the_global_method() -> None:
    x = three_indicator_panel()
    spec = IndexSpec(
        [
            Node(
                "a", parent="I", overrides={"normalise": {"method": "zscore", "mean": 10, "sd": 2}}
            ),
            Node("b", parent="I", direction=-1, overrides={"normalise": {"method": "rank"}}),
            Node("c", parent="I"),
            agg("I"),
        ]
    )
    out = be.normalise(x, "minmax", spec=spec, lower=1, upper=5)
    a = x.sel(indicator="a")
    za = (a - a.mean("unit")) / a.std("unit", ddof=1) * 2 + 10
    np.testing.assert_allclose(
        out.sel(indicator="a"), za.transpose(*out.sel(indicator="a").dims), rtol=1e-12
    )
    # rank of -b: the largest b gets rank 1
    rb = rankdata(-x.sel(indicator="b").values, method="min", axis=0)
    np.testing.assert_array_equal(out.sel(indicator="b").transpose("unit", "time"), rb)
    c = x.sel(indicator="c")
    mc = (c - c.min("unit")) / (c.max("unit") - c.min("unit")) * 4 + 1
    np.testing.assert_allclose(out.sel(indicator="c"), mc.transpose("unit", "time"), rtol=1e-12)
    # the same through the overrides parameter
    same = be.normalise(
        x,
        "minmax",
        lower=1,
        upper=5,
        directions={"b": -1},
        overrides={"a": ("zscore", {"mean": 10, "sd": 2}), "b": "rank"},
    )
    xr.testing.assert_equal(out, same)  # histories differ


def test_node_treat_override_is_used_by_treat() -> None:
    v = 2.0 ** np.arange(20)
    x = xr.DataArray(
        np.stack([v, v], -1)[:, None, :],
        dims=pn.DIMS,
        coords={"unit": [f"u{i:02d}" for i in range(20)], "time": [0], "indicator": ["a", "b"]},
    )
    spec = IndexSpec(
        [Node("a", parent="I", overrides={"treat": {"winmax": 0}}), Node("b", parent="I"), agg("I")]
    )
    t = be.treat(x, spec=spec)
    # b: default winsorisation fixes it (the two largest pulled in), no log
    assert t.report.loc["b", "n_winsorised"] == 2 and not t.report.loc["b", "transformed"]
    # a: no winsorisation allowed, so log_CT on the original values
    assert t.report.loc["a", "transformed"] and t.report.loc["a", "n_winsorised"] == 0
    expected = np.log(v - 1 + 0.01 * (v.max() - 1))
    np.testing.assert_allclose(t.data.sel(indicator="a").values.ravel(), expected, rtol=1e-13)
    # an explicit overrides= entry wins over the spec's
    t2 = be.treat(x, spec=spec, overrides={"a": {"skip": True}})
    np.testing.assert_array_equal(t2.data.sel(indicator="a").values.ravel(), v)
