import pytest
from django.test import override_settings
from django.urls import reverse

from core.errors import InvalidState, ValidationFailed
from merchants.errors import ApiKeyNotFound
from merchants.models import ApiKey
from merchants.selectors import api_key_get_by_hash, api_key_list_for_merchant, merchant_get, merchant_list
from merchants.services.api_keys import api_key_create, api_key_revoke, hash_secret
from merchants.services.merchants import merchant_create, merchant_webhook_url_set
from tests.factories import TEST_ACTOR, make_merchant
from tests.webhooks.network import FakeNetwork
from webhooks.selectors import webhook_endpoint_list

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


# --- the webhook URL -------------------------------------------------------------------------

NOT_PUBLIC = [
    "https://127.1/hook",
    "https://0x7f.1/hook",
    "https://2130706433/hook",
    "https://0177.0.0.1/hook",
    "https://10.1/hook",
    "https://0/hook",
    "https://[::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://[64:ff9b::a00:1]/hook",
    "https://169.254.169.254/hook",
    "https://[fe80::1]/hook",
    "https://100.64.0.1/hook",
    "https://localhost/hook",
]


@pytest.mark.parametrize("url", NOT_PUBLIC)
@override_settings(WEBHOOK_ALLOW_PRIVATE_URLS=False)
def test_a_webhook_url_to_a_non_public_address_in_any_notation_is_refused(url, dynamodb_backend):
    merchant = make_merchant()

    with pytest.raises(ValidationFailed) as refused:
        merchant_webhook_url_set(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, url=url)

    assert (refused.value.status, refused.value.code, refused.value.param) == (
        422,
        "webhook_url_not_public",
        "webhook_url",
    )
    assert merchant_get(merchant_id=merchant.merchant_id).webhook_url is None


@pytest.mark.parametrize("url", ["https://93.184.216.34/hook", "https://[2606:4700::1111]/hook"])
@override_settings(WEBHOOK_ALLOW_PRIVATE_URLS=False)
def test_a_webhook_url_must_name_its_host_even_when_the_address_is_public(url, dynamodb_backend):
    merchant = make_merchant()

    with pytest.raises(ValidationFailed) as refused:
        merchant_webhook_url_set(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, url=url)

    assert (refused.value.code, refused.value.param) == ("webhook_url_not_public", "webhook_url")
    assert "not an IP address" in refused.value.detail


@override_settings(WEBHOOK_ALLOW_PRIVATE_URLS=False)
def test_a_webhook_url_whose_name_does_not_resolve_now_is_saved(dynamodb_backend):
    merchant = make_merchant()

    saved = merchant_webhook_url_set(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, url="https://example.com/hook")

    assert saved.webhook_url == "https://example.com/hook"


@pytest.mark.parametrize(
    ("answer", "saved"), [(["10.0.0.1"], False), (["93.184.216.34", "127.0.0.1"], False), (["93.184.216.34"], True)]
)
@override_settings(WEBHOOK_ALLOW_PRIVATE_URLS=False)
def test_a_webhook_url_is_refused_when_its_name_resolves_to_a_non_public_address(
    answer, saved, monkeypatch, dynamodb_backend
):
    FakeNetwork(monkeypatch).answer("internal.example.com", answer)
    merchant = make_merchant()

    if saved:
        merchant_webhook_url_set(
            merchant_id=merchant.merchant_id, actor=TEST_ACTOR, url="https://internal.example.com/h"
        )
    else:
        with pytest.raises(ValidationFailed) as refused:
            merchant_webhook_url_set(
                merchant_id=merchant.merchant_id, actor=TEST_ACTOR, url="https://internal.example.com/h"
            )
        assert refused.value.code == "webhook_url_not_public"
        assert "resolves to something other than a public address" in refused.value.detail

    assert (merchant_get(merchant_id=merchant.merchant_id).webhook_url is not None) is saved


@pytest.mark.parametrize("url", NOT_PUBLIC)
@override_settings(WEBHOOK_ALLOW_PRIVATE_URLS=False)
def test_the_developers_page_refuses_a_non_public_webhook_url_with_422(url, as_role, merchant):
    client = as_role("admin")

    response = client.post(reverse("developers:endpoint-create"), {"url": url, "events": ["*"]})

    assert response.status_code == 422
    refusals = (b"must be a public host", b"not an IP address", b"Enter an absolute URL", b"must use https")
    assert any(refusal in response.content for refusal in refusals)
    assert webhook_endpoint_list(merchant_id=merchant.merchant_id) == []
