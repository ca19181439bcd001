"""Screening: drop units whose data availability is too low.

COINr's ``Screen()``: for each unit, the share of indicators with data
(``Dat_Avail = 1 − N_missing / n``) and the share of non-zero values
(``Non_Zero = 1 − N_zero / n``); a unit is flagged when ``Dat_Avail < dat_thresh``
(``by="missing"``), ``Non_Zero < nonzero_thresh`` (``by="zeros"``) or either
(``by="both"``). Forced inclusions/exclusions win over the rule.

On a panel each year is screened on its own: a unit failing in some years has those
years blanked (set to NaN); a unit failing in every year is dropped from ``unit``. Both
are listed in the report and announced with a :class:`~brics_ecom.errors.DataWarning`.

Examples
--------
>>> import brics_ecom as be
>>> panel, spec = be.datasets.load_asem()
>>> out = be.screen(panel, dat_thresh=0.9)  # warns: 5 units dropped
>>> out.data.sizes["unit"], int(out.report["Included"].sum()), out.dropped[:2]
(46, 46, ('BGD', 'BRN'))
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import xarray as xr

from ._apply import ordered
from ._history import describe_call, with_history
from ._validation import check_choice, check_number, report_dropped
from .errors import InvalidParameterError
from .panel import validate

__all__ = ["Screened", "availability_kernel", "screen"]

_BY = ("missing", "zeros", "both")


@dataclass(frozen=True)
class Screened:
    """Result of :func:`screen`.

    Attributes
    ----------
    data : xarray.DataArray or None
        The screened panel (``None`` when a pipeline run did not keep it).
    report : pandas.DataFrame
        One row per unit (per unit × time on panels): ``N_missing``, ``N_zero``,
        ``N_miss_or_zero``, ``Dat_Avail``, ``Non_Zero``, ``LowData``, ``LowNonZero``,
        ``LowDatOrZeroFlag``, ``Included`` (COINr's columns).
    dropped : tuple
        Units removed from the ``unit`` dim.
    """

    data: xr.DataArray | None
    _report: pd.DataFrame | Callable[[], pd.DataFrame] = field(repr=False)
    dropped: tuple[str, ...]

    @property
    def report(self) -> pd.DataFrame:
        """The report table (built on first access: a pipeline run rarely reads it)."""
        if callable(self._report):
            object.__setattr__(self, "_report", self._report())
        assert isinstance(self._report, pd.DataFrame)
        return self._report

    def without_data(self) -> Screened:
        """The same report without the screened panel (to free memory)."""
        return replace(self, data=None)


def availability_kernel(x: np.ndarray, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """Counts of missing and of zero values along ``axis`` (the indicator axis).

    Examples
    --------
    >>> availability_kernel(np.array([[0.0, np.nan, 2.0]]))
    (array([1]), array([1]))
    """
    x = np.asarray(x, dtype=float)

    def count(mask: np.ndarray) -> np.ndarray:
        # bytes summed into int32 (any axis has < 2**31 cells): faster than bool -> int64
        return np.add.reduce(mask.view(np.uint8), axis=axis, dtype=np.int32).astype(np.intp)

    return count(np.isnan(x)), count(x == 0)


def screen(
    panel: xr.DataArray,
    *,
    dat_thresh: float | None = None,
    nonzero_thresh: float | None = None,
    by: str = "missing",
    force_include: Iterable[str] = (),
    force_exclude: Iterable[str] = (),
) -> Screened:
    """Screen units by data availability and/or share of zeros.

    Parameters
    ----------
    panel : xarray.DataArray
        The panel (indicators only).
    dat_thresh : float, optional
        Minimum share of available indicators, in [0, 1] (default 0.66 when used).
    nonzero_thresh : float, optional
        Minimum share of non-zero indicators, in [0, 1] (default 0.05 when used).
    by : {"missing", "zeros", "both"}
        Which rule excludes units (COINr's ``byNA``, ``byNZ``, ``byBoth``).
    force_include, force_exclude : iterable of str
        Units kept or excluded whatever the rule.

    Returns
    -------
    Screened
        ``data``, ``report`` and the ``dropped`` units.

    Raises
    ------
    InvalidParameterError
        Bad ``by`` or thresholds; unknown units in the force lists; a unit in both lists.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> p = xr.DataArray([[[1.0, 2.0]], [[np.nan, np.nan]]], dims=("unit", "time", "indicator"),
    ...     coords={"unit": ["A", "B"], "time": [0], "indicator": ["x", "y"]})
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     s = screen(p, dat_thresh=0.5)
    >>> s.dropped
    ('B',)
    """
    panel = validate(panel)
    check_choice(by, _BY, param="by", func="screen")
    if dat_thresh is None:
        dat_thresh = 0.66
    if nonzero_thresh is None:
        nonzero_thresh = 0.05
    check_number(dat_thresh, param="dat_thresh", func="screen", low=0, high=1)
    check_number(nonzero_thresh, param="nonzero_thresh", func="screen", low=0, high=1)
    units = [str(u) for u in panel["unit"].values.tolist()]
    inc, exc = list(force_include), list(force_exclude)
    for name, lst in (("force_include", inc), ("force_exclude", exc)):
        unknown = sorted(set(lst) - set(units))
        if unknown:
            raise InvalidParameterError(
                f"The {name!r} parameter of screen names unknown units {unknown}."
            )
    both = sorted(set(inc) & set(exc))
    if both:
        raise InvalidParameterError(f"Units {both} are both force-included and force-excluded.")

    x = ordered(panel, ..., "indicator")
    n_ind = x.sizes["indicator"]
    n_miss, n_zero = availability_kernel(x.values, axis=-1)
    dat_avail = 1 - n_miss / n_ind
    non_zero = 1 - n_zero / n_ind
    low_data = dat_avail < dat_thresh
    low_nz = non_zero < nonzero_thresh
    flag = {"missing": low_data, "zeros": low_nz, "both": low_data | low_nz}[by]
    included = ~flag
    unit_axis = list(x.dims).index("unit")
    shape = [1] * included.ndim
    shape[unit_axis] = len(units)
    forced_in = np.isin(units, inc).reshape(shape)
    forced_out = np.isin(units, exc).reshape(shape)
    included = (included | forced_in) & ~forced_out

    dims = [str(d) for d in x.dims if d != "indicator"]
    table = {
        "N_missing": n_miss, "N_zero": n_zero, "N_miss_or_zero": n_miss + n_zero,
        "Dat_Avail": dat_avail, "Non_Zero": non_zero, "LowData": low_data,
        "LowNonZero": low_nz, "LowDatOrZeroFlag": low_data | low_nz, "Included": included,
    }  # fmt: skip
    index_labels = {d: x[d].values for d in dims}
    other = tuple(i for i, d in enumerate(dims) if d != "unit")
    keep_any = np.asarray(included.any(axis=other) if other else included)
    dropped = tuple(u for u, k in zip(units, keep_any, strict=True) if not k)
    blanked = int((~included).sum() - (~keep_any).sum() * (included.size // len(units)))
    data = panel
    if not included.all():
        keep_da = xr.DataArray(included, dims=dims, coords={d: x[d].values for d in dims})
        data = panel.where(keep_da)
    if dropped:
        data = data.sel(unit=[u for u in units if u not in dropped])
        report_dropped(
            f"screen: units {list(dropped)} dropped (data availability below threshold)."
        )
    if other and blanked:
        report_dropped(
            f"screen: {blanked} unit-year(s) blanked for low data availability (see the report)."
        )
    data = data.copy(deep=False)
    data.attrs = dict(panel.attrs)
    call = describe_call(
        "screen",
        {"dat_thresh": dat_thresh, "nonzero_thresh": nonzero_thresh, "by": by,
         "force_include": inc, "force_exclude": exc},
    )  # fmt: skip
    data = with_history(data, panel, call)
    report = functools.partial(_report_frame, index_labels, table)
    return Screened(data, report, dropped)


def _report_frame(labels: dict[str, np.ndarray], table: dict[str, np.ndarray]) -> pd.DataFrame:
    """One row per unit (× time on panels), with the report's columns."""
    dims = list(labels)
    keep = [d for d in dims if not (d == "time" and len(labels[d]) == 1)]
    squeeze = tuple(i for i, d in enumerate(dims) if d not in keep)
    if len(keep) == 1:
        index: pd.Index = pd.Index(labels[keep[0]], name=keep[0])
    else:
        index = pd.MultiIndex.from_product([labels[d] for d in keep], names=keep)
    columns = {k: np.squeeze(v, axis=squeeze).reshape(-1) for k, v in table.items()}
    return pd.DataFrame(columns, index=index)
