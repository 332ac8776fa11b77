"""The payment processor interface and the built-in `sandbox` processor.

Every authorization carries a `reference` that names the request at the processor. Like a real
processor's idempotency key, the same reference within 24 hours is the same request: the processor
answers it with its first decision and never charges again. The reference is a random id written
with the request's Idempotency-Key claim (`idempotency.services`), so a client's retry after a crash
or a lost answer, which takes that claim over, reaches the processor as the request it already
decided, while a new request, even with a key reused after its record expired, never does.
`reference_for` derives one for records claimed before references were stored, and for payments
created without a key.

`lookup(reference)` asks the processor what it decided for a reference: the recovery of payments
left `processing` by a timeout uses it, never `authorize`. `void(reference)` undoes an approval
Paysite could not record (see `payments.services.create`).

The sandbox answers by test card number, like Stripe's test cards: 4000000000000002 declines
(`card_declined`), 4000000000009995 declines (`insufficient_funds`), 4000000000000119 is a processor
error (nothing charged). Two cards time out after `SANDBOX_TIMEOUT_SECONDS`: 4000000000000259 is
approved by the processor but its answer is lost; 4000000000000317 never reaches it. Any other valid
number is approved.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from payments.errors import ProcessorError
from sandbox.models import SandboxAuthorization

DECLINES = {"4000000000000002": "card_declined", "4000000000009995": "insufficient_funds"}
ERROR_CARD = "4000000000000119"
TIMEOUT_CARD = "4000000000000259"  # approved at the processor, the answer lost on the way back
TIMEOUT_UNRECEIVED_CARD = "4000000000000317"  # the request never reached the processor
TIMEOUT_CARDS = (TIMEOUT_CARD, TIMEOUT_UNRECEIVED_CARD)
REFERENCE_WINDOW = timedelta(hours=24)


class ProcessorTimeout(ProcessorError):
    status = 504
    code = "processor_timeout"
    title = "The payment processor did not answer in time"


@dataclass(frozen=True)
class Authorization:
    approved: bool
    decline_code: str | None = None
    voided: bool = False  # approved, then voided (`void`): nothing is charged under the reference


def reference_for(request: str) -> str:
    """The derived processor reference of a request: the key of an idempotency record claimed before
    records carried a random reference (for those only), or a payment id when there is no key.
    Stable for the same request, and no way back to the key it came from."""
    digest = hmac.new(settings.FINGERPRINT_KEY.encode(), f"processor-reference:{request}".encode(), hashlib.sha256)
    return "ref_" + digest.hexdigest()[:32]


def authorize(*, number: str, amount: int, currency: str, reference: str) -> Authorization:
    """Authorize `amount`; raises `ProcessorError` (nothing charged) or `ProcessorTimeout` (unknown)."""
    if number == ERROR_CARD:
        raise ProcessorError("The processor could not handle the request; nothing was charged.")
    if number in TIMEOUT_CARDS:
        decided = lookup(reference=reference)
        if decided is not None:  # the same request again: its first answer, no second charge
            return decided
        if number == TIMEOUT_CARD:
            with _unavailable_when_its_storage_fails():
                _remember(
                    reference=reference, authorization=Authorization(approved=True), amount=amount, currency=currency
                )
        time.sleep(getattr(settings, "SANDBOX_TIMEOUT_SECONDS", 0))
        raise ProcessorTimeout("The processor did not answer in time.")
    decline = DECLINES.get(number)
    return Authorization(approved=decline is None, decline_code=decline)


def void(*, reference: str, amount: int, currency: str) -> None:
    """Void what the processor approved under `reference`: an uncaptured authorization is released,
    and a charge captured with it (not yet settled) is reversed in full, so nothing is charged under
    the reference. Afterwards `lookup` answers it `voided`. Raises `ProcessorError` when the processor
    cannot be reached (nothing was voided). The sandbox keeps no memory of ordinary approvals, so it
    records the voided approval from the caller's amount and currency."""
    now = timezone.now()
    with _unavailable_when_its_storage_fails():
        SandboxAuthorization.objects.update_or_create(
            reference=reference,
            defaults={"voided_at": now},
            create_defaults={
                "approved": True,
                "amount": amount,
                "currency": currency,
                "created": now,
                "voided_at": now,
            },
        )


def lookup(*, reference: str) -> Authorization | None:
    """What the processor decided for `reference` in the last 24 hours; None when it never received
    it (so nothing was charged). Raises `ProcessorError` when the processor cannot be asked."""
    with _unavailable_when_its_storage_fails():
        found = SandboxAuthorization.objects.filter(
            reference=reference, created__gte=timezone.now() - REFERENCE_WINDOW
        ).first()
    if found is None:
        return None
    return Authorization(
        approved=found.approved, decline_code=found.decline_code or None, voided=found.voided_at is not None
    )


@contextmanager
def _unavailable_when_its_storage_fails() -> Iterator[None]:
    """The sandbox's memory is the processor: when it cannot be read or written, the processor is
    unavailable (and, having recorded nothing, has charged nothing)."""
    try:
        yield
    except DatabaseError as error:
        raise ProcessorError("The processor is unavailable; nothing was charged.") from error


def _remember(*, reference: str, authorization: Authorization, amount: int, currency: str) -> None:
    SandboxAuthorization.objects.update_or_create(
        reference=reference,
        defaults={
            "approved": authorization.approved,
            "decline_code": authorization.decline_code or "",
            "amount": amount,
            "currency": currency,
            "created": timezone.now(),
        },
    )
