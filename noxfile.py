"""Developer sessions: ``nox -s tests lint docs notebooks bench demo``."""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.sessions = ["tests", "lint"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = "3.11"


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The whole test suite (unit tests, COINr reference checks, notebooks)."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff (lint + format check) and mypy on src."""
    session.install("-e", ".[dev]")
    session.run("ruff", "check", "src", "tests", "benchmarks", "scripts")
    session.run("ruff", "format", "--check", "src", "tests", "benchmarks", "scripts")
    session.run("mypy", "src/brics_ecom")


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the Sphinx site with warnings as errors."""
    session.install("-e", ".[docs]")
    session.run("python", "-m", "sphinx", "-W", "--keep-going", "-b", "html", "docs", "docs/_build/html")


@nox.session(python=PYTHON)
def notebooks(session: nox.Session) -> None:
    """Execute every notebook under notebooks/."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", "tests/test_notebooks.py", "-v")


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmarks: ratios against baselines measured in the same run."""
    session.install("-e", ".[test]")
    session.run("python", "benchmarks/run.py", *session.posargs)


@nox.session(python=PYTHON)
def demo(session: nox.Session) -> None:
    """The main job: the BRICS e-commerce report (HTML, CSV, Excel) into a temporary folder."""
    session.install("-e", ".[report]")
    out = Path(session.create_tmp()) / "brics_report"
    session.run("brics-ecom", "report", "--out", str(out), *session.posargs)
