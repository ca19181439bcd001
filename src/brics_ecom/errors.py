"""Exceptions and warnings raised by brics_ecom.

Every message names the parameter, indicator, unit or code at fault, says what was
expected and what was given, and how to fix it.

Examples
--------
>>> from brics_ecom.errors import InvalidParameterError
>>> isinstance(InvalidParameterError("x"), ValueError)
True
"""

from __future__ import annotations

__all__ = [
    "BricsEcomError",
    "BricsEcomWarning",
    "DataError",
    "DataWarning",
    "InvalidParameterError",
    "SpecError",
]


class BricsEcomError(Exception):
    """Base class of every error raised by brics_ecom."""


class SpecError(BricsEcomError, ValueError):
    """The index specification (tree, weights, directions, ...) is invalid."""


class DataError(BricsEcomError, ValueError):
    """The data are invalid: duplicated labels, non-numeric or infinite values, ..."""


class InvalidParameterError(BricsEcomError, ValueError, TypeError):
    """A function argument has an unknown value or the wrong type."""


class BricsEcomWarning(UserWarning):
    """Base class of every warning issued by brics_ecom."""


class DataWarning(BricsEcomWarning):
    """Something in the data was dropped, left missing or is suspicious."""
