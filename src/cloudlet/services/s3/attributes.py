"""GetObjectAttributes: what HeadObject and ListParts would say, the parts asked for only.

As S3 answers it: the ETag without its quotes; a multipart object's composite checksum
without the ``-N`` part count HeadObject shows; ``ObjectParts`` only for an object built
by a multipart upload, listing each part (a page of them, like ListParts) only when the
upload had composite checksums, else just ``TotalPartsCount``. An archived object's
attributes are readable without a restore: they are metadata.

Per-part checksums are read from the version's ``part_cks`` (base64 values in part order,
the algorithm being the object's), when the multipart upload recorded them.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from cloudlet.core import checksums
from cloudlet.core.context import Context
from cloudlet.services.s3 import encryption, errors, reads, storage

Input = dict[str, Any]
Output = dict[str, Any]

ATTRIBUTES = frozenset({"ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"})
MAX_PARTS = 1000


def get_object_attributes(ctx: Context, req: Input) -> Output:
    wanted = _attributes(req.get("ObjectAttributes"))
    with storage.tx(ctx) as t:
        b = storage.get_bucket(t, req["Bucket"])
        v = reads.find_target(t, b, req["Key"], req.get("VersionId"), "GET")
        if not (v.get("sse") or {}).get("kms"):  # SSE-C: the same key as a GET, or its error
            encryption.for_read(ctx, t, v, req)
    out: Output = {"LastModified": datetime.fromtimestamp(int(v["mtime"]), timezone.utc)}
    if b.get("versioning"):
        out["VersionId"] = v["vid"]
    if "ETag" in wanted:
        out["ETag"] = v["etag"].strip('"')
    if "Checksum" in wanted and v.get("cks"):
        cks = v["cks"]
        out["Checksum"] = {checksums.param_name(cks["alg"]): cks["value"].split("-")[0], "ChecksumType": cks["type"]}
    if "ObjectParts" in wanted and v.get("parts"):
        out["ObjectParts"] = _parts(v, req)
    if "StorageClass" in wanted:
        out["StorageClass"] = v["sc"]
    if "ObjectSize" in wanted:
        out["ObjectSize"] = v["size"]
    return out


def _attributes(names: Any) -> set[str]:
    """The ``x-amz-object-attributes`` names; none, or one S3 does not know, is refused."""
    if isinstance(names, str):
        names = names.split(",")
    found = {n.strip() for n in names or () if n.strip()}
    if not found or not found <= ATTRIBUTES:
        raise errors.invalid_argument("Invalid attribute name specified.")
    return found


def _parts(v: dict[str, Any], req: Input) -> dict[str, Any]:
    sizes: list[int] = v["parts"]
    cks = v.get("cks") or {}
    out: dict[str, Any] = {"TotalPartsCount": len(sizes)}
    if cks.get("type") != checksums.COMPOSITE:
        return out
    limit = req.get("MaxParts")
    limit = MAX_PARTS if limit is None else max(0, min(limit, MAX_PARTS))
    marker = req.get("PartNumberMarker") or 0
    per_part = v.get("part_cks") or []
    page = []
    for number in range(marker + 1, min(len(sizes), marker + limit) + 1):
        part: dict[str, Any] = {"PartNumber": number, "Size": sizes[number - 1]}
        if number <= len(per_part) and per_part[number - 1]:
            part[checksums.param_name(cks["alg"])] = per_part[number - 1]
        page.append(part)
    out.update({
        "PartNumberMarker": marker,
        "MaxParts": limit,
        "IsTruncated": marker + len(page) < len(sizes),
    })
    if page:
        out["NextPartNumberMarker"] = page[-1]["PartNumber"]
        out["Parts"] = page
    return out
