"""The Disputes section of API.md ("Wave 2 additions"), status code by status code."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from disputes import services
from sandbox.cards import DISPUTE_CARD
from tests.disputes.helpers import later
from tests.factories import TEST_ACTOR
from tests.payments.helpers import card_body, integrator, new_key, payment_body, problem

pytestmark = pytest.mark.engine

DISPUTE_KEYS = {
    "id", "object", "payment_id", "amount", "currency", "reason", "status", "evidence_due_by", "evidence", "created",
    "updated",
}  # fmt: skip


def _disputed(api, amount: int = 2500) -> tuple[dict, dict]:
    payment = api.create(amount=amount, card=card_body(DISPUTE_CARD))
    listed = api.get("/disputes", payment_id=payment["id"]).json()["data"]
    assert len(listed) == 1
    return payment, listed[0]


def test_the_dispute_card_opens_a_dispute_with_the_contracts_object(client, dynamodb_backend):
    api = integrator(client)

    payment, dispute = _disputed(api, amount=4200)

    assert set(dispute) == DISPUTE_KEYS
    assert dispute["id"].startswith("dp_") and dispute["object"] == "dispute"
    assert (dispute["payment_id"], dispute["amount"], dispute["currency"]) == (payment["id"], 4200, "usd")
    assert (dispute["reason"], dispute["status"]) == ("fraudulent", "needs_response")
    assert dispute["evidence_due_by"].endswith("Z") and dispute["created"].endswith("Z")
    assert dispute["evidence"]["text"] is None and dispute["evidence"]["submitted"] is False
    assert api.get(f"/disputes/{dispute['id']}").json() == dispute
    assert api.get(f"/payments/{payment['id']}").json()["disputed"] is True


def test_an_ordinary_payment_is_not_disputed(client, dynamodb_backend):
    api = integrator(client)

    payment = api.create()

    assert payment["disputed"] is False
    assert api.get("/disputes").json() == {"object": "list", "data": [], "has_more": False, "next_cursor": None}


def test_list_filters_by_status_and_pages_through(client, dynamodb_backend):
    api = integrator(client)
    ids = [_disputed(api)[1]["id"] for _ in range(3)]
    api.post(f"/disputes/{ids[0]}/accept")

    first = api.get("/disputes", limit=2).json()
    second = api.get("/disputes", limit=2, starting_after=first["next_cursor"]).json()

    assert first["has_more"] is True and second["has_more"] is False and second["next_cursor"] is None
    assert [d["id"] for d in first["data"] + second["data"]] == ids[::-1]
    assert [d["id"] for d in api.get("/disputes", status="accepted").json()["data"]] == [ids[0]]
    assert [d["id"] for d in api.get("/disputes", status="needs_response").json()["data"]] == ids[:0:-1]


@pytest.mark.parametrize(
    "params, code",
    [({"limit": 0}, "invalid_limit"), ({"starting_after": "pay_x"}, "invalid_cursor"), ({"status": "open"}, None)],
)
def test_bad_list_parameters_are_422(client, dynamodb_backend, params, code):
    api = integrator(client)

    response = api.get("/disputes", **params)

    assert response.status_code == 422
    body = problem(response)
    assert code is None or body["code"] == code


def test_another_merchants_dispute_is_404(client, dynamodb_backend):
    api, other = integrator(client), integrator(client)
    _, dispute = _disputed(api)

    assert other.get(f"/disputes/{dispute['id']}").status_code == 404
    assert other.post(f"/disputes/{dispute['id']}/accept").status_code == 404
    assert other.post(f"/disputes/{dispute['id']}/evidence", {"text": "x"}).status_code == 404
    assert other.get("/disputes", payment_id=dispute["payment_id"]).json()["data"] == []
    assert api.get("/disputes/dp_nothing").status_code == 404


def test_evidence_draft_then_submit_then_the_processor_decides(client, dynamodb_backend):
    api = integrator(client)
    _, dispute = _disputed(api)

    draft = api.post(f"/disputes/{dispute['id']}/evidence", {"text": "Delivered: winning_evidence", "submit": False})
    assert draft.status_code == 200
    assert (draft.json()["status"], draft.json()["evidence"]["text"]) == (
        "needs_response",
        "Delivered: winning_evidence",
    )
    submitted = api.post(f"/disputes/{dispute['id']}/evidence", {"submit": True})
    assert submitted.status_code == 200
    body = submitted.json()
    assert body["status"] == "under_review" and body["evidence"]["submitted"] is True

    services.disputes_sweep(now=later(minutes=2))

    assert api.get(f"/disputes/{dispute['id']}").json()["status"] == "won"
    ledger = [t["type"] for t in api.get(f"/payments/{dispute['payment_id']}").json()["transactions"]]
    assert ledger[-3:] == ["dispute", "dispute_fee", "dispute_reversal"]


def test_evidence_errors(client, dynamodb_backend):
    api = integrator(client)
    _, dispute = _disputed(api)
    path = f"/disputes/{dispute['id']}/evidence"

    assert problem(api.post(path, {"submit": True}))["code"] == "evidence_missing"
    assert problem(api.post(path, {"text": "x", "submit": "yes"}))["status"] == 422
    assert problem(api.post(path, {"text": "x", "extra": 1}))["code"] == "unknown_parameter"
    assert problem(api.post(path, {"text": "x"}, key=None))["code"] == "idempotency_key_missing"
    api.post(f"/disputes/{dispute['id']}/accept")
    closed = api.post(path, {"text": "too late"})
    assert closed.status_code == 409 and problem(closed)["code"] == "invalid_state"


def test_accept_closes_it_and_a_second_accept_is_409(client, dynamodb_backend):
    api = integrator(client)
    _, dispute = _disputed(api)

    accepted = api.post(f"/disputes/{dispute['id']}/accept")
    again = api.post(f"/disputes/{dispute['id']}/accept")

    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert again.status_code == 409 and problem(again)["code"] == "invalid_state"


def test_posts_replay_their_stored_response_for_the_same_key(client, dynamodb_backend):
    api = integrator(client)
    _, dispute = _disputed(api)
    key = new_key()

    first = api.post(f"/disputes/{dispute['id']}/evidence", {"text": "receipt"}, key=key)
    replay = api.post(f"/disputes/{dispute['id']}/evidence", {"text": "receipt"}, key=key)
    reused = api.post(f"/disputes/{dispute['id']}/evidence", {"text": "other"}, key=key)
    accepted = api.post(f"/disputes/{dispute['id']}/accept", key=key)  # another endpoint: its own key space

    assert first.status_code == replay.status_code == 200
    assert replay.content == first.content and replay["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert reused.status_code == 422 and problem(reused)["code"] == "idempotency_key_reused"
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert api.post(f"/disputes/{dispute['id']}/accept", key=key).content == accepted.content


def test_refund_of_a_disputed_payment_is_409_payment_disputed(client, dynamodb_backend):
    api = integrator(client)
    payment, dispute = _disputed(api)

    response = api.post(f"/payments/{payment['id']}/refunds", {"amount": 100})

    assert response.status_code == 409
    body = problem(response)
    assert body["code"] == "payment_disputed" and body["dispute_id"] == dispute["id"]
    assert api.get(f"/payments/{payment['id']}").json()["amount_refunded"] == 0


def test_a_declined_dispute_card_opens_nothing(client, dynamodb_backend):
    api = integrator(client)

    response = api.post("/payments", payment_body(card=card_body("4000000000000002")))

    assert response.status_code == 402
    assert api.get("/disputes").json()["data"] == []


def test_files_added_in_the_dashboard_are_listed_and_count_as_evidence(client, dynamodb_backend):
    api = integrator(client)
    _, dispute = _disputed(api)
    services.dispute_evidence_file_add(
        merchant_id=api.merchant_id,
        dispute_id=dispute["id"],
        actor=TEST_ACTOR,
        upload=SimpleUploadedFile("receipt.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf"),
    )

    submitted = api.post(f"/disputes/{dispute['id']}/evidence", {"submit": True})

    assert submitted.status_code == 200
    (file,) = submitted.json()["evidence"]["files"]
    assert file["id"].startswith("file_") and (file["filename"], file["content_type"]) == (
        "receipt.pdf",
        "application/pdf",
    )
    assert file["size"] == 15 and submitted.json()["status"] == "under_review"
