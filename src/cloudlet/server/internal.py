"""The in-process AWS client: services call each other through AWS operations.

``ctx.aws("sqs").send_message(QueueUrl=..., MessageBody=...)`` goes through the same
dispatcher, validation, authorization and audit as an HTTP request, as a named
principal, without HTTP and without JSON/XML encoding. Errors come back as the
``ServiceError`` the handler raised, so callers handle them as AWS reports them.
"""

from __future__ import annotations

import inspect
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable

from botocore import xform_name

from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.core.ids import request_id
from cloudlet.protocol.model import load_service

if TYPE_CHECKING:
    from cloudlet.server.gateway import Gateway


@lru_cache(maxsize=None)
def _operations(service: str) -> dict[str, str]:
    """boto3 method name -> operation name, for one service."""
    return {xform_name(name): name for name in load_service(service).operation_names}


class AwsClient:
    """boto3-style methods (``send_message``) for one service, called in process."""

    def __init__(
        self,
        gateway: "Gateway",
        caller: Context,
        service: str,
        *,
        principal: str | None = None,
        region: str | None = None,
        account: str | None = None,
        source_arn: str | None = None,
        quiet: bool = False,
        trace_header: str | None = None,
    ) -> None:
        self._gateway = gateway
        self._caller = caller
        self._service = service
        self._principal = principal
        self._region = region or caller.region
        self._account = account or caller.account
        self._source_arn = source_arn
        self._quiet = quiet
        # a call made on behalf of a request carries its trace (Lineage) on, as AWS does
        self._trace = trace_header if trace_header is not None else caller.trace_header

    def __getattr__(self, name: str) -> Callable[..., dict[str, Any]]:
        op = _operations(self._service).get(name)
        if op is None:
            raise AttributeError(f"{self._service} has no operation {name}")
        return lambda **params: self.call(op, params)

    def call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """Run `operation` with boto3-shaped `params`; returns its output dict."""
        caller = self._caller
        service_principal = self._principal is not None and self._principal.endswith(".amazonaws.com")
        ctx = Context(
            account=self._account,
            region=self._region,
            principal_arn=self._principal or caller.principal_arn,
            access_key="" if service_principal else caller.access_key,
            request_id=request_id(),
            service=self._service,
            operation=operation,
            source_ip=caller.source_ip,
            user_agent=f"cloudlet-internal ({caller.service})",
            internal=True,
            source_arn=self._source_arn,
            trace_header=self._trace,
            gateway=self._gateway,
        )
        op = load_service(self._service).operation_model(operation)
        output: dict[str, Any] | None = None
        error: ServiceError | None = None
        try:
            result = self._gateway.dispatch(ctx, params)
            if inspect.isawaitable(result):
                if hasattr(result, "close"):
                    result.close()
                raise ServiceError(
                    "InternalFailure", f"{self._service}:{operation} is asynchronous and cannot be called in process", 500
                )
            output = result or {}
            return output
        except ServiceError as err:
            error = err
            raise
        finally:
            if not (self._quiet and error is None):
                self._gateway.record(
                    self._service, ctx.region, op, params, output, error, ctx.request_id, ctx.account,
                    ctx.principal_arn, ctx.access_key, caller.source_ip, ctx.user_agent, internal=service_principal,
                )
