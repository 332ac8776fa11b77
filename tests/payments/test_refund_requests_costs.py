"""The declared write path of refund requests (`costs.write_path`) is what the services write."""

from __future__ import annotations

import pytest

from core import dynamodb
from costs import write_path
from costs.observed import observed_writes
from costs.write_path import signature_of
from payments.services.refund_approval import refund_approval_settings_set
from payments.services.refund_requests import (
    refund_request_approve,
    refund_request_create,
    refund_request_reject,
)
from tests.costs.capture import dynamodb_calls, stored_items
from tests.factories import TEST_ACTOR, make_payment
from tests.payments.test_refund_requests import APPROVER, REQUESTER


def _observed(calls) -> list:
    transaction = calls.transaction()
    return observed_writes(
        transaction.params["TransactItems"], prefix=dynamodb.table_name(""), stored=stored_items(transaction)
    )


@pytest.mark.engine
def test_refund_requests_write_what_the_write_path_declares(merchant, dynamodb_backend):
    refund_approval_settings_set(
        merchant_id=merchant.merchant_id, actor=TEST_ACTOR, thresholds={"usd": 5000}, api_refunds_need_approval=False
    )
    payment = make_payment(merchant.merchant_id, amount=10000)

    with dynamodb_calls() as create_calls:
        first = refund_request_create(
            merchant_id=merchant.merchant_id, payment_id=payment.payment_id, actor=REQUESTER, amount=6000
        )
    second = refund_request_create(
        merchant_id=merchant.merchant_id, payment_id=payment.payment_id, actor=REQUESTER, amount=4000
    )
    with dynamodb_calls() as approve_calls:
        refund_request_approve(merchant_id=merchant.merchant_id, request_id=first.request_id, actor=APPROVER)
    with dynamodb_calls() as reject_calls:
        refund_request_reject(
            merchant_id=merchant.merchant_id, request_id=second.request_id, actor=APPROVER, reason="duplicate"
        )

    assert signature_of(_observed(create_calls)) == write_path.REFUND_REQUEST_CREATE.signature()
    assert signature_of(_observed(approve_calls)) == write_path.REFUND_REQUEST_APPROVE.signature()
    assert signature_of(_observed(reject_calls)) == write_path.REFUND_REQUEST_REJECT.signature()
