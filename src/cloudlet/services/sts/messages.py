"""DecodeAuthorizationMessage: the details behind an encoded AccessDenied message."""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.services.sts import authmessages


def decode_authorization_message(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    body = authmessages.decode_authorization_message(req["EncodedMessage"])
    if body is None:
        raise ServiceError("InvalidAuthorizationMessageException", "Message is not valid", 400)
    return {"DecodedMessage": authmessages.decoded_json(body)}
