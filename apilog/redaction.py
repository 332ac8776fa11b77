"""What of a request or response body may be kept in the request log.

A JSON body is parsed and every value under a sensitive name is replaced by `REDACTED`, whatever it
holds (a card's number and CVC, secrets and passwords, a customer's email, name and phone); every
string left is then searched for card numbers, e-mail addresses and API secrets, which are cut out
too (a merchant can put a card number in `metadata` or `description`). Any other text gets the same
search; a multipart upload (a settlement file) is not kept at all, only its size. The result is cut
to `MAX_BODY_BYTES` of UTF-8, and the item says it was cut."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode

from core.cards import luhn_valid

REDACTED = "[redacted]"
MAX_BODY_BYTES = 16 * 1024

# Whole names (case-insensitive, "-" read as "_"): card data, secrets, and a person's contact data.
SENSITIVE_NAMES = frozenset(
    {
        "number",
        "card_number",
        "pan",
        "cvc",
        "cvc2",
        "cvv",
        "cvv2",
        "cid",
        "csc",
        "security_code",
        "secret",
        "previous_secret",
        "signing_secret",
        "client_secret",
        "password",
        "token",
        "access_token",
        "refresh_token",
        "api_key",
        "authorization",
        "email",
        "name",
        "first_name",
        "last_name",
        "full_name",
        "phone",
        "phone_number",
    }
)

_DIGIT_RUN = re.compile(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)")
_EMAIL = re.compile(r"[^\s@\"'<>,;:()\[\]]+@[^\s@\"'<>,;:()\[\]]+\.[A-Za-z]{2,}")
_SECRET = re.compile(r"\b(?:sk|rk|whsec)_[A-Za-z0-9_]{8,}")


def scrub_text(text: str) -> str:
    """`text` without card numbers (Luhn-valid runs of 13-19 digits), e-mail addresses and secrets."""

    def card(match: re.Match[str]) -> str:
        digits = re.sub(r"[ -]", "", match.group())
        return REDACTED if 13 <= len(digits) <= 19 and luhn_valid(digits) else match.group()

    text = _DIGIT_RUN.sub(card, text) if len(text) >= 13 else text
    if "@" in text:
        text = _EMAIL.sub(REDACTED, text)
    if "_" in text:
        text = _SECRET.sub(REDACTED, text)
    return text


# The CVC-like names the compliance scan looks for, whatever their spelling.
_CVC_NAME = re.compile(r"cvc2?|cvv2?|cid|csc|card_?verification(_?(code|value))?|security_?code", re.IGNORECASE)


def _sensitive(name: Any) -> bool:
    name = str(name).strip().lower().replace("-", "_")
    return name in SENSITIVE_NAMES or bool(_CVC_NAME.fullmatch(name))


def redact_value(value: Any) -> Any:
    """A parsed JSON value with every sensitive field replaced and every string scrubbed."""
    if isinstance(value, dict):
        return {
            key: (REDACTED if _sensitive(key) and item is not None else redact_value(item))
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact_value(item) for item in value]
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        scrubbed = scrub_text(str(value))
        return value if scrubbed == str(value) else REDACTED
    return value


def _redacted_pieces(value: Any, depth: int = 0) -> Iterator[str]:
    """`json.dumps(redact_value(value), ensure_ascii=False, separators=(",", ":"))` in pieces, so that
    a large body is redacted only as far as the log keeps it: the two outer levels (an answer and
    its `data` list) item by item, each item below them whole."""
    if depth < 2 and isinstance(value, dict):
        yield "{"
        for number, (key, item) in enumerate(value.items()):
            yield ("," if number else "") + _dumps(str(key)) + ":"
            if _sensitive(key) and item is not None:
                yield _dumps(REDACTED)
            else:
                yield from _redacted_pieces(item, depth + 1)
        yield "}"
    elif depth < 2 and isinstance(value, list):
        yield "["
        for number, item in enumerate(value):
            if number:
                yield ","
            yield from _redacted_pieces(item, depth + 1)
        yield "]"
    else:
        yield _dumps(redact_value(value))


_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _redacted_json(value: Any) -> tuple[str, bool]:
    """The redacted JSON of a parsed body cut to `MAX_BODY_BYTES` (`_truncate`), and whether it was
    cut. A list page of 100 payments is about 55 KB: only its first 16 KB are redacted and encoded."""
    pieces: list[str] = []
    size = 0
    for piece in _redacted_pieces(value):
        pieces.append(piece)
        size += len(piece.encode())
        if size > MAX_BODY_BYTES:
            break
    return _truncate("".join(pieces))


def _truncate(text: str) -> tuple[str, bool]:
    raw = text.encode()
    if len(raw) <= MAX_BODY_BYTES:
        return text, False
    return raw[:MAX_BODY_BYTES].decode(errors="ignore"), True


def body_for_log(raw: bytes, content_type: str) -> tuple[str | None, bool]:
    """(the text to keep, whether it was cut) for a body of `content_type`; None when it was empty."""
    if not raw:
        return None, False
    kind = content_type.split(";", 1)[0].strip().lower()
    text = raw.decode(errors="replace")
    if kind == "application/x-www-form-urlencoded":
        fields: dict[str, Any] = {}
        for name, value in parse_qsl(text, keep_blank_values=True):
            fields.setdefault(name, []).append(value)
        return _redacted_json(fields)
    if not (kind in ("", "text/plain", "text/csv") or "json" in kind):
        return f"[{kind or 'binary'} body, {len(raw)} bytes, not kept]", False
    try:
        parsed = json.loads(text)
    except ValueError:
        return _truncate(scrub_text(text))
    return _redacted_json(parsed)


def query_for_log(query: str) -> str | None:
    """A query string with sensitive parameters (`email=` on the customer list) and scrubbed values."""
    if not query:
        return None
    pairs = [
        (name, REDACTED if _sensitive(name) else scrub_text(value))
        for name, value in parse_qsl(query, keep_blank_values=True)
    ]
    return _truncate(urlencode(pairs, safe="[]"))[0]
