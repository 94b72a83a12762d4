"""SNS state survives a restart on a data directory: topics, subscriptions, the signing
key, and an HTTP delivery waiting for its retry."""

from __future__ import annotations

import urllib.request

from tests.cloud import Cloud
from tests.services.test_sns_support import Endpoint, verify_signature


def _cert(cloud: Cloud) -> bytes:
    with urllib.request.urlopen(f"{cloud.endpoint}/_cloudlet/sns/cert.pem", timeout=5) as resp:
        return resp.read()


def test_a_pending_retry_and_the_signing_key_survive_a_restart(tmp_path):
    endpoint = Endpoint()
    cloud = Cloud("--data-dir", str(tmp_path))
    try:
        sns = cloud.client("sns")
        topic = sns.create_topic(Name="durable")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint.url)
        token = endpoint.next_json()[1]["Token"]
        sns.confirm_subscription(TopicArn=topic, Token=token)
        endpoint.statuses = [500]
        sent = sns.publish(TopicArn=topic, Message="survive")
        first = endpoint.next_json()[1]
        cert_before = _cert(cloud)
    finally:
        cloud.stop()
    cloud = Cloud("--data-dir", str(tmp_path))
    try:
        assert _cert(cloud) == cert_before
        sns = cloud.client("sns")
        assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"][0]["Endpoint"] == endpoint.url
        cloud.advance(20)
        retry = endpoint.next_json()[1]
        assert retry == first and retry["MessageId"] == sent["MessageId"]
        verify_signature(retry, cert_before)  # its SigningCertURL names the old port
    finally:
        cloud.stop()
        endpoint.close()
