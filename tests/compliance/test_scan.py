"""The stored-data scan finds card data in whatever digits it was written (compliance/scan.py)."""

from __future__ import annotations

import json

import pytest

from compliance.scan import ascii_digits, item_findings

pytestmark = pytest.mark.pure

VISA = "4242 4242 4242 4242"
FULL_WIDTH = VISA.translate({ord(d): ord(d) - ord("0") + 0xFF10 for d in "0123456789"})  # "４２４２ ４２４２ ..."
ARABIC_INDIC = VISA.translate({ord(d): ord(d) - ord("0") + 0x0660 for d in "0123456789"})  # "٤٢٤٢ ..."


def _findings(item: dict) -> list[tuple[str, str]]:
    return list(item_findings(item))


@pytest.mark.parametrize("written", [VISA, FULL_WIDTH, ARABIC_INDIC], ids=["ascii", "full-width", "arabic-indic"])
@pytest.mark.parametrize("where", ["text", "json"])
def test_a_stored_card_number_is_found_in_any_digits(written, where):
    note = f"customer said {written}"
    value = {"S": note} if where == "text" else {"S": json.dumps({"note": note}, ensure_ascii=False)}

    findings = _findings({"payment_id": {"S": "pay_1"}, "metadata": value})

    assert findings == [("metadata" if where == "text" else "metadata.note", "card number …4242 (16 digits)")]


@pytest.mark.parametrize(
    ("name", "value", "found"),
    [
        ("cvc", "123", True),
        ("cvv2", "１２３４", True),  # full-width digits: still a CVC
        ("CVC", " 123\n", True),
        ("cvc", "12345", False),
        ("cvc", "12a", False),
        ("cvc_hint", "123", False),  # the whole name, not a prefix of it
        ("security_code\n", "123", True),
    ],
)
def test_cvc_like_attributes(name, value, found):
    findings = _findings({"card": {"M": {name: {"S": value}}}})

    assert (("card." + name, "CVC-like attribute") in findings) is found


def test_numbers_that_are_not_card_numbers_are_not_found():
    text = "order ４２４２ ４２４２ ４２４２ ４２４１, hash 4242424242424242ab, id 20261129123456789"

    assert _findings({"note": {"S": text}}) == []


def test_ascii_digits_keeps_everything_else():
    assert ascii_digits("Zahl ٤٢ und ４２ und 42 und Ⅳ") == "Zahl 42 und 42 und 42 und Ⅳ"
