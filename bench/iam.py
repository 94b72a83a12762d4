"""What IAM enforcement costs a request: the authorization check for a principal with 10
attached managed policies, in process, against the same calls with enforcement off.

    python -m bench.iam                 # 20,000 calls per phase
    python -m bench.iam --calls 2000 --output bench/results/iam-DATE.jsonl

Two gateways are built in this process on fresh in-memory state, one with `--enforce-iam`
and one without; the same IAM user (10 customer managed policies of 5 statements each,
with wildcards, a `${aws:username}` resource and conditions, plus a group and an inline
policy) calls through `Gateway.handle`, exactly as a request from uvicorn would, with the
same bytes. Measured (CPU time of this process, `time.process_time`):

- `check_us`: `IamAuthorizer.authorize` alone, per call (the policies gathered and judged);
- `handle_us` on and off: a whole DynamoDB GetItem and an S3 GetObject (a bucket with a
  policy) through the gateway, enforcement on and off; `added_us` is the difference, the
  number the target (under 50 µs) is about.

No HTTP here: the HTTP layer costs the same with enforcement on or off (bench.dynamodb and
bench.s3 measure it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

from bench.report import emit, note

USER_ACCOUNT = "123456789012"
TARGET_US = 50.0


def _request(target: str | None, body: Any, key: str, *, service: str = "dynamodb", method: str = "POST",
             path: str = "/", amz_json: bool = True) -> Any:
    from cloudlet.protocol.http import Request

    auth = (f"AWS4-HMAC-SHA256 Credential={key}/20261128/us-east-1/{service}/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64)
    headers = {"host": "localhost:4566", "authorization": auth, "x-amz-date": "20261128T000000Z"}
    if target:
        headers["x-amz-target"] = target
    if amz_json:
        headers["content-type"] = "application/x-amz-json-1.0"
        data = json.dumps(body).encode()
    else:
        headers["content-type"] = "application/x-www-form-urlencoded"
        data = body.encode() if isinstance(body, str) else b""
    return Request(method, path, "", headers, data)


def _policy(n: int) -> str:
    """A typical customer policy: 5 statements, wildcards, a variable, conditions."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": f"Tables{n}", "Effect": "Allow", "Action": ["dynamodb:Get*", "dynamodb:Query", "dynamodb:BatchGet*"],
         "Resource": f"arn:aws:dynamodb:*:{USER_ACCOUNT}:table/app-{n}*"},
        {"Sid": f"Home{n}", "Effect": "Allow", "Action": "s3:*",
         "Resource": f"arn:aws:s3:::home-{n}/${{aws:username}}/*"},
        {"Sid": f"Queues{n}", "Effect": "Allow", "Action": ["sqs:SendMessage", "sqs:ReceiveMessage"],
         "Resource": f"arn:aws:sqs:us-east-1:{USER_ACCOUNT}:jobs-{n}-*",
         "Condition": {"IpAddress": {"aws:SourceIp": ["127.0.0.0/8", "10.0.0.0/8"]}}},
        {"Sid": f"Read{n}", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
         "Resource": ["arn:aws:s3:::bench-data", "arn:aws:s3:::bench-data/*"],
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Sid": f"NoDelete{n}", "Effect": "Deny", "Action": "dynamodb:DeleteTable", "Resource": "*",
         "Condition": {"StringNotEquals": {"aws:PrincipalTag/team": "platform"}}},
    ]})


def _gateway(enforce: bool) -> Any:
    from cloudlet.server.config import Config
    from cloudlet.server.gateway import Gateway

    return Gateway(Config(ephemeral=True, enforce_iam=enforce))


def _call(loop: asyncio.AbstractEventLoop, gw: Any, req: Any) -> Any:
    return loop.run_until_complete(gw.handle(req))


def _query(action: str, **params: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"Action": action, "Version": "2010-05-08", **params})


def setup(loop: asyncio.AbstractEventLoop, gw: Any) -> str:
    """The user, its policies, a table, a bucket with a policy and an object; its key id."""
    root = USER_ACCOUNT

    def iam(action: str, **params: str) -> Any:
        resp = _call(loop, gw, _request(None, _query(action, **params), root, service="iam", amz_json=False))
        if resp.status != 200:
            raise RuntimeError(f"iam {action}: {resp.status} {resp.body[:300]!r}")
        return resp

    iam("CreateUser", UserName="bench")
    iam("CreateGroup", GroupName="readers")
    iam("AddUserToGroup", GroupName="readers", UserName="bench")
    iam("PutGroupPolicy", GroupName="readers", PolicyName="g", PolicyDocument=_policy(99))
    iam("PutUserPolicy", UserName="bench", PolicyName="own", PolicyDocument=_policy(98))
    for n in range(10):
        arn = f"arn:aws:iam::{USER_ACCOUNT}:policy/bench-{n}"
        iam("CreatePolicy", PolicyName=f"bench-{n}", PolicyDocument=_policy(n))
        iam("AttachUserPolicy", UserName="bench", PolicyArn=arn)
    body = iam("CreateAccessKey", UserName="bench").body.decode()
    key = body.split("<AccessKeyId>", 1)[1].split("<", 1)[0]

    ddb = "DynamoDB_20120810."
    for target, payload in (
        ("CreateTable", {"TableName": "app-3-orders", "BillingMode": "PAY_PER_REQUEST",
                         "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                         "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]}),
        ("PutItem", {"TableName": "app-3-orders", "Item": {"pk": {"S": "k"}, "v": {"N": "1"}}}),
    ):
        resp = _call(loop, gw, _request(ddb + target, payload, root))
        if resp.status != 200:
            raise RuntimeError(f"dynamodb {target}: {resp.status} {resp.body[:300]!r}")
    for method, path, data in (("PUT", "/bench-data", b""), ("PUT", "/bench-data/obj.txt", b"x" * 1024)):
        req = _request(None, None, root, service="s3", method=method, path=path, amz_json=False)
        req.body = data
        resp = _call(loop, gw, req)
        if resp.status != 200:
            raise RuntimeError(f"s3 {method} {path}: {resp.status} {resp.body[:300]!r}")
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket", "Resource": "arn:aws:s3:::bench-data"}]})
    req = _request(None, None, root, service="s3", method="PUT", path="/bench-data", amz_json=False)
    req.query, req.body = "policy", policy.encode()
    resp = _call(loop, gw, req)
    if resp.status not in (200, 204):
        raise RuntimeError(f"s3 PutBucketPolicy: {resp.status} {resp.body[:300]!r}")
    return key


def _per_call_us(fn: Any, calls: int) -> float:
    for _ in range(min(500, calls)):
        fn()
    t = time.process_time()
    for _ in range(calls):
        fn()
    return (time.process_time() - t) / calls * 1e6


def measure(calls: int) -> list[dict[str, Any]]:
    from cloudlet.auth.actions import iam_actions
    from cloudlet.auth.authorizer import AuthzRequest

    loop = asyncio.new_event_loop()
    on, off = _gateway(True), _gateway(False)
    keys = {id(on): setup(loop, on), id(off): setup(loop, off)}
    user_arn = f"arn:aws:iam::{USER_ACCOUNT}:user/bench"
    lines = []
    workloads = {
        "dynamodb.GetItem": lambda key: _request("DynamoDB_20120810.GetItem",
                                                 {"TableName": "app-3-orders", "Key": {"pk": {"S": "k"}}}, key),
        "s3.GetObject": lambda key: _request(None, None, key, service="s3", method="GET",
                                             path="/bench-data/obj.txt", amz_json=False),
    }
    for name, make in workloads.items():
        results = {}
        for label, gw in (("on", on), ("off", off)):
            req = make(keys[id(gw)])
            resp = _call(loop, gw, req)
            if resp.status != 200:
                raise RuntimeError(f"{name} with enforcement {label}: {resp.status} {resp.body[:300]!r}")
            results[label] = _per_call_us(lambda: _call(loop, gw, req), calls)
        service, op = name.split(".")
        resource = ("arn:aws:dynamodb:us-east-1:123456789012:table/app-3-orders" if service == "dynamodb"
                    else "arn:aws:s3:::bench-data/obj.txt")
        authz = AuthzRequest(principal_arn=user_arn, account=USER_ACCOUNT, service=service, operation=op,
                             actions=iam_actions(service, op), resources=(resource,),
                             conditions={"aws:SourceIp": "127.0.0.1", "aws:SecureTransport": False,
                                         "aws:CurrentTime": "2026-11-28T00:00:00Z"},
                             region="us-east-1", access_key=keys[id(on)], principal_account=USER_ACCOUNT)
        on.authorizer.authorize(authz)  # allowed, or this raises
        check = _per_call_us(lambda: on.authorizer.authorize(authz), calls)
        added = results["on"] - results["off"]
        lines.append({"bench": f"iam.{name}", "calls": calls, "policies_attached": 10,
                      "check_us": round(check, 1), "handle_on_us": round(results["on"], 1),
                      "handle_off_us": round(results["off"], 1), "added_us": round(added, 1),
                      "target_added_us": f"< {TARGET_US:g}", "met": added < TARGET_US})
    loop.close()
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.iam", description=__doc__.split("\n\n")[0])
    p.add_argument("--calls", type=int, default=20_000)
    p.add_argument("--output", default=None)
    args = p.parse_args(argv)
    note("bench.iam", f"{args.calls} calls per phase, in process")
    for line in measure(args.calls):
        emit(line, args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
