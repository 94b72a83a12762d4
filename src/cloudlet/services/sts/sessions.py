"""Temporary credentials: issued by STS, kept in the store, looked up on every request.

A session is written once, when STS issues it, and never changes afterwards, so the
lookup the credential store makes per request is a dict read after the first one: the
store is read only on a miss (a restart, or a key issued before this process cached it).

Records live in STS's database in the cross-account partition (account "", region ""),
keyed by access key id, because a request names only its key and the account comes
from the session. This is a contract other parts call directly (credential store,
authorizer); it is not a handler module.
"""

from __future__ import annotations

import base64
import secrets
import string
import threading
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cloudlet.auth.credentials import Identity
from cloudlet.core import clock

if TYPE_CHECKING:
    from cloudlet.server.gateway import Gateway

SESSION = "sess"  # record kind in the sts database, partition ("", "")

#: kinds, as cloudlet.auth.policy.Principal.kind names them
ROLE_SESSION = "role-session"
FEDERATED_USER = "federated-user"
USER = "user"
ROOT = "root"


@dataclass(frozen=True, slots=True)
class Session:
    """One set of temporary credentials and everything IAM needs to evaluate its calls.

    `arn` is what the credentials act as: the assumed-role ARN, the federated-user ARN,
    or, for GetSessionToken, the calling user's (or root's) own ARN. `parent_arn` is the
    long-term identity whose policies a federated user (or a GetSessionToken session) is
    capped by: the IAM user or root that asked for it.

    Session policies apply iff `policies is not None`: then what the session may do is
    capped by the texts in `policies` plus the managed policies named in `policy_arns`
    (an empty set of both allows nothing, which is how a federation token without a
    policy behaves).
    """

    access_key: str
    secret_key: str
    session_token: str
    account: str
    arn: str
    kind: str  # ROLE_SESSION | FEDERATED_USER | USER | ROOT
    user_id: str  # aws:userid: "AROA…:name", "ACCT:name", "AIDA…", or the account id
    issued: float  # epoch seconds, cloudlet clock
    expires: float
    parent_arn: str | None = None  # the identity that called STS (a user, root, or a role session)
    role_arn: str | None = None
    role_id: str | None = None
    session_name: str | None = None
    user_name: str | None = None  # the IAM user of a GetSessionToken/GetFederationToken session
    policies: tuple[str, ...] | None = None
    policy_arns: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)
    transitive_tag_keys: tuple[str, ...] = ()
    source_identity: str | None = None
    mfa_authenticated: bool = False
    chained: bool = False  # assumed with another role session's credentials
    provider: str | None = None  # web identity / SAML: the provider the session came from
    subject: str | None = None

    @property
    def expired(self) -> bool:
        return clock.time_s() >= self.expires

    def identity(self) -> Identity:
        return Identity(
            self.access_key, self.secret_key, self.account, self.arn,
            user_name=self.user_name, session_token=self.session_token, expires_at=self.expires,
        )


# -- ids --------------------------------------------------------------------------------
_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"


def new_key_id(prefix: str, account: str) -> str:
    """A key id in AWS's format: 4-letter prefix + 16 base32 characters whose first 48
    bits carry the account id in bits 7..46, so GetAccessKeyInfo answers for any key
    (AWS encodes the account the same way)."""
    high = (int(account) << 7) | secrets.randbits(7)
    value = (high << 32) | secrets.randbits(32)
    return prefix + base64.b32encode(value.to_bytes(10, "big")).decode()


def account_of_key(key_id: str) -> str | None:
    """The account a key id encodes (see `new_key_id`), or None if it encodes none."""
    body = key_id[4:]
    if len(body) != 16 or any(c not in _B32 for c in body):
        return None
    raw = base64.b32decode(body)
    account = (int.from_bytes(raw[:6], "big") & 0x7FFFFFFFFF80) >> 7
    return f"{account:012d}" if account < 10**12 else None


def new_secret() -> str:
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))


def new_session_token(key_id: str) -> str:
    """Opaque, long, base64 like AWS's (which are 400+ characters). Nothing is encoded in
    it that cloudlet reads back: the record is the truth, the token only has to match."""
    return base64.b64encode(b"\x02cloudlet/sts\x00" + key_id.encode() + b"\x00" + secrets.token_bytes(240)).decode()


# -- store and cache --------------------------------------------------------------------
_MAX_CACHED = 100_000
_caches: "weakref.WeakKeyDictionary[Any, dict[str, tuple[Session, Identity]]]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _cache(gateway: "Gateway") -> dict[str, tuple[Session, Identity]]:
    cache = _caches.get(gateway)
    if cache is None:
        with _lock:
            cache = _caches.setdefault(gateway, {})
    return cache


def _to_record(s: Session) -> dict[str, Any]:
    rec = {f: getattr(s, f) for f in Session.__slots__}  # type: ignore[attr-defined]
    rec["policies"] = list(s.policies) if s.policies is not None else None
    rec["policy_arns"] = list(s.policy_arns)
    rec["transitive_tag_keys"] = list(s.transitive_tag_keys)
    return rec


def _from_record(rec: dict[str, Any]) -> Session:
    known = {k: v for k, v in rec.items() if k in Session.__slots__}  # type: ignore[attr-defined]
    if known.get("policies") is not None:
        known["policies"] = tuple(known["policies"])
    known["policy_arns"] = tuple(known.get("policy_arns") or ())
    known["transitive_tag_keys"] = tuple(known.get("transitive_tag_keys") or ())
    known["tags"] = dict(known.get("tags") or {})
    return Session(**known)


def save(gateway: "Gateway", session: Session) -> None:
    """Commit a new session; it is usable once this returns."""
    with gateway.db("sts").tx("", "") as t:
        t.put(SESSION, session.access_key, _to_record(session), attrs={"account": session.account})
    _remember(gateway, session)


def _remember(gateway: "Gateway", session: Session) -> None:
    cache = _cache(gateway)
    if len(cache) >= _MAX_CACHED:  # drop what has expired before growing further
        now = clock.time_s()
        for key in [k for k, (s, _) in list(cache.items()) if s.expires <= now]:
            cache.pop(key, None)
    cache[session.access_key] = (session, session.identity())


def _load(gateway: "Gateway", key: str) -> tuple[Session, Identity] | None:
    hit = _cache(gateway).get(key)
    if hit is not None:
        return hit
    if not key.startswith("ASIA"):  # only STS issues these; nothing else is worth a read
        return None
    with gateway.db("sts").tx("", "") as t:
        rec = t.get(SESSION, key)
    if rec is None:
        return None
    session = _from_record(rec.value)
    _remember(gateway, session)
    return _cache(gateway)[key]


def session_info(gateway: "Gateway", access_key_id: str, *, include_expired: bool = False) -> Session | None:
    """The session of an ASIA… key; None when unknown or (unless asked) expired."""
    hit = _load(gateway, access_key_id)
    if hit is None or (not include_expired and hit[0].expires <= clock.time_s()):
        return None
    return hit[0]


def lookup_session(gateway: "Gateway", access_key_id: str) -> Identity | None:
    """The identity of an ASIA… key for the credential store (the one cached with the
    session); None when unknown. An expired one is returned too: authentication judges
    `expires_at` and answers ExpiredToken, not "unknown key"."""
    hit = _load(gateway, access_key_id)
    return None if hit is None else hit[1]


def forget_all(gateway: "Gateway") -> None:
    """Drop the in-memory cache: call after a reset wipes the store (the records are
    gone; without this, cached sessions would outlive them)."""
    _cache(gateway).clear()
