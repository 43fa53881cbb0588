# The column holds when a sync last found the domain changed, not when it last saw it.
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("domains", "0001_initial")]

    operations = [
        migrations.RenameField(model_name="domain", old_name="last_seen", new_name="last_changed"),
        migrations.AlterField(
            model_name="domain",
            name="last_changed",
            field=models.DateTimeField(
                default=django.utils.timezone.now,
                help_text="When a sync last found the resource different from what was stored.",
            ),
        ),
    ]
