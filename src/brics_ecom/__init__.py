"""brics_ecom: composite indices of e-commerce dynamism, MSME participation and the
digital divide, COINr-exact, vectorised and panel-native.

The front doors work on labelled panels (``xarray.DataArray`` with dims ``unit``, ``time``,
``indicator``); :class:`Pipeline` chains them into an index.

Examples
--------
>>> import brics_ecom as be
>>> panel, spec = be.datasets.load_asem()
>>> result = be.Pipeline.coinr_example(spec).run(panel)
>>> result.table().index[:3].tolist()
['CHE', 'NLD', 'DNK']
"""

from __future__ import annotations

from . import (
    analysis,
    datasets,
    dynamics,
    errors,
    frameworks,
    groups,
    inequality,
    io,
    msme,
    panel,
    registry,
    spec,
    uncertainty,
    weights,
)
from ._kernels import aggregate as _aggregate_kernels  # noqa: F401 - registers methods
from ._kernels import impute as _impute_kernels  # noqa: F401
from ._kernels import normalise as _normalise_kernels  # noqa: F401
from ._kernels import treat as _treat_kernels  # noqa: F401
from ._version import __version__
from .aggregate import aggregate
from .denominate import denominate
from .impute import impute
from .normalise import normalise
from .pipeline import Pipeline, Step
from .results import Result, rank_scores
from .screen import screen
from .spec import IndexSpec, Node
from .treat import treat

__all__ = [
    "IndexSpec",
    "Node",
    "Pipeline",
    "Result",
    "Step",
    "__version__",
    "aggregate",
    "analysis",
    "datasets",
    "denominate",
    "dynamics",
    "errors",
    "frameworks",
    "groups",
    "impute",
    "inequality",
    "io",
    "msme",
    "normalise",
    "panel",
    "rank_scores",
    "registry",
    "screen",
    "spec",
    "treat",
    "uncertainty",
    "weights",
]
