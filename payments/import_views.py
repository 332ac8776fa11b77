"""The "Import payments" page: a merchant admin uploads a CSV of historical payments from another
processor, which `payments.services.imports` checks whole and then writes (or names every bad line).

The import runs in the request, so the page takes files up to `PAGE_MAX_BYTES`; larger ones go
through `manage.py payments import`. An import that stopped (a timeout, a restart) resumes where it
stopped when the same file is uploaded again, and a file imported before is not imported twice."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.actor import actor_from_request
from core.errors import DomainError
from core.roles import Role
from merchants.tenancy import merchant_required
from payments.imports import COLUMNS, REQUIRED, ImportInvalid
from payments.services.imports import payment_import

FORM = "payments/payment_import.html"
PAGE_MAX_BYTES = 2 * 1024 * 1024


@merchant_required(Role.ADMIN)
def payment_import_page(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {
        "section": "payments",
        "max_mb": PAGE_MAX_BYTES // (1024 * 1024),
        "required": REQUIRED,
        "optional": [column for column in COLUMNS if column not in REQUIRED],
    }
    if request.method != "POST":
        return render(request, FORM, context)
    upload = request.FILES.get("file")
    if upload is None:
        context["error"] = "Choose a CSV file of payments to import."
        return render(request, FORM, context, status=422)
    if upload.size is not None and upload.size > PAGE_MAX_BYTES:
        context["error"] = (
            f"{upload.name} is larger than {context['max_mb']} MB: import it with "
            "`manage.py payments import FILE --merchant MER_ID`, which shows its progress and resumes if stopped."
        )
        return render(request, FORM, context, status=422)
    try:
        result = payment_import(
            merchant_id=request.tenant.merchant_id,
            actor=actor_from_request(request),
            data=upload.read(),
            filename=upload.name or "import.csv",
        )
    except ImportInvalid as error:
        context.update(error=f"{upload.name}: {error.detail}", row_errors=error.errors)
        return render(request, FORM, context, status=422)
    except DomainError as error:
        context["error"] = f"{upload.name}: {error.detail}"
        return render(request, FORM, context, status=422)
    context["result"] = result
    return render(request, FORM, context)
