"""Dask-backed panels: every front door stays lazy and equals the NumPy result exactly."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pytest
import xarray as xr

import brics_ecom as be
from brics_ecom import panel as pn

pytest.importorskip("dask.array")

CHUNKINGS = {"by_indicator": {"indicator": 10}, "by_time": {"time": 1}, "by_unit": {"unit": 20}}


@pytest.fixture(scope="module")
def asem() -> tuple[xr.DataArray, be.IndexSpec]:
    p, spec = be.datasets.load_asem(panel=True)
    return p, spec


@pytest.fixture(scope="module")
def raw(asem) -> xr.DataArray:
    p = asem[0].copy()
    p.attrs = {"source": "ASEM"}  # no DataArray in attrs, so assert_identical can compare them
    return p


@pytest.fixture(scope="module")
def filled(raw: xr.DataArray) -> xr.DataArray:
    return be.impute(raw, "linear_constant")


@pytest.fixture(scope="module")
def normed(filled: xr.DataArray, asem) -> xr.DataArray:
    return be.normalise(filled, "minmax", spec=asem[1], lower=1, upper=100)


def check_lazy_equal(
    func: Callable[[xr.DataArray], xr.DataArray], data: xr.DataArray, chunks: dict
) -> None:
    lazy = func(data.chunk(chunks))
    assert lazy.chunks is not None, "the result was computed eagerly"
    eager = func(data)
    assert eager.chunks is None
    xr.testing.assert_identical(lazy.compute(), eager)


@pytest.mark.parametrize("chunks", list(CHUNKINGS.values()), ids=list(CHUNKINGS))
def test_denominate_is_lazy(asem, chunks: dict) -> None:
    p, spec = asem
    check_lazy_equal(lambda q: be.denominate(q, spec, scale=1000), p, chunks)


@pytest.mark.parametrize("chunks", list(CHUNKINGS.values()), ids=list(CHUNKINGS))
@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("mean", {}),
        ("median", {}),
        ("group_mean", {"group": "EurAsia_group"}),
        ("group_median", {"group": "GDP_group"}),
        ("row_mean", {"level": 2}),
        ("em", {"max_iter": 5}),
        ("latest", {"max_time": 2}),
        ("constant", {}),
        ("linear_constant", {}),
    ],
)
def test_impute_is_lazy(raw: xr.DataArray, asem, chunks: dict, method: str, kwargs: dict) -> None:
    spec = asem[1]
    data = raw.isel(indicator=slice(0, 16)) if method == "em" else raw  # EM is slow: keep it small
    sub = spec.subset(data["indicator"].values.tolist())
    check_lazy_equal(lambda q: be.impute(q, method, spec=sub, **kwargs), data, chunks)


@pytest.mark.parametrize("chunks", list(CHUNKINGS.values()), ids=list(CHUNKINGS))
@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("minmax", {}),
        ("zscore", {"sd": 10}),
        ("rank", {}),
        ("prank", {}),
        ("dist2ref", {"reference_unit": "AUT", "cap": True}),
        ("minmax", {"reference": "pooled"}),
        ("zscore", {"base_time": 2019}),
    ],
)
def test_normalise_is_lazy(
    filled: xr.DataArray, asem, chunks: dict, method: str, kwargs: dict
) -> None:
    spec = asem[1]
    check_lazy_equal(lambda q: be.normalise(q, method, spec=spec, **kwargs), filled, chunks)


@pytest.mark.parametrize("chunks", list(CHUNKINGS.values()), ids=list(CHUNKINGS))
@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("arithmetic", {"dat_thresh": 0.5}),
        ("geometric", {}),
        ("copeland", {}),
        ("generalised", {"p": 2}),
        ("arithmetic", {"by_level": {2: "harmonic"}}),
    ],
)
def test_aggregate_is_lazy(
    normed: xr.DataArray, asem, chunks: dict, method: str, kwargs: dict
) -> None:
    spec = asem[1]
    check_lazy_equal(lambda q: be.aggregate(q, spec, method, **kwargs), normed, chunks)


def test_aggregate_with_lazy_weight_draws(normed: xr.DataArray, asem) -> None:
    spec = asem[1]
    codes = list(spec.codes)
    rng = np.random.default_rng(2)
    w = xr.DataArray(
        rng.uniform(0.5, 1.5, (4, len(codes))), dims=("draw", "node"), coords={"node": codes}
    )
    lazy = be.aggregate(normed.chunk({"time": 1}), spec, weights=w.chunk({"draw": 2}))
    assert lazy.chunks is not None
    eager = be.aggregate(normed, spec, weights=w)
    # the draws are one batched BLAS product, whose blocking (hence the last bit of a sum)
    # depends on how many years and draws a chunk holds
    xr.testing.assert_allclose(lazy.compute(), eager, rtol=1e-13, atol=0)
    assert lazy.compute().attrs == eager.attrs


@pytest.mark.parametrize("chunks", list(CHUNKINGS.values()), ids=list(CHUNKINGS))
def test_treat_is_lazy(filled: xr.DataArray, chunks: dict) -> None:
    lazy = be.treat(
        filled.chunk(chunks), winmax=3, overrides={"Goods": {"transform": "log_CT_plus"}}
    )
    assert lazy.data.chunks is not None
    eager = be.treat(filled, winmax=3, overrides={"Goods": {"transform": "log_CT_plus"}})
    xr.testing.assert_identical(lazy.data.compute(), eager.data)
    # the report and flags are computed on demand and agree too
    assert lazy.report.equals(eager.report)
    xr.testing.assert_identical(lazy.flags, eager.flags)


def test_screen_on_a_lazy_panel(raw: xr.DataArray) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lazy = be.screen(raw.chunk({"indicator": 10}), dat_thresh=0.9)
        eager = be.screen(raw, dat_thresh=0.9)
    assert lazy.data.chunks is not None
    xr.testing.assert_identical(lazy.data.compute(), eager.data)
    assert lazy.report.equals(eager.report) and lazy.dropped == eager.dropped


def test_pipeline_on_a_lazy_panel_with_a_local_cluster(asem) -> None:
    distributed = pytest.importorskip("distributed")
    p, spec = asem
    pipe = be.Pipeline.coinr_example(spec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        eager = pipe.run(p)
        with (
            distributed.LocalCluster(
                n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
            ) as cluster,
            distributed.Client(cluster),
        ):
            lazy = pipe.run(p.chunk({"time": 1}))
            assert lazy.scores is not None and lazy.scores.chunks is not None
            scores = lazy.scores.compute()
            ranks = lazy.ranks.compute()
    xr.testing.assert_identical(scores, eager.scores)
    xr.testing.assert_identical(ranks, eager.ranks)
    assert pn.get_denominators(p) is not None  # the input still carries its denominators
