"""Cost ingestion: Cost Explorer -> cost records -> rollups, per payer account.

Each run asks Cost Explorer for the window it needs (13 months on the first run, a trailing window after that,
since AWS restates recent days), DAILY, SageMaker only, in at most two queries: grouped by domain and user-profile
tags (all spend, once), and by domain and space tags. The window's records and rollups are replaced in one
transaction, so the same period twice never double-counts and a failed run leaves the earlier data as it was.
Every request is billed by AWS: the run records how many it made.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, IntegerField, Max, Sum
from django.db.models.functions import Cast, TruncMonth
from django.utils import timezone

from costs.budgets import evaluate_budgets
from costs.models import COST_TAGS, DOMAIN_TAG, PROFILE_TAG, SPACE_TAG, CostRecord, CostTagStatus, SpendRollup
from domains.models import AwsAccount, Domain
from portal import runs
from portal.aws import gateway, with_retries
from portal.models import TaskRun
from portal.registry import RunKind
from portal.scoping import VIEW_COSTS
from profiles.models import Space, UserProfile

# Finance (who reads spend in every domain) sees every ingestion, whoever started it.
COST_INGESTION = RunKind("cost_ingestion", "Cost ingestion", url_prefix="costs:run", seen_with=VIEW_COSTS)

SAGEMAKER_FILTER = {"Dimensions": {"Key": "SERVICE", "Values": ["Amazon SageMaker"]}}
HISTORY_MONTHS = 13
RUN_TASK = "costs.run_cost_ingestion"
PAYER_TASK = "costs.ingest_payer"


@dataclass(frozen=True)
class IngestionScope:
    """What a cost ingestion covers: every payer account or one, over the usual window or from ``since``."""

    account_id: str | None = None
    since: date | None = None

    def to_json(self) -> dict[str, str]:
        data = {"account_id": self.account_id, "since": self.since.isoformat() if self.since else None}
        return {name: value for name, value in data.items() if value}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IngestionScope:
        since = data.get("since")
        return cls(account_id=data.get("account_id"), since=date.fromisoformat(since) if since else None)


class IngestionScopeError(ValueError):
    """An ingestion was asked for something that cannot be ingested; the message says why."""


@dataclass(frozen=True)
class Row:
    day: date
    domain_arn: str
    member_arn: str
    amount: Decimal
    estimated: bool


def split_key(key: str, tag: str) -> str:
    """The value of a Cost Explorer TAG group key: ``tag$value`` -> value, ``tag$`` (untagged) -> ''."""
    prefix = f"{tag}$"
    if not key.startswith(prefix):
        raise ValueError(f"Group key {key!r} is not of tag {tag}.")
    return key[len(prefix) :]


def history_start(today: date) -> date:
    """The first day of the month 12 months back: 13 calendar months including the current one."""
    index = today.year * 12 + today.month - 1 - (HISTORY_MONTHS - 1)
    return date(index // 12, index % 12 + 1, 1)


def ingestion_window(payer: AwsAccount, since: date | None, today: date) -> tuple[date, date]:
    end = today  # exclusive: Cost Explorer has data up to yesterday
    if since is not None:
        return max(since, history_start(today)), end
    if not CostRecord.objects.filter(payer=payer).exists():
        return history_start(today), end
    return today - timedelta(days=settings.COST_RESTATED_DAYS), end


# -- starting ---------------------------------------------------------------------------------------------------
def payers(account_id: str | None = None) -> list[int]:
    """The enabled payer accounts to read (one, when ``account_id`` names a payer)."""
    accounts = AwsAccount.objects.filter(is_payer=True, enabled=True).order_by("account_id")
    if account_id:
        account = AwsAccount.objects.filter(account_id=account_id).first()
        if account is None:
            raise IngestionScopeError(f"No AWS account {account_id} is configured.")
        if not account.is_payer:
            raise IngestionScopeError(
                f"Account {account_id} is not marked as a payer account; its bill is read in the payer account."
            )
        accounts = accounts.filter(pk=account.pk)
    return list(accounts.values_list("pk", flat=True))


def start_cost_ingestion(
    *,
    account_id: str | None = None,
    since: date | None = None,
    actor: Any = None,
    trigger: str = TaskRun.Trigger.USER,
    inline: bool = False,
    enqueue: bool = True,
) -> tuple[TaskRun, bool]:
    """Start (or join) an ingestion of every payer account, or of one."""
    payer_pks = payers(account_id)
    if since is not None and since >= timezone.localdate():
        raise IngestionScopeError(f"--since {since} is not in the past.")
    scope = IngestionScope(account_id=account_id or None, since=since)
    label = f"payer account {account_id}" if account_id else "all payer accounts"
    if since is not None:
        label = f"{label} since {since}"
    run, created = runs.start_run(COST_INGESTION.kind, scope, label, trigger=trigger, actor=actor)
    if created:
        if inline:
            run_cost_ingestion(run.pk, payer_pks, since, inline=True)
            run.refresh_from_db()
        elif enqueue:
            from portal.celery import app

            args = [run.pk, payer_pks, since.isoformat() if since else None]
            transaction.on_commit(lambda: app.send_task(RUN_TASK, args=args))
    return run, created


def run_cost_ingestion(run_id: int, payer_pks: list[int], since: date | None, *, inline: bool = False) -> None:
    if not payer_pks:
        runs.fail_run(
            run_id, "No enabled payer account: mark the account that holds the bill as payer on the Accounts page."
        )
        return
    if not runs.plan(run_id, len(payer_pks), f"Reading the bill of {len(payer_pks)} payer account(s)"):
        return
    for pk in payer_pks:
        if inline:
            with_retries(ingest_payer, run_id, pk, since)
        else:
            from portal.celery import app

            app.send_task(PAYER_TASK, args=[run_id, pk, since.isoformat() if since else None])


# -- one payer --------------------------------------------------------------------------------------------------
def payer_of_step(run_id: int, payer_pk: int) -> AwsAccount | None:
    """The payer account a step works on; None (and the step finished with the reason) when it was deleted."""
    payer = AwsAccount.objects.filter(pk=payer_pk).first()
    if payer is None:
        runs.finish_step(run_id, scope=f"payer #{payer_pk}", error="The account was deleted.")
    return payer


def ingest_payer(run_id: int, payer_pk: int, since: date | None = None, *, final_attempt: bool = True) -> None:
    payer = payer_of_step(run_id, payer_pk)
    if payer is None:
        return
    scope = f"payer {payer.account_id}"
    with runs.recorded_step(run_id, scope, final_attempt=final_attempt) as calls:
        start, end = ingestion_window(payer, since, timezone.localdate())
        client = gateway().cost_explorer(account=payer.access)
        statuses = check_cost_tags(client) if tag_check_due(payer) else None
        by_profile = fetch(client, start, end, PROFILE_TAG)
        by_space = fetch(client, start, end, SPACE_TAG) if Space.objects.exists() else []
        with transaction.atomic():
            if statuses is not None:
                store_tag_statuses(payer, statuses)
            counts = replace_window(payer, start, end, by_profile, by_space)
            alerts = evaluate_budgets(timezone.localdate())
            runs.finish_step(
                run_id,
                scope=scope,
                counts={"cost_records": counts},
                calls=calls,
                message=f"Read {start} to {end - timedelta(days=1)} for {payer.account_id}",
                # The domains whose spend this read, so that the people of those domains see the run.
                domain_arns=sorted({r.domain_arn for r in [*by_profile, *by_space] if r.domain_arn}),
                note=" ".join(
                    filter(
                        None,
                        [
                            tag_note(payer, statuses) if statuses else "",
                            f"{len(alerts)} budget alert(s) sent." if alerts else "",
                        ],
                    )
                ),
            )


def tag_check_due(payer: AwsAccount) -> bool:
    """The tags' status is read once a day: a request saved on every other run."""
    last = CostTagStatus.objects.filter(payer=payer).aggregate(last=Max("checked_at"))["last"]
    return last is None or last < timezone.now() - timedelta(hours=24)


def check_cost_tags(client: Any) -> dict[str, str]:
    """Active, Inactive or Missing for each SageMaker tag, in one request."""
    answer = client.list_cost_allocation_tags(TagKeys=list(COST_TAGS), MaxResults=100)
    found = {tag["TagKey"]: tag["Status"] for tag in answer.get("CostAllocationTags", [])}
    return {key: found.get(key, "Missing") for key in COST_TAGS}


def store_tag_statuses(payer: AwsAccount, statuses: dict[str, str]) -> None:
    for key, status in statuses.items():
        CostTagStatus.objects.update_or_create(payer=payer, tag_key=key, defaults={"status": status})


def tag_note(payer: AwsAccount, statuses: dict[str, str]) -> str:
    off = [key for key, status in statuses.items() if status != "Active"]
    if not off:
        return ""
    return (
        f"In payer account {payer.account_id} the cost allocation tag(s) {', '.join(off)} are not active: their "
        "spend shows as untagged. Activate them in Billing > Cost allocation tags."
    )


def fetch(client: Any, start: date, end: date, member_tag: str) -> list[Row]:
    """Every page of one DAILY query grouped by the domain tag and ``member_tag``."""
    rows: list[Row] = []
    token: str | None = None
    while True:
        params: dict[str, Any] = {
            "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
            "Granularity": "DAILY",
            "Metrics": ["UnblendedCost"],
            "Filter": SAGEMAKER_FILTER,
            "GroupBy": [{"Type": "TAG", "Key": DOMAIN_TAG}, {"Type": "TAG", "Key": member_tag}],
        }
        if token:
            params["NextPageToken"] = token
        answer = client.get_cost_and_usage(**params)
        for result in answer.get("ResultsByTime", []):
            day = date.fromisoformat(result["TimePeriod"]["Start"])
            estimated = bool(result.get("Estimated"))
            for group in result.get("Groups", []):
                domain_key, member_key = group["Keys"]
                amount = Decimal(group["Metrics"]["UnblendedCost"]["Amount"])
                rows.append(
                    Row(day, split_key(domain_key, DOMAIN_TAG), split_key(member_key, member_tag), amount, estimated)
                )
        token = answer.get("NextPageToken")
        if not token:
            return rows


def _merge(rows: Iterable[Row]) -> dict[tuple[date, str, str], Row]:
    """Rows of one key, summed (pages of one bucket may repeat a group)."""
    merged: dict[tuple[date, str, str], Row] = {}
    for row in rows:
        key = (row.day, row.domain_arn, row.member_arn)
        if key in merged:
            prior = merged[key]
            row = Row(
                row.day, row.domain_arn, row.member_arn, prior.amount + row.amount, prior.estimated or row.estimated
            )
        merged[key] = row
    return merged


def replace_window(
    payer: AwsAccount, start: date, end: date, by_profile: list[Row], by_space: list[Row]
) -> dict[str, int]:
    """Swap the window's records and rollups for the fresh ones (inside the caller's transaction)."""
    profile_rows, space_rows = _merge(by_profile), _merge(by_space)
    arns = {r.domain_arn for r in [*profile_rows.values(), *space_rows.values()] if r.domain_arn}
    domains = dict(Domain.objects.filter(arn__in=arns).values_list("arn", "pk"))
    profiles = dict(
        UserProfile.objects.filter(arn__in={r.member_arn for r in profile_rows.values()}).values_list("arn", "pk")
    )
    spaces = dict(Space.objects.filter(arn__in={r.member_arn for r in space_rows.values()}).values_list("arn", "pk"))
    window = CostRecord.objects.filter(payer=payer, day__gte=start, day__lt=end)
    removed = window.count()
    window.delete()
    records = [
        CostRecord(
            payer=payer,
            day=r.day,
            grain=CostRecord.Grain.PROFILE,
            domain_arn=r.domain_arn,
            member_arn=r.member_arn,
            domain_id=domains.get(r.domain_arn),
            user_profile_id=profiles.get(r.member_arn),
            amount=r.amount,
            estimated=r.estimated,
        )
        for r in profile_rows.values()
    ] + [
        CostRecord(
            payer=payer,
            day=r.day,
            grain=CostRecord.Grain.SPACE,
            domain_arn=r.domain_arn,
            member_arn=r.member_arn,
            domain_id=domains.get(r.domain_arn),
            space_id=spaces.get(r.member_arn),
            amount=r.amount,
            estimated=r.estimated,
        )
        for r in space_rows.values()
    ]
    CostRecord.objects.bulk_create(records, batch_size=2000)
    rebuild_rollups(payer, start, end)
    return {"created": len(records), "removed": removed}


def rebuild_rollups(payer: AwsAccount, start: date, end: date) -> None:
    """Daily rollups of the window's days, monthly rollups of every month the window touches."""
    month_start = date(start.year, start.month, 1)
    SpendRollup.objects.filter(payer=payer, period=SpendRollup.Period.DAY, start__gte=start, start__lt=end).delete()
    SpendRollup.objects.filter(
        payer=payer, period=SpendRollup.Period.MONTH, start__gte=month_start, start__lt=end
    ).delete()
    rollups: list[SpendRollup] = []
    daily = CostRecord.objects.filter(payer=payer, day__gte=start, day__lt=end)
    monthly = CostRecord.objects.filter(payer=payer, day__gte=month_start, day__lt=end)
    for period, records in (
        (SpendRollup.Period.DAY, daily.annotate(bucket=F("day"))),
        (SpendRollup.Period.MONTH, monthly.annotate(bucket=TruncMonth("day"))),
    ):
        rollups += _level(payer, period, records, SpendRollup.Level.DOMAIN, CostRecord.Grain.PROFILE, by_member=False)
        rollups += _level(payer, period, records, SpendRollup.Level.PROFILE, CostRecord.Grain.PROFILE, by_member=True)
        rollups += _level(payer, period, records, SpendRollup.Level.SPACE, CostRecord.Grain.SPACE, by_member=True)
    SpendRollup.objects.bulk_create(rollups, batch_size=2000)


def _level(
    payer: AwsAccount, period: str, records: Any, level: str, grain: str, *, by_member: bool
) -> list[SpendRollup]:
    fields = ["bucket", "domain_arn"] + (["member_arn"] if by_member else [])
    rows = records.filter(grain=grain)
    if by_member:
        rows = rows.exclude(member_arn="")
    totals = (
        rows.values(*fields)
        .order_by()
        .annotate(
            total=Sum("amount"),
            estimated=Max(Cast("estimated", IntegerField())),
            domain_pk=Max("domain"),
            profile_pk=Max("user_profile"),
            space_pk=Max("space"),
        )
    )
    out = []
    for t in totals:
        bucket = t["bucket"].date() if hasattr(t["bucket"], "date") else t["bucket"]
        out.append(
            SpendRollup(
                payer=payer,
                period=period,
                start=bucket,
                level=level,
                domain_arn=t["domain_arn"],
                key_arn=t["member_arn"] if by_member else t["domain_arn"],
                domain_id=t["domain_pk"],
                user_profile_id=t["profile_pk"] if level == SpendRollup.Level.PROFILE else None,
                space_id=t["space_pk"] if level == SpendRollup.Level.SPACE else None,
                amount=t["total"],
                estimated=bool(t["estimated"]),
            )
        )
    return out
