"""Memberships live in the `merchants` app now, in the same table: only Django's state forgets them here."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("paysite", "0001_initial"),
        ("merchants", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name="Membership")],
        ),
    ]
