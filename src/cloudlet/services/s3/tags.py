"""Object tags: the ``x-amz-tagging`` header and S3's limits on tags."""

from __future__ import annotations

from urllib.parse import parse_qsl

from cloudlet.core.errors import ServiceError
from cloudlet.services.s3 import errors

def parse_tagging(text: str | None) -> dict[str, str]:
    """The ``x-amz-tagging`` header: URL-encoded ``k=v&k2=v2``, checked as S3 checks tags."""
    if not text:
        return {}
    pairs = parse_qsl(text, keep_blank_values=True)
    tags: dict[str, str] = {}
    for k, v in pairs:
        if k in tags:
            raise errors.invalid_argument("There are duplicate tag keys in your request", "x-amz-tagging", text)
        tags[k] = v
    check_tags(tags)
    return tags


def check_tags(tags: dict[str, str]) -> None:
    if len(tags) > 10:
        raise ServiceError("BadRequest", "Object tags cannot be greater than 10", 400)
    for k, v in tags.items():
        if not k or len(k) > 128:
            raise ServiceError("InvalidTag", "The TagKey you have provided is invalid", 400)
        if len(v) > 256:
            raise ServiceError("InvalidTag", "The TagValue you have provided is invalid", 400)
        if k.startswith("aws:"):
            raise ServiceError("InvalidTag", "Your TagKey cannot be prefixed with aws:", 400)

