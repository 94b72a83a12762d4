"""The request context every handler receives: who is calling, where, and as which request.

Frozen: the pipeline builds it once, after authentication and decoding, and nothing
fills it in later.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Context:
    account: str
    region: str
    principal_arn: str
    access_key: str
    request_id: str
    service: str
    operation: str
    source_ip: str = "127.0.0.1"
    user_agent: str = ""
    internal: bool = False

    @property
    def partition(self) -> str:
        if self.region.startswith("cn-"):
            return "aws-cn"
        if self.region.startswith("us-gov-"):
            return "aws-us-gov"
        return "aws"
