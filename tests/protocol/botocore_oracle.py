"""botocore as the reference client: serialize input as its client would, hand us the bytes.

`botocore_request` runs botocore's own serializer for a protocol, builds the URL with
``prepare_request_dict`` (endpoint ``http://localhost:4566``, the model's ``hostPrefix``
honoured), prepares the request exactly as botocore's HTTP layer does (form bodies
urlencoded, Content-Length set) and returns our :class:`Request`: method, raw path, raw
query, lower-cased headers (with ``host``) and the body read to bytes.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from botocore.awsrequest import create_request_object, prepare_request_dict
from botocore.serialize import create_serializer

from cloudlet.protocol.http import Request
from cloudlet.protocol.model import OperationModel

ENDPOINT = "http://localhost:4566"


@lru_cache(maxsize=None)
def serializer(protocol: str) -> Any:
    return create_serializer(protocol, include_validation=False)


def serialized(op: OperationModel, params: dict[str, Any], protocol: str) -> dict[str, Any]:
    """botocore's request dict (``url_path``, ``query_string``, ``headers``, ``body``...)."""
    return serializer(protocol).serialize_to_request(params, op)


def to_request(request_dict: dict[str, Any], endpoint: str = ENDPOINT) -> Request:
    """A serialized request dict, prepared as botocore's client does, as our Request."""
    prepare_request_dict(request_dict, endpoint)
    prepared = create_request_object(request_dict).prepare()
    url = urlsplit(prepared.url)
    body = prepared.body
    if body is None:
        body = b""
    elif isinstance(body, str):
        body = body.encode("utf-8")
    elif hasattr(body, "read"):
        body = body.read()
    headers: dict[str, str] = {}
    for key, value in prepared.headers.items():
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        headers[key.lower()] = value
    headers["host"] = url.netloc
    return Request(prepared.method, url.path or "/", url.query, headers, bytes(body))


def botocore_request(op: OperationModel, params: dict[str, Any], protocol: str) -> Request:
    """What a botocore client puts on the wire for `op(**params)` in `protocol`."""
    return to_request(serialized(op, params, protocol))
