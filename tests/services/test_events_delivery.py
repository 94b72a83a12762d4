"""EventBridge delivering to targets: what a queue receives for Input, InputPath and input
transformers; FIFO queues; dead-letter queues and the retry policy on the cloudlet
clock; other buses, across accounts when a bus policy allows; API destinations over HTTP
to a server on loopback in this test process."""

from __future__ import annotations

import base64
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.services.test_events import Account, error


@pytest.fixture
def acct(cloud) -> Account:
    return Account(cloud)


def attributes(message: dict) -> dict[str, str]:
    return {k: v["StringValue"] for k, v in message.get("MessageAttributes", {}).items()}


# -- what a target receives --------------------------------------------------------------------


def test_input_inputpath_and_transformers(acct):
    url, arn = acct.queue("q")
    acct.events.put_rule(Name="r", EventPattern='{"source": ["ec2"]}')
    acct.events.put_targets(Rule="r", Targets=[
        {"Id": "1-constant", "Arn": arn, "Input": '{"fixed": "value"}'},
        {"Id": "2-path", "Arn": arn, "InputPath": "$.detail.instance"},
        {"Id": "3-json", "Arn": arn, "InputTransformer": {
            "InputPathsMap": {"instance": "$.detail.instance", "state": "$.detail.state", "count": "$.detail.count"},
            "InputTemplate": '{"instance": <instance>, "status": "<instance> is <state>", "count": <count>, '
                             '"rule": <aws.events.rule-name>}'}},
        {"Id": "4-text", "Arn": arn, "InputTransformer": {
            "InputPathsMap": {"instance": "$.detail.instance", "state": "$.detail.state"},
            "InputTemplate": "<instance> is in state <state>"}},
        {"Id": "5-whole", "Arn": arn, "InputTransformer": {"InputTemplate": '{"event": <aws.events.event.json>}'}},
    ])
    acct.put({"Source": "ec2", "Detail": json.dumps({"instance": "i-1", "state": "RUNNING", "count": 3})})
    got = sorted(m["Body"] for m in acct.receive(url))
    whole = next(b for b in got if b.startswith('{"event"'))
    assert json.loads(whole)["event"]["detail"] == {"instance": "i-1", "state": "RUNNING", "count": 3}
    assert sorted(b for b in got if b != whole) == sorted([
        '{"fixed": "value"}',
        '"i-1"',
        '{"instance": "i-1", "status": "i-1 is RUNNING", "count": 3, "rule": "r"}',
        "i-1 is in state RUNNING",
    ])


def test_fifo_queue_target_uses_the_message_group(acct):
    url, arn = acct.queue("orders.fifo", FifoQueue="true", ContentBasedDeduplication="true")
    acct.rule_to_queue("r", {"source": ["shop"]}, arn, SqsParameters={"MessageGroupId": "orders"})
    acct.put({"Source": "shop", "Detail": '{"n": 1}'}, {"Source": "shop", "Detail": '{"n": 2}'})
    got = acct.receive(url, MessageSystemAttributeNames=["MessageGroupId"])
    assert [json.loads(m["Body"])["detail"]["n"] for m in got] == [1, 2]
    assert {m["Attributes"]["MessageGroupId"] for m in got} == {"orders"}


# -- dead letters and retries --------------------------------------------------------------------


def test_a_deleted_queue_sends_the_event_to_the_dead_letter_queue_without_retrying(acct):
    url, arn = acct.queue("gone")
    dlq_url, dlq_arn = acct.queue("dlq")
    acct.rule_to_queue("r", {"source": ["app"]}, arn, DeadLetterConfig={"Arn": dlq_arn},
                       RetryPolicy={"MaximumRetryAttempts": 5, "MaximumEventAgeInSeconds": 3600})
    acct.sqs.delete_queue(QueueUrl=url)
    event_id = acct.put({"Source": "app", "Detail": '{"k": "v"}'})["Entries"][0]["EventId"]
    (dead,) = acct.receive(dlq_url, MessageAttributeNames=["All"])
    body = json.loads(dead["Body"])
    assert (body["id"], body["detail"]) == (event_id, {"k": "v"})
    attrs = attributes(dead)
    assert attrs.pop("ERROR_MESSAGE")
    assert attrs == {
        "RULE_ARN": f"arn:aws:events:us-east-1:{acct.id}:rule/r", "TARGET_ARN": arn,
        "ERROR_CODE": "NO_RESOURCE", "RETRY_ATTEMPTS": "0",
    }


def test_a_fifo_queue_without_deduplication_refuses_and_dead_letters(acct):
    _, arn = acct.queue("plain.fifo", FifoQueue="true")
    dlq_url, dlq_arn = acct.queue("dlq")
    acct.rule_to_queue("r", {"source": ["app"]}, arn, SqsParameters={"MessageGroupId": "g"},
                       DeadLetterConfig={"Arn": dlq_arn})
    acct.put({"Source": "app"})
    (dead,) = acct.receive(dlq_url, MessageAttributeNames=["All"])
    assert attributes(dead)["ERROR_CODE"] == "INVALID_PARAMETER"


def test_without_a_dead_letter_queue_a_failed_event_is_dropped(acct):
    url, arn = acct.queue("gone")
    acct.rule_to_queue("r", {"source": ["app"]}, arn)
    acct.sqs.delete_queue(QueueUrl=url)
    out = acct.put({"Source": "app"})
    assert out["FailedEntryCount"] == 0  # PutEvents does not report delivery


# -- API destinations --------------------------------------------------------------------------


class Endpoint:
    """An HTTP server on loopback that records requests and answers with `statuses` in turn."""

    def __init__(self, *statuses: int, body: bytes = b"{}") -> None:
        self.statuses = list(statuses) or [200]
        self.body = body
        self.requests: list[dict] = []
        self.arrived = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                outer.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                       "body": self.rfile.read(length).decode()})
                status = outer.statuses.pop(0) if len(outer.statuses) > 1 else outer.statuses[0]
                self.send_response(status)
                self.send_header("Content-Length", str(len(outer.body)))
                self.end_headers()
                self.wfile.write(outer.body)
                outer.arrived.set()

            do_POST = do_PUT = do_GET = do_any

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint():
    made: list[Endpoint] = []

    def make(*statuses: int, body: bytes = b"{}") -> Endpoint:
        made.append(Endpoint(*statuses, body=body))
        return made[-1]

    yield make
    for e in made:
        e.close()


def destination(acct: Account, url: str, method: str = "POST", kind: str = "BASIC", **params) -> str:
    auth = {
        "BASIC": {"BasicAuthParameters": {"Username": "user", "Password": "pw"}},
        "API_KEY": {"ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": "secret-key"}},
    }[kind]
    name = f"c{os.urandom(3).hex()}"
    conn = acct.events.create_connection(Name=name, AuthorizationType=kind, AuthParameters={**auth, **params})
    assert conn["ConnectionState"] == "AUTHORIZED"
    return acct.events.create_api_destination(
        Name=name, ConnectionArn=conn["ConnectionArn"], InvocationEndpoint=url, HttpMethod=method)["ApiDestinationArn"]


def test_an_api_destination_gets_the_event_over_http_from_the_scheduler(cloud, acct, endpoint):
    server = endpoint(200)
    dest = destination(acct, server.url + "/orders/*", kind="BASIC", InvocationHttpParameters={
        "HeaderParameters": [{"Key": "x-conn", "Value": "c", "IsValueSecret": False}],
        "BodyParameters": [{"Key": "extra", "Value": "added", "IsValueSecret": True}]})
    acct.events.put_rule(Name="r", EventPattern='{"source": ["shop"]}')
    acct.events.put_targets(Rule="r", Targets=[{"Id": "http", "Arn": dest, "HttpParameters": {
        "PathParameterValues": ["$.detail.id"], "QueryStringParameters": {"src": "$.source", "fixed": "1"},
        "HeaderParameters": {"x-order": "$.detail.id"}}}])
    event_id = acct.put({"Source": "shop", "Detail": '{"id": "o-7"}'})["Entries"][0]["EventId"]
    cloud.advance(0)  # returns once the due work (the HTTP call) has run
    (req,) = server.requests
    assert req["method"] == "POST"
    assert req["path"] == "/orders/o-7?src=shop&fixed=1"
    headers = {k.lower(): v for k, v in req["headers"].items()}
    assert headers["authorization"] == "Basic " + base64.b64encode(b"user:pw").decode()
    assert headers["user-agent"] == "Amazon/EventBridge/ApiDestinations"
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert (headers["x-conn"], headers["x-order"]) == ("c", "o-7")
    body = json.loads(req["body"])
    assert (body["id"], body["detail"], body["extra"]) == (event_id, {"id": "o-7"}, "added")


def test_api_key_connections_and_describe_hides_secrets(cloud, acct, endpoint):
    server = endpoint(200)
    dest = destination(acct, server.url, method="PUT", kind="API_KEY")
    acct.events.put_rule(Name="r", EventPattern='{"source": ["shop"]}')
    acct.events.put_targets(Rule="r", Targets=[{"Id": "http", "Arn": dest, "Input": '{"hello": "world"}'}])
    acct.put({"Source": "shop"})
    cloud.advance(0)
    (req,) = server.requests
    assert req["method"] == "PUT" and req["body"] == '{"hello": "world"}'
    assert {k.lower(): v for k, v in req["headers"].items()}["x-api-key"] == "secret-key"
    name = dest.split("/")[1]
    described = acct.events.describe_connection(Name=name)
    assert described["AuthParameters"] == {"ApiKeyAuthParameters": {"ApiKeyName": "x-api-key"}}
    assert described["AuthorizationType"] == "API_KEY" and described["ConnectionState"] == "AUTHORIZED"
    d = acct.events.describe_api_destination(Name=name)
    assert (d["InvocationEndpoint"], d["HttpMethod"], d["ApiDestinationState"]) == (server.url, "PUT", "ACTIVE")
    assert [c["Name"] for c in acct.events.list_connections()["Connections"]] == [name]
    assert [x["Name"] for x in acct.events.list_api_destinations()["ApiDestinations"]] == [name]


def test_an_oauth_connection_fetches_a_token_then_calls_with_it(cloud, acct, endpoint):
    issuer = endpoint(200, body=b'{"access_token": "tok-1", "expires_in": 3600}')
    server = endpoint(200)
    conn = acct.events.create_connection(Name="oauth", AuthorizationType="OAUTH_CLIENT_CREDENTIALS", AuthParameters={
        "OAuthParameters": {"ClientParameters": {"ClientID": "id", "ClientSecret": "s3cret"},
                            "AuthorizationEndpoint": issuer.url + "/token", "HttpMethod": "POST"}})
    assert conn["ConnectionState"] == "AUTHORIZING"
    cloud.advance(0)
    described = acct.events.describe_connection(Name="oauth")
    assert described["ConnectionState"] == "AUTHORIZED"
    assert described["AuthParameters"]["OAuthParameters"]["ClientParameters"] == {"ClientID": "id"}
    (token_request,) = issuer.requests
    assert {k.lower(): v for k, v in token_request["headers"].items()}["authorization"] == (
        "Basic " + base64.b64encode(b"id:s3cret").decode())
    dest = acct.events.create_api_destination(Name="d", ConnectionArn=conn["ConnectionArn"],
                                              InvocationEndpoint=server.url, HttpMethod="POST")["ApiDestinationArn"]
    acct.events.put_rule(Name="r", EventPattern='{"source": ["shop"]}')
    acct.events.put_targets(Rule="r", Targets=[{"Id": "http", "Arn": dest}])
    acct.put({"Source": "shop"})
    cloud.advance(0)
    (req,) = server.requests
    assert {k.lower(): v for k, v in req["headers"].items()}["authorization"] == "Bearer tok-1"


def test_retries_follow_the_retry_policy_then_dead_letter(cloud, acct, endpoint):
    server = endpoint(500)
    dest = destination(acct, server.url)
    dlq_url, dlq_arn = acct.queue("dlq")
    acct.events.put_rule(Name="r", EventPattern='{"source": ["shop"]}')
    acct.events.put_targets(Rule="r", Targets=[{"Id": "http", "Arn": dest, "DeadLetterConfig": {"Arn": dlq_arn},
                                                "RetryPolicy": {"MaximumRetryAttempts": 2}}])
    acct.put({"Source": "shop"})
    cloud.advance(0)
    assert len(server.requests) == 1 and acct.receive(dlq_url) == []
    cloud.advance(3600)  # the retries are due within seconds, on the cloudlet clock
    assert len(server.requests) == 3
    (dead,) = acct.receive(dlq_url, MessageAttributeNames=["All"])
    attrs = attributes(dead)
    assert (attrs["ERROR_CODE"], attrs["EXHAUSTED_RETRY_CONDITION"], attrs["RETRY_ATTEMPTS"]) == (
        "ERROR_FROM_TARGET", "MaximumRetryAttempts", "2")


def test_retries_stop_at_the_maximum_event_age(cloud, acct, endpoint):
    server = endpoint(503)
    dest = destination(acct, server.url)
    dlq_url, dlq_arn = acct.queue("dlq")
    acct.events.put_rule(Name="r", EventPattern='{"source": ["shop"]}')
    acct.events.put_targets(Rule="r", Targets=[{"Id": "http", "Arn": dest, "DeadLetterConfig": {"Arn": dlq_arn},
                                                "RetryPolicy": {"MaximumEventAgeInSeconds": 60}}])
    acct.put({"Source": "shop"})
    cloud.advance(0)
    cloud.advance(3600)
    (dead,) = acct.receive(dlq_url, MessageAttributeNames=["All"])
    attrs = attributes(dead)
    assert attrs["EXHAUSTED_RETRY_CONDITION"] == "MaximumEventAgeInSeconds"
    assert 1 < len(server.requests) < 185 and attrs["RETRY_ATTEMPTS"] == str(len(server.requests) - 1)


def test_a_4xx_from_an_api_destination_is_not_retried(cloud, acct, endpoint):
    server = endpoint(400)
    dest = destination(acct, server.url)
    dlq_url, dlq_arn = acct.queue("dlq")
    acct.events.put_rule(Name="r", EventPattern='{"source": ["shop"]}')
    acct.events.put_targets(Rule="r", Targets=[{"Id": "http", "Arn": dest, "DeadLetterConfig": {"Arn": dlq_arn}}])
    acct.put({"Source": "shop"})
    cloud.advance(0)
    cloud.advance(600)
    assert len(server.requests) == 1
    (dead,) = acct.receive(dlq_url, MessageAttributeNames=["All"])
    assert "EXHAUSTED_RETRY_CONDITION" not in attributes(dead) and attributes(dead)["RETRY_ATTEMPTS"] == "0"


def test_connection_and_destination_errors(acct):
    ev = acct.events
    conn = ev.create_connection(Name="c", AuthorizationType="BASIC",
                                AuthParameters={"BasicAuthParameters": {"Username": "u", "Password": "p"}})
    assert error(ev.create_connection, Name="c", AuthorizationType="BASIC",
                 AuthParameters={"BasicAuthParameters": {"Username": "u", "Password": "p"}})["Message"] == (
        "Connection c already exists.")
    assert error(ev.describe_connection, Name="nope")["Message"] == "Connection 'nope' does not exist."
    assert error(ev.describe_api_destination, Name="nope")["Code"] == "ResourceNotFoundException"
    missing = conn["ConnectionArn"].replace("/c/", "/other/")
    assert error(ev.create_api_destination, Name="d", ConnectionArn=missing, InvocationEndpoint="https://x.test/",
                 HttpMethod="POST")["Code"] == "ResourceNotFoundException"
    assert ev.deauthorize_connection(Name="c")["ConnectionState"] == "DEAUTHORIZING"
    assert ev.describe_connection(Name="c")["ConnectionState"] == "DEAUTHORIZED"
    assert ev.delete_connection(Name="c")["ConnectionState"] == "DELETING"


# -- other buses and other accounts ------------------------------------------------------------


def unique(prefix: str) -> str:
    return f"{prefix}-{os.urandom(4).hex()}"


def test_a_rule_can_target_another_bus_of_the_same_account(acct):
    url, arn = acct.queue("q")
    acct.events.create_event_bus(Name="inner")
    inner = f"arn:aws:events:us-east-1:{acct.id}:event-bus/inner"
    acct.rule_to_queue("forward", {"source": ["app"]}, inner)
    acct.rule_to_queue("land", {"source": ["app"]}, arn, bus="inner")
    acct.put({"Source": "app", "Detail": '{"hop": 1}', "Resources": ["arn:r"]})
    (body,) = acct.bodies(url)
    assert (body["source"], body["detail"], body["resources"], body["account"]) == ("app", {"hop": 1}, ["arn:r"], acct.id)


def test_cross_account_put_events_needs_the_bus_policy(cloud):
    sender, owner = Account(cloud, "111111111111"), Account(cloud, "222222222222")
    bus = unique("shared")
    owner.events.create_event_bus(Name=bus)
    url, arn = owner.queue(unique("inbox"))
    owner.rule_to_queue(unique("take"), {"source": ["partner"]}, arn, bus=bus)
    bus_arn = f"arn:aws:events:us-east-1:222222222222:event-bus/{bus}"
    entry = {"Source": "partner", "DetailType": "t", "Detail": '{"from": "111"}', "EventBusName": bus_arn}
    refused = sender.events.put_events(Entries=[entry])
    assert refused["FailedEntryCount"] == 1
    assert refused["Entries"][0]["ErrorCode"] == "AccessDeniedException"
    assert owner.receive(url) == []
    owner.events.put_permission(EventBusName=bus, Action="events:PutEvents", Principal="111111111111",
                                StatementId="sender")
    taken = sender.events.put_events(Entries=[entry])
    assert taken["FailedEntryCount"] == 0
    (body,) = owner.bodies(url)
    assert (body["account"], body["detail"], body["id"]) == ("111111111111", {"from": "111"}, taken["Entries"][0]["EventId"])
    other = cloud.client("events", key="333333333333")
    assert other.put_events(Entries=[entry])["Entries"][0]["ErrorCode"] == "AccessDeniedException"


def test_a_rule_forwards_to_another_accounts_bus_when_its_policy_allows(cloud):
    sender, owner = Account(cloud, "111111111111"), Account(cloud, "222222222222")
    bus = unique("central")
    owner.events.create_event_bus(Name=bus)
    url, arn = owner.queue(unique("central"))
    owner.rule_to_queue(unique("take"), {"source": ["fwd"]}, arn, bus=bus)
    bus_arn = f"arn:aws:events:us-east-1:222222222222:event-bus/{bus}"
    dlq_url, dlq_arn = sender.queue(unique("dlq"))
    sender.rule_to_queue(unique("forward"), {"source": ["fwd"], "detail": {"run": [bus]}}, bus_arn,
                         DeadLetterConfig={"Arn": dlq_arn})
    sender.put({"Source": "fwd", "Detail": json.dumps({"run": bus})})
    assert owner.receive(url) == []
    (dead,) = sender.receive(dlq_url, MessageAttributeNames=["All"])
    assert attributes(dead)["ERROR_CODE"] == "NO_PERMISSIONS"
    owner.events.put_permission(EventBusName=bus, Action="events:PutEvents", Principal="111111111111", StatementId="s")
    sender.put({"Source": "fwd", "Detail": json.dumps({"run": bus})})
    (body,) = owner.bodies(url)
    assert (body["account"], body["source"], body["detail"]) == ("111111111111", "fwd", {"run": bus})


def test_an_sns_topic_target(cloud, acct):
    """SNS delivers to its subscribed queue when cloudlet has SNS; until then the delivery
    fails like any other, into the dead-letter queue."""
    sns = cloud.client("sns", key=acct.id)
    url, arn = acct.queue("from-sns")
    dlq_url, dlq_arn = acct.queue("dlq")
    try:
        topic = sns.create_topic(Name="t")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    except Exception as err:  # noqa: BLE001 - NotImplemented while SNS is not there
        assert "NotImplemented" in str(err)
        topic = f"arn:aws:sns:us-east-1:{acct.id}:t"
        acct.rule_to_queue("r", {"source": ["app"]}, topic, DeadLetterConfig={"Arn": dlq_arn})
        acct.put({"Source": "app"})
        (dead,) = acct.receive(dlq_url, MessageAttributeNames=["All"])
        assert attributes(dead)["TARGET_ARN"] == topic
        return
    acct.rule_to_queue("r", {"source": ["app"]}, topic, DeadLetterConfig={"Arn": dlq_arn})
    acct.put({"Source": "app", "Detail": '{"via": "sns"}'})
    (body,) = acct.bodies(url)
    assert body["detail"] == {"via": "sns"}
