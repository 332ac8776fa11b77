"""The `dynamodb` command."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.engine


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_dynamodb_create_twice_and_template(dynamodb_backend):
    first = run("dynamodb", "create")
    second = run("dynamodb", "create")
    described = run("dynamodb", "describe")

    assert "created" not in second and second.count("exists") == first.count("\n")
    assert "ACTIVE" in described and "by-merchant-status" in described
    assert "AWS::DynamoDB::Table" in run("dynamodb", "template")


def test_dynamodb_delete_needs_confirmation(dynamodb_backend):
    with pytest.raises(CommandError, match="--yes"):
        run("dynamodb", "delete")
