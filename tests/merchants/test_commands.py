"""The `merchant` and `apikey` commands."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from merchants.selectors import api_key_get_by_hash, merchant_get
from merchants.services.api_keys import hash_secret

pytestmark = pytest.mark.engine


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_merchant_create_prints_the_id_alone(dynamodb_backend):
    output = run("merchant", "create", "--name", "Acme", "--currency", "eur")

    assert re.fullmatch(r"mer_[0-9A-Z]{26}\n", output)
    assert merchant_get(merchant_id=output.strip()).default_currency == "eur"


def test_apikey_create_prints_the_secret_alone_and_list_and_revoke(dynamodb_backend):
    merchant_id = run("merchant", "create", "--name", "Acme").strip()

    secret = run("apikey", "create", "--merchant", merchant_id, "--name", "ci").strip()
    key = api_key_get_by_hash(key_hash=hash_secret(secret))
    listed = run("apikey", "list", "--merchant", merchant_id)
    revoked = run("apikey", "revoke", key.key_id)

    assert re.fullmatch(r"sk_test_[A-Za-z0-9_\-]{24,}", secret)
    assert key.key_id in listed and "active" in listed and secret not in listed
    assert revoked.strip() == f"revoked {key.key_id}"
    assert api_key_get_by_hash(key_hash=hash_secret(secret)).revoked is not None


def test_apikey_for_an_unknown_merchant_is_a_clear_error(dynamodb_backend):
    with pytest.raises(CommandError, match="No merchant"):
        run("apikey", "create", "--merchant", "mer_01JZZZZZZZZZZZZZZZZZZZZZZZ")
