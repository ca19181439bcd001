"""Explicit registries of methods for each pipeline step.

A method is a plain function registered under a step and a name. Users can add their own
methods with :func:`register`; nothing is attached at run time.

Examples
--------
>>> from brics_ecom.registry import register, get_method, available
>>> @register("normalise", "times_two_example")
... def _times_two(x, axis=-1):
...     return 2 * x
>>> "times_two_example" in available("normalise")
True
>>> unregister("normalise", "times_two_example")
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from .errors import InvalidParameterError

__all__ = ["available", "get_method", "register", "unregister"]

F = TypeVar("F", bound=Callable[..., Any])

_REGISTRY: dict[str, dict[str, Callable[..., Any]]] = {}


def register(step: str, name: str, *, overwrite: bool = False) -> Callable[[F], F]:
    """Register ``func`` as method ``name`` of ``step``.

    Parameters
    ----------
    step : str
        Pipeline step, e.g. ``"normalise"``, ``"impute"``, ``"aggregate"``.
    name : str
        Method name used in ``method=`` arguments.
    overwrite : bool, default False
        Replace an existing method of that name instead of raising.

    Returns
    -------
    callable
        A decorator returning the function unchanged.

    Examples
    --------
    >>> @register("aggregate", "first_child_example")
    ... def _first(x, w, axis=-1):
    ...     return x[..., 0]
    >>> unregister("aggregate", "first_child_example")
    """

    def decorator(func: F) -> F:
        methods = _REGISTRY.setdefault(step, {})
        if name in methods and not overwrite:
            raise InvalidParameterError(
                f"A {step} method named {name!r} is already registered; "
                "pass overwrite=True to replace it."
            )
        methods[name] = func
        return func

    return decorator


def unregister(step: str, name: str) -> None:
    """Remove method ``name`` of ``step`` (no error if absent).

    Examples
    --------
    >>> unregister("normalise", "no_such_method")
    """
    _REGISTRY.get(step, {}).pop(name, None)


def available(step: str) -> list[str]:
    """Sorted names of the methods registered for ``step``.

    Examples
    --------
    >>> import brics_ecom
    >>> "minmax" in available("normalise")
    True
    """
    return sorted(_REGISTRY.get(step, {}))


def get_method(step: str, name: str) -> Callable[..., Any]:
    """Return the function registered as ``name`` for ``step``.

    Raises
    ------
    InvalidParameterError
        If no such method exists; the message lists the valid names.

    Examples
    --------
    >>> import brics_ecom
    >>> callable(get_method("normalise", "minmax"))
    True
    """
    methods = _REGISTRY.get(step, {})
    if not isinstance(name, str) or name not in methods:
        raise InvalidParameterError(
            f"The 'method' parameter of {step} must be one of {sorted(methods)}; got {name!r}."
        )
    return methods[name]
