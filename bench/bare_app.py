"""The ceiling: the least an ASGI app can do for one request.

It drains the request body (a real handler must read it, so the ceiling must too) and answers
a fixed 200. Every path answers, so `/_cloudlet/health` doubles as its readiness probe. Run it
under the same server stack as cloudlet and the difference in throughput is cloudlet's own cost.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_BODY = b"hello, world"
_START: Message = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(_BODY)).encode())],
}
_END: Message = {"type": "http.response.body", "body": _BODY}


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Hello world, with the lifespan protocol answered so no stack logs a warning."""
    if scope["type"] == "http":
        while (await receive()).get("more_body", False):
            pass
        await send(_START)
        await send(_END)
    elif scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


def create_app() -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """Factory form, so the bare app can be started exactly like cloudlet's `create_app`."""
    return app
