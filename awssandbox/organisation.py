"""The demo organisation: two AWS accounts, two regions, five SageMaker domains that differ the way real ones do.

Written straight into the sandbox's state (no HTTP), so it seeds the in-process sandbox and the sandbox server alike
in well under a second, and identically every time: ids, ARNs and costs depend only on the seed and the date.

The anti-patterns the governance checks look for (see the seeds behind the product) are here on purpose:
a generic shared "team" profile, two profiles for one person in one domain, profiles and spaces without idle
shutdown, tools hidden in the UI as if that were security, a Studio Classic domain, SageMaker jobs and models
without the ``sagemaker:domain-arn`` tag, and spend that carries no tag at all.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from moto.sagemaker.models import sagemaker_backends

from awssandbox import iamseed, network
from awssandbox.billing import BillableResource, Prices, seed_costs
from awssandbox.identity import seed_identity_center
from awssandbox.studio import StudioState, studio_state
from awssandbox.tagging import set_created_by


@dataclass(frozen=True)
class DemoInputs:
    """What the demo organisation takes from the application it stands in for: the prices its bill is made of and
    the policy of the portal's role in each account. The sandbox imports nothing of the portal; its caller passes
    these (the portal: ``portal.sandboxing.demo_inputs()``)."""

    prices: Prices
    portal_role_policy: str


PAYER_ACCOUNT_ID = "314159265358"
DEMO_ACCOUNTS: dict[str, str] = {
    "314159265358": "Regulated lines of business",
    "271828182845": "Research",
}
REGIONS = ("us-east-1", "eu-west-1")
PORTAL_ROLE = "SageMakerGovernancePortal"
EXTERNAL_IDS = {"314159265358": "demo-external-id"}


def role_arn(account_id: str) -> str:
    """The role the portal assumes in a demo account (moto's STS lets any credentials assume it)."""
    return f"arn:aws:iam::{account_id}:role/{PORTAL_ROLE}"


def execution_role(account_id: str, name: str) -> str:
    return f"arn:aws:iam::{account_id}:role/{name}"


def _idle(minutes: int | None) -> dict[str, Any]:
    if minutes is None:
        return {}
    return {
        "AppLifecycleManagement": {"IdleSettings": {"LifecycleManagement": "ENABLED", "IdleTimeoutInMinutes": minutes}}
    }


def _space_idle(minutes: int | None) -> dict[str, Any]:
    """A space's idle settings: only the timeout (SpaceIdleSettings has no LifecycleManagement)."""
    if minutes is None:
        return {}
    return {"AppLifecycleManagement": {"IdleSettings": {"IdleTimeoutInMinutes": minutes}}}


def _new_studio(role: str, idle_minutes: int | None, max_minutes: int | None = None) -> dict[str, Any]:
    settings: dict[str, Any] = {"ExecutionRole": role, "DefaultLandingUri": "studio::", "StudioWebPortal": "ENABLED"}
    if idle_minutes is not None:
        for app in ("JupyterLabAppSettings", "CodeEditorAppSettings"):
            settings[app] = _idle(idle_minutes)
            if max_minutes is not None:  # the longest timeout a user may choose in Studio
                settings[app]["AppLifecycleManagement"]["IdleSettings"]["MaxIdleTimeoutInMinutes"] = max_minutes
    return settings


@dataclass(frozen=True)
class DomainPlan:
    key: str
    name: str
    account_id: str
    region: str
    auth_mode: str
    network: str
    user_settings: dict[str, Any]
    tags: dict[str, str]
    people: tuple[str, ...]  # profile names (first-last), SSO user names on SSO domains
    domain_settings: dict[str, Any] = field(default_factory=dict)  # DomainSettings beyond the security group


# Who works where. A person is "first-last"; the email is first.last@example.com.
DOMAINS: tuple[DomainPlan, ...] = (
    DomainPlan(
        key="risk",
        name="risk-analytics",
        account_id="314159265358",
        region="us-east-1",
        auth_mode="SSO",
        network="VpcOnly",
        user_settings=_new_studio(execution_role("314159265358", "RiskAnalyticsExecution"), 120),
        tags={"line-of-business": "risk", "cost-center": "CC-1001", "data-classification": "confidential"},
        people=(
            "arjun-mehta",
            "sofia-rossi",
            "daniel-kim",
            "emma-larsen",
            "lucas-silva",
            "hannah-becker",
            "noah-williams",
            "olivia-brown",
        ),
    ),
    DomainPlan(
        key="fraud",
        name="payments-fraud",
        account_id="314159265358",
        region="eu-west-1",
        auth_mode="SSO",
        network="VpcOnly",
        user_settings=_new_studio(execution_role("314159265358", "PaymentsFraudExecution"), 60, max_minutes=120),
        tags={"line-of-business": "payments", "cost-center": "CC-1002", "data-classification": "confidential"},
        people=("chloe-dubois", "mateo-fernandez", "ines-moreau", "felix-wagner", "amira-haddad", "jonas-berg"),
    ),
    DomainPlan(
        key="research",
        name="research-lab",
        account_id="271828182845",
        region="eu-west-1",
        auth_mode="IAM",
        network="PublicInternetOnly",
        user_settings=_new_studio(execution_role("271828182845", "ResearchLabExecution"), None),
        # Genomics data on an IAM domain: a regulated line of business without SSO.
        tags={"line-of-business": "research", "cost-center": "CC-2001", "data-classification": "restricted"},
        domain_settings={"DockerSettings": {"EnableDockerAccess": "ENABLED"}},  # local mode, for convenience
        people=(
            "maria-garcia",
            "leila-haddad",
            "john-smith",
            "priya-patel",
            "wei-chen",
            "tom-odonnell",
            "yuki-tanaka",
            "sara-nilsson",
            "ahmed-khan",
            "laura-martin",
        ),
    ),
    DomainPlan(
        key="legacy",
        name="legacy-forecasting",
        account_id="271828182845",
        region="us-east-1",
        auth_mode="IAM",
        network="PublicInternetOnly",
        user_settings={
            "ExecutionRole": execution_role("271828182845", "ForecastingExecution"),
            "DefaultLandingUri": "app:JupyterServer:",
            "StudioWebPortal": "DISABLED",
        },
        tags={"line-of-business": "supply-chain", "cost-center": "CC-3001"},
        people=("peter-novak", "grace-obi", "marco-bianchi", "elena-popescu", "david-cohen", "anna-kowalska"),
    ),
    DomainPlan(
        key="quick",
        name="quickstart-sandbox",
        account_id="314159265358",
        region="us-east-1",
        auth_mode="IAM",
        network="PublicInternetOnly",
        user_settings={"ExecutionRole": execution_role("314159265358", "AmazonSageMaker-ExecutionRole-20240115")},
        tags={},
        people=("kevin-nguyen", "isabel-santos", "omar-farouk", "julia-weber", "ravi-iyer"),
    ),
)

# Profiles that should not exist the way they do (the governance checks find them).
SHARED_PROFILES = {"research": ("team-shared",), "quick": ("ds-team",)}
SECOND_PROFILES = {"research": (("jsmith", "john-smith"),)}  # (extra profile, person it belongs to)
NO_IDLE_SHUTDOWN = {"research": ("wei-chen", "yuki-tanaka", "team-shared"), "risk": ("noah-williams",)}
LONG_IDLE = {"risk": {"lucas-silva": 480}}  # an override above the domain's 120 minutes (CO-02)
REMOTE_ACCESS = ("wei-chen-lab",)  # reached from a local IDE (SE-04)
# Identity Center (SSO domains only): a person with profiles in two domains, and a leaver whose Identity Center user
# was deleted while the profile stayed behind.
OTHER_DOMAIN_PROFILES = {"fraud": ("arjun-mehta",)}
IDENTITY_LEAVERS = ("olivia-brown",)
# Members of a team's Identity Center group with no profile there yet: the demo's data scientist (login `scientist`),
# who requests her payments-fraud profile bound to her own Identity Center user.
IDENTITY_ONLY_MEMBERS = {"fraud": ("maria-garcia",)}
HIDDEN_TOOLS = {  # hiding a tool in the UI is not security
    "risk": ("sofia-rossi", "daniel-kim", "emma-larsen"),
    "fraud": ("ines-moreau",),
}
# Profiles set up like the "Data scientist" persona, whose role (full access) still allows Canvas and endpoints.
HIDDEN_CANVAS = {"research": ("maria-garcia", "sara-nilsson")}


@dataclass(frozen=True)
class SpacePlan:
    domain: str
    name: str
    owner: str
    shared: bool
    app_type: str
    instance_type: str
    ebs_gb: int
    idle_minutes: int | None
    running: bool


SPACES: tuple[SpacePlan, ...] = (
    SpacePlan("risk", "credit-models", "arjun-mehta", True, "JupyterLab", "ml.m5.2xlarge", 50, 120, True),
    SpacePlan("risk", "stress-testing", "sofia-rossi", True, "CodeEditor", "ml.m5.xlarge", 30, 60, True),
    SpacePlan("risk", "daniel-kim-lab", "daniel-kim", False, "JupyterLab", "ml.t3.medium", 10, 120, True),
    SpacePlan("risk", "noah-williams-lab", "noah-williams", False, "JupyterLab", "ml.g4dn.xlarge", 20, None, True),
    SpacePlan("fraud", "fraud-models", "chloe-dubois", True, "JupyterLab", "ml.g5.xlarge", 100, 60, True),
    # Its own timeout is above the 120 minutes the domain allows at most (CO-03).
    SpacePlan("fraud", "mateo-fernandez-lab", "mateo-fernandez", False, "CodeEditor", "ml.t3.large", 10, 240, False),
    SpacePlan("research", "genomics-shared", "leila-haddad", True, "JupyterLab", "ml.g5.2xlarge", 200, None, True),
    SpacePlan("research", "nlp-experiments", "priya-patel", True, "JupyterLab", "ml.p3.2xlarge", 100, None, True),
    SpacePlan("research", "maria-garcia-lab", "maria-garcia", False, "JupyterLab", "ml.t3.medium", 10, None, True),
    SpacePlan("research", "wei-chen-lab", "wei-chen", False, "CodeEditor", "ml.m5.large", 10, None, True),
    SpacePlan("research", "yuki-tanaka-lab", "yuki-tanaka", False, "JupyterLab", "ml.g4dn.xlarge", 20, None, False),
    SpacePlan("research", "team-notebooks", "team-shared", True, "JupyterLab", "ml.m5.4xlarge", 50, None, True),
    SpacePlan("quick", "kevin-nguyen-lab", "kevin-nguyen", False, "JupyterLab", "ml.t3.medium", 5, None, True),
    SpacePlan("quick", "hackathon", "ds-team", True, "CodeEditor", "ml.c5.xlarge", 20, None, True),
    SpacePlan("quick", "isabel-santos-lab", "isabel-santos", False, "JupyterLab", "ml.m5.xlarge", 5, None, False),
)

# Studio Classic: apps on profiles (the Jupyter server and kernel gateways), in the legacy domain.
GPU_FAMILIES = ("ml.g", "ml.p")  # instance type prefixes of the GPU families (ml.g4dn, ml.g5, ml.p3...)
CLASSIC_KERNELS = {
    "peter-novak": "ml.m5.xlarge",
    "grace-obi": "ml.c5.xlarge",
    "marco-bianchi": "ml.g4dn.xlarge",
    "elena-popescu": "ml.m5.large",
    "david-cohen": "ml.m5.2xlarge",
    "anna-kowalska": "ml.t3.medium",
}


def email_of(person: str) -> str:
    return f"{person.replace('-', '.')}@example.com"


def seed(inputs: DemoInputs, today: date | None = None, *, with_costs: bool = True) -> dict[str, int]:
    """Seed the demo organisation into the sandbox; the summary counts what was written."""
    today = today or date.today()
    rng = random.Random(20261124)
    counts = {
        "accounts": len(DEMO_ACCOUNTS),
        "domains": 0,
        "user_profiles": 0,
        "spaces": 0,
        "apps": 0,
        "training_jobs": 0,
        "models": 0,
        "experiments": 0,
    }
    billable: list[BillableResource] = []
    base_time = datetime.combine(today - timedelta(days=400), datetime.min.time(), tzinfo=UTC)
    states: dict[str, StudioState] = {}
    domain_ids: dict[str, str] = {}

    for index, plan in enumerate(DOMAINS):
        state = studio_state(plan.account_id, plan.region)
        states[plan.key] = state
        created = base_time + timedelta(days=30 * index)
        net = network.domain_network(plan.account_id, plan.region, plan.name, index)
        domain = state.create_domain(
            name=plan.name,
            auth_mode=plan.auth_mode,
            default_user_settings=plan.user_settings,
            subnet_ids=net["subnet_ids"],
            vpc_id=net["vpc_id"],
            domain_settings={"SecurityGroupIds": [net["security_group_id"]], **plan.domain_settings},
            network=plan.network,
            tag_propagation="ENABLED" if plan.key in ("risk", "fraud", "research") else "DISABLED",
            tags=[{"Key": k, "Value": v} for k, v in plan.tags.items()],
            created=created,
        )
        domain_ids[plan.key] = domain.domain_id
        counts["domains"] += 1
        # Storage of the domain's home EFS: small, daily, tagged by domain only.
        billable.append(BillableResource(plan.account_id, plan.region, domain.arn, None, None, "efs", "storage", 24))

        people = (
            list(plan.people) + list(SHARED_PROFILES.get(plan.key, ())) + list(OTHER_DOMAIN_PROFILES.get(plan.key, ()))
        )
        extra = dict(SECOND_PROFILES.get(plan.key, ()))
        for offset, person in enumerate(people + list(extra)):
            owner_email = (
                email_of(extra.get(person, person)) if person not in SHARED_PROFILES.get(plan.key, ()) else None
            )
            settings: dict[str, Any] = {}
            if person in NO_IDLE_SHUTDOWN.get(plan.key, ()):
                settings["JupyterLabAppSettings"] = {
                    "AppLifecycleManagement": {"IdleSettings": {"LifecycleManagement": "DISABLED"}}
                }
            if person in LONG_IDLE.get(plan.key, {}):
                settings["JupyterLabAppSettings"] = _idle(LONG_IDLE[plan.key][person])
            if person in HIDDEN_TOOLS.get(plan.key, ()):
                settings["StudioWebPortalSettings"] = {
                    "HiddenAppTypes": ["JupyterServer", "CodeEditor"],
                    "HiddenMlTools": ["AutoMl", "Experiments", "Models"],
                    "HiddenInstanceTypes": ["ml.p3.2xlarge", "ml.g5.2xlarge"],
                }
            if person in HIDDEN_CANVAS.get(plan.key, ()):
                settings["StudioWebPortalSettings"] = {
                    "HiddenAppTypes": ["JupyterServer", "Canvas"],
                    "HiddenMlTools": ["AutoMl", "Endpoints"],
                }
            tags = [{"Key": "owner", "Value": owner_email}] if owner_email else []
            tags.append({"Key": "cost-center", "Value": plan.tags.get("cost-center", "unknown")})
            profile = state.create_user_profile(
                domain_id=domain.domain_id,
                name=person,
                user_settings=settings,
                sso_identifier="UserName" if plan.auth_mode == "SSO" else None,
                sso_value=person.replace("-", ".") if plan.auth_mode == "SSO" else None,
                tags=tags,
                created=created + timedelta(days=3 + offset * 5),
            )
            counts["user_profiles"] += 1
            if plan.key == "legacy":
                state.create_app(
                    domain_id=domain.domain_id,
                    app_type="JupyterServer",
                    name="default",
                    profile=person,
                    resource_spec={"InstanceType": "system"},
                    created=created + timedelta(days=4 + offset * 5),
                    last_activity=datetime.now(UTC) - timedelta(hours=rng.randint(1, 200)),
                )
                counts["apps"] += 1
                instance = CLASSIC_KERNELS.get(person)
                if instance:
                    kernel_created = datetime.now(UTC) - timedelta(days=rng.randint(1, 20))
                    kernel_activity = datetime.now(UTC) - timedelta(hours=rng.randint(1, 300))
                    if instance.startswith(GPU_FAMILIES):  # a GPU kernel left running, idle for over a week
                        kernel_created = min(kernel_created, datetime.now(UTC) - timedelta(days=16))
                        kernel_activity = datetime.now(UTC) - timedelta(days=9, hours=5)
                    state.create_app(
                        domain_id=domain.domain_id,
                        app_type="KernelGateway",
                        name=f"datascience-1-0-{instance.replace('.', '-')}",
                        profile=person,
                        resource_spec={"InstanceType": instance},
                        created=kernel_created,
                        last_activity=max(kernel_activity, kernel_created),
                    )
                    counts["apps"] += 1
                    billable.append(
                        BillableResource(
                            plan.account_id,
                            plan.region,
                            domain.arn,
                            profile.arn,
                            None,
                            instance,
                            "studio-app",
                            rng.choice((6.0, 9.0, 14.0)),
                        )
                    )

    for space_plan in SPACES:
        state = states[space_plan.domain]
        plan = next(p for p in DOMAINS if p.key == space_plan.domain)
        domain_id = domain_ids[space_plan.domain]
        app_key = "JupyterLabAppSettings" if space_plan.app_type == "JupyterLab" else "CodeEditorAppSettings"
        app_settings: dict[str, Any] = {"DefaultResourceSpec": {"InstanceType": space_plan.instance_type}}
        app_settings.update(_space_idle(space_plan.idle_minutes))
        space = state.create_space(
            domain_id=domain_id,
            name=space_plan.name,
            owner=space_plan.owner,
            sharing="Shared" if space_plan.shared else "Private",
            display_name=space_plan.name.replace("-", " ").capitalize(),
            space_settings={
                "AppType": space_plan.app_type,
                app_key: app_settings,
                "SpaceStorageSettings": {"EbsStorageSettings": {"EbsVolumeSizeInGb": space_plan.ebs_gb}},
                **({"RemoteAccess": "ENABLED"} if space_plan.name in REMOTE_ACCESS else {}),
            },
            tags=[{"Key": "owner", "Value": email_of(space_plan.owner)}]
            if space_plan.owner not in SHARED_PROFILES.get(space_plan.domain, ())
            else [],
            created=datetime.now(UTC) - timedelta(days=rng.randint(20, 300)),
        )
        counts["spaces"] += 1
        app_created = datetime.now(UTC) - timedelta(days=rng.randint(0, 6), hours=rng.randint(0, 20))
        app_activity = datetime.now(UTC) - timedelta(minutes=rng.randint(5, 60 * 72))
        app = state.create_app(
            domain_id=domain_id,
            app_type=space_plan.app_type,
            name="default",
            space=space_plan.name,
            resource_spec={"InstanceType": space_plan.instance_type},
            created=app_created,
            last_activity=max(app_activity, app_created),  # never used before it was created
        )
        counts["apps"] += 1
        if not space_plan.running:
            state.delete_app(domain_id, space_plan.app_type, "default", None, space_plan.name)
        hours = 24.0 if space_plan.idle_minutes is None and space_plan.running else rng.choice((5.0, 7.5, 10.0))
        billable.append(
            BillableResource(
                plan.account_id,
                plan.region,
                state.domains[domain_id].arn,
                None,
                space.arn,
                space_plan.instance_type,
                "studio-app",
                hours,
            )
        )
        billable.append(
            BillableResource(
                plan.account_id,
                plan.region,
                state.domains[domain_id].arn,
                None,
                space.arn,
                f"ebs-{space_plan.ebs_gb}",
                "storage",
                24,
            )
        )
        del app

    counts.update(_seed_jobs(states, domain_ids, billable, rng))
    counts.update(_seed_studio_work(states, domain_ids))
    counts.update(_seed_identity_center())
    counts.update(
        iamseed.seed(
            {plan.key: plan.user_settings["ExecutionRole"] for plan in DOMAINS},
            {key: states[key].domains[domain_id].arn for key, domain_id in domain_ids.items()},
            accounts=DEMO_ACCOUNTS,
            portal_role=PORTAL_ROLE,
            portal_role_policy=inputs.portal_role_policy,
            trusted_account=PAYER_ACCOUNT_ID,
            external_ids=EXTERNAL_IDS,
        )
    )
    if with_costs:
        counts["cost_line_items"] = seed_costs(PAYER_ACCOUNT_ID, billable, prices=inputs.prices, end=today)
    return counts


def _seed_jobs(
    states: dict[str, StudioState], domain_ids: dict[str, str], billable: list[BillableResource], rng: random.Random
) -> dict[str, int]:
    """Training jobs, models and experiments through moto's own backend; some lack the domain tag."""
    counts = {"training_jobs": 0, "models": 0, "experiments": 0}
    for plan in DOMAINS:
        state = states[plan.key]
        backend = sagemaker_backends[plan.account_id][plan.region]
        domain = state.domains[domain_ids[plan.key]]
        profiles = [p for p in state.profiles.values() if p.domain_id == domain.domain_id]
        for number in range(3):
            profile = profiles[(number * 3) % len(profiles)]
            tagged = number != 2  # every third resource predates automatic tagging: a backfill candidate
            tags = (
                [
                    {"Key": "sagemaker:domain-arn", "Value": domain.arn},
                    {"Key": "sagemaker:user-profile-arn", "Value": profile.arn},
                ]
                if tagged
                else []
            )
            job_name = f"{plan.name}-train-{number + 1:03d}"
            instance = rng.choice(("ml.m5.xlarge", "ml.g5.2xlarge", "ml.p3.2xlarge", "ml.c5.xlarge"))
            backend.create_training_job(
                training_job_name=job_name,
                hyper_parameters={"epochs": "10"},
                algorithm_specification={
                    "TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:1",
                    "TrainingInputMode": "File",
                },
                role_arn=plan.user_settings["ExecutionRole"],
                input_data_config=[],
                output_data_config={"S3OutputPath": f"s3://{plan.name}-artifacts/{job_name}/"},
                resource_config={"InstanceType": instance, "InstanceCount": 1, "VolumeSizeInGB": 50},
                vpc_config={},
                stopping_condition={"MaxRuntimeInSeconds": 86400},
                tags=tags,
                enable_network_isolation=False,
                enable_inter_container_traffic_encryption=False,
                enable_managed_spot_training=False,
                checkpoint_config={},
                debug_hook_config={},
                debug_rule_configurations=[],
                tensor_board_output_config={},
                experiment_config={},
            )
            counts["training_jobs"] += 1
            billable.append(
                BillableResource(
                    plan.account_id,
                    plan.region,
                    domain.arn if tagged else None,
                    profile.arn if tagged else None,
                    None,
                    instance,
                    "training",
                    rng.choice((0.5, 1.0, 2.0)),
                    tagged=tagged,
                )
            )
            backend.create_model(
                model_name=f"{plan.name}-model-{number + 1}",
                execution_role_arn=plan.user_settings["ExecutionRole"],
                primary_container={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:1"},
                vpc_config=None,
                containers=None,
                tags=tags,
            )
            counts["models"] += 1
        experiment = f"{plan.name}-experiments"
        backend.create_experiment(experiment)
        backend.experiments[experiment].tags = (
            [{"Key": "sagemaker:domain-arn", "Value": domain.arn}] if plan.key != "legacy" else []
        )
        counts["experiments"] += 1
    # Spend nobody tagged: an endpoint created by hand in the payer account.
    billable.append(
        BillableResource(PAYER_ACCOUNT_ID, "us-east-1", None, None, None, "ml.m5.large", "endpoint", 24, tagged=False)
    )
    return counts


def team_group(plan: DomainPlan) -> str:
    """The Identity Center group of a domain's team."""
    return f"sagemaker-{plan.name}"


def _seed_identity_center() -> dict[str, int]:
    teams = {
        team_group(plan): tuple(plan.people)
        + OTHER_DOMAIN_PROFILES.get(plan.key, ())
        + IDENTITY_ONLY_MEMBERS.get(plan.key, ())
        for plan in DOMAINS
        if plan.auth_mode == "SSO"
    }
    return seed_identity_center(PAYER_ACCOUNT_ID, teams, IDENTITY_LEAVERS, email_of)


def _seed_studio_work(states: dict[str, StudioState], domain_ids: dict[str, str]) -> dict[str, int]:
    """Pipelines, trials and model packages: those created from Studio carry CreatedBy (and, except model packages,
    which Studio does not tag, the Studio tags); the legacy domain's were made outside Studio and carry neither."""
    counts = {"pipelines": 0, "trials": 0, "model_packages": 0}
    for plan in DOMAINS:
        state = states[plan.key]
        backend = sagemaker_backends[plan.account_id][plan.region]
        domain = state.domains[domain_ids[plan.key]]
        profile = next(p for p in state.profiles.values() if p.domain_id == domain.domain_id)
        from_studio = plan.key != "legacy"
        studio_tags = (
            [
                {"Key": "sagemaker:domain-arn", "Value": domain.arn},
                {"Key": "sagemaker:user-profile-arn", "Value": profile.arn},
            ]
            if from_studio
            else []
        )
        pipeline = backend.create_pipeline(
            pipeline_name=f"{plan.name}-retrain",
            pipeline_display_name=f"{plan.name}-retraining",
            pipeline_definition='{"Version": "2020-12-01", "Steps": []}',
            pipeline_definition_s3_location={},
            pipeline_description="Nightly retraining",
            role_arn=plan.user_settings["ExecutionRole"],
            tags=list(studio_tags),
            parallelism_configuration={"MaxParallelExecutionSteps": 4},
        )
        counts["pipelines"] += 1
        trial_name = f"{plan.name}-trial-1"
        backend.create_trial(trial_name, f"{plan.name}-experiments")
        trial = backend.trials[trial_name]
        trial.tags = list(studio_tags)
        counts["trials"] += 1
        group = f"{plan.name}-models"
        backend.create_model_package_group(group, "Approved models of the team", tags=list(studio_tags))
        package_arn = backend.create_model_package(
            model_package_name=None,
            model_package_group_name=group,
            model_package_description="First candidate",
            inference_specification=None,
            validation_specification=None,
            source_algorithm_specification=None,
            certify_for_marketplace=False,
            tags=[],
            model_approval_status="PendingManualApproval",
            metadata_properties=None,
            model_metrics=None,
            client_token=None,
            customer_metadata_properties=None,
            drift_check_baselines=None,
            domain=None,
            task=None,
            sample_payload_url=None,
            additional_inference_specifications=None,
        )
        counts["model_packages"] += 1
        if from_studio:
            experiment = backend.experiments[f"{plan.name}-experiments"]
            for arn in (pipeline.arn, trial.arn, package_arn, experiment.arn):
                set_created_by(plan.account_id, plan.region, arn, domain.domain_id, profile.name)
    return counts
