"""The SAM template: tables, buckets, network, functions with their generated policies, the HTTP API
and the schedules."""

from __future__ import annotations

from typing import Any

import yaml

from core import tables
from paysite.sam.functions import (
    ARCHITECTURE,
    AUDIT_ANCHOR_PREFIX,
    CODE_URI,
    FUNCTIONS,
    RUNTIME,
    SECRET_VARIABLES,
    Function,
)
from paysite.sam.policies import BUCKETS, object_statements, table_statements


def _bucket(logical_id: str, name: str, *, object_lock: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "BucketName": {"Fn::Sub": name},
        "BucketEncryption": {
            "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
        "PublicAccessBlockConfiguration": {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        },
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        "VersioningConfiguration": {"Status": "Enabled"},
    }
    if object_lock:
        properties["ObjectLockEnabled"] = True
        properties["ObjectLockConfiguration"] = {
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": {"Ref": "AuditAnchorRetentionDays"}}},
        }
    return {
        logical_id: {
            "Type": "AWS::S3::Bucket",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": properties,
        },
        f"{logical_id}Policy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": logical_id},
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "TlsOnly",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": [
                                {"Fn::GetAtt": [logical_id, "Arn"]},
                                {"Fn::Sub": "${" + logical_id + ".Arn}/*"},
                            ],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        }
                    ],
                },
            },
        },
    }


# --- the template -----------------------------------------------------------------------------


def _camel(base: str) -> str:
    return "".join(part.capitalize() for part in base.split("_"))


def _stream_mappings(function: Function) -> dict[str, Any]:
    """One event source mapping per table stream that invokes `function`: batches of records, a failed
    record retried on its own (the batch is bisected), then skipped (`manage.py search rebuild` repairs).
    Made with the tables (`CreateTables`): the stack that owns existing tables maps their streams."""
    mappings = {}
    for base in function.streams:
        table = _camel(base)
        mappings[f"{function.name}{table}Stream"] = {
            "Type": "AWS::Lambda::EventSourceMapping",
            "Condition": "CreateTables",
            "Properties": {
                "FunctionName": {"Ref": f"{function.name}Function"},
                "EventSourceArn": {"Fn::GetAtt": [f"{table}Table", "StreamArn"]},
                "StartingPosition": "TRIM_HORIZON",
                "BatchSize": 100,
                "MaximumBatchingWindowInSeconds": 1,
                "BisectBatchOnFunctionError": True,
                "MaximumRetryAttempts": 5,
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
            },
        }
    return mappings


def _parameters() -> dict[str, Any]:
    secret_keys = ", ".join(SECRET_VARIABLES)
    return {
        "TablePrefix": {"Type": "String", "Default": "paysite-", "Description": "DYNAMODB_TABLE_PREFIX"},
        "CreateTables": {
            "Type": "String",
            "Default": "true",
            "AllowedValues": ["true", "false"],
            "Description": "false: use the tables that already exist with TablePrefix (another stack made them)",
        },
        "BucketNamePrefix": {
            "Type": "String",
            "Default": "paysite",
            "AllowedPattern": "^[a-z0-9][a-z0-9-]{0,18}[a-z0-9]$",
            "Description": "Buckets are <prefix>-settlements-<account>-<region> and <prefix>-audit-anchors-...",
        },
        "AuditAnchorRetentionDays": {
            "Type": "Number",
            "Default": 400,
            "MinValue": 365,
            "Description": "Object Lock (compliance mode) of each audit anchor; at least AUDIT_RETENTION_DAYS",
        },
        "SecretArn": {
            "Type": "String",
            "AllowedPattern": "^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$",
            "Description": f"Secrets Manager secret (JSON) with the keys {secret_keys}",
        },
        "SecretVersionId": {
            "Type": "String",
            "Default": "",
            "Description": "A version of that secret to read (empty: the current one); a new id redeploys the values",
        },
        "VpcId": {"Type": "AWS::EC2::VPC::Id", "Description": "The VPC of PostgreSQL and Redis"},
        "SubnetIds": {
            "Type": "List<AWS::EC2::Subnet::Id>",
            "Description": "Private subnets for the functions (a NAT route: webhooks go to the internet)",
        },
        "SecurityGroupIds": {
            "Type": "List<AWS::EC2::SecurityGroup::Id>",
            "Description": "Security groups of the functions, allowed into PostgreSQL and Redis",
        },
        "CreateGatewayEndpoints": {
            "Type": "String",
            "Default": "true",
            "AllowedValues": ["true", "false"],
            "Description": "false when the VPC has DynamoDB and S3 gateway endpoints already",
        },
        "RouteTableIds": {
            "Type": "CommaDelimitedList",
            "Default": "",
            "Description": "Route tables of SubnetIds, for the DynamoDB and S3 gateway endpoints",
        },
        "DomainName": {
            "Type": "String",
            "Default": "",
            "Description": "A custom domain of the HTTP API (added to DJANGO_ALLOWED_HOSTS), if any",
        },
        "WebReservedConcurrency": {
            "Type": "Number",
            "Default": 0,
            "MinValue": 0,
            "Description": "At most this many web requests at once (0: no reservation); each holds a PostgreSQL connection",
        },
        "EmailHost": {"Type": "String", "Description": "EMAIL_HOST: the SMTP server of invites and password resets"},
        "EmailPort": {"Type": "Number", "Default": 587, "Description": "EMAIL_PORT (STARTTLS)"},
        "EmailHostUser": {"Type": "String", "Default": "", "Description": "EMAIL_HOST_USER (its password: the secret)"},
        "DefaultFromEmail": {
            "Type": "String",
            "Description": "DEFAULT_FROM_EMAIL, e.g. Paysite <no-reply@your-domain>",
        },
        "LogRetentionDays": {
            "Type": "Number",
            "Default": 365,
            "AllowedValues": [30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653],
            "Description": "Days the functions' logs are kept",
        },
    }


def _secret(name: str) -> dict[str, Any]:
    """A reference CloudFormation resolves when it deploys: the current value, or that of the
    secret's version `SecretVersionId` (a new id makes CloudFormation update the functions)."""
    reference = "{{resolve:secretsmanager:${SecretArn}:SecretString:" + name
    return {
        "Fn::If": [
            "PinSecretVersion",
            {"Fn::Sub": reference + "::${SecretVersionId}}}"},
            {"Fn::Sub": reference + "}}"},
        ]
    }


def _environment() -> dict[str, Any]:
    variables: dict[str, Any] = {
        "DJANGO_SETTINGS_MODULE": "paysite.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_ALLOWED_HOSTS": {
            "Fn::Join": [",", [{"Fn::Sub": ".execute-api.${AWS::Region}.${AWS::URLSuffix}"}, {"Ref": "DomainName"}]]
        },
        "PAYSITE_ENV_FILE": "",
        "PAYSITE_VAR_DIR": "/tmp/paysite",  # noqa: S108 - Lambda's only writable directory
        "DYNAMODB_REGION": {"Ref": "AWS::Region"},
        "DYNAMODB_TABLE_PREFIX": {"Ref": "TablePrefix"},
        "SETTLEMENT_FILES_BUCKET": {"Fn::Sub": BUCKETS["settlements"][1]},
        "SETTLEMENT_S3_REGION": {"Ref": "AWS::Region"},
        "AUDIT_ANCHOR_BUCKET": {"Fn::Sub": BUCKETS["anchors"][1]},
        "AUDIT_ANCHOR_PREFIX": AUDIT_ANCHOR_PREFIX,
        "AUDIT_ANCHOR_S3_REGION": {"Ref": "AWS::Region"},
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        # The stack that makes the tables feeds the search index from their streams (SearchIndexer);
        # indexing in process as well would write every row twice. A stack over existing tables maps
        # no stream (see `_stream_mappings`), so it keeps the in-process feed.
        "SEARCH_INDEX_INLINE": {"Fn::If": ["CreateTables", "0", "1"]},
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": {"Ref": "EmailHost"},
        "EMAIL_PORT": {"Ref": "EmailPort"},
        "EMAIL_HOST_USER": {"Ref": "EmailHostUser"},
        "EMAIL_USE_TLS": "1",
        "DEFAULT_FROM_EMAIL": {"Ref": "DefaultFromEmail"},
    }
    variables.update({name: _secret(name) for name in SECRET_VARIABLES})
    return {"Variables": variables}


def _function(function: Function) -> dict[str, Any]:
    logical_id = f"{function.name}Function"
    properties: dict[str, Any] = {
        "Handler": function.handler,
        "Description": function.description,
        "Timeout": function.timeout,
        "MemorySize": function.memory,
        "Policies": [{"Statement": table_statements(function) + object_statements(function)}],
        "LoggingConfig": {"LogGroup": {"Ref": f"{function.name}LogGroup"}},
    }
    if function.events:
        properties["Events"] = dict(function.events)
    if function.retries is not None:
        properties["EventInvokeConfig"] = {"MaximumRetryAttempts": function.retries}
    if function.name == "Web":
        properties["ReservedConcurrentExecutions"] = {
            "Fn::If": ["ReserveWebConcurrency", {"Ref": "WebReservedConcurrency"}, {"Ref": "AWS::NoValue"}]
        }
    return {
        logical_id: {"Type": "AWS::Serverless::Function", "Properties": properties},
        f"{function.name}LogGroup": {
            "Type": "AWS::Logs::LogGroup",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                # Named after the stack, not the function: the function logs to it (LoggingConfig), so
                # it exists before the first invocation, which would otherwise create its own.
                "LogGroupName": {"Fn::Sub": "/aws/lambda/${AWS::StackName}-" + function.name},
                "RetentionInDays": {"Ref": "LogRetentionDays"},
            },
        },
    }


def _gateway_endpoint(service: str) -> dict[str, Any]:
    return {
        "Type": "AWS::EC2::VPCEndpoint",
        "Condition": "CreateGatewayEndpoints",
        "Properties": {
            "VpcEndpointType": "Gateway",
            "VpcId": {"Ref": "VpcId"},
            "ServiceName": {"Fn::Sub": "com.amazonaws.${AWS::Region}." + service},
            "RouteTableIds": {"Ref": "RouteTableIds"},
        },
    }


def _tables() -> dict[str, Any]:
    """The resources of `manage.py dynamodb template`, each made only when `CreateTables` is true."""
    resources: dict[str, Any] = yaml.safe_load(tables.cloudformation_template())["Resources"]
    for resource in resources.values():
        resource["Condition"] = "CreateTables"
        resource["UpdateReplacePolicy"] = "Retain"
        properties = resource["Properties"]
        for schema in [properties, *properties.get("GlobalSecondaryIndexes", [])]:
            # CloudFormation wants the partition key first; pynamodb lists keys in definition order.
            schema["KeySchema"].sort(key=lambda key: key["KeyType"] != "HASH")
    return resources


def sam_template(*, code_uri: str = CODE_URI) -> dict[str, Any]:
    """The whole deployment as an AWS SAM template (a dict; `sam_template_yaml` prints it)."""
    resources: dict[str, Any] = {**_tables()}
    resources["HttpApi"] = {"Type": "AWS::Serverless::HttpApi", "Properties": {"Description": "Paysite"}}
    resources.update(_bucket("SettlementBucket", BUCKETS["settlements"][1], object_lock=False))
    resources.update(_bucket("AuditAnchorBucket", BUCKETS["anchors"][1], object_lock=True))
    resources["DynamoDbGatewayEndpoint"] = _gateway_endpoint("dynamodb")
    resources["S3GatewayEndpoint"] = _gateway_endpoint("s3")
    for function in FUNCTIONS:
        resources.update(_function(function))
        resources.update(_stream_mappings(function))
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Description": "Paysite on AWS Lambda (generated by `python manage.py sam`; see the README, Deploying).",
        "Parameters": _parameters(),
        "Conditions": {
            "CreateTables": {"Fn::Equals": [{"Ref": "CreateTables"}, "true"]},
            "CreateGatewayEndpoints": {"Fn::Equals": [{"Ref": "CreateGatewayEndpoints"}, "true"]},
            "ReserveWebConcurrency": {"Fn::Not": [{"Fn::Equals": [{"Ref": "WebReservedConcurrency"}, 0]}]},
            "PinSecretVersion": {"Fn::Not": [{"Fn::Equals": [{"Ref": "SecretVersionId"}, ""]}]},
        },
        "Globals": {
            "Function": {
                "Runtime": RUNTIME,
                "Architectures": [ARCHITECTURE],
                "CodeUri": code_uri,
                "VpcConfig": {"SubnetIds": {"Ref": "SubnetIds"}, "SecurityGroupIds": {"Ref": "SecurityGroupIds"}},
                "Environment": _environment(),
            }
        },
        "Resources": resources,
        "Outputs": {
            "ApiUrl": {"Value": {"Fn::Sub": "https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/"}},
            "SettlementBucketName": {"Value": {"Ref": "SettlementBucket"}},
            "AuditAnchorBucketName": {"Value": {"Ref": "AuditAnchorBucket"}},
            "ManageFunctionName": {"Value": {"Ref": "ManageFunction"}},
            "PaymentsStreamArn": {"Condition": "CreateTables", "Value": {"Fn::GetAtt": ["PaymentsTable", "StreamArn"]}},
        },
    }


def sam_template_yaml(*, code_uri: str = CODE_URI) -> str:
    return yaml.safe_dump(sam_template(code_uri=code_uri), sort_keys=False, width=120)
