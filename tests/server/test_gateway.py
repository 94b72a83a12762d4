"""The road, as users see it: boto3 and the AWS CLI against a running cloudlet."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request

import pytest
from botocore.exceptions import ClientError

from tests.cloud import Cloud


def test_get_caller_identity_default_credentials(cloud):
    ident = cloud.client("sts").get_caller_identity()
    assert ident["Account"] == "000000000000"
    assert ident["Arn"] == "arn:aws:iam::000000000000:root"
    assert ident["UserId"] == "000000000000"
    assert ident["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_twelve_digit_access_key_is_that_account(cloud):
    ident = cloud.client("sts", key="123456789012", secret="whatever").get_caller_identity()
    assert ident["Account"] == "123456789012"
    assert ident["Arn"] == "arn:aws:iam::123456789012:root"


def test_aws_cli_get_caller_identity(cloud):
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}
    out = subprocess.run(
        ["aws", "--endpoint-url", cloud.endpoint, "sts", "get-caller-identity", "--output", "json"],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["Account"] == "000000000000"


def test_operation_without_handler_answers_not_implemented(cloud):
    sts = cloud.client("sts")
    with pytest.raises(ClientError) as err:
        sts.assume_root(TargetPrincipal="123456789012",
                        TaskPolicyArn={"arn": "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"})
    e = err.value.response
    assert e["Error"]["Code"] == "NotImplemented"
    assert "sts:AssumeRoot" in e["Error"]["Message"]
    assert e["ResponseMetadata"]["HTTPStatusCode"] == 501


# Per protocol, operations cloudlet has no handler for yet; the test takes the first that is
# still unimplemented, so it keeps testing the 501 path as services land.
UNIMPLEMENTED = {
    "json": [("codecommit", "list_repositories", {}), ("kinesis", "list_streams", {})],
    "json-1.0": [("dynamodb", "list_tables", {}), ("timestream-write", "list_databases", {})],
    "rest-json": [("amplify", "list_apps", {}), ("lambda", "list_functions", {})],
    "rest-xml": [("route53", "list_health_checks", {}), ("cloudfront", "list_distributions", {})],
    "ec2": [("ec2", "describe_vpcs", {})],
    "smithy-rpc-v2-cbor": [("cloudwatch", "list_metrics", {}), ("arc-region-switch", "list_plans", {})],
    "query": [("iam", "list_users", {}), ("elasticbeanstalk", "describe_applications", {})],
}


@pytest.mark.parametrize("protocol", sorted(UNIMPLEMENTED))
def test_unimplemented_services_name_the_operation_in_every_protocol(cloud, protocol):
    from cloudlet.services.registry import handler_for

    for service, call, kwargs in UNIMPLEMENTED[protocol]:
        client = cloud.client(service)
        op = client.meta.method_to_api_mapping[call]
        if handler_for(service, op) is None:
            break
    else:
        pytest.fail(f"every {protocol} candidate is implemented now: add one that is not")
    with pytest.raises(ClientError) as err:
        getattr(client, call)(**kwargs)
    e = err.value.response
    assert e["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert e["Error"]["Code"] == "NotImplemented"
    assert op in e["Error"]["Message"]


def test_validation_error_before_handler(cloud):
    sts = cloud.client("sts", parameter_validation=False)
    with pytest.raises(ClientError) as err:
        sts.assume_role(RoleSessionName="s")  # RoleArn missing
    e = err.value.response
    assert e["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert e["Error"]["Code"] == "ValidationError"
    assert "roleArn" in e["Error"]["Message"]


def test_unroutable_request_is_a_clear_400(cloud):
    req = urllib.request.Request(cloud.endpoint + "/", data=b"hello", method="POST")
    try:
        urllib.request.urlopen(req, timeout=5)
        status = 200
    except urllib.error.HTTPError as err:
        status = err.code
    assert 400 <= status < 500


def test_every_request_is_audited(cloud):
    cloud.client("sts", key="210987654321").get_caller_identity()
    events = cloud.admin("GET", "audit?eventName=GetCallerIdentity&account=210987654321&limit=5")["events"]
    assert events, "no audit event"
    ev = events[0]
    assert ev["eventSource"] == "sts.amazonaws.com"
    assert ev["eventName"] == "GetCallerIdentity"
    assert ev["recipientAccountId"] == "210987654321"
    assert ev["userIdentity"]["arn"] == "arn:aws:iam::210987654321:root"
    assert ev["readOnly"] is True
    assert ev["awsRegion"] == "us-east-1"
    assert ev["responseElements"] is None  # CloudTrail keeps responses of changes only
    assert "errorCode" not in ev


def test_changes_keep_their_response_in_the_audit_event(cloud):
    url = cloud.client("sqs", key="210987654322").create_queue(QueueName="audited")["QueueUrl"]
    events = cloud.admin("GET", "audit?eventName=CreateQueue&account=210987654322&limit=5")["events"]
    assert events[0]["readOnly"] is False
    assert events[0]["responseElements"]["QueueUrl"] == url


def test_failed_requests_are_audited_with_their_error(cloud):
    with pytest.raises(ClientError):
        cloud.client("sts", key="310987654321").assume_root(
            TargetPrincipal="123456789012",
            TaskPolicyArn={"arn": "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"})
    ev = cloud.admin("GET", "audit?account=310987654321&limit=1")["events"][0]
    assert ev["eventName"] == "AssumeRoot"
    assert ev["errorCode"] == "NotImplemented"


def test_region_comes_from_the_signature(cloud):
    cloud.client("sts", region="eu-west-3", key="410987654321").get_caller_identity()
    ev = cloud.admin("GET", "audit?account=410987654321&limit=1")["events"][0]
    assert ev["awsRegion"] == "eu-west-3"


def test_health(cloud):
    h = cloud.admin("GET", "health")
    assert h["status"] == "running"
    assert "GetCallerIdentity" in h["services"]["sts"]


def test_clock_moves_forward_only(cloud):
    before = cloud.admin("GET", "clock")
    after = cloud.admin("POST", "clock", {"advance": 3600})
    assert after["offset_s"] >= before["offset_s"] + 3600
    with pytest.raises(urllib.error.HTTPError) as err:
        cloud.admin("POST", "clock", {"advance": -5})
    assert err.value.code == 400
    with pytest.raises(urllib.error.HTTPError) as err:
        cloud.admin("POST", "clock", {"set": "2001-01-01T00:00:00Z"})
    assert err.value.code == 400


def _cli(cloud, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cloudlet", *args, "--endpoint", cloud.endpoint] if args[0] != "clock" or len(args) == 1
        else [sys.executable, "-m", "cloudlet", "clock", "--endpoint", cloud.endpoint, *args[1:]],
        capture_output=True, text=True, timeout=30,
    )


def test_cli_status_clock_reset(cloud):
    out = _cli(cloud, "status")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["status"] == "running"
    before = cloud.admin("GET", "clock")["offset_s"]
    out = _cli(cloud, "clock", "advance", "30d")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["offset_s"] >= before + 30 * 86400
    out = _cli(cloud, "reset")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"reset": "all"}


def test_cli_reports_a_server_that_is_not_there():
    out = subprocess.run(
        [sys.executable, "-m", "cloudlet", "status", "--endpoint", "http://127.0.0.1:9"],
        capture_output=True, text=True, timeout=30,
    )
    assert out.returncode == 1
    assert "not answering" in out.stderr


@pytest.fixture(scope="module")
def strict():
    c = Cloud("--verify-signatures")
    yield c
    c.stop()


def test_verify_signatures_accepts_the_right_secret(strict):
    assert strict.client("sts").get_caller_identity()["Account"] == "000000000000"


def test_verify_signatures_refuses_a_wrong_secret(strict):
    with pytest.raises(ClientError) as err:
        strict.client("sts", secret="wrong").get_caller_identity()
    e = err.value.response
    assert e["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert e["Error"]["Code"] == "SignatureDoesNotMatch"


def test_verify_signatures_refuses_an_unknown_key(strict):
    with pytest.raises(ClientError) as err:
        strict.client("sts", key="AKIAUNKNOWNKEY000000").get_caller_identity()
    e = err.value.response
    assert e["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert e["Error"]["Code"] == "InvalidClientTokenId"


def test_verify_signatures_with_the_aws_cli(strict):
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "nope", "AWS_DEFAULT_REGION": "us-east-1"}
    out = subprocess.run(
        ["aws", "--endpoint-url", strict.endpoint, "sts", "get-caller-identity"],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert out.returncode != 0
    assert "SignatureDoesNotMatch" in out.stderr


def test_request_log_lines_in_json():
    c = Cloud("--log-level", "info", "--log-format", "json")
    try:
        c.client("sts").get_caller_identity()
        lines = [json.loads(line) for line in c.logs().splitlines() if line.startswith("{")]
    finally:
        c.stop()
    req = [line for line in lines if line.get("operation") == "GetCallerIdentity"]
    assert req, lines
    assert req[0]["service"] == "sts" and req[0]["status"] == 200 and req[0]["method"] == "POST"
    assert isinstance(req[0]["ms"], float)


def test_verify_signatures_refuses_unsigned_calls(strict):
    from botocore import UNSIGNED

    sts = strict.client("sts", signature_version=UNSIGNED)
    with pytest.raises(ClientError) as err:
        sts.get_caller_identity()
    e = err.value.response
    assert e["Error"]["Code"] == "MissingAuthenticationToken"
    assert e["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_operations_aws_serves_unsigned_pass_authentication(strict):
    from botocore import UNSIGNED

    sts = strict.client("sts", signature_version=UNSIGNED)
    with pytest.raises(ClientError) as err:
        sts.assume_role_with_web_identity(RoleArn="arn:aws:iam::000000000000:role/r", RoleSessionName="ss", WebIdentityToken="t" * 10)
    # authentication let it through (no signature needed): the handler judged the token
    assert err.value.response["Error"]["Code"] == "InvalidIdentityToken"


def test_sns_subscribe_links_work_unsigned_when_signatures_are_enforced(strict):
    # the SubscribeURL in a confirmation message is opened by a browser or curl: no signature
    req = urllib.request.Request(
        strict.endpoint + "/?Action=ConfirmSubscription&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A000000000000%3Anope&Token=abc",
        headers={"host": "sns.us-east-1.localhost"},
    )
    try:
        urllib.request.urlopen(req, timeout=10)
        status, body = 200, b""
    except urllib.error.HTTPError as err:
        status, body = err.code, err.read()
    assert b"MissingAuthenticationToken" not in body
    assert status == 404 and b"NotFound" in body  # authentication passed; the topic does not exist
