"""The vectorised treat_array against a plain loop of treat_series (the reference).

Every output must be identical: values (NaN included), flags, and every detail field with
its dtype. The cases cover every branch of the algorithm: passing / NA / failing series,
ties, both directions, winmax 0/1/k/None, NA inside the loop, every transform, combine,
custom transforms (empty flag, NaN output, wrong shape, side effects), decisions sitting
exactly on a threshold, and arrays of any layout and axes.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brics_ecom._kernels import stats as ks
from brics_ecom._kernels import treat as tk
from brics_ecom._kernels.treat import DETAIL_FIELDS, treat_array, treat_series
from brics_ecom.datasets import make_synthetic
from brics_ecom.errors import InvalidParameterError
from brics_ecom.registry import register, unregister

_FLOAT = {"skew_before", "kurt_before", "skew_after_winsorise", "kurt_after_winsorise"}
_FLOAT |= {"skew_after_transform", "kurt_after_transform", "n_winsorised"}
_LOGICAL = {"pass_before", "pass_after_winsorise", "pass_after_transform"}


def _reference(x: Any, axis: int | tuple[int, ...] = -1, **kw: Any) -> tk.ArrayTreatment:
    """treat_array written as the obvious loop of treat_series over the slices."""
    arr = np.asarray(x, dtype=np.float64)
    axes = axis if isinstance(axis, tuple) else (axis,)
    axes = tuple(a % arr.ndim for a in axes)
    dest = tuple(range(arr.ndim - len(axes), arr.ndim))
    moved = np.moveaxis(arr, axes, dest)
    lead, core = moved.shape[: arr.ndim - len(axes)], moved.shape[arr.ndim - len(axes) :]
    flat = moved.reshape((*lead, math.prod(core)))  # (-1 fails when lead has a 0)
    values = np.empty(flat.shape)
    flags = np.empty(flat.shape, dtype=object)
    details: dict[str, np.ndarray] = {}
    for name in DETAIL_FIELDS:
        if name in _FLOAT:
            details[name] = np.full(lead, np.nan)
        elif name in _LOGICAL:
            details[name] = np.full(lead, None, dtype=object)
        elif name in {"transformed", "na_stop"}:
            details[name] = np.zeros(lead, dtype=bool)
        else:
            details[name] = np.zeros(lead, dtype=np.int64)
    for idx in np.ndindex(*lead):
        res = treat_series(flat[idx], **kw)
        values[idx], flags[idx] = res.values, res.flags
        for name, value in res.details().items():
            details[name][idx] = np.nan if value is None and name in _FLOAT else value
    return tk.ArrayTreatment(
        np.moveaxis(values.reshape((*lead, *core)), dest, axes),
        np.moveaxis(flags.reshape((*lead, *core)), dest, axes),
        details,
    )


def _assert_identical(got: tk.ArrayTreatment, want: tk.ArrayTreatment) -> None:
    assert got.values.dtype == np.float64 and got.values.shape == want.values.shape
    assert np.array_equal(got.values, want.values, equal_nan=True)
    assert got.values.tobytes() == want.values.tobytes()  # bit for bit, signed zeros too
    assert got.flags.dtype == object and got.flags.shape == want.flags.shape
    assert all(type(f) is str for f in got.flags.flat)
    assert got.flags.tolist() == want.flags.tolist()
    assert list(got.details) == list(DETAIL_FIELDS)
    for name in DETAIL_FIELDS:
        g, w = got.details[name], want.details[name]
        assert g.dtype == w.dtype and g.shape == w.shape, name
        if name in _LOGICAL:
            assert all(a is b for a, b in zip(g.flat, w.flat, strict=True)), name
        else:
            assert np.array_equal(g, w, equal_nan=name in _FLOAT), name


def _check(x: Any, axis: int | tuple[int, ...] = -1, **kw: Any) -> tk.ArrayTreatment | None:
    """treat_array equals the reference loop, or both raise the same error (then None)."""
    try:
        want = _reference(x, axis, **kw)
    except Exception as exc:  # the vectorised code must fail the same way
        with pytest.raises(type(exc)) as info:
            treat_array(x, axis=axis, **kw)
        assert str(info.value) == str(exc)
        return None
    got = treat_array(x, axis=axis, **kw)
    _assert_identical(got, want)
    return got


# --------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------


def _mixed_rows(rng: np.random.Generator, n_rows: int, n: int) -> np.ndarray:
    """Rows of many kinds: normal, lognormal (both signs), heavy tails, ties, NaNs, spikes."""
    out = np.empty((n_rows, n))
    for i in range(n_rows):
        kind = i % 15
        if kind == 0:
            v = rng.normal(50, 10, n)
        elif kind == 1:
            v = rng.lognormal(0, 1.5, n)
        elif kind == 2:
            v = -rng.lognormal(0, 1.2, n)  # negative skew
        elif kind == 3:
            v = rng.standard_t(2, n)
        elif kind == 4:
            v = np.round(rng.lognormal(0, 1, n))  # many ties, tied maxima
        elif kind == 5:
            v = np.r_[np.zeros(n - 1), 100.0]  # NA skew inside the loop
        elif kind == 6:
            v = np.full(n, 2.5)  # constant: NA at the first check
        elif kind == 7:
            v = rng.pareto(0.8, n)  # extremely heavy: winsorisation is not enough
        elif kind == 8:
            v = np.r_[rng.normal(0, 1, n - 2), -60.0, 80.0]  # both directions
        elif kind == 9:
            v = rng.exponential(1, n) ** 3
        elif kind == 10:
            v = rng.normal(0, 1, n) * 10.0 ** rng.integers(-200, 200)  # extreme magnitudes
        elif kind == 11:
            v = rng.lognormal(0, 2, n) * 10.0 ** rng.choice([-80, -77, -70, 70, 77, 80])
        elif kind == 12:
            half = rng.integers(-5, 6, n // 2).astype(float)  # symmetric: skewness 0
            v = np.r_[half, -half, np.zeros(n % 2)]
        elif kind == 13:
            v = rng.lognormal(0, 1, n) + 1e9  # large mean, tiny spread
        else:  # signed zeros next to the outliers: the replacement value is +-0
            v = rng.choice([0.0, -0.0, 0.0, -0.0, -1.0, -2.0, -3.0], n) * rng.choice([1.0, -1.0])
            v[rng.integers(n)] = 50.0 * np.sign(v.sum() or 1.0) * -1.0
        v = v.astype(float)
        v[rng.random(n) < rng.choice([0.0, 0.05, 0.5])] = np.nan
        out[i] = v
    return out


TRANSFORMS: list[Any] = ["log_CT", "log_CT_plus", "boxcox", None]
WINMAX: list[int | None] = [0, 1, 2, 5, None]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("transform", TRANSFORMS)
@pytest.mark.parametrize("combine", [False, True])
def test_random_rows(seed: int, transform: Any, combine: bool) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.choice([3, 4, 5, 8, 20, 60, 300]))
    x = _mixed_rows(rng, 33, n)
    for winmax in WINMAX:
        _check(x, winmax=winmax, transform=transform, combine=combine)


@pytest.mark.parametrize("winmax", WINMAX)
def test_large_panel(winmax: int | None) -> None:
    rng = np.random.default_rng(100)
    x = _mixed_rows(rng, 120, 700).reshape(4, 30, 700)
    _check(x, winmax=winmax)


@pytest.mark.parametrize(
    ("skew_thresh", "kurt_thresh"),
    [(0.0, 0.0), (0.5, -1.0), (1.0, 10.0), (-1.0, 3.5), (2.0, -math.inf)],
)
def test_other_thresholds(skew_thresh: float, kurt_thresh: float) -> None:
    rng = np.random.default_rng(7)
    x = _mixed_rows(rng, 44, 40)
    for winmax in (1, 5, None):
        for transform in ("log_CT", None):
            _check(
                x,
                winmax=winmax,
                transform=transform,
                skew_thresh=skew_thresh,
                kurt_thresh=kurt_thresh,
            )


def test_thresholds_exactly_at_loop_values() -> None:
    """Decisions sitting exactly on (or one ulp from) a threshold inside the loop."""
    rng = np.random.default_rng(11)
    rows = _mixed_rows(rng, 22, 50)
    for row in rows:
        for k in (1, 2, 3):
            res = treat_series(row, winmax=k, transform=None)
            if res.n_winsorised is None:
                continue
            sk, ku = abs(res.skew_after_winsorise), res.kurt_after_winsorise
            for s_t in (sk, np.nextafter(sk, np.inf), np.nextafter(sk, -np.inf), 2.0):
                for k_t in (ku, np.nextafter(ku, np.inf), 3.5):
                    if math.isnan(s_t) or math.isnan(k_t):
                        continue
                    _check(
                        row[None, :], winmax=None, skew_thresh=float(s_t), kurt_thresh=float(k_t)
                    )


@pytest.mark.parametrize("block", [1, 2, 41, 97, 1000])
def test_blocks_of_rows(monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    """Rows are processed in blocks (moments, winsorisation loop, transform): any size."""
    monkeypatch.setattr(ks, "BLOCK_SIZE", block)
    monkeypatch.setattr(tk, "BLOCK_SIZE", block)
    monkeypatch.setattr(tk, "_LOOP_BLOCK", block)
    rng = np.random.default_rng(block)
    x = _mixed_rows(rng, 45, 20)
    for winmax in (1, 5, None):
        for transform in ("log_CT", "log_CT_plus", None):
            _check(x, winmax=winmax, transform=transform, combine=winmax == 1)


def _synthetic_rows(n_units: int, n_years: int, n_ind: int) -> np.ndarray:
    """make_synthetic's values as (time * indicator, unit) rows: one series per row."""
    panel, _ = make_synthetic(n_units, n_years, n_ind, rng=1)
    v = np.asarray(panel.transpose("time", "indicator", "unit").values, dtype=float)
    return np.ascontiguousarray(v.reshape(-1, n_units))


@pytest.mark.parametrize("transform", ["log_CT", "log_CT_plus", "boxcox", None])
def test_realistic_panel(transform: Any) -> None:
    x = _synthetic_rows(400, 3, 24)
    for combine in (False, True):
        got = _check(x, transform=transform, combine=combine)
        assert got is not None
        if transform is not None:
            assert got.details["transformed"].sum() > 5
    neg = -x  # mirrored: negative skew, the other direction and log_CT_neg
    _check(neg, transform="log_CT_plus", winmax=2)


# --------------------------------------------------------------------------------------
# The built-in log transforms, vectorised
# --------------------------------------------------------------------------------------


def _log_edge_rows() -> np.ndarray:
    """Failing rows whose min/max sit on signed zeros, tiny or huge values, NaN."""
    base = np.r_[np.zeros(18), 1.0, 60.0]
    rows = [
        base,
        -base,
        np.r_[-np.zeros(18), 1.0, 60.0],  # -0.0 at the minimum
        np.r_[np.zeros(9), -np.zeros(9), -1.0, -60.0],  # +-0.0 at the maximum
        base * 1e-70,  # tiny and huge values whose moments are still defined
        -base * 1e-75,
        base * 1e75,
        np.r_[-(5e-324), np.zeros(17), 1.0, 7.0],  # subnormal minimum
        np.r_[np.nan, base[1:]],
        np.r_[np.arange(1.0, 19.0), 500.0, np.nan],
        -np.r_[np.arange(1.0, 19.0), 500.0, 800.0],
    ]
    return np.array(rows)


@pytest.mark.parametrize("transform", ["log_CT", "log_CT_plus"])
@pytest.mark.parametrize("combine", [False, True])
def test_log_transform_edge_values(transform: str, combine: bool) -> None:
    x = _log_edge_rows()
    for winmax in (0, 1, 3):
        got = _check(x, winmax=winmax, transform=transform, combine=combine)
        assert got is not None
        if winmax == 0:  # every row fails, hence is transformed
            assert got.details["transformed"].all()


@pytest.mark.parametrize("name", ["log_CT", "log_CT_plus"])
def test_vectorised_log_equals_the_function_called_per_row(name: str) -> None:
    """The same transform as a plain callable (called row by row) gives the same bits."""
    func = {"log_CT": tk.log_ct, "log_CT_plus": tk.log_ct_plus}[name]
    rng = np.random.default_rng(41)
    x = np.vstack([_mixed_rows(rng, 60, 50), _log_edge_rows()[:, :20].repeat(3, axis=1)[:, :50]])
    for combine in (False, True):
        for winmax in (0, 2, 5):
            kw: dict[str, Any] = {"winmax": winmax, "combine": combine}
            got = treat_array(x, transform=name, **kw)
            want = treat_array(x, transform=lambda v: func(v), **kw)
            _assert_identical(got, want)


def test_overridden_builtin_name_is_called_per_row() -> None:
    """A function registered over "log_CT" replaces the vectorised built-in."""
    calls: list[int] = []

    def mine(v: np.ndarray) -> tuple[np.ndarray, str]:
        calls.append(1)
        return np.arcsinh(v), "mine"

    register("treat", "log_CT", overwrite=True)(mine)
    try:
        got = _check(_failing_rows(), winmax=1, transform="log_CT")
    finally:
        unregister("treat", "log_CT")
        register("treat", "log_CT")(tk.log_ct)
    assert got is not None and calls
    assert "+mine" in set(got.flags.flat)
    assert treat_series(_failing_rows()[0], winmax=1).flags[0] == "+log_CT"


# --------------------------------------------------------------------------------------
# Hypothesis: arbitrary small arrays and options
# --------------------------------------------------------------------------------------

_cell = st.one_of(
    st.floats(-1e3, 1e3, allow_nan=False),
    st.sampled_from([0.0, -0.0, 1.0, 2.0, 100.0, -100.0, 1e6, np.nan]),
    st.floats(allow_nan=True, allow_infinity=False, width=64),
)


@st.composite
def _arrays(draw: st.DrawFn) -> np.ndarray:
    n_rows = draw(st.integers(1, 5))
    n = draw(st.integers(0, 25))
    cells = draw(st.lists(_cell, min_size=n_rows * n, max_size=n_rows * n))
    return np.array(cells, dtype=float).reshape(n_rows, n)


@settings(max_examples=300, deadline=None)
@given(
    x=_arrays(),
    winmax=st.sampled_from(WINMAX),
    transform=st.sampled_from(TRANSFORMS),
    combine=st.booleans(),
    skew_thresh=st.sampled_from([2.0, 0.5, 0.0]),
    kurt_thresh=st.sampled_from([3.5, 0.0, -2.0]),
)
def test_hypothesis_small_arrays(
    x: np.ndarray,
    winmax: int | None,
    transform: Any,
    combine: bool,
    skew_thresh: float,
    kurt_thresh: float,
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. SciPy's Box-Cox optimiser on wild data
        _check(
            x,
            winmax=winmax,
            transform=transform,
            combine=combine,
            skew_thresh=skew_thresh,
            kurt_thresh=kurt_thresh,
        )


# --------------------------------------------------------------------------------------
# Shapes, axes, layouts
# --------------------------------------------------------------------------------------


def test_axes_and_layouts() -> None:
    rng = np.random.default_rng(21)
    x = _mixed_rows(rng, 24, 36).reshape(2, 3, 4, 36)
    for axis in (-1, 0, 1, 2, (0, 3), (3, 1), (1, 2), (0, 1, 2, 3)):
        _check(x, axis=axis)
    _check(np.asfortranarray(x), axis=-1)
    _check(x[:, ::-1, :, ::2], axis=(1, 3))
    _check(np.swapaxes(x, 1, 3), axis=1, winmax=None, combine=True)


def test_one_dimensional_and_empty() -> None:
    rng = np.random.default_rng(22)
    row = rng.lognormal(0, 2, 40)
    got = _check(row)
    assert got is not None
    assert all(v.shape == () for v in got.details.values())
    _check(np.r_[np.zeros(9), 100.0])
    for shape in ((0, 5), (3, 0), (0,), (2, 0, 3)):
        _check(np.empty(shape))
    _check(np.empty((2, 0, 3)), axis=1)
    _check([[1.0, 2.0, 30.0, 4.0, 5.0, 6.0, 7.0]])  # a list


def test_input_not_modified_and_outputs_own_memory() -> None:
    rng = np.random.default_rng(23)
    x = _mixed_rows(rng, 22, 30)
    before = x.copy()
    res = treat_array(x, combine=True)
    assert np.array_equal(x, before, equal_nan=True)
    assert not np.shares_memory(res.values, x)


# --------------------------------------------------------------------------------------
# Custom transforms
# --------------------------------------------------------------------------------------


def _failing_rows(seed: int = 31) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.lognormal(0, 2.5, (6, 40))
    x[2, 3] = np.nan
    x[4] = rng.normal(size=40)  # passes
    return x


@pytest.mark.parametrize(
    "transform",
    [
        lambda v: (np.sqrt(v - np.nanmin(v)), ""),  # empty flag keeps winhi/winlo
        lambda v: (np.full(v.shape, np.nan), "allnan"),  # NA after the transform
        lambda v: (np.full(v.shape, 1.0), "const"),  # NA after the transform
        lambda v: (list(np.arcsinh(v)), "asinh"),  # a list
        lambda v: (np.arcsinh(v).astype(np.float32), 7),  # other dtype, non-str flag
        lambda v: (np.arcsinh(v, out=v), "inplace"),  # mutates and returns its input
        lambda v: (v[::-1].copy(), "rev"),  # still failing: kept
    ],
)
@pytest.mark.parametrize("combine", [False, True])
def test_custom_transforms(transform: Callable[..., Any], combine: bool) -> None:
    for winmax in (0, 1, 3):
        _check(_failing_rows(), winmax=winmax, transform=transform, combine=combine)


def test_transform_flags_vary_by_row() -> None:
    x = np.vstack([_failing_rows(), -_failing_rows(32)])
    for combine in (False, True):
        got = _check(x, winmax=1, transform="log_CT_plus", combine=combine)
        assert got is not None
        assert {"+log_CT", "+log_CT_neg", "winhi+log_CT", "winlo+log_CT_neg"} <= set(got.flags.flat)


def test_transform_calls_same_order_and_inputs() -> None:
    x = np.vstack([_failing_rows(), _failing_rows(33)])

    def recorder(calls: list[np.ndarray]) -> Callable[[np.ndarray], tuple[np.ndarray, str]]:
        def f(v: np.ndarray) -> tuple[np.ndarray, str]:
            calls.append(v.copy())
            return np.log1p(v - np.nanmin(v)), "rec"

        return f

    for combine in (False, True):
        a: list[np.ndarray] = []
        b: list[np.ndarray] = []
        got = treat_array(x, winmax=2, transform=recorder(a), combine=combine)
        want = _reference(x, winmax=2, transform=recorder(b), combine=combine)
        _assert_identical(got, want)
        assert len(a) == len(b) > 0
        assert all(np.array_equal(u, v, equal_nan=True) for u, v in zip(a, b, strict=True))


def test_transform_errors_match() -> None:
    x = _failing_rows()
    with pytest.raises(InvalidParameterError, match="shape"):
        treat_array(x, winmax=1, transform=lambda v: (v[:-1], "short"))
    _check(x, winmax=1, transform=lambda v: (v[:-1], "short"))

    def boom(v: np.ndarray) -> tuple[np.ndarray, str]:
        raise ValueError("transform failed")

    _check(x, winmax=1, transform=boom)


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_updated_moments_never_change_a_decision(seed: int, fast: bool, monkeypatch) -> None:
    """The winsorisation loop updates each row's power sums instead of recomputing them;
    rows whose decision rounding could change are recomputed. Rows built to stress that:
    huge outliers (the sums lose most of their magnitude when they go), data far from 0
    (1e9 + x), rounded values (ties), and thresholds placed exactly on values the series
    reach inside the loop. Both loops: the general one and the one on extreme values."""
    monkeypatch.setattr(tk, "_FAST_MIN_SIZE", 0 if fast else 1 << 62)
    rng = np.random.default_rng(seed)
    for _ in range(15):
        n = int(rng.choice([6, 10, 30, 200, 1000]))
        rows = []
        for _ in range(12):
            v = rng.normal(0, 1, n)
            k = int(rng.integers(1, 4))
            where = rng.choice(n, k, replace=False)
            v[where] = rng.choice([-1.0, 1.0], k) * 10.0 ** rng.uniform(1, 6, k)
            if rng.random() < 0.3:
                v = v + 10.0 ** rng.uniform(0, 9)
            if rng.random() < 0.3:
                v = np.round(v, int(rng.integers(0, 3)))
            rows.append(v)
        x = np.array(rows)
        first = treat_series(x[0], winmax=3, transform=None)
        sk = abs(first.skew_after_winsorise)
        ku = first.kurt_after_winsorise
        sk = 2.0 if math.isnan(sk) else float(sk)
        ku = 3.5 if math.isnan(ku) else float(ku)
        for skew_t, kurt_t in [(2.0, 3.5), (sk, 3.5), (2.0, ku), (float(np.nextafter(sk, 0)), ku)]:
            for winmax in (1, 3, None):
                _check(x, winmax=winmax, skew_thresh=skew_t, kurt_thresh=kurt_t, transform=None)


# --------------------------------------------------------------------------------------
# The winsorisation loop on each row's extreme values (_winsorise_fast)
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_extreme_values_equal_a_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(60):
        n = int(rng.choice([8, 40, 500]))
        v = rng.lognormal(0, float(rng.uniform(0.2, 2.5)), n) * (-1 if i % 3 == 0 else 1)
        if i % 4 == 1:
            v = np.round(v, 1)  # ties
        if i % 5 == 2:
            v[rng.random(n) < 0.3] = np.nan
        if i % 7 == 3:
            v[:] = np.round(rng.normal(0, 1, n)) * 1e-3
            v[0] = 50.0  # one outlier: few values beyond mean + 3 sd, or mean + 1 sd
        rows.append(np.r_[v, np.full(500 - n, np.nan)])
    w = np.array(rows)
    up = rng.random(len(rows)) < 0.6
    sums = ks._moments_rows(w)[2]
    depth = 6
    values, counts, ok = tk._extreme_values(w, up, sums, depth)
    for i, row in enumerate(w):
        v = row[~np.isnan(row)]
        distinct = np.unique(v)[::-1] if up[i] else np.unique(v)
        assert ok[i] == (distinct.size >= depth)
        if not ok[i]:
            continue
        np.testing.assert_array_equal(values[i], distinct[:depth])
        beyond = [np.count_nonzero(v >= d if up[i] else v <= d) for d in distinct[:depth]]
        np.testing.assert_array_equal(counts[i], beyond)


def _one_way_breakers(rng: np.random.Generator, n: int) -> np.ndarray:
    """Rows the fast loop must hand to the general one: skewness changing sign on the
    way, a zero replacement value (0.0 and -0.0 among the values), fewer distinct values
    than steps; and rows whose extreme values lie within mean + 3 sd, or mean + 1 sd."""
    rows = []
    for _ in range(4):
        v = rng.normal(0, 1, n)
        v[0] = 60.0  # one huge high outlier, then several large low ones
        v[1:6] = -rng.uniform(12, 15, 5)
        rows.append(v)
        v = -rng.lognormal(0, 0.5, n)
        v[0], v[1], v[2] = 100.0, 0.0, -0.0
        rows.append(v)
        v = np.repeat([0.0, 1.0, 2.0, 100.0], [n - 31, 20, 10, 1]).astype(float)
        rows.append(rng.permutation(v))
        v = rng.integers(0, 10, n).astype(float)
        v[:2] = [1000.0, 900.0]
        rows.append(v)
        v = np.round(rng.normal(0, 1, n), 2)
        v[0] = 40.0
        rows.append(v)
        rows.append(rng.lognormal(0, 1.5, n))
    return np.array(rows)


@pytest.mark.parametrize("seed", [0, 1])
def test_fast_winsorisation_hands_over_and_equals_the_reference(monkeypatch, seed) -> None:
    handed: list[int] = []
    fast: list[int] = []
    block, clip = tk._winsorise_block, tk._clip_rows

    def count_block(w: np.ndarray, *args: Any) -> None:
        handed.append(w.shape[0])
        block(w, *args)

    def count_clip(w: np.ndarray, rows: np.ndarray, *args: Any) -> None:
        fast.append(rows.size)
        clip(w, rows, *args)

    monkeypatch.setattr(tk, "_winsorise_block", count_block)
    monkeypatch.setattr(tk, "_clip_rows", count_clip)
    monkeypatch.setattr(tk, "_FAST_MIN_SIZE", 0)  # the fast loop even on these small rows
    x = _one_way_breakers(np.random.default_rng(seed), 300)
    for winmax in (1, 2, 5, 10, 32):
        for transform in (None, "log_CT"):
            handed.clear()
            fast.clear()
            got = _check(x, winmax=winmax, transform=transform)
            assert got is not None
            if winmax >= 5:  # both loops ran
                assert sum(handed) > 0 and sum(fast) > 0
    # both directions in one row: a row handed over after turning
    res = treat_array(x, winmax=10, transform=None)
    assert any(("winhi" in set(f)) and ("winlo" in set(f)) for f in res.flags)
    # the general loop alone gives the same
    monkeypatch.setattr(tk, "_FAST_WINMAX", 0)
    handed.clear()
    fast.clear()
    _assert_identical(treat_array(x, winmax=5), _reference(x, winmax=5))
    assert not fast
