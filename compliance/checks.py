"""The compliance report's checks: each looks at real evidence (stored items, settings, accounts, the
audit trail and its seals, Django's deployment checks, the headers a page is served with) and returns
one row: status, PCI DSS v4.0.1 requirement, evidence."""

from __future__ import annotations

import hashlib
import hmac
import io
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db.models import Q
from django_otp import user_has_device

from audit import integrity
from audit.models import AuditEvent, retention_days
from audit.selectors import audit_event_list, audit_partition_list
from compliance.chain import audit_chain_verify
from compliance.scan import stored_data_scan
from core import dynamodb
from core.cards import card_fingerprint, pan_find
from merchants.models import Membership
from payments.exports import csv_lines
from payments.models import CardAttribute, Payment
from payments.processor import DECLINES, ERROR_CARD, TIMEOUT_CARDS
from payments.representations import payment_object

PASS, FAIL, NOT_APPLICABLE, NEEDS_ATTENTION = "pass", "fail", "not_applicable", "needs_attention"
STATUS_LABELS = {PASS: "Pass", FAIL: "Fail", NOT_APPLICABLE: "Not applicable", NEEDS_ATTENTION: "Needs attention"}
UNUSED_DAYS = 90
EVENT_SAMPLE_PER_PARTITION = 100
SAMPLE_PARTITIONS = 50


@dataclass
class Check:
    id: str
    requirement: str
    title: str
    status: str = PASS
    evidence: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)  # what was found: item keys, accounts, events
    seconds: float = 0.0  # how long the check took

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status_label": self.status_label}


@dataclass
class Context:
    """What several checks share, computed once per report."""

    scan: Any = None
    verification: Any = None
    audit_verified: dict[str, Any] = field(default_factory=dict)  # in: where the last run left each chain
    verified_to: dict[str, Any] = field(default_factory=dict)  # out: where this run leaves it


# --- 3.x: stored account data ------------------------------------------------------------------


def check_no_pan_stored(ctx: Context) -> Check:
    check = Check("stored-pan", "3.3.1, 3.5.1", "No full card number or CVC is stored")
    ctx.scan = stored_data_scan()
    for table in ctx.scan.tables:
        how = (
            f"a sample of {table.scanned:,} of about {table.approximate_total:,}"
            if table.sampled
            else f"all {table.scanned:,}"
        )
        check.evidence.append(f"{table.table}: {how} items scanned")
    sampled = sum(table.scanned for table in ctx.scan.tables)
    check.evidence.insert(
        0,
        f"sample size: {sampled:,} items read in {len(ctx.scan.tables)} tables, at most "
        f"{settings.COMPLIANCE_SCAN_MAX_ITEMS:,} per table (COMPLIANCE_SCAN_MAX_ITEMS), larger tables sampled "
        "evenly through parallel-scan segments",
    )
    check.evidence.append(
        "Searched every string, number, map, list and JSON value for a Luhn-valid 13-19 digit number starting "
        "like a card brand, and for CVC-like attributes (cvc, cvv, cid, csc, security_code) holding 3-4 digits."
    )
    if ctx.scan.found:
        check.status = FAIL
        check.items = [f"{f.table} [{f.key}] {f.path}: {f.what}" for f in ctx.scan.found]
    return check


def check_fingerprint_keyed(ctx: Context) -> Check:
    check = Check("fingerprint", "3.5.1.1", "Card fingerprints are a keyed hash (HMAC-SHA256)")
    key = settings.FINGERPRINT_KEY or ""
    probe = "4242424242424242"
    keyed = hmac.new(key.encode(), probe.encode(), hashlib.sha256).hexdigest()[:32]
    plain = {hashlib.sha256(n.encode()).hexdigest()[:32] for n in [probe, *DECLINES, ERROR_CARD, *TIMEOUT_CARDS]}
    check.evidence.append(f"core.cards.card_fingerprint is HMAC-SHA256 with FINGERPRINT_KEY ({len(key)} characters)")
    if card_fingerprint(probe) != keyed or card_fingerprint(probe) in plain:
        check.status = FAIL
        check.items.append("card_fingerprint does not compute HMAC-SHA256 with FINGERPRINT_KEY")
    if len(key) < 32:
        check.status = FAIL
        check.items.append("FINGERPRINT_KEY is shorter than 32 characters")
    seen = ctx.scan.fingerprints if ctx.scan else set()
    check.evidence.append(f"{len(seen):,} stored fingerprints compared with unkeyed SHA-256 of the sandbox test cards")
    if seen & plain:
        check.status = FAIL
        check.items.append("a stored fingerprint is an unkeyed SHA-256 of a card number")
    return check


def check_masking(ctx: Context) -> Check:
    check = Check("masking", "3.4.1", "Card numbers are shown masked: at most the last 4 digits")
    stored = sorted(CardAttribute.get_attributes())
    check.evidence.append(f"A payment keeps of its card only: {', '.join(stored)}")
    if set(stored) - {"brand", "last4", "exp_month", "exp_year", "fingerprint"}:
        check.status = FAIL
        check.items.append(f"unexpected card attributes: {stored}")
    sample = list(Payment.scan(limit=50))
    for payment in sample:
        shown = [str(payment_object(payment)), "".join(csv_lines([payment]))]
        if len(payment.card.last4 or "") != 4 or any(pan_find(text) for text in shown):
            check.status = FAIL
            check.items.append(f"payment {payment.payment_id} shows more than the last 4 digits")
    check.evidence.append(
        f"{len(sample)} stored payments rendered through the API representation and the CSV export (the pages "
        "use the same stored last4): none shows more than the last 4 digits"
    )
    return check


# --- 7.x / 8.x: access -------------------------------------------------------------------------


def check_roles(ctx: Context) -> Check:
    check = Check("roles", "7.2.1, 7.2.2, 8.2.1", "Roles in use and who holds them")
    User = get_user_model()
    by_role: dict[str, list[str]] = {}
    for membership in Membership.objects.select_related("user").order_by("role", "merchant_id"):
        by_role.setdefault(membership.role, []).append(f"{membership.user.get_username()}@{membership.merchant_id}")
        if not membership.user.is_active:
            check.status = NEEDS_ATTENTION
            check.items.append(
                f"inactive account {membership.user.get_username()} still holds {membership.role} at {membership.merchant_id}"
            )
    for role, holders in sorted(by_role.items()):
        check.evidence.append(f"{role} ({len(holders)}): {', '.join(holders)}")
    staff = list(User.objects.filter(is_staff=True, is_active=True).values_list("username", flat=True))
    superusers = list(User.objects.filter(is_superuser=True, is_active=True).values_list("username", flat=True))
    check.evidence.append(f"ops staff ({len(staff)}): {', '.join(staff) or 'none'}")
    check.evidence.append(f"superusers ({len(superusers)}): {', '.join(superusers) or 'none'}")
    return check


def check_unused_accounts(ctx: Context) -> Check:
    check = Check("unused-accounts", "8.2.6", f"No active account unused for {UNUSED_DAYS} days")
    cutoff = datetime.now(UTC) - timedelta(days=UNUSED_DAYS)
    User = get_user_model()
    stale = User.objects.filter(is_active=True).filter(
        Q(last_login__lt=cutoff) | Q(last_login__isnull=True, date_joined__lt=cutoff)
    )
    names = [
        f"{u.get_username()} (last sign-in {u.last_login:%Y-%m-%d})"
        if u.last_login
        else f"{u.get_username()} (never signed in)"
        for u in stale
    ]
    check.evidence.append(f"{User.objects.filter(is_active=True).count()} active accounts; cut-off {cutoff:%Y-%m-%d}")
    if names:
        check.status = NEEDS_ATTENTION
        check.items = names
    return check


def check_lockout(ctx: Context) -> Check:
    check = Check("lockout", "8.3.4", "Accounts lock after at most 10 failed sign-ins for at least 30 minutes")
    limit = int(getattr(settings, "AXES_FAILURE_LIMIT", 0) or 0)
    cooloff = getattr(settings, "AXES_COOLOFF_TIME", None)
    minutes = float(cooloff) * 60 if isinstance(cooloff, int | float) else 0
    wired = (
        "axes" in settings.INSTALLED_APPS
        and "axes.middleware.AxesMiddleware" in settings.MIDDLEWARE
        and any("axes" in backend for backend in settings.AUTHENTICATION_BACKENDS)
    )
    check.evidence.append(f"django-axes installed and in the middleware and backends: {'yes' if wired else 'no'}")
    check.evidence.append(
        f"AXES_FAILURE_LIMIT={limit}, lock {minutes:g} minutes, by {getattr(settings, 'AXES_LOCKOUT_PARAMETERS', None)}"
    )
    if not wired or not 1 <= limit <= 10 or minutes < 30:
        check.status = FAIL
    return check


def check_idle_timeout(ctx: Context) -> Check:
    check = Check("idle-timeout", "8.2.8", "Idle sessions end after at most 15 minutes")
    age = int(settings.SESSION_COOKIE_AGE)
    rolling = bool(settings.SESSION_SAVE_EVERY_REQUEST)
    idle = "core.middleware.IdleSignOutMiddleware" in settings.MIDDLEWARE
    check.evidence.append(
        f"SESSION_COOKIE_AGE={age} s, renewed on every request but polls: {'yes' if rolling else 'no'}, "
        f"signed out after that long without a request that is not a poll: {'yes' if idle else 'no'}"
    )
    if age > 15 * 60 or not rolling or not idle:
        check.status = FAIL
    return check


def check_password_length(ctx: Context) -> Check:
    check = Check("password-length", "8.3.6", "Passwords have at least 12 characters")
    lengths = [
        int((validator.get("OPTIONS") or {}).get("min_length", 8))
        for validator in settings.AUTH_PASSWORD_VALIDATORS
        if validator["NAME"].endswith("MinimumLengthValidator")
    ]
    check.evidence.append(f"MinimumLengthValidator min_length: {lengths[0] if lengths else 'not configured'}")
    check.evidence.append(
        f"validators: {', '.join(v['NAME'].rsplit('.', 1)[-1] for v in settings.AUTH_PASSWORD_VALIDATORS)}"
    )
    if not lengths or max(lengths) < 12:
        check.status = FAIL
    return check


def check_staff_mfa(ctx: Context) -> Check:

    check = Check("staff-mfa", "8.4.1", "Every ops staff account is enrolled in MFA")
    staff = list(get_user_model().objects.filter(is_staff=True, is_active=True).order_by("username"))
    enrolled = [user for user in staff if user_has_device(user, confirmed=True)]
    check.evidence.append(f"{len(enrolled)} of {len(staff)} active ops staff accounts have a confirmed TOTP device")
    check.evidence.append(
        f"REQUIRE_STAFF_MFA={'on' if settings.REQUIRE_STAFF_MFA else 'off'}; an enrolled account must enter a code at every sign-in"
    )
    if not staff:
        check.status = NOT_APPLICABLE
    elif len(enrolled) < len(staff):
        check.status = FAIL
        check.items = [f"{user.get_username()} has no MFA device" for user in staff if user not in enrolled]
    return check


# --- 10.x: audit trail ---------------------------------------------------------------------------

REQUIRED_FIELDS = ("event_id", "occurred_at", "actor_type", "actor_id", "action", "outcome", "entity_type")
REQUEST_FIELDS = ("source_ip", "request_id")  # where the actor came through a request


def audit_event_missing_fields(event: Any) -> list[str]:
    """The PCI DSS 10.2.2 fields an event lacks: user or key id, type, time, outcome, affected entity,
    and for request-driven actors the origin (IP) and request id. A system actor's origin is itself."""
    missing = [name for name in REQUIRED_FIELDS if not getattr(event, name, None)]
    if getattr(event, "actor_type", None) in {"user", "api_key", "anonymous"}:
        missing += [name for name in REQUEST_FIELDS if not getattr(event, name, None)]
    if event.outcome not in {"success", "failure"}:
        missing.append("outcome (success|failure)")
    return missing


def check_audit_fields(ctx: Context) -> Check:
    check = Check("audit-fields", "10.2.1, 10.2.2", "Sampled audit events have every required field")
    partitions = audit_partition_list()[:SAMPLE_PARTITIONS]
    sampled = 0
    for partition in partitions:
        for event in audit_event_list(merchant_id=partition, limit=EVENT_SAMPLE_PER_PARTITION).items:
            sampled += 1
            missing = audit_event_missing_fields(event)
            if missing and len(check.items) < 50:
                check.items.append(f"{partition} {event.event_id} ({event.action}): no {', '.join(missing)}")
    check.evidence.append(
        f"the newest {EVENT_SAMPLE_PER_PARTITION} events of {len(partitions)} partitions: {sampled} events"
    )
    check.evidence.append("fields: " + ", ".join(REQUIRED_FIELDS) + "; source_ip and request_id for users and API keys")
    if check.items:
        check.status = FAIL
    elif not sampled:
        check.status = NOT_APPLICABLE
    return check


def check_audit_integrity(ctx: Context) -> Check:
    check = Check("audit-integrity", "10.3.2, 10.3.4", "The audit seal chain verifies")
    partitions = audit_partition_list()
    ctx.verification = result = audit_chain_verify(partitions=partitions, verified=ctx.audit_verified)
    ctx.verified_to = result.verified_to
    check.evidence.append(
        f"{len(partitions)} partitions, {result.seals:,} seals and {result.events:,} events re-hashed; "
        f"signatures checked with key {integrity.signing_key_id(settings.AUDIT_SIGNING_KEY)}; "
        f"{result.unsealed:,} newer events not sealed yet"
    )
    check.evidence.append(result.how())
    if result.findings:
        check.status = FAIL
        check.items = [finding.line() for finding in result.findings[:50]]
        return check
    behind = integrity.last_closed_hour() - timedelta(hours=1)
    for partition in partitions:
        latest = result.heads.get(partition)
        if latest is None:
            check.items.append(f"{partition}: never sealed")
        elif integrity.time_parse(latest.period_end) < behind:
            check.items.append(f"{partition}: sealed only through {latest.period_end}")
    if check.items:
        check.status = NEEDS_ATTENTION
        check.evidence.append(
            "sealing runs hourly (`manage.py audit schedule` with the task worker, or `manage.py audit seal`)"
        )
    return check


def check_retention(ctx: Context) -> Check:
    check = Check("retention", "10.5.1", "Audit events are kept at least 12 months")
    days = retention_days()
    check.evidence.append(
        f"AUDIT_RETENTION_DAYS={settings.AUDIT_RETENTION_DAYS}, applied {days} days (never below 365)"
    )
    ttl = dynamodb.connection().client.describe_time_to_live(TableName=AuditEvent.Meta.table_name)
    description = ttl.get("TimeToLiveDescription", {})
    check.evidence.append(
        f"{AuditEvent.Meta.table_name}: TTL {description.get('TimeToLiveStatus', 'DISABLED')} on {description.get('AttributeName', '-')}"
    )
    short = []
    for event in AuditEvent.scan(limit=200):
        kept = event.expires_at - datetime.strptime(event.occurred_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        if kept < timedelta(days=365, seconds=-1):  # the TTL is stored in whole seconds
            short.append(f"{event.merchant_id} {event.event_id} expires after {kept.days} days")
    check.evidence.append("up to 200 stored events compared: expiry minus time of event")
    if days < 365 or short:
        check.status = FAIL
        check.items = short[:20]
    elif description.get("TimeToLiveStatus") not in {"ENABLED", "ENABLING"}:
        check.status = NEEDS_ATTENTION
        check.items.append("TTL is not enabled on the audit table: expired events are kept, not removed")
    return check


# --- 6.4 / deployment -----------------------------------------------------------------------------


def check_deploy(ctx: Context) -> Check:
    check = Check("deploy-check", "6.4, 2.2", "`manage.py check --deploy` under the running settings")
    out = io.StringIO()
    try:
        call_command("check", deploy=True, stdout=out, stderr=out)
    except SystemCheckError as error:
        out.write(str(error))
        check.status = FAIL
    text = out.getvalue()
    issues = [
        line.strip()
        for line in text.splitlines()
        if line.strip().startswith(("?:", "paysite", "axes")) or "(security." in line
    ]
    check.items = issues
    check.evidence.append(text.strip().splitlines()[-1] if text.strip() else "no output")
    if settings.DEBUG:
        check.status = NOT_APPLICABLE
        check.evidence.insert(
            0, "DEBUG is on: a development instance, not a deployment (the findings are listed for reference)"
        )
    elif check.status != FAIL and issues:
        check.status = NEEDS_ATTENTION
    return check


def check_security_headers(ctx: Context) -> Check:
    # Here, not at the top: the report alone requests a page in-process; no request path loads
    # Django's test client.
    from django.test import Client

    check = Check(
        "security-headers",
        "6.4.1, 6.4.3",
        "Security headers on served pages: CSP, HSTS, X-Frame-Options, Referrer-Policy",
    )
    host = next((h.lstrip(".") for h in settings.ALLOWED_HOSTS if h not in {"*", ""}), "localhost")
    response = Client(HTTP_HOST=host).get("/accounts/login/", secure=True)
    csp = response.get("Content-Security-Policy", "")
    script_src = next((part for part in csp.split(";") if part.strip().startswith("script-src")), "")
    found = {
        "Content-Security-Policy": bool(csp)
        and "'unsafe-inline'" not in script_src
        and "'unsafe-eval'" not in script_src,
        "Strict-Transport-Security": bool(response.get("Strict-Transport-Security")),
        "X-Frame-Options": response.get("X-Frame-Options", "").upper() == "DENY",
        "Referrer-Policy": bool(response.get("Referrer-Policy")),
    }
    check.evidence.append(f"GET https://{host}/accounts/login/ answered {response.status_code}")
    for name, ok in found.items():
        check.evidence.append(f"{name}: {response.get(name) or 'absent'}")
        if not ok:
            check.items.append(f"{name} missing or too weak")
    if check.items:
        only_hsts = check.items == ["Strict-Transport-Security missing or too weak"]
        if only_hsts and settings.DEBUG:
            check.status = NOT_APPLICABLE
            check.evidence.insert(0, "DEBUG is on: HSTS is sent only with DJANGO_SECURE in production")
        else:
            check.status = FAIL
    return check


CHECKS: list[Callable[[Context], Check]] = [
    check_no_pan_stored,
    check_fingerprint_keyed,
    check_masking,
    check_roles,
    check_unused_accounts,
    check_lockout,
    check_idle_timeout,
    check_password_length,
    check_staff_mfa,
    check_audit_fields,
    check_audit_integrity,
    check_retention,
    check_deploy,
    check_security_headers,
]
