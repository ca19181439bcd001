"""Argument checks shared by the front doors; every failure names the culprit."""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Collection
from typing import Any, cast

import numpy as np

from .errors import DataWarning, InvalidParameterError

__all__ = [
    "as_rng",
    "check_choice",
    "check_number",
    "is_lazy",
    "report_dropped",
]


def check_choice(value: Any, choices: Collection[Any], *, param: str, func: str) -> Any:
    """Return ``value`` if it is one of ``choices``; otherwise raise naming ``param``.

    Examples
    --------
    >>> check_choice("pooled", ("per_time", "pooled"), param="reference", func="normalise")
    'pooled'
    """
    if value not in choices:
        raise InvalidParameterError(
            f"The {param!r} parameter of {func} must be one of {sorted(map(str, choices))}; "
            f"got {value!r}."
        )
    return value


def check_number(
    value: Any,
    *,
    param: str,
    func: str,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    integer: bool = False,
) -> float:
    """Check that ``value`` is a finite real number within bounds.

    Examples
    --------
    >>> check_number(0.5, param="dat_thresh", func="aggregate", low=0, high=1)
    0.5
    """
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind) or not math.isfinite(value):
        what = "an integer" if integer else "a finite number"
        raise InvalidParameterError(
            f"The {param!r} parameter of {func} must be {what}; got {value!r}."
        )
    number = float(value)
    bad_low = low is not None and (number < low if low_inclusive else number <= low)
    bad_high = high is not None and (number > high if high_inclusive else number >= high)
    if bad_low or bad_high:
        lo = "-inf" if low is None else f"{low}"
        hi = "inf" if high is None else f"{high}"
        lb = "[" if low_inclusive else "("
        hb = "]" if high_inclusive else ")"
        raise InvalidParameterError(
            f"The {param!r} parameter of {func} must be in {lb}{lo}, {hi}{hb}; got {value!r}."
        )
    return cast(float, value)


def report_dropped(message: str, *, stacklevel: int = 3) -> None:
    """Warn (``DataWarning``) that something was dropped or left out.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     report_dropped("unit X dropped")
    >>> str(w[0].message)
    'unit X dropped'
    """
    warnings.warn(message, DataWarning, stacklevel=stacklevel)


def as_rng(rng: int | np.random.Generator | None) -> np.random.Generator:
    """A NumPy Generator from a seed, a Generator or ``None`` (never global state).

    Examples
    --------
    >>> bool(as_rng(1).integers(10) == as_rng(1).integers(10))
    True
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, numbers.Integral) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise InvalidParameterError(
        f"The 'rng' parameter must be an int seed, a numpy.random.Generator or None; got {rng!r}."
    )


def is_lazy(obj: Any) -> bool:
    """Whether an xarray object's data is chunked (dask): ``obj.chunks is not None``.

    Asked of the data itself: ``DataArray.chunks`` costs about 15 µs (a runtime protocol
    check), and the steps ask it a few dozen times per pipeline run.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> is_lazy(xr.DataArray(np.zeros(3)))
    False
    """
    return getattr(obj.data, "chunks", None) is not None
