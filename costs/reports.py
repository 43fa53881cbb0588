"""Spend figures for dashboards, CSV exports and the API, read from rollups only (never Cost Explorer).

Every function takes a queryset of :class:`Spend` (the rollups, and each profile's and space's record as its day)
already restricted to what the person may see, so pages and API share both the numbers and the scoping. Per-domain
figures read the rows ``domain_rows`` selects: the domain rollups by default, or
:func:`costs.models.domain_total_q` for a person who may see only some of a domain's spend.
"""

from __future__ import annotations

import calendar
import hashlib
import json
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

from django.conf import settings
from django.core.cache import caches
from django.db.models import F, Max, Q, QuerySet, Sum
from django.utils import timezone

from costs.models import SpendRollup, SpendVersion
from domains.models import Domain
from portal.scoping import ALL_DOMAINS, VIEW_COSTS, Grants
from profiles.models import UserProfile

CENT = Decimal("0.01")
UNTAGGED = "Untagged"
DOMAIN_ROWS = Q(level=SpendRollup.Level.DOMAIN)


@dataclass(frozen=True)
class Window:
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def daily(self) -> bool:
        """Daily buckets for up to about two months, monthly ones beyond."""
        return self.days <= 62


def month_start(day: date) -> date:
    return date(day.year, day.month, 1)


def previous_month(day: date) -> date:
    return month_start(month_start(day) - timedelta(days=1))


def default_window(today: date) -> Window:
    """The current month and the six before it."""
    start = month_start(today)
    for _ in range(6):
        start = previous_month(start)
    return Window(start, today)


def domain_labels(arns: set[str]) -> dict[str, str]:
    known = dict(Domain.objects.filter(arn__in=arns).values_list("arn", "name"))
    return {arn: known.get(arn) or (f"Unknown domain ({arn.rsplit('/', 1)[-1]})" if arn else UNTAGGED) for arn in arns}


def domain_pks(arns: set[str]) -> dict[str, int]:
    """The inventory's domains by ARN, for links (an ARN the inventory does not know has none)."""
    return dict(Domain.objects.filter(arn__in=arns).values_list("arn", "pk"))


def member_labels(arns: set[str]) -> dict[str, str]:
    return {arn: arn.rsplit("/", 1)[-1] if arn else UNTAGGED for arn in arns}


def series_by_domain(rollups: QuerySet, window: Window, *, domain_rows: Q = DOMAIN_ROWS) -> dict[str, Any]:
    """Chart.js data: one stacked dataset per domain over the window's days or months."""
    period = SpendRollup.Period.DAY if window.daily else SpendRollup.Period.MONTH
    start = window.start if window.daily else month_start(window.start)
    rows = (
        rollups.filter(domain_rows, period=period, start__gte=start, start__lte=window.end)
        .values("start", "domain_arn")
        .annotate(total=Sum("amount"))
        .order_by("start", "domain_arn")
    )
    buckets: list[date] = []
    cursor = start
    while cursor <= window.end:
        buckets.append(cursor)
        cursor = cursor + timedelta(days=1) if window.daily else month_start(cursor + timedelta(days=32))
    index = {bucket: i for i, bucket in enumerate(buckets)}
    values: dict[str, list[float]] = OrderedDict()
    for row in rows:
        series = values.setdefault(row["domain_arn"], [0.0] * len(buckets))
        if row["start"] in index:
            series[index[row["start"]]] = float(Decimal(row["total"]).quantize(CENT))
    labels = domain_labels(set(values))
    return {
        "labels": [b.isoformat() if window.daily else b.strftime("%Y-%m") for b in buckets],
        "datasets": [{"label": labels[arn], "data": data} for arn, data in values.items()],
        "arns": list(values),
    }


def window_rollups(rollups: QuerySet, window: Window) -> QuerySet:
    """The fewest rollup rows that cover the window: months it holds whole, days at its ragged edges.

    The current month counts as whole once the window reaches today, since its rollup holds every day so far.
    """
    today = timezone.localdate()
    months: list[date] = []
    cursor = month_start(window.start)
    while cursor <= window.end:
        following = month_start(cursor + timedelta(days=32))
        covers_end = window.end >= following - timedelta(days=1) or (
            cursor == month_start(today) and window.end >= today - timedelta(days=1)
        )
        if cursor >= window.start and covers_end:
            months.append(cursor)
        cursor = following
    # The days the whole months leave uncovered, as at most two ranges: before the first and after the last.
    edges: list[tuple[date, date]] = []
    if not months:
        edges.append((window.start, window.end))
    else:
        if window.start < months[0]:
            edges.append((window.start, months[0] - timedelta(days=1)))
        after = month_start(months[-1] + timedelta(days=32))
        if after <= window.end:
            edges.append((after, window.end))
    condition = Q(period=SpendRollup.Period.MONTH, start__in=months) if months else Q(pk__in=[])
    for first, last in edges:
        condition |= Q(period=SpendRollup.Period.DAY, start__gte=first, start__lte=last)
    return rollups.filter(condition)


def totals(
    rollups: QuerySet,
    window: Window,
    level: str,
    *,
    limit: int | None = None,
    domain_rows: Q = DOMAIN_ROWS,
    of: Decimal | None = None,
) -> list[dict[str, Any]]:
    """Spend per domain, profile or space over the window, largest first, with each one's share (of ``of`` when
    given, e.g. the domain total a top-10 list is part of; else of the rows listed)."""
    if level == SpendRollup.Level.DOMAIN:
        source = rollups.filter(domain_rows)
        grouped = source.annotate(key=F("domain_arn"))
    else:
        grouped = rollups.filter(level=level).annotate(key=F("key_arn"))
    rows = (
        window_rollups(grouped, window)
        .values("domain_arn", "key")
        .annotate(total=Sum("amount"))
        .order_by("-total", "key")
    )
    rows = list(rows[:limit] if limit else rows)
    grand = of if of is not None else sum((Decimal(r["total"]) for r in rows), Decimal(0))
    domains = domain_labels({r["domain_arn"] for r in rows})
    members = member_labels({r["key"] for r in rows})
    return [
        {
            "domain": domains[r["domain_arn"]],
            "domain_arn": r["domain_arn"],
            "name": domains[r["key"]] if level == SpendRollup.Level.DOMAIN else members[r["key"]],
            "arn": r["key"],
            "amount": Decimal(r["total"]).quantize(CENT),
            "share": (Decimal(r["total"]) / grand * 100).quantize(Decimal("0.1")) if grand else Decimal(0),
        }
        for r in rows
    ]


def other_row(rows: list[dict[str, Any]], total: Decimal, what: str) -> dict[str, Any] | None:
    """What the listed rows leave of ``total`` (the domains' total in the same view), or None if nothing."""
    left = (total - sum((row["amount"] for row in rows), Decimal(0))).quantize(CENT)
    if left <= 0:
        return None
    return {
        "name": f"Other: {what}",
        "amount": left,
        "share": (left / total * 100).quantize(Decimal("0.1")) if total else Decimal(0),
    }


def figures_from_days(days: dict[date, Decimal], data_through: date | None, today: date) -> dict[str, Any]:
    """Month to date, last month (whole and to the same day) and a forecast, from spend per day."""
    this_month = month_start(today)
    last_month = previous_month(today)

    def spend(start: date, end: date) -> Decimal:
        return sum((amount for day, amount in days.items() if start <= day <= end), Decimal(0)).quantize(CENT)

    mtd = spend(this_month, today)
    same_day_last_month = min(today.day, calendar.monthrange(last_month.year, last_month.month)[1])
    last_month_to_day = spend(last_month, last_month.replace(day=same_day_last_month))
    last_month_total = spend(last_month, this_month - timedelta(days=1))
    # Forecast: the month so far plus the average of the last 7 days with data for each day still to come.
    days_in_month = calendar.monthrange(today.year, today.month)[1]
    reference_end = data_through or today
    recent = spend(reference_end - timedelta(days=6), reference_end)
    days_left = (
        days_in_month - (reference_end - this_month).days - 1
        if data_through and data_through >= this_month
        else days_in_month
    )
    forecast = (mtd + recent / 7 * max(0, days_left)).quantize(CENT)
    change = (
        ((mtd - last_month_to_day) / last_month_to_day * 100).quantize(Decimal("0.1")) if last_month_to_day else None
    )
    return {
        "month_to_date": mtd,
        "last_month_to_date": last_month_to_day,
        "last_month_total": last_month_total,
        "change_percent": change,
        "forecast": forecast,
        "data_through": data_through,
        "month": this_month,
    }


def month_figures_by_domain(rollups: QuerySet, today: date) -> dict[str, dict[str, Any]]:
    """:func:`month_figures` for each domain of ``rollups``, in two queries however many domains there are."""
    domain_days = rollups.filter(period=SpendRollup.Period.DAY, level=SpendRollup.Level.DOMAIN)
    through = dict(domain_days.values("domain_arn").annotate(last=Max("start")).values_list("domain_arn", "last"))
    earliest = min([previous_month(today), *(last - timedelta(days=6) for last in through.values())])
    days: dict[str, dict[date, Decimal]] = {arn: {} for arn in through}
    totals = (
        domain_days.filter(start__gte=earliest, start__lte=today)
        .values("domain_arn", "start")
        .annotate(total=Sum("amount"))
        .values_list("domain_arn", "start", "total")
    )
    for arn, day, total in totals:
        days[arn][day] = Decimal(total)
    return {arn: figures_from_days(days[arn], through[arn], today) for arn in through}


def data_through(rollups: QuerySet, *, domain_rows: Q = DOMAIN_ROWS) -> date | None:
    """The last day with spend data in ``rollups`` (Cost Explorer lags about a day)."""
    return rollups.filter(domain_rows, period=SpendRollup.Period.DAY).aggregate(last=Max("start"))["last"]


def month_figures(rollups: QuerySet, today: date, *, domain_rows: Q = DOMAIN_ROWS) -> dict[str, Any]:
    """Month to date, last month (whole and to the same day), and a forecast to month end, for all of
    ``rollups`` together."""
    domain_days = rollups.filter(domain_rows, period=SpendRollup.Period.DAY)
    data_through = domain_days.aggregate(last=Max("start"))["last"]
    earliest = min(previous_month(today), (data_through or today) - timedelta(days=6))
    totals = (
        domain_days.filter(start__gte=earliest, start__lte=today)
        .values("start")
        .annotate(total=Sum("amount"))
        .values_list("start", "total")
    )
    return figures_from_days({day: Decimal(total) for day, total in totals}, data_through, today)


def untagged_share(rollups: QuerySet, window: Window, *, domain_rows: Q = DOMAIN_ROWS) -> dict[str, Decimal]:
    domain_days = rollups.filter(
        domain_rows, period=SpendRollup.Period.DAY, start__gte=window.start, start__lte=window.end
    )
    total = Decimal(domain_days.aggregate(total=Sum("amount"))["total"] or 0)
    untagged = Decimal(domain_days.filter(domain_arn="").aggregate(total=Sum("amount"))["total"] or 0)
    return {
        "total": total.quantize(CENT),
        "untagged": untagged.quantize(CENT),
        "percent": (untagged / total * 100).quantize(Decimal("0.1")) if total else Decimal(0),
    }


# -- cached figures ---------------------------------------------------------------------------------------------
def data_version() -> str | None:
    """The tokens of the last ingestion of every payer, as one string; None before any ingestion."""
    tokens = [str(token) for token in SpendVersion.objects.order_by("payer_id").values_list("token", flat=True)]
    return ".".join(tokens) or None


def scope_key(grants: Grants) -> list[Any]:
    """What decides which spend a person sees (see :func:`costs.models.spend_scope`): the domains their roles let
    them read, and the profiles they own. Two people with the same key see the same figures."""
    domains = grants.domains_for(VIEW_COSTS)
    if domains is ALL_DOMAINS:
        return ["all"]
    own = list(UserProfile.objects.filter(owner=grants.user).order_by("pk").values_list("pk", flat=True))
    return [sorted(domains), own]


def _kept(
    prefix: str, grants: Grants, filters: dict[str, Any], compute: Callable[[], dict[str, Any]], *more: Any
) -> dict[str, Any]:
    """``compute()``'s answer from the cost cache, under a key of the last ingestion, the scope, the filters, the
    day and ``more``; computed and kept when missing (computed every time before any ingestion, or with the cache
    off)."""
    version = data_version()
    seconds = settings.COST_FIGURES_CACHE_SECONDS
    if version is None or not seconds:
        return compute()
    raw = json.dumps([version, scope_key(grants), filters, timezone.localdate(), *more], default=str, sort_keys=True)
    key = prefix + hashlib.sha256(raw.encode()).hexdigest()
    cache = caches["costs"]
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, seconds)
    return value


def cached_figures(grants: Grants, filters: dict[str, Any], compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``compute()``'s figures, from the cache when the same scope asked for the same filters since the last
    ingestion. The key holds the ingestion's version, so an ingestion is a new key: nothing is invalidated by hand,
    and every web server (and worker) agrees. Domain names are not cached (see :func:`relabel`)."""
    return _kept("costs:figures:", grants, filters, compute)


# What the dashboard shows beside the figures changes with the inventory (names, links) and the budgets: each has a
# marker in the cache that a change replaces (see costs.apps), so a rendered dashboard is kept per (ingestion,
# scope, filters, inventory, budgets) and never outlives any of them.
MARKERS = ("inventory", "budgets")


def marker(name: str) -> str:
    cache = caches["costs"]
    key = f"costs:marker:{name}"
    value = cache.get(key)
    if value is None:
        cache.add(key, uuid4().hex, None)  # the first of concurrent readers wins; all read the winner
        value = cache.get(key) or ""
    return str(value)


def bump(name: str) -> None:
    """The inventory or the budgets changed: every rendered dashboard that showed them is out of date."""
    caches["costs"].set(f"costs:marker:{name}", uuid4().hex, None)


def cached_rendering(grants: Grants, filters: dict[str, Any], render: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``render()``'s output (the dashboard's figures as HTML, and what its head shows), kept like the figures but
    also keyed by the inventory's and the budgets' markers. Rendering was half of a cached dashboard's time."""
    return _kept("costs:rendered:", grants, filters, render, *(marker(name) for name in MARKERS))


def relabel(figures: dict[str, Any]) -> None:
    """Today's domain names in cached figures (a domain renamed since the ingestion shows its new name)."""
    arns = {row["domain_arn"] for table in ("domains", "profiles", "spaces") for row in figures[table]}
    arns |= set(figures["series_arns"])
    labels = domain_labels(arns)
    for table in ("domains", "profiles", "spaces"):
        for row in figures[table]:
            row["domain"] = labels[row["domain_arn"]]
            if table == "domains":
                row["name"] = labels[row["arn"]]
    for dataset, arn in zip(figures["series"]["datasets"], figures["series_arns"], strict=True):
        dataset["label"] = labels[arn]
