"""The SigV4 credential scope of a request, read cheaply: routing needs it before auth.

``Authorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sqs/aws4_request, ...``
or, presigned, ``X-Amz-Credential=AKID%2F20260101%2Fus-east-1%2Fs3%2Faws4_request``.
"""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import unquote

from cloudlet.protocol.http import Request


class Scope(NamedTuple):
    access_key: str
    date: str
    region: str
    service: str


def credential_scope(req: Request) -> Scope | None:
    """The scope the client signed with, or None for an unsigned request."""
    auth = req.headers.get("authorization")
    if auth is not None:
        i = auth.find("Credential=")
        if i < 0:
            return None
        cred = auth[i + 11 :].split(",", 1)[0].strip()
    else:
        q = req.query
        i = q.find("X-Amz-Credential=")
        if i < 0:
            return None
        cred = unquote(q[i + 17 :].split("&", 1)[0])
    parts = cred.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        return None
    return Scope(parts[0], parts[1], parts[2], parts[3])
