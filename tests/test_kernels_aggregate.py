"""Tests of the aggregation kernels against COINr 1.1.14 and hand computations."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brics_ecom._kernels.aggregate import (
    DATA_FRAME_METHODS,
    aggregate_level,
    batched_matmul,
    copeland_score,
    domain_violations,
    effective_weights,
    mazziotta_pareto_index,
    membership_matrix,
    validate_p,
    weight_matrix,
)
from brics_ecom.errors import InvalidParameterError, SpecError
from brics_ecom.registry import available, get_method, register, unregister
from conftest import ASEM, read_ref

RTOL = 1e-12
METHODS_WITH_PARAMS: list[tuple[str, dict[str, float]]] = [
    ("arithmetic", {}),
    ("geometric", {}),
    ("harmonic", {}),
    ("generalised", {"p": 2.0}),
    ("generalised", {"p": -1.5}),
    ("minimum", {}),
    ("copeland", {}),
    ("mazziotta_pareto", {}),
    ("mazziotta_pareto", {"penalty": 1}),
]

# warnings raised inside a kernel are errors here: kernels must be silent
pytestmark = pytest.mark.filterwarnings("error")


# --------------------------------------------------------------------------------------
# the ASEM tree and COINr's reference outputs
# --------------------------------------------------------------------------------------


def _imeta() -> pd.DataFrame:
    meta = pd.read_csv(ASEM / "iMeta.csv", keep_default_na=False, na_values=["NA"])
    meta = meta[meta["Type"].isin(["Indicator", "Aggregate"])].copy()
    meta["Level"] = meta["Level"].astype(int)
    return meta


def _coinr_aggregate(
    data: pd.DataFrame, method: str, weight_scale: np.ndarray | None = None
) -> pd.DataFrame | list[pd.DataFrame]:
    """COINr's ``Aggregate``: level by level from the indicators to the Index.

    With ``weight_scale`` (draw,), every level is run at once for weight sets
    ``scale[d] * iMeta weights`` (a leading ``draw`` dim) and one frame per draw returned.
    """
    meta = _imeta()
    current = data[list(meta.loc[meta["Level"] == 1, "iCode"])].to_numpy()
    blocks = []
    codes: list[str] = []
    for level in (2, 3, 4):
        children = meta[meta["Level"] == level - 1]
        parents = list(meta.loc[meta["Level"] == level, "iCode"])
        pidx = children["Parent"].map({c: i for i, c in enumerate(parents)}).to_numpy()
        weights = children["Weight"].to_numpy(dtype=float)
        if weight_scale is not None:
            weights = weight_scale[:, None] * weights  # (draw, child)
        out = aggregate_level(current, weights, pidx, len(parents), method)
        blocks.append(out)
        codes += parents
        current = out
    if weight_scale is None:
        return pd.DataFrame(np.concatenate(blocks, axis=-1), index=data.index, columns=codes)
    full = np.concatenate(blocks, axis=-1)  # (draw, unit, node)
    return [pd.DataFrame(f, index=data.index, columns=codes) for f in full]


def _ranks(scores: pd.DataFrame) -> pd.DataFrame:
    """rank(-score, ties.method = "min", na.last = "keep")."""
    return scores.rank(ascending=False, method="min", na_option="keep")


@pytest.mark.parametrize(
    ("method", "data_file", "stem"),
    [
        ("arithmetic", "input_normalised_1_100.csv", "a_amean"),
        ("geometric", "input_normalised_1_100.csv", "a_gmean"),
        ("arithmetic", "input_raw_minmax_with_NAs.csv", "a_amean_rawNA"),
    ],
)
def test_matches_coinr_scores_and_ranks(method: str, data_file: str, stem: str) -> None:
    data = read_ref(f"aggregate/{data_file}")
    ref_scores = read_ref(f"aggregate/{stem}_scores.csv")
    ref_ranks = read_ref(f"aggregate/{stem}_ranks.csv")
    if stem.endswith("rawNA"):
        assert data.isna().to_numpy().sum() == 63  # the case really has missing children
    got = _coinr_aggregate(data, method)
    assert isinstance(got, pd.DataFrame)
    got = got.loc[ref_scores.index, ref_scores.columns]
    assert not got.isna().to_numpy().any()
    np.testing.assert_allclose(got.to_numpy(), ref_scores.to_numpy(), rtol=RTOL, atol=0)
    np.testing.assert_array_equal(
        _ranks(got).to_numpy(), ref_ranks.loc[ref_scores.index, ref_scores.columns].to_numpy()
    )


@pytest.mark.parametrize("method", ["arithmetic", "geometric"])
def test_matches_coinr_with_a_draw_dim_of_weights(method: str) -> None:
    # Only ratios within a parent matter: every scaled weight set reproduces COINr, and
    # all draws run as one broadcast (weights of shape (draw, child) at every level).
    stem = {"arithmetic": "a_amean", "geometric": "a_gmean"}[method]
    data = read_ref("aggregate/input_normalised_1_100.csv")
    ref = read_ref(f"aggregate/{stem}_scores.csv")
    frames = _coinr_aggregate(data, method, weight_scale=np.array([1.0, 0.5, 3.0, 1e-3]))
    assert isinstance(frames, list)
    assert len(frames) == 4
    for got in frames:
        got = got.loc[ref.index, ref.columns]
        np.testing.assert_allclose(got.to_numpy(), ref.to_numpy(), rtol=RTOL, atol=0)


def _flat_tree() -> tuple[list[str], np.ndarray, np.ndarray]:
    meta = _imeta()
    codes = list(meta["iCode"])
    pos = {c: i for i, c in enumerate(codes)}
    parent = np.array([pos[p] if isinstance(p, str) else -1 for p in meta["Parent"]])
    return codes, meta["Weight"].to_numpy(dtype=float), parent


def test_effective_weights_match_coinr() -> None:
    codes, weights, parent = _flat_tree()
    ref = read_ref("weights/effective_weights_nominal.csv", index_col="iCode")
    got = pd.Series(effective_weights(weights, parent), index=codes)
    assert set(got.index) == set(ref.index)
    np.testing.assert_allclose(
        got.loc[ref.index].to_numpy(), ref["EffWeight"].to_numpy(), rtol=RTOL, atol=0
    )


def test_effective_weights_vectorised_over_draws() -> None:
    codes, weights, parent = _flat_tree()
    rng = np.random.default_rng(1)
    draws = weights * rng.uniform(0.75, 1.25, size=(5, weights.size))
    got = effective_weights(draws, parent)
    assert got.shape == draws.shape
    for d in range(5):
        np.testing.assert_allclose(got[d], effective_weights(draws[d], parent), rtol=1e-14)
    # the leaves' effective weights sum to 1 and each node's children sum to the node
    leaves = np.array([i for i in range(len(codes)) if i not in set(parent)])
    np.testing.assert_allclose(got[:, leaves].sum(axis=-1), 1.0, rtol=1e-13)
    for node in np.unique(parent[parent >= 0]):
        np.testing.assert_allclose(got[:, parent == node].sum(axis=-1), got[:, node], rtol=1e-13)


def test_effective_weights_hand_and_errors() -> None:
    # root 0 (its own weight ignored); 1 (w 1), 2 (w 3) under it; 3, 4 (w 1, 3) under 1
    got = effective_weights([7.0, 1.0, 3.0, 1.0, 3.0], [-1, 0, 0, 1, 1])
    np.testing.assert_allclose(got, [1.0, 0.25, 0.75, 0.0625, 0.1875], rtol=1e-15)
    # siblings of zero total weight -> NaN
    got = effective_weights([1.0, 0.0, 0.0], [-1, 0, 0])
    assert got[0] == 1.0
    assert np.isnan(got[1:]).all()
    with pytest.raises(SpecError, match="cycle"):
        effective_weights([1.0, 1.0, 1.0], [-1, 2, 1])
    with pytest.raises(InvalidParameterError, match="node 1"):
        effective_weights([1.0, 1.0], [-1, 5])
    with pytest.raises(InvalidParameterError, match="shape"):
        effective_weights([1.0, 1.0, 1.0], [-1, 0])


# --------------------------------------------------------------------------------------
# hand computations
# --------------------------------------------------------------------------------------


def test_arithmetic_drops_missing_children() -> None:
    x = np.array([[1.0, 2.0, np.nan, 4.0], [np.nan, np.nan, np.nan, 5.0]])
    got = aggregate_level(x, [1.0, 2.0, 3.0, 4.0], [0, 0, 0, 1], 2)
    np.testing.assert_allclose(got[0], [5.0 / 3.0, 4.0], rtol=1e-15)
    assert np.isnan(got[1, 0])  # all children missing
    assert got[1, 1] == 5.0


def test_harmonic_hand() -> None:
    w = [1.0, 1.0, 2.0]
    x = np.array([[1.0, 2.0, 4.0], [1.0, np.nan, 4.0], [-1.0, 2.0, np.nan]])
    got = aggregate_level(x, w, [0, 0, 0], 1, "harmonic")[:, 0]
    # 4 / (1 + 1/2 + 2/4); 3 / (1 + 2/4); 2 / (-1 + 1/2): negative values are accepted
    np.testing.assert_allclose(got, [2.0, 2.0, -4.0], rtol=1e-15)


@pytest.mark.parametrize("p", [2.0, 3.0, 0.5, -2.0, -0.5])
def test_generalised_hand(p: float) -> None:
    x = np.array([[1.0, 2.0, 4.0, 9.0]])
    w = np.array([1.0, 1.0, 2.0, 5.0])
    got = aggregate_level(x, w, [0, 0, 0, 1], 2, "generalised", p=p)
    expect0 = ((1.0 + 2.0**p + 2.0 * 4.0**p) / 4.0) ** (1.0 / p)
    np.testing.assert_allclose(got, [[expect0, 9.0]], rtol=1e-14)


def test_generalised_special_cases_and_nan_propagation() -> None:
    rng = np.random.default_rng(3)
    x = rng.uniform(0.5, 100.0, size=(2, 7, 6))
    w = rng.uniform(0.1, 2.0, size=6)
    pidx = np.array([0, 1, 2, 2, 1, 0])
    np.testing.assert_allclose(
        aggregate_level(x, w, pidx, 3, "generalised", p=1),
        aggregate_level(x, w, pidx, 3, "arithmetic"),
        rtol=1e-13,
    )
    np.testing.assert_allclose(
        aggregate_level(x, w, pidx, 3, "generalised", p=-1),
        aggregate_level(x, w, pidx, 3, "harmonic"),
        rtol=1e-13,
    )
    # one NaN child makes its own parent NaN (no renormalisation), nothing else
    xn = x.copy()
    xn[0, 2, 1] = np.nan  # child 1 -> parent 1
    w0 = w.copy()
    w0[3] = 0.0
    xn[1, 4, 3] = np.nan  # child 3 -> parent 2, of weight 0: still NaN, as in COINr
    got = aggregate_level(xn, w0, pidx, 3, "generalised", p=2)
    full = aggregate_level(x, w0, pidx, 3, "generalised", p=2)
    isnan = np.isnan(got)
    assert isnan.sum() == 2
    assert isnan[0, 2, 1]
    assert isnan[1, 4, 2]
    np.testing.assert_array_equal(got[~isnan], full[~isnan])
    # the arithmetic mean drops them instead
    assert not np.isnan(aggregate_level(xn, w0, pidx, 3, "arithmetic")).any()


def test_geometric_hand() -> None:
    x = np.array([[1.0, 16.0, 2.0, np.nan]])
    got = aggregate_level(x, [1.0, 1.0, 2.0, 1.0], [0, 0, 0, 0], 1, "geometric")
    np.testing.assert_allclose(got, [[2.0 * np.sqrt(2.0)]], rtol=1e-15)  # (1*16*4)^(1/4)


def test_dat_thresh_is_strict_and_computed_by_division() -> None:
    x = np.arange(1.0, 11.0).reshape(2, 5)
    x[0, 0] = np.nan  # 4 of 5 available
    x[1, :2] = np.nan  # 3 of 5 available
    for method in ("arithmetic", "geometric", "harmonic", "minimum", "mazziotta_pareto"):
        got = aggregate_level(x, np.ones(5), np.zeros(5, dtype=int), 1, method, dat_thresh=0.8)
        assert not np.isnan(got[0, 0]), method
        assert np.isnan(got[1, 0]), method
    np.testing.assert_allclose(
        aggregate_level(x, np.ones(5), np.zeros(5, dtype=int), 1, dat_thresh=0.8)[0, 0], 3.5
    )
    # 3 of 5 = 0.6 is kept at 0.6, and 0 means "keep whatever is there"
    got = aggregate_level(x, np.ones(5), np.zeros(5, dtype=int), 1, dat_thresh=0.6)
    assert not np.isnan(got).any()
    # members are counted whatever their weight: a missing child of weight 0 counts
    w = np.array([0.0, 1.0, 1.0, 1.0, 1.0])
    got = aggregate_level(x, w, np.zeros(5, dtype=int), 1, dat_thresh=1.0)
    assert np.isnan(got).all()
    # per parent
    pidx = np.array([0, 0, 1, 1, 1])
    got = aggregate_level(x, np.ones(5), pidx, 2, dat_thresh=0.5)
    assert np.isnan(got[1, 0])  # 0 of 2
    assert not np.isnan(got[0, 0])  # 1 of 2 = 0.5, not < 0.5
    np.testing.assert_allclose(got[:, 1], [4.0, 9.0])


def test_minimum_hand() -> None:
    x = np.array(
        [
            [5.0, 1.0, 3.0, 7.0, 2.0],
            [np.nan, 1.0, 3.0, np.nan, 2.0],
            [np.nan, 0.5, np.nan, np.nan, np.nan],
        ]
    )
    w = np.array([1.0, 0.0, 2.0, 1.0, 1.0])  # child 1 has weight 0: not considered
    got = aggregate_level(x, w, [0, 0, 0, 1, 1], 2, "minimum")
    expect = np.array([[3.0, 2.0], [3.0, 2.0], [np.nan, np.nan]])
    np.testing.assert_array_equal(got, expect)


def test_copeland_hand_example_with_ties_and_nan() -> None:
    # weights 1, 1, 2 -> 0.25, 0.25, 0.5
    x = np.array(
        [
            [1.0, 2.0, 3.0],
            [2.0, 2.0, 1.0],
            [1.0, np.nan, 3.0],
            [0.0, 5.0, 3.0],
        ]
    )
    # O_01 = .125 + .5 = .625 (+1); O_02 = .125 + .25 = .375 (-1); O_03 = .25 + .25 (0);
    # O_12 = .25 (-1); O_13 = .25 (-1); O_23 = .25 + .25 (0)
    got = aggregate_level(x, [1.0, 1.0, 2.0], [0, 0, 0], 1, "copeland")
    np.testing.assert_array_equal(got[:, 0], [0.0, -3.0, 2.0, 1.0])
    np.testing.assert_array_equal(got[:, 0], _copeland_loop(x, np.array([1.0, 1.0, 2.0])))
    # O_ji = 1 - O_ij: with a missing value the result depends on the unit order (COINr
    # sorts units by code). With units 0 and 2 swapped, O_20 = .375 now counts against
    # unit 2, and O_21 = .5 (instead of O_12 = .25) is a draw.
    order = [2, 1, 0, 3]
    swapped = aggregate_level(x[order], [1.0, 1.0, 2.0], [0, 0, 0], 1, "copeland")
    np.testing.assert_array_equal(swapped[:, 0], [-1.0, -2.0, 2.0, 1.0])
    # without missing values the score does not depend on the order
    xf = np.nan_to_num(x, nan=2.0)
    np.testing.assert_array_equal(
        aggregate_level(xf[order], [1.0, 1.0, 2.0], [0, 0, 0], 1, "copeland"),
        aggregate_level(xf, [1.0, 1.0, 2.0], [0, 0, 0], 1, "copeland")[order],
    )


def _copeland_loop(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """COINr's five steps, literally, for one parent: x (unit, child), w (child,)."""
    w = w / w.sum()
    n = x.shape[0]
    out = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            gt = sum(w[c] for c in range(x.shape[1]) if x[i, c] > x[j, c])
            eq = sum(w[c] for c in range(x.shape[1]) if x[i, c] == x[j, c])
            o = gt + 0.5 * eq
            out[i, j] = 1.0 if o > 0.5 else (-1.0 if o < 0.5 else 0.0)
            o_ji = 1.0 - o
            out[j, i] = 1.0 if o_ji > 0.5 else (-1.0 if o_ji < 0.5 else 0.0)
    return out.sum(axis=1)


def test_copeland_matches_literal_steps() -> None:
    rng = np.random.default_rng(7)
    x = rng.integers(0, 4, size=(3, 15, 8)).astype(float)  # many ties
    x[rng.random(x.shape) < 0.15] = np.nan
    w = np.array([1.0, 1.0, 2.0, 1.0, 4.0, 1.0, 1.0, 2.0])  # dyadic: exact in both
    pidx = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    got = aggregate_level(x, w, pidx, 3, "copeland")
    for t in range(3):
        for j in range(3):
            sel = pidx == j
            np.testing.assert_array_equal(got[t, :, j], _copeland_loop(x[t][:, sel], w[sel]))
    # integer scores in [-(n-1), n-1] summing to 0
    assert np.all(np.abs(got) <= 14)
    np.testing.assert_array_equal(got.sum(axis=-2), 0.0)


def test_copeland_ignores_dat_thresh_and_is_blocked_correctly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import brics_ecom._kernels.aggregate as agg

    assert "copeland" in DATA_FRAME_METHODS
    rng = np.random.default_rng(11)
    x = rng.integers(0, 5, size=(2, 9, 4)).astype(float)
    x[0, :, 1:] = np.nan  # 1 of 4 children present
    full = aggregate_level(x, np.ones(4), [0, 0, 0, 0], 1, "copeland")
    np.testing.assert_array_equal(
        aggregate_level(x, np.ones(4), [0, 0, 0, 0], 1, "copeland", dat_thresh=0.9), full
    )
    assert not np.isnan(full).any()
    monkeypatch.setattr(agg, "_COPELAND_BLOCK_ELEMENTS", 50)  # a few rows per block
    np.testing.assert_array_equal(aggregate_level(x, np.ones(4), [0, 0, 0, 0], 1, "copeland"), full)


def test_copeland_ties_survive_rounding() -> None:
    # weights 0.1, 0.2, 0.3: winning on the first two is exactly a tie (O = 1/2)
    x = np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    got = copeland_score(x, weight_matrix([0.1, 0.2, 0.3], [0, 0, 0], 1))
    np.testing.assert_array_equal(got[:, 0], [0.0, 0.0])
    # a zero total weight gives NaN
    assert np.isnan(copeland_score(x, np.zeros((3, 1)))).all()


def _mpi_direct(x: np.ndarray, w: np.ndarray, penalty: float) -> float:
    keep = ~np.isnan(x)
    xv, wv = x[keep], w[keep] / w[keep].sum()
    m = float(np.sum(wv * xv))
    s = float(np.sqrt(np.sum(wv * (xv - m) ** 2)))
    return m + penalty * s * (s / m)


@pytest.mark.parametrize("penalty", [-1, 1])
def test_mazziotta_pareto_against_direct_formula(penalty: int) -> None:
    rng = np.random.default_rng(5)
    x = 100.0 + 10.0 * rng.standard_normal(size=(4, 12, 7))  # z-scores on 100 +- 10
    x[rng.random(x.shape) < 0.1] = np.nan
    w = rng.uniform(0.2, 3.0, size=7)
    pidx = np.array([0, 1, 0, 1, 1, 0, 1])
    got = aggregate_level(x, w, pidx, 2, "mazziotta_pareto", penalty=penalty)
    for idx in np.ndindex(*x.shape[:-1]):
        for j in range(2):
            sel = pidx == j
            np.testing.assert_allclose(
                got[(*idx, j)], _mpi_direct(x[idx][sel], w[sel], penalty), rtol=1e-13
            )
    # unweighted MPI = M -/+ S * cv with the population sd (the original definition)
    row = np.array([[90.0, 105.0, 120.0, 97.0]])
    m, s = row.mean(), row.std()
    expect = m + penalty * s * s / m
    got1 = mazziotta_pareto_index(row, np.ones((4, 1)), penalty=penalty)
    np.testing.assert_allclose(got1, [[expect]], rtol=1e-14)
    with pytest.raises(InvalidParameterError, match="penalty"):
        aggregate_level(row, np.ones(4), [0, 0, 0, 0], 1, "mazziotta_pareto", penalty=2)


# --------------------------------------------------------------------------------------
# broadcasting over draws and scenarios
# --------------------------------------------------------------------------------------


def _positive_panel(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    x = rng.uniform(1.0, 100.0, size=shape)
    x[..., 1::4] = np.round(x[..., 1::4])  # some ties for Copeland
    return x


@pytest.mark.parametrize(("method", "params"), METHODS_WITH_PARAMS)
def test_draw_and_scenario_weights_equal_a_loop(method: str, params: dict[str, float]) -> None:
    rng = np.random.default_rng(21)
    n_child, n_par = 7, 3
    pidx = np.array([0, 2, 1, 0, 2, 1, 0])
    x = _positive_panel(rng, (3, 10, n_child))  # (time, unit, child)
    if method not in ("generalised", "copeland"):
        x[0, 2, 3] = np.nan
    w = rng.uniform(0.5, 2.0, size=(4, n_child))  # (draw, child)
    got = aggregate_level(x, w[:, None, :], pidx, n_par, method, **params)
    assert got.shape == (4, 3, 10, n_par)
    for d in range(4):
        np.testing.assert_allclose(
            got[d], aggregate_level(x, w[d], pidx, n_par, method, **params), rtol=1e-13
        )
    # an extra scenario dim: weights (scenario, draw, 1, child)
    ws = rng.uniform(0.5, 2.0, size=(2, 4, 1, n_child))
    got = aggregate_level(x, ws, pidx, n_par, method, **params)
    assert got.shape == (2, 4, 3, 10, n_par)
    for s, d in itertools.product(range(2), range(4)):
        np.testing.assert_allclose(
            got[s, d], aggregate_level(x, ws[s, d, 0], pidx, n_par, method, **params), rtol=1e-13
        )
    # data and weights sharing a draw dim: x (draw, unit, child), weights (draw, child)
    xd = _positive_panel(rng, (4, 10, n_child))
    got = aggregate_level(xd, w, pidx, n_par, method, **params)
    assert got.shape == (4, 10, n_par)
    for d in range(4):
        np.testing.assert_allclose(
            got[d], aggregate_level(xd[d], w[d], pidx, n_par, method, **params), rtol=1e-13
        )


@pytest.mark.parametrize(
    ("a_shape", "b_shape"),
    [
        ((5, 3), (3, 2)),
        ((4, 5, 3), (3, 2)),
        ((5, 3), (6, 3, 2)),
        ((4, 1, 5, 3), (6, 3, 2)),
        ((2, 4, 1, 5, 3), (2, 1, 6, 3, 2)),
        ((1, 5, 3), (1, 1, 3, 2)),
        ((3, 5, 3), (3, 3, 2)),
    ],
)
def test_batched_matmul_equals_matmul(a_shape: tuple[int, ...], b_shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal(a_shape)
    b = rng.standard_normal(b_shape)
    np.testing.assert_allclose(batched_matmul(a, b), np.matmul(a, b), rtol=1e-13, atol=1e-13)


@settings(max_examples=30, deadline=None)
@given(
    scale=st.floats(min_value=1e-4, max_value=1e4, allow_nan=False, allow_infinity=False),
    method_index=st.integers(min_value=0, max_value=len(METHODS_WITH_PARAMS) - 1),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_scaling_all_weights_leaves_results_unchanged(
    scale: float, method_index: int, seed: int
) -> None:
    method, params = METHODS_WITH_PARAMS[method_index]
    rng = np.random.default_rng(seed)
    x = _positive_panel(rng, (2, 6, 5))
    if method not in ("generalised", "copeland"):
        x[rng.random(x.shape) < 0.2] = np.nan
    w = rng.uniform(0.1, 5.0, size=5)
    pidx = np.array([0, 1, 0, 1, 1])
    base = aggregate_level(x, w, pidx, 2, method, **params)
    scaled = aggregate_level(x, scale * w, pidx, 2, method, **params)
    # MPI subtracts a penalty from the mean, so allow rounding relative to the data's scale
    atol = 1e-12 * float(np.nanmax(np.abs(x))) if method == "mazziotta_pareto" else 0.0
    np.testing.assert_allclose(scaled, base, rtol=1e-12, atol=atol)


# --------------------------------------------------------------------------------------
# safety: inputs, domain, errors, registry
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "params"), METHODS_WITH_PARAMS)
def test_inputs_not_mutated(method: str, params: dict[str, float]) -> None:
    rng = np.random.default_rng(2)
    x = _positive_panel(rng, (2, 5, 4))
    x[0, 1, 2] = np.nan
    w = rng.uniform(0.5, 2.0, size=(3, 1, 4))
    pidx = np.array([1, 0, 1, 0])
    copies = (x.copy(), w.copy(), pidx.copy())
    aggregate_level(x, w, pidx, 2, method, dat_thresh=0.5, **params)
    domain_violations(x, method, **({"p": params["p"]} if "p" in params else {}))
    for before, after in zip(copies, (x, w, pidx), strict=True):
        np.testing.assert_array_equal(before, after)


def test_domain_violations_flags() -> None:
    x = np.array([[2.0, 0.0, -1.0, np.nan]])
    np.testing.assert_array_equal(domain_violations(x, "geometric"), [[0, 1, 1, 0]])
    np.testing.assert_array_equal(domain_violations(x, "harmonic"), [[0, 1, 0, 0]])
    np.testing.assert_array_equal(domain_violations(x, "generalised", p=-2), [[0, 1, 1, 0]])
    np.testing.assert_array_equal(domain_violations(x, "generalised", p=2), [[0, 0, 0, 0]])
    np.testing.assert_array_equal(domain_violations(x, "arithmetic"), [[0, 0, 0, 0]])
    assert domain_violations(x, "copeland").dtype == bool
    with pytest.raises(InvalidParameterError):
        domain_violations(x, "generalised")  # p missing
    with pytest.raises(InvalidParameterError, match="must be one of"):
        domain_violations(x, "geometrc")


def test_invalid_values_only_spoil_their_own_parent() -> None:
    # The kernel does not raise: the parent with an invalid child is NaN, the other
    # parents are untouched (no NaN * 0 leaking through the matrix product), no warning.
    x = np.array([[0.0, 2.0, 3.0, 4.0], [-1.0, 2.0, 3.0, 4.0]])
    pidx = [0, 0, 1, 1]
    for method, params in [("geometric", {}), ("harmonic", {}), ("generalised", {"p": -1})]:
        got = aggregate_level(x, np.ones(4), pidx, 2, method, **params)
        bad = domain_violations(x, method, **params).any(axis=-1)
        assert np.isnan(got[bad, 0]).all(), method
        assert not np.isnan(got[:, 1]).any(), method
    np.testing.assert_allclose(
        aggregate_level(x, np.ones(4), pidx, 2, "geometric")[:, 1], np.sqrt(12.0)
    )


def test_validate_p() -> None:
    assert validate_p(2) == 2.0
    assert validate_p(np.float64(-0.5)) == -0.5
    for bad in (0, 0.0, None, True, float("nan"), float("inf"), "2"):
        with pytest.raises(InvalidParameterError, match="'p'"):
            validate_p(bad)


def test_argument_errors() -> None:
    x = np.ones((3, 4))
    w = np.ones(4)
    pidx = [0, 0, 1, 1]
    with pytest.raises(InvalidParameterError, match="must be one of"):
        aggregate_level(x, w, pidx, 2, "median")
    with pytest.raises(InvalidParameterError, match="'p'"):
        aggregate_level(x, w, pidx, 2, "generalised")
    with pytest.raises(InvalidParameterError, match="'p'"):
        aggregate_level(x, w, pidx, 2, "generalised", p=0)
    with pytest.raises(InvalidParameterError, match="does not take"):
        aggregate_level(x, w, pidx, 2, "arithmetic", p=2)
    with pytest.raises(InvalidParameterError, match="parent_index"):
        aggregate_level(x, w, [0, 0, 1, 2], 2)
    with pytest.raises(InvalidParameterError, match="parent_index"):
        aggregate_level(x, w, [0, 0, 1], 2)
    with pytest.raises(InvalidParameterError, match="weights"):
        aggregate_level(x, np.ones(3), pidx, 2)
    with pytest.raises(InvalidParameterError, match="non-negative"):
        aggregate_level(x, [1.0, -1.0, 1.0, 1.0], pidx, 2)
    with pytest.raises(InvalidParameterError, match="non-negative"):
        aggregate_level(x, [1.0, np.nan, 1.0, 1.0], pidx, 2)
    with pytest.raises(InvalidParameterError, match="dat_thresh"):
        aggregate_level(x, w, pidx, 2, dat_thresh=1.5)
    with pytest.raises(InvalidParameterError, match="broadcast"):
        aggregate_level(np.ones((2, 3, 4)), np.ones((5, 4)), pidx, 2)
    with pytest.raises(InvalidParameterError, match="unit, child"):
        aggregate_level(np.ones(4), w, pidx, 2)


def test_membership_and_weight_matrix() -> None:
    np.testing.assert_array_equal(
        membership_matrix([1, 0, 1], 3), [[0, 1, 0], [1, 0, 0], [0, 1, 0]]
    )
    wm = weight_matrix(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), [1, 0, 1], 2)
    assert wm.shape == (2, 3, 2)
    np.testing.assert_array_equal(wm[1], [[0.0, 4.0], [5.0, 0.0], [0.0, 6.0]])


def test_methods_are_registered_and_users_can_add_one() -> None:
    for name in (
        "arithmetic",
        "geometric",
        "harmonic",
        "generalised",
        "minimum",
        "copeland",
        "mazziotta_pareto",
    ):
        assert name in available("aggregate")
    assert get_method("aggregate", "mazziotta_pareto") is mazziotta_pareto_index

    @register("aggregate", "test_weighted_max")
    def _weighted_max(x: np.ndarray, W: np.ndarray) -> np.ndarray:
        return np.stack(
            [np.where(W[..., None, :, j] > 0, x, -np.inf).max(-1) for j in range(W.shape[-1])],
            axis=-1,
        )

    try:
        got = aggregate_level(
            np.array([[1.0, 5.0, 2.0]]), [1, 1, 1], [0, 0, 1], 2, "test_weighted_max"
        )
        np.testing.assert_array_equal(got, [[5.0, 2.0]])
        with pytest.raises(InvalidParameterError, match="does not take"):
            aggregate_level(np.ones((1, 3)), [1, 1, 1], [0, 0, 1], 2, "test_weighted_max", p=3)
    finally:
        unregister("aggregate", "test_weighted_max")
