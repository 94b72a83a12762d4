"""The request context every handler receives: who is calling, where, and as which request.

Frozen: the pipeline builds it once, after authentication and decoding, and nothing
fills it in later. Through it a handler reaches its state (``ctx.tx()``) and other
services (``ctx.aws("sqs")``), never through globals.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cloudlet.core.arns import partition_of

if TYPE_CHECKING:
    from cloudlet.core.store import Tx
    from cloudlet.server.gateway import Gateway
    from cloudlet.server.internal import AwsClient

#: Services whose resources belong to the account, not a region (their state region is "").
GLOBAL_SERVICES = frozenset(
    {"iam", "route53", "route53domains", "cloudfront", "organizations", "globalaccelerator", "waf", "shield"}
)


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
    source_arn: str | None = None  # the resource on whose behalf a service principal calls
    # the caller's X-Amzn-Trace-Id: its Lineage lets Lambda stop a recursive loop (SQS, SNS
    # and S3 carry it on to the next invocation); in-process calls inherit it
    trace_header: str | None = None
    gateway: "Gateway | None" = field(default=None, repr=False, compare=False)

    @property
    def partition(self) -> str:
        return partition_of(self.region)

    @property
    def state_region(self) -> str:
        """Where this service keeps the caller's resources: the region, or "" if global."""
        return "" if self.service in GLOBAL_SERVICES else self.region

    def tx(self, *, region: str | None = None, account: str | None = None) -> AbstractContextManager["Tx"]:
        """A transaction on this service's state for the caller's account and region.

        Committed when the ``with`` block ends: answer after it, and an acknowledged write
        is never lost. Another account or region is for the few cross-partition features
        AWS has (cross-region replication reads, organization-wide views).
        """
        if self.gateway is None:
            raise RuntimeError("this context has no gateway (built outside the request path)")
        db = self.gateway.db(self.service)
        return db.tx(self.account if account is None else account, self.state_region if region is None else region)

    def aws(
        self,
        service: str,
        *,
        principal: str | None = None,
        region: str | None = None,
        account: str | None = None,
        source_arn: str | None = None,
        quiet: bool = False,
        trace_header: str | None = None,
    ) -> "AwsClient":
        """A client for another service's operations, in process: the same dispatcher,
        validation, authorization and audit as HTTP, without HTTP or encoding.

        `principal` is who makes the call: a service principal (``s3.amazonaws.com``) when
        AWS itself acts, else the calling identity. `quiet` calls (a poller's reads, several
        a second) leave no audit event unless they fail, as CloudTrail leaves data events out.
        `trace_header` replaces this request's X-Amzn-Trace-Id on the call (a delivery made
        later for an earlier request).
        """
        if self.gateway is None:
            raise RuntimeError("this context has no gateway (built outside the request path)")
        from cloudlet.server.internal import AwsClient

        return AwsClient(self.gateway, self, service, principal=principal, region=region, account=account, source_arn=source_arn, quiet=quiet,
                         trace_header=trace_header)
