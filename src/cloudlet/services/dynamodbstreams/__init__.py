"""Amazon DynamoDB Streams: the change log of DynamoDB tables, read as streams of one shard
each (ListStreams, DescribeStream, GetShardIterator, GetRecords).

botocore models Streams as its own service, but it is DynamoDB's own API surface over
DynamoDB's data: the handlers read the ``dynamodb`` service's database (its change records
and stream descriptors, through ``dynamodb.streamlog``) in the caller's account and
region, rather than calling DynamoDB through an operation it does not have.

Module map: ``streams`` (handlers), ``iterators`` (the opaque shard iterators).
"""

from __future__ import annotations

from typing import Any, Iterable

MODULES = ["streams"]


def resources(ctx: Any, operation: str, params: dict[str, Any]) -> Iterable[str]:
    """The stream ARN a call acts on, for IAM (GetRecords: the one its iterator names)."""
    if params.get("StreamArn"):
        return [params["StreamArn"]]
    if operation == "GetRecords" and params.get("ShardIterator"):
        from cloudlet.services.dynamodbstreams import iterators

        arn = iterators.stream_arn(params["ShardIterator"])
        if arn:
            return [arn]
    return ["*"]
