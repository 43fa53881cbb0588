"""The demo organisation: two AWS accounts, two regions and five SageMaker domains that differ the way real ones do.

Written straight into the sandbox's state through :mod:`portal.sandbox.sagemaker`'s Python API and moto's own
SageMaker backend (no HTTP), so it seeds the in-process sandbox (under ``mock_aws``) and the sandbox server process
alike. Everything is deterministic: the same ``today`` on an empty sandbox gives the same ids, ARNs, timestamps and
costs in every run.

The governance anti-patterns the portal looks for are here on purpose (see :data:`ANTI_PATTERNS`): generic shared
"team" profiles, two profiles for one person in one domain, profiles, spaces and a whole domain without idle
shutdown, apps hidden in the UI as if that were security, a domain still landing in Studio Classic, a quick-start
domain on default settings, long-idle GPU apps, training jobs, experiments and models without the
``sagemaker:domain-arn`` tag (what a tag backfill finds) and spend that carries no tag at all.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from moto.sagemaker.models import sagemaker_backends

from portal.sandbox.sagemaker import SYSTEM_TAG_DOMAIN, SYSTEM_TAG_PROFILE, App, studio_state

PAYER_ACCOUNT_ID = "314159265358"
DEMO_ACCOUNTS: dict[str, str] = {
    "314159265358": "Regulated lines of business",
    "271828182845": "Research",
}
REGIONS: tuple[str, ...] = ("us-east-1", "eu-west-1")
PORTAL_ROLE_NAME = "SageMakerGovernancePortal"
ROLE_ARNS: dict[str, str] = {account: f"arn:aws:iam::{account}:role/{PORTAL_ROLE_NAME}" for account in DEMO_ACCOUNTS}
EXTERNAL_IDS: dict[str, str | None] = {"314159265358": "demo-external-id", "271828182845": None}
RANDOM_SEED = 20240611  # the only source of variety below (activity times); change it and every run changes

REGULATED, RESEARCH = "314159265358", "271828182845"
ORG_DOMAIN = "example.com"


def role_arn(account_id: str) -> str:
    """The role the portal assumes in a demo account (moto's STS lets any credentials assume it)."""
    return ROLE_ARNS[account_id]


def _execution_role(account_id: str, name: str) -> str:
    return f"arn:aws:iam::{account_id}:role/{name}"


def _idle(minutes: int | None) -> dict[str, Any]:
    """JupyterLab/CodeEditor AppLifecycleManagement: idle shutdown after ``minutes``, or DISABLED for None."""
    if minutes is None:
        return {"AppLifecycleManagement": {"IdleSettings": {"LifecycleManagement": "DISABLED"}}}
    return {"AppLifecycleManagement": {"IdleSettings": {"LifecycleManagement": "ENABLED",
                                                        "IdleTimeoutInMinutes": minutes}}}


def _studio_settings(role: str, idle_minutes: int | None, *, ebs_default: int = 5, ebs_max: int = 100
                     ) -> dict[str, Any]:
    return {
        "ExecutionRole": role,
        "DefaultLandingUri": "studio::",
        "StudioWebPortal": "ENABLED",
        "JupyterLabAppSettings": {**_idle(idle_minutes),
                                  "DefaultResourceSpec": {"InstanceType": "ml.t3.medium"}},
        "CodeEditorAppSettings": {**_idle(idle_minutes),
                                  "DefaultResourceSpec": {"InstanceType": "ml.t3.medium"}},
        "SpaceStorageSettings": {"DefaultEbsStorageSettings": {"DefaultEbsVolumeSizeInGb": ebs_default,
                                                               "MaximumEbsVolumeSizeInGb": ebs_max}},
    }


# UI hiding used as if it were access control (anti-pattern: it only declutters the UI, IAM still allows it).
UI_HIDDEN = {
    "StudioWebPortal": "ENABLED",
    "StudioWebPortalSettings": {
        "HiddenAppTypes": ["Canvas", "RStudioServerPro", "CodeEditor"],
        "HiddenMlTools": ["DataWrangler", "EmrClusters", "AutoMl", "Endpoints"],
        "HiddenInstanceTypes": ["ml.g5.2xlarge", "ml.p3.2xlarge", "ml.p4d.24xlarge"],
    },
}
NO_IDLE_SHUTDOWN = {"JupyterLabAppSettings": _idle(None), "CodeEditorAppSettings": _idle(None)}


@dataclass(frozen=True)
class ProfilePlan:
    name: str
    settings: dict[str, Any] = field(default_factory=dict)  # UserSettings overriding the domain's defaults
    sso_user: str | None = None  # IAM Identity Center user name; derived from the name on SSO domains if None
    tags: tuple[tuple[str, str], ...] = ()
    notes: str = ""  # which anti-pattern this profile shows, if any


@dataclass(frozen=True)
class DomainPlan:
    key: str
    name: str
    account_id: str
    region: str
    auth_mode: str
    network: str
    user_settings: dict[str, Any]
    tags: tuple[tuple[str, str], ...]
    profiles: tuple[ProfilePlan, ...]
    age_days: int
    tag_propagation: str = "DISABLED"
    space_settings: dict[str, Any] | None = None


def _people(*names: str) -> tuple[ProfilePlan, ...]:
    return tuple(ProfilePlan(name) for name in names)


DOMAINS: tuple[DomainPlan, ...] = (
    DomainPlan(
        key="risk", name="risk-analytics", account_id=REGULATED, region="us-east-1", auth_mode="SSO",
        network="VpcOnly", age_days=540, tag_propagation="ENABLED",
        user_settings=_studio_settings(_execution_role(REGULATED, "RiskAnalyticsStudioExecution"), 120),
        space_settings={"ExecutionRole": _execution_role(REGULATED, "RiskAnalyticsSharedSpaces")},
        tags=(("line-of-business", "risk"), ("cost-center", "CC-1001"), ("data-classification", "confidential")),
        profiles=(
            *_people("maria-garcia", "arjun-mehta", "sofia-rossi", "daniel-kim", "emma-larsen", "lucas-silva",
                     "hannah-becker", "noah-williams", "fatima-alhassan"),
            ProfilePlan("risk-team", sso_user="risk-analytics-team", notes="generic team profile shared by people"),
        ),
    ),
    DomainPlan(
        key="credit", name="credit-modelling", account_id=REGULATED, region="eu-west-1", auth_mode="SSO",
        network="VpcOnly", age_days=410,
        user_settings=_studio_settings(_execution_role(REGULATED, "CreditModellingStudioExecution"), 180),
        tags=(("line-of-business", "credit"), ("cost-center", "CC-1002"), ("data-classification", "restricted")),
        profiles=(
            *_people("oliver-smith", "chloe-dubois", "mateo-fernandez", "aisha-khan", "liam-obrien", "yuki-tanaka"),
            ProfilePlan("priya-patel", settings=UI_HIDDEN, notes="tools hidden in the UI as if that were security"),
            ProfilePlan("tom-nguyen", settings=UI_HIDDEN, notes="tools hidden in the UI as if that were security"),
            ProfilePlan("elena-petrova", settings=UI_HIDDEN, notes="tools hidden in the UI as if that were security"),
        ),
    ),
    DomainPlan(
        key="research", name="research-lab", account_id=RESEARCH, region="eu-west-1", auth_mode="IAM",
        network="PublicInternetOnly", age_days=365,
        user_settings=_studio_settings(_execution_role(RESEARCH, "ResearchLabStudioExecution"), 240,
                                       ebs_default=20, ebs_max=500),
        tags=(("line-of-business", "research"), ("cost-center", "CC-2001")),
        profiles=(
            *_people("ines-moreau", "jakob-weber", "lena-schmidt", "marco-bianchi", "sara-johansson", "david-cohen"),
            ProfilePlan("jweber", notes="second profile of jakob-weber in the same domain",
                        tags=(("owner-email", f"jakob.weber@{ORG_DOMAIN}"),)),
            ProfilePlan("nina-kowalski", settings=NO_IDLE_SHUTDOWN, notes="idle shutdown turned off"),
            ProfilePlan("omar-haddad", settings=NO_IDLE_SHUTDOWN, notes="idle shutdown turned off"),
            ProfilePlan("shared", notes="generic shared profile"),
        ),
    ),
    DomainPlan(
        key="legacy", name="legacy-notebooks", account_id=REGULATED, region="us-east-1", auth_mode="IAM",
        network="PublicInternetOnly", age_days=1200,
        user_settings={
            "ExecutionRole": _execution_role(REGULATED, "service-role/AmazonSageMaker-ExecutionRole-20210315T094512"),
            "DefaultLandingUri": "app:JupyterServer:",
            "StudioWebPortal": "DISABLED",
            "SharingSettings": {"NotebookOutputOption": "Allowed", "S3OutputPath": "s3://legacy-notebooks-shared/"},
            "JupyterServerAppSettings": {"DefaultResourceSpec": {"InstanceType": "system"}},
            "KernelGatewayAppSettings": {"DefaultResourceSpec": {"InstanceType": "ml.t3.medium"}},
        },
        tags=(("line-of-business", "operations"), ("cost-center", "CC-1003")),
        profiles=(
            *_people("george-miller", "kevin-osei", "laura-martin", "paul-schneider", "rita-santos"),
            ProfilePlan("team", notes="generic team profile shared by people"),
        ),
    ),
    DomainPlan(
        key="quickstart", name="quickstart-sandbox", account_id=RESEARCH, region="us-east-1", auth_mode="IAM",
        network="PublicInternetOnly", age_days=200,
        # What the console's quick setup leaves: an execution role and nothing else (no idle shutdown, no limits).
        user_settings={
            "ExecutionRole": _execution_role(RESEARCH, "service-role/AmazonSageMaker-ExecutionRole-20240423T101122"),
        },
        tags=(),
        profiles=(
            ProfilePlan("default-20240423t101122", notes="generic profile left by quick setup"),
            *_people("anna-lindqvist", "ben-carter", "carlos-ruiz", "diana-popescu"),
        ),
    ),
)


@dataclass(frozen=True)
class SpacePlan:
    domain: str
    name: str
    owner: str
    sharing: str  # Private | Shared
    app_type: str  # JupyterLab | CodeEditor
    instance_type: str
    ebs_gb: int
    idle_minutes: int | None  # None: no idle shutdown on the space
    app_status: str = "InService"  # the space's app: InService or Deleted
    idle_hours: float = 2  # hours since the last user activity in the space's app
    hours_per_day: float = 6
    display_name: str | None = None


SPACES: tuple[SpacePlan, ...] = (
    SpacePlan("risk", "risk-model-review", "maria-garcia", "Shared", "JupyterLab", "ml.m5.xlarge", 50, 120,
              display_name="Risk model review", hours_per_day=9),
    SpacePlan("risk", "stress-testing", "risk-team", "Shared", "CodeEditor", "ml.m5.2xlarge", 100, None,
              display_name="Stress testing", idle_hours=300, hours_per_day=24),
    SpacePlan("risk", "arjun-mehta-lab", "arjun-mehta", "Private", "JupyterLab", "ml.t3.medium", 20, 120),
    SpacePlan("risk", "sofia-rossi-lab", "sofia-rossi", "Private", "JupyterLab", "ml.g5.2xlarge", 50, 120,
              idle_hours=5, hours_per_day=5),
    SpacePlan("risk", "daniel-kim-code", "daniel-kim", "Private", "CodeEditor", "ml.t3.medium", 10, 120,
              app_status="Deleted", idle_hours=400, hours_per_day=2),
    SpacePlan("credit", "credit-scorecards", "oliver-smith", "Shared", "JupyterLab", "ml.m5.xlarge", 50, 180,
              display_name="Credit scorecards", hours_per_day=8),
    SpacePlan("credit", "chloe-dubois-lab", "chloe-dubois", "Private", "JupyterLab", "ml.t3.medium", 10, 180),
    SpacePlan("credit", "aisha-khan-lab", "aisha-khan", "Private", "JupyterLab", "ml.m5.xlarge", 20, 180,
              idle_hours=30, hours_per_day=4),
    SpacePlan("research", "genomics-shared", "ines-moreau", "Shared", "JupyterLab", "ml.r5.2xlarge", 500, 240,
              display_name="Genomics (shared)", hours_per_day=10),
    SpacePlan("research", "ines-moreau-lab", "ines-moreau", "Private", "JupyterLab", "ml.t3.medium", 20, 240),
    SpacePlan("research", "marco-bianchi-llm", "marco-bianchi", "Private", "JupyterLab", "ml.p3.2xlarge", 200, None,
              idle_hours=1100, hours_per_day=24),
    SpacePlan("research", "omar-haddad-code", "omar-haddad", "Private", "CodeEditor", "ml.c5.xlarge", 20, None,
              idle_hours=200, hours_per_day=24),
    SpacePlan("research", "team-scratch", "shared", "Shared", "JupyterLab", "ml.g4dn.xlarge", 100, None,
              display_name="Team scratch", idle_hours=90, hours_per_day=24),
    SpacePlan("quickstart", "anna-lindqvist-lab", "anna-lindqvist", "Private", "JupyterLab", "ml.m5.xlarge", 5, None,
              idle_hours=700, hours_per_day=24),
    SpacePlan("quickstart", "default-space", "default-20240423t101122", "Private", "JupyterLab", "ml.g5.2xlarge",
              5, None, app_status="Deleted", idle_hours=2000, hours_per_day=3),
)


@dataclass(frozen=True)
class ProfileAppPlan:
    """An app on a user profile (Studio Classic JupyterServer/KernelGateway, Canvas)."""

    domain: str
    profile: str
    app_type: str
    name: str
    instance_type: str
    idle_hours: float = 2
    status: str = "InService"
    hours_per_day: float = 6


PROFILE_APPS: tuple[ProfileAppPlan, ...] = (
    ProfileAppPlan("legacy", "george-miller", "JupyterServer", "default", "system"),
    ProfileAppPlan("legacy", "george-miller", "KernelGateway", "datascience-1-0-ml-m5-xlarge", "ml.m5.xlarge",
                   idle_hours=3, hours_per_day=7),
    ProfileAppPlan("legacy", "kevin-osei", "JupyterServer", "default", "system"),
    ProfileAppPlan("legacy", "kevin-osei", "KernelGateway", "pytorch-1-13-gpu-ml-g4dn-xlarge", "ml.g4dn.xlarge",
                   idle_hours=620, hours_per_day=24),
    ProfileAppPlan("legacy", "laura-martin", "JupyterServer", "default", "system"),
    ProfileAppPlan("legacy", "laura-martin", "KernelGateway", "datascience-1-0-ml-t3-medium", "ml.t3.medium",
                   idle_hours=26, hours_per_day=8),
    ProfileAppPlan("legacy", "paul-schneider", "JupyterServer", "default", "system", status="Deleted",
                   idle_hours=900),
    ProfileAppPlan("legacy", "rita-santos", "JupyterServer", "default", "system"),
    ProfileAppPlan("legacy", "team", "JupyterServer", "default", "system"),
    ProfileAppPlan("legacy", "team", "KernelGateway", "tensorflow-2-11-gpu-ml-p3-2xlarge", "ml.p3.2xlarge",
                   idle_hours=160, hours_per_day=24),
    ProfileAppPlan("legacy", "team", "KernelGateway", "datascience-1-0-ml-m5-large", "ml.m5.large",
                   idle_hours=4, hours_per_day=9),
    ProfileAppPlan("research", "lena-schmidt", "JupyterServer", "default", "system"),
    ProfileAppPlan("research", "lena-schmidt", "KernelGateway", "sagemaker-distribution-ml-m5-xlarge",
                   "ml.m5.xlarge", idle_hours=1, hours_per_day=6),
    ProfileAppPlan("credit", "yuki-tanaka", "Canvas", "default", "system", idle_hours=50, hours_per_day=4),
    ProfileAppPlan("quickstart", "default-20240423t101122", "Canvas", "default", "system", idle_hours=1500,
                   hours_per_day=24),
)

# Jobs, experiments and models in moto's own backend. domain None, or tagged False: created before the domain tags
# existed (what a tag backfill must find).


@dataclass(frozen=True)
class JobPlan:
    domain: str
    profile: str | None
    name: str
    instance_type: str
    instance_count: int = 1
    tagged: bool = True
    hours_per_day: float = 1.5


TRAINING_JOBS: tuple[JobPlan, ...] = (
    JobPlan("risk", "maria-garcia", "pd-model-xgb-2024-05-02", "ml.m5.2xlarge", 2),
    JobPlan("risk", "sofia-rossi", "lgd-model-gpu-2024-05-14", "ml.g5.2xlarge", hours_per_day=3),
    JobPlan("risk", "risk-team", "stress-scenarios-2024-06-01", "ml.c5.4xlarge", 4, hours_per_day=2),
    JobPlan("risk", None, "pd-model-xgb-2023-01-20", "ml.m5.xlarge", tagged=False),
    JobPlan("credit", "oliver-smith", "scorecard-retrain-2024-05-30", "ml.m5.xlarge"),
    JobPlan("credit", "aisha-khan", "affordability-gbm-2024-06-03", "ml.m5.2xlarge"),
    JobPlan("credit", None, "scorecard-retrain-2023-03-11", "ml.m5.xlarge", tagged=False),
    JobPlan("research", "marco-bianchi", "llm-finetune-lora-2024-06-05", "ml.p3.2xlarge", 2, hours_per_day=6),
    JobPlan("research", "ines-moreau", "variant-caller-2024-05-22", "ml.r5.2xlarge", hours_per_day=4),
    JobPlan("research", "shared", "benchmark-sweep-2024-04-18", "ml.g4dn.xlarge", 4, hours_per_day=3),
    JobPlan("research", None, "protein-embed-2022-11-30", "ml.p3.2xlarge", tagged=False, hours_per_day=2),
    JobPlan("quickstart", None, "churn-autopilot-trial-2024-04-25", "ml.m5.xlarge", tagged=False),
)

EXPERIMENTS: tuple[tuple[str, str | None, str, bool], ...] = (
    # (domain, profile, name, tagged)
    ("risk", "maria-garcia", "pd-model-2024", True),
    ("risk", None, "pd-model-2023", False),
    ("credit", "oliver-smith", "scorecards-q2", True),
    ("research", "marco-bianchi", "llm-finetuning", True),
    ("research", None, "protein-embeddings", False),
    ("quickstart", None, "churn-trial", False),
)

MODELS: tuple[tuple[str, str | None, str, bool], ...] = (
    ("risk", "maria-garcia", "pd-xgb-v7", True),
    ("risk", None, "pd-xgb-v3", False),
    ("credit", "oliver-smith", "scorecard-v12", True),
    ("research", "marco-bianchi", "llama-lora-v2", True),
    ("research", None, "protein-embed-v1", False),
)

# An endpoint nobody tagged: spend no domain can be charged for.
UNTAGGED_ENDPOINT = {"account_id": RESEARCH, "region": "us-east-1", "name": "churn-scoring-prod",
                     "model": "churn-autopilot-best", "instance_type": "ml.m5.large"}

# Where each anti-pattern lives, for docs, tests and the demo's tour.
ANTI_PATTERNS: dict[str, list[str]] = {
    "generic_shared_profile": ["risk-analytics/risk-team", "research-lab/shared", "legacy-notebooks/team",
                               "quickstart-sandbox/default-20240423t101122"],
    "duplicate_person_profiles": ["research-lab/jakob-weber + research-lab/jweber"],
    "no_idle_shutdown": ["quickstart-sandbox (whole domain)", "research-lab/nina-kowalski",
                         "research-lab/omar-haddad", "legacy-notebooks (Studio Classic: no idle settings)"]
    + [f"space {s.name}" for s in SPACES if s.idle_minutes is None],
    "ui_hidden_apps_as_security": ["credit-modelling/priya-patel", "credit-modelling/tom-nguyen",
                                   "credit-modelling/elena-petrova"],
    "studio_classic": ["legacy-notebooks (DefaultLandingUri app:JupyterServer:, StudioWebPortal DISABLED)"],
    "quick_start_domain": ["quickstart-sandbox (default settings, PublicInternetOnly)"],
    "untagged_resources": [f"training job {j.name}" for j in TRAINING_JOBS if not j.tagged]
    + [f"experiment {e[2]}" for e in EXPERIMENTS if not e[3]] + [f"model {m[2]}" for m in MODELS if not m[3]],
    "untagged_spend": [f"endpoint {UNTAGGED_ENDPOINT['name']}"] + [f"training job {j.name}" for j in TRAINING_JOBS
                                                                   if not j.tagged],
}


@dataclass
class _Seeded:
    domains: dict[str, Any] = field(default_factory=dict)
    profiles: dict[tuple[str, str], Any] = field(default_factory=dict)
    spaces: dict[tuple[str, str], Any] = field(default_factory=dict)
    apps: list[tuple[App, float]] = field(default_factory=list)  # (app, hours a day it runs)
    training_jobs: int = 0
    experiments: int = 0
    models: int = 0
    endpoints: int = 0
    billable: list[dict[str, Any]] = field(default_factory=list)  # BillableResource fields


def _tags(pairs: tuple[tuple[str, str], ...] | list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in pairs]


def _sso_user(plan: ProfilePlan) -> str:
    if plan.sso_user:
        return plan.sso_user
    return plan.name.replace("-", ".") + f"@{ORG_DOMAIN}"


def _seed_studio(now: datetime, rng: random.Random, seeded: _Seeded) -> None:
    for plan in DOMAINS:
        state = studio_state(plan.account_id, plan.region)
        subnets = vpc = None
        if plan.network == "VpcOnly":
            vpc = f"vpc-{rng.getrandbits(68):017x}"
            subnets = [f"subnet-{rng.getrandbits(68):017x}" for _ in range(2)]
        domain = state.create_domain(
            plan.name, auth_mode=plan.auth_mode, default_user_settings=plan.user_settings, vpc_id=vpc,
            subnet_ids=subnets, app_network_access_type=plan.network, default_space_settings=plan.space_settings,
            tag_propagation=plan.tag_propagation, tags=_tags(plan.tags) or None,
            created=now - timedelta(days=plan.age_days), in_service=True,
        )
        seeded.domains[plan.key] = domain
        for index, person in enumerate(plan.profiles):
            sso = plan.auth_mode == "SSO"
            created = domain.created + timedelta(days=min(3 + index * 9, plan.age_days - 1))
            profile = state.create_user_profile(
                domain.domain_id, person.name, user_settings=person.settings or None,
                sso_user_identifier="UserName" if sso else None, sso_user_value=_sso_user(person) if sso else None,
                tags=_tags(person.tags) or None, created=created, in_service=True,
            )
            seeded.profiles[(plan.key, person.name)] = profile

    for index, plan in enumerate(SPACES):
        domain = seeded.domains[plan.domain]
        state = studio_state(domain.account_id, domain.region)
        settings_key = f"{plan.app_type}AppSettings"
        app_settings: dict[str, Any] = {"DefaultResourceSpec": {"InstanceType": plan.instance_type}}
        if plan.idle_minutes is not None:
            app_settings["AppLifecycleManagement"] = {"IdleSettings": {"IdleTimeoutInMinutes": plan.idle_minutes}}
        created = now - timedelta(days=150 - index * 7)
        space = state.create_space(
            domain.domain_id, plan.name, owner=plan.owner, sharing_type=plan.sharing, display_name=plan.display_name,
            space_settings={"AppType": plan.app_type, settings_key: app_settings,
                            "SpaceStorageSettings": {"EbsStorageSettings": {"EbsVolumeSizeInGb": plan.ebs_gb}}},
            created=created, in_service=True,
        )
        seeded.spaces[(plan.domain, plan.name)] = space
        activity = now - timedelta(hours=plan.idle_hours, minutes=rng.randint(0, 59))
        app = state.create_app(
            domain.domain_id, plan.app_type, "default", space_name=plan.name,
            resource_spec={"InstanceType": plan.instance_type}, created=created + timedelta(hours=1),
            last_user_activity=activity, in_service=True,
        )
        if plan.app_status == "Deleted":
            state.delete_app(domain.domain_id, plan.app_type, "default", space_name=plan.name)
        seeded.apps.append((app, plan.hours_per_day))

    for index, plan in enumerate(PROFILE_APPS):
        domain = seeded.domains[plan.domain]
        state = studio_state(domain.account_id, domain.region)
        created = now - timedelta(days=90 - index * 5, hours=rng.randint(0, 8))
        activity = now - timedelta(hours=plan.idle_hours, minutes=rng.randint(0, 59))
        app = state.create_app(
            domain.domain_id, plan.app_type, plan.name, user_profile_name=plan.profile,
            resource_spec={"InstanceType": plan.instance_type}, created=created, last_user_activity=activity,
            in_service=True,
        )
        if plan.status == "Deleted":
            state.delete_app(domain.domain_id, plan.app_type, plan.name, user_profile_name=plan.profile)
        seeded.apps.append((app, plan.hours_per_day))


def _owner_tags(seeded: _Seeded, domain_key: str, profile: str | None) -> list[dict[str, str]]:
    tags = [{"Key": SYSTEM_TAG_DOMAIN, "Value": seeded.domains[domain_key].arn}]
    if profile:
        tags.append({"Key": SYSTEM_TAG_PROFILE, "Value": seeded.profiles[(domain_key, profile)].arn})
    return tags


def _seed_moto_resources(seeded: _Seeded) -> None:
    """Training jobs, experiments, models and an endpoint in moto's own SageMaker backend."""
    for plan in TRAINING_JOBS:
        domain = seeded.domains[plan.domain]
        backend = sagemaker_backends[domain.account_id][domain.region]
        tags = _owner_tags(seeded, plan.domain, plan.profile) if plan.tagged else []
        tags.append({"Key": "project", "Value": plan.name.rsplit("-", 3)[0]})
        bucket = f"s3://{domain.name}-{domain.account_id}-ml"
        backend.create_training_job(
            training_job_name=plan.name, hyper_parameters={"max_depth": "6", "eta": "0.2"},
            algorithm_specification={"TrainingImage": _image(domain.region, domain.account_id),
                                     "TrainingInputMode": "File"},
            role_arn=domain.default_user_settings.get("ExecutionRole", ""),
            input_data_config=[{"ChannelName": "train", "DataSource": {"S3DataSource": {
                "S3DataType": "S3Prefix", "S3Uri": f"{bucket}/data/{plan.name}/train/"}}}],
            output_data_config={"S3OutputPath": f"{bucket}/models/"},
            resource_config={"InstanceType": plan.instance_type, "InstanceCount": plan.instance_count,
                             "VolumeSizeInGB": 50},
            vpc_config=None, stopping_condition={"MaxRuntimeInSeconds": 86400}, tags=tags,
            enable_network_isolation=False, enable_inter_container_traffic_encryption=False,
            enable_managed_spot_training=False, checkpoint_config=None, debug_hook_config=None,
            debug_rule_configurations=None, tensor_board_output_config=None, experiment_config=None,
        )
        seeded.training_jobs += 1
        profile_arn = seeded.profiles[(plan.domain, plan.profile)].arn if plan.profile else None
        seeded.billable.append(dict(
            account_id=domain.account_id, region=domain.region, domain_arn=domain.arn if plan.tagged else None,
            user_profile_arn=profile_arn if plan.tagged else None, space_arn=None,
            instance_type=plan.instance_type, usage="training", hours_per_day=plan.hours_per_day * plan.instance_count,
            tagged=plan.tagged,
        ))

    for domain_key, profile, name, tagged in EXPERIMENTS:
        domain = seeded.domains[domain_key]
        backend = sagemaker_backends[domain.account_id][domain.region]
        arn = backend.create_experiment(name)["ExperimentArn"]
        if tagged:
            backend.add_tags(arn, _owner_tags(seeded, domain_key, profile))
        seeded.experiments += 1

    for domain_key, profile, name, tagged in MODELS:
        domain = seeded.domains[domain_key]
        backend = sagemaker_backends[domain.account_id][domain.region]
        backend.create_model(
            model_name=name, execution_role_arn=domain.default_user_settings.get("ExecutionRole", ""),
            primary_container={"Image": _image(domain.region, domain.account_id),
                               "ModelDataUrl": f"s3://{domain.name}-{domain.account_id}-ml/models/{name}/model.tar.gz"},
            vpc_config=None, containers=None, tags=_owner_tags(seeded, domain_key, profile) if tagged else [],
        )
        seeded.models += 1

    endpoint = UNTAGGED_ENDPOINT
    backend = sagemaker_backends[endpoint["account_id"]][endpoint["region"]]
    backend.create_model(
        model_name=endpoint["model"], execution_role_arn=_execution_role(RESEARCH, "ChurnScoringEndpoint"),
        primary_container={"Image": _image(endpoint["region"], endpoint["account_id"])}, vpc_config=None,
        containers=None, tags=[],
    )
    backend.create_endpoint_config(
        endpoint_config_name=f"{endpoint['name']}-config",
        production_variants=[{"VariantName": "AllTraffic", "ModelName": endpoint["model"],
                              "InitialInstanceCount": 1, "InstanceType": endpoint["instance_type"]}],
        data_capture_config=None, async_inference_config=None, tags=[], kms_key_id=None,
    )
    backend.create_endpoint(endpoint_name=endpoint["name"], endpoint_config_name=f"{endpoint['name']}-config",
                            tags=[])
    seeded.models += 1
    seeded.endpoints += 1
    seeded.billable.append(dict(
        account_id=endpoint["account_id"], region=endpoint["region"], domain_arn=None, user_profile_arn=None,
        space_arn=None, instance_type=endpoint["instance_type"], usage="endpoint", hours_per_day=24, tagged=False,
    ))


def _image(region: str, account_id: str) -> str:
    return f"{account_id}.dkr.ecr.{region}.amazonaws.com/ml-training:latest"


def _app_billables(seeded: _Seeded) -> list[dict[str, Any]]:
    """Studio apps that run on billable instances (``system`` instances are free), with the tags their spend carries:
    the domain and the user profile, or the domain and the space."""
    billable = []
    for app, hours in seeded.apps:
        if app.instance_type in (None, "system"):
            continue
        domain = app.domain
        assert domain is not None
        profile_arn = domain.child_arn("user-profile", app.user_profile_name) if app.user_profile_name else None
        space_arn = domain.child_arn("space", app.space_name) if app.space_name else None
        billable.append(dict(
            account_id=domain.account_id, region=domain.region, domain_arn=domain.arn, user_profile_arn=profile_arn,
            space_arn=space_arn, instance_type=app.instance_type, usage="studio-app", hours_per_day=hours,
        ))
    return billable


def seed(today: date | None = None, *, costs: bool = True) -> dict[str, int]:
    """Write the demo organisation into the sandbox (call it on an empty sandbox) and return what it wrote.

    With ``costs`` (the default) it goes on to write 13 months of Cost Explorer line items for what it seeded into
    the payer account's bill (:func:`portal.sandbox.demo_costs.seed_costs`).
    """
    today = today or datetime.now(UTC).date()
    now = datetime.combine(today, time(9, 0), tzinfo=UTC)
    rng = random.Random(RANDOM_SEED)
    seeded = _Seeded()
    _seed_studio(now, rng, seeded)
    _seed_moto_resources(seeded)
    seeded.billable = _app_billables(seeded) + seeded.billable

    line_items = 0
    if costs:
        from portal.sandbox.demo_costs import BillableResource, seed_costs

        resources = [BillableResource(**spec) for spec in seeded.billable]
        line_items = seed_costs(PAYER_ACCOUNT_ID, resources, end=today)
    return {
        "accounts": len(DEMO_ACCOUNTS),
        "regions": len(REGIONS),
        "account_regions": len({(d.account_id, d.region) for d in seeded.domains.values()}),
        "domains": len(seeded.domains),
        "user_profiles": len(seeded.profiles),
        "spaces": len(seeded.spaces),
        "apps": len(seeded.apps),
        "training_jobs": seeded.training_jobs,
        "experiments": seeded.experiments,
        "models": seeded.models,
        "endpoints": seeded.endpoints,
        "billable_resources": len(seeded.billable),
        "cost_line_items": line_items,
    }
