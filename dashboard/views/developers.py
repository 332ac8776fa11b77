"""The Developers page for merchant admins: API keys (the secret is shown once), the webhook
endpoint and its signing secret, and the latest webhook deliveries."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from core.actor import actor_from_request
from core.errors import DomainError
from core.pages import render_page, wants_fragment
from core.roles import Role
from merchants.selectors import api_key_list_for_merchant, merchant_get
from merchants.services import api_keys
from merchants.services.merchants import (
    merchant_webhook_secret_reveal,
    merchant_webhook_secret_rotate,
    merchant_webhook_url_set,
)
from merchants.tenancy import merchant_required
from webhooks.selectors import webhook_delivery_list_for_merchant

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
        "deliveries": _recent_deliveries(merchant_id),
        **_webhook_context(request),
    }
    context.update(extra)
    return context


def _recent_deliveries(merchant_id: str) -> list:
    return webhook_delivery_list_for_merchant(merchant_id=merchant_id, limit=20).items


@merchant_required(Role.ADMIN)
@require_GET
def developers(request: HttpRequest) -> HttpResponse:
    return render(request, PAGE, _context(request))


def _keys_response(request: HttpRequest, *, status: int = 200, **extra) -> HttpResponse:
    """The keys section after a change: the fragment for htmx (which swaps 2xx only), else the page."""
    return render_page(request, PAGE, "api-keys", _context(request, **extra), status=status)


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


# --- webhook endpoint ------------------------------------------------------------------------


class WebhookForm(forms.Form):
    url = forms.URLField(required=False, max_length=2000, label="Endpoint URL", assume_scheme="https")


def _webhook_context(request: HttpRequest, **extra) -> dict:
    merchant = merchant_get(merchant_id=request.tenant.merchant_id)
    context = {
        "merchant": merchant,
        "webhook_secret": merchant_webhook_secret_reveal(merchant=merchant),
        "webhook_form": WebhookForm(initial={"url": merchant.webhook_url or ""}),
    }
    context.update(extra)
    return context


def _webhook_response(request: HttpRequest, *, status: int = 200, **extra) -> HttpResponse:
    if wants_fragment(request):  # the webhook section alone: no need to read the keys and deliveries
        return render_page(request, PAGE, "webhook", _webhook_context(request, **extra))
    if status == 200 and "webhook_notice" in extra:
        messages.success(request, extra["webhook_notice"])
        return redirect("developers:developers")
    return render_page(
        request, PAGE, "webhook", {**_context(request), **_webhook_context(request, **extra)}, status=status
    )


@merchant_required(Role.ADMIN)
@require_POST
def webhook_update(request: HttpRequest) -> HttpResponse:
    form = WebhookForm(request.POST)
    if not form.is_valid():
        return _webhook_response(request, status=422, webhook_form=form)
    try:
        merchant_webhook_url_set(
            merchant_id=request.tenant.merchant_id,
            actor=actor_from_request(request),
            url=form.cleaned_data["url"] or None,
        )
    except DomainError as error:
        form.add_error("url", error.detail)
        return _webhook_response(request, status=422, webhook_form=form)
    url = form.cleaned_data["url"]
    return _webhook_response(request, webhook_notice=f"Events now go to {url}." if url else "Webhook events are off.")


@merchant_required(Role.ADMIN)
@require_POST
def webhook_rotate(request: HttpRequest) -> HttpResponse:
    if request.POST.get("confirm") != "yes":
        return render(request, "developers/secret_rotate_confirm.html", {})
    merchant_webhook_secret_rotate(merchant_id=request.tenant.merchant_id, actor=actor_from_request(request))
    return _webhook_response(
        request, rotated=True, webhook_notice="The signing secret is rotated. Update your endpoint's copy."
    )
