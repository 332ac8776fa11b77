"""Payment pages: thin views over selectors and the same services the API uses.

The list's filters live in the URL (htmx pushes it), so every view of the list can be bookmarked,
shared and exported. Actions confirm first: htmx asks with `hx-confirm`; without JavaScript the
POST answers with a confirmation page whose button posts again with `confirm=yes`. A refund form
carries an idempotency key made when it is shown, so the same form sent twice refunds once."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import push_url

from audit.selectors import audit_event_list_for_entity
from audit.services import audit_record
from core.actor import actor_from_request
from core.errors import DomainError, NotFound
from core.ids import now as clock_now
from core.pages import render_page, wants_fragment
from core.roles import Role
from core.templatetags.paysite import money
from customers.pii import customer_view, may_see_pii
from customers.selectors import customer_get
from idempotency.services import IdempotencyKeyInUse, IdempotencyKeyReused, request_fingerprint
from merchants.selectors import merchant_get
from merchants.tenancy import merchant_required
from payments import exports, list_search, selectors, services
from payments.declines import decline_for, decline_labels
from payments.enums import REFUNDABLE_STATUSES, PaymentStatus, TransactionKind
from payments.forms import REASON_LABELS, CaptureForm, PaymentFilterForm, RefundForm, refund_key_new
from payments.models import Payment, Transaction
from payments.representations import refund_or_request_response
from payments.services import refund_requests
from payments.services.captures import authorization_expires_at
from payments.services.changes import Outcome
from payments.services.expiry import EXPIRED_REASON
from payments.services.idempotency import idempotent_change
from webhooks.selectors import webhook_delivery_list_for_entity

PAGE_SIZE = 25
LIST = "payments/payment_list.html"
DETAIL = "payments/payment_detail.html"


# --- list ------------------------------------------------------------------------------------


def _list_context(request: HttpRequest) -> dict[str, Any]:
    merchant = merchant_get(merchant_id=request.tenant.merchant_id)
    form = PaymentFilterForm(request.GET, currency=merchant.default_currency)
    context: dict[str, Any] = {"form": form, "merchant": merchant, "payments": [], "has_next": False, "has_prev": False}
    if not form.is_valid():
        return context
    query = form.query()
    context.update(query=query, sort_link=_sort_link(form), newest_first=form.cleaned_data.get("sort") != "oldest")
    if form.payment_id:  # an exact id: one GetItem
        with contextlib.suppress(NotFound):
            context["payments"] = [selectors.payment_get(merchant_id=merchant.merchant_id, payment_id=form.payment_id)]
        context.update(first=1 if context["payments"] else 0, last=len(context["payments"]))
        return context

    filters = form.selector_filters()
    starting_after = request.GET.get("starting_after") or None
    ending_before = request.GET.get("ending_before") or None
    try:
        position = max(1, int(request.GET.get("pos") or 1))
    except ValueError:
        position = 1
    try:
        if form.search_query:  # free text: the search index finds the ids, DynamoDB reads the payments
            items, found, has_prev = list_search.search_page(
                merchant_id=merchant.merchant_id,
                query=form.search_query,
                filters=filters,
                limit=PAGE_SIZE,
                starting_after=starting_after,
                ending_before=ending_before,
            )
            has_next, context["total"] = found.has_more, found.total
            if not has_prev:
                position = 1
        elif ending_before:  # the previous page: read backwards from the cursor, then turn it round
            page = selectors.payment_list_for_merchant(
                merchant_id=merchant.merchant_id,
                limit=PAGE_SIZE,
                starting_after=ending_before,
                **{**filters, "newest_first": not filters["newest_first"]},
            )
            items = list(reversed(page.items))
            has_prev, has_next = page.has_more, True
            if not has_prev:
                position = 1
        else:
            page = selectors.payment_list_for_merchant(
                merchant_id=merchant.merchant_id, limit=PAGE_SIZE, starting_after=starting_after, **filters
            )
            items = page.items
            has_prev, has_next = bool(starting_after), page.has_more
            if not starting_after:
                position = 1
    except NotFound as error:  # a malformed cursor
        raise Http404(str(error)) from error
    context.update(
        payments=items,
        has_next=has_next and bool(items),
        has_prev=has_prev and bool(items),
        first=position if items else 0,
        last=position + len(items) - 1,
    )
    if items:
        context["next_link"] = _link(query, starting_after=items[-1].payment_id, pos=position + len(items))
        context["prev_link"] = _link(query, ending_before=items[0].payment_id, pos=max(1, position - PAGE_SIZE))
    return context


def _link(query: str, **params: Any) -> str:
    more = QueryDict(mutable=True)
    for name, value in params.items():
        more[name] = str(value)
    return "?" + "&".join(part for part in (query, more.urlencode()) if part)


def _sort_link(form: PaymentFilterForm) -> str:
    """The same filters in the other order, from the first page."""
    data = QueryDict(form.query(), mutable=True)
    data["sort"] = "newest" if data.get("sort") == "oldest" else "oldest"
    return "?" + data.urlencode()


@merchant_required()
@require_GET
def payment_list(request: HttpRequest) -> HttpResponse:
    context = _list_context(request)
    context["customer_names"] = list_search.customer_labels(request.tenant, context["payments"])
    response = render_page(request, LIST, "payment-table", context)
    if wants_fragment(request) and "query" in context:
        # The address bar gets the tidy URL (no empty fields, no default order): shareable as is.
        paging = {k: request.GET[k] for k in ("starting_after", "ending_before", "pos") if request.GET.get(k)}
        push_url(response, reverse("payments:payment-list") + _link(context["query"], **paging).rstrip("?"))
    return response


# --- export ----------------------------------------------------------------------------------


@merchant_required()
@require_GET
def payment_export(request: HttpRequest) -> HttpResponse:
    """CSV of exactly what the list shows for the same filters (every page of it), amounts in decimal
    major units next to their currency (the API export keeps integer minor units)."""
    merchant_id = request.tenant.merchant_id
    merchant = merchant_get(merchant_id=merchant_id)
    form = PaymentFilterForm(request.GET, currency=merchant.default_currency)
    if not form.is_valid():
        messages.error(request, "Fix the filters before exporting.")
        return redirect(f"{reverse('payments:payment-list')}?{request.GET.urlencode()}")
    if form.payment_id:  # the list showed that one payment (or none)
        try:
            found = [selectors.payment_get(merchant_id=merchant_id, payment_id=form.payment_id)]
        except NotFound:
            found = []
        lines = exports.csv_lines(found, major=True)
    elif form.search_query:  # every payment the search finds, with the list's other filters
        found_all = list_search.search_all(
            merchant_id=merchant_id, query=form.search_query, filters=form.selector_filters()
        )
        lines = exports.csv_lines(found_all, major=True)
    else:  # the same filters as the list, every page of them, streamed by the API's exporter
        lines = exports.payment_export_lines(merchant_id=merchant_id, major=True, **form.selector_filters())
    audit_record(
        merchant_id=merchant_id,
        actor=actor_from_request(request),
        action="payment.export",
        entity_type="payment",
        entity_id="-",
        detail=form.query() or "all payments",
    )
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="payments-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


# --- detail and actions ----------------------------------------------------------------------


def _detail_context(request: HttpRequest, payment: Payment, **overrides: Any) -> dict[str, Any]:
    """The detail page's context; `overrides` (a bound form with its errors, a notice) replace or add."""
    tenant = request.tenant
    customer = None
    if payment.customer_id:
        try:
            customer = customer_view(
                customer_get(merchant_id=tenant.merchant_id, customer_id=payment.customer_id),
                reveal=may_see_pii(tenant),
            )
        except NotFound:
            customer = None
    can_act = tenant.allows(Role.OPERATOR)
    movable = not payment.imported  # an imported payment's money moved at the other processor: it acts there
    ledger = selectors.transaction_list_for_payment(payment_id=payment.payment_id)
    expires_at = authorization_expires_at(payment)
    expired = expires_at is not None and clock_now() >= expires_at  # due: the sweep cancels it shortly
    fees = _fees(ledger)
    context = {
        "payment": payment,
        "ledger": ledger,
        "state": {  # which amounts the page shows, by what happened to the payment
            "failed": payment.status == PaymentStatus.FAILED,
            "processing": payment.status == PaymentStatus.PROCESSING,
            "canceled": payment.status == PaymentStatus.CANCELED,
            "captured_once": payment.status in (*REFUNDABLE_STATUSES, PaymentStatus.REFUNDED),
        },
        "decline": decline_for(payment.failure_code) if payment.status == PaymentStatus.FAILED else None,
        "expires_at": expires_at,
        "authorization_expired": expired,
        "expired_cancel": next(
            (e for e in ledger if e.kind == TransactionKind.CANCEL and e.reason == EXPIRED_REASON), None
        ),
        "fees": fees,
        "fees_total": sum(amount for _, amount, _ in fees),
        "refund_open": request.GET.get("refund") == "open",
        "customer": customer,
        "deliveries": webhook_delivery_list_for_entity(merchant_id=tenant.merchant_id, entity_id=payment.payment_id),
        "events": audit_event_list_for_entity(merchant_id=tenant.merchant_id, entity_id=payment.payment_id),
        "can_act": can_act,
        "can_capture": can_act and movable and payment.status == PaymentStatus.REQUIRES_CAPTURE and not expired,
        "can_refund": can_act and movable and payment.status in REFUNDABLE_STATUSES,
        "refundable": _refundable(payment),
        "still_refundable": _still_refundable(payment),
        "capture_form": CaptureForm(currency=payment.currency),
        "refund_form": RefundForm(currency=payment.currency, refundable=_still_refundable(payment)),
        "refund_key": refund_key_new(),  # a new one each time the form is shown: one refund per form
        # Ledger reasons in words: refund reasons, decline codes, an expired authorization.
        "reason_labels": {**REASON_LABELS, **decline_labels(), EXPIRED_REASON: "Authorization expired"},
    }
    context.update(overrides)
    return context


def _fees(ledger: list[Transaction]) -> list[tuple[str, int, str]]:
    """The fees known for a payment, from its ledger: (label, amount, the entry's id) for each
    settlement that said its fee and each dispute fee. Empty while none is known."""
    fees = []
    for entry in ledger:
        if entry.kind == TransactionKind.SETTLEMENT and getattr(entry, "fee", None) is not None:
            fees.append(("Processing fee", int(entry.fee), entry.settlement_id or entry.txn_id))
        elif entry.kind == TransactionKind.DISPUTE_FEE:
            fees.append(("Dispute fee", int(entry.amount), entry.txn_id))
    return fees


def _payment_or_404(request: HttpRequest, payment_id: str) -> Payment:
    try:
        return selectors.payment_get(merchant_id=request.tenant.merchant_id, payment_id=payment_id)
    except NotFound as error:
        raise Http404(str(error)) from error


@merchant_required()
@require_GET
def payment_detail(request: HttpRequest, payment_id: str) -> HttpResponse:
    payment = _payment_or_404(request, payment_id)
    return render_page(request, DETAIL, "payment-panel", _detail_context(request, payment))


ACTIONS = {
    "capture": ("Capture", CaptureForm),
    "cancel": ("Cancel", None),
    "refund": ("Refund", RefundForm),
}


def _act(request: HttpRequest, payment_id: str, action: str) -> HttpResponse:
    payment = _payment_or_404(request, payment_id)
    title, form_class = ACTIONS[action]
    confirmed = request.POST.get("confirm") == "yes"
    data: QueryDict = request.POST
    if action == "refund" and not confirmed and not data.get("idempotency_key"):
        data = request.POST.copy()  # the confirmation page carries the key of this one refund
        data["idempotency_key"] = refund_key_new()
    limits = {"refundable": _still_refundable(payment)} if action == "refund" else {}
    form = form_class(data, currency=payment.currency, **limits) if form_class else None
    if form is not None and not form.is_valid():
        return _panel(request, payment, status=422, **{f"{action}_form": form, "error": "Check the highlighted field."})

    if not confirmed and form is not None and action == "refund" and wants_fragment(request):
        # The refund dialog's confirm step, after the amount was checked: it repeats the amount.
        amount = form.cleaned_data["amount"] or limits["refundable"]
        return _panel(request, payment, refund_form=form, refund_confirm=amount)
    if not confirmed:  # without JavaScript: confirm on a page of its own
        return render(
            request,
            "payments/payment_confirm.html",
            {"payment": payment, "action": action, "title": title, "form": form, "refundable": _refundable(payment)},
        )

    actor = actor_from_request(request)
    merchant_id = request.tenant.merchant_id
    try:
        if action == "capture":
            payment = services.payment_capture(
                merchant_id=merchant_id, payment_id=payment_id, actor=actor, amount=form.cleaned_data["amount"]
            )
            notice = "Payment captured."
        elif action == "cancel":
            payment = services.payment_cancel(merchant_id=merchant_id, payment_id=payment_id, actor=actor)
            notice = "Authorization canceled; the customer's funds are released."
        else:
            payment, notice = _refund(request, payment_id, form, actor=actor)
    except IdempotencyKeyInUse:
        payment = _payment_or_404(request, payment_id)
        return _panel(request, payment, status=409, error="This refund is being made; reload the page to see it.")
    except IdempotencyKeyReused:
        payment = _payment_or_404(request, payment_id)
        error = "This form was used for another refund already; open the payment again to refund more."
        return _panel(request, payment, status=409, error=error)
    except DomainError as error:
        if form is not None and error.param == "amount":
            form.add_error("amount", error.detail)
            return _panel(request, payment, status=422, **{f"{action}_form": form, "error": error.detail})
        payment = _payment_or_404(request, payment_id)  # show what is true now
        return _panel(request, payment, status=409 if error.status == 409 else 422, error=error.detail)

    if wants_fragment(request):
        return _panel(request, payment, notice=notice)
    messages.success(request, notice)
    return redirect("payments:payment-detail", payment_id=payment.payment_id)


def _refund(request: HttpRequest, payment_id: str, form: Any, *, actor: Any) -> tuple[Payment, str]:
    """The refund, once per form: its idempotency key (made when the form was shown) goes through the
    API's idempotency records, so a second submission of the same form answers what the first did."""
    amount, reason = form.cleaned_data["amount"], form.cleaned_data["reason"]
    merchant_id = request.tenant.merchant_id
    outcomes: list[Outcome] = []

    def render(outcome: Outcome) -> tuple[int, str]:
        outcomes[:] = [outcome]
        return refund_or_request_response(outcome)

    stored = idempotent_change(
        merchant_id=merchant_id,
        endpoint=f"page POST /payments/{payment_id}/refund/",
        key=form.cleaned_data["idempotency_key"] or refund_key_new(),
        fingerprint=request_fingerprint(body=json.dumps({"amount": amount, "reason": reason})),
        change=lambda hook: refund_requests.refund_or_request_create(
            merchant_id=merchant_id,
            payment_id=payment_id,
            actor=actor,
            channel=refund_requests.Channel.DASHBOARD,
            amount=amount,
            reason=reason,
            also_in_transaction=hook,
        ),
        render=render,
    )
    if stored.replayed or not outcomes:
        payment = _payment_or_404(request, payment_id)  # as it is now
        return payment, "This refund was made already, when the form was first sent; it was not made again."
    outcome = outcomes[0]
    if outcome.refund_request is not None:  # at or above the merchant's threshold: four-eyes approval
        asked = outcome.refund_request
        return outcome.payment, (
            f"A refund of {money(int(asked.amount), asked.currency)} needs approval: request {asked.request_id} "
            "waits for another operator or admin on the Refund approvals page."
        )
    refund = outcome.refund
    return outcome.payment, f"Refunded {money(refund.amount if refund else 0, outcome.payment.currency)}."


def _refundable(payment: Payment) -> int:
    return int(payment.amount_captured or 0) - int(payment.amount_refunded or 0)


def _still_refundable(payment: Payment) -> int:
    """What a refund may still take: refund requests awaiting approval count against it."""
    return max(0, _refundable(payment) - int(payment.amount_pending_refund or 0))


def _panel(request: HttpRequest, payment: Payment, *, status: int = 200, **overrides: Any) -> HttpResponse:
    """The payment panel after an action: the fragment for htmx (always 200: htmx swaps 2xx answers
    only), the whole page with `status` otherwise."""
    return render_page(request, DETAIL, "payment-panel", _detail_context(request, payment, **overrides), status=status)


@merchant_required(Role.OPERATOR)
@require_POST
def payment_capture(request: HttpRequest, payment_id: str) -> HttpResponse:
    return _act(request, payment_id, "capture")


@merchant_required(Role.OPERATOR)
@require_POST
def payment_cancel(request: HttpRequest, payment_id: str) -> HttpResponse:
    return _act(request, payment_id, "cancel")


@merchant_required(Role.OPERATOR)
@require_POST
def payment_refund(request: HttpRequest, payment_id: str) -> HttpResponse:
    return _act(request, payment_id, "refund")
