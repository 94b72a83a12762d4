"""Amazon Resource Names, read the same way by every service."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Arn:
    """``arn:<partition>:<service>:<region>:<account>:<resource>``."""

    partition: str
    service: str
    region: str
    account: str
    resource: str  # everything after the account, e.g. "event-bus/default"

    @property
    def kind(self) -> str:
        """The resource type: ``event-bus`` in ``event-bus/default``."""
        return self.resource.split("/", 1)[0].split(":", 1)[0]

    @property
    def rest(self) -> str:
        """The resource after its type: ``default`` in ``event-bus/default``."""
        return self.resource.split("/", 1)[1] if "/" in self.resource else ""

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"


def partition_of(region: str) -> str:
    """The partition a region belongs to: ``aws-cn`` for China, ``aws-us-gov`` for GovCloud."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def parse_arn(text: str) -> Arn | None:
    """The parts of an ARN, or None if `text` is not one (partition, service and
    resource must be present; region and account may be empty, as for IAM and S3)."""
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or not parts[1] or not parts[2] or not parts[5]:
        return None
    return Arn(parts[1], parts[2], parts[3], parts[4], parts[5])
