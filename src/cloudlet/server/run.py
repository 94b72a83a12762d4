"""Run the server: cloudlet's own HTTP/1.1 protocol (`server/http1.py`) on httptools and
uvloop, or, with ``CLOUDLET_HTTP=uvicorn``, the ASGI app under uvicorn with the same parser and
loop (both chosen by measurement: bench/README.md, "HTTP server")."""

from __future__ import annotations

import gc
import os
import sys

from cloudlet.server.config import Config


def run(config: Config) -> int:
    from cloudlet.server.app import create_app
    from cloudlet.server.logs import configure

    from cloudlet.core.datadir import DataDirError

    configure(config.log_level, config.log_format)
    try:
        app = create_app(config)
    except DataDirError as err:
        print(f"cloudlet: {err}", file=sys.stderr)
        return 2
    # Everything loaded so far lives as long as the server: keep it out of every collection
    # (freeze without a collect first: a collect here costs ~25 ms of start-up),
    # and collect the young generation less often (a request allocates a few hundred objects).
    # Measured (bench.dynamodb put, 8 clients): 0.168 -> ~0.158 ms of server CPU per PutItem.
    gc.freeze()
    gc.set_threshold(5000, 20, 20)
    where = "in memory (ephemeral)" if config.ephemeral else config.data_dir
    print(f"cloudlet listening on http://{config.host}:{config.port} — state {where}", file=sys.stderr, flush=True)
    stack = os.environ.get("CLOUDLET_HTTP", "cloudlet")
    if stack != "uvicorn":
        from cloudlet.server import http1

        status = http1.serve(app.gateway, config.host, config.port)
        _stop_pollers(app.gateway)
        return status
    import uvicorn

    uv_config = uvicorn.Config(
        app,
        host=config.host,
        port=config.port,
        http="httptools",
        loop="uvloop",
        lifespan="off",
        access_log=False,
        log_level="warning",
        server_header=False,
        date_header=False,
        proxy_headers=False,  # a local endpoint: no proxy in front whose headers to trust
        # big uploads are allowed; a client that stops sending is dropped, never waited on forever
        timeout_keep_alive=30,
    )
    uvicorn.Server(uv_config).run()
    _stop_pollers(app.gateway)
    return 0


def _stop_pollers(gateway: object) -> None:
    """Event source pollers stop before the process exits (the engine's atexit hook then
    kills the sandboxes): no worker is left mid-batch against a stopping engine."""
    from cloudlet.services.lambda_ import esm

    esm.shutdown(gateway)  # type: ignore[arg-type]
