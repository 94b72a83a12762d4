"""Document paths: reading one out of an item, DynamoDB's overlap and conflict rules, and
projecting an item onto a set of paths (ProjectionExpression, ReturnValues UPDATED_*).

A bound path is a tuple: the attribute name, then ``str`` map keys and ``int`` list
indexes. DynamoDB prints one as ``[a, b, [0]]``.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Optional, Union

from cloudlet.services.dynamodb.expressions import errors

BoundPath = tuple[Union[str, int], ...]
AV = dict[str, Any]
Tree = dict[Union[str, int], Optional["Tree"]]


def display(path: BoundPath) -> str:
    return "[" + ", ".join(f"[{e}]" if type(e) is int else str(e) for e in path) + "]"


def get(item: dict[str, AV], path: BoundPath) -> AV | None:
    """The value at `path`, or None when any step is missing or of the wrong type."""
    value = item.get(path[0])  # type: ignore[arg-type]
    for elem in path[1:]:
        if value is None:
            return None
        if type(elem) is int:
            seq = value.get("L")
            if seq is None or elem >= len(seq):
                return None
            value = seq[elem]
        else:
            m = value.get("M")
            if m is None:
                return None
            value = m.get(elem)
    return value


def getter(path: BoundPath) -> Callable[[dict[str, AV]], AV | None]:
    if len(path) == 1:
        name = path[0]

        def top(item: dict[str, AV]) -> AV | None:
            return item.get(name)  # type: ignore[arg-type]

        return top
    return lambda item: get(item, path)


def check_distinct(kind: str, paths: list[BoundPath]) -> None:
    """DynamoDB refuses two paths of one expression where one contains the other (overlap)
    or where one indexes a list and the other names a map key at the same step (conflict).
    All overlaps are looked for before any conflict; path one is the earlier one."""
    for j, b in enumerate(paths):
        for a in paths[:j]:
            n = min(len(a), len(b))
            if a[:n] == b[:n]:
                raise errors.overlap(kind, display(a), display(b))
    for j, b in enumerate(paths):
        for a in paths[:j]:
            for x, y in zip(a, b):
                if x != y:
                    if (type(x) is int) != (type(y) is int):
                        raise errors.conflict(kind, display(a), display(b))
                    break


def tree(paths: Iterable[BoundPath]) -> Tree:
    """Paths (already free of overlaps and conflicts) as a nested dict; leaves are None."""
    root: Tree = {}
    for path in paths:
        node = root
        for elem in path[:-1]:
            child = node.get(elem)
            if child is None:
                child = node[elem] = {}
            node = child
        node[path[-1]] = None
    return root


def project(item: dict[str, AV], shape: Tree) -> dict[str, AV]:
    """The parts of `item` that `shape` selects. Selected list elements keep their order and
    close up (``a[1], a[3]`` gives a two-element list); a map or list from which nothing is
    selected is left out."""
    out: dict[str, AV] = {}
    for name, sub in shape.items():
        value = item.get(name)  # type: ignore[arg-type]
        if value is None:
            continue
        if sub is None:
            out[name] = value  # type: ignore[index]
        else:
            part = _project(value, sub)
            if part is not None:
                out[name] = part  # type: ignore[index]
    return out


def _project(value: AV, shape: Tree) -> AV | None:
    if type(next(iter(shape))) is int:
        seq = value.get("L")
        if seq is None:
            return None
        picked = []
        for i in sorted(shape):
            if i < len(seq):  # type: ignore[operator]
                sub = shape[i]
                part = seq[i] if sub is None else _project(seq[i], sub)
                if part is not None:
                    picked.append(part)
        return {"L": picked} if picked else None
    m = value.get("M")
    if m is None:
        return None
    kept = {}
    for key, sub in shape.items():
        child = m.get(key)
        if child is None:
            continue
        part = child if sub is None else _project(child, sub)
        if part is not None:
            kept[key] = part
    return {"M": kept} if kept else None
