"""Parameter Store's rules as pure functions: names, paths, selectors, labels, tiers,
data types, filters and page tokens. No store, no clock: every function here is tested
directly, at its edges.

A parameter named without a leading slash (``db-url``) sits at the root of the
hierarchy: paths and the Name/Path filters compare ``/db-url``, as AWS does, while the
name itself is kept as given (``db-url`` and ``/db-url`` are two parameters).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any, Sequence

from cloudlet.services.ssm import errors

MAX_VERSIONS = 100  # AWS keeps the 100 newest versions of a parameter
MAX_LABELS = 10  # per version
MAX_TAGS = 50  # per resource
MAX_NAME = 1011  # the documented limit for the part a user chooses
MAX_DEPTH = 15
STANDARD_MAX = 4096  # value size in bytes (4 KB)
ADVANCED_MAX = 8192  # 8 KB
STANDARD_COUNT = 10_000  # standard parameters per account and region
ADVANCED_COUNT = 100_000
DEFAULT_KEY_ID = "alias/aws/ssm"

TYPES = ("String", "StringList", "SecureString")
TIERS = ("Standard", "Advanced", "Intelligent-Tiering")
DATA_TYPES = ("text", "aws:ec2:image")
TAG_RESOURCE_TYPES = (
    "Document", "ManagedInstance", "MaintenanceWindow", "Parameter", "PatchBaseline", "OpsItem", "OpsMetadata",
    "Automation", "Association",
)

_NAME = re.compile(r"[A-Za-z0-9_.\-/]+")
_LABEL = re.compile(r"[A-Za-z0-9_.\-]+")
_AMI = re.compile(r"ami-(?:[0-9a-f]{8}|[0-9a-f]{17})")
_ARN = re.compile(r"arn:(aws[a-z-]*):ssm:([a-z0-9-]+):(\d{12}):parameter/(.+)")


# names ---------------------------------------------------------------------------------
def clean_name(raw: str) -> str:
    """AWS drops spaces around a name (spaces inside it are an error)."""
    return raw.strip(" ")


def check_format(name: str) -> None:
    """Characters and hierarchy shape: a slash means a path, which starts with one and has
    no empty level."""
    if not _NAME.fullmatch(name):
        raise errors.invalid_name()
    if "/" in name and (not name.startswith("/") or "//" in name or name.endswith("/")):
        raise errors.invalid_name()


def depth(name: str) -> int:
    return len(name.strip("/").split("/"))


def check_new_name(raw: str) -> str:
    """Everything PutParameter checks about a name; returns the name as stored."""
    name = clean_name(raw)
    if len(name) > MAX_NAME:
        raise errors.constraint(name, "name", f"Member must have length less than or equal to {MAX_NAME}")
    check_format(name)
    bare = name.lstrip("/").lower()
    if bare.startswith(("aws", "ssm")):
        if "/" not in name.lstrip("/"):
            raise errors.reserved_name()
        if bare.startswith("aws"):
            raise errors.reserved_path(name)
        raise errors.invalid_name()
    if depth(name) > MAX_DEPTH:
        raise errors.hierarchy_too_deep()
    return name


def parent(name: str) -> str:
    """The path a parameter sits in: ``/a/b/c`` -> ``/a/b``; ``c`` and ``/c`` -> ``/``."""
    head = "/" + name.lstrip("/")
    return head.rsplit("/", 1)[0] or "/"


def check_path(raw: str) -> str:
    """A GetParametersByPath path, normalised without its trailing slash (``/`` stays)."""
    path = clean_name(raw)
    if not path.startswith("/") or "//" in path or not _NAME.fullmatch(path):
        raise errors.invalid_path()
    path = path.rstrip("/") or "/"
    if path != "/" and depth(path) > MAX_DEPTH:
        raise errors.hierarchy_too_deep()
    return path


def in_path(name: str, path: str, recursive: bool) -> bool:
    """Whether `name` is below `path` (a normalised path): directly, or at any depth."""
    if not recursive:
        return parent(name) == path
    return path == "/" or ("/" + name.lstrip("/")).startswith(path + "/")


def scan_prefix(path: str) -> str:
    """The key prefix under which a path's parameters are stored ("" for the root, where
    names without a leading slash live too)."""
    return "" if path == "/" else path + "/"


def arn(partition: str, region: str, account: str, name: str) -> str:
    return f"arn:{partition}:ssm:{region}:{account}:parameter/{name.lstrip('/')}"


def parse_arn(ref: str) -> tuple[str, str, str] | None:
    """(region, account, the rest) of a parameter ARN, else None. The rest is the name
    without its leading slash, and any selector after it (``app/db:3``)."""
    m = _ARN.fullmatch(ref)
    return None if m is None else (m.group(2), m.group(3), m.group(4))


# selectors -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Reference:
    """A parameter as a caller names it: ``name``, ``name:3`` or ``name:prod``."""

    name: str
    version: int | None = None
    label: str | None = None

    @property
    def selector(self) -> str | None:
        if self.version is not None:
            return f":{self.version}"
        if self.label is not None:
            return f":{self.label}"
        return None


def parse_reference(raw: str) -> Reference:
    """Split a selector off a name. Names never contain ``:``, so the first one starts
    the selector; a second one makes the reference invalid (ValidationException)."""
    name, colon, sel = clean_name(raw).partition(":")
    if not colon:
        return Reference(name)
    if not sel or ":" in sel:
        raise errors.invalid_name()
    if sel.isascii() and sel.isdigit():
        return Reference(name, version=int(sel))
    return Reference(name, label=sel)


# labels --------------------------------------------------------------------------------
def label_ok(label: str) -> bool:
    """Letters, digits, ``.``, ``-``, ``_``; not starting with a digit, ``aws`` or ``ssm``."""
    return (
        0 < len(label) <= 100
        and bool(_LABEL.fullmatch(label))
        and not label[0].isdigit()
        and not label.lower().startswith(("aws", "ssm"))
    )


# values, tiers, data types ---------------------------------------------------------------
def value_size(value: str) -> int:
    """Size as AWS limits it: 4 KB / 8 KB of the value (counted as UTF-8 bytes)."""
    return len(value.encode("utf-8"))


def choose_tier(requested: str | None, previous: str | None, size: int, standard_full: bool) -> str:
    """The tier a new version gets. Intelligent-Tiering picks Advanced only when the value
    needs it or the standard quota is used up; an Advanced parameter never goes back."""
    if requested is None:
        requested = previous or "Standard"
    if requested == "Intelligent-Tiering":
        tier = "Advanced" if previous == "Advanced" or size > STANDARD_MAX or standard_full else "Standard"
    else:
        tier = requested
    if tier == "Standard" and previous == "Advanced":
        raise errors.tier_downgrade()
    if tier == "Standard" and size > STANDARD_MAX:
        raise errors.standard_too_large(STANDARD_MAX)
    if size > ADVANCED_MAX:
        raise errors.advanced_too_large(ADVANCED_MAX)
    return tier


def check_data_type(data_type: str, previous: str | None, ptype: str, value: str) -> None:
    """``text`` checks nothing; ``aws:ec2:image`` checks the AMI id's format (AWS also
    checks, asynchronously, that the image exists: there is no EC2 to ask yet). Neither
    can be changed to or from ``aws:ec2:image``."""
    if data_type == "aws:ssm:integration":
        raise errors.not_implemented("the aws:ssm:integration parameter data type")
    if data_type not in DATA_TYPES:
        raise errors.unsupported_data_type(data_type)
    if previous is not None and previous != data_type and "aws:ec2:image" in (previous, data_type):
        raise errors.data_type_change(previous, data_type)
    if data_type == "aws:ec2:image":
        if ptype != "String":
            raise errors.data_type_needs_string(data_type)
        if not _AMI.fullmatch(value):
            raise errors.invalid_ami(value)


def check_allowed_pattern(pattern: str, value: str) -> None:
    """The whole value must match, as Java's ``matches()`` (which AWS uses) requires."""
    try:
        compiled = re.compile(pattern)
    except re.error:
        raise errors.invalid_allowed_pattern(pattern) from None
    if compiled.fullmatch(value) is None:
        raise errors.pattern_mismatch(pattern)


# filters -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Filter:
    key: str
    option: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Facts:
    """What a filter can look at: one parameter's current state."""

    name: str
    type: str
    key_id: str | None
    tier: str
    data_type: str
    labels: frozenset[str]
    tags: dict[str, str]


_DESCRIBE_KEYS = ("Path", "Name", "Type", "KeyId", "Tier")
_BY_PATH_KEYS = ("Type", "KeyId")


def describe_filters(raw: Sequence[dict[str, Any]] | None) -> list[Filter]:
    """DescribeParameters' ParameterFilters: every key but Label."""
    return _filters(raw, by_path=False)


def by_path_filters(raw: Sequence[dict[str, Any]] | None) -> list[Filter]:
    """GetParametersByPath's ParameterFilters: Type, KeyId and Label only."""
    return _filters(raw, by_path=True)


def legacy_filters(raw: Sequence[dict[str, Any]] | None) -> list[Filter]:
    """DescribeParameters' deprecated Filters: Name (a prefix), Type, KeyId."""
    out = []
    for f in raw or ():
        key = f["Key"]
        if key not in ("Name", "Type", "KeyId"):
            raise errors.enum(key, "filters.member.key", ("Name", "Type", "KeyId"))
        values = tuple(f.get("Values") or ())
        if key == "Name":
            out.append(Filter(key, "BeginsWith", tuple("/" + v.lstrip("/") for v in values)))
        else:
            out.append(Filter(key, "Equals", values))
    return out


def _filters(raw: Sequence[dict[str, Any]] | None, *, by_path: bool) -> list[Filter]:
    out: list[Filter] = []
    seen: set[str] = set()
    for f in raw or ():
        key = f["Key"]
        values = tuple(f.get("Values") or ())
        tag = key.startswith("tag:") and len(key) > 4
        if by_path:
            if key not in ("Type", "KeyId", "Label"):
                raise errors.invalid_filter_key(key, _BY_PATH_KEYS)
        elif key == "Label" or not (tag or key in ("Name", "Type", "KeyId", "Path", "Tier", "DataType")):
            raise errors.invalid_filter_key(key, _DESCRIBE_KEYS)
        if key in seen:
            raise errors.duplicate_filter(key)
        seen.add(key)
        option = f.get("Option") or ("OneLevel" if key == "Path" else "Equals")
        if key == "Path":
            valid: tuple[str, ...] = ("Recursive", "OneLevel")
        elif key == "Label":
            valid = ("Equals",)
        elif key == "Name":
            valid = ("BeginsWith", "Equals", "Contains")
        else:
            valid = ("BeginsWith", "Equals")
        if option not in valid:
            raise errors.invalid_filter_option(option, valid)
        if not values and not tag:
            raise errors.missing_filter_values(key)
        if key == "Type":
            _check_values(values, TYPES, option)
        elif key == "Tier":
            _check_values(values, TIERS, option)
        elif key == "Path":
            values = tuple(_filter_path(v) for v in values)
        elif key == "Name" and option != "Contains":
            values = tuple("/" + v.lstrip("/") for v in values)
        out.append(Filter(key, option, values))
    return out


def _check_values(values: tuple[str, ...], valid: tuple[str, ...], option: str) -> None:
    if option != "Equals":
        return
    for v in values:
        if v not in valid:
            raise errors.invalid_filter_value(v, valid)


def _filter_path(value: str) -> str:
    if value.lstrip("/").lower().startswith(("aws", "ssm")):
        raise errors.reserved_filter_path()
    return check_path(value)


def matches(filters: Sequence[Filter], facts: Facts) -> bool:
    """All filters hold (AND); within one filter any value may (OR)."""
    return all(_holds(f, facts) for f in filters)


def _holds(f: Filter, p: Facts) -> bool:
    if f.key == "Path":
        return any(in_path(p.name, v, f.option == "Recursive") for v in f.values)
    if f.key == "Label":
        return any(v in p.labels for v in f.values)
    if f.key.startswith("tag:"):
        tag = p.tags.get(f.key[4:])
        if tag is None:
            return False
        return not f.values or _compare(f.option, tag, f.values)
    subject = {
        "Name": "/" + p.name.lstrip("/"),
        "Type": p.type,
        "KeyId": p.key_id,
        "Tier": p.tier,
        "DataType": p.data_type,
    }[f.key]
    return subject is not None and _compare(f.option, subject, f.values)


def _compare(option: str, subject: str, values: tuple[str, ...]) -> bool:
    if option == "Equals":
        return subject in values
    if option == "BeginsWith":
        return any(subject.startswith(v) for v in values)
    return any(v in subject for v in values)  # Contains


# page tokens ---------------------------------------------------------------------------
def make_token(op: str, position: str | int) -> str:
    """An opaque token naming where the next page starts; bound to its operation."""
    raw = json.dumps([op, position], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_token(op: str, token: str | None, kind: type) -> Any:
    """The position in a token from `make_token`, or None without one; InvalidNextToken
    for anything else (another operation's token included)."""
    if not token:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error):
        raise errors.invalid_next_token() from None
    if not (isinstance(data, list) and len(data) == 2 and data[0] == op and isinstance(data[1], kind)):
        raise errors.invalid_next_token()
    return data[1]
