"""Round trip over every model: we encode, botocore's own parser reads it back.

For every operation of every service, in every protocol its model lists, a seeded output
is encoded by our encoder and parsed by ``botocore.parsers`` exactly as a botocore client
would (same header dict, streaming bodies, the second pass for modeled error fields);
the result must equal what we encoded. Every modeled error shape of every operation is
encoded as a ``ServiceError`` and must come back with its code, message, HTTP status and
fields. Only what the wire cannot carry is normalised, each case saying why.

CI runs one seeded sample per operation; ``CLOUDLET_DEEP=N`` runs N.
"""

from __future__ import annotations

import io
import os
import random
import zlib
from collections import Counter
from typing import Any

import pytest
from botocore import handlers as bc_handlers
from botocore.awsrequest import HeadersDict
from botocore.eventstream import EventStream
from botocore.exceptions import EventStreamError
from botocore.parsers import create_parser
from botocore.response import StreamingBody

from cloudlet.core.errors import ServiceError
from cloudlet.protocol.encode import ENCODERS
from cloudlet.protocol.http import Response
from cloudlet.protocol.model import load_service, service_names
from tests.protocol.shapegen import ShapeGen

DEEP = int(os.environ.get("CLOUDLET_DEEP", "0") or 0)
SAMPLES = max(1, DEEP)
XML_PROTOCOLS = ("query", "ec2", "rest-xml")
REST = ("rest-json", "rest-xml")
REQUEST_ID = "c0ffee00-0000-4000-8000-<&>\u00e9"  # escaping applies to the request id too

COVERED: Counter = Counter()


def protocols_of(service) -> list[str]:
    return list(service.metadata.get("protocols") or [service.metadata["protocol"]])


def seed_for(*parts: object) -> int:
    return zlib.crc32(".".join(map(str, parts)).encode())


# botocore, used the way its client uses it ------------------------------------------------
class _RawStream:
    """What botocore's EventStream reads from: an object with ``stream()``."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self):
        yield self._data


def headers_dict(resp: Response) -> HeadersDict:
    headers = HeadersDict()
    for k, v in resp.headers:
        headers[k] = f"{headers[k]}, {v}" if k in headers else v  # HTTP folds repeats
    return headers


def botocore_parse(protocol: str, op, resp: Response) -> dict:
    """Parse like botocore.endpoint: streaming bodies wrapped, error fields in a 2nd pass."""
    body: Any = resp.body
    if resp.status < 300:
        if op.has_event_stream_output:
            body = _RawStream(resp.body)
        elif op.has_streaming_output:
            body = StreamingBody(io.BytesIO(resp.body), len(resp.body))
    response = {
        "status_code": resp.status,
        "headers": headers_dict(resp),
        "body": body,
        "context": {"operation_name": op.name},
    }
    parser = create_parser(protocol)
    parsed = parser.parse(response, op.output_shape)
    if resp.status >= 300:
        code = parsed.get("Error", {}).get("Code")
        error_shape = op.service_model.shape_for_error_code(code)
        if error_shape is not None:
            parsed.update(parser.parse(response, error_shape))
    elif op.service_model.service_name == "s3" and op.name == "GetBucketLocation":
        # botocore re-reads this one from the raw body (after-call handler)
        bc_handlers.parse_get_bucket_location(parsed, _Http(resp.body))
    return parsed


class _Http:
    """The bits of botocore's AWSResponse that its GetBucketLocation handler reads."""

    def __init__(self, content: bytes) -> None:
        self.content = content
        self.raw = object()


# what botocore should hand back for what we encoded -----------------------------------------
_AMBIGUOUS: dict[str, frozenset] = {}


def xml_tag(name: str, member) -> str:
    ser = member.serialization
    if member.type_name == "list" and ser.get("flattened") and member.member.serialization.get("name"):
        return member.member.serialization["name"]
    return ser.get("name") or name


def ambiguous(shape) -> frozenset:
    """Members sharing their XML element name with a sibling (S3's deprecated notification
    configurations: ``Event`` and the items of flattened ``Events``): the wire cannot say
    whose element is whose, so botocore reads each from all of them."""
    found = _AMBIGUOUS.get(shape.name)
    if found is None:
        tags = Counter(xml_tag(n, m) for n, m in shape.members.items())
        found = frozenset(n for n, m in shape.members.items() if tags[xml_tag(n, m)] > 1)
        _AMBIGUOUS[shape.name] = found
    return found


def prune_ambiguous(shape, value):
    """`value` (parsed) without the ambiguous members, at any depth."""
    kind = shape.type_name
    if value is None or (kind == "structure" and shape.is_document_type):
        return value
    if kind == "structure" and isinstance(value, dict):
        drop = ambiguous(shape)
        members = shape.members
        return {k: prune_ambiguous(members[k], v) if k in members else v for k, v in value.items() if k not in drop}
    if kind == "list" and isinstance(value, list):
        return [prune_ambiguous(shape.member, v) for v in value]
    if kind == "map" and isinstance(value, dict):
        return {k: prune_ambiguous(shape.value, v) for k, v in value.items()}
    return value


def expected_value(shape, value, xml: bool):
    kind = shape.type_name
    if value is None:
        return None
    if kind == "structure":
        if shape.is_document_type:
            return value
        out = {}
        members = shape.members
        drop = ambiguous(shape) if xml else ()
        for k, v in value.items():
            member = members[k]
            if v is None:
                continue  # a null member is no member (a document may be None)
            if k in drop:
                continue  # see ambiguous()
            if xml and member.type_name in ("list", "map") and member.serialization.get("flattened") and not v:
                continue  # a flattened empty list/map is no element at all
            out[k] = expected_value(member, v, xml)
        return out
    if kind == "list":
        return [expected_value(shape.member, v, xml) for v in value]
    if kind == "map":
        return {k: expected_value(shape.value, v, xml) for k, v in value.items()}
    if kind == "blob" and isinstance(value, str):
        return value.encode()
    return value


def expected_output(protocol: str, op, output: dict, resp: Response) -> dict:
    shape = op.output_shape
    if shape is None:
        return {}
    xml = protocol in XML_PROTOCOLS
    exp = expected_value(shape, output, xml)
    if protocol not in REST:
        return exp
    if op.service_model.service_name == "s3" and op.name == "GetBucketLocation" and not exp.get("LocationConstraint"):
        exp["LocationConstraint"] = None  # an empty root element has no text (us-east-1's answer)
    head = op.http.get("method") == "HEAD"
    payload = shape.serialization.get("payload")
    for name, member in shape.members.items():
        loc = member.serialization.get("location")
        if loc == "statusCode":
            exp[name] = resp.status  # botocore always reports the status it saw
        elif loc == "headers":
            # botocore hands back every header with the map's prefix, ours among them (and
            # with an empty prefix that is every header); it is always there, empty or not
            prefix = member.serialization.get("name", "").lower()
            got = {k[len(prefix):]: v for k, v in headers_dict(resp).items() if k.lower().startswith(prefix)}
            assert exp.get(name, {}).items() <= got.items()
            exp[name] = got
        elif loc == "header":
            if exp.get(name) == [] and member.type_name == "list":
                del exp[name]  # an empty list has no header form
            header = member.serialization.get("name", name).lower()
            if header == "content-type" and name not in exp:
                # a body always goes with a Content-Type; the member bound to it reads it back
                ctype = headers_dict(resp).get("content-type")
                if ctype is not None:
                    exp[name] = ctype
        elif loc is None and head:
            exp.pop(name, None)  # HEAD has no body
        elif name == payload and name not in exp and not member.serialization.get("eventstream"):
            # an absent payload is an empty body, which botocore reads as empty
            exp[name] = {"blob": b"", "string": ""}.get(member.type_name, {})
    return exp


def read_streams(protocol: str, op, parsed: dict) -> dict:
    """Drain StreamingBody and EventStream values into plain data."""
    for k, v in list(parsed.items()):
        if isinstance(v, StreamingBody):
            data = v.read()
            member = op.output_shape.members[k]
            parsed[k] = data if member.type_name == "blob" else data.decode()
        elif isinstance(v, EventStream):
            parsed[k] = drain(v)
        elif isinstance(v, str) and k == op.output_shape.serialization.get("payload"):
            member = op.output_shape.members[k]
            if member.type_name == "blob":
                parsed[k] = v.encode()  # botocore decodes a non-streaming payload as text
    return parsed


def drain(stream: EventStream) -> list:
    """The events botocore yields; a modeled exception event ends the stream as an error."""
    events = []
    try:
        for event in stream:
            events.append(event)
    except EventStreamError as exc:
        events.append(("error", exc.response["Error"]["Code"], exc.response["Error"]["Message"]))
    return events


def expected_events(stream_shape, value, xml: bool) -> list:
    events: list = []
    for name, body in value.items():
        event = stream_shape.members[name]
        if event.metadata.get("exception"):
            message = body.get("Message", body.get("message", ""))
            events.append(("error", name, message))
            break  # botocore raises on it: nothing after it is read
        exp = expected_value(event, body, xml)
        for mname, member in event.members.items():
            if member.serialization.get("eventpayload") and mname not in exp:
                # an absent payload is an empty frame body, read back as empty
                exp[mname] = {"blob": b"", "string": ""}.get(member.type_name, {})
        events.append({name: exp})
    return events


# the sweep -------------------------------------------------------------------------------
def check_output(protocol: str, encoder, op, gen: ShapeGen) -> None:
    shape = op.output_shape
    output = gen.gen(shape) if shape is not None else {}
    resp = encoder.encode(op, output, REQUEST_ID)
    parsed = read_streams(protocol, op, botocore_parse(protocol, op, resp))
    meta = parsed.pop("ResponseMetadata", {})
    if protocol in XML_PROTOCOLS and shape is not None:
        parsed = prune_ambiguous(shape, parsed)
    assert meta.get("HTTPStatusCode") == resp.status
    if shape is not None or protocol != "smithy-rpc-v2-cbor":  # cbor reads no metadata without output
        assert meta.get("RequestId") == REQUEST_ID, meta
    exp = expected_output(protocol, op, output, resp)
    stream = shape.event_stream_name if shape is not None and op.has_event_stream_output else None
    if stream:
        exp_events = expected_events(shape.members[stream], exp.pop(stream, {}) or {}, protocol in XML_PROTOCOLS)
        assert parsed.pop(stream) == exp_events
    assert parsed == exp


def error_cases(op):
    """(code, error shape botocore resolves that code to) for each modeled error of `op`."""
    seen = set()
    for shape in op.error_shapes:
        code = shape.error_code
        if code in seen:
            continue
        seen.add(code)
        yield code, op.service_model.shape_for_error_code(code)


def check_error(protocol: str, encoder, op, code: str, shape, gen: ShapeGen) -> None:
    fields = gen.gen(shape)
    msg_member = next((n for n in shape.members if n.lower() == "message"), None)
    message = fields.pop(msg_member, None) if msg_member else None
    if not isinstance(message, str) or not message:
        message = "it went <wrong> & \"badly\" \u2713"
    error_meta = shape.metadata.get("error", {})
    status = int(error_meta.get("httpStatusCode", 400))
    if status < 400:
        status = 400  # a modeled error with a non-error status cannot be told from success
    err = ServiceError(code, message, status, sender_fault=bool(error_meta.get("senderFault", status < 500)),
                       fields=fields)
    resp = encoder.encode_error(op, err, REQUEST_ID)
    parsed = botocore_parse(protocol, op, resp)
    assert resp.status == status
    assert parsed["ResponseMetadata"]["HTTPStatusCode"] == status
    head = op.http.get("method") == "HEAD"
    error = parsed["Error"]
    if head and (protocol == "rest-xml" or status >= 500):
        # a HEAD error has no body: botocore can only report the status
        assert error["Code"] == str(status)
    else:
        assert error["Code"] == code, (error, code)
        if not head:
            assert error["Message"] == message
    for name, value in fields.items():
        member = shape.members[name]
        loc = member.serialization.get("location")
        if head and loc is None:
            continue  # HEAD has no body
        if loc == "headers":
            continue  # a header map reads back every header with its prefix; checked in pins
        if loc == "header" and member.type_name == "list" and not value:
            continue  # an empty list has no header form
        if protocol in XML_PROTOCOLS and loc is None:
            if member.type_name in ("list", "map") and member.serialization.get("flattened") and not value:
                continue  # a flattened empty list is no element at all
            tag = member.serialization.get("name") or name
            wire = {"Code": code, "Message": message, "Type": "Sender" if err.sender_fault else "Receiver",
                    "RequestId": REQUEST_ID}
            if tag in wire:
                # the error's own element carries this name; the member reads that back
                assert parsed.get(name) == wire[tag]
                continue
            if tag == "HostId":
                continue
        if protocol == "rest-json" and loc == "header" and (member.serialization.get("name") or "").lower() == "x-amzn-errortype":
            assert parsed.get(name) == code  # our x-amzn-ErrorType carries the code
            continue
        exp = expected_value(member, value, protocol in XML_PROTOCOLS)
        assert parsed.get(name) == exp, (name, parsed.get(name), exp)


SERVICE_PROTOCOLS = [(name, p) for name in service_names() for p in protocols_of(load_service(name))]


@pytest.mark.parametrize(("service_name", "protocol"), SERVICE_PROTOCOLS, ids=[f"{s}-{p}" for s, p in SERVICE_PROTOCOLS])
def test_botocore_reads_what_we_encode(service_name: str, protocol: str) -> None:
    service = load_service(service_name)
    encoder = ENCODERS[protocol](service)
    for op_name in service.operation_names:
        op = service.operation_model(op_name)
        for i in range(SAMPLES):
            gen = ShapeGen(random.Random(seed_for(service_name, protocol, op_name, i)))
            try:
                check_output(protocol, encoder, op, gen)
            except Exception as exc:
                raise AssertionError(f"{service_name}.{op_name} [{protocol}] sample {i}: {exc}") from exc
        COVERED["ops"] += 1
        for code, shape in error_cases(op):
            for i in range(SAMPLES):
                gen = ShapeGen(random.Random(seed_for(service_name, protocol, op_name, code, i)))
                try:
                    check_error(protocol, encoder, op, code, shape, gen)
                except Exception as exc:
                    raise AssertionError(f"{service_name}.{op_name} error {code} [{protocol}] sample {i}: {exc}") from exc
            COVERED["errors"] += 1
    COVERED["services"] += 1


def test_sweep_covered_every_operation(capsys: pytest.CaptureFixture) -> None:
    """Runs last in this module; totals the sweep above when it ran whole."""
    if COVERED["services"] != len(SERVICE_PROTOCOLS):
        pytest.skip("the sweep did not run whole in this session")
    with capsys.disabled():
        print(f"\nencode round trip: {COVERED['ops']} operations, {COVERED['errors']} error shapes "
              f"over {len(SERVICE_PROTOCOLS)} service protocols, {SAMPLES} sample(s) each")
    assert COVERED["ops"] > 18000
    assert COVERED["errors"] > 10000
