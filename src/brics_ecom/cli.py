"""The ``brics-ecom`` command.

``brics-ecom report`` builds the bundled example index end to end and prints the results
table (until the BRICS frameworks land, the bundled example is COINr's ASEM index).

Examples
--------
>>> from brics_ecom.cli import main
>>> main(["report", "--top", "3", "--format", "csv"])  # doctest: +ELLIPSIS
unit,uName,Rank,Index,...
CHE,Switzerland,1,68.38...
0
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ._version import __version__

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["main"]


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="brics-ecom",
        description="Composite indices of e-commerce dynamism, MSME participation and "
        "digital-divide gaps.",
    )
    parser.add_argument("--version", action="version", version=f"brics_ecom {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser(
        "report",
        help="build the bundled example index and print its results table",
        description="Run the full pipeline (denominate, impute, screen, treat, normalise, "
        "aggregate) on the bundled ASEM data and print the index table.",
    )
    rep.add_argument(
        "--pipeline", type=Path, default=None,
        help="a pipeline saved with Pipeline.to_yaml (default: COINr's example pipeline)",
    )  # fmt: skip
    rep.add_argument("--top", type=int, default=None, help="show only the best N units")
    rep.add_argument(
        "--format", choices=("table", "csv", "markdown"), default="table", help="output format"
    )
    rep.add_argument(
        "--what", choices=("aggregates", "full", "ranks"), default="aggregates",
        help="columns: aggregate scores, scores with indicators, or ranks",
    )  # fmt: skip
    rep.add_argument("--output", "-o", type=Path, default=None, help="write to this file")
    return parser


def _report(args: argparse.Namespace) -> int:
    import pandas as pd

    from .datasets import load_asem
    from .pipeline import Pipeline

    panel, spec = load_asem()
    pipeline = Pipeline.from_yaml(args.pipeline) if args.pipeline else Pipeline.coinr_example(spec)
    start = time.perf_counter()
    result = pipeline.run(panel)
    elapsed = time.perf_counter() - start
    table = result.table(what=args.what)
    n_units = table.shape[0]
    if args.top is not None:
        table = table.head(args.top)
    if args.format == "csv":
        text = table.to_csv()
    elif args.format == "markdown":
        text = _markdown(table)
    else:
        with pd.option_context(
            "display.width", 160, "display.max_columns", 20, "display.precision", 2
        ):
            text = table.to_string() + "\n"
        header = (
            f"{spec.name}: {n_units} units, {len(spec.indicators)} indicators, "
            f"{len(spec.aggregates)} aggregates; pipeline ran in {elapsed * 1e3:.1f} ms\n"
        )
        text = header + text
    if args.output is not None:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _markdown(table: pd.DataFrame) -> str:
    cols = ["unit", *map(str, table.columns)]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for unit, row in table.iterrows():
        cells = [f"{v:.2f}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join([str(unit), *cells]) + " |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``brics-ecom`` command; returns the exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    from .errors import BricsEcomError

    try:
        if args.command == "report":
            return _report(args)
    except BricsEcomError as exc:
        sys.stderr.write(f"brics-ecom: error: {exc}\n")
        return 2
    return 1  # pragma: no cover - argparse requires a command


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
