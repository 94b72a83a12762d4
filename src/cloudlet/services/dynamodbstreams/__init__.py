"""Amazon DynamoDB Streams: the change log of DynamoDB tables, read as streams of one shard
each (ListStreams, DescribeStream, GetShardIterator, GetRecords).

botocore models Streams as its own service, but it is DynamoDB's own API surface over
DynamoDB's data, so its handlers live in the DynamoDB package (``dynamodb.streamsapi``,
with ``dynamodb.iterators`` for the opaque shard iterators) and read DynamoDB's change
records there; this package only names them for the registry.
"""

from __future__ import annotations

from typing import Any, Iterable

MODULES = ["cloudlet.services.dynamodb.streamsapi"]  # absolute: the code is DynamoDB's


def resources(ctx: Any, operation: str, params: dict[str, Any]) -> Iterable[str]:
    """The stream ARN a call acts on, for IAM (GetRecords: the one its iterator names)."""
    if params.get("StreamArn"):
        return [params["StreamArn"]]
    if operation == "GetRecords" and params.get("ShardIterator"):
        from cloudlet.services.dynamodb import iterators

        arn = iterators.stream_arn(params["ShardIterator"])
        if arn:
            return [arn]
    return ["*"]
