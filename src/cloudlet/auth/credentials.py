"""Access keys → identities and accounts.

Three sources, asked in order: keys added here (configured keys, and the keys IAM and
STS create), resolvers (a service whose keys live in its own store registers a lookup
instead of copying every key in at start-up), and two built-in rules that let any SDK
work with no setup: ``test``/``test`` is the root of the default account
``000000000000``, and a key id of exactly 12 digits is the root of that account (secret
``test``), which is how a test picks an account without creating anything.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

DEFAULT_ACCOUNT = "000000000000"
DEFAULT_ACCESS_KEY = "test"
DEFAULT_SECRET = "test"


@dataclass(frozen=True, slots=True)
class Identity:
    """Who signed a request: what SigV4 needs (the secret) and what IAM needs (the ARN).

    `session_token` and `expires_at` (epoch seconds on the cloudlet clock) are set for
    STS temporary credentials, which are only valid with their token and until they
    expire. `user_name` is the IAM user a long-term key belongs to (None for a root or
    role session).
    """

    access_key: str
    secret_key: str
    account_id: str
    arn: str
    user_name: str | None = None
    session_token: str | None = None
    expires_at: float | None = None

    @property
    def is_root(self) -> bool:
        return self.arn.endswith(":root")


Resolver = Callable[[str], "Identity | None"]


def root_arn(account_id: str) -> str:
    return f"arn:aws:iam::{account_id}:root"


def is_account_id(value: str) -> bool:
    return len(value) == 12 and value.isascii() and value.isdigit()


@lru_cache(maxsize=4096)
def _account_root(access_key: str) -> Identity:
    """The identity of a 12-digit key id; cached so a hot loop builds it once."""
    return Identity(access_key, DEFAULT_SECRET, access_key, root_arn(access_key))


class CredentialStore:
    """Thread-safe map of access key id → Identity, plus the built-in rules.

    Lookups are on every request, so they are a dict read with no lock (a dict read is
    atomic in CPython); writes take the lock and replace entries whole.
    """

    def __init__(self, default_account: str = DEFAULT_ACCOUNT) -> None:
        self.default_account = default_account
        self._keys: dict[str, Identity] = {}
        self._resolvers: list[Resolver] = []
        self._lock = threading.Lock()
        self.put(Identity(DEFAULT_ACCESS_KEY, DEFAULT_SECRET, default_account, root_arn(default_account)))

    def add(
        self,
        access_key: str,
        secret: str,
        account_id: str,
        arn: str | None = None,
        *,
        user_name: str | None = None,
        session_token: str | None = None,
        expires_at: float | None = None,
    ) -> Identity:
        """Register a key (configured, or created by IAM/STS); replaces any earlier one."""
        ident = Identity(
            access_key, secret, account_id, arn or root_arn(account_id), user_name, session_token, expires_at
        )
        self.put(ident)
        return ident

    def put(self, identity: Identity) -> None:
        with self._lock:
            self._keys[identity.access_key] = identity

    def remove(self, access_key: str) -> None:
        """Forget a key (IAM DeleteAccessKey). The built-in rules still apply afterwards."""
        with self._lock:
            self._keys.pop(access_key, None)

    def add_resolver(self, resolver: Resolver) -> None:
        """Ask `resolver(access_key)` for keys not added here, e.g. IAM keys kept in IAM's store."""
        with self._lock:
            self._resolvers = [*self._resolvers, resolver]

    def lookup(self, access_key: str) -> Identity | None:
        """The identity for a key, or None if cloudlet does not know it (InvalidClientTokenId)."""
        ident = self._keys.get(access_key)
        if ident is not None:
            return ident
        for resolve in self._resolvers:
            ident = resolve(access_key)
            if ident is not None:
                return ident
        if is_account_id(access_key):
            return _account_root(access_key)
        return None

    def identity_for(self, access_key: str | None) -> Identity:
        """An identity for any key, when signatures are not verified: unknown keys (and
        unsigned requests) act as the root of the default account."""
        if access_key:
            ident = self.lookup(access_key)
            if ident is not None:
                return ident
        return Identity(access_key or "", "", self.default_account, root_arn(self.default_account))

    def account_for(self, access_key: str | None) -> str:
        """The account a request belongs to when signatures are not verified."""
        if access_key:
            ident = self.lookup(access_key)
            if ident is not None:
                return ident.account_id
        return self.default_account
