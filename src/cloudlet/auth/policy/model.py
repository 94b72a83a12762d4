"""The data the engine is asked about: who, what, on which resource, under which policies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Mapping, Sequence

if TYPE_CHECKING:
    from cloudlet.auth.policy.compile import Policy

Kind = Literal["identity", "resource", "trust", "boundary", "session", "scp", "rcp"]
KINDS = ("identity", "resource", "trust", "boundary", "session", "scp", "rcp")


class PolicyError(Exception):
    """A document IAM (or Organizations) would refuse as MalformedPolicyDocument.

    ``message`` is the text AWS returns; ``detail`` says what exactly is wrong (for SCPs and
    RCPs Organizations answers one generic message, the detail is still useful in logs)."""

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail or message


@dataclass(frozen=True, slots=True)
class Principal:
    arn: str
    account: str
    kind: str  # "root" | "user" | "role-session" | "federated-user" | "service" | "anonymous"
    role_arn: str | None = None
    user_id: str | None = None
    username: str | None = None


@dataclass(frozen=True, slots=True)
class PolicySet:
    identity: Sequence["Policy"] = ()
    resource: "Policy | None" = None
    resource_account: str | None = None
    boundary: "Policy | None" = None
    session: Sequence["Policy"] | None = None
    scps: Sequence[Sequence["Policy"]] | None = None
    rcps: Sequence[Sequence["Policy"]] | None = None


@dataclass(frozen=True, slots=True)
class Request:
    principal: Principal
    action: str
    resource: str
    context: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str
