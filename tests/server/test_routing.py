"""Routing against what botocore really sends: every service, signed, presigned, unsigned.

For each service we build requests with a real botocore client (endpoint
``http://localhost:4566``, region ``eu-west-2``, SigV4-signed by botocore), stop them in
``before-send`` before any network, and assert that :func:`route` names the service and
the region, and that for REST services the router finds the operation again. Services
that share a signing name or target prefix (where routing has real work to do) get every
operation; the others get a few (all of them with ``CLOUDLET_DEEP=1``). Then: S3 and S3
Control in every addressing style, presigned and unsigned; every service unsigned to a
``<endpointPrefix>.<region>.…`` host; the cbor and query forms of multi-protocol
services; the index file; and the rules by hand.
"""

from __future__ import annotations

import gc
import os
import random
import time
from collections import Counter
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import botocore
import botocore.session
import pytest
from botocore import UNSIGNED, xform_name
from botocore.config import Config
from botocore.exceptions import ParamValidationError
from botocore.tokens import FrozenAuthToken
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudlet.auth.scope import credential_scope
from cloudlet.protocol.http import Request
from cloudlet.protocol.index import load_index
from cloudlet.protocol.model import service_names
from cloudlet.server.routing import DEFAULT_REGION, rest_router, route
from tests.protocol.shapegen import ShapeGen

ENDPOINT = "http://localhost:4566"
REGION = "eu-west-2"
DEEP = os.environ.get("CLOUDLET_DEEP") == "1"
REST = ("rest-json", "rest-xml")

# Services that AWS itself serves from another service's endpoint, indistinguishable on
# the wire: docdb and neptune are the rds API (same endpoint, actions and Version).
ALIASES = {"docdb": "rds", "neptune": "rds"}

# (service, operation) pairs that cannot reach their own service or operation, with the
# failure each must show and why. Every one is a case where the bytes on the wire are the
# same for two services (or two operations), so routing answers with the documented
# default (routing.DEFAULTS). The test fails if one starts to route right: remove it then.
XFAIL: dict[tuple[str, str], tuple[str, str]] = {}


def _xfail(service: str, ops: str, problem: str, why: str) -> None:
    for op in ops.split():
        XFAIL[(service, op)] = (problem, why)


_TAGS = "ListTagsForResource TagResource UntagResource"
# Sibling services that sign with the same name and tag through the same paths
# (GET/POST/DELETE /tags/{resourceArn}...): only the ARN's resource type differs.
_xfail("bedrock-agent-runtime", _TAGS, "tie with bedrock-agent", "same /tags/{resourceArn} as bedrock-agent")
_xfail("bedrock-data-automation", _TAGS, "tie with bedrock", "same /listTagsForResource... as bedrock")
for _svc in ("chime-sdk-identity", "chime-sdk-media-pipelines", "chime-sdk-meetings", "chime-sdk-messaging"):
    _xfail(_svc, _TAGS, "tie with chime-sdk-voice", "all chime-sdk-* share /tags?operation=...")
_xfail("ivs-realtime", _TAGS, "tie with ivs", "same /tags/{resourceArn} as ivs")
_xfail("lex-models", _TAGS, "tie with lexv2-models", "same /tags/{resourceArn} as lexv2-models")
_xfail("lex-models", "StartImport", "tie with lexv2-models", "PUT /imports/ in both Lex versions")
# The same API published under two names; the newer one answers.
_xfail(
    "greengrass",
    _TAGS + " AssociateServiceRoleToAccount DisassociateServiceRoleFromAccount GetServiceRoleForAccount"
    " GetConnectivityInfo UpdateConnectivityInfo",
    "tie with greengrassv2",
    "greengrassv2 carries v1's account-level and tagging operations verbatim",
)
_xfail(
    "chime",
    "BatchDeletePhoneNumber BatchUpdatePhoneNumber CreatePhoneNumberOrder DeletePhoneNumber GetGlobalSettings"
    " GetPhoneNumber GetPhoneNumberOrder GetPhoneNumberSettings ListPhoneNumberOrders ListPhoneNumbers"
    " ListSupportedPhoneNumberCountries RestorePhoneNumber SearchAvailablePhoneNumbers UpdateGlobalSettings"
    " UpdatePhoneNumber UpdatePhoneNumberSettings",
    "tie with chime-sdk-voice",
    "legacy Chime's phone-number API moved to chime-sdk-voice unchanged",
)
_xfail("signer-data", "GetRevocationStatus", "tie with signer", "signer has the identical GET /revocations")
_xfail(
    "sms-voice",
    "CreateConfigurationSet CreateConfigurationSetEventDestination DeleteConfigurationSet"
    " DeleteConfigurationSetEventDestination GetConfigurationSetEventDestinations ListConfigurationSets"
    " SendVoiceMessage UpdateConfigurationSetEventDestination",
    "tie with pinpoint-sms-voice",
    "sms-voice and pinpoint-sms-voice are one API (same endpoint, paths and signing name)",
)
_xfail(
    "wisdom",
    "CreateAssistant CreateAssistantAssociation CreateContent CreateKnowledgeBase CreateQuickResponse"
    " CreateSession DeleteAssistant DeleteAssistantAssociation DeleteContent DeleteImportJob DeleteKnowledgeBase"
    " DeleteQuickResponse GetAssistant GetAssistantAssociation GetContent GetContentSummary GetImportJob"
    " GetKnowledgeBase GetQuickResponse GetRecommendations GetSession ListAssistantAssociations ListAssistants"
    " ListContents ListImportJobs ListKnowledgeBases ListQuickResponses NotifyRecommendationsReceived"
    " QueryAssistant RemoveKnowledgeBaseTemplateUri SearchContent SearchQuickResponses SearchSessions"
    " StartContentUpload StartImportJob UpdateContent UpdateKnowledgeBaseTemplateUri UpdateQuickResponse " + _TAGS,
    "tie with qconnect",
    "qconnect (Amazon Q in Connect) is wisdom renamed: same endpoint, signing name and paths",
)
# One X-Amz-Target prefix (Timestream_20181101) for both Timestream APIs; these
# operations exist in both, so the target names no single service.
_xfail(
    "timestream-query",
    "DescribeEndpoints " + _TAGS,
    "routed to timestream-write",
    "shared target prefix and operation name",
)
# S3 operations whose requests are identical to another's.
for _old in ("GetBucketLifecycle", "PutBucketLifecycle", "GetBucketNotification", "PutBucketNotification"):
    _xfail("s3", _old, f"REST matched {_old}Configuration", "deprecated twin of the *Configuration operation")
_xfail(
    "s3",
    "ListDirectoryBuckets",
    "REST matched ListBuckets",
    "GET / like ListBuckets; only the s3express signing name (or the s3express-control host) differs",
)

_SESSION = botocore.session.get_session()


class Captured(Exception):
    """Raised from before-send: the prepared request, never sent."""

    def __init__(self, prepared: Any) -> None:
        super().__init__("captured")
        self.prepared = prepared


def _stop(request: Any, **_: Any) -> None:
    raise Captured(request)


@lru_cache(maxsize=None)
def client(name: str, endpoint: str = ENDPOINT, unsigned: bool = False, addressing: str | None = None) -> Any:
    cfg: dict[str, Any] = {"retries": {"max_attempts": 0}}
    if unsigned:
        cfg["signature_version"] = UNSIGNED
    if addressing:
        cfg["s3"] = {"addressing_style": addressing}
    c = _SESSION.create_client(
        name,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(**cfg),
    )
    if c.meta.service_model.signature_version == "bearer":  # codecatalyst
        c._request_signer._auth_token = FrozenAuthToken("token")
    c.meta.events.register("before-send", _stop)
    return c


@pytest.fixture(scope="module", autouse=True)
def _free_clients():
    """850 botocore clients are slow to tear down at interpreter exit; free them here."""
    yield
    client.cache_clear()
    gc.collect()


# --- parameters ----------------------------------------------------------------------

S3_KEY = "photos/2024//a b+c/../ü%.txt"
_OVERRIDES = {
    "Bucket": "my-bucket",
    "AccountId": "123456789012",
    "KvsARN": "arn:aws:cloudfront::123456789012:key-value-store/0123456789abcdef",
    "PredictEndpoint": ENDPOINT,  # machinelearning.Predict sends to this URL
}


def params_for(c: Any, op_name: str, seed: int = 0) -> dict[str, Any]:
    om = c.meta.service_model.operation_model(op_name)
    if om.input_shape is None:
        return {}
    gen = ShapeGen(random.Random(f"{op_name}/{seed}"), max_depth=4 + seed * 2, optional_p=0)
    params = gen.gen(om.input_shape)
    for member, shape in om.input_shape.members.items():
        if member not in params:
            continue
        if shape.serialization.get("hostLabel") or member == "AccountId":
            params[member] = _OVERRIDES.get(member, "abc123")
        elif member in _OVERRIDES and shape.type_name == "string":
            params[member] = _OVERRIDES[member]
        elif member == "Key" and c.meta.service_model.service_name == "s3":
            params[member] = S3_KEY
    return params


def capture(c: Any, op_name: str, presign: bool = False) -> tuple[Request, dict[str, Any]] | None:
    """What botocore would put on the wire for `op_name` (and the params it was given);
    None if botocore refuses to build it."""
    method = xform_name(op_name)
    for seed in range(3):
        params = params_for(c, op_name, seed)
        try:
            if presign:
                url = c.generate_presigned_url(method, Params=params)
                parts = urlsplit(url)
                om = c.meta.service_model.operation_model(op_name)
                # Whoever uses a presigned URL still sends the operation's own headers
                # (x-amz-copy-source for CopyObject...): the URL cannot carry them.
                headers = {"host": parts.netloc}
                for member, shape in om.input_shape.members.items():
                    value = params.get(member)
                    if shape.serialization.get("location") == "header" and value is not None:
                        value = ",".join(map(str, value)) if isinstance(value, list) else str(value)
                        headers[shape.serialization["name"].lower()] = value
                return Request(om.http["method"], parts.path or "/", parts.query, headers), params
            getattr(c, method)(**params)
        except Captured as cap:
            return to_request(cap.prepared), params
        except ParamValidationError:
            continue
        except Exception:  # botocore cannot send it (event-stream input, endpoint rules...)
            return None
    return None


def to_request(prepared: Any) -> Request:
    parts = urlsplit(prepared.url)
    headers = {}
    for k, v in prepared.headers.items():
        headers[k.lower()] = v.decode() if isinstance(v, bytes) else v
    headers.setdefault("host", parts.netloc)
    body = prepared.body
    if body is None:
        body = b""
    elif isinstance(body, str):
        body = body.encode()
    elif not isinstance(body, bytes):
        body = body.read() if hasattr(body, "read") else bytes(body)
    return Request(prepared.method, parts.path or "/", parts.query, headers, body)


# --- which operations ------------------------------------------------------------------


@lru_cache(maxsize=1)
def shared() -> frozenset[str]:
    """Services whose signing name or target prefix another service shares."""
    idx = load_index()
    out: set[str] = set()
    for table in (idx.by_signing_name, idx.by_target_prefix):
        for names in table.values():
            if len(names) > 1:
                out.update(names)
    return frozenset(out)


def ops_for(name: str) -> list[str]:
    c = client(name)
    model = c.meta.service_model
    ops = sorted(model.operation_names)
    if DEEP or name in shared():
        return ops
    picked = {ops[0], ops[len(ops) // 3], ops[2 * len(ops) // 3], ops[-1]}
    for op in ops:  # every operation botocore sends unsigned
        om = model.operation_model(op)
        if om.auth_type == "none" or om.metadata.get("auth") == ["smithy.api#noAuth"]:
            picked.add(op)
    return sorted(picked)


def expected_service(name: str) -> str:
    return ALIASES.get(name, name)


# --- checks ------------------------------------------------------------------------------

RESULTS: Counter[str] = Counter()
UNBUILDABLE: set[tuple[str, str]] = set()

# Operations botocore itself cannot put on the wire here; anything else that fails to
# build is a test failure, so coverage cannot shrink unnoticed.
_EVENT_STREAM_INPUT = "botocore has no method for bidirectional event-stream (HTTP/2) input"
KNOWN_UNBUILDABLE = {
    ("bedrock-runtime", "InvokeModelWithBidirectionalStream"): _EVENT_STREAM_INPUT,
    ("lexv2-runtime", "StartConversation"): _EVENT_STREAM_INPUT,
    ("polly", "StartSpeechSynthesisStream"): _EVENT_STREAM_INPUT,
    ("qbusiness", "Chat"): _EVENT_STREAM_INPUT,
    ("connecthealth", "StartMedicalScribeListeningSession"): _EVENT_STREAM_INPUT,
    # SigV4a signing needs awscrt, which is not a dependency (test_sigv4a_scope_names_the_service
    # routes a SigV4a request by hand instead).
    **{
        ("cloudfront-keyvaluestore", op): "SigV4a needs awscrt"
        for op in ("DeleteKey", "DescribeKeyValueStore", "GetKey", "ListKeys", "PutKey", "UpdateKeys")
    },
    # importexport signs with SigV2, which botocore applies even to an UNSIGNED client.
    ("importexport", "CancelJob"): "SigV2 needs credentials even when unsigned",
    ("importexport", "CreateJob"): "SigV2 needs credentials even when unsigned",
    ("importexport", "GetShippingLabel"): "SigV2 needs credentials even when unsigned",
    ("importexport", "GetStatus"): "SigV2 needs credentials even when unsigned",
    ("importexport", "ListJobs"): "SigV2 needs credentials even when unsigned",
    ("importexport", "UpdateJob"): "SigV2 needs credentials even when unsigned",
}


def expected_region(req: Request) -> str:
    """SigV4 carries the region; without it only a Host like ``sqs.eu-west-2.…`` does."""
    if credential_scope(req) is not None or REGION in req.host:
        return REGION
    return DEFAULT_REGION


def check(name: str, op_name: str, req: Request, labels: dict[str, str] | None = None) -> str | None:
    """None if `req` routes to `name` (and, for REST, `op_name`) in its region; else what went wrong.

    A request routed to a sibling service is reported as a "tie" when the sibling's router
    matches it at least as specifically as our own: the bytes cannot tell them apart.
    """
    r = route(req)
    if r is None:
        return "unroutable"
    want = expected_service(name)
    if r.service != want:
        if load_index().services[name].protocol in REST and load_index().services[r.service].protocol in REST:
            mine = rest_router(name).match_scored(req.method, req.path, req.query, req.headers)
            theirs = rest_router(r.service).match_scored(
                r.request.method, r.request.path, r.request.query, r.request.headers
            )
            if mine is not None and theirs is not None and theirs[2] >= mine[2]:
                return f"tie with {r.service}"
        return f"routed to {r.service}"
    if r.region != expected_region(req):
        return f"region {r.region}"
    if load_index().services[name].protocol in REST and want == name:
        hit = rest_router(name).match(r.request.method, r.request.path, r.request.query, r.request.headers)
        if hit is None:
            return f"no REST match for {r.request.method} {r.request.path}?{r.request.query}"
        if hit[0].name != op_name:
            return f"REST matched {hit[0].name}"
        for k, v in (labels or {}).items():
            if hit[1].get(k) != v:
                return f"label {k}={hit[1].get(k)!r}, want {v!r}"
    return None


def _uri_labels(c: Any, op_name: str, params: dict[str, Any]) -> dict[str, str]:
    om = c.meta.service_model.operation_model(op_name)
    out = {}
    if om.input_shape is None:
        return out
    for member, shape in om.input_shape.members.items():
        if shape.serialization.get("location") == "uri" and isinstance(params.get(member), str):
            out[shape.serialization.get("name", member)] = params[member]
    return out


def sweep(name: str, ops: list[str] | None = None, presign: bool = False, **client_kw: Any) -> dict[str, str | None]:
    """op -> None (routed right) or the failure, for the operations chosen for `name`."""
    c = client(name, **client_kw)
    out: dict[str, str | None] = {}
    for op in ops_for(name) if ops is None else ops:
        got = capture(c, op, presign=presign)
        if got is None:
            RESULTS["unbuildable"] += 1
            UNBUILDABLE.add((name, op))
            if (name, op) not in KNOWN_UNBUILDABLE:
                out[op] = "botocore could not build it"
            continue
        req, params = got
        out[op] = check(name, op, req, labels=_uri_labels(c, op, params))
    return out


def assert_sweep(name: str, outcomes: dict[str, str | None], variant: str = "signed") -> None:
    """Every outcome is a success or exactly its listed XFAIL; count both."""
    bad = {}
    for op, problem in outcomes.items():
        known = XFAIL.get((name, op))
        if problem is None:
            RESULTS["routed"] += 1
            # Listed pairs must keep failing where they were listed (signed to localhost);
            # other variants may tell them apart by Host (data-signer.… is signer-data).
            assert known is None or variant != "signed", f"{name}.{op} routes now: remove it from XFAIL ({known[1]})"
        elif known is not None and problem == known[0]:
            RESULTS["xfail"] += 1
        else:
            bad[op] = problem
    assert not bad, f"{name} ({variant}): {bad}"


@pytest.mark.parametrize("name", service_names())
def test_every_service_routes_what_botocore_sends(name: str) -> None:
    assert_sweep(name, sweep(name))


def _all_ops(name: str) -> list[str]:
    return sorted(client(name).meta.service_model.operation_names)


S3_VARIANTS = {
    "virtual-localhost": dict(addressing="virtual"),
    "virtual-s3-host": dict(addressing="virtual", endpoint="http://s3.localhost.localstack.cloud:4566"),
    "path-s3-host": dict(addressing="path", endpoint="http://s3.eu-west-2.localhost.localstack.cloud:4566"),
    "unsigned-path": dict(addressing="path", unsigned=True),
    "unsigned-virtual": dict(addressing="virtual", unsigned=True),
    "presigned-path": dict(addressing="path", presign=True),
    "presigned-virtual": dict(addressing="virtual", presign=True),
}


@pytest.mark.parametrize("variant", sorted(S3_VARIANTS))
@pytest.mark.parametrize("name", ["s3", "s3control"])
def test_s3_addressing_styles(name: str, variant: str) -> None:
    """Every S3 and S3 Control operation, virtual-host and path style, presigned, unsigned."""
    kw = dict(S3_VARIANTS[variant])
    presign = kw.pop("presign", False)
    if name == "s3control" and kw.get("unsigned"):
        pytest.skip("s3control has no unsigned operations")
    ops = [op for op in _all_ops(name) if not (presign and _has_body(name, op))]
    assert_sweep(name, sweep(name, ops, presign=presign, **kw), variant)


def _has_body(name: str, op: str) -> bool:
    """A presigned URL carries no body: presign only operations without one."""
    shape = client(name).meta.service_model.operation_model(op).input_shape
    return shape is not None and any(
        "location" not in m.serialization for m in shape.members.values()
    )


def _host_endpoint(name: str) -> str:
    return f"http://{load_index().services[name].endpoint_prefix}.{REGION}.localhost.localstack.cloud:4566"


@pytest.mark.parametrize("name", service_names())
def test_unsigned_requests_route_by_host(name: str) -> None:
    """Unsigned, to ``<endpointPrefix>.<region>.…`` as AWS hosts are named: the Host decides."""
    assert_sweep(name, sweep(name, ops_for(name)[:2], endpoint=_host_endpoint(name), unsigned=True), "by-host")


# --- the index --------------------------------------------------------------------------


def test_committed_index_matches_a_fresh_build() -> None:
    """Regenerate with ``python -m cloudlet.protocol.index`` when botocore changes."""
    from cloudlet.protocol import index

    with open(index.INDEX_PATH, "rb") as f:
        assert f.read() == index.dumps(index.build())


def test_a_stale_index_is_rebuilt_and_rewritten(tmp_path, monkeypatch) -> None:
    import orjson

    from cloudlet.protocol import index

    stale = tmp_path / "service_index.json"
    data = orjson.loads(open(index.INDEX_PATH, "rb").read())
    data["botocoreVersion"] = "0.0.1"
    del data["services"]["sqs"]
    stale.write_bytes(orjson.dumps(data))
    monkeypatch.setattr(index, "INDEX_PATH", str(stale))
    fresh = index.load_index.__wrapped__()
    assert "sqs" in fresh.services
    assert orjson.loads(stale.read_bytes())["botocoreVersion"] == botocore.__version__

    def read_only(path: str) -> None:
        raise OSError("read-only")

    stale.write_bytes(orjson.dumps(data))
    monkeypatch.setattr(index, "write", read_only)
    assert "sqs" in index.load_index.__wrapped__().services  # served from memory


def test_path_prefix() -> None:
    from cloudlet.protocol.index import path_prefix

    assert path_prefix("/2015-03-31/functions/{FunctionName}/invocations") == "/2015-03-31/functions"
    assert path_prefix("/2015-03-31/functions/") == "/2015-03-31/functions"
    assert path_prefix("/{Bucket}/{Key+}?uploads") == ""
    assert path_prefix("/v20180820/mrap/instances/{name+}/policy") == "/v20180820/mrap/instances"
    assert path_prefix("/") == ""


def test_startup_and_signed_routing_load_no_model() -> None:
    """The index loads fast, and json/cbor/query/S3 requests route without a model."""
    import subprocess
    import sys

    code = """
import time
t = time.perf_counter()
from cloudlet.protocol.index import load_index
load_index()
took = time.perf_counter() - t
from cloudlet.protocol.http import Request
from cloudlet.protocol.model import load_service
from cloudlet.server.routing import route
A = "AWS4-HMAC-SHA256 Credential=k/20260101/eu-west-1/{}/aws4_request, SignedHeaders=host, Signature=0"
reqs = [
    Request("POST", "/", headers={"x-amz-target": "DynamoDB_20120810.GetItem", "authorization": A.format("dynamodb")}),
    Request("POST", "/service/GraniteServiceVersion20100801/operation/GetMetricData",
            headers={"smithy-protocol": "rpc-v2-cbor", "authorization": A.format("monitoring")}),
    Request("POST", "/", headers={"content-type": "application/x-www-form-urlencoded", "authorization": A.format("sqs")},
            body=b"Action=SendMessage"),
    Request("GET", "/k", headers={"host": "b.localhost:4566", "authorization": A.format("s3")}),
    Request("GET", "/2015-03-31/functions/", headers={"authorization": A.format("lambda")}),
]
print([route(r).service for r in reqs], load_service.cache_info().currsize, took)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[:5] == ["['dynamodb',", "'cloudwatch',", "'sqs',", "'s3',", "'lambda']"]
    assert out[5] == "0"
    assert float(out[6]) < 0.3


# --- rules, by hand ---------------------------------------------------------------------

AUTH = "AWS4-HMAC-SHA256 Credential=AKID/20260101/{region}/{service}/aws4_request, SignedHeaders=host, Signature=00"


def signed(service: str, region: str = "eu-west-1", **kw: Any) -> Request:
    headers = {"host": "localhost:4566", "authorization": AUTH.format(region=region, service=service)}
    headers.update(kw.pop("headers", {}))
    return Request(kw.pop("method", "POST"), kw.pop("path", "/"), kw.pop("query", ""), headers, kw.pop("body", b""))


FORM = {"content-type": "application/x-www-form-urlencoded; charset=utf-8"}


def test_admin_paths_are_not_routed() -> None:
    assert route(Request("GET", "/_cloudlet/health", headers={"host": "localhost"})) is None


def test_target_and_wire_protocol() -> None:
    r = route(signed("sqs", headers={"x-amz-target": "AmazonSQS.SendMessage"}))
    assert (r.service, r.region, r.protocol) == ("sqs", "eu-west-1", "json")
    r = route(signed("sqs", headers=FORM, body=b"Action=SendMessage&Version=2012-11-05"))
    assert (r.service, r.protocol) == ("sqs", "query")
    r = route(signed("monitoring", headers=FORM, body=b"Action=PutMetricData&Version=2010-08-01"))
    assert (r.service, r.protocol) == ("cloudwatch", "query")
    r = route(signed("monitoring", headers={"x-amz-target": "GraniteServiceVersion20100801.PutMetricData"}))
    assert (r.service, r.protocol) == ("cloudwatch", "json")
    r = route(signed("ec2", headers=FORM, body=b"Action=DescribeInstances&Version=2016-11-15"))
    assert (r.service, r.protocol) == ("ec2", "ec2")
    r = route(signed("s3", method="GET", path="/b"))
    assert (r.service, r.protocol) == ("s3", "rest-xml")


def test_query_services_sharing_a_signing_name() -> None:
    elb = b"Action=DescribeLoadBalancers&Version=2012-06-01"
    assert route(signed("elasticloadbalancing", headers=FORM, body=elb)).service == "elb"
    v2 = b"Action=DescribeLoadBalancers&Version=2015-12-01"
    assert route(signed("elasticloadbalancing", headers=FORM, body=v2)).service == "elbv2"
    assert route(signed("elasticloadbalancing", query="Action=CreateTargetGroup")).service == "elbv2"
    # docdb and neptune are the rds API on the rds endpoint
    assert route(signed("rds", headers=FORM, body=b"Action=CreateDBCluster&Version=2014-10-31")).service == "rds"
    # ses: query Action vs sesv2's REST paths
    assert route(signed("ses", headers=FORM, body=b"Action=SendEmail&Version=2010-12-01")).service == "ses"
    assert route(signed("ses", path="/v2/email/outbound-emails")).service == "sesv2"


def test_unsigned_query_by_action_and_host() -> None:
    body = b"Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=x"
    r = route(Request("POST", "/", headers={"host": "localhost:4566", **FORM}, body=body))
    assert (r.service, r.region) == ("sts", DEFAULT_REGION)
    r = route(Request("POST", "/", headers={"host": "sts.ap-south-1.amazonaws.com", **FORM}, body=body))
    assert (r.service, r.region) == ("sts", "ap-south-1")
    r = route(Request("GET", "/", "Action=ListQueues&Version=2012-11-05", {"host": "sqs.eu-west-3.localhost.localstack.cloud"}))
    assert (r.service, r.region, r.protocol) == ("sqs", "eu-west-3", "query")


@pytest.mark.parametrize(
    "host,path,bucket_path,region",
    [
        ("b.localhost:4566", "/k/x", "/b/k/x", "eu-west-1"),
        ("b.localhost:4566", "/", "/b", "eu-west-1"),
        ("my.dotted.bucket.s3.eu-west-1.amazonaws.com", "/k", "/my.dotted.bucket/k", "eu-west-1"),
        ("b.s3-us-west-2.amazonaws.com", "/k", "/b/k", "us-west-2"),
        ("b.s3.dualstack.us-east-2.amazonaws.com", "/k", "/b/k", "us-east-2"),
        ("b.s3.localhost.localstack.cloud:4566", "/k", "/b/k", "eu-west-1"),
        ("logs.s3.backup.s3.amazonaws.com", "/k", "/logs.s3.backup/k", "eu-west-1"),
        ("s3.localhost:4566", "/b/k", "/b/k", "eu-west-1"),
        ("s3.eu-west-1.localhost.localstack.cloud", "/b/k", "/b/k", "eu-west-1"),
        ("localhost:4566", "/b/k", "/b/k", "eu-west-1"),
        ("127.0.0.1:4566", "/b/k", "/b/k", "eu-west-1"),
        ("[::1]:4566", "/b/k", "/b/k", "eu-west-1"),
    ],
)
def test_s3_hosts(host: str, path: str, bucket_path: str, region: str) -> None:
    r = route(signed("s3", method="GET", path=path, headers={"host": host}))
    assert (r.service, r.request.path) == ("s3", bucket_path)
    # unsigned: the region comes from the Host, else the default
    u = route(Request("GET", path, headers={"host": host}))
    assert (u.service, u.request.path) == ("s3", bucket_path)
    assert u.region == (region if region in host else DEFAULT_REGION)


def test_unsigned_hosts_that_are_service_endpoints_are_not_buckets() -> None:
    r = route(Request("GET", "/", "Action=ListQueues", {"host": "sqs.us-east-1.localhost.localstack.cloud"}))
    assert r.service == "sqs"
    r = route(Request("GET", "/2015-03-31/functions/", headers={"host": "lambda.eu-central-1.amazonaws.com"}))
    assert (r.service, r.region, r.request.path) == ("lambda", "eu-central-1", "/2015-03-31/functions/")
    r = route(Request("GET", "/x", headers={"host": "sqs.localhost:4566"}))
    assert r.service == "sqs"


def test_s3control_is_told_from_s3() -> None:
    r = route(signed("s3", method="GET", path="/v20180820/jobs", headers={"host": "123456789012.localhost:4566"}))
    assert r.service == "s3control"
    r = route(signed("s3", method="GET", path="/v20180820/configuration/publicAccessBlock",
                     headers={"host": "123456789012.s3-control.eu-west-1.amazonaws.com", "x-amz-account-id": "123456789012"}))
    assert (r.service, r.request.path) == ("s3control", "/v20180820/configuration/publicAccessBlock")
    # a 12-digit bucket on the virtual host is still a bucket
    r = route(signed("s3", method="GET", path="/k", headers={"host": "123456789012.localhost:4566"}))
    assert (r.service, r.request.path) == ("s3", "/123456789012/k")
    r = route(signed("s3-outposts", method="GET", path="/S3Outposts/ListEndpoints"))
    assert r.service == "s3outposts"
    r = route(signed("s3express", method="GET", path="/", headers={"host": "b--usw2-az1--x-s3.s3express-usw2-az1.us-west-2.amazonaws.com"}))
    assert (r.service, r.request.path) == ("s3", "/b--usw2-az1--x-s3")


def test_rest_services_sharing_a_signing_name() -> None:
    assert route(signed("bedrock", method="POST", path="/model/m/invoke")).service == "bedrock-runtime"
    assert route(signed("bedrock", method="GET", path="/foundation-models")).service == "bedrock"
    assert route(signed("bedrock", method="POST", path="/agents/a1/")).service == "bedrock-agent"  # PrepareAgent
    assert route(signed("bedrock", method="POST", path="/agents/s1")).service == "bedrock-agent-runtime"
    assert route(signed("execute-api", method="POST", path="/@connections/c1")).service == "apigatewaymanagementapi"
    assert route(signed("apigateway", method="GET", path="/v2/apis")).service == "apigatewayv2"
    assert route(signed("apigateway", method="GET", path="/restapis")).service == "apigateway"


def test_sigv4a_scope_names_the_service() -> None:
    auth = "AWS4-ECDSA-P256-SHA256 Credential=AKID/20260101/cloudfront-keyvaluestore/aws4_request, SignedHeaders=host, Signature=00"
    req = Request("GET", "/key-value-stores/arn%3Aaws%3Acloudfront%3A%3A1%3Akey-value-store%2Fk/keys", "",
                  {"host": "localhost", "authorization": auth, "x-amz-region-set": "*"})
    r = route(req)
    assert (r.service, r.region) == ("cloudfront-keyvaluestore", DEFAULT_REGION)
    req.headers["authorization"] = auth.replace("cloudfront-keyvaluestore", "s3")
    req.headers["x-amz-region-set"] = "eu-north-1"
    r = route(Request("GET", "/k", "", {**req.headers, "host": "b.localhost"}))
    assert (r.service, r.region, r.request.path) == ("s3", "eu-north-1", "/b/k")
    q = "X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256&X-Amz-Credential=AKID%2F20260101%2Fs3%2Faws4_request&X-Amz-Region-Set=ap-east-1"
    r = route(Request("GET", "/b/k", q, {"host": "localhost"}))
    assert (r.service, r.region) == ("s3", "ap-east-1")


def test_cloudsearch_search_post_is_handed_on_as_get() -> None:
    r = route(signed("cloudsearch", path="/2013-01-01/search", headers=FORM, body=b"format=sdk&pretty=true&q=x"))
    assert (r.service, r.request.method, r.request.query, r.request.body) == (
        "cloudsearchdomain", "GET", "format=sdk&pretty=true&q=x", b"")


def test_unsigned_path_style() -> None:
    assert route(Request("GET", "/2015-03-31/functions/", headers={"host": "localhost"})).service == "lambda"
    assert route(Request("POST", "/token", headers={"host": "localhost"})).service == "sso-oidc"
    assert route(Request("GET", "/federation/credentials", "role_name=r", {"host": "localhost"})).service == "sso"
    assert route(Request("GET", "/some-bucket/key.txt", headers={"host": "localhost"})).service == "s3"
    assert route(Request("GET", "/", headers={"host": "localhost"})).service == "s3"
    assert route(Request("GET", "/%%%/x", headers={"host": "localhost"})) is None


def test_bearer_tokens_route_by_path() -> None:
    """Bedrock API keys and CodeCatalyst tokens carry no scope: the path decides."""
    bearer = {"host": "localhost:4566", "authorization": "Bearer key"}
    assert route(Request("POST", "/model/m1/invoke", headers=bearer)).service == "bedrock-runtime"
    assert route(Request("POST", "/model/m1/converse", headers=bearer)).service == "bedrock-runtime"
    assert route(Request("GET", "/v1/spaces", headers=bearer)).service == "codecatalyst"


def test_region_precedence() -> None:
    r = route(signed("sqs", region="ap-northeast-2", headers={"host": "sqs.eu-west-1.amazonaws.com", "x-amz-target": "AmazonSQS.ListQueues"}))
    assert r.region == "ap-northeast-2"  # the signature's scope wins over the Host
    r = route(Request("POST", "/", headers={"host": "localhost", "x-amz-target": "AWSCognitoIdentityService.GetId"}))
    assert (r.service, r.region) == ("cognito-identity", DEFAULT_REGION)


def test_routing_is_fast() -> None:
    reqs = [
        signed("dynamodb", headers={"x-amz-target": "DynamoDB_20120810.GetItem"}),
        signed("s3", method="GET", path="/k", headers={"host": "b.localhost:4566"}),
        signed("sqs", headers=FORM, body=b"Action=SendMessage"),
    ]
    for r in reqs:
        route(r)
    n = 5_000
    start = time.perf_counter()
    for _ in range(n):
        for r in reqs:
            route(r)
    per_call_us = (time.perf_counter() - start) / (n * len(reqs)) * 1e6
    assert per_call_us < 40, per_call_us  # ~2-4 us when the machine is idle


# --- every wire protocol a service accepts -----------------------------------------------


def _signed_with(name: str, protocol: str, op: str) -> tuple[Request, dict[str, Any]]:
    """`op` serialized by botocore's serializer for `protocol` and SigV4-signed by botocore.

    botocore's clients pick json over cbor and query, so this is how we see the cbor
    (``/service/<Name>/operation/<Op>``) and query forms of a multi-protocol service.
    """
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import create_request_object, prepare_request_dict
    from botocore.credentials import Credentials
    from botocore.serialize import create_serializer

    c = client(name)
    model = c.meta.service_model
    om = model.operation_model(op)
    params = params_for(c, op)
    request_dict = create_serializer(protocol, include_validation=False).serialize_to_request(params, om)
    prepare_request_dict(request_dict, ENDPOINT)
    aws_request = create_request_object(request_dict)
    SigV4Auth(Credentials("test", "test"), model.signing_name, REGION).add_auth(aws_request)
    return to_request(aws_request.prepare()), params


MULTI_PROTOCOL = sorted(
    (name, protocol)
    for name in service_names()
    for protocol in load_index().services[name].protocols
    if len(load_index().services[name].protocols) > 1
) + [("sqs", "query")]  # SQS is json now; SDKs from before 2023 still send the query form


@pytest.mark.parametrize("name,protocol", MULTI_PROTOCOL)
def test_every_protocol_of_a_multi_protocol_service(name: str, protocol: str) -> None:
    wire = {"smithy-rpc-v2-cbor": "smithy-rpc-v2-cbor", "json": "json", "query": "query"}[protocol]
    for op in ops_for(name):
        req, _ = _signed_with(name, protocol, op)
        r = route(req)
        assert r is not None and (r.service, r.region, r.protocol) == (name, REGION, wire), (op, req)


# --- garbage in ---------------------------------------------------------------------------

_TEXT = st.text(alphabet=st.sampled_from("abc/.-_%?&=+:@ 12Ü\x00"), max_size=40)


@settings(max_examples=300, deadline=None)
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "HEAD", "DELETE", "PATCH", "get"]),
    path=_TEXT.map(lambda s: "/" + s),
    query=_TEXT,
    host=st.one_of(st.sampled_from(["localhost:4566", "b.localhost", "s3.localhost", "[::1]", ""]), _TEXT),
    target=st.one_of(st.none(), _TEXT, st.just("DynamoDB_20120810.")),
    auth=st.one_of(st.none(), _TEXT.map(lambda s: "AWS4-HMAC-SHA256 Credential=" + s), st.just(AUTH)),
    body=st.binary(max_size=40),
)
def test_route_never_raises(method, path, query, host, target, auth, body) -> None:
    headers = {"host": host, "content-type": "application/x-www-form-urlencoded"}
    if target is not None:
        headers["x-amz-target"] = target
    if auth is not None:
        headers["authorization"] = auth.format(region="eu-west-1", service="s3") if auth == AUTH else auth
    r = route(Request(method, path, query, headers, body))
    assert r is None or r.service in load_index().services
