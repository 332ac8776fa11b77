"""The file format of imports of historical payments from another processor: reading a CSV file
and checking it whole (`import_parse`), and writing one (`import_csv_rows`, for `seed_demo` and tests).

Every bad row is reported with its line (and column); one bad row means the file is refused. No cell
may hold a card number (a Luhn-valid digit run): the error names the line and the column, never the
digits. `payments.services.imports` writes what a good file holds."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.dateparse import parse_date, parse_datetime

from core.cards import pan_find
from core.errors import ValidationFailed
from core.ids import now as clock_now
from core.money import CURRENCIES
from payments.enums import MAX_AMOUNT, MIN_AMOUNT, PaymentStatus

MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 1_000_000
MAX_ERRORS = 50  # reported; the count says how many there were in all
CARD_BRANDS = frozenset({"amex", "diners", "jcb", "mastercard", "discover", "unionpay", "visa", "unknown"})
# An authorization still open at the other processor can only be captured there: import it once settled.
IMPORTABLE = (
    PaymentStatus.SUCCEEDED,
    PaymentStatus.FAILED,
    PaymentStatus.CANCELED,
    PaymentStatus.REFUNDED,
    PaymentStatus.PARTIALLY_REFUNDED,
)
MAX_DESCRIPTION = 1000
MAX_METADATA_KEYS, MAX_METADATA_KEY, MAX_METADATA_VALUE = 50, 40, 500

# Column names, and the other names a header may give them.
COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "external_id"),
    "created": ("created",),
    "amount": ("amount",),
    "currency": ("currency",),
    "status": ("status",),
    "amount_captured": ("amount_captured", "captured"),
    "amount_refunded": ("amount_refunded", "refunded"),
    "card_brand": ("card_brand", "brand"),
    "card_last4": ("card_last4", "last4"),
    "card_exp_month": ("card_exp_month", "exp_month"),
    "card_exp_year": ("card_exp_year", "exp_year"),
    "customer_email": ("customer_email", "email"),
    "description": ("description",),
    "metadata": ("metadata",),
}
REQUIRED = ("id", "created", "amount", "currency", "status")
HEADER = list(COLUMNS)  # the header `import_csv_rows` writes


@dataclass(frozen=True)
class RowError:
    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column `{self.column}`" if self.column else "")
        return f"{where}: {self.message}"


class ImportInvalid(ValidationFailed):
    """The file has bad rows (or is no CSV): nothing was written. `errors` lists the first ones."""

    code = "invalid_import_file"
    title = "The import file has errors"

    def __init__(self, errors: list[RowError], *, total: int | None = None):
        self.errors = errors[:MAX_ERRORS]
        total = len(errors) if total is None else total
        more = f" (the first {len(self.errors)} are listed)" if total > len(self.errors) else ""
        super().__init__(
            f"{total} error(s){more}; nothing was imported. " + " ".join(f"{e}." for e in self.errors[:3]),
            param="file",
            errors=[{"line": e.line, "column": e.column, "detail": e.message} for e in self.errors],
        )


@dataclass(frozen=True)
class ImportRow:
    line: int
    external_id: str
    created: datetime
    amount: int
    currency: str
    status: PaymentStatus
    captured: int
    refunded: int
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    email: str | None
    description: str | None
    metadata: dict[str, str]


# --- reading and validating a file -------------------------------------------------------------


def import_parse(data: bytes) -> list[ImportRow]:
    """Every row of the file, validated; `ImportInvalid` with every bad row (line and column) otherwise."""
    if len(data) > MAX_BYTES:
        raise ImportInvalid([RowError(1, None, f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportInvalid([RowError(1, None, "the file is not UTF-8 text")]) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise ImportInvalid([RowError(1, None, "the file is empty: a header row is required")]) from None
    columns, errors = _columns(header)
    if errors:
        raise ImportInvalid(errors)
    rows: list[ImportRow] = []
    seen: dict[str, int] = {}
    today = clock_now()
    try:
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) + len(errors) >= MAX_ROWS:
                errors.append(RowError(line, None, f"more than {MAX_ROWS:,} rows: split the file"))
                break
            row, row_errors = _row(line, header, cells, columns, today=today)
            if row is not None and row.external_id in seen:
                row_errors.append(
                    RowError(line, "id", f"the id {row.external_id!r} is also on line {seen[row.external_id]}")
                )
            if row_errors:
                errors.extend(row_errors)
            elif row is not None:
                seen[row.external_id] = line
                rows.append(row)
    except csv.Error as error:
        errors.append(RowError(reader.line_num, None, f"not valid CSV ({error})"))
    if errors:
        raise ImportInvalid(errors)
    if not rows:
        raise ImportInvalid([RowError(2, None, "the file has no rows")])
    return rows


def _columns(header: list[str]) -> tuple[dict[str, int], list[RowError]]:
    names = [name.strip().lower() for name in header]
    columns: dict[str, int] = {}
    errors = []
    for column, aliases in COLUMNS.items():
        found = [i for i, name in enumerate(names) if name in aliases]
        if len(found) > 1:
            errors.append(RowError(1, column, "the column appears more than once"))
        elif found:
            columns[column] = found[0]
    missing = [column for column in REQUIRED if column not in columns]
    if missing:
        errors.append(RowError(1, None, f"the header lacks the column(s) {', '.join(missing)}"))
    for i, name in enumerate(header):  # a header cell is a cell too
        if pan_find(name) is not None:
            errors.append(RowError(1, f"#{i + 1}", "this looks like a card number; card numbers cannot be imported"))
    return columns, errors


def _row(
    line: int, header: list[str], cells: list[str], columns: dict[str, int], *, today: datetime
) -> tuple[ImportRow | None, list[RowError]]:
    errors: list[RowError] = []
    for i, value in enumerate(cells):  # every column, the unknown ones included
        found = pan_find(value)
        if found is not None:
            name = header[i].strip() if i < len(header) and header[i].strip() else f"#{i + 1}"
            errors.append(RowError(line, name, "this looks like a card number; card numbers cannot be imported"))
    if errors:  # nothing more is said of a row that carries a card number
        return None, errors

    def cell(name: str) -> str:
        index = columns.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    def whole(name: str, *, default: int | None = None, low: int = 0, high: int = MAX_AMOUNT) -> int | None:
        value = cell(name)
        if not value and default is not None:
            return default
        if not value.lstrip("-").isdigit():
            errors.append(RowError(line, name, f"{value!r} is not a whole number (amounts are in minor units)"))
            return None
        number = int(value)
        if not low <= number <= high:
            errors.append(RowError(line, name, f"{number} is not between {low} and {high}"))
            return None
        return number

    external_id = cell("id")
    if not external_id:
        errors.append(RowError(line, "id", "the id is empty"))
    elif len(external_id) > 255:
        errors.append(RowError(line, "id", "the id is longer than 255 characters"))
    created = _time(cell("created"))
    if created is None:
        errors.append(RowError(line, "created", f"{cell('created')!r} is not an RFC 3339 time or a date"))
    elif created > today:
        errors.append(RowError(line, "created", "the time is in the future"))
    elif created.year < 2000:
        errors.append(RowError(line, "created", "the time is before 2000"))
    amount = whole("amount", low=MIN_AMOUNT)
    currency = cell("currency").lower()
    if currency not in CURRENCIES:
        errors.append(RowError(line, "currency", f"{cell('currency')!r} is not a supported ISO-4217 currency"))
    status = cell("status").lower()
    if status not in IMPORTABLE:
        errors.append(
            RowError(line, "status", f"{cell('status')!r} is not one of {', '.join(IMPORTABLE)}"),
        )
    captured = whole("amount_captured", default=-1)
    refunded = whole("amount_refunded", default=0)
    brand = (cell("card_brand") or "unknown").lower()
    if brand not in CARD_BRANDS:
        errors.append(
            RowError(line, "card_brand", f"{cell('card_brand')!r} is not one of {', '.join(sorted(CARD_BRANDS))}")
        )
    last4 = cell("card_last4")
    if not (len(last4) == 4 and last4.isdigit()):
        errors.append(RowError(line, "card_last4", "the card's last 4 are 4 digits"))
    exp_month = whole("card_exp_month", default=0, high=12)
    exp_year = whole("card_exp_year", default=0, high=2100)
    email = cell("customer_email") or None
    if email is not None:
        try:
            if len(email) > 254:
                raise ValidationError("too long")
            validate_email(email)
        except ValidationError:
            errors.append(RowError(line, "customer_email", "not a valid email address"))
    description = cell("description") or None
    if description is not None and len(description) > MAX_DESCRIPTION:
        errors.append(RowError(line, "description", f"longer than {MAX_DESCRIPTION} characters"))
    metadata = _metadata(cell("metadata"), line, errors)
    if errors:
        return None, errors
    assert created is not None and amount is not None and captured is not None and refunded is not None
    assert exp_month is not None and exp_year is not None
    captured, problem = _amounts(PaymentStatus(status), amount, captured, refunded)
    if problem:
        return None, [RowError(line, problem[0], problem[1])]
    return (
        ImportRow(
            line=line,
            external_id=external_id,
            created=created,
            amount=amount,
            currency=currency,
            status=PaymentStatus(status),
            captured=captured,
            refunded=refunded,
            brand=brand,
            last4=last4,
            exp_month=exp_month,
            exp_year=exp_year,
            email=email,
            description=description,
            metadata=metadata,
        ),
        [],
    )


def _time(value: str) -> datetime | None:
    try:
        at = parse_datetime(value)
        if at is None:
            day = parse_date(value)
            at = datetime(day.year, day.month, day.day) if day is not None else None
    except ValueError:
        return None
    if at is None:
        return None
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return at.replace(microsecond=at.microsecond // 1000 * 1000)  # ids carry milliseconds


def _metadata(value: str, line: int, errors: list[RowError]) -> dict[str, str]:
    if not value:
        return {}
    try:
        parsed = json.loads(value)
    except ValueError:
        errors.append(RowError(line, "metadata", "not valid JSON"))
        return {}
    if not isinstance(parsed, dict):
        errors.append(RowError(line, "metadata", "a JSON object is expected"))
        return {}
    if len(parsed) > MAX_METADATA_KEYS:
        errors.append(RowError(line, "metadata", f"at most {MAX_METADATA_KEYS} keys"))
        return {}
    out = {}
    for key, item in parsed.items():
        if isinstance(item, int | float | bool) and not isinstance(item, bool):
            item = str(item)
        if not isinstance(item, str) or not key or len(key) > MAX_METADATA_KEY or len(item) > MAX_METADATA_VALUE:
            errors.append(
                RowError(
                    line,
                    "metadata",
                    f"keys are 1 to {MAX_METADATA_KEY} characters and values strings of at most {MAX_METADATA_VALUE}",
                )
            )
            return {}
        out[key] = item
    return out


def _amounts(status: PaymentStatus, amount: int, captured: int, refunded: int) -> tuple[int, tuple[str, str] | None]:
    """The captured amount (defaulted from the status) and whether the amounts agree with the status."""
    moved = status in (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED, PaymentStatus.PARTIALLY_REFUNDED)
    if captured < 0:
        captured = amount if moved else 0
    if captured > amount:
        return captured, ("amount_captured", f"{captured} is more than the amount {amount}")
    if refunded > captured:
        return captured, ("amount_refunded", f"{refunded} is more than the captured {captured}")
    if not moved and (captured or refunded):
        return captured, ("amount_captured", f"a {status} payment has nothing captured or refunded")
    if moved and not captured:
        return captured, ("amount_captured", f"a {status} payment has an amount captured")
    expected = (
        PaymentStatus.SUCCEEDED
        if refunded == 0
        else PaymentStatus.REFUNDED
        if refunded == captured
        else PaymentStatus.PARTIALLY_REFUNDED
    )
    if moved and status != expected:
        return captured, ("status", f"{captured} captured and {refunded} refunded make the payment {expected}")
    return captured, None


def import_csv_rows(rows: Iterator[dict[str, Any]] | list[dict[str, Any]]) -> bytes:
    """A CSV file in the import's format from dicts keyed by `HEADER` names (missing ones empty)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADER, extrasaction="raise", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({name: "" if row.get(name) is None else row[name] for name in HEADER})
    return out.getvalue().encode()
