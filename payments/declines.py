"""What a payment's failure code means, in words: the one mapping the pages use. The API and webhooks
keep the codes themselves (`failure_code`, a ledger entry's `reason`); pages show these instead."""

from __future__ import annotations

from dataclasses import dataclass

from payments.enums import NEVER_RECEIVED


@dataclass(frozen=True)
class Decline:
    label: str  # a few words: a tag, a timeline entry
    sentence: str  # what happened and what the merchant can do about it


DECLINES: dict[str, Decline] = {
    "card_declined": Decline(
        "Declined by the card issuer",
        "The customer's bank declined the payment without giving a reason. "
        "The customer can try another card or ask their bank.",
    ),
    "insufficient_funds": Decline(
        "Insufficient funds",
        "The card did not have enough funds or credit for this amount. The customer can use another card.",
    ),
    "expired_card": Decline("Card expired", "The card has expired. The customer needs to use another card."),
    "incorrect_cvc": Decline("Wrong security code", "The card's security code (CVC) was wrong."),
    "lost_card": Decline("Card reported lost", "The card was reported lost. Do not retry with this card."),
    "stolen_card": Decline("Card reported stolen", "The card was reported stolen. Do not retry with this card."),
    "fraudulent": Decline(
        "Suspected fraud", "The issuer declined the payment as suspected fraud. Do not retry with this card."
    ),
    "processing_error": Decline(
        "Processing error", "An error occurred while the card was being processed. The payment can be tried again."
    ),
    NEVER_RECEIVED: Decline(
        "Never reached the processor",
        "The payment never reached the processor (its answer timed out), so nothing was charged. "
        "It can be tried again.",
    ),
}


def decline_for(code: str | None) -> Decline | None:
    """The words for a failure code; an unknown code still reads as a sentence, naming it."""
    if not code:
        return None
    found = DECLINES.get(code)
    if found is not None:
        return found
    words = code.replace("_", " ")
    return Decline(words.capitalize(), f"The payment was declined ({words}). Nothing was charged.")


def decline_labels() -> dict[str, str]:
    """Code -> label, for ledger entries whose reason is a decline code."""
    return {code: decline.label for code, decline in DECLINES.items()}
