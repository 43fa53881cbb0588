"""The probes of GOVERNANCE.md section 4: what to ask the policy simulator to learn whether something a profile's
Studio UI hides is still allowed by the execution role, whether a user may reach another profile's private space,
and whether the role stays inside its domain.

A probe is an action on a concrete resource ARN with the context Studio would send. Probes that share a context are
asked in one ``SimulatePrincipalPolicy`` call (every action and resource of the group; the pairs that are not
probes are ignored), so the calls grow with distinct roles and contexts, not with profiles.

The acting user and the other profile are stand-ins (``ACTOR``, ``OTHER``): policies name users through
``${sagemaker:UserProfileName}`` and ``sagemaker:OwnerUserProfileArn``, so any name answers the same, and the probe
set of a role stays the same when profiles come and go.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

ACTOR = "portal-probe-user"
OTHER = "portal-probe-other"
OTHER_DOMAIN_ID = "d-portalprobe0"  # a domain that is not this one, in the same account and region
NAME = "portal-probe"

DOMAIN_TAG = "sagemaker:domain-arn"

# Hidden app types: CreateApp on the app's ARN. Classic apps (JupyterServer, KernelGateway) are not probed: the
# service refuses new ones. JupyterLab and Code Editor run in spaces; the others on the profile.
SPACE_APPS = ("JupyterLab", "CodeEditor")
PROFILE_APPS = ("Canvas", "RStudioServerPro", "TensorBoard", "DetailedProfiler")
CLASSIC_APPS = ("JupyterServer", "KernelGateway", "RSessionGateway")

# Hidden ML tools -> (action, resource kind) as GOVERNANCE.md section 4 maps them.
TOOL_ACTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "FeatureStore": (
        ("sagemaker:CreateFeatureGroup", "feature-group"),
        ("sagemaker:PutRecord", "feature-group"),
        ("sagemaker:GetRecord", "feature-group"),
    ),
    "EmrClusters": (
        ("elasticmapreduce:ListClusters", "*"),
        ("elasticmapreduce:DescribeCluster", "emr-cluster"),
        ("elasticmapreduce:GetClusterSessionCredentials", "emr-cluster"),
    ),
    "AutoMl": (("sagemaker:CreateAutoMLJob", "automl-job"), ("sagemaker:CreateAutoMLJobV2", "automl-job")),
    "Experiments": (
        ("sagemaker:CreateExperiment", "experiment"),
        ("sagemaker:CreateTrial", "experiment-trial"),
        ("sagemaker:CreateMlflowTrackingServer", "mlflow-tracking-server"),
        ("sagemaker:CreatePresignedMlflowTrackingServerUrl", "mlflow-tracking-server"),
    ),
    "Training": (
        ("sagemaker:CreateTrainingJob", "training-job"),
        ("sagemaker:CreateHyperParameterTuningJob", "hyper-parameter-tuning-job"),
    ),
    "Pipelines": (("sagemaker:CreatePipeline", "pipeline"), ("sagemaker:StartPipelineExecution", "pipeline")),
    "Models": (
        ("sagemaker:CreateModel", "model"),
        ("sagemaker:CreateModelPackage", "model-package"),
        ("sagemaker:CreateModelPackageGroup", "model-package-group"),
    ),
    "InferenceRecommender": (("sagemaker:CreateInferenceRecommendationsJob", "inference-recommendations-job"),),
    "Endpoints": (
        ("sagemaker:CreateEndpointConfig", "endpoint-config"),
        ("sagemaker:CreateEndpoint", "endpoint"),
        ("sagemaker:UpdateEndpoint", "endpoint"),
        ("sagemaker:CreateInferenceComponent", "inference-component"),
    ),
    "Projects": (("sagemaker:CreateProject", "project"),),
    "InferenceOptimization": (("sagemaker:CreateOptimizationJob", "optimization-job"),),
    "HyperPodClusters": (
        ("sagemaker:ListClusters", "*"),
        ("sagemaker:DescribeCluster", "cluster"),
        ("sagemaker:CreateCluster", "cluster"),
    ),
    # Assumed mappings (GOVERNANCE.md section 4): Data Wrangler runs in Canvas, model evaluation as processing jobs.
    "DataWrangler": (("sagemaker:CreateApp", "app:Canvas"), ("sagemaker:CreateProcessingJob", "processing-job")),
    "ModelEvaluation": (("sagemaker:CreateProcessingJob", "processing-job"),),
}
PARTNER_APPS = ("Comet", "Fiddler", "DeepchecksLLMEvaluation", "LakeraGuard")
for _partner in PARTNER_APPS:
    TOOL_ACTIONS[_partner] = (
        ("sagemaker:CreatePartnerApp", "partner-app"),
        ("sagemaker:CreatePartnerAppPresignedUrl", "partner-app"),
    )
TOOL_ACTIONS["JumpStart"] = (
    ("sagemaker:ListHubContents", "hub"),
    ("sagemaker:DescribeHubContent", "hub-content"),
    *TOOL_ACTIONS["Training"],
    *TOOL_ACTIONS["Endpoints"],
)
# Tools whose leak is high severity (GOVERNANCE.md section 3, SE-06), as app types or ML tools.
HIGH_SEVERITY = frozenset({"Endpoints", "Models", "JumpStart", "Canvas"})

# What an instance-type probe asks (GOVERNANCE.md section 4, HiddenInstanceTypes).
INSTANCE_ACTIONS = (
    ("sagemaker:CreateApp", "app:JupyterLab"),
    ("sagemaker:CreateSpace", "space"),
    ("sagemaker:UpdateSpace", "space"),
)
# Another profile's private space (SE-08) and another domain's tagged resources (TG-01).
OTHER_SPACE_ACTIONS = (("sagemaker:CreateApp", "other-app"),)
OTHER_DOMAIN_ACTIONS = (
    ("sagemaker:DescribeSpace", "other-domain-space"),
    ("sagemaker:UpdateSpace", "other-domain-space"),
    ("sagemaker:DeleteSpace", "other-domain-space"),
    ("sagemaker:DeleteApp", "other-domain-app"),
)

ALLOWED = "allowed"
CONDITIONAL = "conditional"
EXPLICIT_DENY = "explicitDeny"
IMPLICIT_DENY = "implicitDeny"
LEAKING = (ALLOWED, CONDITIONAL)
OUTCOME_LABELS = {
    ALLOWED: "allowed",
    CONDITIONAL: "conditional (depends on context values not known)",
    EXPLICIT_DENY: "explicit deny",
    IMPLICIT_DENY: "implicit deny",
}


@dataclass(frozen=True)
class DomainTarget:
    """What probes need of a domain: where it is, and the instance types its profiles hide (for this role)."""

    domain_id: str
    arn: str
    account_id: str
    region: str
    hidden_instance_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class Probe:
    domain_id: str
    subject: str  # "app:Canvas", "tool:Endpoints", "instance:ml.p3.2xlarge", "other-space", "other-domain"
    action: str
    resource: str
    group: str  # probes of one group share their context (one SimulatePrincipalPolicy call)
    context: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())

    @property
    def label(self) -> str:
        kind, _, value = self.subject.partition(":")
        app_type, _, instance_type = value.partition("@")
        return {
            "app": f"app {value}",
            "tool": f"ML tool {value}",
            "instance": f"instance type {value}",
            "other-space": "another profile's private space",
            "other-domain": "another domain's resources",
            "used": f"app {app_type}" + (f" on {instance_type}" if instance_type else ""),
        }.get(kind, self.subject)

    def to_json(self) -> dict[str, Any]:
        return {
            "domain_id": self.domain_id,
            "subject": self.subject,
            "label": self.label,
            "action": self.action,
            "resource": self.resource,
            "group": self.group,
            "context": {k: list(v) for k, v in self.context},
        }


def _arns(target: DomainTarget) -> dict[str, str]:
    sm = f"arn:aws:sagemaker:{target.region}:{target.account_id}"
    d = target.domain_id
    arns = {
        "*": "*",
        "space": f"{sm}:space/{d}/{ACTOR}-space",
        "other-app": f"{sm}:app/{d}/{OTHER}-space/JupyterLab/default",
        "other-domain-space": f"{sm}:space/{OTHER_DOMAIN_ID}/{NAME}",
        "other-domain-app": f"{sm}:app/{OTHER_DOMAIN_ID}/{NAME}/JupyterLab/default",
        "emr-cluster": f"arn:aws:elasticmapreduce:{target.region}:{target.account_id}:cluster/j-PORTALPROBE",
        "hub": f"{sm}:hub/SageMakerPublicHub",
        "hub-content": f"{sm}:hub-content/SageMakerPublicHub/Model/{NAME}/1.0.0",
    }
    for app in SPACE_APPS:
        arns[f"app:{app}"] = f"{sm}:app/{d}/{ACTOR}-space/{app}/default"
    for app in PROFILE_APPS:
        arns[f"app:{app}"] = f"{sm}:app/{d}/{ACTOR}/{app}/default"
    return arns


def _resource(arns: dict[str, str], target: DomainTarget, kind: str) -> str:
    if kind in arns:
        return arns[kind]
    return f"arn:aws:sagemaker:{target.region}:{target.account_id}:{kind}/{NAME}"


def _profile_arn(target: DomainTarget, name: str) -> str:
    return f"arn:aws:sagemaker:{target.region}:{target.account_id}:user-profile/{target.domain_id}/{name}"


def contexts(target: DomainTarget) -> dict[str, dict[str, tuple[str, ...]]]:
    """The context of each probe group, as Studio sends it for the acting user (GOVERNANCE.md section 4, (3))."""
    user = {
        "aws:Region": (target.region,),
        "sagemaker:DomainId": (target.domain_id,),
        "sagemaker:UserProfileName": (ACTOR,),
        f"aws:RequestTag/{DOMAIN_TAG}": (target.arn,),
        f"aws:ResourceTag/{DOMAIN_TAG}": (target.arn,),
    }
    own_space = {
        **user,
        "sagemaker:SpaceSharingType": ("Private",),
        "sagemaker:OwnerUserProfileArn": (_profile_arn(target, ACTOR),),
    }
    other_domain = f"arn:aws:sagemaker:{target.region}:{target.account_id}:domain/{OTHER_DOMAIN_ID}"
    groups = {
        "user": user,
        "own-space": own_space,
        "other-space": {**own_space, "sagemaker:OwnerUserProfileArn": (_profile_arn(target, OTHER),)},
        "other-domain": {**user, f"aws:ResourceTag/{DOMAIN_TAG}": (other_domain,)},
    }
    for instance_type in target.hidden_instance_types:
        groups[f"instance:{instance_type}"] = {**own_space, "sagemaker:InstanceTypes": (instance_type,)}
    return groups


def probes_for(target: DomainTarget) -> list[Probe]:
    """Every probe of one domain for a role: all mapped app types and ML tools (so a role's page shows the whole
    picture whatever is hidden today), the instance types its profiles hide, another profile's private space and
    another domain's resources."""
    arns = _arns(target)
    ctx = {name: tuple(sorted(values.items())) for name, values in contexts(target).items()}
    found: list[Probe] = []

    def add(subject: str, action: str, kind: str, group: str) -> None:
        found.append(Probe(target.domain_id, subject, action, _resource(arns, target, kind), group, ctx[group]))

    for app in SPACE_APPS:
        add(f"app:{app}", "sagemaker:CreateApp", f"app:{app}", "own-space")
    for app in PROFILE_APPS:
        add(f"app:{app}", "sagemaker:CreateApp", f"app:{app}", "user")
    for tool, actions in TOOL_ACTIONS.items():
        for action, kind in actions:
            add(f"tool:{tool}", action, kind, "user")
    for instance_type in target.hidden_instance_types:
        for action, kind in INSTANCE_ACTIONS:
            add(f"instance:{instance_type}", action, kind, f"instance:{instance_type}")
    for action, kind in OTHER_SPACE_ACTIONS:
        add("other-space", action, kind, "other-space")
    for action, kind in OTHER_DOMAIN_ACTIONS:
        add("other-domain", action, kind, "other-domain")
    return found


def used_app_probes(target: DomainTarget, used: Iterable[tuple[str, str]]) -> list[Probe]:
    """CreateApp as the role's profiles used it (app type, instance type), in their own space or on their profile,
    with the instance type in ``sagemaker:InstanceTypes``: what "newly denied" asks with and without a policy."""
    arns = _arns(target)
    groups = contexts(target)
    found = []
    sm = f"arn:aws:sagemaker:{target.region}:{target.account_id}"
    for app_type, instance_type in sorted(set(used)):
        resource = arns.get(f"app:{app_type}") or f"{sm}:app/{target.domain_id}/{ACTOR}/{app_type}/default"
        base = groups["own-space"] if app_type in SPACE_APPS else groups["user"]
        context = {**base, "sagemaker:InstanceTypes": (instance_type,)} if instance_type else base
        found.append(
            Probe(
                target.domain_id,
                f"used:{app_type}@{instance_type}",
                "sagemaker:CreateApp",
                resource,
                f"used:{'space' if app_type in SPACE_APPS else 'user'}:{instance_type or '-'}",
                tuple(sorted(context.items())),
            )
        )
    return found


def probe_set(targets: Iterable[DomainTarget]) -> list[Probe]:
    return [probe for target in sorted(targets, key=lambda t: t.domain_id) for probe in probes_for(target)]


def probe_key(probes: list[Probe]) -> str:
    """The identity of a probe set: the same probes (and contexts) give the same key."""
    text = json.dumps([p.to_json() for p in probes], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def subjects_for_hidden(hidden_apps: Iterable[str], hidden_tools: Iterable[str]) -> list[str]:
    """The probe subjects of a profile's hidden app types and ML tools (classic apps have none)."""
    subjects = [f"app:{a}" for a in hidden_apps if a in SPACE_APPS or a in PROFILE_APPS]
    return subjects + [f"tool:{t}" for t in hidden_tools if t in TOOL_ACTIONS]


def outcome_of(decision: str, missing: list[str], allow_depends_on_missing: bool) -> str:
    """Allowed, or a deny; an implicit deny where an Allow statement reads context values the probe did not give
    (``missing``) is "conditional": the role may allow it in practice, so it is never counted as enforced."""
    if decision == ALLOWED:
        return ALLOWED
    if decision == IMPLICIT_DENY and missing and allow_depends_on_missing:
        return CONDITIONAL
    return decision if decision in (EXPLICIT_DENY, IMPLICIT_DENY) else IMPLICIT_DENY
