"""Replication: new versions copied to the destination buckets of matching rules.

(Being filled in: ``queue`` is called from every write; with no replication
configuration on the bucket it does nothing, which is S3's behaviour too.)
"""

from __future__ import annotations

from typing import Any

from cloudlet.core.context import Context
from cloudlet.core.scheduler import Scheduler
from cloudlet.core.store import Tx
from cloudlet.services.s3 import storage


def register(scheduler: Scheduler) -> None:
    pass


def queue(ctx: Context, t: Tx, b: dict[str, Any], v: dict[str, Any]) -> None:
    if storage.get_config(t, b["name"], "replication") is None:
        return
    raise NotImplementedError("replication is being built")
