"""Records of schedule groups and schedules, and their ARNs.

A group is ``group/<name>``; a schedule is ``schedule/<group>/<name>`` so a group's
schedules are one prefix scan. The ``default`` group always exists: it is written the
first time anything asks for it.
"""

from __future__ import annotations

from typing import Any

from cloudlet.core.store import Tx

GROUP = "group"
SCHEDULE = "schedule"
DEFAULT_GROUP = "default"


def group_arn(partition: str, region: str, account: str, name: str) -> str:
    return f"arn:{partition}:scheduler:{region}:{account}:schedule-group/{name}"


def schedule_arn(partition: str, region: str, account: str, group: str, name: str) -> str:
    return f"arn:{partition}:scheduler:{region}:{account}:schedule/{group}/{name}"


def group(tx: Tx, name: str, arn: str, now: float) -> dict[str, Any] | None:
    rec = tx.get(GROUP, name)
    if rec is not None:
        return rec.value
    if name != DEFAULT_GROUP:
        return None
    value = new_group(name, arn, now, {})
    tx.put(GROUP, name, value)
    return value


def new_group(name: str, arn: str, now: float, tags: dict[str, str]) -> dict[str, Any]:
    return {"name": name, "arn": arn, "created": now, "modified": now, "tags": tags}


def put_group(tx: Tx, value: dict[str, Any]) -> None:
    tx.put(GROUP, value["name"], value)


def groups(tx: Tx, prefix: str | None, after: str | None, limit: int) -> list[dict[str, Any]]:
    return [r.value for r in tx.scan(GROUP, prefix or None, after=after, limit=limit)]


def schedule_key(group_name: str, name: str) -> str:
    return f"{group_name}/{name}"


def schedule(tx: Tx, group_name: str, name: str) -> dict[str, Any] | None:
    rec = tx.get(SCHEDULE, schedule_key(group_name, name))
    return rec.value if rec is not None else None


def put_schedule(tx: Tx, value: dict[str, Any]) -> None:
    tx.put(SCHEDULE, schedule_key(value["group"], value["name"]), value)


def delete_schedule(tx: Tx, group_name: str, name: str) -> bool:
    return tx.delete(SCHEDULE, schedule_key(group_name, name))


def schedules(tx: Tx, group_name: str | None = None) -> list[dict[str, Any]]:
    return [r.value for r in tx.scan(SCHEDULE, f"{group_name}/" if group_name else None)]
