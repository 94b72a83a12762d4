"""Model-driven input validation: AWS's codes and words per service, and a sweep.

The pinned cases assert the exact error a client would see (code, status, message) for
the services whose wording was researched. The sweep runs every operation of every
model: generated valid input must pass, and the same input without one required member
must fail with the service's code. ``CLOUDLET_DEEP=1`` sweeps more seeds.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import time
from dataclasses import replace

import pytest

from cloudlet.core.errors import ServiceError
from cloudlet.protocol import validate
from cloudlet.protocol.model import load_service, raw_model, service_names
from cloudlet.protocol.validate import build_validator, family_for, pattern_for, validator

from .shapegen import ShapeGen

DEEP = os.environ.get("CLOUDLET_DEEP") == "1"


def fail(service: str, op: str, params: dict) -> ServiceError:
    with pytest.raises(ServiceError) as info:
        validator(service, op)(params)
    return info.value


def ok(service: str, op: str, params: dict) -> None:
    validator(service, op)(params)


def one(message: str) -> str:
    return "1 validation error detected: " + message


# --- STS (query: ValidationError) ------------------------------------------------------


def test_sts_assume_role_without_role_arn():
    err = fail("sts", "AssumeRole", {"RoleSessionName": "build"})
    assert (err.code, err.status, err.query_code) == ("ValidationError", 400, None)
    assert err.message == one(
        "Value null at 'roleArn' failed to satisfy constraint: Member must not be null"
    )


def test_sts_empty_role_arn_breaks_its_pattern_and_its_length():
    err = fail("sts", "AssumeRole", {"RoleArn": "", "RoleSessionName": "build"})
    pattern = load_service("sts").shape_for("arnType").metadata["pattern"]
    assert err.message == (
        "2 validation errors detected: "
        f"Value '' at 'roleArn' failed to satisfy constraint: Member must satisfy regular expression pattern: {pattern}; "
        "Value '' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20"
    )


def test_sts_real_values_pass_its_patterns():
    ok("sts", "AssumeRole", {
        "RoleArn": "arn:aws:iam::123456789012:role/deploy", "RoleSessionName": "ci-run@42",
        "DurationSeconds": 3600, "ExternalId": "x-1:2/3",
    })


def test_sts_duration_out_of_range():
    err = fail("sts", "AssumeRole", {
        "RoleArn": "arn:aws:iam::123456789012:role/deploy", "RoleSessionName": "s", "DurationSeconds": 60,
    })
    assert err.message == (
        "2 validation errors detected: "
        "Value 's' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2; "
        "Value '60' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"
    )


# --- Lambda (rest-json: ValidationException) ------------------------------------------

LAMBDA_OK = {
    "FunctionName": "resize-images",
    "Role": "arn:aws:iam::123456789012:role/lambda-exec",
    "Code": {"ZipFile": b"PK\x03\x04"},
    "Runtime": "python3.12",
    "Handler": "app.handler",
}


def test_lambda_create_function_real_values_pass():
    ok("lambda", "CreateFunction", {**LAMBDA_OK, "MemorySize": 512, "Timeout": 30, "Architectures": ["arm64"]})


def test_lambda_memory_size_below_minimum():
    err = fail("lambda", "CreateFunction", {**LAMBDA_OK, "MemorySize": 64})
    assert (err.code, err.status) == ("ValidationException", 400)
    assert err.message == one(
        "Value '64' at 'memorySize' failed to satisfy constraint: "
        "Member must have value greater than or equal to 128"
    )


def test_lambda_memory_size_above_maximum_and_bad_role_in_model_order():
    err = fail("lambda", "CreateFunction", {**LAMBDA_OK, "Role": "lambda-exec", "MemorySize": 99999})
    role_pattern = load_service("lambda").shape_for("RoleArn").metadata["pattern"]
    assert err.message == (
        "2 validation errors detected: "
        f"Value 'lambda-exec' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: {role_pattern}; "
        "Value '99999' at 'memorySize' failed to satisfy constraint: Member must have value less than or equal to 32768"
    )


def test_lambda_member_names_lower_only_the_first_letter():
    err = fail("lambda", "CreateFunction", {**LAMBDA_OK, "KMSKeyArn": "not-an-arn"})
    assert "at 'kMSKeyArn' failed" in err.message


def test_lambda_list_size():
    err = fail("lambda", "CreateFunction", {**LAMBDA_OK, "Architectures": ["x86_64", "arm64"]})
    assert err.message == one(
        "Value '[x86_64, arm64]' at 'architectures' failed to satisfy constraint: "
        "Member must have length less than or equal to 1"
    )


def test_lambda_enums_are_left_to_the_handler():
    ok("lambda", "CreateFunction", {**LAMBDA_OK, "Runtime": "python9.9"})


def test_wrong_type_is_a_serialization_error_not_a_crash():
    err = fail("lambda", "CreateFunction", {**LAMBDA_OK, "MemorySize": "lots"})
    assert (err.code, err.status) == ("SerializationException", 400)
    assert "memorySize" in err.message


# --- SQS (json, query-compatible) -----------------------------------------------------

QUEUE = "http://sqs.us-east-1.localhost:4566/123456789012/jobs"


def test_sqs_receive_more_than_ten_messages():
    err = fail("sqs", "ReceiveMessage", {"QueueUrl": QUEUE, "MaxNumberOfMessages": 11})
    assert (err.code, err.status, err.query_code) == ("InvalidParameterValue", 400, "InvalidParameterValue")
    assert err.message == (
        "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided."
    )


def test_sqs_wait_time_over_twenty_seconds():
    err = fail("sqs", "ReceiveMessage", {"QueueUrl": QUEUE, "WaitTimeSeconds": 25})
    assert err.message == (
        "Value 25 for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided."
    )


def test_sqs_limits_at_their_bounds_pass():
    ok("sqs", "ReceiveMessage", {"QueueUrl": QUEUE, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 20})
    ok("sqs", "ReceiveMessage", {"QueueUrl": QUEUE, "MaxNumberOfMessages": 1, "WaitTimeSeconds": 0})


def test_sqs_missing_parameter_comes_before_bad_values():
    err = fail("sqs", "ReceiveMessage", {"MaxNumberOfMessages": 11})
    assert (err.code, err.status, err.query_code) == ("MissingParameter", 400, "MissingParameter")
    assert err.message == "The request must contain the parameter QueueUrl."


def test_sqs_unknown_attribute_names_are_left_to_the_handler():
    ok("sqs", "ReceiveMessage", {"QueueUrl": QUEUE, "MessageSystemAttributeNames": ["NoSuchThing"]})


# --- DynamoDB (json: ValidationException, enums checked) ------------------------------


def test_dynamodb_missing_table_name():
    err = fail("dynamodb", "GetItem", {"Key": {"pk": {"S": "a"}}})
    assert (err.code, err.status) == ("ValidationException", 400)
    assert err.message == one(
        "Value null at 'tableName' failed to satisfy constraint: Member must not be null"
    )


def test_dynamodb_enum_inside_a_list():
    err = fail("dynamodb", "CreateTable", {
        "TableName": "orders",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "STRING"}],
        "BillingMode": "PAY_PER_REQUEST",
    })
    assert err.message == one(
        "Value 'STRING' at 'attributeDefinitions.1.member.attributeType' failed to satisfy constraint: "
        "Member must satisfy enum value set: [S, N, B]"
    )


def test_dynamodb_several_errors_are_counted_and_joined():
    err = fail("dynamodb", "Scan", {"TableName": "", "Limit": 0, "Select": "EVERYTHING"})
    assert err.message == (
        "3 validation errors detected: "
        "Value '' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 1; "
        "Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1; "
        "Value 'EVERYTHING' at 'select' failed to satisfy constraint: "
        "Member must satisfy enum value set: [ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES, SPECIFIC_ATTRIBUTES, COUNT]"
    )


def test_dynamodb_nested_structure_paths():
    err = fail("dynamodb", "CreateTable", {
        "TableName": "orders",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "ProvisionedThroughput": {"ReadCapacityUnits": 0},
    })
    assert err.message == (
        "2 validation errors detected: "
        "Value '0' at 'provisionedThroughput.readCapacityUnits' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1; "
        "Value null at 'provisionedThroughput.writeCapacityUnits' failed to satisfy constraint: "
        "Member must not be null"
    )


def test_dynamodb_items_of_any_depth_pass():
    item = {"pk": {"S": "a"}, "m": {"M": {"l": {"L": [{"N": "1"}, {"M": {"x": {"BOOL": True}}}]}}}}
    ok("dynamodb", "PutItem", {"TableName": "orders", "Item": item})


# --- EC2 (MissingParameter, one at a time, wire names) --------------------------------


def test_ec2_missing_parameter():
    err = fail("ec2", "RunInstances", {"MinCount": 1, "ImageId": "ami-12345678"})
    assert (err.code, err.status) == ("MissingParameter", 400)
    assert err.message == "The request must contain the parameter MaxCount"


def test_ec2_missing_list_uses_its_wire_name():
    err = fail("ec2", "TerminateInstances", {})
    assert err.message == "The request must contain the parameter InstanceId"


def test_ec2_does_not_apply_model_ranges():
    ok("ec2", "DescribeInstances", {"MaxResults": 100000})


# --- the other researched families ----------------------------------------------------


def test_kms_sensitive_values_are_not_echoed():
    err = fail("kms", "Encrypt", {"KeyId": "alias/app", "Plaintext": b"x" * 4097})
    assert err.message == one(
        "Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096"
    )


def test_kms_enums_are_checked():
    err = fail("kms", "CreateKey", {"KeySpec": "AES_512"})
    assert err.code == "ValidationException"
    assert err.message.startswith(
        one("Value 'AES_512' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [")
    )


def test_cloudwatch_missing_parameter_in_its_query_words():
    err = fail("cloudwatch", "PutMetricData", {"MetricData": [{"MetricName": "Latency", "Value": 1.0}]})
    assert (err.code, err.status, err.query_code) == ("MissingRequiredParameterException", 400, "MissingParameter")
    assert err.message == "The parameter Namespace is required."


def test_cloudwatch_constraints_report_the_query_code():
    err = fail("cloudwatch", "PutMetricData", {"Namespace": "", "MetricData": []})
    assert (err.code, err.query_code) == ("ValidationException", "ValidationError")
    assert err.message == one(
        "Value '' at 'namespace' failed to satisfy constraint: Member must have length greater than or equal to 1"
    )


def test_iam_list_item_paths():
    err = fail("iam", "CreateUser", {"UserName": "dev", "Tags": [{"Key": "a", "Value": "b"}, {"Key": "team"}]})
    assert (err.code, err.status) == ("ValidationError", 400)
    assert err.message == one(
        "Value null at 'tags.2.member.value' failed to satisfy constraint: Member must not be null"
    )


def test_iam_patterns_python_can_read_are_checked_and_real_names_pass():
    ok("iam", "CreateRole", {
        "RoleName": "lambda-exec", "Path": "/service-role/",
        "AssumeRolePolicyDocument": '{"Version": "2012-10-17", "Statement": []}',
    })
    err = fail("iam", "CreateUser", {"UserName": "two words"})
    assert err.message == one(
        "Value 'two words' at 'userName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\w+=,.@-]+"
    )


def test_cloudformation_list_items_are_reported_once_on_the_list():
    err = fail("cloudformation", "CreateStack", {"StackName": "web", "Capabilities": ["CAPABILITY_IAM", "ALL"]})
    assert err.message == one(
        "Value '[CAPABILITY_IAM, ALL]' at 'capabilities' failed to satisfy constraint: Member must satisfy "
        "constraint: [Member must satisfy enum value set: [CAPABILITY_IAM, CAPABILITY_NAMED_IAM, CAPABILITY_AUTO_EXPAND]]"
    )


def test_route53_uses_invalid_input():
    err = fail("route53", "GetHostedZone", {"Id": "Z" * 33})
    assert (err.code, err.status) == ("InvalidInput", 400)
    assert err.message == one(
        f"Value '{'Z' * 33}' at 'id' failed to satisfy constraint: Member must have length less than or equal to 32"
    )


def test_cognito_uses_invalid_parameter_and_hides_sensitive_values():
    err = fail("cognito-idp", "AdminGetUser", {"UserPoolId": "us-east-1_abc", "Username": ""})
    assert (err.code, err.status) == ("InvalidParameterException", 400)
    assert err.message == one(
        "Value at 'username' failed to satisfy constraint: Member must have length greater than or equal to 1"
    )


def test_logs_uses_invalid_parameter_with_patterns():
    err = fail("logs", "CreateLogGroup", {"logGroupName": "bad name"})
    assert err.code == "InvalidParameterException"
    assert "at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern" in err.message
    ok("logs", "CreateLogGroup", {"logGroupName": "/aws/lambda/resize-images"})


def test_query_service_default_is_validation_error():
    err = fail("sns", "Publish", {"TopicArn": "arn:aws:sns:us-east-1:123456789012:t"})
    assert (err.code, err.status) == ("ValidationError", 400)
    assert err.message == one("Value null at 'message' failed to satisfy constraint: Member must not be null")


def test_map_keys_and_values_are_reported_once_on_the_map():
    base = {"FunctionName": "resize", "Name": "live", "FunctionVersion": "1"}
    err = fail("lambda", "CreateAlias", {**base, "RoutingConfig": {"AdditionalVersionWeights": {"2": 1.5, "3": 2.0}}})
    assert err.message == one(
        "Value '{2=1.5, 3=2.0}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: "
        "Map value must satisfy constraint: [Member must have value less than or equal to 1.0, "
        "Member must have value greater than or equal to 0.0]"
    )
    err = fail("lambda", "CreateAlias", {**base, "RoutingConfig": {"AdditionalVersionWeights": {"v2": 0.5}}})
    assert err.message == one(
        "Value '{v2=0.5}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: "
        "Map keys must satisfy constraint: [Member must have length less than or equal to 1024, "
        "Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+]"
    )
    ok("lambda", "CreateAlias", {**base, "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.1}}})


def test_structures_in_maps_get_key_paths():
    err = fail("sqs", "SendMessage", {"QueueUrl": QUEUE, "MessageBody": "b",
                                      "MessageAttributes": {"trace": {"StringValue": "x"}}})
    assert err.message == "The request must contain the parameter MessageAttributes.trace.DataType."
    err = fail("dynamodb", "BatchGetItem", {"RequestItems": {"orders": {}}})
    assert err.message == one(
        "Value null at 'requestItems.orders.member.keys' failed to satisfy constraint: Member must not be null"
    )


def test_s3_is_left_to_its_routes():
    ok("s3", "PutObject", {})


def test_params_that_are_not_a_dict_are_reported():
    err = fail("dynamodb", "GetItem", ["TableName"])  # type: ignore[arg-type]
    assert err.code == "SerializationException"


def test_validators_are_cached_per_operation():
    assert validator("sqs", "SendMessage") is validator("sqs", "SendMessage")
    svc = load_service("sqs")
    op = svc.operation_model("SendMessage")
    assert validator(svc, op) is validator(svc, op)


def test_an_operation_with_nothing_to_check_costs_nothing():
    assert validator("sts", "GetCallerIdentity") is validate._noop


def test_java_rendering_of_values():
    shapes = raw_model("dynamodb")["shapes"]
    key = [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert validate._render(key, "KeySchema", shapes) == "[KeySchemaElement(attributeName=pk, keyType=HASH)]"
    assert validate._render({"a": [1, 2]}, None, shapes) == "{a=[1, 2]}"
    assert validate._render(b"abc", None, shapes) == "java.nio.HeapByteBuffer[pos=0 lim=3 cap=3]"
    when = dt.datetime(2015, 1, 1, tzinfo=dt.timezone.utc)
    assert validate._render(when, None, shapes) == "Thu Jan 01 00:00:00 UTC 2015"
    assert [validate._jdouble(x) for x in (1.0, 0.5, 100.25, 1e-4, 12345678.0, 1e7, -2.5e-9)] == [
        "1.0", "0.5", "100.25", "1.0E-4", "1.2345678E7", "1.0E7", "-2.5E-9"]


def test_utf16_length_as_java_counts_it():
    # 'Description' in Lambda allows 256; an emoji is two UTF-16 units
    ok("lambda", "CreateFunction", {**LAMBDA_OK, "Description": "\U0001F600" * 128})
    err = fail("lambda", "CreateFunction", {**LAMBDA_OK, "Description": "x" + "\U0001F600" * 128})
    assert "Member must have length less than or equal to 256" in err.message


def test_patterns_python_cannot_read_are_skipped():
    assert pattern_for("[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*") is None  # Java's \p{...}
    assert pattern_for("[[:alpha:]]+") is None  # a POSIX class Python would misread
    assert pattern_for("[\\w+=,.@-]+").fullmatch("é") is None  # Java's \w is ASCII


def test_small_inputs_validate_in_microseconds():
    check = validator("sqs", "SendMessage")
    params = {"QueueUrl": QUEUE, "MessageBody": "hello", "DelaySeconds": 0,
              "MessageAttributes": {"trace": {"DataType": "String", "StringValue": "abc"}}}
    check(params)
    n = 20000
    start = time.perf_counter()
    for _ in range(n):
        check(params)
    per_call = (time.perf_counter() - start) / n
    assert per_call < 20e-6, f"{per_call * 1e6:.1f} µs per call"


# --- robustness: junk of every type never crashes -------------------------------------

JUNK = [None, 0, -1, 1.5, True, "", "x" * 3, b"", [], [None], {}, {"": None}, dt.datetime(2020, 1, 1), object()]


@pytest.mark.parametrize("service", ["dynamodb", "lambda", "sqs", "iam", "ec2", "cloudwatch", "kms", "events"])
def test_junk_values_give_service_errors_only(service):
    rng = random.Random(service)
    svc = load_service(service)
    for name in svc.operation_names[:: 3 if not DEEP else 1]:
        op = svc.operation_model(name)
        if op.input_shape is None:
            continue
        params = _valid_input(service, name, seed=1)
        for _ in range(4):
            mutated = _mutate(params, rng)
            try:
                validator(svc, op)(mutated)
            except ServiceError as err:
                assert err.status == 400 and err.code


def _mutate(value, rng):
    if isinstance(value, dict):
        out = dict(value)
        for k in list(out):
            if rng.random() < 0.3:
                out[k] = rng.choice(JUNK)
            elif rng.random() < 0.5:
                out[k] = _mutate(out[k], rng)
        return out
    if isinstance(value, list):
        return [_mutate(v, rng) if rng.random() < 0.7 else rng.choice(JUNK) for v in value]
    return value


# --- the sweep: every operation of every model ----------------------------------------


def _valid_input(service: str, op: str, seed: int = 0) -> dict:
    shape = load_service(service).operation_model(op).input_shape
    return _within_extra_limits(service, op, ShapeGen(random.Random(f"{service}.{op}.{seed}")).gen(shape))


def _within_extra_limits(service: str, op: str, params: dict) -> dict:
    for (op_name, member), limit in validate.EXTRA_LIMITS.get(service, {}).items():
        if op_name == op and member in params:
            params[member] = int(min(max(params[member], limit.min), limit.max))
    return params


def _no_patterns(service):
    fam = family_for(service)
    return None if fam is None else replace(fam, patterns=False)


def test_sweep_every_operation_of_every_model():
    """Generated values pass (patterns aside: ShapeGen does not write regexes); the same
    input less one required member fails with the service's code."""
    seeds = range(3) if DEEP else range(1)
    checked = missing = 0
    problems: list[str] = []
    for name in service_names():
        svc = load_service(name)
        fam = _no_patterns(svc)
        if fam is None:
            continue
        expected_code = fam.missing_code or fam.code
        for op_name in svc.operation_names:
            op = svc.operation_model(op_name)
            if op.input_shape is None:
                continue
            check = build_validator(svc, op, fam)
            for seed in seeds:
                params = _valid_input(name, op_name, seed)
                try:
                    check(params)
                except ServiceError as err:
                    problems.append(f"{name}.{op_name}: false positive: {err.code}: {err.message[:300]}")
                    continue
                checked += 1
                required = [m for m in op.input_shape.required_members if m in params]
                if not required or seed:
                    continue
                drop = required[len(required) // 2]
                less = {k: v for k, v in params.items() if k != drop}
                try:
                    check(less)
                    problems.append(f"{name}.{op_name}: missing {drop} passed")
                except ServiceError as err:
                    missing += 1
                    if err.code != expected_code or err.status != 400:
                        problems.append(f"{name}.{op_name}: missing {drop} gave {err.code} {err.status}")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:40])
    assert checked > 15000 and missing > 8000


def test_every_model_pattern_compiles_or_is_skipped():
    seen = set()
    for name in service_names():
        for shape in raw_model(name)["shapes"].values():
            p = shape.get("pattern")
            if p is not None and p not in seen:
                seen.add(p)
                pattern_for(p)  # never raises
    assert len(seen) > 1000


def test_patterns_of_enabled_services_accept_real_world_values():
    ok("lambda", "GetFunction", {"FunctionName": "arn:aws:lambda:eu-west-1:123456789012:function:resize:prod"})
    ok("lambda", "GetFunction", {"FunctionName": "resize-images"})
    ok("lambda", "GetLayerVersion", {"LayerName": "arn:aws:lambda:us-east-1:123456789012:layer:deps", "VersionNumber": 3})
    ok("cloudformation", "CreateStack", {"StackName": "web-prod", "TemplateBody": "{}"})
    ok("iam", "CreateUser", {"UserName": "ci.bot+deploy@example.com", "Path": "/"})
    ok("sts", "AssumeRoleWithWebIdentity", {
        "RoleArn": "arn:aws:iam::123456789012:role/gha", "RoleSessionName": "gha-1",
        "WebIdentityToken": "eyJhbGciOi.J9.sig",
    })
