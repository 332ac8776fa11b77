"""Record the AWS calls a code path makes and check them against a function's generated IAM policy.

`AwsCalls` (the `aws_calls` fixture) records what botocore's one entry point for every call of every client sends (pynamodb's
DynamoDB client, django-storages', the S3 handler's and the audit anchors'): nothing goes around it.
`refused(calls, policy)` turns each call into the IAM actions and resources AWS authorizes it by (a
transaction item by item, a listing by its prefix) and returns those no statement allows.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"
BUCKET_NAME_PREFIX = "paysite"
SETTLEMENT_BUCKET = f"{BUCKET_NAME_PREFIX}-settlements-{ACCOUNT}-{REGION}"
ANCHOR_BUCKET = f"{BUCKET_NAME_PREFIX}-audit-anchors-{ACCOUNT}-{REGION}"

_TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}
_S3_ACTIONS = {
    "GetObject": "s3:GetObject",
    "HeadObject": "s3:GetObject",
    "PutObject": "s3:PutObject",
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "DeleteObject": "s3:DeleteObject",
}


@dataclass(frozen=True)
class Request:
    """One authorization AWS makes: an action on a resource (and the listing prefix, if any)."""

    action: str
    resource: str
    prefix: str | None = None

    def __str__(self) -> str:
        return f"{self.action} {self.resource}" + (f" (prefix {self.prefix})" if self.prefix is not None else "")


class AwsCalls:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def requests(self) -> list[Request]:
        found: list[Request] = []
        for service, operation, params in self.calls:
            found += _dynamodb(operation, params) if service == "dynamodb" else _s3(operation, params)
        return found


def _table(name: str, index: str | None = None) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}" + (f"/index/{index}" if index else "")


def _dynamodb(operation: str, params: dict[str, Any]) -> list[Request]:
    if operation == "TransactWriteItems":
        return [
            Request(f"dynamodb:{_TRANSACT[kind]}", _table(body["TableName"]))
            for item in params["TransactItems"]
            for kind, body in item.items()
        ]
    if operation == "TransactGetItems":
        return [Request("dynamodb:GetItem", _table(item["Get"]["TableName"])) for item in params["TransactItems"]]
    if operation in {"BatchGetItem", "BatchWriteItem"}:
        return [Request(f"dynamodb:{operation}", _table(name)) for name in params["RequestItems"]]
    if operation == "ListTables":
        return [Request("dynamodb:ListTables", "*")]
    return [Request(f"dynamodb:{operation}", _table(params["TableName"], params.get("IndexName")))]


def _s3(operation: str, params: dict[str, Any]) -> list[Request]:
    bucket = f"arn:aws:s3:::{params['Bucket']}"
    if operation in {"ListObjectsV2", "ListObjects"}:
        return [Request("s3:ListBucket", bucket, params.get("Prefix", ""))]
    if operation in {"CreateBucket", "PutObjectLockConfiguration"}:
        return []  # the test's own set-up
    return [Request(_S3_ACTIONS[operation], f"{bucket}/{params['Key']}")]


def _resolve(value: Any, table_prefix: str) -> str:
    """A policy resource with the template's parameters as the tests deploy them."""
    text = value["Fn::Sub"] if isinstance(value, dict) else value
    names = {
        "AWS::Partition": "aws",
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT,
        "TablePrefix": table_prefix,
        "BucketNamePrefix": BUCKET_NAME_PREFIX,
    }
    return re.sub(r"\$\{([^}]+)\}", lambda match: names[match[1]], text)


def _listify(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def allows(statement: dict[str, Any], request: Request, table_prefix: str) -> bool:
    if statement["Effect"] != "Allow" or request.action not in _listify(statement["Action"]):
        return False
    resources = [_resolve(resource, table_prefix) for resource in _listify(statement["Resource"])]
    if not any(fnmatch.fnmatchcase(request.resource, pattern) for pattern in resources):
        return False
    wanted = statement.get("Condition", {}).get("StringLike", {}).get("s3:prefix")
    return wanted is None or (request.prefix is not None and fnmatch.fnmatchcase(request.prefix, wanted))


def refused(requests: list[Request], statements: list[dict[str, Any]], table_prefix: str) -> list[str]:
    """Each request no statement allows, once."""
    return sorted({str(r) for r in requests if not any(allows(s, r, table_prefix) for s in statements)})
