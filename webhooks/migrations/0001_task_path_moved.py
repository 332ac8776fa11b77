"""The delivery task moved from `payments.webhooks` to `webhooks.tasks`: deliveries queued under the old
path (in the database task queue, before an upgrade) are pointed at the new one, so they still run."""

from django.db import migrations

OLD, NEW = "payments.webhooks.webhook_deliver", "webhooks.tasks.webhook_deliver"


def _repoint(old: str, new: str):
    def run(apps, schema_editor):
        apps.get_model("django_tasks_database", "DBTaskResult").objects.filter(task_path=old).update(task_path=new)

    return run


class Migration(migrations.Migration):
    initial = True

    dependencies = [("django_tasks_database", "0021_conditional_partial_index_ordering")]

    operations = [migrations.RunPython(_repoint(OLD, NEW), _repoint(NEW, OLD))]
