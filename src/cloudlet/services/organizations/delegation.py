"""Trusted access for AWS services and their delegated administrators.

A delegated administrator is a member account registered for a service principal; it
may then read the organization (the List/Describe operations) from its own account.
How many administrators a service allows, and whether it needs trusted access first,
differs per service in AWS; cloudlet does not limit either.
"""

from __future__ import annotations

import re
from typing import Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.services.organizations import errors, storage as st

_PRINCIPAL = re.compile(r"^[a-z0-9][a-z0-9.-]*\.amazonaws\.com(\.cn)?$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")


def _principal(value: str) -> str:
    if not _PRINCIPAL.match(value):
        raise errors.invalid("UNRECOGNIZED_SERVICE_PRINCIPAL")
    return value


def _member(tx: Any, org: dict, account: str) -> dict:
    if not _ACCOUNT_ID.match(account):
        raise errors.invalid("INVALID_PATTERN")
    m = st.member_of(tx, org, account)
    if m is None:
        raise errors.account_not_found()
    return m


def register_delegated_administrator(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    principal = _principal(req["ServicePrincipal"])
    with st.writing(ctx) as tx:
        org = st.manager_org(tx, ctx)
        m = _member(tx, org, req["AccountId"])
        if m["Id"] == org["MasterAccountId"]:
            raise errors.constraint("CANNOT_REGISTER_MASTER_AS_DELEGATED_ADMINISTRATOR")
        key = f"{org['Id']}/{m['Id']}/{principal}"
        if tx.get(st.DELEGATED, key) is not None:
            raise errors.already_registered()
        tx.put(st.DELEGATED, key, {"Account": m["Id"], "ServicePrincipal": principal, "DelegationEnabledDate": clock.now()})
    return {}


def deregister_delegated_administrator(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    principal = _principal(req["ServicePrincipal"])
    with st.writing(ctx) as tx:
        org = st.manager_org(tx, ctx)
        m = _member(tx, org, req["AccountId"])
        if not tx.delete(st.DELEGATED, f"{org['Id']}/{m['Id']}/{principal}"):
            raise errors.not_registered()
    return {}


def list_delegated_administrators(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    wanted = req.get("ServicePrincipal")
    if wanted:
        _principal(wanted)
    with st.reading(ctx) as tx:
        org = st.manager_org(tx, ctx, delegated_read=True)
        first: dict[str, Any] = {}
        for rec in tx.scan(st.DELEGATED, org["Id"] + "/"):
            d = rec.value
            if wanted and d["ServicePrincipal"] != wanted:
                continue
            if d["Account"] not in first or d["DelegationEnabledDate"] < first[d["Account"]]:
                first[d["Account"]] = d["DelegationEnabledDate"]
        admins = []
        for account, since in first.items():
            m = st.member_of(tx, org, account)
            if m is None:
                continue
            shape = st.account_shape(tx, org, m)
            shape.pop("Paths", None)  # not a member of DelegatedAdministrator
            admins.append({**shape, "DelegationEnabledDate": since})
    return st.paged({}, "DelegatedAdministrators", admins, req)


def list_delegated_services_for_account(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    with st.reading(ctx) as tx:
        org = st.manager_org(tx, ctx, delegated_read=True)
        m = _member(tx, org, req["AccountId"])
        found = [
            {"ServicePrincipal": r.value["ServicePrincipal"], "DelegationEnabledDate": r.value["DelegationEnabledDate"]}
            for r in tx.scan(st.DELEGATED, f"{org['Id']}/{m['Id']}/")
        ]
    if not found:
        raise errors.not_registered()
    return st.paged({}, "DelegatedServices", found, req)


def enable_aws_service_access(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    principal = _principal(req["ServicePrincipal"])
    with st.writing(ctx) as tx:
        org = st.manager_org(tx, ctx)
        if org["FeatureSet"] != "ALL":
            raise errors.constraint("ORGANIZATION_NOT_IN_ALL_FEATURES_MODE")
        if principal not in org["Services"]:
            org["Services"][principal] = clock.now()
            st.save_org(tx, org)
    return {}


def disable_aws_service_access(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    principal = _principal(req["ServicePrincipal"])
    with st.writing(ctx) as tx:
        org = st.manager_org(tx, ctx)
        if org["Services"].pop(principal, None) is not None:
            st.save_org(tx, org)
    return {}


def list_aws_service_access_for_organization(ctx: Context, req: dict[str, Any]) -> dict[str, Any]:
    with st.reading(ctx) as tx:
        org = st.manager_org(tx, ctx, delegated_read=True)
    enabled = [{"ServicePrincipal": p, "DateEnabled": d} for p, d in sorted(org["Services"].items())]
    return st.paged({}, "EnabledServicePrincipals", enabled, req)
