"""TransactWriteItems and TransactGetItems: all or nothing, in one store transaction.

A transaction is checked in DynamoDB's order: every action's expressions and item first
(a bad expression is refused before any table is read), then the tables, the key values
(an empty key string is a ValidationException), and that no item is the target of two
actions. Then, inside one ``ctx.tx()``, every action is evaluated against the current
items; if any fails (its condition, a key that does not match the schema, an update
that cannot apply) the whole request is cancelled with one ``CancellationReasons`` entry
per action, in order, and nothing is written. Otherwise every write, its index entries
and its stream record commit together. A table (or GSI) out of provisioned capacity
cancels the transaction with reason ``ProvisionedThroughputExceeded`` (``throttle``).

No TransactionConflict: DynamoDB cancels a transaction that meets another one in flight
on the same item. In cloudlet that cannot happen: handlers are synchronous and each
runs its whole read-check-write inside one ``ctx.tx()``, which holds the service
database's lock (``ServiceDB.tx``) until it commits; the scheduler's work (TTL deletes)
takes the same lock. Two transactions are therefore always one after the other, never
interleaved, so no conflict is ever reported (rather than faking one).

``ClientRequestToken`` makes a write transaction idempotent for 10 minutes of the
cloudlet clock: a record per token (kind ``tok``) holds a digest of the request and the
answer, with an expiry index (kind ``tokx``) that each tokened call trims.

``WriteAction``/``WriteTransaction`` and ``GetAction``/``ReadTransaction`` are also
the engine of PartiQL's ExecuteTransaction and of its single writes.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any, Callable

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.core.store import Tx
from cloudlet.services.dynamodb import capacity, changes, exprs, itemkeys, metrics, storage, throttle, values
from cloudlet.services.dynamodb.storage import Item, Table
from cloudlet.services.dynamodb.errors import invalid

Input = dict[str, Any]
Output = dict[str, Any]

TOKEN_SECONDS = 600.0
MAX_BYTES = 4 * 1024 * 1024
CONDITION_FAILED = "The conditional request failed"
DUPLICATE = "Duplicate primary key exists in table"


class WriteAction:
    """One write of a transaction: compiled when built, then bound to its table,
    evaluated against the current item, and applied."""

    KINDS = ("ConditionCheck", "Put", "Delete", "Update")

    def __init__(self, kind: str, spec: Input, *, insert: bool = False) -> None:
        self.kind = kind
        self.spec = spec
        self.insert = insert  # a PartiQL INSERT: a failed condition means the key exists
        self.compiled = exprs.for_update(spec) if kind == "Update" else exprs.for_write(spec)
        if kind == "Put":
            values.check_item(spec["Item"])
        self.table: Table | None = None
        self.old: Item | None = None
        self.new: Item | None = None

    @classmethod
    def from_wire(cls, entry: Input) -> "WriteAction":
        present = [k for k in cls.KINDS if entry.get(k) is not None]
        if not present:
            raise invalid("Invalid Request: TransactWriteRequest should contain Delete or Put or Update request")
        if len(present) > 1:
            raise invalid("TransactItems can only contain one of Check, Put, Update or Delete")
        return cls(present[0], entry[present[0]])

    def bind(self, t: Tx) -> None:
        self.table = storage.get_table(t, storage.table_name(self.spec["TableName"]))

    def key(self) -> Item:
        assert self.table is not None
        if self.kind == "Put":
            return {k: self.spec["Item"][k] for k in self.table["keys"] if k is not None and k in self.spec["Item"]}
        return self.spec["Key"]

    def size(self) -> int:
        return values.item_size(self.spec.get("Item") or self.spec.get("Key") or {})

    def evaluate(self, t: Tx) -> dict[str, Any] | None:
        """None when the action can be applied, else its cancellation reason."""
        table = self.table
        assert table is not None
        try:
            if self.kind == "Put":
                itemkeys.check_item_keys(table, self.spec["Item"])
            else:
                itemkeys.check_key(table, self.spec["Key"])
        except ServiceError as err:
            return {"Code": "ValidationError", "Message": err.message}
        key = self.key()
        old = self.old = storage.get_item(t, table, key)
        condition = self.compiled.condition
        if condition is not None and not condition.matches(old or {}):
            if self.insert:
                return {"Code": "DuplicateItem", "Message": DUPLICATE}
            reason: dict[str, Any] = {"Code": "ConditionalCheckFailed", "Message": CONDITION_FAILED}
            if old is not None and self.spec.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD":
                reason["Item"] = old
            return reason
        try:
            self.new = self._new_item(table, key, old)
        except ServiceError as err:
            if err.code != "ValidationException":
                raise
            return {"Code": "ValidationError", "Message": err.message}
        return None

    def _new_item(self, table: Table, key: Item, old: Item | None) -> Item | None:
        if self.kind == "Put":
            return self.spec["Item"]
        if self.kind == "Delete":
            return None
        if self.kind == "ConditionCheck":
            return old
        base = dict(old) if old is not None else dict(key)
        update = self.compiled.update
        new = update.apply(base) if update is not None else base
        for k in table["keys"]:
            if k is not None and new.get(k) != key[k]:
                raise invalid("One or more parameter values were invalid: Cannot update attribute "
                              f"{k}. This attribute is part of the key")
        values.check_item(new)
        itemkeys.check_item_keys(table, new)
        return new

    def apply(self, ctx: Context, t: Tx) -> None:
        assert self.table is not None
        if self.kind == "ConditionCheck" or (self.old is None and self.new is None):
            return
        storage.write_item(t, self.table, self.old, self.new)
        changes.record(ctx, t, self.table, self.old, self.new)

    def units(self) -> tuple[float, float]:
        """(read, write) units, before the transactional doubling."""
        if self.kind == "ConditionCheck":
            return capacity.read_units([self.old] if self.old else [], True), 0.0
        return 0.0, capacity.write_units(self.old, self.new)


class GetAction:
    """One read of a transaction (TransactGetItems' Get, or a PartiQL SELECT by key)."""

    def __init__(self, spec: Input, project: Callable[[Item], Item] | None = None) -> None:
        self.spec = spec
        if project is None:
            projection = exprs.for_read(spec).projection
            project = projection.apply if projection is not None else None
        self.project = project
        self.table: Table | None = None
        self.item: Item | None = None

    def bind(self, t: Tx) -> None:
        self.table = storage.get_table(t, storage.table_name(self.spec["TableName"]))

    def key(self) -> Item:
        return self.spec["Key"]

    def size(self) -> int:
        return values.item_size(self.spec.get("Key") or {})

    def evaluate(self, t: Tx) -> dict[str, Any] | None:
        assert self.table is not None
        try:
            itemkeys.check_key(self.table, self.spec["Key"])
        except ServiceError as err:
            return {"Code": "ValidationError", "Message": err.message}
        self.item = storage.get_item(t, self.table, self.spec["Key"])
        return None

    def result(self) -> dict[str, Any]:
        if self.item is None:
            return {}
        return {"Item": self.project(self.item) if self.project is not None else self.item}

    def units(self) -> tuple[float, float]:
        return capacity.read_units([self.item] if self.item else [], True), 0.0


class _Transaction:
    """What write and read transactions share: binding, the up-front key checks, the
    cancellation, and the doubled capacity."""

    def __init__(self, actions: list[Any]) -> None:
        self.actions = actions

    def check_size(self) -> None:
        """DynamoDB's 4 MB cap on what a transaction carries (the wording is cloudlet's:
        AWS's own message for it is not on record)."""
        if sum(a.size() for a in self.actions) > MAX_BYTES:
            raise invalid("Transaction request size exceeded the maximum allowed size of 4 MB")

    def prepare(self, t: Tx) -> None:
        for a in self.actions:
            if a.table is None:
                a.bind(t)
        seen: set[bytes] = set()
        for a in self.actions:
            target = _target(a.table, a.key())
            if target is None:
                continue
            if target in seen:
                raise invalid("Transaction request cannot include multiple operations on one item")
            seen.add(target)

    def admit(self, ctx: Context) -> None:
        """Cancel before anything is evaluated when a table the transaction uses is spent."""
        refusals = throttle.admit_transaction(ctx, self.actions)
        if refusals is not None:
            raise _cancelled(refusals)

    def evaluate(self, t: Tx) -> None:
        reasons = [a.evaluate(t) for a in self.actions]
        if any(r is not None for r in reasons):
            raise _cancelled(reasons)

    def consumed(self, req: Input) -> list[dict[str, Any]] | None:
        """Per table, in request order; a transactional read or write costs double."""
        mode = req.get("ReturnConsumedCapacity") or "NONE"
        if mode == "NONE":
            return None
        per_table: dict[str, list[float]] = {}
        for a in self.actions:
            read, write = a.units()
            units = per_table.setdefault(a.table["name"], [0.0, 0.0])
            units[0] += read * 2
            units[1] += write * 2
        return [capacity.read_write(mode, name, read, write) for name, (read, write) in per_table.items()]

    def output(self, req: Input, out: Output) -> Output:
        """`out` with the ConsumedCapacity the request asks for, if any."""
        used = self.consumed(req)
        if used is not None:
            out["ConsumedCapacity"] = used
        return out


class WriteTransaction(_Transaction):
    actions: list[WriteAction]

    def run(self, ctx: Context, t: Tx) -> None:
        self.prepare(t)
        self.admit(ctx)
        self.evaluate(t)
        refusals = throttle.charge_transaction(ctx, self.actions)
        if refusals is not None:
            raise _cancelled(refusals)
        for a in self.actions:
            a.apply(ctx, t)


class ReadTransaction(_Transaction):
    actions: list[GetAction]

    def run(self, ctx: Context, t: Tx) -> list[dict[str, Any]]:
        self.prepare(t)
        self.admit(ctx)
        self.evaluate(t)
        throttle.charge_transaction(ctx, self.actions)  # reads touch no GSI: never refused here
        return [a.result() for a in self.actions]


def _cancelled(reasons: list[dict[str, Any] | None]) -> ServiceError:
    codes = [r["Code"] if r is not None else "None" for r in reasons]
    return ServiceError(
        "TransactionCanceledException",
        f"Transaction cancelled, please refer cancellation reasons for specific reasons [{', '.join(codes)}]",
        400,
        fields={"CancellationReasons": [r if r is not None else {"Code": "None"} for r in reasons]},
    )


def _target(table: Table | None, key: Item) -> bytes | None:
    """The item an action targets, once its key is well formed (an ill-formed key is
    the action's ValidationError, reported with the others); an empty key string or
    binary is refused here, before the transaction runs."""
    if table is None:
        return None
    types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    names = [k for k in table["keys"] if k is not None]
    if set(key) != set(names) or any(next(iter(key[k])) != types[k] for k in names):
        return None
    for k in names:
        values.check_key_value(k, key[k], range_key=k == table["keys"][1])
    return storage.item_key(table, key)


class ClientToken:
    """``ClientRequestToken``: the same request again within 10 minutes is answered as
    the first was, without running again; another request with the token is refused."""

    def __init__(self, req: Input, operation: str) -> None:
        self.token: str | None = req.get("ClientRequestToken")
        body = {k: v for k, v in req.items() if k != "ClientRequestToken"}
        canonical = json.dumps([operation, body], sort_keys=True, default=_bytes)
        self.digest = hashlib.sha256(canonical.encode()).hexdigest()

    def replay(self, t: Tx) -> Output | None:
        if self.token is None:
            return None
        now = clock.time_s()
        self._trim(t, now)
        rec = t.get("tok", self.token)
        if rec is None or rec.value["expires"] <= now:
            return None
        if rec.value["digest"] != self.digest:
            raise ServiceError("IdempotentParameterMismatchException",
                               "The request uses the same client token as a previous, but non-identical request.",
                               400)
        return rec.value["output"]

    def remember(self, t: Tx, output: Output) -> None:
        if self.token is None:
            return
        expires = clock.time_s() + TOKEN_SECONDS
        old = t.get("tok", self.token)
        if old is not None:
            t.delete("tokx", _expiry_key(old.value["expires"], self.token))
        t.put("tok", self.token, {"digest": self.digest, "expires": expires, "output": output})
        t.put("tokx", _expiry_key(expires, self.token), self.token)

    @staticmethod
    def _trim(t: Tx, now: float, batch: int = 100) -> None:
        for rec in t.scan("tokx", None, hi=_expiry_key(now, ""), limit=batch):
            t.delete("tokx", rec.key)
            t.delete("tok", rec.value)


def _expiry_key(expires: float, token: str) -> str:
    return f"{int(expires * 1_000_000):020d}/{token}"


def _bytes(value: Any) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    raise TypeError(f"cannot digest {type(value).__name__}")


def _replay_capacity(t: Tx, req: Input, actions: list[WriteAction]) -> list[dict[str, Any]] | None:
    """A replayed request only reads: DynamoDB reports the read units of the items."""
    mode = req.get("ReturnConsumedCapacity") or "NONE"
    if mode == "NONE":
        return None
    per_table: dict[str, float] = {}
    for a in actions:
        try:
            a.bind(t)
        except ServiceError:
            continue
        assert a.table is not None
        key = a.key()
        item = storage.get_item(t, a.table, key) if _target(a.table, key) is not None else None
        per_table[a.table["name"]] = per_table.get(a.table["name"], 0.0) + capacity.read_units(
            [item] if item else [], True)
    return [capacity.read_write(mode, name, read, 0.0) for name, read in per_table.items()]


# handlers ---------------------------------------------------------------------------------
@metrics.measured
def transact_write_items(ctx: Context, req: Input) -> Output:
    actions = [WriteAction.from_wire(entry) for entry in req["TransactItems"]]
    txn = WriteTransaction(actions)
    txn.check_size()
    token = ClientToken(req, "TransactWriteItems")
    with ctx.tx() as t:
        replayed = token.replay(t)
        if replayed is not None:
            again = dict(replayed)
            spent = _replay_capacity(t, req, actions)
            if spent is not None:
                again["ConsumedCapacity"] = spent
            return again
        txn.run(ctx, t)
        token.remember(t, {})
    return txn.output(req, {})


@metrics.measured
def transact_get_items(ctx: Context, req: Input) -> Output:
    actions = [GetAction(entry["Get"]) for entry in req["TransactItems"]]
    txn = ReadTransaction(actions)
    txn.check_size()
    with ctx.tx() as t:
        responses = txn.run(ctx, t)
    return txn.output(req, {"Responses": responses})
