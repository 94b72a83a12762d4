"""Run the app under uvicorn with httptools and uvloop (chosen by measurement: bench/README.md)."""

from __future__ import annotations

import os
import sys

from cloudlet.server.config import Config


def run(config: Config) -> int:
    import uvicorn

    from cloudlet.server.app import create_app
    from cloudlet.server.logs import configure

    configure(config.log_level, config.log_format)
    if not config.ephemeral:
        os.makedirs(config.data_dir, exist_ok=True)
    where = "in memory (ephemeral)" if config.ephemeral else config.data_dir
    print(f"cloudlet listening on http://{config.host}:{config.port} — state {where}", file=sys.stderr, flush=True)
    uv_config = uvicorn.Config(
        create_app(config),
        host=config.host,
        port=config.port,
        http="httptools",
        loop="uvloop",
        lifespan="off",
        access_log=False,
        log_level="warning",
        server_header=False,
        date_header=False,
        # big uploads are allowed; a client that stops sending is dropped, never waited on forever
        timeout_keep_alive=30,
    )
    uvicorn.Server(uv_config).run()
    return 0
