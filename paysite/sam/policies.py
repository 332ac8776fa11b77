"""The IAM statements of a function, generated from its declaration: the ARNs of exactly the tables
and indexes of the apps (or models) it names, with exactly the actions of its verbs, and the S3
prefixes it names."""

from __future__ import annotations

from typing import Any

from django.apps import apps

from core import dynamodb
from paysite.sam.functions import EVERY_APP, INDEX_ACTIONS, STREAM_ACTIONS, VERBS, Function


def _models_by_app() -> dict[str, list[type[dynamodb.TableModel]]]:
    found: dict[str, list[type[dynamodb.TableModel]]] = {}
    for model in dynamodb.models():
        app = apps.get_containing_app_config(model.__module__)
        found.setdefault(app.label if app else model.__module__, []).append(model)
    return found


def _table_arn(base: str, index: str | None = None, *, stream: bool = False) -> dict[str, str]:
    arn = "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${TablePrefix}" + base
    return {"Fn::Sub": arn + (f"/index/{index}" if index else "") + ("/stream/*" if stream else "")}


def _index_names(model: type[dynamodb.TableModel]) -> list[str]:
    return [index["index_name"] for index in model._get_schema()["global_secondary_indexes"]]


def _verbs(function: Function, app: str, model: type[dynamodb.TableModel]) -> frozenset[str]:
    """What `function` may do with `model`'s table: declared for the model (`"merchants.Merchant"`),
    else for its app (`"merchants"`), else for every app."""
    for key in (f"{app}.{model.__name__}", app, EVERY_APP):
        if key in function.tables:
            return function.tables[key]
    return frozenset()


def table_statements(function: Function) -> list[dict[str, Any]]:
    """The DynamoDB statements of `function`'s policy: per set of actions, the tables (and, for
    Query and Scan, the indexes) that it was declared with."""
    by_app = _models_by_app()
    known = {EVERY_APP, *by_app, *(f"{app}.{model.__name__}" for app, models in by_app.items() for model in models)}
    unknown = set(function.tables) - known
    if unknown:
        raise ValueError(f"{function.name}: no table for {', '.join(sorted(unknown))}")
    grouped: dict[tuple[str, ...], list[type[dynamodb.TableModel]]] = {}
    for app, models in by_app.items():
        for model in models:
            actions = tuple(sorted({action for verb in _verbs(function, app, model) for action in VERBS[verb]}))
            if actions:
                grouped.setdefault(actions, []).append(model)
    statements = []
    for all_actions, models in grouped.items():
        streamed = sorted(STREAM_ACTIONS & set(all_actions))
        if streamed:  # a stream consumer reads the records of the tables' streams
            stream_arns = [_table_arn(model.Meta.base_name, stream=True) for model in models]
            statements.append({"Effect": "Allow", "Action": streamed, "Resource": stream_arns})
        actions = tuple(action for action in all_actions if action not in STREAM_ACTIONS)
        if not actions:
            continue
        resources = [_table_arn(model.Meta.base_name) for model in models]
        index_actions = sorted(INDEX_ACTIONS & set(actions))
        indexed = [_table_arn(model.Meta.base_name, name) for model in models for name in _index_names(model)]
        statements.append({"Effect": "Allow", "Action": list(actions), "Resource": resources})
        if index_actions and indexed:
            statements.append({"Effect": "Allow", "Action": index_actions, "Resource": indexed})
    return statements


# --- buckets ----------------------------------------------------------------------------------

BUCKETS = {
    "settlements": ("SettlementBucket", "${BucketNamePrefix}-settlements-${AWS::AccountId}-${AWS::Region}"),
    "anchors": ("AuditAnchorBucket", "${BucketNamePrefix}-audit-anchors-${AWS::AccountId}-${AWS::Region}"),
}
S3_VERBS = {"read": "s3:GetObject", "write": "s3:PutObject"}


def _bucket_arn(bucket: str, suffix: str = "") -> dict[str, str]:
    return {"Fn::Sub": "arn:${AWS::Partition}:s3:::" + BUCKETS[bucket][1] + suffix}


def object_statements(function: Function) -> list[dict[str, Any]]:
    """The S3 statements: objects under each prefix, and listing only that prefix. Bucket ARNs are
    built from the name, not referenced, so the S3 event's notification makes no dependency cycle."""
    statements = []
    for access in function.objects:
        actions = sorted(S3_VERBS[verb] for verb in access.verbs if verb in S3_VERBS)
        if actions:
            statements.append(
                {"Effect": "Allow", "Action": actions, "Resource": [_bucket_arn(access.bucket, f"/{access.prefix}*")]}
            )
        if "list" in access.verbs:
            statements.append(
                {
                    "Effect": "Allow",
                    "Action": "s3:ListBucket",
                    "Resource": [_bucket_arn(access.bucket)],
                    "Condition": {"StringLike": {"s3:prefix": f"{access.prefix}*"}},
                }
            )
    return statements
