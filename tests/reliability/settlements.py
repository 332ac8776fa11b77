"""Settlement files for the reliability tier: a settlement with one discrepancy (the authorization
matrix), the corpus of hostile files that intake must refuse whole, and files exactly at its limits.

The corpus is shared with `bench/fuzz.py`, which posts it to a live server and reports how long each
rejection took. The limits are written out here (200 columns, 1,000,000 characters a row, 128,000 a
cell, 1,000,000 rows) because they are the documented contract, not whatever the code says."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.factories import make_payment
from tests.reconciliation.files import csv_bytes, line_for

HEADER = "payment_id,amount,currency,fee,net,status,settled_at"
ROW = "pay_01JDZZZZZZZZZZZZZZZZZZZZZZ,25.00,usd,1.03,23.97,settled,2026-11-20"
MAX_COLUMNS = 200
MAX_LINE = 1_000_000
MAX_CELL = 128_000
MAX_ROWS = 1_000_000


def settlement_with_a_discrepancy(merchant_id: str, secret: str) -> tuple[str, str, bytes]:
    """(settlement id, discrepancy id, the file's bytes): one line matches, one has the wrong amount."""
    good, bad = make_payment(merchant_id, amount=1000), make_payment(merchant_id, amount=2000)
    content = csv_bytes([line_for(good), line_for(bad, amount="19.00", net="18.12")])
    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    upload = SimpleUploadedFile("settlement.csv", content, content_type="text/csv")
    response = client.post("/api/v1/settlements", {"file": upload}, **auth)
    assert response.status_code == 202, response.content
    settlement_id = response.json()["id"]
    listed = client.get(f"/api/v1/settlements/{settlement_id}/discrepancies", **auth)
    assert listed.status_code == 200 and listed.json()["data"], listed.content
    return settlement_id, listed.json()["data"][0]["id"], content


@dataclass(frozen=True)
class SettlementFile:
    """A file for the upload endpoint: `build` makes its bytes (some are megabytes, made when used),
    `code` is the problem's code (None: accepted) and `reason` a phrase its detail must contain."""

    name: str
    build: Callable[[], bytes]
    code: str | None = None
    reason: str = ""


def _lines(*lines: str) -> bytes:
    return "".join(f"{line}\n" for line in lines).encode()


def _columns(count: int, name: Callable[[int], str] = lambda n: f"extra_{n}") -> str:
    """A header naming the required columns and more, `count` in all."""
    return ",".join([HEADER, *(name(n) for n in range(count - 7))])


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


HOSTILE_FILES = [
    SettlementFile("empty", lambda: b"", "file_empty", "The file is empty"),
    SettlementFile("bom-only", lambda: b"\xef\xbb\xbf", "file_empty", "The file is empty"),
    SettlementFile("blank-lines-only", lambda: b"\n\n\n", "header_missing", "The first line is empty"),
    SettlementFile("header-only", lambda: _lines(HEADER), "no_rows", "a header but no rows"),
    SettlementFile("header-and-blank-rows", lambda: _lines(HEADER, ",,,,,,", "", " , "), "no_rows", "but no rows"),
    SettlementFile(
        "missing-column",
        lambda: _lines("payment_id,amount,currency,fee,status,settled_at", ROW),
        "missing_columns",
        "lacks the required column net",
    ),
    SettlementFile(
        "missing-columns",
        lambda: _lines("payment_id,note", "pay_x,hello"),
        "missing_columns",
        "lacks the required columns amount, currency, fee, net, status, settled_at",
    ),
    SettlementFile(
        "semicolons",
        lambda: _lines(HEADER.replace(",", ";"), ROW.replace(",", ";")),
        "wrong_delimiter",
        "separated by semicolons",
    ),
    SettlementFile(
        "tabs", lambda: _lines(HEADER.replace(",", "\t"), ROW.replace(",", "\t")), "wrong_delimiter", "by tabs"
    ),
    SettlementFile(
        "vertical-bars",
        lambda: _lines(HEADER.replace(",", "|"), ROW.replace(",", "|")),
        "wrong_delimiter",
        "by vertical bars",
    ),
    SettlementFile(
        "duplicate-column",
        lambda: _lines(HEADER + ",amount", ROW + ",25.00"),
        "duplicate_column",
        "names amount more than once",
    ),
    SettlementFile(
        "duplicate-column-by-case",
        lambda: _lines(HEADER + ", Amount ", ROW + ",25.00"),
        "duplicate_column",
        "names amount more than once",
    ),
    SettlementFile(
        "latin-1", lambda: _lines(HEADER, ROW + ",Zürich").decode().encode("latin-1"), "not_utf8", "not UTF-8"
    ),
    SettlementFile("utf8-cut-short", lambda: _lines(HEADER, ROW) + b"\xe2\x82", "not_utf8", "ends inside a character"),
    SettlementFile("utf8-surrogate", lambda: _lines(HEADER, ROW) + b"\xed\xa0\x80\n", "not_utf8", "invalid byte 0xed"),
    SettlementFile("utf-16", lambda: _lines(HEADER, ROW).decode().encode("utf-16"), "binary_file", "binary"),
    SettlementFile("png", lambda: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary_file", "binary"),
    SettlementFile("gzip", lambda: gzip.compress(_lines(HEADER, ROW), mtime=0), "binary_file", "binary"),
    SettlementFile("nul-in-text", lambda: _lines(HEADER, ROW, "pay_\x00,1.00"), "binary_file", "a NUL byte at offset"),
    SettlementFile(
        "a-letter", lambda: b"Dear merchant,\nplease find attached\n", "header_missing", "not a settlement header"
    ),
    SettlementFile(
        "html",
        lambda: b"<!doctype html><html><body><table><tr><td>payment_id</td></tr></table></body></html>\n",
        "header_missing",
        "not a settlement header",
    ),
    SettlementFile(
        "json",
        lambda: b'[{"payment_id": "pay_x", "amount": "25.00", "currency": "usd"}]\n',
        "header_missing",
        "not a settlement header",
    ),
    SettlementFile(
        "header-of-40000-columns",
        lambda: _lines(_columns(40_000), ROW),
        "too_many_columns",
        "40,000 columns; at most 200",
    ),
    SettlementFile(
        "header-of-40000-equal-names",
        lambda: _lines(_columns(40_000, lambda n: "note"), ROW),
        "too_many_columns",
        "at most 200",
    ),
    SettlementFile(
        "header-of-201-columns", lambda: _lines(_columns(MAX_COLUMNS + 1), ROW), "too_many_columns", "201 columns"
    ),
    SettlementFile(
        "row-of-250-columns",
        lambda: _lines(HEADER, ROW, ROW + "," * 243),
        "too_many_columns",
        "Line 3 has 250 columns",
    ),
    SettlementFile(
        "row-over-the-line-cap",
        lambda: _lines(HEADER, ROW, ",".join([ROW, *["n" * 120_000] * 9])),
        "line_too_long",
        "Line 3 is longer than 1,000,000 characters",
    ),
    SettlementFile(
        "one-line-of-2-mb", lambda: b"x" * 2_000_000, "line_too_long", "Line 1 is longer than 1,000,000 characters"
    ),
    SettlementFile(
        "quoted-cells-of-many-lines-over-the-line-cap",
        lambda: _lines(HEADER, ",".join([ROW, *[_quoted("a short line\n" * 415)] * 190])),
        "line_too_long",
        "longer than 1,000,000 characters",
    ),
    SettlementFile(
        "cell-over-the-cell-cap",
        lambda: _lines(HEADER + ",note", ROW + "," + "n" * (MAX_CELL + 1)),
        "cell_too_large",
        "Line 2 has a cell of 128,001 characters; at most 128,000",
    ),
    SettlementFile(
        "cell-of-200000-characters",
        lambda: _lines(HEADER + ",note", ROW + "," + _quoted("n" * 200_000)),
        "cell_too_large",
        "at most 128,000",
    ),
    SettlementFile(
        "unterminated-quote-swallows-the-file",
        lambda: _lines(HEADER, '"' + ROW, *[ROW] * 3000),
        "cell_too_large",
        "at most 128,000",
    ),
    SettlementFile(
        "too-many-rows",
        lambda: HEADER.encode() + b"\n" + b"p\n" * (MAX_ROWS + 1),
        "too_many_rows",
        "more than 1,000,000 rows",
    ),
]

# Files exactly at each limit: accepted (their rows are then matched or reported one by one).
AT_THE_LIMITS = [
    SettlementFile("header-of-200-columns", lambda: _lines(_columns(MAX_COLUMNS), ROW)),
    SettlementFile(
        "row-of-1000000-characters",
        # 7 cells of ROW, 8 of 124,000 and one that fills the row to the limit with its line break.
        lambda: _lines(
            HEADER,
            ",".join([ROW, *["n" * 124_000] * 8, "n" * (MAX_LINE - len(ROW) - 8 * 124_001 - 2)]),
        ),
    ),
    SettlementFile("cell-of-128000-characters", lambda: _lines(HEADER + ",note", ROW + "," + "n" * MAX_CELL)),
]
