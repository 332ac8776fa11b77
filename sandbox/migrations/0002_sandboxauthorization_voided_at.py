from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sandbox", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="sandboxauthorization",
            name="voided_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
