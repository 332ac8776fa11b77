"""Turn an unreachable or misconfigured DynamoDB into one clear sentence for commands."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from django.conf import settings
from django.core.management.base import CommandError
from pynamodb.exceptions import PynamoDBException


def where() -> str:
    endpoint = settings.DYNAMODB["ENDPOINT"]
    return f"DynamoDB at {endpoint}" if endpoint else f"DynamoDB in AWS region {settings.DYNAMODB['REGION']}"


@contextmanager
def storage_errors() -> Iterator[None]:
    try:
        yield
    except NoCredentialsError as error:
        raise CommandError(
            f"No AWS credentials for {where()}: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a profile."
        ) from error
    except (PynamoDBException, BotoCoreError, ClientError) as error:
        cause = getattr(error, "cause", None) or error
        raise CommandError(f"Cannot reach {where()}: {cause}") from error
