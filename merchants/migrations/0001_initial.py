"""Memberships moved here from the `paysite` app, which made their table: the model keeps that table
(`paysite_membership`), so this migration only tells Django's state where the model lives now."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("paysite", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="Membership",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("merchant_id", models.CharField(db_index=True, max_length=40)),
                        (
                            "role",
                            models.CharField(
                                choices=[("viewer", "Viewer"), ("operator", "Operator"), ("admin", "Admin")],
                                default="viewer",
                                max_length=16,
                            ),
                        ),
                        ("created", models.DateTimeField(auto_now_add=True)),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="memberships",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "paysite_membership",
                        "ordering": ["merchant_id", "user_id"],
                        "constraints": [
                            models.UniqueConstraint(fields=("user", "merchant_id"), name="one_membership_per_merchant")
                        ],
                    },
                ),
            ],
        ),
    ]
