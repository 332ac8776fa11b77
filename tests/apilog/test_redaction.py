"""What of a body may be kept: sensitive fields by name, card numbers, e-mail addresses and secrets
anywhere in text, uploads by size only, and at most 16 KB."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apilog.redaction import MAX_BODY_BYTES, REDACTED, body_for_log, query_for_log, redact_value, scrub_text

pytestmark = pytest.mark.pure

JSON = "application/json"


def _kept(value, content_type=JSON):
    text, cut = body_for_log(json.dumps(value).encode(), content_type)
    return json.loads(text), cut


@pytest.mark.parametrize(
    "name",
    [
        "number",
        "cvc",
        "CVV2",
        "card_verification_code",
        "security-code",
        "secret",
        "password",
        "email",
        "Name",
        "phone",
    ],
)
def test_a_sensitive_field_is_replaced_whatever_it_holds(name):
    kept, cut = _kept({"outer": [{name: {"anything": 1}}], "amount": 2500})

    assert kept == {"outer": [{name: REDACTED}], "amount": 2500} and cut is False


@pytest.mark.parametrize(
    "text",
    [
        "4242424242424242",
        "4242 4242 4242 4242",
        "4242-4242-4242-4242",
        "４２４２４２４２４２４２４２４２",
        "378282246310005",
    ],
)
def test_a_card_number_in_free_text_is_cut_out_in_any_digits(text):
    assert scrub_text(f"paid with {text} today") == f"paid with {REDACTED} today"


def test_other_numbers_emails_and_secrets():
    assert scrub_text("order 4242424242424241 of 2026") == "order 4242424242424241 of 2026"  # not Luhn-valid
    assert scrub_text("mail ada@example.com now") == f"mail {REDACTED} now"
    assert scrub_text("key sk_test_abcdefgh1234 and whsec_ABCDEFGH123") == f"key {REDACTED} and {REDACTED}"
    kept, _ = _kept({"metadata": {"n": 4242424242424242}})
    assert kept == {"metadata": {"n": REDACTED}}


def test_forms_queries_text_and_uploads():
    form, _ = body_for_log(b"email=ada%40example.com&amount=5", "application/x-www-form-urlencoded")
    assert json.loads(form) == {"email": REDACTED, "amount": ["5"]}
    assert query_for_log("email=ada%40example.com&limit=5") == "email=[redacted]&limit=5"
    assert query_for_log("") is None
    assert body_for_log(b"not json 4242424242424242", "text/plain") == (f"not json {REDACTED}", False)
    assert body_for_log(b"\x89PNG", "image/png") == ("[image/png body, 4 bytes, not kept]", False)
    assert body_for_log(b"", JSON) == (None, False)


def test_a_long_body_is_cut_to_16_kb_after_redaction():
    value = {"note": "é" * MAX_BODY_BYTES, "card": {"number": "4242424242424242"}}

    text, cut = body_for_log(json.dumps(value).encode(), JSON)

    assert cut is True and len(text.encode()) <= MAX_BODY_BYTES and len(text.encode()) > MAX_BODY_BYTES - 4
    assert "4242" not in text


def _whole_then_cut(value) -> tuple[str, bool]:
    """The kept text as it was first made: the whole body redacted and encoded, then cut."""
    text = json.dumps(redact_value(value), ensure_ascii=False, separators=(",", ":"))
    raw = text.encode()
    return (text, False) if len(raw) <= MAX_BODY_BYTES else (raw[:MAX_BODY_BYTES].decode(errors="ignore"), True)


_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=400)
_strings = st.sampled_from(["id", "email", "number", "description", "name", "metadata", "ünïcode"]) | st.text(
    max_size=8
)
_bodies = st.recursive(
    _scalars, lambda inner: st.lists(inner, max_size=40) | st.dictionaries(_strings, inner, max_size=12), max_leaves=400
)


@settings(max_examples=200, deadline=None)
@given(_bodies)
def test_a_body_is_kept_as_if_redacted_whole_and_then_cut(value):
    assert body_for_log(json.dumps(value).encode(), JSON) == _whole_then_cut(value)


def test_a_page_of_payments_is_redacted_only_as_far_as_it_is_kept():
    payment = {"id": "pay_1", "description": "4242 4242 4242 4242", "card": {"last4": "4242"}, "email": "a@b.co"}
    page = {"object": "list", "data": [dict(payment, n=n, note="x" * 500) for n in range(400)], "has_more": True}

    text, cut = body_for_log(json.dumps(page).encode(), JSON)

    assert (text, cut) == _whole_then_cut(page)
    assert cut is True and "4242 4242" not in text and "a@b.co" not in text
