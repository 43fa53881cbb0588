"""Health checks of what the portal depends on: the database, the Celery broker, AWS and the workers.

Each check answers ``{"ok": bool, "detail": str, ...}`` and never raises. Two audiences:

- liveness (:func:`run_liveness`, ``/healthz``, anonymous probes): the process answers and its database does; it
  names nothing (no vendor, host, role ARN or worker) and never reaches AWS or the broker;
- readiness (:func:`run_checks`, the **Health** page and ``/api/health/``, platform admins): the database, the
  broker and AWS (the AWS answer is cached for ``HEALTH_AWS_CACHE_SECONDS``, so a page reload does not call STS
  each time), plus the workers, which are informational: the web tier is ready even while workers restart.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from portal.aws import describe_error, gateway

Check = dict[str, Any]


def _timed(fn: Callable[[], Check]) -> Check:
    started = time.perf_counter()
    try:
        result = fn()
    except Exception as exc:  # a health check reports every failure instead of raising
        result = {"ok": False, "detail": describe_error(exc)}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def check_database() -> Check:
    def run() -> Check:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"ok": True, "detail": f"{connection.vendor} answered"}

    return _timed(run)


def check_broker() -> Check:
    def run() -> Check:
        from portal.celery import app

        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            transport = conn.transport.driver_type
        return {"ok": True, "detail": f"{transport} broker reachable"}

    return _timed(run)


def check_aws() -> Check:
    def run() -> Check:
        identity = gateway().caller_identity()
        where = settings.AWS_ENDPOINT_URL or ("in-process sandbox" if settings.AWS_MODE == "sandbox" else "AWS")
        return {
            "ok": True,
            "mode": settings.AWS_MODE,
            "detail": f"{settings.AWS_MODE} credentials work ({where}) as {identity['Arn']}",
        }

    result = _timed(run)
    result.setdefault("mode", settings.AWS_MODE)
    return result


AWS_CACHE_KEY = "portal:health:aws"


def check_aws_cached() -> Check:
    """The AWS check, answered from the cache for ``HEALTH_AWS_CACHE_SECONDS`` (failures too: a probe loop must not
    turn into an STS call loop). ``cached_for`` says how old the answer is."""
    now = time.time()
    found = cache.get(AWS_CACHE_KEY)
    if found is not None:
        checked_at, result = found
        return {**result, "cached_for": round(now - checked_at)}
    result = check_aws()
    cache.set(AWS_CACHE_KEY, (now, result), timeout=settings.HEALTH_AWS_CACHE_SECONDS)
    return {**result, "cached_for": 0}


def check_workers(stale_after: timedelta = timedelta(minutes=5)) -> Check:
    def run() -> Check:
        from portal.models import WorkerHeartbeat

        latest = WorkerHeartbeat.objects.order_by("-beat_at").first()
        if latest is None:
            return {"ok": False, "detail": "no worker has reported yet"}
        age = timezone.now() - latest.beat_at
        fresh = WorkerHeartbeat.objects.filter(beat_at__gte=timezone.now() - stale_after).count()
        return {
            "ok": age <= stale_after,
            "detail": f"{fresh} worker(s) seen in the last {int(stale_after.total_seconds() // 60)} min; "
            f"latest {latest.hostname} {int(age.total_seconds())} s ago",
        }

    return _timed(run)


REQUIRED_CHECKS: dict[str, Callable[[], Check]] = {
    "database": check_database,
    "broker": check_broker,
    "aws": check_aws_cached,
}


def run_liveness() -> tuple[bool, dict[str, str]]:
    """What an anonymous probe may know: whether this process and its database answer, and nothing else."""
    database = check_database()
    return database["ok"], {"database": "ok" if database["ok"] else "fail"}


def run_checks() -> tuple[bool, dict[str, Check]]:
    """All required checks (their failure makes the portal unhealthy) plus the informational worker check."""
    results = {name: check() for name, check in REQUIRED_CHECKS.items()}
    healthy = all(result["ok"] for result in results.values())
    results["workers"] = {**check_workers(), "informational": True}
    return healthy, results
