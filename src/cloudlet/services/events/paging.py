"""NextToken paging for the List operations: the token names the last item returned."""

from __future__ import annotations

import base64
from typing import Callable, Sequence, TypeVar

from cloudlet.services.events import errors

T = TypeVar("T")
DEFAULT_LIMIT = 100


def page(items: Sequence[T], key: Callable[[T], str], limit: int | None, token: str | None) -> tuple[list[T], str | None]:
    """Items after the token's, at most `limit` (100 by default), and the next token."""
    after = _after(token)
    rest = [i for i in items if after is None or key(i) > after]
    size = limit or DEFAULT_LIMIT
    chosen = rest[:size]
    more = len(rest) > size
    return chosen, (_token(key(chosen[-1])) if more and chosen else None)


def _token(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode()


def _after(token: str | None) -> str | None:
    if not token:
        return None
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raise errors.bad_token() from None
