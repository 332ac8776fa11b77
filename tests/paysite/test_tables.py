import pytest
import yaml

from core import dynamodb, tables

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

    for name, indexes in DESIGN_TABLES.items():
        assert indexes <= set(described[name].indexes), name
    assert described["idempotency"].ttl_attribute == "expires_at"
    assert described["audit_events"].ttl_attribute == "expires_at"


def test_template_is_yaml_with_every_table_gsi_stream_and_ttl():
    template = yaml.safe_load(tables.cloudformation_template())

    resources = template["Resources"]
    by_table = {
        r["Properties"]["TableName"]["Fn::Sub"].removeprefix("${TablePrefix}"): r["Properties"]
        for r in resources.values()
    }
    for name, indexes in DESIGN_TABLES.items():
        props = by_table[name]
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert props["SSESpecification"]["SSEEnabled"] is True
        assert indexes <= {gsi["IndexName"] for gsi in props.get("GlobalSecondaryIndexes", [])}
    assert by_table["payments"]["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert by_table["idempotency"]["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
