"""Idempotency claims: every claim writes a random reference with its conditional Put; a retry that
takes an abandoned claim over keeps it, and a key claimed again after its record expired never does."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from pynamodb.transactions import TransactWrite

from core import dynamodb
from idempotency import services as idempotency
from idempotency.models import IdempotencyRecord

ENDPOINT = "POST /payments"


def _claim(key: str = "k", *, merchant_id: str = "mer_1", fingerprint: str = "f", now: datetime | None = None):
    return idempotency.idempotency_claim(
        merchant_id=merchant_id, endpoint=ENDPOINT, key=key, fingerprint=fingerprint, now=now
    )


def _record(claim: idempotency.Claim) -> IdempotencyRecord:
    return IdempotencyRecord.get(claim.record_key, consistent_read=True)


def _complete(claim: idempotency.Claim) -> None:
    with TransactWrite(connection=dynamodb.connection()) as transaction:
        idempotency.idempotency_complete_in(transaction, claim=claim, status=201, body="{}")


@pytest.mark.engine
def test_every_claim_writes_its_own_random_reference(dynamodb_backend):
    claims = [_claim(key) for key in ("a", "b", "c")] + [_claim("a", merchant_id="mer_2")]

    references = [claim.reference for claim in claims]

    assert len(set(references)) == len(claims)
    assert all(re.fullmatch(r"ref_[0-9a-f]{32}", reference) for reference in references)
    assert [_record(claim).reference for claim in claims] == references
    assert not any(claim.resumed for claim in claims)


@pytest.mark.engine
@pytest.mark.parametrize("completed", [False, True], ids=["abandoned", "completed"])
def test_a_key_claimed_again_after_its_record_expired_gets_a_new_reference(dynamodb_backend, completed):
    first = _claim()
    if completed:
        _complete(first)
    # Past its TTL (the engine's TTL sweep may delete it any time from now: absent is the same).
    _record(first).update(actions=[IdempotencyRecord.expires_at.set(datetime.now(UTC) - timedelta(seconds=1))])

    again = _claim()

    assert isinstance(again, idempotency.Claim) and not again.resumed
    assert again.reference != first.reference and _record(again).reference == again.reference


@pytest.mark.engine
def test_taking_over_an_abandoned_claim_keeps_its_reference_and_lifetime(dynamodb_backend, settings):
    first = _claim(now=datetime.now(UTC) - timedelta(seconds=settings.IDEMPOTENCY_LOCK_SECONDS + 5))
    before = _record(first)

    again = _claim()

    assert isinstance(again, idempotency.Claim) and again.resumed
    assert again.reference == first.reference and again.token != first.token
    after = _record(again)
    assert (after.reference, after.created, after.expires_at) == (before.reference, before.created, before.expires_at)
    assert after.lock_token == again.token


@pytest.mark.engine
def test_an_unlocked_claim_is_taken_over_at_once_and_a_held_one_is_not(dynamodb_backend):
    first = _claim()
    with pytest.raises(idempotency.IdempotencyKeyInUse):
        _claim()

    idempotency.idempotency_unlock(claim=first)
    again = _claim()

    assert again.resumed and again.reference == first.reference


@pytest.mark.engine
def test_an_abandoned_claim_is_not_taken_over_by_another_request(dynamodb_backend, settings):
    _claim(now=datetime.now(UTC) - timedelta(seconds=settings.IDEMPOTENCY_LOCK_SECONDS + 5))

    with pytest.raises(idempotency.IdempotencyKeyReused):
        _claim(fingerprint="another body")


@pytest.mark.engine
def test_a_renewed_reference_replaces_the_claims_own(dynamodb_backend):
    claim = _claim()

    renewed = idempotency.idempotency_reference_renew(claim=claim)

    assert renewed.reference != claim.reference and _record(claim).reference == renewed.reference


@pytest.mark.pure
@pytest.mark.parametrize("key", ["abc\n", "abc\r\n", "\nabc", "abc\x00", "x" * 256, ""])
def test_a_key_is_checked_whole(key):
    with pytest.raises((idempotency.IdempotencyKeyInvalid, idempotency.IdempotencyKeyMissing)):
        idempotency.idempotency_key_check(key=key)


@pytest.mark.pure
@pytest.mark.parametrize("key", ["a", " ~", "k" * 255])
def test_a_key_of_1_to_255_printable_ascii_characters_is_accepted(key):
    assert idempotency.idempotency_key_check(key=key) == key
