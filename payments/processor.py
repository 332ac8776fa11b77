"""The payment processor interface and the built-in `sandbox` processor.

The sandbox answers by test card number, like Stripe's test cards: 4000000000000002 declines
(`card_declined`), 4000000000009995 declines (`insufficient_funds`), 4000000000000119 is a processor
error, 4000000000000259 waits `SANDBOX_TIMEOUT_SECONDS` and then times out; any other valid number
is approved.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings

from paysite.errors import ProcessorError

DECLINES = {"4000000000000002": "card_declined", "4000000000009995": "insufficient_funds"}
ERROR_CARD = "4000000000000119"
TIMEOUT_CARD = "4000000000000259"


class ProcessorTimeout(ProcessorError):
    status = 504
    code = "processor_timeout"
    title = "The payment processor did not answer in time"


@dataclass(frozen=True)
class Authorization:
    approved: bool
    decline_code: str | None = None


def authorize(*, number: str, amount: int, currency: str) -> Authorization:
    if number == ERROR_CARD:
        raise ProcessorError("The processor could not handle the request; nothing was charged.")
    if number == TIMEOUT_CARD:
        time.sleep(getattr(settings, "SANDBOX_TIMEOUT_SECONDS", 0))
        raise ProcessorTimeout("The processor did not answer in time.")
    decline = DECLINES.get(number)
    return Authorization(approved=decline is None, decline_code=decline)
