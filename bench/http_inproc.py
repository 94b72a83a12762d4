"""The HTTP server's share of a request, in process: the same signed DynamoDB PutItem and GetItem
bytes fed to uvicorn's httptools protocol (with cloudlet's ASGI App) and to cloudlet's own
protocol (`cloudlet.server.http1`), each on a fake transport, on one uvloop loop.

    python -m bench.http_inproc                 # 8 rounds of 2,000 requests per stack and operation
    python -m bench.http_inproc --rounds 20 --output bench/results/http-DATE.jsonl

No sockets and no kernel: CPU time (``time.process_time``) per request of everything Python
does between the bytes arriving and the answer being handed to the transport, including the
event-loop turns a stack needs (uvicorn runs each request as a task). The same Gateway (on a
data directory, as `cloudlet serve` runs) answers both. Because it counts this process's own
CPU only, it holds up on a machine shared with other work, where the socket benches'
`server_cpu_ms_per_req` drifts up; the minimum over rounds is the figure to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import shutil
import sys
import tempfile
import time
from typing import Any

from .clients import environment
from .dynamodb import TABLE, Signer, requests_for
from .report import emit
from .workloads import Endpoint


class _Transport:
    """Counts writes; everything else a protocol asks of a transport is a no-op."""

    def __init__(self) -> None:
        self.writes = 0

    def write(self, data: bytes) -> None:
        self.writes += 1

    def writelines(self, data: Any) -> None:
        self.writes += 1

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 4566)}.get(name, default)

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def set_protocol(self, protocol: Any) -> None:
        pass


async def _measure(rounds: int, count: int) -> list[dict[str, Any]]:
    import uvicorn
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    from uvicorn.server import ServerState

    from cloudlet.server import http1
    from cloudlet.server.app import App
    from cloudlet.server.config import Config
    from cloudlet.server.gateway import Gateway

    loop = asyncio.get_running_loop()
    data_dir = tempfile.mkdtemp(prefix="bench-http-")
    try:
        gw = Gateway(Config(ephemeral=False, data_dir=data_dir))
        config = uvicorn.Config(App(gw), http="httptools", loop="uvloop", lifespan="off", access_log=False,
                                log_level="warning", server_header=False, date_header=False, proxy_headers=False,
                                timeout_keep_alive=30)  # as cloudlet.server.run sets it
        config.load()
        stacks: list[tuple[str, Any, _Transport]] = []
        for name, proto in (("uvicorn", HttpToolsProtocol(config, ServerState(), {}, loop)),
                            ("cloudlet", http1.Http1(http1.Server(gw, loop)))):
            transport = _Transport()
            proto.connection_made(transport)
            stacks.append((name, proto, transport))

        async def drive(proto: Any, transport: _Transport, requests: list[bytes], n: int) -> None:
            for i in range(n):
                want = transport.writes + 1
                proto.data_received(requests[i % len(requests)])
                while transport.writes < want:  # uvicorn answers from a task: let the loop run it
                    await asyncio.sleep(0)

        url = "http://127.0.0.1:4566"
        spec = {"TableName": TABLE, "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                         {"AttributeName": "sk", "AttributeType": "N"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]}
        create = Signer(Endpoint(url).capture("dynamodb", "create_table", **spec), url).sign(spec)
        await drive(stacks[1][1], stacks[1][2], [create], 1)
        ops = {"put": requests_for("put", url, 0, count), "get": requests_for("get", url, 0, count)}
        for _, proto, transport in stacks:  # first-use work (codecs, caches) stays out
            await drive(proto, transport, ops["put"], count)
            await drive(proto, transport, ops["get"], 200)
        gc.freeze()
        gc.set_threshold(5000, 20, 20)  # as cloudlet.server.run sets it
        per: dict[tuple[str, str], list[float]] = {}
        for _ in range(rounds):
            for name, proto, transport in stacks:
                for op, requests in ops.items():
                    cpu = time.process_time()
                    await drive(proto, transport, requests, count)
                    per.setdefault((name, op), []).append((time.process_time() - cpu) / count * 1e6)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    lines = []
    for op in ("put", "get"):
        best = {name: min(per[(name, op)]) for name in ("uvicorn", "cloudlet")}
        lines.append({"bench": f"http_inproc.{op}", "requests_per_round": count, "rounds": rounds,
                      "uvicorn_cpu_us_per_req": round(best["uvicorn"], 1),
                      "cloudlet_cpu_us_per_req": round(best["cloudlet"], 1),
                      "saved_us": round(best["uvicorn"] - best["cloudlet"], 1),
                      "uvicorn_median_us": round(sorted(per[("uvicorn", op)])[rounds // 2], 1),
                      "cloudlet_median_us": round(sorted(per[("cloudlet", op)])[rounds // 2], 1),
                      **environment()})
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.http_inproc", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--requests", type=int, default=2000, help="per round, stack and operation")
    parser.add_argument("--output", help="append the JSON lines to this file too")
    args = parser.parse_args(argv)
    import uvloop

    for line in uvloop.run(_measure(args.rounds, args.requests)):
        emit(line, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
