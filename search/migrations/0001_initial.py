from django.db import migrations, models

from search import backends


def full_text_create(apps, schema_editor):
    """The full-text part, per database: FTS5 + triggers on SQLite, a tsvector column + GIN on PostgreSQL."""
    vendor = schema_editor.connection.vendor
    statements = {"sqlite": backends.SQLITE_CREATE, "postgresql": backends.POSTGRES_CREATE}.get(vendor, [])
    for statement in statements:
        schema_editor.execute(statement)


def full_text_drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"sqlite": backends.SQLITE_DROP, "postgresql": backends.POSTGRES_DROP}.get(vendor, [])
    for statement in statements:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    initial = True
    dependencies: list = []

    operations = [
        migrations.CreateModel(
            name="SearchEntry",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("merchant_id", models.CharField(max_length=40)),
                (
                    "kind",
                    models.CharField(choices=[("payment", "Payment"), ("customer", "Customer")], max_length=10),
                ),
                ("object_id", models.CharField(max_length=40)),
                ("customer_id", models.CharField(blank=True, default="", max_length=40)),
                ("status", models.CharField(blank=True, default="", max_length=24)),
                ("currency", models.CharField(blank=True, default="", max_length=3)),
                ("amount", models.BigIntegerField(null=True)),
                ("created", models.DateTimeField(null=True)),
                ("terms", models.TextField()),
            ],
            options={
                "db_table": "search_entry",
                "indexes": [
                    models.Index(fields=["merchant_id", "kind", "object_id"], name="search_entry_merchant"),
                    models.Index(fields=["merchant_id", "customer_id"], name="search_entry_customer"),
                ],
                "constraints": [
                    models.UniqueConstraint(fields=("kind", "object_id"), name="search_entry_unique_object")
                ],
            },
        ),
        migrations.RunPython(full_text_create, full_text_drop),
    ]
