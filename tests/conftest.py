"""Shared fixtures: paths to the reference data beside the checkout."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("BRICS_ECOM_SHARED", REPO.parent / "shared")).resolve()
ASEM = SHARED / "data" / "asem"
REF = ASEM / "reference"

if not (REF / "README.md").exists():  # pragma: no cover - environment problem, not a test
    raise RuntimeError(
        f"The reference data folder {SHARED} was not found. Tests compare against COINr's "
        "reference outputs there; set BRICS_ECOM_SHARED to the folder holding data/asem."
    )


def read_ref(relpath: str, index_col: str | None = "uCode") -> pd.DataFrame:
    """Read a reference CSV exactly as written (NA -> NaN), indexed by ``index_col``."""
    df = pd.read_csv(REF / relpath, keep_default_na=False, na_values=["NA"])
    if index_col is not None:
        df = df.set_index(index_col)
    return df


@pytest.fixture(scope="session")
def asem_dir() -> Path:
    return ASEM


@pytest.fixture(scope="session")
def ref_dir() -> Path:
    return REF
