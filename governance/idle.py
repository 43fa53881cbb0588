"""Idle compliance, computed for one person: per domain, the share of user profiles and spaces whose effective idle
shutdown is on, and the long-running idle apps with their hours idle and what that idle time cost.

- A profile counts as enforced when its effective ``LifecycleManagement`` is ENABLED for both JupyterLab and Code
  Editor (its own ``UserSettings`` over the domain's defaults), as check CO-01 requires.
- A space counts as enforced when the effective ``LifecycleManagement`` of its app type is ENABLED: a private space
  follows its owner's profile, a shared space the domain's ``DefaultSpaceSettings`` (GOVERNANCE.md section 2;
  :mod:`profiles.effective` decides both).
- An app is idle when check CO-04 flags it: InService with no user activity for the domain policy's
  ``app_idle_hours`` (the check itself runs here, over the person's apps, so both always agree). Its idle time runs
  from the last user activity (or its creation when there is no user signal) to now, in whole hours as the finding
  says; its cost is those hours at the on-demand price of its instance type in its region
  (:func:`portal.pricing.hourly_price`). An instance type the price table lacks has no cost, and says so.

Each person sees their share, as on the inventory pages: the approvers, finance and team leads of a domain see all
of it, a data scientist their own profiles, spaces and apps. The statement count does not depend on the number of
domains or resources: one query each for the policies, profiles, spaces, apps and the idle apps' findings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from domains.models import Domain
from governance.inventory import DomainInventory
from governance.models import Finding, GovernancePolicy
from portal.pricing import PRICES_SOURCE, hourly_price
from portal.registry import registry
from portal.scoping import VIEW
from portal.sorting import Sorting
from profiles import effective
from profiles.models import App, Space, UserProfile

IDLE_CHECK = "CO-04"
CENTS = Decimal("0.01")
SORT_FIELDS = {"cost": "cost", "hours": "hours", "domain": "domain", "instance": "instance"}
DEFAULT_SORT = "-cost"
LIVE = (Finding.Status.OPEN, Finding.Status.ACCEPTED)


@dataclass(frozen=True)
class Share:
    """How many of ``total`` have idle shutdown enforced."""

    enforced: int = 0
    total: int = 0

    @property
    def percent(self) -> float | None:
        return round(100 * self.enforced / self.total, 1) if self.total else None

    def __add__(self, other: Share) -> Share:
        return Share(self.enforced + other.enforced, self.total + other.total)


@dataclass
class IdleApp:
    """An app CO-04 flags, with how long it has idled and what that cost."""

    app: App
    domain: Domain
    idle_since: datetime
    idle_since_source: str
    hours_idle: int
    threshold_hours: int
    severity: str
    hourly: Decimal | None
    cost: Decimal | None
    finding_id: int | None = None


@dataclass
class DomainIdle:
    domain: Domain
    policy: GovernancePolicy
    profiles: Share = field(default_factory=Share)
    spaces: Share = field(default_factory=Share)
    idle_apps: int = 0
    idle_cost: Decimal = Decimal("0.00")
    unpriced_apps: int = 0


@dataclass
class IdleReport:
    now: datetime
    domains: list[DomainIdle]
    apps: list[IdleApp]
    sorting: Sorting
    prices_source: str = PRICES_SOURCE

    @property
    def profiles(self) -> Share:
        return sum((d.profiles for d in self.domains), Share())

    @property
    def spaces(self) -> Share:
        return sum((d.spaces for d in self.domains), Share())

    @property
    def idle_cost(self) -> Decimal:
        return sum((d.idle_cost for d in self.domains), Decimal("0.00"))

    @property
    def unpriced_apps(self) -> int:
        return sum(d.unpriced_apps for d in self.domains)


def profile_enforced(settings: dict[str, effective.Setting]) -> bool:
    """Idle shutdown ENABLED for every app a profile runs in its private spaces (JupyterLab and Code Editor)."""
    return all(settings[f"{app}.LifecycleManagement"].value == "ENABLED" for app in effective.APPS)


def space_enforced(settings: dict[str, effective.Setting]) -> bool:
    """Idle shutdown ENABLED for the space's app type, as it applies to the space."""
    app = settings["AppType"].value
    state = settings.get(f"{app}.LifecycleManagement")
    return state is not None and state.value == "ENABLED"


def policies_of(domains: list[Domain]) -> dict[int, GovernancePolicy]:
    """Each domain's governance policy, the defaults for a domain without one: one query."""
    stored = {p.domain_id: p for p in GovernancePolicy.objects.filter(domain_id__in=[d.pk for d in domains])}
    result = {}
    for domain in domains:
        policy = stored.get(domain.pk) or GovernancePolicy(domain=domain)
        policy.domain = domain
        result[domain.pk] = policy
    return result


def idle_apps_of(
    domain: Domain, policy: GovernancePolicy, apps: list[App], now: datetime
) -> Iterable[tuple[App, str, datetime, str, int]]:
    """What check CO-04 finds among these apps of one domain: (app, severity, idle since, its source, hours)."""
    check = registry.checks[IDLE_CHECK]
    inventory = DomainInventory(domain=domain, policy=policy, profiles=[], spaces=[], apps=apps, now=now)
    for found in check.run(inventory):
        evidence = {e.field: e for e in found.evidence}
        since = datetime.fromisoformat(evidence["idle since"].value)
        hours = int((now - since).total_seconds() // 3600)
        yield found.resource, check.severity_of(found, inventory), since, evidence["idle since"].source, hours


def price_of(instance_type: str, region: str) -> Decimal | None:
    try:
        return hourly_price(instance_type, region)
    except KeyError:
        return None


def sort_apps(apps: list[IdleApp], sorting: Sorting) -> list[IdleApp]:
    """In the order asked; by cost, apps without a price come last either way (then by hours idle)."""
    key, descending = sorting.key or "cost", sorting.descending if sorting.key else True
    if key == "cost":
        priced = [a for a in apps if a.cost is not None]
        unpriced = [a for a in apps if a.cost is None]
        priced.sort(key=lambda a: (a.cost, a.hours_idle, a.app.arn), reverse=descending)
        unpriced.sort(key=lambda a: (-a.hours_idle, a.app.arn))
        return priced + unpriced
    keys = {
        "hours": lambda a: (a.hours_idle, a.app.arn),
        "domain": lambda a: (a.domain.name, a.app.arn),
        "instance": lambda a: (a.app.instance_type, a.app.arn),
    }
    return sorted(apps, key=keys[key], reverse=descending)


def report(user: Any, domains: Iterable[Domain], *, now: datetime | None = None, sort: str | None = None) -> IdleReport:
    """Idle compliance of ``domains`` (already limited to what ``user`` may see, e.g. by
    :class:`governance.filtersets.GovernanceScopeFilterSet`) as ``user`` sees it, at ``now``."""
    now = now or timezone.now()
    sorting = Sorting(SORT_FIELDS, sort, DEFAULT_SORT)
    domains = [d for d in domains if d.removed_at is None]
    if not domains:
        return IdleReport(now, [], [], sorting)
    by_pk = {d.pk: d for d in domains}
    policies = policies_of(domains)
    rows = {pk: DomainIdle(domain, policies[pk]) for pk, domain in by_pk.items()}
    pks = list(by_pk)
    live = {"domain_id__in": pks, "removed_at__isnull": True}

    for profile in UserProfile.objects.restrict(user, VIEW).filter(**live):
        profile.domain = by_pk[profile.domain_id]  # the domain's defaults, without a query per profile
        row = rows[profile.domain_id]
        row.profiles += Share(int(profile_enforced(profile.effective_settings)), 1)
    for space in Space.objects.restrict(user, VIEW).filter(**live).select_related("owner_profile"):
        space.domain = by_pk[space.domain_id]
        row = rows[space.domain_id]
        row.spaces += Share(int(space_enforced(space.effective_settings)), 1)

    running: dict[int, list[App]] = defaultdict(list)
    for app in App.objects.restrict(user, VIEW).filter(**live, status="InService"):
        running[app.domain_id].append(app)
    idle: list[IdleApp] = []
    for pk, apps in running.items():
        row = rows[pk]
        for app, severity, since, source, hours in idle_apps_of(row.domain, row.policy, apps, now):
            hourly = price_of(app.instance_type, row.domain.region)
            cost = (hourly * hours).quantize(CENTS) if hourly is not None else None
            idle.append(
                IdleApp(app, row.domain, since, source, hours, row.policy.app_idle_hours, severity, hourly, cost)
            )
            row.idle_apps += 1
            if cost is None:
                row.unpriced_apps += 1
            else:
                row.idle_cost += cost
    if idle:
        findings = dict(
            Finding.objects.restrict(user, VIEW)
            .filter(domain_id__in=pks, check_id=IDLE_CHECK, status__in=LIVE)
            .values_list("resource_arn", "pk")
        )
        for item in idle:
            item.finding_id = findings.get(item.app.arn)
    domain_rows = sorted(rows.values(), key=lambda r: (r.domain.name, r.domain.domain_id))
    return IdleReport(now, domain_rows, sort_apps(idle, sorting), sorting)
