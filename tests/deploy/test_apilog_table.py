"""The API request log's table in the SAM template: TTL on `expires_at`, its two indexes projecting the
listed columns only, and the Web function (which logs every API request) allowed to put and batch-write
it and to query its indexes; the scheduled functions never touch it."""

from __future__ import annotations

import pytest

from paysite import sam
from tests.deploy.policies import Request, refused

pytestmark = pytest.mark.pure

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/test-api_requests"


def _policy(template: dict, function: str) -> list[dict]:
    return template["Resources"][f"{function}Function"]["Properties"]["Policies"][0]["Statement"]


def test_the_table_keeps_30_days_and_its_indexes_carry_no_bodies():
    table = sam.sam_template()["Resources"]["ApiRequestsTable"]["Properties"]

    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    indexes = {index["IndexName"]: index for index in table["GlobalSecondaryIndexes"]}
    assert set(indexes) == {"by-request-id", "by-payment"}
    for index in indexes.values():
        assert index["Projection"]["ProjectionType"] == "INCLUDE"
        assert not {"request_body", "response_body"} & set(index["Projection"]["NonKeyAttributes"])


def test_the_web_function_writes_the_log_and_the_workers_do_not():
    template = sam.sam_template()
    calls = [
        Request("dynamodb:PutItem", TABLE),
        Request("dynamodb:BatchWriteItem", TABLE),
        Request("dynamodb:GetItem", TABLE),
        Request("dynamodb:Query", f"{TABLE}/index/by-request-id"),
        Request("dynamodb:Query", f"{TABLE}/index/by-payment"),
    ]

    assert refused(calls, _policy(template, "Web"), "test-") == []
    assert refused([Request("dynamodb:PutItem", TABLE)], _policy(template, "Tasks"), "test-") != []
