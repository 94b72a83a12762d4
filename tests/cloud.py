"""A real cloudlet server on a free loopback port, for behaviour tests.

Tests talk to it the way users do: boto3 (and the AWS CLI) over HTTP.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from typing import Any

import boto3
from botocore.config import Config as BotoConfig


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cloud:
    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "cloudlet", "serve", "--host", "127.0.0.1", "--port", str(self.port), *args]
        if "--data-dir" not in args:
            cmd.append("--ephemeral")
        self.log_path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"cloudlet-test-{self.port}.log")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
        try:
            self.wait_ready()
        except BaseException:
            self.proc.kill()  # a server that did not come up must not outlive the test
            self.proc.wait()
            raise

    def wait_ready(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"cloudlet exited: {self.logs()}")
            try:
                self.admin("GET", "health")
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"cloudlet did not start: {self.logs()}")

    def logs(self) -> str:
        self._log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.endpoint}/_cloudlet/{path}", data=data, method=method)
        with urllib.request.urlopen(req, timeout=5) as resp:
            return json.loads(resp.read())

    def client(self, service: str, region: str = "us-east-1", key: str = "test", secret: str = "test", **config: Any):
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=region,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            config=BotoConfig(retries={"max_attempts": 1}, **config),
        )

    def advance(self, seconds: float = 0, *, days: float = 0) -> None:
        self.admin("POST", "clock", {"advance": seconds + days * 86400})

    def kill(self) -> None:
        """SIGKILL, as a crash: the server gets no chance to flush or close anything."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._log.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        try:
            os.unlink(self.log_path)
        except OSError:
            pass
