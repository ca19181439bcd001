"""Property-based tests (hypothesis): bounds, invariances, ranks, and inputs never mutated."""

from __future__ import annotations

import contextlib
import copy
import warnings
from collections.abc import Callable

import numpy as np
import pytest
import xarray as xr
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import brics_ecom as be
from brics_ecom import panel as pn
from brics_ecom.errors import BricsEcomError
from brics_ecom.spec import IndexSpec, Node

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
INDICATORS = ["x", "y", "z", "w"]

SPEC = IndexSpec(
    [
        Node("x", parent="P"),
        Node("y", parent="P", direction=-1),
        Node("z", parent="Q"),
        Node("w", parent="Q", weight=2),
        Node("P", kind="aggregate", parent="I"),
        Node("Q", kind="aggregate", parent="I"),
        Node("I", kind="aggregate"),
    ]
)

# values on a coarse grid so that ties happen; NaN now and then
cell = st.one_of(
    st.floats(-1e3, 1e3, allow_nan=False).map(lambda v: round(v, 1)),
    st.sampled_from([0.0, 1.0, np.nan]),
)


@st.composite
def panels(draw: st.DrawFn, *, min_time: int = 1, positive: bool = False) -> xr.DataArray:
    n_unit = draw(st.integers(3, 7))
    n_time = draw(st.integers(min_time, 3))
    elements = st.one_of(st.floats(0.5, 1e3), st.just(np.nan)) if positive else cell
    values = draw(arrays(np.float64, (n_unit, n_time, len(INDICATORS)), elements=elements))
    return xr.DataArray(
        values,
        dims=pn.DIMS,
        coords={
            "unit": [f"u{i}" for i in range(n_unit)],
            "time": list(range(2015, 2015 + n_time)),
            "indicator": INDICATORS,
            "grp": ("unit", ["a", "b"] * (n_unit // 2) + ["a"] * (n_unit % 2)),
        },
    )


def with_attrs(p: xr.DataArray) -> xr.DataArray:
    n_u, n_t = p.sizes["unit"], p.sizes["time"]
    den = xr.DataArray(
        np.arange(1.0, 1.0 + n_u * n_t).reshape(n_u, n_t, 1),
        dims=("unit", "time", "denominator"),
        coords={"unit": p["unit"].values, "time": p["time"].values, "denominator": ["pop"]},
    )
    out = pn.with_denominators(p, den)
    out.attrs["history"] = ["made by a test"]
    out.attrs["source"] = "hypothesis"
    return out


def snapshot(p: xr.DataArray) -> xr.DataArray:
    out = p.copy(deep=True)
    out.attrs = copy.deepcopy(p.attrs)
    return out


def assert_unchanged(after: xr.DataArray, before: xr.DataArray) -> None:
    """``assert_identical``, with the DataArray held in attrs compared on its own."""
    a, b = after.copy(deep=False), before.copy(deep=False)
    a_den, b_den = a.attrs.pop("denominators", None), b.attrs.pop("denominators", None)
    xr.testing.assert_identical(a, b)
    assert (a_den is None) == (b_den is None)
    if a_den is not None:
        xr.testing.assert_identical(a_den, b_den)


# ---------------------------------------------------------------------- bounds
@FAST
@given(p=panels(), lo=st.floats(-50, 50), width=st.floats(0.5, 200))
def test_minmax_output_within_bounds(p: xr.DataArray, lo: float, width: float) -> None:
    hi = lo + width
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = be.normalise(p, "minmax", spec=SPEC, lower=lo, upper=hi)
        except BricsEcomError:  # e.g. an indicator with no data at all
            return
    vals = out.values[~np.isnan(out.values)]
    tol = 1e-12 * (abs(lo) + abs(hi) + 1)
    assert ((vals >= lo - tol) & (vals <= hi + tol)).all()
    # every year × indicator with two distinct values reaches both bounds
    x = p.values
    for t in range(p.sizes["time"]):
        for i in range(len(INDICATORS)):
            col = x[:, t, i][~np.isnan(x[:, t, i])]
            if col.size and col.min() < col.max():
                got = out.values[:, t, i]
                assert np.nanmin(got) == pytest.approx(lo, abs=tol)
                assert np.nanmax(got) == pytest.approx(hi, abs=tol)


@FAST
@given(p=panels())
def test_rank_based_normalisations_stay_in_range(p: xr.DataArray) -> None:
    try:
        prank = be.normalise(p, "prank", spec=SPEC)
        borda = be.normalise(p, "borda", spec=SPEC)
    except BricsEcomError:
        return
    n = p.notnull().sum("unit")
    assert bool(((prank >= 0) & (prank <= 1) | prank.isnull() | (n == 1)).all())
    assert bool(((borda >= 0) & (borda <= n - 1) | borda.isnull()).all())
    # NaN exactly where the data are missing (apart from single-value prank slices)
    assert bool((borda.isnull() == p.isnull()).all())


# ---------------------------------------------------------------------- invariances
@FAST
@given(
    p=panels(positive=True),
    weights=st.lists(st.floats(0.1, 10), min_size=7, max_size=7),
    factor=st.floats(1e-3, 1e3),
    method=st.sampled_from(["arithmetic", "geometric", "harmonic", "mazziotta_pareto"]),
)
def test_aggregation_invariant_to_scaling_all_weights(
    p: xr.DataArray, weights: list[float], factor: float, method: str
) -> None:
    w = dict(zip(SPEC.codes, weights, strict=True))
    base = be.aggregate(p, SPEC, method, weights=w)
    scaled = be.aggregate(p, SPEC, method, weights={k: v * factor for k, v in w.items()})
    np.testing.assert_allclose(scaled.values, base.values, rtol=1e-9)
    # and the arithmetic mean lies between its children's min and max
    if method == "arithmetic":
        lo = p.min("indicator").values[..., None] - 1e-9
        hi = p.max("indicator").values[..., None] + 1e-9
        v = base.values
        assert ((v >= lo) & (v <= hi) | np.isnan(v)).all()


@FAST
@given(
    scores=arrays(np.float64, st.integers(2, 30), elements=st.floats(-1e6, 1e6), unique=True),
)
def test_ranks_of_distinct_scores_are_a_permutation(scores: np.ndarray) -> None:
    s = xr.DataArray(scores, dims="unit", coords={"unit": [f"u{i}" for i in range(scores.size)]})
    r = be.rank_scores(s).values
    assert sorted(r.tolist()) == list(range(1, scores.size + 1))
    assert r[np.argmax(scores)] == 1 and r[np.argmin(scores)] == scores.size
    # rank order is the reverse score order
    np.testing.assert_array_equal(np.argsort(r), np.argsort(-scores))


@FAST
@given(p=panels(positive=True, min_time=1))
def test_pipeline_ranks_are_permutations(p: xr.DataArray) -> None:
    try:
        res = be.Pipeline(SPEC, [("normalise", {"method": "rank"}), ("aggregate", {})]).run(p)
    except BricsEcomError:  # an indicator without any data in this draw
        assume(False)
        return
    for t in p["time"].values:
        for node in ("P", "Q", "I"):
            s = res.scores.sel(time=t, node=node).values
            r = res.ranks.sel(time=t, node=node).values
            ok = ~np.isnan(s)
            np.testing.assert_array_equal(np.isnan(r), ~ok)  # no score, no rank
            s, r = s[ok], r[ok]
            if np.unique(s).size == s.size:
                assert sorted(r.tolist()) == list(range(1, s.size + 1))
            # ties share the minimum rank: rank = 1 + number of strictly better units
            np.testing.assert_array_equal(r, [1 + np.sum(s > v) for v in s])


# ---------------------------------------------------------------------- inputs unchanged
CALLS: dict[str, Callable[[xr.DataArray], object]] = {
    "denominate": lambda p: be.denominate(p, mapping={"x": "pop"}, scale=100),
    "screen": lambda p: be.screen(p, dat_thresh=0.5, by="both", force_include=["u0"]),
    "impute_mean": lambda p: be.impute(p, "mean"),
    "impute_median": lambda p: be.impute(p, "median"),
    "impute_group_mean": lambda p: be.impute(p, "group_mean", group="grp"),
    "impute_group_median": lambda p: be.impute(p, "group_median", group="grp"),
    "impute_row_mean": lambda p: be.impute(p, "row_mean", spec=SPEC, level=2),
    "impute_em": lambda p: be.impute(p, "em", max_iter=20),
    "impute_latest": lambda p: be.impute(p, "latest"),
    "impute_constant": lambda p: be.impute(p, "constant"),
    "impute_linear": lambda p: be.impute(p, "linear"),
    "impute_linear_constant": lambda p: be.impute(p, "linear_constant"),
    "treat": lambda p: be.treat(p, winmax=2).report,
    "treat_combine_boxcox": lambda p: be.treat(p, transform="boxcox", combine=True).flags,
}
for _m in ("minmax", "zscore", "rank", "borda", "prank", "dist2max", "fracmax"):
    CALLS[f"normalise_{_m}"] = lambda p, m=_m: be.normalise(p, m, spec=SPEC)
CALLS["normalise_goalposts"] = lambda p: be.normalise(p, "goalposts", spec=SPEC, lower=0, upper=9)
CALLS["normalise_scaled"] = lambda p: be.normalise(p, "scaled", spec=SPEC, lower=-1, upper=9)
CALLS["normalise_dist2ref"] = lambda p: be.normalise(p, "dist2ref", spec=SPEC, reference_unit="u1")
CALLS["normalise_dist2targ"] = lambda p: be.normalise(p, "dist2targ", spec=SPEC, target=5)
CALLS["normalise_pooled"] = lambda p: be.normalise(p, spec=SPEC, reference="pooled")
CALLS["normalise_base_time"] = lambda p: be.normalise(p, spec=SPEC, base_time=2015)
for _m in ("arithmetic", "minimum", "copeland", "mazziotta_pareto"):
    CALLS[f"aggregate_{_m}"] = lambda p, m=_m: be.aggregate(p, SPEC, m, dat_thresh=0.5)
#: front doors whose domain needs positive data
POSITIVE = {"aggregate_geometric", "aggregate_harmonic", "aggregate_generalised_negative_p"}
CALLS["aggregate_geometric"] = lambda p: be.aggregate(p, SPEC, "geometric", dat_thresh=0.5)
CALLS["aggregate_harmonic"] = lambda p: be.aggregate(p, SPEC, "harmonic")
CALLS["aggregate_generalised_negative_p"] = lambda p: be.aggregate(p, SPEC, "generalised", p=-1)
CALLS["aggregate_generalised"] = lambda p: be.aggregate(p, SPEC, "generalised", p=2)
CALLS["pipeline_run"] = lambda p: be.Pipeline(
    SPEC,
    [
        ("denominate", {"mapping": {"w": "pop"}}),
        ("impute", {"method": "mean"}),
        ("screen", {"dat_thresh": 0.3}),
        ("treat", {}),
        ("normalise", {"method": "minmax"}),
        ("aggregate", {}),
    ],
).run(p)


@pytest.mark.parametrize("name", list(CALLS))
def test_inputs_are_never_modified(name: str) -> None:
    call = CALLS[name]

    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(p=panels(min_time=2, positive=name in POSITIVE))
    def check(p: xr.DataArray) -> None:
        panel = with_attrs(p)
        before = snapshot(panel)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # an error (e.g. zero variance in this draw) must not mutate the input either
            with contextlib.suppress(BricsEcomError):
                call(panel)
        assert_unchanged(panel, before)

    check()
