"""Offboarding names a person of the directory (who may have no portal login), not a portal login; existing plans
get the person of their login (made when the directory has none), and the login moves to ``login``."""

from django.conf import settings
from django.db import migrations, models


def people_for_logins(apps, schema_editor):
    Offboarding = apps.get_model("onboarding", "Offboarding")
    Person = apps.get_model("domains", "Person")
    for offboarding in Offboarding.objects.select_related("login"):
        login = offboarding.login
        person = Person.objects.filter(portal_user=login).first()
        if person is None and login.email:
            person = Person.objects.filter(email__iexact=login.email, portal_user__isnull=True).first()
            if person is not None:
                person.portal_user = login
                person.save(update_fields=["portal_user"])
        if person is None:
            name = f"{login.first_name} {login.last_name}".strip() or login.username
            person = Person.objects.create(display_name=name, email=login.email, portal_user=login)
        offboarding.person = person
        offboarding.close_login = False  # plans made before the final step existed did not close the login
        offboarding.keep_login_reason = "Planned before offboarding closed portal logins."
        offboarding.save(update_fields=["person", "close_login", "keep_login_reason"])


class Migration(migrations.Migration):
    dependencies = [
        ("domains", "0004_people_directory"),
        ("onboarding", "0003_work_heartbeat"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="offboarding", name="one_open_offboarding_per_person"),
        migrations.RenameField(model_name="offboarding", old_name="person", new_name="login"),
        # The renamed column keeps its index named after ``person_id``, which the new ``person`` would take again on
        # PostgreSQL: drop it and index ``login_id`` under its own name.
        migrations.AlterField(
            model_name="offboarding",
            name="login",
            field=models.ForeignKey(
                blank=True,
                help_text="The person's portal login when the plan was made (none: they never had one).",
                null=True,
                on_delete=models.deletion.SET_NULL,
                related_name="offboardings",
                to=settings.AUTH_USER_MODEL,
                db_index=False,
            ),
        ),
        migrations.AlterField(
            model_name="offboarding",
            name="login",
            field=models.ForeignKey(
                blank=True,
                help_text="The person's portal login when the plan was made (none: they never had one).",
                null=True,
                on_delete=models.deletion.SET_NULL,
                related_name="offboardings",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="offboarding",
            name="person",
            field=models.ForeignKey(
                null=True, on_delete=models.deletion.PROTECT, related_name="offboardings", to="domains.person"
            ),
        ),
        migrations.AddField(
            model_name="offboarding",
            name="close_login",
            field=models.BooleanField(
                default=True,
                help_text="The final step removes portal roles, revokes API tokens and deactivates the login.",
            ),
        ),
        migrations.AddField(
            model_name="offboarding",
            name="keep_login_reason",
            field=models.CharField(
                blank=True, help_text="Why an admin kept the portal login (when close_login is off).", max_length=1000
            ),
        ),
        migrations.RunPython(people_for_logins, migrations.RunPython.noop),
    ]
