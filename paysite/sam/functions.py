"""The Lambda functions of the deployment, declared: handler, what invokes it, the DynamoDB tables it
may use per app (or per model) and with which verbs, the S3 prefixes it may read or write. The
policies and the template are generated from this (`paysite.sam.policies`, `paysite.sam.template`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from disputes.storage import EVIDENCE_PREFIX
from reconciliation.storage import INBOUND_PREFIX, UPLOADS_PREFIX

RUNTIME = "python3.11"
ARCHITECTURE = "x86_64"
CODE_URI = "var/lambda/paysite.zip"

# The DynamoDB actions of each verb. Transactions need the item actions of their parts
# (a Put needs PutItem, a ConditionCheck ConditionCheckItem).
VERBS: dict[str, tuple[str, ...]] = {
    "read": ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem"),
    "append": ("dynamodb:PutItem",),
    "write": ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"),
    "scan": ("dynamodb:Scan",),
    "describe": ("dynamodb:DescribeTable", "dynamodb:DescribeTimeToLive"),
    "stream": ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"),
}
INDEX_ACTIONS = frozenset({"dynamodb:Query", "dynamodb:Scan"})  # the only actions that name an index
STREAM_ACTIONS = frozenset(VERBS["stream"])  # granted on the table's streams, not the table
EVERY_APP = "*"

READ = frozenset({"read"})
APPEND = frozenset({"read", "append"})  # the audit tables: events and seals are put, never changed
WRITE = frozenset({"read", "write"})
SCAN = frozenset({"scan", "describe"})  # the compliance report reads every table (compliance.scan)
STREAM = frozenset({"stream"})  # a stream consumer: the records, never the table

# The variables of `.env.example` that are secrets: one Secrets Manager secret (JSON) holds them.
SECRET_VARIABLES = (
    "DJANGO_SECRET_KEY",
    "FIELD_ENCRYPTION_KEY",
    "FINGERPRINT_KEY",
    "AUDIT_SIGNING_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "EMAIL_HOST_PASSWORD",  # SMTP, for invites, password resets and disabled-endpoint notices ("" when none)
)
AUDIT_ANCHOR_PREFIX = "audit-anchors/"


@dataclass(frozen=True)
class Objects:
    """S3 access of a function: `read`, `write` (new objects) and `list` under `prefix` of a bucket."""

    bucket: str  # "settlements" or "anchors"
    prefix: str
    verbs: frozenset[str]


@dataclass(frozen=True)
class Function:
    name: str  # the logical id is f"{name}Function"
    handler: str
    description: str
    tables: Mapping[str, frozenset[str]]  # "app", "app.Model" or EVERY_APP -> verbs
    events: Mapping[str, Any] = field(default_factory=dict)
    objects: tuple[Objects, ...] = ()
    timeout: int = 30
    memory: int = 512
    retries: int | None = None  # asynchronous invocations (schedules, S3): how often Lambda retries
    streams: tuple[str, ...] = ()  # tables (base names) whose DynamoDB stream invokes it


def _schedule(expression: str, description: str) -> dict[str, Any]:
    return {"Type": "Schedule", "Properties": {"Schedule": expression, "Description": description}}


FUNCTIONS: tuple[Function, ...] = (
    Function(
        name="Web",
        handler="paysite.lambda_handlers.web.handler",
        description="Paysite: the API and the pages (API Gateway HTTP API)",
        # Pages and the API reach every app; the compliance report scans and describes every table.
        tables={EVERY_APP: frozenset({"read", "write", "scan", "describe"}), "audit": APPEND | {"scan", "describe"}},
        events={"Api": {"Type": "HttpApi", "Properties": {"ApiId": {"Ref": "HttpApi"}}}},
        objects=(
            Objects("settlements", UPLOADS_PREFIX, frozenset({"read", "write", "list"})),
            Objects("settlements", EVIDENCE_PREFIX, frozenset({"read", "write", "list"})),
            Objects("anchors", AUDIT_ANCHOR_PREFIX, frozenset({"read", "list"})),
        ),
        timeout=30,
        memory=1024,
    ),
    Function(
        name="Tasks",
        handler="paysite.lambda_handlers.jobs.tasks",
        description="Paysite: the django-tasks worker (webhook deliveries, settlement files, payment recovery, "
        "the sandbox processor's disputes, the compliance report's \"Run now\")",
        tables={
            EVERY_APP: READ | SCAN,
            "audit": APPEND | SCAN,
            "idempotency": WRITE | SCAN,
            "merchants": READ | SCAN,
            "webhooks": WRITE | SCAN,
            "customers": READ | SCAN,
            "payments": WRITE | SCAN,
            "reconciliation": WRITE | SCAN,
            "disputes": WRITE | SCAN,
        },
        events={"EveryMinute": _schedule("rate(1 minute)", "Paysite: run the queued tasks")},
        objects=(
            Objects("settlements", UPLOADS_PREFIX, frozenset({"read", "list"})),
            Objects("anchors", AUDIT_ANCHOR_PREFIX, frozenset({"read", "list"})),  # the report's chain check
        ),
        timeout=900,
        memory=1024,
        retries=0,  # the next minute's run takes over
    ),
    Function(
        name="Compliance",
        handler="paysite.lambda_handlers.jobs.compliance_report",
        description="Paysite: the scheduled compliance report, stored for the ops page",
        tables={EVERY_APP: READ | SCAN, "audit": APPEND | SCAN},  # reads and scans; records nothing but access
        events={"Hourly": _schedule("rate(1 hour)", "Paysite: the compliance report")},
        objects=(Objects("anchors", AUDIT_ANCHOR_PREFIX, frozenset({"read", "list"})),),
        timeout=300,
        memory=1024,
        retries=0,  # the next hour's run takes over
    ),
    Function(
        name="Settlement",
        handler="reconciliation.handlers.s3_event",
        description="Paysite: reconcile a settlement file dropped in S3",
        tables={
            "audit": APPEND,
            "merchants": READ,
            "webhooks": WRITE,
            "customers": READ,
            "payments": WRITE,
            "reconciliation": WRITE,
        },
        events={
            "FileDropped": {
                "Type": "S3",
                "Properties": {
                    "Bucket": {"Ref": "SettlementBucket"},
                    "Events": "s3:ObjectCreated:*",
                    "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": INBOUND_PREFIX}]}},
                },
            }
        },
        objects=(
            Objects("settlements", INBOUND_PREFIX, frozenset({"read"})),
            Objects("settlements", UPLOADS_PREFIX, frozenset({"read", "write", "list"})),
        ),
        timeout=900,
        memory=1024,
        retries=2,  # a redelivered event resumes the settlement where it stopped
    ),
    Function(
        name="Seal",
        handler="paysite.lambda_handlers.jobs.seal",
        description="Paysite: seal the audit trail's closed hours and anchor the chains",
        tables={"audit": APPEND, "merchants.Merchant": READ},
        events={"Hourly": _schedule("cron(5 * * * ? *)", "Paysite: seal the audit trail, five minutes past each hour")},
        objects=(Objects("anchors", AUDIT_ANCHOR_PREFIX, frozenset({"read", "write", "list"})),),
        timeout=900,
        retries=0,
    ),
    Function(
        name="Recovery",
        handler="paysite.lambda_handlers.jobs.recover",
        description="Paysite: resolve payments a processor timeout left processing",
        tables={
            "audit": APPEND,
            "idempotency": WRITE,
            "merchants": READ,
            "webhooks": WRITE,
            "customers": READ,
            "payments": WRITE,
        },
        events={"EveryFiveMinutes": _schedule("rate(5 minutes)", "Paysite: the recovery sweep")},
        timeout=300,
        retries=0,
    ),
    Function(
        name="AuthorizationExpiry",
        handler="paysite.lambda_handlers.jobs.authorization_expiry",
        description="Paysite: void and cancel the authorizations left uncaptured for 7 days",
        tables={"audit": APPEND, "merchants": READ, "webhooks": WRITE, "payments": WRITE},
        events={"EveryFifteenMinutes": _schedule("rate(15 minutes)", "Paysite: the authorization expiry sweep")},
        timeout=300,
        retries=0,
    ),
    Function(
        name="DisputeSweep",
        handler="paysite.lambda_handlers.jobs.dispute_sweep",
        description="Paysite: apply the processor's dispute decisions and close disputes past their deadline",
        tables={"audit": APPEND, "merchants": READ, "webhooks": WRITE, "payments": WRITE, "disputes": WRITE},
        events={"EveryMinute": _schedule("rate(1 minute)", "Paysite: the disputes sweep")},
        timeout=300,
        retries=0,
    ),
    Function(
        name="WebhookSweep",
        handler="paysite.lambda_handlers.jobs.webhook_sweep",
        description="Paysite: queue again the webhook attempts whose task was lost",
        tables={"merchants.Merchant": READ, "webhooks": WRITE},  # writes: a fan-out a stopped process left
        events={"EveryFiveMinutes": _schedule("rate(5 minutes)", "Paysite: the webhook sweep")},
        timeout=300,
        retries=0,
    ),
    Function(
        name="SearchIndexer",
        handler="paysite.lambda_handlers.search_stream.handler",
        description="Paysite: keep the search index (PostgreSQL) from the payments and customers streams",
        tables={"payments.Payment": STREAM, "customers.Customer": STREAM},  # the records only, not the tables
        streams=("payments", "customers"),
        timeout=60,
    ),
    Function(
        name="Manage",
        handler="paysite.lambda_handlers.jobs.manage",
        description="Paysite: deployment steps (migrate, the first ops user), invoked by hand",
        tables={"audit": APPEND},  # a user created or changed is audited
        timeout=300,
    ),
)
