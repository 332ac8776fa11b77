"""`GET /api/v1/costs/estimate`: the DynamoDB cost estimate for the given volume (API.md, Costs)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router

from core.errors import ValidationFailed
from core.problems import Problem
from costs import forms, report
from costs.estimate import estimate
from costs.schemas import EstimateOut, EstimateQuery

router = Router(tags=["costs"])


@router.get("/costs/estimate", response={200: EstimateOut, 401: Problem, 422: Problem, 429: Problem, 503: Problem})
def cost_estimate(request: HttpRequest, query: Query[EstimateQuery]):
    """Line items (reads, writes, storage, GSI, streams, backup), monthly and yearly totals, on-demand
    vs provisioned and Standard vs Standard-IA, recommendations, and the price table's date. Money is
    a decimal string in US dollars."""
    given = {name: value for name, value in query.dict().items() if value is not None}
    for name, value in given.items():
        if isinstance(value, bool):
            given[name] = "true" if value else "false"
    inputs, form = forms.parse(given)
    if inputs is None:
        problems = form.problems()
        raise ValidationFailed(
            problems[0]["detail"], param=problems[0]["param"], code="invalid_estimate", errors=problems
        )
    return report.estimate_payload(estimate(inputs))
