"""The inventory sync, domains side: start a run, list each account and region's domains, hand members on.

A run is split into steps: one per (account, region) listing, then one per domain for its members (done by the
profiles app, reached through :mod:`domains.signals` in process or by the Celery task it registered in
:mod:`portal.registry`). Steps finish in any
order; :mod:`portal.runs` merges their counts and closes the run after the last one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from domains.models import AwsAccount, Domain
from domains.signals import domains_removed, member_sync_requested, resources_changed
from domains.upsert import jsonable, upsert_by_arn
from portal import runs
from portal.aws import ResourceTags, call_with_retries, gateway, list_all_tags, paginate, with_retries
from portal.models import TaskRun
from portal.registry import RunKind, registry

INVENTORY_SYNC = RunKind("inventory_sync", "Inventory sync", url_prefix="domains:syncrun")
CLAIM_TTL = timedelta(minutes=30)  # a claim older than this belongs to a worker that died
ACCOUNT_REGION_TASK = "domains.sync_account_region"
RUN_TASK = "domains.run_inventory_sync"


@dataclass(frozen=True)
class SyncScope:
    """What an inventory sync covers: everything (no field), an account, an account's region, or one domain."""

    account_id: str | None = None
    region: str | None = None
    domain_arn: str | None = None

    def __post_init__(self) -> None:
        if self.region and not self.account_id:
            raise SyncScopeError("Give the account with the region (a region alone is ambiguous).")
        if self.domain_arn and (self.account_id or self.region):
            raise SyncScopeError("A domain sync names the domain only.")

    def to_json(self) -> dict[str, str]:
        return {name: value for name, value in asdict(self).items() if value}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SyncScope:
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise SyncScopeError(f"Unknown sync scope field(s): {', '.join(sorted(unknown))}.")
        return cls(**data)


class SyncScopeError(ValueError):
    """A sync was asked for something that cannot be synced; the message says why."""


class AccountMismatchError(RuntimeError):
    """AWS answered for another account or region than the one asked for."""


# -- starting ---------------------------------------------------------------------------------------------------
def start_inventory_sync(
    *,
    account_id: str | None = None,
    region: str | None = None,
    domain_id: str | None = None,
    actor: AbstractBaseUser | None = None,
    trigger: str = TaskRun.Trigger.USER,
    inline: bool = False,
    enqueue: bool = True,
) -> tuple[TaskRun, bool]:
    """Start a sync of everything, an account, an account's region, or one domain; join one already running.

    Returns the run and whether it was created (False: the caller joined a run of the same scope). With
    ``inline`` the whole run happens in this process before returning (tests); otherwise it is queued for the
    workers once the transaction commits, unless ``enqueue`` is False (the caller runs it, as ``sync_aws`` does).
    """
    scope, label, domain_arns = _scope(account_id, region, domain_id)
    run, created = runs.start_run(
        INVENTORY_SYNC.kind, scope, label, trigger=trigger, actor=actor, domain_arns=domain_arns
    )
    if created:
        if inline:
            run_inventory_sync(run.pk, inline=True)
            run.refresh_from_db()
        elif enqueue:
            from portal.celery import app

            transaction.on_commit(lambda: app.send_task(RUN_TASK, args=[run.pk]))
    return run, created


def _scope(account_id: str | None, region: str | None, domain_id: str | None) -> tuple[SyncScope, str, list[str]]:
    if domain_id:
        domain = Domain.objects.filter(domain_id=domain_id).select_related("account").first()
        if domain is None:
            raise SyncScopeError(f"No domain {domain_id} in the inventory; sync its account first.")
        return SyncScope(domain_arn=domain.arn), f"domain {domain.name} ({domain.domain_id})", [domain.arn]
    if region and not account_id:
        raise SyncScopeError("Give the account with the region (a region alone is ambiguous).")
    if account_id:
        account = AwsAccount.objects.filter(account_id=account_id).first()
        if account is None:
            raise SyncScopeError(f"No AWS account {account_id} is configured.")
        if not account.enabled:
            raise SyncScopeError(f"AWS account {account_id} is disabled; enable it to sync it.")
        if region:
            if region not in account.regions:
                raise SyncScopeError(
                    f"Region {region} is not configured for account {account_id} "
                    f"(configured: {', '.join(account.regions)})."
                )
            return SyncScope(account_id, region), f"account {account.name} in {region}", []
        return SyncScope(account_id), f"account {account.name}", []
    return SyncScope(), "all accounts and regions", []


# -- running ----------------------------------------------------------------------------------------------------
def run_inventory_sync(run_id: int, *, inline: bool = False) -> None:
    """Plan the run's steps and start them (in process when ``inline``, else as Celery tasks)."""
    run = TaskRun.objects.filter(pk=run_id).first()
    if run is None or not run.is_active:
        return
    scope = SyncScope.from_json(run.scope)
    if scope.domain_arn:
        domain = Domain.objects.filter(arn=scope.domain_arn).first()
        if domain is None:
            runs.fail_run(run_id, "The domain is no longer in the inventory.")
        elif runs.plan(run_id, 1, f"Syncing {domain.name}"):
            _dispatch_members(run_id, [domain.pk], inline=inline)
        return
    targets = _account_regions(scope)
    if not targets:
        runs.fail_run(run_id, "No enabled AWS account is configured: add one on the Accounts page first.")
        return
    if not runs.plan(run_id, len(targets), f"Listing domains in {len(targets)} account region(s)"):
        return
    if inline:
        for account_pk, region in targets:
            with_retries(sync_account_region, run_id, account_pk, region, inline=True)
        return
    from celery import group

    from portal.celery import app

    # One task per account-region, all at once: the workers run them side by side, each paced by its own
    # (account, region) rate budget, so the busiest account-region, not their sum, bounds the run.
    group(app.signature(ACCOUNT_REGION_TASK, args=[run_id, account_pk, region]) for account_pk, region in targets)()


def _account_regions(scope: SyncScope) -> list[tuple[int, str]]:
    accounts = AwsAccount.objects.filter(enabled=True).order_by("account_id")
    if scope.account_id:
        accounts = accounts.filter(account_id=scope.account_id)
    return [(a.pk, r) for a in accounts for r in a.regions if scope.region is None or r == scope.region]


def step_name_account_region(account_id: str, region: str) -> str:
    return f"account {account_id} {region}"


def sync_account_region(
    run_id: int, account_pk: int, region: str, *, inline: bool = False, final_attempt: bool = True
) -> None:
    """List the domains of one account and region, describe the new and changed ones, upsert, go on to members.

    A retryable AWS error propagates unless this is the final attempt (the caller retries); any other failure,
    or a retryable one on the final attempt, is recorded on the run as this step's error. A failed listing marks
    nothing removed.
    """
    account = AwsAccount.objects.filter(pk=account_pk).first()
    if account is None:
        runs.finish_step(run_id, scope=f"account #{account_pk} {region}", error="The account was deleted.")
        return
    scope = step_name_account_region(account.account_id, region)
    live = None
    with runs.recorded_step(run_id, scope, final_attempt=final_attempt) as calls:
        live = _list_and_store_domains(run_id, account, region, scope, calls)
    if live is not None:
        _dispatch_members(run_id, live, inline=inline)


def _list_and_store_domains(
    run_id: int, account: AwsAccount, region: str, scope: str, calls: runs.StepCalls
) -> list[int] | None:
    """The account-region step proper; returns the live domains whose members come next (None: run is over)."""
    client = gateway().sagemaker(region=region, account=account.access)
    summaries = paginate(client, "list_domains", "Domains")
    foreign = [s["DomainArn"] for s in summaries if s["DomainArn"].split(":")[3:5] != [region, account.account_id]]
    if foreign:
        raise AccountMismatchError(
            f"The credentials for account {account.account_id} in {region} list domains of another account or "
            f"region ({foreign[0]}); check the account's role. Nothing was changed."
        )
    existing = list(Domain.objects.filter(account=account, region=region))
    stored = {d.arn: d for d in existing}
    answers: dict[str, dict[str, Any]] = {}
    for summary in summaries:
        known = stored.get(summary["DomainArn"])
        unchanged = (
            known is not None
            and not known.is_removed
            and known.aws_modified_at == summary.get("LastModifiedTime")
            and known.status == summary.get("Status")
        )
        if not unchanged:
            answers[summary["DomainArn"]] = client.describe_domain(DomainId=summary["DomainId"])
    tagger = ResourceTags(region=region, account=account.access, sagemaker=client)
    tags = tagger.fetch([a["DomainArn"] for a in answers.values()], "sagemaker:domain")
    described = {
        arn: {**_domain_values(answer, region, tags.get(answer["DomainArn"], {})), "account_id": account.pk}
        for arn, answer in answers.items()
    }

    now = timezone.now()
    with transaction.atomic():
        result = upsert_by_arn(
            Domain, existing, described=described, listed=[s["DomainArn"] for s in summaries], now=now, complete=True
        )
        removed = [d.pk for d in existing if d.removed_at == now]
        every = {d.arn: d for d in (*existing, *result.objects.values())}
        for arn in result.changed:
            resources_changed.send(sender=Domain, domain_pk=every[arn].pk, arns=[arn])
        if removed:
            domains_removed.send(sender=Domain, domain_pks=removed, at=now)
        live = [result.objects[s["DomainArn"]] for s in summaries if s["DomainArn"] in result.objects]
        run = runs.finish_step(
            run_id,
            scope=scope,
            counts={"domains": {**result.counts(), "aws_calls": sum(calls.made().values())}},
            calls=calls,
            message=f"Listed {len(summaries)} domain(s) in {account.account_id} {region}",
            new_steps=len(live),
            domain_arns=[d.arn for d in live],
            note=tagger.fallback_note(),
        )
    return [d.pk for d in live] if run.is_active else None


def refresh_domain(domain: Domain) -> Domain:
    """Read one domain from AWS again and store it (after the portal changed it), as the sync would."""
    client = gateway().sagemaker(region=domain.region, account=domain.account.access)
    values = call_with_retries(_describe_domain, client=client, region=domain.region, domain_id=domain.domain_id)
    values["account_id"] = domain.account_id
    with transaction.atomic():
        result = upsert_by_arn(
            Domain,
            Domain.objects.filter(arn=domain.arn),
            described={domain.arn: values},
            listed=[domain.arn],
            now=timezone.now(),
            complete=False,
        )
        resources_changed.send(sender=Domain, domain_pk=domain.pk, arns=[domain.arn])
    return result.objects[domain.arn]


def _describe_domain(client: Any, region: str, domain_id: str) -> dict[str, Any]:
    answer = client.describe_domain(DomainId=domain_id)
    return _domain_values(answer, region, list_all_tags(client, answer["DomainArn"]))


def _domain_values(answer: dict[str, Any], region: str, tags: dict[str, str]) -> dict[str, Any]:
    user_settings = answer.get("DefaultUserSettings", {})
    return {
        "region": region,
        "domain_id": answer["DomainId"],
        "name": answer.get("DomainName", ""),
        "status": answer.get("Status", ""),
        "auth_mode": answer.get("AuthMode", ""),
        "network_access_type": answer.get("AppNetworkAccessType", ""),
        "vpc_id": answer.get("VpcId", ""),
        "subnet_ids": answer.get("SubnetIds", []),
        "default_execution_role": user_settings.get("ExecutionRole", ""),
        "studio_experience": Domain.studio_experience_of(user_settings),
        "tag_propagation": answer.get("TagPropagation", ""),
        "url": answer.get("Url", ""),
        "settings_snapshot": jsonable(
            {k: v for k, v in answer.items() if k not in ("CreationTime", "LastModifiedTime", "Status")}
        ),
        "tags": tags,
        "aws_created_at": answer.get("CreationTime"),
        "aws_modified_at": answer.get("LastModifiedTime"),
    }


# -- members ----------------------------------------------------------------------------------------------------
def _dispatch_members(run_id: int, domain_pks: list[int], *, inline: bool) -> None:
    if inline:
        for pk in domain_pks:
            member_sync_requested.send(sender=Domain, run_id=run_id, domain_pk=pk)
        return
    task = registry.member_sync_task  # the profiles app's, registered from its ready()

    def send() -> None:
        from celery import group

        # The domains' member syncs in parallel across the workers; each closes its own step of the run.
        group(task.s(run_id, pk) for pk in domain_pks)()

    transaction.on_commit(send)


def claim_domain(run_id: int, domain_pk: int) -> int | None:
    """Claim a domain's member sync for this run. None when claimed; else the id of the run that holds it."""
    now = timezone.now()
    claimed = (
        Domain.objects.filter(pk=domain_pk)
        .filter(Q(sync_claimed_by__isnull=True) | Q(sync_claimed_at__lt=now - CLAIM_TTL) | Q(sync_claimed_by=run_id))
        .update(sync_claimed_by=run_id, sync_claimed_at=now)
    )
    if claimed:
        return None
    holder = Domain.objects.filter(pk=domain_pk).values_list("sync_claimed_by", flat=True).first()
    return holder or 0


def release_domain(run_id: int, domain_pk: int, *, completed: bool) -> None:
    values: dict[str, Any] = {"sync_claimed_by": None, "sync_claimed_at": None}
    if completed:
        values["members_synced_at"] = timezone.now()
    Domain.objects.filter(pk=domain_pk, sync_claimed_by=run_id).update(**values)
