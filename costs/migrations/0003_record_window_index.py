# The unique key over (payer, day, grain, domain ARN, member ARN, metric) was as large as the records and most of
# the cost of writing them; the ingestion keeps a key to one record itself (it replaces a window whole and sums per
# key in SQL). A (payer, day) index serves the window's replacement instead.

from importlib import import_module

from django.db import migrations, models

# SQLite rebuilds the table to drop the constraint, which the view reading it would stop: the view goes first and
# comes back after, as 0002 made it.
CREATE_VIEW = import_module("costs.migrations.0002_spend_view_and_versions").CREATE_VIEW


class Migration(migrations.Migration):
    dependencies = [
        ("costs", "0002_spend_view_and_versions"),
        ("domains", "0004_people_directory"),
        ("profiles", "0004_people_directory"),
    ]

    operations = [
        migrations.RunSQL("DROP VIEW costs_spend", CREATE_VIEW),
        migrations.RemoveConstraint(
            model_name="costrecord",
            name="one_cost_record_per_key",
        ),
        migrations.AddIndex(
            model_name="costrecord",
            index=models.Index(fields=["payer", "day"], name="costs_record_payer_day"),
        ),
        migrations.RunSQL(CREATE_VIEW, "DROP VIEW costs_spend"),
    ]
