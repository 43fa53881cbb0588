"""Portal-wide Celery tasks."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings
from django.db.models import F
from django.utils import timezone

from portal import mail
from portal.models import WorkerHeartbeat


@shared_task(name="portal.heartbeat", ignore_result=True, soft_time_limit=30)
def heartbeat() -> None:
    """Record that a worker is alive and consuming; scheduled by beat, and cheap to run twice."""
    hostname = heartbeat.request.hostname or "unknown"
    updated = WorkerHeartbeat.objects.filter(hostname=hostname).update(beat_at=timezone.now(), beats=F("beats") + 1)
    if not updated:
        WorkerHeartbeat.objects.get_or_create(hostname=hostname, defaults={"beat_at": timezone.now(), "beats": 1})


@shared_task(
    name=mail.SEND_TASK,
    bind=True,
    ignore_result=True,
    autoretry_for=mail.RETRYABLE_ERRORS,
    dont_autoretry_for=mail.PERMANENT_ERRORS,
    retry_backoff=settings.MAIL_RETRY_SECONDS,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=settings.MAIL_MAX_RETRIES,
    soft_time_limit=120,
)
def send_outgoing_mail(self: Any, mail_id: int) -> None:
    """Send one recorded email; connection and SMTP errors retry with backoff, the last one records it failed."""
    mail.deliver(mail_id, final_attempt=self.request.retries >= self.max_retries)


@shared_task(name="portal.resend_stalled_mail", ignore_result=True, soft_time_limit=60)
def resend_stalled_mail() -> None:
    """Beat: hand emails that no task looks after (broker down at commit, worker died) to a worker again."""
    mail.resend_stalled()
