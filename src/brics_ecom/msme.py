r"""Survey-weighted shares of firms by size class, from firm-level survey microdata.

:func:`from_microdata` turns firm-level survey data, laid out like the World Bank
Enterprise Surveys (WBES), into the share of firms with each outcome (a website, e-mail
with clients, selling online, ...) in each size class, with design-based standard errors
(Taylor linearisation with strata and primary sampling units). It returns a tidy table
and a panel ``(unit, time, indicator)`` with indicators ``<outcome>|<size>``, ready to
join the BRICS+ panel and the MSME-participation framework
(:mod:`brics_ecom.frameworks.msme_participation`).

The estimator
-------------
For one country-year, one outcome :math:`y \in \{0, 1\}` and one size class (the
*domain* :math:`d`), with sampling weights :math:`w_i` and :math:`\delta_i = 1` when firm
:math:`i` is in the class *and* answered:

.. math::

    \hat p_d = \frac{\sum_i w_i \delta_i y_i}{\sum_i w_i \delta_i},
    \qquad
    z_i = \frac{w_i \delta_i (y_i - \hat p_d)}{\sum_k w_k \delta_k},

and, with :math:`Z_{hj} = \sum_{i \in (h, j)} z_i` the total of PSU :math:`j` of stratum
:math:`h` (which holds :math:`n_h` PSUs),

.. math::

    \widehat{V}(\hat p_d) = \sum_h \frac{n_h}{n_h - 1} \sum_{j=1}^{n_h}
        \bigl(Z_{hj} - \bar Z_h\bigr)^2 .

This is the with-replacement (first-stage) approximation used by Stata's ``svy`` and R's
``survey`` package; no finite-population correction is applied (conservative when sampling
fractions are large). Firms outside the domain keep :math:`z_i = 0` and stay in the
computation (*domain* or *subpopulation* estimation): the size of a class in the sample is
random, and dropping the other firms would understate the variance. Without ``strata``
there is one stratum; without ``psu`` every firm is its own PSU, so with neither the
formula is :math:`\frac{n}{n-1}\sum_i z_i^2`. PSU labels are read *within* strata.

Examples
--------
>>> import pandas as pd
>>> firms = pd.DataFrame({
...     "idstd": range(6), "size": ["small"] * 4 + ["large"] * 2,
...     "wstrict": [10.0, 10.0, 30.0, 30.0, 2.0, 2.0], "c22b": [1, 0, 1, 0, 1, 1]})
>>> out = from_microdata(firms, size="size", weight="wstrict", outcomes="c22b",
...                      country="IND", year=2022)
>>> out.table[["size", "estimate", "n"]].values.tolist()
[['large', 100.0, 2], ['small', 50.0, 4]]
>>> out.panel.sel(unit="IND", time=2022, indicator="c22b|small").item()
50.0
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import xarray as xr

from ._history import describe_call
from ._validation import check_choice
from .errors import DataError, InvalidParameterError

__all__ = ["SIZE_BINS", "MicrodataShares", "from_microdata"]

#: Employment bands (persons employed, inclusive) that ``bins=`` accepts by name.
#: ``"eurostat"``: the size classes of Eurostat's ICT-usage survey (the labels of the
#: ``E_...|<size>`` codes of the BRICS+ panel); ``"wbes"``: the Enterprise Surveys' small
#: (5–19), medium (20–99) and large (100+) classes.
SIZE_BINS: Mapping[str, Mapping[str, tuple[float, float]]] = {
    "eurostat": {
        "1-9": (1.0, 9.0),
        "10-49": (10.0, 49.0),
        "50-249": (50.0, 249.0),
        "GE250": (250.0, math.inf),
    },
    "wbes": {"5-19": (5.0, 19.0), "20-99": (20.0, 99.0), "GE100": (100.0, math.inf)},
}

_CODINGS = ("binary", "wbes")
_LONELY = ("error", "remove", "scaled")
_TOTAL = "total"
_FUNC = "from_microdata"


class MicrodataShares(NamedTuple):
    """What :func:`from_microdata` returns (a named tuple: ``table, panel, se = ...``).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per country, year, outcome and size class: ``estimate``, ``se``, ``n``
        (firms in the class that answered), ``weighted_n`` (sum of their weights: the
        estimated number of firms), ``n_psu``, ``n_strata`` and ``df`` (design degrees of
        freedom, PSUs minus strata, of the country-year).
    panel : xarray.DataArray
        The estimates as a panel ``(unit, time, indicator)`` (no ``time`` dim without
        ``year``), indicators ``<outcome>|<size>``; coordinates ``outcome`` and
        ``size_class`` on ``indicator``.
    se : xarray.DataArray
        The standard errors, shaped like ``panel``.
    """

    table: pd.DataFrame
    panel: xr.DataArray
    se: xr.DataArray


# ---------------------------------------------------------------------- validation
def _as_list(value: Any, param: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence) and value and all(isinstance(v, str) for v in value):
        return list(dict.fromkeys(value))
    raise InvalidParameterError(
        f"The {param!r} parameter of {_FUNC} must be a column name or a non-empty list of "
        f"column names; got {value!r}."
    )


def _column_or_label(
    firms: pd.DataFrame, value: Any, param: str
) -> tuple[str | None, Hashable | None]:
    """``(column, None)`` if ``value`` names a column, else ``(None, literal label)``."""
    if value is None:
        return None, None
    if isinstance(value, str) and value in firms.columns:
        return value, None
    if param == "year":
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            return None, int(value)
        raise DataError(
            f"{_FUNC}: year={value!r} is neither a column of 'firms' nor an integer year; "
            f"columns are {list(firms.columns)[:20]}."
        )
    if isinstance(value, str) and value:
        return None, value
    raise InvalidParameterError(
        f"The 'country' parameter of {_FUNC} must be a column name or a country code; got "
        f"{value!r}."
    )


def _check_columns(firms: pd.DataFrame, needed: dict[str, list[str]]) -> None:
    missing = {p: [c for c in cols if c not in firms.columns] for p, cols in needed.items()}
    missing = {p: cols for p, cols in missing.items() if cols}
    if missing:
        listing = "; ".join(f"{p}={cols}" for p, cols in missing.items())
        raise DataError(
            f"{_FUNC}: 'firms' has no column(s) {listing}. Its columns are "
            f"{list(firms.columns)[:30]}{' ...' if firms.shape[1] > 30 else ''}."
        )


def _rows(mask: np.ndarray, index: pd.Index, limit: int = 5) -> list[Any]:
    return [index[i] for i in np.flatnonzero(mask)[:limit]]


def _weights(firms: pd.DataFrame, weight: str) -> np.ndarray:
    raw = firms[weight]
    w = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(w) | (w <= 0)
    if bad.any():
        raise DataError(
            f"{_FUNC}: the weight column {weight!r} must hold finite positive numbers; "
            f"{int(bad.sum())} firm(s) have missing, non-numeric, zero or negative weights "
            f"(rows {_rows(bad, firms.index)}: {raw[bad].head(5).tolist()}). Drop those firms "
            "or fix their weights."
        )
    return w


def _size_labels(
    firms: pd.DataFrame,
    size: str,
    classes: Sequence[Any] | Mapping[Any, Any] | None,
    bins: str | Mapping[str, tuple[float, float]] | None,
) -> tuple[np.ndarray, list[str]]:
    """Integer class codes (one per firm) and the class labels, in order."""
    raw = firms[size]
    if bins is not None:
        if classes is not None:
            raise InvalidParameterError(
                f"{_FUNC}: pass either 'bins' (the size column holds employment) or "
                "'classes' (it holds class labels), not both."
            )
        if isinstance(bins, str):
            check_choice(bins, SIZE_BINS, param="bins", func=_FUNC)
            bands = dict(SIZE_BINS[bins])
        elif isinstance(bins, Mapping) and bins:
            bands = {}
            for label, band in bins.items():
                try:
                    lo, hi = (float(b) for b in band)
                except (TypeError, ValueError):
                    raise InvalidParameterError(
                        f"{_FUNC}: the band of size class {label!r} in 'bins' must be a "
                        f"(lowest, highest) pair of numbers; got {band!r}."
                    ) from None
                if not lo <= hi:
                    raise InvalidParameterError(
                        f"{_FUNC}: the band of size class {label!r} in 'bins' has lowest "
                        f"{lo} > highest {hi}."
                    )
                bands[str(label)] = (lo, hi)
        else:
            raise InvalidParameterError(
                f"The 'bins' parameter of {_FUNC} must be one of {sorted(SIZE_BINS)} or a "
                f"mapping {{label: (lowest, highest)}}; got {bins!r}."
            )
        emp = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
        codes = np.full(len(emp), -1, dtype=np.int64)
        labels = list(bands)
        for k, (lo, hi) in enumerate(bands.values()):
            hit = (emp >= lo) & (emp <= hi) & (codes < 0)
            codes[hit] = k
        bad = codes < 0
        if bad.any():
            raise DataError(
                f"{_FUNC}: the size column {size!r} has {int(bad.sum())} firm(s) whose "
                f"employment is missing, negative (a non-response code?) or outside every "
                f"size class {bands} (rows {_rows(bad, firms.index)}: "
                f"{raw[bad].head(5).tolist()}). Drop them or widen 'bins'."
            )
        return codes, labels
    missing = raw.isna().to_numpy()
    if missing.any():
        raise DataError(
            f"{_FUNC}: the size column {size!r} is missing for {int(missing.sum())} firm(s) "
            f"(rows {_rows(missing, firms.index)}); every firm needs a size class."
        )
    if isinstance(classes, Mapping):
        mapping = {k: str(v) for k, v in classes.items()}
        labels = list(dict.fromkeys(mapping.values()))
    elif classes is None:
        found: list[Any] = list(pd.unique(raw))
        try:
            found = sorted(found)
        except TypeError:
            found = sorted(found, key=str)
        mapping = {k: str(k) for k in found}
        labels = [mapping[k] for k in found]
    elif isinstance(classes, Sequence) and not isinstance(classes, str) and classes:
        mapping = {k: str(k) for k in classes}
        labels = [mapping[k] for k in dict.fromkeys(classes)]
    else:
        raise InvalidParameterError(
            f"The 'classes' parameter of {_FUNC} must be a list of size-class labels or a "
            f"mapping {{code: label}}; got {classes!r}."
        )
    if _TOTAL in labels:
        raise InvalidParameterError(
            f"{_FUNC}: {_TOTAL!r} is reserved for all firms (total=True); rename that size class."
        )
    mapped = raw.map(mapping)
    unknown = mapped.isna().to_numpy()
    if unknown.any():
        odd = list(pd.unique(raw[unknown]))[:10]
        raise DataError(
            f"{_FUNC}: the size column {size!r} holds unknown size classes {odd} "
            f"({int(unknown.sum())} firm(s)); expected one of {list(mapping)}. Pass "
            "classes= to list or map them, or bins= if the column holds employment."
        )
    codes = pd.Categorical(mapped, categories=labels).codes.astype(np.int64)
    return codes, labels


def _outcome(firms: pd.DataFrame, column: str, coding: str) -> np.ndarray:
    raw = firms[column]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
    non_numeric = np.isnan(values) & raw.notna().to_numpy()
    if coding == "wbes":
        out = np.where(values == 1, 1.0, np.where(values == 2, 0.0, np.nan))
        ok = np.isnan(values) | (values == 1) | (values == 2) | (values < 0)
        expected = "1 (yes), 2 (no), negative non-response codes (-9, -7, ...) or missing"
    else:
        out = np.where(np.isin(values, (0.0, 1.0)), values, np.nan)
        ok = np.isnan(values) | np.isin(values, (0.0, 1.0))
        expected = "0, 1 (or False, True) or missing"
    bad = ~ok | non_numeric
    if bad.any():
        odd = list(pd.unique(raw[bad]))[:10]
        hint = " (WBES codes 1 = yes, 2 = no? pass coding='wbes')" if coding == "binary" else ""
        raise DataError(
            f"{_FUNC}: the outcome column {column!r} must hold {expected} with "
            f"coding={coding!r}; it has {odd} in {int(bad.sum())} firm(s){hint}."
        )
    return out


def _codes(series: pd.Series, param: str) -> np.ndarray:
    missing = series.isna().to_numpy()
    if missing.any():
        raise DataError(
            f"{_FUNC}: the {param} column {series.name!r} is missing for {int(missing.sum())} "
            f"firm(s) (rows {_rows(missing, series.index)}); every firm needs one."
        )
    return pd.factorize(series, sort=True)[0].astype(np.int64)


# ---------------------------------------------------------------------- the estimator
def _design_variance(
    z: np.ndarray,
    stratum: np.ndarray,
    psu: np.ndarray,
    lonely_psu: str,
    where: str,
) -> np.ndarray:
    """Variance of the totals of ``z`` (n, k) under the with-replacement design.

    ``stratum`` and ``psu`` are integer codes (PSUs numbered within the whole group,
    nested in strata). Returns a (k,) array.
    """
    n_psu = int(psu.max()) + 1
    totals = np.zeros((n_psu, z.shape[1]))
    np.add.at(totals, psu, z)
    psu_stratum = np.zeros(n_psu, dtype=np.int64)
    psu_stratum[psu] = stratum
    n_strata = int(stratum.max()) + 1
    n_h = np.bincount(psu_stratum, minlength=n_strata).astype(np.float64)
    sums = np.zeros((n_strata, z.shape[1]))
    np.add.at(sums, psu_stratum, totals)
    means = sums / n_h[:, None]
    dev2 = np.zeros((n_strata, z.shape[1]))
    np.add.at(dev2, psu_stratum, (totals - means[psu_stratum]) ** 2)
    single = n_h < 2
    if single.any() and lonely_psu == "error":
        raise DataError(
            f"{_FUNC}: {int(single.sum())} stratum/strata of {where} hold a single PSU, whose "
            "variance cannot be estimated. Merge them with a neighbouring stratum, or pass "
            "lonely_psu='remove' (they add no variance) or 'scaled' (Stata's "
            "singleunit(scaled))."
        )
    factor = np.where(single, 0.0, n_h / np.where(single, 1.0, n_h - 1.0))
    variance = (factor[:, None] * dev2).sum(axis=0)
    if single.any() and lonely_psu == "scaled":
        multi = int((~single).sum())
        if multi == 0:
            raise DataError(
                f"{_FUNC}: every stratum of {where} holds a single PSU; no variance can be "
                "estimated (lonely_psu='scaled' needs strata with several PSUs)."
            )
        variance = variance * n_strata / multi
    return np.asarray(variance)


def _estimate_group(
    y: np.ndarray,
    w: np.ndarray,
    size_code: np.ndarray,
    n_classes: int,
    stratum: np.ndarray,
    psu: np.ndarray,
    total: bool,
    lonely_psu: str,
    where: str,
) -> dict[str, np.ndarray]:
    """Shares and SEs of one outcome in every size class (and the total) of one group."""
    answered = ~np.isnan(y)
    y0 = np.where(answered, y, 0.0)
    member = np.zeros((len(y), n_classes + int(total)), dtype=bool)
    member[np.arange(len(y)), size_code] = True
    if total:
        member[:, -1] = True
    delta = member & answered[:, None]
    wd = w[:, None] * delta
    weight_sum = wd.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = (wd * y0[:, None]).sum(axis=0) / weight_sum
        z = (
            wd
            * (y0[:, None] - np.nan_to_num(p)[None, :])
            / np.where(weight_sum > 0, weight_sum, 1.0)
        )
    variance = _design_variance(z, stratum, psu, lonely_psu, where)
    n = delta.sum(axis=0)
    empty = n == 0
    p = np.where(empty, np.nan, p)
    se = np.where(empty, np.nan, np.sqrt(variance))
    return {"estimate": p, "se": se, "n": n, "weighted_n": weight_sum}


def from_microdata(
    firms: pd.DataFrame,
    *,
    size: str,
    weight: str,
    outcomes: str | Sequence[str],
    strata: str | None = None,
    psu: str | None = None,
    country: str | None = None,
    year: str | int | None = None,
    classes: Sequence[Any] | Mapping[Any, Any] | None = None,
    bins: str | Mapping[str, tuple[float, float]] | None = None,
    coding: str = "binary",
    total: bool = False,
    lonely_psu: str = "error",
    percent: bool = True,
) -> MicrodataShares:
    r"""Survey-weighted share of firms with each outcome, by size class, with design SEs.

    The input is one row per firm, as in the World Bank Enterprise Surveys (WBES)
    standardised data sets:

    ============  ===========================================================  ==============
    WBES column   meaning                                                      parameter
    ============  ===========================================================  ==============
    ``idstd``     firm identifier (not needed)                                 —
    ``a1`` or     country (code or name); one survey = one country-year        ``country``
    ``country``
    ``a4a`` /     stratification (industry × size × region in WBES; the        ``strata``
    ``strata``    combined ``strata`` variable where present)
    ``wstrict``,  sampling weights (strict, median or weak eligibility;        ``weight``
    ``wmedian``   see the survey's documentation for the one to use)
    ``a6a``       sampling size stratum (1 small 5–19, 2 medium 20–99,         ``size`` +
                  3 large 100+)                                                ``classes``
    ``l1``        permanent full-time employees (a number)                     ``size`` +
                                                                               ``bins``
    ``c22a``,     outcomes coded 1 = yes, 2 = no, negative = don't know /      ``outcomes``
    ``c22b``      does not apply: e-mail with clients, own website, ...        (``coding=
                                                                               'wbes'``)
    ============  ===========================================================  ==============

    For each country-year, outcome and size class (the *domain*) it returns the weighted
    proportion :math:`\hat p_d = \sum_i w_i\delta_i y_i / \sum_i w_i\delta_i` and its
    standard error by Taylor linearisation, :math:`\widehat V = \sum_h \frac{n_h}{n_h-1}
    \sum_j (Z_{hj} - \bar Z_h)^2` over the PSU totals of
    :math:`z_i = w_i\delta_i(y_i - \hat p_d)/\sum_k w_k\delta_k` (see the module notes):
    strata and PSUs if given, one stratum and one PSU per firm (a with-replacement design)
    if not. Firms that did not answer an outcome are left out of that outcome's domain.

    Parameters
    ----------
    firms : pandas.DataFrame
        One row per firm.
    size : str
        Column of size classes (labels or codes, see ``classes``), or of employment when
        ``bins`` is given (e.g. WBES ``l1``).
    weight : str
        Column of sampling weights (finite, > 0).
    outcomes : str or list of str
        Columns of yes/no outcomes (see ``coding``).
    strata : str, optional
        Column of strata.
    psu : str, optional
        Column of primary sampling units, labelled within strata.
    country : str, optional
        A column of country codes (each country-year is estimated on its own design), or
        one code for every firm (e.g. ``"IND"``). Without it the unit is ``"all"``.
    year : str or int, optional
        A column of survey years, or one year for every firm. Without it the panel has no
        ``time`` dim.
    classes : list or mapping, optional
        The size-class labels allowed, in order (others are an error), or a mapping
        ``{code: label}`` such as ``{1: "5-19", 2: "20-99", 3: "GE100"}`` for WBES
        ``a6a``. Default: the labels found, sorted.
    bins : {"eurostat", "wbes"} or mapping, optional
        The size column holds employment; classes are the inclusive bands of
        :data:`SIZE_BINS` or of a mapping ``{label: (lowest, highest)}``, e.g.
        ``bins="eurostat"`` gives ``10-49``, ``50-249``, ``GE250`` (and ``1-9``): the
        labels of the Eurostat codes in the BRICS+ panel.
    coding : {"binary", "wbes"}, default "binary"
        ``"binary"``: outcomes are 0/1 (or booleans), missing = no answer. ``"wbes"``:
        1 = yes, 2 = no, negative codes (-9 don't know, -7 does not apply, ...) and
        missing = no answer.
    total : bool, default False
        Also estimate over all firms (size class ``"total"``).
    lonely_psu : {"error", "remove", "scaled"}, default "error"
        Strata with a single PSU: raise; let them add no variance (R ``survey``'s
        ``"remove"``, Stata's ``singleunit(certainty)``); or scale the variance of the
        other strata up by :math:`H / H_{>1}` (Stata's ``singleunit(scaled)``, as in the
        Enterprise Surveys' own Stata set-up).
    percent : bool, default True
        Estimates and SEs in percent (as the Eurostat and Findex series of the panel);
        ``False``: proportions in [0, 1].

    Returns
    -------
    MicrodataShares
        ``(table, panel, se)``: the tidy table (columns ``country``, ``year`` — when
        given —, ``outcome``, ``size``, ``estimate``, ``se``, ``n``, ``weighted_n``,
        ``n_psu``, ``n_strata``, ``df``), the estimates as a panel ``(unit, time,
        indicator)`` with indicators ``<outcome>|<size>``, and the SEs likewise. A size
        class without answering firms has NaN estimate and SE (and ``n`` 0).

    Raises
    ------
    DataError
        Missing columns (all named at once); weights missing or ≤ 0; size classes
        unknown or missing; outcome values other than the coding allows; missing strata
        or PSU labels; single-PSU strata with ``lonely_psu="error"``. Each message names
        the column.
    InvalidParameterError
        Bad parameters (unknown ``bins``, ``coding``, ``lonely_psu``, ...).

    Notes
    -----
    With equal weights and no design the SE is :math:`\sqrt{\hat p(1-\hat p)/(n-1)}`
    over the whole class, the usual standard error of a sample proportion (the ``ddof=0``
    ``std_mean`` of ``statsmodels.stats.weightstats.DescrStatsW``). With unequal weights
    and no design, the total's SE equals the HC1 robust SE of a weighted least-squares
    regression of :math:`y` on a constant; with PSUs, the cluster-robust one. The tests
    check both against ``statsmodels``, and check the estimates against a synthetic
    population with known shares.

    Examples
    --------
    >>> import pandas as pd
    >>> firms = pd.DataFrame({
    ...     "a1": ["BRA"] * 6, "year": [2023] * 6, "l1": [12, 30, 8, 60, 300, 15],
    ...     "wmedian": [5.0, 5.0, 9.0, 2.0, 1.0, 5.0], "c22b": [1, 2, -9, 1, 1, 2]})
    >>> table, panel, se = from_microdata(
    ...     firms, size="l1", bins={"small": (5, 49), "medium+": (50, 1e9)},
    ...     weight="wmedian", outcomes="c22b", coding="wbes", country="a1", year="year")
    >>> table[["size", "estimate", "n"]].values.tolist()
    [['small', 33.33333333333333, 3], ['medium+', 100.0, 2]]
    >>> panel.indicator.values.tolist()
    ['c22b|small', 'c22b|medium+']
    """
    if not isinstance(firms, pd.DataFrame):
        raise InvalidParameterError(
            f"The 'firms' parameter of {_FUNC} must be a pandas DataFrame (one row per firm); "
            f"got {type(firms).__name__}."
        )
    if firms.empty:
        raise DataError(f"{_FUNC}: 'firms' has no rows.")
    check_choice(coding, _CODINGS, param="coding", func=_FUNC)
    check_choice(lonely_psu, _LONELY, param="lonely_psu", func=_FUNC)
    for flag, name in ((total, "total"), (percent, "percent")):
        if not isinstance(flag, bool):
            raise InvalidParameterError(
                f"The {name!r} parameter of {_FUNC} must be True or False; got {flag!r}."
            )
    outcome_cols = _as_list(outcomes, "outcomes")
    for param, value in (("size", size), ("weight", weight), ("strata", strata), ("psu", psu)):
        if value is not None and not isinstance(value, str):
            raise InvalidParameterError(
                f"The {param!r} parameter of {_FUNC} must be a column name; got {value!r}."
            )
    needed = {
        "size": [size],
        "weight": [weight],
        "outcomes": outcome_cols,
        **({"strata": [strata]} if strata is not None else {}),
        **({"psu": [psu]} if psu is not None else {}),
    }
    _check_columns(firms, needed)
    country_col, country_label = _column_or_label(firms, country, "country")
    year_col, year_label = _column_or_label(firms, year, "year")

    w = _weights(firms, weight)
    size_code, labels = _size_labels(firms, size, classes, bins)
    ys = {col: _outcome(firms, col, coding) for col in outcome_cols}
    n = len(firms)
    stratum_all = _codes(firms[strata], "strata") if strata is not None else np.zeros(n, np.int64)
    if psu is not None:
        psu_code = _codes(firms[psu], "psu")  # labels are read within strata:
        psu_all = stratum_all * (int(psu_code.max()) + 1) + psu_code
    else:
        psu_all = np.arange(n, dtype=np.int64)
    group_keys: list[pd.Series] = []
    for col in (country_col, year_col):
        if col is not None:
            _codes(firms[col], "country" if col == country_col else "year")
            group_keys.append(firms[col])
    if group_keys:
        grouped = pd.DataFrame({i: k.to_numpy() for i, k in enumerate(group_keys)})
        positions = grouped.groupby(list(grouped.columns), sort=True).indices
        groups = [
            (key if isinstance(key, tuple) else (key,), np.asarray(idx))
            for key, idx in positions.items()
        ]
    else:
        groups = [((), np.arange(n))]

    size_labels = [*labels, *([_TOTAL] if total else [])]
    scale = 100.0 if percent else 1.0
    rows: list[dict[str, Any]] = []
    for key, idx in groups:
        parts = iter(key)
        c = next(parts) if country_col is not None else country_label
        t = next(parts) if year_col is not None else year_label
        where = (
            ", ".join(f"{p}={v!r}" for p, v in (("country", c), ("year", t)) if v is not None)
            or "the sample"
        )
        stratum = pd.factorize(stratum_all[idx])[0]
        group_psu = pd.factorize(psu_all[idx])[0]
        n_psu = int(group_psu.max()) + 1
        n_strata = int(stratum.max()) + 1
        for col, y in ys.items():
            est = _estimate_group(
                y[idx], w[idx], size_code[idx], len(labels), stratum, group_psu, total,
                lonely_psu, where,
            )  # fmt: skip
            for k, label in enumerate(size_labels):
                rows.append(
                    {
                        "country": c,
                        "year": t,
                        "outcome": col,
                        "size": label,
                        "estimate": est["estimate"][k] * scale,
                        "se": est["se"][k] * scale,
                        "n": int(est["n"][k]),
                        "weighted_n": float(est["weighted_n"][k]),
                        "n_psu": n_psu,
                        "n_strata": n_strata,
                        "df": n_psu - n_strata,
                    }
                )
    table = pd.DataFrame(rows)
    if country_col is None and country_label is None:
        table["country"] = "all"
    has_year = year_col is not None or year_label is not None
    if not has_year:
        table = table.drop(columns="year")
    panel, se = _to_panels(table, outcome_cols, size_labels, has_year)
    call = describe_call(
        _FUNC,
        {"size": size, "weight": weight, "outcomes": outcome_cols, "strata": strata, "psu": psu,
         "country": country, "year": year, "coding": coding, "lonely_psu": lonely_psu,
         "percent": percent},
    )  # fmt: skip
    for arr, what in ((panel, "estimate"), (se, "standard error")):
        arr.attrs = {
            "description": f"survey-weighted {what} of the share of firms by size class",
            "unit_measure": "% of firms" if percent else "proportion of firms",
            "history": [call],
        }
    return MicrodataShares(table.reset_index(drop=True), panel, se)


def _to_panels(
    table: pd.DataFrame, outcomes: list[str], sizes: list[str], has_year: bool
) -> tuple[xr.DataArray, xr.DataArray]:
    codes = [f"{o}|{s}" for o in outcomes for s in sizes]
    units: list[Any] = list(dict.fromkeys(table["country"].tolist()))
    keyed = table.assign(indicator=table["outcome"] + "|" + table["size"].astype(str))
    levels: list[list[Any]] = [units]
    dims = ["unit"]
    coords: dict[str, Any] = {"unit": units}
    if has_year:
        times: list[Any] = sorted(dict.fromkeys(table["year"].tolist()))
        levels.append(times)
        dims.append("time")
        coords["time"] = times
    levels.append(codes)
    dims.append("indicator")
    coords["indicator"] = codes
    index = ["country", "year", "indicator"] if has_year else ["country", "indicator"]
    keyed = keyed.set_index(index)
    full = pd.MultiIndex.from_product(levels, names=index)
    shape = tuple(len(level) for level in levels)
    outcome_of = np.array([o for o in outcomes for _ in sizes], dtype=object)
    size_of = np.array([s for _ in outcomes for s in sizes], dtype=object)
    out = []
    for column, name in (("estimate", "share"), ("se", "se")):
        values = keyed[column].reindex(full).to_numpy(dtype=np.float64).reshape(shape)
        arr = xr.DataArray(values, dims=dims, coords=coords, name=name)
        out.append(
            arr.assign_coords(outcome=("indicator", outcome_of), size_class=("indicator", size_of))
        )
    return out[0], out[1]
