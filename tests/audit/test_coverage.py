"""Audit coverage (PCI DSS 10.2.1, 10.2.2).

One scenario drives the API, the dashboard, the admin, reconciliation, sign-ins and the audit pages
while a hook on the shared botocore client records every DynamoDB write and the outermost service
function that made it. Then:

- every service function that can write (found by introspecting the service modules) was exercised,
  or is listed below with the reason it needs no event of its own;
- every TransactWriteItems carries an audit event, and every other write to a business table happens
  inside a service call that also wrote an audit event;
- every audit event written has the PCI DSS 10.2.2 fields.
"""

from __future__ import annotations

import importlib
import inspect
import io
import json
import pkgutil
import re
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import responses
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from audit.models import AuditEvent
from compliance.checks import audit_event_missing_fields
from core import dynamodb
from disputes.services import disputes_sweep
from merchants.models import Invite, Membership
from merchants.services.api_keys import api_key_create
from payments.imports import import_csv_rows
from payments.services.expiry import authorization_expire_due
from tests.factories import make_payment, make_user
from tests.payments.test_import import row

SERVICE_PACKAGES = ("merchants.services", "payments.services", "reconciliation.services", "disputes.services")
SERVICE_MODULES = (
    "apilog.services",
    "audit.services",
    "audit.integrity",
    "customers.services",
    "idempotency.services",
    "webhooks.services",
    "compliance.services",
)
WRITE_NAMES = {"TransactWrite", "save", "update", "delete", "batch_put", "audit_record"}
# Tables whose writes are bookkeeping of a change that is itself audited elsewhere.
BOOKKEEPING = {
    "idempotency": "request de-duplication records; the change they guard is audited in its own transaction",
    "webhook_deliveries": "delivery attempts of an event created in the audited payment transaction",
    "events": "the event of a change, put in the change's audited transaction; then only its fan-out is marked done",
    "webhook_endpoints": "endpoint changes are audited in their transaction; attempts only record a run of failures",
    "api_requests": "the API request log: a redacted record of each API request, put after its response",
    "audit_events": "the audit trail itself",
    "audit_seals": "seals of the audit trail; each sealing run records an `audit.seal` event",
}
# Public writers that the scenario does not need to reach, and why.
EXEMPT = {
    "idempotency.services.idempotency_release": "deletes its own in-progress idempotency record when a change raised before writing anything",
    "idempotency.services.idempotency_complete_in": "adds the completed record to the caller's transaction, which carries the change's audit event",
    "idempotency.services.idempotency_pending_in": "adds the record's `processing` state to the timed-out payment's transaction, which carries its audit event",
    "idempotency.services.idempotency_reference_renew": "renames the processor request of an in-progress claim whose authorization was voided; nothing changed yet, the payment it then makes is audited",
    "idempotency.services.idempotency_resolve_in": "adds the completed record to the resolution's transaction, which carries its `payment.resolve` event",
    "payments.services.settlements.payment_settle_in": "adds a payment's settlement (update, ledger entry and its `payment.settle` audit event) to the transaction reconciliation commits",
    "audit.integrity.audit_seal": "called by audit_seal_run, which records the run",
    "payments.services.refund_requests.refund_request_expire_due": "the expiry sweep: each request it expires is released in a transaction that carries its `refund_request.expire` event",
    "audit.integrity.audit_seal_partition": "called by audit_seal_run, which records the run",
    "merchants.services.merchants.merchant_webhook_url_set": "the wave-1 webhook URL, no longer on the pages: it becomes an endpoint (audited `webhook_endpoint.migrate`); still audited as `merchant.webhook_url.update`",
    "merchants.services.merchants.merchant_webhook_secret_rotate": "the wave-1 URL's secret, no longer on the pages (endpoints rotate their own, `webhook_endpoint.rotate_secret`); still audited",
    "webhooks.services.webhook_ping_new": "called by webhooks.tasks.webhook_endpoint_ping, which records `webhook_endpoint.test`",
    "apilog.services.api_requests_write": "the request log's batch on Lambda (api_requests_batched); the scenario's requests go through api_request_record",
    "compliance.services.compliance_run_execute": "stores a report in the relational database and writes no item; the run was audited when it was asked for (`compliance.report_run`)",
    "webhooks.services.webhook_delivery_resend": "called by webhooks.tasks.webhook_delivery_resend_now, which records `webhook_delivery.resend`",
}
WRITE_OPERATIONS = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}


def _service_modules() -> list[str]:
    names = list(SERVICE_MODULES)
    for package in SERVICE_PACKAGES:
        module = importlib.import_module(package)
        names += [f"{package}.{info.name}" for info in pkgutil.iter_modules(module.__path__)]
    return names


def _codes(code) -> list:
    found = [code]
    for const in code.co_consts:
        if inspect.iscode(const):
            found += _codes(const)
    return found


def _writes(function, module, seen: set) -> bool:
    """Whether the function (or a module-level helper it calls, transitively) writes."""
    if function in seen:
        return False
    seen.add(function)
    for code in _codes(function.__code__):
        if WRITE_NAMES & set(code.co_names):
            return True
        for name in code.co_names:
            helper = getattr(module, name, None)
            if inspect.isfunction(helper) and helper.__module__ == module.__name__ and _writes(helper, module, seen):
                return True
    return False


def service_writers() -> dict:
    """code object -> dotted name of every public service function that can write."""
    writers = {}
    for module_name in _service_modules():
        module = importlib.import_module(module_name)
        for name, function in vars(module).items():
            if name.startswith("_") or not inspect.isfunction(function) or function.__module__ != module_name:
                continue
            if _writes(function, module, set()):
                writers[function.__code__] = f"{module_name}.{name}"
    return writers


@dataclass
class Write:
    operation: str
    tables: set
    audited: bool  # the call itself writes an audit event
    services: set  # every service function on the stack
    call: int | None  # identity of the outermost service call


class WriteRecorder:
    def __init__(self, writers: dict):
        self.writers = writers
        self.writes: list[Write] = []

    def __call__(self, model, params, **kwargs):
        if model.name not in WRITE_OPERATIONS:
            return
        tables, audited = set(), False
        if model.name == "TransactWriteItems":
            for item in params["TransactItems"]:
                ((kind, body),) = item.items()
                tables.add(body["TableName"])
                audited |= kind == "Put" and body["TableName"] == AuditEvent.Meta.table_name
        elif model.name == "BatchWriteItem":
            tables |= set(params["RequestItems"])
        else:
            tables.add(params["TableName"])
            audited = params["TableName"] == AuditEvent.Meta.table_name and model.name == "PutItem"
        services, call = set(), None
        frame = sys._getframe(1)
        while frame is not None:  # every service function on the stack; the outermost one names the call
            if frame.f_code in self.writers:
                services.add(self.writers[frame.f_code])
                call = id(frame)
            frame = frame.f_back
        prefix = dynamodb.table_name("")
        self.writes.append(Write(model.name, {t.removeprefix(prefix) for t in tables}, audited, services, call))


def _import_chunk(write: Write) -> bool:
    """A historical import is audited once per file (its `payment.import` event, checked below): its
    chunks' bulk writes of payments and ledger entries (made by worker threads, so no service frame is
    on their stack) and each chunk's counters-and-progress transaction carry no event of their own."""
    if write.operation in ("BatchWriteItem", "TransactWriteItems") and write.tables <= {"payments", "transactions"}:
        return not write.services  # a payment and its ledger entries, from an import's worker thread
    return write.operation == "TransactWriteItems" and "payment_imports" in write.tables


@pytest.fixture
def recorder():
    writers = service_writers()
    record = WriteRecorder(writers)
    events = dynamodb.connection().client.meta.events
    events.register("before-parameter-build.dynamodb", record, unique_id="audit-coverage")
    yield record
    events.unregister("before-parameter-build.dynamodb", unique_id="audit-coverage")


def _api(client, secret, method, path, body=None, key=None):
    headers = {
        "HTTP_AUTHORIZATION": f"Bearer {secret}",
        "HTTP_IDEMPOTENCY_KEY": key or str(uuid.uuid4()),
        "HTTP_USER_AGENT": "scenario-api/1",
    }
    if method == "get":
        return client.get(path, **headers)
    return client.post(path, json.dumps(body or {}), content_type="application/json", **headers)


def _team_scenario(client, browser, merchant_id):
    """The admin's Team page: an invite revoked, one taken by a new account (whose role then changes
    before it is removed), one by a user opening the link signed in, one at a user's sign-in."""
    for email, role in (("gone@example.com", "viewer"), ("new@example.com", "operator")):
        client.post("/settings/team/invites/", {"email": email, "role": role}, **browser)
    gone = Invite.objects.get(email="gone@example.com").invite_id
    client.post(f"/settings/team/invites/{gone}/revoke/", **browser)
    newcomer = Client()
    newcomer.get(_invite_link(mail.outbox[-1]), **browser)
    password = {"password1": "a long new password 42", "password2": "a long new password 42"}
    newcomer.post("/accounts/invite/", password, **browser)
    joined = Membership.objects.get(user__username="new@example.com")
    client.post(f"/settings/team/members/{joined.pk}/role/", {"role": "viewer"}, **browser)
    client.post(f"/settings/team/members/{joined.pk}/remove/", **browser)
    for username in ("sam", "jo"):
        user = make_user(username)
        user.email = f"{username}@example.com"
        user.save()
    sam = Client()
    sam.post("/accounts/login/", {"username": "sam", "password": "correct horse battery"}, **browser)
    client.post("/settings/team/invites/", {"email": "sam@example.com", "role": "viewer"}, **browser)
    sam.get(_invite_link(mail.outbox[-1]), **browser)
    sam.get("/accounts/invite/", **browser)
    client.post("/settings/team/invites/", {"email": "jo@example.com", "role": "viewer"}, **browser)
    Client().post("/accounts/login/", {"username": "jo", "password": "correct horse battery"}, **browser)


def _invite_link(message) -> str:
    return re.search(r"https?://[^/\s]+(/accounts/invite/\S+)", message.body).group(1)


def _scenario(client, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "settlements": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path}},
    }
    browser = {"HTTP_USER_AGENT": "scenario-browser/1"}
    # ops staff create a merchant and add its admin in the admin site
    staff = make_user("ops-staff", staff=True)
    staff.is_superuser = True
    staff.save()
    admin_user = make_user("acme-admin")
    client.post("/accounts/login/", {"username": "ops-staff", "password": "wrong password"}, **browser)
    client.post("/accounts/login/", {"username": "ops-staff", "password": "correct horse battery"}, **browser)
    client.post("/ops/merchants/", {"name": "Acme", "default_currency": "usd"}, **browser)
    merchant_id = AuditEvent.scan(AuditEvent.action == "merchant.create").next().merchant_id
    client.post("/merchant/switch/", {"merchant_id": merchant_id}, **browser)
    client.post(
        "/admin/merchants/membership/add/",
        {"user": admin_user.pk, "merchant_id": merchant_id, "role": "operator"},
        **browser,
    )
    membership = Membership.objects.get(user=admin_user)
    client.post(
        f"/admin/merchants/membership/{membership.pk}/change/",
        {"user": admin_user.pk, "merchant_id": merchant_id, "role": "admin"},
        **browser,
    )
    temp = make_user("temp-user", merchant_id=merchant_id, role="viewer")
    client.post(f"/admin/merchants/membership/{temp.memberships.get().pk}/delete/", {"post": "yes"}, **browser)
    client.get("/audit/?scope=ops", **browser)
    client.post("/compliance/run/", **browser)  # the tests' task backend runs it at once
    client.get("/compliance/report.json", **browser)
    client.post("/audit/verify/", {"partition": ""}, **browser)
    client.post("/settings/ops/", {"action": "rate_limit", "rate_limit_per_minute": "250"}, **browser)
    client.post("/settings/ops/", {"action": "suspend", "reason": "Chargeback ratio"}, **browser)
    client.post("/settings/ops/", {"action": "reactivate", "reason": "Cleared"}, **browser)
    client.post("/accounts/logout/", **browser)

    # the merchant's admin: keys, webhook endpoint and secret, exports, the audit log
    client.post("/accounts/login/", {"username": "acme-admin", "password": "correct horse battery"}, **browser)
    client.post("/developers/keys/", {"name": "spare"}, **browser)
    spare = AuditEvent.scan(AuditEvent.action == "api_key.create").next().entity_id
    client.post(f"/developers/keys/{spare}/revoke/", {"confirm": "yes"}, **browser)
    client.post("/developers/endpoints/", {"url": "https://hooks.example.com/paysite", "events": "*"}, **browser)
    endpoint = AuditEvent.scan(AuditEvent.action == "webhook_endpoint.create").next().entity_id
    client.post(f"/developers/endpoints/{endpoint}/rotate/", {"confirm": "yes"}, **browser)
    client.post(
        "/settings/",
        {"name": "Acme", "default_currency": "usd", "statement_descriptor": "ACME SHOP", "time_zone": "Europe/Berlin"},
        **browser,
    )
    _team_scenario(client, browser, merchant_id)
    history = import_csv_rows([row(1), row(2)])
    client.post("/payments/import/", {"file": SimpleUploadedFile("history.csv", history, "text/csv")}, **browser)
    from core.actor import actor_from_request  # noqa: F401 - the dashboard's own actor
    from tests.factories import TEST_ACTOR

    secret = api_key_create(merchant_id=merchant_id, actor=TEST_ACTOR, name="scenario").secret

    # the API: customers, payments, capture, cancel, refund, lists, export, audit events
    customer = _api(client, secret, "post", "/api/v1/customers", {"email": "jo@example.com", "name": "Jo"}).json()
    card = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}
    paid = _api(
        client,
        secret,
        "post",
        "/api/v1/payments",
        {"amount": 5000, "currency": "usd", "card": card, "customer_id": customer["id"]},
    ).json()
    held = _api(
        client, secret, "post", "/api/v1/payments", {"amount": 3000, "currency": "usd", "card": card, "capture": False}
    ).json()
    dropped = _api(
        client, secret, "post", "/api/v1/payments", {"amount": 1000, "currency": "usd", "card": card, "capture": False}
    ).json()
    _api(
        client,
        secret,
        "post",
        "/api/v1/payments",
        {"amount": 1000, "currency": "usd", "card": {**card, "number": "4000000000000002"}},
    )
    # processor timeouts: stored as `processing`, one resolved by the client's retry, one by `payments recover`
    late = {"amount": 1500, "currency": "usd", "card": {**card, "number": "4000000000000259"}}
    for key in ("timeout-retried", "timeout-recovered"):
        assert _api(client, secret, "post", "/api/v1/payments", late, key=key).status_code == 504
    assert _api(client, secret, "post", "/api/v1/payments", late, key="timeout-retried").status_code == 201
    call_command("payments", "recover", stdout=io.StringIO())
    _api(client, secret, "post", f"/api/v1/payments/{held['id']}/capture", {})
    _api(client, secret, "post", f"/api/v1/payments/{dropped['id']}/cancel", {})
    _api(client, secret, "post", f"/api/v1/payments/{paid['id']}/refunds", {"amount": 500})
    _api(client, secret, "get", "/api/v1/payments/export")
    _api(client, secret, "get", "/api/v1/audit-events")

    # the dashboard: a capture and a refund, the payments CSV
    extra = _api(
        client, secret, "post", "/api/v1/payments", {"amount": 2000, "currency": "usd", "card": card, "capture": False}
    ).json()
    client.post(f"/payments/{extra['id']}/capture/", {"confirm": "yes"}, **browser)
    client.post(
        f"/payments/{extra['id']}/refund/", {"confirm": "yes", "amount": "5.00", "reason": "duplicate"}, **browser
    )
    b"".join(client.get("/payments/export/", **browser).streaming_content)

    # four-eyes refunds: the admin sets a threshold; large refunds wait; someone else decides them
    client.post(
        "/payments/refund-requests/settings/", {"thresholds": "USD 10.00", "api_refunds_need_approval": "on"}, **browser
    )
    client.post(
        f"/payments/{extra['id']}/refund/", {"confirm": "yes", "amount": "12.00", "reason": "duplicate"}, **browser
    )
    asked = [
        _api(client, secret, "post", f"/api/v1/payments/{paid['id']}/refunds", {"amount": n}).json()
        for n in (1500, 1200)
    ]
    client.post(f"/payments/refund-requests/{asked[0]['id']}/approve/", {}, **browser)
    client.post(f"/payments/refund-requests/{asked[1]['id']}/reject/", {"reason": "duplicate"}, **browser)

    # disputes: the sandbox card's captures are disputed; evidence (text, a file) wins one, the other is accepted
    disputed = {"amount": 2500, "currency": "usd", "card": {**card, "number": "4000000000001976"}}
    for key in ("disputed-won", "disputed-accepted"):
        _api(client, secret, "post", "/api/v1/payments", disputed, key=key)
    won, given_up = (d["id"] for d in _api(client, secret, "get", "/api/v1/disputes").json()["data"])
    client.post(f"/disputes/{won}/evidence/", {"text": "draft", "action": "save"}, **browser)
    receipt = SimpleUploadedFile("receipt.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")
    client.post(f"/disputes/{won}/evidence/files/", {"file": receipt}, **browser)
    client.post(f"/disputes/{won}/evidence/", {"text": "winning_evidence: signed", "action": "submit"}, **browser)
    client.post(f"/disputes/{given_up}/accept/", {"confirm": "yes"}, **browser)
    disputes_sweep(now=datetime.now(UTC) + timedelta(minutes=5))
    # an authorization left uncaptured for a week: the expiry sweep voids and cancels it (audited)
    make_payment(merchant_id, amount=3182, capture=False, now=datetime.now(UTC) - timedelta(days=8))
    assert len(authorization_expire_due(merchant_ids=[merchant_id]).expired) == 1

    # reconciliation: upload (processed by the task at once), a discrepancy resolved, the CSV
    rows = [
        "payment_id,amount,currency,fee,net,status,settled_at",
        f"{paid['id']},50.00,USD,1.75,48.25,settled,{paid['created'][:10]}",
        f"{held['id']},31.00,USD,0.99,30.01,settled,{held['created'][:10]}",
        f"pay_01JDQZ0000000000000000000,12.00,USD,0.50,11.50,settled,{held['created'][:10]}",  # unknown payment
    ]
    client.post(
        "/settlements/upload/", {"file": SimpleUploadedFile("s.csv", "\n".join(rows).encode(), "text/csv")}, **browser
    )
    settlement_id = AuditEvent.scan(AuditEvent.action == "settlement.upload").next().entity_id
    from reconciliation import selectors as recon

    discrepancy = recon.discrepancy_list(merchant_id=merchant_id, settlement_id=settlement_id, limit=10).items[0]
    client.post(
        f"/settlements/{settlement_id}/discrepancies/{discrepancy.discrepancy_id}/resolve/",
        {"reason": "bank fee corrected"},
        **browser,
    )
    # every open discrepancy of a kind at once (one audit event each)
    client.post(
        f"/settlements/{settlement_id}/discrepancies/resolve/",
        {"scope": "kind", "kind": "missing_in_platform", "reason": "a test payment of the processor"},
        **browser,
    )
    b"".join(client.get(f"/settlements/{settlement_id}/discrepancies.csv", **browser).streaming_content)
    # the settlement's payout and its payments' CSV; the balance rebuilt from the ledger
    payout = _api(client, secret, "get", "/api/v1/payouts").json()["data"][0]["id"]
    b"".join(client.get(f"/balance/payouts/{payout}/payments.csv", **browser).streaming_content)
    call_command("balance", "rebuild", "--merchant", merchant_id, stdout=io.StringIO())
    b"".join(client.get("/audit/export/", **browser).streaming_content)
    client.post("/accounts/logout/", **browser)

    # a lockout, and the hourly seal
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        client.post("/accounts/login/", {"username": "acme-admin", "password": "not the password"}, **browser)
    call_command("audit", "seal", "--through", "now", stdout=io.StringIO())
    return merchant_id


@responses.activate
def test_every_service_that_writes_audits_and_every_event_has_the_10_2_2_fields(
    client, db, settings, tmp_path, recorder
):
    responses.add(responses.POST, "https://hooks.example.com/paysite", status=200)

    merchant_id = _scenario(client, settings, tmp_path)

    # every writing service was exercised (or is exempt for a stated reason)
    exercised = set().union(*(write.services for write in recorder.writes))
    assert set(EXEMPT) <= set(recorder.writers.values()), "an exemption names a function that no longer exists"
    missed = sorted(set(recorder.writers.values()) - exercised - set(EXEMPT))
    assert not missed, f"services that write but were not exercised by the scenario: {missed}"

    # every transaction carries its audit event; other business writes happen in an audited call
    unaudited = []
    calls_with_audit = {write.call for write in recorder.writes if write.audited and write.call is not None}
    for write in recorder.writes:
        if _import_chunk(write):
            continue
        if write.operation == "TransactWriteItems":
            if not write.audited:
                unaudited.append(write)
        elif write.tables - set(BOOKKEEPING) and write.call not in calls_with_audit:
            unaudited.append(write)
    assert not unaudited, unaudited

    # every event of the scenario has the 10.2.2 fields
    events = [event for partition in ("ops", merchant_id) for event in AuditEvent.query(partition)]
    actions = {event.action for event in events}
    assert {
        "auth.login",
        "auth.login_failed",
        "auth.logout",
        "auth.lockout",
        "merchant.create",
        "ops.merchant_switch",
        "membership.create",
        "membership.update",
        "membership.delete",
        "api_key.create",
        "api_key.revoke",
        "webhook_endpoint.create",
        "webhook_endpoint.rotate_secret",
        "customer.create",
        "payment.create",
        "payment.capture",
        "payment.cancel",
        "payment.refund",
        "payment.export",
        "audit_log.read",
        "audit_log.export",
        "compliance.report_run",
        "compliance.report_download",
        "settlement.upload",
        "payment.settle",
        "discrepancy.resolve",
        "discrepancy.export",
        "payout.export",
        "balance.rebuild",
        "audit.seal",
        "payment.import",
        "merchant.suspend",
        "merchant.reactivate",
        "merchant.settings.update",
        "team.invite.create",
        "team.invite.revoke",
        "team.invite.accept",
    } <= actions, actions
    incomplete = {
        f"{e.action} {e.event_id}": audit_event_missing_fields(e) for e in events if audit_event_missing_fields(e)
    }
    assert not incomplete, incomplete
    users = [e for e in events if e.actor_type == "user"]
    assert users and all(e.user_agent == "scenario-browser/1" for e in users)
    assert all(e.user_agent == "scenario-api/1" for e in events if e.actor_type == "api_key")
    assert get_user_model().objects.count() == 6  # ops, the admin, a temporary member, three invitees
