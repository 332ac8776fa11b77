"""Settlement pages through the Django test client: roles, tenancy, htmx fragments, resolving."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import AuditEvent
from reconciliation import services
from reconciliation.enums import Kind
from reconciliation.models import Settlement
from reconciliation.selectors import discrepancy_tally
from reconciliation.services import processing
from tests.factories import TEST_ACTOR, make_merchant, make_payment, make_user
from tests.reconciliation.files import csv_bytes, line_for

pytestmark = pytest.mark.usefixtures("moto_without_rollback")

HTMX = {"HTTP_HX_REQUEST": "true"}
LIST = reverse("reconciliation:settlement-list")
UPLOAD = reverse("reconciliation:settlement-upload")


@pytest.fixture
def merchant():
    return make_merchant("Acme")


@pytest.fixture
def signed_in(client, db, merchant):
    def sign_in(role: str, merchant_id: str | None = None):
        client.force_login(make_user(merchant_id=merchant_id or merchant.merchant_id, role=role))
        return client

    return sign_in


def _settlement(merchant_id: str, *, rows=None, enqueue=True) -> Settlement:
    if rows is None:
        payments = [make_payment(merchant_id, amount=2000 + n) for n in range(2)]
        rows = [line_for(payments[0]), line_for(payments[1], net="1.00"), {**line_for(payments[0])}]
    intake = services.settlement_create(
        merchant_id=merchant_id, actor=TEST_ACTOR, file=io.BytesIO(csv_bytes(rows)), filename="nov.csv", enqueue=enqueue
    )
    return Settlement.get(intake.settlement.settlement_id, consistent_read=True)


def _detail(settlement: Settlement) -> str:
    return reverse("reconciliation:settlement-detail", kwargs={"settlement_id": settlement.settlement_id})


def test_viewer_sees_the_list_and_detail_but_no_upload_or_resolve(signed_in, merchant):
    settlement = _settlement(merchant.merchant_id)
    client = signed_in("viewer")

    listing = client.get(LIST)
    detail = client.get(_detail(settlement))
    upload = client.get(UPLOAD)

    assert listing.status_code == 200 and settlement.settlement_id.encode() in listing.content
    assert b"Upload a settlement file" not in listing.content
    assert b">Settlements</a>" in listing.content  # the navbar link
    assert detail.status_code == 200
    assert b"Fee does not add up" in detail.content and b"Duplicate line" in detail.content  # friendly labels
    assert b"Resolve</button>" not in detail.content and b'id="bulk-resolve"' not in detail.content
    assert upload.status_code == 403


def test_operator_uploads_a_file_and_is_taken_to_its_settlement(signed_in, merchant):
    payment = make_payment(merchant.merchant_id, amount=3300)
    client = signed_in("operator")

    form = client.get(UPLOAD)
    response = client.post(
        UPLOAD, {"file": SimpleUploadedFile("nov-27.csv", csv_bytes([line_for(payment)]))}, follow=True
    )

    assert form.status_code == 200 and b'id="drop-zone"' in form.content and b'type="file"' in form.content
    assert response.status_code == 200
    assert b"nov-27.csv was uploaded" in response.content
    assert b"Matched 1" in response.content and b"No discrepancies" in response.content
    assert b"$33.00" in response.content
    (settlement,) = Settlement.by_merchant.query(merchant.merchant_id)
    uploads = [e for e in AuditEvent.by_entity.query(settlement.settlement_id) if e.action == "settlement.upload"]
    assert uploads[0].actor_type == "user" and uploads[0].outcome == "success"


def test_a_rejected_file_shows_its_reason_on_the_form(signed_in):
    client = signed_in("operator")

    response = client.post(UPLOAD, {"file": SimpleUploadedFile("bad.csv", b"payment_id;amount\n1;2\n")})

    assert response.status_code == 422
    assert b"bad.csv: The columns are separated by semicolons" in response.content


def test_uploading_the_file_of_a_failed_settlement_again_processes_it_again(signed_in, merchant, monkeypatch):
    payment = make_payment(merchant.merchant_id, amount=3300)
    content = csv_bytes([line_for(payment)])
    client = signed_in("operator")

    def a_bug_in_this_release(*args, **kwargs):
        raise RuntimeError("a bug in this release")

    with monkeypatch.context() as patched:
        patched.setattr(processing, "chunk_process", a_bug_in_this_release)
        client.post(UPLOAD, {"file": SimpleUploadedFile("nov-27.csv", content)})
    response = client.post(UPLOAD, {"file": SimpleUploadedFile("nov-27 fixed.csv", content)}, follow=True)

    assert response.status_code == 200
    assert b"processing failed, so it is processed again" in response.content
    assert b"Matched 1" in response.content


def test_another_merchants_settlement_is_404(signed_in, merchant):
    other = make_merchant("Globex")
    theirs = _settlement(other.merchant_id)
    client = signed_in("admin")

    assert client.get(_detail(theirs)).status_code == 404
    assert (
        client.get(
            reverse("reconciliation:discrepancy-export", kwargs={"settlement_id": theirs.settlement_id})
        ).status_code
        == 404
    )
    assert (
        client.get(reverse("reconciliation:settlement-detail", kwargs={"settlement_id": "set_nope"})).status_code == 404
    )


def test_progress_fragment_polls_while_processing_then_refreshes(signed_in, merchant):
    queued = _settlement(merchant.merchant_id, enqueue=False)
    client = signed_in("viewer")
    headers = {**HTMX, "HTTP_HX_TARGET": "settlement-progress"}

    page = client.get(_detail(queued))
    fragment = client.get(_detail(queued), **headers)
    services.settlement_process(merchant_id=merchant.merchant_id, settlement_id=queued.settlement_id)
    done = client.get(_detail(queued), **headers)

    assert b'hx-trigger="every 1s"' in page.content and b"0 of 3 rows" in page.content
    assert fragment.status_code == 200 and b"<html" not in fragment.content
    assert fragment.content.lstrip().startswith(b'<section id="settlement-progress"')
    assert done["HX-Refresh"] == "true"


def test_kind_filter_fragment_and_csv_download(signed_in, merchant):
    settlement = _settlement(merchant.merchant_id)
    client = signed_in("viewer")

    fragment = client.get(_detail(settlement), {"kind": Kind.FEE_MISMATCH}, **HTMX, HTTP_HX_TARGET="discrepancy-table")
    export = client.get(
        reverse("reconciliation:discrepancy-export", kwargs={"settlement_id": settlement.settlement_id})
    )

    assert fragment.content.lstrip().startswith(b'<section id="discrepancy-table"')
    assert b'data-kind="fee_mismatch"' in fragment.content and b'data-kind="duplicate_line"' not in fragment.content
    body = b"".join(export.streaming_content).decode()
    assert export["Content-Type"].startswith("text/csv") and body.count("\n") == 3


def test_operator_resolves_a_discrepancy_and_the_page_shows_who(signed_in, merchant):
    settlement = _settlement(merchant.merchant_id)
    client = signed_in("operator")
    page = client.get(_detail(settlement))
    first = page.context["page"].items[0]
    url = reverse(
        "reconciliation:discrepancy-resolve",
        kwargs={"settlement_id": settlement.settlement_id, "discrepancy_id": first.discrepancy_id},
    )

    response = client.post(url, {"reason": "Fee corrected by the processor"}, follow=True)

    assert response.status_code == 200
    assert b"is marked resolved" in response.content
    assert b"Fee corrected by the processor" in response.content
    username = response.wsgi_request.user.get_username().encode()
    assert b"Resolved</span> by " + username in response.content
    assert any(e.action == "discrepancy.resolve" for e in AuditEvent.by_entity.query(first.discrepancy_id))


def test_viewer_cannot_resolve(signed_in, merchant):
    settlement = _settlement(merchant.merchant_id)
    client = signed_in("viewer")
    first = client.get(_detail(settlement)).context["page"].items[0]
    url = reverse(
        "reconciliation:discrepancy-resolve",
        kwargs={"settlement_id": settlement.settlement_id, "discrepancy_id": first.discrepancy_id},
    )

    assert client.post(url, {"reason": "no"}).status_code == 403


BULK = "reconciliation:discrepancy-resolve-bulk"


def _bulk(settlement: Settlement) -> str:
    return reverse(BULK, kwargs={"settlement_id": settlement.settlement_id})


def test_the_list_counts_open_discrepancies_and_the_page_open_and_resolved_per_kind(signed_in, merchant):
    settlement = _settlement(merchant.merchant_id)  # one fee_mismatch, one duplicate_line, one matched
    client = signed_in("operator")
    fee = next(d for d in client.get(_detail(settlement)).context["page"].items if d.kind == Kind.FEE_MISMATCH)

    before = client.get(LIST).content.decode()
    client.post(
        reverse(
            "reconciliation:discrepancy-resolve",
            kwargs={"settlement_id": settlement.settlement_id, "discrepancy_id": fee.discrepancy_id},
        ),
        {"reason": "fee credit"},
    )
    after = client.get(LIST).content.decode()
    detail = client.get(_detail(settlement)).content.decode()

    assert ">2 open<" in before and "matched" not in before
    assert ">1 open<" in after and "1 resolved" in after
    assert 'data-testid="open-fee_mismatch">0<' in detail and 'data-testid="resolved-fee_mismatch">1<' in detail
    assert 'data-testid="open-duplicate_line">1<' in detail and 'data-testid="resolved-duplicate_line">0<' in detail
    assert "Fee does not add up" in detail and "manage.py" not in detail


def test_an_htmx_resolve_answers_the_row_and_the_counts_in_place(signed_in, merchant):
    settlement = _settlement(merchant.merchant_id)
    client = signed_in("operator")
    first = client.get(_detail(settlement)).context["page"].items[0]
    url = reverse(
        "reconciliation:discrepancy-resolve",
        kwargs={"settlement_id": settlement.settlement_id, "discrepancy_id": first.discrepancy_id},
    )

    empty = client.post(url, {"reason": " "}, **HTMX)
    done = client.post(url, {"reason": "fee credit"}, **HTMX)

    assert empty.status_code == 200 and b"<html" not in empty.content
    assert b"Say why the discrepancy is resolved." in empty.content and b'aria-invalid="true"' in empty.content
    assert done.status_code == 200 and done.content.lstrip().startswith(f'<tr id="d-{first.discrepancy_id}"'.encode())
    assert b"Resolved</span> by " in done.content and b"fee credit" in done.content
    assert (
        b'id="outcome-counts" hx-swap-oob="true"' in done.content
        and b'data-testid="resolved-total">1 resolved' in done.content
    )


def test_bulk_resolve_of_a_kind_and_of_a_selection_with_messages(signed_in, merchant):
    settlement = _settlement(merchant.merchant_id)
    client = signed_in("operator")
    items = client.get(_detail(settlement)).context["page"].items
    duplicate = next(d for d in items if d.kind == Kind.DUPLICATE_LINE)
    filtered = client.get(_detail(settlement), {"kind": Kind.FEE_MISMATCH}).content.decode()

    no_reason = client.post(_bulk(settlement), {"scope": "kind", "kind": Kind.FEE_MISMATCH, "reason": ""}, follow=True)
    nothing = client.post(_bulk(settlement), {"scope": "selected", "reason": "fine"}, follow=True)
    by_kind = client.post(
        _bulk(settlement), {"scope": "kind", "kind": Kind.FEE_MISMATCH, "reason": "fee credit"}, follow=True
    )
    selected = client.post(
        _bulk(settlement), {"scope": "selected", "reason": "known", "discrepancy_id": [duplicate.discrepancy_id]}
    )

    assert "Resolve all 1 open “Fee does not add up”" in filtered and 'form="bulk-resolve"' in filtered
    assert b"Say why the discrepancy is resolved." in no_reason.content
    assert b"Select the discrepancies to resolve." in nothing.content
    assert by_kind.redirect_chain[-1][0].endswith(f"?kind={Kind.FEE_MISMATCH}")
    assert "Resolved 1 “Fee does not add up” discrepancies, each with its own audit event." in by_kind.content.decode()
    assert selected.status_code == 302
    tally = {t.kind: t for t in services_tally(settlement)}
    assert tally[Kind.FEE_MISMATCH].resolved == 1 and tally[Kind.DUPLICATE_LINE].resolved == 1
    events = [e for e in AuditEvent.by_entity.query(duplicate.discrepancy_id) if e.action == "discrepancy.resolve"]
    assert len(events) == 1 and events[0].actor_type == "user"


def test_viewer_cannot_bulk_resolve_and_another_merchants_settlement_is_404(signed_in, merchant):
    settlement = _settlement(merchant.merchant_id)
    theirs = _settlement(make_merchant("Globex").merchant_id)

    viewer = signed_in("viewer").post(_bulk(settlement), {"scope": "kind", "kind": "fee_mismatch", "reason": "x"})
    foreign = signed_in("admin").post(_bulk(theirs), {"scope": "kind", "kind": "fee_mismatch", "reason": "x"})

    assert viewer.status_code == 403 and foreign.status_code == 404
    assert all(t.resolved == 0 for t in services_tally(theirs))


def services_tally(settlement: Settlement):
    return discrepancy_tally(Settlement.get(settlement.settlement_id, consistent_read=True))
