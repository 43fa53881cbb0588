"""Coverage of the domain tag: per domain and resource type, how many resources are tagged, untagged but
attributable (the backfill tags them), unattributable (shown with why, never guessed) and excepted by an admin.

Counted in one aggregate query over the resources the person may read, whatever their number. Unattributable
resources have no domain: they are grouped by their account and region.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet

from backfill.models import LegacyResource

STATES = [c.value for c in LegacyResource.Coverage]
LABELS = dict(LegacyResource.Coverage.choices)
COLOURS = {"tagged": "#2e7d32", "attributable": "#f9a825", "unattributable": "#c62828", "excepted": "#78909c"}


@dataclass
class Row:
    """One domain (or, for resources without one, an account and region) and its counts by state."""

    key: str
    label: str
    domain_arn: str = ""
    account_id: str = ""
    region: str = ""
    domain_pk: int | None = None
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATES, 0))
    by_type: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def percent(self) -> int:
        """Tagged or excepted, of all: 100 once the backfill is done (unattributable ones excepted)."""
        done = self.counts["tagged"] + self.counts["excepted"]
        return round(100 * done / self.total) if self.total else 100

    @property
    def gap(self) -> int:
        return self.counts["attributable"] + self.counts["unattributable"]

    def types(self) -> list[dict[str, Any]]:
        return [
            {"type": kind, **counts, "total": sum(counts.values())} for kind, counts in sorted(self.by_type.items())
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "domain_arn": self.domain_arn,
            "name": self.label,
            "account_id": self.account_id,
            "region": self.region,
            **self.counts,
            "total": self.total,
            "percent": self.percent,
            "by_type": self.types(),
        }


def coverage(resources: QuerySet) -> list[Row]:
    """Rows per domain (by name), then the unattributed groups, from ``resources`` (live ones only)."""
    grouped = (
        resources.filter(removed_at__isnull=True)
        .values("domain_arn", "domain", "domain__name", "account_id", "region", "resource_type", "coverage")
        .annotate(n=Count("id"))
        .order_by()
    )
    rows: dict[str, Row] = {}
    for item in grouped:
        if item["domain_arn"]:
            key = item["domain_arn"]
            label = item["domain__name"] or item["domain_arn"].rsplit("/", 1)[-1]
            row = rows.setdefault(key, Row(key, label, domain_arn=key))
            row.domain_pk = row.domain_pk or item["domain"]
        else:
            key = f"{item['account_id']}/{item['region']}"
            label = f"No domain ({item['account_id']} {item['region']})"
            row = rows.setdefault(key, Row(key, label))
        row.account_id, row.region = item["account_id"], item["region"]
        row.counts[item["coverage"]] += item["n"]
        per_type = row.by_type.setdefault(item["resource_type"], dict.fromkeys(STATES, 0))
        per_type[item["coverage"]] += item["n"]
    return sorted(rows.values(), key=lambda r: (not r.domain_arn, r.label.lower(), r.key))


def totals(rows: list[Row]) -> dict[str, int]:
    counts = dict.fromkeys(STATES, 0)
    for row in rows:
        for state, n in row.counts.items():
            counts[state] += n
    total = sum(counts.values())
    done = counts["tagged"] + counts["excepted"]
    return {**counts, "total": total, "percent": round(100 * done / total) if total else 100}


def chart(rows: list[Row]) -> dict[str, Any]:
    """A stacked bar per row (Chart.js data), drawn by static/backfill/coverage.js."""
    return {
        "labels": [row.label if row.domain_arn else f"No domain {row.region} …{row.account_id[-4:]}" for row in rows],
        "datasets": [
            {"label": LABELS[state], "data": [row.counts[state] for row in rows], "backgroundColor": COLOURS[state]}
            for state in STATES
        ],
    }


def untagged_near(domain: Any) -> QuerySet:
    """What the domain-isolation policy of ``domain`` would deny if enforced now: its live resources without the
    domain tag (untagged attributable ones and those excepted), and the unattributed ones of its account and region
    (they may be the domain's; nothing says they are not)."""
    return (
        LegacyResource.objects.filter(removed_at__isnull=True)
        .exclude(coverage=LegacyResource.Coverage.TAGGED)
        .filter(Q(domain_arn=domain.arn) | Q(domain_arn="", account_id=domain.account.account_id, region=domain.region))
    )


@dataclass
class DomainCoverage:
    """One domain's coverage, and whether it is complete: every resource attributed to it is tagged or excepted
    with a reason, and no unattributed resource of its account and region is left undecided (attributed by a rule
    or excepted), since it may be the domain's."""

    domain: Any
    row: Row
    nearby: dict[str, int]

    @property
    def left(self) -> int:
        """Resources that still stand between the domain and complete coverage."""
        return self.row.counts["attributable"] + self.nearby["unattributable"]

    @property
    def complete(self) -> bool:
        return self.left == 0

    def to_json(self) -> dict[str, Any]:
        return {
            **self.row.to_json(),
            "unattributed_nearby": self.nearby["unattributable"],
            "excepted_nearby": self.nearby["excepted"],
            "left": self.left,
            "complete": self.complete,
        }


def domain_coverage(domain: Any) -> DomainCoverage:
    """The coverage of one domain, by type, with the unattributed resources of its account and region (two
    aggregate queries)."""
    rows = coverage(LegacyResource.objects.filter(domain_arn=domain.arn))
    row = rows[0] if rows else Row(domain.arn, domain.name, domain_arn=domain.arn)
    row.label, row.account_id, row.region = domain.name, domain.account.account_id, domain.region
    nearby = dict.fromkeys(STATES, 0)
    for state, n in (
        LegacyResource.objects.filter(
            removed_at__isnull=True, domain_arn="", account_id=domain.account.account_id, region=domain.region
        )
        .values_list("coverage")
        .annotate(n=Count("id"))
        .order_by()
    ):
        nearby[state] += n
    return DomainCoverage(domain, row, nearby)
