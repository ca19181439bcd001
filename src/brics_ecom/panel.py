"""The panel data model and its conversions to and from pandas.

A *panel* is one :class:`xarray.DataArray` of float64 with dims
``("unit", "time", "indicator")`` and NaN for missing values. ``unit`` holds codes (ISO3
for countries) with an optional ``unit_name`` coordinate and one coordinate per grouping
variable (e.g. ``EurAsia_group``); ``time`` holds sortable labels (integer years);
``indicator`` holds codes. A cross-section is a panel whose ``time`` has length 1.

Denominators (population, GDP, area, ...) are kept apart from the indicators: they travel
in ``panel.attrs["denominators"]`` as a DataArray with dims ``("unit", "time",
"denominator")`` and are used by :func:`brics_ecom.denominate`.

Examples
--------
>>> import pandas as pd
>>> from brics_ecom import panel as pn
>>> df = pd.DataFrame({"unit": ["BRA", "BRA", "IND"], "time": [2020, 2021, 2021],
...                    "indicator": ["net", "net", "net"], "value": [70.0, 81.0, 43.0]})
>>> p = pn.from_long(df)
>>> p.dims
('unit', 'time', 'indicator')
>>> pn.to_long(p)["value"].tolist()
[70.0, 81.0, 43.0]
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

from ._validation import is_lazy, report_dropped
from .errors import DataError, InvalidParameterError

if TYPE_CHECKING:
    from .spec import IndexSpec

__all__ = [
    "DIMS",
    "from_coinr",
    "from_long",
    "from_wide",
    "get_denominators",
    "latest",
    "to_long",
    "to_wide",
    "unit_coords",
    "validate",
    "with_denominators",
]

DIMS = ("unit", "time", "indicator")

#: Set by Pipeline.run while its steps pass validated panels to each other.
_TRUSTED: ContextVar[bool] = ContextVar("brics_ecom_trusted_panels", default=False)


@contextmanager
def trusted_panels() -> Iterator[None]:
    """Within this block, :func:`validate` accepts float64 panels without re-checking."""
    token = _TRUSTED.set(True)
    try:
        yield
    finally:
        _TRUSTED.reset(token)


# ---------------------------------------------------------------------- validation
def _labels_problem(index: pd.Index, dim: str) -> None:
    dup = index[index.duplicated()].unique()
    if len(dup):
        raise DataError(
            f"The {dim!r} dim has duplicated labels {list(dup)[:10]}; each {dim} must appear once."
        )


def validate(panel: xr.DataArray) -> xr.DataArray:
    """Check a panel and return it as float64 (a copy only if the dtype changes).

    Checks: it is a DataArray with ``unit`` and ``indicator`` dims (``time`` optional),
    no dim is empty, labels are unique, values are numeric and finite (NaN allowed).

    Raises
    ------
    DataError
        Naming the offending labels.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> p = xr.DataArray(np.ones((2, 1, 1)), dims=DIMS,
    ...                  coords={"unit": ["A", "B"], "time": [2020], "indicator": ["x"]})
    >>> validate(p).dtype
    dtype('float64')
    """
    if _TRUSTED.get() and isinstance(panel, xr.DataArray) and panel.dtype == np.float64:
        return panel  # inside Pipeline.run: the panel was validated on the way in
    if not isinstance(panel, xr.DataArray):
        raise DataError(
            f"A panel must be an xarray.DataArray with dims {DIMS}; got {type(panel).__name__}. "
            "Build one with brics_ecom.panel.from_long / from_wide / from_coinr."
        )
    for needed in ("unit", "indicator"):
        if needed not in panel.dims:
            raise DataError(
                f"The panel has dims {panel.dims}; it needs a {needed!r} dim (expected {DIMS})."
            )
    for dim in panel.dims:
        if panel.sizes[dim] == 0:
            raise DataError(f"The panel's {dim!r} dim is empty.")
        if dim in panel.indexes:
            _labels_problem(panel.indexes[dim], str(dim))
    if panel.dtype == object and not is_lazy(panel) and not _non_numeric_cells(panel):
        panel = panel.copy(deep=False, data=_object_to_float(panel.values))  # numbers and None only
    real = np.issubdtype(panel.dtype, np.number) and not np.issubdtype(
        panel.dtype, np.complexfloating
    )
    if not (real or panel.dtype == bool):
        bad = _non_numeric_cells(panel)
        raise DataError(
            f"The panel holds non-numeric values (dtype {panel.dtype}); first offending cells: "
            f"{bad}. Convert them to real numbers or NaN."
        )
    if panel.dtype != np.float64:
        panel = panel.astype(np.float64)
    if not is_lazy(panel):
        values = panel.values
        # two allocation-free reductions; the mask is built only to name the culprits
        if (
            values.size
            and np.isinf(
                [np.fmax.reduce(values, axis=None), np.fmin.reduce(values, axis=None)]
            ).any()
        ):
            inf = np.isinf(values)
            raise DataError(
                "The panel holds infinite values at "
                f"{_cells(panel, inf)}; replace them with NaN or finite numbers."
            )
    return panel


def _cells(panel: xr.DataArray, mask: np.ndarray, limit: int = 5) -> list[dict[str, Any]]:
    out = []
    for idx in zip(*np.nonzero(mask), strict=False):
        out.append(
            {str(d): panel[d].values[i].item() for d, i in zip(panel.dims, idx, strict=False)}
        )
        if len(out) >= limit:
            break
    return out


def _non_numeric_cells(panel: xr.DataArray) -> list[dict[str, Any]]:
    values = np.asarray(panel.values, dtype=object)
    mask = np.vectorize(lambda v: not _is_number(v), otypes=[bool])(values)
    return _cells(panel, mask)


def _is_number(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, bool | np.bool_):
        return True
    return isinstance(v, int | float | np.integer | np.floating)


def _object_to_float(values: np.ndarray) -> np.ndarray:
    """Object array of real numbers and ``None`` as float64 (``None`` -> NaN)."""
    return np.vectorize(lambda v: np.nan if v is None else float(v), otypes=[np.float64])(values)


def _to_numeric(series: pd.Series, what: str, labels: pd.DataFrame) -> pd.Series:
    """Numbers as float64; strings that are not numbers are an error naming the rows."""
    out = pd.to_numeric(series, errors="coerce")
    bad = out.isna() & series.notna()
    if bad.any():
        rows = labels[bad].head(5).to_dict("records")
        vals = series[bad].head(5).tolist()
        raise DataError(
            f"Non-numeric {what} {vals} at {rows}. Convert them to numbers or to NaN "
            "(e.g. pandas.to_numeric(..., errors='coerce')) first."
        )
    return out.astype(np.float64)


# ---------------------------------------------------------------------- constructors
def from_long(
    df: pd.DataFrame,
    *,
    unit: str = "unit",
    time: str | None = "time",
    indicator: str = "indicator",
    value: str = "value",
    unit_name: str | None = None,
) -> xr.DataArray:
    """Build a panel from a long table (one row per unit × time × indicator).

    Parameters
    ----------
    df : pandas.DataFrame
        The long table.
    unit, time, indicator, value : str
        Column names. ``time=None`` builds a cross-section with a single ``time`` label 0.
    unit_name : str, optional
        Column with unit names, stored as the ``unit_name`` coordinate.

    Returns
    -------
    xarray.DataArray
        The panel, units/times/indicators sorted.

    Raises
    ------
    DataError
        On missing columns, duplicated rows, non-numeric or infinite values.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"unit": ["A", "B"], "time": [2020, 2020],
    ...                    "indicator": ["x", "x"], "value": [1, 2]})
    >>> from_long(df).sel(unit="B", time=2020, indicator="x").item()
    2.0
    """
    if not isinstance(df, pd.DataFrame):
        raise InvalidParameterError(
            f"from_long expects a pandas DataFrame; got {type(df).__name__}."
        )
    needed = [c for c in (unit, time, indicator, value) if c is not None]
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise DataError(
            f"from_long: columns {missing} not found; the table has {list(df.columns)}. "
            "Name them with the unit=, time=, indicator=, value= arguments."
        )
    work = pd.DataFrame(
        {
            "unit": df[unit].to_numpy(),
            "time": df[time].to_numpy() if time is not None else np.zeros(len(df), dtype=int),
            "indicator": df[indicator].to_numpy(),
        }
    )
    for col in ("unit", "time", "indicator"):
        if work[col].isna().any():
            at = list(np.nonzero(work[col].isna().to_numpy())[0][:5])
            raise DataError(f"from_long: missing {col} labels in rows {at}.")
    work["value"] = _to_numeric(df[value].reset_index(drop=True), "values", work)
    dup = work.duplicated(["unit", "time", "indicator"], keep=False)
    if dup.any():
        rows = work.loc[dup, ["unit", "time", "indicator"]].drop_duplicates().head(5)
        raise DataError(
            "from_long: several rows for the same unit × time × indicator: "
            f"{rows.to_dict('records')}. Aggregate or drop duplicates first."
        )
    if np.isinf(work["value"]).any():
        rows = work.loc[np.isinf(work["value"]), ["unit", "time", "indicator"]].head(5)
        raise DataError(f"from_long: infinite values at {rows.to_dict('records')}.")
    series = work.set_index(["unit", "time", "indicator"])["value"].sort_index()
    panel = xr.DataArray.from_series(series).transpose(*DIMS)
    panel = panel.astype(np.float64)
    panel.name = "value"
    if unit_name is not None:
        names = (
            pd.DataFrame({"unit": df[unit].to_numpy(), "name": df[unit_name].to_numpy()})
            .drop_duplicates("unit")
            .set_index("unit")["name"]
        )
        panel = panel.assign_coords(unit_name=("unit", names.reindex(panel["unit"].values).values))
    return panel


def from_wide(
    df: pd.DataFrame,
    *,
    unit: str = "unit",
    time: str | None = None,
    indicators: Sequence[str] | None = None,
    unit_name: str | None = None,
    groups: Sequence[str] | None = None,
    default_time: Hashable = 0,
) -> xr.DataArray:
    """Build a panel from a wide table (one row per unit, or unit × time).

    Parameters
    ----------
    df : pandas.DataFrame
        One column per indicator.
    unit : str
        Column of unit codes.
    time : str, optional
        Column of time labels; if ``None``, a cross-section at ``default_time``.
    indicators : sequence of str, optional
        Indicator columns (default: every column not named in the other arguments).
    unit_name : str, optional
        Column of unit names, stored as the ``unit_name`` coordinate.
    groups : sequence of str, optional
        Grouping columns, stored as coordinates on ``unit`` (on ``(unit, time)`` if they
        vary over time).
    default_time : hashable
        Time label of a cross-section.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"uCode": ["A", "B"], "region": ["N", "S"], "x": [1.0, 2.0]})
    >>> p = from_wide(df, unit="uCode", groups=["region"])
    >>> p["region"].values.tolist()
    ['N', 'S']
    """
    if not isinstance(df, pd.DataFrame):
        raise InvalidParameterError(
            f"from_wide expects a pandas DataFrame; got {type(df).__name__}."
        )
    groups = list(groups or [])
    ids = [c for c in (unit, time, unit_name, *groups) if c is not None]
    missing = [c for c in ids if c not in df.columns]
    if missing:
        raise DataError(
            f"from_wide: columns {missing} not found; the table has {list(df.columns)}."
        )
    if indicators is None:
        indicators = [c for c in df.columns if c not in ids]
    else:
        absent = [c for c in indicators if c not in df.columns]
        if absent:
            raise DataError(f"from_wide: indicator columns {absent} not found in the table.")
    if not indicators:
        raise DataError("from_wide: the table has no indicator columns.")
    frame = df.reset_index(drop=True)
    labels = pd.DataFrame({"unit": frame[unit]})
    if time is not None:
        labels["time"] = frame[time]
    long = []
    for ind in indicators:
        vals = _to_numeric(frame[ind], f"values of indicator {ind!r}", labels)
        long.append(
            pd.DataFrame(
                {
                    "unit": frame[unit],
                    "time": frame[time] if time is not None else default_time,
                    "indicator": ind,
                    "value": vals,
                }
            )
        )
    panel = from_long(pd.concat(long, ignore_index=True))
    # keep indicator order as given, units sorted
    panel = panel.sel(indicator=list(indicators))
    if unit_name is not None:
        names = frame.drop_duplicates(unit).set_index(unit)[unit_name]
        panel = panel.assign_coords(unit_name=("unit", names.reindex(panel["unit"].values).values))
    for g in groups:
        panel = panel.assign_coords({g: _group_coord(frame, unit, time, g, panel)})
    return panel


def _group_coord(
    frame: pd.DataFrame, unit: str, time: str | None, group: str, panel: xr.DataArray
) -> tuple[Any, ...]:
    units = panel["unit"].values
    if time is None:
        s = frame.drop_duplicates(unit).set_index(unit)[group]
        return ("unit", s.reindex(units).to_numpy(dtype=object))
    per_unit = frame.groupby(unit)[group].nunique(dropna=False)
    if (per_unit <= 1).all():
        s = frame.drop_duplicates(unit).set_index(unit)[group]
        return ("unit", s.reindex(units).to_numpy(dtype=object))
    table = frame.pivot(index=unit, columns=time, values=group)
    table = table.reindex(index=units, columns=panel["time"].values)
    return (("unit", "time"), table.to_numpy(dtype=object))


def from_coinr(
    iData: pd.DataFrame,
    iMeta: pd.DataFrame,
) -> tuple[xr.DataArray, IndexSpec]:
    """Read COINr's ``iData`` and ``iMeta`` tables into a panel and an :class:`IndexSpec`.

    ``iData`` has ``uCode`` (unit codes), optional ``uName`` and ``Time``, group columns
    (``Type == "Group"`` in iMeta), denominator columns (``Type == "Denominator"``) and
    one column per indicator. Units are sorted by ``uCode`` as in a COINr coin. Group
    columns become coordinates on ``unit``; denominators go to
    ``panel.attrs["denominators"]``.

    Raises
    ------
    SpecError
        If iMeta is invalid or names an indicator missing from iData.
    DataError
        On duplicated units (per time) or non-numeric values.

    Examples
    --------
    >>> from brics_ecom.datasets import load_asem_tables
    >>> iData, iMeta = load_asem_tables()
    >>> panel, spec = from_coinr(iData, iMeta)
    >>> panel.sizes["unit"], panel.sizes["indicator"], spec.root
    (51, 49, 'Index')
    """
    from .errors import SpecError
    from .spec import IndexSpec

    spec = IndexSpec.from_coinr(iMeta)
    if "uCode" not in iData.columns:
        raise DataError("iData needs a 'uCode' column of unit codes.")
    missing = [c for c in (*spec.indicators, *spec.groups, *spec.denominators) if c not in iData]
    if missing:
        raise SpecError(
            f"iMeta describes {missing} but iData has no such columns. Add the columns to iData "
            "or remove the rows from iMeta."
        )
    known = {"uCode", "uName", "Time", *spec.indicators, *spec.groups, *spec.denominators}
    extra = [c for c in iData.columns if c not in known]
    if extra:
        report_dropped(f"iData columns not described in iMeta were ignored: {extra}.")
    time = "Time" if "Time" in iData.columns else None
    panel = from_wide(
        iData,
        unit="uCode",
        time=time,
        indicators=list(spec.indicators),
        unit_name="uName" if "uName" in iData.columns else None,
        groups=list(spec.groups),
    )
    if spec.denominators:
        denoms = from_wide(
            iData,
            unit="uCode",
            time=time,
            indicators=list(spec.denominators),
        ).rename(indicator="denominator")
        panel = with_denominators(panel, denoms)
    panel.attrs["source"] = "COINr iData/iMeta"
    return panel, spec


def with_denominators(panel: xr.DataArray, denominators: xr.DataArray) -> xr.DataArray:
    """Return ``panel`` carrying ``denominators`` (dims unit, time, denominator) in attrs.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> p = xr.DataArray(np.ones((1, 1, 1)), dims=DIMS,
    ...                  coords={"unit": ["A"], "time": [0], "indicator": ["x"]})
    >>> d = xr.DataArray(np.full((1, 1, 1), 5.0), dims=("unit", "time", "denominator"),
    ...                  coords={"unit": ["A"], "time": [0], "denominator": ["pop"]})
    >>> get_denominators(with_denominators(p, d)).sel(denominator="pop").item()
    5.0
    """
    if "denominator" not in denominators.dims:
        raise DataError(f"Denominators need a 'denominator' dim; got dims {denominators.dims}.")
    out = panel.copy(deep=False)
    out.attrs = {**panel.attrs, "denominators": denominators}
    return out


def get_denominators(panel: xr.DataArray) -> xr.DataArray | None:
    """The denominators a panel carries (``None`` if it has none)."""
    denoms = panel.attrs.get("denominators")
    return denoms if isinstance(denoms, xr.DataArray) else None


def unit_coords(panel: xr.DataArray) -> list[str]:
    """Names of the grouping coordinates on ``unit`` (excluding ``unit_name``).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> p = xr.DataArray(np.ones((2, 1)), dims=("unit", "indicator"),
    ...                  coords={"unit": ["A", "B"], "indicator": ["x"],
    ...                          "grp": ("unit", ["a", "b"])})
    >>> unit_coords(p)
    ['grp']
    """
    return [
        str(name)
        for name, coord in panel.coords.items()
        if "unit" in coord.dims and name not in ("unit", "unit_name")
    ]


# ---------------------------------------------------------------------- conversions
def to_long(panel: xr.DataArray, *, dropna: bool = True) -> pd.DataFrame:
    """Long table ``unit, time, indicator, value`` (plus any extra dims as columns).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> p = xr.DataArray([[[1.0, np.nan]]], dims=DIMS,
    ...                  coords={"unit": ["A"], "time": [2020], "indicator": ["x", "y"]})
    >>> to_long(p).to_dict("records")
    [{'unit': 'A', 'time': 2020, 'indicator': 'x', 'value': 1.0}]
    """
    da = panel.reset_coords(drop=True)
    da.name = "value"
    df = da.to_dataframe().reset_index()
    if dropna:
        df = df.dropna(subset=["value"]).reset_index(drop=True)
    return df


def to_wide(panel: xr.DataArray, *, time: Hashable | None = None) -> pd.DataFrame:
    """Wide table: rows ``unit`` (or ``(unit, time)``), one column per indicator.

    Parameters
    ----------
    time : hashable, optional
        Select one time label; otherwise rows are ``(unit, time)`` pairs.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> p = xr.DataArray([[[1.0, 2.0]]], dims=DIMS,
    ...                  coords={"unit": ["A"], "time": [2020], "indicator": ["x", "y"]})
    >>> float(to_wide(p, time=2020).loc["A", "y"])
    2.0
    """
    da = panel.reset_coords(drop=True)
    if time is not None:
        da = da.sel(time=time)
    if "time" in da.dims:
        df = da.transpose("unit", "time", "indicator").to_series().unstack("indicator")
    else:
        df = pd.DataFrame(da.transpose("unit", "indicator").to_pandas())
    df = df.reindex(columns=list(panel["indicator"].values))
    df.columns.name = None
    return df


def latest(
    panel: xr.DataArray,
    window: int | None = None,
    *,
    time: Hashable | None = None,
) -> xr.DataArray:
    """Each unit × indicator's latest non-missing value ("2019 or latest").

    Parameters
    ----------
    panel : xarray.DataArray
        A panel with a ``time`` dim (numeric labels if ``window`` is used).
    window : int, optional
        Only values no more than ``window`` time units before the reference time count.
    time : hashable, optional
        Reference time: only values at or before it are used (default: the last label).

    Returns
    -------
    xarray.DataArray
        Dims ``(unit, indicator)``, with a ``source_time`` coordinate giving the time each
        value came from (NaN where nothing was found).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> p = xr.DataArray([[[1.0], [np.nan]], [[3.0], [4.0]]], dims=DIMS,
    ...                  coords={"unit": ["A", "B"], "time": [2019, 2020], "indicator": ["x"]})
    >>> out = latest(p)
    >>> out.values.ravel().tolist(), out.source_time.values.ravel().tolist()
    ([1.0, 4.0], [2019.0, 2020.0])
    """
    panel = validate(panel)
    if "time" not in panel.dims:
        raise DataError("latest() needs a panel with a 'time' dim.")
    work = panel.sortby("time")
    times = work["time"].values
    if time is not None:
        if time not in set(times.tolist()):
            raise InvalidParameterError(
                f"The 'time' parameter of latest must be one of the panel's times; got {time!r}."
            )
        work = work.sel(time=work["time"] <= time)  # type: ignore[operator]
        times = work["time"].values
    ref: Any = times[-1] if time is None else time
    if window is not None:
        if not isinstance(window, int | np.integer) or window < 0:
            raise InvalidParameterError(
                f"The 'window' parameter of latest must be a non-negative integer; got {window!r}."
            )
        if not np.issubdtype(times.dtype, np.number):
            raise InvalidParameterError("latest(window=...) needs numeric time labels.")
        work = work.sel(time=work["time"] >= ref - window)
        times = work["time"].values
    data = work.transpose(..., "time").values
    observed = ~np.isnan(data)
    n_t = data.shape[-1]
    # index of the last observed time along the last axis (−1 if none)
    rev_idx = np.argmax(observed[..., ::-1], axis=-1)
    last = n_t - 1 - rev_idx
    found = observed.any(axis=-1)
    values = np.take_along_axis(data, last[..., None], axis=-1)[..., 0]
    values = np.where(found, values, np.nan)
    src = (
        np.where(found, np.asarray(times, dtype=float)[last], np.nan)
        if np.issubdtype(times.dtype, np.number)
        else np.where(found, times[last], None)
    )
    dims = [d for d in work.transpose(..., "time").dims if d != "time"]
    coords = {name: c for name, c in work.coords.items() if "time" not in c.dims and name != "time"}
    out = xr.DataArray(values, dims=dims, coords=coords, name=panel.name)
    out = out.assign_coords(source_time=(dims, src))
    out.attrs = {k: v for k, v in panel.attrs.items() if k != "denominators"}
    out.attrs["latest_reference_time"] = ref
    return out


def ensure_panel(obj: xr.DataArray, *, name: str = "panel") -> xr.DataArray:
    """Validate and return ``obj`` (used by every front door)."""
    return validate(obj)


def select_indicators(
    panel: xr.DataArray, codes: Iterable[str], *, what: str = "specification"
) -> xr.DataArray:
    """Select ``codes`` along ``indicator``; missing codes are an error naming them."""
    codes = list(codes)
    present = set(panel["indicator"].values.tolist())
    missing = [c for c in codes if c not in present]
    if missing:
        from .errors import SpecError

        raise SpecError(
            f"Indicators {missing} are in the {what} but not in the data. Add them to the panel "
            "or drop them from the specification (IndexSpec.subset)."
        )
    return panel.sel(indicator=codes)


def coords_mapping(panel: xr.DataArray) -> Mapping[str, Any]:
    """Non-index coordinates of ``panel`` (for rebuilding outputs)."""
    return {str(k): v for k, v in panel.coords.items() if k not in panel.dims}
