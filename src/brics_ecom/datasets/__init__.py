"""Bundled datasets with their provenance.

* COINr's ASEM example (MIT licence, see ``data/LICENSE_COINr_MIT.txt``): 51 ASEM
  countries, 49 indicators, 2018 (and a synthetic 2018–2022 panel).

Examples
--------
>>> from brics_ecom.datasets import load_asem
>>> panel, spec = load_asem()
>>> panel.sizes["unit"], spec.root
(51, 'Index')
"""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    import xarray as xr

    from ..spec import IndexSpec

__all__ = ["data_path", "load_asem", "load_asem_tables", "make_synthetic"]


def data_path(name: str) -> str:
    """Filesystem path of a bundled data file.

    Examples
    --------
    >>> data_path("asem_iMeta.csv").endswith("asem_iMeta.csv")
    True
    """
    return str(resources.files(__package__).joinpath("data", name))


def load_asem_tables(panel: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """COINr's ASEM ``iData`` (or the panel ``iData_p`` if ``panel``) and ``iMeta``.

    Examples
    --------
    >>> iData, iMeta = load_asem_tables()
    >>> iData.shape, iMeta.shape
    ((51, 60), (68, 10))
    """
    data_file = "asem_iData_panel.csv" if panel else "asem_iData.csv"
    data = pd.read_csv(data_path(data_file), keep_default_na=False, na_values=["NA"])
    meta = pd.read_csv(data_path("asem_iMeta.csv"), keep_default_na=False, na_values=["NA"])
    return data, meta


def load_asem(panel: bool = False) -> tuple[xr.DataArray, IndexSpec]:
    """COINr's ASEM example as a panel and its :class:`~brics_ecom.spec.IndexSpec`.

    Parameters
    ----------
    panel : bool, default False
        If True, the synthetic 2018–2022 panel (COINr's ``ASEM_iData_p``); otherwise the
        2018 cross-section (``ASEM_iData``, time label 2018).

    Returns
    -------
    (xarray.DataArray, IndexSpec)
        The panel (denominators in ``attrs["denominators"]``, groups as unit coordinates)
        and the index specification.

    Examples
    --------
    >>> p, spec = load_asem(panel=True)
    >>> p.sizes["time"]
    5
    """
    from ..panel import from_coinr

    iData, iMeta = load_asem_tables(panel=panel)
    out, spec = from_coinr(iData, iMeta)
    out.attrs["source"] = (
        "COINr 1.1.14 ASEM example (MIT licence; original source: EU JRC ASEM Sustainable "
        "Connectivity Portal)"
    )
    return out, type(spec)(spec.nodes, name="ASEM Sustainable Connectivity")


def make_synthetic(
    n_units: int = 200,
    n_years: int = 10,
    n_indicators: int = 60,
    *,
    n_pillars: int = 8,
    n_subindices: int = 2,
    missing: float = 0.02,
    rng: int | None = 0,
) -> tuple[xr.DataArray, IndexSpec]:
    """A synthetic panel and a four-level index tree, for benchmarks and tests.

    Indicators mix normal, log-normal (heavy right tail) and bounded percentage series,
    a fifth of them negative and a quarter of them extensive (divided by a ``Population``
    or ``GDP`` denominator); ``missing`` is the share of cells blanked at random. Units
    carry a ``region`` group coordinate.

    Parameters
    ----------
    n_units, n_years, n_indicators : int
        Panel size.
    n_pillars, n_subindices : int
        Aggregates at levels 2 and 3 (level 4 is the index).
    missing : float
        Share of missing cells.
    rng : int or None
        Seed.

    Examples
    --------
    >>> panel, spec = make_synthetic(50, 3, 12, n_pillars=4)
    >>> panel.shape, spec.max_level
    ((50, 3, 12), 4)
    """
    import numpy as np
    import xarray as xr

    from .._validation import as_rng
    from ..panel import DIMS, with_denominators
    from ..spec import IndexSpec, Node

    gen = as_rng(rng)
    units = [f"U{i:04d}" for i in range(n_units)]
    years = list(range(2000, 2000 + n_years))
    codes = [f"ind{i:02d}" for i in range(n_indicators)]
    shape = (n_units, n_years, n_indicators)
    level = gen.normal(size=(n_units, 1, 1))  # a common factor makes indicators correlate
    trend = np.linspace(0.0, 0.5, n_years)[None, :, None]
    noise = gen.normal(size=shape)
    kind = np.arange(n_indicators) % 3
    base = 0.6 * level + trend + 0.8 * noise
    values = np.where(
        kind == 0, 50 + 10 * base, np.where(kind == 1, np.exp(base), 100 / (1 + np.exp(-base)))
    )
    extensive = np.arange(n_indicators) % 4 == 3
    pop = np.exp(gen.normal(9, 1.5, size=(n_units, 1))) * (1 + 0.01 * np.arange(n_years))
    gdp = pop * np.exp(gen.normal(1, 0.5, size=(n_units, 1)))
    denom_vals = np.stack([pop, gdp], axis=-1)
    which = np.where(np.arange(n_indicators) % 8 == 3, 1, 0)
    values = np.where(extensive, values * denom_vals[..., which], values)
    values = np.where(gen.random(shape) < missing, np.nan, values)
    coords = {"unit": units, "time": years, "indicator": codes}
    panel = xr.DataArray(values, dims=DIMS, coords=coords, name="value")
    regions = np.array(["North", "South", "East", "West"], dtype=object)
    panel = panel.assign_coords(region=("unit", regions[gen.integers(0, 4, n_units)]))
    denoms = xr.DataArray(
        denom_vals, dims=("unit", "time", "denominator"),
        coords={"unit": units, "time": years, "denominator": ["Population", "GDP"]},
    )  # fmt: skip
    panel = with_denominators(panel, denoms)
    pillars = [f"P{j}" for j in range(n_pillars)]
    subs = [f"S{k}" for k in range(n_subindices)]
    nodes = [
        Node(
            c, level=1, parent=pillars[i % n_pillars], direction=-1 if i % 5 == 4 else 1,
            denominator=("GDP" if i % 8 == 3 else "Population") if extensive[i] else None,
        )
        for i, c in enumerate(codes)
    ]  # fmt: skip
    nodes += [
        Node(p, kind="aggregate", parent=subs[j % n_subindices]) for j, p in enumerate(pillars)
    ]
    nodes += [Node(s, kind="aggregate", parent="Index") for s in subs]
    nodes += [Node("Index", kind="aggregate")]
    nodes += [Node("Population", kind="denominator"), Node("GDP", kind="denominator")]
    return panel, IndexSpec(nodes, name="Synthetic")
