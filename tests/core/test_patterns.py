"""The event-pattern engine, checked against AWS's own examples and recorded answers.

Matching cases come from the EventBridge user guide (content filtering, arrays, null values,
"Considerations when creating event patterns") and the SNS developer guide (string/numeric value
matching, key matching, AND/OR logic, example filter policies); cases marked "recorded" are
answers AWS gave to TestEventPattern / SetSubscriptionAttributes, with their exact messages.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cloudlet.core.patterns import PatternError, compile_pattern

EC2_EVENT = {
    "version": "0",
    "id": "ddddd4-aaaa-7777-4444-345dd43cc333",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "012345679012",
    "time": "2017-10-02T16:24:49Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
    "detail": {
        "c-count": 5,
        "d-count": 3,
        "x-limit": 301.8,
        "source-ip": "10.0.0.33",
        "instance-id": "i-000000aaaaaa00000",
        "state": "running",
    },
}


def detail(**fields: object) -> dict:
    return {"source": "test-source", "detail-type": "test", "detail": fields}


EMPLOYEES = {
    "employees": [
        {"firstName": "John", "lastName": "Doe"},
        {"firstName": "Anna", "lastName": "Smith"},
        {"firstName": "Peter", "lastName": "Jones"},
    ]
}

# (case id, pattern, event, expected)
EVENTBRIDGE_CASES = [
    # values are alternatives; fields AND together; arrays intersect
    ("simple", {"detail-type": ["EC2 Instance State-change Notification"],
                "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
                "detail": {"state": ["initializing", "running"]}}, EC2_EVENT, True),
    ("simple-miss", {"source": ["aws.s3"], "detail": {"state": ["running"]}}, EC2_EVENT, False),
    ("key-case-sensitive", {"Source": ["aws.ec2"]}, EC2_EVENT, False),
    ("array-intersects", {"resources": ["a", "b"]}, {"resources": ["c", "b"]}, True),
    ("array-disjoint", {"resources": ["a"]}, {"resources": ["c", "b"]}, False),
    ("array-of-arrays", {"r": ["x"]}, {"r": [["a"], ["x"]]}, True),
    ("empty-array-no-null", {"resources": [None]}, {"resources": []}, False),  # recorded
    ("null-value", {"detail": {"responseElements": [None]}}, detail(responseElements=None), True),
    ("null-vs-missing", {"detail": {"responseElements": [None]}}, detail(), False),
    ("empty-string", {"detail": {"eventVersion": [""]}}, detail(eventVersion=""), True),
    ("boolean", {"detail": {"b": [True]}}, detail(b=True), True),
    ("boolean-not-string", {"detail": {"b": [True]}}, detail(b="true"), False),
    ("number-not-bool", {"detail": {"b": [1]}}, detail(b=True), False),
    ("string-not-number", {"detail": {"n": ["5"]}}, detail(n=5), False),
    ("number-by-value", {"detail": {"n": [300]}}, detail(n=3.0e2), True),
    ("number-float", {"detail": {"n": [3.018e2]}}, detail(n=301.8), True),
    ("big-integer", {"account": [123456789012345678]}, {"account": 123456789012345678}, True),
    # nested objects and the dot-joined field names
    ("nested", {"detail": {"state": ["running"]}}, EC2_EVENT, True),
    ("nested-not-object", {"detail": {"state": ["running"]}}, {"detail": "running"}, False),
    ("dots-in-pattern", {"detail": {"state.status": ["running"]}},
     detail(state={"status": "running"}), True),  # recorded
    ("dots-in-event", {"detail": {"state": {"status": ["running"]}}},
     detail(**{"state.status": "running"}), True),
    ("dots-pattern-neg", {"detail": {"state.status": {"status": ["running"]}}},
     detail(state={"status": "running"}), False),  # recorded
    ("dots-event-neg", {"detail": {"state": {"status": ["running"]}}},
     detail(**{"state.status": {"status": "running"}}), False),  # recorded
    # arrays of objects: fields must come from the same element
    ("array-objects", {"employees": {"firstName": ["Anna"]}}, EMPLOYEES, True),
    ("array-consistent", {"employees": {"firstName": ["Anna"], "lastName": ["Smith"]}}, EMPLOYEES, True),
    ("array-inconsistent", {"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}}, EMPLOYEES, False),
    ("array-nested-arrays", {"employees": {"firstName": ["Anna"], "lastName": ["Smith"]}},
     {"employees": [[EMPLOYEES["employees"][0], EMPLOYEES["employees"][1]],
                    [EMPLOYEES["employees"][2]]]}, True),
    # prefix / suffix / equals-ignore-case
    ("prefix", {"time": [{"prefix": "2017-10-02"}]}, EC2_EVENT, True),
    ("prefix-miss", {"time": [{"prefix": "2017-10-03"}]}, EC2_EVENT, False),
    ("prefix-not-number", {"n": [{"prefix": "1"}]}, {"n": 12}, False),
    ("prefix-ignore-case", {"detail": {"service": [{"prefix": {"equals-ignore-case": "EventB"}}]}},
     detail(service="eventbridge"), True),
    ("prefix-ignore-case-upper", {"detail": {"service": [{"prefix": {"equals-ignore-case": "EventB"}}]}},
     detail(service="EVENTBRIDGE"), True),
    ("prefix-ignore-case-miss", {"detail": {"service": [{"prefix": {"equals-ignore-case": "EventB"}}]}},
     detail(service="lambda"), False),
    ("suffix", {"FileName": [{"suffix": ".png"}]}, {"FileName": "image.png"}, True),
    ("suffix-miss", {"FileName": [{"suffix": ".png"}]}, {"FileName": "image.PNG"}, False),
    ("suffix-ignore-case", {"detail": {"FileName": [{"suffix": {"equals-ignore-case": ".png"}}]}},
     detail(FileName="photo.PNG"), True),
    ("equals-ignore-case", {"Name": [{"equals-ignore-case": "alice"}]}, {"Name": "ALICE"}, True),
    ("equals-ignore-case-miss", {"Name": [{"equals-ignore-case": "alice"}]}, {"Name": "Alicia"}, False),
    ("equals-ignore-case-empty", {"detail": {"value": [{"equals-ignore-case": ""}]}},
     detail(value=""), True),  # recorded
    ("exactly", {"Name": [{"exactly": "Alice"}]}, {"Name": "Alice"}, True),
    # anything-but, every form; it needs the field to be present
    ("anything-but", {"detail": {"state": [{"anything-but": "initializing"}]}}, EC2_EVENT, True),
    ("anything-but-neg", {"detail": {"state": [{"anything-but": "running"}]}}, EC2_EVENT, False),
    ("anything-but-null", {"detail": {"state": [{"anything-but": "initializing"}]}},
     detail(state=None), True),  # recorded
    ("anything-but-missing", {"detail": {"state": [{"anything-but": "initializing"}]}},
     detail(), False),  # recorded
    ("anything-but-number", {"detail": {"x-limit": [{"anything-but": 0}]}}, detail(**{"x-limit": 789}), True),
    ("anything-but-number-neg", {"detail": {"x-limit": [{"anything-but": 123}]}},
     detail(**{"x-limit": 123}), False),  # recorded
    ("anything-but-number-value", {"detail": {"x-limit": [{"anything-but": 123}]}},
     detail(**{"x-limit": 123.0}), False),
    ("anything-but-list", {"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}}, EC2_EVENT, True),
    ("anything-but-list-neg", {"detail": {"state": [{"anything-but": ["stopped", "running"]}]}}, EC2_EVENT, False),
    ("anything-but-numbers", {"detail": {"x-limit": [{"anything-but": [100, 200, 300]}]}}, EC2_EVENT, True),
    ("anything-but-numbers-neg", {"detail": {"x-limit": [{"anything-but": [100, 301.8]}]}}, EC2_EVENT, False),
    ("anything-but-array-any", {"s": [{"anything-but": ["a"]}]}, {"s": ["a", "b"]}, True),
    ("anything-but-array-none", {"s": [{"anything-but": ["a", "b"]}]}, {"s": ["a", "b"]}, False),
    ("anything-but-prefix", {"detail": {"state": [{"anything-but": {"prefix": "init"}}]}}, EC2_EVENT, True),
    ("anything-but-prefix-neg", {"detail": {"state": [{"anything-but": {"prefix": "run"}}]}}, EC2_EVENT, False),
    ("anything-but-prefix-number", {"detail": {"state": [{"anything-but": {"prefix": "init"}}]}},
     detail(state=12), True),  # recorded
    ("anything-but-prefix-list", {"Region": [{"anything-but": {"prefix": ["us-", "eu-"]}}]},
     {"Region": "ap-south-1"}, True),
    ("anything-but-prefix-list-neg", {"Region": [{"anything-but": {"prefix": ["us-", "eu-"]}}]},
     {"Region": "eu-west-1"}, False),
    ("anything-but-suffix", {"FileName": [{"anything-but": {"suffix": ".png"}}]}, {"FileName": "a.txt"}, True),
    ("anything-but-suffix-neg", {"FileName": [{"anything-but": {"suffix": ".png"}}]}, {"FileName": "a.png"}, False),
    ("anything-but-ignore-case", {"state": [{"anything-but": {"equals-ignore-case": "initializing"}}]},
     {"state": "INITIALIZING"}, False),
    ("anything-but-ignore-case-other", {"state": [{"anything-but": {"equals-ignore-case": "initializing"}}]},
     {"state": "running"}, True),
    ("anything-but-ignore-case-null", {"detail": {"state": [{"anything-but": {"equals-ignore-case": "initializing"}}]}},
     detail(state=None), True),  # recorded
    ("anything-but-ignore-case-list", {"state": [{"anything-but": {"equals-ignore-case": ["a", "B"]}}]},
     {"state": "b"}, False),
    ("anything-but-wildcard", {"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]},
     {"FilePath": "/usr/bin/python"}, True),
    ("anything-but-wildcard-neg", {"FilePath": [{"anything-but": {"wildcard": "*/lib/*"}}]},
     {"FilePath": "/usr/lib/python"}, False),
    ("anything-but-wildcard-number", {"detail": {"FilePath": [{"anything-but": {"wildcard": "*/dir/*"}}]}},
     detail(FilePath=123), True),  # recorded
    ("anything-but-wildcard-empty", {"detail": {"FilePath": [{"anything-but": {"wildcard": ""}}]}},
     detail(FilePath="dir/init/file"), True),  # recorded
    # numeric: by value, within +-5e9 and six decimals
    ("numeric-doc", {"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}],
                                "d-count": [{"numeric": ["<", 10]}],
                                "x-limit": [{"numeric": ["=", 3.018e2]}]}}, EC2_EVENT, True),
    ("numeric-upper-bound", {"detail": {"c-count": [{"numeric": [">", 0, "<", 5]}]}}, EC2_EVENT, False),
    ("numeric-lower-bound", {"n": [{"numeric": [">=", 5]}]}, {"n": 5}, True),
    ("numeric-open-lower", {"n": [{"numeric": [">", 5]}]}, {"n": 5}, False),
    ("numeric-equals-exponent", {"n": [{"numeric": ["=", 3.0e2]}]}, {"n": 300}, True),
    ("numeric-string", {"n": [{"numeric": [">", 0]}]}, {"n": "5"}, False),
    ("numeric-null", {"n": [{"numeric": [">", 0]}]}, {"n": None}, False),
    ("numeric-array", {"n": [{"numeric": [">", 10]}]}, {"n": [1, 20]}, True),
    ("numeric-beyond-limit", {"n": [{"numeric": [">", 0]}]}, {"n": 6e9}, False),
    ("numeric-seven-decimals", {"n": [{"numeric": [">", 1]}]}, {"n": 1.0000001}, False),
    ("numeric-negative", {"n": [{"numeric": ["<", 0]}]}, {"n": -0.5}, True),
    ("numeric-bool", {"n": [{"numeric": [">", 0]}]}, {"n": True}, False),
    # cidr, and the IP address forms event-ruler understands
    ("cidr", {"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}]}}, EC2_EVENT, True),
    ("cidr-miss", {"detail": {"source-ip": [{"cidr": "10.0.1.0/24"}]}}, EC2_EVENT, False),
    ("cidr-number", {"detail": {"sourceIPAddress": [{"cidr": "10.0.0.0/24"}]}},
     detail(sourceIPAddress=123), False),  # recorded
    ("cidr-not-ip", {"ip": [{"cidr": "10.0.0.0/8"}]}, {"ip": "ten"}, False),
    ("cidr-v6", {"ip": [{"cidr": "2001:db8:1234:1a00::/64"}]}, {"ip": "2001:db8:1234:1a00::9"}, True),
    ("cidr-v6-miss", {"ip": [{"cidr": "2001:db8:1234:1a00::/64"}]}, {"ip": "2001:db8:1234:1a01::9"}, False),
    ("cidr-v4-not-v6", {"ip": [{"cidr": "10.0.0.0/8"}]}, {"ip": "::a00:1"}, False),
    ("ip-literal", {"ip": ["2001:db8::1"]}, {"ip": "2001:0db8:0:0:0:0:0:1"}, True),
    # exists, on leaves only
    ("exists", {"detail": {"state": [{"exists": True}]}}, EC2_EVENT, True),
    ("exists-neg", {"detail": {"c-count": [{"exists": True}]}}, detail(), False),
    ("exists-null", {"detail": {"c-count": [{"exists": True}]}}, detail(**{"c-count": None}), True),
    ("exists-empty-array", {"resources": [{"exists": True}]}, {"resources": []}, False),  # recorded
    ("exists-object", {"detail": {"c-count": [{"exists": True}]}}, detail(**{"c-count": {"c1": 100}}), False),
    ("exists-false", {"detail": {"c-count": [{"exists": False}]}}, detail(state="x"), True),
    ("exists-false-object", {"detail": {"c-count": [{"exists": False}]}},
     detail(**{"c-count": {"c1": 100}}), True),  # the user guide's example
    ("exists-false-present", {"detail": {"c-count": [{"exists": False}]}}, EC2_EVENT, False),
    ("exists-false-no-parent", {"detail": {"c-count": [{"exists": False}]}}, {"source": "x"}, True),
    ("exists-false-empty-array", {"resources": [{"exists": False}]}, {"resources": []}, True),
    ("exists-false-in-array", {"a": {"b": [{"exists": False}]}}, {"a": [{"b": 1}, {"c": 2}]}, False),
    ("exists-or-anything-but", {"dynamodb": {"NewImage": {"homemade": {"S": [
        {"anything-but": ["roses"]}, {"exists": False}]}}}},
     {"dynamodb": {"NewImage": {"purchased": {"N": "789"}}}}, True),  # recorded
    # wildcard
    ("wildcard", {"source": [{"wildcard": "Simple*Service"}]}, {"source": "SimpleQueueService"}, True),
    ("wildcard-empty-run", {"source": [{"wildcard": "Simple*Service"}]}, {"source": "SimpleService"}, True),
    ("wildcard-miss", {"source": [{"wildcard": "Simple*Service"}]}, {"source": "SimpleQueue"}, False),
    ("wildcard-arn", {"EventBusArn": [{"wildcard": "arn:aws:events:us-east-1:*:event-bus/*"}]},
     {"EventBusArn": "arn:aws:events:us-east-1:123456789012:event-bus/myEventBus"}, True),
    ("wildcard-repeating", {"FileName": [{"wildcard": "/Users/*/dir/dir/dir/dir/dir/doc.txt"}]},
     {"FileName": "/Users/ls_user/dir/dir/dir/dir/dir/doc.txt"}, True),  # recorded
    ("wildcard-escaped-star", {"s": [{"wildcard": "a\\*b"}]}, {"s": "a*b"}, True),
    ("wildcard-escaped-star-literal", {"s": [{"wildcard": "a\\*b"}]}, {"s": "axb"}, False),
    ("wildcard-escaped-backslash", {"s": [{"wildcard": "a\\\\*"}]}, {"s": "a\\bc"}, True),
    ("wildcard-newline", {"s": [{"wildcard": "a*c"}]}, {"s": "a\nb\nc"}, True),
    # $or
    ("or", {"source": ["aws.cloudwatch"], "$or": [{"metricName": ["CPUUtilization", "ReadLatency"]},
                                                 {"namespace": ["AWS/EC2", "AWS/ES"]}]},
     {"source": "aws.cloudwatch", "namespace": "AWS/ES"}, True),
    ("or-neg", {"source": ["aws.cloudwatch"], "$or": [{"metricName": ["CPUUtilization"]},
                                                     {"namespace": ["AWS/EC2"]}]},
     {"source": "aws.cloudwatch", "namespace": "AWS/ES"}, False),
    ("or-parallel", {"$or": [{"metricName": ["CPUUtilization"]}, {"namespace": ["AWS/EC2"]}],
                     "detail": {"$or": [{"source": ["aws.cloudwatch"]},
                                        {"detail-type": ["CloudWatch Alarm State Change"]}]}},
     {"namespace": "AWS/EC2", "detail": {"detail-type": "CloudWatch Alarm State Change"}}, True),
    ("or-and-inside", {"source": ["aws.cloudwatch"], "$or": [
        {"metricName": ["CPUUtilization"]},
        {"metricType": ["MetricType"], "namespace": ["AWS/EC2"],
         "$or": [{"metricId": [1234]}, {"spaceId": [1000]}]}]},
     {"source": "aws.cloudwatch", "metricType": "MetricType", "namespace": "AWS/EC2", "spaceId": 1000}, True),
    ("or-and-inside-neg", {"source": ["aws.cloudwatch"], "$or": [
        {"metricName": ["CPUUtilization"]},
        {"metricType": ["MetricType"], "namespace": ["AWS/EC2"],
         "$or": [{"metricId": [1234]}, {"spaceId": [1000]}]}]},
     {"source": "aws.cloudwatch", "metricType": "MetricType", "spaceId": 1000}, False),
    ("or-exists", {"$or": [{"a": [{"exists": True}]}, {"b": [{"exists": False}]}]}, {"c": 1}, True),
    # the user guide's complex example
    ("complex", {"time": [{"prefix": "2017-10-02"}],
                 "detail": {"state": [{"anything-but": "initializing"}],
                            "c-count": [{"numeric": [">", 0, "<=", 5]}],
                            "d-count": [{"numeric": ["<", 10]}],
                            "x-limit": [{"anything-but": [100, 200, 300]}],
                            "source-ip": [{"cidr": "10.0.0.0/8"}]}}, EC2_EVENT, True),
    ("not-an-object-event", {"a": [{"exists": False}]}, "just a string", True),
]


@pytest.mark.parametrize("pattern, event, expected",
                         [c[1:] for c in EVENTBRIDGE_CASES], ids=[c[0] for c in EVENTBRIDGE_CASES])
def test_eventbridge_matching(pattern: dict, event: dict, expected: bool) -> None:
    assert compile_pattern(json.dumps(pattern)).matches(event) is expected


def test_pattern_may_be_a_dict() -> None:
    assert compile_pattern({"source": ["aws.ec2"]}).matches(EC2_EVENT)


# SNS: message attributes arrive as a plain dict (Number as numbers, String.Array as lists)
ATTRS = {"customer_interests": ["soccer", "rugby", "hockey"], "store": "example_corp",
         "event": "order_placed", "price_usd": 210.75}

SNS_CASES = [
    ("example-policy", {"store": ["example_corp"], "event": [{"anything-but": "order_cancelled"}],
                        "customer_interests": ["rugby", "football", "baseball"],
                        "price_usd": [{"numeric": [">=", 100]}]}, ATTRS, True),
    ("example-policy-neg", {"store": ["example_corp"], "price_usd": [{"numeric": ["<", 100]}]}, ATTRS, False),
    ("exact", {"customer_interests": ["rugby", "tennis"]}, {"customer_interests": "rugby"}, True),
    ("exact-array", {"customer_interests": ["rugby", "tennis"]}, {"customer_interests": ["rugby", "tennis"]}, True),
    ("exact-neg", {"customer_interests": ["rugby", "tennis"]}, {"customer_interests": "baseball"}, False),
    ("exact-array-neg", {"customer_interests": ["rugby", "tennis"]}, {"customer_interests": ["baseball"]}, False),
    ("case-sensitive", {"store": ["Example_Corp"]}, ATTRS, False),
    ("prefix", {"customer_interests": [{"prefix": "bas"}]}, {"customer_interests": "basketball"}, True),
    ("prefix-neg", {"customer_interests": [{"prefix": "bas"}]}, {"customer_interests": "rugby"}, False),
    ("suffix", {"customer_interests": [{"suffix": "ball"}]}, {"customer_interests": "baseball"}, True),
    ("equals-ignore-case", {"customer_interests": [{"equals-ignore-case": "tennis"}]},
     {"customer_interests": "TeNnIs"}, True),
    ("anything-but", {"customer_interests": [{"anything-but": ["rugby", "tennis"]}]},
     {"customer_interests": "baseball"}, True),
    ("anything-but-array", {"customer_interests": [{"anything-but": ["rugby", "tennis"]}]},
     {"customer_interests": ["rugby", "baseball"]}, True),
    ("anything-but-neg", {"customer_interests": [{"anything-but": ["rugby", "tennis"]}]},
     {"customer_interests": "rugby"}, False),
    ("anything-but-prefix", {"event": [{"anything-but": {"prefix": "order-"}}]}, {"event": "data-entry"}, True),
    ("anything-but-prefix-underscore", {"event": [{"anything-but": {"prefix": "order-"}}]},
     {"event": "order_number"}, True),
    ("anything-but-prefix-neg", {"event": [{"anything-but": {"prefix": "order-"}}]},
     {"event": "order-cancelled"}, False),
    ("anything-but-null-or-missing", {"attr1": [None, {"anything-but": "whatever"}]}, {}, False),  # recorded
    ("cidr-low", {"source_ip": [{"cidr": "10.0.0.0/24"}]}, {"source_ip": "10.0.0.0"}, True),
    ("cidr-high", {"source_ip": [{"cidr": "10.0.0.0/24"}]}, {"source_ip": "10.0.0.255"}, True),
    ("cidr-neg", {"source_ip": [{"cidr": "10.0.0.0/24"}]}, {"source_ip": "10.1.1.0"}, False),
    ("numeric-equals", {"price_usd": [{"numeric": ["=", 301.5]}]}, {"price_usd": 3.015e2}, True),
    ("numeric-anything-but", {"price": [{"anything-but": [100, 500]}]}, {"price": 100.1}, True),
    ("numeric-anything-but-array", {"price": [{"anything-but": [100, 500]}]}, {"price": [100, 50]}, True),
    ("numeric-anything-but-neg", {"price": [{"anything-but": [100, 500]}]}, {"price": 100}, False),
    ("numeric-negative", {"price_usd": [{"numeric": ["<", 0]}]}, {"price_usd": -1}, True),
    ("numeric-range", {"price_usd": [{"numeric": [">", 0, "<=", 150]}]}, {"price_usd": 150}, True),
    ("numeric-range-neg", {"price_usd": [{"numeric": [">", 0, "<=", 150]}]}, {"price_usd": 150.5}, False),
    ("numeric-beyond-eventbridge-limits", {"n": [{"numeric": [">", 0]}]}, {"n": 6e9}, True),
    ("exists", {"store": [{"exists": True}]}, ATTRS, True),
    ("exists-neg", {"store": [{"exists": True}]}, {"customer_interests": ["baseball"]}, False),
    ("not-exists", {"store": [{"exists": False}]}, {"customer_interests": ["baseball"]}, True),
    ("not-exists-neg", {"store": [{"exists": False}]}, ATTRS, False),
    ("and", {"customer_interests": ["rugby"], "price_usd": [{"numeric": [">", 100]}]}, ATTRS, True),
    ("and-neg", {"customer_interests": ["rugby"], "price_usd": [{"numeric": [">", 300]}]}, ATTRS, False),
    ("or-operator", {"source": ["aws.cloudwatch"], "$or": [{"metricName": ["CPUUtilization"]},
                                                          {"namespace": ["AWS/EC2"]}]},
     {"source": "aws.cloudwatch", "namespace": "AWS/EC2"}, True),
    ("dotted-attribute-name", {"a.b": ["x"]}, {"a.b": "x"}, True),
]


@pytest.mark.parametrize("policy, attributes, expected",
                         [c[1:] for c in SNS_CASES], ids=[c[0] for c in SNS_CASES])
def test_sns_attribute_matching(policy: dict, attributes: dict, expected: bool) -> None:
    assert compile_pattern(json.dumps(policy), dialect="sns").matches(attributes) is expected


SNS_BODY_CASES = [
    ("nested", {"object": {"key": [{"prefix": "auto-"}]}}, {"object": {"key": "auto-test"}}, True),
    ("nested-neg", {"object": {"key": [{"prefix": "auto-"}]}}, {"object": {"key": "manual"}}, False),
    ("example-body", {"store": ["example_corp"], "customer_interests": ["rugby"]},
     {"customer_interests": ["soccer", "rugby", "hockey"], "store": "example_corp",
      "event": "order_placed", "price_usd": 210.75}, True),
    ("array-of-objects", {"orders": {"state": ["shipped"]}},
     {"orders": [{"state": "new"}, {"state": "shipped"}]}, True),
]


@pytest.mark.parametrize("policy, body, expected",
                         [c[1:] for c in SNS_BODY_CASES], ids=[c[0] for c in SNS_BODY_CASES])
def test_sns_body_matching(policy: dict, body: dict, expected: bool) -> None:
    matcher = compile_pattern(json.dumps(policy), dialect="sns", scope="MessageBody")
    assert matcher.matches(body) is expected


# --- invalid patterns: AWS's recorded messages, location and all -----------------------------

EB = "Event pattern is not valid. Reason: "


def loc(text: str, column: int) -> str:
    return f'\n at [Source: (String)"{text}"; line: 1, column: {column}]'


def eb(text: str, reason: str, column: int | None, twice: bool = False) -> tuple[str, str]:
    where = "" if column is None else loc(text, column) * (2 if twice else 1)
    return text, EB + reason + where


EVENTBRIDGE_ERRORS = [
    eb('{"int": 42}', '"int" must be an object or an array', 11),
    eb('{"string": "my-value"}', '"string" must be an object or an array', 13),
    eb('{"resources": []}', "Empty arrays are not allowed", 17),
    eb('{"detail": {"equal": [{"NUMERIC": ["=", 5]}]}}', "Unrecognized match type NUMERIC", 36),
    eb('{"my_key": [{"EXISTS": true}]}', "Unrecognized match type EXISTS", 28),
    eb('{"detail": {"c-count": [{"numeric": [">", 0, ">", 0]}]}}', "Bad numeric range operator: >", 49),
    eb('{"detail": {"c-count": [{"numeric": [">", 0, "<"]}]}}', "Value of < must be numeric", 50),
    eb('{"EventBusArn": [{"wildcard": "*:*:*:*:*:event-bus/*"}]}',
       "Rule is too complex - try using fewer wildcard characters or fewer repeating character "
       "sequences after a wildcard character", None),
    eb('{"detail-type": [{"equals-ignore-case": ["ec2 instance state-change notification"]}]}',
       "equals-ignore-case match pattern must be a string", 42),
    eb('{"detail-type": [{"equals-ignore-case": {"prefix": "ec2"}}]}',
       "equals-ignore-case match pattern must be a string", 42),
    eb('{"detail": {"state": [{"anything-but": {"equals-ignore-case": 123}}]}}',
       "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.", 66),
    eb('{"detail": {"state": [{"anything-but": {"equals-ignore-case": [123, 456]}}]}}',
       "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.", 67,
       twice=True),
    eb("this is valid json but not a dict",
       "Unrecognized token 'this': was expecting (JSON String, Number, Array, Object or token "
       "'null', 'true' or 'false')", 5),
    eb("{'bad': 'quotation'}",
       "Unexpected character (''' (code 39)): was expecting double-quote to start field name", 2),
    eb('{"not": closed mark"',
       "Unrecognized token 'closed': was expecting (JSON String, Number, Array, Object or token "
       "'null', 'true' or 'false')", 15),
    eb('["not", "a", "dict", "but valid json"]', "Filter is not an object", 2),
    eb('{"EventBusArn": [{"wildcard": 123}]}', "wildcard match pattern must be a string", 34),
    eb('{"detail": {"state": [{"anything-but": {"wildcard": [123, "*/dir/*"]}}]}}',
       "wildcard match pattern must be a string", 57, twice=True),
    eb('{"detail": {"FilePath": [{"anything-but": {"wildcard": 123}}]}}',
       "wildcard match pattern must be a string", 59),
    eb('{"detail": {"FileName": [{"anything-but": {"suffix": [123, ".txt"]}}]}}',
       "prefix/suffix match pattern must be a string", 58, twice=True),
    eb('{"detail": {"FileName": [{"anything-but": {"suffix": 123}}]}}',
       "prefix/suffix match pattern must be a string", 57),
    eb('{"detail": {"state": [{"anything-but": {"prefix": [123, "test"]}}]}}',
       "prefix/suffix match pattern must be a string", 55, twice=True),
    eb('{"detail": {"state": [{"anything-but": {"prefix": 123}}]}}',
       "prefix/suffix match pattern must be a string", 54),
    eb('{"time": [{"prefix": ["2022-07-13"]}]}', "prefix match pattern must be a string", 23),
    eb('{"time": [{"prefix": 123}]}', "prefix match pattern must be a string", 25),
    eb('{"FileName": [{"suffix": 123}]}', "suffix match pattern must be a string", 29),
    eb('{"FileName": [{"suffix": [".png"]}]}', "suffix match pattern must be a string", 27),
    eb('{"detail": {"FileName": [{"anything-but": {"prefix": {"equals-ignore-case": "file"}}}]}}',
       "Value of anything-but must be an array or single string/number value.", 55),
    eb('{"detail": {"FileName": [{"anything-but": {"suffix": {"equals-ignore-case": ".png"}}}]}}',
       "Value of anything-but must be an array or single string/number value.", 55),
    eb('{"detail": {"sourceIPAddress": [{"cidr": ["bad-type"]}]}}', "prefix match pattern must be a string", 43),
    eb('{"ip": [{"cidr": "10.0.0.0"}]}', "Malformed CIDR, one '/' required", None),
    eb('{"ip": [{"cidr": "10.0.0.0/xx"}]}', "Malformed CIDR, mask bits must be an integer", None),
    eb('{"ip": [{"cidr": "xx.11.xx/24"}]}', "Nonstandard IP address: xx.11.xx", None),
    eb('{"ip": [{"cidr": "xxxx:db8:1234:1a00::/64"}]}', "Nonstandard IP address: xxxx:db8:1234:1a00::", None),
    eb('{"ip": [{"cidr": "10.0.0.0/32"}]}', "IPv4 mask bits must be < 32", None),
    eb('{"a": [{"wildcard": "arn:aws:events:us-east-1:**:event-bus/*"}]}',
       "Consecutive wildcard characters at pos 26", 62),
    eb('{"a": [{"wildcard": "a\\\\b"}]}', "Invalid escape character at pos 2", 27),
    eb("{}", "Empty objects are not allowed", 3),
    eb('{"a": {}}', "Empty objects are not allowed", 9),
    eb('{"a": [{}]}', "Match expression name not found", 10),
    eb('{"a": [{"exists": true, "prefix": "x"}]}', "Only one key allowed in match expression", 36),
    eb('{"a": [{"anything-but": ["x", 1]}]}',
       "Inside anything but list, either all values are number or string, mixed type is not supported", 33),
    eb('{"a": [{"anything-but": {"prefix": ""}}]}', "Null prefix/suffix not allowed", 38),
    eb('{"a": [{"anything-but": {"contains": "x"}}]}', "Unsupported anything-but pattern: contains", 39),
    eb('{"a": [{"numeric": [">", 0, "<", 6e9]}]}', "Value must be between -5.0E9 and 5.0E9, inclusive", 38),
    eb('{"$or": [{"a": ["x"]}]}', "There must have at least 2 Objects in $or relationship.", 23),
    eb('{"$or": {"a": ["x"]}}', "It must be an Array followed with $or.", 10),
    eb('{"$or": [{"a": ["x"]}, "b"]}', "Only JSON object is allowed in array of $or relationship.", 25),
    eb('{"$or": [{"a": ["x"]}, {"prefix": ["b"]}]}',
       "prefix is Ruler reserved fieldName which cannot be used inside $or.", 36),
    eb('{"a": ["x"]', "Unexpected end-of-input: expected close marker for OBJECT (start marker at "
                     '[Source: (String)"{"a": ["x"]"; line: 1, column: 1])', 12),
]


@pytest.mark.parametrize("pattern, message", EVENTBRIDGE_ERRORS)
def test_eventbridge_errors(pattern: str, message: str) -> None:
    with pytest.raises(PatternError) as info:
        compile_pattern(pattern)
    assert str(info.value) == message
    assert message.endswith(info.value.reason)


def test_error_location_counts_lines() -> None:
    text = '{\n  "a": [\n    {"prefix": 1}\n  ]\n}'
    with pytest.raises(PatternError) as info:
        compile_pattern(text)
    assert str(info.value) == EB + "prefix match pattern must be a string" + (
        f'\n at [Source: (String)"{text}"; line: 3, column: 17]')


def test_long_pattern_source_is_truncated_like_aws() -> None:
    text = json.dumps({"a": ["x" * 600], "b": 1})
    with pytest.raises(PatternError) as info:
        compile_pattern(text)
    assert f'[Source: (String)"{text[:500]}"[truncated {len(text) - 500} chars]; line: 1,' in str(info.value)


def test_trailing_text_after_the_pattern_is_ignored_like_aws() -> None:
    assert compile_pattern('{"source": ["a"]} trailing').matches({"source": "a"})


SNS_PREFIX = "Invalid parameter: FilterPolicy: "
SUBSCRIBE_PREFIX = "Invalid parameter: Attributes Reason: FilterPolicy: "

SNS_ERRORS = [  # recorded through Subscribe / SetSubscriptionAttributes
    ('{"key":[["value"]]}', "Match value must be String, number, true, false, or null", 10),
    ('{"key":[{"wrong-operator":true}]}', "Unrecognized match type wrong-operator", 31),
    ('{"key":[{"suffix":"value","prefix":"value2"}]}', "Only one key allowed in match expression", 37),
    ('{"key":[{"suffix":100}]}', "suffix match pattern must be a string", 22),
    ('{"key":[{"suffix":null}]}', "suffix match pattern must be a string", 23),
    ('{"key":{"suffix":"value"}}', '"suffix" must be an object or an array', 19),
    ('{"key":[{"suffix":[]}]}', "suffix match pattern must be a string", 20),
    ('{"key":{"not-an-operator":"value"}}', '"not-an-operator" must be an object or an array', 28),
    ('{"key":[{"numeric":[]}]}', "Invalid member in numeric match: ]", 22),
    ('{"key":[{"numeric":["operator"]}]}', "Unrecognized numeric range operator: operator", 32),
    ('{"key":[{"numeric":[1,"<="]}]}', "Invalid member in numeric match: 1", 22),
    ('{"key":[{"numeric":["=","000"]}]}', "Value of equals must be numeric", 26),
    ('{"key":[{"numeric":[">="]}]}', "Value of >= must be numeric", 26),
    ('{"key":[{"numeric":["<",100,">",10]}]}', "Too many elements in numeric expression", 30),
    ('{"key":[{"numeric":[">=",1,">",2]}]}', "Bad numeric range operator: >", 31),
    ('{"key":[{"numeric":[">",3,"<",1]}]}', "Bottom must be less than top", 33),
    ('{"key":[{"numeric":[">",20,"<="]}]}', "Value of <= must be numeric", 33),
    ('{"key":[{"numeric":[">",20,30]}]}', "Bad value in numeric range: 30", 30),
    ('{"key":[{"numeric":[">",20,"test"]}]}', "Bad numeric range operator: test", 34),
    ('{"key":[{"numeric":[">","20","<","30"]}]}', "Value of > must be numeric", 26),
    ('{"key":[{"numeric":[">",20,"<","30"]}]}', "Value of < must be numeric", 33),
    ('{"key":[{"numeric":[">",20,"<",30,"<",50]}]}', "Too many terms in numeric range expression", 36),
    ('{"key":[{"exists":null}]}', "exists match pattern must be either true or false.", 23),
    ('{"key":[{"exists":"no"}]}', "exists match pattern must be either true or false.", 20),
    ('{"key_a":"value_one"}', '"key_a" must be an object or an array', 11),
]


@pytest.mark.parametrize("policy, reason, column", SNS_ERRORS)
def test_sns_errors(policy: str, reason: str, column: int) -> None:
    with pytest.raises(PatternError) as info:
        compile_pattern(policy, dialect="sns")
    assert str(info.value) == SNS_PREFIX + reason + loc(policy, column)
    assert info.value.subscribe_message == SUBSCRIBE_PREFIX + reason + loc(policy, column)


def sns_error(policy: object, scope: str = "MessageAttributes") -> str:
    with pytest.raises(PatternError) as info:
        compile_pattern(json.dumps(policy), dialect="sns", scope=scope)
    return str(info.value)


def test_sns_limits() -> None:
    assert sns_error({"store": [str(i) for i in range(151)]}) == SNS_PREFIX + "Filter policy is too complex"
    assert sns_error({f"key_{c}": ["v"] for c in "abcdef"}) == (
        SNS_PREFIX + "Filter policy can not have more than 5 keys")
    # nested keys weigh by depth: 3x4 * 2x3 * 1x3 = 216 (recorded)
    nested = {"key_a": {"key_b": {"key_c": ["one", "two", "three", "four"]}},
              "key_d": {"key_e": ["one", "two", "three"]}, "key_f": ["one", "two", "three"]}
    assert sns_error(nested, "MessageBody") == SNS_PREFIX + "Filter policy is too complex"
    assert sns_error({"a": [1, 2, 3], "$or": [{"b": list(range(30))}, {"c": list(range(30))}]}) == (
        SNS_PREFIX + "Filter policy is too complex")  # 3 x (30 + 30)
    compile_pattern(json.dumps({"a": [1, 2, 3], "$or": [{"b": list(range(25))}, {"c": list(range(25))}]}),
                    dialect="sns")
    compile_pattern(json.dumps({"store": [str(i) for i in range(150)]}), dialect="sns")


def test_sns_nesting_needs_the_body_scope() -> None:
    policy = {"object": {"key": [{"prefix": "auto-"}]}}
    with pytest.raises(PatternError) as info:
        compile_pattern(json.dumps(policy), dialect="sns")
    assert str(info.value) == (
        "Invalid parameter: Filter policy scope MessageAttributes does not support nested filter policy")
    assert compile_pattern(json.dumps(policy), dialect="sns", scope="MessageBody").matches(
        {"object": {"key": "auto-1"}})


def test_sns_has_no_wildcards() -> None:
    assert sns_error({"a": [{"wildcard": "x*"}]}).startswith(SNS_PREFIX + "Unrecognized match type wildcard")
    assert sns_error({"a": [{"anything-but": {"wildcard": "x*"}}]}).startswith(
        SNS_PREFIX + "Unsupported anything-but pattern: wildcard")


def test_sns_numbers_are_not_held_to_eventbridge_limits() -> None:
    compile_pattern('{"n": [{"numeric": [">", 6e9]}]}', dialect="sns")
    with pytest.raises(PatternError):
        compile_pattern('{"n": [{"numeric": [">", 6e9]}]}')


def test_unknown_dialect_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="dialect"):
        compile_pattern("{}", dialect="sqs")


# --- properties ----------------------------------------------------------------------------

KEYS = st.sampled_from(["a", "b", "c", "source", "detail-type"])
WORDS = st.text(alphabet="abcXYZ.-*", min_size=0, max_size=6)
SCALARS = st.one_of(WORDS, st.integers(-1000, 1000), st.booleans(), st.none(),
                    st.floats(-1e3, 1e3, allow_nan=False).map(lambda f: round(f, 3)))


@st.composite
def conditions(draw: st.DrawFn) -> tuple[object, object]:
    """A (match expression, value satisfying it) pair."""
    kind = draw(st.sampled_from(["exact", "prefix", "suffix", "ignore-case", "numeric",
                                 "anything-but", "exists", "wildcard", "cidr"]))
    word = draw(st.text(alphabet="abcXYZ-", min_size=1, max_size=5))
    if kind == "exact":
        value = draw(SCALARS)
        return value, value
    if kind == "prefix":
        return {"prefix": word}, word + draw(WORDS)
    if kind == "suffix":
        return {"suffix": word}, draw(WORDS) + word
    if kind == "ignore-case":
        return {"equals-ignore-case": word}, word.swapcase()
    if kind == "numeric":
        low = draw(st.integers(-100, 100))
        return {"numeric": [">=", low, "<", low + 10]}, low + draw(st.integers(0, 9))
    if kind == "anything-but":
        return {"anything-but": [word]}, word + "!"
    if kind == "exists":
        return {"exists": True}, draw(SCALARS)
    if kind == "wildcard":
        return {"wildcard": word + "*"}, word + draw(WORDS)
    host = draw(st.integers(0, 255))
    return {"cidr": "10.1.2.0/24"}, f"10.1.2.{host}"


@st.composite
def patterns_with_events(draw: st.DrawFn) -> tuple[dict, dict]:
    pattern: dict = {}
    event: dict = {}
    for key in draw(st.lists(KEYS, min_size=1, max_size=4, unique=True)):
        condition, value = draw(conditions())
        nested = draw(st.booleans())
        if nested:
            pattern.setdefault("detail", {})[key] = [condition]
            event.setdefault("detail", {})[key] = value
        else:
            pattern[key] = [condition]
            event[key] = value
    return pattern, event


@settings(max_examples=300, deadline=None)
@given(patterns_with_events())
@example(({"a": [{"anything-but": ["x"]}]}, {"a": "x!"}))
def test_a_pattern_matches_the_event_built_to_satisfy_it(case: tuple[dict, dict]) -> None:
    pattern, event = case
    text = json.dumps(pattern)
    assert compile_pattern(text).matches(event)
    if "wildcard" not in text:  # SNS has every other operator
        assert compile_pattern(text, dialect="sns", scope="MessageBody").matches(event)


BRANCH_KEYS = st.sampled_from(["a", "b", "source", "detail-type"])  # "c" is the shared one
SIMPLE = st.dictionaries(BRANCH_KEYS, st.lists(st.one_of(WORDS, st.integers(0, 3)), min_size=1, max_size=3),
                         min_size=1, max_size=3)
EVENTS = st.dictionaries(KEYS, st.one_of(WORDS, st.integers(0, 3), st.lists(WORDS, max_size=3)), max_size=5)


@settings(max_examples=300, deadline=None)
@given(SIMPLE, SIMPLE, st.dictionaries(st.just("c"), st.lists(WORDS, min_size=1, max_size=2), max_size=1),
       EVENTS)
def test_or_is_the_union_of_its_branches(a: dict, b: dict, shared: dict, event: dict) -> None:
    either = compile_pattern(json.dumps({**shared, "$or": [a, b]}))
    first = compile_pattern(json.dumps({**a, **shared}))
    second = compile_pattern(json.dumps({**b, **shared}))
    assert either.matches(event) == (first.matches(event) or second.matches(event))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(KEYS, st.lists(WORDS, min_size=1, max_size=2), min_size=1, max_size=3),
       st.dictionaries(KEYS, st.one_of(WORDS, st.dictionaries(KEYS, WORDS, max_size=3)), max_size=4))
def test_nested_and_dotted_field_names_are_the_same_field(fields: dict, event: dict) -> None:
    nested = compile_pattern(json.dumps({"outer": fields}))
    dotted = compile_pattern(json.dumps({f"outer.{k}": v for k, v in fields.items()}))
    wrapped = {"outer": event}
    assert nested.matches(wrapped) == dotted.matches(wrapped)


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**10, 10**10), WORDS,
              st.sampled_from(["prefix", "numeric", "anything-but", "exists", "cidr", "$or", ">", "<=",
                               "wildcard", "equals-ignore-case", "10.0.0.0/8", "*a*"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from(["a", "$or", "prefix", "numeric", "anything-but",
                                                             "exists", "suffix", "cidr", "wildcard"]),
                                            inner, max_size=3)),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(JSON_VALUES, st.sampled_from(["eventbridge", "sns"]))
def test_any_json_compiles_or_fails_with_an_aws_message(value: object, dialect: str) -> None:
    try:
        matcher = compile_pattern(json.dumps(value), dialect=dialect, scope="MessageBody")
    except PatternError as err:
        assert str(err).startswith(("Event pattern is not valid. Reason: ", "Invalid parameter: "))
        return
    matcher.matches({"a": value})


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_any_text_compiles_or_fails_with_an_aws_message(text: str) -> None:
    try:
        compile_pattern(text)
    except PatternError as err:
        assert str(err).startswith("Event pattern is not valid. Reason: ")
