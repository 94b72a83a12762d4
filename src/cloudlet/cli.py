"""`cloudlet serve | status | reset | clock`: the server and the admin API from a shell."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import urllib.error
import urllib.request

DEFAULT_ENDPOINT = "http://127.0.0.1:4566"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> float:
    """`90d`, `12h`, `30m`, `45s`, `2w`, or plain seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (try 30d, 12h, 90m, 3600)")
    return float(m.group(1)) * _UNITS[m.group(2) or "s"]


def _runtime_pair(text: str) -> tuple[str, str]:
    name, sep, path = text.partition("=")
    if not (sep and name.strip() and path.strip()):
        raise argparse.ArgumentTypeError(f"not NAME=PATH: {text!r} (try python3.12=/usr/bin/python3.12)")
    return name.strip(), os.path.abspath(path.strip())


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cloudlet", description="The AWS cloud on one machine.")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="start the server")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=4566)
    s.add_argument("--data-dir", default=None, help="where state lives (default: per-user data dir)")
    s.add_argument("--ephemeral", action="store_true", help="keep all state in memory")
    s.add_argument("--verify-signatures", action="store_true", help="refuse requests with a wrong SigV4 signature or unknown key")
    s.add_argument("--enforce-iam", action="store_true",
                   help="authorize every call with IAM: identity, resource and session policies, boundaries, SCPs")
    s.add_argument("--durability", default="commit", choices=["commit", "fsync"],
                   help="commit: acknowledged writes survive a crash (kill -9); fsync: and power loss")
    s.add_argument("--no-throttle", action="store_true",
                   help="never refuse requests to PROVISIONED DynamoDB tables for exceeding their capacity")
    s.add_argument("--strict-runtimes", action="store_true",
                   help="Lambda: refuse a runtime whose interpreter is not on this machine (default: use the nearest)")
    s.add_argument("--runtime", action="append", default=[], metavar="NAME=PATH", type=_runtime_pair,
                   help="Lambda: the interpreter for a runtime, e.g. python3.12=/usr/bin/python3.12 (repeatable)")
    s.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"], help="request lines are INFO")
    s.add_argument("--log-format", default="text", choices=["text", "json"])

    for name, text in (("status", "show the running server's health"), ("reset", "wipe all state")):
        c = sub.add_parser(name, help=text)
        c.add_argument("--endpoint", default=os.environ.get("CLOUDLET_ENDPOINT", DEFAULT_ENDPOINT))
        if name == "reset":
            c.add_argument("--service", default=None, help="wipe only this service's state")

    c = sub.add_parser("clock", help="show or move the cloudlet clock")
    c.add_argument("--endpoint", default=os.environ.get("CLOUDLET_ENDPOINT", DEFAULT_ENDPOINT))
    csub = c.add_subparsers(dest="action")
    a = csub.add_parser("advance", help="move forward, e.g. 30d")
    a.add_argument("duration", type=parse_duration)
    st = csub.add_parser("set", help="jump to an ISO-8601 time (not earlier than now)")
    st.add_argument("when")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    if args.command == "status":
        return _admin(args.endpoint, "GET", "health")
    if args.command == "reset":
        path = "reset" + (f"?service={args.service}" if args.service else "")
        return _admin(args.endpoint, "POST", path)
    if args.command == "clock":
        if args.action == "advance":
            return _admin(args.endpoint, "POST", "clock", {"advance": args.duration})
        if args.action == "set":
            return _admin(args.endpoint, "POST", "clock", {"set": args.when})
        return _admin(args.endpoint, "GET", "clock")
    return 2


def serve(args: argparse.Namespace) -> int:
    from cloudlet.server.config import Config, default_data_dir
    from cloudlet.server.run import run

    data_dir = args.data_dir or default_data_dir()
    config = Config(
        host=args.host,
        port=args.port,
        data_dir=os.path.abspath(data_dir),
        ephemeral=args.ephemeral,
        verify_signatures=args.verify_signatures,
        log_format=args.log_format,
        log_level=args.log_level,
        durability=args.durability,
        throttle=not args.no_throttle,
        enforce_iam=args.enforce_iam,
        strict_runtimes=args.strict_runtimes,
        runtimes=tuple(args.runtime),
    )
    return run(config)


def _admin(endpoint: str, method: str, path: str, body: dict | None = None) -> int:
    url = endpoint.rstrip("/") + "/_cloudlet/" + path
    data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
    request = urllib.request.Request(url, data=data, method=method, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as resp:
            print(json.dumps(json.loads(resp.read()), indent=2))
            return 0
    except urllib.error.HTTPError as err:
        print(err.read().decode(errors="replace"), file=sys.stderr)
        return 1
    except OSError as err:
        print(f"cloudlet is not answering at {endpoint}: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
