"""The authorization hook on the request path.

Every call, internal ones included, is put to the authorizer with its principal,
IAM actions, resource ARNs and condition keys before the handler runs. Until the IAM
engine lands the installed authorizer allows everything; the call is already there so
enforcement is a swap of one object, not a change to every service.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from cloudlet.core.errors import ServiceError


@dataclass(frozen=True, slots=True)
class AuthzRequest:
    principal_arn: str
    account: str
    service: str
    operation: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: dict[str, Any] = field(default_factory=dict)
    region: str = ""
    access_key: str = ""
    principal_account: str = ""  # the caller's own account (`account` is where the call acts)
    service_keys: dict[str, Any] = field(default_factory=dict)  # the service's own condition keys


class Authorizer(Protocol):
    def authorize(self, req: AuthzRequest) -> None:
        """Return to allow; raise ``ServiceError`` (AccessDenied) to refuse."""


class AllowAll:
    """What cloudlet enforces until the IAM engine is switched on: nothing."""

    def authorize(self, req: AuthzRequest) -> None:
        return None


def access_denied(req: AuthzRequest, action: str, resource: str) -> ServiceError:
    """AWS's wording for an identity-policy refusal."""
    return ServiceError(
        "AccessDenied" if req.service in ("s3", "iam", "sts") else "AccessDeniedException",
        f"User: {req.principal_arn} is not authorized to perform: {action} on resource: {resource}",
        403,
    )
