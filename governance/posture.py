"""The governance overview, computed for one person: each domain's posture (open findings by severity, accepted
ones, a 90-day trend from the daily :class:`governance.models.PostureSnapshot`), the top findings, and the Studio
Classic retirement tracker (profiles landing in Classic and Classic apps running, per domain, over time).

What a person sees follows the findings' own scope: in the domains where they read every member (approvers,
finance, team leads; platform admins everywhere) the counts are the domain's and the trend and Classic tracker come
from its snapshots; elsewhere (a data scientist) the counts are those of the findings on their own resources, and the
domain-wide trend is not theirs to read. The statement count does not depend on the number of domains, findings or
snapshots: one query each for the counts, the top findings and the snapshots.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from typing import Any

from django.conf import settings
from django.db.models import Case, Count, IntegerField, QuerySet, Value, When
from django.utils import timezone

from domains.models import Domain
from governance.charts import Chart, Series, line_chart
from governance.models import Finding, PostureSnapshot
from portal.scoping import ALL_DOMAINS, MEMBER_WIDE_ROLES, VIEW, grants_for

POSTURE_SCHEDULE_ENTRY = "governance-posture-check"
TREND_DAYS = 90
TOP_FINDINGS = 10
LIVE = (Finding.Status.OPEN, Finding.Status.ACCEPTED)

SEVERITY_RANK = Case(
    When(severity=Finding.Severity.HIGH, then=Value(0)),
    When(severity=Finding.Severity.MEDIUM, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


def by_severity(findings: QuerySet) -> QuerySet:
    """High first, then medium, then low; the oldest first within a severity."""
    return findings.annotate(severity_rank=SEVERITY_RANK).order_by("severity_rank", "first_seen", "pk")


@dataclass(frozen=True)
class TrendPoint:
    """One day's snapshot of a domain."""

    day: date
    high: int
    medium: int
    low: int
    accepted: int
    classic_profiles: int
    classic_apps_running: int

    @property
    def open_total(self) -> int:
        return self.high + self.medium + self.low


@dataclass
class DomainPosture:
    """A domain's posture as one person may see it. ``wide``: they read all its findings and its snapshots."""

    domain: Domain
    wide: bool
    start: date
    end: date
    open_high: int = 0
    open_medium: int = 0
    open_low: int = 0
    accepted: int = 0
    trend: list[TrendPoint] = field(default_factory=list)

    @property
    def open_total(self) -> int:
        return self.open_high + self.open_medium + self.open_low

    @property
    def latest(self) -> TrendPoint | None:
        return self.trend[-1] if self.trend else None

    @property
    def earliest(self) -> TrendPoint | None:
        return self.trend[0] if self.trend else None

    @property
    def classic_profiles_change(self) -> int | None:
        """Classic profiles now minus at the window's first snapshot (negative: retiring)."""
        if not self.trend:
            return None
        return self.trend[-1].classic_profiles - self.trend[0].classic_profiles

    @property
    def classic_apps_change(self) -> int | None:
        if not self.trend:
            return None
        return self.trend[-1].classic_apps_running - self.trend[0].classic_apps_running

    @property
    def classic_has_trend(self) -> bool:
        """Two snapshots or more, and Studio Classic in use on one of them: a trend worth drawing."""
        return len(self.trend) > 1 and any(p.classic_profiles or p.classic_apps_running for p in self.trend)

    @property
    def classic_retired(self) -> bool:
        """Nobody lands in Studio Classic and no Classic app runs, as of the last snapshot."""
        latest = self.latest
        return latest is not None and latest.classic_profiles == 0 and latest.classic_apps_running == 0

    @cached_property
    def chart(self) -> Chart:
        """Open findings by severity over the window."""
        return line_chart(
            [
                Series("High", "sev-high", {p.day: p.high for p in self.trend}),
                Series("Medium", "sev-medium", {p.day: p.medium for p in self.trend}),
                Series("Low", "sev-low", {p.day: p.low for p in self.trend}),
            ],
            self.start,
            self.end,
            width=480,
            height=190,
        )

    @cached_property
    def classic_chart(self) -> Chart:
        """Profiles landing in Studio Classic and Classic apps running over the window."""
        return line_chart(
            [
                Series("Profiles in Classic", "classic-profiles", {p.day: p.classic_profiles for p in self.trend}),
                Series("Classic apps running", "classic-apps", {p.day: p.classic_apps_running for p in self.trend}),
            ],
            self.start,
            self.end,
            width=300,
            height=96,
        )


@dataclass
class Overview:
    start: date
    end: date
    domains: list[DomainPosture]
    top_findings: list[Finding]

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def wide_domains(self) -> list[DomainPosture]:
        return [d for d in self.domains if d.wide]

    @property
    def has_snapshots(self) -> bool:
        return any(d.trend for d in self.domains)

    @property
    def totals(self) -> dict[str, int]:
        return {
            "high": sum(d.open_high for d in self.domains),
            "medium": sum(d.open_medium for d in self.domains),
            "low": sum(d.open_low for d in self.domains),
            "accepted": sum(d.accepted for d in self.domains),
        }

    @property
    def classic_totals(self) -> dict[str, int]:
        """Today's Classic counters over the domains with a snapshot (the tracker's bottom line)."""
        latest = [d.latest for d in self.wide_domains if d.latest]
        return {
            "profiles": sum(p.classic_profiles for p in latest),
            "apps_running": sum(p.classic_apps_running for p in latest),
        }


def schedule_hours() -> int | None:
    """How often the scheduler runs the posture check (``POSTURE_CHECK_HOURS``), for the empty states."""
    entry = settings.CELERY_BEAT_SCHEDULE.get(POSTURE_SCHEDULE_ENTRY) or {}
    seconds = entry.get("schedule")
    return int(seconds // 3600) if isinstance(seconds, int | float) and seconds >= 3600 else None


def overview(user: Any, domains: Iterable[Domain], *, today: date | None = None) -> Overview:
    """The overview of ``domains`` (already limited to what ``user`` may see, e.g. by
    :class:`governance.filtersets.GovernanceScopeFilterSet`), over the ``TREND_DAYS`` days up to ``today``."""
    end = today or timezone.localdate()
    start = end - timedelta(days=TREND_DAYS - 1)
    domains = list(domains)
    wide_arns = grants_for(user).domains_for(VIEW, roles=MEMBER_WIDE_ROLES)
    postures = {d.pk: DomainPosture(d, wide_arns is ALL_DOMAINS or d.arn in wide_arns, start, end) for d in domains}
    if not postures:
        return Overview(start, end, [], [])
    pks = list(postures)
    readable = Finding.objects.restrict(user, VIEW).filter(domain_id__in=pks)
    counts = readable.filter(status__in=LIVE).values("domain_id", "severity", "status").annotate(n=Count("pk"))
    for row in counts:
        posture = postures[row["domain_id"]]
        if row["status"] == Finding.Status.ACCEPTED:
            posture.accepted += row["n"]
        else:
            name = f"open_{row['severity']}"
            setattr(posture, name, getattr(posture, name) + row["n"])
    snapshots = (
        PostureSnapshot.objects.restrict(user, VIEW)
        .filter(domain_id__in=pks, day__range=(start, end))
        .order_by("domain_id", "day")
        .values_list(
            "domain_id",
            "day",
            "open_high",
            "open_medium",
            "open_low",
            "accepted",
            "classic_profiles",
            "classic_apps_running",
        )
    )
    for domain_pk, *values in snapshots:
        postures[domain_pk].trend.append(TrendPoint(*values))
    top = by_severity(readable.filter(status=Finding.Status.OPEN)).select_related("domain", "domain__account")
    return Overview(start, end, list(postures.values()), list(top[:TOP_FINDINGS]))
