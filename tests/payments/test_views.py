"""The payment list, export, detail and actions, through the Django test client."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from pynamodb.connection.table import TableConnection

from audit.models import AuditEvent
from payments import selectors
from tests.factories import HTMX, card, make_payment

LIST = reverse("payments:payment-list")


def _ids(response) -> list[str]:
    return [p.payment_id for p in response.context["payments"]]


def test_list_shows_the_merchants_payments_and_the_count(as_role, merchant, other):
    ours = [make_payment(merchant.merchant_id, amount=1000 + i) for i in range(3)]
    make_payment(other.merchant_id)
    client = as_role("viewer")

    response = client.get(LIST)

    assert response.status_code == 200
    assert _ids(response) == [p.payment_id for p in reversed(ours)]
    assert b"Showing 1\xe2\x80\x933" in response.content
    assert b"<html" in response.content and b'id="payment-filters"' in response.content


def test_htmx_request_gets_only_the_table_fragment(as_role, merchant):
    make_payment(merchant.merchant_id)
    client = as_role("viewer")

    response = client.get(LIST, {"status": "succeeded"}, **HTMX)

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="payment-table"')
    assert "<html" not in body and 'id="payment-filters"' not in body


def test_status_filter(as_role, merchant):
    ok = make_payment(merchant.merchant_id)
    held = make_payment(merchant.merchant_id, capture=False)
    client = as_role("viewer")

    assert _ids(client.get(LIST, {"status": "requires_capture"})) == [held.payment_id]
    assert _ids(client.get(LIST, {"status": "succeeded"})) == [ok.payment_id]


def test_amount_range_is_in_major_units_and_inclusive(as_role, merchant):
    for amount in (500, 1000, 2500, 5000):
        make_payment(merchant.merchant_id, amount=amount)
    client = as_role("viewer")

    response = client.get(LIST, {"amount_min": "10", "amount_max": "25.00"})

    assert sorted(int(p.amount) for p in response.context["payments"]) == [1000, 2500]


def test_last4_and_payment_id_and_customer_search(as_role, merchant):
    visa = make_payment(merchant.merchant_id)
    master = make_payment(merchant.merchant_id, card=card("5555555555554444"))
    client = as_role("viewer")

    assert _ids(client.get(LIST, {"q": "4444"})) == [master.payment_id]
    assert _ids(client.get(LIST, {"q": visa.payment_id})) == [visa.payment_id]


def test_payment_id_search_does_not_find_another_merchants_payment(as_role, other):
    theirs = make_payment(other.merchant_id)
    client = as_role("viewer")

    response = client.get(LIST, {"q": theirs.payment_id})

    assert response.context["payments"] == [] and b"No payments match" in response.content


def test_date_range_filter(as_role, merchant):
    now = datetime.now(UTC)
    old = make_payment(merchant.merchant_id, now=now - timedelta(days=10))
    recent = make_payment(merchant.merchant_id, now=now - timedelta(days=1))
    client = as_role("viewer")
    day = (now - timedelta(days=10)).date().isoformat()

    assert _ids(client.get(LIST, {"date_from": day, "date_to": day})) == [old.payment_id]
    assert _ids(client.get(LIST, {"date_from": (now - timedelta(days=2)).date().isoformat()})) == [recent.payment_id]


def test_bad_filters_show_field_errors_in_page_and_fragment(as_role, merchant):
    client = as_role("viewer")

    page = client.get(LIST, {"q": "--", "amount_min": "20", "amount_max": "10", "amount_max_": ""})
    fragment = client.get(LIST, {"date_from": "2026-11-20", "date_to": "2026-11-01"}, **HTMX)

    assert b"Search by a payment or customer id" in page.content and b"The maximum is below the minimum" in page.content
    assert b"is-danger" in page.content
    assert b"The end date is before the start date" in fragment.content


def test_amount_with_too_many_decimals_is_a_field_error(as_role):
    response = as_role("viewer").get(LIST, {"amount_min": "1.234"})

    assert b"at most 2 decimal places" in response.content


def test_paging_next_and_previous_and_sort(as_role, merchant):
    base = datetime.now(UTC) - timedelta(hours=5)
    made = [make_payment(merchant.merchant_id, amount=100 + i, now=base + timedelta(minutes=i)) for i in range(30)]
    newest_first = [p.payment_id for p in reversed(made)]
    client = as_role("viewer")

    first = client.get(LIST)
    second = client.get(LIST + first.context["next_link"], **HTMX)
    back = client.get(LIST + second.context["prev_link"])
    oldest = client.get(LIST, {"sort": "oldest"})

    assert _ids(first) == newest_first[:25] and first.context["has_next"] and not first.context["has_prev"]
    assert _ids(second) == newest_first[25:] and not second.context["has_next"] and second.context["has_prev"]
    assert b"Showing 26\xe2\x80\x9330" in second.content
    assert _ids(back) == newest_first[:25] and not back.context["has_prev"]
    assert _ids(oldest)[:3] == [p.payment_id for p in made[:3]]


def test_filters_are_kept_in_paging_links_and_the_export_link(as_role, merchant):
    for _ in range(27):
        make_payment(merchant.merchant_id, capture=False)
    client = as_role("viewer")

    response = client.get(LIST, {"status": "requires_capture"})

    assert "status=requires_capture" in response.context["next_link"]
    assert b'/payments/export/?status=requires_capture"' in response.content


def test_post_filters_fill_the_page_across_index_pages(merchant, db):
    """Amount and last4 are not keys: the selector keeps reading index pages until the page is full,
    and paging with the cursor returns every match exactly once."""
    wanted = {make_payment(merchant.merchant_id, amount=7777).payment_id for _ in range(7)}
    for _ in range(20):
        make_payment(merchant.merchant_id, amount=100)
    seen, cursor = [], None
    while True:
        page = selectors.payment_list_for_merchant(
            merchant_id=merchant.merchant_id, limit=3, amount_gte=7000, starting_after=cursor
        )
        seen += [p.payment_id for p in page.items]
        assert len(page.items) == 3 or not page.has_more
        if not page.has_more:
            break
        cursor = page.next_cursor
    assert sorted(seen) == sorted(wanted) and len(seen) == len(set(seen))


def test_a_post_filter_reads_a_small_page_first_and_bigger_ones_while_the_list_is_not_full(merchant, db, monkeypatch):
    """The first Query reads `limit + 1` items, as an unfiltered list does; each page that leaves
    the list short reads 4 times more, so a common match costs one small read."""
    start = datetime.now(UTC) - timedelta(hours=1)
    wanted = [make_payment(merchant.merchant_id, amount=7777, now=start + timedelta(seconds=n)) for n in range(3)]
    for n in range(40):
        make_payment(merchant.merchant_id, amount=100, now=start + timedelta(minutes=1, seconds=n))
    limits = []
    query = TableConnection.query

    def counted(self, *args, **kwargs):
        limits.append(kwargs.get("limit"))
        return query(self, *args, **kwargs)

    monkeypatch.setattr(TableConnection, "query", counted)

    rare = selectors.payment_list_for_merchant(merchant_id=merchant.merchant_id, limit=3, amount_gte=7000)
    rare_limits, limits[:] = list(limits), []
    common = selectors.payment_list_for_merchant(merchant_id=merchant.merchant_id, limit=3, amount_lte=7777)

    assert [p.payment_id for p in rare.items] == [p.payment_id for p in reversed(wanted)] and not rare.has_more
    assert rare_limits == [4, 16, 64]  # 40 newer payments skipped, then the rest read to the end
    assert len(common.items) == 3 and common.has_more and limits == [4]


def test_export_is_exactly_the_filtered_set_and_is_audited(as_role, merchant):
    big = [make_payment(merchant.merchant_id, amount=9000, description="=cmd|' /C calc'!A0") for _ in range(3)]
    make_payment(merchant.merchant_id, amount=100)
    make_payment(merchant.merchant_id, amount=9500, capture=False)
    client = as_role("viewer")

    response = client.get(reverse("payments:payment-export"), {"amount_min": "50", "status": "succeeded"})

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == [
        "id", "created", "amount", "currency", "status", "amount_captured", "amount_refunded",
        "customer_id", "card_brand", "card_last4", "description",
    ]  # fmt: skip
    assert sorted(r[0] for r in rows[1:]) == sorted(p.payment_id for p in big)
    assert all(r[10].startswith("'=") for r in rows[1:])
    assert any(e.action == "payment.export" for e in AuditEvent.query(merchant.merchant_id))


def test_detail_shows_amounts_card_ledger_and_audit_events(as_role, merchant):
    payment = make_payment(merchant.merchant_id, amount=4200, metadata={"order": "A-17"})
    client = as_role("viewer")

    response = client.get(reverse("payments:payment-detail", args=[payment.payment_id]))

    body = response.content.decode()
    assert response.status_code == 200
    assert "$42.00" in body and "···· 4242" in body and "4242424242424242" not in body
    assert "A-17" in body and "Authorization" in body and "Capture" in body
    assert "payment.create" in body  # the audit event of its creation


def test_viewer_sees_no_actions_and_cannot_post_them(as_role, merchant):
    payment = make_payment(merchant.merchant_id)
    client = as_role("viewer")

    page = client.get(reverse("payments:payment-detail", args=[payment.payment_id]))
    post = client.post(reverse("payments:payment-refund", args=[payment.payment_id]), {"confirm": "yes"})

    assert b'data-testid="payment-actions"' not in page.content and b'data-testid="no-actions"' in page.content
    assert post.status_code == 403
    assert (
        int(selectors.payment_get(merchant_id=merchant.merchant_id, payment_id=payment.payment_id).amount_refunded) == 0
    )


@pytest.mark.parametrize("role", ["operator", "admin"])
def test_operator_and_admin_see_actions(as_role, merchant, role):
    payment = make_payment(merchant.merchant_id)

    page = as_role(role).get(reverse("payments:payment-detail", args=[payment.payment_id]))

    assert b'data-testid="payment-actions"' in page.content and b'data-dialog-open="refund-dialog"' in page.content


def test_htmx_partial_refund_swaps_the_panel_with_new_amounts_and_timeline(as_role, merchant):
    payment = make_payment(merchant.merchant_id, amount=5000)
    client = as_role("operator")

    response = client.post(
        reverse("payments:payment-refund", args=[payment.payment_id]),
        {"amount": "12.50", "reason": "requested_by_customer", "confirm": "yes"},
        **HTMX,
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="payment-panel"') and "<html" not in body
    assert "Refunded $12.50." in body and "Partially refunded" in body
    assert "Requested by customer" in body  # the new ledger entry
    stored = selectors.payment_get(merchant_id=merchant.merchant_id, payment_id=payment.payment_id)
    assert int(stored.amount_refunded) == 1250 and stored.status == "partially_refunded"
    event = next(e for e in AuditEvent.query(merchant.merchant_id) if e.action == "payment.refund")
    assert event.actor_type == "user" and event.entity_id == payment.payment_id


def test_without_javascript_an_action_asks_for_confirmation_first(as_role, merchant):
    payment = make_payment(merchant.merchant_id, amount=5000)
    client = as_role("operator")
    url = reverse("payments:payment-refund", args=[payment.payment_id])

    ask = client.post(url, {"amount": "10"})
    unchanged = selectors.payment_get(merchant_id=merchant.merchant_id, payment_id=payment.payment_id)
    done = client.post(url, {"amount": "10", "reason": "", "confirm": "yes"}, follow=True)

    assert (
        ask.status_code == 200
        and b"Refund this payment?" in ask.content
        and b'name="confirm" value="yes"' in ask.content
    )
    assert int(unchanged.amount_refunded) == 0
    assert done.redirect_chain[-1][0].endswith(f"/payments/{payment.payment_id}/")
    assert b"Refunded $10.00." in done.content


def test_refund_over_the_captured_amount_is_shown_as_a_field_error(as_role, merchant):
    payment = make_payment(merchant.merchant_id, amount=1000)
    client = as_role("operator")

    response = client.post(
        reverse("payments:payment-refund", args=[payment.payment_id]), {"amount": "11", "confirm": "yes"}, **HTMX
    )

    assert response.status_code == 200
    assert "Refunding $11.00 would exceed the $10.00 still refundable." in response.content.decode()
    assert b"is-danger" in response.content
    assert (
        int(selectors.payment_get(merchant_id=merchant.merchant_id, payment_id=payment.payment_id).amount_refunded) == 0
    )


def test_capture_and_cancel_through_the_pages(as_role, merchant):
    held = make_payment(merchant.merchant_id, amount=3000, capture=False)
    other_held = make_payment(merchant.merchant_id, amount=3000, capture=False)
    client = as_role("operator")

    captured = client.post(
        reverse("payments:payment-capture", args=[held.payment_id]), {"amount": "20", "confirm": "yes"}, **HTMX
    )
    canceled = client.post(reverse("payments:payment-cancel", args=[other_held.payment_id]), {"confirm": "yes"}, **HTMX)
    again = client.post(reverse("payments:payment-cancel", args=[other_held.payment_id]), {"confirm": "yes"}, **HTMX)

    assert b"Payment captured." in captured.content
    assert selectors.payment_get(merchant_id=merchant.merchant_id, payment_id=held.payment_id).amount_captured == 2000
    assert b"Authorization canceled" in canceled.content
    assert b"A canceled payment cannot be canceled." in again.content


def test_other_merchants_payment_is_404_for_detail_and_actions(as_role, other):
    theirs = make_payment(other.merchant_id)
    client = as_role("admin")

    assert client.get(reverse("payments:payment-detail", args=[theirs.payment_id])).status_code == 404
    assert client.get(reverse("payments:payment-detail", args=[theirs.payment_id]), **HTMX).status_code == 404
    response = client.post(reverse("payments:payment-refund", args=[theirs.payment_id]), {"confirm": "yes"})
    assert response.status_code == 404 and b"Not found" in response.content


def test_detail_fragment_for_htmx(as_role, merchant):
    payment = make_payment(merchant.merchant_id)

    response = as_role("viewer").get(reverse("payments:payment-detail", args=[payment.payment_id]), **HTMX)

    assert response.content.decode().lstrip().startswith('<div id="payment-panel"')


def test_htmx_history_restore_gets_the_whole_page_and_answers_vary(as_role, merchant):
    make_payment(merchant.merchant_id)
    client = as_role("viewer")

    restore = client.get(LIST, {"status": "succeeded"}, HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX)
    fragment = client.get(LIST, {"status": "succeeded"}, **HTMX)

    assert b"<html" in restore.content and b'id="payment-filters"' in restore.content
    assert "HX-Request" in restore["Vary"] and "HX-Request" in fragment["Vary"]
    assert fragment["HX-Push-Url"] == "/payments/?status=succeeded"


def test_every_status_has_a_label_and_a_filter_choice():
    from payments.forms import STATUS_LABELS, PaymentFilterForm
    from payments.models import PAYMENT_STATUSES

    assert set(STATUS_LABELS) == set(PAYMENT_STATUSES)
    assert {value for value, _ in PaymentFilterForm().fields["status"].choices} == {"", *PAYMENT_STATUSES}


def _refund_key(html: bytes) -> str:
    return re.search(rb'name="idempotency_key" value="([^"]+)"', html).group(1).decode()


@pytest.mark.parametrize("key_from", ["detail page", "confirmation page"])
def test_the_refund_confirmation_sent_twice_refunds_once(as_role, merchant, key_from):
    payment = make_payment(merchant.merchant_id, amount=5000)
    client = as_role("operator")
    url = reverse("payments:payment-refund", args=[payment.payment_id])
    detail = client.get(reverse("payments:payment-detail", args=[payment.payment_id]))
    asked = {"amount": "10"} | ({"idempotency_key": _refund_key(detail.content)} if key_from == "detail page" else {})

    ask = client.post(url, asked)
    confirmation = {"amount": "10", "reason": "", "confirm": "yes", "idempotency_key": _refund_key(ask.content)}
    first = client.post(url, confirmation, follow=True)
    second = client.post(url, confirmation, follow=True)  # the back button, or a second click

    assert b"Refunded $10.00." in first.content
    assert second.status_code == 200 and b"This refund was made already" in second.content
    stored = selectors.payment_get(merchant_id=merchant.merchant_id, payment_id=payment.payment_id)
    assert int(stored.amount_refunded) == 1000
    assert len([e for e in AuditEvent.query(merchant.merchant_id) if e.action == "payment.refund"]) == 1


def test_an_htmx_refund_form_sent_twice_refunds_once(as_role, merchant):
    payment = make_payment(merchant.merchant_id, amount=5000)
    client = as_role("operator")
    url = reverse("payments:payment-refund", args=[payment.payment_id])
    key = _refund_key(client.get(reverse("payments:payment-detail", args=[payment.payment_id])).content)
    form = {"amount": "12.50", "reason": "", "confirm": "yes", "idempotency_key": key}

    first = client.post(url, form, **HTMX)
    second = client.post(url, form, **HTMX)

    assert b"Refunded $12.50." in first.content and _refund_key(first.content) != key  # the next form's own
    assert b"This refund was made already" in second.content
    stored = selectors.payment_get(merchant_id=merchant.merchant_id, payment_id=payment.payment_id)
    assert int(stored.amount_refunded) == 1250


def test_a_refund_form_reused_for_another_amount_is_refused(as_role, merchant):
    payment = make_payment(merchant.merchant_id, amount=5000)
    client = as_role("operator")
    url = reverse("payments:payment-refund", args=[payment.payment_id])
    key = _refund_key(client.get(reverse("payments:payment-detail", args=[payment.payment_id])).content)

    client.post(url, {"amount": "10", "confirm": "yes", "idempotency_key": key})
    again = client.post(url, {"amount": "20", "confirm": "yes", "idempotency_key": key})

    assert again.status_code == 409 and b"This form was used for another refund already" in again.content
    stored = selectors.payment_get(merchant_id=merchant.merchant_id, payment_id=payment.payment_id)
    assert int(stored.amount_refunded) == 1000


@pytest.mark.parametrize("amount", ["２５.００", "٢٥", "1e1", "1_0"])
def test_a_refund_amount_in_other_digits_or_notations_refunds_nothing(as_role, merchant, amount):
    payment = make_payment(merchant.merchant_id, amount=5000)
    client = as_role("operator")

    response = client.post(
        reverse("payments:payment-refund", args=[payment.payment_id]), {"amount": amount, "confirm": "yes"}
    )

    assert response.status_code == 422 and b"Enter an amount such as 12.50." in response.content
    stored = selectors.payment_get(merchant_id=merchant.merchant_id, payment_id=payment.payment_id)
    assert int(stored.amount_refunded) == 0
