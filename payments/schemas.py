"""Input and output schemas of the payments API. Inputs forbid unknown fields (422
`unknown_parameter`); validators raise errors whose `code` is the contract's."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Literal

from ninja import Schema
from pydantic import AwareDatetime, ConfigDict, Field, StrictInt, field_validator, model_validator
from pydantic_core import PydanticCustomError

from core.cards import CardInput, card_check, luhn_valid, normalise_number, pan_find
from core.errors import ValidationFailed
from core.ids import is_id
from core.money import CURRENCIES
from core.wire import rfc3339
from payments.enums import (
    MAX_AMOUNT,
    MIN_AMOUNT,
    PaymentStatus,
    RefundReason,
    TransactionStatus,
    values,
)

if TYPE_CHECKING:
    from payments.models import Payment, Transaction
    from payments.selectors import CurrencySummary, Summary
    from payments.services.changes import Refund

# `Literal`s of the enums' plain values: the OpenAPI document lists exactly these strings.
PaymentStatusLiteral = Literal[values(PaymentStatus)]  # type: ignore[valid-type]
RefundReasonLiteral = Literal[values(RefundReason)]  # type: ignore[valid-type]
MAX_METADATA_KEYS, MAX_METADATA_KEY, MAX_METADATA_VALUE = 50, 40, 500


def _error(code: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(code, message, {"code": code})


class CardOut(Schema):
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    fingerprint: str


# Serialises a stored `Payment` (resolvers name the attributes whose names differ).
class PaymentOut(Schema):
    id: str
    object: str = "payment"
    merchant_id: str
    amount: int
    currency: str
    status: str = Field(
        ...,
        description="`requires_capture`, `succeeded`, `failed`, `canceled`, `refunded`, `partially_refunded`, or "
        "`processing`: the processor did not answer in time and its outcome is being asked for.",
    )
    amount_captured: int
    amount_refunded: int
    customer_id: str | None
    description: str | None
    metadata: dict[str, Any]
    card: CardOut
    failure_code: str | None
    settlement_id: str | None = None
    disputed: bool = Field(False, description="Whether a dispute (chargeback) was ever opened on the payment.")
    created: str
    updated: str

    @staticmethod
    def resolve_id(payment: Payment) -> str:
        return payment.payment_id

    @staticmethod
    def resolve_disputed(payment: Payment) -> bool:
        return bool(payment.disputed)

    @staticmethod
    def resolve_object(payment: Payment) -> str:
        return "payment"

    @staticmethod
    def resolve_amount_captured(payment: Payment) -> int:
        return payment.amount_captured or 0

    @staticmethod
    def resolve_amount_refunded(payment: Payment) -> int:
        return payment.amount_refunded or 0

    @staticmethod
    def resolve_metadata(payment: Payment) -> dict[str, Any]:
        return payment.metadata or {}

    @staticmethod
    def resolve_created(payment: Payment) -> str | None:
        return rfc3339(payment.created)

    @staticmethod
    def resolve_updated(payment: Payment) -> str | None:
        return rfc3339(payment.updated)


# Serialises a stored ledger entry (`Transaction`).
class TransactionOut(Schema):
    id: str
    object: str = "transaction"
    type: str
    amount: int
    currency: str
    status: str
    reason: str | None
    refund_id: str | None
    settlement_id: str | None
    created: str

    @staticmethod
    def resolve_id(txn: Transaction) -> str:
        return txn.txn_id

    @staticmethod
    def resolve_object(txn: Transaction) -> str:
        return "transaction"

    @staticmethod
    def resolve_type(txn: Transaction) -> str:
        return txn.kind

    @staticmethod
    def resolve_created(txn: Transaction) -> str | None:
        return rfc3339(txn.created)


# A payment and its ledger: validate with `context={"transactions": [...]}`.
class PaymentDetailOut(PaymentOut):
    transactions: list[TransactionOut]

    @staticmethod
    def resolve_transactions(payment: Payment, context: dict[str, Any]) -> list[Transaction]:
        return context["transactions"]


# --- inputs ----------------------------------------------------------------------------------


class StrictIn(Schema):
    model_config = ConfigDict(extra="forbid")


def _check_amount(value: int | None) -> int | None:
    if value is None:
        return value
    if value < MIN_AMOUNT:
        raise _error("amount_too_small", f"The amount must be at least {MIN_AMOUNT} (in the currency's minor unit).")
    if value > MAX_AMOUNT:
        raise _error("amount_too_large", f"The amount must be at most {MAX_AMOUNT}.")
    return value


class CardIn(StrictIn):
    number: str = Field(
        ..., repr=False, description="12-19 digits (spaces and dashes ignored); never stored, logged or echoed."
    )
    exp_month: StrictInt = Field(..., description="1-12")
    exp_year: StrictInt = Field(..., description="Four digits, e.g. 2030")
    cvc: str | None = Field(None, max_length=4, repr=False, description="3 digits (4 for amex); never stored.")

    @field_validator("number")
    @classmethod
    def _luhn(cls, value: str) -> str:
        if not luhn_valid(normalise_number(value)):
            raise _error("invalid_card_number", "The card number is not valid.")
        return value

    @model_validator(mode="after")
    def _valid_card(self) -> CardIn:
        try:
            card_check(self.as_input(), today=datetime.now(UTC).date())
        except ValidationFailed as error:
            raise _error(error.code, error.detail) from None
        return self

    def as_input(self) -> CardInput:
        return CardInput(number=self.number, exp_month=self.exp_month, exp_year=self.exp_year, cvc=self.cvc)


class PaymentIn(StrictIn):
    amount: StrictInt = Field(..., description=f"Minor units (cents), {MIN_AMOUNT} to {MAX_AMOUNT}.")
    currency: str = Field(..., description="Lowercase ISO-4217 code, e.g. `usd`.", examples=["usd"])
    customer_id: str | None = Field(None, description="A customer (`cus_...`) of this merchant.")
    description: str | None = Field(None, max_length=1000)
    metadata: dict[str, str] = Field(
        default_factory=dict, description="Up to 50 keys of 40 chars, values of 500 chars."
    )
    capture: bool = Field(True, description="`false` only authorizes: status `requires_capture`.")
    card: CardIn

    _amount = field_validator("amount")(classmethod(lambda cls, value: _check_amount(value)))

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if value not in CURRENCIES:
            raise _error("invalid_currency", f"Unsupported currency {value!r}; use a lowercase ISO-4217 code.")
        return value

    @field_validator("customer_id")
    @classmethod
    def _customer(cls, value: str | None) -> str | None:
        if value is not None and not is_id(value, "cus"):
            raise _error("invalid_customer_id", "A customer id looks like `cus_` followed by a ULID.")
        return value

    @field_validator("metadata")
    @classmethod
    def _metadata(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > MAX_METADATA_KEYS:
            raise _error("invalid_metadata", f"At most {MAX_METADATA_KEYS} metadata keys.")
        for key, item in value.items():
            if not key or len(key) > MAX_METADATA_KEY or len(item) > MAX_METADATA_VALUE:
                raise _error(
                    "invalid_metadata",
                    f"Metadata keys are 1 to {MAX_METADATA_KEY} characters and values at most {MAX_METADATA_VALUE}.",
                )
            if pan_find(key) or pan_find(item):
                raise _error(
                    "pan_in_field",
                    f"Metadata `{key[:40]}` looks like it contains a card number; send cards only in `card`.",
                )
        return value

    @field_validator("description")
    @classmethod
    def _description(cls, value: str | None) -> str | None:
        if value and pan_find(value):
            raise _error(
                "pan_in_field", "The description looks like it contains a card number; send cards only in `card`."
            )
        return value


class CaptureIn(StrictIn):
    amount: StrictInt | None = Field(None, description="At most the authorized amount; default: all of it.")

    _amount = field_validator("amount")(classmethod(lambda cls, value: _check_amount(value)))


class CancelIn(StrictIn):
    pass


class RefundIn(StrictIn):
    amount: StrictInt | None = Field(None, description="Default: the rest of the captured amount.")
    reason: RefundReasonLiteral | None = None  # type: ignore[valid-type]

    _amount = field_validator("amount")(classmethod(lambda cls, value: _check_amount(value)))


class DateRangeQuery(Schema):
    created_gte: AwareDatetime | None = Field(None, description="RFC 3339 with a time zone, inclusive.")
    created_lt: AwareDatetime | None = Field(None, description="RFC 3339 with a time zone, exclusive.")

    def check_range(self) -> None:
        if self.created_gte is not None and self.created_lt is not None and self.created_gte >= self.created_lt:
            raise ValidationFailed(
                "`created_gte` must be before `created_lt`.", param="created_gte", code="invalid_date_range"
            )


class PaymentFilterQuery(DateRangeQuery):
    status: PaymentStatusLiteral | None = Field(None, description="One payment status.")  # type: ignore[valid-type]
    customer_id: str | None = Field(None, description="Only this customer's payments.")
    starting_after: str | None = Field(None, description="A payment id (`next_cursor`): the page after it.")

    @field_validator("starting_after")
    @classmethod
    def _cursor(cls, value: str | None) -> str | None:
        if value is not None and not is_id(value, "pay"):
            raise _error("invalid_cursor", "`starting_after` must be a payment id (`pay_...`), as in `next_cursor`.")
        return value


class PaymentListQuery(PaymentFilterQuery):
    limit: int = Field(20, description="1 to 100.")

    @field_validator("limit")
    @classmethod
    def _limit(cls, value: int) -> int:
        if not 1 <= value <= 100:
            raise _error("invalid_limit", "`limit` must be 1 to 100.")
        return value


# --- outputs ---------------------------------------------------------------------------------


class RefundOut(Schema):
    id: str = Field(..., description="`re_` + ULID")
    object: str = "refund"
    payment_id: str
    amount: int
    currency: str
    status: str = Field(..., description="`succeeded`")
    reason: str | None
    created: str
    payment: PaymentOut = Field(..., description="The payment as it reads after this refund.")

    @staticmethod
    def resolve_id(refund: Refund) -> str:
        return refund.refund_id

    @staticmethod
    def resolve_object(refund: Refund) -> str:
        return "refund"

    @staticmethod
    def resolve_payment_id(refund: Refund) -> str:
        return refund.payment.payment_id

    @staticmethod
    def resolve_currency(refund: Refund) -> str:
        return refund.payment.currency

    @staticmethod
    def resolve_status(refund: Refund) -> str:
        return TransactionStatus.SUCCEEDED  # a refund is its ledger entry, which always succeeds

    @staticmethod
    def resolve_created(refund: Refund) -> str | None:
        return rfc3339(refund.created)


class PaymentListOut(Schema):
    object: str = "list"
    data: list[PaymentOut]
    has_more: bool
    next_cursor: str | None = Field(None, description="Pass as `starting_after` for the next page.")


class CurrencySummaryOut(Schema):
    count: int
    amount: int
    count_by_status: dict[str, int]
    amount_by_status: dict[str, int]
    captured: int
    refunded: int
    refund_count: int
    net: int = Field(..., description="captured - refunded")

    @staticmethod
    def resolve_amount(totals: CurrencySummary) -> int:
        return sum(totals.amount_by_status.values())


class SummaryDayOut(Schema):
    date: date
    currencies: dict[str, CurrencySummaryOut]


# Serialises a `Summary`; validate with `context={"created_gte": ..., "created_lt": ...}`.
class SummaryOut(Schema):
    object: str = "payment_summary"
    created_gte: str
    created_lt: str
    start_date: str
    end_date: str
    currencies: dict[str, CurrencySummaryOut]
    days: list[SummaryDayOut]

    @staticmethod
    def resolve_object(summary: Summary) -> str:
        return "payment_summary"

    @staticmethod
    def resolve_created_gte(summary: Summary, context: dict[str, Any]) -> str | None:
        return rfc3339(context["created_gte"])

    @staticmethod
    def resolve_created_lt(summary: Summary, context: dict[str, Any]) -> str | None:
        return rfc3339(context["created_lt"])

    @staticmethod
    def resolve_start_date(summary: Summary) -> str:
        return summary.start.isoformat()

    @staticmethod
    def resolve_end_date(summary: Summary) -> str:
        return summary.end.isoformat()

    @staticmethod
    def resolve_currencies(summary: Summary) -> dict[str, CurrencySummary]:
        return dict(sorted(summary.currencies.items()))

    @staticmethod
    def resolve_days(summary: Summary) -> list[dict[str, Any]]:
        """Every day of the range, oldest first."""
        return [
            {"date": day, "currencies": dict(sorted(totals.items()))} for day, totals in sorted(summary.days.items())
        ]
