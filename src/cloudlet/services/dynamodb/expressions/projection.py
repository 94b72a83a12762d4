"""ProjectionExpression (and AttributesToGet): which parts of an item a read returns."""

from __future__ import annotations

from typing import Any

from cloudlet.services.dynamodb.expressions.evaluate import bind_path
from cloudlet.services.dynamodb.expressions.parser import Parsed
from cloudlet.services.dynamodb.expressions.paths import BoundPath, check_distinct, project, tree
from cloudlet.services.dynamodb.expressions.usage import Usage

Item = dict[str, dict[str, Any]]


class Projection:
    """``apply(item)`` keeps the projected paths; ``names`` are the top-level attributes
    it reads (what an index must project for a query on it to need no fetch)."""

    __slots__ = ("paths", "names", "shape", "flat")

    def __init__(self, paths: list[BoundPath]) -> None:
        self.paths = paths
        self.names = list(dict.fromkeys(str(p[0]) for p in paths))
        self.flat = all(len(p) == 1 for p in paths)
        self.shape = tree(paths)

    def apply(self, item: Item) -> Item:
        if self.flat:
            return {n: item[n] for n in self.names if n in item}
        return project(item, self.shape)


def bind_projection(parsed: Parsed, usage: Usage) -> Projection:
    kind = parsed.kind
    usage.resolve(parsed.refs, kind)
    paths = [bind_path(p, kind, usage) for p in parsed.paths]
    check_distinct(kind, paths)
    return Projection(paths)
