"""A merchant's four-eyes settings: the refund amount per currency at or above which a refund needs a
second person's approval, and whether API refunds need it too (`payments.services.refund_requests`
applies them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pynamodb.transactions import TransactWrite

from audit.services import audit_condition, audit_event_new
from core import dynamodb
from core.actor import Actor
from core.errors import ValidationFailed
from core.ids import now as clock_now
from core.money import CURRENCIES
from merchants.models import Merchant
from merchants.selectors import merchant_get
from payments.services.changes import amount_check


@dataclass(frozen=True)
class ApprovalSettings:
    thresholds: dict[str, int]  # currency -> minor units; a refund at or above it needs approval
    api_refunds_need_approval: bool


def refund_approval_settings(merchant: Merchant) -> ApprovalSettings:
    stored = merchant.refund_approval_thresholds or {}
    return ApprovalSettings(
        thresholds={currency: int(amount) for currency, amount in stored.items()},
        api_refunds_need_approval=bool(merchant.api_refunds_need_approval),
    )


def refund_approval_settings_set(
    *, merchant_id: str, actor: Actor, thresholds: dict[str, int], api_refunds_need_approval: bool
) -> ApprovalSettings:
    """Replace the thresholds (an empty dict: no approval anywhere) and the API flag; audited in the
    same transaction."""
    clean: dict[str, int] = {}
    for currency, amount in thresholds.items():
        code = (currency or "").lower()
        if code not in CURRENCIES:
            raise ValidationFailed(f"Unsupported currency {currency!r}.", param="currency", code="invalid_currency")
        amount_check(amount, param=f"threshold_{code}")
        clean[code] = amount
    merchant = merchant_get(merchant_id=merchant_id)
    before = refund_approval_settings(merchant)
    now = clock_now()
    event = audit_event_new(
        merchant_id=merchant_id,
        actor=actor,
        action="merchant.refund_approval.update",
        entity_type="merchant",
        entity_id=merchant_id,
        before={"thresholds": before.thresholds, "api_refunds_need_approval": before.api_refunds_need_approval},
        after={"thresholds": clean, "api_refunds_need_approval": api_refunds_need_approval},
        at=now,
    )
    actions: list[Any] = [
        Merchant.refund_approval_thresholds.set(clean) if clean else Merchant.refund_approval_thresholds.remove(),
        Merchant.api_refunds_need_approval.set(api_refunds_need_approval),
        Merchant.updated.set(now),
    ]
    with TransactWrite(connection=dynamodb.connection()) as transaction:
        transaction.update(merchant, actions=actions)
        transaction.save(event, condition=audit_condition())
    return ApprovalSettings(thresholds=clean, api_refunds_need_approval=api_refunds_need_approval)
