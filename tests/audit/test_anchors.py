"""The anchored heads of the seal chains, outside the audit tables: they only move forward, a forged
one is a finding, and in either store (the database, or S3 under Object Lock) a chain cut at its
tail no longer verifies."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from io import StringIO

import boto3
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audit import anchors, integrity
from audit.models import AuditAnchor, AuditSeal
from audit.selectors import audit_partition_list
from audit.services import audit_record
from core.actor import SYSTEM
from tests.factories import make_merchant

pytestmark = pytest.mark.django_db

BUCKET = "paysite-test-audit-anchors"


def _sealed(merchant_id: str, hours: int = 3) -> list[AuditSeal]:
    """Events in past hours, sealed through now: the partition's seals, oldest first."""
    now = datetime.now(UTC)
    for n in range(hours, 0, -1):
        audit_record(merchant_id=merchant_id, actor=SYSTEM, action="test.event", at=now - timedelta(hours=n))
    call_command("audit", "seal", "--merchant", merchant_id, "--through", "now", stdout=StringIO())
    return list(AuditSeal.query(merchant_id))


def _findings(merchant_id: str) -> list[tuple[str, str]]:
    return [(f.kind, f.period_start) for f in integrity.audit_verify(partitions=[merchant_id]).findings]


def _seal_refused(merchant_id: str) -> str:
    out = StringIO()
    with pytest.raises(CommandError, match="refused"):
        call_command("audit", "seal", "--merchant", merchant_id, "--through", "now", stdout=out)
    return out.getvalue()


@pytest.fixture
def anchor_bucket(settings, dynamodb_backend):
    """The S3 store, in a bucket with Object Lock on and a default retention, as deployed."""
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(
        Bucket=BUCKET,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 1}},
        },
    )
    settings.AUDIT_ANCHOR_BUCKET = BUCKET
    settings.AUDIT_ANCHOR_S3_REGION = "us-east-1"
    settings.AUDIT_ANCHOR_S3_ENDPOINT = None
    return s3


@pytest.fixture(params=["database", "s3"])
def store(request):
    """Each anchor store in turn."""
    if request.param == "s3":
        request.getfixturevalue("anchor_bucket")
    return request.param


# --- both stores -----------------------------------------------------------------------------


def test_each_seal_moves_the_anchored_head_to_it(store):
    merchant = make_merchant("Acme")

    seals = _sealed(merchant.merchant_id)

    head = anchors.anchor_get(merchant.merchant_id)
    assert head is not None
    assert (head.period_start, head.seal_hash) == (seals[-1].period_start, seals[-1].seal_hash)
    assert anchors.anchor_problem(head, partition=merchant.merchant_id) is None


def test_the_anchored_head_never_moves_back(store):
    merchant = make_merchant("Acme")
    seals = _sealed(merchant.merchant_id)
    at = datetime.now(UTC)

    moved = [anchors.anchor_advance(anchors.anchor_new(seal, at=at)) for seal in (seals[0], seals[-1])]

    assert moved == [False, False]  # an older seal, and the head itself
    head = anchors.anchor_get(merchant.merchant_id)
    assert head is not None and head.period_start == seals[-1].period_start


@pytest.mark.parametrize("cut", [1, "all"])
def test_a_chain_cut_at_its_tail_is_named_in_either_store(store, cut):
    merchant = make_merchant("Acme")
    seals = _sealed(merchant.merchant_id)
    for seal in seals if cut == "all" else seals[-cut:]:
        seal.delete()

    out = _seal_refused(merchant.merchant_id)

    assert "no longer reaches its anchored head" in out
    assert ("anchor_unreached", seals[-1].period_start) in _findings(merchant.merchant_id)


# --- the database store ----------------------------------------------------------------------


@pytest.mark.engine
@pytest.mark.parametrize(
    "forge",
    [
        pytest.param({"seal_hash": "f" * 64}, id="other-hash"),
        pytest.param({"signature": "0" * 64}, id="bad-signature"),
        pytest.param({"key_id": "ak_000000000000"}, id="unknown-key"),
        pytest.param({"partition": "ops"}, id="other-partition"),
    ],
)
def test_a_forged_anchor_is_named_and_stops_sealing(dynamodb_backend, forge):
    merchant = make_merchant("Acme")
    seals = _sealed(merchant.merchant_id)
    if forge == {"partition": "ops"}:  # a valid anchor of one partition copied as another's
        AuditAnchor.objects.filter(partition="ops").delete()
        AuditAnchor.objects.filter(partition=merchant.merchant_id).update(partition="ops")
        partition = "ops"
    else:
        AuditAnchor.objects.filter(partition=merchant.merchant_id).update(**forge)
        partition = merchant.merchant_id

    out = _seal_refused(partition)

    assert "is not the sealer's" in out
    kinds = [f.kind for f in integrity.audit_verify(partitions=[partition]).findings]
    assert "anchor_invalid" in kinds
    if partition == merchant.merchant_id:
        assert kinds == ["anchor_invalid"]
        assert len(list(AuditSeal.query(merchant.merchant_id))) == len(seals)


@pytest.mark.engine
def test_seals_after_the_anchored_head_that_chain_on_from_it_verify_and_the_next_run_anchors_them(
    dynamodb_backend,
):
    """A run that stopped between writing a seal and anchoring it leaves seals after the anchored head:
    they verify when they chain on from it, and the next run continues from them."""
    merchant = make_merchant("Acme")
    seals = _sealed(merchant.merchant_id)
    older = anchors.anchor_new(seals[-2], at=datetime.now(UTC))
    AuditAnchor.objects.filter(partition=merchant.merchant_id).update(
        period_start=integrity.time_parse(older.period_start),
        period_end=integrity.time_parse(older.period_end),
        seal_hash=older.seal_hash,
        anchored_at=integrity.time_parse(older.anchored_at),
        signature=older.signature,
    )

    assert _findings(merchant.merchant_id) == []
    call_command("audit", "seal", "--merchant", merchant.merchant_id, "--through", "now", stdout=StringIO())

    after = list(AuditSeal.query(merchant.merchant_id))
    assert [s.seal_hash for s in after[: len(seals)]] == [s.seal_hash for s in seals]
    assert after[len(seals)].previous_seal_hash == seals[-1].seal_hash
    head = anchors.anchor_get(merchant.merchant_id)
    assert head is not None and head.period_start == after[-1].period_start
    assert _findings(merchant.merchant_id) == []


@pytest.mark.engine
def test_a_chain_sealed_before_anchors_existed_is_named_until_sealing_anchors_it(dynamodb_backend):
    merchant = make_merchant("Acme")
    seals = _sealed(merchant.merchant_id)
    AuditAnchor.objects.all().delete()

    before = _findings(merchant.merchant_id)
    call_command("audit", "seal", "--merchant", merchant.merchant_id, "--through", "now", stdout=StringIO())

    assert before == [("anchor_missing", seals[-1].period_start)]
    assert _findings(merchant.merchant_id) == []


# --- the S3 store ----------------------------------------------------------------------------


def test_s3_keeps_one_object_per_seal_and_lists_the_newest_first(anchor_bucket):
    merchant = make_merchant("Acme")

    seals = _sealed(merchant.merchant_id)

    listed = anchor_bucket.list_objects_v2(Bucket=BUCKET, Prefix=f"audit-anchors/{merchant.merchant_id}/")
    keys = [item["Key"] for item in listed["Contents"]]
    assert len(keys) == len(seals)
    assert keys[0].endswith(f"-{seals[-1].period_start}.json")
    lock = anchor_bucket.get_object_lock_configuration(Bucket=BUCKET)["ObjectLockConfiguration"]
    assert lock["Rule"]["DefaultRetention"]["Mode"] == "COMPLIANCE"


def test_s3_an_older_anchor_copied_under_a_newer_name_is_forged(anchor_bucket):
    merchant = make_merchant("Acme")
    seals = _sealed(merchant.merchant_id)
    store = anchors.S3AnchorStore(bucket=BUCKET, prefix="audit-anchors/")
    older = anchors.anchor_new(seals[0], at=datetime.now(UTC))
    later = integrity.time_key(integrity.time_parse(seals[-1].period_start) + timedelta(hours=1))

    anchor_bucket.put_object(
        Bucket=BUCKET,
        Key=store.key(merchant.merchant_id, later),
        Body=json.dumps(older.__dict__).encode(),
        ChecksumAlgorithm="SHA256",
    )

    assert [kind for kind, _ in _findings(merchant.merchant_id)] == ["anchor_invalid"]
    assert "is not the sealer's" in _seal_refused(merchant.merchant_id)


def test_a_partition_whose_merchant_item_was_deleted_is_still_verified(store):
    merchant = make_merchant("Gone")
    _sealed(merchant.merchant_id)
    merchant.delete()  # write access to DynamoDB: the merchants index no longer names it

    partitions = audit_partition_list()
    verification = integrity.audit_verify(partitions=partitions)
    assert merchant.merchant_id in partitions and merchant.merchant_id in verification.partitions
    assert verification.anchored == len(verification.partitions) - 1  # every one but the unsealed `ops`
