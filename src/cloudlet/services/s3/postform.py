"""S3 browser uploads: ``POST /<bucket>`` with a multipart/form-data body and a POST policy.

Not in botocore's model (there is no PostObject operation), so this module is plain
functions the S3 router calls: parse the form while the file streams to disk, check the
policy, and build the answer. Nothing here touches HTTP or the store.

What S3 does, from its documentation and from recorded answers:
- Form field names are case-insensitive; values are case-sensitive. A name sent twice
  is one field whose values are joined with commas.
- ``file`` must be the last field; whatever follows it is ignored. The form data and
  boundaries before the file may not exceed 20,480 bytes.
- ``${filename}`` in any field is replaced by the file name (what follows the last
  ``/`` or ``\\``) before the policy is checked; a file part with no ``filename``
  parameter leaves it as written.
- No policy and no signature fields: the request is anonymous (the bucket decides).
  Otherwise the signature is checked over the base64 policy text as received, then the
  policy is read, then its expiration, each condition in order, and finally that every
  field is named by some condition (except ``policy``, ``file``, the signature fields and
  ``x-ignore-*``).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import email.utils
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit
from xml.sax.saxutils import escape

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from cloudlet.auth.sigv4 import signing_key
from cloudlet.core.errors import ServiceError
from cloudlet.protocol.xmlparse import parse_xml
from cloudlet.services.s3.errors import invalid_argument, malformed_xml

__all__ = [
    "Form",
    "FormParser",
    "Grant",
    "MAX_PRE_DATA",
    "check_policy",
    "object_url",
    "parse_form",
    "put_object_params",
    "success_response",
]

#: bytes of form data and boundaries S3 reads before the file part
MAX_PRE_DATA = 20 * 1024
DEFAULT_CONTENT_TYPE = "binary/octet-stream"
_ALGORITHM = "AWS4-HMAC-SHA256"

Sink = Callable[[bytes], object]


# ---------------------------------------------------------------------------- the form


@dataclass
class Form:
    """The fields before the file, and what is known of the file.

    `fields` is keyed by the lower-cased name, with ``${filename}`` already expanded;
    `sent_names` keeps each name as the form spelled it (errors quote it so).
    `file_name` is the file's name without any path (None: the part gave no filename);
    `file_size` is None until the whole file has been read.
    """

    fields: dict[str, str] = field(default_factory=dict)
    sent_names: dict[str, str] = field(default_factory=dict)
    file_name: str | None = None
    file_content_type: str | None = None
    file_size: int | None = None

    def get(self, name: str) -> str | None:
        return self.fields.get(name.lower())

    @property
    def key(self) -> str | None:
        return self.fields.get("key")

    @property
    def content_type(self) -> str:
        """The object's type: the ``Content-Type`` field, never the file part's own header."""
        return self.fields.get("content-type", DEFAULT_CONTENT_TYPE)


class FormParser:
    """Incremental multipart/form-data reader: `feed` chunks as they arrive, then `close`.

    Fields before the file are kept (at most `MAX_PRE_DATA` bytes of them); the file's
    bytes go to `sink` as they arrive and are never held. `on_file(form)` runs once the
    file part's headers are read and before its first byte reaches the sink, so a policy
    can refuse the upload before anything is written; it may return the largest size the
    policy allows, after which the sink gets nothing more (the body is still read to the
    end, so `close` reports the size S3 would have seen).
    """

    def __init__(
        self,
        content_type: str,
        sink: Sink,
        *,
        on_file: Callable[[Form], int | None] | None = None,
    ) -> None:
        ctype, params = parse_options_header(content_type or "")
        if ctype != b"multipart/form-data":
            raise _not_multipart()
        boundary = params.get(b"boundary")
        if not boundary:
            raise _malformed_post()
        try:
            self._parser = MultipartParser(
                boundary,
                {
                    "on_part_begin": self._part_begin,
                    "on_header_field": self._header_field,
                    "on_header_value": self._header_value,
                    "on_header_end": self._header_end,
                    "on_headers_finished": self._headers_finished,
                    "on_part_data": self._part_data,
                    "on_part_end": self._part_end,
                    "on_end": self._end,
                },
            )
        except (FormParserError, ValueError):
            raise _malformed_post() from None
        self.form = Form()
        self._sink = sink
        self._on_file = on_file
        self._limit: int | None = None
        self._offset = 0  # body bytes before the chunk being parsed
        self._stage = "fields"  # -> "file" -> "after"
        self._ended = False
        self._size = 0
        self._reset_part()

    # -- public

    def feed(self, chunk: bytes) -> None:
        if self._stage == "after":
            return  # S3 ignores everything after the file part
        try:
            self._parser.write(chunk)
        except ServiceError:
            raise
        except FormParserError:
            if self._stage != "after":
                raise _malformed_post() from None
        self._offset += len(chunk)
        if self._stage == "fields" and self._offset > MAX_PRE_DATA:
            raise _pre_data_too_large()

    def close(self) -> Form:
        """The finished form; raises if the body ended without one complete file part."""
        if self._stage == "file" or (self._stage == "fields" and not self._ended):
            raise _malformed_post()
        if self._stage == "fields":
            raise invalid_argument("POST requires exactly one file upload per request.", "file", "0")
        if self._limit is not None and self._size > self._limit:
            raise entity_too_large(self._size, self._limit)
        return self.form

    # -- parser callbacks

    def _reset_part(self) -> None:
        self._name: str | None = None
        self._value = bytearray()
        self._headers: dict[str, str] = {}
        self._hname = bytearray()
        self._hvalue = bytearray()

    def _count(self, end: int) -> None:
        if self._stage == "fields" and self._offset + end > MAX_PRE_DATA:
            raise _pre_data_too_large()

    def _part_begin(self) -> None:
        self._reset_part()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        if self._stage == "fields":
            self._count(end)
            self._hname += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        if self._stage == "fields":
            self._count(end)
            self._hvalue += data[start:end]

    def _header_end(self) -> None:
        if self._stage == "fields":
            name = self._hname.decode("latin-1").strip().lower()
            # latin-1 keeps the bytes; UTF-8 is decoded once the parameters are split out
            self._headers[name] = self._hvalue.decode("latin-1").strip()
        self._hname, self._hvalue = bytearray(), bytearray()

    def _headers_finished(self) -> None:
        if self._stage != "fields":
            return
        disposition, params = parse_options_header(self._headers.get("content-disposition", ""))
        if disposition != b"form-data" or b"name" not in params:
            return  # not a form field: read past it, keep nothing
        name = params[b"name"].decode("utf-8", "replace")
        if name.lower() != "file":
            self._name = name
            return
        filename = params.get(b"filename")
        form = self.form
        if filename is not None:
            form.file_name = re.split(r"[/\\]", filename.decode("utf-8", "replace"))[-1]
            form.fields = {k: v.replace("${filename}", form.file_name) for k, v in form.fields.items()}
        part_type = self._headers.get("content-type")
        form.file_content_type = None if part_type is None else part_type.encode("latin-1").decode("utf-8", "replace")
        self._stage = "file"
        self._name = None
        if self._on_file is not None:
            self._limit = self._on_file(form)

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._stage == "file":
            n = end - start
            if self._limit is None or self._size + n <= self._limit:
                self._sink(bytes(data[start:end]))
            self._size += n
        elif self._stage == "fields" and self._name is not None:
            self._count(end)
            self._value += data[start:end]

    def _part_end(self) -> None:
        if self._stage == "file":
            self.form.file_size = self._size
            self._stage = "after"
        elif self._stage == "fields" and self._name is not None:
            key = self._name.lower()
            value = self._value.decode("utf-8", "replace")
            fields = self.form.fields
            fields[key] = f"{fields[key]},{value}" if key in fields else value
            self.form.sent_names.setdefault(key, self._name)
        self._reset_part()

    def _end(self) -> None:
        self._ended = True


def parse_form(
    content_type: str,
    chunks: Iterable[bytes],
    sink: Sink,
    *,
    on_file: Callable[[Form], int | None] | None = None,
) -> Form:
    """Read a whole POST body: see `FormParser`."""
    parser = FormParser(content_type, sink, on_file=on_file)
    for chunk in chunks:
        parser.feed(chunk)
        if parser._stage == "after":
            break
    return parser.close()


# ---------------------------------------------------------------------------- the policy


@dataclass(frozen=True)
class Grant:
    """Who a form was signed by, and the sizes its policy allows.

    `access_key` is None for an anonymous upload (no policy, no signature), which only a
    publicly writable bucket accepts: the caller decides. `security_token` is the form's
    ``x-amz-security-token``, for the caller to match against the key's session.
    """

    access_key: str | None
    signature_version: str | None = None  # "v4", "v2", or None (anonymous)
    security_token: str | None = None
    ranges: tuple[tuple[int, int], ...] = ()

    @property
    def max_size(self) -> int | None:
        return min((hi for _, hi in self.ranges), default=None)

    def check_size(self, size: int) -> None:
        for lo, hi in self.ranges:
            if size > hi:
                raise entity_too_large(size, hi)
            if size < lo:
                raise entity_too_small(size, lo)


def check_policy(
    form: Form,
    bucket: str,
    now: dt.datetime,
    secret_for: Callable[[str], str | None] | None,
    *,
    region: str | None = None,
) -> Grant:
    """Check a form against its signature and policy, as S3 does; raise S3's error.

    `secret_for(access_key)` gives the key's secret, or None for an unknown key; pass
    None itself to skip signature checks (cloudlet without ``--verify-signatures``): the
    policy's expiration and conditions still apply. `region` is the bucket's, checked
    against a SigV4 credential scope when given. With `form.file_size` known, the
    ``content-length-range`` conditions are checked too; otherwise call
    ``grant.check_size`` once the file is read.
    """
    if form.key is None:
        raise _missing_field("key")
    version = _signature_version(form)
    if version is None:
        return Grant(None)
    policy_b64 = form.fields["policy"]
    if version == "v4":
        access_key = _check_v4(form, policy_b64, secret_for, region)
    else:
        access_key = form.fields["awsaccesskeyid"]
        if secret_for is not None:
            secret = _secret(secret_for, access_key)
            mac = hmac.new(secret.encode(), policy_b64.encode(), hashlib.sha1).digest()
            _compare(base64.b64encode(mac).decode(), form.fields["signature"], access_key, policy_b64)
    expiration, conditions = _read_policy(policy_b64)
    if now > expiration:
        raise _denied("Policy expired.")
    ranges = _check_conditions(conditions, form, bucket)
    _check_coverage(form, conditions, version)
    grant = Grant(access_key, version, form.get("x-amz-security-token"), tuple(ranges))
    if form.file_size is not None:
        grant.check_size(form.file_size)
    return grant


def _signature_version(form: Form) -> str | None:
    """Which fields a signed form must carry, named as S3 names them when one is missing."""
    f = form.fields
    required: tuple[str, ...]
    if any(k in f for k in ("x-amz-algorithm", "x-amz-credential", "x-amz-signature")):
        version, required = "v4", ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Signature")
    elif "awsaccesskeyid" in f or "signature" in f:
        version, required = "v2", ("AWSAccessKeyId", "Signature")
    else:
        return None
    for name in (*required, "Policy"):
        if name.lower() not in f:
            raise _missing_field(name)
    return version


def _check_v4(
    form: Form, policy_b64: str, secret_for: Callable[[str], str | None] | None, region: str | None
) -> str:
    f = form.fields
    algorithm, credential, amz_date = f["x-amz-algorithm"], f["x-amz-credential"], f["x-amz-date"]
    if algorithm != _ALGORITHM:
        raise invalid_argument(f'X-Amz-Algorithm only supports "{_ALGORITHM}"', "X-Amz-Algorithm", algorithm)

    def bad(message: str, **extra: str) -> ServiceError:
        err = invalid_argument(message, "X-Amz-Credential", credential)
        err.fields.update(extra)
        return err

    parts = credential.split("/")
    if len(parts) != 5:
        raise bad('the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".')
    access_key, date, scope_region, service, terminal = parts
    if not access_key:
        raise bad("a non-empty Access Key (AKID) must be provided in the credential.")
    if not (len(date) == 8 and date.isascii() and date.isdigit()):
        raise bad(f'incorrect date format "{date}". This date in the credential must be in the format "yyyyMMdd".')
    if region is not None and scope_region != region:
        raise bad(f"the region '{scope_region}' is wrong; expecting '{region}'", Region=region)
    if service != "s3":
        raise bad(f'incorrect service "{service}". This endpoint belongs to "s3".')
    if terminal != "aws4_request":
        raise bad(f'incorrect terminal "{terminal}". This endpoint uses "aws4_request".')
    if not re.fullmatch(r"\d{8}T\d{6}Z", amz_date):
        raise invalid_argument("X-Amz-Date must be formated via ISO8601 Long format", "X-Amz-Date", amz_date)
    if secret_for is not None:
        key = signing_key(_secret(secret_for, access_key), date, scope_region, service)
        expected = hmac.new(key, policy_b64.encode(), hashlib.sha256).hexdigest()
        _compare(expected, f["x-amz-signature"], access_key, policy_b64)
    return access_key


def _secret(secret_for: Callable[[str], str | None], access_key: str) -> str:
    secret = secret_for(access_key)
    if secret is None:
        raise ServiceError(
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
            403,
            fields={"AWSAccessKeyId": access_key},
        )
    return secret


def _compare(expected: str, provided: str, access_key: str, policy_b64: str) -> None:
    if hmac.compare_digest(expected.encode(), provided.encode("utf-8", "replace")):
        return
    raise ServiceError(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
        403,
        fields={
            "AWSAccessKeyId": access_key,
            "StringToSign": policy_b64,
            "SignatureProvided": provided,
            "StringToSignBytes": " ".join(f"{b:02x}" for b in policy_b64.encode("utf-8", "replace")),
        },
    )


class _Obj(list):  # type: ignore[type-arg]
    """A JSON object as its (name, value) pairs, so a repeated name is still seen."""


def _read_policy(policy_b64: str) -> tuple[dt.datetime, list[Any]]:
    try:
        raw = base64.b64decode(policy_b64)
    except (binascii.Error, ValueError):
        raise _invalid_policy("invalid Base64 encoding.") from None
    try:
        # the docs list \$ and \v as escapes, which JSON lacks
        text = re.sub(r"\\(.)", _escape, raw.decode("utf-8"), flags=re.S)
        doc = json.loads(text, object_pairs_hook=_Obj, parse_float=_no_float, parse_constant=_no_float)
    except (ValueError, RecursionError):
        raise _invalid_policy("Invalid JSON.") from None
    if not isinstance(doc, _Obj):
        raise _invalid_policy("Invalid JSON.")
    members = dict(doc)
    for name, _ in doc:
        if name not in ("expiration", "conditions"):
            raise _invalid_policy(f"Unexpected: '{name.lower()}'")
    if "expiration" not in members:
        raise _invalid_policy("Policy missing expiration.")
    expiration = _expiration(members["expiration"])
    if "conditions" not in members:
        raise _invalid_policy("Policy missing conditions.")
    conditions = members["conditions"]
    if not isinstance(conditions, list) or isinstance(conditions, _Obj):
        raise _invalid_policy("Invalid 'conditions' value: must be a List.")
    return expiration, conditions


def _escape(m: re.Match[str]) -> str:
    ch = m.group(1)
    return {"$": "$", "v": "\\u000b"}.get(ch, m.group(0))


def _no_float(text: str) -> Any:
    raise ValueError(text)  # S3 answers "Invalid JSON." for a fractional number


_EXPIRATION = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z")


def _expiration(value: Any) -> dt.datetime:
    m = _EXPIRATION.fullmatch(value) if isinstance(value, str) else None
    try:
        if m is None:
            raise ValueError(value)
        y, mo, d, h, mi, s, frac = m.groups()
        micros = int((frac or "0").ljust(6, "0")[:6])
        return dt.datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), micros, dt.timezone.utc)
    except ValueError:
        shown = value if isinstance(value, str) else json.dumps(value)
        raise _invalid_policy(f"Invalid 'expiration' value: '{shown}'") from None


def _check_conditions(conditions: list[Any], form: Form, bucket: str) -> list[tuple[int, int]]:
    """Every condition in policy order; the first that fails is the error."""
    ranges: list[tuple[int, int]] = []
    for cond in conditions:
        if isinstance(cond, _Obj):
            if len(cond) != 1:
                raise _invalid_policy(
                    "Invalid Simple-Condition: Simple-Conditions must have exactly one property specified."
                )
            name, expected = cond[0]
            if expected is None:
                raise _invalid_policy("Invalid JSON.")
            if not isinstance(expected, str):
                raise _invalid_policy("Invalid Simple-Condition: value must be a string.")
            if _value(form, bucket, name) != expected:
                raise _condition_failed(["eq", f"${name}", expected])
        elif isinstance(cond, list):
            if not cond or not isinstance(cond[0], str):
                raise _invalid_policy("Invalid Condition: missing operation identifier.")
            op = cond[0].lower()
            if op not in ("eq", "starts-with", "content-length-range"):
                raise _invalid_policy(f"Invalid Condition: unknown operation '{cond[0]}'.")
            if len(cond) != 3:
                raise _invalid_policy(f"Invalid {cond[0]}: wrong number of arguments.")
            if op == "content-length-range":
                lo, hi = _bound(cond[1]), _bound(cond[2])
                if lo is None or hi is None:
                    raise _condition_failed(cond)
                ranges.append((lo, hi))
                continue
            ref, operand = cond[1], cond[2]
            if not isinstance(ref, str) or not isinstance(operand, str):
                raise _invalid_policy("Invalid JSON.")
            actual = _value(form, bucket, ref[1:]) if ref.startswith("$") else None
            if not _matches(op, ref[1:].lower(), actual, operand):
                raise _condition_failed(cond)
        else:
            raise _invalid_policy("Invalid condition test: must be a List or Object.")
    return ranges


def _value(form: Form, bucket: str, name: str) -> str | None:
    """A condition's subject: the bucket comes from the request, the rest from the form."""
    name = name.lower()
    return bucket if name == "bucket" else form.fields.get(name)


def _matches(op: str, name: str, actual: str | None, operand: str) -> bool:
    if actual is None:
        return False  # a condition on an absent field fails, even starts-with ""
    if op == "eq":
        return actual == operand
    if name == "content-type":  # a comma-separated Content-Type is a list: each must match
        return all(item.strip().startswith(operand) for item in actual.split(","))
    return actual.startswith(operand)


def _bound(value: Any) -> int | None:
    """A range bound: a JSON integer or a string of one (S3 accepts both)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    return None


_EXEMPT = {"policy", "file", "x-amz-signature"}
_EXEMPT_V2 = {"awsaccesskeyid", "signature"}


def _check_coverage(form: Form, conditions: list[Any], version: str) -> None:
    covered: set[str] = set()
    for cond in conditions:
        if isinstance(cond, _Obj):
            covered.add(cond[0][0].lower())
        elif isinstance(cond[1], str) and cond[1].startswith("$"):
            covered.add(cond[1][1:].lower())
    exempt = _EXEMPT | _EXEMPT_V2 if version == "v2" else _EXEMPT
    extra = [
        form.sent_names.get(name, name)
        for name in form.fields
        if name not in covered and name not in exempt and not name.startswith("x-ignore-")
    ]
    if extra:
        raise _denied(f"Extra input fields: {', '.join(extra)}")


# ---------------------------------------------------------------------------- the upload


_HEADER_FIELDS = {
    "acl": "ACL",
    "cache-control": "CacheControl",
    "content-disposition": "ContentDisposition",
    "content-encoding": "ContentEncoding",
    "content-language": "ContentLanguage",
    "content-md5": "ContentMD5",
    "x-amz-storage-class": "StorageClass",
    "x-amz-website-redirect-location": "WebsiteRedirectLocation",
    "x-amz-server-side-encryption": "ServerSideEncryption",
    "x-amz-server-side-encryption-aws-kms-key-id": "SSEKMSKeyId",
    "x-amz-server-side-encryption-context": "SSEKMSEncryptionContext",
    "x-amz-server-side-encryption-customer-algorithm": "SSECustomerAlgorithm",
    "x-amz-server-side-encryption-customer-key": "SSECustomerKey",
    "x-amz-server-side-encryption-customer-key-md5": "SSECustomerKeyMD5",
    "x-amz-checksum-algorithm": "ChecksumAlgorithm",
    "x-amz-checksum-crc32": "ChecksumCRC32",
    "x-amz-checksum-crc32c": "ChecksumCRC32C",
    "x-amz-checksum-crc64nvme": "ChecksumCRC64NVME",
    "x-amz-checksum-sha1": "ChecksumSHA1",
    "x-amz-checksum-sha256": "ChecksumSHA256",
    "x-amz-object-lock-mode": "ObjectLockMode",
    "x-amz-object-lock-legal-hold": "ObjectLockLegalHoldStatus",
    "x-amz-grant-full-control": "GrantFullControl",
    "x-amz-grant-read": "GrantRead",
    "x-amz-grant-read-acp": "GrantReadACP",
    "x-amz-grant-write-acp": "GrantWriteACP",
}


def put_object_params(form: Form, bucket: str, key: str) -> dict[str, Any]:
    """The form as PutObject's input (botocore member names), without the Body.

    ``tagging`` is an XML document in a form; PutObject takes tags as a query string.
    """
    params: dict[str, Any] = {"Bucket": bucket, "Key": key, "ContentType": form.content_type}
    meta: dict[str, str] = {}
    for name, value in form.fields.items():
        if name in _HEADER_FIELDS:
            params[_HEADER_FIELDS[name]] = value
        elif name.startswith("x-amz-meta-"):
            meta[name[len("x-amz-meta-") :]] = value
    if meta:
        params["Metadata"] = meta
    if "x-amz-server-side-encryption-bucket-key-enabled" in form.fields:
        params["BucketKeyEnabled"] = form.fields["x-amz-server-side-encryption-bucket-key-enabled"].lower() == "true"
    expires = form.fields.get("expires")
    if expires is not None:
        try:
            params["Expires"] = email.utils.parsedate_to_datetime(expires)
        except (TypeError, ValueError):
            pass  # S3 keeps an unreadable Expires as an opaque string; PutObject's model cannot
    retain = form.fields.get("x-amz-object-lock-retain-until-date")
    if retain is not None:
        try:
            params["ObjectLockRetainUntilDate"] = dt.datetime.fromisoformat(retain.replace("Z", "+00:00"))
        except ValueError:
            raise invalid_argument(
                "The retain until date must be provided in ISO 8601 format", "x-amz-object-lock-retain-until-date",
                retain,
            ) from None
    if "tagging" in form.fields:
        params["Tagging"] = _tags_query(form.fields["tagging"])
    return params


def _tags_query(document: str) -> str:
    try:
        root = parse_xml(document.encode())
    except ServiceError:
        raise malformed_xml() from None
    pairs: list[tuple[str, str]] = []
    if root.tag == "Tagging":  # another root is read as no tags, as S3 does
        for tag_set in (c for c in root.children if c.tag == "TagSet"):
            for tag in (c for c in tag_set.children if c.tag == "Tag"):
                parts = {c.tag: c.text for c in tag.children}
                pairs.append((parts.get("Key", ""), parts.get("Value", "")))
    return urlencode(pairs, quote_via=quote)


def object_url(bucket_url: str, key: str) -> str:
    """An object's URL as S3 reports it after a POST: the whole key percent-encoded, ``/`` too."""
    return f"{bucket_url.rstrip('/')}/{quote(key, safe='')}"


def success_response(
    form: Form, bucket: str, key: str, etag: str, location: str
) -> tuple[int, dict[str, str], bytes]:
    """S3's answer to a stored upload: a 303 to ``success_action_redirect`` when it is an
    absolute URL, else ``success_action_status`` 200 or 201 (with a PostResponse), else 204.

    `etag` is quoted as in the object record; `location` is the object's URL (`object_url`).
    """
    redirect = form.get("success_action_redirect") or form.get("redirect")
    if redirect:
        parts = urlsplit(redirect)
        if parts.scheme in ("http", "https") and parts.netloc:
            query = urlencode([("bucket", bucket), ("key", key), ("etag", etag)])
            sep = "&" if parts.query else ("" if redirect.endswith("?") else "?")
            return 303, {"Location": f"{redirect}{sep}{query}"}, b""
    headers = {"ETag": etag, "Location": location}
    status = form.get("success_action_status")
    if status == "201":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<PostResponse><Location>{escape(location)}</Location><Bucket>{escape(bucket)}</Bucket>"
            f"<Key>{escape(key)}</Key><ETag>{escape(etag)}</ETag></PostResponse>"
        ).encode()
        return 201, {**headers, "Content-Type": "application/xml"}, body
    return (200 if status == "200" else 204), headers, b""


# ---------------------------------------------------------------------------- errors


def entity_too_large(size: int, limit: int) -> ServiceError:
    return ServiceError(
        "EntityTooLarge",
        "Your proposed upload exceeds the maximum allowed size",
        400,
        fields={"ProposedSize": str(size), "MaxSizeAllowed": str(limit)},
    )


def entity_too_small(size: int, limit: int) -> ServiceError:
    return ServiceError(
        "EntityTooSmall",
        "Your proposed upload is smaller than the minimum allowed size",
        400,
        fields={"ProposedSize": str(size), "MinSizeAllowed": str(limit)},
    )


def _not_multipart() -> ServiceError:
    return ServiceError(
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
        412,
        fields={"Condition": "Bucket POST must be of the enclosure-type multipart/form-data"},
    )


def _malformed_post() -> ServiceError:
    return ServiceError("MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.")


def _pre_data_too_large() -> ServiceError:
    return ServiceError(
        "MaxPostPreDataLengthExceeded",
        "Your POST request fields preceeding the upload file was too large.",  # sic, S3's wording
        400,
        fields={"MaxPostPreDataLengthBytes": str(MAX_PRE_DATA)},
    )


def _missing_field(name: str) -> ServiceError:
    return invalid_argument(
        f"Bucket POST must contain a field named '{name}'.  If it is specified, please check the order of the fields.",
        name,
        "",
    )


def _invalid_policy(detail: str) -> ServiceError:
    return ServiceError("InvalidPolicyDocument", f"Invalid Policy: {detail}", 400)


def _denied(detail: str) -> ServiceError:
    return ServiceError("AccessDenied", f"Invalid according to Policy: {detail}", 403)


def _condition_failed(cond: list[Any]) -> ServiceError:
    return _denied(f"Policy Condition failed: {json.dumps(list(cond), ensure_ascii=False)}")
