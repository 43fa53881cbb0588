"""The demo organisation's IAM: every role it names, with policies that differ the way real shops' do.

- ``RiskAnalyticsExecution`` (risk-analytics, the regulated domain): no managed policy, a tight custom policy with
  AWS's domain isolation conditions (developer guide ``domain-resource-isolation.html``) and a deny on AutoML.
- ``PaymentsFraudExecution``: AmazonSageMakerFullAccess plus an instance-type deny (GOVERNANCE 6c).
- ``ResearchLabExecution``: AmazonSageMakerFullAccess plus the space-owner policy of AWS's "Give your users access
  to spaces" page (seed 001), written here with its two typos fixed (a trailing comma, ``$AWS Region:$111122223333``).
- ``ForecastingExecution`` (legacy): AmazonSageMakerFullAccess under a permissions boundary that leaves out
  training, deployment and AutoML.
- ``AmazonSageMaker-ExecutionRole-20240115`` (quickstart): what the console makes, AmazonSageMakerFullAccess alone.
- ``SageMakerGovernancePortal`` in each demo account: the policy the portal needs (``portal/iam/``).

So some tools hidden in a profile's UI are still allowed (Experiments and Models on risk-analytics and
payments-fraud) and some are enforced (AutoML on risk-analytics, hidden instance types on payments-fraud).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from awssandbox import iam

FULL_ACCESS = "AmazonSageMakerFullAccess"
ALLOWED_INSTANCE_TYPES = ("system", "ml.t3.*", "ml.m5.*", "ml.c5.*", "ml.g5.xlarge")


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _trust(principal: dict[str, Any], condition: dict[str, Any] | None = None) -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return _doc(statement)


SAGEMAKER_TRUST = _trust({"Service": "sagemaker.amazonaws.com"})


def domain_isolation(domain_arn: str) -> str:
    """GOVERNANCE 6a for one domain, with the AutoML deny of a regulated line of business."""
    tag = "sagemaker:domain-arn"
    return _doc(
        {
            "Sid": "CreateInTheDomainOnly",
            "Effect": "Allow",
            "Action": "sagemaker:Create*",
            "NotResource": [
                "arn:aws:sagemaker:*:*:domain/*",
                "arn:aws:sagemaker:*:*:user-profile/*",
                "arn:aws:sagemaker:*:*:space/*",
            ],
            "Condition": {"StringEquals": {f"aws:RequestTag/{tag}": domain_arn}},
        },
        {
            "Sid": "UseTheDomainsResources",
            "Effect": "Allow",
            "Action": ["sagemaker:Describe*", "sagemaker:Update*", "sagemaker:Delete*", "sagemaker:Stop*"],
            "Resource": "*",
            "Condition": {"StringEquals": {f"aws:ResourceTag/{tag}": domain_arn}},
        },
        {
            "Sid": "ListAndSearch",
            "Effect": "Allow",
            "Action": ["sagemaker:List*", "sagemaker:Search", "sagemaker:AddTags"],
            "Resource": "*",
        },
        {
            "Sid": "DenyCreateForAnotherDomain",
            "Effect": "Deny",
            "Action": "sagemaker:Create*",
            "Resource": "*",
            "Condition": {
                "StringNotEquals": {f"aws:RequestTag/{tag}": domain_arn},
                "Null": {f"aws:RequestTag/{tag}": "false"},
            },
        },
        {
            "Sid": "DenyTouchingAnotherDomain",
            "Effect": "Deny",
            "Action": ["sagemaker:Describe*", "sagemaker:Update*", "sagemaker:Delete*", "sagemaker:Stop*"],
            "Resource": "*",
            "Condition": {
                "StringNotEquals": {f"aws:ResourceTag/{tag}": domain_arn},
                "Null": {f"aws:ResourceTag/{tag}": "false"},
            },
        },
        {
            "Sid": "NoAutoMLInARegulatedDomain",
            "Effect": "Deny",
            "Action": ["sagemaker:CreateAutoMLJob", "sagemaker:CreateAutoMLJobV2"],
            "Resource": "*",
        },
    )


def instance_type_deny(allowed: tuple[str, ...] = ALLOWED_INSTANCE_TYPES) -> str:
    """GOVERNANCE 6c: any instance type outside the team's list is denied, whatever else allows it."""
    return _doc(
        {
            "Sid": "DenyInstanceTypesOutsideTheList",
            "Effect": "Deny",
            "Action": ["sagemaker:CreateApp", "sagemaker:CreateSpace", "sagemaker:UpdateSpace"],
            "Resource": "*",
            "Condition": {"ForAnyValue:StringNotLike": {"sagemaker:InstanceTypes": list(allowed)}},
        }
    )


def space_owner_policy(account_id: str, region: str = "*") -> str:
    """Seed 001 (AWS: "Give your users access to spaces"), ``{{Region}}`` and ``{{AccountId}}`` filled in."""
    base = f"arn:aws:sagemaker:{region}:{account_id}"
    owner = (
        "arn:aws:sagemaker:${aws:Region}:${aws:PrincipalAccount}:user-profile/${sagemaker:DomainId}/"
        "${sagemaker:UserProfileName}"
    )
    no_owner = {"Null": {"sagemaker:OwnerUserProfileArn": "true"}}
    return _doc(
        {
            "Effect": "Allow",
            "Action": ["sagemaker:CreateApp", "sagemaker:DeleteApp"],
            "Resource": f"{base}:app/*",
            "Condition": no_owner,
        },
        {
            "Sid": "SMStudioCreatePresignedDomainUrlForUserProfile",
            "Effect": "Allow",
            "Action": ["sagemaker:CreatePresignedDomainUrl"],
            "Resource": f"{base}:user-profile/${{sagemaker:DomainId}}/${{sagemaker:UserProfileName}}",
        },
        {
            "Sid": "SMStudioAppPermissionsListAndDescribe",
            "Effect": "Allow",
            "Action": [
                "sagemaker:ListApps",
                "sagemaker:ListDomains",
                "sagemaker:ListUserProfiles",
                "sagemaker:ListSpaces",
                "sagemaker:DescribeApp",
                "sagemaker:DescribeDomain",
                "sagemaker:DescribeUserProfile",
                "sagemaker:DescribeSpace",
            ],
            "Resource": "*",
        },
        {
            "Sid": "SMStudioAppPermissionsTagOnCreate",
            "Effect": "Allow",
            "Action": ["sagemaker:AddTags"],
            "Resource": f"{base}:*/*",
            "Condition": {"Null": {"sagemaker:TaggingAction": "false"}},
        },
        {
            "Sid": "SMStudioRestrictSharedSpacesWithoutOwners",
            "Effect": "Allow",
            "Action": ["sagemaker:CreateSpace", "sagemaker:UpdateSpace", "sagemaker:DeleteSpace"],
            "Resource": f"{base}:space/${{sagemaker:DomainId}}/*",
            "Condition": no_owner,
        },
        {
            "Sid": "SMStudioRestrictSpacesToOwnerUserProfile",
            "Effect": "Allow",
            "Action": ["sagemaker:CreateSpace", "sagemaker:UpdateSpace", "sagemaker:DeleteSpace"],
            "Resource": f"{base}:space/${{sagemaker:DomainId}}/*",
            "Condition": {
                "ArnLike": {"sagemaker:OwnerUserProfileArn": owner},
                "StringEquals": {"sagemaker:SpaceSharingType": ["Private", "Shared"]},
            },
        },
        {
            "Sid": "SMStudioRestrictCreatePrivateSpaceAppsToOwnerUserProfile",
            "Effect": "Allow",
            "Action": ["sagemaker:CreateApp", "sagemaker:DeleteApp"],
            "Resource": f"{base}:app/${{sagemaker:DomainId}}/*",
            "Condition": {
                "ArnLike": {"sagemaker:OwnerUserProfileArn": owner},
                "StringEquals": {"sagemaker:SpaceSharingType": ["Private"]},
            },
        },
    )


STUDIO_BOUNDARY = _doc(
    {
        "Sid": "StudioNotebooksOnly",
        "Effect": "Allow",
        "Action": [
            "sagemaker:List*",
            "sagemaker:Describe*",
            "sagemaker:Search",
            "sagemaker:AddTags",
            "sagemaker:CreateApp",
            "sagemaker:DeleteApp",
            "sagemaker:CreatePresignedDomainUrl",
            "sagemaker:CreateExperiment",
            "sagemaker:CreateTrial",
            "s3:GetObject",
            "s3:PutObject",
            "s3:ListBucket",
            "logs:*",
        ],
        "Resource": "*",
    }
)


def seed(
    execution_roles: Mapping[str, str],
    domain_arns: Mapping[str, str],
    *,
    accounts: Iterable[str],
    portal_role: str,
    portal_role_policy: str,
    trusted_account: str,
    external_ids: Mapping[str, str],
) -> dict[str, int]:
    """Create the demo's roles and policies. ``execution_roles`` and ``domain_arns`` map a domain plan's key
    (risk, fraud, research, legacy, quick) to its execution role's ARN and its domain's ARN; the portal's role is
    made in each of ``accounts``, trusting ``trusted_account``."""
    counts = {"iam_roles": 0, "iam_policies": 0}
    for account_id in accounts:
        backend = iam.backend(account_id)
        iam.ensure_aws_managed_policy(backend, FULL_ACCESS)
        external_id = external_ids.get(account_id)
        trust = _trust(
            {"AWS": f"arn:aws:iam::{trusted_account}:root"},
            {"StringEquals": {"sts:ExternalId": external_id}} if external_id else None,
        )
        backend.create_role(portal_role, trust, "/", None, "The SageMaker governance portal", [], None)
        backend.put_role_policy(portal_role, portal_role, portal_role_policy)
        counts["iam_roles"] += 1
        counts["iam_policies"] += 1

    def role(account_id: str, name: str, *, boundary: str | None = None) -> None:
        iam.backend(account_id).create_role(
            name, SAGEMAKER_TRUST, "/", boundary, "SageMaker Studio execution role", [], None
        )
        counts["iam_roles"] += 1

    def managed(account_id: str, name: str, document: str) -> str:
        counts["iam_policies"] += 1
        return iam.backend(account_id).create_policy("", "/", document, name, []).arn

    class Plan:
        def __init__(self, role_arn: str) -> None:
            self.account_id = role_arn.split(":")[4]
            self.role = role_arn.rsplit("/", 1)[-1]

    full_access = iam.aws_managed_policy_arn(FULL_ACCESS)
    plans = {key: Plan(arn) for key, arn in execution_roles.items()}
    names = {key: plan.role for key, plan in plans.items()}

    risk = plans["risk"]
    role(risk.account_id, names["risk"])
    isolation = managed(risk.account_id, "RiskAnalyticsDomainIsolation", domain_isolation(domain_arns["risk"]))
    iam.backend(risk.account_id).attach_role_policy(isolation, names["risk"])

    fraud = plans["fraud"]
    role(fraud.account_id, names["fraud"])
    iam.backend(fraud.account_id).attach_role_policy(full_access, names["fraud"])
    iam.backend(fraud.account_id).put_role_policy(names["fraud"], "ApprovedInstanceTypes", instance_type_deny())
    counts["iam_policies"] += 1

    research = plans["research"]
    role(research.account_id, names["research"])
    iam.backend(research.account_id).attach_role_policy(full_access, names["research"])
    owner = managed(research.account_id, "StudioSpacesToTheirOwner", space_owner_policy(research.account_id))
    iam.backend(research.account_id).attach_role_policy(owner, names["research"])

    legacy = plans["legacy"]
    boundary = managed(legacy.account_id, "StudioNotebooksBoundary", STUDIO_BOUNDARY)
    role(legacy.account_id, names["legacy"], boundary=boundary)
    iam.backend(legacy.account_id).attach_role_policy(full_access, names["legacy"])

    quick = plans["quick"]
    role(quick.account_id, names["quick"])
    iam.backend(quick.account_id).attach_role_policy(full_access, names["quick"])
    return counts
