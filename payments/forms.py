"""Forms of the payment pages: the list filters and the capture/refund actions.

Amounts on pages are typed in major units ("12.50") and converted exactly, with the currency's
exponent, to the integer minor units the services take; never through float."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.http import QueryDict

from core.ids import is_id
from core.money import CURRENCIES
from core.money_format import format_money
from payments.enums import MIN_AMOUNT, PaymentStatus, RefundReason, values
from search import terms as search_terms

STATUS_LABELS: dict[str, str] = {  # every PaymentStatus, in the order the status filter offers them
    PaymentStatus.PROCESSING: "Processing",
    PaymentStatus.SUCCEEDED: "Succeeded",
    PaymentStatus.REQUIRES_CAPTURE: "Uncaptured",
    PaymentStatus.FAILED: "Failed",
    PaymentStatus.CANCELED: "Canceled",
    PaymentStatus.REFUNDED: "Refunded",
    PaymentStatus.PARTIALLY_REFUNDED: "Partially refunded",
}
REASON_LABELS: dict[str, str] = {  # every RefundReason
    RefundReason.REQUESTED_BY_CUSTOMER: "Requested by customer",
    RefundReason.DUPLICATE: "Duplicate",
    RefundReason.FRAUDULENT: "Fraudulent",
}
_AMOUNT = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")  # fullmatch: "12", "12.50", ".5"; no "１２", "1e3", "1_0"


def to_minor(value: Decimal, currency: str) -> int:
    """Decimal("12.50"), "usd" -> 1250. Raises ValueError when the value has more decimals than the
    currency allows ("12.345" USD, "12.5" JPY)."""
    places = CURRENCIES.get(currency, 2)
    scaled = value.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{currency.upper()} amounts have at most {places} decimal places.")
    return int(scaled)


class AmountField(forms.DecimalField):
    """An amount in major units, written with ASCII digits and an optional decimal point only: Python's
    `Decimal` would also take other scripts' digits ("２５.００"), exponents and underscores."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("required", False)
        kwargs.setdefault("min_value", Decimal("0"))
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 3)
        kwargs.setdefault("error_messages", {"min_value": "Enter an amount of 0 or more."})
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Decimal | None:
        if isinstance(value, str) and value.strip() and not _AMOUNT.fullmatch(value.strip()):
            if _AMOUNT.fullmatch(value.strip().removeprefix("-")):  # "-5": say what is wrong with it
                raise forms.ValidationError(self.error_messages["min_value"], code="min_value")
            raise forms.ValidationError("Enter an amount such as 12.50.", code="invalid")
        return super().to_python(value)


class PaymentFilterForm(forms.Form):
    """The payment list's filters. Every field is optional; the cleaned values map onto
    `payments.selectors.payment_list_for_merchant` through `selector_filters()`."""

    q = forms.CharField(required=False, max_length=80, label="Search", strip=True)
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *STATUS_LABELS.items()])
    date_from = forms.DateField(required=False, label="From")
    date_to = forms.DateField(required=False, label="To")
    customer = forms.CharField(required=False, max_length=40, label="Customer", strip=True)
    currency = forms.ChoiceField(
        required=False, label="Currency", choices=[("", "Any currency"), *((c, c.upper()) for c in sorted(CURRENCIES))]
    )
    amount_min = AmountField(label="Min amount")
    amount_max = AmountField(label="Max amount")
    sort = forms.ChoiceField(required=False, choices=[("newest", "Newest first"), ("oldest", "Oldest first")])

    def __init__(self, data: QueryDict | None = None, *, currency: str = "usd", **kwargs: Any):
        super().__init__(data, **kwargs)
        self.default_currency = currency

    @property
    def amount_currency(self) -> str:
        """The currency the amount fields are in: the one chosen, else the merchant's default. An amount
        filter only ever matches payments in that currency (5000 JPY is not 50.00 USD)."""
        chosen = (self.data.get("currency") or "").strip().lower() if self.is_bound else ""
        return chosen if chosen in CURRENCIES else self.default_currency

    def clean_q(self) -> str:
        q = self.cleaned_data.get("q") or ""
        if q and not search_terms.words(q):
            raise forms.ValidationError(
                "Search by a payment or customer id, words of the description, a customer's email or name, "
                "an amount or a card's last 4 digits."
            )
        return q

    def clean_customer(self) -> str:
        customer = self.cleaned_data.get("customer") or ""
        if customer and not is_id(customer, "cus"):
            raise forms.ValidationError("Enter a customer id (cus_…).")
        return customer

    def _minor(self, name: str) -> int | None:
        value = self.cleaned_data.get(name)
        if value is None:
            return None
        try:
            return to_minor(value, self.amount_currency)
        except ValueError as error:
            self.add_error(name, str(error))
            return None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        low, high = data.get("amount_min"), data.get("amount_max")
        if low is not None and high is not None and low > high:
            self.add_error("amount_max", "The maximum is below the minimum.")
        data["amount_gte"] = self._minor("amount_min")
        data["amount_lte"] = self._minor("amount_max")
        return data

    # --- what the view needs ------------------------------------------------------------------

    @property
    def payment_id(self) -> str | None:
        q = self.cleaned_data.get("q") or ""
        return q if is_id(q, "pay") else None

    @property
    def search_query(self) -> str | None:
        """Free text for the search index: anything but a whole payment or customer id, which are
        read straight from DynamoDB (a GetItem, or the by-customer index)."""
        q = self.cleaned_data.get("q") or ""
        return q if q and not (is_id(q, "pay") or is_id(q, "cus")) else None

    def selector_filters(self) -> dict[str, Any]:
        """Keyword arguments for `payment_list_for_merchant` / `payment_iter_for_merchant`."""
        data = self.cleaned_data
        q = data.get("q") or ""
        customer = data.get("customer") or (q if is_id(q, "cus") else None)
        start, end = data.get("date_from"), data.get("date_to")
        amounts = data.get("amount_gte") is not None or data.get("amount_lte") is not None
        return {
            "currency": data.get("currency") or (self.amount_currency if amounts else None),
            "status": data.get("status") or None,
            "customer_id": customer or None,
            "created_gte": datetime.combine(start, time.min, tzinfo=UTC) if start else None,
            "created_lt": datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC) if end else None,
            "amount_gte": data.get("amount_gte"),
            "amount_lte": data.get("amount_lte"),
            "card_last4": None,  # the last 4 digits are found through the search index (`search_query`)
            "newest_first": data.get("sort") != "oldest",
        }

    def query(self) -> str:
        """The filters as a query string (no cursor): for paging links, the export link and the URL."""
        out = QueryDict(mutable=True)
        if not self.is_bound:
            return ""
        for name in self.fields:
            value = (self.data.get(name) or "").strip()
            if value and not (name == "sort" and value == "newest"):
                out[name] = value
        return out.urlencode()

    @property
    def active(self) -> bool:
        return bool(self.query().replace("sort=oldest", ""))


class CaptureForm(forms.Form):
    amount = AmountField(label="Amount to capture", help_text="Leave empty to capture the full authorized amount.")

    def __init__(self, *args: Any, currency: str = "usd", **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.currency = currency

    def clean_amount(self) -> int | None:
        value = self.cleaned_data.get("amount")
        if value is None:
            return None
        try:
            minor = to_minor(value, self.currency)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from error
        if minor < MIN_AMOUNT:
            raise forms.ValidationError("Enter an amount above zero.")
        return minor


_REFUND_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")  # fullmatch


def refund_key_new() -> str:
    """The idempotency key a refund form carries: made when the form is shown, so submitting the same
    form twice refunds once."""
    return secrets.token_urlsafe(24)


class RefundForm(CaptureForm):
    amount = AmountField(label="Amount to refund", help_text="Leave empty to refund everything not yet refunded.")
    reason = forms.ChoiceField(required=False, choices=[("", "No reason given"), *REASON_LABELS.items()])
    idempotency_key = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, currency: str = "usd", refundable: int | None = None, **kwargs: Any):
        super().__init__(*args, currency=currency, **kwargs)
        self.refundable = refundable  # minor units still refundable, when known: checked before any confirm step

    def clean_amount(self) -> int | None:
        minor = super().clean_amount()
        if minor is not None and self.refundable is not None and minor > self.refundable:
            raise forms.ValidationError(
                f"Refunding {format_money(minor, self.currency)} would exceed the "
                f"{format_money(self.refundable, self.currency)} still refundable."
            )
        return minor

    def clean_idempotency_key(self) -> str | None:
        key = self.cleaned_data.get("idempotency_key") or None
        if key is not None and not _REFUND_KEY.fullmatch(key):
            raise forms.ValidationError("This form is damaged; open the payment again to refund it.")
        return key

    def clean_reason(self) -> str | None:
        reason = self.cleaned_data.get("reason") or None
        if reason is not None and reason not in values(RefundReason):
            raise forms.ValidationError("Choose a reason from the list.")
        return reason
