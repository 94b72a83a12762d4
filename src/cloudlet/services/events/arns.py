"""ARNs of EventBridge resources, and reading a bus named by name or by ARN. Pure.

Rules on the default bus are ``rule/<name>``; on any other bus ``rule/<bus>/<name>``
(AWS's form). Connections and API destinations carry a generated id after their name.
"""

from __future__ import annotations

from dataclasses import dataclass
from cloudlet.core.arns import Arn, parse_arn

DEFAULT_BUS = "default"


def parse(arn: str) -> Arn | None:
    return parse_arn(arn)


def bus_arn(partition: str, region: str, account: str, name: str) -> str:
    return f"arn:{partition}:events:{region}:{account}:event-bus/{name}"


def rule_arn(partition: str, region: str, account: str, bus: str, name: str) -> str:
    path = name if bus == DEFAULT_BUS else f"{bus}/{name}"
    return f"arn:{partition}:events:{region}:{account}:rule/{path}"


def archive_arn(partition: str, region: str, account: str, name: str) -> str:
    return f"arn:{partition}:events:{region}:{account}:archive/{name}"


def replay_arn(partition: str, region: str, account: str, name: str) -> str:
    return f"arn:{partition}:events:{region}:{account}:replay/{name}"


def connection_arn(partition: str, region: str, account: str, name: str, uid: str) -> str:
    return f"arn:{partition}:events:{region}:{account}:connection/{name}/{uid}"


def destination_arn(partition: str, region: str, account: str, name: str, uid: str) -> str:
    return f"arn:{partition}:events:{region}:{account}:api-destination/{name}/{uid}"


@dataclass(frozen=True, slots=True)
class BusRef:
    """A bus as a request names it: its owner, region and name."""

    account: str
    region: str
    name: str

    def arn(self, partition: str) -> str:
        return bus_arn(partition, self.region, self.account, self.name)


def bus_ref(name_or_arn: str | None, account: str, region: str) -> BusRef:
    """The bus a request means: a name (the caller's account), an ARN (its owner), or
    nothing (the default bus). An ARN that is not an event bus ARN keeps its text as the
    name, so the lookup fails with AWS's not-found wording."""
    if not name_or_arn:
        return BusRef(account, region, DEFAULT_BUS)
    if name_or_arn.startswith("arn:"):
        parsed = parse(name_or_arn)
        if parsed is not None and parsed.service == "events" and parsed.kind == "event-bus" and parsed.rest:
            return BusRef(parsed.account, parsed.region, parsed.rest)
    return BusRef(account, region, name_or_arn)


def rule_of(arn: str) -> tuple[str, str, str, str] | None:
    """(account, region, bus, rule name) of a rule ARN."""
    parsed = parse(arn)
    if parsed is None or parsed.service != "events" or parsed.kind != "rule" or not parsed.rest:
        return None
    bus, _, name = parsed.rest.rpartition("/")
    return parsed.account, parsed.region, bus or DEFAULT_BUS, name
