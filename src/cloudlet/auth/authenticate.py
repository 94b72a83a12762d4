"""Who sent a request: the identity its access key maps to, checked when asked to be.

Without ``--verify-signatures`` any signature passes but the account still comes from
the key (a cheap read of the credential scope). With it, the signature is verified on
the request exactly as the client sent it, before any routing rewrite.
"""

from __future__ import annotations

from cloudlet.auth import chunked, sigv4
from cloudlet.auth.credentials import CredentialStore, Identity
from cloudlet.auth.scope import Scope, credential_scope
from cloudlet.core import clock
from cloudlet.core.errors import ServiceError
from cloudlet.protocol.http import Request


def authenticate(
    raw: Request,
    routed: Request,
    service: str,
    protocol: str,
    credentials: CredentialStore,
    verify: bool,
    scope: Scope | None = None,
    *,
    strict: bool = False,
) -> tuple[Identity | None, Request]:
    """The caller's identity and the request to decode (aws-chunked bodies unwrapped).

    The identity is None for an unsigned request while signatures are enforced: only an
    operation that AWS serves without auth (``AssumeRoleWithWebIdentity``...) may go on,
    which the caller can tell only after decoding; `unsigned_refusal` says no for the rest.
    """
    if not verify:
        if scope is None:
            scope = credential_scope(raw)
        key = scope.access_key if scope else _sigv2_key(raw)
        if "xpires=" in raw.query:
            sigv4.check_presigned_expiry(raw, clock.now(), sigv4.dialect_for(service, protocol))
        if strict:  # IAM enforced: the key must name someone, and a session must be current
            return _known(raw, key, service, protocol, credentials), chunked.unwrap(routed)
        identity = credentials.identity_for(key)
        if identity.expires_at is not None:
            _check_current(identity, service, protocol)
        return identity, chunked.unwrap(routed)
    dialect = sigv4.dialect_for(service, protocol)
    signed = sigv4.parse(raw, dialect)
    if signed is None:
        if dialect.s3:  # S3 serves anonymous requests; bucket policies decide
            return (_anonymous(credentials) if strict else credentials.identity_for(None)), chunked.unwrap(routed)
        return None, routed
    identity = credentials.lookup(signed.access_key)
    if identity is None:
        raise sigv4.unknown_access_key(dialect, signed.access_key)
    verified = sigv4.verify(raw, identity, clock.now(), dialect, signed=signed)
    return identity, chunked.unwrap(routed, verified)


#: Who an unsigned S3 request is when IAM is enforced: bucket policies decide what it may do.
ANONYMOUS_ARN = "anonymous"


def _anonymous(credentials: CredentialStore) -> Identity:
    """An unsigned caller; it acts in the default account (handlers need one), owns nothing."""
    return Identity("", "", credentials.default_account, ANONYMOUS_ARN)


def _known(raw: Request, key: str | None, service: str, protocol: str, credentials: CredentialStore) -> Identity | None:
    """With IAM enforced and signatures unchecked, the key still has to be a real one."""
    dialect = sigv4.dialect_for(service, protocol)
    if not key:
        return _anonymous(credentials) if dialect.s3 else None
    identity = credentials.lookup(key)
    if identity is None:
        raise sigv4.unknown_access_key(dialect, key)
    if identity.expires_at is not None:
        _check_current(identity, service, protocol)
    return identity


def _check_current(identity: Identity, service: str, protocol: str) -> None:
    """Temporary credentials work until they expire on the cloudlet clock."""
    if clock.time_s() >= identity.expires_at:  # type: ignore[operator]
        code, status, message = sigv4.dialect_for(service, protocol).expired_token
        raise ServiceError(code, message, status)


#: Operations whose models say they need a signature but that AWS serves unsigned: the
#: SubscribeURL / UnsubscribeURL links in SNS messages are opened by browsers and curl.
SERVED_UNSIGNED = frozenset({("sns", "ConfirmSubscription"), ("sns", "Unsubscribe")})


def may_skip_signature(service: str, operation: str, auth_type: str | None) -> bool:
    """Whether an unsigned call to this operation is served even when signatures are enforced."""
    return auth_type == "none" or (service, operation) in SERVED_UNSIGNED


def unsigned_refusal(service: str, protocol: str) -> ServiceError:
    """The error for an unsigned call to an operation that needs a signature."""
    return sigv4.missing_authentication(sigv4.dialect_for(service, protocol))


def _sigv2_key(raw: Request) -> str | None:
    """boto3 still presigns S3 URLs with SigV2 (``AWSAccessKeyId=``) by default."""
    q = raw.query
    i = q.find("AWSAccessKeyId=")
    if i < 0:
        return None
    return q[i + 15 :].split("&", 1)[0]
