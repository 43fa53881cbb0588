"""The evaluation engine: run every registered check over domains' inventories and reconcile the findings.

Entry points:

- :func:`evaluate` ``(domains=None, *, only_arns=None, now=None) -> Outcome``: every live domain (or these), all
  resources; with ``only_arns`` (incremental) only those resources are checked and the findings of the others are
  left untouched, except in a domain whose own ARN is among them (its defaults changed): it is checked whole.
- :func:`evaluate_changed` ``(domain, changed_arns)``: after the inventory writers stored new descriptions
  (:func:`on_resources_changed` receives :data:`domains.signals.resources_changed`).
- :func:`run_posture_check` ``(run_id, domain_pk=None)``: a full evaluation recorded as a "posture check" run.

The statement count does not grow with the number of resources: the inventory of all domains is read in five
queries, the live findings in one, findings and their events are written with bulk_create / bulk_update, and the
day's posture snapshot is counted in one aggregate query.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from domains.models import Domain
from governance import inventory as inventory_module
from governance.models import Finding, FindingEvent, PostureSnapshot
from portal import runs
from portal.registry import RunKind, registry
from profiles.models import App

logger = logging.getLogger(__name__)

POSTURE_CHECK = RunKind("posture_check", "Posture check", url_prefix="governance:run")
CLASSIC_APP_TYPES = ("JupyterServer", "KernelGateway")


@dataclass
class Outcome:
    opened: list[Finding] = field(default_factory=list)
    updated: int = 0
    resolved: int = 0
    domains: int = 0

    def counts(self) -> dict[str, dict[str, int]]:
        return {
            "findings": {
                "created": len(self.opened),
                "updated": self.updated,
                "removed": self.resolved,
                "unchanged": 0,
            }
        }


@dataclass(frozen=True)
class PostureScope:
    domain_pk: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"domain_pk": self.domain_pk}


def _evidence_json(found: Any) -> list[dict[str, Any]]:
    return [e.to_json() for e in found.evidence]


def evaluate(
    domains: Iterable[Domain] | None = None, *, only_arns: set[str] | None = None, now: datetime | None = None
) -> Outcome:
    now = now or timezone.now()
    if domains is None:
        domains = Domain.objects.filter(removed_at__isnull=True).select_related("account")
    domains = list(domains)
    outcome = Outcome(domains=len(domains))
    if not domains:
        return outcome
    inventories = inventory_module.load(domains, now, only_arns)
    whole = [inv.domain.pk for inv in inventories if inv.whole]
    narrowed = [inv.domain.pk for inv in inventories if not inv.whole]
    scope = Q(domain_id__in=whole)
    if narrowed:
        # what changed (removed resources included: their findings resolve) and what it reached
        reached = set(only_arns or ()).union(*(inv.scope_arns for inv in inventories if not inv.whole))
        scope |= Q(domain_id__in=narrowed, resource_arn__in=list(reached))
    checks = list(registry.checks.values())
    by_pk = {d.pk: d for d in domains}
    with transaction.atomic():
        live = {
            (f.check_id, f.resource_arn): f
            for f in Finding.objects.select_for_update().filter(
                scope, status__in=[Finding.Status.OPEN, Finding.Status.ACCEPTED]
            )
        }
        for finding in live.values():
            finding.domain = by_pk[finding.domain_id]  # the notifications read it: no query each
        seen: set[tuple[str, str]] = set()
        to_create: list[Finding] = []
        to_update: list[Finding] = []
        still_seen: list[int] = []  # unchanged but for last_seen: one UPDATE, not a CASE per row
        for inv in inventories:
            for check in checks:
                for found in check.run(inv):
                    arn = found.resource.arn
                    if not inv.whole and arn not in inv.scope_arns:
                        continue
                    key = (check.id, arn)
                    if key in seen:
                        continue
                    seen.add(key)
                    values = {
                        "severity": check.severity_of(found, inv),
                        "details": found.details[:500],
                        "evidence": _evidence_json(found),
                        "resource_name": str(getattr(found.resource, "name", arn))[:200],
                        "owner_id": inv.owner_of(found.resource, found.kind),
                    }
                    finding = live.get(key)
                    if finding is None:
                        to_create.append(
                            Finding(
                                check_id=check.id,
                                domain=inv.domain,
                                resource_arn=arn,
                                resource_kind=found.kind,
                                status=Finding.Status.OPEN,
                                fix=check.fix,
                                fix_plannable=check.fixable,
                                first_seen=now,
                                last_seen=now,
                                **values,
                            )
                        )
                    else:
                        finding.last_seen = now
                        if any(getattr(finding, name) != value for name, value in values.items()):
                            for name, value in values.items():
                                setattr(finding, name, value)
                            to_update.append(finding)
                        else:
                            still_seen.append(finding.pk)
        gone = [f for key, f in live.items() if key not in seen and f.check_id in registry.checks]
        for finding in gone:
            finding.status, finding.resolved_at = Finding.Status.RESOLVED, now
        Finding.objects.bulk_create(to_create, batch_size=500)
        fields = ["severity", "details", "evidence", "resource_name", "owner_id", "last_seen"]
        Finding.objects.bulk_update(to_update, fields, batch_size=500)
        Finding.objects.filter(pk__in=still_seen).update(last_seen=now)
        Finding.objects.bulk_update(gone, ["status", "resolved_at"], batch_size=500)
        FindingEvent.objects.bulk_create(
            [FindingEvent(finding=f, at=now, event="opened", status=Finding.Status.OPEN) for f in to_create]
            + [
                FindingEvent(
                    finding=f, at=now, event="resolved", status=Finding.Status.RESOLVED, note="No longer found."
                )
                for f in gone
            ],
            batch_size=500,
        )
        _snapshot(inventories, now)
        from governance import notify

        # Open high-severity findings not yet notified: new ones, and those that opened while the domain had no
        # approver to tell (e.g. found by the first sync, before anyone was given the role).
        still_live = [f for f in live.values() if f.status == Finding.Status.OPEN] + to_create
        notify.new_high_findings(still_live)
    outcome.opened, outcome.updated, outcome.resolved = to_create, len(to_update) + len(still_seen), len(gone)
    return outcome


def _classic_counts(inv: Any) -> tuple[int, int]:
    """Profiles landing in Studio Classic (by their own setting or the domain's) and Classic apps running."""
    profiles = 0
    for profile in inv.all_profiles:
        settings = inv.profile_settings(profile)
        landing = settings["DefaultLandingUri"].value or ""
        if settings["StudioWebPortal"].value != "ENABLED" or landing.startswith("app:JupyterServer"):
            profiles += 1
    if inv.whole:
        apps = sum(1 for a in inv.all_apps if a.app_type in CLASSIC_APP_TYPES and a.status == "InService")
    else:  # a narrowed inventory holds only some apps: count them all (once, for a domain with no recent snapshot)
        apps = App.objects.filter(
            domain=inv.domain, removed_at__isnull=True, app_type__in=CLASSIC_APP_TYPES, status="InService"
        ).count()
    return profiles, apps


def _snapshot(inventories: list[Any], now: datetime) -> None:
    """Today's posture of each domain, from its findings as they now stand (one aggregate query, whatever the
    number of findings). The Studio Classic counters need every member: a narrowed (incremental) evaluation keeps
    the latest ones, which the next full evaluation refreshes."""
    day = timezone.localdate(now)
    pks = [inv.domain.pk for inv in inventories]
    start = timezone.make_aware(datetime.combine(day, datetime.min.time()), timezone.get_current_timezone())
    tally: dict[int, dict[str, Any]] = {
        pk: {"open": Counter(), "accepted": 0, "resolved": 0, "by_check": Counter()} for pk in pks
    }
    rows = (
        Finding.objects.filter(domain_id__in=pks)
        .filter(Q(status__in=[Finding.Status.OPEN, Finding.Status.ACCEPTED]) | Q(resolved_at__gte=start))
        .values_list("domain_id", "status", "severity", "check_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for domain_pk, status, severity, check_id, n in rows:
        counts = tally[domain_pk]
        if status == Finding.Status.OPEN:
            counts["open"][severity] += n
            counts["by_check"][check_id] += n
        elif status == Finding.Status.ACCEPTED:
            counts["accepted"] += n
        else:
            counts["resolved"] += n
    narrowed = [inv.domain.pk for inv in inventories if not inv.whole]
    latest: dict[int, tuple[int, int]] = {}
    if narrowed:
        for domain_pk, profiles, apps in (
            PostureSnapshot.objects.filter(domain_id__in=narrowed, day__gte=day - timedelta(days=7))
            .order_by("domain_id", "day")
            .values_list("domain_id", "classic_profiles", "classic_apps_running")
        ):
            latest[domain_pk] = (profiles, apps)  # the last day wins
    snapshots = []
    for inv in inventories:
        counts = tally[inv.domain.pk]
        if inv.whole or inv.domain.pk not in latest:
            classic_profiles, classic_apps = _classic_counts(inv)
        else:
            classic_profiles, classic_apps = latest[inv.domain.pk]
        snapshots.append(
            PostureSnapshot(
                domain=inv.domain,
                day=day,
                open_high=counts["open"]["high"],
                open_medium=counts["open"]["medium"],
                open_low=counts["open"]["low"],
                accepted=counts["accepted"],
                resolved_today=counts["resolved"],
                by_check=dict(sorted(counts["by_check"].items())),
                classic_profiles=classic_profiles,
                classic_apps_running=classic_apps,
                taken_at=now,
            )
        )
    PostureSnapshot.objects.bulk_create(
        snapshots,
        update_conflicts=True,
        unique_fields=["domain", "day"],
        update_fields=[
            "open_high",
            "open_medium",
            "open_low",
            "accepted",
            "resolved_today",
            "by_check",
            "classic_profiles",
            "classic_apps_running",
            "taken_at",
        ],
    )


def on_resources_changed(sender: Any, *, domain_pk: int, arns: list[str], **kwargs: Any) -> None:
    """Receiver of :data:`domains.signals.resources_changed`: the inventory writers stored new descriptions."""
    domain = Domain.objects.select_related("account").filter(pk=domain_pk).first()
    if domain is not None:
        evaluate_changed(domain, set(arns))


def evaluate_changed(domain: Domain, changed_arns: set[str]) -> None:
    """Re-evaluate what the inventory writers (a sync, a change set's re-read, provisioning) created, changed or
    removed. A failure here is logged and never undoes what was stored."""
    if not changed_arns:
        return
    try:
        with transaction.atomic():
            evaluate([domain], only_arns=set(changed_arns))
    except Exception:
        logger.exception("Posture evaluation after the sync of %s failed; the next scheduled check retries.", domain)


def run_posture_check(run_id: int, domain_pk: int | None = None) -> None:
    """A full evaluation (every live domain, or one) as the steps of a posture-check run: one step a domain."""
    domains = list(Domain.objects.filter(removed_at__isnull=True).select_related("account").order_by("name"))
    if domain_pk is not None:
        domains = [d for d in domains if d.pk == domain_pk]
    if not domains:
        runs.fail_run(run_id, "No domain to check: the inventory has none (sync first).")
        return
    runs.plan(run_id, len(domains), f"Checking {len(domains)} domain(s)")
    for domain in domains:
        scope = f"posture of {domain.domain_id}"
        with runs.recorded_step(run_id, scope, final_attempt=True):
            _read_idle_candidates_activity(domain)
            outcome = evaluate([domain])
            runs.finish_step(
                run_id,
                scope=scope,
                counts=outcome.counts(),
                message=f"Checked {domain.name}: {len(outcome.opened)} new, {outcome.resolved} resolved",
                domain_arns=[domain.arn],
            )


def _read_idle_candidates_activity(domain: Domain) -> None:
    """CO-04 asks AWS (DescribeApp) for the activity of the apps it would flag on what is stored; nothing else does."""
    from governance.checks import co04_activity_wanted
    from governance.models import GovernancePolicy
    from profiles.activity import refresh_app_activity

    policy = GovernancePolicy.objects.filter(domain=domain).first() or GovernancePolicy(domain=domain)
    apps = App.objects.filter(domain=domain, removed_at__isnull=True, status="InService").select_related(
        "domain__account"
    )
    wanted = co04_activity_wanted(apps, policy, timezone.now())
    if wanted:
        refresh_app_activity(wanted)


def start_posture_check(*, trigger: str, actor: Any = None, domain: Domain | None = None) -> tuple[Any, bool]:
    scope = PostureScope(domain.pk if domain else None)
    label = f"domain {domain.name}" if domain else "all domains"
    return runs.start_run(
        POSTURE_CHECK.kind,
        scope,
        label,
        trigger=trigger,
        actor=actor,
        domain_arns=[domain.arn] if domain else None,
    )
