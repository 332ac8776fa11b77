"""The cost page: the estimate recalculated as the form changes (htmx), and, for ops staff, what the
app really consumed."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from core.pages import render_page
from costs import forms, report, selectors
from costs.estimate import estimate
from costs.inputs import Inputs
from costs.prices import price_table
from merchants.tenancy import merchant_required


@merchant_required()
def cost_estimate(request: HttpRequest) -> HttpResponse:
    form = forms.EstimateForm(request.GET or None)
    if form.is_bound and form.is_valid():
        inputs = form.inputs()
    else:
        inputs = Inputs()
        if not form.is_bound:
            form = forms.EstimateForm(initial=forms.initial(inputs))
    result = estimate(inputs) if not form.errors else None
    context = {"form": form, "estimate": result, "prices": price_table()}
    if result is not None:
        context["chart"] = {
            "labels": [item.label for item in result.line_items],
            "estimate": [str(item.amount) for item in result.line_items],
        }
    if request.tenant.is_staff:
        context.update(_actual_usage(inputs, result, context.get("chart")))
    return render_page(request, "costs/cost_estimate.html", "cost-report", context)


def _actual_usage(inputs: Inputs, result, chart: dict | None) -> dict:
    measured = selectors.measured_usage()
    units = measured.units(queries_per_transaction=inputs.queries_per_transaction)
    projection = estimate(inputs, units) if units is not None and result is not None else None
    if projection is not None and chart is not None:
        chart["measured"] = [str(item.amount) for item in projection.line_items]
    sizes = selectors.table_sizes()
    return {
        "measured": measured,
        "projection": projection,
        "projection_payload": report.estimate_payload(projection) if projection else None,
        "table_sizes": sizes,
        "table_bytes": sum(size.size_bytes for size in sizes),
        "table_items": sum(size.item_count for size in sizes),
    }
