# Run kinds are registered by the apps (no choices here any more), and a run's scope is stored as JSON, with
# scope_key now its canonical text (what the one-active-run constraint compares).
import json

from django.db import migrations, models


def _scope_of(key: str) -> dict[str, str]:
    """The JSON scope of an old text key: all, account:<id>[/region:<r>], domain:<arn>, payer:<id>[/since:<d>]."""
    scope: dict[str, str] = {}
    if key.startswith("domain:"):
        return {"domain_arn": key.removeprefix("domain:")}  # an ARN has colons and slashes of its own
    for part in key.split("/"):
        name, _, value = part.partition(":")
        if name in ("account", "payer"):
            scope["account_id"] = value
        elif name in ("region", "since"):
            scope[name] = value
    return scope


def _canonical(scope: dict[str, str]) -> str:
    return json.dumps(scope, sort_keys=True, separators=(",", ":"))


def forwards(apps, schema_editor):
    TaskRun = apps.get_model("portal", "TaskRun")
    for run in TaskRun.objects.only("pk", "scope_key").iterator():
        scope = _scope_of(run.scope_key)
        TaskRun.objects.filter(pk=run.pk).update(scope=scope, scope_key=_canonical(scope))


def backwards(apps, schema_editor):
    TaskRun = apps.get_model("portal", "TaskRun")
    for run in TaskRun.objects.only("pk", "scope", "kind").iterator():
        scope = run.scope or {}
        if "domain_arn" in scope:
            key = f"domain:{scope['domain_arn']}"
        elif "account_id" in scope:
            prefix = "payer" if run.kind == "cost_ingestion" else "account"
            key = f"{prefix}:{scope['account_id']}"
            key += f"/region:{scope['region']}" if "region" in scope else ""
            key += f"/since:{scope['since']}" if "since" in scope else ""
        else:
            key = "all"
        TaskRun.objects.filter(pk=run.pk).update(scope_key=key)


class Migration(migrations.Migration):
    dependencies = [("portal", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="taskrun",
            name="scope",
            field=models.JSONField(blank=True, default=dict, help_text="What the run works on ({} for everything)."),
        ),
        migrations.AlterField(
            model_name="taskrun",
            name="kind",
            field=models.CharField(help_text="A run kind an app registered (portal.registry).", max_length=32),
        ),
        migrations.AlterField(
            model_name="taskrun",
            name="scope_key",
            field=models.CharField(editable=False, help_text="scope as canonical JSON text.", max_length=400),
        ),
        migrations.RunPython(forwards, backwards),
    ]
