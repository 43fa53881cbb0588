"""The Celery application. Tasks live in each app's ``tasks.py`` and are discovered from INSTALLED_APPS."""

import os

from celery import Celery
from celery.signals import beat_init, worker_init, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def _report_at_start(sender: object, **kwargs: object) -> None:
    """A worker reports itself at once instead of after the first heartbeat interval."""
    app.send_task("portal.heartbeat")


@worker_init.connect
@beat_init.connect
def _refuse_a_wrong_aws_target(sender: object = None, **kwargs: object) -> None:
    """A worker or beat in sandbox mode without the sandbox's address stops at start-up, naming the fix."""
    from portal.aws import require_aws_target

    require_aws_target()
