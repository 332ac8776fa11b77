"""Forms of the dispute pages: the evidence (text, a draft or submitted), an evidence file, and the
ops form that opens a dispute on a payment."""

from __future__ import annotations

from typing import Any

from django import forms

from disputes.enums import DisputeReason, DisputeStatus
from disputes.schemas import MAX_EVIDENCE_TEXT
from payments.forms import CaptureForm

REASON_LABELS = {
    DisputeReason.FRAUDULENT: "Fraudulent",
    DisputeReason.PRODUCT_NOT_RECEIVED: "Product not received",
    DisputeReason.PRODUCT_UNACCEPTABLE: "Product unacceptable",
    DisputeReason.DUPLICATE: "Duplicate",
    DisputeReason.SUBSCRIPTION_CANCELED: "Subscription canceled",
    DisputeReason.CREDIT_NOT_PROCESSED: "Credit not processed",
    DisputeReason.GENERAL: "General",
}


STATUS_LABELS = {
    DisputeStatus.NEEDS_RESPONSE: "Needs response",
    DisputeStatus.UNDER_REVIEW: "Under review",
    DisputeStatus.WON: "Won",
    DisputeStatus.LOST: "Lost",
    DisputeStatus.ACCEPTED: "Accepted",
}


class EvidenceForm(forms.Form):
    text = forms.CharField(
        label="Evidence text",
        required=False,
        max_length=MAX_EVIDENCE_TEXT,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="What shows the charge was right: delivery, correspondence, the customer's use of the product.",
    )


class EvidenceFileForm(forms.Form):
    file = forms.FileField(label="Evidence file", help_text="PDF or an image (PNG, JPEG, GIF, WebP), at most 5 MB.")


class DisputeOpenForm(CaptureForm):
    """Ops: open a dispute as the processor would. The amount defaults to what is captured and not refunded."""

    reason = forms.ChoiceField(label="Reason", choices=list(REASON_LABELS.items()), initial=DisputeReason.FRAUDULENT)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["amount"].label = "Disputed amount"
        self.fields["amount"].help_text = "Leave empty to dispute everything captured and not refunded."
