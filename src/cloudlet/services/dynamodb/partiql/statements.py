"""ExecuteStatement, BatchExecuteStatement and ExecuteTransaction.

A write statement becomes the item API's request shape (an INSERT is a Put with
``attribute_not_exists`` on the key; an UPDATE an Update whose ConditionExpression is
``attribute_exists`` on the key and the rest of its WHERE; a DELETE a Delete with the
rest of its WHERE as the condition; ``EXISTS(SELECT ...)`` a ConditionCheck) and runs
through ``transactions.WriteAction``. UPDATE and DELETE must name the whole key with
top-level equalities; an UPDATE of a missing item fails its condition, a DELETE of one
succeeds. A SELECT in a batch or a transaction must name the whole key and nothing else.
"""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.core.store import Tx
from cloudlet.services.dynamodb import capacity, metrics, storage, throttle, values
from cloudlet.services.dynamodb.partiql import ast, literals, parser, select, translate
from cloudlet.services.dynamodb.storage import Item, Table
from cloudlet.services.dynamodb.errors import invalid
from cloudlet.services.dynamodb.transactions import (
    CONDITION_FAILED,
    DUPLICATE,
    ClientToken,
    GetAction,
    ReadTransaction,
    WriteAction,
    WriteTransaction,
)

Input = dict[str, Any]
Output = dict[str, Any]

MANDATORY = "Where clause does not contain a mandatory equality on all key attributes"
PARAMETER_COUNT = "Number of parameters in request and statement don't match."
MIXED_TRANSACTION = "ExecuteTransaction API does not support both read and write operations in the same request."
MIXED_BATCH = "Read and write requests together in the same batch is not supported."


def _parse(entry: Input) -> tuple[ast.Statement, list[dict[str, Any]]]:
    parsed = parser.parse(entry["Statement"])
    params = entry.get("Parameters") or []
    literals.check_parameters(params)
    if parsed.params > len(params):
        raise invalid(PARAMETER_COUNT)
    return parsed.statement, params


# building writes --------------------------------------------------------------------------
def _key(table: Table, exprs_by_name: dict[str, ast.Expr], params: list[dict[str, Any]]) -> Item:
    key: Item = {}
    for name in (k for k in table["keys"] if k is not None):
        value = literals.bind(exprs_by_name[name], params)
        if next(iter(value)) != select.key_type(table, None, name):
            raise invalid(select.KEY_TYPE)
        values.check_key_value(name, value, range_key=name == table["keys"][1])
        key[name] = value
    return key


def _split(table: Table, where: ast.Expr | None, params: list[dict[str, Any]]) -> tuple[Item, ast.Expr | None]:
    """The key a WHERE names (every key attribute, by top-level equality) and the rest."""
    names = {k for k in table["keys"] if k is not None}
    found, rest = translate.split_key(where, names)
    if set(found) != names:
        raise invalid(MANDATORY)
    return _key(table, found, params), rest


def _write_action(t: Tx, stmt: ast.Statement, params: list[dict[str, Any]], entry: Input) -> WriteAction:
    table = storage.get_table(t, storage.table_name(_table_of(stmt)))
    ph = translate.Placeholders(params)
    spec: Input = {"TableName": table["name"]}
    kind, insert = "Put", False
    if isinstance(stmt, ast.Insert):
        assert isinstance(stmt.value, ast.MapValue)
        spec["Item"] = {k: literals.bind(v, params) for k, v in stmt.value.items}
        spec["ConditionExpression"] = f"attribute_not_exists({ph.name(table['keys'][0])})"
        insert = True
    elif isinstance(stmt, ast.Update):
        spec["Key"], rest = _split(table, stmt.where, params)
        spec["UpdateExpression"] = translate.update_expression(stmt.sets, stmt.removes, ph)
        condition = f"attribute_exists({ph.name(table['keys'][0])})"
        if rest is not None:
            condition += f" AND {translate.condition(rest, ph)}"
        spec["ConditionExpression"] = condition
        kind = "Update"
    elif isinstance(stmt, ast.Delete):
        if stmt.returning not in (None, "ALL OLD"):
            raise invalid("Delete statement only supports RETURNING ALL OLD *")
        spec["Key"], rest = _split(table, stmt.where, params)
        if rest is not None:
            spec["ConditionExpression"] = translate.condition(rest, ph)
        kind = "Delete"
    else:
        assert isinstance(stmt, ast.Exists)
        read = stmt.select
        if read.index is not None:
            raise invalid("EXISTS() must contain a single item read with additional condition")
        spec["Key"], rest = _split(table, read.where, params)
        if rest is None:
            raise invalid("EXISTS() must contain a single item read with additional condition")
        spec["ConditionExpression"] = translate.condition(rest, ph)
        kind = "ConditionCheck"
    ph.into(spec)
    if entry.get("ReturnValuesOnConditionCheckFailure"):
        spec["ReturnValuesOnConditionCheckFailure"] = entry["ReturnValuesOnConditionCheckFailure"]
    action = translate.strip_prefix(lambda s: WriteAction(kind, s, insert=insert), spec)
    action.table = table
    return action


def _get_action(t: Tx, stmt: ast.Select, params: list[dict[str, Any]], operation: str) -> GetAction:
    """A SELECT by key, in a batch or a transaction: the whole key and nothing more."""
    refusal = f"Select statements within {operation} must specify the primary key in the where clause."
    table = storage.get_table(t, storage.table_name(stmt.table))
    if stmt.index is not None:
        raise invalid(refusal)
    try:
        key, rest = _split(table, stmt.where, params)
    except ServiceError as err:
        if err.message == MANDATORY:
            raise invalid(refusal) from None
        raise
    if rest is not None:
        raise invalid(refusal)
    paths = stmt.projection
    action = GetAction({"TableName": table["name"], "Key": key}, project=lambda item: select.project(item, paths))
    action.table = table
    return action


def _table_of(stmt: ast.Statement) -> str:
    return stmt.select.table if isinstance(stmt, ast.Exists) else stmt.table


def _returned(stmt: ast.Statement, action: WriteAction) -> list[Item]:
    which = getattr(stmt, "returning", None)
    if which is None:
        return []
    if which == "ALL OLD":
        item = action.old
    elif which == "ALL NEW":
        item = action.new
    else:
        source = action.old if which == "MODIFIED OLD" else action.new
        update = action.compiled.update
        item = update.updated(source) if source is not None and update is not None else None
    return [item] if item else []


def _failure(reason: dict[str, Any]) -> ServiceError:
    """A single statement's failure, as ExecuteStatement reports it."""
    code = reason["Code"]
    if code == "ConditionalCheckFailed":
        fields = {"Item": reason["Item"]} if "Item" in reason else {}
        return ServiceError("ConditionalCheckFailedException", CONDITION_FAILED, 400, fields=fields)
    if code == "DuplicateItem":
        return ServiceError("DuplicateItemException", DUPLICATE, 400)
    return invalid(reason.get("Message", ""))


# handlers ---------------------------------------------------------------------------------
@metrics.measured
def execute_statement(ctx: Context, req: Input) -> Output:
    stmt, params = _parse(req)
    if isinstance(stmt, ast.Select):
        return _select(ctx, stmt, params, req)
    if isinstance(stmt, ast.Exists):
        raise invalid("EXISTS() is only supported in ExecuteTransaction")
    with ctx.tx() as t:
        action = _write_action(t, stmt, params, req)
        assert action.table is not None
        throttle.admit_write(ctx, action.table)
        reason = action.evaluate(t)
        if reason is not None:
            if reason["Code"] in ("ConditionalCheckFailed", "DuplicateItem"):
                throttle.refused_write(ctx, action.table, action.old)
            raise _failure(reason)
        units = throttle.write(ctx, action.table, action.old, action.new)
        action.apply(ctx, t)
    out: Output = {"Items": _returned(stmt, action)}
    capacity.write(out, req, action.table, action.old, action.new, units)
    return out


def _select(ctx: Context, stmt: ast.Select, params: list[dict[str, Any]], req: Input) -> Output:
    """A SELECT through ``select.run``, which reports its units as ``ConsumedCapacity``:
    asked for (per index) here so they can be consumed, then shaped as the caller asked.
    A read changes nothing, so a throttle after it answers as one before it would."""
    mode = req.get("ReturnConsumedCapacity") or "NONE"
    out = select.run(ctx, stmt, params, {**req, "ReturnConsumedCapacity": "INDEXES"})
    spent = out.pop("ConsumedCapacity")
    with ctx.tx() as t:
        table = storage.get_table(t, spent["TableName"])
    index = None
    for member in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        for name in spent.get(member) or ():
            index = next((i for i in table.get("indexes") or () if i["IndexName"] == name), None)
    throttle.read(ctx, table, spent["CapacityUnits"], index, returned=len(out.get("Items") or ()))
    if mode == "TOTAL":
        out["ConsumedCapacity"] = {k: v for k, v in spent.items() if k in ("TableName", "CapacityUnits",
                                                                           "ReadCapacityUnits")}
    elif mode == "INDEXES":
        out["ConsumedCapacity"] = spent
    return out


@metrics.measured
def batch_execute_statement(ctx: Context, req: Input) -> Output:
    entries = req["Statements"]
    parsed: list[tuple[ast.Statement, list[dict[str, Any]]] | ServiceError] = []
    for entry in entries:
        try:
            parsed.append(_parse(entry))
        except ServiceError as err:
            parsed.append(err)
    kinds = {isinstance(p[0], ast.Select) for p in parsed if not isinstance(p, ServiceError)}
    if len(kinds) > 1:
        raise invalid(MIXED_BATCH)
    responses: list[dict[str, Any]] = []
    used: dict[str, list[float]] = {}
    with ctx.tx() as t:
        for entry, p in zip(entries, parsed):
            if isinstance(p, ServiceError):
                responses.append(_batch_error(p))
                continue
            stmt, params = p
            try:
                responses.append(_batch_one(ctx, t, stmt, params, entry, used))
            except ServiceError as err:
                responses.append(_batch_error(err, _table_of(stmt)))
    out: Output = {"Responses": responses}
    mode = req.get("ReturnConsumedCapacity") or "NONE"
    if mode != "NONE":
        out["ConsumedCapacity"] = [capacity.read_write(mode, name, read, write) for name, (read, write) in used.items()]
    return out


def _batch_one(ctx: Context, t: Tx, stmt: ast.Statement, params: list[dict[str, Any]], entry: Input,
               used: dict[str, list[float]]) -> dict[str, Any]:
    if isinstance(stmt, ast.Select):
        get = _get_action(t, stmt, params, "BatchExecuteStatement")
        reason = get.evaluate(t)
        if reason is not None:
            raise invalid(reason["Message"])
        assert get.table is not None
        read = capacity.read_units([get.item] if get.item else [], bool(entry.get("ConsistentRead")))
        throttle.read(ctx, get.table, read)
        used.setdefault(get.table["name"], [0.0, 0.0])[0] += read
        return {"TableName": get.table["name"], **get.result()}
    if isinstance(stmt, ast.Exists) or getattr(stmt, "returning", None):
        raise invalid("BatchExecuteStatement supports only INSERT, UPDATE, DELETE and SELECT statements "
                       "without RETURNING")
    action = _write_action(t, stmt, params, entry)
    assert action.table is not None
    throttle.admit_write(ctx, action.table)
    reason = action.evaluate(t)
    if reason is not None:
        raise _failure(reason)
    units = throttle.write(ctx, action.table, action.old, action.new)
    action.apply(ctx, t)
    used.setdefault(action.table["name"], [0.0, 0.0])[1] += units
    return {"TableName": action.table["name"]}


_BATCH_CODES = {
    "ConditionalCheckFailedException": "ConditionalCheckFailed",
    "DuplicateItemException": "DuplicateItem",
    "ResourceNotFoundException": "ResourceNotFound",
    "ValidationException": "ValidationError",
    "ProvisionedThroughputExceededException": "ProvisionedThroughputExceeded",
}


def _batch_error(err: ServiceError, table: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"Code": _BATCH_CODES.get(err.code, "InternalServerError"), "Message": err.message}
    if "Item" in err.fields:
        error["Item"] = err.fields["Item"]
    out: dict[str, Any] = {"Error": error}
    if table is not None:
        out["TableName"] = table
    return out


@metrics.measured
def execute_transaction(ctx: Context, req: Input) -> Output:
    entries = req["TransactStatements"]
    parsed: list[tuple[ast.Statement, list[dict[str, Any]]]] = []
    for i, entry in enumerate(entries):
        try:
            one = parser.parse(entry["Statement"])
        except ServiceError as err:
            raise _in_statement(i, err) from None
        params = entry.get("Parameters") or []
        literals.check_parameters(params)
        if one.params > len(params):
            raise _in_statement(i, invalid(PARAMETER_COUNT))
        parsed.append((one.statement, params))
    reads = [isinstance(s, ast.Select) for s, _ in parsed]
    if any(reads) and not all(reads):
        raise invalid(MIXED_TRANSACTION)
    if all(reads):
        return _read_transaction(ctx, req, parsed)
    token = ClientToken(req, "ExecuteTransaction")
    with ctx.tx() as t:
        actions = []
        for i, ((stmt, params), entry) in enumerate(zip(parsed, entries)):
            try:
                if getattr(stmt, "returning", None):
                    raise invalid("RETURNING is not supported in ExecuteTransaction")
                actions.append(_write_action(t, stmt, params, entry))
            except ServiceError as err:
                if err.code != "ValidationException":
                    raise
                raise _in_statement(i, err) from None
        txn = WriteTransaction(actions)
        txn.check_size()
        replayed = token.replay(t)
        if replayed is not None:
            return dict(replayed)
        txn.run(ctx, t)
        token.remember(t, {"Responses": []})
    return txn.output(req, {"Responses": []})


def _read_transaction(ctx: Context, req: Input, parsed: list[tuple[ast.Statement, list[dict[str, Any]]]]) -> Output:
    with ctx.tx() as t:
        actions = []
        for i, (stmt, params) in enumerate(parsed):
            assert isinstance(stmt, ast.Select)
            try:
                actions.append(_get_action(t, stmt, params, "ExecuteTransaction"))
            except ServiceError as err:
                if err.code != "ValidationException":
                    raise
                raise _in_statement(i, err) from None
        txn = ReadTransaction(actions)
        responses = txn.run(ctx, t)
    return txn.output(req, {"Responses": responses})


def _in_statement(i: int, err: ServiceError) -> ServiceError:
    return invalid(f"Validation failed in TransactStatements[{i}]: {err.message}")
