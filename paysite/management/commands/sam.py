from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from paysite.sam import CODE_URI, sam_template_yaml


class Command(BaseCommand):
    help = (
        "Print the AWS SAM template of the whole deployment (tables, buckets, functions, HTTP API, "
        "schedules). `dynamodb template` prints the tables alone."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--code-uri",
            default=CODE_URI,
            help=f"the package `make lambda` builds, relative to where the template is saved (default {CODE_URI})",
        )

    def handle(self, *args: Any, code_uri: str, **options: Any) -> None:
        self.stdout.write(sam_template_yaml(code_uri=code_uri), ending="")
