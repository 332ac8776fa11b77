"""The audit log's filters, as in the URL."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from django import forms
from django.http import QueryDict

from audit.selectors import AuditFilters


class AuditFilterForm(forms.Form):
    actor = forms.CharField(required=False, max_length=150, strip=True, label="Actor")
    action = forms.CharField(required=False, max_length=100, strip=True, label="Action")
    entity = forms.CharField(required=False, max_length=100, strip=True, label="Entity")
    outcome = forms.ChoiceField(
        required=False, choices=[("", "Any outcome"), ("success", "Success"), ("failure", "Failure")], label="Outcome"
    )
    date_from = forms.DateField(required=False, label="From")
    date_to = forms.DateField(required=False, label="To")
    scope = forms.ChoiceField(required=False, choices=[("", "This merchant"), ("ops", "Platform (ops)")], label="Scope")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return data

    def filters(self) -> AuditFilters:
        data = self.cleaned_data
        start, end = data.get("date_from"), data.get("date_to")
        return AuditFilters(
            actor=data.get("actor") or None,
            action=data.get("action") or None,
            entity_id=data.get("entity") or None,
            outcome=data.get("outcome") or None,
            occurred_gte=datetime.combine(start, time.min, tzinfo=UTC) if start else None,
            occurred_lt=datetime.combine(end, time.min, tzinfo=UTC) + timedelta(days=1) if end else None,
        )

    def query(self) -> str:
        """The filters as a tidy query string (empty fields left out)."""
        data = QueryDict(mutable=True)
        for name in self.fields:
            value = self.data.get(name)
            if value:
                data[name] = value
        return data.urlencode()

    @property
    def active(self) -> bool:
        return any(self.data.get(name) for name in self.fields if name != "scope")
