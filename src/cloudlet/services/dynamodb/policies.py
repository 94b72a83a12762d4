"""Resource-based policies: PutResourcePolicy, GetResourcePolicy, DeleteResourcePolicy.

A table and each of its streams have a policy slot of their own (kind ``rp``, key ``table
id + "t"`` or ``table id + "s" + stream label``), so a table re-created under the same
name starts without its predecessor's policy. A policy is checked as DynamoDB checks it
(JSON, statements, unique Sids, size, no unbounded public grant) and kept with a revision
id (milliseconds on the cloudlet clock, increasing per slot) that ``ExpectedRevisionId``
guards. Policies are stored only: evaluating them is the IAM engine's job.
"""

from __future__ import annotations

import json
from typing import Any

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.core.store import Tx
from cloudlet.services.dynamodb import storage, streamlog
from cloudlet.services.dynamodb.errors import invalid

Input = dict[str, Any]
Output = dict[str, Any]

KIND = "rp"
MAX_SIZE = 20480
NO_POLICY = "NO_POLICY"
_PREFIX = "One or more parameter values were invalid: "


def _not_found(message: str) -> ServiceError:
    return ServiceError("PolicyNotFoundException",
                        "Resource-based policy not found for the provided ResourceArn: " + message, 400)


def _slot(ctx: Context, t: Tx, arn: str) -> tuple[str, bytes | None]:
    """The table name and the policy slot an ARN names (None: a stream whose table is gone,
    which has no policy)."""
    if not arn.startswith("arn:"):
        raise invalid(_PREFIX + f"ARNs must start with 'arn:': {arn}")
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[2] != "dynamodb" or not parts[5].startswith("table/"):
        raise invalid(_PREFIX + f"Provided Arn is not a DynamoDB resource arn: {arn}")
    partition, region, account, resource = parts[1], parts[3], parts[4], parts[5]
    if account != ctx.account:
        raise invalid("This action is only supported by accounts that match the resource owner\u2019s account.")
    if partition != ctx.partition or region != ctx.region:
        raise invalid(_PREFIX + f"Invalid resource Arn: {arn}")
    path = resource[len("table/"):].split("/")
    name = path[0]
    if len(path) >= 2 and path[1] == "index":
        raise invalid(_PREFIX + "Invalid resource arn provided, only table or stream is accepted. Provided resource "
                       f"arn: {arn}")
    if len(path) == 1:
        table = storage.find_table(t, name)
        if table is None:
            raise storage.not_found(name)
        return name, table["id"] + b"t"
    if len(path) == 3 and path[1] == "stream":
        stream = t.get(streamlog.KIND, arn)
        table = storage.find_table(t, name)
        if stream is None:
            if table is None:
                raise storage.not_found(name)
            raise ServiceError("ResourceNotFoundException",
                               f"Requested resource not found: Stream: {path[2]} not found for Table: {name}", 400)
        if table is None or table["id"] != stream.value["tid"]:
            return name, None
        return name, table["id"] + b"s" + path[2].encode()
    raise invalid(_PREFIX + f"Provided Arn is not a DynamoDB resource arn: {arn}")


def _check_policy(text: str) -> None:
    bad = _PREFIX + "Invalid policy document: "
    if len(text.encode()) > MAX_SIZE:
        raise invalid(_PREFIX + f"Maximum policy size of {MAX_SIZE} bytes exceeded")
    try:
        doc = json.loads(text)
    except ValueError:
        raise invalid(bad + "This policy contains invalid Json") from None
    if not isinstance(doc, dict):
        raise invalid(bad + "This policy contains invalid Json")
    statements = doc.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not statements or not isinstance(statements, list):
        raise invalid(bad + "Could not parse the policy: Statement is empty!")
    sids = [s.get("Sid") for s in statements if isinstance(s, dict) and s.get("Sid") is not None]
    if len(sids) != len(set(sids)):
        raise invalid(bad + "The Statement Ids in the policy are not unique")
    for s in statements:
        if not isinstance(s, dict):
            raise invalid(bad + "This policy contains invalid Json")
        for field, alternative in (("Effect", None), ("Action", "NotAction"), ("Resource", "NotResource"),
                                   ("Principal", "NotPrincipal")):
            if field not in s and (alternative is None or alternative not in s):
                raise invalid(bad + f"Missing required field {field}")
        if s["Effect"] not in ("Allow", "Deny"):
            raise invalid(bad + f"Invalid effect: {s['Effect']}")
        if s["Effect"] == "Allow" and _public(s.get("Principal")) and not s.get("Condition"):
            raise invalid("Resource-based policy grants unbounded access in one or more elements. Please revise the "
                           "policy to ensure least-privilege form of access")


def _public(principal: Any) -> bool:
    """A principal of everyone (DynamoDB refuses policies that grant public access)."""
    if principal == "*":
        return True
    if isinstance(principal, dict):
        aws = principal.get("AWS")
        return aws == "*" or (isinstance(aws, list) and "*" in aws)
    return False


def _check_expected(current: dict[str, Any] | None, expected: str | None, name: str, arn: str) -> None:
    if expected is None:
        return
    if expected == NO_POLICY:
        if current is not None:
            raise _not_found(f"Requested policy update expecting none to be present for table {name}, but a policy "
                             f"exists with revision id {current['revision']}.")
        return
    if current is None:
        raise _not_found(arn)
    if current["revision"] != expected:
        raise _not_found(f"Requested update for policy with revision id {expected}, but the policy associated to "
                         f"target table {name} has revision id {current['revision']}.")


def put_resource_policy(ctx: Context, req: Input) -> Output:
    arn, text = req["ResourceArn"], req["Policy"]
    with ctx.tx() as t:
        name, slot = _slot(ctx, t, arn)
        if slot is None:
            raise storage.not_found(name)
        _check_policy(text)
        rec = t.get(KIND, slot)
        current = None if rec is None else rec.value
        _check_expected(current, req.get("ExpectedRevisionId"), name, arn)
        if current is not None and current["policy"] == text:
            return {"RevisionId": current["revision"]}  # the same policy again changes nothing
        revision = int(clock.time_s() * 1000)
        if current is not None:
            revision = max(revision, int(current["revision"]) + 1)
        t.put(KIND, slot, {"policy": text, "revision": str(revision), "arn": arn})
    return {"RevisionId": str(revision)}


def get_resource_policy(ctx: Context, req: Input) -> Output:
    arn = req["ResourceArn"]
    with ctx.tx() as t:
        _, slot = _slot(ctx, t, arn)
        rec = None if slot is None else t.get(KIND, slot)
    if rec is None:
        raise _not_found(arn)
    return {"Policy": rec.value["policy"], "RevisionId": rec.value["revision"]}


def delete_resource_policy(ctx: Context, req: Input) -> Output:
    arn = req["ResourceArn"]
    with ctx.tx() as t:
        name, slot = _slot(ctx, t, arn)
        rec = None if slot is None else t.get(KIND, slot)
        if slot is None or rec is None:
            raise _not_found(arn)
        _check_expected(rec.value, req.get("ExpectedRevisionId"), name, arn)
        t.delete(KIND, slot)
    return {"RevisionId": rec.value["revision"]}
