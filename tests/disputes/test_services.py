"""Opening, evidence, accepting and the processor's decisions, on moto and on DynamoDB Local."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command

from audit.selectors import audit_event_list_for_entity
from core.errors import ValidationFailed
from disputes import selectors, services
from disputes.enums import DisputeStatus
from disputes.errors import DisputeNotFound, InvalidDisputeState
from disputes.tasks import dispute_after_capture
from merchants.services.merchants import merchant_webhook_url_set
from payments import services as payments
from payments.enums import DISPUTE_WON, PaymentStatus, TransactionKind
from payments.errors import PaymentDisputed
from payments.models import DailySummary
from payments.selectors import payment_get, transaction_list_for_payment
from tests.disputes.helpers import disputed_payment, later, open_dispute
from tests.factories import TEST_ACTOR, card, make_merchant, make_payment
from webhooks.models import WebhookDelivery

pytestmark = pytest.mark.engine


def _ledger(payment_id: str) -> list[tuple[str, int]]:
    return [(entry.kind, int(entry.amount)) for entry in transaction_list_for_payment(payment_id=payment_id)]


def _summary_total(merchant_id: str, attribute: str) -> int:
    return sum(item.value(attribute) for item in DailySummary.query(merchant_id, consistent_read=True))


def test_the_dispute_card_makes_the_processor_open_a_dispute_for_the_full_amount(settings, dynamodb_backend):
    merchant = make_merchant()

    payment = disputed_payment(merchant.merchant_id, amount=4200)

    (dispute,) = selectors.dispute_list_for_merchant(merchant_id=merchant.merchant_id).items
    assert dispute.dispute_id.startswith("dp_") and dispute.payment_id == payment.payment_id
    assert (int(dispute.amount), dispute.currency, dispute.reason) == (4200, "usd", "fraudulent")
    assert dispute.status == DisputeStatus.NEEDS_RESPONSE
    assert dispute.evidence_due_by - dispute.created == timedelta(days=7)
    stored = payment_get(merchant_id=merchant.merchant_id, payment_id=payment.payment_id)
    assert stored.disputed is True and stored.dispute_id == dispute.dispute_id
    assert stored.status == PaymentStatus.SUCCEEDED


def test_an_ordinary_card_opens_no_dispute(dynamodb_backend):
    merchant = make_merchant()

    payment = make_payment(merchant.merchant_id)

    assert selectors.dispute_list_for_merchant(merchant_id=merchant.merchant_id).items == []
    assert not payment_get(merchant_id=merchant.merchant_id, payment_id=payment.payment_id).disputed
    assert dispute_after_capture(payment) is False


def test_a_dispute_card_authorization_is_disputed_once_captured(dynamodb_backend):
    merchant = make_merchant()
    payment = disputed_payment(merchant.merchant_id, capture=False)
    assert selectors.dispute_list_for_merchant(merchant_id=merchant.merchant_id).items == []

    payments.payment_capture(merchant_id=merchant.merchant_id, payment_id=payment.payment_id, actor=TEST_ACTOR)

    (dispute,) = selectors.dispute_list_for_merchant(merchant_id=merchant.merchant_id).items
    assert dispute.payment_id == payment.payment_id


def test_opening_writes_the_ledger_the_counters_the_audit_event_and_the_webhook_event(settings, dynamodb_backend):
    settings.SANDBOX_DISPUTE_FEE = {"usd": 1500}
    merchant = make_merchant()
    merchant_webhook_url_set(merchant_id=merchant.merchant_id, url="https://hooks.example.com/in", actor=TEST_ACTOR)

    payment, dispute = open_dispute(merchant.merchant_id, amount=3000)

    assert _ledger(payment.payment_id)[-2:] == [(TransactionKind.DISPUTE, 3000), (TransactionKind.DISPUTE_FEE, 1500)]
    assert (_summary_total(merchant.merchant_id, "disputed"), _summary_total(merchant.merchant_id, "dispute_fees")) == (
        3000,
        1500,
    )
    assert _summary_total(merchant.merchant_id, "dispute_count") == 1
    (event,) = audit_event_list_for_entity(merchant_id=merchant.merchant_id, entity_id=dispute.dispute_id)
    assert event.action == "dispute.open" and event.actor_id == TEST_ACTOR.id
    types = [d.event_type for d in WebhookDelivery.query(merchant.merchant_id) if d.entity_id == dispute.dispute_id]
    assert types == ["dispute.created"]


def test_a_payment_has_one_dispute_and_only_captured_money_is_disputed(dynamodb_backend):
    merchant = make_merchant()
    payment, dispute = open_dispute(merchant.merchant_id)
    authorized = make_payment(merchant.merchant_id, capture=False)

    with pytest.raises(InvalidDisputeState):
        services.dispute_open(merchant_id=merchant.merchant_id, payment_id=payment.payment_id, actor=TEST_ACTOR)
    with pytest.raises(InvalidDisputeState):
        services.dispute_open(merchant_id=merchant.merchant_id, payment_id=authorized.payment_id, actor=TEST_ACTOR)
    other = make_payment(merchant.merchant_id, amount=1000)
    with pytest.raises(ValidationFailed) as exceeded:
        services.dispute_open(
            merchant_id=merchant.merchant_id, payment_id=other.payment_id, actor=TEST_ACTOR, amount=1001
        )
    assert exceeded.value.code == "amount_exceeds_disputable"


def test_refunding_a_disputed_payment_is_refused_until_the_dispute_is_won(dynamodb_backend):
    merchant = make_merchant()
    payment, dispute = open_dispute(merchant.merchant_id)

    with pytest.raises(PaymentDisputed) as refused:
        payments.refund_create(merchant_id=merchant.merchant_id, payment_id=payment.payment_id, actor=TEST_ACTOR)
    assert (refused.value.status, refused.value.code) == (409, "payment_disputed")

    services.dispute_evidence_update(
        merchant_id=merchant.merchant_id,
        dispute_id=dispute.dispute_id,
        actor=TEST_ACTOR,
        text="Signed delivery receipt: winning_evidence",
        submit=True,
    )
    with pytest.raises(PaymentDisputed):  # under review: still open
        payments.refund_create(merchant_id=merchant.merchant_id, payment_id=payment.payment_id, actor=TEST_ACTOR)
    services.disputes_sweep(now=later(minutes=2))

    assert payment_get(merchant_id=merchant.merchant_id, payment_id=payment.payment_id).dispute_status == DISPUTE_WON
    refund = payments.refund_create(
        merchant_id=merchant.merchant_id, payment_id=payment.payment_id, actor=TEST_ACTOR, amount=500
    )
    assert refund.amount == 500


def test_a_draft_keeps_the_dispute_open_and_submitting_puts_it_under_review(dynamodb_backend):
    merchant = make_merchant()
    _, dispute = open_dispute(merchant.merchant_id)

    draft = services.dispute_evidence_update(
        merchant_id=merchant.merchant_id, dispute_id=dispute.dispute_id, actor=TEST_ACTOR, text="Receipt attached"
    )
    assert (draft.status, draft.evidence.text, draft.evidence.submitted_at) == (
        DisputeStatus.NEEDS_RESPONSE,
        "Receipt attached",
        None,
    )
    submitted = services.dispute_evidence_update(
        merchant_id=merchant.merchant_id, dispute_id=dispute.dispute_id, actor=TEST_ACTOR, submit=True
    )

    assert submitted.status == DisputeStatus.UNDER_REVIEW and submitted.evidence.text == "Receipt attached"
    stored = selectors.dispute_get(merchant_id=merchant.merchant_id, dispute_id=dispute.dispute_id)
    assert stored.status == DisputeStatus.UNDER_REVIEW and stored.evidence.submitted_at is not None
    with pytest.raises(InvalidDisputeState):
        services.dispute_evidence_update(
            merchant_id=merchant.merchant_id, dispute_id=dispute.dispute_id, actor=TEST_ACTOR, text="more"
        )


def test_submitting_without_evidence_is_refused(dynamodb_backend):
    merchant = make_merchant()
    _, dispute = open_dispute(merchant.merchant_id)

    with pytest.raises(ValidationFailed) as refused:
        services.dispute_evidence_update(
            merchant_id=merchant.merchant_id, dispute_id=dispute.dispute_id, actor=TEST_ACTOR, text="  ", submit=True
        )

    assert refused.value.code == "evidence_missing"


def test_the_processor_decides_a_minute_after_submission(dynamodb_backend):
    merchant = make_merchant()
    winner_payment, winner = open_dispute(merchant.merchant_id, amount=2000)
    _, loser = open_dispute(merchant.merchant_id, amount=3000)
    for dispute, text in ((winner, "tracking: winning_evidence"), (loser, "we think it was fine")):
        services.dispute_evidence_update(
            merchant_id=merchant.merchant_id, dispute_id=dispute.dispute_id, actor=TEST_ACTOR, text=text, submit=True
        )

    early = services.disputes_sweep(now=later(seconds=30))
    assert early.checked == 0
    report = services.disputes_sweep(now=later(minutes=2))

    assert (report.won, report.lost) == (1, 1)
    won = selectors.dispute_get(merchant_id=merchant.merchant_id, dispute_id=winner.dispute_id)
    lost = selectors.dispute_get(merchant_id=merchant.merchant_id, dispute_id=loser.dispute_id)
    assert (won.status, lost.status) == (DisputeStatus.WON, DisputeStatus.LOST)
    assert _ledger(winner_payment.payment_id)[-1] == (TransactionKind.DISPUTE_REVERSAL, 2000)
    assert _summary_total(merchant.merchant_id, "dispute_won") == 2000
    assert services.disputes_sweep(now=later(minutes=3)).checked == 0  # closed: out of the due index


def test_a_dispute_past_its_deadline_without_evidence_is_lost(dynamodb_backend):
    merchant = make_merchant()
    _, dispute = open_dispute(merchant.merchant_id)
    services.dispute_evidence_update(
        merchant_id=merchant.merchant_id, dispute_id=dispute.dispute_id, actor=TEST_ACTOR, text="a draft only"
    )
    assert services.disputes_sweep(now=later(days=6)).checked == 0

    report = services.disputes_sweep(now=later(days=7, minutes=1))

    assert (report.checked, report.lost) == (1, 1)
    assert selectors.dispute_get(merchant_id=merchant.merchant_id, dispute_id=dispute.dispute_id).status == "lost"
    with pytest.raises(InvalidDisputeState):
        services.dispute_accept(merchant_id=merchant.merchant_id, dispute_id=dispute.dispute_id, actor=TEST_ACTOR)


def test_evidence_after_the_deadline_is_refused(dynamodb_backend):
    merchant = make_merchant()
    _, dispute = open_dispute(merchant.merchant_id)

    with pytest.raises(InvalidDisputeState):
        services.dispute_evidence_update(
            merchant_id=merchant.merchant_id,
            dispute_id=dispute.dispute_id,
            actor=TEST_ACTOR,
            text="late",
            submit=True,
            now=later(days=8),
        )


def test_accepting_closes_the_dispute_as_accepted_and_credits_nothing(settings, dynamodb_backend):
    merchant = make_merchant()
    merchant_webhook_url_set(merchant_id=merchant.merchant_id, url="https://hooks.example.com/in", actor=TEST_ACTOR)
    payment, dispute = open_dispute(merchant.merchant_id)

    accepted = services.dispute_accept(
        merchant_id=merchant.merchant_id, dispute_id=dispute.dispute_id, actor=TEST_ACTOR
    )

    assert accepted.status == DisputeStatus.ACCEPTED
    assert TransactionKind.DISPUTE_REVERSAL not in [kind for kind, _ in _ledger(payment.payment_id)]
    types = sorted(
        d.event_type for d in WebhookDelivery.query(merchant.merchant_id) if d.entity_id == dispute.dispute_id
    )
    assert types == ["dispute.closed", "dispute.created"]
    with pytest.raises(PaymentDisputed):  # given up: the money went back through the dispute
        payments.refund_create(merchant_id=merchant.merchant_id, payment_id=payment.payment_id, actor=TEST_ACTOR)


def test_another_merchants_dispute_is_not_found(dynamodb_backend):
    merchant, other = make_merchant(), make_merchant()
    _, dispute = open_dispute(merchant.merchant_id)

    with pytest.raises(DisputeNotFound):
        selectors.dispute_get(merchant_id=other.merchant_id, dispute_id=dispute.dispute_id)
    with pytest.raises(DisputeNotFound):
        services.dispute_accept(merchant_id=other.merchant_id, dispute_id=dispute.dispute_id, actor=TEST_ACTOR)
    assert selectors.dispute_list_for_merchant(merchant_id=other.merchant_id, payment_id=dispute.payment_id).items == []


def test_lists_filter_by_status_and_payment_and_page_through_every_dispute(dynamodb_backend):
    merchant = make_merchant()
    opened = [open_dispute(merchant.merchant_id)[1] for _ in range(5)]
    services.dispute_accept(merchant_id=merchant.merchant_id, dispute_id=opened[1].dispute_id, actor=TEST_ACTOR)

    seen, cursor = [], None
    while True:
        page = selectors.dispute_list_for_merchant(merchant_id=merchant.merchant_id, limit=2, starting_after=cursor)
        seen += [d.dispute_id for d in page.items]
        if not page.has_more:
            break
        cursor = page.next_cursor

    assert seen == sorted((d.dispute_id for d in opened), reverse=True)
    accepted = selectors.dispute_list_for_merchant(merchant_id=merchant.merchant_id, status="accepted").items
    assert [d.dispute_id for d in accepted] == [opened[1].dispute_id]
    by_payment = selectors.dispute_list_for_merchant(merchant_id=merchant.merchant_id, payment_id=opened[3].payment_id)
    assert [d.dispute_id for d in by_payment.items] == [opened[3].dispute_id]
    counts = {c.status: c.count for c in selectors.dispute_counts(merchant_id=merchant.merchant_id)}
    assert counts == {"needs_response": 4, "under_review": 0, "won": 0, "lost": 0, "accepted": 1}


def test_a_card_that_is_not_the_dispute_card_but_ends_alike_opens_nothing(dynamodb_backend):
    merchant = make_merchant()

    payment = make_payment(merchant.merchant_id, card=card("4242424242081976"))

    assert payment.card.last4 == "1976"
    assert selectors.dispute_list_for_merchant(merchant_id=merchant.merchant_id).items == []


def test_the_sweep_command_decides_what_is_due(dynamodb_backend):
    merchant = make_merchant()
    _, dispute = open_dispute(merchant.merchant_id)
    services.dispute_evidence_update(
        merchant_id=merchant.merchant_id,
        dispute_id=dispute.dispute_id,
        actor=TEST_ACTOR,
        text="nothing convincing",
        submit=True,
        now=later(minutes=-2),
    )
    out = io.StringIO()

    call_command("disputes", "sweep", stdout=out)

    assert "1 due dispute(s): 0 won, 1 lost" in out.getvalue()
    assert selectors.dispute_get(merchant_id=merchant.merchant_id, dispute_id=dispute.dispute_id).status == "lost"
