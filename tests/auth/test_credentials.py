import dataclasses

import pytest

from cloudlet.auth.credentials import DEFAULT_ACCOUNT, CredentialStore, Identity


def test_default_key_is_root_of_default_account():
    ident = CredentialStore().lookup("test")
    assert ident == Identity("test", "test", "000000000000", "arn:aws:iam::000000000000:root")
    assert ident.is_root


@pytest.mark.parametrize("key", ["123456789012", "000000000001", "999999999999"])
def test_twelve_digit_key_is_root_of_that_account(key):
    ident = CredentialStore().lookup(key)
    assert (ident.account_id, ident.secret_key, ident.arn) == (key, "test", f"arn:aws:iam::{key}:root")


@pytest.mark.parametrize("key", ["12345678901", "1234567890123", "12345678901a", "١٢٣٤٥٦٧٨٩٠١٢", "AKIAIOSFODNN7EXAMPLE", ""])
def test_other_keys_are_unknown_but_still_get_an_account(key):
    store = CredentialStore()
    assert store.lookup(key) is None
    assert store.account_for(key) == DEFAULT_ACCOUNT
    assert store.identity_for(key).account_id == DEFAULT_ACCOUNT


def test_account_for_known_keys_and_unsigned_requests():
    store = CredentialStore()
    assert store.account_for("210987654321") == "210987654321"
    assert store.account_for(None) == DEFAULT_ACCOUNT
    assert store.identity_for(None).arn == "arn:aws:iam::000000000000:root"


def test_added_keys_win_and_can_be_removed():
    store = CredentialStore()
    ident = store.add("AKIAEXAMPLE", "s3cr3t", "111122223333", "arn:aws:iam::111122223333:user/bob", user_name="bob")
    assert store.lookup("AKIAEXAMPLE") is ident
    assert store.account_for("AKIAEXAMPLE") == "111122223333"
    assert not ident.is_root
    # a configured 12-digit key overrides the built-in rule, and removing it restores the rule
    store.add("444455556666", "other", "777788889999")
    assert store.lookup("444455556666").account_id == "777788889999"
    store.remove("444455556666")
    assert store.lookup("444455556666").account_id == "444455556666"
    store.remove("AKIAEXAMPLE")
    assert store.lookup("AKIAEXAMPLE") is None


def test_resolvers_are_asked_for_keys_not_added():
    store = CredentialStore()
    asked = []

    def iam_keys(key):
        asked.append(key)
        return Identity(key, "sek", "555566667777", "arn:aws:iam::555566667777:user/carol") if key == "AKIACAROL" else None

    store.add_resolver(iam_keys)
    assert store.lookup("test").account_id == DEFAULT_ACCOUNT  # added keys never reach a resolver
    assert store.lookup("AKIACAROL").secret_key == "sek"
    assert store.lookup("AKIANOBODY") is None
    assert asked == ["AKIACAROL", "AKIANOBODY"]


def test_default_account_is_configurable():
    store = CredentialStore(default_account="101010101010")
    assert store.lookup("test").account_id == "101010101010"
    assert store.account_for("unknown") == "101010101010"


def test_identity_is_frozen_and_carries_session_info():
    ident = Identity("ASIAX", "s", "123456789012", "arn:aws:sts::123456789012:assumed-role/r/s",
                     session_token="tok", expires_at=1.0e9)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ident.account_id = "x"  # type: ignore[misc]
    assert ident.session_token == "tok" and not ident.is_root
