"""AWS Signature Version 4: read a request's signature and check it against a secret.

Two carriers: the ``Authorization`` header, and presigned URLs (``X-Amz-*`` query
parameters). The canonical request is built from the bytes the client sent, the way
AWS builds it: S3 signs the path exactly as sent, every other service signs each path
segment percent-encoded once more (botocore's ``quote(path, safe='/~')`` over the
already-encoded path). Only when that fails do we try the few other forms real clients
sign (a query left in botocore's raw order, a path normalised from its decoded form),
so a wrong secret costs a few more HMACs but a right one costs one.

The same failure has different words in different service families (S3's
``InvalidAccessKeyId`` is IAM's ``InvalidClientTokenId`` and DynamoDB's
``UnrecognizedClientException``), so every check takes a `Dialect`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime
from functools import lru_cache
from urllib.parse import quote, unquote, unquote_to_bytes

from cloudlet.auth.credentials import Identity
from cloudlet.core.errors import ServiceError
from cloudlet.protocol.http import Request

ALGORITHM = "AWS4-HMAC-SHA256"
ALGORITHM_V4A = "AWS4-ECDSA-P256-SHA256"
SIGV2 = "AWS"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
MAX_SKEW_S = 15 * 60
MAX_PRESIGN_EXPIRES_S = 7 * 24 * 3600
_UTC = dt.timezone.utc

SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)
INVALID_TOKEN = "The security token included in the request is invalid."


@dataclass(frozen=True, slots=True)
class Dialect:
    """How one family of services words each auth failure: (code, HTTP status[, message])."""

    name: str
    s3: bool
    unknown_key: tuple[str, int, str]
    bad_signature: tuple[str, int]
    incomplete: tuple[str, int]
    missing: tuple[str, int, str]
    invalid_token: tuple[str, int, str]
    expired_token: tuple[str, int, str]


S3 = Dialect(
    "s3",
    True,
    ("InvalidAccessKeyId", 403, "The AWS Access Key Id you provided does not exist in our records."),
    ("SignatureDoesNotMatch", 403),
    ("AuthorizationHeaderMalformed", 400),
    ("AccessDenied", 403, "Access Denied"),
    ("InvalidToken", 400, "The provided token is malformed or otherwise invalid."),
    ("ExpiredToken", 400, "The provided token has expired."),
)
QUERY = Dialect(
    "query",
    False,
    ("InvalidClientTokenId", 403, INVALID_TOKEN),
    ("SignatureDoesNotMatch", 403),
    ("IncompleteSignature", 400),
    ("MissingAuthenticationToken", 403, "Request is missing Authentication Token"),
    ("InvalidClientTokenId", 403, INVALID_TOKEN),
    ("ExpiredToken", 403, "The security token included in the request is expired"),
)
JSON = Dialect(
    "json",
    False,
    ("UnrecognizedClientException", 400, INVALID_TOKEN),
    ("InvalidSignatureException", 400),
    ("IncompleteSignatureException", 400),
    ("MissingAuthenticationTokenException", 400, "Request is missing Authentication Token"),
    ("UnrecognizedClientException", 400, INVALID_TOKEN),
    ("ExpiredTokenException", 400, "The security token included in the request is expired"),
)
REST_JSON = replace(
    JSON,
    name="rest-json",
    unknown_key=("UnrecognizedClientException", 403, INVALID_TOKEN),
    bad_signature=("InvalidSignatureException", 403),
    missing=("MissingAuthenticationTokenException", 403, "Missing Authentication Token"),
    invalid_token=("UnrecognizedClientException", 403, INVALID_TOKEN),
    expired_token=("ExpiredTokenException", 403, "The security token included in the request is expired"),
)
_EC2_AUTH = ("AuthFailure", 401, "AWS was not able to validate the provided access credentials")
EC2 = replace(QUERY, name="ec2", unknown_key=_EC2_AUTH, bad_signature=_EC2_AUTH[:2], invalid_token=_EC2_AUTH)


def dialect_for(service: str, protocol: str) -> Dialect:
    """The dialect of a service (its botocore name) spoken over `protocol`."""
    if service in ("s3", "s3control"):
        return S3
    if protocol == "ec2":
        return EC2
    if protocol in ("json", "smithy-rpc-v2-cbor"):
        return JSON
    if protocol == "rest-json":
        return REST_JSON
    return QUERY


@dataclass(frozen=True, slots=True)
class Signed:
    """What a request claims about its signature, before any check.

    `algorithm` is ``AWS4-HMAC-SHA256``, ``AWS4-ECDSA-P256-SHA256`` (SigV4a, read so the
    access key still maps to an account, never verified) or ``AWS`` (S3's SigV2, which
    boto3 still uses for presigned S3 URLs; for SigV2 `expires` is an epoch time).
    """

    algorithm: str
    access_key: str
    date: str = ""
    region: str = ""
    service: str = ""
    amz_date: str = ""
    signed_headers: tuple[str, ...] = ()
    signature: str = ""
    presigned: bool = False
    expires: int | None = None
    token: str | None = None

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


@dataclass(frozen=True, slots=True)
class Verified:
    """A checked signature and its signing key: the seed an aws-chunked body chains from."""

    signed: Signed
    key: bytes


@lru_cache(maxsize=1024)
def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """kSigning = HMAC chain over date, region, service; cached, as it changes once a day."""
    k = hmac.new(f"AWS4{secret}".encode(), date.encode(), hashlib.sha256).digest()
    k = hmac.new(k, region.encode(), hashlib.sha256).digest()
    k = hmac.new(k, service.encode(), hashlib.sha256).digest()
    return hmac.new(k, b"aws4_request", hashlib.sha256).digest()


def hmac_hex(key: bytes, msg: str) -> str:
    return hmac.new(key, msg.encode(), hashlib.sha256).hexdigest()


def same(expected: str, provided: str) -> bool:
    """Constant-time compare that cannot raise on a non-ASCII signature from the wire."""
    return hmac.compare_digest(expected.encode(), provided.encode("utf-8", "replace"))


# ---------------------------------------------------------------------------- parsing


def parse(req: Request, dialect: Dialect = QUERY) -> Signed | None:
    """The signature a request carries, or None if it carries none (anonymous).

    Raises the dialect's 400/403 for a signature that is there but malformed.
    """
    auth = req.headers.get("authorization")
    if auth is not None:
        return _parse_header(auth, req, dialect)
    q = req.query
    if "X-Amz-" in q:
        return _parse_presigned(q, dialect)
    if "AWSAccessKeyId=" in q and "Signature=" in q:  # SigV2 presigned: boto3's default for S3
        params = dict(p.partition("=")[::2] for p in q.split("&"))
        expires = unquote(params.get("Expires", ""))
        return Signed(
            SIGV2,
            unquote(params.get("AWSAccessKeyId", "")),
            signature=unquote(params.get("Signature", "")),
            presigned=True,
            expires=int(expires) if expires.isascii() and expires.isdigit() else None,
            token=unquote(params["x-amz-security-token"]) if "x-amz-security-token" in params else None,
        )
    return None


_THREE_COMPONENTS = "the authorization header requires three components: Credential, SignedHeaders, and Signature."


def _parse_header(auth: str, req: Request, d: Dialect) -> Signed:
    algorithm, _, rest = auth.strip().partition(" ")
    if algorithm == SIGV2:
        access_key, _, signature = rest.strip().rpartition(":")
        return Signed(SIGV2, access_key, signature=signature, token=req.headers.get("x-amz-security-token"))
    if algorithm not in (ALGORITHM, ALGORITHM_V4A) and d.s3:
        raise ServiceError(
            "InvalidArgument",
            "Unsupported Authorization Type",
            400,
            fields={"ArgumentName": "Authorization", "ArgumentValue": auth},
        )
    fields: dict[str, str] = {}
    for part in rest.split(","):
        part = part.strip()
        if not part:
            continue
        name, eq, value = part.partition("=")
        if not eq:
            if d.s3:
                raise _malformed(d, _THREE_COMPONENTS)
            raise _incomplete(
                d, f"'{part}' not a valid key=value pair (missing equal-sign) in Authorization header: '{auth}'."
            )
        fields[name.strip()] = value.strip()
    amz_date = _request_date(req)
    if d.s3:
        if not ("Credential" in fields and "SignedHeaders" in fields and "Signature" in fields):
            raise _malformed(d, _THREE_COMPONENTS)
        if amz_date is None:
            raise _s3_no_date()
    else:
        missing = [
            f"Authorization header requires '{p}' parameter."
            for p in ("Credential", "Signature", "SignedHeaders")
            if p not in fields
        ]
        if amz_date is None:
            missing.append("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
        if missing:
            raise _incomplete(d, " ".join(missing) + f" Authorization={auth}")
        if algorithm != ALGORITHM and algorithm != ALGORITHM_V4A:
            raise _incomplete(d, f"Unsupported AWS 'algorithm': '{algorithm}'.")
    assert amz_date is not None
    access_key, date, region, service = _credential(fields["Credential"], algorithm, d)
    return Signed(
        algorithm,
        access_key,
        date,
        region,
        service,
        amz_date,
        tuple(h for h in fields["SignedHeaders"].split(";") if h),
        fields["Signature"],
        token=req.headers.get("x-amz-security-token"),
    )


def _request_date(req: Request) -> str | None:
    """X-Amz-Date, else the Date header converted to the ISO basic form SigV4 signs."""
    value = req.headers.get("x-amz-date")
    if value is not None:
        return value.strip()
    value = req.headers.get("date")
    if value is None:
        return None
    when = _http_date(value)
    if when is None:
        return value.strip()  # reported as a bad date when checked
    return _fmt(when)


def _http_date(value: str) -> dt.datetime | None:
    """An RFC 7231 date (``Tue, 01 Jan 2024 00:00:00 GMT``) as an aware UTC datetime."""
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return when.replace(tzinfo=_UTC) if when.tzinfo is None else when


_PRESIGN_REQUIRED = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders")
_PRESIGN_S3_MESSAGE = (
    "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
    "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
)


def _parse_presigned(q: str, d: Dialect) -> Signed | None:
    params: dict[str, str] = {}
    for part in q.split("&"):
        k, _, v = part.partition("=")
        if k.startswith("X-Amz-"):
            params[k] = unquote(v)
    if not any(k in params for k in _PRESIGN_REQUIRED):
        return None  # other X-Amz-* parameters, but no signature
    missing = [k for k in _PRESIGN_REQUIRED if k not in params]
    if d.s3 and "X-Amz-Expires" not in params:
        missing.append("X-Amz-Expires")
    if missing:
        if d.s3:
            raise _query_error(_PRESIGN_S3_MESSAGE)
        detail = " ".join(f"AWS query-string parameters must include '{k}'." for k in missing)
        raise _incomplete(d, f"{detail} Re-examine the query-string parameters.")
    algorithm = params["X-Amz-Algorithm"]
    if algorithm not in (ALGORITHM, ALGORITHM_V4A):
        if d.s3:
            raise _query_error('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256" and "AWS4-ECDSA-P256-SHA256"')
        raise _incomplete(d, f"Unsupported AWS 'algorithm': '{algorithm}'.")
    expires: int | None = None
    raw_expires = params.get("X-Amz-Expires")
    if raw_expires is not None:
        problem = _query_error if d.s3 else (lambda message: _incomplete(d, message))
        if not (raw_expires.isascii() and raw_expires.lstrip("-").isdigit()):
            raise problem("X-Amz-Expires should be a number")
        expires = int(raw_expires)
        if expires < 0:
            raise problem("X-Amz-Expires must be non-negative")
        if expires > MAX_PRESIGN_EXPIRES_S and d.s3:
            raise _query_error("X-Amz-Expires must be less than a week (in seconds) that is 604800")
    access_key, date, region, service = _credential(params["X-Amz-Credential"], algorithm, d)
    return Signed(
        algorithm,
        access_key,
        date,
        region,
        service,
        params["X-Amz-Date"],
        tuple(h for h in params["X-Amz-SignedHeaders"].split(";") if h),
        params["X-Amz-Signature"],
        presigned=True,
        expires=expires,
        token=params.get("X-Amz-Security-Token"),
    )


def _credential(cred: str, algorithm: str, d: Dialect) -> tuple[str, str, str, str]:
    """AKID/date/region/service/aws4_request (SigV4a has no region: AKID/date/service/aws4_request)."""
    parts = cred.split("/")
    if algorithm == ALGORITHM_V4A and len(parts) == 4:
        parts.insert(2, "")
    if len(parts) != 5:
        if d.s3:
            raise _malformed(
                d, 'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".'
            )
        raise _incomplete(
            d,
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, "
            f"got '{cred}'",
        )
    if parts[4] != "aws4_request":
        if d.s3:
            raise _malformed(d, f"incorrect terminal \"{parts[4]}\". This endpoint uses \"aws4_request\".")
        raise _incomplete(
            d, f"Credential should be scoped with a valid terminator: 'aws4_request', not '{parts[4]}'."
        )
    if not parts[0] and d.s3:
        raise _malformed(d, "a non-empty Access Key (AKID) must be provided in the credential.")
    return parts[0], parts[1], parts[2], parts[3]


# ---------------------------------------------------------------------------- verifying


def verify(
    req: Request, identity: Identity, now: dt.datetime, dialect: Dialect = QUERY, *, signed: Signed | None = None
) -> Verified:
    """Check `req` was signed with `identity`'s secret, at a time acceptable at `now`.

    `now` is the cloudlet clock (``clock.now()``), so a test that moves time forward sees
    presigned URLs expire. Raises the dialect's ServiceError; returns the signing key for
    checking chunk signatures of an aws-chunked body.
    """
    if signed is None:
        signed = parse(req, dialect)
    if signed is None:
        raise missing_authentication(dialect)
    now_s = now.timestamp()
    if signed.algorithm != ALGORITHM:
        if signed.algorithm == SIGV2 and dialect.s3:
            _check_token(signed, identity, now_s, dialect)
            return _verify_s3_v2(req, identity, now, signed)
        raise _unsupported(signed, dialect)
    _check_token(signed, identity, now_s, dialect)
    _check_time(signed, now, now_s, dialect)
    key = signing_key(identity.secret_key, signed.date, signed.region, signed.service)
    payload = _payload_hash(req, signed, dialect)
    try:
        headers = _canonical_headers(req, signed)
        uri = _canonical_uri(req.path, dialect.s3)
        query = _canonical_query(req.query, signed.presigned)
        canonical = f"{req.method}\n{uri}\n{query}\n{headers}"
        sts = _string_to_sign(signed, canonical, payload)
        ok = same(hmac_hex(key, sts), signed.signature) or _any_alternative_matches(
            req, signed, key, headers, payload, dialect.s3, (uri, query)
        )
    except UnicodeError:  # text no client could have signed (lone surrogates from the transport)
        raise signature_mismatch(dialect, signed) from None
    if not ok:
        raise signature_mismatch(dialect, signed, f"{canonical}\n{payload}", sts)
    if dialect.s3:
        _check_content_sha256(req, payload)
    return Verified(signed, key)


def _string_to_sign(signed: Signed, canonical_head: str, payload: str) -> str:
    digest = hashlib.sha256(f"{canonical_head}\n{payload}".encode()).hexdigest()
    return f"{ALGORITHM}\n{signed.amz_date}\n{signed.scope}\n{digest}"


def _any_alternative_matches(
    req: Request, signed: Signed, key: bytes, headers: str, payload: str, s3: bool, tried: tuple[str, str]
) -> bool:
    """Other canonical forms some clients sign; only reached when the standard one failed."""
    uris = [tried[0], *_alternative_uris(req.path, s3)]
    queries = [tried[1], _raw_query(req.query, signed.presigned)]
    seen = {tried}
    for uri in uris:
        for query in queries:
            if (uri, query) in seen:
                continue
            seen.add((uri, query))
            sts = _string_to_sign(signed, f"{req.method}\n{uri}\n{query}\n{headers}", payload)
            if same(hmac_hex(key, sts), signed.signature):
                return True
    return False


def _canonical_headers(req: Request, signed: Signed) -> str:
    """``name:trimmed value`` lines, a blank line, then the signed-header list, as signed."""
    lines = []
    get = req.headers.get
    for name in signed.signed_headers:
        value = get(name.lower())
        lines.append(f"{name}:{' '.join(value.split()) if value else ''}\n")
    return "".join(lines) + "\n" + ";".join(signed.signed_headers)


def _canonical_uri(path: str, s3: bool) -> str:
    if not path:
        return "/"
    if s3:
        return path
    return quote(_remove_dot_segments(path), safe="/~")


def _alternative_uris(path: str, s3: bool) -> list[str]:
    if not path:
        return []
    if s3:  # encoded once from the decoded key, as the SigV4 spec words it
        return [quote(unquote_to_bytes(path), safe="/~")]
    norm = _remove_dot_segments(path)
    once = quote(unquote_to_bytes(norm), safe="/~")
    return [norm, once, quote(once, safe="/~")]


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 dot-segment removal; AWS also collapses empty segments (``//``)."""
    if "//" not in path and "/." not in path:
        return path
    out: list[str] = []
    for seg in path.split("/"):
        if not seg or seg == ".":
            continue
        if seg == "..":
            if out:
                out.pop()
        else:
            out.append(seg)
    first = "/" if path.startswith("/") else ""
    last = "/" if path.endswith("/") and out else ""
    return first + "/".join(out) + last


_PLAIN = re.compile(r"[A-Za-z0-9\-_.~]*")


def _encode_component(s: str) -> str:
    if _PLAIN.fullmatch(s):
        return s
    return quote(unquote_to_bytes(s), safe="-_.~")


def _canonical_query(query: str, presigned: bool) -> str:
    """Each name and value decoded then encoded per RFC 3986, sorted; no X-Amz-Signature."""
    if not query:
        return ""
    pairs = []
    for part in query.split("&"):
        if not part:
            continue
        k, _, v = part.partition("=")
        k = _encode_component(k)
        if presigned and k == "X-Amz-Signature":
            continue
        pairs.append((k, _encode_component(v)))
    pairs.sort()
    return "&".join(f"{k}={v}" for k, v in pairs)


def _raw_query(query: str, presigned: bool) -> str:
    """The query as botocore canonicalises a URL it did not build: split, sorted, not re-encoded."""
    if not query:
        return ""
    pairs = [p.partition("=")[::2] for p in query.split("&")]
    if presigned:
        pairs = [p for p in pairs if p[0] != "X-Amz-Signature"]
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _payload_hash(req: Request, signed: Signed, d: Dialect) -> str:
    value = req.headers.get("x-amz-content-sha256")
    if value is not None:
        return value
    if signed.presigned and d.s3:
        return UNSIGNED_PAYLOAD
    return _sha256(req) if req.body or req.stream is not None else EMPTY_SHA256


def _sha256(req: Request) -> str:
    if req.stream is None:
        return hashlib.sha256(req.body).hexdigest()
    h = hashlib.sha256()
    for piece in req.stream.pieces():
        h.update(piece)
    return h.hexdigest()


_HEX64 = re.compile(r"[0-9a-f]{64}")


def _check_content_sha256(req: Request, declared: str) -> None:
    """S3 refuses a body whose hash is not the one the client signed."""
    if not _HEX64.fullmatch(declared):
        return
    computed = _sha256(req)
    if computed != declared:
        raise ServiceError(
            "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
            400,
            fields={"ClientComputedContentSHA256": declared, "S3ComputedContentSHA256": computed},
        )


def _check_token(signed: Signed, identity: Identity, now_s: float, d: Dialect) -> None:
    """Temporary credentials are valid only with their own session token, until they expire."""
    if identity.session_token is None:
        return  # long-term keys: a stray token (AWS_SESSION_TOKEN left set) is ignored
    if signed.token != identity.session_token:
        code, status, message = d.invalid_token
        raise ServiceError(code, message, status)
    if identity.expires_at is not None and now_s >= identity.expires_at:
        code, status, message = d.expired_token
        raise ServiceError(code, message, status)


def _amz_time(amz: str) -> dt.datetime | None:
    if len(amz) != 16 or amz[8] != "T" or amz[15] != "Z":
        return None
    digits = amz[:8] + amz[9:15]
    if not (digits.isascii() and digits.isdigit()):
        return None
    try:
        return dt.datetime(
            int(amz[0:4]), int(amz[4:6]), int(amz[6:8]), int(amz[9:11]), int(amz[11:13]), int(amz[13:15]), tzinfo=_UTC
        )
    except ValueError:
        return None


def _fmt(when: dt.datetime) -> str:
    return when.astimezone(_UTC).strftime("%Y%m%dT%H%M%SZ")


def _iso(when: dt.datetime) -> str:
    return when.astimezone(_UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_presigned_expiry(req: Request, now: dt.datetime, dialect: Dialect) -> None:
    """A presigned URL's expiry (and not-yet-valid time), on the cloudlet clock, without
    checking its signature: expiry is behaviour users test even when signatures are not
    enforced (a 30-second URL refused after ``cloudlet clock advance 1m``)."""
    q = req.query
    if "X-Amz-Expires" not in q and "Expires=" not in q:
        return
    try:
        signed = parse(req, dialect)
    except ServiceError:
        return  # malformed signature fields: only enforced signatures judge them
    if signed is None or not signed.presigned or signed.expires is None:
        return
    now_s = now.timestamp()
    if signed.algorithm == SIGV2:
        if now_s > signed.expires:
            expires = dt.datetime.fromtimestamp(signed.expires, _UTC)
            if dialect.s3:
                raise ServiceError(
                    "AccessDenied", "Request has expired", 403, fields={"Expires": _iso(expires), "ServerTime": _iso(now)}
                )
        return
    when = _amz_time(signed.amz_date)
    if when is None:
        return
    if now_s > when.timestamp() + signed.expires:
        raise _expired_presign(signed, when, now, dialect)


def _check_time(signed: Signed, now: dt.datetime, now_s: float, d: Dialect) -> None:
    when = _amz_time(signed.amz_date)
    if when is None:
        if d.s3:
            if signed.presigned:
                raise _query_error("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
            raise _s3_no_date()
        raise _incomplete(
            d, f"Date must be in ISO-8601 'basic format'. Got '{signed.amz_date}'. See http://en.wikipedia.org/wiki/ISO_8601"
        )
    if signed.amz_date[:8] != signed.date:
        if d.s3:
            if signed.presigned:
                raise _query_error("Invalid credential date. Date is not the same as X-Amz-Date.")
            raise _malformed(d, "Invalid credential date. Date is not the same as X-Amz-Date.")
        code, status = d.bad_signature
        raise ServiceError(
            code,
            f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            f"'{signed.date}' != '{signed.amz_date[:8]}', from '{signed.amz_date}'.",
            status,
        )
    t = when.timestamp()
    if signed.presigned and signed.expires is not None:
        if now_s > t + signed.expires:
            raise _expired_presign(signed, when, now, d)
        if t - now_s > MAX_SKEW_S:
            raise _not_yet_valid(signed, when, now, d)
        return
    if now_s - t > MAX_SKEW_S or t - now_s > MAX_SKEW_S:
        raise _skewed(signed, t > now_s, now, d)


# ---------------------------------------------------------------------------- errors


def unknown_access_key(dialect: Dialect, access_key: str) -> ServiceError:
    """The access key id is not one cloudlet knows (only raised when verifying)."""
    code, status, message = dialect.unknown_key
    fields = {"AWSAccessKeyId": access_key} if dialect.s3 else None
    return ServiceError(code, message, status, fields=fields)


def missing_authentication(dialect: Dialect) -> ServiceError:
    code, status, message = dialect.missing
    return ServiceError(code, message, status)


def signature_mismatch(dialect: Dialect, signed: Signed, canonical: str = "", string_to_sign: str = "") -> ServiceError:
    """S3 also returns what it signed, which is how users debug a signer."""
    code, status = dialect.bad_signature
    if code == "AuthFailure":
        return ServiceError(code, _EC2_AUTH[2], status)
    fields = None
    if dialect.s3:
        canonical, string_to_sign = _printable(canonical), _printable(string_to_sign)
        fields = {
            "AWSAccessKeyId": signed.access_key,
            "StringToSign": string_to_sign,
            "SignatureProvided": signed.signature,
            "StringToSignBytes": " ".join(f"{b:02x}" for b in string_to_sign.encode()),
            "CanonicalRequest": canonical,
            "CanonicalRequestBytes": " ".join(f"{b:02x}" for b in canonical.encode()),
        }
    return ServiceError(code, SIGNATURE_MISMATCH, status, fields=fields)


def _printable(text: str) -> str:
    """Text that encodes as UTF-8 whatever the transport left in it (lone surrogates)."""
    return text.encode("utf-8", "backslashreplace").decode()


def _incomplete(d: Dialect, message: str) -> ServiceError:
    code, status = d.incomplete
    return ServiceError(code, message, status)


def _malformed(d: Dialect, detail: str) -> ServiceError:
    return ServiceError("AuthorizationHeaderMalformed", f"The authorization header is malformed; {detail}", 400)


def _s3_no_date() -> ServiceError:
    return ServiceError("AccessDenied", "AWS authentication requires a valid Date or x-amz-date header", 403)


def _query_error(message: str) -> ServiceError:
    return ServiceError("AuthorizationQueryParametersError", message, 400)


def _unsupported(signed: Signed, d: Dialect) -> ServiceError:
    if d.s3:
        return ServiceError(
            "InvalidRequest",
            "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.",
            400,
        )
    return _incomplete(d, f"Unsupported AWS 'algorithm': '{signed.algorithm}'.")


def _skewed(signed: Signed, future: bool, now: dt.datetime, d: Dialect) -> ServiceError:
    if d.s3:
        return ServiceError(
            "RequestTimeTooSkewed",
            "The difference between the request time and the current time is too large.",
            403,
            fields={
                "RequestTime": signed.amz_date,
                "ServerTime": _iso(now),
                "MaxAllowedSkewMilliseconds": str(MAX_SKEW_S * 1000),
            },
        )
    code, status = d.bad_signature
    skew = dt.timedelta(seconds=MAX_SKEW_S)
    if future:
        message = (
            f"Signature not yet current: {signed.amz_date} is still later than {_fmt(now + skew)} "
            f"({_fmt(now)} + 15 min.)"
        )
    else:
        message = f"Signature expired: {signed.amz_date} is now earlier than {_fmt(now - skew)} ({_fmt(now)} - 15 min.)"
    return ServiceError(code, message, status)


def _expired_presign(signed: Signed, when: dt.datetime, now: dt.datetime, d: Dialect) -> ServiceError:
    expires = signed.expires or 0
    if d.s3:
        return ServiceError(
            "AccessDenied",
            "Request has expired",
            403,
            fields={
                "X-Amz-Expires": str(expires),
                "Expires": _iso(when + dt.timedelta(seconds=expires)),
                "ServerTime": _iso(now),
            },
        )
    code, status = d.bad_signature
    return ServiceError(
        code,
        f"Signature expired: {signed.amz_date} is now earlier than {_fmt(now - dt.timedelta(seconds=expires))} "
        f"({_fmt(now)} - {expires} sec.)",
        status,
    )


def _not_yet_valid(signed: Signed, when: dt.datetime, now: dt.datetime, d: Dialect) -> ServiceError:
    if d.s3:
        return ServiceError(
            "AccessDenied",
            "Request is not yet valid",
            403,
            fields={
                "X-Amz-Date": signed.amz_date,
                "Expires": _iso(when + dt.timedelta(seconds=signed.expires or 0)),
                "ServerTime": _iso(now),
            },
        )
    return _skewed(signed, True, now, d)


# ---------------------------------------------------------------------------- S3 SigV2

# Query parameters that are part of a SigV2 canonical resource (S3's "sub-resources").
_V2_SUBRESOURCES = frozenset(
    "accelerate acl analytics cors defaultObjectAcl delete inventory lifecycle location logging metrics "
    "notification object-lock partNumber policy replication requestPayment response-cache-control "
    "response-content-disposition response-content-encoding response-content-language response-content-type "
    "response-expires restore select select-type storageClass tagging torrent uploadId uploads versionId "
    "versioning versions website".split()
)


def _verify_s3_v2(req: Request, identity: Identity, now: dt.datetime, signed: Signed) -> Verified:
    """S3's HMAC-SHA1 signature: boto3 presigns S3 URLs with it unless told ``s3v4``."""
    query: dict[str, str] = {}
    for part in req.query.split("&") if req.query else ():
        k, _, v = part.partition("=")
        query.setdefault(unquote(k), unquote(v))
    headers = req.headers
    if signed.presigned:
        if signed.expires is None:
            raise _query_error(
                "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters"
            )
        if now.timestamp() > signed.expires:
            expires = dt.datetime.fromtimestamp(signed.expires, _UTC)
            raise ServiceError(
                "AccessDenied", "Request has expired", 403, fields={"Expires": _iso(expires), "ServerTime": _iso(now)}
            )
        date = str(signed.expires)
        amz = {k: v for k, v in headers.items() if k.startswith("x-amz-")}
        amz.update((k.lower(), v) for k, v in query.items() if k.lower().startswith("x-amz-"))
        content_md5 = query.get("content-md5", headers.get("content-md5", ""))
        content_type = query.get("content-type", headers.get("content-type", ""))
    else:
        amz = {k: v for k, v in headers.items() if k.startswith("x-amz-")}
        content_md5, content_type = headers.get("content-md5", ""), headers.get("content-type", "")
        date = "" if "x-amz-date" in headers else headers.get("date", "")
        sent = _http_date(headers.get("x-amz-date") or date)
        if sent is None:
            raise _s3_no_date()
        if abs(now.timestamp() - sent.timestamp()) > MAX_SKEW_S:
            raise ServiceError(
                "RequestTimeTooSkewed",
                "The difference between the request time and the current time is too large.",
                403,
                fields={"RequestTime": headers.get("x-amz-date") or date, "ServerTime": _iso(now),
                        "MaxAllowedSkewMilliseconds": str(MAX_SKEW_S * 1000)},
            )
    amz_lines = "".join(f"{k}:{amz[k].strip()}\n" for k in sorted(amz))
    sub = sorted((k, v) for k, v in query.items() if k in _V2_SUBRESOURCES)
    suffix = ("?" + "&".join(f"{k}={v}" if v else k for k, v in sub)) if sub else ""
    head = f"{req.method}\n{content_md5.strip()}\n{content_type.strip()}\n{date}\n{amz_lines}"
    key = identity.secret_key.encode()
    resources = [req.path or "/"]
    if resources[0].count("/") == 1 and len(resources[0]) > 1:  # "/bucket" signs as "/bucket/"
        resources.append(resources[0] + "/")
    host = headers.get("host", "").split(":", 1)[0]
    if "." in host:  # virtual-hosted: the bucket is the first label
        resources.append(f"/{host.split('.', 1)[0]}{req.path or '/'}")
    for resource in resources:
        sts = head + resource + suffix
        try:
            expected = base64.b64encode(hmac.new(key, sts.encode(), hashlib.sha1).digest()).decode()
        except UnicodeError:
            break
        if same(expected, signed.signature):
            return Verified(signed, key)
    raise signature_mismatch(S3, signed, "", head + resources[0] + suffix)
