"""Models the portal layer owns: process-wide facts that every app may read."""

from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """The last time each Celery worker ran the heartbeat task; /healthz and the overview read it.

    One row per worker hostname, updated in place, so the table stays as small as the fleet.
    """

    hostname = models.CharField(max_length=255, unique=True)
    beat_at = models.DateTimeField()
    beats = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-beat_at"]

    def __str__(self) -> str:
        return f"{self.hostname} at {self.beat_at:%Y-%m-%d %H:%M:%S}"
