# The column holds when a sync last found the resource changed, not when it last saw it.
import django.utils.timezone
from django.db import migrations, models

MODELS = ("userprofile", "space", "app")


class Migration(migrations.Migration):
    dependencies = [("profiles", "0001_initial")]

    operations = [
        *(migrations.RenameField(model_name=m, old_name="last_seen", new_name="last_changed") for m in MODELS),
        *(
            migrations.AlterField(
                model_name=m,
                name="last_changed",
                field=models.DateTimeField(
                    default=django.utils.timezone.now,
                    help_text="When a sync last found the resource different from what was stored.",
                ),
            )
            for m in MODELS
        ),
    ]
