import pytest
from django.conf import settings
from django.urls import reverse

from audit.models import AuditEvent
from tests.factories import make_merchant, make_payment, make_user

PASSWORD = "correct horse battery"


@pytest.fixture
def merchant():
    return make_merchant("Acme")


def test_login_page_renders(client, db):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    assert b'name="username"' in response.content and b'name="password"' in response.content


def test_member_signs_in_and_sees_their_merchant(client, db, merchant):
    make_user("alice", merchant_id=merchant.merchant_id, role="viewer")

    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD}, follow=True)

    assert response.status_code == 200
    assert b"Acme" in response.content and b"alice" in response.content
    assert any(e.action == "auth.login" and e.entity_id == "alice" for e in AuditEvent.query("ops"))


def test_failed_login_shows_an_error_and_is_audited(client, db):
    make_user("bob")

    response = client.post(reverse("login"), {"username": "bob", "password": "wrong"})

    assert response.status_code == 200
    assert b"notification is-danger" in response.content
    failures = [e for e in AuditEvent.query("ops") if e.action == "auth.login_failed"]
    assert failures and failures[0].outcome == "failure" and failures[0].entity_id == "bob"


def test_ten_failures_lock_the_account_even_with_the_right_password(client, db):
    make_user("carol")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "carol", "password": "wrong"})

    response = client.post(reverse("login"), {"username": "carol", "password": PASSWORD})

    assert response.status_code == 429
    assert b"locked" in response.content
    assert settings.AXES_COOLOFF_TIME * 60 == 30


def test_sessions_expire_after_fifteen_idle_minutes():
    assert settings.SESSION_COOKIE_AGE == 15 * 60 and settings.SESSION_SAVE_EVERY_REQUEST


def test_pages_need_sign_in(client, db):
    response = client.get(reverse("payments:payment-list"))

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_another_merchants_payment_page_is_404(client, db, merchant):
    other = make_merchant("Other")
    theirs = make_payment(other.merchant_id)
    ours = make_payment(merchant.merchant_id)
    client.force_login(make_user(merchant_id=merchant.merchant_id))

    assert client.get(reverse("payments:payment-detail", args=[ours.payment_id])).status_code == 200
    response = client.get(reverse("payments:payment-detail", args=[theirs.payment_id]))

    assert response.status_code == 404
    assert b"Not found" in response.content


def test_member_cannot_switch_to_a_merchant_they_do_not_belong_to(client, db, merchant):
    other = make_merchant("Other")
    client.force_login(make_user(merchant_id=merchant.merchant_id))

    client.post(reverse("merchant-switch"), {"merchant_id": other.merchant_id})
    response = client.get(reverse("home"))

    assert b"Acme" in response.content and b'<h1 class="title">Other' not in response.content


def test_staff_switch_merchants_and_the_switch_is_audited(client, db, merchant):
    other = make_merchant("Other")
    client.force_login(make_user("ops", staff=True))

    assert client.get(reverse("home")).status_code == 302  # asked to choose first
    chooser = client.get(reverse("merchant-choose"))
    client.post(reverse("merchant-switch"), {"merchant_id": other.merchant_id})
    home = client.get(reverse("home"))

    assert b"Acme" in chooser.content and b"Other" in chooser.content
    assert home.status_code == 200 and b"Other" in home.content
    switches = [e for e in AuditEvent.query(other.merchant_id) if e.action == "ops.merchant_switch"]
    assert switches and switches[0].actor_id == "ops"


def test_user_without_membership_gets_a_clear_page(client, db):
    client.force_login(make_user("nobody"))

    response = client.get(reverse("home"))

    assert response.status_code == 403
    assert b"not a member" in response.content
