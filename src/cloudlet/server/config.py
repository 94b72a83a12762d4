"""Server settings: what `cloudlet serve` was asked for."""

from __future__ import annotations

import os
from dataclasses import dataclass


def default_data_dir() -> str:
    """A per-user data directory (XDG on Linux), overridable with CLOUDLET_DATA_DIR."""
    env = os.environ.get("CLOUDLET_DATA_DIR")
    if env:
        return env
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "cloudlet")


@dataclass(frozen=True, slots=True)
class Config:
    host: str = "127.0.0.1"
    port: int = 4566
    data_dir: str = ""
    ephemeral: bool = False
    verify_signatures: bool = False
    log_format: str = "text"  # or "json"
    log_level: str = "warning"  # request lines are INFO: quiet by default
    default_region: str = "us-east-1"
    durability: str = "commit"  # "fsync": also survive power loss, at the cost of an fsync per write
    throttle: bool = True  # PROVISIONED DynamoDB tables refuse what exceeds their capacity
    enforce_iam: bool = False  # every call authorized by the IAM engine (auth/enforce.py)
    # Lambda: refuse a runtime whose interpreter is not on the machine instead of using the nearest
    strict_runtimes: bool = False
    # Lambda: interpreters chosen by the user, as ("python3.12", "/usr/bin/python3.12") pairs
    runtimes: tuple[tuple[str, str], ...] = ()


def public_url(config: Config) -> str:
    """cloudlet's own URL as clients reach it: queue URLs, SNS SubscribeURL and SigningCertURL."""
    host = config.host
    if host in ("", "0.0.0.0", "::"):
        host = "localhost"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{config.port}"
