"""Bucket lifecycle configuration: put, get, delete.

The rules are checked and given IDs by ``lifecycle`` (pure); what they do over time is
``lifecyclejob``'s daily run, scheduled here in the same transaction as the configuration,
so a configuration never exists without the job that carries it out (and both survive a
restart). The deprecated PutBucketLifecycle/GetBucketLifecycle share this operation's
REST path and lose to it in routing, so they have no handlers.
"""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.services.s3 import lifecycle, lifecyclejob, storage
from cloudlet.services.s3.subresources import require_bucket, require_config

Input = dict[str, Any]
Output = dict[str, Any]

CONFIG = "lifecycle"
MIN_SIZE = "TransitionDefaultMinimumObjectSize"


def put_bucket_lifecycle_configuration(ctx: Context, req: Input) -> Output:
    policy = req.get(MIN_SIZE)
    cfg = req.get("LifecycleConfiguration")
    with storage.tx(ctx) as t:
        b = require_bucket(t, req)  # a missing bucket is named before a bad configuration
        lifecycle.validate(cfg, transition_minimum=policy)
        policy = policy or lifecycle.ALL_128K
        stored = {"Rules": lifecycle.assign_ids(cfg or {})["Rules"], MIN_SIZE: policy}
        storage.put_config(t, b["name"], CONFIG, stored)
        lifecyclejob.schedule(ctx, b["name"])
    return {MIN_SIZE: policy}


def get_bucket_lifecycle_configuration(ctx: Context, req: Input) -> Output:
    cfg = require_config(ctx, req, CONFIG)
    return {"Rules": cfg["Rules"], MIN_SIZE: cfg.get(MIN_SIZE) or lifecycle.ALL_128K}


def delete_bucket_lifecycle(ctx: Context, req: Input) -> Output:
    """Succeeds (204) whether or not there was a configuration."""
    with storage.tx(ctx) as t:
        b = require_bucket(t, req)
        storage.delete_config(t, b["name"], CONFIG)
        lifecyclejob.unschedule(ctx, b["name"])
    return {}
