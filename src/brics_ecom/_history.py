"""The ``history`` attribute: which calls made an output."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import xarray as xr

__all__ = ["describe_call", "with_history"]


def _short(value: Any) -> str:
    if isinstance(value, xr.DataArray):
        return f"<DataArray {dict(value.sizes)}>"
    if hasattr(value, "name") and type(value).__name__ == "IndexSpec":
        return f"<IndexSpec {value.name or ''}>".replace(" >", ">")
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def describe_call(func: str, params: Mapping[str, Any]) -> str:
    """``"func(a=1, b='x')"`` with long values shortened.

    Examples
    --------
    >>> describe_call("normalise", {"method": "minmax", "lower": 0})
    "normalise(method='minmax', lower=0)"
    """
    args = ", ".join(f"{k}={_short(v)}" for k, v in params.items())
    return f"{func}({args})"


def with_history(out: xr.DataArray, source: xr.DataArray | None, call: str) -> xr.DataArray:
    """Set ``out.attrs["history"]`` to the source's history plus ``call``.

    Examples
    --------
    >>> import xarray as xr
    >>> a = xr.DataArray([1.0], dims="unit")
    >>> with_history(a, None, "f()").attrs["history"]
    ['f()']
    """
    before = list(source.attrs.get("history", [])) if source is not None else []
    out.attrs["history"] = [*before, call]
    return out
