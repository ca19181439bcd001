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

__all__ = ["data_path", "load_asem", "load_asem_tables"]


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
    read = dict(keep_default_na=False, na_values=["NA"])
    return pd.read_csv(data_path(data_file), **read), pd.read_csv(data_path("asem_iMeta.csv"), **read)


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
