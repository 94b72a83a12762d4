"""NextToken paging for the List operations: the token names the last key returned."""

from __future__ import annotations

import base64

from cloudlet.services.scheduler import errors

DEFAULT_LIMIT = 100


def token(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode()


def after(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return base64.urlsafe_b64decode(text.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raise errors.bad_token() from None
