"""The account password policy, users' console passwords (login profiles), ChangePassword.

Passwords are kept only as salted PBKDF2 hashes. Without an account policy, AWS's
default applies: at least 8 characters and three of upper case, lower case, digits and
symbols.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import string
from typing import Any

from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.core.store import Tx
from cloudlet.services.iam import errors, model, storage

Input = dict[str, Any]
Output = dict[str, Any]

_SYMBOLS = set("!@#$%^&*()_+-=[]{}|'")
_FIELDS = (
    "MinimumPasswordLength", "RequireSymbols", "RequireNumbers", "RequireUppercaseCharacters",
    "RequireLowercaseCharacters", "AllowUsersToChangePassword", "MaxPasswordAge", "PasswordReusePrevention",
    "HardExpiry",
)


# the account password policy ---------------------------------------------------------

def update_account_password_policy(ctx: Context, req: Input) -> Output:
    """Every field not given goes back to AWS's value for it (the call replaces the policy)."""
    policy = {
        "MinimumPasswordLength": req.get("MinimumPasswordLength") or 6,
        "RequireSymbols": bool(req.get("RequireSymbols")),
        "RequireNumbers": bool(req.get("RequireNumbers")),
        "RequireUppercaseCharacters": bool(req.get("RequireUppercaseCharacters")),
        "RequireLowercaseCharacters": bool(req.get("RequireLowercaseCharacters")),
        "AllowUsersToChangePassword": bool(req.get("AllowUsersToChangePassword")),
        "MaxPasswordAge": req.get("MaxPasswordAge") or 0,
        "PasswordReusePrevention": req.get("PasswordReusePrevention"),
        "HardExpiry": bool(req.get("HardExpiry")),
    }
    with storage.write(ctx) as t:
        t.put("pwpolicy", "", policy)
    return {}


def _no_policy(ctx: Context) -> ServiceError:
    return errors.no_such_entity(f"The Password Policy with domain name {ctx.account} cannot be found.")


def get_account_password_policy(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        rec = t.get("pwpolicy", "")
    if rec is None:
        raise _no_policy(ctx)
    p = rec.value
    out = {k: p[k] for k in _FIELDS if p.get(k) is not None and k != "MaxPasswordAge"}
    out["ExpirePasswords"] = bool(p["MaxPasswordAge"])
    if p["MaxPasswordAge"]:
        out["MaxPasswordAge"] = p["MaxPasswordAge"]
    return {"PasswordPolicy": out}


def delete_account_password_policy(ctx: Context, req: Input) -> Output:
    with storage.write(ctx) as t:
        if not t.delete("pwpolicy", ""):
            raise _no_policy(ctx)
    return {}


def _conforms(t: Tx, password: str, history: list[str]) -> bool:
    rec = t.get("pwpolicy", "")
    kinds = {
        "upper": any(c in string.ascii_uppercase for c in password),
        "lower": any(c in string.ascii_lowercase for c in password),
        "digit": any(c in string.digits for c in password),
        "symbol": any(c in _SYMBOLS or not c.isalnum() for c in password),
    }
    if rec is None:  # AWS's default policy
        return len(password) >= 8 and sum(kinds.values()) >= 3
    p = rec.value
    if len(password) < p["MinimumPasswordLength"]:
        return False
    for field, kind in (("RequireSymbols", "symbol"), ("RequireNumbers", "digit"),
                        ("RequireUppercaseCharacters", "upper"), ("RequireLowercaseCharacters", "lower")):
        if p[field] and not kinds[kind]:
            return False
    reuse = p.get("PasswordReusePrevention") or 0
    return not any(_check(password, h) for h in history[-reuse:]) if reuse else True


def _violation() -> ServiceError:
    return ServiceError("PasswordPolicyViolation", "Password does not conform to the account password policy.", 400)


# login profiles -------------------------------------------------------------------------

def _hash(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 100_000)
    return salt.hex() + ":" + digest.hex()


def _check(password: str, stored: str) -> bool:
    salt, digest = stored.split(":")
    got = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), 100_000)
    return hmac.compare_digest(got.hex(), digest)


def _profile(t: Tx, user: dict[str, Any]) -> dict[str, Any]:
    rec = t.get("login", user["Name"].lower())
    if rec is None:
        raise errors.no_such_entity(f"Login Profile for User {user['Name']} cannot be found.")
    return rec.value


def _view(user: dict[str, Any], prof: dict[str, Any]) -> dict[str, Any]:
    return {"UserName": user["Name"], "CreateDate": prof["CreateDate"], "PasswordResetRequired": prof["ResetRequired"]}


def create_login_profile(ctx: Context, req: Input) -> Output:
    password = req.get("Password")
    if not password:
        raise errors.validation("Password is required.")  # optional only for root-session recovery
    with storage.write(ctx) as t:
        user = storage.require(t, "user", req["UserName"])
        if t.get("login", user["Name"].lower()) is not None:
            raise errors.already_exists(f"Login Profile for user {user['Name']} already exists.")
        if not _conforms(t, password, []):
            raise _violation()
        now = model.now()
        prof = {"UserName": user["Name"], "CreateDate": now, "ResetRequired": bool(req.get("PasswordResetRequired")),
                "Hash": _hash(password), "History": [], "ChangedAt": now}
        t.put("login", user["Name"].lower(), prof)
    return {"LoginProfile": _view(user, prof)}


def get_login_profile(ctx: Context, req: Input) -> Output:
    with ctx.tx() as t:
        user = storage.require(t, "user", req["UserName"])
        return {"LoginProfile": _view(user, _profile(t, user))}


def _set_password(t: Tx, prof: dict[str, Any], password: str) -> None:
    if not _conforms(t, password, prof["History"] + [prof["Hash"]]):
        raise _violation()
    prof["History"] = (prof["History"] + [prof["Hash"]])[-24:]
    prof["Hash"] = _hash(password)
    prof["ChangedAt"] = model.now()


def update_login_profile(ctx: Context, req: Input) -> Output:
    with storage.write(ctx) as t:
        user = storage.require(t, "user", req["UserName"])
        prof = _profile(t, user)
        if req.get("Password"):
            _set_password(t, prof, req["Password"])
        if req.get("PasswordResetRequired") is not None:
            prof["ResetRequired"] = req["PasswordResetRequired"]
        t.put("login", user["Name"].lower(), prof)
    return {}


def delete_login_profile(ctx: Context, req: Input) -> Output:
    with storage.write(ctx) as t:
        user = storage.require(t, "user", req["UserName"])
        _profile(t, user)
        t.delete("login", user["Name"].lower())
    return {}


def change_password(ctx: Context, req: Input) -> Output:
    """An IAM user changes their own password (root and role sessions cannot)."""
    resource = ctx.principal_arn.split(":", 5)[-1]
    if ":iam::" not in ctx.principal_arn or not resource.startswith("user/"):
        raise ServiceError("InvalidUserType", "Only IAM users can change their own password.", 400)
    with storage.write(ctx) as t:
        user = storage.require(t, "user", resource.rsplit("/", 1)[1])
        prof = _profile(t, user)
        if not _check(req["OldPassword"], prof["Hash"]):
            raise ServiceError("InvalidUserType", "The old password was incorrect.", 400)  # AWS's check; see report
        _set_password(t, prof, req["NewPassword"])
        prof["ResetRequired"] = False
        t.put("login", user["Name"].lower(), prof)
    return {}
