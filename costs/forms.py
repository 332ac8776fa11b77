"""The estimate's inputs, parsed in one place for the page, the API and the command, so the three
give the same answer for the same inputs. Every field is optional: a missing one takes the default
of `costs.inputs.Inputs`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from decimal import Decimal
from typing import Any

from django import forms

from costs.inputs import CAPACITY_MODES, CONSISTENCIES, Inputs
from costs.prices import TABLE_CLASSES, price_table

DEFAULTS = Inputs()
_SWITCH = [("true", "on"), ("false", "off")]


def _switch(label: str, help_text: str) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=_SWITCH,
        coerce=lambda value: value in (True, "true", "True", "1", "on"),
        required=False,
        empty_value=None,
        help_text=help_text,
    )


class EstimateForm(forms.Form):
    monthly_transactions = forms.IntegerField(label="Payments a month", min_value=0, required=False)
    queries_per_transaction = forms.DecimalField(
        label="Queries per payment", min_value=0, max_digits=8, decimal_places=3, required=False
    )
    retention_days = forms.IntegerField(label="Retention (days)", min_value=1, required=False)
    region = forms.ChoiceField(label="Region", choices=(), required=False)
    table_class = forms.ChoiceField(label="Table class", choices=list(TABLE_CLASSES.items()), required=False)
    capacity_mode = forms.ChoiceField(label="Capacity mode", choices=list(CAPACITY_MODES.items()), required=False)
    utilisation = forms.DecimalField(
        label="Provisioned utilisation (0-1)", max_digits=4, decimal_places=3, required=False
    )
    item_size_bytes = forms.IntegerField(
        label="Payment item size (bytes)", min_value=1, required=False, help_text="Empty: as the app writes it."
    )
    items_per_query = forms.IntegerField(label="Items per query", min_value=1, required=False)
    read_consistency = forms.ChoiceField(
        label="Read consistency", choices=[(c, c) for c in CONSISTENCIES], required=False
    )
    gsis = forms.IntegerField(
        label="GSIs on payments", min_value=0, required=False, help_text="Empty: the app's own indexes."
    )
    refund_rate = forms.DecimalField(label="Refunded share (0-1)", max_digits=4, decimal_places=3, required=False)
    customer_share = forms.DecimalField(
        label="Share with a customer (0-1)", max_digits=4, decimal_places=3, required=False
    )
    api_share = forms.DecimalField(
        label="Share through the API (0-1)",
        max_digits=4,
        decimal_places=3,
        required=False,
        help_text="Key lookup and Idempotency-Key record.",
    )
    webhook_endpoints = forms.DecimalField(
        label="Webhook endpoints per merchant",
        min_value=0,
        max_digits=5,
        decimal_places=2,
        required=False,
        help_text="Enabled endpoints subscribed to a change's event, on average (0-16): a delivery each.",
    )
    streams = _switch("Stream", "The payments table's stream.")
    pitr = _switch("Point-in-time recovery", "Continuous backups of the tables.")
    backups = forms.IntegerField(label="On-demand backups kept", min_value=0, required=False)
    restores_per_month = forms.IntegerField(label="Restores a month", min_value=0, required=False)
    replicas = forms.IntegerField(label="Other regions (global table)", min_value=0, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [(code, f"{code} · {r.name}") for code, r in price_table().regions.items()]
        for name, field in self.fields.items():
            if not isinstance(field.widget, forms.Select):
                field.widget.attrs.setdefault("class", "input is-small")
            default = getattr(DEFAULTS, name)
            if default is not None:
                field.widget.attrs.setdefault(
                    "placeholder", str(default).lower() if isinstance(default, bool) else default
                )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for name, problem in self.inputs().validate().items():
            if name not in self.errors:
                self.add_error(name, problem)
        return cleaned

    def inputs(self) -> Inputs:
        """The `Inputs` the form describes (call after `is_valid()`)."""
        given = {
            name: value
            for name, value in self.cleaned_data.items()
            if value is not None and value != "" and name in {f.name for f in fields(Inputs)}
        }
        decimals = ("queries_per_transaction", "utilisation", "refund_rate", "customer_share", "api_share")
        for name in (*decimals, "webhook_endpoints"):
            if name in given:
                given[name] = Decimal(given[name])
        return Inputs(**given)

    def problems(self) -> list[dict[str, str]]:
        return [
            {"param": name, "detail": str(message)} for name, messages in self.errors.items() for message in messages
        ]


def parse(data: Mapping[str, Any]) -> tuple[Inputs | None, EstimateForm]:
    """`Inputs` from raw values (query string, command options), or None with the form's errors."""
    form = EstimateForm({key: value for key, value in data.items() if value is not None})
    if not form.is_valid():
        return None, form
    return form.inputs(), form


def initial(inputs: Inputs) -> dict[str, Any]:
    """Form values that describe `inputs` (to show the defaults in the page's fields)."""
    out: dict[str, Any] = {}
    for field in fields(Inputs):
        value = getattr(inputs, field.name)
        if isinstance(value, bool):
            value = "true" if value else "false"
        out[field.name] = value
    return out
