"""The audit log pages: who may read them, filters, paging, detail diff, CSV export, verification."""

from __future__ import annotations

import csv
import io

from django.contrib.auth import get_user_model

from audit.models import AuditEvent
from audit.selectors import audit_event_list
from merchants.services.api_keys import api_key_create, api_key_revoke
from tests.factories import TEST_ACTOR, make_payment

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_viewers_and_operators_cannot_read_the_audit_log(signed_in):
    assert signed_in("viewer").get("/audit/").status_code == 403


def test_an_admin_sees_the_merchants_events_and_reading_them_is_audited(signed_in, merchant):
    payment = make_payment(merchant.merchant_id)
    client = signed_in("admin")

    response = client.get("/audit/")

    assert response.status_code == 200
    assert payment.payment_id in response.content.decode()
    newest = audit_event_list(merchant_id=merchant.merchant_id, limit=1).items[0]
    assert (newest.action, newest.actor_type, newest.source_ip) == ("audit_log.read", "user", "127.0.0.1")


def test_filters_narrow_the_log_and_htmx_gets_the_table_only(signed_in, merchant):
    make_payment(merchant.merchant_id)
    client = signed_in("admin")

    page = client.get("/audit/", {"action": "merchant.create"}, **HTMX).content.decode()

    assert page.lstrip().startswith('<section id="audit-table"')
    assert page.count('data-testid="audit-row"') == 1 and "merchant.create" in page
    failure = client.get("/audit/", {"outcome": "failure"}).content.decode()
    assert 'data-testid="audit-row"' not in failure


def test_paging_moves_to_older_events(signed_in, merchant, monkeypatch):
    from audit import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for _ in range(3):
        make_payment(merchant.merchant_id)
    client = signed_in("admin")

    first = client.get("/audit/", {"action": "payment.create"})
    older = client.get("/audit/" + first.context["next_link"])

    assert len(first.context["events"]) == 2 and len(older.context["events"]) == 1
    assert {e.event_id for e in first.context["events"]}.isdisjoint(e.event_id for e in older.context["events"])


def test_event_detail_shows_the_before_after_diff(signed_in, merchant):
    key = api_key_create(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, name="ci")
    api_key_revoke(key_id=key.key.key_id, actor=TEST_ACTOR, merchant_id=merchant.merchant_id)
    revoke = audit_event_list(merchant_id=merchant.merchant_id, limit=1).items[0]
    client = signed_in("admin")

    page = client.get(f"/audit/{revoke.event_id}/").content.decode()

    assert "api_key.revoke" in page and "data-changed" in page and "<del>" in page and "<ins>" in page


def test_another_merchants_event_is_404(signed_in, merchant):
    from tests.factories import make_merchant

    other = make_merchant("Globex")
    foreign = audit_event_list(merchant_id=other.merchant_id, limit=1).items[0]

    assert signed_in("admin").get(f"/audit/{foreign.event_id}/").status_code == 404


def test_csv_export_streams_the_filtered_events_and_is_audited(signed_in, merchant):
    make_payment(merchant.merchant_id)
    client = signed_in("admin")

    response = client.get("/audit/export/", {"action": "payment.create"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))

    assert response["Content-Type"].startswith("text/csv")
    assert [row["action"] for row in rows] == ["payment.create"]
    assert rows[0]["request_id"] == "req_test" and rows[0]["source_ip"] == "127.0.0.1"
    exported = [e for e in AuditEvent.query(merchant.merchant_id) if e.action == "audit_log.export"]
    assert len(exported) == 1 and exported[0].detail == "action=payment.create"


def test_staff_read_the_platform_partition_and_verify_the_chain(signed_in, client):
    from django.core.management import call_command

    staff = signed_in(staff=True, username="ops-staff")
    client.post("/accounts/logout/")
    client.post("/accounts/login/", {"username": "nobody", "password": "wrong password!"})
    staff.force_login(get_user_model().objects.get(username="ops-staff"))
    call_command("audit", "seal", "--through", "now", stdout=io.StringIO())

    log = staff.get("/audit/", {"scope": "ops"}).content.decode()
    verified = staff.post("/audit/verify/", {"partition": "", "since": "all"}).content.decode()
    recent = staff.post("/audit/verify/", {"partition": "ops", "since": "1"}).content.decode()

    assert "auth.login_failed" in log
    assert 'data-testid="verify-ok"' in verified and 'data-testid="verify-ok"' in recent


def test_members_cannot_verify(signed_in):
    assert signed_in("admin").get("/audit/verify/").status_code == 403
