"""Sessions, key ids and web identity tokens, in process (no HTTP)."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from cloudlet.core import clock
from cloudlet.core.context import Context
from cloudlet.core.errors import ServiceError
from cloudlet.server.config import Config
from cloudlet.server.gateway import Gateway
from cloudlet.services.sts import authmessages, sessions, webidentity

ACCOUNT = "111100000003"
ISSUER = "https://idp.example.test/realms/ci"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
    "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/idp.example.test/realms/ci"},
}]})


def _ctx(gw: Gateway, account: str = ACCOUNT) -> Context:
    return Context(account=account, region="us-east-1", principal_arn=f"arn:aws:iam::{account}:root",
                   access_key=account, request_id="r-1", service="sts", operation="GetCallerIdentity", gateway=gw)


def test_key_ids_carry_their_account_like_aws_keys():
    for account in ("000000000001", "123456789012", "999999999999"):
        key = sessions.new_key_id("ASIA", account)
        assert len(key) == 20 and key[4:].isalnum() and key.isupper() or key[4:].isdigit() is False
        assert sessions.account_of_key(key) == account
    assert sessions.account_of_key("ASIAnot-base32!!!!!!") is None


def test_sessions_survive_a_cold_cache_and_expire_on_the_clock():
    gw = Gateway(Config(ephemeral=True))
    now = clock.time_s()
    s = sessions.Session(
        access_key=sessions.new_key_id("ASIA", ACCOUNT), secret_key=sessions.new_secret(), session_token="tok",
        account=ACCOUNT, arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/R/s", kind=sessions.ROLE_SESSION,
        user_id="AROAX:s", issued=now, expires=now + 900, policies=("{}",), tags={"team": "blue"},
        transitive_tag_keys=("team",),
    )
    sessions.save(gw, s)
    sessions.forget_all(gw)  # as after a restart: the store is the truth
    again = sessions.session_info(gw, s.access_key)
    assert again == s
    ident = sessions.lookup_session(gw, s.access_key)
    assert ident.arn == s.arn and ident.session_token == "tok" and ident.expires_at == s.expires
    assert sessions.lookup_session(gw, "ASIA" + "A" * 16) is None
    clock.advance(901)
    expired = sessions.lookup_session(gw, s.access_key)  # still known: authentication says ExpiredToken
    assert expired is ident and expired.expires_at <= clock.time_s()
    assert sessions.session_info(gw, s.access_key, include_expired=True) == s


def test_authorization_message_round_trip_and_refusal():
    msg = authmessages.encode_authorization_message({"action": "s3:GetObject", "resource": "arn:aws:s3:::b/k",
                                                     "conditions": {"aws:TagKeys": ["a", "b"]}})
    body = authmessages.decode_authorization_message(msg)
    doc = json.loads(authmessages.decoded_json(body))
    assert doc["context"]["conditions"]["items"] == [
        {"key": "aws:TagKeys", "values": {"items": [{"value": "a"}, {"value": "b"}]}}]
    assert authmessages.decode_authorization_message(msg[:-2]) is None
    assert authmessages.decode_authorization_message("%%%") is None


# -- web identity ---------------------------------------------------------------------

def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _int(n: int) -> str:
    return _b64(n.to_bytes((n.bit_length() + 7) // 8, "big"))


def _jwt(key, kid: str, claims: dict, alg: str) -> str:
    head = _b64(json.dumps({"alg": alg, "kid": kid, "typ": "JWT"}).encode())
    body = _b64(json.dumps(claims).encode())
    data = f"{head}.{body}".encode()
    if alg == "RS256":
        sig = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    else:
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
        sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return f"{head}.{body}.{_b64(sig)}"


@pytest.fixture(scope="module")
def idp():
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    rn = rsa_key.public_key().public_numbers()
    en = ec_key.public_key().public_numbers()
    jwks = {"keys": [
        {"kty": "RSA", "kid": "r1", "alg": "RS256", "n": _int(rn.n), "e": _int(rn.e)},
        {"kty": "EC", "kid": "e1", "crv": "P-256", "x": _int(en.x), "y": _int(en.y)},
    ]}
    gw = Gateway(Config(ephemeral=True))
    iam = _ctx(gw).aws("iam")
    role = iam.create_role(RoleName="ci", AssumeRolePolicyDocument=TRUST)["Role"]
    iam.create_open_id_connect_provider(Url=ISSUER, ClientIDList=["sts.amazonaws.com"], ThumbprintList=["a" * 40])
    return gw, role, rsa_key, ec_key, jwks


def _claims(**extra) -> dict:
    now = int(clock.time_s())
    return {"iss": ISSUER, "sub": "repo:acme/app:ref:refs/heads/main", "aud": "sts.amazonaws.com",
            "iat": now, "exp": now + 600, **extra}


def _assume(gw, role, token: str, **kw):
    return _ctx(gw).aws("sts").assume_role_with_web_identity(RoleArn=role["Arn"], RoleSessionName="gh", WebIdentityToken=token, **kw)


def test_web_identity_needs_registered_keys(idp):
    gw, role, rsa_key, _, _ = idp
    with pytest.raises(ServiceError) as err:
        _assume(Gateway(Config(ephemeral=True)), role, _jwt(rsa_key, "r1", _claims(), "RS256"))
    assert err.value.code == "InvalidIdentityToken"  # no provider in that (fresh) cloud
    with pytest.raises(ServiceError) as err:
        _assume(gw, role, _jwt(rsa_key, "r1", _claims(), "RS256"))
    assert err.value.code == "InvalidIdentityToken" and "/_cloudlet/sts/oidc-keys" in err.value.message


def test_web_identity_tokens_signed_by_the_issuer_assume_the_role(idp):
    gw, role, rsa_key, ec_key, jwks = idp
    assert webidentity.register_jwks(gw, ISSUER + "/", jwks) == 2
    for key, kid, alg in ((rsa_key, "r1", "RS256"), (ec_key, "e1", "ES256")):
        out = _assume(gw, role, _jwt(key, kid, _claims(), alg), DurationSeconds=900)
        assert out["SubjectFromWebIdentityToken"] == "repo:acme/app:ref:refs/heads/main"
        assert out["Audience"] == "sts.amazonaws.com" and out["Provider"] == ISSUER
        assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/ci/gh"
        s = sessions.session_info(gw, out["Credentials"]["AccessKeyId"])
        assert s.role_arn == role["Arn"] and s.subject.startswith("repo:acme")


def test_web_identity_refuses_bad_tokens(idp):
    gw, role, rsa_key, ec_key, jwks = idp
    webidentity.register_jwks(gw, ISSUER, jwks)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cases = {
        "forged": _jwt(other, "r1", _claims(), "RS256"),
        "audience": _jwt(rsa_key, "r1", _claims(aud="someone-else"), "RS256"),
        "not a jwt": "abc.def",
        "not yet": _jwt(rsa_key, "r1", _claims(nbf=int(clock.time_s()) + 300), "RS256"),
    }
    for name, token in cases.items():
        with pytest.raises(ServiceError) as err:
            _assume(gw, role, token)
        assert err.value.code == "InvalidIdentityToken", name
    with pytest.raises(ServiceError) as err:
        _assume(gw, role, _jwt(rsa_key, "r1", _claims(exp=int(clock.time_s()) - 1), "RS256"))
    assert err.value.code == "ExpiredTokenException"
