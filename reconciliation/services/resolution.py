"""Resolving discrepancies: a person says why they are fine. Each discrepancy is resolved once, with
its own audit event, in a DynamoDB transaction that also adds it to the settlement's per-kind
`resolved_counts`, so the pages count open and resolved discrepancies without reading them.

Many at once (every open discrepancy of a kind, or a selection) go in chunks of `CHUNK` discrepancies:
two items each (the discrepancy and its audit event) plus the settlement's counters, at most 100
items per transaction. Each chunk is whole or nothing; a chunk that loses a race (someone resolved
one of its discrepancies meanwhile) is read again and done without the ones already resolved."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

from pynamodb.constants import KEY
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from audit.services import audit_condition, audit_event_new
from core import dynamodb
from core.actor import Actor
from core.errors import ValidationFailed
from core.ids import is_id, now
from reconciliation.enums import Kind
from reconciliation.errors import DiscrepancyAlreadyResolved, DiscrepancyNotFound
from reconciliation.models import Discrepancy, Settlement
from reconciliation.selectors import discrepancy_get, resolved_by_kind, settlement_get

MAX_REASON = 500
CHUNK = 49  # 49 discrepancies x 2 items + the settlement's counters = 99 items per transaction
MAX_SELECTED = 500  # discrepancies named in one request ("every open one of a kind" has no limit)
ATTEMPTS = 4  # a chunk is read again and retried this often when someone else wins a race


class _Transaction(TransactWrite):
    def update_unversioned(self, model: type[Model], hash_key: str, *, actions: list, condition: Condition) -> None:
        """An update that leaves the item's `version` alone (pynamodb's `update` always adds 1 to it):
        the worker processing a settlement file checks that version and must not stop because someone
        resolved a discrepancy meanwhile."""
        self._update_items.append(
            model._get_connection().get_operation_kwargs(hash_key, key=KEY, actions=actions, condition=condition)
        )


@dataclass(frozen=True)
class BulkResolution:
    resolved: int  # resolved by this request
    already: int  # resolved by someone else before or while this request ran


def _reason_check(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why the discrepancy is resolved.", param="reason", code="reason_missing")
    if len(reason) > MAX_REASON:
        raise ValidationFailed(
            f"The reason is longer than {MAX_REASON} characters.", param="reason", code="reason_too_long"
        )
    return reason


def _counter_actions(settlement: Settlement, kinds: Counter[str]) -> tuple[list, Condition]:
    """Add `kinds` to the settlement's `resolved_counts`: create the map when the item has none
    (settlements from before the counters), else add to its entries; each guarded so a race is seen."""
    counters = Settlement.resolved_counts
    if settlement.resolved_counts is None:  # those resolved before the counters existed count too
        return [counters.set(dict(Counter(resolved_by_kind(settlement)) + kinds))], counters.does_not_exist()
    return [counters[kind].set((counters[kind] | 0) + n) for kind, n in kinds.items()], counters.exists()


def _write_chunk(
    *, merchant_id: str, settlement_id: str, discrepancies: list[Discrepancy], actor: Actor, reason: str
) -> None:
    """One transaction: every discrepancy of `discrepancies` resolved (each only if still open) with
    its audit event, and the settlement's counters. Raises TransactWriteError when any condition fails."""
    settlement = settlement_get(merchant_id=merchant_id, settlement_id=settlement_id)
    at = now()
    who = actor.id if actor.type == "user" else f"{actor.type}:{actor.id}"
    actions, condition = _counter_actions(settlement, Counter(d.kind for d in discrepancies))
    with _Transaction(connection=dynamodb.connection()) as transaction:
        for discrepancy in discrepancies:
            transaction.update(
                discrepancy,
                actions=[
                    Discrepancy.resolved.set(True),
                    Discrepancy.resolved_by.set(who),
                    Discrepancy.resolved_reason.set(reason),
                    Discrepancy.resolved_at.set(at),
                ],
                condition=Discrepancy.resolved == False,  # noqa: E712 (a DynamoDB condition, not a comparison)
            )
            state = {"settlement_id": settlement_id, "kind": discrepancy.kind}
            transaction.save(
                audit_event_new(
                    merchant_id=merchant_id,
                    actor=actor,
                    action="discrepancy.resolve",
                    entity_type="discrepancy",
                    entity_id=discrepancy.discrepancy_id,
                    before={"resolved": False, **state},
                    after={"resolved": True, **state, "reason": reason},
                    at=at,
                ),
                condition=audit_condition(),
            )
        transaction.update_unversioned(Settlement, settlement_id, actions=actions, condition=condition)


def _still_open(settlement_id: str, discrepancies: list[Discrepancy]) -> list[Discrepancy]:
    """The ones of `discrepancies` that are still open, read again by key (strongly consistent)."""
    keys = [(settlement_id, d.discrepancy_id) for d in discrepancies]
    fresh = {d.discrepancy_id: d for d in Discrepancy.batch_get(keys, consistent_read=True)}
    return [
        fresh[d.discrepancy_id]
        for d in discrepancies
        if d.discrepancy_id in fresh and not fresh[d.discrepancy_id].resolved
    ]


def _resolve_chunk(
    *, merchant_id: str, settlement_id: str, discrepancies: list[Discrepancy], actor: Actor, reason: str
) -> int:
    """Resolve the open ones of `discrepancies` (at most CHUNK); returns how many this call resolved."""
    pending = [d for d in discrepancies if not d.resolved]
    for _ in range(ATTEMPTS):
        if not pending:
            return 0
        try:
            _write_chunk(
                merchant_id=merchant_id, settlement_id=settlement_id, discrepancies=pending, actor=actor, reason=reason
            )
        except TransactWriteError:
            pending = _still_open(settlement_id, pending)  # someone resolved some, or created the counters
            continue
        return len(pending)
    raise DiscrepancyAlreadyResolved("Others are resolving these discrepancies right now; try again in a moment.")


def _chunks(items: Iterable[Discrepancy]) -> Iterator[list[Discrepancy]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, CHUNK)):
        yield chunk


def discrepancy_resolve(
    *, merchant_id: str, settlement_id: str, discrepancy_id: str, actor: Actor, reason: str
) -> Discrepancy:
    reason = _reason_check(reason)
    discrepancy = discrepancy_get(merchant_id=merchant_id, settlement_id=settlement_id, discrepancy_id=discrepancy_id)
    if discrepancy.resolved:
        raise DiscrepancyAlreadyResolved(f"{discrepancy_id} was already resolved by {discrepancy.resolved_by}.")
    resolved = _resolve_chunk(
        merchant_id=merchant_id, settlement_id=settlement_id, discrepancies=[discrepancy], actor=actor, reason=reason
    )
    if not resolved:
        raise DiscrepancyAlreadyResolved(f"{discrepancy_id} was resolved by someone else just now.")
    return discrepancy_get(merchant_id=merchant_id, settlement_id=settlement_id, discrepancy_id=discrepancy_id)


def _selected(settlement_id: str, discrepancy_ids: list[str]) -> list[Discrepancy]:
    wanted = list(dict.fromkeys(i.strip() for i in discrepancy_ids if i.strip()))
    if not wanted:
        raise ValidationFailed("Select the discrepancies to resolve.", param="discrepancy_ids", code="nothing_selected")
    if len(wanted) > MAX_SELECTED:
        raise ValidationFailed(
            f"Select at most {MAX_SELECTED} discrepancies at once, or resolve every open one of a kind.",
            param="discrepancy_ids",
            code="too_many_selected",
        )
    found: dict[str, Discrepancy] = {}
    valid = [i for i in wanted if is_id(i, "dis")]
    for start in range(0, len(valid), 100):
        keys = [(settlement_id, i) for i in valid[start : start + 100]]
        found.update({d.discrepancy_id: d for d in Discrepancy.batch_get(keys, consistent_read=True)})
    missing = [i for i in wanted if i not in found]
    if missing:
        raise DiscrepancyNotFound(f"No discrepancy {missing[0]}.", param="discrepancy_ids")
    return [found[i] for i in wanted]


def discrepancy_resolve_bulk(
    *,
    merchant_id: str,
    settlement_id: str,
    actor: Actor,
    reason: str,
    kind: str | None = None,
    discrepancy_ids: list[str] | None = None,
) -> BulkResolution:
    """Resolve with one reason either the discrepancies named by `discrepancy_ids` or, without them,
    every open discrepancy of `kind`. One audit event per discrepancy; chunks of CHUNK per transaction.
    Those already resolved are counted in `already`, not resolved again."""
    reason = _reason_check(reason)
    settlement_get(merchant_id=merchant_id, settlement_id=settlement_id)  # another merchant's: not found
    if discrepancy_ids is not None:
        candidates: Iterable[Discrepancy] = _selected(settlement_id, discrepancy_ids)
    elif kind in set(Kind):
        # The by-kind index (eventually consistent): each update's condition decides, not this read.
        still_open = Discrepancy.resolved == False  # noqa: E712 (a DynamoDB condition, not a comparison)
        candidates = Discrepancy.by_kind.query(f"{settlement_id}#{kind}", filter_condition=still_open)
    else:
        raise ValidationFailed("Choose the kind of discrepancies to resolve.", param="kind", code="invalid_kind")
    resolved = seen = 0
    for chunk in _chunks(candidates):
        seen += len(chunk)
        resolved += _resolve_chunk(
            merchant_id=merchant_id, settlement_id=settlement_id, discrepancies=chunk, actor=actor, reason=reason
        )
    return BulkResolution(resolved=resolved, already=seen - resolved)
