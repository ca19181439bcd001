"""The index specification: a frozen, validated tree of indicators and aggregates.

An :class:`IndexSpec` holds one :class:`Node` per indicator, aggregate, denominator and
group variable. Level 1 holds the indicators; every aggregate is built from its direct
children; exactly one node (the index) has no parent. Specifications load from and dump
to YAML, tables (pandas) and COINr's ``iMeta`` table.

Examples
--------
>>> from brics_ecom.spec import IndexSpec, Node
>>> spec = IndexSpec([
...     Node("a", parent="P"), Node("b", parent="P", direction=-1),
...     Node("c", parent="Q"), Node("P", kind="aggregate", parent="I"),
...     Node("Q", kind="aggregate", parent="I"), Node("I", kind="aggregate"),
... ])
>>> spec.indicators
('a', 'b', 'c')
>>> spec.children("P")
('a', 'b')
>>> spec.root, spec.max_level
('I', 3)
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
import yaml

from .errors import InvalidParameterError, SpecError

__all__ = ["KINDS", "IndexSpec", "Node"]

KINDS = ("indicator", "aggregate", "denominator", "group")
TREE_KINDS = ("indicator", "aggregate")


def _freeze(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if not mapping:
        return MappingProxyType({})
    return MappingProxyType(
        {k: _freeze(v) if isinstance(v, Mapping) else v for k, v in mapping.items()}
    )


def _thaw(mapping: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _thaw(v) if isinstance(v, Mapping) else v for k, v in mapping.items()}


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return bool(isinstance(value, str) and value.strip() in {"", "NA", "nan", "NaN"})


@dataclass(frozen=True)
class Node:
    """One node of the index tree.

    Parameters
    ----------
    code : str
        Unique code; for indicators, the label on the panel's ``indicator`` dim.
    name : str, optional
        Long name (defaults to ``code``).
    level : int, optional
        1 for indicators; aggregates default to one more than their highest child.
    parent : str, optional
        Code of the parent aggregate; ``None`` for the root (and for denominators/groups).
    kind : {"indicator", "aggregate", "denominator", "group"}
        What the node is.
    direction : {1, -1}
        +1 if higher is better, −1 if higher is worse.
    weight : float
        Weight within the parent (≥ 0, finite); only ratios between siblings matter.
    unit : str, optional
        Measurement unit (documentation only).
    target : float, optional
        Target value on the raw scale (for ``dist2targ``).
    goalposts : tuple of float, optional
        ``(lower, upper)`` on the raw scale (for ``goalposts``/``scaled``).
    denominator : str, optional
        Code of the denominator this indicator is divided by in ``denominate``.
    overrides : mapping, optional
        Per-node step overrides, e.g. ``{"normalise": {"method": "zscore"}}`` or
        ``{"treat": {"winmax": 0}}``.

    Examples
    --------
    >>> Node("Tariff", direction=-1, parent="Instit").direction
    -1
    """

    code: str
    name: str | None = None
    level: int | None = None
    parent: str | None = None
    kind: str = "indicator"
    direction: int = 1
    weight: float = 1.0
    unit: str | None = None
    target: float | None = None
    goalposts: tuple[float, float] | None = None
    denominator: str | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "overrides", _freeze(self.overrides))
        if self.goalposts is not None:
            object.__setattr__(self, "goalposts", tuple(float(v) for v in self.goalposts))
        # NumPy scalars (e.g. read from a table) become plain Python numbers; anything
        # else is left for IndexSpec's validation to report.
        if isinstance(self.weight, numbers.Real) and not isinstance(self.weight, bool):
            object.__setattr__(self, "weight", float(self.weight))
        d = self.direction
        if isinstance(d, numbers.Real) and not isinstance(d, bool) and d in (1, -1):
            object.__setattr__(self, "direction", int(d))
        if isinstance(self.target, numbers.Real) and not isinstance(self.target, bool):
            object.__setattr__(self, "target", float(self.target))

    def __hash__(self) -> int:
        # the overrides mapping is not hashable; equal nodes still hash equal
        return hash((self.code, self.kind, self.parent, self.level, self.direction, self.weight))

    def __reduce__(self) -> tuple[Any, ...]:
        # mappingproxy fields do not pickle: rebuild from the plain form
        return (_node_from_dict, (self.to_dict(),))

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python dict of the non-default fields (for YAML).

        Examples
        --------
        >>> Node("a", parent="P").to_dict()
        {'code': 'a', 'parent': 'P'}
        """
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            default = f.default
            if f.name == "overrides":
                if value:
                    out["overrides"] = _thaw(value)
                continue
            if f.name == "code" or value != default:
                out[f.name] = list(value) if isinstance(value, tuple) else value
        return out


class IndexSpec:
    """A validated, immutable index tree.

    Parameters
    ----------
    nodes : iterable of Node
        The nodes; their order is kept (indicators are listed in that order).
    name : str, optional
        Name of the index.

    Raises
    ------
    SpecError
        On duplicated codes, several roots, cycles, orphans, directions other than ±1,
        negative or non-finite weights, weights summing to zero under a parent, or an
        aggregate without children. The message names the code at fault.

    Examples
    --------
    >>> spec = IndexSpec([Node("x", parent="I"), Node("y", parent="I"),
    ...                   Node("I", kind="aggregate")])
    >>> spec.weights
    {'x': 1.0, 'y': 1.0, 'I': 1.0}
    """

    def __init__(self, nodes: Iterable[Node], *, name: str | None = None) -> None:
        nodes = tuple(nodes)
        for node in nodes:
            if not isinstance(node, Node):
                raise SpecError(f"IndexSpec takes Node objects; got {type(node).__name__}.")
        self._name = name
        self._nodes = self._resolve_levels(nodes)
        self._by_code = {n.code: n for n in self._nodes}
        self._children: dict[str, tuple[str, ...]] = {}
        for n in self._nodes:
            if n.kind in TREE_KINDS and n.parent is not None:
                self._children.setdefault(n.parent, ())
                self._children[n.parent] = (*self._children[n.parent], n.code)
        self._validate()

    # ------------------------------------------------------------------ building
    @staticmethod
    def _resolve_levels(nodes: tuple[Node, ...]) -> tuple[Node, ...]:
        seen: set[str] = set()
        for n in nodes:
            if not isinstance(n.code, str) or not n.code:
                raise SpecError(f"Every node needs a non-empty string code; got {n.code!r}.")
            if n.code in seen:
                raise SpecError(f"The code {n.code!r} appears more than once in the specification.")
            seen.add(n.code)
            if n.kind not in KINDS:
                raise SpecError(f"Node {n.code!r} has kind {n.kind!r}; expected one of {KINDS}.")
        by_code = {n.code: n for n in nodes}
        children: dict[str, list[Node]] = {}
        for n in nodes:
            if n.kind in TREE_KINDS and n.parent is not None:
                if n.parent not in by_code:
                    raise SpecError(
                        f"Node {n.code!r} names the parent {n.parent!r}, which is not in the "
                        "specification (orphan). Add the parent aggregate or fix the code."
                    )
                if by_code[n.parent].kind != "aggregate":
                    raise SpecError(
                        f"Node {n.code!r} names {n.parent!r} as parent, but {n.parent!r} is a "
                        f"{by_code[n.parent].kind}; parents must be aggregates."
                    )
                children.setdefault(n.parent, []).append(n)

        levels: dict[str, int] = {}

        def level_of(code: str, path: tuple[str, ...]) -> int:
            if code in path:
                cycle = " -> ".join((*path[path.index(code) :], code))
                raise SpecError(f"The tree has a cycle: {cycle}.")
            if code in levels:
                return levels[code]
            node = by_code[code]
            if node.kind == "indicator":
                lvl = 1
            else:
                kids = children.get(code, [])
                if not kids:
                    raise SpecError(
                        f"Aggregate {code!r} has no children; give it children or remove it."
                    )
                lvl = 1 + max(level_of(k.code, (*path, code)) for k in kids)
            levels[code] = lvl
            return lvl

        out = []
        for n in nodes:
            if n.kind not in TREE_KINDS:
                out.append(replace(n, level=None, parent=None) if n.level or n.parent else n)
                continue
            inferred = level_of(n.code, ())
            if n.level is None:
                out.append(replace(n, level=inferred))
            else:
                out.append(n)
        # a parent's declared level must exceed its children's
        final = {n.code: n for n in out}
        for n in out:
            if n.kind in TREE_KINDS and n.parent is not None:
                p = final[n.parent]
                assert p.level is not None and n.level is not None
                if p.level <= n.level:
                    raise SpecError(
                        f"Node {n.code!r} is at level {n.level} but its parent {n.parent!r} is "
                        f"at level {p.level}; a parent's level must be higher than its children's."
                    )
            if n.kind == "indicator" and n.level != 1:
                raise SpecError(f"Indicator {n.code!r} must be at level 1; got level {n.level}.")
        return tuple(out)

    def _validate(self) -> None:
        tree = [n for n in self._nodes if n.kind in TREE_KINDS]
        if not any(n.kind == "indicator" for n in tree):
            raise SpecError("The specification has no indicators.")
        roots = [n.code for n in tree if n.parent is None]
        if len(roots) != 1:
            raise SpecError(
                f"The tree must have exactly one root (a node without parent); found {roots}. "
                "Give every node but the index a parent."
            )
        for n in self._nodes:
            if isinstance(n.direction, bool) or n.direction not in (1, -1):
                raise SpecError(f"Node {n.code!r} has direction {n.direction!r}; use 1 or -1.")
            w = n.weight
            if not isinstance(w, int | float) or isinstance(w, bool) or not math.isfinite(w):
                raise SpecError(
                    f"Node {n.code!r} has weight {w!r}; weights must be finite numbers."
                )
            if w < 0:
                raise SpecError(f"Node {n.code!r} has negative weight {w}; weights must be ≥ 0.")
            if n.goalposts is not None:
                lo, hi = n.goalposts
                if not lo < hi:
                    raise SpecError(
                        f"Node {n.code!r} has goalposts ({lo}, {hi}); the lower goalpost must be "
                        "smaller than the upper one."
                    )
            if n.denominator is not None:
                d = self._by_code.get(n.denominator)
                if d is not None and d.kind not in ("denominator", "indicator"):
                    raise SpecError(
                        f"Indicator {n.code!r} names {n.denominator!r} as denominator, but it is "
                        f"a {d.kind}."
                    )
        for parent, kids in self._children.items():
            if sum(self._by_code[k].weight for k in kids) <= 0:
                raise SpecError(
                    f"The weights of the children of {parent!r} ({', '.join(kids)}) sum to 0; "
                    "at least one must be positive."
                )

    # ------------------------------------------------------------------ accessors
    @property
    def name(self) -> str | None:
        """Name of the index (may be ``None``)."""
        return self._name

    @property
    def nodes(self) -> tuple[Node, ...]:
        """Every node, in definition order."""
        return self._nodes

    def __iter__(self) -> Iterator[Node]:
        return iter(self._nodes)

    def __len__(self) -> int:
        return len(self._nodes)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __getitem__(self, code: str) -> Node:
        return self.node(code)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_spec_from_nodes, (self._nodes, self._name))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IndexSpec) and self._nodes == other._nodes

    def __hash__(self) -> int:
        return hash(self._nodes)

    def __repr__(self) -> str:
        n_ind = len(self.indicators)
        return (
            f"IndexSpec(name={self._name!r}, indicators={n_ind}, "
            f"aggregates={len(self.aggregates)}, levels={self.max_level}, root={self.root!r})"
        )

    def node(self, code: str) -> Node:
        """The node with ``code``.

        Examples
        --------
        >>> IndexSpec([Node("x", parent="I"), Node("I", kind="aggregate")]).node("x").parent
        'I'
        """
        try:
            return self._by_code[code]
        except KeyError:
            raise SpecError(f"No node with code {code!r} in the specification.") from None

    @cached_property
    def codes(self) -> tuple[str, ...]:
        """Codes of the tree nodes (indicators and aggregates), in definition order."""
        return tuple(n.code for n in self._nodes if n.kind in TREE_KINDS)

    @cached_property
    def indicators(self) -> tuple[str, ...]:
        """Codes of the indicators (level 1), in definition order."""
        return tuple(n.code for n in self._nodes if n.kind == "indicator")

    @cached_property
    def aggregates(self) -> tuple[str, ...]:
        """Codes of the aggregates, ordered by level then definition order."""
        aggs = [n for n in self._nodes if n.kind == "aggregate"]
        return tuple(n.code for n in sorted(aggs, key=lambda n: n.level or 0))

    @cached_property
    def denominators(self) -> tuple[str, ...]:
        """Codes of the denominator nodes."""
        return tuple(n.code for n in self._nodes if n.kind == "denominator")

    @cached_property
    def groups(self) -> tuple[str, ...]:
        """Codes of the group variables."""
        return tuple(n.code for n in self._nodes if n.kind == "group")

    @cached_property
    def root(self) -> str:
        """Code of the root (the index)."""
        return next(n.code for n in self._nodes if n.kind in TREE_KINDS and n.parent is None)

    @cached_property
    def max_level(self) -> int:
        """Highest level of the tree (the root's level)."""
        level = self._by_code[self.root].level
        assert level is not None
        return level

    @cached_property
    def levels(self) -> tuple[int, ...]:
        """Levels present in the tree, ascending."""
        return tuple(sorted({n.level for n in self._nodes if n.level is not None}))

    def level_codes(self, level: int) -> tuple[str, ...]:
        """Codes of the tree nodes at ``level``.

        Examples
        --------
        >>> spec = IndexSpec([Node("x", parent="I"), Node("I", kind="aggregate")])
        >>> spec.level_codes(2)
        ('I',)
        """
        return tuple(n.code for n in self._nodes if n.kind in TREE_KINDS and n.level == level)

    def children(self, code: str) -> tuple[str, ...]:
        """Direct children of ``code`` (empty for indicators)."""
        self.node(code)
        return self._children.get(code, ())

    def parent(self, code: str) -> str | None:
        """Parent of ``code`` (``None`` for the root)."""
        return self.node(code).parent

    def ancestor(self, code: str, level: int) -> str | None:
        """The ancestor of ``code`` at ``level`` (``code`` itself if at that level).

        Examples
        --------
        >>> spec = IndexSpec([Node("x", parent="P"), Node("P", kind="aggregate", parent="I"),
        ...                   Node("I", kind="aggregate")])
        >>> spec.ancestor("x", 3)
        'I'
        """
        node: Node | None = self.node(code)
        while node is not None:
            if node.level == level:
                return node.code
            node = self._by_code[node.parent] if node.parent is not None else None
        return None

    def descendants(self, code: str, level: int = 1) -> tuple[str, ...]:
        """All descendants of ``code`` at ``level`` (default: its indicators), in order."""
        out: list[str] = []
        for kid in self.children(code):
            if self._by_code[kid].level == level:
                out.append(kid)
            else:
                out.extend(self.descendants(kid, level))
        return tuple(out)

    @property
    def directions(self) -> dict[str, int]:
        """Direction of every tree node."""
        return dict(self._directions)

    @cached_property
    def _directions(self) -> dict[str, int]:
        return {n.code: n.direction for n in self._nodes if n.kind in TREE_KINDS}

    @property
    def weights(self) -> dict[str, float]:
        """Weight of every tree node."""
        return dict(self._weights)

    @cached_property
    def _weights(self) -> dict[str, float]:
        return {n.code: float(n.weight) for n in self._nodes if n.kind in TREE_KINDS}

    @property
    def targets(self) -> dict[str, float]:
        """Targets of the indicators that have one."""
        return dict(self._targets)

    @cached_property
    def _targets(self) -> dict[str, float]:
        return {n.code: float(n.target) for n in self._nodes if n.target is not None}

    def overrides(self, step: str) -> dict[str, dict[str, Any]]:
        """Per-node overrides for ``step``, as ``{code: params}``.

        Examples
        --------
        >>> spec = IndexSpec([Node("x", parent="I", overrides={"normalise": {"method": "rank"}}),
        ...                   Node("I", kind="aggregate")])
        >>> spec.overrides("normalise")
        {'x': {'method': 'rank'}}
        """
        return {
            n.code: _thaw(n.overrides[step])
            for n in self._nodes
            if step in n.overrides and isinstance(n.overrides[step], Mapping)
        }

    # ------------------------------------------------------------------ modifying
    def replace_node(self, code: str, **changes: Any) -> IndexSpec:
        """A new spec with the fields of node ``code`` changed.

        Examples
        --------
        >>> spec = IndexSpec([Node("x", parent="I"), Node("I", kind="aggregate")])
        >>> spec.replace_node("x", weight=2.0).node("x").weight
        2.0
        """
        self.node(code)
        nodes = [replace(n, **changes) if n.code == code else n for n in self._nodes]
        return IndexSpec(nodes, name=self._name)

    def with_weights(self, weights: Mapping[str, float]) -> IndexSpec:
        """A new spec with the weights of the given codes replaced.

        Raises
        ------
        SpecError
            If a code is unknown or a weight is invalid.

        Examples
        --------
        >>> spec = IndexSpec([Node("x", parent="I"), Node("y", parent="I"),
        ...                   Node("I", kind="aggregate")])
        >>> spec.with_weights({"x": 3}).weights["x"]
        3.0
        """
        unknown = sorted(set(weights) - set(self.codes))
        if unknown:
            raise SpecError(f"Weights given for codes not in the tree: {unknown}.")
        nodes = [
            replace(n, weight=float(weights[n.code])) if n.code in weights else n
            for n in self._nodes
        ]
        return IndexSpec(nodes, name=self._name)

    def subset(self, indicators: Iterable[str]) -> IndexSpec:
        """A new spec keeping only ``indicators`` (aggregates left empty are dropped).

        Examples
        --------
        >>> spec = IndexSpec([Node("x", parent="P"), Node("y", parent="Q"),
        ...                   Node("P", kind="aggregate", parent="I"),
        ...                   Node("Q", kind="aggregate", parent="I"), Node("I", kind="aggregate")])
        >>> spec.subset(["x"]).codes
        ('x', 'P', 'I')
        """
        keep = set(indicators)
        unknown = sorted(keep - set(self.indicators))
        if unknown:
            raise SpecError(f"subset: indicators not in the specification: {unknown}.")
        alive: set[str] = set()
        for code in keep:
            node: Node | None = self._by_code[code]
            while node is not None:
                alive.add(node.code)
                node = self._by_code[node.parent] if node.parent else None
        nodes = [n for n in self._nodes if n.kind not in TREE_KINDS or n.code in alive]
        nodes = [replace(n, level=None) if n.kind == "aggregate" else n for n in nodes]
        return IndexSpec(nodes, name=self._name)

    # ------------------------------------------------------------------ I/O
    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form (what :meth:`to_yaml` writes).

        Examples
        --------
        >>> spec = IndexSpec([Node("x", parent="I"), Node("I", kind="aggregate")], name="demo")
        >>> IndexSpec.from_dict(spec.to_dict()) == spec
        True
        """
        out: dict[str, Any] = {}
        if self._name is not None:
            out["name"] = self._name
        out["nodes"] = [n.to_dict() for n in self._nodes]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IndexSpec:
        """Build from the form written by :meth:`to_dict`."""
        if not isinstance(data, Mapping) or "nodes" not in data:
            raise SpecError("A specification mapping needs a 'nodes' list.")
        valid = {f.name for f in fields(Node)}
        nodes = []
        for i, item in enumerate(data["nodes"]):
            if not isinstance(item, Mapping) or "code" not in item:
                raise SpecError(f"Node number {i} of the specification has no 'code'.")
            bad = sorted(set(item) - valid)
            if bad:
                raise SpecError(
                    f"Node {item['code']!r} has unknown fields {bad}; valid fields are "
                    f"{sorted(valid)}."
                )
            kwargs = dict(item)
            if kwargs.get("goalposts") is not None:
                kwargs["goalposts"] = tuple(kwargs["goalposts"])
            if "weight" in kwargs and kwargs["weight"] is not None:
                kwargs["weight"] = _as_float(kwargs["weight"], item["code"], "weight")
            nodes.append(Node(**kwargs))
        return cls(nodes, name=data.get("name"))

    def to_yaml(self, path: str | Path | None = None) -> str:
        """Dump to YAML; also write to ``path`` if given.

        Examples
        --------
        >>> spec = IndexSpec([Node("x", parent="I"), Node("I", kind="aggregate")])
        >>> IndexSpec.from_yaml(spec.to_yaml()) == spec
        True
        """
        return dump_yaml(self.to_dict(), path)

    @classmethod
    def from_yaml(cls, source: str | Path) -> IndexSpec:
        """Load from a YAML file path or a YAML string."""
        return cls.from_dict(read_yaml(source))

    _TABLE_COLUMNS = (
        "code", "name", "level", "parent", "kind", "direction", "weight", "unit", "target",
        "goalpost_lower", "goalpost_upper", "denominator", "overrides",
    )  # fmt: skip

    def to_table(self) -> pd.DataFrame:
        """One row per node, columns as in :meth:`from_table`.

        Per-node overrides are written to the ``overrides`` column as JSON text (empty
        where a node has none), so that ``from_table(to_table())`` loses nothing.

        Examples
        --------
        >>> spec = IndexSpec([Node("x", parent="I"), Node("I", kind="aggregate")])
        >>> list(spec.to_table()["code"])
        ['x', 'I']
        """
        rows = []
        for n in self._nodes:
            lo, hi = n.goalposts if n.goalposts is not None else (np.nan, np.nan)
            rows.append({
                "code": n.code, "name": n.name, "level": n.level, "parent": n.parent,
                "kind": n.kind, "direction": n.direction, "weight": n.weight, "unit": n.unit,
                "target": n.target, "goalpost_lower": lo, "goalpost_upper": hi,
                "denominator": n.denominator,
                "overrides": json.dumps(_thaw(n.overrides)) if n.overrides else None,
            })  # fmt: skip
        return pd.DataFrame(rows, columns=list(self._TABLE_COLUMNS))

    @classmethod
    def from_table(cls, table: pd.DataFrame, *, name: str | None = None) -> IndexSpec:
        """Build from a table with one row per node.

        Columns (case-insensitive; only ``code`` is required): ``code``, ``name``,
        ``level``, ``parent``, ``kind``, ``direction``, ``weight``, ``unit``, ``target``,
        ``goalpost_lower``, ``goalpost_upper``, ``denominator``, ``overrides`` (a mapping,
        or its JSON/YAML text). Missing kinds are inferred (level 1 or no level with a
        parent → indicator; higher level → aggregate).

        Examples
        --------
        >>> import pandas as pd
        >>> t = pd.DataFrame({"code": ["x", "y", "I"], "parent": ["I", "I", None],
        ...                   "level": [1, 1, 2]})
        >>> IndexSpec.from_table(t).indicators
        ('x', 'y')
        """
        if not isinstance(table, pd.DataFrame):
            raise InvalidParameterError(
                f"from_table expects a pandas DataFrame; got {type(table).__name__}."
            )
        cols = {c.lower(): c for c in table.columns}
        if "code" not in cols:
            raise SpecError(f"The table needs a 'code' column; it has {list(table.columns)}.")
        nodes = []
        for _, row in table.iterrows():
            get = {k: row[c] for k, c in cols.items()}
            code = str(get["code"])
            level = None if _is_missing(get.get("level")) else int(get["level"])
            kind = get.get("kind")
            if _is_missing(kind):
                kind = "aggregate" if level is not None and level > 1 else "indicator"
            kind = str(kind).lower()
            lo, hi = get.get("goalpost_lower"), get.get("goalpost_upper")
            goalposts = None
            if not _is_missing(lo) or not _is_missing(hi):
                if _is_missing(lo) or _is_missing(hi):
                    raise SpecError(f"Node {code!r} has only one goalpost; give both or neither.")
                goalposts = (
                    _as_float(lo, code, "goalpost_lower"),
                    _as_float(hi, code, "goalpost_upper"),
                )
            nodes.append(
                Node(
                    code=code,
                    name=None if _is_missing(get.get("name")) else str(get["name"]),
                    level=level,
                    parent=None if _is_missing(get.get("parent")) else str(get["parent"]),
                    kind=kind,
                    direction=1
                    if _is_missing(get.get("direction"))
                    else _as_direction(get["direction"], code),
                    weight=1.0
                    if _is_missing(get.get("weight"))
                    else _as_float(get["weight"], code, "weight"),
                    unit=None if _is_missing(get.get("unit")) else str(get["unit"]),
                    target=None
                    if _is_missing(get.get("target"))
                    else _as_float(get["target"], code, "target"),
                    goalposts=goalposts,
                    denominator=None
                    if _is_missing(get.get("denominator"))
                    else str(get["denominator"]),
                    overrides=_as_overrides(get.get("overrides"), code),
                )
            )
        return cls(nodes, name=name)

    @classmethod
    def from_coinr(cls, iMeta: pd.DataFrame, *, name: str | None = None) -> IndexSpec:
        """Read COINr's ``iMeta`` table unchanged.

        Columns ``Level``, ``iCode``, ``iName``, ``Direction``, ``Weight``, ``Unit``,
        ``Target``, ``Denominator``, ``Parent``, ``Type`` (``Indicator``, ``Aggregate``,
        ``Group``, ``Denominator``); optional ``Goalpost_lower``/``Goalpost_upper``.
        Rows of other types (e.g. ``Other``) are ignored.

        Examples
        --------
        >>> import pandas as pd
        >>> meta = pd.DataFrame({"Level": [1, 1, 2], "iCode": ["a", "b", "I"],
        ...     "Direction": [1, -1, 1], "Weight": [1, 1, 1], "Parent": ["I", "I", None],
        ...     "Type": ["Indicator", "Indicator", "Aggregate"]})
        >>> IndexSpec.from_coinr(meta).directions
        {'a': 1, 'b': -1, 'I': 1}
        """
        if not isinstance(iMeta, pd.DataFrame):
            raise InvalidParameterError(
                f"from_coinr expects iMeta as a pandas DataFrame; got {type(iMeta).__name__}."
            )
        required = {"iCode", "Type"}
        missing = sorted(required - set(iMeta.columns))
        if missing:
            raise SpecError(
                f"iMeta lacks the columns {missing}; COINr's iMeta has iCode, Type, ..."
            )
        kinds = {"indicator": "indicator", "aggregate": "aggregate", "group": "group",
                 "denominator": "denominator"}  # fmt: skip
        table = pd.DataFrame(
            {
                "code": iMeta["iCode"].astype(str),
                "name": iMeta.get("iName"),
                "level": iMeta.get("Level"),
                "parent": iMeta.get("Parent"),
                "kind": iMeta["Type"].astype(str).str.lower().map(kinds),
                "direction": iMeta.get("Direction"),
                "weight": iMeta.get("Weight"),
                "unit": iMeta.get("Unit"),
                "target": iMeta.get("Target"),
                "goalpost_lower": _col_ci(iMeta, "goalpost_lower"),
                "goalpost_upper": _col_ci(iMeta, "goalpost_upper"),
                "denominator": iMeta.get("Denominator"),
            }
        )
        table = table[table["kind"].notna()].reset_index(drop=True)
        return cls.from_table(table, name=name)

    def to_coinr(self) -> pd.DataFrame:
        """COINr-style ``iMeta`` table.

        Examples
        --------
        >>> spec = IndexSpec([Node("x", parent="I"), Node("I", kind="aggregate")])
        >>> list(spec.to_coinr()["Type"])
        ['Indicator', 'Aggregate']
        """
        t = self.to_table()
        out = pd.DataFrame(
            {
                "Level": t["level"],
                "iCode": t["code"],
                "iName": t["name"].fillna(t["code"]),
                "Direction": t["direction"].where(t["kind"].isin(TREE_KINDS)),
                "Weight": t["weight"].where(t["kind"].isin(TREE_KINDS)),
                "Unit": t["unit"],
                "Target": t["target"],
                "Denominator": t["denominator"],
                "Parent": t["parent"],
                "Type": t["kind"].str.capitalize(),
            }
        )
        if t["goalpost_lower"].notna().any():  # COINr's n_goalposts reads these from iMeta
            out["goalpost_lower"] = t["goalpost_lower"]
            out["goalpost_upper"] = t["goalpost_upper"]
        return out


def _node_from_dict(data: dict[str, Any]) -> Node:
    return Node(**data)


def _spec_from_nodes(nodes: tuple[Node, ...], name: str | None) -> IndexSpec:
    return IndexSpec(nodes, name=name)


def _col_ci(df: pd.DataFrame, name: str) -> pd.Series | None:
    for c in df.columns:
        if c.lower() == name:
            return df[c]
    return None


def _as_float(value: Any, code: str, what: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise SpecError(f"Node {code!r} has {what} {value!r}; expected a number.") from None


def _as_overrides(value: Any, code: str) -> Mapping[str, Any]:
    if isinstance(value, Mapping):
        return value
    if _is_missing(value):
        return {}
    if isinstance(value, str):
        try:
            parsed = yaml.safe_load(value)  # JSON is YAML
        except yaml.YAMLError as exc:
            raise SpecError(f"Node {code!r} has unreadable overrides {value!r}: {exc}") from exc
        if isinstance(parsed, Mapping):
            return parsed
    raise SpecError(
        f"Node {code!r} has overrides {value!r}; expected a mapping such as "
        '{"normalise": {"method": "zscore"}} (or its JSON text).'
    )


def _as_direction(value: Any, code: str) -> int:
    v = _as_float(value, code, "direction")
    if v not in (1.0, -1.0):
        raise SpecError(f"Node {code!r} has direction {value!r}; use 1 or -1.")
    return int(v)


def dump_yaml(data: Mapping[str, Any], path: str | Path | None = None) -> str:
    """YAML text of ``data`` (key order kept); also written to ``path`` if given."""
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


def read_yaml(source: str | Path, *, what: str = "specification") -> Any:
    """Parse YAML from a path (``Path`` or a ``.yaml``/``.yml`` name) or a YAML string."""
    text = _read_text_or_path(source, what=what)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecError(f"Could not parse the YAML {what}: {exc}") from exc


def _read_text_or_path(source: str | Path, *, what: str = "specification") -> str:
    if isinstance(source, Path):
        return source.read_text(encoding="utf-8")
    if isinstance(source, str) and "\n" not in source and source.endswith((".yaml", ".yml")):
        path = Path(source)
        if not path.exists():
            raise SpecError(f"The {what} file {source!r} does not exist.")
        return path.read_text(encoding="utf-8")
    if not isinstance(source, str):
        raise InvalidParameterError(
            f"Expected a YAML string or a path; got {type(source).__name__}."
        )
    return source
