"""Discovery of the SageMaker resources that carry (or should carry) the domain tag, in every account and region of
the inventory, recorded once each as :class:`backfill.models.LegacyResource` and attributed at once.

A run (kind ``backfill_discovery``) has one step per enabled (account, region). A step reads:

- SageMaker ``Search`` (100 results a call, tags and ``CreatedBy`` included) for training jobs, endpoints,
  experiments, trials and pipelines;
- the List calls for models, processing jobs and endpoint configs, a Describe for each one not recorded yet (the
  role, S3 locations and what it was made from never change), and ``GetResources`` with up to 100 ARNs a call for
  their tags (it answers only tagged resources: an ARN missing from its answer has no tags).

Re-discovery is incremental: a resource already recorded is not described again, only rows whose facts changed are
written, and one no longer found is marked removed (and comes back if found again). Each step then attributes the
resources of its account and region (:mod:`backfill.attribution`). Throttling is botocore's to retry first; a step
that still fails on a retryable error is tried again whole (:func:`portal.aws.with_retries`, or the Celery retry).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from backfill import attribution
from backfill.models import DOMAIN_TAG, LegacyResource
from domains.models import AwsAccount, Domain
from domains.signals import resources_changed
from portal import runs
from portal.aws import gateway, paginate, with_retries
from portal.models import TaskRun
from portal.registry import RunKind

BACKFILL_DISCOVERY = RunKind("backfill_discovery", "Legacy resource discovery", url_prefix="backfill:run")
RUN_TASK = "backfill.run_discovery"
ACCOUNT_REGION_TASK = "backfill.discover_account_region"
GET_RESOURCES_BATCH = 100  # GetResources takes up to 100 ARNs in ResourceARNList
SEARCH_TYPES = ("TrainingJob", "Endpoint", "Experiment", "ExperimentTrial", "Pipeline")
LISTED_TYPES = ("model", "endpoint-config", "processing-job")
# Search's record name for each resource it searches.
_RECORD = {"ExperimentTrial": "Trial"}
FACT_FIELDS = (
    "resource_type",
    "name",
    "aws_created_at",
    "tags",
    "role_arn",
    "s3_uris",
    "created_by_domain_id",
    "upstream_arn",
)


@dataclass(frozen=True)
class DiscoveryScope:
    """Discovery covers every enabled account and region of the inventory."""

    def to_json(self) -> dict[str, Any]:
        return {}


def arn_type(arn: str) -> str:
    return arn.split(":", 5)[5].split("/", 1)[0]


# -- starting -------------------------------------------------------------------------------------------------------
def start_discovery(
    *,
    actor: AbstractBaseUser | None = None,
    trigger: str = TaskRun.Trigger.USER,
    inline: bool = False,
    enqueue: bool = True,
) -> tuple[TaskRun, bool]:
    """Start a discovery of every account and region, or join the one running; as
    :func:`domains.sync.start_inventory_sync` (``inline`` runs it here, ``enqueue`` hands it to the workers)."""
    run, created = runs.start_run(
        BACKFILL_DISCOVERY.kind, DiscoveryScope(), "all accounts and regions", trigger=trigger, actor=actor
    )
    if created:
        if inline:
            run_discovery(run.pk, inline=True)
            run.refresh_from_db()
        elif enqueue:
            from portal.celery import app

            transaction.on_commit(lambda: app.send_task(RUN_TASK, args=[run.pk]))
    return run, created


def run_discovery(run_id: int, *, inline: bool = False) -> None:
    run = TaskRun.objects.filter(pk=run_id).first()
    if run is None or not run.is_active:
        return
    targets = [
        (a.pk, region) for a in AwsAccount.objects.filter(enabled=True).order_by("account_id") for region in a.regions
    ]
    if not targets:
        runs.fail_run(run_id, "No enabled AWS account is configured: add one on the Accounts page first.")
        return
    if not runs.plan(run_id, len(targets), f"Discovering in {len(targets)} account region(s)"):
        return
    for account_pk, region in targets:
        if inline:
            with_retries(discover_account_region, run_id, account_pk, region)
        else:
            from portal.celery import app

            app.send_task(ACCOUNT_REGION_TASK, args=[run_id, account_pk, region])


def discover_account_region(run_id: int, account_pk: int, region: str, *, final_attempt: bool = True) -> None:
    account = AwsAccount.objects.filter(pk=account_pk).first()
    if account is None:
        runs.finish_step(run_id, scope=f"account #{account_pk} {region}", error="The account was deleted.")
        return
    scope = f"account {account.account_id} {region}"
    with runs.recorded_step(run_id, scope, final_attempt=final_attempt) as calls:
        known = {r.arn: r for r in LegacyResource.objects.filter(account_id=account.account_id, region=region)}
        facts = read_account_region(account, region, known)
        counts = store(account.account_id, region, facts, known, timezone.now())
        attribute_account_region(account.account_id, region)
        runs.finish_step(
            run_id,
            scope=scope,
            counts={"resources": counts},
            calls=calls,
            message=f"Found {len(facts)} resource(s) in {account.account_id} {region}",
        )


# -- reading --------------------------------------------------------------------------------------------------------
def _s3_of_training(record: dict[str, Any]) -> list[str]:
    uris = [(record.get("OutputDataConfig") or {}).get("S3OutputPath", "")]
    for channel in record.get("InputDataConfig") or []:
        uris.append(((channel.get("DataSource") or {}).get("S3DataSource") or {}).get("S3Uri", ""))
    return [u for u in uris if u]


def _tags(items: Iterable[dict[str, Any]] | None) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in items or []}


def read_account_region(
    account: AwsAccount, region: str, known: dict[str, LegacyResource]
) -> dict[str, dict[str, Any]]:
    """ARN -> facts of every resource discovery covers in this account and region."""
    sagemaker = gateway().sagemaker(region=region, account=account.access)
    tagging = gateway().client("resourcegroupstaggingapi", region=region, account=account.access)
    facts: dict[str, dict[str, Any]] = {}
    searched = {kind: paginate(sagemaker, "search", "Results", Resource=kind) for kind in SEARCH_TYPES}
    artifacts: dict[str, str] = {}  # S3ModelArtifacts -> training job ARN, for a model's lineage
    for result in searched["TrainingJob"]:
        job = result.get("TrainingJob") or {}
        artifact = (job.get("ModelArtifacts") or {}).get("S3ModelArtifacts")
        if artifact:
            artifacts[artifact] = job["TrainingJobArn"]
        facts[job["TrainingJobArn"]] = {
            "name": job["TrainingJobName"],
            "aws_created_at": job.get("CreationTime"),
            "tags": _tags(job.get("Tags")),
            "role_arn": job.get("RoleArn", ""),
            "s3_uris": _s3_of_training(job),
        }
    # Models: listed, described once (role, model data), tagged from GetResources.
    models = paginate(sagemaker, "list_models", "Models")
    model_arns = {m["ModelName"]: m["ModelArn"] for m in models}
    for summary in models:
        arn = summary["ModelArn"]
        row = known.get(arn)
        if row is not None:
            role, s3 = row.role_arn, row.s3_uris
        else:
            described = sagemaker.describe_model(ModelName=summary["ModelName"])
            containers = [described.get("PrimaryContainer") or {}, *(described.get("Containers") or [])]
            role = described.get("ExecutionRoleArn", "")
            s3 = [c["ModelDataUrl"] for c in containers if c.get("ModelDataUrl")]
        facts[arn] = {
            "name": summary["ModelName"],
            "aws_created_at": summary.get("CreationTime"),
            "role_arn": role,
            "s3_uris": list(s3),
            "upstream_arn": next((artifacts[u] for u in s3 if u in artifacts), ""),
        }
    configs = paginate(sagemaker, "list_endpoint_configs", "EndpointConfigs")
    config_arns = {c["EndpointConfigName"]: c["EndpointConfigArn"] for c in configs}
    for summary in configs:
        arn = summary["EndpointConfigArn"]
        row = known.get(arn)
        if row is not None:
            upstream = row.upstream_arn
        else:
            described = sagemaker.describe_endpoint_config(EndpointConfigName=summary["EndpointConfigName"])
            names = [v.get("ModelName") for v in described.get("ProductionVariants") or [] if v.get("ModelName")]
            upstream = next((model_arns[n] for n in names if n in model_arns), "")
        facts[arn] = {
            "name": summary["EndpointConfigName"],
            "aws_created_at": summary.get("CreationTime"),
            "upstream_arn": upstream,
        }
    for summary in paginate(sagemaker, "list_processing_jobs", "ProcessingJobSummaries"):
        arn = summary["ProcessingJobArn"]
        row = known.get(arn)
        if row is not None:
            role, s3 = row.role_arn, row.s3_uris
        else:
            described = sagemaker.describe_processing_job(ProcessingJobName=summary["ProcessingJobName"])
            role = described.get("RoleArn", "")
            outputs = (described.get("ProcessingOutputConfig") or {}).get("Outputs") or []
            s3 = [(o.get("S3Output") or {}).get("S3Uri", "") for o in outputs]
            s3 += [(i.get("S3Input") or {}).get("S3Uri", "") for i in described.get("ProcessingInputs") or []]
            s3 = [u for u in s3 if u]
        facts[arn] = {
            "name": summary["ProcessingJobName"],
            "aws_created_at": summary.get("CreationTime"),
            "role_arn": role,
            "s3_uris": list(s3),
        }
    listed = [arn for arn in facts if arn_type(arn) in LISTED_TYPES]
    for start in range(0, len(listed), GET_RESOURCES_BATCH):
        answer = tagging.get_resources(ResourceARNList=listed[start : start + GET_RESOURCES_BATCH])
        for item in answer.get("ResourceTagMappingList", []):
            if item["ResourceARN"] in facts:
                facts[item["ResourceARN"]]["tags"] = _tags(item.get("Tags"))
    for result in searched["Endpoint"]:
        endpoint = result.get("Endpoint") or {}
        facts[endpoint["EndpointArn"]] = {
            "name": endpoint["EndpointName"],
            "aws_created_at": endpoint.get("CreationTime"),
            "tags": _tags(endpoint.get("Tags")),
            "upstream_arn": config_arns.get(endpoint.get("EndpointConfigName", ""), ""),
        }
    for kind, name_key, arn_key in (
        ("Experiment", "ExperimentName", "ExperimentArn"),
        ("ExperimentTrial", "TrialName", "TrialArn"),
        ("Pipeline", "PipelineName", "PipelineArn"),
    ):
        for result in searched[kind]:
            record = result.get(_RECORD.get(kind, kind)) or {}
            facts[record[arn_key]] = {
                "name": record[name_key],
                "aws_created_at": record.get("CreationTime"),
                "tags": _tags(record.get("Tags")),
                "role_arn": record.get("RoleArn", ""),
                "created_by_domain_id": (record.get("CreatedBy") or {}).get("DomainId", ""),
            }
    for arn, item in facts.items():
        item["resource_type"] = arn_type(arn)
        for name, empty in (
            ("tags", {}),
            ("role_arn", ""),
            ("s3_uris", []),
            ("created_by_domain_id", ""),
            ("upstream_arn", ""),
        ):
            item.setdefault(name, empty)
    return facts


# -- storing --------------------------------------------------------------------------------------------------------
def _same(row: LegacyResource, name: str, value: Any) -> bool:
    current = getattr(row, name)
    if isinstance(current, datetime) and isinstance(value, datetime):
        return abs((current - value).total_seconds()) < 1
    return current == value


def store(
    account_id: str,
    region: str,
    facts: dict[str, dict[str, Any]],
    known: dict[str, LegacyResource],
    now: datetime,
) -> dict[str, int]:
    """Write what changed; the counts (created, updated, removed, unchanged)."""
    created: list[LegacyResource] = []
    updated: list[LegacyResource] = []
    unchanged = 0
    for arn, item in facts.items():
        row = known.get(arn)
        if row is None:
            row = LegacyResource(arn=arn, account_id=account_id, region=region, first_seen=now, last_seen=now, **item)
            row.coverage = row.coverage_of()
            created.append(row)
            continue
        changed = [name for name in FACT_FIELDS if not _same(row, name, item[name])]
        if changed or row.removed_at is not None:
            if DOMAIN_TAG not in (row.tags or {}) and DOMAIN_TAG in (item["tags"] or {}):
                row.found_tagged_at = now  # tagged outside a plan (a plan records the tags it wrote)
            for name in changed:
                setattr(row, name, item[name])
            row.removed_at, row.last_seen = None, now
            row.coverage = row.coverage_of()
            updated.append(row)
        else:
            unchanged += 1
    gone = [row for arn, row in known.items() if arn not in facts and row.removed_at is None]
    for row in gone:
        row.removed_at = now
    with transaction.atomic():
        LegacyResource.objects.bulk_create(created, batch_size=500)
        LegacyResource.objects.bulk_update(
            updated, [*FACT_FIELDS, "removed_at", "last_seen", "coverage", "found_tagged_at"], batch_size=500
        )
        LegacyResource.objects.bulk_update(gone, ["removed_at"], batch_size=500)
        rewritten = {row.pk for row in updated}
        seen = [known[arn].pk for arn in facts if arn in known and known[arn].pk not in rewritten]
        LegacyResource.objects.filter(pk__in=seen).update(last_seen=now)
    return {"created": len(created), "updated": len(updated), "removed": len(gone), "unchanged": unchanged}


ATTRIBUTION_FIELDS = ["domain", "domain_arn", "rule", "evidence", "why_unattributed", "attribution_rule", "coverage"]


def attribute_rows(rows: list[LegacyResource], context: attribution.Context) -> int:
    """Decide every row (lineage followed among them) and write the changed ones; how many changed."""
    attributor = attribution.Attributor(rows, context)
    before = {row.pk: row.domain_arn for row in rows}
    changed = [row for row in rows if attribution.apply(row, attributor.decide(row), context)]
    LegacyResource.objects.bulk_update(changed, ATTRIBUTION_FIELDS, batch_size=500)
    touched = {row.domain_arn for row in changed} | {before[row.pk] for row in changed}
    coverage_changed([arn for arn in touched if arn])
    return len(changed)


def coverage_changed(domain_arns: list[str]) -> None:
    """Tell the governance engine (through the inventory's signal) that these domains' coverage moved, so that
    TG-02 is evaluated again for them."""
    for domain in Domain.objects.filter(arn__in=domain_arns, removed_at__isnull=True):
        transaction.on_commit(
            lambda pk=domain.pk, arn=domain.arn: resources_changed.send(sender=Domain, domain_pk=pk, arns=[arn])
        )


def attribute_account_region(account_id: str, region: str) -> int:
    rows = list(LegacyResource.objects.filter(account_id=account_id, region=region, removed_at__isnull=True))
    return attribute_rows(rows, attribution.Context.load())


def attribute_all() -> int:
    """Attribute every live resource again (after an admin's rule changed): one pass per account and region, since
    lineage never crosses them."""
    context = attribution.Context.load()
    rows = list(LegacyResource.objects.filter(removed_at__isnull=True).order_by("account_id", "region", "pk"))
    return attribute_rows(rows, context)
