"""The declared write path of disputes (`costs.write_path.DISPUTE_*`) is what the services write:
an added item, table or index makes these fail, so the cost model stays true."""

from __future__ import annotations

import pytest

from core import dynamodb
from costs import write_path
from costs.observed import observed_writes
from costs.write_path import signature_of
from disputes import services
from tests.costs.capture import dynamodb_calls, stored_items
from tests.disputes.helpers import later
from tests.factories import TEST_ACTOR, make_merchant, make_payment

pytestmark = pytest.mark.engine


def _observed(calls) -> list:
    transaction = calls.transaction()
    return observed_writes(
        transaction.params["TransactItems"], prefix=dynamodb.table_name(""), stored=stored_items(transaction)
    )


def test_opening_submitting_and_winning_write_what_the_write_path_declares(settings, dynamodb_backend):
    settings.SANDBOX_DISPUTE_FEE = {"usd": 1500}
    merchant = make_merchant()
    payment = make_payment(merchant.merchant_id)

    with dynamodb_calls() as opening:
        dispute = services.dispute_open(
            merchant_id=merchant.merchant_id, payment_id=payment.payment_id, actor=TEST_ACTOR
        )
    with dynamodb_calls() as submitting:
        services.dispute_evidence_update(
            merchant_id=merchant.merchant_id,
            dispute_id=dispute.dispute_id,
            actor=TEST_ACTOR,
            text="winning_evidence",
            submit=True,
        )
    with dynamodb_calls() as winning:
        services.dispute_decide(merchant_id=merchant.merchant_id, dispute_id=dispute.dispute_id, now=later(minutes=2))

    assert signature_of(_observed(opening)) == write_path.DISPUTE_OPEN.signature()
    assert signature_of(_observed(submitting)) == write_path.DISPUTE_EVIDENCE_SUBMIT.signature()
    assert signature_of(_observed(winning)) == write_path.DISPUTE_WON.signature()
