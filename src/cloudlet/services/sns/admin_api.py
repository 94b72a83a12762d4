"""SNS's part of the admin API (not AWS): the signing certificate and the outbox.

``GET /_cloudlet/sns/cert.pem`` serves the certificate whose key signs every message
(the ``SigningCertURL`` of each message points here). ``GET /_cloudlet/outbox`` lists
what email, SMS and mobile subscribers would have received, newest first, filtered by
``account``, ``region``, ``protocol`` or ``endpoint``, at most ``limit`` (default 100).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qs

import orjson

from cloudlet.core import clock
from cloudlet.protocol.http import Request, Response
from cloudlet.services.sns import outbox, signing

if TYPE_CHECKING:
    from cloudlet.server.gateway import Gateway


def cert_pem(gw: "Gateway", req: Request) -> Response:
    pem = signing.certificate_pem(gw.db("sns"), clock.now())
    return Response(200, [("content-type", "application/x-pem-file")], pem.encode())


def outbox_entries(gw: "Gateway", req: Request) -> Response:
    q = {k: v[-1] for k, v in parse_qs(req.query).items()}
    limit = int(q.get("limit", 100))
    if not 1 <= limit <= 10_000:
        raise ValueError("limit is from 1 to 10000")
    found = outbox.entries(
        gw.db("sns"), account=q.get("account"), region=q.get("region"), protocol=q.get("protocol"),
        endpoint=q.get("endpoint"), limit=limit,
    )
    return Response(200, [("content-type", "application/json")], orjson.dumps({"messages": found}))
