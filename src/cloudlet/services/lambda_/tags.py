"""Tags on functions (and event source mappings, code signing configs), by ARN:
TagResource, UntagResource, ListTags. A function's tags are on the function, not on its
versions or aliases."""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.services.lambda_ import access, errors, names, signing, storage

Input = dict[str, Any]
Output = dict[str, Any]

MAX_TAGS = 50


def tag_resource(ctx: Context, req: Input) -> Output:
    _change(ctx, req["Resource"], lambda tags: {**tags, **req["Tags"]})
    return {}


def untag_resource(ctx: Context, req: Input) -> Output:
    drop = set(req["TagKeys"])
    _change(ctx, req["Resource"], lambda tags: {k: v for k, v in tags.items() if k not in drop})
    return {}


def list_tags(ctx: Context, req: Input) -> Output:
    arn = req["Resource"]
    if ":code-signing-config:" in arn:
        with ctx.tx() as t:
            return {"Tags": dict(_code_signing_config(t, arn)["tags"])}
    if ":event-source-mapping:" in arn:
        with ctx.tx() as t:
            mapping = access.load_mapping(t, arn.rsplit(":", 1)[1])
        return {"Tags": dict(mapping.get("tags") or {})}
    where = _function(ctx, arn)
    with access.tx(ctx, where) as t:
        fn = access.load(t, where)
    return {"Tags": dict(fn["tags"])}


def _function(ctx: Context, arn: str) -> names.FunctionRef:
    if not arn.startswith("arn:"):
        raise errors.invalid(f"Invalid ARN: {arn}")
    where = access.ref(ctx, arn)
    if where.qualifier is not None:
        raise errors.invalid("Tags are not supported on function versions or aliases: tag the unqualified function ARN.")
    return where


def _code_signing_config(t: Any, arn: str) -> dict[str, Any]:
    signing.check_arn(arn, "resource")
    rec = signing.find(t, arn)
    if rec is None:
        raise errors.not_found(f"The Lambda code signing configuration {arn} can not be found.")
    return rec


def _change(ctx: Context, arn: str, change: Any) -> None:
    if ":code-signing-config:" in arn:
        with ctx.tx() as t:
            rec = _code_signing_config(t, arn)
            tags = change(dict(rec["tags"]))
            _limit(tags)
            t.put(storage.CSC, signing.csc_id(arn), {**rec, "tags": tags})
        return
    if ":event-source-mapping:" in arn:
        with ctx.tx() as t:
            mapping = access.load_mapping(t, arn.rsplit(":", 1)[1])
            tags = change(dict(mapping.get("tags") or {}))
            _limit(tags)
            storage.put_mapping(t, {**mapping, "tags": tags})
        return
    where = _function(ctx, arn)
    with access.tx(ctx, where) as t:
        fn = access.load(t, where)
        fn["tags"] = change(dict(fn["tags"]))
        _limit(fn["tags"])
        storage.put_function(t, where.name, fn)


def _limit(tags: dict[str, str]) -> None:
    if len(tags) > MAX_TAGS:
        raise errors.invalid(f"Number of tags exceeds resource tag limit of {MAX_TAGS}.")
