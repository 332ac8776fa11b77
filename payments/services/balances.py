"""Rebuilding the balance from the ledger: for a merchant whose counters predate the balance (its
payments have no `balance_pending` yet) or that an operator wants checked.

It reads every payment of the merchant and its ledger entries (a maintenance job, never a request),
sets each payment's `balance_pending` to what its ledger says (version-checked), and replaces the
merchant's counter items with one item per currency holding the ledger's figures. Run it while the
merchant is quiet: a change committed between the read and the reset would be counted twice or not
at all (run it again to settle)."""

from __future__ import annotations

from collections.abc import Iterator

from pynamodb.exceptions import UpdateError

from audit.services import audit_record
from core.actor import Actor
from payments.balance import CurrencyBalance, PaymentShare, balance_get, balance_recompute, payment_share
from payments.models import Balance, Payment, Transaction
from payments.selectors import payment_iter_for_merchant


def balance_shares_from_ledger(*, merchant_id: str) -> Iterator[tuple[Payment, PaymentShare]]:
    """Every payment of the merchant with its share of the balance as its ledger entries say."""
    for payment in payment_iter_for_merchant(merchant_id=merchant_id):
        entries = Transaction.query(payment.payment_id, consistent_read=True)
        yield payment, payment_share(entries, currency=payment.currency)


def balance_from_ledger(*, merchant_id: str) -> list[CurrencyBalance]:
    """The balance per currency recomputed from the ledger (what the counters must equal)."""
    return balance_recompute(share for _, share in balance_shares_from_ledger(merchant_id=merchant_id))


def balance_rebuild(*, merchant_id: str, actor: Actor) -> list[CurrencyBalance]:
    """Backfill the payments' `balance_pending` and reset the counters to the ledger's figures;
    returns the balance as rebuilt. Audited as `balance.rebuild` with the figures before and after."""
    before = balance_get(merchant_id=merchant_id)
    shares = []
    backfilled = 0
    for payment, share in balance_shares_from_ledger(merchant_id=merchant_id):
        shares.append(share)
        if int(payment.balance_pending or 0) != share.pending:
            try:
                payment.update(actions=[Payment.balance_pending.set(share.pending)])
            except UpdateError:  # the payment changed meanwhile: its change moved the counters itself
                continue
            backfilled += 1
    rebuilt = balance_recompute(shares)
    with Balance.batch_write() as batch:
        for item in Balance.query(merchant_id, consistent_read=True):
            batch.delete(item)
    with Balance.batch_write() as batch:
        for currency in rebuilt:
            batch.save(
                Balance(
                    merchant_id=merchant_id,
                    currency_shard=f"{currency.currency}#0",
                    pending=currency.pending,
                    available=currency.available,
                )
            )
    audit_record(
        merchant_id=merchant_id,
        actor=actor,
        action="balance.rebuild",
        entity_type="balance",
        entity_id=merchant_id,
        before={b.currency: {"pending": b.pending, "available": b.available} for b in before},
        after={b.currency: {"pending": b.pending, "available": b.available} for b in rebuilt},
        detail=f"{len(shares)} payments read, {backfilled} backfilled",
    )
    return rebuilt
