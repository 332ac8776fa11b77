"""Amounts as merchants read them: `$1,234.56`, `€1.234,56`, `¥5,000`, `1 234,56 kr`.

One small table, currency -> how it is written (symbol and where it goes, decimal and group
separators); the exponent comes from `core.money.CURRENCIES`. Exact: Decimal from integer minor
units, never float. Symbols that several currencies share ($, kr) carry a prefix that tells them apart
where a merchant may hold both (CA$, SEK). Spaces are no-break spaces, so an amount never wraps."""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from core.money import CURRENCIES

NBSP = "\u00a0"


class Style(NamedTuple):
    pattern: str  # "{}" is the number: "${}", "{} kr"
    decimal: str
    group: str


_DOT = (".", ",")  # 1,234.56
_COMMA = (",", ".")  # 1.234,56
_SPACE = (",", NBSP)  # 1 234,56

STYLES: dict[str, Style] = {
    "usd": Style("${}", *_DOT),
    "eur": Style("€{}", *_COMMA),
    "gbp": Style("£{}", *_DOT),
    "cad": Style("CA${}", *_DOT),
    "aud": Style("A${}", *_DOT),
    "chf": Style(f"CHF{NBSP}{{}}", ".", "'"),
    "sek": Style(f"{{}}{NBSP}kr", *_SPACE),
    "nok": Style(f"{{}}{NBSP}kr", *_SPACE),
    "dkk": Style(f"{{}}{NBSP}kr.", *_COMMA),
    "nzd": Style("NZ${}", *_DOT),
    "sgd": Style("S${}", *_DOT),
    "hkd": Style("HK${}", *_DOT),
    "mxn": Style("MX${}", *_DOT),
    "brl": Style(f"R${NBSP}{{}}", *_COMMA),
    "inr": Style("₹{}", *_DOT),
    "pln": Style(f"{{}}{NBSP}zł", *_SPACE),
    "czk": Style(f"{{}}{NBSP}Kč", *_SPACE),
    "zar": Style(f"R{NBSP}{{}}", *_SPACE),
    "jpy": Style("¥{}", *_DOT),
    "krw": Style("₩{}", *_DOT),
    "clp": Style("CLP${}", *_COMMA),
    "vnd": Style(f"{{}}{NBSP}₫", *_COMMA),
    "isk": Style(f"{{}}{NBSP}ISK", *_COMMA),
    "bhd": Style(f"BHD{NBSP}{{}}", *_DOT),
    "kwd": Style(f"KWD{NBSP}{{}}", *_DOT),
    "jod": Style(f"JOD{NBSP}{{}}", *_DOT),
    "omr": Style(f"OMR{NBSP}{{}}", *_DOT),
    "tnd": Style(f"TND{NBSP}{{}}", *_DOT),
}


def _style(currency: str) -> Style:
    """A currency outside the table reads as its code: "1,234.56 XYZ"."""
    return STYLES.get(currency, Style(f"{{}}{NBSP}{currency.upper()}", *_DOT))


def _digits(value: Decimal, places: int, decimal: str, group: str) -> str:
    text = f"{abs(value):,.{places}f}"  # "1,234.56": Python's separators, swapped below
    return text.replace(",", "\0").replace(".", decimal).replace("\0", group)


def major_units(amount: int, currency: str) -> str:
    """2500, "usd" -> "25.00"; 500, "jpy" -> "500": plain decimal, no separators (CSV cells, inputs)."""
    places = CURRENCIES.get(currency, 2)
    return f"{Decimal(int(amount)).scaleb(-places):.{places}f}"


def format_money(amount: int, currency: str) -> str:
    """123456, "usd" -> "$1,234.56"; 123456, "eur" -> "€1.234,56"; 5000, "jpy" -> "¥5,000";
    -250, "usd" -> "-$2.50"."""
    places = CURRENCIES.get(currency, 2)
    value = Decimal(int(amount)).scaleb(-places)
    style = _style(currency)
    text = style.pattern.format(_digits(value, places, style.decimal, style.group))
    return f"-{text}" if value < 0 else text


def format_count(count: int) -> str:
    """12345 -> "12,345" (counts are the same in every currency)."""
    return f"{int(count):,}"
