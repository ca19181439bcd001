"""Pure-NumPy kernels: the speed-critical tier of every pipeline step.

Conventions shared by every kernel module here:

* NumPy (and SciPy) only: never import pandas or xarray.
* NaN means missing. Statistics skip NaN; an all-NaN slice gives NaN, silently
  (no ``RuntimeWarning`` leaks out).
* The axis a kernel reduces over (the *unit* axis for column statistics) is given by
  ``axis`` and is **last** by default (``axis=-1``), because ``xarray.apply_ufunc`` moves
  core dims to the end. A tuple of axes pools several dims (e.g. ``(-2, -1)`` for time
  and unit when normalising on a pooled reference).
* Every other (leading) dim is broadcast over: indicators, years, Monte Carlo draws,
  scenarios. Parameters are scalars or arrays broadcastable to ``x`` once the reduced
  axes are kept as length-1 dims.
* Inputs are never modified in place.
* Methods are registered with :func:`brics_ecom.registry.register` so that the front
  doors can look them up by name and users can add their own.
"""
