"""Emails of governance: new high-severity findings (at most one email per finding) and the weekly digest."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from domains.models import Domain
from governance.models import Finding
from portal.mail import send_mail_later
from portal.models import RoleAssignment
from portal.scoping import Role


def approvers_of(domains: list[Domain]) -> dict[int, list[str]]:
    """Emails of each domain's approvers (assigned to it, or to every domain)."""
    arns = {d.arn: d.pk for d in domains}
    rows = RoleAssignment.objects.filter(role=Role.DOMAIN_APPROVER, domain_arn__in=[*arns, ""]).values_list(
        "domain_arn", "user__email"
    )
    emails: dict[int, list[str]] = defaultdict(list)
    for arn, email in rows:
        for pk in arns.values() if not arn else [arns[arn]]:
            if email:
                emails[pk].append(email)
    return emails


def _link(finding: Finding) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + reverse("governance:finding-detail", args=[finding.pk])


def new_high_findings(findings: list[Finding]) -> int:
    """One email per domain listing its new high-severity findings not yet notified; each is marked notified."""
    high = [f for f in findings if f.severity == Finding.Severity.HIGH and f.notified_at is None and f.pk]
    if not high:
        return 0
    by_domain: dict[int, list[Finding]] = defaultdict(list)
    for finding in high:
        by_domain[finding.domain_id].append(finding)
    recipients = approvers_of([f.domain for f in high])
    now = timezone.now()
    notified = []
    for domain_pk, items in by_domain.items():
        if not recipients.get(domain_pk):
            continue
        domain = items[0].domain
        lines = [f"- {f.check_id} {f.resource_name}: {f.details}\n  {_link(f)}" for f in items]
        send_mail_later(
            f"{len(items)} new high-severity finding(s) in {domain.name}",
            "New high-severity governance findings:\n\n" + "\n".join(lines) + "\n",
            recipients[domain_pk],
        )
        notified.extend(f.pk for f in items)
    if notified:
        Finding.objects.filter(pk__in=notified, notified_at__isnull=True).update(notified_at=now)
    return len(notified)


def weekly_digest() -> int:
    """A digest per domain with live findings: open counts by severity, what opened and resolved this week."""
    since = timezone.now() - timedelta(days=7)
    domains = list(Domain.objects.filter(removed_at__isnull=True))
    recipients = approvers_of(domains)
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for row in (
        Finding.objects.filter(status=Finding.Status.OPEN).values("domain_id", "severity").annotate(n=Count("pk"))
    ):
        counts[row["domain_id"]][row["severity"]] = row["n"]
    opened = _count_by_domain(Finding.objects.filter(first_seen__gte=since))
    resolved = _count_by_domain(Finding.objects.filter(resolved_at__gte=since))
    sent = 0
    for domain in domains:
        if not recipients.get(domain.pk) or not (
            counts.get(domain.pk) or opened.get(domain.pk) or resolved.get(domain.pk)
        ):
            continue
        c = counts.get(domain.pk, {})
        body = (
            f"Governance of {domain.name} this week\n\n"
            f"Open: {c.get('high', 0)} high, {c.get('medium', 0)} medium, {c.get('low', 0)} low.\n"
            f"Opened in the last 7 days: {opened.get(domain.pk, 0)}; resolved: {resolved.get(domain.pk, 0)}.\n\n"
            f"{settings.PORTAL_BASE_URL.rstrip('/')}{reverse('governance:finding-list')}?domain={domain.domain_id}\n"
        )
        send_mail_later(f"Weekly governance digest: {domain.name}", body, recipients[domain.pk])
        sent += 1
    return sent


def _count_by_domain(queryset: Any) -> dict[int, int]:
    return {row["domain_id"]: row["n"] for row in queryset.values("domain_id").annotate(n=Count("pk"))}
