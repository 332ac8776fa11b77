"""The dispute pages: the list with counts and days left, a dispute's page with its timeline and
evidence forms (plain HTML forms: no JavaScript needed), evidence files, and the ops form."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from disputes import selectors, services
from payments.selectors import payment_get
from tests.disputes.helpers import open_dispute
from tests.factories import TEST_ACTOR, make_payment

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_the_list_shows_counts_by_status_and_days_left(as_role, merchant):
    _, first = open_dispute(merchant.merchant_id)
    _, second = open_dispute(merchant.merchant_id)
    services.dispute_accept(merchant_id=merchant.merchant_id, dispute_id=second.dispute_id, actor=TEST_ACTOR)
    client = as_role("viewer")

    page = client.get("/disputes/").content.decode()

    assert first.dispute_id in page and second.dispute_id in page
    assert 'data-testid="count-needs_response">1<' in page and 'data-testid="count-accepted">1<' in page
    assert "6 days left" in page
    only_accepted = client.get("/disputes/", {"status": "accepted"}).content.decode()
    assert second.dispute_id in only_accepted and first.dispute_id not in only_accepted


def test_the_dispute_page_shows_the_timeline_and_links_the_payment(as_role, merchant):
    payment, dispute = open_dispute(merchant.merchant_id)

    page = as_role("viewer").get(f"/disputes/{dispute.dispute_id}/").content.decode()

    assert "dispute.open" in page and f"/payments/{payment.payment_id}/" in page
    assert 'data-testid="evidence-form"' not in page  # a viewer reads, never changes
    payment_page = as_role("viewer").get(f"/payments/{payment.payment_id}/").content.decode()
    assert f"/disputes/{dispute.dispute_id}/" in payment_page


def test_another_merchants_dispute_page_is_404(as_role, merchant, other):
    _, dispute = open_dispute(other.merchant_id)

    assert as_role("admin").get(f"/disputes/{dispute.dispute_id}/").status_code == 404


def test_an_operator_saves_a_draft_then_submits_evidence(as_role, merchant):
    _, dispute = open_dispute(merchant.merchant_id)
    client = as_role("operator")
    url = f"/disputes/{dispute.dispute_id}/evidence/"

    saved = client.post(url, {"text": "Tracking 1Z999", "action": "save"})
    assert saved.status_code == 302
    assert selectors.dispute_get(merchant_id=merchant.merchant_id, dispute_id=dispute.dispute_id).evidence.text == (
        "Tracking 1Z999"
    )
    submitted = client.post(url, {"text": "Tracking 1Z999, winning_evidence", "action": "submit"}, follow=True)

    assert "The evidence was submitted" in submitted.content.decode()
    stored = selectors.dispute_get(merchant_id=merchant.merchant_id, dispute_id=dispute.dispute_id)
    assert stored.status == "under_review"
    assert "dispute.evidence_submit" in submitted.content.decode()


def test_a_viewer_cannot_change_a_dispute(as_role, merchant):
    _, dispute = open_dispute(merchant.merchant_id)
    client = as_role("viewer")

    assert client.post(f"/disputes/{dispute.dispute_id}/evidence/", {"text": "x"}).status_code == 403
    assert client.post(f"/disputes/{dispute.dispute_id}/accept/", {"confirm": "yes"}).status_code == 403


def test_accept_needs_the_confirmation_box(as_role, merchant):
    _, dispute = open_dispute(merchant.merchant_id)
    client = as_role("operator")

    unconfirmed = client.post(f"/disputes/{dispute.dispute_id}/accept/")
    confirmed = client.post(f"/disputes/{dispute.dispute_id}/accept/", {"confirm": "yes"})

    assert unconfirmed.status_code == 422 and confirmed.status_code == 302
    assert selectors.dispute_get(merchant_id=merchant.merchant_id, dispute_id=dispute.dispute_id).status == "accepted"


def test_evidence_files_pdf_and_images_only_and_downloaded_back(as_role, merchant):
    _, dispute = open_dispute(merchant.merchant_id)
    client = as_role("operator")
    url = f"/disputes/{dispute.dispute_id}/evidence/files/"

    pdf = client.post(url, {"file": SimpleUploadedFile("receipt.pdf", PDF, content_type="application/pdf")})
    png = client.post(url, {"file": SimpleUploadedFile("photo.png", PNG, content_type="image/png")})
    fake = client.post(
        url, {"file": SimpleUploadedFile("fake.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")}
    )

    assert pdf.status_code == png.status_code == 302
    assert fake.status_code == 422 and "PDF" in fake.content.decode()
    files = selectors.dispute_get(merchant_id=merchant.merchant_id, dispute_id=dispute.dispute_id).evidence.files
    assert [(f.filename, f.content_type) for f in files] == [
        ("receipt.pdf", "application/pdf"),
        ("photo.png", "image/png"),
    ]
    download = client.get(f"/disputes/{dispute.dispute_id}/evidence/files/{files[0].file_id}/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf" and "attachment" in download["Content-Disposition"]


def test_an_evidence_file_over_5_mb_is_refused(as_role, merchant):
    _, dispute = open_dispute(merchant.merchant_id)
    big = SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * (5 * 1024 * 1024), content_type="application/pdf")

    response = as_role("operator").post(f"/disputes/{dispute.dispute_id}/evidence/files/", {"file": big})

    assert response.status_code == 422 and "5 MB" in response.content.decode()
    assert selectors.dispute_get(merchant_id=merchant.merchant_id, dispute_id=dispute.dispute_id).evidence.files == []


def test_ops_staff_open_a_dispute_from_the_payment_page(staff_client, merchant):
    payment = make_payment(merchant.merchant_id, amount=5000)
    client = staff_client
    client.post("/merchant/switch/", {"merchant_id": merchant.merchant_id})
    assert "/disputes/open/" in client.get(f"/payments/{payment.payment_id}/").content.decode()

    response = client.post(f"/disputes/open/{payment.payment_id}/", {"amount": "20.00", "reason": "duplicate"})

    assert response.status_code == 302
    stored = payment_get(merchant_id=merchant.merchant_id, payment_id=payment.payment_id)
    dispute = selectors.dispute_get(merchant_id=merchant.merchant_id, dispute_id=stored.dispute_id)
    assert (int(dispute.amount), dispute.reason) == (2000, "duplicate")


def test_merchant_users_cannot_open_disputes(as_role, merchant):
    payment = make_payment(merchant.merchant_id)
    client = as_role("admin")

    assert "/disputes/open/" not in client.get(f"/payments/{payment.payment_id}/").content.decode()
    assert client.post(f"/disputes/open/{payment.payment_id}/", {"reason": "fraudulent"}).status_code == 403


@pytest.mark.parametrize("path", ["/disputes/", "/disputes/dp_01M8MZG8K1WVTFMZ39P890RV07/"])
def test_pages_need_sign_in(client, db, path):
    response = client.get(path)

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
