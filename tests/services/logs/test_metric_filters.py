"""Metric filters: the API over HTTP, and the data points ingestion records (read in
process with ``core.metrics.query``, where CloudWatch reads them)."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest

from cloudlet.core import metrics as core_metrics
from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.server.config import Config
from cloudlet.server.gateway import Gateway
from tests.services.logs.helpers import error, logs_client

UTC = dt.timezone.utc


def transformation(**kw):
    return [{"metricName": "Errors", "metricNamespace": "App", "metricValue": "1", **kw}]


def test_put_describe_delete_over_http(cloud):
    logs = logs_client(cloud)
    logs.create_log_group(logGroupName="mf")
    logs.put_metric_filter(logGroupName="mf", filterName="errors", filterPattern="ERROR",
                           metricTransformations=transformation(defaultValue=0.0))
    logs.put_metric_filter(logGroupName="mf", filterName="slow", filterPattern="{ $.latency > 100 }",
                           metricTransformations=[{"metricName": "Latency", "metricNamespace": "App",
                                                   "metricValue": "$.latency", "unit": "Milliseconds"}])
    got = logs.describe_metric_filters(logGroupName="mf")["metricFilters"]
    assert [f["filterName"] for f in got] == ["errors", "slow"]
    assert got[0]["logGroupName"] == "mf" and got[0]["creationTime"] > 0
    assert got[1]["metricTransformations"][0]["metricValue"] == "$.latency"
    assert logs.describe_log_groups()["logGroups"][0]["metricFilterCount"] == 2
    by_metric = logs.describe_metric_filters(metricName="Latency", metricNamespace="App")["metricFilters"]
    assert [f["filterName"] for f in by_metric] == ["slow"]
    pages = logs.get_paginator("describe_metric_filters").paginate(PaginationConfig={"PageSize": 1})
    assert [f["filterName"] for p in pages for f in p["metricFilters"]] == ["errors", "slow"]
    logs.delete_metric_filter(logGroupName="mf", filterName="errors")
    assert error(logs.delete_metric_filter, logGroupName="mf", filterName="errors")["Code"] == "ResourceNotFoundException"
    assert error(logs.put_metric_filter, logGroupName="nope", filterName="x", filterPattern="",
                 metricTransformations=transformation())["Code"] == "ResourceNotFoundException"
    assert error(logs.put_metric_filter, logGroupName="mf", filterName="x", filterPattern="{ $.a = }",
                 metricTransformations=transformation())["Code"] == "InvalidParameterException"
    assert error(logs.put_metric_filter, logGroupName="mf", filterName="x", filterPattern="",
                 metricTransformations=transformation(metricValue="lots"))["Code"] == "InvalidParameterException"


def test_test_metric_filter_extracts_fields(cloud):
    logs = logs_client(cloud)
    out = logs.test_metric_filter(filterPattern="[ip, user, status = 404, size]",
                                  logEventMessages=["1.2.3.4 bob 404 10", "1.2.3.4 bob 200 10", "5.6.7.8 al 404 3"])
    assert out["matches"] == [
        {"eventNumber": 1, "eventMessage": "1.2.3.4 bob 404 10",
         "extractedValues": {"$ip": "1.2.3.4", "$user": "bob", "$status": "404", "$size": "10"}},
        {"eventNumber": 3, "eventMessage": "5.6.7.8 al 404 3",
         "extractedValues": {"$ip": "5.6.7.8", "$user": "al", "$status": "404", "$size": "3"}},
    ]


@pytest.fixture
def gw():
    return Gateway(Config(ephemeral=True))


def caller(gw) -> Context:
    return Context(account="123456789012", region="us-east-1", principal_arn="arn:aws:iam::123456789012:root",
                   access_key="AKID", request_id="r", service="lambda", operation="Invoke", gateway=gw)


def test_ingested_events_record_metrics(gw):
    logs = caller(gw).aws("logs")
    logs.create_log_group(logGroupName="/aws/lambda/f")
    logs.create_log_stream(logGroupName="/aws/lambda/f", logStreamName="s")
    logs.put_metric_filter(logGroupName="/aws/lambda/f", filterName="latency", filterPattern="{ $.latency > 0 }",
                           metricTransformations=[{"metricName": "Latency", "metricNamespace": "App",
                                                   "metricValue": "$.latency", "unit": "Milliseconds",
                                                   "dimensions": {"Route": "$.route"}}])
    logs.put_metric_filter(logGroupName="/aws/lambda/f", filterName="errors", filterPattern="ERROR",
                           metricTransformations=transformation(defaultValue=0.0))
    now = int(time.time() * 1000)
    lines = [json.dumps({"latency": 120, "route": "/a"}), json.dumps({"latency": 80, "route": "/a"}),
             "ERROR boom", json.dumps({"latency": 5, "route": "/b"})]
    logs.put_log_events(logGroupName="/aws/lambda/f", logStreamName="s",
                        logEvents=[{"timestamp": now, "message": m} for m in lines])
    start = dt.datetime.fromtimestamp(now / 1000 - 120, UTC)
    end = dt.datetime.fromtimestamp(now / 1000 + 120, UTC)
    core_metrics.flush(gw)
    (a,) = core_metrics.query(gw, "123456789012", "us-east-1", "App", "Latency", {"Route": "/a"}, start, end, 300)
    assert (a.sample_count, a.sum, a.maximum, a.unit) == (2, 200, 120, "Milliseconds")
    (b,) = core_metrics.query(gw, "123456789012", "us-east-1", "App", "Latency", {"Route": "/b"}, start, end, 300)
    assert b.sum == 5
    (errs,) = core_metrics.query(gw, "123456789012", "us-east-1", "App", "Errors", {}, start, end, 300)
    assert (errs.sample_count, errs.sum) == (4, 1)  # the default value for the three that did not match


def test_in_process_client_errors_are_aws_errors(gw):
    logs = caller(gw).aws("logs")
    with pytest.raises(ServiceError) as err:
        logs.put_log_events(logGroupName="missing", logStreamName="s", logEvents=[{"timestamp": 1, "message": "x"}])
    assert (err.value.code, err.value.message) == ("ResourceNotFoundException", "The specified log group does not exist.")
    logs.create_log_group(logGroupName="g")
    with pytest.raises(ServiceError) as err:
        logs.create_log_group(logGroupName="g")
    assert err.value.code == "ResourceAlreadyExistsException"
