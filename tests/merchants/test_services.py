import pytest

from core.errors import InvalidState, ValidationFailed
from merchants.errors import ApiKeyNotFound
from merchants.models import ApiKey
from merchants.selectors import api_key_get_by_hash, api_key_list_for_merchant, merchant_list
from merchants.services.api_keys import api_key_create, api_key_revoke, hash_secret
from merchants.services.merchants import merchant_create
from tests.factories import TEST_ACTOR, make_merchant

pytestmark = pytest.mark.engine


def test_merchant_create_and_list(dynamodb_backend):
    created = make_merchant("Acme", currency="eur")

    listed = {m.merchant_id: m for m in merchant_list()}

    assert created.merchant_id.startswith("mer_")
    assert listed[created.merchant_id].name == "Acme" and listed[created.merchant_id].default_currency == "eur"


def test_merchant_create_rejects_bad_currency_and_empty_name(dynamodb_backend):
    with pytest.raises(ValidationFailed):
        merchant_create(name="X", default_currency="xyz", actor=TEST_ACTOR)
    with pytest.raises(ValidationFailed):
        merchant_create(name="  ", actor=TEST_ACTOR)


def test_api_key_secret_is_shown_once_and_only_its_hash_is_stored(dynamodb_backend):
    merchant = make_merchant()

    created = api_key_create(merchant_id=merchant.merchant_id, name="ci", actor=TEST_ACTOR)

    assert created.secret.startswith("sk_test_") and len(created.secret) - len("sk_test_") >= 24
    stored = ApiKey.get(hash_secret(created.secret))
    assert created.secret not in str(stored.serialize())
    assert [k.key_id for k in api_key_list_for_merchant(merchant_id=merchant.merchant_id)] == [created.key.key_id]


def test_api_key_revoke_is_immediate_and_once(dynamodb_backend):
    merchant = make_merchant()
    created = api_key_create(merchant_id=merchant.merchant_id, actor=TEST_ACTOR)

    api_key_revoke(key_id=created.key.key_id, actor=TEST_ACTOR)

    assert api_key_get_by_hash(key_hash=hash_secret(created.secret)).revoked is not None
    with pytest.raises(InvalidState):
        api_key_revoke(key_id=created.key.key_id, actor=TEST_ACTOR)


def test_api_key_of_another_merchant_cannot_be_revoked_by_scope(dynamodb_backend):
    ours, theirs = make_merchant(), make_merchant()
    created = api_key_create(merchant_id=theirs.merchant_id, actor=TEST_ACTOR)

    with pytest.raises(ApiKeyNotFound):
        api_key_revoke(key_id=created.key.key_id, actor=TEST_ACTOR, merchant_id=ours.merchant_id)
