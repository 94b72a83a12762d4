"""Managed policies by ARN: AWS's (from `awsmanaged`) and the account's own."""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.core.store import Tx
from cloudlet.services.iam import awsmanaged, errors, storage


def split_arn(arn: str) -> tuple[str, str, str] | None:
    """(account, path, name) of ``arn:aws:iam::<account>:policy<path><name>``."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or not parts[5].startswith("policy/"):
        return None
    rest = parts[5][len("policy"):]
    path, name = rest.rsplit("/", 1)
    return parts[4], path + "/", name


def lookup(t: Tx, account: str, arn: str) -> dict[str, Any] | None:
    if awsmanaged.is_aws_arn(arn):
        return awsmanaged.POLICIES.get(arn)
    parts = split_arn(arn)
    if parts is None or parts[0] != account:
        return None
    rec = storage.get(t, "policy", parts[2])
    return rec if rec is not None and rec["Arn"] == arn else None


def require(t: Tx, account: str, arn: str) -> dict[str, Any]:
    rec = lookup(t, account, arn)
    if rec is None:
        raise errors.policy_not_found(arn)
    return rec


def require_attachable(t: Tx, account: str, arn: str) -> dict[str, Any]:
    rec = lookup(t, account, arn)
    if rec is None:
        raise errors.policy_not_attachable(arn)
    return rec


def require_boundary(t: Tx, ctx: Context, arn: str) -> str:
    """A permissions boundary must be a managed policy that exists."""
    if split_arn(arn) is None:
        raise errors.invalid_input(f"ARN {arn} is not valid.")
    require_attachable(t, ctx.account, arn)
    return arn


def default_document(rec: dict[str, Any]) -> str:
    for v in rec["Versions"]:
        if v["VersionId"] == rec["DefaultVersion"]:
            return v["Document"]
    raise LookupError(rec["Arn"])  # a record always holds its default version
