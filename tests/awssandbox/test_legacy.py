"""Legacy SageMaker resources at scale: every attribution route of GOVERNANCE.md section 5 present, deterministic,
untagged before 2022-11-30, and discoverable the way a backfill discovers them, in process and over HTTP."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.sagemaker.models import sagemaker_backends

import awssandbox as sandbox
from awssandbox import legacy, organisation
from awssandbox.studio import studio_state
from portal.management.commands.sandbox import Command as SandboxCommand
from portal.sandboxing import demo_inputs
from tests.awssandbox.aws_clients import MODES, make_clients

TODAY = datetime(2026, 11, 24, tzinfo=UTC)
CUTOFF = datetime(2022, 11, 30, tzinfo=UTC)


def seeded(n: int = 300, seed: int = 5) -> dict[str, Any]:
    organisation.seed(demo_inputs(), TODAY.date(), with_costs=False)
    return legacy.seed(n, seed=seed, today=TODAY)


@pytest.fixture(params=MODES)
def client(request: pytest.FixtureRequest) -> Any:
    return make_clients(request)


@pytest.fixture
def world(client: Any) -> dict[str, Any]:
    """The demo organisation with 300 legacy resources; ``client`` reaches it in process or over HTTP."""
    return seeded()


def of(manifest: dict[str, Any], **wanted: Any) -> dict[str, dict[str, Any]]:
    return {
        arn: item
        for arn, item in manifest["resources"].items()
        if all(item[key] == value for key, value in wanted.items())
    }


def name_of(arn: str) -> str:
    return arn.split("/", 1)[1]


def test_every_attribution_rule_decides_some_resources_and_some_cannot_be_attributed() -> None:
    with sandbox.running():
        manifest = seeded()
    rules = Counter(item["rule"] for item in manifest["resources"].values())
    assert set(rules) == {*legacy.RULES, legacy.UNATTRIBUTED}
    assert all(count >= 5 for count in rules.values()), rules
    for item in manifest["resources"].values():
        assert (item["domain"] is None) == (item["rule"] == legacy.UNATTRIBUTED)
    domains = {item["domain"] for item in manifest["resources"].values() if item["domain"]}
    assert len(domains) == len(organisation.DOMAINS)


def test_the_counts_per_type_add_up_to_what_was_asked() -> None:
    with sandbox.running():
        manifest = seeded(300)
    types = legacy.summary(manifest)["types"]
    assert sum(types.values()) == manifest["count"] == len(manifest["resources"]) == 300
    assert set(types) == set(legacy.TYPES)
    with sandbox.running():
        assert seeded(0)["resources"] == {}
        assert legacy.seed(7, today=TODAY)["count"] == 7


def test_the_same_seed_gives_the_same_resources_and_manifest() -> None:
    with sandbox.running():
        first = seeded(seed=11)
        trained = sorted(sagemaker_backends["314159265358"]["us-east-1"].training_jobs)
    with sandbox.running():
        assert seeded(seed=11) == first
        assert sorted(sagemaker_backends["314159265358"]["us-east-1"].training_jobs) == trained
    with sandbox.running():  # ARNs do not depend on the day of seeding
        organisation.seed(demo_inputs(), TODAY.date(), with_costs=False)
        later = legacy.seed(300, seed=11, today=datetime(2027, 3, 1, tzinfo=UTC))
        assert set(later["resources"]) == set(first["resources"])
    with sandbox.running():
        assert set(seeded(seed=12)["resources"]) != set(first["resources"])


def test_it_refuses_without_the_demo_organisation_or_with_a_negative_count() -> None:
    with sandbox.running():
        with pytest.raises(ValueError, match="Seed the demo organisation first"):
            legacy.seed(10)
        organisation.seed(demo_inputs(), TODAY.date(), with_costs=False)
        with pytest.raises(ValueError, match="whole number of 0 or more"):
            legacy.seed(-1)


def test_resources_from_before_automatic_tagging_are_untagged_and_backdated(world: dict[str, Any], client: Any) -> None:
    for arn, item in world["resources"].items():
        created = datetime.fromisoformat(item["created"])
        assert (created < CUTOFF) == (item["rule"] != "domain-tag"), arn
    for rule in ("created-by", "execution-role", "lineage", "name-prefix", "s3-prefix", legacy.UNATTRIBUTED):
        arn, item = sorted(of(world, rule=rule).items())[0]
        sm = client("sagemaker", item["region"], item["account"])
        assert sm.list_tags(ResourceArn=arn)["Tags"] == [], arn
    job_arn, job = sorted(of(world, type="training-job", rule="execution-role").items())[0]
    described = client("sagemaker", job["region"], job["account"]).describe_training_job(
        TrainingJobName=name_of(job_arn)
    )
    assert described["CreationTime"] < CUTOFF
    assert described["LastModifiedTime"] == described["CreationTime"]
    assert described["TrainingStartTime"] < CUTOFF
    # Created from Studio after 2022-11-30: both Studio tags.
    studio_arn, studio = sorted(of(world, rule="domain-tag", type="model").items())[0]
    tags = {
        t["Key"]: t["Value"]
        for t in client("sagemaker", studio["region"], studio["account"]).list_tags(ResourceArn=studio_arn)["Tags"]
    }
    assert tags["sagemaker:domain-arn"] == studio["domain"]
    assert {"sagemaker:user-profile-arn", "sagemaker:space-arn"} & set(tags)


def test_created_by_is_on_describe_where_aws_has_it_and_nowhere_else(world: dict[str, Any], client: Any) -> None:
    describe = {
        "experiment": ("describe_experiment", "ExperimentName"),
        "experiment-trial": ("describe_trial", "TrialName"),
        "pipeline": ("describe_pipeline", "PipelineName"),
    }
    for kind, (operation, parameter) in describe.items():
        arn, item = sorted(of(world, rule="created-by", type=kind).items())[0]
        sm = client("sagemaker", item["region"], item["account"])
        answer = getattr(sm, operation)(**{parameter: name_of(arn)})
        domain_id = answer["CreatedBy"]["DomainId"]
        assert item["domain"].endswith(f"/{domain_id}")
        assert answer["CreatedBy"]["UserProfileArn"].startswith(item["domain"].replace(":domain/", ":user-profile/"))
    # A pipeline made outside Studio names no Studio user (moto invents one).
    arn, item = sorted(of(world, rule=legacy.UNATTRIBUTED, type="pipeline").items())[0]
    sm = client("sagemaker", item["region"], item["account"])
    assert "CreatedBy" not in sm.describe_pipeline(PipelineName=name_of(arn))


def test_profile_tags_and_execution_roles_point_at_one_domain(world: dict[str, Any], client: Any) -> None:
    arn, item = sorted(of(world, rule="profile-tag").items())[0]
    sm = client("sagemaker", item["region"], item["account"])
    tags = {t["Key"]: t["Value"] for t in sm.list_tags(ResourceArn=arn)["Tags"]}
    assert "sagemaker:domain-arn" not in tags
    domain_id = item["domain"].rsplit("/", 1)[1]
    assert (tags.get("sagemaker:user-profile-arn") or tags["sagemaker:space-arn"]).split("/")[1] == domain_id

    arn, item = sorted(of(world, rule="execution-role", type="training-job").items())[0]
    sm = client("sagemaker", item["region"], item["account"])
    role = sm.describe_training_job(TrainingJobName=name_of(arn))["RoleArn"]
    domain = sm.describe_domain(DomainId=item["domain"].rsplit("/", 1)[1])
    assert domain["DefaultUserSettings"]["ExecutionRole"] == role

    # The shared role: profiles of two domains in one account use it, so it decides nothing.
    shared = f"arn:aws:iam::314159265358:role/{legacy.SHARED_ROLE}"
    users = set()
    for key, profile in legacy.SHARED_ROLE_USERS:
        plan = next(p for p in organisation.DOMAINS if p.key == key)
        if plan.account_id != "314159265358":
            continue
        sm = client("sagemaker", plan.region, plan.account_id)
        domain_id = next(d["DomainId"] for d in sm.list_domains()["Domains"] if d["DomainName"] == plan.name)
        answer = sm.describe_user_profile(DomainId=domain_id, UserProfileName=profile)
        assert answer["UserSettings"]["ExecutionRole"] == shared
        users.add(domain_id)
    assert len(users) == 2
    iam = client("iam", "us-east-1", "314159265358")
    assert iam.get_role(RoleName=legacy.SHARED_ROLE)["Role"]["Arn"] == shared


def test_lineage_runs_from_the_endpoint_back_to_the_training_job(world: dict[str, Any], client: Any) -> None:
    arn, item = sorted(of(world, rule="lineage", type="endpoint").items())[0]
    sm = client("sagemaker", item["region"], item["account"])
    config = sm.describe_endpoint(EndpointName=name_of(arn))["EndpointConfigName"]
    model = sm.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"][0]["ModelName"]
    model_data = sm.describe_model(ModelName=model)["PrimaryContainer"]["ModelDataUrl"]
    jobs = [
        j
        for page in sm.get_paginator("list_training_jobs").paginate()
        for summary in page["TrainingJobSummaries"]
        if (j := sm.describe_training_job(TrainingJobName=summary["TrainingJobName"]))["ModelArtifacts"][
            "S3ModelArtifacts"
        ]
        == model_data
    ]
    assert len(jobs) == 1
    assert world["resources"][jobs[0]["TrainingJobArn"]]["domain"] == item["domain"]


def test_search_list_and_get_resources_discover_them(world: dict[str, Any], client: Any) -> None:
    account, region = "314159265358", "us-east-1"
    here = {
        arn: item for arn, item in world["resources"].items() if (item["account"], item["region"]) == (account, region)
    }
    sm = client("sagemaker", region, account)

    # Search: the untagged training jobs, 100 a page, as the backfill asks.
    untagged = [
        result["TrainingJob"]
        for page in sm.get_paginator("search").paginate(
            Resource="TrainingJob",
            SearchExpression={"Filters": [{"Name": "Tags.sagemaker:domain-arn", "Operator": "NotExists"}]},
            PaginationConfig={"PageSize": 100},
        )
        for result in page["Results"]
    ]
    expected = {arn for arn, i in here.items() if i["type"] == "training-job" and i["rule"] != "domain-tag"}
    assert {job["TrainingJobArn"] for job in untagged} >= expected  # the demo's own untagged jobs are there too
    assert all("RoleArn" in job and "CreationTime" in job for job in untagged)
    created_by = [
        r["Pipeline"]
        for page in sm.get_paginator("search").paginate(
            Resource="Pipeline",
            SearchExpression={"Filters": [{"Name": "CreatedBy.DomainId", "Operator": "Exists"}]},
        )
        for r in page["Results"]
    ]
    assert {p["PipelineArn"] for p in created_by} >= {
        arn for arn, i in here.items() if i["type"] == "pipeline" and i["rule"] in ("created-by", "domain-tag")
    }

    # List* with pagination: every legacy resource of each type comes back.
    listings = {
        "training-job": ("list_training_jobs", "TrainingJobSummaries", "TrainingJobArn"),
        "processing-job": ("list_processing_jobs", "ProcessingJobSummaries", "ProcessingJobArn"),
        "model": ("list_models", "Models", "ModelArn"),
        "endpoint-config": ("list_endpoint_configs", "EndpointConfigs", "EndpointConfigArn"),
        "endpoint": ("list_endpoints", "Endpoints", "EndpointArn"),
        "experiment": ("list_experiments", "ExperimentSummaries", "ExperimentArn"),
        "experiment-trial": ("list_trials", "TrialSummaries", "TrialArn"),
        "pipeline": ("list_pipelines", "PipelineSummaries", "PipelineArn"),
    }
    for kind, (operation, key, arn_key) in listings.items():
        pages = list(sm.get_paginator(operation).paginate(PaginationConfig={"PageSize": 7}))
        listed = [item[arn_key] for page in pages for item in page[key]]
        wanted = {arn for arn, i in here.items() if i["type"] == kind}
        assert wanted <= set(listed), kind
        assert len(listed) == len(set(listed)), kind
        if len(wanted) > 7:
            assert len(pages) > 1, kind

    # GetResources with ResourceARNList: only the tagged ones answer; an untagged ARN is absent.
    tagging = client("resourcegroupstaggingapi", region, account)
    arns = sorted(here)[:100]
    answer = tagging.get_resources(ResourceARNList=arns)["ResourceTagMappingList"]
    assert {r["ResourceARN"] for r in answer} == {
        arn for arn in arns if here[arn]["rule"] in ("domain-tag", "profile-tag")
    }


def test_list_models_pages_and_sorts_as_the_reference_says(world: dict[str, Any], client: Any) -> None:
    sm = client("sagemaker", "eu-west-1", "271828182845")
    first = sm.list_models()
    assert len(first["Models"]) == legacy.LIST_MODELS_DEFAULT_MAX_RESULTS and first["NextToken"]
    times = [m["CreationTime"] for m in first["Models"]]
    assert times == sorted(times, reverse=True)  # Descending by default
    ascending = sm.list_models(SortOrder="Ascending", SortBy="Name", MaxResults=100)["Models"]
    assert [m["ModelName"] for m in ascending] == sorted(m["ModelName"] for m in ascending)
    old = sm.list_models(CreationTimeBefore=CUTOFF, MaxResults=100)["Models"]
    assert old and all(m["CreationTime"] < CUTOFF for m in old)
    with pytest.raises(ClientError) as error:
        sm.list_models(SortBy="Size")
    assert error.value.response["Error"]["Code"] == "ValidationException"


def test_three_thousand_take_seconds_not_minutes() -> None:
    with sandbox.running():
        organisation.seed(demo_inputs(), TODAY.date(), with_costs=False)
        started = datetime.now(UTC)
        manifest = legacy.seed(3000, seed=1, today=TODAY)
        assert (datetime.now(UTC) - started).total_seconds() < 30
    assert manifest["count"] == 3000


def test_the_sandbox_command_writes_the_manifest_it_is_asked_for(tmp_path: Path) -> None:
    command = SandboxCommand()
    with sandbox.running():
        organisation.seed(demo_inputs(), TODAY.date(), with_costs=False)
        command._seed_legacy(40, tmp_path / "var" / "legacy-manifest.json")
        on_disk = json.loads((tmp_path / "var" / "legacy-manifest.json").read_text())
        assert on_disk["count"] == 40
        for arn, item in on_disk["resources"].items():
            assert studio_state(item["account"], item["region"]) is not None
            assert arn.startswith(f"arn:aws:sagemaker:{item['region']}:{item['account']}:")
