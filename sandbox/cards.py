"""Test cards whose effect comes after the payment: the sandbox processor acts on them later.

`4000000000001976` is approved and captured like any card; then the processor opens a dispute
(chargeback) on the payment, for its full amount, reason `fraudulent` (the disputes app does it,
by a task the capture queues). A payment keeps no card number, only its keyed fingerprint, so the
card is recognised by the fingerprint."""

from __future__ import annotations

import hmac

from core.cards import card_fingerprint

DISPUTE_CARD = "4000000000001976"


def card_opens_dispute(*, fingerprint: str | None) -> bool:
    """Whether the processor opens a dispute on a captured payment made with this card."""
    return bool(fingerprint) and hmac.compare_digest(str(fingerprint), card_fingerprint(DISPUTE_CARD))
