"""Messaging scenarios end to end over HTTP: SNS fan-out through filter policies into SQS,
a poison message through a dead-letter queue and back, FIFO order under concurrent
consumers, EventBridge routing and schedules into queues, and an HTTP subscriber that
confirms itself and checks every signature.

Each scenario works in an account of its own, so it shares the session's server with
the service tests without seeing their queues, topics or rules. Time moves only through
``cloud.advance``; nothing waits on the wall clock except the consumer threads' polling.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import os
import queue
import threading
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature

from tests.services.test_sns_support import verify_signature

_accounts = itertools.count(int.from_bytes(os.urandom(4), "big") % 10**9)


def fresh_account() -> str:
    return f"3{next(_accounts) % 10**11:011d}"


class Account:
    """boto3 clients of one fresh account."""

    def __init__(self, cloud: Any) -> None:
        self.id = fresh_account()
        self.cloud = cloud
        self.sqs = cloud.client("sqs", key=self.id)
        self.sns = cloud.client("sns", key=self.id)
        self.events = cloud.client("events", key=self.id)

    def queue(self, name: str, **attributes: str) -> tuple[str, str]:
        url = self.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    def receive(self, url: str, **kwargs: Any) -> list[dict[str, Any]]:
        """Every message the queue has now, deleted as received."""
        out: list[dict[str, Any]] = []
        while True:
            got = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, **kwargs).get("Messages") or []
            if not got:
                return out
            self.sqs.delete_message_batch(
                QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]
            )
            out.extend(got)

    def counts(self, url: str) -> tuple[int, int]:
        a = self.sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        return int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"])


@pytest.fixture
def acct(cloud) -> Any:
    a = Account(cloud)
    yield a
    # scheduled rules would keep firing on every later clock jump of the session
    for rule in a.events.list_rules()["Rules"]:
        ids = [t["Id"] for t in a.events.list_targets_by_rule(Rule=rule["Name"])["Targets"]]
        if ids:
            a.events.remove_targets(Rule=rule["Name"], Ids=ids)
        a.events.delete_rule(Name=rule["Name"])


def _s(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}


def _n(value: str) -> dict[str, str]:
    return {"DataType": "Number", "StringValue": value}


# -- 1. fan-out through filter policies ------------------------------------------------------


def test_fan_out_gives_each_queue_exactly_its_messages(acct):
    topic = acct.sns.create_topic(Name="orders")["TopicArn"]
    red_url, red_arn = acct.queue("red")  # attributes: color is red; enveloped
    big_url, big_arn = acct.queue("big")  # attributes: size > 10; raw delivery
    ord_url, ord_arn = acct.queue("ord")  # body: kind is order; enveloped
    acct.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=red_arn,
                       Attributes={"FilterPolicy": json.dumps({"color": ["red"]})})
    acct.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=big_arn, Attributes={
        "FilterPolicy": json.dumps({"size": [{"numeric": [">", 10]}]}), "RawMessageDelivery": "true"})
    acct.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=ord_arn, Attributes={
        "FilterPolicy": json.dumps({"kind": ["order"]}), "FilterPolicyScope": "MessageBody"})

    messages = {  # name -> (body, attributes, queues it belongs in)
        "m1": ('{"kind": "order", "id": 1}', {"color": _s("red")}, {"red", "ord"}),
        "m2": ("plain text", {"color": _s("blue"), "size": _n("20")}, {"big"}),
        "m3": ('{"kind": "refund", "id": 3}', {"size": _n("5")}, set()),
        "m4": ('{"kind": "order", "id": 4}', {}, {"ord"}),
        "m5": ("x", {"color": _s("red"), "size": _n("11")}, {"red", "big"}),
        "m6": ('{"kind": "order", "id": 6}', {"color": _s("green"), "size": _n("10")}, {"ord"}),
        "m7": ('{"kind": ["order"], "color": "red"}', {"size": _n("10.5")}, {"ord", "big"}),
    }
    ids = {}
    for key, (body, attributes, _) in messages.items():
        ids[key] = acct.sns.publish(TopicArn=topic, Message=body, Subject=key, MessageAttributes=attributes)[
            "MessageId"]

    for qname, url, raw in (("red", red_url, False), ("big", big_url, True), ("ord", ord_url, False)):
        got = acct.receive(url, MessageAttributeNames=["All"])
        expected = {k for k, (_, _, where) in messages.items() if qname in where}
        if raw:
            by_body = {m["Body"]: m for m in got}
            assert sorted(by_body) == sorted(messages[k][0] for k in expected), qname
            assert len(got) == len(expected), qname
            for k in expected:  # raw: the attributes travel as SQS message attributes
                assert by_body[messages[k][0]].get("MessageAttributes", {}) == messages[k][1], k
            continue
        docs = [json.loads(m["Body"]) for m in got]
        assert sorted(d["Subject"] for d in docs) == sorted(expected), qname
        for doc in docs:
            k = doc["Subject"]
            body, attributes, _ = messages[k]
            assert (doc["Type"], doc["TopicArn"], doc["MessageId"], doc["Message"]) == (
                "Notification", topic, ids[k], body)
            assert doc.get("MessageAttributes", {}) == {
                name: {"Type": a["DataType"], "Value": a["StringValue"]} for name, a in attributes.items()}
            verify_signature(doc)


# -- 2. a poison message, its dead-letter queue and the redrive -----------------------------


def test_poison_message_dead_letters_then_is_redriven(cloud, acct):
    dlq_url, dlq_arn = acct.queue("work-dlq")
    src_url, src_arn = acct.queue("work", VisibilityTimeout="30", RedrivePolicy=json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3}))
    poison = acct.sqs.send_message(QueueUrl=src_url, MessageBody="poison")["MessageId"]
    acct.sqs.send_message(QueueUrl=src_url, MessageBody="fine")

    receives = 0
    while True:
        got = acct.sqs.receive_message(QueueUrl=src_url, MaxNumberOfMessages=10).get("Messages") or []
        for m in got:
            if m["Body"] == "fine":  # a healthy message is processed and deleted
                acct.sqs.delete_message(QueueUrl=src_url, ReceiptHandle=m["ReceiptHandle"])
        if not any(m["MessageId"] == poison for m in got):
            break
        receives += 1
        assert receives <= 3, "received more often than maxReceiveCount"
        cloud.advance(31)  # the consumer crashed: the visibility timeout runs out
    assert receives == 3
    assert acct.counts(src_url) == (0, 0) and acct.counts(dlq_url) == (1, 0)

    (dead,) = acct.sqs.receive_message(QueueUrl=dlq_url, AttributeNames=["All"])["Messages"]
    assert (dead["MessageId"], dead["Body"]) == (poison, "poison")
    assert dead["Attributes"]["DeadLetterQueueSourceArn"] == src_arn
    cloud.advance(31)  # let the peek into the dead-letter queue expire

    acct.sqs.start_message_move_task(SourceArn=dlq_arn)
    cloud.advance(5)  # the move runs on the scheduler
    (task,) = acct.sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"]
    assert (task["Status"], task["ApproximateNumberOfMessagesMoved"]) == ("COMPLETED", 1)
    assert acct.counts(dlq_url) == (0, 0)
    (back,) = acct.receive(src_url)
    assert (back["MessageId"], back["Body"]) == (poison, "poison")


# -- 3. FIFO order under concurrent consumers -----------------------------------------------

GROUPS, PER_GROUP, CONSUMERS = 5, 20, 4


def test_fifo_order_holds_per_group_under_four_consumers(cloud, acct):
    url, _ = acct.queue("jobs.fifo", FifoQueue="true")
    sends = [(g, i) for i in range(PER_GROUP) for g in range(GROUPS)]  # the groups interleaved
    for start in range(0, len(sends), 10):
        out = acct.sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": str(n), "MessageBody": f"g{g}:{i}", "MessageGroupId": f"g{g}", "MessageDeduplicationId": f"g{g}-{i}"}
            for n, (g, i) in enumerate(sends[start:start + 10])])
        assert not out.get("Failed"), out

    processed: list[tuple[int, int, int]] = []  # (group, index, consumer), in processing order
    lock = threading.Lock()
    done = threading.Event()
    errors: list[BaseException] = []
    clients = [cloud.client("sqs", key=acct.id) for _ in range(CONSUMERS)]  # made here: not thread-safe to make

    def consume(who: int) -> None:
        sqs = clients[who]
        try:
            while not done.is_set():
                got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1 + who * 3).get("Messages") or []
                if not got:
                    done.wait(0.005)
                    continue
                for m in got:  # processed one by one, then deleted
                    g, i = (int(x) for x in m["Body"][1:].split(":"))
                    with lock:
                        processed.append((g, i, who))
                        if len(processed) >= len(sends):
                            done.set()
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
            done.set()

    threads = [threading.Thread(target=consume, args=(w,)) for w in range(CONSUMERS)]
    for t in threads:
        t.start()
    done.wait(30)  # a safety net only: the assertion below says what went wrong
    done.set()
    for t in threads:
        t.join(10)
    assert not errors, errors
    assert len(processed) == len(sends), f"{len(processed)} of {len(sends)} processed"
    assert len({(g, i) for g, i, _ in processed}) == len(processed), "a message was processed twice"
    for g in range(GROUPS):
        assert [i for gg, i, _ in processed if gg == g] == list(range(PER_GROUP)), f"group g{g} out of order"
    assert len({who for _, _, who in processed}) > 1  # the consumers really shared the work
    assert acct.counts(url) == (0, 0)


# -- 4. EventBridge: a custom bus through an input transformer, and a schedule ---------------


def test_custom_bus_rule_transforms_into_a_queue(acct):
    url, arn = acct.queue("shipping")
    acct.events.create_event_bus(Name="shop")
    acct.events.put_rule(Name="big-orders", EventBusName="shop", EventPattern=json.dumps({
        "source": ["shop.orders"], "detail-type": ["OrderPlaced"], "detail": {"total": [{"numeric": [">", 100]}]}}))
    out = acct.events.put_targets(Rule="big-orders", EventBusName="shop", Targets=[{
        "Id": "ship", "Arn": arn, "InputTransformer": {
            "InputPathsMap": {"order": "$.detail.id", "total": "$.detail.total", "city": "$.detail.address.city",
                              "src": "$.source"},
            "InputTemplate": '{"order": <order>, "total": <total>, "note": "ship <order> to <city>", "from": "<src>"}',
        }}])
    assert out["FailedEntryCount"] == 0, out

    def event(total: int, bus: str = "shop", detail_type: str = "OrderPlaced") -> dict[str, str]:
        detail = {"id": f"o-{total}", "total": total, "address": {"city": "Lyon"}}
        return {"EventBusName": bus, "Source": "shop.orders", "DetailType": detail_type, "Detail": json.dumps(detail)}

    put = acct.events.put_events(Entries=[
        event(250), event(50), event(300, bus="default"), event(400, detail_type="OrderCancelled")])
    assert put["FailedEntryCount"] == 0, put
    assert [m["Body"] for m in acct.receive(url)] == [
        '{"order": "o-250", "total": 250, "note": "ship o-250 to Lyon", "from": "shop.orders"}'
    ]


def test_rate_rule_fires_twelve_times_in_an_hour(cloud, acct):
    url, arn = acct.queue("ticks")
    rule_arn = acct.events.put_rule(Name="tick", ScheduleExpression="rate(5 minutes)")["RuleArn"]
    acct.events.put_targets(Rule="tick", Targets=[{"Id": "q", "Arn": arn}])
    cloud.advance(3600)
    bodies = [json.loads(m["Body"]) for m in acct.receive(url)]
    assert len(bodies) == 12
    assert {(b["source"], b["detail-type"], tuple(b["resources"])) for b in bodies} == {
        ("aws.events", "Scheduled Event", (rule_arn,))}
    times = sorted(dt.datetime.strptime(b["time"], "%Y-%m-%dT%H:%M:%SZ") for b in bodies)
    assert len(set(times)) == 12
    assert [b - a for a, b in zip(times, times[1:])] == [dt.timedelta(minutes=5)] * 11


# -- 5. an HTTP subscriber that confirms itself and checks signatures -------------------------


class Subscriber:
    """A tiny HTTP endpoint, as an application would run one: it confirms its subscription
    by visiting the SubscribeURL it is sent (after answering, from a thread of its own) and
    keeps the notifications."""

    def __init__(self) -> None:
        self.confirmations: "queue.Queue[dict[str, Any]]" = queue.Queue()
        self.notifications: "queue.Queue[tuple[dict[str, str], dict[str, Any]]]" = queue.Queue()
        self.confirmed: "queue.Queue[str]" = queue.Queue()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if body["Type"] == "SubscriptionConfirmation":
                    outer.confirmations.put(body)
                    threading.Thread(target=outer._confirm, args=(body,), daemon=True).start()
                else:
                    outer.notifications.put(({k.lower(): v for k, v in self.headers.items()}, body))

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sns"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def _confirm(self, doc: dict[str, Any]) -> None:
        try:
            verify_signature(doc)
            with urllib.request.urlopen(doc["SubscribeURL"], timeout=5) as resp:
                self.confirmed.put(resp.read().decode())
        except Exception as exc:  # noqa: BLE001 - the test reads it from the queue
            self.confirmed.put(f"failed: {exc!r}")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def subscriber():
    s = Subscriber()
    yield s
    s.close()


def test_http_subscriber_confirms_and_receives_signed_notifications(acct, subscriber):
    topic = acct.sns.create_topic(Name="alerts")["TopicArn"]
    assert acct.sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=subscriber.url)["SubscriptionArn"] == (
        "pending confirmation")
    doc = subscriber.confirmations.get(timeout=10)
    assert (doc["Type"], doc["TopicArn"]) == ("SubscriptionConfirmation", topic)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(doc["SubscribeURL"]).query)
    assert query["Token"] == [doc["Token"]] and query["TopicArn"] == [topic]
    answer = subscriber.confirmed.get(timeout=10)
    assert "<ConfirmSubscriptionResponse" in answer, answer
    (sub,) = acct.sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert sub["SubscriptionArn"].startswith(topic + ":") and sub["Endpoint"] == subscriber.url
    assert sub["SubscriptionArn"] in answer

    sent = [
        acct.sns.publish(TopicArn=topic, Message=f"alert {n}", Subject=f"s{n}",
                         MessageAttributes={"level": _s(level)})["MessageId"]
        for n, level in enumerate(["warn", "crit", "info"])
    ]
    got = {}
    for _ in sent:
        headers, note = subscriber.notifications.get(timeout=10)
        assert headers["x-amz-sns-message-type"] == "Notification"
        assert headers["x-amz-sns-subscription-arn"] == sub["SubscriptionArn"]
        assert headers["x-amz-sns-message-id"] == note["MessageId"]
        verify_signature(note)  # against the certificate fetched from its SigningCertURL
        got[note["MessageId"]] = note
    assert sorted(got) == sorted(sent)
    assert sorted((n["Message"], n["Subject"], n["MessageAttributes"]["level"]["Value"]) for n in got.values()) == [
        ("alert 0", "s0", "warn"), ("alert 1", "s1", "crit"), ("alert 2", "s2", "info")]
    assert subscriber.notifications.empty()

    forged = dict(got[sent[0]], Message="alert 0, edited")
    with pytest.raises(InvalidSignature):  # the check is a real one
        verify_signature(forged)
    raw = base64.b64decode(forged["Signature"])
    with pytest.raises(InvalidSignature):
        verify_signature(dict(got[sent[0]], Signature=base64.b64encode(raw[:-1] + bytes([raw[-1] ^ 1])).decode()))
