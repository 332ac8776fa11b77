"""Card checks. The full number and CVC pass through here and go nowhere else: a payment keeps the
brand, last4, expiry and a keyed HMAC fingerprint (PCI DSS 3.3.1, 3.5.1.1)."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings

from core.errors import ValidationFailed

_BRANDS: list[tuple[str, tuple[tuple[int, int], ...]]] = [
    ("amex", ((34, 34), (37, 37))),
    ("diners", ((300, 305), (36, 36), (38, 39))),
    ("jcb", ((3528, 3589),)),
    ("mastercard", ((51, 55), (2221, 2720))),
    ("discover", ((6011, 6011), (644, 649), (65, 65))),
    ("unionpay", ((62, 62),)),
    ("visa", ((4, 4),)),
]


@dataclass(frozen=True)
class CardInput:
    number: str = field(repr=False)
    exp_month: int
    exp_year: int
    cvc: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class CardFacts:
    """What may be stored and shown."""

    brand: str
    last4: str
    exp_month: int
    exp_year: int
    fingerprint: str


def luhn_valid(number: str) -> bool:
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def card_brand(number: str) -> str:
    for brand, ranges in _BRANDS:
        for low, high in ranges:
            width = len(str(low))
            if number[:width].isdigit() and low <= int(number[:width]) <= high:
                return brand
    return "unknown"


def card_fingerprint(number: str) -> str:
    return hmac.new(settings.FINGERPRINT_KEY.encode(), number.encode(), hashlib.sha256).hexdigest()[:32]


def normalise_number(number: str) -> str:
    return "".join(number.split()).replace("-", "")


def card_check(card: CardInput, *, today: date) -> CardFacts:
    """Validate a card and return only what may be kept. Raises `ValidationFailed` with the code of
    the first problem."""
    number = normalise_number(card.number)
    if not luhn_valid(number):
        raise ValidationFailed("The card number is not valid.", param="card.number", code="invalid_card_number")
    if not 1 <= card.exp_month <= 12:
        raise ValidationFailed("The expiry month must be 1 to 12.", param="card.exp_month", code="invalid_expiry_month")
    if not 2000 <= card.exp_year <= 2100:
        raise ValidationFailed("The expiry year is not valid.", param="card.exp_year", code="invalid_expiry_year")
    if (card.exp_year, card.exp_month) < (today.year, today.month):
        raise ValidationFailed("The card has expired.", param="card.exp_year", code="expired_card")
    brand = card_brand(number)
    if card.cvc is not None:
        expected = 4 if brand == "amex" else 3
        if not (card.cvc.isdigit() and len(card.cvc) in {3, expected}):
            raise ValidationFailed("The CVC is not valid.", param="card.cvc", code="invalid_cvc")
    return CardFacts(
        brand=brand,
        last4=number[-4:],
        exp_month=card.exp_month,
        exp_year=card.exp_year,
        fingerprint=card_fingerprint(number),
    )


# --- finding card numbers where none may be (API free-text fields, the compliance scan) ---------

# Digit runs of 13 to 19 digits, single spaces or dashes allowed between digits ("4242 4242 ...").
_PAN_RUN = re.compile(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)")
# The scan of stored items also refuses a run glued to letters (hex digests, ULIDs are not PANs).
_PAN_RUN_WORD = re.compile(r"(?<![0-9A-Za-z])\d(?:[ -]?\d){12,18}(?![0-9A-Za-z])")


def pan_find(text: str, *, stored: bool = False) -> str | None:
    """The first Luhn-valid 13-19 digit number in `text`, masked to its last 4 (never the number
    itself), or None. `stored=True` (scanning stored items) also wants a run that is not part of a
    word and starts like a card brand, so hashes and timestamps are not taken for card numbers."""
    if not isinstance(text, str) or len(text) < 13:
        return None
    for match in (_PAN_RUN_WORD if stored else _PAN_RUN).finditer(text):
        digits = re.sub(r"[ -]", "", match.group())
        if 13 <= len(digits) <= 19 and luhn_valid(digits) and (not stored or card_brand(digits) != "unknown"):
            return f"…{digits[-4:]} ({len(digits)} digits)"
    return None


def pan_check_text(value: str | None, *, param: str) -> None:
    """Free-text fields never carry a card number: 422 `pan_in_field` (PCI DSS 3.3.1)."""
    if value and pan_find(value) is not None:
        raise ValidationFailed(
            "This field looks like it contains a card number; card numbers may only be sent in `card.number`.",
            param=param,
            code="pan_in_field",
        )
