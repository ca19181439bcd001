"""Benchmarks of the weighting module (picked up by ``benchmarks/run.py``).

bod_2000x60
    Benefit-of-the-doubt scores of 2,000 units on 60 indicators, unrestricted and
    restricted (every indicator between 0.5 % and 5 % of each unit's score), with
    ``brics_ecom.weights.bod``'s kernel (shared working set of constraints, vertex
    certification, small LPs); baseline: a naive Python loop building and solving one
    full ``linprog`` per unit (2,000 constraints each), timed on a subset of units and
    scaled. Also times the vectorised single-indicator closed form and reports how often
    it equals the LP optimum (it is only a lower bound).

    Data: one common factor plus noise (indicators correlated about 0.5, as in real
    composite indicators), min-max normalised onto [0.01, 1].
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linprog

sys.path.insert(0, str(Path(__file__).parent))
from _common import timeit
from brics_ecom._kernels import weights as wk

N_UNITS, N_IND = 2000, 60
SHARE_LO, SHARE_HI = 0.005, 0.05


def make_data(n: int = N_UNITS, m: int = N_IND, seed: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = 0.7 * rng.normal(size=(n, 1)) + 0.7 * rng.normal(size=(n, m))
    return (y - y.min(0)) / (y.max(0) - y.min(0)) * 0.99 + 0.01


def naive_unit(y: np.ndarray, c: int, restricted: bool) -> float:
    """One unit the obvious way: all 2,000 constraints, built afresh."""
    n, m = y.shape
    a_ub, b_ub = [list(row) for row in y], [1.0] * n
    if restricted:
        total = y[c]
        for i in range(m):
            up = [-SHARE_HI * v for v in total]
            up[i] += total[i]
            lo = [SHARE_LO * v for v in total]
            lo[i] -= total[i]
            a_ub += [up, lo]
            b_ub += [0.0, 0.0]
    res = linprog(-y[c], A_ub=np.array(a_ub), b_ub=np.array(b_ub), bounds=(0, None),
                  method="highs")  # fmt: skip
    assert res.status == 0
    return float(-res.fun)


def bench_bod(quick: bool) -> dict[str, Any]:
    y = make_data()
    slo, shi = np.full(N_IND, SHARE_LO), np.full(N_IND, SHARE_HI)
    repeat = 1 if quick else 3
    out: dict[str, Any] = {"units": N_UNITS, "indicators": N_IND}
    t_closed = timeit(lambda: wk.bod_closed_form(y), repeat=20, warmup=2)
    out["closed_form_seconds"] = t_closed
    for name, kw in (
        ("unrestricted", {}),
        ("restricted", {"share_lower": slo, "share_upper": shi}),
    ):
        restricted = bool(kw)
        res: dict[str, Any] = {}

        def ours(kw: dict[str, Any] = kw, res: dict[str, Any] = res) -> None:
            res["s"], _, res["info"] = wk.bod_lp(y, **kw)

        t = timeit(ours, repeat=repeat, warmup=0)
        n_loop = 15 if quick else 60
        picks = np.linspace(0, N_UNITS - 1, n_loop).astype(int)
        naive: list[float] = []
        t_loop = timeit(
            lambda picks=picks, restricted=restricted, naive=naive: naive.extend(
                naive_unit(y, int(c), restricted) for c in picks
            ),
            repeat=1,
            warmup=0,
        )
        base = t_loop * N_UNITS / n_loop
        np.testing.assert_allclose(res["s"][picks], naive[:n_loop], rtol=1e-7)
        out[f"{name}_seconds"] = t
        out[f"{name}_naive_seconds"] = base
        out[f"{name}_speedup"] = base / t
        out[f"{name}_lps"] = int(res["info"]["n_lp"])
        out[f"{name}_certified"] = int(res["info"]["n_certified"])
        out[f"{name}_working_set"] = len(res["info"]["working_set"])
        if not restricted:
            lb, _ = wk.bod_closed_form(y)
            out["closed_form_exact_share"] = float(np.isclose(lb, res["s"], rtol=1e-9).mean())
            out["efficient_share"] = float((res["s"] >= 1 - 1e-9).mean())
    out["baseline"] = (
        f"naive loop: one full linprog per unit (timed on {15 if quick else 60} units, scaled)"
    )
    return out


BENCHMARKS = {"bod_2000x60": bench_bod}
