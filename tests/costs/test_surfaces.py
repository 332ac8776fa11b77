"""The cost page, `GET /api/v1/costs/estimate` and `manage.py costs estimate` agree on the same inputs."""

import json
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from paysite.api import api
from tests.factories import make_api_key, make_merchant, make_user

SEED_QUERY = {"monthly_transactions": "1000000", "queries_per_transaction": "5.2", "retention_days": "90"}
SEED_OPTIONS = ["--monthly-transactions", "1000000", "--queries-per-transaction", "5.2", "--retention-days", "90"]


@pytest.fixture
def merchant():
    return make_merchant("Acme")


@pytest.fixture
def api_key(merchant):
    return make_api_key(merchant.merchant_id)


@pytest.fixture
def viewer(client, db, merchant):
    user = make_user(merchant_id=merchant.merchant_id, role="viewer")
    client.force_login(user)
    return user


def _api(client, secret, **params):
    return client.get("/api/v1/costs/estimate", params, HTTP_AUTHORIZATION=f"Bearer {secret}")


def _command(*options: str) -> str:
    out = StringIO()
    call_command("costs", "estimate", *options, stdout=out)
    return out.getvalue()


def _command_amounts(text: str) -> dict[str, str]:
    return dict(re.findall(r"^([A-Z][A-Za-z ]+):\s+\$([\d,.]+)$", text, flags=re.MULTILINE))


def _page_amounts(html: str) -> dict[str, str]:
    rows = re.findall(r'<tr data-line="(\w+)"><td>[^<]+</td><td class="has-text-right">\$([\d,.]+)</td>', html)
    return dict(rows)


# --- API -------------------------------------------------------------------------------------


def test_api_estimate_returns_line_items_totals_comparison_advice_and_price_date(client, api_key):
    response = _api(client, api_key, **SEED_QUERY, region="us-east-1")

    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "cost_estimate" and body["currency"] == "usd"
    assert [item["key"] for item in body["line_items"]] == ["read", "write", "storage", "gsi", "streams", "backup"]
    assert (body["total_monthly"], body["total_yearly"]) == ("15.11", "181.32")
    assert body["comparison"]["capacity_mode"]["break_even_utilisation"] == "0.2889"
    assert {advice["key"] for advice in body["recommendations"]} >= {"capacity_mode", "table_class"}
    assert body["prices"]["read_on"] and body["prices"]["region_name"] == "US East (N. Virginia)"


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"monthly_transactions": "-5"}, "monthly_transactions"),
        ({"monthly_transactions": "lots"}, "monthly_transactions"),
        ({"region": "mars-1"}, "region"),
        ({"utilisation": "3"}, "utilisation"),
        ({"capacity_mode": "reserved"}, "capacity_mode"),
    ],
)
def test_api_bad_input_is_a_422_problem_naming_the_parameter(client, api_key, params, param):
    response = _api(client, api_key, **params)

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    problem = json.loads(response.content)
    assert problem["status"] == 422 and problem["param"] == param


def test_api_estimate_needs_an_api_key(client, db):
    assert client.get("/api/v1/costs/estimate").status_code == 401


def test_api_declares_every_response_code():
    operation = api.get_openapi_schema()["paths"]["/api/v1/costs/estimate"]["get"]

    # 429 and 503 come from the API key check every operation shares (rate limit, DynamoDB down)
    assert {str(code) for code in operation["responses"]} == {"200", "401", "422", "429", "503"}


# --- command ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "label",
    ["Read Operations", "Write Operations", "Storage", "GSI", "Streams", "Backup", "Total Monthly", "Total Yearly"],
)
def test_command_prints_each_line_item_and_total_in_dollars(label):
    text = _command(*SEED_OPTIONS)

    assert re.search(rf"^{label}:\s+\$[\d,]+\.\d\d$", text, flags=re.MULTILINE)


def test_command_prints_the_seeds_unit_costs_advice_and_total():
    text = _command(*SEED_OPTIONS)

    assert "Cost per item (payment): $" in text and "Cost per request:" in text
    assert "Recommendations:" in text and "Switch to provisioned capacity" in text
    assert _command_amounts(text)["Total Monthly"] == "15.11"


def test_command_rejects_bad_input_naming_the_option():
    with pytest.raises(CommandError, match="--retention-days"):
        _command("--retention-days", "0")


# --- page ------------------------------------------------------------------------------------


def test_cost_page_shows_line_items_chart_and_advice(client, viewer):
    response = client.get(reverse("costs:cost-estimate"), SEED_QUERY)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="cost-chart"' in html and 'id="cost-chart-data"' in html and "chart.umd.min.js" in html
    assert 'hx-get="/costs/"' in html and 'hx-target="#cost-report"' in html
    assert 'data-testid="total-monthly">$15.11<' in html
    assert "Switch to provisioned capacity" in html
    assert 'id="actual-usage"' not in html  # platform-wide usage is for ops staff


def test_htmx_recalculation_returns_only_the_report(client, viewer):
    response = client.get(
        reverse("costs:cost-estimate"), {**SEED_QUERY, "monthly_transactions": "2000000"}, HTTP_HX_REQUEST="true"
    )

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="cost-report">')
    assert "<nav" not in html and "cost-form" not in html


def test_cost_page_shows_input_errors_instead_of_a_report(client, viewer):
    response = client.get(reverse("costs:cost-estimate"), {"retention_days": "0"})

    assert response.status_code == 200
    assert (
        b"The estimate needs valid inputs" in response.content
        and b'data-testid="total-monthly"' not in response.content
    )


def test_cost_page_needs_sign_in(client, db):
    response = client.get(reverse("costs:cost-estimate"))

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_nav_links_to_costs_for_operators_not_viewers(client, db, merchant, viewer):
    """The estimate is a tool for who runs the integration: a viewer's navigation leaves it out."""
    assert b'href="/costs/"' not in client.get(reverse("home")).content

    client.force_login(make_user(merchant_id=merchant.merchant_id, role="operator"))

    assert b'href="/costs/"' in client.get(reverse("home")).content


# --- agreement -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"region": "eu-west-1", "table_class": "standard_ia"},
        {"capacity_mode": "provisioned", "utilisation": "0.7", "replicas": "1", "refund_rate": "0.1"},
        {"webhook_endpoints": "2.5", "pitr": "false", "backups": "2", "gsis": "4", "items_per_query": "26"},
    ],
)
def test_page_api_and_command_agree_on_the_same_inputs(client, api_key, viewer, extra):
    query = {**SEED_QUERY, **extra}
    options = [part for name, value in query.items() for part in ("--" + name.replace("_", "-"), value)]

    api_body = _api(client, api_key, **query).json()
    page = _page_amounts(client.get(reverse("costs:cost-estimate"), query).content.decode())
    command = _command_amounts(_command(*options))

    from_api = {item["key"]: item["amount"] for item in api_body["line_items"]}
    labels = {item["key"]: item["label"] for item in api_body["line_items"]}
    assert page == {key: f"{float(amount):,.2f}" for key, amount in from_api.items()}
    assert {labels[key]: amount for key, amount in from_api.items()} == {
        label: amount.replace(",", "") for label, amount in command.items() if label in labels.values()
    }
    assert command["Total Monthly"].replace(",", "") == api_body["total_monthly"]
    assert command["Total Yearly"].replace(",", "") == api_body["total_yearly"]
