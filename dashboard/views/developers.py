"""The Developers page for merchant admins: API keys (the secret is shown once), webhook endpoints
(add, edit events, disable, delete, rotate the secret, send a test event) and the delivery log
(filters, resend)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from core.actor import actor_from_request
from core.errors import DomainError
from core.pages import render_page, wants_fragment
from core.roles import Role
from merchants.selectors import api_key_list_for_merchant, merchant_get
from merchants.services import api_keys
from merchants.tenancy import merchant_required
from webhooks.endpoints import (
    ALL_EVENTS,
    MAX_ENDPOINTS,
    SUBSCRIBABLE,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
    webhook_endpoints_migrate,
)
from webhooks.models import DeliveryStatus, WebhookEventType
from webhooks.selectors import webhook_delivery_list_for_merchant, webhook_endpoint_get, webhook_endpoint_list
from webhooks.tasks import webhook_delivery_resend_now, webhook_endpoint_ping

PAGE = "developers/developers.html"


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=100, label="Key name", help_text="What uses this key, e.g. \u201ccheckout server\u201d."
    )


def _context(request: HttpRequest, **extra) -> dict:
    merchant_id = request.tenant.merchant_id
    context = {
        "merchant": merchant_get(merchant_id=merchant_id),
        "keys": api_key_list_for_merchant(merchant_id=merchant_id),
        "key_form": ApiKeyForm(),
    }
    context.update(extra)
    return context


@merchant_required(Role.ADMIN)
@require_GET
def developers(request: HttpRequest) -> HttpResponse:
    return render(request, PAGE, {**_context(request), **_webhook_context(request)})


def _keys_response(request: HttpRequest, *, status: int = 200, **extra) -> HttpResponse:
    """The keys section after a change: the fragment for htmx (which swaps 2xx only), else the page."""
    context = _context(request, **extra)
    if not wants_fragment(request):  # the whole page shows the webhooks too
        context.update(_webhook_context(request))
    return render_page(request, PAGE, "api-keys", context, status=status)


@merchant_required(Role.ADMIN)
@require_POST
def api_key_create(request: HttpRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return _keys_response(request, key_form=form, status=422)
    created = api_keys.api_key_create(
        merchant_id=request.tenant.merchant_id, actor=actor_from_request(request), name=form.cleaned_data["name"]
    )
    # The secret is in this response only: never in a message, the session or a redirect.
    return _keys_response(request, created=created)


@merchant_required(Role.ADMIN)
@require_POST
def api_key_revoke(request: HttpRequest, key_id: str) -> HttpResponse:
    if request.POST.get("confirm") != "yes":
        keys = api_key_list_for_merchant(merchant_id=request.tenant.merchant_id)
        key = next((k for k in keys if k.key_id == key_id), None)
        if key is None:
            raise Http404("No such key.")
        return render(request, "developers/key_revoke_confirm.html", {"key": key})
    try:
        key = api_keys.api_key_revoke(
            key_id=key_id, actor=actor_from_request(request), merchant_id=request.tenant.merchant_id
        )
    except DomainError as error:
        if error.status == 404:
            raise Http404(error.detail) from error
        if wants_fragment(request):
            return _keys_response(request, key_error=error.detail)
        messages.error(request, error.detail)
        return redirect("developers:developers")
    notice = f"Key {key.prefix}… is revoked; requests with it now get 401."
    if wants_fragment(request):
        return _keys_response(request, key_notice=notice)
    messages.success(request, notice)
    return redirect("developers:developers")


# --- webhook endpoints and deliveries -------------------------------------------------------


EVENT_CHOICES = [(ALL_EVENTS, "All events")] + [(name, name) for name in SUBSCRIBABLE]


class EndpointForm(forms.Form):
    url = forms.CharField(max_length=2048, label="Endpoint URL", help_text="https to a public host.")
    events = forms.MultipleChoiceField(
        choices=EVENT_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        label="Events to send",
        help_text="\u201cAll events\u201d includes event types added later.",
    )
    description = forms.CharField(max_length=500, required=False, label="Description")


class DeliveryFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", "Any status")] + [(s, s) for s in DeliveryStatus])
    event_type = forms.ChoiceField(
        required=False, label="Event type", choices=[("", "Any type")] + [(t, t) for t in WebhookEventType]
    )
    endpoint = forms.CharField(required=False, max_length=40)


def _deliveries(merchant_id: str, filters: DeliveryFilterForm) -> list:
    data = filters.cleaned_data if filters.is_valid() else {}
    return webhook_delivery_list_for_merchant(
        merchant_id=merchant_id,
        limit=50,
        status=data.get("status") or None,
        event_type=data.get("event_type") or None,
        endpoint_id=data.get("endpoint") or None,
    ).items


def _webhook_context(request: HttpRequest, **extra) -> dict:
    merchant_id = request.tenant.merchant_id
    webhook_endpoints_migrate(merchant_id=merchant_id, actor=actor_from_request(request))
    filters = DeliveryFilterForm(request.GET or None)
    context = {
        "endpoints": webhook_endpoint_list(merchant_id=merchant_id),
        "endpoint_form": EndpointForm(initial={"events": [ALL_EVENTS]}),
        "delivery_filters": filters,
        "deliveries": _deliveries(merchant_id, filters),
        "max_endpoints": MAX_ENDPOINTS,
    }
    context.update(extra)
    return context


def _webhooks_page(request: HttpRequest, *, status: int = 200, **extra) -> HttpResponse:
    return render(request, PAGE, {**_context(request), **_webhook_context(request, **extra)}, status=status)


def _done(request: HttpRequest, notice: str) -> HttpResponse:
    messages.success(request, notice)
    return redirect(reverse("developers:developers") + "#webhooks")


def _endpoint_or_404(request: HttpRequest, endpoint_id: str):
    try:
        return webhook_endpoint_get(merchant_id=request.tenant.merchant_id, endpoint_id=endpoint_id)
    except DomainError as error:
        raise Http404(error.detail) from error


def _form_error(form: forms.Form, error: DomainError) -> None:
    field = error.param if error.param in form.fields else None
    form.add_error(field, error.detail)


@merchant_required(Role.ADMIN)
@require_GET
def delivery_log(request: HttpRequest) -> HttpResponse:
    """The delivery log alone (its filters swap it in place)."""
    return render_page(request, PAGE, "delivery-log", {**_context(request), **_webhook_context(request)})


@merchant_required(Role.ADMIN)
@require_POST
def endpoint_create(request: HttpRequest) -> HttpResponse:
    form = EndpointForm(request.POST)
    if not form.is_valid():
        return _webhooks_page(request, status=422, endpoint_form=form)
    try:
        endpoint, secret = webhook_endpoint_create(
            merchant_id=request.tenant.merchant_id,
            actor=actor_from_request(request),
            url=form.cleaned_data["url"],
            events=form.cleaned_data["events"],
            description=form.cleaned_data["description"],
        )
    except DomainError as error:
        _form_error(form, error)
        return _webhooks_page(request, status=422, endpoint_form=form)
    # The secret is in this response only: never in a message, the session or a redirect.
    return _webhooks_page(request, new_secret=secret, new_secret_endpoint=endpoint)


@merchant_required(Role.ADMIN)
def endpoint_edit(request: HttpRequest, endpoint_id: str) -> HttpResponse:
    endpoint = _endpoint_or_404(request, endpoint_id)
    if request.method != "POST":
        form = EndpointForm(
            initial={"url": endpoint.url, "events": list(endpoint.events), "description": endpoint.description}
        )
        return render(request, "developers/endpoint_form.html", {"endpoint": endpoint, "form": form})
    form = EndpointForm(request.POST)
    if form.is_valid():
        try:
            webhook_endpoint_update(
                merchant_id=request.tenant.merchant_id,
                endpoint_id=endpoint_id,
                actor=actor_from_request(request),
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
                description=form.cleaned_data["description"],
            )
        except DomainError as error:
            _form_error(form, error)
        else:
            return _done(request, f"Endpoint {form.cleaned_data['url']} is saved.")
    return render(request, "developers/endpoint_form.html", {"endpoint": endpoint, "form": form}, status=422)


@merchant_required(Role.ADMIN)
@require_POST
def endpoint_disable(request: HttpRequest, endpoint_id: str) -> HttpResponse:
    """Disable (`disabled=1`) or enable (`disabled=0`) an endpoint."""
    endpoint = _endpoint_or_404(request, endpoint_id)
    disabled = request.POST.get("disabled", "1") == "1"
    webhook_endpoint_update(
        merchant_id=request.tenant.merchant_id,
        endpoint_id=endpoint_id,
        actor=actor_from_request(request),
        disabled=disabled,
    )
    state = "disabled: no events go to it" if disabled else "enabled"
    return _done(request, f"Endpoint {endpoint.url} is {state}.")


@merchant_required(Role.ADMIN)
@require_POST
def endpoint_delete(request: HttpRequest, endpoint_id: str) -> HttpResponse:
    endpoint = _endpoint_or_404(request, endpoint_id)
    if request.POST.get("confirm") != "yes":
        return render(request, "developers/endpoint_delete_confirm.html", {"endpoint": endpoint})
    webhook_endpoint_delete(
        merchant_id=request.tenant.merchant_id, endpoint_id=endpoint_id, actor=actor_from_request(request)
    )
    return _done(request, f"Endpoint {endpoint.url} is deleted.")


@merchant_required(Role.ADMIN)
@require_POST
def endpoint_rotate(request: HttpRequest, endpoint_id: str) -> HttpResponse:
    endpoint = _endpoint_or_404(request, endpoint_id)
    if request.POST.get("confirm") != "yes":
        return render(request, "developers/secret_rotate_confirm.html", {"endpoint": endpoint})
    endpoint, secret = webhook_endpoint_rotate_secret(
        merchant_id=request.tenant.merchant_id, endpoint_id=endpoint_id, actor=actor_from_request(request)
    )
    return _webhooks_page(request, new_secret=secret, new_secret_endpoint=endpoint, rotated=True)


@merchant_required(Role.ADMIN)
@require_POST
def endpoint_test(request: HttpRequest, endpoint_id: str) -> HttpResponse:
    endpoint = _endpoint_or_404(request, endpoint_id)
    delivery = webhook_endpoint_ping(
        merchant_id=request.tenant.merchant_id, endpoint_id=endpoint_id, actor=actor_from_request(request)
    )
    last = delivery.attempts[-1] if delivery.attempts else None
    if delivery.status == DeliveryStatus.DELIVERED:
        return _done(request, f"Test event sent to {endpoint.url}: it answered {last.status_code}.")
    outcome = (last.error or last.status_code) if last else "queued"
    messages.error(request, f"Test event to {endpoint.url}: {outcome}. See the delivery log.")
    return redirect(reverse("developers:developers") + "#webhooks")


@merchant_required(Role.ADMIN)
@require_POST
def delivery_resend(request: HttpRequest, delivery_id: str) -> HttpResponse:
    try:
        delivery = webhook_delivery_resend_now(
            merchant_id=request.tenant.merchant_id, delivery_id=delivery_id, actor=actor_from_request(request)
        )
    except DomainError as error:
        raise Http404(error.detail) from error
    return _done(request, f"Delivery {delivery.event_id} sent again: {delivery.status}.")
