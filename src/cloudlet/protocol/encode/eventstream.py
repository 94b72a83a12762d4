"""AWS event-stream framing (``application/vnd.amazon.eventstream``) for streaming outputs.

Operations such as S3 SelectObjectContent, Kinesis SubscribeToShard or Lambda
InvokeWithResponseStream answer with a sequence of binary messages. A handler returns
the events as a list of one-key dicts (``[{"Records": {...}}, {"End": {}}]``) or as one
dict whose keys are the events in order; each is framed here with the body codec of the
service's protocol. A ``ServiceError`` in the list ends the stream with that error (as a
modeled exception event when the stream's union names it). The whole sequence is encoded
at once, because Response bodies are bytes.

Frame: total length, headers length, prelude CRC32, headers, payload, message CRC32.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterable
from typing import Any

from botocore.model import Shape

from cloudlet.core.errors import ServiceError
from cloudlet.protocol.encode.scalars import as_bytes, epoch_seconds

# header value types
_TRUE, _FALSE, _BYTE, _SHORT, _INT, _LONG, _BYTES, _STRING, _TIMESTAMP = 0, 1, 2, 3, 4, 5, 6, 7, 8


def _header(name: str, value: Any, kind: int = _STRING) -> bytes:
    raw = name.encode("utf-8")
    head = struct.pack("B", len(raw)) + raw
    if kind in (_TRUE, _FALSE):
        return head + struct.pack("B", _TRUE if value else _FALSE)
    if kind == _BYTE:
        return head + struct.pack(">Bb", kind, value)
    if kind == _SHORT:
        return head + struct.pack(">Bh", kind, value)
    if kind == _INT:
        return head + struct.pack(">Bi", kind, value)
    if kind in (_LONG, _TIMESTAMP):
        return head + struct.pack(">Bq", kind, value)
    data = value.encode("utf-8") if isinstance(value, str) else as_bytes(value)
    return head + struct.pack(">BH", kind, len(data)) + data


def frame(headers: bytes, payload: bytes) -> bytes:
    """One event-stream message around already-encoded headers and payload."""
    total = 12 + len(headers) + len(payload) + 4
    prelude = struct.pack(">II", total, len(headers))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    message = prelude + headers + payload
    return message + struct.pack(">I", zlib.crc32(message))


def event_frame(event_type: str, payload: bytes, content_type: str | None, extra: bytes = b"") -> bytes:
    headers = _header(":message-type", "event") + _header(":event-type", event_type)
    if content_type:
        headers += _header(":content-type", content_type)
    return frame(headers + extra, payload)


def exception_frame(name: str, payload: bytes, content_type: str) -> bytes:
    """A modeled error inside the stream (a member of the union marked as an exception)."""
    headers = _header(":message-type", "exception") + _header(":exception-type", name)
    return frame(headers + _header(":content-type", content_type), payload)


def error_frame(code: str, message: str) -> bytes:
    """An unmodeled error ending the stream."""
    headers = _header(":message-type", "error") + _header(":error-code", code)
    return frame(headers + _header(":error-message", message), b"")


_HEADER_KIND = {
    "boolean": _TRUE,
    "byte": _BYTE,
    "short": _SHORT,
    "integer": _INT,
    "long": _LONG,
    "blob": _BYTES,
    "string": _STRING,
    "timestamp": _TIMESTAMP,
}


class EventStreamWriter:
    """Frames the events of one event-stream union shape.

    `body(shape, value) -> bytes` encodes an event's body members (or a structure
    payload) in the protocol's body format, labelled `content_type`.
    """

    def __init__(self, stream: Shape, body: Callable[[Shape, Any], bytes], content_type: str) -> None:
        self._events: dict[str, Callable[[Any], bytes]] = {}
        self._exceptions: dict[str, str] = {}  # error code -> member name
        for name, event in stream.members.items():
            if event.metadata.get("exception"):
                self._events[name] = self._compile_exception(name, event, body, content_type)
                self._exceptions[event.error_code] = name
            else:
                self._events[name] = self._compile(name, event, body, content_type)

    def encode(self, events: Any) -> bytes:
        return b"".join(self._frames(events))

    def _frames(self, events: Any) -> Iterable[bytes]:
        pairs: Iterable[Any]
        if isinstance(events, dict):
            pairs = events.items()
        else:
            pairs = (e if isinstance(e, ServiceError) else next(iter(e.items())) for e in events)
        for pair in pairs:
            if isinstance(pair, ServiceError):
                # a handler ends a stream with an error: modeled if the stream names it
                name = self._exceptions.get(pair.code)
                if name is None:
                    yield error_frame(pair.code, pair.message)
                else:
                    yield self._events[name]({**pair.fields, "message": pair.message})
                return
            name, value = pair
            fn = self._events.get(name)
            if fn is not None:
                yield fn(value or {})

    @staticmethod
    def _compile_exception(
        name: str, event: Shape, body: Callable[[Shape, Any], bytes], content_type: str
    ) -> Callable[[Any], bytes]:
        msg = next((m for m in event.members if m.lower() == "message"), None)

        def encode(value: dict[str, Any]) -> bytes:
            if msg is not None and msg != "message" and "message" in value:
                value = {**value, msg: value["message"]}
            return exception_frame(name, body(event, value), content_type)

        return encode

    @staticmethod
    def _compile(
        name: str, event: Shape, body: Callable[[Shape, Any], bytes], content_type: str
    ) -> Callable[[Any], bytes]:
        header_members = []
        payload_member = None
        for mname, member in event.members.items():
            ser = member.serialization
            if ser.get("eventheader"):
                header_members.append((mname, _HEADER_KIND.get(member.type_name, _STRING), member.type_name))
            elif ser.get("eventpayload"):
                payload_member = (mname, member)

        def headers_of(value: dict[str, Any]) -> bytes:
            out = b""
            for mname, kind, type_name in header_members:
                v = value.get(mname)
                if v is None:
                    continue
                if type_name == "boolean":
                    kind = _TRUE if v else _FALSE
                elif type_name == "timestamp":
                    v = int(round(epoch_seconds(v) * 1000))
                out += _header(mname, v, kind)
            return out

        if payload_member is not None:
            pname, pshape = payload_member
            if pshape.type_name == "blob":
                ctype = "application/octet-stream"
                encode_payload: Callable[[Any], bytes] = as_bytes
            elif pshape.type_name == "string":
                ctype = "text/plain"
                encode_payload = as_bytes
            else:
                ctype = content_type

                def encode_payload(v: Any) -> bytes:
                    return body(pshape, v)

            def encode(value: dict[str, Any]) -> bytes:
                v = value.get(pname)
                payload = b"" if v is None else encode_payload(v)
                return event_frame(name, payload, ctype, headers_of(value))

            return encode

        def encode_members(value: dict[str, Any]) -> bytes:
            return event_frame(name, body(event, value), content_type, headers_of(value))

        return encode_members
