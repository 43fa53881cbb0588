# Audit actions are the names the apps register (portal.registry); the choices are read from there, not stored here.
from django.db import migrations, models

import portal.registry


class Migration(migrations.Migration):
    dependencies = [("portal", "0002_run_kinds_registered_and_scope_as_json")]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="action",
            field=models.CharField(choices=portal.registry.audit_action_choices, db_index=True, max_length=64),
        ),
    ]
