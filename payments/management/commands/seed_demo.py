"""Load demo data through the product's own features: 3 merchants, about 20,000 payments over the
last 90 days, their ledger, summaries and customers, an ops user and one user per role per merchant.

The history (every day but the last `RECENT_DAYS`) goes in as one historical import per merchant
(`payments import`, the feature a merchant moving from another processor uses: bulk writes, so it
takes seconds); the last days go through the payment services one payment at a time, so webhooks,
audit events and the ledger of recent payments are the real ones.

Idempotent and resumable: the plan is deterministic from the day the history was first planned (kept
in `var/demo.json`), the import of the same file is one import and resumes where it stopped, and each
recent merchant-day only gets the payments it is still missing. The demo logins and API key go to
`var/demo.json` for `make run` to print.

The users, a superuser among them, share a password published in this file, so it runs only on a
developer's machine: DJANGO_DEBUG on and DynamoDB on this machine (`make run`), unless `--force`."""

from __future__ import annotations

import json
import random
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction as db_transaction
from tqdm import tqdm

from core.actor import Actor
from core.cards import CardInput
from core.dynamodb_errors import storage_errors
from core.ids import id_ceiling, id_floor
from core.roles import Role
from customers.services import customer_create
from merchants.models import Membership
from merchants.selectors import merchant_list
from merchants.services.api_keys import api_key_create
from merchants.services.merchants import merchant_create
from payments import services
from payments.enums import RefundReason
from payments.errors import PaymentFailed
from payments.imports import import_csv_rows
from payments.management.demo_plan import (
    DAYS,
    DEMO_MERCHANTS,
    RECENT_DAYS,
    PlannedPayment,
    demo_people,
    demo_refusal,
    history_row,
    plan_day,
)
from payments.models import Payment
from payments.services.expiry import authorization_expire_due
from payments.services.imports import payment_import

SEED_ACTOR = Actor(type="system", id="seed_demo")
DEMO_PASSWORD = "paysite-demo-2026"


class Command(BaseCommand):
    help = "Load the demo data (idempotent): merchants, users, an API key, ~20,000 payments over 90 days."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--payments", type=int, default=20_000, help="about how many payments in all")
        parser.add_argument("--days", type=int, default=DAYS)
        parser.add_argument(
            "--recent-days",
            type=int,
            default=RECENT_DAYS,
            help="the last days loaded through the payment services (the ones before are imported in bulk)",
        )
        parser.add_argument("--workers", type=int, default=6)
        parser.add_argument("--quiet", action="store_true", help="no progress bar")
        parser.add_argument(
            "--force", action="store_true", help="load it even with DJANGO_DEBUG off or DynamoDB not local"
        )

    def handle(
        self,
        *args,
        payments: int,
        days: int,
        workers: int,
        quiet: bool,
        recent_days: int = RECENT_DAYS,
        force: bool = False,
        **options,
    ) -> None:
        refusal = demo_refusal(debug=settings.DEBUG, endpoint=str(settings.DYNAMODB["ENDPOINT"] or "") or None)
        if refusal and not force:
            raise CommandError(refusal)
        with storage_errors():
            state = self._merchants_and_users(workers=workers)
            self._payments(state, total=payments, days=days, recent_days=recent_days, workers=workers, quiet=quiet)
            self._settlements(state, days=days)
            state["complete"] = True
            self._save_state(state)
        self.stdout.write(self.style.SUCCESS("Demo data is loaded."))

    # --- merchants, users, key -----------------------------------------------------------

    def _state_path(self):
        return settings.VAR_DIR / "demo.json"

    def _load_state(self) -> dict:
        path = self._state_path()
        return json.loads(path.read_text()) if path.exists() else {}

    def _save_state(self, state: dict) -> None:
        path = self._state_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(state, indent=2))
        path.chmod(0o600)

    def _merchants_and_users(self, *, workers: int) -> dict:
        state = self._load_state()
        existing = {m.merchant_id for m in merchant_list()}
        merchants = {slug: mid for slug, mid in state.get("merchants", {}).items() if mid in existing}
        if len(merchants) != len(state.get("merchants", {})):
            state = {}  # the tables were emptied: start again
        for name, slug, currency, _ in DEMO_MERCHANTS:
            if slug not in merchants:
                merchants[slug] = merchant_create(name=name, default_currency=currency, actor=SEED_ACTOR).merchant_id
        state["merchants"] = merchants
        if not state.get("api_key"):
            created = api_key_create(merchant_id=merchants["acme"], name="demo", actor=SEED_ACTOR)
            state["api_key"] = {"merchant": merchants["acme"], "key_id": created.key.key_id, "secret": created.secret}
        if not state.get("customers"):
            with ThreadPoolExecutor(max_workers=max(1, min(workers, len(merchants)))) as pool:  # side by side
                made = dict(zip(merchants, pool.map(self._customers, merchants.values()), strict=True))
            state["customers"] = made
        state["users"] = self._users(merchants)
        self._save_state(state)
        return state

    def _customers(self, merchant_id: str) -> list[str]:
        ids = []
        for email, name, phone in demo_people(merchant_id):
            customer = customer_create(merchant_id=merchant_id, actor=SEED_ACTOR, email=email, name=name, phone=phone)
            ids.append(customer.customer_id)
        return ids

    def _users(self, merchants: dict[str, str]) -> list[dict]:
        User = get_user_model()
        users = []
        # One hash for the one published password: hashing it for each of the ten users took 5 s of
        # the first run (the hasher is slow on purpose).
        password = make_password(DEMO_PASSWORD)
        with db_transaction.atomic():
            ops, _ = User.objects.get_or_create(username="ops", defaults={"is_staff": True, "is_superuser": True})
            ops.is_staff = ops.is_superuser = True
            ops.password = password
            ops.save()
            users.append({"username": "ops", "role": "ops staff (all merchants, Django admin)"})
            for slug, merchant_id in merchants.items():
                for role in Role:
                    username = f"{slug}-{role.value}"
                    user, _ = User.objects.get_or_create(
                        username=username, defaults={"email": f"{username}@example.com"}
                    )
                    user.password = password
                    user.save()
                    Membership.objects.update_or_create(
                        user=user, merchant_id=merchant_id, defaults={"role": role.value}
                    )
                    users.append({"username": username, "role": f"{role.value} at {slug}"})
        return [dict(u, password=DEMO_PASSWORD) for u in users]

    # --- payments -----------------------------------------------------------------------

    def _settlements(self, state: dict, *, days: int) -> None:
        """One small settlement file per merchant over the start of its history (reconciliation's
        `settlement_demo_seed`, by name: payments does not import reconciliation), so payouts and the
        available balance have data. The same history makes the same file: once."""
        if not state.get("history_anchor"):
            return
        since = date.fromisoformat(state["history_anchor"]) - timedelta(days=days - 1)
        merchants = [arg for merchant_id in state["merchants"].values() for arg in ("--merchant", merchant_id)]
        call_command("settlement_demo_seed", *merchants, "--since", since.isoformat(), stdout=self.stdout)

    def _payments(self, state: dict, *, total: int, days: int, recent_days: int, workers: int, quiet: bool) -> None:
        now = datetime.now(UTC).replace(microsecond=0)
        # The plan starts from the day the history was first planned, so a later run makes the same
        # history file (one import, resumed if it stopped) and only tops the recent days up.
        if state.get("complete") and "history_anchor" not in state:
            # Loaded before imports existed, every day through the services: those days only get topped up.
            state["history_anchor"] = None
        anchor_day = state.setdefault("history_anchor", f"{now:%Y-%m-%d}")
        self._save_state(state)
        anchor = date.fromisoformat(anchor_day) if anchor_day else now.date()
        start = datetime(anchor.year, anchor.month, anchor.day, tzinfo=UTC) - timedelta(days=days - 1)
        history_end = start + timedelta(days=max(0, days - recent_days)) if anchor_day else start
        weights = {"acme": 0.5, "morgenrot": 0.3, "kumo": 0.2}
        files: list[tuple[str, str, bytes, int]] = []
        jobs = []
        for _, slug, _, currencies in DEMO_MERCHANTS:
            merchant_id = state["merchants"][slug]
            rng = random.Random(f"{slug}-plan")
            per_day = total * weights[slug] / days
            emails = [email for email, _, _ in demo_people(merchant_id)]
            history: list[dict] = []
            offset = 0
            while (day := start + timedelta(days=offset)) <= now:
                growth = 0.7 + 0.6 * min(offset, days) / days
                weekend = 0.75 if day.weekday() >= 5 else 1.0
                count = max(1, int(rng.gauss(per_day * growth * weekend, per_day * 0.1)))
                plan = plan_day(rng, day, currencies, count, now)
                if day < history_end:
                    history.extend(history_row(slug, day, n, item, emails) for n, item in enumerate(plan))
                else:
                    jobs.append((merchant_id, state["customers"][slug], day, plan))
                offset += 1
            if history:
                files.append(
                    (merchant_id, f"demo-history-{slug}-{anchor:%Y%m%d}.csv", import_csv_rows(history), len(history))
                )
        planned_total = sum(rows for *_, rows in files) + sum(len(plan) for *_, plan in jobs)
        stream = self.stderr._out
        bar = tqdm(
            total=planned_total,
            unit="payment",
            desc="Demo payments",
            disable=quiet,
            file=stream,
            mininterval=0.2 if stream.isatty() else 5.0,  # a log file gets a line every 5 s, not thousands
        )
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [
                *(
                    pool.submit(self._import_history, merchant_id, name, data, bar)
                    for merchant_id, name, data, _ in files
                ),
                *(
                    pool.submit(self._load_day, merchant_id, customers, day, plan, now, bar)
                    for merchant_id, customers, day, plan in jobs
                ),
            ]
            for future in as_completed(futures):
                future.result()
        bar.close()
        # Like production's sweep: no authorization is left uncaptured past its 7 days (the days loaded
        # through the services, and those loaded by an earlier run that have aged since).
        authorization_expire_due(merchant_ids=list(state["merchants"].values()))

    def _import_history(self, merchant_id: str, filename: str, data: bytes, bar) -> None:
        """The merchant's history as one historical import (resumed where it stopped; once)."""
        reported = 0

        def progress(done: int, total: int) -> None:
            nonlocal reported
            bar.update(done - reported)
            reported = done

        result = payment_import(
            merchant_id=merchant_id, actor=SEED_ACTOR, data=data, filename=filename, on_progress=progress
        )
        bar.update(int(result.record.rows_total) - reported)

    def _load_day(
        self, merchant_id: str, customers: list[str], day: datetime, plan: list[PlannedPayment], now: datetime, bar
    ) -> None:
        existing = Payment.by_merchant.count(
            merchant_id,
            range_key_condition=Payment.payment_id.between(
                id_floor("pay", day), id_ceiling("pay", day + timedelta(days=1))
            ),
        )
        bar.update(min(existing, len(plan)))
        for item in plan[existing:]:
            self._load_one(merchant_id, customers, item, now)
            bar.update(1)

    def _load_one(self, merchant_id: str, customers: list[str], item: PlannedPayment, now: datetime) -> None:
        """One planned payment through the services, which retry their own transactions (conflicts
        between the loader's threads included) under `core.retry`'s one policy."""
        card = CardInput(number=item.card, exp_month=12, exp_year=now.year + 3, cvc="123")
        try:
            payment = services.payment_create(
                merchant_id=merchant_id,
                actor=SEED_ACTOR,
                amount=item.amount,
                currency=item.currency,
                card=card,
                capture=item.capture,
                customer_id=customers[item.customer] if item.customer is not None else None,
                description=f"Order {item.at:%y%m%d}-{item.amount % 9973:04d}",
                metadata={"source": "demo"},
                now=item.at,
            )
        except PaymentFailed:  # declined (or never received): stored as failed, nothing more to do
            return
        later = min(item.at + item.refund_after, now)
        if not item.capture:
            if item.cancel:
                services.payment_cancel(
                    merchant_id=merchant_id, payment_id=payment.payment_id, actor=SEED_ACTOR, now=later
                )
            elif item.capture_later:
                services.payment_capture(
                    merchant_id=merchant_id, payment_id=payment.payment_id, actor=SEED_ACTOR, now=later
                )
            return
        if item.refund:
            amount = None if item.refund == "full" else max(1, payment.amount // 3)
            services.refund_create(
                merchant_id=merchant_id,
                payment_id=payment.payment_id,
                actor=SEED_ACTOR,
                amount=amount,
                reason=RefundReason.REQUESTED_BY_CUSTOMER,
                now=later,
            )
