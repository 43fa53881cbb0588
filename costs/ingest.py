"""Cost ingestion: Cost Explorer -> cost records -> rollups, per payer account.

Each run asks Cost Explorer for the window it needs (13 months on the first run, a trailing window after that,
since AWS restates recent days), DAILY, SageMaker only, in at most two queries: grouped by domain and user-profile
tags (all spend, once), and by domain and space tags. The window's records and rollups are replaced in one
transaction, so the same period twice never double-counts and a failed run leaves the earlier data as it was.
The pages are written as they arrive (memory holds one page, whatever the size of the bill) and the rollups are
built by ``INSERT ... SELECT`` in the database, on PostgreSQL and SQLite alike. Every request is billed by AWS:
the run records how many it made.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, NamedTuple
from uuid import uuid4

import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from costs.budgets import evaluate_budgets
from costs.models import (
    COST_TAGS,
    DOMAIN_TAG,
    PROFILE_TAG,
    SPACE_TAG,
    CostRecord,
    CostTagStatus,
    SpendRollup,
    SpendVersion,
)
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


class Row(NamedTuple):
    """One group of one day of a Cost Explorer answer (a tuple: a page holds thousands)."""

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
            transaction.on_commit(lambda: app.send_task(RUN_TASK, args=args, queue=settings.COST_QUEUE))
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

            # The cost queue (COST_QUEUE): its own worker pool in production, the default queue in one box.
            args = [run_id, pk, since.isoformat() if since else None]
            app.send_task(PAYER_TASK, args=args, queue=settings.COST_QUEUE)


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
        # Pages are written as they arrive (one page in memory at a time), inside the window's one transaction: a
        # failure part way leaves the earlier data as it was.
        with transaction.atomic():
            if statuses is not None:
                store_tag_statuses(payer, statuses)
            profile_pages = fetch_pages(client, start, end, PROFILE_TAG)
            space_pages = fetch_pages(client, start, end, SPACE_TAG) if Space.objects.exists() else iter(())
            counts = replace_window(payer, start, end, profile_pages, space_pages)
            alerts = evaluate_budgets(timezone.localdate())
            runs.finish_step(
                run_id,
                scope=scope,
                counts={"cost_records": counts},
                calls=calls,
                message=f"Read {start} to {end - timedelta(days=1)} for {payer.account_id}",
                # The domains whose spend this read, so that the people of those domains see the run.
                domain_arns=window_domain_arns(payer, start, end),
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


def fetch_pages(client: Any, start: date, end: date, member_tag: str) -> Iterator[list[Row]]:
    """The pages of one DAILY query grouped by the domain tag and ``member_tag``, each asked for when the one
    before it was written: the ingestion holds one page of rows, not the bill."""
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
        yield page_rows(answer, member_tag)
        token = answer.get("NextPageToken")
        if not token:
            return


def page_rows(answer: dict[str, Any], member_tag: str) -> list[Row]:
    domain_prefix, member_prefix = f"{DOMAIN_TAG}$", f"{member_tag}$"
    cut_domain, cut_member = len(domain_prefix), len(member_prefix)
    rows = []
    for result in answer.get("ResultsByTime", []):
        day = date.fromisoformat(result["TimePeriod"]["Start"])
        estimated = bool(result.get("Estimated"))
        for group in result.get("Groups", []):
            domain_key, member_key = group["Keys"]
            # split_key's check, inlined (a page holds thousands of groups); split_key raises, naming the bad key.
            if not (domain_key.startswith(domain_prefix) and member_key.startswith(member_prefix)):
                split_key(domain_key, DOMAIN_TAG)
                split_key(member_key, member_tag)
            amount = Decimal(group["Metrics"]["UnblendedCost"]["Amount"])
            rows.append(Row(day, domain_key[cut_domain:], member_key[cut_member:], amount, estimated))
    return rows


class InventoryIds:
    """The inventory's domain, profile and space ids by ARN, looked up per page for the ARNs not seen yet (as many
    entries as the inventory has resources at most, whatever the size of the bill)."""

    def __init__(self) -> None:
        self.known: dict[type, dict[str, int | None]] = {Domain: {}, UserProfile: {}, Space: {}}

    def of(self, model: type, arns: set[str]) -> dict[str, int | None]:
        known = self.known[model]
        missing = {arn for arn in arns if arn and arn not in known}
        if missing:
            known.update(dict.fromkeys(missing))
            known.update(model.objects.filter(arn__in=missing).values_list("arn", "pk"))  # type: ignore[attr-defined]
        return known


# The pages go into a temporary table without indexes as they arrive (COPY on PostgreSQL, the fastest way in;
# batched INSERTs on SQLite), and into the records in one sorted INSERT ... SELECT at the end of the window, repeats
# (pages of one bucket may repeat a group) summed by its GROUP BY. Upserting page by page cost three times as much on
# PostgreSQL: a speculative insertion into a unique index per row, and arrays of thousands of ARNs parsed per
# statement. The window's records are deleted first, so the GROUP BY is what keeps a key to one record.
ESTIMATED = "MAX(CASE WHEN estimated THEN 1 ELSE 0 END) > 0"
STAGING = "costs_window_staging"
STAGING_COLUMNS = (
    "grain",
    "day",
    "domain_arn",
    "member_arn",
    "domain_id",
    "user_profile_id",
    "space_id",
    "amount",
    "estimated",
)
CREATE_STAGING = f"""
CREATE TEMPORARY TABLE {STAGING} (grain varchar(8), day date, domain_arn text, member_arn text, domain_id bigint,
    user_profile_id bigint, space_id bigint, amount numeric, estimated boolean)
"""
FROM_STAGING = f"""
INSERT INTO costs_costrecord (payer_id, day, grain, domain_arn, member_arn, domain_id, user_profile_id, space_id,
    metric, amount, currency, estimated)
SELECT %s, day, grain, domain_arn, member_arn, MAX(domain_id), MAX(user_profile_id), MAX(space_id), 'UnblendedCost',
    SUM(amount), 'USD', {ESTIMATED}
FROM {STAGING} WHERE day >= %s AND day < %s
GROUP BY day, grain, domain_arn, member_arn
ORDER BY day, grain, domain_arn, member_arn
"""
SQLITE_BATCH = 500  # rows a staging INSERT (9 parameters a row, under SQLite's limit)


class WindowWriter:
    """Writes one window's pages into the records, a page at a time: memory holds one page, the database the rest."""

    def __init__(self, payer: AwsAccount, start: date, end: date) -> None:
        self.payer, self.start, self.end = payer, start, end
        self.ids = InventoryIds()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":  # for this transaction only
                cursor.execute("SELECT set_config('work_mem', %s, true)", [f"{settings.COST_INGEST_WORK_MEM_MB}MB"])
            cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")
            cursor.execute(CREATE_STAGING)

    def write(self, grain: str, rows: list[Row]) -> None:
        if not rows:
            return
        domains = self.ids.of(Domain, {r.domain_arn for r in rows})
        members = self.ids.of(UserProfile if grain == CostRecord.Grain.PROFILE else Space, {r.member_arn for r in rows})
        profile = grain == CostRecord.Grain.PROFILE
        values = (
            (
                grain,
                r.day,
                r.domain_arn,
                r.member_arn,
                domains.get(r.domain_arn),
                members.get(r.member_arn) if profile else None,
                None if profile else members.get(r.member_arn),
                r.amount,
                r.estimated,
            )
            for r in rows
        )
        if connection.vendor == "postgresql":
            # The driver's own cursor: Django's wraps no COPY.
            with psycopg.Cursor(connection.connection) as raw:
                with raw.copy(f"COPY {STAGING} ({', '.join(STAGING_COLUMNS)}) FROM STDIN") as copy:
                    for value in values:
                        copy.write_row(value)
            return
        row_sql = "(" + ", ".join(["%s"] * len(STAGING_COLUMNS)) + ")"
        batch: list[Any] = []
        with connection.cursor() as cursor:
            for value in values:
                batch.extend(value)
                if len(batch) == SQLITE_BATCH * len(STAGING_COLUMNS):
                    cursor.execute(f"INSERT INTO {STAGING} VALUES " + ", ".join([row_sql] * SQLITE_BATCH), batch)
                    batch = []
            if batch:
                count = len(batch) // len(STAGING_COLUMNS)
                cursor.execute(f"INSERT INTO {STAGING} VALUES " + ", ".join([row_sql] * count), batch)

    def finish(self) -> int:
        """Move the staged rows into the records; how many records the window has now."""
        with connection.cursor() as cursor:
            cursor.execute(FROM_STAGING, [self.payer.pk, self.start, self.end])
            created = cursor.rowcount
            cursor.execute(f"DROP TABLE {STAGING}")
        return created


def replace_window(
    payer: AwsAccount, start: date, end: date, profile_pages: Iterable[list[Row]], space_pages: Iterable[list[Row]]
) -> dict[str, int]:
    """Swap the window's records and rollups for the fresh ones (inside the caller's transaction), a page at a time."""
    removed, _ = CostRecord.objects.filter(payer=payer, day__gte=start, day__lt=end).delete()
    writer = WindowWriter(payer, start, end)
    for grain, pages in ((CostRecord.Grain.PROFILE, profile_pages), (CostRecord.Grain.SPACE, space_pages)):
        for rows in pages:
            writer.write(grain, rows)
    created = writer.finish()
    rebuild_rollups(payer, start, end)
    SpendVersion.objects.update_or_create(payer=payer, defaults={"token": uuid4()})
    return {"created": created, "removed": removed}


def window_domain_arns(payer: AwsAccount, start: date, end: date) -> list[str]:
    window = CostRecord.objects.filter(payer=payer, day__gte=start, day__lt=end).exclude(domain_arn="")
    return sorted(window.order_by().values_list("domain_arn", flat=True).distinct())


def month_of(column: str) -> str:
    """SQL for the first day of the month of a date column, on PostgreSQL and SQLite."""
    if connection.vendor == "postgresql":
        return f"CAST(date_trunc('month', {column}) AS date)"
    return f"date({column}, 'start of month')"


ROLLUP_COLUMNS = (
    "payer_id, period, start, level, domain_arn, key_arn, domain_id, user_profile_id, space_id, amount, estimated"
)


def rebuild_rollups(payer: AwsAccount, start: date, end: date) -> None:
    """Daily domain rollups of the window's days and monthly rollups of every month the window touches, each level
    one ``INSERT ... SELECT`` in the database: nothing of the records passes through Python."""
    first_month = date(start.year, start.month, 1)
    SpendRollup.objects.filter(payer=payer, period=SpendRollup.Period.DAY, start__gte=start, start__lt=end).delete()
    SpendRollup.objects.filter(
        payer=payer, period=SpendRollup.Period.MONTH, start__gte=first_month, start__lt=end
    ).delete()
    statements = [
        # A domain's day: every profile-grain record (profile-less spend included), so nothing counts twice.
        (
            f"""INSERT INTO costs_spendrollup ({ROLLUP_COLUMNS})
            SELECT payer_id, 'day', day, 'domain', domain_arn, domain_arn, MAX(domain_id), NULL, NULL, SUM(amount),
                {ESTIMATED}
            FROM costs_costrecord WHERE payer_id = %s AND grain = 'profile' AND day >= %s AND day < %s
            GROUP BY payer_id, day, domain_arn""",
            [payer.pk, start, end],
        ),
        # A domain's month: its days (the days before the window are in the rollups already).
        (
            f"""INSERT INTO costs_spendrollup ({ROLLUP_COLUMNS})
            SELECT payer_id, 'month', {month_of("start")}, 'domain', domain_arn, domain_arn, MAX(domain_id), NULL,
                NULL, SUM(amount), {ESTIMATED}
            FROM costs_spendrollup
            WHERE payer_id = %s AND period = 'day' AND level = 'domain' AND start >= %s AND start < %s
            GROUP BY payer_id, {month_of("start")}, domain_arn""",
            [payer.pk, first_month, end],
        ),
    ]
    for grain in ("profile", "space"):
        ids = "MAX(user_profile_id), NULL" if grain == "profile" else "NULL, MAX(space_id)"
        statements.append(
            (
                f"""INSERT INTO costs_spendrollup ({ROLLUP_COLUMNS})
                SELECT payer_id, 'month', {month_of("day")}, %s, domain_arn, member_arn, MAX(domain_id), {ids},
                    SUM(amount), {ESTIMATED}
                FROM costs_costrecord
                WHERE payer_id = %s AND grain = %s AND member_arn <> '' AND day >= %s AND day < %s
                GROUP BY payer_id, {month_of("day")}, domain_arn, member_arn""",
                [grain, payer.pk, grain, first_month, end],
            )
        )
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
