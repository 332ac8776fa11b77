"""Invalid input on a page gets a message beside it, never silence: a bad webhook URL on the endpoint
forms, a negative amount in the payment filters."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

from tests.factories import TEST_ACTOR, make_payment
from webhooks.endpoints import webhook_endpoint_create
from webhooks.selectors import webhook_endpoint_list


def _errors(body: str) -> list[str]:
    """The texts of the field messages the page shows (`help is-danger`)."""
    marker = '<p class="help is-danger" role="alert">'
    return [html.unescape(part.split("</p>", 1)[0]) for part in body.split(marker)[1:]]


@pytest.mark.parametrize("url", ["not a url", "ftp://example.com/hooks", "http://example.com/hooks"])
def test_a_bad_webhook_url_is_refused_with_a_message_and_nothing_is_saved(as_role, merchant, url):
    client = as_role("admin")

    response = client.post(reverse("developers:endpoint-create"), {"url": url, "events": ["*"]})

    assert response.status_code == 422
    body = response.content.decode()
    assert 'class="input is-danger" id="id_url"' in body
    assert _errors(body), body  # a message under the field
    assert webhook_endpoint_list(merchant_id=merchant.merchant_id) == []


def test_a_private_webhook_url_is_refused_with_a_message(as_role, merchant, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    client = as_role("admin")

    response = client.post(reverse("developers:endpoint-create"), {"url": "https://127.0.0.1/hooks", "events": ["*"]})

    assert response.status_code == 422
    (message,) = _errors(response.content.decode())
    assert message == "The webhook URL must name its host (https://hooks.example.com/...), not an IP address."
    assert webhook_endpoint_list(merchant_id=merchant.merchant_id) == []


def test_editing_an_endpoint_to_a_bad_url_shows_a_message_and_keeps_the_old_one(as_role, merchant):
    endpoint, _ = webhook_endpoint_create(
        merchant_id=merchant.merchant_id, actor=TEST_ACTOR, url="https://example.com/hooks", events=["*"]
    )
    client = as_role("admin")

    response = client.post(
        reverse("developers:endpoint-edit", args=[endpoint.endpoint_id]), {"url": "example dot com", "events": ["*"]}
    )

    assert response.status_code == 422 and _errors(response.content.decode())
    (kept,) = webhook_endpoint_list(merchant_id=merchant.merchant_id)
    assert kept.url == "https://example.com/hooks"


def test_a_negative_amount_filter_says_what_is_wrong(as_role, merchant):
    make_payment(merchant.merchant_id, amount=900)

    body = as_role("viewer").get(reverse("payments:payment-list"), {"amount_min": "-5"}).content.decode()

    assert "Some filters need fixing." in body and "Min amount: Enter an amount of 0 or more." in body
    assert "<details" in body and '<details class="filter-drawer" data-testid="filters" open>' in body  # shown
