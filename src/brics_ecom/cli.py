"""The ``brics-ecom`` command.

``brics-ecom report``
    The main job: the four BRICS e-commerce indices (:data:`brics_ecom.report.FRAMEWORKS`)
    for the current BRICS members and the comparator economies, written to a folder as a
    self-contained HTML report, tidy CSV files and an Excel workbook
    (:func:`brics_ecom.report.build_report`).
``brics-ecom run SPEC.yaml DATA.csv``
    A user's own index (an index specification or a saved pipeline) on a user's data
    (:func:`brics_ecom.report.run_report`).
``brics-ecom frameworks [NAME]``
    The built-in frameworks; with a name, its indicators and sources.
``brics-ecom data``
    The bundled data: sources, licences and indicator counts (``--indicators``: the codes).
``brics-ecom example``
    COINr's ASEM example index, built end to end and printed as a table.

Errors in what the user asked for (an unknown framework or country, an unreadable file,
years outside the data) end with one line on stderr and exit status 2.

Examples
--------
>>> from brics_ecom.cli import main
>>> main(["example", "--top", "3", "--format", "csv"])  # doctest: +ELLIPSIS
unit,uName,Rank,Index,...
CHE,Switzerland,1,68.38...
0
>>> main(["frameworks"])  # doctest: +ELLIPSIS
digital_divide      Digital Divide Index: DDI = Gender + Income + ...
...
0
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from ._version import __version__

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["main"]

_OLD_REPORT_OPTIONS = ("--top", "--format", "--what", "--pipeline", "--output", "-o")


_OLD_REPORT_HINT = (
    " (the ASEM example table that 'brics-ecom report' printed is now 'brics-ecom example')"
)


class _Parser(argparse.ArgumentParser):
    """argparse, with a hint for the options ``report`` had before it built the report."""

    def error(self, message: str) -> NoReturn:
        if self.prog.endswith(" report") and any(o in message for o in _OLD_REPORT_OPTIONS):
            message += _OLD_REPORT_HINT
        super().error(message)


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="brics-ecom",
        description="Composite indices of e-commerce dynamism, MSME participation and "
        "digital-divide gaps (BRICS E-commerce Cooperation Initiative, 2017).",
    )
    parser.add_argument("--version", action="version", version=f"brics_ecom {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    # ---------------------------------------------------------------- report
    rep = sub.add_parser(
        "report",
        help="build the four BRICS indices and write an HTML report, CSV files and Excel",
        description="Build the BRICS e-commerce indices (UNCTAD B2C, e-commerce dynamism, "
        "MSME participation, digital divide) for the current BRICS members and comparator "
        "economies, on the bundled data or yours, and write report.html (self-contained), "
        "one tidy CSV per framework and level, and brics_report.xlsx to --out.",
    )
    rep.add_argument(
        "--out", type=Path, default=Path("brics_report"),
        help="output folder (default: ./brics_report)",
    )  # fmt: skip
    who = rep.add_mutually_exclusive_group()
    who.add_argument(
        "--countries", default=None, metavar="ISO3,...",
        help="the economies (ISO3 codes, names or groups such as BRICS, G7; default: the "
        "current BRICS members plus the comparators)",
    )  # fmt: skip
    who.add_argument(
        "--comparators", default=None, metavar="ISO3,...",
        help="comparator economies added to the BRICS members (default: the G7, ARG, KOR, "
        "MEX, SAU, TUR: brics_ecom.frameworks.DEFAULT_COMPARATORS less the members)",
    )  # fmt: skip
    rep.add_argument(
        "--years", default=None, metavar="YEARS",
        help="years of every index: 2021, 2017,2021 or 2015-2021 (default: each framework's "
        "own, usually the latest year with data)",
    )  # fmt: skip
    data = rep.add_mutually_exclusive_group()
    data.add_argument(
        "--extra-data", type=Path, default=None, metavar="DIR",
        help="folder of the non-packaged sources (UNCTAD, ITU, UN) added to the bundled data",
    )  # fmt: skip
    data.add_argument(
        "--data", type=Path, default=None, metavar="FILE.csv",
        help="your panel instead of the bundled data: long CSV (unit,time,indicator,value) "
        "or wide CSV (unit, time, one column per indicator)",
    )  # fmt: skip
    rep.add_argument(
        "--frameworks", default=None, metavar="NAME,...",
        help="frameworks to build (default: all four; see 'brics-ecom frameworks')",
    )  # fmt: skip
    rep.add_argument("--no-excel", action="store_true", help="do not write the Excel workbook")
    rep.add_argument("--no-html", action="store_true", help="do not write the HTML report")
    rep.add_argument(
        "--uncertainty", type=int, default=200, metavar="N",
        help="Monte Carlo draws for the rank intervals (weights ±25%%; default 200; 0 = off)",
    )  # fmt: skip
    rep.add_argument("--seed", type=int, default=0, help="seed of the draws (default 0)")
    rep.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")

    # ---------------------------------------------------------------- run
    run = sub.add_parser(
        "run",
        help="run your own index (spec or saved pipeline YAML) on your data (CSV)",
        description="Run an index specification (IndexSpec YAML; with the default COINr-like "
        "pipeline) or a saved pipeline (Pipeline.to_yaml) on a long or wide CSV file, and "
        "write results.csv, scores.csv, pipeline.yaml, results.xlsx and report.html.",
    )
    run.add_argument("spec", type=Path, metavar="SPEC.yaml", help="IndexSpec or Pipeline YAML")
    run.add_argument("data", type=Path, metavar="DATA.csv", help="long or wide CSV")
    run.add_argument(
        "--out", type=Path, default=Path("brics_run"), help="output folder (default ./brics_run)"
    )
    run.add_argument(
        "--impute-group", default=None, metavar="GROUP",
        help="bare spec only: impute missing values by group means within GROUP (default: "
        "indicator means)",
    )  # fmt: skip
    run.add_argument("--no-excel", action="store_true", help="do not write results.xlsx")
    run.add_argument("--no-html", action="store_true", help="do not write report.html")
    run.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")

    # ---------------------------------------------------------------- frameworks, data
    fw = sub.add_parser(
        "frameworks",
        help="list the built-in frameworks (with a name: its indicators and sources)",
        description="List the built-in frameworks; with NAME, what it measures and its indicators.",
    )
    fw.add_argument("name", nargs="?", default=None, help="a framework to describe")
    dat = sub.add_parser(
        "data",
        help="list the bundled data sources, their licences and indicator counts",
        description="The sources of the bundled BRICS+ panel: packaged or not, licence, "
        "number of indicators.",
    )
    dat.add_argument("--indicators", action="store_true", help="list every indicator code")

    # ---------------------------------------------------------------- example
    ex = sub.add_parser(
        "example",
        help="build COINr's ASEM example index and print its results table",
        description="Run the full pipeline (denominate, impute, screen, treat, normalise, "
        "aggregate) on the bundled ASEM data and print the index table.",
    )
    ex.add_argument(
        "--pipeline", type=Path, default=None,
        help="a pipeline saved with Pipeline.to_yaml (default: COINr's example pipeline)",
    )  # fmt: skip
    ex.add_argument("--top", type=int, default=None, help="show only the best N units")
    ex.add_argument(
        "--format", choices=("table", "csv", "markdown"), default="table", help="output format"
    )
    ex.add_argument(
        "--what", choices=("aggregates", "full", "ranks"), default="aggregates",
        help="columns: aggregate scores, scores with indicators, or ranks",
    )  # fmt: skip
    ex.add_argument("--output", "-o", type=Path, default=None, help="write to this file")
    return parser


# ---------------------------------------------------------------------------- commands
def _stderr_log(prefix: str, quiet: bool) -> tuple[Any, Any]:
    def log(line: str) -> None:
        if not quiet:
            sys.stderr.write(f"{prefix}: {line}\n")
            sys.stderr.flush()

    def warn(line: str) -> None:
        sys.stderr.write(f"{prefix}: {line}\n")
        sys.stderr.flush()

    return log, warn


def _use_agg() -> None:
    """Draw into files only: the Agg backend (the command never opens a window)."""
    try:
        import matplotlib
    except ImportError:
        return
    matplotlib.use("Agg")


def _command_line(argv: Sequence[str]) -> str:
    return shlex.join(["brics-ecom", *argv])


def _report(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from .report import build_report

    log, warn = _stderr_log("brics-ecom report", args.quiet)
    _use_agg()
    out = build_report(
        args.out,
        countries=args.countries,
        comparators=args.comparators,
        years=args.years,
        extra_data=args.extra_data,
        data=args.data,
        frameworks=args.frameworks,
        html=not args.no_html,
        excel=not args.no_excel,
        draws=args.uncertainty,
        seed=args.seed,
        log=log,
        warn=warn,
        command=_command_line(argv),
    )
    if not args.no_html and (out / "report.html").is_file():
        log(f"open {(out / 'report.html').resolve()}")
    return 0


def _run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from .report import run_report

    log, warn = _stderr_log("brics-ecom run", args.quiet)
    _use_agg()
    run_report(
        args.spec,
        args.data,
        args.out,
        impute_group=args.impute_group,
        html=not args.no_html,
        excel=not args.no_excel,
        log=log,
        warn=warn,
        command=_command_line(argv),
    )
    return 0


def _frameworks(args: argparse.Namespace) -> int:
    import pandas as pd

    from . import frameworks

    if args.name is None:
        for name in frameworks.available():
            tree = frameworks.load_spec(name)
            title = frameworks.metadata(name).get("title", name)
            children = " + ".join(tree.children(tree.root))
            sys.stdout.write(
                f"{name:<19} {title}: {tree.root} = {children} "
                f"({len(tree.indicators)} indicators)\n"
            )
        sys.stdout.write("Details: brics-ecom frameworks NAME. Build them: brics-ecom report.\n")
        return 0
    desc = frameworks.describe(args.name)  # unknown names: the error lists close matches
    meta = frameworks.metadata(args.name)
    sys.stdout.write(f"{args.name}: {meta.get('title', args.name)}\n\n")
    sys.stdout.write(_wrap(str(meta.get("summary", ""))) + "\n\n")
    cols = [c for c in ("name", "parent", "weight", "source", "licence") if c in desc]
    with pd.option_context("display.width", 200, "display.max_colwidth", 48):
        sys.stdout.write(desc[cols].to_string() + "\n")
    return 0


def _wrap(text: str, width: int = 88) -> str:
    import textwrap

    return textwrap.fill(" ".join(text.split()), width=width)


def _data(args: argparse.Namespace) -> int:
    import pandas as pd

    from .datasets import brics_indicators, describe_sources

    sources = describe_sources()
    table = brics_indicators()
    shipped = int(table["shipped"].sum())
    if args.indicators:
        view = table[["source", "shipped", "name"]].copy()
        view["shipped"] = view["shipped"].map({True: "bundled", False: "extra"})
        with pd.option_context("display.width", 200, "display.max_colwidth", 80,
                               "display.max_rows", None):  # fmt: skip
            sys.stdout.write(view.to_string() + "\n")
        return 0
    sys.stdout.write(
        f"BRICS+ panel: {len(table)} indicators from {len(sources)} sources; {shipped} "
        f"indicators bundled (CC BY 4.0), {len(table) - shipped} read with --extra-data.\n"
    )
    for name, row in sources.iterrows():
        where = "bundled" if row["shipped"] else "extra  "
        sys.stdout.write(
            f"{name:<27} {where} {int(row['n_indicators']):>3} indicators  {row['name']}\n"
            f"{'':<48}licence: {row['licence']}\n"
        )
    sys.stdout.write(
        "Indicator codes: brics-ecom data --indicators. Also bundled: COINr's ASEM example "
        "(MIT; brics-ecom example).\n"
    )
    return 0


def _example(args: argparse.Namespace) -> int:
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


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if isinstance(exc, OSError) and exc.filename is not None:
        text = f"{exc.strerror or type(exc).__name__}: {exc.filename!s}"
    return text or type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``brics-ecom`` command; returns the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 2 on a usage or input error (with one line on stderr).
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = _build_parser()
    args, extra = parser.parse_known_args(args_list)
    if extra:
        old = args.command == "report" and any(a in _OLD_REPORT_OPTIONS for a in extra)
        parser.error(f"unrecognized arguments: {' '.join(extra)}{_OLD_REPORT_HINT if old else ''}")
    from .errors import BricsEcomError

    try:
        if args.command == "report":
            return _report(args, args_list)
        if args.command == "run":
            return _run(args, args_list)
        if args.command == "frameworks":
            return _frameworks(args)
        if args.command == "data":
            return _data(args)
        if args.command == "example":
            return _example(args)
    except (BricsEcomError, OSError) as exc:
        sys.stderr.write(f"brics-ecom {args.command}: error: {_one_line(exc)}\n")
        return 2
    except KeyboardInterrupt:  # pragma: no cover - interactive
        sys.stderr.write("brics-ecom: interrupted\n")
        return 130
    return 1  # pragma: no cover - argparse requires a command


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
