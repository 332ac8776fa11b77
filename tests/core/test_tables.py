from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

from core import dynamodb, tables
from core.batch import batch_get
from merchants.models import Merchant

pytestmark = pytest.mark.engine

DESIGN_TABLES = {
    "merchants": set(),
    "api_keys": set(),
    "payments": {"by-merchant", "by-merchant-status", "by-customer"},
    "transactions": set(),
    "customers": {"by-merchant"},
    "idempotency": set(),
    "daily_summaries": set(),
    "settlements": set(),
    "settlement_lines": set(),
    "audit_events": {"by-entity"},
    "audit_seals": set(),
    "webhook_deliveries": set(),
}


def test_create_twice_changes_nothing(dynamodb_backend):
    again = tables.tables_create()

    assert again and all(not result.created for result in again)
    described = {t.name: t for t in tables.tables_describe()}
    assert all(t.status == "ACTIVE" for t in described.values())


def test_describe_shows_design_indexes_and_ttl(dynamodb_backend):
    described = {t.name.removeprefix(dynamodb.table_name("")): t for t in tables.tables_describe()}

    assert set(DESIGN_TABLES) <= set(described)
    missing_indexes = {name: indexes - set(described[name].indexes) for name, indexes in DESIGN_TABLES.items()}
    assert missing_indexes == dict.fromkeys(DESIGN_TABLES, set())
    assert described["idempotency"].ttl_attribute == "expires_at"
    assert described["audit_events"].ttl_attribute == "expires_at"


def test_template_is_yaml_with_every_table_gsi_stream_and_ttl():
    template = yaml.safe_load(tables.cloudformation_template())

    resources = template["Resources"]
    by_table = {
        r["Properties"]["TableName"]["Fn::Sub"].removeprefix("${TablePrefix}"): r["Properties"]
        for r in resources.values()
    }
    assert set(DESIGN_TABLES) <= set(by_table)
    # table: (billing mode, point-in-time recovery, encryption, design indexes missing)
    got = {
        name: (
            by_table[name]["BillingMode"],
            by_table[name]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
            by_table[name]["SSESpecification"]["SSEEnabled"],
            indexes - {gsi["IndexName"] for gsi in by_table[name].get("GlobalSecondaryIndexes", [])},
        )
        for name, indexes in DESIGN_TABLES.items()
    }
    assert got == dict.fromkeys(DESIGN_TABLES, ("PAY_PER_REQUEST", True, True, set()))
    assert by_table["payments"]["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert by_table["idempotency"]["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_every_key_schema_in_the_template_names_the_partition_key_first():
    """CloudFormation refuses a KeySchema whose RANGE key comes first (cfn-lint E3012)."""
    template = yaml.safe_load(tables.cloudformation_template())

    schemas = []
    for resource in template["Resources"].values():
        properties = resource["Properties"]
        schemas.append(properties["KeySchema"])
        schemas += [index["KeySchema"] for index in properties.get("GlobalSecondaryIndexes", [])]

    assert schemas and all(schema[0]["KeyType"] == "HASH" for schema in schemas)
    assert any(len(schema) == 2 for schema in schemas)


@pytest.mark.engine_only  # HTTP connections to a real engine; moto answers in process
def test_as_many_threads_as_a_seed_runs_share_one_client_without_dropping_connections(dynamodb_backend, caplog):
    threads = 24  # seed_demo's 6 jobs, each an import with 4 write threads
    keys = [(Merchant, {"merchant_id": f"mer_{n:026d}"}) for n in range(threads * 4)]
    with caplog.at_level("WARNING", logger="urllib3.connectionpool"), ThreadPoolExecutor(threads) as pool:
        found = list(pool.map(lambda key: batch_get([key]), keys))

    assert found == [[]] * len(keys)
    assert [r.getMessage() for r in caplog.records if r.name == "urllib3.connectionpool"] == []
