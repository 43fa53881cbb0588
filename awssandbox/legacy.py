"""Legacy SageMaker resources at scale: what a tag backfill finds in accounts that ran SageMaker before Studio tagged.

:func:`seed` writes ``n`` training jobs, processing jobs, models, endpoint configs, endpoints, experiments, trials
and pipelines into moto's SageMaker backends of the demo organisation's accounts and regions, deterministically
(a seeded ``random.Random``; the same ``seed`` gives the same ARNs). Each resource takes one attribution route of
GOVERNANCE.md section 5, drawn with these weights (:data:`ROUTE_WEIGHTS`):

====================  ======  ==========================================================================
route                 weight  what the resource carries
====================  ======  ==========================================================================
``studio``              24    created from Studio after 2022-11-30: ``sagemaker:domain-arn`` plus
                              ``sagemaker:user-profile-arn`` (or ``space-arn``); ``CreatedBy`` on
                              experiments, trials and pipelines (the types whose Describe has it)
``created-by``          12    before 2022-11-30, untagged experiment, trial or pipeline with ``CreatedBy``
``profile-tag``         12    before, a ``user-profile-arn`` or ``space-arn`` tag but no ``domain-arn``
``execution-role``      14    before, untagged, ``RoleArn`` is the execution role of exactly one domain
``lineage``              6    before, untagged: training job (domain's role) -> model (ModelDataUrl is
                              the job's artifact, shared role) -> endpoint config -> endpoint
``name-prefix``         10    before, untagged, shared or unused role, name starts with the domain's
                              prefix (:data:`NAME_PREFIXES`)
``s3-prefix``            7    before, untagged, neutral name, output under the domain's bucket
                              (:data:`S3_PREFIXES`)
``unattributed``        15    before, untagged, a role shared by two domains or used by none, neutral
                              SDK-style name and bucket, no lineage to anything attributed
====================  ======  ==========================================================================

Each draw picks a route by weight and a domain at random. A lineage draw writes a chain of 2 to 4 resources (its
training job is decided by the role), and an endpoint config or endpoint may first need an unattributed model or
config to point at, so the realised shares differ from the weights: with 3,000 resources about 21 % domain-tag,
11 % created-by, 10 % profile-tag, 18 % execution-role, 11 % lineage, 10 % name-prefix, 6 % s3-prefix and
14 % unattributed (``python benchmarks/legacy_seed.py`` prints them).

Every pre-2022-11-30 resource has its ``CreationTime`` (and ``LastModifiedTime`` and the job times) backdated in
moto's objects.

The truth is the manifest that :func:`seed` returns (never stored where the portal could read it): for each ARN its
expected domain ARN (or None) and the rule that decides it, computed by :func:`attribute` from what the resources
carry, with the rules in GOVERNANCE.md's order (``domain-tag`` first: such a resource needs no backfill).

To make the rules decidable, seeding also names one execution role per account that two domains use
(:data:`SHARED_ROLE`, set on one profile in each of them) and one that no domain uses (:data:`UNUSED_ROLE`), both
created in IAM.

moto 5.2.5 gaps patched here (:func:`install`), each only where botocore's model says AWS answers it:

- DescribeExperiment, DescribeTrial and DescribePipeline return ``CreatedBy`` (shape ``UserContext``, in their
  output shapes) from the sandbox's record of Studio work (:func:`awssandbox.tagging.created_by_registry`);
  moto answers none for the first two and an invented ``fake-domain-id`` user for every pipeline. A resource not
  created from Studio answers without ``CreatedBy`` (ASSUMED: the API reference does not say what a resource
  created outside Studio answers; omitting it is what a backfill must handle anyway). ``LastModifiedBy`` follows.
- ListModels pages (``MaxResults`` 1-100, ``NextToken``) and honours ``SortBy``/``SortOrder`` (defaults
  ``CreationTime``/``Descending``, from the API reference text in botocore's model), ``NameContains`` and the
  ``CreationTime`` filters; moto returns every model at once. The default page size is ASSUMED (10, as other
  SageMaker lists), the reference gives none.
- An endpoint config's ``arn`` in moto is a one-element tuple, which breaks the Tagging API's answers; it is set to
  the ARN string.
"""

from __future__ import annotations

import base64
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.core.responses import ActionResult
from moto.sagemaker.exceptions import AWSValidationException
from moto.sagemaker.models import FakeEndpointConfig, sagemaker_backends
from moto.sagemaker.responses import SageMakerResponse

from awssandbox import iam
from awssandbox.iamseed import SAGEMAKER_TRUST
from awssandbox.organisation import DOMAINS, DomainPlan, execution_role
from awssandbox.studio import studio_state
from awssandbox.tagging import created_by_registry

TAGGING_START = datetime(2022, 11, 30)  # Studio tags what it creates from this day on (GOVERNANCE.md section 5)
EARLIEST = datetime(2020, 1, 6)  # the oldest legacy resource
DOMAIN_TAG = "sagemaker:domain-arn"
PROFILE_TAG = "sagemaker:user-profile-arn"
SPACE_TAG = "sagemaker:space-arn"

ROUTE_WEIGHTS: dict[str, int] = {
    "studio": 24,
    "created-by": 12,
    "profile-tag": 12,
    "execution-role": 14,
    "lineage": 6,
    "name-prefix": 10,
    "s3-prefix": 7,
    "unattributed": 15,
}
# The rules in the order that decides (GOVERNANCE.md section 5), and what the manifest calls them.
RULES = ("domain-tag", "created-by", "profile-tag", "execution-role", "lineage", "name-prefix", "s3-prefix")
UNATTRIBUTED = "unattributed"
TYPES = (
    "training-job",
    "processing-job",
    "model",
    "endpoint-config",
    "endpoint",
    "experiment",
    "experiment-trial",
    "pipeline",
)
ROUTE_TYPES: dict[str, tuple[str, ...]] = {
    "studio": TYPES,
    "created-by": ("experiment", "experiment-trial", "pipeline"),
    "profile-tag": ("training-job", "processing-job", "model", "experiment", "pipeline"),
    "execution-role": ("training-job", "processing-job", "model", "pipeline"),
    "name-prefix": ("training-job", "processing-job", "model", "endpoint-config", "endpoint", "experiment", "pipeline"),
    "s3-prefix": ("training-job", "processing-job", "model"),
    "unattributed": TYPES,
}
# The admin's rules the backfill is expected to be given: a name prefix and an S3 prefix per domain.
NAME_PREFIXES = {"risk": "risk-", "fraud": "fraud-", "research": "research-", "legacy": "forecast-", "quick": "qs-"}
S3_PREFIXES = {plan.key: f"s3://{plan.name}-artifacts/" for plan in DOMAINS}
SHARED_ROLE = "SageMakerSharedExecution"
UNUSED_ROLE = "MLBatchJobs"
# (domain key, profile) that use the shared role: two domains per account.
SHARED_ROLE_USERS = (
    ("risk", "lucas-silva"),
    ("quick", "omar-farouk"),
    ("research", "ahmed-khan"),
    ("legacy", "anna-kowalska"),
)
ALGORITHMS = ("xgboost", "pytorch-training", "sklearn", "huggingface-pytorch", "tensorflow-training", "blazingtext")
WORDS = ("churn", "scoring", "features", "baseline", "retrain", "eval", "embeddings", "ranker", "drift", "backtest")
IMAGE = "683313688378.dkr.ecr.{region}.amazonaws.com/sagemaker-xgboost:1.5-1"
INSTANCES = ("ml.m5.xlarge", "ml.m5.2xlarge", "ml.c5.xlarge", "ml.g4dn.xlarge", "ml.p3.2xlarge")


@dataclass
class _Facts:
    """What one legacy resource carries that attribution reads (as the backfill will discover it)."""

    arn: str
    kind: str
    account: str
    region: str
    name: str
    created: datetime
    tags: dict[str, str]
    role: str | None = None
    created_by_domain: str | None = None
    s3: str | None = None
    upstream: str | None = None  # the ARN lineage follows (model <- job, config <- model, endpoint <- config)
    route: str = ""


@dataclass
class _World:
    rng: random.Random
    n: int
    facts: dict[str, _Facts] = field(default_factory=dict)
    seq: int = 0
    models: dict[tuple[str, str], list[tuple[str, str | None]]] = field(default_factory=dict)  # (name, domain key)
    configs: dict[tuple[str, str], list[tuple[str, str | None]]] = field(default_factory=dict)
    experiments: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # domain key -> (name, route)
    artifacts: dict[str, str] = field(default_factory=dict)  # S3ModelArtifacts -> training job ARN
    job_artifacts: dict[str, str] = field(default_factory=dict)  # training job ARN -> S3ModelArtifacts

    @property
    def full(self) -> bool:
        return len(self.facts) >= self.n


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


class _Domain:
    """One demo domain as legacy seeding needs it: where it lives, its ARN, role, profiles and spaces."""

    def __init__(self, plan: DomainPlan) -> None:
        state = studio_state(plan.account_id, plan.region)
        domain = next((d for d in state.domains.values() if d.name == plan.name), None)
        if domain is None:
            raise ValueError(f"Seed the demo organisation first: domain {plan.name} is not in the sandbox.")
        self.plan = plan
        self.key = plan.key
        self.account = plan.account_id
        self.region = plan.region
        self.arn = domain.arn
        self.domain_id = domain.domain_id
        self.role = plan.user_settings["ExecutionRole"]
        self.profiles = sorted(p.name for p in state.profiles.values() if p.domain_id == domain.domain_id)
        self.profile_arns = {p.name: p.arn for p in state.profiles.values() if p.domain_id == domain.domain_id}
        self.space_arns = sorted(s.arn for s in state.spaces.values() if s.domain_id == domain.domain_id)


def seed(n: int, *, seed: int = 20221130, today: datetime | None = None) -> dict[str, Any]:
    """Write ``n`` legacy resources into the sandbox (the demo organisation must be seeded); return the manifest:

    ``{"seed": int, "count": n, "tagging_start": "2022-11-30", "name_prefixes": {...}, "s3_prefixes": {...},
    "resources": {arn: {"type", "account", "region", "name", "created", "tagged", "domain", "rule"}}}``

    where ``domain`` is the expected domain ARN or None and ``rule`` the first rule that decides (:data:`RULES`) or
    ``"unattributed"``."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"The number of legacy resources must be a whole number of 0 or more, not {n!r}.")
    install()
    domains = [_Domain(plan) for plan in DOMAINS]
    _share_roles(domains)
    world = _World(rng=random.Random(seed), n=n)
    end = _naive(today or datetime.now(UTC)) - timedelta(days=1)
    routes, weights = zip(*ROUTE_WEIGHTS.items(), strict=True)
    while not world.full:
        route = world.rng.choices(routes, weights)[0]
        domain = world.rng.choice(domains)
        if route == "lineage":
            _lineage_chain(world, domain)
            continue
        kind = world.rng.choice(ROUTE_TYPES[route])
        if route == "studio":
            created = _between(
                world.rng, TAGGING_START + timedelta(days=1), max(end, TAGGING_START + timedelta(days=2))
            )
        else:
            created = _between(world.rng, EARLIEST, TAGGING_START - timedelta(days=1))
        _create(world, domain, route, kind, created)
    resources = {}
    memo: dict[str, tuple[str | None, str]] = {}
    role_users = _role_users(domains)
    by_id = {(d.account, d.region, d.domain_id): d.arn for d in domains}
    for arn, facts in world.facts.items():
        domain_arn, rule = attribute(facts, world.facts, role_users, by_id, domains, memo)
        resources[arn] = {
            "type": facts.kind,
            "account": facts.account,
            "region": facts.region,
            "name": facts.name,
            "created": facts.created.replace(tzinfo=UTC).isoformat(),
            "tagged": bool(facts.tags),
            "domain": domain_arn,
            "rule": rule,
        }
    return {
        "seed": seed,
        "count": len(resources),
        "tagging_start": TAGGING_START.date().isoformat(),
        "name_prefixes": {d.arn: NAME_PREFIXES[d.key] for d in domains},
        "s3_prefixes": {d.arn: S3_PREFIXES[d.key] for d in domains},
        "resources": resources,
    }


def summary(manifest: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Counts of a manifest by type and by rule."""
    by_type: dict[str, int] = {}
    by_rule: dict[str, int] = {}
    for item in manifest["resources"].values():
        by_type[item["type"]] = by_type.get(item["type"], 0) + 1
        by_rule[item["rule"]] = by_rule.get(item["rule"], 0) + 1
    return {"types": dict(sorted(by_type.items())), "rules": dict(sorted(by_rule.items()))}


# -- attribution: the rules of GOVERNANCE.md section 5, first that decides ---------------------------------------
def _role_users(domains: list[_Domain]) -> dict[str, set[str]]:
    """Execution role ARN -> ARNs of the domains that use it (domain default, profiles, spaces), as Studio shows."""
    users: dict[str, set[str]] = {}
    for domain in domains:
        state = studio_state(domain.account, domain.region)
        record = state.domains[domain.domain_id]
        roles = [record.default_user_settings.get("ExecutionRole")]
        roles.append((record.default_space_settings or {}).get("ExecutionRole"))
        roles += [
            p.user_settings.get("ExecutionRole") for p in state.profiles.values() if p.domain_id == domain.domain_id
        ]
        for role in roles:
            if role:
                users.setdefault(role, set()).add(domain.arn)
    return users


def attribute(
    facts: _Facts,
    everything: dict[str, _Facts],
    role_users: dict[str, set[str]],
    by_id: dict[tuple[str, str, str], str],
    domains: list[_Domain],
    memo: dict[str, tuple[str | None, str]],
) -> tuple[str | None, str]:
    """(domain ARN or None, the rule that decided) for one resource."""
    if facts.arn in memo:
        return memo[facts.arn]
    answer: tuple[str | None, str] = (None, UNATTRIBUTED)
    here = [d for d in domains if (d.account, d.region) == (facts.account, facts.region)]
    if DOMAIN_TAG in facts.tags:
        answer = (facts.tags[DOMAIN_TAG], "domain-tag")
    elif facts.created_by_domain and (facts.account, facts.region, facts.created_by_domain) in by_id:
        answer = (by_id[(facts.account, facts.region, facts.created_by_domain)], "created-by")
    elif PROFILE_TAG in facts.tags or SPACE_TAG in facts.tags:
        tagged = facts.tags.get(PROFILE_TAG) or facts.tags[SPACE_TAG]
        domain_id = tagged.split(":", 5)[5].split("/")[1]
        answer = (by_id.get((facts.account, facts.region, domain_id)), "profile-tag")
    elif facts.role and len(role_users.get(facts.role, ())) == 1:
        answer = (next(iter(role_users[facts.role])), "execution-role")
    if answer[1] == UNATTRIBUTED and facts.upstream and facts.upstream in everything:
        upstream = attribute(everything[facts.upstream], everything, role_users, by_id, domains, memo)[0]
        if upstream:
            answer = (upstream, "lineage")
    if answer[1] == UNATTRIBUTED:
        for domain in here:
            if facts.name.startswith(NAME_PREFIXES[domain.key]):
                answer = (domain.arn, "name-prefix")
                break
    if answer[1] == UNATTRIBUTED and facts.s3:
        for domain in here:
            if facts.s3.startswith(S3_PREFIXES[domain.key]):
                answer = (domain.arn, "s3-prefix")
                break
    memo[facts.arn] = answer
    return answer


# -- generation --------------------------------------------------------------------------------------------------
def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    # One draw whatever the span, so that the rest of the sequence does not depend on the day of seeding.
    return start + timedelta(seconds=int(max((end - start).total_seconds(), 0) * rng.random()))


def _share_roles(domains: list[_Domain]) -> None:
    """One role per account that two domains use (so it decides nothing), one that none uses; both exist in IAM."""
    by_key = {d.key: d for d in domains}
    for key, profile in SHARED_ROLE_USERS:
        domain = by_key[key]
        state = studio_state(domain.account, domain.region)
        with state.lock:  # a setting of long ago: no Updating status now
            state.profile(domain.domain_id, profile).user_settings["ExecutionRole"] = execution_role(
                domain.account, SHARED_ROLE
            )
    for account in sorted({d.account for d in domains}):
        backend = iam.backend(account)
        for name, description in ((SHARED_ROLE, "Shared by two teams"), (UNUSED_ROLE, "Batch jobs of the ML platform")):
            if name not in {role.name for role in backend.roles.values()}:
                backend.create_role(name, SAGEMAKER_TRUST, "/", None, description, [], None)


def _next(world: _World) -> int:
    world.seq += 1
    return world.seq


def _name(world: _World, domain: _Domain, route: str, created: datetime) -> str:
    number = _next(world)
    if route == "name-prefix" or (route == "studio" and world.rng.random() < 0.5):
        return f"{NAME_PREFIXES[domain.key]}{world.rng.choice(WORDS)}-{number:05d}"
    if route == "studio":  # no date in the name, so that ARNs do not depend on the day of seeding
        return f"{world.rng.choice(ALGORITHMS)}-{world.rng.choice(WORDS)}-{number:05d}"
    return f"{world.rng.choice(ALGORITHMS)}-{created:%Y-%m-%d-%H-%M-%S}-{number:05d}"


def _role(world: _World, domain: _Domain, route: str) -> str:
    if route in ("studio", "execution-role"):
        return domain.role
    return execution_role(domain.account, world.rng.choice((SHARED_ROLE, UNUSED_ROLE)))


def _bucket(world: _World, domain: _Domain, route: str) -> str:
    if route in ("studio", "s3-prefix"):
        return S3_PREFIXES[domain.key]
    return f"s3://sagemaker-{domain.region}-{domain.account}/"


def _tags(world: _World, domain: _Domain, route: str) -> dict[str, str]:
    if route not in ("studio", "profile-tag"):
        return {}
    tags: dict[str, str] = {}
    if route == "studio":
        tags[DOMAIN_TAG] = domain.arn
    if domain.space_arns and world.rng.random() < 0.3:
        tags[SPACE_TAG] = world.rng.choice(domain.space_arns)
    else:
        tags[PROFILE_TAG] = domain.profile_arns[world.rng.choice(domain.profiles)]
    return tags


def _backdate(obj: Any, created: datetime) -> None:
    for attribute_name in ("creation_time", "last_modified_time", "training_start_time", "processing_end_time"):
        if hasattr(obj, attribute_name):
            setattr(obj, attribute_name, created)
    if hasattr(obj, "training_end_time"):
        obj.training_end_time = created + timedelta(minutes=42)
        for transition in obj.secondary_status_transitions:
            transition["StartTime"] = transition["EndTime"] = created
        for metric in obj.final_metric_data_list:
            metric["Timestamp"] = created


def _record(world: _World, facts: _Facts) -> None:
    world.facts[facts.arn] = facts


def _create(world: _World, domain: _Domain, route: str, kind: str, created: datetime, **extra: Any) -> _Facts | None:
    """Create one resource of ``kind`` on ``route``; None when there is no room left."""
    if world.full:
        return None
    backend = sagemaker_backends[domain.account][domain.region]
    tags = _tags(world, domain, route)
    tag_list = [{"Key": k, "Value": v} for k, v in tags.items()]
    role = extra.get("role") or _role(world, domain, route)
    bucket = _bucket(world, domain, route)
    name = extra.get("name") or _name(world, domain, route, created)
    facts = _Facts("", kind, domain.account, domain.region, name, created, tags, route=route)
    if kind == "training-job":
        output = f"{bucket}{name}/"
        obj = backend.create_training_job(
            training_job_name=name,
            hyper_parameters={"epochs": str(world.rng.randint(5, 50))},
            algorithm_specification={"TrainingImage": IMAGE.format(region=domain.region), "TrainingInputMode": "File"},
            role_arn=role,
            input_data_config=[],
            output_data_config={"S3OutputPath": output},
            resource_config={"InstanceType": world.rng.choice(INSTANCES), "InstanceCount": 1, "VolumeSizeInGB": 30},
            vpc_config={},
            stopping_condition={"MaxRuntimeInSeconds": 86400},
            tags=tag_list,
            enable_network_isolation=False,
            enable_inter_container_traffic_encryption=False,
            enable_managed_spot_training=False,
            checkpoint_config={},
            debug_hook_config={},
            debug_rule_configurations=[],
            tensor_board_output_config={},
            experiment_config={},
        )
        facts.role, facts.s3 = role, output
        world.artifacts[obj.model_artifacts["S3ModelArtifacts"]] = obj.arn
        world.job_artifacts[obj.arn] = obj.model_artifacts["S3ModelArtifacts"]
    elif kind == "processing-job":
        output = f"{bucket}{name}/output"
        obj = backend.create_processing_job(
            app_specification={"ImageUri": IMAGE.format(region=domain.region)},
            experiment_config={},
            network_config={},
            processing_inputs=[],
            processing_job_name=name,
            processing_output_config={
                "Outputs": [
                    {
                        "OutputName": "output",
                        "S3Output": {
                            "S3Uri": output,
                            "LocalPath": "/opt/ml/processing/output",
                            "S3UploadMode": "EndOfJob",
                        },
                    }
                ]
            },
            role_arn=role,
            tags=tag_list,
            stopping_condition={"MaxRuntimeInSeconds": 3600},
        )
        facts.role, facts.s3 = role, output
    elif kind == "model":
        model_data = extra.get("model_data") or f"{bucket}{name}/model.tar.gz"
        obj = backend.create_model(
            model_name=name,
            execution_role_arn=role,
            primary_container={"Image": IMAGE.format(region=domain.region), "ModelDataUrl": model_data},
            vpc_config=None,
            containers=None,
            tags=tag_list,
        )
        facts.role, facts.s3 = role, model_data
        facts.upstream = world.artifacts.get(model_data)
        owner = None if route == "unattributed" else domain.key  # what an endpoint config may point at
        world.models.setdefault((domain.account, domain.region), []).append((name, owner))
    elif kind == "endpoint-config":
        model = extra.get("model") or _pick(world, domain, route, "model", created)
        if model is None or world.full:
            return None
        obj = backend.create_endpoint_config(
            endpoint_config_name=name,
            production_variants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": model,
                    "InitialInstanceCount": 1,
                    "InstanceType": "ml.m5.large",
                    "InitialVariantWeight": 1.0,
                }
            ],
            data_capture_config={},
            async_inference_config={},
            tags=tag_list,
            kms_key_id="",
        )
        facts.upstream = backend._models[model].arn
        owner = None if route == "unattributed" else domain.key
        world.configs.setdefault((domain.account, domain.region), []).append((name, owner))
    elif kind == "endpoint":
        config = extra.get("config") or _pick(world, domain, route, "endpoint-config", created)
        if config is None or world.full:
            return None
        obj = backend.create_endpoint(endpoint_name=name, endpoint_config_name=config, tags=tag_list)
        facts.upstream = backend.endpoint_configs[config].endpoint_config_arn
    elif kind == "experiment":
        backend.create_experiment(name)
        obj = backend.experiments[name]
        obj.tags = tag_list
        world.experiments.setdefault(domain.key, []).append((name, route))
    elif kind == "experiment-trial":
        experiments = world.experiments.get(domain.key) or []
        if not experiments:
            # A trial belongs to an experiment: the domain's first experiment comes first, on the same route.
            return _create(world, domain, route, "experiment", created)
        backend.create_trial(name, world.rng.choice(experiments)[0])
        obj = backend.trials[name]
        obj.tags = tag_list
    elif kind == "pipeline":
        obj = backend.create_pipeline(
            pipeline_name=name,
            pipeline_display_name=name,
            pipeline_definition='{"Version": "2020-12-01", "Steps": []}',
            pipeline_definition_s3_location={},
            pipeline_description="Retraining",
            role_arn=role,
            tags=tag_list,
            parallelism_configuration={"MaxParallelExecutionSteps": 2},
        )
        facts.role = role
    else:  # pragma: no cover - TYPES is closed
        raise ValueError(kind)
    _backdate(obj, created)
    facts.arn = obj.arn if isinstance(obj.arn, str) else obj.arn[0]
    if route in ("studio", "created-by") and kind in ("experiment", "experiment-trial", "pipeline"):
        profile = world.rng.choice(domain.profiles)
        created_by_registry(domain.account, domain.region)[facts.arn] = {
            "UserProfileArn": domain.profile_arns[profile],
            "UserProfileName": profile,
            "DomainId": domain.domain_id,
        }
        facts.created_by_domain = domain.domain_id
    _record(world, facts)
    return facts


def _pick(world: _World, domain: _Domain, route: str, kind: str, created: datetime) -> str | None:
    """A model (for an endpoint config) or endpoint config (for an endpoint) that does not change the attribution:
    the domain's own on tagged routes, an unattributed one otherwise; created (unattributed) when there is none."""
    pool = (world.models if kind == "model" else world.configs).get((domain.account, domain.region), [])
    wanted = domain.key if route in ("studio", "profile-tag") else None
    fitting = [name for name, owner in pool if owner == wanted] or [name for name, owner in pool if owner is None]
    if fitting:
        return world.rng.choice(fitting)
    # Older than what points at it, and from before tagging began, as every untagged resource here.
    made = _create(world, domain, "unattributed", kind, min(created, TAGGING_START) - timedelta(days=1))
    return made.name if made else None


def _lineage_chain(world: _World, domain: _Domain) -> None:
    """Training job (the domain's role) -> model -> endpoint config -> endpoint, untagged, before tagging began; the
    chain stops early at random (or when ``n`` is reached)."""
    created = _between(world.rng, EARLIEST, TAGGING_START - timedelta(days=3))
    job = _create(world, domain, "execution-role", "training-job", created)
    if job is None:
        return
    artifact = world.job_artifacts[job.arn]
    length = world.rng.choice((1, 2, 3, 3))
    model = _create(
        world,
        domain,
        "lineage",
        "model",
        created + timedelta(hours=2),
        model_data=artifact,
        role=execution_role(domain.account, SHARED_ROLE),
    )
    if model is None or length < 2:
        return
    config = _create(world, domain, "lineage", "endpoint-config", created + timedelta(hours=3), model=model.name)
    if config is None or length < 3:
        return
    _create(world, domain, "lineage", "endpoint", created + timedelta(hours=4), config=config.name)


# -- moto gaps ---------------------------------------------------------------------------------------------------
_installed = False
LIST_MODELS_DEFAULT_MAX_RESULTS = 10  # ASSUMED: the ListModels reference gives the range 1-100, not a default


def _with_created_by(original: Any, arn_key: str) -> Any:
    def method(self: SageMakerResponse) -> Any:
        result = original(self)
        if not isinstance(result, ActionResult) or not isinstance(result.result, dict):
            return result
        answer = dict(result.result)
        answer.pop("CreatedBy", None)
        answer.pop("LastModifiedBy", None)
        created_by = created_by_registry(self.current_account, self.region).get(answer.get(arn_key, ""))
        if created_by:
            answer["CreatedBy"] = dict(created_by)
            answer["LastModifiedBy"] = dict(created_by)
        return ActionResult(answer)

    method.__name__ = original.__name__
    method.__wrapped__ = original  # type: ignore[attr-defined]
    return method


def _timestamp(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC).replace(tzinfo=None)
    return _naive(datetime.fromisoformat(str(value)))


def _list_models(self: SageMakerResponse) -> Any:
    p = json.loads(self.body or "{}") if isinstance(self.body, str | bytes) else {}
    sort_by = p.get("SortBy", "CreationTime")
    sort_order = p.get("SortOrder", "Descending")
    max_results = p.get("MaxResults", LIST_MODELS_DEFAULT_MAX_RESULTS)
    if sort_by not in ("Name", "CreationTime"):
        raise AWSValidationException(f"Value '{sort_by}' at 'sortBy' failed to satisfy constraint: Name|CreationTime")
    if sort_order not in ("Ascending", "Descending"):
        raise AWSValidationException(f"Value '{sort_order}' at 'sortOrder' failed to satisfy constraint")
    if isinstance(max_results, bool) or not isinstance(max_results, int) or not 1 <= max_results <= 100:
        raise AWSValidationException(f"Value '{max_results}' at 'maxResults' failed to satisfy constraint: 1-100")
    try:
        before, after = _timestamp(p.get("CreationTimeBefore")), _timestamp(p.get("CreationTimeAfter"))
    except (ValueError, OverflowError):
        raise AWSValidationException("CreationTimeBefore and CreationTimeAfter must be timestamps.") from None
    contains = p.get("NameContains") or ""
    models = [
        m
        for m in self.sagemaker_backend.list_models()
        if contains in m.model_name
        and (before is None or m.creation_time < before)
        and (after is None or m.creation_time >= after)
    ]
    models.sort(
        key=lambda m: (m.model_name, m.arn) if sort_by == "Name" else (m.creation_time, m.arn),
        reverse=sort_order == "Descending",
    )
    start = 0
    if p.get("NextToken"):
        try:
            start = int(base64.urlsafe_b64decode(p["NextToken"].encode()).decode().removeprefix("sbxmodels:"))
        except ValueError:
            raise AWSValidationException("The NextToken is not valid.") from None
    page = models[start : start + max_results]
    answer: dict[str, Any] = {
        "Models": [{"ModelName": m.model_name, "ModelArn": m.arn, "CreationTime": m.creation_time} for m in page]
    }
    if start + max_results < len(models):
        answer["NextToken"] = base64.urlsafe_b64encode(f"sbxmodels:{start + max_results}".encode()).decode()
    return ActionResult(answer)


def _endpoint_config_init(original: Any) -> Any:
    def __init__(self: FakeEndpointConfig, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.arn = self.endpoint_config_arn

    __init__.__wrapped__ = original  # type: ignore[attr-defined]
    return __init__


def install() -> None:
    """Patch moto's gaps that legacy resources expose (see the module's docstring). Safe to call many times."""
    global _installed
    if _installed:
        return
    SageMakerResponse.describe_experiment = _with_created_by(  # type: ignore[method-assign]
        SageMakerResponse.describe_experiment, "ExperimentArn"
    )
    SageMakerResponse.describe_trial = _with_created_by(SageMakerResponse.describe_trial, "TrialArn")  # type: ignore[method-assign]
    SageMakerResponse.describe_pipeline = _with_created_by(  # type: ignore[method-assign]
        SageMakerResponse.describe_pipeline, "PipelineArn"
    )
    _list_models.__name__ = "list_models"
    SageMakerResponse.list_models = _list_models  # type: ignore[method-assign]
    FakeEndpointConfig.__init__ = _endpoint_config_init(FakeEndpointConfig.__init__)  # type: ignore[method-assign]
    _installed = True
