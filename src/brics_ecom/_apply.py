"""Calling NumPy kernels on labelled panels through ``xarray.apply_ufunc``.

Per-indicator (or per-year) parameters are passed as DataArrays: ``apply_ufunc``
broadcasts them against the panel's non-core dims, and the wrapper gives them trailing
length-1 axes for the core dims so that kernels see keepdims-shaped parameters.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from ._validation import is_lazy

__all__ = ["apply_kernel", "as_param", "ordered", "single_chunk"]


def ordered(da: xr.DataArray, *dims: Any) -> xr.DataArray:
    """``da.transpose(*dims)``, skipped when the dims are already in that order.

    ``transpose`` always builds a new object, which costs more than the arithmetic on
    small panels; ``...`` stands for the remaining dims, as in xarray.
    """
    if ... in dims:
        i = dims.index(...)
        before, after = dims[:i], dims[i + 1 :]
        rest = [d for d in da.dims if d not in before and d not in after]
        target = (*before, *rest, *after)
    else:
        target = dims
    if tuple(da.dims) == tuple(target):
        return da
    # 1-D coordinates are unaffected by a transpose; not visiting them is ~15x faster
    flat = all(v.ndim <= 1 for v in da.coords.variables.values())
    return da.transpose(*target, transpose_coords=not flat)


def single_chunk(x: xr.DataArray, dims: Sequence[str]) -> xr.DataArray:
    """``x`` with each of ``dims`` in one dask chunk (unchanged if ``x`` is not lazy).

    Kernels reduce over their core dims, which ``apply_ufunc(dask="parallelized")``
    requires to be whole; the other dims keep their chunks, so the work stays parallel.
    """
    if not is_lazy(x):
        return x
    split = {d: -1 for d in dims if d in x.dims and len(x.chunksizes[d]) > 1}
    return x.chunk(split) if split else x


def as_param(
    value: Any, labels: Sequence[Any], *, dim: str = "indicator", default: Any = None, name: str
) -> Any:
    """Turn a scalar or a ``{label: value}`` mapping into a DataArray over ``dim``.

    Scalars stay scalars (they broadcast anyway). Mapping entries for labels absent from
    ``labels`` are an error; labels missing from the mapping take ``default``.
    """
    from .errors import InvalidParameterError

    if isinstance(value, xr.DataArray):
        return value
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - set(labels), key=str)
        if unknown:
            raise InvalidParameterError(
                f"The {name!r} parameter names {dim}s {unknown} that are not in the data."
            )
        missing = [lab for lab in labels if lab not in value]
        if missing and default is None:
            raise InvalidParameterError(
                f"The {name!r} parameter gives no value for {dim}s {missing}; give every "
                f"{dim} a value or pass a single number."
            )
        values = [float(value.get(lab, default)) for lab in labels]
        return xr.DataArray(
            np.asarray(values, dtype=float), dims=(dim,), coords={dim: list(labels)}
        )
    return value


def apply_kernel(
    func: Callable[..., np.ndarray],
    x: xr.DataArray,
    *,
    core: Sequence[str] = ("unit",),
    out_core: Sequence[str] | None = None,
    arrays: Mapping[str, xr.DataArray] | None = None,
    array_core: Mapping[str, Sequence[str]] | None = None,
    params: Mapping[str, Any] | None = None,
    exclude_dims: set[str] | None = None,
    keep_attrs: bool = False,
) -> xr.DataArray:
    """Apply ``func(x, **kwargs)`` over ``core`` dims, broadcasting everything else.

    ``params`` values that are DataArrays are broadcast against ``x`` (they must not
    contain ``core`` dims) and handed to ``func`` with trailing length-1 axes for the core
    dims; other values are passed unchanged. ``arrays`` are DataArrays passed with their
    own core dims (``array_core``), e.g. a reference sample.
    """
    params = dict(params or {})
    arrays = dict(arrays or {})
    array_core = dict(array_core or {})
    da_params = {k: v for k, v in params.items() if isinstance(v, xr.DataArray)}
    plain = {k: v for k, v in params.items() if not isinstance(v, xr.DataArray)}
    names = list(da_params) + list(arrays)
    n_core = len(core)

    def wrapper(data: np.ndarray, *extra: np.ndarray) -> np.ndarray:
        # C order with the core dims last, whatever the caller's memory layout: NumPy's
        # reductions sum contiguous axes pairwise and strided ones sequentially, so this
        # makes results bit-identical between NumPy- and dask-backed panels.
        contiguous = np.ascontiguousarray(data)
        kwargs = dict(plain)
        if _may_write(func, contiguous, data):  # (a dask block is never donated)
            kwargs["overwrite_x"] = True
        data = contiguous
        for name, arr in zip(names, extra, strict=True):
            arr = np.ascontiguousarray(arr)
            if name in da_params:
                kwargs[name] = arr.reshape(arr.shape + (1,) * n_core)
            else:
                kwargs[name] = arr
        return func(data, **kwargs)

    if out_core is None and not exclude_dims:
        fast = _apply_eager(func, x, core, da_params, plain, arrays, array_core, keep_attrs)
        if fast is not None:
            return fast
    x = single_chunk(x, core)
    arrays = {k: single_chunk(v, array_core.get(k, core)) for k, v in arrays.items()}
    inputs = [x, *da_params.values(), *arrays.values()]
    in_core = [
        list(core),
        *([[]] * len(da_params)),
        *[list(array_core.get(k, core)) for k in arrays],
    ]
    out = xr.apply_ufunc(
        wrapper,
        *inputs,
        input_core_dims=in_core,
        output_core_dims=[list(out_core if out_core is not None else core)],
        exclude_dims=exclude_dims or set(),
        dask="parallelized",
        output_dtypes=[np.float64],
        keep_attrs=keep_attrs,
    )
    # apply_ufunc drops non-index coords along core dims (unit names, groups): restore them
    lost = {
        k: v for k, v in x.coords.items() if k not in out.coords and set(v.dims) <= set(out.dims)
    }
    return out.assign_coords(lost) if lost else out


#: Arrays whose memory the current call may overwrite: a pipeline donates a step's input
#: when it made that panel itself and keeps it nowhere (see :func:`donated`).
_DONATED: contextvars.ContextVar[tuple[np.ndarray, ...]] = contextvars.ContextVar(
    "brics_ecom_donated", default=()
)


@contextlib.contextmanager
def donated(*arrays: np.ndarray | None) -> Iterator[None]:
    """Within this block, kernels that can (``overwrite_x``) may write into ``arrays``.

    Only for arrays nobody else will read: a pipeline's own intermediate panels.
    """
    token = _DONATED.set(tuple(a for a in arrays if a is not None))
    try:
        yield
    finally:
        _DONATED.reset(token)


def may_overwrite(values: np.ndarray) -> bool:
    """Whether ``values`` lies in memory donated by :func:`donated`."""
    return any(np.may_share_memory(values, d) for d in _DONATED.get())


@functools.lru_cache(maxsize=256)
def overwrites_input(func: Callable[..., Any]) -> bool:
    """Whether a kernel takes ``overwrite_x`` (it may then write into its input)."""
    try:
        return "overwrite_x" in inspect.signature(func).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return False


def _may_write(func: Callable[..., Any], data: np.ndarray, given: np.ndarray) -> bool:
    """Whether the kernel may fill ``data``, the contiguous form of ``given``, in place: it
    takes ``overwrite_x`` and ``data`` is a private copy or lies in donated memory."""
    return overwrites_input(func) and (data is not given or may_overwrite(given))


def _same_labels(a: xr.DataArray, b: xr.DataArray, dims: Sequence[Hashable]) -> bool:
    for d in dims:
        ia, ib = a.indexes.get(d), b.indexes.get(d)
        if ia is None or ib is None:
            if a.sizes[d] != b.sizes[d]:
                return False
        elif ia is not ib and not ia.equals(ib):
            return False
    return True


def _apply_eager(
    func: Callable[..., np.ndarray],
    x: xr.DataArray,
    core: Sequence[str],
    da_params: Mapping[str, xr.DataArray],
    plain: Mapping[str, Any],
    arrays: Mapping[str, xr.DataArray],
    array_core: Mapping[str, Sequence[str]],
    keep_attrs: bool,
) -> xr.DataArray | None:
    """NumPy-backed inputs: call the kernel directly, skipping ``apply_ufunc``'s overhead.

    Returns ``None`` (use ``apply_ufunc``) when anything needs alignment or brings dims of
    its own, so the two paths always give the same result.
    """
    if is_lazy(x):
        return None
    lead = [d for d in x.dims if d not in core]
    order = [*lead, *core]
    kwargs = dict(plain)
    for name, p in da_params.items():
        if is_lazy(p) or not set(p.dims) <= set(lead):
            return None
        if not _same_labels(p, x, p.dims):
            return None
        pv = np.ascontiguousarray(p.transpose(*[d for d in lead if d in p.dims]).values)
        shape = [x.sizes[d] if d in p.dims else 1 for d in lead] + [1] * len(core)
        kwargs[name] = pv.reshape(shape)
    for name, a in arrays.items():
        a_core = list(array_core.get(name, core))
        a_lead = [d for d in a.dims if d not in a_core]
        if is_lazy(a) or not set(a_lead) <= set(lead):
            return None
        if not _same_labels(a, x, a_lead):
            return None
        av = a.transpose(*[d for d in lead if d in a_lead], *a_core).values
        shape = [x.sizes[d] if d in a_lead else 1 for d in lead] + [a.sizes[d] for d in a_core]
        kwargs[name] = np.ascontiguousarray(av).reshape(shape)
    xt = ordered(x, *order)
    values = xt.values
    data = np.ascontiguousarray(values)
    if _may_write(func, data, values):
        kwargs["overwrite_x"] = True
    out = func(data, **kwargs)
    result = xt.copy(deep=False, data=np.asarray(out, dtype=np.float64))
    if not keep_attrs:
        result.attrs = {}
    result.name = None
    return result
