"""SNS topics and subscriptions through boto3: CRUD, attributes, tags, permissions,
pagination, the outbox for email/SMS/mobile, and the errors AWS answers with."""

from __future__ import annotations

import json

import pytest

from tests.services.test_sns_support import name, verify_signature


def _error(exc_info):
    e = exc_info.value.response["Error"]
    return e["Code"], e["Message"], exc_info.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_create_is_idempotent_only_with_the_same_attributes(cloud):
    sns = cloud.client("sns")
    n = name("idem")
    arn = sns.create_topic(Name=n, Attributes={"DisplayName": "A"}, Tags=[{"Key": "k", "Value": "v"}])["TopicArn"]
    assert arn == f"arn:aws:sns:us-east-1:000000000000:{n}"
    assert sns.create_topic(Name=n, Attributes={"DisplayName": "A"})["TopicArn"] == arn
    assert sns.create_topic(Name=n)["TopicArn"] == arn
    with pytest.raises(sns.exceptions.InvalidParameterException) as err:
        sns.create_topic(Name=n, Attributes={"DisplayName": "B"})
    assert _error(err) == (
        "InvalidParameter", "Invalid parameter: Attributes Reason: Topic already exists with different attributes", 400
    )
    with pytest.raises(sns.exceptions.InvalidParameterException) as err:
        sns.create_topic(Name=n, Tags=[{"Key": "k", "Value": "other"}])
    assert "different tags" in _error(err)[1]


@pytest.mark.parametrize("bad", ["has space", "x" * 257, "dot.fifo", ""])
def test_bad_topic_names(cloud, bad):
    sns = cloud.client("sns")
    with pytest.raises(sns.exceptions.ClientError) as err:
        sns.create_topic(Name=bad)
    assert _error(err)[0] in ("InvalidParameter", "ValidationError")


def test_fifo_topic_names_end_with_fifo(cloud):
    sns = cloud.client("sns")
    with pytest.raises(sns.exceptions.InvalidParameterException) as err:
        sns.create_topic(Name=name("nofifo"), Attributes={"FifoTopic": "true"})
    assert "Fifo Topic names must end with .fifo" in _error(err)[1]
    arn = sns.create_topic(Name=name("ok") + ".fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert (attrs["FifoTopic"], attrs["ContentBasedDeduplication"], attrs["FifoThroughputScope"]) == (
        "true", "false", "Topic"
    )


def test_topic_attributes_round_trip(cloud):
    sns = cloud.client("sns")
    arn = sns.create_topic(Name=name("attrs"), Attributes={"KmsMasterKeyId": "alias/aws/sns"})["TopicArn"]
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attrs["TopicArn"] == arn and attrs["Owner"] == "000000000000"
    assert attrs["KmsMasterKeyId"] == "alias/aws/sns"
    assert json.loads(attrs["Policy"])["Statement"][0]["Condition"] == {
        "StringEquals": {"AWS:SourceOwner": "000000000000"}
    }
    assert "FifoTopic" not in attrs
    delivery = {"http": {"defaultHealthyRetryPolicy": {"numRetries": 5, "minDelayTarget": 2, "maxDelayTarget": 10}}}
    for key, value in [
        ("DisplayName", "Shown"), ("SignatureVersion", "2"), ("TracingConfig", "Active"),
        ("DeliveryPolicy", json.dumps(delivery)),
    ]:
        sns.set_topic_attributes(TopicArn=arn, AttributeName=key, AttributeValue=value)
        assert sns.get_topic_attributes(TopicArn=arn)["Attributes"][key] == value
    effective = json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["EffectiveDeliveryPolicy"])
    assert effective["http"]["defaultHealthyRetryPolicy"]["numRetries"] == 5
    assert effective["http"]["defaultHealthyRetryPolicy"]["backoffFunction"] == "linear"


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("Nope", "x", "Invalid parameter: AttributeName"),
        ("SignatureVersion", "3", "Invalid parameter: SignatureVersion"),
        ("TracingConfig", "On", "Invalid parameter: TracingConfig"),
        ("ContentBasedDeduplication", "true",
         "Invalid parameter: ContentBasedDeduplication Reason: Content based deduplication can only be set for FIFO "
         "topics"),
        ("DeliveryPolicy", '{"http": {"defaultHealthyRetryPolicy": {"numRetries": 500}}}', None),
        ("Policy", "not json", None),
    ],
)
def test_set_topic_attributes_errors(cloud, key, value, message):
    sns = cloud.client("sns")
    arn = sns.create_topic(Name="attr-errors")["TopicArn"]
    with pytest.raises(sns.exceptions.InvalidParameterException) as err:
        sns.set_topic_attributes(TopicArn=arn, AttributeName=key, AttributeValue=value)
    code, text, status = _error(err)
    assert (code, status) == ("InvalidParameter", 400)
    assert text == message if message else text.startswith(f"Invalid parameter: {key}")


def test_not_found_and_bad_arns(cloud):
    sns = cloud.client("sns")
    missing = "arn:aws:sns:us-east-1:000000000000:" + name("missing")
    with pytest.raises(sns.exceptions.NotFoundException) as err:
        sns.get_topic_attributes(TopicArn=missing)
    assert _error(err) == ("NotFound", "Topic does not exist", 404)
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.publish(TopicArn=missing, Message="m")
    with pytest.raises(sns.exceptions.InvalidParameterException) as err:
        sns.publish(TopicArn="not-an-arn", Message="m")
    assert _error(err)[1] == "Invalid parameter: TopicArn"
    with pytest.raises(sns.exceptions.NotFoundException) as err:
        sns.unsubscribe(SubscriptionArn=missing + ":1e6b7d7a-0000-4000-8000-000000000000")
    assert _error(err) == ("NotFound", "Subscription does not exist", 404)
    sns.delete_topic(TopicArn=missing)  # deleting a topic that does not exist is fine


def test_publish_validation(cloud):
    sns = cloud.client("sns")
    arn = sns.create_topic(Name="publish-validation")["TopicArn"]
    cases = [
        ({"Message": ""}, "InvalidParameter", "Invalid parameter: Empty message"),
        ({"Message": "x" * 262_145}, "InvalidParameter", "Invalid parameter: Message too long"),
        ({"Message": "m", "Subject": "a\nb"}, "InvalidParameter", "Invalid parameter: Subject"),
        ({"Message": "m", "MessageStructure": "json"}, "InvalidParameter",
         "Invalid parameter: Message Structure - JSON message body failed to parse"),
        ({"Message": "m", "MessageAttributes": {"a": {"DataType": "String", "StringValue": ""}}},
         "ParameterValueInvalid", None),
        ({"Message": "m", "MessageAttributes": {"a": {"DataType": "Number", "StringValue": "ten"}}},
         "ParameterValueInvalid", "Could not cast message attribute 'a' value to number."),
        ({"Message": "m", "MessageAttributes": {"a": {"DataType": "Date", "StringValue": "x"}}},
         "ParameterValueInvalid", None),
    ]
    for params, code, message in cases:
        with pytest.raises(sns.exceptions.ClientError) as err:
            sns.publish(TopicArn=arn, **params)
        got = _error(err)
        assert got[0] == code, params
        if message:
            assert got[1] == message
    assert sns.publish(TopicArn=arn, Message="x" * 262_144)["MessageId"]


def test_list_topics_pages_by_100(cloud):
    sns = cloud.client("sns", region="eu-north-1")  # a region of its own: the count is exact
    made = {sns.create_topic(Name=f"page-{i:03d}")["TopicArn"] for i in range(105)}
    first = sns.list_topics()
    assert len(first["Topics"]) == 100 and "NextToken" in first
    second = sns.list_topics(NextToken=first["NextToken"])
    assert len(second["Topics"]) == 5 and "NextToken" not in second
    assert {t["TopicArn"] for t in first["Topics"] + second["Topics"]} == made
    paged = [t["TopicArn"] for p in sns.get_paginator("list_topics").paginate() for t in p["Topics"]]
    assert sorted(paged) == sorted(made)
    sns.delete_topic(TopicArn=sorted(made)[0])
    assert len([t for p in sns.get_paginator("list_topics").paginate() for t in p["Topics"]]) == 104


def test_subscriptions_list_get_set_and_delete_with_topic(cloud):
    sns = cloud.client("sns", region="ap-south-1")
    arn = sns.create_topic(Name="subs")["TopicArn"]
    made = []
    for i in range(3):
        made.append(sns.subscribe(TopicArn=arn, Protocol="sms", Endpoint=f"+1555000000{i}")["SubscriptionArn"])
    assert sorted(s["SubscriptionArn"] for s in sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]) == sorted(made)
    listed = sns.list_subscriptions()["Subscriptions"]
    assert {s["Endpoint"] for s in listed} == {"+15550000000", "+15550000001", "+15550000002"}
    assert all(s["Protocol"] == "sms" and s["TopicArn"] == arn for s in listed)
    # subscribing again returns the same subscription
    assert sns.subscribe(TopicArn=arn, Protocol="sms", Endpoint="+15550000000")["SubscriptionArn"] == made[0]
    policy = json.dumps({"store": ["example_corp"]})
    sns.set_subscription_attributes(SubscriptionArn=made[0], AttributeName="FilterPolicy", AttributeValue=policy)
    attrs = sns.get_subscription_attributes(SubscriptionArn=made[0])["Attributes"]
    assert (attrs["FilterPolicy"], attrs["FilterPolicyScope"], attrs["PendingConfirmation"]) == (
        policy, "MessageAttributes", "false"
    )
    with pytest.raises(sns.exceptions.InvalidParameterException) as err:
        sns.subscribe(TopicArn=arn, Protocol="sms", Endpoint="+15550000000",
                      Attributes={"FilterPolicy": '{"store": ["other"]}'})
    assert "Subscription already exists with different attributes" in _error(err)[1]
    with pytest.raises(sns.exceptions.InvalidParameterException) as err:
        sns.set_subscription_attributes(SubscriptionArn=made[1], AttributeName="RawMessageDelivery",
                                        AttributeValue="true")
    assert _error(err)[1] == "Invalid parameter: Delivery protocol [sms] does not support raw message delivery."
    sns.delete_topic(TopicArn=arn)
    assert sns.list_subscriptions()["Subscriptions"] == []
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.get_subscription_attributes(SubscriptionArn=made[0])


def test_subscribe_errors(cloud):
    sns = cloud.client("sns")
    arn = sns.create_topic(Name="subscribe-errors")["TopicArn"]
    cases = [
        ("carrier-pigeon", "coop", "Invalid parameter: Amazon SNS does not support this protocol string: carrier-pigeon"),
        ("http", "https://example.com", "Invalid parameter: Endpoint must match the specified protocol"),
        ("sqs", "arn:aws:sns:us-east-1:000000000000:x", "Invalid parameter: SQS endpoint ARN"),
        ("email", "not-an-address", "Invalid parameter: Email address"),
    ]
    for protocol, endpoint, message in cases:
        with pytest.raises(sns.exceptions.InvalidParameterException) as err:
            sns.subscribe(TopicArn=arn, Protocol=protocol, Endpoint=endpoint)
        assert _error(err)[1] == message


def test_tags(cloud):
    sns = cloud.client("sns")
    arn = sns.create_topic(Name=name("tags"), Tags=[{"Key": "a", "Value": "1"}])["TopicArn"]
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "3"}])
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "a", "Value": "3"}, {"Key": "b", "Value": "2"}]
    sns.untag_resource(ResourceArn=arn, TagKeys=["a", "zz"])
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    with pytest.raises(sns.exceptions.TagLimitExceededException):
        sns.tag_resource(ResourceArn=arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    with pytest.raises(sns.exceptions.ResourceNotFoundException):
        sns.list_tags_for_resource(ResourceArn=arn + "-missing")


def test_other_accounts_need_a_permission(cloud):
    sns = cloud.client("sns")
    other = cloud.client("sns", key="111111111111")
    arn = sns.create_topic(Name=name("perm"))["TopicArn"]
    with pytest.raises(other.exceptions.AuthorizationErrorException) as err:
        other.publish(TopicArn=arn, Message="m")
    code, message, status = _error(err)
    assert (code, status) == ("AuthorizationError", 403)
    assert message.startswith(f"User: arn:aws:iam::111111111111:root is not authorized to perform: SNS:Publish on "
                              f"resource: {arn}")
    sns.add_permission(TopicArn=arn, Label="let-in", AWSAccountId=["111111111111"], ActionName=["Publish"])
    with pytest.raises(sns.exceptions.InvalidParameterException) as err:
        sns.add_permission(TopicArn=arn, Label="let-in", AWSAccountId=["111111111111"], ActionName=["Publish"])
    assert _error(err)[1] == "Invalid parameter: Statement already exists"
    assert other.publish(TopicArn=arn, Message="m")["MessageId"]
    with pytest.raises(other.exceptions.AuthorizationErrorException):
        other.get_topic_attributes(TopicArn=arn)  # only Publish was granted
    statement = json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])["Statement"][1]
    assert statement == {"Sid": "let-in", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                         "Action": "SNS:Publish", "Resource": arn}
    sns.remove_permission(TopicArn=arn, Label="let-in")
    with pytest.raises(other.exceptions.AuthorizationErrorException):
        other.publish(TopicArn=arn, Message="m")


def _outbox(cloud, **query):
    q = "&".join(f"{k}={v}" for k, v in query.items())
    return cloud.admin("GET", f"outbox?{q}")["messages"]


def test_email_confirmation_and_notifications_in_the_outbox(cloud):
    sns = cloud.client("sns")
    arn = sns.create_topic(Name=name("mail"), Attributes={"DisplayName": "Alerts"})["TopicArn"]
    address = f"{name('ops')}@example.com"
    assert sns.subscribe(TopicArn=arn, Protocol="email", Endpoint=address)["SubscriptionArn"] == "pending confirmation"
    [confirm] = _outbox(cloud, endpoint=address)
    assert (confirm["type"], confirm["subject"], confirm["topicArn"]) == (
        "SubscriptionConfirmation", "AWS Notification - Subscription Confirmation", arn
    )
    assert confirm["subscribeUrl"] in confirm["message"]
    sns.publish(TopicArn=arn, Message="before confirming")
    assert len(_outbox(cloud, endpoint=address)) == 1
    sns.confirm_subscription(TopicArn=arn, Token=confirm["token"])
    sns.publish(TopicArn=arn, Message="disk full", Subject="Alarm")
    latest = _outbox(cloud, endpoint=address)[0]
    assert (latest["type"], latest["subject"], latest["message"], latest["protocol"]) == (
        "Notification", "Alarm", "disk full", "email"
    )


def test_sms_and_email_json_outbox(cloud):
    sns = cloud.client("sns")
    arn = sns.create_topic(Name=name("sms"))["TopicArn"]
    phone = "+1206555" + name("")[-4:].translate(str.maketrans("abcdef", "123456"))
    sns.subscribe(TopicArn=arn, Protocol="sms", Endpoint=phone)  # SMS needs no confirmation
    sns.publish(TopicArn=arn, MessageStructure="json", Message=json.dumps({"default": "long text", "sms": "short"}))
    sns.publish(PhoneNumber=phone, Message="direct")
    texts = [m["message"] for m in _outbox(cloud, protocol="sms", endpoint=phone.replace("+", "%2B"))]
    assert texts == ["direct", "short"]
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.publish(PhoneNumber="call me", Message="x")
    address = f"{name('json')}@example.com"
    sns.subscribe(TopicArn=arn, Protocol="email-json", Endpoint=address)
    confirm = json.loads(_outbox(cloud, endpoint=address)[0]["message"])
    assert confirm["Type"] == "SubscriptionConfirmation"
    verify_signature(confirm)
    sns.confirm_subscription(TopicArn=arn, Token=confirm["Token"])
    sns.publish(TopicArn=arn, Message="as json", Subject="S")
    doc = json.loads(_outbox(cloud, endpoint=address)[0]["message"])
    assert (doc["Type"], doc["Message"], doc["Subject"]) == ("Notification", "as json", "S")
    verify_signature(doc)


def test_signing_certificate_is_served(cloud):
    import urllib.request

    from cryptography import x509

    with urllib.request.urlopen(f"{cloud.endpoint}/_cloudlet/sns/cert.pem", timeout=5) as resp:
        cert = x509.load_pem_x509_certificate(resp.read())
    assert cert.public_key().key_size == 2048


def test_mobile_push_through_platform_endpoints(cloud):
    sns = cloud.client("sns", region="sa-east-1")
    app = sns.create_platform_application(Name=name("app"), Platform="GCM",
                                          Attributes={"PlatformCredential": "server-key"})["PlatformApplicationArn"]
    assert "PlatformCredential" not in sns.get_platform_application_attributes(PlatformApplicationArn=app)["Attributes"]
    ep = sns.create_platform_endpoint(PlatformApplicationArn=app, Token="device-1", CustomUserData="u1")["EndpointArn"]
    assert sns.create_platform_endpoint(PlatformApplicationArn=app, Token="device-1")["EndpointArn"] == ep
    assert sns.get_endpoint_attributes(EndpointArn=ep)["Attributes"] == {
        "Enabled": "true", "Token": "device-1", "CustomUserData": "u1"
    }
    topic = sns.create_topic(Name=name("push"))["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="application", Endpoint=ep)
    sns.publish(TargetArn=ep, MessageStructure="json", Message=json.dumps({"default": "d", "GCM": '{"data": 1}'}))
    sns.publish(TopicArn=topic, Message="via topic")
    got = _outbox(cloud, protocol="application", region="sa-east-1")
    assert [(m["message"], m["platform"]) for m in got] == [("via topic", "GCM"), ('{"data": 1}', "GCM")]
    sns.set_endpoint_attributes(EndpointArn=ep, Attributes={"Enabled": "false"})
    with pytest.raises(sns.exceptions.EndpointDisabledException):
        sns.publish(TargetArn=ep, Message="nope")
    sns.publish(TopicArn=topic, Message="skipped")  # a disabled endpoint gets nothing
    assert len(_outbox(cloud, protocol="application", region="sa-east-1")) == 2
    listed = sns.list_endpoints_by_platform_application(PlatformApplicationArn=app)["Endpoints"]
    assert [e["EndpointArn"] for e in listed] == [ep]
    sns.delete_platform_application(PlatformApplicationArn=app)
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.get_endpoint_attributes(EndpointArn=ep)


def test_sms_attributes_and_data_protection_policy(cloud):
    sns = cloud.client("sns", region="ca-central-1")
    sns.set_sms_attributes(attributes={"DefaultSMSType": "Transactional", "DefaultSenderID": "cloudlet"})
    assert sns.get_sms_attributes(attributes=["DefaultSMSType"])["attributes"] == {"DefaultSMSType": "Transactional"}
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.set_sms_attributes(attributes={"DefaultSMSType": "Loud"})
    assert sns.check_if_phone_number_is_opted_out(phoneNumber="+15555550100")["isOptedOut"] is False
    topic = sns.create_topic(Name=name("dpp"))["TopicArn"]
    policy = json.dumps({"Name": "p", "Version": "2021-06-01", "Statement": []})
    sns.put_data_protection_policy(ResourceArn=topic, DataProtectionPolicy=policy)
    assert sns.get_data_protection_policy(ResourceArn=topic)["DataProtectionPolicy"] == policy


def test_lambda_subscriptions_wait_for_lambda(cloud):
    """Until cloudlet has Lambda, a lambda subscription is kept and publishing still works."""
    sns = cloud.client("sns")
    topic = sns.create_topic(Name=name("fn"))["TopicArn"]
    fn = "arn:aws:lambda:us-east-1:000000000000:function:handler"
    arn = sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=fn)["SubscriptionArn"]
    assert sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]["Endpoint"] == fn
    assert sns.publish(TopicArn=topic, Message="to a function")["MessageId"]
