"""A settlement with one discrepancy, uploaded through the API (for the authorization matrix)."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.factories import make_payment
from tests.reconciliation.files import csv_bytes, line_for


def settlement_with_a_discrepancy(merchant_id: str, secret: str) -> tuple[str, str, bytes]:
    """(settlement id, discrepancy id, the file's bytes): one line matches, one has the wrong amount."""
    good, bad = make_payment(merchant_id, amount=1000), make_payment(merchant_id, amount=2000)
    content = csv_bytes([line_for(good), line_for(bad, amount="19.00", net="18.12")])
    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    upload = SimpleUploadedFile("settlement.csv", content, content_type="text/csv")
    response = client.post("/api/v1/settlements", {"file": upload}, **auth)
    assert response.status_code == 202, response.content
    settlement_id = response.json()["id"]
    listed = client.get(f"/api/v1/settlements/{settlement_id}/discrepancies", **auth)
    assert listed.status_code == 200 and listed.json()["data"], listed.content
    return settlement_id, listed.json()["data"][0]["id"], content
