"""Settlement CSV files: checking a whole file at intake, and turning one row into a line.

Amounts are decimal strings in major units; they become integer minor units through the
currency's exponent with integer arithmetic only (never float). Nothing here touches storage.

Limits. A file over one of them is refused whole at intake, with its own code: 50 MB, 1,000,000
rows, 200 columns, 1,000,000 characters a row (read before it is parsed), 128,000 a cell. Under
them every row costs bounded time and memory, and what a row can put in storage is bounded too: a
row keeps its required cells cut to `KEPT` characters, and no valid value is longer than
`MAX_VALUE`, so an invalid row's discrepancy stays small whatever the file holds."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import IO

from core.money import CURRENCIES
from reconciliation.enums import LineStatus
from reconciliation.errors import SettlementFileRejected

REQUIRED_COLUMNS = ("payment_id", "amount", "currency", "fee", "net", "status", "settled_at")
MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 1_000_000
MAX_COLUMNS = 200
MAX_LINE = 1_000_000  # characters of one row, its line breaks included (a quoted cell may span lines)
MAX_CELL = 128_000  # characters of one cell
MAX_VALUE = 64  # the longest value a required cell can hold (a payment id)
KEPT = 100  # characters of a required cell kept from the file: what an invalid row's discrepancy shows
MAX_AMOUNT = 99_999_999
CHUNK = 1024 * 1024
_DECIMAL = re.compile(r"([0-9]+)(?:\.([0-9]+))?")  # ASCII digits only: int() would take "２５"
_PAYMENT_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
_FORMULA_START = ("=", "+", "@", "\t", "\r")


def _rejected(detail: str, code: str) -> SettlementFileRejected:
    return SettlementFileRejected(detail, code=code, param="file")


def file_size(file: IO[bytes]) -> int:
    file.seek(0, io.SEEK_END)
    size = file.tell()
    file.seek(0)
    return size


def size_check(size: int, *, max_bytes: int = MAX_BYTES) -> None:
    """The size limit, checked before a byte is read."""
    if size == 0:
        raise _rejected("The file is empty: a settlement file needs a header row and at least one row.", "file_empty")
    if size > max_bytes:
        raise _rejected(
            f"The file is {size / 1024 / 1024:.1f} MB; the limit is {max_bytes // 1024 // 1024} MB. "
            "Split it into smaller files.",
            "file_too_large",
        )


def file_digest(file: IO[bytes]) -> tuple[str, int]:
    """SHA-256 and size, streaming; refuses binary data and anything that is not UTF-8."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    file.seek(0)
    while chunk := file.read(CHUNK):
        nul = chunk.find(b"\x00")
        if nul >= 0:
            raise _rejected(
                f"The file is binary (a NUL byte at offset {offset + nul}), not a CSV text file.",
                "binary_file",
            )
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as error:
            raise _rejected(
                f"The file is not UTF-8 text (invalid byte 0x{chunk[error.start]:02x} at offset {offset + error.start}). "
                "Save it as UTF-8 CSV.",
                "not_utf8",
            ) from error
        digest.update(chunk)
        offset += len(chunk)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as error:
        raise _rejected(
            "The file is not UTF-8 text (it ends inside a character). Save it as UTF-8 CSV.", "not_utf8"
        ) from error
    file.seek(0)
    return digest.hexdigest(), offset


def _names(names: list[str], *, shown: int = 10) -> str:
    """At most `shown` column names, each cut to 40 characters, for a problem's detail."""
    listed = ", ".join(name if len(name) <= 40 else name[:40] + "…" for name in names[:shown])
    return listed + (f" and {len(names) - shown:,} more" if len(names) > shown else "")


def _header(row: list[str]) -> list[str]:
    if len(row) > MAX_COLUMNS:
        raise _rejected(f"The header has {len(row):,} columns; at most {MAX_COLUMNS} are allowed.", "too_many_columns")
    header = [cell.strip().lower() for cell in row]
    if not any(header):
        raise _rejected(
            "The first line is empty; a header row naming the columns is required: "
            + ", ".join(REQUIRED_COLUMNS)
            + ".",
            "header_missing",
        )
    if len(header) == 1:
        for delimiter, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "vertical bars")):
            if delimiter in header[0]:
                raise _rejected(
                    f"The columns are separated by {name}; settlement files must be comma-separated.", "wrong_delimiter"
                )
    duplicated = sorted(name for name, count in Counter(header).items() if name and count > 1)
    if duplicated:
        raise _rejected(f"The header names {_names(duplicated)} more than once.", "duplicate_column")
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if len(missing) == len(REQUIRED_COLUMNS):
        raise _rejected(
            "The first line is not a settlement header: expected the columns " + ", ".join(REQUIRED_COLUMNS) + ".",
            "header_missing",
        )
    if missing:
        raise _rejected(
            f"The header lacks the required column{'s' if len(missing) > 1 else ''} {', '.join(missing)}.",
            "missing_columns",
        )
    return header


def _rows(text: IO[str]) -> Iterator[tuple[int, list[str]]]:
    """`csv.reader` within the limits: (the line a row starts on, its cells) for rows of at most
    `MAX_LINE` characters, refused before they are parsed, with at most `MAX_COLUMNS` cells (the
    header's count is `_header`'s to check) of at most `MAX_CELL` characters. A row is one line, or
    several when a quoted cell holds line breaks."""
    line = 0  # lines read so far
    start = 1  # the line the row being read starts on
    length = 0  # characters of the row being read

    def lines() -> Iterator[str]:
        nonlocal line, length
        readline = text.readline
        while chunk := readline(MAX_LINE - length + 1):
            line += 1
            length += len(chunk)
            if length > MAX_LINE:
                raise _rejected(
                    f"Line {start:,} is longer than {MAX_LINE:,} characters, the limit for one row.",
                    "line_too_long",
                )
            yield chunk

    try:
        for row in csv.reader(lines()):
            # A cell is no longer than its row: only a row over MAX_CELL needs its cells measured.
            if length > MAX_CELL and (longest := max(map(len, row))) > MAX_CELL:
                raise _rejected(
                    f"Line {start:,} has a cell of {longest:,} characters; at most {MAX_CELL:,} are allowed.",
                    "cell_too_large",
                )
            if len(row) > MAX_COLUMNS and start > 1:
                raise _rejected(
                    f"Line {start:,} has {len(row):,} columns; at most {MAX_COLUMNS} are allowed.", "too_many_columns"
                )
            yield start, row
            start, length = line + 1, 0
    except csv.Error as error:
        if str(error).startswith("field larger than field limit"):
            raise _rejected(
                f"Line {start:,} has a cell of more than {csv.field_size_limit():,} characters; "
                f"at most {MAX_CELL:,} are allowed.",
                "cell_too_large",
            ) from error
        raise _rejected(f"The file is not CSV (line {line:,}): {error}.", "not_csv") from error


def _text(file: IO[bytes]) -> io.TextIOWrapper:
    file.seek(0)
    return io.TextIOWrapper(file, encoding="utf-8-sig", newline="")  # type: ignore[arg-type]


def _blank(row: list[str]) -> bool:
    return not "".join(row).strip()


def file_inspect(file: IO[bytes], *, max_rows: int = MAX_ROWS) -> int:
    """Check the header, the limits and count the data rows (blank rows are ignored), streaming."""
    text = _text(file)
    try:
        reader = _rows(text)
        _, first = next(reader, (1, None))
        if first is None:
            raise _rejected(
                "The file is empty: a settlement file needs a header row and at least one row.", "file_empty"
            )
        _header(first)
        rows = 0
        for _, row in reader:
            if _blank(row):
                continue
            rows += 1
            if rows > max_rows:
                raise _rejected(
                    f"The file has more than {max_rows:,} rows; split it into smaller files.", "too_many_rows"
                )
        if rows == 0:
            raise _rejected("The file has a header but no rows.", "no_rows")
        return rows
    finally:
        text.detach()
        file.seek(0)


@dataclass(frozen=True)
class Row:
    """One data row: its line in the file (the header is line 1) and its required cells, each cut
    to `KEPT` characters and marked with "…" where it was cut."""

    line: int
    cells: dict[str, str]


def _kept(cell: str) -> str:
    cell = cell.strip()
    return cell if len(cell) <= KEPT else cell[:KEPT] + "…"


def rows_read(file: IO[bytes], *, skip: int = 0) -> Iterator[Row]:
    """The non-blank data rows after the first `skip` of them, one at a time."""
    text = _text(file)
    try:
        reader = _rows(text)
        header = _header(next(reader)[1])
        positions = {name: header.index(name) for name in REQUIRED_COLUMNS}
        seen = 0
        line = 1
        for _, row in reader:
            line += 1
            if _blank(row):
                continue
            seen += 1
            if seen <= skip:
                continue
            cells = {name: (_kept(row[index]) if index < len(row) else "") for name, index in positions.items()}
            yield Row(line=line, cells=cells)
    finally:
        if not file.closed:
            text.detach()


# --- one row -> one line -------------------------------------------------------------------------


class RowInvalid(Exception):
    """The reason a row is an `invalid_row`."""


@dataclass(frozen=True)
class Line:
    line: int
    payment_id: str
    amount: int
    fee: int
    net: int
    currency: str
    status: str
    settled_at: str
    settled_on: date


def is_payment_reference(value: str) -> bool:
    """Whether a cell can name a payment (an invalid row that names one still names it)."""
    return bool(_PAYMENT_ID.match(value)) and not looks_like_formula(value)


def looks_like_formula(value: str) -> bool:
    return value.startswith(_FORMULA_START) or (value.startswith("-") and not re.match(r"-[0-9]", value))


def minor_units(value: str, *, currency: str, field: str, minimum: int) -> int:
    """`"25.00"` USD -> 2500, `"2500"` JPY -> 2500, exactly; never through float."""
    places = CURRENCIES[currency]
    if value == "":
        raise RowInvalid(f"{field} is empty")
    if value.startswith("-") and _DECIMAL.fullmatch(value[1:]):
        raise RowInvalid(f"{field} {value} is negative")
    match = _DECIMAL.fullmatch(value)
    if match is None:
        raise RowInvalid(f"{field} {value!r} is not a decimal number like 25.00")
    whole, fraction = match.group(1), match.group(2) or ""
    if len(fraction) > places:
        raise RowInvalid(f"{field} {value} has more decimals than {currency.upper()} allows ({places})")
    if len(whole.lstrip("0")) > 12:
        raise RowInvalid(f"{field} {value} is too large (at most {MAX_AMOUNT / 10**places:,.{places}f})")
    minor = int(whole) * 10**places + int(fraction.ljust(places, "0") or "0")
    if minor > MAX_AMOUNT:
        raise RowInvalid(
            f"{field} {value} is too large (at most {MAX_AMOUNT // 10**places:,}{'.' + '9' * places if places else ''})"
        )
    if minor < minimum:
        raise RowInvalid(f"{field} {value} must be more than zero")
    return minor


def _settled_at(value: str, *, now: datetime) -> tuple[str, date]:
    if value == "":
        raise RowInvalid("settled_at is empty")
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            if day > now.date():
                raise RowInvalid(f"settled_at {value} is in the future")
            return value, day
        moment = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError as error:
        raise RowInvalid(f"settled_at {value!r} is not a date (2026-11-26) or an RFC 3339 time") from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    if moment > now:
        raise RowInvalid(f"settled_at {value} is in the future")
    return value, moment.date()


def line_parse(row: Row, *, now: datetime) -> Line:
    """A valid line, or `RowInvalid` with the first reason found."""
    cells = row.cells
    for field in REQUIRED_COLUMNS:
        if looks_like_formula(cells[field]):
            raise RowInvalid(f"{field} looks like a spreadsheet formula and is refused")
        if len(cells[field]) > MAX_VALUE:
            raise RowInvalid(f"{field} is longer than {MAX_VALUE} characters")
    payment_id = cells["payment_id"]
    if payment_id == "":
        raise RowInvalid("payment_id is empty")
    if not _PAYMENT_ID.match(payment_id):
        raise RowInvalid(f"payment_id {payment_id[:70]!r} is not a payment id")
    currency = cells["currency"].lower()
    if currency == "":
        raise RowInvalid("currency is empty")
    if currency not in CURRENCIES:
        raise RowInvalid(f"currency {cells['currency'][:20]!r} is not a supported ISO-4217 currency")
    amount = minor_units(cells["amount"], currency=currency, field="amount", minimum=1)
    fee = minor_units(cells["fee"], currency=currency, field="fee", minimum=0)
    net = minor_units(cells["net"], currency=currency, field="net", minimum=0)
    try:
        status = LineStatus(cells["status"].lower())
    except ValueError:
        raise RowInvalid(f"status {cells['status'][:30]!r} must be settled or refunded") from None
    settled_at, settled_on = _settled_at(cells["settled_at"], now=now)
    return Line(
        line=row.line,
        payment_id=payment_id,
        amount=amount,
        fee=fee,
        net=net,
        currency=currency,
        status=status,
        settled_at=settled_at,
        settled_on=settled_on,
    )


def major_units(amount: int, currency: str) -> str:
    """2500 USD -> "25.00"; the inverse of `minor_units`."""
    places = CURRENCIES.get(currency, 2)
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(int(amount)), 10**places)
    return f"{sign}{whole}.{fraction:0{places}d}" if places else f"{sign}{whole}"
