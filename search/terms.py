"""What goes into the index and what a query looks for: the one normaliser both sides share.

Tokens are lowercase ASCII letters and digits only (accents folded, everything else splits), so the
SQLite FTS5 tokenizer and PostgreSQL's `simple` configuration read them identically.

- Ids are kept whole without the underscore (`pay_01JD...` -> `pay01jd...`) and as their ULID body,
  so a partial id with or without its prefix matches as a prefix.
- Descriptions (and an imported payment's external id) are kept as words; a query word matches one
  as a prefix.
- Amounts are kept as `m<major>` tokens (`12.50` -> `m12p50`, and `m12` for a whole amount); the
  card's last 4 digits and the brand as text.
- Email, name and phone are never kept in clear: each word of them (email local part and domain split
  on punctuation, phone as its digits) contributes keyed hashes of its prefixes of 2 to
  `MAX_PREFIX` characters. The key is derived from `FINGERPRINT_KEY` and the merchant id, so the same
  email gives unrelated tokens at two merchants and nobody without the key can test a guess."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from core import crypto
from core.money import CURRENCIES

MIN_PREFIX, MAX_PREFIX = 2, 24
HASH_CHARS = 16  # 64 bits of the HMAC: collisions are negligible at one merchant's customers
_WORD = re.compile(r"[a-z0-9]+")
_ID = re.compile(r"([a-z]{2,4})_([0-9a-z]+)")  # fullmatch on a lowercased word
_AMOUNT = re.compile(r"([0-9]+)\.([0-9]{1,3})")  # fullmatch: "12.50", "12.5"
ID_PREFIXES = ("pay", "cus", "txn", "dp", "rr")


def words(text: str) -> list[str]:
    """Lowercase ASCII words of `text`: accents folded, every other character a separator."""
    folded = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode().lower()
    return _WORD.findall(folded)


def pii_hash(merchant_id: str, prefix: str) -> str:
    """The token for one normalised prefix of a customer's email, name or phone."""
    return "h" + crypto.keyed_hash(f"{merchant_id}:{prefix}", purpose="search")[:HASH_CHARS]


def _prefixes(word: str) -> list[str]:
    return [word[:n] for n in range(MIN_PREFIX, min(len(word), MAX_PREFIX) + 1)]


def pii_tokens(merchant_id: str, *, email: str = "", name: str = "", phone: str = "") -> list[str]:
    """Hashed prefixes of every word of the email, name and phone (digits only)."""
    found: list[str] = []
    digits = "".join(c for c in phone or "" if c.isdigit())
    # the phone as its groups and as one number, with or without a country code of 1 to 3 digits
    numbers = [digits[skip:] for skip in range(4) if len(digits) - skip >= 7]
    for word in [*words(email), *words(name), *words(phone), *numbers]:
        found.extend(_prefixes(word))
    return [pii_hash(merchant_id, prefix) for prefix in dict.fromkeys(found)]


def id_tokens(object_id: str | None) -> list[str]:
    match = _ID.fullmatch((object_id or "").lower())
    if not match:
        return []
    return [match.group(1) + match.group(2), match.group(2)]


def amount_tokens(amount: int | None, currency: str) -> list[str]:
    """`m12p50` for 12.50, plus `m12` when the amount is whole (JPY 5000 -> `m5000`)."""
    if amount is None:
        return []
    places = CURRENCIES.get(currency, 2)
    major = Decimal(int(amount)).scaleb(-places)
    whole, _, fraction = f"{major:f}".partition(".")
    out = [f"m{whole}p{fraction}"] if fraction else []
    if not fraction or not fraction.strip("0"):
        out.append(f"m{whole}")
    return out


def text_tokens(*texts: str | None) -> list[str]:
    return [word for text in texts for word in words(text or "")]


# --- queries ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    token: str
    prefix: bool  # match as a prefix of an indexed token, else exactly


Group = tuple[Term, ...]  # any of these terms; a query is every one of its groups


def query_groups(merchant_id: str, query: str) -> list[Group]:
    """The query as groups of alternatives, all of which must match. Empty when nothing searchable."""
    groups: list[Group] = []
    for raw in (query or "").split()[:8]:
        lowered = raw.lower()
        if _ID.fullmatch(lowered) and lowered.split("_", 1)[0] in ID_PREFIXES:
            groups.append((Term(lowered.replace("_", ""), True),))
            continue
        amount = _AMOUNT.fullmatch(lowered)
        if amount:
            whole, fraction = amount.group(1).lstrip("0") or "0", amount.group(2).ljust(2, "0")
            groups.append((Term(f"m{whole}p{fraction}", False),))
            continue
        for word in words(raw):
            alternatives = [Term(word, True)]
            if len(word) >= MIN_PREFIX:
                alternatives.append(Term(pii_hash(merchant_id, word[:MAX_PREFIX]), False))
            if word.isdigit():
                alternatives.append(Term(f"m{word.lstrip('0') or '0'}", False))
            groups.append(tuple(alternatives))
    return groups[:12]
