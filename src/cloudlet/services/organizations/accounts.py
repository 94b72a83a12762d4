"""Member accounts: creating them, reading them, moving them in the tree, removing them.

CreateAccount is asynchronous in AWS: it answers ``IN_PROGRESS`` and the caller polls
DescribeCreateAccountStatus. cloudlet does the whole creation inside the call (the new
account id, its ``OrganizationAccountAccessRole`` made through IAM as
``organizations.amazonaws.com``, its place under the root), answers ``IN_PROGRESS``
like AWS, and every later read of the request shows its outcome (``SUCCEEDED`` with the
``AccountId``, or ``FAILED`` with a reason such as ``EMAIL_ALREADY_EXISTS``). Code that
polls works unchanged and never has to wait.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.services.organizations import errors, storage as st

log = logging.getLogger("cloudlet.organizations")

_EMAIL = re.compile(r"^[^\s@]+@[^\s@]+\.[^\s@]+$")
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_REQUEST_ID = re.compile(r"^car-[a-z0-9]{8,32}$")
_ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"


def _status_shape(s: dict) -> dict[str, Any]:
    out = {"Id": s["Id"], "AccountName": s["AccountName"], "State": s["State"], "RequestedTimestamp": s["RequestedTimestamp"]}
    if s["State"] != "IN_PROGRESS":
        out["CompletedTimestamp"] = s["CompletedTimestamp"]
    if s["State"] == "SUCCEEDED":
        out["AccountId"] = s["AccountId"]
    if s.get("FailureReason"):
        out["FailureReason"] = s["FailureReason"]
    return out


def _put_status(tx: Any, s: dict) -> None:
    tx.put(st.STATUS, s["Id"], s, attrs={"org": s["Org"], "account": s["AccountId"], "email": s["Email"].lower()})


def _finish(tx: Any, s: dict, state: str, reason: str | None = None) -> None:
    s["State"] = state
    s["CompletedTimestamp"] = clock.now()
    if reason:
        s["FailureReason"] = reason
    _put_status(tx, s)


def create_account(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    role_name = req.get("RoleName") or "OrganizationAccountAccessRole"
    if not _ROLE_NAME.match(role_name) or role_name.startswith("AWSServiceRoleFor"):
        raise errors.invalid("INVALID_ROLE_NAME")
    email = req["Email"]
    tags = req.get("Tags") or []
    now = clock.now()
    with st.writing(ctx) as tx:
        org = st.manager_org(tx, ctx)
        if len({t["Key"] for t in tags}) != len(tags):
            raise errors.invalid("DUPLICATE_TAG_KEY")
        if len(tags) > 50:
            raise errors.constraint("MAX_TAG_LIMIT_EXCEEDED")
        status = {
            "Id": st.new_request_id(), "AccountName": req["AccountName"], "State": "IN_PROGRESS",
            "RequestedTimestamp": now, "AccountId": st.new_account_id(tx), "Org": org["Id"], "Email": email,
        }
        answer = _status_shape(status)
        failure = None
        if not _EMAIL.match(email):
            failure = "INVALID_EMAIL"
        elif tx.find(st.MEMBER, "email", email.lower()) or any(
            r.value["State"] != "FAILED" for r in tx.find(st.STATUS, "email", email.lower())
        ):
            failure = "EMAIL_ALREADY_EXISTS"
        if failure:
            _finish(tx, status, "FAILED", failure)
            return {"CreateAccountStatus": answer}
        _put_status(tx, status)  # reserves the account id and the email while IAM works
    # IAM is another service: called with no transaction held
    failure = _make_access_role(ctx, status["AccountId"], role_name, org["MasterAccountId"])
    with st.writing(ctx) as tx:
        current = tx.get(st.ORG, org["Id"])
        if failure is None and current is None:
            failure = "INTERNAL_FAILURE"  # the organization was deleted meanwhile
        if failure:
            _finish(tx, status, "FAILED", failure)
        else:
            org = current.value
            account = status["AccountId"]
            st.put_member(
                tx,
                {
                    "Id": account, "Arn": st.resource_arn(org, "account", account), "Email": email,
                    "Name": req["AccountName"], "Org": org["Id"], "Parent": org["RootId"],
                    "JoinedMethod": "CREATED", "JoinedTimestamp": clock.now(),
                },
            )
            st.attach_defaults(tx, org, account)
            if tags:
                st.put_tags(tx, org, account, tags)
            _finish(tx, status, "SUCCEEDED")
    return {"CreateAccountStatus": answer}


def _make_access_role(ctx: Context, account: str, role_name: str, master: str) -> str | None:
    """The role the management account assumes into the new account, with full access.
    Returns a FailureReason, or None when the role is in place."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:{ctx.partition}:iam::{master}:root"}, "Action": "sts:AssumeRole"}
        ],
    }
    iam = ctx.aws("iam", account=account, principal="organizations.amazonaws.com")
    try:
        iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust))
        iam.attach_role_policy(RoleName=role_name, PolicyArn=_ADMIN_POLICY.replace("arn:aws:", f"arn:{ctx.partition}:"))
    except ServiceError as err:
        if err.code == "NotImplemented":
            # a cloudlet without IAM's role operations: the account is still usable by its root
            log.warning("organizations: account %s created without role %s (%s)", account, role_name, err.message)
            return None
        log.error("organizations: creating role %s in %s failed: %s %s", role_name, account, err.code, err.message)
        return "INTERNAL_FAILURE"
    return None


def describe_create_account_status(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    rid = req["CreateAccountRequestId"]
    if not _REQUEST_ID.match(rid):
        raise errors.invalid("INVALID_PATTERN")
    with st.reading(ctx) as tx:
        org = st.manager_org(tx, ctx, delegated_read=True)
        rec = tx.get(st.STATUS, rid)
    if rec is None or rec.value["Org"] != org["Id"]:
        raise errors.create_status_not_found()
    return {"CreateAccountStatus": _status_shape(rec.value)}


def list_create_account_status(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    states = set(req.get("States") or ())
    with st.reading(ctx) as tx:
        org = st.manager_org(tx, ctx, delegated_read=True)
        found = [r.value for r in tx.find(st.STATUS, "org", org["Id"])]
    found = [s for s in found if not states or s["State"] in states]
    found.sort(key=lambda s: (s["RequestedTimestamp"], s["Id"]))
    return st.paged({}, "CreateAccountStatuses", [_status_shape(s) for s in found], req)


def list_accounts(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    with st.reading(ctx) as tx:
        org = st.manager_org(tx, ctx, delegated_read=True)
        accounts = [st.account_shape(tx, org, m) for m in st.all_members(tx, org)]
    return st.paged({}, "Accounts", accounts, req)


def _account_id(value: str) -> str:
    if not _ACCOUNT_ID.match(value):
        raise errors.invalid("INVALID_PATTERN")
    return value


def describe_account(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    account = _account_id(req["AccountId"])
    with st.reading(ctx) as tx:
        org = st.manager_org(tx, ctx, delegated_read=True)
        m = st.member_of(tx, org, account)
        if m is None:
            raise errors.account_not_found()
        return {"Account": st.account_shape(tx, org, m)}


def list_accounts_for_parent(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    with st.reading(ctx) as tx:
        org = st.manager_org(tx, ctx, delegated_read=True)
        if not st.is_container(tx, org, req["ParentId"]):
            raise errors.parent_not_found()
        accounts, _ = st.children(tx, org, req["ParentId"])
        shapes = [st.account_shape(tx, org, m) for m in accounts]
    return st.paged({}, "Accounts", shapes, req)


def move_account(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    account = _account_id(req["AccountId"])
    source, dest = req["SourceParentId"], req["DestinationParentId"]
    with st.writing(ctx) as tx:
        org = st.manager_org(tx, ctx)
        m = st.member_of(tx, org, account)
        if m is None:
            raise errors.account_not_found()
        if not st.is_container(tx, org, source):
            raise errors.source_parent_not_found()
        if not st.is_container(tx, org, dest):
            raise errors.destination_parent_not_found()
        if m["Parent"] != source:
            raise errors.account_not_found()  # not in that source: AWS reports the account
        if source == dest:
            raise errors.duplicate_account()
        m["Parent"] = dest
        st.put_member(tx, m)
    return {}


def _remove(tx: Any, org: dict, account: str) -> None:
    m = st.member_of(tx, org, account)
    if m is None:
        raise errors.account_not_found()
    if account == org["MasterAccountId"]:
        raise errors.master_cannot_leave()
    if st.is_delegated_admin(tx, org, account):
        raise errors.constraint("CANNOT_REMOVE_DELEGATED_ADMINISTRATOR_FROM_ORG")
    tx.delete(st.MEMBER, account)
    st.forget_target(tx, org, account)


def remove_account_from_organization(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    account = _account_id(req["AccountId"])
    with st.writing(ctx) as tx:
        org = st.manager_org(tx, ctx)
        _remove(tx, org, account)
    return {}


def leave_organization(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    """A member account leaves on its own; the management account cannot."""
    with st.writing(ctx) as tx:
        org = st.caller_org(tx, ctx)
        _remove(tx, org, ctx.account)
    return {}
