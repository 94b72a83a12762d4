"""cloudlet's DynamoDB against a plain model of DynamoDB's semantics (``reference.py``).

Hypothesis writes short programs on a fresh table (key ``pk`` S + ``sk`` N): PutItem and
DeleteItem with a ConditionExpression (ReturnValues=ALL_OLD), UpdateItem with an
UpdateExpression and a condition (ReturnValues=ALL_NEW), GetItem with a ProjectionExpression,
Query with a key condition, FilterExpression, ProjectionExpression, Limit and pagination, and
Scan with a FilterExpression and a projection. Items are random nested maps, lists, the three
set types, numbers written in several legal forms, strings, binary, booleans and nulls.
Expressions are drawn as trees within DynamoDB's documented grammar, often aimed at
attributes the table really holds, and rendered with random literal names or ``#name``
placeholders, keyword case, spacing and redundant parentheses. Each answer (items, counts,
last keys, or the error code and message) must equal the model's; at the end the whole table
must too. Numbers are compared by value and sets without order (DynamoDB promises neither
a spelling nor an order).

``CLOUDLET_DIFF_EXAMPLES=2000`` runs more programs; the default 100 are derandomized so a
run is repeatable. A failure is reported as found, with every step's request (shrinking
costs minutes of HTTP round trips); ``CLOUDLET_DIFF_SHRINK=1`` shrinks it first.
"""

from __future__ import annotations

import os
import random
import re
import uuid
from decimal import Decimal
from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from tests.services.dynamodb import reference as ref
from tests.services.dynamodb.reference import (AV, And, Arith, Between, Compare, Cond, Const, Func, IfNotExists,
                                               In, Item, ListAppend, Not, Or, Path, RefError, Size, Update, Value)

TOP = ["x1", "x2", "x3", "x4", "d.t"]  # "d.t" can only be named through a placeholder
KEYS = ["k0", "k1", "k 2"]
PARTITIONS = ["a", "b"]
SORTS = ["0", "1", "2", "2.0", "3", "10", "1e1", "-1", "-2.5", "0.5"]  # "2" and "2.0" are one key
NUMBERS = ["0", "1", "2", "3", "-1", "10", "2.5", "2.50", "0.5", "-3.25", "1e2", "+3", ".5", "0001.5", "100",
           "12345678901234567890", "-0.000001", "1E-5", "7.000"]
ALPHABET = "abcxy"
TYPES = list(ref.TYPES)
SAFE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
EXAMPLES = int(os.environ.get("CLOUDLET_DIFF_EXAMPLES", "100"))
PHASES = [p for p in Phase if p != Phase.shrink or os.environ.get("CLOUDLET_DIFF_SHRINK")]


# --- values and items ---------------------------------------------------------------------

strings = st.text(alphabet=ALPHABET, max_size=3)
string_sets = st.sets(st.text(alphabet=ALPHABET, min_size=1, max_size=2), min_size=1, max_size=3).map(
    lambda s: {"SS": sorted(s)})
number_sets = st.sets(st.integers(-3, 12), min_size=1, max_size=3).map(lambda s: {"NS": [str(n) for n in sorted(s)]})
binary_sets = st.sets(st.binary(min_size=1, max_size=2), min_size=1, max_size=3).map(lambda s: {"BS": sorted(s)})
set_values = st.one_of(string_sets, number_sets, binary_sets)
numbers = st.sampled_from(NUMBERS).map(lambda n: {"N": n})
scalars = st.one_of(
    strings.map(lambda s: {"S": s}),
    numbers,
    st.binary(max_size=3).map(lambda b: {"B": b}),
    st.booleans().map(lambda b: {"BOOL": b}),
    st.just({"NULL": True}),
    set_values,
)
values = st.recursive(
    scalars,
    lambda kids: st.one_of(st.lists(kids, max_size=3).map(lambda v: {"L": v}),
                           st.dictionaries(st.sampled_from(KEYS), kids, max_size=3).map(lambda v: {"M": v})),
    max_leaves=6,
)
ORDERABLE: dict[str, st.SearchStrategy[AV]] = {"S": strings.map(lambda s: {"S": s}), "N": numbers, "B": st.binary(max_size=3).map(lambda b: {"B": b})}
orderable = st.one_of(*ORDERABLE.values())


def item_for(pk: str, sk: str) -> st.SearchStrategy[Item]:
    return st.dictionaries(st.sampled_from(TOP), values, max_size=4).map(
        lambda attrs: {"pk": {"S": pk}, "sk": {"N": sk}, **attrs})


# --- paths and operands, aimed at what the table holds --------------------------------------


def paths_in(item: Item) -> list[tuple[Any, ...]]:
    """Every document path of an item's non-key attributes (to depth 3)."""
    out: list[tuple[Any, ...]] = []

    def walk(prefix: tuple[Any, ...], value: AV) -> None:
        out.append(prefix)
        if len(prefix) >= 3:
            return
        t = ref.tag(value)
        if t == "M":
            for k, v in value["M"].items():
                walk(prefix + (k,), v)
        elif t == "L":
            for i, v in enumerate(value["L"]):
                walk(prefix + (i,), v)

    for name, value in item.items():
        if name not in ("pk", "sk"):
            walk((name,), value)
    return out


class Draw:
    """Draws expression parts with one eye on the table: half the paths and constants come
    from items it holds, so conditions are often true and updates often valid."""

    def __init__(self, data: st.DataObject, table: ref.Table) -> None:
        self.data = data
        self.table = table

    def __call__(self, strategy: st.SearchStrategy[Any], label: str = "") -> Any:
        return self.data.draw(strategy, label=label or None)

    def known_paths(self) -> list[tuple[Any, ...]]:
        return [p for item in self.table.items.values() for p in paths_in(item)]

    def path(self, avoid: tuple[tuple[Any, ...], ...] = ()) -> Path:
        known = [p for p in self.known_paths() if p not in avoid]
        if known and self(st.booleans()):
            return Path(self(st.sampled_from(known)))
        steps = self(st.tuples(st.sampled_from(TOP),
                               st.lists(st.one_of(st.sampled_from(KEYS), st.integers(0, 3)), max_size=2)))
        path = (steps[0], *steps[1])
        return Path(path) if path not in avoid else Path((self(st.sampled_from(TOP)),) + ("k0",) * 3)

    def known_value(self, wanted: Callable[[AV], bool]) -> AV | None:
        found = [v for item in self.table.items.values() for p in paths_in(item)
                 if wanted(v := ref.resolve(item, p))]  # type: ignore[arg-type]
        return self(st.sampled_from(found)) if found and self(st.booleans()) else None

    def const(self, strategy: st.SearchStrategy[AV] = values, wanted: Callable[[AV], bool] = lambda v: True) -> Const:
        return Const(self.known_value(wanted) or self(strategy))

    # conditions ----------------------------------------------------------------------------
    def condition(self, depth: int = 0) -> Cond:
        kind = self(st.sampled_from(["leaf"] * 3 + (["and", "or", "not"] if depth < 2 else [])))
        if kind == "and":
            return And(self.condition(depth + 1), self.condition(depth + 1))
        if kind == "or":
            return Or(self.condition(depth + 1), self.condition(depth + 1))
        if kind == "not":
            return Not(self.condition(depth + 1))
        return self.leaf()

    def leaf(self) -> Cond:
        kind = self(st.sampled_from(["compare", "compare", "between", "in", "exists", "not_exists", "type",
                                     "begins_with", "contains", "size"]))
        first = self.path()
        avoid = (first.steps,)
        if kind == "compare":
            op = self(st.sampled_from(["=", "<>", "<", "<=", ">", ">="]))
            if self(st.integers(0, 3)) == 0:
                other: ref.Operand = self.path(avoid)
            elif op in ("=", "<>"):
                other = self.const()
            else:
                other = self.const(orderable, lambda v: ref.tag(v) in ("N", "S", "B"))
            return Compare(op, *((first, other) if self(st.booleans()) else (other, first)))
        if kind == "size":
            op = self(st.sampled_from(["=", "<>", "<", "<=", ">", ">="]))
            bound = self(st.integers(0, 4))
            return Compare(op, Size(first), Const({"N": str(bound)}))
        if kind == "between":
            if self(st.integers(0, 3)) == 0:
                low: ref.Operand = self.path(avoid)
                high: ref.Operand = self.const(orderable, lambda v: ref.tag(v) in ("N", "S", "B"))
            else:
                a = self.const(orderable, lambda v: ref.tag(v) in ("N", "S", "B"))
                t = ref.tag(a.value)
                b = self.const(ORDERABLE[t], lambda v: ref.tag(v) == t)
                low, high = (a, b) if ref.compare(a.value, b.value) <= 0 else (b, a)  # type: ignore[operator]
            return Between(Size(first) if self(st.integers(0, 4)) == 0 else first, low, high)
        if kind == "in":
            n = self(st.integers(1, 3))
            return In(first, tuple(self.const() for _ in range(n)))
        if kind == "exists":
            return Func("attribute_exists", (first,))
        if kind == "not_exists":
            return Func("attribute_not_exists", (first,))
        if kind == "type":
            return Func("attribute_type", (first, Const({"S": self(st.sampled_from(TYPES))})))
        if kind == "begins_with":
            prefix: ref.Operand = (self.path(avoid) if self(st.integers(0, 4)) == 0 else
                                   self.const(st.one_of(strings.map(lambda s: {"S": s}),
                                                        st.binary(max_size=2).map(lambda b: {"B": b})),
                                              lambda v: ref.tag(v) in ("S", "B")))
            return Func("begins_with", (first, prefix))
        member = self.path(avoid) if self(st.integers(0, 4)) == 0 else self.const(
            st.one_of(values, strings.map(lambda s: {"S": s})))  # type: ignore[arg-type]
        return Func("contains", (first, member))

    def projection(self) -> tuple[Path, ...]:
        """One to three paths that neither overlap nor conflict (DynamoDB refuses those)."""
        chosen: list[tuple[Any, ...]] = []
        for _ in range(self(st.integers(1, 3))):
            steps = (self(st.sampled_from(["pk", "sk"])),) if self(st.integers(0, 5)) == 0 else self.path().steps
            if not any(_clash(steps, c) for c in chosen):
                chosen.append(steps)
        return tuple(Path(c) for c in chosen)

    # updates -------------------------------------------------------------------------------
    def update(self, exists: bool) -> Update:
        sets: list[tuple[Path, Value]] = []
        removes: list[Path] = []
        adds: list[tuple[str, AV]] = []
        deletes: list[tuple[str, AV]] = []
        targets: list[tuple[Any, ...]] = []
        for _ in range(self(st.integers(1, 4))):
            kind = self(st.sampled_from(["set", "set", "set", "remove", "add", "delete"]))
            if kind in ("add", "delete") or self(st.integers(0, 2)) == 0:
                target: tuple[Any, ...] = (self(st.sampled_from(TOP)),)
            else:
                target = self.path().steps
            if any(_clash(target, t) for t in targets):
                continue
            targets.append(target)
            if kind == "set":
                sets.append((Path(target), self.value(target)))
            elif kind == "remove":
                removes.append(Path(target))
            elif kind == "add":
                adds.append((target[0], self.const(st.one_of(numbers, set_values),
                                                   lambda v: ref.tag(v) in ("N", "SS", "NS", "BS")).value))
            else:
                deletes.append((target[0], self.const(set_values, lambda v: ref.tag(v) in ("SS", "NS", "BS")).value))
        if not exists and deletes and not sets and not adds:
            # an update that only removes does not create a missing item; one that deletes set
            # members is not documented: not asked
            sets.append((Path(("x4", )) if not any(_clash(("x4",), t) for t in targets) else Path(("x9",)),
                         Const({"S": "new"})))
        return Update(tuple(sets), tuple(removes), tuple(adds), tuple(deletes))

    def value(self, target: tuple[Any, ...]) -> Value:
        kind = self(st.sampled_from(["const", "const", "path", "plus", "minus", "append", "if_not_exists"]))
        if kind == "const":
            return self.const()
        if kind == "path":
            return self.path()
        if kind in ("plus", "minus"):
            return Arith("+" if kind == "plus" else "-", self.number_operand(target), self.number_operand(target))
        if kind == "append":
            return ListAppend(self.list_operand(target), self.list_operand(target))
        return IfNotExists(Path(target) if self(st.booleans()) else self.path(), self.const())

    def number_operand(self, target: tuple[Any, ...]) -> Value:
        number = numbers
        kind = self(st.sampled_from(["const", "path", "if_not_exists"]))
        if kind == "const":
            return self.const(number, lambda v: ref.tag(v) == "N")
        if kind == "path":
            return Path(target) if self(st.booleans()) else self.path()
        return IfNotExists(Path(target), self.const(number, lambda v: ref.tag(v) == "N"))

    def list_operand(self, target: tuple[Any, ...]) -> Value:
        lists = st.lists(values, max_size=2).map(lambda v: {"L": v})
        kind = self(st.sampled_from(["const", "path", "if_not_exists"]))
        if kind == "const":
            return self.const(lists, lambda v: ref.tag(v) == "L")
        if kind == "path":
            return Path(target) if self(st.booleans()) else self.path()
        return IfNotExists(Path(target), self.const(lists, lambda v: ref.tag(v) == "L"))


def _clash(p: tuple[Any, ...], q: tuple[Any, ...]) -> bool:
    """Two update targets DynamoDB refuses together: one inside the other (overlap), or one
    going into a map where the other goes into a list (conflict)."""
    for a, b in zip(p, q):
        if a != b:
            return isinstance(a, int) != isinstance(b, int)
    return True


# --- rendering trees as expression text -----------------------------------------------------


class Renderer:
    """Expression text for the trees, with ExpressionAttributeNames/Values to match. Style
    (literal or placeholder names, keyword case, spaces, extra parentheses) comes from `seed`."""

    def __init__(self, seed: int) -> None:
        self.rnd = random.Random(seed)
        self.names: dict[str, str] = {}
        self.values: dict[str, AV] = {}
        self._placeholder: dict[str, str] = {}

    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.names:
            out["ExpressionAttributeNames"] = dict(self.names)
        if self.values:
            out["ExpressionAttributeValues"] = dict(self.values)
        return out

    def name(self, name: str) -> str:
        if SAFE.match(name) and self.rnd.random() < 0.5:
            return name
        if name not in self._placeholder or self.rnd.random() < 0.3:
            ph = f"#n{len(self.names)}"
            self._placeholder[name] = ph
            self.names[ph] = name
        return self._placeholder[name]

    def value(self, value: AV) -> str:
        ph = f":v{len(self.values)}"
        self.values[ph] = value
        return ph

    def kw(self, word: str) -> str:
        return self.rnd.choice([word, word.lower(), word.capitalize()])

    def sp(self) -> str:
        return self.rnd.choice(["", " ", " ", "  "])

    def path(self, path: Path) -> str:
        out = self.name(str(path.steps[0]))
        for step in path.steps[1:]:
            out += f"[{step}]" if isinstance(step, int) else "." + self.name(step)
        return out

    def operand(self, op: Any) -> str:
        if isinstance(op, Const):
            return self.value(op.value)
        if isinstance(op, Path):
            return self.path(op)
        if isinstance(op, Size):
            return f"size({self.sp()}{self.path(op.path)}{self.sp()})"
        if isinstance(op, IfNotExists):
            return f"if_not_exists({self.path(op.path)},{self.sp()}{self.operand(op.default)})"
        if isinstance(op, ListAppend):
            return f"list_append({self.operand(op.left)},{self.sp()}{self.operand(op.right)})"
        if isinstance(op, Arith):
            return f"{self.operand(op.left)}{self.sp()}{op.op}{self.sp()}{self.operand(op.right)}"
        raise TypeError(op)

    # precedence: OR 1 < AND 2 < NOT 3 < everything else 4
    def condition(self, cond: Cond) -> str:
        text, _ = self._cond(cond)
        return text

    def _cond(self, cond: Cond) -> tuple[str, int]:
        if isinstance(cond, Or):
            return f"{self._child(cond.left, 1)} {self.kw('OR')} {self._child(cond.right, 1)}", 1
        if isinstance(cond, And):
            return f"{self._child(cond.left, 2)} {self.kw('AND')} {self._child(cond.right, 2)}", 2
        if isinstance(cond, Not):
            return f"{self.kw('NOT')} {self._child(cond.inner, 3)}", 3
        if isinstance(cond, Compare):
            return f"{self.operand(cond.left)}{self.sp()}{cond.op}{self.sp()}{self.operand(cond.right)}", 4
        if isinstance(cond, Between):
            return (f"{self.operand(cond.subject)} {self.kw('BETWEEN')} {self.operand(cond.low)} "
                    f"{self.kw('AND')} {self.operand(cond.high)}"), 4
        if isinstance(cond, In):
            options = f",{self.sp()}".join(self.operand(o) for o in cond.options)
            return f"{self.operand(cond.subject)} {self.kw('IN')} {self.sp()}({self.sp()}{options}{self.sp()})", 4
        if isinstance(cond, Func):
            args = f",{self.sp()}".join(self.operand(a) for a in cond.args)
            return f"{cond.name}{self.sp()}({self.sp()}{args}{self.sp()})", 4
        raise TypeError(cond)

    def _child(self, cond: Cond, level: int) -> str:
        text, own = self._cond(cond)
        extra = self.rnd.random() < (0.3 if own == 1 and level == 1 else 0.15 if own > 1 else 0)
        if own < level or extra:
            return f"({self.sp()}{text}{self.sp()})"
        return text

    def projection(self, paths: tuple[Path, ...]) -> str:
        return f",{self.sp()}".join(self.path(p) for p in paths)

    def update(self, update: Update) -> str:
        clauses = []
        if update.set:
            clauses.append(f"{self.kw('SET')} " + f",{self.sp()}".join(
                f"{self.path(p)}{self.sp()}={self.sp()}{self.operand(v)}" for p, v in update.set))
        if update.remove:
            clauses.append(f"{self.kw('REMOVE')} " + f",{self.sp()}".join(self.path(p) for p in update.remove))
        if update.add:
            clauses.append(f"{self.kw('ADD')} " + f",{self.sp()}".join(
                f"{self.name(n)} {self.value(v)}" for n, v in update.add))
        if update.delete:
            clauses.append(f"{self.kw('DELETE')} " + f",{self.sp()}".join(
                f"{self.name(n)} {self.value(v)}" for n, v in update.delete))
        self.rnd.shuffle(clauses)
        return " ".join(clauses)


# --- running both sides ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def ddb(cloud: Any) -> Any:
    return cloud.client("dynamodb")


def _outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    try:
        answer = call()
        answer.pop("ResponseMetadata", None)
        return "ok", answer
    except ClientError as err:
        return "error", (err.response["Error"]["Code"], err.response["Error"].get("Message", ""))


def _expect_same(what: str, got: tuple[str, Any], want: Callable[[], Any], check: Callable[[Any, Any], None]) -> Any:
    """A read: the service's answer must be the model's answer, or its error."""
    try:
        expected = want()
    except RefError as err:
        _same_error(what, got, err)
        return None
    assert got[0] == "ok", f"{what}: cloudlet failed with {got[1]}, the model answers {expected!r}"
    check(got[1], expected)
    return expected


def _same_error(what: str, got: tuple[str, Any], err: RefError) -> None:
    assert got[0] == "error", f"{what}: cloudlet succeeded ({got[1]!r}), the model says {err.code}: {err.messages}"
    code, message = got[1]
    assert code == err.code, f"{what}: cloudlet says {code}: {message}; the model {err.code}: {err.messages}"
    assert message in err.messages, f"{what}: cloudlet's message {message!r}, the model's {err.messages}"


def _expect_one_of(what: str, got: tuple[str, Any], table: ref.Table, outcomes: list[ref.Outcome],
                   check: Callable[[Any, Any], None]) -> None:
    """A write: the service's answer must be one the model allows; the model then takes that
    outcome's state."""
    failures = []
    for outcome in outcomes:
        try:
            if isinstance(outcome.answer, RefError):
                _same_error(what, got, outcome.answer)
            else:
                assert got[0] == "ok", f"{what}: cloudlet failed with {got[1]}, the model answers {outcome.answer!r}"
                check(got[1], outcome.answer)
        except AssertionError as failure:
            failures.append(str(failure))
            continue
        table.commit(outcome)
        return
    raise AssertionError("\n  or: ".join(failures))


def _same_items(what: str, got: list[Item], want: list[Item]) -> None:
    assert ref.canonical_items(got) == ref.canonical_items(want), f"{what}:\ncloudlet {got!r}\nmodel    {want!r}"


def _by_key(items: list[Item]) -> list[Item]:
    return sorted(items, key=lambda i: (i["pk"]["S"], Decimal(i["sk"]["N"])))


@settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES == 100, phases=PHASES,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_cloudlet_agrees_with_the_model(ddb: Any, data: st.DataObject) -> None:
    name = f"diff-{uuid.uuid4().hex[:12]}"
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "N"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                {"AttributeName": "sk", "KeyType": "RANGE"}])
    table = ref.Table()
    draw = Draw(data, table)
    try:
        for step in range(draw(st.integers(2, 9), "steps")):
            op = draw(st.sampled_from(["put", "put", "put", "update", "update", "update", "delete", "get", "query",
                                       "scan"]))
            run = {"put": _put, "update": _update, "delete": _delete, "get": _get, "query": _query, "scan": _scan}
            run[op](ddb, name, table, draw, step)
        everything = ddb.scan(TableName=name)["Items"]
        _same_items("the whole table at the end", _by_key(everything), _by_key(list(table.items.values())))
    finally:
        ddb.delete_table(TableName=name)


def _key(draw: Draw, table: ref.Table) -> tuple[str, str]:
    known = [(k[0], v["sk"]["N"]) for k, v in table.items.items()]
    if known and draw(st.integers(0, 2)):
        return draw(st.sampled_from(known))
    return draw(st.sampled_from(PARTITIONS)), draw(st.sampled_from(SORTS))


def _write_step(step: int, op: str, call: Any, req: dict[str, Any], table: ref.Table, key: Item,
                expected: Any, image: str) -> None:
    """Send one write, then hold its answer (the `image` item it returns) and its effect
    to what the reference allows; `expected` runs the write on the reference."""
    note(f"step {step}: {op} {req!r}")
    got = _outcome(lambda: call(**req))

    def check(answer: Any, item: Item | None) -> None:
        _same_items(f"step {step}: {op}'s {image} item", [answer.get("Attributes", {})], [item or {}])

    before = table.get(key)
    _expect_one_of(f"step {step}: {op} {req!r}\nitem before: {before!r}\n", got, table, expected(), check)


def _put(ddb: Any, name: str, table: ref.Table, draw: Draw, step: int) -> None:
    pk, sk = _key(draw, table)
    item = draw(item_for(pk, sk))
    condition = draw.condition() if draw(st.booleans()) else None
    r = Renderer(draw(st.integers(0, 2**16)))
    req: dict[str, Any] = {"TableName": name, "Item": item, "ReturnValues": "ALL_OLD"}
    if condition is not None:
        req["ConditionExpression"] = r.condition(condition)
        req.update(r.params())
    _write_step(step, "PutItem", ddb.put_item, req, table, item, lambda: table.put(item, condition), "old")


def _update(ddb: Any, name: str, table: ref.Table, draw: Draw, step: int) -> None:
    pk, sk = _key(draw, table)
    key = {"pk": {"S": pk}, "sk": {"N": sk}}
    update = draw.update(table.get(key) is not None)
    condition = draw.condition() if draw(st.integers(0, 2)) == 0 else None
    r = Renderer(draw(st.integers(0, 2**16)))
    req: dict[str, Any] = {"TableName": name, "Key": key, "ReturnValues": "ALL_NEW",
                           "UpdateExpression": r.update(update)}
    if condition is not None:
        req["ConditionExpression"] = r.condition(condition)
    req.update(r.params())
    _write_step(step, "UpdateItem", ddb.update_item, req, table, key, lambda: table.update(key, update, condition),
                "new")


def _delete(ddb: Any, name: str, table: ref.Table, draw: Draw, step: int) -> None:
    pk, sk = _key(draw, table)
    key = {"pk": {"S": pk}, "sk": {"N": sk}}
    condition = draw.condition() if draw(st.booleans()) else None
    r = Renderer(draw(st.integers(0, 2**16)))
    req: dict[str, Any] = {"TableName": name, "Key": key, "ReturnValues": "ALL_OLD"}
    if condition is not None:
        req["ConditionExpression"] = r.condition(condition)
        req.update(r.params())
    _write_step(step, "DeleteItem", ddb.delete_item, req, table, key, lambda: table.delete(key, condition), "old")


def _get(ddb: Any, name: str, table: ref.Table, draw: Draw, step: int) -> None:
    pk, sk = _key(draw, table)
    key = {"pk": {"S": pk}, "sk": {"N": sk}}
    projection = draw.projection() if draw(st.booleans()) else ()
    r = Renderer(draw(st.integers(0, 2**16)))
    req: dict[str, Any] = {"TableName": name, "Key": key}
    if projection:
        req["ProjectionExpression"] = r.projection(projection)
        req.update(r.params())
    note(f"step {step}: GetItem {req!r}")
    got = _outcome(lambda: ddb.get_item(**req))

    def want() -> Item | None:
        found = table.get(key)
        return None if found is None else ref.project(found, projection) if projection else found

    def check(answer: Any, item: Item | None) -> None:
        assert ("Item" in answer) == (item is not None), f"step {step}: GetItem {req!r}: {answer!r}, the model {item!r}"
        _same_items(f"step {step}: GetItem {req!r}", [answer.get("Item", {})], [item or {}])

    _expect_same(f"step {step}: GetItem {req!r}\n", got, want, check)


def _query(ddb: Any, name: str, table: ref.Table, draw: Draw, step: int) -> None:
    held = sorted({k[0] for k in table.items})
    partition = draw(st.sampled_from(held if held and draw(st.integers(0, 3)) else PARTITIONS))
    r = Renderer(draw(st.integers(0, 2**16)))
    key_text = f"{r.path(Path(('pk',)))}{r.sp()}={r.sp()}{r.value({'S': partition})}"
    range_cond = None
    op = draw(st.sampled_from([None, "=", "<", "<=", ">", ">=", "BETWEEN"]))
    if op is not None:
        bounds = sorted(draw(st.lists(st.sampled_from(SORTS), min_size=2, max_size=2)), key=Decimal)
        bounds = bounds if op == "BETWEEN" else bounds[:1]
        range_cond = (op, [{"N": b} for b in bounds])
        sk = r.path(Path(("sk",)))
        if op == "BETWEEN":
            key_text += (f" {r.kw('AND')} {sk} {r.kw('BETWEEN')} {r.value({'N': bounds[0]})} {r.kw('AND')} "
                         f"{r.value({'N': bounds[1]})}")
        else:
            key_text += f" {r.kw('AND')} {sk}{r.sp()}{op}{r.sp()}{r.value({'N': bounds[0]})}"
    filter_cond = draw.condition() if draw(st.booleans()) else None
    projection = draw.projection() if draw(st.integers(0, 2)) == 0 else ()
    forward = draw(st.booleans())
    limit = draw(st.one_of(st.none(), st.integers(1, 4)))
    req: dict[str, Any] = {"TableName": name, "KeyConditionExpression": key_text, "ScanIndexForward": forward}
    if filter_cond is not None:
        req["FilterExpression"] = r.condition(filter_cond)
    if projection:
        req["ProjectionExpression"] = r.projection(projection)
    if limit is not None:
        req["Limit"] = limit
    req.update(r.params())
    note(f"step {step}: Query {req!r}")
    start = None
    for page_no in range(10):
        page_req = dict(req, **({"ExclusiveStartKey": start} if start else {}))
        got = _outcome(lambda: ddb.query(**page_req))
        what = f"step {step}: Query page {page_no} {page_req!r}\n"

        def check(answer: Any, page: ref.Page) -> None:
            _same_items(f"{what} items", answer["Items"], page.items)
            assert (answer["Count"], answer["ScannedCount"]) == (len(page.items), page.scanned), what
            last = answer.get("LastEvaluatedKey")
            if page.last_key is None or (page.last_key_optional and last is None):
                assert last is None, f"{what}: LastEvaluatedKey {last} where the model has none"
            else:
                assert last is not None, f"{what}: no LastEvaluatedKey, the model has {page.last_key}"
                _same_items(f"{what} LastEvaluatedKey", [last], [page.last_key])

        page = _expect_same(what, got, lambda: table.query(partition, range_cond, filter_cond, forward, limit, start,
                                                           projection), check)
        if page is None:
            return
        start = got[1].get("LastEvaluatedKey")
        if start is None:
            return


def _scan(ddb: Any, name: str, table: ref.Table, draw: Draw, step: int) -> None:
    filter_cond = draw.condition() if draw(st.integers(0, 3)) else None
    projection = draw.projection() if draw(st.integers(0, 2)) == 0 else ()
    r = Renderer(draw(st.integers(0, 2**16)))
    req: dict[str, Any] = {"TableName": name}
    if filter_cond is not None:
        req["FilterExpression"] = r.condition(filter_cond)
    if projection:
        req["ProjectionExpression"] = r.projection(projection)
    req.update(r.params())
    note(f"step {step}: Scan {req!r}")
    got = _outcome(lambda: ddb.scan(**req))

    def check(answer: Any, page: ref.Page) -> None:
        # a scan's order is DynamoDB's own: compared as a multiset
        got, want = (sorted(ref.canonical_items(i), key=repr) for i in (answer["Items"], page.items))
        assert got == want, f"step {step}: Scan items:\ncloudlet {answer['Items']!r}\nmodel    {page.items!r}"
        assert (answer["Count"], answer["ScannedCount"]) == (len(page.items), page.scanned), f"step {step}: Scan"

    _expect_same(f"step {step}: Scan {req!r}\n", got, lambda: table.scan(filter_cond, projection), check)


# --- the model itself, on behaviours observed on DynamoDB -----------------------------------


def _n(*numbers: int) -> AV:
    return {"L": [{"N": str(x)} for x in numbers]}


def test_the_model_reads_lists_by_original_position_and_appends_past_the_end() -> None:
    key: Item = {"pk": {"S": "a"}, "sk": {"N": "1"}}
    old: Item = {**key, "a": _n(2, 3, 4, 5, 6, 7)}
    new = ref.apply(old, key, Update(set=((Path(("a", 3)), Const({"N": "17"})),), remove=(Path(("a", 1)),)))
    assert new["a"] == _n(2, 4, 17, 6, 7)
    old = {**key, "a": _n(1, 2, 3)}
    new = ref.apply(old, key, Update(set=tuple((Path(("a", i)), Const({"N": str(i)})) for i in (84, 37, 17, 50))))
    assert new["a"] == _n(1, 2, 3, 17, 37, 50, 84)
    # every right-hand side sees the item as it was: SET x = :v, y = x fails when x is new
    with pytest.raises(RefError) as err:
        ref.apply(old, key, Update(set=((Path(("x",)), Const({"N": "4"})), (Path(("y",)), Path(("x",))))))
    assert err.value.messages == {ref.MISSING_ATTRIBUTE}


def test_the_model_removes_leniently_but_not_through_a_missing_parent() -> None:
    key: Item = {"pk": {"S": "a"}, "sk": {"N": "1"}}
    old: Item = {**key, "a": {"M": {"x": {"N": "3"}}}, "b": {"L": [{"S": "hi"}]}}
    same = ref.apply(old, key, Update(remove=(Path(("a", "y")), Path(("b", 7)), Path(("c",)))))
    assert same == old
    with pytest.raises(RefError) as err:
        ref.apply(old, key, Update(remove=(Path(("c", "c")),)))
    assert err.value.messages == {ref.BAD_PATH}
    assert ref.apply(None, key, Update(remove=(Path(("x", "y")),), set=((Path(("z",)), Const({"S": "v"})),))) == {
        **key, "z": {"S": "v"}}  # on an item that does not exist, REMOVE x.y is ignored
    emptied = ref.apply({**key, "s": {"SS": ["dog"]}}, key, Update(delete=(("s", {"SS": ["dog"]}),)))
    assert emptied == key  # a set left empty is removed


def test_the_model_compares_like_dynamodb() -> None:
    item: Item = {"a": {"N": "1"}, "b": {"S": "cat"}, "l": {"L": [{"S": "hi"}, {"SS": ["x", "y"]}]}, "n": {"N": "5"}}
    assert ref.holds(Compare("<>", Path(("missing",)), Const({"N": "1"})), item)
    assert ref.holds(Compare("<>", Path(("q",)), Path(("z",))), item)
    assert not ref.holds(Compare("=", Path(("q",)), Path(("z",))), item)
    assert not ref.holds(Compare("<", Path(("a",)), Const({"S": "17"})), item)  # other type: false
    assert ref.holds(Compare("=", Path(("a",)), Const({"N": "1.00"})), item)
    assert not ref.holds(Compare("=", Size(Path(("n",))), Const({"N": "1"})), item)  # no size for a number
    assert ref.holds(Compare("=", Size(Path(("b",))), Const({"N": "3"})), item)
    assert ref.holds(Func("contains", (Path(("l",)), Const({"SS": ["y", "x"]}))), item)
    assert not ref.holds(Func("contains", (Path(("b",)), Const({"B": b"ca"}))), item)
    assert ref.holds(Not(Between(Path(("q",)), Const({"N": "0"}), Const({"N": "2"}))), item)


def test_the_model_projects_in_the_items_shape() -> None:
    item: Item = {"a": {"M": {"b": _n(2, 4, 6), "c": {"N": "5"}}}, "x": {"S": "hi"}}
    assert ref.project(item, (Path(("a", "b", 0)), Path(("a", "b", 2)))) == {"a": {"M": {"b": _n(2, 6)}}}
    assert ref.project(item, (Path(("a", "b", 0)), Path(("a", "c")), Path(("x",)))) == {
        "a": {"M": {"b": _n(2), "c": {"N": "5"}}}, "x": {"S": "hi"}}
    assert ref.project(item, (Path(("a", "b", 3)), Path(("a", "x", "y")), Path(("a", 0)))) == {}
