"""Time each step of COINr's example pipeline on ASEM (median of repeated runs).

``python benchmarks/profile_steps.py [--synthetic]``: where the pipeline's time goes.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import brics_ecom as be
from brics_ecom.datasets import make_synthetic
from brics_ecom.pipeline import STEPS


def _summary(times: list[float]) -> str:
    return f"{statistics.median(times) * 1e3:8.2f} ms (min {min(times) * 1e3:.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--synthetic", action="store_true", help="2,000 x 20 x 60 panel")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if args.synthetic:
        panel, spec = make_synthetic(2000, 20, 60, rng=1)
        pipe = be.Pipeline.coinr_example(spec).set(impute__group="region")
    else:
        panel, spec = be.datasets.load_asem()
        pipe = be.Pipeline.coinr_example(spec)
    pipe.run(panel)
    current = pipe._prepare(panel)
    for step in pipe.steps:
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            out, _ = STEPS[step.name](current, spec, dict(step.params))
            times.append(time.perf_counter() - start)
        print(f"{step.name:>12}: {_summary(times)}")
        if step.name != "aggregate":
            current = out
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        pipe.run(panel)
        times.append(time.perf_counter() - start)
    print(f"{'total run':>12}: {_summary(times)}")


if __name__ == "__main__":
    main()
