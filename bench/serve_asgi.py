"""Serve any ASGI app under one of the stacks we compare, with the settings cloudlet would use.

`python -m bench.serve_asgi uvicorn bench.bare_app:app --port 8001`
`python -m bench.serve_asgi granian cloudlet.server.app:create_app --factory --port 8001`

One module starts both stacks so the comparison differs only in the stack: one process
(granian: one worker, one runtime thread), no access log, warnings only.
"""

from __future__ import annotations

import argparse
import os
import sys


def serve_uvicorn(target: str, host: str, port: int, factory: bool) -> None:
    import uvicorn

    uvicorn.run(
        target,
        host=host,
        port=port,
        factory=factory,
        http="httptools",
        loop="uvloop",
        lifespan="auto",
        access_log=False,
        log_level="warning",
        server_header=False,  # as cloudlet.server.run does: the ceiling must do no less
        date_header=False,
        proxy_headers=False,
    )


def serve_granian(target: str, host: str, port: int, factory: bool) -> None:
    # exec the granian CLI so the process tree is what a user would run.
    argv = [
        sys.executable, "-m", "granian", "--interface", "asgi", "--host", host, "--port", str(port),
        "--workers", "1", "--runtime-threads", "1", "--loop", "uvloop", "--no-ws",
        "--log-level", "warning", "--no-access-log",
    ]
    if factory:
        argv.append("--factory")
    os.execv(sys.executable, [*argv, target])


STACKS = {"uvicorn": serve_uvicorn, "granian": serve_granian}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stack", choices=sorted(STACKS))
    parser.add_argument("target", help="module:attribute of an ASGI app (or factory with --factory)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--factory", action="store_true")
    args = parser.parse_args(argv)
    STACKS[args.stack](args.target, args.host, args.port, args.factory)


if __name__ == "__main__":
    main()
