"""ISO-4217 currencies Paysite accepts, with their minor-unit exponent."""

CURRENCIES: dict[str, int] = {
    "usd": 2,
    "eur": 2,
    "gbp": 2,
    "cad": 2,
    "aud": 2,
    "chf": 2,
    "sek": 2,
    "nok": 2,
    "dkk": 2,
    "nzd": 2,
    "sgd": 2,
    "hkd": 2,
    "mxn": 2,
    "brl": 2,
    "inr": 2,
    "pln": 2,
    "czk": 2,
    "zar": 2,
    "jpy": 0,
    "krw": 0,
    "clp": 0,
    "vnd": 0,
    "isk": 0,
    "bhd": 3,
    "kwd": 3,
    "jod": 3,
    "omr": 3,
    "tnd": 3,
}


def exponent(currency: str) -> int:
    return CURRENCIES[currency]
