"""Round trip over every model: botocore serializes, we decode, and we must get its input.

For every operation of every service, in every protocol its model lists, seeded input
from :class:`ShapeGen` is serialized by botocore's own serializer and prepared as its
client would (``botocore_oracle``); our decoder must return the same operation and the
same params. Only what the wire cannot carry is normalised (:func:`expected`), each case
saying why. CI runs one seeded sample per operation per protocol; ``CLOUDLET_DEEP=N`` runs
N. Pinned edge cases and malformed-input tests live in ``test_decode_edges.py``.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import struct
import zlib
from collections import Counter
from typing import Any

import pytest
from botocore.model import OperationModel, Shape

from cloudlet.protocol.decode import DECODERS, protocol_for
from cloudlet.protocol.model import load_service, service_names
from tests.protocol.botocore_oracle import botocore_request, serialized
from tests.protocol.shapegen import ShapeGen

DEEP = int(os.environ.get("CLOUDLET_DEEP", "0") or 0)
SAMPLES = max(1, DEEP)
REST = ("rest-json", "rest-xml")
#: headers the HTTP layer sets whatever the input says (a member bound to one reads it)
TRANSPORT_HEADERS = ("content-length", "content-type")

COVERED: Counter = Counter()  # (service, protocol) -> operations decoded

_VANISH = object()  # a value that puts nothing on the wire


def seed_from(service: str, op: str, sample: int = 0) -> int:
    return zlib.crc32(f"{service}.{op}.{sample}".encode())


def protocols_of(service: Any) -> list[str]:
    return list(service.metadata.get("protocols") or [service.metadata["protocol"]])


# what the wire can carry ---------------------------------------------------------------------

_BODY_TS_DEFAULT = {
    "query": "iso8601",
    "ec2": "iso8601",
    "json": "unixTimestamp",
    "rest-json": "unixTimestamp",
    "rest-xml": "iso8601",
    "smithy-rpc-v2-cbor": "unixTimestamp",
}


def _timestamp(shape: Shape, value: dt.datetime, default: str, protocol: str) -> dt.datetime:
    fmt = shape.serialization.get("timestampFormat") or default
    if protocol == "smithy-rpc-v2-cbor":
        fmt = "unixTimestamp"  # botocore's CBOR serializer ignores the trait
    if fmt.lower() in ("unixtimestamp", "rfc822"):
        # botocore's default precision sends whole seconds for epoch and HTTP dates
        return value.replace(microsecond=0)
    return value


def _empty_like(shape: Shape) -> Any:
    return [] if shape.type_name == "list" else {}


def _body(shape: Shape, value: Any, protocol: str) -> Any:
    """The value as it survives `protocol`'s body encoding, or _VANISH if it sends nothing."""
    kind = shape.type_name
    form = protocol in ("query", "ec2")
    if kind == "structure" and not shape.is_document_type:
        out = {}
        for name, v in value.items():
            member = shape.members[name]
            if v is None and protocol == "smithy-rpc-v2-cbor":
                continue  # botocore's CBOR serializer drops None members (null documents)
            got = _body(member, v, protocol)
            if (
                protocol == "rest-xml"
                and member.serialization.get("flattened")
                and member.type_name in ("list", "map")
                and not v
            ):
                got = _VANISH  # a flattened empty list/map is no elements at all
            if got is not _VANISH:
                out[name] = got
        if form and not out:
            return _VANISH  # a form has no way to say "this structure, empty"
        return out
    if kind == "list":
        items = [_body(shape.member, v, protocol) for v in value]
        if form:
            items = [i for i in items if i is not _VANISH]  # such items leave no field
            if protocol == "ec2" and not items:
                return _VANISH  # EC2 sends nothing for an empty list
            if value and not items:
                return _VANISH  # every item vanished: no field left at all
        return items
    if kind == "map":
        out = {}
        for k, v in value.items():
            got = _body(shape.value, v, protocol)
            # a form map entry keeps its key; a value that sends nothing reads as empty
            out[k] = _empty_like(shape.value) if got is _VANISH else got
        if form and not out:
            return _VANISH  # an empty map sends no field
        return out
    if kind == "timestamp":
        return _timestamp(shape, value, _BODY_TS_DEFAULT[protocol], protocol)
    if kind == "float" and protocol == "smithy-rpc-v2-cbor":
        return struct.unpack(">f", struct.pack(">f", value))[0]  # CBOR floats are 32-bit
    return value


def _rest(op: OperationModel, params: dict[str, Any], protocol: str, req: Any) -> dict[str, Any]:
    shape = op.input_shape
    payload = shape.serialization.get("payload")
    out: dict[str, Any] = {}
    for name, value in params.items():
        member = shape.members[name]
        loc = member.serialization.get("location")
        kind = member.type_name
        if value is None:
            continue  # botocore's REST serializers skip None members (null documents)
        if loc == "header":
            if kind == "list" and not value:
                got = _VANISH  # botocore sets no header for an empty list
            elif kind == "timestamp":
                got = value.replace(microsecond=0)  # header dates are whole seconds
            else:
                got = value
        elif loc == "headers":
            got = value or _VANISH  # no prefixed headers for an empty map
        elif loc in ("querystring", "uri"):
            if kind == "list":
                got = value or _VANISH  # an empty list is no query key at all
            elif kind == "map":
                got = {k: v for k, v in value.items() if not isinstance(v, list) or v}
                got = got or _VANISH  # likewise empty maps and empty list values
            elif kind == "timestamp":
                got = _timestamp(member, value, "iso8601", protocol)
            else:
                got = value
        elif name == payload and kind in ("blob", "string"):
            got = value or _VANISH  # an empty body is no body
        else:
            got = _body(member, value, protocol)
        if got is not _VANISH:
            out[name] = got
    if payload and protocol == "rest-json" and payload not in params:
        if shape.members[payload].type_name not in ("blob", "string"):
            out[payload] = {}  # botocore sends "{}" for an absent structure payload
    for name, member in shape.members.items():
        ser = member.serialization
        if ser.get("location") == "header" and name not in params and ser.get("name", name).lower() in TRANSPORT_HEADERS:
            value = req.headers.get(ser["name"].lower())
            if value is not None:
                out[name] = int(value) if member.type_name in ("integer", "long") else value
    return out


def expected(op: OperationModel, params: dict[str, Any], protocol: str, req: Any) -> dict[str, Any]:
    """`params` as they can come back after `protocol`'s wire."""
    if op.input_shape is None:
        return {}
    if protocol in REST:
        return _rest(op, params, protocol, req)
    got = _body(op.input_shape, params, protocol)
    return {} if got is _VANISH else got


def same_wire(op: OperationModel, other: OperationModel, params: dict[str, Any], protocol: str) -> bool:
    """Two operations botocore sends alike cannot be told apart by any server.

    Either the bytes are identical (S3 ``GetBucketLifecycle`` and its successor), or a
    deprecated operation shares its method and URI with its successor and differs only
    in how its body is read (S3 ``PutBucketNotification``): AWS serves both as the new one.
    """
    if op.deprecated and op.http == other.http:
        return True
    try:
        a = serialized(op, params, protocol)
        b = serialized(other, params, protocol)
    except Exception:
        return False
    keys = ("method", "url_path", "query_string", "headers", "body")
    return all(a.get(k) == b.get(k) for k in keys)


# the sweep -----------------------------------------------------------------------------------


def check_operation(service: Any, protocol: str, decoder: Any, op_name: str, sample: int) -> None:
    op = service.operation_model(op_name)
    rng = random.Random(seed_from(service.service_name, op_name, sample))
    gen = ShapeGen(rng) if sample % 2 == 0 else ShapeGen(rng, max_depth=6, optional_p=1.0)
    params = gen.gen(op.input_shape) if op.input_shape is not None else {}
    req = botocore_request(op, params, protocol)
    assert protocol_for(service, req) == protocol, f"{op_name}: protocol_for"
    got_op, got = decoder.decode(req)
    if got_op.name != op_name:
        assert same_wire(op, got_op, params, protocol), f"{op_name} decoded as {got_op.name}"
        if op.input_shape != got_op.input_shape:
            return  # a deprecated twin: its input is read as its successor's
        op = got_op
    want = expected(op, params, protocol, req)
    assert got == want, f"{service.service_name}.{op_name} ({protocol}, sample {sample})"


def _cases() -> list[tuple[str, str]]:
    out = []
    for name in service_names():
        for protocol in protocols_of(load_service(name)):
            out.append((name, protocol))
    return out


CASES = _cases()


@pytest.mark.parametrize(("service_name", "protocol"), CASES, ids=[f"{s}-{p}" for s, p in CASES])
def test_we_decode_what_botocore_sends(service_name: str, protocol: str) -> None:
    service = load_service(service_name)
    decoder = DECODERS[protocol](service)
    failures = []
    for op_name in service.operation_names:
        for sample in range(SAMPLES):
            try:
                check_operation(service, protocol, decoder, op_name, sample)
            except Exception as err:  # collect all, so one run shows every broken op
                failures.append(f"{op_name}[{sample}]: {type(err).__name__}: {str(err)[:2000]}")
        COVERED[(service_name, protocol)] += 1
    assert not failures, f"{len(failures)} failing:\n" + "\n".join(failures[:10])


def test_zz_every_operation_was_covered(capsys: pytest.CaptureFixture[str]) -> None:
    """Runs last in this module: the count of operations the sweep decoded."""
    if len(COVERED) < len(CASES):
        pytest.skip("the full sweep did not run in this session")
    total = sum(COVERED.values())
    with capsys.disabled():
        print(f"\ndecode round trip: {total} operation/protocol pairs over {len(CASES)} service/protocol pairs, {SAMPLES} sample(s) each")
    assert total > 18000
