"""Function URLs over real HTTP: urllib and curl against
``<url-id>.lambda-url.us-east-1.localhost:<port>``."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.error
import urllib.request
import uuid
from urllib.parse import urlsplit

import pytest

from tests.services.lambda_.test_invoke import ROLE, zipped

WEB = '''
import json
def handler(event, context):
    if event["rawPath"] == "/raw":
        return "just a string"
    if event["rawPath"] == "/fail":
        raise RuntimeError("nope")
    return {"statusCode": 201, "headers": {"X-From": "fn", "Content-Type": "application/json"},
            "cookies": ["a=1", "b=2"], "body": json.dumps({"event": event})}
'''


@pytest.fixture(scope="module")
def lam(cloud):
    return cloud.client("lambda")


def url_function(lam, **config) -> tuple[str, str]:
    name = f"u-{uuid.uuid4().hex[:10]}"
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="index.handler",
                        Code={"ZipFile": zipped(WEB)})
    auth = config.pop("AuthType", "NONE")
    url = lam.create_function_url_config(FunctionName=name, AuthType=auth, **config)
    if auth == "NONE":  # a public URL answers only once the function's policy lets everyone in
        _make_public(lam, name)
    return name, url["FunctionUrl"]


def _make_public(lam, name: str) -> None:
    """Both grants a URL made since October 2025 needs, as AWS documents them."""
    lam.add_permission(FunctionName=name, StatementId="public", Action="lambda:InvokeFunctionUrl",
                       Principal="*", FunctionUrlAuthType="NONE")
    lam.add_permission(FunctionName=name, StatementId="public-invoke", Action="lambda:InvokeFunction",
                       Principal="*", InvokedViaFunctionUrl=True)


def test_a_public_url_without_a_public_policy_is_forbidden(cloud, lam):
    name = f"u-{uuid.uuid4().hex[:10]}"
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler="index.handler",
                        Code={"ZipFile": zipped(WEB)})
    url = lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]
    status, _, body = fetch(cloud, url, "/")
    assert (status, json.loads(body)) == (403, {"Message": "Forbidden"})
    # a grant for another auth type does not open it either
    lam.add_permission(FunctionName=name, StatementId="iam-only", Action="lambda:InvokeFunctionUrl",
                       Principal="*", FunctionUrlAuthType="AWS_IAM")
    assert fetch(cloud, url, "/")[0] == 403
    lam.add_permission(FunctionName=name, StatementId="public", Action="lambda:InvokeFunctionUrl",
                       Principal="*", FunctionUrlAuthType="NONE")
    assert fetch(cloud, url, "/")[0] == 403  # since October 2025 lambda:InvokeFunction is needed too
    lam.add_permission(FunctionName=name, StatementId="public-invoke", Action="lambda:InvokeFunction",
                       Principal="*", InvokedViaFunctionUrl=True)
    assert fetch(cloud, url, "/")[0] == 201


def fetch(cloud, url: str, path: str, method: str = "GET", data: bytes | None = None,
          headers: dict | None = None) -> tuple[int, dict, bytes]:
    """Connect to the server's port, whatever *.localhost resolves to, sending the URL's Host."""
    host = urlsplit(url).netloc
    req = urllib.request.Request(f"{cloud.endpoint}{path}", data=data, method=method,
                                 headers={"Host": host, **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


def test_url_invokes_with_the_2_0_event_and_maps_the_answer(cloud, lam):
    name, url = url_function(lam)
    assert ".lambda-url.us-east-1." in url
    status, headers, body = fetch(cloud, url, "/some/path?x=1&x=2&y=z", "POST", b'{"p": 1}',
                                  {"Content-Type": "application/json", "Cookie": "c=1; d=2"})
    assert status == 201 and headers["x-from"] == "fn"
    ev = json.loads(body)["event"]
    assert ev["version"] == "2.0" and ev["rawPath"] == "/some/path"
    assert ev["rawQueryString"] == "x=1&x=2&y=z" and ev["queryStringParameters"] == {"x": "1,2", "y": "z"}
    assert ev["cookies"] == ["c=1", "d=2"] and ev["body"] == '{"p": 1}' and ev["isBase64Encoded"] is False
    assert ev["requestContext"]["http"]["method"] == "POST"
    assert ev["requestContext"]["apiId"] == urlsplit(url).hostname.split(".")[0]


def test_a_plain_value_is_200_json(cloud, lam):
    name, url = url_function(lam)
    status, headers, body = fetch(cloud, url, "/raw")
    assert status == 200 and headers["content-type"] == "application/json"
    assert json.loads(body) == "just a string"


def test_function_error_is_502(cloud, lam):
    name, url = url_function(lam)
    status, _, body = fetch(cloud, url, "/fail")
    assert status == 502 and json.loads(body) == {"Message": "Internal Server Error"}


def test_iam_auth_refuses_unsigned(cloud, lam):
    name, url = url_function(lam, AuthType="AWS_IAM")
    status, _, body = fetch(cloud, url, "/")
    assert status == 403 and json.loads(body) == {"Message": "Forbidden"}


def test_iam_auth_accepts_signed(cloud, lam):
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials

    name, url = url_function(lam, AuthType="AWS_IAM")
    host = urlsplit(url).netloc
    req = botocore.awsrequest.AWSRequest("GET", f"http://{host}/signed")
    botocore.auth.SigV4Auth(botocore.credentials.Credentials("test", "test"), "lambda", "us-east-1").add_auth(req)
    status, _, body = fetch(cloud, url, "/signed", headers=dict(req.headers.items()))
    assert status == 201
    assert json.loads(body)["event"]["requestContext"]["authorizer"]["iam"]["accessKey"] == "test"


def test_cors_preflight_and_headers(cloud, lam):
    cors = {"AllowOrigins": ["https://app.example"], "AllowMethods": ["GET", "POST"], "MaxAge": 300}
    name, url = url_function(lam, Cors=cors)
    status, headers, _ = fetch(cloud, url, "/", "OPTIONS",
                               headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"})
    assert status == 200 and headers["access-control-allow-origin"] == "https://app.example"
    assert headers["access-control-allow-methods"] == "GET,POST" and headers["access-control-max-age"] == "300"
    status, headers, _ = fetch(cloud, url, "/", headers={"Origin": "https://app.example"})
    assert status == 201 and headers["access-control-allow-origin"] == "https://app.example"


def test_unknown_url_id_is_forbidden(cloud):
    status, _, body = fetch(cloud, "http://nosuchurlid000.lambda-url.us-east-1.localhost", "/")
    assert status == 403


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
def test_curl(cloud, lam):
    name, url = url_function(lam)
    parts = urlsplit(url)
    host = parts.hostname
    target = f"http://{host}:{cloud.port}/from/curl?x=1"
    out = subprocess.run(["curl", "-s", "--resolve", f"{host}:{cloud.port}:127.0.0.1", target],
                         capture_output=True, timeout=20, check=True)
    ev = json.loads(out.stdout)["event"]
    assert ev["rawPath"] == "/from/curl" and ev["queryStringParameters"] == {"x": "1"}


def test_iam_enforced_needs_invoke_function_url():
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials

    from tests.cloud import Cloud

    enforced = Cloud("--enforce-iam")
    try:
        lam, iam = enforced.client("lambda"), enforced.client("iam")
        name, url = url_function(lam, AuthType="AWS_IAM")
        keys = {}
        grants = {"caller": ["lambda:InvokeFunctionUrl", "lambda:InvokeFunction"],
                  "url-only": ["lambda:InvokeFunctionUrl"],  # since October 2025 not enough
                  "stranger": []}
        for user, actions in grants.items():
            iam.create_user(UserName=user)
            if actions:
                iam.put_user_policy(UserName=user, PolicyName="url", PolicyDocument=json.dumps({
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}))
            k = iam.create_access_key(UserName=user)["AccessKey"]
            keys[user] = (k["AccessKeyId"], k["SecretAccessKey"])
        host = urlsplit(url).netloc
        answers = {}
        for user, (key, secret) in keys.items():
            req = botocore.awsrequest.AWSRequest("GET", f"http://{host}/iam")
            botocore.auth.SigV4Auth(botocore.credentials.Credentials(key, secret), "lambda", "us-east-1").add_auth(req)
            answers[user] = fetch(enforced, url, "/iam", headers=dict(req.headers.items()))
        assert answers["caller"][0] == 201
        iam_ctx = json.loads(answers["caller"][2])["event"]["requestContext"]["authorizer"]["iam"]
        assert iam_ctx["userArn"].endswith(":user/caller") and iam_ctx["accessKey"] == keys["caller"][0]
        assert answers["stranger"][0] == 403 and json.loads(answers["stranger"][2]) == {"Message": "Forbidden"}
        assert answers["url-only"][0] == 403
    finally:
        enforced.stop()


def test_throttled_url_is_429(cloud, lam):
    name, url = url_function(lam)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    status, _, body = fetch(cloud, url, "/")
    assert status == 429 and json.loads(body) == {"Message": "Rate Exceeded."}
