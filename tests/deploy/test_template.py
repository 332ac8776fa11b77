"""The SAM template (`manage.py sam`, `make template`): valid for cfn-lint and the SAM translator, made
from the code (every table of the app registry, policies from the declared apps), and each
function's policy allows every AWS call its code path makes."""

from __future__ import annotations

import importlib
import io
import json
import uuid
from datetime import UTC, datetime, timedelta

import boto3
import pytest
import yaml
from cfnlint.api import lint_all
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from audit.services import audit_record
from compliance.models import ComplianceRun, RunTrigger
from compliance.services import compliance_run_request
from compliance.tasks import compliance_report_task
from core import dynamodb
from core.actor import SYSTEM
from disputes.services import dispute_evidence_update, dispute_open
from disputes.tasks import dispute_open_task
from merchants.services.merchants import merchant_webhook_url_set
from payments import selectors
from payments.processor import TIMEOUT_CARD, ProcessorTimeout
from payments.selectors import payment_list_for_merchant
from payments.tasks import payment_recover_task
from paysite import sam
from paysite.lambda_handlers import jobs
from reconciliation.enums import Source
from reconciliation.handlers import s3_event
from reconciliation.models import Payout
from reconciliation.services import settlement_create
from reconciliation.storage import INBOUND_PREFIX
from reconciliation.tasks import settlement_process_task
from tests.deploy.policies import ANCHOR_BUCKET, SETTLEMENT_BUCKET, Request, refused
from tests.factories import TEST_ACTOR, card, make_api_key, make_merchant, make_payment, make_user
from tests.reconciliation.files import csv_bytes, line_for
from webhooks.selectors import webhook_delivery_list_for_merchant
from webhooks.tasks import webhook_deliver


def _template(**options) -> dict:
    out = io.StringIO()
    call_command("sam", **options, stdout=out)
    return yaml.safe_load(out.getvalue())


def _policy(template: dict, function: str) -> list[dict]:
    return template["Resources"][f"{function}Function"]["Properties"]["Policies"][0]["Statement"]


def _errors_and_warnings(findings: list) -> list[str]:
    """What the `cfn-lint` command reports by default (informational rules are opt-in)."""
    return [str(finding) for finding in findings if finding.rule.id[0] in "EW"]


class _NoManagedPolicies:
    """The translator asks IAM for managed policy names only when a template uses them; this one does not."""

    def load(self) -> dict:
        return {}


# --- valid ----------------------------------------------------------------------------------


@pytest.mark.pure
def test_the_template_passes_cfn_lint_with_no_finding():
    out = io.StringIO()
    call_command("sam", stdout=out)

    findings = lint_all(out.getvalue())

    assert _errors_and_warnings(findings) == []


@pytest.mark.pure
def test_the_sam_translator_expands_the_packaged_template_into_cloudformation_that_cfn_lint_passes(monkeypatch):
    # Imported here: aws-sam-translator is a dev-lock tool only this test needs.
    from samtranslator.translator.transform import transform

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    packaged = _template(code_uri="s3://artifacts/paysite.zip")  # what `sam deploy` uploads and sends

    expanded = transform(packaged, {}, _NoManagedPolicies())

    resources = expanded["Resources"]
    functions = {name for name, resource in resources.items() if resource["Type"] == "AWS::Lambda::Function"}
    assert functions == {f"{function.name}Function" for function in sam.FUNCTIONS}
    assert {resource["Type"] for resource in resources.values()} >= {
        "AWS::ApiGatewayV2::Api",
        "AWS::Events::Rule",
        "AWS::IAM::Role",
        "AWS::Lambda::Permission",
    }
    assert _errors_and_warnings(lint_all(json.dumps(expanded))) == []


# --- made from the code ---------------------------------------------------------------------


@pytest.mark.pure
def test_every_table_in_the_app_registry_is_in_the_template_as_the_tables_template_has_it():
    template = _template()
    tables_only = yaml.safe_load(_tables_template())["Resources"]

    for model in dynamodb.models():
        logical_id = "".join(part.capitalize() for part in model.Meta.base_name.split("_")) + "Table"
        resource = template["Resources"].get(logical_id)
        assert resource is not None, f"{model.__name__} ({model.Meta.base_name}) is not in the SAM template"
        assert resource["Properties"]["TableName"] == {"Fn::Sub": "${TablePrefix}" + model.Meta.base_name}
        assert resource["Condition"] == "CreateTables"
        expected = tables_only[logical_id]["Properties"]
        for name in ("AttributeDefinitions", "BillingMode", "TimeToLiveSpecification", "StreamSpecification"):
            assert resource["Properties"].get(name) == expected.get(name), (logical_id, name)
        assert resource["Properties"]["KeySchema"][0]["KeyType"] == "HASH"
    tables = [r for r in template["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table"]
    assert len(tables) == len(dynamodb.models())


def _tables_template() -> str:
    out = io.StringIO()
    call_command("dynamodb", "template", stdout=out)
    return out.getvalue()


@pytest.mark.pure
def test_dynamodb_template_still_prints_the_tables_alone():
    template = yaml.safe_load(_tables_template())

    assert "Transform" not in template
    assert {resource["Type"] for resource in template["Resources"].values()} == {"AWS::DynamoDB::Table"}


@pytest.mark.pure
def test_a_new_model_reaches_the_template_and_only_the_policies_of_the_functions_serving_its_app(monkeypatch):
    from pynamodb.attributes import UnicodeAttribute

    import payments.models

    class Chargeback(dynamodb.TableModel):
        Meta = dynamodb.meta("chargebacks")
        chargeback_id = UnicodeAttribute(hash_key=True)

    Chargeback.__module__ = payments.models.__name__
    monkeypatch.setattr(payments.models, "Chargeback", Chargeback, raising=False)

    template = sam.sam_template()

    assert template["Resources"]["ChargebacksTable"]["Properties"]["TableName"] == {
        "Fn::Sub": "${TablePrefix}chargebacks"
    }
    arn = {"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${TablePrefix}chargebacks"}
    serving = {f.name for f in sam.FUNCTIONS if "payments" in f.tables or sam.EVERY_APP in f.tables}
    for function in sam.FUNCTIONS:
        granted = [s for s in _policy(template, function.name) if arn in s["Resource"]]
        assert bool(granted) == (function.name in serving), function.name
    assert serving == {"Web", "Tasks", "Settlement", "Recovery", "AuthorizationExpiry", "DisputeSweep", "Compliance"}


@pytest.mark.pure
def test_only_the_web_function_scans_or_describes_and_no_function_changes_an_audit_record():
    template = sam.sam_template()
    audit_tables = ("audit_events", "audit_seals")

    for function in sam.FUNCTIONS:
        statements = _policy(template, function.name)
        actions = {a for s in statements for a in s["Action"] if isinstance(s["Action"], list)}
        if function.name not in {"Web", "Tasks", "Compliance"}:  # pages; the compliance report's runs
            assert not actions & {"dynamodb:Scan", "dynamodb:DescribeTable"}, function.name
        for statement in statements:
            names = json.dumps(statement["Resource"])
            if any(f'${{TablePrefix}}{table}"' in names for table in audit_tables):
                assert not {"dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"} & set(
                    statement["Action"]
                ), function.name


@pytest.mark.pure
def test_every_handler_the_template_names_exists():
    for name, resource in _template()["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            module, attribute = resource["Properties"]["Handler"].rsplit(".", 1)
            assert callable(getattr(importlib.import_module(module), attribute)), name


# --- shape ----------------------------------------------------------------------------------


@pytest.mark.pure
def test_functions_run_python_3_11_on_x86_64_in_the_vpc_of_the_parameters():
    template = _template()
    function = template["Globals"]["Function"]

    assert function["Runtime"] == "python3.11" and function["Architectures"] == ["x86_64"]
    assert function["CodeUri"] == "var/lambda/paysite.zip"
    assert function["VpcConfig"] == {"SubnetIds": {"Ref": "SubnetIds"}, "SecurityGroupIds": {"Ref": "SecurityGroupIds"}}
    endpoints = [r for r in template["Resources"].values() if r["Type"] == "AWS::EC2::VPCEndpoint"]
    assert sorted(e["Properties"]["ServiceName"]["Fn::Sub"].rsplit(".", 1)[1] for e in endpoints) == ["dynamodb", "s3"]
    assert all(e["Properties"]["VpcEndpointType"] == "Gateway" for e in endpoints)


@pytest.mark.pure
def test_secrets_are_secrets_manager_references_never_values():
    template = _template()
    variables = template["Globals"]["Function"]["Environment"]["Variables"]

    for name in sam.SECRET_VARIABLES:
        reference = "{{resolve:secretsmanager:${SecretArn}:SecretString:" + name
        assert variables[name] == {
            "Fn::If": [
                "PinSecretVersion",
                {"Fn::Sub": reference + "::${SecretVersionId}}}"},
                {"Fn::Sub": reference + "}}"},
            ]
        }, name
    for name, value in variables.items():  # every other variable is a plain setting, not a secret
        assert name in sam.SECRET_VARIABLES or "resolve:" not in json.dumps(value), name
    assert "Default" not in template["Parameters"]["SecretArn"]
    env_example = (settings.BASE_DIR / ".env.example").read_text()
    for name in sam.SECRET_VARIABLES:
        assert f"\n{name}=" in env_example, f"{name} is not a variable of .env.example"


@pytest.mark.pure
def test_a_stack_that_makes_the_tables_indexes_search_from_their_streams_only():
    template = _template()
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    mappings = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::EventSourceMapping"]

    # the streams feed the index where the stack makes the tables (and maps their streams); over
    # existing tables nothing maps a stream, so the functions index in process
    assert variables["SEARCH_INDEX_INLINE"] == {"Fn::If": ["CreateTables", "0", "1"]}
    assert mappings and all(mapping["Condition"] == "CreateTables" for mapping in mappings)


@pytest.mark.pure
def test_email_goes_through_smtp_with_its_password_from_the_secret():
    template = _template()
    variables = template["Globals"]["Function"]["Environment"]["Variables"]

    assert "EMAIL_HOST_PASSWORD" in sam.SECRET_VARIABLES
    assert variables["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    for variable, parameter in {
        "EMAIL_HOST": "EmailHost",
        "EMAIL_PORT": "EmailPort",
        "EMAIL_HOST_USER": "EmailHostUser",
        "DEFAULT_FROM_EMAIL": "DefaultFromEmail",
    }.items():
        assert variables[variable] == {"Ref": parameter}
        assert parameter in template["Parameters"]
    assert "Default" not in template["Parameters"]["EmailHost"]  # a deployment names its own server
    assert variables["EMAIL_USE_TLS"] == "1"


@pytest.mark.pure
def test_the_s3_notification_covers_the_incoming_prefix_only():
    template = _template()

    events = [
        event
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Function"
        for event in resource["Properties"].get("Events", {}).values()
        if event["Type"] == "S3"
    ]

    (event,) = events
    assert event["Properties"]["Bucket"] == {"Ref": "SettlementBucket"}
    assert event["Properties"]["Filter"]["S3Key"]["Rules"] == [{"Name": "prefix", "Value": INBOUND_PREFIX}]


@pytest.mark.pure
def test_buckets_are_encrypted_private_versioned_tls_only_and_the_anchors_locked():
    resources = _template()["Resources"]

    for name in ("SettlementBucket", "AuditAnchorBucket"):
        properties = resources[name]["Properties"]
        assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert all(properties["PublicAccessBlockConfiguration"].values())
        assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
        (statement,) = resources[f"{name}Policy"]["Properties"]["PolicyDocument"]["Statement"]
        assert statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    lock = resources["AuditAnchorBucket"]["Properties"]["ObjectLockConfiguration"]
    assert lock["Rule"]["DefaultRetention"]["Mode"] == "COMPLIANCE"
    assert "ObjectLockConfiguration" not in resources["SettlementBucket"]["Properties"]


@pytest.mark.pure
def test_schedules_run_the_worker_every_minute_and_the_periodic_jobs():
    resources = _template()["Resources"]

    def schedules(function: str) -> list[str]:
        events = resources[f"{function}Function"]["Properties"]["Events"].values()
        return [event["Properties"]["Schedule"] for event in events if event["Type"] == "Schedule"]

    assert schedules("Tasks") == ["rate(1 minute)"]
    assert schedules("Seal") == ["cron(5 * * * ? *)"]
    assert schedules("Recovery") == ["rate(5 minutes)"]
    assert schedules("WebhookSweep") == ["rate(5 minutes)"]
    assert schedules("DisputeSweep") == ["rate(1 minute)"]
    assert schedules("Compliance") == ["rate(1 hour)"]
    assert schedules("AuthorizationExpiry") == ["rate(15 minutes)"]


# --- each function's policy allows what its code does (moto) -----------------------------------


@pytest.fixture
def buckets(settings):
    """The two buckets of the template, in moto, and the settings the template gives the functions."""
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=SETTLEMENT_BUCKET)
    s3.create_bucket(Bucket=ANCHOR_BUCKET, ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(
        Bucket=ANCHOR_BUCKET,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 1}},
        },
    )
    settings.STORAGES = {
        **settings.STORAGES,
        "settlements": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": SETTLEMENT_BUCKET,
                "region_name": "us-east-1",
                "default_acl": None,
                "file_overwrite": False,
            },
        },
    }
    settings.SETTLEMENT_S3_REGION = "us-east-1"
    settings.SETTLEMENT_S3_ENDPOINT = None
    settings.AUDIT_ANCHOR_BUCKET = ANCHOR_BUCKET
    settings.AUDIT_ANCHOR_S3_REGION = "us-east-1"
    settings.AUDIT_ANCHOR_S3_ENDPOINT = None
    return s3


def _refused(aws_calls, function: str) -> list[str]:
    return refused(aws_calls.requests(), _policy(sam.sam_template(), function), dynamodb.table_name(""))


def _api(client, secret: str, method: str, path: str, body: dict | None = None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}", "HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())}
    if method == "get":
        return client.get(path, **headers)
    return client.post(path, json.dumps(body or {}), content_type="application/json", **headers)


def _settlement_file(merchant_id: str) -> bytes:
    payment = make_payment(merchant_id, amount=4200)
    return csv_bytes([line_for(payment), line_for(make_payment(merchant_id), amount="1.00")])


@pytest.mark.pure
def test_the_policy_check_refuses_what_a_policy_does_not_name():
    seal = _policy(sam.sam_template(), "Seal")
    prefix = "test-"
    table = "arn:aws:dynamodb:us-east-1:123456789012:table/test-"
    anchors = f"arn:aws:s3:::{ANCHOR_BUCKET}"

    assert refused([Request("dynamodb:PutItem", f"{table}audit_events")], seal, prefix) == []
    assert refused([Request("dynamodb:Query", f"{table}merchants/index/all-merchants")], seal, prefix) == []
    assert refused([Request("s3:ListBucket", anchors, "audit-anchors/mer_1/")], seal, prefix) == []
    assert refused([Request("s3:PutObject", f"{anchors}/audit-anchors/mer_1/1.json")], seal, prefix) == []
    for outside in (
        Request("dynamodb:UpdateItem", f"{table}audit_events"),  # audit records are never changed
        Request("dynamodb:PutItem", f"{table}payments"),  # another app's table
        Request("dynamodb:GetItem", f"{table}api_keys"),  # another model of a declared app
        Request("dynamodb:Query", f"{table}payments/index/by-merchant"),
        Request("s3:ListBucket", anchors, "uploads/"),  # another prefix
        Request("s3:GetObject", f"arn:aws:s3:::{SETTLEMENT_BUCKET}/uploads/x.csv"),  # another bucket
    ):
        assert refused([outside], seal, prefix) == [str(outside)]


def test_the_web_policy_allows_the_api_the_pages_uploads_and_the_ops_reports(client, db, buckets, aws_calls):
    merchant = make_merchant("Acme")
    secret = make_api_key(merchant.merchant_id)
    aws_calls.calls.clear()

    customer = _api(client, secret, "post", "/api/v1/customers", {"email": "jo@example.com", "name": "Jo"}).json()
    number = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}
    held = _api(
        client,
        secret,
        "post",
        "/api/v1/payments",
        {"amount": 3000, "currency": "usd", "card": number, "capture": False, "customer_id": customer["id"]},
    ).json()
    _api(client, secret, "post", f"/api/v1/payments/{held['id']}/capture", {})
    _api(client, secret, "post", f"/api/v1/payments/{held['id']}/refunds", {"amount": 500})
    for path in (
        "/api/v1/payments",
        f"/api/v1/payments/{held['id']}",
        "/api/v1/payments/summary",
        "/api/v1/audit-events",
        "/api/v1/customers",
        "/api/v1/balance",
        "/api/v1/payouts",
    ):
        assert _api(client, secret, "get", path).status_code == 200, path
    upload = client.post(
        "/api/v1/settlements",
        {"file": io.BytesIO(_settlement_file(merchant.merchant_id))},
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert upload.status_code in (200, 202), upload.content
    client.force_login(make_user(merchant_id=merchant.merchant_id, role="admin"))
    for path in (
        "/",
        "/payments/",
        f"/payments/{held['id']}/",
        "/developers/",
        "/settlements/",
        "/audit/",
        "/balance/",
    ):
        assert client.get(path).status_code == 200, path
    client.force_login(make_user(staff=True))
    client.post("/merchant/switch/", {"merchant_id": merchant.merchant_id})
    client.post("/compliance/run/")  # "Run now" (the tests' backend runs the report here, at once)
    for path in ("/compliance/report.json", "/costs/"):
        assert client.get(path).status_code == 200, path
    client.post("/audit/verify/", {"partition": ""})

    assert _refused(aws_calls, "Web") == []


@pytest.mark.django_db(transaction=True)
def test_the_tasks_policy_allows_what_the_worker_runs(settings, buckets, aws_calls):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    merchant = make_merchant("Acme")
    merchant_webhook_url_set(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, url="http://127.0.0.1:9/hooks")
    with pytest.raises(ProcessorTimeout):  # stored as `processing`, for the recovery task
        make_payment(merchant.merchant_id, card=card(TIMEOUT_CARD))
    intake = settlement_create(
        merchant_id=merchant.merchant_id,
        actor=TEST_ACTOR,
        file=io.BytesIO(_settlement_file(merchant.merchant_id)),
        filename="s.csv",
        source=Source.UPLOAD,
        enqueue=False,
    )
    for payment in payment_list_for_merchant(merchant_id=merchant.merchant_id, limit=10).items:
        if payment.status == "processing":
            payment_recover_task.enqueue(merchant.merchant_id, payment.payment_id, 5)
    settlement_process_task.enqueue(merchant_id=merchant.merchant_id, settlement_id=intake.settlement.settlement_id)
    dispute_open_task.enqueue(merchant.merchant_id, make_payment(merchant.merchant_id).payment_id)  # the processor's
    for delivery in webhook_delivery_list_for_merchant(merchant_id=merchant.merchant_id, limit=10).items:
        webhook_deliver.enqueue(merchant.merchant_id, delivery.event_id, int(delivery.attempt_count or 0))
    aws_calls.calls.clear()

    jobs.tasks({"batch": True, "seconds": 60}, None)

    assert not DBTaskResult.objects.ready().exists()
    statuses = list(DBTaskResult.objects.values_list("status", flat=True))
    assert "FAILED" not in statuses and statuses.count("SUCCESSFUL") >= 3, (
        statuses
    )  # a failed delivery queues its retry
    assert aws_calls.calls
    assert _refused(aws_calls, "Tasks") == []


def test_the_settlement_policy_allows_the_s3_handler(db, buckets, aws_calls):
    merchant = make_merchant("Acme")
    key = f"{INBOUND_PREFIX}{merchant.merchant_id}/daily.csv"
    buckets.put_object(Bucket=SETTLEMENT_BUCKET, Key=key, Body=_settlement_file(merchant.merchant_id))
    aws_calls.calls.clear()

    result = s3_event({"Records": [{"s3": {"bucket": {"name": SETTLEMENT_BUCKET}, "object": {"key": key}}}]})

    assert result["results"][0]["status"] == "completed", result
    assert [p.currency for p in Payout.by_merchant.query(merchant.merchant_id)] == ["usd"]  # its payout, written
    assert _refused(aws_calls, "Settlement") == []


def test_the_seal_policy_allows_sealing_and_anchoring(db, buckets, aws_calls):
    merchant = make_merchant("Acme")
    for hours in (3, 2):
        audit_record(
            merchant_id=merchant.merchant_id,
            actor=SYSTEM,
            action="test.event",
            at=datetime.now(UTC) - timedelta(hours=hours),
        )
    aws_calls.calls.clear()

    assert jobs.seal({}, None)["seals"] > 0
    assert jobs.seal({}, None)["seals"] == 0  # once: a seal is written only where none exists

    assert any(service == "s3" for service, _, _ in aws_calls.calls)
    assert _refused(aws_calls, "Seal") == []


def test_the_recovery_policy_allows_the_sweep(db, aws_calls):
    merchant = make_merchant("Acme")
    merchant_webhook_url_set(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, url="http://127.0.0.1:9/hooks")
    with pytest.raises(ProcessorTimeout):  # stored as `processing`
        make_payment(merchant.merchant_id, card=card(TIMEOUT_CARD))
    aws_calls.calls.clear()

    report = jobs.recover({}, None)

    assert report["resolved"] == 1, report
    assert _refused(aws_calls, "Recovery") == []


def test_the_authorization_expiry_policy_allows_the_sweep(db, aws_calls):
    merchant = make_merchant("Acme")
    merchant_webhook_url_set(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, url="http://127.0.0.1:9/hooks")
    week_ago = datetime.now(UTC) - timedelta(days=7, minutes=1)
    old = make_payment(merchant.merchant_id, capture=False, now=week_ago)
    aws_calls.calls.clear()

    report = jobs.authorization_expiry({}, None)

    assert report["expired"] == 1, report
    assert selectors.payment_get(merchant_id=merchant.merchant_id, payment_id=old.payment_id).status == "canceled"
    assert _refused(aws_calls, "AuthorizationExpiry") == []


def test_the_dispute_sweep_policy_allows_the_sweep(db, aws_calls):
    merchant = make_merchant("Acme")
    merchant_webhook_url_set(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, url="http://127.0.0.1:9/hooks")
    payment = make_payment(merchant.merchant_id)
    dispute = dispute_open(merchant_id=merchant.merchant_id, payment_id=payment.payment_id, actor=TEST_ACTOR)
    dispute_evidence_update(
        merchant_id=merchant.merchant_id,
        dispute_id=dispute.dispute_id,
        actor=TEST_ACTOR,
        text="winning_evidence",
        submit=True,
        now=datetime.now(UTC) - timedelta(minutes=2),
    )
    aws_calls.calls.clear()

    report = jobs.dispute_sweep({}, None)

    assert report["won"] == 1, report
    assert _refused(aws_calls, "DisputeSweep") == []


def test_the_compliance_policies_allow_the_scheduled_report_and_the_run_now_task(db, aws_calls):
    merchant = make_merchant("Acme")
    make_payment(merchant.merchant_id)
    audit_record(merchant_id=merchant.merchant_id, actor=SYSTEM, action="test.event")
    call_command("audit", "seal", "--through", "now", stdout=io.StringIO())
    aws_calls.calls.clear()

    report = jobs.compliance_report({}, None)

    assert report["status"] == "done", report
    assert _refused(aws_calls, "Compliance") == []
    run, _ = compliance_run_request(requested_by="ops", trigger=RunTrigger.REQUEST)
    aws_calls.calls.clear()
    compliance_report_task.call(run_id=run.pk)  # what the Tasks worker runs after "Run now"
    assert ComplianceRun.objects.get(pk=run.pk).status == "done"
    assert _refused(aws_calls, "Tasks") == []


def test_the_webhook_sweep_policy_allows_the_sweep(db, aws_calls):
    merchant = make_merchant("Acme")
    merchant_webhook_url_set(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, url="http://127.0.0.1:9/hooks")
    make_payment(merchant.merchant_id)
    aws_calls.calls.clear()

    jobs.webhook_sweep({}, None)

    assert aws_calls.calls
    assert _refused(aws_calls, "WebhookSweep") == []


def test_the_manage_policy_allows_migrate_and_the_first_ops_user(db, aws_calls):
    jobs.manage({"command": ["migrate", "--noinput"]}, None)
    answer = jobs.manage(
        {
            "command": ["createsuperuser", "--noinput", "--username", "ops", "--email", "ops@example.com"],
            "password": "a long and random ops password",
        },
        None,
    )

    assert get_user_model().objects.get(username="ops").check_password("a long and random ops password")
    assert "a long and random ops password" not in json.dumps(answer)
    assert _refused(aws_calls, "Manage") == []
