"""Portal-wide Celery tasks."""

from __future__ import annotations

from celery import shared_task
from django.db.models import F
from django.utils import timezone

from portal.models import WorkerHeartbeat


@shared_task(name="portal.heartbeat", ignore_result=True, soft_time_limit=30)
def heartbeat() -> None:
    """Record that a worker is alive and consuming; scheduled by beat, and cheap to run twice."""
    hostname = heartbeat.request.hostname or "unknown"
    updated = WorkerHeartbeat.objects.filter(hostname=hostname).update(beat_at=timezone.now(), beats=F("beats") + 1)
    if not updated:
        WorkerHeartbeat.objects.get_or_create(hostname=hostname, defaults={"beat_at": timezone.now(), "beats": 1})
